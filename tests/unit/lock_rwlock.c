// SPDX-License-Identifier: MIT
/*
 * The sharded ("big reader") rwlock: writers exclude readers and each other
 * with many threads (more than there are reader shards), readers share,
 * a waiting writer turns new readers away, a downgrade lets no writer in
 * between, the trylocks never block and leave the lock as they found it,
 * and the slow paths (a writer asleep until readers drain, readers asleep
 * until the writer leaves) wake up.  The lock may sit at any 8-byte
 * alignment: its counters find their own cache lines inside it.
 *
 * Shared data is plain (non-atomic) and checked inside the critical
 * sections, so under TSan a missing happens-before edge in the lock shows
 * up as a data race; the "inside" counters are relaxed atomics (which give
 * TSan no edges of their own), so an exclusion failure also fails the test
 * without a sanitizer.  The ordering tests
 * wait with timeouts, so a lost wake-up fails rather than hangs.
 */
#include "harness.h"

#include <pthread.h>
#include <sched.h>

#include <kvmmu/lock.h>
#include <kvmmu/log.h>
#include <kvmmu/rng.h>
#include <kvmmu/sched.h>

#define WAIT_SECS 10.0 /* bound on every wait for another thread */

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int load(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Wait until *p == v, at most WAIT_SECS.  Return: true if it did. */
static bool wait_for(const int *p, int v)
{
	double end = test_now() + WAIT_SECS;

	while (load(p) != v) {
		if (test_now() > end)
			return false;
		sched_yield();
	}
	return true;
}

/* --- helpers run by another thread ---------------------------------------- */

enum op {
	OP_READ_TRY,
	OP_WRITE_TRY,
};

struct try_arg {
	kvmmu_rwlock_t *l;
	enum op op;
	bool taken;
};

static void *try_fn(void *p)
{
	struct try_arg *a = p;

	if (a->op == OP_READ_TRY) {
		if (kvmmu_read_trylock(a->l)) {
			a->taken = true;
			kvmmu_read_unlock(a->l);
		}
	} else if (kvmmu_write_trylock(a->l)) {
		a->taken = true;
		kvmmu_write_unlock(a->l);
	}
	return NULL;
}

/* Could another thread take @l in this mode now (releasing it at once)? */
static bool other_try(kvmmu_rwlock_t *l, enum op op)
{
	struct try_arg a = { .l = l, .op = op };
	pthread_t t;

	ASSERT_OK(pthread_create(&t, NULL, try_fn, &a));
	ASSERT_OK(pthread_join(t, NULL));
	return a.taken;
}

/*
 * A thread that takes @l in @mode (0 read, 1 write) when started, says so
 * in @in (with the order it got in, from @seq), holds it until @release is
 * set, then lets go and sets @done.
 */
struct holder {
	kvmmu_rwlock_t *l;
	int mode;
	int *seq; /* shared order counter, __atomic */
	int in, order, release, done;
	pthread_t tid;
};

/* The mode is a run-time choice, which -Wthread-safety cannot follow. */
static void *holder_fn(void *p) NO_THREAD_SAFETY_ANALYSIS
{
	struct holder *h = p;

	if (h->mode)
		kvmmu_write_lock(h->l);
	else
		kvmmu_read_lock(h->l);
	h->order = __atomic_add_fetch(h->seq, 1, __ATOMIC_ACQ_REL);
	store(&h->in, 1);
	while (!load(&h->release))
		sched_yield();
	if (h->mode)
		kvmmu_write_unlock(h->l);
	else
		kvmmu_read_unlock(h->l);
	store(&h->done, 1);
	return NULL;
}

static void holder_start(struct holder *h, kvmmu_rwlock_t *l, int mode,
			 int *seq)
{
	memset(h, 0, sizeof(*h));
	h->l = l;
	h->mode = mode;
	h->seq = seq;
	ASSERT_OK(pthread_create(&h->tid, NULL, holder_fn, h));
}

static void holder_finish(struct holder *h)
{
	store(&h->release, 1);
	ASSERT_OK(pthread_join(h->tid, NULL));
}

/* --- basic semantics ------------------------------------------------------- */

TEST(layout_any_alignment)
{
	unsigned int off;

	TEST_LOG("sizeof(kvmmu_rwlock_t) = %zu", sizeof(kvmmu_rwlock_t));
	ASSERT_LE(sizeof(kvmmu_rwlock_t), 2048);
	/* Every 8-byte offset from a cache line, the lock ending the block. */
	for (off = 0; off < 64; off += 8) {
		void *p;
		kvmmu_rwlock_t *l;

		ASSERT_OK(posix_memalign(&p, 64, off + sizeof(*l)));
		l = (kvmmu_rwlock_t *)((char *)p + off);
		kvmmu_rwlock_init(l, "rw", 30);
		kvmmu_read_lock(l);
		ASSERT_TRUE(other_try(l, OP_READ_TRY));
		ASSERT_FALSE(other_try(l, OP_WRITE_TRY));
		kvmmu_read_unlock(l);
		kvmmu_write_lock(l);
		ASSERT_FALSE(other_try(l, OP_READ_TRY));
		kvmmu_write_unlock(l);
		kvmmu_rwlock_destroy(l);
		free(p);
	}
}

/* With @l read-held by the caller; drops it.  Return: true. */
static bool read_held_checks(kvmmu_rwlock_t *l) RELEASE_SHARED(*l)
{
	lockdep_assert_held_read(l);
	ASSERT_TRUE(other_try(l, OP_READ_TRY));
	ASSERT_FALSE(other_try(l, OP_WRITE_TRY));
	/* ... and the failed write try left no writer behind. */
	ASSERT_TRUE(other_try(l, OP_READ_TRY));
	kvmmu_read_unlock(l);
	return true;
}

/* With @l write-held by the caller; drops it.  Return: true. */
static bool write_held_checks(kvmmu_rwlock_t *l) RELEASE(*l)
{
	lockdep_assert_held_write(l);
	ASSERT_FALSE(other_try(l, OP_READ_TRY));
	ASSERT_FALSE(other_try(l, OP_WRITE_TRY));
	kvmmu_write_unlock(l);
	return true;
}

TEST(trylocks)
{
	kvmmu_rwlock_t l;

	kvmmu_warn_reset();
	kvmmu_rwlock_init(&l, "rw", 30);

	/* Free: both modes can be tried. */
	ASSERT_TRUE(other_try(&l, OP_READ_TRY));
	ASSERT_TRUE(other_try(&l, OP_WRITE_TRY));

	/* Read-held: readers share, writers fail without blocking. */
	ASSERT_TRUE(kvmmu_read_trylock(&l) && read_held_checks(&l));
	/* Write-held: everybody fails. */
	ASSERT_TRUE(kvmmu_write_trylock(&l) && write_held_checks(&l));

	/* Released: free again in both modes. */
	ASSERT_TRUE(other_try(&l, OP_WRITE_TRY));
	ASSERT_TRUE(other_try(&l, OP_READ_TRY));
	ASSERT_EQ(kvmmu_lockdep_depth(), 0);
	ASSERT_EQ(kvmmu_warn_count(), 0);
	kvmmu_rwlock_destroy(&l);
}

/* Two readers are inside at the same time; neither waits for the other. */
TEST(readers_share)
{
	struct holder r1, r2;
	kvmmu_rwlock_t l;
	int seq = 0;

	kvmmu_rwlock_init(&l, "rw", 30);
	holder_start(&r1, &l, 0, &seq);
	ASSERT_TRUE(wait_for(&r1.in, 1));
	holder_start(&r2, &l, 0, &seq);
	ASSERT_TRUE(wait_for(&r2.in, 1));
	ASSERT_FALSE(load(&r1.done));
	holder_finish(&r1);
	holder_finish(&r2);
	kvmmu_rwlock_destroy(&l);
}

/*
 * A writer that waits for a reader turns new readers away: reader R1 is
 * in, writer W queues, reader R2 arrives and must wait behind W (bounded
 * checks), W gets in when R1 leaves, R2 only after W.
 */
TEST(writer_preference)
{
	struct holder r1, w, r2;
	kvmmu_rwlock_t l;
	double end;
	int seq = 0;

	kvmmu_warn_reset();
	kvmmu_rwlock_init(&l, "rw", 30);
	holder_start(&r1, &l, 0, &seq);
	ASSERT_TRUE(wait_for(&r1.in, 1));
	holder_start(&w, &l, 1, &seq);

	/* The writer is pending once new read attempts start to fail. */
	end = test_now() + WAIT_SECS;
	while (kvmmu_read_trylock(&l)) {
		kvmmu_read_unlock(&l);
		ASSERT_LT(test_now(), end);
		sleep_ms(1);
	}
	ASSERT_FALSE(load(&w.in)); /* R1 still holds it */
	ASSERT_FALSE(kvmmu_write_trylock(&l));

	holder_start(&r2, &l, 0, &seq);
	sleep_ms(100); /* long enough for R2 to reach its sleep */
	ASSERT_FALSE(load(&r2.in));
	ASSERT_FALSE(load(&w.in));
	ASSERT_FALSE(other_try(&l, OP_READ_TRY));

	/* R1 leaves: the writer, asleep by now, is woken and gets in. */
	holder_finish(&r1);
	ASSERT_TRUE(wait_for(&w.in, 1));
	sleep_ms(20);
	ASSERT_FALSE(load(&r2.in));

	/* The writer leaves: the sleeping reader is woken. */
	holder_finish(&w);
	ASSERT_TRUE(wait_for(&r2.in, 1));
	holder_finish(&r2);
	ASSERT_EQ(r1.order, 1);
	ASSERT_EQ(w.order, 2);
	ASSERT_EQ(r2.order, 3);
	ASSERT_EQ(kvmmu_warn_count(), 0);
	kvmmu_rwlock_destroy(&l);
}

/*
 * Downgrade: with a second writer queued behind us, the downgraded read
 * hold keeps it out (it gets in only after our read unlock), and while no
 * writer waits, readers may join the downgraded holder.
 */
TEST(downgrade_atomic)
{
	struct holder w2;
	kvmmu_rwlock_t l;
	int seq = 0;
	long data = 0;

	kvmmu_warn_reset();
	kvmmu_rwlock_init(&l, "rw", 30);

	/* Without a waiting writer: readers join, writers stay out. */
	kvmmu_write_lock(&l);
	data = 1;
	kvmmu_write_downgrade(&l);
	lockdep_assert_held_read(&l);
	ASSERT_TRUE(other_try(&l, OP_READ_TRY));
	ASSERT_FALSE(other_try(&l, OP_WRITE_TRY));
	kvmmu_read_unlock(&l);
	ASSERT_TRUE(other_try(&l, OP_WRITE_TRY));

	/* With a writer queued while we hold it for write. */
	kvmmu_write_lock(&l);
	holder_start(&w2, &l, 1, &seq);
	sleep_ms(50); /* W2 blocks on the writers' gate */
	ASSERT_FALSE(load(&w2.in));
	data = 2;
	kvmmu_write_downgrade(&l);
	sleep_ms(50); /* W2 takes the gate, then waits for our read hold */
	ASSERT_FALSE(load(&w2.in));
	ASSERT_EQ(data, 2);
	kvmmu_read_unlock(&l);
	ASSERT_TRUE(wait_for(&w2.in, 1));
	holder_finish(&w2);
	ASSERT_EQ(kvmmu_lockdep_depth(), 0);
	ASSERT_EQ(kvmmu_warn_count(), 0);
	kvmmu_rwlock_destroy(&l);
}

/* A long read hold: the writer goes through spin, yield and sleep. */
TEST(writer_sleeps_until_readers_drain)
{
	struct holder r[3], w;
	kvmmu_rwlock_t l;
	int seq = 0, i;

	kvmmu_rwlock_init(&l, "rw", 30);
	for (i = 0; i < 3; i++) {
		holder_start(&r[i], &l, 0, &seq);
		ASSERT_TRUE(wait_for(&r[i].in, 1));
	}
	holder_start(&w, &l, 1, &seq);
	for (i = 0; i < 3; i++) {
		sleep_ms(30);
		ASSERT_FALSE(load(&w.in));
		holder_finish(&r[i]);
	}
	ASSERT_TRUE(wait_for(&w.in, 1));
	ASSERT_EQ(w.order, 4);
	holder_finish(&w);
	kvmmu_rwlock_destroy(&l);
}

/* --- under contention ------------------------------------------------------ */

#define NTHREADS (KVMMU_RWLOCK_SHARDS + 4) /* some threads share a shard */

static struct {
	kvmmu_rwlock_t l;
	/* plain data, under l: a == b outside write sections */
	long a, b, writes;
	/* atomics: who is inside */
	int readers_in, writers_in;
	int stop;
} sh;

struct worker {
	unsigned int idx;
	uint64_t seed;
	unsigned int write_ppm; /* chance that an operation writes */
	long reads, writes, downgrades, tries, bad;
	int depth_at_end;
	pthread_t tid;
};

static void check_read_side(struct worker *w)
{
	int win = __atomic_load_n(&sh.writers_in, __ATOMIC_RELAXED);

	if (win || sh.a != sh.b)
		w->bad++;
}

static void read_section(struct worker *w)
{
	__atomic_fetch_add(&sh.readers_in, 1, __ATOMIC_RELAXED);
	lockdep_assert_held_read(&sh.l);
	check_read_side(w);
	__atomic_fetch_sub(&sh.readers_in, 1, __ATOMIC_RELAXED);
	w->reads++;
}

/* Enter a write section (the lock held for write). */
static void write_enter(struct worker *w)
{
	int win = __atomic_add_fetch(&sh.writers_in, 1, __ATOMIC_RELAXED);

	lockdep_assert_held_write(&sh.l);
	if (win != 1 || __atomic_load_n(&sh.readers_in, __ATOMIC_RELAXED))
		w->bad++;
	sh.a++;
	if (w->writes % 16 == 0)
		sched_yield(); /* a reader now would see a != b */
	sh.b++;
	sh.writes++;
	w->writes++;
}

static void write_leave(void)
{
	__atomic_fetch_sub(&sh.writers_in, 1, __ATOMIC_RELAXED);
}

static void *worker_fn(void *p)
{
	struct worker *w = p;
	struct kvmmu_rng rng;

	kvmmu_rng_seed(&rng, w->seed ^ (w->idx * 0x9e3779b97f4a7c15ull));
	while (!load(&sh.stop)) {
		uint64_t r = kvmmu_rng_below(&rng, 1000000);

		if (r >= w->write_ppm) {
			/* read: blocking or try */
			if (r % 8 == 0) {
				w->tries++;
				if (!kvmmu_read_trylock(&sh.l))
					continue;
			} else {
				kvmmu_read_lock(&sh.l);
			}
			read_section(w);
			kvmmu_read_unlock(&sh.l);
			continue;
		}
		if (r % 4 == 0) {
			w->tries++;
			if (!kvmmu_write_trylock(&sh.l))
				continue;
		} else {
			kvmmu_write_lock(&sh.l);
		}
		write_enter(w);
		if (r % 3 == 0) {
			/* downgrade: nobody may write before our unlock */
			long v = sh.a;

			write_leave();
			kvmmu_write_downgrade(&sh.l);
			__atomic_fetch_add(&sh.readers_in, 1, __ATOMIC_RELAXED);
			lockdep_assert_held_read(&sh.l);
			if (r % 2)
				sched_yield(); /* invite writers */
			if (sh.a != v)
				w->bad++;
			check_read_side(w);
			__atomic_fetch_sub(&sh.readers_in, 1, __ATOMIC_RELAXED);
			w->downgrades++;
			kvmmu_read_unlock(&sh.l);
		} else {
			write_leave();
			kvmmu_write_unlock(&sh.l);
		}
	}
	w->depth_at_end = kvmmu_lockdep_depth();
	return NULL;
}

static void run_mix(unsigned int nthreads, unsigned int write_ppm, double secs)
{
	struct worker w[NTHREADS];
	long reads = 0, writes = 0, downgrades = 0, tries = 0;
	uint64_t seed = test_seed();
	unsigned int i;

	ASSERT_LE(nthreads, NTHREADS);
	memset(&sh, 0, sizeof(sh));
	kvmmu_rwlock_init(&sh.l, "mix rw", 30);
	for (i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .idx = i,
					.seed = seed,
					.write_ppm = write_ppm };
		ASSERT_OK(pthread_create(&w[i].tid, NULL, worker_fn, &w[i]));
	}
	sleep_ms((unsigned int)(secs * 1000));
	store(&sh.stop, 1);
	for (i = 0; i < nthreads; i++) {
		ASSERT_OK(pthread_join(w[i].tid, NULL));
		ASSERT_EQ(w[i].bad, 0);
		ASSERT_EQ(w[i].depth_at_end, 0);
		reads += w[i].reads;
		writes += w[i].writes;
		downgrades += w[i].downgrades;
		tries += w[i].tries;
	}
	TEST_LOG("%u threads, %u ppm writes: %ld reads, %ld writes "
		 "(%ld downgraded), %ld tries",
		 nthreads, write_ppm, reads, writes, downgrades, tries);
	ASSERT_EQ(sh.writes, writes);
	ASSERT_EQ(sh.a, writes);
	ASSERT_EQ(sh.b, writes);
	ASSERT_GT(reads, 0);
	ASSERT_GT(writes, 0);
	/* Nothing is left behind: the lock is free in both modes. */
	ASSERT_TRUE(other_try(&sh.l, OP_WRITE_TRY));
	ASSERT_TRUE(other_try(&sh.l, OP_READ_TRY));
	kvmmu_rwlock_destroy(&sh.l);
}

