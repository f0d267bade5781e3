// SPDX-License-Identifier: MIT
/*
 * VM lifetime: creation on a host mm, statistics, teardown.
 *
 * Models: virt/kvm/kvm_main.c kvm_create_vm(), kvm_destroy_vm()
 * (kvm-mmu-protocol.md §1.2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vcpu/internal.h"
#include "check/internal.h"
#include "trace/hooks.h"

static const struct kvmmu_stat_desc kvm_stat_desc[KVM_STAT_NR] = {
	[KVM_STAT_REMOTE_TLB_FLUSH] = { "remote_tlb_flush",
					KVMMU_STAT_CUMULATIVE, 0,
					"remote TLB flushes done" },
	[KVM_STAT_REMOTE_TLB_FLUSH_REQUESTS] = { "remote_tlb_flush_requests",
						 KVMMU_STAT_CUMULATIVE, 0,
						 "remote TLB flushes asked for" },
	[KVM_STAT_PAGES_4K] = { "pages_4k", KVMMU_STAT_INSTANT,
				KVMMU_STAT_UNIT_PAGES, "4 KiB stage-2 leaves" },
	[KVM_STAT_PAGES_2M] = { "pages_2m", KVMMU_STAT_INSTANT,
				KVMMU_STAT_UNIT_PAGES, "2 MiB stage-2 leaves" },
	[KVM_STAT_PAGES_1G] = { "pages_1g", KVMMU_STAT_INSTANT,
				KVMMU_STAT_UNIT_PAGES, "1 GiB stage-2 leaves" },
	[KVM_STAT_NOTIFIER_ZAP_PAGES] = { "notifier_zap_pages",
					  KVMMU_STAT_CUMULATIVE, 0,
					  "leaves zapped by MMU notifiers" },
	[KVM_STAT_MMU_NOTIFIER_INVALIDATE] = { "mmu_notifier_invalidate",
					       KVMMU_STAT_CUMULATIVE, 0,
					       "invalidations that hit a slot" },
	[KVM_STAT_MEMSLOT_UPDATES] = { "memslot_updates", KVMMU_STAT_CUMULATIVE,
				       0, "memslot set swaps" },
};

static int vm_ids;

int kvmmu_arch_parse(const char *name, enum kvmmu_arch *out)
{
	int i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < KVMMU_ARCH_NR; i++) {
		if (!strcmp(name, kvmmu_arch_ops[i].name)) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *kvmmu_arch_name(enum kvmmu_arch arch)
{
	if ((unsigned int)arch >= KVMMU_ARCH_NR)
		return "?";
	return kvmmu_arch_ops[arch].name;
}

/**
 * kvmmu_vm_create() - see kvm.h.
 * Models: virt/kvm/kvm_main.c kvm_create_vm() (kvm-mmu-protocol.md §1.2)
 */
int kvmmu_vm_create(struct kvmmu_mm *mm, const struct kvmmu_vm_config *cfg,
		    struct kvmmu_vm **out)
{
	struct kvmmu_vm_config def = { .arch = KVMMU_ARCH_X86 };
	struct kvmmu_vm *kvm;
	char id[32];
	int r;

	if (!mm || !out)
		return -EINVAL;
	if (!cfg)
		cfg = &def;
	if ((unsigned int)cfg->arch >= KVMMU_ARCH_NR)
		return -EINVAL;
	if (cfg->inject & ~(KVMMU_INJECT_NO_RETRY | KVMMU_INJECT_NO_TLB_FLUSH))
		return -EINVAL;

	kvm = calloc(1, sizeof(*kvm));
	if (!kvm)
		return -ENOMEM;
	kvm->mm = mm;
	kvm->host = kvmmu_mm_host(mm);
	kvm->cfg = *cfg;
	kvm->arch_id = cfg->arch;
	kvm->arch = &kvmmu_arch_ops[cfg->arch];
	kvm->id = __atomic_add_fetch(&vm_ids, 1, __ATOMIC_RELAXED);

	kvmmu_rwlock_init(&kvm->mmu_lock, "mmu_lock", KVMMU_RANK_KVM_MMU_LOCK);
	kvmmu_spin_lock_init(&kvm->mn_invalidate_lock, "mn_invalidate_lock",
			     KVMMU_RANK_KVM_MN_INVALIDATE);
	pthread_cond_init(&kvm->mn_memslots_update_wait, NULL);
	kvm->mmu_invalidate_range_start = INVALID_GPA;
	kvm->mmu_invalidate_range_end = INVALID_GPA;
	kvmmu_mutex_init(&kvm->slots_lock, "slots_lock", KVMMU_RANK_SLOTS_LOCK);
	kvmmu_mutex_init(&kvm->slots_arch_lock, "slots_arch_lock",
			 KVMMU_RANK_SLOTS_ARCH_LOCK);
	kvmmu_mutex_init(&kvm->lock, "kvm->lock", KVMMU_RANK_LEAF);
	kvmmu_srcu_init(&kvm->srcu);

	snprintf(id, sizeof(id), "kvm-%d", kvm->id);
	r = kvmmu_stats_init(&kvm->stats, strdup(id), kvm_stat_desc,
			     KVM_STAT_NR);
	if (r)
		goto err_locks;
	r = kvmmu_memslots_init(kvm);
	if (r)
		goto err_stats;
	r = kvmmu_s2_init(&kvm->s2);
	if (r)
		goto err_slots;
	r = kvmmu_check_init(kvm);
	if (r)
		goto err_s2;

