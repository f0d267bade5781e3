/* SPDX-License-Identifier: MIT */
/*
 * vCPUs: threads that run a guest program against the VM's memory.
 *
 * A guest program is a list of instructions (read / write / fill / verify at
 * a guest-physical address, loops).  kvmmu_vcpu_run() is KVM_RUN: it runs the
 * program in the calling thread, in "guest mode", until something needs the
 * VMM: an MMIO access, a fault the host cannot resolve (-EFAULT), a
 * verification failure, the end of the program, or a kick.  Every access
 * goes through the vCPU's TLB, then a lockless walk of the stage-2 table,
 * then the fault handler, and moves real bytes in host frames.
 *
 * Concurrency: one thread runs a given vCPU at a time (as KVM_RUN);
 * different vCPUs run in parallel.  kvmmu_vcpu_kick() may be called from
 * any thread.
 */
#ifndef KVMMU_VCPU_H
#define KVMMU_VCPU_H

#include <stdint.h>
#include "kvm.h"

struct kvmmu_vcpu;

enum kvmmu_gop {
	KVMMU_GOP_READ,	  /* load size bytes (1,2,4,8) → results[reg] */
	KVMMU_GOP_WRITE,  /* store the low size bytes of val */
	KVMMU_GOP_FILL,	  /* write the pattern (seed val) over len bytes */
	KVMMU_GOP_VERIFY, /* check the pattern (seed val) over len bytes */
	KVMMU_GOP_COPY,	  /* read len bytes into the vCPU's page buffer */
	KVMMU_GOP_LOOP,	  /* jump to insn 'target' while --count > 0 */
	KVMMU_GOP_NR,
};

struct kvmmu_guest_insn {
	uint8_t op;   /* enum kvmmu_gop */
	uint8_t size; /* READ/WRITE: 1, 2, 4 or 8 */
	uint16_t reg; /* READ: index into results */
	uint32_t len; /* FILL/VERIFY/COPY: bytes; LOOP: iterations */
	uint64_t gpa; /* LOOP: target instruction index */
	uint64_t val; /* WRITE: value; FILL/VERIFY: pattern seed */
};

/*
 * The pattern a FILL writes and a VERIFY expects: 8-byte words that are a
 * function of the seed and the word's guest-physical address, so a word in
 * the wrong place or from the wrong round never passes.
 */
uint64_t kvmmu_pattern_word(uint64_t seed, gpa_t gpa);

struct kvmmu_guest_prog {
	const struct kvmmu_guest_insn *insns;
	uint32_t n;
	uint64_t *results; /* READ destinations; may be NULL if none */
	uint32_t nr_results;
};

enum kvmmu_exit_reason {
	KVMMU_EXIT_HLT = 1,	   /* program finished */
	KVMMU_EXIT_MMIO,	   /* access outside RAM or a RO-slot write */
	KVMMU_EXIT_MEMORY_FAULT,   /* with run() returning -EFAULT */
	KVMMU_EXIT_VERIFY_FAIL,	   /* a VERIFY found a wrong word */
	KVMMU_EXIT_INTR,	   /* kicked (kvmmu_vcpu_kick) */
	KVMMU_EXIT_INTERNAL_ERROR, /* a bad instruction */
};

/* What the VMM sees after kvmmu_vcpu_run() returns (struct kvm_run). */
struct kvmmu_run {
	uint32_t exit_reason;
	union {
		struct {
			uint64_t phys_addr;
			uint8_t data[8]; /* write: the data; read: fill in */
			uint32_t len;
			uint8_t is_write;
		} mmio;
		struct {
			uint64_t gpa, size;
			bool write;
		} memory_fault;
		struct {
			uint64_t gpa, expected, found;
		} verify;
		struct {
			uint32_t insn;
		} internal;
	};
	uint32_t pc; /* index of the instruction that exited */
};

/**
 * kvmmu_vcpu_create() - KVM_CREATE_VCPU.
 * Return: 0, -EEXIST (id in use), -EINVAL (id >= 256), -ENOMEM.
 * Context: no vCPU of @vm is running.
 */
int kvmmu_vcpu_create(struct kvmmu_vm *vm, unsigned int id,
		      struct kvmmu_vcpu **out);
/* Freed by kvmmu_vm_destroy(); the vCPU must not be running. */

/**
 * kvmmu_vcpu_set_prog() - load a program and reset the pc to 0.  The
 * arrays must stay valid while the vCPU runs it.
 * Return: 0 or -EINVAL (an invalid instruction; nothing changed).
 * Context: the vCPU is not running.
 */
int kvmmu_vcpu_set_prog(struct kvmmu_vcpu *vcpu,
			const struct kvmmu_guest_prog *prog);

/**
 * kvmmu_vcpu_run() - KVM_RUN: run from the current pc until an exit,
 * described in *kvmmu_vcpu_run_state(vcpu).  After an MMIO read exit the
 * caller fills mmio.data and the next run completes the access with it; a
 * memory-fault exit leaves the vCPU on the access, so the next run retries
 * it (after the host fixed the mapping, say).
 * Return: 0, or -EFAULT with exit_reason KVMMU_EXIT_MEMORY_FAULT,
 * -EINTR with KVMMU_EXIT_INTR.
 * Context: blocks; one caller per vCPU at a time.
 */
int kvmmu_vcpu_run(struct kvmmu_vcpu *vcpu);
struct kvmmu_run *kvmmu_vcpu_run_state(struct kvmmu_vcpu *vcpu);

/** Make a running (or the next) kvmmu_vcpu_run() return -EINTR soon.
 * Context: any thread. */
void kvmmu_vcpu_kick(struct kvmmu_vcpu *vcpu);

/** The vCPU's statistics (pf_taken, pf_fixed, ...). */
struct kvmmu_stats *kvmmu_vcpu_stats(struct kvmmu_vcpu *vcpu);

/*
 * Run a one-instruction program: convenience for tests and the scenario
 * runner.  It replaces the loaded program (none is loaded afterwards).
 * Return and exit as kvmmu_vcpu_run(); an MMIO exit is reported, not
 * resolved; after a memory-fault exit, calling again retries the access.
 * *val receives a READ's value.
 */
int kvmmu_vcpu_read(struct kvmmu_vcpu *vcpu, gpa_t gpa, unsigned int size,
		    uint64_t *val);
int kvmmu_vcpu_write(struct kvmmu_vcpu *vcpu, gpa_t gpa, unsigned int size,
		     uint64_t val);

#endif /* KVMMU_VCPU_H */
