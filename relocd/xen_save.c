// SPDX-License-Identifier: ISC
/*
 * The xen backend's sending side: libxenguest's xc_domain_save() with
 * relocd's pre-copy policy as its precopy_policy callback, which is the
 * control `xl migrate` does not offer (xl always uses libxenguest's
 * "5 rounds or 50 pages").  The stream is framed as libxl's v2 stream
 * (xen_stream.c): header, LIBXC_CONTEXT, libxenguest's records, for an
 * HVM guest its QEMU's two emulator records, END.
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
#include <sys/stat.h>

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
#include "xen_qmp.h"
#include "xen_stream.h"

#define XEN_RELAY_BUF		(256 * 1024)
/* What the relay writes, counts and paces at a time (a pipe's default). */
#define XEN_RELAY_SLICE		(64 * 1024)
#define XEN_SUSPEND_POLL_US	(5 * 1000)
/* libxl's name for the file QEMU saves into; removed once read. */
#define XEN_DM_SAVEFILE_FMT	"/var/lib/xen/qemu-save.%u"
/* QEMU's device state is kilobytes: guest RAM (VRAM too) is Xen's. */
#define XEN_DM_STATE_MAX	(64 * 1024 * 1024)

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
	/*
	 * The parts of the pause (pause.h), on the monotonic clock: when
	 * the suspend was asked for, when the guest was seen suspended,
	 * and how long the HVM device model's state took, inside and after
	 * libxenguest's part.
	 */
	uint64_t				 suspend_asked_us;
	uint64_t				 suspended_us;
	uint64_t				 dm_state_us;
	const char				*name;
	/* HVM: the device model, and what it saved. */
	int					 hvm;
	int					 live;
	char					 qmp_path[64];
	char					 dm_why[256];
	uint8_t					*dm_state;
	size_t					 dm_state_len;
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

/*
 * Writes one chunk of libxenguest's stream in slices, counting and
 * pacing each: a capped stream (1 Mbit/s is 2 s a chunk) then shows its
 * bytes as they leave, so a migration stopped inside a round still says
 * how far its stream got, and the pace is smooth rather than bursty.
 */
static int
xen_relay_chunk(struct xen_save_run *s, const char *buf, size_t len)
{
	size_t	off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < XEN_RELAY_SLICE ? len - off : XEN_RELAY_SLICE;
		if (util_write_all(s->out, buf + off, n) == -1) {
			s->relay_errno = errno;
			return -1;
		}
		atomic_fetch_add(&s->bytes, (uint64_t)n);
		if (s->cb->pace != NULL)
			sleep_us(s->cb->pace((uint64_t)n, s->cb->data));
	}
	return 0;
}

