// SPDX-License-Identifier: ISC
/*
 * The start of an exec'd network child (relocd -N): everything a forked
 * child used to find in the parent's memory, rebuilt in a fresh address
 * space from what the parent passed at fixed descriptors (net.h): the
 * configuration the parent runs with, re-serialised into a memfd; a
 * fixed-size start message (msg.h); the TLS context from the
 * certificate files, with the key process's public key and channel in
 * place of a private key.  All of it is done as root, before
 * net_serve or net_client_run drop privileges and read a peer's byte.
 *
 * So a child parsing a stranger's ClientHello holds no job table, no
 * other connection's state and no parent configuration beyond its own.
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "conf.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "proc.h"
#include "tls.h"
#include "tls_key.h"
#include "util.h"

/* The configuration the parent wrote into fd; never the file itself. */
static struct conf *
net_exec_conf(int fd)
{
	struct conf	*conf;
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 r;

	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    st.st_size > CONF_FILE_MAX)
		fatalx("no configuration from the parent");
	if ((buf = malloc((size_t)st.st_size)) == NULL)
		fatalx("out of memory");
	while (off < (size_t)st.st_size) {
		r = pread(fd, buf + off, (size_t)st.st_size - off, (off_t)off);
		if (r <= 0)
			fatalx("reading the configuration from the parent");
		off += (size_t)r;
	}
	if (conf_load_buffer("(the parent's configuration)", buf, off,
	    &conf) == -1)
		fatalx("the parent's configuration does not parse");
	free(buf);
	return conf;
}

static struct tls_ctx *
net_exec_tls(const struct conf *conf, const struct msg_net_start *st)
{
	struct tls_files	 files;
	struct tls_ctx		*tls;
	char			 err[512];

	if (st->publen == 0 || st->publen > sizeof(st->pub))
		fatalx("no public key from the parent");
	memset(&files, 0, sizeof(files));
	files.key_pub = st->pub;
	files.key_publen = st->publen;
	files.key_name = conf->ssl_key_file;
	files.cert_file = conf->ssl_cert_file;
	files.ca_file = conf->ca_file;
	if (tls_ctx_load(&files, &tls, err, sizeof(err)) == -1)
		fatalx("TLS: %s", err);
	return tls;
}

void
net_exec_main(void)
{
	static struct msg_net_start	 st;
	static struct proc_identity	 id;
	static struct net_client_args	 ca;
	static struct msg_reserve	 desc;
	static struct net_args		 a;
	struct conf			*conf;
	struct tls_ctx			*tls = NULL;
	uint32_t			 type;
	size_t				 len;

	log_procinit("net");
	proc_no_dumps();
	if (msg_recv(NET_MSG_FD, &type, &st, sizeof(st), &len, NULL) != 0 ||
	    type != MSG_NET_START)
		fatalx("no start message from the parent");
	MSG_TERMINATE(st.chroot_dir);
	MSG_TERMINATE(st.local_name);
	MSG_TERMINATE(st.host);
	conf = net_exec_conf(NET_CONF_FD);
	close(NET_CONF_FD);
	/* Without it, this child's peer lines have a bucket of their own. */
	if (log_peer_attach(NET_PEERLOG_FD) == -1)
		log_warnx("no shared peer-log bucket from the parent");
	close(NET_PEERLOG_FD);
	if (st.tls) {
		tls = net_exec_tls(conf, &st);
		tls_key_set_channel(NET_KEY_FD);
	}
	id.drop = st.drop != 0;
	id.uid = (uid_t)st.uid;
	id.gid = (gid_t)st.gid;
	STRLCPY_ARRAY(id.chroot_dir, st.chroot_dir);
	if (st.role == NET_ROLE_CLIENT) {
		if (msg_recv(NET_MSG_FD, &type, &desc, sizeof(desc), &len,
		    NULL) != 0 || type != MSG_NET_DESC)
			fatalx("no migration description from the parent");
		MSG_TERMINATE(desc.id);
		MSG_TERMINATE(desc.facts);
		MSG_TERMINATE(desc.config);
		msg_terminate_guest(&desc.guest);
		ca.parent_fd = NET_MSG_FD;
		ca.data_fd = st.query ? -1 : NET_CONN_FD;
		ca.conf = conf;
		ca.tls = tls;
		ca.id = &id;
		ca.local_name = st.local_name;
		STRLCPY_ARRAY(ca.host, st.host);
		ca.port = (int)st.port;
		ca.query = st.query != 0;
		ca.compress = (int)st.compress;
		ca.reserve = &desc;
		net_client_run(&ca);
	}
	if (st.role != NET_ROLE_SERVE || st.peerlen > sizeof(a.peer))
		fatalx("bad start message from the parent");
	a.fd = NET_CONN_FD;
	a.parent_fd = NET_MSG_FD;
	memcpy(&a.peer, &st.peer, st.peerlen);
	a.peerlen = st.peerlen;
	a.conf = conf;
	a.tls = tls;
	a.id = &id;
	a.local_name = st.local_name;
	STRLCPY_ARRAY(a.host, st.host);
	net_serve(&a);
}
