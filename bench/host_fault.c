// SPDX-License-Identifier: MIT
/*
 * host_fault: first-touch write faults of private anonymous memory, the
 * model host against the real kernel of this machine, in the same run.
 *
 * Each of -v threads writes one byte to every 4 KiB page of its own -b
 * bytes of one mapping (as demand_paging_test's vCPUs each make one pass
 * over their own region).  Model: a host with all of its RAM populated up
 * front (so no real page fault lands in the timed loop) and poisoning off,
 * a fresh mm per iteration, writes through kvmmu_mm_write().  Kernel: a
 * MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE mapping with transparent huge
 * pages turned off for it, so that both sides take one fault per 4 KiB page.
 *
 * Both sides are checked: the model's pgfault counter and the process's
 * minor-fault count must each grow by at least one per page, every page
 * must read back the byte written to it, and the model host must audit
 * clean after teardown.
 *
 * Models: tools/testing/selftests/kvm/demand_paging_test.c (populate rate)
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <kvmmu/host.h>
#include <kvmmu/stats.h>

#include "bench.h"

#define HF_HEADROOM  (64ull << 20) /* model RAM beyond the test memory */
#define HF_MAX_RAM   (64ull << 30) /* kvmmu_host_config limit */
#define HF_MAX_ITERS 100

enum hf_side {
	HF_MODEL,
	HF_KERNEL,
};

static const char *const hf_side_name[] = { "model", "kernel" };

struct hf_run {
	enum hf_side side;
	uint64_t pages_per_thread;
	struct bench_gate gate; /* workers start together */
	struct kvmmu_mm *mm;	/* model */
	hva_t base;		/* model */
	volatile uint8_t *mem;	/* kernel */
};

struct hf_worker {
	struct hf_run *run;
	unsigned int idx;
	pthread_t tid;
	uint64_t t0, t1; /* this worker's pass, bench_now_ns() */
	int err;	 /* model: first error of kvmmu_mm_write() */
	hva_t where;	 /* ... and its address */
};

/* The byte written to page @pg: never 0, so a missed write shows. */
static inline uint8_t hf_byte(uint64_t pg)
{
	return (uint8_t)(0x80 | (pg & 0x7f));
}

static void *hf_worker_fn(void *arg)
{
	struct hf_worker *w = arg;
	struct hf_run *r = w->run;
	uint64_t first = w->idx * r->pages_per_thread;
	uint64_t pg, last = first + r->pages_per_thread;
	bool go;

	go = bench_gate_wait(&r->gate);
	if (!go)
		return NULL;
	w->t0 = bench_now_ns();
	if (r->side == HF_KERNEL) {
		for (pg = first; pg < last; pg++)
			r->mem[pg * PAGE_SIZE] = hf_byte(pg);
	} else {
		for (pg = first; pg < last; pg++) {
			uint8_t b = hf_byte(pg);
			hva_t hva = r->base + pg * PAGE_SIZE;
			int ret = kvmmu_mm_write(r->mm, hva, &b, 1);

			if (ret) {
				w->err = ret;
				w->where = hva;
				break;
			}
		}
	}
	w->t1 = bench_now_ns();
	return NULL;
}

static uint64_t minor_faults(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (uint64_t)ru.ru_minflt;
}

/*
 * Start the workers, let them go together, and return in *ns the wall time
 * from the first worker's start to the last one's end (so that thread
 * creation and wake-up latency stay out of it).  Return: 0 or 1.
 */
static int hf_timed_pass(const struct bench *b, struct hf_run *r,
			 unsigned int threads, uint64_t *ns)
{
	struct hf_worker *w = calloc(threads, sizeof(*w));
	uint64_t first = UINT64_MAX, last = 0;
	unsigned int i, started;
	int err = 0, ret = 0;

	if (!w)
		return bench_fail(b, "out of memory");
	bench_gate_init(&r->gate);
	for (started = 0; started < threads; started++) {
		w[started].run = r;
		w[started].idx = started;
		err = pthread_create(&w[started].tid, NULL, hf_worker_fn,
				     &w[started]);
		if (err)
			break;
	}
	bench_gate_release(&r->gate, err != 0);
	for (i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		first = min(first, w[i].t0);
		last = max(last, w[i].t1);
	}
	*ns = last > first ? last - first : 0;
	bench_gate_destroy(&r->gate);

	if (err)
		ret = bench_fail(b, "pthread_create: %s", strerror(err));
	for (i = 0; i < started && !ret; i++)
		if (w[i].err)
			ret = bench_fail(b, "model write at %#llx: %s",
					 (unsigned long long)w[i].where,
					 strerror(-w[i].err));
	free(w);
	return ret;
}

static int hf_model_pass(const struct bench *b, const struct bench_opts *o,
			 struct kvmmu_host *host, uint64_t *ns)
{
	struct kvmmu_stats *stats = kvmmu_host_stats(host);
	uint64_t pages = o->bytes / PAGE_SIZE * o->threads;
	uint64_t len = pages * PAGE_SIZE, f0, f1, pg;
	struct hf_run r = { .side = HF_MODEL };
	int ret;

