/* SPDX-License-Identifier: MIT */
/*
 * The host: kvmmu's primary MMU, playing the Linux mm.
 *
 * A host owns physical memory (one MAP_NORESERVE region cut into 4 KiB
 * frames, PFN = index) and a device aperture (PFNs above RAM, for PFNMAP
 * mappings).  Address spaces (struct kvmmu_mm) have VMAs and 4-level page
 * tables; the operations below change them as the Linux system calls do, and
 * every change that removes, replaces or downgrades a mapping is bracketed
 * by invalidate_range_start/end on the mm's MMU-notifier chain (see the
 * event table in docs/design.md and kvm-mmu-protocol.md §8.3).
 *
 * Conventions: functions return 0 or the kernel's -errno for the same
 * system call; flag and advice values are Linux's own (PROT_*, MAP_*,
 * MADV_*, MREMAP_*, FALLOC_FL_* from the system headers).  Unless a
 * function says otherwise it may block (it takes the mm's mmap_lock) and
 * must not be called with any kvmmu host lock held or from inside an MMU
 * notifier callback.
 */
#ifndef KVMMU_HOST_H
#define KVMMU_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <linux/falloc.h>
#include "compiler.h"
#include "list.h"
#include "types.h"

struct kvmmu_host;
struct kvmmu_mm;
struct kvmmu_file;

/* --- the machine --------------------------------------------------------- */

struct kvmmu_host_config {
	uint64_t ram_bytes;    /* default 1 GiB; multiple of 4 KiB; <= 64 GiB */
	uint64_t device_bytes; /* device aperture for PFNMAP; default 16 MiB */
	bool prepopulate;      /* touch all RAM now (a hypervisor's prealloc) */
	bool no_poison;	       /* don't poison freed frames (benchmarks) */
	/* Zero frames when they are freed instead of when they are
	 * allocated (Linux's init_on_free=1); replaces poisoning. */
	bool init_on_free;
};

/**
 * kvmmu_host_create() - create a host with its physical memory.
 * @cfg: may be NULL for the defaults.
 * Return: 0, -EINVAL (bad size), -ENOMEM.  Context: any.
 */
int kvmmu_host_create(const struct kvmmu_host_config *cfg,
		      struct kvmmu_host **out);

/**
 * kvmmu_host_destroy() - free the host and its memory.
 * Return: 0, or -EBUSY (and nothing freed) while an mm or file still
 * exists.  Context: no other thread uses the host.
 */
int kvmmu_host_destroy(struct kvmmu_host *host);

/* Frame flags (struct kvmmu_page_info.flags). */
#define KVMMU_PG_ANON	    (1u << 0)
#define KVMMU_PG_ZERO	    (1u << 1) /* the shared zero frame */
#define KVMMU_PG_PAGECACHE  (1u << 2) /* belongs to a file's page cache */
#define KVMMU_PG_KSM	    (1u << 3) /* KSM-ready / merged */
#define KVMMU_PG_DIRTY	    (1u << 4)
#define KVMMU_PG_REFERENCED (1u << 5)
#define KVMMU_PG_FREE	    (1u << 6)
#define KVMMU_PG_DEVICE	    (1u << 7) /* device aperture, not RAM */

struct kvmmu_page_info {
	int refcount;
	int mapcount;
	uint32_t flags;
	uint32_t gen; /* bumped every time the frame is freed */
};

/** Number of RAM frames; PFNs 0..n-1 (PFN 0 is the zero frame). */
uint64_t kvmmu_host_nr_frames(const struct kvmmu_host *host);
/** The shared zero frame's PFN. */
kvmmu_pfn_t kvmmu_zero_pfn(const struct kvmmu_host *host);
/** The device aperture: first PFN and number of frames. */
kvmmu_pfn_t kvmmu_host_device_base(const struct kvmmu_host *host,
				   uint64_t *nr_frames);

/**
 * kvmmu_page_info() - a racy snapshot of a frame's state.
 * Return: 0, or -EINVAL for a PFN that is neither RAM nor device.
 * Context: any, lockless.
 */
int kvmmu_page_info(const struct kvmmu_host *host, kvmmu_pfn_t pfn,
		    struct kvmmu_page_info *out);

/** A frame's generation (bumped on every free); 0 for non-RAM frames.
 * Context: any, lockless (acquire). */
