// SPDX-License-Identifier: MIT
/*
 * Sharded statistics: exact sums under concurrency, gauges that go down,
 * peaks, lookup by name, reset, and the shard layout.
 */
#include "harness.h"

#include <pthread.h>

#include <kvmmu/stats.h>

enum {
	ST_FAULTS,
	ST_PAGES,
	ST_PEAK,
	ST_A,
	ST_B,
	ST_C,
	ST_D,
	ST_E,
	ST_F,
	ST_NR,
};

static const struct kvmmu_stat_desc desc[ST_NR] = {
	[ST_FAULTS] = { "pf_taken", KVMMU_STAT_CUMULATIVE, KVMMU_STAT_UNIT_NONE,
			"faults" },
	[ST_PAGES] = { "pages_4k", KVMMU_STAT_INSTANT, KVMMU_STAT_UNIT_PAGES,
		       "mapped 4K pages" },
	[ST_PEAK] = { "max_rmap_size", KVMMU_STAT_PEAK, KVMMU_STAT_UNIT_NONE,
		      "largest rmap" },
	[ST_A] = { "a", KVMMU_STAT_CUMULATIVE },
	[ST_B] = { "b", KVMMU_STAT_CUMULATIVE },
	[ST_C] = { "c", KVMMU_STAT_CUMULATIVE },
	[ST_D] = { "d", KVMMU_STAT_CUMULATIVE },
	[ST_E] = { "e", KVMMU_STAT_CUMULATIVE },
	[ST_F] = { "f", KVMMU_STAT_CUMULATIVE },
};

struct worker {
	pthread_t tid;
	struct kvmmu_stats *s;
	int id;
	long iters;
	unsigned int shard;
};

static void *add_worker(void *arg)
{
	struct worker *w = arg;
	long i;

	w->shard = kvmmu_stat_shard();
	for (i = 0; i < w->iters; i++) {
		kvmmu_stats_inc(w->s, ST_FAULTS);
		kvmmu_stats_add(w->s, ST_F, 3);
		/* The gauge goes up twice and down once per iteration. */
		kvmmu_stats_inc(w->s, ST_PAGES);
		kvmmu_stats_inc(w->s, ST_PAGES);
		kvmmu_stats_dec(w->s, ST_PAGES);
		kvmmu_stats_max(w->s, ST_PEAK,
				(uint64_t)(w->id * 1000003L + i) % 5000000);
	}
	/* One distinct peak per thread, the largest from thread 3. */
	kvmmu_stats_max(w->s, ST_PEAK, 10000000 + (uint64_t)w->id * 7 % 29);
	if (w->shard != kvmmu_stat_shard())
		w->shard = ~0U; /* must be stable */
	return NULL;
}

static void run_threads(int nthreads, long iters)
{
	struct kvmmu_stats s;
	struct worker *w = calloc((size_t)nthreads, sizeof(*w));
	uint64_t want_peak = 0;
	int i;

	ASSERT_PTR_NE(w, NULL);
	ASSERT_OK(kvmmu_stats_init(&s, "kvm-1", desc, ST_NR));
	for (i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .s = &s, .id = i, .iters = iters };
		ASSERT_OK(pthread_create(&w[i].tid, NULL, add_worker, &w[i]));
		if (10000000 + (uint64_t)i * 7 % 29 > want_peak)
			want_peak = 10000000 + (uint64_t)i * 7 % 29;
	}
	for (i = 0; i < nthreads; i++) {
		ASSERT_OK(pthread_join(w[i].tid, NULL));
		ASSERT_LT(w[i].shard, KVMMU_STAT_SHARDS);
	}
	ASSERT_EQ(kvmmu_stats_read(&s, ST_FAULTS), (uint64_t)nthreads * iters);
	ASSERT_EQ(kvmmu_stats_read(&s, ST_F), 3 * (uint64_t)nthreads * iters);
	ASSERT_EQ(kvmmu_stats_read(&s, ST_PAGES), (uint64_t)nthreads * iters);
	ASSERT_EQ(kvmmu_stats_read(&s, ST_PEAK), want_peak);
	ASSERT_EQ(kvmmu_stats_read(&s, ST_A), 0);
	/* Up to SHARDS threads started together get distinct shards. */
	if (nthreads <= KVMMU_STAT_SHARDS) {
		int j;

		for (i = 0; i < nthreads; i++)
			for (j = i + 1; j < nthreads; j++)
				ASSERT_NE(w[i].shard, w[j].shard);
	}
	kvmmu_stats_destroy(&s);
	free(w);
}

TEST(threads_8x100k_exact)
{
	run_threads(8, 100000);
}

