// SPDX-License-Identifier: ISC
/*
 * A reader for xend's s-expression syntax, faithful to xend's sxp.py so
 * that an existing xend-config.sxp reads exactly as xend read it:
 *
 *  - '#' starts a comment to the end of the line, and also ends an atom;
 *  - atoms end at white space, '#', or one of {}()<>[]!; (xend's
 *    separators), though a separator that starts a token is part of it;
 *  - strings are quoted with ' or " and know the escapes \a \b \t \n \v
 *    \f \r \\ \' \" \xHH and \ooo;
 *  - an unknown escape keeps the backslash and drops the next character,
 *    which is why real configs write '\\.' for a regex dot.
 *
 * Where xend crashed (a \x with no hex digit) or misbehaved, we report an
 * error with the line instead.  The reader does no I/O: it takes a buffer,
 * so the config loader, the protocol and the fuzzer all drive it alike.
 * It trusts nothing in the buffer; every size is bounded (bounds.h).
 * sxp_field is the one way to read a field of a parsed message, for the
 * daemon's requests, the peer protocol, the workers' notes and relocctl.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "sxp.h"

struct sxp_reader {
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	int		 line;
	int		 depth;
	size_t		 nodes;
	size_t		 token_max;
	struct sxp_error *err;
};

/* One token being built; grows up to the reader's token_max. */
struct sxp_token {
	char		*text;
	size_t		 len;
	size_t		 size;
};

static int	sxp_read_list(struct sxp_reader *, struct sxp_node *, int);

