// SPDX-License-Identifier: ISC
/*
 * Finished migrations' reports (relocctl status ID): one table of typed
 * fields that writes a report as JSON for its file, reads it back, and
 * writes it as the sxp reply on the control socket; and the store, one
 * file per report in relocd-state-dir, written atomically, read back
 * after a restart, and pruned by age and count (bounds.h).
 *
 * Runs in the parent, as root, in a directory only root may write
 * (mode 0700, systemd's StateDirectory): its files are relocd's own,
 * yet a file is still read with a size cap and every field checked
 * against its type and range, so that a damaged file is an error
 * naming it, never a crash or a wrong number.  Only a name relocd
 * writes (a migration id and ".json") is read or pruned.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "proto.h"
#include "report.h"
#include "sxp.h"
#include "util.h"

enum rf_type {
	RF_STR,
	RF_INT,
	RF_BOOL
};

struct report_field {
	const char	*name;
	enum rf_type	 type;
	size_t		 off;
	size_t		 size;		/* RF_STR: the buffer */
	int64_t		 min, max;	/* RF_INT */
};

#define RF_S(n, m)	{ n, RF_STR, offsetof(struct report, m),	\
			  sizeof(((struct report *)0)->m), 0, 0 }
#define RF_I(n, m, lo, hi) { n, RF_INT, offsetof(struct report, m), 0, lo, hi }
#define RF_MS(n, m)	RF_I(n, m, 0, INT64_MAX)

/*
 * Every field, in the order the reply and the file give them.  The
 * names are those of relocctl's result message where they mean the
 * same (elapsed-ms, downtime-ms, rounds), and relocctl(8) lists each
 * with its type.
 */
static const struct report_field report_fields[] = {
	RF_S("id", id),
	RF_S("what", what),
	RF_S("guest", guest),
	RF_S("peer", peer),
	RF_S("state", state),
	{ "ok", RF_BOOL, offsetof(struct report, ok), 0, 0, 1 },
	RF_I("code", code, 0, PE_MAX - 1),
	RF_S("text", text),
	RF_MS("start-time-ms", start_time_ms),
	RF_MS("end-time-ms", end_time_ms),
	RF_MS("setup-ms", setup_ms),
	RF_MS("elapsed-ms", elapsed_ms),
	RF_MS("downtime-ms", downtime_ms),
	RF_MS("predicted-downtime-ms", predicted_downtime_ms),
	RF_MS("fixed-cost-ms", fixed_cost_ms),
	RF_I("fixed-cost-samples", fixed_cost_samples, 0, UINT32_MAX),
	RF_MS("digest-ms", digest_ms),
	RF_MS("suspend-time-ms", suspend_time_ms),
	RF_MS("bytes", bytes),
	RF_MS("wire-bytes", wire_bytes),
	RF_S("compression", compression),
	RF_MS("memory", memory),
	RF_MS("memory-sent", memory_sent),
	RF_MS("zero-pages", zero_pages),
	RF_MS("skipped-pages", skipped_pages),
	RF_I("rounds", rounds, 0, UINT32_MAX),
	RF_MS("bandwidth", bandwidth),
	RF_MS("dirty-rate", dirty_rate),
	RF_I("dirty", dirty, -1, INT64_MAX),
	RF_I("throttle", throttle, 0, 100),
	RF_S("decision", decision),
};

#define REPORT_NFIELDS	(sizeof(report_fields) / sizeof(report_fields[0]))
#define REPORT_SUFFIX	".json"
/* util_write_file_atomic's temporary file: ID.json.XXXXXX. */
#define REPORT_TMP	".json."
#define REPORT_TMP_RANDOM	6

static char *
rf_str(struct report *r, const struct report_field *f)
{
	return (char *)r + f->off;
}

static int64_t *
rf_int(struct report *r, const struct report_field *f)
{
	return (int64_t *)(void *)((char *)r + f->off);
}

static const char *
rf_cstr(const struct report *r, const struct report_field *f)
{
	return (const char *)r + f->off;
}

static int64_t
rf_cint(const struct report *r, const struct report_field *f)
{
	return *(const int64_t *)(const void *)((const char *)r + f->off);
}

