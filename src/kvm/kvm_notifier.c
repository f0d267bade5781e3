// SPDX-License-Identifier: MIT
/*
 * MMU-notifier glue: host HVA events → gfn ranges of every memslot they hit
 * → stage-2 zap, with the invalidation sequence that the fault path checks.
 *
 * Models: virt/kvm/kvm_main.c kvm_handle_hva_range(),
 * kvm_mmu_notifier_invalidate_range_start/end(), kvm_mmu_invalidate_begin/
 * range_add/end(), kvm_mmu_notifier_release() (kvm-mmu-protocol.md §1.3-§1.6,
 * §1.10).  Aging callbacks come with the aging issue.
 */
#include "internal.h"
#include "trace/hooks.h"

struct hva_range {
	hva_t start, end;
	bool (*handler)(struct kvmmu_vm *kvm, struct kvmmu_memory_slot *slot,
			gfn_t start, gfn_t end);
	void (*on_lock)(struct kvmmu_vm *kvm);
	bool flush_on_ret;
	bool may_block;
};

struct mn_ret {
	bool ret;
	bool found_memslot;
};

static struct kvmmu_vm *mn_to_kvm(struct kvmmu_mmu_notifier *mn)
{
	return container_of(mn, struct kvmmu_vm, mmu_notifier);
}

/**
 * handle_hva_range() - run @range's handler on every memslot (of every
 * address space) whose HVA window intersects [start, end).
 *
 * mmu_lock is taken for write only when a slot matches, and on_lock runs
 * once, under it, before the first handler; the flush (if any handler asked
 * for one) happens before mmu_lock is dropped.
 *
 * Models: virt/kvm/kvm_main.c kvm_handle_hva_range() (§1.3)
 * Context: the notifier callback's context; takes SRCU and mmu_lock.
 */
static struct mn_ret handle_hva_range(struct kvmmu_vm *kvm,
				      const struct hva_range *range)
	NO_THREAD_SAFETY_ANALYSIS /* lock taken on the first match only */
{
	struct mn_ret r = { false, false };
	struct kvmmu_itree_node *node;
	unsigned int as;
	int idx;

	if (WARN_ON_ONCE(range->end <= range->start))
		return r;

	idx = kvmmu_srcu_read_lock(&kvm->srcu);
	for (as = 0; as < kvmmu_nr_as(kvm); as++) {
		struct kvmmu_memslots *slots = kvmmu_memslots(kvm, as);

		kvmmu_for_each_memslot_in_hva_range(node, slots, range->start,
						    range->end - 1) {
			struct kvmmu_memory_slot *slot =
				kvmmu_hva_node_to_slot(node, slots->node_idx);
			hva_t hs = max(range->start, slot->userspace_addr);
			hva_t he = min(range->end, kvmmu_slot_hva_end(slot));
			gfn_t gs, ge;

			/* The end rounds up: a partial page is affected. */
			gs = slot->base_gfn +
			     ((hs - slot->userspace_addr) >> PAGE_SHIFT);
			ge = slot->base_gfn +
			     ((he + PAGE_SIZE - 1 - slot->userspace_addr) >>
			      PAGE_SHIFT);
			if (!r.found_memslot) {
				r.found_memslot = true;
				kvmmu_write_lock(&kvm->mmu_lock);
				if (range->on_lock)
					range->on_lock(kvm);
				if (!range->handler)
					goto out_unlock;
			}
			r.ret |= range->handler(kvm, slot, gs, ge);
		}
	}
	if (range->flush_on_ret && r.ret)
		kvmmu_flush_remote_tlbs(kvm);
out_unlock:
	if (r.found_memslot) {
		/* Tables unlinked by the zap are unreachable after the flush. */
		kvmmu_s2_free_retired(&kvm->s2);
		kvmmu_write_unlock(&kvm->mmu_lock);
	}
	kvmmu_srcu_read_unlock(&kvm->srcu, idx);
	return r;
}

/**
 * kvmmu_mmu_invalidate_begin() - an invalidation starts: faults must retry.
 * Models: virt/kvm/kvm_main.c kvm_mmu_invalidate_begin() (§1.6)
 * Context: mmu_lock held for write.
 */
