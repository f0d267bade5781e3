// SPDX-License-Identifier: MIT
/*
 * Lock wrappers and lockdep.
 *
 * The mutex and spinlock wrappers are thin pthread calls; the rwlock is a
 * sharded reader count with a writer flag (see its section below).  Every
 * operation first passes the scheduling hook; a pthread error can only mean
 * misuse of the lock object itself (uninitialised, destroyed while held,
 * ...) and is a BUG_ON.
 *
 * Lockdep (debug builds only).  Each thread keeps the locks it holds in a
 * small array: the lock's map, the mode, whether it was taken _nested, and
 * the caller's return address.  Before a blocking acquisition we check:
 *
 *  - recursion: the lock is already in the array.  If either hold is a
 *    write hold the thread is about to deadlock on itself, so after the
 *    report this is a BUG (abort) rather than a hang; read-after-read is
 *    reported and allowed to proceed (it deadlocks only if a writer queues
 *    in between, which the writer-preferring rwlock makes possible);
 *  - order: the new lock's rank must be above every held lock's rank; a
 *    _nested acquisition may equal the highest held rank (one level of
 *    same-class nesting, as fork() takes the child's mmap_lock under the
 *    parent's) but not go below it.
 *
 * The checks run before blocking, so a would-be deadlock is reported rather
 * than hung on.  Trylocks cannot deadlock: they are checked for recursion
 * only, and recorded when they succeed.  Unlocks may come in any order; an
 * unlock of a lock this thread does not hold is reported and *not* passed
 * to pthread (it would release another thread's lock).
 *
 * Assertions that fail are reported as: held-any/held-write/held-read on an
 * unheld lock -> NOT_HELD; held in the other mode -> WRONG_MODE;
 * lockdep_assert_not_held() on a held lock -> RECURSION (taking it would
 * recurse); lockdep_assert_none_held() with locks held -> HELD_AT_EXIT
 * (held across an exit from kvmmu into a callback), naming the first.  A
 * thread that exits holding locks reports HELD_AT_EXIT for each.
 *
 * Reporter arguments: @taking is the lock being acquired, released or
 * asserted (NULL for HELD_AT_EXIT); @held is the conflicting held lock
 * (ORDER), the lock itself (RECURSION, WRONG_MODE), the most recent hold
 * (DEPTH), or NULL (NOT_HELD).  @file/@line are set for assertions; the
 * lock functions pass NULL/0 and the default reporter prints the caller's
 * address instead.
 *
 * Models: kernel/locking/lockdep.c (ranks instead of learned classes,
 * after Xen's mm-locks.h and jemalloc's witness).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <kvmmu/lock.h>
#include <kvmmu/log.h>

#include "internal.h"

/* How a lock is held; a mutex or spinlock is always held for write. */
enum {
	HELD_READ = 1,
	HELD_WRITE = 2
};

#ifdef KVMMU_DEBUG

#define LOCKDEP_MAX_HELD 32

struct held_lock {
	const struct kvmmu_lockdep_map *map;
	const void *ip; /* who took it */
	unsigned char mode;
	bool nested;
};

struct lockdep_thread {
	int depth;
	int untracked; /* taken beyond LOCKDEP_MAX_HELD, not recorded */
	bool exit_check;
	struct held_lock held[LOCKDEP_MAX_HELD];
};

static __thread struct lockdep_thread ld;
static __thread const void *report_ip; /* for the default reporter */

static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;

static const char *const violation_name[] = {
	[KVMMU_LOCKDEP_ORDER] = "lock order violation",
	[KVMMU_LOCKDEP_RECURSION] = "recursive locking",
	[KVMMU_LOCKDEP_NOT_HELD] = "lock not held",
	[KVMMU_LOCKDEP_WRONG_MODE] = "lock held in the wrong mode",
	[KVMMU_LOCKDEP_DEPTH] = "too many locks held",
	[KVMMU_LOCKDEP_HELD_AT_EXIT] = "lock held where none may be",
};