uint32_t kvmmu_page_gen(const struct kvmmu_host *host, kvmmu_pfn_t pfn);
/** Is the frame free (on a free list or never used)?  Racy snapshot. */
bool kvmmu_page_is_free(const struct kvmmu_host *host, kvmmu_pfn_t pfn);

/**
 * kvmmu_pfn_to_virt() - where the bytes of a frame live in this process.
 * Return: pointer to PAGE_SIZE bytes, or NULL for an invalid PFN.  The
 * pointer is valid while the caller holds a reference (or, for device
 * frames, for the host's lifetime).  Context: any, lockless.
 */
void *kvmmu_pfn_to_virt(const struct kvmmu_host *host, kvmmu_pfn_t pfn);

/* Take / drop a reference on a RAM frame (no-ops on zero and device). */
void kvmmu_get_page(struct kvmmu_host *host, kvmmu_pfn_t pfn);
void kvmmu_put_page(struct kvmmu_host *host, kvmmu_pfn_t pfn);

struct kvmmu_host_audit {
	uint64_t frames; /* RAM frames, excluding the zero frame */
	uint64_t free;	 /* on the free lists or never used */
	uint64_t in_use; /* refcount > 0 */
	uint64_t anon, pagecache;
	uint64_t bad;	     /* inconsistent: negative counts, free frame
				    with references, mapcount > refcount ... */
	uint64_t mms, files; /* live objects */
};

/**
 * kvmmu_host_audit() - walk every frame and check its accounting.
 * Return: 0 if consistent, -EUCLEAN if some frame is bad (details logged).
 * Context: quiescent host (no concurrent operations).
 */
int kvmmu_host_audit(struct kvmmu_host *host, struct kvmmu_host_audit *out);

/** The host's statistics (pgfault, pgalloc, pgfree, ...). */
struct kvmmu_stats *kvmmu_host_stats(struct kvmmu_host *host);

/* --- address spaces --------------------------------------------------------- */

/**
 * kvmmu_mm_create() - a new, empty address space.
 * Return: 0 or -ENOMEM; *out has one user and one count reference.
 */
int kvmmu_mm_create(struct kvmmu_host *host, struct kvmmu_mm **out);

/*
 * Two references, as in Linux: users (mmget/mmput) keep the address space
 * alive; when the last one goes, the mm is torn down (notifier release,
 * every mapping removed).  count (mmgrab/mmdrop) keeps the object itself
 * alive, as KVM holds it.  Context: any; mmput may block.
 */
void kvmmu_mmget(struct kvmmu_mm *mm);
bool kvmmu_mmget_not_zero(struct kvmmu_mm *mm);
void kvmmu_mmput(struct kvmmu_mm *mm);
void kvmmu_mmgrab(struct kvmmu_mm *mm);
void kvmmu_mmdrop(struct kvmmu_mm *mm);
struct kvmmu_host *kvmmu_mm_host(const struct kvmmu_mm *mm);

/* The mm's mmap_lock, for callers that must sample VMA state stably. */
void kvmmu_mmap_read_lock(struct kvmmu_mm *mm);
void kvmmu_mmap_read_unlock(struct kvmmu_mm *mm);

/**
 * kvmmu_mmap() - mmap(2).  @flags: MAP_PRIVATE, MAP_SHARED or
 * MAP_SHARED_VALIDATE (as Linux, the MAP_TYPE bits), MAP_ANONYMOUS or a
 * @file, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_POPULATE (unlike Linux, a
 * populate that runs out of frames fails the call with -ENOMEM).
 * @off: file offset, page aligned.  @addr: hint, or the address with
 * MAP_FIXED (an existing mapping there is unmapped first, with UNMAP).
 * Return: 0 and *out = start; -EINVAL (bad flags, len 0, unaligned
 * addr/off), -EEXIST (MAP_FIXED_NOREPLACE over a mapping), -ENOMEM (no
 * room, len overflow, out of memory with MAP_POPULATE), -EBADF (no file
 * given without MAP_ANONYMOUS).
 */
int kvmmu_mmap(struct kvmmu_mm *mm, hva_t addr, size_t len, int prot, int flags,
	       struct kvmmu_file *file, uint64_t off, hva_t *out);

enum kvmmu_memtype {
	KVMMU_MT_WB,	 /* normal cacheable */
	KVMMU_MT_NC,	 /* normal non-cacheable (write-combining) */
	KVMMU_MT_DEVICE, /* device (nGnRE / UC) */
};

