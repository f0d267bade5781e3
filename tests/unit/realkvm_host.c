// SPDX-License-Identifier: MIT
/*
 * The real-KVM backend's host side (src/backend/realkvm_host.c, _proc.c,
 * _ksm.c) on this machine's kernel, without /dev/kvm: the rk_*() host
 * operations called directly on a backend built here.  Process 0 is the
 * test process itself, so the tests also check that the runner's own
 * memory (heap, stack) is never touched.
 */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>

#include "harness.h"
#include "backend/realkvm_host.h"

#define PG 4096ull
#define RW (PROT_READ | PROT_WRITE)
#define PA (MAP_PRIVATE | MAP_ANONYMOUS)
#define SA (MAP_SHARED | MAP_ANONYMOUS)

static struct rk_be *be_new(void)
{
	struct rk_be *b = calloc(1, sizeof(*b));

	ASSERT_TRUE(b);
	b->be.ops = kvmmu_backend_find("kvm"); /* NULL until realkvm.c */
	ASSERT_OK(rk_host_init(&b->host));
	return b;
}

static void be_free(struct rk_be *b)
{
	rk_host_fini(&b->host);
	free(b);
}

static uint64_t map(struct rk_be *b, int proc, uint64_t at, uint64_t len,
		    int prot, int flags, int file)
{
	uint64_t out = 0;

	ASSERT_OK(rk_mmap(&b->be, proc, at, len, prot, flags, file, 0, &out));
	ASSERT_NE(out, 0);
	return out;
}

static void put64(struct rk_be *b, int proc, uint64_t addr, uint64_t v)
{
	ASSERT_OK(rk_mem_write(&b->be, proc, addr, &v, sizeof(v)));
}

static uint64_t get64(struct rk_be *b, int proc, uint64_t addr)
{
	uint64_t v = 0;

	ASSERT_OK(rk_mem_read(&b->be, proc, addr, &v, sizeof(v)));
	return v;
}

/* Whether the page at @addr is mapped in this process. */
static bool mapped(uint64_t addr)
{
	unsigned char vec;

	return !mincore((void *)(uintptr_t)(addr & ~(PG - 1)), PG, &vec);
}

static bool all_5a(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0x5a)
			return false;
	return true;
}

/*
 * Map a page at @addr behind the backend's back, as a runner thread might
 * once the scenario vacated it, and check the backend leaves it alone.
 */
static void check_vacated(struct rk_be *b, uint64_t addr)
{
	void *want = (void *)(uintptr_t)addr;
	uint8_t *p = mmap(want, PG, RW, PA | MAP_FIXED_NOREPLACE, -1, 0);
	uint64_t v, out;

	ASSERT_PTR_EQ(p, want);
	memset(p, 0x5a, PG);
	EXPECT_ERRNO(rk_mem_read(&b->be, 0, addr, &v, 8), -EFAULT);
	EXPECT_ERRNO(rk_mem_write(&b->be, 0, addr, &v, 8), -EFAULT);
	EXPECT_ERRNO(rk_munmap(&b->be, 0, addr, PG), -EOPNOTSUPP);
	EXPECT_ERRNO(rk_mmap(&b->be, 0, addr, PG, RW, PA | MAP_FIXED, -1, 0,
			     &out),
		     -EOPNOTSUPP);
	EXPECT_TRUE(all_5a(p, PG));
	munmap(p, PG);
}

/* A free range of @len bytes (mapped, then unmapped by the backend). */
static uint64_t free_range(struct rk_be *b, uint64_t len)
{
	uint64_t a = map(b, 0, 0, len, PROT_NONE, PA, -1);

	ASSERT_OK(rk_munmap(&b->be, 0, a, len));
	return a;
}

TEST(mmap_anon_private_shared)
{
	struct rk_be *b = be_new();
	uint64_t p = map(b, 0, 0, 2 * PG, RW, PA, -1);
	uint64_t s = map(b, 0, 0, PG, RW, SA, -1);

	put64(b, 0, p + PG + 8, 0x1122334455667788ull);
	EXPECT_EQ(get64(b, 0, p + PG + 8), 0x1122334455667788ull);
	EXPECT_EQ(*(volatile uint64_t *)(uintptr_t)(p + PG + 8),
		  0x1122334455667788ull);
	EXPECT_EQ(get64(b, 0, p), 0); /* untouched: zeros */
	put64(b, 0, s, 0xabc);
	EXPECT_EQ(*(volatile uint64_t *)(uintptr_t)s, 0xabc);
	/* A transfer across the end of the owned range is refused whole. */
	EXPECT_ERRNO(rk_mem_read(&b->be, 0, p + 2 * PG - 4, &p, 8), -EFAULT);
	be_free(b);
	EXPECT_FALSE(mapped(p));
	EXPECT_FALSE(mapped(s));
}

