// SPDX-License-Identifier: ISC
/*
 * Unit tests for migration reports (report.c): the one table that
 * writes a report as JSON and as the control socket's sxp reply and
 * reads the JSON back with every field checked, and the store in
 * relocd-state-dir: atomic writes of mode 0600, reading back, and
 * pruning by age and by count with limits far below bounds.h's, which
 * the regress tests cannot wait for.  Each test works in a directory
 * of its own under /tmp.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "report.h"
#include "sxp.h"
#include "unit.h"
#include "util.h"

#define ID1	"00112233445566778899aabbccddeeff"
#define DAY_MS	(24LL * 3600 * 1000)

static char	dir[64];

static void
dir_new(void)
{
	unit_dir_new(dir, sizeof(dir), "report");
}

static void
dir_remove(void)
{
	unit_dir_remove(dir);
}

/* A report with every field away from zero. */
static void
sample(struct report *r, const char *id)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	STRLCPY_ARRAY(r->what, "migrate");
	STRLCPY_ARRAY(r->guest, "web1");
	STRLCPY_ARRAY(r->peer, "dom0-b.example.org");
	STRLCPY_ARRAY(r->text, "done");
	STRLCPY_ARRAY(r->state, "ended");
	STRLCPY_ARRAY(r->decision, "predicted downtime 27 ms is within 300 ms");
	r->ok = 1;
	r->code = 0;
	r->start_time_ms = 1796552776882LL;
	r->end_time_ms = 1796552777462LL;
	r->setup_ms = 118;
	r->elapsed_ms = 580;
	r->downtime_ms = 60;
	r->predicted_downtime_ms = 27;
	r->digest_ms = 3;
	r->suspend_time_ms = 1796552777376LL;
	r->bytes = 72157784;
	r->memory = 67108864;
	r->rounds = 4;
	r->bandwidth = 179701214;
	r->dirty_rate = 13081120;
	r->dirty = -1;
	r->throttle = 100;
	/* The parts of the pause a sim source measures; one not. */
	pause_set(&r->pause, PAUSE_SUSPEND, 1);
	pause_set(&r->pause, PAUSE_FINAL, 20);
	pause_set(&r->pause, PAUSE_STATE, 0);
	pause_set(&r->pause, PAUSE_COMMIT, 9);
}

