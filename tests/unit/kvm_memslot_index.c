// SPDX-License-Identifier: MIT
/*
 * The gfn index of the memslot sets (src/kvm/memslot_index.c), white box.
 *
 * Every lookup is compared with a brute-force search of a reference copy
 * of the slots, in both sets of the address space (at rest they hold the
 * same slots, edited separately), through the index alone and through
 * kvmmu_gfn_to_memslot() with its hint; after every update the index's
 * own invariants (kvmmu_memslot_index_check()) are checked too.  The
 * updates come from random create / delete / move / flags sequences over
 * a gfn space with dense clusters (adjacent slots), gfn 0, the top of the
 * gfn space and huge slots, and from fills in ascending, descending and
 * shuffled order.
 * Also: the INVALID slot of a DELETE or MOVE is found while the update
 * waits for its grace period, and a failed allocation leaves both sets
 * untouched.
 */
#include <pthread.h>
#include <sched.h>

#include <kvmmu/rng.h>
#include "kvm_common.h"
#include "kvm/internal.h"

#define P	((uint64_t)PAGE_SIZE)
#define HVA	0x10000000ull /* every slot's hva: aliasing is allowed */
/* Slots end below this: gpa + size must not wrap, 2^64 included. */
#define GFN_TOP ((1ull << 52) - 1)
#define GEN_BIT (1ull << 63)

/* The reference: what each slot id of address space 0 should be. */
struct ref {
	bool present;
	gfn_t base;
	uint64_t npages;
	uint32_t flags;
};

struct ix_env {
	struct kt_env t;
	struct ref *ref;
	unsigned int nr_ids;
	struct kvmmu_rng rng;
};

static void ix_setup(struct ix_env *e, unsigned int nr_ids)
{
	kt_setup(&e->t, KVMMU_ARCH_X86, 0, 0, false);
	e->nr_ids = nr_ids;
	e->ref = calloc(nr_ids, sizeof(*e->ref));
	ASSERT_PTR_NE(e->ref, NULL);
	kvmmu_rng_seed(&e->rng, test_seed());
}

static void ix_teardown(struct ix_env *e)
{
	free(e->ref);
	kt_teardown(&e->t);
}

static int set_slot(struct ix_env *e, unsigned int id, uint32_t flags,
		    gfn_t base, uint64_t npages)
{
	return kt_slot_ret(&e->t, id, flags, base * P, npages * P,
			   npages ? HVA : 0);
}

/* The id whose reference slot holds @gfn, or -1: the brute force. */
static int ref_owner(const struct ix_env *e, gfn_t gfn)
{
	unsigned int id;

	for (id = 0; id < e->nr_ids; id++)
		if (e->ref[id].present && gfn >= e->ref[id].base &&
		    gfn - e->ref[id].base < e->ref[id].npages)
			return (int)id;
	return -1;
}

/* Would [base, base + npages) overlap a slot other than @id? */
static bool ref_overlaps(const struct ix_env *e, unsigned int id, gfn_t base,
			 uint64_t npages)
{
	unsigned int k;

	for (k = 0; k < e->nr_ids; k++)
		if (k != id && e->ref[k].present &&
		    base < e->ref[k].base + e->ref[k].npages &&
		    e->ref[k].base < base + npages)
			return true;
	return false;
}

/* The index's answer for @gfn in @slots, with the end check of a lookup. */
static struct kvmmu_memory_slot *index_lookup(struct kvmmu_memslots *slots,
					      gfn_t gfn)
{
	struct kvmmu_memory_slot *s =
		kvmmu_memslot_index_find(&slots->gfn_index, gfn);

	return s && gfn - s->base_gfn < s->npages ? s : NULL;
}

/* The index finds slot @id for @gfn in @slots. */
static void expect_id(struct kvmmu_memslots *slots, gfn_t gfn, unsigned int id)
{
	struct kvmmu_memory_slot *s = index_lookup(slots, gfn);

	ASSERT_PTR_NE(s, NULL);
	ASSERT_EQ(s->id, id);
}