/**
 * kvmmu_mmap_pfn() - map device frames as a driver's mmap with
 * remap_pfn_range() does (VM_IO | VM_PFNMAP | VM_DONTEXPAND, PTEs
 * populated now, special, no struct-page references).  Shared only.
 * @pfn: first frame, inside the device aperture (or RAM, for tests of
 * cacheable PFNMAP of RAM).  @allow_any_uc: VM_ALLOW_ANY_UNCACHED, as
 * vfio-pci sets it.  Return: as kvmmu_mmap(), -EINVAL for a PFN range
 * outside RAM and the aperture.
 */
int kvmmu_mmap_pfn(struct kvmmu_mm *mm, hva_t addr, size_t len, int prot,
		   int flags, kvmmu_pfn_t pfn, enum kvmmu_memtype memtype,
		   bool allow_any_uc, hva_t *out);

/** munmap(2).  Return: 0, -EINVAL (unaligned, len 0, beyond TASK_SIZE). */
int kvmmu_munmap(struct kvmmu_mm *mm, hva_t addr, size_t len);

/**
 * mprotect(2).  Return: 0, -EINVAL (unaligned start, unknown prot bits),
 * -ENOMEM (a hole in the range; VMAs before the hole are changed).
 */
int kvmmu_mprotect(struct kvmmu_mm *mm, hva_t addr, size_t len, int prot);

/**
 * mremap(2), as Linux 6.18.  @flags: MREMAP_MAYMOVE, MREMAP_FIXED and
 * MREMAP_DONTUNMAP (both need MAYMOVE; DONTUNMAP keeps the size, leaves
 * the old range mapped but empty, and without FIXED takes @new_addr as a
 * hint).  In place, keeping or shrinking the size needs only a VMA at
 * @old_addr: the range may span VMAs and holes (a shrink unmaps whatever
 * the tail holds).  A same-size FIXED move may span VMAs and holes too:
 * each VMA's piece moves, with its pages and protection, to the same
 * offset from @new_addr (that piece of the destination unmapped first),
 * so holes stay holes and the destination keeps what it maps over them;
 * a piece that fails leaves the pieces before it moved.  Anything else
 * needs the range (after a shrink, what is left) within one VMA.
 * Return: 0 and *out; -EINVAL (unaligned, new_len 0 or above TASK_SIZE,
 * bad flags, FIXED or DONTUNMAP without MAYMOVE, DONTUNMAP resizing, the
 * new range overlapping the old, old_len 0, DONTUNMAP of a PFNMAP or
 * VM_DONTEXPAND VMA), -EFAULT (no VMA at @old_addr, a FIXED same-size
 * range starting in a hole, any other move or growth leaving the VMA, a
 * PFNMAP range grown), -ENOMEM (cannot grow in place without MAYMOVE, no
 * room).  Other than -ENOMEM or a failing later piece of a multi-VMA
 * move, an error comes before anything changes.
 */
int kvmmu_mremap(struct kvmmu_mm *mm, hva_t old_addr, size_t old_len,
		 size_t new_len, int flags, hva_t new_addr, hva_t *out);

/**
 * madvise(2).  Modelled: MADV_DONTNEED, MADV_REMOVE, MADV_DONTFORK,
 * MADV_DOFORK, MADV_MERGEABLE, MADV_UNMERGEABLE; MADV_NORMAL, _RANDOM,
 * _SEQUENTIAL, _WILLNEED are accepted and do nothing.  Return: 0, -EINVAL
 * (unaligned, unknown advice, DONTNEED of PFNMAP, REMOVE of a private
 * anonymous range, DOFORK of VM_IO), -EACCES (REMOVE of a private file
 * mapping), -ENOMEM (a hole in the range, after the rest was applied).
 */
int kvmmu_madvise(struct kvmmu_mm *mm, hva_t addr, size_t len, int advice);

/**
 * kvmmu_fork() - fork(2) of @mm's address space: private anonymous ranges
 * become copy-on-write in both (the parent's PTEs write-protected under a
 * PROTECTION_PAGE invalidation), shared ranges stay shared, MADV_DONTFORK
 * ranges are left out.  Return: 0 and *child (one user reference), -ENOMEM.
 */
int kvmmu_fork(struct kvmmu_mm *mm, struct kvmmu_mm **child);

