// SPDX-License-Identifier: MIT
/*
 * The gfn index of a memslot set: gfn → slot in a few cache misses.
 *
 * KVM finds the slot of a gfn by descending an rb-tree keyed by base_gfn
 * (search_memslots()).  With 32k slots that is ~15 dependent loads, each
 * into a different slot object, i.e. ~15 cache misses per lookup that the
 * last-used hint misses.  This index is our deviation for speed, a B+-tree
 * cut down to what memslots need: the (base_gfn, slot) pairs of the set,
 * sorted, in chunks of KVMMU_MEMSLOT_CHUNK; an L1 array with one separator
 * per chunk; and an L0 radix table over L1.
 *
 *   chunk       base[] sorted and unique; entries past nr have base ~0
 *	        and slot NULL, so a lookup can search all KVMMU_MEMSLOT_CHUNK
 *	        entries with a loop count fixed at compile time
 *   l1[c]       separator: every slot of chunk c - 1 ends below l1[c], and
 *	        l1[c] <= chunks[c]->base[0] (l1[0] <= base[0] for chunk 0);
 *	        ~0 from nr_chunks on.  Removing a chunk's first slot leaves
 *	        the separator alone, so most edits do not touch L1
 *   l0[b]       the chunk holding gfn l0_base + (b << l0_shift), for a
 *	        power-of-two number of buckets >= nr_chunks; any gfn of
 *	        bucket b is in one of chunks l0[b] .. l0[b] + l0_window - 1.
 *	        l0_base is l1[0].  Rebuilt when a chunk comes or goes or
 *	        l1[0] moves; a separator moving up only patches a few buckets
 *   occupancy   every chunk but the last holds at least half a chunk, so
 *	        nr_chunks <= KVMMU_MEMSLOT_INDEX_MAX_CHUNKS and the arrays
 *	        are allocated once, at their maximum size
 *
 * A lookup picks the bucket with a shift, searches l0_window entries of L1
 * and then the chunk, both with branchless binary searches (no mispredicted
 * branch, so several lookups overlap in the pipeline), and loads the slot.
 * When the slots are spread evenly l0_window is 1 or 2, and the L1 search,
 * measured at a third of a lookup with 32k slots, all but disappears.
 * However they are spread, l0_window <= nr_chunks: never worse than a
 * binary search of L1.
 *
 * An insert shifts entries within one chunk; a full chunk splits in two
 * (or, when the insert goes past the end of the last chunk, a new chunk
 * starts, so ascending creates leave full chunks).  A remove that leaves a
 * chunk under half full merges it with its right neighbour, or moves half
 * of their difference over.  An edit moves O(chunk) entries, plus
 * O(nr_chunks) words when a chunk comes or goes.
 *
 * The index needs no lock of its own: like the set's trees it is only
 * edited while its set is inactive (slots_lock held, no reader), and read
 * only once the set is published.  The single allocation an edit can need
 * (a chunk for a split) is made beforehand by kvmmu_memslot_index_reserve(),
 * so edits replayed after a swap cannot fail.
 *
 * Models: include/linux/kvm_host.h search_memslots() (the lookup) and the
 * gfn_tree half of virt/kvm/kvm_main.c kvm_replace_memslot() (the edits),
 * kvm-mmu-protocol.md §2.1 and §2.6.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CHUNK	   KVMMU_MEMSLOT_CHUNK
#define HALF	   (CHUNK / 2)
#define MAX_CHUNKS KVMMU_MEMSLOT_INDEX_MAX_CHUNKS
#define GFN_UNUSED (~(gfn_t)0) /* past the end: above every real gfn */

/*
 * Number of entries of @a[0..n) that are <= @x (@a sorted, n >= 1): a
 * branchless binary search; the compiler turns the ?: into a cmov.
 */
static __always_inline unsigned int count_le(const gfn_t *a, unsigned int n,
					     gfn_t x)
{
	const gfn_t *p = a;

	while (n > 1) {
		unsigned int half = n / 2;

		p = p[half] <= x ? p + half : p;
		n -= half;
	}
	return (unsigned int)(p - a) + (*p <= x);
}

