// SPDX-License-Identifier: MIT
/*
 * KVM_SET_USER_MEMORY_REGION and _REGION2: the ioctl entry points and the
 * argument checks of kvm-mmu-protocol.md §2.2, in KVM's order.  The checks
 * decide the change (CREATE, DELETE, MOVE or FLAGS_ONLY) and hand it to
 * the update protocol in memslots.c, kvmmu_set_memslot() (§2.3, §2.4).
 *
 * A rejected update logs the check that refused it at debug level
 * ("memslot: <why>"), so that tests can tell which of several -EINVAL
 * checks fired first.
 *
 * Models: virt/kvm/kvm_main.c kvm_vm_ioctl() (the two cases),
 * kvm_vm_ioctl_set_memory_region(), kvm_set_memory_region() and its checks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "trace/hooks.h"

/* The flags user space may set, without guest_memfd (not modelled yet). */
#define MEMSLOT_V1_FLAGS (KVMMU_MEM_LOG_DIRTY_PAGES | KVMMU_MEM_READONLY)

/* Refuse an update: say which check did it (debug log), return @err. */
#define reject(err, why)                                    \
	({                                                  \
		pr_debug("memslot: %s (%d)", (why), (err)); \
		(err);                                      \
	})

static inline struct kvmmu_memory_slot *
gfn_node_to_slot(struct kvmmu_itree_node *n, int idx)
{
	return container_of(n, struct kvmmu_memory_slot, gfn_node[idx]);
}

/*
 * Models: virt/kvm/kvm_main.c check_memory_region_flags() (§2.2 row 1).
 * guest_memfd is not modelled yet, so GUEST_MEMFD is never valid; every
 * arch has read-only memory.
 */
static int
check_memory_region_flags(struct kvmmu_vm *kvm,
			  const struct kvmmu_userspace_memory_region2 *mem)
{
	uint32_t valid_flags = KVMMU_MEM_LOG_DIRTY_PAGES | KVMMU_MEM_READONLY;

	if (mem->flags & ~valid_flags)
		return reject(-EINVAL, "flags not valid");
	return 0;
}

/* access_ok(): [addr, addr + size) lies in the user address space. */
static bool access_ok(uint64_t addr, uint64_t size)
{
	return size <= KVMMU_TASK_SIZE && addr <= KVMMU_TASK_SIZE - size;
}

/*
 * Any slot of @slots other than @id intersecting [start, end)?
 * Models: virt/kvm/kvm_main.c kvm_check_memslot_overlap() (§2.2 row 14)
 */
static bool check_memslot_overlap(struct kvmmu_memslots *slots, int id,
				  gfn_t start, gfn_t end)
{
	int idx = slots->node_idx;
	struct kvmmu_itree_node *n;

	kvmmu_itree_for_each(n, &slots->gfn_tree, start, end - 1)
		if (gfn_node_to_slot(n, idx)->id != id)
			return true;
	return false;
}

/*
 * Every check of §2.2, in KVM's order, then the change itself.
 * Models: virt/kvm/kvm_main.c kvm_set_memory_region() (§2.2)
 */
static int set_memory_region(struct kvmmu_vm *kvm,
			     const struct kvmmu_userspace_memory_region2 *mem)
	REQUIRES(kvm->slots_lock)
{
	struct kvmmu_memory_slot *old, *new;
	struct kvmmu_memslots *slots;
	enum kvmmu_mr_change change;
	unsigned int as_id, id;
	uint64_t npages;
	gfn_t base_gfn;
	int r;

	lockdep_assert_held(&kvm->slots_lock);

	r = check_memory_region_flags(kvm, mem);
	if (r)
		return r;

	as_id = mem->slot >> 16;
	id = (uint16_t)mem->slot;

	/* General sanity checks (an unsigned long is 64 bits here). */
	if (mem->memory_size & (PAGE_SIZE - 1))
		return reject(-EINVAL, "memory_size not page aligned");
	if (mem->guest_phys_addr & (PAGE_SIZE - 1))
		return reject(-EINVAL, "guest_phys_addr not page aligned");
	/* untagged_addr() is the identity: a tagged address fails access_ok */
	if ((mem->userspace_addr & (PAGE_SIZE - 1)) ||
	    !access_ok(mem->userspace_addr, mem->memory_size))
		return reject(-EINVAL, "userspace_addr not aligned or not "
				       "accessible");
	/* Row 5, guest_memfd_offset: unreachable, GUEST_MEMFD was refused. */
	if (as_id >= kvmmu_nr_as(kvm) || id >= KVMMU_MEM_SLOTS_NUM)
		return reject(-EINVAL, "address space or slot id out of range");
	if (mem->guest_phys_addr + mem->memory_size < mem->guest_phys_addr)
		return reject(-EINVAL, "guest_phys_addr + memory_size wraps");
	/* Internal slots are exempt (they have no dirty bitmap). */
	if (id < kvmmu_vm_user_mem_slots(kvm) &&
	    (mem->memory_size >> PAGE_SHIFT) > KVMMU_MEM_MAX_NR_PAGES)
		return reject(-EINVAL, "too many pages");

	slots = kvmmu_active_memslots(kvm, (int)as_id);
	/* id_to_memslot(); the object may be freed by kvmmu_set_memslot(). */
	old = slots->id_table[id];

	if (!mem->memory_size) {
		if (!old || !old->npages)
			return reject(-EINVAL, "deleting a slot that does "
					       "not exist");
		if (WARN_ON_ONCE(kvm->nr_memslot_pages < old->npages))
			return -EIO;
		return kvmmu_set_memslot(kvm, old, NULL, KVMMU_MR_DELETE);
	}

	base_gfn = mem->guest_phys_addr >> PAGE_SHIFT;
	npages = mem->memory_size >> PAGE_SHIFT;

	if (!old || !old->npages) {
		change = KVMMU_MR_CREATE;
		/* The total must fit an unsigned long. */
		if (kvm->nr_memslot_pages + npages < kvm->nr_memslot_pages)
			return reject(-EINVAL, "total memslot pages wrap");
	} else {
		/* guest_memfd slots are immutable (only delete). */
		if (mem->flags & KVMMU_MEM_GUEST_MEMFD)
			return reject(-EINVAL, "modifying a guest_memfd slot");
		if (mem->userspace_addr != old->userspace_addr ||
		    npages != old->npages ||
		    ((mem->flags ^ old->flags) &
		     (KVMMU_MEM_READONLY | KVMMU_MEM_GUEST_MEMFD)))
			return reject(-EINVAL, "changing size, userspace_addr "
					       "or READONLY of a slot");
		if (base_gfn != old->base_gfn)
			change = KVMMU_MR_MOVE;
		else if (mem->flags != old->flags)
			change = KVMMU_MR_FLAGS_ONLY;
		else
			return 0; /* nothing to change */
	}

	if ((change == KVMMU_MR_CREATE || change == KVMMU_MR_MOVE) &&
	    check_memslot_overlap(slots, (int)id, base_gfn, base_gfn + npages))
		return reject(-EEXIST, "guest physical range overlaps a slot");

	new = calloc(1, sizeof(*new));
	if (!new)
		return -ENOMEM;
	new->as_id = (uint16_t)as_id;
	new->id = (uint16_t)id;
	new->base_gfn = base_gfn;
	new->npages = npages;
	new->flags = mem->flags;
	new->userspace_addr = mem->userspace_addr;
	/* kvm_gmem_bind() would go here (guest_memfd is a later issue). */

	r = kvmmu_set_memslot(kvm, old, new, change);
	if (r)
		free(new);
	return r;
}

