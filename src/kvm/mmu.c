// SPDX-License-Identifier: MIT
/*
 * The stage-2 fault path and the zaps that the notifier and memslot code
 * ask for.
 *
 * A fault: look the gfn up in the memslots (under SRCU), sample
 * mmu_invalidate_seq, resolve the host frame by GUP without any KVM lock
 * (this may break COW, and so may run a notifier on this very range), take
 * mmu_lock, and install the leaf only if no invalidation ran or is running
 * since the sample.  No page reference outlives the fault (SYNC_MMU): the
 * notifier protocol alone keeps the leaf from outliving the host mapping.
 *
 * Models: kvm-mmu-protocol.md §1.8 (the protocol), §2.6 (hva_to_pfn,
 * __kvm_faultin_pfn), §5.2 (arm64 user_mem_abort), §6.2 (MIPS
 * kvm_mips_map_page), §7.1-§7.2 (x86 kvm_mmu_faultin_pfn,
 * is_page_fault_stale).
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "internal.h"
#include "vcpu/internal.h"
#include "trace/hooks.h"

/* The result of resolving a gfn to a host frame (struct kvm_page_fault). */
struct kvm_page_fault {
	gfn_t gfn;
	gpa_t gpa;
	bool write;
	struct kvmmu_memory_slot *slot;
	hva_t hva;
	unsigned long mmu_seq;
	kvmmu_pfn_t pfn;
	bool map_writable;
	bool refcounted; /* we hold a reference on pfn (not PFNMAP) */
	enum kvmmu_memtype memtype;
};

/* Fault counters are per vCPU (KVM's vcpu stats); the VM sums them. */
static void vcpu_stat(struct kvmmu_vcpu *vcpu, int vs)
{
	kvmmu_stats_inc(&vcpu->stats, vs);
}

/* Fill the run state for an MMIO exit at @gpa. */
static int mmio_exit(struct kvmmu_vcpu *vcpu, gpa_t gpa, bool write,
		     unsigned int len, const void *wdata)
{
	struct kvmmu_run *run = &vcpu->run;

	run->exit_reason = KVMMU_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = len;
	run->mmio.is_write = write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (write && wdata)
		memcpy(run->mmio.data, wdata, min(len, 8u));
	vcpu_stat(vcpu, VCPU_STAT_PF_MMIO);
	return 1;
}

/* KVM_RUN fails -EFAULT with the vCPU still on the access. */
static int efault_exit(struct kvmmu_vcpu *vcpu, gpa_t gpa, bool write,
		       unsigned int len)
{
	struct kvmmu_run *run = &vcpu->run;

	run->exit_reason = KVMMU_EXIT_MEMORY_FAULT;
	run->memory_fault.gpa = gpa & PAGE_MASK;
	run->memory_fault.size = PAGE_SIZE;
	run->memory_fault.write = write;
	vcpu_stat(vcpu, VCPU_STAT_PF_EFAULT);
	return -EFAULT;
}

/*
 * hva → frame.  Return: 0; -EACCES (write through a read-only PFNMAP PTE:
 * KVM_PFN_ERR_RO_FAULT); other -errno (KVM_PFN_ERR_FAULT).
 *
 * Models: virt/kvm/kvm_main.c hva_to_pfn() (§2.6): the lockless fast walk
 * first (only for a write, or when a writable mapping is acceptable — a
 * read-only fast GUP could race with a COW break), then the slow GUP, then
 * VM_PFNMAP through follow_pfnmap.
 */
static int faultin_pfn(struct kvmmu_vm *kvm, struct kvm_page_fault *f)
{
	unsigned int foll = f->write ? KVMMU_FOLL_WRITE : 0;
	bool ro_slot = f->slot->flags & KVMMU_MEM_READONLY;
	bool writable = false;
	int r;

	f->memtype = KVMMU_MT_WB;
	f->refcounted = true;
	r = -EAGAIN;
	if (!ro_slot)
		r = kvmmu_get_user_page_fast_only(
			kvm->mm, f->hva, KVMMU_FOLL_WRITE, &f->pfn, &writable);
	if (r && f->write)
		r = kvmmu_get_user_page(kvm->mm, f->hva, foll, &f->pfn,
					&writable);
	else if (r)
		r = kvmmu_get_user_page(kvm->mm, f->hva, 0, &f->pfn, &writable);
	if (r == -EFAULT) {
		struct kvmmu_vma_info vi;

		if (kvmmu_vma_lookup(kvm->mm, f->hva, &vi) ||
		    !(vi.flags & (KVMMU_VM_PFNMAP | KVMMU_VM_IO)))
			return -EFAULT;
		r = kvmmu_follow_pfnmap(kvm->mm, f->hva, f->write, &f->pfn,
					&writable, &f->memtype);
		if (r)
			return r;
		f->refcounted = false;
	} else if (r) {
		return r;
	}
	f->map_writable = writable && !ro_slot;
	return 0;
}

