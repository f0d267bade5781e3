/* SPDX-License-Identifier: MIT */
/*
 * Backends: what a scenario runs on.  The runner (src/scenario/run.c)
 * drives one through this ops table; the model backend (src/backend/
 * model.c) runs on kvmmu's own host and VM, and a backend for the real
 * /dev/kvm implements the same table with real system calls and ioctls.
 *
 * Everything a backend reports is observable behaviour: return values as
 * 0/-errno (the kernel's codes), values read, vCPU exits, statistics by
 * KVM's names.  Handles for processes and files are small integers the
 * backend chooses; process 0 is the VMM, which owns the VM.
 *
 * An operation a backend cannot express returns -EOPNOTSUPP and fills
 * be->skip_reason; the runner reports the step as SKIP with that reason.
 */
#ifndef KVMMU_BACKEND_H
#define KVMMU_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <kvmmu/host.h>
#include <kvmmu/kvm.h>

struct kvmmu_trace;

struct kvmmu_be_config {
	enum kvmmu_arch arch;
	unsigned int nr_vcpus;
	bool check; /* model: check mode (vet every TLB hit) */
};

/* One guest operation of a vCPU program. */
enum kvmmu_be_op_kind {
	KVMMU_BE_READ,
	KVMMU_BE_WRITE,
	KVMMU_BE_FILL,
	KVMMU_BE_VERIFY,
	KVMMU_BE_TOUCH, /* one 8-byte access per 4 KiB page (benchmarks) */
};

struct kvmmu_be_op {
	enum kvmmu_be_op_kind kind;
	uint64_t gpa;
	unsigned int width; /* READ/WRITE: 1, 2, 4, 8 */
	uint64_t value;	    /* WRITE */
	uint64_t size;	    /* FILL/VERIFY: bytes, a multiple of 8;
			     * TOUCH: a multiple of 4096 */
	bool write;	    /* TOUCH: write @value (else read) */
	uint64_t seed;	    /* FILL/VERIFY: kvmmu_pattern_word(seed, gpa) */
};

enum kvmmu_be_exit_reason {
	KVMMU_BE_EXIT_DONE,	/* the program ran to its end */
	KVMMU_BE_EXIT_MMIO,	/* an access no RAM backs (or a RO write) */
	KVMMU_BE_EXIT_EFAULT,	/* KVM_RUN -EFAULT; the vCPU stays on it */
	KVMMU_BE_EXIT_VERIFY,	/* a VERIFY found a wrong word */
	KVMMU_BE_EXIT_INTERNAL, /* anything else: see detail */
};

struct kvmmu_be_exit {
	enum kvmmu_be_exit_reason reason;
	uint64_t value; /* DONE: the last READ's value */
	struct {
		uint64_t addr, data; /* data: written bytes (little endian) */
		uint32_t len;
		bool is_write;
	} mmio;
	struct {
		uint64_t gpa, expected, found;
	} verify;
	uint64_t efault_gpa;
	char detail[160];
};

struct kvmmu_backend;

struct kvmmu_backend_ops {
	const char *name; /* "model", "kvm" */
	/*
	 * The scenario's expectations describe this backend (the model): a
	 * step marked "deviation REASON" is judged on it and forgiven on
	 * the others.
	 */
	bool reference;
	/* NULL if usable here, else why not ("no /dev/kvm"). */
	const char *(*unavailable)(void);
	/*
	 * Return: 0 and *out; -EOPNOTSUPP when this VM cannot be made here
	 * (e.g. an arm64 VM on x86), with *out either NULL or an instance
	 * that only holds skip_reason and must be destroyed; other -errno.
	 */
	int (*create)(const struct kvmmu_be_config *cfg,
		      struct kvmmu_backend **out);
	void (*destroy)(struct kvmmu_backend *be);
	/* Attach a trace (kvmmu_trace_open()); NULL detaches.  Optional. */
	void (*set_trace)(struct kvmmu_backend *be, struct kvmmu_trace *t);