/**
 * kvmmu_ksm_merge() - KSM, synchronously: merge the identical private
 * anonymous pages of @mm's MADV_MERGEABLE memory in [@addr, @addr + @len),
 * as one ksmd pass over the range would.  Each page of a group of identical
 * pages is write-protected and replaced by one shared read-only KSM frame
 * under a CLEAR invalidation of its address (the secondary MMU zaps it);
 * a later write copies (COW).  Pages pinned by an in-flight GUP (more
 * references than mappings) are left alone, as ksmd would skip them.
 * Return: the number of pages of the range that share a frame with another
 * page of the range afterwards, or -EINVAL (unaligned), -ENOMEM.
 * Context: takes mmap_lock for read; may block.
 * Models: mm/ksm.c try_to_merge_one_page(), write_protect_page(),
 * replace_page()
 */
int kvmmu_ksm_merge(struct kvmmu_mm *mm, hva_t addr, size_t len);

/*
 * Access memory as a user thread of this process would: page faults are
 * taken as needed (zero page on read, allocation or COW on write).
 * Return: 0, -EFAULT (no VMA, protection, beyond a file's end), -ENOMEM
 * (the host is out of frames); on error the bytes before the failing page
 * may have been transferred.
 * Context: may block; threads may access concurrently with any operation.
 */
int kvmmu_mm_read(struct kvmmu_mm *mm, hva_t addr, void *buf, size_t len);
int kvmmu_mm_write(struct kvmmu_mm *mm, hva_t addr, const void *buf,
		   size_t len);
int kvmmu_mm_memset(struct kvmmu_mm *mm, hva_t addr, int c, size_t len);

/* --- GUP (hva_to_pfn's host side, kvm-mmu-protocol.md §2.6) -------------- */

#define KVMMU_FOLL_WRITE  (1u << 0) /* need a writable mapping: breaks COW */
/* Never fault: -EAGAIN if the PTE does not already allow the access
 * (stricter than Linux's FOLL_NOWAIT, which only avoids waiting on I/O). */
#define KVMMU_FOLL_NOWAIT (1u << 1)

/**
 * kvmmu_get_user_page() - get_user_pages() of one page: fault it in if
 * needed (a write breaks COW) and return its frame with a reference.
 * @writable: set to whether the host PTE is writable now.
 * Return: 0; -EFAULT (no VMA, PROT_NONE, write to a read-only VMA, VM_IO or
 * VM_PFNMAP, beyond a file's end); -EAGAIN (FOLL_NOWAIT and not present);
 * -ENOMEM.  Context: may block; takes mmap_lock for read.
 */
int kvmmu_get_user_page(struct kvmmu_mm *mm, hva_t hva, unsigned int foll,
			kvmmu_pfn_t *pfn, bool *writable);

/**
 * kvmmu_get_user_page_fast_only() - the lockless walk alone: succeeds only
 * if the PTE is present and allows the access, and never faults.
 * Return: 0 (with a reference), or -EAGAIN.  Context: any, lockless; the
 * caller holds an mm reference (mmgrab).
 */
int kvmmu_get_user_page_fast_only(struct kvmmu_mm *mm, hva_t hva,
				  unsigned int foll, kvmmu_pfn_t *pfn,
				  bool *writable);

/**
 * kvmmu_follow_pfnmap() - follow_pfnmap_start(): the frame behind a
 * VM_IO/VM_PFNMAP address, without a reference.
 * Return: 0; -EFAULT (no VMA, not PFNMAP, no PTE); -EACCES for a write
 * through a read-only PTE (KVM turns it into KVM_PFN_ERR_RO_FAULT).
 */
int kvmmu_follow_pfnmap(struct kvmmu_mm *mm, hva_t hva, bool write,
			kvmmu_pfn_t *pfn, bool *writable,
			enum kvmmu_memtype *memtype);

/* VMA flags (struct kvmmu_vma_info.flags), Linux's meanings. */
#define KVMMU_VM_READ		    (1ul << 0)
#define KVMMU_VM_WRITE		    (1ul << 1)
#define KVMMU_VM_EXEC		    (1ul << 2)
#define KVMMU_VM_SHARED		    (1ul << 3)
#define KVMMU_VM_IO		    (1ul << 14)
#define KVMMU_VM_DONTCOPY	    (1ul << 17) /* MADV_DONTFORK */
#define KVMMU_VM_DONTEXPAND	    (1ul << 18)
#define KVMMU_VM_PFNMAP		    (1ul << 10)
#define KVMMU_VM_MERGEABLE	    (1ul << 31)
#define KVMMU_VM_ALLOW_ANY_UNCACHED (1ul << 39)

