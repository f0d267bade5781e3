// SPDX-License-Identifier: MIT
/*
 * Error returns of the host operations, as one table: each row runs one
 * call against a fresh, fixed layout and compares the result by name.
 * Every row ends with the full teardown audit.  Then the cases that need
 * their own setup: registration, host creation, running out of frames.
 */
#include "host_common.h"

/* The layout every row starts from. */
#define A_ANON	 ((hva_t)0x10000000) /* 4p RW private anon, touched */
#define A_NEXT	 (A_ANON + PG(8))    /* 4p RW private anon (hole before) */
#define A_RO	 ((hva_t)0x20000000) /* 4p PROT_READ private anon */
#define A_NONE	 ((hva_t)0x30000000) /* 4p PROT_NONE */
#define A_PFN	 ((hva_t)0x40000000) /* 4p RW PFNMAP of device frames */
#define A_PFNRO	 ((hva_t)0x48000000) /* 2p RO PFNMAP */
#define A_PFILE	 ((hva_t)0x50000000) /* 4p RW MAP_PRIVATE of memfd (4p) */
#define A_SFILE	 ((hva_t)0x58000000) /* 8p RW MAP_SHARED of memfd (4p) */
#define A_TWO	 ((hva_t)0x60000000) /* 2p RW + 2p RO: two VMAs */
#define A_HOLE	 ((hva_t)0x70000000) /* nothing */
#define A_IO_RAM ((hva_t)0x78000000) /* 1p PFNMAP of a RAM frame */

struct ctx {
	struct hc_env e;
	struct kvmmu_file *f;
	kvmmu_pfn_t dev;
	uint64_t ndev;
};

enum op {
	MMAP,
	MMAP_PFN,
	MUNMAP,
	MPROTECT,
	MREMAP,
	MADVISE,
	FALLOCATE,
	FTRUNCATE,
	GUP,
	GUP_FAST,
	FOLLOW,
	READ,
	WRITE,
	MEMSET,
	VMA_LOOKUP,
	PAGE_INFO,
};

struct row {
	const char *name;
	enum op op;
	hva_t addr;
	uint64_t len, len2;
	int prot, flags;
	uint64_t x; /* mmap: 1 = the memfd; mremap: new addr; others: offset */
	long want;
};

#define RW	     (PROT_READ | PROT_WRITE)
#define PA	     (MAP_PRIVATE | MAP_ANONYMOUS)
#define FALLOC_PUNCH (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)
#define DEV_ABOVE    ((uint64_t)-2) /* mmap_pfn: first frame past the aperture */
#define DEV_LAST     ((uint64_t)-3) /* mmap_pfn: last frame, len 2 pages */

