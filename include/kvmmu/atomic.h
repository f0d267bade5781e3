/* SPDX-License-Identifier: MIT */
/*
 * Atomics with the kernel's names, on plain integer and pointer objects.
 *
 * They map onto the GCC/clang __atomic builtins, which TSan understands, so
 * a race through these accessors is visible to the sanitizer and every
 * accessor is an interaction point for the scheduling hook (sched.h).
 *
 *	READ_ONCE(x), WRITE_ONCE(x, v)	  relaxed load/store
 *	smp_load_acquire(p), smp_store_release(p, v)
 *	smp_mb(), smp_rmb(), smp_wmb()	  fences (seq_cst, acquire, release)
 *	cmpxchg(p, old, new)		  returns the old value (seq_cst)
 *	try_cmpxchg(p, &old, new)	  bool; updates old on failure
 *	xchg(p, v)			  returns the old value
 *	atomic_t / atomic64_t / atomic_long_t with atomic*_read, _set, _inc,
 *	_dec, _add/sub_return, _dec_and_test, _inc_not_zero, _fetch_*
 *
 * Ordering note (TSan): TSan does not model stand-alone fences, so an
 * smp_wmb()/smp_rmb() pair between relaxed accesses can look like a race to
 * it.  Prefer smp_store_release()/smp_load_acquire() on the variable that
 * publishes, and keep the fence only where the kernel's protocol needs one
 * (and then make the published accesses acquire/release as well).
 */
#ifndef KVMMU_ATOMIC_H
#define KVMMU_ATOMIC_H

#include "compiler.h"
#include "sched.h"

#define READ_ONCE(x)                                     \
	({                                               \
		kvmmu_sched_point(KVMMU_SP_LOAD, &(x));  \
		__atomic_load_n(&(x), __ATOMIC_RELAXED); \
	})
#define WRITE_ONCE(x, v)                                       \
	do {                                                   \
		kvmmu_sched_point(KVMMU_SP_STORE, &(x));       \
		__atomic_store_n(&(x), (v), __ATOMIC_RELAXED); \
	} while (0)

#define smp_load_acquire(p)                             \
	({                                              \
		kvmmu_sched_point(KVMMU_SP_LOAD, (p));  \
		__atomic_load_n((p), __ATOMIC_ACQUIRE); \
	})
#define smp_store_release(p, v)                               \
	do {                                                  \
		kvmmu_sched_point(KVMMU_SP_STORE, (p));       \
		__atomic_store_n((p), (v), __ATOMIC_RELEASE); \
	} while (0)

#define smp_mb()                                         \
	do {                                             \
		kvmmu_sched_point(KVMMU_SP_FENCE, NULL); \
		__atomic_thread_fence(__ATOMIC_SEQ_CST); \
	} while (0)
#define smp_rmb()                                        \
	do {                                             \
		kvmmu_sched_point(KVMMU_SP_FENCE, NULL); \
		__atomic_thread_fence(__ATOMIC_ACQUIRE); \
	} while (0)
#define smp_wmb()                                        \
	do {                                             \
		kvmmu_sched_point(KVMMU_SP_FENCE, NULL); \
		__atomic_thread_fence(__ATOMIC_RELEASE); \
	} while (0)

#define cmpxchg(p, o, n)                                           \
	({                                                         \
		__typeof__(*(p)) __o = (o);                        \
		kvmmu_sched_point(KVMMU_SP_RMW, (p));              \
		__atomic_compare_exchange_n((p), &__o, (n), false, \
					    __ATOMIC_SEQ_CST,      \
					    __ATOMIC_SEQ_CST);     \
		__o;                                               \
	})
#define try_cmpxchg(p, po, n)                                      \
	({                                                         \
		kvmmu_sched_point(KVMMU_SP_RMW, (p));              \
		__atomic_compare_exchange_n((p), (po), (n), false, \
					    __ATOMIC_SEQ_CST,      \
					    __ATOMIC_SEQ_CST);     \
	})
#define xchg(p, v)                                               \
	({                                                       \
		kvmmu_sched_point(KVMMU_SP_RMW, (p));            \
		__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST); \
	})

/* Fetch-and-op on a plain object, relaxed (statistics, bit fields). */
#define __fetch_add_relaxed(p, v)                               \
	({                                                      \
		kvmmu_sched_point(KVMMU_SP_RMW, (p));           \
		__atomic_fetch_add((p), (v), __ATOMIC_RELAXED); \
	})

