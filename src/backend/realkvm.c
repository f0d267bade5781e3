// SPDX-License-Identifier: MIT
/*
 * The real-KVM backend ("kvm"): the ops table of include/kvmmu/backend.h on
 * this machine's /dev/kvm.  Host operations are real system calls of this
 * process (realkvm_host.c and friends); the VM is a real KVM VM whose vCPUs
 * run a generated CPL3 guest (realkvm_vm.h, realkvm_guest.c).
 *
 * Context: see realkvm.h.  create/destroy and set_memory_region are called
 * from the runner's thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "realkvm_vm.h"

/* kvmmu's memslot flags are the uAPI's. */
_Static_assert(KVMMU_MEM_LOG_DIRTY_PAGES == KVM_MEM_LOG_DIRTY_PAGES,
	       "LOG_DIRTY_PAGES");
_Static_assert(KVMMU_MEM_READONLY == KVM_MEM_READONLY, "READONLY");
_Static_assert(KVMMU_MEM_GUEST_MEMFD == KVM_MEM_GUEST_MEMFD, "GUEST_MEMFD");

extern const struct kvmmu_backend_ops kvmmu_realkvm_backend;

static const struct {
	int cap;
	const char *name;
} rk_needed_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SYNC_MMU, "KVM_CAP_SYNC_MMU" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_BINARY_STATS_FD, "KVM_CAP_BINARY_STATS_FD" },
};

/*
 * Open /dev/kvm and check what the backend relies on.
 * Return: the fd, or -1 with @why (of @len bytes) saying what is missing.
 */
static int rk_open_kvm(char *why, size_t len)
{
	unsigned int i;
	int fd, v;

#ifndef __x86_64__
	snprintf(why, len, "the kvm backend needs an x86-64 host");
	return -1;
#endif
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			snprintf(why, len, "no /dev/kvm");
		else
			snprintf(why, len, "/dev/kvm: %s", strerror(errno));
		return -1;
	}
	v = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) {
		if (v < 0)
			snprintf(why, len, "/dev/kvm: KVM_GET_API_VERSION: %s",
				 strerror(errno));
		else
			snprintf(why, len, "/dev/kvm: API version %d, not %d",
				 v, KVM_API_VERSION);
		close(fd);
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(rk_needed_caps); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, rk_needed_caps[i].cap) > 0)
			continue;
		snprintf(why, len, "/dev/kvm: no %s", rk_needed_caps[i].name);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * rk_unavailable() - ops->unavailable.
 * Return: NULL if /dev/kvm is usable here, else a short reason (static
 * storage, overwritten by the next call).
 * Context: any thread, not concurrently with itself; opens and closes
 * /dev/kvm.
 */
static const char *rk_unavailable(void)
{
	static char why[128];
	int fd = rk_open_kvm(why, sizeof(why));

	if (fd < 0)
		return why;
	close(fd);
	return NULL;
}

static void rk_vm_free(struct rk_vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	rk_watchdog_stop(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		rk_vcpu_destroy(&vm->vcpu[i]);
	rk_stats_close(&vm->stats);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd); /* frees the VM and its memslots */
	rk_guest_fini(vm);	  /* unmaps the private memory */
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm->cpuid);
	pthread_mutex_destroy(&vm->wd_lock);
	pthread_cond_destroy(&vm->wd_cond);
	free(vm);
}

/*
 * rk_destroy() - ops->destroy: stop the watchdog, close every vCPU and the
 * VM, unmap the guest's memory, then the host side (children, files,
 * the scenario's mappings).
 * Context: no vcpu_run of @be is in progress.
 */
static void rk_destroy(struct kvmmu_backend *be)
{
	struct rk_be *rk = to_rk(be);

	rk_vm_free(rk->vm);
	rk_host_fini(&rk->host);
	free(rk);
}

/* The stub a refused create() hands back: only skip_reason and destroy. */
static void rk_stub_destroy(struct kvmmu_backend *be)
{
	free(to_rk(be));
}

static const struct kvmmu_backend_ops rk_stub_ops = {
	.name = "kvm",
	.destroy = rk_stub_destroy,
};

