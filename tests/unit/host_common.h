/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the host-layer (primary MMU) tests.
 *
 * struct hc_env owns a host and remembers every mm, file and subscriber a
 * test creates, so that hc_teardown() can put them all and then check the
 * acceptance conditions every test ends with: the frame audit is clean (no
 * frame in use, none bad, no live mm or file), no WARN fired, and the host
 * can be destroyed.  The recording subscriber is in host_recorder.h.
 */
#ifndef KVMMU_TESTS_HOST_COMMON_H
#define KVMMU_TESTS_HOST_COMMON_H

#include <kvmmu/host.h>
#include <kvmmu/log.h>
#include <kvmmu/rng.h>
#include <kvmmu/stats.h>
#include "harness.h"
#include "host_recorder.h"

#define HC_RAM	     (64ULL << 20)
#define HC_MAX_MMS   16
#define HC_MAX_FILES 8
#define HC_MAX_SUBS  8

#define PG(n) ((hva_t)(n)*PAGE_SIZE)

struct hc_env {
	struct kvmmu_host *host;
	struct kvmmu_mm *mm; /* the first mm, created by hc_setup() */
	struct kvmmu_mm *mms[HC_MAX_MMS];
	struct kvmmu_file *files[HC_MAX_FILES];
	struct hc_sub *subs[HC_MAX_SUBS];
};

/* --- environment ----------------------------------------------------------- */

static inline void hc_track_mm(struct hc_env *e, struct kvmmu_mm *mm)
{
	unsigned int i;

	for (i = 0; i < HC_MAX_MMS; i++)
		if (!e->mms[i]) {
			e->mms[i] = mm;
			return;
		}
	ASSERT_TRUE(!"too many mms");
}

static inline void hc_setup_ram(struct hc_env *e, uint64_t ram)
{
	struct kvmmu_host_config cfg = { .ram_bytes = ram,
					 .device_bytes = 16ULL << 20 };

	memset(e, 0, sizeof(*e));
	kvmmu_warn_reset();
	ASSERT_OK(kvmmu_host_create(&cfg, &e->host));
	ASSERT_OK(kvmmu_mm_create(e->host, &e->mm));
	hc_track_mm(e, e->mm);
}

static inline void hc_setup(struct hc_env *e)
{
	hc_setup_ram(e, HC_RAM);
}

static inline struct kvmmu_mm *hc_mm_new(struct hc_env *e)
{
	struct kvmmu_mm *mm;

	ASSERT_OK(kvmmu_mm_create(e->host, &mm));
	hc_track_mm(e, mm);
	return mm;
}

static inline struct kvmmu_mm *hc_fork(struct hc_env *e, struct kvmmu_mm *mm)
{
	struct kvmmu_mm *child = NULL;

	ASSERT_OK(kvmmu_fork(mm, &child));
	ASSERT_PTR_NE(child, NULL);
	hc_track_mm(e, child);
	return child;
}

/* The last user reference goes now (mm teardown), not in hc_teardown(). */
static inline void hc_mmput(struct hc_env *e, struct kvmmu_mm *mm)
{
	unsigned int i;

	for (i = 0; i < HC_MAX_MMS; i++)
		if (e->mms[i] == mm) {
			e->mms[i] = NULL;
			kvmmu_mmput(mm);
			return;
		}
	ASSERT_TRUE(!"mmput of an untracked mm");
}

static inline struct kvmmu_file *hc_memfd(struct hc_env *e, uint64_t size)
{
	struct kvmmu_file *f;
	unsigned int i;

	ASSERT_OK(kvmmu_memfd_create(e->host, "hc", &f));
	if (size)
		ASSERT_OK(kvmmu_ftruncate(f, size));
	for (i = 0; i < HC_MAX_FILES; i++)
		if (!e->files[i]) {
			e->files[i] = f;
			return f;
		}
	ASSERT_TRUE(!"too many files");
	return NULL;
}

static inline void hc_sub_register(struct hc_env *e, struct hc_sub *s,
				   struct kvmmu_mm *mm)
{
	unsigned int i;

	hc_sub_init(s);
	s->host = e->host;
	s->mm = mm;
	ASSERT_OK(kvmmu_mmu_notifier_register(&s->mn, mm));
	s->registered = true;
	for (i = 0; i < HC_MAX_SUBS; i++)
		if (!e->subs[i]) {
			e->subs[i] = s;
			return;
		}
	ASSERT_TRUE(!"too many subscribers");
}

static inline void hc_sub_unregister(struct hc_sub *s)
{
	if (!s->registered)
		return;
	s->registered = false;
	kvmmu_mmu_notifier_unregister(&s->mn, s->mm);
}

