/* SPDX-License-Identifier: MIT */
/*
 * Bitmaps of unsigned long words, with the kernel's names.
 *
 * set_bit/clear_bit/test_and_*_bit/change_bit are atomic (relaxed for plain
 * set/clear, seq_cst for test_and_*), the __ forms are not.  Bit i lives in
 * word i / BITS_PER_LONG at position i % BITS_PER_LONG, which on a
 * little-endian 64-bit host is also the byte layout of KVM's dirty bitmap
 * (set_bit_le).  find_* return @size when nothing is found.
 */
#ifndef KVMMU_BITMAP_H
#define KVMMU_BITMAP_H

#include <stddef.h>
#include "compiler.h"
#include "atomic.h"

#define BITS_PER_LONG	 64
#define BIT(n)		 (1UL << (n))
#define BIT_WORD(n)	 ((n) / BITS_PER_LONG)
#define BIT_MASK(n)	 (1UL << ((n) % BITS_PER_LONG))
#define BITS_TO_LONGS(n) DIV_ROUND_UP((n), BITS_PER_LONG)
#define BITMAP_BYTES(n)	 (BITS_TO_LONGS(n) * sizeof(unsigned long))

static inline void set_bit(unsigned long nr, unsigned long *addr)
{
	kvmmu_sched_point(KVMMU_SP_RMW, addr + BIT_WORD(nr));
	__atomic_fetch_or(addr + BIT_WORD(nr), BIT_MASK(nr), __ATOMIC_RELAXED);
}

static inline void clear_bit(unsigned long nr, unsigned long *addr)
{
	kvmmu_sched_point(KVMMU_SP_RMW, addr + BIT_WORD(nr));
	__atomic_fetch_and(addr + BIT_WORD(nr), ~BIT_MASK(nr),
			   __ATOMIC_RELAXED);
}

static inline void change_bit(unsigned long nr, unsigned long *addr)
{
	kvmmu_sched_point(KVMMU_SP_RMW, addr + BIT_WORD(nr));
	__atomic_fetch_xor(addr + BIT_WORD(nr), BIT_MASK(nr), __ATOMIC_RELAXED);
}

static inline bool test_and_set_bit(unsigned long nr, unsigned long *addr)
{
	kvmmu_sched_point(KVMMU_SP_RMW, addr + BIT_WORD(nr));
	return __atomic_fetch_or(addr + BIT_WORD(nr), BIT_MASK(nr),
				 __ATOMIC_SEQ_CST) &
	       BIT_MASK(nr);
}

static inline bool test_and_clear_bit(unsigned long nr, unsigned long *addr)
{
	kvmmu_sched_point(KVMMU_SP_RMW, addr + BIT_WORD(nr));
	return __atomic_fetch_and(addr + BIT_WORD(nr), ~BIT_MASK(nr),
				  __ATOMIC_SEQ_CST) &
	       BIT_MASK(nr);
}

static inline bool test_bit(unsigned long nr, const unsigned long *addr)
{
	return (__atomic_load_n(addr + BIT_WORD(nr), __ATOMIC_RELAXED) >>
		(nr % BITS_PER_LONG)) &
	       1;
}

static inline void __set_bit(unsigned long nr, unsigned long *addr)
{
	addr[BIT_WORD(nr)] |= BIT_MASK(nr);
}

static inline void __clear_bit(unsigned long nr, unsigned long *addr)
{
	addr[BIT_WORD(nr)] &= ~BIT_MASK(nr);
}

/* Allocation: zeroed, NULL on failure.  bitmap_free(NULL) is allowed. */
unsigned long *bitmap_zalloc(unsigned long nbits);
void bitmap_free(unsigned long *map);

void bitmap_zero(unsigned long *map, unsigned long nbits);
/* Sets bits [0, nbits); bits past nbits in the last word stay clear. */
void bitmap_fill(unsigned long *map, unsigned long nbits);
/* Set / clear bits [start, start + len). */
void bitmap_set(unsigned long *map, unsigned long start, unsigned long len);
void bitmap_clear(unsigned long *map, unsigned long start, unsigned long len);
unsigned long bitmap_weight(const unsigned long *map, unsigned long nbits);
bool bitmap_empty(const unsigned long *map, unsigned long nbits);
bool bitmap_full(const unsigned long *map, unsigned long nbits);
bool bitmap_equal(const unsigned long *a, const unsigned long *b,
		  unsigned long nbits);

unsigned long find_next_bit(const unsigned long *map, unsigned long size,
			    unsigned long offset);
unsigned long find_next_zero_bit(const unsigned long *map, unsigned long size,
				 unsigned long offset);
static inline unsigned long find_first_bit(const unsigned long *map,
					   unsigned long size)
{
	return find_next_bit(map, size, 0);
}
static inline unsigned long find_first_zero_bit(const unsigned long *map,
						unsigned long size)
{
	return find_next_zero_bit(map, size, 0);
}

#define for_each_set_bit(bit, map, size)                            \
	for ((bit) = find_first_bit((map), (size)); (bit) < (size); \
	     (bit) = find_next_bit((map), (size), (bit) + 1))
#define for_each_clear_bit(bit, map, size)                               \
	for ((bit) = find_first_zero_bit((map), (size)); (bit) < (size); \
	     (bit) = find_next_zero_bit((map), (size), (bit) + 1))

#endif /* KVMMU_BITMAP_H */
