/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_UTIL_H
#define RELOCD_UTIL_H

#include <sys/types.h>
#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>

/* glibc before 2.38 has no strlcpy; ours has OpenBSD's semantics. */
size_t	strlcpy(char *, const char *, size_t);

/*
 * No copy into a fixed buffer is cut silently.  A name, id, address,
 * path or message field either fits by construction, which
 * STRLCPY_ARRAY makes the compiler prove, or its strlcpy/snprintf
 * result is checked and the operation fails with a sentence naming what
 * was too long and the limit.  Only text for people (a reason, a
 * result, a log line) may be cut: util_text_copy marks the cut.
 */

/* True at compile time when a is an array, not a pointer. */
#define UTIL_IS_ARRAY(a)						\
	(!__builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0])))

/*
 * Copies the string in array src (a field, or a literal) into array dst
 * that is at least as large, so nothing can be cut: for the same field
 * in two structs.  src must be terminated within its size, as received
 * messages are (MSG_TERMINATE).
 */
#define STRLCPY_ARRAY(dst, src) do {					\
	_Static_assert(UTIL_IS_ARRAY(dst) && UTIL_IS_ARRAY(src),	\
	    "STRLCPY_ARRAY copies between arrays, not pointers");	\
	_Static_assert(sizeof(dst) >= sizeof(src),			\
	    "STRLCPY_ARRAY: " #dst " is smaller than " #src);		\
	(void)strlcpy((dst), (src), sizeof(dst));			\
} while (0)

void	util_text_copy(char *, const char *, size_t);
/* Text that may hold a peer's bytes, made safe for a log or a terminal. */
void	util_text_escape(char *, size_t, const char *);

long long util_strtonum(const char *, long long, long long, const char **);
int	util_read_file(const char *, size_t, char **, size_t *);
struct stat;
int	util_read_file_stat(const char *, size_t, char **, size_t *,
	    struct stat *);
char   *util_strndup_checked(const char *, size_t);
/* The wall clock: only for times compared across processes or hosts. */
uint64_t util_realtime_ms(void);
/* The monotonic clock, for deadlines and durations (see util.c). */
uint64_t util_now_us(void);
uint64_t util_now_ms(void);
int64_t	 util_ms_since(uint64_t *);
struct rusage;
/* "U.UUU s user, S.SSS s system": the one way a child's CPU is logged. */
void	 util_rusage_cpu(char *, size_t, const struct rusage *);
/* The one write-all loop (util.c says how it waits). */
int	 util_write_all(int, const void *, size_t);
int	 util_write_all_idle(int, const void *, size_t, int);
int	 util_write_file_atomic(const char *, const void *, size_t, mode_t);
int	 util_writev_all(int, struct iovec *, int);
int	 util_readv_all(int, struct iovec *, int, size_t *);
int	 util_writev_all_idle(int, struct iovec *, int, int);
int	 util_pipe_data(int [2]);

#endif /* RELOCD_UTIL_H */
