/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_PARENT_REQ_H
#define RELOCD_PARENT_REQ_H

struct parent;
struct sxp_node;

int	parent_req_handle(struct parent *, int, const struct sxp_node *);

#endif /* RELOCD_PARENT_REQ_H */