static void default_reporter(enum kvmmu_lockdep_violation v,
			     const struct kvmmu_lockdep_map *taking,
			     const struct kvmmu_lockdep_map *held,
			     const char *file, int line)
{
	char where[64], tk[96] = "", hd[96] = "";
	int i;

	if (file)
		snprintf(where, sizeof(where), "%s:%d", file, line);
	else
		snprintf(where, sizeof(where), "caller %p", report_ip);
	if (taking)
		snprintf(tk, sizeof(tk), " lock '%s' (rank %d)", taking->name,
			 taking->rank);
	if (held && held != taking)
		snprintf(hd, sizeof(hd), "%s held '%s' (rank %d)",
			 taking ? "," : "", held->name, held->rank);
	pr_err("lockdep: %s at %s:%s%s",
	       (unsigned int)v < ARRAY_SIZE(violation_name) ?
		       violation_name[v] :
		       "violation",
	       where, tk, hd);
	for (i = 0; i < ld.depth; i++)
		pr_err("lockdep:   #%d '%s' (rank %d) %s%s, taken by %p", i,
		       ld.held[i].map->name, ld.held[i].map->rank,
		       ld.held[i].mode == HELD_WRITE ? "write" : "read",
		       ld.held[i].nested ? " nested" : "", ld.held[i].ip);
	__kvmmu_warn(NULL, 0, NULL);
}

static kvmmu_lockdep_reporter_t reporter = default_reporter;

static void report(enum kvmmu_lockdep_violation v,
		   const struct kvmmu_lockdep_map *taking,
		   const struct kvmmu_lockdep_map *held, const char *file,
		   int line, const void *ip)
{
	kvmmu_lockdep_reporter_t fn =
		__atomic_load_n(&reporter, __ATOMIC_ACQUIRE);

	report_ip = ip;
	fn(v, taking, held, file, line);
}

static void thread_exit_check(void *unused)
{
	int i;

	for (i = 0; i < ld.depth; i++)
		report(KVMMU_LOCKDEP_HELD_AT_EXIT, NULL, ld.held[i].map, NULL,
		       0, ld.held[i].ip);
}

static void exit_key_create(void)
{
	BUG_ON(pthread_key_create(&exit_key, thread_exit_check));
}

static struct held_lock *find_held(const struct kvmmu_lockdep_map *map)
{
	int i;

	/* Newest first: a reported read recursion has two entries. */
	for (i = ld.depth - 1; i >= 0; i--)
		if (ld.held[i].map == map)
			return &ld.held[i];
	return NULL;
}

/*
 * Before a blocking acquisition.  Returns false if acquiring would
 * certainly deadlock this thread on itself.
 */
static bool check_acquire(const struct kvmmu_lockdep_map *map, int mode,
			  bool nested, const void *ip)
{
	const struct kvmmu_lockdep_map *top = NULL;
	struct held_lock *h = find_held(map);
	int i;

	if (h) {
		report(KVMMU_LOCKDEP_RECURSION, map, map, NULL, 0, ip);
		return mode == HELD_READ && h->mode == HELD_READ;
	}
	for (i = 0; i < ld.depth; i++)
		if (!top || ld.held[i].map->rank > top->rank)
			top = ld.held[i].map;
	if (top &&
	    (map->rank < top->rank || (map->rank == top->rank && !nested)))
		report(KVMMU_LOCKDEP_ORDER, map, top, NULL, 0, ip);
	return true;
}

/* A trylock cannot deadlock, but trying a lock we hold is still a bug. */
static void check_try(const struct kvmmu_lockdep_map *map, const void *ip)
{
	if (find_held(map))
		report(KVMMU_LOCKDEP_RECURSION, map, map, NULL, 0, ip);
}

/* After the lock is taken. */
static void record(const struct kvmmu_lockdep_map *map, int mode, bool nested,
		   const void *ip)
{
	struct held_lock *h;

	if (unlikely(!ld.exit_check)) {
		ld.exit_check = true;
		pthread_once(&exit_key_once, exit_key_create);
		pthread_setspecific(exit_key, (void *)1);
	}
	if (ld.depth == LOCKDEP_MAX_HELD) {
		report(KVMMU_LOCKDEP_DEPTH, map, ld.held[ld.depth - 1].map,
		       NULL, 0, ip);
		ld.untracked++;
		return;
	}
	h = &ld.held[ld.depth++];
	h->map = map;
	h->ip = ip;
	h->mode = (unsigned char)mode;
	h->nested = nested;
}

