/* SPDX-License-Identifier: MIT */
/*
 * Private declarations shared between the files of src/util.  Nothing here
 * is part of the public API; other layers include the headers in
 * include/kvmmu instead.
 */
#ifndef KVMMU_UTIL_INTERNAL_H
#define KVMMU_UTIL_INTERNAL_H

#include <kvmmu/compiler.h>

/*
 * __kvmmu_thread_index() - a small dense number for the calling thread.
 *
 * Assigned on first use from a process-wide counter, so threads get 0, 1,
 * 2, ... in the order they first ask.  Used to seed per-thread generators
 * (sched.c) and to pick a statistics shard (stats.c).
 *
 * Context: any thread.  Return: the thread's index, stable for its lifetime.
 */
unsigned int __kvmmu_thread_index(void);

#endif /* KVMMU_UTIL_INTERNAL_H */
