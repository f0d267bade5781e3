// SPDX-License-Identifier: MIT
/*
 * mprotect: split the VMAs to the range, change their flags and PTEs,
 * merge back.
 *
 * Each VMA piece gets at most one PROTECTION_VMA invalidation per 512 GiB
 * (P4D) chunk, started at the first populated 1 GiB (PUD) region of the
 * piece, clipped to the range, and ending at the piece's end; a piece with
 * no page table below it raises nothing (change_pud_range()).  Write
 * permission is removed from PTEs at once; it is given back at once only to
 * shared mappings and to exclusively owned anonymous frames
 * (can_change_pte_writable()); others take a write fault (COW) later.
 * PROT_NONE keeps the PTEs but makes them inaccessible (pte_protnone).
 *
 * Models: mm/mprotect.c do_mprotect_pkey(), mprotect_fixup(),
 * change_protection()
 */
#include "internal.h"

#ifndef PROT_SEM
#define PROT_SEM 0x8 /* accepted and ignored, as on x86 */
#endif

struct prot_args {
	struct kvmmu_mm *mm;
	struct host_vma *v;
	unsigned long newflags;
};

static void prot_leaf(struct pt_page *pt, unsigned int from, unsigned int to,
		      hva_t base, void *arg)
{
	struct prot_args *a = arg;
	struct kvmmu_host *h = a->mm->host;
	unsigned long fl = a->newflags;
	unsigned int i;

	kvmmu_spin_lock(&pt->ptl);
	for (i = from; i < to; i++) {
		uint64_t pte = __atomic_load_n(&pt->ent[i], __ATOMIC_RELAXED);
		uint64_t n = pte;
		kvmmu_pfn_t pfn;

		if (!pte_present(pte))
			continue;
		pfn = pte_pfn(pte);
		if (!(fl & VM_ACCESS_FLAGS))
			n |= PTE_PROTNONE;
		else
			n &= ~PTE_PROTNONE;
		if (!(fl & VM_WRITE)) {
			n &= ~PTE_WRITE;
		} else if (fl & VM_SHARED) {
			n |= PTE_WRITE;
		} else if (!pte_write(pte) && host_pfn_counted(h, pfn) &&
			   (host_page_flags(h, pfn) &
			    (KVMMU_PG_ANON | KVMMU_PG_KSM)) == KVMMU_PG_ANON &&
			   host_page_refcount(h, pfn) == 1 &&
			   host_page_mapcount(h, pfn) == 1) {
			n |= PTE_WRITE;
		}
		if (n != pte)
			__atomic_store_n(&pt->ent[i], n, __ATOMIC_RELEASE);
	}
	kvmmu_spin_unlock(&pt->ptl);
}

static void change_protection(struct kvmmu_mm *mm, struct host_vma *v,
			      hva_t start, hva_t end, unsigned long newflags)
	REQUIRES(mm->mmap_lock)
{
	struct prot_args a = { mm, v, newflags };
	hva_t chunk, cend, first;

	for (chunk = start; chunk < end; chunk = cend) {
		struct kvmmu_mmu_notifier_range range;

		cend = min(ALIGN_DOWN(chunk, P4D_SIZE) + P4D_SIZE, end);
		if (!host_first_populated_pud(mm, chunk, cend, &first))
			continue;
		host_mn_range_init(&range, KVMMU_MMU_NOTIFY_PROTECTION_VMA, mm,
				   max(first, chunk), cend);
		host_mn_invalidate_range_start(&range);
		host_walk_leaves(mm, chunk, cend, prot_leaf, &a);
		host_mn_invalidate_range_end(&range);
	}
}

int kvmmu_mprotect(struct kvmmu_mm *mm, hva_t start, size_t len, int prot)
{
	unsigned long want = (prot & PROT_READ ? VM_READ : 0) |
			     (prot & PROT_WRITE ? VM_WRITE : 0) |
			     (prot & PROT_EXEC ? VM_EXEC : 0);
	struct host_vma *v;
	hva_t end, next;
	int r = 0;

	if (!PAGE_ALIGNED(start) ||
	    (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)))
		return -EINVAL;
	if (!len)
		return 0;
	len = ALIGN(len, PAGE_SIZE);
	end = start + len;
	if (!len || end <= start)
		return -ENOMEM;

	kvmmu_write_lock(&mm->mmap_lock);
	v = host_find_vma(mm, start);
	if (!v) {
		r = -ENOMEM;
		goto out;
	}
	for (next = start; next < end;) {
		hva_t e = min(v->end, end);
		unsigned long nf = (v->flags & ~VM_ACCESS_FLAGS) | want;
		struct host_vma *after;

		if (nf != v->flags) {
			v = host_vma_isolate(mm, v, next, e, &r);
			if (!v)
				break;
			v->flags = nf;
			change_protection(mm, v, next, e, nf);
			v = host_vma_merge(mm, v);
		}
		next = e;
		if (next >= end)
			break;
		if (v->end > next)
			continue; /* merged with the VMA that follows */
		after = host_vma_next(v);
		if (!after || after->start != next) {
			r = -ENOMEM; /* a hole: what came before stays changed */
			break;
		}
		v = after;
	}
out:
	kvmmu_write_unlock(&mm->mmap_lock);
	return r;
}
