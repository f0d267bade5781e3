// SPDX-License-Identifier: MIT
/*
 * Lockdep: every kind of violation is detected and reported with the right
 * locks, correct code is not reported, and the bookkeeping (depth, out of
 * order unlocks, downgrade, per-thread lists) is exact.
 *
 * All cases run in one thread without blocking: an "inversion" is two
 * different locks taken in the wrong rank order, which lockdep reports but
 * which cannot deadlock alone.  The one real self-deadlock (taking a held
 * mutex again) runs in a forked child that must abort after reporting.
 */
#include "harness.h"

#include <fcntl.h>
#include <pthread.h>

#include <kvmmu/lock.h>
#include <kvmmu/log.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(UNDER_TSAN)
#define UNDER_TSAN 1
#endif

#ifdef UNDER_TSAN
const char *__tsan_default_options(void);
/*
 * This program takes locks in the wrong order on purpose (one thread, no
 * blocking) to see lockdep report it; TSan's own lock-order detector would
 * report the same inversion and fail the run.  lock_threads keeps it on.
 */
const char *__tsan_default_options(void)
{
	return "detect_deadlocks=0";
}
#endif

struct report {
	enum kvmmu_lockdep_violation v;
	const struct kvmmu_lockdep_map *taking, *held;
	const char *file;
	int line;
};

#define MAXREP 64

static struct report reps[MAXREP];
static int nreps;
static int report_fd = -1; /* child: also write the violation here */

static void reporter(enum kvmmu_lockdep_violation v,
		     const struct kvmmu_lockdep_map *taking,
		     const struct kvmmu_lockdep_map *held, const char *file,
		     int line)
{
	if (nreps < MAXREP)
		reps[nreps] = (struct report){ v, taking, held, file, line };
	nreps++;
	if (report_fd >= 0) {
		unsigned char b = (unsigned char)v;

		if (write(report_fd, &b, 1) != 1)
			_exit(99);
	}
}

static void install(void)
{
	nreps = 0;
	kvmmu_lockdep_set_reporter(reporter);
}

#define EXPECT_REPORT(i, kind, tk, hd)             \
	do {                                       \
		ASSERT_GT(nreps, (i));             \
		ASSERT_EQ(reps[i].v, kind);        \
		ASSERT_PTR_EQ(reps[i].taking, tk); \
		ASSERT_PTR_EQ(reps[i].held, hd);   \
	} while (0)

static void require_debug(void)
{
#ifndef KVMMU_DEBUG
	SKIP("release build");
#endif
}

struct try_arg {
	kvmmu_rwlock_t *rw;
	bool write, taken;
};

static void *try_fn(void *p)
{
	struct try_arg *a = p;

	if (a->write) {
		if (kvmmu_write_trylock(a->rw)) {
			a->taken = true;
			kvmmu_write_unlock(a->rw);
		}
	} else if (kvmmu_read_trylock(a->rw)) {
		a->taken = true;
		kvmmu_read_unlock(a->rw);
	}
	return NULL;
}

/*
 * Could another thread take @rw (and release it at once)?  Its lockdep
 * list is its own, so this looks beneath the caller's bookkeeping.
 */
static bool other_thread_trylock(kvmmu_rwlock_t *rw, bool write)
{
	struct try_arg a = { .rw = rw, .write = write };
	pthread_t t;

	ASSERT_OK(pthread_create(&t, NULL, try_fn, &a));
	ASSERT_OK(pthread_join(t, NULL));
	return a.taken;
}

/*
 * Both builds: correct use is never reported.  In release builds lockdep is
 * compiled out, so even violations are silent and the depth stays 0.
 */