void kvmmu_mmu_invalidate_begin(struct kvmmu_vm *kvm)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	/*
	 * The range restarts only when no other invalidation is in flight;
	 * otherwise it keeps widening (false positives are fine, false
	 * negatives are not).
	 */
	if (kvm->mmu_invalidate_in_progress == 0) {
		WRITE_ONCE(kvm->mmu_invalidate_range_start, INVALID_GPA);
		WRITE_ONCE(kvm->mmu_invalidate_range_end, INVALID_GPA);
	}
	/*
	 * Release: a lockless reader that sees the count sees a range that
	 * is at least as wide as this one's (the range is widened before any
	 * leaf is zapped, below, still under the lock).
	 */
	smp_store_release(&kvm->mmu_invalidate_in_progress,
			  kvm->mmu_invalidate_in_progress + 1);
}

/**
 * kvmmu_mmu_invalidate_range_add() - widen the in-flight range to cover
 * [start, end).
 * Models: virt/kvm/kvm_main.c kvm_mmu_invalidate_range_add() (§1.6)
 * Context: mmu_lock held for write, inside begin/end.
 */
void kvmmu_mmu_invalidate_range_add(struct kvmmu_vm *kvm, gfn_t start,
				    gfn_t end)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	WARN_ON_ONCE(!kvm->mmu_invalidate_in_progress);
	if (kvm->mmu_invalidate_range_start == INVALID_GPA) {
		WRITE_ONCE(kvm->mmu_invalidate_range_start, start);
		WRITE_ONCE(kvm->mmu_invalidate_range_end, end);
	} else {
		WRITE_ONCE(kvm->mmu_invalidate_range_start,
			   min(kvm->mmu_invalidate_range_start, start));
		WRITE_ONCE(kvm->mmu_invalidate_range_end,
			   max(kvm->mmu_invalidate_range_end, end));
	}
}

/**
 * kvmmu_mmu_invalidate_end() - an invalidation completes: bump the
 * sequence, then drop the count, in that order.
 * Models: virt/kvm/kvm_main.c kvm_mmu_invalidate_end() (§1.6)
 * Context: mmu_lock held for write.
 */
void kvmmu_mmu_invalidate_end(struct kvmmu_vm *kvm)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	/*
	 * A fault that sees the count drop to zero must also see the new
	 * sequence: the decrement is a release after the increment, and the
	 * retry check loads the count with acquire before the sequence.
	 */
	WRITE_ONCE(kvm->mmu_invalidate_seq, kvm->mmu_invalidate_seq + 1);
	smp_store_release(&kvm->mmu_invalidate_in_progress,
			  kvm->mmu_invalidate_in_progress - 1);
	KVM_BUG_ON(kvm->mmu_invalidate_in_progress < 0, kvm);
	/* begin() without any range_add(): a caller bug. */
	WARN_ON_ONCE(kvm->mmu_invalidate_range_start == INVALID_GPA);
}

/*
 * The start() handler: record the range, then zap it.
 * Models: virt/kvm/kvm_main.c kvm_mmu_unmap_gfn_range()
 */
static bool mmu_unmap_gfn_range(struct kvmmu_vm *kvm,
				struct kvmmu_memory_slot *slot, gfn_t start,
				gfn_t end) REQUIRES(kvm->mmu_lock)
{
	kvmmu_mmu_invalidate_range_add(kvm, start, end);
	return kvmmu_unmap_gfn_range(kvm, start, end);
}

static void on_lock_begin(struct kvmmu_vm *kvm) NO_THREAD_SAFETY_ANALYSIS
{
	kvmmu_mmu_invalidate_begin(kvm);
}

static void on_lock_end(struct kvmmu_vm *kvm) NO_THREAD_SAFETY_ANALYSIS
{
	kvmmu_mmu_invalidate_end(kvm);
}

static bool unmap_handler(struct kvmmu_vm *kvm, struct kvmmu_memory_slot *slot,
			  gfn_t start, gfn_t end) NO_THREAD_SAFETY_ANALYSIS
{
	return mmu_unmap_gfn_range(kvm, slot, start, end);
}

/*
 * Models: virt/kvm/kvm_main.c kvm_mmu_notifier_invalidate_range_start()
 * (§1.4).  Always returns 0, blockable or not.
 */
static int
kvm_mn_invalidate_range_start(struct kvmmu_mmu_notifier *mn,
			      const struct kvmmu_mmu_notifier_range *range)
{
	struct kvmmu_vm *kvm = mn_to_kvm(mn);
	const struct hva_range hr = {
		.start = range->start,
		.end = range->end,
		.handler = unmap_handler,
		.on_lock = on_lock_begin,
		.flush_on_ret = true,
		.may_block = kvmmu_mmu_notifier_range_blockable(range),
	};
	uint64_t ts = trace_mmu_notifier_invalidate_range_start(kvm, range);
	struct mn_ret r;

	/* Counted before the memslots are looked at: a memslot swap waits
	 * for this start() to be matched by its end(). */
	kvmmu_spin_lock(&kvm->mn_invalidate_lock);
	kvm->mn_active_invalidate_count++;
	kvmmu_spin_unlock(&kvm->mn_invalidate_lock);

	r = handle_hva_range(kvm, &hr);
	if (r.found_memslot) {
		kvmmu_stats_inc(&kvm->stats, KVM_STAT_MMU_NOTIFIER_INVALIDATE);
		/* At the B's time: before the zaps it caused. */
		trace_kvm_unmap_hva_range(kvm, ts, range->start, range->end);
	}
	return 0;
}

