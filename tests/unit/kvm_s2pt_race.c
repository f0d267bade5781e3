// SPDX-License-Identifier: MIT
/*
 * The stage-2 table (src/kvm/s2pt.c) under concurrency: mappers racing
 * under a read lock with lockless walkers that set A/D bits, and zaps under
 * the write lock, with and without random delays at every atomic and lock
 * (run under TSan by make check).  Single-threaded tests: kvm_s2pt.c.
 */
#include "harness.h"

#include <pthread.h>

#include <kvmmu/log.h>
#include <kvmmu/rng.h>
#include <kvmmu/sched.h>

#include "kvm_s2pt_common.h"

/*
 * Mappers map under a read-held "mmu_lock" (x86 faults), walkers walk with
 * no lock inside a "guest mode" section and set A/D bits with a cmpxchg as
 * the hardware does, and the main thread zaps under the write lock.  A
 * remote TLB flush is modelled by taking the guest-mode lock for write: it
 * waits for every walker to leave its section, after which freeing the
 * retired tables is safe (and TSan sees why).
 *
 * Regions (gfns):
 *   A  each mapper its own level-1 tables, all under shared upper tables
 *      (so that the first installs of the upper tables race);
 *   B  the same 4 KiB gfns for every mapper: exactly one wins each;
 *   C  2 MiB blocks every mapper tries, and 4 KiB pages inside them.
 */
#define NMAP	 4
#define NWALK	 2
#define A_BASE	 (1ull << 35) /* a fresh root entry */
#define A_TABLES 8	      /* level-1 tables per mapper */
#define B_BASE	 (A_BASE + (1ull << 20))
#define B_PAGES	 2048
#define C_BASE	 (A_BASE + (1ull << 21))
#define C_BLOCKS 16

static struct conc {
	struct kvmmu_s2_mmu mmu;
	kvmmu_rwlock_t mmu_lock;
	pthread_rwlock_t guest;	 /* read: in guest mode; write: a flush */
	pthread_barrier_t start; /* everybody */
	pthread_barrier_t phase; /* the mappers and the main thread */
	bool stop;		 /* atomic */
	int b_wins[B_PAGES];	 /* atomic */
	int c_wins[C_BLOCKS];	 /* atomic */
	unsigned long bad;	 /* atomic: walker/mapper findings */
	uint64_t seed;		 /* test_seed(), read once by the main thread */
} cs;

static gfn_t a_gfn(unsigned int tid, unsigned int i)
{
	/* level-1 table number t * NMAP + tid, interleaved */
	unsigned int tbl = (i / 512) * NMAP + tid;

	return A_BASE + (gfn_t)tbl * 512 + i % 512;
}

static void note_bad(const char *what, gfn_t g, kvmmu_spte_t e)
{
	if (__atomic_fetch_add(&cs.bad, 1, __ATOMIC_RELAXED) < 5)
		printf("# %s: gfn %#" PRIx64 " entry %#" PRIx64 "\n", what, g,
		       e);
}

/* A leaf found for @g at @level must be one some mapper installed. */
static void check_leaf(gfn_t g, int level, kvmmu_spte_t e)
{
	gfn_t base = ALIGN_DOWN(g, lsize(level));
	uint32_t tag = (e & S2_GEN_MASK) >> S2_GEN_SHIFT;

	if (!s2_is_leaf(e) || s2_pfn(e) != base || tag < 1 || tag > NMAP ||
	    (level == 2 && (base < C_BASE || base >= C_BASE + C_BLOCKS * 512)))
		note_bad("bad leaf", g, e);
}

static void conc_map(unsigned int tid, gfn_t g, int level, bool phase1,
		     int *wins)
{
	kvmmu_spte_t e = mkleaf(g, PROT_FRESH, tid + 1), old = 0;
	int ret;

	kvmmu_read_lock(&cs.mmu_lock);
	ret = kvmmu_s2_map(&cs.mmu, g, level, e, &old);
	kvmmu_read_unlock(&cs.mmu_lock);
	if (!ret) {
		if (phase1 && wins)
			__atomic_fetch_add(wins, 1, __ATOMIC_RELAXED);
		return;
	}
	if (ret != -EEXIST) {
		note_bad("map failed", g, (kvmmu_spte_t)ret);
		return;
	}
	if (s2_is_leaf(old)) {
		/* a page at @g, or a block over it */
		check_leaf(g, s2_pfn(old) == g ? level : 2, old);
		return;
	}
	/* Only a block map can meet a table (4 KiB pages under it). */
	if (level != 2 || !(old & S2_PRESENT))
		note_bad("bad -EEXIST", g, old);
}

