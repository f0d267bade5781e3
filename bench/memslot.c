// SPDX-License-Identifier: MIT
/*
 * memslot: the cost of memslot updates and lookups with the x86 maximum of
 * 32764 user slots.
 *
 * Each iteration creates a fresh x86 VM and:
 *
 *  1. creates one-page slots 0..N-1 (slot i: gfn i, hva base + i pages;
 *     N = -b / 4 KiB, default 32764) through
 *     kvmmu_set_user_memory_region2(), timing each create (one memslot
 *     swap, i.e. one SRCU grace period, per create);
 *  2. looks up MS_LOOKUPS random gfns with kvmmu_gfn_to_memslot(): once
 *     inside one SRCU read-side section (as a vCPU, which holds kvm->srcu
 *     for its whole run loop; the figure the target is for), once taking
 *     and dropping the SRCU read lock around every lookup.  The gfns come
 *     from an xorshift generator over [0, N), so the set's last-used hint
 *     almost never hits and every lookup descends the gfn tree.  A third
 *     pass looks each random gfn up 64 times in a row, so that the hint
 *     answers (the common case of a real VM with few, large slots);
 *  3. deletes every slot (two swaps each: INVALID, then gone).
 *
 * Checked: every lookup returns the slot of its gfn, the VM counted one
 * swap per create and two per delete, and nothing resolves afterwards.
 *
 * Targets: <= 2 µs per create, <= 30 ns per lookup.
 *
 * The "real KVM" column does steps 1 and 3 on /dev/kvm through the kvm
 * backend (bench/real.c), a fresh VM per iteration: KVM_SET_USER_MEMORY_
 * REGION2 of the same one-page slots over never-touched memory, then
 * their deletes (about 25-50 and 50-57 µs per slot on the reference
 * machine).  At most MS_REAL_MAX_SLOTS slots (the backend's guest holds
 * the last user slot); creates stop after MS_REAL_PHASE_NS and deletes
 * too (destroying the VM frees the rest), which the output says; no new
 * iteration starts after BENCH_REAL_BUDGET_NS.  KVM has no lookup to
 * time from user space: "-".
 *
 * Models: tools/testing/selftests/kvm/memslot_perf_test.c (slot setup
 * time with 32k slots) and the lookup half of its map tests.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kvmmu/host.h>
#include <kvmmu/kvm.h>

#include "kvm/internal.h"
#include "bench.h"

#define MS_MAX_ITERS	  100
#define MS_LOOKUPS	  (4u << 20)
#define MS_TARGET_CREATE  2000.0 /* ns */
#define MS_TARGET_LOOKUP  30.0	 /* ns */
#define MS_DEFAULT_SLOTS  32764ull
#define MS_LOOKUP_SEED	  0x6d656d736c6f74ull /* "memslot" */
/* Real KVM: slot 32763 holds the kvm backend's guest; the bound of the
 * creates, and of the deletes, of one iteration. */
#define MS_REAL_MAX_SLOTS 32763ull
#define MS_REAL_PHASE_NS  (4ull * 1000000000ull)

struct ms_result {
	double create_ns, lookup_ns, lookup_srcu_ns, lookup_hint_ns, delete_ns;
};

/* How a lookup pass picks gfns and takes SRCU. */
enum ms_pass {
	MS_RANDOM,	/* random gfns, one SRCU section around the pass */
	MS_RANDOM_SRCU, /* random gfns, an SRCU section per lookup */
	MS_HINT,	/* each random gfn 64 times: the hint hits */
};

static inline uint64_t ms_xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * @n lookups of gfns in [0, @nslots) as @pass says.  Return: the number
 * that did not find the one-page slot of their gfn (must be 0); *ns the
 * time.
 */
static uint64_t ms_lookups(struct kvmmu_vm *vm, uint64_t nslots, uint64_t n,
			   enum ms_pass pass, uint64_t *ns)
{
	uint64_t x = MS_LOOKUP_SEED, bad = 0, i, t0;
	bool srcu_each = pass == MS_RANDOM_SRCU;
	struct kvmmu_memory_slot *slot;
	gfn_t gfn = 0;
	int idx = 0;

