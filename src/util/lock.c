// SPDX-License-Identifier: MIT
/*
 * Lock wrappers and lockdep.
 *
 * The mutex and spinlock wrappers are thin pthread calls; the rwlock is a
 * sharded reader count with a writer flag (rwlock.c; the hooks and helpers
 * both files use are in lock_internal.h).  Every operation first passes the
 * scheduling hook; a pthread error can only mean misuse of the lock object
 * itself (uninitialised, destroyed while held, ...) and is a BUG_ON.
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
#include <stdio.h>

#include <kvmmu/lock.h>
#include <kvmmu/log.h>

#include "lock_internal.h"

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
bool __kvmmu_lockdep_acquire(const struct kvmmu_lockdep_map *map, int mode,
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
void __kvmmu_lockdep_try(const struct kvmmu_lockdep_map *map, const void *ip)
{
	if (find_held(map))
		report(KVMMU_LOCKDEP_RECURSION, map, map, NULL, 0, ip);
}

/* After the lock is taken. */
void __kvmmu_lockdep_record(const struct kvmmu_lockdep_map *map, int mode,
			    bool nested, const void *ip)
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
int __kvmmu_lockdep_release(const struct kvmmu_lockdep_map *map, int mode,
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

/*
 * Before a downgrade: the write hold becomes a read hold.  Returns false if
 * this thread does not hold the lock for write and the downgrade must be
 * skipped.
 */
bool __kvmmu_lockdep_downgrade(const struct kvmmu_lockdep_map *map,
			       const void *ip)
{
	struct held_lock *h = find_held(map);

	if (!h && !ld.untracked) {
		report(KVMMU_LOCKDEP_NOT_HELD, map, NULL, NULL, 0, ip);
		return false;
	}
	if (h && h->mode != HELD_WRITE) {
		report(KVMMU_LOCKDEP_WRONG_MODE, map, map, NULL, 0, ip);
		return false;
	}
	if (h)
		h->mode = HELD_READ;
	return true;
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

#endif /* KVMMU_DEBUG */

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
	__kvmmu_mutex_init_kind(&l->m, PTHREAD_MUTEX_DEFAULT);
	__kvmmu_dep_init(&l->dep, name, rank);
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
	__kvmmu_mutex_init_kind(&l->m, PTHREAD_MUTEX_ADAPTIVE_NP);
	__kvmmu_dep_init(&l->dep, name, rank);
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
