// SPDX-License-Identifier: MIT
/*
 * The seeded generator: known answers, determinism, bounds and the shape
 * of the distributions (with margins of five standard deviations or more,
 * so a correct generator practically never fails and a biased one does).
 */
#include "harness.h"

#include <kvmmu/rng.h>

/* Unsigned 64-bit "<" (ASSERT_LT compares as int64_t). */
#define ASSERT_ULT(a, b) __TEST_CMP(1, a, <, b, "%#" PRIx64, uint64_t)

/*
 * First outputs for seeds 0 and TEST_DEFAULT_SEED, computed by a separate
 * Python implementation of splitmix64 + xoshiro256**.  splitmix64's first
 * output for state 0 is the published 0xe220a8397b1dcdaf.
 */
static const uint64_t kat_seed0[4] = {
	0x99ec5f36cb75f2b4ULL,
	0xbf6e1f784956452aULL,
	0x1a5f849d4933e6e0ULL,
	0x6aa594f1262d2d2cULL,
};
static const uint64_t kat_kvmmu[4] = {
	0x38013e77ecf1c8cdULL,
	0xb060219041e6ff14ULL,
	0xa372370d0b77d607ULL,
	0xa064869ff5334ddeULL,
};

TEST(known_answers)
{
	struct kvmmu_rng r;
	int i;

	kvmmu_rng_seed(&r, 0);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(kvmmu_rng_next(&r), kat_seed0[i]);
	kvmmu_rng_seed(&r, 0x6b766d6d75ULL);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(kvmmu_rng_next(&r), kat_kvmmu[i]);
}

TEST(same_seed_same_sequence)
{
	struct kvmmu_rng a, b;
	uint64_t seed = test_seed();
	int i;

	kvmmu_rng_seed(&a, seed);
	kvmmu_rng_seed(&b, seed);
	for (i = 0; i < 10000; i++)
		ASSERT_EQ(kvmmu_rng_next(&a), kvmmu_rng_next(&b));
	/* Reseeding restarts the stream. */
	kvmmu_rng_seed(&a, seed);
	kvmmu_rng_seed(&b, seed);
	for (i = 0; i < 100; i++)
		ASSERT_EQ(kvmmu_rng_below(&a, 1000 + i),
			  kvmmu_rng_below(&b, 1000 + i));
}

TEST(different_seeds_differ)
{
	uint64_t seed = test_seed();
	struct kvmmu_rng a, b;
	int i, same = 0, k;

	/* Neighbouring seeds and seed ^ thread index must be unrelated. */
	for (k = 1; k <= 8; k++) {
		kvmmu_rng_seed(&a, seed);
		kvmmu_rng_seed(&b, seed ^ (uint64_t)k);
		same = 0;
		for (i = 0; i < 1000; i++)
			same += kvmmu_rng_next(&a) == kvmmu_rng_next(&b);
		EXPECT_EQ(same, 0);
	}
}

TEST(below_bounds)
{
	static const uint64_t ns[] = {
		1, 2, 3, 7, 10, 1000, 1ULL << 32, (1ULL << 63) + 1, UINT64_MAX
	};
	struct kvmmu_rng r;
	size_t j;
	int i;

	kvmmu_rng_seed(&r, test_seed());
	ASSERT_EQ(kvmmu_rng_below(&r, 0), 0);
	for (j = 0; j < sizeof(ns) / sizeof(ns[0]); j++)
		for (i = 0; i < 20000; i++)
			ASSERT_ULT(kvmmu_rng_below(&r, ns[j]), ns[j]);
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(kvmmu_rng_below(&r, 1), 0);
}

TEST(below_uniform_chi_square)
{
	enum {
		K = 10,
		N = 200000
	};
	unsigned long cnt[K] = { 0 };
	struct kvmmu_rng r;
	double chi = 0, e = (double)N / K;
	int i;

	kvmmu_rng_seed(&r, test_seed());
	for (i = 0; i < N; i++)
		cnt[kvmmu_rng_below(&r, K)]++;
	for (i = 0; i < K; i++)
		chi += (cnt[i] - e) * (cnt[i] - e) / e;
	TEST_LOG("chi-square, 9 degrees of freedom: %.2f", chi);
	/* P(chi2_9 > 45) is about 1e-6. */
	ASSERT_LT((int64_t)chi, 45);
}

