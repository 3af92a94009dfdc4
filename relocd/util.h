/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_UTIL_H
#define RELOCD_UTIL_H

#include <sys/uio.h>

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
/* The one write-all loop (util.c says how it waits). */
int	 util_write_all(int, const void *, size_t);
int	 util_write_all_idle(int, const void *, size_t, int);
int	 util_writev_all(int, struct iovec *, int);
int	 util_writev_all_idle(int, struct iovec *, int, int);
int	 util_pipe_data(int [2]);

#endif /* RELOCD_UTIL_H */
