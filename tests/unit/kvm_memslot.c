// SPDX-License-Identifier: MIT
/*
 * Memslots through the public API (kvm.h), part one: every check of
 * kvm-mmu-protocol.md §2.2 with its errno and in the kernel's order, the
 * largest slot and userspace address that pass, CREATE / DELETE / MOVE /
 * FLAGS_ONLY and what lookups see afterwards, read-only slots, and GPA
 * overlap versus HVA aliasing (invariant 16).  The slot limits, address
 * spaces, generations, readers racing updates and the swap protocol are in
 * kvm_memslot_swap.c.
 *
 * Several checks share -EINVAL; to see which one fired, the tests read
 * the "memslot: <why>" line the library logs at debug level for every
 * refusal.
 *
 * The last test is white box (it includes kvm/internal.h): it marks the VM
 * dead as KVM_BUG_ON() would, and expects -EIO before any other check.
 */
#include "harness.h"

#include "kvm_memslot_common.h"

/* The v1 ioctl (kvmmu_set_user_memory_region). */
static int set1(struct env *e, uint32_t slot, uint32_t flags, uint64_t gpa,
		uint64_t size, uint64_t uaddr)
{
	struct kvmmu_userspace_memory_region2 r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = uaddr,
	};

	reason_reset();
	return kvmmu_set_user_memory_region(e->vm, &r);
}

/* --- §2.2, in order -------------------------------------------------------------- */

#define BAD_FLAG (1u << 5)
#define AT(off)	 ((1ull << 62) | (off)) /* e->base + off */
#define TASK	 ((uint64_t)KVMMU_TASK_SIZE)
#define FAR	 0x10000000ull /* a user address with room for 8 TiB */

struct row {
	const char *name;
	bool v1;
	uint32_t slot, flags;
	uint64_t gpa, size, uaddr;
	int err;
	const char *why; /* substring of the logged reason */
};

/*
 * Two slots exist: 0 = gfn [0x100, 0x110) at base, flags 0;
 * 1 = gfn [0x200, 0x210) at base + 16 pages, READONLY.  Each row breaks
 * two or more rules; the first in KVM's order must be the one reported.
 */
static const struct row rows[] = {
	/* ioctl level: v1 flags, then the user-slot id, then §2.2 */
	{ "v1: GUEST_MEMFD, before the id and the size", true, 32764,
	  KVMMU_MEM_GUEST_MEMFD, 0x300000, P + 1, AT(0), -EINVAL, "v1" },
	{ "v1: unknown flag", true, 5, BAD_FLAG, 0x300000, P, AT(0), -EINVAL,
	  "v1" },
	{ "v2: internal slot id 32764, before the flags", false, 32764,
	  BAD_FLAG, 0x300000, P, AT(0), -EINVAL, "not a user slot" },
	{ "v2: slot id 0xffff in AS 0", false, 0xffff, 0, 0x300000, P, AT(0),
	  -EINVAL, "not a user slot" },
	{ "1 flags: GUEST_MEMFD (no guest_memfd yet), before size", false, 5,
	  KVMMU_MEM_GUEST_MEMFD, 0x300000, P + 1, AT(0), -EINVAL,
	  "flags not valid" },
	{ "1 flags: GUEST_MEMFD | LOG_DIRTY_PAGES", false, 5,
	  KVMMU_MEM_GUEST_MEMFD | KVMMU_MEM_LOG_DIRTY_PAGES, 0x300000, P, AT(0),
	  -EINVAL, "flags not valid" },
	{ "1 flags: unknown bit, before everything else", false, (2u << 16) | 5,
	  BAD_FLAG, 0x300001, P + 1, AT(1), -EINVAL, "flags not valid" },
	{ "2 size misaligned, before gpa", false, 5, 0, 0x300001, P + 1, AT(1),
	  -EINVAL, "memory_size" },
	{ "3 gpa misaligned, before uaddr", false, 5, 0, 0x300001, P, AT(1),
	  -EINVAL, "guest_phys_addr not page aligned" },
	{ "4 uaddr misaligned, before the address space", false, (2u << 16) | 5,
	  0, 0x300000, P, AT(1), -EINVAL, "userspace_addr" },
	{ "4 uaddr + size beyond TASK_SIZE", false, (2u << 16) | 5, 0, 0x300000,
	  2 * P, TASK - P, -EINVAL, "userspace_addr" },
	{ "4 uaddr at TASK_SIZE", false, 5, 0, 0x300000, P, TASK, -EINVAL,
	  "userspace_addr" },
	{ "4 uaddr + size wraps", false, 5, 0, 0x300000, 2 * P, -P, -EINVAL,
	  "userspace_addr" },
	{ "6 address space 2 on x86, before the gpa wrap", false,
	  (2u << 16) | 5, 0, -P, 2 * P, AT(0), -EINVAL, "address space" },
	{ "7 gpa + size wraps, before the page limit", false, 5, 0, -P,
	  (1ull << 31) * P, FAR, -EINVAL, "wraps" },
	{ "8 2^31 pages, before the overlap check", false, 5, 0, 0,
	  (1ull << 31) * P, FAR, -EINVAL, "too many pages" },
	{ "9 delete of a slot that does not exist", false, 5, 0, 0x300000, 0,
	  AT(0), -EINVAL, "does not exist" },
	{ "9 delete in the empty address space 1", false, (1u << 16) | 0, 0,
	  0x100000, 0, AT(0), -EINVAL, "does not exist" },
	{ "4 delete checks uaddr alignment too", false, 0, 0, 0x100000, 0,
	  AT(1), -EINVAL, "userspace_addr" },
	{ "11 modify with GUEST_MEMFD: the flags check first", false, 0,
	  KVMMU_MEM_GUEST_MEMFD, 0x100000, 16 * P, AT(0), -EINVAL,
	  "flags not valid" },
	{ "12 modify: size", false, 0, 0, 0x100000, 17 * P, AT(0), -EINVAL,
	  "changing" },
	{ "12 modify: userspace_addr", false, 0, 0, 0x100000, 16 * P, AT(P),
	  -EINVAL, "changing" },
	{ "12 modify: READONLY on", false, 0, KVMMU_MEM_READONLY, 0x100000,
	  16 * P, AT(0), -EINVAL, "changing" },
	{ "12 modify: READONLY off", false, 1, 0, 0x200000, 16 * P, AT(16 * P),
	  -EINVAL, "changing" },
	{ "12 modify: a resize onto slot 1 is -EINVAL, not -EEXIST", false, 0,
	  0, 0x200000, 17 * P, AT(0), -EINVAL, "changing" },
	{ "14 create over the first page of slot 0", false, 5, 0, 0x100000, P,
	  AT(0), -EEXIST, "overlaps" },
	{ "14 create over the last page of slot 0", false, 5, 0, 0x10f000,
	  2 * P, AT(0), -EEXIST, "overlaps" },
	{ "14 create enclosing slot 0", false, 5, 0, 0xff000, 18 * P, AT(0),
	  -EEXIST, "overlaps" },
	{ "14 create inside slot 1", false, 5, 0, 0x204000, P, AT(0), -EEXIST,
	  "overlaps" },
	{ "14 move slot 0 onto slot 1", false, 0, 0, 0x208000, 16 * P, AT(0),
	  -EEXIST, "overlaps" },
};

