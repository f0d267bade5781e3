// SPDX-License-Identifier: MIT
/*
 * The stage-2 page table: a 4-level radix of 512-entry tables mapping a
 * 36-bit gfn space (48-bit GPA), with 4 KiB leaves at level 1 and block
 * leaves at levels 2 (2 MiB) and 3 (1 GiB).  Entry format: kvm/internal.h.
 *
 * Who touches an entry, and how:
 *
 *  - Faults install tables and leaves with mmu_lock held for read (x86) or
 *    write (arm64), several at once.  Every install is a cmpxchg from 0, so
 *    two faults racing for the same slot agree on one winner; a fault that
 *    loses a table install gives its table back to the pool at once (nobody
 *    ever saw it).  The cmpxchg is sequentially consistent, which includes
 *    release: the zeroed table is visible before the entry pointing to it.
 *  - The hardware walker (kvmmu_s2_walk) takes no lock and reads every
 *    entry with an acquire load, pairing with that release.  TSan does not
 *    model stand-alone fences, so the pairing is on the entries themselves.
 *  - Lockless leaf writers (the walker's A/D updates, x86's fast page fault
 *    W upgrade, lockless aging) must use a cmpxchg from the value they read,
 *    so they can never resurrect an entry a zap cleared, and only ever set
 *    A, D or W when the bit is clear (or clear A).
 *  - Zaps run with mmu_lock held for write, so no install runs concurrently
 *    and only the lockless leaf writers above can race with them.
 *
 * Tables come from a per-mmu pool of 2 MiB chunks carved into 4 KiB tables
 * (a free list linked through e[0]; the pool lock makes allocation safe
 * under the read lock).  A zap unlinks the tables it empties but cannot
 * free them: a vCPU in guest mode may still be walking one until the
 * caller's remote TLB flush has waited for it.  So they go to the retired
 * list, linked through e[0] as well (a table pointer with the PRESENT bit
 * clear, which a stale walker reads as "not present"), and
 * kvmmu_s2_free_retired() returns them to the pool after the flush.
 *
 * Models: arch/arm64/kvm/hyp/pgtable.c (the stage-2 walkers),
 *	   arch/x86/kvm/mmu/tdp_mmu.c (the TDP MMU's iterators and zaps)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define S2_BITS_PER_LEVEL 9
#define S2_GFN_BITS	  (S2_BITS_PER_LEVEL * S2_LEVELS) /* 36 */
#define S2_GFN_LIMIT	  (1ull << S2_GFN_BITS)
#define S2_TABLE_SIZE	  4096ul
#define S2_CHUNK_SIZE	  (2ul << 20)
#define S2_CHUNK_TABLES	  (S2_CHUNK_SIZE / S2_TABLE_SIZE)
#define S2_MAX_BLOCK	  3 /* 1 GiB; a level-4 entry is always a table */

_Static_assert(sizeof(struct kvmmu_s2_table) == S2_TABLE_SIZE,
	       "a stage-2 table is one 4 KiB page");

/* Index of @gfn in a table of @level. */
static inline unsigned int s2_index(gfn_t gfn, int level)
{
	return (gfn >> (S2_BITS_PER_LEVEL * (level - 1))) & (S2_ENTRIES - 1);
}

/* Number of gfns one entry of a table of @level maps. */
static inline gfn_t s2_entry_pages(int level)
{
	return 1ull << (S2_BITS_PER_LEVEL * (level - 1));
}

static inline struct kvmmu_s2_table *s2_table_of(kvmmu_spte_t e)
{
	return (struct kvmmu_s2_table *)(uintptr_t)(e & S2_ADDR_MASK);
}

static inline kvmmu_spte_t s2_mk_table(struct kvmmu_s2_table *t)
{
	return (kvmmu_spte_t)(uintptr_t)t | S2_PRESENT;
}

/* --- the table pool ------------------------------------------------------ */

/*
 * Map one 2 MiB chunk, 2 MiB-aligned so that it can be one transparent huge
 * page (fewer TLB misses for the walkers), and put its tables on the free
 * list.  Return: 0 or -ENOMEM.
 */
