// SPDX-License-Identifier: MIT
/*
 * The host under concurrent load.  Worker threads own regions (private
 * anonymous, one a shared memfd) and write/verify seeded patterns against a
 * shadow copy, retrying writes that fail with -EFAULT while the mutator has
 * the region read-only, and now and then DONTNEED their own range.  A
 * mutator thread maps, remaps and unmaps scratch regions (verifying data
 * there too), mprotects worker regions RO and back, forks and checks a
 * snapshot region in the child, and pins random worker pages with GUP.
 * A counting notifier subscriber checks that every start has its end.
 * Pass: no pattern mismatch, no unexpected error, clean teardown audit.
 */
#include <sched.h>
#include "../unit/host_common.h"

#define NWORKERS 4
#define WPAGES	 32
#define WBASE(i) ((hva_t)0x100000000000ULL + (hva_t)(i)*0x1000000000ULL)
#define SNAP	 ((hva_t)0x300000000000ULL)
#define SPAGES	 16
#define RACE	 ((hva_t)0x500000000000ULL)
#define RACE2	 ((hva_t)0x500100000000ULL)
#define RPAGES	 16

struct worker {
	pthread_t thread;
	unsigned int idx;
	bool shared;
	hva_t base;
	uint8_t shadow[PG(WPAGES)];
	uint8_t buf[PG(WPAGES)];
	uint64_t writes, reads, efaults, dontneeds, mismatches, errors;
};

struct counting_sub {
	struct kvmmu_mmu_notifier mn;
	uint64_t starts, ends, bad_flags, releases;
};

static struct hc_env env;
static struct worker workers[NWORKERS];
static struct counting_sub csub;
static uint64_t seed;
static double deadline;
static bool stop;

/* mutator counters */
static uint64_t n_mmap, n_mremap, n_munmap, n_mprotect, n_fork, n_gup;
static uint64_t m_errors, m_mismatches, n_race;

/* racer counters */
static uint64_t r_ok, r_efault, r_bad, r_err, r_gup;

static int cs_start(struct kvmmu_mmu_notifier *mn,
		    const struct kvmmu_mmu_notifier_range *r)
{
	struct counting_sub *s = container_of(mn, struct counting_sub, mn);

	__atomic_fetch_add(&s->starts, 1, __ATOMIC_RELAXED);
	if (r->flags != KVMMU_MMU_NOTIFIER_RANGE_BLOCKABLE ||
	    r->start >= r->end)
		__atomic_fetch_add(&s->bad_flags, 1, __ATOMIC_RELAXED);
	return 0;
}

static void cs_end(struct kvmmu_mmu_notifier *mn,
		   const struct kvmmu_mmu_notifier_range *r)
{
	struct counting_sub *s = container_of(mn, struct counting_sub, mn);

	__atomic_fetch_add(&s->ends, 1, __ATOMIC_RELAXED);
}

static void cs_release(struct kvmmu_mmu_notifier *mn, struct kvmmu_mm *mm)
{
	struct counting_sub *s = container_of(mn, struct counting_sub, mn);

	__atomic_fetch_add(&s->releases, 1, __ATOMIC_RELAXED);
}

static const struct kvmmu_mmu_notifier_ops cs_ops = {
	.release = cs_release,
	.invalidate_range_start = cs_start,
	.invalidate_range_end = cs_end,
};

static bool stopping(void)
{
	return __atomic_load_n(&stop, __ATOMIC_ACQUIRE);
}

