// SPDX-License-Identifier: ISC
/*
 * Receiving workers in units of their own.  A worker that brings a guest
 * to this host (a migration's receive, an xl-receive for relocd-xl, a
 * restore) runs xl, which leaves the guest's monitoring process and, for
 * HVM, its QEMU behind; inside relocd.service they would share relocd's
 * sandbox and cgroup and die with the next restart.  Under systemd the
 * parent therefore has systemd start relocd-receive@TOKEN.service over
 * D-Bus and hands that instance the worker's two descriptors
 * (handoff.c); the worker then runs there, unchanged, and talks to us
 * over its message socket as any worker does.  A systemd-run --scope
 * would not do: a scope is our child and keeps our namespaces, seccomp
 * filter and capabilities.
 *
 * The parent cannot wait for a process it did not fork: it watches the
 * worker through a pidfd, and takes its last report, not an exit status,
 * as the outcome.
 *
 * Without systemd (no INVOCATION_ID, not booted with systemd) workers
 * start as before.  RELOCD_RECEIVE_UNIT_CMD names a program run with the
 * token instead of the D-Bus call, so the handoff is tested where no
 * systemd runs (tests/regress/receive-unit.sh).
 *
 * Runs in the parent.
 */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "conf.h"
#include "handoff.h"
#include "log.h"
#include "msg.h"
#include "parent.h"
#include "parent_job.h"
#include "proto.h"
#include "util.h"
#include "worker.h"

#define UNIT_TEMPLATE		"relocd-receive"
#define UNIT_CMD_ENV		"RELOCD_RECEIVE_UNIT_CMD"
#define UNIT_OFF_ENV		"RELOCD_RECEIVE_UNITS"

/* Decides once, at start, where receiving workers run. */
void
parent_unit_init(struct parent *p)
{
	char	path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	char	err[256];
	int	via_cmd = getenv(UNIT_CMD_ENV) != NULL;

	p->unit_fd = -1;
	/*
	 * The administrator's way back to workers as our children (a unit
	 * drop-in with Environment=RELOCD_RECEIVE_UNITS=no), should a host
	 * need what relocd-receive@.service does not give.
	 */
	if (getenv(UNIT_OFF_ENV) != NULL &&
	    strcmp(getenv(UNIT_OFF_ENV), "no") == 0) {
		log_info("receiving workers stay in relocd's unit (%s=no)",
		    UNIT_OFF_ENV);
		return;
	}
	/* Only the xen backend runs a toolstack whose processes stay. */
	if (!via_cmd && (getenv("INVOCATION_ID") == NULL || sd_booted() <= 0 ||
	    p->conf->backend != CONF_BACKEND_XEN))
		return;
	if (handoff_socket_path(p->conf->control_socket, path,
	    sizeof(path)) == -1 ||
	    handoff_listen(path, &p->unit_fd, err, sizeof(err)) == -1) {
		log_warnx("receiving workers stay in relocd's unit: %s",
		    path[0] ? err : "the control socket's path is too long");
		return;
	}
	p->unit_via_cmd = via_cmd;
	log_info("receiving workers run in %s@.service units (%s)",
	    UNIT_TEMPLATE, path);
}

/*
 * Every worker that may create or destroy a guest's devices: libxl runs
 * the hotplug scripts (vif-bridge, block's losetup) in its caller, and
 * relocd.service lacks what they need.  A source's send destroys its
 * copy after the commit, a save and a resolve may too, and a cleanup or
 * an activation that fails destroys a half-built guest.  A pre-flight
 * (relocctl check, and each of evacuate's) is a send that stops after
 * the reservation and touches no device: it stays our child, and
 * spares systemd a unit per question.
 */
bool
parent_unit_wanted(const struct parent *p, const struct msg_worker_start *st)
{
	if (p->unit_fd == -1)
		return false;
	switch (st->op) {
	case WORKER_OP_SEND:
		return !st->policy.check_only;
	case WORKER_OP_RECEIVE:
	case WORKER_OP_XL_RECEIVE:
	case WORKER_OP_RESTORE:
	case WORKER_OP_SAVE:
	case WORKER_OP_RESOLVE:
	case WORKER_OP_CLEANUP:
	case WORKER_OP_ACTIVATE:
		return true;
	default:
		return false;
	}
}

