// SPDX-License-Identifier: ISC
/*
 * The one place where relocctl turns a daemon's reply into typed values:
 * each field of an sxp message (started, progress, result, error)
 * becomes a member of a jansson object with the type the table below
 * gives it, and --json prints that object as one line (JSON Lines).  The
 * text output reads the same object, so the two cannot disagree.  A new
 * field gets its type here, and its line in relocctl(8).
 *
 * Replies that are lists (status's jobs, the guest list) become arrays
 * of objects typed by the same table.
 *
 * Runs in relocctl.  Replies come from the local daemon, but some of
 * their text is a peer's (a destination's reason for refusing), so a
 * number is parsed within its bounds and a string is made valid UTF-8
 * before jansson sees it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto.h"
#include "relocctl.h"
#include "sxp.h"
#include "util.h"

/* U+FFFD REPLACEMENT CHARACTER, in UTF-8. */
#define RJ_REPLACEMENT		"\xef\xbf\xbd"

enum rj_type {
	RJ_STRING,
	RJ_INT,
	RJ_BOOL,
	RJ_STRINGS,	/* a name that may repeat: an array of its values */
	RJ_LIST,	/* (name (item ...) ...): an array of objects */
	RJ_OBJECT	/* (name (field value) ...): an object */
};

struct rj_field {
	const char	*name;
	enum rj_type	 type;
	long long	 min, max;	/* RJ_INT */
};

/*
 * Every field of started, progress, result and error, of status and
 * its jobs, of the guest list and of a report, with its type.  The
 * bounds are those of the C types relocd prints them from (a round is
 * unsigned, a byte count uint64_t but never past INT64_MAX, dirty is -1
 * while libxenguest has not counted, a domid and a vCPU count are
 * uint32_t).  A field not listed here is passed on as a string.
 */
static const struct rj_field rj_fields[] = {
	{ "id", RJ_STRING, 0, 0 },
	{ "what", RJ_STRING, 0, 0 },
	{ "guest", RJ_STRING, 0, 0 },
	{ "text", RJ_STRING, 0, 0 },
	{ "decision", RJ_STRING, 0, 0 },
	{ "ok", RJ_BOOL, 0, 0 },
	{ "code", RJ_INT, PE_NONE, PE_MAX - 1 },
	{ "round", RJ_INT, 0, UINT32_MAX },
	{ "rounds", RJ_INT, 0, UINT32_MAX },
	{ "bytes", RJ_INT, 0, INT64_MAX },
	{ "stream-bytes", RJ_INT, 0, INT64_MAX },
	{ "wire-bytes", RJ_INT, 0, INT64_MAX },
	{ "compression", RJ_STRING, 0, 0 },
	{ "memory", RJ_INT, 0, INT64_MAX },
	{ "memory-sent", RJ_INT, 0, INT64_MAX },
	{ "zero-pages", RJ_INT, 0, INT64_MAX },
	{ "skipped-pages", RJ_INT, 0, INT64_MAX },
	{ "dirty", RJ_INT, -1, INT64_MAX },
	{ "bandwidth", RJ_INT, 0, INT64_MAX },
	{ "dirty-rate", RJ_INT, 0, INT64_MAX },
	{ "downtime-ms", RJ_INT, 0, INT64_MAX },
	{ "predicted-downtime-ms", RJ_INT, 0, INT64_MAX },
	{ "fixed-cost-ms", RJ_INT, 0, INT64_MAX },
	{ "fixed-cost-samples", RJ_INT, 0, UINT32_MAX },
	{ "digest-ms", RJ_INT, 0, INT64_MAX },
	{ "elapsed-ms", RJ_INT, 0, INT64_MAX },
	{ "throttle", RJ_INT, 0, 100 },
	/* a check's: the destination's protocol and what it can give */
	{ "protocol", RJ_INT, 0, UINT32_MAX },
	{ "available", RJ_INT, 0, INT64_MAX },
	/* a check's findings, (checks (check (ok yes) (text ...)) ...) */
	{ "checks", RJ_LIST, 0, 0 },
	/* status, and each of its jobs */
	{ "version", RJ_STRING, 0, 0 },
	{ "backend", RJ_STRING, 0, 0 },
	{ "host", RJ_STRING, 0, 0 },
	{ "listen-tls", RJ_STRINGS, 0, 0 },
	{ "listen-plain", RJ_STRINGS, 0, 0 },
	{ "jobs", RJ_LIST, 0, 0 },
	{ "state", RJ_STRING, 0, 0 },
	{ "peer", RJ_STRING, 0, 0 },
	{ "result", RJ_STRING, 0, 0 },
	/* the guest list, (guests (guest ...) ...) */
	{ "guests", RJ_LIST, 0, 0 },
	{ "name", RJ_STRING, 0, 0 },
	{ "uuid", RJ_STRING, 0, 0 },
	{ "domid", RJ_INT, 0, UINT32_MAX },
	{ "vcpus", RJ_INT, 0, UINT32_MAX },
	/* a report (relocctl status ID) */
	{ "start-time-ms", RJ_INT, 0, INT64_MAX },
	{ "end-time-ms", RJ_INT, 0, INT64_MAX },
	{ "setup-ms", RJ_INT, 0, INT64_MAX },
	{ "suspend-time-ms", RJ_INT, 0, INT64_MAX },
	/*
	 * result and report: the parts of the pause (relocd/pause.c), each
	 * an integer or, not measured, "unknown": null
	 */
	{ "pause", RJ_OBJECT, 0, 0 },
	{ "suspend-ms", RJ_INT, 0, INT64_MAX },
	{ "final-copy-ms", RJ_INT, 0, INT64_MAX },
	{ "state-ms", RJ_INT, 0, INT64_MAX },
	{ "release-ms", RJ_INT, 0, INT64_MAX },
	{ "restore-ms", RJ_INT, 0, INT64_MAX },
	{ "commit-ms", RJ_INT, 0, INT64_MAX },
	{ "unpause-ms", RJ_INT, 0, INT64_MAX },
	/*
	 * progress, result and report, once the policy knows that the
	 * downtime target cannot be met (relocd/target.c)
	 */
	{ "target-unreachable", RJ_OBJECT, 0, 0 },
	{ "reason", RJ_STRING, 0, 0 },
	{ "choice", RJ_STRING, 0, 0 },
	{ "min-pause-ms", RJ_INT, 0, INT64_MAX },
	{ "max-downtime-ms", RJ_INT, 0, INT64_MAX },
};