/**
 * kvmmu_memslot_index_find() - the slot that may hold @gfn.
 * @ix: the index of a published set (or of the inactive set, under
 * slots_lock).
 * @gfn: the guest frame.
 *
 * Models: include/linux/kvm_host.h search_memslots() (§2.6)
 * Context: SRCU read side of kvm->srcu, or slots_lock; no lock taken.
 * Return: the one slot that can hold @gfn, the one with the largest
 * base_gfn <= @gfn, or NULL when no slot holds it; the caller checks that
 * @gfn is below the slot's end.
 */
struct kvmmu_memory_slot *
kvmmu_memslot_index_find(const struct kvmmu_memslot_index *ix, gfn_t gfn)
{
	const struct kvmmu_memslot_chunk *chunk;
	unsigned int c, n;

	if (!ix->nr_chunks || gfn < ix->l0_base)
		return NULL;
	c = ix->l0[min((gfn - ix->l0_base) >> ix->l0_shift, (gfn_t)ix->l0_last)];
	/* >= 1: l1[l0[b]] <= the bucket's first gfn <= gfn. */
	c += count_le(&ix->l1[c], ix->l0_window, gfn) - 1;
	/* Only a gfn of ~0 counts the unused l1 entries. */
	chunk = ix->chunks[min(c, ix->nr_chunks - 1)];
	/* Ask for all the key lines at once, not one per search step. */
	for (n = 0; n < CHUNK; n += 64 / sizeof(gfn_t))
		__builtin_prefetch(&chunk->base[n]);
	/* 0 if @gfn is between the separator and the chunk's first slot. */
	n = count_le(chunk->base, CHUNK, gfn);
	return n ? chunk->slot[n - 1] : NULL;
}

/*
 * Rebuild L0 from L1: one pass over the buckets and the chunks together.
 * Runs when a chunk came or went, or l1[0] moved (see set_separator()).
 */
static void build_l0(struct kvmmu_memslot_index *ix)
{
	unsigned int nr = ix->nr_chunks, nb = 1, b, c = 0, w = 1;
	gfn_t range, start;

	ix->l0_stale = false;
	ix->l0_shift = 0;
	ix->l0_base = nr ? ix->l1[0] : 0;
	range = nr ? ix->l1[nr - 1] - ix->l0_base : 0;
	while (nb < nr)
		nb *= 2;
	while ((range >> ix->l0_shift) >= nb)
		ix->l0_shift++;
	for (b = 0; b < nb; b++) {
		start = ix->l0_base + ((gfn_t)b << ix->l0_shift);
		while (c + 1 < nr && ix->l1[c + 1] <= start)
			c++;
		ix->l0[b] = (uint16_t)c;
		/* Bucket b - 1 ends in the chunk where bucket b starts. */
		if (b)
			w = max(w, c - ix->l0[b - 1] + 1);
	}
	/* The last bucket runs to the end: it ends in the last chunk. */
	if (nr)
		w = max(w, nr - ix->l0[nb - 1]);
	ix->l0_last = nb - 1;
	ix->l0_window = w;
}

/* --- allocation ----------------------------------------------------------- */

/**
 * kvmmu_memslot_index_init() - set up an empty index.
 * @ix: the index, contents ignored.
 *
 * Context: set creation; nothing reads @ix.
 * Return: 0; -ENOMEM (nothing left allocated).
 */
int kvmmu_memslot_index_init(struct kvmmu_memslot_index *ix)
{
	unsigned int c;

	memset(ix, 0, sizeof(*ix));
	/* Twice: a lookup's window may run l0_window - 1 entries past L1. */
	ix->l0 = calloc(2 * MAX_CHUNKS, sizeof(*ix->l0));
	ix->l1 = malloc(2 * MAX_CHUNKS * sizeof(*ix->l1));
	ix->chunks = calloc(MAX_CHUNKS, sizeof(*ix->chunks));
	if (!ix->l0 || !ix->l1 || !ix->chunks) {
		kvmmu_memslot_index_destroy(ix);
		return -ENOMEM;
	}
	for (c = 0; c < 2 * MAX_CHUNKS; c++)
		ix->l1[c] = GFN_UNUSED;
	build_l0(ix);
	return 0;
}

/**
 * kvmmu_memslot_index_destroy() - free the index (not the slots).
 * @ix: the index; all zero, or set up by kvmmu_memslot_index_init().
 *
 * Context: set teardown; nothing reads @ix.
 * Return: nothing; @ix is left all zero, so a second call is a no-op.
 */
