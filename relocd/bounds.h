/* SPDX-License-Identifier: ISC */
/*
 * Every size, count and time bound in relocd, in one place, so that a
 * reviewer can see at a glance how much a peer or a config file can make
 * us allocate or wait for.
 */
#ifndef RELOCD_BOUNDS_H
#define RELOCD_BOUNDS_H

/* Config files: xend's sample is 12 KiB; 1 MiB leaves room for comments. */
#define CONF_FILE_MAX		(1024 * 1024)
/* One atom or string in an sxp file (a long hosts-allow list fits). */
#define SXP_TOKEN_MAX		4096
/* List nesting; xend-config.sxp never goes deeper than 2. */
#define SXP_DEPTH_MAX		16
/* Nodes in one parse: bounds memory independently of the file size. */
#define SXP_NODES_MAX		65536

/* hosts-allow: patterns and the length of one. */
#define ACL_PATTERNS_MAX	128
#define ACL_PATTERN_MAX		1024
/* relocd-peers-allow: certificate names, and the length of one. */
#define PEER_NAMES_MAX		128
#define PEER_NAME_MAX		255
/* Names taken from one peer certificate (SANs); the rest are ignored. */
#define TLS_PEER_NAMES_MAX	16
/* Key, certificate and CA files. */
#define TLS_FILE_MAX		(256 * 1024)
/* Intermediate CAs between a peer certificate and the pool's CA. */
#define TLS_CHAIN_DEPTH_MAX	4

/* Errors collected while loading one config before giving up. */
#define CONF_ERRORS_MAX		100

/*
 * The longest config strings, each no longer than the buffer it fills
 * later (conf.c checks the buffers at compile time), so that relocd -n
 * refuses a value rather than a process cutting it.
 */
#define CONF_PATH_MAX		4095	/* key, certificate and CA files */
#define CONF_DIR_MAX		255	/* relocd-chroot, relocd-sim-dir */
#define CTL_PATH_MAX		107	/* relocd-control-socket: sun_path */

/* Log lines: longer messages are truncated, never split. */
#define LOG_LINE_MAX		1024
/* Peer-triggered messages: a burst of this many, then one per second. */
#define LOG_PEER_BURST_MAX	20

/*
 * The key process (keyproc.c, tls_key.c): what a handshake may ask it to
 * sign (a TLS 1.2 client signs its whole transcript, certificates and
 * all), the longest signature and public key it returns, and how long a
 * handshake waits for it.
 */
#define TLS_KEY_TBS_MAX		(32 * 1024)
#define TLS_KEY_SIG_MAX		256
#define TLS_KEY_PUB_MAX		256
#define TLS_KEY_SIGN_MS		5000
/*
 * How long relocd's start (and relocd-xl's) waits for the key process to
 * load the key.  A dead key process is seen at once (its channel
 * closes); this bounds one that hangs.  10 s was too short for a dom0
 * under Xen in QEMU on a loaded host: the key process's exec and
 * OpenSSL's start took longer, relocd exited 1 three times, and systemd
 * started it on the fourth try.
 */
#define TLS_KEY_LOAD_MS		30000

/* Internal messages between relocd's processes (msg.c). */
#define MSG_PAYLOAD_MAX		(68 * 1024)

/* Wire frames (proto.c): control frames carry one sxp message. */
#define PROTO_CONTROL_MAX	(64 * 1024)
#define PROTO_DATA_MAX		(1024 * 1024)
/* Pipes carrying a migration's data (util_pipe_data): one data frame. */
#define UTIL_PIPE_DATA_SIZE	PROTO_DATA_MAX
/*
 * Page numbers in one ZERO_PAGES record of the sim stream (sim_zero.c):
 * 32 KiB of numbers standing for 16 MiB of zero pages, so that an idle
 * guest's stream is a few records per GiB, yet the destination's buffer
 * for a record stays small.
 */
#define SIM_ZERO_BATCH_MAX	4096
/* A migration id: 32 lower-case hex digits (128 random bits). */
#define MIG_ID_LEN		32
/* Free text in errors and refusals sent to a peer or a user. */
#define PROTO_TEXT_MAX		200
/*
 * Pre-flight findings one check reports (checks.h): one per bridge and
 * per disk the guest's config names, and one per reason it cannot
 * migrate at all.  A real guest has a few of each; past the limit the
 * failures push out what passed, so every failure that fits is shown.
 * Each is one sentence of at most PROTO_TEXT_MAX bytes: the list, quoted
 * for sxp, stays under a fifth of a control frame (PROTO_CONTROL_MAX)
 * and of a control socket reply (CTL_MSG_MAX).
 */
#define CHECKS_MAX		16
/* A relocd release in a hello, e.g. "0.2.0~dev" (version.c). */
#define PROTO_RELEASE_MAX	31

/*
 * A guest's vCPUs, from a peer, a save file or sim-create: Xen's
 * HVM_MAX_VCPUS (public/hvm/hvm_info_table.h), the limit of the HVM and
 * PVH guests relocd migrates (Debian's hypervisor, built without shadow
 * paging, cannot live-migrate PV ones); the sim backend takes the same.
 */
