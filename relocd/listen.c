// SPDX-License-Identifier: ISC
/*
 * The relocation listeners, from xend's keys: xend-relocation-server on
 * xend-relocation-port (TLS, or plain only with relocd-insecure-plaintext)
 * and xend-relocation-ssl-server on xend-relocation-ssl-port (always
 * TLS), on xend-relocation-address, which like xend's may be empty (all
 * addresses), an IP literal, an interface name or a host name.
 *
 * Runs in the parent, as root, from the root-owned config.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "listen.h"
#include "log.h"
#include "util.h"

static void
listen_describe(const struct sockaddr *sa, socklen_t len, char *out,
    size_t size)
{
	char	host[64], port[16];

	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(out, size, "?");
	else if (sa->sa_family == AF_INET6)
		snprintf(out, size, "[%s]:%s", host, port);
	else
		snprintf(out, size, "%s:%s", host, port);
}

/* One listening socket; an IPv6 wildcard also takes IPv4 (dual stack). */
static int
listen_one(const struct sockaddr *sa, socklen_t len, int use_tls,
    struct listener *l, char *err, size_t errlen)
{
	int	fd, on = 1, off = 0;

	listen_describe(sa, len, l->where, sizeof(l->where));
	l->use_tls = use_tls;
	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(fd, sa, len) == -1 || listen(fd, 128) == -1)
		goto fail;
	l->fd = fd;
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on %s: %s", l->where,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

static int
listen_add(const struct sockaddr *sa, socklen_t len, int port, int use_tls,
    struct listener *ls, size_t max, size_t *n, char *err, size_t errlen)
{
	struct sockaddr_storage	ss;

	if (*n >= max) {
		snprintf(err, errlen, "too many listening addresses");
		return -1;
	}
	memcpy(&ss, sa, len);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	if (listen_one((struct sockaddr *)&ss, len, use_tls, &ls[*n], err,
	    errlen) == -1)
		return -1;
	(*n)++;
	return 0;
}

/* Every address of interface ifname, as xend resolved interface names. */
static int
listen_interface(const char *ifname, int port, int use_tls,
    struct listener *ls, size_t max, size_t *n, char *err, size_t errlen)
{
	struct ifaddrs	*ifs, *i;
	size_t		 before = *n;
	int		 rc = 0;

	if (getifaddrs(&ifs) == -1) {
		snprintf(err, errlen, "getifaddrs: %s", strerror(errno));
		return -1;
	}
	for (i = ifs; i != NULL && rc == 0; i = i->ifa_next) {
		if (i->ifa_addr == NULL || strcmp(i->ifa_name, ifname) != 0)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			rc = listen_add(i->ifa_addr, sizeof(struct sockaddr_in),
			    port, use_tls, ls, max, n, err, errlen);
		else if (i->ifa_addr->sa_family == AF_INET6)
			rc = listen_add(i->ifa_addr,
			    sizeof(struct sockaddr_in6), port, use_tls, ls, max,
			    n, err, errlen);
	}
	freeifaddrs(ifs);
	if (rc == 0 && *n == before) {
		snprintf(err, errlen, "interface %s has no address", ifname);
		return -1;
	}
	return rc;
}

static int
listen_port(const char *address, int port, int use_tls, struct listener *ls,
    size_t max, size_t *n, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	int		 r, rc = 0;

	if (*address != '\0' && if_nametoindex(address) != 0)
		return listen_interface(address, port, use_tls, ls, max, n,
		    err, errlen);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	/* No address: the IPv6 wildcard, which also accepts IPv4. */
	hints.ai_family = *address == '\0' ? AF_INET6 : AF_UNSPEC;
	r = getaddrinfo(*address == '\0' ? NULL : address, "0", &hints, &res);
	if (r != 0 && *address == '\0') {
		hints.ai_family = AF_INET;
		r = getaddrinfo(NULL, "0", &hints, &res);
	}
	if (r != 0) {
		snprintf(err, errlen, "xend-relocation-address %s: %s",
		    address, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL && rc == 0; ai = ai->ai_next)
		rc = listen_add(ai->ai_addr, ai->ai_addrlen, port, use_tls, ls,
		    max, n, err, errlen);
	freeaddrinfo(res);
	return rc;
}

int
listen_open(const struct conf *conf, struct listener *ls, size_t max,
    size_t *n_r, char *err, size_t errlen)
{
	*n_r = 0;
	if (conf->relocation_server &&
	    listen_port(conf->relocation_address, conf->relocation_port,
	    !conf->insecure_plaintext, ls, max, n_r, err, errlen) == -1)
		goto fail;
	if (conf->ssl_server &&
	    listen_port(conf->relocation_address, conf->ssl_port, 1, ls, max,
	    n_r, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	listen_close(ls, *n_r);
	*n_r = 0;
	return -1;
}

void
listen_close(struct listener *ls, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (ls[i].fd != -1) {
			close(ls[i].fd);
			ls[i].fd = -1;
		}
}