TEST(correct_use_is_silent)
{
	kvmmu_mutex_t slots, a80;
	kvmmu_rwlock_t mmap, child;
	kvmmu_spinlock_t ptl;

	kvmmu_mutex_init(&slots, "slots_lock", 10);
	kvmmu_rwlock_init(&mmap, "mmap_lock", 30);
	kvmmu_rwlock_init(&child, "child mmap_lock", 30);
	kvmmu_spin_lock_init(&ptl, "ptl", 45);
	kvmmu_mutex_init(&a80, "a80", 80);
	install();
	kvmmu_mutex_lock(&slots);
	kvmmu_read_lock(&mmap);
	kvmmu_write_lock_nested(&child);
	kvmmu_spin_lock(&ptl);
	lockdep_assert_held(&slots);
	lockdep_assert_held_read(&mmap);
	lockdep_assert_held_write(&child);
	lockdep_assert_held_write(&ptl);
	lockdep_assert_not_held(&a80);
	kvmmu_write_unlock(&child); /* not LIFO */
	kvmmu_mutex_unlock(&slots);
	kvmmu_spin_unlock(&ptl);
	kvmmu_read_unlock(&mmap);
	lockdep_assert_none_held();
	ASSERT_EQ(kvmmu_lockdep_depth(), 0);
	ASSERT_EQ(nreps, 0);
#ifndef KVMMU_DEBUG
	kvmmu_mutex_lock(&a80);
	kvmmu_mutex_lock(&slots); /* inversion: compiled out */
	ASSERT_EQ(kvmmu_lockdep_depth(), 0);
	lockdep_assert_held(&mmap);
	lockdep_assert_none_held();
	kvmmu_mutex_unlock(&a80);
	kvmmu_mutex_unlock(&slots);
	ASSERT_EQ(nreps, 0);
#endif
}

TEST(order_inversion)
{
	kvmmu_mutex_t ptl, mmap;

	require_debug();
	kvmmu_mutex_init(&ptl, "ptl", 80);
	kvmmu_mutex_init(&mmap, "mmap_lock", 30);
	install();
	/* Right order: nothing. */
	kvmmu_mutex_lock(&mmap);
	kvmmu_mutex_lock(&ptl);
	kvmmu_mutex_unlock(&ptl);
	kvmmu_mutex_unlock(&mmap);
	ASSERT_EQ(nreps, 0);
	/* 80 then 30. */
	kvmmu_mutex_lock(&ptl);
	kvmmu_mutex_lock(&mmap);
	ASSERT_EQ(nreps, 1);
	EXPECT_REPORT(0, KVMMU_LOCKDEP_ORDER, &mmap.dep, &ptl.dep);
	ASSERT_EQ(kvmmu_lockdep_depth(), 2);
	kvmmu_mutex_unlock(&mmap);
	kvmmu_mutex_unlock(&ptl);
	ASSERT_EQ(nreps, 1);
	ASSERT_EQ(kvmmu_lockdep_depth(), 0);
	kvmmu_mutex_destroy(&ptl);
	kvmmu_mutex_destroy(&mmap);
}

/* The conflict is reported against the highest-ranked held lock. */
TEST(order_reports_highest_held)
{
	kvmmu_spinlock_t a, c;
	kvmmu_rwlock_t b;
	kvmmu_mutex_t x;

	require_debug();
	kvmmu_spin_lock_init(&a, "a", 20);
	kvmmu_rwlock_init(&b, "b", 60);
	kvmmu_spin_lock_init(&c, "c", 40);
	kvmmu_mutex_init(&x, "x", 50);
	install();
	kvmmu_spin_lock(&a);
	kvmmu_read_lock(&b);
	kvmmu_spin_lock(&c);  /* 40 under 60 */
	kvmmu_mutex_lock(&x); /* 50 under 60 (and above 40) */
	ASSERT_EQ(nreps, 2);
	EXPECT_REPORT(0, KVMMU_LOCKDEP_ORDER, &c.dep, &b.dep);
	EXPECT_REPORT(1, KVMMU_LOCKDEP_ORDER, &x.dep, &b.dep);
	kvmmu_mutex_unlock(&x);
	kvmmu_spin_unlock(&c);
	kvmmu_read_unlock(&b);
	kvmmu_spin_unlock(&a);
	ASSERT_EQ(nreps, 2);
}

