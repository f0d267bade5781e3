/* SPDX-License-Identifier: MIT */
/*
 * The scheduling hook: one function every lock and atomic wrapper passes
 * through, at exactly the points where threads interact.
 *
 * Debug builds (KVMMU_DEBUG) call the installed hook, if any, before each
 * such operation; release builds compile the call away.  A hook may yield,
 * sleep or spin to widen race windows (kvmmu_sched_set_random_delay()), or
 * drive a deterministic scheduler (a later layer).  It must not take kvmmu
 * locks or use kvmmu atomics itself.
 */
#ifndef KVMMU_SCHED_H
#define KVMMU_SCHED_H

#include <stdint.h>
#include "compiler.h"

enum kvmmu_sched_point {
	KVMMU_SP_LOCK,	 /* about to take a lock (any mode) */
	KVMMU_SP_UNLOCK, /* about to release a lock */
	KVMMU_SP_LOAD,	 /* READ_ONCE / acquire load */
	KVMMU_SP_STORE,	 /* WRITE_ONCE / release store */
	KVMMU_SP_RMW,	 /* cmpxchg, xchg, fetch-and-op */
	KVMMU_SP_FENCE,	 /* smp_mb / smp_rmb / smp_wmb */
	KVMMU_SP_NR,
};

typedef void (*kvmmu_sched_hook_t)(enum kvmmu_sched_point point,
				   const volatile void *addr);

#ifdef KVMMU_DEBUG
extern kvmmu_sched_hook_t kvmmu_sched_hook;

#define kvmmu_sched_point(p, addr)                                            \
	do {                                                                  \
		kvmmu_sched_hook_t __h =                                      \
			__atomic_load_n(&kvmmu_sched_hook, __ATOMIC_RELAXED); \
		if (unlikely(__h != NULL))                                    \
			__h((p), (const volatile void *)(addr));              \
	} while (0)
#else
#define kvmmu_sched_point(p, addr) ((void)0)
#endif

/**
 * kvmmu_sched_set_hook() - install (or with NULL remove) the hook.
 * Return: the previous hook.  Context: any; takes effect for operations
 * that start after it returns.  In release builds the hook is never called.
 */
kvmmu_sched_hook_t kvmmu_sched_set_hook(kvmmu_sched_hook_t hook);

/**
 * kvmmu_sched_set_random_delay() - race widening: before each interaction
 * point, with probability @ppm per million, yield the CPU (or, one time in
 * eight of those, spin for up to @max_spin_ns).  Each thread draws from its
 * own generator seeded from @seed and its thread index.  @ppm == 0 removes
 * the hook.  Context: any.
 */
void kvmmu_sched_set_random_delay(uint32_t ppm, uint64_t seed,
				  uint32_t max_spin_ns);

/** kvmmu_sched_hook_calls() - how often the hook ran (debug builds). */
uint64_t kvmmu_sched_hook_calls(void);

#endif /* KVMMU_SCHED_H */
