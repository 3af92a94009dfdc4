// SPDX-License-Identifier: ISC
/*
 * libFuzzer harness for the authorization lists.  The input is split on
 * its first NUL: before it, a white-space separated list used both as
 * hosts-allow regexes and as peers-allow names (the config's side);
 * after it, subjects separated by newlines (the peer's side: its
 * address, reverse name, certificate names).  Compiling may fail;
 * matching must not crash, and a name entry must match its own text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "bounds.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_SUBJECTS	8

static void
fuzz_add_all(char *list, struct acl *acl, struct acl_names *names)
{
	char	err[512], *w, *save = NULL;

	for (w = strtok_r(list, " \t\n", &save); w != NULL;
	    w = strtok_r(NULL, " \t\n", &save)) {
		acl_hosts_add(acl, w, err, sizeof(err));
		if (acl_names_add(names, w, err, sizeof(err)) == 0 &&
		    w[0] != '*') {
			/* An exact entry must admit its own name. */
			const char	*self[1] = { w };

			if (!acl_names_match(names, self, 1))
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acl		*acl = NULL;
	struct acl_names	*names = NULL;
	const char		*subj[FUZZ_SUBJECTS];
	char			*buf, *sep, *s, *save = NULL;
	size_t			 n = 0, i;

	if (size > 16 * 1024)
		return 0;
	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	if ((acl = acl_hosts_new()) == NULL ||
	    (names = acl_names_new()) == NULL)
		abort();
	sep = buf + strlen(buf);
	s = sep < buf + size ? sep + 1 : sep;
	*sep = '\0';
	fuzz_add_all(buf, acl, names);
	for (s = strtok_r(s, "\n", &save); s != NULL && n < FUZZ_SUBJECTS;
	    s = strtok_r(NULL, "\n", &save))
		subj[n++] = s;
	for (i = 0; i < n; i++)
		acl_hosts_match(acl, subj[i], i + 1 < n ? subj[i + 1] : NULL);
	acl_names_match(names, subj, n);
	acl_hosts_free(acl);
	acl_names_free(names);
	free(buf);
	return 0;
}
