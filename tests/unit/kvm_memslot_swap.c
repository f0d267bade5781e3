// SPDX-License-Identifier: MIT
/*
 * Memslots through the public API (kvm.h), part two: the slot limits of
 * x86 and arm64, address spaces, generations (§2.4, invariant 17), readers
 * racing updates (under TSan this checks the publication and freeing of
 * slots), and a memslot swap waiting for an MMU-notifier invalidation in
 * flight (invariant 10).  The §2.2 checks and the four kinds of change are
 * in kvm_memslot.c.
 *
 * The last test is white box (it includes kvm/internal.h): it holds the
 * VM's SRCU read side open to watch a DELETE in its INVALID phase
 * (invariant 15).
 */
#include <pthread.h>
#include <sched.h>

#include <kvmmu/rng.h>
#include "harness.h"

#include "kvm_memslot_common.h"

#define GEN_BIT (1ull << 63) /* a generation's update-in-progress bit */

/* --- limits, address spaces, generations ------------------------------------------ */

static void fill_one_page_slots(struct env *e, unsigned int as, unsigned int n)
{
	double t0 = test_now();
	unsigned int id;

	for (id = 0; id < n; id++) {
		int r = set2(e, (as << 16) | id, 0, (uint64_t)id * P, P,
			     e->base + (uint64_t)id * P);

		if (r) {
			TEST_LOG("slot %u: %s (%s)", id, test_errname(r),
				 reason);
			ASSERT_OK(r);
		}
	}
	TEST_LOG("%u slots in %.3f s", n, test_now() - t0);
}

TEST(x86_32764_user_slots)
{
	struct kvmmu_rng rng;
	struct env e;
	unsigned int i;

	env_setup_pages(&e, KVMMU_ARCH_X86, 32764);
	ASSERT_EQ(kvmmu_vm_user_mem_slots(e.vm), 32764);
	ASSERT_EQ(kvmmu_vm_nr_address_spaces(e.vm), 2);
	fill_one_page_slots(&e, 0, 32764);
	/* One more id: 32764 is the first internal slot. */
	ASSERT_ERRNO(set2(&e, 32764, 0, 32764 * P, P, e.base), -EINVAL);
	ASSERT_TRUE(strstr(reason, "not a user slot"));
	ASSERT_ERRNO(set2(&e, 32766, 0, 32766 * P, P, e.base), -EINVAL);

	kvmmu_rng_seed(&rng, test_seed());
	for (i = 0; i < 20000; i++) {
		gfn_t g = kvmmu_rng_below(&rng, 32764);

		expect_slot(&e, 0, g, (unsigned int)g, g, 1, e.base + g * P, 0);
	}
	expect_none(&e, 0, 32764);
	/* Address space 1 is untouched by all that. */
	expect_none(&e, 1, 0);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 1), 1);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), 2ull * 32764);

	/* Delete every other slot; the rest still resolve. */
	for (i = 0; i < 32764; i += 2)
		ASSERT_OK(set2(&e, i, 0, 0, 0, 0));
	for (i = 0; i < 2000; i++) {
		gfn_t g = kvmmu_rng_below(&rng, 32764);

		if (g & 1)
			expect_slot(&e, 0, g, (unsigned int)g, g, 1,
				    e.base + g * P, 0);
		else
			expect_none(&e, 0, g);
	}
	env_teardown(&e);
}

