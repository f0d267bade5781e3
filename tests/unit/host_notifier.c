// SPDX-License-Identifier: MIT
/*
 * MMU-notifier events raised by the host's mm operations: the exact
 * start/end sequence (event and range) of each operation, the start/end-time
 * contract on watched pages, release, and the young ops.  The expected
 * values are Linux's (kvm-mmu-protocol.md §8.3 and the brief).
 */
#include "host_common.h"

/* 1 GiB-aligned bases, each alone in its PUD (and far from the others). */
#define X ((hva_t)0x100000000000ULL)
#define Y ((hva_t)0x200000000000ULL)
#define Z ((hva_t)0x300000000000ULL)

TEST(munmap_whole)
{
	struct hc_env e;
	struct hc_sub s;
	struct hc_watch *w;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(8));
	hc_fill(e.mm, X, 8, 1);
	HC_EXPECT_NONE(&s); /* first-write allocation raises nothing */
	w = hc_watch(&s, X + PG(2));
	ASSERT_OK(kvmmu_munmap(e.mm, X, PG(8)));
	HC_EXPECT(&s, { EV_UNMAP, X, X + PG(8) });
	HC_ASSERT_WATCH_FIRED(w);
	HC_ASSERT_FREED(&s, w);
	ASSERT_TRUE(hc_pte_absent(e.mm, X + PG(2)));
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 0);
	/* munmap of a hole: nothing intersects, no notification */
	ASSERT_OK(kvmmu_munmap(e.mm, X, PG(8)));
	HC_EXPECT_NONE(&s);
	hc_teardown(&e);
}

TEST(munmap_partial_split)
{
	struct hc_env e;
	struct hc_sub s;
	struct hc_watch *w;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(8));
	hc_fill(e.mm, X, 8, 2);
	w = hc_watch(&s, X + PG(3));
	ASSERT_OK(kvmmu_munmap(e.mm, X + PG(2), PG(3)));
	HC_EXPECT(&s, { EV_UNMAP, X + PG(2), X + PG(5) });
	HC_ASSERT_WATCH_FIRED(w);
	HC_ASSERT_FREED(&s, w);
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 2);
	hc_check_fill(e.mm, X, 2, 2);
	hc_check_page(e.mm, X + PG(5), hc_pat(2, 5));
	hc_check_page(e.mm, X + PG(7), hc_pat(2, 7));
	HC_EXPECT_NONE(&s);
	hc_teardown(&e);
}

TEST(munmap_range_beyond_vma)
{
	struct hc_env e;
	struct hc_sub s;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X + PG(4), PG(4));
	hc_fill(e.mm, X + PG(4), 4, 3);
	/* the range is the munmap range, not the VMA's */
	ASSERT_OK(kvmmu_munmap(e.mm, X, PG(16)));
	HC_EXPECT(&s, { EV_UNMAP, X, X + PG(16) });
	hc_teardown(&e);
}

TEST(mmap_fixed_replace)
{
	struct hc_env e;
	struct hc_sub s;
	struct hc_watch *w;
	hva_t out;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(8));
	hc_fill(e.mm, X, 8, 4);
	w = hc_watch(&s, X + PG(1));
	ASSERT_OK(kvmmu_mmap(e.mm, X, PG(4), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0,
			     &out));
	ASSERT_EQ(out, X);
	HC_EXPECT(&s, { EV_UNMAP, X, X + PG(4) });
	HC_ASSERT_WATCH_FIRED(w);
	HC_ASSERT_FREED(&s, w);
	hc_check_page(e.mm, X + PG(1), 0);
	hc_check_page(e.mm, X + PG(4), hc_pat(4, 4));
	HC_EXPECT_NONE(&s);
	/* MAP_FIXED over a hole raises nothing */
	ASSERT_OK(kvmmu_mmap(e.mm, Y, PG(4), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0,
			     &out));
	HC_EXPECT_NONE(&s);
	/* a partial overlap: the whole new range is unmapped first */
	ASSERT_OK(kvmmu_mmap(e.mm, X + PG(6), PG(4), PROT_READ,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0,
			     &out));
	HC_EXPECT(&s, { EV_UNMAP, X + PG(6), X + PG(10) });
	hc_teardown(&e);
}

