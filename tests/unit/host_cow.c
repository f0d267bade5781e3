// SPDX-License-Identifier: MIT
/*
 * Copy-on-write at the byte level: fork isolation, the zero page, frame
 * reuse versus copy, GUP and COW, private file mappings.
 */
#include "host_common.h"

#define X      ((hva_t)0x100000000000ULL)
#define NPAGES 64

static uint8_t shadow_p[NPAGES * PAGE_SIZE], shadow_c[NPAGES * PAGE_SIZE];
static uint8_t shadow_g[NPAGES * PAGE_SIZE];
static uint8_t buf[NPAGES * PAGE_SIZE];

static void verify(struct kvmmu_mm *mm, const uint8_t *shadow)
{
	ASSERT_OK(kvmmu_mm_read(mm, X, buf, sizeof(buf)));
	ASSERT_MEMEQ(buf, shadow, sizeof(buf));
}

static void rand_write(struct kvmmu_rng *r, struct kvmmu_mm *mm,
		       uint8_t *shadow)
{
	uint8_t data[2 * PAGE_SIZE];
	uint64_t off = kvmmu_rng_below(r, NPAGES * PAGE_SIZE);
	uint64_t len = 1 + kvmmu_rng_below(r, sizeof(data));

	if (off + len > NPAGES * PAGE_SIZE)
		len = NPAGES * PAGE_SIZE - off;
	kvmmu_rng_bytes(r, data, len);
	ASSERT_OK(kvmmu_mm_write(mm, X + off, data, len));
	memcpy(shadow + off, data, len);
}

TEST(fork_isolation_random)
{
	struct kvmmu_rng r;
	struct kvmmu_mm *child, *grand;
	struct hc_env e;
	unsigned int i;

	kvmmu_rng_seed(&r, test_seed());
	hc_setup(&e);
	hc_anon(e.mm, X, NPAGES * PAGE_SIZE);
	kvmmu_rng_bytes(&r, shadow_p, sizeof(shadow_p));
	/* leave some pages untouched (zero page / never mapped) */
	memset(shadow_p + PG(10), 0, PG(4));
	ASSERT_OK(kvmmu_mm_write(e.mm, X, shadow_p, PG(10)));
	ASSERT_OK(kvmmu_mm_write(e.mm, X + PG(14), shadow_p + PG(14),
				 PG(NPAGES - 14)));
	hc_check_page(e.mm, X + PG(11), 0);
	child = hc_fork(&e, e.mm);
	memcpy(shadow_c, shadow_p, sizeof(shadow_c));
	verify(child, shadow_c);
	for (i = 0; i < 2000; i++) {
		if (kvmmu_rng_below(&r, 2))
			rand_write(&r, e.mm, shadow_p);
		else
			rand_write(&r, child, shadow_c);
		if (i % 250 == 0) {
			verify(e.mm, shadow_p);
			verify(child, shadow_c);
		}
	}
	verify(e.mm, shadow_p);
	verify(child, shadow_c);

	/* a grandchild: three-way isolation */
	grand = hc_fork(&e, child);
	memcpy(shadow_g, shadow_c, sizeof(shadow_g));
	verify(grand, shadow_g);
	for (i = 0; i < 500; i++)
		rand_write(&r, child, shadow_c);
	verify(e.mm, shadow_p);
	verify(child, shadow_c);
	hc_mmput(&e, child);
	for (i = 0; i < 500; i++) {
		if (kvmmu_rng_below(&r, 2))
			rand_write(&r, e.mm, shadow_p);
		else
			rand_write(&r, grand, shadow_g);
	}
	verify(e.mm, shadow_p);
	verify(grand, shadow_g);
	hc_mmput(&e, grand);
	verify(e.mm, shadow_p);
	hc_teardown(&e);
}

