/* SPDX-License-Identifier: MIT */
/*
 * Private declarations of the host (primary MMU) layer: frames, page
 * tables, VMAs, files, and the functions the host's files share.
 * Nothing here is visible to other layers; they use include/kvmmu/host.h.
 */
#ifndef KVMMU_HOST_INTERNAL_H
#define KVMMU_HOST_INTERNAL_H

#include <errno.h>
#include <string.h>
#include <kvmmu/host.h>
#include <kvmmu/atomic.h>
#include <kvmmu/interval_tree.h>
#include <kvmmu/lock.h>
#include <kvmmu/log.h>
#include <kvmmu/stats.h>

/* --- frames (pfn.c) ---------------------------------------------------- */

/*
 * struct page, reduced: counts and flags are accessed with atomics; mapping
 * and index are written by the owner of the frame under its lock (page
 * cache, or the allocator for the free-list link kept in index).
 */
struct host_page {
	int refcount;
	int mapcount;
	uint32_t flags;
	uint32_t gen;
	struct kvmmu_file *mapping; /* page cache owner, or NULL */
	uint64_t index;		    /* page cache index / free-list link */
} __cacheline_aligned;

#define HOST_FREE_SHARDS 16
#define HOST_PFN_NONE	 (~(kvmmu_pfn_t)0)

#define HOST_BUMP_BATCH 64

/*
 * Freed frames, in batches of HOST_FREE_BATCH so that a batch moves between
 * shards in O(1).  A free frame's host_page.index holds the links: the low
 * half the next frame of its batch, the high half (in a full batch's first
 * frame) the next full batch; HOST_LINK_NONE ends a list.  PFNs of RAM fit
 * in 32 bits (HOST_MAX_RAM).
 */
#define HOST_FREE_BATCH 64
#define HOST_LINK_NONE	0xffffffffu

struct host_free_shard {
	kvmmu_spinlock_t lock;
	uint32_t partial;    /* the batch being filled or drained */
	uint32_t nr_partial; /* frames in it */
	uint32_t full;	     /* full batches */
	uint64_t count;	     /* every free frame of the shard */
	/* never-used frames carved from the bump pointer for this shard */
	kvmmu_pfn_t bump_next, bump_end;
} __cacheline_aligned;

enum host_stat {
	HS_PGFAULT,
	HS_PGALLOC,
	HS_PGFREE,
	HS_PGREUSE,
	HS_COW_COPY,
	HS_ZERO_FAULT,
	HS_NR_ANON,
	HS_NR_SHMEM,
	HS_MN_INVALIDATE,
	HS_MN_AGE,
	HS_GUP,
	HS_GUP_FAST,
	HS_GUP_FAST_FAIL,
	HS_PTE_ZAP,
	HS_FORK,
	HS_NR,
};

struct kvmmu_host {
	struct kvmmu_host_config cfg;
	uint8_t *ram;
	uint64_t nr_frames;
	struct host_page *pages;
	uint64_t next_unused; /* bump allocator over never-used frames */
	struct host_free_shard free[HOST_FREE_SHARDS];
	uint8_t *dev;
	kvmmu_pfn_t dev_base;
	uint64_t dev_frames;
	struct kvmmu_stats stats;
	atomic_t nr_mms, nr_files;
	atomic64_t anon_vma_seq;
};

#define HOST_ZERO_PFN 0

static inline struct host_page *host_page(const struct kvmmu_host *h,
					  kvmmu_pfn_t pfn)
{
	return &h->pages[pfn];
}

static inline bool host_pfn_is_ram(const struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	return pfn < h->nr_frames;
}

/* A frame whose references are counted: RAM, not the zero frame. */
static inline bool host_pfn_counted(const struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	return pfn != HOST_ZERO_PFN && pfn < h->nr_frames;
}

static inline void *host_pfn_virt(const struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	return h->ram + (pfn << PAGE_SHIFT);
}

static inline void host_stat_inc(struct kvmmu_host *h, enum host_stat s)
{
	kvmmu_stats_inc(&h->stats, s);
}

static inline void host_stat_add(struct kvmmu_host *h, enum host_stat s,
				 int64_t v)
{
	kvmmu_stats_add(&h->stats, s, v);
}

/*
 * Allocate a frame with refcount 1, the given flags, zero-filled if @zero.
 * Return: the PFN or HOST_PFN_NONE when memory is exhausted.
 */