static const struct row rows[] = {
	/* mmap */
	{ "mmap len 0", MMAP, 0, 0, 0, RW, PA, 0, -EINVAL },
	{ "mmap unaligned fixed", MMAP, A_HOLE + 1, PG(1), 0, RW,
	  PA | MAP_FIXED, 0, -EINVAL },
	{ "mmap unaligned off", MMAP, 0, PG(1), 100, RW, MAP_SHARED, 1,
	  -EINVAL },
	{ "mmap no type", MMAP, 0, PG(1), 0, RW, MAP_ANONYMOUS, 0, -EINVAL },
	/* SHARED|PRIVATE is MAP_SHARED_VALIDATE in Linux: valid (host.h
	 * says "exactly one") */
	{ "mmap shared_validate", MMAP, 0, PG(1), 0, RW,
	  MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS, 0, 0 },
	{ "mmap no file", MMAP, 0, PG(1), 0, RW, MAP_PRIVATE, 0, -EBADF },
	{ "mmap noreplace", MMAP, A_ANON + PG(2), PG(4), 0, RW,
	  PA | MAP_FIXED_NOREPLACE, 0, -EEXIST },
	{ "mmap len overflow", MMAP, 0, (uint64_t)-100, 0, RW, PA, 0, -ENOMEM },
	{ "mmap len > TASK_SIZE", MMAP, 0, KVMMU_TASK_SIZE + PG(1), 0, RW, PA,
	  0, -ENOMEM },
	{ "mmap fixed past TASK_SIZE", MMAP, KVMMU_TASK_SIZE - PG(1), PG(2), 0,
	  RW, PA | MAP_FIXED, 0, -ENOMEM },
	{ "mmap ok", MMAP, A_HOLE, PG(1), 0, RW, PA | MAP_FIXED, 0, 0 },
	/* mmap_pfn */
	{ "mmap_pfn past aperture", MMAP_PFN, 0, PG(1), 0, RW, MAP_SHARED,
	  DEV_ABOVE, -EINVAL },
	{ "mmap_pfn straddles end", MMAP_PFN, 0, PG(2), 0, RW, MAP_SHARED,
	  DEV_LAST, -EINVAL },
	{ "mmap_pfn private", MMAP_PFN, 0, PG(1), 0, RW, MAP_PRIVATE, 0,
	  -EINVAL },
	{ "mmap_pfn len 0", MMAP_PFN, 0, 0, 0, RW, MAP_SHARED, 0, -EINVAL },
	/* munmap */
	{ "munmap unaligned", MUNMAP, A_ANON + 1, PG(1), 0, 0, 0, 0, -EINVAL },
	{ "munmap len 0", MUNMAP, A_ANON, 0, 0, 0, 0, 0, -EINVAL },
	{ "munmap beyond TASK_SIZE", MUNMAP, KVMMU_TASK_SIZE - PG(1), PG(2), 0,
	  0, 0, 0, -EINVAL },
	{ "munmap hole", MUNMAP, A_HOLE, PG(4), 0, 0, 0, 0, 0 },
	{ "munmap unaligned len", MUNMAP, A_ANON, 100, 0, 0, 0, 0, 0 },
	/* mprotect */
	{ "mprotect unaligned", MPROTECT, A_ANON + 8, PG(1), 0, PROT_READ, 0, 0,
	  -EINVAL },
	{ "mprotect bad prot", MPROTECT, A_ANON, PG(1), 0, 0x100, 0, 0,
	  -EINVAL },
	{ "mprotect hole", MPROTECT, A_ANON, PG(6), 0, PROT_READ, 0, 0,
	  -ENOMEM },
	{ "mprotect all hole", MPROTECT, A_HOLE, PG(1), 0, PROT_READ, 0, 0,
	  -ENOMEM },
	{ "mprotect len 0", MPROTECT, A_ANON, 0, 0, PROT_READ, 0, 0, 0 },
	{ "mprotect len 0 hole", MPROTECT, A_HOLE, 0, 0, PROT_READ, 0, 0, 0 },
	/* mremap */
	{ "mremap unaligned", MREMAP, A_ANON + 1, PG(1), PG(1), 0, 0, 0,
	  -EINVAL },
	{ "mremap new_len 0", MREMAP, A_ANON, PG(1), 0, 0, 0, 0, -EINVAL },
	{ "mremap fixed no maymove", MREMAP, A_ANON, PG(1), PG(1), 0,
	  MREMAP_FIXED, A_HOLE, -EINVAL },
	{ "mremap bad flags", MREMAP, A_ANON, PG(1), PG(1), 0, 0x80, 0,
	  -EINVAL },
	{ "mremap unmapped", MREMAP, A_HOLE, PG(1), PG(2), 0, MREMAP_MAYMOVE, 0,
	  -EFAULT },
	{ "mremap two vmas", MREMAP, A_TWO, PG(4), PG(8), 0, MREMAP_MAYMOVE, 0,
	  -EFAULT },
	{ "mremap grow blocked", MREMAP, A_ANON, PG(4), PG(12), 0, 0, 0,
	  -ENOMEM },
	{ "mremap fixed overlap", MREMAP, A_ANON, PG(4), PG(4), 0,
	  MREMAP_MAYMOVE | MREMAP_FIXED, A_ANON + PG(2), -EINVAL },
	{ "mremap fixed unaligned", MREMAP, A_ANON, PG(4), PG(4), 0,
	  MREMAP_MAYMOVE | MREMAP_FIXED, A_HOLE + 1, -EINVAL },
	{ "mremap pfnmap grow", MREMAP, A_PFN, PG(4), PG(8), 0, MREMAP_MAYMOVE,
	  0, -EFAULT },
	{ "mremap grow in place ok", MREMAP, A_ANON, PG(4), PG(6), 0, 0, 0, 0 },
	/* madvise */
	{ "madvise unaligned", MADVISE, A_ANON + 1, PG(1), 0, 0, 0,
	  MADV_DONTNEED, -EINVAL },
	{ "madvise unknown", MADVISE, A_ANON, PG(1), 0, 0, 0, 9999, -EINVAL },
	{ "madvise hole", MADVISE, A_ANON, PG(10), 0, 0, 0, MADV_DONTNEED,
	  -ENOMEM },
	{ "madvise all hole", MADVISE, A_HOLE, PG(1), 0, 0, 0, MADV_NORMAL,
	  -ENOMEM },
	{ "madvise dontneed pfnmap", MADVISE, A_PFN, PG(1), 0, 0, 0,
	  MADV_DONTNEED, -EINVAL },
	{ "madvise remove anon", MADVISE, A_ANON, PG(1), 0, 0, 0, MADV_REMOVE,
	  -EINVAL },
	{ "madvise remove private file", MADVISE, A_PFILE, PG(1), 0, 0, 0,
	  MADV_REMOVE, -EACCES },
	{ "madvise dofork io", MADVISE, A_PFN, PG(1), 0, 0, 0, MADV_DOFORK,
	  -EINVAL },
	{ "madvise len 0", MADVISE, A_HOLE, 0, 0, 0, 0, MADV_DONTNEED, 0 },
	{ "madvise willneed", MADVISE, A_ANON, PG(4), 0, 0, 0, MADV_WILLNEED,
	  0 },
	/* fallocate / ftruncate */
	{ "fallocate collapse", FALLOCATE, 0, PG(1), 0, 0,
	  FALLOC_FL_COLLAPSE_RANGE, 0, -EOPNOTSUPP },
	{ "fallocate zero range", FALLOCATE, 0, PG(1), 0, 0,
	  FALLOC_FL_ZERO_RANGE, 0, -EOPNOTSUPP },
	{ "fallocate punch no keep", FALLOCATE, 0, PG(1), 0, 0,
	  FALLOC_FL_PUNCH_HOLE, 0, -EOPNOTSUPP },
	{ "fallocate len 0", FALLOCATE, 0, 0, 0, 0, 0, 0, -EINVAL },
	{ "fallocate punch len 0", FALLOCATE, 0, 0, 0, 0, FALLOC_PUNCH, 0,
	  -EINVAL },
	{ "fallocate negative off", FALLOCATE, 0, PG(1), 0, 0, 0,
	  (uint64_t)-PG(1), -EINVAL },
	{ "ftruncate negative", FTRUNCATE, 0, (uint64_t)-1, 0, 0, 0, 0,
	  -EINVAL },
	/* GUP */
	{ "gup no vma", GUP, A_HOLE, 0, 0, 0, 0, 0, -EFAULT },
	{ "gup prot none", GUP, A_NONE, 0, 0, 0, 0, 0, -EFAULT },
	{ "gup write ro", GUP, A_RO, 0, 0, 0, KVMMU_FOLL_WRITE, 0, -EFAULT },
	{ "gup pfnmap", GUP, A_PFN, 0, 0, 0, 0, 0, -EFAULT },
	{ "gup pfnmap ram", GUP, A_IO_RAM, 0, 0, 0, 0, 0, -EFAULT },
	{ "gup beyond eof", GUP, A_SFILE + PG(5), 0, 0, 0, 0, 0, -EFAULT },
	{ "gup nowait absent", GUP, A_NEXT, 0, 0, 0, KVMMU_FOLL_NOWAIT, 0,
	  -EAGAIN },
	{ "gup fast pfnmap", GUP_FAST, A_PFN, 0, 0, 0, 0, 0, -EAGAIN },
	{ "gup fast prot none", GUP_FAST, A_NONE, 0, 0, 0, 0, 0, -EAGAIN },
	/* follow_pfnmap */
	{ "follow not pfnmap", FOLLOW, A_ANON, 0, 0, 0, 0, 0, -EFAULT },
	{ "follow no vma", FOLLOW, A_HOLE, 0, 0, 0, 0, 0, -EFAULT },
	{ "follow write ro", FOLLOW, A_PFNRO, 0, 0, 0, 1, 0, -EACCES },
	{ "follow read ro", FOLLOW, A_PFNRO, 0, 0, 0, 0, 0, 0 },
	/* host access */
	{ "read no vma", READ, A_HOLE, 8, 0, 0, 0, 0, -EFAULT },
	{ "read prot none", READ, A_NONE, 8, 0, 0, 0, 0, -EFAULT },
	{ "read beyond eof", READ, A_SFILE + PG(4), 8, 0, 0, 0, 0, -EFAULT },
	{ "read into hole", READ, A_ANON + PG(3), PG(2), 0, 0, 0, 0, -EFAULT },
	{ "write ro", WRITE, A_RO, 8, 0, 0, 0, 0, -EFAULT },
	{ "write no vma", WRITE, A_HOLE, 8, 0, 0, 0, 0, -EFAULT },
	{ "memset prot none", MEMSET, A_NONE, 8, 0, 0, 0, 0, -EFAULT },
	{ "memset ro", MEMSET, A_RO + 8, PG(1), 0, 0, 0, 0, -EFAULT },
	/* lookups */
	{ "vma lookup hole", VMA_LOOKUP, A_HOLE, 0, 0, 0, 0, 0, -EFAULT },
	{ "page info bad pfn", PAGE_INFO, 0, 0, 0, 0, 0, DEV_ABOVE, -EINVAL },
};

