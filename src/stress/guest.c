// SPDX-License-Identifier: MIT
/*
 * Stress: the vCPU threads.
 *
 * Each vCPU runs short guest programs ("rounds") and handles their exits as
 * a VMM would:
 *
 *   data round     in one of its own regions: FILL a few pages with a fresh
 *		    seed, VERIFY them (several times, to hit the TLB), WRITE
 *		    one pattern word again and READ it back
 *   ro round	    VERIFY pages of the read-only slot the host filled; now
 *		    and then try to WRITE it (an MMIO exit, as for KVM)
 *   scratch round  READ a few words of the host's scratch region
 *
 * Exits: -EFAULT (the host took the memory away or made it read-only):
 * back off and run again, the vCPU is still on the access.  MMIO: the slot
 * is gone or moving (or a read-only-slot write): complete it (reads get
 * zeros) and give up the round, whose contents are now unknown.  A VERIFY
 * failure or a wrong READ is a data finding unless a destructive host
 * operation on the region was running when the round began or started
 * since (the region's epoch, a sequence count, says so): then the host
 * destroyed the contents on purpose.  An MMIO exit inside the round's
 * region with no such operation is a finding too: no memslot was being
 * deleted or moved there.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "internal.h"

enum round_end {
	ROUND_DONE,    /* ran to HLT */
	ROUND_ABORTED, /* contents unknown (MMIO, excused mismatch) */
	ROUND_STOPPED, /* the run is ending */
};

struct round {
	struct region *r;
	unsigned long epoch; /* r->epoch when the round began */
	bool ro_write;	     /* an MMIO exit for this write is expected */
};

static unsigned long epoch_of(struct region *r)
{
	return __atomic_load_n(&r->epoch, __ATOMIC_SEQ_CST);
}

static void set_hot(struct vcpu_thread *vt, struct region *r, uint64_t page,
		    uint64_t npages)
{
	uint64_t v = 0;

	if (r)
		v = ((uint64_t)(r->idx + 1) << 48) | (npages << 32) | page;
	__atomic_store_n(&vt->hot, v, __ATOMIC_RELAXED);
}

/*
 * The host made the region's contents unknown: a destructive operation ran
 * when the round began (odd epoch) or started since.
 */
static bool excused(struct round *rd)
{
	return (rd->epoch & 1) || epoch_of(rd->r) != rd->epoch;
}

/*
 * Run the loaded program to its end, handling exits.
 */
static enum round_end run_round(struct vcpu_thread *vt, struct round *rd)
{
	struct stress *st = vt->st;
	struct kvmmu_run *run = kvmmu_vcpu_run_state(vt->vcpu);
	unsigned int backoff = 0;
	int r;