/* A hint (no MAP_FIXED) never replaces a mapping. */
TEST(mmap_hint_never_replaces)
{
	struct hc_env e;
	struct hc_sub s;
	hva_t out;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	ASSERT_OK(kvmmu_mmap(e.mm, X, PG(4), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &out));
	ASSERT_EQ(out, X); /* a free hint is taken as is */
	hc_fill(e.mm, X, 4, 33);
	ASSERT_OK(kvmmu_mmap(e.mm, X + PG(2), PG(4), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &out));
	ASSERT_TRUE(out + PG(4) <= X || out >= X + PG(4));
	ASSERT_TRUE(PAGE_ALIGNED(out));
	HC_EXPECT_NONE(&s);
	hc_check_fill(e.mm, X, 4, 33);
	hc_check_page(e.mm, out, 0);
	hc_teardown(&e);
}

TEST(mremap_move)
{
	struct hc_env e;
	struct hc_sub s;
	struct hc_watch *w;
	kvmmu_pfn_t pfn;
	hva_t out;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(4));
	hc_fill(e.mm, X, 4, 5);
	w = hc_watch(&s, X + PG(1));
	pfn = w->pfn;
	ASSERT_OK(kvmmu_mremap(e.mm, X, PG(4), PG(4),
			       MREMAP_MAYMOVE | MREMAP_FIXED, Y, &out));
	ASSERT_EQ(out, Y);
	/* page-table move, then the old VMA's unmap */
	HC_EXPECT(&s, { EV_UNMAP, X, X + PG(4) }, { EV_UNMAP, X, X + PG(4) });
	HC_ASSERT_WATCH_FIRED(w);
	HC_ASSERT_NOT_FREED(&s, w);
	ASSERT_EQ(hc_pte(e.mm, Y + PG(1)).pfn, pfn); /* frames move along */
	hc_check_fill(e.mm, Y, 4, 5);
	HC_EXPECT_NONE(&s);
	hc_teardown(&e);
}

TEST(mremap_grow_and_shrink)
{
	struct hc_env e;
	struct hc_sub s;
	struct hc_watch *w;
	hva_t out;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(4));
	hc_fill(e.mm, X, 4, 6);
	/* grow in place: no PTE changes */
	ASSERT_OK(kvmmu_mremap(e.mm, X, PG(4), PG(8), 0, 0, &out));
	ASSERT_EQ(out, X);
	HC_EXPECT_NONE(&s);
	hc_fill(e.mm, X, 8, 7);
	/* shrink: the tail is unmapped */
	w = hc_watch(&s, X + PG(6));
	ASSERT_OK(kvmmu_mremap(e.mm, X, PG(8), PG(5), 0, 0, &out));
	ASSERT_EQ(out, X);
	HC_EXPECT(&s, { EV_UNMAP, X + PG(5), X + PG(8) });
	HC_ASSERT_WATCH_FIRED(w);
	HC_ASSERT_FREED(&s, w);
	/* grow blocked by a neighbour: moves */
	hc_map(e.mm, X + PG(5), PG(1), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
	       NULL, 0);
	ASSERT_OK(
		kvmmu_mremap(e.mm, X, PG(5), PG(10), MREMAP_MAYMOVE, 0, &out));
	ASSERT_NE(out, X);
	HC_EXPECT(&s, { EV_UNMAP, X, X + PG(5) }, { EV_UNMAP, X, X + PG(5) });
	hc_check_fill(e.mm, out, 5, 7);
	hc_check_page(e.mm, out + PG(7), 0);
	hc_teardown(&e);
}

/* MREMAP_FIXED: the target is unmapped, then the tail, then the move. */
TEST(mremap_fixed_over_mapping_and_shrink)
{
	struct hc_env e;
	struct hc_sub s;
	hva_t out;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(8));
	hc_fill(e.mm, X, 8, 30);
	hc_map(e.mm, Y, PG(4), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	hc_check_page(e.mm, Y, 0);
	ASSERT_OK(kvmmu_mremap(e.mm, X, PG(8), PG(4),
			       MREMAP_MAYMOVE | MREMAP_FIXED, Y, &out));
	ASSERT_EQ(out, Y);
	HC_EXPECT(&s, { EV_UNMAP, Y, Y + PG(4) },
		  { EV_UNMAP, X + PG(4), X + PG(8) },
		  { EV_UNMAP, X, X + PG(4) }, { EV_UNMAP, X, X + PG(4) });
	hc_check_fill(e.mm, Y, 4, 30);
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 1);
	hc_teardown(&e);
}

