// SPDX-License-Identifier: MIT
/*
 * Bitmap operations over arrays of unsigned long, a word at a time.
 *
 * The whole-map readers (find_*, weight, empty, full, equal) load each word
 * with a relaxed atomic load: dirty bitmaps are read while other threads
 * set_bit() into them, and a plain load would be a data race in C11 (and a
 * TSan report).  On x86-64 the relaxed load is an ordinary mov.  The range
 * writers (zero, fill, set, clear) are not atomic, like the kernel's.
 */
#include <stdlib.h>
#include <string.h>

#include <kvmmu/bitmap.h>

/* Mask of the bits of the last word that are inside a map of @nbits. */
#define LAST_WORD_MASK(nbits)  (~0UL >> (-(nbits) % BITS_PER_LONG))
/* Mask of the bits at or above position @start within its word. */
#define FIRST_WORD_MASK(start) (~0UL << ((start) % BITS_PER_LONG))

static inline unsigned long load_word(const unsigned long *map, unsigned long i)
{
	return __atomic_load_n(&map[i], __ATOMIC_RELAXED);
}

/**
 * bitmap_zalloc() - allocate a zeroed bitmap of @nbits bits.
 * @nbits: size in bits; 0 still returns a (one-word) allocation.
 *
 * Return: the map, or NULL if out of memory.  Free with bitmap_free().
 */
unsigned long *bitmap_zalloc(unsigned long nbits)
{
	unsigned long words = BITS_TO_LONGS(nbits);

	return calloc(words ? words : 1, sizeof(unsigned long));
}

void bitmap_free(unsigned long *map)
{
	free(map);
}

void bitmap_zero(unsigned long *map, unsigned long nbits)
{
	memset(map, 0, BITMAP_BYTES(nbits));
}

void bitmap_fill(unsigned long *map, unsigned long nbits)
{
	unsigned long full = nbits / BITS_PER_LONG;

	memset(map, 0xff, full * sizeof(unsigned long));
	if (nbits % BITS_PER_LONG)
		map[full] = LAST_WORD_MASK(nbits);
}

/* Set (@set) or clear the bits [@start, @start + @len), a word at a time. */
static void bitmap_assign(unsigned long *map, unsigned long start,
			  unsigned long len, bool set)
{
	unsigned long *p = map + BIT_WORD(start);
	unsigned long end = start + len;
	unsigned long mask = FIRST_WORD_MASK(start);
	long left = (long)(start % BITS_PER_LONG) + (long)len;

	if (!len)
		return;
	while (left > 0) {
		if (left < BITS_PER_LONG)
			mask &= LAST_WORD_MASK(end);
		*p = set ? *p | mask : *p & ~mask;
		p++;
		left -= BITS_PER_LONG;
		mask = ~0UL;
	}
}

/**
 * bitmap_set() - set bits [@start, @start + @len).
 * @map: the bitmap.
 * @start: first bit.
 * @len: number of bits.
 *
 * Context: not atomic; the caller excludes concurrent writers of the
 * words touched.
 */
void bitmap_set(unsigned long *map, unsigned long start, unsigned long len)
{
	bitmap_assign(map, start, len, true);
}

/**
 * bitmap_clear() - clear bits [@start, @start + @len).
 * @map: the bitmap.
 * @start: first bit.
 * @len: number of bits.
 *
 * Context: not atomic, as bitmap_set().
 */
void bitmap_clear(unsigned long *map, unsigned long start, unsigned long len)
{
	bitmap_assign(map, start, len, false);
}

unsigned long bitmap_weight(const unsigned long *map, unsigned long nbits)
{
	unsigned long i, full = nbits / BITS_PER_LONG, w = 0;

	for (i = 0; i < full; i++)
		w += (unsigned long)__builtin_popcountl(load_word(map, i));
	if (nbits % BITS_PER_LONG)
		w += (unsigned long)__builtin_popcountl(load_word(map, full) &
							LAST_WORD_MASK(nbits));
	return w;
}

bool bitmap_empty(const unsigned long *map, unsigned long nbits)
{
	return find_first_bit(map, nbits) >= nbits;
}

bool bitmap_full(const unsigned long *map, unsigned long nbits)
{
	return find_first_zero_bit(map, nbits) >= nbits;
}

bool bitmap_equal(const unsigned long *a, const unsigned long *b,
		  unsigned long nbits)
{
	unsigned long i, full = nbits / BITS_PER_LONG;

	for (i = 0; i < full; i++)
		if (load_word(a, i) != load_word(b, i))
			return false;
	if (nbits % BITS_PER_LONG)
		return !((load_word(a, full) ^ load_word(b, full)) &
			 LAST_WORD_MASK(nbits));
	return true;
}

/*
 * Common body of the two finders: @invert is ~0UL to look for zeroes.  The
 * first word is masked below @offset; each word is then tested whole and
 * the answer is the word's lowest set bit, clamped to @size because bits
 * past the end of the map are not defined.
 */
static inline unsigned long find_next(const unsigned long *map,
				      unsigned long size, unsigned long offset,
				      unsigned long invert)
{
	unsigned long i, w, bit;

	if (offset >= size)
		return size;
	i = BIT_WORD(offset);
	w = (load_word(map, i) ^ invert) & FIRST_WORD_MASK(offset);
	while (!w) {
		if (++i >= BITS_TO_LONGS(size))
			return size;
		w = load_word(map, i) ^ invert;
	}
	bit = i * BITS_PER_LONG + (unsigned long)__builtin_ctzl(w);
	return bit < size ? bit : size;
}

/**
 * find_next_bit() - the first set bit at or after @offset.
 * @map: the bitmap.
 * @size: its size in bits.
 * @offset: where to start.
 *
 * Return: the bit number, or @size if there is none.
 */
unsigned long find_next_bit(const unsigned long *map, unsigned long size,
			    unsigned long offset)
{
	return find_next(map, size, offset, 0);
}

/**
 * find_next_zero_bit() - the first clear bit at or after @offset.
 * @map: the bitmap.
 * @size: its size in bits.
 * @offset: where to start.
 *
 * Return: the bit number, or @size if there is none.
 */
unsigned long find_next_zero_bit(const unsigned long *map, unsigned long size,
				 unsigned long offset)
{
	return find_next(map, size, offset, ~0UL);
}