kvmmu_pfn_t host_alloc_page(struct kvmmu_host *h, uint32_t flags, bool zero);
bool host_try_get_page(struct kvmmu_host *h, kvmmu_pfn_t pfn);

static inline void host_page_mapcount_inc(struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	if (host_pfn_counted(h, pfn))
		__atomic_fetch_add(&host_page(h, pfn)->mapcount, 1,
				   __ATOMIC_RELAXED);
}

static inline void host_page_mapcount_dec(struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	if (host_pfn_counted(h, pfn))
		WARN_ON_ONCE(__atomic_sub_fetch(&host_page(h, pfn)->mapcount, 1,
						__ATOMIC_RELAXED) < 0);
}

static inline int host_page_refcount(struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	return __atomic_load_n(&host_page(h, pfn)->refcount, __ATOMIC_ACQUIRE);
}

static inline int host_page_mapcount(struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	return __atomic_load_n(&host_page(h, pfn)->mapcount, __ATOMIC_RELAXED);
}

static inline uint32_t host_page_flags(struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	return __atomic_load_n(&host_page(h, pfn)->flags, __ATOMIC_RELAXED);
}

static inline void host_page_set_flags(struct kvmmu_host *h, kvmmu_pfn_t pfn,
				       uint32_t f)
{
	__atomic_fetch_or(&host_page(h, pfn)->flags, f, __ATOMIC_RELAXED);
}

/* A batch of frame references to drop after invalidate_range_end(). */
struct host_gather {
	kvmmu_pfn_t *pfns;
	size_t nr, cap;
	kvmmu_pfn_t inline_pfns[64];
};

void host_gather_init(struct host_gather *g);
void host_gather_add(struct host_gather *g, kvmmu_pfn_t pfn);
void host_gather_flush(struct kvmmu_host *h, struct host_gather *g);

/* --- page tables (pgtable.c) ------------------------------------------- */

/*
 * Leaf PTE layout (ours, x86-flavoured).  Upper-level entries hold a
 * pointer to the next table with bit 0 set.
 */
#define PTE_PRESENT   (1ull << 0)
#define PTE_WRITE     (1ull << 1)
#define PTE_PROTNONE  (1ull << 2) /* present, but PROT_NONE: no access */
#define PTE_MT_SHIFT  3
#define PTE_MT_MASK   (3ull << PTE_MT_SHIFT)
#define PTE_YOUNG     (1ull << 5)
#define PTE_DIRTY     (1ull << 6)
#define PTE_SPECIAL   (1ull << 9) /* PFNMAP: no struct page behind it */
#define PTE_PFN_SHIFT 12
#define PTE_PFN_MASK  (((1ull << 40) - 1) << PTE_PFN_SHIFT)

#define PT_ENTRIES 512
#define PT_LEVELS  4

struct pt_page {
	uint64_t ent[PT_ENTRIES];
	kvmmu_spinlock_t ptl; /* leaf tables: protects their PTEs */
};

static inline kvmmu_pfn_t pte_pfn(uint64_t pte)
{
	return (pte & PTE_PFN_MASK) >> PTE_PFN_SHIFT;
}

static inline uint64_t pfn_pte(kvmmu_pfn_t pfn, uint64_t bits)
{
	return (pfn << PTE_PFN_SHIFT) | bits | PTE_PRESENT;
}

static inline bool pte_present(uint64_t pte)
{
	return pte & PTE_PRESENT;
}

static inline bool pte_write(uint64_t pte)
{
	return pte & PTE_WRITE;
}

/* Does this PTE let a user access go through without a fault? */
static inline bool pte_access_ok(uint64_t pte, bool write)
{
	if (!(pte & PTE_PRESENT) || (pte & PTE_PROTNONE))
		return false;
	return !write || (pte & PTE_WRITE);
}

static inline enum kvmmu_memtype pte_memtype(uint64_t pte)
{
	return (enum kvmmu_memtype)((pte & PTE_MT_MASK) >> PTE_MT_SHIFT);
}

struct pt_page *host_pt_alloc(void);
void host_pt_free_all(struct pt_page *pgd);

/*
 * The PTE slot for @addr.  With @alloc, missing tables are created
 * (lock-free publication; tables are never freed before the mm is
 * dropped, so lockless walkers are safe while they hold an mm count).
 * Return: the slot and its leaf table in *leaf, or NULL (no table, or
 * out of memory with @alloc).
 */
uint64_t *host_pte_offset(struct kvmmu_mm *mm, hva_t addr, bool alloc,
			  struct pt_page **leaf);

