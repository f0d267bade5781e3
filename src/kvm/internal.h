/* SPDX-License-Identifier: MIT */
/*
 * Private declarations of the secondary MMU (KVM's kvm_mm.h + the parts of
 * kvm_host.h that the model needs).  Shared by src/kvm, src/vcpu and the
 * read-only checker in src/check.
 */
#ifndef KVMMU_KVM_INTERNAL_H
#define KVMMU_KVM_INTERNAL_H

#include <kvmmu/atomic.h>
#include <kvmmu/interval_tree.h>
#include <kvmmu/kvm.h>
#include <kvmmu/lock.h>
#include <kvmmu/log.h>
#include <kvmmu/stats.h>
#include <kvmmu/vcpu.h>

#define KVMMU_MAX_VCPUS		    256
#define KVMMU_MAX_NR_ADDRESS_SPACES 2
#define INVALID_GPA		    (~(gfn_t)0)

struct kvmmu_check_log;

/* --- SRCU (srcu.c) ---------------------------------------------------------
 *
 * Sleepable RCU with its own C11-atomic reader counters (sharded per thread
 * so readers do not share cache lines), so TSan sees every ordering.
 */
#define KVMMU_SRCU_SHARDS 16

/* One cache line: the counts of the readers of one thread shard. */
struct kvmmu_srcu_shard {
	/* [idx]: lock and unlock counts of readers that entered on idx */
	unsigned long lock[2], unlock[2];
	unsigned long pad[64 / sizeof(long) - 4];
};

/*
 * The shards start at the first 64-byte boundary of @shard_mem, so that an
 * srcu embedded in a calloc()ed struct needs no over-aligned allocation
 * (the trick of kvmmu_rwlock_t).
 */
struct kvmmu_srcu {
	unsigned long idx;     /* low bit: the index new readers use */
	kvmmu_mutex_t gp_lock; /* serialises grace periods */
	unsigned long shard_mem[(KVMMU_SRCU_SHARDS + 1) * 64 / sizeof(long)];
};

void kvmmu_srcu_init(struct kvmmu_srcu *s);
void kvmmu_srcu_destroy(struct kvmmu_srcu *s);
/* Return: the index to pass to unlock.  Context: any; nests. */
int kvmmu_srcu_read_lock(struct kvmmu_srcu *s);
void kvmmu_srcu_read_unlock(struct kvmmu_srcu *s, int idx);
/* Wait until every reader that entered before the call has left.
 * Context: may block; not inside a read-side section of @s. */
void kvmmu_synchronize_srcu(struct kvmmu_srcu *s);
/* Debug: is the calling thread inside a read section of @s? (best effort) */
bool kvmmu_srcu_read_lock_held(const struct kvmmu_srcu *s);

/* --- memslots (memslots.c, memslot_ioctl.c, kvm-mmu-protocol.md §2) ------ */

#define KVMMU_MEMSLOT_INVALID		     (1u << 16)
#define KVMMU_MEMSLOT_GEN_UPDATE_IN_PROGRESS (1ull << 63)

struct kvmmu_memory_slot {
	struct kvmmu_itree_node hva_node[2]; /* [uaddr, uaddr+size-1] */
	struct kvmmu_itree_node gfn_node[2]; /* [base, base+npages-1] */
	gfn_t base_gfn;
	uint64_t npages;
	hva_t userspace_addr;
	uint32_t flags;
	uint16_t id, as_id;
	unsigned long *dirty_bitmap; /* later issue; NULL now */
};

/*
 * The gfn index of a set (memslot_index.c): the set's slots sorted by
 * base_gfn, in chunks of KVMMU_MEMSLOT_CHUNK, with an L1 array of one
 * separator per chunk and an L0 radix table that says where in L1 to
 * look.  Every chunk but the last is at least half full, which bounds the
 * number of chunks.
 */
/* 32 keys (4 lines, 5 search steps): ~22 ns per random lookup at 32k
 * slots where 64 keys took ~35-50 ns (kvmmu bench memslot). */
#define KVMMU_MEMSLOT_CHUNK 32
#define KVMMU_MEMSLOT_INDEX_MAX_CHUNKS \
	(KVMMU_MEM_SLOTS_NUM / (KVMMU_MEMSLOT_CHUNK / 2) + 1)