/*
 * Before a release in @mode.  Returns the mode the lock is really held in
 * (so the caller releases what is held), or 0 if this thread does not hold
 * it and the release must be skipped.
 */
static int check_release(const struct kvmmu_lockdep_map *map, int mode,
			 const void *ip)
{
	struct held_lock *h = find_held(map);
	int held_mode;

	if (!h) {
		if (ld.untracked) {
			/* Past the depth limit we cannot tell; trust it. */
			ld.untracked--;
			return mode;
		}
		report(KVMMU_LOCKDEP_NOT_HELD, map, NULL, NULL, 0, ip);
		return 0;
	}
	held_mode = h->mode;
	if (held_mode != mode)
		report(KVMMU_LOCKDEP_WRONG_MODE, map, map, NULL, 0, ip);
	ld.depth--;
	for (; h < &ld.held[ld.depth]; h++)
		h[0] = h[1];
	return held_mode;
}

/**
 * __kvmmu_lockdep_assert() - back end of the lockdep_assert_*() macros.
 * @dep: the lock's map, or NULL for mode 4.
 * @mode: 0 held (any mode), 1 held for write, 2 held for read, 3 not held,
 *	  4 no lock held at all.
 * @file: caller's file.
 * @line: caller's line.
 *
 * Context: any thread; checks only the calling thread's holds.
 */
void __kvmmu_lockdep_assert(const struct kvmmu_lockdep_map *dep, int mode,
			    const char *file, int line)
{
	const void *ip = __builtin_return_address(0);
	struct held_lock *h;

	if (mode == 4) {
		if (ld.depth)
			report(KVMMU_LOCKDEP_HELD_AT_EXIT, NULL, ld.held[0].map,
			       file, line, ip);
		return;
	}
	h = find_held(dep);
	if (mode == 3) {
		if (h)
			report(KVMMU_LOCKDEP_RECURSION, dep, dep, file, line,
			       ip);
		return;
	}
	if (!h) {
		if (!ld.untracked)
			report(KVMMU_LOCKDEP_NOT_HELD, dep, NULL, file, line,
			       ip);
		return;
	}
	if ((mode == 1 && h->mode != HELD_WRITE) ||
	    (mode == 2 && h->mode != HELD_READ))
		report(KVMMU_LOCKDEP_WRONG_MODE, dep, dep, file, line, ip);
}

kvmmu_lockdep_reporter_t kvmmu_lockdep_set_reporter(kvmmu_lockdep_reporter_t fn)
{
	return __atomic_exchange_n(&reporter, fn ? fn : default_reporter,
				   __ATOMIC_ACQ_REL);
}

int kvmmu_lockdep_depth(void)
{
	return ld.depth + ld.untracked;
}

/*
 * Lockdep hooks used by the wrappers below; @ip is the wrapper's caller.
 * In release builds they compile to nothing (LD_RELEASE to @mode).
 */
#define LD_ACQUIRE(dep, mode, nested, ip)                                     \
	do {                                                                  \
		if (!check_acquire(dep, mode, nested, ip))                    \
			__kvmmu_bug(__FILE__, __LINE__,                       \
				    "recursive locking would self-deadlock"); \
	} while (0)
#define LD_RECORD(dep, mode, nested, ip) record(dep, mode, nested, ip)
#define LD_TRY(dep, ip)			 check_try(dep, ip)
#define LD_RELEASE(dep, mode, ip)	 check_release(dep, mode, ip)

#else /* !KVMMU_DEBUG: lockdep compiled out */

static kvmmu_lockdep_reporter_t reporter; /* stored, never called */

kvmmu_lockdep_reporter_t kvmmu_lockdep_set_reporter(kvmmu_lockdep_reporter_t fn)
{
	return __atomic_exchange_n(&reporter, fn, __ATOMIC_ACQ_REL);
}

int kvmmu_lockdep_depth(void)
{
	return 0;
}

