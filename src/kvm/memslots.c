// SPDX-License-Identifier: MIT
/*
 * Memslots: the guest-physical layout of a VM (kvm-mmu-protocol.md §2):
 * the sets, their creation and teardown (§1.2), the lookups and the update
 * protocol (§2.1, §2.3 to §2.6).  The ioctls and their argument checks
 * (§2.2) are in memslot_ioctl.c, the gfn index in memslot_index.c.
 *
 * Each address space has two memslot sets, kvm->__memslots[as][0..1], and
 * an RCU-style pointer kvm->memslots[as] to the active one.  Readers (vCPU
 * faults, MMU-notifier handlers, the checker) use the active set inside an
 * SRCU read-side section of kvm->srcu, or with slots_lock held.  A slot
 * object is shared by both sets: it embeds two nodes for each index
 * (hva_node[2], gfn_node[2]) and a set only ever links node [node_idx], so
 * the two sets can be edited independently.  A set also has an id table
 * (slot id → slot), a gfn index (memslot_index.c) and a last-used hint for
 * gfn lookups.
 *
 * An update (slots_lock held) never edits the active set: it edits the
 * inactive one, swaps the two (publishing with a release store, then
 * waiting an SRCU grace period), and replays the same edit on the set that
 * has just become inactive.  A published slot object is immutable; a
 * change of flags or base gfn installs a new object.  Deleting or moving a
 * slot goes through two swaps: the first publishes an INVALID copy, after
 * which no fault can install a stage-2 entry for the old range, and the
 * old range is zapped; the second publishes the final state.
 *
 *   gfn_index  sorted (base_gfn, slot) chunks for lookups; our deviation
 *	       from KVM's rb-tree, for speed (memslot_index.c says why)
 *   gfn_tree   interval tree over [base_gfn, base_gfn + npages - 1];
 *	       never overlapping; answers the overlap check of an update
 *   hva_tree   interval tree over [uaddr, uaddr + size - 1]; overlaps
 *	       (aliasing) allowed, searched by the notifier glue
 *   id_table   KVMMU_MEM_SLOTS_NUM pointers, by slot id
 *
 * Lock order: slots_lock → slots_arch_lock → mn_invalidate_lock; the SRCU
 * grace period runs with slots_lock only (slots_arch_lock is dropped at
 * publication, as in KVM).
 *
 * Models: virt/kvm/kvm_main.c (the memslot half, kvm_set_memslot() and
 * what it calls) and include/linux/kvm_host.h (the lookups).
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

static inline int slot_node_idx(const struct kvmmu_memslots *slots)
{
	return slots->node_idx;
}

/* --- sets ----------------------------------------------------------------- */

static void memslots_set_init(struct kvmmu_memslots *slots, int as_id,
			      int node_idx)
{
	slots->generation = (uint64_t)as_id;
	slots->last_used_slot = NULL;
	kvmmu_itree_init(&slots->hva_tree);
	kvmmu_itree_init(&slots->gfn_tree);
	slots->node_idx = node_idx;
	slots->nr_slots = 0;
}

/**
 * kvmmu_memslots_init() - set up both memslot sets of every address space.
 * @kvm: the VM being created (kvm->arch set).
 *
 * Each set starts empty with generation = its address-space id (so the
 * generations of different address spaces never collide), node_idx 0 or
 * 1, and set 0 is the active one.
 *
 * Models: virt/kvm/kvm_main.c kvm_create_vm() (the memslot part,
 * kvm-mmu-protocol.md §1.2)
 * Context: VM creation; nothing else uses @kvm yet.
 * Return: 0; -ENOMEM (nothing left allocated); -EINVAL (the arch has more
 * address spaces than KVMMU_MAX_NR_ADDRESS_SPACES, a bug).
 */
int kvmmu_memslots_init(struct kvmmu_vm *kvm)
{
	unsigned int as, i;

	if (WARN_ON(kvmmu_nr_as(kvm) > KVMMU_MAX_NR_ADDRESS_SPACES))
		return -EINVAL;
	for (as = 0; as < kvmmu_nr_as(kvm); as++) {
		for (i = 0; i < 2; i++) {
			struct kvmmu_memslots *slots = &kvm->__memslots[as][i];

			memslots_set_init(slots, (int)as, (int)i);
			slots->id_table = calloc(KVMMU_MEM_SLOTS_NUM,
						 sizeof(*slots->id_table));
			if (!slots->id_table ||
			    kvmmu_memslot_index_init(&slots->gfn_index)) {
				kvmmu_memslots_destroy(kvm);
				return -ENOMEM;
			}
		}
		kvm->memslots[as] = &kvm->__memslots[as][0];
	}
	kvm->nr_memslot_pages = 0;
	return 0;
}

