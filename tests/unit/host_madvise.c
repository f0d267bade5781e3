// SPDX-License-Identifier: MIT
/*
 * madvise, fallocate and ftruncate: what the data looks like afterwards and
 * which frames are freed.
 */
#include "host_common.h"

#define X ((hva_t)0x100000000000ULL)
#define Y ((hva_t)0x200000000000ULL)

static uint64_t in_use(struct hc_env *e)
{
	struct kvmmu_host_audit a;

	memset(&a, 0, sizeof(a));
	EXPECT_OK(kvmmu_host_audit(e->host, &a));
	return a.in_use;
}

TEST(dontneed_private_anon_zeros)
{
	struct hc_env e;
	kvmmu_pfn_t pfn[8];
	uint64_t used;
	unsigned int i;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(8));
	hc_fill(e.mm, X, 8, 1);
	for (i = 0; i < 8; i++)
		pfn[i] = hc_pte(e.mm, X + PG(i)).pfn;
	used = in_use(&e);
	ASSERT_OK(kvmmu_madvise(e.mm, X + PG(2), PG(4), MADV_DONTNEED));
	ASSERT_EQ(in_use(&e), used - 4);
	for (i = 0; i < 8; i++) {
		struct kvmmu_page_info pi = hc_page(e.host, pfn[i]);
		bool gone = i >= 2 && i < 6;

		EXPECT_EQ(!!(pi.flags & KVMMU_PG_FREE), gone);
		EXPECT_EQ(hc_pte_absent(e.mm, X + PG(i)), gone);
		hc_check_page(e.mm, X + PG(i), gone ? 0 : hc_pat(1, i));
	}
	/* and writable again */
	hc_fill(e.mm, X + PG(2), 4, 2);
	hc_check_fill(e.mm, X + PG(2), 4, 2);
	hc_check_fill(e.mm, X, 2, 1);
	hc_teardown(&e);
}

TEST(dontneed_after_fork_only_child)
{
	struct kvmmu_mm *child;
	struct hc_env e;
	kvmmu_pfn_t p;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(4));
	hc_fill(e.mm, X, 4, 3);
	p = hc_pte(e.mm, X + PG(1)).pfn;
	child = hc_fork(&e, e.mm);
	ASSERT_OK(kvmmu_madvise(child, X, PG(4), MADV_DONTNEED));
	hc_check_page(child, X + PG(1), 0);
	hc_check_fill(e.mm, X, 4, 3);
	ASSERT_FALSE(hc_page(e.host, p).flags & KVMMU_PG_FREE);
	ASSERT_EQ(hc_page(e.host, p).mapcount, 1);
	hc_teardown(&e);
}

