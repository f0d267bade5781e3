// SPDX-License-Identifier: MIT
/*
 * The real-KVM backend's guest: private memory with the page tables, GDT
 * and TSS, the vCPUs' initial state (long mode at CPL3, set through
 * KVM_SET_SREGS), and the compiler of vCPU programs to x86-64 code.  The
 * layout and the register convention are in realkvm_vm.h.
 *
 * Only CPL3 code ever runs: on PVM, CPL0 code would be emulated and never
 * touch the MMU under test.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <kvmmu/vcpu.h>

#include "realkvm_vm.h"

#define RK_PML4_OFF 0x000000ull
#define RK_PDPT_OFF 0x001000ull
#define RK_PD_OFF   0x002000ull /* 65 page directories */
#define RK_GDT_OFF  0x043000ull
#define RK_TSS_OFF  0x044000ull
#define RK_NR_PDS   (RK_PRIV_GPA / (1ull << 30) + 1)

#define RK_PRIV_SIZE (RK_CODE_OFF + (uint64_t)RK_MAX_VCPUS * RK_CODE_SIZE)

/* Page-table entries: present, writable, user, accessed (+ dirty, 2M). */
#define RK_PTE_TABLE 0x27ull
#define RK_PTE_2M    0xe7ull

/* GDT selectors: Linux's user ones, since PVM runs user mode on them. */
#define RK_SEL_UDATA 0x2b /* index 5, RPL 3 */
#define RK_SEL_UCODE 0x33 /* index 6, RPL 3 */
#define RK_SEL_TSS   0x40 /* index 8 (16 bytes) */

/* TSS: 104 bytes, then an I/O bitmap for ports 0-255 and its end byte. */
#define RK_TSS_IOMAP 0x68
#define RK_TSS_LIMIT (RK_TSS_IOMAP + 32)

#define RK_RFLAGS (0x2ull | (3ull << 12)) /* reserved bit 1, IOPL 3 */

/* The pattern's multipliers (kvmmu_pattern_word(), src/vcpu/vcpu.c). */
#define RK_PAT_C1 0x9e3779b97f4a7c15ull
#define RK_PAT_C2 0xbf58476d1ce4e5b9ull
#define RK_PAT_C3 0x94d049bb133111ebull

bool rk_guest_range_reserved(uint64_t gpa, uint64_t size)
{
	uint64_t end = gpa + size;

	if (end < gpa) /* wraps: the kernel refuses it (EINVAL) */
		return false;
	return gpa < RK_PRIV_GPA + RK_PRIV_SPAN && end > RK_PRIV_GPA;
}

static int rk_get_cpuid(struct rk_vm *vm)
{
	unsigned int nent = 64, i;
	struct kvm_cpuid2 *c;
	int r;

	for (;;) {
		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (!ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c))
			break;
		r = -errno;
		free(c);
		if (r != -E2BIG || nent >= 4096)
			return r;
		nent *= 2;
	}
	vm->cpuid = c;
	vm->maxphyaddr = 36; /* without leaf 0x80000008 */
	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000008)
			vm->maxphyaddr = c->entries[i].eax & 0xff;
	return 0;
}