static void ctx_setup(struct ctx *c)
{
	kvmmu_pfn_t g;
	bool w;
	hva_t out;

	hc_setup(&c->e);
	c->dev = kvmmu_host_device_base(c->e.host, &c->ndev);
	ASSERT_GE(c->ndev, 8);
	c->f = hc_memfd(&c->e, PG(4));
	hc_anon(c->e.mm, A_ANON, PG(4));
	hc_fill(c->e.mm, A_ANON, 4, 1);
	hc_anon(c->e.mm, A_NEXT, PG(4));
	hc_map(c->e.mm, A_RO, PG(4), PROT_READ, PA, NULL, 0);
	hc_map(c->e.mm, A_NONE, PG(4), PROT_NONE, PA, NULL, 0);
	ASSERT_OK(kvmmu_mmap_pfn(c->e.mm, A_PFN, PG(4), RW,
				 MAP_SHARED | MAP_FIXED, c->dev,
				 KVMMU_MT_DEVICE, false, &out));
	ASSERT_OK(kvmmu_mmap_pfn(c->e.mm, A_PFNRO, PG(2), PROT_READ,
				 MAP_SHARED | MAP_FIXED, c->dev + 4,
				 KVMMU_MT_DEVICE, false, &out));
	hc_map(c->e.mm, A_PFILE, PG(4), RW, MAP_PRIVATE, c->f, 0);
	hc_map(c->e.mm, A_SFILE, PG(8), RW, MAP_SHARED, c->f, 0);
	hc_anon(c->e.mm, A_TWO, PG(2));
	hc_map(c->e.mm, A_TWO + PG(2), PG(2), PROT_READ, PA, NULL, 0);
	/* a RAM frame kept by a reference, mapped as PFNMAP */
	ASSERT_OK(
		kvmmu_get_user_page(c->e.mm, A_ANON, KVMMU_FOLL_WRITE, &g, &w));
	kvmmu_put_page(c->e.host, g);
	ASSERT_OK(kvmmu_mmap_pfn(c->e.mm, A_IO_RAM, PG(1), RW,
				 MAP_SHARED | MAP_FIXED, g, KVMMU_MT_WB, false,
				 &out));
}