TEST(checks_in_kernel_order)
{
	struct env e;
	uint64_t gen0, gen1, upd;
	unsigned int i, bad = 0;

	env_setup(&e, KVMMU_ARCH_X86);
	ASSERT_OK(set2(&e, 0, 0, 0x100000, 16 * P, e.base));
	ASSERT_OK(set2(&e, 1, KVMMU_MEM_READONLY, 0x200000, 16 * P,
		       e.base + 16 * P));
	gen0 = kvmmu_memslots_generation(e.vm, 0);
	gen1 = kvmmu_memslots_generation(e.vm, 1);
	upd = updates(&e);

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *w = &rows[i];
		uint64_t ua = w->uaddr;
		int r;

		if (ua >> 62 == 1)
			ua = e.base + (ua & ~(1ull << 62));
		r = w->v1 ? set1(&e, w->slot, w->flags, w->gpa, w->size, ua) :
			    set2(&e, w->slot, w->flags, w->gpa, w->size, ua);
		if (r != w->err || !strstr(reason, w->why)) {
			TEST_LOG("row %u \"%s\": returned %d (reason \"%s\"), "
				 "expected %d (reason ~ \"%s\")",
				 i, w->name, r, reason, w->err, w->why);
			bad++;
		}
	}
	ASSERT_EQ(bad, 0);

	/* Nothing changed: slots, generations, swaps. */
	expect_slot(&e, 0, 0x100, 0, 0x100, 16, e.base, 0);
	expect_slot(&e, 0, 0x20f, 1, 0x200, 16, e.base + 16 * P,
		    KVMMU_MEM_READONLY);
	expect_none(&e, 0, 0x300);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), gen0);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 1), gen1);
	ASSERT_EQ(updates(&e), upd);
	env_teardown(&e);
}