#define LD_ACQUIRE(dep, mode, nested, ip) ((void)(ip))
#define LD_RECORD(dep, mode, nested, ip)  ((void)(ip))
#define LD_TRY(dep, ip)			  ((void)(ip))
#define LD_RELEASE(dep, mode, ip)	  ((void)(ip), (mode))

#endif /* KVMMU_DEBUG */

#define CALLER_IP __builtin_return_address(0)

static void dep_init(struct kvmmu_lockdep_map *dep, const char *name, int rank)
{
	dep->name = name ? name : "(unnamed)";
	dep->rank = rank;
}

static void mutex_init_kind(pthread_mutex_t *m, int kind)
{
	pthread_mutexattr_t a;

	BUG_ON(pthread_mutexattr_init(&a));
	BUG_ON(pthread_mutexattr_settype(&a, kind));
	BUG_ON(pthread_mutex_init(m, &a));
	pthread_mutexattr_destroy(&a);
}

/*
 * Mutexes and spinlocks share their bodies: both are a pthread_mutex_t
 * followed by the lockdep map, and are always held for "write".
 */
static void plain_lock(const void *lock, pthread_mutex_t *m,
		       const struct kvmmu_lockdep_map *dep, bool nested,
		       const void *ip)
{
	kvmmu_sched_point(KVMMU_SP_LOCK, lock);
	LD_ACQUIRE(dep, HELD_WRITE, nested, ip);
	BUG_ON(pthread_mutex_lock(m));
	LD_RECORD(dep, HELD_WRITE, nested, ip);
}

static bool plain_trylock(const void *lock, pthread_mutex_t *m,
			  const struct kvmmu_lockdep_map *dep, const void *ip)
{
	int ret;

	kvmmu_sched_point(KVMMU_SP_LOCK, lock);
	LD_TRY(dep, ip);
	ret = pthread_mutex_trylock(m);
	if (ret == EBUSY)
		return false;
	BUG_ON(ret);
	LD_RECORD(dep, HELD_WRITE, false, ip);
	return true;
}

static void plain_unlock(const void *lock, pthread_mutex_t *m,
			 const struct kvmmu_lockdep_map *dep, const void *ip)
{
	kvmmu_sched_point(KVMMU_SP_UNLOCK, lock);
	if (LD_RELEASE(dep, HELD_WRITE, ip))
		BUG_ON(pthread_mutex_unlock(m));
}

/* --- mutex ---------------------------------------------------------------- */

/**
 * kvmmu_mutex_init() - initialise a sleeping lock.
 * @l: the lock.
 * @name: name for lockdep reports (kept by reference).
 * @rank: its place in the lock order (enum kvmmu_lock_rank).
 *
 * Context: @l is not in use.
 */
void kvmmu_mutex_init(kvmmu_mutex_t *l, const char *name, int rank)
{
	mutex_init_kind(&l->m, PTHREAD_MUTEX_DEFAULT);
	dep_init(&l->dep, name, rank);
}

void kvmmu_mutex_destroy(kvmmu_mutex_t *l)
{
	BUG_ON(pthread_mutex_destroy(&l->m));
}

/**
 * kvmmu_mutex_lock() - take a mutex, sleeping if needed.
 * @l: the lock.
 *
 * Context: may block; the rank of @l must be above every lock the thread
 * holds (debug builds check, see the top of this file).
 */
void kvmmu_mutex_lock(kvmmu_mutex_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	plain_lock(l, &l->m, &l->dep, false, CALLER_IP);
}

/* As kvmmu_mutex_lock(), but the rank may equal the highest held rank. */
void kvmmu_mutex_lock_nested(kvmmu_mutex_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	plain_lock(l, &l->m, &l->dep, true, CALLER_IP);
}

/* Return: true if taken.  Context: never blocks; not order-checked. */
bool kvmmu_mutex_trylock(kvmmu_mutex_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	return plain_trylock(l, &l->m, &l->dep, CALLER_IP);
}

/* Context: the caller holds @l (any order of unlocks is fine). */
void kvmmu_mutex_unlock(kvmmu_mutex_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	plain_unlock(l, &l->m, &l->dep, CALLER_IP);
}

/* --- spinlock ------------------------------------------------------------- */

