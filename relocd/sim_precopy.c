// SPDX-License-Identifier: ISC
/*
 * The sim backend's pre-copy loop, libxenguest's send_memory_live()
 * (Xen 4.17, tools/libs/guest/xg_sr_save.c; policy.c has the lines)
 * call for call, so that one policy decides the same way on both
 * backends:
 *
 *  - the pages to send are a snapshot of the log-dirty bitmap, taken and
 *    cleared in one pass as XEN_DOMCTL_SHADOW_OP_CLEAN does; the pages
 *    dirtied while a snapshot is sent go in the next one, even those the
 *    send has not reached yet (they go twice, as on Xen; with
 *    BACKEND_SAVE_SKIP_REDIRTIED, sim only, the send leaves those out
 *    and they go once: sim_stream.c);
 *  - before round 0 every page is in the snapshot and log-dirty starts
 *    clean, and the policy's first call has iteration 0 and every page;
 *  - each pass asks the policy with the count, sends the snapshot unless
 *    told to abort (a stop too sends it, live), asks again with
 *    iteration + 1 and dirty_count -1, and only on "continue" takes the
 *    next snapshot.
 *
 * So a stop leaves the guest running until the caller suspends it, and
 * the caller's final snapshot, taken at suspend, holds what the guest
 * dirtied since the last one: what the pause really carries.
 *
 * The snapshot also clears the pages' written bits (sim.h), before
 * their copies are taken, which is what the digest relies on.
 *
 * Runs in the source worker; trusts its guest and its caller.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "log.h"
#include "policy.h"
#include "sim.h"

int
sim_dirty_init(struct sim_dirty *d, const struct sim_ctl *ctl,
    struct backend_error *err)
{
	memset(d, 0, sizeof(*d));
	d->words = ctl->bitmap_words;
	if ((d->bits = calloc(d->words, sizeof(*d->bits))) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory for the "
		    "dirty bitmap of %llu pages",
		    (unsigned long long)ctl->pages);
	return 0;
}

void
sim_dirty_free(struct sim_dirty *d)
{
	free(d->bits);
	d->bits = NULL;
}

/*
 * As libxenguest's bitmap_set() before round 0: every page of ctl in
 * bitmap (the log-dirty or the written one), none past the last.
 */
void
sim_bitmap_fill(struct sim_ctl *ctl, uint64_t *bitmap)
{
	uint64_t	i, tail = ctl->pages % 64;

	for (i = 0; i < ctl->bitmap_words; i++)
		__atomic_store_n(&bitmap[i], ~0ULL, __ATOMIC_RELAXED);
	if (tail != 0)
		__atomic_store_n(&bitmap[ctl->bitmap_words - 1],
		    (1ULL << tail) - 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/*
 * XEN_DOMCTL_SHADOW_OP_CLEAN: moves the log-dirty bitmap into the
 * snapshot, a word at a time with one atomic exchange, and clears the
 * same pages' written bits, before any of them is copied: a write after
 * that sets both bits again.  Returns the snapshot's page count.
 */
uint64_t
sim_dirty_clean(struct sim_ctl *ctl, struct sim_dirty *d)
{
	uint64_t	i, bits, n = 0;

	for (i = 0; i < d->words; i++) {
		if (__atomic_load_n(&sim_bitmap(ctl)[i], __ATOMIC_RELAXED) ==
		    0) {
			d->bits[i] = 0;
			continue;
		}
		bits = __atomic_exchange_n(&sim_bitmap(ctl)[i], 0,
		    __ATOMIC_ACQ_REL);
		__atomic_fetch_and(&sim_wbitmap(ctl)[i], ~bits,
		    __ATOMIC_ACQ_REL);
		d->bits[i] = bits;
		n += (uint64_t)__builtin_popcountll(bits);
	}
	d->count = n;
	return n;
}

static int
sim_precopy_ask(const struct backend_save_callbacks *cb,
    const struct backend_precopy_stats *st)
{
	if (cb != NULL && cb->precopy_policy != NULL)
		return cb->precopy_policy(st, cb->data);
	return policy_xen_default(st);
}

/* The stats' figures of what the stream has sent so far. */
static void
sim_precopy_sent(const struct sim_precopy *sp,
    struct backend_precopy_stats *st)
{
	st->total_written = *sp->written;
	st->memory_sent = *sp->copies * SIM_PAGE_SIZE;
	st->zero_pages = *sp->zero_pages;
}

/*
 * The loop (send_memory_live()).  sp->send sends the snapshot and says
 * how many pages it sent; *sp->written is the stream's byte count, the
 * stats' total_written.  Returns 0 when the policy stopped, with the
 * guest still running, or -1 (BE_ABORTED if the policy aborted).
 * res->rounds counts the live sends.
 */
int
sim_precopy_live(struct sim_guest *g, struct sim_dirty *d,
    const struct backend_save_callbacks *cb, const struct sim_precopy *sp,
    struct backend_save_result *res, struct backend_error *err)
{
	struct backend_precopy_stats	st;
	uint64_t			sent;
	int				decision;

	/*
	 * Log-dirty goes on with a seq_cst store after the bitmap is
	 * filled; the workload's fence pairs with it (sim_guest.c).  The
	 * first snapshot then holds every page, and log-dirty starts clean.
	 */
	sim_bitmap_fill(g->ctl, sim_bitmap(g->ctl));
	__atomic_store_n(&g->ctl->logdirty, 1, __ATOMIC_SEQ_CST);
	sim_dirty_clean(g->ctl, d);
	memset(&st, 0, sizeof(st));
	st.page_size = SIM_PAGE_SIZE;
	st.memory_pages = g->ctl->pages;
	/* libxenguest passes the guest's size, not the bitmap's count. */
	st.dirty_count = (long)g->ctl->pages;
	for (;;) {
		sim_precopy_sent(sp, &st);
		decision = sim_precopy_ask(cb, &st);
		if (decision != BACKEND_POLICY_ABORT && d->count > 0) {
			if (sp->send(sp->arg, d, &sent, err) == -1)
				return -1;
			log_debug("sim: %s: round %u sent %llu pages",
			    g->ctl->name, res->rounds,
			    (unsigned long long)sent);
			res->rounds++;
		}
		if (decision != BACKEND_POLICY_CONTINUE)
			break;
		st.iteration++;
		sim_precopy_sent(sp, &st);
		st.dirty_count = -1;
		decision = sim_precopy_ask(cb, &st);
		if (decision != BACKEND_POLICY_CONTINUE)
			break;
		st.dirty_count = (long)sim_dirty_clean(g->ctl, d);
	}
	if (decision == BACKEND_POLICY_ABORT)
		return backend_fail(err, BE_ABORTED, "the pre-copy policy "
		    "aborted after %u rounds", res->rounds);
	return 0;
}