static long run_row(struct ctx *c, const struct row *r)
{
	struct kvmmu_mm *mm = c->e.mm;
	static uint8_t b[PG(2)];
	struct kvmmu_vma_info vi;
	struct kvmmu_page_info pi;
	enum kvmmu_memtype mt;
	kvmmu_pfn_t pfn;
	hva_t out = 0;
	bool w;
	long ret;

	switch (r->op) {
	case MMAP:
		ret = kvmmu_mmap(mm, r->addr, r->len, r->prot, r->flags,
				 r->x ? c->f : NULL, r->len2, &out);
		return ret;
	case MMAP_PFN:
		pfn = r->x == DEV_ABOVE ? c->dev + c->ndev :
		      r->x == DEV_LAST	? c->dev + c->ndev - 1 :
					  c->dev + r->x;
		return kvmmu_mmap_pfn(mm, r->addr, r->len, r->prot, r->flags,
				      pfn, KVMMU_MT_DEVICE, false, &out);
	case MUNMAP:
		return kvmmu_munmap(mm, r->addr, r->len);
	case MPROTECT:
		return kvmmu_mprotect(mm, r->addr, r->len, r->prot);
	case MREMAP:
		return kvmmu_mremap(mm, r->addr, r->len, r->len2, r->flags,
				    r->x, &out);
	case MADVISE:
		return kvmmu_madvise(mm, r->addr, r->len, (int)r->x);
	case FALLOCATE:
		return kvmmu_fallocate(c->f, r->flags, r->x, r->len);
	case FTRUNCATE:
		return kvmmu_ftruncate(c->f, r->len);
	case GUP:
	case GUP_FAST:
		if (r->op == GUP)
			ret = kvmmu_get_user_page(mm, r->addr, r->flags, &pfn,
						  &w);
		else
			ret = kvmmu_get_user_page_fast_only(mm, r->addr,
							    r->flags, &pfn, &w);
		if (!ret)
			kvmmu_put_page(c->e.host, pfn);
		return ret;
	case FOLLOW:
		return kvmmu_follow_pfnmap(mm, r->addr, r->flags, &pfn, &w,
					   &mt);
	case READ:
		return kvmmu_mm_read(mm, r->addr, b, r->len);
	case WRITE:
		return kvmmu_mm_write(mm, r->addr, b, r->len);
	case MEMSET:
		return kvmmu_mm_memset(mm, r->addr, 0x33, r->len);
	case VMA_LOOKUP:
		return kvmmu_vma_lookup(mm, r->addr, &vi);
	case PAGE_INFO:
		return kvmmu_page_info(c->e.host, c->dev + c->ndev, &pi);
	}
	return -ENOSYS;
}

