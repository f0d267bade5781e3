/* SPDX-License-Identifier: MIT */
/*
 * The real-KVM backend's host side: what realkvm_host.c, realkvm_proc.c and
 * realkvm_ksm.c share (private to them).
 *
 * Ownership.  The backend runs the scenario's system calls in the runner's
 * own process (and in children forked from it), where libc, the heap and
 * thread stacks are mapped too.  An address space (struct rk_space) keeps
 * the ranges the scenario mapped; a call whose range meets a mapping of
 * /proc/self/maps outside them is refused (-EOPNOTSUPP, struct rk_why says
 * why), and a user access outside them is -EFAULT, as in the model, whose
 * processes have nothing else mapped.
 *
 * The rk_sp_*() operations (realkvm_space.c) are async-signal-safe (system calls, no
 * allocation, no locks) because a forked child of the multithreaded runner
 * runs them too.
 */
#ifndef KVMMU_BACKEND_REALKVM_HOST_H
#define KVMMU_BACKEND_REALKVM_HOST_H

#include "realkvm.h"

#define RK_TIMEOUT_MS	10000u /* default bound of every wait */
#define RK_CHILD_RANGES 256u   /* owned ranges a child can track */
#define RK_MAX_HOLES	16u    /* gaps reserved before a destructive call */
#define RK_CHUNK	(32u << 10) /* bytes of data per child message */
/* flock()ed while a merge has the system-wide KSM knobs changed. */
#define RK_KSM_LOCK	"/tmp/kvmmu-ksm.lock"

/* Why an operation was refused (-EOPNOTSUPP). */
enum rk_why_kind {
	RK_WHY_NONE,
	RK_WHY_FOREIGN, /* the range meets a mapping the scenario did not make */
	RK_WHY_RACE,	/* another thread mapped into a gap meanwhile */
	RK_WHY_FULL,	/* no room to track one more range */
	RK_WHY_HOLES,	/* too many gaps in the range to reserve */
};

struct rk_why {
	int32_t kind; /* enum rk_why_kind */
	uint32_t pad;
	uint64_t start, len; /* the request's range */
};

/* The owned ranges of one address space, and how to reach it. */
struct rk_space {
	struct rk_range *r; /* sorted, disjoint, adjacent ones merged */
	unsigned int *n;
	unsigned int cap; /* an operation needs 2 free entries */
	pid_t pid;	  /* for process_vm_readv/writev: getpid() */
	/*
	 * Other threads may map memory at any time (the VMM): gaps in the
	 * range of a call that would replace or unmap them are first filled
	 * with MAP_FIXED_NOREPLACE reservations, so that the call cannot hit
	 * a mapping that appeared after the check.
	 */
	bool reserve;
};

/*
 * System calls of the address space the caller runs in, on behalf of the
 * scenario.  Return: what the real call returned (0 or -errno; *out the
 * address), or -EOPNOTSUPP with @why filled.  Context: async-signal-safe;
 * one caller per space at a time.
 */
int rk_sp_mmap(struct rk_space *sp, uint64_t addr, uint64_t len, int prot,
	       int flags, int fd, uint64_t off, uint64_t *out,
	       struct rk_why *why);
int rk_sp_munmap(struct rk_space *sp, uint64_t addr, uint64_t len,
		 struct rk_why *why);
int rk_sp_mprotect(struct rk_space *sp, uint64_t addr, uint64_t len, int prot,
		   struct rk_why *why);
int rk_sp_madvise(struct rk_space *sp, uint64_t addr, uint64_t len, int advice,
		  struct rk_why *why);
int rk_sp_mremap(struct rk_space *sp, uint64_t old_addr, uint64_t old_len,
		 uint64_t new_len, int flags, uint64_t new_addr, uint64_t *out,
		 struct rk_why *why);
/*
 * A user read or write of [@addr, @addr + @len), through
 * process_vm_readv/writev (a fault is -EFAULT, not a signal; a write breaks
 * COW as a store would).  Return: 0, -EFAULT (not all owned, or not all
 * transferred), another -errno of the call.
 */
int rk_sp_read(struct rk_space *sp, uint64_t addr, void *buf, uint64_t len);
int rk_sp_write(struct rk_space *sp, uint64_t addr, const void *buf,
		uint64_t len);
/* Whether [@start, @end) lies inside the owned ranges. */
bool rk_sp_owns(const struct rk_space *sp, uint64_t start, uint64_t end);
/* Forget [@start, @end).  Return: 0, -ENOSPC (no entry for a split). */
int rk_sp_forget(struct rk_space *sp, uint64_t start, uint64_t end);

/*
 * Call @fn(@arg, start, end, flags) for every VMA of process @pid, with
 * its "VmFlags:" line of /proc/PID/smaps, until @fn returns non-zero.
 * Return: that value, 0, or -errno.  Context: not in a forked child
 * (stdio, malloc).
 */
int rk_smaps_walk(pid_t pid,
		  int (*fn)(void *arg, uint64_t start, uint64_t end,
			    const char *flags),
		  void *arg);

/* Fill be->skip_reason from @why (for process @proc); -EOPNOTSUPP. */
int rk_why_skip(struct kvmmu_backend *be, int proc, const struct rk_why *why);

/* realkvm_proc.c: the children.  Context: the runner thread. */
int rk_proc_mmap(struct kvmmu_backend *be, int proc, uint64_t addr,
		 uint64_t len, int prot, int flags, int file, uint64_t off,
		 uint64_t *out);
int rk_proc_munmap(struct kvmmu_backend *be, int proc, uint64_t addr,
		   uint64_t len);
int rk_proc_mprotect(struct kvmmu_backend *be, int proc, uint64_t addr,
		     uint64_t len, int prot);
int rk_proc_madvise(struct kvmmu_backend *be, int proc, uint64_t addr,
		    uint64_t len, int advice);
int rk_proc_mremap(struct kvmmu_backend *be, int proc, uint64_t old_addr,
		   uint64_t old_len, uint64_t new_len, int flags,
		   uint64_t new_addr, uint64_t *out);
int rk_proc_read(struct kvmmu_backend *be, int proc, uint64_t addr, void *buf,
		 uint64_t len);
int rk_proc_write(struct kvmmu_backend *be, int proc, uint64_t addr,
		  const void *buf, uint64_t len);
/* SIGKILL and reap every live child (rk_host_fini()). */
void rk_proc_fini(struct rk_host *h);

/* realkvm_ksm.c: put back every KSM knob still changed (rk_host_fini()). */
void rk_ksm_restore(void);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t rk_now_ms(void);

#endif /* KVMMU_BACKEND_REALKVM_HOST_H */