TEST(dontneed_shared_memfd_keeps_data)
{
	struct kvmmu_file *f;
	struct hc_env e;
	kvmmu_pfn_t p;

	hc_setup(&e);
	f = hc_memfd(&e, PG(8));
	hc_map(e.mm, X, PG(8), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	hc_fill(e.mm, X, 8, 4);
	ASSERT_EQ(kvmmu_file_nr_pages(f), 8);
	p = hc_pte(e.mm, X + PG(3)).pfn;
	ASSERT_OK(kvmmu_madvise(e.mm, X, PG(8), MADV_DONTNEED));
	ASSERT_TRUE(hc_pte_absent(e.mm, X + PG(3)));
	ASSERT_EQ(kvmmu_file_nr_pages(f), 8);
	hc_check_fill(e.mm, X, 8, 4);
	ASSERT_EQ(hc_pte(e.mm, X + PG(3)).pfn, p); /* the same cache page */
	hc_teardown(&e);
}

TEST(dontneed_shared_anon_keeps_data)
{
	struct hc_env e;

	hc_setup(&e);
	hc_map(e.mm, X, PG(8), PROT_READ | PROT_WRITE,
	       MAP_SHARED | MAP_ANONYMOUS, NULL, 0);
	hc_fill(e.mm, X, 8, 5);
	ASSERT_OK(kvmmu_madvise(e.mm, X + PG(1), PG(6), MADV_DONTNEED));
	hc_check_fill(e.mm, X, 8, 5);
	/* a fork child shares it: writes go both ways */
	{
		struct kvmmu_mm *child = hc_fork(&e, e.mm);

		ASSERT_OK(kvmmu_mm_memset(child, X + PG(2), 0x42, PAGE_SIZE));
		hc_check_page(e.mm, X + PG(2), 0x42);
		ASSERT_OK(kvmmu_madvise(e.mm, X, PG(8), MADV_REMOVE));
		hc_check_page(child, X + PG(2), 0);
		hc_check_page(child, X + PG(7), 0);
	}
	hc_teardown(&e);
}

TEST(remove_zeros_range)
{
	struct kvmmu_file *f;
	struct hc_env e;
	uint8_t b[PAGE_SIZE], z[PAGE_SIZE] = { 0 };
	unsigned int i;

	hc_setup(&e);
	f = hc_memfd(&e, PG(8));
	hc_map(e.mm, X, PG(8), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	hc_fill(e.mm, X, 8, 6);
	ASSERT_OK(kvmmu_madvise(e.mm, X + PG(2), PG(3), MADV_REMOVE));
	ASSERT_EQ(kvmmu_file_nr_pages(f), 5);
	ASSERT_EQ(kvmmu_file_size(f), PG(8));
	for (i = 0; i < 8; i++) {
		bool gone = i >= 2 && i < 5;

		hc_check_page(e.mm, X + PG(i), gone ? 0 : hc_pat(6, i));
		ASSERT_OK(kvmmu_file_pread(f, b, PAGE_SIZE, PG(i)));
		if (gone)
			ASSERT_MEMEQ(b, z, PAGE_SIZE);
		else
			ASSERT_EQ(b[17], hc_pat(6, i));
	}
	hc_teardown(&e);
}

TEST(punch_hole_whole_pages)
{
	struct kvmmu_file *f;
	struct hc_env e;
	kvmmu_pfn_t p;

	hc_setup(&e);
	f = hc_memfd(&e, PG(8));
	hc_map(e.mm, X, PG(8), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	hc_fill(e.mm, X, 8, 7);
	p = hc_pte(e.mm, X + PG(1)).pfn;
	ASSERT_OK(kvmmu_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  PG(1), PG(1)));
	ASSERT_TRUE(hc_page(e.host, p).flags & KVMMU_PG_FREE);
	ASSERT_EQ(kvmmu_file_nr_pages(f), 7);
	hc_check_page(e.mm, X, hc_pat(7, 0));
	hc_check_page(e.mm, X + PG(1), 0);
	hc_check_page(e.mm, X + PG(2), hc_pat(7, 2));
	hc_check_page(e.mm, X + PG(7), hc_pat(7, 7));
	/* allocating again gives zeroed pages, keeps the size */
	ASSERT_OK(kvmmu_fallocate(f, FALLOC_FL_KEEP_SIZE, 0, PG(8)));
	ASSERT_EQ(kvmmu_file_nr_pages(f), 8);
	hc_check_page(e.mm, X + PG(1), 0);
	hc_check_page(e.mm, X + PG(3), hc_pat(7, 3));
	/* mode 0 past the end grows the file */
	ASSERT_OK(kvmmu_fallocate(f, 0, PG(8), PG(2)));
	ASSERT_EQ(kvmmu_file_size(f), PG(10));
	hc_teardown(&e);
}

TEST(punch_hole_partial_pages)
{
	static uint8_t want[PG(4)], got[PG(4)];
	struct kvmmu_file *f;
	struct kvmmu_rng r;
	struct hc_env e;

	kvmmu_rng_seed(&r, test_seed());
	hc_setup(&e);
	f = hc_memfd(&e, PG(4));
	hc_map(e.mm, X, PG(4), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	kvmmu_rng_bytes(&r, want, sizeof(want));
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] |= 1; /* no zero bytes: a zeroed byte is visible */
	ASSERT_OK(kvmmu_mm_write(e.mm, X, want, sizeof(want)));
	/* inside one page */
	ASSERT_OK(kvmmu_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  PG(1) + 100, 200));
	memset(want + PG(1) + 100, 0, 200);
	ASSERT_EQ(kvmmu_file_nr_pages(f), 4);
	ASSERT_OK(kvmmu_mm_read(e.mm, X, got, sizeof(got)));
	ASSERT_MEMEQ(got, want, sizeof(want));
	/* partial + whole + partial */
	ASSERT_OK(kvmmu_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  PG(1) + 3000, PG(2)));
	memset(want + PG(1) + 3000, 0, PG(2));
	ASSERT_EQ(kvmmu_file_nr_pages(f), 3);
	ASSERT_OK(kvmmu_mm_read(e.mm, X, got, sizeof(got)));
	ASSERT_MEMEQ(got, want, sizeof(want));
	ASSERT_OK(kvmmu_file_pread(f, got, sizeof(got), 0));
	ASSERT_MEMEQ(got, want, sizeof(want));
	hc_teardown(&e);
}

