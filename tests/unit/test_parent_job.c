// SPDX-License-Identifier: ISC
/*
 * Unit tests for the parent's job state machine (parent_job.c, and the
 * destination's and source's relays in parent_in.c and parent_out.c):
 * the job table, which aborts the states allow (parent_job_abortable:
 * never one that would resume a source past its commit or a destination
 * past "go"), outcomes decided on typed fields, and the one builder of a
 * worker's start message.
 *
 * The fixture is a struct parent with no processes behind it.  A job's
 * worker and network child are socket pairs registered as children
 * under pids that no process has, so what the parent tells them is read
 * back from the other ends; no code path here signals a child.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "msg.h"
#include "parent.h"
#include "parent_job.h"
#include "proto.h"
#include "unit.h"
#include "util.h"

/* Pids of no process: parent_child_find matches them, nothing kills. */
#define FAKE_WORKER_PID	((pid_t)0x7ffffff0)
#define FAKE_NET_PID	((pid_t)0x7ffffff1)

/*
 * parent_job_start_worker execs the running binary as a worker: in this
 * test, the test itself.  Were a start message built where none should
 * be, that child must not run every test again and spawn in turn: the
 * first run marks the environment, which a child inherits, and a child
 * exits at once, before main; the test that caused it fails on its
 * checks.  (The worker's own flags, -W or -Wd, are not relied on.)
 */
#define TEST_RUNNING_ENV	"RELOCD_TEST_PARENT_JOB_RUNNING"

__attribute__((constructor)) static void
not_a_worker(void)
{
	if (getenv(TEST_RUNNING_ENV) != NULL)
		_exit(127);
	setenv(TEST_RUNNING_ENV, "1", 1);
}

static struct parent	 P;
static struct conf	 C;
static char		 last_log[LOG_LINE_MAX];

static void
capture(int priority, const char *line)
{
	(void)priority;
	snprintf(last_log, sizeof(last_log), "%s", line);
}

/* The other ends of the fake worker's and network child's sockets. */
static int	 worker_end = -1, net_end = -1;

static void
fixture(void)
{
	size_t	i;

	for (i = 0; i < CHILDREN_MAX; i++)
		if (P.children[i].pid != 0 && P.children[i].fd != -1)
			close(P.children[i].fd);
	for (i = 0; i < JOBS_MAX; i++) {
		free(P.jobs[i].desc);
		if (P.jobs[i].state != JOB_FREE && P.jobs[i].data_wr != -1)
			close(P.jobs[i].data_wr);
	}
	if (worker_end != -1)
		close(worker_end);
	if (net_end != -1)
		close(net_end);
	worker_end = net_end = -1;
	memset(&P, 0, sizeof(P));
	memset(&C, 0, sizeof(C));
	C.backend = CONF_BACKEND_SIM;
	C.sim_dir = "/run/relocd/sim";
	C.xl_command = "/usr/sbin/xl";
	C.max_migrations = 4;
	P.conf = &C;
	log_set_sink(capture);
}

/* A job in role and state, with a worker and a network child. */
static struct job *
job_in_state(int role, int state, const char *id)
{
	struct child	*c;
	struct job	*j;
	int		 sv[2];

	if ((j = parent_job_new(&P, role, "migrate")) == NULL)
		return NULL;
	j->state = state;
	strlcpy(j->id, id, sizeof(j->id));
	strlcpy(j->guest.name, "g1", sizeof(j->guest.name));
	if (msg_socketpair(sv) == 0 &&
	    (c = parent_child_new(&P, FAKE_WORKER_PID, CHILD_WORKER,
	    sv[0])) != NULL) {
		c->job = parent_job_index(&P, j);
		j->worker_pid = FAKE_WORKER_PID;
		worker_end = sv[1];
	}
	if (msg_socketpair(sv) == 0 &&
	    (c = parent_child_new(&P, FAKE_NET_PID, CHILD_NET,
	    sv[0])) != NULL) {
		c->job = parent_job_index(&P, j);
		j->net_pid = FAKE_NET_PID;
		net_end = sv[1];
	}
	return j;
}

/* The phase of the next step told to fd's process, or -1 if none. */
static int
told(int fd)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	struct msg_step	 st;
	uint32_t	 type;
	size_t		 len;

	if (fd == -1 || poll(&pfd, 1, 0) != 1 ||
	    msg_recv(fd, &type, &st, sizeof(st), &len, NULL) != 0)
		return -1;
	return st.phase;
}

