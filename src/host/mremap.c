// SPDX-License-Identifier: MIT
/*
 * mremap: shrink, grow in place, or move, as Linux 6.18 does it; with
 * MREMAP_DONTUNMAP, and the same-size MREMAP_FIXED move of a range that
 * spans several VMAs and holes (new in 6.17).
 *
 * A move creates the new VMA, moves the PTEs under one UNMAP invalidation
 * of the old range (move_page_tables()), then unmaps the old range, which
 * raises a second UNMAP over it (now without pages); with MREMAP_DONTUNMAP
 * the old VMA stays, empty.  Frames keep their counts: a moved PTE is the
 * same mapping at a new address.
 *
 * As in 6.18, the checks come before anything changes: a call that fails
 * with -EFAULT or -EINVAL has not unmapped the MREMAP_FIXED destination
 * nor the tail of a shrink.  A call in place that keeps or shrinks the
 * size only needs a VMA at the start; a same-size MREMAP_FIXED call walks
 * the VMAs of the range (remap_move()); any other call needs the range
 * (after a shrink, what is left of it) within the VMA at the start.
 *
 * Models: mm/mremap.c do_mremap(), check_mremap_params(), check_prep_vma(),
 * remap_move(), mremap_to(), mremap_at(), expand_vma(), move_vma(),
 * dontunmap_complete(), move_ptes()
 */
#include "internal.h"

/* One call, as struct vma_remap_struct (the part the model needs). */
struct remap {
	hva_t addr;
	size_t old_len, new_len; /* page-aligned */
	int flags;
	hva_t new_addr;
};

/* MREMAP_FIXED and MREMAP_DONTUNMAP put the mapping at a new address. */
static bool remap_implies_new_addr(const struct remap *rm)
{
	return rm->flags & (MREMAP_FIXED | MREMAP_DONTUNMAP);
}

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

/*
 * Move [old, old + len) of @v to a new VMA [new, new + new_len), len <=
 * new_len.  The old range is unmapped afterwards, or with @dontunmap kept
 * (empty; a VMA moved whole loses its anon_vma as unlink_anon_vmas() does).
 * Models: mm/mremap.c move_vma(), copy_vma_and_data(), dontunmap_complete()
 */
static int move_vma(struct kvmmu_mm *mm, struct host_vma *v, hva_t old,
		    size_t len, hva_t new, size_t new_len, bool dontunmap)
	REQUIRES(mm->mmap_lock)
{
	bool whole = old == v->start && old + len == v->end;
	struct kvmmu_mmu_notifier_range range;
	struct host_vma *n;
	int r = 0;

	n = host_vma_alloc(mm, new, new + new_len, v->flags);
	if (!n)
		return -ENOMEM;
	n->file = v->file;
	n->pgoff = vma_pgoff_of(v, old);
	n->pfn = v->pfn + ((old - v->start) >> PAGE_SHIFT);
	n->memtype = v->memtype;
	n->anon_vma = v->anon_vma;
	if (n->file)
		kvmmu_file_get(n->file);
	host_vma_link(mm, n);

	host_mn_range_init(&range, KVMMU_MMU_NOTIFY_UNMAP, mm, old, old + len);
	host_mn_invalidate_range_start(&range);
	move_ptes(mm, old, new, len, &r);
	host_mn_invalidate_range_end(&range);
	if (r)
		return r; /* the kernel moves back; we leave both mapped */

	if (!dontunmap)
		__host_do_munmap(mm, old, old + len);
	else if (whole)
		v->anon_vma = 0;
	host_vma_merge(mm, n);
	return 0;
}

/*
 * Are the arguments valid, whatever is mapped?  Return: 0 or -EINVAL.
 * Models: mm/mremap.c check_mremap_params(), vrm_overlaps()
 */
