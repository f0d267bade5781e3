// SPDX-License-Identifier: MIT
/*
 * PFNMAP mappings of device frames (and of RAM): follow_pfnmap, special
 * PTEs, memtype, no struct-page references, host access through them, and
 * what munmap / fork / mprotect do (nothing to the frames).
 */
#include "host_common.h"

#define X ((hva_t)0x100000000000ULL)
#define Y ((hva_t)0x200000000000ULL)

static hva_t map_pfn(struct kvmmu_mm *mm, hva_t addr, unsigned int n, int prot,
		     kvmmu_pfn_t pfn, enum kvmmu_memtype mt, bool any_uc)
{
	hva_t out = 0;

	ASSERT_OK(kvmmu_mmap_pfn(mm, addr, PG(n), prot, MAP_SHARED | MAP_FIXED,
				 pfn, mt, any_uc, &out));
	ASSERT_EQ(out, addr);
	return out;
}

TEST(follow_returns_pfn_and_memtype)
{
	struct kvmmu_page_info before, after;
	struct kvmmu_vma_info vi;
	struct kvmmu_pte_info pte;
	enum kvmmu_memtype mt;
	struct hc_env e;
	kvmmu_pfn_t dev, pfn;
	uint64_t ndev;
	unsigned int i;
	bool w;

	hc_setup(&e);
	dev = kvmmu_host_device_base(e.host, &ndev);
	ASSERT_EQ(ndev, (16ULL << 20) / PAGE_SIZE);
	ASSERT_GE(dev, kvmmu_host_nr_frames(e.host));
	before = hc_page(e.host, dev + 2);
	ASSERT_TRUE(before.flags & KVMMU_PG_DEVICE);
	map_pfn(e.mm, X, 4, PROT_READ | PROT_WRITE, dev + 2, KVMMU_MT_DEVICE,
		false);
	for (i = 0; i < 4; i++) {
		ASSERT_OK(kvmmu_follow_pfnmap(e.mm, X + PG(i), i & 1, &pfn, &w,
					      &mt));
		ASSERT_EQ(pfn, dev + 2 + i);
		ASSERT_TRUE(w);
		ASSERT_EQ(mt, KVMMU_MT_DEVICE);
		pte = hc_pte(e.mm, X + PG(i));
		ASSERT_TRUE(pte.present);
		ASSERT_TRUE(pte.special);
		ASSERT_TRUE(pte.write);
		ASSERT_EQ(pte.pfn, dev + 2 + i);
		ASSERT_EQ(pte.memtype, KVMMU_MT_DEVICE);
	}
	after = hc_page(e.host, dev + 2);
	ASSERT_EQ(after.refcount, before.refcount);
	ASSERT_EQ(after.mapcount, before.mapcount);
	ASSERT_OK(kvmmu_vma_lookup(e.mm, X + PG(3), &vi));
	ASSERT_EQ(vi.start, X);
	ASSERT_EQ(vi.end, X + PG(4));
	ASSERT_EQ(vi.pfn, dev + 2);
	ASSERT_EQ(vi.memtype, KVMMU_MT_DEVICE);
	ASSERT_PTR_EQ(vi.file, NULL);
	ASSERT_EQ(vi.flags & (KVMMU_VM_IO | KVMMU_VM_PFNMAP |
			      KVMMU_VM_DONTEXPAND | KVMMU_VM_SHARED),
		  KVMMU_VM_IO | KVMMU_VM_PFNMAP | KVMMU_VM_DONTEXPAND |
			  KVMMU_VM_SHARED);
	ASSERT_FALSE(vi.flags & KVMMU_VM_ALLOW_ANY_UNCACHED);

	/* write-combining with VM_ALLOW_ANY_UNCACHED, read-only */
	map_pfn(e.mm, Y, 2, PROT_READ, dev + 100, KVMMU_MT_NC, true);
	ASSERT_OK(kvmmu_vma_lookup(e.mm, Y, &vi));
	ASSERT_TRUE(vi.flags & KVMMU_VM_ALLOW_ANY_UNCACHED);
	ASSERT_EQ(vi.memtype, KVMMU_MT_NC);
	ASSERT_EQ(vi.pfn, dev + 100);
	ASSERT_OK(kvmmu_follow_pfnmap(e.mm, Y + PG(1), false, &pfn, &w, &mt));
	ASSERT_EQ(pfn, dev + 101);
	ASSERT_FALSE(w);
	ASSERT_EQ(mt, KVMMU_MT_NC);
	ASSERT_ERRNO(kvmmu_follow_pfnmap(e.mm, Y, true, &pfn, &w, &mt),
		     -EACCES);
	ASSERT_FALSE(hc_pte(e.mm, Y).write);
	ASSERT_EQ(hc_pte(e.mm, Y).memtype, KVMMU_MT_NC);
	hc_teardown(&e);
}

