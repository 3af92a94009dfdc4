// SPDX-License-Identifier: ISC
/*
 * What SIGTERM does (systemctl stop, and the restart a package upgrade
 * runs).  The rule is DESIGN section 5's invariant applied to a stop: a
 * migration that has not reached "go" still has a source that can run
 * the guest, so it is cancelled and the guest resumes there, whichever
 * side is stopping; one past "go" belongs to the destination and is
 * finished (or, on the source, settled by asking the destination)
 * within STOP_GRACE_MS.  Nothing new starts meanwhile.  A second
 * SIGTERM, or the end of the grace, kills what is left and exits.
 *
 * Runs in the parent.
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "conf.h"
#include "log.h"
#include "parent.h"
#include "parent_job.h"
#include "proto.h"
#include "util.h"

#define STOP_REASON_SOURCE	"relocd is stopping on the source"

/*
 * An incoming migration before go: the destination's network child is
 * dropped, which is what the source sees when a destination dies before
 * "prepared": it resumes its guest.  Asking the network child to say so
 * would have to wait for its next frame, and the stream it reads may
 * take minutes; the worker sees its stream end and destroys the
 * half-built guest.  From "prepared" on, the source may already have
 * committed: only its go or abort settles that, so the job finishes.
 */
static void
stop_incoming(struct parent *p, struct job *j)
{
	if (j->state >= JOB_PREPARED) {
		log_info("stopping: migration %s of %s is prepared: waiting "
		    "for the source's word", j->id, j->guest.name);
		return;
	}
	log_info("stopping: migration %s of %s is not past go: dropping it; "
	    "the source resumes the guest", j->id, j->guest.name);
	STRLCPY_ARRAY(j->result, "relocd is stopping on the destination");
	if (j->net_pid > 0)
		kill(j->net_pid, SIGTERM);
	else
		parent_job_cmd(p, j, PHASE_ABORTED, PE_ABORTED, j->result, -1);
}

/* Cancels what can be cancelled; the rest finishes within the grace. */
static void
stop_jobs(struct parent *p)
{
	struct job	*j;
	int		 i;

	for (i = 0; i < JOBS_MAX; i++) {
		j = &p->jobs[i];
		if (!parent_job_active(j))
			continue;
		if (j->role == JOB_OUT && parent_job_abortable(j)) {
			log_info("stopping: migration %s of %s is not past go: "
			    "cancelling it", j->id, j->guest.name);
			STRLCPY_ARRAY(j->result, STOP_REASON_SOURCE);
			parent_job_abort(p, j, PE_ABORTED, STOP_REASON_SOURCE);
		} else if (j->role == JOB_IN && parent_job_abortable(j))
			stop_incoming(p, j);
		else if (j->role == JOB_XL)
			/*
			 * xl's own commit runs inside the stream, which we
			 * never parse: we cannot tell whether it passed go.
			 */
			log_info("stopping: xl-receive %s runs on: relocd "
			    "cannot tell whether xl passed go", j->id);
		else
			log_info("stopping: %s %s%s%s is %s: letting it finish",
			    j->what, j->id, j->guest.name[0] ? " of " : "",
			    j->guest.name, parent_job_state_name(j->state));
	}
}

void
parent_stop_begin(struct parent *p)
{
	size_t	i;

	if (p->stopping) {
		log_warnx("stopping: a second SIGTERM: ending what is left "
		    "now");
		p->stop_deadline = util_now_ms();
		return;
	}
	p->stopping = 1;
	p->stop_deadline = util_now_ms() + STOP_GRACE_MS;
	sd_notify(0, "STOPPING=1");
	log_info("stopping: %d migrations running", parent_job_running(p));
	listen_close(p->listeners, p->nlisteners);
	p->nlisteners = 0;
	/* Connections waiting for a host name are refused, unread. */
	parent_admit_stop(p);
	for (i = 0; i < CHILDREN_MAX; i++)
		if (p->children[i].pid != 0 &&
		    p->children[i].kind == CHILD_NET &&
		    !p->children[i].authenticated)
			kill(p->children[i].pid, SIGTERM);
	stop_jobs(p);
}

static int
stop_children_left(const struct parent *p)
{
	size_t	i;

	for (i = 0; i < CHILDREN_MAX; i++)
		if (p->children[i].pid != 0)
			return 1;
	return 0;
}

/* The last stage of a stop: kill stragglers after the grace period. */
void
parent_stop_maybe_exit(struct parent *p)
{
	size_t	i;

	if (!p->stopping)
		return;
	if (stop_children_left(p) && util_now_ms() < p->stop_deadline)
		return;
	for (i = 0; i < CHILDREN_MAX; i++)
		if (p->children[i].pid != 0) {
			log_warnx("stopping: killing %s %d",
			    p->children[i].kind == CHILD_NET ?
			    "network child" : "worker",
			    (int)p->children[i].pid);
			kill(p->children[i].pid, SIGKILL);
		}
	if (p->ctl_fd != -1)
		unlink(p->conf->control_socket);
	parent_unit_close(p);
	log_info("stopped");
	exit(0);
}
