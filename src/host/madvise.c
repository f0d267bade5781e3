// SPDX-License-Identifier: MIT
/*
 * madvise: DONTNEED (zap, CLEAR per VMA), REMOVE (punch the file hole
 * behind a shared mapping), DONTFORK/DOFORK and MERGEABLE/UNMERGEABLE
 * (VMA flags; KSM itself comes with a later layer), and the advice that
 * only hints.
 *
 * As in Linux, the advice is applied to every VMA of the range and a hole
 * in it is reported as -ENOMEM at the end; a VMA that refuses the advice
 * ends the walk with its own error.
 *
 * Models: mm/madvise.c do_madvise(), madvise_dontneed_single_vma(),
 * madvise_remove(), madvise_vma_behavior(); mm/ksm.c ksm_madvise()
 */
#include "internal.h"

static bool madvise_valid(int advice)
{
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTNEED:
	case MADV_REMOVE:
	case MADV_DONTFORK:
	case MADV_DOFORK:
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE:
		return true;
	}
	return false;
}

static bool madvise_needs_write_lock(int advice)
{
	return advice == MADV_DONTFORK || advice == MADV_DOFORK ||
	       advice == MADV_MERGEABLE || advice == MADV_UNMERGEABLE;
}

/* New VMA flags for a flag-changing advice, or a -errno. */
static long madvise_new_flags(struct host_vma *v, int advice)
{
	unsigned long f = v->flags;

	switch (advice) {
	case MADV_DONTFORK:
		return f | VM_DONTCOPY;
	case MADV_DOFORK:
		if (f & VM_IO)
			return -EINVAL;
		return f & ~VM_DONTCOPY;
	case MADV_MERGEABLE:
		if (f & (VM_MERGEABLE | VM_SHARED | VM_PFNMAP | VM_IO |
			 VM_DONTEXPAND))
			return f; /* KSM leaves such VMAs alone */
		return f | VM_MERGEABLE;
	case MADV_UNMERGEABLE:
		return f & ~VM_MERGEABLE;
	}
	return f;
}

struct remove_piece {
	struct kvmmu_file *file;
	uint64_t off, len;
};

/*
 * The mmap_lock mode depends on the advice (madvise_need_mmap_write()),
 * which clang's static analysis cannot follow; lockdep checks it at run
 * time in every callee instead.
 */
int kvmmu_madvise(struct kvmmu_mm *mm, hva_t start, size_t len,
		  int advice) NO_THREAD_SAFETY_ANALYSIS
{
	bool wlock = madvise_needs_write_lock(advice);
	struct remove_piece pieces[16];
	int npieces = 0, unmapped = 0, r = 0, i;
	bool more = false;
	struct host_vma *v;
	hva_t end, a;

	if (!PAGE_ALIGNED(start) || !madvise_valid(advice))
		return -EINVAL;
	len = ALIGN(len, PAGE_SIZE);
	end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;

again:
	if (wlock)
		kvmmu_write_lock(&mm->mmap_lock);
	else
		kvmmu_read_lock(&mm->mmap_lock);
	for (a = start, v = host_find_vma_after(mm, start); a < end && v;) {
		hva_t s = max(a, v->start), e = min(end, v->end);

		if (s >= end)
			break;
		if (advice == MADV_REMOVE && npieces == ARRAY_SIZE(pieces))
			break; /* punch these first, then go on from a */
		if (v->start > a)
			unmapped = -ENOMEM;
		switch (advice) {
		case MADV_DONTNEED:
			if (v->flags & VM_PFNMAP) {
				r = -EINVAL;
				goto out;
			}
			host_zap_range_notify(mm, v, s, e, NULL);
			break;
		case MADV_REMOVE:
			if (!v->file) {
				r = -EINVAL;
				goto out;
			}
			if (!(v->flags & VM_SHARED)) {
				r = -EACCES;
				goto out;
			}
			kvmmu_file_get(v->file);
			pieces[npieces++] = (struct remove_piece){
				v->file, vma_pgoff_of(v, s) << PAGE_SHIFT, e - s
			};
			break;
		default:
			if (wlock) {
				long nf = madvise_new_flags(v, advice);

				if (nf < 0) {
					r = (int)nf;
					goto out;
				}
				if ((unsigned long)nf != v->flags) {
					v = host_vma_isolate(mm, v, s, e, &r);
					if (!v)
						goto out;
					v->flags = nf;
					v = host_vma_merge(mm, v);
				}
			}
			break;
		}
		a = e;
		if (v->end <= a)
			v = host_vma_next(v);
	}
	more = advice == MADV_REMOVE && npieces == ARRAY_SIZE(pieces) &&
	       a < end;
	if (!more && a < end)
		unmapped = -ENOMEM;
out:
	if (wlock)
		kvmmu_write_unlock(&mm->mmap_lock);
	else
		kvmmu_read_unlock(&mm->mmap_lock);

	/* madvise_remove() drops the mmap_lock around vfs_fallocate(). */
	for (i = 0; i < npieces; i++) {
		if (!r)
			r = kvmmu_fallocate(pieces[i].file,
					    FALLOC_FL_PUNCH_HOLE |
						    FALLOC_FL_KEEP_SIZE,
					    pieces[i].off, pieces[i].len);
		kvmmu_file_put(pieces[i].file);
	}
	if (!r && more) {
		start = a;
		npieces = 0;
		goto again;
	}
	return r ? r : unmapped;
}
