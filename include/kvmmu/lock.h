/* SPDX-License-Identifier: MIT */
/*
 * Lock wrappers: mutex, spinlock, rwlock (rwlock_t and the mmap_lock-style
 * rw semaphore are the same object here), with lockdep in debug builds.
 *
 * Every lock has a name and a rank (enum kvmmu_lock_rank, outermost first).
 * In debug builds each thread keeps the list of locks it holds; taking a lock
 * whose rank is not above every lock already held is an order violation
 * (the _nested variants allow one equal rank, as fork() holds the parent's
 * and the child's mmap_lock).  Taking a lock the thread already holds is a
 * recursion violation.  Violations go to the lockdep reporter (default:
 * log both locks and count a warning, see log.h); tests may install their
 * own.  lockdep_assert_held*() check the calling thread's list.
 *
 * All operations pass through the scheduling hook (sched.h).  Blocking
 * "spinlocks" are adaptive mutexes: user-space threads can be preempted
 * while holding one, so they must not busy-wait forever.
 *
 * The rank list below is also the lock order of docs/locking.rst.
 */
#ifndef KVMMU_LOCK_H
#define KVMMU_LOCK_H

#include <pthread.h>
#include "compiler.h"
#include "sched.h"

enum kvmmu_lock_rank {
	KVMMU_RANK_NONE = 0,
	/* kvm: serialises memslot updates (later layers) */
	KVMMU_RANK_SLOTS_LOCK = 10,
	KVMMU_RANK_SLOTS_ARCH_LOCK = 12,
	/* host: the mm list of a host, fork/exit bookkeeping */
	KVMMU_RANK_HOST_MM_LIST = 20,
	/* host: per-mm mmap_lock (rw semaphore) */
	KVMMU_RANK_MMAP_LOCK = 30,
	/* host: per-file inode lock (truncate, punch hole, size) */
	KVMMU_RANK_INODE = 35,
	/* host: per-file i_mmap (rw), the list of VMAs mapping a file */
	KVMMU_RANK_I_MMAP = 40,
	/*
	 * host: per page-table-page lock (split PTL).  Young notifier callbacks
	 * run under it (ptep_clear_flush_young_notify), so it ranks above the
	 * subscription list and every KVM lock.
	 */
	KVMMU_RANK_PTL = 45,
	/* host: per-mm notifier subscription list (rw, read in callbacks) */
	KVMMU_RANK_MN_SUBSCRIPTIONS = 50,
	/* kvm: mn_invalidate_lock, mmu_lock, ... (later layers) */
	KVMMU_RANK_KVM_MN_INVALIDATE = 60,
	KVMMU_RANK_KVM_MMU_LOCK = 70,
	/* host: per-file page cache */
	KVMMU_RANK_PAGE_CACHE = 90,
	/* leaves: nothing is taken under them */
	KVMMU_RANK_LEAF = 1000,
};

struct kvmmu_lockdep_map {
	const char *name;
	int rank;
};

typedef struct CAPABILITY("mutex") kvmmu_mutex {
	pthread_mutex_t m;
	struct kvmmu_lockdep_map dep;
} kvmmu_mutex_t;

/* A short critical section lock; adaptive (spins, then sleeps). */
typedef struct CAPABILITY("mutex") kvmmu_spinlock {
	pthread_mutex_t m;
	struct kvmmu_lockdep_map dep;
} kvmmu_spinlock_t;

/*
 * Reader/writer lock, writer-preferring (no reader recursion allowed), with
 * a scalable read side (a "big reader" lock, like Linux's percpu_rw_semaphore).
 *
 * Readers count themselves in one of KVMMU_RWLOCK_SHARDS counters, each on
 * its own cache line (the calling thread's shard), so concurrent readers
 * share no written cache line; they only read @writer.  A writer passes
 * @wgate (held for as long as it holds the lock for write, which is what
 * makes kvmmu_write_downgrade() atomic), raises @writer, which turns new
 * readers away, and waits for the sum of the counters to drain to zero.
 * @wait_lock, @rcond and @wcond are the slow path: readers sleep there
 * while a writer is in, the writer while readers drain.  See
 * src/util/rwlock.c for the protocol.
 *
 * Size: about 1.3 KiB (the counters' cache lines), embedded per mm, per
 * file and per VM.  The counters start at the first 64-byte boundary of
 * @shard_mem, so the lock needs no over-aligned allocation.
 */
#define KVMMU_RWLOCK_SHARDS	 16
/* longs per cache line: one counter per line, the rest is padding */
#define KVMMU_RWLOCK_SHARD_LONGS (64 / sizeof(long))

typedef struct CAPABILITY("rwlock") kvmmu_rwlock {
	int writer;	      /* a writer holds or waits for the lock */
	int writer_sleeping;  /* ... and sleeps on @wcond */
	int readers_sleeping; /* readers asleep on @rcond */
	pthread_mutex_t wgate;
	pthread_mutex_t wait_lock;
	pthread_cond_t rcond, wcond;
	struct kvmmu_lockdep_map dep;
	long shard_mem[(KVMMU_RWLOCK_SHARDS + 1) * KVMMU_RWLOCK_SHARD_LONGS];
} kvmmu_rwlock_t;

