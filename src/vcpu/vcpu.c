// SPDX-License-Identifier: MIT
/*
 * vCPUs: the run loop (KVM_RUN), the guest-program interpreter and the
 * memory access engine (TLB → lockless stage-2 walk → fault).
 *
 * The run loop alternates between guest mode, where instructions execute
 * and touch frames through the TLB, and the "exit" side, where requests are
 * serviced and stage-2 faults handled.  An access never blocks in guest
 * mode: a miss that the stage-2 table cannot satisfy leaves guest mode
 * first (a VM exit), so remote TLB flushes never wait on a fault.
 *
 * Models: arch/x86/kvm/x86.c vcpu_run()/vcpu_enter_guest(), the hardware
 * page walker and TLB (with x86's hardware A/D updates), and the exit
 * handling of KVM_RUN (MMIO, -EFAULT with the vCPU left on the access).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "check/internal.h"

static const struct kvmmu_stat_desc vcpu_stat_desc[VCPU_STAT_NR] = {
	[VCPU_STAT_PF_TAKEN] = { "pf_taken", KVMMU_STAT_CUMULATIVE, 0,
				 "stage-2 faults handled" },
	[VCPU_STAT_PF_FIXED] = { "pf_fixed", KVMMU_STAT_CUMULATIVE, 0,
				 "faults that installed a leaf" },
	[VCPU_STAT_PF_SPURIOUS] = { "pf_spurious", KVMMU_STAT_CUMULATIVE, 0,
				    "faults that found the leaf there" },
	[VCPU_STAT_PF_MMIO] = { "pf_mmio", KVMMU_STAT_CUMULATIVE, 0,
				"faults that exited as MMIO" },
	[VCPU_STAT_PF_EFAULT] = { "pf_efault", KVMMU_STAT_CUMULATIVE, 0,
				  "faults that exited -EFAULT" },
	[VCPU_STAT_MMU_INVALIDATE_RETRY] = { "mmu_invalidate_retry",
					     KVMMU_STAT_CUMULATIVE, 0,
					     "faults retried by the seq check" },
	[VCPU_STAT_TLB_FLUSH] = { "tlb_flush", KVMMU_STAT_CUMULATIVE, 0,
				  "TLB flushes serviced" },
	[VCPU_STAT_TLB_MISS] = { "tlb_miss", KVMMU_STAT_CUMULATIVE, 0,
				 "TLB misses (stage-2 walks)" },
	[VCPU_STAT_EXITS] = { "exits", KVMMU_STAT_CUMULATIVE, 0,
			      "returns to the VMM" },
};

/* Outcome of running guest code until something needs the exit side. */
enum guest_ret {
	GUEST_HLT,   /* pc ran off the end */
	GUEST_EXIT,  /* run state filled: return to the VMM */
	GUEST_FAULT, /* handle the fault in vcpu->pf, then re-enter */
	GUEST_REQ,   /* asked to leave guest mode */
};

/* The access that faulted (struct kvm_page_fault's input). */
struct pending_fault {
	gpa_t gpa;
	unsigned int len;
	bool write;
	uint8_t data[8];
};

