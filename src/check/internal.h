/* SPDX-License-Identifier: MIT */
/*
 * Checker hooks called from the VM and the vCPUs (src/check), and the
 * findings log shared by the checker's files.
 */
#ifndef KVMMU_CHECK_INTERNAL_H
#define KVMMU_CHECK_INTERNAL_H

#include <stdarg.h>
#include <kvmmu/check.h>
#include "kvm/internal.h"

struct kvmmu_vcpu;
struct kvmmu_tlb_entry;

/*
 * The per-VM findings log (kvm->check_log).  @count is bumped atomically
 * for every finding, from any thread; the first KVMMU_CHECK_LOG_MAX are
 * kept in full under @lock (a leaf lock: the online hook may record a
 * finding from a vCPU thread in guest mode, the quiescent check with
 * slots_lock held).  The last_* fields are kvmmu_check_vm()'s memory from
 * one run to the next; they are protected by slots_lock, which every run
 * holds throughout.
 */
struct kvmmu_check_log {
	unsigned long count; /* atomic */
	kvmmu_spinlock_t lock;
	unsigned int nr_kept; /* under @lock */
	struct kvmmu_finding kept[KVMMU_CHECK_LOG_MAX];

	unsigned long last_seq;	     /* mmu_invalidate_seq */
	uint64_t last_invalidations; /* mmu_notifier_invalidate stat */
	uint64_t last_gen[KVMMU_MAX_NR_ADDRESS_SPACES];
	unsigned long last_warn; /* kvmmu_warn_count() */
};

/* Allocate / free the VM's findings log.  Return: 0 or -ENOMEM. */
int kvmmu_check_init(struct kvmmu_vm *kvm);
void kvmmu_check_free(struct kvmmu_vm *kvm);

/*
 * Check mode: vet one use of a TLB entry (a hit, or a fill from the
 * stage-2 table) by a vCPU in guest mode, before the bytes move.
 * Context: the vCPU's thread, in guest mode; lockless.
 */
void kvmmu_check_access(struct kvmmu_vcpu *vcpu, gfn_t gfn,
			const struct kvmmu_tlb_entry *e, bool write);

/* Record a finding (kvmmu_check_report() with a va_list). */
void kvmmu_check_vreport(struct kvmmu_vm *kvm, enum kvmmu_finding_kind kind,
			 gfn_t gfn, kvmmu_pfn_t pfn, int slot, int vcpu,
			 const char *fmt, va_list ap);

/* The low bits of a frame generation that a stage-2 leaf records. */
#define CHECK_GEN_MASK (S2_GEN_MASK >> S2_GEN_SHIFT)

#endif /* KVMMU_CHECK_INTERNAL_H */
