// SPDX-License-Identifier: MIT
/*
 * The stage-2 table (src/kvm/s2pt.c) on its own, single-threaded: map/walk
 * round trips at every level and at the boundaries of the gfn space,
 * -EEXIST and -EINVAL, zaps of partial and spanning ranges and of blocks,
 * tables freed (only after kvmmu_s2_free_retired()) when they empty, exact
 * page counters, and a seeded random run against a flat reference list of
 * leaves.  Mappers racing lockless walkers and zaps: kvm_s2pt_race.c.
 */
#include "harness.h"

#include <kvmmu/log.h>
#include <kvmmu/rng.h>

#include "kvm_s2pt_common.h"

/* Walk @gfn and check it finds @want at @level (0/0: nothing). */
static void expect_walk(struct kvmmu_s2_mmu *m, gfn_t gfn, kvmmu_spte_t want,
			int level)
{
	kvmmu_spte_t *ptep = (kvmmu_spte_t *)1;
	int lvl = -1;
	kvmmu_spte_t e = kvmmu_s2_walk(m, gfn, &ptep, &lvl);

	if (e != want)
		TEST_LOG("walk of gfn %#" PRIx64, gfn);
	ASSERT_EQ(e, want);
	if (!want) {
		ASSERT_PTR_EQ(ptep, NULL);
		return;
	}
	ASSERT_EQ(lvl, level);
	ASSERT_PTR_NE(ptep, NULL);
	ASSERT_EQ(READ_ONCE(*ptep), want);
}

/* --- a leaf list, used as reference and to check for_each_leaf ------------ */

struct leaf {
	gfn_t gfn;
	int level;
	kvmmu_spte_t e;
};

struct leaf_list {
	struct leaf *v;
	size_t n, cap;
};

static void leaves_add(struct leaf_list *l, gfn_t gfn, int level,
		       kvmmu_spte_t e)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		ASSERT_PTR_NE(l->v, NULL);
	}
	l->v[l->n++] = (struct leaf){ gfn, level, e };
}

static void collect_fn(void *arg, gfn_t gfn, int level, kvmmu_spte_t *ptep,
		       kvmmu_spte_t e)
{
	ASSERT_EQ(READ_ONCE(*ptep), e);
	leaves_add(arg, gfn, level, e);
}

static int cmp_leaf(const void *a, const void *b)
{
	const struct leaf *x = a, *y = b;

	return x->gfn < y->gfn ? -1 : x->gfn > y->gfn;
}

/* Tables a minimal tree needs for @l: root + one per used prefix. */
static uint64_t expected_tables(const struct leaf_list *l)
{
	struct leaf_list s = { 0 };
	uint64_t n = 1, prev[4] = { ~0ull, ~0ull, ~0ull, ~0ull };
	size_t i;
	int lvl;

	for (i = 0; i < l->n; i++)
		leaves_add(&s, l->v[i].gfn, l->v[i].level, l->v[i].e);
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), cmp_leaf);
	/* In gfn order each table's prefix appears in one run. */
	for (i = 0; i < s.n; i++)
		for (lvl = 1; lvl <= 3; lvl++) {
			/* A table of level lvl exists over a leaf below it. */
			uint64_t pfx = s.v[i].gfn >> (9 * lvl);

			if (s.v[i].level > lvl || pfx == prev[lvl])
				continue;
			prev[lvl] = pfx;
			n++;
		}
	free(s.v);
	return n;
}

/* --- single-threaded tests ----------------------------------------------- */