struct kvmmu_memslot_chunk {
	gfn_t base[KVMMU_MEMSLOT_CHUNK]; /* sorted; ~0 from nr on */
	struct kvmmu_memory_slot *slot[KVMMU_MEMSLOT_CHUNK]; /* NULL from nr */
	unsigned int nr;
} __cacheline_aligned;

struct kvmmu_memslot_index {
	/* Read by lookups; bucket b starts at gfn l0_base + (b << l0_shift). */
	gfn_t l0_base;		/* l1[0] */
	unsigned int l0_shift;	/* log2 of the gfns per bucket */
	unsigned int l0_last;	/* number of buckets - 1 */
	unsigned int l0_window; /* l1 entries to search from l0[b] */
	unsigned int nr_chunks;
	uint16_t *l0; /* [2 * MAX_CHUNKS]: chunk of each bucket's start */
	gfn_t *l1;    /* [2 * MAX_CHUNKS]: separators; ~0 from nr_chunks */
	struct kvmmu_memslot_chunk **chunks; /* [MAX_CHUNKS] */
	/* Not read by lookups: */
	struct kvmmu_memslot_chunk *spare; /* for the next split */
	unsigned int fail_alloc;	   /* tests: fail the next N reserves */
	bool l0_stale;			   /* L0 needs a rebuild */
};

struct kvmmu_memslots {
	uint64_t generation;
	struct kvmmu_memory_slot *last_used_slot; /* atomic hint */
	struct kvmmu_memslot_index gfn_index;	  /* gfn → slot lookups */
	struct kvmmu_itree_root hva_tree;
	struct kvmmu_itree_root gfn_tree;
	struct kvmmu_memory_slot **id_table; /* [KVMMU_MEM_SLOTS_NUM] */
	int node_idx;
	unsigned long nr_slots;
};

enum kvmmu_mr_change {
	KVMMU_MR_CREATE,
	KVMMU_MR_DELETE,
	KVMMU_MR_MOVE,
	KVMMU_MR_FLAGS_ONLY,
};

static inline hva_t kvmmu_slot_hva_end(const struct kvmmu_memory_slot *s)
{
	return s->userspace_addr + (s->npages << PAGE_SHIFT);
}

static inline hva_t kvmmu_gfn_to_hva_memslot(const struct kvmmu_memory_slot *s,
					     gfn_t gfn)
{
	return s->userspace_addr + ((gfn - s->base_gfn) << PAGE_SHIFT);
}

/* Allocate/free the two sets of every address space. */
int kvmmu_memslots_init(struct kvmmu_vm *kvm);
void kvmmu_memslots_destroy(struct kvmmu_vm *kvm);

/*
 * kvmmu_active_memslots() and kvmmu_set_memslot(), the update side that
 * memslot_ioctl.c calls, come after struct kvmmu_vm, whose slots_lock
 * their REQUIRES() names.
 */

/* The active set; Context: SRCU read side of kvm->srcu, or slots_lock. */
struct kvmmu_memslots *kvmmu_memslots(struct kvmmu_vm *kvm, int as_id);

/*
 * gfn → slot: the set's last-used hint, then its gfn index.  Returns INVALID
 * slots too (callers test the flag).  Context: SRCU or slots_lock.
 * Models: include/linux/kvm_host.h __gfn_to_memslot() / search_memslots()
 */
struct kvmmu_memory_slot *kvmmu_gfn_to_memslot(struct kvmmu_memslots *slots,
					       gfn_t gfn);

/*
 * memslot_index.c.  Lookups: SRCU read side or slots_lock, no lock taken.
 * init/destroy: set creation and teardown.  reserve: slots_lock (safe on
 * the published set).  insert/remove/replace: slots_lock, on the inactive
 * set only, insert after a successful reserve.  check: for tests.
 */
int kvmmu_memslot_index_init(struct kvmmu_memslot_index *ix);
void kvmmu_memslot_index_destroy(struct kvmmu_memslot_index *ix);
int kvmmu_memslot_index_reserve(struct kvmmu_memslot_index *ix);
void kvmmu_memslot_index_insert(struct kvmmu_memslot_index *ix,
				struct kvmmu_memory_slot *slot);
void kvmmu_memslot_index_remove(struct kvmmu_memslot_index *ix,
				const struct kvmmu_memory_slot *slot);
void kvmmu_memslot_index_replace(struct kvmmu_memslot_index *ix,
				 const struct kvmmu_memory_slot *old,
				 struct kvmmu_memory_slot *new);
