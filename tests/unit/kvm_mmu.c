// SPDX-License-Identifier: MIT
/*
 * The fault path and the notifier glue seen through vCPU accesses: what
 * the kernel's mmu_stress_test and the coherence cases of the reference
 * (§1.8, §8.3) require, for every arch policy.
 *
 *   - mprotect(PROT_READ): a guest write exits -EFAULT with the vCPU left
 *     on the access, reads still work, and the write completes once the
 *     host restores PROT_WRITE;
 *   - munmap: -EFAULT; a new mapping at the same place: fresh zeroes;
 *   - mremap away and back: -EFAULT in between, the data comes back;
 *   - host writes after the guest mapped the page (also over the zero
 *     page), fork + parent write, child isolation, DONTNEED on anon vs
 *     shmem, HVA aliasing across two slots, READONLY slots (MMIO exits with
 *     the exact address, length and data), no slot at all.
 */
#include <kvmmu/check.h>

#include "kvm_common.h"

static const enum kvmmu_arch arches[] = { KVMMU_ARCH_X86, KVMMU_ARCH_ARM64,
					  KVMMU_ARCH_MIPS };
#define for_each_arch(a)           \
	for (unsigned int __i = 0; \
	     __i < ARRAY_SIZE(arches) && ((a) = arches[__i], 1); __i++)

#define RAM_LEN (64 * PAGE_SIZE)

static struct kvmmu_run *run_of(struct kt_env *t)
{
	return kvmmu_vcpu_run_state(t->vcpu[0]);
}

TEST(mprotect_read_efault_then_resume)
{
	enum kvmmu_arch a;

	for_each_arch(a) {
		struct kt_env t;
		uint64_t faults;

		kt_setup(&t, a, RAM_LEN, 1, false);
		kt_write(&t, 0, PG(1), 0xA);
		ASSERT_OK(kvmmu_mprotect(t.h.mm, t.ram, RAM_LEN, PROT_READ));
		/* The write faults, KVM_RUN fails -EFAULT on the access. */
		faults = kvmmu_vm_stat(t.vm, "pf_efault");
		ASSERT_ERRNO(kvmmu_vcpu_write(t.vcpu[0], PG(1), 8, 0xB),
			     -EFAULT);
		ASSERT_EQ(run_of(&t)->exit_reason, KVMMU_EXIT_MEMORY_FAULT);
		ASSERT_EQ(run_of(&t)->memory_fault.gpa, PG(1));
		ASSERT_TRUE(run_of(&t)->memory_fault.write);
		ASSERT_EQ(kvmmu_vm_stat(t.vm, "pf_efault"), faults + 1);
		/* Reads are still fine and see the old data. */
		ASSERT_EQ(kt_read(&t, 0, PG(1)), 0xA);
		ASSERT_EQ(kt_host_read(t.h.mm, t.ram + PG(1)), 0xA);
		/* Writable again: the same access now completes. */
		ASSERT_OK(kvmmu_mprotect(t.h.mm, t.ram, RAM_LEN,
					 PROT_READ | PROT_WRITE));
		kt_write(&t, 0, PG(1), 0xB);
		ASSERT_EQ(kt_host_read(t.h.mm, t.ram + PG(1)), 0xB);
		kt_teardown(&t);
	}
}

TEST(prot_none_read_efault)
{
	struct kt_env t;

	kt_setup(&t, KVMMU_ARCH_X86, RAM_LEN, 1, false);
	kt_write(&t, 0, PG(2), 7);
	ASSERT_OK(kvmmu_mprotect(t.h.mm, t.ram, RAM_LEN, PROT_NONE));
	uint64_t v;
	ASSERT_ERRNO(kvmmu_vcpu_read(t.vcpu[0], PG(2), 8, &v), -EFAULT);
	ASSERT_FALSE(run_of(&t)->memory_fault.write);
	ASSERT_OK(kvmmu_mprotect(t.h.mm, t.ram, RAM_LEN, PROT_READ));
	ASSERT_EQ(kt_read(&t, 0, PG(2)), 7);
	kt_teardown(&t);
}

