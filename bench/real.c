// SPDX-License-Identifier: MIT
/*
 * The real-KVM column of the benchmarks (bench.h): the same operations on
 * this machine's /dev/kvm, through the "kvm" backend's ops table only, so
 * that every benchmark drives the real kernel one way: create a VM, map
 * its memory and set memslots, run TOUCH programs of the CPL3 guest on
 * vCPU threads started together, read KVM's statistics, destroy.
 *
 * Whatever makes the column n/a (no /dev/kvm, a VM this machine cannot
 * make, too little memory, a pass that timed out) is kept in r->why, and
 * the benchmark prints its model figures with "n/a (why)" beside them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kvmmu/backend.h>

#include "bench.h"

#define REAL_IO_CHUNK (1ull << 20) /* bench_real_verify()'s reads */

bool bench_real_init(struct bench_real *r)
{
	const char *why;

	memset(r, 0, sizeof(*r));
	r->ops = kvmmu_backend_find("kvm");
	if (!r->ops) {
		bench_real_skip(r, false, "no kvm backend in this build");
		return false;
	}
	why = r->ops->unavailable ? r->ops->unavailable() : NULL;
	if (why) {
		bench_real_skip(r, false, "%s", why);
		return false;
	}
	return true;
}

void bench_real_fini(struct bench_real *r)
{
	bench_real_destroy(r);
}

int bench_real_skip(struct bench_real *r, bool failed, const char *fmt, ...)
{
	va_list ap;

	/* The first reason is the one that counts. */
	if (r->why[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->failed = failed;
	return -1;
}

/* @what failed with @err: n/a, with the backend's skip reason if it gave
 * one (-EOPNOTSUPP). */
static int real_err(struct bench_real *r, const char *what, int err)
{
	if (err == -EOPNOTSUPP && r->be && r->be->skip_reason[0])
		return bench_real_skip(r, false, "%s: %s", what,
				       r->be->skip_reason);
	return bench_real_skip(r, false, "%s: %s", what, strerror(-err));
}

int bench_real_create(struct bench_real *r, unsigned int nr_vcpus)
{
	struct kvmmu_be_config cfg = { .arch = KVMMU_ARCH_X86,
				       .nr_vcpus = nr_vcpus };
	struct kvmmu_backend *be = NULL;
	int err;

	bench_real_destroy(r);
	err = r->ops->create(&cfg, &be);
	if (!err) {
		r->be = be;
		return 0;
	}
	if (be) {
		/* A refusal: an instance that only holds the reason. */
		bench_real_skip(r, false, "%s", be->skip_reason);
		be->ops->destroy(be);
		return -1;
	}
	return bench_real_skip(r, false, "VM create: %s", strerror(-err));
}

void bench_real_destroy(struct bench_real *r)
{
	if (r->be)
		r->be->ops->destroy(r->be);
	r->be = NULL;
}

int bench_real_mem_check(struct bench_real *r, uint64_t bytes)
{
	unsigned long long kib = 0;
	char line[128], a[32], b[32];
	FILE *f = fopen("/proc/meminfo", "re");
	bool found = false;

	if (!f)
		return 0; /* cannot tell: let the kernel say */
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "MemAvailable: %llu kB", &kib) == 1;
	fclose(f);
	/* A quarter left for everyone else, the model's memory included. */
	if (found && bytes > kib * 1024 / 4 * 3)
		return bench_real_skip(
			r, false, "needs %s of memory, %s available",
			bench_fmt_bytes(bytes, a, sizeof(a)),
			bench_fmt_bytes(kib * 1024, b, sizeof(b)));
	return 0;
}

int bench_real_ram(struct bench_real *r, int slot, uint64_t gpa, uint64_t len,
		   uint64_t *hva)
{
	int err;

	err = r->ops->mmap(r->be, 0, 0, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0,
			   hva);
	if (err)
		return real_err(r, "mmap", err);
	/*
	 * 4 KiB host pages, as the model's: a host THP would give one 2M
	 * shadow entry (with THP "always"; the advice is harmless otherwise).
	 */
	err = r->ops->madvise(r->be, 0, *hva, len, MADV_NOHUGEPAGE);
	if (err)
		return real_err(r, "madvise(MADV_NOHUGEPAGE)", err);
	if (slot < 0)
		return 0;
	return bench_real_slot(r, (uint32_t)slot, gpa, len, *hva);
}

int bench_real_slot(struct bench_real *r, uint32_t slot, uint64_t gpa,
		    uint64_t size, uint64_t hva)
{
	struct kvmmu_userspace_memory_region2 reg = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = hva,
	};
	int err = r->ops->set_memory_region(r->be, &reg);

	if (!err)
		return 0;
	return real_err(r,
			size ? "KVM_SET_USER_MEMORY_REGION" :
			       "KVM_SET_USER_MEMORY_REGION (delete)",
			err);
}

int bench_real_madvise(struct bench_real *r, uint64_t hva, uint64_t len,
		       int advice, uint64_t *ns)
{
	uint64_t t0 = bench_now_ns();
	int err = r->ops->madvise(r->be, 0, hva, len, advice);

	*ns = bench_now_ns() - t0;
	return err ? real_err(r, "madvise", err) : 0;
}

