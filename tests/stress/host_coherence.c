// SPDX-License-Identifier: MIT
/*
 * Notifier completeness under concurrency: a miniature secondary MMU.
 *
 * A "shadow" subscriber caches hva -> (pfn, writable) translations that a
 * fault thread obtains with GUP under the invalidation-sequence protocol
 * (sample seq, GUP, install only if no invalidation started or is in
 * progress since), and drops every cached entry a start covers.  A check
 * then holds the shadow lock and compares a cached entry with the host
 * PTE: any difference (other PFN, or cached writable but PTE read-only)
 * means the host changed a mapping without telling its subscribers.
 *
 * Around it: toucher threads write and read the regions, and a mutator
 * munmaps, remaps, moves, mprotects, DONTNEEDs, punches and forks them.
 */
#include <sched.h>
#include "../unit/host_common.h"

#define NREG	 4
#define RPAGES	 16
#define NPAGES	 (NREG * RPAGES)
#define RBASE(i) ((hva_t)0x100000000000ULL + (hva_t)(i)*0x1000000000ULL)
#define RMOVED	 ((hva_t)0x500000000000ULL)

struct shadow {
	struct kvmmu_mmu_notifier mn;
	pthread_mutex_t lock;
	uint64_t seq;
	int in_progress;
	kvmmu_pfn_t pfn[NPAGES];
	bool valid[NPAGES], writable[NPAGES];
	uint64_t invalidations, dropped;
};

static struct hc_env env;
static struct kvmmu_file *memfd;
static struct shadow sh;
static uint64_t seed;
static bool stop;
static uint64_t n_install, n_retry, n_check, n_stale, n_gup_err, n_mut,
	n_mut_err, n_touch, n_touch_err;

static hva_t page_hva(unsigned int i)
{
	return RBASE(i / RPAGES) + PG(i % RPAGES);
}

static int sh_start(struct kvmmu_mmu_notifier *mn,
		    const struct kvmmu_mmu_notifier_range *r)
{
	unsigned int i;

	pthread_mutex_lock(&sh.lock);
	sh.in_progress++;
	sh.seq++;
	sh.invalidations++;
	for (i = 0; i < NPAGES; i++)
		if (sh.valid[i] && page_hva(i) >= r->start &&
		    page_hva(i) < r->end) {
			sh.valid[i] = false;
			sh.dropped++;
		}
	pthread_mutex_unlock(&sh.lock);
	return 0;
}

static void sh_end(struct kvmmu_mmu_notifier *mn,
		   const struct kvmmu_mmu_notifier_range *r)
{
	pthread_mutex_lock(&sh.lock);
	sh.seq++;
	sh.in_progress--;
	pthread_mutex_unlock(&sh.lock);
}

static const struct kvmmu_mmu_notifier_ops sh_ops = {
	.invalidate_range_start = sh_start,
	.invalidate_range_end = sh_end,
};

static bool stopping(void)
{
	return __atomic_load_n(&stop, __ATOMIC_ACQUIRE);
}

static void sh_fault(struct kvmmu_rng *r)
{
	unsigned int i = kvmmu_rng_below(r, NPAGES);
	unsigned int foll = kvmmu_rng_below(r, 2) ? KVMMU_FOLL_WRITE : 0;
	kvmmu_pfn_t pfn;
	uint64_t mseq;
	bool w;
	int ret;

	pthread_mutex_lock(&sh.lock);
	mseq = sh.seq;
	pthread_mutex_unlock(&sh.lock);
	ret = kvmmu_get_user_page(env.mm, page_hva(i), foll, &pfn, &w);
	if (ret) {
		if (ret != -EFAULT && n_gup_err++ < 5)
			printf("# fault: GUP %s\n", test_errname(ret));
		return;
	}
	pthread_mutex_lock(&sh.lock);
	if (sh.in_progress || sh.seq != mseq) {
		n_retry++;
	} else {
		sh.pfn[i] = pfn;
		sh.writable[i] = w;
		sh.valid[i] = true;
		n_install++;
	}
	pthread_mutex_unlock(&sh.lock);
	kvmmu_put_page(env.host, pfn);
}

