/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_UTIL_H
#define RELOCD_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* glibc before 2.38 has no strlcpy; ours has OpenBSD's semantics. */
size_t	strlcpy(char *, const char *, size_t);

long long util_strtonum(const char *, long long, long long, const char **);
int	util_read_file(const char *, size_t, char **, size_t *);
char   *util_strndup_checked(const char *, size_t);
uint64_t util_realtime_ms(void);
/* For deadlines: never jumps with the wall clock. */
uint64_t util_monotonic_ms(void);
int	 util_pipe_data(int [2]);

#endif /* RELOCD_UTIL_H */
