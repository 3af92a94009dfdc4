/* SPDX-License-Identifier: ISC */
/*
 * A minimal unit-test harness.  Each test is a function; a test passes
 * when none of its CHECKs failed.  The binary prints one line per test
 * and ends with "N passed, N failed", which tests/run adds up.
 */
#ifndef RELOCD_UNIT_H
#define RELOCD_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	unit_test_failed;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "  %s:%d: CHECK(%s) failed\n",		\
		    __FILE__, __LINE__, #cond);				\
		unit_test_failed = 1;					\
	}								\
} while (0)

#define CHECK_INT(got, want) do {					\
	long long _g = (long long)(got), _w = (long long)(want);	\
	if (_g != _w) {							\
		fprintf(stderr, "  %s:%d: %s is %lld, want %lld\n",	\
		    __FILE__, __LINE__, #got, _g, _w);			\
		unit_test_failed = 1;					\
	}								\
} while (0)

#define CHECK_STR(got, want) do {					\
	const char *_g = (got), *_w = (want);				\
	if (_g == NULL || _w == NULL || strcmp(_g, _w) != 0) {		\
		fprintf(stderr, "  %s:%d: %s is \"%s\", want \"%s\"\n",	\
		    __FILE__, __LINE__, #got, _g ? _g : "(null)",	\
		    _w ? _w : "(null)");				\
		unit_test_failed = 1;					\
	}								\
} while (0)

struct unit_test {
	const char	*name;
	void		(*fn)(void);
};

/* A scratch directory for a test, /tmp/relocd-test-NAME.XXXXXX: made... */
static inline void
unit_dir_new(char *dir, size_t len, const char *name)
{
	snprintf(dir, len, "/tmp/relocd-test-%s.XXXXXX", name);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

/* ...and removed with everything in it. */
static inline void
unit_dir_remove(const char *dir)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", dir);
}

#define UNIT_TEST(f)	{ #f, f }

static int
unit_run(const char *suite, const struct unit_test *tests, size_t n)
{
	size_t	i;
	int	passed = 0, failed = 0;

	for (i = 0; i < n; i++) {
		unit_test_failed = 0;
		tests[i].fn();
		printf("%s %s.%s\n", unit_test_failed ? "FAIL" : "ok  ",
		    suite, tests[i].name);
		if (unit_test_failed)
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define UNIT_MAIN(suite, ...)						\
int									\
main(void)								\
{									\
	static const struct unit_test tests[] = { __VA_ARGS__ };	\
	return unit_run(suite, tests, sizeof(tests) / sizeof(tests[0]));\
}

#endif /* RELOCD_UNIT_H */
