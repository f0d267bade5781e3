// SPDX-License-Identifier: MIT
/*
 * rwlock: read-side scaling of kvmmu_rwlock_t, the lock behind mmap_lock,
 * i_mmap and KVM's mmu_lock, against the writer-preferring glibc
 * pthread_rwlock_t it replaced (the "kernel" column of the other
 * benchmarks: what the C library and the kernel's futexes give).
 *
 * Each of N threads runs -b read sections (here -b is a count, not bytes,
 * still a multiple of 4096: "-b 4M" is 4194304 sections per thread): read
 * lock, read a shared word, read unlock.  The pass is timed from the first thread's start to the last
 * one's end, once with 1 thread and once with N = max(2, -v) threads; the
 * figure of merit is the scaling, N-thread throughput over 1-thread
 * throughput, with a target of 0.95 * N (1.9x on 2 threads): a read-mostly
 * lock must not make readers share a written cache line.
 *
 * Checked: every thread read the shared word in every section (its sum is
 * exact), and the lock is free in both modes afterwards.
 *
 * Models: the kernel's locktorture "rwsem" readers, scaled by thread count.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <kvmmu/lock.h>

#include "bench.h"

#define RW_MAX_ITERS 100
#define RW_WORD	     0x5a5aull /* the shared word the sections read */

enum rw_side {
	RW_KVMMU,
	RW_PTHREAD,
	RW_NR_SIDES,
};

static const char *const rw_side_name[] = { "kvmmu_rwlock", "pthread_rwlock" };

struct rw_run {
	enum rw_side side;
	uint64_t sections; /* per thread */
	kvmmu_rwlock_t *klock;
	pthread_rwlock_t plock;
	uint64_t word; /* read in every section; set before the pass */
	/* The start gate: workers wait until open (or cancelled). */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	bool open, cancelled;
};

struct rw_worker {
	struct rw_run *run;
	pthread_t tid;
	uint64_t t0, t1; /* this worker's pass, bench_now_ns() */
	uint64_t sum;	 /* of the word over its sections */
};

static void *rw_worker_fn(void *arg)
{
	struct rw_worker *w = arg;
	struct rw_run *r = w->run;
	uint64_t i, sum = 0;
	bool go;

	pthread_mutex_lock(&r->gate_lock);
	while (!r->open && !r->cancelled)
		pthread_cond_wait(&r->gate_cond, &r->gate_lock);
	go = !r->cancelled;
	pthread_mutex_unlock(&r->gate_lock);
	if (!go)
		return NULL;
	w->t0 = bench_now_ns();
	if (r->side == RW_KVMMU) {
		for (i = 0; i < r->sections; i++) {
			kvmmu_read_lock(r->klock);
			sum += *(volatile uint64_t *)&r->word;
			kvmmu_read_unlock(r->klock);
		}
	} else {
		for (i = 0; i < r->sections; i++) {
			pthread_rwlock_rdlock(&r->plock);
			sum += *(volatile uint64_t *)&r->word;
			pthread_rwlock_unlock(&r->plock);
		}
	}
	w->t1 = bench_now_ns();
	w->sum = sum;
	return NULL;
}

static void rw_gate(struct rw_run *r, bool cancel)
{
	pthread_mutex_lock(&r->gate_lock);
	if (cancel)
		r->cancelled = true;
	else
		r->open = true;
	pthread_cond_broadcast(&r->gate_cond);
	pthread_mutex_unlock(&r->gate_lock);
}

/* One timed pass of @threads readers; wall time in *ns.  Return: 0 or 1. */
static int rw_pass(const struct bench *b, struct rw_run *r,
		   unsigned int threads, uint64_t *ns)
{
	struct rw_worker *w = calloc(threads, sizeof(*w));
	uint64_t first = UINT64_MAX, last = 0;
	unsigned int i, started;
	int err = 0, ret = 0;

	if (!w)
		return bench_fail(b, "out of memory");
	pthread_mutex_init(&r->gate_lock, NULL);
	pthread_cond_init(&r->gate_cond, NULL);
	r->open = r->cancelled = false;
	for (started = 0; started < threads; started++) {
		w[started].run = r;
		err = pthread_create(&w[started].tid, NULL, rw_worker_fn,
				     &w[started]);
		if (err)
			break;
	}
	rw_gate(r, err != 0);
	for (i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		first = min(first, w[i].t0);
		last = max(last, w[i].t1);
	}
	*ns = last > first ? last - first : 0;
	pthread_cond_destroy(&r->gate_cond);
	pthread_mutex_destroy(&r->gate_lock);

	if (err)
		ret = bench_fail(b, "pthread_create: %s", strerror(err));
	for (i = 0; i < started && !ret; i++)
		if (w[i].sum != r->sections * r->word)
			ret = bench_fail(
				b,
				"%s: thread %u read %llu, expected "
				"%llu: sections were skipped",
				rw_side_name[r->side], i,
				(unsigned long long)w[i].sum,
				(unsigned long long)(r->sections * r->word));
	free(w);
	return ret;
}

/* After a pass: nobody may be left holding the lock. */
static int rw_check_free(const struct bench *b, struct rw_run *r)
{
	bool ok;

	if (r->side == RW_KVMMU) {
		ok = kvmmu_write_trylock(r->klock);
		if (ok)
			kvmmu_write_unlock(r->klock);
	} else {
		ok = !pthread_rwlock_trywrlock(&r->plock);
		if (ok)
			pthread_rwlock_unlock(&r->plock);
	}
	return ok ? 0 :
		    bench_fail(b, "%s: still held after the pass",
			       rw_side_name[r->side]);
}