static void worker_verify(struct worker *w, uint64_t off, uint64_t len)
{
	int ret = kvmmu_mm_read(env.mm, w->base + off, w->buf, len);

	w->reads++;
	if (ret) {
		if (w->errors++ < 5)
			printf("# worker %u: read %#" PRIx64 "+%" PRIu64
			       " returned %s\n",
			       w->idx, w->base + off, len, test_errname(ret));
		return;
	}
	if (memcmp(w->buf, w->shadow + off, len)) {
		uint64_t i;

		for (i = 0; i < len && w->buf[i] == w->shadow[off + i]; i++)
			;
		if (w->mismatches++ < 5)
			printf("# worker %u: mismatch at %#" PRIx64
			       ": %#x, expected %#x\n",
			       w->idx, w->base + off + i, w->buf[i],
			       w->shadow[off + i]);
	}
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct kvmmu_rng r;
	uint8_t data[2 * PAGE_SIZE];

	kvmmu_rng_seed(&r, seed ^ (0x100 + w->idx));
	while (!stopping()) {
		uint64_t c = kvmmu_rng_below(&r, 1000);

		if (c < 3) {
			uint64_t p = kvmmu_rng_below(&r, WPAGES);
			uint64_t n = 1 + kvmmu_rng_below(&r, WPAGES - p);
			int ret = kvmmu_madvise(env.mm, w->base + PG(p), PG(n),
						MADV_DONTNEED);

			w->dontneeds++;
			if (ret) {
				if (w->errors++ < 5)
					printf("# worker %u: DONTNEED %s\n",
					       w->idx, test_errname(ret));
				continue;
			}
			if (!w->shared)
				memset(w->shadow + PG(p), 0, PG(n));
			worker_verify(w, PG(p), PG(n));
		} else if (c < 500) {
			uint64_t off = kvmmu_rng_below(&r, PG(WPAGES));
			uint64_t len = 1 + kvmmu_rng_below(&r, sizeof(data));
			double give_up = 0;
			int ret;

			if (off + len > PG(WPAGES))
				len = PG(WPAGES) - off;
			kvmmu_rng_bytes(&r, data, len);
			while ((ret = kvmmu_mm_write(env.mm, w->base + off,
						     data, len)) == -EFAULT) {
				w->efaults++;
				if (!give_up)
					give_up = test_now() + 10;
				if (test_now() > give_up)
					break;
				sched_yield();
			}
			if (ret) {
				if (w->errors++ < 5)
					printf("# worker %u: write %s\n",
					       w->idx, test_errname(ret));
				continue;
			}
			w->writes++;
			memcpy(w->shadow + off, data, len);
		} else {
			uint64_t off = kvmmu_rng_below(&r, PG(WPAGES));
			uint64_t len = 1 + kvmmu_rng_below(&r, PG(4));

			if (off + len > PG(WPAGES))
				len = PG(WPAGES) - off;
			worker_verify(w, off, len);
		}
	}
	return NULL;
}

