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
 * Targets: <= 2 µs per create, <= 30 ns per lookup.  The "real" column is
 * for the real-KVM backend (KVM_SET_USER_MEMORY_REGION on /dev/kvm, about
 * 25-50 µs per create on the reference machine), which does not exist yet:
 * it prints n/a.
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

#define MS_MAX_ITERS	 100
#define MS_LOOKUPS	 (4u << 20)
#define MS_TARGET_CREATE 2000.0 /* ns */
#define MS_TARGET_LOOKUP 30.0	/* ns */
#define MS_DEFAULT_SLOTS 32764ull
#define MS_LOOKUP_SEED	 0x6d656d736c6f74ull /* "memslot" */

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

static void ms_line(const char *what, double v, const char *unit, double div,
		    double target)
{
	char tgt[32];

	if (target > 0)
		snprintf(tgt, sizeof(tgt), "<= %.0f %s", target / div, unit);
	else
		snprintf(tgt, sizeof(tgt), "-");
	printf("%-24s %10.2f %-3s %12s %8s%s\n", what, v / div, unit, tgt,
	       "n/a", target > 0 && v > target ? "  - above target" : "");
}

static int ms_run(const struct bench_opts *o)
{
	const struct bench *b = &bench_memslot;
	double c[MS_MAX_ITERS], l[MS_MAX_ITERS], ls[MS_MAX_ITERS],
		lh[MS_MAX_ITERS], d[MS_MAX_ITERS];
	struct kvmmu_host_config cfg = { .ram_bytes = 16ull << 20 };
	uint64_t nslots = o->bytes / PAGE_SIZE;
	struct ms_result med, res = { 0 };
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

	if (o->json) {
		struct bench_json j;

		bench_json_begin(&j, stdout);
		bench_json_str(&j, "bench", b->name);
		bench_json_u64(&j, "slots", nslots);
		bench_json_u64(&j, "lookups", MS_LOOKUPS);
		bench_json_u64(&j, "iterations", o->iterations);
		bench_json_double(&j, "model_create_ns", med.create_ns);
		bench_json_double(&j, "model_lookup_ns", med.lookup_ns);
		bench_json_double(&j, "model_lookup_srcu_ns",
				  med.lookup_srcu_ns);
		bench_json_double(&j, "model_lookup_hint_ns",
				  med.lookup_hint_ns);
		bench_json_double(&j, "model_delete_ns", med.delete_ns);
		bench_json_double(&j, "target_create_ns", MS_TARGET_CREATE);
		bench_json_double(&j, "target_lookup_ns", MS_TARGET_LOOKUP);
		/* No real-KVM backend yet: JSON null. */
		bench_json_double(&j, "real_create_ns", NAN);
		bench_json_double(&j, "real_delete_ns", NAN);
		bench_json_end(&j);
	} else {
		printf("%-24s %14s %12s %8s\n", "", "model", "target", "real");
		ms_line("Create (per slot)", med.create_ns, "us", 1e3,
			MS_TARGET_CREATE);
		ms_line("Lookup (per gfn)", med.lookup_ns, "ns", 1,
			MS_TARGET_LOOKUP);
		ms_line("Lookup + SRCU lock", med.lookup_srcu_ns, "ns", 1, 0);
		ms_line("Lookup, hint hits", med.lookup_hint_ns, "ns", 1, 0);
		ms_line("Delete (per slot)", med.delete_ns, "us", 1e3, 0);
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