TEST(nested_allows_equal_rank_only)
{
	kvmmu_rwlock_t parent, child, other;
	kvmmu_mutex_t low, m1, m2;

	require_debug();
	kvmmu_rwlock_init(&parent, "parent mmap", KVMMU_RANK_MMAP_LOCK);
	kvmmu_rwlock_init(&child, "child mmap", KVMMU_RANK_MMAP_LOCK);
	kvmmu_rwlock_init(&other, "other mmap", KVMMU_RANK_MMAP_LOCK);
	kvmmu_mutex_init(&low, "mm list", KVMMU_RANK_HOST_MM_LIST);
	kvmmu_mutex_init(&m1, "leaf1", KVMMU_RANK_LEAF);
	kvmmu_mutex_init(&m2, "leaf2", KVMMU_RANK_LEAF);
	install();
	/* fork(): parent's then child's mmap_lock. */
	kvmmu_write_lock(&parent);
	kvmmu_write_lock_nested(&child);
	ASSERT_EQ(nreps, 0);
	/* Equal rank without _nested is reported. */
	kvmmu_write_lock(&other);
	EXPECT_REPORT(0, KVMMU_LOCKDEP_ORDER, &other.dep, &parent.dep);
	kvmmu_write_unlock(&other);
	/* _nested does not allow going below. */
	kvmmu_mutex_lock_nested(&low);
	EXPECT_REPORT(1, KVMMU_LOCKDEP_ORDER, &low.dep, &parent.dep);
	kvmmu_mutex_unlock(&low);
	kvmmu_write_unlock(&child);
	kvmmu_write_unlock(&parent);
	/* Two leaves: only with _nested. */
	kvmmu_mutex_lock(&m1);
	kvmmu_mutex_lock_nested(&m2);
	ASSERT_EQ(nreps, 2);
	kvmmu_mutex_unlock(&m2);
	kvmmu_mutex_unlock(&m1);
	ASSERT_EQ(nreps, 2);
	ASSERT_EQ(kvmmu_lockdep_depth(), 0);
}

/* Read-after-read: reported, then allowed (no writer waits here). */
TEST(recursion_read)
{
	kvmmu_rwlock_t l;

	require_debug();
	kvmmu_rwlock_init(&l, "mmap_lock", KVMMU_RANK_MMAP_LOCK);
	install();
	kvmmu_read_lock(&l);
	kvmmu_read_lock(&l);
	ASSERT_EQ(nreps, 1);
	EXPECT_REPORT(0, KVMMU_LOCKDEP_RECURSION, &l.dep, &l.dep);
	ASSERT_EQ(kvmmu_lockdep_depth(), 2);
	kvmmu_read_unlock(&l);
	kvmmu_read_unlock(&l);
	ASSERT_EQ(nreps, 1);
	ASSERT_EQ(kvmmu_lockdep_depth(), 0);
	ASSERT_TRUE(kvmmu_write_trylock(&l)); /* really released */
	kvmmu_write_unlock(&l);
	kvmmu_rwlock_destroy(&l);
}

/* A trylock of a held lock cannot deadlock but is still reported. */
TEST(recursion_trylock)
{
	kvmmu_mutex_t m;

	require_debug();
	kvmmu_mutex_init(&m, "m", 10);
	install();
	ASSERT_TRUE(kvmmu_mutex_trylock(&m));
	ASSERT_FALSE(kvmmu_mutex_trylock(&m));
	ASSERT_EQ(nreps, 1);
	EXPECT_REPORT(0, KVMMU_LOCKDEP_RECURSION, &m.dep, &m.dep);
	ASSERT_EQ(kvmmu_lockdep_depth(), 1);
	kvmmu_mutex_unlock(&m);
	ASSERT_EQ(nreps, 1);
}

