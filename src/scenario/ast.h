/* SPDX-License-Identifier: MIT */
/*
 * The parsed form of a scenario file: a tree of steps, produced by the
 * parser (parse.c) and executed by the runner (run.c) over a backend.
 *
 * The parser does every check that does not need the backend: commands,
 * argument names, value syntax and ranges, required and duplicate
 * arguments, names used before they are defined, vCPU indices against the
 * vm line, blocks that are not closed, spawns never joined.  The runner
 * then trusts the tree.
 *
 * Strings in the tree are owned by the scenario (freed with it).
 */
#ifndef KVMMU_SCENARIO_AST_H
#define KVMMU_SCENARIO_AST_H

#include <stdbool.h>
#include <stdint.h>
#include <kvmmu/host.h>
#include <kvmmu/kvm.h>

#define SC_MAX_NAME   32 /* bytes of a name, without the NUL */
#define SC_MAX_VCPUS  64 /* vm vcpus= */
#define SC_MAX_DEPTH  8	 /* nesting of repeat / spawn blocks */
#define SC_MAX_REPEAT 1000000
#define SC_MAX_SIZE   (1ull << 40) /* any size= argument */

/* An address: a mapping label plus an offset ("ram+0x1000"), or a number
 * (label NULL).  Labels are global: a forked child has the same HVAs. */
struct sc_addr {
	char *label;
	uint64_t off;
};

enum sc_kind {
	SC_VM, /* vm arch= vcpus= check= */
	/* host steps; each takes an optional mm=PROC (default: the VMM) */
	SC_HOST_MMAP,	  /* host mmap LABEL size= (anon|file=F|pfnmap) ... */
	SC_HOST_MUNMAP,	  /* host munmap ADDR size= */
	SC_HOST_MPROTECT, /* host mprotect ADDR size= prot= */
	SC_HOST_MREMAP,	  /* host mremap ADDR size= new_size= [to=] [maymove] */
	SC_HOST_MADVISE,  /* host madvise ADDR size= advice= */
	SC_HOST_KSM,	  /* host ksm_merge ADDR size= [expect shared=N] */
	SC_HOST_FORK,	  /* host fork PROC */
	SC_HOST_EXIT,	  /* host exit PROC */
	SC_HOST_MEMFD,	  /* host memfd FILE size= */
	SC_HOST_FTRUNCATE, /* host ftruncate FILE size= */
	SC_HOST_PUNCH,	   /* host punch FILE offset= size= */
	SC_HOST_WRITE,	   /* host write ADDR uN=V */
	SC_HOST_READ,	   /* host read ADDR [uN] expect uN=V */
	SC_HOST_FILL,	   /* host fill ADDR size= seed= [gpa=] */
	SC_HOST_VERIFY,	   /* host verify ADDR size= seed= [gpa=] */
	/* memslots: one KVM_SET_USER_MEMORY_REGION2 each */
	SC_SLOT,
	/* vCPU steps (vcpu N ...; inside spawn blocks without "vcpu N") */
	SC_VCPU_READ,	/* read gpa= [uN] [expect ...] */
	SC_VCPU_WRITE,	/* write gpa= uN=V [expect ...] */
	SC_VCPU_FILL,	/* fill gpa= size= seed= [expect ...] */
	SC_VCPU_VERIFY, /* verify gpa= size= seed= [expect ...] */
	SC_VCPU_RESUME, /* resume [expect ...]: re-run after an exit */
	/* background vCPU programs */
	SC_SPAWN, /* spawn NAME vcpu=N [loop=N] { read/write/fill/verify... } */
	SC_JOIN,  /* join NAME [expect ok|efault|mmio|verify] */
	/* checks */
	SC_CHECK,     /* check: run the checker over the quiescent VM */
	SC_STAT,      /* stat NAME (value|changed)OP N */
	SC_STAT_MARK, /* stat mark: the baseline for 'changed' */
	SC_REPEAT,    /* repeat N { ... } */
	SC_NR_KINDS,
};

enum sc_expect_kind {
	SC_EXP_OK,     /* the default: success, no exit */
	SC_EXP_ERRNO,  /* expect errno=EEXIST: the call fails with it */
	SC_EXP_VALUE,  /* expect u64=V: a read returns V (width in 'width') */
	SC_EXP_MMIO,   /* expect mmio [addr=] [len=] [data=] [reply=] */
	SC_EXP_EFAULT, /* expect efault: KVM_RUN fails -EFAULT on the access */
	SC_EXP_VERIFY, /* expect verify: a verify (or a join) found bad data */
	SC_EXP_SHARED, /* expect shared=N: ksm_merge left N pages sharing */
};

#define SC_EXP_LAST SC_EXP_SHARED