TEST(host_access_through_pfnmap)
{
	struct kvmmu_rng r;
	struct hc_env e;
	kvmmu_pfn_t dev;
	uint64_t ndev;
	uint8_t data[PG(2)], got[PG(2)];
	uint8_t *v0, *v1;

	kvmmu_rng_seed(&r, test_seed());
	hc_setup(&e);
	dev = kvmmu_host_device_base(e.host, &ndev);
	map_pfn(e.mm, X, 2, PROT_READ | PROT_WRITE, dev + 7, KVMMU_MT_DEVICE,
		false);
	v0 = kvmmu_pfn_to_virt(e.host, dev + 7);
	v1 = kvmmu_pfn_to_virt(e.host, dev + 8);
	ASSERT_PTR_NE(v0, NULL);
	ASSERT_PTR_NE(v1, NULL);
	kvmmu_rng_bytes(&r, data, sizeof(data));
	ASSERT_OK(kvmmu_mm_write(e.mm, X, data, sizeof(data)));
	ASSERT_MEMEQ(v0, data, PAGE_SIZE);
	ASSERT_MEMEQ(v1, data + PAGE_SIZE, PAGE_SIZE);
	memset(v1 + 10, 0x4b, 10);
	memset(data + PAGE_SIZE + 10, 0x4b, 10);
	ASSERT_OK(kvmmu_mm_read(e.mm, X, got, sizeof(got)));
	ASSERT_MEMEQ(got, data, sizeof(data));
	/* a second mapping of the same frames aliases them */
	map_pfn(e.mm, Y, 1, PROT_READ, dev + 8, KVMMU_MT_DEVICE, false);
	ASSERT_OK(kvmmu_mm_read(e.mm, Y, got, PAGE_SIZE));
	ASSERT_MEMEQ(got, data + PAGE_SIZE, PAGE_SIZE);
	ASSERT_ERRNO(kvmmu_mm_write(e.mm, Y, got, 1), -EFAULT);
	/* the frame keeps its contents after munmap (device memory) */
	ASSERT_OK(kvmmu_munmap(e.mm, X, PG(2)));
	ASSERT_MEMEQ(v0, data, PAGE_SIZE);
	hc_teardown(&e);
}

