// SPDX-License-Identifier: MIT
/*
 * The full check at a quiescent point (kvmmu_check_vm).
 *
 * At rest — no vCPU running, no host operation in flight — the VM's state
 * must satisfy every invariant of kvm-mmu-protocol.md §9 that can be read
 * off a snapshot:
 *
 *   counters   in_progress 0 and never negative (9.4, 9.9); seq moved by
 *	       exactly one per completed invalidation since the last check
 *	       (9.4); the range INVALID or a non-empty [start, end) (9.6), and
 *	       not INVALID if an invalidation completed (9.7);
 *	       mn_active_invalidate_count 0 (9.10, 9.11: every start() was
 *	       answered by an end())
 *   memslots   per address space: the active set is one of the two, its
 *	       generation has bit 63 clear, is ≡ as_id mod nr_as and never
 *	       went back (9.17); no INVALID slot, both sets hold the same slots
 *	       (9.15); no two slots' GPA ranges overlap (9.16)
 *   leaves     each stage-2 leaf maps a gfn of a valid slot (9.15); its frame
 *	       is allocated and of the generation it recorded ("uaf"); the
 *	       host PTE at the slot's hva is present and maps that frame (9.1,
 *	       9.2, 9.3, 9.5 and 9.6 all end here); a writable leaf has a
 *	       writable PTE, a writable slot and an unshared frame (9.25); and
 *	       a sample of the frame's bytes equals what the host reads at the
 *	       hva (design invariant 8; a guard on the PTE check itself)
 *   TLBs       each entry of a vCPU with no flush pending agrees with the
 *	       leaf (9.1); one that does not gets the frame and PTE checks too
 *
 * Leaves are collected under mmu_lock (read) and checked after it is
 * dropped, because reading through the host takes mmap_lock, which ranks
 * outside mmu_lock.  slots_lock is held throughout: it keeps the memslots
 * still and serialises checks (the log's last_* fields).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vcpu/internal.h"

#define DATA_SAMPLE 64 /* bytes compared per leaf */

struct leaf {
	gfn_t gfn;
	kvmmu_spte_t e;
	int level;
};

struct check_ctx {
	struct kvmmu_vm *kvm;
	struct kvmmu_check_log *log;
	struct leaf *leaves;
	size_t nr, cap;
	bool nomem;
};

#define report(c, kind, gfn, pfn, slot, vcpu, ...) \
	kvmmu_check_report((c)->kvm, kind, gfn, pfn, slot, vcpu, __VA_ARGS__)

#define NO_GFN ((gfn_t)~0ull)
#define NO_PFN KVMMU_INVALID_PFN

/* --- counters ------------------------------------------------------------ */

static void check_warnings(struct check_ctx *c)
{
	unsigned long now = kvmmu_warn_count();

	if (now > c->log->last_warn)
		report(c, KVMMU_FK_WARN, NO_GFN, NO_PFN, -1, -1,
		       "%lu WARN_ON(s) fired since the last check (see the "
		       "log); none expected",
		       now - c->log->last_warn);
	c->log->last_warn = now;
}