static const char *const ID1 = "0123456789abcdef0123456789abcdef";
static const char *const ID2 = "fedcba9876543210fedcba9876543210";

static void
test_state_names(void)
{
	CHECK_STR(parent_job_state_name(JOB_FREE), "free");
	CHECK_STR(parent_job_state_name(JOB_GO), "go");
	CHECK_STR(parent_job_state_name(JOB_ENDED), "ended");
	CHECK_STR(parent_job_state_name(JOB_ENDED + 1), "?");
	CHECK_STR(parent_job_state_name(-1), "?");
}

static void
test_table_add_find(void)
{
	struct job	*a, *b;

	fixture();
	a = parent_job_new(&P, JOB_OUT, "migrate");
	b = parent_job_new(&P, JOB_LOCAL, "save");
	CHECK(a != NULL && b != NULL && a != b);
	if (a == NULL || b == NULL)
		return;
	CHECK_INT(a->state, JOB_STARTING);
	CHECK_INT(a->data_wr, -1);
	CHECK_INT(a->ctl, -1);
	CHECK_INT(a->stats.throttle, 100);
	strlcpy(a->id, ID1, sizeof(a->id));
	strlcpy(b->id, ID2, sizeof(b->id));
	CHECK(parent_job_find(&P, ID1) == a);
	CHECK(parent_job_find(&P, ID2) == b);
	CHECK(parent_job_find(&P, "00000000000000000000000000000000") ==
	    NULL);
	CHECK(parent_job_active(a));
	/* Local jobs do not count against relocd-max-migrations. */
	CHECK_INT(parent_job_running(&P), 1);
	parent_job_end(&P, a, 1, PE_NONE, "done");
	CHECK(!parent_job_active(a));
	CHECK_INT(parent_job_running(&P), 0);
	/* An ended job is still found (relocctl status shows it). */
	CHECK(parent_job_find(&P, ID1) == a);
	/* A freed one is not. */
	a->state = JOB_FREE;
	CHECK(parent_job_find(&P, ID1) == NULL);
}

/* A full table reuses the job that ended first, never a running one. */
static void
test_table_full(void)
{
	struct job	*j;
	int		 i;

	fixture();
	for (i = 0; i < JOBS_MAX; i++)
		CHECK(parent_job_new(&P, JOB_OUT, "migrate") != NULL);
	CHECK(parent_job_new(&P, JOB_OUT, "migrate") == NULL);
	P.jobs[7].state = JOB_ENDED;
	P.jobs[7].ended_ms = 500;
	P.jobs[3].state = JOB_ENDED;
	P.jobs[3].ended_ms = 100;
	P.jobs[9].state = JOB_ENDED;
	P.jobs[9].ended_ms = 300;
	P.jobs[3].desc = calloc(1, sizeof(*P.jobs[3].desc));
	j = parent_job_new(&P, JOB_IN, "receive");
	CHECK(j == &P.jobs[3]);
	if (j != NULL) {
		CHECK_INT(j->state, JOB_STARTING);
		CHECK_INT(j->role, JOB_IN);
		CHECK(j->desc == NULL);
	}
	CHECK(parent_job_new(&P, JOB_IN, "receive") == &P.jobs[9]);
}

/* An ending is recorded once, and closes the job's end of the pipe. */
static void
test_end_once(void)
{
	struct job	*j;
	int		 pfd[2];

	fixture();
	if ((j = parent_job_new(&P, JOB_IN, "receive")) == NULL ||
	    pipe(pfd) == -1) {
		CHECK(0);
		return;
	}
	j->data_wr = pfd[1];
	parent_job_end(&P, j, 0, PE_ABORTED, "first");
	CHECK_INT(j->state, JOB_ENDED);
	CHECK_INT(j->data_wr, -1);
	CHECK(fcntl(pfd[1], F_GETFD) == -1 && errno == EBADF);
	parent_job_end(&P, j, 1, PE_NONE, "second");
	CHECK_INT(j->ok, 0);
	CHECK_INT(j->code, PE_ABORTED);
	CHECK_STR(j->result, "first");
	close(pfd[0]);
}

