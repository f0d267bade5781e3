// SPDX-License-Identifier: MIT
/*
 * get_user_pages for one page, its lockless fast variant, and
 * follow_pfnmap: the host side of KVM's hva_to_pfn().
 *
 * The slow path runs under the mmap_lock held for read, faults the page in
 * as a user access would (a write breaks COW) and takes the reference under
 * the PTL.  The fast path walks the tables without locks, takes a
 * speculative reference (fails on a frame whose count is already zero) and
 * re-reads the PTE: if it changed, the reference is dropped and the caller
 * falls back.  That re-check is what makes it safe against a concurrent zap,
 * which clears the PTE before it drops the mapping's reference.
 *
 * Models: mm/gup.c get_user_pages_unlocked(), get_user_pages_fast_only(),
 * mm/memory.c follow_pfnmap_start(); kvm-mmu-protocol.md §2.6.
 */
#include "internal.h"

int kvmmu_get_user_page(struct kvmmu_mm *mm, hva_t hva, unsigned int foll,
			kvmmu_pfn_t *pfn, bool *writable)
{
	bool write = foll & KVMMU_FOLL_WRITE;
	struct host_vma *v;
	struct pt_page *pt;
	uint64_t *ptep, pte;
	int r = 0, tries;

	host_stat_inc(mm->host, HS_GUP);
	kvmmu_read_lock(&mm->mmap_lock);
	v = host_find_vma(mm, hva);
	if (!v || (v->flags & (VM_IO | VM_PFNMAP)) ||
	    (write ? !(v->flags & VM_WRITE) : !vma_readable(v))) {
		r = -EFAULT;
		goto out;
	}
	for (tries = 0;; tries++) {
		ptep = host_pte_offset(mm, hva, false, &pt);
		if (ptep &&
		    pte_access_ok(__atomic_load_n(ptep, __ATOMIC_ACQUIRE),
				  write)) {
			kvmmu_spin_lock(&pt->ptl);
			pte = __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
			if (pte_access_ok(pte, write)) {
				*pfn = pte_pfn(pte);
				if (writable)
					*writable = pte_write(pte);
				kvmmu_get_page(mm->host, *pfn);
				kvmmu_spin_unlock(&pt->ptl);
				break;
			}
			kvmmu_spin_unlock(&pt->ptl);
		}
		if (foll & KVMMU_FOLL_NOWAIT) {
			r = -EAGAIN;
			break;
		}
		if (WARN_ON_ONCE(tries > 1000)) {
			r = -EFAULT;
			break;
		}
		r = host_handle_fault(mm, v, hva, write);
		if (r)
			break;
	}
out:
	kvmmu_read_unlock(&mm->mmap_lock);
	return r;
}

int kvmmu_get_user_page_fast_only(struct kvmmu_mm *mm, hva_t hva,
				  unsigned int foll, kvmmu_pfn_t *pfn,
				  bool *writable)
{
	bool write = foll & KVMMU_FOLL_WRITE;
	uint64_t *ptep = host_pte_offset(mm, hva, false, NULL), pte;
	kvmmu_pfn_t p;

	if (!ptep)
		goto miss;
	pte = __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
	if (!pte_access_ok(pte, write) || (pte & PTE_SPECIAL))
		goto miss;
	p = pte_pfn(pte);
	if (!host_try_get_page(mm->host, p))
		goto miss;
	/* pte_same(): the frame we referenced is still the one mapped. */
	if (__atomic_load_n(ptep, __ATOMIC_ACQUIRE) != pte) {
		kvmmu_put_page(mm->host, p);
		goto miss;
	}
	*pfn = p;
	if (writable)
		*writable = pte_write(pte);
	host_stat_inc(mm->host, HS_GUP_FAST);
	return 0;
miss:
	host_stat_inc(mm->host, HS_GUP_FAST_FAIL);
	return -EAGAIN;
}

int kvmmu_follow_pfnmap(struct kvmmu_mm *mm, hva_t hva, bool write,
			kvmmu_pfn_t *pfn, bool *writable,
			enum kvmmu_memtype *memtype)
{
	struct host_vma *v;
	uint64_t *ptep, pte;
	int r = 0;

	kvmmu_read_lock(&mm->mmap_lock);
	v = host_find_vma(mm, hva);
	if (!v || !(v->flags & (VM_IO | VM_PFNMAP))) {
		r = -EFAULT;
		goto out;
	}
	ptep = host_pte_offset(mm, hva, false, NULL);
	pte = ptep ? __atomic_load_n(ptep, __ATOMIC_ACQUIRE) : 0;
	if (!pte_present(pte) || (pte & PTE_PROTNONE)) {
		r = -EFAULT;
		goto out;
	}
	if (write && !pte_write(pte)) {
		r = -EACCES;
		goto out;
	}
	*pfn = pte_pfn(pte);
	if (writable)
		*writable = pte_write(pte);
	if (memtype)
		*memtype = pte_memtype(pte);
out:
	kvmmu_read_unlock(&mm->mmap_lock);
	return r;
}