struct kvmmu_memory_slot *
kvmmu_memslot_index_find(const struct kvmmu_memslot_index *ix, gfn_t gfn);
int kvmmu_memslot_index_check(const struct kvmmu_memslot_index *ix,
			      unsigned long nr_slots);

/* Iterate the slots whose hva range intersects [start, last] (inclusive). */
#define kvmmu_for_each_memslot_in_hva_range(node, slots, start, last)        \
	for (node = kvmmu_itree_iter_first(&(slots)->hva_tree, start, last); \
	     node; node = kvmmu_itree_iter_next(node, start, last))

static inline struct kvmmu_memory_slot *
kvmmu_hva_node_to_slot(struct kvmmu_itree_node *n, int idx)
{
	return container_of(n, struct kvmmu_memory_slot, hva_node[idx]);
}

/* --- stage-2 page table (s2pt.c) -------------------------------------------
 *
 * A 4-level radix of 512-entry tables (x86 EPT / arm64 stage-2 with 4 KiB
 * granule).  Entries are 64-bit words updated atomically:
 *
 *   bit 0      PRESENT (readable)
 *   bit 1      W
 *   bit 2      X
 *   bits 3-5   memtype (enum kvmmu_memtype)
 *   bit 6      ACCESSED (young)
 *   bit 7      DIRTY
 *   bit 8      LEAF: a page (level 1) or block (levels 2, 3); clear in a
 *              table entry
 *   bit 9      MMU_WRITABLE: the host allowed writes (fast-path upgrade ok)
 *   bits 12-51 PFN of a leaf; address of the next table for a table entry
 *   bits 52-62 low 11 bits of the frame's generation when mapped (checker)
 *
 * Level 4 is the root, level 1 holds 4 KiB leaves, levels 2 and 3 may hold
 * 2 MiB / 1 GiB block leaves; gfns have 36 bits (48-bit GPA).
 *
 * Rule for leaf writers that hold no mmu_lock (the vCPU walker's A/D
 * updates, a fast page fault's W upgrade, lockless aging): change a leaf
 * only with a cmpxchg from the value read, never an OR, so a zapped entry
 * stays 0; and only to set A, D (on a W leaf) or W (on an MMU_WRITABLE
 * leaf) when clear, or to clear A.  A zap relies on it: a leaf with A set
 * and D set or W clear (and not MMU_WRITABLE without W) has nothing a
 * lockless writer may add, so the zap clears it with a plain store; any
 * other leaf is cleared with xchg (KVM's "volatile bits" rule).
 */
typedef uint64_t kvmmu_spte_t;

#define S2_PRESENT	(1ull << 0)
#define S2_WRITE	(1ull << 1)
#define S2_EXEC		(1ull << 2)
#define S2_MT_SHIFT	3
#define S2_MT_MASK	(7ull << S2_MT_SHIFT)
#define S2_ACCESSED	(1ull << 6)
#define S2_DIRTY	(1ull << 7)
#define S2_LEAF		(1ull << 8)
#define S2_MMU_WRITABLE (1ull << 9)
#define S2_ADDR_MASK	(((1ull << 52) - 1) & ~((1ull << 12) - 1))
#define S2_GEN_SHIFT	52
#define S2_GEN_MASK	(0x7ffull << S2_GEN_SHIFT)
#define S2_LEVELS	4
#define S2_ENTRIES	512

static inline kvmmu_pfn_t s2_pfn(kvmmu_spte_t e)
{
	return (e & S2_ADDR_MASK) >> PAGE_SHIFT;
}

static inline bool s2_is_leaf(kvmmu_spte_t e)
{
	return (e & (S2_PRESENT | S2_LEAF)) == (S2_PRESENT | S2_LEAF);
}

static inline kvmmu_spte_t s2_mk_leaf(kvmmu_pfn_t pfn, uint64_t prot,
				      uint32_t gen)
{
	return ((kvmmu_spte_t)pfn << PAGE_SHIFT) | prot | S2_PRESENT | S2_LEAF |
	       (((kvmmu_spte_t)gen << S2_GEN_SHIFT) & S2_GEN_MASK);
}

struct kvmmu_s2_table {
	kvmmu_spte_t e[S2_ENTRIES];
};

