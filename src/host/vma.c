// SPDX-License-Identifier: MIT
/*
 * VMAs: the interval tree of an mm's mappings, split, merge, and the
 * search for free address space.
 *
 * The tree and a VMA's fields are protected by the mm's mmap_lock.  File
 * VMAs are also on their file's i_mmap list, which truncate walks without
 * the mmap_lock; so a file VMA's start, end and pgoff change only under the
 * file's i_mmap lock held for write as well.
 *
 * Models: mm/vma.c (split, merge), mm/mmap.c (get_unmapped_area)
 */
#include <stdlib.h>
#include "internal.h"

/* Top-down allocation below this address, as mmap_base. */
#define HOST_MMAP_BASE 0x7f0000000000ull
#define HOST_MMAP_MIN  0x10000ull

static inline struct host_vma *node_vma(struct kvmmu_itree_node *n)
{
	return n ? container_of(n, struct host_vma, node) : NULL;
}

struct host_vma *host_find_vma(struct kvmmu_mm *mm, hva_t addr)
{
	lockdep_assert_held(&mm->mmap_lock);
	return node_vma(kvmmu_itree_iter_first(&mm->vmas, addr, addr));
}

struct host_vma *host_find_vma_after(struct kvmmu_mm *mm, hva_t addr)
{
	struct host_vma *v;

	lockdep_assert_held(&mm->mmap_lock);
	v = node_vma(kvmmu_itree_lower(&mm->vmas, addr));
	if (v && v->end > addr)
		return v;
	return v ? host_vma_next(v) : node_vma(kvmmu_itree_first(&mm->vmas));
}

struct host_vma *host_vma_next(struct host_vma *v)
{
	return node_vma(kvmmu_itree_next(&v->node));
}

struct host_vma *host_vma_prev(struct host_vma *v)
{
	return node_vma(kvmmu_itree_prev(&v->node));
}

bool host_range_free(struct kvmmu_mm *mm, hva_t start, hva_t end)
{
	lockdep_assert_held(&mm->mmap_lock);
	return !kvmmu_itree_iter_first(&mm->vmas, start, end - 1);
}

int host_get_unmapped_area(struct kvmmu_mm *mm, hva_t hint, size_t len,
			   hva_t *out)
{
	hva_t hi = HOST_MMAP_BASE;
	struct host_vma *v;

	lockdep_assert_held_write(&mm->mmap_lock);
	if (len > HOST_MMAP_BASE - HOST_MMAP_MIN)
		return -ENOMEM;
	hint = ALIGN_DOWN(hint, PAGE_SIZE);
	if (hint >= HOST_MMAP_MIN && hint + len > hint &&
	    hint + len <= KVMMU_TASK_SIZE &&
	    host_range_free(mm, hint, hint + len)) {
		*out = hint;
		return 0;
	}
	/* Walk down from mmap_base, taking the highest gap that fits. */
	for (v = node_vma(kvmmu_itree_lower(&mm->vmas, hi - 1)); v;
	     v = host_vma_prev(v)) {
		if (v->end < hi && hi - v->end >= len) {
			*out = hi - len;
			return 0;
		}
		hi = min(hi, v->start);
		if (hi < HOST_MMAP_MIN + len)
			return -ENOMEM;
	}
	if (hi >= HOST_MMAP_MIN + len) {
		*out = hi - len;
		return 0;
	}
	return -ENOMEM;
}

uint64_t host_new_anon_vma(struct kvmmu_host *h)
{
	return atomic64_inc_return(&h->anon_vma_seq);
}

struct host_vma *host_vma_alloc(struct kvmmu_mm *mm, hva_t start, hva_t end,
				unsigned long flags)
{
	struct host_vma *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->mm = mm;
	v->start = start;
	v->end = end;
	v->flags = flags;
	INIT_LIST_HEAD(&v->i_mmap_link);
	return v;
}

void host_vma_link(struct kvmmu_mm *mm, struct host_vma *v)
{
	lockdep_assert_held_write(&mm->mmap_lock);
	v->node.start = v->start;
	v->node.last = v->end - 1;
	kvmmu_itree_insert(&mm->vmas, &v->node);
	mm->nr_vmas++;
	if (v->file) {
		kvmmu_write_lock(&v->file->i_mmap_lock);
		list_add_tail(&v->i_mmap_link, &v->file->i_mmap);
		kvmmu_write_unlock(&v->file->i_mmap_lock);
	}
}

void host_vma_unlink_free(struct kvmmu_mm *mm, struct host_vma *v)
{
	lockdep_assert_held_write(&mm->mmap_lock);
	kvmmu_itree_remove(&mm->vmas, &v->node);
	mm->nr_vmas--;
	if (v->file) {
		kvmmu_write_lock(&v->file->i_mmap_lock);
		list_del(&v->i_mmap_link);
		kvmmu_write_unlock(&v->file->i_mmap_lock);
		kvmmu_file_put(v->file);
	}
	free(v);
}

