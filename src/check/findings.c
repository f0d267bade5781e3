// SPDX-License-Identifier: MIT
/*
 * The findings log and the online check of check mode.
 *
 * A finding names the invariant it breaks (kvm-mmu-protocol.md §9 number
 * and a short name, or a design invariant such as "uaf"), where (gfn, pfn,
 * slot, vCPU) and what was expected against what was found.  Any thread may
 * record one; the log keeps a count of all and the first
 * KVMMU_CHECK_LOG_MAX in full.
 *
 * The online check (kvmmu_check_access) runs on every TLB hit and fill of a
 * vCPU in guest mode.  While a vCPU is in guest mode holding a TLB entry, a
 * correct system cannot have freed the entry's frame nor changed the host
 * PTE at the entry's hva: every such change first runs
 * invalidate_range_start, which zaps the stage-2 leaves and then waits for
 * every vCPU in guest mode to leave it and drop its TLB (§9.1).  So the
 * check needs no lock and has no false positives: any disagreement it sees
 * is a coherence bug.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vcpu/internal.h"

static const char *const kind_names[KVMMU_FK_NR] = {
	[KVMMU_FK_UAF] = "uaf",
	[KVMMU_FK_STALE_MAPPING] = "9.1 stale-mapping",
	[KVMMU_FK_WRITABLE] = "9.25 writable-over-ro",
	[KVMMU_FK_STALE_TLB] = "9.1 stale-tlb",
	[KVMMU_FK_OUTSIDE_SLOT] = "9.15 leaf-outside-slot",
	[KVMMU_FK_SEQ] = "9.4 seq",
	[KVMMU_FK_IN_PROGRESS] = "9.9 in-progress",
	[KVMMU_FK_RANGE] = "9.6 range",
	[KVMMU_FK_NO_RANGE_ADD] = "9.7 begin-without-add",
	[KVMMU_FK_MN_COUNT] = "9.10 mn-active-count",
	[KVMMU_FK_MEMSLOTS] = "9.15 memslot-sets",
	[KVMMU_FK_GPA_OVERLAP] = "9.16 gpa-overlap",
	[KVMMU_FK_GENERATION] = "9.17 generation",
	[KVMMU_FK_DATA] = "8 data",
	[KVMMU_FK_WARN] = "warn",
	[KVMMU_FK_OTHER] = "other",
};

/**
 * kvmmu_finding_kind_name() - see check.h.
 */
const char *kvmmu_finding_kind_name(enum kvmmu_finding_kind kind)
{
	if ((unsigned int)kind >= KVMMU_FK_NR || !kind_names[kind])
		return "?";
	return kind_names[kind];
}

/**
 * kvmmu_check_init() - give @kvm an empty findings log.
 * @kvm: the VM being created.
 *
 * Context: VM creation (nothing else uses @kvm yet).
 * Return: 0 or -ENOMEM.
 */
int kvmmu_check_init(struct kvmmu_vm *kvm)
{
	struct kvmmu_check_log *log = calloc(1, sizeof(*log));

	if (!log)
		return -ENOMEM;
	kvmmu_spin_lock_init(&log->lock, "check_log", KVMMU_RANK_LEAF);
	/* Warnings from before this VM existed are not its findings. */
	log->last_warn = kvmmu_warn_count();
	kvm->check_log = log;
	return 0;
}

/**
 * kvmmu_check_free() - free @kvm's findings log.
 * @kvm: the VM being destroyed.
 *
 * Context: VM teardown (no vCPU runs, no check is in progress).
 */
void kvmmu_check_free(struct kvmmu_vm *kvm)
{
	struct kvmmu_check_log *log = kvm->check_log;

	if (!log)
		return;
	kvmmu_spin_lock_destroy(&log->lock);
	free(log);
	kvm->check_log = NULL;
}

/**
 * kvmmu_check_vreport() - record one finding.
 * @kvm: the VM.
 * @kind: the invariant broken.
 * @gfn: where, or ~0.
 * @pfn: the frame involved, or KVMMU_INVALID_PFN.
 * @slot: the memslot id, or -1.
 * @vcpu: the vCPU id, or -1 for the stage-2 table or the VM.
 * @fmt: the message (expected vs found).
 * @ap: its arguments.
 *
 * Context: any thread; takes the log's leaf lock only while fewer than
 * KVMMU_CHECK_LOG_MAX findings were recorded.
 */