enum s2_stat {
	S2_STAT_PAGES_4K,
	S2_STAT_PAGES_2M,
	S2_STAT_PAGES_1G,
	S2_STAT_NR,
};

/*
 * The table's gauges, one cache line per stats shard: every fault adds to
 * pages_4k, and a single shared counter would bounce between the vCPUs
 * faulting in parallel.  Read with kvmmu_s2_count() (the sum).
 */
enum {
	S2_CNT_TABLES = S2_STAT_NR,
	S2_CNT_NR
};
struct s2_counters {
	long v[S2_CNT_NR]; /* pages_4k/2m/1g, tables (root, retired incl.) */
} __cacheline_aligned;

struct kvmmu_s2_mmu {
	struct kvmmu_s2_table *root; /* level-4 table; NULL after teardown */
	/* table-page pool: 2 MiB chunks carved into tables; the free list
	 * under pool_lock (mappers allocate under the read lock).  Its own
	 * cache line: every walk reads root. */
	kvmmu_spinlock_t pool_lock __cacheline_aligned;
	struct kvmmu_s2_table *free_list; /* linked through e[0] */
	void **chunks;
	unsigned long nr_chunks, chunk_cap;
	/* tables unlinked by a zap, freed after the remote TLB flush; linked
	 * through e[0] (PRESENT clear); mmu_lock for write */
	struct kvmmu_s2_table *retired;
	struct s2_counters cnt[KVMMU_STAT_SHARDS];
};

/* Sum of counter @idx (S2_STAT_PAGES_* or S2_CNT_TABLES) over the shards.
 * Context: any; a racy snapshot while the table changes. */
long kvmmu_s2_count(const struct kvmmu_s2_mmu *mmu, int idx);

/* Return: 0 or -ENOMEM. */
int kvmmu_s2_init(struct kvmmu_s2_mmu *mmu);
/* Free every table and the pool; root becomes NULL and a second call is a
 * no-op.  Context: nothing can walk the table. */
void kvmmu_s2_destroy(struct kvmmu_s2_mmu *mmu);

/*
 * Lockless walk (the hardware walker): the leaf mapping @gfn, or 0 (also
 * for a gfn at or above 2^36).  *ptep receives the leaf's address (for A/D
 * updates) and *level its level; on a miss *ptep is NULL and *level the
 * level of the non-present entry the walk stopped at (0: invalid gfn).
 * Either pointer may be NULL.
 * Context: any; table pages are retired only after a remote TLB flush, which
 * waits for every vCPU in guest mode, so a walker in guest mode (or under
 * mmu_lock) never reads a freed table.
 */
kvmmu_spte_t kvmmu_s2_walk(struct kvmmu_s2_mmu *mmu, gfn_t gfn,
			   kvmmu_spte_t **ptep, int *level);

/*
 * Install @new as the leaf for @gfn at @level (1 = 4 KiB, 2 = 2 MiB block,
 * 3 = 1 GiB block; @gfn aligned to it), creating tables as needed with
 * cmpxchg.  If a leaf is already present it is left alone and *old returns
 * it (the caller decides spurious vs upgrade): the leaf at @gfn, or a block
 * above @level covering it; for a block asked where a table already is,
 * *old is that table entry (present, LEAF clear).  @old may be NULL.
 * Return: 0 (installed), -EEXIST (a leaf or table was there), -EINVAL
 * (bad level, gfn >= 2^36, misaligned, @new not a present leaf), -ENOMEM.
 * Context: mmu_lock held (read or write).
 */
int kvmmu_s2_map(struct kvmmu_s2_mmu *mmu, gfn_t gfn, int level,
		 kvmmu_spte_t new, kvmmu_spte_t *old);

/*
 * Zap every leaf in [start, end) (gfn; end clamped to 2^36).  A block only
 * partly in the range is zapped whole (as KVM does).  Tables left empty are
 * unlinked and put on the retired list (kvmmu_s2_free_retired() after the
 * flush); the pages[] counters drop by the leaves zapped.
 * Return: number of leaves zapped (a block counts one).
 * Context: mmu_lock held for write.
 */
unsigned long kvmmu_s2_unmap_range(struct kvmmu_s2_mmu *mmu, gfn_t start,
				   gfn_t end);
/* Return retired tables to the pool.  Context: mmu_lock for write, after a
 * remote TLB flush that followed the zap that retired them. */
