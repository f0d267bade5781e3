/* SPDX-License-Identifier: MIT */
/*
 * Benchmarks, reached by `kvmmu bench NAME [options]`.
 *
 * Each benchmark is one file in bench/ that defines a `struct bench` and is
 * listed in the registry in bench.c.  It measures the model and, in the same
 * run, the same operation on the real kernel of this machine, and prints
 * either human-readable lines in the kernel selftests' style or (--json)
 * exactly one JSON object of named figures on stdout.  Progress and errors
 * go to stderr.
 *
 * A benchmark checks that it measured what it claims (the memory was really
 * touched, the host's accounting is clean afterwards) and fails loudly
 * otherwise: a fast wrong answer is not a result.
 */
#ifndef KVMMU_BENCH_H
#define KVMMU_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <kvmmu/compiler.h>

/* The options common to all benchmarks (the selftests' vocabulary). */
struct bench_opts {
	uint64_t bytes;		 /* -b: bytes per thread (per vCPU) */
	unsigned int threads;	 /* -v: worker threads (vCPUs) */
	unsigned int iterations; /* -i: repetitions; the median is reported */
	bool json;		 /* --json */
};

struct bench {
	const char *name;
	const char *summary; /* one line, for kvmmu bench -h */
	uint64_t default_bytes;
	unsigned int default_threads;	 /* -v when not given; 0: 1 */
	unsigned int default_iterations; /* -i when not given; 0: 3 */
	unsigned int max_threads;
	/* Return: 0, or 1 if the benchmark failed (message on stderr). */
	int (*run)(const struct bench_opts *opts);
};

/* The registry (bench.c). */
extern const struct bench *const bench_registry[];
extern const unsigned int bench_registry_len;
const struct bench *bench_find(const char *name);

/* The benchmarks. */
extern const struct bench bench_host_fault;
extern const struct bench bench_s2pt;
extern const struct bench bench_populate;
extern const struct bench bench_memslot;
extern const struct bench bench_zap;
extern const struct bench bench_rwlock;

/* --- the start gate: workers wait until it opens (or is cancelled) --- */

struct bench_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open, cancelled;
};

void bench_gate_init(struct bench_gate *g);
void bench_gate_destroy(struct bench_gate *g);
/* Block until the gate opens.  Return: false if it was cancelled. */
bool bench_gate_wait(struct bench_gate *g);
/* Open the gate, or cancel it (the workers then return at once). */
void bench_gate_release(struct bench_gate *g, bool cancel);

/* --- helpers ---------------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);
/* CPU time of the calling thread in nanoseconds: compared with the wall
 * time it shows whether the thread ran or waited for a CPU. */
uint64_t bench_thread_cpu_ns(void);

/*
 * The machine's own scaling from 1 to @threads threads for a pure ALU
 * loop (no memory, no shared data): @threads x the time of one loop alone
 * over the time of @threads loops side by side, ~0.1 s each.  On a VM
 * whose vCPUs share a physical core (SMT siblings) or a busy host, this
 * is well below @threads, and so is any workload's scaling.
 * Context: starts threads; may block.  Return: the ratio, 0 on failure.
 */
double bench_alu_scaling(unsigned int threads);

/* Median of @n values (sorts @v in place); 0 for n == 0. */
double bench_median(double *v, unsigned int n);

/* "1 GiB", "1.50 GiB", "100 B": a short human form of @bytes in @buf. */
const char *bench_fmt_bytes(uint64_t bytes, char *buf, size_t len);

/* Print "bench NAME: <message>" to stderr.  Return: 1 (a failure). */
int bench_fail(const struct bench *b, const char *fmt, ...) __printf(2, 3);

/*
 * A one-line JSON object writer: bench_json_begin(), then one call per
 * field, then bench_json_end() (which prints the closing brace and a
 * newline).  Keys and string values must not need escaping beyond what
 * bench_json_str() does (quotes, backslashes, control characters).
 */
struct bench_json {
	FILE *f;
	unsigned int fields;
};

void bench_json_begin(struct bench_json *j, FILE *f);
void bench_json_str(struct bench_json *j, const char *key, const char *val);
void bench_json_u64(struct bench_json *j, const char *key, uint64_t val);
void bench_json_double(struct bench_json *j, const char *key, double val);
void bench_json_end(struct bench_json *j);

/* --- the real-KVM column (real.c) ----------------------------------------- */

/*
 * The same operations on this machine's /dev/kvm, through the "kvm"
 * backend's ops table only (include/kvmmu/backend.h).  The column is
 * "n/a (reason)" when the backend is unavailable here or cannot make the
 * VM (or the machine lacks the memory, or a guest pass timed out): a
 * benchmark never fails for that.  It fails (real.failed) when the real
 * side measured something other than it claims (a page not written,
 * fewer shadow faults than pages, an unexpected exit).
 *
 * Bounds: a guest pass is kicked after BENCH_REAL_PASS_S seconds plus
 * BENCH_REAL_PASS_NS_PER_PAGE per page; a benchmark's real side starts no
 * new iteration after BENCH_REAL_BUDGET_NS (it runs at least one).
 *
 * Context: one thread drives a struct bench_real; bench_real_touch()
 * starts the vCPU threads itself.
 */
