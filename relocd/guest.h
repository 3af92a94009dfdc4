/* SPDX-License-Identifier: ISC */
/*
 * What a guest is, apart from any backend: its name, uuid, type and
 * state, and the validators for names and uuids that arrive from peers or
 * users.  relocctl and relocd-xl use these without linking a backend.
 */
#ifndef RELOCD_GUEST_H
#define RELOCD_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#define GUEST_NAME_MAX		64
#define GUEST_UUID_LEN		36	/* 8-4-4-4-12 hex, lower case */

enum guest_type {
	GUEST_TYPE_PV,
	GUEST_TYPE_PVH,
	GUEST_TYPE_HVM,
	GUEST_TYPE_SIM
};

enum guest_state {
	GUEST_STATE_RUNNING,
	GUEST_STATE_PAUSED,
	GUEST_STATE_SUSPENDED,	/* saved or being saved; resumable */
	GUEST_STATE_RESERVED,	/* empty, paused, waiting for a stream */
	GUEST_STATE_INCOMING	/* restore in progress */
};

struct guest_info {
	char		 name[GUEST_NAME_MAX + 1];
	char		 uuid[GUEST_UUID_LEN + 1];
	uint32_t	 domid;
	int		 type;		/* enum guest_type */
	int		 state;		/* enum guest_state */
	uint64_t	 memory_bytes;
	uint32_t	 vcpus;
};

const char	*guest_type_name(int);
int		 guest_type_parse(const char *, int *);
const char	*guest_state_name(int);
/* Validators for names and uuids that arrive from peers or users. */
int		 guest_name_valid(const char *);
int		 guest_uuid_valid(const char *);
/* xl's name and Xen's uuid for dom0: the host, never a guest. */
#define GUEST_HOST_NAME		"Domain-0"
#define GUEST_HOST_UUID		"00000000-0000-0000-0000-000000000000"
bool		 guest_is_host(const char *, const char *);
/* A destination or peer: a host name, or with address_ok an address. */
int		 host_name_valid(const char *, int address_ok);

#endif /* RELOCD_GUEST_H */
