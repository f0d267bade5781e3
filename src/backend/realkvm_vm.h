/* SPDX-License-Identifier: MIT */
/*
 * The real-KVM backend's VM, guest and vCPUs (realkvm.c, realkvm_guest.c,
 * realkvm_vcpu.c, realkvm_stats.c): private to those files.
 *
 * The guest.  KVM here may be PVM with a shadow MMU, where only guest code
 * at CPL3 in 64-bit mode runs on the CPU (CPL0 code is emulated and never
 * exercises the MMU).  So every vCPU starts directly in long mode at CPL3,
 * set up through KVM_SET_SREGS; no CPL0 instruction ever runs.
 *
 * Guest-physical layout:
 *
 *   [0, 64 GiB)          the scenario's: identity-mapped with 2 MiB pages
 *                        (present, writable, user, accessed, dirty), so a
 *                        guest access at virtual address X is at GPA X
 *   [64 GiB, 65 GiB)     reserved (RK_PRIV_GPA, RK_PRIV_SPAN), mapped the
 *                        same way; memslot RK_PRIV_SLOT covers its start:
 *     +0x000000          PML4
 *     +0x001000          PDPT
 *     +0x002000          65 page directories ([0, 65 GiB))
 *     +0x043000          GDT
 *     +0x044000          64-bit TSS with an I/O permission bitmap
 *     +0x200000 + i*RK_CODE_SIZE   vCPU i's code (huge pages if the
 *                        kernel gives them: KVM maps them 2M)
 *
 * The private memory is one anonymous mapping with MADV_DONTFORK, so a
 * scenario's fork neither copies it nor makes it copy-on-write.
 *
 * A vCPU program is compiled to x86-64 code (realkvm_guest.c).  Register
 * use: RBX holds the guest-physical address of every access (the efault
 * address), R15 the last READ's value, R14 the outer loop count; FILL and
 * VERIFY use RCX (end), RDX (seed), RAX (expected word), R9 (found word),
 * R8 and R10-R12 (the pattern's constants); TOUCH uses RCX (end) and RAX
 * (the value written).  The program ends with an OUT to RK_PORT_DONE (and
 * repeats it if run again); a VERIFY mismatch does an OUT to
 * RK_PORT_VERIFY and goes on with the next word when run again.  RFLAGS
 * says IOPL 3, but PVM runs user mode with the hardware's IOPL 0 (and
 * reports that after a run): the OUTs pass because the TSS's I/O bitmap
 * allows these two ports.
 */
#ifndef KVMMU_BACKEND_REALKVM_VM_H
#define KVMMU_BACKEND_REALKVM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvm_compat.h"
#include "realkvm.h"

#define RK_MAX_VCPUS   64
#define RK_PRIV_SLOT   32763 /* the last user slot id of x86 (32764 slots) */
#define RK_PRIV_GPA    (64ull << 30)
#define RK_PRIV_SPAN   (1ull << 30) /* what scenario slots must not touch */
#define RK_IDMAP_END   RK_PRIV_GPA  /* scenario accesses stay below this */
#define RK_CODE_OFF    0x200000ull  /* its own 2 MiB (THP) */
#define RK_CODE_SIZE   (256u << 10) /* bytes of code per vCPU */
#define RK_PORT_DONE   0xf0
#define RK_PORT_VERIFY 0xf1
#define RK_RUN_TIMEOUT 60 /* seconds one vcpu_run may take */

/* One binary statistics file (KVM_GET_STATS_FD) and its descriptors. */
struct rk_stat_desc {
	char name[64];
	uint32_t offset; /* bytes into the data block */
	uint32_t type;	 /* KVM_STATS_TYPE_CUMULATIVE/INSTANT/PEAK */
};

struct rk_statfd {
	int fd;
	unsigned int n;
	struct rk_stat_desc *desc;
	uint32_t data_offset, data_size;
	uint64_t *buf; /* data_size bytes */
};

/* What the next KVM_RUN must complete first (after an exit to us). */
enum rk_pending {
	RK_PEND_NONE,
	RK_PEND_IO,	    /* an OUT to one of our ports */
	RK_PEND_MMIO_READ,  /* needs the data: vcpu_mmio_reply() */
	RK_PEND_MMIO_WRITE, /* nothing to give */
};

#define RK_KICK	   (1u << 0) /* vcpu_kick() */
#define RK_TIMEOUT (1u << 1) /* the watchdog: RK_RUN_TIMEOUT passed */

struct rk_vcpu {
	int fd;
	struct kvm_run *run; /* the shared page(s), run_size bytes */
	size_t run_size;
	struct rk_statfd stats;
	uint8_t *code;		 /* RK_CODE_SIZE bytes of private memory */
	uint64_t code_gpa;	 /* where the guest sees them */
	enum rk_pending pending; /* the running thread's only */