/*
 * Call @fn for each existing leaf table intersecting [start, end): with
 * the table, the first and last+1 index inside it, and the address of
 * index 0.  Missing subtrees are skipped without visiting them.
 */
typedef void (*host_leaf_fn)(struct pt_page *pt, unsigned int from,
			     unsigned int to, hva_t base, void *arg);
void host_walk_leaves(struct kvmmu_mm *mm, hva_t start, hva_t end,
		      host_leaf_fn fn, void *arg);

/* Lowest address >= start, < end, whose level-3 (PUD) entry exists. */
bool host_first_populated_pud(struct kvmmu_mm *mm, hva_t start, hva_t end,
			      hva_t *found);

/* --- files (shmem.c) --------------------------------------------------- */

struct kvmmu_file {
	struct kvmmu_host *host;
	atomic_t refs;
	kvmmu_mutex_t inode_lock; /* size changes, truncate, punch hole */
	kvmmu_rwlock_t i_mmap_lock;
	struct list_head i_mmap; /* VMAs mapping this file */
	kvmmu_spinlock_t cache_lock;
	kvmmu_pfn_t *cache; /* index -> PFN, 0 = not cached */
	uint64_t cap;	    /* slots in cache[] */
	uint64_t size;	    /* i_size; written under cache_lock */
	uint64_t nr_pages;
	bool internal; /* backs a MAP_SHARED|MAP_ANONYMOUS mapping */
	char name[32];
};

int host_shmem_create(struct kvmmu_host *h, const char *name, uint64_t size,
		      bool internal, struct kvmmu_file **out);
/*
 * Find or create the page at @index with a reference for the caller.
 * Return: 0, -EFAULT beyond the end (SIGBUS), -ENOMEM.
 */
int host_shmem_get_page(struct kvmmu_file *f, uint64_t index, bool create,
			kvmmu_pfn_t *pfn);
/* Under the PTL: is @pfn still the cached page at @index?  Takes cache_lock. */
bool host_shmem_page_valid(struct kvmmu_file *f, uint64_t index,
			   kvmmu_pfn_t pfn);

/* --- VMAs and address spaces (vma.c, mmap.c) ---------------------------- */

#define VM_READ		      KVMMU_VM_READ
#define VM_WRITE	      KVMMU_VM_WRITE
#define VM_EXEC		      KVMMU_VM_EXEC
#define VM_SHARED	      KVMMU_VM_SHARED
#define VM_IO		      KVMMU_VM_IO
#define VM_PFNMAP	      KVMMU_VM_PFNMAP
#define VM_DONTCOPY	      KVMMU_VM_DONTCOPY
#define VM_DONTEXPAND	      KVMMU_VM_DONTEXPAND
#define VM_MERGEABLE	      KVMMU_VM_MERGEABLE
#define VM_ALLOW_ANY_UNCACHED KVMMU_VM_ALLOW_ANY_UNCACHED
#define VM_ACCESS_FLAGS	      (VM_READ | VM_WRITE | VM_EXEC)

struct host_vma {
	struct kvmmu_itree_node node; /* [start, end - 1] */
	struct kvmmu_mm *mm;
	hva_t start, end;
	unsigned long flags;
	struct kvmmu_file *file; /* holds a file reference */
	uint64_t pgoff;		 /* file page at start */
	kvmmu_pfn_t pfn;	 /* PFNMAP: frame at start */
	enum kvmmu_memtype memtype;
	uint64_t anon_vma; /* 0: no anonymous pages yet; else an identity */
	struct list_head i_mmap_link;
};

static inline bool vma_readable(const struct host_vma *v)
{
	return v->flags & VM_ACCESS_FLAGS; /* write/exec imply read on x86 */
}

static inline bool vma_is_anon_private(const struct host_vma *v)
{
	return !v->file && !(v->flags & (VM_SHARED | VM_PFNMAP));
}

static inline uint64_t vma_pgoff_of(const struct host_vma *v, hva_t addr)
{
	return v->pgoff + ((addr - v->start) >> PAGE_SHIFT);
}

struct kvmmu_mm {
	struct kvmmu_host *host;
	kvmmu_rwlock_t mmap_lock;
	struct kvmmu_itree_root vmas;
	unsigned long nr_vmas;
	struct pt_page *pgd;
	atomic_t users, count;
	bool exited;
	/* notifier subscriptions (mmu_notifier.c) */
	kvmmu_rwlock_t mn_lock;
	struct list_head mn_list;
	atomic_t mn_nr;
};

