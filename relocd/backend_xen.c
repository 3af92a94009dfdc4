// SPDX-License-Identifier: ISC
/*
 * The xen backend (DESIGN section 4): guests are xl's, and relocd never
 * builds a domain behind the toolstack's back.
 *
 *  - Listing, looking up, describing (libxl's JSON domain configuration,
 *    as `xl migrate` sends it), resuming after a failure before "go"
 *    (libxl_domain_resume with suspend_cancel, as xl does), throttling
 *    (the credit scheduler's cap) and destroying go through libxl.
 *  - Sending is xen_save.c: libxenguest's xc_domain_save() driven by
 *    relocd's pre-copy policy, framed as a libxl v2 stream.
 *  - Receiving goes through the local `xl migrate-receive` (xen_xl.c):
 *    reserve() only checks (name, uuid, type, memory, config), restore()
 *    feeds xl the stream behind xl's header and waits for "ready",
 *    unpause() is xl's "go", and destroy() before that closes xl's stdin,
 *    after which xl destroys its own copy.  So the guest arrives built by
 *    the toolstack exactly as `xl migrate` would leave it.
 *
 * An HVM guest's QEMU is saved by xen_save.c (QMP, xen_qmp.c) into the
 * stream's emulator records; on the destination xl starts the new QEMU
 * from them, so receiving needs nothing HVM-specific beyond checking
 * that this host has the device model.
 *
 * Runs in the worker, as root.  reserve() checks a description that came
 * from a peer: the config must parse and must name the guest reserved.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "xen.h"
#include "xen_preflight.h"
#include "xen_stream.h"

/* libxl must reap only its own children: xl is ours (xen_xl.c). */
static const libxl_childproc_hooks xen_child_hooks = {
	.chldowner = libxl_sigchld_owner_libxl_always_selective_reap
};

static int
xen_open(const char *xl_command, void **h_r, struct backend_error *err)
{
	struct xen	*x;

	*h_r = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	xen_xl_init(&x->xl);
	/* The argument is relocd-xl-command: xl, found on PATH, by default. */
	if (strlcpy(x->xl_path, xl_command != NULL && xl_command[0] != '\0' ?
	    xl_command : XEN_XL_PATH_DEFAULT, sizeof(x->xl_path)) >=
	    sizeof(x->xl_path)) {
		free(x);
		return backend_fail(err, BE_UNSUPPORTED, "relocd-xl-command "
		    "is longer than %zu characters", sizeof(x->xl_path) - 1);
	}
	x->logger = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
	if (x->logger == NULL ||
	    libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0,
	    (xentoollog_logger *)x->logger) != 0 ||
	    (x->xch = xc_interface_open((xentoollog_logger *)x->logger, NULL,
	    0)) == NULL ||
	    (x->xsh = xs_open(0)) == NULL) {
		backend_fail(err, BE_UNSUPPORTED, "cannot open Xen's control "
		    "interfaces (libxl, libxenctrl, xenstore): is this a Xen "
		    "dom0 with xenstored running? Otherwise run relocd -B sim");
		if (x->ctx != NULL)
			libxl_ctx_free(x->ctx);
		if (x->xch != NULL)
			xc_interface_close(x->xch);
		if (x->logger != NULL)
			xtl_logger_destroy((xentoollog_logger *)x->logger);
		free(x);
		return -1;
	}
	libxl_childproc_setmode(x->ctx, &xen_child_hooks, NULL);
	*h_r = x;
	return 0;
}

static void
xen_close(void *h)
{
	struct xen	*x = h;

	if (x == NULL)
		return;
	xen_xl_close(&x->xl);
	free(x->incoming_config);
	xs_close(x->xsh);
	xc_interface_close(x->xch);
	libxl_ctx_free(x->ctx);
	xtl_logger_destroy((xentoollog_logger *)x->logger);
	free(x);
}

/*
 * Xen itself knows PV and HVM containers only; whether an HVM container
 * is PVH (no device model) is in libxl's stored configuration.
 */
