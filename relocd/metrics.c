// SPDX-License-Identifier: ISC
/*
 * relocd's metrics: counters, gauges and histograms, and their text in
 * the Prometheus exposition format, version 0.0.4, that node-exporter's
 * textfile collector reads and relocctl metrics prints.  Base units
 * only (seconds, bytes), every name starts with relocd_, and every
 * family has its # HELP and # TYPE lines, even with no sample yet, so a
 * rate() starts from zero rather than from the first event.
 *
 * The parent keeps the one struct metrics (parent_metrics.c) and feeds it
 * what it already knows as typed values; nothing here reads a peer's
 * bytes, a file or the clock, so the unit test can call every function.
 * Counters start at zero with relocd, as Prometheus expects of a
 * process: relocd_start_time_seconds shows when.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const char *const dir_names[METRICS_DIRS] = { "out", "in" };

static const char *const result_names[METRICS_RESULTS] = {
	"ok", "failed", "cancelled", "in_doubt"
};

static const char *const refusal_names[METRICS_REFUSALS] = {
	"tls", "hosts_allow", "peers_allow", "capacity", "clash", "memory",
	"limits"
};

/*
 * Bucket bounds in milliseconds, ascending; +Inf is implicit.  Downtime
 * brackets relocd-max-downtime's default (300 ms); the duration spans a
 * small guest on a fast link to the hour-long migration-timeout; the
 * prediction's error is signed, so both halves are covered.
 */
static const int64_t downtime_le[] = {
	5, 10, 25, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000
};
static const int64_t duration_le[] = {
	1000, 2000, 5000, 10000, 30000, 60000, 120000, 300000, 600000,
	1800000, 3600000
};
static const int64_t error_le[] = {
	-1000, -500, -200, -100, -50, -20, -10, 0, 10, 20, 50, 100, 200, 500,
	1000
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*name;
	const char	*help;
	const int64_t	*le;
	size_t		 nle;
	int		 by_dir;
} hists[METRICS_HISTS] = {
	[METRICS_H_DOWNTIME] = { "relocd_migration_downtime_seconds",
	    "Achieved downtime of migrations that succeeded: from the "
	    "guest's suspend on the source to its unpause on the "
	    "destination.", downtime_le, NELEM(downtime_le), 1 },
	[METRICS_H_DURATION] = { "relocd_migration_duration_seconds",
	    "Total time of migrations that succeeded, from the request to "
	    "the end.", duration_le, NELEM(duration_le), 1 },
	[METRICS_H_PREDICTION_ERROR] = {
	    "relocd_migration_downtime_prediction_error_seconds",
	    "Achieved minus predicted downtime (signed: positive means the "
	    "pre-copy policy predicted too little), for outgoing migrations "
	    "that succeeded with a prediction.", error_le, NELEM(error_le),
	    0 },
};

_Static_assert(NELEM(downtime_le) <= METRICS_BUCKETS_MAX &&
    NELEM(duration_le) <= METRICS_BUCKETS_MAX &&
    NELEM(error_le) <= METRICS_BUCKETS_MAX, "METRICS_BUCKETS_MAX too small");

void
metrics_started(struct metrics *m, int dir)
{
	if (dir >= 0 && dir < METRICS_DIRS)
		m->started[dir]++;
}

void
metrics_refused(struct metrics *m, int reason)
{
	if (reason >= 0 && reason < METRICS_REFUSALS)
		m->refused[reason]++;
}

/* One observation of v milliseconds in histogram kind, direction dir. */
void
metrics_observe(struct metrics *m, int kind, int dir, int64_t v)
{
	struct metrics_hist	*h;
	size_t			 i;

	if (kind < 0 || kind >= METRICS_HISTS || dir < 0 ||
	    dir >= METRICS_DIRS)
		return;
	h = &m->hist[kind][hists[kind].by_dir ? dir : 0];
	h->count++;
	h->sum_ms += v;
	for (i = 0; i < hists[kind].nle; i++)
		if (v <= hists[kind].le[i]) {
			h->bucket[i]++;
			break;
		}
}

