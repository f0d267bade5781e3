/* SPDX-License-Identifier: MIT */
/*
 * Logging and the kernel's WARN family.
 *
 * WARN_ON(cond) / WARN_ON_ONCE(cond) evaluate to cond; when it is true they
 * log "WARNING: file:line: cond" (the _ONCE form only the first time per
 * site) and bump the process-wide warning count, which the checker and the
 * tests report as a finding.  They never abort: the library does not exit on
 * bad input or on an internal inconsistency it can survive.  BUG_ON() is for
 * memory-safety-critical impossibilities only and aborts.
 */
#ifndef KVMMU_LOG_H
#define KVMMU_LOG_H

#include <stdarg.h>
#include "compiler.h"

enum kvmmu_log_level {
	KVMMU_LOG_ERR,
	KVMMU_LOG_WARN,
	KVMMU_LOG_INFO,
	KVMMU_LOG_DEBUG,
};

typedef void (*kvmmu_log_sink_t)(enum kvmmu_log_level level, const char *msg);

/* Context: any; thread-safe.  Messages above the threshold are dropped. */
void kvmmu_log(enum kvmmu_log_level level, const char *fmt, ...) __printf(2, 3);
void kvmmu_log_set_level(enum kvmmu_log_level level);
/* Install a sink (NULL: stderr).  Return: the previous sink. */
kvmmu_log_sink_t kvmmu_log_set_sink(kvmmu_log_sink_t sink);

#define pr_err(...)   kvmmu_log(KVMMU_LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  kvmmu_log(KVMMU_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  kvmmu_log(KVMMU_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) kvmmu_log(KVMMU_LOG_DEBUG, __VA_ARGS__)

/* Count and log one warning; used by the WARN macros. */
void __kvmmu_warn(const char *file, int line, const char *cond);
/* Number of warnings since start (or the last reset). */
unsigned long kvmmu_warn_count(void);
void kvmmu_warn_reset(void);

#define WARN_ON(cond)                                            \
	({                                                       \
		bool __w = !!(cond);                             \
		if (unlikely(__w))                               \
			__kvmmu_warn(__FILE__, __LINE__, #cond); \
		__w;                                             \
	})

#define WARN_ON_ONCE(cond)                                                   \
	({                                                                   \
		static bool __warned;                                        \
		bool __w = !!(cond);                                         \
		if (unlikely(__w) &&                                         \
		    !__atomic_exchange_n(&__warned, true, __ATOMIC_RELAXED)) \
			__kvmmu_warn(__FILE__, __LINE__, #cond);             \
		else if (unlikely(__w))                                      \
			__kvmmu_warn(NULL, 0, NULL); /* count only */        \
		__w;                                                         \
	})

void __kvmmu_bug(const char *file, int line, const char *cond)
	__attribute__((noreturn));
#define BUG_ON(cond)                                            \
	do {                                                    \
		if (unlikely(cond))                             \
			__kvmmu_bug(__FILE__, __LINE__, #cond); \
	} while (0)

#endif /* KVMMU_LOG_H */