#define RJ_NFIELDS	(sizeof(rj_fields) / sizeof(rj_fields[0]))

static const struct rj_field *
rj_lookup(const char *name)
{
	size_t	i;

	for (i = 0; i < RJ_NFIELDS; i++)
		if (strcmp(rj_fields[i].name, name) == 0)
			return &rj_fields[i];
	return NULL;
}

/*
 * The length of the well-formed UTF-8 sequence at s (Unicode's table
 * 3-7: no overlong form, no surrogate, nothing past U+10FFFF, the rules
 * jansson checks), with *ok_r set; or, with *ok_r clear, the length of
 * the ill-formed part that one U+FFFD stands for: the longest start of a
 * sequence that could have been valid, else one byte (Unicode's
 * "maximal subpart", as the WHATWG decoder and Python's read it).
 */
static size_t
rj_utf8_len(const unsigned char *s, size_t n, int *ok_r)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		len, i;

	*ok_r = s[0] < 0x80;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 1;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i < len; i++) {
		if (i == n || s[i] < lo || s[i] > hi)
			return i;
		lo = 0x80;
		hi = 0xbf;
	}
	*ok_r = 1;
	return len;
}

/*
 * s made valid UTF-8, in a new NUL-terminated buffer of *len_r bytes.
 * JSON carries Unicode text only, so a byte that is not part of valid
 * UTF-8 (a peer's Latin-1, or garbage) has no JSON spelling: jansson
 * refuses the whole string, and passed through raw it would make the
 * line unreadable to every JSON reader.  Each ill-formed part becomes
 * U+FFFD, as Unicode prescribes and as Python's errors="replace" reads
 * it; writing it as the text "\xff" instead could not be told from a
 * peer that sent those four characters.  jansson escapes control
 * characters itself.
 */
static char *
rj_utf8(const char *s, size_t *len_r)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 len = strlen(s), i, o = 0, n;
	char			*buf;
	int			 ok;

	if ((buf = reallocarray(NULL, len + 1, 3)) == NULL)
		return NULL;
	for (i = 0; i < len; i += n) {
		n = rj_utf8_len(u + i, len - i, &ok);
		if (ok) {
			memcpy(buf + o, s + i, n);
			o += n;
		} else {
			memcpy(buf + o, RJ_REPLACEMENT, 3);
			o += 3;
		}
	}
	buf[o] = '\0';
	*len_r = o;
	return buf;
}

static json_t *
rj_string(const char *s)
{
	json_t	*j;
	char	*buf;
	size_t	 len;

	if ((buf = rj_utf8(s, &len)) == NULL)
		return NULL;
	j = json_stringn(buf, len);
	free(buf);
	return j;
}

/*
 * The typed value of field f (NULL: not in the table, a string) from
 * its text v.  A value that is not what its field must be becomes null,
 * with a warning: relocd sent something relocctl cannot stand behind.
 */
static json_t *
rj_value(const struct rj_field *f, const char *v)
{
	const char	*errstr;
	long long	 n;

	if (f == NULL || f->type == RJ_STRING)
		return rj_string(v);
	if (f->type == RJ_BOOL) {
		if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0)
			return json_boolean(strcmp(v, "yes") == 0);
		fprintf(stderr, "relocctl: relocd sent a bad %s (not yes or "
		    "no)\n", f->name);
		return json_null();
	}
	/* relocd's word for a measurement it could not make. */
	if (strcmp(v, "unknown") == 0)
		return json_null();
	n = util_strtonum(v, f->min, f->max, &errstr);
	if (errstr == NULL)
		return json_integer(n);
	fprintf(stderr, "relocctl: relocd sent a bad %s (not an integer from "
	    "%lld to %lld)\n", f->name, f->min, f->max);
	return json_null();
}

