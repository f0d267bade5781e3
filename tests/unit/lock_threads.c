// SPDX-License-Identifier: MIT
/*
 * The lock wrappers under real contention: plain (non-atomic) data guarded
 * by each kind of lock must come out exact, readers must never see a
 * writer's half-done update, a downgraded writer must not be overtaken by
 * another writer, and all of it must hold with the race-widening delay
 * hook installed.  Correct locking must produce no lockdep report.
 *
 * Run under TSan by make check (tests/unit/lock*): a missing or wrong
 * acquisition in the wrappers shows up as a data race on the plain fields.
 */
#include "harness.h"

#include <pthread.h>
#include <sched.h>

#include <kvmmu/lock.h>
#include <kvmmu/log.h>
#include <kvmmu/sched.h>

#define NTHREADS 4
#define ITERS	 20000

enum kind {
	K_MUTEX,
	K_SPIN,
	K_WRITE,
	K_MUTEX_TRY,
	K_WRITE_TRY
};

static struct shared {
	kvmmu_mutex_t mutex;
	kvmmu_spinlock_t spin;
	kvmmu_rwlock_t rw;
	long counter;	  /* under the lock of the test */
	long a, b;	  /* under rw: a == b outside write sections */
	int writers_left; /* __atomic */
} sh;

struct arg {
	enum kind kind;
	long iters;
	long reads, bad, overtaken;
	int depth_at_end;
};

static void init_shared(void)
{
	memset(&sh, 0, sizeof(sh));
	kvmmu_mutex_init(&sh.mutex, "counter mutex", 10);
	kvmmu_spin_lock_init(&sh.spin, "counter spin", 20);
	kvmmu_rwlock_init(&sh.rw, "pair rw", 30);
}

static void destroy_shared(void)
{
	kvmmu_mutex_destroy(&sh.mutex);
	kvmmu_spin_lock_destroy(&sh.spin);
	kvmmu_rwlock_destroy(&sh.rw);
}

static void *incrementer(void *p)
{
	struct arg *a = p;
	long i;

	for (i = 0; i < a->iters; i++) {
		switch (a->kind) {
		case K_MUTEX:
			kvmmu_mutex_lock(&sh.mutex);
			sh.counter++;
			kvmmu_mutex_unlock(&sh.mutex);
			break;
		case K_SPIN:
			kvmmu_spin_lock(&sh.spin);
			sh.counter++;
			kvmmu_spin_unlock(&sh.spin);
			break;
		case K_WRITE:
			kvmmu_write_lock(&sh.rw);
			sh.counter++;
			kvmmu_write_unlock(&sh.rw);
			break;
		case K_MUTEX_TRY:
			while (!kvmmu_mutex_trylock(&sh.mutex))
				sched_yield();
			sh.counter++;
			kvmmu_mutex_unlock(&sh.mutex);
			break;
		case K_WRITE_TRY:
			while (!kvmmu_write_trylock(&sh.rw))
				sched_yield();
			sh.counter++;
			kvmmu_write_unlock(&sh.rw);
			break;
		}
	}
	a->depth_at_end = kvmmu_lockdep_depth();
	return NULL;
}

static void run_counter(enum kind kind, long iters)
{
	struct arg args[NTHREADS];
	pthread_t t[NTHREADS];
	int i;

	init_shared();
	for (i = 0; i < NTHREADS; i++) {
		args[i] = (struct arg){ .kind = kind, .iters = iters };
		ASSERT_OK(pthread_create(&t[i], NULL, incrementer, &args[i]));
	}
	for (i = 0; i < NTHREADS; i++) {
		ASSERT_OK(pthread_join(t[i], NULL));
		ASSERT_EQ(args[i].depth_at_end, 0);
	}
	ASSERT_EQ(sh.counter, NTHREADS * iters);
	destroy_shared();
}

