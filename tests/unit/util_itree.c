// SPDX-License-Identifier: MIT
/*
 * The interval tree against a brute-force model.
 *
 * The model is the array of items currently in the tree; its expected
 * in-order sequence is the items sorted by (start, insertion number).  After
 * every batch of random inserts and removals (with many overlaps and
 * duplicate starts, and ranges at both ends of the 64-bit space) every
 * query is compared with a linear scan of the model, and validate() runs.
 */
#include "harness.h"

#include <kvmmu/interval_tree.h>
#include <kvmmu/log.h>
#include <kvmmu/rng.h>

struct item {
	struct kvmmu_itree_node node;
	uint64_t seq; /* insertion number, for the tie order */
	bool in;
};

#define POOL 3000

static struct item pool[POOL];
static struct item *sorted[POOL];
static unsigned long nsorted;
static uint64_t seq_next;

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = *(struct item *const *)a;
	const struct item *y = *(struct item *const *)b;

	if (x->node.start != y->node.start)
		return x->node.start < y->node.start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void model_sort(void)
{
	unsigned long i;

	nsorted = 0;
	for (i = 0; i < POOL; i++)
		if (pool[i].in)
			sorted[nsorted++] = &pool[i];
	qsort(sorted, nsorted, sizeof(sorted[0]), cmp_item);
}

static struct item *item_of(struct kvmmu_itree_node *n)
{
	return n ? container_of(n, struct item, node) : NULL;
}

static void random_interval(struct kvmmu_rng *r, uint64_t *s, uint64_t *l)
{
	switch (kvmmu_rng_below(r, 10)) {
	case 0: /* near the top of the address space */
		*s = UINT64_MAX - kvmmu_rng_below(r, 64);
		*l = *s + kvmmu_rng_below(r, UINT64_MAX - *s + 1);
		return;
	case 1: /* long */
		*s = kvmmu_rng_below(r, 4096);
		*l = *s + kvmmu_rng_below(r, 2048);
		return;
	case 2: /* a point */
		*s = kvmmu_rng_below(r, 4096);
		*l = *s;
		return;
	default: /* short, in a small space: overlaps and equal starts */
		*s = kvmmu_rng_below(r, 4096);
		*l = *s + kvmmu_rng_below(r, 64);
		return;
	}
}

/* Every query against the model.  The model must be sorted. */
static void check_queries(struct kvmmu_itree_root *root, struct kvmmu_rng *r,
			  int nq)
{
	struct kvmmu_itree_node *n;
	unsigned long i;
	int q;

	ASSERT_EQ(root->count, nsorted);
	/* Full in-order walk forwards and backwards. */
	n = kvmmu_itree_first(root);
	for (i = 0; i < nsorted; i++, n = kvmmu_itree_next(n))
		ASSERT_PTR_EQ(item_of(n), sorted[i]);
	ASSERT_PTR_EQ(n, NULL);
	n = kvmmu_itree_last(root);
	for (i = nsorted; i-- > 0; n = kvmmu_itree_prev(n))
		ASSERT_PTR_EQ(item_of(n), sorted[i]);
	ASSERT_PTR_EQ(n, NULL);

	for (q = 0; q < nq; q++) {
		uint64_t s, l, addr;
		struct item *want = NULL;

		random_interval(r, &s, &l);
		if (q % 8 == 0) {
			s = 0; /* stabbing and whole-space queries too */
			l = q % 16 ? s : UINT64_MAX;
		}
		/* iter_first/iter_next == filter of the sorted model. */
		n = kvmmu_itree_iter_first(root, s, l);
		for (i = 0; i < nsorted; i++) {
			struct item *it = sorted[i];

			if (it->node.start > l || it->node.last < s)
				continue;
			if (item_of(n) != it)
				TEST_LOG("query [%#" PRIx64 ", %#" PRIx64 "]",
					 s, l);
			ASSERT_PTR_EQ(item_of(n), it);
			n = kvmmu_itree_iter_next(n, s, l);
		}
		ASSERT_PTR_EQ(n, NULL);

		/* lower(addr): the last item in order with start <= addr. */
		addr = q & 1 ? s : kvmmu_rng_next(r);
		for (i = 0; i < nsorted && sorted[i]->node.start <= addr; i++)
			want = sorted[i];
		ASSERT_PTR_EQ(item_of(kvmmu_itree_lower(root, addr)), want);
	}
}