TEST(arm64_one_address_space_32767_slots)
{
	struct kvmmu_memslot_info info;
	struct env e;

	env_setup(&e, KVMMU_ARCH_ARM64);
	ASSERT_EQ(kvmmu_vm_nr_address_spaces(e.vm), 1);
	ASSERT_EQ(kvmmu_vm_user_mem_slots(e.vm), 32767);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), 0);
	/* No internal slots: 32764..32766 are user slots. */
	ASSERT_OK(set2(&e, 32766, 0, 0x100000, P, e.base));
	expect_slot(&e, 0, 0x100, 32766, 0x100, 1, e.base, 0);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), 1); /* +1 per swap */
	ASSERT_ERRNO(set2(&e, 32767, 0, 0x200000, P, e.base), -EINVAL);
	ASSERT_TRUE(strstr(reason, "not a user slot"));
	/* There is no address space 1. */
	ASSERT_ERRNO(set2(&e, (1u << 16) | 0, 0, 0x200000, P, e.base), -EINVAL);
	ASSERT_TRUE(strstr(reason, "address space"));
	ASSERT_ERRNO(kvmmu_gfn_to_memslot_info(e.vm, 1, 0x100, &info), -EINVAL);
	ASSERT_OK(set2(&e, 32766, 0, 0, 0, 0));
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), 3);
	env_teardown(&e);
}

TEST(x86_address_space_1_is_independent)
{
	struct env e;

	env_setup(&e, KVMMU_ARCH_X86);
	ASSERT_OK(set2(&e, 0, 0, 0x100000, 4 * P, e.base));
	/* Same id, same gpa, other address space: no conflict. */
	ASSERT_OK(set2(&e, (1u << 16) | 0, KVMMU_MEM_READONLY, 0x100000, 8 * P,
		       e.base + 8 * P));
	expect_slot(&e, 0, 0x103, 0, 0x100, 4, e.base, 0);
	expect_none(&e, 0, 0x104);
	expect_slot(&e, 1, 0x107, 0, 0x100, 8, e.base + 8 * P,
		    KVMMU_MEM_READONLY);
	/* GPA overlap is per address space. */
	ASSERT_ERRNO(set2(&e, (1u << 16) | 1, 0, 0x104000, P, e.base), -EEXIST);
	ASSERT_OK(set2(&e, 1, 0, 0x104000, P, e.base));
	/* Deleting AS 0's slot 0 leaves AS 1's slot 0. */
	ASSERT_OK(set2(&e, 0, 0, 0, 0, 0));
	expect_none(&e, 0, 0x100);
	expect_slot(&e, 1, 0x100, 0, 0x100, 8, e.base + 8 * P,
		    KVMMU_MEM_READONLY);
	env_teardown(&e);
}

/* §2.4, invariant 17: +nr_address_spaces per swap, bit 63 clear after. */
TEST(generation_per_swap)
{
	uint64_t g0, g1, u;
	struct env e;

	env_setup(&e, KVMMU_ARCH_X86);
	g0 = kvmmu_memslots_generation(e.vm, 0);
	g1 = kvmmu_memslots_generation(e.vm, 1);
	ASSERT_EQ(g0, 0); /* generation = as_id at creation */
	ASSERT_EQ(g1, 1);
	u = updates(&e);

	ASSERT_OK(set2(&e, 0, 0, 0x100000, P, e.base)); /* CREATE: 1 swap */
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), g0 + 2);
	ASSERT_OK(set2(&e, 0, KVMMU_MEM_LOG_DIRTY_PAGES, 0x100000, P,
		       e.base)); /* FLAGS_ONLY: 1 */
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), g0 + 4);
	ASSERT_OK(set2(&e, 0, KVMMU_MEM_LOG_DIRTY_PAGES, 0x200000, P,
		       e.base)); /* MOVE: 2 */
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), g0 + 8);
	ASSERT_OK(set2(&e, 0, 0, 0, 0, 0)); /* DELETE: 2 */
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), g0 + 12);
	ASSERT_EQ(updates(&e), u + 6);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 1), g1);

	ASSERT_OK(set2(&e, (1u << 16) | 3, 0, 0x100000, P, e.base));
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 1), g1 + 2);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), g0 + 12);
	/* Even for AS 0, odd for AS 1: never equal; bit 63 clear at rest. */
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0) & (GEN_BIT | 1), 0);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 1) & (GEN_BIT | 1), 1);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 2), 0); /* no such AS */
	env_teardown(&e);
}

/* --- readers racing updates ------------------------------------------------------- */