	r.pages_per_thread = o->bytes / PAGE_SIZE;
	ret = kvmmu_mm_create(host, &r.mm);
	if (ret)
		return bench_fail(b, "kvmmu_mm_create: %s", strerror(-ret));
	ret = kvmmu_mmap(r.mm, 0, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &r.base);
	if (ret) {
		bench_fail(b, "kvmmu_mmap of %llu bytes: %s",
			   (unsigned long long)len, strerror(-ret));
		goto out;
	}
	ret = kvmmu_stats_get(stats, "pgfault", &f0);
	if (ret) {
		bench_fail(b, "the host has no pgfault counter");
		goto out;
	}

	ret = hf_timed_pass(b, &r, o->threads, ns);
	if (ret)
		goto out;

	ret = 1;
	kvmmu_stats_get(stats, "pgfault", &f1);
	if (f1 - f0 < pages) {
		bench_fail(b,
			   "model: pgfault grew by %llu, expected >= %llu: "
			   "the writes did not fault",
			   (unsigned long long)(f1 - f0),
			   (unsigned long long)pages);
		goto out;
	}
	for (pg = 0; pg < pages; pg++) {
		uint8_t v = 0;
		int err = kvmmu_mm_read(r.mm, r.base + pg * PAGE_SIZE, &v, 1);

		if (err || v != hf_byte(pg)) {
			bench_fail(b,
				   "model: page %llu reads %#x (%s), "
				   "wrote %#x",
				   (unsigned long long)pg, v,
				   err ? strerror(-err) : "ok", hf_byte(pg));
			goto out;
		}
	}
	ret = kvmmu_munmap(r.mm, r.base, len);
	if (ret) {
		bench_fail(b, "kvmmu_munmap: %s", strerror(-ret));
		ret = 1;
	}
out:
	kvmmu_mmput(r.mm);
	return ret ? 1 : 0;
}

static int hf_kernel_pass(const struct bench *b, const struct bench_opts *o,
			  uint64_t *ns)
{
	uint64_t pages = o->bytes / PAGE_SIZE * o->threads;
	uint64_t len = pages * PAGE_SIZE, m0, m1, pg;
	struct hf_run r = { .side = HF_KERNEL };
	void *p;
	int ret;

	r.pages_per_thread = o->bytes / PAGE_SIZE;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return bench_fail(b, "mmap of %llu bytes: %s",
				  (unsigned long long)len, strerror(errno));
	/* One fault per 4 KiB page, as in the model (no THP there yet). */
	if (madvise(p, len, MADV_NOHUGEPAGE) && errno != EINVAL) {
		ret = bench_fail(b, "madvise(MADV_NOHUGEPAGE): %s",
				 strerror(errno));
		goto out;
	}
	r.mem = p;

	m0 = minor_faults();
	ret = hf_timed_pass(b, &r, o->threads, ns);
	if (ret)
		goto out;
	m1 = minor_faults();

	ret = 1;
	if (m1 - m0 < pages) {
		bench_fail(b,
			   "kernel: %llu minor faults for %llu pages: "
			   "the writes did not fault",
			   (unsigned long long)(m1 - m0),
			   (unsigned long long)pages);
		goto out;
	}
	for (pg = 0; pg < pages; pg++) {
		if (r.mem[pg * PAGE_SIZE] != hf_byte(pg)) {
			bench_fail(b, "kernel: page %llu reads %#x, wrote %#x",
				   (unsigned long long)pg,
				   r.mem[pg * PAGE_SIZE], hf_byte(pg));
			goto out;
		}
	}
	ret = 0;
out:
	munmap(p, len);
	return ret;
}

/* The model host must account for every frame after teardown. */
static int hf_audit(const struct bench *b, struct kvmmu_host *host,
		    struct kvmmu_host_audit *a)
{
	int ret = kvmmu_host_audit(host, a);

	if (ret || a->bad || a->mms || a->files || a->in_use)
		return bench_fail(b,
				  "host audit after teardown: %s, bad %llu, "
				  "mms %llu, files %llu, in use %llu",
				  ret ? strerror(-ret) : "ok",
				  (unsigned long long)a->bad,
				  (unsigned long long)a->mms,
				  (unsigned long long)a->files,
				  (unsigned long long)a->in_use);
	return 0;
}

static int hf_check_size(const struct bench *b, const struct bench_opts *o,
			 uint64_t *ram)
{
	uint64_t total = o->bytes * o->threads;
	long phys = sysconf(_SC_PHYS_PAGES);

	if (o->bytes % PAGE_SIZE)
		return bench_fail(b, "-b must be a multiple of 4 KiB");
	if (total / o->threads != o->bytes || total > HF_MAX_RAM - HF_HEADROOM)
		return bench_fail(b,
				  "%u x %llu bytes is more than the model "
				  "host's %llu GiB of RAM allows",
				  o->threads, (unsigned long long)o->bytes,
				  HF_MAX_RAM >> 30);
	/* Model RAM (populated) and the kernel mapping are resident at once. */
	if (phys > 0 && 2 * total + HF_HEADROOM > (uint64_t)phys * PAGE_SIZE)
		return bench_fail(
			b,
			"needs about %llu MiB of memory, the "
			"machine has %llu MiB",
			(unsigned long long)((2 * total + HF_HEADROOM) >> 20),
			(unsigned long long)((uint64_t)phys * PAGE_SIZE >> 20));
	*ram = total + HF_HEADROOM;
	return 0;
}