static void check_counters(struct check_ctx *c)
{
	struct kvmmu_vm *kvm = c->kvm;
	struct kvmmu_check_log *log = c->log;
	unsigned long active, seq;
	uint64_t inval;
	gfn_t rs, re;
	long inprog;

	kvmmu_spin_lock(&kvm->mn_invalidate_lock);
	active = kvm->mn_active_invalidate_count;
	kvmmu_spin_unlock(&kvm->mn_invalidate_lock);
	if (active)
		report(c, KVMMU_FK_MN_COUNT, NO_GFN, NO_PFN, -1, -1,
		       "mn_active_invalidate_count is %lu at rest, expected 0 "
		       "(a start() without its end())",
		       active);

	kvmmu_read_lock(&kvm->mmu_lock);
	inprog = READ_ONCE(kvm->mmu_invalidate_in_progress);
	seq = READ_ONCE(kvm->mmu_invalidate_seq);
	rs = READ_ONCE(kvm->mmu_invalidate_range_start);
	re = READ_ONCE(kvm->mmu_invalidate_range_end);
	kvmmu_read_unlock(&kvm->mmu_lock);
	inval = kvmmu_stats_read(&kvm->stats, KVM_STAT_MMU_NOTIFIER_INVALIDATE);

	if (inprog)
		report(c, KVMMU_FK_IN_PROGRESS, NO_GFN, NO_PFN, -1, -1,
		       "mmu_invalidate_in_progress is %ld at rest, expected 0 "
		       "(%s)",
		       inprog,
		       inprog < 0 ? "negative: an end() without a begin()" :
				    "a begin() without its end()");
	if (seq < log->last_seq)
		report(c, KVMMU_FK_SEQ, NO_GFN, NO_PFN, -1, -1,
		       "mmu_invalidate_seq went back from %lu to %lu",
		       log->last_seq, seq);
	else if (seq - log->last_seq != inval - log->last_invalidations)
		report(c, KVMMU_FK_SEQ, NO_GFN, NO_PFN, -1, -1,
		       "mmu_invalidate_seq advanced by %lu since the last "
		       "check, expected %llu (one per completed invalidation)",
		       seq - log->last_seq,
		       (unsigned long long)(inval - log->last_invalidations));

	if ((rs == INVALID_GPA) != (re == INVALID_GPA) ||
	    (rs != INVALID_GPA && rs >= re))
		report(c, KVMMU_FK_RANGE, NO_GFN, NO_PFN, -1, -1,
		       "invalidation range [%#llx, %#llx) at rest: expected "
		       "INVALID or a non-empty range",
		       (unsigned long long)rs, (unsigned long long)re);
	else if (rs == INVALID_GPA && seq != log->last_seq)
		report(c, KVMMU_FK_NO_RANGE_ADD, NO_GFN, NO_PFN, -1, -1,
		       "%lu invalidation(s) completed since the last check but "
		       "the range is INVALID: a begin() had no range_add()",
		       seq - log->last_seq);

	log->last_seq = seq;
	log->last_invalidations = inval;
}

/* --- memslots -------------------------------------------------------------- */

static struct kvmmu_memory_slot *gfn_node_slot(struct kvmmu_itree_node *n,
					       int idx)
{
	return n ? container_of(n, struct kvmmu_memory_slot, gfn_node[idx]) :
		   NULL;
}

/* One set: its own structure; Return: the number of slots walked. */
static unsigned long check_one_set(struct check_ctx *c, unsigned int as,
				   struct kvmmu_memslots *set)
{
	int idx = set->node_idx;
	struct kvmmu_memory_slot *s, *prev = NULL;
	struct kvmmu_itree_node *n;
	unsigned long count = 0;
	int rule;

	for (n = kvmmu_itree_first(&set->gfn_tree); n;
	     n = kvmmu_itree_next(n)) {
		s = gfn_node_slot(n, idx);
		count++;
		if (s->flags & KVMMU_MEMSLOT_INVALID)
			report(c, KVMMU_FK_MEMSLOTS, s->base_gfn, NO_PFN, s->id,
			       -1,
			       "slot of address space %u is INVALID at rest "
			       "(a delete or move did not finish)",
			       as);
		if (s->as_id != as || n->start != s->base_gfn ||
		    n->last != s->base_gfn + s->npages - 1 ||
		    s->id >= KVMMU_MEM_SLOTS_NUM || set->id_table[s->id] != s)
			report(c, KVMMU_FK_MEMSLOTS, s->base_gfn, NO_PFN, s->id,
			       -1,
			       "set %d of address space %u: slot (as %u, gfns "
			       "%#llx+%#llx) is indexed inconsistently (gfn "
			       "node [%#llx, %#llx], id table %s)",
			       idx, as, s->as_id,
			       (unsigned long long)s->base_gfn,
			       (unsigned long long)s->npages,
			       (unsigned long long)n->start,
			       (unsigned long long)n->last,
			       s->id < KVMMU_MEM_SLOTS_NUM &&
					       set->id_table[s->id] == s ?
				       "ok" :
				       "points elsewhere");
		if (prev && prev->base_gfn + prev->npages > s->base_gfn)
			report(c, KVMMU_FK_GPA_OVERLAP, s->base_gfn, NO_PFN,
			       s->id, -1,
			       "slots %u (gfns %#llx+%#llx) and %u (gfns "
			       "%#llx+%#llx) of address space %u overlap",
			       prev->id, (unsigned long long)prev->base_gfn,
			       (unsigned long long)prev->npages, s->id,
			       (unsigned long long)s->base_gfn,
			       (unsigned long long)s->npages, as);
		prev = s;
	}
	rule = kvmmu_memslot_index_check(&set->gfn_index, count);
	if (rule)
		report(c, KVMMU_FK_MEMSLOTS, NO_GFN, NO_PFN, -1, -1,
		       "set %d of address space %u: the gfn index breaks its "
		       "rule %d (kvmmu_memslot_index_check())",
		       idx, as, rule);
	if (count != set->nr_slots || count != set->gfn_tree.count ||
	    count != set->hva_tree.count)
		report(c, KVMMU_FK_MEMSLOTS, NO_GFN, NO_PFN, -1, -1,
		       "set %d of address space %u: %lu slots in the gfn "
		       "tree, but nr_slots %lu and %lu in the hva tree",
		       idx, as, count, set->nr_slots, set->hva_tree.count);
	return count;
}

