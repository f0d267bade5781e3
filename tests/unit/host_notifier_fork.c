// SPDX-License-Identifier: MIT
/*
 * MMU-notifier events, part two: copy-on-write breaks, fork, release and
 * unregister, and the young ops.  See host_notifier.c for part one.
 */
#include "host_common.h"

#define X ((hva_t)0x100000000000ULL)
#define Y ((hva_t)0x200000000000ULL)

TEST(cow_break_after_fork)
{
	struct hc_env e;
	struct hc_sub s;
	struct kvmmu_mm *child;
	struct hc_watch *w;
	kvmmu_pfn_t p2;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(4));
	hc_fill(e.mm, X, 4, 15);
	child = hc_fork(&e, e.mm);
	HC_EXPECT(&s, { EV_PPAGE, X, X + PG(4) });
	w = hc_watch(&s, X + PG(1));
	ASSERT_OK(kvmmu_mm_memset(e.mm, X + PG(1) + 8, 0xaa, 8));
	HC_EXPECT(&s, { EV_CLEAR, X + PG(1), X + PG(2) });
	HC_ASSERT_WATCH_FIRED(w);
	HC_ASSERT_NOT_FREED(&s, w); /* the child still maps it */
	ASSERT_NE(hc_pte(e.mm, X + PG(1)).pfn, w->pfn);
	/* a write in the child is not the parent's business */
	p2 = hc_pte(e.mm, X + PG(2)).pfn;
	ASSERT_OK(kvmmu_mm_memset(child, X + PG(2), 0xbb, 8));
	HC_EXPECT_NONE(&s);
	/* now the parent's frame is exclusive: reused, no notification */
	ASSERT_OK(kvmmu_mm_memset(e.mm, X + PG(2), 0xcc, 8));
	HC_EXPECT_NONE(&s);
	ASSERT_EQ(hc_pte(e.mm, X + PG(2)).pfn, p2);
	/* after the child exits, every frame is reused without a CLEAR */
	hc_mmput(&e, child);
	ASSERT_OK(kvmmu_mm_memset(e.mm, X + PG(3), 0xdd, 8));
	ASSERT_OK(kvmmu_mm_memset(e.mm, X, 0xdd, 8));
	HC_EXPECT_NONE(&s);
	hc_teardown(&e);
}

TEST(cow_break_zero_page)
{
	struct hc_env e;
	struct hc_sub s;
	struct hc_watch *w;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(4));
	hc_check_page(e.mm, X, 0);
	HC_EXPECT_NONE(&s);
	ASSERT_EQ(hc_pte(e.mm, X).pfn, kvmmu_zero_pfn(e.host));
	w = hc_watch(&s, X);
	ASSERT_OK(kvmmu_mm_memset(e.mm, X + 100, 1, 1));
	HC_EXPECT(&s, { EV_CLEAR, X, X + PG(1) });
	HC_ASSERT_WATCH_FIRED(w);
	ASSERT_OK(kvmmu_mm_memset(e.mm, X + PG(1), 1, 1));
	HC_EXPECT_NONE(&s);
	hc_teardown(&e);
}