struct kvmmu_vma_info {
	hva_t start, end;
	unsigned long flags;
	struct kvmmu_file *file; /* NULL: anonymous private or PFNMAP */
	uint64_t pgoff;		 /* file page of start */
	kvmmu_pfn_t pfn;	 /* PFNMAP: frame of start */
	enum kvmmu_memtype memtype;
};

/**
 * kvmmu_vma_lookup() - the VMA containing @hva.
 * Return: 0, or -EFAULT if none.  Context: takes mmap_lock for read unless
 * the caller holds it (use __kvmmu_vma_lookup() then).
 */
int kvmmu_vma_lookup(struct kvmmu_mm *mm, hva_t hva,
		     struct kvmmu_vma_info *out);
int __kvmmu_vma_lookup(struct kvmmu_mm *mm, hva_t hva,
		       struct kvmmu_vma_info *out);

/** Number of VMAs (for tests and stats).  Context: takes mmap_lock. */
unsigned long kvmmu_mm_nr_vmas(struct kvmmu_mm *mm);

struct kvmmu_pte_info {
	bool present, write, young, dirty, special, protnone;
	kvmmu_pfn_t pfn;
	enum kvmmu_memtype memtype;
};

/**
 * kvmmu_mm_lookup_pte() - a racy snapshot of the host PTE mapping @hva.
 * Return: 0 (present or not), -EFAULT if no page table covers it.
 * Context: any, lockless; the caller holds an mm reference.
 */
int kvmmu_mm_lookup_pte(struct kvmmu_mm *mm, hva_t hva,
			struct kvmmu_pte_info *out);

/* --- aging -------------------------------------------------------------------- */

enum kvmmu_age_op {
	KVMMU_AGE_CLEAR_FLUSH_YOUNG, /* ptep_clear_flush_young_notify */
	KVMMU_AGE_CLEAR_YOUNG,	     /* ptep_clear_young_notify */
	KVMMU_AGE_TEST_YOUNG,	     /* pte_young || mmu_notifier_test_young */
};

/**
 * kvmmu_mm_age_range() - what reclaim and idle-page tracking do to each
 * present PTE of [start, end): test (and for the CLEAR ops clear) the host
 * young bit and ask the notifier subscribers the same of that page.
 * Return: the number of pages young in the host or any subscriber.
 * Context: may block; takes mmap_lock for read.
 */
unsigned long kvmmu_mm_age_range(struct kvmmu_mm *mm, hva_t start, hva_t end,
				 enum kvmmu_age_op op);

/* --- files: memfd / shmem -------------------------------------------------- */

/**
 * kvmmu_memfd_create() - a shmem file of size 0 (memfd_create(2)).
 * Return: 0 or -ENOMEM; *out holds one reference (the "fd").
 */
int kvmmu_memfd_create(struct kvmmu_host *host, const char *name,
		       struct kvmmu_file **out);
void kvmmu_file_get(struct kvmmu_file *file);
/* Drop a reference ("close"); mappings keep their own. */
void kvmmu_file_put(struct kvmmu_file *file);
uint64_t kvmmu_file_size(struct kvmmu_file *file);

/**
 * ftruncate(2): shrinking unmaps (CLEAR) and frees the pages past the end.
 * Return: 0, -EINVAL (size too large).
 */
int kvmmu_ftruncate(struct kvmmu_file *file, uint64_t size);

/**
 * fallocate(2): @mode 0 or FALLOC_FL_KEEP_SIZE allocates (zeroed pages),
 * FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE unmaps (CLEAR) and frees the
 * whole pages of the range and zeroes the partial ones.
 * Return: 0, -EOPNOTSUPP (other modes, PUNCH_HOLE without KEEP_SIZE),
 * -EINVAL (len 0), -EFBIG (off + len overflows), -ENOMEM.
 */
int kvmmu_fallocate(struct kvmmu_file *file, int mode, uint64_t off,
		    uint64_t len);

/* pread(2)/pwrite(2) on the file; pwrite past the end extends it.
 * Return: 0 or -ENOMEM; reads past the end give zeros. */