TEST(mmap_fixed_over_free_and_owned)
{
	struct rk_be *b = be_new();
	uint64_t a = free_range(b, 8 * PG), out = 0;

	EXPECT_FALSE(mapped(a));
	EXPECT_EQ(map(b, 0, a, 2 * PG, RW, PA | MAP_FIXED, -1), a);
	put64(b, 0, a, 7);
	/* Owned [a, a+2p) + free [a+2p, a+8p): fine, and replaces. */
	ASSERT_OK(
		rk_mmap(&b->be, 0, a, 8 * PG, RW, PA | MAP_FIXED, -1, 0, &out));
	EXPECT_EQ(out, a);
	EXPECT_EQ(get64(b, 0, a), 0);
	put64(b, 0, a + 7 * PG, 9);
	EXPECT_EQ(get64(b, 0, a + 7 * PG), 9);
	/* The kernel's errno: unaligned MAP_FIXED. */
	EXPECT_ERRNO(rk_mmap(&b->be, 0, a + 1, PG, RW, PA | MAP_FIXED, -1, 0,
			     &out),
		     -EINVAL);
	be_free(b);
	EXPECT_FALSE(mapped(a));
	EXPECT_FALSE(mapped(a + 7 * PG));
}

/* A page of the heap (a malloc'd buffer) and of the stack. */
static uint8_t *heap_page(uint8_t **buf)
{
	*buf = malloc(1 << 20); /* above the mmap threshold: its own VMA */
	ASSERT_TRUE(*buf);
	memset(*buf, 0x5a, 1 << 20);
	return (uint8_t *)(((uintptr_t)*buf + PG - 1) & ~(uintptr_t)(PG - 1));
}

TEST(foreign_mappings_refused)
{
	struct rk_be *b = be_new();
	uint8_t *buf, *hp = heap_page(&buf);
	uint64_t h = (uintptr_t)hp, st = (uintptr_t)&b & ~(PG - 1), out = 0;
	uint64_t own = map(b, 0, 0, PG, RW, PA, -1), v = 1, lo, hi;

	EXPECT_ERRNO(rk_mmap(&b->be, 0, h, PG, RW, PA | MAP_FIXED, -1, 0, &out),
		     -EOPNOTSUPP);
	EXPECT_TRUE(strstr(b->be.skip_reason, "in use by the runner"));
	TEST_LOG("skip reason: %s", b->be.skip_reason);
	EXPECT_ERRNO(rk_mmap(&b->be, 0, st, PG, RW, PA | MAP_FIXED, -1, 0,
			     &out),
		     -EOPNOTSUPP);
	EXPECT_ERRNO(rk_munmap(&b->be, 0, h, PG), -EOPNOTSUPP);
	EXPECT_ERRNO(rk_mprotect(&b->be, 0, h, PG, PROT_NONE), -EOPNOTSUPP);
	EXPECT_ERRNO(rk_mprotect(&b->be, 0, st, PG, PROT_READ), -EOPNOTSUPP);
	EXPECT_ERRNO(rk_madvise(&b->be, 0, h, PG, MADV_DONTNEED), -EOPNOTSUPP);
	EXPECT_ERRNO(rk_mremap(&b->be, 0, h, PG, 2 * PG, MREMAP_MAYMOVE, 0,
			       &out),
		     -EOPNOTSUPP);
	/* Moving an owned mapping onto the heap is refused too. */
	EXPECT_ERRNO(rk_mremap(&b->be, 0, own, PG, PG,
			       MREMAP_MAYMOVE | MREMAP_FIXED, h, &out),
		     -EOPNOTSUPP);
	/* Mapped and readable, but not the scenario's: -EFAULT. */
	EXPECT_ERRNO(rk_mem_read(&b->be, 0, h, &v, 8), -EFAULT);
	EXPECT_ERRNO(rk_mem_write(&b->be, 0, h, &v, 8), -EFAULT);
	EXPECT_ERRNO(rk_mem_read(&b->be, 0, st, &v, 8), -EFAULT);
	EXPECT_TRUE(all_5a(buf, 1 << 20));
	EXPECT_OK(mprotect(hp, PG, RW)); /* still there, same VMA shape */
	/* A range from the scenario's page to the heap page: refused. */
	lo = min(h, own);
	hi = max(h, own) + PG;
	EXPECT_ERRNO(rk_munmap(&b->be, 0, lo, hi - lo), -EOPNOTSUPP);
	EXPECT_ERRNO(rk_mprotect(&b->be, 0, lo, hi - lo, PROT_NONE),
		     -EOPNOTSUPP);
	EXPECT_EQ(get64(b, 0, own), 0); /* still mapped */
	EXPECT_TRUE(all_5a(buf, 1 << 20));
	free(buf);
	be_free(b);
}