/* @gfn resolves as the reference says, in both sets of address space 0. */
static void expect_gfn(struct ix_env *e, gfn_t gfn)
{
	int owner = ref_owner(e, gfn), i;

	for (i = 0; i < 2; i++) {
		struct kvmmu_memslots *slots = &e->t.vm->__memslots[0][i];
		struct kvmmu_memory_slot *s = index_lookup(slots, gfn);

		if (owner < 0) {
			if (s)
				TEST_LOG("gfn %#llx: set %d finds slot %u",
					 (unsigned long long)gfn, i, s->id);
			ASSERT_PTR_EQ(s, NULL);
		} else {
			if (!s || s->id != owner)
				TEST_LOG("gfn %#llx: set %d, want slot %d",
					 (unsigned long long)gfn, i, owner);
			ASSERT_PTR_NE(s, NULL);
			ASSERT_EQ(s->id, owner);
			ASSERT_EQ(s->base_gfn, e->ref[owner].base);
			ASSERT_EQ(s->npages, e->ref[owner].npages);
			ASSERT_EQ(s->flags, e->ref[owner].flags);
			ASSERT_FALSE(s->flags & KVMMU_MEMSLOT_INVALID);
		}
		ASSERT_PTR_EQ(kvmmu_gfn_to_memslot(slots, gfn), s);
	}
}

/* A slot's edges, and the gfns just outside them. */
static void expect_edges(struct ix_env *e, gfn_t base, uint64_t npages)
{
	expect_gfn(e, base);
	expect_gfn(e, base + npages - 1);
	expect_gfn(e, base + npages);
	if (base)
		expect_gfn(e, base - 1);
	if (npages > 2)
		expect_gfn(e, base + kvmmu_rng_below(&e->rng, npages));
}

/* Both sets: the index's invariants, and the slot count of the reference. */
static void expect_index_ok(struct ix_env *e)
{
	unsigned long n = 0;
	unsigned int id, i;

	for (id = 0; id < e->nr_ids; id++)
		n += e->ref[id].present;
	for (i = 0; i < 2; i++) {
		struct kvmmu_memslots *slots = &e->t.vm->__memslots[0][i];

		ASSERT_EQ(slots->nr_slots, n);
		ASSERT_EQ(kvmmu_memslot_index_check(&slots->gfn_index, n), 0);
	}
}

/* Every slot's edges, the bottom and the top of the gfn space. */
static void expect_all(struct ix_env *e)
{
	unsigned int id;

	expect_index_ok(e);
	for (id = 0; id < e->nr_ids; id++)
		if (e->ref[id].present)
			expect_edges(e, e->ref[id].base, e->ref[id].npages);
	expect_gfn(e, 0);
	expect_gfn(e, GFN_TOP - 1);
	expect_gfn(e, GFN_TOP);
	expect_gfn(e, ~0ull);
}

/* --- random sequences ---------------------------------------------------------- */

/* A random slot size: mostly small, sometimes large, rarely huge. */
static uint64_t random_npages(struct ix_env *e)
{
	uint64_t r = kvmmu_rng_below(&e->rng, 100);

	if (r < 70)
		return 1 + kvmmu_rng_below(&e->rng, 4);
	if (r < 97)
		return 1 + kvmmu_rng_below(&e->rng, 512);
	return 1 + kvmmu_rng_below(&e->rng, KVMMU_MEM_MAX_NR_PAGES);
}

/*
 * A random base for @npages pages: next to an existing slot (adjacent on
 * either side), in a dense cluster at the bottom or the top of the gfn
 * space, at gfn 0, ending at the very top, or anywhere.
 */
static gfn_t random_base(struct ix_env *e, uint64_t npages)
{
	unsigned int k = (unsigned int)kvmmu_rng_below(&e->rng, e->nr_ids);
	gfn_t max = GFN_TOP - npages;

	switch (kvmmu_rng_below(&e->rng, 8)) {
	case 0:
	case 1:
		if (e->ref[k].present &&
		    e->ref[k].base + e->ref[k].npages <= max)
			return e->ref[k].base + e->ref[k].npages;
		break;
	case 2:
		if (e->ref[k].present && e->ref[k].base >= npages)
			return e->ref[k].base - npages;
		break;
	case 3:
		return min(kvmmu_rng_below(&e->rng, 1u << 14), max);
	case 4:
		return max - min(kvmmu_rng_below(&e->rng, 1u << 14), max);
	case 5:
		return kvmmu_rng_chance(&e->rng, 500000) ? 0 : max;
	default:
		break;
	}
	return kvmmu_rng_below(&e->rng, max + 1);
}