/* Many threads (more than shards), read-mostly and write-heavy mixes. */
TEST(mutual_exclusion_many_threads)
{
	double secs = test_duration(1.0) / 3;

	kvmmu_warn_reset();
	run_mix(NTHREADS, 20000, secs);	 /* read-mostly: 2% writes */
	run_mix(NTHREADS, 500000, secs); /* half writes */
	run_mix(4, 100000, secs);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

/* The same with the race-widening hook at every lock operation. */
TEST(mutual_exclusion_random_delay)
{
	kvmmu_warn_reset();
	kvmmu_sched_set_random_delay(100000, test_seed(), 2000);
	run_mix(8, 100000, test_duration(1.0) / 2);
	kvmmu_sched_set_random_delay(0, 0, 0);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

/*
 * Writers are not starved by a crowd of readers: with every other thread
 * reading back to back, a writer still gets in, many times.
 */
static void *reader_loop(void *p)
{
	struct worker *w = p;

	while (!load(&sh.stop)) {
		kvmmu_read_lock(&sh.l);
		read_section(w);
		kvmmu_read_unlock(&sh.l);
	}
	return NULL;
}

TEST(writer_not_starved)
{
	struct worker w[8], me = { 0 };
	double end;
	unsigned int i;
	long n = 0;

	memset(&sh, 0, sizeof(sh));
	kvmmu_rwlock_init(&sh.l, "rw", 30);
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		w[i] = (struct worker){ .idx = i };
		ASSERT_OK(pthread_create(&w[i].tid, NULL, reader_loop, &w[i]));
	}
	end = test_now() + test_duration(1.0) / 4;
	while (test_now() < end || n < 10) {
		kvmmu_write_lock(&sh.l);
		write_enter(&me);
		write_leave();
		kvmmu_write_unlock(&sh.l);
		n++;
		ASSERT_LT(test_now(), end + WAIT_SECS);
	}
	store(&sh.stop, 1);
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		ASSERT_OK(pthread_join(w[i].tid, NULL));
		ASSERT_EQ(w[i].bad, 0);
	}
	ASSERT_EQ(me.bad, 0);
	TEST_LOG("%ld writes among 8 busy readers", n);
	kvmmu_rwlock_destroy(&sh.l);
}

TEST_HARNESS_MAIN
