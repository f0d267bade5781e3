// SPDX-License-Identifier: MIT
/*
 * The real-KVM backend's VM, guest and vCPUs on this machine's /dev/kvm,
 * driven through kvmmu_backend_find("kvm") and its ops (host memory is
 * plain mmap() of the test process).  Every test skips when /dev/kvm is
 * unusable here (exit 4 when all do), and checks that its backend leaves
 * no file descriptor or thread behind.
 *
 *   - the guest runs at CPL3, natively: a 10^6-iteration loop takes far
 *     less than an emulated one would, with a handful of faults at most;
 *   - a first touch of N pages the host never touched: N shadow faults;
 *   - host and guest see each other's writes;
 *   - MMIO exits: unbacked reads and writes, READONLY slots;
 *   - EFAULT on a PROT_READ mapping, resumed once it is writable again;
 *   - FILL then VERIFY, and a VERIFY exit on a corrupted word;
 *   - kicks, before and during a run;
 *   - two vCPUs filling and verifying at the same time;
 *   - the backend's own memslot and GPAs are refused (SKIP).
 */
#include <dirent.h>
#include <pthread.h>
#include <sys/mman.h>

#include <kvmmu/backend.h>
#include <kvmmu/vcpu.h>

#include "harness.h"
#include "backend/realkvm_vm.h"

#define PG  4096ull
#define MIB (1ull << 20)