/*
 * A string as JSON: jansson takes only UTF-8, and a result may hold a
 * peer's bytes, so a string that is not UTF-8 is kept escaped (ASCII).
 */
static json_t *
rf_json_string(const char *s)
{
	char	esc[4 * 256 + 1];
	json_t	*j;

	if ((j = json_string(s)) != NULL)
		return j;
	util_text_escape(esc, sizeof(esc), s);
	return json_string(esc);
}

/* The report as a JSON object, for its file; NULL if memory ran out. */
json_t *
report_json(const struct report *r)
{
	const struct report_field *f;
	json_t		*o, *j;
	size_t		 i;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < REPORT_NFIELDS; i++) {
		f = &report_fields[i];
		if (f->type == RF_STR)
			j = rf_json_string(rf_cstr(r, f));
		else if (f->type == RF_BOOL)
			j = json_boolean(r->ok);
		else
			j = json_integer(rf_cint(r, f));
		if (j == NULL || json_object_set_new(o, f->name, j) == -1) {
			json_decref(o);
			return NULL;
		}
	}
	if ((j = pause_json(&r->pause)) == NULL ||
	    json_object_set_new(o, "pause", j) == -1) {
		json_decref(o);
		return NULL;
	}
	/* Only when it was: as in relocctl's progress and result. */
	if (r->target.reason != TARGET_REACHABLE &&
	    ((j = target_json(&r->target)) == NULL ||
	    json_object_set_new(o, "target-unreachable", j) == -1)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* One member of o into r, checked against its field; -1 names it. */
static int
rf_from_json(const json_t *o, const struct report_field *f,
    struct report *r, char *err, size_t errsize)
{
	const json_t	*j = json_object_get(o, f->name);
	json_int_t	 n;

	/* An older or newer relocd's file: what it lacks is not measured. */
	if (j == NULL)
		return 0;
	if (f->type == RF_STR && json_is_string(j) &&
	    strlcpy(rf_str(r, f), json_string_value(j), f->size) < f->size)
		return 0;
	if (f->type == RF_BOOL && json_is_boolean(j)) {
		r->ok = json_is_true(j);
		return 0;
	}
	if (f->type == RF_INT && json_is_integer(j) &&
	    (n = json_integer_value(j)) >= f->min && n <= f->max) {
		*rf_int(r, f) = n;
		return 0;
	}
	snprintf(err, errsize, "%s is not %s", f->name, f->type == RF_STR ?
	    "a string that fits" : f->type == RF_BOOL ? "true or false" :
	    "an integer in range");
	return -1;
}

/* r from a report's JSON object; -1 with err naming the bad field. */
int
report_from_json(const json_t *o, struct report *r, char *err,
    size_t errsize)
{
	size_t	i;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o)) {
		snprintf(err, errsize, "not a JSON object");
		return -1;
	}
	for (i = 0; i < REPORT_NFIELDS; i++)
		if (rf_from_json(o, &report_fields[i], r, err, errsize) == -1)
			return -1;
	/* An older relocd's file has none: every part unknown. */
	if (pause_from_json(json_object_get(o, "pause"), &r->pause) == -1) {
		snprintf(err, errsize, "pause is not an object of "
		    "non-negative integers or nulls");
		return -1;
	}
	if (target_from_json(json_object_get(o, "target-unreachable"),
	    &r->target) == -1) {
		snprintf(err, errsize, "target-unreachable is not an object "
		    "of reason, choice, min-pause-ms and max-downtime-ms");
		return -1;
	}
	return 0;
}

/*
 * The report as the control socket's reply, "(report (id ...) ...)",
 * into buf; -1 if it does not fit.
 */
