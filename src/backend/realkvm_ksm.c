// SPDX-License-Identifier: MIT
/*
 * The real-KVM backend, host side: KSM on demand (rk_ksm_merge()).
 *
 * The kernel merges in the background (ksmd), driven by the knobs of
 * /sys/kernel/mm/ksm.  To merge one range now: read its candidate pages
 * (present anonymous pages of MADV_MERGEABLE VMAs, not the shared zero
 * page), group the identical ones, turn ksmd on fast (run=1, a large
 * pages_to_scan, sleep_millisecs=0, smart_scan=0 so that no page is
 * skipped), and watch /proc/PID/pagemap until every group maps one frame;
 * then put every knob back exactly as it was read.  ksmd needs two full
 * scans to merge a new pair (a page's checksum must hold still for one
 * scan before the page enters the unstable tree).
 *
 * The knobs are system-wide: a lock file (RK_KSM_LOCK) serialises kvmmu
 * processes, a mutex the backends of this one, so that no one saves a
 * value another one has changed.  The saved values are put back on every
 * path out, by rk_host_fini() and by an atexit() handler if a merge is
 * ever cut short.  They are also written to the lock file while the knobs
 * are changed: a process killed mid-merge (SIGKILL, a test's timeout)
 * leaves them there, and the next merge of any kvmmu process puts them
 * back before it saves anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <kvmmu/log.h>

#include "realkvm_host.h"

#define KSM_DIR		  "/sys/kernel/mm/ksm/"
#define KSM_PAGES_TO_SCAN "10000"
#define PM_PRESENT	  (1ull << 63)
#define PM_SWAP		  (1ull << 62)
#define PM_FILE		  (1ull << 61) /* file page or shared anon */
#define PM_PFN		  ((1ull << 55) - 1)

enum {
	K_RUN,
	K_PAGES,
	K_SLEEP,
	K_SMART,
	K_NR
};

static const char *const knob_name[K_NR] = { "run", "pages_to_scan",
					     "sleep_millisecs", "smart_scan" };

static struct {
	pthread_mutex_t lock; /* one merge of this process at a time */
	bool atexit_done;
	unsigned int changed; /* bit per knob: it may differ from saved[] */
	char saved[K_NR][32];
} ksm = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int knob_read(const char *name, char *buf, size_t size)
{
	char path[96];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	return 0;
}

static int knob_write(const char *name, const char *val)
{
	size_t len = strlen(val);
	char path[96];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	close(fd);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Put back every changed knob, run first (ksmd stops before the rest). */
static void knobs_restore(void)
{
	unsigned int i,
		changed = __atomic_load_n(&ksm.changed, __ATOMIC_ACQUIRE);
	int r;

	for (i = 0; i < K_NR; i++) {
		if (!(changed & (1u << i)))
			continue;
		r = knob_write(knob_name[i], ksm.saved[i]);
		if (r)
			pr_err("kvm backend: cannot restore " KSM_DIR
			       "%s to %s: %s\n",
			       knob_name[i], ksm.saved[i], strerror(-r));
		else
			__atomic_and_fetch(&ksm.changed, ~(1u << i),
					   __ATOMIC_RELEASE);
	}
}

static void ksm_atexit(void)
{
	/* The process is ending: whoever holds the mutex will not finish. */
	knobs_restore();
}

/*
 * rk_ksm_restore() - put back any knob a merge left changed (none, unless
 * one was cut short).  Context: not within rk_ksm_merge().
 */
void rk_ksm_restore(void)
{
	pthread_mutex_lock(&ksm.lock);
	knobs_restore();
	pthread_mutex_unlock(&ksm.lock);
}

/*
 * Knobs a killed merge left changed: their saved values are in the lock
 * file @fd (name=value lines).  Put them back and empty the file.
 * Context: the lock file held.
 */
static void knobs_recover(int fd)
{
	char buf[256], *line, *save = NULL;
	unsigned int i;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq = 0;
		for (i = 0; i < K_NR; i++)
			if (!strcmp(line, knob_name[i]) &&
			    knob_write(knob_name[i], eq + 1))
				pr_err("kvm backend: cannot restore " KSM_DIR
				       "%s to %s\n",
				       knob_name[i], eq + 1);
	}
	pr_warn("kvm backend: put back the KSM knobs a killed kvmmu process "
		"left changed\n");
	if (ftruncate(fd, 0))
		pr_err("kvm backend: cannot empty " RK_KSM_LOCK "\n");
}

