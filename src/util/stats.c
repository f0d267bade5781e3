// SPDX-License-Identifier: MIT
/*
 * Sharded statistics counters.
 *
 * Layout: KVMMU_STAT_SHARDS rows of @stride 64-bit values, the row length
 * rounded up to eight values so every row starts on its own cache line of
 * a 64-byte aligned block.  A thread adds to row (thread index % SHARDS)
 * with relaxed atomics; threads that share a row still count exactly, they
 * merely share a cache line.  Readers sum the rows (or take their maximum
 * for PEAK values), which is racy with respect to concurrent writers by
 * design but never tears a single value.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <kvmmu/stats.h>
#include <kvmmu/log.h>

#include "internal.h"

#define VALS_PER_LINE (64 / sizeof(uint64_t))

static __thread unsigned int stat_shard_plus1;

/**
 * kvmmu_stat_shard() - the calling thread's shard row.
 *
 * Context: any thread.  Return: a row in [0, KVMMU_STAT_SHARDS), fixed for
 * the thread's lifetime; consecutive threads two rows apart.
 */
unsigned int kvmmu_stat_shard(void)
{
	if (unlikely(!stat_shard_plus1))
		stat_shard_plus1 = __kvmmu_thread_shard(KVMMU_STAT_SHARDS) + 1;
	return stat_shard_plus1 - 1;
}

/**
 * kvmmu_stats_init() - set up the values of one statistics object.
 * @s: the object.
 * @id: its id string (kept by reference).
 * @desc: the descriptor table, @n entries (kept by reference).
 * @n: number of values.
 *
 * Context: any; @s must not be in use.
 * Return: 0, or -ENOMEM.
 */
int kvmmu_stats_init(struct kvmmu_stats *s, const char *id,
		     const struct kvmmu_stat_desc *desc, unsigned int n)
{
	unsigned int stride = ALIGN(n, VALS_PER_LINE);
	size_t bytes;

	if (!stride)
		stride =
			VALS_PER_LINE; /* aligned_alloc() of 0 bytes may fail */
	bytes = (size_t)KVMMU_STAT_SHARDS * stride * sizeof(uint64_t);
	s->id = id;
	s->desc = desc;
	s->n = n;
	s->stride = stride;
	s->val = aligned_alloc(64, bytes);
	if (!s->val)
		return -ENOMEM;
	memset(s->val, 0, bytes);
	return 0;
}

void kvmmu_stats_destroy(struct kvmmu_stats *s)
{
	free(s->val);
	s->val = NULL;
	s->n = 0;
}

/**
 * kvmmu_stats_max() - raise a PEAK value.
 * @s: the object.
 * @idx: the value's index.
 * @v: a new observation; stored if above the calling thread's maximum.
 *
 * Context: any thread; lock-free (CAS loop on the caller's own shard).
 */
void kvmmu_stats_max(struct kvmmu_stats *s, unsigned int idx, uint64_t v)
{
	uint64_t *p, cur;

	if (WARN_ON_ONCE(idx >= s->n))
		return;
	p = &s->val[kvmmu_stat_shard() * s->stride + idx];
	cur = __atomic_load_n(p, __ATOMIC_RELAXED);
	while (cur < v &&
	       !__atomic_compare_exchange_n(p, &cur, v, true, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}

/**
 * kvmmu_stats_read() - the current value.
 * @s: the object.
 * @idx: the value's index.
 *
 * Context: any; racy by design against concurrent updates.
 * Return: the sum over shards, or for PEAK values the maximum; 0 for an
 * index out of range (with a warning).
 */
uint64_t kvmmu_stats_read(const struct kvmmu_stats *s, unsigned int idx)
{
	bool peak;
	uint64_t acc = 0, v;
	unsigned int i;

	if (WARN_ON_ONCE(idx >= s->n))
		return 0;
	peak = s->desc[idx].kind == KVMMU_STAT_PEAK;
	for (i = 0; i < KVMMU_STAT_SHARDS; i++) {
		v = __atomic_load_n(&s->val[i * s->stride + idx],
				    __ATOMIC_RELAXED);
		if (peak)
			acc = v > acc ? v : acc;
		else
			acc += v;
	}
	return acc;
}

int kvmmu_stats_index(const struct kvmmu_stats *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->desc[i].name && !strcmp(s->desc[i].name, name))
			return (int)i;
	return -ENOENT;
}

int kvmmu_stats_get(const struct kvmmu_stats *s, const char *name,
		    uint64_t *out)
{
	int idx = kvmmu_stats_index(s, name);

	if (idx < 0)
		return idx;
	*out = kvmmu_stats_read(s, (unsigned int)idx);
	return 0;
}

void kvmmu_stats_reset(struct kvmmu_stats *s)
{
	size_t i, total = (size_t)KVMMU_STAT_SHARDS * s->stride;

	for (i = 0; i < total; i++)
		__atomic_store_n(&s->val[i], 0, __ATOMIC_RELAXED);
}