/**
 * kvmmu_spin_lock_init() - initialise a short-section lock.
 * @l: the lock.
 * @name: name for lockdep reports (kept by reference).
 * @rank: its place in the lock order.
 *
 * An adaptive mutex: spins briefly, then sleeps, because a user-space
 * holder can be preempted.  Context: @l is not in use.
 */
void kvmmu_spin_lock_init(kvmmu_spinlock_t *l, const char *name, int rank)
{
	mutex_init_kind(&l->m, PTHREAD_MUTEX_ADAPTIVE_NP);
	dep_init(&l->dep, name, rank);
}

void kvmmu_spin_lock_destroy(kvmmu_spinlock_t *l)
{
	BUG_ON(pthread_mutex_destroy(&l->m));
}

void kvmmu_spin_lock(kvmmu_spinlock_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	plain_lock(l, &l->m, &l->dep, false, CALLER_IP);
}

void kvmmu_spin_lock_nested(kvmmu_spinlock_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	plain_lock(l, &l->m, &l->dep, true, CALLER_IP);
}

void kvmmu_spin_unlock(kvmmu_spinlock_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	plain_unlock(l, &l->m, &l->dep, CALLER_IP);
}

/* --- rwlock --------------------------------------------------------------- */

/*
 * The reader/writer lock is a "big reader" lock, Linux's
 * percpu_rw_semaphore (kernel/locking/percpu-rwsem.c) with the calling
 * thread's shard standing in for the CPU:
 *
 *  - A reader adds 1 to its shard's counter, then reads @writer; if no
 *    writer is there, it holds the lock.  Otherwise it takes the 1 back,
 *    wakes the writer if that sleeps (it may be waiting for this very
 *    count), waits until @writer is clear and tries again.  Unlocking
 *    subtracts 1 and wakes the writer if one sleeps.
 *  - A writer takes @wgate (one writer at a time), sets @writer and waits
 *    for the counters to sum to zero: spinning, then yielding, then asleep
 *    on @wcond.  Unlocking clears @writer, wakes sleeping readers and
 *    releases @wgate.
 *
 * The handshake is Dekker's: the reader writes its counter then reads
 * @writer, the writer writes @writer then reads the counters.  All of
 * these are seq_cst atomics (the counter updates read-modify-writes), so
 * in the single total order of seq_cst operations at least one side sees
 * the other: the writer counts the reader, or the reader sees the writer
 * and backs off.  There is no stand-alone fence, which TSan would not
 * model; the edges that order critical sections are all reads-from edges
 * TSan sees: a read unlock is a release RMW of the counter, which the
 * writer's summing (acquire) load reads directly or through later RMWs of
 * the same counter (a release sequence); a write unlock is a release
 * store to @writer, which the next reader's acquire load reads.
 *
 * Sleeping uses the same pattern once more: a sleeper publishes
 * @writer_sleeping / @readers_sleeping (seq_cst) and then re-checks its
 * condition under @wait_lock; a waker changes the condition (seq_cst) and
 * then reads the flag, and signals under @wait_lock only if it is set.  So
 * the fast paths never touch @wait_lock, and no wake-up is lost.
 *
 * Writer preference: @writer is set while the writer waits for readers to
 * drain, so a waiting writer turns new readers away and is not starved.
 * (Readers can be starved by a continuous stream of writers, as with the
 * writer-preferring glibc rwlock this replaces.)
 *
 * Only the sum of the counters matters.  A thread always releases a read
 * hold on the shard it took it on, so every counter stays >= 0; the
 * counters are signed so that the sum would stay right even if a read
 * hold moved between threads.
 *
 * Downgrade: the writer counts itself as a reader on its shard before it
 * clears @writer, and releases @wgate last; the next writer waits for the
 * downgraded holder like for any reader, and no writer gets in between.
 *
 * Memory: KVMMU_RWLOCK_SHARDS cache lines per lock, inside the lock
 * object; the counters start at the first 64-byte boundary of @shard_mem.
 */

/* Checks of the readers' sum with a pause, then sched_yield()s, then sleep. */
#define RW_SPIN	  128
#define RW_YIELDS 16