static int
xen_hvm_or_pvh(struct xen *x, uint32_t domid)
{
	libxl_domain_config	d;
	int			type = GUEST_TYPE_HVM;

	libxl_domain_config_init(&d);
	if (libxl_retrieve_domain_configuration(x->ctx, domid, &d, NULL) == 0 &&
	    d.b_info.type == LIBXL_DOMAIN_TYPE_PVH)
		type = GUEST_TYPE_PVH;
	libxl_domain_config_dispose(&d);
	return type;
}

void
xen_info_from(struct xen *x, const libxl_dominfo *d, struct guest_info *g)
{
	char	*name;

	memset(g, 0, sizeof(*g));
	/* A name too long for relocd stays empty, never cut into another. */
	if ((name = libxl_domid_to_name(x->ctx, d->domid)) != NULL &&
	    strlcpy(g->name, name, sizeof(g->name)) >= sizeof(g->name)) {
		log_warnx("domain %u: its name is longer than %d characters; "
		    "relocd lists it without one", d->domid, GUEST_NAME_MAX);
		g->name[0] = '\0';
	}
	free(name);
	snprintf(g->uuid, sizeof(g->uuid), LIBXL_UUID_FMT,
	    LIBXL_UUID_BYTES(d->uuid));
	g->domid = d->domid;
	switch (d->domain_type) {
	case LIBXL_DOMAIN_TYPE_HVM:
		g->type = xen_hvm_or_pvh(x, d->domid);
		break;
	case LIBXL_DOMAIN_TYPE_PVH:
		g->type = GUEST_TYPE_PVH;
		break;
	default:
		g->type = GUEST_TYPE_PV;
		break;
	}
	if (d->shutdown && d->shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND)
		g->state = GUEST_STATE_SUSPENDED;
	else if (d->paused)
		g->state = GUEST_STATE_PAUSED;
	else
		g->state = GUEST_STATE_RUNNING;
	g->memory_bytes = d->current_memkb * 1024;
	g->vcpus = d->vcpu_online;
}

/* key is a name or a domid; fills domid and libxl's info. */
int
xen_find(struct xen *x, const char *key, uint32_t *domid_r,
    libxl_dominfo *info, struct backend_error *err)
{
	uint32_t	 domid;
	const char	*errstr;

	domid = (uint32_t)util_strtonum(key, 0, DOMID_FIRST_RESERVED - 1,
	    &errstr);
	if (errstr != NULL && libxl_name_to_domid(x->ctx, key, &domid) != 0)
		return backend_fail(err, BE_NOT_FOUND, "no guest named %s on "
		    "this host (xl list shows the guests)", key);
	libxl_dominfo_init(info);
	if (libxl_domain_info(x->ctx, info, domid) != 0)
		return backend_fail(err, BE_NOT_FOUND, "guest %s has gone",
		    key);
	*domid_r = domid;
	return 0;
}

static int
xen_list(void *h, struct guest_info **guests_r, size_t *n_r,
    struct backend_error *err)
{
	struct xen	*x = h;
	libxl_dominfo	*doms;
	int		 nb, i;
	size_t		 n = 0;

	*guests_r = NULL;
	*n_r = 0;
	if ((doms = libxl_list_domain(x->ctx, &nb)) == NULL)
		return backend_fail(err, BE_INTERNAL, "libxl cannot list "
		    "the domains");
	if ((*guests_r = calloc(nb > 0 ? (size_t)nb : 1,
	    sizeof(**guests_r))) == NULL) {
		libxl_dominfo_list_free(doms, nb);
		return backend_fail(err, BE_INTERNAL, "out of memory");
	}
	for (i = 0; i < nb; i++)
		if (doms[i].domid != 0)	/* dom0 is the host, not a guest */
			xen_info_from(x, &doms[i], &(*guests_r)[n++]);
	libxl_dominfo_list_free(doms, nb);
	*n_r = n;
	return 0;
}

static int
xen_lookup(void *h, const char *key, struct guest_info *g,
    struct backend_error *err)
{
	struct xen	*x = h;
	libxl_dominfo	 info;
	uint32_t	 domid;

	if (xen_find(x, key, &domid, &info, err) == -1)
		return -1;
	xen_info_from(x, &info, g);
	libxl_dominfo_dispose(&info);
	return 0;
}