void kvmmu_check_vreport(struct kvmmu_vm *kvm, enum kvmmu_finding_kind kind,
			 gfn_t gfn, kvmmu_pfn_t pfn, int slot, int vcpu,
			 const char *fmt, va_list ap)
{
	struct kvmmu_check_log *log = kvm->check_log;
	struct kvmmu_finding *f;
	unsigned long n;

	if (!log)
		return;
	n = __atomic_fetch_add(&log->count, 1, __ATOMIC_SEQ_CST);
	if (n >= KVMMU_CHECK_LOG_MAX)
		return;
	kvmmu_spin_lock(&log->lock);
	if (log->nr_kept < KVMMU_CHECK_LOG_MAX) {
		f = &log->kept[log->nr_kept++];
		f->kind = kind;
		f->invariant = kvmmu_finding_kind_name(kind);
		f->gfn = gfn;
		f->pfn = pfn;
		f->slot = slot;
		f->vcpu = vcpu;
		vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	}
	kvmmu_spin_unlock(&log->lock);
}

/**
 * kvmmu_check_report() - see check.h.
 */
void kvmmu_check_report(struct kvmmu_vm *vm, enum kvmmu_finding_kind kind,
			gfn_t gfn, kvmmu_pfn_t pfn, int slot, int vcpu,
			const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvmmu_check_vreport(vm, kind, gfn, pfn, slot, vcpu, fmt, ap);
	va_end(ap);
}

/**
 * kvmmu_check_nr_findings() - see check.h.
 */
unsigned long kvmmu_check_nr_findings(struct kvmmu_vm *vm)
{
	if (!vm || !vm->check_log)
		return 0;
	return __atomic_load_n(&vm->check_log->count, __ATOMIC_SEQ_CST);
}

/**
 * kvmmu_check_finding() - see check.h.
 */
int kvmmu_check_finding(struct kvmmu_vm *vm, unsigned int idx,
			struct kvmmu_finding *out)
{
	struct kvmmu_check_log *log = vm ? vm->check_log : NULL;
	int r = -ENOENT;

	if (!log)
		return -ENOENT;
	kvmmu_spin_lock(&log->lock);
	if (idx < log->nr_kept) {
		*out = log->kept[idx];
		r = 0;
	}
	kvmmu_spin_unlock(&log->lock);
	return r;
}

/**
 * kvmmu_check_count_kind() - see check.h.
 */
unsigned int kvmmu_check_count_kind(struct kvmmu_vm *vm,
				    enum kvmmu_finding_kind kind)
{
	struct kvmmu_check_log *log = vm ? vm->check_log : NULL;
	unsigned int i, n = 0;

	if (!log)
		return 0;
	kvmmu_spin_lock(&log->lock);
	for (i = 0; i < log->nr_kept; i++)
		n += log->kept[i].kind == kind;
	kvmmu_spin_unlock(&log->lock);
	return n;
}

/**
 * kvmmu_check_format() - see check.h.
 */
char *kvmmu_check_format(const struct kvmmu_finding *f, char *buf, size_t len)
{
	char where[96];
	int n = 0;

	where[0] = 0;
	if (f->vcpu >= 0)
		n += snprintf(where + n, sizeof(where) - n, " vcpu %d",
			      f->vcpu);
	if (f->slot >= 0)
		n += snprintf(where + n, sizeof(where) - n, " slot %d",
			      f->slot);
	if (f->gfn != ~(gfn_t)0)
		n += snprintf(where + n, sizeof(where) - n, " gfn %#llx",
			      (unsigned long long)f->gfn);
	if (f->pfn != KVMMU_INVALID_PFN)
		snprintf(where + n, sizeof(where) - n, " pfn %#llx",
			 (unsigned long long)f->pfn);
	snprintf(buf, len, "[%s]%s: %s", f->invariant ? f->invariant : "?",
		 where, f->msg);
	return buf;
}

/**
 * kvmmu_check_print() - see check.h.
 */
void kvmmu_check_print(struct kvmmu_vm *vm, FILE *out)
{
	unsigned long total = kvmmu_check_nr_findings(vm);
	struct kvmmu_finding f;
	char line[400];
	unsigned int i;

	for (i = 0; kvmmu_check_finding(vm, i, &f) == 0; i++)
		fprintf(out, "finding %u: %s\n", i + 1,
			kvmmu_check_format(&f, line, sizeof(line)));
	if (total > i)
		fprintf(out, "... and %lu more finding(s) not kept in full\n",
			total - i);
}