static __thread unsigned int rw_shard_plus1;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* The calling thread's counter shard, fixed for its lifetime. */
static inline unsigned int rw_my_shard(void)
{
	if (unlikely(!rw_shard_plus1))
		rw_shard_plus1 =
			__kvmmu_thread_index() % KVMMU_RWLOCK_SHARDS + 1;
	return rw_shard_plus1 - 1;
}

static inline long *rw_counter(kvmmu_rwlock_t *l, unsigned int shard)
{
	uintptr_t p = (uintptr_t)l->shard_mem;
	size_t skip = ((64 - (p & 63)) & 63) / sizeof(long);

	return &l->shard_mem[skip + shard * KVMMU_RWLOCK_SHARD_LONGS];
}

/* Read holds (and backing-off readers) of all threads. */
static long rw_readers(kvmmu_rwlock_t *l)
{
	long sum = 0;
	unsigned int i;

	for (i = 0; i < KVMMU_RWLOCK_SHARDS; i++)
		sum += __atomic_load_n(rw_counter(l, i), __ATOMIC_SEQ_CST);
	return sum;
}

/* After a reader's count went down: wake the writer if it sleeps. */
static void rw_wake_writer(kvmmu_rwlock_t *l)
{
	if (likely(!__atomic_load_n(&l->writer_sleeping, __ATOMIC_SEQ_CST)))
		return;
	BUG_ON(pthread_mutex_lock(&l->wait_lock));
	BUG_ON(pthread_cond_signal(&l->wcond));
	BUG_ON(pthread_mutex_unlock(&l->wait_lock));
}

/* After @writer was cleared: wake the readers that sleep. */
static void rw_wake_readers(kvmmu_rwlock_t *l)
{
	if (likely(!__atomic_load_n(&l->readers_sleeping, __ATOMIC_SEQ_CST)))
		return;
	BUG_ON(pthread_mutex_lock(&l->wait_lock));
	BUG_ON(pthread_cond_broadcast(&l->rcond));
	BUG_ON(pthread_mutex_unlock(&l->wait_lock));
}

/* A reader turned away: wait until no writer holds or waits. */
static void rw_wait_writer(kvmmu_rwlock_t *l)
{
	int i;

	for (i = 0; i < RW_SPIN; i++) {
		if (!__atomic_load_n(&l->writer, __ATOMIC_RELAXED))
			return; /* the caller re-checks (seq_cst) */
		cpu_relax();
	}
	BUG_ON(pthread_mutex_lock(&l->wait_lock));
	__atomic_fetch_add(&l->readers_sleeping, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&l->writer, __ATOMIC_SEQ_CST))
		BUG_ON(pthread_cond_wait(&l->rcond, &l->wait_lock));
	__atomic_fetch_sub(&l->readers_sleeping, 1, __ATOMIC_RELAXED);
	BUG_ON(pthread_mutex_unlock(&l->wait_lock));
}

/* The writer, @writer set: wait until no read hold is left. */
static void rw_wait_readers(kvmmu_rwlock_t *l)
{
	int i;

	for (i = 0; i < RW_SPIN + RW_YIELDS; i++) {
		if (!rw_readers(l))
			return;
		if (i < RW_SPIN)
			cpu_relax();
		else
			sched_yield();
	}
	BUG_ON(pthread_mutex_lock(&l->wait_lock));
	__atomic_store_n(&l->writer_sleeping, 1, __ATOMIC_SEQ_CST);
	while (rw_readers(l))
		BUG_ON(pthread_cond_wait(&l->wcond, &l->wait_lock));
	__atomic_store_n(&l->writer_sleeping, 0, __ATOMIC_RELAXED);
	BUG_ON(pthread_mutex_unlock(&l->wait_lock));
}

/* One read attempt on counter @cnt.  Return: true if the hold is taken. */
static inline bool rw_read_try(kvmmu_rwlock_t *l, long *cnt)
{
	__atomic_fetch_add(cnt, 1, __ATOMIC_SEQ_CST);
	if (likely(!__atomic_load_n(&l->writer, __ATOMIC_SEQ_CST)))
		return true;
	/* A writer holds or waits: back off (it may be counting us). */
	__atomic_fetch_sub(cnt, 1, __ATOMIC_SEQ_CST);
	rw_wake_writer(l);
	return false;
}

