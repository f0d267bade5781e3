/* SPDX-License-Identifier: MIT */
/*
 * vCPU internals: the TLB, guest mode and requests (KVM's vcpu->mode and
 * vcpu->requests, kvm-mmu-protocol.md §1.13).  Read by the checker.
 */
#ifndef KVMMU_VCPU_INTERNAL_H
#define KVMMU_VCPU_INTERNAL_H

#include "../kvm/internal.h"

#define KVMMU_TLB_ENTRIES 64 /* direct-mapped, tagged by gfn */

struct kvmmu_tlb_entry {
	gfn_t tag; /* gfn + 1; 0 = empty */
	kvmmu_pfn_t pfn;
	uint8_t *hva_page; /* where the frame's bytes live in this process */
	bool writable;
	uint32_t gen;	    /* frame generation when filled (checker) */
	kvmmu_spte_t *ptep; /* the stage-2 leaf it was filled from */
	hva_t hva;	    /* check mode: the slot's hva for the gfn */
	int slot_id;	    /* check mode: the slot it came from */
};

/*
 * vcpu->mode_word: bits 0-1 the mode, the rest a count of guest-mode
 * entries.  A flush requester waits until the count moves on or the mode
 * is OUTSIDE: either way the vCPU left the guest-mode section it was in.
 */
enum vcpu_mode {
	OUTSIDE_GUEST_MODE = 0,
	IN_GUEST_MODE = 1,
	EXITING_GUEST_MODE = 2,
};
#define VCPU_MODE_MASK	3ul
#define VCPU_MODE_ENTRY 4ul

#define KVM_REQ_TLB_FLUSH 0

enum vcpu_stat {
	VCPU_STAT_PF_TAKEN,
	VCPU_STAT_PF_FIXED,
	VCPU_STAT_PF_SPURIOUS,
	VCPU_STAT_PF_MMIO,
	VCPU_STAT_PF_EFAULT,
	VCPU_STAT_MMU_INVALIDATE_RETRY,
	VCPU_STAT_TLB_FLUSH,
	VCPU_STAT_TLB_MISS,
	VCPU_STAT_EXITS,
	VCPU_STAT_NR,
};

struct kvmmu_vcpu {
	struct kvmmu_vm *kvm;
	unsigned int id;
	unsigned long mode_word; /* atomic */
	unsigned long requests;	 /* atomic bitmap of KVM_REQ_* */
	bool kick;		 /* atomic: exit with EXIT_INTR */

	struct kvmmu_tlb_entry tlb[KVMMU_TLB_ENTRIES];

	struct kvmmu_guest_prog prog;
	uint32_t pc;
	uint32_t *loop_left; /* per-insn remaining loop counts */
	uint32_t loop_cap;
	bool mmio_pending; /* a read exit waits for the VMM's data */
	uint64_t mmio_gpa;
	struct kvmmu_run run;
	/* the access in progress (resumed after an exit) */
	uint32_t cur_off; /* bytes of a FILL/VERIFY/COPY done so far */

	uint8_t *buf; /* PAGE_SIZE scratch for COPY */
	struct kvmmu_stats stats;
};

/*
 * Guest-mode section around a batch of accesses.  Return: false if a
 * request or kick is pending (handle it, then try again).
 */
bool kvmmu_vcpu_enter_guest(struct kvmmu_vcpu *vcpu);
void kvmmu_vcpu_exit_guest(struct kvmmu_vcpu *vcpu);
/* In guest mode: has someone asked us to leave? */
static inline bool kvmmu_vcpu_exit_requested(struct kvmmu_vcpu *vcpu)
{
	return (READ_ONCE(vcpu->mode_word) & VCPU_MODE_MASK) ==
	       EXITING_GUEST_MODE;
}
/* Outside guest mode: service requests (flush the TLB). */
void kvmmu_vcpu_check_requests(struct kvmmu_vcpu *vcpu);
void kvmmu_vcpu_tlb_flush(struct kvmmu_vcpu *vcpu);

/* Free a vCPU (from kvmmu_vm_destroy). */
void kvmmu_vcpu_free(struct kvmmu_vcpu *vcpu);

/*
 * The fault handler (mmu.c).  Called outside guest mode.
 * Return: 0 (retry the access: fixed, spurious or raced), 1 (MMIO: the
 * run state's mmio fields are filled), -EFAULT (memory-fault exit filled).
 */
int kvmmu_page_fault(struct kvmmu_vcpu *vcpu, gpa_t gpa, bool write,
		     unsigned int len, const void *wdata);

#endif /* KVMMU_VCPU_INTERNAL_H */
