// SPDX-License-Identifier: ISC
/*
 * Learnt fixed costs of the pause (pause_cost.h): what a migration's
 * pause costs beyond its final copy, per destination and guest type.
 *
 * Measured: the downtime the guest saw (suspend to the destination's
 * unpause) less the final copy's part (pause.c).  The whole downtime,
 * not the sum of the other parts, because it is what the prediction is
 * judged against and it holds what no part is named for (the parts
 * the destination measures come from a peer, which may be older).
 * Where the final copy was not measured (both backends measure it
 * today; a backend that could not), the policy's own prediction of it
 * stands in: the prediction less the fixed cost it used.
 *
 * Learnt: the cost is the median of the last PAUSE_COST_RECENT
 * measurements (the mean of the middle two for an even count).  The
 * first measurement replaces the first guess, which was only a guess.
 * A median, not an average: on Xen the first migration to a host can
 * pause twice as long as the next ones (check-xen of 2026-12-07: a PV
 * guest's first learnt sample was 6566 ms, the next ones about 4000),
 * and an average, even with each sample clamped, kept predicting the
 * outlier for migrations after it.  From the third measurement on, one
 * outlier is ignored whole, and a real change is followed after three.
 * Kept in microseconds, so that small costs still move.
 *
 * Kept: one JSON file in relocd-state-dir, written atomically (mode
 * 0600), read with a size cap and every entry checked; bounded in
 * entries (bounds.h), the one updated longest ago going first.  A
 * damaged file never stops a migration: the lookup says what is wrong
 * and gives the first guesses, and the next cost learnt replaces it.
 *
 * Runs in the parent, as root, in a directory only root may write; a
 * destination name comes from relocctl's request (host_name_valid).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pause_cost.h"
#include "util.h"

/* 2: the last measurements ("recent-us"); 1 (one "cost-us") is read. */
#define PAUSE_COST_VERSION	2

/*
 * First guesses, for a destination never seen:
 *  - sim: bench/results/2026-11-22.md, scenario 2: the achieved
 *    downtime exceeded the prediction (the last dirty pages over the
 *    bandwidth) by 110-290 ms in 8 of 9 runs; issue 20's scenario 2 of
 *    2026-12-06 by 70-130 ms.  150 ms.
 *  - PV and PVH: issue 20's check-xen of 2026-12-06 measured PVH's pause
 *    at 586 ms on relocd's clock against predictions of 135-270 ms
 *    (bench/xen/2026-11-22.md has the predictions); about 400 ms.
 *  - HVM: the same run measured 1432-1933 ms (QEMU's save and the
 *    destination's QEMU start are in the pause); 1500 ms.
 * Learning replaces each with the first measurement.
 */
static const struct {
	const char	*name;		/* guest_type_name's */
	uint64_t	 guess_ms;
} pause_cost_types[PAUSE_COST_TYPES] = {
	[GUEST_TYPE_PV] = { "pv", 400 },
	[GUEST_TYPE_PVH] = { "pvh", 400 },
	[GUEST_TYPE_HVM] = { "hvm", 1500 },
	[GUEST_TYPE_SIM] = { "sim", 150 },
};

struct pc_entry {
	char		 dest[PAUSE_COST_DEST_MAX + 1];
	int		 type;
	uint64_t	 recent_us[PAUSE_COST_RECENT];	/* oldest first */
	size_t		 nrecent;
	uint32_t	 samples;	/* every measurement, capped */
	int64_t		 updated_ms;
};

struct pc_store {
	struct pc_entry	 e[PAUSE_COST_ENTRIES_MAX];
	size_t		 n;
};

uint64_t
pause_cost_guess_ms(int type)
{
	if (type < 0 || type >= PAUSE_COST_TYPES)
		return pause_cost_types[GUEST_TYPE_HVM].guess_ms;
	return pause_cost_types[type].guess_ms;
}

/*
 * The destination as the source names it, with its port: known before
 * any connection (the lookup is made as the worker starts), the same
 * for every migration to it, and apart for two relocds on one host.  A
 * certificate's name would be known only after the handshake.  Host
 * names are case-insensitive, so the key is lower case.
 */