/*
 * systemctl start, over D-Bus, bounded; err says why not.  *transport_r
 * says whether the bus itself failed (no connection, a broken pipe, no
 * answer in time) rather than systemd refusing the job.
 */
static int
unit_start_dbus_once(const char *name, int *transport_r, char *err,
    size_t errlen)
{
	sd_bus		*bus = NULL;
	sd_bus_error	 e = SD_BUS_ERROR_NULL;
	sigset_t	 old;
	int		 r;

	/*
	 * sd-bus returns EINTR as the call's failure: a worker that ends
	 * meanwhile (evacuate's pre-flight, just before its migration's
	 * send starts here) would fail the migration.
	 */
	parent_signals_hold(&old);
	if ((r = sd_bus_open_system(&bus)) >= 0 &&
	    (r = sd_bus_set_method_call_timeout(bus,
	    (uint64_t)UNIT_START_CALL_MS * 1000)) >= 0)
		r = sd_bus_call_method(bus, "org.freedesktop.systemd1",
		    "/org/freedesktop/systemd1",
		    "org.freedesktop.systemd1.Manager", "StartUnit", &e, NULL,
		    "ss", name, "fail");
	*transport_r = r < 0 && !sd_bus_error_is_set(&e);
	if (r < 0)
		snprintf(err, errlen, "starting %s: %s", name,
		    e.message != NULL ? e.message : strerror(-r));
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	parent_signals_release(&old);
	return r < 0 ? -1 : 0;
}

/*
 * A bus that failed gets one more try on a new connection: a migration
 * should not fail for one dropped connection.  The retry is safe even if
 * the first call did start the instance: a second StartUnit finds it
 * active and does nothing, and one that has already ended started with
 * a token that is spent, so handoff.c refuses whatever starts again.
 */
static int
unit_start_dbus(const char *name, char *err, size_t errlen)
{
	int	transport;

	if (unit_start_dbus_once(name, &transport, err, errlen) == 0)
		return 0;
	if (!transport)
		return -1;
	log_warnx("%s; trying once more", err);
	return unit_start_dbus_once(name, &transport, err, errlen);
}

/* The test stand-in: RELOCD_RECEIVE_UNIT_CMD TOKEN, not waited for. */
static int
unit_start_cmd(const char *token, char *err, size_t errlen)
{
	const char	*cmd = getenv(UNIT_CMD_ENV);
	pid_t		 pid;

	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		closefrom(3);
		execl(cmd, cmd, token, (char *)NULL);
		_exit(127);
	}
	return 0;
}

_Static_assert(HANDOFF_START_MS < NET_RESERVE_WAIT_MS, "a unit that fails to "
    "start is reported before the source stops waiting for the answer");

/*
 * Starts job j's worker in a unit: st goes ahead into the message
 * socket, whose other end, with data_fd, waits for the unit's process.
 */
int
parent_unit_start_worker(struct parent *p, struct job *j,
    const struct msg_worker_start *st, int data_fd)
{
	struct handoff_slot	*s = NULL;
	char			 err[400], name[HANDOFF_UNIT_NAME_MAX];
	int			 sv[2] = { -1, -1 }, fds[2];

	if (msg_socketpair(sv) == -1) {
		log_warn("%s %s: socket pair", j->what, j->id);
		return -1;
	}
	fds[0] = sv[1];
	fds[1] = data_fd;
	if (handoff_offer(p->handoffs, HANDOFF_SLOTS_MAX, fds,
	    data_fd != -1 ? 2 : 1, parent_job_index(p, j),
	    p->unit_via_cmd ? NULL : UNIT_TEMPLATE,
	    util_now_ms() + HANDOFF_START_MS, &s) == -1) {
		log_warn("%s %s: no handoff slot", j->what, j->id);
		goto fail;
	}
	close(sv[1]);
	sv[1] = -1;
	if (msg_send(sv[0], MSG_WORKER_START, st, sizeof(*st), -1) == -1) {
		log_warn("%s %s: the worker's start message", j->what, j->id);
		goto fail;
	}
	if (handoff_unit_name(UNIT_TEMPLATE, s->token, name,
	    sizeof(name)) == -1 || (p->unit_via_cmd ?
	    unit_start_cmd(s->token, err, sizeof(err)) :
	    unit_start_dbus(name, err, sizeof(err))) == -1) {
		log_warnx("%s %s: %s", j->what, j->id, err);
		goto fail;
	}
	log_info("%s %s: its worker starts in %s", j->what, j->id, name);
	j->unit_fd = sv[0];
	return 0;
fail:
	if (s != NULL)
		handoff_drop(s);
	if (sv[1] != -1)
		close(sv[1]);
	close(sv[0]);
	return -1;
}