uint64_t kvmmu_pattern_word(uint64_t seed, gpa_t gpa)
{
	/* splitmix64 finaliser over (seed, word address) */
	uint64_t z = seed ^ (gpa * 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/**
 * kvmmu_vcpu_create() - see vcpu.h.
 * Models: virt/kvm/kvm_main.c kvm_vm_ioctl_create_vcpu()
 */
int kvmmu_vcpu_create(struct kvmmu_vm *kvm, unsigned int id,
		      struct kvmmu_vcpu **out)
{
	struct kvmmu_vcpu *vcpu;
	char name[48];
	int i, r;

	if (!kvmmu_vm_ioctl_ok(kvm))
		return -EIO;
	if (id >= KVMMU_MAX_VCPUS)
		return -EINVAL;
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return -ENOMEM;
	vcpu->buf = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	snprintf(name, sizeof(name), "%s/vcpu-%u", kvm->stats.id, id);
	if (!vcpu->buf || kvmmu_stats_init(&vcpu->stats, strdup(name),
					   vcpu_stat_desc, VCPU_STAT_NR)) {
		free(vcpu->buf);
		free(vcpu);
		return -ENOMEM;
	}
	vcpu->kvm = kvm;
	vcpu->id = id;

	kvmmu_mutex_lock(&kvm->lock);
	for (i = 0; i < kvm->nr_vcpus; i++) {
		if (kvm->vcpus[i]->id == id) {
			kvmmu_mutex_unlock(&kvm->lock);
			r = -EEXIST;
			goto err;
		}
	}
	if (kvm->nr_vcpus >= KVMMU_MAX_VCPUS) {
		kvmmu_mutex_unlock(&kvm->lock);
		r = -EINVAL;
		goto err;
	}
	kvm->vcpus[kvm->nr_vcpus] = vcpu;
	/* Publish: flushers read nr_vcpus with acquire, then the pointer. */
	smp_store_release(&kvm->nr_vcpus, kvm->nr_vcpus + 1);
	kvmmu_mutex_unlock(&kvm->lock);
	*out = vcpu;
	return 0;
err:
	free((void *)vcpu->stats.id);
	kvmmu_stats_destroy(&vcpu->stats);
	free(vcpu->buf);
	free(vcpu);
	return r;
}

void kvmmu_vcpu_free(struct kvmmu_vcpu *vcpu)
{
	free((void *)vcpu->stats.id);
	kvmmu_stats_destroy(&vcpu->stats);
	free(vcpu->loop_left);
	free(vcpu->buf);
	free(vcpu);
}

struct kvmmu_run *kvmmu_vcpu_run_state(struct kvmmu_vcpu *vcpu)
{
	return &vcpu->run;
}

struct kvmmu_stats *kvmmu_vcpu_stats(struct kvmmu_vcpu *vcpu)
{
	return &vcpu->stats;
}

static int insn_valid(const struct kvmmu_guest_prog *p, uint32_t i)
{
	const struct kvmmu_guest_insn *in = &p->insns[i];

	switch (in->op) {
	case KVMMU_GOP_READ:
	case KVMMU_GOP_WRITE:
		if (in->size != 1 && in->size != 2 && in->size != 4 &&
		    in->size != 8)
			return 0;
		/* one access never crosses a page */
		return (in->gpa & (PAGE_SIZE - 1)) + in->size <= PAGE_SIZE;
	case KVMMU_GOP_FILL:
	case KVMMU_GOP_VERIFY:
		return !(in->gpa & 7) && !(in->len & 7) && in->len;
	case KVMMU_GOP_COPY:
		return in->len && in->len <= PAGE_SIZE &&
		       (in->gpa & (PAGE_SIZE - 1)) + in->len <= PAGE_SIZE;
	case KVMMU_GOP_LOOP:
		return in->gpa < i;
	default:
		return 0;
	}
}

int kvmmu_vcpu_set_prog(struct kvmmu_vcpu *vcpu,
			const struct kvmmu_guest_prog *prog)
{
	uint32_t i;

	if (!prog || (prog->n && !prog->insns))
		return -EINVAL;
	for (i = 0; i < prog->n; i++)
		if (!insn_valid(prog, i))
			return -EINVAL;
	if (prog->n > vcpu->loop_cap) {
		uint32_t *l = realloc(vcpu->loop_left, prog->n * sizeof(*l));

		if (!l)
			return -ENOMEM;
		vcpu->loop_left = l;
		vcpu->loop_cap = prog->n;
	}
	if (prog->n)
		memset(vcpu->loop_left, 0, prog->n * sizeof(uint32_t));
	vcpu->prog = *prog;
	vcpu->pc = 0;
	vcpu->cur_off = 0;
	vcpu->mmio_pending = false;
	return 0;
}

/* Check mode: remember which slot and hva the entry stands for. */
static void tlb_note_slot(struct kvmmu_vcpu *vcpu, struct kvmmu_tlb_entry *e,
			  gfn_t gfn)
{
	struct kvmmu_vm *kvm = vcpu->kvm;
	struct kvmmu_memory_slot *slot;
	int idx;

	idx = kvmmu_srcu_read_lock(&kvm->srcu);
	slot = kvmmu_gfn_to_memslot(kvmmu_memslots(kvm, 0), gfn);
	if (slot) {
		e->hva = kvmmu_gfn_to_hva_memslot(slot, gfn);
		e->slot_id = slot->id;
	} else {
		e->hva = 0;
		e->slot_id = -1;
	}
	kvmmu_srcu_read_unlock(&kvm->srcu, idx);
}

/*
 * Translate @gpa for an access, in guest mode: the TLB, else a lockless
 * walk of the stage-2 table that fills the TLB.
 * Return: the bytes of the page, or NULL if the access must fault.
 */
static uint8_t *translate(struct kvmmu_vcpu *vcpu, gpa_t gpa, bool write)
{
	struct kvmmu_vm *kvm = vcpu->kvm;
	gfn_t gfn = gpa >> PAGE_SHIFT;
	struct kvmmu_tlb_entry *e = &vcpu->tlb[gfn % KVMMU_TLB_ENTRIES];
	kvmmu_spte_t spte, *ptep;
	int level;

	if (e->tag == gfn + 1 && (!write || e->writable)) {
		if (kvm->cfg.check)
			kvmmu_check_access(vcpu, gfn, e, write);
		return e->hva_page;
	}
	kvmmu_stats_inc(&vcpu->stats, VCPU_STAT_TLB_MISS);
	spte = kvmmu_s2_walk(&kvm->s2, gfn, &ptep, &level);
	if (!s2_is_leaf(spte) || (write && !(spte & S2_WRITE)))
		return NULL;
	if (kvm->arch->hw_accessed_dirty) {
		kvmmu_spte_t ad = S2_ACCESSED | (write ? S2_DIRTY : 0);

		/* A cmpxchg, not an OR: a zapped entry must stay zero. */
		if ((spte & ad) != ad)
			cmpxchg(ptep, spte, spte | ad);
	}
	e->tag = gfn + 1;
	e->pfn = s2_pfn(spte) + (gfn & ((1ull << (9 * (level - 1))) - 1));
	e->hva_page = kvmmu_pfn_to_virt(kvm->host, e->pfn);
	e->writable = spte & S2_WRITE;
	e->gen = (spte & S2_GEN_MASK) >> S2_GEN_SHIFT;
	e->ptep = ptep;
	if (kvm->cfg.check) {
		tlb_note_slot(vcpu, e, gfn);
		kvmmu_check_access(vcpu, gfn, e, write);
	}
	return e->hva_page;
}

static void set_fault(struct pending_fault *pf, gpa_t gpa, unsigned int len,
		      bool write, const void *data)
{
	pf->gpa = gpa;
	pf->len = len;
	pf->write = write;
	if (write)
		memcpy(pf->data, data, len);
}

/*
 * One access of 1-8 bytes inside a page.  After an MMIO exit the same
 * access is replayed first: a read takes the VMM's data, a write is done.
 * Return: 0 done, or GUEST_FAULT with @pf filled.
 */
static int access_small(struct kvmmu_vcpu *vcpu, gpa_t gpa, void *buf,
			unsigned int len, bool write, struct pending_fault *pf)
{
	uint8_t *page;

	if (vcpu->mmio_pending) {
		vcpu->mmio_pending = false;
		if (!write)
			memcpy(buf, vcpu->run.mmio.data, len);
		return 0;
	}
	page = translate(vcpu, gpa, write);
	if (!page) {
		set_fault(pf, gpa, len, write, buf);
		return GUEST_FAULT;
	}
	if (write)
		memcpy(page + (gpa & (PAGE_SIZE - 1)), buf, len);
	else
		memcpy(buf, page + (gpa & (PAGE_SIZE - 1)), len);
	return 0;
}

/* A VERIFY found @found where @want belongs; resuming goes on after it. */
static int verify_fail(struct kvmmu_vcpu *vcpu, gpa_t gpa, uint64_t want,
		       uint64_t found)
{
	vcpu->run.exit_reason = KVMMU_EXIT_VERIFY_FAIL;
	vcpu->run.verify.gpa = gpa;
	vcpu->run.verify.expected = want;
	vcpu->run.verify.found = found;
	return GUEST_EXIT;
}

/* FILL / VERIFY / COPY: word by word, a page translation at a time. */
static int exec_range(struct kvmmu_vcpu *vcpu,
		      const struct kvmmu_guest_insn *in,
		      struct pending_fault *pf)
{
	bool write = in->op == KVMMU_GOP_FILL;
	unsigned int step = in->op == KVMMU_GOP_COPY ? 1 : 8;

	while (vcpu->cur_off < in->len) {
		gpa_t gpa = in->gpa + vcpu->cur_off;
		unsigned int in_page = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
		unsigned int n = min(in_page, in->len - vcpu->cur_off);
		uint8_t *page;
		uint64_t w;
		unsigned int i;

		if (kvmmu_vcpu_exit_requested(vcpu))
			return GUEST_REQ;
		if (vcpu->mmio_pending) {
			/* Replay the word that exited as MMIO, then go on. */
			unsigned int len = step == 1 ? min(n, 8u) : 8;
			uint64_t want = kvmmu_pattern_word(in->val, gpa);

			w = write ? want : 0;
			access_small(vcpu, gpa, &w, len, write, pf);
			if (in->op == KVMMU_GOP_COPY)
				memcpy(vcpu->buf + vcpu->cur_off, &w, len);
			vcpu->cur_off += len;
			if (in->op == KVMMU_GOP_VERIFY && w != want)
				return verify_fail(vcpu, gpa, want, w);
			continue;
		}
		page = translate(vcpu, gpa, write);
		if (!page) {
			w = kvmmu_pattern_word(in->val, gpa);
			set_fault(pf, gpa, step == 1 ? min(n, 8u) : 8, write,
				  &w);
			return GUEST_FAULT;
		}
		page += gpa & (PAGE_SIZE - 1);
		switch (in->op) {
		case KVMMU_GOP_FILL:
			for (i = 0; i < n; i += 8) {
				w = kvmmu_pattern_word(in->val, gpa + i);
				memcpy(page + i, &w, 8);
			}
			break;
		case KVMMU_GOP_VERIFY:
			for (i = 0; i < n; i += 8) {
				uint64_t want =
					kvmmu_pattern_word(in->val, gpa + i);

				memcpy(&w, page + i, 8);
				if (w != want) {
					vcpu->cur_off += i + 8;
					return verify_fail(vcpu, gpa + i, want,
							   w);
				}
			}
			break;
		default: /* COPY */
			memcpy(vcpu->buf + vcpu->cur_off, page, n);
			break;
		}
		vcpu->cur_off += n;
	}
	vcpu->cur_off = 0;
	vcpu->pc++;
	return 0;
}

/* Run instructions in guest mode until something needs the exit side. */
static int run_guest(struct kvmmu_vcpu *vcpu, struct pending_fault *pf)
{
	const struct kvmmu_guest_prog *p = &vcpu->prog;

	while (vcpu->pc < p->n) {
		const struct kvmmu_guest_insn *in = &p->insns[vcpu->pc];
		uint64_t v = 0;
		int r;

		if (kvmmu_vcpu_exit_requested(vcpu))
			return GUEST_REQ;
		switch (in->op) {
		case KVMMU_GOP_READ:
			r = access_small(vcpu, in->gpa, &v, in->size, false,
					 pf);
			if (r)
				return r;
			if (p->results && in->reg < p->nr_results)
				p->results[in->reg] = v;
			vcpu->pc++;
			break;
		case KVMMU_GOP_WRITE:
			v = in->val;
			r = access_small(vcpu, in->gpa, &v, in->size, true, pf);
			if (r)
				return r;
			vcpu->pc++;
			break;
		case KVMMU_GOP_LOOP: {
			uint32_t *left = &vcpu->loop_left[vcpu->pc];

			if (in->len == 0) { /* forever (until kicked) */
				vcpu->pc = in->gpa;
				break;
			}
			if (*left == 0)
				*left = in->len;
			if (--*left)
				vcpu->pc = in->gpa;
			else
				vcpu->pc++;
			break;
		}
		default:
			r = exec_range(vcpu, in, pf);
			if (r)
				return r;
			break;
		}
	}
	return GUEST_HLT;
}

/**
 * kvmmu_vcpu_run() - see vcpu.h.
 * Models: arch/x86/kvm/x86.c vcpu_run() / vcpu_enter_guest()
 */
int kvmmu_vcpu_run(struct kvmmu_vcpu *vcpu)
{
	struct kvmmu_run *run = &vcpu->run;
	struct pending_fault pf;
	int r;

	if (!kvmmu_vm_ioctl_ok(vcpu->kvm))
		return -EIO;
	for (;;) {
		kvmmu_vcpu_check_requests(vcpu);
		if (__atomic_exchange_n(&vcpu->kick, false, __ATOMIC_SEQ_CST)) {
			run->exit_reason = KVMMU_EXIT_INTR;
			r = -EINTR;
			break;
		}
		if (!kvmmu_vcpu_enter_guest(vcpu))
			continue;
		r = run_guest(vcpu, &pf);
		kvmmu_vcpu_exit_guest(vcpu);

		if (r == GUEST_HLT) {
			run->exit_reason = KVMMU_EXIT_HLT;
			r = 0;
			break;
		}
		if (r == GUEST_EXIT) {
			r = 0;
			break;
		}
		if (r == GUEST_REQ)
			continue;
		/* GUEST_FAULT: the VM exit for a stage-2 fault */
		r = kvmmu_page_fault(vcpu, pf.gpa, pf.write, pf.len, pf.data);
		if (r == 1) {
			vcpu->mmio_pending = true;
			r = 0;
			break;
		}
		if (r < 0)
			break; /* -EFAULT: the vCPU stays on the access */
	}
	run->pc = vcpu->pc;
	kvmmu_stats_inc(&vcpu->stats, VCPU_STAT_EXITS);
	return r;
}

/* Run a one-instruction program; the vCPU has no program afterwards. */
static int run_one(struct kvmmu_vcpu *vcpu, const struct kvmmu_guest_insn *in,
		   uint64_t *val)
{
	struct kvmmu_guest_prog p = {
		.insns = in, .n = 1, .results = val, .nr_results = 1
	};
	int r;

	r = kvmmu_vcpu_set_prog(vcpu, &p);
	if (r)
		return r;
	r = kvmmu_vcpu_run(vcpu);
	if (!r && vcpu->run.exit_reason == KVMMU_EXIT_MMIO) {
		/* Not resolved here: forget the pending access. */
		vcpu->mmio_pending = false;
	}
	vcpu->prog = (struct kvmmu_guest_prog){ 0 };
	vcpu->pc = 0;
	return r;
}

int kvmmu_vcpu_read(struct kvmmu_vcpu *vcpu, gpa_t gpa, unsigned int size,
		    uint64_t *val)
{
	struct kvmmu_guest_insn in = { .op = KVMMU_GOP_READ,
				       .size = size,
				       .gpa = gpa };

	*val = 0;
	return run_one(vcpu, &in, val);
}

int kvmmu_vcpu_write(struct kvmmu_vcpu *vcpu, gpa_t gpa, unsigned int size,
		     uint64_t val)
{
	struct kvmmu_guest_insn in = {
		.op = KVMMU_GOP_WRITE, .size = size, .gpa = gpa, .val = val
	};

	return run_one(vcpu, &in, NULL);
}
