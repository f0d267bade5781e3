/* SPDX-License-Identifier: MIT */
/*
 * Private to the lock wrappers: what lock.c (lockdep, mutex, spinlock) and
 * rwlock.c (the reader/writer lock) share.  That is the hold modes, the
 * lockdep hooks every lock operation calls, and two init helpers.
 * Lockdep's state (each thread's held locks) and its checks stay in
 * lock.c; in release builds the hooks compile to nothing.
 */
#ifndef KVMMU_UTIL_LOCK_INTERNAL_H
#define KVMMU_UTIL_LOCK_INTERNAL_H

#include <pthread.h>

#include <kvmmu/lock.h>
#include <kvmmu/log.h>

/* How a lock is held; a mutex or spinlock is always held for write. */
enum {
	HELD_READ = 1,
	HELD_WRITE = 2
};

/* In a lock function: the return address, i.e. who called the wrapper. */
#define CALLER_IP __builtin_return_address(0)

#ifdef KVMMU_DEBUG

/*
 * Lockdep hooks (lock.c); @ip is the wrapper's caller, @mode HELD_*.
 *
 * __kvmmu_lockdep_acquire(): before a blocking acquisition.  Return: false
 * if acquiring would certainly deadlock this thread on itself.
 * __kvmmu_lockdep_try(): before a trylock (recursion check only).
 * __kvmmu_lockdep_record(): after the lock is taken.
 * __kvmmu_lockdep_release(): before a release.  Return: the mode the lock
 * is really held in, or 0 if this thread does not hold it (skip the
 * release).
 * __kvmmu_lockdep_downgrade(): before a write hold becomes a read hold.
 * Return: false if this thread does not hold the lock for write (skip the
 * downgrade).
 *
 * Context: the calling thread's holds only.
 */
bool __kvmmu_lockdep_acquire(const struct kvmmu_lockdep_map *map, int mode,
			     bool nested, const void *ip);
void __kvmmu_lockdep_try(const struct kvmmu_lockdep_map *map, const void *ip);
void __kvmmu_lockdep_record(const struct kvmmu_lockdep_map *map, int mode,
			    bool nested, const void *ip);
int __kvmmu_lockdep_release(const struct kvmmu_lockdep_map *map, int mode,
			    const void *ip);
bool __kvmmu_lockdep_downgrade(const struct kvmmu_lockdep_map *map,
			       const void *ip);

/*
 * Lockdep hooks used by the wrappers; @ip is the wrapper's caller.
 * In release builds they compile to nothing (LD_RELEASE to @mode,
 * LD_DOWNGRADE to true).
 */
#define LD_ACQUIRE(dep, mode, nested, ip)                                     \
	do {                                                                  \
		if (!__kvmmu_lockdep_acquire(dep, mode, nested, ip))          \
			__kvmmu_bug(__FILE__, __LINE__,                       \
				    "recursive locking would self-deadlock"); \
	} while (0)
#define LD_RECORD(dep, mode, nested, ip) \
	__kvmmu_lockdep_record(dep, mode, nested, ip)
#define LD_TRY(dep, ip)		  __kvmmu_lockdep_try(dep, ip)
#define LD_RELEASE(dep, mode, ip) __kvmmu_lockdep_release(dep, mode, ip)
#define LD_DOWNGRADE(dep, ip)	  __kvmmu_lockdep_downgrade(dep, ip)

#else /* !KVMMU_DEBUG: lockdep compiled out */

#define LD_ACQUIRE(dep, mode, nested, ip) ((void)(ip))
#define LD_RECORD(dep, mode, nested, ip)  ((void)(ip))
#define LD_TRY(dep, ip)			  ((void)(ip))
#define LD_RELEASE(dep, mode, ip)	  ((void)(ip), (mode))
#define LD_DOWNGRADE(dep, ip)		  ((void)(ip), true)

#endif /* KVMMU_DEBUG */

static inline void __kvmmu_dep_init(struct kvmmu_lockdep_map *dep,
				    const char *name, int rank)
{
	dep->name = name ? name : "(unnamed)";
	dep->rank = rank;
}

/* pthread_mutex_init() with mutex type @kind; failure is a BUG. */
static inline void __kvmmu_mutex_init_kind(pthread_mutex_t *m, int kind)
{
	pthread_mutexattr_t a;

	BUG_ON(pthread_mutexattr_init(&a));
	BUG_ON(pthread_mutexattr_settype(&a, kind));
	BUG_ON(pthread_mutex_init(m, &a));
	pthread_mutexattr_destroy(&a);
}

#endif /* KVMMU_UTIL_LOCK_INTERNAL_H */