static void random_run(uint64_t seed, int ops, int every, unsigned int npool)
{
	struct kvmmu_itree_root root = KVMMU_ITREE_ROOT_INIT;
	struct kvmmu_rng r;
	unsigned long live = 0, inserts = 0, removes = 0;
	int k;

	kvmmu_rng_seed(&r, seed);
	memset(pool, 0, sizeof(pool));
	for (k = 1; k <= ops; k++) {
		struct item *it = &pool[kvmmu_rng_below(&r, npool)];
		/* Drift between growing and shrinking phases. */
		bool grow = (k / (ops / 4 + 1)) % 2 == 0;

		if (!it->in && (grow || kvmmu_rng_below(&r, 3) == 0)) {
			if (kvmmu_rng_below(&r, 4) == 0 && live) {
				/* Duplicate an existing interval exactly. */
				struct item *o =
					&pool[kvmmu_rng_below(&r, npool)];

				if (o->in) {
					it->node.start = o->node.start;
					it->node.last = o->node.last;
				} else {
					random_interval(&r, &it->node.start,
							&it->node.last);
				}
			} else {
				random_interval(&r, &it->node.start,
						&it->node.last);
			}
			it->seq = seq_next++;
			kvmmu_itree_insert(&root, &it->node);
			it->in = true;
			live++;
			inserts++;
		} else if (it->in) {
			kvmmu_itree_remove(&root, &it->node);
			it->in = false;
			live--;
			removes++;
		}
		if (k % every == 0) {
			ASSERT_OK(kvmmu_itree_validate(&root));
			model_sort();
			check_queries(&root, &r, 16);
		}
	}
	ASSERT_OK(kvmmu_itree_validate(&root));
	model_sort();
	check_queries(&root, &r, 200);
	if (ops > 1000)
		TEST_LOG("%lu inserts, %lu removals, %lu intervals left",
			 inserts, removes, live);
	ASSERT_GT(removes, (unsigned long)ops / 8);
	/* Drain in random order, validating as it shrinks. */
	while (root.count) {
		struct item *it = &pool[kvmmu_rng_below(&r, npool)];

		if (!it->in)
			continue;
		kvmmu_itree_remove(&root, &it->node);
		it->in = false;
		if (root.count % 97 == 0)
			ASSERT_OK(kvmmu_itree_validate(&root));
	}
	ASSERT_PTR_EQ(root.root, NULL);
	ASSERT_PTR_EQ(kvmmu_itree_first(&root), NULL);
	ASSERT_PTR_EQ(kvmmu_itree_iter_first(&root, 0, UINT64_MAX), NULL);
}

TEST(random_vs_model)
{
	random_run(test_seed(), 40000, 25, POOL);
}

/* Small trees hit the rotation cases at the root; validate every op. */
TEST(random_small_validate_every_op)
{
	uint64_t seed = test_seed();
	int i;

	for (i = 0; i < 20; i++)
		random_run(seed + (uint64_t)i, 400, 1, 8 + (unsigned int)i * 3);
}

TEST(equal_starts_keep_insertion_order)
{
	struct kvmmu_itree_root root = KVMMU_ITREE_ROOT_INIT;
	struct kvmmu_itree_node nodes[40], *n;
	int i, expect;

	/* 40 nodes at start 100 with shrinking ends, inserted 0..39. */
	for (i = 0; i < 40; i++) {
		nodes[i].start = 100;
		nodes[i].last = 200 - (uint64_t)i;
		kvmmu_itree_insert(&root, &nodes[i]);
	}
	ASSERT_OK(kvmmu_itree_validate(&root));
	/* [175, 175] meets the nodes with 200 - i >= 175: 0..25 in order. */
	i = 0;
	kvmmu_itree_for_each(n, &root, 175, 175)
		ASSERT_PTR_EQ(n, &nodes[i++]);
	ASSERT_EQ(i, 26);
	/* Remove the even ones; the odd ones stay in order. */
	for (i = 0; i < 40; i += 2)
		kvmmu_itree_remove(&root, &nodes[i]);
	ASSERT_OK(kvmmu_itree_validate(&root));
	expect = 1;
	for (n = kvmmu_itree_first(&root); n; n = kvmmu_itree_next(n)) {
		ASSERT_PTR_EQ(n, &nodes[expect]);
		expect += 2;
	}
	ASSERT_EQ(expect, 41);
	/* lower() picks the most recently inserted equal start. */
	ASSERT_PTR_EQ(kvmmu_itree_lower(&root, 100), &nodes[39]);
	ASSERT_PTR_EQ(kvmmu_itree_lower(&root, 99), NULL);
}