/*
 * Taking a held mutex again would hang: the child reports RECURSION
 * through the pipe and must then abort instead of blocking.
 */
static void recursion_child(int kind)
{
	int pfd[2], status;
	unsigned char b = 0xff;
	pid_t pid;

	ASSERT_OK(pipe(pfd));
	fflush(stdout);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		kvmmu_mutex_t m;
		kvmmu_rwlock_t rw;
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, STDERR_FILENO);
		close(pfd[0]);
		report_fd = pfd[1];
		install();
		alarm(10);
		kvmmu_mutex_init(&m, "m", 10);
		kvmmu_rwlock_init(&rw, "rw", 20);
		if (kind == 0) {
			kvmmu_mutex_lock(&m);
			kvmmu_mutex_lock(&m);
		} else if (kind == 1) {
			kvmmu_read_lock(&rw);
			kvmmu_write_lock(&rw); /* upgrade: deadlock */
		} else {
			kvmmu_write_lock(&rw);
			kvmmu_read_lock(&rw);
		}
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(read(pfd[0], &b, 1), 1);
	ASSERT_EQ(b, KVMMU_LOCKDEP_RECURSION);
	ASSERT_EQ(read(pfd[0], &b, 1), 0); /* exactly one report */
	close(pfd[0]);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGABRT);
}

TEST(recursion_self_deadlock_aborts)
{
	require_debug();
	recursion_child(0);
	recursion_child(1);
	recursion_child(2);
}

TEST(unlock_not_held)
{
	kvmmu_mutex_t m;
	kvmmu_spinlock_t s;
	kvmmu_rwlock_t rw;

	require_debug();
	kvmmu_mutex_init(&m, "m", 10);
	kvmmu_spin_lock_init(&s, "s", 20);
	kvmmu_rwlock_init(&rw, "rw", 30);
	install();
	kvmmu_mutex_unlock(&m);
	kvmmu_spin_unlock(&s);
	kvmmu_read_unlock(&rw);
	kvmmu_write_unlock(&rw);
	kvmmu_write_downgrade(&rw);
	ASSERT_EQ(nreps, 5);
	EXPECT_REPORT(0, KVMMU_LOCKDEP_NOT_HELD, &m.dep, NULL);
	EXPECT_REPORT(1, KVMMU_LOCKDEP_NOT_HELD, &s.dep, NULL);
	EXPECT_REPORT(2, KVMMU_LOCKDEP_NOT_HELD, &rw.dep, NULL);
	EXPECT_REPORT(3, KVMMU_LOCKDEP_NOT_HELD, &rw.dep, NULL);
	EXPECT_REPORT(4, KVMMU_LOCKDEP_NOT_HELD, &rw.dep, NULL);
	/* The bogus unlocks were not passed on: the locks still work. */
	kvmmu_mutex_lock(&m);
	kvmmu_spin_lock(&s);
	kvmmu_write_lock(&rw);
	/* Really held (checked beneath the wrappers, so lockdep is quiet). */
	ASSERT_EQ(pthread_mutex_trylock(&m.m), EBUSY);
	ASSERT_EQ(pthread_mutex_trylock(&s.m), EBUSY);
	ASSERT_FALSE(other_thread_trylock(&rw, false));
	kvmmu_write_unlock(&rw);
	kvmmu_spin_unlock(&s);
	kvmmu_mutex_unlock(&m);
	ASSERT_EQ(nreps, 5);
	kvmmu_mutex_destroy(&m);
	kvmmu_spin_lock_destroy(&s);
	kvmmu_rwlock_destroy(&rw);
}

