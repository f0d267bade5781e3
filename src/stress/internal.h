/* SPDX-License-Identifier: MIT */
/*
 * The stress engine's private pieces, shared by stress.c (set-up, the
 * controller, the report), guest.c (the vCPU threads) and hostops.c (the
 * host thread).
 */
#ifndef KVMMU_STRESS_INTERNAL_H
#define KVMMU_STRESS_INTERNAL_H

#include <pthread.h>
#include <kvmmu/check.h>
#include <kvmmu/host.h>
#include <kvmmu/kvm.h>
#include <kvmmu/rng.h>
#include <kvmmu/stress.h>
#include <kvmmu/vcpu.h>

enum region_type {
	REGION_DATA,	/* a vCPU's own: fill/verify, every host op */
	REGION_RO,	/* READONLY slot, host-filled pattern: verify only */
	REGION_SCRATCH, /* host-owned: the host writes, vCPUs only read */
};

struct region {
	unsigned int idx;
	enum region_type type;
	int owner;	 /* vCPU index for DATA, else -1 */
	uint32_t slot;	 /* memslot id (address space 0) */
	uint32_t flags;	 /* memslot flags */
	gpa_t gpa;	 /* home guest-physical address */
	gpa_t spare_gpa; /* where a slot move takes it */
	hva_t hva;
	hva_t spare_hva; /* where an mremap takes it */
	uint64_t size;
	/*
	 * A sequence count, odd while the host thread runs an operation that
	 * may destroy the region's contents as the guest sees them (bumped
	 * seq_cst before and after it); a vCPU reads it before a round and
	 * again after a mismatch.
	 */
	unsigned long epoch;
};

#define RO_SEED 0x526f526f526f526full /* the read-only region's pattern */

/* Race widening (debug builds): see stress.c. */
void stress_delay_install(struct kvmmu_vm *vm, unsigned int one_in,
			  uint64_t seed);
void stress_delay_remove(void);
void stress_delay_thread_is_vcpu(unsigned int idx);

struct stress;

struct vcpu_thread {
	struct stress *st;
	unsigned int idx;
	struct kvmmu_vcpu *vcpu;
	pthread_t thread;
	bool started;
	struct kvmmu_rng rng;
	struct kvmmu_guest_insn insns[8];
	uint64_t results[2];
	/*
	 * What this vCPU is working on, for the host to aim at:
	 * (region + 1) << 48 | npages << 32 | first page; 0 = nothing.
	 */
	uint64_t hot;
	/* counters: written by this thread, read (relaxed) by the controller */
	uint64_t rounds, verified, excused, efaults, mmios;
};

struct host_thread {
	pthread_t thread;
	bool started;
	struct kvmmu_rng rng;
	uint8_t *scratch_shadow; /* what the scratch region holds */
	uint64_t ops[KVMMU_STRESS_OP_NR];
	uint64_t errors;
};

struct stress {
	struct kvmmu_stress_config cfg;
	struct kvmmu_host *host;
	struct kvmmu_mm *mm;
	struct kvmmu_vm *vm;

	struct region *regions;
	unsigned int nr_regions;
	unsigned int data_per_vcpu; /* DATA regions of vCPU v: v*n .. v*n+n-1 */
	struct region *ro, *scratch;

	struct vcpu_thread *vcpus;
	struct host_thread ht;

	/* the pause protocol for quiescent checks */
	pthread_mutex_t mu;
	pthread_cond_t parked_cv, resume_cv;
	bool pausing;	     /* atomic read by the workers; written under mu */
	unsigned int parked; /* under mu */
	bool stop;	     /* atomic */

	double t0;
	double first_finding_at; /* under mu; -1 none */
};

double stress_now(void);
void stress_sleep_us(unsigned int us);
bool stress_stopping(struct stress *st);
/* Park here while a quiescent check runs.  Context: a worker thread. */
void stress_maybe_park(struct stress *st);
/* Record a finding that the run itself found (not the checker). */
void stress_report(struct stress *st, enum kvmmu_finding_kind kind, gfn_t gfn,
		   int slot, int vcpu, const char *fmt, ...) __printf(6, 7);

void *stress_vcpu_main(void *arg);
void *stress_host_main(void *arg);

/* The region holding @gpa at its home address, or NULL. */
struct region *stress_region_of(struct stress *st, gpa_t gpa);

static inline uint64_t stress_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void stress_inc(uint64_t *p)
{
	/* Single writer; relaxed so the controller may read it meanwhile. */
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
}

#endif /* KVMMU_STRESS_INTERNAL_H */
