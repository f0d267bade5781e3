// SPDX-License-Identifier: MIT
/*
 * Seeded pseudo-random numbers: xoshiro256** (Blackman and Vigna), with the
 * 256-bit state filled from a 64-bit seed by splitmix64 so that nearby seeds
 * give unrelated streams and the state is never all zero.
 *
 * Every test and stress run prints its seed; the same seed must reproduce
 * the same run on any host, so nothing here depends on the platform beyond
 * 64-bit unsigned arithmetic.
 */
#include <string.h>

#include <kvmmu/rng.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rotl64(uint64_t v, int k)
{
	return (v << k) | (v >> (64 - k));
}

/**
 * kvmmu_rng_seed() - (re)start a generator.
 * @r: the generator.
 * @seed: any value, including 0.
 *
 * Context: the generator must not be in use by another thread.
 */
void kvmmu_rng_seed(struct kvmmu_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

/**
 * kvmmu_rng_next() - the next 64 random bits.
 * @r: the generator.
 *
 * Return: a uniformly distributed 64-bit value.
 */
uint64_t kvmmu_rng_next(struct kvmmu_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return out;
}

/**
 * kvmmu_rng_below() - a uniform value in [0, @n).
 * @r: the generator.
 * @n: the bound; 0 gives 0.
 *
 * Multiply-and-shift (Lemire): the high half of x * n is the result, and
 * draws whose low half falls in the short first stretch of 2^64 mod n
 * values are rejected, which removes the bias a plain modulo would have.
 * Fewer than one draw in 2^64 / n is rejected.
 *
 * Return: the value.
 */
uint64_t kvmmu_rng_below(struct kvmmu_rng *r, uint64_t n)
{
	unsigned __int128 m;
	uint64_t lo, thresh;

	if (n == 0)
		return 0;
	m = (unsigned __int128)kvmmu_rng_next(r) * n;
	lo = (uint64_t)m;
	if (lo < n) {
		thresh = -n % n; /* 2^64 mod n */
		while (lo < thresh) {
			m = (unsigned __int128)kvmmu_rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/**
 * kvmmu_rng_range() - a uniform value in [@lo, @hi].
 * @r: the generator.
 * @lo: lower bound, inclusive.
 * @hi: upper bound, inclusive; if below @lo the bounds are swapped.
 *
 * Return: the value.
 */
uint64_t kvmmu_rng_range(struct kvmmu_rng *r, uint64_t lo, uint64_t hi)
{
	if (hi < lo) {
		uint64_t t = lo;

		lo = hi;
		hi = t;
	}
	if (lo == 0 && hi == UINT64_MAX)
		return kvmmu_rng_next(r);
	return lo + kvmmu_rng_below(r, hi - lo + 1);
}

/**
 * kvmmu_rng_chance() - a biased coin.
 * @r: the generator.
 * @ppm: probability of true, in parts per million (>= 1000000: always).
 *
 * Always consumes one draw, so a run's random stream does not depend on
 * the probabilities chosen.
 *
 * Return: true with probability @ppm / 1000000.
 */
bool kvmmu_rng_chance(struct kvmmu_rng *r, uint32_t ppm)
{
	return kvmmu_rng_below(r, 1000000) < ppm;
}

void kvmmu_rng_bytes(struct kvmmu_rng *r, void *buf, size_t len)
{
	unsigned char *p = buf;
	uint64_t v;

	while (len >= sizeof(v)) {
		v = kvmmu_rng_next(r);
		memcpy(p, &v, sizeof(v));
		p += sizeof(v);
		len -= sizeof(v);
	}
	if (len) {
		v = kvmmu_rng_next(r);
		memcpy(p, &v, len);
	}
}