static void free_memslot(struct kvmmu_memory_slot *slot)
{
	free(slot->dirty_bitmap);
	free(slot);
}

/**
 * kvmmu_memslots_destroy() - free every slot and both sets of every
 * address space.
 * @kvm: the VM being destroyed.
 *
 * At rest both sets hold the same slot objects; they are freed once,
 * through the set with node_idx 1 (as KVM does).  Safe on a partly
 * initialised VM (NULL id tables are skipped, an all-zero index is
 * freed as empty).
 *
 * Models: virt/kvm/kvm_main.c kvm_free_memslots() (from kvm_destroy_vm(),
 * kvm-mmu-protocol.md §1.2)
 * Context: VM teardown; no reader or updater can reach the memslots.
 * Return: nothing.
 */
void kvmmu_memslots_destroy(struct kvmmu_vm *kvm)
{
	unsigned int as, i, id;

	for (as = 0; as < KVMMU_MAX_NR_ADDRESS_SPACES; as++) {
		for (i = 0; i < 2; i++) {
			struct kvmmu_memslots *slots = &kvm->__memslots[as][i];

			kvmmu_memslot_index_destroy(&slots->gfn_index);
			if (!slots->id_table)
				continue;
			if (slots->node_idx == 1)
				for (id = 0; id < KVMMU_MEM_SLOTS_NUM; id++)
					if (slots->id_table[id])
						free_memslot(
							slots->id_table[id]);
			free(slots->id_table);
			slots->id_table = NULL;
			kvmmu_itree_init(&slots->hva_tree);
			kvmmu_itree_init(&slots->gfn_tree);
			slots->last_used_slot = NULL;
			slots->nr_slots = 0;
		}
		kvm->memslots[as] = NULL;
	}
}

/**
 * kvmmu_memslots() - the active memslot set of @as_id.
 * @kvm: the VM.
 * @as_id: the address space, < kvmmu_nr_as(@kvm).
 *
 * The acquire load pairs with the release store that publishes a set, so
 * the set's trees and slots are fully visible.  Debug builds check that
 * the caller is inside an SRCU section of kvm->srcu or holds slots_lock.
 *
 * Models: include/linux/kvm_host.h __kvm_memslots() (kvm-mmu-protocol.md
 * §2.1)
 * Context: SRCU read side of kvm->srcu, or slots_lock.
 * Return: the set; valid until the SRCU section ends or slots_lock is
 * dropped.
 */
struct kvmmu_memslots *kvmmu_memslots(struct kvmmu_vm *kvm, int as_id)
{
#ifdef KVMMU_DEBUG
	if (!kvmmu_srcu_read_lock_held(&kvm->srcu))
		lockdep_assert_held(&kvm->slots_lock);
#endif
	return smp_load_acquire(&kvm->memslots[as_id]);
}

/*
 * The set that is not published.  No reader can be in it: it was
 * unpublished by a swap that then waited for an SRCU grace period.
 * Models: virt/kvm/kvm_main.c kvm_get_inactive_memslots() (§2.1)
 */
static struct kvmmu_memslots *inactive_memslots(struct kvmmu_vm *kvm, int as_id)
	REQUIRES(kvm->slots_lock)
{
	int idx = slot_node_idx(kvmmu_active_memslots(kvm, as_id)) ^ 1;

	return &kvm->__memslots[as_id][idx];
}

/* --- lookups -------------------------------------------------------------- */

/*
 * base_gfn <= gfn < base_gfn + npages in one unsigned compare: below the
 * base, gfn - base_gfn wraps to more than any npages.  One branch, not
 * two: with random gfns "gfn >= base_gfn" alone is a coin toss for the
 * branch predictor, and each miss flushes the lookups in flight.
 */
static inline bool slot_has_gfn(const struct kvmmu_memory_slot *slot, gfn_t gfn)
{
	return gfn - slot->base_gfn < slot->npages;
}

/*
 * The gfn index gives the slot with the last base_gfn <= @gfn (or NULL);
 * slots never overlap, so that one holds @gfn or no slot does.
 * Models: include/linux/kvm_host.h search_memslots() (§2.6)
 */