void kvmmu_memslot_index_destroy(struct kvmmu_memslot_index *ix)
{
	unsigned int c;

	for (c = 0; c < ix->nr_chunks; c++)
		free(ix->chunks[c]);
	free(ix->spare);
	free(ix->chunks);
	free(ix->l1);
	free(ix->l0);
	memset(ix, 0, sizeof(*ix));
}

/**
 * kvmmu_memslot_index_reserve() - make sure the next insert cannot fail.
 * @ix: the index, active or inactive.
 *
 * Allocates the spare chunk if there is none.  Only ->spare changes, which
 * lookups never read, so this is safe on the published set.
 *
 * Context: slots_lock held.
 * Return: 0; -ENOMEM (@ix unchanged).
 */
int kvmmu_memslot_index_reserve(struct kvmmu_memslot_index *ix)
{
	if (ix->spare)
		return 0;
	if (ix->fail_alloc) {
		ix->fail_alloc--;
		return -ENOMEM;
	}
	ix->spare = aligned_alloc(64, sizeof(*ix->spare));
	return ix->spare ? 0 : -ENOMEM;
}

/* An empty chunk: the spare, which kvmmu_memslot_index_reserve() made. */
static struct kvmmu_memslot_chunk *take_chunk(struct kvmmu_memslot_index *ix)
{
	struct kvmmu_memslot_chunk *chunk = ix->spare;
	unsigned int i;

	/* Memory safety: a chunk pointer in the arrays must be valid. */
	BUG_ON(!chunk);
	ix->spare = NULL;
	chunk->nr = 0;
	for (i = 0; i < CHUNK; i++) {
		chunk->base[i] = GFN_UNUSED;
		chunk->slot[i] = NULL;
	}
	return chunk;
}

/* Keep @chunk (already unlinked) as the spare, or free it. */
static void put_chunk(struct kvmmu_memslot_index *ix,
		      struct kvmmu_memslot_chunk *chunk)
{
	if (ix->spare)
		free(chunk);
	else
		ix->spare = chunk;
}

/* --- editing (inactive set, slots_lock) ----------------------------------- */

/* Link @chunk (not empty) as chunk @c, shifting chunks c.. up. */
static void link_chunk(struct kvmmu_memslot_index *ix, unsigned int c,
		       struct kvmmu_memslot_chunk *chunk)
{
	unsigned int n = ix->nr_chunks - c;

	BUG_ON(ix->nr_chunks >= MAX_CHUNKS);
	memmove(&ix->l1[c + 1], &ix->l1[c], n * sizeof(*ix->l1));
	memmove(&ix->chunks[c + 1], &ix->chunks[c], n * sizeof(*ix->chunks));
	ix->l1[c] = chunk->base[0];
	ix->chunks[c] = chunk;
	ix->nr_chunks++;
	ix->l0_stale = true;
}

/* Unlink chunk @c, shifting chunks c+1.. down; the caller owns it. */
static void unlink_chunk(struct kvmmu_memslot_index *ix, unsigned int c)
{
	unsigned int n = ix->nr_chunks - c - 1;

	memmove(&ix->l1[c], &ix->l1[c + 1], n * sizeof(*ix->l1));
	memmove(&ix->chunks[c], &ix->chunks[c + 1], n * sizeof(*ix->chunks));
	ix->nr_chunks--;
	ix->l1[ix->nr_chunks] = GFN_UNUSED;
	ix->chunks[ix->nr_chunks] = NULL;
	ix->l0_stale = true;
}

/*
 * Separator @c (not the first) went up from @old to l1[c], with no chunk
 * added or removed: the buckets that start in between now start in chunk
 * c - 1, and the last of them may end in chunk c or later, so widen the
 * window if it needs (it never shrinks here; a rebuild makes it exact).
 */