int
pause_cost_dest(char *buf, size_t size, const char *host, int port)
{
	size_t	i;
	int	n;

	n = snprintf(buf, size, strchr(host, ':') != NULL ? "[%s]:%d" :
	    "%s:%d", host, port);
	if (n < 0 || (size_t)n >= size || (size_t)n > PAUSE_COST_DEST_MAX)
		return -1;
	for (i = 0; buf[i] != '\0'; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	return 0;
}

static int
pc_type_parse(const char *s)
{
	int	i;

	for (i = 0; i < PAUSE_COST_TYPES; i++)
		if (strcmp(s, pause_cost_types[i].name) == 0)
			return i;
	return -1;
}

static int
pc_path(const char *dir, char *buf, size_t size, char *err, size_t errsize)
{
	int	n = snprintf(buf, size, "%s/%s", dir, PAUSE_COST_FILE);

	if (n >= 0 && (size_t)n < size)
		return 0;
	snprintf(err, errsize, "relocd-state-dir %s: path too long", dir);
	return -1;
}

/* One cost in microseconds into *us; -1 if it is not one. */
static int
pc_cost_parse(const json_t *c, uint64_t *us)
{
	if (!json_is_integer(c) || json_integer_value(c) < 0 ||
	    json_integer_value(c) > (json_int_t)PAUSE_COST_MS_MAX * 1000)
		return -1;
	*us = (uint64_t)json_integer_value(c);
	return 0;
}

/*
 * One entry of a version's file into e; -1 if it is not one relocd
 * wrote.  Version 1 kept one cost, which becomes the one measurement.
 */
static int
pc_entry_parse(const json_t *o, int version, struct pc_entry *e)
{
	const json_t	*d, *t, *s, *u, *r, *c;
	size_t		 i;

	d = json_object_get(o, "destination");
	t = json_object_get(o, "type");
	s = json_object_get(o, "samples");
	u = json_object_get(o, "updated-ms");
	if (!json_is_string(d) || !json_is_string(t) ||
	    !json_is_integer(s) || !json_is_integer(u) ||
	    strlcpy(e->dest, json_string_value(d), sizeof(e->dest)) >=
	    sizeof(e->dest) || e->dest[0] == '\0' ||
	    (e->type = pc_type_parse(json_string_value(t))) == -1 ||
	    json_integer_value(s) < 1 ||
	    json_integer_value(s) > PAUSE_COST_SAMPLES_MAX ||
	    json_integer_value(u) < 0)
		return -1;
	e->samples = (uint32_t)json_integer_value(s);
	e->updated_ms = (int64_t)json_integer_value(u);
	if (version == 1) {
		e->nrecent = 1;
		return pc_cost_parse(json_object_get(o, "cost-us"),
		    &e->recent_us[0]);
	}
	r = json_object_get(o, "recent-us");
	if (!json_is_array(r) || json_array_size(r) < 1 ||
	    json_array_size(r) > PAUSE_COST_RECENT)
		return -1;
	json_array_foreach(r, i, c)
		if (pc_cost_parse(c, &e->recent_us[i]) == -1)
			return -1;
	e->nrecent = json_array_size(r);
	return 0;
}

/*
 * The file into st (empty when there is none); -1 with err naming the
 * file, what is wrong and what to do, st then empty.
 */
static int
pc_load(const char *dir, struct pc_store *st, char *err, size_t errsize)
{
	char		 path[1024], *buf = NULL;
	const char	*what = NULL;
	size_t		 len, i;
	json_t		*root = NULL, *a, *v;
	json_error_t	 jerr;
	int		 version;

	st->n = 0;
	if (pc_path(dir, path, sizeof(path), err, errsize) == -1)
		return -1;
	if (util_read_file(path, PAUSE_COST_FILE_MAX, &buf, &len) == -1) {
		if (errno == ENOENT)
			return 0;
		what = errno == EFBIG ? "larger than relocd writes" :
		    strerror(errno);
		goto bad;
	}
	if ((root = json_loadb(buf, len, 0, &jerr)) == NULL) {
		what = "not JSON";
		goto bad;
	}
	v = json_object_get(root, "version");
	a = json_object_get(root, "costs");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > PAUSE_COST_VERSION || !json_is_array(a)) {
		what = "not a version 1 or 2 list of costs";
		goto bad;
	}
	version = (int)json_integer_value(v);
	if (json_array_size(a) > PAUSE_COST_ENTRIES_MAX) {
		what = "more entries than relocd keeps";
		goto bad;
	}
	json_array_foreach(a, i, v) {
		if (pc_entry_parse(v, version, &st->e[st->n]) == -1) {
			what = "an entry is damaged";
			goto bad;
		}
		st->n++;
	}
	json_decref(root);
	free(buf);
	return 0;
bad:
	st->n = 0;
	snprintf(err, errsize, "%s: %s; the pause's fixed costs start again "
	    "from first guesses, and the next migration's replaces the file "
	    "(or remove it)", path, what);
	json_decref(root);
	free(buf);
	return -1;
}

