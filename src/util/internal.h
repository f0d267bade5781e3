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
 * (sched.c) and, through __kvmmu_thread_shard(), to pick a shard.
 *
 * Context: any thread.  Return: the thread's index, stable for its lifetime.
 */
unsigned int __kvmmu_thread_index(void);

/*
 * __kvmmu_thread_shard() - the calling thread's row among @n per-thread
 * shards, each a cache line (@n even).
 *
 * Consecutive threads get rows two apart: x86's L2 fetches lines in
 * 128-byte pairs (the adjacent-line prefetcher), so two threads writing
 * neighbouring lines still take the pair from each other.  Threads 0..n/2-1
 * get the even rows, the next n/2 the odd ones, and so on round.
 *
 * Context: any thread.  Return: a row in [0, @n), stable for the thread.
 */
static inline unsigned int __kvmmu_thread_shard(unsigned int n)
{
	unsigned int idx = __kvmmu_thread_index();

	return (2 * idx + (idx / (n / 2)) % 2) % n;
}

#endif /* KVMMU_UTIL_INTERNAL_H */