#define GUEST_VCPUS_MAX		128
/*
 * A peer's host name or address, as a user, a config or a peer gives
 * it: DNS's longest name in text (RFC 1035: 255 octets on the wire, 253
 * characters written out); every address literal is shorter.
 */
#define HOST_NAME_LEN_MAX	253

/*
 * xl plugin requests (xl-receive): the words of "xl [-t] [-T] [-v...]
 * migrate-receive [-e] [-d] [-p]", at most this many and this long; xl
 * lowers its log level at most 4 times (XTL_PROGRESS to XTL_DEBUG).
 */
#define XL_ARGS_MAX		16
#define XL_ARG_MAX		32
#define XL_VERBOSE_MAX		4
/* The xl binary's path (relocd-xl-command). */
#define XL_COMMAND_MAX		255
/*
 * One read of xl's stream, sent as one data frame: large, because every
 * system call is expensive in an emulated or busy dom0 (an 8 KiB buffer
 * made socat 4 times slower in tests/xen).
 */
#define XL_CHUNK_MAX		(256 * 1024)

/* Control socket clients served at once, and their request size. */
#define CTL_CLIENTS_MAX		16
/* Listening sockets: both families of every address of an interface. */
#define LISTENERS_MAX		16

/*
 * Finished migrations' reports in relocd-state-dir (report.c), one file
 * each: kept a week, because "what happened to the guest moved on
 * Friday" is asked after a weekend and a maintenance window rarely
 * spans more; and at most 256, as many as the job table remembers
 * (JOBS_MAX), so that a report outlives its job entry, and a week of a
 * pool that evacuates hosts daily (a few dozen migrations each) fits.
 * A report is about 0.5 KiB (under 2 KiB with every string at its
 * longest), so the directory stays under 512 KiB.  A file past
 * REPORT_FILE_MAX is not one relocd wrote.
 */
#define REPORT_AGE_MAX_S	(7 * 24 * 3600)
#define REPORTS_MAX		256
#define REPORT_FILE_MAX		(16 * 1024)

/*
 * Learnt fixed costs of the pause (pause_cost.c), one entry per
 * destination and guest type in one file of relocd-state-dir: 256
 * entries are 64 destinations of every type, more than a pool's hosts;
 * past it the entry updated longest ago goes.  An entry is under 500
 * bytes with its destination and its PAUSE_COST_RECENT costs at their
 * longest, so the file stays under PAUSE_COST_FILE_MAX, and a larger one
 * is not one relocd wrote.  A
 * destination's name is at most PAUSE_COST_DEST_MAX (a peer name and a
 * port).  A cost is at most PAUSE_COST_MS_MAX, relocctl's largest
 * max-downtime (10 minutes): a larger measurement is no fixed cost.
 */
#define PAUSE_COST_ENTRIES_MAX	256
#define PAUSE_COST_FILE_MAX	(192 * 1024)
#define PAUSE_COST_DEST_MAX	270
#define PAUSE_COST_MS_MAX	600000
/* A count of samples stops here; it is only for people. */
#define PAUSE_COST_SAMPLES_MAX	1000000
/* The measurements a learnt cost is the median of (pause_cost.c). */
#define PAUSE_COST_RECENT	5

/*
 * The network child's deadlines (net*.c), in milliseconds of util_now_ms.
 * relocd-handshake-timeout and relocd-idle-timeout bound the peer; these
 * bound the steps in between, each long enough for the slowest honest
 * party and no longer, since a connection holds a child and a job slot.
 *
 * Connecting out, per address of the peer: a dom0 on the same network
 * answers at once, and Linux sends a lost SYN again 1, 3 and 7 s after
 * the first, so 10 s gives three more tries before the next address.
 */
#define NET_CONNECT_MS		(10 * 1000)
/* Bounded close: a peer that cannot take our last small frame is gone. */
#define NET_CLOSE_MS		2000
/*
 * A control message that needs no work on the other side: sending one,
 * or waiting for the answer to a query.  A live peer or parent answers
 * in milliseconds; 10 s rides out a busy dom0 and a lost packet.
 */
#define NET_REPLY_MS		(10 * 1000)
/* The rest of a frame the destination began to send mid-stream. */
#define NET_PENDING_READ_MS	2000
/* A message the parent has already written (poll said so): local. */
#define NET_PARENT_READ_MS	1000
/* Descriptors proc_spawn_fds places: the network child's five. */
#define PROC_SPAWN_FDS_MAX	5
/*
 * How long the parent and a fresh worker may take to decide on a
 * reservation: the worker starts, checks the description, the config
 * and the host's free memory through the toolstack (the sim backend
 * also makes the empty guest), calls that take seconds on a busy dom0.
 */
#define NET_RESERVE_WAIT_MS	(120 * 1000)
/*
 * Checking the image before "prepared": the sim backend hashes all of
 * the guest's memory, minutes for a large guest on a slow host.  Both
 * sides wait this long: the destination for its worker, the source for
 * the destination's answer.
 */