TEST(errno_table)
{
	unsigned int i, bad = 0;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];
		struct ctx c;
		long ret;

		memset(&c, 0, sizeof(c));
		ctx_setup(&c);
		ret = run_row(&c, r);
		if (ret != r->want) {
			printf("# row %u \"%s\": returned %s", i, r->name,
			       test_errname(ret));
			printf(", expected %s\n", test_errname(r->want));
			bad++;
		}
		/* the layout is unchanged by a failed call */
		if (r->want && r->op != MPROTECT && r->op != MADVISE) {
			EXPECT_EQ(kvmmu_mm_nr_vmas(c.e.mm), 11);
			hc_check_fill(c.e.mm, A_ANON, 4, 1);
		}
		hc_teardown(&c.e);
		if (test_failed) {
			printf("# after row %u \"%s\"\n", i, r->name);
			break;
		}
	}
	TEST_LOG("%zu rows, %u wrong", ARRAY_SIZE(rows), bad);
	ASSERT_EQ(bad, 0);
}

/* Linux ignores unknown prot bits in mmap (only mprotect checks them). */
TEST(mmap_unknown_prot_bits_note)
{
	struct hc_env e;
	hva_t out;
	int ret;

	hc_setup(&e);
	ret = kvmmu_mmap(e.mm, 0, PG(1), PROT_READ | 0x100, PA, NULL, 0, &out);
	TEST_LOG("mmap(PROT_READ | 0x100) returned %s (Linux: 0)",
		 test_errname(ret));
	EXPECT_TRUE(ret == 0 || ret == -EINVAL);
	hc_teardown(&e);
}