/*
 * Readers look gfns up (under SRCU, through the public call) while the
 * main thread moves, re-flags, deletes and re-creates slots.  Slot k has
 * 4 pages, lives at gfn 0x1000 + 16k or 0x8000 + 16k, and always maps
 * hva base + 4k pages: whatever a reader finds must be one of those
 * states, and the generation it sees never goes backwards.  Under TSan
 * this also checks the publication of the sets and the freeing of slots.
 */
#define RACE_SLOTS 8

struct race {
	struct env *e;
	int stop; /* atomic */
	uint64_t seed;
};

struct race_res {
	struct race *r;
	unsigned int id;
	uint64_t lookups, found, bad, gen_back, gen_parity;
};

static void *race_reader(void *arg)
{
	struct race_res *rr = arg;
	struct env *e = rr->r->e;
	struct kvmmu_memslot_info info;
	uint64_t last_gen = 0;
	struct kvmmu_rng rng;

	kvmmu_rng_seed(&rng, rr->r->seed + rr->id);
	while (!__atomic_load_n(&rr->r->stop, __ATOMIC_RELAXED)) {
		unsigned int k =
			(unsigned int)kvmmu_rng_below(&rng, RACE_SLOTS);
		gfn_t base = kvmmu_rng_below(&rng, 2) ? 0x8000 : 0x1000;
		gfn_t gfn = base + 16 * k + kvmmu_rng_below(&rng, 6);
		uint64_t gen = kvmmu_memslots_generation(e->vm, 0);

		if ((gen & ~GEN_BIT) < last_gen)
			rr->gen_back++;
		if (gen & 1)
			rr->gen_parity++;
		last_gen = gen & ~GEN_BIT;
		rr->lookups++;
		if (kvmmu_gfn_to_memslot_info(e->vm, 0, gfn, &info))
			continue;
		rr->found++;
		if (info.id != k || info.as_id != 0 || info.npages != 4 ||
		    (info.base_gfn != 0x1000 + 16 * k &&
		     info.base_gfn != 0x8000 + 16 * k) ||
		    gfn < info.base_gfn || gfn >= info.base_gfn + 4 ||
		    info.userspace_addr != e->base + 4 * k * P ||
		    (info.flags & ~KVMMU_MEM_LOG_DIRTY_PAGES))
			rr->bad++;
	}
	return NULL;
}

TEST(concurrent_lookups_during_updates)
{
	struct race_res rr[3];
	pthread_t t[3];
	double dur = test_duration(1.0), t0;
	uint64_t ops = 0, found = 0;
	gfn_t where[RACE_SLOTS];
	bool present[RACE_SLOTS];
	uint32_t flags[RACE_SLOTS];
	struct kvmmu_rng rng;
	struct race r;
	struct env e;
	unsigned int i, k;

	env_setup(&e, KVMMU_ARCH_X86);
	memset(&r, 0, sizeof(r));
	memset(rr, 0, sizeof(rr));
	r.e = &e;
	r.seed = test_seed();
	kvmmu_rng_seed(&rng, r.seed);
	for (k = 0; k < RACE_SLOTS; k++) {
		where[k] = 0x1000 + 16 * k;
		present[k] = true;
		flags[k] = 0;
		ASSERT_OK(set2(&e, k, 0, where[k] * P, 4 * P,
			       e.base + 4 * k * P));
	}
	for (i = 0; i < 3; i++) {
		rr[i].r = &r;
		rr[i].id = i;
		ASSERT_OK(pthread_create(&t[i], NULL, race_reader, &rr[i]));
	}
	t0 = test_now();
	while (test_now() - t0 < dur) {
		k = (unsigned int)kvmmu_rng_below(&rng, RACE_SLOTS);
		switch (kvmmu_rng_below(&rng, 3)) {
		case 0: /* move, or create where it is not */
			where[k] = where[k] >= 0x8000 ? 0x1000 + 16 * k :
							0x8000 + 16 * k;
			present[k] = true;
			break;
		case 1: /* toggle logging (FLAGS_ONLY), or create */
			flags[k] ^= KVMMU_MEM_LOG_DIRTY_PAGES;
			present[k] = true;
			break;
		default: /* delete, or create */
			present[k] = !present[k];
			break;
		}
		ASSERT_OK(set2(&e, k, flags[k], where[k] * P,
			       present[k] ? 4 * P : 0, e.base + 4 * k * P));
		ops++;
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(rr[i].bad, 0);
		EXPECT_EQ(rr[i].gen_back, 0);
		EXPECT_EQ(rr[i].gen_parity, 0);
		found += rr[i].found;
	}
	TEST_LOG("%llu updates, %llu lookups found a slot",
		 (unsigned long long)ops, (unsigned long long)found);
	ASSERT_GT(ops, 50);
	ASSERT_GT(found, 100);
	for (k = 0; k < RACE_SLOTS; k++) {
		if (present[k])
			expect_slot(&e, 0, where[k] + 3, k, where[k], 4,
				    e.base + 4 * k * P, flags[k]);
		else
			expect_none(&e, 0, where[k]);
	}
	env_teardown(&e);
}