	/* --- host: system calls of process @proc --- */
	int (*mmap)(struct kvmmu_backend *be, int proc, uint64_t addr,
		    uint64_t len, int prot, int flags, int file, uint64_t off,
		    uint64_t *out);
	/* device frames (remap_pfn_range), shared */
	int (*mmap_pfn)(struct kvmmu_backend *be, int proc, uint64_t addr,
			uint64_t len, int prot, int flags,
			enum kvmmu_memtype mt, uint64_t *out);
	int (*munmap)(struct kvmmu_backend *be, int proc, uint64_t addr,
		      uint64_t len);
	int (*mprotect)(struct kvmmu_backend *be, int proc, uint64_t addr,
			uint64_t len, int prot);
	int (*mremap)(struct kvmmu_backend *be, int proc, uint64_t old_addr,
		      uint64_t old_len, uint64_t new_len, int flags,
		      uint64_t new_addr, uint64_t *out);
	int (*madvise)(struct kvmmu_backend *be, int proc, uint64_t addr,
		       uint64_t len, int advice);
	/* Return: the child's handle (> 0) or -errno. */
	int (*fork)(struct kvmmu_backend *be, int proc);
	int (*exit)(struct kvmmu_backend *be, int proc);
	/* Return: a file handle (>= 0) or -errno. */
	int (*memfd)(struct kvmmu_backend *be, uint64_t size);
	int (*ftruncate)(struct kvmmu_backend *be, int file, uint64_t size);
	int (*punch_hole)(struct kvmmu_backend *be, int file, uint64_t off,
			  uint64_t len);
	int (*mem_read)(struct kvmmu_backend *be, int proc, uint64_t addr,
			void *buf, uint64_t len);
	int (*mem_write)(struct kvmmu_backend *be, int proc, uint64_t addr,
			 const void *buf, uint64_t len);
	/*
	 * KSM, now: merge the identical pages of @proc's MADV_MERGEABLE
	 * private anonymous memory in [@addr, @addr + @len), as ksmd would
	 * (each merge is a CLEAR invalidation that leaves one shared
	 * read-only frame).  Return: how many pages of the range share a
	 * frame with another page afterwards, or -errno (-ETIMEDOUT: the
	 * kernel's ksmd did not merge in time).  Optional.
	 */
	int (*ksm_merge)(struct kvmmu_backend *be, int proc, uint64_t addr,
			 uint64_t len);

	/* --- the VM --- */
	int (*set_memory_region)(struct kvmmu_backend *be,
				 const struct kvmmu_userspace_memory_region2 *r);
	/*
	 * Load a program on @vcpu: @ops run in order, the whole list @loops
	 * times (>= 1).  The arrays are copied.  Context: @vcpu is not running.
	 */
	int (*vcpu_load)(struct kvmmu_backend *be, unsigned int vcpu,
			 const struct kvmmu_be_op *ops, unsigned int n,
			 uint64_t loops);
	/*
	 * Run @vcpu until its program ends or it exits.  After an MMIO read
	 * exit, vcpu_mmio_reply() gives the data the next run completes the
	 * read with; after EFAULT the next run retries the access.
	 * Context: one caller per vCPU; different vCPUs may run in parallel
	 * with each other and with host operations.
	 * Return: 0 with *exit filled, or -errno if the backend failed.
	 */
	int (*vcpu_run)(struct kvmmu_backend *be, unsigned int vcpu,
			struct kvmmu_be_exit *exit);
	int (*vcpu_mmio_reply)(struct kvmmu_backend *be, unsigned int vcpu,
			       uint64_t data);
	/* Make a running (or the next) vcpu_run of @vcpu return soon with
	 * an INTERNAL exit.  Context: any thread. */
	void (*vcpu_kick)(struct kvmmu_backend *be, unsigned int vcpu);

	/* --- observation --- */
	/* A VM or (summed) vCPU statistic by KVM's name; -ENOENT if none. */
	int (*stat)(struct kvmmu_backend *be, const char *name, uint64_t *out);
	/* Call @fn for every statistic (VM, vCPUs summed, then "host.*"). */
	void (*stat_foreach)(struct kvmmu_backend *be,
			     void (*fn)(void *arg, const char *name,
					uint64_t value),
			     void *arg);
	/*
	 * Check the quiescent VM (the model's checker).  Return: the number
	 * of findings so far (0: clean; the first is described in @msg), or
	 * -EOPNOTSUPP.
	 */
	int (*check)(struct kvmmu_backend *be, char *msg, size_t len);
};

/* Every backend instance starts with this. */
struct kvmmu_backend {
	const struct kvmmu_backend_ops *ops;
	char skip_reason[128]; /* set with -EOPNOTSUPP */
};

/* The built-in backends, by name; NULL if unknown. */
const struct kvmmu_backend_ops *kvmmu_backend_find(const char *name);
/* Names of the built-in backends, NULL-terminated. */
extern const char *const kvmmu_backend_names[];

#endif /* KVMMU_BACKEND_H */
