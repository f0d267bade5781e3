// SPDX-License-Identifier: MIT
/*
 * Host page tables: four levels of 512 entries over a 48-bit address.
 *
 * Upper-level tables are published with a cmpxchg into the parent entry
 * (release), and read with acquire loads, so walkers need no lock.  Tables
 * are only freed when the mm itself is freed (mmdrop), which is what makes
 * the lockless walks of GUP-fast and of the checker safe: the kernel frees
 * page tables at munmap and protects lockless walkers with RCU or IPIs; we
 * keep them instead (see README, deviations).  Leaf PTEs change only under
 * their table's split PTL.
 *
 * Models: mm/memory.c __pte_alloc(), include/linux/pgtable.h pte_offset_map
 */
#include <stdlib.h>
#include "internal.h"

#define PT_UPPER_PRESENT 1ull

static inline unsigned int pt_index(hva_t addr, int level)
{
	return (addr >> (PAGE_SHIFT + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

static inline hva_t pt_level_size(int level)
{
	return 1ull << (PAGE_SHIFT + 9 * (level - 1));
}

struct pt_page *host_pt_alloc(void)
{
	struct pt_page *pt = aligned_alloc(64, ALIGN(sizeof(*pt), 64));

	if (!pt)
		return NULL;
	memset(pt->ent, 0, sizeof(pt->ent));
	kvmmu_spin_lock_init(&pt->ptl, "ptl", KVMMU_RANK_PTL);
	return pt;
}

static void pt_free_level(struct pt_page *pt, int level)
{
	unsigned int i;

	if (level > 1) {
		for (i = 0; i < PT_ENTRIES; i++) {
			uint64_t e = pt->ent[i];

			if (e & PT_UPPER_PRESENT)
				pt_free_level(
					(struct pt_page
						 *)(uintptr_t)(e &
							       ~PT_UPPER_PRESENT),
					level - 1);
		}
	}
	kvmmu_spin_lock_destroy(&pt->ptl);
	free(pt);
}

void host_pt_free_all(struct pt_page *pgd)
{
	if (pgd)
		pt_free_level(pgd, PT_LEVELS);
}

static inline struct pt_page *pt_child(uint64_t e)
{
	return (struct pt_page *)(uintptr_t)(e & ~PT_UPPER_PRESENT);
}

/* Descend one level, creating the child table if asked. */
static struct pt_page *pt_descend(struct pt_page *pt, unsigned int idx,
				  bool alloc)
{
	uint64_t e = smp_load_acquire(&pt->ent[idx]), want;
	struct pt_page *child;

	if (e & PT_UPPER_PRESENT)
		return pt_child(e);
	if (!alloc)
		return NULL;
	child = host_pt_alloc();
	if (!child)
		return NULL;
	want = (uint64_t)(uintptr_t)child | PT_UPPER_PRESENT;
	/* Release: the zeroed table is visible before the pointer to it. */
	if (__atomic_compare_exchange_n(&pt->ent[idx], &e, want, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return child;
	pt_free_level(child, 1); /* lost the race: use the winner's */
	return pt_child(e);
}

uint64_t *host_pte_offset(struct kvmmu_mm *mm, hva_t addr, bool alloc,
			  struct pt_page **leaf)
{
	struct pt_page *pt = mm->pgd;
	int level;

	if (addr >= KVMMU_TASK_SIZE)
		return NULL;
	for (level = PT_LEVELS; level > 1; level--) {
		pt = pt_descend(pt, pt_index(addr, level), alloc);
		if (!pt)
			return NULL;
	}
	if (leaf)
		*leaf = pt;
	return &pt->ent[pt_index(addr, 1)];
}

static void walk_level(struct pt_page *pt, int level, hva_t base, hva_t start,
		       hva_t end, host_leaf_fn fn, void *arg)
{
	hva_t size = pt_level_size(level);
	unsigned int i = (start - base) / size;

	if (level == 1) {
		unsigned int to = min((end - base + PAGE_SIZE - 1) / PAGE_SIZE,
				      (hva_t)PT_ENTRIES);

		fn(pt, i, to, base, arg);
		return;
	}
	for (; i < PT_ENTRIES; i++) {
		hva_t s = base + i * size;
		uint64_t e;

		if (s >= end)
			break;
		e = smp_load_acquire(&pt->ent[i]);
		if (!(e & PT_UPPER_PRESENT))
			continue;
		walk_level(pt_child(e), level - 1, s, max(s, start), end, fn,
			   arg);
	}
}

void host_walk_leaves(struct kvmmu_mm *mm, hva_t start, hva_t end,
		      host_leaf_fn fn, void *arg)
{
	if (end > KVMMU_TASK_SIZE)
		end = KVMMU_TASK_SIZE;
	if (start >= end)
		return;
	walk_level(mm->pgd, PT_LEVELS, 0, start, end, fn, arg);
}

bool host_first_populated_pud(struct kvmmu_mm *mm, hva_t start, hva_t end,
			      hva_t *found)
{
	hva_t a = start;

	while (a < end && a < KVMMU_TASK_SIZE) {
		struct pt_page *p4d =
			pt_descend(mm->pgd, pt_index(a, 4), false);
		hva_t next_p4d = ALIGN_DOWN(a, P4D_SIZE) + P4D_SIZE;

		if (p4d) {
			for (; a < end && a < next_p4d;
			     a = ALIGN_DOWN(a, PUD_SIZE) + PUD_SIZE) {
				if (smp_load_acquire(
					    &p4d->ent[pt_index(a, 3)]) &
				    PT_UPPER_PRESENT) {
					*found = a;
					return true;
				}
			}
		}
		a = next_p4d;
	}
	return false;
}

int kvmmu_mm_lookup_pte(struct kvmmu_mm *mm, hva_t hva,
			struct kvmmu_pte_info *out)
{
	uint64_t *ptep = host_pte_offset(mm, hva, false, NULL);
	uint64_t pte;

	memset(out, 0, sizeof(*out));
	if (!ptep)
		return -EFAULT;
	pte = smp_load_acquire(ptep);
	out->present = pte_present(pte);
	if (!out->present)
		return 0;
	out->write = pte & PTE_WRITE;
	out->young = pte & PTE_YOUNG;
	out->dirty = pte & PTE_DIRTY;
	out->special = pte & PTE_SPECIAL;
	out->protnone = pte & PTE_PROTNONE;
	out->pfn = pte_pfn(pte);
	out->memtype = pte_memtype(pte);
	return 0;
}