/* Identity map [0, RK_PRIV_GPA + 1 GiB) with 2 MiB pages; GDT; TSS. */
static void rk_build_tables(uint8_t *p)
{
	uint64_t *pml4 = (uint64_t *)(p + RK_PML4_OFF);
	uint64_t *pdpt = (uint64_t *)(p + RK_PDPT_OFF);
	uint64_t *gdt = (uint64_t *)(p + RK_GDT_OFF);
	uint64_t tss = RK_PRIV_GPA + RK_TSS_OFF;
	uint8_t *t = p + RK_TSS_OFF;
	uint64_t i, j;

	pml4[0] = (RK_PRIV_GPA + RK_PDPT_OFF) | RK_PTE_TABLE;
	for (i = 0; i < RK_NR_PDS; i++) {
		uint64_t *pd = (uint64_t *)(p + RK_PD_OFF + i * 4096);

		pdpt[i] = (RK_PRIV_GPA + RK_PD_OFF + i * 4096) | RK_PTE_TABLE;
		for (j = 0; j < 512; j++)
			pd[j] = (i << 30 | j << 21) | RK_PTE_2M;
	}
	gdt[1] = 0x00af9b000000ffffull; /* kernel code, 64-bit (unused) */
	gdt[2] = 0x00cf93000000ffffull; /* kernel data (unused) */
	gdt[4] = 0x00cffb000000ffffull; /* user code, 32-bit (unused) */
	gdt[5] = 0x00cff3000000ffffull; /* user data, DPL 3 */
	gdt[6] = 0x00affb000000ffffull; /* user code, 64-bit, DPL 3 */
	/* 64-bit TSS (available), limit RK_TSS_LIMIT */
	gdt[8] = RK_TSS_LIMIT | (tss & 0xffffff) << 16 | 0x89ull << 40 |
		 ((tss >> 24) & 0xff) << 56;
	gdt[9] = tss >> 32;
	/*
	 * PVM runs user mode with IOPL 0 whatever RFLAGS says, so the OUTs
	 * that end a program pass the TSS I/O bitmap: allow our two ports.
	 */
	t[0x66] = RK_TSS_IOMAP & 0xff;
	t[0x67] = RK_TSS_IOMAP >> 8;
	memset(t + RK_TSS_IOMAP, 0xff, 33);
	t[RK_TSS_IOMAP + RK_PORT_DONE / 8] &= ~(1u << (RK_PORT_DONE % 8));
	t[RK_TSS_IOMAP + RK_PORT_VERIFY / 8] &= ~(1u << (RK_PORT_VERIFY % 8));
}

/* RK_PRIV_SIZE bytes, 2 MiB aligned (as the GPA): NULL with errno. */
static uint8_t *rk_map_priv(void)
{
	const uint64_t huge = 2ull << 20;
	uint8_t *p, *a;

	p = mmap(NULL, RK_PRIV_SIZE + huge, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (uint8_t *)ALIGN((uintptr_t)p, huge);
	if (a > p)
		munmap(p, (size_t)(a - p));
	munmap(a + RK_PRIV_SIZE, (size_t)(p + huge - a));
	return a;
}

/*
 * rk_guest_init() - see realkvm_vm.h.
 * Return: 0; -EOPNOTSUPP (guest MAXPHYADDR too small for the layout);
 * -ENOMEM; the kernel's -errno for CPUID or the memslot.
 */
int rk_guest_init(struct kvmmu_backend *be, struct rk_vm *vm)
{
	struct kvm_userspace_memory_region slot = {
		.slot = RK_PRIV_SLOT,
		.guest_phys_addr = RK_PRIV_GPA,
		.memory_size = RK_PRIV_SIZE,
	};
	void *p;
	int r;

	r = rk_get_cpuid(vm);
	if (r)
		return r;
	if (vm->maxphyaddr < 64 &&
	    RK_PRIV_GPA + RK_PRIV_SPAN > (1ull << vm->maxphyaddr))
		return rk_skip(be,
			       "the guest's MAXPHYADDR (%u) is too small for "
			       "the kvm backend's layout (needs 37)",
			       vm->maxphyaddr);
	p = rk_map_priv();
	if (!p)
		return -errno;
	vm->priv = p;
	vm->priv_size = RK_PRIV_SIZE;
	if (madvise(p, RK_PRIV_SIZE, MADV_DONTFORK))
		return -errno;
	/*
	 * The code in transparent huge pages where the kernel has them:
	 * then KVM maps it with 2 MiB entries, and pages_4k counts only the
	 * scenario's memory.  The tables stay in 4 KiB pages (KVM
	 * write-protects guest page tables, which forbids a 2 MiB entry).
	 */
	madvise(p, RK_CODE_OFF, MADV_NOHUGEPAGE);
	madvise(p + RK_CODE_OFF, RK_PRIV_SIZE - RK_CODE_OFF, MADV_HUGEPAGE);
	rk_build_tables(p);
	slot.userspace_addr = (uint64_t)(uintptr_t)p;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot))
		return -errno;
	vm->priv_slot = true;
	return 0;
}

