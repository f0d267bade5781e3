// SPDX-License-Identifier: MIT
/*
 * mremap over a range of several VMAs and holes, as Linux 6.18 does it
 * (measured on the project machine): same size in place is a no-op, a
 * same-size MREMAP_FIXED move moves every piece to the same offset (holes
 * stay holes, the destination over a hole is left alone), growing is
 * -EFAULT, a hole at the start is -EFAULT; MREMAP_DONTUNMAP needs FIXED to
 * span VMAs.  Failing calls change nothing.
 */
#include "host_common.h"

#define X ((hva_t)0x100000000000ULL)
#define Y ((hva_t)0x200000000000ULL)

#define FIXED (MREMAP_MAYMOVE | MREMAP_FIXED)

/*
 * [at, at + 16 pages): rw [0, 4), a hole at 4, rw [5, 15), read-only 15;
 * page i holds hc_pat(tag, i).
 */
static void layout(struct kvmmu_mm *mm, hva_t at, unsigned int tag)
{
	hc_anon(mm, at, PG(16));
	hc_fill(mm, at, 16, tag);
	ASSERT_OK(kvmmu_munmap(mm, at + PG(4), PG(1)));
	ASSERT_OK(kvmmu_mprotect(mm, at + PG(15), PG(1), PROT_READ));
}

static void check_vma(struct kvmmu_mm *mm, hva_t start, hva_t end, bool write)
{
	struct kvmmu_vma_info vi;

	ASSERT_OK(kvmmu_vma_lookup(mm, start, &vi));
	ASSERT_EQ(vi.start, start);
	ASSERT_EQ(vi.end, end);
	ASSERT_TRUE(vi.flags & KVMMU_VM_READ);
	ASSERT_EQ(!!(vi.flags & KVMMU_VM_WRITE), write);
}

static void check_unmapped(struct kvmmu_mm *mm, hva_t addr, unsigned int n)
{
	struct kvmmu_vma_info vi;
	unsigned int i;

	for (i = 0; i < n; i++)
		ASSERT_ERRNO(kvmmu_vma_lookup(mm, addr + PG(i), &vi), -EFAULT);
}

/* The layout of @tag is at @at: VMAs, protections, hole, data. */
static void check_layout(struct kvmmu_mm *mm, hva_t at, unsigned int tag)
{
	uint8_t b = 0;
	unsigned int i;

	check_vma(mm, at, at + PG(4), true);
	check_unmapped(mm, at + PG(4), 1);
	check_vma(mm, at + PG(5), at + PG(15), true);
	check_vma(mm, at + PG(15), at + PG(16), false);
	for (i = 0; i < 16; i++)
		if (i != 4)
			hc_check_page(mm, at + PG(i), hc_pat(tag, i));
	ASSERT_ERRNO(kvmmu_mm_write(mm, at + PG(15), &b, 1), -EFAULT);
}

TEST(in_place_same_size_is_a_noop)
{
	struct hc_env e;
	struct hc_sub s;
	hva_t out = 0;

	hc_setup(&e);
	layout(e.mm, X, 1);
	hc_sub_register(&e, &s, e.mm);
	ASSERT_OK(kvmmu_mremap(e.mm, X, PG(16), PG(16), 0, 0, &out));
	ASSERT_EQ(out, X);
	out = 0;
	ASSERT_OK(
		kvmmu_mremap(e.mm, X, PG(16), PG(16), MREMAP_MAYMOVE, 0, &out));
	ASSERT_EQ(out, X);
	/* only the start is looked at: past the last VMA is fine too */
	ASSERT_OK(kvmmu_mremap(e.mm, X + PG(2), PG(64), PG(64), MREMAP_MAYMOVE,
			       0, &out));
	ASSERT_EQ(out, X + PG(2));
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X + PG(4), PG(4), PG(4), 0, 0, &out),
		     -EFAULT);
	HC_EXPECT_NONE(&s);
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 3);
	check_layout(e.mm, X, 1);
	hc_teardown(&e);
}