/* One random update of slot @id, checked against the reference. */
static void random_update(struct ix_env *e, unsigned int id)
{
	struct ref *r = &e->ref[id], old = *r, new = *r;
	int want = 0;

	if (!r->present || kvmmu_rng_below(&e->rng, 10) < 4) {
		/* Create, or move: same size, new base. */
		new.present = true;
		new.npages = r->present ? r->npages : random_npages(e);
		new.base = random_base(e, new.npages);
		if (ref_overlaps(e, id, new.base, new.npages))
			want = -EEXIST;
	} else if (kvmmu_rng_below(&e->rng, 3)) {
		new.present = false; /* delete */
	} else {
		new.flags ^= KVMMU_MEM_LOG_DIRTY_PAGES; /* flags only */
	}
	ASSERT_ERRNO(set_slot(e, id, new.flags, new.base,
			      new.present ? new.npages : 0),
		     want);
	if (!want)
		*r = new;
	expect_index_ok(e);
	if (old.present)
		expect_edges(e, old.base, old.npages);
	if (new.present)
		expect_edges(e, new.base, new.npages);
}

/*
 * Random updates over many slots, each followed by lookups of the slots'
 * edges and of random gfns, in both sets; every 256 updates, the edges of
 * every slot and the index invariants.  A first fill makes the index big
 * enough for many chunks, so that splits, merges and rebalancing happen.
 */
TEST(random_updates_match_brute_force)
{
	unsigned int nr_ops = 20000, i, id;
	struct ix_env e;

	ix_setup(&e, 1500);
	for (id = 0; id < e.nr_ids; id++)
		random_update(&e, id);
	expect_all(&e);
	TEST_LOG("after the fill: %lu slots in %u chunks, L0 window %u",
		 e.t.vm->__memslots[0][0].nr_slots,
		 e.t.vm->__memslots[0][0].gfn_index.nr_chunks,
		 e.t.vm->__memslots[0][0].gfn_index.l0_window);
	for (i = 0; i < nr_ops; i++) {
		id = (unsigned int)kvmmu_rng_below(&e.rng, e.nr_ids);
		random_update(&e, id);
		expect_gfn(&e, kvmmu_rng_below(&e.rng, 1u << 15));
		expect_gfn(&e, kvmmu_rng_below(&e.rng, GFN_TOP));
		if (!(i % 256))
			expect_all(&e);
	}
	expect_all(&e);
	TEST_LOG("after %u updates: %lu slots in %u chunks, %llu swaps", nr_ops,
		 e.t.vm->__memslots[0][0].nr_slots,
		 e.t.vm->__memslots[0][0].gfn_index.nr_chunks,
		 (unsigned long long)kvmmu_vm_stat(e.t.vm, "memslot_updates"));
	/* Everything goes: the index ends empty in both sets. */
	for (id = 0; id < e.nr_ids; id++) {
		if (!e.ref[id].present)
			continue;
		e.ref[id].present = false;
		ASSERT_OK(set_slot(&e, id, 0, 0, 0));
	}
	expect_all(&e);
	ASSERT_EQ(e.t.vm->__memslots[0][0].gfn_index.nr_chunks, 0);
	ASSERT_EQ(e.t.vm->__memslots[0][1].gfn_index.nr_chunks, 0);
	ix_teardown(&e);
}

/*
 * One-page slots two gfns apart (a gap after each), filled in ascending,
 * descending or shuffled order, then deleted in shuffled order: inserts
 * at the front, back and middle of chunks, and removals that empty, merge
 * and rebalance them.
 */
static void fill_and_drain(int order)
{
	unsigned int n = 3000, i, *perm;
	struct ix_env e;

	ix_setup(&e, n);
	perm = calloc(n, sizeof(*perm));
	ASSERT_PTR_NE(perm, NULL);
	for (i = 0; i < n; i++)
		perm[i] = order < 0 ? n - 1 - i : i;
	for (i = n - 1; order == 0 && i > 0; i--) {
		unsigned int j = (unsigned int)kvmmu_rng_below(&e.rng, i + 1);
		unsigned int x = perm[i];

		perm[i] = perm[j];
		perm[j] = x;
	}
	for (i = 0; i < n; i++) {
		struct ref *r = &e.ref[perm[i]];

		*r = (struct ref){ true, 2 * (gfn_t)perm[i], 1, 0 };
		ASSERT_OK(set_slot(&e, perm[i], 0, r->base, 1));
		expect_index_ok(&e);
		if (!(i % 1000))
			expect_all(&e);
	}
	expect_all(&e);
	for (i = n - 1; i > 0; i--) {
		unsigned int j = (unsigned int)kvmmu_rng_below(&e.rng, i + 1);
		unsigned int x = perm[i];

		perm[i] = perm[j];
		perm[j] = x;
	}
	for (i = 0; i < n; i++) {
		e.ref[perm[i]].present = false;
		ASSERT_OK(set_slot(&e, perm[i], 0, 0, 0));
		expect_index_ok(&e);
		expect_edges(&e, 2 * (gfn_t)perm[i], 1);
		if (!(i % 1000))
			expect_all(&e);
	}
	expect_all(&e);
	free(perm);
	ix_teardown(&e);
}