TEST(mprotect_ro_rw_none)
{
	struct hc_env e;
	struct hc_sub s;
	struct hc_watch *w;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(8));
	hc_fill(e.mm, X, 8, 8);
	w = hc_watch(&s, X + PG(5));
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(8), PROT_READ));
	HC_EXPECT(&s, { EV_PVMA, X, X + PG(8) });
	HC_ASSERT_WATCH_FIRED(w);
	HC_ASSERT_NOT_FREED(&s, w);
	ASSERT_FALSE(hc_pte(e.mm, X + PG(5)).write);
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(8), PROT_READ | PROT_WRITE));
	HC_EXPECT(&s, { EV_PVMA, X, X + PG(8) });
	/* no change of flags: no notification */
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(8), PROT_READ | PROT_WRITE));
	HC_EXPECT_NONE(&s);
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(8), PROT_NONE));
	HC_EXPECT(&s, { EV_PVMA, X, X + PG(8) });
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(8), PROT_READ | PROT_WRITE));
	HC_EXPECT(&s, { EV_PVMA, X, X + PG(8) });
	/* a piece: split, the start clipped to the range */
	ASSERT_OK(kvmmu_mprotect(e.mm, X + PG(2), PG(2), PROT_READ));
	HC_EXPECT(&s, { EV_PVMA, X + PG(2), X + PG(4) });
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 3);
	/* only the middle piece changes; then the pieces merge again */
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(8), PROT_READ | PROT_WRITE));
	HC_EXPECT(&s, { EV_PVMA, X + PG(2), X + PG(4) });
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 1);
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(8), PROT_READ));
	HC_EXPECT(&s, { EV_PVMA, X, X + PG(8) });
	hc_check_fill(e.mm, X, 8, 8);
	hc_teardown(&e);
}

TEST(mprotect_untouched_no_notify)
{
	struct hc_env e;
	struct hc_sub s;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(16));
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(16), PROT_READ));
	HC_EXPECT_NONE(&s);
	ASSERT_OK(kvmmu_mprotect(e.mm, X + PG(4), PG(4), PROT_NONE));
	HC_EXPECT_NONE(&s);
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(16), PROT_READ | PROT_WRITE));
	HC_EXPECT_NONE(&s);
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 1);
	hc_teardown(&e);
}

/* Populated is per 1 GiB PUD entry: a touched neighbour populates it. */
TEST(mprotect_pud_granularity)
{
	struct hc_env e;
	struct hc_sub s;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(16));
	hc_check_page(e.mm, X + PG(12), 0); /* a read fault: zero page */
	HC_EXPECT_NONE(&s);
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(4), PROT_READ));
	HC_EXPECT(&s, { EV_PVMA, X, X + PG(4) });
	hc_teardown(&e);
}

TEST(mprotect_spanning_two_puds)
{
	struct hc_env e;
	struct hc_sub s;
	hva_t b = X + PUD_SIZE;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, b - PG(8), PG(16));
	hc_fill(e.mm, b + PG(2), 1, 9); /* only the upper PUD populated */
	ASSERT_OK(kvmmu_mprotect(e.mm, b - PG(8), PG(16), PROT_READ));
	HC_EXPECT(&s, { EV_PVMA, b, b + PG(8) });
	hc_check_page(e.mm, b - PG(3), 0); /* now the lower one too */
	ASSERT_OK(kvmmu_mprotect(e.mm, b - PG(8), PG(16),
				 PROT_READ | PROT_WRITE));
	HC_EXPECT(&s, { EV_PVMA, b - PG(8), b + PG(8) });
	ASSERT_OK(kvmmu_mprotect(e.mm, b - PG(4), PG(8), PROT_READ));
	HC_EXPECT(&s, { EV_PVMA, b - PG(4), b + PG(4) });
	hc_teardown(&e);
}

/* One PROTECTION_VMA per 512 GiB (P4D) piece, as change_p4d_range. */
TEST(mprotect_spanning_p4d)
{
	struct hc_env e;
	struct hc_sub s;
	hva_t b = (hva_t)0x400000000000ULL; /* 512 GiB aligned */

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, b - PG(4), PG(8));
	hc_fill(e.mm, b + PG(1), 1, 31);
	ASSERT_OK(kvmmu_mprotect(e.mm, b - PG(4), PG(8), PROT_READ));
	HC_EXPECT(&s, { EV_PVMA, b, b + PG(4) });
	hc_check_page(e.mm, b - PG(1), 0);
	ASSERT_OK(
		kvmmu_mprotect(e.mm, b - PG(4), PG(8), PROT_READ | PROT_WRITE));
	HC_EXPECT(&s, { EV_PVMA, b - PG(4), b }, { EV_PVMA, b, b + PG(4) });
	hc_teardown(&e);
}