static int
unit_pidfd(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* A unit's process connected: serve it, and adopt it as j's worker. */
void
parent_unit_accept(struct parent *p)
{
	struct handoff_peer	 peer;
	struct child		*c;
	struct job		*j;
	char			 err[400];
	int			 n;

	for (n = 0; n < HANDOFF_BACKLOG; n++) {
		if (handoff_serve(p->unit_fd, p->handoffs, HANDOFF_SLOTS_MAX,
		    &peer, err, sizeof(err)) == -1) {
			if (err[0] != '\0')
				log_warnx("receive unit: %s", err);
			if (err[0] == '\0')
				return;
			continue;
		}
		j = &p->jobs[peer.cookie];
		if (!parent_job_active(j) || j->unit_fd == -1 ||
		    (c = parent_child_new(p, peer.pid, CHILD_WORKER,
		    j->unit_fd)) == NULL) {
			log_warnx("receive unit: pid %d came for a job that "
			    "ended; stopping it", (int)peer.pid);
			kill(peer.pid, SIGTERM);
			continue;
		}
		c->job = peer.cookie;
		c->in_unit = 1;
		c->pidfd = unit_pidfd(peer.pid);
		j->unit_fd = -1;
		j->worker_pid = peer.pid;
		log_info("%s %s: worker %d runs in its unit", j->what, j->id,
		    (int)peer.pid);
		/* Without one, parent_unit_exited asks kill(2) each turn. */
		if (c->pidfd == -1)
			log_warn("%s %s: pidfd of worker %d", j->what, j->id,
			    (int)peer.pid);
	}
}

/* A unit that never came: its job cannot go on. */
void
parent_unit_tick(struct parent *p)
{
	struct job	*j;
	int		 i;

	while ((i = handoff_expired(p->handoffs, HANDOFF_SLOTS_MAX,
	    util_now_ms())) != -1) {
		j = &p->jobs[p->handoffs[i].cookie];
		log_warnx("receive unit %s@%s.service did not connect within "
		    "%d s; see journalctl -u it", UNIT_TEMPLATE,
		    p->handoffs[i].token, HANDOFF_START_MS / 1000);
		handoff_drop(&p->handoffs[i]);
		if (!parent_job_active(j) || j->unit_fd == -1)
			continue;
		close(j->unit_fd);
		j->unit_fd = -1;
		parent_job_to_net(p, j, PHASE_ABORTED, PE_INTERNAL,
		    "the receiving worker did not start", -1);
		parent_job_end(p, j, 0, PE_INTERNAL, "the receiving worker's "
		    "unit did not start; see relocd's log");
	}
}

/*
 * Has worker c, which runs in a unit, exited?  Its status is not ours
 * to read: a worker that sent its last report ended as it says, one
 * that did not is taken as failed.
 */
bool
parent_unit_exited(struct child *c, int *status_r)
{
	struct pollfd	pfd = { .fd = c->pidfd, .events = POLLIN };

	if (c->pidfd != -1 && poll(&pfd, 1, 0) != 1)
		return false;
	/* No pidfd (a kernel before 5.3): the pid, whose reuse is the risk. */
	if (c->pidfd == -1 && (kill(c->pid, 0) == 0 || errno != ESRCH))
		return false;
	*status_r = W_EXITCODE(0, 0);
	return true;
}

/* At exit: no stale socket for the next relocd to find. */
void
parent_unit_close(struct parent *p)
{
	char	path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];

	if (p->unit_fd == -1)
		return;
	close(p->unit_fd);
	p->unit_fd = -1;
	if (handoff_socket_path(p->conf->control_socket, path,
	    sizeof(path)) == 0)
		unlink(path);
}