int kvmmu_file_pread(struct kvmmu_file *file, void *buf, size_t len,
		     uint64_t off);
int kvmmu_file_pwrite(struct kvmmu_file *file, const void *buf, size_t len,
		      uint64_t off);
/** Pages resident in the page cache. */
uint64_t kvmmu_file_nr_pages(struct kvmmu_file *file);

/* --- MMU notifiers (include/linux/mmu_notifier.h, protocol §8) ------------- */

enum kvmmu_mmu_notifier_event {
	KVMMU_MMU_NOTIFY_UNMAP = 0,
	KVMMU_MMU_NOTIFY_CLEAR,
	KVMMU_MMU_NOTIFY_PROTECTION_VMA,
	KVMMU_MMU_NOTIFY_PROTECTION_PAGE,
	KVMMU_MMU_NOTIFY_SOFT_DIRTY,
	KVMMU_MMU_NOTIFY_RELEASE,
	KVMMU_MMU_NOTIFY_MIGRATE,
	KVMMU_MMU_NOTIFY_EXCLUSIVE,
};

#define KVMMU_MMU_NOTIFIER_RANGE_BLOCKABLE (1u << 0)

struct kvmmu_mmu_notifier_range {
	struct kvmmu_mm *mm;
	hva_t start, end; /* [start, end) */
	unsigned int flags;
	enum kvmmu_mmu_notifier_event event;
	void *owner;
};

static inline bool
kvmmu_mmu_notifier_range_blockable(const struct kvmmu_mmu_notifier_range *r)
{
	return r->flags & KVMMU_MMU_NOTIFIER_RANGE_BLOCKABLE;
}

struct kvmmu_mmu_notifier;

/*
 * Subscriber callbacks.  Context for all of them: called with the host's
 * locks that the operation holds (mmap_lock in either mode, or a file's
 * i_mmap lock) but never a page-table lock; they may block (when the range
 * is blockable) and must not call back into the host's mm operations or
 * unregister.  invalidate_range_start runs while the pages are still mapped
 * and referenced; invalidate_range_end after the PTEs changed and before
 * any frame of the range is freed.  Young ops return whether the
 * subscriber's own mapping was young.  Any op may be NULL.
 */
struct kvmmu_mmu_notifier_ops {
	void (*release)(struct kvmmu_mmu_notifier *sub, struct kvmmu_mm *mm);
	bool (*clear_flush_young)(struct kvmmu_mmu_notifier *sub,
				  struct kvmmu_mm *mm, hva_t start, hva_t end);
	bool (*clear_young)(struct kvmmu_mmu_notifier *sub, struct kvmmu_mm *mm,
			    hva_t start, hva_t end);
	bool (*test_young)(struct kvmmu_mmu_notifier *sub, struct kvmmu_mm *mm,
			   hva_t addr);
	int (*invalidate_range_start)(
		struct kvmmu_mmu_notifier *sub,
		const struct kvmmu_mmu_notifier_range *range);
	void (*invalidate_range_end)(
		struct kvmmu_mmu_notifier *sub,
		const struct kvmmu_mmu_notifier_range *range);
};

struct kvmmu_mmu_notifier {
	const struct kvmmu_mmu_notifier_ops *ops;
	struct kvmmu_mm *mm;
	struct list_head link;
	bool released; /* release already delivered */
};

/**
 * kvmmu_mmu_notifier_register() - subscribe @sub (ops set) to @mm.
 * Holds an mm count reference until unregister.
 * Return: 0, -EINVAL (no ops, already registered), -ESRCH (mm exited).
 * Context: takes mmap_lock for write.
 */
int kvmmu_mmu_notifier_register(struct kvmmu_mmu_notifier *sub,
				struct kvmmu_mm *mm);

/**
 * kvmmu_mmu_notifier_unregister() - unsubscribe: delivers release if the
 * mm has not already, waits for callbacks in flight, drops the reference.
 * Context: may block; not from inside a callback.
 */
void kvmmu_mmu_notifier_unregister(struct kvmmu_mmu_notifier *sub,
				   struct kvmmu_mm *mm);

/** A name for an event ("UNMAP", "CLEAR", ...). */
const char *kvmmu_mmu_notifier_event_name(enum kvmmu_mmu_notifier_event e);

#endif /* KVMMU_HOST_H */