static void rw_read_acquire(kvmmu_rwlock_t *l)
{
	long *cnt = rw_counter(l, rw_my_shard());

	while (unlikely(!rw_read_try(l, cnt)))
		rw_wait_writer(l);
}

static inline void rw_read_release(kvmmu_rwlock_t *l)
{
	__atomic_fetch_sub(rw_counter(l, rw_my_shard()), 1, __ATOMIC_SEQ_CST);
	rw_wake_writer(l);
}

static void rw_write_acquire(kvmmu_rwlock_t *l)
{
	BUG_ON(pthread_mutex_lock(&l->wgate));
	__atomic_store_n(&l->writer, 1, __ATOMIC_SEQ_CST);
	rw_wait_readers(l);
}

static bool rw_write_try(kvmmu_rwlock_t *l)
{
	int ret = pthread_mutex_trylock(&l->wgate);

	if (ret == EBUSY)
		return false;
	BUG_ON(ret);
	/* Readers in: fail without turning new readers away. */
	if (!rw_readers(l)) {
		__atomic_store_n(&l->writer, 1, __ATOMIC_SEQ_CST);
		if (!rw_readers(l))
			return true;
		__atomic_store_n(&l->writer, 0, __ATOMIC_SEQ_CST);
		rw_wake_readers(l);
	}
	BUG_ON(pthread_mutex_unlock(&l->wgate));
	return false;
}

static void rw_write_release(kvmmu_rwlock_t *l)
{
	__atomic_store_n(&l->writer, 0, __ATOMIC_SEQ_CST);
	rw_wake_readers(l);
	BUG_ON(pthread_mutex_unlock(&l->wgate));
}

/**
 * kvmmu_rwlock_init() - initialise a reader/writer lock.
 * @l: the lock.
 * @name: name for lockdep reports (kept by reference).
 * @rank: its place in the lock order.
 *
 * Writer-preferring: once a writer waits, new readers queue behind it, so
 * a thread must never take the read side twice.  Context: @l is not in use.
 */
void kvmmu_rwlock_init(kvmmu_rwlock_t *l, const char *name, int rank)
{
	l->writer = 0;
	l->writer_sleeping = 0;
	l->readers_sleeping = 0;
	memset(l->shard_mem, 0, sizeof(l->shard_mem));
	mutex_init_kind(&l->wgate, PTHREAD_MUTEX_DEFAULT);
	mutex_init_kind(&l->wait_lock, PTHREAD_MUTEX_DEFAULT);
	BUG_ON(pthread_cond_init(&l->rcond, NULL));
	BUG_ON(pthread_cond_init(&l->wcond, NULL));
	dep_init(&l->dep, name, rank);
}

/* Context: @l is not held and nobody waits for it. */
void kvmmu_rwlock_destroy(kvmmu_rwlock_t *l)
{
	BUG_ON(__atomic_load_n(&l->writer, __ATOMIC_RELAXED));
	BUG_ON(rw_readers(l));
	BUG_ON(pthread_mutex_destroy(&l->wgate));
	BUG_ON(pthread_mutex_destroy(&l->wait_lock));
	BUG_ON(pthread_cond_destroy(&l->rcond));
	BUG_ON(pthread_cond_destroy(&l->wcond));
}

/* Drop what the thread holds: a write hold also owns the writers' gate. */
static void rw_release(kvmmu_rwlock_t *l,
		       int held_mode) NO_THREAD_SAFETY_ANALYSIS
{
	if (held_mode == HELD_READ)
		rw_read_release(l);
	else if (held_mode == HELD_WRITE)
		rw_write_release(l);
}

/*
 * kvmmu_read_lock() - take a reader/writer lock shared.
 * @l: the lock.
 *
 * Scales with the number of readers: a read hold writes only the calling
 * thread's counter.  Waits while a writer holds @l or waits for it.
 *
 * Context: may block; order-checked as kvmmu_mutex_lock().
 */
void kvmmu_read_lock(kvmmu_rwlock_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	const void *ip = CALLER_IP;

	kvmmu_sched_point(KVMMU_SP_LOCK, l);
	LD_ACQUIRE(&l->dep, HELD_READ, false, ip);
	rw_read_acquire(l);
	LD_RECORD(&l->dep, HELD_READ, false, ip);
}

