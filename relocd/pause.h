/* SPDX-License-Identifier: ISC */
/*
 * The parts of a migration's pause, each measured where it happens and
 * kept apart, as libvirt's domjobinfo keeps downtime apart from setup:
 * what the guest's time stopped for, so that the fixed costs the
 * policy's prediction leaves out can be seen and learnt.  pause.c says
 * what each part covers.
 */
#ifndef RELOCD_PAUSE_H
#define RELOCD_PAUSE_H

#include <stddef.h>
#include <stdint.h>

enum pause_part {
	PAUSE_SUSPEND,		/* the suspend handshake */
	PAUSE_FINAL,		/* the final copy: the last dirty pages */
	PAUSE_STATE,		/* vCPU and device state */
	PAUSE_DIGEST,		/* sim: the digest at suspend, its check */
	PAUSE_RELEASE,		/* the source backend lets go of the guest */
	PAUSE_RESTORE,		/* the destination finishes its copy */
	PAUSE_COMMIT,		/* prepared -> go -> activated */
	PAUSE_UNPAUSE,		/* the destination's unpause */
	PAUSE_NPARTS
};

/*
 * Zeroed, every part is unknown (not measured: a backend that cannot
 * yet, or a part the other host has not reported), which is never
 * shown as 0 ms.
 */
struct pause {
	int64_t		 ms[PAUSE_NPARTS];
	uint32_t	 known;		/* bit (1 << part) */
	uint32_t	 pad;
};

struct json_t;

void		 pause_set(struct pause *, int, int64_t);
/* The part's milliseconds, or -1 if unknown. */
int64_t		 pause_get(const struct pause *, int);
/* Folds in what another process or host measured: its known parts. */
void		 pause_merge(struct pause *, const struct pause *);
/* "suspend 1 ms, final copy 20 ms, ..., unpause unknown" */
int		 pause_format(const struct pause *, char *, size_t);
/* " (pause (suspend-ms 1) ... (unpause-ms unknown))", appended at *off */
int		 pause_sxp(const struct pause *, char *, size_t, size_t *);
/* An object with one member a part, null when unknown; NULL: no memory */
struct json_t	*pause_json(const struct pause *);
/* From pause_json()'s object (absent or null: unknown); -1 if malformed */
int		 pause_from_json(const struct json_t *, struct pause *);

#endif /* RELOCD_PAUSE_H */