static const struct kvmmu_mmu_notifier_ops no_ops;

TEST(notifier_register_errors)
{
	struct kvmmu_mmu_notifier none = { .ops = NULL }, empty = { &no_ops };
	struct hc_sub s, late;
	struct kvmmu_mm *mm2;
	struct hc_env e;

	hc_setup(&e);
	ASSERT_ERRNO(kvmmu_mmu_notifier_register(&none, e.mm), -EINVAL);
	hc_sub_register(&e, &s, e.mm);
	ASSERT_ERRNO(kvmmu_mmu_notifier_register(&s.mn, e.mm), -EINVAL);
	/* an ops table with every op NULL is allowed */
	ASSERT_OK(kvmmu_mmu_notifier_register(&empty, e.mm));
	hc_anon(e.mm, A_ANON, PG(1));
	hc_fill(e.mm, A_ANON, 1, 1);
	ASSERT_OK(kvmmu_munmap(e.mm, A_ANON, PG(1)));
	kvmmu_mmu_notifier_unregister(&empty, e.mm);
	/* an exited mm */
	mm2 = hc_mm_new(&e);
	kvmmu_mmgrab(mm2);
	hc_mmput(&e, mm2);
	hc_sub_init(&late);
	ASSERT_ERRNO(kvmmu_mmu_notifier_register(&late.mn, mm2), -ESRCH);
	ASSERT_FALSE(kvmmu_mmget_not_zero(mm2));
	kvmmu_mmdrop(mm2);
	hc_teardown(&e);
}

TEST(host_create_and_destroy_errors)
{
	struct kvmmu_host_config cfg = { .ram_bytes = PG(16) + 100 };
	struct kvmmu_host *h = NULL;
	struct kvmmu_mm *mm;
	struct kvmmu_file *f;

	ASSERT_ERRNO(kvmmu_host_create(&cfg, &h), -EINVAL);
	cfg.ram_bytes = (64ULL << 30) + PG(1);
	ASSERT_ERRNO(kvmmu_host_create(&cfg, &h), -EINVAL);
	cfg.ram_bytes = 4ULL << 20;
	ASSERT_OK(kvmmu_host_create(&cfg, &h));
	ASSERT_EQ(kvmmu_host_nr_frames(h), 1024);
	ASSERT_PTR_EQ(kvmmu_pfn_to_virt(h, KVMMU_INVALID_PFN), NULL);
	ASSERT_OK(kvmmu_mm_create(h, &mm));
	ASSERT_ERRNO(kvmmu_host_destroy(h), -EBUSY);
	kvmmu_mmput(mm);
	ASSERT_OK(kvmmu_memfd_create(h, "x", &f));
	ASSERT_ERRNO(kvmmu_host_destroy(h), -EBUSY);
	kvmmu_file_put(f);
	ASSERT_EQ(kvmmu_warn_count(), 0);
	ASSERT_OK(kvmmu_host_destroy(h));
}