TEST(map_walk_all_levels)
{
	struct kvmmu_s2_mmu m;
	int level;

	for (level = 1; level <= 3; level++) {
		gfn_t s = lsize(level);
		gfn_t gfns[] = { 0,	  s,	    511 * s,	  512 * s,
				 513 * s, 4096 * s, GFN_LIMIT - s };
		struct leaf_list l = { 0 };
		unsigned int i;

		ASSERT_OK(kvmmu_s2_init(&m));
		ASSERT_EQ(kvmmu_s2_table_bytes(&m), TBL);
		for (i = 0; i < ARRAY_SIZE(gfns); i++) {
			kvmmu_spte_t e = mkleaf(gfns[i], PROT_AD, level);

			ASSERT_OK(kvmmu_s2_map(&m, gfns[i], level, e, NULL));
			leaves_add(&l, gfns[i], level, e);
		}
		for (i = 0; i < ARRAY_SIZE(gfns); i++) {
			kvmmu_spte_t e = mkleaf(gfns[i], PROT_AD, level);

			/* First, last and a middle gfn of the leaf. */
			expect_walk(&m, gfns[i], e, level);
			expect_walk(&m, gfns[i] + s - 1, e, level);
			expect_walk(&m, gfns[i] + s / 2, e, level);
			ASSERT_EQ(s2_pfn(e), gfns[i]);
		}
		/* Neighbours that nothing maps. */
		expect_walk(&m, 2 * s, 0, 0);
		expect_walk(&m, 510 * s, 0, 0);
		expect_walk(&m, 514 * s + s - 1, 0, 0);
		expect_walk(&m, GFN_LIMIT - s - 1, 0, 0);
		expect_walk(&m, GFN_LIMIT, 0, 0);
		expect_walk(&m, UINT64_MAX, 0, 0);
		if (level == 1)
			expect_pages(&m, ARRAY_SIZE(gfns), 0, 0);
		else if (level == 2)
			expect_pages(&m, 0, ARRAY_SIZE(gfns), 0);
		else
			expect_pages(&m, 0, 0, ARRAY_SIZE(gfns));
		ASSERT_EQ(nr_tables(&m), expected_tables(&l));
		check_table_accounting(&m);
		kvmmu_s2_destroy(&m);
		free(l.v);
	}
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

TEST(walk_reports_stop_level)
{
	struct kvmmu_s2_mmu m;
	kvmmu_spte_t *ptep;
	int lvl;

	ASSERT_OK(kvmmu_s2_init(&m));
	ASSERT_EQ(kvmmu_s2_walk(&m, 5, &ptep, &lvl), 0);
	ASSERT_EQ(lvl, 4); /* empty root */
	ASSERT_OK(kvmmu_s2_map(&m, 0, 1, mkleaf(0, PROT_AD, 0), NULL));
	ASSERT_EQ(kvmmu_s2_walk(&m, 5, &ptep, &lvl), 0);
	ASSERT_EQ(lvl, 1);
	ASSERT_EQ(kvmmu_s2_walk(&m, 512, &ptep, &lvl), 0);
	ASSERT_EQ(lvl, 2);
	ASSERT_EQ(kvmmu_s2_walk(&m, 1ull << 18, &ptep, &lvl), 0);
	ASSERT_EQ(lvl, 3);
	ASSERT_EQ(kvmmu_s2_walk(&m, GFN_LIMIT, &ptep, &lvl), 0);
	ASSERT_EQ(lvl, 0);
	ASSERT_PTR_EQ(ptep, NULL);
	/* NULL out-parameters are allowed. */
	ASSERT_EQ(kvmmu_s2_walk(&m, 0, NULL, NULL), mkleaf(0, PROT_AD, 0));
	kvmmu_s2_destroy(&m);
}

TEST(eexist)
{
	struct kvmmu_s2_mmu m;
	kvmmu_spte_t a = mkleaf(100, PROT_AD, 1), old = 0;
	kvmmu_spte_t blk2 = mkleaf(512, PROT_AD, 2);
	kvmmu_spte_t blk3 = mkleaf(1ull << 18, PROT_AD, 3);
	uint64_t tables;

	ASSERT_OK(kvmmu_s2_init(&m));
	ASSERT_OK(kvmmu_s2_map(&m, 100, 1, a, NULL));
	ASSERT_ERRNO(kvmmu_s2_map(&m, 100, 1, mkleaf(7, PROT_AD, 9), &old),
		     -EEXIST);
	ASSERT_EQ(old, a);
	expect_walk(&m, 100, a, 1);
	ASSERT_ERRNO(kvmmu_s2_map(&m, 100, 1, a, NULL), -EEXIST);

	/* A 2 MiB block, then 4 KiB and 2 MiB maps inside it. */
	ASSERT_OK(kvmmu_s2_map(&m, 512, 2, blk2, NULL));
	old = 0;
	ASSERT_ERRNO(kvmmu_s2_map(&m, 600, 1, mkleaf(600, PROT_AD, 0), &old),
		     -EEXIST);
	ASSERT_EQ(old, blk2);
	old = 0;
	ASSERT_ERRNO(kvmmu_s2_map(&m, 512, 2, mkleaf(1, PROT_AD, 0), &old),
		     -EEXIST);
	ASSERT_EQ(old, blk2);
	/* A block where smaller mappings hang off a table: a table entry. */
	old = 0;
	ASSERT_ERRNO(kvmmu_s2_map(&m, 0, 2, mkleaf(0, PROT_AD, 0), &old),
		     -EEXIST);
	ASSERT_TRUE(old & S2_PRESENT);
	ASSERT_FALSE(s2_is_leaf(old));
	old = 0;
	ASSERT_ERRNO(kvmmu_s2_map(&m, 0, 3, mkleaf(0, PROT_AD, 0), &old),
		     -EEXIST);
	ASSERT_FALSE(s2_is_leaf(old));

	/* A 1 GiB block, then 4 KiB and 2 MiB maps inside it. */
	ASSERT_OK(kvmmu_s2_map(&m, 1ull << 18, 3, blk3, NULL));
	tables = nr_tables(&m);
	old = 0;
	ASSERT_ERRNO(kvmmu_s2_map(&m, (1ull << 18) + 5, 1,
				  mkleaf(5, PROT_AD, 0), &old),
		     -EEXIST);
	ASSERT_EQ(old, blk3);
	old = 0;
	ASSERT_ERRNO(kvmmu_s2_map(&m, (1ull << 18) + 512, 2,
				  mkleaf(5, PROT_AD, 0), &old),
		     -EEXIST);
	ASSERT_EQ(old, blk3);
	/* A refused map allocates no table. */
	ASSERT_EQ(nr_tables(&m), tables);
	expect_pages(&m, 1, 1, 1);
	expect_walk(&m, (1ull << 19) - 1, blk3, 3);
	expect_walk(&m, 1023, blk2, 2);
	kvmmu_s2_destroy(&m);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

TEST(einval)
{
	struct kvmmu_s2_mmu m;
	kvmmu_spte_t e = mkleaf(1, PROT_AD, 0), old = 0x1234;

	ASSERT_OK(kvmmu_s2_init(&m));
	ASSERT_ERRNO(kvmmu_s2_map(&m, GFN_LIMIT, 1, e, &old), -EINVAL);
	ASSERT_ERRNO(kvmmu_s2_map(&m, UINT64_MAX, 1, e, &old), -EINVAL);
	ASSERT_ERRNO(kvmmu_s2_map(&m, GFN_LIMIT, 2, e, &old), -EINVAL);
	ASSERT_ERRNO(kvmmu_s2_map(&m, 0, 0, e, &old), -EINVAL);
	ASSERT_ERRNO(kvmmu_s2_map(&m, 0, 4, e, &old), -EINVAL);
	ASSERT_ERRNO(kvmmu_s2_map(&m, 0, -1, e, &old), -EINVAL);
	/* Misaligned blocks. */
	ASSERT_ERRNO(kvmmu_s2_map(&m, 1, 2, e, &old), -EINVAL);
	ASSERT_ERRNO(kvmmu_s2_map(&m, 512, 3, e, &old), -EINVAL);
	/* Not a present leaf. */
	ASSERT_ERRNO(kvmmu_s2_map(&m, 0, 1, 0, &old), -EINVAL);
	ASSERT_ERRNO(kvmmu_s2_map(&m, 0, 1, e & ~S2_LEAF, &old), -EINVAL);
	ASSERT_ERRNO(kvmmu_s2_map(&m, 0, 1, e & ~S2_PRESENT, &old), -EINVAL);
	ASSERT_EQ(old, 0x1234);
	/* The last valid gfn still works. */
	ASSERT_OK(kvmmu_s2_map(&m, GFN_MAX, 1, e, NULL));
	expect_walk(&m, GFN_MAX, e, 1);
	expect_walk(&m, GFN_LIMIT, 0, 0);
	/* Ranges beyond the space, empty or reversed, zap nothing. */
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, GFN_LIMIT, UINT64_MAX), 0);
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, GFN_MAX, GFN_MAX), 0);
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 10, 5), 0);
	expect_pages(&m, 1, 0, 0);
	/* An end beyond the space is clamped. */
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, GFN_MAX, UINT64_MAX), 1);
	expect_pages(&m, 0, 0, 0);
	kvmmu_s2_free_retired(&m);
	ASSERT_EQ(kvmmu_s2_table_bytes(&m), TBL);
	kvmmu_s2_destroy(&m);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

