// SPDX-License-Identifier: MIT
/*
 * Address spaces: create, reference counting, teardown; mmap and munmap.
 *
 * munmap raises one UNMAP invalidation over the requested range when some
 * VMA intersects it: started while every page is still mapped, ended after
 * all PTEs are cleared, and the frames are freed after the end (the
 * mmu_gather order of unmap_region()).
 *
 * Models: kernel/fork.c mm_alloc()/mmput()/mmdrop(), mm/mmap.c do_mmap(),
 * mm/vma.c do_vmi_munmap()/unmap_region(), mm/mmap.c exit_mmap(),
 * mm/memory.c remap_pfn_range()
 */
#include <stdlib.h>
#include "internal.h"

int kvmmu_mm_create(struct kvmmu_host *h, struct kvmmu_mm **out)
{
	struct kvmmu_mm *mm = calloc(1, sizeof(*mm));

	if (!mm)
		return -ENOMEM;
	mm->pgd = host_pt_alloc();
	if (!mm->pgd) {
		free(mm);
		return -ENOMEM;
	}
	mm->host = h;
	kvmmu_rwlock_init(&mm->mmap_lock, "mmap_lock", KVMMU_RANK_MMAP_LOCK);
	kvmmu_rwlock_init(&mm->mn_lock, "mn_subscriptions",
			  KVMMU_RANK_MN_SUBSCRIPTIONS);
	kvmmu_itree_init(&mm->vmas);
	INIT_LIST_HEAD(&mm->mn_list);
	atomic_set(&mm->users, 1);
	atomic_set(&mm->count, 1);
	atomic_inc(&h->nr_mms);
	*out = mm;
	return 0;
}

struct kvmmu_host *kvmmu_mm_host(const struct kvmmu_mm *mm)
{
	return mm->host;
}

void kvmmu_mmgrab(struct kvmmu_mm *mm)
{
	atomic_inc(&mm->count);
}

void kvmmu_mmdrop(struct kvmmu_mm *mm)
{
	struct kvmmu_host *h = mm->host;
	int c = atomic_dec_return(&mm->count);

	if (WARN_ON_ONCE(c < 0) || c)
		return;
	WARN_ON_ONCE(mm->nr_vmas != 0);
	host_pt_free_all(mm->pgd);
	kvmmu_rwlock_destroy(&mm->mmap_lock);
	kvmmu_rwlock_destroy(&mm->mn_lock);
	free(mm);
	atomic_dec(&h->nr_mms);
}

void kvmmu_mmget(struct kvmmu_mm *mm)
{
	WARN_ON_ONCE(atomic_fetch_add(1, &mm->users) <= 0);
}

bool kvmmu_mmget_not_zero(struct kvmmu_mm *mm)
{
	return atomic_inc_not_zero(&mm->users);
}

void kvmmu_mmput(struct kvmmu_mm *mm)
{
	int c = atomic_dec_return(&mm->users);

	if (WARN_ON_ONCE(c < 0) || c)
		return;
	host_exit_mmap(mm);
	kvmmu_mmdrop(mm);
}

/* Public wrappers on an opaque mm: lockdep checks them, clang cannot. */
void kvmmu_mmap_read_lock(struct kvmmu_mm *mm) NO_THREAD_SAFETY_ANALYSIS
{
	kvmmu_read_lock(&mm->mmap_lock);
}

void kvmmu_mmap_read_unlock(struct kvmmu_mm *mm) NO_THREAD_SAFETY_ANALYSIS
{
	kvmmu_read_unlock(&mm->mmap_lock);
}

void host_exit_mmap(struct kvmmu_mm *mm)
{
	struct kvmmu_itree_node *n;
	struct host_gather g;

	/* Subscribers tear their mappings down first and hear no more. */
	host_mn_release(mm);

	host_gather_init(&g);
	kvmmu_write_lock(&mm->mmap_lock);
	mm->exited = true;
	while ((n = kvmmu_itree_first(&mm->vmas))) {
		struct host_vma *v = container_of(n, struct host_vma, node);

		host_zap_range(mm, v, v->start, v->end, NULL, &g);
		host_vma_unlink_free(mm, v);
	}
	kvmmu_write_unlock(&mm->mmap_lock);
	host_gather_flush(mm->host, &g);
}