TEST(fork_events)
{
	struct hc_env e;
	struct hc_sub s;
	struct kvmmu_mm *child;
	struct kvmmu_vma_info vi;
	struct kvmmu_file *f;
	struct hc_watch *w;
	hva_t a = X, b = X + PG(16), c = X + PG(32), d = X + PG(48);
	hva_t sa = X + PG(64), df = X + PG(80), g = X + PG(96);

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	f = hc_memfd(&e, PG(4));
	hc_anon(e.mm, a, PG(8)); /* written */
	hc_anon(e.mm, b, PG(4)); /* never touched */
	hc_anon(e.mm, c, PG(4)); /* read only: zero page */
	hc_map(e.mm, d, PG(4), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	hc_map(e.mm, sa, PG(4), PROT_READ | PROT_WRITE,
	       MAP_SHARED | MAP_ANONYMOUS, NULL, 0);
	hc_anon(e.mm, df, PG(4)); /* written, DONTFORK */
	hc_anon(e.mm, g, PG(4));  /* written, then all DONTNEED */
	hc_fill(e.mm, a + PG(2), 3, 16);
	hc_check_page(e.mm, c + PG(1), 0);
	hc_fill(e.mm, d, 4, 17);
	hc_fill(e.mm, sa, 4, 18);
	hc_fill(e.mm, df, 4, 19);
	hc_fill(e.mm, g, 4, 20);
	ASSERT_OK(kvmmu_madvise(e.mm, df, PG(4), MADV_DONTFORK));
	ASSERT_OK(kvmmu_madvise(e.mm, g, PG(4), MADV_DONTNEED));
	HC_EXPECT(&s, { EV_CLEAR, g, g + PG(4) });
	w = hc_watch(&s, a + PG(3));
	ASSERT_TRUE(hc_pte(e.mm, a + PG(3)).write);
	child = hc_fork(&e, e.mm);
	HC_EXPECT(&s, { EV_PPAGE, a, a + PG(8) }, { EV_PPAGE, g, g + PG(4) });
	HC_ASSERT_WATCH_FIRED(w);
	HC_ASSERT_NOT_FREED(&s, w);
	ASSERT_FALSE(hc_pte(e.mm, a + PG(3)).write);
	ASSERT_EQ(hc_pte(child, a + PG(3)).pfn, w->pfn);
	ASSERT_FALSE(hc_pte(child, a + PG(3)).write);
	ASSERT_ERRNO(kvmmu_vma_lookup(child, df, &vi), -EFAULT);
	hc_check_fill(child, a + PG(2), 3, 16);
	hc_check_fill(child, d, 4, 17);
	hc_check_fill(child, sa, 4, 18);
	hc_check_page(child, g, 0);
	ASSERT_EQ(kvmmu_mm_nr_vmas(child), kvmmu_mm_nr_vmas(e.mm) - 1);
	/* the shared ranges stay writable in the parent */
	ASSERT_TRUE(hc_pte(e.mm, d).write);
	ASSERT_TRUE(hc_pte(e.mm, sa).write);
	ASSERT_TRUE(hc_pte(e.mm, df).write);
	hc_teardown(&e);
}

/* A private file mapping with COWed pages has anonymous pages too. */
TEST(fork_private_file_cow)
{
	struct hc_env e;
	struct hc_sub s;
	struct kvmmu_file *f;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	f = hc_memfd(&e, PG(4));
	hc_map(e.mm, X, PG(4), PROT_READ | PROT_WRITE, MAP_PRIVATE, f, 0);
	hc_map(e.mm, Y, PG(4), PROT_READ | PROT_WRITE, MAP_PRIVATE, f, 0);
	hc_check_page(e.mm, X, 0); /* read: page cache, no anon page */
	hc_check_page(e.mm, Y + PG(1), 0);
	ASSERT_OK(kvmmu_mm_memset(e.mm, Y + PG(1), 3, 1)); /* COW */
	HC_EXPECT(&s, { EV_CLEAR, Y + PG(1), Y + PG(2) });
	hc_fork(&e, e.mm);
	HC_EXPECT(&s, { EV_PPAGE, Y, Y + PG(4) });
	hc_teardown(&e);
}

/* anon_vma goes with both halves of a split... */
TEST(fork_after_split)
{
	struct hc_env e;
	struct hc_sub s;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(8));
	hc_fill(e.mm, X, 1, 40);
	ASSERT_OK(kvmmu_mprotect(e.mm, X + PG(4), PG(4), PROT_READ));
	HC_EXPECT(&s, { EV_PVMA, X + PG(4), X + PG(8) });
	hc_fork(&e, e.mm);
	HC_EXPECT(&s, { EV_PPAGE, X, X + PG(4) },
		  { EV_PPAGE, X + PG(4), X + PG(8) });
	hc_teardown(&e);
}