/*
 * The VM ioctl: user slot ids only, then everything under slots_lock.
 * Models: virt/kvm/kvm_main.c kvm_vm_ioctl_set_memory_region() (§2.2)
 */
static int
vm_ioctl_set_memory_region(struct kvmmu_vm *kvm,
			   const struct kvmmu_userspace_memory_region2 *mem)
{
	int r;

	if ((uint16_t)mem->slot >= kvmmu_vm_user_mem_slots(kvm))
		return reject(-EINVAL, "slot id is not a user slot");

	kvmmu_mutex_lock(&kvm->slots_lock);
	r = set_memory_region(kvm, mem);
	if (!r)
		trace_kvm_set_user_memory_region(kvm, mem);
	kvmmu_mutex_unlock(&kvm->slots_lock);
	return r;
}

/**
 * kvmmu_set_user_memory_region2() - KVM_SET_USER_MEMORY_REGION2.
 * @vm: the VM.
 * @r: the region; slot = (as_id << 16) | id, memory_size 0 deletes.
 *
 * See kvm.h.  Checks, in order: VM usable (-EIO); user slot id; then
 * kvm-mmu-protocol.md §2.2 rows 1-14.
 *
 * Models: virt/kvm/kvm_main.c kvm_vm_ioctl() case
 * KVM_SET_USER_MEMORY_REGION2 (kvm-mmu-protocol.md §2.2)
 * Context: takes slots_lock, slots_arch_lock and mn_invalidate_lock; may
 * block for SRCU grace periods and in-flight MMU-notifier invalidations.
 * Must not be called inside an SRCU section of the VM or from a notifier.
 * Return: 0; -EFAULT (@r NULL); -EINVAL; -EEXIST; -ENOMEM; -EIO.
 */
int kvmmu_set_user_memory_region2(
	struct kvmmu_vm *vm, const struct kvmmu_userspace_memory_region2 *r)
{
	if (!kvmmu_vm_ioctl_ok(vm))
		return -EIO;
	if (!r)
		return -EFAULT; /* copy_from_user() */
	return vm_ioctl_set_memory_region(vm, r);
}

/**
 * kvmmu_set_user_memory_region() - KVM_SET_USER_MEMORY_REGION (v1).
 * @vm: the VM.
 * @r: the region; only the fields of the v1 structure are read (the
 * guest_memfd fields are taken as 0).
 *
 * As kvmmu_set_user_memory_region2(), except that flags beyond
 * LOG_DIRTY_PAGES | READONLY are refused before anything else but the
 * -EIO check.
 *
 * Models: virt/kvm/kvm_main.c kvm_vm_ioctl() case
 * KVM_SET_USER_MEMORY_REGION (kvm-mmu-protocol.md §2.2)
 * Context: as kvmmu_set_user_memory_region2().
 * Return: as kvmmu_set_user_memory_region2().
 */
int kvmmu_set_user_memory_region(struct kvmmu_vm *vm,
				 const struct kvmmu_userspace_memory_region2 *r)
{
	struct kvmmu_userspace_memory_region2 mem;

	if (!kvmmu_vm_ioctl_ok(vm))
		return -EIO;
	if (!r)
		return -EFAULT;
	memset(&mem, 0, sizeof(mem));
	mem.slot = r->slot;
	mem.flags = r->flags;
	mem.guest_phys_addr = r->guest_phys_addr;
	mem.memory_size = r->memory_size;
	mem.userspace_addr = r->userspace_addr;
	if (mem.flags & ~MEMSLOT_V1_FLAGS)
		return reject(-EINVAL, "flags not valid for the v1 ioctl");
	return vm_ioctl_set_memory_region(vm, &mem);
}