TEST(munmap_efault_then_fresh_memory)
{
	enum kvmmu_arch a;

	for_each_arch(a) {
		struct kt_env t;
		uint64_t v;

		kt_setup(&t, a, RAM_LEN, 1, false);
		kt_write(&t, 0, PG(3), 0x1234);
		ASSERT_OK(kvmmu_munmap(t.h.mm, t.ram, RAM_LEN));
		ASSERT_ERRNO(kvmmu_vcpu_read(t.vcpu[0], PG(3), 8, &v), -EFAULT);
		ASSERT_EQ(run_of(&t)->exit_reason, KVMMU_EXIT_MEMORY_FAULT);
		ASSERT_EQ(kvmmu_vm_stat(t.vm, "pages_4k"), 0);
		hc_anon(t.h.mm, t.ram, RAM_LEN);
		ASSERT_EQ(kt_read(&t, 0, PG(3)), 0);
		kt_teardown(&t);
	}
}

TEST(mremap_away_and_back)
{
	enum kvmmu_arch a;

	for_each_arch(a) {
		struct kt_env t;
		hva_t away = 0, back = 0;
		uint64_t v;

		kt_setup(&t, a, RAM_LEN, 1, false);
		kt_write(&t, 0, PG(5), 0x55);
		away = t.ram + 0x40000000;
		ASSERT_OK(kvmmu_mremap(t.h.mm, t.ram, RAM_LEN, RAM_LEN,
				       MREMAP_MAYMOVE | MREMAP_FIXED, away,
				       &v));
		ASSERT_EQ(v, away);
		ASSERT_ERRNO(kvmmu_vcpu_read(t.vcpu[0], PG(5), 8, &v), -EFAULT);
		ASSERT_EQ(kt_host_read(t.h.mm, away + PG(5)), 0x55);
		ASSERT_OK(kvmmu_mremap(t.h.mm, away, RAM_LEN, RAM_LEN,
				       MREMAP_MAYMOVE | MREMAP_FIXED, t.ram,
				       &back));
		ASSERT_EQ(back, t.ram);
		ASSERT_EQ(kt_read(&t, 0, PG(5)), 0x55);
		kt_teardown(&t);
	}
}

TEST(host_write_after_guest_mapping)
{
	enum kvmmu_arch a;

	for_each_arch(a) {
		struct kt_env t;

		kt_setup(&t, a, RAM_LEN, 1, false);
		kt_write(&t, 0, PG(4), 1);
		kt_host_write(t.h.mm, t.ram + PG(4), 2);
		ASSERT_EQ(kt_read(&t, 0, PG(4)), 2);
		kt_write(&t, 0, PG(4) + 8, 3);
		ASSERT_EQ(kt_host_read(t.h.mm, t.ram + PG(4) + 8), 3);
		kt_teardown(&t);
	}
}

TEST(zero_page_cow)
{
	enum kvmmu_arch a;

	for_each_arch(a) {
		struct kt_env t;
		struct kvmmu_spte_info si;

		kt_setup(&t, a, RAM_LEN, 1, false);
		/* A read of untouched anon memory maps the zero page RO. */
		ASSERT_EQ(kt_read(&t, 0, PG(6)), 0);
		ASSERT_OK(kvmmu_vm_lookup_spte(t.vm, PG(6), &si));
		ASSERT_TRUE(si.present);
		ASSERT_EQ(si.pfn, kvmmu_zero_pfn(t.h.host));
		ASSERT_FALSE(si.writable);
		/* The host's write replaces the zero page: CLEAR + refault. */
		kt_host_write(t.h.mm, t.ram + PG(6), 0x66);
		ASSERT_OK(kvmmu_vm_lookup_spte(t.vm, PG(6), &si));
		ASSERT_FALSE(si.present);
		ASSERT_EQ(kt_read(&t, 0, PG(6)), 0x66);
		ASSERT_OK(kvmmu_vm_lookup_spte(t.vm, PG(6), &si));
		ASSERT_NE(si.pfn, kvmmu_zero_pfn(t.h.host));
		/* Guest read then write of another zero page: COW by GUP. */
		ASSERT_EQ(kt_read(&t, 0, PG(7)), 0);
		kt_write(&t, 0, PG(7), 0x77);
		ASSERT_EQ(kt_host_read(t.h.mm, t.ram + PG(7)), 0x77);
		ASSERT_OK(kvmmu_vm_lookup_spte(t.vm, PG(7), &si));
		ASSERT_TRUE(si.writable);
		ASSERT_NE(si.pfn, kvmmu_zero_pfn(t.h.host));
		kt_teardown(&t);
	}
}