void kvmmu_mutex_init(kvmmu_mutex_t *l, const char *name, int rank);
void kvmmu_mutex_destroy(kvmmu_mutex_t *l);
void kvmmu_mutex_lock(kvmmu_mutex_t *l) ACQUIRE(*l);
void kvmmu_mutex_lock_nested(kvmmu_mutex_t *l) ACQUIRE(*l);
bool kvmmu_mutex_trylock(kvmmu_mutex_t *l) TRY_ACQUIRE(true, *l);
void kvmmu_mutex_unlock(kvmmu_mutex_t *l) RELEASE(*l);

void kvmmu_spin_lock_init(kvmmu_spinlock_t *l, const char *name, int rank);
void kvmmu_spin_lock_destroy(kvmmu_spinlock_t *l);
void kvmmu_spin_lock(kvmmu_spinlock_t *l) ACQUIRE(*l);
void kvmmu_spin_lock_nested(kvmmu_spinlock_t *l) ACQUIRE(*l);
void kvmmu_spin_unlock(kvmmu_spinlock_t *l) RELEASE(*l);

void kvmmu_rwlock_init(kvmmu_rwlock_t *l, const char *name, int rank);
void kvmmu_rwlock_destroy(kvmmu_rwlock_t *l);
void kvmmu_read_lock(kvmmu_rwlock_t *l) ACQUIRE_SHARED(*l);
bool kvmmu_read_trylock(kvmmu_rwlock_t *l) TRY_ACQUIRE_SHARED(true, *l);
void kvmmu_read_unlock(kvmmu_rwlock_t *l) RELEASE_SHARED(*l);
void kvmmu_write_lock(kvmmu_rwlock_t *l) ACQUIRE(*l);
void kvmmu_write_lock_nested(kvmmu_rwlock_t *l) ACQUIRE(*l);
bool kvmmu_write_trylock(kvmmu_rwlock_t *l) TRY_ACQUIRE(true, *l);
void kvmmu_write_unlock(kvmmu_rwlock_t *l) RELEASE(*l);
/* Downgrade a held write lock to read (mmap_write_downgrade). */
void kvmmu_write_downgrade(kvmmu_rwlock_t *l) RELEASE(*l) ACQUIRE_SHARED(*l);

/* --- lockdep -------------------------------------------------------------- */

enum kvmmu_lockdep_violation {
	KVMMU_LOCKDEP_ORDER,	  /* rank not above a held lock */
	KVMMU_LOCKDEP_RECURSION,  /* lock already held by this thread */
	KVMMU_LOCKDEP_NOT_HELD,	  /* unlock or assert of a lock not held */
	KVMMU_LOCKDEP_WRONG_MODE, /* held for read where write was required */
	KVMMU_LOCKDEP_DEPTH,	  /* too many locks held at once */
	KVMMU_LOCKDEP_HELD_AT_EXIT,
};

typedef void (*kvmmu_lockdep_reporter_t)(enum kvmmu_lockdep_violation v,
					 const struct kvmmu_lockdep_map *taking,
					 const struct kvmmu_lockdep_map *held,
					 const char *file, int line);

/**
 * kvmmu_lockdep_set_reporter() - install the violation reporter (NULL
 * restores the default, which logs and counts a warning).  Return: the
 * previous one.  Context: any.
 */
kvmmu_lockdep_reporter_t
kvmmu_lockdep_set_reporter(kvmmu_lockdep_reporter_t fn);

/* How many locks the calling thread holds (0 in release builds). */
int kvmmu_lockdep_depth(void);

#ifdef KVMMU_DEBUG
void __kvmmu_lockdep_assert(const struct kvmmu_lockdep_map *dep, int mode,
			    const char *file, int line);
#define __LOCKDEP_ASSERT(l, mode) \
	__kvmmu_lockdep_assert(&(l)->dep, mode, __FILE__, __LINE__)
#else
#define __LOCKDEP_ASSERT(l, mode) ((void)(l))
#endif

/*
 * lockdep_assert_held(l): held in any mode by the calling thread.
 * lockdep_assert_held_write(l) / _read(l): held in that mode.
 * lockdep_assert_not_held(l): not held by the calling thread.
 * lockdep_assert_none_held(): the thread holds no kvmmu lock at all
 * (e.g. before calling out to a user callback).
 */
#define lockdep_assert_held(l)	     __LOCKDEP_ASSERT(l, 0)
#define lockdep_assert_held_write(l) __LOCKDEP_ASSERT(l, 1)
#define lockdep_assert_held_read(l)  __LOCKDEP_ASSERT(l, 2)
#define lockdep_assert_not_held(l)   __LOCKDEP_ASSERT(l, 3)
#ifdef KVMMU_DEBUG
#define lockdep_assert_none_held() \
	__kvmmu_lockdep_assert(NULL, 4, __FILE__, __LINE__)
#else
#define lockdep_assert_none_held() ((void)0)
#endif

#endif /* KVMMU_LOCK_H */