/* ...but a half split off before the first write has none of its own. */
TEST(fork_split_before_write)
{
	struct hc_env e;
	struct hc_sub s;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(8));
	ASSERT_OK(kvmmu_mprotect(e.mm, X + PG(4), PG(4), PROT_READ));
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 2);
	hc_fill(e.mm, X + PG(1), 1, 41);
	hc_check_page(e.mm, X + PG(5), 0);
	HC_EXPECT_NONE(&s);
	hc_fork(&e, e.mm);
	HC_EXPECT(&s, { EV_PPAGE, X, X + PG(4) });
	hc_teardown(&e);
}

TEST(fork_after_mremap_and_dofork)
{
	struct kvmmu_mm *child;
	struct hc_env e;
	struct hc_sub s;
	hva_t out;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(4));
	hc_fill(e.mm, X, 4, 42);
	ASSERT_OK(kvmmu_mremap(e.mm, X, PG(4), PG(4),
			       MREMAP_MAYMOVE | MREMAP_FIXED, Y, &out));
	HC_EXPECT(&s, { EV_UNMAP, X, X + PG(4) }, { EV_UNMAP, X, X + PG(4) });
	ASSERT_OK(kvmmu_madvise(e.mm, Y, PG(4), MADV_DONTFORK));
	ASSERT_OK(kvmmu_madvise(e.mm, Y, PG(4), MADV_DOFORK));
	child = hc_fork(&e, e.mm);
	HC_EXPECT(&s, { EV_PPAGE, Y, Y + PG(4) });
	hc_check_fill(child, Y, 4, 42);
	hc_teardown(&e);
}

/* mprotect back to RW: exclusive pages become writable (no COW later),
 * pages still shared with a child stay write-protected. */
TEST(mprotect_rw_then_write)
{
	struct kvmmu_mm *child;
	struct hc_env e;
	struct hc_sub s;
	kvmmu_pfn_t p0, p1;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(2));
	hc_fill(e.mm, X, 2, 43);
	p0 = hc_pte(e.mm, X).pfn;
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(2), PROT_READ));
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(2), PROT_READ | PROT_WRITE));
	HC_EXPECT(&s, { EV_PVMA, X, X + PG(2) }, { EV_PVMA, X, X + PG(2) });
	ASSERT_OK(kvmmu_mm_memset(e.mm, X, 1, 1));
	HC_EXPECT_NONE(&s);
	ASSERT_EQ(hc_pte(e.mm, X).pfn, p0);

	child = hc_fork(&e, e.mm);
	HC_EXPECT(&s, { EV_PPAGE, X, X + PG(2) });
	p1 = hc_pte(e.mm, X + PG(1)).pfn;
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(2), PROT_READ));
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(2), PROT_READ | PROT_WRITE));
	HC_EXPECT(&s, { EV_PVMA, X, X + PG(2) }, { EV_PVMA, X, X + PG(2) });
	ASSERT_FALSE(hc_pte(e.mm, X + PG(1)).write);
	ASSERT_OK(kvmmu_mm_memset(e.mm, X + PG(1), 2, 1));
	HC_EXPECT(&s, { EV_CLEAR, X + PG(1), X + PG(2) });
	ASSERT_NE(hc_pte(e.mm, X + PG(1)).pfn, p1);
	hc_check_page(child, X + PG(1), hc_pat(43, 1));
	hc_teardown(&e);
}

TEST(release_on_mmput)
{
	struct hc_env e;
	struct hc_sub s, s2;
	struct hc_watch *w;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_sub_register(&e, &s2, e.mm);
	hc_anon(e.mm, X, PG(4));
	hc_fill(e.mm, X, 4, 21);
	w = hc_watch(&s, X + PG(1));
	hc_mmput(&e, e.mm);
	HC_ASSERT_WATCH_FIRED(w); /* still mapped at release */
	HC_ASSERT_FREED(&s, w);	  /* and freed by the teardown */
	/* release once, and the teardown's unmapping is not reported */
	ASSERT_EQ(s.nrelease, 1);
	ASSERT_EQ(s2.nrelease, 1);
	ASSERT_EQ(s.nev, 1);
	ASSERT_EQ(s.ev[0].kind, HC_RELEASE);
	ASSERT_EQ(s.nstart, 0);
	hc_sub_unregister(&s);
	ASSERT_EQ(s.nrelease, 1);
	ASSERT_EQ(s.nev, 1);
	hc_sub_unregister(&s2);
	ASSERT_EQ(s2.nrelease, 1);
	hc_teardown(&e);
}

