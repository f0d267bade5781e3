// SPDX-License-Identifier: MIT
/*
 * The MMU-notifier chain of an mm.
 *
 * Subscribers are on a list protected by an rwlock: callbacks run with it
 * held for read, register and unregister take it for write, so unregister
 * returns only after every callback in flight has finished (the kernel
 * gets the same from SRCU).  release is delivered once per subscriber, by
 * mm teardown or by unregister, whichever comes first; after teardown the
 * subscriber is off the list and hears nothing more.
 *
 * invalidate_range_start's return value is ignored, as for a blockable
 * range in the kernel (only the non-blocking OOM path honours -EAGAIN).
 *
 * Models: mm/mmu_notifier.c __mmu_notifier_invalidate_range_start/end,
 * __mmu_notifier_release, mmu_notifier_register/unregister,
 * __mmu_notifier_clear_flush_young/clear_young/test_young;
 * mm/rmap.c folio_referenced_one() (the aging walk);
 * kvm-mmu-protocol.md §8.
 */
#include "internal.h"

static inline bool mm_has_notifiers(struct kvmmu_mm *mm)
{
	return atomic_read(&mm->mn_nr) != 0;
}

int kvmmu_mmu_notifier_register(struct kvmmu_mmu_notifier *sub,
				struct kvmmu_mm *mm)
{
	int r = 0;

	if (!sub || !sub->ops)
		return -EINVAL;
	kvmmu_write_lock(&mm->mmap_lock);
	if (mm->exited) {
		r = -ESRCH;
		goto out;
	}
	kvmmu_write_lock(&mm->mn_lock);
	if (sub->mm) {
		r = -EINVAL;
	} else {
		sub->mm = mm;
		sub->released = false;
		list_add_tail(&sub->link, &mm->mn_list);
		atomic_inc(&mm->mn_nr);
		kvmmu_mmgrab(mm);
	}
	kvmmu_write_unlock(&mm->mn_lock);
out:
	kvmmu_write_unlock(&mm->mmap_lock);
	return r;
}

void kvmmu_mmu_notifier_unregister(struct kvmmu_mmu_notifier *sub,
				   struct kvmmu_mm *mm)
{
	bool deliver = false;

	if (WARN_ON_ONCE(sub->mm != mm))
		return;
	kvmmu_write_lock(&mm->mn_lock);
	if (!sub->released) {
		sub->released = true;
		list_del_init(&sub->link);
		atomic_dec(&mm->mn_nr);
		deliver = true;
	}
	kvmmu_write_unlock(&mm->mn_lock);
	/* Off the list and no callback in flight: release runs alone. */
	if (deliver && sub->ops->release)
		sub->ops->release(sub, mm);
	sub->mm = NULL;
	kvmmu_mmdrop(mm);
}

void host_mn_release(struct kvmmu_mm *mm)
{
	struct kvmmu_mmu_notifier *sub;

	for (;;) {
		kvmmu_write_lock(&mm->mn_lock);
		if (list_empty(&mm->mn_list)) {
			kvmmu_write_unlock(&mm->mn_lock);
			return;
		}
		sub = list_first_entry(&mm->mn_list, struct kvmmu_mmu_notifier,
				       link);
		list_del_init(&sub->link);
		atomic_dec(&mm->mn_nr);
		sub->released = true;
		/*
		 * Deliver release with the lock held for read: a concurrent
		 * unregister takes it for write, so it cannot return (and its
		 * caller free @sub) while this callback still runs, as
		 * synchronize_srcu() guarantees in the kernel.
		 */
		kvmmu_write_downgrade(&mm->mn_lock);
		if (sub->ops->release)
			sub->ops->release(sub, mm);
		kvmmu_read_unlock(&mm->mn_lock);
	}
}

void host_mn_invalidate_range_start(const struct kvmmu_mmu_notifier_range *r)
{
	struct kvmmu_mm *mm = r->mm;
	struct kvmmu_mmu_notifier *sub;

	host_stat_inc(mm->host, HS_MN_INVALIDATE);
	if (!mm_has_notifiers(mm))
		return;
	kvmmu_read_lock(&mm->mn_lock);
	list_for_each_entry(sub, &mm->mn_list, link) {
		if (sub->ops->invalidate_range_start)
			WARN_ON_ONCE(sub->ops->invalidate_range_start(sub, r) &&
				     kvmmu_mmu_notifier_range_blockable(r));
	}
	kvmmu_read_unlock(&mm->mn_lock);
}

