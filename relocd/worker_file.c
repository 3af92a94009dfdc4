// SPDX-License-Identifier: ISC
/*
 * The worker's operations that need no peer: save a guest to a file and
 * restore it (xm save / xm restore), and create or destroy a sim guest.
 *
 * A save file is a two-line header - "relocd-save 1" and the guest's
 * description as one sxp line - followed by the backend's own stream,
 * the same one a migration sends.  The file descriptor comes from
 * relocctl, which opened the file with its user's rights, so the root
 * worker never opens a path an unprivileged client chose.
 *
 * Runs in the worker, as root.  A save file is untrusted input: the
 * header is parsed with bounds and the stream by the backend.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "conf.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "sxp.h"
#include "util.h"
#include "worker.h"

#define SAVE_MAGIC		"relocd-save 1\n"
#define SAVE_HEADER_MAX		(PROTO_CONTROL_MAX + 64)

/* The description line: a reserve message, which proto.c can read back. */
static int
save_write_header(struct worker *w, const char *guest, int fd,
    struct backend_error *err)
{
	struct proto_msg	*m;
	struct guest_desc	 desc;
	char			*config = NULL, *line = NULL;
	size_t			 len;
	int			 rc = -1;

	memset(&desc, 0, sizeof(desc));
	if (w->ops->describe(w->be, guest, &desc, &config, err) == -1)
		return -1;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (line = malloc(PROTO_CONTROL_MAX + 2)) == NULL)
		goto out;
	m->type = PT_RESERVE;
	m->guest = desc.info;
	m->config_len = strlcpy(m->config, config, sizeof(m->config));
	if (m->config_len >= sizeof(m->config) ||
	    proto_encode(m, line, PROTO_CONTROL_MAX + 1, &len) == -1) {
		backend_fail(err, BE_INTERNAL, "guest description too large");
		goto out;
	}
	line[len++] = '\n';
	if (util_write_all(fd, SAVE_MAGIC, strlen(SAVE_MAGIC)) == -1 ||
	    util_write_all(fd, line, len) == -1) {
		backend_fail(err, BE_IO, "writing the file: %s",
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(m);
	free(line);
	free(config);
	return rc;
}

/* xm save: the guest is suspended, written out, and then gone. */
int
worker_save_file(struct worker *w)
{
	struct backend_save_callbacks	cb;
	struct backend_save_result	res;
	struct backend_error		err, err2;
	struct guest_info		g;
	struct msg_stats		stats;

	memset(&cb, 0, sizeof(cb));
	memset(&err, 0, sizeof(err));
	if (w->ops->lookup(w->be, w->start.guest, &g, &err) == -1 ||
	    save_write_header(w, g.name, WORKER_DATA_FD, &err) == -1)
		return worker_fail(w, PHASE_ABORTED, &err);
	memset(&res, 0, sizeof(res));
	if (w->ops->save(w->be, g.name, WORKER_DATA_FD, 0, &cb, &res,
	    &err) == -1 || fsync(WORKER_DATA_FD) == -1) {
		if (err.code == BE_OK)
			backend_fail(&err, BE_IO, "writing the file: %s",
			    strerror(errno));
		w->ops->resume(w->be, g.name, &err2);
		log_warnx("save of %s failed: %s; it runs on", g.name, err.msg);
		return worker_fail(w, PHASE_ABORTED, &err);
	}
	if (w->ops->destroy(w->be, g.name, &err) == -1)
		log_warnx("save of %s: destroying it after saving: %s", g.name,
		    err.msg);
	memset(&stats, 0, sizeof(stats));
	stats.bytes = res.bytes;
	stats.memory_bytes = g.memory_bytes;
	log_info("saved %s (%llu bytes)", g.name,
	    (unsigned long long)res.bytes);
	return worker_step(w, PHASE_DONE, PE_NONE, "", &g, &stats);
}

/* Reads one '\n'-terminated line of at most max bytes, byte by byte. */
static int
read_line(int fd, char *buf, size_t max, size_t *len_r)
{
	size_t	len = 0;
	ssize_t	r;

	while (len < max) {
		r = read(fd, buf + len, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r != 1)
			return -1;
		if (buf[len] == '\n') {
			buf[len] = '\0';
			*len_r = len;
			return 0;
		}
		len++;
	}
	return -1;
}

static int
restore_read_header(int fd, struct proto_msg *m, struct backend_error *err)
{
	char	*line, why[128];
	size_t	 len;
	int	 rc = -1;

	if ((line = malloc(SAVE_HEADER_MAX + 1)) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	if (read_line(fd, line, strlen(SAVE_MAGIC), &len) == -1 ||
	    strncmp(line, SAVE_MAGIC, len) != 0 ||
	    len + 1 != strlen(SAVE_MAGIC)) {
		backend_fail(err, BE_STREAM, "not a relocd save file");
		goto out;
	}
	if (read_line(fd, line, SAVE_HEADER_MAX, &len) == -1 ||
	    proto_decode(line, len, m, why, sizeof(why)) != PE_NONE ||
	    m->type != PT_RESERVE) {
		backend_fail(err, BE_STREAM, "the save file's guest "
		    "description is damaged");
		goto out;
	}
	rc = 0;
out:
	free(line);
	return rc;
}

/* xm restore: the guest comes back, running, under its saved name. */
int
worker_restore_file(struct worker *w)
{
	struct backend_restore_result	 res;
	struct backend_error		 err;
	struct guest_desc		 desc;
	struct guest_info		 g;
	struct proto_msg		*m;
	struct msg_stats		 stats;
	int				 rc;

	memset(&err, 0, sizeof(err));
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	if (restore_read_header(WORKER_DATA_FD, m, &err) == -1) {
		free(m);
		return worker_fail(w, PHASE_ABORTED, &err);
	}
	memset(&desc, 0, sizeof(desc));
	desc.info = m->guest;
	desc.config = m->config;
	rc = w->ops->reserve(w->be, &desc, &g, &err);
	free(m);
	if (rc == -1)
		return worker_fail(w, PHASE_ABORTED, &err);
	memset(&res, 0, sizeof(res));
	if (w->ops->restore(w->be, g.name, WORKER_DATA_FD, -1, &res,
	    &err) == -1 ||
	    w->ops->unpause(w->be, g.name, &err) == -1) {
		struct backend_error	err2;

		w->ops->destroy(w->be, g.name, &err2);
		return worker_fail(w, PHASE_ABORTED, &err);
	}
	memset(&stats, 0, sizeof(stats));
	stats.bytes = res.bytes;
	stats.memory_bytes = g.memory_bytes;
	log_info("restored %s (domid %u)", g.name, g.domid);
	return worker_step(w, PHASE_DONE, PE_NONE, "", &g, &stats);
}

int
worker_create(struct worker *w)
{
	struct backend_error	err;
	struct guest_desc	desc;
	struct guest_info	g;

	if (w->ops->create == NULL)
		return worker_step(w, PHASE_CREATED, PE_UNSUPPORTED,
		    "this backend cannot create guests; use xl create", NULL,
		    NULL);
	memset(&desc, 0, sizeof(desc));
	desc.info = w->start.reserve.guest;
	desc.config = w->start.reserve.config;
	memset(&err, 0, sizeof(err));
	if (w->ops->create(w->be, &desc, &g, &err) == -1)
		return worker_fail(w, PHASE_CREATED, &err);
	log_info("created sim guest %s (domid %u)", g.name, g.domid);
	return worker_step(w, PHASE_CREATED, PE_NONE, "", &g, NULL);
}

int
worker_destroy(struct worker *w)
{
	struct backend_error	err;
	struct guest_info	g;

	memset(&err, 0, sizeof(err));
	if (w->ops->lookup(w->be, w->start.guest, &g, &err) == -1 ||
	    w->ops->destroy(w->be, g.name, &err) == -1)
		return worker_fail(w, PHASE_DESTROYED, &err);
	log_info("destroyed %s", g.name);
	return worker_step(w, PHASE_DESTROYED, PE_NONE, "", &g, NULL);
}

/*
 * One guest that a crash may have left behind (worker_cleanup).  At
 * start no migration is running, so a guest that is still being received
 * - empty, half-restored, or restored but never run, which its
 * incoming note tells from a guest stopped on purpose - can never
 * complete: the source kept its own copy, and it is removed.  A
 * suspended guest with no outgoing note was stopped by a save or a
 * migration that never committed: it is resumed.  One with such a note
 * is in doubt: only the destination knows, and relocctl resolve asks.
 *
 * On Xen, other tools suspend and pause guests too (an `xl save` or
 * `xl migrate` in flight, an administrator's `xl pause`): a sweep at
 * start (mine == 0) touches only guests that carry relocd's note.  The
 * guest of a worker that died (mine == 1) was ours in any case.
 */
static void
cleanup_one(struct worker *w, const struct guest_info *g, int mine)
{
	struct backend_error	err;
	struct msg_outgoing	o;
	int			note;

	if (g->state == GUEST_STATE_RUNNING)
		return;
	note = worker_note_read(w, g->name, &o);
	if (!mine && note == NOTE_NONE && w->start.backend == CONF_BACKEND_XEN)
		return;
	if (g->state == GUEST_STATE_RESERVED ||
	    g->state == GUEST_STATE_INCOMING ||
	    (g->state == GUEST_STATE_PAUSED && note == NOTE_INCOMING)) {
		if (w->ops->destroy(w->be, g->name, &err) == -1)
			log_warnx("cleanup: %s: %s", g->name, err.msg);
		else
			log_warnx("removed the half-built guest %s left by an "
			    "interrupted incoming migration", g->name);
	} else if (g->state == GUEST_STATE_SUSPENDED && note == NOTE_NONE) {
		if (w->ops->resume(w->be, g->name, &err) == -1)
			log_warnx("cleanup: resuming %s: %s", g->name,
			    err.msg);
		else
			log_warnx("resumed %s: a save or an outgoing migration "
			    "of it stopped before its commit", g->name);
	} else if (g->state == GUEST_STATE_SUSPENDED)
		log_warnx("guest %s is suspended: an outgoing migration of it "
		    "was interrupted after its commit%s%s%s; run relocctl "
		    "resolve %s", g->name, note == NOTE_OUTGOING ?
		    " (migration " : "", note == NOTE_OUTGOING ? o.id : "",
		    note == NOTE_OUTGOING ? ")" : "", g->name);
}

/*
 * At start, every guest; when a worker died, the one it had
 * (start.guest, a name or uuid).
 */
int
worker_cleanup(struct worker *w)
{
	struct backend_error	 err;
	struct guest_info	*gs = NULL, one;
	size_t			 n = 0, i;

	MSG_TERMINATE(w->start.guest);
	if (w->start.guest[0] != '\0') {
		if (w->ops->lookup(w->be, w->start.guest, &one, &err) == 0)
			cleanup_one(w, &one, 1);
		return worker_step(w, PHASE_DONE, PE_NONE, "", NULL, NULL);
	}
	if (w->ops->list(w->be, &gs, &n, &err) == -1)
		return worker_fail(w, PHASE_DONE, &err);
	for (i = 0; i < n; i++)
		cleanup_one(w, &gs[i], 0);
	free(gs);
	return worker_step(w, PHASE_DONE, PE_NONE, "", NULL, NULL);
}