void host_vma_set_range(struct kvmmu_mm *mm, struct host_vma *v, hva_t start,
			hva_t end, uint64_t pgoff)
{
	lockdep_assert_held_write(&mm->mmap_lock);
	kvmmu_itree_remove(&mm->vmas, &v->node);
	if (v->flags & VM_PFNMAP)
		v->pfn += ((int64_t)start - (int64_t)v->start) >> PAGE_SHIFT;
	if (v->file) {
		/* truncate reads file VMAs under i_mmap, not the mmap_lock */
		kvmmu_write_lock(&v->file->i_mmap_lock);
		v->start = start;
		v->end = end;
		v->pgoff = pgoff;
		kvmmu_write_unlock(&v->file->i_mmap_lock);
	} else {
		v->start = start;
		v->end = end;
		v->pgoff = pgoff;
	}
	v->node.start = start;
	v->node.last = end - 1;
	kvmmu_itree_insert(&mm->vmas, &v->node);
}

int host_vma_split(struct kvmmu_mm *mm, struct host_vma *v, hva_t addr)
{
	struct host_vma *n;

	lockdep_assert_held_write(&mm->mmap_lock);
	if (addr <= v->start || addr >= v->end)
		return 0;
	n = host_vma_alloc(mm, addr, v->end, v->flags);
	if (!n)
		return -ENOMEM;
	n->file = v->file;
	n->pgoff = vma_pgoff_of(v, addr);
	n->pfn = v->pfn + ((addr - v->start) >> PAGE_SHIFT);
	n->memtype = v->memtype;
	n->anon_vma = v->anon_vma;
	if (n->file)
		kvmmu_file_get(n->file);
	host_vma_set_range(mm, v, v->start, addr, v->pgoff);
	host_vma_link(mm, n);
	return 0;
}

struct host_vma *host_vma_isolate(struct kvmmu_mm *mm, struct host_vma *v,
				  hva_t start, hva_t end, int *err)
{
	*err = host_vma_split(mm, v, start);
	if (*err)
		return NULL;
	if (v->start < start)
		v = host_vma_next(v);
	*err = host_vma_split(mm, v, end);
	return *err ? NULL : v;
}

/* Can @a (lower) and @b (directly above it) become one VMA? */
static bool vma_mergeable(const struct host_vma *a, const struct host_vma *b)
{
	if (a->end != b->start || a->flags != b->flags || a->file != b->file ||
	    a->memtype != b->memtype)
		return false;
	if (a->anon_vma && b->anon_vma && a->anon_vma != b->anon_vma)
		return false;
	if (a->file && vma_pgoff_of(a, a->end) != b->pgoff)
		return false;
	if ((a->flags & VM_PFNMAP) &&
	    a->pfn + ((a->end - a->start) >> PAGE_SHIFT) != b->pfn)
		return false;
	return true;
}

struct host_vma *host_vma_merge(struct kvmmu_mm *mm, struct host_vma *v)
{
	struct host_vma *prev, *next;

	lockdep_assert_held_write(&mm->mmap_lock);
	next = host_vma_next(v);
	if (next && vma_mergeable(v, next)) {
		hva_t end = next->end;

		if (!v->anon_vma)
			v->anon_vma = next->anon_vma;
		host_vma_unlink_free(mm, next);
		host_vma_set_range(mm, v, v->start, end, v->pgoff);
	}
	prev = host_vma_prev(v);
	if (prev && vma_mergeable(prev, v)) {
		hva_t end = v->end;

		if (!prev->anon_vma)
			prev->anon_vma = v->anon_vma;
		host_vma_unlink_free(mm, v);
		host_vma_set_range(mm, prev, prev->start, end, prev->pgoff);
		v = prev;
	}
	return v;
}

static void vma_info(const struct host_vma *v, struct kvmmu_vma_info *out)
{
	out->start = v->start;
	out->end = v->end;
	out->flags = v->flags;
	out->file = v->file;
	out->pgoff = v->pgoff;
	out->pfn = (v->flags & VM_PFNMAP) ? v->pfn : 0;
	out->memtype = v->memtype;
}

/* Public, on an opaque mm: the caller's lock is checked by lockdep. */
int __kvmmu_vma_lookup(struct kvmmu_mm *mm, hva_t hva,
		       struct kvmmu_vma_info *out) NO_THREAD_SAFETY_ANALYSIS
{
	struct host_vma *v = host_find_vma(mm, hva);

	if (!v)
		return -EFAULT;
	vma_info(v, out);
	return 0;
}

int kvmmu_vma_lookup(struct kvmmu_mm *mm, hva_t hva, struct kvmmu_vma_info *out)
{
	int r;

	kvmmu_read_lock(&mm->mmap_lock);
	r = __kvmmu_vma_lookup(mm, hva, out);
	kvmmu_read_unlock(&mm->mmap_lock);
	return r;
}

unsigned long kvmmu_mm_nr_vmas(struct kvmmu_mm *mm)
{
	unsigned long n;

	kvmmu_read_lock(&mm->mmap_lock);
	n = mm->nr_vmas;
	kvmmu_read_unlock(&mm->mmap_lock);
	return n;
}
