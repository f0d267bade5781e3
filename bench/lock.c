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
 * Workers are pinned to distinct CPUs when the affinity mask has enough,
 * so the scheduler cannot stack them on one CPU.  Each also measures its
 * own CPU time: "CPU ns/section" rises with cache-line contention but not
 * with preemption, and "overlap" (the threads' CPU time over the pass's
 * wall time) shows when the machine was too busy to run the threads side
 * by side, in which case the wall-clock scaling means nothing.
 *
 * Checked: every thread read the shared word in every section (its sum is
 * exact), and the lock is free in both modes afterwards.
 *
 * Models: the kernel's locktorture "rwsem" readers, scaled by thread count.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	uint64_t word;		/* read in every section; set before the pass */
	struct bench_gate gate; /* workers start together */
};

struct rw_worker {
	struct rw_run *run;
	pthread_t tid;
	int cpu;	 /* pinned to it, or -1 */
	uint64_t t0, t1; /* this worker's pass, bench_now_ns() */
	uint64_t cpu_ns; /* this worker's CPU time during the pass */
	uint64_t sum;	 /* of the word over its sections */
};

/* One pass: wall time, and the workers' CPU time added up. */
struct rw_time {
	double wall_ns, cpu_ns;
};

/* The @i-th CPU of the affinity mask, or -1 if it has fewer. */
static int rw_nth_cpu(unsigned int i)
{
	cpu_set_t set;
	int c;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set) && i-- == 0)
			return c;
	return -1;
}

static void *rw_worker_fn(void *arg)
{
	struct rw_worker *w = arg;
	struct rw_run *r = w->run;
	uint64_t i, sum = 0, c0;
	bool go;

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	go = bench_gate_wait(&r->gate);
	if (!go)
		return NULL;
	c0 = bench_thread_cpu_ns();
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
	w->cpu_ns = bench_thread_cpu_ns() - c0;
	w->sum = sum;
	return NULL;
}

/* One timed pass of @threads readers, timed in *t.  Return: 0 or 1. */
static int rw_pass(const struct bench *b, struct rw_run *r,
		   unsigned int threads, struct rw_time *t)
{
	struct rw_worker *w = calloc(threads, sizeof(*w));
	uint64_t first = UINT64_MAX, last = 0, cpu = 0;
	/* Pin only if every worker gets a CPU of its own. */
	bool pin = threads > 1 && rw_nth_cpu(threads - 1) >= 0;
	unsigned int i, started;
	int err = 0, ret = 0;

	if (!w)
		return bench_fail(b, "out of memory");
	bench_gate_init(&r->gate);
	for (started = 0; started < threads; started++) {
		w[started].run = r;
		w[started].cpu = pin ? rw_nth_cpu(started) : -1;
		err = pthread_create(&w[started].tid, NULL, rw_worker_fn,
				     &w[started]);
		if (err)
			break;
	}
	bench_gate_release(&r->gate, err != 0);
	for (i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		first = min(first, w[i].t0);
		last = max(last, w[i].t1);
		cpu += w[i].cpu_ns;
	}
	t->wall_ns = last > first ? (double)(last - first) : 0;
	t->cpu_ns = (double)cpu;
	bench_gate_destroy(&r->gate);

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
		       enum rw_side side, unsigned int threads,
		       struct rw_time *t)
{
	struct rw_run r = { .side = side, .sections = o->bytes };
	pthread_rwlockattr_t a;
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
	ret = rw_pass(b, &r, threads, t);
	if (!ret)
		ret = rw_check_free(b, &r);
	if (side == RW_KVMMU) {
		kvmmu_rwlock_destroy(r.klock);
		free(r.klock);
	} else {
		pthread_rwlock_destroy(&r.plock);
	}
	return ret;
}

/* Medians over the iterations of one side at one thread count. */
struct rw_result {
	double rate;	/* sections/s, all threads together (wall clock) */
	double cpu_ns;	/* CPU time per section */
	double overlap; /* workers' CPU time / wall time: ~threads if parallel */
};

static void rw_summarise(const struct bench_opts *o, unsigned int threads,
			 const struct rw_time *t, struct rw_result *res)
{
	double wall[RW_MAX_ITERS], cpu[RW_MAX_ITERS], ovl[RW_MAX_ITERS];
	double sections = (double)o->bytes * threads;
	unsigned int it;

	for (it = 0; it < o->iterations; it++) {
		wall[it] = t[it].wall_ns;
		cpu[it] = t[it].cpu_ns;
		ovl[it] = t[it].wall_ns > 0 ? t[it].cpu_ns / t[it].wall_ns : 0;
	}
	res->rate = sections / (bench_median(wall, o->iterations) * 1e-9);
	res->cpu_ns = bench_median(cpu, o->iterations) / sections;
	res->overlap = bench_median(ovl, o->iterations);
}

