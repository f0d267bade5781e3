// SPDX-License-Identifier: MIT
/*
 * The reader/writer lock, kvmmu_rwlock_t.
 *
 * It is a "big reader" lock, Linux's percpu_rw_semaphore
 * (kernel/locking/percpu-rwsem.c) with the calling thread's shard standing
 * in for the CPU:
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
 *
 * Lockdep checks it like the other locks (the rules are at the top of
 * lock.c), through the hooks in lock_internal.h.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include <kvmmu/lock.h>
#include <kvmmu/log.h>

#include "internal.h"
#include "lock_internal.h"

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
		rw_shard_plus1 = __kvmmu_thread_shard(KVMMU_RWLOCK_SHARDS) + 1;
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
	__kvmmu_mutex_init_kind(&l->wgate, PTHREAD_MUTEX_DEFAULT);
	__kvmmu_mutex_init_kind(&l->wait_lock, PTHREAD_MUTEX_DEFAULT);
	BUG_ON(pthread_cond_init(&l->rcond, NULL));
	BUG_ON(pthread_cond_init(&l->wcond, NULL));
	__kvmmu_dep_init(&l->dep, name, rank);
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
	if (!LD_DOWNGRADE(&l->dep, CALLER_IP))
		return;
	kvmmu_sched_point(KVMMU_SP_UNLOCK, l);
	__atomic_fetch_add(rw_counter(l, rw_my_shard()), 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&l->writer, 0, __ATOMIC_SEQ_CST);
	rw_wake_readers(l);
	BUG_ON(pthread_mutex_unlock(&l->wgate));
}