void host_mn_invalidate_range_end(const struct kvmmu_mmu_notifier_range *r)
{
	struct kvmmu_mm *mm = r->mm;
	struct kvmmu_mmu_notifier *sub;

	if (!mm_has_notifiers(mm))
		return;
	kvmmu_read_lock(&mm->mn_lock);
	list_for_each_entry(sub, &mm->mn_list, link) {
		if (sub->ops->invalidate_range_end)
			sub->ops->invalidate_range_end(sub, r);
	}
	kvmmu_read_unlock(&mm->mn_lock);
}

bool host_mn_age(struct kvmmu_mm *mm, hva_t start, hva_t end,
		 enum kvmmu_age_op op)
{
	struct kvmmu_mmu_notifier *sub;
	bool young = false;

	if (!mm_has_notifiers(mm))
		return false;
	host_stat_inc(mm->host, HS_MN_AGE);
	kvmmu_read_lock(&mm->mn_lock);
	list_for_each_entry(sub, &mm->mn_list, link) {
		const struct kvmmu_mmu_notifier_ops *ops = sub->ops;

		switch (op) {
		case KVMMU_AGE_CLEAR_FLUSH_YOUNG:
			if (ops->clear_flush_young)
				young |= ops->clear_flush_young(sub, mm, start,
								end);
			break;
		case KVMMU_AGE_CLEAR_YOUNG:
			if (ops->clear_young)
				young |= ops->clear_young(sub, mm, start, end);
			break;
		case KVMMU_AGE_TEST_YOUNG:
			if (!young && ops->test_young)
				young = ops->test_young(sub, mm, start);
			break;
		}
	}
	kvmmu_read_unlock(&mm->mn_lock);
	return young;
}

struct age_args {
	struct kvmmu_mm *mm;
	enum kvmmu_age_op op;
	unsigned long young;
};

/*
 * Each present PTE: test/clear the host young bit and ask the subscribers
 * about the same page, with the PTL held (ptep_clear_flush_young_notify is
 * called inside the rmap walk's page_vma_mapped_walk).
 */
static void age_leaf(struct pt_page *pt, unsigned int from, unsigned int to,
		     hva_t base, void *arg)
{
	struct age_args *a = arg;
	unsigned int i;

	kvmmu_spin_lock(&pt->ptl);
	for (i = from; i < to; i++) {
		uint64_t pte = __atomic_load_n(&pt->ent[i], __ATOMIC_ACQUIRE);
		hva_t addr = base + ((hva_t)i << PAGE_SHIFT);
		bool young;

		if (!pte_present(pte))
			continue;
		young = pte & PTE_YOUNG;
		if (young && a->op != KVMMU_AGE_TEST_YOUNG)
			__atomic_store_n(&pt->ent[i], pte & ~PTE_YOUNG,
					 __ATOMIC_RELEASE);
		/* For the test, a young host PTE answers without asking. */
		if (!(a->op == KVMMU_AGE_TEST_YOUNG && young))
			young |= host_mn_age(a->mm, addr, addr + PAGE_SIZE,
					     a->op);
		a->young += young;
	}
	kvmmu_spin_unlock(&pt->ptl);
}

unsigned long kvmmu_mm_age_range(struct kvmmu_mm *mm, hva_t start, hva_t end,
				 enum kvmmu_age_op op)
{
	struct age_args a = { mm, op, 0 };
	struct host_vma *v;

	start = ALIGN_DOWN(start, PAGE_SIZE);
	kvmmu_read_lock(&mm->mmap_lock);
	for (v = host_find_vma_after(mm, start); v && v->start < end;
	     v = host_vma_next(v))
		host_walk_leaves(mm, max(start, v->start), min(end, v->end),
				 age_leaf, &a);
	kvmmu_read_unlock(&mm->mmap_lock);
	return a.young;
}

const char *kvmmu_mmu_notifier_event_name(enum kvmmu_mmu_notifier_event e)
{
	static const char *const names[] = {
		[KVMMU_MMU_NOTIFY_UNMAP] = "UNMAP",
		[KVMMU_MMU_NOTIFY_CLEAR] = "CLEAR",
		[KVMMU_MMU_NOTIFY_PROTECTION_VMA] = "PROTECTION_VMA",
		[KVMMU_MMU_NOTIFY_PROTECTION_PAGE] = "PROTECTION_PAGE",
		[KVMMU_MMU_NOTIFY_SOFT_DIRTY] = "SOFT_DIRTY",
		[KVMMU_MMU_NOTIFY_RELEASE] = "RELEASE",
		[KVMMU_MMU_NOTIFY_MIGRATE] = "MIGRATE",
		[KVMMU_MMU_NOTIFY_EXCLUSIVE] = "EXCLUSIVE",
	};

	if ((unsigned int)e < ARRAY_SIZE(names) && names[e])
		return names[e];
	return "?";
}
