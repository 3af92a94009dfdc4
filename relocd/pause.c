// SPDX-License-Identifier: ISC
/*
 * The parts of a migration's pause (pause.h), in the order they happen:
 *
 *  suspend	the source's suspend handshake, from the request to the
 *		guest stopped; it ends where downtime-ms starts
 *  final-copy	the source's final copy: reading the dirty bitmap and
 *		sending the pages dirtied since the last live send
 *  state	the source's vCPU (and on Xen device) state records
 *  digest	sim only: the source's digest at suspend plus the
 *		destination's check of it, while the guest runs nowhere
 *  release	the source backend letting go of the guest once the
 *		stream is written, before it can report it saved (sim:
 *		unmapping the guest's memory, which grows with its size)
 *  restore	the destination backend finishing its copy after the
 *		stream's last byte: on Xen, xl migrate-receive (libxl
 *		restoring the last records, building the domain's devices)
 *		up to its "ready"; sim, after the digest check, the
 *		guest's state moved and its memory unmapped
 *  commit	the commit exchange, prepared -> go -> activated, as the
 *		source sees it from the stream's end to the news of
 *		activation, less the destination's digest check, restore
 *		and unpause: the stream's tail in flight and the messages
 *		(the destination's own report has its wait for go)
 *  unpause	the destination's unpause of its copy
 *
 * Each is measured by the process that does it; the destination's
 * digest check, restore and unpause reach the source in the activated
 * message.
 * A part that was not measured stays unknown, never 0.  On Xen the
 * final copy includes the vCPU records, which libxenguest sends in the
 * same call, so state is the HVM device model's alone and unknown for
 * PV and PVH; release is 0 there, as the suspended domain is kept as it
 * is until the commit (xen_save.c).
 *
 * Used by the daemon (worker, parent) and by relocctl, which reads the
 * report's JSON; it trusts its callers, and pause_from_json() checks
 * what it reads.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "pause.h"

/* In enum pause_part's order. */
static const struct {
	const char	*name;	/* in the report, the JSON and the sxp */
	const char	*label;	/* in a log line */
} pause_parts[PAUSE_NPARTS] = {
	{ "suspend-ms", "suspend" },
	{ "final-copy-ms", "final copy" },
	{ "state-ms", "vcpu state" },
	{ "digest-ms", "digest" },
	{ "release-ms", "release" },
	{ "restore-ms", "restore" },
	{ "commit-ms", "commit" },
	{ "unpause-ms", "unpause" },
};

void
pause_set(struct pause *p, int part, int64_t ms)
{
	if (part < 0 || part >= PAUSE_NPARTS)
		return;
	p->ms[part] = ms < 0 ? 0 : ms;
	p->known |= 1U << part;
}

int64_t
pause_get(const struct pause *p, int part)
{
	if (part < 0 || part >= PAUSE_NPARTS || !(p->known & (1U << part)))
		return -1;
	return p->ms[part];
}

void
pause_merge(struct pause *p, const struct pause *from)
{
	int	i;

	for (i = 0; i < PAUSE_NPARTS; i++)
		if (from->known & (1U << i))
			pause_set(p, i, from->ms[i]);
}

/* snprintf at *off into buf; -1 when it does not fit. */
static int __attribute__((format(printf, 4, 5)))
pause_put(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (*off >= size)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, size - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *off)
		return -1;
	*off += (size_t)n;
	return 0;
}

int
pause_format(const struct pause *p, char *buf, size_t size)
{
	size_t	off = 0;
	int	i;
	int64_t	v;

	if (size > 0)
		buf[0] = '\0';
	for (i = 0; i < PAUSE_NPARTS; i++) {
		v = pause_get(p, i);
		if ((v >= 0 ? pause_put(buf, size, &off, "%s%s %lld ms",
		    i ? ", " : "", pause_parts[i].label, (long long)v) :
		    pause_put(buf, size, &off, "%s%s unknown", i ? ", " : "",
		    pause_parts[i].label)) == -1)
			return -1;
	}
	return 0;
}

int
pause_sxp(const struct pause *p, char *buf, size_t size, size_t *off)
{
	int	i;
	int64_t	v;

	if (pause_put(buf, size, off, " (pause") == -1)
		return -1;
	for (i = 0; i < PAUSE_NPARTS; i++) {
		v = pause_get(p, i);
		if ((v >= 0 ? pause_put(buf, size, off, " (%s %lld)",
		    pause_parts[i].name, (long long)v) :
		    pause_put(buf, size, off, " (%s unknown)",
		    pause_parts[i].name)) == -1)
			return -1;
	}
	return pause_put(buf, size, off, ")");
}

json_t *
pause_json(const struct pause *p)
{
	json_t	*o, *j;
	int	 i;
	int64_t	 v;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < PAUSE_NPARTS; i++) {
		v = pause_get(p, i);
		j = v >= 0 ? json_integer(v) : json_null();
		if (j == NULL || json_object_set_new(o, pause_parts[i].name,
		    j) == -1) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int
pause_from_json(const json_t *o, struct pause *p)
{
	const json_t	*j;
	int		 i;

	memset(p, 0, sizeof(*p));
	if (o == NULL || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return -1;
	for (i = 0; i < PAUSE_NPARTS; i++) {
		j = json_object_get(o, pause_parts[i].name);
		if (j == NULL || json_is_null(j))
			continue;
		if (!json_is_integer(j) || json_integer_value(j) < 0)
			return -1;
		pause_set(p, i, json_integer_value(j));
	}
	return 0;
}