/* Write the saved values to the lock file @fd before changing a knob. */
static int knobs_record(int fd)
{
	char buf[256];
	unsigned int i;
	size_t n = 0;

	for (i = 0; i < K_NR; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s=%s\n",
				      knob_name[i], ksm.saved[i]);
	if (n >= sizeof(buf) || ftruncate(fd, 0) ||
	    pwrite(fd, buf, n, 0) != (ssize_t)n)
		return -EIO;
	return 0;
}

/* Save the knobs and make ksmd scan flat out.  Context: ksm.lock and the
 * lock file @fd held.  Return: 0 or a SKIP (everything put back). */
static int knobs_set(struct kvmmu_backend *be, int fd)
{
	const char *want[K_NR] = { "1", KSM_PAGES_TO_SCAN, "0", "0" };
	char mode[64];
	unsigned int i;
	int r;

	/* The scan-time advisor owns pages_to_scan (and refuses writes). */
	if (!knob_read("advisor_mode", mode, sizeof(mode)) &&
	    !strstr(mode, "[none]"))
		want[K_PAGES] = NULL;
	for (i = 0; i < K_NR; i++) {
		/* One an earlier restore failed on keeps its first value. */
		if (ksm.changed & (1u << i))
			continue;
		r = knob_read(knob_name[i], ksm.saved[i], sizeof(ksm.saved[i]));
		if (r == -ENOENT && i == K_SMART)
			want[i] = NULL; /* before Linux 6.7 */
		else if (r)
			return rk_skip(be, "cannot read " KSM_DIR "%s: %s",
				       knob_name[i], strerror(-r));
	}
	if (!ksm.atexit_done && !atexit(ksm_atexit))
		ksm.atexit_done = true;
	if (knobs_record(fd))
		return rk_skip(be, "cannot write " RK_KSM_LOCK);
	for (i = 0; i < K_NR; i++) {
		if (!want[i] || !strcmp(want[i], ksm.saved[i]))
			continue;
		__atomic_or_fetch(&ksm.changed, 1u << i, __ATOMIC_RELEASE);
		r = knob_write(knob_name[i], want[i]);
		if (r) {
			knobs_restore();
			return rk_skip(be, "cannot write " KSM_DIR "%s: %s",
				       knob_name[i], strerror(-r));
		}
	}
	return 0;
}

/* The lock file, within @ms.  Return: its descriptor, or a SKIP. */
static int lock_file(struct kvmmu_backend *be, unsigned int ms)
{
	uint64_t deadline = rk_now_ms() + ms;
	struct timespec tick = { .tv_nsec = 1000000 };
	int fd = open(RK_KSM_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		      0600);

	if (fd < 0)
		return rk_skip(be, "cannot open " RK_KSM_LOCK ": %s",
			       strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return rk_skip(be, "cannot lock " RK_KSM_LOCK ": %s",
				       strerror(errno));
		}
		if (rk_now_ms() >= deadline) {
			close(fd);
			return rk_skip(
				be,
				"another kvmmu process has held the KSM knobs (" RK_KSM_LOCK
				") for %u ms",
				ms);
		}
		nanosleep(&tick, NULL);
	}
	return fd;
}

/* --- the range's pages ---------------------------------------------------- */

struct ksm_page {
	uint64_t addr, hash, pfn;
	size_t leader; /* index of its group's first page; SIZE_MAX: alone */
};

struct ksm_scan {
	pid_t pid;
	int pagemap;
	uint64_t zero_pfn;
	struct ksm_page *pg;
	size_t n, cap;
	uint8_t page[2][PAGE_SIZE];
};

/* The pagemap entry of @addr, or 0. */
static uint64_t pm_entry(struct ksm_scan *s, uint64_t addr)
{
	uint64_t e;

	if (pread(s->pagemap, &e, sizeof(e),
		  (off_t)(addr / PAGE_SIZE * sizeof(e))) != sizeof(e))
		return 0;
	return e;
}

/* The frame of @addr if an anonymous page is mapped there, else 0. */
static uint64_t pm_anon_pfn(struct ksm_scan *s, uint64_t addr)
{
	uint64_t e = pm_entry(s, addr);

	if (!(e & PM_PRESENT) || (e & (PM_SWAP | PM_FILE)))
		return 0;
	return e & PM_PFN;
}

static int read_page(struct ksm_scan *s, uint64_t addr, void *buf)
{
	struct iovec l = { .iov_base = buf, .iov_len = PAGE_SIZE };
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr,
			   .iov_len = PAGE_SIZE };

	return process_vm_readv(s->pid, &l, 1, &r, 1, 0) == PAGE_SIZE ? 0 :
									-EFAULT;
}