int bench_real_stat(struct bench_real *r, const char *name, uint64_t *out)
{
	int err = r->ops->stat(r->be, name, out);

	if (!err)
		return 0;
	return bench_real_skip(r, false, "KVM has no statistic %s (%s)", name,
			       strerror(-err));
}

/* --- one guest pass ------------------------------------------------------ */

struct real_touch {
	struct bench_real *r;
	struct bench_gate gate;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC */
	unsigned int done;   /* protected by lock */
};

struct real_worker {
	struct real_touch *t;
	unsigned int idx;
	pthread_t tid;
	uint64_t t0, t1, cpu;
	int err;
	struct kvmmu_be_exit exit;
};

static void *real_worker_fn(void *arg)
{
	struct real_worker *w = arg;
	struct real_touch *t = w->t;
	uint64_t c0;

	if (bench_gate_wait(&t->gate)) {
		c0 = bench_thread_cpu_ns();
		w->t0 = bench_now_ns();
		w->err = t->r->ops->vcpu_run(t->r->be, w->idx, &w->exit);
		w->t1 = bench_now_ns();
		w->cpu = bench_thread_cpu_ns() - c0;
	}
	pthread_mutex_lock(&t->lock);
	t->done++;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/*
 * Wait until @nv workers are done or @timeout_ns passed.  Return: true if
 * they all finished in time.
 */
static bool real_wait(struct real_touch *t, unsigned int nv,
		      uint64_t timeout_ns)
{
	uint64_t end = bench_now_ns() + timeout_ns;
	struct timespec ts = { .tv_sec = (time_t)(end / 1000000000ull),
			       .tv_nsec = (long)(end % 1000000000ull) };
	bool in_time = true;

	pthread_mutex_lock(&t->lock);
	while (t->done < nv && in_time)
		in_time = pthread_cond_timedwait(&t->cond, &t->lock, &ts) !=
			  ETIMEDOUT;
	in_time = t->done == nv;
	pthread_mutex_unlock(&t->lock);
	return in_time;
}

/* Load every vCPU's TOUCH program.  Return: 0 or -1 (why set). */
static int real_load(struct bench_real *r, unsigned int nv, uint64_t gpa,
		     uint64_t bytes, uint64_t value)
{
	unsigned int i;
	int err;

	for (i = 0; i < nv; i++) {
		struct kvmmu_be_op op = {
			.kind = KVMMU_BE_TOUCH,
			.gpa = gpa + i * bytes,
			.size = bytes,
			.write = true,
			.value = value + i,
		};

		err = r->ops->vcpu_load(r->be, i, &op, 1, 1);
		if (err == -E2BIG)
			return bench_real_skip(r, false,
					       "a vCPU program of the kvm "
					       "backend touches less than "
					       "4 GiB (-b)");
		if (err)
			return real_err(r, "vcpu_load", err);
	}
	return 0;
}

/* The workers' results into @p.  Return: 0 or -1 (why set). */
static int real_collect(struct bench_real *r, struct real_worker *w,
			unsigned int nv, bool in_time, uint64_t timeout_ns,
			struct bench_real_pass *p)
{
	uint64_t first = UINT64_MAX, last = 0;
	unsigned int i;

	memset(p, 0, sizeof(*p));
	if (!in_time)
		return bench_real_skip(r, false,
				       "a guest pass took longer than %.1f s "
				       "(the vCPUs were kicked)",
				       (double)timeout_ns * 1e-9);
	for (i = 0; i < nv; i++) {
		if (w[i].err)
			return real_err(r, "vcpu_run", w[i].err);
		if (w[i].exit.reason == KVMMU_BE_EXIT_INTERNAL &&
		    strstr(w[i].exit.detail, "timed out"))
			return bench_real_skip(r, false, "vCPU %u: %s", i,
					       w[i].exit.detail);
		if (w[i].exit.reason != KVMMU_BE_EXIT_DONE)
			return bench_real_skip(
				r, true,
				"vCPU %u: exit %d instead of the "
				"program's end%s%s (mmio %#llx, efault %#llx)",
				i, (int)w[i].exit.reason,
				w[i].exit.detail[0] ? ": " : "",
				w[i].exit.detail,
				(unsigned long long)w[i].exit.mmio.addr,
				(unsigned long long)w[i].exit.efault_gpa);
		first = min(first, w[i].t0);
		last = max(last, w[i].t1);
		p->sum_ns += w[i].t1 - w[i].t0;
		p->cpu_ns += w[i].cpu;
	}
	p->wall_ns = last - first;
	return 0;
}

int bench_real_touch(struct bench_real *r, unsigned int nv, uint64_t gpa,
		     uint64_t bytes, uint64_t value, struct bench_real_pass *p)
{
	uint64_t pages = bytes / 4096 * nv, fixed0, fixed1, timeout_ns;
	struct real_worker *w = calloc(nv, sizeof(*w));
	struct real_touch t = { .r = r };
	pthread_condattr_t ca;
	unsigned int i, started;
	bool in_time;
	int ret = -1;

	if (!w)
		return bench_real_skip(r, false, "out of memory");
	if (real_load(r, nv, gpa, bytes, value) ||
	    bench_real_stat(r, "pf_fixed", &fixed0)) {
		free(w);
		return -1;
	}
	bench_gate_init(&t.gate);
	pthread_mutex_init(&t.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t.cond, &ca);
	pthread_condattr_destroy(&ca);
	/* Every thread exists before any vCPU runs (creating one takes
	 * mmap_lock for write, which would stall faulting vCPUs). */
	for (started = 0; started < nv; started++) {
		w[started].t = &t;
		w[started].idx = started;
		if (pthread_create(&w[started].tid, NULL, real_worker_fn,
				   &w[started]))
			break;
	}
	bench_gate_release(&t.gate, started < nv);
	timeout_ns = BENCH_REAL_PASS_S * 1000000000ull +
		     pages * BENCH_REAL_PASS_NS_PER_PAGE;
	in_time = real_wait(&t, started, timeout_ns);
	if (!in_time) {
		for (i = 0; i < started; i++)
			r->ops->vcpu_kick(r->be, i);
	}
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	if (started < nv)
		bench_real_skip(r, false, "pthread_create failed");
	else if (!real_collect(r, w, nv, in_time, timeout_ns, p) &&
		 !bench_real_stat(r, "pf_fixed", &fixed1)) {
		p->pf_fixed = fixed1 - fixed0;
		/* Prefetch maps only pages the host has present: on fresh
		 * memory, one shadow fault per page. */
		if (p->pf_fixed < pages)
			bench_real_skip(r, true,
					"pf_fixed grew by %llu for %llu pages",
					(unsigned long long)p->pf_fixed,
					(unsigned long long)pages);
		else
			ret = 0;
	}
	pthread_cond_destroy(&t.cond);
	pthread_mutex_destroy(&t.lock);
	bench_gate_destroy(&t.gate);
	free(w);
	return ret;
}

int bench_real_verify(struct bench_real *r, uint64_t hva, unsigned int nv,
		      uint64_t bytes, uint64_t value)
{
	uint64_t *buf = malloc(REAL_IO_CHUNK), off, n, pg;
	unsigned int i;
	int err;

	if (!buf)
		return bench_real_skip(r, false, "out of memory");
	for (i = 0; i < nv; i++) {
		for (off = 0; off < bytes; off += n) {
			n = min(bytes - off, REAL_IO_CHUNK);
			err = r->ops->mem_read(r->be, 0, hva + i * bytes + off,
					       buf, n);
			if (err) {
				free(buf);
				return real_err(r, "mem_read", err);
			}
			for (pg = 0; pg < n / 4096; pg++) {
				uint64_t got = buf[pg * 512];

				if (got == value + i)
					continue;
				free(buf);
				return bench_real_skip(
					r, true,
					"vCPU %u: page at %#llx reads %#llx, "
					"not the guest's %#llx",
					i,
					(unsigned long long)(i * bytes + off +
							     pg * 4096),
					(unsigned long long)got,
					(unsigned long long)(value + i));
			}
		}
	}
	free(buf);
	return 0;
}

int bench_real_host_touch(struct bench_real *r, uint64_t hva, uint64_t len)
{
	uint64_t off, word;
	int err;

	for (off = 0; off < len; off += 4096) {
		word = off | 1;
		err = r->ops->mem_write(r->be, 0, hva + off, &word,
					sizeof(word));
		if (err)
			return real_err(r, "mem_write", err);
	}
	return 0;
}

/* --- printing -------------------------------------------------------------- */

const char *bench_real_cell(bool have, char *buf, size_t len, double v,
			    int prec, const char *unit)
{
	if (have)
		snprintf(buf, len, "%.*f%s", prec, v, unit);
	else
		snprintf(buf, len, "n/a");
	return buf;
}

const char *bench_real_vs(bool have, char *buf, size_t len,
			  double model_speedup)
{
	if (!have || !(model_speedup > 0) || model_speedup > 1e12)
		snprintf(buf, len, "-");
	else if (model_speedup >= 1)
		snprintf(buf, len, "%.2fx faster", model_speedup);
	else
		snprintf(buf, len, "%.2fx slower", 1 / model_speedup);
	return buf;
}

void bench_real_row(int label_width, const char *label, const char *model,
		    const char *real, const char *vs, const char *note)
{
	if (note[0])
		printf("%-*s %15s %15s  %-14s  %s\n", label_width, label, model,
		       real, vs, note);
	else
		printf("%-*s %15s %15s  %s\n", label_width, label, model, real,
		       vs);
}

void bench_real_status(const struct bench_real *r, const char *what)
{
	if (r->why[0])
		printf("Real KVM: n/a (%s)\n", r->why);
	else
		printf("Real KVM: %s\n", what);
}

void bench_real_json(const struct bench_real *r, struct bench_json *j)
{
	char buf[sizeof(r->why) + 8];

	if (!r->why[0]) {
		bench_json_str(j, "real", "kvm");
		return;
	}
	snprintf(buf, sizeof(buf), "n/a (%s)", r->why);
	bench_json_str(j, "real", buf);
}