static void sh_check(unsigned int i)
{
	struct kvmmu_pte_info pte;
	int ret;

	pthread_mutex_lock(&sh.lock);
	if (sh.valid[i]) {
		n_check++;
		ret = kvmmu_mm_lookup_pte(env.mm, page_hva(i), &pte);
		if (ret || !pte.present || pte.pfn != sh.pfn[i] ||
		    (sh.writable[i] && !pte.write)) {
			if (n_stale++ < 5)
				printf("# stale: hva %#" PRIx64
				       " cached pfn %#" PRIx64
				       "%s, host ret %d present %d pfn %#" PRIx64
				       " write %d\n",
				       page_hva(i), sh.pfn[i],
				       sh.writable[i] ? " (w)" : "", ret,
				       ret ? 0 : pte.present, ret ? 0 : pte.pfn,
				       ret ? 0 : pte.write);
		}
	}
	pthread_mutex_unlock(&sh.lock);
}

static void *kvm_fn(void *arg)
{
	struct kvmmu_rng r;

	kvmmu_rng_seed(&r, seed ^ 0x6b76);
	while (!stopping()) {
		if (kvmmu_rng_below(&r, 2))
			sh_fault(&r);
		else
			sh_check(kvmmu_rng_below(&r, NPAGES));
	}
	return NULL;
}

static void *touch_fn(void *arg)
{
	uint8_t buf[64];
	struct kvmmu_rng r;
	int ret;

	kvmmu_rng_seed(&r, seed ^ (uintptr_t)arg);
	while (!stopping()) {
		hva_t a = page_hva(kvmmu_rng_below(&r, NPAGES)) +
			  kvmmu_rng_below(&r, PAGE_SIZE - sizeof(buf));

		if (kvmmu_rng_below(&r, 2)) {
			kvmmu_rng_bytes(&r, buf, sizeof(buf));
			ret = kvmmu_mm_write(env.mm, a, buf, sizeof(buf));
		} else {
			ret = kvmmu_mm_read(env.mm, a, buf, sizeof(buf));
		}
		__atomic_fetch_add(&n_touch, 1, __ATOMIC_RELAXED);
		if (ret && ret != -EFAULT &&
		    __atomic_fetch_add(&n_touch_err, 1, __ATOMIC_RELAXED) < 5)
			printf("# touch: %s\n", test_errname(ret));
	}
	return NULL;
}

/* Restore region @i to its initial mapping: anon, memfd for the last. */
static int remap_region(unsigned int i)
{
	hva_t out;

	if (i == NREG - 1)
		return kvmmu_mmap(env.mm, RBASE(i), PG(RPAGES),
				  PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_FIXED, memfd, 0, &out);
	return kvmmu_mmap(env.mm, RBASE(i), PG(RPAGES), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0,
			  &out);
}

