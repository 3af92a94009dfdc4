/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_REPORT_H
#define RELOCD_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "guest.h"
#include "pause.h"
#include "target.h"

/*
 * A migration's whole report (relocctl status ID): what relocd
 * measured, in typed fields.  Times are milliseconds; *_time_ms are
 * the wall clock (since the Unix epoch), the rest durations.  0 in a
 * measurement means "not measured" (a destination counts no rounds).
 */
struct report {
	char		id[MIG_ID_LEN + 1];
	char		what[16];	/* migrate, receive, xl-receive */
	char		guest[GUEST_NAME_MAX + 1];
	char		peer[256];
	char		text[PROTO_TEXT_MAX + 1];	/* the result */
	char		state[16];	/* the job's state when asked */
	char		decision[64];	/* the policy's last reason */
	int		ok;
	int64_t		code;		/* enum proto_error */
	int64_t		start_time_ms;
	int64_t		end_time_ms;	/* 0 while it runs */
	int64_t		setup_ms;	/* to the stream's first byte */
	int64_t		elapsed_ms;
	int64_t		downtime_ms;
	int64_t		predicted_downtime_ms;
	int64_t		fixed_cost_ms;	/* in the prediction (pause_cost.h) */
	int64_t		fixed_cost_samples;	/* learnt from; 0: a guess */
	int64_t		digest_ms;	/* sim: hashing, in downtime */
	int64_t		suspend_time_ms;
	int64_t		bytes;		/* the stream's */
	int64_t		wire_bytes;	/* source: its data frames', as
					   compressed; 0: not measured */
	char		compression[8];	/* source: "zstd", "none"; "" */
	int64_t		memory;
	int64_t		memory_sent;	/* sim: the memory bytes carried */
	int64_t		zero_pages;	/* sim: sent as page numbers */
	int64_t		skipped_pages;	/* sim, --skip-redirtied */
	int64_t		rounds;
	int64_t		bandwidth;	/* bytes/s */
	int64_t		dirty_rate;	/* bytes/s */
	int64_t		dirty;		/* pages, at the last count */
	int64_t		throttle;	/* percent; 100: none */
	struct pause	pause;		/* its parts; "pause" in JSON */
	struct target	target;		/* "target-unreachable", if it was */
};

struct json_t;

struct json_t *report_json(const struct report *);
int	report_from_json(const struct json_t *, struct report *, char *,
	    size_t);
int	report_sxp(const struct report *, char *, size_t);

int	report_store_check(const char *, char *, size_t);
int	report_store_save(const char *, const struct report *, char *,
	    size_t);
int	report_store_load(const char *, const char *, int64_t, int64_t,
	    struct report *, char *, size_t);
int	report_store_prune(const char *, int64_t, int64_t, size_t,
	    size_t *);

#endif /* RELOCD_REPORT_H */