static json_t *
pc_json(const struct pc_store *st)
{
	const struct pc_entry	*e;
	json_t			*root, *a, *r;
	size_t			 i, j;

	if ((root = json_object()) == NULL)
		return NULL;
	if ((a = json_array()) == NULL ||
	    json_object_set_new(root, "version",
	    json_integer(PAUSE_COST_VERSION)) == -1 ||
	    json_object_set_new(root, "costs", a) == -1)
		goto fail;
	for (i = 0; i < st->n; i++) {
		e = &st->e[i];
		if ((r = json_array()) == NULL)
			goto fail;
		for (j = 0; j < e->nrecent; j++)
			if (json_array_append_new(r,
			    json_integer((json_int_t)e->recent_us[j])) == -1) {
				json_decref(r);
				goto fail;
			}
		/* "o": the array's reference passes to the entry. */
		if (json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:I, "
		    "s:I}", "destination", e->dest, "type",
		    pause_cost_types[e->type].name, "recent-us", r,
		    "samples", (json_int_t)e->samples,
		    "updated-ms", (json_int_t)e->updated_ms)) == -1)
			goto fail;
	}
	return root;
fail:
	json_decref(root);
	return NULL;
}

static int
pc_save(const char *dir, const struct pc_store *st, char *err,
    size_t errsize)
{
	char	 path[1024], *text = NULL;
	json_t	*root;
	int	 rc = -1;

	if (pc_path(dir, path, sizeof(path), err, errsize) == -1)
		return -1;
	if ((root = pc_json(st)) == NULL ||
	    (text = json_dumps(root, JSON_COMPACT)) == NULL) {
		snprintf(err, errsize, "%s: out of memory", path);
		goto out;
	}
	if (util_write_file_atomic(path, text, strlen(text), 0600) == -1) {
		snprintf(err, errsize, "%s: cannot write it: %s; the pause's "
		    "learnt fixed cost is lost (relocd-state-dir must be a "
		    "directory relocd can write: mkdir -m 0700 %s)", path,
		    strerror(errno), dir);
		goto out;
	}
	rc = 0;
out:
	free(text);
	json_decref(root);
	return rc;
}

static struct pc_entry *
pc_find(struct pc_store *st, const char *dest, int type)
{
	size_t	i;

	for (i = 0; i < st->n; i++)
		if (st->e[i].type == type && strcmp(st->e[i].dest, dest) == 0)
			return &st->e[i];
	return NULL;
}

int
pause_cost_lookup(const char *dir, const char *dest,
    struct pause_cost *costs, char *err, size_t errsize)
{
	struct pc_store		*st;
	const struct pc_entry	*e;
	int			 i, rc;

	for (i = 0; i < PAUSE_COST_TYPES; i++) {
		costs[i].ms = pause_cost_guess_ms(i);
		costs[i].samples = 0;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errsize, "pause costs: out of memory; using "
		    "first guesses");
		return -1;
	}
	rc = pc_load(dir, st, err, errsize);
	for (i = 0; rc == 0 && i < PAUSE_COST_TYPES; i++)
		if ((e = pc_find(st, dest, i)) != NULL) {
			costs[i].ms = (pause_cost_median_us(e->recent_us,
			    e->nrecent) + 500) / 1000;
			costs[i].samples = e->samples;
		}
	free(st);
	return rc;
}