static void release_faultin_page(struct kvmmu_vm *kvm, struct kvm_page_fault *f)
{
	if (f->refcounted)
		kvmmu_put_page(kvm->host, f->pfn);
}

/*
 * The leaf to install for @f.  x86 maps a writable host page writable even
 * on a read (hardware sets the dirty bit on the first write); MIPS maps it
 * writable-but-clean (the first write takes the fast path and dirties it);
 * arm64 maps what the fault asked for.  MMU_WRITABLE records that the host
 * allowed writes, for a later fast-path upgrade.
 */
static kvmmu_spte_t make_spte(struct kvmmu_vm *kvm, struct kvm_page_fault *f)
{
	uint64_t prot = S2_EXEC | S2_ACCESSED;

	prot |= (uint64_t)f->memtype << S2_MT_SHIFT;
	if (f->map_writable) {
		prot |= S2_MMU_WRITABLE;
		if (f->write || !kvm->arch->map_writable_clean)
			prot |= S2_WRITE;
		if (f->write)
			prot |= S2_DIRTY;
	}
	return s2_mk_leaf(f->pfn, prot,
			  f->refcounted ? kvmmu_page_gen(kvm->host, f->pfn) :
					  0);
}

/* Does the present leaf @e already allow this access? */
static bool spte_allows(kvmmu_spte_t e, bool write)
{
	return s2_is_leaf(e) && (!write || (e & S2_WRITE));
}

/*
 * Locked part of the fault: retry check, then install.
 * Return: 0 fixed, 1 spurious, -EAGAIN retry, -ENOMEM.
 * Models: arch/x86/kvm/mmu/mmu.c is_page_fault_stale() + kvm_tdp_mmu_map();
 * arch/arm64/kvm/mmu.c user_mem_abort() steps 13-19.
 */
static int map_locked(struct kvmmu_vm *kvm, struct kvm_page_fault *f)
	NO_THREAD_SAFETY_ANALYSIS /* mmu_lock in read or write mode by arch */
{
	kvmmu_spte_t new = make_spte(kvm, f), old = 0, *ptep;
	bool retry;
	int level, r;

	if (kvm->cfg.inject & KVMMU_INJECT_NO_RETRY)
		retry = false;
	else if (kvm->arch->gfn_precise_retry)
		retry = kvmmu_mmu_invalidate_retry_gfn(kvm, f->mmu_seq, f->gfn);
	else
		retry = kvmmu_mmu_invalidate_retry(kvm, f->mmu_seq);
	if (retry) {
		trace_kvm_mmu_invalidate_retry(kvm, f->gfn, f->mmu_seq, true);
		return -EAGAIN;
	}

	r = kvmmu_s2_map(&kvm->s2, f->gfn, 1, new, &old);
	if (!r)
		trace_kvm_mmu_set_spte(kvm, f->gfn, new, 1);
	if (r != -EEXIST)
		return r;
	/*
	 * Another fault mapped it first.  It passed the same retry check, so
	 * it maps the frame the host maps now; just widen the permissions if
	 * this fault needs more (the TDP MMU overwrites the SPTE the same way).
	 */
	if (spte_allows(old, f->write))
		return 1;
	old = kvmmu_s2_walk(&kvm->s2, f->gfn, &ptep, &level);
	if (!s2_is_leaf(old) || level != 1)
		return -EAGAIN;
	if (s2_pfn(old) != f->pfn) {
		WARN_ON_ONCE(1);
		return -EAGAIN;
	}
	if (cmpxchg(ptep, old, new) != old)
		return -EAGAIN;
	trace_kvm_mmu_set_spte(kvm, f->gfn, new, level);
	return 0;
}