/*
 * Free memory and what an autoballooning dom0 would give back
 * (xen_mem.c): a reservation and relocctl evacuate's capacity agree,
 * and xl migrate-receive balloons dom0 down as xl create does.
 */
static int
xen_free_memory(void *h, uint64_t *bytes_r, struct backend_error *err)
{
	return xen_mem_available(h, bytes_r, err);
}

static int
xen_type_supported(int type, struct backend_error *err)
{
	if (type != GUEST_TYPE_PV && type != GUEST_TYPE_PVH &&
	    type != GUEST_TYPE_HVM)
		return backend_fail(err, BE_UNSUPPORTED, "not a Xen guest");
	return 0;
}

/*
 * This host's facts for a guest of type: what it gets by default
 * (source), or the most it may have (destination, max set).
 */
static int
xen_local_facts(struct xen *x, int type, int max, struct xen_facts *f,
    struct backend_error *err)
{
	const libxl_version_info	*v;
	uint32_t			 nr = XEN_FACTS_CPU_WORDS, index;

	memset(f, 0, sizeof(*f));
	if ((v = libxl_get_version_info(x->ctx)) == NULL)
		return backend_fail(err, BE_INTERNAL, "libxl cannot tell "
		    "Xen's version");
	f->major = v->xen_version_major;
	f->minor = v->xen_version_minor;
	f->clock_ms = util_realtime_ms();
	if (type == GUEST_TYPE_PV)
		index = max ? XEN_SYSCTL_cpu_featureset_pv_max :
		    XEN_SYSCTL_cpu_featureset_pv;
	else
		index = max ? XEN_SYSCTL_cpu_featureset_hvm_max :
		    XEN_SYSCTL_cpu_featureset_hvm;
	if (xc_get_cpu_featureset(x->xch, index, &nr, f->cpu) != 0)
		return backend_fail(err, BE_INTERNAL, "Xen cannot tell the "
		    "CPU features of its guests: %s", strerror(errno));
	f->ncpu = nr;
	return 0;
}

/* Destination: the source's facts against ours; warnings are logged. */
static int
xen_facts_check(struct xen *x, const struct guest_desc *desc,
    struct backend_error *err)
{
	struct xen_facts	src, here;
	char			why[256], warn[256];

	if (desc->facts[0] == '\0')
		return 0;	/* a save file, or a peer that sends none */
	if (xen_facts_parse(desc->facts, &src) == -1)
		return backend_fail(err, BE_UNSUPPORTED, "the source's "
		    "description of its host is malformed");
	if (xen_local_facts(x, desc->info.type, 1, &here, err) == -1)
		return -1;
	if (xen_facts_compare(&src, &here, util_realtime_ms(), why,
	    sizeof(why), warn, sizeof(warn)) == -1)
		return backend_fail(err, BE_UNSUPPORTED, "%s", why);
	if (warn[0] != '\0')
		log_warnx("%s: %s", desc->info.name, warn);
	return 0;
}

static int
xen_describe(void *h, const char *name, struct guest_desc *desc,
    char **config_r, struct backend_error *err)
{
	struct xen		*x = h;
	libxl_domain_config	 d;
	libxl_dominfo		 info;
	struct xen_facts	 facts;
	struct check_list	 ignored;
	uint32_t		 domid;
	char			*json = NULL;
	int			 rc = -1;

	*config_r = NULL;
	memset(&ignored, 0, sizeof(ignored));
	if (xen_find(x, name, &domid, &info, err) == -1)
		return -1;
	xen_info_from(x, &info, &desc->info);
	libxl_dominfo_dispose(&info);
	libxl_domain_config_init(&d);
	if (domid == 0) {
		backend_fail(err, BE_BAD_STATE, "dom0 is the host; it cannot "
		    "be migrated");
		goto out;
	}
	if (xen_type_supported(desc->info.type, err) == -1)
		goto out;
	if (libxl_retrieve_domain_configuration(x->ctx, domid, &d, NULL)) {
		backend_fail(err, BE_INTERNAL, "libxl has no configuration "
		    "for %s (was it created by xl?)", name);
		goto out;
	}
	d.c_info.domid = 0;	/* the destination picks one, as with xl */
	if (xen_config_migratable(&d, name, desc->checks != NULL ?
	    desc->checks : &ignored, err) == -1)
		goto out;
	if (xen_local_facts(x, desc->info.type, 0, &facts, err) == -1)
		goto out;
	if (xen_facts_format(&facts, desc->facts, sizeof(desc->facts))) {
		backend_fail(err, BE_INTERNAL, "this host's facts do not fit "
		    "in %d bytes", BACKEND_FACTS_MAX);
		goto out;
	}
	if ((json = libxl_domain_config_to_json(x->ctx, &d)) == NULL ||
	    strlen(json) >= BACKEND_CONFIG_MAX) {
		backend_fail(err, BE_UNSUPPORTED, "the configuration of %s is "
		    "too large to send (over %d bytes of JSON)", name,
		    BACKEND_CONFIG_MAX);
		goto out;
	}
	desc->config = json;
	*config_r = json;
	json = NULL;
	rc = 0;
out:
	free(json);
	libxl_domain_config_dispose(&d);
	return rc;
}

