/* SPDX-License-Identifier: MIT */
/*
 * Compiler helpers and the clang thread-safety annotations.
 *
 * The annotations are checked by the `-Wthread-safety` build of make check
 * (TSA=1).  In C, clang 14 accepts them on functions and lock types, not on
 * struct fields, so kvmmu annotates functions: lock wrappers ACQUIRE and
 * RELEASE, and every __foo() that runs with a lock held says REQUIRES().
 */
#ifndef KVMMU_COMPILER_H
#define KVMMU_COMPILER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define __maybe_unused __attribute__((unused))
/* glibc's <sys/cdefs.h> (pulled in by <stdint.h>) has its own, equivalent. */
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define __noinline	    __attribute__((noinline))
#define __cacheline_aligned __attribute__((aligned(64)))
#define __printf(a, b)	    __attribute__((format(printf, a, b)))
#define __must_check	    __attribute__((warn_unused_result))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

#define min(a, b)                        \
	({                               \
		__typeof__(a) __x = (a); \
		__typeof__(b) __y = (b); \
		__x < __y ? __x : __y;   \
	})
#define max(a, b)                        \
	({                               \
		__typeof__(a) __x = (a); \
		__typeof__(b) __y = (b); \
		__x > __y ? __x : __y;   \
	})

#define ALIGN_DOWN(x, a)   ((x) & ~((__typeof__(x))(a)-1))
#define ALIGN(x, a)	   ALIGN_DOWN((x) + (a)-1, (a))
#define IS_ALIGNED(x, a)   (((x) & ((__typeof__(x))(a)-1)) == 0)
#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))

#if defined(__clang__) && defined(KVMMU_TSA)
#define __tsa(x) __attribute__((x))
#else
#define __tsa(x)
#endif

#define CAPABILITY(x)	     __tsa(capability(x))
#define ACQUIRE(...)	     __tsa(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...)  __tsa(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...)	     __tsa(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...)  __tsa(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) __tsa(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...)     __tsa(try_acquire_capability(__VA_ARGS__))
#define TRY_ACQUIRE_SHARED(...) \
	__tsa(try_acquire_shared_capability(__VA_ARGS__))
#define REQUIRES(...)		    __tsa(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...)	    __tsa(requires_shared_capability(__VA_ARGS__))
#define EXCLUDES(...)		    __tsa(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x)	    __tsa(assert_capability(x))
#define ASSERT_SHARED_CAPABILITY(x) __tsa(assert_shared_capability(x))
#define NO_THREAD_SAFETY_ANALYSIS   __tsa(no_thread_safety_analysis)

#endif /* KVMMU_COMPILER_H */