static int rw_run_side(const struct bench *b, const struct bench_opts *o,
		       enum rw_side side, unsigned int threads, double *ns)
{
	struct rw_run r = { .side = side, .sections = o->bytes };
	pthread_rwlockattr_t a;
	uint64_t t = 0;
	int ret;

	if (side == RW_KVMMU) {
		/* Heap-allocated, as locks embedded in mms and VMs are. */
		r.klock = malloc(sizeof(*r.klock));
		if (!r.klock)
			return bench_fail(b, "out of memory");
		kvmmu_rwlock_init(r.klock, "bench rwlock",
				  KVMMU_RANK_MMAP_LOCK);
		kvmmu_write_lock(r.klock);
		r.word = RW_WORD;
		kvmmu_write_unlock(r.klock);
	} else {
		/* What kvmmu_rwlock_t was before: writer-preferring glibc. */
		pthread_rwlockattr_init(&a);
		pthread_rwlockattr_setkind_np(
			&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&r.plock, &a);
		pthread_rwlockattr_destroy(&a);
		r.word = RW_WORD;
	}
	ret = rw_pass(b, &r, threads, &t);
	if (!ret)
		ret = rw_check_free(b, &r);
	*ns = (double)t;
	if (side == RW_KVMMU) {
		kvmmu_rwlock_destroy(r.klock);
		free(r.klock);
	} else {
		pthread_rwlock_destroy(&r.plock);
	}
	return ret;
}

static int rw_bench(const struct bench_opts *o)
{
	const struct bench *b = &bench_rwlock;
	unsigned int nt = max(2u, o->threads), threads[2] = { 1, nt };
	/* t[side][1 or N threads][iteration] */
	double t[RW_NR_SIDES][2][RW_MAX_ITERS], rate[RW_NR_SIDES][2];
	double scaling[RW_NR_SIDES], target = 0.95 * nt;
	unsigned int it, s, k;

	if (o->iterations > RW_MAX_ITERS)
		return bench_fail(b, "at most %d iterations", RW_MAX_ITERS);
	if (!o->json)
		printf("rwlock: read lock + read of a shared word + read "
		       "unlock\n"
		       "Testing %llu sections per thread, 1 and %u threads, "
		       "%u iteration(s), median reported\n",
		       (unsigned long long)o->bytes, nt, o->iterations);

	for (it = 0; it < o->iterations; it++) {
		for (s = 0; s < RW_NR_SIDES; s++)
			for (k = 0; k < 2; k++)
				if (rw_run_side(b, o, s, threads[k],
						&t[s][k][it]))
					return 1;
		if (!o->json)
			printf("Iteration %u: %s %.6fs / %.6fs, %s %.6fs / "
			       "%.6fs (1 / %u threads)\n",
			       it + 1, rw_side_name[RW_KVMMU],
			       t[RW_KVMMU][0][it] * 1e-9,
			       t[RW_KVMMU][1][it] * 1e-9,
			       rw_side_name[RW_PTHREAD],
			       t[RW_PTHREAD][0][it] * 1e-9,
			       t[RW_PTHREAD][1][it] * 1e-9, nt);
	}
	for (s = 0; s < RW_NR_SIDES; s++) {
		for (k = 0; k < 2; k++) {
			double med = bench_median(t[s][k], o->iterations);

			/* sections per second, all threads together */
			rate[s][k] =
				(double)o->bytes * threads[k] / (med * 1e-9);
		}
		scaling[s] = rate[s][1] / rate[s][0];
	}

	if (o->json) {
		struct bench_json j;

		bench_json_begin(&j, stdout);
		bench_json_str(&j, "bench", b->name);
		bench_json_u64(&j, "sections_per_thread", o->bytes);
		bench_json_u64(&j, "threads", nt);
		bench_json_u64(&j, "iterations", o->iterations);
		bench_json_double(&j, "kvmmu_1t_per_sec", rate[RW_KVMMU][0]);
		bench_json_double(&j, "kvmmu_nt_per_sec", rate[RW_KVMMU][1]);
		bench_json_double(&j, "kvmmu_ns_per_section",
				  1e9 / rate[RW_KVMMU][0]);
		bench_json_double(&j, "kvmmu_scaling", scaling[RW_KVMMU]);
		bench_json_double(&j, "pthread_1t_per_sec",
				  rate[RW_PTHREAD][0]);
		bench_json_double(&j, "pthread_nt_per_sec",
				  rate[RW_PTHREAD][1]);
		bench_json_double(&j, "pthread_ns_per_section",
				  1e9 / rate[RW_PTHREAD][0]);
		bench_json_double(&j, "pthread_scaling", scaling[RW_PTHREAD]);
		bench_json_double(&j, "target_scaling", target);
		bench_json_end(&j);
		return 0;
	}
	for (s = 0; s < RW_NR_SIDES; s++) {
		printf("%s 1 thread: %.0f sections/s (%.1f ns/section)\n",
		       rw_side_name[s], rate[s][0], 1e9 / rate[s][0]);
		printf("%s %u threads: %.0f sections/s (%.0f/s/thread)\n",
		       rw_side_name[s], nt, rate[s][1], rate[s][1] / nt);
	}
	printf("Scaling %u/1 threads: %s %.2fx (target >= %.2fx)%s, "
	       "%s %.2fx\n",
	       nt, rw_side_name[RW_KVMMU], scaling[RW_KVMMU], target,
	       scaling[RW_KVMMU] < target ? " - below target" : "",
	       rw_side_name[RW_PTHREAD], scaling[RW_PTHREAD]);
	return 0;
}

const struct bench bench_rwlock = {
	.name = "rwlock",
	.summary = "read-side scaling, 1 vs N threads (-b: sections/thread)",
	.default_bytes = 4ull << 20,
	.max_threads = 64,
	.run = rw_bench,
};