/* A peer's config must parse here and describe the guest reserved. */
static int
xen_config_check(struct xen *x, const struct guest_desc *desc,
    struct backend_error *err)
{
	libxl_domain_config	d;
	struct check_list	ignored, *l = desc->checks;
	char			uuid[GUEST_UUID_LEN + 1], why[256];
	int			rc = -1;

	memset(&ignored, 0, sizeof(ignored));
	if (l == NULL)
		l = &ignored;
	libxl_domain_config_init(&d);
	if (desc->config == NULL || desc->config[0] == '\0' ||
	    libxl_domain_config_from_json(x->ctx, &d, desc->config) != 0) {
		backend_fail(err, BE_UNSUPPORTED, "this host's libxl cannot "
		    "read the guest's configuration");
		goto out;
	}
	snprintf(uuid, sizeof(uuid), LIBXL_UUID_FMT,
	    LIBXL_UUID_BYTES(d.c_info.uuid));
	if (d.c_info.name == NULL ||
	    strcmp(d.c_info.name, desc->info.name) != 0 ||
	    strcmp(uuid, desc->info.uuid) != 0) {
		backend_fail(err, BE_UNSUPPORTED, "the guest's configuration "
		    "names another guest than the one reserved");
		goto out;
	}
	if (xen_config_devices(&d, l, err) == -1)
		goto out;
	if (d.c_info.type == LIBXL_DOMAIN_TYPE_HVM) {
		if (xen_preflight_device_model("", desc->info.name,
		    d.b_info.device_model, why, sizeof(why)) == -1)
			checks_add(l, 0, "%s", why);
		else
			checks_add(l, 1, "device model %s: present",
			    d.b_info.device_model != NULL &&
			    d.b_info.device_model[0] != '\0' ?
			    d.b_info.device_model : XEN_QEMU_XEN_PATH);
	}
	/* Every device was looked at: the user gets all that failed. */
	if (checks_failed(l) > 0) {
		backend_fail_checks(err, BE_UNSUPPORTED, l);
		goto out;
	}
	rc = 0;
out:
	libxl_domain_config_dispose(&d);
	return rc;
}

/*
 * The guest list leaves dom0 out, and guest_is_host() knows only xl's
 * defaults; dom0's uuid here may differ, so it is asked for.
 */
static int
xen_clash_dom0(struct xen *x, const struct guest_info *want,
    struct backend_error *err)
{
	libxl_dominfo		 d0;
	struct guest_info	 host;
	int			 rc = 0;

	libxl_dominfo_init(&d0);
	if (libxl_domain_info(x->ctx, &d0, 0) == 0) {
		xen_info_from(x, &d0, &host);
		if (strcmp(host.uuid, want->uuid) == 0)
			rc = backend_fail(err, BE_CLASH, "uuid %s is this "
			    "host's dom0; dom0 is never a migration's target",
			    want->uuid);
	}
	libxl_dominfo_dispose(&d0);
	return rc;
}

static int
xen_clash(struct xen *x, const struct guest_info *want,
    struct backend_error *err)
{
	struct guest_info	*gs = NULL;
	char			 incoming[GUEST_NAME_MAX + 16];
	size_t			 n, i;
	int			 rc = 0;