struct host_vma *host_find_vma(struct kvmmu_mm *mm, hva_t addr)
	REQUIRES_SHARED(mm->mmap_lock);
/* First VMA ending after @addr (Linux's find_vma), or NULL. */
struct host_vma *host_find_vma_after(struct kvmmu_mm *mm, hva_t addr)
	REQUIRES_SHARED(mm->mmap_lock);
struct host_vma *host_vma_next(struct host_vma *v);
struct host_vma *host_vma_prev(struct host_vma *v);
bool host_range_free(struct kvmmu_mm *mm, hva_t start, hva_t end)
	REQUIRES_SHARED(mm->mmap_lock);
int host_get_unmapped_area(struct kvmmu_mm *mm, hva_t hint, size_t len,
			   hva_t *out) REQUIRES(mm->mmap_lock);

struct host_vma *host_vma_alloc(struct kvmmu_mm *mm, hva_t start, hva_t end,
				unsigned long flags);
void host_vma_link(struct kvmmu_mm *mm, struct host_vma *v)
	REQUIRES(mm->mmap_lock);
void host_vma_unlink_free(struct kvmmu_mm *mm, struct host_vma *v)
	REQUIRES(mm->mmap_lock);
int host_vma_split(struct kvmmu_mm *mm, struct host_vma *v, hva_t addr)
	REQUIRES(mm->mmap_lock);
void host_vma_set_range(struct kvmmu_mm *mm, struct host_vma *v, hva_t start,
			hva_t end, uint64_t pgoff) REQUIRES(mm->mmap_lock);
struct host_vma *host_vma_merge(struct kvmmu_mm *mm, struct host_vma *v)
	REQUIRES(mm->mmap_lock);
/* Split so that [start, end) of @v is a VMA of its own; return it. */
struct host_vma *host_vma_isolate(struct kvmmu_mm *mm, struct host_vma *v,
				  hva_t start, hva_t end, int *err)
	REQUIRES(mm->mmap_lock);
uint64_t host_new_anon_vma(struct kvmmu_host *h);

/* munmap with the lock held for write (used by mmap, mremap). */
int __host_do_munmap(struct kvmmu_mm *mm, hva_t start, hva_t end)
	REQUIRES(mm->mmap_lock);

/* --- faults and zaps (memory.c) ---------------------------------------- */

/*
 * handle_mm_fault(): make @addr accessible for the access.
 * Return: 0 (retry the access), -EFAULT, -ENOMEM.
 */
int host_handle_fault(struct kvmmu_mm *mm, struct host_vma *v, hva_t addr,
		      bool write) REQUIRES_SHARED(mm->mmap_lock);

struct host_zap_filter {
	struct kvmmu_file *file; /* only page-cache pages of this file */
	kvmmu_pfn_t pfn;	 /* only this frame (HOST_PFN_NONE: any) */
};

/*
 * Clear the PTEs of [start, end) inside @v (no notifier: the caller
 * brackets it), dropping mapcounts; references go to @g.
 */
void host_zap_range(struct kvmmu_mm *mm, struct host_vma *v, hva_t start,
		    hva_t end, const struct host_zap_filter *filter,
		    struct host_gather *g);

/* zap_page_range_single(): CLEAR start/zap/end, then free. */
void host_zap_range_notify(struct kvmmu_mm *mm, struct host_vma *v, hva_t start,
			   hva_t end, const struct host_zap_filter *filter);

/* --- notifiers (mmu_notifier.c) ------------------------------------------ */

static inline void host_mn_range_init(struct kvmmu_mmu_notifier_range *r,
				      enum kvmmu_mmu_notifier_event ev,
				      struct kvmmu_mm *mm, hva_t start,
				      hva_t end)
{
	r->mm = mm;
	r->start = start;
	r->end = end;
	r->flags = KVMMU_MMU_NOTIFIER_RANGE_BLOCKABLE;
	r->event = ev;
	r->owner = NULL;
}

void host_mn_invalidate_range_start(const struct kvmmu_mmu_notifier_range *r);
void host_mn_invalidate_range_end(const struct kvmmu_mmu_notifier_range *r);
bool host_mn_age(struct kvmmu_mm *mm, hva_t start, hva_t end,
		 enum kvmmu_age_op op);
void host_mn_release(struct kvmmu_mm *mm);

/* Exit an mm whose last user went away (mmput). */
void host_exit_mmap(struct kvmmu_mm *mm);

#endif /* KVMMU_HOST_INTERNAL_H */