	/* Protected by lock: who runs the vCPU, and why it must stop. */
	pthread_mutex_t lock;
	bool running;	   /* inside KVM_RUN (or about to enter it) */
	pthread_t tid;	   /* the thread doing so */
	unsigned int kick; /* RK_KICK | RK_TIMEOUT */
	double start;	   /* when the current vcpu_run began */
};

struct rk_vm {
	int kvm_fd, vm_fd;
	size_t run_size;
	bool has_region2;   /* KVM_CAP_USER_MEMORY2 */
	unsigned int nr_as; /* address spaces (KVM_CAP_MULTI_ADDRESS_SPACE) */
	unsigned int maxphyaddr;
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID */
	uint8_t *priv;		  /* the private memory */
	uint64_t priv_size;
	bool priv_slot; /* RK_PRIV_SLOT is set */
	struct rk_statfd stats;
	char taint[32];	       /* /proc/sys/kernel/tainted at create */
	unsigned int nr_vcpus; /* written under wd_lock (the watchdog reads) */
	struct rk_vcpu vcpu[RK_MAX_VCPUS];

	/* The watchdog thread that bounds every vcpu_run. */
	pthread_t watchdog;
	bool watchdog_on;
	pthread_mutex_t wd_lock;
	pthread_cond_t wd_cond;
	bool wd_stop; /* protected by wd_lock */
};

static inline struct rk_vm *rk_vm_of(struct kvmmu_backend *be)
{
	return to_rk(be)->vm;
}

/* --- realkvm_guest.c ------------------------------------------------------ */

/*
 * Set up the guest's private memory, its memslot and the supported CPUID.
 * Return: 0, -EOPNOTSUPP (skip reason set), or -errno.
 * Context: creation only.  rk_guest_fini() undoes it (idempotent).
 */
int rk_guest_init(struct kvmmu_backend *be, struct rk_vm *vm);
void rk_guest_fini(struct rk_vm *vm);
/*
 * CPUID, long mode at CPL3 through KVM_SET_SREGS, and a first run of an
 * empty program (it maps the code page; it checks the guest runs here).
 * Return: 0, -EOPNOTSUPP (the guest does not run; skip reason set), or
 * the kernel's -errno.  Context: creation; to_rk(be)->vm is @vm.
 */
int rk_guest_vcpu_init(struct kvmmu_backend *be, struct rk_vm *vm,
		       unsigned int i);
/* Whether a slot of address space 0 at [@gpa, @gpa + @size) touches ours. */
bool rk_guest_range_reserved(uint64_t gpa, uint64_t size);
/* The vcpu_load op (backend.h). */
int rk_vcpu_load(struct kvmmu_backend *be, unsigned int vcpu,
		 const struct kvmmu_be_op *ops, unsigned int n, uint64_t loops);

/* --- realkvm_vcpu.c ------------------------------------------------------- */

/* KVM_CREATE_VCPU @i, map its run page, init its lock.  Return: 0/-errno. */
int rk_vcpu_create(struct rk_vm *vm, unsigned int i);
void rk_vcpu_destroy(struct rk_vcpu *v);
/*
 * Let the next KVM_RUN finish a pending I/O or MMIO exit without running
 * any further guest instruction (immediate_exit), so that the registers
 * can be replaced.  Return: 0 or -errno.  Context: @v is not running.
 */
int rk_vcpu_settle(struct rk_vcpu *v);
/* KVM_GET_SREGS / KVM_GET_REGS, for tests (CPL3, IOPL).  Return: 0 or
 * -errno.  Context: @vcpu is not running. */
int rk_vcpu_sregs(struct kvmmu_backend *be, unsigned int vcpu,
		  struct kvm_sregs *out);
int rk_vcpu_regs(struct kvmmu_backend *be, unsigned int vcpu,
		 struct kvm_regs *out);
int rk_vcpu_run(struct kvmmu_backend *be, unsigned int vcpu,
		struct kvmmu_be_exit *exit);
int rk_vcpu_mmio_reply(struct kvmmu_backend *be, unsigned int vcpu,
		       uint64_t data);
void rk_vcpu_kick(struct kvmmu_backend *be, unsigned int vcpu);
/* Start / stop the watchdog thread of @vm.  Return: 0 or -errno. */
int rk_watchdog_start(struct rk_vm *vm);
void rk_watchdog_stop(struct rk_vm *vm);

/* --- realkvm_stats.c ------------------------------------------------------ */

/* KVM_GET_STATS_FD on @fd (a VM or vCPU) and read its descriptors. */
int rk_stats_open(int fd, struct rk_statfd *s);
void rk_stats_close(struct rk_statfd *s);
/* /proc/sys/kernel/tainted into @buf ("?" if unreadable). */
void rk_taint_read(char *buf, size_t len);
int rk_stat(struct kvmmu_backend *be, const char *name, uint64_t *out);
void rk_stat_foreach(struct kvmmu_backend *be,
		     void (*fn)(void *arg, const char *name, uint64_t value),
		     void *arg);
int rk_check(struct kvmmu_backend *be, char *msg, size_t len);

#endif /* KVMMU_BACKEND_REALKVM_VM_H */