TEST(unlock_wrong_mode)
{
	kvmmu_rwlock_t rw;

	require_debug();
	kvmmu_rwlock_init(&rw, "rw", 30);
	install();
	kvmmu_read_lock(&rw);
	kvmmu_write_unlock(&rw);
	EXPECT_REPORT(0, KVMMU_LOCKDEP_WRONG_MODE, &rw.dep, &rw.dep);
	/* The read hold was released, and only it (the gate is free). */
	ASSERT_EQ(kvmmu_lockdep_depth(), 0);
	ASSERT_TRUE(kvmmu_write_trylock(&rw));
	kvmmu_read_unlock(&rw);
	EXPECT_REPORT(1, KVMMU_LOCKDEP_WRONG_MODE, &rw.dep, &rw.dep);
	ASSERT_TRUE(kvmmu_write_trylock(&rw));
	kvmmu_write_unlock(&rw);
	ASSERT_EQ(nreps, 2);
	kvmmu_rwlock_destroy(&rw);
}

TEST(assertions)
{
	kvmmu_rwlock_t rw;
	kvmmu_mutex_t m;
	int line;

	require_debug();
	kvmmu_rwlock_init(&rw, "mmap_lock", KVMMU_RANK_MMAP_LOCK);
	kvmmu_mutex_init(&m, "mmu_lock", KVMMU_RANK_KVM_MMU_LOCK);
	install();
	lockdep_assert_none_held();
	lockdep_assert_not_held(&rw);
	lockdep_assert_not_held(&m);
	ASSERT_EQ(nreps, 0);

	line = __LINE__ + 1;
	lockdep_assert_held(&rw);
	EXPECT_REPORT(0, KVMMU_LOCKDEP_NOT_HELD, &rw.dep, NULL);
	ASSERT_EQ(strcmp(reps[0].file, __FILE__), 0);
	ASSERT_EQ(reps[0].line, line);

	kvmmu_read_lock(&rw);
	lockdep_assert_held(&rw);
	lockdep_assert_held_read(&rw);
	ASSERT_EQ(nreps, 1);
	line = __LINE__ + 1;
	lockdep_assert_held_write(&rw);
	EXPECT_REPORT(1, KVMMU_LOCKDEP_WRONG_MODE, &rw.dep, &rw.dep);
	ASSERT_EQ(reps[1].line, line);
	lockdep_assert_not_held(&rw);
	EXPECT_REPORT(2, KVMMU_LOCKDEP_RECURSION, &rw.dep, &rw.dep);
	lockdep_assert_none_held();
	EXPECT_REPORT(3, KVMMU_LOCKDEP_HELD_AT_EXIT, NULL, &rw.dep);
	kvmmu_read_unlock(&rw);

	kvmmu_write_lock(&rw);
	lockdep_assert_held_write(&rw);
	ASSERT_EQ(nreps, 4);
	lockdep_assert_held_read(&rw);
	EXPECT_REPORT(4, KVMMU_LOCKDEP_WRONG_MODE, &rw.dep, &rw.dep);
	kvmmu_write_unlock(&rw);

	/* A mutex counts as held for write. */
	kvmmu_mutex_lock(&m);
	lockdep_assert_held(&m);
	lockdep_assert_held_write(&m);
	ASSERT_EQ(nreps, 5);
	lockdep_assert_held_read(&m);
	EXPECT_REPORT(5, KVMMU_LOCKDEP_WRONG_MODE, &m.dep, &m.dep);
	kvmmu_mutex_unlock(&m);
	lockdep_assert_held_write(&m);
	EXPECT_REPORT(6, KVMMU_LOCKDEP_NOT_HELD, &m.dep, NULL);
	ASSERT_EQ(nreps, 7);
}

