/* SPDX-License-Identifier: MIT */
/*
 * The secondary MMU: a VM on a host address space, its memslots, its
 * stage-2 page table and the glue that keeps the two coherent (KVM's
 * virt/kvm/kvm_main.c and arch/<arch>/kvm/mmu*.c; kvm-mmu-protocol.md §1, §2,
 * §5, §7).
 *
 * A VM registers itself on its mm's MMU-notifier chain at creation; every
 * host change to a mapping that backs guest memory then zaps the stage-2
 * entries of the gfns it covers and flushes every vCPU's TLB before the host
 * proceeds.  Guest memory is reached only through vCPUs (vcpu.h).
 *
 * Conventions: 0 or the kernel's -errno for the same ioctl; flag values are
 * the uAPI's.  Unless a function says otherwise it may block and must not
 * be called from inside an MMU-notifier callback or with a kvmmu lock held.
 */
#ifndef KVMMU_KVM_H
#define KVMMU_KVM_H

#include <stdint.h>
#include "host.h"
#include "stats.h"

struct kvmmu_vm;

enum kvmmu_arch {
	KVMMU_ARCH_X86 =
		0,	  /* gfn-precise retry, A/D bits, read-locked faults */
	KVMMU_ARCH_ARM64, /* whole-VM retry, access-flag faults */
	KVMMU_ARCH_MIPS,  /* whole-VM retry, software young/dirty */
	KVMMU_ARCH_NR,
};

/* Parse "x86" / "arm64" / "mips".  Return: 0 or -EINVAL. */
int kvmmu_arch_parse(const char *name, enum kvmmu_arch *out);
const char *kvmmu_arch_name(enum kvmmu_arch arch);

/*
 * Test-only fault injection: each switch removes one step of the protocol
 * so that tests can show the checker catching the bug it causes.
 */
#define KVMMU_INJECT_NO_RETRY	  (1u << 0) /* fault path skips the retry check */
#define KVMMU_INJECT_NO_TLB_FLUSH (1u << 1) /* remote flushes do nothing */

struct kvmmu_vm_config {
	enum kvmmu_arch arch;
	unsigned int inject; /* KVMMU_INJECT_* (tests only) */
	bool check;	     /* check mode: vet every TLB hit (check.h) */
};

/**
 * kvmmu_vm_create() - KVM_CREATE_VM on @mm: empty memslots, an empty
 * stage-2 table, and an MMU notifier registered on @mm.
 * @cfg: NULL for x86 defaults.
 * Return: 0, -EINVAL (bad arch), -ENOMEM, -ESRCH (@mm has exited).
 * Context: may block; takes @mm's mmap_lock.
 */
int kvmmu_vm_create(struct kvmmu_mm *mm, const struct kvmmu_vm_config *cfg,
		    struct kvmmu_vm **out);

/**
 * kvmmu_vm_destroy() - kvm_destroy_vm(): unregister the notifier (whose
 * release zaps every stage-2 entry), free vCPUs, memslots and tables.
 * Afterwards no frame is referenced or mapped by the VM.
 * Context: no vCPU of the VM is running; may block.
 */
void kvmmu_vm_destroy(struct kvmmu_vm *vm);

struct kvmmu_mm *kvmmu_vm_mm(const struct kvmmu_vm *vm);
enum kvmmu_arch kvmmu_vm_arch(const struct kvmmu_vm *vm);
/*
 * The VM's statistics, for their names and kinds (remote_tlb_flush,
 * pages_4k, ...).  Read the values with kvmmu_vm_stat(): the stage-2
 * gauges (pages_4k, pages_2m, pages_1g) are counted by the table itself
 * and read from there, and vCPU statistics are summed over the vCPUs.
 */
const struct kvmmu_stats *kvmmu_vm_stats(struct kvmmu_vm *vm);
/* Read one VM statistic by its KVM name (0 if unknown).  Context: any. */
uint64_t kvmmu_vm_stat(struct kvmmu_vm *vm, const char *name);