TEST(destroy_idempotent)
{
	struct kvmmu_s2_mmu m;

	memset(&m, 0, sizeof(m));
	kvmmu_s2_destroy(&m); /* never initialised: nothing to do */
	ASSERT_OK(kvmmu_s2_init(&m));
	ASSERT_OK(kvmmu_s2_map(&m, 7, 1, mkleaf(7, PROT_AD, 0), NULL));
	kvmmu_s2_destroy(&m);
	expect_pages(&m, 0, 0, 0);
	ASSERT_EQ(kvmmu_s2_table_bytes(&m), 0);
	kvmmu_s2_destroy(&m);
	/* A destroyed table is empty; mapping into it is a bug. */
	expect_walk(&m, 7, 0, 0);
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 0, GFN_LIMIT), 0);
	ASSERT_EQ(kvmmu_warn_count(), 0);
	kvmmu_log_set_level(KVMMU_LOG_ERR); /* the expected warning */
	ASSERT_ERRNO(kvmmu_s2_map(&m, 7, 1, mkleaf(7, PROT_AD, 0), NULL),
		     -EINVAL);
	ASSERT_EQ(kvmmu_warn_count(), 1);
}

static void map_range_4k(struct kvmmu_s2_mmu *m, gfn_t start, gfn_t end,
			 uint64_t prot)
{
	gfn_t g;

	for (g = start; g < end; g++)
		ASSERT_OK(kvmmu_s2_map(m, g, 1, mkleaf(g, prot, 0), NULL));
}