static void hf_print(const struct bench_opts *o, uint64_t pages,
		     const char *what, double ns)
{
	printf("%s first touch: %.0f faults/s (%.1f ns/fault)\n", what,
	       pages / (ns * 1e-9), ns / pages);
	if (o->threads > 1)
		printf("%s per-thread rate: %.0f faults/s/thread\n", what,
		       pages / (ns * 1e-9) / o->threads);
}

static int hf_run(const struct bench_opts *o)
{
	const struct bench *b = &bench_host_fault;
	uint64_t pages = o->bytes / PAGE_SIZE * o->threads;
	double t[2][HF_MAX_ITERS], med[2], ratio;
	struct kvmmu_host_config cfg = { 0 };
	struct kvmmu_host_audit audit;
	struct kvmmu_host *host;
	unsigned int it, s;
	char size[32];
	int ret;

	if (o->iterations > HF_MAX_ITERS)
		return bench_fail(b, "at most %d iterations", HF_MAX_ITERS);
	if (hf_check_size(b, o, &cfg.ram_bytes))
		return 1;
	cfg.prepopulate = true;
	cfg.no_poison = true;
	ret = kvmmu_host_create(&cfg, &host);
	if (ret)
		return bench_fail(b, "kvmmu_host_create(%llu bytes): %s",
				  (unsigned long long)cfg.ram_bytes,
				  strerror(-ret));
	if (!o->json)
		printf("host_fault: first-touch write faults, one byte per "
		       "4 KiB page\n"
		       "Testing %llu pages (%u thread(s) x %s), %u "
		       "iteration(s), median reported\n",
		       (unsigned long long)pages, o->threads,
		       bench_fmt_bytes(o->bytes, size, sizeof(size)),
		       o->iterations);

	for (it = 0; it < o->iterations; it++) {
		for (s = HF_MODEL; s <= HF_KERNEL; s++) {
			uint64_t ns = 0;

			ret = s == HF_MODEL ? hf_model_pass(b, o, host, &ns) :
					      hf_kernel_pass(b, o, &ns);
			if (ret)
				goto out;
			t[s][it] = (double)ns;
		}
		if (!o->json)
			printf("Iteration %u %s time: %.6fs, %s time: "
			       "%.6fs\n",
			       it + 1, hf_side_name[HF_MODEL],
			       t[HF_MODEL][it] * 1e-9, hf_side_name[HF_KERNEL],
			       t[HF_KERNEL][it] * 1e-9);
	}
	ret = hf_audit(b, host, &audit);
	if (ret)
		goto out;

	for (s = HF_MODEL; s <= HF_KERNEL; s++)
		med[s] = bench_median(t[s], o->iterations);
	/* faults/s of the model over faults/s of the kernel */
	ratio = med[HF_KERNEL] / med[HF_MODEL];
	if (o->json) {
		struct bench_json j;

		bench_json_begin(&j, stdout);
		bench_json_str(&j, "bench", b->name);
		bench_json_u64(&j, "bytes", o->bytes);
		bench_json_u64(&j, "threads", o->threads);
		bench_json_u64(&j, "pages", pages);
		bench_json_u64(&j, "iterations", o->iterations);
		bench_json_double(&j, "model_seconds", med[HF_MODEL] * 1e-9);
		bench_json_double(&j, "model_faults_per_sec",
				  pages / (med[HF_MODEL] * 1e-9));
		bench_json_double(&j, "model_ns_per_fault",
				  med[HF_MODEL] / pages);
		bench_json_double(&j, "kernel_seconds", med[HF_KERNEL] * 1e-9);
		bench_json_double(&j, "kernel_faults_per_sec",
				  pages / (med[HF_KERNEL] * 1e-9));
		bench_json_double(&j, "kernel_ns_per_fault",
				  med[HF_KERNEL] / pages);
		bench_json_double(&j, "ratio", ratio);
		bench_json_double(&j, "target_ratio", 1.0);
		bench_json_end(&j);
	} else {
		hf_print(o, pages, "Model", med[HF_MODEL]);
		hf_print(o, pages, "Kernel", med[HF_KERNEL]);
		printf("Ratio model/kernel: %.2fx (target >= 1.0x)%s\n", ratio,
		       ratio < 1.0 ? " - below target" : "");
		printf("Host audit: clean (%llu frames, %llu free)\n",
		       (unsigned long long)audit.frames,
		       (unsigned long long)audit.free);
	}
out:
	if (kvmmu_host_destroy(host) && !ret)
		ret = bench_fail(b, "kvmmu_host_destroy: busy after teardown");
	return ret ? 1 : 0;
}

const struct bench bench_host_fault = {
	.name = "host_fault",
	.summary = "first-touch write faults/s: model host vs this kernel",
	.default_bytes = 1ull << 30,
	.max_threads = 64,
	.run = hf_run,
};