TEST(fork_parent_write_and_child_isolation)
{
	enum kvmmu_arch a;

	for_each_arch(a) {
		struct kt_env t;
		struct kvmmu_mm *child;
		struct kvmmu_spte_info si;

		kt_setup(&t, a, RAM_LEN, 1, false);
		kt_write(&t, 0, PG(8), 1);
		kt_write(&t, 0, PG(9), 10);
		child = hc_fork(&t.h, t.h.mm);
		/* fork write-protected the parent: no writable leaf left. */
		ASSERT_OK(kvmmu_vm_lookup_spte(t.vm, PG(8), &si));
		ASSERT_FALSE(si.present && si.writable);
		/* Parent (host) write: COW, the guest follows the parent. */
		kt_host_write(t.h.mm, t.ram + PG(8), 2);
		ASSERT_EQ(kt_read(&t, 0, PG(8)), 2);
		ASSERT_EQ(kt_host_read(child, t.ram + PG(8)), 1);
		/* Guest write: COW in the parent, the child keeps its copy. */
		kt_write(&t, 0, PG(9), 11);
		ASSERT_EQ(kt_host_read(t.h.mm, t.ram + PG(9)), 11);
		ASSERT_EQ(kt_host_read(child, t.ram + PG(9)), 10);
		/* A child write is never seen by the guest. */
		kt_host_write(child, t.ram + PG(9), 12);
		ASSERT_EQ(kt_read(&t, 0, PG(9)), 11);
		hc_mmput(&t.h, child);
		ASSERT_EQ(kt_read(&t, 0, PG(9)), 11);
		kt_teardown(&t);
	}
}

TEST(dontneed_anon_zeroes_shmem_keeps)
{
	struct kt_env t;
	struct kvmmu_file *f;
	hva_t sh;

	kt_setup(&t, KVMMU_ARCH_X86, RAM_LEN, 1, false);
	kt_write(&t, 0, PG(10), 0xAA);
	ASSERT_OK(kvmmu_madvise(t.h.mm, t.ram + PG(10), PAGE_SIZE,
				MADV_DONTNEED));
	ASSERT_EQ(kt_read(&t, 0, PG(10)), 0);

	f = hc_memfd(&t.h, RAM_LEN);
	sh = hc_map(t.h.mm, 0, RAM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, f,
		    0);
	kt_slot(&t, 1, 0, 0x100000, RAM_LEN, sh);
	kt_write(&t, 0, 0x100000 + PG(2), 0xBB);
	ASSERT_OK(kvmmu_madvise(t.h.mm, sh + PG(2), PAGE_SIZE, MADV_DONTNEED));
	/* Zapped from stage 2 too, but the page cache keeps the data. */
	ASSERT_EQ(kvmmu_vm_stat(t.vm, "pages_4k"), 1);
	ASSERT_EQ(kt_read(&t, 0, 0x100000 + PG(2)), 0xBB);
	/* Punching the hole (REMOVE) does drop it. */
	ASSERT_OK(kvmmu_madvise(t.h.mm, sh + PG(2), PAGE_SIZE, MADV_REMOVE));
	ASSERT_EQ(kt_read(&t, 0, 0x100000 + PG(2)), 0);
	kt_teardown(&t);
}

TEST(hva_aliasing_two_slots)
{
	struct kt_env t;
	struct kvmmu_spte_info si;

	kt_setup(&t, KVMMU_ARCH_X86, RAM_LEN, 1, false);
	kt_slot(&t, 1, 0, 0x200000, RAM_LEN, t.ram); /* same HVAs */
	kt_write(&t, 0, PG(11), 0x11);
	ASSERT_EQ(kt_read(&t, 0, 0x200000 + PG(11)), 0x11);
	/* One host event reaches both slots' leaves. */
	kt_host_write(t.h.mm, t.ram + PG(11), 0x12);
	ASSERT_EQ(kt_read(&t, 0, PG(11)), 0x12);
	ASSERT_EQ(kt_read(&t, 0, 0x200000 + PG(11)), 0x12);
	ASSERT_OK(kvmmu_madvise(t.h.mm, t.ram + PG(11), PAGE_SIZE,
				MADV_DONTNEED));
	ASSERT_OK(kvmmu_vm_lookup_spte(t.vm, PG(11), &si));
	ASSERT_FALSE(si.present);
	ASSERT_OK(kvmmu_vm_lookup_spte(t.vm, 0x200000 + PG(11), &si));
	ASSERT_FALSE(si.present);
	ASSERT_EQ(kt_read(&t, 0, 0x200000 + PG(11)), 0);
	kt_teardown(&t);
}