TEST(mutex_counter)
{
	kvmmu_warn_reset();
	run_counter(K_MUTEX, ITERS);
	run_counter(K_MUTEX_TRY, ITERS / 4);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

TEST(spinlock_counter)
{
	kvmmu_warn_reset();
	run_counter(K_SPIN, ITERS);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

TEST(write_lock_counter)
{
	kvmmu_warn_reset();
	run_counter(K_WRITE, ITERS);
	run_counter(K_WRITE_TRY, ITERS / 4);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

/*
 * Writers bump a and b with a yield in between; readers check a == b.
 * With @downgrade, a writer downgrades after a++ / b++ and checks that no
 * other writer changed the pair before it let go of the read hold.
 */
static void *pair_writer(void *p)
{
	struct arg *a = p;
	long i, v;

	for (i = 0; i < a->iters; i++) {
		kvmmu_write_lock(&sh.rw);
		sh.a++;
		if (i % 64 == 0)
			sched_yield();
		sh.b++;
		if (a->kind == K_WRITE && i % 2) {
			v = sh.a;
			kvmmu_write_downgrade(&sh.rw);
			lockdep_assert_held_read(&sh.rw);
			if (i % 32 == 1)
				sched_yield(); /* invite other writers */
			if (sh.a != v || sh.b != v)
				a->overtaken++;
			kvmmu_read_unlock(&sh.rw);
		} else {
			kvmmu_write_unlock(&sh.rw);
		}
	}
	__atomic_fetch_sub(&sh.writers_left, 1, __ATOMIC_RELEASE);
	a->depth_at_end = kvmmu_lockdep_depth();
	return NULL;
}

static void *pair_reader(void *p)
{
	struct arg *a = p;
	bool last = false;

	while (!last) {
		/* One more pass after the writers finish. */
		last = !__atomic_load_n(&sh.writers_left, __ATOMIC_ACQUIRE);
		if (a->kind == K_WRITE_TRY) {
			if (!kvmmu_read_trylock(&sh.rw)) {
				sched_yield();
				last = false;
				continue;
			}
		} else {
			kvmmu_read_lock(&sh.rw);
		}
		lockdep_assert_held_read(&sh.rw);
		if (sh.a != sh.b)
			a->bad++;
		a->reads++;
		kvmmu_read_unlock(&sh.rw);
	}
	a->depth_at_end = kvmmu_lockdep_depth();
	return NULL;
}

static void run_pairs(enum kind wkind, enum kind rkind, long iters)
{
	struct arg args[NTHREADS];
	pthread_t t[NTHREADS];
	long reads = 0;
	int i;

	init_shared();
	sh.writers_left = NTHREADS / 2;
	for (i = 0; i < NTHREADS; i++) {
		bool w = i % 2 == 0;

		args[i] = (struct arg){ .kind = w ? wkind : rkind,
					.iters = iters };
		ASSERT_OK(pthread_create(
			&t[i], NULL, w ? pair_writer : pair_reader, &args[i]));
	}
	for (i = 0; i < NTHREADS; i++) {
		ASSERT_OK(pthread_join(t[i], NULL));
		ASSERT_EQ(args[i].bad, 0);
		ASSERT_EQ(args[i].overtaken, 0);
		ASSERT_EQ(args[i].depth_at_end, 0);
		reads += args[i].reads;
	}
	ASSERT_EQ(sh.a, NTHREADS / 2 * iters);
	ASSERT_EQ(sh.b, sh.a);
	ASSERT_GT(reads, 0);
	destroy_shared();
}

TEST(rwlock_readers_see_consistent_pairs)
{
	kvmmu_warn_reset();
	run_pairs(K_MUTEX, K_MUTEX, ITERS / 4);	    /* plain write_lock */
	run_pairs(K_MUTEX, K_WRITE_TRY, ITERS / 4); /* read_trylock */
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

TEST(downgrade_not_overtaken)
{
	kvmmu_warn_reset();
	run_pairs(K_WRITE, K_MUTEX, ITERS / 4);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

TEST(random_delay_hook_exact)
{
	uint64_t calls;

	kvmmu_warn_reset();
	ASSERT_EQ(kvmmu_sched_hook_calls(), 0);
	kvmmu_sched_set_random_delay(200000, test_seed(), 2000);
	run_counter(K_MUTEX, ITERS / 4);
	run_counter(K_SPIN, ITERS / 4);
	run_pairs(K_WRITE, K_MUTEX, ITERS / 8);
	calls = kvmmu_sched_hook_calls();
	TEST_LOG("hook ran %" PRIu64 " times", calls);
#ifdef KVMMU_DEBUG
	/* At least one lock and one unlock point per counted increment. */
	ASSERT_GE(calls, 2 * 2 * NTHREADS * (ITERS / 4));
#else
	ASSERT_EQ(calls, 0);
#endif
	kvmmu_sched_set_random_delay(0, 0, 0);
	ASSERT_PTR_EQ(kvmmu_sched_set_hook(NULL), NULL);
	run_counter(K_MUTEX, 100);
	ASSERT_EQ(kvmmu_sched_hook_calls(), calls); /* removed */
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

static unsigned long points[KVMMU_SP_NR];
static const volatile void *last_addr;

static void counting_hook(enum kvmmu_sched_point p, const volatile void *addr)
{
	__atomic_fetch_add(&points[p], 1, __ATOMIC_RELAXED);
	__atomic_store_n(&last_addr, addr, __ATOMIC_RELAXED);
}

/* Every lock operation is one LOCK or UNLOCK point, at the lock. */
TEST(hook_sees_lock_points)
{
	kvmmu_mutex_t m;
	kvmmu_rwlock_t rw;
	int i;

	kvmmu_mutex_init(&m, "m", 10);
	kvmmu_rwlock_init(&rw, "rw", 20);
	ASSERT_PTR_EQ(kvmmu_sched_set_hook(counting_hook), NULL);
	for (i = 0; i < 10; i++) {
		kvmmu_mutex_lock(&m);
		kvmmu_mutex_unlock(&m);
	}
#ifdef KVMMU_DEBUG
	ASSERT_PTR_EQ(last_addr, &m);
#endif
	kvmmu_read_lock(&rw);
	kvmmu_read_unlock(&rw);
	ASSERT_PTR_EQ(kvmmu_sched_set_hook(NULL), counting_hook);
	kvmmu_mutex_lock(&m); /* not counted any more */
	kvmmu_mutex_unlock(&m);
#ifdef KVMMU_DEBUG
	ASSERT_EQ(points[KVMMU_SP_LOCK], 11);
	ASSERT_EQ(points[KVMMU_SP_UNLOCK], 11);
	ASSERT_PTR_EQ(last_addr, &rw);
#else
	ASSERT_EQ(points[KVMMU_SP_LOCK], 0);
	ASSERT_EQ(points[KVMMU_SP_UNLOCK], 0);
#endif
	kvmmu_mutex_destroy(&m);
	kvmmu_rwlock_destroy(&rw);
}

TEST_HARNESS_MAIN
