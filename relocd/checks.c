// SPDX-License-Identifier: ISC
/*
 * Pre-flight findings (checks.h): building a list, and writing and
 * reading it as sxp, for the peer protocol (proto.c, inside "reserved"
 * and "error") and for relocctl's final report (parent_ctl.c).
 *
 * Runs in workers, the parent, network children and relocctl.
 * checks_parse reads a peer's bytes (or relocd's, in relocctl): every
 * count and length is bounded, and the texts stay a peer's, escaped
 * wherever they are shown (log.c, relocctl_display).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "sxp.h"
#include "util.h"

void
checks_add(struct check_list *l, int ok, const char *fmt, ...)
{
	char		 buf[PROTO_TEXT_MAX * 4];
	struct check	*c = NULL;
	va_list		 ap;
	uint32_t	 i;

	if (l->n < CHECKS_MAX)
		c = &l->item[l->n++];
	else if (!ok)
		/* Full: the last check that passed makes room. */
		for (i = CHECKS_MAX; i > 0 && c == NULL; i--)
			if (l->item[i - 1].ok) {
				memmove(&l->item[i - 1], &l->item[i],
				    (CHECKS_MAX - i) * sizeof(l->item[0]));
				c = &l->item[CHECKS_MAX - 1];
			}
	if (c == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->ok = ok ? 1 : 0;
	util_text_copy(c->text, buf, sizeof(c->text));
}

unsigned int
checks_failed(const struct check_list *l)
{
	unsigned int	n = 0;
	uint32_t	i;

	for (i = 0; i < l->n && i < CHECKS_MAX; i++)
		n += !l->item[i].ok;
	return n;
}

const char *
checks_first_failure(const struct check_list *l)
{
	uint32_t	i;

	for (i = 0; i < l->n && i < CHECKS_MAX; i++)
		if (!l->item[i].ok)
			return l->item[i].text;
	return NULL;
}

void
checks_prefix_failures(struct check_list *l, const char *prefix)
{
	char		buf[PROTO_TEXT_MAX * 2 + 4];
	uint32_t	i;

	for (i = 0; i < l->n && i < CHECKS_MAX; i++) {
		if (l->item[i].ok)
			continue;
		snprintf(buf, sizeof(buf), "%s: %s", prefix, l->item[i].text);
		util_text_copy(l->item[i].text, buf, sizeof(l->item[i].text));
	}
}

void
checks_terminate(struct check_list *l)
{
	uint32_t	i;

	if (l->n > CHECKS_MAX)
		l->n = CHECKS_MAX;
	for (i = 0; i < CHECKS_MAX; i++) {
		l->item[i].ok = l->item[i].ok ? 1 : 0;
		l->item[i].text[sizeof(l->item[i].text) - 1] = '\0';
	}
}

int
checks_format(const struct check_list *l, char *out, size_t size,
    size_t *off)
{
	char		q[4 * PROTO_TEXT_MAX + 3];
	uint32_t	i;
	int		r;

	if (l->n == 0)
		return 0;
	r = snprintf(out + *off, size - *off, " (checks");
	if (r < 0 || (size_t)r >= size - *off)
		return -1;
	*off += (size_t)r;
	for (i = 0; i < l->n && i < CHECKS_MAX; i++) {
		if (sxp_quote(l->item[i].text, strlen(l->item[i].text), q,
		    sizeof(q)) == -1)
			return -1;
		r = snprintf(out + *off, size - *off, " (check (ok %s) "
		    "(text %s))", l->item[i].ok ? "yes" : "no", q);
		if (r < 0 || (size_t)r >= size - *off)
			return -1;
		*off += (size_t)r;
	}
	if (*off + 2 > size)
		return -1;
	out[(*off)++] = ')';
	out[*off] = '\0';
	return 0;
}

int
checks_parse(const struct sxp_node *msg, struct check_list *l)
{
	const struct sxp_node	*f, *c;
	const char		*ok, *text;

	memset(l, 0, sizeof(*l));
	if ((f = sxp_field_node(msg, "checks")) == NULL)
		return 0;
	for (c = f->first->next; c != NULL; c = c->next) {
		if (c->type != SXP_LIST || c->first == NULL ||
		    c->first->type != SXP_ATOM ||
		    strcmp(c->first->text, "check") != 0 ||
		    l->n == CHECKS_MAX ||
		    (ok = sxp_field(c, "ok")) == NULL ||
		    (strcmp(ok, "yes") != 0 && strcmp(ok, "no") != 0) ||
		    (text = sxp_field(c, "text")) == NULL ||
		    strlen(text) > PROTO_TEXT_MAX)
			goto bad;
		l->item[l->n].ok = strcmp(ok, "yes") == 0;
		memcpy(l->item[l->n].text, text, strlen(text) + 1);
		l->n++;
	}
	return 0;
bad:
	memset(l, 0, sizeof(*l));
	return -1;
}