TEST(zero_page_read_then_write)
{
	struct kvmmu_pte_info pte;
	struct kvmmu_page_info pi;
	struct hc_env e;
	kvmmu_pfn_t zero;

	hc_setup(&e);
	zero = kvmmu_zero_pfn(e.host);
	pi = hc_page(e.host, zero);
	ASSERT_TRUE(pi.flags & KVMMU_PG_ZERO);
	hc_anon(e.mm, X, PG(4));
	hc_check_page(e.mm, X + PG(1), 0);
	pte = hc_pte(e.mm, X + PG(1));
	ASSERT_TRUE(pte.present);
	ASSERT_EQ(pte.pfn, zero);
	ASSERT_FALSE(pte.write);
	hc_check_page(e.mm, X + PG(2), 0);
	ASSERT_EQ(hc_pte(e.mm, X + PG(2)).pfn, zero);
	ASSERT_OK(kvmmu_mm_memset(e.mm, X + PG(1) + 5, 0x5a, 3));
	pte = hc_pte(e.mm, X + PG(1));
	ASSERT_TRUE(pte.present);
	ASSERT_NE(pte.pfn, zero);
	ASSERT_TRUE(pte.write);
	pi = hc_page(e.host, pte.pfn);
	ASSERT_TRUE(pi.flags & KVMMU_PG_ANON);
	ASSERT_FALSE(pi.flags & (KVMMU_PG_FREE | KVMMU_PG_ZERO));
	ASSERT_EQ(pi.mapcount, 1);
	ASSERT_GE(pi.refcount, 1);
	/* the rest of the new page is zero, the zero frame still is */
	{
		uint8_t want[PAGE_SIZE] = { 0 };

		ASSERT_OK(kvmmu_mm_read(e.mm, X + PG(1), buf, PAGE_SIZE));
		memset(want + 5, 0x5a, 3);
		ASSERT_MEMEQ(buf, want, PAGE_SIZE);
		memset(want, 0, sizeof(want));
		ASSERT_MEMEQ(kvmmu_pfn_to_virt(e.host, zero), want, PAGE_SIZE);
	}
	hc_check_page(e.mm, X + PG(2), 0);
	hc_teardown(&e);
}

TEST(reuse_after_child_exit_vs_copy)
{
	struct kvmmu_mm *child;
	struct hc_env e;
	kvmmu_pfn_t p0, p1;
	uint64_t reuse, alloc, copy;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(2));
	hc_fill(e.mm, X, 2, 1);
	p0 = hc_pte(e.mm, X).pfn;
	p1 = hc_pte(e.mm, X + PG(1)).pfn;
	child = hc_fork(&e, e.mm);
	ASSERT_EQ(hc_page(e.host, p0).mapcount, 2);

	/* copied while the child still maps it */
	reuse = hc_stat(e.host, "pgreuse");
	alloc = hc_stat(e.host, "pgalloc");
	copy = hc_stat(e.host, "cow_copy");
	ASSERT_OK(kvmmu_mm_memset(e.mm, X, 0x77, 16));
	ASSERT_EQ(hc_stat(e.host, "cow_copy"), copy + 1);
	ASSERT_NE(hc_pte(e.mm, X).pfn, p0);
	ASSERT_TRUE(hc_pte(e.mm, X).write);
	ASSERT_EQ(hc_pte(child, X).pfn, p0);
	ASSERT_GE(hc_stat(e.host, "pgalloc"), alloc + 1);
	ASSERT_EQ(hc_stat(e.host, "pgreuse"), reuse);
	ASSERT_EQ(hc_page(e.host, p0).mapcount, 1);
	hc_check_page(child, X, hc_pat(1, 0));

	/* reused once the child is gone */
	hc_mmput(&e, child);
	ASSERT_EQ(hc_page(e.host, p1).mapcount, 1);
	ASSERT_FALSE(hc_pte(e.mm, X + PG(1)).write);
	reuse = hc_stat(e.host, "pgreuse");
	alloc = hc_stat(e.host, "pgalloc");
	copy = hc_stat(e.host, "cow_copy");
	ASSERT_OK(kvmmu_mm_memset(e.mm, X + PG(1), 0x66, 16));
	ASSERT_EQ(hc_stat(e.host, "cow_copy"), copy);
	ASSERT_EQ(hc_stat(e.host, "pgreuse"), reuse + 1);
	ASSERT_EQ(hc_pte(e.mm, X + PG(1)).pfn, p1);
	ASSERT_TRUE(hc_pte(e.mm, X + PG(1)).write);
	ASSERT_GE(hc_stat(e.host, "pgreuse"), reuse + 1);
	ASSERT_EQ(hc_stat(e.host, "pgalloc"), alloc);
	/* the child's old frame p0 went back when it exited */
	ASSERT_TRUE(hc_page(e.host, p0).flags & KVMMU_PG_FREE);
	hc_teardown(&e);
}

