// SPDX-License-Identifier: MIT
/*
 * Bitmaps against a bool-array model: every operation, at the sizes where
 * word arithmetic goes wrong (0, 1, 63, 64, 65, 130 and a few more), with
 * every query compared after every step.
 */
#include "harness.h"

#include <kvmmu/bitmap.h>
#include <kvmmu/rng.h>

static const unsigned long sizes[] = { 0,   1,	 2,   63,  64, 65,
				       127, 128, 129, 130, 200 };

#define MAXBITS 256

struct model {
	unsigned long n;
	bool b[MAXBITS];
};

static unsigned long model_next(const struct model *m, unsigned long off,
				bool val)
{
	for (; off < m->n; off++)
		if (m->b[off] == val)
			return off;
	return m->n;
}

/* Compare every query of @map with the model; @what names the last op. */
static void check(const unsigned long *map, const struct model *m,
		  const char *what)
{
	unsigned long i, w = 0, bit, cnt;
	unsigned long *copy;

	for (i = 0; i < m->n; i++) {
		if (test_bit(i, map) != m->b[i]) {
			TEST_LOG("after %s: bit %lu of %lu", what, i, m->n);
			ASSERT_EQ(test_bit(i, map), m->b[i]);
		}
		w += m->b[i];
	}
	ASSERT_EQ(bitmap_weight(map, m->n), w);
	ASSERT_EQ(bitmap_empty(map, m->n), w == 0);
	ASSERT_EQ(bitmap_full(map, m->n), w == m->n);
	/* Every offset, including past the end. */
	for (i = 0; i <= m->n + 70; i++) {
		ASSERT_EQ(find_next_bit(map, m->n, i), model_next(m, i, true));
		ASSERT_EQ(find_next_zero_bit(map, m->n, i),
			  model_next(m, i, false));
	}
	ASSERT_EQ(find_first_bit(map, m->n), model_next(m, 0, true));
	ASSERT_EQ(find_first_zero_bit(map, m->n), model_next(m, 0, false));
	cnt = 0;
	for_each_set_bit(bit, map, m->n) {
		ASSERT_TRUE(m->b[bit]);
		cnt++;
	}
	ASSERT_EQ(cnt, w);
	cnt = 0;
	for_each_clear_bit(bit, map, m->n) {
		ASSERT_FALSE(m->b[bit]);
		cnt++;
	}
	ASSERT_EQ(cnt, m->n - w);
	/* An independently built copy compares equal; one flip differs. */
	copy = bitmap_zalloc(m->n);
	ASSERT_PTR_NE(copy, NULL);
	for (i = 0; i < m->n; i++)
		if (m->b[i])
			__set_bit(i, copy);
	ASSERT_TRUE(bitmap_equal(map, copy, m->n));
	if (m->n) {
		change_bit(m->n - 1, copy);
		ASSERT_FALSE(bitmap_equal(map, copy, m->n));
	}
	bitmap_free(copy);
}

/* Bits of the last word past @n must be clear (none of our ops set them). */
static void check_tail_clear(const unsigned long *map, unsigned long n)
{
	unsigned long words = BITS_TO_LONGS(n);

	if (n % BITS_PER_LONG)
		ASSERT_EQ(map[words - 1] >> (n % BITS_PER_LONG), 0);
}