static void check_memslots(struct check_ctx *c)
{
	struct kvmmu_vm *kvm = c->kvm;
	unsigned int as, nr_as = kvmmu_nr_as(kvm);

	for (as = 0; as < nr_as; as++) {
		struct kvmmu_memslots *act = kvmmu_memslots(kvm, as), *ina;
		struct kvmmu_itree_node *na, *ni;
		uint64_t gen;

		if (act != &kvm->__memslots[as][0] &&
		    act != &kvm->__memslots[as][1]) {
			report(c, KVMMU_FK_MEMSLOTS, NO_GFN, NO_PFN, -1, -1,
			       "address space %u: the active set is neither "
			       "of its two sets",
			       as);
			continue;
		}
		ina = act == &kvm->__memslots[as][0] ? &kvm->__memslots[as][1] :
						       &kvm->__memslots[as][0];

		/* §9.17 */
		gen = READ_ONCE(act->generation);
		if (gen & KVMMU_MEMSLOT_GEN_UPDATE_IN_PROGRESS)
			report(c, KVMMU_FK_GENERATION, NO_GFN, NO_PFN, -1, -1,
			       "address space %u: generation %#llx has the "
			       "update-in-progress bit set at rest",
			       as, (unsigned long long)gen);
		else if (gen % nr_as != as)
			report(c, KVMMU_FK_GENERATION, NO_GFN, NO_PFN, -1, -1,
			       "address space %u: generation %llu is not "
			       "%u mod %u (generations of address spaces "
			       "would collide)",
			       as, (unsigned long long)gen, as, nr_as);
		else if (gen < c->log->last_gen[as])
			report(c, KVMMU_FK_GENERATION, NO_GFN, NO_PFN, -1, -1,
			       "address space %u: generation went back from "
			       "%llu to %llu",
			       as, (unsigned long long)c->log->last_gen[as],
			       (unsigned long long)gen);
		if (!(gen & KVMMU_MEMSLOT_GEN_UPDATE_IN_PROGRESS))
			c->log->last_gen[as] = gen;

		/* §9.15, 9.16: each set, then the two side by side. */
		check_one_set(c, as, act);
		check_one_set(c, as, ina);
		na = kvmmu_itree_first(&act->gfn_tree);
		ni = kvmmu_itree_first(&ina->gfn_tree);
		while (na || ni) {
			struct kvmmu_memory_slot *sa, *si;

			sa = gfn_node_slot(na, act->node_idx);
			si = gfn_node_slot(ni, ina->node_idx);
			if (sa != si) {
				struct kvmmu_memory_slot *s = sa ? sa : si;

				report(c, KVMMU_FK_MEMSLOTS, s->base_gfn,
				       NO_PFN, s->id, -1,
				       "address space %u: the active and "
				       "inactive sets differ at rest (slot "
				       "%d vs %d)",
				       as, sa ? sa->id : -1, si ? si->id : -1);
				break;
			}
			na = kvmmu_itree_next(na);
			ni = kvmmu_itree_next(ni);
		}
	}
}

/* --- leaves and TLB entries ------------------------------------------------- */

static void collect_leaf(void *arg, gfn_t gfn, int level, kvmmu_spte_t *ptep,
			 kvmmu_spte_t e)
{
	struct check_ctx *c = arg;

	if (c->nr == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		struct leaf *l = realloc(c->leaves, cap * sizeof(*l));

		if (!l) {
			c->nomem = true;
			return;
		}
		c->leaves = l;
		c->cap = cap;
	}
	c->leaves[c->nr++] = (struct leaf){ gfn, e, level };
}