TEST(readonly_slot_mmio_exact_data)
{
	enum kvmmu_arch a;

	for_each_arch(a) {
		struct kt_env t;
		hva_t ro;
		struct kvmmu_run *run;

		kt_setup(&t, a, 0, 1, false);
		ro = hc_anon(t.h.mm, 0, RAM_LEN);
		kt_host_write(t.h.mm, ro + PG(1) + 16, 0x0102030405060708ull);
		kt_slot(&t, 0, KVMMU_MEM_READONLY, 0x10000, RAM_LEN, ro);
		/* Reads see the host's data. */
		ASSERT_EQ(kt_read(&t, 0, 0x10000 + PG(1) + 16),
			  0x0102030405060708ull);
		/* A 4-byte write exits as MMIO with address, size, data. */
		ASSERT_OK(kvmmu_vcpu_write(t.vcpu[0], 0x10000 + PG(1) + 20, 4,
					   0xdeadbeef));
		run = run_of(&t);
		ASSERT_EQ(run->exit_reason, KVMMU_EXIT_MMIO);
		ASSERT_EQ(run->mmio.phys_addr, 0x10000 + PG(1) + 20);
		ASSERT_EQ(run->mmio.len, 4);
		ASSERT_TRUE(run->mmio.is_write);
		ASSERT_EQ(run->mmio.data[0], 0xef);
		ASSERT_EQ(run->mmio.data[1], 0xbe);
		ASSERT_EQ(run->mmio.data[2], 0xad);
		ASSERT_EQ(run->mmio.data[3], 0xde);
		ASSERT_EQ(run->mmio.data[4], 0);
		/* Memory unchanged. */
		ASSERT_EQ(kt_host_read(t.h.mm, ro + PG(1) + 16),
			  0x0102030405060708ull);
		kt_teardown(&t);
	}
}

TEST(no_slot_is_mmio_and_read_data_comes_from_vmm)
{
	struct kt_env t;
	struct kvmmu_guest_insn prog[] = {
		{ .op = KVMMU_GOP_READ, .size = 2, .reg = 0, .gpa = 0xfee00010 },
		{ .op = KVMMU_GOP_READ, .size = 8, .reg = 1, .gpa = PG(1) },
	};
	uint64_t res[2] = { 0, 0 };
	struct kvmmu_guest_prog p = { prog, 2, res, 2 };
	struct kvmmu_run *run;

	kt_setup(&t, KVMMU_ARCH_X86, RAM_LEN, 1, false);
	kt_host_write(t.h.mm, t.ram + PG(1), 99);
	ASSERT_OK(kvmmu_vcpu_set_prog(t.vcpu[0], &p));
	ASSERT_OK(kvmmu_vcpu_run(t.vcpu[0]));
	run = run_of(&t);
	ASSERT_EQ(run->exit_reason, KVMMU_EXIT_MMIO);
	ASSERT_EQ(run->mmio.phys_addr, 0xfee00010);
	ASSERT_EQ(run->mmio.len, 2);
	ASSERT_FALSE(run->mmio.is_write);
	run->mmio.data[0] = 0x34;
	run->mmio.data[1] = 0x12;
	ASSERT_OK(kvmmu_vcpu_run(t.vcpu[0]));
	ASSERT_EQ(run->exit_reason, KVMMU_EXIT_HLT);
	ASSERT_EQ(res[0], 0x1234);
	ASSERT_EQ(res[1], 99);
	kt_teardown(&t);
}