	for (;;) {
		if (stress_stopping(st))
			return ROUND_STOPPED;
		r = kvmmu_vcpu_run(vt->vcpu);
		if (r == -EINTR) {
			stress_maybe_park(st);
			continue;
		}
		if (r == -EFAULT) {
			/* The host took it away or made it read-only: the
			 * vCPU is still on the access, so just run again. */
			stress_inc(&vt->efaults);
			if (++backoff > 4)
				stress_sleep_us(backoff > 64 ? 200 : 20);
			else
				sched_yield();
			stress_maybe_park(st);
			continue;
		}
		if (r) {
			stress_report(st, KVMMU_FK_OTHER, ~0ull, -1, vt->idx,
				      "kvmmu_vcpu_run() failed with %d", r);
			return ROUND_ABORTED;
		}
		backoff = 0;
		switch (run->exit_reason) {
		case KVMMU_EXIT_HLT:
			return ROUND_DONE;
		case KVMMU_EXIT_MMIO: {
			gpa_t gpa = run->mmio.phys_addr;
			struct region *reg = stress_region_of(st, gpa);

			stress_inc(&vt->mmios);
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0,
				       sizeof(run->mmio.data));
			if (rd->ro_write && run->mmio.is_write && reg == st->ro)
				continue; /* KVM's answer to a RO-slot write */
			if (reg && reg == rd->r && !excused(rd))
				stress_report(
					st, KVMMU_FK_OTHER, gpa >> PAGE_SHIFT,
					(int)reg->slot, vt->idx,
					"MMIO exit (%s) at gpa %#llx inside "
					"memslot %u, which no host "
					"operation touched",
					run->mmio.is_write ? "write" : "read",
					(unsigned long long)gpa, reg->slot);
			return ROUND_ABORTED;
		}
		case KVMMU_EXIT_VERIFY_FAIL:
			if (excused(rd)) {
				stress_inc(&vt->excused);
				return ROUND_ABORTED;
			}
			stress_report(st, KVMMU_FK_DATA,
				      run->verify.gpa >> PAGE_SHIFT,
				      (int)rd->r->slot, vt->idx,
				      "VERIFY at gpa %#llx: expected %#llx, "
				      "found %#llx, and no host operation "
				      "touched the region since the fill",
				      (unsigned long long)run->verify.gpa,
				      (unsigned long long)run->verify.expected,
				      (unsigned long long)run->verify.found);
			return ROUND_ABORTED;
		case KVMMU_EXIT_INTR:
			stress_maybe_park(st);
			continue;
		default:
			stress_report(st, KVMMU_FK_OTHER, ~0ull, -1, vt->idx,
				      "unexpected exit reason %u at pc %u",
				      run->exit_reason, run->pc);
			return ROUND_ABORTED;
		}
	}
}

static int load(struct vcpu_thread *vt, unsigned int n)
{
	struct kvmmu_guest_prog p = {
		.insns = vt->insns,
		.n = n,
		.results = vt->results,
		.nr_results = ARRAY_SIZE(vt->results),
	};

	return kvmmu_vcpu_set_prog(vt->vcpu, &p);
}

/* Pages per data round: mostly one or two, sometimes a run of them. */
static uint64_t round_pages(struct vcpu_thread *vt, uint64_t max)
{
	uint64_t n = kvmmu_rng_below(&vt->rng, 8) ?
			     1 + kvmmu_rng_below(&vt->rng, 2) :
			     1 + kvmmu_rng_below(&vt->rng, 16);

	return min(n, max);
}

static void data_round(struct vcpu_thread *vt)
{
	struct stress *st = vt->st;
	unsigned int nr = st->data_per_vcpu;
	struct region *r =
		&st->regions[vt->idx * nr + kvmmu_rng_below(&vt->rng, nr)];
	uint64_t pages = r->size >> PAGE_SHIFT;
	uint64_t n = round_pages(vt, pages);
	uint64_t p = kvmmu_rng_below(&vt->rng, pages - n + 1);
	uint64_t seed = kvmmu_rng_next(&vt->rng);
	gpa_t gpa = r->gpa + (p << PAGE_SHIFT);
	gpa_t w = gpa + (kvmmu_rng_below(&vt->rng, (n << PAGE_SHIFT) / 8) << 3);
	uint64_t want = kvmmu_pattern_word(seed, w);
	struct round rd = { .r = r };
	uint32_t len = (uint32_t)(n << PAGE_SHIFT);
	enum round_end end;

	vt->insns[0] = (struct kvmmu_guest_insn){
		.op = KVMMU_GOP_FILL, .len = len, .gpa = gpa, .val = seed
	};
	vt->insns[1] = (struct kvmmu_guest_insn){
		.op = KVMMU_GOP_VERIFY, .len = len, .gpa = gpa, .val = seed
	};
	vt->insns[2] = (struct kvmmu_guest_insn){
		.op = KVMMU_GOP_LOOP,
		.len = 1 + (uint32_t)kvmmu_rng_below(&vt->rng, 4),
		.gpa = 1,
	};
	vt->insns[3] = (struct kvmmu_guest_insn){
		.op = KVMMU_GOP_WRITE, .size = 8, .gpa = w, .val = want
	};
	vt->insns[4] = (struct kvmmu_guest_insn){
		.op = KVMMU_GOP_READ, .size = 8, .reg = 0, .gpa = w
	};
	vt->results[0] = ~want;

	set_hot(vt, r, p, n);
	/* Before the first byte is written: a later bump excuses a miss. */
	rd.epoch = epoch_of(r);
	if (load(vt, 5))
		return;
	end = run_round(vt, &rd);
	if (end != ROUND_DONE)
		return;
	stress_inc(&vt->rounds);
	if (vt->results[0] == want) {
		stress_inc(&vt->verified);
	} else if (excused(&rd)) {
		stress_inc(&vt->excused);
	} else {
		stress_report(st, KVMMU_FK_DATA, w >> PAGE_SHIFT, (int)r->slot,
			      vt->idx,
			      "READ at gpa %#llx right after a WRITE of %#llx "
			      "returned %#llx, and no host operation touched "
			      "the region",
			      (unsigned long long)w, (unsigned long long)want,
			      (unsigned long long)vt->results[0]);
	}
}