/* Unlocks in any order remove exactly the right entry. */
TEST(out_of_order_unlock_and_depth)
{
	kvmmu_mutex_t a, d;
	kvmmu_rwlock_t b;
	kvmmu_spinlock_t c;

	require_debug();
	kvmmu_mutex_init(&a, "a", 10);
	kvmmu_rwlock_init(&b, "b", 30);
	kvmmu_spin_lock_init(&c, "c", 80);
	kvmmu_mutex_init(&d, "d", 40);
	install();
	ASSERT_EQ(kvmmu_lockdep_depth(), 0);
	kvmmu_mutex_lock(&a);
	ASSERT_EQ(kvmmu_lockdep_depth(), 1);
	kvmmu_read_lock(&b);
	ASSERT_EQ(kvmmu_lockdep_depth(), 2);
	kvmmu_spin_lock(&c);
	ASSERT_EQ(kvmmu_lockdep_depth(), 3);
	kvmmu_read_unlock(&b); /* the middle one */
	ASSERT_EQ(kvmmu_lockdep_depth(), 2);
	lockdep_assert_held(&a);
	lockdep_assert_held(&c);
	lockdep_assert_not_held(&b);
	ASSERT_EQ(nreps, 0);
	/* c (80) is still held: d (40) is out of order... */
	kvmmu_mutex_lock(&d);
	EXPECT_REPORT(0, KVMMU_LOCKDEP_ORDER, &d.dep, &c.dep);
	kvmmu_mutex_unlock(&d);
	kvmmu_mutex_unlock(&a); /* the oldest one */
	ASSERT_EQ(kvmmu_lockdep_depth(), 1);
	kvmmu_spin_unlock(&c);
	ASSERT_EQ(kvmmu_lockdep_depth(), 0);
	/* ... and fine once c is gone. */
	kvmmu_mutex_lock(&a);
	kvmmu_mutex_lock(&d);
	kvmmu_mutex_unlock(&a);
	kvmmu_mutex_unlock(&d);
	ASSERT_EQ(nreps, 1);
	ASSERT_EQ(kvmmu_lockdep_depth(), 0);
}

TEST(depth_limit)
{
	kvmmu_mutex_t m[40];
	int i;

	require_debug();
	for (i = 0; i < 40; i++)
		kvmmu_mutex_init(&m[i], "chain", 100 + i);
	install();
	for (i = 0; i < 32; i++)
		kvmmu_mutex_lock(&m[i]);
	ASSERT_EQ(nreps, 0);
	ASSERT_EQ(kvmmu_lockdep_depth(), 32);
	kvmmu_mutex_lock(&m[32]);
	kvmmu_mutex_lock(&m[33]);
	ASSERT_EQ(nreps, 2);
	EXPECT_REPORT(0, KVMMU_LOCKDEP_DEPTH, &m[32].dep, &m[31].dep);
	ASSERT_EQ(kvmmu_lockdep_depth(), 34);
	for (i = 33; i >= 0; i--)
		kvmmu_mutex_unlock(&m[i]);
	ASSERT_EQ(nreps, 2); /* untracked unlocks are not "not held" */
	ASSERT_EQ(kvmmu_lockdep_depth(), 0);
	for (i = 0; i < 40; i++)
		kvmmu_mutex_destroy(&m[i]);
}

TEST(downgrade)
{
	kvmmu_rwlock_t rw;

	require_debug();
	kvmmu_rwlock_init(&rw, "mmap_lock", KVMMU_RANK_MMAP_LOCK);
	install();
	kvmmu_write_lock(&rw);
	kvmmu_write_downgrade(&rw);
	lockdep_assert_held_read(&rw);
	ASSERT_EQ(nreps, 0);
	ASSERT_EQ(kvmmu_lockdep_depth(), 1);
	/* Beneath the wrappers: read-held, writers' gate released. */
	ASSERT_FALSE(other_thread_trylock(&rw, true));
	ASSERT_TRUE(other_thread_trylock(&rw, false));
	ASSERT_EQ(pthread_mutex_trylock(&rw.wgate), 0);
	ASSERT_EQ(pthread_mutex_unlock(&rw.wgate), 0);
	kvmmu_write_downgrade(&rw); /* already read */
	EXPECT_REPORT(0, KVMMU_LOCKDEP_WRONG_MODE, &rw.dep, &rw.dep);
	kvmmu_read_unlock(&rw);
	ASSERT_EQ(nreps, 1);
	ASSERT_TRUE(kvmmu_write_trylock(&rw));
	kvmmu_write_unlock(&rw);
	kvmmu_rwlock_destroy(&rw);
}