int __host_do_munmap(struct kvmmu_mm *mm, hva_t start, hva_t end)
{
	struct kvmmu_mmu_notifier_range range;
	struct host_vma *v, *next;
	struct host_gather g;
	int r;

	lockdep_assert_held_write(&mm->mmap_lock);
	v = host_find_vma_after(mm, start);
	if (!v || v->start >= end)
		return 0;
	/* Split the VMAs straddling the edges: the kernel's vma gather. */
	if (v->start < start) {
		r = host_vma_split(mm, v, start);
		if (r)
			return r;
		v = host_vma_next(v);
	}
	for (next = v; next && next->start < end; next = host_vma_next(next)) {
		if (next->end > end) {
			r = host_vma_split(mm, next, end);
			if (r)
				return r;
			break;
		}
	}

	host_gather_init(&g);
	host_mn_range_init(&range, KVMMU_MMU_NOTIFY_UNMAP, mm, start, end);
	host_mn_invalidate_range_start(&range);
	for (next = v; next && next->start < end; next = host_vma_next(next))
		host_zap_range(mm, next, next->start, next->end, NULL, &g);
	host_mn_invalidate_range_end(&range);

	while (v && v->start < end) {
		next = host_vma_next(v);
		host_vma_unlink_free(mm, v);
		v = next;
	}
	host_gather_flush(mm->host, &g);
	return 0;
}

int kvmmu_munmap(struct kvmmu_mm *mm, hva_t addr, size_t len)
{
	hva_t end;
	int r;

	if (!PAGE_ALIGNED(addr) || !len)
		return -EINVAL;
	len = ALIGN(len, PAGE_SIZE);
	end = addr + len;
	if (!len || end < addr || end > KVMMU_TASK_SIZE)
		return -EINVAL;
	kvmmu_write_lock(&mm->mmap_lock);
	r = __host_do_munmap(mm, addr, end);
	kvmmu_write_unlock(&mm->mmap_lock);
	return r;
}

static unsigned long prot_to_vm(int prot)
{
	return (prot & PROT_READ ? VM_READ : 0) |
	       (prot & PROT_WRITE ? VM_WRITE : 0) |
	       (prot & PROT_EXEC ? VM_EXEC : 0);
}

/* MAP_POPULATE: fault every page in as populate_vma_page_range() does. */
static int mm_populate(struct kvmmu_mm *mm, hva_t start, hva_t end)
{
	struct host_vma *v;
	hva_t a;
	int r = 0;

	kvmmu_read_lock(&mm->mmap_lock);
	for (a = start; a < end && !r; a += PAGE_SIZE) {
		bool write;

		v = host_find_vma(mm, a);
		if (!v)
			break;
		if (!vma_readable(v) || (v->flags & VM_PFNMAP))
			continue;
		write = (v->flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
		r = host_handle_fault(mm, v, a, write);
	}
	kvmmu_read_unlock(&mm->mmap_lock);
	return r;
}

/* Check the arguments shared by mmap and mmap_pfn; align len. */
static int mmap_check(hva_t addr, size_t *len, int flags)
{
	if (!*len)
		return -EINVAL;
	if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && !PAGE_ALIGNED(addr))
		return -EINVAL;
	if (flags & (MAP_HUGETLB | MAP_GROWSDOWN))
		return -EINVAL; /* not modelled */
	*len = ALIGN(*len, PAGE_SIZE);
	if (!*len || *len > KVMMU_TASK_SIZE)
		return -ENOMEM;
	if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) &&
	    (addr + *len < addr || addr + *len > KVMMU_TASK_SIZE))
		return -ENOMEM;
	return 0;
}

/* Place [addr, addr + len) per the flags; mmap_lock held for write. */
static int mmap_place(struct kvmmu_mm *mm, hva_t *addr, size_t len, int flags)
	REQUIRES(mm->mmap_lock)
{
	if (flags & MAP_FIXED_NOREPLACE) {
		if (!host_range_free(mm, *addr, *addr + len))
			return -EEXIST;
		return 0;
	}
	if (flags & MAP_FIXED)
		return __host_do_munmap(mm, *addr, *addr + len);
	return host_get_unmapped_area(mm, *addr, len, addr);
}

int kvmmu_mmap(struct kvmmu_mm *mm, hva_t addr, size_t len, int prot, int flags,
	       struct kvmmu_file *file, uint64_t off, hva_t *out)
{
	int type = flags & MAP_TYPE, r;
	bool shared = type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
	bool anon = flags & MAP_ANONYMOUS;
	struct kvmmu_file *f = NULL;
	struct host_vma *v;