int
report_sxp(const struct report *r, char *buf, size_t size)
{
	const struct report_field *f;
	char		 q[4 * 256 + 3];
	size_t		 i, len;
	int		 n;

	if ((n = snprintf(buf, size, "(report")) < 0 || (size_t)n >= size)
		return -1;
	for (i = 0; i < REPORT_NFIELDS; i++) {
		f = &report_fields[i];
		len = strlen(buf);
		if (f->type == RF_STR) {
			if (sxp_quote(rf_cstr(r, f), strlen(rf_cstr(r, f)), q,
			    sizeof(q)) == -1)
				return -1;
			n = snprintf(buf + len, size - len, " (%s %s)",
			    f->name, q);
		} else if (f->type == RF_BOOL)
			n = snprintf(buf + len, size - len, " (ok %s)",
			    r->ok ? "yes" : "no");
		else
			n = snprintf(buf + len, size - len, " (%s %lld)",
			    f->name, (long long)rf_cint(r, f));
		if (n < 0 || (size_t)n >= size - len)
			return -1;
	}
	len = strlen(buf);
	if (pause_sxp(&r->pause, buf, size, &len) == -1 ||
	    target_sxp(&r->target, buf, size, &len) == -1 || len + 2 > size)
		return -1;
	memcpy(buf + len, ")", 2);
	return 0;
}

/* dir/ID plus suffix into buf; -1 (err set) if it does not fit. */
static int
report_path(const char *dir, const char *id, const char *suffix,
    char *buf, size_t size, char *err, size_t errsize)
{
	int	n = snprintf(buf, size, "%s/%s%s", dir, id, suffix);

	if (n >= 0 && (size_t)n < size)
		return 0;
	snprintf(err, errsize, "relocd-state-dir %s: path too long", dir);
	return -1;
}

/*
 * Whether dir can take reports: a directory relocd can write.  err
 * names the path and says what to do; a missing directory is not
 * fatal for migrations, only for keeping their reports.
 */
int
report_store_check(const char *dir, char *err, size_t errsize)
{
	struct stat	 st;
	const char	*why = NULL;

	if (stat(dir, &st) == -1)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	else if (access(dir, W_OK | X_OK) == -1)
		why = strerror(errno);
	if (why == NULL)
		return 0;
	snprintf(err, errsize, "relocd-state-dir %s: %s; finished migrations' "
	    "reports are not kept until it is a directory root can write "
	    "(mkdir -m 0700 %s, or set relocd-state-dir; under systemd, "
	    "StateDirectory=relocd makes it)", dir, why, dir);
	return -1;
}

/*
 * Writes r to dir/ID.json, mode 0600, atomically: a temporary file in
 * the same directory, synced, then renamed over, so a reader (or a
 * restart after a crash) sees the old report or the new one whole.
 */
int
report_store_save(const char *dir, const struct report *r, char *err,
    size_t errsize)
{
	char	path[CONF_DIR_MAX + MIG_ID_LEN + 16];
	char	*text = NULL;
	json_t	*o = NULL;
	int	 rc = -1;

	if (!proto_id_valid(r->id)) {
		snprintf(err, errsize, "report without a valid migration id");
		return -1;
	}
	if (report_path(dir, r->id, REPORT_SUFFIX, path, sizeof(path), err,
	    errsize) == -1)
		return -1;
	if ((o = report_json(r)) == NULL ||
	    (text = json_dumps(o, JSON_COMPACT)) == NULL) {
		snprintf(err, errsize, "%s: out of memory", path);
		goto out;
	}
	if (util_write_file_atomic(path, text, strlen(text), 0600) == -1) {
		snprintf(err, errsize, "%s: %s; the report of migration %s is "
		    "not kept (check relocd-state-dir)", path, strerror(errno),
		    r->id);
		goto out;
	}
	rc = 0;
out:
	free(text);
	json_decref(o);
	return rc;
}

static int64_t
report_mtime_ms(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000 +
	    st->st_mtim.tv_nsec / 1000000;
}

/*
 * The report of migration id from dir into r.  Returns 0, or 1 if
 * there is none (never written, pruned, or older than max_age_ms at
 * now_ms), or -1 with err naming the file and what is wrong with it.
 */
