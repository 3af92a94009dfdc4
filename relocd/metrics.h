/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_METRICS_H
#define RELOCD_METRICS_H

#include <stddef.h>
#include <stdint.h>

/*
 * relocd's counters, gauges and histograms, and their rendering in the
 * Prometheus text exposition format 0.0.4 (metrics.c).  The parent owns
 * the one struct metrics (parent_metrics.c); this module does no I/O.
 */

enum metrics_dir {
	METRICS_OUT,		/* we send a guest to a peer */
	METRICS_IN,		/* a peer (or relocd-xl) sends one to us */
	METRICS_DIRS
};

/* How a migration ended, as the parent recorded it (typed, never text). */
enum metrics_result {
	METRICS_OK,
	METRICS_FAILED,
	METRICS_CANCELLED,	/* relocctl cancel */
	METRICS_IN_DOUBT,	/* after go, the destination never answered */
	METRICS_RESULTS
};

/*
 * Why this host refused a peer.  The network child reports the first
 * three it decides (MSG_NET_REFUSED); the parent the others.
 */
enum metrics_refusal {
	METRICS_REFUSED_TLS,		/* the TLS handshake failed */
	METRICS_REFUSED_HOSTS_ALLOW,	/* xend-relocation-hosts-allow */
	METRICS_REFUSED_PEERS_ALLOW,	/* relocd-peers-allow */
	METRICS_REFUSED_CAPACITY,	/* relocd-max-migrations, job table */
	METRICS_REFUSED_CLASH,		/* guest name or uuid exists here */
	METRICS_REFUSED_MEMORY,		/* not enough free memory here */
	METRICS_REFUSED_LIMITS,		/* pre-auth caps, deadlines, lookups */
	METRICS_REFUSALS
};

enum metrics_hist_kind {
	METRICS_H_DOWNTIME,		/* by direction */
	METRICS_H_DURATION,		/* by direction */
	METRICS_H_PREDICTION_ERROR,	/* source only */
	METRICS_HISTS
};

#define METRICS_BUCKETS_MAX	16

/* A classic histogram in milliseconds; rendered in seconds. */
struct metrics_hist {
	uint64_t	 count;
	int64_t		 sum_ms;
	uint64_t	 bucket[METRICS_BUCKETS_MAX];	/* not cumulative */
};

/* What the parent knows of a migration when it ends. */
struct metrics_end {
	int		 dir;		/* enum metrics_dir */
	int		 result;	/* enum metrics_result */
	uint64_t	 memory_bytes;	/* the guest's RAM */
	uint64_t	 stream_bytes;	/* stream sent or received */
	uint64_t	 zero_pages;	/* sim: sent as page numbers only */
	uint32_t	 rounds;
	uint64_t	 duration_ms;
	uint64_t	 downtime_ms;	/* 0: not measured */
	uint64_t	 predicted_ms;	/* 0: no prediction */
};

struct metrics {
	uint64_t	 started[METRICS_DIRS];
	uint64_t	 ended[METRICS_DIRS][METRICS_RESULTS];
	uint64_t	 memory_bytes[METRICS_DIRS];
	uint64_t	 stream_bytes[METRICS_DIRS];
	uint64_t	 zero_pages[METRICS_DIRS];
	uint64_t	 rounds;
	uint64_t	 refused[METRICS_REFUSALS];
	struct metrics_hist hist[METRICS_HISTS][METRICS_DIRS];
	/* Gauges: the caller fills them in before rendering. */
	uint32_t	 active[METRICS_DIRS];
	uint32_t	 in_doubt;
	uint32_t	 preauth;
	int64_t		 cert_expiry;	/* Unix time; 0: no certificate */
	int64_t		 start_time;	/* Unix time relocd started */
};

void	 metrics_started(struct metrics *, int);
void	 metrics_ended(struct metrics *, const struct metrics_end *);
void	 metrics_refused(struct metrics *, int);
void	 metrics_observe(struct metrics *, int, int, int64_t);
char	*metrics_render(const struct metrics *, size_t *);

#endif /* RELOCD_METRICS_H */