TEST(out_of_frames)
{
	struct kvmmu_host_audit a;
	struct hc_env e;
	uint64_t nr, i, ok = 0;
	hva_t base = A_ANON, out;
	kvmmu_pfn_t g;
	bool w;
	int ret = 0;

	hc_setup_ram(&e, 1ULL << 20); /* 256 frames */
	nr = kvmmu_host_nr_frames(e.host);
	ASSERT_EQ(nr, 256);
	hc_anon(e.mm, base, PG(2 * nr));
	for (i = 0; i < 2 * nr; i++) {
		ret = kvmmu_mm_memset(e.mm, base + PG(i), 0x5c, PAGE_SIZE);
		if (ret)
			break;
		ok++;
	}
	TEST_LOG("%" PRIu64 " of %" PRIu64 " pages written, then %s", ok,
		 2 * nr, test_errname(ret));
	ASSERT_TRUE(ret == -ENOMEM || ret == -EFAULT);
	ASSERT_GT(ok, nr / 2);
	ASSERT_LT(ok, nr);
	/* everything written so far is intact */
	for (i = 0; i < ok; i += 17)
		hc_check_page(e.mm, base + PG(i), 0x5c);
	ASSERT_ERRNO(kvmmu_get_user_page(e.mm, base + PG(ok), KVMMU_FOLL_WRITE,
					 &g, &w),
		     -ENOMEM);
	ASSERT_ERRNO(kvmmu_mmap(e.mm, 0, PG(nr), RW, PA | MAP_POPULATE, NULL, 0,
				&out),
		     -ENOMEM);
	memset(&a, 0, sizeof(a));
	ASSERT_OK(kvmmu_host_audit(e.host, &a));
	ASSERT_EQ(a.bad, 0);
	/* give some back: writes work again */
	ASSERT_OK(kvmmu_munmap(e.mm, base, PG(64)));
	hc_fill(e.mm, base + PG(ok), 32, 3);
	hc_check_fill(e.mm, base + PG(ok), 32, 3);
	/* a memfd runs out cleanly, too */
	{
		struct kvmmu_file *f = hc_memfd(&e, 0);

		ret = kvmmu_fallocate(f, 0, 0, PG(nr));
		ASSERT_ERRNO(ret, -ENOMEM);
	}
	/* the warning count must stay 0: running out is not a bug */
	hc_teardown(&e);
}

/* COW with no frame left: the write fails, nobody's data changes. */
TEST(out_of_frames_cow)
{
	struct kvmmu_mm *child;
	struct hc_env e;
	uint64_t i, ok = 0;
	int ret = 0;

	hc_setup_ram(&e, 1ULL << 20); /* 256 frames */
	hc_anon(e.mm, A_ANON, PG(200));
	hc_fill(e.mm, A_ANON, 200, 5);
	child = hc_fork(&e, e.mm);
	for (i = 0; i < 200; i++) {
		ret = kvmmu_mm_memset(child, A_ANON + PG(i), 0x2e, PAGE_SIZE);
		if (ret)
			break;
		ok++;
	}
	TEST_LOG("%" PRIu64 " COW copies, then %s", ok, test_errname(ret));
	ASSERT_TRUE(ret == -ENOMEM || ret == -EFAULT);
	ASSERT_LT(ok, 200);
	hc_check_fill(e.mm, A_ANON, 200, 5);
	for (i = 0; i < 200; i++)
		hc_check_page(child, A_ANON + PG(i),
			      i < ok ? 0x2e : hc_pat(5, (unsigned int)i));
	hc_mmput(&e, child);
	/* the parent reuses its frames now, no allocation needed */
	hc_fill(e.mm, A_ANON, 200, 6);
	hc_check_fill(e.mm, A_ANON, 200, 6);
	hc_teardown(&e);
}

TEST_HARNESS_MAIN