/* The largest legal slot, 2^31 - 1 pages, and the largest legal uaddr. */
TEST(limits_that_pass)
{
	struct env e;

	env_setup(&e, KVMMU_ARCH_X86);
	ASSERT_OK(set2(&e, 2, 0, 0, ((1ull << 31) - 1) * P, FAR));
	expect_slot(&e, 0, (1ull << 31) - 2, 2, 0, (1ull << 31) - 1, FAR, 0);
	expect_none(&e, 0, (1ull << 31) - 1);
	ASSERT_OK(set2(&e, 2, 0, 0, 0, 0));
	/* userspace_addr + size == TASK_SIZE is accessible. */
	ASSERT_OK(set2(&e, 3, 0, 0x1000, 2 * P, TASK - 2 * P));
	expect_slot(&e, 0, 2, 3, 1, 2, TASK - 2 * P, 0);
	/* The v1 ioctl with the flags it knows; guest_memfd fields ignored. */
	{
		struct kvmmu_userspace_memory_region2 r = {
			.slot = 4,
			.flags = KVMMU_MEM_LOG_DIRTY_PAGES | KVMMU_MEM_READONLY,
			.guest_phys_addr = 0x100000,
			.memory_size = P,
			.userspace_addr = e.base,
			.guest_memfd_offset = 123,
			.guest_memfd = 7,
		};

		ASSERT_OK(kvmmu_set_user_memory_region(e.vm, &r));
		expect_slot(&e, 0, 0x100, 4, 0x100, 1, e.base,
			    KVMMU_MEM_LOG_DIRTY_PAGES | KVMMU_MEM_READONLY);
	}
	ASSERT_ERRNO(kvmmu_set_user_memory_region2(e.vm, NULL), -EFAULT);
	env_teardown(&e);
}

/* --- the four changes ------------------------------------------------------------- */

TEST(create_lookup_delete)
{
	struct env e;
	gfn_t g;

	env_setup(&e, KVMMU_ARCH_X86);
	expect_none(&e, 0, 0x100);
	ASSERT_OK(set2(&e, 7, 0, 0x100000, 16 * P, e.base + 4 * P));
	ASSERT_EQ(updates(&e), 1); /* one swap */
	for (g = 0x100; g < 0x110; g++)
		expect_slot(&e, 0, g, 7, 0x100, 16, e.base + 4 * P, 0);
	expect_none(&e, 0, 0xff);
	expect_none(&e, 0, 0x110);
	expect_none(&e, 1, 0x100); /* other address space */

	ASSERT_OK(set2(&e, 7, 0, 0, 0, 0));
	ASSERT_EQ(updates(&e), 3); /* INVALID, then gone */
	for (g = 0xff; g <= 0x110; g++)
		expect_none(&e, 0, g);
	/* Deleting again: the slot no longer exists. */
	ASSERT_ERRNO(set2(&e, 7, 0, 0, 0, 0), -EINVAL);
	ASSERT_TRUE(strstr(reason, "does not exist"));
	/* The id and the range can be used again. */
	ASSERT_OK(set2(&e, 7, 0, 0x100000, P, e.base));
	expect_slot(&e, 0, 0x100, 7, 0x100, 1, e.base, 0);
	env_teardown(&e);
}

TEST(move)
{
	struct env e;
	uint64_t gen;

	env_setup(&e, KVMMU_ARCH_X86);
	ASSERT_OK(set2(&e, 3, KVMMU_MEM_LOG_DIRTY_PAGES, 0x100000, 16 * P,
		       e.base));
	ASSERT_OK(set2(&e, 4, 0, 0x400000, P, e.base));
	gen = kvmmu_memslots_generation(e.vm, 0);

	/* Moving onto itself shifted by one page is not an overlap. */
	ASSERT_OK(set2(&e, 3, KVMMU_MEM_LOG_DIRTY_PAGES, 0x101000, 16 * P,
		       e.base));
	expect_none(&e, 0, 0x100);
	expect_slot(&e, 0, 0x101, 3, 0x101, 16, e.base,
		    KVMMU_MEM_LOG_DIRTY_PAGES);
	expect_slot(&e, 0, 0x110, 3, 0x101, 16, e.base,
		    KVMMU_MEM_LOG_DIRTY_PAGES);
	/* A move is two swaps. */
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), gen + 2 * 2);

	/* Far away, right below slot 4: touching is fine. */
	ASSERT_OK(set2(&e, 3, KVMMU_MEM_LOG_DIRTY_PAGES, 0x3f0000, 16 * P,
		       e.base));
	expect_none(&e, 0, 0x101);
	expect_slot(&e, 0, 0x3ff, 3, 0x3f0, 16, e.base,
		    KVMMU_MEM_LOG_DIRTY_PAGES);
	expect_slot(&e, 0, 0x400, 4, 0x400, 1, e.base, 0);
	/* One page further overlaps slot 4. */
	ASSERT_ERRNO(set2(&e, 3, KVMMU_MEM_LOG_DIRTY_PAGES, 0x3f1000, 16 * P,
			  e.base),
		     -EEXIST);
	expect_slot(&e, 0, 0x3f0, 3, 0x3f0, 16, e.base,
		    KVMMU_MEM_LOG_DIRTY_PAGES);
	env_teardown(&e);
}

