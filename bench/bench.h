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

#endif /* KVMMU_BENCH_H */