static struct kvmmu_memory_slot *search_memslots(struct kvmmu_memslots *slots,
						 gfn_t gfn)
{
	struct kvmmu_memory_slot *slot =
		kvmmu_memslot_index_find(&slots->gfn_index, gfn);

	return slot && slot_has_gfn(slot, gfn) ? slot : NULL;
}

/**
 * kvmmu_gfn_to_memslot() - the slot of @slots that contains @gfn.
 * @slots: a set obtained from kvmmu_memslots().
 * @gfn: the guest frame.
 *
 * Tries the set's last-used hint, then searches the gfn index (two
 * branchless binary searches, O(log n)) and makes the result the new
 * hint.  The hint is a relaxed atomic: a stale one only costs the search.
 * INVALID slots are returned too.
 *
 * Models: include/linux/kvm_host.h __gfn_to_memslot() / search_memslots()
 * (kvm-mmu-protocol.md §2.6)
 * Context: SRCU read side of kvm->srcu, or slots_lock.
 * Return: the slot, or NULL.
 */
struct kvmmu_memory_slot *kvmmu_gfn_to_memslot(struct kvmmu_memslots *slots,
					       gfn_t gfn)
{
	struct kvmmu_memory_slot *slot = READ_ONCE(slots->last_used_slot);

	if (slot && slot_has_gfn(slot, gfn))
		return slot;
	slot = search_memslots(slots, gfn);
	if (slot)
		WRITE_ONCE(slots->last_used_slot, slot);
	return slot;
}

/* --- editing the inactive set --------------------------------------------- */

static void insert_gfn_node(struct kvmmu_memslots *slots,
			    struct kvmmu_memory_slot *slot)
{
	struct kvmmu_itree_node *n = &slot->gfn_node[slot_node_idx(slots)];

	n->start = slot->base_gfn;
	n->last = slot->base_gfn + slot->npages - 1;
	/* KVM BUG()s on a duplicate; the -EEXIST check makes it impossible. */
	WARN_ON_ONCE(
		kvmmu_itree_iter_first(&slots->gfn_tree, n->start, n->last));
	kvmmu_itree_insert(&slots->gfn_tree, n);
}

/*
 * Replace @old by @new in the inactive set of their address space: @old
 * NULL inserts, @new NULL removes.  The last-used hint moves with the slot.
 * An insert into the gfn index needs reserve_gfn_index() first.
 * Models: virt/kvm/kvm_main.c kvm_replace_memslot() (§2.1)
 */
static void replace_memslot(struct kvmmu_vm *kvm, struct kvmmu_memory_slot *old,
			    struct kvmmu_memory_slot *new)
	REQUIRES(kvm->slots_lock)
{
	int as_id = old ? old->as_id : new->as_id;
	struct kvmmu_memslots *slots = inactive_memslots(kvm, as_id);
	int idx = slot_node_idx(slots);

	lockdep_assert_held(&kvm->slots_lock);
	/* The index, as kvm_replace_memslot() does the gfn tree. */
	if (old && new && old->base_gfn == new->base_gfn) {
		kvmmu_memslot_index_replace(&slots->gfn_index, old, new);
	} else {
		if (old)
			kvmmu_memslot_index_remove(&slots->gfn_index, old);
		if (new)
			kvmmu_memslot_index_insert(&slots->gfn_index, new);
	}

	if (old) {
		WARN_ON(slots->id_table[old->id] != old);
		slots->id_table[old->id] = NULL;
		kvmmu_itree_remove(&slots->hva_tree, &old->hva_node[idx]);
		kvmmu_itree_remove(&slots->gfn_tree, &old->gfn_node[idx]);
		if (READ_ONCE(slots->last_used_slot) == old)
			WRITE_ONCE(slots->last_used_slot, new);
		slots->nr_slots--;
	}
	if (!new)
		return;

	new->hva_node[idx].start = new->userspace_addr;
	new->hva_node[idx].last = kvmmu_slot_hva_end(new) - 1;
	slots->id_table[new->id] = new;
	kvmmu_itree_insert(&slots->hva_tree, &new->hva_node[idx]);
	insert_gfn_node(slots, new);
	slots->nr_slots++;
}

