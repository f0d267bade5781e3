// SPDX-License-Identifier: MIT
/*
 * mremap: shrink, grow in place, or move.
 *
 * A move creates the new VMA, moves the PTEs under one UNMAP invalidation
 * of the old range (move_page_tables()), then unmaps the old VMA, which
 * raises a second UNMAP over the old range (now without pages).  Frames
 * keep their counts: a moved PTE is the same mapping at a new address.
 *
 * Models: mm/mremap.c do_mremap()/mremap_to()/move_vma()/move_ptes()
 */
#include "internal.h"

static void move_ptes(struct kvmmu_mm *mm, hva_t old, hva_t new, size_t len,
		      int *err) REQUIRES(mm->mmap_lock)
{
	hva_t off;

	for (off = 0; off < len; off += PAGE_SIZE) {
		struct pt_page *opt, *npt;
		uint64_t *op = host_pte_offset(mm, old + off, false, &opt), *np;
		uint64_t pte;

		if (!op || !pte_present(__atomic_load_n(op, __ATOMIC_RELAXED)))
			continue;
		np = host_pte_offset(mm, new + off, true, &npt);
		if (!np) {
			*err = -ENOMEM;
			return;
		}
		if (npt == opt) {
			kvmmu_spin_lock(&opt->ptl);
			pte = __atomic_exchange_n(op, 0, __ATOMIC_ACQ_REL);
			__atomic_store_n(np, pte, __ATOMIC_RELEASE);
			kvmmu_spin_unlock(&opt->ptl);
		} else {
			/*
			 * Both PTLs, lower table first: moving there and back
			 * must not take the same pair in both orders (only the
			 * mmap_lock, held for write, serialises them now).
			 */
			struct pt_page *lo = opt < npt ? opt : npt;
			struct pt_page *hi = opt < npt ? npt : opt;

			kvmmu_spin_lock(&lo->ptl);
			kvmmu_spin_lock_nested(&hi->ptl);
			pte = __atomic_exchange_n(op, 0, __ATOMIC_ACQ_REL);
			__atomic_store_n(np, pte, __ATOMIC_RELEASE);
			kvmmu_spin_unlock(&hi->ptl);
			kvmmu_spin_unlock(&lo->ptl);
		}
	}
}

static int move_vma(struct kvmmu_mm *mm, struct host_vma *v, hva_t old,
		    size_t old_len, hva_t new, size_t new_len)
	REQUIRES(mm->mmap_lock)
{
	struct kvmmu_mmu_notifier_range range;
	struct host_vma *n;
	int r = 0;

	v = host_vma_isolate(mm, v, old, old + old_len, &r);
	if (!v)
		return r;
	n = host_vma_alloc(mm, new, new + new_len, v->flags);
	if (!n)
		return -ENOMEM;
	n->file = v->file;
	n->pgoff = v->pgoff;
	n->pfn = v->pfn;
	n->memtype = v->memtype;
	n->anon_vma = v->anon_vma;
	if (n->file)
		kvmmu_file_get(n->file);
	host_vma_link(mm, n);

	host_mn_range_init(&range, KVMMU_MMU_NOTIFY_UNMAP, mm, old,
			   old + old_len);
	host_mn_invalidate_range_start(&range);
	move_ptes(mm, old, new, old_len, &r);
	host_mn_invalidate_range_end(&range);
	if (r)
		return r; /* the kernel moves back; we leave both mapped */

	__host_do_munmap(mm, old, old + old_len);
	host_vma_merge(mm, n);
	return 0;
}

int kvmmu_mremap(struct kvmmu_mm *mm, hva_t old, size_t old_len, size_t new_len,
		 int flags, hva_t new_addr, hva_t *out)
{
	bool fixed = flags & MREMAP_FIXED;
	struct host_vma *v;
	int r = 0;

	if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED))
		return -EINVAL;
	if (fixed && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if (!PAGE_ALIGNED(old))
		return -EINVAL;
	old_len = ALIGN(old_len, PAGE_SIZE);
	new_len = ALIGN(new_len, PAGE_SIZE);
	if (!new_len || old + old_len < old)
		return -EINVAL;
	if (fixed) {
		if (!PAGE_ALIGNED(new_addr) || new_addr + new_len < new_addr ||
		    new_addr + new_len > KVMMU_TASK_SIZE)
			return -EINVAL;
		if (old + old_len > new_addr && new_addr + new_len > old)
			return -EINVAL;
	}
	if (!old_len)
		return -EINVAL; /* shared-mapping duplication: not modelled */

	kvmmu_write_lock(&mm->mmap_lock);
	if (fixed) {
		r = __host_do_munmap(mm, new_addr, new_addr + new_len);
		if (r)
			goto out;
	}
	if (new_len < old_len) {
		r = __host_do_munmap(mm, old + new_len, old + old_len);
		if (r)
			goto out;
		old_len = new_len;
		if (!fixed) {
			*out = old;
			goto out;
		}
	}
	v = host_find_vma(mm, old);
	if (!v || old + old_len > v->end) {
		r = -EFAULT;
		goto out;
	}
	if (new_len > old_len && (v->flags & VM_DONTEXPAND)) {
		r = -EFAULT;
		goto out;
	}
	if (!fixed) {
		hva_t end = old + new_len;

		if (new_len == old_len) {
			*out = old;
			goto out;
		}
		/* Grow in place when the VMA ends here and room follows. */
		if (old + old_len == v->end && end > old &&
		    end <= KVMMU_TASK_SIZE &&
		    host_range_free(mm, v->end, end)) {
			host_vma_set_range(mm, v, v->start, end, v->pgoff);
			host_vma_merge(mm, v);
			*out = old;
			goto out;
		}
		if (!(flags & MREMAP_MAYMOVE)) {
			r = -ENOMEM;
			goto out;
		}
		r = host_get_unmapped_area(mm, 0, new_len, &new_addr);
		if (r)
			goto out;
	}
	r = move_vma(mm, v, old, old_len, new_addr, new_len);
	if (!r)
		*out = new_addr;
out:
	kvmmu_write_unlock(&mm->mmap_lock);
	return r;
}