TEST(shrink_in_place_cuts_the_tail)
{
	struct hc_env e;
	struct hc_sub s;
	unsigned int i;
	hva_t out = 0;

	hc_setup(&e);
	layout(e.mm, X, 2);
	hc_sub_register(&e, &s, e.mm);
	/* from a hole: -EFAULT before the tail is unmapped */
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X + PG(4), PG(12), PG(1), 0, 0, &out),
		     -EFAULT);
	HC_EXPECT_NONE(&s);
	check_layout(e.mm, X, 2);
	ASSERT_OK(kvmmu_mremap(e.mm, X, PG(16), PG(10), 0, 0, &out));
	ASSERT_EQ(out, X);
	HC_EXPECT(&s, { EV_UNMAP, X + PG(10), X + PG(16) });
	check_vma(e.mm, X, X + PG(4), true);
	check_unmapped(e.mm, X + PG(4), 1);
	check_vma(e.mm, X + PG(5), X + PG(10), true);
	check_unmapped(e.mm, X + PG(10), 6);
	for (i = 0; i < 10; i++)
		if (i != 4)
			hc_check_page(e.mm, X + PG(i), hc_pat(2, i));
	hc_teardown(&e);
}

TEST(fixed_move_moves_each_piece)
{
	struct kvmmu_page_info pi[16];
	kvmmu_pfn_t pfn[16];
	struct hc_watch *w[3];
	struct hc_env e;
	struct hc_sub s;
	unsigned int i;
	hva_t out = 0;

	hc_setup(&e);
	layout(e.mm, X, 3);
	hc_sub_register(&e, &s, e.mm);
	for (i = 0; i < 16; i++)
		if (i != 4) {
			pfn[i] = hc_pte(e.mm, X + PG(i)).pfn;
			pi[i] = hc_page(e.host, pfn[i]);
		}
	w[0] = hc_watch(&s, X + PG(3));
	w[1] = hc_watch(&s, X + PG(5));
	w[2] = hc_watch(&s, X + PG(15));
	ASSERT_OK(kvmmu_mremap(e.mm, X, PG(16), PG(16), FIXED, Y, &out));
	ASSERT_EQ(out, Y);
	/* per piece: the page-table move, then the old range's unmap */
	HC_EXPECT(&s, { EV_UNMAP, X, X + PG(4) }, { EV_UNMAP, X, X + PG(4) },
		  { EV_UNMAP, X + PG(5), X + PG(15) },
		  { EV_UNMAP, X + PG(5), X + PG(15) },
		  { EV_UNMAP, X + PG(15), X + PG(16) },
		  { EV_UNMAP, X + PG(15), X + PG(16) });
	for (i = 0; i < 3; i++) {
		HC_ASSERT_WATCH_FIRED(w[i]);
		HC_ASSERT_NOT_FREED(&s, w[i]);
	}
	/* the same frames, with the same counts, at the new place */
	for (i = 0; i < 16; i++) {
		struct kvmmu_page_info now;

		ASSERT_TRUE(hc_pte_absent(e.mm, X + PG(i)));
		if (i == 4)
			continue;
		ASSERT_EQ(hc_pte(e.mm, Y + PG(i)).pfn, pfn[i]);
		now = hc_page(e.host, pfn[i]);
		ASSERT_EQ(now.refcount, pi[i].refcount);
		ASSERT_EQ(now.mapcount, pi[i].mapcount);
	}
	ASSERT_FALSE(hc_pte(e.mm, Y + PG(15)).write);
	check_layout(e.mm, Y, 3);
	check_unmapped(e.mm, X, 16);
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 3);
	hc_teardown(&e);
}

/*
 * Pieces of VMAs at both ends; the destination was mapped: each piece's
 * destination is unmapped as it moves, the part over the hole stays.
 */