/*
 * Publish the inactive set of @as_id and wait until no reader can still
 * be in the set it replaces.
 *
 * The generation: the new set carries the old one with the
 * update-in-progress bit (bit 63) while it is published and the grace
 * period runs, so anything cached against the old generation mismatches;
 * then it becomes old + number of address spaces (each address space
 * keeps its own residue modulo that number, so they never collide).
 *
 * Publication waits until no MMU-notifier invalidation is between start()
 * and end() (mn_active_invalidate_count == 0): both halves of one
 * invalidation must see the same set.  The notifier's end() broadcasts
 * mn_memslots_update_wait when the count drops to 0 and the updater said
 * it waits.  pthread_cond_wait() drops and retakes the lock's pthread
 * mutex without the wrapper; that is consistent for lockdep, which tracks
 * holds per thread: this thread keeps the lock "held" while it sleeps,
 * and the notifier threads record their own holds.
 *
 * Models: virt/kvm/kvm_main.c kvm_swap_active_memslots() (§2.4)
 */
static void swap_active_memslots(struct kvmmu_vm *kvm, int as_id)
	REQUIRES(kvm->slots_lock) RELEASE(kvm->slots_arch_lock)
{
	struct kvmmu_memslots *slots = inactive_memslots(kvm, as_id);
	uint64_t gen = READ_ONCE(kvmmu_active_memslots(kvm, as_id)->generation);

	WARN_ON(gen & KVMMU_MEMSLOT_GEN_UPDATE_IN_PROGRESS);
	WRITE_ONCE(slots->generation,
		   gen | KVMMU_MEMSLOT_GEN_UPDATE_IN_PROGRESS);

	kvmmu_spin_lock(&kvm->mn_invalidate_lock);
	while (READ_ONCE(kvm->mn_active_invalidate_count)) {
		kvm->mn_memslots_update_waiting = true;
		pthread_cond_wait(&kvm->mn_memslots_update_wait,
				  &kvm->mn_invalidate_lock.m);
	}
	kvm->mn_memslots_update_waiting = false;
	/* rcu_assign_pointer(): the set's contents before the pointer. */
	smp_store_release(&kvm->memslots[as_id], slots);
	kvmmu_spin_unlock(&kvm->mn_invalidate_lock);

	kvmmu_mutex_unlock(&kvm->slots_arch_lock);
	kvmmu_synchronize_srcu(&kvm->srcu);

	/* kvm_arch_memslots_updated() would go here (x86 MMIO generation). */
	gen = READ_ONCE(slots->generation) &
	      ~KVMMU_MEMSLOT_GEN_UPDATE_IN_PROGRESS;
	WRITE_ONCE(slots->generation, gen + kvmmu_nr_as(kvm));
	kvmmu_stats_inc(&kvm->stats, KVM_STAT_MEMSLOT_UPDATES);
}

/*
 * Swap, then replay @old → @new on the set that just became inactive.
 * Models: virt/kvm/kvm_main.c kvm_activate_memslot() (§2.3)
 */
static void activate_memslot(struct kvmmu_vm *kvm,
			     struct kvmmu_memory_slot *old,
			     struct kvmmu_memory_slot *new)
	REQUIRES(kvm->slots_lock) RELEASE(kvm->slots_arch_lock)
{
	int as_id = old ? old->as_id : new->as_id;

	swap_active_memslots(kvm, as_id);
	replace_memslot(kvm, old, new);
}

/* Everything but the tree nodes. */
static void copy_memslot(struct kvmmu_memory_slot *dest,
			 const struct kvmmu_memory_slot *src)
{
	dest->base_gfn = src->base_gfn;
	dest->npages = src->npages;
	dest->userspace_addr = src->userspace_addr;
	dest->flags = src->flags;
	dest->id = src->id;
	dest->as_id = src->as_id;
	dest->dirty_bitmap = src->dirty_bitmap;
}

/*
 * Publish an INVALID copy of @old, then zap @old's stage-2 entries.  From
 * the swap on, a fault in the range finds the INVALID slot and installs
 * nothing, so after the zap no entry for the old range can exist.
 * Models: virt/kvm/kvm_main.c kvm_invalidate_memslot() (§2.3)
 */