void kvmmu_s2_free_retired(struct kvmmu_s2_mmu *mmu);

/* Visit every present leaf in gfn order (checker).  Context: mmu_lock
 * held. */
void kvmmu_s2_for_each_leaf(struct kvmmu_s2_mmu *mmu,
			    void (*fn)(void *arg, gfn_t gfn, int level,
				       kvmmu_spte_t *ptep, kvmmu_spte_t e),
			    void *arg);

/* tables_in_use * 4096: the root and not yet freed retired tables
 * included, the pool's free tables not.  Context: any. */
uint64_t kvmmu_s2_table_bytes(struct kvmmu_s2_mmu *mmu);

/* --- arch policies (arch.c) ----------------------------------------------- */

struct kvmmu_arch_ops {
	const char *name;
	unsigned int nr_address_spaces;
	unsigned int nr_internal_slots; /* user slots = SLOTS_NUM - this */
	bool gfn_precise_retry;		/* mmu_invalidate_retry_gfn */
	bool lockless_precheck;		/* retry_gfn_unsafe before GUP */
	bool retry_on_invalid_slot;	/* x86: INVALID slot → RET_PF_RETRY */
	bool fault_read_lock;		/* faults take mmu_lock for read */
	bool hw_accessed_dirty;		/* walker sets A/D itself */
	bool map_writable_clean; /* read of writable memory: W but clean */
	bool flush_after_unmap;	 /* unmap_gfn_range returns "flush" */
	/*
	 * kvm_arch_flush_remote_tlbs() flushes by itself (arm64's broadcast
	 * TLBI): every flush counts in remote_tlb_flush.  Otherwise (x86
	 * without a hypervisor flush, MIPS) a flush counts only when a vCPU
	 * in guest mode had to be kicked.
	 */
	bool arch_flush_remote_tlbs;
	/* later issues: age, dirty log, huge pages, memtype, gmem */
};

extern const struct kvmmu_arch_ops kvmmu_arch_ops[KVMMU_ARCH_NR];

/* --- the VM ---------------------------------------------------------------- */

enum kvm_stat {
	KVM_STAT_REMOTE_TLB_FLUSH,
	KVM_STAT_REMOTE_TLB_FLUSH_REQUESTS,
	KVM_STAT_PAGES_4K,
	KVM_STAT_PAGES_2M,
	KVM_STAT_PAGES_1G,
	KVM_STAT_NOTIFIER_ZAP_PAGES,
	KVM_STAT_MMU_NOTIFIER_INVALIDATE,
	KVM_STAT_MEMSLOT_UPDATES,
	KVM_STAT_NR,
};

struct kvmmu_vm {
	struct kvmmu_mm *mm;
	struct kvmmu_host *host;
	const struct kvmmu_arch_ops *arch;
	enum kvmmu_arch arch_id;
	struct kvmmu_vm_config cfg;
	int id;

	/* §1.1 */
	kvmmu_rwlock_t mmu_lock;
	unsigned long mmu_invalidate_seq; /* mmu_lock write; read lockless */
	long mmu_invalidate_in_progress;  /* mmu_lock write */
	gfn_t mmu_invalidate_range_start; /* mmu_lock write */
	gfn_t mmu_invalidate_range_end;
	kvmmu_spinlock_t mn_invalidate_lock;
	unsigned long mn_active_invalidate_count; /* mn_invalidate_lock */
	pthread_cond_t mn_memslots_update_wait;	  /* with mn_invalidate_lock */
	bool mn_memslots_update_waiting;
	struct kvmmu_mmu_notifier mmu_notifier;
	bool mn_registered;

	struct kvmmu_srcu srcu;
	kvmmu_mutex_t slots_lock;
	kvmmu_mutex_t slots_arch_lock;
	struct kvmmu_memslots __memslots[KVMMU_MAX_NR_ADDRESS_SPACES][2];
	struct kvmmu_memslots *memslots[KVMMU_MAX_NR_ADDRESS_SPACES]; /* RCU */
	uint64_t nr_memslot_pages;
	bool vm_bugged, vm_dead;

	struct kvmmu_s2_mmu s2;

	kvmmu_mutex_t lock; /* vCPU creation */
	struct kvmmu_vcpu *vcpus[KVMMU_MAX_VCPUS];
	int nr_vcpus; /* published with release */

