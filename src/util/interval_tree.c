// SPDX-License-Identifier: MIT
/*
 * Augmented AVL interval tree.
 *
 * Ordering: by start; a node whose start equals existing nodes' starts is
 * placed after all of them (insertion descends right on equality), and
 * rotations preserve in-order position, so equal starts stay in insertion
 * order.  Every node caches the maximum `last` of its subtree; rotations
 * and the rebalancing walk recompute it bottom-up along the changed path.
 *
 * Queries prune with that cache: a subtree whose subtree_last is below the
 * query's start cannot intersect it and is skipped whole, and the walk stops
 * at the first node starting past the query's last (everything after it in
 * order starts later still).
 *
 * Models: include/linux/interval_tree_generic.h (the kernel's is a
 * red-black tree; an AVL tree gives the same bounds and a simpler removal).
 */
#include <errno.h>
#include <inttypes.h>

#include <kvmmu/interval_tree.h>
#include <kvmmu/log.h>

typedef struct kvmmu_itree_node node_t;

static inline int height(const node_t *n)
{
	return n ? n->height : 0;
}

static inline uint64_t u64max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Recompute @n's height and subtree_last from its children. */
static inline void update(node_t *n)
{
	int hl = height(n->left), hr = height(n->right);
	uint64_t sl = n->last;

	n->height = (hl > hr ? hl : hr) + 1;
	if (n->left)
		sl = u64max(sl, n->left->subtree_last);
	if (n->right)
		sl = u64max(sl, n->right->subtree_last);
	n->subtree_last = sl;
}

/* Make @new take @old's place under @parent (or as the root). */
static inline void replace_child(struct kvmmu_itree_root *root, node_t *parent,
				 node_t *old, node_t *new)
{
	if (!parent)
		root->root = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
	if (new)
		new->parent = parent;
}

/*
 *     x               y
 *    / \             / \
 *   a   y    ->     x   c
 *      / \         / \
 *     b   c       a   b
 */
static node_t *rotate_left(struct kvmmu_itree_root *root, node_t *x)
{
	node_t *y = x->right, *b = y->left;

	replace_child(root, x->parent, x, y);
	x->right = b;
	if (b)
		b->parent = x;
	y->left = x;
	x->parent = y;
	update(x);
	update(y);
	return y;
}

static node_t *rotate_right(struct kvmmu_itree_root *root, node_t *x)
{
	node_t *y = x->left, *b = y->right;

	replace_child(root, x->parent, x, y);
	x->left = b;
	if (b)
		b->parent = x;
	y->right = x;
	x->parent = y;
	update(x);
	update(y);
	return y;
}

/* Rebalance the subtree at @n; returns the subtree's (new) top. */
static node_t *rebalance(struct kvmmu_itree_root *root, node_t *n)
{
	int bf = height(n->left) - height(n->right);

	if (bf > 1) {
		if (height(n->left->left) < height(n->left->right))
			rotate_left(root, n->left);
		return rotate_right(root, n);
	}
	if (bf < -1) {
		if (height(n->right->right) < height(n->right->left))
			rotate_right(root, n->right);
		return rotate_left(root, n);
	}
	update(n);
	return n;
}

/* Recompute and rebalance every node from @n up to the root. */
static void fixup_to_root(struct kvmmu_itree_root *root, node_t *n)
{
	while (n)
		n = rebalance(root, n)->parent;
}

/**
 * kvmmu_itree_insert() - add a node.
 * @root: the tree.
 * @n: the node, with start <= last set; other fields are overwritten.
 *
 * Context: the owner's exclusive lock.  O(log n).
 */
void kvmmu_itree_insert(struct kvmmu_itree_root *root, node_t *n)
{
	node_t **link = &root->root, *parent = NULL;

	WARN_ON_ONCE(n->start > n->last);
	while (*link) {
		parent = *link;
		link = n->start < parent->start ? &parent->left :
						  &parent->right;
	}
	n->left = n->right = NULL;
	n->parent = parent;
	n->height = 1;
	n->subtree_last = n->last;
	*link = n;
	root->count++;
	fixup_to_root(root, parent);
}

