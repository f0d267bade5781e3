// SPDX-License-Identifier: MIT
/*
 * Host page faults, PTE zapping, and user accesses.
 *
 * Faults run under the mmap_lock held for read and change a PTE only under
 * its table's PTL, after re-checking that the PTE is still what the
 * decision was based on (pte_same).  A COW copy is bracketed by a CLEAR
 * invalidation of the one page: started while the old frame is still
 * mapped and referenced, ended after the new PTE is in place, and the old
 * frame's reference dropped only after that.
 *
 * User accesses copy bytes with the PTL held, so a write cannot land in a
 * frame after a concurrent fork, COW break or zap changed the PTE: on real
 * hardware that is what the TLB flush before those operations return
 * guarantees.
 *
 * Models: mm/memory.c handle_mm_fault(), do_anonymous_page(),
 * do_wp_page()/wp_page_copy()/wp_page_reuse(), do_read_fault(),
 * do_cow_fault(), do_shared_fault(), zap_pte_range()
 */
#include "internal.h"

static inline uint64_t pte_load(uint64_t *ptep)
{
	return __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
}

/* PTE stores are releases: the frame's contents are visible before it. */
static inline void pte_store(uint64_t *ptep, uint64_t pte)
{
	kvmmu_sched_point(KVMMU_SP_STORE, ptep);
	__atomic_store_n(ptep, pte, __ATOMIC_RELEASE);
}