	t0 = bench_now_ns();
	if (!srcu_each)
		idx = kvmmu_srcu_read_lock(&vm->srcu);
	for (i = 0; i < n; i++) {
		if (pass != MS_HINT || !(i & 63))
			gfn = (gfn_t)(((unsigned __int128)ms_xorshift(&x) *
				       nslots) >>
				      64);
		if (srcu_each)
			idx = kvmmu_srcu_read_lock(&vm->srcu);
		slot = kvmmu_gfn_to_memslot(kvmmu_memslots(vm, 0), gfn);
		bad += !slot || slot->base_gfn != gfn;
		if (srcu_each)
			kvmmu_srcu_read_unlock(&vm->srcu, idx);
	}
	if (!srcu_each)
		kvmmu_srcu_read_unlock(&vm->srcu, idx);
	*ns = bench_now_ns() - t0;
	return bad;
}

static int ms_set(struct kvmmu_vm *vm, uint32_t id, uint64_t size, hva_t hva)
{
	struct kvmmu_userspace_memory_region2 r = {
		.slot = id,
		.guest_phys_addr = (uint64_t)id * PAGE_SIZE,
		.memory_size = size,
		.userspace_addr = hva,
	};

	return kvmmu_set_user_memory_region2(vm, &r);
}

static int ms_iteration(const struct bench *b, struct kvmmu_mm *mm, hva_t base,
			uint64_t nslots, struct ms_result *res)
{
	uint64_t t0, t1, ns, bad, id, upd;
	struct kvmmu_memslot_info info;
	struct kvmmu_vm *vm;
	int ret;

	ret = kvmmu_vm_create(mm, NULL, &vm);
	if (ret)
		return bench_fail(b, "kvmmu_vm_create: %s", strerror(-ret));

	t0 = bench_now_ns();
	for (id = 0; id < nslots; id++) {
		ret = ms_set(vm, (uint32_t)id, PAGE_SIZE,
			     base + id * PAGE_SIZE);
		if (ret) {
			ret = bench_fail(b, "create of slot %llu: %s",
					 (unsigned long long)id,
					 strerror(-ret));
			goto out;
		}
	}
	t1 = bench_now_ns();
	res->create_ns = (double)(t1 - t0) / (double)nslots;
	upd = kvmmu_vm_stat(vm, "memslot_updates");
	if (upd != nslots) {
		ret = bench_fail(b, "%llu memslot swaps for %llu creates",
				 (unsigned long long)upd,
				 (unsigned long long)nslots);
		goto out;
	}

	bad = ms_lookups(vm, nslots, MS_LOOKUPS, MS_RANDOM, &ns);
	res->lookup_ns = (double)ns / MS_LOOKUPS;
	bad += ms_lookups(vm, nslots, MS_LOOKUPS, MS_RANDOM_SRCU, &ns);
	res->lookup_srcu_ns = (double)ns / MS_LOOKUPS;
	bad += ms_lookups(vm, nslots, MS_LOOKUPS, MS_HINT, &ns);
	res->lookup_hint_ns = (double)ns / MS_LOOKUPS;
	if (bad) {
		ret = bench_fail(b, "%llu lookups did not find their slot",
				 (unsigned long long)bad);
		goto out;
	}

	t0 = bench_now_ns();
	for (id = 0; id < nslots; id++) {
		ret = ms_set(vm, (uint32_t)id, 0, 0);
		if (ret) {
			ret = bench_fail(b, "delete of slot %llu: %s",
					 (unsigned long long)id,
					 strerror(-ret));
			goto out;
		}
	}
	t1 = bench_now_ns();
	res->delete_ns = (double)(t1 - t0) / (double)nslots;
	upd = kvmmu_vm_stat(vm, "memslot_updates");
	if (upd != 3 * nslots) {
		ret = bench_fail(b, "%llu memslot swaps, expected %llu",
				 (unsigned long long)upd,
				 (unsigned long long)(3 * nslots));
		goto out;
	}
	for (id = 0; id < nslots; id += 97) {
		if (!kvmmu_gfn_to_memslot_info(vm, 0, id, &info)) {
			ret = bench_fail(b, "gfn %llu resolves after delete",
					 (unsigned long long)id);
			goto out;
		}
	}
	ret = 0;
out:
	kvmmu_vm_destroy(vm);
	return ret;
}