TEST(access_faults)
{
	struct rk_be *b = be_new();
	uint64_t a = map(b, 0, 0, 4 * PG, RW, PA, -1), v = 0x77;

	put64(b, 0, a, 0x11);
	put64(b, 0, a + PG, 0x22);
	ASSERT_OK(rk_mprotect(&b->be, 0, a, PG, PROT_READ));
	EXPECT_ERRNO(rk_mem_write(&b->be, 0, a, &v, 8), -EFAULT);
	EXPECT_EQ(get64(b, 0, a), 0x11);
	ASSERT_OK(rk_mprotect(&b->be, 0, a + PG, PG, PROT_NONE));
	EXPECT_ERRNO(rk_mem_read(&b->be, 0, a + PG, &v, 8), -EFAULT);
	/* 4 bytes readable, then PROT_NONE: a partial read is -EFAULT. */
	EXPECT_ERRNO(rk_mem_read(&b->be, 0, a + PG - 4, &v, 8), -EFAULT);
	ASSERT_OK(rk_mprotect(&b->be, 0, a + PG, PG, RW));
	EXPECT_EQ(get64(b, 0, a + PG), 0x22);
	/* A transfer that faults half-way is -EFAULT. */
	EXPECT_ERRNO(rk_mem_write(&b->be, 0, a + PG - 4, &v, 8), -EFAULT);
	ASSERT_OK(rk_munmap(&b->be, 0, a + 2 * PG, PG));
	EXPECT_ERRNO(rk_mem_read(&b->be, 0, a + 2 * PG, &v, 8), -EFAULT);
	EXPECT_FALSE(mapped(a + 2 * PG));
	EXPECT_EQ(get64(b, 0, a + 3 * PG), 0);
	check_vacated(b, a + 2 * PG);
	/* The kernel's errnos. */
	EXPECT_ERRNO(rk_munmap(&b->be, 0, a, 0), -EINVAL);
	EXPECT_ERRNO(rk_mprotect(&b->be, 0, a + 2 * PG, PG, PROT_READ),
		     -ENOMEM);
	EXPECT_ERRNO(rk_madvise(&b->be, 0, a + 1, PG, MADV_DONTNEED), -EINVAL);
	EXPECT_ERRNO(rk_mmap_pfn(&b->be, 0, 0, PG, RW, MAP_SHARED, KVMMU_MT_WB,
				 &v),
		     -EOPNOTSUPP);
	EXPECT_TRUE(strstr(b->be.skip_reason, "pfnmap"));
	be_free(b);
}