TEST(fill_verify_program_and_stats)
{
	enum kvmmu_arch a;

	for_each_arch(a) {
		struct kt_env t;
		struct kvmmu_guest_insn prog[] = {
			{ .op = KVMMU_GOP_FILL,
			  .gpa = 0,
			  .len = RAM_LEN,
			  .val = 42 },
			{ .op = KVMMU_GOP_VERIFY,
			  .gpa = 0,
			  .len = RAM_LEN,
			  .val = 42 },
		};
		struct kvmmu_guest_prog p = { prog, 2, NULL, 0 };
		uint64_t w;

		kt_setup(&t, a, RAM_LEN, 1, false);
		ASSERT_OK(kvmmu_vcpu_set_prog(t.vcpu[0], &p));
		ASSERT_OK(kvmmu_vcpu_run(t.vcpu[0]));
		ASSERT_EQ(run_of(&t)->exit_reason, KVMMU_EXIT_HLT);
		ASSERT_EQ(kvmmu_vm_stat(t.vm, "pf_fixed"), RAM_LEN / PAGE_SIZE);
		ASSERT_EQ(kvmmu_vm_stat(t.vm, "pages_4k"), RAM_LEN / PAGE_SIZE);
		w = kt_host_read(t.h.mm, t.ram + PG(9) + 8);
		ASSERT_EQ(w, kvmmu_pattern_word(42, PG(9) + 8));
		/* A host write makes the VERIFY fail at exactly that word. */
		kt_host_write(t.h.mm, t.ram + PG(9) + 8, 0);
		p.insns = &prog[1];
		p.n = 1;
		ASSERT_OK(kvmmu_vcpu_set_prog(t.vcpu[0], &p));
		ASSERT_OK(kvmmu_vcpu_run(t.vcpu[0]));
		ASSERT_EQ(run_of(&t)->exit_reason, KVMMU_EXIT_VERIFY_FAIL);
		ASSERT_EQ(run_of(&t)->verify.gpa, PG(9) + 8);
		ASSERT_EQ(run_of(&t)->verify.found, 0);
		kt_teardown(&t);
	}
}

TEST(destroy_releases_everything)
{
	struct kt_env t;
	struct kvmmu_guest_insn fill = {
		.op = KVMMU_GOP_FILL, .gpa = 0, .len = RAM_LEN, .val = 1
	};
	struct kvmmu_guest_prog p = { &fill, 1, NULL, 0 };

	kt_setup(&t, KVMMU_ARCH_ARM64, RAM_LEN, 2, false);
	ASSERT_OK(kvmmu_vcpu_set_prog(t.vcpu[1], &p));
	ASSERT_OK(kvmmu_vcpu_run(t.vcpu[1]));
	ASSERT_GT(kvmmu_vm_table_bytes(t.vm), 4 * PAGE_SIZE - 1);
	/* The mm goes first: its exit delivers release, zapping it all. */
	hc_mmput(&t.h, t.h.mm);
	ASSERT_EQ(kvmmu_vm_stat(t.vm, "pages_4k"), 0);
	kt_teardown(&t); /* audits: no frame in use */
}

/*
 * After release (the VMM's mm exited while the VM lives on) nothing can be
 * mapped again: a guest access finds no host memory behind its slot and
 * fails with EFAULT, the stage-2 table stays empty, and the checker finds
 * nothing wrong with that state.
 */
TEST(nothing_maps_after_release)
{
	struct kt_env t;
	uint64_t v = 0;
	int r;

	kt_setup(&t, KVMMU_ARCH_X86, RAM_LEN, 1, true);
	kt_write(&t, 0, PG(3), 0x33);
	ASSERT_EQ(kvmmu_vm_stat(t.vm, "pages_4k"), 1);
	hc_mmput(&t.h, t.h.mm);
	ASSERT_EQ(kvmmu_vm_stat(t.vm, "pages_4k"), 0);
	r = kvmmu_vcpu_read(t.vcpu[0], PG(3), 8, &v);
	ASSERT_EQ(r, -EFAULT);
	ASSERT_EQ(run_of(&t)->exit_reason, KVMMU_EXIT_MEMORY_FAULT);
	r = kvmmu_vcpu_write(t.vcpu[0], PG(5), 8, 1);
	ASSERT_EQ(r, -EFAULT);
	ASSERT_EQ(kvmmu_vm_stat(t.vm, "pages_4k"), 0);
	ASSERT_EQ(kvmmu_check_vm(t.vm), 0);
	kt_teardown(&t);
}

TEST_HARNESS_MAIN