static json_t	*rj_items(const struct sxp_node *);
static int	 rj_members(json_t *, const struct sxp_node *,
	    const struct sxp_node *);

/*
 * Field f, (name value) or for an RJ_LIST (name (item ...) ...), of
 * list as a member of o.  The first of a name decides, read with
 * sxp_field as everywhere else; an RJ_STRINGS name collects every
 * value, in order.  A field sxp_field refuses (no value, a list, a NUL)
 * is null.  -1 if memory ran out.
 */
static int
rj_member(json_t *o, const struct sxp_node *list, const struct sxp_node *f)
{
	const struct rj_field	*rf;
	const struct sxp_node	*n;
	const char		*v;
	json_t			*j, *a;
	char			*key;
	size_t			 len;
	int			 rc = -1;

	/* A key, too, must be UTF-8 for jansson to take it. */
	if ((key = rj_utf8(f->first->text, &len)) == NULL)
		return -1;
	rf = rj_lookup(key);
	a = json_object_get(o, key);
	if (rf != NULL && rf->type == RJ_STRINGS) {
		/* Each value by sxp_field's rule: an atom or a string. */
		n = f->first->next;
		v = n != NULL && n->type != SXP_LIST &&
		    strlen(n->text) == n->len ? n->text : NULL;
		if (a == NULL && json_object_set_new(o, key,
		    a = json_array()) == -1)
			a = NULL;
		/* json_array_append_new takes j, or frees it. */
		if (a != NULL && json_array_append_new(a, v != NULL ?
		    rj_string(v) : json_null()) == 0)
			rc = 0;
	} else if (a != NULL)
		rc = 0;
	else {
		if (rf != NULL && rf->type == RJ_LIST)
			j = rj_items(f->first->next);
		else if (rf != NULL && rf->type == RJ_OBJECT) {
			if ((j = json_object()) != NULL &&
			    rj_members(j, f, f->first->next) == -1) {
				json_decref(j);
				j = NULL;
			}
		} else if ((v = sxp_field(list, f->first->text)) != NULL)
			j = rj_value(rf, v);
		else
			j = json_null();
		rc = j != NULL && json_object_set_new(o, key, j) == 0 ? 0 : -1;
	}
	free(key);
	return rc;
}

/* The fields of list from f on into o; -1 if memory ran out. */
static int
rj_members(json_t *o, const struct sxp_node *list, const struct sxp_node *f)
{
	for (; f != NULL; f = f->next)
		if (f->type == SXP_LIST && f->first != NULL &&
		    f->first->type == SXP_ATOM && rj_member(o, list, f) == -1)
			return -1;
	return 0;
}

/*
 * The items from item on, (kind (name value) ...) each, as an array of
 * objects with their fields only: inside a status or a guest list the
 * kind (job, guest) is the array's, and a guest's own "type" (its
 * virtualisation mode) keeps its name.
 */
static json_t *
rj_items(const struct sxp_node *item)
{
	json_t	*a, *o;

	if ((a = json_array()) == NULL)
		return NULL;
	for (; item != NULL; item = item->next) {
		if (item->type != SXP_LIST || item->first == NULL)
			continue;
		if ((o = json_object()) == NULL ||
		    json_array_append_new(a, o) == -1 ||
		    rj_members(o, item, item->first->next) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/*
 * The object for message msg, (type (name value) ...): "type" first,
 * then its fields in the order relocd sent them.  A message whose kind
 * is itself a list, (guests (guest ...) ...), has its items as an array
 * under that name.  Returns NULL if msg has no head or memory ran out.
 */
json_t *
relocctl_json_msg(const struct sxp_node *msg)
{
	const struct rj_field	*rf;
	json_t			*o = NULL, *j;

	if (msg->type != SXP_LIST || msg->first == NULL ||
	    msg->first->type != SXP_ATOM || (o = json_object()) == NULL ||
	    (j = rj_string(msg->first->text)) == NULL ||
	    json_object_set_new(o, "type", j) == -1)
		goto fail;
	rf = rj_lookup(msg->first->text);
	if (rf != NULL && rf->type == RJ_LIST) {
		if ((j = rj_items(msg->first->next)) == NULL ||
		    json_object_set_new(o, msg->first->text, j) == -1)
			goto fail;
	} else if (rj_members(o, msg, msg->first->next) == -1)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* One object as one line of JSON, flushed at once for a reader waiting. */
int
relocctl_json_print(const json_t *o)
{
	if (json_dumpf(o, stdout, JSON_COMPACT) == -1 ||
	    putchar('\n') == EOF || fflush(stdout) == EOF)
		return -1;
	return 0;
}