/* --- memslots (kvm-mmu-protocol.md §2) ------------------------------------ */

#define KVMMU_MEM_LOG_DIRTY_PAGES (1u << 0)
#define KVMMU_MEM_READONLY	  (1u << 1)
#define KVMMU_MEM_GUEST_MEMFD	  (1u << 2)

#define KVMMU_MEM_SLOTS_NUM    32767 /* SHRT_MAX */
#define KVMMU_MEM_MAX_NR_PAGES ((1ull << 31) - 1)

/* KVM_SET_USER_MEMORY_REGION2's argument; slot = (as_id << 16) | id. */
struct kvmmu_userspace_memory_region2 {
	uint32_t slot;
	uint32_t flags;
	uint64_t guest_phys_addr;
	uint64_t memory_size; /* 0 deletes */
	uint64_t userspace_addr;
	uint64_t guest_memfd_offset;
	uint32_t guest_memfd;
};

/**
 * kvmmu_set_user_memory_region() - KVM_SET_USER_MEMORY_REGION (v1: flags
 * beyond LOG_DIRTY_PAGES|READONLY are -EINVAL).
 * kvmmu_set_user_memory_region2() - the v2 ioctl.
 *
 * Create, delete (size 0), move (new gpa) or change the flags of a slot,
 * with every check of §2.2 in the kernel's order.  Deleting or moving a slot
 * first publishes it INVALID and zaps its stage-2 entries.
 * Return: 0; -EINVAL (flags, alignment, id, size, overflow, change of size
 * or hva, too many pages); -EEXIST (gpa overlap); -ENOMEM; -EIO (VM dead).
 * Context: takes slots_lock; may block (SRCU grace periods, waits for
 * in-flight MMU-notifier invalidations).
 */
int kvmmu_set_user_memory_region(
	struct kvmmu_vm *vm, const struct kvmmu_userspace_memory_region2 *r);
int kvmmu_set_user_memory_region2(
	struct kvmmu_vm *vm, const struct kvmmu_userspace_memory_region2 *r);

/** Number of user memslots of this VM's arch (x86: 32764). */
unsigned int kvmmu_vm_user_mem_slots(const struct kvmmu_vm *vm);
/** Address spaces (x86: 2, with SMM; others: 1). */
unsigned int kvmmu_vm_nr_address_spaces(const struct kvmmu_vm *vm);

struct kvmmu_memslot_info {
	uint16_t id, as_id;
	uint32_t flags;
	uint64_t base_gfn, npages;
	hva_t userspace_addr;
};

/**
 * kvmmu_gfn_to_memslot_info() - the slot of @as_id containing @gfn.
 * Return: 0, or -ENOENT (none, or INVALID).  Context: any; takes SRCU.
 */
int kvmmu_gfn_to_memslot_info(struct kvmmu_vm *vm, unsigned int as_id,
			      gfn_t gfn, struct kvmmu_memslot_info *out);

/** Current memslot generation of @as_id (bit 63 = update in progress). */
uint64_t kvmmu_memslots_generation(struct kvmmu_vm *vm, unsigned int as_id);

/* --- the stage-2 table, for tests and tools ------------------------------- */

struct kvmmu_spte_info {
	bool present, writable, exec, accessed, dirty;
	int level; /* 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB */
	kvmmu_pfn_t pfn;
	enum kvmmu_memtype memtype;
};

/**
 * kvmmu_vm_lookup_spte() - the stage-2 leaf mapping @gpa (of address space
 * 0), read locklessly.  Return: 0 (present or not).  Context: any.
 */
int kvmmu_vm_lookup_spte(struct kvmmu_vm *vm, gpa_t gpa,
			 struct kvmmu_spte_info *out);

/** Bytes of stage-2 table pages in use. */
uint64_t kvmmu_vm_table_bytes(struct kvmmu_vm *vm);

#endif /* KVMMU_KVM_H */
