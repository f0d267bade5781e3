// SPDX-License-Identifier: MIT
/*
 * populate: demand paging of guest memory, as the kernel's
 * demand_paging_test measures it.
 *
 * -v vCPUs each make one pass over their own -b bytes of guest memory (one
 * memslot over one private anonymous mapping), writing one 8-byte word per
 * 4 KiB page, so every page takes exactly one stage-2 fault, resolved by a
 * host fault (GUP with FOLL_WRITE) underneath.  The host's frames are
 * populated up front (as the selftest's host would have them after
 * prefaulting its own allocator) and zeroed when freed rather than when
 * allocated (Linux's init_on_free=1, which lets the allocator skip
 * clearing): on this 2-core machine two threads clearing pages saturate
 * memory bandwidth (memset: ~19 GB/s alone, ~25 GB/s for two), which would
 * hide the scaling of the fault path itself.  The checker is off.
 *
 * Reported with the selftest's keys: "Populate memory time" (wall time from
 * the first vCPU's start to the last one's end), "Per-vcpu demand paging
 * rate" (pages/s of one vCPU, averaged) and "Overall demand paging rate",
 * and the scaling from 1 vCPU to -v vCPUs (a 1-vCPU run of the same size
 * per vCPU precedes it; default 2 vCPUs x 512 MiB, 7 iterations).  The
 * vCPU threads' CPU time over their wall time tells whether they had a
 * CPU each (on this 2-core VM, other tenants and the host take a share
 * that no code of ours can win back), and a control measured in the same
 * iterations, the machine's own scaling for pure ALU work
 * (bench_alu_scaling()): when the VM's vCPUs share a physical core or the
 * host is busy, it drops (seen here: 0.93x to 1.91x between runs), and the
 * populate scaling with it.  Also the stage-2 table bytes per mapped GiB.
 *
 * The real-KVM column runs the same passes on /dev/kvm through the kvm
 * backend (bench/real.c): a fresh VM per pass, one memslot over private
 * anonymous memory at the same GPA, one TOUCH program (a write per page)
 * per vCPU, the vCPU threads started together.  Its iterations stop
 * after BENCH_REAL_BUDGET_NS (at least one runs).  Its table bytes are
 * the shadow pages the pass created (mmu_cache_miss x 4 KiB).
 *
 * Checked: pf_fixed grows by exactly one per page (real KVM: at least
 * one; its prefetch maps only pages the host already has, so on fresh
 * memory also one), every page reads back its word from the host side,
 * the host audits clean after teardown.
 *
 * Models: tools/testing/selftests/kvm/demand_paging_test.c
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kvmmu/kvm.h>
#include <kvmmu/vcpu.h>

#include "bench.h"

#define POP_HEADROOM  (64ull << 20)
#define POP_MAX_RAM   (64ull << 30)
#define POP_MAX_ITERS 100
#define POP_GPA	      (1ull << 32)
#define POP_REAL_WORD 0x7265616c6b766d00ull /* "realkvm", + the vCPU */

struct pop_run {
	struct kvmmu_vm *vm;
	struct kvmmu_vcpu **vcpus;
	struct kvmmu_guest_insn *insns; /* per vCPU: pages_per_vcpu each */
	uint64_t pages_per_vcpu;
	pthread_barrier_t start;
};

struct pop_worker {
	struct pop_run *run;
	unsigned int idx;
	pthread_t tid;
	uint64_t t0, t1, cpu; /* cpu: on-CPU time between t0 and t1 */
	int err;
	uint32_t exit_reason;
};

static uint64_t pop_word(uint64_t pg)
{
	return 0x0123456789abcdefull ^ pg;
}

