// SPDX-License-Identifier: MIT
/*
 * mprotect and mremap as seen by host accesses and GUP: -EFAULT where the
 * protection forbids the access, data intact across changes, VMA splitting
 * and merging.
 */
#include "host_common.h"

#define X ((hva_t)0x100000000000ULL)
#define Y ((hva_t)0x200000000000ULL)

TEST(read_only_blocks_writes)
{
	struct hc_env e;
	uint8_t b[PAGE_SIZE];
	kvmmu_pfn_t g;
	bool w;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(8));
	hc_fill(e.mm, X, 8, 1);
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(8), PROT_READ));
	ASSERT_ERRNO(kvmmu_mm_write(e.mm, X + PG(3), b, 1), -EFAULT);
	ASSERT_ERRNO(kvmmu_mm_memset(e.mm, X, 0, PG(8)), -EFAULT);
	ASSERT_FALSE(hc_pte(e.mm, X + PG(3)).write);
	ASSERT_ERRNO(kvmmu_get_user_page(e.mm, X, KVMMU_FOLL_WRITE, &g, &w),
		     -EFAULT);
	ASSERT_OK(kvmmu_get_user_page(e.mm, X, 0, &g, &w));
	ASSERT_FALSE(w);
	kvmmu_put_page(e.host, g);
	hc_check_fill(e.mm, X, 8, 1);
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(8), PROT_READ | PROT_WRITE));
	hc_check_fill(e.mm, X, 8, 1);
	hc_fill(e.mm, X, 8, 2);
	hc_check_fill(e.mm, X, 8, 2);
	hc_teardown(&e);
}

TEST(read_only_partial_range)
{
	struct hc_env e;
	uint8_t b[PG(2)];

	hc_setup(&e);
	hc_anon(e.mm, X, PG(8));
	hc_fill(e.mm, X, 8, 3);
	ASSERT_OK(kvmmu_mprotect(e.mm, X + PG(4), PG(2), PROT_READ));
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 3);
	/* a write crossing into the read-only piece fails there */
	memset(b, 0x71, sizeof(b));
	ASSERT_ERRNO(kvmmu_mm_write(e.mm, X + PG(3), b, PG(2)), -EFAULT);
	hc_check_page(e.mm, X + PG(4), hc_pat(3, 4));
	ASSERT_OK(kvmmu_mm_write(e.mm, X + PG(6), b, PG(2)));
	hc_check_page(e.mm, X + PG(7), 0x71);
	/* reads across all pieces work */
	ASSERT_OK(kvmmu_mm_read(e.mm, X + PG(3), b, PG(2)));
	ASSERT_EQ(b[PG(1) + 5], hc_pat(3, 4));
	hc_teardown(&e);
}

TEST(prot_none)
{
	struct hc_env e;
	uint8_t b[16];
	kvmmu_pfn_t g;
	bool w;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(4));
	hc_fill(e.mm, X, 4, 4);
	hc_anon(e.mm, Y, PG(4)); /* never touched */
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(4), PROT_NONE));
	ASSERT_OK(kvmmu_mprotect(e.mm, Y, PG(4), PROT_NONE));
	ASSERT_ERRNO(kvmmu_mm_read(e.mm, X + PG(1), b, 1), -EFAULT);
	ASSERT_ERRNO(kvmmu_mm_write(e.mm, X + PG(1), b, 1), -EFAULT);
	ASSERT_ERRNO(kvmmu_mm_read(e.mm, Y, b, 1), -EFAULT);
	ASSERT_ERRNO(kvmmu_get_user_page(e.mm, X, 0, &g, &w), -EFAULT);
	ASSERT_ERRNO(kvmmu_get_user_page(e.mm, X, KVMMU_FOLL_WRITE, &g, &w),
		     -EFAULT);
	ASSERT_ERRNO(kvmmu_get_user_page(e.mm, Y, 0, &g, &w), -EFAULT);
	kvmmu_mmgrab(e.mm);
	ASSERT_ERRNO(kvmmu_get_user_page_fast_only(e.mm, X, 0, &g, &w),
		     -EAGAIN);
	kvmmu_mmdrop(e.mm);
	{
		struct kvmmu_vma_info vi;

		ASSERT_OK(kvmmu_vma_lookup(e.mm, X, &vi));
		ASSERT_EQ(vi.flags & (KVMMU_VM_READ | KVMMU_VM_WRITE |
				      KVMMU_VM_EXEC),
			  0);
	}
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(4), PROT_READ | PROT_WRITE));
	hc_check_fill(e.mm, X, 4, 4);
	ASSERT_OK(kvmmu_mprotect(e.mm, Y, PG(4), PROT_READ));
	hc_check_page(e.mm, Y, 0);
	hc_teardown(&e);
}