/* Sorted insertion must still give a logarithmic height. */
TEST(sequential_insert_balanced)
{
	enum {
		N = 100000
	};
	struct kvmmu_itree_root root = KVMMU_ITREE_ROOT_INIT;
	struct kvmmu_itree_node *nodes = calloc(N, sizeof(*nodes));
	int i;

	ASSERT_PTR_NE(nodes, NULL);
	for (i = 0; i < N; i++) {
		nodes[i].start = (uint64_t)i * 10;
		nodes[i].last = (uint64_t)i * 10 + 5;
		kvmmu_itree_insert(&root, &nodes[i]);
	}
	ASSERT_OK(kvmmu_itree_validate(&root));
	/* AVL: height < 1.4405 log2(n + 2); log2(100002) < 16.61. */
	ASSERT_LE(root.root->height, 23);
	ASSERT_EQ(root.root->subtree_last, (uint64_t)(N - 1) * 10 + 5);
	ASSERT_PTR_EQ(kvmmu_itree_iter_first(&root, 12346, 12349), NULL);
	ASSERT_PTR_EQ(kvmmu_itree_iter_first(&root, 12345, 12349),
		      &nodes[1234]);
	ASSERT_PTR_EQ(kvmmu_itree_lower(&root, 12349), &nodes[1234]);
	for (i = N - 1; i >= 0; i -= 2)
		kvmmu_itree_remove(&root, &nodes[i]);
	ASSERT_OK(kvmmu_itree_validate(&root));
	ASSERT_EQ(root.count, N / 2);
	free(nodes);
}

static char captured[1024];

static void capture_sink(enum kvmmu_log_level level, const char *msg)
{
	if (!captured[0])
		snprintf(captured, sizeof(captured), "%s", msg);
}

static void build(struct kvmmu_itree_root *root, struct kvmmu_itree_node *n,
		  int cnt)
{
	int i;

	kvmmu_itree_init(root);
	for (i = 0; i < cnt; i++) {
		n[i].start = (uint64_t)(i * 7919 % 101);
		n[i].last = n[i].start + (uint64_t)(i % 13);
		kvmmu_itree_insert(root, &n[i]);
	}
}

