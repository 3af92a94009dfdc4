/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_LOG_H
#define RELOCD_LOG_H

#include <stdarg.h>

#define LOG_TO_STDERR	1
#define LOG_TO_SYSLOG	0

void	log_init(int to_stderr, int facility);
void	log_procinit(const char *procname);
void	log_setverbose(int verbose);
int	log_getverbose(void);
int	log_getstderr(void);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Messages that a remote peer can cause (refusals, protocol errors) go
 * through these, which share one token bucket so that a flood of bad
 * connections cannot flood the journal.
 */
void	log_peer_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_peer_info(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Shares the bucket with every network child (the parent). */
int	log_peer_share(void);
int	log_peer_share_fd(void);
/* An exec'd network child: the parent's bucket, from log_peer_share_fd. */
int	log_peer_attach(int);

/* Test hooks: capture lines instead of writing them, and fake the clock. */
typedef void	(*log_sink_fn)(int priority, const char *line);
typedef double	(*log_clock_fn)(void);
void	log_set_sink(log_sink_fn);
void	log_set_clock(log_clock_fn);

#endif /* RELOCD_LOG_H */
