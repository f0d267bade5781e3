// SPDX-License-Identifier: MIT
/*
 * fork: duplicate an address space.
 *
 * Both mms are held for write (the child's nested).  Every VMA without
 * VM_DONTCOPY is duplicated.  Page tables are copied only where the kernel
 * copies them (vma_needs_copy()): PFNMAP ranges, and VMAs that have had
 * anonymous pages; shared file ranges are left to fault in the child.  A
 * private range's present PTEs become read-only in both mms, under one
 * PROTECTION_PAGE invalidation of the parent's VMA, so that the next write
 * on either side copies (COW).
 *
 * Models: kernel/fork.c dup_mmap(), mm/memory.c copy_page_range(),
 * copy_present_pte()
 */
#include "internal.h"

struct copy_args {
	struct kvmmu_mm *dst;
	bool cow;
	int err;
};

static void copy_leaf(struct pt_page *spt, unsigned int from, unsigned int to,
		      hva_t base, void *arg)
{
	struct copy_args *a = arg;
	struct kvmmu_host *h = a->dst->host;
	struct pt_page *dpt;
	unsigned int i;

	if (a->err)
		return;
	/* One leaf table of the child covers this whole leaf. */
	if (!host_pte_offset(a->dst, base + ((hva_t)from << PAGE_SHIFT), true,
			     &dpt)) {
		a->err = -ENOMEM;
		return;
	}
	kvmmu_spin_lock(&spt->ptl);
	kvmmu_spin_lock_nested(&dpt->ptl);
	for (i = from; i < to; i++) {
		uint64_t pte = __atomic_load_n(&spt->ent[i], __ATOMIC_RELAXED);

		if (!pte_present(pte))
			continue;
		if (a->cow && !(pte & PTE_SPECIAL) && pte_write(pte)) {
			pte &= ~PTE_WRITE;
			__atomic_store_n(&spt->ent[i], pte, __ATOMIC_RELEASE);
		}
		if (!(pte & PTE_SPECIAL) && host_pfn_counted(h, pte_pfn(pte))) {
			kvmmu_get_page(h, pte_pfn(pte));
			host_page_mapcount_inc(h, pte_pfn(pte));
		}
		__atomic_store_n(&dpt->ent[i], pte & ~PTE_YOUNG,
				 __ATOMIC_RELEASE);
	}
	kvmmu_spin_unlock(&dpt->ptl);
	kvmmu_spin_unlock(&spt->ptl);
}

static int dup_vma(struct kvmmu_mm *mm, struct kvmmu_mm *child,
		   struct host_vma *v) REQUIRES(mm->mmap_lock)
	REQUIRES(child->mmap_lock)
{
	struct kvmmu_mmu_notifier_range range;
	struct copy_args a = { child, false, 0 };
	struct host_vma *n;

	n = host_vma_alloc(child, v->start, v->end, v->flags);
	if (!n)
		return -ENOMEM;
	n->file = v->file;
	n->pgoff = v->pgoff;
	n->pfn = v->pfn;
	n->memtype = v->memtype;
	n->anon_vma = v->anon_vma ? host_new_anon_vma(mm->host) : 0;
	if (n->file)
		kvmmu_file_get(n->file);
	host_vma_link(child, n);

	if (!(v->flags & VM_PFNMAP) && !v->anon_vma)
		return 0; /* vma_needs_copy(): the child faults it in */
	a.cow = !(v->flags & VM_SHARED);
	if (a.cow) {
		host_mn_range_init(&range, KVMMU_MMU_NOTIFY_PROTECTION_PAGE, mm,
				   v->start, v->end);
		host_mn_invalidate_range_start(&range);
	}
	host_walk_leaves(mm, v->start, v->end, copy_leaf, &a);
	if (a.cow)
		host_mn_invalidate_range_end(&range);
	return a.err;
}

int kvmmu_fork(struct kvmmu_mm *mm, struct kvmmu_mm **out)
{
	struct kvmmu_itree_node *node;
	struct kvmmu_mm *child;
	int r;

	r = kvmmu_mm_create(mm->host, &child);
	if (r)
		return r;
	kvmmu_write_lock(&mm->mmap_lock);
	if (mm->exited) {
		r = -ESRCH;
		goto unlock_parent;
	}
	kvmmu_write_lock_nested(&child->mmap_lock);
	for (node = kvmmu_itree_first(&mm->vmas); node && !r;
	     node = kvmmu_itree_next(node)) {
		struct host_vma *v = container_of(node, struct host_vma, node);

		if (!(v->flags & VM_DONTCOPY))
			r = dup_vma(mm, child, v);
	}
	kvmmu_write_unlock(&child->mmap_lock);
unlock_parent:
	kvmmu_write_unlock(&mm->mmap_lock);
	if (r) {
		kvmmu_mmput(child);
		return r;
	}
	host_stat_inc(mm->host, HS_FORK);
	*out = child;
	return 0;
}
