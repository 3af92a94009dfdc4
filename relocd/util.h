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
/* The wall clock: only for times compared across processes or hosts. */
uint64_t util_realtime_ms(void);
/* The monotonic clock, for deadlines and durations (see util.c). */
uint64_t util_now_us(void);
uint64_t util_now_ms(void);
int	 util_pipe_data(int [2]);

#endif /* RELOCD_UTIL_H */