/* --- a swap waits for an invalidation in flight (invariant 10) --------------- */

/*
 * A second notifier subscriber, registered after the VM's (so it runs
 * after KVM's invalidate_range_start), that blocks in its own start()
 * until told to go on: KVM's invalidation is then between start() and
 * end(), and a memslot update must not publish.
 */
struct blocker {
	struct kvmmu_mmu_notifier sub;
	int armed, inside, go; /* atomics */
};

static int blocker_start(struct kvmmu_mmu_notifier *sub,
			 const struct kvmmu_mmu_notifier_range *range)
{
	struct blocker *b = container_of(sub, struct blocker, sub);

	if (!__atomic_load_n(&b->armed, __ATOMIC_SEQ_CST))
		return 0;
	__atomic_store_n(&b->inside, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&b->go, __ATOMIC_SEQ_CST))
		sched_yield();
	return 0;
}

static const struct kvmmu_mmu_notifier_ops blocker_ops = {
	.invalidate_range_start = blocker_start,
};

struct bg_op {
	struct env *e;
	int ret;
	int done; /* atomic */
};

static void *bg_munmap(void *arg)
{
	struct bg_op *op = arg;

	op->ret = kvmmu_munmap(op->e->mm, op->e->base + 32 * P, 4 * P);
	__atomic_store_n(&op->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *bg_create(void *arg)
{
	struct bg_op *op = arg;
	struct kvmmu_userspace_memory_region2 r = {
		.slot = 5,
		.guest_phys_addr = 0x500000,
		.memory_size = P,
		.userspace_addr = op->e->base,
	};

	op->ret = kvmmu_set_user_memory_region2(op->e->vm, &r);
	__atomic_store_n(&op->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void wait_flag(int *flag)
{
	double t0 = test_now();

	while (!__atomic_load_n(flag, __ATOMIC_SEQ_CST)) {
		ASSERT_LT(test_now() - t0, 10.0);
		sched_yield();
	}
}

TEST(swap_waits_for_invalidation_in_flight)
{
	struct bg_op unmap = { 0 }, create = { 0 };
	struct blocker b = { .sub.ops = &blocker_ops };
	struct timespec ms50 = { 0, 50000000 };
	pthread_t tu, tc;
	struct env e;

	env_setup(&e, KVMMU_ARCH_X86);
	unmap.e = create.e = &e;
	/* A slot over the range the munmap hits, so KVM sees the event. */
	ASSERT_OK(set2(&e, 0, 0, 0x100000, ENV_PAGES * P, e.base));
	ASSERT_OK(kvmmu_mmu_notifier_register(&b.sub, e.mm));
	__atomic_store_n(&b.armed, 1, __ATOMIC_SEQ_CST);

	ASSERT_OK(pthread_create(&tu, NULL, bg_munmap, &unmap));
	wait_flag(&b.inside); /* KVM's start() has run, end() has not */
	ASSERT_OK(pthread_create(&tc, NULL, bg_create, &create));
	nanosleep(&ms50, NULL);
	/* The update must still be waiting, unpublished. */
	EXPECT_EQ(__atomic_load_n(&create.done, __ATOMIC_SEQ_CST), 0);
	expect_none(&e, 0, 0x500);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), 2);

	__atomic_store_n(&b.go, 1, __ATOMIC_SEQ_CST);
	pthread_join(tu, NULL);
	pthread_join(tc, NULL);
	ASSERT_OK(unmap.ret);
	ASSERT_OK(create.ret);
	expect_slot(&e, 0, 0x500, 5, 0x500, 1, e.base, 0);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), 4);
	__atomic_store_n(&b.armed, 0, __ATOMIC_SEQ_CST);
	kvmmu_mmu_notifier_unregister(&b.sub, e.mm);
	env_teardown(&e);
}