/* More threads than shards: shared shards must still count exactly. */
TEST(threads_more_than_shards)
{
	run_threads(KVMMU_STAT_SHARDS + 7, 20000);
}

static void *dec_worker(void *arg)
{
	struct kvmmu_stats *s = arg;
	int i;

	for (i = 0; i < 5; i++)
		kvmmu_stats_dec(s, ST_PAGES);
	kvmmu_stats_max(s, ST_PEAK, 70);
	kvmmu_stats_max(s, ST_PEAK, 20); /* lower: ignored */
	return NULL;
}

/* A gauge raised on one shard and lowered on another nets out. */
TEST(instant_and_peak_across_threads)
{
	struct kvmmu_stats s;
	pthread_t t;
	uint64_t v;

	ASSERT_OK(kvmmu_stats_init(&s, "host", desc, ST_NR));
	kvmmu_stats_add(&s, ST_PAGES, 12);
	kvmmu_stats_max(&s, ST_PEAK, 50);
	ASSERT_EQ(kvmmu_stats_read(&s, ST_PAGES), 12);
	ASSERT_EQ(kvmmu_stats_read(&s, ST_PEAK), 50);
	ASSERT_OK(pthread_create(&t, NULL, dec_worker, &s));
	ASSERT_OK(pthread_join(t, NULL));
	ASSERT_EQ(kvmmu_stats_read(&s, ST_PAGES), 7);
	ASSERT_EQ(kvmmu_stats_read(&s, ST_PEAK), 70);
	kvmmu_stats_max(&s, ST_PEAK, 60);
	ASSERT_EQ(kvmmu_stats_read(&s, ST_PEAK), 70);
	kvmmu_stats_max(&s, ST_PEAK, 71);
	ASSERT_EQ(kvmmu_stats_read(&s, ST_PEAK), 71);
	kvmmu_stats_add(&s, ST_PAGES, -7);
	ASSERT_EQ(kvmmu_stats_read(&s, ST_PAGES), 0);
	ASSERT_OK(kvmmu_stats_get(&s, "max_rmap_size", &v));
	ASSERT_EQ(v, 71);
	kvmmu_stats_destroy(&s);
}

TEST(lookup_by_name)
{
	struct kvmmu_stats s;
	uint64_t v = 12345;

	ASSERT_OK(kvmmu_stats_init(&s, "kvm-1/vcpu-0", desc, ST_NR));
	kvmmu_stats_add(&s, ST_E, 42);
	ASSERT_EQ(kvmmu_stats_index(&s, "pf_taken"), ST_FAULTS);
	ASSERT_EQ(kvmmu_stats_index(&s, "f"), ST_F);
	ASSERT_ERRNO(kvmmu_stats_index(&s, "pf_fixed"), -ENOENT);
	ASSERT_ERRNO(kvmmu_stats_index(&s, ""), -ENOENT);
	ASSERT_OK(kvmmu_stats_get(&s, "e", &v));
	ASSERT_EQ(v, 42);
	v = 12345;
	ASSERT_ERRNO(kvmmu_stats_get(&s, "nope", &v), -ENOENT);
	ASSERT_EQ(v, 12345); /* untouched on failure */
	kvmmu_stats_destroy(&s);
}

TEST(reset_and_layout)
{
	struct kvmmu_stats s;
	unsigned int i;

	ASSERT_OK(kvmmu_stats_init(&s, "x", desc, ST_NR));
	ASSERT_EQ(s.n, ST_NR);
	ASSERT_EQ(s.stride, 16); /* 9 rounded up to a cache line of values */
	ASSERT_EQ((uintptr_t)s.val % 64, 0);
	for (i = 0; i < ST_NR; i++)
		kvmmu_stats_add(&s, i, i + 1);
	for (i = 0; i < ST_NR; i++)
		ASSERT_EQ(kvmmu_stats_read(&s, i), i + 1);
	kvmmu_stats_reset(&s);
	for (i = 0; i < ST_NR; i++)
		ASSERT_EQ(kvmmu_stats_read(&s, i), 0);
	kvmmu_stats_destroy(&s);
	ASSERT_PTR_EQ(s.val, NULL);

	ASSERT_OK(kvmmu_stats_init(&s, "y", desc, 8));
	ASSERT_EQ(s.stride, 8);
	kvmmu_stats_destroy(&s);
	ASSERT_OK(kvmmu_stats_init(&s, "z", desc, 1));
	ASSERT_EQ(s.stride, 8);
	kvmmu_stats_inc(&s, 0);
	ASSERT_EQ(kvmmu_stats_read(&s, 0), 1);
	kvmmu_stats_destroy(&s);
}

TEST_HARNESS_MAIN