static void *mutator_fn(void *arg)
{
	struct kvmmu_mm *child;
	struct kvmmu_rng r;
	hva_t out;
	int ret;

	kvmmu_rng_seed(&r, seed ^ 0x6d75);
	while (!stopping()) {
		unsigned int i = kvmmu_rng_below(&r, NREG);
		unsigned int p = kvmmu_rng_below(&r, RPAGES);
		hva_t b = RBASE(i);

		switch (kvmmu_rng_below(&r, 7)) {
		case 0:
			ret = kvmmu_munmap(env.mm, b + PG(p), PG(RPAGES - p));
			if (!ret)
				ret = remap_region(i);
			break;
		case 1:
			ret = kvmmu_mremap(env.mm, b, PG(RPAGES), PG(RPAGES),
					   MREMAP_MAYMOVE | MREMAP_FIXED,
					   RMOVED, &out);
			if (!ret)
				ret = kvmmu_mremap(
					env.mm, RMOVED, PG(RPAGES), PG(RPAGES),
					MREMAP_MAYMOVE | MREMAP_FIXED, b, &out);
			break;
		case 2:
			ret = kvmmu_mprotect(env.mm, b + PG(p), PG(RPAGES - p),
					     PROT_READ);
			sched_yield();
			if (!ret)
				ret = kvmmu_mprotect(env.mm, b, PG(RPAGES),
						     PROT_READ | PROT_WRITE);
			break;
		case 3:
			ret = kvmmu_madvise(env.mm, b + PG(p), PG(RPAGES - p),
					    MADV_DONTNEED);
			break;
		case 4:
			ret = kvmmu_fallocate(memfd,
					      FALLOC_FL_PUNCH_HOLE |
						      FALLOC_FL_KEEP_SIZE,
					      PG(p), PG(1));
			break;
		case 5:
			ret = kvmmu_fork(env.mm, &child);
			if (!ret) {
				/* the child writes a private region: its COW
				 * must not be ours (not the shared memfd: two
				 * mms writing one frame is a data race) */
				if (i != NREG - 1)
					kvmmu_mm_memset(child, b + PG(p), 0x55,
							64);
				kvmmu_mmput(child);
			}
			break;
		default:
			ret = remap_region(i); /* MAP_FIXED replace */
			break;
		}
		n_mut++;
		if (ret && n_mut_err++ < 5)
			printf("# mutator: %s\n", test_errname(ret));
	}
	return NULL;
}

TEST_TIMEOUT(host_coherence, 600)
{
	double secs = test_duration(3.0), t0;
	pthread_t kvm, mut, touch[2];
	unsigned int i;

	seed = test_seed();
	hc_setup(&env);
	memfd = hc_memfd(&env, PG(RPAGES));
	pthread_mutex_init(&sh.lock, NULL);
	sh.mn.ops = &sh_ops;
	ASSERT_OK(kvmmu_mmu_notifier_register(&sh.mn, env.mm));
	for (i = 0; i < NREG; i++)
		ASSERT_OK(remap_region(i));

	t0 = test_now();
	ASSERT_EQ(pthread_create(&kvm, NULL, kvm_fn, NULL), 0);
	ASSERT_EQ(pthread_create(&mut, NULL, mutator_fn, NULL), 0);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(pthread_create(&touch[i], NULL, touch_fn,
					 (void *)(uintptr_t)(i + 1)),
			  0);
	while (test_now() < t0 + secs)
		usleep(10000);
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	pthread_join(kvm, NULL);
	pthread_join(mut, NULL);
	for (i = 0; i < 2; i++)
		pthread_join(touch[i], NULL);
	t0 = test_now() - t0;
	/* a last full check at quiescence */
	for (i = 0; i < NPAGES; i++)
		sh_check(i);
	TEST_LOG("%.2f s: %.0f installs/s (%.0f retried), %.0f checks/s, "
		 "%.0f invalidations/s (%" PRIu64 " entries dropped)",
		 t0, n_install / t0, n_retry / t0, n_check / t0,
		 sh.invalidations / t0, sh.dropped);
	TEST_LOG("mutator %.0f ops/s, touchers %.0f accesses/s", n_mut / t0,
		 n_touch / t0);
	EXPECT_EQ(n_stale, 0);
	EXPECT_EQ(n_gup_err, 0);
	EXPECT_EQ(n_mut_err, 0);
	EXPECT_EQ(n_touch_err, 0);
	EXPECT_EQ(sh.in_progress, 0);
	EXPECT_GT(n_install, 0);
	EXPECT_GT(n_check, 0);

	hc_mmput(&env, env.mm);
	kvmmu_mmu_notifier_unregister(&sh.mn, env.mm);
	hc_teardown(&env);
}

TEST_HARNESS_MAIN