static void vma_note_anon(struct kvmmu_mm *mm, struct host_vma *v)
{
	/* Benign race between faulting readers: any non-zero id will do. */
	if (!__atomic_load_n(&v->anon_vma, __ATOMIC_RELAXED)) {
		uint64_t zero = 0;

		__atomic_compare_exchange_n(&v->anon_vma, &zero,
					    host_new_anon_vma(mm->host), false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
}

/* do_anonymous_page(): an empty PTE in a private anonymous VMA. */
static int do_anonymous_page(struct kvmmu_mm *mm, struct host_vma *v,
			     hva_t addr, uint64_t *ptep, struct pt_page *pt,
			     bool write)
{
	struct kvmmu_host *h = mm->host;
	kvmmu_pfn_t pfn;

	if (!write) {
		kvmmu_spin_lock(&pt->ptl);
		if (!pte_present(pte_load(ptep))) {
			pte_store(ptep, pfn_pte(HOST_ZERO_PFN, PTE_YOUNG));
			host_stat_inc(h, HS_ZERO_FAULT);
		}
		kvmmu_spin_unlock(&pt->ptl);
		return 0;
	}
	pfn = host_alloc_page(h, KVMMU_PG_ANON, true);
	if (pfn == HOST_PFN_NONE)
		return -ENOMEM;
	vma_note_anon(mm, v);
	kvmmu_spin_lock(&pt->ptl);
	if (pte_present(pte_load(ptep))) {
		kvmmu_spin_unlock(&pt->ptl);
		kvmmu_put_page(h, pfn); /* somebody else filled it */
		return 0;
	}
	host_page_mapcount_inc(h, pfn);
	pte_store(ptep, pfn_pte(pfn, PTE_WRITE | PTE_YOUNG | PTE_DIRTY));
	kvmmu_spin_unlock(&pt->ptl);
	return 0;
}

/* wp_page_copy(): replace the frame of a write-protected private PTE. */
static int wp_page_copy(struct kvmmu_mm *mm, struct host_vma *v, hva_t addr,
			uint64_t *ptep, struct pt_page *pt, uint64_t orig)
{
	struct kvmmu_host *h = mm->host;
	kvmmu_pfn_t old = pte_pfn(orig), pfn;
	struct kvmmu_mmu_notifier_range range;
	bool replaced = false;

	/* The caller took a reference on @old under the PTL. */
	pfn = host_alloc_page(h, KVMMU_PG_ANON, old == HOST_ZERO_PFN);
	if (pfn == HOST_PFN_NONE) {
		kvmmu_put_page(h, old);
		return -ENOMEM;
	}
	if (old != HOST_ZERO_PFN)
		memcpy(host_pfn_virt(h, pfn), kvmmu_pfn_to_virt(h, old),
		       PAGE_SIZE);
	vma_note_anon(mm, v);

	host_mn_range_init(&range, KVMMU_MMU_NOTIFY_CLEAR, mm, addr,
			   addr + PAGE_SIZE);
	host_mn_invalidate_range_start(&range);
	kvmmu_spin_lock(&pt->ptl);
	if (pte_load(ptep) == orig) {
		host_page_mapcount_inc(h, pfn);
		pte_store(ptep,
			  pfn_pte(pfn, PTE_WRITE | PTE_YOUNG | PTE_DIRTY));
		host_page_mapcount_dec(h, old);
		replaced = true;
	}
	kvmmu_spin_unlock(&pt->ptl);
	host_mn_invalidate_range_end(&range);

	if (replaced) {
		host_stat_inc(h, HS_COW_COPY);
		kvmmu_put_page(h, old); /* the old mapping's reference */
	} else {
		kvmmu_put_page(h, pfn);
	}
	kvmmu_put_page(h, old); /* ours */
	return 0;
}

/* do_wp_page(): write to a present, write-protected PTE. */
static int do_wp_page(struct kvmmu_mm *mm, struct host_vma *v, hva_t addr,
		      uint64_t *ptep, struct pt_page *pt)
{
	struct kvmmu_host *h = mm->host;
	uint64_t pte;
	kvmmu_pfn_t pfn;

	kvmmu_spin_lock(&pt->ptl);
	pte = pte_load(ptep);
	if (!pte_present(pte) || pte_write(pte)) {
		kvmmu_spin_unlock(&pt->ptl);
		return 0; /* changed under us: retry */
	}
	pfn = pte_pfn(pte);
	if ((v->flags & VM_SHARED) || (pte & PTE_SPECIAL)) {
		/* Shared mappings are just made writable (wp_page_shared). */
		pte_store(ptep, pte | PTE_WRITE | PTE_DIRTY | PTE_YOUNG);
		kvmmu_spin_unlock(&pt->ptl);
		return 0;
	}
	if (pfn != HOST_ZERO_PFN &&
	    (host_page_flags(h, pfn) & (KVMMU_PG_ANON | KVMMU_PG_KSM)) ==
		    KVMMU_PG_ANON &&
	    host_page_refcount(h, pfn) == 1 &&
	    host_page_mapcount(h, pfn) == 1) {
		/* wp_page_reuse(): we are the only user, keep the frame. */
		pte_store(ptep, pte | PTE_WRITE | PTE_DIRTY | PTE_YOUNG);
		kvmmu_spin_unlock(&pt->ptl);
		host_stat_inc(h, HS_PGREUSE);
		return 0;
	}
	kvmmu_get_page(h, pfn);
	kvmmu_spin_unlock(&pt->ptl);
	return wp_page_copy(mm, v, addr, ptep, pt, pte);
}

/* A not-present PTE in a file (shmem) mapping, shared or private. */
static int do_file_fault(struct kvmmu_mm *mm, struct host_vma *v, hva_t addr,
			 uint64_t *ptep, struct pt_page *pt, bool write)
{
	struct kvmmu_host *h = mm->host;
	uint64_t index = vma_pgoff_of(v, addr), bits = PTE_YOUNG;
	kvmmu_pfn_t pfn;
	int r;

	r = host_shmem_get_page(v->file, index, true, &pfn);
	if (r)
		return r;
	if (write && !(v->flags & VM_SHARED)) {
		/* do_cow_fault(): private write gets its own copy at once. */
		kvmmu_pfn_t copy = host_alloc_page(h, KVMMU_PG_ANON, false);

		if (copy == HOST_PFN_NONE) {
			kvmmu_put_page(h, pfn);
			return -ENOMEM;
		}
		memcpy(host_pfn_virt(h, copy), host_pfn_virt(h, pfn),
		       PAGE_SIZE);
		kvmmu_put_page(h, pfn);
		vma_note_anon(mm, v);
		kvmmu_spin_lock(&pt->ptl);
		if (pte_present(pte_load(ptep))) {
			kvmmu_spin_unlock(&pt->ptl);
			kvmmu_put_page(h, copy);
			return 0;
		}
		host_page_mapcount_inc(h, copy);
		pte_store(ptep,
			  pfn_pte(copy, PTE_WRITE | PTE_YOUNG | PTE_DIRTY));
		kvmmu_spin_unlock(&pt->ptl);
		return 0;
	}
	if ((v->flags & (VM_SHARED | VM_WRITE)) == (VM_SHARED | VM_WRITE))
		bits |= PTE_WRITE | (write ? PTE_DIRTY : 0);
	kvmmu_spin_lock(&pt->ptl);
	/* Truncation removes pages under cache_lock: re-check under PTL. */
	if (pte_present(pte_load(ptep)) ||
	    !host_shmem_page_valid(v->file, index, pfn)) {
		kvmmu_spin_unlock(&pt->ptl);
		kvmmu_put_page(h, pfn);
		return 0;
	}
	host_page_mapcount_inc(h, pfn);
	pte_store(ptep, pfn_pte(pfn, bits)); /* our reference is the map's */
	kvmmu_spin_unlock(&pt->ptl);
	return 0;
}

int host_handle_fault(struct kvmmu_mm *mm, struct host_vma *v, hva_t addr,
		      bool write)
{
	struct pt_page *pt;
	uint64_t *ptep, pte;

	lockdep_assert_held_read(&mm->mmap_lock);
	addr = ALIGN_DOWN(addr, PAGE_SIZE);
	if (write ? !(v->flags & VM_WRITE) : !vma_readable(v))
		return -EFAULT;
	host_stat_inc(mm->host, HS_PGFAULT);
	ptep = host_pte_offset(mm, addr, true, &pt);
	if (!ptep)
		return -ENOMEM;
	pte = pte_load(ptep);
	if (v->flags & VM_PFNMAP) {
		/* remap_pfn_range() populated everything at mmap time. */
		return pte_access_ok(pte, write) ? 0 : -EFAULT;
	}
	if (!pte_present(pte)) {
		if (v->file)
			return do_file_fault(mm, v, addr, ptep, pt, write);
		return do_anonymous_page(mm, v, addr, ptep, pt, write);
	}
	if (pte & PTE_PROTNONE)
		return -EFAULT; /* mprotect(PROT_NONE) still in effect */
	if (write && !pte_write(pte))
		return do_wp_page(mm, v, addr, ptep, pt);
	return 0; /* spurious: somebody already fixed it */
}

struct zap_args {
	struct kvmmu_mm *mm;
	const struct host_zap_filter *filter;
	struct host_gather *g;
	unsigned long zapped;
};

static void zap_leaf(struct pt_page *pt, unsigned int from, unsigned int to,
		     hva_t base, void *arg)
{
	struct zap_args *a = arg;
	struct kvmmu_host *h = a->mm->host;
	const struct host_zap_filter *f = a->filter;
	unsigned int i;

	kvmmu_spin_lock(&pt->ptl);
	for (i = from; i < to; i++) {
		uint64_t pte = pte_load(&pt->ent[i]);
		kvmmu_pfn_t pfn;

		if (!pte_present(pte))
			continue;
		pfn = pte_pfn(pte);
		if (f) {
			if (f->pfn != HOST_PFN_NONE && pfn != f->pfn)
				continue;
			if (!host_pfn_counted(h, pfn) ||
			    READ_ONCE(host_page(h, pfn)->mapping) != f->file)
				continue;
		}
		pte_store(&pt->ent[i], 0);
		a->zapped++;
		if ((pte & PTE_SPECIAL) || !host_pfn_counted(h, pfn))
			continue;
		if (pte & PTE_DIRTY)
			host_page_set_flags(h, pfn, KVMMU_PG_DIRTY);
		host_page_mapcount_dec(h, pfn);
		host_gather_add(a->g, pfn);
	}
	kvmmu_spin_unlock(&pt->ptl);
}

void host_zap_range(struct kvmmu_mm *mm, struct host_vma *v, hva_t start,
		    hva_t end, const struct host_zap_filter *filter,
		    struct host_gather *g)
{
	struct zap_args a = { mm, filter, g, 0 };

	start = max(start, v->start);
	end = min(end, v->end);
	if (start >= end)
		return;
	host_walk_leaves(mm, start, end, zap_leaf, &a);
	host_stat_add(mm->host, HS_PTE_ZAP, a.zapped);
}

void host_zap_range_notify(struct kvmmu_mm *mm, struct host_vma *v, hva_t start,
			   hva_t end, const struct host_zap_filter *filter)
{
	struct kvmmu_mmu_notifier_range range;
	struct host_gather g;

	start = max(start, v->start);
	end = min(end, v->end);
	if (start >= end)
		return;
	host_gather_init(&g);
	host_mn_range_init(&range, KVMMU_MMU_NOTIFY_CLEAR, mm, start, end);
	host_mn_invalidate_range_start(&range);
	host_zap_range(mm, v, start, end, filter, &g);
	host_mn_invalidate_range_end(&range);
	host_gather_flush(mm->host, &g);
}

/* --- user accesses ------------------------------------------------------- */

enum access_op {
	ACCESS_READ,
	ACCESS_WRITE,
	ACCESS_MEMSET
};

/*
 * Access bytes [addr, addr + n) of one page; the copy runs with the PTL
 * held so that it is ordered against every PTE change of that page.
 */
static int access_one(struct kvmmu_mm *mm, hva_t addr, void *buf, size_t n,
		      enum access_op op, int c)
{
	bool write = op != ACCESS_READ;
	struct host_vma *v;
	struct pt_page *pt;
	uint64_t *ptep, pte;
	int r = 0, tries;

	kvmmu_read_lock(&mm->mmap_lock);
	v = host_find_vma(mm, addr);
	if (!v || (write ? !(v->flags & VM_WRITE) : !vma_readable(v))) {
		r = -EFAULT;
		goto out;
	}
	for (tries = 0;; tries++) {
		ptep = host_pte_offset(mm, addr, false, &pt);
		if (ptep && pte_access_ok(pte_load(ptep), write)) {
			kvmmu_spin_lock(&pt->ptl);
			pte = pte_load(ptep);
			if (pte_access_ok(pte, write)) {
				uint8_t *p = kvmmu_pfn_to_virt(mm->host,
							       pte_pfn(pte));

				p += addr & (PAGE_SIZE - 1);
				if (op == ACCESS_READ)
					memcpy(buf, p, n);
				else if (op == ACCESS_WRITE)
					memcpy(p, buf, n);
				else
					memset(p, c, n);
				pte |= PTE_YOUNG | (write ? PTE_DIRTY : 0);
				pte_store(ptep, pte);
				kvmmu_spin_unlock(&pt->ptl);
				break;
			}
			kvmmu_spin_unlock(&pt->ptl);
		}
		/* Each pass either makes progress or meets a racing change. */
		if (WARN_ON_ONCE(tries > 1000)) {
			r = -EFAULT;
			break;
		}
		r = host_handle_fault(mm, v, addr, write);
		if (r)
			break;
	}
out:
	kvmmu_read_unlock(&mm->mmap_lock);
	return r;
}

static int host_access(struct kvmmu_mm *mm, hva_t addr, void *buf, size_t len,
		       enum access_op op, int c)
{
	uint8_t *b = buf;

	if (addr + len < addr)
		return -EFAULT;
	while (len) {
		size_t n = min(len, PAGE_SIZE - (addr & (PAGE_SIZE - 1)));
		int r = access_one(mm, addr, b, n, op, c);

		if (r)
			return r;
		addr += n;
		len -= n;
		if (b)
			b += n;
	}
	return 0;
}

int kvmmu_mm_read(struct kvmmu_mm *mm, hva_t addr, void *buf, size_t len)
{
	return host_access(mm, addr, buf, len, ACCESS_READ, 0);
}

int kvmmu_mm_write(struct kvmmu_mm *mm, hva_t addr, const void *buf, size_t len)
{
	return host_access(mm, addr, (void *)buf, len, ACCESS_WRITE, 0);
}

int kvmmu_mm_memset(struct kvmmu_mm *mm, hva_t addr, int c, size_t len)
{
	return host_access(mm, addr, NULL, len, ACCESS_MEMSET, c);
}