static void *pop_worker_fn(void *arg)
{
	struct pop_worker *w = arg;
	struct pop_run *r = w->run;
	struct kvmmu_guest_prog p = {
		.insns = r->insns + w->idx * r->pages_per_vcpu,
		.n = (uint32_t)r->pages_per_vcpu,
	};

	uint64_t c0;

	w->err = kvmmu_vcpu_set_prog(r->vcpus[w->idx], &p);
	pthread_barrier_wait(&r->start);
	c0 = bench_thread_cpu_ns();
	w->t0 = bench_now_ns();
	if (!w->err)
		w->err = kvmmu_vcpu_run(r->vcpus[w->idx]);
	w->t1 = bench_now_ns();
	w->cpu = bench_thread_cpu_ns() - c0;
	w->exit_reason = kvmmu_vcpu_run_state(r->vcpus[w->idx])->exit_reason;
	return NULL;
}

/*
 * One populate pass with @nv vCPUs.  *wall: first start to last end;
 * *per_vcpu: mean of the vCPUs' own pass times; *on_cpu: the vCPU threads'
 * CPU time over their pass times (1.0: never waited for a CPU).
 * Return: 0 or 1.
 */
static int pop_pass(const struct bench *b, struct kvmmu_host *host,
		    uint64_t bytes, unsigned int nv, double *wall,
		    double *per_vcpu, double *on_cpu, double *table_per_gib)
{
	uint64_t pages_per_vcpu = bytes / PAGE_SIZE,
		 pages = pages_per_vcpu * nv;
	uint64_t first = UINT64_MAX, last = 0, sum = 0, cpu = 0, pg, fixed0;
	struct pop_run r = { .pages_per_vcpu = pages_per_vcpu };
	struct kvmmu_userspace_memory_region2 reg = { 0 };
	struct pop_worker *w = NULL;
	struct kvmmu_mm *mm = NULL;
	unsigned int i, started = 0;
	hva_t base;
	int ret = 1, err;

	if ((err = kvmmu_mm_create(host, &mm)))
		return bench_fail(b, "kvmmu_mm_create: %s", strerror(-err));
	err = kvmmu_mmap(mm, 0, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &base);
	if (err) {
		bench_fail(b, "kvmmu_mmap: %s", strerror(-err));
		goto out_mm;
	}
	if ((err = kvmmu_vm_create(mm, NULL, &r.vm))) {
		bench_fail(b, "kvmmu_vm_create: %s", strerror(-err));
		goto out_mm;
	}
	reg.guest_phys_addr = POP_GPA;
	reg.memory_size = pages * PAGE_SIZE;
	reg.userspace_addr = base;
	if ((err = kvmmu_set_user_memory_region(r.vm, &reg))) {
		bench_fail(b, "set_user_memory_region: %s", strerror(-err));
		goto out_vm;
	}
	r.vcpus = calloc(nv, sizeof(*r.vcpus));
	r.insns = calloc(pages, sizeof(*r.insns));
	w = calloc(nv, sizeof(*w));
	if (!r.vcpus || !r.insns || !w) {
		bench_fail(b, "out of memory");
		goto out_vm;
	}
	for (i = 0; i < nv; i++) {
		if ((err = kvmmu_vcpu_create(r.vm, i, &r.vcpus[i]))) {
			bench_fail(b, "kvmmu_vcpu_create: %s", strerror(-err));
			goto out_vm;
		}
	}
	for (pg = 0; pg < pages; pg++)
		r.insns[pg] = (struct kvmmu_guest_insn){
			.op = KVMMU_GOP_WRITE,
			.size = 8,
			.gpa = reg.guest_phys_addr + pg * PAGE_SIZE,
			.val = pop_word(pg),
		};
	fixed0 = kvmmu_vm_stat(r.vm, "pf_fixed");

	pthread_barrier_init(&r.start, NULL, nv);
	for (started = 0; started < nv; started++) {
		w[started].run = &r;
		w[started].idx = started;
		if (pthread_create(&w[started].tid, NULL, pop_worker_fn,
				   &w[started]))
			break;
	}
	if (started < nv) {
		/* Cannot happen short of resource exhaustion; the barrier
		 * would never open, so give up loudly. */
		bench_fail(b, "pthread_create failed");
		abort();
	}
	for (i = 0; i < nv; i++) {
		pthread_join(w[i].tid, NULL);
		first = min(first, w[i].t0);
		last = max(last, w[i].t1);
		sum += w[i].t1 - w[i].t0;
		cpu += w[i].cpu;
		if (w[i].err || w[i].exit_reason != KVMMU_EXIT_HLT) {
			bench_fail(b, "vCPU %u: run returned %d, exit %u", i,
				   w[i].err, w[i].exit_reason);
			goto out_barrier;
		}
	}
	*wall = (double)(last - first);
	*per_vcpu = (double)sum / nv;
	*on_cpu = sum ? (double)cpu / (double)sum : 1.0;

	if (kvmmu_vm_stat(r.vm, "pf_fixed") - fixed0 != pages) {
		bench_fail(
			b, "pf_fixed grew by %llu for %llu pages",
			(unsigned long long)(kvmmu_vm_stat(r.vm, "pf_fixed") -
					     fixed0),
			(unsigned long long)pages);
		goto out_barrier;
	}
	*table_per_gib = (double)kvmmu_vm_table_bytes(r.vm) /
			 ((double)pages * PAGE_SIZE / (1ull << 30));
	for (pg = 0; pg < pages; pg++) {
		uint64_t v = 0;

		kvmmu_mm_read(mm, base + pg * PAGE_SIZE, &v, 8);
		if (v != pop_word(pg)) {
			bench_fail(b, "page %llu reads %#llx",
				   (unsigned long long)pg,
				   (unsigned long long)v);
			goto out_barrier;
		}
	}
	ret = 0;
out_barrier:
	pthread_barrier_destroy(&r.start);
out_vm:
	kvmmu_vm_destroy(r.vm);
	free(r.vcpus);
	free(r.insns);
	free(w);
out_mm:
	kvmmu_mmput(mm);
	return ret;
}