/*
 * Models: virt/kvm/kvm_main.c kvm_mmu_notifier_invalidate_range_end() (§1.5)
 */
static void
kvm_mn_invalidate_range_end(struct kvmmu_mmu_notifier *mn,
			    const struct kvmmu_mmu_notifier_range *range)
{
	struct kvmmu_vm *kvm = mn_to_kvm(mn);
	const struct hva_range hr = {
		.start = range->start,
		.end = range->end,
		.handler = NULL,
		.on_lock = on_lock_end,
		.flush_on_ret = false,
		.may_block = kvmmu_mmu_notifier_range_blockable(range),
	};
	bool wake;

	handle_hva_range(kvm, &hr);

	kvmmu_spin_lock(&kvm->mn_invalidate_lock);
	if (!WARN_ON_ONCE(!kvm->mn_active_invalidate_count))
		kvm->mn_active_invalidate_count--;
	wake = !kvm->mn_active_invalidate_count;
	/* At most one memslot updater waits (it holds slots_lock). */
	if (wake && kvm->mn_memslots_update_waiting)
		pthread_cond_broadcast(&kvm->mn_memslots_update_wait);
	kvmmu_spin_unlock(&kvm->mn_invalidate_lock);
	trace_mmu_notifier_invalidate_range_end(kvm);
}

/*
 * Models: virt/kvm/kvm_main.c kvm_mmu_notifier_release() (§1.10): the mm is
 * going away (or the VM unregistered): drop every stage-2 mapping.
 */
static void kvm_mn_release(struct kvmmu_mmu_notifier *mn, struct kvmmu_mm *mm)
{
	struct kvmmu_vm *kvm = mn_to_kvm(mn);
	int idx;

	idx = kvmmu_srcu_read_lock(&kvm->srcu);
	kvmmu_arch_flush_shadow_all(kvm);
	kvmmu_srcu_read_unlock(&kvm->srcu, idx);
}

const struct kvmmu_mmu_notifier_ops kvmmu_mmu_notifier_ops = {
	.release = kvm_mn_release,
	.invalidate_range_start = kvm_mn_invalidate_range_start,
	.invalidate_range_end = kvm_mn_invalidate_range_end,
};

/**
 * kvmmu_mmu_invalidate_retry_gfn() - the locked, gfn-precise retry check.
 * Models: include/linux/kvm_host.h mmu_invalidate_retry_gfn() (§1.7)
 * Context: mmu_lock held (either mode).
 */
bool kvmmu_mmu_invalidate_retry_gfn(struct kvmmu_vm *kvm, unsigned long seq,
				    gfn_t gfn)
{
	lockdep_assert_held(&kvm->mmu_lock);
	if (smp_load_acquire(&kvm->mmu_invalidate_in_progress)) {
		gfn_t s = READ_ONCE(kvm->mmu_invalidate_range_start);
		gfn_t e = READ_ONCE(kvm->mmu_invalidate_range_end);

		if (WARN_ON_ONCE(s == INVALID_GPA || e == INVALID_GPA))
			return true;
		if (gfn >= s && gfn < e)
			return true;
	}
	return READ_ONCE(kvm->mmu_invalidate_seq) != seq;
}

/**
 * kvmmu_mmu_invalidate_retry_gfn_unsafe() - lockless pre-check: may be
 * wrong either way, so the locked check must follow.
 * Models: include/linux/kvm_host.h mmu_invalidate_retry_gfn_unsafe() (§1.7)
 * Context: any.
 */
bool kvmmu_mmu_invalidate_retry_gfn_unsafe(struct kvmmu_vm *kvm,
					   unsigned long seq, gfn_t gfn)
{
	if (smp_load_acquire(&kvm->mmu_invalidate_in_progress) &&
	    gfn >= READ_ONCE(kvm->mmu_invalidate_range_start) &&
	    gfn < READ_ONCE(kvm->mmu_invalidate_range_end))
		return true;
	return READ_ONCE(kvm->mmu_invalidate_seq) != seq;
}