/* --- the online check --------------------------------------------------- */

/**
 * kvmmu_check_access() - vet a TLB entry a vCPU in guest mode is using.
 * @vcpu: the vCPU (its thread, in guest mode).
 * @gfn: the gfn the entry translates.
 * @e: the entry: pfn, gen (the leaf's generation bits), writable, and in
 *     check mode the slot's hva and id.
 * @write: the access is a write.
 *
 * Three lockless lookups, each exact while the vCPU stays in guest mode
 * (see the top of this file): the host PTE at the hva must be present and
 * map the entry's frame (§9.1, design invariant 2), and allow writes if the
 * entry does (design invariant 3); the frame must be allocated and of the
 * generation the leaf recorded (design invariant 1, "uaf").  A PFNMAP PTE
 * (special) has no frame to count, so only the PTE part applies.
 *
 * Context: the vCPU's thread, in guest mode; lockless (a leaf lock only to
 * record a finding).
 */
void kvmmu_check_access(struct kvmmu_vcpu *vcpu, gfn_t gfn,
			const struct kvmmu_tlb_entry *e, bool write)
{
	struct kvmmu_vm *kvm = vcpu->kvm;
	struct kvmmu_pte_info pte;
	struct kvmmu_page_info pi;
	int id = vcpu->id;
	bool mapped;

	if (e->slot_id < 0) {
		kvmmu_check_report(kvm, KVMMU_FK_OUTSIDE_SLOT, gfn, e->pfn, -1,
				   id,
				   "TLB entry (from a stage-2 leaf) in use for "
				   "a gfn that no memslot covers");
		return;
	}
	mapped = !kvmmu_mm_lookup_pte(kvm->mm, e->hva, &pte) && pte.present &&
		 !pte.protnone;

	if ((!mapped || !pte.special) &&
	    !kvmmu_page_info(kvm->host, e->pfn, &pi) &&
	    !(pi.flags & KVMMU_PG_DEVICE)) {
		if (pi.flags & KVMMU_PG_FREE) {
			kvmmu_check_report(kvm, KVMMU_FK_UAF, gfn, e->pfn,
					   e->slot_id, id,
					   "%s through the TLB to a free frame "
					   "(freed after the leaf mapped "
					   "generation %#x)",
					   write ? "write" : "read", e->gen);
			return;
		}
		if (((pi.gen ^ e->gen) & CHECK_GEN_MASK) != 0) {
			kvmmu_check_report(
				kvm, KVMMU_FK_UAF, gfn, e->pfn, e->slot_id, id,
				"%s through the TLB to a reused frame: "
				"the leaf mapped generation %#x, the "
				"frame is at %#x",
				write ? "write" : "read",
				e->gen & (unsigned int)CHECK_GEN_MASK,
				pi.gen & (unsigned int)CHECK_GEN_MASK);
			return;
		}
	}
	if (!mapped) {
		kvmmu_check_report(
			kvm, KVMMU_FK_STALE_MAPPING, gfn, e->pfn, e->slot_id,
			id,
			"%s through the TLB, but the host PTE at hva "
			"%#llx is %s",
			write ? "write" : "read", (unsigned long long)e->hva,
			pte.protnone ? "PROT_NONE" : "not present");
		return;
	}
	if (pte.pfn != e->pfn) {
		kvmmu_check_report(kvm, KVMMU_FK_STALE_MAPPING, gfn, e->pfn,
				   e->slot_id, id,
				   "%s through the TLB to pfn %#llx, but the "
				   "host PTE at hva %#llx maps pfn %#llx",
				   write ? "write" : "read",
				   (unsigned long long)e->pfn,
				   (unsigned long long)e->hva,
				   (unsigned long long)pte.pfn);
		return;
	}
	if (e->writable && !pte.write)
		kvmmu_check_report(kvm, KVMMU_FK_WRITABLE, gfn, e->pfn,
				   e->slot_id, id,
				   "writable TLB entry (%s), but the host PTE "
				   "at hva %#llx is read-only",
				   write ? "write" : "read",
				   (unsigned long long)e->hva);
}
