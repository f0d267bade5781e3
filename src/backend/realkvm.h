/* SPDX-License-Identifier: MIT */
/*
 * The real-KVM backend (include/kvmmu/backend.h on /dev/kvm): shared state
 * of its files.
 *
 *   realkvm.c        ops table, create/destroy, availability
 *   realkvm_guest.c  the CPL3 guest: memory layout, page tables, sregs,
 *                    code generation of vCPU programs
 *   realkvm_vcpu.c   KVM_RUN, exits, MMIO completion, kick
 *   realkvm_stats.c  KVM_GET_STATS_FD (VM and vCPU stats by name), check
 *   realkvm_host.c   host system calls of the VMM (this process): mmap and
 *                    friends on ranges the scenario owns, memfds,
 *                    process_vm_readv/writev for mem_read/mem_write
 *   realkvm_space.c  the checked system calls of one address space
 *                    (the VMM's or a child's), async-signal-safe
 *   realkvm_proc.c   forked processes: a child serves host steps over a
 *                    socketpair (mm=child)
 *   realkvm_ksm.c    KSM through its sysfs knobs, saved and restored;
 *                    merges seen through /proc/PID/pagemap
 *
 * Context: the runner calls host, memslot and observation operations from
 * one thread; vcpu_load/run/mmio_reply of one vCPU from one thread at a
 * time; vcpu_kick from any thread.
 */
#ifndef KVMMU_BACKEND_REALKVM_H
#define KVMMU_BACKEND_REALKVM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <kvmmu/backend.h>
#include <kvmmu/compiler.h>

#define RK_MAX_PROCS 16
#define RK_MAX_FILES 16

/* --- host side (realkvm_host.c, realkvm_proc.c, realkvm_ksm.c) ---------- */

struct rk_proc {
	bool live;
	pid_t pid;	/* 0 for handle 0: this process */
	int sock;	/* our end of the child's command socket; -1 for 0 */
	uint32_t files; /* bit i: file handle i is open in this process */
};

struct rk_range {
	uint64_t start, end; /* [start, end), page aligned */
};

struct rk_msg; /* realkvm_proc.c: one request and one reply buffer */

struct rk_host {
	struct rk_proc proc[RK_MAX_PROCS]; /* [0]: the VMM (this process) */
	int file[RK_MAX_FILES];		   /* memfd descriptors; -1: free */
	/*
	 * VMM address ranges the scenario mapped (and may touch): sorted,
	 * disjoint, adjacent ranges merged.  A child keeps its own list.
	 */
	struct rk_range *own;
	unsigned int nr_own, cap_own;
	unsigned int timeout_ms; /* bound of every wait (10 s; tests lower it) */
	struct rk_msg *msg;	 /* allocated at the first fork */
};

/* Return: 0 or -errno.  rk_host_fini() kills and reaps every child, closes
 * the files and unmaps what the scenario left mapped. */
int rk_host_init(struct rk_host *h);
void rk_host_fini(struct rk_host *h);

/* --- the backend ---------------------------------------------------------- */

struct rk_vm; /* realkvm_vm.h */

struct rk_be {
	struct kvmmu_backend be;
	struct rk_host host;
	struct rk_vm *vm;
};

static inline struct rk_be *to_rk(struct kvmmu_backend *be)
{
	return container_of(be, struct rk_be, be);
}

static inline struct rk_host *rk_host_of(struct kvmmu_backend *be)
{
	return &to_rk(be)->host;
}

/* Fill be->skip_reason; return -EOPNOTSUPP (the runner's SKIP). */
int rk_skip(struct kvmmu_backend *be, const char *fmt, ...) __printf(2, 3);

/* Host operations, with the signatures of struct kvmmu_backend_ops. */
int rk_mmap(struct kvmmu_backend *be, int proc, uint64_t addr, uint64_t len,
	    int prot, int flags, int file, uint64_t off, uint64_t *out);
int rk_mmap_pfn(struct kvmmu_backend *be, int proc, uint64_t addr, uint64_t len,
		int prot, int flags, enum kvmmu_memtype mt, uint64_t *out);
int rk_munmap(struct kvmmu_backend *be, int proc, uint64_t addr, uint64_t len);
int rk_mprotect(struct kvmmu_backend *be, int proc, uint64_t addr, uint64_t len,
		int prot);
int rk_mremap(struct kvmmu_backend *be, int proc, uint64_t old_addr,
	      uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr,
	      uint64_t *out);
int rk_madvise(struct kvmmu_backend *be, int proc, uint64_t addr, uint64_t len,
	       int advice);
int rk_fork(struct kvmmu_backend *be, int proc);
int rk_exit(struct kvmmu_backend *be, int proc);
int rk_memfd(struct kvmmu_backend *be, uint64_t size);
int rk_ftruncate(struct kvmmu_backend *be, int file, uint64_t size);
int rk_punch_hole(struct kvmmu_backend *be, int file, uint64_t off,
		  uint64_t len);
int rk_mem_read(struct kvmmu_backend *be, int proc, uint64_t addr, void *buf,
		uint64_t len);
int rk_mem_write(struct kvmmu_backend *be, int proc, uint64_t addr,
		 const void *buf, uint64_t len);
int rk_ksm_merge(struct kvmmu_backend *be, int proc, uint64_t addr,
		 uint64_t len);

#endif /* KVMMU_BACKEND_REALKVM_H */