uint64_t
pause_cost_median_us(const uint64_t *us, size_t n)
{
	uint64_t	sorted[PAUSE_COST_RECENT], x;
	size_t		i, j;

	if (n == 0)
		return 0;
	if (n > PAUSE_COST_RECENT)
		n = PAUSE_COST_RECENT;
	/* Insertion sort: at most PAUSE_COST_RECENT values. */
	for (i = 0; i < n; i++) {
		x = us[i];
		for (j = i; j > 0 && sorted[j - 1] > x; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = x;
	}
	if (n % 2 == 1)
		return sorted[n / 2];
	return sorted[n / 2 - 1] / 2 + sorted[n / 2] / 2 +
	    (sorted[n / 2 - 1] % 2 + sorted[n / 2] % 2) / 2;
}

/*
 * The entry for dest and type, made (evicting the oldest if full);
 * NULL if dest is longer than an entry holds.
 */
static struct pc_entry *
pc_entry_get(struct pc_store *st, const char *dest, int type)
{
	struct pc_entry	*e;
	size_t		 i, old = 0;

	if ((e = pc_find(st, dest, type)) != NULL)
		return e;
	if (strlen(dest) >= sizeof(e->dest))
		return NULL;
	if (st->n < PAUSE_COST_ENTRIES_MAX)
		e = &st->e[st->n++];
	else {
		for (i = 1; i < st->n; i++)
			if (st->e[i].updated_ms < st->e[old].updated_ms)
				old = i;
		e = &st->e[old];
	}
	memset(e, 0, sizeof(*e));
	if (strlcpy(e->dest, dest, sizeof(e->dest)) >= sizeof(e->dest))
		return NULL;	/* checked above; for the compiler's sake */
	e->type = type;
	return e;
}

int
pause_cost_learn(const char *dir, const char *dest, int type,
    uint64_t sample_ms, int64_t now_ms, struct pause_cost *cost_r,
    char *err, size_t errsize)
{
	struct pc_store	*st;
	struct pc_entry	*e;
	int		 rc = 0;

	if (type < 0 || type >= PAUSE_COST_TYPES || dest[0] == '\0' ||
	    strlen(dest) > PAUSE_COST_DEST_MAX) {
		snprintf(err, errsize, "pause costs: no guest type, or no "
		    "destination of at most %d characters, to learn for",
		    PAUSE_COST_DEST_MAX);
		return -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errsize, "pause costs: out of memory");
		return -1;
	}
	if (pc_load(dir, st, err, errsize) == -1)
		rc = 1;		/* replaced below; err says what it was */
	if (sample_ms > PAUSE_COST_MS_MAX)
		sample_ms = PAUSE_COST_MS_MAX;
	if ((e = pc_entry_get(st, dest, type)) == NULL) {
		free(st);
		snprintf(err, errsize, "pause costs: destination too long");
		return -1;
	}
	if (e->nrecent == PAUSE_COST_RECENT) {
		memmove(e->recent_us, e->recent_us + 1,
		    (PAUSE_COST_RECENT - 1) * sizeof(e->recent_us[0]));
		e->nrecent--;
	}
	e->recent_us[e->nrecent++] = sample_ms * 1000;
	if (e->samples < PAUSE_COST_SAMPLES_MAX)
		e->samples++;
	e->updated_ms = now_ms < 0 ? 0 : now_ms;
	cost_r->ms = (pause_cost_median_us(e->recent_us, e->nrecent) + 500) /
	    1000;
	cost_r->samples = e->samples;
	if (pc_save(dir, st, err, errsize) == -1)
		rc = -1;
	free(st);
	return rc;
}

int64_t
pause_cost_sample(uint64_t downtime_ms, const struct pause *pa,
    uint64_t predicted_ms, uint64_t fixed_used_ms)
{
	int64_t	final = pause_get(pa, PAUSE_FINAL);

	if (downtime_ms == 0)
		return -1;
	if (final < 0)
		final = predicted_ms > fixed_used_ms ?
		    (int64_t)(predicted_ms - fixed_used_ms) : 0;
	if ((int64_t)downtime_ms <= final)
		return 0;
	return (int64_t)downtime_ms - final;
}
