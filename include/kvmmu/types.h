/* SPDX-License-Identifier: MIT */
/*
 * Address types, named as in KVM: a host virtual address (hva_t), a host
 * page frame number (kvmmu_pfn_t; PFN = index into the host's frame array,
 * or above it for device apertures), guest physical addresses and frames
 * (gpa_t, gfn_t, from the secondary-MMU layer on).
 *
 * They are plain integer typedefs.  house-style.md suggests one-member
 * structs in debug builds; kvmmu keeps integers because every layer does
 * arithmetic on them, and relies on names and the checker instead.
 */
#ifndef KVMMU_TYPES_H
#define KVMMU_TYPES_H

#include <stdint.h>

typedef uint64_t hva_t;
typedef uint64_t gpa_t;
typedef uint64_t gfn_t;
typedef uint64_t kvmmu_pfn_t;

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define PMD_SHIFT	21
#define PMD_SIZE	(1UL << PMD_SHIFT)
#define PUD_SHIFT	30
#define PUD_SIZE	(1UL << PUD_SHIFT)
#define P4D_SHIFT	39
#define P4D_SIZE	(1UL << P4D_SHIFT)
#define PAGE_ALIGNED(x) (((x) & (PAGE_SIZE - 1)) == 0)

/* The host user address space: 47 bits, as x86-64 with 4-level paging. */
#define KVMMU_TASK_SIZE (1UL << 47)

#define KVMMU_INVALID_PFN (~(kvmmu_pfn_t)0)

#endif /* KVMMU_TYPES_H */
