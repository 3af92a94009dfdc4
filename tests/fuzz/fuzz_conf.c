// SPDX-License-Identifier: ISC
/*
 * libFuzzer harness for the config loader: arbitrary bytes as a
 * xend-config.sxp.  A file that loads must print (relocd -nv) as sxp
 * that loads again and prints the same, the promise STYLE.md makes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "conf.h"
#include "log.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_drop_log(int priority, const char *line)
{
	(void)priority;
	(void)line;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_sink(fuzz_drop_log);
	return 0;
}

/* The printed form of conf, in a malloc'd buffer. */
static char *
fuzz_print(const struct conf *conf, size_t *len_r)
{
	char	*buf = NULL;
	FILE	*f;

	if ((f = open_memstream(&buf, len_r)) == NULL)
		abort();
	conf_print(conf, f);
	if (fclose(f) != 0)
		abort();
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*conf = NULL, *again = NULL;
	char		*out1 = NULL, *out2 = NULL;
	size_t		 len1, len2;

	if (size > CONF_FILE_MAX)
		return 0;
	if (conf_load_buffer("fuzz.sxp", (const char *)data, size,
	    &conf) == -1) {
		if (conf != NULL)
			abort();
		return 0;
	}
	out1 = fuzz_print(conf, &len1);
	if (conf_load_buffer("fuzz.sxp", out1, len1, &again) == -1) {
		fprintf(stderr, "fuzz: printed config does not load:\n%s",
		    out1);
		abort();
	}
	out2 = fuzz_print(again, &len2);
	if (len1 != len2 || memcmp(out1, out2, len1) != 0) {
		fprintf(stderr, "fuzz: printed config does not read back to"
		    " itself:\n%s---\n%s", out1, out2);
		abort();
	}
	free(out1);
	free(out2);
	conf_free(conf);
	conf_free(again);
	return 0;
}
