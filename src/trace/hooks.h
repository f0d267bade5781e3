/* SPDX-License-Identifier: MIT */
/*
 * The secondary MMU's tracepoints: the model's trace_kvm_*() calls.
 *
 * Each hook is inline: with no trace attached it costs a relaxed load of
 * vm->trace and one branch that predicts "not taken"; the recording is out
 * of line in trace.c.  The event list and its arguments are in
 * include/kvmmu/trace.h.  Included by the .c files that hold tracepoints.
 *
 * Models: the TRACE_EVENT()s of include/trace/events/kvm.h,
 * arch/x86/kvm/trace.h (kvm_page_fault) and arch/x86/kvm/mmu/mmutrace.h
 * (kvm_mmu_set_spte).
 */
#ifndef KVMMU_TRACE_HOOKS_H
#define KVMMU_TRACE_HOOKS_H

#include <kvmmu/trace.h>
#include "kvm/internal.h"

enum kvmmu_trace_event {
	TEV_PAGE_FAULT,
	TEV_SET_SPTE,
	TEV_INVALIDATE_RETRY,
	TEV_UNMAP_HVA_RANGE,
	TEV_MN_INVALIDATE_BEGIN,
	TEV_MN_INVALIDATE_END,
	TEV_MMU_ZAP,
	TEV_REMOTE_TLB_FLUSH,
	TEV_SET_USER_MEMORY_REGION,
	TEV_NR,
};

/* kvm_page_fault's "result" */
enum kvmmu_trace_pf_result {
	TRACE_PF_FIXED,
	TRACE_PF_SPURIOUS,
	TRACE_PF_RETRY,
	TRACE_PF_MMIO,
	TRACE_PF_EFAULT,
};

#define TRACE_PFERR_WRITE_MASK (1ull << 1) /* x86 PFERR_WRITE_MASK */

/*
 * Record event @type with up to five arguments (trace.c knows how many and
 * how to print them).  @ts: 0 for now; else the event's time (an instant
 * taken earlier), or for kvm_page_fault its start (the event spans to now).
 * Return: the event's timestamp, never 0.
 * Context: any thread; takes a mutex at the thread's first event in @t.
 */
uint64_t __kvmmu_trace_event(struct kvmmu_trace *t, unsigned int type,
			     uint64_t ts, uint64_t a0, uint64_t a1, uint64_t a2,
			     uint64_t a3, uint64_t a4);
/* Start of a fault: the time, and the thread's default name "vcpu-<id>". */
uint64_t __kvmmu_trace_fault_begin(struct kvmmu_trace *t, unsigned int vcpu_id);

static __always_inline struct kvmmu_trace *kvmmu_vm_trace(struct kvmmu_vm *kvm)
{
	/*
	 * Relaxed, and no sched point: attaching happens before the traced
	 * threads run (kvmmu_vm_set_trace()'s context), and tracing must not
	 * change the interleavings it records.
	 */
	return __atomic_load_n(&kvm->trace, __ATOMIC_RELAXED);
}

/* Return: the fault's start time, 0 when not tracing. */
static __always_inline uint64_t trace_kvm_page_fault_begin(struct kvmmu_vm *kvm,
							   unsigned int vcpu_id)
{
	struct kvmmu_trace *t = kvmmu_vm_trace(kvm);

	return unlikely(t) ? __kvmmu_trace_fault_begin(t, vcpu_id) : 0;
}

/* @t0: trace_kvm_page_fault_begin()'s value. */
static __always_inline void
trace_kvm_page_fault(struct kvmmu_vm *kvm, uint64_t t0, unsigned int vcpu_id,
		     gpa_t gpa, bool write, int result)
{
	struct kvmmu_trace *t;

	if (likely(!t0))
		return;
	t = kvmmu_vm_trace(kvm);
	if (t)
		__kvmmu_trace_event(t, TEV_PAGE_FAULT, t0, vcpu_id, gpa,
				    write ? TRACE_PFERR_WRITE_MASK : 0,
				    (uint64_t)result, 0);
}

static __always_inline void trace_kvm_mmu_set_spte(struct kvmmu_vm *kvm,
						   gfn_t gfn, kvmmu_spte_t spte,
						   int level)
{
	struct kvmmu_trace *t = kvmmu_vm_trace(kvm);

	if (unlikely(t))
		__kvmmu_trace_event(t, TEV_SET_SPTE, 0, gfn, spte,
				    (uint64_t)level, 0, 0);
}

static __always_inline void
trace_kvm_mmu_invalidate_retry(struct kvmmu_vm *kvm, gfn_t gfn,
			       unsigned long mmu_seq, bool locked)
{
	struct kvmmu_trace *t = kvmmu_vm_trace(kvm);

	if (unlikely(t))
		__kvmmu_trace_event(t, TEV_INVALIDATE_RETRY, 0, gfn, mmu_seq,
				    locked, 0, 0);
}

/* The B of the invalidation.  Return: its time, 0 when not tracing. */
static __always_inline uint64_t trace_mmu_notifier_invalidate_range_start(
	struct kvmmu_vm *kvm, const struct kvmmu_mmu_notifier_range *range)
{
	struct kvmmu_trace *t = kvmmu_vm_trace(kvm);

	if (likely(!t))
		return 0;
	return __kvmmu_trace_event(t, TEV_MN_INVALIDATE_BEGIN, 0,
				   (uint64_t)range->event, range->start,
				   range->end, 0, 0);
}

static __always_inline void
trace_mmu_notifier_invalidate_range_end(struct kvmmu_vm *kvm)
{
	struct kvmmu_trace *t = kvmmu_vm_trace(kvm);

	if (unlikely(t))
		__kvmmu_trace_event(t, TEV_MN_INVALIDATE_END, 0, 0, 0, 0, 0, 0);
}

/* @ts: trace_mmu_notifier_invalidate_range_start()'s value. */
static __always_inline void trace_kvm_unmap_hva_range(struct kvmmu_vm *kvm,
						      uint64_t ts, hva_t start,
						      hva_t end)
{
	struct kvmmu_trace *t;

	if (likely(!ts))
		return;
	t = kvmmu_vm_trace(kvm);
	if (t)
		__kvmmu_trace_event(t, TEV_UNMAP_HVA_RANGE, ts, start, end, 0,
				    0, 0);
}

static __always_inline void trace_kvm_mmu_zap(struct kvmmu_vm *kvm, gfn_t start,
					      gfn_t end, unsigned long pages)
{
	struct kvmmu_trace *t = kvmmu_vm_trace(kvm);

	if (unlikely(t))
		__kvmmu_trace_event(t, TEV_MMU_ZAP, 0, start, end, pages, 0, 0);
}

static __always_inline void trace_kvm_remote_tlb_flush(struct kvmmu_vm *kvm,
						       int vcpus_waited)
{
	struct kvmmu_trace *t = kvmmu_vm_trace(kvm);

	if (unlikely(t))
		__kvmmu_trace_event(t, TEV_REMOTE_TLB_FLUSH, 0,
				    (uint64_t)vcpus_waited, 0, 0, 0, 0);
}

static __always_inline void trace_kvm_set_user_memory_region(
	struct kvmmu_vm *kvm, const struct kvmmu_userspace_memory_region2 *mem)
{
	struct kvmmu_trace *t = kvmmu_vm_trace(kvm);

	if (unlikely(t))
		__kvmmu_trace_event(t, TEV_SET_USER_MEMORY_REGION, 0, mem->slot,
				    mem->flags, mem->guest_phys_addr,
				    mem->memory_size, mem->userspace_addr);
}

#endif /* KVMMU_TRACE_HOOKS_H */
