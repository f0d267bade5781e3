// SPDX-License-Identifier: MIT
/*
 * The checker finds what it is meant to find, and nothing else.
 *
 * Each test builds a VM whose vCPU faults pages in, corrupts one piece of
 * state directly through the internals (a stage-2 leaf that points at a
 * freed or a different frame, a W bit over a read-only host PTE, a TLB entry
 * whose leaf is gone, the invalidation counters, the memslot sets), and
 * asserts that kvmmu_check_vm() (or the online check of check mode)
 * reports exactly that invariant.  A system used normally — faults, host
 * writes, mprotect, DONTNEED, fork, memslot changes — reports nothing.
 */
#include <kvmmu/check.h>
#include "kvm_common.h"
#include "kvm/internal.h"
#include "vcpu/internal.h"

static const enum kvmmu_arch arches[] = { KVMMU_ARCH_X86, KVMMU_ARCH_ARM64,
					  KVMMU_ARCH_MIPS };

#define RAM_PAGES 64

/* Every finding so far is of @kind, and there are @n of them. */
static void expect_only(struct kvmmu_vm *vm, enum kvmmu_finding_kind kind,
			unsigned long n)
{
	unsigned long total = kvmmu_check_nr_findings(vm);
	struct kvmmu_finding f;
	char line[400];
	unsigned int i;

	for (i = 0; !kvmmu_check_finding(vm, i, &f); i++) {
		TEST_LOG("%s", kvmmu_check_format(&f, line, sizeof(line)));
		EXPECT_EQ(f.kind, kind);
	}
	EXPECT_EQ(total, n);
	EXPECT_EQ(kvmmu_check_count_kind(vm, kind), n);
}

static kvmmu_spte_t *leaf_of(struct kt_env *t, gfn_t gfn)
{
	kvmmu_spte_t *ptep = NULL;
	int level = 0;

	ASSERT_TRUE(s2_is_leaf(kvmmu_s2_walk(&t->vm->s2, gfn, &ptep, &level)));
	ASSERT_EQ(level, 1);
	return ptep;
}

static kvmmu_pfn_t host_pfn(struct kt_env *t, hva_t hva)
{
	struct kvmmu_pte_info pte;

	ASSERT_OK(kvmmu_mm_lookup_pte(t->h.mm, hva, &pte));
	ASSERT_TRUE(pte.present);
	return pte.pfn;
}

/* A VM with the first 16 pages written by vCPU 0 and a clean first check. */
static void setup(struct kt_env *t, enum kvmmu_arch arch, bool check_mode)
{
	unsigned int i;

	kt_setup(t, arch, PG(RAM_PAGES), 1, check_mode);
	for (i = 0; i < 16; i++)
		kt_write(t, 0, PG(i), 0x1000 + i);
	ASSERT_EQ(kvmmu_check_vm(t->vm), 0);
}

/* Drop vCPU 0's TLB, as a flush would (the vCPU is not running). */
static void tlb_drop(struct kt_env *t)
{
	kvmmu_vcpu_tlb_flush(t->vcpu[0]);
}

TEST(clean_system_has_no_findings)
{
	unsigned int a, i;

	for (a = 0; a < ARRAY_SIZE(arches); a++) {
		struct kvmmu_mm *child;
		struct kt_env t;

		setup(&t, arches[a], true);
		for (i = 16; i < 32; i++)
			EXPECT_EQ(kt_read(&t, 0, PG(i)), 0); /* zero page */
		kt_host_write(t.h.mm, t.ram + PG(3), 0x77);
		EXPECT_EQ(kt_read(&t, 0, PG(3)), 0x77);
		ASSERT_EQ(kvmmu_check_vm(t.vm), 0);

		/* Host events behind the guest's back. */
		ASSERT_OK(kvmmu_mprotect(t.h.mm, t.ram, PG(8), PROT_READ));
		EXPECT_EQ(kt_read(&t, 0, PG(1)), 0x1001);
		ASSERT_EQ(kvmmu_check_vm(t.vm), 0);
		ASSERT_OK(kvmmu_mprotect(t.h.mm, t.ram, PG(8),
					 PROT_READ | PROT_WRITE));
		ASSERT_OK(kvmmu_madvise(t.h.mm, t.ram + PG(4), PG(2),
					MADV_DONTNEED));
		EXPECT_EQ(kt_read(&t, 0, PG(4)), 0);
		ASSERT_OK(kvmmu_fork(t.h.mm, &child));
		kt_write(&t, 0, PG(6), 0xc0);
		EXPECT_EQ(kt_host_read(child, t.ram + PG(6)), 0x1006);
		ASSERT_EQ(kvmmu_check_vm(t.vm), 0);
		kvmmu_mmput(child);
		kt_write(&t, 0, PG(7), 0xc1);

		/* A memslot move and back, then a delete. */
		kt_slot(&t, 0, 0, PG(1024), PG(RAM_PAGES), t.ram);
		EXPECT_EQ(kt_read(&t, 0, PG(1024 + 7)), 0xc1);
		ASSERT_EQ(kvmmu_check_vm(t.vm), 0);
		kt_slot(&t, 0, 0, 0, PG(RAM_PAGES), t.ram);
		kt_write(&t, 0, PG(8), 0xc2);
		ASSERT_EQ(kvmmu_check_vm(t.vm), 0);
		kt_slot(&t, 0, 0, 0, 0, t.ram);
		ASSERT_EQ(kvmmu_check_vm(t.vm), 0);
		EXPECT_EQ(kvmmu_check_nr_findings(t.vm), 0);
		kt_teardown(&t);
	}
}