static void ro_round(struct vcpu_thread *vt)
{
	struct region *r = vt->st->ro;
	uint64_t pages = r->size >> PAGE_SHIFT;
	uint64_t n = round_pages(vt, pages);
	uint64_t p = kvmmu_rng_below(&vt->rng, pages - n + 1);
	gpa_t gpa = r->gpa + (p << PAGE_SHIFT);
	struct round rd = { .r = r };
	unsigned int nr = 1;

	vt->insns[0] = (struct kvmmu_guest_insn){
		.op = KVMMU_GOP_VERIFY,
		.len = (uint32_t)(n << PAGE_SHIFT),
		.gpa = gpa,
		.val = RO_SEED,
	};
	if (!kvmmu_rng_below(&vt->rng, 16)) {
		/* A write to a READONLY slot exits to user space as MMIO. */
		vt->insns[nr++] = (struct kvmmu_guest_insn){
			.op = KVMMU_GOP_WRITE,
			.size = 8,
			.gpa = gpa,
			.val = ~kvmmu_pattern_word(RO_SEED, gpa),
		};
		vt->insns[nr++] = vt->insns[0];
		rd.ro_write = true;
	}
	set_hot(vt, r, p, n);
	rd.epoch = epoch_of(r);
	if (load(vt, nr))
		return;
	if (run_round(vt, &rd) == ROUND_DONE) {
		stress_inc(&vt->rounds);
		stress_inc(&vt->verified);
	}
}

static void scratch_round(struct vcpu_thread *vt)
{
	struct region *r = vt->st->scratch;
	struct round rd = { .r = r };
	unsigned int i;

	for (i = 0; i < 4; i++)
		vt->insns[i] = (struct kvmmu_guest_insn){
			.op = KVMMU_GOP_READ,
			.size = 8,
			.reg = i & 1,
			.gpa = r->gpa +
			       (kvmmu_rng_below(&vt->rng, r->size / 8) << 3),
		};
	set_hot(vt, NULL, 0, 0);
	rd.epoch = epoch_of(r);
	if (load(vt, 4))
		return;
	if (run_round(vt, &rd) == ROUND_DONE)
		stress_inc(&vt->rounds);
}

/**
 * stress_vcpu_main() - a vCPU thread: rounds until the run stops.
 * @arg: its struct vcpu_thread.
 *
 * Context: a thread of its own; parks at quiescent points.
 * Return: NULL.
 */
void *stress_vcpu_main(void *arg)
{
	struct vcpu_thread *vt = arg;
	struct stress *st = vt->st;
	bool inject = st->cfg.inject != 0;

	stress_delay_thread_is_vcpu(vt->idx);
	while (!stress_stopping(st)) {
		uint64_t c = kvmmu_rng_below(&vt->rng, 100);

		stress_maybe_park(st);
		if (inject || c < 75)
			data_round(vt);
		else if (c < 92)
			ro_round(vt);
		else
			scratch_round(vt);
	}
	set_hot(vt, NULL, 0, 0);
	return NULL;
}
