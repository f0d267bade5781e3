// SPDX-License-Identifier: MIT
/*
 * Guest mode, vCPU requests and remote TLB flushes.
 *
 * A vCPU accesses guest memory only inside a guest-mode section (the model
 * of "running in the guest with interrupts off").  A remote TLB flush sets
 * KVM_REQ_TLB_FLUSH on every vCPU and then waits for each vCPU that was in
 * guest mode to leave that section (the IPI + wait of
 * kvm_make_all_cpus_request with KVM_REQUEST_WAIT).  A vCPU services its
 * requests — here, drops its whole TLB — before it enters guest mode again,
 * so once the flush returns no vCPU can use an entry that the zap before it
 * removed, and the host may free the frames.
 *
 * Ordering (Dekker): the vCPU stores IN_GUEST_MODE then loads its requests;
 * the requester sets the request then loads the mode; both sequentially
 * consistent, so at least one side sees the other.
 *
 * Models: virt/kvm/kvm_main.c kvm_flush_remote_tlbs(),
 * kvm_make_all_cpus_request(), kvm_vcpu_kick(); arch/x86/kvm/x86.c
 * vcpu_enter_guest() (kvm-mmu-protocol.md §1.13).
 */
#include <sched.h>

#include "internal.h"
#include "trace/hooks.h"

static unsigned long mode_load(struct kvmmu_vcpu *vcpu)
{
	return __atomic_load_n(&vcpu->mode_word, __ATOMIC_SEQ_CST);
}

/**
 * kvmmu_vcpu_enter_guest() - enter guest mode unless work is pending.
 * Return: true in guest mode; false (still outside) if a request or kick
 * is pending.
 * Context: the vCPU's thread, outside guest mode, no locks held.
 */
bool kvmmu_vcpu_enter_guest(struct kvmmu_vcpu *vcpu)
{
	/* Only this thread changes the entry count; others flip IN→EXITING. */
	unsigned long w = __atomic_load_n(&vcpu->mode_word, __ATOMIC_RELAXED);

	w = (w & ~VCPU_MODE_MASK) + VCPU_MODE_ENTRY;
	__atomic_store_n(&vcpu->mode_word, w | IN_GUEST_MODE, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&vcpu->requests, __ATOMIC_SEQ_CST) ||
	    __atomic_load_n(&vcpu->kick, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&vcpu->mode_word, w | OUTSIDE_GUEST_MODE,
				 __ATOMIC_RELEASE);
		return false;
	}
	return true;
}

/**
 * kvmmu_vcpu_exit_guest() - leave guest mode.  The release orders every
 * access made in guest mode before a flush requester's observation.
 * Context: the vCPU's thread, in guest mode.
 */
void kvmmu_vcpu_exit_guest(struct kvmmu_vcpu *vcpu)
{
	unsigned long w = mode_load(vcpu);

	/* A requester may have turned IN into EXITING: both end here. */
	__atomic_store_n(&vcpu->mode_word,
			 (w & ~VCPU_MODE_MASK) | OUTSIDE_GUEST_MODE,
			 __ATOMIC_SEQ_CST);
}

/**
 * kvmmu_vcpu_tlb_flush() - drop every TLB entry (kvm_vcpu_flush_tlb_all).
 * Context: the vCPU's thread, outside guest mode.
 */
void kvmmu_vcpu_tlb_flush(struct kvmmu_vcpu *vcpu)
{
	int i;

	for (i = 0; i < KVMMU_TLB_ENTRIES; i++)
		vcpu->tlb[i].tag = 0;
	kvmmu_stats_inc(&vcpu->stats, VCPU_STAT_TLB_FLUSH);
}

/**
 * kvmmu_vcpu_check_requests() - service pending requests.
 * Context: the vCPU's thread, outside guest mode.
 */
void kvmmu_vcpu_check_requests(struct kvmmu_vcpu *vcpu)
{
	unsigned long req;

	if (!__atomic_load_n(&vcpu->requests, __ATOMIC_ACQUIRE))
		return;
	req = __atomic_exchange_n(&vcpu->requests, 0, __ATOMIC_ACQ_REL);
	if (req & (1ul << KVM_REQ_TLB_FLUSH))
		kvmmu_vcpu_tlb_flush(vcpu);
}

