/* SPDX-License-Identifier: MIT */
/*
 * The invariant checker: read-only checks over a VM's state, reported as
 * findings (kvm-mmu-protocol.md §9, docs/design.md "Invariants").
 *
 * Two ways in.  kvmmu_check_vm() is a full check at a quiescent point (no
 * vCPU running, no host operation in flight): counters and memslot sets,
 * then every stage-2 leaf and every vCPU's TLB against the host.  Check
 * mode (struct kvmmu_vm_config.check) adds an online check of every TLB hit
 * and fill while the vCPU is in guest mode, where the protocol makes the
 * answer exact: a correct system cannot free the frame or change the host
 * PTE under an entry that a vCPU in guest mode still holds.
 *
 * Findings accumulate in a per-VM log: a count, and the first
 * KVMMU_CHECK_LOG_MAX of them in full.  A WARN_ON (log.h) is a finding too:
 * kvmmu_check_vm() reports the warnings raised since its last run.
 */
#ifndef KVMMU_CHECK_H
#define KVMMU_CHECK_H

#include <stdio.h>
#include "kvm.h"

#define KVMMU_CHECK_LOG_MAX 64

/* What kind of invariant a finding breaks; names in kvmmu_finding_kind_name. */
enum kvmmu_finding_kind {
	KVMMU_FK_UAF, /* "uaf": frame free or reused (design inv. 1) */
	KVMMU_FK_STALE_MAPPING, /* "9.1 stale-mapping": host PTE gone/other */
	KVMMU_FK_WRITABLE,	/* "9.25 writable-over-ro": W over RO/shared */
	KVMMU_FK_STALE_TLB,	/* "9.1 stale-tlb": TLB entry with no leaf */
	KVMMU_FK_OUTSIDE_SLOT,	/* "9.15 leaf-outside-slot" */
	KVMMU_FK_SEQ,		/* "9.4 seq": seq went back or skipped */
	KVMMU_FK_IN_PROGRESS,	/* "9.9 in-progress": begin/end unbalanced */
	KVMMU_FK_RANGE,		/* "9.6 range": invalidation range */
	KVMMU_FK_NO_RANGE_ADD,	/* "9.7 begin-without-add" */
	KVMMU_FK_MN_COUNT,	/* "9.10 mn-active-count" */
	KVMMU_FK_MEMSLOTS,	/* "9.15 memslot-sets": sets differ, INVALID */
	KVMMU_FK_GPA_OVERLAP,	/* "9.16 gpa-overlap" */
	KVMMU_FK_GENERATION,	/* "9.17 generation" */
	KVMMU_FK_DATA,		/* "8 data": guest and host bytes disagree */
	KVMMU_FK_WARN,		/* "warn": a WARN_ON fired */
	KVMMU_FK_OTHER,		/* reported by a tool (e.g. stress) */
	KVMMU_FK_NR,
};

struct kvmmu_finding {
	enum kvmmu_finding_kind kind;
	const char *invariant; /* "9.1 stale-mapping", "uaf", ... (static) */
	gfn_t gfn;	       /* ~0 if none */
	kvmmu_pfn_t pfn;       /* KVMMU_INVALID_PFN if none */
	int slot;	       /* slot id, or -1 */
	int vcpu;	       /* vCPU id, or -1 (the stage-2 table) */
	char msg[200];	       /* what was expected, what was found */
};

/**
 * kvmmu_finding_kind_name() - the short name of a kind, as findings print
 * it: the §9 number (or design invariant) and a name, e.g.
 * "9.1 stale-mapping", "uaf".
 * Context: any.
 * Return: a static string; "?" for an unknown kind.
 */
const char *kvmmu_finding_kind_name(enum kvmmu_finding_kind kind);

/**
 * kvmmu_check_vm() - full check of @vm at a quiescent point.
 * @vm: the VM; no vCPU of it may be inside kvmmu_vcpu_run() and no host
 *	operation may be in flight on its mm.
 *
 * Checks, in this order: the WARN count; the invalidation counters
 * (§9.4, 9.6, 9.7, 9.9, 9.10); the memslot sets of every address space
 * (§9.15-9.17); every stage-2 leaf (slot, frame, host PTE, permissions,
 * data: §9.1, 9.15, design invariants 1-3 and 8); every vCPU TLB entry
 * whose flush is not pending (the same, plus agreement with the leaf).
 *
 * Context: takes slots_lock, mn_invalidate_lock, mmu_lock (read) and the
 * mm's mmap_lock (read); may block.
 * Return: the number of new findings (0 when clean), or -EINVAL for a NULL
 * @vm, -ENOMEM.
 */
int kvmmu_check_vm(struct kvmmu_vm *vm);

/**
 * kvmmu_check_nr_findings() - findings recorded so far (by both ways in).
 * Context: any; lockless.
 * Return: the count (0 for a NULL @vm).
 */
unsigned long kvmmu_check_nr_findings(struct kvmmu_vm *vm);

/**
 * kvmmu_check_finding() - copy finding number @idx (0 = first) to @out.
 * Context: any.
 * Return: 0; -ENOENT if @idx is beyond the findings kept in full
 * (KVMMU_CHECK_LOG_MAX) or recorded so far.
 */
int kvmmu_check_finding(struct kvmmu_vm *vm, unsigned int idx,
			struct kvmmu_finding *out);

/**
 * kvmmu_check_count_kind() - how many of the findings kept in full are of
 * @kind.
 * Context: any; takes the log's leaf lock.
 * Return: the count.
 */
unsigned int kvmmu_check_count_kind(struct kvmmu_vm *vm,
				    enum kvmmu_finding_kind kind);

/**
 * kvmmu_check_format() - one line describing @f (no newline) in @buf:
 * "[invariant] vcpu V slot S gfn G pfn P: message", the parts that do not
 * apply left out.
 * Context: any.
 * Return: @buf.
 */
char *kvmmu_check_format(const struct kvmmu_finding *f, char *buf, size_t len);

/**
 * kvmmu_check_print() - print the findings, one per line, and a summary
 * line if some were not kept in full.
 * Context: any; takes the log's leaf lock.
 */
void kvmmu_check_print(struct kvmmu_vm *vm, FILE *f);

/**
 * kvmmu_check_report() - record a finding found outside the checker (a
 * stress tool's data verification, say).
 * @gfn: where, or ~0; @pfn: the frame, or KVMMU_INVALID_PFN; @slot, @vcpu:
 * ids, or -1.
 * @fmt: the message: what was expected, what was found.
 * Context: any thread; lockless except for a leaf spinlock while fewer
 * than KVMMU_CHECK_LOG_MAX findings were recorded.
 */
void kvmmu_check_report(struct kvmmu_vm *vm, enum kvmmu_finding_kind kind,
			gfn_t gfn, kvmmu_pfn_t pfn, int slot, int vcpu,
			const char *fmt, ...) __printf(7, 8);

#endif /* KVMMU_CHECK_H */
