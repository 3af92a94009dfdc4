// SPDX-License-Identifier: ISC
/*
 * The parent's metrics: the one struct metrics (metrics.c renders it),
 * fed by the job table's typed outcomes and by every refusal site, and
 * written for node-exporter's textfile collector to relocd-metrics-file.
 *
 * No listener of its own: the file is written atomically (a temporary
 * file beside it, then rename, so a scrape never reads half of it), mode
 * 0644 whatever the unit's UMask, after every migration ends and every
 * METRICS_WRITE_MS so that the gauges stay fresh.  relocctl metrics gets
 * the same text over the control socket (parent_ctl.c).
 *
 * Runs in the parent, as root; its input is the parent's own records,
 * the config and this host's (public) certificate.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "parent.h"
#include "parent_job.h"
#include "parent_metrics.h"
#include "proto.h"
#include "tls.h"
#include "util.h"

static struct metrics	pm;
static uint64_t		next_write_ms;
/* The last write error logged: each distinct one is logged once. */
static char		last_err[512];

void
parent_metrics_start(struct parent *p)
{
	pm.start_time = (int64_t)time(NULL);
	parent_metrics_reload(p->conf);
}

/*
 * At start and at each reload: the certificate relocd serves with now,
 * and a write at the next tick, to relocd-metrics-file as it is now.
 */
void
parent_metrics_reload(const struct conf *conf)
{
	char	err[256];
	int64_t	t = 0;

	if (!(conf->insecure_plaintext && !conf->ssl_server) &&
	    tls_cert_expiry(conf->ssl_cert_file, &t, err, sizeof(err)) == -1) {
		log_warnx("metrics: %s; relocd_certificate_expiry_"
		    "timestamp_seconds is left out", err);
		t = 0;
	}
	pm.cert_expiry = t;
	next_write_ms = 0;
}

static int
job_dir(const struct job *j)
{
	return j->role == JOB_OUT ? METRICS_OUT : METRICS_IN;
}

/*
 * Job j is a migration (outgoing, incoming, or an xl plugin's): it
 * counts.  A check, a resolve and local jobs (save, restore) are not
 * migrations and never get here.
 */
void
parent_metrics_job_started(struct parent *p, struct job *j)
{
	(void)p;
	j->metered = 1;
	metrics_started(&pm, job_dir(j));
}

/* A job that a worker refused at its reserve: a refusal too. */
static void
job_refused(const struct job *j)
{
	if (j->role != JOB_IN || j->state != JOB_RESERVING || j->ok)
		return;
	parent_metrics_refused_code(j->code);
}

/*
 * Job j ends (parent_job_end calls this before it marks j ended, so the
 * state is the one it ended in).  A resolve that settled a guest takes
 * that guest out of the in-doubt gauge.
 * XXX the gauge forgets an ended job in doubt when the job table reuses
 * its slot, and forgets them all when relocd restarts.
 */
void
parent_metrics_job_ended(struct parent *p, struct job *j)
{
	struct metrics_end	e;
	int			i;

	/* Settled, or in doubt again under this job: counted once. */
	if (j->resolve != RESOLVE_NONE && (j->ok || j->in_doubt))
		for (i = 0; i < JOBS_MAX; i++)
			if (&p->jobs[i] != j && p->jobs[i].in_doubt &&
			    strcmp(p->jobs[i].guest.uuid, j->guest.uuid) == 0)
				p->jobs[i].in_doubt = 0;
	if (!j->metered)
		return;
	job_refused(j);
	memset(&e, 0, sizeof(e));
	e.dir = job_dir(j);
	e.result = j->ok ? METRICS_OK : j->in_doubt ? METRICS_IN_DOUBT :
	    j->cancelled ? METRICS_CANCELLED : METRICS_FAILED;
	e.memory_bytes = j->stats.memory_bytes;
	e.stream_bytes = j->stats.bytes;
	e.zero_pages = j->stats.zero_pages;
	e.rounds = j->stats.round;
	e.duration_ms = j->ended_ms - j->started_ms;
	e.downtime_ms = j->stats.downtime_ms;
	e.predicted_ms = j->role == JOB_OUT && j->policy.live ?
	    j->stats.predicted_downtime_ms : 0;
	metrics_ended(&pm, &e);
	/* Written now, so a scrape sees every migration's end. */
	next_write_ms = 0;
}

void
parent_metrics_refused(int reason)
{
	metrics_refused(&pm, reason);
}

/* A reservation refused with code (enum proto_error), where it maps. */
void
parent_metrics_refused_code(int code)
{
	switch (code) {
	case PE_BUSY:
		parent_metrics_refused(METRICS_REFUSED_CAPACITY);
		break;
	case PE_CLASH:
		parent_metrics_refused(METRICS_REFUSED_CLASH);
		break;
	case PE_NO_MEMORY:
		parent_metrics_refused(METRICS_REFUSED_MEMORY);
		break;
	}
}

/* The gauges, from the job and child tables as they are now. */
static void
metrics_gauges(struct parent *p)
{
	const struct job	*j;
	int			 i, total, from_ip;

	memset(pm.active, 0, sizeof(pm.active));
	pm.in_doubt = 0;
	for (i = 0; i < JOBS_MAX; i++) {
		j = &p->jobs[i];
		if (j->metered && parent_job_active(j))
			pm.active[job_dir(j)]++;
		if ((j->state == JOB_IN_DOUBT && j->metered) ||
		    (j->state == JOB_ENDED && j->in_doubt))
			pm.in_doubt++;
	}
	parent_count_preauth(p, "", &total, &from_ip);
	pm.preauth = (uint32_t)total;
}

char *
parent_metrics_text(struct parent *p, size_t *len_r)
{
	metrics_gauges(p);
	return metrics_render(&pm, len_r);
}

/* Writes relocd-metrics-file when due; failures are logged once each. */
void
parent_metrics_tick(struct parent *p)
{
	const char	*path = p->conf->metrics_file;
	uint64_t	 now = util_now_ms();
	char		*text, err[512];
	size_t		 len;

	if (path == NULL || path[0] == '\0' || now < next_write_ms)
		return;
	next_write_ms = now + METRICS_WRITE_MS;
	if ((text = parent_metrics_text(p, &len)) == NULL)
		STRLCPY_ARRAY(err, "out of memory");
	/* 0644: node-exporter must read it.  It reads only *.prom, so it
	 * never sees the temporary file beside it. */
	else if (util_write_file_atomic(path, text, len, 0644) == 0)
		err[0] = '\0';
	else
		snprintf(err, sizeof(err), "%s", strerror(errno));
	free(text);
	if (strcmp(err, last_err) == 0)
		return;
	if (err[0] == '\0')
		log_info("metrics: writing %s works again", path);
	else
		log_warnx("metrics: cannot write %s: %s; check that its "
		    "directory exists and relocd may write there "
		    "(ReadWritePaths= in relocd.service), or unset "
		    "relocd-metrics-file", path, err);
	STRLCPY_ARRAY(last_err, err);
}