static void *mapper(void *arg)
{
	unsigned int tid = (unsigned int)(uintptr_t)arg, i, k;
	struct kvmmu_rng r;
	bool phase1 = true;

	kvmmu_rng_seed(&r, cs.seed + tid);
	pthread_barrier_wait(&cs.start);
	do {
		for (i = 0; i < A_TABLES * 512; i++)
			conc_map(tid, a_gfn(tid, i), 1, phase1, NULL);
		/* Each mapper starts B at its own offset. */
		for (k = 0; k < B_PAGES; k++) {
			i = (k + tid * B_PAGES / NMAP) % B_PAGES;
			conc_map(tid, B_BASE + i, 1, phase1, &cs.b_wins[i]);
		}
		for (k = 0; k < 4 * C_BLOCKS; k++) {
			i = kvmmu_rng_below(&r, C_BLOCKS);
			if (kvmmu_rng_below(&r, 3))
				conc_map(tid, C_BASE + i * 512, 2, phase1,
					 &cs.c_wins[i]);
			else
				conc_map(tid,
					 C_BASE + i * 512 +
						 kvmmu_rng_below(&r, 512),
					 1, false, NULL);
		}
		if (phase1) {
			/* Pass 1 done; wait for the main thread's checks. */
			pthread_barrier_wait(&cs.phase);
			pthread_barrier_wait(&cs.phase);
			phase1 = false;
		}
	} while (!__atomic_load_n(&cs.stop, __ATOMIC_ACQUIRE));
	return NULL;
}

static gfn_t any_gfn(struct kvmmu_rng *r)
{
	switch (kvmmu_rng_below(r, 3)) {
	case 0:
		return A_BASE + kvmmu_rng_below(r, NMAP * A_TABLES * 512);
	case 1:
		return B_BASE + kvmmu_rng_below(r, B_PAGES);
	default:
		return C_BASE + kvmmu_rng_below(r, C_BLOCKS * 512);
	}
}

static void *walker(void *arg)
{
	struct kvmmu_rng r;
	unsigned long walks = 0;
	int i;

	kvmmu_rng_seed(&r, cs.seed + 100 + (uintptr_t)arg);
	pthread_barrier_wait(&cs.start);
	while (!__atomic_load_n(&cs.stop, __ATOMIC_ACQUIRE)) {
		pthread_rwlock_rdlock(&cs.guest);
		for (i = 0; i < 64; i++) {
			gfn_t g = any_gfn(&r);
			kvmmu_spte_t *ptep, e;
			int level;

			e = kvmmu_s2_walk(&cs.mmu, g, &ptep, &level);
			walks++;
			if (!e)
				continue;
			check_leaf(g, level, e);
			/* Hardware A/D: only ever from the value read. */
			if (!(e & S2_ACCESSED) || !(e & S2_DIRTY))
				cmpxchg(ptep, e, e | S2_ACCESSED | S2_DIRTY);
		}
		pthread_rwlock_unlock(&cs.guest);
	}
	return (void *)walks;
}

struct verify {
	long pages[3];
	gfn_t next; /* first gfn not covered by the leaves seen so far */
	unsigned long overlaps;
};

static void verify_fn(void *arg, gfn_t gfn, int level, kvmmu_spte_t *ptep,
		      kvmmu_spte_t e)
{
	struct verify *v = arg;

	check_leaf(gfn, level, e);
	if (gfn < v->next)
		v->overlaps++;
	v->next = gfn + lsize(level);
	v->pages[level - 1]++;
}

static void conc_verify(void)
{
	struct verify v = { { 0 } };

	kvmmu_s2_for_each_leaf(&cs.mmu, verify_fn, &v);
	ASSERT_EQ(v.overlaps, 0);
	expect_pages(&cs.mmu, v.pages[0], v.pages[1], v.pages[2]);
	check_table_accounting(&cs.mmu);
}

/* The remote TLB flush: wait for every walker to leave guest mode. */
static void conc_flush(void)
{
	pthread_rwlock_wrlock(&cs.guest);
	pthread_rwlock_unlock(&cs.guest);
}