TEST(ascending_fill_then_shuffled_drain)
{
	fill_and_drain(1);
}

TEST(descending_fill_then_shuffled_drain)
{
	fill_and_drain(-1);
}

TEST(shuffled_fill_then_shuffled_drain)
{
	fill_and_drain(0);
}

/*
 * Removing a chunk's first slot leaves its separator below the new first
 * slot; a slot created in that gap, ending past the separator, must move
 * it up, or the gfns past it would be looked for in the next chunk.
 */
TEST(slot_across_a_separator)
{
	const gfn_t K = KVMMU_MEMSLOT_CHUNK;
	unsigned int id, c;
	struct ix_env e;
	gfn_t sep;

	ix_setup(&e, 200);
	for (id = 0; id < 200; id++) {
		e.ref[id] = (struct ref){ true, 10 * (gfn_t)id, 2, 0 };
		ASSERT_OK(set_slot(&e, id, 0, 10 * (gfn_t)id, 2));
	}
	/*
	 * Ascending creates fill chunk 0 with slots 0..K-1 (K the chunk
	 * size); slot K starts chunk 1, at gfn 10 K.
	 */
	for (c = 0; c < 2; c++)
		ASSERT_EQ(e.t.vm->__memslots[0][c].gfn_index.l1[1], 10 * K);
	e.ref[K].present = false;
	ASSERT_OK(set_slot(&e, K, 0, 0, 0));
	sep = e.t.vm->__memslots[0][0].gfn_index.l1[1];
	TEST_LOG("separator after the delete: %llu", (unsigned long long)sep);
	expect_all(&e);
	/* Slot K again: [10 K - 6, 10 K + 5), below the separator, past it. */
	e.ref[K] = (struct ref){ true, 10 * K - 6, 11, 0 };
	ASSERT_OK(set_slot(&e, K, 0, 10 * K - 6, 11));
	expect_all(&e);
	expect_gfn(&e, 10 * K + 4);
	ix_teardown(&e);
}

/* --- INVALID slots during DELETE and MOVE ---------------------------------------- */

struct bg_update {
	struct ix_env *e;
	unsigned int id;
	gfn_t base;
	uint64_t npages;
	int ret, done; /* done: atomic */
};