/* The real-KVM column: medians over its iterations (NAN: not measured). */
struct pop_real {
	struct bench_real r;
	unsigned int iters;
	double wall[2], pv[2], oncpu, tb;
	uint64_t pf_fixed, pages; /* of the last N-vCPU pass */
};

/* One real pass with @nv vCPUs on a fresh VM.  Return: 0 or -1 (why). */
static int pop_real_pass(struct bench_real *r, uint64_t bytes, unsigned int nv,
			 struct bench_real_pass *p, double *tb)
{
	uint64_t hva, miss0, miss1;
	int ret;

	ret = bench_real_create(r, nv);
	if (!ret)
		ret = bench_real_ram(r, 0, POP_GPA, bytes * nv, &hva);
	if (!ret)
		ret = bench_real_stat(r, "mmu_cache_miss", &miss0);
	if (!ret)
		ret = bench_real_touch(r, nv, POP_GPA, bytes, POP_REAL_WORD, p);
	if (!ret)
		ret = bench_real_stat(r, "mmu_cache_miss", &miss1);
	if (!ret)
		ret = bench_real_verify(r, hva, nv, bytes, POP_REAL_WORD);
	if (!ret)
		*tb = (double)(miss1 - miss0) * PAGE_SIZE /
		      ((double)bytes * nv / (1ull << 30));
	bench_real_destroy(r); /* unmaps the memory too */
	return ret;
}