TEST(unregister_delivers_release)
{
	struct hc_env e;
	struct hc_sub s, keep;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_sub_register(&e, &keep, e.mm);
	hc_anon(e.mm, X, PG(4));
	hc_fill(e.mm, X, 4, 22);
	hc_sub_unregister(&s);
	ASSERT_EQ(s.nrelease, 1);
	ASSERT_EQ(keep.nrelease, 0);
	ASSERT_OK(kvmmu_munmap(e.mm, X, PG(4)));
	ASSERT_EQ(s.nev, 1); /* nothing after unregister */
	ASSERT_EQ(s.nstart, 0);
	HC_EXPECT(&keep, { EV_UNMAP, X, X + PG(4) });
	hc_mmput(&e, e.mm);
	ASSERT_EQ(s.nrelease, 1);
	ASSERT_EQ(keep.nrelease, 1);
	hc_teardown(&e);
}

/* unregister waits for a callback in flight and no callback follows it */
struct slow_sub {
	struct kvmmu_mmu_notifier mn;
	int in_cb, gone, after_gone, starts;
};

static int slow_start(struct kvmmu_mmu_notifier *mn,
		      const struct kvmmu_mmu_notifier_range *r)
{
	struct slow_sub *s = container_of(mn, struct slow_sub, mn);

	if (__atomic_load_n(&s->gone, __ATOMIC_ACQUIRE))
		__atomic_fetch_add(&s->after_gone, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->in_cb, 1, __ATOMIC_RELEASE);
	usleep(200 * 1000);
	__atomic_fetch_add(&s->starts, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->in_cb, 0, __ATOMIC_RELEASE);
	return 0;
}

static void slow_end(struct kvmmu_mmu_notifier *mn,
		     const struct kvmmu_mmu_notifier_range *r)
{
	struct slow_sub *s = container_of(mn, struct slow_sub, mn);

	if (__atomic_load_n(&s->gone, __ATOMIC_ACQUIRE))
		__atomic_fetch_add(&s->after_gone, 1, __ATOMIC_RELAXED);
}

static const struct kvmmu_mmu_notifier_ops slow_ops = {
	.invalidate_range_start = slow_start,
	.invalidate_range_end = slow_end,
};

static struct kvmmu_mm *slow_mm;

static void *slow_munmap(void *arg)
{
	return (void *)(intptr_t)kvmmu_munmap(slow_mm, X, PG(4));
}