static int rw_bench(const struct bench_opts *o)
{
	static const char *const json_pfx[] = { "kvmmu", "pthread" };
	const struct bench *b = &bench_rwlock;
	unsigned int nt = max(2u, o->threads), threads[2] = { 1, nt };
	/* t[side][1 or N threads][iteration] */
	static struct rw_time t[RW_NR_SIDES][2][RW_MAX_ITERS];
	struct rw_result res[RW_NR_SIDES][2];
	double scaling[RW_NR_SIDES], target = 0.95 * nt;
	unsigned int it, s, k;
	bool busy = false;
	char key[64];

	if (o->iterations > RW_MAX_ITERS)
		return bench_fail(b, "at most %d iterations", RW_MAX_ITERS);
	if (!o->json)
		printf("rwlock: read lock + read of a shared word + read "
		       "unlock\n"
		       "Testing %llu sections per thread, 1 and %u threads%s, "
		       "%u iteration(s), median reported\n",
		       (unsigned long long)o->bytes, nt,
		       rw_nth_cpu(nt - 1) >= 0 ? " (pinned)" : "",
		       o->iterations);

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
			       t[RW_KVMMU][0][it].wall_ns * 1e-9,
			       t[RW_KVMMU][1][it].wall_ns * 1e-9,
			       rw_side_name[RW_PTHREAD],
			       t[RW_PTHREAD][0][it].wall_ns * 1e-9,
			       t[RW_PTHREAD][1][it].wall_ns * 1e-9, nt);
	}
	for (s = 0; s < RW_NR_SIDES; s++) {
		for (k = 0; k < 2; k++)
			rw_summarise(o, threads[k], t[s][k], &res[s][k]);
		scaling[s] = res[s][1].rate / res[s][0].rate;
		/* The threads did not really run side by side. */
		if (res[s][1].overlap < 0.9 * nt)
			busy = true;
	}

	if (o->json) {
		struct bench_json j;

		bench_json_begin(&j, stdout);
		bench_json_str(&j, "bench", b->name);
		bench_json_u64(&j, "sections_per_thread", o->bytes);
		bench_json_u64(&j, "threads", nt);
		bench_json_u64(&j, "iterations", o->iterations);
		for (s = 0; s < RW_NR_SIDES; s++) {
			for (k = 0; k < 2; k++) {
				const char *n = k ? "nt" : "1t";

				snprintf(key, sizeof(key), "%s_%s_per_sec",
					 json_pfx[s], n);
				bench_json_double(&j, key, res[s][k].rate);
				snprintf(key, sizeof(key),
					 "%s_%s_cpu_ns_per_section",
					 json_pfx[s], n);
				bench_json_double(&j, key, res[s][k].cpu_ns);
			}
			snprintf(key, sizeof(key), "%s_nt_overlap",
				 json_pfx[s]);
			bench_json_double(&j, key, res[s][1].overlap);
			snprintf(key, sizeof(key), "%s_scaling", json_pfx[s]);
			bench_json_double(&j, key, scaling[s]);
		}
		bench_json_double(&j, "target_scaling", target);
		bench_json_u64(&j, "machine_busy", busy);
		bench_json_end(&j);
		return 0;
	}
	for (s = 0; s < RW_NR_SIDES; s++) {
		printf("%s 1 thread: %.0f sections/s (%.1f CPU ns/section)\n",
		       rw_side_name[s], res[s][0].rate, res[s][0].cpu_ns);
		printf("%s %u threads: %.0f sections/s (%.1f CPU ns/section, "
		       "overlap %.2f)\n",
		       rw_side_name[s], nt, res[s][1].rate, res[s][1].cpu_ns,
		       res[s][1].overlap);
	}
	printf("Scaling %u/1 threads: %s %.2fx (target >= %.2fx)%s, "
	       "%s %.2fx\n",
	       nt, rw_side_name[RW_KVMMU], scaling[RW_KVMMU], target,
	       scaling[RW_KVMMU] < target ? " - below target" : "",
	       rw_side_name[RW_PTHREAD], scaling[RW_PTHREAD]);
	if (busy)
		printf("Warning: the %u threads overlapped less than %.1f "
		       "CPUs' worth; the machine was busy and the scaling "
		       "figures are not meaningful\n",
		       nt, 0.9 * nt);
	return 0;
}

const struct bench bench_rwlock = {
	.name = "rwlock",
	.summary = "read-side scaling, 1 vs N threads (-b: sections/thread)",
	.default_bytes = 4ull << 20,
	.max_threads = 64,
	.run = rw_bench,
};