TEST(mremap_away_and_back)
{
	struct rk_be *b = be_new();
	uint64_t a = map(b, 0, 0, 4 * PG, RW, PA, -1);
	uint64_t to = free_range(b, 4 * PG), out = 0, v;

	put64(b, 0, a, 0xa0);
	put64(b, 0, a + 3 * PG, 0xa3);
	ASSERT_OK(rk_mremap(&b->be, 0, a, 4 * PG, 4 * PG,
			    MREMAP_MAYMOVE | MREMAP_FIXED, to, &out));
	EXPECT_EQ(out, to);
	EXPECT_ERRNO(rk_mem_read(&b->be, 0, a, &v, 8), -EFAULT);
	EXPECT_EQ(get64(b, 0, to + 3 * PG), 0xa3);
	ASSERT_OK(rk_mremap(&b->be, 0, to, 4 * PG, 4 * PG,
			    MREMAP_MAYMOVE | MREMAP_FIXED, a, &out));
	EXPECT_EQ(out, a);
	EXPECT_EQ(get64(b, 0, a), 0xa0);
	EXPECT_EQ(get64(b, 0, a + 3 * PG), 0xa3);
	EXPECT_ERRNO(rk_mem_read(&b->be, 0, to, &v, 8), -EFAULT);
	check_vacated(b, to + PG);
	/* Shrink in place: the tail is gone. */
	ASSERT_OK(rk_mremap(&b->be, 0, a, 4 * PG, PG, 0, 0, &out));
	EXPECT_EQ(out, a);
	EXPECT_ERRNO(rk_mem_read(&b->be, 0, a + PG, &v, 8), -EFAULT);
	check_vacated(b, a + 3 * PG);
	/* Grow (maybe moving): the data follows. */
	ASSERT_OK(
		rk_mremap(&b->be, 0, a, PG, 64 * PG, MREMAP_MAYMOVE, 0, &out));
	EXPECT_EQ(get64(b, 0, out), 0xa0);
	EXPECT_EQ(get64(b, 0, out + 63 * PG), 0);
	be_free(b);
	EXPECT_FALSE(mapped(out));
}

TEST(madvise_and_punch)
{
	struct rk_be *b = be_new();
	uint64_t a = map(b, 0, 0, 2 * PG, RW, PA, -1), s;
	int f = rk_memfd(&b->be, 4 * PG);

	ASSERT_GE(f, 0);
	put64(b, 0, a, 5);
	ASSERT_OK(rk_madvise(&b->be, 0, a, 2 * PG, MADV_DONTNEED));
	EXPECT_EQ(get64(b, 0, a), 0);
	s = map(b, 0, 0, 4 * PG, RW, MAP_SHARED, f);
	put64(b, 0, s, 6);
	put64(b, 0, s + PG, 7);
	ASSERT_OK(rk_madvise(&b->be, 0, s, 4 * PG, MADV_DONTNEED));
	EXPECT_EQ(get64(b, 0, s), 6); /* the page cache keeps it */
	ASSERT_OK(rk_punch_hole(&b->be, f, 0, PG));
	EXPECT_EQ(get64(b, 0, s), 0);
	EXPECT_EQ(get64(b, 0, s + PG), 7);
	ASSERT_OK(rk_madvise(&b->be, 0, s + PG, PG, MADV_REMOVE));
	EXPECT_EQ(get64(b, 0, s + PG), 0);
	/* Beyond the end of the file: a SIGBUS for a load, -EFAULT here. */
	ASSERT_OK(rk_ftruncate(&b->be, f, PG));
	EXPECT_ERRNO(rk_mem_read(&b->be, 0, s + 2 * PG, &s, 8), -EFAULT);
	EXPECT_ERRNO(rk_ftruncate(&b->be, f + 1, PG), -EBADF);
	EXPECT_ERRNO(rk_punch_hole(&b->be, -1, 0, PG), -EBADF);
	EXPECT_ERRNO(rk_mmap(&b->be, 0, 0, PG, RW, MAP_SHARED, 9, 0, &s),
		     -EBADF);
	be_free(b);
}

TEST(memfd_table)
{
	struct rk_be *b = be_new();
	int i;

	for (i = 0; i < RK_MAX_FILES; i++)
		ASSERT_EQ(rk_memfd(&b->be, PG), i);
	EXPECT_ERRNO(rk_memfd(&b->be, PG), -EMFILE);
	be_free(b);
	/* fini closed them: a new host starts from handle 0. */
	b = be_new();
	EXPECT_EQ(rk_memfd(&b->be, PG), 0);
	be_free(b);
}

static bool pid_gone(pid_t pid)
{
	return kill(pid, 0) && errno == ESRCH;
}

