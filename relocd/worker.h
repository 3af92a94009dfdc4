/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_WORKER_H
#define RELOCD_WORKER_H

#define WORKER_MSG_FD	3	/* message socket to the parent */
#define WORKER_DATA_FD	4	/* the stream, when the operation has one */

int	worker_main(void);

#endif /* RELOCD_WORKER_H */
