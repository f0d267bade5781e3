// SPDX-License-Identifier: MIT
/*
 * SRCU (src/kvm/srcu.c): nesting and the held-check, that a grace period
 * waits for the readers that entered before it and only for those, that it
 * is cheap with no reader, and the publish / synchronize / poison stress
 * that is the memslot updater's pattern: a reader inside a read-side
 * section must never see an object the updater has unpublished, waited
 * for and then poisoned.  Run under TSan, the stress test also checks that
 * the happens-before from each reader's last access to the updater's
 * poisoning is visible through the atomics alone.
 */
#include <pthread.h>
#include <sched.h>

#include <kvmmu/log.h>
#include <kvmmu/rng.h>
#include "kvm/internal.h"
#include "harness.h"

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

TEST(nesting_and_held)
{
	struct kvmmu_srcu a, b;
	int i1, i2, i3;

	kvmmu_warn_reset();
	kvmmu_srcu_init(&a);
	kvmmu_srcu_init(&b);
	ASSERT_FALSE(kvmmu_srcu_read_lock_held(&a));

	i1 = kvmmu_srcu_read_lock(&a);
	ASSERT_TRUE(i1 == 0 || i1 == 1);
	ASSERT_TRUE(kvmmu_srcu_read_lock_held(&a));
	ASSERT_FALSE(kvmmu_srcu_read_lock_held(&b));
	i2 = kvmmu_srcu_read_lock(&a); /* nested, same domain */
	i3 = kvmmu_srcu_read_lock(&b); /* nested, other domain */
	ASSERT_EQ(i2, i1);	       /* no grace period in between */
	ASSERT_TRUE(kvmmu_srcu_read_lock_held(&b));
	kvmmu_srcu_read_unlock(&b, i3);
	ASSERT_FALSE(kvmmu_srcu_read_lock_held(&b));
	kvmmu_srcu_read_unlock(&a, i2);
	ASSERT_TRUE(kvmmu_srcu_read_lock_held(&a)); /* still the outer one */
	kvmmu_srcu_read_unlock(&a, i1);
	ASSERT_FALSE(kvmmu_srcu_read_lock_held(&a));

	/* With no reader left, a grace period returns; the index flips. */
	kvmmu_synchronize_srcu(&a);
	i2 = kvmmu_srcu_read_lock(&a);
	ASSERT_NE(i2, i1);
	kvmmu_srcu_read_unlock(&a, i2);

	kvmmu_srcu_destroy(&a);
	kvmmu_srcu_destroy(&b);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

/* More domains nested on one thread than are tracked: still "held". */
TEST(held_beyond_tracked_domains)
{
	struct kvmmu_srcu s[8];
	int idx[8], i;

	for (i = 0; i < 8; i++)
		kvmmu_srcu_init(&s[i]);
	for (i = 0; i < 8; i++) {
		idx[i] = kvmmu_srcu_read_lock(&s[i]);
		ASSERT_TRUE(kvmmu_srcu_read_lock_held(&s[i]));
	}
	for (i = 7; i >= 0; i--) {
		ASSERT_TRUE(kvmmu_srcu_read_lock_held(&s[i]));
		kvmmu_srcu_read_unlock(&s[i], idx[i]);
	}
	for (i = 0; i < 8; i++) {
		ASSERT_FALSE(kvmmu_srcu_read_lock_held(&s[i]));
		kvmmu_srcu_destroy(&s[i]);
	}
}

TEST(unbalanced_destroy_warns)
{
	struct kvmmu_srcu s;
	int idx;

	kvmmu_warn_reset();
	kvmmu_srcu_init(&s);
	idx = kvmmu_srcu_read_lock(&s);
	kvmmu_srcu_destroy(&s);
	ASSERT_EQ(kvmmu_warn_count(), 1);
	kvmmu_srcu_read_unlock(&s, idx);
}

/* synchronize_srcu() with no reader: the memslot path does it per swap. */
TEST(synchronize_without_readers_is_cheap)
{
	struct kvmmu_srcu s;
	double t0, per;
	int i, n = 20000;

	kvmmu_srcu_init(&s);
	t0 = test_now();
	for (i = 0; i < n; i++)
		kvmmu_synchronize_srcu(&s);
	per = (test_now() - t0) / n * 1e9;
	TEST_LOG("synchronize_srcu without readers: %.0f ns", per);
	/* Well under 1 µs natively; the bound leaves room for sanitizers. */
	ASSERT_LT(per, 20000);
	kvmmu_srcu_destroy(&s);
}

/* --- a grace period against a reader held open ---------------------------- */

struct gp_ctx {
	struct kvmmu_srcu s;
	int entered;	  /* reader is inside (atomic) */
	int release;	  /* reader may leave (atomic) */
	int left;	  /* reader has left, set just before unlock (atomic) */
	int sync_done;	  /* synchronize returned (atomic) */
	int left_at_sync; /* value of @left when synchronize returned */
};

static void *gp_reader(void *arg)
{
	struct gp_ctx *c = arg;
	int idx = kvmmu_srcu_read_lock(&c->s);

	__atomic_store_n(&c->entered, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&c->release, __ATOMIC_SEQ_CST))
		sched_yield();
	__atomic_store_n(&c->left, 1, __ATOMIC_SEQ_CST);
	kvmmu_srcu_read_unlock(&c->s, idx);
	return NULL;
}