/* DESIGN section 5's invariant, for every role and state. */
static void
test_abortable(void)
{
	static const int	roles[] = { JOB_IN, JOB_OUT, JOB_LOCAL, JOB_XL };
	struct job		j;
	size_t			r;
	int			s, want;

	for (r = 0; r < sizeof(roles) / sizeof(roles[0]); r++)
		for (s = JOB_FREE; s <= JOB_ENDED; s++) {
			memset(&j, 0, sizeof(j));
			j.role = roles[r];
			j.state = s;
			if (s == JOB_FREE || s == JOB_ENDED)
				want = 0;
			else if (roles[r] == JOB_OUT)
				want = s < JOB_COMMITTED;
			else
				want = s < JOB_GO;
			CHECK_INT(parent_job_abortable(&j), want);
		}
	/* Spelled out: past its commit a source cannot be resumed. */
	memset(&j, 0, sizeof(j));
	j.role = JOB_OUT;
	j.state = JOB_PREPARED;
	CHECK(parent_job_abortable(&j));
	j.state = JOB_COMMITTED;
	CHECK(!parent_job_abortable(&j));
	j.state = JOB_IN_DOUBT;
	CHECK(!parent_job_abortable(&j));
	j.role = JOB_IN;
	j.state = JOB_PREPARED;
	CHECK(parent_job_abortable(&j));
	j.state = JOB_GO;
	CHECK(!parent_job_abortable(&j));
}

