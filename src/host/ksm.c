// SPDX-License-Identifier: MIT
/*
 * KSM, on demand: kvmmu_ksm_merge() does for one range what ksmd does in
 * the background — find private anonymous pages with identical contents in
 * MADV_MERGEABLE VMAs and make them share one write-protected frame.
 *
 * There is no stable/unstable tree: the range's candidates are hashed and
 * sorted, and each group of identical pages merges into the group's KSM
 * frame if it has one, else into its first page.  Every page of a group,
 * the surviving one included, is write-protected under a CLEAR
 * invalidation of its own address, so a secondary MMU drops any writable
 * mapping of it; the contents are compared again after the protection
 * (a write may have raced with the hashing).  The frame is marked
 * KVMMU_PG_KSM, which makes the next write fault copy it (do_wp_page()).
 *
 * Models: mm/ksm.c cmp_and_merge_page(), try_to_merge_one_page(),
 * write_protect_page(), replace_page()
 */
#include <stdlib.h>

#include "internal.h"

struct ksm_item {
	hva_t addr;
	kvmmu_pfn_t pfn;
	uint64_t hash;
};

struct ksm_scan {
	struct kvmmu_host *host;
	struct ksm_item *a;
	size_t n, cap;
};

static uint64_t ksm_hash(const void *page)
{
	const uint64_t *w = page;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < PAGE_SIZE / 8; i++)
		h = (h ^ __atomic_load_n(&w[i], __ATOMIC_RELAXED)) *
		    0x100000001b3ull;
	return h;
}

static bool ksm_same(struct kvmmu_host *h, kvmmu_pfn_t a, kvmmu_pfn_t b)
{
	return a == b ||
	       !memcmp(host_pfn_virt(h, a), host_pfn_virt(h, b), PAGE_SIZE);
}

static int ksm_add(struct ksm_scan *s, hva_t addr, kvmmu_pfn_t pfn)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct ksm_item *a = realloc(s->a, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		s->a = a;
		s->cap = cap;
	}
	s->a[s->n++] = (struct ksm_item){
		.addr = addr,
		.pfn = pfn,
		.hash = ksm_hash(host_pfn_virt(s->host, pfn)),
	};
	return 0;
}

/* The frame of a mergeable page at @addr, or HOST_PFN_NONE. */
static kvmmu_pfn_t ksm_page_at(struct kvmmu_mm *mm, hva_t addr)
{
	struct pt_page *pt;
	uint64_t *ptep = host_pte_offset(mm, addr, false, &pt), pte;
	kvmmu_pfn_t pfn;

	if (!ptep)
		return HOST_PFN_NONE;
	pte = __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
	if (!pte_present(pte) || (pte & (PTE_PROTNONE | PTE_SPECIAL)))
		return HOST_PFN_NONE;
	pfn = pte_pfn(pte);
	if (!host_pfn_counted(mm->host, pfn) ||
	    !(host_page_flags(mm->host, pfn) & (KVMMU_PG_ANON | KVMMU_PG_KSM)))
		return HOST_PFN_NONE;
	return pfn;
}

static int ksm_collect(struct kvmmu_mm *mm, hva_t start, hva_t end,
		       struct ksm_scan *s) REQUIRES_SHARED(mm->mmap_lock)
{
	struct host_vma *v;
	hva_t a;
	int r;

	for (v = host_find_vma_after(mm, start); v && v->start < end;
	     v = host_vma_next(v)) {
		if (!(v->flags & VM_MERGEABLE) ||
		    (v->flags & (VM_SHARED | VM_PFNMAP)))
			continue;
		for (a = max(start, v->start); a < min(end, v->end);
		     a += PAGE_SIZE) {
			kvmmu_pfn_t pfn = ksm_page_at(mm, a);

			if (pfn == HOST_PFN_NONE)
				continue;
			r = ksm_add(s, a, pfn);
			if (r)
				return r;
		}
	}
	return 0;
}

