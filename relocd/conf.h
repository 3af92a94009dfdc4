/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_CONF_H
#define RELOCD_CONF_H

#include <stdio.h>

#define CONF_DEFAULT_PATH	"/etc/xen/xend-config.sxp"
#define CONF_ENV_PATH		"XEND_CONFIG"
/* xend resolved bare file names in its config under this directory. */
#define CONF_XEN_DIR		"/etc/xen"

enum conf_backend {
	CONF_BACKEND_XEN,
	CONF_BACKEND_SIM
};

/* What the pre-copy policy does with a guest that will not converge. */
enum conf_nonconvergence {
	CONF_NONCONV_STOP_AND_COPY,
	CONF_NONCONV_THROTTLE,
	CONF_NONCONV_ABORT
};

/*
 * Whether a source compresses a migration's stream (compress.h):
 * relocd-compress, and relocctl migrate --compress for one migration.
 */
enum conf_compress {
	CONF_COMPRESS_OFF,	/* never (the default) */
	CONF_COMPRESS_ON,	/* every chunk it shrinks, if the peer can */
	CONF_COMPRESS_AUTO	/* as on, until the stream shows no gain */
};

struct acl;
struct acl_names;

struct conf {
	char		*path;

	/* xend's relocation keys, with xend's defaults. */
	int		 relocation_server;
	int		 relocation_port;
	char		*relocation_address;
	char		*source_address;	/* outgoing: bind here; "": any */
	char		*hosts_allow;		/* normalised pattern list */
	int		 ssl_server;
	int		 ssl_port;
	char		*ssl_key_file;
	char		*ssl_cert_file;
	int		 ssl_client;

	/* relocd's own keys. */
	char		*ca_file;
	char		*peers_allow;		/* normalised name list */
	int		 insecure_plaintext;
	int		 max_downtime_ms;
	int		 max_bandwidth_mbit;	/* 0: no cap */
	int		 max_iterations;
	int		 migration_timeout_s;	/* 0: no limit */
	int		 max_migrations;
	char		*control_socket;
	char		*control_group;		/* "": root only */
	char		*state_dir;		/* finished reports */
	int		 backend;		/* enum conf_backend */
	int		 nonconvergence;	/* enum conf_nonconvergence */
	int		 compress;		/* enum conf_compress */
	char		*user;			/* network children run as */
	char		*chroot_dir;		/* ... chrooted here */
	int		 handshake_timeout_s;	/* TLS + hello + auth */
	int		 idle_timeout_s;	/* silence on a connection */
	int		 max_preauth;		/* unauthenticated, in total */
	int		 max_preauth_per_host;	/* ... from one address */
	char		*sim_dir;		/* sim backend state */
	char		*xl_command;		/* xl, for xl-receive */
	char		*metrics_file;		/* "": none written */

	/* Compiled forms of the two lists. */
	struct acl	*hosts_acl;
	struct acl_names *peers_names;
};

const char	*conf_default_path(void);
int		 conf_load(const char *, struct conf **);
int		 conf_load_buffer(const char *, const char *, size_t,
		    struct conf **);
void		 conf_print(const struct conf *, FILE *);
void		 conf_free(struct conf *);
const char	*conf_backend_name(int);
const char	*conf_nonconvergence_name(int);
int		 conf_nonconvergence_parse(const char *);
const char	*conf_compress_name(int);
int		 conf_compress_parse(const char *);
int		 conf_backend_parse(const char *, int *);

#endif /* RELOCD_CONF_H */