int
report_store_load(const char *dir, const char *id, int64_t now_ms,
    int64_t max_age_ms, struct report *r, char *err, size_t errsize)
{
	char		 path[CONF_DIR_MAX + MIG_ID_LEN + 16];
	char		*buf = NULL, why[128];
	size_t		 len;
	struct stat	 st;
	json_error_t	 jerr;
	json_t		*o = NULL;
	int		 rc = -1;

	if (!proto_id_valid(id))
		return 1;
	if (report_path(dir, id, REPORT_SUFFIX, path, sizeof(path), err,
	    errsize) == -1)
		return -1;
	if (util_read_file_stat(path, REPORT_FILE_MAX, &buf, &len,
	    &st) == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errsize, "%s: %s", path, errno == EFBIG ?
		    "larger than a report can be" : strerror(errno));
		return -1;
	}
	if (now_ms - report_mtime_ms(&st) > max_age_ms) {
		rc = 1;
		goto out;
	}
	if ((o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(err, errsize, "%s: line %d: %s", path, jerr.line,
		    jerr.text);
		goto out;
	}
	if (report_from_json(o, r, why, sizeof(why)) == -1 ||
	    (strcmp(r->id, id) != 0 &&
	    snprintf(why, sizeof(why), "id is not %s", id) > 0)) {
		snprintf(err, errsize, "%s: %s; remove the file", path, why);
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	free(buf);
	return rc;
}

struct report_entry {
	int64_t	mtime_ms;
	char	name[MIG_ID_LEN + sizeof(REPORT_TMP) + REPORT_TMP_RANDOM];
};

/* Newest first; the same time (one clock tick) by name, for a fixed order. */
static int
report_entry_cmp(const void *a, const void *b)
{
	const struct report_entry *x = a, *y = b;

	if (x->mtime_ms != y->mtime_ms)
		return x->mtime_ms < y->mtime_ms ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* What name is: 0 not ours, 1 a report (ID.json), 2 a temporary file. */
static int
report_name_kind(const char *name)
{
	char	id[MIG_ID_LEN + 1];

	if (strlen(name) < MIG_ID_LEN)
		return 0;
	memcpy(id, name, MIG_ID_LEN);
	id[MIG_ID_LEN] = '\0';
	if (!proto_id_valid(id))
		return 0;
	if (strcmp(name + MIG_ID_LEN, REPORT_SUFFIX) == 0)
		return 1;
	return strlen(name) == MIG_ID_LEN + strlen(REPORT_TMP) +
	    REPORT_TMP_RANDOM && strncmp(name + MIG_ID_LEN, REPORT_TMP,
	    strlen(REPORT_TMP)) == 0 ? 2 : 0;
}

/*
 * Removes from dir the reports older than max_age_ms at now_ms (the
 * wall clock, as the files' times are) and all but the newest
 * max_count of the rest, and any temporary file a crash left (the
 * parent writes one at a time and renames it before it returns).
 * *removed_r counts the files removed.  -1 (errno) if dir cannot be
 * read; a file that cannot be removed is skipped.
 */
int
report_store_prune(const char *dir, int64_t now_ms, int64_t max_age_ms,
    size_t max_count, size_t *removed_r)
{
	struct report_entry	*ents = NULL, *p;
	struct dirent		*de;
	struct stat		 st;
	size_t			 n = 0, cap = 0, i, kept = 0;
	DIR			*d;
	int			 kind, saved;

	*removed_r = 0;
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if ((kind = report_name_kind(de->d_name)) == 0 ||
		    fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (kind == 2) {
			*removed_r += unlinkat(dirfd(d), de->d_name, 0) == 0;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((p = reallocarray(ents, cap, sizeof(*ents))) ==
			    NULL)
				goto fail;
			ents = p;
		}
		ents[n].mtime_ms = report_mtime_ms(&st);
		/* Fits: report_name_kind took only ID.json. */
		(void)snprintf(ents[n].name, sizeof(ents[n].name), "%s",
		    de->d_name);
		n++;
	}
	if (n > 0)	/* qsort takes no NULL, even for none */
		qsort(ents, n, sizeof(*ents), report_entry_cmp);
	for (i = 0; i < n; i++) {
		if (now_ms - ents[i].mtime_ms <= max_age_ms &&
		    kept < max_count) {
			kept++;
			continue;
		}
		*removed_r += unlinkat(dirfd(d), ents[i].name, 0) == 0;
	}
	free(ents);
	closedir(d);
	return 0;
fail:
	saved = errno;
	free(ents);
	closedir(d);
	errno = saved;
	return -1;
}