/**
 * kvmmu_itree_remove() - take a node out.
 * @root: the tree.
 * @n: a node in @root.
 *
 * A node with two children is replaced by its in-order successor, which is
 * relinked into @n's place (the tree is intrusive: no payload is copied).
 * The walk back to the root then starts where the tree actually lost a
 * node: the successor's old parent, or the successor itself when it was
 * @n's right child.
 *
 * Context: the owner's exclusive lock.  O(log n).
 */
void kvmmu_itree_remove(struct kvmmu_itree_root *root, node_t *n)
{
	node_t *parent = n->parent, *start;

	if (!n->left || !n->right) {
		node_t *child = n->left ? n->left : n->right;

		replace_child(root, parent, n, child);
		start = parent;
	} else {
		node_t *s = n->right;

		while (s->left)
			s = s->left;
		if (s == n->right) {
			start = s;
		} else {
			start = s->parent;
			/* Detach s: its right child takes its place. */
			start->left = s->right;
			if (s->right)
				s->right->parent = start;
			s->right = n->right;
			n->right->parent = s;
		}
		s->left = n->left;
		n->left->parent = s;
		s->height = n->height;
		replace_child(root, parent, n, s);
	}
	n->left = n->right = n->parent = NULL;
	root->count--;
	fixup_to_root(root, start);
}

/*
 * Leftmost node of the subtree at @n intersecting [start, last], or NULL.
 * Caller guarantees n->subtree_last >= start.
 */
static node_t *subtree_first(node_t *n, uint64_t start, uint64_t last)
{
	for (;;) {
		/*
		 * If the left subtree reaches @start, the leftmost node that
		 * does is the only candidate: anything after it in order
		 * starts no earlier, so if it starts past @last, so do they.
		 */
		if (n->left && n->left->subtree_last >= start) {
			n = n->left;
			continue;
		}
		if (n->start > last)
			return NULL;
		if (n->last >= start)
			return n;
		if (!n->right || n->right->subtree_last < start)
			return NULL;
		n = n->right;
	}
}

/**
 * kvmmu_itree_iter_first() - the first node intersecting [@start, @last].
 * @root: the tree.
 * @start: query start.
 * @last: query last (inclusive).
 *
 * Context: the owner's lock (read side is enough).  O(log n).
 * Return: the node (lowest start, then insertion order), or NULL.
 */
node_t *kvmmu_itree_iter_first(struct kvmmu_itree_root *root, uint64_t start,
			       uint64_t last)
{
	node_t *n = root->root;

	if (!n || n->subtree_last < start)
		return NULL;
	return subtree_first(n, start, last);
}

/**
 * kvmmu_itree_iter_next() - the next node after @n intersecting the range.
 * @n: the current node (returned by iter_first/iter_next for this range).
 * @start: query start.
 * @last: query last (inclusive).
 *
 * Walks in order from @n: into the right subtree when it can reach @start,
 * otherwise up to the next ancestor.  Subtrees that cannot intersect are
 * skipped whole, so each step costs O(log n) at worst and a full iteration
 * reporting k nodes O(min(n, (k + 1) log n)), much less when the results
 * are adjacent in the tree.
 *
 * Context: as iter_first.  Return: the node, or NULL when done.
 */
node_t *kvmmu_itree_iter_next(node_t *n, uint64_t start, uint64_t last)
{
	for (;;) {
		node_t *prev;

		if (n->right && n->right->subtree_last >= start)
			return subtree_first(n->right, start, last);
		do {
			prev = n;
			n = n->parent;
			if (!n)
				return NULL;
		} while (prev == n->right);
		if (n->start > last)
			return NULL;
		if (n->last >= start)
			return n;
	}
}

node_t *kvmmu_itree_first(struct kvmmu_itree_root *root)
{
	node_t *n = root->root;

	while (n && n->left)
		n = n->left;
	return n;
}

node_t *kvmmu_itree_last(struct kvmmu_itree_root *root)
{
	node_t *n = root->root;

	while (n && n->right)
		n = n->right;
	return n;
}

node_t *kvmmu_itree_next(node_t *n)
{
	node_t *p;

	if (n->right) {
		n = n->right;
		while (n->left)
			n = n->left;
		return n;
	}
	while ((p = n->parent) && n == p->right)
		n = p;
	return p;
}