/* Context: the VM fd is closed (or the slot is no longer needed). */
void rk_guest_fini(struct rk_vm *vm)
{
	if (vm->priv)
		munmap(vm->priv, vm->priv_size);
	vm->priv = NULL;
	vm->priv_slot = false;
}

static void rk_seg(struct kvm_segment *s, uint16_t sel, uint8_t type,
		   bool code64)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = 3;
	s->s = 1;
	s->l = code64;
	s->db = !code64;
	s->g = 1;
}

/* --- code generation --------------------------------------------------- */

struct rk_emit {
	uint8_t *buf; /* NULL: only count */
	size_t len, cap;
};

static void emit(struct rk_emit *e, const void *bytes, size_t n)
{
	if (e->buf && e->len + n <= e->cap)
		memcpy(e->buf + e->len, bytes, n);
	e->len += n;
}

static void emit1(struct rk_emit *e, uint8_t b)
{
	emit(e, &b, 1);
}

#define EMIT(e, ...)                                         \
	do {                                                 \
		static const uint8_t b_[] = { __VA_ARGS__ }; \
		emit(e, b_, sizeof(b_));                     \
	} while (0)

/* Little endian, whatever the host. */
static void emit_imm(struct rk_emit *e, uint64_t v, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++)
		emit1(e, (uint8_t)(v >> (8 * i)));
}

/* mov r64, imm64 (register number 0-15) */
static void emit_mov_imm64(struct rk_emit *e, unsigned int reg, uint64_t v)
{
	emit1(e, 0x48 | (reg >> 3));
	emit1(e, 0xb8 + (reg & 7));
	emit_imm(e, v, 8);
}

enum {
	RAX = 0,
	RCX = 1,
	RDX = 2,
	RBX = 3,
	R10 = 10,
	R11 = 11,
	R12 = 12,
	R14 = 14
};

/* A jump back to @target with a rel32 (jcc: 0F @op). */
static void emit_jcc_back(struct rk_emit *e, uint8_t op, size_t target)
{
	int64_t rel;

	emit1(e, 0x0f);
	emit1(e, op);
	rel = (int64_t)target - (int64_t)(e->len + 4);
	emit_imm(e, (uint64_t)rel, 4);
}

/* RAX = kvmmu_pattern_word(RDX, RBX); clobbers R8. */
static void emit_pattern(struct rk_emit *e)
{
	EMIT(e, 0x48, 0x89, 0xd8);	 /* mov rax, rbx */
	EMIT(e, 0x49, 0x0f, 0xaf, 0xc2); /* imul rax, r10 */
	EMIT(e, 0x48, 0x31, 0xd0);	 /* xor rax, rdx */
	EMIT(e, 0x49, 0x89, 0xc0);	 /* mov r8, rax */
	EMIT(e, 0x49, 0xc1, 0xe8, 30);	 /* shr r8, 30 */
	EMIT(e, 0x4c, 0x31, 0xc0);	 /* xor rax, r8 */
	EMIT(e, 0x49, 0x0f, 0xaf, 0xc3); /* imul rax, r11 */
	EMIT(e, 0x49, 0x89, 0xc0);	 /* mov r8, rax */
	EMIT(e, 0x49, 0xc1, 0xe8, 27);	 /* shr r8, 27 */
	EMIT(e, 0x4c, 0x31, 0xc0);	 /* xor rax, r8 */
	EMIT(e, 0x49, 0x0f, 0xaf, 0xc4); /* imul rax, r12 */
	EMIT(e, 0x49, 0x89, 0xc0);	 /* mov r8, rax */
	EMIT(e, 0x49, 0xc1, 0xe8, 31);	 /* shr r8, 31 */
	EMIT(e, 0x4c, 0x31, 0xc0);	 /* xor rax, r8 */
}