TEST(mprotect_two_vmas)
{
	struct hc_env e;
	struct hc_sub s;
	struct kvmmu_file *f;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	f = hc_memfd(&e, PG(4));
	hc_anon(e.mm, X, PG(4));
	hc_map(e.mm, X + PG(4), PG(4), PROT_READ | PROT_WRITE, MAP_SHARED, f,
	       0);
	hc_fill(e.mm, X, 8, 10);
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(8), PROT_READ));
	HC_EXPECT(&s, { EV_PVMA, X, X + PG(4) },
		  { EV_PVMA, X + PG(4), X + PG(8) });
	ASSERT_OK(kvmmu_mprotect(e.mm, X + PG(2), PG(4), PROT_NONE));
	HC_EXPECT(&s, { EV_PVMA, X + PG(2), X + PG(4) },
		  { EV_PVMA, X + PG(4), X + PG(6) });
	hc_teardown(&e);
}

TEST(dontneed_anon)
{
	struct hc_env e;
	struct hc_sub s;
	struct hc_watch *w;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	hc_anon(e.mm, X, PG(8));
	hc_fill(e.mm, X, 8, 11);
	w = hc_watch(&s, X + PG(2));
	ASSERT_OK(kvmmu_madvise(e.mm, X + PG(1), PG(4), MADV_DONTNEED));
	HC_EXPECT(&s, { EV_CLEAR, X + PG(1), X + PG(5) });
	HC_ASSERT_WATCH_FIRED(w);
	HC_ASSERT_FREED(&s, w);
	/* across two VMAs: one CLEAR per VMA intersection */
	ASSERT_OK(kvmmu_mprotect(e.mm, X + PG(4), PG(4), PROT_READ));
	HC_EXPECT(&s, { EV_PVMA, X + PG(4), X + PG(8) });
	ASSERT_OK(kvmmu_madvise(e.mm, X + PG(2), PG(5), MADV_DONTNEED));
	HC_EXPECT(&s, { EV_CLEAR, X + PG(2), X + PG(4) },
		  { EV_CLEAR, X + PG(4), X + PG(7) });
	hc_check_page(e.mm, X + PG(6), 0);
	hc_check_page(e.mm, X + PG(7), hc_pat(11, 7));
	hc_teardown(&e);
}