static void expect_range(struct kvmmu_s2_mmu *m, gfn_t start, gfn_t end,
			 bool present)
{
	gfn_t g;

	for (g = start; g < end; g++)
		ASSERT_EQ(kvmmu_s2_walk(m, g, NULL, NULL) != 0, present);
}

TEST(unmap_partial_and_spanning)
{
	struct kvmmu_s2_mmu m;
	const gfn_t l2 = 1ull << 18, l3 = 1ull << 27;

	ASSERT_OK(kvmmu_s2_init(&m));
	/* Four level-1 tables under one level-2 table. */
	map_range_4k(&m, 0, 2048, PROT_AD);
	ASSERT_EQ(nr_tables(&m), 7);
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 100, 200), 100);
	expect_range(&m, 0, 100, true);
	expect_range(&m, 100, 200, false);
	expect_range(&m, 200, 2048, true);
	ASSERT_EQ(nr_tables(&m), 7);
	ASSERT_PTR_EQ(m.retired, NULL);
	/* Covers the second level-1 table: it is retired, not freed. */
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 500, 1100), 600);
	expect_range(&m, 499, 500, true);
	expect_range(&m, 500, 1100, false);
	expect_range(&m, 1100, 1101, true);
	ASSERT_EQ(nr_tables(&m), 7);
	ASSERT_EQ(count_retired(&m), 1);
	check_table_accounting(&m);
	kvmmu_s2_free_retired(&m);
	ASSERT_EQ(nr_tables(&m), 6);
	expect_pages(&m, 2048 - 700, 0, 0);
	/* Empties the first table piecewise (scanned, then retired). */
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 0, 512), 400);
	ASSERT_EQ(count_retired(&m), 1);
	/* The rest: every table up to the root empties. */
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 1100, 2048), 948);
	expect_pages(&m, 0, 0, 0);
	ASSERT_EQ(count_retired(&m), 5);
	check_table_accounting(&m);
	kvmmu_s2_free_retired(&m);
	ASSERT_EQ(kvmmu_s2_table_bytes(&m), TBL);

	/* Ranges across level-2 and level-3 table boundaries. */
	map_range_4k(&m, l2 - 10, l2 + 10, PROT_FRESH);
	map_range_4k(&m, l3 - 10, l3 + 10, PROT_AD);
	map_range_4k(&m, GFN_LIMIT - 10, GFN_LIMIT, PROT_AD);
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, l2 - 5, l3 + 5), 30);
	expect_range(&m, l2 - 10, l2 - 5, true);
	expect_range(&m, l2 - 5, l2 + 10, false);
	expect_range(&m, l3 - 10, l3 + 5, false);
	expect_range(&m, l3 + 5, l3 + 10, true);
	expect_pages(&m, 20, 0, 0);
	check_table_accounting(&m);
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 0, GFN_LIMIT), 20);
	kvmmu_s2_free_retired(&m);
	ASSERT_EQ(kvmmu_s2_table_bytes(&m), TBL);
	kvmmu_s2_destroy(&m);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