TEST(leaf_to_freed_frame_is_uaf)
{
	unsigned int a;

	for (a = 0; a < ARRAY_SIZE(arches); a++) {
		struct kt_env t;
		kvmmu_spte_t *ptep, e;
		kvmmu_pfn_t victim;
		uint32_t gen;

		setup(&t, arches[a], false);
		/* A frame the host frees: page 40, written by the host only. */
		kt_host_write(t.h.mm, t.ram + PG(40), 0xdead);
		victim = host_pfn(&t, t.ram + PG(40));
		gen = kvmmu_page_gen(t.h.host, victim);
		ASSERT_OK(kvmmu_madvise(t.h.mm, t.ram + PG(40), PG(1),
					MADV_DONTNEED));
		ASSERT_TRUE(kvmmu_page_is_free(t.h.host, victim));

		/* gfn 1's leaf now points at it, as a missed zap would. */
		ptep = leaf_of(&t, 1);
		e = *ptep;
		*ptep = s2_mk_leaf(victim,
				   e & (S2_WRITE | S2_EXEC | S2_ACCESSED |
					S2_DIRTY | S2_MMU_WRITABLE),
				   gen);
		tlb_drop(&t);
		EXPECT_EQ(kvmmu_check_vm(t.vm), 1);
		expect_only(t.vm, KVMMU_FK_UAF, 1);
		*ptep = e;
		kt_teardown(&t);
	}
}

TEST(leaf_to_reused_frame_is_uaf)
{
	struct kt_env t;
	kvmmu_spte_t *ptep, e;
	uint32_t gen;

	setup(&t, KVMMU_ARCH_X86, false);
	ptep = leaf_of(&t, 2);
	e = *ptep;
	/* Same frame, but the leaf says an older generation. */
	gen = (e & S2_GEN_MASK) >> S2_GEN_SHIFT;
	*ptep = (e & ~S2_GEN_MASK) |
		((uint64_t)((gen - 1) & 0x7ff) << S2_GEN_SHIFT);
	tlb_drop(&t);
	EXPECT_EQ(kvmmu_check_vm(t.vm), 1);
	expect_only(t.vm, KVMMU_FK_UAF, 1);
	*ptep = e;
	kt_teardown(&t);
}

TEST(leaf_to_other_frame_is_stale_mapping)
{
	unsigned int a;

	for (a = 0; a < ARRAY_SIZE(arches); a++) {
		struct kt_env t;
		kvmmu_spte_t *ptep, e, other;

		setup(&t, arches[a], false);
		/* gfn 1 maps gfn 2's frame: allocated, right generation, but
		 * not what the host maps at gfn 1's hva. */
		ptep = leaf_of(&t, 1);
		e = *ptep;
		other = *leaf_of(&t, 2);
		*ptep = other;
		tlb_drop(&t);
		EXPECT_EQ(kvmmu_check_vm(t.vm), 1);
		expect_only(t.vm, KVMMU_FK_STALE_MAPPING, 1);
		*ptep = e;
		kt_teardown(&t);
	}
}