TEST(ftruncate_shrink_then_efault)
{
	struct kvmmu_file *f;
	struct hc_env e;
	kvmmu_pfn_t g;
	bool w;
	uint8_t b[PAGE_SIZE];

	hc_setup(&e);
	f = hc_memfd(&e, PG(8));
	hc_map(e.mm, X, PG(8), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	hc_fill(e.mm, X, 8, 8);
	ASSERT_OK(kvmmu_ftruncate(f, PG(3) + 100));
	ASSERT_EQ(kvmmu_file_size(f), PG(3) + 100);
	ASSERT_EQ(kvmmu_file_nr_pages(f), 4);
	hc_check_fill(e.mm, X, 3, 8);
	/* the partial last page: the tail past EOF reads zero */
	ASSERT_OK(kvmmu_mm_read(e.mm, X + PG(3), b, PAGE_SIZE));
	ASSERT_EQ(b[99], hc_pat(8, 3));
	ASSERT_EQ(b[100], 0);
	ASSERT_EQ(b[PAGE_SIZE - 1], 0);
	/* whole pages past EOF: SIGBUS, i.e. -EFAULT */
	ASSERT_ERRNO(kvmmu_mm_read(e.mm, X + PG(4), b, 1), -EFAULT);
	ASSERT_ERRNO(kvmmu_mm_write(e.mm, X + PG(7), b, 1), -EFAULT);
	ASSERT_ERRNO(kvmmu_get_user_page(e.mm, X + PG(5), 0, &g, &w), -EFAULT);
	ASSERT_ERRNO(kvmmu_mm_read(e.mm, X + PG(3), b, PAGE_SIZE + 1), -EFAULT);
	/* growing back: holes read zero */
	ASSERT_OK(kvmmu_ftruncate(f, PG(8)));
	hc_check_page(e.mm, X + PG(4), 0);
	hc_check_page(e.mm, X + PG(7), 0);
	hc_check_page(e.mm, X + PG(2), hc_pat(8, 2));
	hc_teardown(&e);
}

/* Truncation zaps private COWed pages past EOF too (even_cows); a punch
 * hole leaves them (and only them) alone. */
TEST(truncate_and_punch_private_cow)
{
	struct kvmmu_file *f;
	struct hc_env e;
	kvmmu_pfn_t cow3, cow1;
	uint8_t b[8];

	hc_setup(&e);
	f = hc_memfd(&e, PG(4));
	hc_map(e.mm, X, PG(4), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	hc_fill(e.mm, X, 4, 10);
	hc_map(e.mm, Y, PG(4), PROT_READ | PROT_WRITE, MAP_PRIVATE, f, 0);
	ASSERT_OK(kvmmu_mm_memset(e.mm, Y + PG(1), 0x11, PAGE_SIZE));
	ASSERT_OK(kvmmu_mm_memset(e.mm, Y + PG(3), 0x33, PAGE_SIZE));
	hc_check_page(e.mm, Y + PG(2), hc_pat(10, 2));
	cow1 = hc_pte(e.mm, Y + PG(1)).pfn;
	cow3 = hc_pte(e.mm, Y + PG(3)).pfn;
	ASSERT_TRUE(hc_page(e.host, cow3).flags & KVMMU_PG_ANON);

	/* punch [1, 3): the private copy of page 1 stays */
	ASSERT_OK(kvmmu_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  PG(1), PG(2)));
	hc_check_page(e.mm, Y + PG(1), 0x11);
	hc_check_page(e.mm, Y + PG(2), 0);
	ASSERT_EQ(hc_pte(e.mm, Y + PG(1)).pfn, cow1);

	/* truncate to 3 pages: the private copy of page 3 goes */
	ASSERT_OK(kvmmu_ftruncate(f, PG(3)));
	ASSERT_TRUE(hc_page(e.host, cow3).flags & KVMMU_PG_FREE);
	ASSERT_ERRNO(kvmmu_mm_read(e.mm, Y + PG(3), b, 1), -EFAULT);
	ASSERT_ERRNO(kvmmu_mm_write(e.mm, Y + PG(3), b, 1), -EFAULT);
	hc_check_page(e.mm, Y + PG(1), 0x11);
	hc_check_page(e.mm, Y, hc_pat(10, 0));
	hc_teardown(&e);
}

TEST(file_close_while_mapped_and_beyond_eof)
{
	struct kvmmu_file *f;
	struct hc_env e;
	uint8_t b[16] = { 0 }, z[16] = { 0 };

	hc_setup(&e);
	ASSERT_OK(kvmmu_memfd_create(e.host, "closed", &f));
	ASSERT_OK(kvmmu_ftruncate(f, PG(4)));
	hc_map(e.mm, X, PG(4), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	/* a mapping that starts past the end of the file */
	hc_map(e.mm, Y, PG(2), PROT_READ | PROT_WRITE, MAP_SHARED, f, PG(6));
	kvmmu_file_put(f); /* "close": the mappings keep it */
	hc_fill(e.mm, X, 4, 11);
	ASSERT_ERRNO(kvmmu_mm_read(e.mm, Y, b, 1), -EFAULT);
	/* reads of a file past its end give zeros */
	ASSERT_OK(kvmmu_file_pread(hc_memfd(&e, PG(1)), b, sizeof(b), PG(3)));
	ASSERT_MEMEQ(b, z, sizeof(b));
	hc_check_fill(e.mm, X, 4, 11);
	hc_teardown(&e); /* the last mapping gone: no file left */
}

TEST(punch_seen_by_other_mms)
{
	struct kvmmu_mm *child, *other;
	struct kvmmu_file *f;
	struct hc_env e;
	unsigned int i;

	hc_setup(&e);
	f = hc_memfd(&e, PG(8));
	other = hc_mm_new(&e);
	hc_map(e.mm, X, PG(8), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	hc_map(other, Y, PG(4), PROT_READ | PROT_WRITE, MAP_SHARED, f, PG(4));
	hc_fill(e.mm, X, 8, 9);
	child = hc_fork(&e, e.mm);
	hc_check_fill(child, X, 8, 9);
	for (i = 0; i < 4; i++)
		hc_check_page(other, Y + PG(i), hc_pat(9, 4 + i));
	/* punch file pages [3, 6) */
	ASSERT_OK(kvmmu_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  PG(3), PG(3)));
	for (i = 0; i < 8; i++) {
		int c = i >= 3 && i < 6 ? 0 : hc_pat(9, i);

		hc_check_page(e.mm, X + PG(i), c);
		hc_check_page(child, X + PG(i), c);
		if (i >= 4)
			hc_check_page(other, Y + PG(i - 4), c);
	}
	/* MADV_REMOVE through the child: file page 7 */
	ASSERT_OK(kvmmu_madvise(child, X + PG(7), PG(1), MADV_REMOVE));
	hc_check_page(e.mm, X + PG(7), 0);
	hc_check_page(other, Y + PG(3), 0);
	hc_check_page(e.mm, X + PG(6), hc_pat(9, 6));
	/* the pages are shared again afterwards */
	ASSERT_OK(kvmmu_mm_memset(other, Y, 0x99, PAGE_SIZE));
	hc_check_page(e.mm, X + PG(4), 0x99);
	hc_check_page(child, X + PG(4), 0x99);
	hc_teardown(&e);
}

TEST_HARNESS_MAIN