node_t *kvmmu_itree_prev(node_t *n)
{
	node_t *p;

	if (n->left) {
		n = n->left;
		while (n->right)
			n = n->right;
		return n;
	}
	while ((p = n->parent) && n == p->left)
		n = p;
	return p;
}

/**
 * kvmmu_itree_lower() - the in-order last node starting at or below @addr.
 * @root: the tree.
 * @addr: the address.
 *
 * Among equal starts this is the most recently inserted one.  Note that the
 * node need not contain @addr.
 *
 * Context: the owner's lock.  O(log n).  Return: the node, or NULL.
 */
node_t *kvmmu_itree_lower(struct kvmmu_itree_root *root, uint64_t addr)
{
	node_t *n = root->root, *best = NULL;

	while (n) {
		if (n->start <= addr) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

struct validate_ctx {
	const node_t *prev; /* in-order predecessor */
	unsigned long count;
};

#define DEFECT(n, fmt, ...)                                                 \
	({                                                                  \
		pr_err("itree: node %p [%#" PRIx64 ", %#" PRIx64 "]: " fmt, \
		       (const void *)(n), (n)->start, (n)->last,            \
		       ##__VA_ARGS__);                                      \
		-EINVAL;                                                    \
	})

/*
 * Check the subtree at @n in order (post-order for the per-node checks).
 * The recursion is as deep as the tree: under 1.45 log2(count) when
 * intact.  A corrupted tree may be arbitrarily deep or cyclic, which the
 * height check would notice only after recursing, so @depth caps it.
 */
static int validate_node(const node_t *n, const node_t *parent,
			 struct validate_ctx *c, int depth)
{
	int ret, hl, hr;
	uint64_t sl;

	if (depth > 128)
		return DEFECT(n, "deeper than 128 levels (cycle?)");
	if (n->parent != parent)
		return DEFECT(n, "parent %p, expected %p",
			      (const void *)n->parent, (const void *)parent);
	if (n->start > n->last)
		return DEFECT(n, "start above last");
	if (n->left) {
		ret = validate_node(n->left, n, c, depth + 1);
		if (ret)
			return ret;
	}
	if (c->prev && c->prev->start > n->start)
		return DEFECT(n, "out of order after start %#" PRIx64 "",
			      c->prev->start);
	c->prev = n;
	c->count++;
	if (n->right) {
		ret = validate_node(n->right, n, c, depth + 1);
		if (ret)
			return ret;
	}
	hl = height(n->left);
	hr = height(n->right);
	if (n->height != (hl > hr ? hl : hr) + 1)
		return DEFECT(n, "height %d, children %d and %d", n->height, hl,
			      hr);
	if (hl - hr > 1 || hr - hl > 1)
		return DEFECT(n, "unbalanced: children %d and %d", hl, hr);
	sl = n->last;
	if (n->left)
		sl = u64max(sl, n->left->subtree_last);
	if (n->right)
		sl = u64max(sl, n->right->subtree_last);
	if (n->subtree_last != sl)
		return DEFECT(n,
			      "subtree_last %#" PRIx64 ", expected %#" PRIx64
			      "",
			      n->subtree_last, sl);
	return 0;
}

/**
 * kvmmu_itree_validate() - check every structural invariant of the tree.
 * @root: the tree.
 *
 * Checks parent links, start <= last, in-order sorting by start, stored
 * heights, AVL balance, subtree_last and the node count; logs the first
 * defect found (bottom-up within a subtree) with pr_err().
 *
 * Context: the owner's lock; for tests and debugging, O(n).
 * Return: 0, or -EINVAL.
 */
int kvmmu_itree_validate(struct kvmmu_itree_root *root)
{
	struct validate_ctx c = { NULL, 0 };
	int ret;

	if (root->root) {
		ret = validate_node(root->root, NULL, &c, 0);
		if (ret)
			return ret;
	}
	if (c.count != root->count) {
		pr_err("itree: count %lu, but %lu nodes reachable", root->count,
		       c.count);
		return -EINVAL;
	}
	return 0;
}