static char logged[4096];

static void log_sink(enum kvmmu_log_level level, const char *msg)
{
	size_t len = strlen(logged);

	snprintf(logged + len, sizeof(logged) - len, "%s\n", msg);
}

/* The default reporter logs both locks and counts a warning. */
TEST(default_reporter)
{
	kvmmu_mutex_t ptl, mmap;
	kvmmu_lockdep_reporter_t prev;
	char want[128];
	int line;

	require_debug();
	prev = kvmmu_lockdep_set_reporter(reporter);
	ASSERT_PTR_NE(prev, NULL);
	ASSERT_PTR_EQ(kvmmu_lockdep_set_reporter(NULL), reporter);
	kvmmu_mutex_init(&ptl, "ptl", 80);
	kvmmu_mutex_init(&mmap, "mmap_lock", 30);
	kvmmu_log_set_sink(log_sink);
	kvmmu_warn_reset();
	kvmmu_mutex_lock(&ptl);
	kvmmu_mutex_lock(&mmap);
	ASSERT_EQ(kvmmu_warn_count(), 1);
	TEST_LOG("logged:\n%s", logged);
	ASSERT_PTR_NE(strstr(logged, "'mmap_lock' (rank 30)"), NULL);
	ASSERT_PTR_NE(strstr(logged, "'ptl' (rank 80)"), NULL);
	ASSERT_PTR_NE(strstr(logged, "order"), NULL);
	kvmmu_mutex_unlock(&mmap);
	line = __LINE__ + 1;
	lockdep_assert_held(&mmap);
	ASSERT_EQ(kvmmu_warn_count(), 2);
	snprintf(want, sizeof(want), "%s:%d", __FILE__, line);
	ASSERT_PTR_NE(strstr(logged, want), NULL);
	kvmmu_mutex_unlock(&ptl);
	ASSERT_EQ(kvmmu_warn_count(), 2);
}

static kvmmu_mutex_t exit_lock, other_lock;
static volatile int stage; /* accessed with __atomic */

static void *exit_holding(void *arg)
{
	kvmmu_mutex_lock(&other_lock); /* rank 80: main's 30 is no conflict */
	__atomic_store_n(&stage, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&stage, __ATOMIC_ACQUIRE) != 2)
		sched_yield();
	kvmmu_mutex_unlock(&other_lock);
	kvmmu_mutex_lock(&exit_lock);
	return NULL; /* exits holding exit_lock */
}

/* Held lists are per thread; a thread exiting with a lock is reported. */
TEST(per_thread_and_held_at_exit)
{
	kvmmu_mutex_t mine;
	pthread_t t;

	require_debug();
	kvmmu_mutex_init(&exit_lock, "exit_lock", 90);
	kvmmu_mutex_init(&other_lock, "other", 80);
	kvmmu_mutex_init(&mine, "mine", 30);
	install();
	ASSERT_OK(pthread_create(&t, NULL, exit_holding, NULL));
	while (__atomic_load_n(&stage, __ATOMIC_ACQUIRE) != 1)
		sched_yield();
	kvmmu_mutex_lock(&mine);
	ASSERT_EQ(kvmmu_lockdep_depth(), 1);
	kvmmu_mutex_unlock(&mine);
	__atomic_store_n(&stage, 2, __ATOMIC_RELEASE);
	ASSERT_OK(pthread_join(t, NULL));
	ASSERT_EQ(nreps, 1);
	EXPECT_REPORT(0, KVMMU_LOCKDEP_HELD_AT_EXIT, NULL, &exit_lock.dep);
	ASSERT_EQ(kvmmu_lockdep_depth(), 0);
}

TEST_HARNESS_MAIN