TEST(fixed_move_partial_pieces_over_a_mapping)
{
	struct hc_env e;
	struct hc_sub s;
	unsigned int i;
	hva_t out = 0;

	hc_setup(&e);
	layout(e.mm, X, 4);
	hc_anon(e.mm, Y, PG(16));
	hc_fill(e.mm, Y, 16, 5);
	hc_sub_register(&e, &s, e.mm);
	ASSERT_OK(kvmmu_mremap(e.mm, X + PG(2), PG(8), PG(8), FIXED, Y + PG(2),
			       &out));
	ASSERT_EQ(out, Y + PG(2));
	HC_EXPECT(&s, { EV_UNMAP, Y + PG(2), Y + PG(4) },
		  { EV_UNMAP, X + PG(2), X + PG(4) },
		  { EV_UNMAP, X + PG(2), X + PG(4) },
		  { EV_UNMAP, Y + PG(5), Y + PG(10) },
		  { EV_UNMAP, X + PG(5), X + PG(10) },
		  { EV_UNMAP, X + PG(5), X + PG(10) });
	for (i = 0; i < 16; i++) {
		bool moved = i >= 2 && i < 10 && i != 4;

		hc_check_page(e.mm, Y + PG(i), hc_pat(moved ? 4 : 5, i));
	}
	check_vma(e.mm, X, X + PG(2), true);
	check_unmapped(e.mm, X + PG(2), 8);
	check_vma(e.mm, X + PG(10), X + PG(15), true);
	check_vma(e.mm, X + PG(15), X + PG(16), false);
	for (i = 0; i < 16; i++)
		if (i < 2 || i >= 10)
			hc_check_page(e.mm, X + PG(i), hc_pat(4, i));
	hc_teardown(&e);
}

/* Growing, or a FIXED shrink that keeps the hole: -EFAULT, nothing moves. */
TEST(growing_is_efault)
{
	struct hc_env e;
	struct hc_sub s;
	hva_t out = 0;

	hc_setup(&e);
	layout(e.mm, X, 6);
	hc_anon(e.mm, Y, PG(32));
	hc_fill(e.mm, Y, 32, 7);
	hc_sub_register(&e, &s, e.mm);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X, PG(16), PG(32), MREMAP_MAYMOVE, 0,
				  &out),
		     -EFAULT);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X, PG(16), PG(32), 0, 0, &out),
		     -EFAULT);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X, PG(16), PG(32), FIXED, Y, &out),
		     -EFAULT);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X, PG(16), PG(8), FIXED, Y, &out),
		     -EFAULT);
	HC_EXPECT_NONE(&s);
	check_layout(e.mm, X, 6);
	hc_check_fill(e.mm, Y, 32, 7);
	/* what a FIXED shrink keeps is in one VMA: the tail spans them all */
	ASSERT_OK(kvmmu_mremap(e.mm, X, PG(16), PG(4), FIXED, Y, &out));
	ASSERT_EQ(out, Y);
	HC_EXPECT(&s, { EV_UNMAP, Y, Y + PG(4) },
		  { EV_UNMAP, X + PG(4), X + PG(16) },
		  { EV_UNMAP, X, X + PG(4) }, { EV_UNMAP, X, X + PG(4) });
	hc_check_fill(e.mm, Y, 4, 6);
	check_unmapped(e.mm, X, 16);
	hc_teardown(&e);
}

TEST(hole_at_the_start_is_efault)
{
	struct hc_env e;
	struct hc_sub s;
	hva_t out = 0;

	hc_setup(&e);
	layout(e.mm, X, 8);
	hc_anon(e.mm, Y, PG(20));
	hc_fill(e.mm, Y, 20, 9);
	hc_sub_register(&e, &s, e.mm);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X + PG(4), PG(12), PG(12), FIXED, Y,
				  &out),
		     -EFAULT);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X - PG(1), PG(17), PG(17), FIXED, Y,
				  &out),
		     -EFAULT);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X + PG(4), PG(1), PG(1), FIXED, Y,
				  &out),
		     -EFAULT);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X + PG(32), PG(4), PG(4), FIXED, Y,
				  &out),
		     -EFAULT);
	HC_EXPECT_NONE(&s);
	check_layout(e.mm, X, 8);
	hc_check_fill(e.mm, Y, 20, 9);
	hc_teardown(&e);
}