static int check_params(const struct remap *rm)
{
	if (rm->flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
		return -EINVAL;
	if (!PAGE_ALIGNED(rm->addr) || rm->addr + rm->old_len < rm->addr)
		return -EINVAL;
	if (!rm->new_len || rm->new_len > KVMMU_TASK_SIZE)
		return -EINVAL;
	if (!remap_implies_new_addr(rm))
		return 0;
	if (rm->new_addr > KVMMU_TASK_SIZE - rm->new_len ||
	    !PAGE_ALIGNED(rm->new_addr))
		return -EINVAL;
	if (!(rm->flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if ((rm->flags & MREMAP_DONTUNMAP) && rm->old_len != rm->new_len)
		return -EINVAL;
	if (rm->addr + rm->old_len > rm->new_addr &&
	    rm->new_addr + rm->new_len > rm->addr)
		return -EINVAL;
	return 0;
}

/*
 * The checks on @v, the VMA at @rm->addr (or NULL), before anything
 * changes.  Return: 0; -EFAULT (no VMA; the range to move or grow, after
 * a shrink what is left of it, leaves @v; growing a PFNMAP or
 * VM_DONTEXPAND VMA); -EINVAL (old_len 0: duplicating a shared mapping is
 * not modelled; DONTUNMAP of a PFNMAP or VM_DONTEXPAND VMA).
 * Models: mm/mremap.c check_prep_vma()
 */
static int check_prep_vma(const struct remap *rm, const struct host_vma *v)
{
	size_t len = min(rm->old_len, rm->new_len);

	if (!v)
		return -EFAULT;
	/* Same size or shrinking in place: nothing else is looked at. */
	if (!remap_implies_new_addr(rm) && rm->new_len <= rm->old_len)
		return 0;
	if (!rm->old_len)
		return -EINVAL;
	if ((rm->flags & MREMAP_DONTUNMAP) &&
	    (v->flags & (VM_DONTEXPAND | VM_PFNMAP)))
		return -EINVAL;
	if (len > v->end - rm->addr)
		return -EFAULT;
	if (rm->new_len > rm->old_len &&
	    (v->flags & (VM_DONTEXPAND | VM_PFNMAP)))
		return -EFAULT;
	return 0;
}

/*
 * A call with MREMAP_FIXED or MREMAP_DONTUNMAP, checked: unmap the
 * destination (FIXED), cut the tail off (shrink), choose the address
 * (DONTUNMAP alone: @rm->new_addr is a hint), move.
 * Models: mm/mremap.c mremap_to(), shrink_vma(), vrm_set_new_addr()
 */
static int remap_to(struct kvmmu_mm *mm, const struct remap *rm, hva_t *out)
	REQUIRES(mm->mmap_lock)
{
	size_t len = rm->old_len;
	hva_t new = rm->new_addr;
	struct host_vma *v;
	int r;

	if (rm->flags & MREMAP_FIXED) {
		r = __host_do_munmap(mm, new, new + rm->new_len);
		if (r)
			return r;
	}
	if (rm->new_len < len) {
		r = __host_do_munmap(mm, rm->addr + rm->new_len,
				     rm->addr + len);
		if (r)
			return r;
		len = rm->new_len;
	}
	/* The unmaps may have split the VMA (not removed it): look again. */
	v = host_find_vma(mm, rm->addr);
	if (!v)
		return -EFAULT;
	if (!(rm->flags & MREMAP_FIXED)) {
		r = host_get_unmapped_area(mm, new, rm->new_len, &new);
		if (r)
			return r;
	}
	r = move_vma(mm, v, rm->addr, len, new, rm->new_len,
		     rm->flags & MREMAP_DONTUNMAP);
	if (!r)
		*out = new;
	return r;
}

/*
 * A call without a new address, checked: nothing to do, cut the tail off,
 * grow in place, or (MREMAP_MAYMOVE) move to a free range.
 * Models: mm/mremap.c mremap_at(), shrink_vma(), expand_vma()
 */
static int remap_at(struct kvmmu_mm *mm, const struct remap *rm,
		    struct host_vma *v, hva_t *out) REQUIRES(mm->mmap_lock)
{
	hva_t old = rm->addr, end = rm->addr + rm->new_len, new;
	int r;

	if (rm->new_len <= rm->old_len) {
		if (rm->new_len < rm->old_len) {
			r = __host_do_munmap(mm, end, old + rm->old_len);
			if (r)
				return r;
		}
		*out = old;
		return 0;
	}
	/* Grow in place when the VMA ends here and room follows. */
	if (old + rm->old_len == v->end && end <= KVMMU_TASK_SIZE &&
	    host_range_free(mm, v->end, end)) {
		host_vma_set_range(mm, v, v->start, end, v->pgoff);
		host_vma_merge(mm, v);
		*out = old;
		return 0;
	}
	if (!(rm->flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	r = host_get_unmapped_area(mm, 0, rm->new_len, &new);
	if (r)
		return r;
	r = move_vma(mm, v, old, rm->old_len, new, rm->new_len, false);
	if (!r)
		*out = new;
	return r;
}

/*
 * A same-size MREMAP_FIXED call (with or without DONTUNMAP), which may
 * span several VMAs and holes: each VMA's piece of the range is moved on
 * its own to the same offset from @rm->new_addr, as a call of its own
 * would (checks, then its destination unmapped, its PTEs moved under an
 * UNMAP of its old range, its old range unmapped).  So holes stay holes,
 * and what the destination maps over a hole is left alone.  The range
 * must start in a VMA: a hole there, or no VMA at all, is -EFAULT before
 * anything changes.  A piece that fails ends the walk with its error; the
 * pieces before it stay moved.
 *
 * Linux keeps out of a multi-VMA move the VMAs that userfaultfd watches
 * and those of files with their own get_unmapped_area() other than shmem,
 * hugetlbfs and THP-aligned ones (-EFAULT unless alone in the range); the
 * model has no such VMA.
 *
 * Models: mm/mremap.c remap_move(), vrm_move_only(), vma_multi_allowed()
 */
static int remap_move(struct kvmmu_mm *mm, const struct remap *rm, hva_t *out)
	REQUIRES(mm->mmap_lock)
{
	hva_t start = rm->addr, end = rm->addr + rm->old_len, cur = start;
	struct host_vma *v;
	bool seen = false;
	int r;

	while ((v = host_find_vma_after(mm, cur)) && v->start < end) {
		hva_t addr = max(v->start, start), moved;
		struct remap piece = {
			.addr = addr,
			.old_len = min(end, v->end) - addr,
			.new_len = min(end, v->end) - addr,
			.flags = rm->flags,
			.new_addr = rm->new_addr + (addr - start),
		};

		if (!seen && addr != start)
			return -EFAULT; /* a hole at the start */
		r = check_prep_vma(&piece, v);
		if (!r)
			r = remap_to(mm, &piece, &moved);
		if (r)
			return r;
		if (!seen)
			*out = moved;
		seen = true;
		cur = addr + piece.old_len;
	}
	return seen ? 0 : -EFAULT;
}

int kvmmu_mremap(struct kvmmu_mm *mm, hva_t old, size_t old_len, size_t new_len,
		 int flags, hva_t new_addr, hva_t *out)
{
	struct remap rm = {
		.addr = old,
		.old_len = ALIGN(old_len, PAGE_SIZE),
		.new_len = ALIGN(new_len, PAGE_SIZE),
		.flags = flags,
		.new_addr = new_addr,
	};
	struct host_vma *v;
	int r;

	r = check_params(&rm);
	if (r)
		return r;
	kvmmu_write_lock(&mm->mmap_lock);
	if ((flags & MREMAP_FIXED) && rm.old_len == rm.new_len) {
		r = remap_move(mm, &rm, out);
	} else {
		v = host_find_vma(mm, old);
		r = check_prep_vma(&rm, v);
		if (!r && remap_implies_new_addr(&rm))
			r = remap_to(mm, &rm, out);
		else if (!r)
			r = remap_at(mm, &rm, v, out);
	}
	kvmmu_write_unlock(&mm->mmap_lock);
	return r;
}