TEST(unregister_waits_for_callbacks)
{
	struct slow_sub slow = { .mn = { .ops = &slow_ops } };
	struct hc_env e;
	struct hc_sub s;
	pthread_t t;
	void *ret;

	hc_setup(&e);
	slow_mm = e.mm;
	hc_sub_register(&e, &s, e.mm);
	ASSERT_OK(kvmmu_mmu_notifier_register(&slow.mn, e.mm));
	hc_anon(e.mm, X, PG(4));
	hc_fill(e.mm, X, 4, 44);
	ASSERT_EQ(pthread_create(&t, NULL, slow_munmap, NULL), 0);
	while (!__atomic_load_n(&slow.in_cb, __ATOMIC_ACQUIRE))
		usleep(1000);
	kvmmu_mmu_notifier_unregister(&slow.mn, e.mm);
	ASSERT_EQ(__atomic_load_n(&slow.in_cb, __ATOMIC_ACQUIRE), 0);
	ASSERT_EQ(__atomic_load_n(&slow.starts, __ATOMIC_ACQUIRE), 1);
	__atomic_store_n(&slow.gone, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(pthread_join(t, &ret), 0);
	ASSERT_EQ((intptr_t)ret, 0);
	HC_EXPECT(&s, { EV_UNMAP, X, X + PG(4) });
	hc_anon(e.mm, X, PG(4));
	hc_fill(e.mm, X, 4, 45);
	ASSERT_OK(kvmmu_munmap(e.mm, X, PG(4)));
	HC_EXPECT(&s, { EV_UNMAP, X, X + PG(4) });
	ASSERT_EQ(slow.after_gone, 0);
	hc_teardown(&e);
}

TEST(young_ops)
{
	struct hc_env e;
	struct hc_sub s;
	unsigned int i;
	const uint64_t sub_young = (1u << 1) | (1u << 3) | (1u << 6);
	const unsigned long present = 6; /* pages 0..5 present, 6, 7 not */

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	s.ybase = X;
	hc_anon(e.mm, X, PG(8));
	hc_fill(e.mm, X, present, 23);
	for (i = 0; i < present; i++)
		ASSERT_TRUE(hc_pte(e.mm, X + PG(i)).young);

	/* TEST: host young everywhere; nothing is cleared */
	s.young = sub_young;
	ASSERT_EQ(kvmmu_mm_age_range(e.mm, X, X + PG(8), KVMMU_AGE_TEST_YOUNG),
		  present);
	for (i = 0; i < 8; i++) {
		/* pte_young || test_young: not asked when the host is young */
		EXPECT_EQ(s.ycalls[KVMMU_AGE_TEST_YOUNG][i], 0);
		if (i < present)
			ASSERT_TRUE(hc_pte(e.mm, X + PG(i)).young);
	}
	memset(s.ycalls[KVMMU_AGE_TEST_YOUNG], 0,
	       sizeof(s.ycalls[KVMMU_AGE_TEST_YOUNG]));
	ASSERT_EQ(s.young, sub_young);

	/* CLEAR: every present page asked, host bits cleared */
	ASSERT_EQ(kvmmu_mm_age_range(e.mm, X, X + PG(8), KVMMU_AGE_CLEAR_YOUNG),
		  present);
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(s.ycalls[KVMMU_AGE_CLEAR_YOUNG][i], i < present);
		if (i < present)
			EXPECT_FALSE(hc_pte(e.mm, X + PG(i)).young);
	}
	ASSERT_EQ(s.young, 1u << 6); /* page 6 not present: not asked */

	/* host old: only the subscriber's answer counts */
	s.young = sub_young;
	ASSERT_EQ(kvmmu_mm_age_range(e.mm, X, X + PG(8), KVMMU_AGE_TEST_YOUNG),
		  2);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(s.ycalls[KVMMU_AGE_TEST_YOUNG][i], i < present);
	ASSERT_EQ(s.young, sub_young);
	ASSERT_EQ(kvmmu_mm_age_range(e.mm, X, X + PG(8),
				     KVMMU_AGE_CLEAR_FLUSH_YOUNG),
		  2);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(s.ycalls[KVMMU_AGE_CLEAR_FLUSH_YOUNG][i],
			  i < present);
	ASSERT_EQ(s.young, 1u << 6);
	ASSERT_EQ(kvmmu_mm_age_range(e.mm, X, X + PG(8),
				     KVMMU_AGE_CLEAR_FLUSH_YOUNG),
		  0);
	/* a sub-range: only its pages */
	s.young = sub_young;
	ASSERT_EQ(kvmmu_mm_age_range(e.mm, X + PG(2), X + PG(4),
				     KVMMU_AGE_CLEAR_YOUNG),
		  1);
	ASSERT_EQ(s.young, sub_young & ~(1u << 3));
	/* a newly faulted page is young again */
	ASSERT_OK(kvmmu_mm_memset(e.mm, X + PG(6), 1, 1));
	ASSERT_TRUE(hc_pte(e.mm, X + PG(6)).young);
	/* aging never invalidates */
	ASSERT_EQ(s.nstart, 0);
	ASSERT_EQ(s.ybad, 0);
	HC_EXPECT_NONE(&s);
	hc_teardown(&e);
}

TEST_HARNESS_MAIN