static void random_ops(unsigned long n, struct kvmmu_rng *r, int steps)
{
	unsigned long *map = bitmap_zalloc(n);
	struct model m = { .n = n };
	unsigned long i, s, len;
	char what[64];
	int k;

	ASSERT_PTR_NE(map, NULL);
	check(map, &m, "alloc");
	for (k = 0; k < steps; k++) {
		int op = (int)kvmmu_rng_below(r, 11);
		bool old;

		i = n ? kvmmu_rng_below(r, n) : 0;
		s = kvmmu_rng_below(r, n + 1);
		len = kvmmu_rng_below(r, n - s + 1);
		if (!n && op < 7)
			op = 7 + op % 4; /* no single-bit ops on an empty map */
		switch (op) {
		case 0:
			set_bit(i, map);
			m.b[i] = true;
			break;
		case 1:
			clear_bit(i, map);
			m.b[i] = false;
			break;
		case 2:
			change_bit(i, map);
			m.b[i] = !m.b[i];
			break;
		case 3:
			old = test_and_set_bit(i, map);
			ASSERT_EQ(old, m.b[i]);
			m.b[i] = true;
			break;
		case 4:
			old = test_and_clear_bit(i, map);
			ASSERT_EQ(old, m.b[i]);
			m.b[i] = false;
			break;
		case 5:
			__set_bit(i, map);
			m.b[i] = true;
			break;
		case 6:
			__clear_bit(i, map);
			m.b[i] = false;
			break;
		case 7:
			bitmap_set(map, s, len);
			memset(m.b + s, 1, len);
			break;
		case 8:
			bitmap_clear(map, s, len);
			memset(m.b + s, 0, len);
			break;
		case 9:
			if (kvmmu_rng_below(r, 4))
				continue; /* keep fill/zero rare */
			bitmap_fill(map, n);
			memset(m.b, 1, n);
			break;
		default:
			if (kvmmu_rng_below(r, 4))
				continue;
			bitmap_zero(map, n);
			memset(m.b, 0, n);
			break;
		}
		snprintf(what, sizeof(what), "op %d (i=%lu s=%lu len=%lu)", op,
			 i, s, len);
		check(map, &m, what);
		check_tail_clear(map, n);
	}
	bitmap_free(map);
}

TEST(random_ops_edge_sizes)
{
	struct kvmmu_rng r;
	size_t j;

	kvmmu_rng_seed(&r, test_seed());
	for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++)
		random_ops(sizes[j], &r, 400);
}

/* Every [start, start + len) of a 130-bit map, set and cleared. */
TEST(set_clear_every_range)
{
	const unsigned long n = 130;
	struct model m = { .n = n };
	unsigned long *map = bitmap_zalloc(n);
	unsigned long s, len;

	ASSERT_PTR_NE(map, NULL);
	for (s = 0; s <= n; s++) {
		for (len = 0; s + len <= n; len++) {
			bitmap_zero(map, n);
			memset(m.b, 0, sizeof(m.b));
			bitmap_set(map, s, len);
			memset(m.b + s, 1, len);
			ASSERT_EQ(bitmap_weight(map, n), len);
			ASSERT_EQ(find_first_bit(map, n), len ? s : n);
			ASSERT_EQ(find_next_zero_bit(map, n, s), s + len);
			check_tail_clear(map, n);
			bitmap_fill(map, n);
			bitmap_clear(map, s, len);
			ASSERT_EQ(bitmap_weight(map, n), n - len);
			ASSERT_EQ(find_first_zero_bit(map, n), len ? s : n);
			ASSERT_EQ(find_next_bit(map, n, s), s + len);
		}
	}
	/* One full model comparison for a range crossing two boundaries. */
	bitmap_zero(map, n);
	memset(m.b, 0, sizeof(m.b));
	bitmap_set(map, 60, 70);
	memset(m.b + 60, 1, 70);
	check(map, &m, "bitmap_set(60, 70)");
	bitmap_free(map);
}

