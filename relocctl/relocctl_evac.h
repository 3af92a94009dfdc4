/* SPDX-License-Identifier: ISC */
/*
 * relocctl evacuate's state, shared by relocctl_evacuate.c (what to
 * move where) and relocctl_evac_run.c (the migrations and the summary).
 */
#ifndef RELOCCTL_EVAC_H
#define RELOCCTL_EVAC_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "guest.h"
#include "proto.h"

struct json_t;
struct relocctl;

#define EVAC_TEXT_MAX		600
/* The first protocol whose destination says what it can give. */
#define EVAC_PROTOCOL_CAPACITY	PROTO_VERSION_CAPACITY

struct evac_peer {
	char		 host[256];
	char		 port[8];		/* "": the default */
	char		 label[320];		/* host[:port], for people */
	uint64_t	 available;
	int		 known;			/* it said what it can give */
	uint32_t	 protocol;		/* 0: never answered */
	char		 why[EVAC_TEXT_MAX];	/* cannot be asked: why */
};

enum evac_outcome {
	EVAC_PENDING,		/* may go; not started */
	EVAC_RUNNING,
	EVAC_MOVED,
	EVAC_STAYED		/* runs on here: reason says why */
};

struct evac_guest {
	char		 name[GUEST_NAME_MAX + 1];
	char		 state[32];
	uint64_t	 memory;
	int		 peer;			/* index, or -1 */
	int		 outcome;		/* enum evac_outcome */
	char		 refusal[EVAC_TEXT_MAX];	/* first pre-flight no */
	char		 reason[EVAC_TEXT_MAX];
	/* A migration under way: relocd's control connection, its id. */
	int		 fd;
	char		 id[MIG_ID_LEN + 1];
	uint64_t	 start_ms, last_ms, elapsed_ms;
};

struct evac {
	struct relocctl		*rc;
	int			 parallel;
	int			 json;
	uint64_t		 started_ms;
	struct evac_peer	 peers[EVACUATE_PEERS_MAX];
	size_t			 npeers;
	struct evac_guest	 guests[EVACUATE_GUESTS_MAX];
	size_t			 nguests;
};

/* relocctl_evac_run.c */
void	evac_signals(void);
/* SIGINT or SIGTERM came: nothing new starts. */
int	evac_stopping(void);
int	evac_job_result(struct relocctl *, const char *, int,
	    struct json_t **, char *, size_t);
void	evac_run(struct evac *);
void	evac_summary(const struct evac *, size_t);

#endif /* RELOCCTL_EVAC_H */