static uint64_t page_hash(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t h = 0x84222325cbf29ce4ull;
	size_t i;

	for (i = 0; i < PAGE_SIZE / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ull;
	return h;
}

/* The shared zero page's frame, as a read of fresh anonymous memory maps
 * it (a scratch mapping of our own). */
static uint64_t zero_pfn_probe(struct ksm_scan *s)
{
	volatile uint8_t *p = mmap(NULL, PAGE_SIZE, PROT_READ,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t e = 0, pfn = 0;
	int fd;

	if (p == MAP_FAILED)
		return 0;
	(void)p[0];
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && pread(fd, &e, sizeof(e),
			     (off_t)((uintptr_t)p / PAGE_SIZE * 8)) == 8)
		pfn = e & PM_PRESENT ? e & PM_PFN : 0;
	if (fd >= 0)
		close(fd);
	munmap((void *)p, PAGE_SIZE);
	return pfn;
}

static int scan_add(struct ksm_scan *s, uint64_t addr, uint64_t pfn)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct ksm_page *pg = realloc(s->pg, cap * sizeof(*pg));

		if (!pg)
			return -ENOMEM;
		s->pg = pg;
		s->cap = cap;
	}
	if (read_page(s, addr, s->page[0]))
		return 0; /* not readable: not a candidate */
	s->pg[s->n++] = (struct ksm_page){ .addr = addr,
					   .hash = page_hash(s->page[0]),
					   .pfn = pfn,
					   .leader = SIZE_MAX };
	return 0;
}

struct collect {
	struct kvmmu_backend *be;
	struct ksm_scan *s;
	const struct rk_space *own;
	uint64_t start, end;
};

static int collect_vma(void *arg, uint64_t vs, uint64_t ve, const char *flags)
{
	struct collect *c = arg;
	struct ksm_scan *s = c->s;
	uint64_t a;
	int r = 0;

	if (!strstr(flags, " mg"))
		return 0;
	for (a = max(vs, c->start); !r && a < min(ve, c->end); a += PAGE_SIZE) {
		uint64_t e = pm_entry(s, a), pfn = e & PM_PFN;

		if (!(e & PM_PRESENT) || (e & (PM_SWAP | PM_FILE)))
			continue;
		if (!pfn)
			r = rk_skip(
				c->be,
				"PFNs in /proc/%d/pagemap read as 0 (KSM merges cannot be seen without CAP_SYS_ADMIN)",
				(int)s->pid);
		else if (pfn != s->zero_pfn &&
			 (!c->own || rk_sp_owns(c->own, a, a + PAGE_SIZE)))
			r = scan_add(s, a, pfn);
	}
	return r;
}

/*
 * Collect the candidates of [@start, @end): pages of VMAs with the "mg"
 * flag (MADV_MERGEABLE), owned if @own (the VMM), present, anonymous and
 * not the zero page.  Return: 0, -EOPNOTSUPP (PFNs hidden), -errno.
 */
static int scan_collect(struct kvmmu_backend *be, struct ksm_scan *s,
			const struct rk_space *own, uint64_t start,
			uint64_t end)
{
	struct collect c = {
		.be = be, .s = s, .own = own, .start = start, .end = end
	};

	return rk_smaps_walk(s->pid, collect_vma, &c);
}

static int cmp_hash(const void *x, const void *y)
{
	const struct ksm_page *a = x, *b = y;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/* Sort by contents and mark the groups of identical pages.  Return: the
 * number of pages in groups of two or more. */
static size_t scan_group(struct ksm_scan *s)
{
	size_t i, j, k, grouped = 0;

	if (s->n)
		qsort(s->pg, s->n, sizeof(*s->pg), cmp_hash);
	for (i = 0; i < s->n; i = j) {
		size_t members = 0;

		for (j = i + 1; j < s->n && s->pg[j].hash == s->pg[i].hash; j++)
			;
		if (j - i < 2 || read_page(s, s->pg[i].addr, s->page[0]))
			continue;
		/* A hash collision leaves a page alone: never waited for. */
		for (k = i + 1; k < j; k++)
			if (!read_page(s, s->pg[k].addr, s->page[1]) &&
			    !memcmp(s->page[0], s->page[1], PAGE_SIZE)) {
				s->pg[k].leader = i;
				members++;
			}
		if (members) {
			s->pg[i].leader = i;
			grouped += members + 1;
		}
	}
	return grouped;
}

/* Whether every group maps one frame now. */
static bool scan_merged(struct ksm_scan *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->pg[i].leader != SIZE_MAX)
			s->pg[i].pfn = pm_anon_pfn(s, s->pg[i].addr);
	for (i = 0; i < s->n; i++) {
		const struct ksm_page *p = &s->pg[i];

		if (p->leader != SIZE_MAX &&
		    (!p->pfn || p->pfn != s->pg[p->leader].pfn))
			return false;
	}
	return true;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Candidates whose frame (now) is another candidate's frame as well. */
static int scan_count(struct ksm_scan *s)
{
	uint64_t *pfn = malloc((s->n ? s->n : 1) * sizeof(*pfn));
	size_t i, j, n = 0;
	int shared = 0;

	if (!pfn)
		return -ENOMEM;
	for (i = 0; i < s->n; i++) {
		uint64_t e = pm_entry(s, s->pg[i].addr);

		if ((e & PM_PRESENT) && !(e & PM_FILE))
			pfn[n++] = e & PM_PFN;
	}
	if (n)
		qsort(pfn, n, sizeof(*pfn), cmp_u64);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && pfn[j] == pfn[i]; j++)
			;
		if (j - i > 1)
			shared += (int)(j - i);
	}
	free(pfn);
	return shared;
}