#define __KVMMU_ATOMIC_OPS(pfx, T, CT)                                         \
	typedef struct {                                                       \
		CT counter;                                                    \
	} T;                                                                   \
	static inline CT pfx##_read(const T *v)                                \
	{                                                                      \
		kvmmu_sched_point(KVMMU_SP_LOAD, &v->counter);                 \
		return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);         \
	}                                                                      \
	static inline void pfx##_set(T *v, CT i)                               \
	{                                                                      \
		kvmmu_sched_point(KVMMU_SP_STORE, &v->counter);                \
		__atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);            \
	}                                                                      \
	static inline CT pfx##_add_return(CT i, T *v)                          \
	{                                                                      \
		kvmmu_sched_point(KVMMU_SP_RMW, &v->counter);                  \
		return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST);   \
	}                                                                      \
	static inline CT pfx##_sub_return(CT i, T *v)                          \
	{                                                                      \
		kvmmu_sched_point(KVMMU_SP_RMW, &v->counter);                  \
		return __atomic_sub_fetch(&v->counter, i, __ATOMIC_SEQ_CST);   \
	}                                                                      \
	static inline CT pfx##_fetch_add(CT i, T *v)                           \
	{                                                                      \
		kvmmu_sched_point(KVMMU_SP_RMW, &v->counter);                  \
		return __atomic_fetch_add(&v->counter, i, __ATOMIC_SEQ_CST);   \
	}                                                                      \
	static inline CT pfx##_fetch_sub(CT i, T *v)                           \
	{                                                                      \
		kvmmu_sched_point(KVMMU_SP_RMW, &v->counter);                  \
		return __atomic_fetch_sub(&v->counter, i, __ATOMIC_SEQ_CST);   \
	}                                                                      \
	static inline void pfx##_add(CT i, T *v)                               \
	{                                                                      \
		pfx##_fetch_add(i, v);                                         \
	}                                                                      \
	static inline void pfx##_sub(CT i, T *v)                               \
	{                                                                      \
		pfx##_fetch_sub(i, v);                                         \
	}                                                                      \
	static inline void pfx##_inc(T *v)                                     \
	{                                                                      \
		pfx##_fetch_add(1, v);                                         \
	}                                                                      \
	static inline void pfx##_dec(T *v)                                     \
	{                                                                      \
		pfx##_fetch_sub(1, v);                                         \
	}                                                                      \
	static inline CT pfx##_inc_return(T *v)                                \
	{                                                                      \
		return pfx##_add_return(1, v);                                 \
	}                                                                      \
	static inline CT pfx##_dec_return(T *v)                                \
	{                                                                      \
		return pfx##_sub_return(1, v);                                 \
	}                                                                      \
	static inline bool pfx##_dec_and_test(T *v)                            \
	{                                                                      \
		return pfx##_sub_return(1, v) == 0;                            \
	}                                                                      \
	/* Add @a unless the value is @u; true if it added. */                 \
	static inline bool pfx##_add_unless(T *v, CT a, CT u)                  \
	{                                                                      \
		CT c = pfx##_read(v);                                          \
		do {                                                           \
			if (c == u)                                            \
				return false;                                  \
		} while (!__atomic_compare_exchange_n(&v->counter, &c, c + a,  \
						      false, __ATOMIC_SEQ_CST, \
						      __ATOMIC_RELAXED));      \
		return true;                                                   \
	}                                                                      \
	static inline bool pfx##_inc_not_zero(T *v)                            \
	{                                                                      \
		return pfx##_add_unless(v, 1, 0);                              \
	}                                                                      \
	static inline CT pfx##_cmpxchg(T *v, CT o, CT n)                       \
	{                                                                      \
		return cmpxchg(&v->counter, o, n);                             \
	}

__KVMMU_ATOMIC_OPS(atomic, atomic_t, int)
__KVMMU_ATOMIC_OPS(atomic64, atomic64_t, int64_t)
__KVMMU_ATOMIC_OPS(atomic_long, atomic_long_t, long)

#define ATOMIC_INIT(i) \
	{              \
		(i)    \
	}

#endif /* KVMMU_ATOMIC_H */