/*
 * mmu_lock for a fault: read (x86 TDP MMU, arm64) or write (MIPS).
 * Models: arch/arm64/kvm/mmu.c kvm_fault_lock()
 */
static void kvm_fault_lock(struct kvmmu_vm *kvm) NO_THREAD_SAFETY_ANALYSIS
{
	if (kvm->arch->fault_read_lock)
		kvmmu_read_lock(&kvm->mmu_lock);
	else
		kvmmu_write_lock(&kvm->mmu_lock);
}

static void kvm_fault_unlock(struct kvmmu_vm *kvm) NO_THREAD_SAFETY_ANALYSIS
{
	if (kvm->arch->fault_read_lock)
		kvmmu_read_unlock(&kvm->mmu_lock);
	else
		kvmmu_write_unlock(&kvm->mmu_lock);
}

/**
 * kvmmu_page_fault() - see vcpu/internal.h.
 * Models: the §1.8 protocol as arch/x86/kvm/mmu/mmu.c kvm_mmu_page_fault()
 * → kvm_tdp_page_fault(), arch/arm64/kvm/mmu.c kvm_handle_guest_abort() →
 * user_mem_abort(), arch/mips/kvm/mmu.c kvm_mips_map_page().
 * Context: a vCPU thread outside guest mode; takes SRCU, may take
 * mmap_lock (GUP) and mmu_lock; may block.
 */
int kvmmu_page_fault(struct kvmmu_vcpu *vcpu, gpa_t gpa, bool write,
		     unsigned int len, const void *wdata)
{
	struct kvmmu_vm *kvm = vcpu->kvm;
	const struct kvmmu_arch_ops *arch = kvm->arch;
	struct kvm_page_fault f = {
		.gfn = gpa >> PAGE_SHIFT,
		.gpa = gpa,
		.write = write,
	};
	uint64_t t0 = trace_kvm_page_fault_begin(kvm, vcpu->id);
	int idx, r, res = TRACE_PF_FIXED;

	vcpu_stat(vcpu, VCPU_STAT_PF_TAKEN);
	idx = kvmmu_srcu_read_lock(&kvm->srcu);
	/*
	 * Address space 0: vCPUs here never enter SMM, so x86's second
	 * address space (kvm_vcpu_memslots() picks it by the vCPU's SMM
	 * state) holds slots a guest access never reaches.
	 */
	f.slot = kvmmu_gfn_to_memslot(kvmmu_memslots(kvm, 0), f.gfn);
	if (f.slot && (f.slot->flags & KVMMU_MEMSLOT_INVALID)) {
		/* x86: RET_PF_RETRY until the update publishes; others see
		 * no valid hva and treat the access as MMIO. */
		if (arch->retry_on_invalid_slot) {
			r = 0;
			goto out_resched;
		}
		f.slot = NULL;
	}
	if (!f.slot || (write && (f.slot->flags & KVMMU_MEM_READONLY))) {
		r = mmio_exit(vcpu, gpa, write, len, wdata);
		goto out;
	}
	f.hva = kvmmu_gfn_to_hva_memslot(f.slot, f.gfn);

	/*
	 * Sample the sequence before resolving the frame.  The acquire pairs
	 * with invalidate_end's release: everything the invalidation did to
	 * the host is visible to the GUP below, or the seq differs.
	 */
	f.mmu_seq = smp_load_acquire(&kvm->mmu_invalidate_seq);
	if (arch->lockless_precheck &&
	    !(kvm->cfg.inject & KVMMU_INJECT_NO_RETRY) &&
	    kvmmu_mmu_invalidate_retry_gfn_unsafe(kvm, f.mmu_seq, f.gfn)) {
		trace_kvm_mmu_invalidate_retry(kvm, f.gfn, f.mmu_seq, false);
		vcpu_stat(vcpu, VCPU_STAT_MMU_INVALIDATE_RETRY);
		r = 0;
		goto out_resched;
	}

	r = faultin_pfn(kvm, &f);
	if (r == -EACCES) {
		/* KVM_PFN_ERR_RO_FAULT: emulate, i.e. exit as MMIO. */
		r = mmio_exit(vcpu, gpa, write, len, wdata);
		goto out;
	}
	if (r) {
		r = efault_exit(vcpu, gpa, write, len);
		goto out;
	}

	kvm_fault_lock(kvm);
	r = map_locked(kvm, &f);
	/* kvm_release_faultin_page(): under mmu_lock, no reference kept. */
	release_faultin_page(kvm, &f);
	kvm_fault_unlock(kvm);

	switch (r) {
	case 0:
		vcpu_stat(vcpu, VCPU_STAT_PF_FIXED);
		/* mark_page_dirty_in_slot(): dirty logging is a later issue. */
		break;
	case 1:
		vcpu_stat(vcpu, VCPU_STAT_PF_SPURIOUS);
		res = TRACE_PF_SPURIOUS;
		r = 0;
		break;
	case -EAGAIN:
		vcpu_stat(vcpu, VCPU_STAT_MMU_INVALIDATE_RETRY);
		r = 0;
		goto out_resched;
	default: /* -ENOMEM: no table page */
		r = efault_exit(vcpu, gpa, write, len);
		break;
	}
out:
	kvmmu_srcu_read_unlock(&kvm->srcu, idx);
	/* 1 is an MMIO exit, -EFAULT a memory-fault exit (also -ENOMEM). */
	if (r)
		res = r > 0 ? TRACE_PF_MMIO : TRACE_PF_EFAULT;
	trace_kvm_page_fault(kvm, t0, vcpu->id, gpa, write, res);
	return r;

out_resched:
	/*
	 * The fault will simply be taken again: give the invalidation or
	 * memslot update that made it retry the CPU first (the guest re-entry
	 * path's cond_resched()), or a 2-CPU host livelocks on spinning vCPUs.
	 */
	kvmmu_srcu_read_unlock(&kvm->srcu, idx);
	trace_kvm_page_fault(kvm, t0, vcpu->id, gpa, write, TRACE_PF_RETRY);
	sched_yield();
	return 0;
}