	_Static_assert(sizeof(incoming) >= sizeof(want->name) +
	    sizeof("--incoming") - 1, "incoming holds any guest name");
	snprintf(incoming, sizeof(incoming), "%s--incoming", want->name);
	if (xen_list(x, &gs, &n, err) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		if (strcmp(gs[i].name, want->name) == 0 ||
		    strcmp(gs[i].name, incoming) == 0)
			rc = backend_fail(err, BE_CLASH, "a guest named %s "
			    "already exists here (domid %u)", gs[i].name,
			    gs[i].domid);
		else if (strcmp(gs[i].uuid, want->uuid) == 0)
			rc = backend_fail(err, BE_CLASH, "guest %s here has the "
			    "same uuid %s", gs[i].name, want->uuid);
	}
	free(gs);
	if (rc == 0)
		rc = xen_clash_dom0(x, want, err);
	return rc;
}

static int
xen_reserve(void *h, const struct guest_desc *desc, struct guest_info *got,
    struct backend_error *err)
{
	struct xen	*x = h;
	uint64_t	 free_bytes = 0;

	if (x->incoming_config != NULL)
		return backend_fail(err, BE_BAD_STATE, "this worker already "
		    "receives a guest");
	if (xen_type_supported(desc->info.type, err) == -1 ||
	    backend_check_not_host(&desc->info, err) == -1 ||
	    xen_clash(x, &desc->info, err) == -1 ||
	    xen_facts_check(x, desc, err) == -1 ||
	    xen_config_check(x, desc, err) == -1 ||
	    xen_free_memory(x, &free_bytes, err) == -1)
		return -1;
	if (free_bytes < desc->info.memory_bytes)
		return backend_fail(err, BE_NO_MEMORY, "%s needs %llu MiB, "
		    "this host has %llu MiB free or in dom0's balloon",
		    desc->info.name,
		    (unsigned long long)(desc->info.memory_bytes >> 20),
		    (unsigned long long)(free_bytes >> 20));
	if ((x->incoming_config = strdup(desc->config)) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	x->incoming = desc->info;
	x->incoming.domid = 0;	/* xl makes the domain when data flows */
	x->incoming.state = GUEST_STATE_RESERVED;
	*got = x->incoming;
	return 0;
}

static int
xen_restore(void *h, const char *name, int fd, int cancel_fd,
    struct backend_restore_result *res, struct backend_error *err)
{
	static const char *const args[] = { "migrate-receive", NULL };
	struct xen	*x = h;
	uint8_t		*hdr = NULL, head[4096];
	size_t		 hdr_len;
	ssize_t		 first;
	char		 why[XEN_XL_WHY_MAX];
	uint64_t	 t;
	int		 rc = -1;