static void *
xen_relay(void *arg)
{
	struct xen_save_run	*s = arg;
	char			*buf;
	ssize_t			 n;

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
		if (xen_relay_chunk(s, buf, (size_t)n) == -1)
			goto out;
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
	/*
	 * A stop with the count known still sends that count live
	 * (send_memory_live(), policy.c): one more live round, as the sim
	 * counts it.
	 */
	else if (decision != BACKEND_POLICY_CONTINUE && st.dirty_count > 0)
		s->rounds = st.iteration + 1;
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

/*
 * QEMU's device state, once the guest is suspended: QEMU writes it into
 * a new root-only file (libxl's name for it), which is unlinked as soon
 * as both ends are open, so none is left behind whatever happens; it is
 * read back whole into s->dm_state.
 */
static int
xen_save_device_model(struct xen_save_run *s)
{
	char		path[64];
	struct stat	st;
	int		wfd = -1, rfd = -1, rc = -1;
	ssize_t		n;
	size_t		off;

	_Static_assert(sizeof(path) >= sizeof(XEN_DM_SAVEFILE_FMT) + 10,
	    "path holds the save file's name for any domid");
	snprintf(path, sizeof(path), XEN_DM_SAVEFILE_FMT, s->domid);
	(void)unlink(path);
	if ((wfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 ||
	    (rfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(s->dm_why, sizeof(s->dm_why), "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	(void)unlink(path);
	if (xen_qmp_save_devices(s->qmp_path, wfd, s->live, s->dm_why,
	    sizeof(s->dm_why)) == -1)
		goto out;
	if (fstat(rfd, &st) == -1) {
		snprintf(s->dm_why, sizeof(s->dm_why), "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > XEN_DM_STATE_MAX) {
		snprintf(s->dm_why, sizeof(s->dm_why), "QEMU saved %lld bytes "
		    "of device state, not 1 to %d", (long long)st.st_size,
		    XEN_DM_STATE_MAX);
		goto out;
	}
	if ((s->dm_state = malloc((size_t)st.st_size)) == NULL) {
		snprintf(s->dm_why, sizeof(s->dm_why), "out of memory");
		goto out;
	}
	for (off = 0; off < (size_t)st.st_size; off += (size_t)n)
		if ((n = read(rfd, s->dm_state + off,
		    (size_t)st.st_size - off)) <= 0) {
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			snprintf(s->dm_why, sizeof(s->dm_why), "reading QEMU's "
			    "state: %s", n == 0 ? "short" : strerror(errno));
			goto out;
		}
	s->dm_state_len = (size_t)st.st_size;
	log_info("domain %u: QEMU saved %zu bytes of device state", s->domid,
	    s->dm_state_len);
	rc = 0;
out:
	if (wfd != -1)
		close(wfd);
	if (rfd != -1)
		close(rfd);
	return rc;
}

/* The guest just stopped running: tell the caller, save its QEMU. */
static int
xen_suspend_done(struct xen_save_run *s)
{
	uint64_t	t;

	s->suspend_ms = util_realtime_ms();
	s->suspended_us = util_now_us();
	if (s->cb->suspended != NULL)
		s->cb->suspended(s->suspend_ms, s->cb->data);
	t = util_now_us();
	if (s->hvm && xen_save_device_model(s) == -1)
		return 0;
	s->dm_state_us += util_now_us() - t;
	return 1;
}

/*
 * An HVM guest whose kernel never set up Xen's callback (no PV drivers)
 * does not watch control/shutdown; Xen suspends it without asking.
 */
static int
xen_hvm_without_pv_drivers(struct xen_save_run *s)
{
	uint64_t	callback = 0, s_state = 0;

	/* Unreadable parameters: ask through xenstore, the gentler way. */
	if (!s->hvm ||
	    xc_hvm_param_get(s->x->xch, s->domid, HVM_PARAM_CALLBACK_IRQ,
	    &callback) != 0 ||
	    xc_hvm_param_get(s->x->xch, s->domid, HVM_PARAM_ACPI_S_STATE,
	    &s_state) != 0)
		return 0;
	return callback == 0 || s_state != 0;
}

/* libxenguest's suspend callback: 1 when suspended, 0 on failure. */
static int
xen_suspend(void *data)
{
	struct xen_save_run	*s = data;
	char			 path[128], *dompath, *now;
	unsigned int		 len, i;
	int			 n, direct = xen_hvm_without_pv_drivers(s);

	s->suspend_asked_us = util_now_us();
	if (direct) {
		if (xc_domain_shutdown(s->x->xch, s->domid,
		    SHUTDOWN_suspend) == -1)
			goto fail;
	} else {
		if ((dompath = xs_get_domain_path(s->x->xsh, s->domid)) ==
		    NULL)
			goto fail;
		n = snprintf(path, sizeof(path), "%s/control/shutdown",
		    dompath);
		free(dompath);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			log_warnx("domain %u: its xenstore path is longer than "
			    "%zu bytes", s->domid, sizeof(path) - 1);
			goto fail;
		}
		if (!xs_write(s->x->xsh, XBT_NULL, path, "suspend",
		    strlen("suspend")))
			goto fail;
	}
	for (i = 0; i < XEN_SUSPEND_TIMEOUT_MS * 1000 / XEN_SUSPEND_POLL_US;
	    i++) {
		if (xen_suspended(s))
			return xen_suspend_done(s);
		sleep_us(XEN_SUSPEND_POLL_US);
	}
	/* Withdraw the request, unless the guest took it meanwhile. */
	if (!direct) {
		now = xs_read(s->x->xsh, XBT_NULL, path, &len);
		if (now != NULL && strcmp(now, "suspend") == 0)
			xs_rm(s->x->xsh, XBT_NULL, path);
		free(now);
	}
	if (xen_suspended(s))
		return xen_suspend_done(s);
fail:
	s->suspend_failed = 1;
	return 0;
}

/*
 * libxenguest calls this for every HVM container: an HVM guest's QEMU
 * must mark what it writes (DMA, the VGA buffer) in Xen's log-dirty
 * bitmap, or those pages would be sent stale.  PVH has no QEMU.
 */
static int
xen_switch_logdirty(uint32_t domid, unsigned int enable, void *data)
{
	struct xen_save_run	*s = data;

	(void)domid;
	if (!s->hvm)
		return 0;
	if (xen_qmp_set_dirty_log(s->qmp_path, (int)enable, s->dm_why,
	    sizeof(s->dm_why)) == -1) {
		log_warnx("domain %u: QEMU log-dirty %s: %s", s->domid,
		    enable ? "on" : "off", s->dm_why);
		return -1;
	}
	return 0;
}

/* One emulator record: header, sub-header, body, padding. */
static int
xen_write_emulator_record(struct xen_save_run *s, uint32_t type,
    const void *body, size_t len)
{
	static const uint8_t	zeros[8];
	uint8_t			hdr[LIBXL_REC_HDR_LEN + LIBXL_EMU_HDR_LEN];

	if (xen_stream_emulator_record(hdr, type, len) == -1 ||
	    util_write_all(s->in, hdr, sizeof(hdr)) == -1 ||
	    util_write_all(s->in, body, len) == -1 ||
	    util_write_all(s->in, zeros, LIBXL_REC_PAD(len)) == -1)
		return -1;
	return 0;
}

/*
 * The physmap QEMU keeps in xenstore (where it mapped the VGA buffer
 * and option ROMs), as libxl collects it: physmap/ID/{start_addr,size,
 * name} pairs.  QEMU on the destination finds its mappings there again.
 * No physmap is no record; a partial one is an error, as for libxl.
 */
static int
xen_dm_xenstore_data(struct xen_save_run *s, char **buf_r, size_t *len_r)
{
	static const char *const subkeys[] = { "start_addr", "size", "name" };
	char		  root[96], key[192], path[320], **ids, *val = NULL;
	unsigned int	  n, i, j, len;
	int		  rc = 0, r;

	*buf_r = NULL;
	*len_r = 0;
	_Static_assert(sizeof(root) >= sizeof("/local/domain/0/device-model/") +
	    10 && sizeof(path) >= sizeof(root) + sizeof("/physmap"),
	    "root and path hold any domid's");
	snprintf(root, sizeof(root), "/local/domain/0/device-model/%u",
	    s->domid);
	snprintf(path, sizeof(path), "%s/physmap", root);
	if ((ids = xs_directory(s->x->xsh, XBT_NULL, path, &n)) == NULL)
		return 0;
	for (i = 0; i < n && rc == 0; i++)
		for (j = 0; j < 3 && rc == 0; j++) {
			r = snprintf(key, sizeof(key), "physmap/%s/%s", ids[i],
			    subkeys[j]);
			if (r < 0 || (size_t)r >= sizeof(key) ||
			    snprintf(path, sizeof(path), "%s/%s", root, key) >=
			    (int)sizeof(path)) {
				snprintf(s->dm_why, sizeof(s->dm_why), "xenstore "
				    "key physmap/%.40s... is longer than %zu "
				    "bytes", ids[i], sizeof(key) - 1);
				rc = -1;
			} else if ((val = xs_read(s->x->xsh, XBT_NULL, path,
			    &len)) == NULL) {
				snprintf(s->dm_why, sizeof(s->dm_why), "xenstore "
				    "%.200s is missing", path);
				rc = -1;
			} else if (xen_stream_xenstore_pair(buf_r, len_r, key,
			    val) == -1) {
				snprintf(s->dm_why, sizeof(s->dm_why), "out of "
				    "memory");
				rc = -1;
			}
			free(val);
			val = NULL;
		}
	free(ids);
	return rc;
}

/* HVM: QEMU's records, in libxl's order, between Xen's stream and END. */
static int
xen_write_emulator_records(struct xen_save_run *s)
{
	char	*xsdata;
	size_t	 xslen;
	int	 rc = -1;

	if (xen_dm_xenstore_data(s, &xsdata, &xslen) == -1)
		return -1;
	if (xslen > 0 && xen_write_emulator_record(s,
	    LIBXL_REC_EMULATOR_XENSTORE_DATA, xsdata, xslen) == -1)
		goto out;
	if (xen_write_emulator_record(s, LIBXL_REC_EMULATOR_CONTEXT,
	    s->dm_state, s->dm_state_len) == -1)
		goto out;
	rc = 0;
out:
	free(xsdata);
	return rc;
}

/*
 * An HVM guest's device model must be one relocd can drive: qemu-xen
 * (what libxl records as "qemu_xen"), in dom0.
 */
static int
xen_save_check_hvm(struct xen *x, uint32_t domid, const char *name,
    struct backend_error *err)
{
	char		 path[64], *version;
	unsigned int	 len;
	int		 ok;

	if (libxl_get_stubdom_id(x->ctx, domid) != 0)
		return backend_fail(err, BE_UNSUPPORTED, "%s's QEMU runs in a "
		    "stub domain, which relocd cannot drive; use xl migrate",
		    name);
	_Static_assert(sizeof(path) >= sizeof("/libxl//dm-version") + 10,
	    "path holds any domid's");
	snprintf(path, sizeof(path), "/libxl/%u/dm-version", domid);
	version = xs_read(x->xsh, XBT_NULL, path, &len);
	ok = version != NULL && strcmp(version, "qemu_xen") == 0;
	free(version);
	if (!ok)
		return backend_fail(err, BE_UNSUPPORTED, "%s's device model "
		    "is not qemu-xen (xenstore %s), the only one relocd can "
		    "drive; use xl migrate", name, path);
	return 0;
}

/* The hypervisor must be able to track dirty pages of this guest. */
static int
xen_save_check(struct xen *x, uint32_t domid, const struct guest_info *g,
    unsigned int flags, struct backend_error *err)
{
	libxl_physinfo	pi;
	int		shadow;

	if (g->type == GUEST_TYPE_HVM &&
	    xen_save_check_hvm(x, domid, g->name, err) == -1)
		return -1;
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
	if (s->dm_why[0] != '\0')
		return backend_fail(err, BE_INTERNAL, "the guest's QEMU: %s "
		    "(its log is /var/log/xen/qemu-dm-%s.log)", s->dm_why,
		    s->name);
	if (s->suspend_failed)
		return backend_fail(err, BE_INTERNAL, "the guest did not "
		    "suspend within %d s (does its kernel support suspend?)",
		    XEN_SUSPEND_TIMEOUT_MS / 1000);
	return backend_fail(err, BE_INTERNAL, "libxenguest could not save "
	    "the guest: %s (relocd's log has its messages)",
	    strerror(saved_errno));
}

/* Microseconds to the pause's milliseconds, rounded as util_ms_since(). */
static int64_t
us_to_ms(uint64_t us)
{
	return (int64_t)((us + 500) / 1000);
}

/*
 * The source's parts of the pause, once the stream has been written
 * and relayed whole (pause.c says what each covers).  libxenguest sends
 * the last dirty pages and the vCPU context in one call and says
 * nothing between them, so on Xen the final copy includes the vCPU
 * records (kilobytes) and the state part is the device model's alone:
 * QEMU's save and its two emulator records, for an HVM guest.  The
 * final copy ends when the relay has written the last byte, as the
 * sim's does, not when libxenguest has filled the pipe.
 */
static void
xen_save_pause_parts(const struct xen_save_run *s,
    struct backend_save_result *res)
{
	uint64_t	now = util_now_us(), after;

	if (s->suspended_us == 0)
		return;
	if (s->suspend_asked_us != 0 && s->suspended_us >= s->suspend_asked_us)
		pause_set(&res->pause, PAUSE_SUSPEND,
		    us_to_ms(s->suspended_us - s->suspend_asked_us));
	after = now > s->suspended_us ? now - s->suspended_us : 0;
	if (after < s->dm_state_us)
		after = s->dm_state_us;
	pause_set(&res->pause, PAUSE_FINAL, us_to_ms(after - s->dm_state_us));
	if (s->hvm)
		pause_set(&res->pause, PAUSE_STATE, us_to_ms(s->dm_state_us));
	/* The suspended domain is kept as it is until the commit. */
	pause_set(&res->pause, PAUSE_RELEASE, 0);
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
	uint64_t		 t;
	int			 p[2], r, saved_errno = 0, rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	/* The parent refuses it first; this is for any other caller. */
	if (flags & BACKEND_SAVE_SKIP_REDIRTIED)
		return backend_fail(err, BE_UNSUPPORTED, "--skip-redirtied is "
		    "sim-only: on Xen libxenguest sends the rounds itself");
	if (xen_find(x, name, &s.domid, &info, err) == -1)
		return -1;
	xen_info_from(x, &info, &g);
	libxl_dominfo_dispose(&info);
	if (xen_save_check(x, s.domid, &g, flags, err) == -1)
		return -1;
	s.x = x;
	s.name = name;
	s.cb = cb;
	s.hvm = g.type == GUEST_TYPE_HVM;
	s.live = (flags & BACKEND_SAVE_LIVE) != 0;
	(void)xen_qmp_path(s.domid, s.qmp_path, sizeof(s.qmp_path));
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
	if (util_write_all(s.in, framing, sizeof(framing)) == 0) {
		r = xc_domain_save(x->xch, s.in, s.domid,
		    (flags & BACKEND_SAVE_LIVE) ? XCFLAGS_LIVE : 0, &xcb,
		    XC_STREAM_PLAIN, -1);
		saved_errno = errno;
		t = util_now_us();
		if (r == 0 && s.hvm && xen_write_emulator_records(&s) == -1)
			r = -1;
		s.dm_state_us += util_now_us() - t;
		if (r == 0) {
			xen_stream_libxl_record(framing, LIBXL_REC_END);
			if (util_write_all(s.in, framing,
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
	free(s.dm_state);
	res->bytes = atomic_load(&s.bytes);
	res->rounds = s.rounds;
	res->suspend_ms = s.suspend_ms;
	if (rc == 0)
		xen_save_pause_parts(&s, res);
	if (rc == -1)
		return xen_save_fail(&s, saved_errno, err);
	return 0;
}
