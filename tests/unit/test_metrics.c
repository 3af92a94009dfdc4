// SPDX-License-Identifier: ISC
/*
 * Unit tests for metrics.c: the Prometheus text it renders (every family
 * with HELP and TYPE before its samples, seconds and bytes, cumulative
 * buckets whose +Inf equals the count), and how migration ends feed the
 * counters and histograms.  tests/regress/metrics.sh checks the same text
 * with python3-prometheus-client's parser on a running relocd.
 */
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "unit.h"

static char	*text;

static void
render(const struct metrics *m)
{
	size_t	len = 0;

	free(text);
	text = metrics_render(m, &len);
	CHECK(text != NULL);
	if (text == NULL)
		abort();
	CHECK_INT(strlen(text), len);
	CHECK(len > 0 && text[len - 1] == '\n');
}

/* Whether the rendered text has exactly this line. */
static int
has_line(const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

#define CHECK_LINE(l) do {						\
	if (!has_line(l)) {						\
		fprintf(stderr, "  %s:%d: no line \"%s\"\n", __FILE__,	\
		    __LINE__, l);					\
		unit_test_failed = 1;					\
	}								\
} while (0)

/*
 * Each sample's family was announced by a # TYPE line before it, after
 * its # HELP, and every name starts with relocd_.
 */
static void
test_every_family_announced(void)
{
	struct metrics	 m;
	char		 fam[128], *line, *save = NULL, *copy;
	int		 families = 0, samples = 0, have_help = 0;

	memset(&m, 0, sizeof(m));
	m.cert_expiry = 1900000000;
	render(&m);
	fam[0] = '\0';
	copy = strdup(text);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			CHECK(strncmp(line + 7, "relocd_", 7) == 0);
			have_help = 1;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			CHECK(have_help);
			have_help = 0;
			CHECK(sscanf(line + 7, "%127s", fam) == 1);
			families++;
			continue;
		}
		CHECK(line[0] != '#');
		/* A sample: its name is the family's, or with a suffix. */
		if (strncmp(line, fam, strlen(fam)) != 0) {
			fprintf(stderr, "  sample outside its family %s: %s\n",
			    fam, line);
			unit_test_failed = 1;
		}
		samples++;
	}
	free(copy);
	CHECK_INT(families, 15);
	CHECK(samples > 40);
}

static void
test_zero_counters_present(void)
{
	struct metrics	m;

	memset(&m, 0, sizeof(m));
	m.start_time = 1700000000;
	render(&m);
	CHECK_LINE("# TYPE relocd_migrations_started_total counter");
	CHECK_LINE("relocd_migrations_started_total{direction=\"out\"} 0");
	CHECK_LINE("relocd_migrations_ended_total{direction=\"in\","
	    "result=\"cancelled\"} 0");
	CHECK_LINE("relocd_refusals_total{reason=\"peers_allow\"} 0");
	CHECK_LINE("# TYPE relocd_migration_downtime_seconds histogram");
	CHECK_LINE("relocd_migration_downtime_seconds_bucket{direction="
	    "\"in\",le=\"+Inf\"} 0");
	CHECK_LINE("relocd_migration_downtime_prediction_error_seconds_sum 0");
	CHECK_LINE("relocd_start_time_seconds 1700000000");
	/* No certificate (plaintext): the family, but no sample. */
	CHECK_LINE("# TYPE relocd_certificate_expiry_timestamp_seconds gauge");
	CHECK(strstr(text, "relocd_certificate_expiry_timestamp_seconds 0") ==
	    NULL);
}