/*
 * The checks that apply to any translation gfn → pfn a vCPU can use (a
 * leaf, or a TLB entry): frame, host PTE, write permission, data sample.
 * @gen: the generation bits the translation recorded.
 */
static void check_translation(struct check_ctx *c, gfn_t gfn, kvmmu_pfn_t pfn,
			      uint32_t gen, bool writable, int vcpu,
			      const char *what)
{
	struct kvmmu_vm *kvm = c->kvm;
	struct kvmmu_memory_slot *slot;
	struct kvmmu_pte_info pte;
	struct kvmmu_page_info pi;
	bool mapped, is_ram;
	hva_t hva;
	int id;

	slot = kvmmu_gfn_to_memslot(kvmmu_memslots(kvm, 0), gfn);
	if (!slot || (slot->flags & KVMMU_MEMSLOT_INVALID)) {
		report(c, KVMMU_FK_OUTSIDE_SLOT, gfn, pfn, slot ? slot->id : -1,
		       vcpu,
		       "%s maps pfn %#llx for a gfn %s (left over from a "
		       "memslot delete or move?)",
		       what, (unsigned long long)pfn,
		       slot ? "of an INVALID slot" : "outside every memslot");
		return;
	}
	id = slot->id;
	hva = kvmmu_gfn_to_hva_memslot(slot, gfn);
	mapped = !kvmmu_mm_lookup_pte(kvm->mm, hva, &pte) && pte.present &&
		 !pte.protnone;
	is_ram = !kvmmu_page_info(kvm->host, pfn, &pi) &&
		 !(pi.flags & KVMMU_PG_DEVICE);

	/* Design invariant 1: no use-after-free (PFNMAP frames are uncounted). */
	if (is_ram && !(mapped && pte.special)) {
		if (pi.flags & KVMMU_PG_FREE) {
			report(c, KVMMU_FK_UAF, gfn, pfn, id, vcpu,
			       "%s maps a free frame (generation %#x when "
			       "mapped)",
			       what, gen);
			return;
		}
		if ((pi.gen ^ gen) & CHECK_GEN_MASK) {
			report(c, KVMMU_FK_UAF, gfn, pfn, id, vcpu,
			       "%s maps a reused frame: generation %#x when "
			       "mapped, %#x now",
			       what, gen & (unsigned int)CHECK_GEN_MASK,
			       pi.gen & (unsigned int)CHECK_GEN_MASK);
			return;
		}
	}

	/* §9.1: the host still maps this frame at the slot's hva. */
	if (!mapped || pte.pfn != pfn) {
		char found[48];

		if (!mapped)
			snprintf(found, sizeof(found), "%s",
				 pte.protnone ? "PROT_NONE" : "not present");
		else
			snprintf(found, sizeof(found), "pfn %#llx",
				 (unsigned long long)pte.pfn);
		report(c, KVMMU_FK_STALE_MAPPING, gfn, pfn, id, vcpu,
		       "%s maps pfn %#llx, but the host PTE at hva %#llx is %s",
		       what, (unsigned long long)pfn, (unsigned long long)hva,
		       found);
		return;
	}

	/* Design invariant 3, §9.25: writable only over unshared RW memory. */
	if (writable) {
		const char *why = NULL;

		if (!pte.write)
			why = "the host PTE is read-only";
		else if (slot->flags & KVMMU_MEM_READONLY)
			why = "the memslot is READONLY";
		else if (is_ram && (pi.flags & KVMMU_PG_ZERO))
			why = "the frame is the shared zero page";
		else if (is_ram && (pi.flags & KVMMU_PG_KSM))
			why = "the frame is KSM-shared";
		else if (is_ram && (pi.flags & KVMMU_PG_ANON) &&
			 pi.mapcount != 1)
			why = "the anonymous frame is mapped more than once "
			      "(COW-shared)";
		if (why) {
			report(c, KVMMU_FK_WRITABLE, gfn, pfn, id, vcpu,
			       "%s is writable, but %s (hva %#llx, mapcount "
			       "%d)",
			       what, why, (unsigned long long)hva,
			       is_ram ? pi.mapcount : 0);
			return;
		}
	}

	/* Design invariant 8, sampled: the same bytes both ways. */
	if (is_ram) {
		unsigned int off = (gfn * DATA_SAMPLE) % PAGE_SIZE;
		const uint8_t *frame = kvmmu_pfn_to_virt(kvm->host, pfn);
		uint8_t buf[DATA_SAMPLE];
		int r;

		r = kvmmu_mm_read(kvm->mm, hva + off, buf, sizeof(buf));
		if (r)
			report(c, KVMMU_FK_DATA, gfn, pfn, id, vcpu,
			       "%s: the host cannot read hva %#llx (%d) "
			       "although its PTE maps the frame",
			       what, (unsigned long long)(hva + off), r);
		else if (memcmp(buf, frame + off, sizeof(buf)))
			report(c, KVMMU_FK_DATA, gfn, pfn, id, vcpu,
			       "%s: bytes at page offset %#x differ between "
			       "the frame and a host read of hva %#llx",
			       what, off, (unsigned long long)(hva + off));
	}
}