/* Corruptions of each kind are found and described. */
TEST(validate_detects_corruption)
{
	struct kvmmu_itree_root root;
	struct kvmmu_itree_node n[100], *t, saved;

	kvmmu_log_set_sink(capture_sink);
	build(&root, n, 100);
	ASSERT_OK(kvmmu_itree_validate(&root));
	ASSERT_EQ(captured[0], 0);

	/* subtree_last of an inner node, one too low. */
	t = root.root->left;
	ASSERT_PTR_NE(t->left, NULL);
	t->subtree_last--;
	ASSERT_ERRNO(kvmmu_itree_validate(&root), -EINVAL);
	TEST_LOG("validate said: %s", captured);
	ASSERT_PTR_NE(strstr(captured, "subtree_last"), NULL);
	t->subtree_last++;
	ASSERT_OK(kvmmu_itree_validate(&root));

	/* ... and too high at the leftmost node. */
	for (t = root.root; t->left; t = t->left)
		;
	t->subtree_last++;
	captured[0] = 0;
	ASSERT_ERRNO(kvmmu_itree_validate(&root), -EINVAL);
	ASSERT_PTR_NE(strstr(captured, "subtree_last"), NULL);
	t->subtree_last--;

	/* A stored height. */
	root.root->right->height++;
	captured[0] = 0;
	ASSERT_ERRNO(kvmmu_itree_validate(&root), -EINVAL);
	ASSERT_PTR_NE(strstr(captured, "height"), NULL);
	root.root->right->height--;

	/* A parent pointer. */
	t = root.root->right->left;
	saved = *t;
	t->parent = root.root;
	captured[0] = 0;
	ASSERT_ERRNO(kvmmu_itree_validate(&root), -EINVAL);
	ASSERT_PTR_NE(strstr(captured, "parent"), NULL);
	*t = saved;

	/* Order: the last node's start moved below its predecessor's. */
	t = kvmmu_itree_last(&root);
	saved = *t;
	ASSERT_GT(kvmmu_itree_prev(t)->start, 0);
	t->start = 0;
	captured[0] = 0;
	ASSERT_ERRNO(kvmmu_itree_validate(&root), -EINVAL);
	ASSERT_PTR_NE(strstr(captured, "order"), NULL);
	t->start = saved.start;

	/* The count. */
	root.count++;
	captured[0] = 0;
	ASSERT_ERRNO(kvmmu_itree_validate(&root), -EINVAL);
	ASSERT_PTR_NE(strstr(captured, "count"), NULL);
	root.count--;
	ASSERT_OK(kvmmu_itree_validate(&root));
	kvmmu_log_set_sink(NULL);
}

/* An unbalanced but otherwise consistent tree is rejected. */
TEST(validate_detects_imbalance)
{
	struct kvmmu_itree_root root = { NULL, 3 };
	struct kvmmu_itree_node a = { 1, 1, 3 }, b = { 2, 2, 3 },
				c = { 3, 3, 3 };

	/* A right-leaning chain a -> b -> c with correct heights. */
	a.right = &b;
	b.parent = &a;
	b.right = &c;
	c.parent = &b;
	c.height = 1;
	b.height = 2;
	a.height = 3;
	root.root = &a;
	kvmmu_log_set_sink(capture_sink);
	ASSERT_ERRNO(kvmmu_itree_validate(&root), -EINVAL);
	ASSERT_PTR_NE(strstr(captured, "unbalanced"), NULL);
	kvmmu_log_set_sink(NULL);
}

TEST(empty_and_single)
{
	struct kvmmu_itree_root root;
	struct kvmmu_itree_node a = { .start = 10, .last = 20 };

	kvmmu_itree_init(&root);
	ASSERT_OK(kvmmu_itree_validate(&root));
	ASSERT_PTR_EQ(kvmmu_itree_first(&root), NULL);
	ASSERT_PTR_EQ(kvmmu_itree_last(&root), NULL);
	ASSERT_PTR_EQ(kvmmu_itree_lower(&root, UINT64_MAX), NULL);
	ASSERT_PTR_EQ(kvmmu_itree_iter_first(&root, 0, UINT64_MAX), NULL);
	kvmmu_itree_insert(&root, &a);
	ASSERT_PTR_EQ(kvmmu_itree_iter_first(&root, 20, 30), &a);
	ASSERT_PTR_EQ(kvmmu_itree_iter_first(&root, 0, 10), &a);
	ASSERT_PTR_EQ(kvmmu_itree_iter_first(&root, 21, 30), NULL);
	ASSERT_PTR_EQ(kvmmu_itree_iter_first(&root, 0, 9), NULL);
	ASSERT_PTR_EQ(kvmmu_itree_iter_next(&a, 0, 100), NULL);
	ASSERT_PTR_EQ(kvmmu_itree_lower(&root, 9), NULL);
	ASSERT_PTR_EQ(kvmmu_itree_lower(&root, 10), &a);
	ASSERT_PTR_EQ(kvmmu_itree_prev(&a), NULL);
	ASSERT_PTR_EQ(kvmmu_itree_next(&a), NULL);
	kvmmu_itree_remove(&root, &a);
	ASSERT_EQ(root.count, 0);
	ASSERT_PTR_EQ(root.root, NULL);
}

TEST_HARNESS_MAIN