TEST(leaf_after_host_unmap_is_stale_mapping)
{
	struct kt_env t;
	kvmmu_spte_t *ptep, e;
	kvmmu_pfn_t pfn;

	setup(&t, KVMMU_ARCH_ARM64, false);
	ptep = leaf_of(&t, 3);
	e = *ptep;
	pfn = host_pfn(&t, t.ram + PG(3));
	/* Keep the frame alive, let the host unmap it, put the leaf back:
	 * the leaf outlived the host mapping (a missed invalidation). */
	kvmmu_get_page(t.h.host, pfn);
	ASSERT_OK(kvmmu_madvise(t.h.mm, t.ram + PG(3), PG(1), MADV_DONTNEED));
	*ptep = e;
	tlb_drop(&t);
	EXPECT_EQ(kvmmu_check_vm(t.vm), 1);
	expect_only(t.vm, KVMMU_FK_STALE_MAPPING, 1);
	*ptep = 0;
	kvmmu_put_page(t.h.host, pfn);
	kt_teardown(&t);
}

TEST(writable_leaf_over_readonly_pte)
{
	unsigned int a;

	for (a = 0; a < ARRAY_SIZE(arches); a++) {
		struct kt_env t;
		kvmmu_spte_t *ptep, e;

		setup(&t, arches[a], false);
		/* A read after mprotect(PROT_READ) maps the page read-only. */
		ASSERT_OK(kvmmu_mprotect(t.h.mm, t.ram + PG(5), PG(1),
					 PROT_READ));
		EXPECT_EQ(kt_read(&t, 0, PG(5)), 0x1005);
		ptep = leaf_of(&t, 5);
		e = *ptep;
		ASSERT_FALSE(e & S2_WRITE);
		*ptep = e | S2_WRITE;
		tlb_drop(&t);
		EXPECT_EQ(kvmmu_check_vm(t.vm), 1);
		expect_only(t.vm, KVMMU_FK_WRITABLE, 1);
		*ptep = e;
		kt_teardown(&t);
	}
}

TEST(writable_leaf_over_zero_page_or_readonly_slot)
{
	struct kt_env t;
	kvmmu_spte_t *ptep, e;
	hva_t ro;

	setup(&t, KVMMU_ARCH_X86, false);
	/* Never written: the read maps the shared zero frame, read-only. */
	EXPECT_EQ(kt_read(&t, 0, PG(50)), 0);
	ptep = leaf_of(&t, 50);
	e = *ptep;
	ASSERT_EQ(s2_pfn(e), kvmmu_zero_pfn(t.h.host));
	*ptep = e | S2_WRITE;
	tlb_drop(&t);
	EXPECT_EQ(kvmmu_check_vm(t.vm), 1);
	*ptep = e;

	/* A READONLY slot over writable memory: reads map it read-only. */
	ro = hc_anon(t.h.mm, 0, PG(4));
	kt_host_write(t.h.mm, ro, 0x5a);
	kt_slot(&t, 1, KVMMU_MEM_READONLY, PG(4096), PG(4), ro);
	EXPECT_EQ(kt_read(&t, 0, PG(4096)), 0x5a);
	ptep = leaf_of(&t, 4096);
	e = *ptep;
	ASSERT_FALSE(e & S2_WRITE);
	*ptep = e | S2_WRITE;
	tlb_drop(&t);
	EXPECT_EQ(kvmmu_check_vm(t.vm), 1);
	expect_only(t.vm, KVMMU_FK_WRITABLE, 2);
	*ptep = e;
	kt_teardown(&t);
}

TEST(leaf_outside_any_slot)
{
	struct kt_env t;
	kvmmu_spte_t old = 0;
	gfn_t gfn = 1ull << 20;

	setup(&t, KVMMU_ARCH_MIPS, false);
	/* What a memslot delete that forgot its zap leaves behind. */
	kvmmu_write_lock(&t.vm->mmu_lock);
	ASSERT_OK(kvmmu_s2_map(&t.vm->s2, gfn, 1, *leaf_of(&t, 1), &old));
	kvmmu_write_unlock(&t.vm->mmu_lock);
	EXPECT_EQ(kvmmu_check_vm(t.vm), 1);
	expect_only(t.vm, KVMMU_FK_OUTSIDE_SLOT, 1);
	kt_teardown(&t);
}

TEST(tlb_entry_without_leaf_or_flush)
{
	struct kt_env t;
	kvmmu_spte_t *ptep, e;

	setup(&t, KVMMU_ARCH_X86, false);
	EXPECT_EQ(kt_read(&t, 0, PG(9)), 0x1009);
	ptep = leaf_of(&t, 9);
	e = *ptep;
	*ptep = 0; /* zapped, but no flush followed */
	EXPECT_EQ(kvmmu_check_vm(t.vm), 1);
	expect_only(t.vm, KVMMU_FK_STALE_TLB, 1);

	/* With the flush request pending the entry is harmless. */
	__atomic_fetch_or(&t.vcpu[0]->requests, 1ul << KVM_REQ_TLB_FLUSH,
			  __ATOMIC_SEQ_CST);
	EXPECT_EQ(kvmmu_check_vm(t.vm), 0);
	*ptep = e;
	kt_teardown(&t);
}

