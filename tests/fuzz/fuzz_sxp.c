// SPDX-License-Identifier: ISC
/*
 * libFuzzer harness for the sxp reader: any bytes may reach sxp_parse
 * (a config file, a peer's control frame), so it must fail cleanly or
 * build a tree.  The second half checks sxp_quote, which relocd -nv and
 * the protocol encoder rely on to write values that read back exactly:
 * the input, taken as one value, is quoted and parsed back and must come
 * out as one atom or string with the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "sxp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_quote_round_trip(const char *s, size_t len)
{
	struct sxp_node		*root = NULL, *n;
	struct sxp_error	 err;
	char			*q;
	size_t			 qsize = 4 * len + 3;

	if ((q = malloc(qsize)) == NULL)
		abort();
	if (sxp_quote(s, len, q, qsize) == -1) {
		fprintf(stderr, "fuzz: sxp_quote refused %zu bytes with room"
		    " for the worst case\n", len);
		abort();
	}
	if (sxp_parse(q, strlen(q), &root, &err) == -1) {
		fprintf(stderr, "fuzz: quoted value does not parse: %s\n",
		    err.msg);
		abort();
	}
	n = root->first;
	if (len == 0 && n != NULL && n->type == SXP_STRING && n->len == 0 &&
	    n->next == NULL)
		goto out;
	if (n == NULL || n->next != NULL || n->type == SXP_LIST ||
	    n->len != len || memcmp(n->text, s, len) != 0) {
		fprintf(stderr, "fuzz: quote round trip differs\n");
		abort();
	}
out:
	sxp_free(root);
	free(q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sxp_node		*root = NULL;
	struct sxp_error	 err;

	if (size > CONF_FILE_MAX)
		return 0;
	if (sxp_parse((const char *)data, size, &root, &err) == 0) {
		if (root == NULL || root->type != SXP_LIST)
			abort();
		sxp_free(root);
	} else if (root != NULL || err.msg[0] == '\0' || err.line < 1)
		abort();	/* failure must say why and allocate nothing */
	/* Token-sized values only, as the callers quote. */
	if (size <= SXP_TOKEN_MAX)
		fuzz_quote_round_trip((const char *)data, size);
	return 0;
}