TEST(split_and_merge)
{
	struct kvmmu_vma_info vi;
	struct hc_env e;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(16));
	hc_fill(e.mm, X, 16, 5);
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 1);
	ASSERT_OK(kvmmu_mprotect(e.mm, X + PG(4), PG(4), PROT_READ));
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 3);
	ASSERT_OK(kvmmu_vma_lookup(e.mm, X + PG(5), &vi));
	ASSERT_EQ(vi.start, X + PG(4));
	ASSERT_EQ(vi.end, X + PG(8));
	ASSERT_TRUE(vi.flags & KVMMU_VM_READ);
	ASSERT_FALSE(vi.flags & KVMMU_VM_WRITE);
	ASSERT_OK(kvmmu_vma_lookup(e.mm, X + PG(8), &vi));
	ASSERT_EQ(vi.start, X + PG(8));
	ASSERT_EQ(vi.end, X + PG(16));
	ASSERT_TRUE(vi.flags & KVMMU_VM_WRITE);
	ASSERT_OK(kvmmu_mprotect(e.mm, X + PG(10), PG(2), PROT_NONE));
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 5);
	/* the same flags as a neighbour: merges with it */
	ASSERT_OK(kvmmu_mprotect(e.mm, X + PG(8), PG(2), PROT_READ));
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 4);
	ASSERT_OK(kvmmu_vma_lookup(e.mm, X + PG(9), &vi));
	ASSERT_EQ(vi.start, X + PG(4));
	ASSERT_EQ(vi.end, X + PG(10));
	/* restore the whole range: one VMA again */
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(16), PROT_READ | PROT_WRITE));
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 1);
	ASSERT_OK(kvmmu_vma_lookup(e.mm, X + PG(9), &vi));
	ASSERT_EQ(vi.start, X);
	ASSERT_EQ(vi.end, X + PG(16));
	hc_check_fill(e.mm, X, 16, 5);
	/* piecewise restore merges as well */
	ASSERT_OK(kvmmu_mprotect(e.mm, X + PG(1), PG(14), PROT_READ));
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 3);
	ASSERT_OK(
		kvmmu_mprotect(e.mm, X + PG(1), PG(7), PROT_READ | PROT_WRITE));
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 3);
	ASSERT_OK(
		kvmmu_mprotect(e.mm, X + PG(8), PG(7), PROT_READ | PROT_WRITE));
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 1);
	/* munmap in the middle and mapping it back merges too */
	ASSERT_OK(kvmmu_munmap(e.mm, X + PG(6), PG(2)));
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 2);
	hc_anon(e.mm, X + PG(6), PG(2));
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 1);
	hc_check_page(e.mm, X + PG(6), 0);
	hc_check_page(e.mm, X + PG(8), hc_pat(5, 8));
	hc_teardown(&e);
}

TEST(mprotect_hole_applies_before)
{
	struct kvmmu_vma_info vi;
	struct hc_env e;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(4));
	hc_anon(e.mm, X + PG(6), PG(4));
	ASSERT_ERRNO(kvmmu_mprotect(e.mm, X, PG(10), PROT_READ), -ENOMEM);
	/* the VMA before the hole was changed */
	ASSERT_OK(kvmmu_vma_lookup(e.mm, X, &vi));
	ASSERT_FALSE(vi.flags & KVMMU_VM_WRITE);
	hc_teardown(&e);
}