	kvm->mmu_notifier.ops = &kvmmu_mmu_notifier_ops;
	r = kvmmu_mmu_notifier_register(&kvm->mmu_notifier, mm);
	if (r)
		goto err_check;
	kvm->mn_registered = true;
	*out = kvm;
	return 0;

err_check:
	kvmmu_check_free(kvm);
err_s2:
	kvmmu_s2_destroy(&kvm->s2);
err_slots:
	kvmmu_memslots_destroy(kvm);
err_stats:
	free((void *)kvm->stats.id);
	kvmmu_stats_destroy(&kvm->stats);
err_locks:
	kvmmu_srcu_destroy(&kvm->srcu);
	pthread_cond_destroy(&kvm->mn_memslots_update_wait);
	kvmmu_mutex_destroy(&kvm->lock);
	kvmmu_mutex_destroy(&kvm->slots_arch_lock);
	kvmmu_mutex_destroy(&kvm->slots_lock);
	kvmmu_spin_lock_destroy(&kvm->mn_invalidate_lock);
	kvmmu_rwlock_destroy(&kvm->mmu_lock);
	free(kvm);
	return r;
}

/**
 * kvmmu_vm_destroy() - see kvm.h.
 * Models: virt/kvm/kvm_main.c kvm_destroy_vm() (kvm-mmu-protocol.md §1.2)
 */
void kvmmu_vm_destroy(struct kvmmu_vm *kvm)
{
	int i;

	if (!kvm)
		return;
	/*
	 * Unregistering delivers release (if the mm has not already), which
	 * zaps the whole stage-2 table, and waits for callbacks in flight.
	 */
	if (kvm->mn_registered)
		kvmmu_mmu_notifier_unregister(&kvm->mmu_notifier, kvm->mm);

	kvmmu_spin_lock(&kvm->mn_invalidate_lock);
	if (kvm->mn_active_invalidate_count)
		kvm->mn_active_invalidate_count = 0; /* unregistered mid-pair */
	else
		WARN_ON(READ_ONCE(kvm->mmu_invalidate_in_progress));
	kvmmu_spin_unlock(&kvm->mn_invalidate_lock);

	for (i = 0; i < KVMMU_MAX_VCPUS; i++)
		if (kvm->vcpus[i])
			kvmmu_vcpu_free(kvm->vcpus[i]);
	/* After the release zap above, which may still have traced. */
	kvmmu_vm_set_trace(kvm, NULL);

	kvmmu_check_free(kvm);
	kvmmu_memslots_destroy(kvm);
	kvmmu_s2_destroy(&kvm->s2);
	free((void *)kvm->stats.id);
	kvmmu_stats_destroy(&kvm->stats);
	kvmmu_srcu_destroy(&kvm->srcu);
	pthread_cond_destroy(&kvm->mn_memslots_update_wait);
	kvmmu_mutex_destroy(&kvm->lock);
	kvmmu_mutex_destroy(&kvm->slots_arch_lock);
	kvmmu_mutex_destroy(&kvm->slots_lock);
	kvmmu_spin_lock_destroy(&kvm->mn_invalidate_lock);
	kvmmu_rwlock_destroy(&kvm->mmu_lock);
	free(kvm);
}

bool kvmmu_vm_ioctl_ok(struct kvmmu_vm *kvm)
{
	return !READ_ONCE(kvm->vm_dead);
}

struct kvmmu_mm *kvmmu_vm_mm(const struct kvmmu_vm *vm)
{
	return vm->mm;
}

enum kvmmu_arch kvmmu_vm_arch(const struct kvmmu_vm *vm)
{
	return vm->arch_id;
}

const struct kvmmu_stats *kvmmu_vm_stats(struct kvmmu_vm *vm)
{
	return &vm->stats;
}

uint64_t kvmmu_vm_stat(struct kvmmu_vm *vm, const char *name)
{
	uint64_t v = 0, sum = 0;
	int i, n;

	if (!strcmp(name, "pages_4k"))
		return kvmmu_s2_count(&vm->s2, S2_STAT_PAGES_4K);
	if (!strcmp(name, "pages_2m"))
		return kvmmu_s2_count(&vm->s2, S2_STAT_PAGES_2M);
	if (!strcmp(name, "pages_1g"))
		return kvmmu_s2_count(&vm->s2, S2_STAT_PAGES_1G);
	if (!kvmmu_stats_get(&vm->stats, name, &v))
		return v;
	/* A vCPU statistic (pf_taken, ...): the sum over the vCPUs. */
	n = smp_load_acquire(&vm->nr_vcpus);
	for (i = 0; i < n; i++)
		if (!kvmmu_stats_get(&vm->vcpus[i]->stats, name, &v))
			sum += v;
	return sum;
}

int kvmmu_vm_lookup_spte(struct kvmmu_vm *vm, gpa_t gpa,
			 struct kvmmu_spte_info *out)
{
	kvmmu_spte_t *ptep, e;
	int level = 0;

	memset(out, 0, sizeof(*out));
	e = kvmmu_s2_walk(&vm->s2, gpa >> PAGE_SHIFT, &ptep, &level);
	if (!s2_is_leaf(e))
		return 0;
	out->present = true;
	out->writable = e & S2_WRITE;
	out->exec = e & S2_EXEC;
	out->accessed = e & S2_ACCESSED;
	out->dirty = e & S2_DIRTY;
	out->level = level;
	out->pfn = s2_pfn(e);
	out->memtype = (e & S2_MT_MASK) >> S2_MT_SHIFT;
	return 0;
}

uint64_t kvmmu_vm_table_bytes(struct kvmmu_vm *vm)
{
	return kvmmu_s2_table_bytes(&vm->s2);
}