/* DONTUNMAP spans VMAs only with FIXED; the old VMAs stay, empty. */
TEST(dontunmap_over_several_vmas)
{
	const int du = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
	struct hc_env e;
	struct hc_sub s;
	unsigned int i;
	hva_t out = 0;

	hc_setup(&e);
	layout(e.mm, X, 10);
	hc_sub_register(&e, &s, e.mm);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X, PG(16), PG(16), du, Y, &out),
		     -EFAULT);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X, PG(16), PG(16), du, 0, &out),
		     -EFAULT);
	HC_EXPECT_NONE(&s);
	check_layout(e.mm, X, 10);
	ASSERT_OK(kvmmu_mremap(e.mm, X, PG(16), PG(16), du | MREMAP_FIXED, Y,
			       &out));
	ASSERT_EQ(out, Y);
	HC_EXPECT(&s, { EV_UNMAP, X, X + PG(4) },
		  { EV_UNMAP, X + PG(5), X + PG(15) },
		  { EV_UNMAP, X + PG(15), X + PG(16) });
	check_layout(e.mm, Y, 10);
	check_vma(e.mm, X, X + PG(4), true);
	check_unmapped(e.mm, X + PG(4), 1);
	check_vma(e.mm, X + PG(5), X + PG(15), true);
	check_vma(e.mm, X + PG(15), X + PG(16), false);
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 6);
	for (i = 0; i < 16; i++)
		if (i != 4) {
			ASSERT_TRUE(hc_pte_absent(e.mm, X + PG(i)));
			hc_check_page(e.mm, X + PG(i), 0);
		}
	hc_teardown(&e);
}

TEST(dontunmap_one_vma)
{
	const int du = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
	kvmmu_pfn_t dev;
	struct hc_env e;
	struct hc_sub s;
	unsigned int i;
	uint64_t ndev;
	hva_t out = 0;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(8));
	hc_fill(e.mm, X, 8, 11);
	dev = kvmmu_host_device_base(e.host, &ndev);
	ASSERT_OK(kvmmu_mmap_pfn(e.mm, X + PG(16), PG(2),
				 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				 dev, KVMMU_MT_DEVICE, false, &out));
	hc_sub_register(&e, &s, e.mm);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X, PG(4), PG(8), du, Y, &out), -EINVAL);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X, PG(4), PG(4), MREMAP_DONTUNMAP, Y,
				  &out),
		     -EINVAL);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X, PG(4), PG(4), du, X + PG(2), &out),
		     -EINVAL);
	ASSERT_ERRNO(kvmmu_mremap(e.mm, X + PG(16), PG(2), PG(2), du, Y, &out),
		     -EINVAL);
	HC_EXPECT_NONE(&s);
	/* without FIXED the new address is a hint; the old VMA stays whole */
	ASSERT_OK(kvmmu_mremap(e.mm, X + PG(2), PG(4), PG(4), du, Y, &out));
	ASSERT_EQ(out, Y);
	HC_EXPECT(&s, { EV_UNMAP, X + PG(2), X + PG(6) });
	check_vma(e.mm, X, X + PG(8), true);
	check_vma(e.mm, Y, Y + PG(4), true);
	for (i = 0; i < 8; i++) {
		bool moved = i >= 2 && i < 6;

		hc_check_page(e.mm, X + PG(i), moved ? 0 : hc_pat(11, i));
		if (moved)
			hc_check_page(e.mm, Y + PG(i - 2), hc_pat(11, i));
	}
	hc_teardown(&e);
}

TEST_HARNESS_MAIN