/* --- teardown: acceptance point 5 -------------------------------------------- */

static inline void hc_teardown(struct hc_env *e)
{
	struct kvmmu_host_audit a;
	unsigned int i;
	int ret;

	for (i = 0; i < HC_MAX_MMS; i++)
		if (e->mms[i]) {
			kvmmu_mmput(e->mms[i]);
			e->mms[i] = NULL;
		}
	for (i = 0; i < HC_MAX_SUBS; i++)
		if (e->subs[i]) {
			hc_sub_unregister(e->subs[i]);
			EXPECT_EQ(e->subs[i]->depth, 0);
			e->subs[i] = NULL;
		}
	for (i = 0; i < HC_MAX_FILES; i++)
		if (e->files[i]) {
			kvmmu_file_put(e->files[i]);
			e->files[i] = NULL;
		}
	memset(&a, 0, sizeof(a));
	ret = kvmmu_host_audit(e->host, &a);
	EXPECT_OK(ret);
	EXPECT_EQ(a.in_use, 0);
	EXPECT_EQ(a.bad, 0);
	EXPECT_EQ(a.mms, 0);
	EXPECT_EQ(a.files, 0);
	EXPECT_EQ(kvmmu_warn_count(), 0);
	ASSERT_OK(kvmmu_host_destroy(e->host));
	e->host = NULL;
}

/* --- small helpers ----------------------------------------------------------- */

static inline hva_t hc_map(struct kvmmu_mm *mm, hva_t addr, size_t len,
			   int prot, int flags, struct kvmmu_file *f,
			   uint64_t off)
{
	hva_t out = 0;

	if (addr)
		flags |= MAP_FIXED_NOREPLACE;
	ASSERT_OK(kvmmu_mmap(mm, addr, len, prot, flags, f, off, &out));
	if (addr)
		ASSERT_EQ(out, addr);
	return out;
}

static inline hva_t hc_anon(struct kvmmu_mm *mm, hva_t addr, size_t len)
{
	return hc_map(mm, addr, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
}

/* Fill page @i of [addr, addr + n pages) with a byte derived from (tag, i). */
static inline uint8_t hc_pat(unsigned int tag, unsigned int i)
{
	return (uint8_t)(tag * 37 + i * 11 + 1);
}

static inline void hc_fill(struct kvmmu_mm *mm, hva_t addr, unsigned int n,
			   unsigned int tag)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		ASSERT_OK(kvmmu_mm_memset(mm, addr + PG(i), hc_pat(tag, i),
					  PAGE_SIZE));
}

/* Page @i of @addr holds the byte @c throughout. */
static inline void hc_check_page(struct kvmmu_mm *mm, hva_t addr, int c)
{
	static uint8_t buf[PAGE_SIZE], want[PAGE_SIZE];

	memset(want, c, sizeof(want));
	ASSERT_OK(kvmmu_mm_read(mm, addr, buf, PAGE_SIZE));
	ASSERT_MEMEQ(buf, want, PAGE_SIZE);
}

static inline void hc_check_fill(struct kvmmu_mm *mm, hva_t addr,
				 unsigned int n, unsigned int tag)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		hc_check_page(mm, addr + PG(i), hc_pat(tag, i));
}

static inline struct kvmmu_pte_info hc_pte(struct kvmmu_mm *mm, hva_t hva)
{
	struct kvmmu_pte_info p;

	memset(&p, 0, sizeof(p));
	ASSERT_OK(kvmmu_mm_lookup_pte(mm, hva, &p));
	return p;
}

/* Not mapped: no page table, or a non-present PTE. */
static inline bool hc_pte_absent(struct kvmmu_mm *mm, hva_t hva)
{
	struct kvmmu_pte_info p;

	memset(&p, 0, sizeof(p));
	if (kvmmu_mm_lookup_pte(mm, hva, &p))
		return true;
	return !p.present;
}

static inline struct kvmmu_page_info hc_page(struct kvmmu_host *h,
					     kvmmu_pfn_t pfn)
{
	struct kvmmu_page_info pi;

	memset(&pi, 0, sizeof(pi));
	ASSERT_OK(kvmmu_page_info(h, pfn, &pi));
	return pi;
}

static inline uint64_t hc_stat(struct kvmmu_host *h, const char *name)
{
	uint64_t v = 0;

	ASSERT_OK(kvmmu_stats_get(kvmmu_host_stats(h), name, &v));
	return v;
}

#endif /* KVMMU_TESTS_HOST_COMMON_H */