static int ksm_cmp_hash(const void *x, const void *y)
{
	const struct ksm_item *a = x, *b = y;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/*
 * Write-protect the page at @it and, if it still holds the same bytes as
 * @kpage, map @kpage there instead.  Return: true if @it now maps @kpage.
 */
static bool ksm_merge_one(struct kvmmu_mm *mm, const struct ksm_item *it,
			  kvmmu_pfn_t kpage, struct host_gather *g)
{
	struct kvmmu_host *h = mm->host;
	struct kvmmu_mmu_notifier_range range;
	struct pt_page *pt;
	uint64_t *ptep, pte;
	bool merged = false;

	host_mn_range_init(&range, KVMMU_MMU_NOTIFY_CLEAR, mm, it->addr,
			   it->addr + PAGE_SIZE);
	host_mn_invalidate_range_start(&range);
	ptep = host_pte_offset(mm, it->addr, false, &pt);
	if (!ptep)
		goto out;
	kvmmu_spin_lock(&pt->ptl);
	pte = __atomic_load_n(ptep, __ATOMIC_RELAXED);
	/* Gone, replaced, or pinned by a GUP in flight: leave it. */
	if (!pte_present(pte) || pte_pfn(pte) != it->pfn ||
	    host_page_refcount(h, it->pfn) != host_page_mapcount(h, it->pfn))
		goto unlock;
	/* write_protect_page(): no more writes through this PTE. */
	pte &= ~PTE_WRITE;
	__atomic_store_n(ptep, pte, __ATOMIC_RELEASE);
	if (it->pfn == kpage) {
		host_page_set_flags(h, kpage, KVMMU_PG_KSM);
		merged = true;
	} else if (ksm_same(h, it->pfn, kpage)) {
		/* replace_page() */
		kvmmu_get_page(h, kpage);
		host_page_mapcount_inc(h, kpage);
		__atomic_store_n(
			ptep, pfn_pte(kpage, pte & (PTE_YOUNG | PTE_MT_MASK)),
			__ATOMIC_RELEASE);
		host_page_mapcount_dec(h, it->pfn);
		host_gather_add(g, it->pfn);
		merged = true;
	}
unlock:
	kvmmu_spin_unlock(&pt->ptl);
out:
	host_mn_invalidate_range_end(&range);
	return merged;
}

/* Merge the group a[0..n): into its KSM frame if it has one. */
static void ksm_merge_group(struct kvmmu_mm *mm, struct ksm_item *a, size_t n,
			    struct host_gather *g)
{
	kvmmu_pfn_t kpage = a[0].pfn;
	size_t i;

	for (i = 0; i < n; i++)
		if (host_page_flags(mm->host, a[i].pfn) & KVMMU_PG_KSM) {
			kpage = a[i].pfn;
			break;
		}
	/* The KSM frame itself first: it must be protected before others
	 * are compared with it. */
	for (i = 0; i < n; i++)
		if (a[i].pfn == kpage && !ksm_merge_one(mm, &a[i], kpage, g))
			return;
	for (i = 0; i < n; i++)
		if (a[i].pfn != kpage)
			ksm_merge_one(mm, &a[i], kpage, g);
}

static int ksm_cmp_pfn(const void *x, const void *y)
{
	kvmmu_pfn_t a = *(const kvmmu_pfn_t *)x, b = *(const kvmmu_pfn_t *)y;

	return a < b ? -1 : a > b;
}

/* Pages of the scanned range that share their frame with another. */
static int ksm_count_shared(struct kvmmu_mm *mm, struct ksm_scan *s)
{
	kvmmu_pfn_t *p = malloc((s->n ? s->n : 1) * sizeof(*p));
	size_t i, j, n = 0;
	int shared = 0;

	if (!p)
		return -ENOMEM;
	for (i = 0; i < s->n; i++) {
		kvmmu_pfn_t pfn = ksm_page_at(mm, s->a[i].addr);

		if (pfn != HOST_PFN_NONE)
			p[n++] = pfn;
	}
	qsort(p, n, sizeof(*p), ksm_cmp_pfn);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && p[j] == p[i]; j++)
			;
		if (j - i > 1)
			shared += (int)(j - i);
	}
	free(p);
	return shared;
}

int kvmmu_ksm_merge(struct kvmmu_mm *mm, hva_t addr, size_t len)
{
	struct ksm_scan s = { .host = mm->host };
	struct host_gather g;
	size_t i, j, k;
	int r;

	if ((addr | len) & ~PAGE_MASK || addr + len < addr)
		return -EINVAL;
	host_gather_init(&g);
	kvmmu_read_lock(&mm->mmap_lock);
	r = ksm_collect(mm, addr, addr + len, &s);
	if (!r && s.n)
		qsort(s.a, s.n, sizeof(*s.a), ksm_cmp_hash);
	for (i = 0; !r && i < s.n; i = j) {
		for (j = i + 1; j < s.n && s.a[j].hash == s.a[i].hash; j++)
			;
		/* Within one hash, sort out the (unlikely) collisions. */
		for (k = i; k < j; k++) {
			size_t m = k + 1, e;

			for (e = k + 1; e < j; e++)
				if (ksm_same(mm->host, s.a[k].pfn,
					     s.a[e].pfn)) {
					struct ksm_item t = s.a[m];

					s.a[m++] = s.a[e];
					s.a[e] = t;
				}
			if (m - k > 1)
				ksm_merge_group(mm, &s.a[k], m - k, &g);
			k = m - 1;
		}
	}
	if (!r)
		r = ksm_count_shared(mm, &s);
	kvmmu_read_unlock(&mm->mmap_lock);
	host_gather_flush(mm->host, &g);
	free(s.a);
	return r;
}