static int
sxp_fail(struct sxp_reader *rd, int line, const char *fmt, ...)
{
	va_list	ap;

	if (rd->err != NULL) {
		rd->err->line = line;
		va_start(ap, fmt);
		vsnprintf(rd->err->msg, sizeof(rd->err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
sxp_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' ||
	    c == '\f' || c == '\r';
}

static int
sxp_is_separator(int c)
{
	return c != '\0' && strchr("{}()<>[]!;", c) != NULL;
}

/* Python's string.printable less white space, which the caller handled. */
static int
sxp_is_printable(int c)
{
	return c >= 0x21 && c <= 0x7e;
}

static int
sxp_peek(struct sxp_reader *rd)
{
	if (rd->pos >= rd->len)
		return -1;
	return (unsigned char)rd->buf[rd->pos];
}

static int
sxp_getc(struct sxp_reader *rd)
{
	int	c = sxp_peek(rd);

	if (c == -1)
		return -1;
	rd->pos++;
	if (c == '\n')
		rd->line++;
	return c;
}

static int
sxp_token_add(struct sxp_reader *rd, struct sxp_token *tok, int c, int line)
{
	char	*p;
	size_t	 size;

	if (tok->len >= rd->token_max)
		return sxp_fail(rd, line, "token longer than %zu bytes",
		    rd->token_max);
	if (tok->len + 1 >= tok->size) {
		size = tok->size == 0 ? 64 : tok->size * 2;
		if ((p = realloc(tok->text, size)) == NULL)
			return sxp_fail(rd, line, "out of memory");
		tok->text = p;
		tok->size = size;
	}
	tok->text[tok->len++] = (char)c;
	return 0;
}

static struct sxp_node *
sxp_node_new(struct sxp_reader *rd, enum sxp_type type, int line,
    const struct sxp_token *tok)
{
	struct sxp_node	*n;

	if (++rd->nodes > SXP_NODES_MAX) {
		sxp_fail(rd, line, "more than %d elements", SXP_NODES_MAX);
		return NULL;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		sxp_fail(rd, line, "out of memory");
		return NULL;
	}
	n->type = type;
	n->line = line;
	if (tok != NULL) {
		if ((n->text = malloc(tok->len + 1)) == NULL) {
			free(n);
			sxp_fail(rd, line, "out of memory");
			return NULL;
		}
		if (tok->len > 0)
			memcpy(n->text, tok->text, tok->len);
		n->text[tok->len] = '\0';
		n->len = tok->len;
	}
	return n;
}

/* \xHH: one or two hex digits; xend crashed on none, we report it. */
static int
sxp_read_hex(struct sxp_reader *rd, int line, int *value_r)
{
	int	c, digits = 0, v = 0;

	while (digits < 2 && (c = sxp_peek(rd)) != -1) {
		if (c >= '0' && c <= '9')
			v = v * 16 + c - '0';
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + c - 'A' + 10;
		else
			break;
		sxp_getc(rd);
		digits++;
	}
	if (digits == 0)
		return sxp_fail(rd, line, "invalid \\x escape: no hex digit");
	*value_r = v;
	return 0;
}

/* \ooo: up to three octal digits; over 0377 is an error, as in xend. */
static int
sxp_read_octal(struct sxp_reader *rd, int line, int *value_r)
{
	int	c, digits = 0, v = 0;

	while (digits < 3 && (c = sxp_peek(rd)) >= '0' && c <= '7') {
		v = v * 8 + c - '0';
		sxp_getc(rd);
		digits++;
	}
	if (v > 0xff)
		return sxp_fail(rd, line, "invalid octal escape: out of range");
	*value_r = v;
	return 0;
}

/* Handles what follows a backslash inside a string. */
static int
sxp_read_escape(struct sxp_reader *rd, struct sxp_token *tok, int line)
{
	static const char	 from[] = "abtnvfr\\'\"";
	static const char	 to[] = "\a\b\t\n\v\f\r\\'\"";
	const char		*p;
	int			 c, v = 0;

	if ((c = sxp_peek(rd)) == -1)
		return sxp_fail(rd, line, "unterminated string");
	if ((p = strchr(from, c)) != NULL && c != '\0') {
		sxp_getc(rd);
		return sxp_token_add(rd, tok, to[p - from], line);
	}
	if (c == 'x') {
		sxp_getc(rd);
		if (sxp_read_hex(rd, rd->line, &v) == -1)
			return -1;
		return sxp_token_add(rd, tok, v, line);
	}
	if (c >= '0' && c <= '7') {
		if (sxp_read_octal(rd, rd->line, &v) == -1)
			return -1;
		return sxp_token_add(rd, tok, v, line);
	}
	/* xend's quirk: keep the backslash, drop the unknown character. */
	sxp_getc(rd);
	return sxp_token_add(rd, tok, '\\', line);
}

static struct sxp_node *
sxp_read_string(struct sxp_reader *rd, int quote)
{
	struct sxp_token	 token = { NULL, 0, 0 }, *tok = &token;
	struct sxp_node		*n = NULL;
	int			 line = rd->line, c;

	for (;;) {
		if ((c = sxp_getc(rd)) == -1) {
			sxp_fail(rd, line, "unterminated string");
			goto out;
		}
		if (c == quote)
			break;
		if (c == '\\') {
			if (sxp_read_escape(rd, tok, line) == -1)
				goto out;
		} else if (sxp_token_add(rd, tok, c, line) == -1)
			goto out;
	}
	n = sxp_node_new(rd, SXP_STRING, line, tok);
out:
	free(tok->text);
	return n;
}

static struct sxp_node *
sxp_read_atom(struct sxp_reader *rd)
{
	struct sxp_token	 token = { NULL, 0, 0 }, *tok = &token;
	struct sxp_node		*n = NULL;
	int			 line = rd->line, c;

	/* The first character is taken whatever it is, as xend did. */
	if (sxp_token_add(rd, tok, sxp_getc(rd), line) == -1)
		goto out;
	while ((c = sxp_peek(rd)) != -1 && !sxp_is_space(c) &&
	    !sxp_is_separator(c) && c != '#') {
		sxp_getc(rd);
		if (sxp_token_add(rd, tok, c, line) == -1)
			goto out;
	}
	n = sxp_node_new(rd, SXP_ATOM, line, tok);
out:
	free(tok->text);
	return n;
}

static void
sxp_skip_comment(struct sxp_reader *rd)
{
	int	c;

	while ((c = sxp_peek(rd)) != -1 && c != '\n')
		sxp_getc(rd);
}

/*
 * Reads one element starting at the current character into *node_r.
 * Returns 1 with an element, 0 when the character was consumed without
 * producing one (space, comment), -1 on error.
 */
static int
sxp_read_element(struct sxp_reader *rd, struct sxp_node **node_r)
{
	int	c = sxp_peek(rd), line = rd->line;

	*node_r = NULL;
	if (sxp_is_space(c)) {
		sxp_getc(rd);
		return 0;
	}
	if (c == '#') {
		sxp_skip_comment(rd);
		return 0;
	}
	if (c == ')')
		return sxp_fail(rd, line, "unexpected ')'");
	if (c == '(') {
		sxp_getc(rd);
		if (rd->depth >= SXP_DEPTH_MAX)
			return sxp_fail(rd, line,
			    "lists nested deeper than %d", SXP_DEPTH_MAX);
		if ((*node_r = sxp_node_new(rd, SXP_LIST, line, NULL)) == NULL)
			return -1;
		rd->depth++;
		if (sxp_read_list(rd, *node_r, 1) == -1)
			return -1;
		rd->depth--;
		return 1;
	}
	if (c == '\'' || c == '"') {
		sxp_getc(rd);
		*node_r = sxp_read_string(rd, c);
		return *node_r == NULL ? -1 : 1;
	}
	if (sxp_is_printable(c)) {
		*node_r = sxp_read_atom(rd);
		return *node_r == NULL ? -1 : 1;
	}
	return sxp_fail(rd, line, "invalid character (code %d)", c);
}

/*
 * Reads elements into list until ')' (when closed is set) or the end of
 * the buffer (the top level).  Children already linked are freed with the
 * list by the caller on error.
 */
static int
sxp_read_list(struct sxp_reader *rd, struct sxp_node *list, int closed)
{
	struct sxp_node	**tail = &list->first, *n;
	int		  c, r;

	for (;;) {
		if ((c = sxp_peek(rd)) == -1) {
			if (closed)
				return sxp_fail(rd, list->line,
				    "unclosed '(' at end of input");
			return 0;
		}
		if (closed && c == ')') {
			sxp_getc(rd);
			return 0;
		}
		if ((r = sxp_read_element(rd, &n)) == -1) {
			/* A partly read list child is linked so it is freed. */
			*tail = n;
			return -1;
		}
		if (r == 1) {
			*tail = n;
			tail = &n->next;
		}
	}
}

/*
 * Parses a whole buffer.  On success *root_r is a list node holding the
 * top-level elements.  On failure err (if not NULL) holds the line and a
 * message, and nothing is allocated.
 */
int
sxp_parse(const char *buf, size_t len, struct sxp_node **root_r,
    struct sxp_error *err)
{
	return sxp_parse_bounded(buf, len, SXP_TOKEN_MAX, root_r, err);
}

/* As sxp_parse, with a caller's bound on one token (protocol messages). */
int
sxp_parse_bounded(const char *buf, size_t len, size_t token_max,
    struct sxp_node **root_r, struct sxp_error *err)
{
	struct sxp_reader	 rd;
	struct sxp_node		*root;

	*root_r = NULL;
	memset(&rd, 0, sizeof(rd));
	rd.buf = buf;
	rd.len = len;
	rd.line = 1;
	rd.token_max = token_max;
	rd.err = err;
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if ((root = sxp_node_new(&rd, SXP_LIST, 1, NULL)) == NULL)
		return -1;
	if (sxp_read_list(&rd, root, 0) == -1) {
		sxp_free(root);
		return -1;
	}
	*root_r = root;
	return 0;
}

void
sxp_free(struct sxp_node *n)
{
	struct sxp_node	*next;

	/* Siblings iteratively, children recursively (depth is bounded). */
	while (n != NULL) {
		next = n->next;
		sxp_free(n->first);
		free(n->text);
		free(n);
		n = next;
	}
}

/* sxp.h gives the rules: the first field of a name, or NULL. */
const struct sxp_node *
sxp_field_node(const struct sxp_node *list, const char *name)
{
	const struct sxp_node	*f;

	if (list == NULL || list->type != SXP_LIST || list->first == NULL)
		return NULL;
	for (f = list->first->next; f != NULL; f = f->next)
		if (f->type == SXP_LIST && f->first != NULL &&
		    f->first->type == SXP_ATOM &&
		    strcmp(f->first->text, name) == 0)
			return f;
	return NULL;
}

/*
 * The first field of a name decides even when it is refused, so that no
 * two readers of one message can disagree.
 */
const char *
sxp_field(const struct sxp_node *list, const char *name)
{
	const struct sxp_node	*f, *v;

	if ((f = sxp_field_node(list, name)) == NULL)
		return NULL;
	v = f->first->next;
	if (v == NULL || v->type == SXP_LIST || strlen(v->text) != v->len)
		return NULL;
	return v->text;
}

/* xend's atomp(): text that can be written without quotes. */
static int
sxp_is_plain_atom(const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)s[i];

		/* c != 0: strchr finds the terminator, and a NUL written
		 * bare would cut the value short (found by fuzz_sxp). */
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr(".-_:/~", c) != NULL))
			continue;
		return 0;
	}
	return 1;
}

/*
 * Writes s as an atom if it can be one, else as a single-quoted string
 * with escapes, such that sxp_parse reads back exactly s.  Returns -1 if
 * out is too small.
 */
int
sxp_quote(const char *s, size_t len, char *out, size_t outsize)
{
	size_t	i, o = 0;
	int	r;

	if (sxp_is_plain_atom(s, len)) {
		if (len + 1 > outsize)
			return -1;
		memcpy(out, s, len);
		out[len] = '\0';
		return 0;
	}
	if (outsize < 3)
		return -1;
	out[o++] = '\'';
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)s[i];

		if (c == '\\' || c == '\'')
			r = snprintf(out + o, outsize - o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			r = snprintf(out + o, outsize - o, "\\x%02x", c);
		else
			r = snprintf(out + o, outsize - o, "%c", c);
		if (r < 0 || (size_t)r >= outsize - o)
			return -1;
		o += (size_t)r;
	}
	if (o + 2 > outsize)
		return -1;
	out[o++] = '\'';
	out[o] = '\0';
	return 0;
}