TEST(fork_cow)
{
	struct rk_be *b = be_new();
	uint64_t a = map(b, 0, 0, 2 * PG, RW, PA, -1);
	int c;
	pid_t pid;

	put64(b, 0, a, 0xa);
	c = rk_fork(&b->be, 0);
	ASSERT_GT(c, 0);
	pid = b->host.proc[c].pid;
	EXPECT_EQ(get64(b, c, a), 0xa);
	put64(b, 0, a, 0xb); /* the VMM's write breaks COW */
	EXPECT_EQ(get64(b, c, a), 0xa);
	put64(b, c, a, 0xc); /* and the child's */
	EXPECT_EQ(get64(b, 0, a), 0xb);
	EXPECT_EQ(get64(b, c, a), 0xc);
	ASSERT_OK(rk_exit(&b->be, c));
	EXPECT_TRUE(pid_gone(pid)); /* reaped: not even a zombie */
	EXPECT_EQ(waitpid(pid, NULL, WNOHANG), -1);
	EXPECT_ERRNO(rk_exit(&b->be, c), -ESRCH);
	EXPECT_ERRNO(rk_mem_read(&b->be, c, a, &a, 8), -EBADF);
	be_free(b);
}

TEST(fork_child_ops)
{
	struct rk_be *b = be_new();
	uint8_t *buf, *hp = heap_page(&buf), *big = malloc(100 << 10);
	uint8_t *back = malloc(100 << 10);
	uint64_t a = map(b, 0, 0, 32 * PG, RW, PA, -1), x, out = 0, v = 0;
	uint64_t nf = map(b, 0, 0, PG, RW, PA, -1);
	int f0 = rk_memfd(&b->be, 4 * PG), f1, c;
	size_t i;

	ASSERT_TRUE(big && back);
	ASSERT_OK(rk_madvise(&b->be, 0, nf, PG, MADV_DONTFORK));
	c = rk_fork(&b->be, 0);
	ASSERT_GT(c, 0);
	f1 = rk_memfd(&b->be, 4 * PG);
	ASSERT_GE(f1, 0);
	/* DONTFORK: not in the child. */
	EXPECT_ERRNO(rk_mem_read(&b->be, c, nf, &v, 8), -EFAULT);
	/* The runner's heap is in the child too, and not the scenario's. */
	EXPECT_ERRNO(rk_munmap(&b->be, c, (uintptr_t)hp, PG), -EOPNOTSUPP);
	EXPECT_TRUE(strstr(b->be.skip_reason, "process"));
	EXPECT_ERRNO(rk_mem_read(&b->be, c, (uintptr_t)hp, &v, 8), -EFAULT);
	EXPECT_ERRNO(rk_mmap(&b->be, c, 0, PG, RW, MAP_SHARED, f1, 0, &out),
		     -EOPNOTSUPP);
	TEST_LOG("skip reason: %s", b->be.skip_reason);
	EXPECT_ERRNO(rk_fork(&b->be, c), -EOPNOTSUPP);
	/* A memfd of before the fork is shared with the VMM. */
	x = map(b, c, 0, 4 * PG, RW, MAP_SHARED, f0);
	put64(b, c, x + PG, 0x5151);
	out = map(b, 0, 0, 4 * PG, RW, MAP_SHARED, f0);
	EXPECT_EQ(get64(b, 0, out + PG), 0x5151);
	/* Data in several messages. */
	for (i = 0; i < (100 << 10); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	ASSERT_OK(rk_mem_write(&b->be, c, a + 8, big, 100 << 10));
	ASSERT_OK(rk_mem_read(&b->be, c, a + 8, back, 100 << 10));
	ASSERT_MEMEQ(big, back, 100 << 10);
	EXPECT_EQ(get64(b, 0, a + 8), 0); /* the VMM's copy did not change */
	/* mprotect, madvise, mremap, munmap in the child. */
	ASSERT_OK(rk_mprotect(&b->be, c, a, PG, PROT_READ));
	EXPECT_ERRNO(rk_mem_write(&b->be, c, a, &v, 8), -EFAULT);
	/* Two VMAs now: the kernel's mremap refuses to span them. */
	EXPECT_ERRNO(rk_mremap(&b->be, c, a, 32 * PG, 64 * PG, MREMAP_MAYMOVE,
			       0, &out),
		     -EFAULT);
	ASSERT_OK(rk_mprotect(&b->be, c, a, PG, RW));
	ASSERT_OK(rk_madvise(&b->be, c, a + 4 * PG, PG, MADV_DONTNEED));
	ASSERT_OK(rk_mem_read(&b->be, c, a + 4 * PG, &v, 8));
	EXPECT_EQ(v, 0);
	ASSERT_OK(rk_mremap(&b->be, c, a, 32 * PG, 64 * PG, MREMAP_MAYMOVE, 0,
			    &out));
	ASSERT_OK(rk_mem_read(&b->be, c, out + 8, back, 16));
	ASSERT_MEMEQ(big, back, 16);
	ASSERT_OK(rk_munmap(&b->be, c, out, 64 * PG));
	EXPECT_ERRNO(rk_mem_read(&b->be, c, out + 8, &v, 8), -EFAULT);
	EXPECT_TRUE(all_5a(buf, 1 << 20));
	free(big);
	free(back);
	free(buf);
	be_free(b);
}

TEST(fork_table_and_fini)
{
	struct rk_be *b = be_new();
	pid_t pid[RK_MAX_PROCS];
	int i, c;

	for (i = 1; i < RK_MAX_PROCS; i++) {
		c = rk_fork(&b->be, 0);
		ASSERT_EQ(c, i);
		pid[i] = b->host.proc[c].pid;
	}
	EXPECT_ERRNO(rk_fork(&b->be, 0), -EAGAIN);
	EXPECT_ERRNO(rk_fork(&b->be, RK_MAX_PROCS), -EBADF);
	ASSERT_OK(rk_exit(&b->be, 3));
	EXPECT_EQ(rk_fork(&b->be, 0), 3);
	pid[3] = b->host.proc[3].pid;
	rk_host_fini(&b->host);
	for (i = 1; i < RK_MAX_PROCS; i++)
		EXPECT_TRUE(pid_gone(pid[i]));
	free(b);
}

TEST(child_timeout_and_death)
{
	struct rk_be *b = be_new();
	uint64_t a = map(b, 0, 0, PG, RW, PA, -1), v;
	int c = rk_fork(&b->be, 0);
	pid_t pid;
	double t;

	ASSERT_GT(c, 0);
	b->host.timeout_ms = 300;
	pid = b->host.proc[c].pid;
	kill(pid, SIGSTOP);
	t = test_now();
	EXPECT_ERRNO(rk_mem_read(&b->be, c, a, &v, 8), -ETIMEDOUT);
	EXPECT_LT((test_now() - t) * 1000, 2000);
	EXPECT_TRUE(pid_gone(pid));
	EXPECT_FALSE(b->host.proc[c].live);
	/* One that died: -EIO, reaped. */
	c = rk_fork(&b->be, 0);
	ASSERT_GT(c, 0);
	pid = b->host.proc[c].pid;
	kill(pid, SIGKILL);
	EXPECT_ERRNO(rk_mem_read(&b->be, c, a, &v, 8), -EIO);
	EXPECT_TRUE(pid_gone(pid));
	be_free(b);
}

/* --- KSM ------------------------------------------------------------------ */

static const char *const knobs[] = { "run", "pages_to_scan", "sleep_millisecs",
				     "smart_scan", "advisor_mode" };

/* The knobs as no merge has them: read under the backend's lock file
 * (another test program may be merging meanwhile). */
static void knobs_read(char out[][64])
{
	int lock = open(RK_KSM_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	size_t i;

	/* Without it (not root: it is root's), no one can change them. */
	if (lock >= 0)
		ASSERT_OK(flock(lock, LOCK_EX)); /* bounded by the timeout */

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		char path[96];
		int fd;
		ssize_t n = 0;

		snprintf(path, sizeof(path), "/sys/kernel/mm/ksm/%s", knobs[i]);
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			n = read(fd, out[i], 63);
			close(fd);
		}
		out[i][n > 0 ? n : 0] = 0;
	}
	if (lock >= 0)
		close(lock);
}