static void invalidate_memslot(struct kvmmu_vm *kvm,
			       struct kvmmu_memory_slot *old,
			       struct kvmmu_memory_slot *invalid)
	REQUIRES(kvm->slots_lock, kvm->slots_arch_lock)
{
	copy_memslot(invalid, old);
	invalid->flags |= KVMMU_MEMSLOT_INVALID;
	replace_memslot(kvm, old, invalid);

	/* Drops slots_arch_lock; the INVALID slot is now the active one. */
	swap_active_memslots(kvm, old->as_id);

	kvmmu_arch_flush_shadow_memslot(kvm, old);
	/* kvm_arch_guest_memory_reclaimed(): nothing to do in the model. */

	kvmmu_mutex_lock(&kvm->slots_arch_lock);
	/* old->arch = invalid->arch: the model's slots have no arch state. */
}

/*
 * Models: virt/kvm/kvm_main.c kvm_prepare_memory_region() (§2.5).  The
 * dirty bitmap and the arch hook (arm64 §5.5) come with later issues, so
 * preparing cannot fail yet; the callers keep KVM's unwinding anyway.
 */
static int prepare_memory_region(struct kvmmu_vm *kvm,
				 const struct kvmmu_memory_slot *old,
				 struct kvmmu_memory_slot *new,
				 enum kvmmu_mr_change change)
	REQUIRES(kvm->slots_lock, kvm->slots_arch_lock)
{
	if (change != KVMMU_MR_DELETE)
		new->dirty_bitmap = NULL;
	return 0;
}

/*
 * Account the pages and free what the update detached.
 * Models: virt/kvm/kvm_main.c kvm_commit_memory_region() (§2.3)
 */
static void commit_memory_region(struct kvmmu_vm *kvm,
				 struct kvmmu_memory_slot *old,
				 const struct kvmmu_memory_slot *new,
				 enum kvmmu_mr_change change)
	REQUIRES(kvm->slots_lock)
{
	switch (change) {
	case KVMMU_MR_CREATE:
		kvm->nr_memslot_pages += new->npages;
		break;
	case KVMMU_MR_DELETE:
		kvm->nr_memslot_pages -= old->npages;
		free_memslot(old);
		break;
	case KVMMU_MR_MOVE:
	case KVMMU_MR_FLAGS_ONLY:
		/* Only the object: a bitmap would have moved to @new. */
		free(old);
		break;
	}
}

/*
 * Give both sets of @as_id the spare chunk that one more gfn-index insert
 * may need, before the update changes either set: the replay on the second
 * set after the swap cannot fail then.  (KVM's rb-tree insert allocates
 * nothing; the index's chunks are the price of its speed.)
 */
static int reserve_gfn_index(struct kvmmu_vm *kvm, int as_id)
	REQUIRES(kvm->slots_lock)
{
	int i, r;

	lockdep_assert_held(&kvm->slots_lock);
	for (i = 0; i < 2; i++) {
		r = kvmmu_memslot_index_reserve(
			&kvm->__memslots[as_id][i].gfn_index);
		if (r)
			return r;
	}
	return 0;
}

/*
 * Apply one validated change.  slots_arch_lock is taken here and dropped
 * by the (last) swap; @old and @new are owned by the memslots afterwards
 * (@new is freed by the caller only on error).
 * Models: virt/kvm/kvm_main.c kvm_set_memslot() (§2.3)
 */
int kvmmu_set_memslot(struct kvmmu_vm *kvm, struct kvmmu_memory_slot *old,
		      struct kvmmu_memory_slot *new,
		      enum kvmmu_mr_change change) REQUIRES(kvm->slots_lock)
{
	struct kvmmu_memory_slot *invalid = NULL;
	int r;

	/* Only CREATE and MOVE insert a base_gfn the index does not hold. */
	if (change == KVMMU_MR_CREATE || change == KVMMU_MR_MOVE) {
		r = reserve_gfn_index(kvm, new->as_id);
		if (r)
			return r;
	}

	kvmmu_mutex_lock(&kvm->slots_arch_lock);

	if (change == KVMMU_MR_DELETE || change == KVMMU_MR_MOVE) {
		invalid = calloc(1, sizeof(*invalid));
		if (!invalid) {
			kvmmu_mutex_unlock(&kvm->slots_arch_lock);
			return -ENOMEM;
		}
		invalidate_memslot(kvm, old, invalid);
	}

	r = prepare_memory_region(kvm, old, new, change);
	if (r) {
		/* Put @old back exactly as it was (invariant 15). */
		if (invalid) {
			activate_memslot(kvm, invalid, old);
			free(invalid);
		} else {
			kvmmu_mutex_unlock(&kvm->slots_arch_lock);
		}
		return r;
	}

