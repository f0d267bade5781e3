/* SPDX-License-Identifier: MIT */
/*
 * Statistics counters, laid out like KVM's binary stats: an object (host,
 * VM, vCPU) has an id string and a table of descriptors (name, kind, unit),
 * and a value per descriptor.
 *
 * Values are sharded: each thread adds to its own cache-line-padded shard
 * (a relaxed atomic add, no sharing between threads in the common case) and
 * a read sums the shards.  INSTANT values (gauges such as pages_4k) may go
 * down as well as up; PEAK values keep a maximum (kvmmu_stats_max).
 *
 * Counters are not interaction points for the scheduling hook: they carry
 * no ordering and nothing may be decided from them concurrently.
 */
#ifndef KVMMU_STATS_H
#define KVMMU_STATS_H

#include <stdint.h>
#include "compiler.h"

#define KVMMU_STAT_SHARDS 16

enum kvmmu_stat_kind {
	KVMMU_STAT_CUMULATIVE, /* only grows */
	KVMMU_STAT_INSTANT,    /* a gauge */
	KVMMU_STAT_PEAK,       /* a high-water mark */
};

enum kvmmu_stat_unit {
	KVMMU_STAT_UNIT_NONE,
	KVMMU_STAT_UNIT_BYTES,
	KVMMU_STAT_UNIT_NS,
	KVMMU_STAT_UNIT_PAGES,
};

struct kvmmu_stat_desc {
	const char *name;
	enum kvmmu_stat_kind kind;
	enum kvmmu_stat_unit unit;
	const char *help;
};

struct kvmmu_stats {
	const char *id; /* "host", "kvm-1", "kvm-1/vcpu-0" */
	const struct kvmmu_stat_desc *desc;
	unsigned int n;
	unsigned int stride; /* values per shard, padded to a cache line */
	uint64_t *val;	     /* KVMMU_STAT_SHARDS * stride */
};

/* Return: 0 or -ENOMEM.  Context: any; the object must not be in use. */
int kvmmu_stats_init(struct kvmmu_stats *s, const char *id,
		     const struct kvmmu_stat_desc *desc, unsigned int n);
void kvmmu_stats_destroy(struct kvmmu_stats *s);

/* The calling thread's shard (assigned round-robin on first use). */
unsigned int kvmmu_stat_shard(void);

static inline void kvmmu_stats_add(struct kvmmu_stats *s, unsigned int idx,
				   int64_t v)
{
	__atomic_fetch_add(&s->val[kvmmu_stat_shard() * s->stride + idx],
			   (uint64_t)v, __ATOMIC_RELAXED);
}

static inline void kvmmu_stats_inc(struct kvmmu_stats *s, unsigned int idx)
{
	kvmmu_stats_add(s, idx, 1);
}

static inline void kvmmu_stats_dec(struct kvmmu_stats *s, unsigned int idx)
{
	kvmmu_stats_add(s, idx, -1);
}

/* PEAK: raise the stored maximum to @v if it is larger. */
void kvmmu_stats_max(struct kvmmu_stats *s, unsigned int idx, uint64_t v);

/* Sum over shards (or the maximum for PEAK).  Context: any; racy by design. */
uint64_t kvmmu_stats_read(const struct kvmmu_stats *s, unsigned int idx);
/* Look a value up by name.  Return: 0 and *out, or -ENOENT. */
int kvmmu_stats_get(const struct kvmmu_stats *s, const char *name,
		    uint64_t *out);
/* Index of @name, or -ENOENT. */
int kvmmu_stats_index(const struct kvmmu_stats *s, const char *name);
/* Zero every value (e.g. between benchmark phases). */
void kvmmu_stats_reset(struct kvmmu_stats *s);

#endif /* KVMMU_STATS_H */
