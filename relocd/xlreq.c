// SPDX-License-Identifier: ISC
/*
 * xl plugin requests: the words a relocd-xl sends ("xl -t -vv
 * migrate-receive -e", as xl migrate put them on its command line) are
 * turned into a struct xl_flags here, and xl's argv is later rebuilt from
 * that struct alone.  Only xl's own receive flags are known: -t, -T and
 * -v before the command, -e, -d and -p after it.  Anything else - another
 * command, another flag, a flag in the wrong place, one more -v than xl
 * itself would pass - is refused, so no word a peer chose ever reaches an
 * argv or a shell.
 *
 * Runs in the network child (parsing the peer's words), the parent
 * (checking the struct a network child sent) and the worker (building
 * xl's argv).  The words are hostile input; they are only compared
 * against fixed strings and, for logs, copied with anything unprintable
 * replaced.
 */
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "xlreq.h"

static const char *const xlreq_verbose[XL_VERBOSE_MAX + 1] = {
	NULL, "-v", "-vv", "-vvv", "-vvvv"
};

/* One word for a log line or an error: printable ASCII only, bounded. */
static void
xlreq_clean(const char *w, char *out, size_t size)
{
	size_t	i;

	for (i = 0; w[i] != '\0' && i + 1 < size; i++)
		out[i] = w[i] > ' ' && w[i] < 0x7f ? w[i] : '?';
	out[i] = '\0';
}

/* "-v", "-vv", ...: how many v, or 0 if w is not such a word. */
static size_t
xlreq_vcount(const char *w)
{
	size_t	n;

	if (w[0] != '-' || w[1] != 'v')
		return 0;
	n = strspn(w + 1, "v");
	return w[1 + n] == '\0' ? n : 0;
}

/* xl's own options, before the command: -t, -T, -v... */
static int
xlreq_global(const char *w, struct xl_flags *f)
{
	size_t	v;

	if (strcmp(w, "-t") == 0)
		f->tty = 1;
	else if (strcmp(w, "-T") == 0)
		f->timestamps = 1;
	else if ((v = xlreq_vcount(w)) > 0 && v <= XL_VERBOSE_MAX &&
	    f->verbose + v <= XL_VERBOSE_MAX)
		f->verbose += (uint32_t)v;
	else
		return -1;
	return 0;
}

/* migrate-receive's options that xl migrate passes: -e, -d, -p. */
static int
xlreq_receive_flag(const char *w, struct xl_flags *f)
{
	if (strcmp(w, "-e") == 0)
		f->no_daemon = 1;
	else if (strcmp(w, "-d") == 0)
		f->debug = 1;
	else if (strcmp(w, "-p") == 0)
		f->paused = 1;
	else
		return -1;
	return 0;
}

/*
 * Parses the words of a request.  Returns 0, or -1 with err saying which
 * word was refused (cleaned for a log line).
 */
int
xlreq_parse(const xlreq_word *w, size_t n, struct xl_flags *f, char *err,
    size_t errlen)
{
	char	word[XL_ARG_MAX + 1];
	size_t	i;

	memset(f, 0, sizeof(*f));
	if (n == 0 || strcmp(w[0], "xl") != 0) {
		xlreq_clean(n ? w[0] : "", word, sizeof(word));
		snprintf(err, errlen, "'%s' is not xl", word);
		return -1;
	}
	for (i = 1; i < n && w[i][0] == '-'; i++)
		if (xlreq_global(w[i], f) == -1) {
			xlreq_clean(w[i], word, sizeof(word));
			snprintf(err, errlen, "xl option '%s' is not allowed",
			    word);
			return -1;
		}
	if (i == n || strcmp(w[i], "migrate-receive") != 0) {
		xlreq_clean(i < n ? w[i] : "", word, sizeof(word));
		snprintf(err, errlen, "xl command '%s' is not allowed: only "
		    "migrate-receive", word);
		return -1;
	}
	for (i++; i < n; i++)
		if (xlreq_receive_flag(w[i], f) == -1) {
			xlreq_clean(w[i], word, sizeof(word));
			snprintf(err, errlen, "migrate-receive option '%s' is "
			    "not allowed", word);
			return -1;
		}
	return 0;
}

/* For a struct that came from another process: every field in range. */
int
xlreq_valid(const struct xl_flags *f)
{
	return f->tty <= 1 && f->timestamps <= 1 &&
	    f->verbose <= XL_VERBOSE_MAX && f->no_daemon <= 1 &&
	    f->debug <= 1 && f->paused <= 1;
}

/*
 * xl's argv for f, with prog as argv[0]: argv needs XLREQ_ARGV_MAX slots.
 * Every other element is one of the fixed strings above.  Returns argc.
 */
size_t
xlreq_argv(const struct xl_flags *f, const char *prog, const char **argv)
{
	size_t	n = 0;

	argv[n++] = prog;
	if (f->tty)
		argv[n++] = "-t";
	if (f->timestamps)
		argv[n++] = "-T";
	if (f->verbose > 0)
		argv[n++] = xlreq_verbose[f->verbose > XL_VERBOSE_MAX ?
		    XL_VERBOSE_MAX : f->verbose];
	argv[n++] = "migrate-receive";
	if (f->no_daemon)
		argv[n++] = "-e";
	if (f->debug)
		argv[n++] = "-d";
	if (f->paused)
		argv[n++] = "-p";
	argv[n] = NULL;
	return n;
}

/* "xl -t -vv migrate-receive -e", for logs. */
void
xlreq_format(const struct xl_flags *f, char *out, size_t size)
{
	const char	*argv[XLREQ_ARGV_MAX];
	size_t		 i, len;

	xlreq_argv(f, "xl", argv);
	out[0] = '\0';
	for (i = 0; argv[i] != NULL; i++) {
		len = strlen(out);
		snprintf(out + len, size - len, "%s%s", i ? " " : "", argv[i]);
	}
}

/* A peer's words as one cleaned, bounded string, for a refusal's log. */
void
xlreq_words_format(const xlreq_word *w, size_t n, char *out, size_t size)
{
	char	word[XL_ARG_MAX + 1];
	size_t	i, len;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		xlreq_clean(w[i], word, sizeof(word));
		len = strlen(out);
		snprintf(out + len, size - len, "%s%s", i ? " " : "", word);
	}
}