static void patch_l0(struct kvmmu_memslot_index *ix, unsigned int c, gfn_t old)
{
	gfn_t size = (gfn_t)1 << ix->l0_shift, nb = ix->l0_last + 1;
	unsigned int first =
		(unsigned int)min(DIV_ROUND_UP(old - ix->l0_base, size), nb);
	unsigned int b = (unsigned int)min(
		DIV_ROUND_UP(ix->l1[c] - ix->l0_base, size), nb);
	unsigned int end;

	while (b-- > first) {
		ix->l0[b] = (uint16_t)(c - 1);
		end = b + 1 < nb ? ix->l0[b + 1] + 1u : ix->nr_chunks;
		ix->l0_window = max(ix->l0_window, end - (c - 1));
	}
}

/*
 * Make chunk @c's first base_gfn its separator (always a valid one).  Only
 * the first separator can go down (a slot inserted below all others); it
 * is also L0's base, so moving it means a rebuild.  The others only go up:
 * when a chunk takes its neighbour's first entries, or when a slot reaches
 * past the separator.
 */
static void set_separator(struct kvmmu_memslot_index *ix, unsigned int c)
{
	gfn_t old = ix->l1[c];

	ix->l1[c] = ix->chunks[c]->base[0];
	if (!c || WARN_ON_ONCE(ix->l1[c] < old))
		ix->l0_stale = true;
	else if (!ix->l0_stale)
		patch_l0(ix, c, old);
}

/* Append entries [from, from + n) of @src to @dst. */
static void copy_entries(struct kvmmu_memslot_chunk *dst,
			 const struct kvmmu_memslot_chunk *src,
			 unsigned int from, unsigned int n)
{
	memcpy(&dst->base[dst->nr], &src->base[from], n * sizeof(gfn_t));
	memcpy(&dst->slot[dst->nr], &src->slot[from], n * sizeof(src->slot[0]));
	dst->nr += n;
}

/* Delete entries [from, from + n) of @chunk and clear the freed tail. */
static void drop_entries(struct kvmmu_memslot_chunk *chunk, unsigned int from,
			 unsigned int n)
{
	unsigned int i, rest = chunk->nr - from - n;

	memmove(&chunk->base[from], &chunk->base[from + n],
		rest * sizeof(gfn_t));
	memmove(&chunk->slot[from], &chunk->slot[from + n],
		rest * sizeof(chunk->slot[0]));
	chunk->nr -= n;
	for (i = chunk->nr; i < chunk->nr + n; i++) {
		chunk->base[i] = GFN_UNUSED;
		chunk->slot[i] = NULL;
	}
}

/* The chunk whose separator range holds @gfn: 0 if below l1[0]. */
static unsigned int chunk_of(const struct kvmmu_memslot_index *ix, gfn_t gfn)
{
	unsigned int c = count_le(ix->l1, ix->nr_chunks, gfn);

	return c ? c - 1 : 0;
}

/*
 * Where @slot is: its chunk in *@c and its position in the return value,
 * or -1 if the index does not hold it (a bug: WARN).
 */
static int find_entry(const struct kvmmu_memslot_index *ix,
		      const struct kvmmu_memory_slot *slot, unsigned int *c)
{
	const struct kvmmu_memslot_chunk *chunk;
	unsigned int pos;

	if (WARN_ON(!ix->nr_chunks))
		return -1;
	*c = chunk_of(ix, slot->base_gfn);
	chunk = ix->chunks[*c];
	pos = count_le(chunk->base, chunk->nr, slot->base_gfn);
	if (WARN_ON(!pos || chunk->slot[pos - 1] != slot))
		return -1;
	return (int)pos - 1;
}

/*
 * Make room for an insert at @pos of full chunk @c: split it, or start a
 * new last chunk when @pos is past its end (that one is linked once it
 * has its slot).  Return: the chunk the insert goes to, with *@c and *@pos
 * updated.
 */
static struct kvmmu_memslot_chunk *make_room(struct kvmmu_memslot_index *ix,
					     unsigned int *c, unsigned int *pos)
{
	struct kvmmu_memslot_chunk *chunk = ix->chunks[*c];
	struct kvmmu_memslot_chunk *next = take_chunk(ix);

	if (*c == ix->nr_chunks - 1 && *pos == CHUNK) {
		/* Appending: keep this chunk full. */
		++*c;
		*pos = 0;
		return next;
	}
	copy_entries(next, chunk, HALF, HALF);
	drop_entries(chunk, HALF, HALF);
	link_chunk(ix, *c + 1, next);
	if (*pos <= HALF)
		return chunk;
	*pos -= HALF;
	++*c;
	return next;
}