static void concurrent_run(uint32_t delay_ppm)
{
	pthread_t mt[NMAP], wt[NWALK];
	pthread_rwlockattr_t ga;
	struct kvmmu_rng r;
	unsigned long walks = 0, zapped = 0;
	unsigned int i;
	double t0;
	long left;
	int round;
	gfn_t g;

	memset(&cs, 0, sizeof(cs));
	cs.seed = test_seed();
	kvmmu_rng_seed(&r, cs.seed);
	ASSERT_OK(kvmmu_s2_init(&cs.mmu));
	kvmmu_rwlock_init(&cs.mmu_lock, "mmu_lock", KVMMU_RANK_KVM_MMU_LOCK);
	/*
	 * Writer-preferring: glibc's default lets a stream of walkers starve
	 * the flush (seen as timeouts on a loaded machine).  A remote flush
	 * must not wait for walkers that entered after it.
	 */
	pthread_rwlockattr_init(&ga);
	pthread_rwlockattr_setkind_np(
		&ga, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&cs.guest, &ga);
	pthread_rwlockattr_destroy(&ga);
	pthread_barrier_init(&cs.start, NULL, NMAP + NWALK + 1);
	pthread_barrier_init(&cs.phase, NULL, NMAP + 1);
	/* Race widening at every atomic and lock (debug builds). */
	kvmmu_sched_set_random_delay(delay_ppm, cs.seed, 2000);
	for (i = 0; i < NMAP; i++)
		ASSERT_EQ(pthread_create(&mt[i], NULL, mapper,
					 (void *)(uintptr_t)i),
			  0);
	for (i = 0; i < NWALK; i++)
		ASSERT_EQ(pthread_create(&wt[i], NULL, walker,
					 (void *)(uintptr_t)i),
			  0);
	pthread_barrier_wait(&cs.start);

	/* Phase 1: the mappers' first pass, racing only each other. */
	pthread_barrier_wait(&cs.phase);
	kvmmu_write_lock(&cs.mmu_lock);
	for (i = 0; i < B_PAGES; i++)
		ASSERT_EQ(cs.b_wins[i], 1);
	for (i = 0; i < C_BLOCKS; i++)
		ASSERT_LE(cs.c_wins[i], 1);
	for (i = 0; i < NMAP; i++)
		for (g = 0; g < A_TABLES * 512; g++)
			ASSERT_NE(kvmmu_s2_walk(&cs.mmu, a_gfn(i, g), NULL,
						NULL),
				  0);
	conc_verify();
	kvmmu_write_unlock(&cs.mmu_lock);
	pthread_barrier_wait(&cs.phase);

	/*
	 * Phase 2: zaps under the write lock while mappers remap and walkers
	 * walk: at least 300 rounds and 1.5 s.
	 */
	t0 = test_now();
	for (round = 0;
	     round < 300 || (test_now() - t0 < 1.5 && round < 1000000);
	     round++) {
		gfn_t start = any_gfn(&r);
		gfn_t len = kvmmu_rng_below(&r, 4) ?
				    1 + kvmmu_rng_below(&r, 600) :
				    kvmmu_rng_below(&r, 1ull << 22);

		kvmmu_write_lock(&cs.mmu_lock);
		zapped += kvmmu_s2_unmap_range(&cs.mmu, start, start + len);
		if (round % 50 == 0)
			conc_verify();
		conc_flush();
		kvmmu_s2_free_retired(&cs.mmu);
		kvmmu_write_unlock(&cs.mmu_lock);
	}
	__atomic_store_n(&cs.stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < NMAP; i++)
		pthread_join(mt[i], NULL);
	for (i = 0; i < NWALK; i++) {
		void *w;

		pthread_join(wt[i], &w);
		walks += (unsigned long)w;
	}
	kvmmu_sched_set_random_delay(0, 0, 0);
	ASSERT_EQ(cs.bad, 0);
	conc_verify();
	TEST_LOG("%lu walks, %lu leaves zapped, %llu KiB of tables", walks,
		 zapped,
		 (unsigned long long)kvmmu_s2_table_bytes(&cs.mmu) >> 10);
	ASSERT_GT(zapped, 0);
	left = kvmmu_s2_count(&cs.mmu, 0) + kvmmu_s2_count(&cs.mmu, 1);
	ASSERT_EQ(kvmmu_s2_unmap_range(&cs.mmu, 0, GFN_LIMIT), left);
	kvmmu_s2_free_retired(&cs.mmu);
	ASSERT_EQ(kvmmu_s2_table_bytes(&cs.mmu), TBL);
	kvmmu_s2_destroy(&cs.mmu);
	kvmmu_rwlock_destroy(&cs.mmu_lock);
	pthread_rwlock_destroy(&cs.guest);
	pthread_barrier_destroy(&cs.start);
	pthread_barrier_destroy(&cs.phase);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

TEST(concurrent_map_walk_zap)
{
	concurrent_run(0);
}

TEST(concurrent_map_walk_zap_delays)
{
	concurrent_run(20000);
}

TEST_HARNESS_MAIN
