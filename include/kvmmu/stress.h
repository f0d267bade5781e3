/* SPDX-License-Identifier: MIT */
/*
 * Random concurrent stress of one VM against a host that keeps taking its
 * memory away, with the checker on (`kvmmu stress`).
 *
 * vCPU threads run guest programs that fill and verify seeded patterns in
 * regions they own (one memslot each), read a read-only slot the host
 * filled, and read a host-owned scratch slot.  One host thread changes the
 * mappings behind those slots at random: mprotect read-only and back,
 * munmap + mmap, MADV_DONTNEED, fork + a parent write + child exit (with a
 * check that the child's copy never changes), mremap away and back,
 * memslot delete + re-add, memslot move and back.  It aims half of its
 * operations at the pages a vCPU is working on right now.
 *
 * The VM runs in check mode (every TLB hit and fill is vetted), and the run
 * stops every vCPU and the host thread at regular quiescent points for a
 * full kvmmu_check_vm().  A pattern mismatch is a finding unless a
 * destructive host operation hit that region since the fill (the host
 * bumps a per-region epoch first).  In debug builds a scheduling hook
 * widens the fault path's race window (a vCPU sometimes sleeps just before
 * taking mmu_lock), so races with invalidations happen often.
 */
#ifndef KVMMU_STRESS_H
#define KVMMU_STRESS_H

#include <stdio.h>
#include "check.h"
#include "kvm.h"

enum kvmmu_stress_op {
	KVMMU_STRESS_MPROTECT,	  /* mprotect(PROT_READ), then RW again */
	KVMMU_STRESS_REMAP,	  /* munmap, then mmap MAP_FIXED again */
	KVMMU_STRESS_DONTNEED,	  /* madvise(MADV_DONTNEED) */
	KVMMU_STRESS_FORK,	  /* fork, parent write, child exit */
	KVMMU_STRESS_MREMAP,	  /* mremap away and back */
	KVMMU_STRESS_SLOT_DELETE, /* delete the memslot, re-add it */
	KVMMU_STRESS_SLOT_MOVE,	  /* move the memslot away and back */
	KVMMU_STRESS_OP_NR,
};

/**
 * kvmmu_stress_op_name() - a host operation's name.
 * Context: any.
 * Return: "mprotect", "remap", ...; "?" if unknown.
 */
const char *kvmmu_stress_op_name(enum kvmmu_stress_op op);

struct kvmmu_stress_config {
	enum kvmmu_arch arch;
	unsigned int nr_vcpus;	 /* 1..64; 0: 2 */
	uint64_t bytes_per_vcpu; /* multiple of 4 KiB; 0: 64 MiB */
	double seconds;		 /* 0: 10 */
	uint64_t seed;
	unsigned int inject;   /* KVMMU_INJECT_* (kvm.h) */
	bool stop_on_finding;  /* end the run at the first finding ... */
	uint32_t stop_kinds;   /* ... of these kinds (1u << kind); 0: any */
	double check_interval; /* seconds between quiescent checks; 0: 1 */
	FILE *out;	       /* the report; NULL: none */
	bool progress;	       /* one line per second on @out */
};

#define KVMMU_STRESS_KEEP 16 /* findings copied into the result */

struct kvmmu_stress_result {
	double elapsed;		 /* seconds the workload ran */
	double first_finding_at; /* seconds, or -1 */
	unsigned long findings;	 /* recorded by the checker and the run */
	unsigned long warnings;	 /* WARN_ONs during the run */
	unsigned int nr_kept;
	struct kvmmu_finding kept[KVMMU_STRESS_KEEP];
	/* findings of each kind among the first KVMMU_CHECK_LOG_MAX */
	unsigned int by_kind[KVMMU_FK_NR];
	uint64_t checks;      /* quiescent kvmmu_check_vm() runs */
	double check_seconds; /* time spent in them, vCPUs stopped */

	/* guest side */
	uint64_t rounds;   /* programs run to their end */
	uint64_t verified; /* rounds whose data checked out */
	uint64_t excused;  /* mismatches after a destructive host op */
	uint64_t efault_exits, mmio_exits;

	/* host side */
	uint64_t host_ops[KVMMU_STRESS_OP_NR];
	uint64_t host_op_errors;

	/* VM statistics at the end (KVM's names) */
	uint64_t pf_taken, pf_fixed, pf_spurious, mmu_invalidate_retry;
	uint64_t remote_tlb_flush, remote_tlb_flush_requests;
	uint64_t notifier_zap_pages;

	bool audit_clean; /* kvmmu_host_audit() after teardown */
};

/**
 * kvmmu_stress_run() - run one stress workload to its end.
 * @cfg: the workload.
 * @res: the outcome (zeroed first).
 *
 * Creates a host sized for the workload, an mm, a VM in check mode with
 * @cfg->inject, the vCPU threads and the host thread; runs for
 * @cfg->seconds (or to the first finding with @cfg->stop_on_finding),
 * checks once more at the end, tears everything down and audits the host.
 * In debug builds it installs a scheduling hook (sched.h) for the run, so
 * only one run may be in progress per process.
 *
 * Context: may block for the whole run; starts and joins its threads.
 * Return: 0 when the run happened (its verdict is in @res: findings,
 * warnings, audit_clean); -EINVAL for a bad @cfg; -ENOMEM or another
 * -errno if the setup failed.
 */
int kvmmu_stress_run(const struct kvmmu_stress_config *cfg,
		     struct kvmmu_stress_result *res);

/** Did the run pass: no finding, no warning, a clean audit? */
static inline bool kvmmu_stress_passed(const struct kvmmu_stress_result *r)
{
	return !r->findings && !r->warnings && r->audit_clean;
}

#endif /* KVMMU_STRESS_H */