static void check_leaves(struct check_ctx *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++) {
		const struct leaf *l = &c->leaves[i];
		gfn_t n = 1ull << (9 * (l->level - 1)), j;
		uint32_t gen = (l->e & S2_GEN_MASK) >> S2_GEN_SHIFT;

		/* A block leaf: every 4 KiB page of it; the generation
		 * describes its first frame only. */
		for (j = 0; j < n; j++)
			check_translation(c, l->gfn + j, s2_pfn(l->e) + j,
					  j ? kvmmu_page_gen(c->kvm->host,
							     s2_pfn(l->e) + j) :
					      gen,
					  l->e & S2_WRITE, -1, "stage-2 leaf");
	}
}

static void check_tlbs(struct check_ctx *c)
{
	struct kvmmu_vm *kvm = c->kvm;
	int v, nr = smp_load_acquire(&kvm->nr_vcpus);

	for (v = 0; v < nr; v++) {
		struct kvmmu_vcpu *vcpu = kvm->vcpus[v];
		unsigned long req;
		int i;

		/* A pending flush drops every entry before the next use. */
		req = __atomic_load_n(&vcpu->requests, __ATOMIC_ACQUIRE);
		if (req & (1ul << KVM_REQ_TLB_FLUSH))
			continue;
		for (i = 0; i < KVMMU_TLB_ENTRIES; i++) {
			const struct kvmmu_tlb_entry *e = &vcpu->tlb[i];
			kvmmu_spte_t s, *ptep;
			gfn_t gfn;
			int level = 1;

			if (!e->tag)
				continue;
			gfn = e->tag - 1;
			s = kvmmu_s2_walk(&kvm->s2, gfn, &ptep, &level);
			if (s2_is_leaf(s) &&
			    s2_pfn(s) + (gfn &
					 ((1ull << (9 * (level - 1))) - 1)) ==
				    e->pfn &&
			    !(((s & S2_GEN_MASK) >> S2_GEN_SHIFT) ^ e->gen) &&
			    (!e->writable || (s & S2_WRITE)))
				continue; /* agrees with the leaf: checked */
			report(c, KVMMU_FK_STALE_TLB, gfn, e->pfn, e->slot_id,
			       (int)vcpu->id,
			       "TLB entry (pfn %#llx, %s) outlived its "
			       "stage-2 leaf (%s) with no flush pending",
			       (unsigned long long)e->pfn,
			       e->writable ? "writable" : "read-only",
			       s2_is_leaf(s) ? "now a different one" :
					       "now none");
			check_translation(c, gfn, e->pfn, e->gen, e->writable,
					  (int)vcpu->id, "stale TLB entry");
		}
	}
}

/**
 * kvmmu_check_vm() - see check.h.
 */
int kvmmu_check_vm(struct kvmmu_vm *vm)
{
	struct check_ctx c = { .kvm = vm };
	unsigned long before;

	if (!vm || !vm->check_log)
		return -EINVAL;
	c.log = vm->check_log;
	before = kvmmu_check_nr_findings(vm);

	kvmmu_mutex_lock(&vm->slots_lock);
	check_warnings(&c);
	check_counters(&c);
	check_memslots(&c);

	kvmmu_read_lock(&vm->mmu_lock);
	kvmmu_s2_for_each_leaf(&vm->s2, collect_leaf, &c);
	kvmmu_read_unlock(&vm->mmu_lock);
	if (!c.nomem) {
		check_leaves(&c);
		check_tlbs(&c);
	}
	kvmmu_mutex_unlock(&vm->slots_lock);
	free(c.leaves);
	if (c.nomem)
		return -ENOMEM;
	return (int)min(kvmmu_check_nr_findings(vm) - before,
			(unsigned long)INT32_MAX);
}