	switch (change) {
	case KVMMU_MR_CREATE: /* kvm_create_memslot() */
		replace_memslot(kvm, NULL, new);
		activate_memslot(kvm, NULL, new);
		break;
	case KVMMU_MR_DELETE: /* kvm_delete_memslot() */
		replace_memslot(kvm, old, NULL);
		activate_memslot(kvm, invalid, NULL);
		break;
	case KVMMU_MR_MOVE: /* kvm_move_memslot() */
		replace_memslot(kvm, old, new);
		activate_memslot(kvm, invalid, new);
		break;
	case KVMMU_MR_FLAGS_ONLY: /* kvm_update_flags_memslot() */
		replace_memslot(kvm, old, new);
		activate_memslot(kvm, old, new);
		break;
	}
	free(invalid);

	commit_memory_region(kvm, old, new, change);
	return 0;
}

/* --- queries ---------------------------------------------------------------- */

/**
 * kvmmu_vm_user_mem_slots() - number of user memslot ids of @vm's arch.
 * @vm: the VM.
 *
 * Models: include/linux/kvm_host.h KVM_USER_MEM_SLOTS (§11)
 * Context: any.
 * Return: KVMMU_MEM_SLOTS_NUM minus the arch's internal slots (x86 32764,
 * arm64 and MIPS 32767).
 */
unsigned int kvmmu_vm_user_mem_slots(const struct kvmmu_vm *vm)
{
	return KVMMU_MEM_SLOTS_NUM - vm->arch->nr_internal_slots;
}

/**
 * kvmmu_vm_nr_address_spaces() - number of memslot address spaces.
 * @vm: the VM.
 *
 * Models: include/linux/kvm_host.h kvm_arch_nr_memslot_as_ids() (§2.4)
 * Context: any.
 * Return: 2 on x86 (normal and SMM), 1 elsewhere.
 */
unsigned int kvmmu_vm_nr_address_spaces(const struct kvmmu_vm *vm)
{
	return vm->arch->nr_address_spaces;
}

/**
 * kvmmu_gfn_to_memslot_info() - describe the slot of @as_id holding @gfn.
 * @vm: the VM.
 * @as_id: the address space.
 * @gfn: the guest frame.
 * @out: filled on success.
 *
 * Models: virt/kvm/kvm_main.c gfn_to_memslot() with the INVALID test of
 * __gfn_to_hva_many() (kvm-mmu-protocol.md §2.6)
 * Context: any thread; takes kvm->srcu for reading.
 * Return: 0; -ENOENT (no slot, or the slot is INVALID while being deleted
 * or moved); -EINVAL (@as_id out of range).
 */
int kvmmu_gfn_to_memslot_info(struct kvmmu_vm *vm, unsigned int as_id,
			      gfn_t gfn, struct kvmmu_memslot_info *out)
{
	struct kvmmu_memory_slot *slot;
	int idx, r = 0;

	if (as_id >= kvmmu_nr_as(vm))
		return -EINVAL;
	idx = kvmmu_srcu_read_lock(&vm->srcu);
	slot = kvmmu_gfn_to_memslot(kvmmu_memslots(vm, (int)as_id), gfn);
	if (!slot || (slot->flags & KVMMU_MEMSLOT_INVALID)) {
		r = -ENOENT;
	} else {
		out->id = slot->id;
		out->as_id = slot->as_id;
		out->flags = slot->flags;
		out->base_gfn = slot->base_gfn;
		out->npages = slot->npages;
		out->userspace_addr = slot->userspace_addr;
	}
	kvmmu_srcu_read_unlock(&vm->srcu, idx);
	return r;
}

/**
 * kvmmu_memslots_generation() - the active set's generation of @as_id.
 * @vm: the VM.
 * @as_id: the address space.
 *
 * The sets live as long as the VM, so no SRCU section is needed for this
 * single atomic read.
 *
 * Models: include/linux/kvm_host.h kvm_memslots(kvm)->generation (§2.4)
 * Context: any.
 * Return: the generation (bit 63 set while an update is being published),
 * or 0 for an @as_id out of range.
 */
uint64_t kvmmu_memslots_generation(struct kvmmu_vm *vm, unsigned int as_id)
{
	struct kvmmu_memslots *slots;

	if (as_id >= kvmmu_nr_as(vm))
		return 0;
	slots = smp_load_acquire(&vm->memslots[as_id]);
	return READ_ONCE(slots->generation);
}