/* --- white box --------------------------------------------------------------------- */

#include "kvm/internal.h"

struct srcu_holder {
	struct kvmmu_vm *vm;
	int inside, release; /* atomics */
};

static void *hold_srcu(void *arg)
{
	struct srcu_holder *h = arg;
	int idx = kvmmu_srcu_read_lock(&h->vm->srcu);

	__atomic_store_n(&h->inside, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&h->release, __ATOMIC_SEQ_CST))
		sched_yield();
	kvmmu_srcu_read_unlock(&h->vm->srcu, idx);
	return NULL;
}

static void *bg_delete(void *arg)
{
	struct bg_op *op = arg;
	struct kvmmu_userspace_memory_region2 r = { .slot = 0 };

	op->ret = kvmmu_set_user_memory_region2(op->e->vm, &r);
	__atomic_store_n(&op->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * Invariant 15 and §2.4: while a DELETE waits for the grace period of its
 * first swap, the active set holds the INVALID copy (lookups fail) and the
 * generation has the update-in-progress bit.
 */
TEST(delete_publishes_invalid_first)
{
	struct srcu_holder h = { 0 };
	struct bg_op del = { 0 };
	struct kvmmu_memory_slot *slot;
	pthread_t th, td;
	struct env e;
	double t0;
	int idx;

	env_setup(&e, KVMMU_ARCH_X86);
	del.e = &e;
	h.vm = e.vm;
	ASSERT_OK(set2(&e, 0, 0, 0x100000, 4 * P, e.base));
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), 2);

	ASSERT_OK(pthread_create(&th, NULL, hold_srcu, &h));
	wait_flag(&h.inside);
	ASSERT_OK(pthread_create(&td, NULL, bg_delete, &del));
	t0 = test_now();
	while (!(kvmmu_memslots_generation(e.vm, 0) & GEN_BIT)) {
		ASSERT_LT(test_now() - t0, 10.0);
		sched_yield();
	}
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), GEN_BIT | 2);
	expect_none(&e, 0, 0x100);
	idx = kvmmu_srcu_read_lock(&e.vm->srcu);
	slot = kvmmu_gfn_to_memslot(kvmmu_memslots(e.vm, 0), 0x102);
	ASSERT_PTR_NE(slot, NULL);
	ASSERT_TRUE(slot->flags & KVMMU_MEMSLOT_INVALID);
	ASSERT_EQ(slot->base_gfn, 0x100);
	kvmmu_srcu_read_unlock(&e.vm->srcu, idx);
	EXPECT_EQ(__atomic_load_n(&del.done, __ATOMIC_SEQ_CST), 0);

	__atomic_store_n(&h.release, 1, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	pthread_join(td, NULL);
	ASSERT_OK(del.ret);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), 6);
	idx = kvmmu_srcu_read_lock(&e.vm->srcu);
	ASSERT_PTR_EQ(kvmmu_gfn_to_memslot(kvmmu_memslots(e.vm, 0), 0x102),
		      NULL);
	kvmmu_srcu_read_unlock(&e.vm->srcu, idx);
	env_teardown(&e);
}

TEST_HARNESS_MAIN
