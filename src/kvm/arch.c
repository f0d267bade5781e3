// SPDX-License-Identifier: MIT
/*
 * Arch policies: what differs between x86 (EPT/NPT, TDP MMU), arm64
 * (stage 2) and MIPS (GPA page table) in the parts of the MMU modelled so
 * far.  One table per arch, chosen at VM creation; no #ifdefs and no weak
 * symbols.  Later issues add aging, dirty logging, huge pages, memory types
 * and guest_memfd rules as further fields.
 *
 * Models: kvm-mmu-protocol.md §1.7 (retry precision), §5.2 (arm64
 * user_mem_abort), §6.2 (MIPS kvm_mips_map_page), §7.1-7.3 (x86).
 */
#include "internal.h"

const struct kvmmu_arch_ops kvmmu_arch_ops[KVMMU_ARCH_NR] = {
	[KVMMU_ARCH_X86] = {
		.name = "x86",
		.nr_address_spaces = 2, /* normal + SMM */
		.nr_internal_slots = 3, /* TSS, identity map, APIC access */
		.gfn_precise_retry = true,
		.lockless_precheck = true,
		.retry_on_invalid_slot = true,
		.fault_read_lock = true, /* TDP MMU */
		.hw_accessed_dirty = true,
		.map_writable_clean = false,
		.flush_after_unmap = true,
	},
	[KVMMU_ARCH_ARM64] = {
		.name = "arm64",
		.nr_address_spaces = 1,
		.nr_internal_slots = 0,
		.gfn_precise_retry = false,
		.lockless_precheck = false,
		.retry_on_invalid_slot = false,
		.fault_read_lock = true, /* kvm_fault_lock() */
		.hw_accessed_dirty = false,
		.map_writable_clean = false,
		.flush_after_unmap = false, /* TLBI per entry inside unmap */
		.arch_flush_remote_tlbs = true, /* __kvm_tlb_flush_vmid */
	},
	[KVMMU_ARCH_MIPS] = {
		.name = "mips",
		.nr_address_spaces = 1,
		.nr_internal_slots = 0,
		.gfn_precise_retry = false,
		.lockless_precheck = false,
		.retry_on_invalid_slot = false,
		.fault_read_lock = false, /* spinlock */
		.hw_accessed_dirty = false,
		.map_writable_clean = true, /* writable but clean on read */
		.flush_after_unmap = true,
	},
};