void
metrics_ended(struct metrics *m, const struct metrics_end *e)
{
	int	d = e->dir;

	if (d < 0 || d >= METRICS_DIRS || e->result < 0 ||
	    e->result >= METRICS_RESULTS)
		return;
	m->ended[d][e->result]++;
	/* The wire carried these whatever the outcome. */
	m->stream_bytes[d] += e->stream_bytes;
	m->zero_pages[d] += e->zero_pages;
	if (d == METRICS_OUT)
		m->rounds += e->rounds;
	if (e->result != METRICS_OK)
		return;
	m->memory_bytes[d] += e->memory_bytes;
	metrics_observe(m, METRICS_H_DURATION, d, (int64_t)e->duration_ms);
	if (e->downtime_ms == 0)
		return;
	metrics_observe(m, METRICS_H_DOWNTIME, d, (int64_t)e->downtime_ms);
	if (d == METRICS_OUT && e->predicted_ms != 0)
		metrics_observe(m, METRICS_H_PREDICTION_ERROR, d,
		    (int64_t)e->downtime_ms - (int64_t)e->predicted_ms);
}

/* Milliseconds as seconds, exactly: 300 is "0.3", -1500 is "-1.5". */
static void
seconds_text(int64_t ms, char *buf, size_t size)
{
	uint64_t	a = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;
	size_t		n;

	if (a % 1000 == 0) {
		snprintf(buf, size, "%s%llu", ms < 0 ? "-" : "",
		    (unsigned long long)(a / 1000));
		return;
	}
	snprintf(buf, size, "%s%llu.%03llu", ms < 0 ? "-" : "",
	    (unsigned long long)(a / 1000), (unsigned long long)(a % 1000));
	for (n = strlen(buf); n > 0 && buf[n - 1] == '0'; n--)
		buf[n - 1] = '\0';
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One counter family with one label over a table of label values. */
static void
counter_by(FILE *f, const char *name, const char *help, const char *label,
    const char *const *values, const uint64_t *v, size_t n)
{
	size_t	i;

	family(f, name, "counter", help);
	for (i = 0; i < n; i++)
		fprintf(f, "%s{%s=\"%s\"} %llu\n", name, label, values[i],
		    (unsigned long long)v[i]);
}

static void
hist_render(FILE *f, int kind, const struct metrics_hist *h, const char *dir)
{
	const char	*name = hists[kind].name;
	char		 lab[64], le[32], sum[32];
	uint64_t	 cum = 0;
	size_t		 i;

	if (dir != NULL)
		snprintf(lab, sizeof(lab), "direction=\"%s\",", dir);
	else
		lab[0] = '\0';
	for (i = 0; i < hists[kind].nle; i++) {
		cum += h->bucket[i];
		seconds_text(hists[kind].le[i], le, sizeof(le));
		fprintf(f, "%s_bucket{%sle=\"%s\"} %llu\n", name, lab, le,
		    (unsigned long long)cum);
	}
	fprintf(f, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, lab,
	    (unsigned long long)h->count);
	seconds_text(h->sum_ms, sum, sizeof(sum));
	/* The label list without its trailing comma, or none at all. */
	if (dir != NULL) {
		snprintf(lab, sizeof(lab), "{direction=\"%s\"}", dir);
		fprintf(f, "%s_sum%s %s\n%s_count%s %llu\n", name, lab, sum,
		    name, lab, (unsigned long long)h->count);
	} else
		fprintf(f, "%s_sum %s\n%s_count %llu\n", name, sum, name,
		    (unsigned long long)h->count);
}

static void
render_migrations(FILE *f, const struct metrics *m)
{
	int	d, r;

	counter_by(f, "relocd_migrations_started_total", "Migrations "
	    "started, by direction (out: this host sends).", "direction",
	    dir_names, m->started, METRICS_DIRS);
	family(f, "relocd_migrations_ended_total", "counter", "Migrations "
	    "ended, by direction and result.");
	for (d = 0; d < METRICS_DIRS; d++)
		for (r = 0; r < METRICS_RESULTS; r++)
			fprintf(f, "relocd_migrations_ended_total{direction="
			    "\"%s\",result=\"%s\"} %llu\n", dir_names[d],
			    result_names[r],
			    (unsigned long long)m->ended[d][r]);
	counter_by(f, "relocd_migration_memory_bytes_total", "Guest memory "
	    "moved: the RAM of the guests of migrations that succeeded.",
	    "direction", dir_names, m->memory_bytes, METRICS_DIRS);
	counter_by(f, "relocd_migration_stream_bytes_total", "Migration "
	    "stream bytes sent (out) or received (in) on the wire, pages "
	    "sent again included, whatever the result.", "direction",
	    dir_names, m->stream_bytes, METRICS_DIRS);
	counter_by(f, "relocd_migration_zero_pages_total", "Guest pages "
	    "whose contents were all zero, sent (out) or received (in) as "
	    "their page numbers only instead of a page each (sim backend), "
	    "whatever the result.", "direction", dir_names, m->zero_pages,
	    METRICS_DIRS);
	family(f, "relocd_migration_rounds_total", "counter", "Pre-copy "
	    "rounds of outgoing migrations.");
	fprintf(f, "relocd_migration_rounds_total %llu\n",
	    (unsigned long long)m->rounds);
}

static void
render_hists(FILE *f, const struct metrics *m)
{
	int	k, d;

	for (k = 0; k < METRICS_HISTS; k++) {
		family(f, hists[k].name, "histogram", hists[k].help);
		if (!hists[k].by_dir) {
			hist_render(f, k, &m->hist[k][0], NULL);
			continue;
		}
		for (d = 0; d < METRICS_DIRS; d++)
			hist_render(f, k, &m->hist[k][d], dir_names[d]);
	}
}

static void
render_gauges(FILE *f, const struct metrics *m)
{
	int	d;

	counter_by(f, "relocd_refusals_total", "Peers refused, by reason.",
	    "reason", refusal_names, m->refused, METRICS_REFUSALS);
	family(f, "relocd_migrations_active", "gauge", "Migrations running "
	    "now, by direction.");
	for (d = 0; d < METRICS_DIRS; d++)
		fprintf(f, "relocd_migrations_active{direction=\"%s\"} %u\n",
		    dir_names[d], m->active[d]);
	family(f, "relocd_migrations_in_doubt", "gauge", "Outgoing "
	    "migrations past their commit whose destination has not said "
	    "where the guest runs: the guest stays suspended here until "
	    "relocctl resolve.");
	fprintf(f, "relocd_migrations_in_doubt %u\n", m->in_doubt);
	family(f, "relocd_preauth_connections", "gauge", "Connections "
	    "accepted and not yet authenticated (relocd-max-preauth).");
	fprintf(f, "relocd_preauth_connections %u\n", m->preauth);
	family(f, "relocd_certificate_expiry_timestamp_seconds", "gauge",
	    "When this host's certificate (xend-relocation-server-ssl-cert-"
	    "file) expires, as a Unix time; absent without TLS.");
	if (m->cert_expiry != 0)
		fprintf(f, "relocd_certificate_expiry_timestamp_seconds "
		    "%lld\n", (long long)m->cert_expiry);
	family(f, "relocd_start_time_seconds", "gauge", "When relocd "
	    "started, as a Unix time: every counter starts at zero then.");
	fprintf(f, "relocd_start_time_seconds %lld\n",
	    (long long)m->start_time);
}

/*
 * The whole text, for the file and for relocctl metrics; the caller
 * frees it.  Returns NULL if memory ran out.
 */
char *
metrics_render(const struct metrics *m, size_t *len_r)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	render_migrations(f, m);
	render_hists(f, m);
	render_gauges(f, m);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len_r = len;
	return buf;
}
