/* SPDX-License-Identifier: MIT */
/*
 * An augmented balanced interval tree over closed ranges [start, last].
 *
 * Intrusive: embed struct kvmmu_itree_node in the object, as KVM embeds
 * hva_node in a memslot and the kernel embeds shared.rb in a VMA.  Ranges may
 * overlap (memslot HVA aliasing); nodes with equal start are kept in insertion
 * order.  Every operation is O(log n); a stabbing or range query is
 * O(log n + k) for k results.
 *
 * The tree does no locking: the owner protects it (mmap_lock for VMAs, the
 * memslot-set swap for memslots).  Readers and writers must not overlap.
 */
#ifndef KVMMU_INTERVAL_TREE_H
#define KVMMU_INTERVAL_TREE_H

#include <stdint.h>
#include "compiler.h"

struct kvmmu_itree_node {
	uint64_t start, last;  /* the interval, inclusive */
	uint64_t subtree_last; /* max last in this subtree (augmentation) */
	struct kvmmu_itree_node *left, *right, *parent;
	int height; /* AVL height, leaves are 1 */
};

struct kvmmu_itree_root {
	struct kvmmu_itree_node *root;
	unsigned long count;
};

#define KVMMU_ITREE_ROOT_INIT \
	{                     \
		NULL, 0       \
	}

static inline void kvmmu_itree_init(struct kvmmu_itree_root *r)
{
	r->root = NULL;
	r->count = 0;
}

/* Insert @n with n->start and n->last already set (start <= last). */
void kvmmu_itree_insert(struct kvmmu_itree_root *root,
			struct kvmmu_itree_node *n);
/* Remove @n, which must be in the tree. */
void kvmmu_itree_remove(struct kvmmu_itree_root *root,
			struct kvmmu_itree_node *n);

/*
 * First node (lowest start, then insertion order) intersecting
 * [start, last], and the next one after @n intersecting it.  NULL when none.
 */
struct kvmmu_itree_node *kvmmu_itree_iter_first(struct kvmmu_itree_root *root,
						uint64_t start, uint64_t last);
struct kvmmu_itree_node *kvmmu_itree_iter_next(struct kvmmu_itree_node *n,
					       uint64_t start, uint64_t last);

/* In-order traversal: lowest node, successor, predecessor, highest. */
struct kvmmu_itree_node *kvmmu_itree_first(struct kvmmu_itree_root *root);
struct kvmmu_itree_node *kvmmu_itree_last(struct kvmmu_itree_root *root);
struct kvmmu_itree_node *kvmmu_itree_next(struct kvmmu_itree_node *n);
struct kvmmu_itree_node *kvmmu_itree_prev(struct kvmmu_itree_node *n);

/* The node with the greatest start <= @addr (in-order), or NULL. */
struct kvmmu_itree_node *kvmmu_itree_lower(struct kvmmu_itree_root *root,
					   uint64_t addr);

/*
 * Check the tree's structure (ordering, AVL balance, parent links,
 * subtree_last, count).  Return: 0, or -EINVAL if broken.  For tests.
 */
int kvmmu_itree_validate(struct kvmmu_itree_root *root);

#define kvmmu_itree_for_each(n, root, s, l)             \
	for (n = kvmmu_itree_iter_first(root, s, l); n; \
	     n = kvmmu_itree_iter_next(n, s, l))

#endif /* KVMMU_INTERVAL_TREE_H */
