/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_WORKER_H
#define RELOCD_WORKER_H

#include "backend.h"
#include "msg.h"

#define WORKER_MSG_FD	3	/* message socket to the parent */
#define WORKER_DATA_FD	4	/* the stream, when the operation has one */

struct worker {
	const struct backend_ops *ops;
	void			*be;
	struct msg_worker_start	 start;
	const char		*id;	/* the migration's, or "" */
	/* A reservation's step: what the host could give (msg_step). */
	uint64_t		 available;
	int			 available_known;
};

int	worker_main(void);
/* relocd -R: the worker in a relocd-receive@ unit (worker_unit.c). */
int	worker_unit_main(const char *, const char *, int);

/* Shared by worker*.c. */
int	worker_step(struct worker *, int, int, const char *,
	    const struct guest_info *, const struct msg_stats *);
int	worker_step_where(struct worker *, int, int, int, const char *,
	    const struct guest_info *, const struct msg_stats *);
int	worker_fail(struct worker *, int, const struct backend_error *);
int	worker_step_checks(struct worker *, int, int, const char *,
	    const struct guest_info *, const struct check_list *);
int	worker_fail_checks(struct worker *, int, const struct backend_error *,
	    const struct check_list *);
int	worker_wait_cmd(struct msg_step *, int *);
int	worker_poll_cmd(struct msg_step *);

int	worker_receive(struct worker *);
int	worker_send(struct worker *);
int	worker_save_file(struct worker *);
int	worker_restore_file(struct worker *);
int	worker_create(struct worker *);
int	worker_destroy(struct worker *);
int	worker_cleanup(struct worker *);
int	worker_xl_receive(struct worker *);
int	worker_resolve(struct worker *);
/* worker_settle.c: notes, and a guest past its commit. */
enum worker_note {
	NOTE_NONE,
	NOTE_BAD,		/* there, but unreadable */
	NOTE_INCOMING,		/* destination: being received */
	NOTE_OUTGOING		/* source: migrated, past the commit */
};
int	worker_note_outgoing(struct worker *, const char *,
	    struct backend_error *);
int	worker_note_incoming(struct worker *, const char *,
	    struct backend_error *);
void	worker_note_clear(struct worker *, const char *);
int	worker_note_read(struct worker *, const char *, struct msg_outgoing *);
/*
 * Resumes the guest here after a failure before go and reports it; stats,
 * if not NULL, are what the failed attempt sent, so that the result says
 * how far the stream got.
 */
int	worker_resume(struct worker *, const char *, int, const char *,
	    const struct msg_stats *);
int	worker_settle(struct worker *, const struct guest_info *,
	    struct msg_stats *);
int	worker_activate(struct worker *);

#endif /* RELOCD_WORKER_H */