static void ksm_case(int in_child)
{
	struct rk_be *b = be_new();
	uint64_t a = map(b, 0, 0, 4 * PG, RW, PA, -1), v;
	char before[ARRAY_SIZE(knobs)][64], after[ARRAY_SIZE(knobs)][64];
	uint8_t page[PG];
	int proc = 0, r;
	double t;
	size_t i;

	ASSERT_OK(rk_madvise(&b->be, 0, a, 4 * PG, MADV_MERGEABLE));
	memset(page, 0x3c, sizeof(page));
	ASSERT_OK(rk_mem_write(&b->be, 0, a, page, PG));
	ASSERT_OK(rk_mem_write(&b->be, 0, a + PG, page, PG));
	page[100] = 1;
	ASSERT_OK(rk_mem_write(&b->be, 0, a + 2 * PG, page, PG));
	/* a + 3p stays untouched: not present, not a candidate. */
	if (in_child) {
		proc = rk_fork(&b->be, 0);
		ASSERT_GT(proc, 0);
		page[100] = 0x3c; /* the child's copy becomes identical */
		ASSERT_OK(rk_mem_write(&b->be, proc, a + 2 * PG, page, PG));
	}
	knobs_read(before);
	t = test_now();
	r = rk_ksm_merge(&b->be, proc, a, 4 * PG);
	if (r == -EOPNOTSUPP)
		SKIP("%s", b->be.skip_reason);
	TEST_LOG("merge: %d after %.1f ms", r, (test_now() - t) * 1000);
	knobs_read(after);
	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		EXPECT_EQ(strcmp(before[i], after[i]), 0);
	/* In the child, its COWed page became identical: three merge. */
	EXPECT_EQ(r, in_child ? 3 : 2);
	/* Merged pages are still the data, and a write copies one. */
	put64(b, proc, a, 0xfeed);
	EXPECT_EQ(get64(b, proc, a), 0xfeed);
	EXPECT_EQ(get64(b, proc, a + PG), 0x3c3c3c3c3c3c3c3cull);
	/* Nothing to merge: 0, and the knobs are not touched. */
	v = rk_ksm_merge(&b->be, proc, a + 3 * PG, PG);
	EXPECT_EQ(v, 0);
	EXPECT_ERRNO(rk_ksm_merge(&b->be, proc, a + 1, PG), -EINVAL);
	be_free(b);
}