/* The real-KVM column (n/a in pr->r.why if it cannot be measured). */
static void pop_real(const struct bench_opts *o, struct pop_real *pr)
{
	double wall[2][POP_MAX_ITERS], pv[2][POP_MAX_ITERS],
		oncpu[POP_MAX_ITERS], tb[POP_MAX_ITERS];
	unsigned int nv[2] = { 1, o->threads }, it, k;
	uint64_t t0 = bench_now_ns();
	struct bench_real_pass p;

	pr->iters = 0;
	pr->wall[0] = pr->wall[1] = pr->pv[0] = pr->pv[1] = NAN;
	pr->oncpu = pr->tb = NAN;
	if (!bench_real_init(&pr->r) ||
	    bench_real_mem_check(&pr->r, o->bytes * o->threads))
		return;
	for (it = 0; it < o->iterations; it++) {
		if (it && bench_now_ns() - t0 > BENCH_REAL_BUDGET_NS)
			break;
		for (k = 0; k < 2; k++) {
			if (pop_real_pass(&pr->r, o->bytes, nv[k], &p, &tb[it]))
				goto out;
			wall[k][it] = (double)p.wall_ns;
			pv[k][it] = (double)p.sum_ns / nv[k];
		}
		oncpu[it] = p.sum_ns ? (double)p.cpu_ns / (double)p.sum_ns : 1;
		pr->pf_fixed = p.pf_fixed;
		pr->pages = o->bytes / PAGE_SIZE * o->threads;
		pr->iters++;
	}
	for (k = 0; k < 2; k++) {
		pr->wall[k] = bench_median(wall[k], pr->iters);
		pr->pv[k] = bench_median(pv[k], pr->iters);
	}
	pr->oncpu = bench_median(oncpu, pr->iters);
	pr->tb = bench_median(tb, pr->iters);
out:
	bench_real_fini(&pr->r);
}

/* The reported figures of one side (model or real). */
struct pop_fig {
	double wall_s, per_vcpu, overall, one_vcpu, scaling, oncpu, tb;
	double alu; /* the machine's own scaling (bench_alu_scaling()) */
};

/* From medians in ns: @wall and @pv of the 1-vCPU [0] and N-vCPU [1]
 * passes, @pages per vCPU. */
static void pop_fig_of(struct pop_fig *f, uint64_t pages, unsigned int nv,
		       const double wall[2], const double pv[2], double oncpu,
		       double tb)
{
	f->wall_s = wall[1] * 1e-9;
	f->per_vcpu = (double)pages / (pv[1] * 1e-9);
	f->overall = (double)pages * nv / (wall[1] * 1e-9);
	f->one_vcpu = (double)pages / (wall[0] * 1e-9);
	/* Overall rate with N vCPUs over the rate with one. */
	f->scaling = f->overall / f->one_vcpu;
	f->oncpu = oncpu;
	f->tb = tb;
}

static void pop_print_json(const struct bench_opts *o, const struct pop_fig *m,
			   const struct pop_fig *r, const struct pop_real *pr)
{
	struct bench_json j;

	bench_json_begin(&j, stdout);
	bench_json_str(&j, "bench", "populate");
	bench_json_u64(&j, "vcpus", o->threads);
	bench_json_u64(&j, "bytes_per_vcpu", o->bytes);
	bench_json_double(&j, "Populate memory time", m->wall_s);
	bench_json_double(&j, "Per-vcpu demand paging rate", m->per_vcpu);
	bench_json_double(&j, "Overall demand paging rate", m->overall);
	bench_json_double(&j, "one_vcpu_rate", m->one_vcpu);
	bench_json_double(&j, "scaling", m->scaling);
	bench_json_double(&j, "vcpu_on_cpu", m->oncpu);
	bench_json_double(&j, "machine_alu_scaling", m->alu);
	bench_json_double(&j, "table_bytes_per_gib", m->tb);
	bench_real_json(&pr->r, &j);
	if (pr->r.why[0]) {
		bench_json_end(&j);
		return;
	}
	bench_json_u64(&j, "real iterations", pr->iters);
	bench_json_double(&j, "real Populate memory time", r->wall_s);
	bench_json_double(&j, "real Per-vcpu demand paging rate", r->per_vcpu);
	bench_json_double(&j, "real Overall demand paging rate", r->overall);
	bench_json_double(&j, "real one_vcpu_rate", r->one_vcpu);
	bench_json_double(&j, "real scaling", r->scaling);
	bench_json_double(&j, "real vcpu_on_cpu", r->oncpu);
	bench_json_double(&j, "real shadow_bytes_per_gib", r->tb);
	bench_json_u64(&j, "real pf_fixed", pr->pf_fixed);
	bench_json_u64(&j, "real pages", pr->pages);
	/* model speed over real speed: > 1 means the model is faster */
	bench_json_double(&j, "model_speedup Populate memory time",
			  r->wall_s / m->wall_s);
	bench_json_double(&j, "model_speedup Per-vcpu demand paging rate",
			  m->per_vcpu / r->per_vcpu);
	bench_json_double(&j, "model_speedup Overall demand paging rate",
			  m->overall / r->overall);
	bench_json_end(&j);
}

