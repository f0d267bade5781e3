// SPDX-License-Identifier: MIT
/*
 * Sleepable RCU (kvm->srcu): readers of the memslot sets against the
 * memslot updater.
 *
 * The counter scheme of the kernel's pre-Tree SRCU.  An srcu_struct has a
 * grace-period counter whose low bit (s->idx & 1) is the index new readers
 * use, and for each index a count of read-side entries (lock[idx]) and exits
 * (unlock[idx]).  The counts are spread over cache-line-sized shards, one per
 * thread (round robin, the same row as the thread's statistics shard), so
 * readers on different threads do not write a shared line.
 *
 *   read_lock:	  idx = s->idx & 1;  lock[idx]++   (seq_cst RMW)
 *   read_unlock:  unlock[idx]++                    (seq_cst RMW)
 *   synchronize:  wait for idx ^ 1 to drain; flip s->idx; wait for the old
 *		  idx to drain
 *
 * An index has drained when the sum of its unlock counts, read first,
 * equals the sum of its lock counts, read afterwards: every exit counted
 * belongs to an entry that happened earlier, which the later pass over the
 * lock counts therefore also sees, so equality means no reader that we
 * can see is still inside.
 *
 * A reader may sample the index just before a flip and increment the old
 * index's count only after the updater found it drained.  Such a reader
 * began after the grace period started, so it sees the updater's new
 * pointer (see "Ordering") and need not be waited for; but it may still be
 * inside when the *next* grace period runs.  That is why synchronize first
 * drains the index that is currently inactive (where those late readers
 * are counted) before flipping, and drains the other one after: two waits
 * per grace period, as classic SRCU does.
 *
 * Ordering.  The updater's sequence is "publish new pointer; synchronize;
 * free old", the reader's "lock; load pointer; use; unlock".  That the
 * reader either is counted by the updater's scan or sees the new pointer
 * is the store-buffering pattern: it needs a full barrier on each side.
 * The reader's is its seq_cst increment (a locked RMW on x86, acquire and
 * release on arm64); the updater's is the smp_mb() at the top of
 * kvmmu_synchronize_srcu().  TSan does not model stand-alone fences, so the
 * happens-before it must see, from a reader's last use of the object to the
 * updater's free, runs through the atomics alone: the reader's unlock is a
 * seq_cst (release) RMW, the updater's scan loads it with seq_cst (acquire),
 * and every write to a counter is an RMW, so any later value the scan reads
 * carries the release along with it.
 *
 * Waiting spins on sched_yield() and, after a while, sleeps in short naps;
 * with no reader inside, a grace period is a fence, an uncontended mutex and
 * four passes over the 16 shards.
 *
 * kvmmu_srcu_read_lock_held() is best effort: each thread remembers, in
 * thread-local storage, how deeply it is nested in up to SRCU_TRACKED
 * distinct srcu structs.
 *
 * Models: kernel/rcu/srcu.c (the counter-based version before Tree SRCU,
 * v3.x-v4.11) and include/linux/srcu.h
 */
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <kvmmu/atomic.h>
#include <kvmmu/log.h>
#include <kvmmu/stats.h>

#include "internal.h"

/* Spins (each a sched_yield()) before a drain wait starts to nap. */
#define SRCU_YIELD_SPINS 64
#define SRCU_NAP_NS	 20000 /* 20 µs */

/* --- per-thread nesting, for kvmmu_srcu_read_lock_held() ------------------ */

#define SRCU_TRACKED 4

struct srcu_nesting {
	const struct kvmmu_srcu *s;
	unsigned int depth;
};

static __thread struct srcu_nesting srcu_nest[SRCU_TRACKED];
/* Entries beyond SRCU_TRACKED distinct structs: counted, not attributed. */
static __thread unsigned int srcu_untracked;

static struct srcu_nesting *srcu_nest_find(const struct kvmmu_srcu *s)
{
	unsigned int i;

	for (i = 0; i < SRCU_TRACKED; i++)
		if (srcu_nest[i].depth && srcu_nest[i].s == s)
			return &srcu_nest[i];
	return NULL;
}

