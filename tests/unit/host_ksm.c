// SPDX-License-Identifier: MIT
/*
 * KSM on demand (kvmmu_ksm_merge()): identical pages of MERGEABLE private
 * anonymous memory end up on one write-protected KSM frame, each under a
 * CLEAR invalidation of its own address; a write copies; what is not
 * mergeable is left alone.
 */
#include "host_common.h"
#include "host_recorder.h"

#define X ((hva_t)0x100000000000ULL)

static void put_word(struct kvmmu_mm *mm, hva_t a, uint64_t v)
{
	ASSERT_OK(kvmmu_mm_write(mm, a, &v, sizeof(v)));
}

static uint64_t get_word(struct kvmmu_mm *mm, hva_t a)
{
	uint64_t v = 0;

	ASSERT_OK(kvmmu_mm_read(mm, a, &v, sizeof(v)));
	return v;
}

TEST(identical_pages_share_one_readonly_frame)
{
	struct hc_env e;
	struct hc_sub s;
	unsigned int i, clear = 0;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(8));
	ASSERT_OK(kvmmu_madvise(e.mm, X, PG(8), MADV_MERGEABLE));
	/* pages 0, 1, 2 alike; 3 different; 4..7 never touched */
	put_word(e.mm, X + PG(0), 0x5a);
	put_word(e.mm, X + PG(1), 0x5a);
	put_word(e.mm, X + PG(2), 0x5a);
	put_word(e.mm, X + PG(3), 0x77);
	hc_sub_register(&e, &s, e.mm);
	ASSERT_EQ(kvmmu_ksm_merge(e.mm, X, PG(8)), 3);
	for (i = 0; i < 3; i++) {
		struct kvmmu_pte_info p = hc_pte(e.mm, X + PG(i));

		EXPECT_TRUE(p.present && !p.write);
		EXPECT_EQ(p.pfn, hc_pte(e.mm, X).pfn);
		EXPECT_TRUE(hc_page(e.host, p.pfn).flags & KVMMU_PG_KSM);
	}
	EXPECT_NE(hc_pte(e.mm, X + PG(3)).pfn, hc_pte(e.mm, X).pfn);
	EXPECT_TRUE(hc_pte_absent(e.mm, X + PG(4)));
	/* one CLEAR invalidation per merged page, each of one page */
	for (i = 0; i < s.nev; i++) {
		if (s.ev[i].kind != HC_START)
			continue;
		EXPECT_EQ(s.ev[i].event, KVMMU_MMU_NOTIFY_CLEAR);
		EXPECT_EQ(s.ev[i].end - s.ev[i].start, PAGE_SIZE);
		EXPECT_LT(s.ev[i].start, X + PG(3));
		clear++;
	}
	EXPECT_EQ(clear, 3);
	/* a write copies only its page */
	put_word(e.mm, X + PG(1), 0x5b);
	EXPECT_NE(hc_pte(e.mm, X + PG(1)).pfn, hc_pte(e.mm, X).pfn);
	EXPECT_EQ(get_word(e.mm, X + PG(1)), 0x5b);
	EXPECT_EQ(get_word(e.mm, X + PG(2)), 0x5a);
	EXPECT_EQ(hc_pte(e.mm, X + PG(2)).pfn, hc_pte(e.mm, X).pfn);
	EXPECT_EQ(kvmmu_ksm_merge(e.mm, X, PG(8)), 2);
	hc_sub_unregister(&s);
	hc_teardown(&e);
}

TEST(only_mergeable_private_anon_merges)
{
	struct hc_env e;
	kvmmu_pfn_t before[4];
	unsigned int i;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(4)); /* not MADV_MERGEABLE */
	for (i = 0; i < 4; i++) {
		put_word(e.mm, X + PG(i), 9);
		before[i] = hc_pte(e.mm, X + PG(i)).pfn;
	}
	EXPECT_EQ(kvmmu_ksm_merge(e.mm, X, PG(4)), 0);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(hc_pte(e.mm, X + PG(i)).pfn, before[i]);
		EXPECT_TRUE(hc_pte(e.mm, X + PG(i)).write);
	}
	/* ...and mergeable again after UNMERGEABLE is not */
	ASSERT_OK(kvmmu_madvise(e.mm, X, PG(4), MADV_MERGEABLE));
	ASSERT_OK(kvmmu_madvise(e.mm, X, PG(4), MADV_UNMERGEABLE));
	EXPECT_EQ(kvmmu_ksm_merge(e.mm, X, PG(4)), 0);
	EXPECT_EQ(kvmmu_ksm_merge(e.mm, X + 1, PG(4)), -EINVAL);
	hc_teardown(&e);
}

TEST(merged_frames_are_freed_with_their_last_user)
{
	struct hc_env e;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(16));
	ASSERT_OK(kvmmu_madvise(e.mm, X, PG(16), MADV_MERGEABLE));
	ASSERT_OK(kvmmu_mm_memset(e.mm, X, 0x11, PG(16)));
	ASSERT_EQ(kvmmu_ksm_merge(e.mm, X, PG(16)), 16);
	/* a fork adds mappings of the KSM frame; the child goes first */
	hc_mmput(&e, hc_fork(&e, e.mm));
	ASSERT_OK(kvmmu_munmap(e.mm, X, PG(16)));
	hc_teardown(&e); /* audits: no frame leaked or double-freed */
}

TEST_HARNESS_MAIN