/* The real-KVM column: medians over its iterations. */
struct ms_real {
	struct bench_real r;
	uint64_t slots;	  /* asked for: min(N, MS_REAL_MAX_SLOTS) */
	uint64_t created; /* the fewest any iteration created in time */
	uint64_t deleted; /* the fewest any iteration deleted in time */
	unsigned int iters;
	double create_ns, delete_ns;
};

/*
 * One real iteration: up to @pr->slots creates, then their deletes, each
 * phase bounded by MS_REAL_PHASE_NS.  Return: 0 or -1 (why set).
 */
static int ms_real_iteration(struct ms_real *pr, double *create_ns,
			     double *delete_ns)
{
	struct bench_real *r = &pr->r;
	uint64_t hva, id, n, t0, t1 = 0;

	if (bench_real_create(r, 1) ||
	    bench_real_ram(r, -1, 0, pr->slots * PAGE_SIZE, &hva))
		return -1;
	t0 = bench_now_ns();
	for (n = 0; n < pr->slots; n++) {
		if (!(n & 255) && n &&
		    (t1 = bench_now_ns()) - t0 > MS_REAL_PHASE_NS)
			break;
		if (bench_real_slot(r, (uint32_t)n, n * PAGE_SIZE, PAGE_SIZE,
				    hva + n * PAGE_SIZE))
			return -1;
	}
	t1 = bench_now_ns();
	*create_ns = (double)(t1 - t0) / (double)n;
	pr->created = min(pr->created, n);
	t0 = bench_now_ns();
	for (id = 0; id < n; id++) {
		if (!(id & 255) && id &&
		    (t1 = bench_now_ns()) - t0 > MS_REAL_PHASE_NS)
			break;
		if (bench_real_slot(r, (uint32_t)id, 0, 0, 0))
			return -1;
	}
	t1 = bench_now_ns();
	*delete_ns = (double)(t1 - t0) / (double)id;
	pr->deleted = min(pr->deleted, id);
	bench_real_destroy(r);
	return 0;
}

static void ms_real(const struct bench_opts *o, uint64_t nslots,
		    struct ms_real *pr)
{
	double c[MS_MAX_ITERS], d[MS_MAX_ITERS];
	uint64_t t0 = bench_now_ns();

	pr->slots = min(nslots, MS_REAL_MAX_SLOTS);
	pr->created = pr->deleted = pr->slots;
	pr->iters = 0;
	pr->create_ns = pr->delete_ns = NAN;
	if (!bench_real_init(&pr->r))
		return;
	while (pr->iters < o->iterations &&
	       (!pr->iters || bench_now_ns() - t0 < BENCH_REAL_BUDGET_NS)) {
		if (ms_real_iteration(pr, &c[pr->iters], &d[pr->iters]))
			goto out;
		pr->iters++;
	}
	pr->create_ns = bench_median(c, pr->iters);
	pr->delete_ns = bench_median(d, pr->iters);
out:
	bench_real_fini(&pr->r);
}