/* File offsets follow every split, move and merge of a file VMA. */
TEST(file_pgoff_after_split_move_merge)
{
	struct kvmmu_vma_info vi;
	struct kvmmu_file *f;
	struct hc_env e;
	unsigned int i;
	uint8_t b;
	hva_t out;

	hc_setup(&e);
	f = hc_memfd(&e, 0);
	for (i = 0; i < 16; i++) {
		b = hc_pat(8, i);
		ASSERT_OK(kvmmu_file_pwrite(f, &b, 1, PG(i) + 9));
	}
#define FILE_AT(mm, a, page)                                  \
	do {                                                  \
		ASSERT_OK(kvmmu_mm_read(mm, (a) + 9, &b, 1)); \
		ASSERT_EQ(b, hc_pat(8, page));                \
	} while (0)
	hc_map(e.mm, X, PG(8), PROT_READ | PROT_WRITE, MAP_SHARED, f, PG(2));
	FILE_AT(e.mm, X + PG(5), 7);
	/* split by munmap and by mprotect */
	ASSERT_OK(kvmmu_munmap(e.mm, X + PG(1), PG(1)));
	ASSERT_OK(kvmmu_mprotect(e.mm, X + PG(4), PG(2), PROT_READ));
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 4);
	ASSERT_OK(kvmmu_vma_lookup(e.mm, X + PG(6), &vi));
	ASSERT_EQ(vi.start, X + PG(6));
	ASSERT_EQ(vi.pgoff, 8);
	for (i = 0; i < 8; i++)
		if (i != 1)
			FILE_AT(e.mm, X + PG(i), 2 + i);
	/* move a piece, and a piece of a piece */
	ASSERT_OK(kvmmu_mremap(e.mm, X + PG(6), PG(2), PG(2),
			       MREMAP_MAYMOVE | MREMAP_FIXED, Y, &out));
	FILE_AT(e.mm, Y + PG(1), 9);
	ASSERT_OK(kvmmu_mremap(e.mm, X + PG(3), PG(1), PG(1),
			       MREMAP_MAYMOVE | MREMAP_FIXED, Y + PG(8), &out));
	FILE_AT(e.mm, Y + PG(8), 5);
	/* restore: contiguous file pages merge back */
	ASSERT_OK(
		kvmmu_mprotect(e.mm, X + PG(4), PG(2), PROT_READ | PROT_WRITE));
	ASSERT_OK(kvmmu_vma_lookup(e.mm, X + PG(5), &vi));
	ASSERT_EQ(vi.start, X + PG(4));
	ASSERT_EQ(vi.pgoff, 6);
	ASSERT_OK(kvmmu_mremap(e.mm, Y, PG(2), PG(2),
			       MREMAP_MAYMOVE | MREMAP_FIXED, X + PG(6), &out));
	ASSERT_OK(kvmmu_vma_lookup(e.mm, X + PG(7), &vi));
	ASSERT_EQ(vi.start, X + PG(4));
	ASSERT_EQ(vi.end, X + PG(8));
	/* adjacent mappings merge only with contiguous offsets */
	hc_map(e.mm, X + PG(8), PG(2), PROT_READ | PROT_WRITE, MAP_SHARED, f,
	       PG(10));
	hc_map(e.mm, X + PG(10), PG(2), PROT_READ | PROT_WRITE, MAP_SHARED, f,
	       PG(0));
	ASSERT_OK(kvmmu_vma_lookup(e.mm, X + PG(9), &vi));
	ASSERT_EQ(vi.start, X + PG(4));
	ASSERT_EQ(vi.end, X + PG(10));
	ASSERT_OK(kvmmu_vma_lookup(e.mm, X + PG(10), &vi));
	ASSERT_EQ(vi.start, X + PG(10));
	ASSERT_EQ(vi.pgoff, 0);
	FILE_AT(e.mm, X + PG(9), 11);
	FILE_AT(e.mm, X + PG(11), 1);
	/* grow in place keeps the offsets of a private file mapping */
	hc_map(e.mm, Y + PG(32), PG(2), PROT_READ, MAP_PRIVATE, f, PG(12));
	ASSERT_OK(kvmmu_mremap(e.mm, Y + PG(32), PG(2), PG(4), 0, 0, &out));
	FILE_AT(e.mm, Y + PG(35), 15);
#undef FILE_AT
	hc_teardown(&e);
}

