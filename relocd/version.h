/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_VERSION_H
#define RELOCD_VERSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proto_msg;

/* The release of the only relocd whose hello names no release. */
#define VERSION_RELEASE_V1	"0.1.0"

extern const char	relocd_version[];

void	version_hello(struct proto_msg *);
int	version_choose(const struct proto_msg *, uint32_t *);
bool	version_accept(const struct proto_msg *);
void	version_mismatch(char *, size_t, const char *,
	    const struct proto_msg *, const char *);
void	version_print(const char *);
unsigned int version_save_flags(uint32_t);

#endif /* RELOCD_VERSION_H */