	if (type != MAP_PRIVATE && !shared)
		return -EINVAL;
	r = mmap_check(addr, &len, flags);
	if (r)
		return r;
	if (!anon && !file)
		return -EBADF;
	if (!anon && (!PAGE_ALIGNED(off) || off + len < off))
		return !PAGE_ALIGNED(off) ? -EINVAL : -EOVERFLOW;

	if (anon && shared) {
		r = host_shmem_create(mm->host, "dev/zero", len, true, &f);
		if (r)
			return r;
		off = 0;
	} else if (!anon) {
		f = file;
		kvmmu_file_get(f);
	}

	kvmmu_write_lock(&mm->mmap_lock);
	r = -ESRCH;
	if (mm->exited)
		goto err_unlock;
	r = mmap_place(mm, &addr, len, flags);
	if (r)
		goto err_unlock;
	r = -ENOMEM;
	v = host_vma_alloc(mm, addr, addr + len,
			   prot_to_vm(prot) | (shared ? VM_SHARED : 0));
	if (!v)
		goto err_unlock;
	v->file = f;
	v->pgoff = f ? off >> PAGE_SHIFT : 0;
	host_vma_link(mm, v);
	host_vma_merge(mm, v);
	kvmmu_write_unlock(&mm->mmap_lock);

	*out = addr;
	if (flags & MAP_POPULATE)
		return mm_populate(mm, addr, addr + len);
	return 0;

err_unlock:
	kvmmu_write_unlock(&mm->mmap_lock);
	if (f)
		kvmmu_file_put(f);
	return r;
}

int kvmmu_mmap_pfn(struct kvmmu_mm *mm, hva_t addr, size_t len, int prot,
		   int flags, kvmmu_pfn_t pfn, enum kvmmu_memtype memtype,
		   bool allow_any_uc, hva_t *out)
{
	struct kvmmu_host *h = mm->host;
	uint64_t bits = PTE_SPECIAL | PTE_YOUNG |
			((uint64_t)memtype << PTE_MT_SHIFT);
	struct host_vma *v;
	kvmmu_pfn_t n, dev_n, dev = kvmmu_host_device_base(h, &dev_n);
	hva_t a;
	int r;

	if ((flags & MAP_TYPE) != MAP_SHARED || memtype > KVMMU_MT_DEVICE)
		return -EINVAL;
	r = mmap_check(addr, &len, flags);
	if (r)
		return r;
	n = len >> PAGE_SHIFT;
	if (!((pfn + n <= h->nr_frames && pfn + n > pfn) ||
	      (pfn >= dev && pfn + n <= dev + dev_n && pfn + n > pfn)))
		return -EINVAL;
	if (prot & PROT_WRITE)
		bits |= PTE_WRITE;
	if (!(prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
		bits |= PTE_PROTNONE;

	kvmmu_write_lock(&mm->mmap_lock);
	r = mm->exited ? -ESRCH : mmap_place(mm, &addr, len, flags);
	if (r)
		goto out;
	r = -ENOMEM;
	v = host_vma_alloc(mm, addr, addr + len,
			   prot_to_vm(prot) | VM_SHARED | VM_IO | VM_PFNMAP |
				   VM_DONTEXPAND |
				   (allow_any_uc ? VM_ALLOW_ANY_UNCACHED : 0));
	if (!v)
		goto out;
	v->pfn = pfn;
	v->memtype = memtype;
	for (a = addr; a < addr + len; a += PAGE_SIZE) {
		struct pt_page *pt;
		uint64_t *ptep = host_pte_offset(mm, a, true, &pt);

		if (!ptep) {
			/* Undo what we populated; nothing else maps it yet. */
			host_vma_link(mm, v);
			__host_do_munmap(mm, addr, addr + len);
			goto out;
		}
		kvmmu_spin_lock(&pt->ptl);
		__atomic_store_n(
			ptep, pfn_pte(pfn + ((a - addr) >> PAGE_SHIFT), bits),
			__ATOMIC_RELEASE);
		kvmmu_spin_unlock(&pt->ptl);
	}
	host_vma_link(mm, v);
	*out = addr;
	r = 0;
out:
	kvmmu_write_unlock(&mm->mmap_lock);
	return r;
}