TEST(counters_at_rest)
{
	struct kt_env t;
	struct kvmmu_vm *vm;

	setup(&t, KVMMU_ARCH_X86, false);
	vm = t.vm;
	/* One real invalidation first, so the range is set. */
	ASSERT_OK(kvmmu_madvise(t.h.mm, t.ram + PG(12), PG(1), MADV_DONTNEED));
	ASSERT_EQ(kvmmu_check_vm(vm), 0);

	vm->mmu_invalidate_in_progress = 1;
	EXPECT_EQ(kvmmu_check_vm(vm), 1);
	expect_only(vm, KVMMU_FK_IN_PROGRESS, 1);
	vm->mmu_invalidate_in_progress = 0;
	kt_teardown(&t);

	setup(&t, KVMMU_ARCH_X86, false);
	vm = t.vm;
	ASSERT_OK(kvmmu_madvise(t.h.mm, t.ram + PG(12), PG(1), MADV_DONTNEED));
	vm->mmu_invalidate_seq++; /* an end() without an invalidation */
	EXPECT_EQ(kvmmu_check_vm(vm), 1);
	expect_only(vm, KVMMU_FK_SEQ, 1);
	kt_teardown(&t);

	setup(&t, KVMMU_ARCH_X86, false);
	vm = t.vm;
	vm->mn_active_invalidate_count = 1;
	EXPECT_EQ(kvmmu_check_vm(vm), 1);
	expect_only(vm, KVMMU_FK_MN_COUNT, 1);
	vm->mn_active_invalidate_count = 0;
	kt_teardown(&t);

	setup(&t, KVMMU_ARCH_X86, false);
	vm = t.vm;
	vm->mmu_invalidate_range_start = 10;
	vm->mmu_invalidate_range_end = 5;
	EXPECT_EQ(kvmmu_check_vm(vm), 1);
	expect_only(vm, KVMMU_FK_RANGE, 1);
	kt_teardown(&t);

	/* begin() + end() with no range_add() in between: 9.7. */
	setup(&t, KVMMU_ARCH_ARM64, false);
	vm = t.vm;
	if (vm->mmu_invalidate_range_start == INVALID_GPA) {
		vm->mmu_invalidate_seq++;
		kvmmu_stats_inc(&vm->stats, KVM_STAT_MMU_NOTIFIER_INVALIDATE);
		EXPECT_EQ(kvmmu_check_vm(vm), 1);
		expect_only(vm, KVMMU_FK_NO_RANGE_ADD, 1);
	}
	kt_teardown(&t);
}

TEST(memslots_at_rest)
{
	struct kvmmu_memslots *act;
	struct kvmmu_memory_slot *s;
	struct kt_env t;
	uint64_t gen;

	/* No leaves, so only the memslot checks can speak. */
	kt_setup(&t, KVMMU_ARCH_X86, PG(RAM_PAGES), 1, false);
	act = t.vm->memslots[0];
	s = act->id_table[0];
	ASSERT_PTR_NE(s, NULL);

	s->flags |= KVMMU_MEMSLOT_INVALID; /* a delete that never ended */
	EXPECT_GE(kvmmu_check_vm(t.vm), 1);
	expect_only(t.vm, KVMMU_FK_MEMSLOTS, kvmmu_check_nr_findings(t.vm));
	s->flags &= ~KVMMU_MEMSLOT_INVALID;
	kt_teardown(&t);

	kt_setup(&t, KVMMU_ARCH_X86, PG(RAM_PAGES), 1, false);
	act = t.vm->memslots[0];
	gen = act->generation;
	act->generation = gen | KVMMU_MEMSLOT_GEN_UPDATE_IN_PROGRESS;
	EXPECT_EQ(kvmmu_check_vm(t.vm), 1);
	expect_only(t.vm, KVMMU_FK_GENERATION, 1);
	act->generation = gen + 1; /* ≢ as_id mod 2 */
	EXPECT_EQ(kvmmu_check_vm(t.vm), 1);
	act->generation = gen;
	EXPECT_EQ(kvmmu_check_vm(t.vm), 1); /* went back */
	expect_only(t.vm, KVMMU_FK_GENERATION, 3);
	act->generation = gen + 2;
	kt_teardown(&t);

	/* The gfn index: a separator past its chunk's first slot. */
	kt_setup(&t, KVMMU_ARCH_X86, PG(RAM_PAGES), 1, false);
	act = t.vm->memslots[0];
	ASSERT_EQ(act->gfn_index.nr_chunks, 1);
	act->gfn_index.l1[0] += 1;
	EXPECT_EQ(kvmmu_check_vm(t.vm), 1);
	expect_only(t.vm, KVMMU_FK_MEMSLOTS, 1);
	act->gfn_index.l1[0] -= 1;
	EXPECT_EQ(kvmmu_check_vm(t.vm), 0);
	kt_teardown(&t);
}

