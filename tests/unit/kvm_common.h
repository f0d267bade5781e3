/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the secondary-MMU tests: a host environment (see
 * host_common.h) plus a VM with vCPUs and slots, torn down with the same
 * end-of-test audit (no frame referenced, no WARN, no checker finding).
 */
#ifndef KVMMU_TESTS_KVM_COMMON_H
#define KVMMU_TESTS_KVM_COMMON_H

#include <kvmmu/kvm.h>
#include <kvmmu/vcpu.h>
#include "host_common.h"

#define KT_MAX_VCPUS 4

struct kt_env {
	struct hc_env h;
	struct kvmmu_vm *vm;
	struct kvmmu_vcpu *vcpu[KT_MAX_VCPUS];
	hva_t ram;
	uint64_t ram_len;
};

static inline int kt_slot_ret(struct kt_env *t, uint32_t slot, uint32_t flags,
			      gpa_t gpa, uint64_t size, hva_t hva)
{
	struct kvmmu_userspace_memory_region2 r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = hva,
	};

	return kvmmu_set_user_memory_region(t->vm, &r);
}

static inline void kt_slot(struct kt_env *t, uint32_t slot, uint32_t flags,
			   gpa_t gpa, uint64_t size, hva_t hva)
{
	ASSERT_OK(kt_slot_ret(t, slot, flags, gpa, size, hva));
}

/*
 * A VM of @arch with @nr_vcpus vCPUs over @len bytes of private anonymous
 * memory mapped as slot 0 at gpa 0 (unless @len is 0).
 */
static inline void kt_setup(struct kt_env *t, enum kvmmu_arch arch,
			    uint64_t len, unsigned int nr_vcpus, bool check)
{
	struct kvmmu_vm_config cfg = { .arch = arch, .check = check };
	unsigned int i;

	memset(t, 0, sizeof(*t));
	hc_setup(&t->h);
	ASSERT_OK(kvmmu_vm_create(t->h.mm, &cfg, &t->vm));
	for (i = 0; i < nr_vcpus; i++)
		ASSERT_OK(kvmmu_vcpu_create(t->vm, i, &t->vcpu[i]));
	if (len) {
		t->ram = hc_anon(t->h.mm, 0, len);
		t->ram_len = len;
		kt_slot(t, 0, 0, 0, len, t->ram);
	}
}

static inline void kt_teardown(struct kt_env *t)
{
	if (t->vm) {
		kvmmu_vm_destroy(t->vm);
		t->vm = NULL;
	}
	hc_teardown(&t->h);
}

static inline uint64_t kt_read(struct kt_env *t, int v, gpa_t gpa)
{
	uint64_t val = 0;

	ASSERT_OK(kvmmu_vcpu_read(t->vcpu[v], gpa, 8, &val));
	ASSERT_EQ(kvmmu_vcpu_run_state(t->vcpu[v])->exit_reason,
		  KVMMU_EXIT_HLT);
	return val;
}

static inline void kt_write(struct kt_env *t, int v, gpa_t gpa, uint64_t val)
{
	ASSERT_OK(kvmmu_vcpu_write(t->vcpu[v], gpa, 8, val));
	ASSERT_EQ(kvmmu_vcpu_run_state(t->vcpu[v])->exit_reason,
		  KVMMU_EXIT_HLT);
}

static inline uint64_t kt_host_read(struct kvmmu_mm *mm, hva_t hva)
{
	uint64_t v = 0;

	ASSERT_OK(kvmmu_mm_read(mm, hva, &v, 8));
	return v;
}

static inline void kt_host_write(struct kvmmu_mm *mm, hva_t hva, uint64_t v)
{
	ASSERT_OK(kvmmu_mm_write(mm, hva, &v, 8));
}

#endif /* KVMMU_TESTS_KVM_COMMON_H */