static void emit_range(struct rk_emit *e, const struct kvmmu_be_op *op)
{
	size_t top;

	emit_mov_imm64(e, RBX, op->gpa);
	emit_mov_imm64(e, RCX, op->gpa + op->size);
	emit_mov_imm64(e, RDX, op->seed);
	top = e->len;
	emit_pattern(e);
	if (op->kind == KVMMU_BE_FILL) {
		EMIT(e, 0x48, 0x89, 0x03); /* mov [rbx], rax */
	} else {
		EMIT(e, 0x4c, 0x8b, 0x0b);     /* mov r9, [rbx] */
		EMIT(e, 0x49, 0x39, 0xc1);     /* cmp r9, rax */
		EMIT(e, 0x74, 0x02);	       /* je +2 */
		EMIT(e, 0xe6, RK_PORT_VERIFY); /* out VERIFY, al */
	}
	EMIT(e, 0x48, 0x83, 0xc3, 0x08); /* add rbx, 8 */
	EMIT(e, 0x48, 0x39, 0xcb);	 /* cmp rbx, rcx */
	emit_jcc_back(e, 0x82, top);	 /* jb top */
}

/* One 8-byte access at the start of every page of the range. */
static void emit_touch(struct rk_emit *e, const struct kvmmu_be_op *op)
{
	size_t top;

	emit_mov_imm64(e, RBX, op->gpa);
	emit_mov_imm64(e, RCX, op->gpa + op->size);
	if (op->write)
		emit_mov_imm64(e, RAX, op->value);
	top = e->len;
	if (op->write)
		EMIT(e, 0x48, 0x89, 0x03); /* mov [rbx], rax */
	else
		EMIT(e, 0x4c, 0x8b, 0x3b);		   /* mov r15, [rbx] */
	EMIT(e, 0x48, 0x81, 0xc3, 0x00, 0x10, 0x00, 0x00); /* add rbx, 4096 */
	EMIT(e, 0x48, 0x39, 0xcb);			   /* cmp rbx, rcx */
	emit_jcc_back(e, 0x82, top);			   /* jb top */
}

static void emit_op(struct rk_emit *e, const struct kvmmu_be_op *op)
{
	switch (op->kind) {
	case KVMMU_BE_READ:
		emit_mov_imm64(e, RBX, op->gpa);
		switch (op->width) {
		case 1:
			EMIT(e, 0x44, 0x0f, 0xb6,
			     0x3b); /* movzx r15d, b[rbx] */
			break;
		case 2:
			EMIT(e, 0x44, 0x0f, 0xb7,
			     0x3b); /* movzx r15d, w[rbx] */
			break;
		case 4:
			EMIT(e, 0x44, 0x8b, 0x3b); /* mov r15d, [rbx] */
			break;
		default:
			EMIT(e, 0x4c, 0x8b, 0x3b); /* mov r15, [rbx] */
			break;
		}
		break;
	case KVMMU_BE_WRITE:
		emit_mov_imm64(e, RBX, op->gpa);
		switch (op->width) {
		case 1:
			EMIT(e, 0xc6, 0x03); /* mov byte [rbx], imm8 */
			emit_imm(e, op->value, 1);
			break;
		case 2:
			EMIT(e, 0x66, 0xc7, 0x03); /* mov word [rbx], imm16 */
			emit_imm(e, op->value, 2);
			break;
		case 4:
			EMIT(e, 0xc7, 0x03); /* mov dword [rbx], imm32 */
			emit_imm(e, op->value, 4);
			break;
		default:
			emit_mov_imm64(e, RAX, op->value);
			EMIT(e, 0x48, 0x89, 0x03); /* mov [rbx], rax */
			break;
		}
		break;
	case KVMMU_BE_FILL:
	case KVMMU_BE_VERIFY:
		emit_range(e, op);
		break;
	case KVMMU_BE_TOUCH:
		emit_touch(e, op);
		break;
	}
}

/* The whole program; returns its length (it fits if <= e->cap). */
static size_t emit_prog(struct rk_emit *e, const struct kvmmu_be_op *ops,
			unsigned int n, uint64_t loops)
{
	size_t top;
	unsigned int i;

	emit_mov_imm64(e, R10, RK_PAT_C1);
	emit_mov_imm64(e, R11, RK_PAT_C2);
	emit_mov_imm64(e, R12, RK_PAT_C3);
	emit_mov_imm64(e, R14, loops);
	EMIT(e, 0x45, 0x31, 0xff); /* xor r15d, r15d */
	top = e->len;
	for (i = 0; i < n; i++)
		emit_op(e, &ops[i]);
	if (n && loops > 1) {
		EMIT(e, 0x49, 0xff, 0xce);   /* dec r14 */
		emit_jcc_back(e, 0x85, top); /* jnz top */
	}
	EMIT(e, 0xe6, RK_PORT_DONE); /* done: out DONE, al */
	EMIT(e, 0xeb, 0xfc);	     /* jmp done: DONE again if run again */
	return e->len;
}

