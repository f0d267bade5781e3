// SPDX-License-Identifier: MIT
/*
 * The scheduling hook and the built-in race-widening delay.
 *
 * Debug builds export kvmmu_sched_hook, which every lock and atomic wrapper
 * loads (relaxed) and calls before interacting with other threads.  Release
 * builds keep the setter functions so callers need no #ifdefs, but the
 * stored hook is never called.
 *
 * The random-delay hook keeps a generator per thread, seeded from the
 * configured seed xor the thread's index, and reseeds it whenever the
 * configuration changes (tracked by a generation number).  It uses raw
 * __atomic builtins only: kvmmu atomics would call the hook recursively.
 */
#include <sched.h>
#include <time.h>

#include <kvmmu/sched.h>
#include <kvmmu/rng.h>

#include "internal.h"

#ifdef KVMMU_DEBUG
kvmmu_sched_hook_t kvmmu_sched_hook;
#define HOOK_VAR kvmmu_sched_hook
#else
static kvmmu_sched_hook_t release_hook; /* stored, never called */
#define HOOK_VAR release_hook
#endif

/* Random-delay configuration; all accessed with __atomic. */
static uint32_t delay_ppm;
static uint32_t delay_max_spin_ns;
static uint64_t delay_seed;
static uint64_t delay_gen;  /* bumped (release) after the fields above */
static uint64_t hook_calls; /* runs of the random-delay hook */
static unsigned int next_thread_index;

static __thread unsigned int thread_index_plus1;

struct delay_state {
	uint64_t gen; /* configuration this generator was seeded for */
	struct kvmmu_rng rng;
};

static __thread struct delay_state delay_tls;

unsigned int __kvmmu_thread_index(void)
{
	if (unlikely(!thread_index_plus1))
		thread_index_plus1 = __atomic_fetch_add(&next_thread_index, 1,
							__ATOMIC_RELAXED) +
				     1;
	return thread_index_plus1 - 1;
}

/**
 * kvmmu_sched_set_hook() - install or remove the scheduling hook.
 * @hook: the new hook, or NULL.
 *
 * Context: any.  Threads already inside the old hook finish that call.
 * Return: the previous hook.
 */
kvmmu_sched_hook_t kvmmu_sched_set_hook(kvmmu_sched_hook_t hook)
{
	return __atomic_exchange_n(&HOOK_VAR, hook, __ATOMIC_ACQ_REL);
}

static void spin_ns(uint64_t ns)
{
	struct timespec t0, t;
	uint64_t el;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (uint64_t)(t.tv_sec - t0.tv_sec) * 1000000000ULL +
		     (uint64_t)(t.tv_nsec - t0.tv_nsec);
	} while (el < ns);
}

static void random_delay_hook(enum kvmmu_sched_point point,
			      const volatile void *addr)
{
	struct delay_state *st = &delay_tls;
	uint64_t gen = __atomic_load_n(&delay_gen, __ATOMIC_ACQUIRE);
	uint32_t ppm, spin;

	__atomic_fetch_add(&hook_calls, 1, __ATOMIC_RELAXED);
	if (unlikely(st->gen != gen)) {
		uint64_t seed = __atomic_load_n(&delay_seed, __ATOMIC_RELAXED);

		kvmmu_rng_seed(&st->rng, seed ^ __kvmmu_thread_index());
		st->gen = gen;
	}
	ppm = __atomic_load_n(&delay_ppm, __ATOMIC_RELAXED);
	if (!kvmmu_rng_chance(&st->rng, ppm))
		return;
	spin = __atomic_load_n(&delay_max_spin_ns, __ATOMIC_RELAXED);
	if (spin && kvmmu_rng_below(&st->rng, 8) == 0)
		spin_ns(kvmmu_rng_below(&st->rng, (uint64_t)spin + 1));
	else
		sched_yield();
}

/**
 * kvmmu_sched_set_random_delay() - install (or remove) the race-widening
 * hook.
 * @ppm: chance per interaction point of a delay, per million; 0 removes
 *	 the hook.
 * @seed: base seed; each thread uses @seed ^ its thread index.
 * @max_spin_ns: longest busy-wait; one delay in eight spins for a random
 *		 time up to this, the others yield.  0: always yield.
 *
 * Calling it again with new parameters reseeds every thread's generator at
 * its next interaction point.
 *
 * Context: any.  In release builds the hook is stored but never runs.
 */
void kvmmu_sched_set_random_delay(uint32_t ppm, uint64_t seed,
				  uint32_t max_spin_ns)
{
	if (!ppm) {
		kvmmu_sched_set_hook(NULL);
		return;
	}
	__atomic_store_n(&delay_ppm, ppm, __ATOMIC_RELAXED);
	__atomic_store_n(&delay_seed, seed, __ATOMIC_RELAXED);
	__atomic_store_n(&delay_max_spin_ns, max_spin_ns, __ATOMIC_RELAXED);
	/* Publishes the fields above to the hook's acquire load of the gen. */
	__atomic_fetch_add(&delay_gen, 1, __ATOMIC_RELEASE);
	kvmmu_sched_set_hook(random_delay_hook);
}

uint64_t kvmmu_sched_hook_calls(void)
{
	return __atomic_load_n(&hook_calls, __ATOMIC_RELAXED);
}