TEST(munmap_fork_mprotect_keep_refcounts)
{
	struct kvmmu_page_info pi[4], now;
	struct hc_env e;
	struct hc_sub s;
	struct kvmmu_mm *child;
	enum kvmmu_memtype mt;
	kvmmu_pfn_t dev, pfn;
	uint64_t ndev;
	unsigned int i;
	bool w;

	hc_setup(&e);
	hc_sub_register(&e, &s, e.mm);
	dev = kvmmu_host_device_base(e.host, &ndev);
	for (i = 0; i < 4; i++)
		pi[i] = hc_page(e.host, dev + 20 + i);
	map_pfn(e.mm, X, 4, PROT_READ | PROT_WRITE, dev + 20, KVMMU_MT_DEVICE,
		false);
	ASSERT_OK(kvmmu_mm_memset(e.mm, X, 0x61, PG(4)));
	HC_EXPECT_NONE(&s);

	/* fork: shared, no COW, no PROTECTION_PAGE; the child maps the same */
	child = hc_fork(&e, e.mm);
	HC_EXPECT_NONE(&s);
	ASSERT_OK(kvmmu_follow_pfnmap(child, X + PG(3), true, &pfn, &w, &mt));
	ASSERT_EQ(pfn, dev + 23);
	ASSERT_TRUE(w);
	ASSERT_TRUE(hc_pte(e.mm, X + PG(3)).write);
	ASSERT_OK(kvmmu_mm_memset(child, X + PG(1), 0x62, 8));
	hc_check_page(e.mm, X + PG(2), 0x61);
	{
		uint8_t b;

		ASSERT_OK(kvmmu_mm_read(e.mm, X + PG(1) + 7, &b, 1));
		ASSERT_EQ(b, 0x62);
	}

	/* mprotect: PROTECTION_VMA, write refused, then allowed again */
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(4), PROT_READ));
	HC_EXPECT(&s, { EV_PVMA, X, X + PG(4) });
	ASSERT_ERRNO(kvmmu_follow_pfnmap(e.mm, X, true, &pfn, &w, &mt),
		     -EACCES);
	ASSERT_OK(kvmmu_follow_pfnmap(e.mm, X, false, &pfn, &w, &mt));
	ASSERT_FALSE(w);
	ASSERT_ERRNO(kvmmu_mm_write(e.mm, X, &w, 1), -EFAULT);
	ASSERT_OK(kvmmu_mprotect(e.mm, X, PG(4), PROT_READ | PROT_WRITE));
	HC_EXPECT(&s, { EV_PVMA, X, X + PG(4) });
	ASSERT_OK(kvmmu_follow_pfnmap(e.mm, X, true, &pfn, &w, &mt));
	ASSERT_TRUE(w);
	ASSERT_EQ(pfn, dev + 20);

	/* DONTNEED is refused; munmap unmaps with UNMAP */
	ASSERT_ERRNO(kvmmu_madvise(e.mm, X, PG(4), MADV_DONTNEED), -EINVAL);
	ASSERT_OK(kvmmu_munmap(e.mm, X + PG(1), PG(2)));
	HC_EXPECT(&s, { EV_UNMAP, X + PG(1), X + PG(3) });
	ASSERT_ERRNO(kvmmu_follow_pfnmap(e.mm, X + PG(1), false, &pfn, &w, &mt),
		     -EFAULT);
	ASSERT_OK(kvmmu_follow_pfnmap(e.mm, X + PG(3), false, &pfn, &w, &mt));
	ASSERT_EQ(pfn, dev + 23);
	hc_mmput(&e, child);
	ASSERT_OK(kvmmu_munmap(e.mm, X, PG(4)));
	HC_EXPECT(&s, { EV_UNMAP, X, X + PG(4) });
	for (i = 0; i < 4; i++) {
		now = hc_page(e.host, dev + 20 + i);
		EXPECT_EQ(now.refcount, pi[i].refcount);
		EXPECT_EQ(now.mapcount, pi[i].mapcount);
		EXPECT_EQ(now.flags, pi[i].flags);
		EXPECT_EQ(now.gen, pi[i].gen);
	}
	hc_teardown(&e);
}

/* Cacheable PFNMAP of RAM: no references taken or dropped either. */
TEST(pfnmap_of_ram)
{
	struct kvmmu_page_info before, now;
	struct kvmmu_mm *child;
	enum kvmmu_memtype mt;
	struct hc_env e;
	kvmmu_pfn_t ram, pfn;
	bool w;

	hc_setup(&e);
	hc_anon(e.mm, X, PG(1));
	ASSERT_OK(kvmmu_mm_memset(e.mm, X, 0x3e, PAGE_SIZE));
	ASSERT_OK(kvmmu_get_user_page(e.mm, X, KVMMU_FOLL_WRITE, &ram, &w));
	before = hc_page(e.host, ram);
	map_pfn(e.mm, Y, 1, PROT_READ | PROT_WRITE, ram, KVMMU_MT_WB, false);
	ASSERT_OK(kvmmu_follow_pfnmap(e.mm, Y, false, &pfn, &w, &mt));
	ASSERT_EQ(pfn, ram);
	ASSERT_EQ(mt, KVMMU_MT_WB);
	ASSERT_TRUE(hc_pte(e.mm, Y).special);
	hc_check_page(e.mm, Y, 0x3e);
	ASSERT_OK(kvmmu_mm_memset(e.mm, Y, 0x3f, 4));
	{
		uint8_t b[8];

		ASSERT_OK(kvmmu_mm_read(e.mm, X, b, sizeof(b)));
		ASSERT_EQ(b[3], 0x3f);
		ASSERT_EQ(b[4], 0x3e);
	}
	child = hc_fork(&e, e.mm);
	now = hc_page(e.host, ram);
	/* the child's COW reference on the anon page is the only change */
	ASSERT_EQ(now.mapcount, before.mapcount + 1);
	ASSERT_EQ(now.refcount, before.refcount + 1);
	hc_mmput(&e, child);
	ASSERT_OK(kvmmu_munmap(e.mm, Y, PG(1)));
	now = hc_page(e.host, ram);
	ASSERT_EQ(now.refcount, before.refcount);
	ASSERT_EQ(now.mapcount, before.mapcount);
	kvmmu_put_page(e.host, ram);
	hc_teardown(&e);
}

TEST_HARNESS_MAIN