TEST(mremap_move_keeps_data)
{
	static uint8_t data[PG(8)], got[PG(8)];
	struct kvmmu_vma_info vi;
	struct kvmmu_rng r;
	struct hc_env e;
	hva_t out;

	kvmmu_rng_seed(&r, test_seed());
	hc_setup(&e);
	hc_anon(e.mm, X, PG(8));
	kvmmu_rng_bytes(&r, data, sizeof(data));
	memset(data + PG(5), 0, PAGE_SIZE); /* one page never touched */
	ASSERT_OK(kvmmu_mm_write(e.mm, X, data, PG(5)));
	ASSERT_OK(kvmmu_mm_write(e.mm, X + PG(6), data + PG(6), PG(2)));
	ASSERT_OK(kvmmu_mremap(e.mm, X, PG(8), PG(8),
			       MREMAP_MAYMOVE | MREMAP_FIXED, Y, &out));
	ASSERT_EQ(out, Y);
	ASSERT_OK(kvmmu_mm_read(e.mm, Y, got, sizeof(got)));
	ASSERT_MEMEQ(got, data, sizeof(data));
	ASSERT_ERRNO(kvmmu_mm_read(e.mm, X, got, 1), -EFAULT);
	ASSERT_ERRNO(kvmmu_mm_write(e.mm, X + PG(7), got, 1), -EFAULT);
	ASSERT_ERRNO(kvmmu_vma_lookup(e.mm, X, &vi), -EFAULT);
	ASSERT_EQ(kvmmu_mm_nr_vmas(e.mm), 1);
	/* modify, then move back (growing) */
	ASSERT_OK(kvmmu_mm_memset(e.mm, Y + PG(2), 0x2d, 64));
	memset(data + PG(2), 0x2d, 64);
	ASSERT_OK(kvmmu_mremap(e.mm, Y, PG(8), PG(12),
			       MREMAP_MAYMOVE | MREMAP_FIXED, X, &out));
	ASSERT_EQ(out, X);
	ASSERT_OK(kvmmu_mm_read(e.mm, X, got, sizeof(got)));
	ASSERT_MEMEQ(got, data, sizeof(data));
	hc_check_page(e.mm, X + PG(11), 0);
	ASSERT_ERRNO(kvmmu_mm_read(e.mm, Y, got, 1), -EFAULT);
	hc_teardown(&e);
}

TEST(mremap_move_shared_and_after_fork)
{
	struct kvmmu_mm *child;
	struct kvmmu_file *f;
	struct hc_env e;
	hva_t out;

	hc_setup(&e);
	f = hc_memfd(&e, PG(4));
	hc_map(e.mm, X, PG(4), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	hc_fill(e.mm, X, 4, 6);
	ASSERT_OK(kvmmu_mremap(e.mm, X, PG(4), PG(4),
			       MREMAP_MAYMOVE | MREMAP_FIXED, Y, &out));
	hc_check_fill(e.mm, Y, 4, 6);
	ASSERT_OK(kvmmu_mm_memset(e.mm, Y + PG(1), 0x5e, PAGE_SIZE));
	{
		uint8_t b;

		ASSERT_OK(kvmmu_file_pread(f, &b, 1, PG(1) + 7));
		ASSERT_EQ(b, 0x5e);
	}
	/* a COW-shared private range moved in the parent stays COW */
	hc_anon(e.mm, X, PG(4));
	hc_fill(e.mm, X, 4, 7);
	child = hc_fork(&e, e.mm);
	ASSERT_OK(kvmmu_mremap(e.mm, X, PG(4), PG(4),
			       MREMAP_MAYMOVE | MREMAP_FIXED, X + PG(64),
			       &out));
	ASSERT_OK(kvmmu_mm_memset(e.mm, X + PG(64), 0x01, PAGE_SIZE));
	hc_check_page(child, X, hc_pat(7, 0));
	hc_check_page(e.mm, X + PG(64), 0x01);
	ASSERT_OK(kvmmu_mm_memset(child, X + PG(1), 0x02, PAGE_SIZE));
	hc_check_page(e.mm, X + PG(65), hc_pat(7, 1));
	hc_teardown(&e);
}

TEST_HARNESS_MAIN