/* A row: model and real values, each with @prec decimals and @unit. */
static void pop_row(bool have, const char *label, double mv, double rv,
		    int prec, const char *unit, double speedup,
		    const char *note)
{
	char mc[32], rc[32], vs[32];

	bench_real_row(30, label,
		       bench_real_cell(true, mc, sizeof(mc), mv, prec, unit),
		       bench_real_cell(have, rc, sizeof(rc), rv, prec, unit),
		       bench_real_vs(have, vs, sizeof(vs), speedup), note);
}

static void pop_print(const struct bench_opts *o, const struct pop_fig *m,
		      const struct pop_fig *r, const struct pop_real *pr)
{
	bool have = !pr->r.why[0];
	char st[160];

	bench_real_row(30, "", "model", "real KVM", "model vs real", "");
	pop_row(have, "Populate memory time", m->wall_s, r->wall_s, 6, "s",
		r->wall_s / m->wall_s, "");
	pop_row(have, "Per-vcpu demand paging rate", m->per_vcpu, r->per_vcpu,
		0, " pgs/s", m->per_vcpu / r->per_vcpu, "(target >= 1500000)");
	pop_row(have, "Overall demand paging rate", m->overall, r->overall, 0,
		" pgs/s", m->overall / r->overall, "");
	pop_row(have, "Scaling 1 -> N vCPUs", m->scaling, r->scaling, 2, "x",
		NAN, "(target >= 1.80x at 2 vCPUs)");
	pop_row(have, "vCPU threads on CPU", m->oncpu * 100, r->oncpu * 100, 0,
		"%", NAN, "");
	{
		char mc[32];

		/* The same machine under both: one figure. */
		bench_real_row(
			30, "Machine's own scaling (ALU)",
			bench_real_cell(true, mc, sizeof(mc), m->alu, 2, "x"),
			"-", "-", "(N threads of pure ALU work: the ceiling)");
	}
	pop_row(have, "Stage-2 table bytes per GiB", m->tb / (1 << 20),
		r->tb / (1 << 20), 3, " MiB", NAN,
		"(target: kvmmu bench s2pt; real: shadow pages made)");
	snprintf(st, sizeof(st),
		 "%u of %u iteration(s) on /dev/kvm (CPL3 guest, shadow "
		 "MMU); pf_fixed grew by %llu for %llu pages",
		 pr->iters, o->iterations, (unsigned long long)pr->pf_fixed,
		 (unsigned long long)pr->pages);
	bench_real_status(&pr->r, st);
	if (have && pr->iters < o->iterations)
		printf("Real KVM stopped after %u iteration(s): the real side "
		       "is bounded to %.0f s\n",
		       pr->iters, BENCH_REAL_BUDGET_NS * 1e-9);
	if (o->threads > 1 && m->oncpu < 0.95)
		printf("Warning: the vCPU threads waited for a CPU %.0f%% "
		       "of their time; the machine was busy and the "
		       "scaling figure understates the model.\n",
		       (1 - m->oncpu) * 100);
	if (o->threads > 1 && m->alu < 0.9 * o->threads)
		printf("Warning: %u threads of pure ALU work scaled only "
		       "%.2fx here (vCPUs sharing a core, or a busy host); "
		       "read the scaling against that.\n",
		       o->threads, m->alu);
}