static int
same_report(const struct report *a, const struct report *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* JSON and back: every field, and numbers as numbers, ok as a boolean. */
static void
test_json_round_trip(void)
{
	struct report	r, back;
	json_t		*o;
	char		 err[128];

	sample(&r, ID1);
	o = report_json(&r);
	CHECK(o != NULL);
	if (o == NULL)
		return;
	CHECK(json_is_integer(json_object_get(o, "bytes")));
	CHECK(json_is_integer(json_object_get(o, "dirty")));
	CHECK(json_is_true(json_object_get(o, "ok")));
	CHECK(json_is_string(json_object_get(o, "guest")));
	/* The pause: an object, 0 ms a number, what was not measured null. */
	CHECK(json_is_integer(json_object_get(json_object_get(o, "pause"),
	    "state-ms")));
	CHECK(json_is_null(json_object_get(json_object_get(o, "pause"),
	    "unpause-ms")));
	memset(&back, 0x55, sizeof(back));
	CHECK_INT(report_from_json(o, &back, err, sizeof(err)), 0);
	CHECK(same_report(&r, &back));
	CHECK(json_object_get(o, "target-unreachable") == NULL);
	json_decref(o);

	/* A target out of reach: an object of its own, back as it was. */
	r.target.reason = TARGET_FIXED_COST;
	r.target.choice = CONF_NONCONV_STOP_AND_COPY;
	r.target.min_pause_ms = 420;
	r.target.max_downtime_ms = 300;
	o = report_json(&r);
	CHECK(o != NULL);
	if (o == NULL)
		return;
	CHECK_STR(json_string_value(json_object_get(json_object_get(o,
	    "target-unreachable"), "reason")), "fixed-cost");
	memset(&back, 0x55, sizeof(back));
	CHECK_INT(report_from_json(o, &back, err, sizeof(err)), 0);
	CHECK(same_report(&r, &back));
	json_decref(o);
}

/* A field of the wrong type or range is an error naming it. */
static void
test_json_bad_fields(void)
{
	static const struct {
		const char	*json, *field;
	} bad[] = {
		{ "{\"bytes\": \"5\"}", "bytes" },
		{ "{\"ok\": 1}", "ok" },
		{ "{\"rounds\": -1}", "rounds" },
		{ "{\"throttle\": 101}", "throttle" },
		{ "{\"dirty\": -2}", "dirty" },
		{ "{\"guest\": 7}", "guest" },
		{ "{\"id\": \"00112233445566778899aabbccddeeff00\"}", "id" },
		{ "{\"pause\": 5}", "pause" },
		{ "{\"pause\": {\"commit-ms\": -3}}", "pause" },
		{ "{\"pause\": {\"commit-ms\": \"3\"}}", "pause" },
		{ "{\"target-unreachable\": {\"reason\": \"x\"}}",
		    "target-unreachable" },
	};
	struct report	r;
	json_t		*o;
	char		 err[128];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = json_loads(bad[i].json, 0, NULL);
		err[0] = '\0';
		CHECK_INT(report_from_json(o, &r, err, sizeof(err)), -1);
		CHECK(strncmp(err, bad[i].field, strlen(bad[i].field)) == 0);
		json_decref(o);
	}
	/* What an older file lacks is not measured: 0, not an error. */
	o = json_loads("{\"id\": \"" ID1 "\", \"bytes\": 5}", 0, NULL);
	CHECK_INT(report_from_json(o, &r, err, sizeof(err)), 0);
	CHECK_INT(r.bytes, 5);
	CHECK_INT(r.rounds, 0);
	CHECK_INT(pause_get(&r.pause, PAUSE_COMMIT), -1);
	json_decref(o);
}

/* The sxp reply parses back, each field readable by name. */
static void
test_sxp_reply(void)
{
	struct report		 r;
	struct sxp_node		*root = NULL;
	struct sxp_error	 serr;
	const struct sxp_node	*m;
	char			 buf[4096];

	sample(&r, ID1);
	STRLCPY_ARRAY(r.text, "a reason with 'quotes' and\nlines");
	CHECK_INT(report_sxp(&r, buf, sizeof(buf)), 0);
	CHECK_INT(sxp_parse(buf, strlen(buf), &root, &serr), 0);
	if (root == NULL)
		return;
	m = root->first;
	CHECK_STR(m->first->text, "report");
	CHECK_STR(sxp_field(m, "id"), ID1);
	CHECK_STR(sxp_field(m, "ok"), "yes");
	CHECK_STR(sxp_field(m, "bytes"), "72157784");
	CHECK_STR(sxp_field(m, "dirty"), "-1");
	CHECK_STR(sxp_field(m, "text"), r.text);
	CHECK(sxp_field_node(m, "pause") != NULL &&
	    sxp_field(sxp_field_node(m, "pause"), "final-copy-ms") != NULL);
	if (sxp_field_node(m, "pause") != NULL) {
		CHECK_STR(sxp_field(sxp_field_node(m, "pause"),
		    "final-copy-ms"), "20");
		CHECK_STR(sxp_field(sxp_field_node(m, "pause"), "unpause-ms"),
		    "unknown");
	}
	sxp_free(root);
	CHECK_INT(report_sxp(&r, buf, 100), -1);
}