TEST(gup_write_breaks_cow)
{
	struct kvmmu_mm *child;
	struct hc_env e;
	kvmmu_pfn_t p, g;
	bool writable;
	uint8_t *v;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(2));
	hc_fill(e.mm, X, 2, 2);
	p = hc_pte(e.mm, X).pfn;
	child = hc_fork(&e, e.mm);

	/* a read GUP does not break COW */
	ASSERT_OK(kvmmu_get_user_page(e.mm, X, 0, &g, &writable));
	ASSERT_EQ(g, p);
	ASSERT_FALSE(writable);
	kvmmu_put_page(e.host, g);

	ASSERT_OK(
		kvmmu_get_user_page(e.mm, X, KVMMU_FOLL_WRITE, &g, &writable));
	ASSERT_NE(g, p);
	ASSERT_TRUE(writable);
	ASSERT_EQ(hc_pte(e.mm, X).pfn, g);
	ASSERT_EQ(hc_pte(child, X).pfn, p);
	v = kvmmu_pfn_to_virt(e.host, g);
	ASSERT_PTR_NE(v, NULL);
	ASSERT_EQ(v[100], hc_pat(2, 0)); /* copied */
	v[100] = 0xe1;			 /* write through the pin */
	kvmmu_put_page(e.host, g);
	ASSERT_OK(kvmmu_mm_read(e.mm, X + 100, buf, 1));
	ASSERT_EQ(buf[0], 0xe1);
	ASSERT_OK(kvmmu_mm_read(child, X + 100, buf, 1));
	ASSERT_EQ(buf[0], hc_pat(2, 0));
	hc_teardown(&e);
}

TEST(gup_read_untouched_is_zero_page)
{
	struct hc_env e;
	kvmmu_pfn_t g;
	bool writable = true;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(2));
	ASSERT_OK(kvmmu_get_user_page(e.mm, X + PG(1), 0, &g, &writable));
	ASSERT_EQ(g, kvmmu_zero_pfn(e.host));
	ASSERT_FALSE(writable);
	kvmmu_put_page(e.host, g);
	/* a write GUP allocates */
	ASSERT_OK(kvmmu_get_user_page(e.mm, X + PG(1), KVMMU_FOLL_WRITE, &g,
				      &writable));
	ASSERT_NE(g, kvmmu_zero_pfn(e.host));
	ASSERT_TRUE(writable);
	kvmmu_put_page(e.host, g);
	hc_teardown(&e);
}