TEST(warn_is_a_finding)
{
	struct kt_env t;

	setup(&t, KVMMU_ARCH_X86, false);
	WARN_ON(1);
	EXPECT_EQ(kvmmu_check_vm(t.vm), 1);
	expect_only(t.vm, KVMMU_FK_WARN, 1);
	EXPECT_EQ(kvmmu_check_vm(t.vm), 0); /* reported once */
	kvmmu_warn_reset();
	kt_teardown(&t);
}

TEST(online_check_of_tlb_hits)
{
	struct kvmmu_tlb_entry *e;
	struct kt_env t;
	kvmmu_pfn_t pfn;

	setup(&t, KVMMU_ARCH_X86, true);
	EXPECT_EQ(kt_read(&t, 0, PG(1)), 0x1001);
	e = &t.vcpu[0]->tlb[1 % KVMMU_TLB_ENTRIES];
	ASSERT_EQ(e->tag, 2);
	EXPECT_EQ(e->hva, t.ram + PG(1));
	EXPECT_EQ(e->slot_id, 0);
	EXPECT_EQ(kvmmu_check_nr_findings(t.vm), 0);

	/* The entry claims another frame than the host maps: stale. */
	pfn = e->pfn;
	e->pfn = host_pfn(&t, t.ram + PG(2));
	EXPECT_EQ(kt_read(&t, 0, PG(1)), 0x1001);
	expect_only(t.vm, KVMMU_FK_STALE_MAPPING, 1);
	e->pfn = pfn;

	/* The frame was freed and reused since the leaf was made. */
	e->gen ^= 1;
	EXPECT_EQ(kt_read(&t, 0, PG(1)), 0x1001);
	EXPECT_EQ(kvmmu_check_count_kind(t.vm, KVMMU_FK_UAF), 1);
	e->gen ^= 1;

	/* Writable entry over a read-only host PTE (a missed zap). */
	kvmmu_vcpu_tlb_flush(t.vcpu[0]);
	ASSERT_OK(kvmmu_mprotect(t.h.mm, t.ram + PG(1), PG(1), PROT_READ));
	EXPECT_EQ(kt_read(&t, 0, PG(1)), 0x1001);
	ASSERT_EQ(e->tag, 2);
	e->writable = true;
	EXPECT_EQ(kt_read(&t, 0, PG(1)), 0x1001);
	EXPECT_EQ(kvmmu_check_count_kind(t.vm, KVMMU_FK_WRITABLE), 1);
	EXPECT_EQ(kvmmu_check_nr_findings(t.vm), 3);
	kvmmu_vcpu_tlb_flush(t.vcpu[0]);
	kt_teardown(&t);
}

TEST(finding_format_and_log_limit)
{
	struct kvmmu_finding f;
	struct kt_env t;
	char line[400];
	unsigned int i;

	setup(&t, KVMMU_ARCH_X86, false);
	for (i = 0; i < KVMMU_CHECK_LOG_MAX + 10; i++)
		kvmmu_check_report(t.vm, KVMMU_FK_DATA, i, 0x42, 3, 1,
				   "expected %u, found %u", i, i + 1);
	EXPECT_EQ(kvmmu_check_nr_findings(t.vm), KVMMU_CHECK_LOG_MAX + 10);
	ASSERT_OK(kvmmu_check_finding(t.vm, 0, &f));
	EXPECT_ERRNO(kvmmu_check_finding(t.vm, KVMMU_CHECK_LOG_MAX, &f),
		     -ENOENT);
	ASSERT_OK(kvmmu_check_finding(t.vm, 5, &f));
	kvmmu_check_format(&f, line, sizeof(line));
	TEST_LOG("%s", line);
	EXPECT_TRUE(strstr(line, "[8 data]") != NULL);
	EXPECT_TRUE(strstr(line, "gfn 0x5") != NULL);
	EXPECT_TRUE(strstr(line, "expected 5, found 6") != NULL);
	EXPECT_EQ(kvmmu_check_count_kind(t.vm, KVMMU_FK_DATA),
		  KVMMU_CHECK_LOG_MAX);
	kt_teardown(&t);
}

TEST_HARNESS_MAIN