static void srcu_nest_enter(const struct kvmmu_srcu *s)
{
	struct srcu_nesting *n = srcu_nest_find(s);
	unsigned int i;

	if (n) {
		n->depth++;
		return;
	}
	for (i = 0; i < SRCU_TRACKED; i++) {
		if (!srcu_nest[i].depth) {
			srcu_nest[i].s = s;
			srcu_nest[i].depth = 1;
			return;
		}
	}
	srcu_untracked++;
}

static void srcu_nest_exit(const struct kvmmu_srcu *s)
{
	struct srcu_nesting *n = srcu_nest_find(s);

	if (n)
		n->depth--;
	else if (srcu_untracked)
		srcu_untracked--;
	else
		WARN_ON_ONCE(!"srcu_read_unlock without srcu_read_lock");
}

/* --- counters ------------------------------------------------------------- */

_Static_assert(sizeof(struct kvmmu_srcu_shard) == 64,
	       "an SRCU shard is one cache line");

/* The shard array: the first cache-line boundary inside @s->shard_mem. */
static inline struct kvmmu_srcu_shard *srcu_shards(struct kvmmu_srcu *s)
{
	return (struct kvmmu_srcu_shard *)ALIGN((uintptr_t)s->shard_mem,
						(uintptr_t)64);
}

static inline struct kvmmu_srcu_shard *srcu_my_shard(struct kvmmu_srcu *s)
{
	return &srcu_shards(s)[kvmmu_stat_shard() % KVMMU_SRCU_SHARDS];
}

/*
 * Have all readers counted on @idx left?  Unlock counts first, then lock
 * counts (see the top of the file); seq_cst loads, so the two passes are
 * ordered and each load acquires the readers' releases.
 */
static bool srcu_readers_gone(struct kvmmu_srcu *s, int idx)
{
	struct kvmmu_srcu_shard *sh = srcu_shards(s);
	unsigned long unlocks = 0, locks = 0;
	unsigned int i;

	for (i = 0; i < KVMMU_SRCU_SHARDS; i++)
		unlocks +=
			__atomic_load_n(&sh[i].unlock[idx], __ATOMIC_SEQ_CST);
	for (i = 0; i < KVMMU_SRCU_SHARDS; i++)
		locks += __atomic_load_n(&sh[i].lock[idx], __ATOMIC_SEQ_CST);
	return locks == unlocks;
}

/* Wait until every reader counted on @idx has left. */
static void srcu_wait_idx(struct kvmmu_srcu *s, int idx)
{
	struct timespec nap = { 0, SRCU_NAP_NS };
	unsigned int spins = 0;

	for (;;) {
		kvmmu_sched_point(KVMMU_SP_LOAD,
				  &srcu_shards(s)[0].unlock[idx]);
		if (srcu_readers_gone(s, idx))
			return;
		if (spins < SRCU_YIELD_SPINS) {
			spins++;
			sched_yield();
		} else {
			nanosleep(&nap, NULL);
		}
	}
}

/* --- API ------------------------------------------------------------------ */

/**
 * kvmmu_srcu_init() - initialise an SRCU domain with no readers.
 * @s: the domain.
 *
 * Models: kernel/rcu/srcu.c init_srcu_struct() (kvm-mmu-protocol.md §1.2)
 * Context: @s is not in use.
 * Return: nothing.
 */
void kvmmu_srcu_init(struct kvmmu_srcu *s)
{
	s->idx = 0;
	memset(s->shard_mem, 0, sizeof(s->shard_mem));
	/* Nothing is taken under it: a grace period only spins and sleeps. */
	kvmmu_mutex_init(&s->gp_lock, "srcu.gp_lock", KVMMU_RANK_LEAF);
}

/**
 * kvmmu_srcu_destroy() - tear an SRCU domain down.
 * @s: the domain.
 *
 * A reader still inside is a bug of the caller and is reported as a
 * warning.  No grace period may be running.
 *
 * Models: kernel/rcu/srcu.c cleanup_srcu_struct()
 * Context: may block briefly; no reader or updater uses @s any more.
 * Return: nothing.
 */
void kvmmu_srcu_destroy(struct kvmmu_srcu *s)
{
	WARN_ON(!srcu_readers_gone(s, 0) || !srcu_readers_gone(s, 1));
	kvmmu_mutex_destroy(&s->gp_lock);
}