/**
 * kvmmu_memslot_index_insert() - add @slot, keyed by its base_gfn.
 * @ix: the index of an inactive set.
 * @slot: a slot whose range overlaps no slot of the index.
 *
 * Models: the rb_add() of the gfn tree in virt/kvm/kvm_main.c
 * kvm_replace_memslot() (§2.1)
 * Context: slots_lock held, @ix not published; kvmmu_memslot_index_reserve()
 * succeeded since the last insert.
 * Return: nothing.
 */
void kvmmu_memslot_index_insert(struct kvmmu_memslot_index *ix,
				struct kvmmu_memory_slot *slot)
{
	gfn_t gfn = slot->base_gfn;
	struct kvmmu_memslot_chunk *chunk;
	unsigned int c = 0, pos = 0, n;

	if (!ix->nr_chunks) {
		chunk = take_chunk(ix);
	} else {
		c = chunk_of(ix, gfn);
		chunk = ix->chunks[c];
		pos = count_le(chunk->base, chunk->nr, gfn);
		/* Two slots with one base_gfn: -EEXIST should have refused. */
		if (WARN_ON_ONCE(pos && chunk->base[pos - 1] == gfn))
			return;
		if (chunk->nr == CHUNK)
			chunk = make_room(ix, &c, &pos);
	}

	n = chunk->nr - pos;
	memmove(&chunk->base[pos + 1], &chunk->base[pos], n * sizeof(gfn_t));
	memmove(&chunk->slot[pos + 1], &chunk->slot[pos],
		n * sizeof(chunk->slot[0]));
	chunk->base[pos] = gfn;
	chunk->slot[pos] = slot;
	chunk->nr++;

	if (c == ix->nr_chunks)
		link_chunk(ix, c, chunk); /* the first, or a new last chunk */
	else if (gfn < ix->l1[c])
		set_separator(ix, c); /* only possible below l1[0] */
	/* A slot reaching past the next separator: raise it to the base. */
	if (c + 1 < ix->nr_chunks && gfn + slot->npages > ix->l1[c + 1])
		set_separator(ix, c + 1);
	if (ix->l0_stale)
		build_l0(ix);
}

/*
 * Chunk @c, not the last, is under half full: merge its right neighbour
 * into it, or even the two out.
 */
static void refill(struct kvmmu_memslot_index *ix, unsigned int c)
{
	struct kvmmu_memslot_chunk *chunk = ix->chunks[c];
	struct kvmmu_memslot_chunk *next = ix->chunks[c + 1];
	unsigned int n;

	if (chunk->nr + next->nr <= CHUNK) {
		copy_entries(chunk, next, 0, next->nr);
		unlink_chunk(ix, c + 1);
		put_chunk(ix, next);
		return;
	}
	/*
	 * @next has over CHUNK - HALF + 1 entries, so n >= 1 and both end
	 * with at least HALF; half the difference, so that the next removes
	 * do not come back here one by one.
	 */
	n = (next->nr - chunk->nr) / 2;
	copy_entries(chunk, next, 0, n);
	drop_entries(next, 0, n);
	set_separator(ix, c + 1);
}

/**
 * kvmmu_memslot_index_remove() - remove @slot.
 * @ix: the index of an inactive set.
 * @slot: a slot of the index.
 *
 * Never allocates; a chunk left empty or merged away becomes the spare.
 *
 * Models: the rb_erase() of the gfn tree in virt/kvm/kvm_main.c
 * kvm_replace_memslot() (§2.1)
 * Context: slots_lock held, @ix not published.
 * Return: nothing.
 */
void kvmmu_memslot_index_remove(struct kvmmu_memslot_index *ix,
				const struct kvmmu_memory_slot *slot)
{
	struct kvmmu_memslot_chunk *chunk;
	unsigned int c;
	int pos = find_entry(ix, slot, &c);

	if (pos < 0)
		return;
	chunk = ix->chunks[c];
	drop_entries(chunk, (unsigned int)pos, 1);

	if (!chunk->nr) {
		/* Only the last chunk may get this small. */
		unlink_chunk(ix, c);
		put_chunk(ix, chunk);
	} else if (c < ix->nr_chunks - 1 && chunk->nr < HALF) {
		refill(ix, c);
	}
	if (ix->l0_stale)
		build_l0(ix);
}