TEST(unmap_blocks)
{
	struct kvmmu_s2_mmu m;
	const gfn_t g1 = 1ull << 18;

	ASSERT_OK(kvmmu_s2_init(&m));
	ASSERT_OK(kvmmu_s2_map(&m, 512, 2, mkleaf(512, PROT_AD, 0), NULL));
	ASSERT_OK(kvmmu_s2_map(&m, 1024, 1, mkleaf(1024, PROT_AD, 0), NULL));
	ASSERT_OK(kvmmu_s2_map(&m, g1, 3, mkleaf(g1, PROT_FRESH, 0), NULL));
	expect_pages(&m, 1, 1, 1);
	/* One gfn inside a block zaps the whole block. */
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 600, 601), 1);
	expect_walk(&m, 512, 0, 0);
	expect_walk(&m, 1023, 0, 0);
	expect_walk(&m, 1024, mkleaf(1024, PROT_AD, 0), 1);
	expect_pages(&m, 1, 0, 1);
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, g1 + (g1 >> 1), g1 + (g1 >> 1) + 1),
		  1);
	expect_walk(&m, g1, 0, 0);
	expect_pages(&m, 1, 0, 0);
	/* A range ending inside a block, starting before it. */
	ASSERT_OK(kvmmu_s2_map(&m, 0, 2, mkleaf(0, PROT_AD, 0), NULL));
	ASSERT_OK(
		kvmmu_s2_map(&m, 2 * g1, 3, mkleaf(2 * g1, PROT_AD, 0), NULL));
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 100, 2 * g1 + 1), 3);
	expect_pages(&m, 0, 0, 0);
	check_table_accounting(&m);
	kvmmu_s2_free_retired(&m);
	ASSERT_EQ(kvmmu_s2_table_bytes(&m), TBL);
	/* A fully covered block in a table with other leaves. */
	ASSERT_OK(kvmmu_s2_map(&m, 0, 2, mkleaf(0, PROT_AD, 0), NULL));
	ASSERT_OK(kvmmu_s2_map(&m, 1024, 2, mkleaf(1024, PROT_AD, 0), NULL));
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 0, 512), 1);
	expect_walk(&m, 1024, mkleaf(1024, PROT_AD, 0), 2);
	ASSERT_PTR_EQ(m.retired, NULL);
	expect_pages(&m, 0, 1, 0);
	kvmmu_s2_destroy(&m);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