/* How many entries dir holds, besides . and .. */
static int
dir_entries(void)
{
	struct dirent	*e;
	DIR		*d;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

/* Saved with mode 0600, no temporary file left, read back whole. */
static void
test_store_save_load(void)
{
	struct report	r, back;
	struct stat	st;
	char		path[256], err[512];

	dir_new();
	sample(&r, ID1);
	umask(022);
	CHECK_INT(report_store_save(dir, &r, err, sizeof(err)), 0);
	path_of(path, sizeof(path), ID1 ".json");
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	CHECK_INT(dir_entries(), 1);	/* no temporary file left */
	CHECK_INT(report_store_load(dir, ID1, (int64_t)util_realtime_ms(),
	    DAY_MS, &back, err, sizeof(err)), 0);
	CHECK(same_report(&r, &back));
	/* Saved again (a job that ended twice): replaced, not appended. */
	r.bytes = 1;
	CHECK_INT(report_store_save(dir, &r, err, sizeof(err)), 0);
	CHECK_INT(report_store_load(dir, ID1, (int64_t)util_realtime_ms(),
	    DAY_MS, &back, err, sizeof(err)), 0);
	CHECK_INT(back.bytes, 1);
	/* No such report, and one past the age limit: none. */
	CHECK_INT(report_store_load(dir, "ffeeddccbbaa99887766554433221100",
	    (int64_t)util_realtime_ms(), DAY_MS, &back, err, sizeof(err)), 1);
	CHECK_INT(report_store_load(dir, ID1, (int64_t)util_realtime_ms() +
	    2 * DAY_MS, DAY_MS, &back, err, sizeof(err)), 1);
	/* Not an id: never a path. */
	CHECK_INT(report_store_load(dir, "../../etc/passwd",
	    (int64_t)util_realtime_ms(), DAY_MS, &back, err, sizeof(err)), 1);
	dir_remove();
}

/* A damaged file is an error naming it, never a report. */
static void
test_store_damaged(void)
{
	struct report	r;
	char		path[256], err[512];
	FILE		*f;

	dir_new();
	path_of(path, sizeof(path), ID1 ".json");
	if ((f = fopen(path, "w")) != NULL) {
		fputs("{\"id\": \"" ID1 "\", \"bytes\": \"many\"}", f);
		fclose(f);
	}
	CHECK_INT(report_store_load(dir, ID1, (int64_t)util_realtime_ms(),
	    DAY_MS, &r, err, sizeof(err)), -1);
	CHECK(strstr(err, path) != NULL && strstr(err, "bytes") != NULL);
	if ((f = fopen(path, "w")) != NULL) {
		fputs("{\"id\": ", f);
		fclose(f);
	}
	CHECK_INT(report_store_load(dir, ID1, (int64_t)util_realtime_ms(),
	    DAY_MS, &r, err, sizeof(err)), -1);
	CHECK(strstr(err, path) != NULL);
	dir_remove();
}

/* A report file for id, modified at time ms. */
static void
save_at(const char *id, int64_t ms)
{
	struct report	r;
	struct timespec	ts[2];
	char		path[256], err[512];

	sample(&r, id);
	if (report_store_save(dir, &r, err, sizeof(err)) == -1)
		fprintf(stderr, "  %s\n", err);
	path_of(path, sizeof(path), id);
	strncat(path, ".json", sizeof(path) - strlen(path) - 1);
	ts[0].tv_sec = ts[1].tv_sec = ms / 1000;
	ts[0].tv_nsec = ts[1].tv_nsec = (ms % 1000) * 1000000;
	CHECK_INT(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static int
exists(const char *name)
{
	char	path[256];

	path_of(path, sizeof(path), name);
	return access(path, F_OK) == 0;
}

/* An empty file name, modified at time ms (0: now). */
static void
touch_at(const char *name, int64_t ms)
{
	struct timespec	ts[2];
	char		path[256];
	int		fd;

	path_of(path, sizeof(path), name);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) != -1)
		close(fd);
	if (ms == 0)
		return;
	ts[0].tv_sec = ts[1].tv_sec = ms / 1000;
	ts[0].tv_nsec = ts[1].tv_nsec = (ms % 1000) * 1000000;
	CHECK_INT(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void
touch(const char *name)
{
	touch_at(name, 0);
}

/*
 * Pruning with tiny limits: a day and three reports.  The one past a
 * day goes, then all but the three newest; a temporary file a crash
 * left goes; a file that is not a report's stays.
 */
static void
test_store_prune(void)
{
	static const char *const ids[] = {
		"00000000000000000000000000000001",
		"00000000000000000000000000000002",
		"00000000000000000000000000000003",
		"00000000000000000000000000000004",
		"00000000000000000000000000000005",
		"00000000000000000000000000000006",
	};
	int64_t	now = 1800000000000LL;
	size_t	removed = 99, i;

	dir_new();
	for (i = 0; i < 5; i++)		/* ids[0] newest, ids[4] oldest */
		save_at(ids[i], now - (int64_t)(i + 1) * 60000);
	save_at(ids[5], now - 2 * DAY_MS);
	/* The newest file of all: only its name says it is not a report. */
	touch_at("00000000000000000000000000000007.json.Xy12Zw", now);
	touch("notes.txt");
	touch("0000000000000000000000000000000g.json");
	CHECK_INT(report_store_prune(dir, now, DAY_MS, 3, &removed), 0);
	CHECK_INT(removed, 4);
	CHECK(exists("00000000000000000000000000000001.json"));
	CHECK(exists("00000000000000000000000000000002.json"));
	CHECK(exists("00000000000000000000000000000003.json"));
	CHECK(!exists("00000000000000000000000000000004.json"));
	CHECK(!exists("00000000000000000000000000000005.json"));
	CHECK(!exists("00000000000000000000000000000006.json"));
	CHECK(!exists("00000000000000000000000000000007.json.Xy12Zw"));
	CHECK(exists("notes.txt"));
	CHECK(exists("0000000000000000000000000000000g.json"));
	/* Within both limits: nothing more goes. */
	CHECK_INT(report_store_prune(dir, now, DAY_MS, 3, &removed), 0);
	CHECK_INT(removed, 0);
	/* Age alone: of 1, 2 and 3 minutes old, past 2.5 minutes goes. */
	CHECK_INT(report_store_prune(dir, now, 150000, 100, &removed), 0);
	CHECK_INT(removed, 1);
	CHECK(exists("00000000000000000000000000000002.json"));
	CHECK(!exists("00000000000000000000000000000003.json"));
	dir_remove();
	CHECK_INT(report_store_prune(dir, now, DAY_MS, 3, &removed), -1);
}

/* A directory that cannot take reports is named, with what to do. */
static void
test_store_check(void)
{
	char	err[1024], path[256];

	size_t	removed = 99;

	dir_new();
	CHECK_INT(report_store_check(dir, err, sizeof(err)), 0);
	/* A fresh directory, as at a first start: nothing to prune. */
	CHECK_INT(report_store_prune(dir, (int64_t)util_realtime_ms(), DAY_MS,
	    3, &removed), 0);
	CHECK_INT(removed, 0);
	touch("file");
	path_of(path, sizeof(path), "file");
	CHECK_INT(report_store_check(path, err, sizeof(err)), -1);
	CHECK(strstr(err, path) != NULL &&
	    strstr(err, "not a directory") != NULL);
	path_of(path, sizeof(path), "missing");
	CHECK_INT(report_store_check(path, err, sizeof(err)), -1);
	CHECK(strstr(err, path) != NULL && strstr(err, "mkdir -m 0700") !=
	    NULL && strstr(err, "No such file") != NULL);
	dir_remove();
}

/* A result that is not UTF-8 (a peer's bytes) still makes valid JSON. */
static void
test_json_not_utf8(void)
{
	struct report	r;
	json_t		*o;
	char		*text;

	sample(&r, ID1);
	STRLCPY_ARRAY(r.text, "refused: caf\xe9 \xff");
	CHECK((o = report_json(&r)) != NULL);
	if (o == NULL)
		return;
	CHECK_STR(json_string_value(json_object_get(o, "text")),
	    "refused: caf\\xe9 \\xff");
	text = json_dumps(o, 0);
	CHECK(text != NULL);
	free(text);
	json_decref(o);
}

UNIT_MAIN("report",
    UNIT_TEST(test_json_round_trip),
    UNIT_TEST(test_json_bad_fields),
    UNIT_TEST(test_json_not_utf8),
    UNIT_TEST(test_sxp_reply),
    UNIT_TEST(test_store_save_load),
    UNIT_TEST(test_store_damaged),
    UNIT_TEST(test_store_prune),
    UNIT_TEST(test_store_check))