static int pop_run(const struct bench_opts *o)
{
	const struct bench *b = &bench_populate;
	uint64_t pages = o->bytes / PAGE_SIZE, total = o->bytes * o->threads;
	double wall[2][POP_MAX_ITERS], pv[2][POP_MAX_ITERS],
		oncpu[2][POP_MAX_ITERS], alu[POP_MAX_ITERS], tb = 0, m_wall[2],
							     m_pv[2], m_oncpu;
	struct kvmmu_host_config cfg = { 0 };
	struct pop_fig fm, fr;
	struct pop_real pr;
	struct kvmmu_host_audit a;
	struct kvmmu_host *host;
	unsigned int it, k, nv[2] = { 1, o->threads };
	char size[32];
	int ret;

	if (o->bytes % PAGE_SIZE || !o->bytes)
		return bench_fail(b, "-b must be a non-zero multiple of 4 KiB");
	if (o->iterations > POP_MAX_ITERS)
		return bench_fail(b, "at most %d iterations", POP_MAX_ITERS);
	if (total / o->threads != o->bytes ||
	    total > POP_MAX_RAM - POP_HEADROOM)
		return bench_fail(
			b, "%u x %s is too much guest memory", o->threads,
			bench_fmt_bytes(o->bytes, size, sizeof(size)));
	cfg.ram_bytes = total + POP_HEADROOM;
	cfg.prepopulate = true;
	cfg.init_on_free = true;
	ret = kvmmu_host_create(&cfg, &host);
	if (ret)
		return bench_fail(b, "kvmmu_host_create: %s", strerror(-ret));

	if (!o->json)
		printf("populate: demand paging, one 8-byte write per 4 KiB "
		       "page\nTesting guest mode: x86 4KB pages, %u vCPU(s) x "
		       "%s, %u iteration(s), median reported\n",
		       o->threads,
		       bench_fmt_bytes(o->bytes, size, sizeof(size)),
		       o->iterations);
	for (it = 0; it < o->iterations; it++) {
		for (k = 0; k < 2; k++) {
			ret = pop_pass(b, host, o->bytes, nv[k], &wall[k][it],
				       &pv[k][it], &oncpu[k][it], &tb);
			if (ret)
				goto out;
		}
		alu[it] = bench_alu_scaling(o->threads);
	}
	ret = kvmmu_host_audit(host, &a);
	if (ret || a.in_use || a.bad || a.mms) {
		ret = bench_fail(b, "host audit: in use %llu, bad %llu",
				 (unsigned long long)a.in_use,
				 (unsigned long long)a.bad);
		goto out;
	}
	for (k = 0; k < 2; k++) {
		m_wall[k] = bench_median(wall[k], o->iterations);
		m_pv[k] = bench_median(pv[k], o->iterations);
	}
	m_oncpu = bench_median(oncpu[1], o->iterations);
	pop_fig_of(&fm, pages, o->threads, m_wall, m_pv, m_oncpu, tb);
	fm.alu = bench_median(alu, o->iterations);
	pop_real(o, &pr);
	pop_fig_of(&fr, pages, o->threads, pr.wall, pr.pv, pr.oncpu, pr.tb);
	if (o->json)
		pop_print_json(o, &fm, &fr, &pr);
	else
		pop_print(o, &fm, &fr, &pr);
	if (pr.r.failed) {
		ret = bench_fail(b, "real KVM: %s", pr.r.why);
		goto out;
	}
	ret = 0;
out:
	if (kvmmu_host_destroy(host) && !ret)
		ret = bench_fail(b, "host still in use at the end");
	return ret;
}

const struct bench bench_populate = {
	.name = "populate",
	.summary = "demand paging: first-touch stage-2 faults per vCPU "
		   "(demand_paging_test)",
	.default_bytes = 512ull << 20,
	.default_threads = 2,
	.default_iterations = 7,
	.max_threads = 64,
	.run = pop_run,
};
