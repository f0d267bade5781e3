/* SPDX-License-Identifier: MIT */
/*
 * Shared by the memslot tests (kvm_memslot.c, kvm_memslot_swap.c): a host,
 * an mm with anonymous memory and an x86 or arm64 VM, set2() for the v2
 * ioctl, the lookups a test expects, and the capture of the "memslot: <why>"
 * line the library logs at debug level for every refusal (several checks
 * share -EINVAL; the reason says which one fired).
 */
#ifndef KVMMU_TESTS_KVM_MEMSLOT_COMMON_H
#define KVMMU_TESTS_KVM_MEMSLOT_COMMON_H

#include <kvmmu/host.h>
#include <kvmmu/kvm.h>
#include <kvmmu/log.h>
#include "harness.h"

#define ENV_PAGES 64
#define P	  ((uint64_t)PAGE_SIZE)

struct env {
	struct kvmmu_host *host;
	struct kvmmu_mm *mm;
	struct kvmmu_vm *vm;
	hva_t base; /* ENV_PAGES (or more) of anonymous memory */
};

/* --- the refusal reason ------------------------------------------------------ */

static char reason[256];
static unsigned int nr_reasons;

static inline void capture_sink(enum kvmmu_log_level level, const char *msg)
{
	if (level == KVMMU_LOG_DEBUG && !strncmp(msg, "memslot: ", 9)) {
		snprintf(reason, sizeof(reason), "%s", msg + 9);
		nr_reasons++;
		return;
	}
	if (level <= KVMMU_LOG_WARN)
		fprintf(stderr, "%s\n", msg);
}

static inline void reason_reset(void)
{
	reason[0] = 0;
}

/* --- environment -------------------------------------------------------------- */

static inline void env_setup_pages(struct env *e, enum kvmmu_arch arch,
				   uint64_t pages)
{
	struct kvmmu_host_config hc = { .ram_bytes = 16ull << 20 };
	struct kvmmu_vm_config vc = { .arch = arch };

	memset(e, 0, sizeof(*e));
	kvmmu_warn_reset();
	kvmmu_log_set_sink(capture_sink);
	kvmmu_log_set_level(KVMMU_LOG_DEBUG);
	ASSERT_OK(kvmmu_host_create(&hc, &e->host));
	ASSERT_OK(kvmmu_mm_create(e->host, &e->mm));
	ASSERT_OK(kvmmu_mmap(e->mm, 0, pages * P, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &e->base));
	ASSERT_OK(kvmmu_vm_create(e->mm, &vc, &e->vm));
}

static inline void env_setup(struct env *e, enum kvmmu_arch arch)
{
	env_setup_pages(e, arch, ENV_PAGES);
}

static inline void env_teardown(struct env *e)
{
	kvmmu_vm_destroy(e->vm);
	kvmmu_mmput(e->mm);
	ASSERT_OK(kvmmu_host_destroy(e->host));
	ASSERT_EQ(kvmmu_warn_count(), 0);
	kvmmu_log_set_level(KVMMU_LOG_WARN);
	kvmmu_log_set_sink(NULL);
}

static inline int set2(struct env *e, uint32_t slot, uint32_t flags,
		       uint64_t gpa, uint64_t size, uint64_t uaddr)
{
	struct kvmmu_userspace_memory_region2 r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = uaddr,
	};

	reason_reset();
	return kvmmu_set_user_memory_region2(e->vm, &r);
}

/* Expect gfn to resolve (in @as) to slot @id of [base, base + npages). */
static inline void expect_slot(struct env *e, unsigned int as, gfn_t gfn,
			       unsigned int id, gfn_t base, uint64_t npages,
			       hva_t uaddr, uint32_t flags)
{
	struct kvmmu_memslot_info info;

	memset(&info, 0xa5, sizeof(info));
	ASSERT_OK(kvmmu_gfn_to_memslot_info(e->vm, as, gfn, &info));
	ASSERT_EQ(info.id, id);
	ASSERT_EQ(info.as_id, as);
	ASSERT_EQ(info.base_gfn, base);
	ASSERT_EQ(info.npages, npages);
	ASSERT_EQ(info.userspace_addr, uaddr);
	ASSERT_EQ(info.flags, flags);
}

static inline void expect_none(struct env *e, unsigned int as, gfn_t gfn)
{
	struct kvmmu_memslot_info info;

	ASSERT_ERRNO(kvmmu_gfn_to_memslot_info(e->vm, as, gfn, &info), -ENOENT);
}

static inline uint64_t updates(struct env *e)
{
	return kvmmu_vm_stat(e->vm, "memslot_updates");
}

#endif /* KVMMU_TESTS_KVM_MEMSLOT_COMMON_H */