struct env {
	const struct kvmmu_backend_ops *ops;
	struct kvmmu_backend *be;
	int fds, threads; /* before create */
};

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	ASSERT_TRUE(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void *nop_thread(void *arg)
{
	return arg;
}

static void setup(struct env *t, unsigned int nr_vcpus)
{
	struct kvmmu_be_config cfg = { .arch = KVMMU_ARCH_X86,
				       .nr_vcpus = nr_vcpus };
	const char *why;
	pthread_t tid;
	int r;

	t->ops = kvmmu_backend_find("kvm");
	ASSERT_TRUE(t->ops);
	why = t->ops->unavailable();
	if (why)
		SKIP("%s", why);
	/* A thread first, so that runtimes' lazy threads (TSan) are there. */
	ASSERT_EQ(pthread_create(&tid, NULL, nop_thread, NULL), 0);
	pthread_join(tid, NULL);
	t->fds = count_dir("/proc/self/fd");
	t->threads = count_dir("/proc/self/task");
	r = t->ops->create(&cfg, &t->be);
	if (r == -EOPNOTSUPP) {
		char reason[sizeof(t->be->skip_reason)];

		memcpy(reason, t->be->skip_reason, sizeof(reason));
		t->be->ops->destroy(t->be);
		SKIP("%s", reason);
	}
	ASSERT_OK(r);
}

static void teardown(struct env *t)
{
	t->ops->destroy(t->be);
	ASSERT_EQ(count_dir("/proc/self/fd"), t->fds);
	ASSERT_EQ(count_dir("/proc/self/task"), t->threads);
}

/* Anonymous private memory, no THP (4 KiB host pages: exact counts). */
static uint8_t *ram(uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static int slot(struct env *t, uint32_t id, uint32_t flags, uint64_t gpa,
		uint64_t len, void *hva)
{
	struct kvmmu_userspace_memory_region2 r = {
		.slot = id,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = len,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	return t->ops->set_memory_region(t->be, &r);
}

static struct kvmmu_be_op op_read(uint64_t gpa, unsigned int width)
{
	return (struct kvmmu_be_op){ .kind = KVMMU_BE_READ,
				     .gpa = gpa,
				     .width = width };
}

static struct kvmmu_be_op op_write(uint64_t gpa, unsigned int width, uint64_t v)
{
	return (struct kvmmu_be_op){
		.kind = KVMMU_BE_WRITE, .gpa = gpa, .width = width, .value = v
	};
}

/* Load one op, run, expect @reason; return the exit. */
static struct kvmmu_be_exit run1(struct env *t, struct kvmmu_be_op op,
				 enum kvmmu_be_exit_reason reason)
{
	struct kvmmu_be_exit e;

	ASSERT_OK(t->ops->vcpu_load(t->be, 0, &op, 1, 1));
	ASSERT_OK(t->ops->vcpu_run(t->be, 0, &e));
	if (e.reason == KVMMU_BE_EXIT_INTERNAL)
		TEST_LOG("internal exit: %s", e.detail);
	ASSERT_EQ(e.reason, reason);
	return e;
}

static uint64_t stat(struct env *t, const char *name)
{
	uint64_t v = 0;

	ASSERT_OK(t->ops->stat(t->be, name, &v));
	return v;
}

TEST(cpl3_native)
{
	struct kvmmu_be_op op = op_read(PG, 8);
	struct kvmmu_be_exit e;
	struct kvm_sregs s;
	struct kvm_regs regs;
	struct env t;
	uint8_t *m = ram(2 * MIB);
	uint64_t pf;
	double t0;

	setup(&t, 1);
	*(uint64_t *)(m + PG) = 0x1234;
	ASSERT_OK(slot(&t, 0, 0, 0, 2 * MIB, m));
	ASSERT_OK(t.ops->vcpu_load(t.be, 0, &op, 1, 1));
	ASSERT_OK(rk_vcpu_regs(t.be, 0, &regs));
	EXPECT_EQ((regs.rflags >> 12) & 3, 3); /* IOPL as loaded */
	ASSERT_OK(t.ops->vcpu_run(t.be, 0, &e));
	ASSERT_EQ(e.reason, KVMMU_BE_EXIT_DONE); /* an OUT at CPL3 */
	ASSERT_EQ(e.value, 0x1234);
	ASSERT_OK(rk_vcpu_sregs(t.be, 0, &s));
	EXPECT_EQ(s.cs.dpl, 3);
	EXPECT_EQ(s.ss.dpl, 3);
	EXPECT_EQ(s.cs.l, 1);
	EXPECT_TRUE(s.efer & (1u << 10)); /* LMA */
	/*
	 * PVM runs user mode with the hardware's IOPL 0 and reports that
	 * once the guest ran: the OUT passed the TSS I/O bitmap.
	 */
	ASSERT_OK(rk_vcpu_regs(t.be, 0, &regs));
	TEST_LOG("after the run: CPL %u, IOPL %llu", s.cs.dpl,
		 (unsigned long long)(regs.rflags >> 12) & 3);
	/* The loop: native takes ~1 ms, emulated ~1 s. */
	pf = stat(&t, "pf_fixed");
	ASSERT_OK(t.ops->vcpu_load(t.be, 0, &op, 1, 1000000));
	t0 = test_now();
	ASSERT_OK(t.ops->vcpu_run(t.be, 0, &e));
	t0 = test_now() - t0;
	ASSERT_EQ(e.reason, KVMMU_BE_EXIT_DONE);
	ASSERT_EQ(e.value, 0x1234);
	TEST_LOG("10^6 loads in %.3f ms, %llu shadow faults", t0 * 1e3,
		 (unsigned long long)(stat(&t, "pf_fixed") - pf));
	EXPECT_TRUE(t0 < 0.5);
	EXPECT_LE(stat(&t, "pf_fixed") - pf, 4);
	teardown(&t);
	munmap(m, 2 * MIB);
}

TEST(first_touch_one_fault_per_page)
{
	enum {
		N = 64
	};
	struct kvmmu_be_op touch = { .kind = KVMMU_BE_TOUCH,
				     .gpa = MIB,
				     .size = N * PG,
				     .write = true,
				     .value = 7 };
	uint64_t pf, taken = 0;
	uint8_t *m = ram(4 * MIB);
	bool has_taken;
	struct env t;
	unsigned int i;

	setup(&t, 1);
	m[0] = 1; /* the warm-up page is the only one the host touched */
	ASSERT_OK(slot(&t, 0, 0, 0, 4 * MIB, m));
	run1(&t, op_write(0, 8, 5), KVMMU_BE_EXIT_DONE); /* warm-up */
	pf = stat(&t, "pf_fixed");
	has_taken = !t.ops->stat(t.be, "pf_taken", &taken);
	run1(&t, touch, KVMMU_BE_EXIT_DONE);
	EXPECT_EQ(stat(&t, "pf_fixed") - pf, N);
	if (has_taken)
		EXPECT_GE(stat(&t, "pf_taken") - taken, N);
	for (i = 0; i < N; i++)
		ASSERT_EQ(*(uint64_t *)(m + MIB + i * PG), 7);
	teardown(&t);
	munmap(m, 4 * MIB);
}

TEST(first_touch_rate_256m)
{
	const uint64_t len = 256 * MIB, pages = len / PG;
	struct kvmmu_be_op touch = { .kind = KVMMU_BE_TOUCH,
				     .gpa = 0,
				     .size = len,
				     .write = true,
				     .value = 1 };
	struct kvmmu_be_exit e;
	uint8_t *m = ram(len);
	struct env t;
	uint64_t pf;
	double t0;

	setup(&t, 1);
	ASSERT_OK(slot(&t, 0, 0, 0, len, m));
	run1(&t, op_read(len - PG, 8), KVMMU_BE_EXIT_DONE); /* warm-up */
	pf = stat(&t, "pf_fixed");
	ASSERT_OK(t.ops->vcpu_load(t.be, 0, &touch, 1, 1));
	t0 = test_now();
	ASSERT_OK(t.ops->vcpu_run(t.be, 0, &e));
	t0 = test_now() - t0;
	ASSERT_EQ(e.reason, KVMMU_BE_EXIT_DONE);
	pf = stat(&t, "pf_fixed") - pf;
	TEST_LOG("guest first touch of 256 MiB: %.3f s, %llu shadow faults, "
		 "%.0f faults/s",
		 t0, (unsigned long long)pf, (double)pages / t0);
	EXPECT_GE(pf, pages - 1);
	teardown(&t);
	munmap(m, len);
}

TEST(host_guest_coherence)
{
	uint8_t *m = ram(2 * MIB);
	struct env t;

	setup(&t, 1);
	ASSERT_OK(slot(&t, 0, 0, 0, 2 * MIB, m));
	run1(&t, op_read(0x3000, 8), KVMMU_BE_EXIT_DONE); /* mapped, zero */
	*(uint64_t *)(m + 0x3000) = 0xfeedfacecafebeefull;
	ASSERT_EQ(run1(&t, op_read(0x3000, 8), KVMMU_BE_EXIT_DONE).value,
		  0xfeedfacecafebeefull);
	ASSERT_EQ(run1(&t, op_read(0x3001, 1), KVMMU_BE_EXIT_DONE).value, 0xbe);
	ASSERT_EQ(run1(&t, op_read(0x3002, 2), KVMMU_BE_EXIT_DONE).value,
		  0xcafe);
	ASSERT_EQ(run1(&t, op_read(0x3004, 4), KVMMU_BE_EXIT_DONE).value,
		  0xfeedface);
	run1(&t, op_write(0x5000, 8, 0x0102030405060708ull),
	     KVMMU_BE_EXIT_DONE);
	run1(&t, op_write(0x5008, 4, 0xaabbccdd), KVMMU_BE_EXIT_DONE);
	run1(&t, op_write(0x500c, 2, 0x1122), KVMMU_BE_EXIT_DONE);
	run1(&t, op_write(0x500e, 1, 0x33), KVMMU_BE_EXIT_DONE);
	ASSERT_EQ(*(uint64_t *)(m + 0x5000), 0x0102030405060708ull);
	ASSERT_EQ(*(uint64_t *)(m + 0x5008),
		  0x33ull << 48 | 0x1122ull << 32 | 0xaabbccddull);
	teardown(&t);
	munmap(m, 2 * MIB);
}

TEST(mmio_exits)
{
	uint8_t *m = ram(2 * MIB), *ro = ram(2 * MIB);
	struct kvmmu_be_exit e;
	struct env t;

	setup(&t, 1);
	ASSERT_OK(slot(&t, 0, 0, 0, 2 * MIB, m));
	*(uint64_t *)(ro + 0x40) = 0x5555;
	ASSERT_OK(slot(&t, 1, KVMMU_MEM_READONLY, 4 * MIB, 2 * MIB, ro));
	/* A read of a GPA without a slot. */
	e = run1(&t, op_read(0x40000010, 8), KVMMU_BE_EXIT_MMIO);
	ASSERT_EQ(e.mmio.addr, 0x40000010);
	ASSERT_EQ(e.mmio.len, 8);
	ASSERT_FALSE(e.mmio.is_write);
	ASSERT_OK(t.ops->vcpu_mmio_reply(t.be, 0, 0x1122334455667788ull));
	ASSERT_OK(t.ops->vcpu_run(t.be, 0, &e));
	ASSERT_EQ(e.reason, KVMMU_BE_EXIT_DONE);
	ASSERT_EQ(e.value, 0x1122334455667788ull);
	ASSERT_ERRNO(t.ops->vcpu_mmio_reply(t.be, 0, 1), -EINVAL);
	/* Narrow reads take the low bytes of the reply, zero-extended. */
	e = run1(&t, op_read(0x40000002, 2), KVMMU_BE_EXIT_MMIO);
	ASSERT_EQ(e.mmio.len, 2);
	ASSERT_OK(t.ops->vcpu_mmio_reply(t.be, 0, 0xffffffffffffabcdull));
	ASSERT_OK(t.ops->vcpu_run(t.be, 0, &e));
	ASSERT_EQ(e.reason, KVMMU_BE_EXIT_DONE);
	ASSERT_EQ(e.value, 0xabcd);
	/* A write there. */
	e = run1(&t, op_write(0x40000020, 4, 0x12345678), KVMMU_BE_EXIT_MMIO);
	ASSERT_EQ(e.mmio.addr, 0x40000020);
	ASSERT_EQ(e.mmio.len, 4);
	ASSERT_TRUE(e.mmio.is_write);
	ASSERT_EQ(e.mmio.data, 0x12345678);
	ASSERT_ERRNO(t.ops->vcpu_mmio_reply(t.be, 0, 1), -EINVAL);
	ASSERT_OK(t.ops->vcpu_run(t.be, 0, &e));
	ASSERT_EQ(e.reason, KVMMU_BE_EXIT_DONE);
	/* A READONLY slot: reads are memory, writes exit, memory stays. */
	ASSERT_EQ(
		run1(&t, op_read(4 * MIB + 0x40, 8), KVMMU_BE_EXIT_DONE).value,
		0x5555);
	e = run1(&t, op_write(4 * MIB + 0x40, 2, 0xabcd), KVMMU_BE_EXIT_MMIO);
	ASSERT_EQ(e.mmio.addr, 4 * MIB + 0x40);
	ASSERT_EQ(e.mmio.len, 2);
	ASSERT_TRUE(e.mmio.is_write);
	ASSERT_EQ(e.mmio.data, 0xabcd);
	ASSERT_OK(t.ops->vcpu_run(t.be, 0, &e));
	ASSERT_EQ(e.reason, KVMMU_BE_EXIT_DONE);
	ASSERT_EQ(*(uint64_t *)(ro + 0x40), 0x5555);
	/* An MMIO read, then a new program without a reply: it is fine. */
	run1(&t, op_read(0x40000000, 4), KVMMU_BE_EXIT_MMIO);
	ASSERT_EQ(
		run1(&t, op_read(4 * MIB + 0x40, 8), KVMMU_BE_EXIT_DONE).value,
		0x5555);
	teardown(&t);
	munmap(m, 2 * MIB);
	munmap(ro, 2 * MIB);
}

TEST(efault_then_resume)
{
	struct kvmmu_be_op fill = { .kind = KVMMU_BE_FILL,
				    .size = 4 * PG,
				    .seed = 3 };
	uint8_t *m = ram(2 * MIB);
	struct kvmmu_be_exit e;
	struct env t;

	setup(&t, 1);
	ASSERT_OK(slot(&t, 0, 0, 0, 2 * MIB, m));
	run1(&t, op_write(0x7000, 8, 1), KVMMU_BE_EXIT_DONE);
	ASSERT_OK(mprotect(m, 2 * MIB, PROT_READ));
	e = run1(&t, op_write(0x7008, 8, 2), KVMMU_BE_EXIT_EFAULT);
	ASSERT_EQ(e.efault_gpa, 0x7000); /* the page, as KVM reports it */
	/* Still on the access: it faults again. */
	ASSERT_OK(t.ops->vcpu_run(t.be, 0, &e));
	ASSERT_EQ(e.reason, KVMMU_BE_EXIT_EFAULT);
	ASSERT_EQ(e.efault_gpa, 0x7000); /* the page, as KVM reports it */
	ASSERT_EQ(*(uint64_t *)(m + 0x7008), 0);
	ASSERT_OK(mprotect(m, 2 * MIB, PROT_READ | PROT_WRITE));
	ASSERT_OK(t.ops->vcpu_run(t.be, 0, &e));
	ASSERT_EQ(e.reason, KVMMU_BE_EXIT_DONE);
	ASSERT_EQ(*(uint64_t *)(m + 0x7008), 2);
	/* A FILL reports the word it stopped on. */
	ASSERT_OK(mprotect(m + 0x9000, PG, PROT_READ));
	fill.gpa = 0x8000;
	e = run1(&t, fill, KVMMU_BE_EXIT_EFAULT);
	ASSERT_EQ(e.efault_gpa, 0x9000);
	ASSERT_OK(mprotect(m + 0x9000, PG, PROT_READ | PROT_WRITE));
	ASSERT_OK(t.ops->vcpu_run(t.be, 0, &e));
	ASSERT_EQ(e.reason, KVMMU_BE_EXIT_DONE);
	ASSERT_EQ(*(uint64_t *)(m + 0x9ff8), kvmmu_pattern_word(3, 0x9ff8));
	teardown(&t);
	munmap(m, 2 * MIB);
}

TEST(fill_verify)
{
	const uint64_t base = 2 * MIB, len = MIB, bad = base + 0x12348;
	struct kvmmu_be_op fill = {
		.kind = KVMMU_BE_FILL, .gpa = base, .size = len, .seed = 42
	};
	struct kvmmu_be_op verify = fill;
	uint8_t *m = ram(4 * MIB);
	struct kvmmu_be_exit e;
	struct env t;
	uint64_t o;

	verify.kind = KVMMU_BE_VERIFY;
	setup(&t, 1);
	ASSERT_OK(slot(&t, 0, 0, 0, 4 * MIB, m));
	run1(&t, fill, KVMMU_BE_EXIT_DONE);
	for (o = 0; o < len; o += 4096 + 8)
		ASSERT_EQ(*(uint64_t *)(m + base + o),
			  kvmmu_pattern_word(42, base + o));
	run1(&t, verify, KVMMU_BE_EXIT_DONE);
	*(uint64_t *)(m + bad) ^= 0x100;
	e = run1(&t, verify, KVMMU_BE_EXIT_VERIFY);
	ASSERT_EQ(e.verify.gpa, bad);
	ASSERT_EQ(e.verify.expected, kvmmu_pattern_word(42, bad));
	ASSERT_EQ(e.verify.found, kvmmu_pattern_word(42, bad) ^ 0x100);
	/* Resuming goes on after the bad word, to the end. */
	ASSERT_OK(t.ops->vcpu_run(t.be, 0, &e));
	ASSERT_EQ(e.reason, KVMMU_BE_EXIT_DONE);
	teardown(&t);
	munmap(m, 4 * MIB);
}

struct seen {
	unsigned int n, pf_fixed, pages_4k;
	uint64_t pf_fixed_value;
};

static void seen_fn(void *arg, const char *name, uint64_t value)
{
	struct seen *w = arg;

	w->n++;
	if (!strcmp(name, "pf_fixed")) {
		w->pf_fixed++;
		w->pf_fixed_value = value;
	}
	w->pages_4k += !strcmp(name, "pages_4k");
}

TEST(stats_and_check)
{
	uint8_t *m = ram(2 * MIB);
	struct seen w = { 0 };
	char msg[256] = "";
	struct env t;
	uint64_t v;

	setup(&t, 2);
	ASSERT_OK(slot(&t, 0, 0, 0, 2 * MIB, m));
	run1(&t, op_write(0x1000, 8, 1), KVMMU_BE_EXIT_DONE);
	ASSERT_ERRNO(t.ops->stat(t.be, "no_such_stat", &v), -ENOENT);
	ASSERT_GE(stat(&t, "pages_4k"), 1); /* a VM statistic */
	ASSERT_GE(stat(&t, "exits"), 1);    /* the vCPUs' sum */
	t.ops->stat_foreach(t.be, seen_fn, &w);
	ASSERT_GT(w.n, 10);
	ASSERT_EQ(w.pf_fixed, 1); /* once, summed over the vCPUs */
	ASSERT_EQ(w.pages_4k, 1);
	ASSERT_EQ(w.pf_fixed_value, stat(&t, "pf_fixed"));
	ASSERT_EQ(t.ops->check(t.be, msg, sizeof(msg)), 0);
	teardown(&t);
	munmap(m, 2 * MIB);
}

struct runner {
	struct env *t;
	unsigned int vcpu;
	struct kvmmu_be_exit e;
	int r;
};

static void *run_thread(void *arg)
{
	struct runner *rn = arg;

	rn->r = rn->t->ops->vcpu_run(rn->t->be, rn->vcpu, &rn->e);
	return NULL;
}

TEST(two_vcpus_in_parallel)
{
	struct kvmmu_be_op prog[2][2];
	struct runner rn[2] = { 0 };
	uint8_t *m = ram(8 * MIB);
	pthread_t tid[2];
	struct env t;
	unsigned int i;

	setup(&t, 2);
	ASSERT_OK(slot(&t, 0, 0, 0, 8 * MIB, m));
	for (i = 0; i < 2; i++) {
		prog[i][0] = (struct kvmmu_be_op){ .kind = KVMMU_BE_FILL,
						   .gpa = i * 4 * MIB,
						   .size = 4 * MIB,
						   .seed = 10 + i };
		prog[i][1] = prog[i][0];
		prog[i][1].kind = KVMMU_BE_VERIFY;
		ASSERT_OK(t.ops->vcpu_load(t.be, i, prog[i], 2, 3));
		rn[i].t = &t;
		rn[i].vcpu = i;
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(pthread_create(&tid[i], NULL, run_thread, &rn[i]), 0);
	for (i = 0; i < 2; i++) {
		pthread_join(tid[i], NULL);
		ASSERT_OK(rn[i].r);
		ASSERT_EQ(rn[i].e.reason, KVMMU_BE_EXIT_DONE);
	}
	ASSERT_EQ(*(uint64_t *)(m + 4 * MIB + 8),
		  kvmmu_pattern_word(11, 4 * MIB + 8));
	ASSERT_GE(stat(&t, "pf_fixed"), 2 * 1024);
	teardown(&t);
	munmap(m, 8 * MIB);
}

TEST(kick)
{
	struct kvmmu_be_op body[16];
	uint8_t *m = ram(2 * MIB);
	struct runner rn = { 0 };
	struct kvmmu_be_exit e;
	struct env t;
	pthread_t tid;
	unsigned int i;
	double t0;

	setup(&t, 1);
	rn.t = &t;
	ASSERT_OK(slot(&t, 0, 0, 0, 2 * MIB, m));
	/* A kick before the run: the run returns at once. */
	ASSERT_OK(t.ops->vcpu_load(t.be, 0, body, 0, 1));
	t.ops->vcpu_kick(t.be, 0);
	ASSERT_OK(t.ops->vcpu_run(t.be, 0, &e));
	ASSERT_EQ(e.reason, KVMMU_BE_EXIT_INTERNAL);
	ASSERT_EQ(strcmp(e.detail, "kicked"), 0);
	ASSERT_OK(t.ops->vcpu_run(t.be, 0, &e)); /* consumed */
	ASSERT_EQ(e.reason, KVMMU_BE_EXIT_DONE);
	/* A kick during a run of ~10^11 loads. */
	for (i = 0; i < 16; i++)
		body[i] = op_read(i * 8, 8);
	ASSERT_OK(t.ops->vcpu_load(t.be, 0, body, 16, UINT32_MAX));
	t0 = test_now();
	ASSERT_EQ(pthread_create(&tid, NULL, run_thread, &rn), 0);
	usleep(100 * 1000);
	t.ops->vcpu_kick(t.be, 0);
	pthread_join(tid, NULL);
	t0 = test_now() - t0;
	ASSERT_OK(rn.r);
	ASSERT_EQ(rn.e.reason, KVMMU_BE_EXIT_INTERNAL);
	ASSERT_EQ(strcmp(rn.e.detail, "kicked"), 0);
	EXPECT_TRUE(t0 < 5);
	/* The next program runs normally. */
	run1(&t, op_read(0, 8), KVMMU_BE_EXIT_DONE);
	teardown(&t);
	munmap(m, 2 * MIB);
}

TEST(reserved_and_invalid)
{
	struct kvmmu_be_config cfg = { .arch = KVMMU_ARCH_ARM64,
				       .nr_vcpus = 1 };
	struct kvmmu_backend *stub = NULL;
	struct kvmmu_be_op op;
	uint8_t *m = ram(2 * MIB);
	struct env t;
	int r;

	setup(&t, 1);
	/* The backend's own slot id and GPAs, in address space 0. */
	ASSERT_ERRNO(slot(&t, RK_PRIV_SLOT, 0, 0, 2 * MIB, m), -EOPNOTSUPP);
	ASSERT_TRUE(strstr(t.be->skip_reason, "32763"));
	ASSERT_ERRNO(slot(&t, 0, 0, RK_PRIV_GPA - MIB, 2 * MIB, m),
		     -EOPNOTSUPP);
	ASSERT_ERRNO(slot(&t, 0, 0, RK_PRIV_GPA + RK_PRIV_SPAN - 2 * MIB,
			  2 * MIB, m),
		     -EOPNOTSUPP);
	ASSERT_OK(slot(&t, 0, 0, RK_PRIV_GPA + RK_PRIV_SPAN, 2 * MIB, m));
	ASSERT_OK(slot(&t, 0, 0, RK_PRIV_GPA + RK_PRIV_SPAN, 0, m));
	/*
	 * Address space 1 (SMM) is not the backend's: the kernel answers
	 * (EINVAL without SMM, as PVM here).
	 */
	r = slot(&t, 1u << 16 | RK_PRIV_SLOT, 0, 0, 2 * MIB, m);
	ASSERT_TRUE(r == 0 || r == -EINVAL);
	TEST_LOG("address space 1: %s", r ? "EINVAL (no SMM)" : "ok");
	/* An access the identity map does not reach. */
	op = op_read(RK_PRIV_GPA + 0x1000, 8);
	ASSERT_ERRNO(t.ops->vcpu_load(t.be, 0, &op, 1, 1), -EOPNOTSUPP);
	op = op_read(RK_IDMAP_END - 4, 8);
	ASSERT_ERRNO(t.ops->vcpu_load(t.be, 0, &op, 1, 1), -EINVAL); /* page */
	/* The model's checks, the model's errnos. */
	op = op_read(0xffc, 8);
	ASSERT_ERRNO(t.ops->vcpu_load(t.be, 0, &op, 1, 1), -EINVAL);
	op = op_read(0, 3);
	ASSERT_ERRNO(t.ops->vcpu_load(t.be, 0, &op, 1, 1), -EINVAL);
	op = op_read(0, 8);
	ASSERT_ERRNO(t.ops->vcpu_load(t.be, 0, &op, 1, 0), -EINVAL);
	ASSERT_ERRNO(t.ops->vcpu_load(t.be, 1, &op, 1, 1), -EINVAL);
	op = (struct kvmmu_be_op){ .kind = KVMMU_BE_FILL, .gpa = 4, .size = 8 };
	ASSERT_ERRNO(t.ops->vcpu_load(t.be, 0, &op, 1, 1), -EINVAL);
	op.gpa = 0;
	op.size = 0;
	ASSERT_ERRNO(t.ops->vcpu_load(t.be, 0, &op, 1, 1), -EINVAL);
	op = (struct kvmmu_be_op){ .kind = KVMMU_BE_TOUCH,
				   .gpa = 0,
				   .size = 100 };
	ASSERT_ERRNO(t.ops->vcpu_load(t.be, 0, &op, 1, 1), -EINVAL);
	op.size = 8ull << 30; /* 2^21 pages: the model's limit */
	ASSERT_ERRNO(t.ops->vcpu_load(t.be, 0, &op, 1, 1), -E2BIG);
	teardown(&t);
	/* Not x86: a stub that says why. */
	ASSERT_ERRNO(t.ops->create(&cfg, &stub), -EOPNOTSUPP);
	ASSERT_TRUE(stub);
	ASSERT_TRUE(strstr(stub->skip_reason, "x86"));
	stub->ops->destroy(stub);
	munmap(m, 2 * MIB);
}

TEST_HARNESS_MAIN