/* Fill must clear the tail, and readers must ignore garbage past @n. */
TEST(fill_and_tail_garbage)
{
	unsigned long map[3];
	size_t j;

	memset(map, 0xff, sizeof(map));
	bitmap_fill(map, 65);
	ASSERT_EQ(map[0], ~0UL);
	ASSERT_EQ(map[1], 1);
	ASSERT_EQ(map[2], ~0UL); /* beyond the map: untouched */
	memset(map, 0xff, sizeof(map));
	bitmap_fill(map, 64);
	ASSERT_EQ(map[1], ~0UL); /* exactly one word: nothing else written */
	memset(map, 0, sizeof(map));
	bitmap_fill(map, 130);
	ASSERT_EQ(map[2], 3);
	ASSERT_EQ(bitmap_weight(map, 130), 130);
	ASSERT_TRUE(bitmap_full(map, 130));
	memset(map, 0x55, sizeof(map));
	bitmap_fill(map, 0);
	ASSERT_EQ(map[0], 0x5555555555555555UL);

	for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
		unsigned long n = sizes[j], words = BITS_TO_LONGS(n);
		unsigned long a[5], b[5];

		if (!(n % BITS_PER_LONG) || words > 5)
			continue;
		/* All in-range bits clear, all tail bits set. */
		memset(a, 0, sizeof(a));
		a[words - 1] = ~0UL << (n % BITS_PER_LONG);
		ASSERT_EQ(find_first_bit(a, n), n);
		ASSERT_EQ(bitmap_weight(a, n), 0);
		ASSERT_TRUE(bitmap_empty(a, n));
		/* All in-range bits set, tail clear: full, no zero found. */
		memset(b, 0, sizeof(b));
		bitmap_fill(b, n);
		ASSERT_EQ(find_first_zero_bit(b, n), n);
		ASSERT_TRUE(bitmap_full(b, n));
		/* Equal although the tails differ. */
		memset(b, 0, sizeof(b));
		ASSERT_TRUE(bitmap_equal(a, b, n));
		/*
		 * Garbage only in the word's top bit, beyond position n (the
		 * first tail bit *is* n, which would hide a missing clamp).
		 */
		if (n % BITS_PER_LONG == BITS_PER_LONG - 1)
			continue;
		memset(a, 0, sizeof(a));
		a[words - 1] = 1UL << 63;
		ASSERT_EQ(find_first_bit(a, n), n);
		ASSERT_EQ(find_next_bit(a, n, n - 1), n);
		memset(b, 0xff, sizeof(b));
		b[words - 1] = ~(1UL << 63);
		ASSERT_EQ(find_first_zero_bit(b, n), n);
		ASSERT_EQ(find_next_zero_bit(b, n, n - 1), n);
	}
}

TEST(zero_size)
{
	unsigned long *map = bitmap_zalloc(0);

	ASSERT_PTR_NE(map, NULL);
	ASSERT_EQ(find_first_bit(map, 0), 0);
	ASSERT_EQ(find_first_zero_bit(map, 0), 0);
	ASSERT_EQ(find_next_bit(map, 0, 5), 0);
	ASSERT_EQ(bitmap_weight(map, 0), 0);
	ASSERT_TRUE(bitmap_empty(map, 0));
	ASSERT_TRUE(bitmap_full(map, 0));
	bitmap_fill(map, 0);
	bitmap_set(map, 0, 0);
	ASSERT_EQ(map[0], 0);
	bitmap_free(map);
	bitmap_free(NULL);
}

/* Word boundaries: single bits at 63/64/127/128 and finds across them. */
TEST(word_boundaries)
{
	const unsigned long n = 200;
	unsigned long *map = bitmap_zalloc(n);

	ASSERT_PTR_NE(map, NULL);
	__set_bit(63, map);
	__set_bit(64, map);
	__set_bit(128, map);
	ASSERT_EQ(map[0], 1UL << 63);
	ASSERT_EQ(map[1], 1);
	ASSERT_EQ(map[2], 1);
	ASSERT_EQ(find_next_bit(map, n, 0), 63);
	ASSERT_EQ(find_next_bit(map, n, 64), 64);
	ASSERT_EQ(find_next_bit(map, n, 65), 128);
	ASSERT_EQ(find_next_bit(map, n, 129), n);
	ASSERT_EQ(find_next_bit(map, 128, 65), 128); /* clamp to size */
	ASSERT_EQ(find_next_zero_bit(map, n, 63), 65);
	ASSERT_EQ(bitmap_weight(map, 64), 1);
	ASSERT_EQ(bitmap_weight(map, 65), 2);
	ASSERT_EQ(bitmap_weight(map, 128), 2);
	ASSERT_EQ(bitmap_weight(map, 129), 3);
	ASSERT_TRUE(test_and_clear_bit(64, map));
	ASSERT_FALSE(test_and_clear_bit(64, map));
	ASSERT_EQ(map[1], 0);
	bitmap_free(map);
}

TEST_HARNESS_MAIN
