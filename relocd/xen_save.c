// SPDX-License-Identifier: ISC
/*
 * The xen backend's sending side: libxenguest's xc_domain_save() with
 * relocd's pre-copy policy as its precopy_policy callback, which is the
 * control `xl migrate` does not offer (xl always uses libxenguest's
 * "5 rounds or 50 pages").  The stream is framed as libxl's v2 stream
 * (xen_stream.c): header, LIBXC_CONTEXT, libxenguest's records, END.
 *
 * libxenguest writes into a pipe; a relay thread copies it to the
 * caller's fd, counting bytes (the policy's bandwidth estimate) and
 * pacing them to the bandwidth cap, which libxenguest has no notion of.
 *
 * Suspending is what libxl does for a PV or PVH guest without a
 * suspend event channel: write "suspend" to the guest's xenstore node
 * control/shutdown, then wait for the domain to shut down with reason
 * suspend.  A guest that does not within XEN_SUSPEND_TIMEOUT_MS keeps
 * running: the request is withdrawn and the save fails.
 *
 * Runs in the source worker, as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "xen.h"
#include "xen_stream.h"

#define XEN_RELAY_BUF		(256 * 1024)
#define XEN_SUSPEND_POLL_US	(5 * 1000)

struct xen_save_run {
	struct xen				*x;
	uint32_t				 domid;
	const struct backend_save_callbacks	*cb;
	uint64_t				 memory_pages;
	int					 in;	/* libxenguest writes */
	int					 relay_from;
	int					 out;	/* the caller's fd */
	pthread_t				 relay;
	_Atomic uint64_t			 bytes;
	int					 relay_errno;
	unsigned int				 rounds;
	int					 aborted;
	int					 suspend_failed;
	uint64_t				 suspend_ms;
};

static void
sleep_us(uint64_t us)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)(us / 1000000);
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void *
xen_relay(void *arg)
{
	struct xen_save_run	*s = arg;
	char			*buf;
	ssize_t			 n, w;
	size_t			 off;

	if ((buf = malloc(XEN_RELAY_BUF)) == NULL) {
		s->relay_errno = ENOMEM;
		return NULL;
	}
	while ((n = read(s->relay_from, buf, XEN_RELAY_BUF)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			s->relay_errno = errno;
			break;
		}
		for (off = 0; off < (size_t)n; off += (size_t)w)
			if ((w = write(s->out, buf + off, (size_t)n - off)) ==
			    -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				s->relay_errno = errno;
				goto out;
			}
		atomic_fetch_add(&s->bytes, (uint64_t)n);
		if (s->cb->pace != NULL)
			sleep_us(s->cb->pace((uint64_t)n, s->cb->data));
	}
out:
	/* Unblocks libxenguest's writes if the reader has gone. */
	close(s->relay_from);
	s->relay_from = -1;
	free(buf);
	return NULL;
}

static int
xen_precopy(struct precopy_stats st, void *data)
{
	struct xen_save_run		*s = data;
	struct backend_precopy_stats	 bs;
	int				 decision;

	memset(&bs, 0, sizeof(bs));
	bs.iteration = st.iteration;
	bs.total_written = atomic_load(&s->bytes);
	bs.dirty_count = st.dirty_count;
	bs.page_size = XC_PAGE_SIZE;
	bs.memory_pages = s->memory_pages;
	if (st.iteration > s->rounds)
		s->rounds = st.iteration;
	decision = s->cb->precopy_policy(&bs, s->cb->data);
	if (decision == BACKEND_POLICY_ABORT)
		s->aborted = 1;
	return decision;
}

static int
xen_suspended(struct xen_save_run *s)
{
	xc_dominfo_t	info;

	return xc_domain_getinfo(s->x->xch, s->domid, 1, &info) == 1 &&
	    info.domid == s->domid && info.shutdown &&
	    info.shutdown_reason == SHUTDOWN_suspend;
}

/* libxenguest's suspend callback: 1 when suspended, 0 on failure. */
static int
xen_suspend(void *data)
{
	struct xen_save_run	*s = data;
	char			 path[128], *dompath, *now;
	unsigned int		 len, i;

	if ((dompath = xs_get_domain_path(s->x->xsh, s->domid)) == NULL)
		goto fail;
	snprintf(path, sizeof(path), "%s/control/shutdown", dompath);
	free(dompath);
	if (!xs_write(s->x->xsh, XBT_NULL, path, "suspend", strlen("suspend")))
		goto fail;
	for (i = 0; i < XEN_SUSPEND_TIMEOUT_MS * 1000 / XEN_SUSPEND_POLL_US;
	    i++) {
		if (xen_suspended(s)) {
			s->suspend_ms = util_realtime_ms();
			if (s->cb->suspended != NULL)
				s->cb->suspended(s->suspend_ms, s->cb->data);
			return 1;
		}
		sleep_us(XEN_SUSPEND_POLL_US);
	}
	/* Withdraw the request, unless the guest took it meanwhile. */
	now = xs_read(s->x->xsh, XBT_NULL, path, &len);
	if (now != NULL && strcmp(now, "suspend") == 0)
		xs_rm(s->x->xsh, XBT_NULL, path);
	free(now);
	if (xen_suspended(s)) {
		s->suspend_ms = util_realtime_ms();
		if (s->cb->suspended != NULL)
			s->cb->suspended(s->suspend_ms, s->cb->data);
		return 1;
	}
fail:
	s->suspend_failed = 1;
	return 0;
}

