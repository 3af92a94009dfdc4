/* SPDX-License-Identifier: ISC */
/*
 * hbrec.h: the disk record log of the test guests (hbwork.c writes it,
 * hbclient.c's "check" reads it back in dom0).
 *
 * The guest's disk carries an ext4 file system (made by the harness); the
 * guest mounts it and writes record number SEQ at byte SEQ * HBREC_SIZE of
 * the file HBREC_FILE at its root, one record every 20 ms, each made
 * durable (fdatasync) before the next is written: the file grows by one
 * record at a time, as a script appending to a log would.  Once the guest
 * has shut down (and unmounted it), dom0 copies the file out of the image
 * and checks it.  A correct log is a prefix of valid records 0..N-1
 * followed by nothing:
 *   lost       a slot before the end that holds no valid record
 *   duplicated a sequence number that appears twice
 *   out of order  a valid record in the wrong slot
 * A record carries the guest's boot id, so one left from an earlier boot
 * of the same image counts as wrong, and a CRC-32 over the whole record,
 * so a torn or stale block cannot pass for a good one.
 *
 * Trust: the checker reads a guest-written file: every field is bounded
 * before use, and nothing in it is printed except numbers.
 */
#ifndef HBREC_H
#define HBREC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HBREC_SIZE	512		/* one sector: a write is atomic */
#define HBREC_MAGIC	"HBREC001"
#define HBREC_BOOT_LEN	8
#define HBREC_FILE	"hb.log"	/* at the root of the guest's ext4 */

struct hbrec {
	char		magic[8];
	char		boot[HBREC_BOOT_LEN];	/* the guest's boot id, 8 hex */
	uint64_t	seq;
	uint64_t	mono_ns;		/* guest CLOCK_MONOTONIC */
	uint32_t	crc;			/* CRC-32 with this field 0 */
	uint32_t	pad;
	unsigned char	fill[HBREC_SIZE - 40];	/* derived from seq */
};

_Static_assert(sizeof(struct hbrec) == HBREC_SIZE, "record is one sector");

/* CRC-32 (IEEE, reflected), bitwise: 512 bytes every 20 ms is nothing. */
static inline uint32_t
hbrec_crc32(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t crc = 0xffffffffu;
	int k;

	while (len-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static inline void
hbrec_fill(struct hbrec *r, const char *boot, uint64_t seq, uint64_t mono)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	memcpy(r->magic, HBREC_MAGIC, sizeof(r->magic));
	memcpy(r->boot, boot, HBREC_BOOT_LEN);
	r->seq = seq;
	r->mono_ns = mono;
	for (i = 0; i < sizeof(r->fill); i++)
		r->fill[i] = (unsigned char)(seq * 31 + i);
	r->crc = hbrec_crc32(r, sizeof(*r));
}

/* A record whose magic and CRC hold (its slot is the caller's check). */
static inline int
hbrec_valid(const struct hbrec *r)
{
	struct hbrec c;

	if (memcmp(r->magic, HBREC_MAGIC, sizeof(r->magic)) != 0)
		return 0;
	c = *r;
	c.crc = 0;
	return hbrec_crc32(&c, sizeof(c)) == r->crc;
}

#endif
