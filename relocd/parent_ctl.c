// SPDX-License-Identifier: ISC
/*
 * The parent's side of the control socket: relocctl's requests, and
 * every reply, including the progress and result reports of a job that
 * a relocctl watches.
 *
 * Requests are single sxp messages such as (status) or (list).  Clients
 * are local and were checked with SO_PEERCRED on connect; their requests
 * are still read without blocking the parent and parsed with bounds.
 * Anything that needs the hypervisor (listing guests) is done by a worker.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "log.h"
#include "msg.h"
#include "parent.h"
#include "parent_job.h"
#include "parent_metrics.h"
#include "parent_req.h"
#include "proto.h"
#include "sxp.h"
#include "util.h"
#include "version.h"
#include "worker.h"

/* Progress messages to a watching relocctl: at most this often. */
#define CTL_PROGRESS_MS		200

/* A reply under construction; overflow turns into an error reply. */
struct reply {
	char	*buf;
	size_t	 len, size;
	int	 failed;
};

static void
reply_add(struct reply *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reply_add(struct reply *r, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	*p;

	if (r->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(r->buf + r->len, r->size - r->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			r->failed = 1;
			return;
		}
		if ((size_t)n < r->size - r->len) {
			r->len += (size_t)n;
			return;
		}
		if (r->size >= CTL_MSG_MAX || (p = realloc(r->buf,
		    r->size ? r->size * 2 : 1024)) == NULL) {
			r->failed = 1;
			return;
		}
		r->buf = p;
		r->size = r->size ? r->size * 2 : 1024;
	}
}

static void
reply_quoted(struct reply *r, const char *name, const char *value)
{
	char	q[4 * PROTO_TEXT_MAX + 3];

	if (sxp_quote(value, strlen(value), q, sizeof(q)) == -1)
		r->failed = 1;
	else
		reply_add(r, " (%s %s)", name, q);
}

void
parent_ctl_close(struct parent *p, int i)
{
	if (p->ctl[i].fd != -1)
		close(p->ctl[i].fd);
	if (p->ctl[i].passed_fd != -1)
		close(p->ctl[i].passed_fd);
	p->ctl[i].passed_fd = -1;
	p->ctl[i].fd = -1;
	p->ctl[i].len = 0;
	p->ctl[i].busy = 0;
}

void
parent_ctl_reply(struct parent *p, int i, const char *msg)
{
	if (p->ctl[i].fd == -1)
		return;
	if (ctl_write_frame(p->ctl[i].fd, msg, strlen(msg)) == -1)
		parent_ctl_close(p, i);
	p->ctl[i].busy = 0;
}

static void
parent_ctl_error(struct parent *p, int i, const char *text)
{
	struct reply	r = { NULL, 0, 0, 0 };

	reply_add(&r, "(error");
	reply_quoted(&r, "text", text);
	reply_add(&r, ")");
	parent_ctl_reply(p, i, r.failed ? "(error)" : r.buf);
	free(r.buf);
}

void
parent_ctl_accept(struct parent *p)
{
	struct timeval	tv = { 2, 0 };
	char		who[64];
	int		fd, i;

	if ((fd = accept4(p->ctl_fd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	if (!ctl_peer_allowed(fd, p->conf->control_group, who, sizeof(who))) {
		log_warnx("control socket: %s refused (not root, not in "
		    "relocd-control-group)", who);
		close(fd);
		return;
	}
	/* Replies are small; a client that does not read them is dropped. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (i = 0; i < CTL_CLIENTS_MAX; i++)
		if (p->ctl[i].fd == -1) {
			p->ctl[i].fd = fd;
			p->ctl[i].len = 0;
			p->ctl[i].busy = 0;
			p->ctl[i].passed_fd = -1;
			return;
		}
	log_warnx("control socket: too many clients");
	close(fd);
}

static void
reply_job(struct reply *r, const struct job *j, uint64_t now)
{
	uint64_t	end = j->state == JOB_ENDED ? j->ended_ms : now;

	reply_add(r, " (job (id %s) (what %s) (state %s)", j->id, j->what,
	    parent_job_state_name(j->state));
	reply_quoted(r, "guest", j->guest.name);
	reply_quoted(r, "peer", j->peer);
	reply_add(r, " (elapsed-ms %llu) (bytes %llu) (memory %llu) "
	    "(round %u) (downtime-ms %llu)", (unsigned long long)(end -
	    j->started_ms), (unsigned long long)j->stats.bytes,
	    (unsigned long long)j->stats.memory_bytes, j->stats.round,
	    (unsigned long long)j->stats.downtime_ms);
	if (j->state == JOB_ENDED)
		reply_add(r, " (ok %s)", j->ok ? "yes" : "no");
	reply_quoted(r, "result", j->result);
	reply_add(r, ")");
}

static void
parent_ctl_status(struct parent *p, int i)
{
	struct reply	 r = { NULL, 0, 0, 0 };
	uint64_t	 now = util_now_ms();
	size_t		 k;

	reply_add(&r, "(status (version %s) (backend %s)", relocd_version,
	    conf_backend_name(p->conf->backend));
	reply_quoted(&r, "host", p->hostname);
	for (k = 0; k < p->nlisteners; k++)
		reply_quoted(&r, p->listeners[k].use_tls ? "listen-tls" :
		    "listen-plain", p->listeners[k].where);
	reply_add(&r, " (jobs");
	for (k = 0; k < JOBS_MAX; k++)
		if (p->jobs[k].state != JOB_FREE)
			reply_job(&r, &p->jobs[k], now);
	reply_add(&r, "))");
	if (r.failed)
		parent_ctl_error(p, i, "status too large");
	else
		parent_ctl_reply(p, i, r.buf);
	free(r.buf);
}

/*
 * A job's reports to the relocctl that started it.  They live here, with
 * every other reply on the control socket, not with the requests that
 * start jobs (parent_req.c): the jobs' own code (parent_job.c,
 * parent_out.c) calls them whenever there is news.
 *
 * "(progress ...)" for a watching relocctl, at most every 200 ms; the
 * first that says the target cannot be met (target.h), at once.
 */
void
parent_ctl_progress(struct parent *p, struct job *j)
{
	const struct msg_stats	*s = &j->stats;
	char			 msg[1024], q[4 * 64 + 3];
	uint64_t		 now = util_now_ms();
	size_t			 off;
	int			 r;

	/*
	 * The news that the target cannot be met goes out at once, before
	 * the stop it comes with, whatever the rate limit says.
	 */
	if (j->ctl == -1 || (now - j->progress_ms < CTL_PROGRESS_MS &&
	    (s->target.reason == TARGET_REACHABLE || j->target_told)))
		return;
	j->progress_ms = now;
	if (sxp_quote(s->decision, strlen(s->decision), q, sizeof(q)) == -1)
		STRLCPY_ARRAY(q, "''");
	r = snprintf(msg, sizeof(msg), "(progress (id %s) (round %u) (bytes %llu) "
	    "(memory %llu) (memory-sent %llu) (zero-pages %llu) (dirty %lld) "
	    "(bandwidth %llu) (dirty-rate %llu) "
	    "(downtime-ms %llu) (elapsed-ms %llu) (throttle %u) "
	    "(decision %s)", j->id, s->round, (unsigned long long)s->bytes,
	    (unsigned long long)s->memory_bytes,
	    (unsigned long long)s->memory_sent,
	    (unsigned long long)s->zero_pages, (long long)s->dirty_pages,
	    (unsigned long long)s->bandwidth,
	    (unsigned long long)s->dirty_rate,
	    (unsigned long long)s->predicted_downtime_ms,
	    (unsigned long long)(now - j->started_ms), s->throttle, q);
	off = r < 0 ? sizeof(msg) : (size_t)r;
	/* A compressed stream's bytes on the wire, as its child counts. */
	if (off < sizeof(msg) && j->compressed && j->wire_bytes != 0) {
		r = snprintf(msg + off, sizeof(msg) - off, " (stream-bytes "
		    "%llu) (wire-bytes %llu)",
		    (unsigned long long)j->stream_bytes,
		    (unsigned long long)j->wire_bytes);
		off = r < 0 ? sizeof(msg) : off + (size_t)r;
	}
	if (off >= sizeof(msg) ||
	    target_sxp(&s->target, msg, sizeof(msg), &off) == -1 ||
	    off + 2 > sizeof(msg)) {
		log_warnx("migration %s: progress report longer than %zu "
		    "bytes; not sent", j->id, sizeof(msg) - 1);
		return;
	}
	msg[off++] = ')';
	msg[off] = '\0';
	if (s->target.reason != TARGET_REACHABLE)
		j->target_told = 1;
	parent_ctl_reply(p, j->ctl, msg);
	if (p->ctl[j->ctl].fd == -1)
		j->ctl = -1;
	else
		p->ctl[j->ctl].busy = 1;
}

/*
 * "(result ...)": the final report; the client may then go.  The
 * policy's last prediction and throttle are those of its final decision
 * (progress is rate-limited and may not show it), so that the measured
 * downtime can be held against what was predicted.
 */
void
parent_ctl_result(struct parent *p, struct job *j)
{
	const struct msg_stats	*s = &j->stats;
	char			*msg, q[4 * PROTO_TEXT_MAX + 3];
	size_t			 size, off;
	int			 r;

	if (j->ctl == -1)
		return;
	/* The fixed fields, then each finding, quoted (checks_format). */
	size = 1600 + CHECKS_MAX * (4 * PROTO_TEXT_MAX + 40);
	if ((msg = malloc(size)) == NULL)
		fatal("%s %s: result report", j->what, j->id);
	if (sxp_quote(j->result, strlen(j->result), q, sizeof(q)) == -1)
		STRLCPY_ARRAY(q, "''");
	r = snprintf(msg, size, "(result (id %s) (what %s) (ok %s) "
	    "(code %d) (text %s) (guest %s) (elapsed-ms %llu) "
	    "(downtime-ms %llu) (predicted-downtime-ms %llu) "
	    "(fixed-cost-ms %llu) (fixed-cost-samples %u) "
	    "(digest-ms %llu) (bytes %llu) (memory %llu) (memory-sent %llu) "
	    "(zero-pages %llu) (skipped-pages %llu) (rounds %u) "
	    "(throttle %u)", j->id, j->what, j->ok ? "yes" : "no", j->code,
	    q, j->guest.name[0] ? j->guest.name : "-",
	    (unsigned long long)(j->ended_ms - j->started_ms),
	    (unsigned long long)s->downtime_ms,
	    (unsigned long long)s->predicted_downtime_ms,
	    (unsigned long long)s->fixed_cost_ms, s->fixed_cost_samples,
	    (unsigned long long)s->digest_ms, (unsigned long long)s->bytes,
	    (unsigned long long)s->memory_bytes,
	    (unsigned long long)s->memory_sent,
	    (unsigned long long)s->zero_pages,
	    (unsigned long long)s->skipped_pages, s->round,
	    s->throttle ? s->throttle : 100);
	off = r < 0 ? size : (size_t)r;
	/*
	 * A source's: the protocol the destination chose, and the memory
	 * it said it could give (relocctl evacuate's capacity; an old
	 * destination does not say, and evacuate tells it by the former).
	 */
	if (off < size && j->role == JOB_OUT && j->protocol != 0) {
		r = snprintf(msg + off, size - off, " (protocol %u)",
		    j->protocol);
		off = r < 0 ? size : off + (size_t)r;
	}
	/*
	 * A source's stream: compressed or not (compress.h), and what its
	 * data frames took on the wire against its bytes.
	 */
	if (off < size && j->role == JOB_OUT && j->protocol != 0 &&
	    j->stream_bytes != 0) {
		r = snprintf(msg + off, size - off, " (compression %s) "
		    "(wire-bytes %llu)", j->compressed ? "zstd" : "none",
		    (unsigned long long)j->wire_bytes);
		off = r < 0 ? size : off + (size_t)r;
	}
	if (off < size && j->role == JOB_OUT && j->available_known) {
		r = snprintf(msg + off, size - off, " (available %llu)",
		    (unsigned long long)j->available);
		off = r < 0 ? size : off + (size_t)r;
	}
	if (off >= size || pause_sxp(&s->pause, msg, size, &off) == -1 ||
	    target_sxp(&s->target, msg, size, &off) == -1 ||
	    checks_format(&j->checks, msg, size, &off) == -1 ||
	    off + 2 > size)
		fatalx("%s %s: result report longer than %zu bytes", j->what,
		    j->id, size - 1);
	msg[off++] = ')';
	msg[off] = '\0';
	parent_ctl_reply(p, j->ctl, msg);
	free(msg);
	j->ctl = -1;
}

/*
 * "(metrics 'line' ...)": relocd-metrics-file's text, one atom per line,
 * since one atom holds at most SXP_TOKEN_MAX bytes and the text more.
 */
static void
parent_ctl_metrics(struct parent *p, int i)
{
	struct reply	 r = { NULL, 0, 0, 0 };
	char		*text, *line, *nl, q[4 * SXP_TOKEN_MAX + 3];
	size_t		 len;

	if ((text = parent_metrics_text(p, &len)) == NULL) {
		parent_ctl_error(p, i, "out of memory");
		return;
	}
	reply_add(&r, "(metrics");
	for (line = text; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			break;
		if (sxp_quote(line, (size_t)(nl - line), q, sizeof(q)) == -1)
			r.failed = 1;
		reply_add(&r, " %s", q);
	}
	reply_add(&r, ")");
	if (r.failed)
		parent_ctl_error(p, i, "metrics too large");
	else
		parent_ctl_reply(p, i, r.buf);
	free(r.buf);
	free(text);
}

static void
parent_ctl_list(struct parent *p, int i)
{
	struct msg_worker_start	*st;
	struct child		*w;
	pid_t			 pid;
	int			 rc = -1;

	if ((st = parent_worker_start_new(p, WORKER_OP_LIST, NULL)) != NULL)
		rc = parent_job_start_worker(p, NULL, st, -1, &pid);
	free(st);
	if (rc == -1) {
		parent_ctl_error(p, i, "cannot start a worker; see relocd's "
		    "log");
		return;
	}
	if ((w = parent_child_find(p, pid)) != NULL) {
		w->ctl = i;
		p->ctl[i].busy = 1;
	}
}

void
parent_ctl_worker_guest(struct parent *p, struct child *w,
    const struct msg_guest *mg)
{
	struct reply	 r = { w->reply, w->reply_len, w->reply_size, 0 };
	struct guest_info g = mg->guest;

	(void)p;
	msg_terminate_guest(&g);
	if (r.len == 0)
		reply_add(&r, "(guests");
	reply_add(&r, " (guest (name %s) (uuid %s) (domid %u) (type %s) "
	    "(state %s) (memory %llu) (vcpus %u))", g.name, g.uuid, g.domid,
	    guest_type_name(g.type), guest_state_name(g.state),
	    (unsigned long long)g.memory_bytes, g.vcpus);
	w->reply = r.buf;
	w->reply_len = r.failed ? 0 : r.len;
	w->reply_size = r.size;
}

void
parent_ctl_worker_done(struct parent *p, struct child *w,
    const struct msg_step *res)
{
	struct reply	r = { w->reply, w->reply_len, w->reply_size, 0 };
	int		i = w->ctl;

	w->ctl = -1;
	if (res->code != PE_NONE) {
		parent_ctl_error(p, i, res->text);
		return;
	}
	if (r.len == 0)
		reply_add(&r, "(guests");
	reply_add(&r, ")");
	w->reply = r.buf;
	w->reply_len = r.len;
	w->reply_size = r.size;
	if (r.failed)
		parent_ctl_error(p, i, "guest list too large");
	else
		parent_ctl_reply(p, i, r.buf);
}

void
parent_ctl_worker_gone(struct parent *p, struct child *w)
{
	int	i = w->ctl;

	w->ctl = -1;
	parent_ctl_error(p, i, "the worker failed; see relocd's log");
}

static void
parent_ctl_handle(struct parent *p, int i, const char *req, size_t len)
{
	struct sxp_node		*root = NULL;
	struct sxp_error	 err;
	const struct sxp_node	*m;

	if (sxp_parse(req, len, &root, &err) == -1 ||
	    (m = root->first) == NULL || m->type != SXP_LIST ||
	    m->first == NULL || m->first->type != SXP_ATOM) {
		parent_ctl_error(p, i, "malformed request");
		goto out;
	}
	if (strcmp(m->first->text, "status") == 0)
		parent_ctl_status(p, i);
	else if (strcmp(m->first->text, "list") == 0)
		parent_ctl_list(p, i);
	else if (strcmp(m->first->text, "metrics") == 0)
		parent_ctl_metrics(p, i);
	else if (strcmp(m->first->text, "report") == 0)
		parent_report_request(p, i, m);
	else if (!parent_req_handle(p, i, m))
		parent_ctl_error(p, i, "unknown request");
out:
	sxp_free(root);
	/* A file passed with the request is the worker's now, or unused. */
	if (p->ctl[i].passed_fd != -1) {
		close(p->ctl[i].passed_fd);
		p->ctl[i].passed_fd = -1;
	}
}

/* Reads what the client sent; handles a request once it is complete. */
void
parent_ctl_read(struct parent *p, int i)
{
	struct ctl_client	*cl = &p->ctl[i];
	size_t			 want, len;
	ssize_t			 r;
	int			 kind;

	want = cl->len < PROTO_FRAME_HDR ? PROTO_FRAME_HDR : sizeof(cl->buf);
	r = ctl_recv(cl->fd, cl->buf + cl->len, want - cl->len,
	    cl->passed_fd == -1 ? &cl->passed_fd : NULL);
	if (r <= 0) {
		if (r == 0 || (errno != EINTR && errno != EAGAIN))
			parent_ctl_close(p, i);
		return;
	}
	cl->len += (size_t)r;
	if (cl->len < PROTO_FRAME_HDR)
		return;
	if (proto_frame_parse((uint8_t *)cl->buf, &kind, &len) != PE_NONE ||
	    kind != PROTO_FRAME_CONTROL || len > CTL_MSG_MAX) {
		parent_ctl_close(p, i);
		return;
	}
	if (cl->len < PROTO_FRAME_HDR + len)
		return;
	parent_ctl_handle(p, i, cl->buf + PROTO_FRAME_HDR, len);
	cl->len = 0;
}