TEST(dontneed_shmem)
{
	struct hc_env e;
	struct hc_sub s;
	struct hc_watch *w;
	struct kvmmu_file *f;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	f = hc_memfd(&e, PG(8));
	hc_map(e.mm, X, PG(8), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	hc_fill(e.mm, X, 8, 12);
	w = hc_watch(&s, X + PG(3));
	ASSERT_OK(kvmmu_madvise(e.mm, X + PG(2), PG(3), MADV_DONTNEED));
	HC_EXPECT(&s, { EV_CLEAR, X + PG(2), X + PG(5) });
	HC_ASSERT_WATCH_FIRED(w);
	HC_ASSERT_NOT_FREED(&s, w); /* the page cache keeps it */
	hc_check_fill(e.mm, X, 8, 12);
	hc_teardown(&e);
}

TEST(remove_and_punch_hole_all_mms)
{
	struct hc_env e;
	struct hc_sub s1, s2;
	struct kvmmu_mm *mm2;
	struct hc_watch *w;
	struct kvmmu_file *f;

	hc_setup(&e);
	mm2 = hc_mm_new(&e);
	hc_sub_register(&e, &s1, e.mm);
	hc_sub_register(&e, &s2, mm2);
	f = hc_memfd(&e, PG(8));
	hc_map(e.mm, X, PG(8), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	hc_map(e.mm, Z, PG(4), PROT_READ | PROT_WRITE, MAP_SHARED, f, PG(4));
	hc_map(mm2, Y, PG(8), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	hc_fill(e.mm, X, 8, 13);
	hc_check_fill(mm2, Y, 8, 13);
	w = hc_watch(&s1, X + PG(4));
	/* file pages [2, 6) */
	ASSERT_OK(kvmmu_madvise(e.mm, X + PG(2), PG(4), MADV_REMOVE));
	HC_EXPECT_ANY_ORDER(&s1, { EV_CLEAR, X + PG(2), X + PG(6) },
			    { EV_CLEAR, Z, Z + PG(2) });
	HC_EXPECT(&s2, { EV_CLEAR, Y + PG(2), Y + PG(6) });
	HC_ASSERT_WATCH_FIRED(w);
	HC_ASSERT_FREED(&s1, w);
	hc_check_page(mm2, Y + PG(5), 0);
	hc_check_page(mm2, Y + PG(6), hc_pat(13, 6));
	/* fallocate: file pages [6, 8) plus a partial page */
	ASSERT_OK(kvmmu_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  PG(5) + 100, PG(3) - 100));
	HC_EXPECT_ANY_ORDER(&s1, { EV_CLEAR, X + PG(6), X + PG(8) },
			    { EV_CLEAR, Z + PG(2), Z + PG(4) });
	HC_EXPECT(&s2, { EV_CLEAR, Y + PG(6), Y + PG(8) });
	/* only partial pages: zeroed in place, nothing unmapped */
	ASSERT_OK(kvmmu_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  PG(1) + 100, 200));
	HC_EXPECT_NONE(&s1);
	HC_EXPECT_NONE(&s2);
	hc_teardown(&e);
}

/* Private file mappings are in the file's mapping tree too: a punch
 * clears them, but (even_cows == false) keeps their COWed pages. */
TEST(punch_hole_private_mapping)
{
	struct hc_env e;
	struct hc_sub s;
	struct hc_watch *w;
	struct kvmmu_file *f;
	kvmmu_pfn_t cow;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	f = hc_memfd(&e, PG(4));
	hc_map(e.mm, X, PG(4), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	hc_fill(e.mm, X, 4, 32);
	hc_map(e.mm, Y, PG(4), PROT_READ | PROT_WRITE, MAP_PRIVATE, f, 0);
	hc_check_fill(e.mm, Y, 4, 32);
	ASSERT_OK(kvmmu_mm_memset(e.mm, Y + PG(2), 0x7c, PAGE_SIZE));
	HC_EXPECT(&s, { EV_CLEAR, Y + PG(2), Y + PG(3) });
	cow = hc_pte(e.mm, Y + PG(2)).pfn;
	w = hc_watch(&s, Y + PG(1));
	ASSERT_OK(kvmmu_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  PG(1), PG(2)));
	HC_EXPECT_ANY_ORDER(&s, { EV_CLEAR, X + PG(1), X + PG(3) },
			    { EV_CLEAR, Y + PG(1), Y + PG(3) });
	HC_ASSERT_WATCH_FIRED(w);
	ASSERT_EQ(hc_pte(e.mm, Y + PG(2)).pfn, cow);
	hc_check_page(e.mm, Y + PG(2), 0x7c);
	hc_check_page(e.mm, Y + PG(1), 0);
	hc_check_page(e.mm, X + PG(2), 0);
	hc_teardown(&e);
}

/* Linux unmaps twice on shrink (before and after truncating, for racing
 * COWs); accept one or two identical CLEARs over [hole, VMA end). */
static void expect_truncate_clear(struct hc_sub *s, hva_t start, hva_t end)
{
	unsigned int i;

	if (s->nev == 4)
		TEST_LOG("ftruncate: two CLEARs (as Linux's shmem_setattr)");
	if (s->nev != 2 && s->nev != 4)
		hc_dump(s);
	ASSERT_TRUE(s->nev == 2 || s->nev == 4);
	for (i = 0; i < s->nev; i++) {
		EXPECT_EQ(s->ev[i].kind, i % 2 ? HC_END : HC_START);
		EXPECT_EQ(s->ev[i].event, EV_CLEAR);
		EXPECT_EQ(s->ev[i].start, start);
		EXPECT_EQ(s->ev[i].end, end);
	}
	s->nev = 0;
}

TEST(ftruncate_shrink)
{
	struct hc_env e;
	struct hc_sub s;
	struct hc_watch *w;
	struct kvmmu_file *f;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	f = hc_memfd(&e, PG(8));
	/* the VMA reaches past the end of the file */
	hc_map(e.mm, X, PG(12), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	hc_fill(e.mm, X, 8, 14);
	w = hc_watch(&s, X + PG(5));
	ASSERT_OK(kvmmu_ftruncate(f, PG(3) + 100));
	expect_truncate_clear(&s, X + PG(4), X + PG(12));
	HC_ASSERT_WATCH_FIRED(w);
	HC_ASSERT_FREED(&s, w);
	ASSERT_EQ(kvmmu_file_size(f), PG(3) + 100);
	/* growing raises nothing */
	ASSERT_OK(kvmmu_ftruncate(f, PG(8)));
	HC_EXPECT_NONE(&s);
	hc_teardown(&e);
}

TEST_HARNESS_MAIN