TEST(flags_only_and_no_op)
{
	struct env e;
	uint64_t gen, upd;

	env_setup(&e, KVMMU_ARCH_X86);
	ASSERT_OK(set2(&e, 0, 0, 0x100000, 16 * P, e.base));
	gen = kvmmu_memslots_generation(e.vm, 0);
	upd = updates(&e);

	/* The same region again: nothing to do, no swap. */
	ASSERT_OK(set2(&e, 0, 0, 0x100000, 16 * P, e.base));
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), gen);
	ASSERT_EQ(updates(&e), upd);

	/* LOG_DIRTY_PAGES on: FLAGS_ONLY, one swap. */
	ASSERT_OK(set2(&e, 0, KVMMU_MEM_LOG_DIRTY_PAGES, 0x100000, 16 * P,
		       e.base));
	expect_slot(&e, 0, 0x105, 0, 0x100, 16, e.base,
		    KVMMU_MEM_LOG_DIRTY_PAGES);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), gen + 2);
	ASSERT_EQ(updates(&e), upd + 1);
	/* ... and off again (v1 may do it too). */
	ASSERT_OK(set1(&e, 0, 0, 0x100000, 16 * P, e.base));
	expect_slot(&e, 0, 0x105, 0, 0x100, 16, e.base, 0);
	ASSERT_EQ(kvmmu_memslots_generation(e.vm, 0), gen + 4);
	env_teardown(&e);
}

TEST(readonly_slot)
{
	struct env e;

	env_setup(&e, KVMMU_ARCH_X86);
	ASSERT_OK(set2(&e, 9, KVMMU_MEM_READONLY, 0x100000, 2 * P, e.base));
	expect_slot(&e, 0, 0x101, 9, 0x100, 2, e.base, KVMMU_MEM_READONLY);
	/* Logging can be toggled on a read-only slot; READONLY cannot. */
	ASSERT_OK(set2(&e, 9, KVMMU_MEM_READONLY | KVMMU_MEM_LOG_DIRTY_PAGES,
		       0x100000, 2 * P, e.base));
	ASSERT_ERRNO(set2(&e, 9, KVMMU_MEM_LOG_DIRTY_PAGES, 0x100000, 2 * P,
			  e.base),
		     -EINVAL);
	expect_slot(&e, 0, 0x100, 9, 0x100, 2, e.base,
		    KVMMU_MEM_READONLY | KVMMU_MEM_LOG_DIRTY_PAGES);
	env_teardown(&e);
}

/* Invariant 16: HVA ranges may overlap (aliasing); GPA ranges may not. */
TEST(hva_aliasing_allowed)
{
	struct env e;

	env_setup(&e, KVMMU_ARCH_X86);
	ASSERT_OK(set2(&e, 0, 0, 0x100000, 8 * P, e.base));
	ASSERT_OK(set2(&e, 1, 0, 0x200000, 8 * P, e.base));	/* same */
	ASSERT_OK(set2(&e, 2, 0, 0x300000, 8 * P, e.base + P)); /* partial */
	expect_slot(&e, 0, 0x100, 0, 0x100, 8, e.base, 0);
	expect_slot(&e, 0, 0x200, 1, 0x200, 8, e.base, 0);
	expect_slot(&e, 0, 0x307, 2, 0x300, 8, e.base + P, 0);
	/* Deleting one alias leaves the others. */
	ASSERT_OK(set2(&e, 1, 0, 0, 0, 0));
	expect_none(&e, 0, 0x200);
	expect_slot(&e, 0, 0x100, 0, 0x100, 8, e.base, 0);
	expect_slot(&e, 0, 0x300, 2, 0x300, 8, e.base + P, 0);
	env_teardown(&e);
}

/* --- white box --------------------------------------------------------------------- */

#include "kvm/internal.h"

/* A dead VM (KVM_BUG_ON) refuses the ioctl with -EIO before any check. */
TEST(dead_vm_eio_first)
{
	struct env e;

	env_setup(&e, KVMMU_ARCH_X86);
	ASSERT_OK(set2(&e, 0, 0, 0x100000, P, e.base));
	WRITE_ONCE(e.vm->vm_dead, true);
	ASSERT_ERRNO(set2(&e, 1, 0, 0x200000, P, e.base), -EIO);
	ASSERT_ERRNO(set2(&e, 32764, BAD_FLAG, 1, 1, 1), -EIO);
	ASSERT_ERRNO(set1(&e, 32764, BAD_FLAG, 1, 1, 1), -EIO);
	ASSERT_ERRNO(set2(&e, 0, 0, 0, 0, 0), -EIO);
	expect_slot(&e, 0, 0x100, 0, 0x100, 1, e.base, 0);
	env_teardown(&e);
}

TEST_HARNESS_MAIN
