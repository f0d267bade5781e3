/* SPDX-License-Identifier: MIT */
/*
 * Shared by the stage-2 table tests (kvm_s2pt.c, kvm_s2pt_race.c): the gfn
 * space, the leaf protections the tests map with, and the checks of the
 * page counters and of the table accounting (every table reachable from
 * the root or retired, none leaked).
 */
#ifndef KVMMU_TESTS_KVM_S2PT_COMMON_H
#define KVMMU_TESTS_KVM_S2PT_COMMON_H

#include "harness.h"

#include "kvm/internal.h"

#define GFN_LIMIT (1ull << 36)
#define GFN_MAX	  (GFN_LIMIT - 1)
#define TBL	  4096ull

/* A stable leaf: A and D set, so a zap may clear it with a plain store. */
#define PROT_AD	   (S2_WRITE | S2_EXEC | S2_ACCESSED | S2_DIRTY | S2_MMU_WRITABLE)
/* A volatile leaf: the walker may still set A and D, a zap must exchange. */
#define PROT_FRESH (S2_WRITE | S2_MMU_WRITABLE)

static inline gfn_t lsize(int level)
{
	return 1ull << (9 * (level - 1));
}

/* The leaf the tests map at @g: its pfn is @g, its generation @tag. */
static inline kvmmu_spte_t mkleaf(gfn_t g, uint64_t prot, uint32_t tag)
{
	return s2_mk_leaf(g, prot, tag);
}

static inline uint64_t nr_tables(struct kvmmu_s2_mmu *m)
{
	return kvmmu_s2_table_bytes(m) / TBL;
}

static inline void expect_pages(struct kvmmu_s2_mmu *m, long p4k, long p2m,
				long p1g)
{
	ASSERT_EQ(kvmmu_s2_count(m, S2_STAT_PAGES_4K), p4k);
	ASSERT_EQ(kvmmu_s2_count(m, S2_STAT_PAGES_2M), p2m);
	ASSERT_EQ(kvmmu_s2_count(m, S2_STAT_PAGES_1G), p1g);
}

/* Count the tables reachable from the root (root included). */
static inline uint64_t count_reachable(struct kvmmu_s2_table *t, int level)
{
	uint64_t n = 1;
	int i;

	if (level == 1)
		return 1;
	for (i = 0; i < S2_ENTRIES; i++) {
		kvmmu_spte_t e = READ_ONCE(t->e[i]);

		if ((e & S2_PRESENT) && !(e & S2_LEAF))
			n += count_reachable((void *)(uintptr_t)(e &
								 S2_ADDR_MASK),
					     level - 1);
	}
	return n;
}

static inline uint64_t count_retired(struct kvmmu_s2_mmu *m)
{
	struct kvmmu_s2_table *t;
	uint64_t n = 0;

	for (t = m->retired; t;
	     t = (void *)(uintptr_t)(READ_ONCE(t->e[0]) & S2_ADDR_MASK))
		n++;
	return n;
}

/* Every table is either reachable or retired: nothing leaks. */
static inline void check_table_accounting(struct kvmmu_s2_mmu *m)
{
	ASSERT_EQ(nr_tables(m),
		  count_reachable(m->root, S2_LEVELS) + count_retired(m));
}

#endif /* KVMMU_TESTS_KVM_S2PT_COMMON_H */