/* --- loading a program ------------------------------------------------- */

/* The model's rules (src/vcpu/vcpu.c insn_valid()): 0 or -EINVAL. */
static int rk_op_valid(const struct kvmmu_be_op *op)
{
	switch (op->kind) {
	case KVMMU_BE_READ:
	case KVMMU_BE_WRITE:
		if (op->width != 1 && op->width != 2 && op->width != 4 &&
		    op->width != 8)
			return -EINVAL;
		/* one access never crosses a page */
		return (op->gpa & 4095) + op->width <= 4096 ? 0 : -EINVAL;
	case KVMMU_BE_FILL:
	case KVMMU_BE_VERIFY:
		return !(op->gpa & 7) && !(op->size & 7) && op->size ? 0 :
								       -EINVAL;
	case KVMMU_BE_TOUCH:
		return 0; /* checked with the sizes */
	}
	return -EINVAL;
}

/* How many instructions the model makes of @op (its -E2BIG limit). */
static uint64_t rk_model_insns(const struct kvmmu_be_op *op)
{
	switch (op->kind) {
	case KVMMU_BE_TOUCH:
		return op->size >> 12;
	case KVMMU_BE_FILL:
	case KVMMU_BE_VERIFY:
		return (op->size + (1ull << 30) - 1) >> 30;
	default:
		return 1;
	}
}

static bool rk_op_beyond(const struct kvmmu_be_op *op)
{
	uint64_t len = op->kind == KVMMU_BE_READ || op->kind == KVMMU_BE_WRITE ?
			       op->width :
			       op->size;

	if (op->kind == KVMMU_BE_TOUCH) /* the last access */
		len = op->size - 4096 + 8;

	return op->gpa >= RK_IDMAP_END || len > RK_IDMAP_END - op->gpa;
}

/* On the first load, the vCPU's initial state; then only the registers. */
static int rk_set_regs(struct rk_vcpu *v)
{
	struct kvm_regs regs;

	memset(&regs, 0, sizeof(regs));
	regs.rip = v->code_gpa;
	regs.rsp = v->code_gpa + RK_CODE_SIZE; /* unused: no push, no call */
	regs.rflags = RK_RFLAGS;
	return ioctl(v->fd, KVM_SET_REGS, &regs) ? -errno : 0;
}

/*
 * rk_vcpu_load() - ops->vcpu_load: check the program as the model does,
 * compile it into the vCPU's code area and point RIP at it.
 * Return: 0; -EINVAL (bad vCPU, loops 0 or > 2^32-1, a FILL/VERIFY/TOUCH
 * of 0 bytes, a bad width, an access that crosses a page, an unaligned
 * FILL/VERIFY, a TOUCH not page aligned); -E2BIG (the model's limit of
 * 2^20 instructions, or more code than RK_CODE_SIZE); -EOPNOTSUPP (an
 * access beyond the identity map, skip reason set); -errno of KVM.
 * Nothing changes on error.
 * Context: @vcpu is not running.
 */