	struct kvmmu_stats stats;
	struct kvmmu_check_log *check_log; /* src/check: findings */
	/* src/trace: the attached trace, NULL when off (read relaxed by the
	 * tracepoints of src/trace/hooks.h; kvmmu_vm_set_trace() writes) */
	struct kvmmu_trace *trace;
};

static inline unsigned long kvmmu_nr_as(const struct kvmmu_vm *kvm)
{
	return kvm->arch->nr_address_spaces;
}

/* Mark the VM bugged (KVM_BUG_ON): every later ioctl fails -EIO. */
#define KVM_BUG_ON(cond, kvm)                               \
	({                                                  \
		bool __c = !!(cond);                        \
		if (WARN_ON_ONCE(__c)) {                    \
			WRITE_ONCE((kvm)->vm_bugged, true); \
			WRITE_ONCE((kvm)->vm_dead, true);   \
		}                                           \
		__c;                                        \
	})

/* mmu_notifier.c: §1.3–§1.6, §1.10 */
extern const struct kvmmu_mmu_notifier_ops kvmmu_mmu_notifier_ops;
void kvmmu_mmu_invalidate_begin(struct kvmmu_vm *kvm) REQUIRES(kvm->mmu_lock);
void kvmmu_mmu_invalidate_range_add(struct kvmmu_vm *kvm, gfn_t start,
				    gfn_t end) REQUIRES(kvm->mmu_lock);
void kvmmu_mmu_invalidate_end(struct kvmmu_vm *kvm) REQUIRES(kvm->mmu_lock);

/* §1.7 retry predicates */
static inline bool kvmmu_mmu_invalidate_retry(struct kvmmu_vm *kvm,
					      unsigned long seq)
{
	/* Pairs with the release in invalidate_end: in_progress, then seq. */
	if (smp_load_acquire(&kvm->mmu_invalidate_in_progress))
		return true;
	return smp_load_acquire(&kvm->mmu_invalidate_seq) != seq;
}

bool kvmmu_mmu_invalidate_retry_gfn(struct kvmmu_vm *kvm, unsigned long seq,
				    gfn_t gfn) REQUIRES_SHARED(kvm->mmu_lock);
bool kvmmu_mmu_invalidate_retry_gfn_unsafe(struct kvmmu_vm *kvm,
					   unsigned long seq, gfn_t gfn);

/* mmu.c: zap a gfn range of one slot (kvm_unmap_gfn_range).  Return:
 * whether a TLB flush is needed.  Context: mmu_lock for write. */
bool kvmmu_unmap_gfn_range(struct kvmmu_vm *kvm, gfn_t start, gfn_t end)
	REQUIRES(kvm->mmu_lock);
/* kvm_arch_flush_shadow_memslot / _all.  Context: no mmu_lock held. */
void kvmmu_arch_flush_shadow_memslot(struct kvmmu_vm *kvm,
				     struct kvmmu_memory_slot *slot);
void kvmmu_arch_flush_shadow_all(struct kvmmu_vm *kvm);

/* requests.c (src/vcpu): §1.13 */
void kvmmu_flush_remote_tlbs(struct kvmmu_vm *kvm);

/* kvm_main.c */
bool kvmmu_vm_ioctl_ok(struct kvmmu_vm *kvm); /* !vm_dead */

/* memslots.c, for memslot_ioctl.c: §2.3 */

/* The active set, for the updater (slots_lock held). */
static inline struct kvmmu_memslots *kvmmu_active_memslots(struct kvmmu_vm *kvm,
							   int as_id)
	REQUIRES(kvm->slots_lock)
{
	return READ_ONCE(kvm->memslots[as_id]);
}

/*
 * Apply one change that passed the §2.2 checks, through the INVALID phase
 * and the swaps of §2.3/§2.4.  Takes slots_arch_lock (the last swap drops
 * it).  @old and @new belong to the memslots afterwards; on error @new is
 * the caller's to free.
 * Models: virt/kvm/kvm_main.c kvm_set_memslot()
 * Return: 0 or -errno (-ENOMEM), with the memslots as they were.
 */
int kvmmu_set_memslot(struct kvmmu_vm *kvm, struct kvmmu_memory_slot *old,
		      struct kvmmu_memory_slot *new,
		      enum kvmmu_mr_change change) REQUIRES(kvm->slots_lock);

#endif /* KVMMU_KVM_INTERNAL_H */