/* One success and one failure, in and out, through metrics_ended. */
static void
test_ended_feeds_counters(void)
{
	struct metrics		m;
	struct metrics_end	e;

	memset(&m, 0, sizeof(m));
	metrics_started(&m, METRICS_OUT);
	metrics_started(&m, METRICS_OUT);
	metrics_started(&m, METRICS_IN);
	memset(&e, 0, sizeof(e));
	e.dir = METRICS_OUT;
	e.result = METRICS_OK;
	e.memory_bytes = 1 << 30;
	e.stream_bytes = 1200000000;
	e.zero_pages = 7000;
	e.rounds = 4;
	e.duration_ms = 12345;
	e.downtime_ms = 180;
	e.predicted_ms = 150;
	metrics_ended(&m, &e);
	e.result = METRICS_CANCELLED;
	e.stream_bytes = 1000;
	e.rounds = 1;
	metrics_ended(&m, &e);
	e.dir = METRICS_IN;
	e.result = METRICS_OK;
	e.stream_bytes = 5000;
	e.zero_pages = 3;
	e.predicted_ms = 0;
	e.downtime_ms = 0;		/* not measured: no observation */
	metrics_ended(&m, &e);
	metrics_refused(&m, METRICS_REFUSED_TLS);
	metrics_refused(&m, METRICS_REFUSALS);	/* out of range: ignored */
	m.active[METRICS_IN] = 2;
	m.in_doubt = 1;
	m.preauth = 3;
	m.cert_expiry = 1900000000;
	render(&m);
	CHECK_LINE("relocd_migrations_started_total{direction=\"out\"} 2");
	CHECK_LINE("relocd_migrations_ended_total{direction=\"out\","
	    "result=\"ok\"} 1");
	CHECK_LINE("relocd_migrations_ended_total{direction=\"out\","
	    "result=\"cancelled\"} 1");
	CHECK_LINE("relocd_migrations_ended_total{direction=\"in\","
	    "result=\"ok\"} 1");
	/* Memory counts successes only; the stream counts everything. */
	CHECK_LINE("relocd_migration_memory_bytes_total{direction=\"out\"} "
	    "1073741824");
	CHECK_LINE("relocd_migration_stream_bytes_total{direction=\"out\"} "
	    "1200001000");
	CHECK_LINE("relocd_migration_stream_bytes_total{direction=\"in\"} "
	    "5000");
	/* Zero pages, like the stream, whatever the result. */
	CHECK_LINE("relocd_migration_zero_pages_total{direction=\"out\"} "
	    "14000");
	CHECK_LINE("relocd_migration_zero_pages_total{direction=\"in\"} 3");
	CHECK_LINE("relocd_migration_rounds_total 5");
	CHECK_LINE("relocd_migration_duration_seconds_sum{direction=\"out\"} "
	    "12.345");
	CHECK_LINE("relocd_migration_duration_seconds_bucket{direction="
	    "\"out\",le=\"10\"} 0");
	CHECK_LINE("relocd_migration_duration_seconds_bucket{direction="
	    "\"out\",le=\"30\"} 1");
	CHECK_LINE("relocd_migration_downtime_seconds_count{direction=\"in\"} "
	    "0");
	CHECK_LINE("relocd_migration_downtime_seconds_bucket{direction="
	    "\"out\",le=\"0.1\"} 0");
	CHECK_LINE("relocd_migration_downtime_seconds_bucket{direction="
	    "\"out\",le=\"0.2\"} 1");
	CHECK_LINE("relocd_migration_downtime_seconds_sum{direction=\"out\"} "
	    "0.18");
	/* Achieved 180 ms, predicted 150 ms: +0.03 s. */
	CHECK_LINE("relocd_migration_downtime_prediction_error_seconds_bucket"
	    "{le=\"0.02\"} 0");
	CHECK_LINE("relocd_migration_downtime_prediction_error_seconds_bucket"
	    "{le=\"0.05\"} 1");
	CHECK_LINE("relocd_migration_downtime_prediction_error_seconds_sum "
	    "0.03");
	CHECK_LINE("relocd_refusals_total{reason=\"tls\"} 1");
	CHECK_LINE("relocd_migrations_active{direction=\"in\"} 2");
	CHECK_LINE("relocd_migrations_in_doubt 1");
	CHECK_LINE("relocd_preauth_connections 3");
	CHECK_LINE("relocd_certificate_expiry_timestamp_seconds 1900000000");
}

/* Signed observations: a prediction too high is a negative error. */
static void
test_negative_error(void)
{
	struct metrics	m;

	memset(&m, 0, sizeof(m));
	metrics_observe(&m, METRICS_H_PREDICTION_ERROR, METRICS_OUT, -1500);
	metrics_observe(&m, METRICS_H_PREDICTION_ERROR, METRICS_OUT, -30);
	metrics_observe(&m, METRICS_H_PREDICTION_ERROR, METRICS_OUT, 5000);
	render(&m);
	CHECK_LINE("relocd_migration_downtime_prediction_error_seconds_bucket"
	    "{le=\"-1\"} 1");
	CHECK_LINE("relocd_migration_downtime_prediction_error_seconds_bucket"
	    "{le=\"-0.02\"} 2");
	CHECK_LINE("relocd_migration_downtime_prediction_error_seconds_bucket"
	    "{le=\"1\"} 2");
	CHECK_LINE("relocd_migration_downtime_prediction_error_seconds_bucket"
	    "{le=\"+Inf\"} 3");
	CHECK_LINE("relocd_migration_downtime_prediction_error_seconds_sum "
	    "3.47");
	CHECK_LINE("relocd_migration_downtime_prediction_error_seconds_count "
	    "3");
}

UNIT_MAIN("metrics",
    UNIT_TEST(test_every_family_announced),
    UNIT_TEST(test_zero_counters_present),
    UNIT_TEST(test_ended_feeds_counters),
    UNIT_TEST(test_negative_error))