static void *bg_update_thread(void *arg)
{
	struct bg_update *u = arg;

	u->ret = set_slot(u->e, u->id, 0, u->base, u->npages);
	__atomic_store_n(&u->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Wait until the first swap of an update of address space 0 published. */
static void wait_for_update_in_progress(struct kvmmu_vm *vm)
{
	double t0 = test_now();

	while (!(kvmmu_memslots_generation(vm, 0) & GEN_BIT)) {
		ASSERT_LT(test_now() - t0, 10.0);
		sched_yield();
	}
}

/*
 * Slot @id of 300 four-page slots is deleted (@to_npages 0) or moved to
 * @to_base by another thread while this one holds SRCU: during the first
 * grace period the published set finds an INVALID copy of the slot at its
 * old place and nothing at the new one, the set it replaced still finds
 * the slot itself, and every other slot is where it was, in both.
 */
static void invalid_during_update(gfn_t to_base, uint64_t to_npages)
{
	const unsigned int id = 150, n = 300;
	struct bg_update u = { 0 };
	struct kvmmu_memslots *act, *old;
	struct kvmmu_memory_slot *s;
	struct ix_env e;
	unsigned int k;
	pthread_t tu;
	int idx;
	gfn_t g;

	ix_setup(&e, n);
	for (k = 0; k < n; k++) {
		e.ref[k] = (struct ref){ true, 4 * (gfn_t)k, 4, 0 };
		ASSERT_OK(set_slot(&e, k, 0, 4 * (gfn_t)k, 4));
	}
	u = (struct bg_update){ &e, id, to_base, to_npages, 0, 0 };
	/* The update's first grace period waits for this reader. */
	idx = kvmmu_srcu_read_lock(&e.t.vm->srcu);
	ASSERT_OK(pthread_create(&tu, NULL, bg_update_thread, &u));
	wait_for_update_in_progress(e.t.vm);

	/* The acquire of kvmmu_memslots() orders the INVALID set's edits. */
	act = kvmmu_memslots(e.t.vm, 0);
	old = &e.t.vm->__memslots[0][act->node_idx ^ 1];
	for (g = 4 * id; g < 4 * id + 4; g++) {
		s = index_lookup(act, g);
		ASSERT_PTR_NE(s, NULL);
		ASSERT_TRUE(s->flags & KVMMU_MEMSLOT_INVALID);
		ASSERT_EQ(s->base_gfn, 4 * id);
		ASSERT_PTR_EQ(kvmmu_gfn_to_memslot(act, g), s);
		s = index_lookup(old, g);
		ASSERT_PTR_NE(s, NULL);
		ASSERT_FALSE(s->flags & KVMMU_MEMSLOT_INVALID);
		ASSERT_EQ(s->id, id);
	}
	if (to_npages) {
		ASSERT_PTR_EQ(index_lookup(act, to_base), NULL);
		ASSERT_PTR_EQ(index_lookup(old, to_base), NULL);
	}
	for (k = 0; k < n; k += 7) {
		if (k == id)
			continue;
		expect_id(act, 4 * (gfn_t)k + 3, k);
		expect_id(old, 4 * (gfn_t)k, k);
	}
	ASSERT_EQ(kvmmu_memslot_index_check(&act->gfn_index, n), 0);
	ASSERT_EQ(kvmmu_memslot_index_check(&old->gfn_index, n), 0);
	EXPECT_EQ(__atomic_load_n(&u.done, __ATOMIC_SEQ_CST), 0);
	kvmmu_srcu_read_unlock(&e.t.vm->srcu, idx);

	pthread_join(tu, NULL);
	ASSERT_OK(u.ret);
	e.ref[id].present = to_npages != 0;
	e.ref[id].base = to_base;
	expect_all(&e);
	ix_teardown(&e);
}

TEST(invalid_slot_found_during_delete)
{
	invalid_during_update(0, 0);
}

TEST(invalid_slot_found_during_move)
{
	/* Past the last slot (gfn 1200): the move crosses every chunk. */
	invalid_during_update(5000, 4);
}

/* --- allocation failure ------------------------------------------------------------ */

/*
 * An update that needs a chunk it cannot allocate fails with -ENOMEM
 * before it changes anything: no swap, both sets as they were, the slot
 * of a MOVE not left INVALID.  Slot 0 used the spare chunks of both sets,
 * so the next create or move has to allocate.
 */
TEST(enomem_leaves_both_sets_untouched)
{
	struct ix_env e;
	uint64_t gen;
	int set;

	ix_setup(&e, 4);
	e.ref[0] = (struct ref){ true, 0x100, 8, 0 };
	ASSERT_OK(set_slot(&e, 0, 0, 0x100, 8));
	for (set = 0; set < 2; set++) {
		struct kvmmu_memslot_index *ix =
			&e.t.vm->__memslots[0][set].gfn_index;

		ASSERT_PTR_EQ(ix->spare, NULL);
		gen = kvmmu_memslots_generation(e.t.vm, 0);
		ix->fail_alloc = 1;
		ASSERT_ERRNO(set_slot(&e, 1, 0, 0x200, 8), -ENOMEM);
		ix->fail_alloc = 1;
		ASSERT_ERRNO(set_slot(&e, 0, 0, 0x300, 8), -ENOMEM);
		ASSERT_EQ(kvmmu_memslots_generation(e.t.vm, 0), gen);
		expect_all(&e);
		expect_edges(&e, 0x200, 8);
		expect_edges(&e, 0x300, 8);
		ix->fail_alloc = 0;
	}
	/* And with memory, they go through. */
	e.ref[1] = (struct ref){ true, 0x200, 8, 0 };
	ASSERT_OK(set_slot(&e, 1, 0, 0x200, 8));
	e.ref[0].base = 0x300;
	ASSERT_OK(set_slot(&e, 0, 0, 0x300, 8));
	expect_all(&e);
	ix_teardown(&e);
}

TEST_HARNESS_MAIN