TEST_TIMEOUT(ksm_merge, 60)
{
	ksm_case(0);
}

TEST_TIMEOUT(ksm_merge_child, 60)
{
	ksm_case(1);
}

static void knob_peek(const char *name, char *buf, size_t size)
{
	char path[96];
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/mm/ksm/%s", name);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
}

/* A merge killed with the knobs changed: the next merge puts them back. */
TEST_TIMEOUT(ksm_killed_merge_is_undone, 60)
{
	char before[ARRAY_SIZE(knobs)][64], after[ARRAY_SIZE(knobs)][64];
	char sleep_ms[64];
	struct rk_be *b;
	uint64_t a;
	double t;
	size_t i;
	pid_t pid;
	int st;

	if (access("/sys/kernel/mm/ksm/run", W_OK))
		SKIP("the KSM knobs are not writable here");
	knobs_read(before);
	if (!strcmp(before[2], "0\n"))
		SKIP("sleep_millisecs is 0 already: a merge is not visible");
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		/* 64 MiB of alike pages: ksmd needs a while to merge them. */
		b = be_new();
		a = map(b, 0, 0, 64ull << 20, RW, PA, -1);
		memset((void *)(uintptr_t)a, 0x77, 64ull << 20);
		rk_madvise(&b->be, 0, a, 64ull << 20, MADV_MERGEABLE);
		rk_ksm_merge(&b->be, 0, a, 64ull << 20);
		_exit(0);
	}
	/* Kill it as soon as it has changed the knobs. */
	t = test_now();
	do
		knob_peek("sleep_millisecs", sleep_ms, sizeof(sleep_ms));
	while (strcmp(sleep_ms, "0\n") && test_now() - t < 20);
	kill(pid, SIGKILL);
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	if (!WIFSIGNALED(st))
		SKIP("the merge finished before it could be killed");
	ASSERT_EQ(strcmp(sleep_ms, "0\n"), 0);
	/* Any later merge first puts back what the killed one saved. */
	b = be_new();
	a = map(b, 0, 0, 2 * PG, RW, PA, -1);
	memset((void *)(uintptr_t)a, 0x12, 2 * PG);
	ASSERT_OK(rk_madvise(&b->be, 0, a, 2 * PG, MADV_MERGEABLE));
	EXPECT_EQ(rk_ksm_merge(&b->be, 0, a, 2 * PG), 2);
	knobs_read(after);
	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		EXPECT_EQ(strcmp(before[i], after[i]), 0);
	be_free(b);
}

TEST_HARNESS_MAIN