/*
 * "Send the IPI": if the vCPU is in guest mode, ask it to leave.
 * Return: the mode word seen, or 0 if the vCPU was outside guest mode.
 */
static unsigned long vcpu_ipi(struct kvmmu_vcpu *vcpu)
{
	unsigned long w = mode_load(vcpu);

	for (;;) {
		unsigned long mode = w & VCPU_MODE_MASK;

		if (mode == OUTSIDE_GUEST_MODE)
			return 0;
		if (mode == EXITING_GUEST_MODE)
			return w;
		if (__atomic_compare_exchange_n(
			    &vcpu->mode_word, &w,
			    (w & ~VCPU_MODE_MASK) | EXITING_GUEST_MODE, false,
			    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return w;
	}
}

/* Wait until the vCPU has left the guest-mode section seen as @w. */
static void vcpu_wait_exit(struct kvmmu_vcpu *vcpu, unsigned long w)
{
	unsigned long entry = w & ~VCPU_MODE_MASK;
	unsigned int spins = 0;

	for (;;) {
		unsigned long cur =
			__atomic_load_n(&vcpu->mode_word, __ATOMIC_ACQUIRE);

		if ((cur & ~VCPU_MODE_MASK) != entry ||
		    (cur & VCPU_MODE_MASK) == OUTSIDE_GUEST_MODE)
			return;
		if (++spins > 64)
			sched_yield();
	}
}

/**
 * kvmmu_make_all_cpus_request() - set @req on every vCPU and wait until
 * each vCPU that was in guest mode has left it.
 * Models: virt/kvm/kvm_main.c kvm_make_all_cpus_request() with
 * KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP (§1.13)
 * Return: the number of vCPUs waited for.
 * Context: any thread except a vCPU in guest mode; may spin.
 */
static int kvmmu_make_all_cpus_request(struct kvmmu_vm *kvm, unsigned int req)
{
	unsigned long seen[KVMMU_MAX_VCPUS];
	int i, waited = 0, n = smp_load_acquire(&kvm->nr_vcpus);

	for (i = 0; i < n; i++)
		__atomic_fetch_or(&kvm->vcpus[i]->requests, 1ul << req,
				  __ATOMIC_SEQ_CST);
	for (i = 0; i < n; i++)
		seen[i] = vcpu_ipi(kvm->vcpus[i]);
	for (i = 0; i < n; i++) {
		if (seen[i]) {
			vcpu_wait_exit(kvm->vcpus[i], seen[i]);
			waited++;
		}
	}
	return waited;
}

/**
 * kvmmu_flush_remote_tlbs() - flush every vCPU's TLB before returning.
 * Models: virt/kvm/kvm_main.c kvm_flush_remote_tlbs() (§1.13)
 * Context: any thread except a vCPU in guest mode (usually under mmu_lock).
 */
void kvmmu_flush_remote_tlbs(struct kvmmu_vm *kvm)
{
	int waited;

	kvmmu_stats_inc(&kvm->stats, KVM_STAT_REMOTE_TLB_FLUSH_REQUESTS);
	if (kvm->cfg.inject & KVMMU_INJECT_NO_TLB_FLUSH)
		return; /* test-only bug: the checker must notice */
	waited = kvmmu_make_all_cpus_request(kvm, KVM_REQ_TLB_FLUSH);
	/* kvm_make_all_cpus_request() is true only if it kicked a CPU. */
	if (waited || kvm->arch->arch_flush_remote_tlbs)
		kvmmu_stats_inc(&kvm->stats, KVM_STAT_REMOTE_TLB_FLUSH);
	trace_kvm_remote_tlb_flush(kvm, waited);
}

/**
 * kvmmu_vcpu_kick() - see vcpu.h.
 * Models: virt/kvm/kvm_main.c kvm_vcpu_kick()
 */
void kvmmu_vcpu_kick(struct kvmmu_vcpu *vcpu)
{
	__atomic_store_n(&vcpu->kick, true, __ATOMIC_SEQ_CST);
	vcpu_ipi(vcpu);
}