TEST(gup_fast_only)
{
	struct kvmmu_page_info before, after;
	struct kvmmu_mm *child;
	struct hc_env e;
	kvmmu_pfn_t g, p;
	bool writable;

	hc_setup(&e);
	kvmmu_mmgrab(e.mm);
	hc_anon(e.mm, X, PG(4));
	/* not present */
	ASSERT_ERRNO(kvmmu_get_user_page_fast_only(e.mm, X, 0, &g, &writable),
		     -EAGAIN);
	ASSERT_ERRNO(kvmmu_get_user_page_fast_only(e.mm, X, KVMMU_FOLL_WRITE,
						   &g, &writable),
		     -EAGAIN);
	/* zero page: never writable */
	hc_check_page(e.mm, X, 0);
	ASSERT_ERRNO(kvmmu_get_user_page_fast_only(e.mm, X, KVMMU_FOLL_WRITE,
						   &g, &writable),
		     -EAGAIN);
	/* present and writable */
	hc_fill(e.mm, X + PG(1), 1, 3);
	p = hc_pte(e.mm, X + PG(1)).pfn;
	before = hc_page(e.host, p);
	ASSERT_OK(kvmmu_get_user_page_fast_only(
		e.mm, X + PG(1), KVMMU_FOLL_WRITE, &g, &writable));
	ASSERT_EQ(g, p);
	ASSERT_TRUE(writable);
	after = hc_page(e.host, p);
	ASSERT_EQ(after.refcount, before.refcount + 1);
	kvmmu_put_page(e.host, g);
	ASSERT_EQ(hc_page(e.host, p).refcount, before.refcount);
	/* write-protected by fork: read yes, write no */
	child = hc_fork(&e, e.mm);
	ASSERT_ERRNO(kvmmu_get_user_page_fast_only(
			     e.mm, X + PG(1), KVMMU_FOLL_WRITE, &g, &writable),
		     -EAGAIN);
	ASSERT_EQ(hc_pte(e.mm, X + PG(1)).pfn, p); /* and did not fault */
	ASSERT_OK(kvmmu_get_user_page_fast_only(e.mm, X + PG(1), 0, &g,
						&writable));
	ASSERT_EQ(g, p);
	ASSERT_FALSE(writable);
	kvmmu_put_page(e.host, g);
	/* no VMA at all */
	ASSERT_ERRNO(kvmmu_get_user_page_fast_only(e.mm, X + PG(100), 0, &g,
						   &writable),
		     -EAGAIN);
	hc_mmput(&e, child);
	kvmmu_mmdrop(e.mm);
	hc_teardown(&e);
}

TEST(map_populate)
{
	struct kvmmu_file *f;
	struct hc_env e;
	hva_t a, b, c;
	unsigned int i;

	hc_setup(&e);
	f = hc_memfd(&e, PG(4));
	/* private writable: allocated for write, not the zero page */
	ASSERT_OK(kvmmu_mmap(e.mm, 0, PG(4), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, NULL,
			     0, &a));
	/* private read-only: the zero page */
	ASSERT_OK(kvmmu_mmap(e.mm, 0, PG(4), PROT_READ,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, NULL,
			     0, &b));
	ASSERT_OK(kvmmu_mmap(e.mm, 0, PG(4), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_POPULATE, f, 0, &c));
	for (i = 0; i < 4; i++) {
		struct kvmmu_pte_info pa = hc_pte(e.mm, a + PG(i));
		struct kvmmu_pte_info pb = hc_pte(e.mm, b + PG(i));
		struct kvmmu_pte_info pc = hc_pte(e.mm, c + PG(i));

		ASSERT_TRUE(pa.present);
		ASSERT_TRUE(pa.write);
		ASSERT_NE(pa.pfn, kvmmu_zero_pfn(e.host));
		ASSERT_TRUE(pb.present);
		ASSERT_EQ(pb.pfn, kvmmu_zero_pfn(e.host));
		ASSERT_TRUE(pc.present);
		ASSERT_TRUE(hc_page(e.host, pc.pfn).flags & KVMMU_PG_PAGECACHE);
	}
	ASSERT_EQ(kvmmu_file_nr_pages(f), 4);
	hc_teardown(&e);
}