static void *gp_sync(void *arg)
{
	struct gp_ctx *c = arg;

	kvmmu_synchronize_srcu(&c->s);
	c->left_at_sync = __atomic_load_n(&c->left, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->sync_done, 1, __ATOMIC_SEQ_CST);
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

TEST(synchronize_waits_for_earlier_reader)
{
	struct gp_ctx c = { 0 };
	pthread_t r, w;

	kvmmu_srcu_init(&c.s);
	ASSERT_OK(pthread_create(&r, NULL, gp_reader, &c));
	wait_flag(&c.entered);
	ASSERT_OK(pthread_create(&w, NULL, gp_sync, &c));
	sleep_ms(100);
	/* The reader is still inside: the grace period must not be over. */
	EXPECT_EQ(__atomic_load_n(&c.sync_done, __ATOMIC_SEQ_CST), 0);
	__atomic_store_n(&c.release, 1, __ATOMIC_SEQ_CST);
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	ASSERT_EQ(c.sync_done, 1);
	ASSERT_EQ(c.left_at_sync, 1);
	kvmmu_srcu_destroy(&c.s);
}

/*
 * A reader that enters after the flip of a grace period in progress must
 * not hold that grace period up (else a stream of readers starves the
 * updater): reader A holds the grace period open, then B enters on the new
 * index and stays; releasing A alone must let synchronize return.
 */
TEST(later_reader_does_not_delay)
{
	struct gp_ctx a = { 0 };
	unsigned long idx0;
	pthread_t r, w;
	int ib;

	kvmmu_srcu_init(&a.s);
	ASSERT_OK(pthread_create(&r, NULL, gp_reader, &a));
	wait_flag(&a.entered);
	idx0 = __atomic_load_n(&a.s.idx, __ATOMIC_SEQ_CST);
	ASSERT_OK(pthread_create(&w, NULL, gp_sync, &a));
	/* Wait for the flip (the grace period now waits for A only). */
	{
		double t0 = test_now();

		while (__atomic_load_n(&a.s.idx, __ATOMIC_SEQ_CST) == idx0) {
			ASSERT_LT(test_now() - t0, 10.0);
			sched_yield();
		}
	}
	ib = kvmmu_srcu_read_lock(&a.s); /* B: this thread, new index */
	ASSERT_EQ(ib, (int)((idx0 + 1) & 1));
	__atomic_store_n(&a.release, 1, __ATOMIC_SEQ_CST);
	pthread_join(r, NULL);
	wait_flag(&a.sync_done); /* fails by timeout if B delays it */
	pthread_join(w, NULL);
	kvmmu_srcu_read_unlock(&a.s, ib);
	kvmmu_srcu_destroy(&a.s);
}

/* --- publish / synchronize / poison ---------------------------------------- */

#define STRESS_READERS 4
#define POISON	       0xdeaddeaddeaddeadULL
/* Poisoned objects are kept this long before free(), so that malloc does
 * not hand the same memory straight back as the next valid object. */
#define RETIRED	       256

struct obj {
	uint64_t a, b; /* b == ~a while valid */
	uint64_t serial;
};

struct stress {
	struct kvmmu_srcu s;
	struct obj *cur; /* published with release, read with acquire */
	int stop;	 /* atomic */
	uint64_t seed;
};

struct reader_res {
	struct stress *st;
	unsigned int id;
	uint64_t reads, seen_null, poisoned, torn, backwards;
};

static void *stress_reader(void *arg)
{
	struct reader_res *rr = arg;
	struct stress *st = rr->st;
	uint64_t last_serial = 0;
	struct kvmmu_rng rng;

	kvmmu_rng_seed(&rng, st->seed ^ (rr->id + 1));
	while (!__atomic_load_n(&st->stop, __ATOMIC_RELAXED)) {
		int idx = kvmmu_srcu_read_lock(&st->s);
		struct obj *o = smp_load_acquire(&st->cur);
		unsigned int k, spins = (unsigned int)kvmmu_rng_below(&rng, 4);

		if (!o) {
			rr->seen_null++;
		} else {
			if (o->serial < last_serial)
				rr->backwards++;
			last_serial = o->serial;
			/* Look at it several times, giving the updater time. */
			for (k = 0; k <= spins; k++) {
				uint64_t a = o->a, b = o->b;

				if (a == POISON || b == POISON)
					rr->poisoned++;
				else if (b != ~a)
					rr->torn++;
				if (kvmmu_rng_below(&rng, 8) == 0)
					sched_yield();
			}
			/* A nested section inside the outer one. */
			if (kvmmu_rng_below(&rng, 4) == 0) {
				int i2 = kvmmu_srcu_read_lock(&st->s);

				if (o->a == POISON)
					rr->poisoned++;
				kvmmu_srcu_read_unlock(&st->s, i2);
			}
		}
		kvmmu_srcu_read_unlock(&st->s, idx);
		rr->reads++;
	}
	return NULL;
}

TEST(readers_never_see_poison)
{
	struct reader_res rr[STRESS_READERS];
	pthread_t t[STRESS_READERS];
	double dur = test_duration(2.0), t0;
	struct obj *retired[RETIRED] = { NULL };
	struct stress st;
	uint64_t updates = 0, serial = 0, reads = 0;
	struct kvmmu_rng rng;
	unsigned int i;

	memset(&st, 0, sizeof(st));
	memset(rr, 0, sizeof(rr));
	st.seed = test_seed();
	kvmmu_rng_seed(&rng, st.seed);
	kvmmu_warn_reset();
	kvmmu_srcu_init(&st.s);
	for (i = 0; i < STRESS_READERS; i++) {
		rr[i].st = &st;
		rr[i].id = i;
		ASSERT_OK(pthread_create(&t[i], NULL, stress_reader, &rr[i]));
	}
	t0 = test_now();
	while (test_now() - t0 < dur) {
		struct obj *n = NULL, *old;

		/* One update in eight unpublishes instead of replacing. */
		if (kvmmu_rng_below(&rng, 8)) {
			n = malloc(sizeof(*n));
			ASSERT_PTR_NE(n, NULL);
			n->a = kvmmu_rng_next(&rng) & ~1ULL;
			n->b = ~n->a;
			n->serial = ++serial;
		}
		old = st.cur; /* only this thread writes it */
		smp_store_release(&st.cur, n);
		kvmmu_synchronize_srcu(&st.s);
		if (old) {
			/* Plain writes: TSan sees any reader not waited for. */
			old->a = POISON;
			old->b = POISON;
			free(retired[updates % RETIRED]);
			retired[updates % RETIRED] = old;
		}
		updates++;
	}
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < STRESS_READERS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(rr[i].poisoned, 0);
		EXPECT_EQ(rr[i].torn, 0);
		EXPECT_EQ(rr[i].backwards, 0);
		reads += rr[i].reads;
	}
	free(st.cur);
	for (i = 0; i < RETIRED; i++)
		free(retired[i]);
	TEST_LOG("%llu updates, %llu read sections",
		 (unsigned long long)updates, (unsigned long long)reads);
	ASSERT_GT(updates, 100);
	ASSERT_GT(reads, 1000);
	kvmmu_srcu_destroy(&st.s);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

TEST_HARNESS_MAIN