TEST(tables_freed_when_empty)
{
	struct kvmmu_s2_mmu m;
	struct leaf_list l = { 0 };
	unsigned long n = 0;
	uint64_t before;
	int i;

	ASSERT_OK(kvmmu_s2_init(&m));
	for (i = 0; i < 2000; i++) {
		gfn_t g = ((gfn_t)i * 0x9e3779b97f4a7c15ull) & GFN_MAX;

		n += !kvmmu_s2_map(&m, g, 1, mkleaf(g, PROT_AD, 0), NULL);
	}
	n += !kvmmu_s2_map(&m, 1ull << 30, 2, mkleaf(0, PROT_AD, 0), NULL);
	n += !kvmmu_s2_map(&m, 3ull << 30, 3, mkleaf(0, PROT_AD, 0), NULL);
	before = nr_tables(&m);
	ASSERT_GT(before, 2000);
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 0, GFN_LIMIT), n);
	expect_pages(&m, 0, 0, 0);
	kvmmu_s2_for_each_leaf(&m, collect_fn, &l);
	ASSERT_EQ(l.n, 0);
	/* Retired tables still count until they are freed. */
	ASSERT_EQ(nr_tables(&m), before);
	ASSERT_EQ(count_retired(&m), before - 1);
	kvmmu_s2_free_retired(&m);
	ASSERT_PTR_EQ(m.retired, NULL);
	ASSERT_EQ(kvmmu_s2_table_bytes(&m), TBL);
	/* The pool serves the next tables. */
	ASSERT_OK(kvmmu_s2_map(&m, 12345, 1, mkleaf(1, PROT_AD, 0), NULL));
	ASSERT_EQ(nr_tables(&m), 4);
	kvmmu_s2_destroy(&m);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

static bool in_set(struct kvmmu_s2_table **set, int n, const void *p)
{
	int i;

	for (i = 0; i < n; i++)
		if ((const void *)set[i] == p)
			return true;
	return false;
}

/* Does any table reachable from @t belong to @set? */
static bool tree_uses(struct kvmmu_s2_table *t, int level,
		      struct kvmmu_s2_table **set, int n)
{
	int i;

	if (in_set(set, n, t))
		return true;
	if (level == 1)
		return false;
	for (i = 0; i < S2_ENTRIES; i++) {
		kvmmu_spte_t e = t->e[i];

		if ((e & S2_PRESENT) && !(e & S2_LEAF) &&
		    tree_uses((void *)(uintptr_t)(e & S2_ADDR_MASK), level - 1,
			      set, n))
			return true;
	}
	return false;
}

TEST(retired_not_reused)
{
	struct kvmmu_s2_mmu m;
	struct kvmmu_s2_table *ret[8], *t;
	kvmmu_spte_t *ptep;
	int n = 0, i;
	gfn_t g;

	ASSERT_OK(kvmmu_s2_init(&m));
	map_range_4k(&m, 1ull << 27, (1ull << 27) + 512, PROT_AD);
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 1ull << 27, (1ull << 27) + 512),
		  512);
	for (t = m.retired; t; t = (void *)(uintptr_t)(t->e[0] & S2_ADDR_MASK))
		ret[n++] = t;
	ASSERT_EQ(n, 3); /* the level-1, -2 and -3 tables */
	/* What a stale walker reads there: nothing present. */
	for (i = 0; i < n; i++) {
		int j;

		for (j = 0; j < S2_ENTRIES; j++)
			ASSERT_FALSE(ret[i]->e[j] & S2_PRESENT);
	}
	/* Many new tables (more than a chunk), none of them retired. */
	for (g = 0; g < 600 * 512; g += 512)
		ASSERT_OK(kvmmu_s2_map(&m, g, 1, mkleaf(g, PROT_AD, 0), NULL));
	ASSERT_FALSE(tree_uses(m.root, S2_LEVELS, ret, n));
	for (i = 0; i < n; i++)
		for (g = 0; g < S2_ENTRIES; g++)
			ASSERT_FALSE(ret[i]->e[g] & S2_PRESENT);
	/* After free_retired they are handed out again (LIFO pool). */
	kvmmu_s2_free_retired(&m);
	g = 1ull << 35;
	ASSERT_OK(kvmmu_s2_map(&m, g, 1, mkleaf(g, PROT_AD, 0), NULL));
	ASSERT_EQ(kvmmu_s2_walk(&m, g, &ptep, NULL), mkleaf(g, PROT_AD, 0));
	ASSERT_TRUE(tree_uses(m.root, S2_LEVELS, ret, n));
	check_table_accounting(&m);
	kvmmu_s2_destroy(&m);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