static int rk_refuse(struct kvmmu_backend **out, const char *why)
{
	struct rk_be *rk = calloc(1, sizeof(*rk));

	if (!rk)
		return -ENOMEM;
	rk->be.ops = &rk_stub_ops;
	snprintf(rk->be.skip_reason, sizeof(rk->be.skip_reason), "%s", why);
	*out = &rk->be;
	return -EOPNOTSUPP;
}

static int rk_vm_create(struct kvmmu_backend *be,
			const struct kvmmu_be_config *cfg, struct rk_vm **out)
{
	struct rk_vm *vm = calloc(1, sizeof(*vm));
	pthread_condattr_t ca;
	unsigned int i;
	int r;

	if (!vm)
		return -ENOMEM;
	vm->kvm_fd = vm->vm_fd = vm->stats.fd = -1;
	pthread_mutex_init(&vm->wd_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->wd_cond, &ca);
	pthread_condattr_destroy(&ca);
	rk_taint_read(vm->taint, sizeof(vm->taint));
	vm->kvm_fd = rk_open_kvm(be->skip_reason, sizeof(be->skip_reason));
	if (vm->kvm_fd < 0) {
		r = -EOPNOTSUPP;
		goto fail;
	}
	vm->has_region2 = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
				KVM_CAP_USER_MEMORY2) > 0;
	r = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r <= 0) {
		r = r < 0 ? -errno : -EINVAL;
		goto fail;
	}
	vm->run_size = (size_t)r;
	/* The default VM type; retry on EINTR (a signal during creation). */
	do
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		r = -errno;
		goto fail;
	}
	r = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MULTI_ADDRESS_SPACE);
	vm->nr_as = r > 1 ? (unsigned int)r : 1;
	r = rk_stats_open(vm->vm_fd, &vm->stats);
	if (!r)
		r = rk_guest_init(be, vm);
	/* The vCPUs' first runs (in rk_guest_vcpu_init) are bounded too. */
	if (!r)
		r = rk_watchdog_start(vm);
	to_rk(be)->vm = vm;
	for (i = 0; !r && i < cfg->nr_vcpus; i++) {
		r = rk_vcpu_create(vm, i);
		if (r)
			break;
		pthread_mutex_lock(&vm->wd_lock);
		vm->nr_vcpus++;
		pthread_mutex_unlock(&vm->wd_lock);
		r = rk_guest_vcpu_init(be, vm, i);
	}
	to_rk(be)->vm = NULL;
	if (r)
		goto fail;
	*out = vm;
	return 0;
fail:
	rk_vm_free(vm);
	return r;
}

/*
 * rk_create() - ops->create: the host side (rk_host_init), then a VM with
 * cfg->nr_vcpus vCPUs in long mode at CPL3, the private memslot and the
 * watchdog.
 * Return: 0; -EINVAL (no vCPU, or more than RK_MAX_VCPUS); -EOPNOTSUPP
 * (an arch other than x86, or /dev/kvm unusable) with *out set to a stub
 * whose skip_reason says why and whose only operation is destroy; -errno
 * of a failed system call.
 * Context: may block (creates threads, KVM objects).
 */
static int rk_create(const struct kvmmu_be_config *cfg,
		     struct kvmmu_backend **out)
{
	struct rk_be *rk;
	int r;

	if (!cfg->nr_vcpus || cfg->nr_vcpus > RK_MAX_VCPUS)
		return -EINVAL;
	if (cfg->arch != KVMMU_ARCH_X86)
		return rk_refuse(out, "the host's KVM is x86");
	rk = calloc(1, sizeof(*rk));
	if (!rk)
		return -ENOMEM;
	rk->be.ops = &kvmmu_realkvm_backend;
	r = rk_host_init(&rk->host);
	if (r) {
		free(rk);
		return r;
	}
	r = rk_vm_create(&rk->be, cfg, &rk->vm);
	if (r) {
		char why[sizeof(rk->be.skip_reason)];

		memcpy(why, rk->be.skip_reason, sizeof(why));
		rk_host_fini(&rk->host);
		free(rk);
		return r == -EOPNOTSUPP ? rk_refuse(out, why) : r;
	}
	*out = &rk->be;
	return 0;
}