/* A GUP reference outlives the mapping and the mm. */
TEST(pin_survives_mmput)
{
	struct kvmmu_mm *mm2;
	struct hc_env e;
	kvmmu_pfn_t g;
	bool w;
	uint8_t *v;

	hc_setup(&e);
	mm2 = hc_mm_new(&e);
	hc_anon(mm2, X, PG(1));
	ASSERT_OK(kvmmu_mm_memset(mm2, X, 0x4d, PAGE_SIZE));
	ASSERT_OK(kvmmu_get_user_page(mm2, X, KVMMU_FOLL_WRITE, &g, &w));
	hc_mmput(&e, mm2);
	ASSERT_FALSE(hc_page(e.host, g).flags & KVMMU_PG_FREE);
	ASSERT_EQ(hc_page(e.host, g).refcount, 1);
	ASSERT_EQ(hc_page(e.host, g).mapcount, 0);
	v = kvmmu_pfn_to_virt(e.host, g);
	ASSERT_EQ(v[PAGE_SIZE - 1], 0x4d);
	kvmmu_put_page(e.host, g);
	ASSERT_TRUE(hc_page(e.host, g).flags & KVMMU_PG_FREE);
	hc_teardown(&e);
}

TEST(memfd_private_cow)
{
	struct kvmmu_pte_info pte;
	struct kvmmu_file *f;
	struct hc_env e;
	uint8_t data[PG(4)], back[PG(4)];
	kvmmu_pfn_t cache;
	struct kvmmu_rng r;

	kvmmu_rng_seed(&r, test_seed());
	hc_setup(&e);
	f = hc_memfd(&e, 0);
	kvmmu_rng_bytes(&r, data, sizeof(data));
	ASSERT_OK(kvmmu_file_pwrite(f, data, sizeof(data), 0));
	ASSERT_EQ(kvmmu_file_size(f), sizeof(data));
	hc_map(e.mm, X, PG(4), PROT_READ | PROT_WRITE, MAP_PRIVATE, f, 0);
	ASSERT_OK(kvmmu_mm_read(e.mm, X, back, sizeof(back)));
	ASSERT_MEMEQ(back, data, sizeof(data));
	pte = hc_pte(e.mm, X + PG(1));
	ASSERT_TRUE(pte.present);
	ASSERT_FALSE(pte.write);
	cache = pte.pfn;
	ASSERT_TRUE(hc_page(e.host, cache).flags & KVMMU_PG_PAGECACHE);

	/* a write copies the page; the file keeps its data */
	ASSERT_OK(kvmmu_mm_memset(e.mm, X + PG(1) + 10, 0xee, 20));
	pte = hc_pte(e.mm, X + PG(1));
	ASSERT_NE(pte.pfn, cache);
	ASSERT_TRUE(pte.write);
	ASSERT_TRUE(hc_page(e.host, pte.pfn).flags & KVMMU_PG_ANON);
	ASSERT_OK(kvmmu_file_pread(f, back, sizeof(back), 0));
	ASSERT_MEMEQ(back, data, sizeof(data));
	memset(data + PG(1) + 10, 0xee, 20);
	ASSERT_OK(kvmmu_mm_read(e.mm, X, back, sizeof(back)));
	ASSERT_MEMEQ(back, data, sizeof(data));

	/* file writes show through uncopied pages only */
	memset(back, 0x3c, PG(2));
	ASSERT_OK(kvmmu_file_pwrite(f, back, PG(2), 0));
	memset(data, 0x3c, PG(1));
	ASSERT_OK(kvmmu_mm_read(e.mm, X, back, sizeof(back)));
	ASSERT_MEMEQ(back, data, sizeof(data));
	/* another read-then-written page copies the current file data */
	ASSERT_OK(kvmmu_mm_memset(e.mm, X + PG(3), 0x11, 1));
	data[PG(3)] = 0x11;
	ASSERT_OK(kvmmu_mm_read(e.mm, X, back, sizeof(back)));
	ASSERT_MEMEQ(back, data, sizeof(data));
	ASSERT_OK(kvmmu_file_pread(f, back, 1, PG(3)));
	ASSERT_NE(back[0], 0x11);
	hc_teardown(&e);
}

TEST_HARNESS_MAIN