/* PV and PVH guests have no device model whose log-dirty to switch. */
static int
xen_switch_logdirty(uint32_t domid, unsigned int enable, void *data)
{
	(void)domid;
	(void)enable;
	(void)data;
	return 0;
}

static int
xen_write_framing(int fd, const uint8_t *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The hypervisor must be able to track dirty pages of this guest. */
static int
xen_save_check(struct xen *x, const struct guest_info *g, unsigned int flags,
    struct backend_error *err)
{
	libxl_physinfo	pi;
	int		shadow;

	if (g->type == GUEST_TYPE_HVM)
		return backend_fail(err, BE_UNSUPPORTED, "HVM guests are not "
		    "supported by relocd's xen backend yet; use xl migrate");
	if (g->state != GUEST_STATE_RUNNING && g->state != GUEST_STATE_PAUSED)
		return backend_fail(err, BE_BAD_STATE, "%s is %s, not running",
		    g->name, guest_state_name(g->state));
	if (g->type != GUEST_TYPE_PV || !(flags & BACKEND_SAVE_LIVE))
		return 0;
	libxl_physinfo_init(&pi);
	if (libxl_get_physinfo(x->ctx, &pi) != 0) {
		libxl_physinfo_dispose(&pi);
		return backend_fail(err, BE_INTERNAL, "libxl cannot read the "
		    "host's capabilities");
	}
	shadow = pi.cap_shadow;
	libxl_physinfo_dispose(&pi);
	if (!shadow)
		return backend_fail(err, BE_UNSUPPORTED, "this hypervisor was "
		    "built without shadow paging, which live migration of a PV "
		    "guest needs (Debian's stock Xen is); migrate %s offline "
		    "(without --live), or run it as PVH", g->name);
	return 0;
}

static int
xen_save_fail(struct xen_save_run *s, int saved_errno,
    struct backend_error *err)
{
	if (s->aborted)
		return backend_fail(err, BE_ABORTED, "the pre-copy policy "
		    "stopped the migration");
	if (s->relay_errno != 0)
		return backend_fail(err, BE_IO, "writing the stream: %s",
		    strerror(s->relay_errno));
	if (s->suspend_failed)
		return backend_fail(err, BE_INTERNAL, "the guest did not "
		    "suspend within %d s (does its kernel support suspend?)",
		    XEN_SUSPEND_TIMEOUT_MS / 1000);
	return backend_fail(err, BE_INTERNAL, "libxenguest could not save "
	    "the guest: %s (relocd's log has its messages)",
	    strerror(saved_errno));
}

int
xen_save(void *h, const char *name, int fd, unsigned int flags,
    const struct backend_save_callbacks *cb, struct backend_save_result *res,
    struct backend_error *err)
{
	struct xen		*x = h;
	struct xen_save_run	 s;
	struct save_callbacks	 xcb;
	struct guest_info	 g;
	libxl_dominfo		 info;
	uint8_t			 framing[LIBXL_HEADER_LEN + LIBXL_REC_HDR_LEN];
	int			 p[2], r, saved_errno = 0, rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	if (xen_find(x, name, &s.domid, &info, err) == -1)
		return -1;
	xen_info_from(x, &info, &g);
	libxl_dominfo_dispose(&info);
	if (xen_save_check(x, &g, flags, err) == -1)
		return -1;
	s.x = x;
	s.cb = cb;
	s.out = fd;
	s.memory_pages = g.memory_bytes / XC_PAGE_SIZE;
	if (util_pipe_data(p) == -1)
		return backend_fail(err, BE_INTERNAL, "pipe: %s",
		    strerror(errno));
	s.relay_from = p[0];
	s.in = p[1];
	if ((r = pthread_create(&s.relay, NULL, xen_relay, &s)) != 0) {
		close(p[0]);
		close(p[1]);
		return backend_fail(err, BE_INTERNAL, "pthread_create: %s",
		    strerror(r));
	}
	memset(&xcb, 0, sizeof(xcb));
	xcb.suspend = xen_suspend;
	xcb.precopy_policy = cb->precopy_policy != NULL ? xen_precopy : NULL;
	xcb.switch_qemu_logdirty = xen_switch_logdirty;
	xcb.data = &s;
	xen_stream_libxl_header(framing);
	xen_stream_libxl_record(framing + LIBXL_HEADER_LEN,
	    LIBXL_REC_LIBXC_CONTEXT);
	if (xen_write_framing(s.in, framing, sizeof(framing)) == 0) {
		r = xc_domain_save(x->xch, s.in, s.domid,
		    (flags & BACKEND_SAVE_LIVE) ? XCFLAGS_LIVE : 0, &xcb,
		    XC_STREAM_PLAIN, -1);
		saved_errno = errno;
		if (r == 0) {
			xen_stream_libxl_record(framing, LIBXL_REC_END);
			if (xen_write_framing(s.in, framing,
			    LIBXL_REC_HDR_LEN) == 0)
				rc = 0;
		}
	}
	close(s.in);
	pthread_join(s.relay, NULL);
	if (s.relay_from != -1)
		close(s.relay_from);
	if (rc == 0 && s.relay_errno != 0)
		rc = -1;
	res->bytes = atomic_load(&s.bytes);
	res->rounds = s.rounds;
	res->suspend_ms = s.suspend_ms;
	if (rc == -1)
		return xen_save_fail(&s, saved_errno, err);
	return 0;
}