TEST(counters_exact)
{
	struct kvmmu_s2_mmu m;
	int i;

	ASSERT_OK(kvmmu_s2_init(&m));
	/* 1 GiB blocks in [0, 8 GiB), 2 MiB blocks and pages above. */
	for (i = 0; i < 8; i++)
		ASSERT_OK(kvmmu_s2_map(&m, (gfn_t)i << 18, 3,
				       mkleaf(0, PROT_FRESH, 0), NULL));
	for (i = 0; i < 100; i++)
		ASSERT_OK(kvmmu_s2_map(&m, (8ull << 18) + i * 512, 2,
				       mkleaf(0, PROT_AD, 0), NULL));
	map_range_4k(&m, 9ull << 18, (9ull << 18) + 3000, PROT_FRESH);
	expect_pages(&m, 3000, 100, 8);
	/* Refused maps change nothing. */
	ASSERT_ERRNO(kvmmu_s2_map(&m, 5, 1, mkleaf(0, PROT_AD, 0), NULL),
		     -EEXIST);
	expect_pages(&m, 3000, 100, 8);
	/* One gfn in the middle of each kind. */
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 3ull << 18, (3ull << 18) + 1), 1);
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, (8ull << 18) + 700,
				       (8ull << 18) + 701),
		  1);
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, (9ull << 18) + 7, (9ull << 18) + 8),
		  1);
	expect_pages(&m, 2999, 99, 7);
	/* A range cutting blocks at both ends: [1.5 GiB, 8 GiB + 4.4 MiB). */
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 3ull << 17, (8ull << 18) + 1124),
		  6 + 2);
	expect_pages(&m, 2999, 97, 1);
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 0, GFN_LIMIT), 2999 + 97 + 1);
	expect_pages(&m, 0, 0, 0);
	kvmmu_s2_free_retired(&m);
	ASSERT_EQ(kvmmu_s2_table_bytes(&m), TBL);
	kvmmu_s2_destroy(&m);
}

/* --- random against a reference list --------------------------------------- */

#define WIN (1ull << 20) /* two 4 GiB windows: the bottom and the top */

static gfn_t rand_gfn(struct kvmmu_rng *r)
{
	gfn_t g = kvmmu_rng_below(r, WIN);

	return kvmmu_rng_below(r, 2) ? g : GFN_LIMIT - WIN + g;
}

static int rand_level(struct kvmmu_rng *r)
{
	uint64_t x = kvmmu_rng_below(r, 100);

	return x < 80 ? 1 : x < 95 ? 2 : 3;
}

static bool overlaps(const struct leaf *lf, gfn_t start, gfn_t end)
{
	return lf->gfn < end && start < lf->gfn + lsize(lf->level);
}

/* The reference leaf mapping @gfn, or NULL. */
static struct leaf *ref_find(struct leaf_list *ref, gfn_t gfn)
{
	size_t i;

	for (i = 0; i < ref->n; i++)
		if (overlaps(&ref->v[i], gfn, gfn + 1))
			return &ref->v[i];
	return NULL;
}

static void ref_check_all(struct kvmmu_s2_mmu *m, struct leaf_list *ref)
{
	struct leaf_list got = { 0 };
	size_t i;

	kvmmu_s2_for_each_leaf(m, collect_fn, &got);
	ASSERT_EQ(got.n, ref->n);
	if (ref->n)
		qsort(ref->v, ref->n, sizeof(*ref->v), cmp_leaf);
	for (i = 0; i < ref->n; i++) {
		/* for_each_leaf is in gfn order already */
		ASSERT_EQ(got.v[i].gfn, ref->v[i].gfn);
		ASSERT_EQ(got.v[i].level, ref->v[i].level);
		ASSERT_EQ(got.v[i].e, ref->v[i].e);
	}
	free(got.v);
	check_table_accounting(m);
	kvmmu_s2_free_retired(m);
	ASSERT_EQ(nr_tables(m), expected_tables(ref));
}