struct sc_expect {
	enum sc_expect_kind kind;
	int err;	    /* SC_EXP_ERRNO: positive errno */
	unsigned int width; /* SC_EXP_VALUE: 1, 2, 4 or 8 bytes */
	uint64_t value;	    /* SC_EXP_VALUE; SC_EXP_SHARED: N */
	/* SC_EXP_MMIO: each part optional (has_*) */
	bool has_addr, has_len, has_data, has_reply;
	uint64_t addr, data, reply; /* reply: data returned for an MMIO read */
	uint32_t len;
};

enum sc_op {
	SC_OP_EQ,
	SC_OP_NE,
	SC_OP_LT,
	SC_OP_LE,
	SC_OP_GT,
	SC_OP_GE
};

/* Slot step forms: all become one set_user_memory_region2 call. */
enum sc_slot_op {
	SC_SLOT_SET,	/* slot ID gpa= size= hva= [flags=] : raw ioctl */
	SC_SLOT_DELETE, /* slot ID delete            : size 0 */
	SC_SLOT_MOVE,	/* slot ID move gpa=         : same size/hva/flags */
	SC_SLOT_FLAGS,	/* slot ID flags=            : same gpa/size/hva */
};

struct sc_block {
	struct sc_step *steps;
	unsigned int n;
};

struct sc_step {
	enum sc_kind kind;
	unsigned int line, col; /* of the first word of the line */
	char *text;		/* the line as written, trimmed, no comment */
	struct sc_expect expect;
	char *mm; /* host steps: mm=PROC, NULL for the VMM process */
	/*
	 * "deviation REASON" on the line before (host, slot, vcpu, join, stat): a known difference between
	 * the model and the kernel.  The expectation (the model's) is judged
	 * on the model only, and a differential run does not compare the
	 * step's observations.  NULL: none.
	 */
	char *deviation;
	union {
		struct {
			enum kvmmu_arch arch; /* arch=x86|arm64|mips, def x86 */
			unsigned int vcpus;   /* 1..SC_MAX_VCPUS, def 1 */
			bool check;	      /* check=on|off, def on */
		} vm;
		struct {
			char *label;
			uint64_t size;
			bool shared; /* shared | private (default private) */
			char *file;  /* file=F (memfd), NULL: anon or pfnmap */
			bool pfnmap; /* pfnmap (device frames; shared) */
			enum kvmmu_memtype
				memtype; /* pfnmap memtype= wb|nc|device */
			uint64_t offset; /* file offset= */
			int prot;	 /* prot= def rw */
			bool has_at;
			uint64_t at;	/* at=HVA: MAP_FIXED */
			char *at_label; /* at=LABEL+OFF: 'at' is the offset */
			bool populate;	/* populate: MAP_POPULATE */
		} mmap;
		struct {
			struct sc_addr addr;
			uint64_t size;
			int prot;   /* mprotect */
			int advice; /* madvise: MADV_* */
		} range;
		struct {
			struct sc_addr addr;
			uint64_t size, new_size;
			bool maymove;
			bool has_to;
			struct sc_addr to; /* to=ADDR: MREMAP_FIXED|MAYMOVE */
		} mremap;
		struct {
			char *name; /* process (fork/exit) or file (memfd...) */
			uint64_t size, offset;
		} obj;
		struct {
			struct sc_addr addr;
			unsigned int width;  /* 1, 2, 4, 8 */
			uint64_t value;	     /* write */
			uint64_t size, seed; /* fill / verify */
			uint64_t basis; /* fill / verify gpa= (default 0): the
					   pattern a guest writes at that GPA */
		} hacc;
		struct {
			uint32_t id; /* ID, 0..65535; the ioctl slot is as << 16 | id */
			unsigned int as;
			enum sc_slot_op op;
			bool has_gpa, has_size, has_hva, has_flags;
			uint64_t gpa, size;
			struct sc_addr hva;
			uint32_t flags; /* KVMMU_MEM_* */
		} slot;
		struct {
			unsigned int
				vcpu; /* vcpu N; in spawn blocks: the spawn's */
			uint64_t gpa;
			unsigned int width;  /* read/write */
			uint64_t value;	     /* write */
			uint64_t size, seed; /* fill / verify */
		} vacc;
		struct {
			char *name;
			unsigned int vcpu;
			uint64_t loop; /* times the body runs, def 1 */
			struct sc_block
				body; /* SC_VCPU_{READ,WRITE,FILL,VERIFY} */
		} spawn;
		struct {
			char *name;
		} join;
		struct {
			char *name; /* a VM or vCPU statistic (kvm_stat names) */
			bool changed; /* since stat mark / the start */
			enum sc_op op;
			uint64_t value;
		} stat;
		struct {
			uint64_t count;
			struct sc_block body;
		} repeat;
	};
};

struct kvmmu_scenario {
	char *file;	   /* as given to the parser, for messages */
	struct sc_step vm; /* the vm line, or the defaults */
	bool has_vm;
	struct sc_block top;
};

/* Name of an errno (positive) as the scenario language spells it
 * ("EEXIST"), or NULL. */
const char *sc_errno_name(int err);

#endif /* KVMMU_SCENARIO_AST_H */