/*
 * rk_set_memory_region() - ops->set_memory_region: KVM_SET_USER_MEMORY_
 * REGION2 (KVM_SET_USER_MEMORY_REGION where the kernel lacks it and no v2
 * field is used).  r->guest_memfd is a file descriptor of this process.
 * Return: 0, the kernel's -errno, or -EOPNOTSUPP (skip reason set) for a
 * slot the backend's own guest needs (id RK_PRIV_SLOT of address space 0,
 * or GPAs that touch [RK_PRIV_GPA, RK_PRIV_GPA + RK_PRIV_SPAN)).  A slot
 * in an address space this KVM lacks (x86 without SMM has one) goes to the
 * kernel, whose EINVAL is the answer.
 * Context: the runner's thread; may block in the kernel (SRCU, zaps).
 */
static int rk_set_memory_region(struct kvmmu_backend *be,
				const struct kvmmu_userspace_memory_region2 *r)
{
	struct rk_vm *vm = rk_vm_of(be);
	struct kvm_userspace_memory_region2 k;
	unsigned int as = r->slot >> 16, id = r->slot & 0xffff;
	int ret;

	if (as == 0 && id == RK_PRIV_SLOT)
		return rk_skip(be,
			       "slot %u holds the kvm backend's guest code and "
			       "page tables",
			       RK_PRIV_SLOT);
	if (as == 0 && r->memory_size &&
	    rk_guest_range_reserved(r->guest_phys_addr, r->memory_size))
		return rk_skip(
			be,
			"GPAs [%#llx, %#llx) are the kvm backend's own "
			"(guest page tables and code)",
			(unsigned long long)RK_PRIV_GPA,
			(unsigned long long)(RK_PRIV_GPA + RK_PRIV_SPAN));
	memset(&k, 0, sizeof(k));
	k.slot = r->slot;
	k.flags = r->flags;
	k.guest_phys_addr = r->guest_phys_addr;
	k.memory_size = r->memory_size;
	k.userspace_addr = r->userspace_addr;
	k.guest_memfd_offset = r->guest_memfd_offset;
	k.guest_memfd = r->guest_memfd;
	if (vm->has_region2) {
		ret = ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION2, &k);
	} else {
		struct kvm_userspace_memory_region v1 = {
			.slot = k.slot,
			.flags = k.flags,
			.guest_phys_addr = k.guest_phys_addr,
			.memory_size = k.memory_size,
			.userspace_addr = k.userspace_addr,
		};

		if ((k.flags & KVM_MEM_GUEST_MEMFD) || k.guest_memfd ||
		    k.guest_memfd_offset)
			return rk_skip(be, "this kernel has no "
					   "KVM_SET_USER_MEMORY_REGION2");
		ret = ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &v1);
	}
	return ret < 0 ? -errno : 0;
}

const struct kvmmu_backend_ops kvmmu_realkvm_backend = {
	.name = "kvm",
	.unavailable = rk_unavailable,
	.create = rk_create,
	.destroy = rk_destroy,
	.mmap = rk_mmap,
	.mmap_pfn = rk_mmap_pfn,
	.munmap = rk_munmap,
	.mprotect = rk_mprotect,
	.mremap = rk_mremap,
	.madvise = rk_madvise,
	.fork = rk_fork,
	.exit = rk_exit,
	.memfd = rk_memfd,
	.ftruncate = rk_ftruncate,
	.punch_hole = rk_punch_hole,
	.mem_read = rk_mem_read,
	.mem_write = rk_mem_write,
	.ksm_merge = rk_ksm_merge,
	.set_memory_region = rk_set_memory_region,
	.vcpu_load = rk_vcpu_load,
	.vcpu_run = rk_vcpu_run,
	.vcpu_mmio_reply = rk_vcpu_mmio_reply,
	.vcpu_kick = rk_vcpu_kick,
	.stat = rk_stat,
	.stat_foreach = rk_stat_foreach,
	.check = rk_check,
};