int rk_vcpu_load(struct kvmmu_backend *be, unsigned int vcpu,
		 const struct kvmmu_be_op *ops, unsigned int n, uint64_t loops)
{
	struct rk_vm *vm = rk_vm_of(be);
	struct rk_emit e = { .buf = NULL };
	uint64_t total = 1; /* the model's LOOP */
	struct rk_vcpu *v;
	unsigned int i;
	int r;

	if (vcpu >= vm->nr_vcpus || !loops || loops > UINT32_MAX || (n && !ops))
		return -EINVAL;
	v = &vm->vcpu[vcpu];
	for (i = 0; i < n; i++) {
		const struct kvmmu_be_op *op = &ops[i];

		if ((op->kind == KVMMU_BE_FILL || op->kind == KVMMU_BE_VERIFY ||
		     op->kind == KVMMU_BE_TOUCH) &&
		    !op->size)
			return -EINVAL;
		if (op->kind == KVMMU_BE_TOUCH && ((op->gpa | op->size) & 4095))
			return -EINVAL;
		total += rk_model_insns(op);
		if (total > (1u << 20))
			return -E2BIG;
	}
	if (emit_prog(&e, ops, n, loops) > RK_CODE_SIZE)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		r = rk_op_valid(&ops[i]);
		if (r)
			return r;
	}
	for (i = 0; i < n; i++)
		if (rk_op_beyond(&ops[i]))
			return rk_skip(be,
				       "the kvm backend's guest maps GPAs "
				       "below %#llx only (access at %#llx)",
				       (unsigned long long)RK_IDMAP_END,
				       (unsigned long long)ops[i].gpa);
	r = rk_vcpu_settle(v);
	if (r)
		return r;
	e = (struct rk_emit){ .buf = v->code, .cap = RK_CODE_SIZE };
	emit_prog(&e, ops, n, loops);
	r = rk_set_regs(v);
	if (r)
		return r;
	v->pending = RK_PEND_NONE;
	return 0;
}

/*
 * rk_guest_vcpu_init() - see realkvm_vm.h.  CS 64-bit with DPL 3 set
 * before the first run is what makes PVM start the vCPU in user mode.
 * The first run maps the code page, so that a scenario's first access
 * counts only its own shadow fault.
 */
int rk_guest_vcpu_init(struct kvmmu_backend *be, struct rk_vm *vm,
		       unsigned int i)
{
	struct rk_vcpu *v = &vm->vcpu[i];
	struct kvmmu_be_exit x;
	struct rk_emit e;
	struct kvm_sregs s;
	int r;

	if (ioctl(v->fd, KVM_SET_CPUID2, vm->cpuid))
		return -errno;
	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		return -errno;
	rk_seg(&s.cs, RK_SEL_UCODE, 11, true); /* execute/read, accessed */
	rk_seg(&s.ss, RK_SEL_UDATA, 3, false); /* read/write, accessed */
	s.ds = s.es = s.fs = s.gs = s.ss;
	memset(&s.tr, 0, sizeof(s.tr));
	s.tr.base = RK_PRIV_GPA + RK_TSS_OFF;
	s.tr.limit = RK_TSS_LIMIT;
	s.tr.selector = RK_SEL_TSS;
	s.tr.type = 11; /* 64-bit TSS, busy */
	s.tr.present = 1;
	memset(&s.ldt, 0, sizeof(s.ldt));
	s.ldt.type = 2;
	s.ldt.unusable = 1;
	s.gdt.base = RK_PRIV_GPA + RK_GDT_OFF;
	s.gdt.limit = 10 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;    /* no exception may happen: it shuts down */
	s.cr0 = 0x80050033; /* PG AM WP NE ET MP PE */
	s.cr3 = RK_PRIV_GPA + RK_PML4_OFF;
	s.cr4 = 0x620;	/* OSXMMEXCPT OSFXSR PAE */
	s.efer = 0x501; /* LMA LME SCE */
	memset(s.interrupt_bitmap, 0, sizeof(s.interrupt_bitmap));
	if (ioctl(v->fd, KVM_SET_SREGS, &s))
		return -errno;
	v->code = vm->priv + RK_CODE_OFF + (uint64_t)i * RK_CODE_SIZE;
	v->code_gpa = RK_PRIV_GPA + RK_CODE_OFF + (uint64_t)i * RK_CODE_SIZE;
	e = (struct rk_emit){ .buf = v->code, .cap = RK_CODE_SIZE };
	emit_prog(&e, NULL, 0, 1);
	r = rk_set_regs(v);
	if (!r)
		r = rk_vcpu_run(be, i, &x);
	if (r || x.reason == KVMMU_BE_EXIT_DONE)
		return r;
	return rk_skip(be, "the CPL3 guest does not run here: exit %d%s%s",
		       (int)x.reason, x.detail[0] ? ", " : "", x.detail);
}
