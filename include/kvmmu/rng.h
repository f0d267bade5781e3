/* SPDX-License-Identifier: MIT */
/*
 * A seeded pseudo-random generator (xoshiro256**, seeded through splitmix64).
 * Deterministic for a given seed on every host; not thread-safe: give each
 * thread its own, e.g. seeded with kvmmu_rng_seed(r, seed ^ thread_index).
 */
#ifndef KVMMU_RNG_H
#define KVMMU_RNG_H

#include <stdint.h>
#include "compiler.h"

struct kvmmu_rng {
	uint64_t s[4];
};

void kvmmu_rng_seed(struct kvmmu_rng *r, uint64_t seed);
uint64_t kvmmu_rng_next(struct kvmmu_rng *r);
/* Uniform in [0, n) without modulo bias; n == 0 returns 0. */
uint64_t kvmmu_rng_below(struct kvmmu_rng *r, uint64_t n);
/* Uniform in [lo, hi] inclusive. */
uint64_t kvmmu_rng_range(struct kvmmu_rng *r, uint64_t lo, uint64_t hi);
/* True with probability ppm / 1,000,000. */
bool kvmmu_rng_chance(struct kvmmu_rng *r, uint32_t ppm);
/* Fill @len bytes. */
void kvmmu_rng_bytes(struct kvmmu_rng *r, void *buf, size_t len);

#endif /* KVMMU_RNG_H */