	memset(res, 0, sizeof(*res));
	if (x->incoming_config == NULL || strcmp(name, x->incoming.name) != 0)
		return backend_fail(err, BE_BAD_STATE, "%s was not reserved",
		    name);
	if (xen_stream_xl_header(x->incoming_config, &hdr, &hdr_len) == -1) {
		backend_fail(err, BE_INTERNAL, "out of memory");
		goto out;
	}
	/*
	 * Wait for the stream before starting xl: a source that stops
	 * after the reservation (relocctl check, an abort) then costs
	 * nothing, not an xl started and failed.
	 */
	if ((first = read(fd, head, sizeof(head))) <= 0) {
		backend_fail(err, BE_STREAM, "the source sent no stream");
		goto out;
	}
	res->bytes = (uint64_t)first;
	x->incoming.state = GUEST_STATE_INCOMING;
	if (xen_xl_start(&x->xl, x->xl_path, args, 0, why, sizeof(why)) ||
	    xen_xl_write(&x->xl, hdr, hdr_len, why, sizeof(why)) ||
	    xen_xl_write(&x->xl, head, (size_t)first, why, sizeof(why)) ||
	    xen_xl_copy(&x->xl, fd, &res->bytes, why, sizeof(why)))
		goto failed;
	/*
	 * The stream is all xl's: what it does until "ready" (libxl
	 * restoring the last records, the devices) is our restore part.
	 */
	t = util_now_us();
	if (xen_xl_await_ready(&x->xl, XEN_RESTORE_TIMEOUT_MS, cancel_fd,
	    why, sizeof(why)))
		goto failed;
	pause_set(&res->pause, PAUSE_RESTORE, util_ms_since(&t));
	rc = 0;
	goto out;
failed:
	backend_fail(err, BE_STREAM, "%s", why);
	xen_xl_log_stderr(&x->xl, name, 50);
out:
	free(hdr);
	return rc;
}

static int
xen_unpause(void *h, const char *name, struct backend_error *err)
{
	struct xen	*x = h;
	libxl_dominfo	 info;
	uint32_t	 domid;
	char		 why[XEN_XL_WHY_MAX];
	int		 rc;

	if (x->xl.pid != -1 && strcmp(name, x->incoming.name) == 0) {
		rc = xen_xl_go(&x->xl, XEN_GO_TIMEOUT_MS, why, sizeof(why));
		xen_xl_log_stderr(&x->xl, name, 50);
		if (rc == -1)
			return backend_fail(err, BE_INTERNAL, "%s", why);
		free(x->incoming_config);
		x->incoming_config = NULL;
		return 0;
	}
	if (xen_find(x, name, &domid, &info, err) == -1)
		return -1;
	libxl_dominfo_dispose(&info);
	if (libxl_domain_unpause(x->ctx, domid, NULL) != 0)
		return backend_fail(err, BE_INTERNAL, "libxl cannot unpause "
		    "%s", name);
	return 0;
}

static int
xen_destroy_domain(struct xen *x, const char *name, struct backend_error *err)
{
	libxl_dominfo	info;
	uint32_t	domid;

	if (xen_find(x, name, &domid, &info, err) == -1)
		return -1;
	libxl_dominfo_dispose(&info);
	if (domid == 0)
		return backend_fail(err, BE_BAD_STATE, "refusing to destroy "
		    "dom0");
	if (libxl_domain_destroy(x->ctx, domid, NULL) != 0)
		return backend_fail(err, BE_INTERNAL, "libxl could not destroy "
		    "%s (domid %u); try xl destroy %u", name, domid, domid);
	return 0;
}

static int
xen_destroy(void *h, const char *name, struct backend_error *err)
{
	struct xen		*x = h;
	struct backend_error	 ignored;
	char			 incoming[GUEST_NAME_MAX + 16];

	if (x->incoming_config != NULL && strcmp(name, x->incoming.name) == 0) {
		/* Without "go" xl destroys its own copy, as after a lost
		 * sender; whatever it leaves behind goes here. */
		xen_xl_abandon(&x->xl, XEN_GO_TIMEOUT_MS);
		xen_xl_log_stderr(&x->xl, name, 50);
		free(x->incoming_config);
		x->incoming_config = NULL;
		_Static_assert(sizeof(incoming) >= sizeof(x->incoming.name) +
		    sizeof("--incoming") - 1, "incoming holds any name");
		snprintf(incoming, sizeof(incoming), "%s--incoming",
		    x->incoming.name);
		(void)xen_destroy_domain(x, incoming, &ignored);
		return 0;
	}
	return xen_destroy_domain(x, name, err);
}

static int
xen_resume(void *h, const char *name, struct backend_error *err)
{
	struct xen	*x = h;
	libxl_dominfo	 info;
	uint32_t	 domid;

	if (xen_find(x, name, &domid, &info, err) == -1)
		return -1;
	libxl_dominfo_dispose(&info);
	if (libxl_domain_resume(x->ctx, domid, 1, NULL) != 0)
		return backend_fail(err, BE_INTERNAL, "libxl could not resume "
		    "%s (domid %u); it is still suspended here: see xl dmesg "
		    "and the guest's console", name, domid);
	return 0;
}

/* Auto-converge on Xen: the scheduler's cap, percent of one CPU. */
static int
xen_set_throttle(void *h, const char *name, unsigned int percent,
    struct backend_error *err)
{
	struct xen			*x = h;
	libxl_domain_sched_params	 p;
	libxl_dominfo			 info;
	uint32_t			 domid, vcpus;
	int				 rc = -1;