#define NET_VERIFY_WAIT_MS	(600 * 1000)
/* Activating the guest after go, on the destination; both sides wait. */
#define NET_ACTIVATE_WAIT_MS	(120 * 1000)
/*
 * The source's parent says go once its worker committed (suspended the
 * guest, sent the last round); the network child waits that long.
 */
#define NET_GO_WAIT_MS		(120 * 1000)
/* The worker stopped reading: the parent's word on why, which it has. */
#define NET_FAILURE_WAIT_MS	5000

/*
 * Admission (parent_admit.c, resolver.c).  hosts-allow is decided in the
 * parent at accept, before a connection counts against any pre-auth cap
 * and before any TLS byte.  A peer whose address no pattern allows, when
 * some pattern names hosts, waits in the parent (its socket unread) for
 * a forward-confirmed host name from the resolver.  A peer may own its
 * reverse zone and make that lookup slow, so lookups have bounds of
 * their own, apart from relocd-max-preauth:
 *
 * addresses looked up at once (one query per address, however many of
 * its connections wait on it); also the resolver's threads, so no query
 * waits behind another's slow zone;
 */
#define ADMIT_LOOKUPS_MAX	8
/* connections waiting for a lookup, in all and from one address; */
#define ADMIT_PENDING_MAX	64
#define ADMIT_PENDING_PER_HOST_MAX	8
/*
 * how long a connection waits for its lookup before it is refused: with
 * the resolver's own DNS timeouts (RESOLVER_RES_OPTIONS, resolver.c) a
 * reverse and a forward query through one silent name server give up
 * within about 4 s; with more servers this deadline decides;
 */
#define ADMIT_LOOKUP_MS		(5 * 1000)
/*
 * and a query the resolver has not answered this long after it was sent
 * means a stuck resolver: it is killed and started again.
 */
#define ADMIT_RESOLVER_STUCK_MS	(30 * 1000)
/* A resolver that died is started again at most once per this long. */
#define ADMIT_RESOLVER_RESTART_MS	1000

/*
 * After SIGTERM: migrations not past "go" are cancelled at once (the
 * source resumes its guest); those past it, and local jobs, get this
 * long to finish or settle before what is left is killed.  It covers an
 * activation and the source's questions to a destination it lost after
 * go (15 tries 2 s apart, parent_out.c), and stays under the unit's
 * TimeoutStopSec=90s, so that relocd, not systemd's SIGKILL, ends them
 * and logs which.
 */
#define STOP_GRACE_MS		(60 * 1000)

/*
 * Handing a receiving worker's descriptors to relocd-receive@.service
 * (handoff.c).  The instance must connect within HANDOFF_START_MS of
 * the parent asking systemd to start it (systemd starts a unit in
 * milliseconds; a busy dom0 at boot in seconds); a connected peer must
 * name its token within HANDOFF_READ_MS.  The descriptors are a
 * worker's two: messages and stream.  90 s is systemd's own default
 * start timeout (DefaultTimeoutStartSec): 30 s ran out twice in
 * check-xen's emulated dom0s on a host at load 76-97.  The source waits
 * NET_RESERVE_WAIT_MS, longer, for the destination's answer.
 */
#define HANDOFF_START_MS	(90 * 1000)
/* systemd queues a start job in milliseconds; D-Bus may be slow at boot. */
#define UNIT_START_CALL_MS	(10 * 1000)
#define HANDOFF_READ_MS		2000
#define HANDOFF_FDS_MAX		2
#define HANDOFF_SLOTS_MAX	64
#define HANDOFF_BACKLOG		16
#define HANDOFF_UNIT_NAME_MAX	96
/* /proc/PID/cgroup: one line on cgroup v2, a dozen on a hybrid host. */
#define HANDOFF_CGROUP_FILE_MAX	(16 * 1024)

/* Children of the parent: network children and workers. */
#define CHILDREN_MAX		1200
/* Key channels: one per child at most. */
#define KEYPROC_CHANNELS_MAX	CHILDREN_MAX
/* Migrations the job table remembers, running and recently finished. */
#define JOBS_MAX		256

/*
 * relocd-metrics-file is written when a migration ends and at least this
 * often, so that its gauges stay fresh; node-exporter's scrape interval
 * is typically 15 to 60 s.
 */
#define METRICS_WRITE_MS	(15 * 1000)

/*
 * relocctl evacuate: peers named with --to, guests it moves in one run,
 * migrations at a time (--parallel, default 2).  It waits at most
 * EVACUATE_CHECK_MS for one pre-flight (a check, which stops at the
 * reservation) and at most EVACUATE_IDLE_MS with no word from relocd on
 * a running migration (relocd reports progress every round); after a
 * cancel (SIGINT, SIGTERM) at most EVACUATE_CANCEL_MS for the
 * migrations in flight to end.
 */
#define EVACUATE_PEERS_MAX	16
#define EVACUATE_GUESTS_MAX	256
#define EVACUATE_PARALLEL_MAX	16
#define EVACUATE_PARALLEL_DEFAULT 2
#define EVACUATE_CHECK_MS	(120 * 1000)
#define EVACUATE_IDLE_MS	(10 * 60 * 1000)
#define EVACUATE_CANCEL_MS	(60 * 1000)

#endif /* RELOCD_BOUNDS_H */