/* Return: true if taken; false if a writer holds or waits.  Never blocks. */
bool kvmmu_read_trylock(kvmmu_rwlock_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	const void *ip = CALLER_IP;

	kvmmu_sched_point(KVMMU_SP_LOCK, l);
	LD_TRY(&l->dep, ip);
	if (!rw_read_try(l, rw_counter(l, rw_my_shard())))
		return false;
	LD_RECORD(&l->dep, HELD_READ, false, ip);
	return true;
}

void kvmmu_read_unlock(kvmmu_rwlock_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	kvmmu_sched_point(KVMMU_SP_UNLOCK, l);
	rw_release(l, LD_RELEASE(&l->dep, HELD_READ, CALLER_IP));
}

static void write_lock(kvmmu_rwlock_t *l, bool nested,
		       const void *ip) NO_THREAD_SAFETY_ANALYSIS
{
	kvmmu_sched_point(KVMMU_SP_LOCK, l);
	LD_ACQUIRE(&l->dep, HELD_WRITE, nested, ip);
	rw_write_acquire(l);
	LD_RECORD(&l->dep, HELD_WRITE, nested, ip);
}

/**
 * kvmmu_write_lock() - take a reader/writer lock exclusively.
 * @l: the lock.
 *
 * Writers pass the gate mutex first and keep it while they hold @l, which
 * is what makes kvmmu_write_downgrade() atomic.  From the moment this
 * writer waits, new readers wait for it.
 *
 * Context: may block; order-checked as kvmmu_mutex_lock().
 */
void kvmmu_write_lock(kvmmu_rwlock_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	write_lock(l, false, CALLER_IP);
}

void kvmmu_write_lock_nested(kvmmu_rwlock_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	write_lock(l, true, CALLER_IP);
}

/* Return: true if taken; false if held in any mode.  Never blocks. */
bool kvmmu_write_trylock(kvmmu_rwlock_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	const void *ip = CALLER_IP;

	kvmmu_sched_point(KVMMU_SP_LOCK, l);
	LD_TRY(&l->dep, ip);
	if (!rw_write_try(l))
		return false;
	LD_RECORD(&l->dep, HELD_WRITE, false, ip);
	return true;
}

void kvmmu_write_unlock(kvmmu_rwlock_t *l) NO_THREAD_SAFETY_ANALYSIS
{
	kvmmu_sched_point(KVMMU_SP_UNLOCK, l);
	rw_release(l, LD_RELEASE(&l->dep, HELD_WRITE, CALLER_IP));
}

/**
 * kvmmu_write_downgrade() - turn a write hold into a read hold.
 * @l: the lock, held for write by the caller.
 *
 * No writer can get in between: the caller becomes a reader (on its
 * shard) while it still turns readers away and holds the gate; only then
 * does it clear the writer flag, which lets readers in, and release the
 * gate, after which the next writer waits for this read hold like for any.
 *
 * Models: mmap_write_downgrade().  Context: the caller holds @l for write.
 */
void kvmmu_write_downgrade(kvmmu_rwlock_t *l) NO_THREAD_SAFETY_ANALYSIS
{
#ifdef KVMMU_DEBUG
	const void *ip = CALLER_IP;
	struct held_lock *h = find_held(&l->dep);

	if (!h && !ld.untracked) {
		report(KVMMU_LOCKDEP_NOT_HELD, &l->dep, NULL, NULL, 0, ip);
		return;
	}
	if (h && h->mode != HELD_WRITE) {
		report(KVMMU_LOCKDEP_WRONG_MODE, &l->dep, &l->dep, NULL, 0, ip);
		return;
	}
	if (h)
		h->mode = HELD_READ;
#endif
	kvmmu_sched_point(KVMMU_SP_UNLOCK, l);
	__atomic_fetch_add(rw_counter(l, rw_my_shard()), 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&l->writer, 0, __ATOMIC_SEQ_CST);
	rw_wake_readers(l);
	BUG_ON(pthread_mutex_unlock(&l->wgate));
}