/**
 * kvmmu_unmap_gfn_range() - zap [start, end) of the stage-2 table.
 * Return: whether the caller must flush remote TLBs (x86, MIPS); arm64
 * flushes inside, as its stage-2 unmap does TLBI per entry, and returns
 * false.
 * Models: arch/x86/kvm/mmu/mmu.c kvm_unmap_gfn_range(),
 * arch/arm64/kvm/mmu.c kvm_unmap_gfn_range() (§5.6, §7.4)
 * Context: mmu_lock held for write.
 */
bool kvmmu_unmap_gfn_range(struct kvmmu_vm *kvm, gfn_t start, gfn_t end)
{
	unsigned long n;

	lockdep_assert_held_write(&kvm->mmu_lock);
	if (!READ_ONCE(kvm->s2.root))
		return false; /* torn down by release */
	n = kvmmu_s2_unmap_range(&kvm->s2, start, end);
	trace_kvm_mmu_zap(kvm, start, end, n);
	if (!n)
		return false;
	kvmmu_stats_add(&kvm->stats, KVM_STAT_NOTIFIER_ZAP_PAGES, n);
	if (kvm->arch->flush_after_unmap)
		return true;
	kvmmu_flush_remote_tlbs(kvm);
	return false;
}

static void zap_and_flush(struct kvmmu_vm *kvm, gfn_t start, gfn_t end)
{
	unsigned long n;

	kvmmu_write_lock(&kvm->mmu_lock);
	n = kvmmu_s2_unmap_range(&kvm->s2, start, end);
	trace_kvm_mmu_zap(kvm, start, end, n);
	if (n)
		kvmmu_flush_remote_tlbs(kvm);
	kvmmu_s2_free_retired(&kvm->s2);
	kvmmu_write_unlock(&kvm->mmu_lock);
}

/**
 * kvmmu_arch_flush_shadow_memslot() - zap every leaf of @slot and flush.
 * Models: kvm_arch_flush_shadow_memslot() (§2.3, §5.6)
 * Context: slots_lock held; takes mmu_lock for write.
 */
void kvmmu_arch_flush_shadow_memslot(struct kvmmu_vm *kvm,
				     struct kvmmu_memory_slot *slot)
{
	zap_and_flush(kvm, slot->base_gfn, slot->base_gfn + slot->npages);
}

/**
 * kvmmu_arch_flush_shadow_all() - zap everything (release).
 * Models: kvm_arch_flush_shadow_all() (§1.10)
 * Context: takes mmu_lock for write.
 */
void kvmmu_arch_flush_shadow_all(struct kvmmu_vm *kvm)
{
	zap_and_flush(kvm, 0, 1ull << 36);
}