/**
 * kvmmu_srcu_read_lock() - enter a read-side critical section of @s.
 * @s: the domain.
 *
 * The seq_cst increment is the reader's full barrier: the loads of the
 * section (e.g. of kvm->memslots[as]) cannot move before it.
 *
 * Models: include/linux/srcu.h srcu_read_lock()
 * Context: any; may nest; the section may sleep.  Must not call
 * kvmmu_synchronize_srcu(@s) inside.
 * Return: the index to hand to kvmmu_srcu_read_unlock().
 */
int kvmmu_srcu_read_lock(struct kvmmu_srcu *s)
{
	struct kvmmu_srcu_shard *sh = srcu_my_shard(s);
	int idx;

	kvmmu_sched_point(KVMMU_SP_RMW, &s->idx);
	idx = (int)(__atomic_load_n(&s->idx, __ATOMIC_RELAXED) & 1);
	__atomic_fetch_add(&sh->lock[idx], 1, __ATOMIC_SEQ_CST);
	srcu_nest_enter(s);
	return idx;
}

/**
 * kvmmu_srcu_read_unlock() - leave a read-side critical section of @s.
 * @s: the domain.
 * @idx: what the matching kvmmu_srcu_read_lock() returned.
 *
 * The seq_cst increment releases every access of the section to the
 * grace period that observes it.
 *
 * Models: include/linux/srcu.h srcu_read_unlock()
 * Context: inside a section of @s entered with @idx (any thread; the
 * counts are summed over shards).
 * Return: nothing.
 */
void kvmmu_srcu_read_unlock(struct kvmmu_srcu *s, int idx)
{
	struct kvmmu_srcu_shard *sh = srcu_my_shard(s);

	srcu_nest_exit(s);
	kvmmu_sched_point(KVMMU_SP_RMW, &sh->unlock[idx & 1]);
	__atomic_fetch_add(&sh->unlock[idx & 1], 1, __ATOMIC_SEQ_CST);
}

/**
 * kvmmu_synchronize_srcu() - wait for a grace period of @s.
 * @s: the domain.
 *
 * Returns once every reader that entered before the call has left.  The
 * caller's earlier stores (the unpublishing of an object) are ordered
 * before the scan by a full barrier, and the scan's acquire loads order
 * the caller's later accesses (the free) after every counted reader.
 *
 * Models: kernel/rcu/srcu.c synchronize_srcu() / __synchronize_srcu()
 * (and synchronize_srcu_expedited(), which is the same here;
 * kvm-mmu-protocol.md §2.4)
 * Context: may block; not inside a read-side section of @s; takes
 * @s->gp_lock (a leaf), so callers may hold any kvmmu lock that is not
 * needed by a reader of @s to leave its section.
 * Return: nothing.
 */
void kvmmu_synchronize_srcu(struct kvmmu_srcu *s)
{
	unsigned long idx;

	/* Self-deadlock: we would wait for our own section. */
	WARN_ON_ONCE(srcu_nest_find(s) != NULL);

	/* Pairs with the readers' seq_cst increments (store buffering). */
	smp_mb();
	kvmmu_mutex_lock(&s->gp_lock);
	idx = __atomic_load_n(&s->idx, __ATOMIC_RELAXED);
	/* Readers that sampled the index before the previous flip. */
	srcu_wait_idx(s, (int)((idx + 1) & 1));
	kvmmu_sched_point(KVMMU_SP_RMW, &s->idx);
	__atomic_fetch_add(&s->idx, 1, __ATOMIC_SEQ_CST);
	/* Everyone who entered on the index new readers used until now. */
	srcu_wait_idx(s, (int)(idx & 1));
	kvmmu_mutex_unlock(&s->gp_lock);
	smp_mb();
}

/**
 * kvmmu_srcu_read_lock_held() - is the calling thread inside a section?
 * @s: the domain.
 *
 * Best effort: exact for up to SRCU_TRACKED distinct domains nested at
 * once on a thread; beyond that, any section counts.
 *
 * Models: include/linux/srcu.h srcu_read_lock_held()
 * Context: any.
 * Return: true if the calling thread is (probably) in a section of @s.
 */
bool kvmmu_srcu_read_lock_held(const struct kvmmu_srcu *s)
{
	return srcu_nest_find(s) != NULL || srcu_untracked != 0;
}