/* relocctl cancel: until the commit, and once. */
static void
test_cancel(void)
{
	static const int	 late[] = { JOB_COMMITTED, JOB_GO,
				    JOB_IN_DOUBT };
	struct job		*j;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
		fixture();
		if ((j = job_in_state(JOB_OUT, late[i], ID1)) == NULL) {
			CHECK(0);
			return;
		}
		err[0] = '\0';
		CHECK_INT(parent_job_cancel(&P, ID1, err, sizeof(err)), -1);
		CHECK(strstr(err, "too late") != NULL);
		CHECK_INT(told(worker_end), -1);
		CHECK_INT(told(net_end), -1);
		CHECK_INT(j->aborting, 0);
	}
	fixture();
	if ((j = job_in_state(JOB_OUT, JOB_STREAMING, ID1)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_INT(parent_job_cancel(&P, ID1, err, sizeof(err)), 0);
	CHECK_INT(told(worker_end), PHASE_ABORTED);
	CHECK_INT(told(net_end), PHASE_ABORTED);
	CHECK_STR(j->result, "cancelled by relocctl");
	/* The worker hears abort once: a second one could reset the pair. */
	CHECK_INT(parent_job_cancel(&P, ID1, err, sizeof(err)), 0);
	CHECK_INT(told(worker_end), -1);
	/* Only outgoing migrations are ours to cancel. */
	fixture();
	if (job_in_state(JOB_IN, JOB_STREAMING, ID1) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_INT(parent_job_cancel(&P, ID1, err, sizeof(err)), -1);
	CHECK(strstr(err, "no running outgoing migration") != NULL);
	CHECK_INT(told(worker_end), -1);
	CHECK_INT(parent_job_cancel(&P, ID2, err, sizeof(err)), -1);
}

static void
net_step(struct job *j, int phase, const char *text)
{
	struct msg_step	st;

	memset(&st, 0, sizeof(st));
	st.phase = phase;
	strlcpy(st.text, text, sizeof(st.text));
	parent_in_net_step(&P, j, &st);
}

/* Destination: "go" only after "prepared"; no abort after "go". */
static void
test_destination_go(void)
{
	struct job	*j;

	fixture();
	if ((j = job_in_state(JOB_IN, JOB_STREAMING, ID1)) == NULL) {
		CHECK(0);
		return;
	}
	net_step(j, PHASE_GO, "");
	CHECK_INT(j->state, JOB_STREAMING);
	CHECK_INT(told(worker_end), -1);
	j->state = JOB_PREPARED;
	net_step(j, PHASE_GO, "");
	CHECK_INT(j->state, JOB_GO);
	CHECK_INT(told(worker_end), PHASE_GO);
	/* The guest is ours now: the source's abort changes nothing. */
	net_step(j, PHASE_ABORTED, "changed my mind");
	CHECK_INT(told(worker_end), -1);
	CHECK_INT(j->state, JOB_GO);
	CHECK_INT(j->aborting, 0);
}

static void
test_destination_abort_before_go(void)
{
	struct job	*j;

	fixture();
	if ((j = job_in_state(JOB_IN, JOB_PREPARED, ID1)) == NULL) {
		CHECK(0);
		return;
	}
	net_step(j, PHASE_ABORTED, "cancelled");
	CHECK_INT(told(worker_end), PHASE_ABORTED);
	CHECK_INT(j->aborting, 1);
}

/* A lost connection aborts a destination before "go", not after. */
static void
test_destination_net_gone(void)
{
	struct child	*c;
	struct job	*j;
	int		 s;

	for (s = JOB_PREPARED; s <= JOB_GO; s++) {
		fixture();
		if ((j = job_in_state(JOB_IN, s, ID1)) == NULL ||
		    (c = parent_child_find(&P, FAKE_NET_PID)) == NULL) {
			CHECK(0);
			return;
		}
		parent_job_child_exited(&P, c, 0);
		CHECK_INT(j->net_pid, 0);
		CHECK_INT(told(worker_end), s == JOB_GO ? -1 : PHASE_ABORTED);
		CHECK(parent_job_active(j));
	}
}

static void
worker_aborted(struct job *j, int code, int where, const char *text)
{
	struct msg_step	st;

	memset(&st, 0, sizeof(st));
	st.phase = PHASE_ABORTED;
	st.code = code;
	st.where = where;
	strlcpy(st.text, text, sizeof(st.text));
	parent_out_worker_step(&P, j, &st);
}

/*
 * Source: whether the guest still runs here is the worker's typed word
 * (msg_step.where); a sentence that says so decides nothing.
 */
static void
test_source_outcome_typed(void)
{
	struct job	*j;

	fixture();
	if ((j = job_in_state(JOB_OUT, JOB_STREAMING, ID1)) == NULL) {
		CHECK(0);
		return;
	}
	strlcpy(j->result, "cancelled by relocctl", sizeof(j->result));
	worker_aborted(j, PE_ABORTED, GUEST_WHERE_HERE, "broken pipe");
	CHECK_INT(j->state, JOB_ENDED);
	CHECK_INT(j->ok, 0);
	CHECK_STR(j->result, "cancelled by relocctl; g1 is still running "
	    "here");
	CHECK_INT(told(net_end), PHASE_ABORTED);

	fixture();
	if ((j = job_in_state(JOB_OUT, JOB_STREAMING, ID1)) == NULL) {
		CHECK(0);
		return;
	}
	strlcpy(j->result, "cancelled by relocctl", sizeof(j->result));
	worker_aborted(j, PE_ABORTED, GUEST_WHERE_UNKNOWN,
	    "destination b: g1 is still running here");
	CHECK_STR(j->result, "destination b: g1 is still running here");
}

/* relocctl resolve: "resumed" only on the worker's typed word. */
static void
test_resolve_outcome_typed(void)
{
	struct job	*j;

	fixture();
	if ((j = job_in_state(JOB_OUT, JOB_IN_DOUBT, ID1)) == NULL) {
		CHECK(0);
		return;
	}
	j->resolve = RESOLVE_ASK;
	worker_aborted(j, PE_ABORTED, GUEST_WHERE_HERE,
	    "aborted; g1 is still running here");
	CHECK_INT(j->state, JOB_ENDED);
	CHECK_INT(j->ok, 1);
	CHECK_STR(j->result, "g1 was resumed here; the destination never "
	    "took it over");

	fixture();
	if ((j = job_in_state(JOB_OUT, JOB_IN_DOUBT, ID1)) == NULL) {
		CHECK(0);
		return;
	}
	j->resolve = RESOLVE_ASK;
	worker_aborted(j, PE_ABORTED, GUEST_WHERE_UNKNOWN,
	    "a peer's text: g1 is still running here");
	CHECK_INT(j->ok, 0);
	CHECK_STR(j->result, "a peer's text: g1 is still running here");
}

/*
 * Past the commit a peer's abort resumes nothing, even one whose step
 * claims the guest runs here: it is only the reason in the report.
 */
static void
test_net_abort_in_doubt(void)
{
	struct msg_step	 st;
	struct child	*c;
	struct job	*j;

	fixture();
	if ((j = job_in_state(JOB_OUT, JOB_IN_DOUBT, ID1)) == NULL ||
	    (c = parent_child_find(&P, FAKE_NET_PID)) == NULL) {
		CHECK(0);
		return;
	}
	c->authenticated = 1;
	memset(&st, 0, sizeof(st));
	strlcpy(st.id, ID1, sizeof(st.id));
	st.phase = PHASE_ABORTED;
	st.code = PE_ABORTED;
	st.where = GUEST_WHERE_HERE;
	strlcpy(st.text, "trust me", sizeof(st.text));
	CHECK_INT(msg_send(net_end, MSG_NET_STEP, &st, sizeof(st), -1), 0);
	parent_job_net_message(&P, c);
	/* In doubt, the peer's abort is only a reason; nothing resumes. */
	CHECK_STR(j->result, "trust me");
	CHECK_INT(told(worker_end), -1);
	CHECK(parent_job_active(j));
}

/* The one builder of a worker's start message. */
static void
test_worker_start_new(void)
{
	struct msg_worker_start	*st;
	char			 longdir[311];

	fixture();
	st = parent_worker_start_new(&P, WORKER_OP_RECEIVE, ID1);
	CHECK(st != NULL);
	if (st != NULL) {
		CHECK_INT(st->op, WORKER_OP_RECEIVE);
		CHECK_INT(st->backend, CONF_BACKEND_SIM);
		CHECK_STR(st->state_dir, "/run/relocd/sim");
		CHECK_STR(st->xl_command, "/usr/sbin/xl");
		CHECK_STR(st->reserve.id, ID1);
	}
	free(st);
	/* The xen backend's argument is the xl program, not the sim dir. */
	C.backend = CONF_BACKEND_XEN;
	st = parent_worker_start_new(&P, WORKER_OP_LIST, NULL);
	CHECK(st != NULL);
	if (st != NULL) {
		CHECK_INT(st->backend, CONF_BACKEND_XEN);
		CHECK_STR(st->xl_command, "/usr/sbin/xl");
		CHECK_STR(st->state_dir, "");
		CHECK_STR(st->reserve.id, "");
	}
	free(st);
	/* 310 bytes of sim dir: refused, and the log says which key. */
	C.backend = CONF_BACKEND_SIM;
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	C.sim_dir = longdir;
	last_log[0] = '\0';
	CHECK(parent_worker_start_new(&P, WORKER_OP_LIST, NULL) == NULL);
	CHECK(strstr(last_log, "relocd-sim-dir") != NULL);
	CHECK(strstr(last_log, "310") != NULL);
	CHECK(strstr(last_log, "255") != NULL);
	/* Only the sim backend uses it: the xen backend starts. */
	C.backend = CONF_BACKEND_XEN;
	st = parent_worker_start_new(&P, WORKER_OP_LIST, NULL);
	CHECK(st != NULL);
	free(st);
}

/* A job whose start message cannot be built ends, cleanly. */
static void
test_start_refused_ends_job(void)
{
	struct job	*j;
	char		 longdir[400];

	fixture();
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	C.sim_dir = longdir;
	if ((j = parent_job_new(&P, JOB_OUT, "migrate")) == NULL) {
		CHECK(0);
		return;
	}
	strlcpy(j->id, ID1, sizeof(j->id));
	strlcpy(j->guest.name, "g1", sizeof(j->guest.name));
	parent_out_start(&P, j);
	CHECK_INT(j->state, JOB_ENDED);
	CHECK_INT(j->ok, 0);
	CHECK_INT(j->code, PE_INTERNAL);
	CHECK_INT(j->worker_pid, 0);
}

UNIT_MAIN("parent_job",
    UNIT_TEST(test_state_names),
    UNIT_TEST(test_table_add_find),
    UNIT_TEST(test_table_full),
    UNIT_TEST(test_end_once),
    UNIT_TEST(test_abortable),
    UNIT_TEST(test_cancel),
    UNIT_TEST(test_destination_go),
    UNIT_TEST(test_destination_abort_before_go),
    UNIT_TEST(test_destination_net_gone),
    UNIT_TEST(test_source_outcome_typed),
    UNIT_TEST(test_resolve_outcome_typed),
    UNIT_TEST(test_net_abort_in_doubt),
    UNIT_TEST(test_worker_start_new),
    UNIT_TEST(test_start_refused_ends_job))