	if (xen_find(x, name, &domid, &info, err) == -1)
		return -1;
	vcpus = info.vcpu_online > 0 ? info.vcpu_online : 1;
	libxl_dominfo_dispose(&info);
	libxl_domain_sched_params_init(&p);
	if (libxl_domain_sched_params_get(x->ctx, domid, &p) != 0) {
		backend_fail(err, BE_UNSUPPORTED, "cannot read %s's scheduler "
		    "parameters", name);
		goto out;
	}
	if (!x->capped) {
		x->saved_cap = p.cap;
		x->capped = 1;
	}
	if (percent >= 100) {
		p.cap = x->saved_cap;
		x->capped = 0;
	} else
		p.cap = (int)(percent * vcpus);
	if (libxl_domain_sched_params_set(x->ctx, domid, &p) != 0) {
		backend_fail(err, BE_UNSUPPORTED, "cannot cap %s's CPU (the "
		    "credit or credit2 scheduler is needed to throttle)", name);
		goto out;
	}
	rc = 0;
out:
	libxl_domain_sched_params_dispose(&p);
	return rc;
}

/*
 * relocd's note on a guest (backend.h) is libxl userdata, as xl keeps
 * its own: it lives in /var/lib/xen with the domain and goes with it.
 * A guest still being received has no domain yet: xl creates it from
 * the stream, and destroys it itself if the stream breaks (a crashed
 * worker closes it), so its note is only kept here, in memory.
 */
#define XEN_NOTE_USERID	"relocd-note"

static int
xen_set_note(void *h, const char *name, const char *note,
    struct backend_error *err)
{
	struct xen	*x = h;
	libxl_dominfo	 info;
	uint32_t	 domid;
	int		 r;

	if (x->incoming_config != NULL && strcmp(name, x->incoming.name) == 0)
		return 0;
	if (xen_find(x, name, &domid, &info, err) == -1)
		return -1;
	libxl_dominfo_dispose(&info);
	if (note == NULL) {
		uint8_t	*old = NULL;
		int	 len = 0;

		/* Clearing what is not there is not an error. */
		if (libxl_userdata_retrieve(x->ctx, domid, XEN_NOTE_USERID,
		    &old, &len) != 0 || old == NULL || len <= 0) {
			free(old);
			return 0;
		}
		free(old);
		r = libxl_userdata_unlink(x->ctx, domid, XEN_NOTE_USERID);
	} else
		r = libxl_userdata_store(x->ctx, domid, XEN_NOTE_USERID,
		    (const uint8_t *)note, (int)strlen(note) + 1);
	if (r != 0)
		return backend_fail(err, BE_INTERNAL, "libxl cannot %s the "
		    "note on %s", note == NULL ? "remove" : "store", name);
	return 0;
}

static int
xen_get_note(void *h, const char *name, char *buf, size_t max,
    struct backend_error *err)
{
	struct xen	*x = h;
	libxl_dominfo	 info;
	uint32_t	 domid;
	uint8_t		*data = NULL;
	int		 len = 0;

	if (xen_find(x, name, &domid, &info, err) == -1)
		return -1;
	libxl_dominfo_dispose(&info);
	if (libxl_userdata_retrieve(x->ctx, domid, XEN_NOTE_USERID, &data,
	    &len) != 0 || data == NULL || len <= 0) {
		free(data);
		return backend_fail(err, BE_NOT_FOUND, "%s has no note", name);
	}
	/* Ours, but read back from disk: bounded and terminated. */
	if ((size_t)len >= max) {
		free(data);
		return backend_fail(err, BE_INTERNAL, "%s's note is longer "
		    "than %zu bytes", name, max - 1);
	}
	snprintf(buf, max, "%.*s", len, (const char *)data);
	free(data);
	return 0;
}

const struct backend_ops backend_xen_ops = {
	.name = "xen",
	.open = xen_open,
	.close = xen_close,
	.list = xen_list,
	.lookup = xen_lookup,
	.free_memory = xen_free_memory,
	.describe = xen_describe,
	.reserve = xen_reserve,
	.save = xen_save,
	.restore = xen_restore,
	.resume = xen_resume,
	.unpause = xen_unpause,
	.destroy = xen_destroy,
	.set_throttle = xen_set_throttle,
	.set_note = xen_set_note,
	.get_note = xen_get_note,
	.create = NULL
};