/*
 * n = 3 * 2^62: a plain "x % n" maps 2^64 values onto n and makes
 * [0, 2^62) twice as likely as the rest (1/2 instead of 1/3).
 */
TEST(below_no_modulo_bias)
{
	enum {
		N = 30000
	};
	const uint64_t n = 3ULL << 62;
	struct kvmmu_rng r;
	int i, low = 0;

	kvmmu_rng_seed(&r, test_seed());
	for (i = 0; i < N; i++) {
		uint64_t v = kvmmu_rng_below(&r, n);

		ASSERT_ULT(v, n);
		low += v < (1ULL << 62);
	}
	/* Expect N/3 = 10000, sd 82: allow 7 sd. */
	TEST_LOG("below 2^62: %d of %d", low, N);
	ASSERT_GT(low, 9426);
	ASSERT_LT(low, 10574);
}

TEST(range_inclusive)
{
	struct kvmmu_rng r;
	bool seen_lo = false, seen_hi = false;
	int i;

	kvmmu_rng_seed(&r, test_seed());
	for (i = 0; i < 10000; i++) {
		uint64_t v = kvmmu_rng_range(&r, 100, 104);

		ASSERT_GE(v, 100);
		ASSERT_LE(v, 104);
		seen_lo |= v == 100;
		seen_hi |= v == 104;
	}
	ASSERT_TRUE(seen_lo && seen_hi);
	ASSERT_EQ(kvmmu_rng_range(&r, 5, 5), 5);
	for (i = 0; i < 1000; i++) {
		uint64_t v = kvmmu_rng_range(&r, 104, 100); /* swapped */

		ASSERT_GE(v, 100);
		ASSERT_LE(v, 104);
	}
	for (i = 0; i < 1000; i++)
		ASSERT_ULT(UINT64_MAX - 2,
			   kvmmu_rng_range(&r, UINT64_MAX - 1, UINT64_MAX));
	/* The full range is just next(): same stream. */
	{
		struct kvmmu_rng a, b;

		kvmmu_rng_seed(&a, 9);
		kvmmu_rng_seed(&b, 9);
		ASSERT_EQ(kvmmu_rng_range(&a, 0, UINT64_MAX),
			  kvmmu_rng_next(&b));
	}
}

TEST(chance_rate)
{
	enum {
		N = 100000
	};
	struct kvmmu_rng r;
	int i, hits = 0;

	kvmmu_rng_seed(&r, test_seed());
	for (i = 0; i < N; i++)
		ASSERT_FALSE(kvmmu_rng_chance(&r, 0));
	for (i = 0; i < N; i++)
		ASSERT_TRUE(kvmmu_rng_chance(&r, 1000000));
	for (i = 0; i < N; i++)
		hits += kvmmu_rng_chance(&r, 250000);
	/* Expect 25000, sd 137: allow 5 sd. */
	TEST_LOG("chance(25%%): %d of %d", hits, N);
	ASSERT_GT(hits, 24315);
	ASSERT_LT(hits, 25685);
	hits = 0;
	for (i = 0; i < N; i++)
		hits += kvmmu_rng_chance(&r, 100); /* 1e-4: expect 10 */
	ASSERT_LT(hits, 40);
}

TEST(bytes_match_next)
{
	struct kvmmu_rng a, b;
	unsigned char buf[13];
	uint64_t v0, v1;

	kvmmu_rng_seed(&a, test_seed());
	kvmmu_rng_seed(&b, test_seed());
	kvmmu_rng_bytes(&a, buf, sizeof(buf));
	v0 = kvmmu_rng_next(&b);
	v1 = kvmmu_rng_next(&b);
	ASSERT_MEMEQ(buf, &v0, 8);
	ASSERT_MEMEQ(buf + 8, &v1, 5);
	/* Both consumed two words. */
	ASSERT_EQ(kvmmu_rng_next(&a), kvmmu_rng_next(&b));
	kvmmu_rng_bytes(&a, buf, 0);
	ASSERT_EQ(kvmmu_rng_next(&a), kvmmu_rng_next(&b));
}

TEST_HARNESS_MAIN