/* A row; @real < 0: KVM has no such figure. */
static void ms_line(const char *what, double v, const char *unit, double div,
		    double target, const struct ms_real *pr, double real)
{
	bool have = !pr->r.why[0];
	char tgt[32], rc[32], vs[32];

	if (target > 0)
		snprintf(tgt, sizeof(tgt), "<= %.0f %s", target / div, unit);
	else
		snprintf(tgt, sizeof(tgt), "-");
	if (real < 0)
		snprintf(rc, sizeof(rc), "-");
	else
		bench_real_cell(have, rc, sizeof(rc), real / div, 2, "");
	printf("%-24s %10.2f %-3s %12s %10s %-3s %s%s\n", what, v / div, unit,
	       tgt, rc, have && real >= 0 ? unit : "",
	       bench_real_vs(have && real >= 0, vs, sizeof(vs), real / v),
	       target > 0 && v > target ? "  - above target" : "");
}

static void ms_print_json(const struct bench_opts *o, uint64_t nslots,
			  const struct ms_result *med, const struct ms_real *pr)
{
	struct bench_json j;

	bench_json_begin(&j, stdout);
	bench_json_str(&j, "bench", "memslot");
	bench_json_u64(&j, "slots", nslots);
	bench_json_u64(&j, "lookups", MS_LOOKUPS);
	bench_json_u64(&j, "iterations", o->iterations);
	bench_json_double(&j, "model_create_ns", med->create_ns);
	bench_json_double(&j, "model_lookup_ns", med->lookup_ns);
	bench_json_double(&j, "model_lookup_srcu_ns", med->lookup_srcu_ns);
	bench_json_double(&j, "model_lookup_hint_ns", med->lookup_hint_ns);
	bench_json_double(&j, "model_delete_ns", med->delete_ns);
	bench_json_double(&j, "target_create_ns", MS_TARGET_CREATE);
	bench_json_double(&j, "target_lookup_ns", MS_TARGET_LOOKUP);
	/* Not measured (n/a): JSON null. */
	bench_json_double(&j, "real_create_ns", pr->create_ns);
	bench_json_double(&j, "real_delete_ns", pr->delete_ns);
	bench_real_json(&pr->r, &j);
	if (!pr->r.why[0]) {
		bench_json_u64(&j, "real_slots", pr->slots);
		bench_json_u64(&j, "real_slots_created", pr->created);
		bench_json_u64(&j, "real_slots_deleted", pr->deleted);
		bench_json_u64(&j, "real iterations", pr->iters);
		/* real time over model time: > 1, the model is faster */
		bench_json_double(&j, "model_speedup create",
				  pr->create_ns / med->create_ns);
		bench_json_double(&j, "model_speedup delete",
				  pr->delete_ns / med->delete_ns);
	}
	bench_json_end(&j);
}

static void ms_print(const struct bench_opts *o, uint64_t nslots,
		     const struct ms_result *med, const struct ms_real *pr)
{
	char st[256];
	int n;

	printf("%-24s %14s %12s %14s %s\n", "", "model", "target", "real KVM",
	       "model vs real");
	ms_line("Create (per slot)", med->create_ns, "us", 1e3,
		MS_TARGET_CREATE, pr, pr->create_ns);
	ms_line("Lookup (per gfn)", med->lookup_ns, "ns", 1, MS_TARGET_LOOKUP,
		pr, -1);
	ms_line("Lookup + SRCU lock", med->lookup_srcu_ns, "ns", 1, 0, pr, -1);
	ms_line("Lookup, hint hits", med->lookup_hint_ns, "ns", 1, 0, pr, -1);
	ms_line("Delete (per slot)", med->delete_ns, "us", 1e3, 0, pr,
		pr->delete_ns);
	n = snprintf(st, sizeof(st),
		     "%llu one-page slots%s, %u of %u iteration(s), "
		     "KVM_SET_USER_MEMORY_REGION2 on /dev/kvm",
		     (unsigned long long)pr->slots,
		     pr->slots < nslots ? " (the last user slot holds the "
					  "kvm backend's guest)" :
					  "",
		     pr->iters, o->iterations);
	if (pr->created < pr->slots || pr->deleted < pr->created)
		snprintf(st + n, sizeof(st) - (size_t)n,
			 "; bounded to %.0f s per phase: as few as %llu "
			 "creates and %llu deletes timed",
			 MS_REAL_PHASE_NS * 1e-9,
			 (unsigned long long)pr->created,
			 (unsigned long long)pr->deleted);
	bench_real_status(&pr->r, st);
}

