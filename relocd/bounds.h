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

/* Log lines: longer messages are truncated, never split. */
#define LOG_LINE_MAX		1024
/* Peer-triggered messages: a burst of this many, then one per second. */
#define LOG_PEER_BURST_MAX	20

/* Internal messages between relocd's processes (msg.c). */
#define MSG_PAYLOAD_MAX		(68 * 1024)

/* Wire frames (proto.c): control frames carry one sxp message. */
#define PROTO_CONTROL_MAX	(64 * 1024)
#define PROTO_DATA_MAX		(1024 * 1024)
/* Pipes carrying a migration's data (util_pipe_data): one data frame. */
#define UTIL_PIPE_DATA_SIZE	PROTO_DATA_MAX
/* A migration id: 32 lower-case hex digits (128 random bits). */
#define MIG_ID_LEN		32
/* Free text in errors and refusals sent to a peer or a user. */
#define PROTO_TEXT_MAX		200

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

/* Children of the parent: network children and workers. */
#define CHILDREN_MAX		1200
/* Migrations the job table remembers, running and recently finished. */
#define JOBS_MAX		256

#endif /* RELOCD_BOUNDS_H */