static void ref_check_pages(struct kvmmu_s2_mmu *m, struct leaf_list *ref)
{
	long p[3] = { 0 };
	size_t i;

	for (i = 0; i < ref->n; i++)
		p[ref->v[i].level - 1]++;
	expect_pages(m, p[0], p[1], p[2]);
}

TEST(random_vs_reference)
{
	struct kvmmu_s2_mmu m;
	struct leaf_list ref = { 0 };
	struct kvmmu_rng r;
	unsigned long maps = 0, zapped = 0, eexist = 0;
	int op;

	kvmmu_rng_seed(&r, test_seed());
	ASSERT_OK(kvmmu_s2_init(&m));
	for (op = 1; op <= 30000; op++) {
		uint64_t what = kvmmu_rng_below(&r, 100);

		if (what < 65) {
			int level = rand_level(&r);
			gfn_t s = lsize(level);
			gfn_t g = ALIGN_DOWN(rand_gfn(&r), s);
			uint64_t prot =
				kvmmu_rng_next(&r) &
				(S2_WRITE | S2_EXEC | S2_MT_MASK | S2_ACCESSED |
				 S2_DIRTY | S2_MMU_WRITABLE);
			kvmmu_spte_t e =
				s2_mk_leaf(kvmmu_rng_below(&r, 1ull << 40),
					   prot, (uint32_t)kvmmu_rng_next(&r));
			kvmmu_spte_t old = 0;
			struct leaf *cover = NULL;
			bool busy = false;
			size_t i;
			int ret;

			for (i = 0; i < ref.n; i++) {
				if (!overlaps(&ref.v[i], g, g + s))
					continue;
				busy = true;
				if (ref.v[i].level >= level)
					cover = &ref.v[i];
			}
			ret = kvmmu_s2_map(&m, g, level, e, &old);
			if (!busy) {
				ASSERT_OK(ret);
				leaves_add(&ref, g, level, e);
				maps++;
			} else {
				ASSERT_ERRNO(ret, -EEXIST);
				if (cover)
					ASSERT_EQ(old, cover->e);
				else
					ASSERT_TRUE((old & S2_PRESENT) &&
						    !(old & S2_LEAF));
				eexist++;
			}
		} else if (what < 90) {
			gfn_t start = rand_gfn(&r), end;
			uint64_t kind = kvmmu_rng_below(&r, 1000);
			unsigned long want = 0, got;
			size_t i, k = 0;

			if (kind < 700)
				end = start + 1 + kvmmu_rng_below(&r, 1024);
			else if (kind < 998)
				end = start + 1 + kvmmu_rng_below(&r, 1 << 14);
			else
				end = start + kvmmu_rng_below(&r, GFN_LIMIT);
			for (i = 0; i < ref.n; i++) {
				if (overlaps(&ref.v[i], start, end))
					want++;
				else
					ref.v[k++] = ref.v[i];
			}
			ref.n = k;
			got = kvmmu_s2_unmap_range(&m, start, end);
			ASSERT_EQ(got, want);
			zapped += got;
		} else if (what < 93) {
			kvmmu_s2_free_retired(&m);
		} else {
			int q;

			for (q = 0; q < 16; q++) {
				gfn_t g = rand_gfn(&r);
				struct leaf *lf = ref_find(&ref, g);

				expect_walk(&m, g, lf ? lf->e : 0,
					    lf ? lf->level : 0);
			}
		}
		ref_check_pages(&m, &ref);
		if (op % 500 == 0)
			ref_check_all(&m, &ref);
	}
	ref_check_all(&m, &ref);
	TEST_LOG("%lu maps, %lu -EEXIST, %lu zapped, %zu leaves left", maps,
		 eexist, zapped, ref.n);
	ASSERT_GT(zapped, 1000);
	ASSERT_GT(eexist, 100);
	ASSERT_EQ(kvmmu_s2_unmap_range(&m, 0, GFN_LIMIT), ref.n);
	kvmmu_s2_free_retired(&m);
	ASSERT_EQ(kvmmu_s2_table_bytes(&m), TBL);
	kvmmu_s2_destroy(&m);
	free(ref.v);
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

TEST_HARNESS_MAIN