/* Run ksmd until every group is merged, within @ms.  Context: ksm.lock. */
static int ksm_run(struct kvmmu_backend *be, struct ksm_scan *s,
		   unsigned int ms)
{
	struct timespec tick = { .tv_nsec = 1000000 };
	uint64_t t0 = rk_now_ms(), deadline = t0 + ms;
	int lock, r;

	lock = lock_file(be, ms);
	if (lock < 0)
		return lock;
	knobs_recover(lock);
	r = knobs_set(be, lock);
	while (!r && !scan_merged(s)) {
		if (rk_now_ms() >= deadline)
			r = -ETIMEDOUT;
		else
			nanosleep(&tick, NULL);
	}
	knobs_restore();
	if (!__atomic_load_n(&ksm.changed, __ATOMIC_ACQUIRE) &&
	    ftruncate(lock, 0))
		pr_err("kvm backend: cannot empty " RK_KSM_LOCK "\n");
	close(lock);
	pr_debug("kvm backend: ksm merge of %zu pages: %d after %llu ms\n",
		 s->n, r, (unsigned long long)(rk_now_ms() - t0));
	return r;
}

/*
 * rk_ksm_merge() - merge the identical pages of @proc's MADV_MERGEABLE
 * memory in [@addr, @addr + @len) now, with the kernel's ksmd.
 * Return: the number of candidate pages of the range (present anonymous
 * pages of mergeable VMAs, not the zero page; in the VMM, only the
 * scenario's) whose frame another candidate maps too, afterwards; -EBADF
 * (no process @proc), -EINVAL (unaligned or wrapping), -ETIMEDOUT (not
 * merged within the bound), -EOPNOTSUPP (no KSM, knobs not writable,
 * PFNs hidden), -ENOMEM.  Every knob is as it was when this returns.
 * Context: the runner thread; may sleep up to h->timeout_ms.
 */
int rk_ksm_merge(struct kvmmu_backend *be, int proc, uint64_t addr,
		 uint64_t len)
{
	struct rk_host *h = rk_host_of(be);
	unsigned int nr = h->nr_own;
	struct rk_space own = { .r = h->own, .n = &nr, .cap = h->cap_own };
	static uint64_t zero_pfn;
	struct ksm_scan *s;
	char path[64];
	int r;

	if (proc < 0 || proc >= RK_MAX_PROCS || !h->proc[proc].live)
		return -EBADF;
	if (((addr | len) & ~PAGE_MASK) || addr + len < addr)
		return -EINVAL;
	if (access(KSM_DIR "run", F_OK))
		return rk_skip(be, "no KSM in this kernel (" KSM_DIR
				   " is missing)");
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->pid = proc ? h->proc[proc].pid : getpid();
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)s->pid);
	s->pagemap = open(path, O_RDONLY | O_CLOEXEC);
	if (s->pagemap < 0) {
		r = rk_skip(be, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	s->zero_pfn = __atomic_load_n(&zero_pfn, __ATOMIC_RELAXED);
	if (!s->zero_pfn) {
		s->zero_pfn = zero_pfn_probe(s);
		__atomic_store_n(&zero_pfn, s->zero_pfn, __ATOMIC_RELAXED);
	}
	r = scan_collect(be, s, proc ? NULL : &own, addr, addr + len);
	if (!r && scan_group(s)) {
		pthread_mutex_lock(&ksm.lock);
		r = ksm_run(be, s, h->timeout_ms);
		pthread_mutex_unlock(&ksm.lock);
	}
	if (!r)
		r = scan_count(s);
	close(s->pagemap);
out:
	free(s->pg);
	free(s);
	return r;
}