#define BENCH_REAL_BUDGET_NS	    (10ull * 1000000000ull)
#define BENCH_REAL_PASS_S	    10u
#define BENCH_REAL_PASS_NS_PER_PAGE 50000ull

struct kvmmu_backend;
struct kvmmu_backend_ops;

struct bench_real {
	const struct kvmmu_backend_ops *ops; /* the "kvm" backend */
	struct kvmmu_backend *be;	     /* the current VM, or NULL */
	bool failed;			     /* a wrong measurement, in why */
	char why[192];			     /* non-empty: the column is n/a */
};

/* The outcome of one guest pass (bench_real_touch()). */
struct bench_real_pass {
	uint64_t wall_ns;  /* first vCPU's start to last vCPU's end */
	uint64_t sum_ns;   /* the vCPUs' own pass times, summed */
	uint64_t cpu_ns;   /* the vCPU threads' CPU time in them, summed */
	uint64_t pf_fixed; /* growth of KVM's pf_fixed (all vCPUs) */
};

/* Find the backend and ask it.  Return: true if usable, else false with
 * r->why set.  bench_real_fini() destroys what is left. */
bool bench_real_init(struct bench_real *r);
void bench_real_fini(struct bench_real *r);
/*
 * The return value of the functions below: 0, or -1 with r->why set (and
 * r->failed when the measurement itself is wrong).
 */
/* A fresh x86 VM with @nr_vcpus vCPUs (ops->create). */
int bench_real_create(struct bench_real *r, unsigned int nr_vcpus);
void bench_real_destroy(struct bench_real *r);
/* Fail the real side with a reason: n/a, or (@failed) a wrong result. */
int bench_real_skip(struct bench_real *r, bool failed, const char *fmt, ...)
	__printf(3, 4);
/* Whether this machine has @bytes of memory to spare (MemAvailable). */
int bench_real_mem_check(struct bench_real *r, uint64_t bytes);
/* @len bytes of private anonymous memory (4 KiB pages) by ops->mmap, in
 * *hva; and, if @slot >= 0, as memslot @slot at @gpa. */
int bench_real_ram(struct bench_real *r, int slot, uint64_t gpa, uint64_t len,
		   uint64_t *hva);
/* ops->set_memory_region of a plain slot (@size 0: delete it). */
int bench_real_slot(struct bench_real *r, uint32_t slot, uint64_t gpa,
		    uint64_t size, uint64_t hva);
/* ops->madvise(@advice) of the VMM's [@hva, @hva + @len); *ns its time. */
int bench_real_madvise(struct bench_real *r, uint64_t hva, uint64_t len,
		       int advice, uint64_t *ns);
/* ops->stat; a statistic KVM lacks is -1 with r->why set. */
int bench_real_stat(struct bench_real *r, const char *name, uint64_t *out);
/*
 * One guest pass: vCPU i (of @nv) writes @value + i to the first 8 bytes
 * of every page of [@gpa + i * @bytes, + @bytes) with one TOUCH program,
 * each on its own thread, all started together through a bench_gate.
 * Checks that every vCPU ran its program to the end and that pf_fixed
 * grew by at least one per page.
 */
int bench_real_touch(struct bench_real *r, unsigned int nv, uint64_t gpa,
		     uint64_t bytes, uint64_t value, struct bench_real_pass *p);
/* Check, through ops->mem_read, what bench_real_touch() wrote at @hva. */
int bench_real_verify(struct bench_real *r, uint64_t hva, unsigned int nv,
		      uint64_t bytes, uint64_t value);
/* Host writes (ops->mem_write) of one word per page: a host-only touch. */
int bench_real_host_touch(struct bench_real *r, uint64_t hva, uint64_t len);

/* --- printing the column --- */

/* "n/a" if !@have, else @v with @prec decimals and @unit ("s", " ns"). */
const char *bench_real_cell(bool have, char *buf, size_t len, double v,
			    int prec, const char *unit);
/* "R.RRx faster" / "R.RRx slower": @model_speedup = real time / model
 * time (or model rate / real rate); "-" if not finite or !@have. */
const char *bench_real_vs(bool have, char *buf, size_t len,
			  double model_speedup);
/* One table row: label, model, real, model vs real, note. */
void bench_real_row(int label_width, const char *label, const char *model,
		    const char *real, const char *vs, const char *note);
/* "Real KVM: n/a (why)", or "Real KVM: @what" when measured. */
void bench_real_status(const struct bench_real *r, const char *what);
/* JSON "real": "kvm" or "n/a (why)". */
void bench_real_json(const struct bench_real *r, struct bench_json *j);

#endif /* KVMMU_BENCH_H */