static int ms_run(const struct bench_opts *o)
{
	const struct bench *b = &bench_memslot;
	double c[MS_MAX_ITERS], l[MS_MAX_ITERS], ls[MS_MAX_ITERS],
		lh[MS_MAX_ITERS], d[MS_MAX_ITERS];
	struct kvmmu_host_config cfg = { .ram_bytes = 16ull << 20 };
	uint64_t nslots = o->bytes / PAGE_SIZE;
	struct ms_result med, res = { 0 };
	struct ms_real pr;
	struct kvmmu_host *host;
	struct kvmmu_mm *mm;
	unsigned int it;
	hva_t base;
	int ret;

	if (o->iterations > MS_MAX_ITERS)
		return bench_fail(b, "at most %d iterations", MS_MAX_ITERS);
	if (nslots > MS_DEFAULT_SLOTS)
		return bench_fail(b,
				  "-b: at most %llu one-page slots (%llu "
				  "bytes) fit in x86's user slots",
				  MS_DEFAULT_SLOTS,
				  MS_DEFAULT_SLOTS * PAGE_SIZE);
	ret = kvmmu_host_create(&cfg, &host);
	if (ret)
		return bench_fail(b, "kvmmu_host_create: %s", strerror(-ret));
	ret = kvmmu_mm_create(host, &mm);
	if (ret) {
		ret = bench_fail(b, "kvmmu_mm_create: %s", strerror(-ret));
		goto out_host;
	}
	/* Only the VMA: memslots never touch the memory. */
	ret = kvmmu_mmap(mm, 0, nslots * PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &base);
	if (ret) {
		ret = bench_fail(b, "kvmmu_mmap: %s", strerror(-ret));
		goto out_mm;
	}
	if (!o->json)
		printf("memslot: %llu one-page slots (x86), %u random-gfn "
		       "lookups, %u iteration(s), median reported\n",
		       (unsigned long long)nslots, MS_LOOKUPS, o->iterations);

	for (it = 0; it < o->iterations; it++) {
		ret = ms_iteration(b, mm, base, nslots, &res);
		if (ret)
			goto out_mm;
		c[it] = res.create_ns;
		l[it] = res.lookup_ns;
		ls[it] = res.lookup_srcu_ns;
		lh[it] = res.lookup_hint_ns;
		d[it] = res.delete_ns;
		if (!o->json)
			printf("Iteration %u: create %.2f us/slot, lookup "
			       "%.1f ns (%.1f ns with SRCU), delete %.2f "
			       "us/slot\n",
			       it + 1, res.create_ns * 1e-3, res.lookup_ns,
			       res.lookup_srcu_ns, res.delete_ns * 1e-3);
	}
	med.create_ns = bench_median(c, o->iterations);
	med.lookup_ns = bench_median(l, o->iterations);
	med.lookup_srcu_ns = bench_median(ls, o->iterations);
	med.lookup_hint_ns = bench_median(lh, o->iterations);
	med.delete_ns = bench_median(d, o->iterations);

	ms_real(o, nslots, &pr);
	if (o->json)
		ms_print_json(o, nslots, &med, &pr);
	else
		ms_print(o, nslots, &med, &pr);
	if (pr.r.failed) {
		ret = bench_fail(b, "real KVM: %s", pr.r.why);
		goto out_mm;
	}
	ret = 0;
out_mm:
	kvmmu_mmput(mm);
out_host:
	if (kvmmu_host_destroy(host) && !ret)
		ret = bench_fail(b, "kvmmu_host_destroy: busy after teardown");
	return ret ? 1 : 0;
}

const struct bench bench_memslot = {
	.name = "memslot",
	.summary = "memslot create/lookup/delete with 32764 slots",
	.default_bytes = MS_DEFAULT_SLOTS * PAGE_SIZE,
	.max_threads = 1,
	.run = ms_run,
};