#define M_FAIL(fmt, ...)                                               \
	do {                                                           \
		if (m_errors++ < 10)                                   \
			printf("# mutator: " fmt "\n", ##__VA_ARGS__); \
	} while (0)

static uint8_t m_pat[PG(32)], m_buf[PG(32)], snap[PG(SPAGES)];

static void m_check(struct kvmmu_mm *mm, hva_t addr, const uint8_t *want,
		    size_t len, const char *what)
{
	int ret = kvmmu_mm_read(mm, addr, m_buf, len);

	if (ret)
		M_FAIL("%s: read %s", what, test_errname(ret));
	else if (memcmp(m_buf, want, len) && m_mismatches++ < 5)
		printf("# mutator: %s: data mismatch\n", what);
}

static void m_scratch(struct kvmmu_rng *r)
{
	hva_t a = 0, b = 0;
	size_t len = PG(16);
	int ret;

	ret = kvmmu_mmap(env.mm, 0, PG(16), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &a);
	n_mmap++;
	if (ret) {
		M_FAIL("mmap %s", test_errname(ret));
		return;
	}
	kvmmu_rng_bytes(r, m_pat, PG(32));
	if ((ret = kvmmu_mm_write(env.mm, a, m_pat, PG(16))))
		M_FAIL("scratch write %s", test_errname(ret));
	m_check(env.mm, a, m_pat, PG(16), "scratch");
	ret = kvmmu_mremap(env.mm, a, PG(16), PG(32), MREMAP_MAYMOVE, 0, &b);
	n_mremap++;
	if (ret) {
		M_FAIL("mremap %s", test_errname(ret));
		b = a;
	} else {
		len = PG(32);
		m_check(env.mm, b, m_pat, PG(16), "scratch after mremap");
		if ((ret = kvmmu_mm_write(env.mm, b + PG(16), m_pat + PG(16),
					  PG(16))))
			M_FAIL("scratch write 2 %s", test_errname(ret));
		m_check(env.mm, b, m_pat, PG(32), "scratch grown");
	}
	if ((ret = kvmmu_munmap(env.mm, b, len)))
		M_FAIL("munmap %s", test_errname(ret));
	n_munmap++;
}

static void m_mprotect(struct kvmmu_rng *r)
{
	struct worker *w = &workers[kvmmu_rng_below(r, NWORKERS)];
	double until;
	int ret;

	ret = kvmmu_mprotect(env.mm, w->base, PG(WPAGES), PROT_READ);
	if (ret)
		M_FAIL("mprotect RO %s", test_errname(ret));
	until = test_now() + 1e-4 * (double)kvmmu_rng_below(r, 5);
	while (test_now() < until)
		sched_yield();
	ret = kvmmu_mprotect(env.mm, w->base, PG(WPAGES),
			     PROT_READ | PROT_WRITE);
	if (ret)
		M_FAIL("mprotect RW %s", test_errname(ret));
	n_mprotect += 2;
}

static void m_fork(struct kvmmu_rng *r)
{
	struct kvmmu_mm *child = NULL;
	int ret;

	kvmmu_rng_bytes(r, snap, sizeof(snap));
	if ((ret = kvmmu_mm_write(env.mm, SNAP, snap, sizeof(snap))))
		M_FAIL("snapshot write %s", test_errname(ret));
	ret = kvmmu_fork(env.mm, &child);
	n_fork++;
	if (ret) {
		M_FAIL("fork %s", test_errname(ret));
		return;
	}
	m_check(child, SNAP, snap, sizeof(snap), "child snapshot");
	/* the parent moves on; the child keeps the snapshot */
	kvmmu_rng_bytes(r, m_pat, PG(SPAGES));
	if ((ret = kvmmu_mm_write(env.mm, SNAP, m_pat, PG(SPAGES))))
		M_FAIL("snapshot rewrite %s", test_errname(ret));
	m_check(child, SNAP, snap, sizeof(snap), "child snapshot after");
	m_check(env.mm, SNAP, m_pat, PG(SPAGES), "parent snapshot");
	kvmmu_mmput(child);
}

static void m_gup(struct kvmmu_rng *r)
{
	struct worker *w = &workers[kvmmu_rng_below(r, NWORKERS)];
	hva_t hva = w->base + PG(kvmmu_rng_below(r, WPAGES));
	unsigned int foll = kvmmu_rng_below(r, 2) ? KVMMU_FOLL_WRITE : 0;
	kvmmu_pfn_t pfn;
	bool writable;
	int ret;

	ret = kvmmu_get_user_page(env.mm, hva, foll, &pfn, &writable);
	n_gup++;
	if (ret) {
		M_FAIL("gup %#" PRIx64 " foll %u: %s", hva, foll,
		       test_errname(ret));
		return;
	}
	if (foll && !writable)
		M_FAIL("gup write: not writable");
	kvmmu_put_page(env.host, pfn);
}

/*
 * The racer reads and writes the race region while the mutator unmaps,
 * moves, zaps and reprotects it: every access must succeed or fail with
 * -EFAULT, and every byte read must be 0 or a value some writer wrote
 * (1..0x3f), never the poison of a freed frame (0x6b).
 */
static bool racer_page_ok(const uint8_t *p)
{
	unsigned int i;

	for (i = 0; i < PAGE_SIZE; i++)
		if (p[i] > 0x3f)
			return false;
	return true;
}

static void *racer_fn(void *arg)
{
	static uint8_t page[PAGE_SIZE];
	struct kvmmu_rng r;
	kvmmu_pfn_t pfn;
	bool writable;
	int ret;

	kvmmu_rng_seed(&r, seed ^ 0x7261);
	while (!stopping()) {
		hva_t a = RACE + PG(kvmmu_rng_below(&r, RPAGES));

		switch (kvmmu_rng_below(&r, 3)) {
		case 0:
			ret = kvmmu_mm_memset(
				env.mm, a, 1 + (int)kvmmu_rng_below(&r, 0x3f),
				PAGE_SIZE);
			break;
		case 1:
			ret = kvmmu_mm_read(env.mm, a, page, PAGE_SIZE);
			if (!ret && !racer_page_ok(page) && r_bad++ < 5)
				printf("# racer: bad bytes read at %#" PRIx64
				       "\n",
				       a);
			break;
		default:
			ret = kvmmu_get_user_page(env.mm, a, 0, &pfn,
						  &writable);
			if (!ret) {
				struct kvmmu_page_info pi;

				/* held: referenced, not free (the bytes
				 * themselves race with the writers) */
				r_gup++;
				if ((kvmmu_page_info(env.host, pfn, &pi) ||
				     pi.refcount < 1 ||
				     (pi.flags & KVMMU_PG_FREE)) &&
				    r_bad++ < 5)
					printf("# racer: GUP frame %#" PRIx64
					       " not held\n",
					       pfn);
				kvmmu_put_page(env.host, pfn);
			}
			break;
		}
		if (!ret)
			r_ok++;
		else if (ret == -EFAULT)
			r_efault++;
		else if (r_err++ < 5)
			printf("# racer: %s\n", test_errname(ret));
	}
	return NULL;
}

static void m_race(struct kvmmu_rng *r)
{
	uint64_t p = kvmmu_rng_below(r, RPAGES);
	hva_t out;
	int ret = 0;

	n_race++;
	switch (kvmmu_rng_below(r, 5)) {
	case 0:
		if ((ret = kvmmu_munmap(env.mm, RACE, PG(RPAGES))))
			break;
		sched_yield();
		ret = kvmmu_mmap(env.mm, RACE, PG(RPAGES),
				 PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL,
				 0, &out);
		break;
	case 1:
		ret = kvmmu_mremap(env.mm, RACE, PG(RPAGES), PG(RPAGES),
				   MREMAP_MAYMOVE | MREMAP_FIXED, RACE2, &out);
		if (ret)
			break;
		sched_yield();
		ret = kvmmu_mremap(env.mm, RACE2, PG(RPAGES), PG(RPAGES),
				   MREMAP_MAYMOVE | MREMAP_FIXED, RACE, &out);
		break;
	case 2:
		ret = kvmmu_madvise(env.mm, RACE + PG(p), PG(RPAGES - p),
				    MADV_DONTNEED);
		break;
	case 3:
		if ((ret = kvmmu_mprotect(env.mm, RACE, PG(RPAGES), PROT_READ)))
			break;
		sched_yield();
		ret = kvmmu_mprotect(env.mm, RACE, PG(RPAGES),
				     PROT_READ | PROT_WRITE);
		break;
	default:
		ret = kvmmu_mmap(env.mm, RACE + PG(p), PG(RPAGES - p),
				 PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL,
				 0, &out);
		break;
	}
	if (ret)
		M_FAIL("race op: %s", test_errname(ret));
}

static void *mutator_fn(void *arg)
{
	struct kvmmu_rng r;

	kvmmu_rng_seed(&r, seed ^ 0x6d75);
	while (!stopping()) {
		switch (kvmmu_rng_below(&r, 10)) {
		case 0:
		case 1:
			m_scratch(&r);
			break;
		case 8:
		case 9:
			m_race(&r);
			break;
		case 2:
		case 3:
			m_mprotect(&r);
			break;
		case 4:
			m_fork(&r);
			break;
		default:
			m_gup(&r);
			break;
		}
	}
	return NULL;
}

TEST_TIMEOUT(host_stress, 600)
{
	struct kvmmu_file *f;
	pthread_t mutator, racer;
	double secs = test_duration(3.0), t0, el;
	uint64_t w_ops = 0, w_ef = 0, w_dn = 0, mism = 0, errs = 0;
	unsigned int i;

	seed = test_seed();
	hc_setup(&env);
	csub.mn.ops = &cs_ops;
	ASSERT_OK(kvmmu_mmu_notifier_register(&csub.mn, env.mm));
	f = hc_memfd(&env, PG(WPAGES));
	for (i = 0; i < NWORKERS; i++) {
		struct worker *w = &workers[i];

		w->idx = i;
		w->base = WBASE(i);
		w->shared = i == NWORKERS - 1;
		if (w->shared)
			hc_map(env.mm, w->base, PG(WPAGES),
			       PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
		else
			hc_anon(env.mm, w->base, PG(WPAGES));
	}
	hc_anon(env.mm, SNAP, PG(SPAGES));
	hc_anon(env.mm, RACE, PG(RPAGES));

	t0 = test_now();
	deadline = t0 + secs;
	for (i = 0; i < NWORKERS; i++)
		ASSERT_EQ(pthread_create(&workers[i].thread, NULL, worker_fn,
					 &workers[i]),
			  0);
	ASSERT_EQ(pthread_create(&mutator, NULL, mutator_fn, NULL), 0);
	ASSERT_EQ(pthread_create(&racer, NULL, racer_fn, NULL), 0);
	while (test_now() < deadline)
		usleep(10000);
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < NWORKERS; i++)
		pthread_join(workers[i].thread, NULL);
	pthread_join(mutator, NULL);
	pthread_join(racer, NULL);
	el = test_now() - t0;

	for (i = 0; i < NWORKERS; i++) {
		struct worker *w = &workers[i];

		worker_verify(w, 0, PG(WPAGES)); /* final full check */
		w_ops += w->writes + w->reads;
		w_ef += w->efaults;
		w_dn += w->dontneeds;
		mism += w->mismatches;
		errs += w->errors;
		TEST_LOG("worker %u%s: %" PRIu64 " writes, %" PRIu64
			 " reads, %" PRIu64 " EFAULT retries, %" PRIu64
			 " DONTNEEDs",
			 i, w->shared ? " (memfd)" : "", w->writes, w->reads,
			 w->efaults, w->dontneeds);
	}
	TEST_LOG("%.2f s: worker ops %.0f/s (EFAULT retries %.0f/s, DONTNEED "
		 "%.0f/s)",
		 el, w_ops / el, w_ef / el, w_dn / el);
	TEST_LOG("mutator: mmap %.0f/s, mremap %.0f/s, munmap %.0f/s, "
		 "mprotect %.0f/s, fork %.0f/s, gup %.0f/s",
		 n_mmap / el, n_mremap / el, n_munmap / el, n_mprotect / el,
		 n_fork / el, n_gup / el);
	TEST_LOG("racer: %.0f ok/s (%" PRIu64 " GUPs), %.0f EFAULT/s; "
		 "race-region ops %.0f/s",
		 r_ok / el, r_gup, r_efault / el, n_race / el);
	TEST_LOG("notifier: %" PRIu64 " starts, %" PRIu64 " ends", csub.starts,
		 csub.ends);

	EXPECT_EQ(mism, 0);
	EXPECT_EQ(errs, 0);
	EXPECT_EQ(m_mismatches, 0);
	EXPECT_EQ(m_errors, 0);
	EXPECT_EQ(r_bad, 0);
	EXPECT_EQ(r_err, 0);
	EXPECT_GT(r_ok, 0);
	EXPECT_EQ(csub.starts, csub.ends);
	EXPECT_EQ(csub.bad_flags, 0);
	EXPECT_GT(n_fork, 0);
	EXPECT_GT(w_ef + n_mprotect, 0);
	ASSERT_GT(csub.starts, 0);

	hc_mmput(&env, env.mm);
	EXPECT_EQ(csub.releases, 1);
	kvmmu_mmu_notifier_unregister(&csub.mn, env.mm);
	EXPECT_EQ(csub.releases, 1);
	hc_teardown(&env);
}

TEST_HARNESS_MAIN