static int s2_pool_grow(struct kvmmu_s2_mmu *mmu) REQUIRES(mmu->pool_lock)
{
	size_t len = 2 * S2_CHUNK_SIZE;
	uintptr_t raw, c;
	char *chunk;
	unsigned long i;

	if (mmu->nr_chunks == mmu->chunk_cap) {
		unsigned long cap = mmu->chunk_cap ? 2 * mmu->chunk_cap : 16;
		void **n = realloc(mmu->chunks, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		mmu->chunks = n;
		mmu->chunk_cap = cap;
	}
	chunk = mmap(NULL, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (chunk == MAP_FAILED)
		return -ENOMEM;
	/* Trim to the 2 MiB-aligned chunk inside the mapping. */
	raw = (uintptr_t)chunk;
	c = ALIGN(raw, S2_CHUNK_SIZE);
	if (c > raw)
		munmap(chunk, c - raw);
	if (raw + len > c + S2_CHUNK_SIZE)
		munmap((void *)(c + S2_CHUNK_SIZE),
		       raw + len - (c + S2_CHUNK_SIZE));
	chunk = (char *)c;
	/* A table entry holds the table's address in bits 12-51. */
	if (WARN_ON_ONCE((c + S2_CHUNK_SIZE - 1) >> 52)) {
		munmap(chunk, S2_CHUNK_SIZE);
		return -ENOMEM;
	}
	madvise(chunk, S2_CHUNK_SIZE, MADV_HUGEPAGE); /* a hint; may fail */
	mmu->chunks[mmu->nr_chunks++] = chunk;
	/* Push in reverse so that tables are handed out in address order. */
	for (i = S2_CHUNK_TABLES; i-- > 0;) {
		struct kvmmu_s2_table *t =
			(struct kvmmu_s2_table *)(chunk + i * S2_TABLE_SIZE);

		WRITE_ONCE(t->e[0], (kvmmu_spte_t)(uintptr_t)mmu->free_list);
		mmu->free_list = t;
	}
	return 0;
}

static void s2_count_add(struct kvmmu_s2_mmu *mmu, int idx, long v)
{
	__atomic_fetch_add(&mmu->cnt[kvmmu_stat_shard()].v[idx], v,
			   __ATOMIC_RELAXED);
}

/* A zeroed table, or NULL.  Context: mmu_lock held (read or write). */
static struct kvmmu_s2_table *s2_table_alloc(struct kvmmu_s2_mmu *mmu)
{
	struct kvmmu_s2_table *t = NULL;

	kvmmu_spin_lock(&mmu->pool_lock);
	if (mmu->free_list || !s2_pool_grow(mmu)) {
		t = mmu->free_list;
		mmu->free_list = s2_table_of(READ_ONCE(t->e[0]));
	}
	kvmmu_spin_unlock(&mmu->pool_lock);
	if (!t)
		return NULL;
	/*
	 * Plain stores: nobody can reach the table.  It was unreachable for
	 * walkers before it left the retired list (the remote TLB flush), and
	 * the cmpxchg that publishes it orders these stores before it.
	 */
	memset(t, 0, sizeof(*t));
	s2_count_add(mmu, S2_CNT_TABLES, 1);
	return t;
}

/* Give back a table that was never published (a lost install race). */
static void s2_table_free(struct kvmmu_s2_mmu *mmu, struct kvmmu_s2_table *t)
{
	kvmmu_spin_lock(&mmu->pool_lock);
	WRITE_ONCE(t->e[0], (kvmmu_spte_t)(uintptr_t)mmu->free_list);
	mmu->free_list = t;
	kvmmu_spin_unlock(&mmu->pool_lock);
	s2_count_add(mmu, S2_CNT_TABLES, -1);
}

/* Unmap every chunk: all tables, in use, retired or free, go at once. */
static void s2_pool_free(struct kvmmu_s2_mmu *mmu)
{
	unsigned long i;

	for (i = 0; i < mmu->nr_chunks; i++)
		munmap(mmu->chunks[i], S2_CHUNK_SIZE);
	free(mmu->chunks);
	mmu->chunks = NULL;
	mmu->nr_chunks = mmu->chunk_cap = 0;
	mmu->free_list = mmu->retired = NULL;
	memset(mmu->cnt, 0, sizeof(mmu->cnt));
}

/**
 * kvmmu_s2_init() - set up an empty stage-2 table (a root and its pool).
 * @mmu: the object to initialise; any previous contents are ignored.
 *
 * Context: any; @mmu is not shared yet.
 * Return: 0, or -ENOMEM (then @mmu holds nothing and kvmmu_s2_destroy()
 * is a no-op on it).
 * Models: arch/arm64/kvm/hyp/pgtable.c __kvm_pgtable_stage2_init()
 */
int kvmmu_s2_init(struct kvmmu_s2_mmu *mmu)
{
	struct kvmmu_s2_table *root;

	memset(mmu, 0, sizeof(*mmu));
	kvmmu_spin_lock_init(&mmu->pool_lock, "s2_pool_lock", KVMMU_RANK_LEAF);
	root = s2_table_alloc(mmu);
	if (!root) {
		s2_pool_free(mmu);
		kvmmu_spin_lock_destroy(&mmu->pool_lock);
		return -ENOMEM;
	}
	WRITE_ONCE(mmu->root, root);
	return 0;
}

/**
 * kvmmu_s2_destroy() - free every table and the pool.
 * @mmu: the table.
 *
 * Leaves still present are dropped without being zapped one by one (VM
 * teardown) and the page counters return to 0.  root becomes NULL, and a
 * second call (or one after a failed kvmmu_s2_init(), or on a zeroed
 * object) does nothing; the other functions treat a NULL root as an empty
 * table.
 *
 * Context: nothing walks or changes the table any more.
 * Models: arch/arm64/kvm/hyp/pgtable.c kvm_pgtable_stage2_destroy()
 */
void kvmmu_s2_destroy(struct kvmmu_s2_mmu *mmu)
{
	if (!READ_ONCE(mmu->root))
		return;
	WRITE_ONCE(mmu->root, NULL);
	s2_pool_free(mmu);
	kvmmu_spin_lock_destroy(&mmu->pool_lock);
}

/* --- walk and map --------------------------------------------------------- */

/**
 * kvmmu_s2_walk() - the hardware walker: find the leaf mapping @gfn.
 * @mmu: the table.
 * @gfn: the guest frame; at or above 2^36 nothing maps it.
 * @ptep: if not NULL, receives the leaf's address (for A/D updates with a
 *	  cmpxchg), or NULL when there is no leaf.
 * @level: if not NULL, receives the leaf's level (1 = 4 KiB, 2 = 2 MiB,
 *	   3 = 1 GiB), or, when there is no leaf, the level of the
 *	   non-present entry the walk stopped at (0 for an invalid @gfn).
 *
 * Every entry is read with an acquire load, which pairs with the release of
 * the cmpxchg that published it: the walker sees a table's zeroed contents
 * (and whatever the fault wrote before installing a leaf).
 *
 * Context: any, no lock needed; see kvm/internal.h for why a walker in
 * guest mode never reads a freed table.
 * Return: the leaf entry, or 0 if @gfn is not mapped.
 * Models: the CPU's stage-2 / EPT table walk;
 *	   arch/x86/kvm/mmu/tdp_mmu.c kvm_tdp_mmu_get_walk()
 */
kvmmu_spte_t kvmmu_s2_walk(struct kvmmu_s2_mmu *mmu, gfn_t gfn,
			   kvmmu_spte_t **ptep, int *level)
{
	struct kvmmu_s2_table *t = READ_ONCE(mmu->root);
	kvmmu_spte_t *ep, e = 0;
	int l = 0;

	if (gfn >= S2_GFN_LIMIT || !t)
		goto miss;
	for (l = S2_LEVELS; l >= 1; l--) {
		ep = &t->e[s2_index(gfn, l)];
		e = smp_load_acquire(ep);
		if (!(e & S2_PRESENT))
			break;
		if (e & S2_LEAF) {
			if (ptep)
				*ptep = ep;
			if (level)
				*level = l;
			return e;
		}
		if (WARN_ON_ONCE(l == 1)) /* a table entry in a leaf table */
			break;
		t = s2_table_of(e);
	}
miss:
	if (ptep)
		*ptep = NULL;
	if (level)
		*level = l;
	return 0;
}

/**
 * kvmmu_s2_map() - install a leaf, creating the tables above it.
 * @mmu: the table.
 * @gfn: the first gfn the leaf maps; aligned to the leaf's size.
 * @level: 1 (4 KiB page), 2 (2 MiB block) or 3 (1 GiB block).
 * @new: the leaf entry (s2_mk_leaf(); PRESENT and LEAF set).
 * @old: if not NULL, receives on -EEXIST the entry in the way.
 *
 * Each missing table is allocated zeroed and published with a cmpxchg from
 * 0; a fault that loses that race frees its table and goes down the
 * winner's.  The leaf is installed with a cmpxchg from 0 as well, so of
 * several faults on the same gfn exactly one installs and the others see
 * -EEXIST with the winner's leaf.  Nothing present is ever replaced: on
 * -EEXIST *old is the leaf mapping @gfn (a 4 KiB page, or a block at this
 * level or above), or a table entry (s2_is_leaf() false) when a block is
 * asked for where smaller mappings already exist under a table.  The
 * caller decides whether that is a spurious fault or an upgrade.
 *
 * Context: mmu_lock held, for read or write; several mappers may run at
 * once under the read lock.  May allocate memory; does not sleep otherwise.
 * Return: 0 (installed), -EEXIST (something is there), -EINVAL (@level not
 * 1..3, @gfn beyond the 36-bit gfn space or not aligned to the leaf's size,
 * @new not a present leaf, or the table destroyed), -ENOMEM (no memory for
 * a table).
 * Models: arch/arm64/kvm/hyp/pgtable.c kvm_pgtable_stage2_map(),
 *	   arch/x86/kvm/mmu/tdp_mmu.c kvm_tdp_mmu_map()
 */
int kvmmu_s2_map(struct kvmmu_s2_mmu *mmu, gfn_t gfn, int level,
		 kvmmu_spte_t new, kvmmu_spte_t *old)
{
	struct kvmmu_s2_table *t = READ_ONCE(mmu->root), *nt;
	kvmmu_spte_t *ep, e, te;
	int l;

	if (level < 1 || level > S2_MAX_BLOCK || gfn >= S2_GFN_LIMIT ||
	    !IS_ALIGNED(gfn, s2_entry_pages(level)) || !s2_is_leaf(new) ||
	    WARN_ON_ONCE(!t))
		return -EINVAL;
	for (l = S2_LEVELS; l > level; l--) {
		ep = &t->e[s2_index(gfn, l)];
		e = smp_load_acquire(ep);
		if (!(e & S2_PRESENT)) {
			nt = s2_table_alloc(mmu);
			if (!nt)
				return -ENOMEM;
			te = s2_mk_table(nt);
			/* Release: the zeroed table before the pointer. */
			e = cmpxchg(ep, 0, te);
			if (!e) {
				e = te;
			} else {
				/* Lost the race; nobody saw our table. */
				s2_table_free(mmu, nt);
			}
		}
		if (e & S2_LEAF) {
			/* A block above the requested level maps @gfn. */
			if (old)
				*old = e;
			return -EEXIST;
		}
		t = s2_table_of(e);
	}
	ep = &t->e[s2_index(gfn, level)];
	e = cmpxchg(ep, 0, new);
	if (e) {
		if (old)
			*old = e;
		return -EEXIST;
	}
	s2_count_add(mmu, level - 1, 1);
	return 0;
}

/* --- zap ------------------------------------------------------------------ */

struct s2_zap {
	struct kvmmu_s2_mmu *mmu;
	unsigned long zapped[S2_STAT_NR]; /* leaves, by level */
};

/*
 * Can a lockless writer still change this leaf?  The walker sets A, and D
 * on a writable leaf; the fast page fault sets W on a leaf the host lets be
 * writable.  A leaf with none of those left to set is stable under mmu_lock
 * for write (clearing A by lockless aging may be lost: harmless, the entry
 * is going away), so a plain store may clear it; any other needs an
 * exchange, or a concurrent update made since our read would be lost.
 */
static inline bool s2_leaf_volatile(kvmmu_spte_t e)
{
	if (!(e & S2_ACCESSED))
		return true;
	if (e & S2_WRITE)
		return !(e & S2_DIRTY);
	return e & S2_MMU_WRITABLE;
}

/*
 * Clear the present leaf *ep, last read as @e.  Return: its final value
 * (with any A/D bits set since @e was read).
 * Models: arch/x86/kvm/mmu/tdp_iter.h kvm_tdp_mmu_write_spte() (atomic only
 * when the SPTE has volatile bits)
 */
static inline kvmmu_spte_t s2_clear_leaf(kvmmu_spte_t *ep, kvmmu_spte_t e)
{
	if (s2_leaf_volatile(e))
		return xchg(ep, 0);
	WRITE_ONCE(*ep, 0);
	return e;
}

/* Zap the present leaves of e[i0, i1) of a level-1 table: the hot loop. */
static unsigned long s2_zap_ptes(kvmmu_spte_t *e, unsigned int i0,
				 unsigned int i1)
{
	unsigned long n = 0;
	unsigned int i;

	for (i = i0; i < i1; i++) {
		kvmmu_spte_t v = READ_ONCE(e[i]);

		if (!(v & S2_PRESENT))
			continue;
		s2_clear_leaf(&e[i], v);
		n++;
	}
	return n;
}

/* Does the table still hold a present entry? */
static bool s2_table_empty(struct kvmmu_s2_table *t)
{
	unsigned int i;

	for (i = 0; i < S2_ENTRIES; i++)
		if (READ_ONCE(t->e[i]) & S2_PRESENT)
			return false;
	return true;
}

/*
 * Unlink the empty table *ep points to and queue it for
 * kvmmu_s2_free_retired().  A walker that already read *ep may still be
 * reading it; it finds only non-present entries (e[0] is the list link,
 * a page-aligned pointer with PRESENT clear).
 */
static void s2_retire(struct kvmmu_s2_mmu *mmu, kvmmu_spte_t *ep,
		      struct kvmmu_s2_table *t)
{
	/* Table entries change only under mmu_lock: no exchange needed. */
	WRITE_ONCE(*ep, 0);
	WRITE_ONCE(t->e[0], (kvmmu_spte_t)(uintptr_t)mmu->retired);
	mmu->retired = t;
}

/*
 * Zap the leaves of gfns [start, end) in table @t of @level, whose first
 * gfn is @base, and retire the tables below it that end up empty.
 * [start, end) lies within the table's span and is not empty.
 */
static void s2_zap_table(struct s2_zap *z, struct kvmmu_s2_table *t, int level,
			 gfn_t base, gfn_t start, gfn_t end)
{
	unsigned int shift = S2_BITS_PER_LEVEL * (level - 1);
	unsigned int i = (start - base) >> shift;
	unsigned int last = (end - 1 - base) >> shift;
	gfn_t span = s2_entry_pages(level);

	if (level == 1) {
		z->zapped[0] += s2_zap_ptes(t->e, i, last + 1);
		return;
	}
	for (; i <= last; i++) {
		kvmmu_spte_t *ep = &t->e[i], e = READ_ONCE(*ep);
		gfn_t eb = base + ((gfn_t)i << shift);
		gfn_t cs = max(start, eb), ce = min(end, eb + span);
		struct kvmmu_s2_table *child;

		if (!(e & S2_PRESENT))
			continue;
		if (e & S2_LEAF) {
			/*
			 * A block, zapped whole even if the range covers only
			 * part of it (as KVM does for an invalidation): the
			 * rest of it faults back in.
			 */
			s2_clear_leaf(ep, e);
			z->zapped[level - 1]++;
			continue;
		}
		child = s2_table_of(e);
		s2_zap_table(z, child, level - 1, eb, cs, ce);
		/* A covered table is empty now; a partial one may not be. */
		if ((cs == eb && ce == eb + span) || s2_table_empty(child))
			s2_retire(z->mmu, ep, child);
	}
}

/**
 * kvmmu_s2_unmap_range() - zap every leaf mapping a gfn in [@start, @end).
 * @mmu: the table.
 * @start: first gfn.
 * @end: one past the last gfn; clamped to the 36-bit gfn space.
 *
 * Leaves are cleared to 0 (with an exchange where a lockless writer could
 * still set A, D or W, so that no concurrent update is lost; a plain store
 * where nothing can change them, as KVM does).  A block leaf that the range
 * covers only in part is zapped whole, as KVM does for an invalidation: the
 * rest of it faults back in, as smaller or equal mappings.  Tables left
 * empty are unlinked and put on the retired list; the caller must flush
 * remote TLBs (which waits out every vCPU in guest mode) before
 * kvmmu_s2_free_retired().  Non-present entries are skipped in O(1) each,
 * so a sparse range costs about one load per in-range upper-level entry.
 *
 * Context: mmu_lock held for write.
 * Return: the number of leaves zapped (blocks count one each); the page
 * counters drop by as many.
 * Models: arch/arm64/kvm/hyp/pgtable.c kvm_pgtable_stage2_unmap(),
 *	   arch/x86/kvm/mmu/tdp_mmu.c tdp_mmu_zap_leafs()
 */
unsigned long kvmmu_s2_unmap_range(struct kvmmu_s2_mmu *mmu, gfn_t start,
				   gfn_t end)
{
	struct kvmmu_s2_table *root = READ_ONCE(mmu->root);
	struct s2_zap z = { .mmu = mmu };
	unsigned long n = 0;
	int i;

	end = min(end, (gfn_t)S2_GFN_LIMIT);
	if (start >= end || !root)
		return 0;
	s2_zap_table(&z, root, S2_LEVELS, 0, start, end);
	for (i = 0; i < S2_STAT_NR; i++) {
		if (z.zapped[i])
			s2_count_add(mmu, i, -(long)z.zapped[i]);
		n += z.zapped[i];
	}
	return n;
}

/**
 * kvmmu_s2_free_retired() - return the tables zaps retired to the pool.
 * @mmu: the table.
 *
 * Context: mmu_lock held for write, after a remote TLB flush that followed
 * the zaps that retired the tables (no walker can still be reading them).
 * Models: the RCU callback of arch/x86/kvm/mmu/tdp_mmu.c
 *	   tdp_mmu_free_sp_rcu_callback(); arm64's put_page of a table page
 *	   after its TLBI
 */
void kvmmu_s2_free_retired(struct kvmmu_s2_mmu *mmu)
{
	struct kvmmu_s2_table *t = mmu->retired, *next;
	long n = 0;

	if (!t)
		return;
	mmu->retired = NULL;
	kvmmu_spin_lock(&mmu->pool_lock);
	for (; t; t = next) {
		next = s2_table_of(READ_ONCE(t->e[0]));
		WRITE_ONCE(t->e[0], (kvmmu_spte_t)(uintptr_t)mmu->free_list);
		mmu->free_list = t;
		n++;
	}
	kvmmu_spin_unlock(&mmu->pool_lock);
	s2_count_add(mmu, S2_CNT_TABLES, -n);
}

/* --- inspection ----------------------------------------------------------- */

typedef void (*s2_leaf_fn)(void *arg, gfn_t gfn, int level, kvmmu_spte_t *ptep,
			   kvmmu_spte_t e);

static void s2_visit(struct kvmmu_s2_table *t, int level, gfn_t base,
		     s2_leaf_fn fn, void *arg)
{
	unsigned int shift = S2_BITS_PER_LEVEL * (level - 1);
	unsigned int i;

	for (i = 0; i < S2_ENTRIES; i++) {
		kvmmu_spte_t e = smp_load_acquire(&t->e[i]);
		gfn_t gfn = base + ((gfn_t)i << shift);

		if (!(e & S2_PRESENT))
			continue;
		if (e & S2_LEAF)
			fn(arg, gfn, level, &t->e[i], e);
		else if (!WARN_ON_ONCE(level == 1))
			s2_visit(s2_table_of(e), level - 1, gfn, fn, arg);
	}
}

/**
 * kvmmu_s2_for_each_leaf() - call @fn on every present leaf, in gfn order.
 * @mmu: the table.
 * @fn: called with the leaf's first gfn, its level, its address and its
 *	value; it may update the leaf with a cmpxchg, not change the tables.
 * @arg: passed to @fn.
 *
 * Context: mmu_lock held (for read, concurrent faults may add leaves that
 * the walk then sees or misses).
 * Models: arch/arm64/kvm/hyp/pgtable.c kvm_pgtable_walk() with a leaf
 *	   visitor
 */
void kvmmu_s2_for_each_leaf(struct kvmmu_s2_mmu *mmu,
			    void (*fn)(void *arg, gfn_t gfn, int level,
				       kvmmu_spte_t *ptep, kvmmu_spte_t e),
			    void *arg)
{
	struct kvmmu_s2_table *root = READ_ONCE(mmu->root);

	if (root)
		s2_visit(root, S2_LEVELS, 0, fn, arg);
}

/**
 * kvmmu_s2_table_bytes() - memory held in tables, root and retired tables
 * included (4 KiB per table; the pool's unused tables are not counted).
 * @mmu: the table.
 *
 * Context: any.
 * Return: the number of bytes.
 */
uint64_t kvmmu_s2_table_bytes(struct kvmmu_s2_mmu *mmu)
{
	return (uint64_t)kvmmu_s2_count(mmu, S2_CNT_TABLES) * S2_TABLE_SIZE;
}

long kvmmu_s2_count(const struct kvmmu_s2_mmu *mmu, int idx)
{
	long sum = 0;
	int i;

	for (i = 0; i < KVMMU_STAT_SHARDS; i++)
		sum += __atomic_load_n(&mmu->cnt[i].v[idx], __ATOMIC_RELAXED);
	return sum;
}