/**
 * kvmmu_memslot_index_replace() - put @new where @old is.
 * @ix: the index of an inactive set.
 * @old: a slot of the index.
 * @new: a slot with the same base_gfn and npages (an INVALID copy, new
 * flags).
 *
 * Models: the rb_replace_node() of the gfn tree in virt/kvm/kvm_main.c
 * kvm_replace_memslot() (§2.1)
 * Context: slots_lock held, @ix not published.
 * Return: nothing.
 */
void kvmmu_memslot_index_replace(struct kvmmu_memslot_index *ix,
				 const struct kvmmu_memory_slot *old,
				 struct kvmmu_memory_slot *new)
{
	unsigned int c;
	int pos = find_entry(ix, old, &c);

	if (pos < 0 || WARN_ON(new->base_gfn != old->base_gfn ||
			       new->npages != old->npages))
		return;
	ix->chunks[c]->slot[pos] = new;
}

/* --- checks ----------------------------------------------------------------- */

/* Rules 9-12 of kvmmu_memslot_index_check(): the unused L1, and L0. */
static int check_l0(const struct kvmmu_memslot_index *ix)
{
	unsigned int nr = ix->nr_chunks, nb = ix->l0_last + 1, b, c, end;
	gfn_t start;

	for (c = nr; c < 2 * MAX_CHUNKS; c++)
		if (ix->l1[c] != GFN_UNUSED ||
		    (c < MAX_CHUNKS && ix->chunks[c]))
			return 9;
	if (!nr)
		return 0;
	if (ix->l0_base != ix->l1[0] || nb < nr || (nb & (nb - 1)) ||
	    nb > 2 * MAX_CHUNKS)
		return 10;
	for (b = 0; b < nb; b++) {
		start = ix->l0_base + ((gfn_t)b << ix->l0_shift);
		if (ix->l0[b] != chunk_of(ix, start))
			return 11;
		end = b + 1 < nb ? ix->l0[b + 1] + 1u : nr;
		if (end - ix->l0[b] > ix->l0_window)
			return 12;
	}
	return 0;
}

/**
 * kvmmu_memslot_index_check() - verify the index's invariants.
 * @ix: the index.
 * @nr_slots: how many slots it should hold.
 *
 * For tests and the checker: keys are sorted and unique across chunks,
 * every entry has its slot's base_gfn, unused entries are cleared, no
 * chunk but the last is under half full, every separator lies between the
 * end of the chunk before it and the first base_gfn of its own, and L0
 * gives, for every bucket, the chunk of its first gfn and a window that
 * reaches the chunk of its last.
 *
 * Context: @ix does not change meanwhile (slots_lock, or a published set
 * under SRCU).
 * Return: 0, or the number of the first broken rule (1-based).
 */
int kvmmu_memslot_index_check(const struct kvmmu_memslot_index *ix,
			      unsigned long nr_slots)
{
	const struct kvmmu_memory_slot *last = NULL;
	const struct kvmmu_memslot_chunk *chunk;
	unsigned long count = 0;
	unsigned int c, i;

	if (ix->nr_chunks > MAX_CHUNKS)
		return 1;
	for (c = 0; c < ix->nr_chunks; c++) {
		chunk = ix->chunks[c];
		if (!chunk->nr || chunk->nr > CHUNK)
			return 2;
		if (c < ix->nr_chunks - 1 && chunk->nr < HALF)
			return 3;
		if (ix->l1[c] > chunk->base[0] ||
		    (last && last->base_gfn + last->npages > ix->l1[c]))
			return 4;
		for (i = 0; i < CHUNK; i++) {
			if (i >= chunk->nr) {
				if (chunk->base[i] != GFN_UNUSED ||
				    chunk->slot[i])
					return 5;
				continue;
			}
			if (last && chunk->base[i] <= last->base_gfn)
				return 6;
			if (!chunk->slot[i] ||
			    chunk->slot[i]->base_gfn != chunk->base[i])
				return 7;
			last = chunk->slot[i];
			count++;
		}
	}
	if (count != nr_slots)
		return 8;
	return check_l0(ix);
}
