// SPDX-License-Identifier: MIT
/*
 * s2pt: the stage-2 table's footprint and zap cost, through the s2pt API
 * directly (no VM, no host).
 *
 * Each iteration maps -b bytes of guest memory from gfn 0 with 4 KiB leaves
 * into a fresh table and reports:
 *
 *  - table bytes per mapped GiB (4 KiB per table, the root included): a
 *    full 512-entry level-1 table per 2 MiB, plus the upper levels;
 *  - the time of one kvmmu_s2_unmap_range() over all of it, per zapped
 *    leaf, with leaves whose A and D bits are set (what a guest that has
 *    touched its memory leaves behind; cleared with a plain store), and
 *    again with fresh leaves (A/D clear, so each one needs an exchange);
 *  - the time of an unmap of a 1 TiB gfn range in which nothing is mapped,
 *    starting right after the mapping (so it starts inside a populated
 *    table, the worst case for skipping), averaged over many calls.
 *
 * Each step is checked: every map succeeds, the page counter and the
 * returned zap counts are exact, the empty unmap zaps nothing, and the table
 * is back to its root after kvmmu_s2_free_retired().  These are the
 * table's own operations, which user space cannot time on the kernel: the
 * "real" column is "-".  The kernel's figures for the same footprint and
 * zaps are in the populate bench (shadow page bytes per GiB) and the zap
 * bench (a DONTNEED of memory the guest mapped), measured on /dev/kvm.
 *
 * Models: tools/testing/selftests/kvm/memslot_perf_test.c (unmap timings),
 *	   the TDP MMU's memory footprint (pages_4k vs page-table pages)
 */
#include <errno.h>
#include <string.h>

#include "kvm/internal.h"

#include "bench.h"

#define S2B_MAX_ITERS	 100
#define S2B_MAX_BYTES	 (1ull << 40) /* 1 TiB mapped: 512 MiB of tables */
#define S2B_EMPTY_GFNS	 (1ull << 28) /* 1 TiB of gfns */
#define S2B_EMPTY_CALLS	 10000
#define S2B_PROT_AD	 (S2_WRITE | S2_EXEC | S2_ACCESSED | S2_DIRTY)
#define S2B_PROT_FRESH	 (S2_WRITE | S2_MMU_WRITABLE)
#define S2B_TARGET_BYTES (2.01 * (1 << 20)) /* per GiB */
#define S2B_TARGET_ZAP	 5.0		    /* ns per leaf */
#define S2B_TARGET_EMPTY 1000.0		    /* ns per call */

struct s2b_result {
	uint64_t table_bytes;
	double map_ns, zap_ns, zap_xchg_ns, empty_ns;
};

/* Map @pages 4 KiB leaves from gfn 0.  Return: 0 or 1; *ns the time. */
static int s2b_map(const struct bench *b, struct kvmmu_s2_mmu *mmu,
		   uint64_t pages, uint64_t prot, uint64_t *ns)
{
	uint64_t t0 = bench_now_ns();
	gfn_t g;

	for (g = 0; g < pages; g++) {
		int ret = kvmmu_s2_map(mmu, g, 1, s2_mk_leaf(1, prot, 0), NULL);

		if (ret)
			return bench_fail(b, "map of gfn %#llx: %s",
					  (unsigned long long)g,
					  strerror(-ret));
	}
	*ns = bench_now_ns() - t0;
	if ((uint64_t)kvmmu_s2_count(mmu, S2_STAT_PAGES_4K) != pages)
		return bench_fail(b, "pages_4k is %ld after %llu maps",
				  kvmmu_s2_count(mmu, S2_STAT_PAGES_4K),
				  (unsigned long long)pages);
	return 0;
}

/* Zap gfns [0, @pages), all mapped.  Return: 0 or 1; *ns the time. */
static int s2b_zap(const struct bench *b, struct kvmmu_s2_mmu *mmu,
		   uint64_t pages, uint64_t *ns)
{
	uint64_t t0 = bench_now_ns(), n;

	n = kvmmu_s2_unmap_range(mmu, 0, pages);
	*ns = bench_now_ns() - t0;
	if (n != pages || kvmmu_s2_count(mmu, S2_STAT_PAGES_4K))
		return bench_fail(b, "zap of %llu pages zapped %llu, %ld left",
				  (unsigned long long)pages,
				  (unsigned long long)n,
				  kvmmu_s2_count(mmu, S2_STAT_PAGES_4K));
	kvmmu_s2_free_retired(mmu);
	if (kvmmu_s2_table_bytes(mmu) != PAGE_SIZE)
		return bench_fail(
			b, "%llu table bytes left after the zap",
			(unsigned long long)kvmmu_s2_table_bytes(mmu));
	return 0;
}

static int s2b_iteration(const struct bench *b, uint64_t pages,
			 struct s2b_result *r)
{
	struct kvmmu_s2_mmu mmu;
	uint64_t ns, t0, n = 0;
	unsigned int i;
	int ret;

	ret = kvmmu_s2_init(&mmu);
	if (ret)
		return bench_fail(b, "kvmmu_s2_init: %s", strerror(-ret));
	ret = s2b_map(b, &mmu, pages, S2B_PROT_AD, &ns);
	if (ret)
		goto out;
	r->map_ns = (double)ns / pages;
	r->table_bytes = kvmmu_s2_table_bytes(&mmu);

	/* An empty 1 TiB right after the mapping. */
	t0 = bench_now_ns();
	for (i = 0; i < S2B_EMPTY_CALLS; i++)
		n += kvmmu_s2_unmap_range(&mmu, pages, pages + S2B_EMPTY_GFNS);
	r->empty_ns = (double)(bench_now_ns() - t0) / S2B_EMPTY_CALLS;
	if (n) {
		ret = bench_fail(b, "the empty range zapped %llu leaves",
				 (unsigned long long)n);
		goto out;
	}

	ret = s2b_zap(b, &mmu, pages, &ns);
	if (ret)
		goto out;
	r->zap_ns = (double)ns / pages;

	/* Again with leaves a lockless writer may still update. */
	ret = s2b_map(b, &mmu, pages, S2B_PROT_FRESH, &ns);
	if (ret)
		goto out;
	ret = s2b_zap(b, &mmu, pages, &ns);
	r->zap_xchg_ns = (double)ns / pages;
out:
	kvmmu_s2_destroy(&mmu);
	return ret;
}

static const char *s2b_verdict(double v, double target)
{
	return v <= target ? "" : " - above target";
}

static int s2b_run(const struct bench_opts *o)
{
	const struct bench *b = &bench_s2pt;
	uint64_t pages = o->bytes / PAGE_SIZE, table_bytes = 0;
	double t[4][S2B_MAX_ITERS], med[4], per_gib;
	unsigned int it, k;
	char size[32];

	if (o->iterations > S2B_MAX_ITERS)
		return bench_fail(b, "at most %d iterations", S2B_MAX_ITERS);
	if (o->bytes > S2B_MAX_BYTES)
		return bench_fail(b, "-b: at most 1 TiB");
	if (!o->json)
		printf("s2pt: stage-2 table footprint and zap cost, 4 KiB "
		       "leaves\n"
		       "Mapping %s (%llu pages), %u iteration(s), median "
		       "reported\n",
		       bench_fmt_bytes(o->bytes, size, sizeof(size)),
		       (unsigned long long)pages, o->iterations);
	for (it = 0; it < o->iterations; it++) {
		struct s2b_result r = { 0 };

		if (s2b_iteration(b, pages, &r))
			return 1;
		/* The footprint is deterministic: the same every time. */
		if (it && r.table_bytes != table_bytes)
			return bench_fail(b, "table bytes %llu, then %llu",
					  (unsigned long long)table_bytes,
					  (unsigned long long)r.table_bytes);
		table_bytes = r.table_bytes;
		t[0][it] = r.map_ns;
		t[1][it] = r.zap_ns;
		t[2][it] = r.zap_xchg_ns;
		t[3][it] = r.empty_ns;
	}
	for (k = 0; k < 4; k++)
		med[k] = bench_median(t[k], o->iterations);
	per_gib = (double)table_bytes / ((double)o->bytes / (1ull << 30));

	if (o->json) {
		struct bench_json j;

		bench_json_begin(&j, stdout);
		bench_json_str(&j, "bench", b->name);
		bench_json_u64(&j, "bytes", o->bytes);
		bench_json_u64(&j, "pages", pages);
		bench_json_u64(&j, "iterations", o->iterations);
		bench_json_u64(&j, "table_bytes", table_bytes);
		bench_json_double(&j, "table_bytes_per_gib", per_gib);
		bench_json_double(&j, "target_table_bytes_per_gib",
				  S2B_TARGET_BYTES);
		bench_json_double(&j, "map_ns_per_entry", med[0]);
		bench_json_double(&j, "zap_ns_per_entry", med[1]);
		bench_json_double(&j, "target_zap_ns_per_entry",
				  S2B_TARGET_ZAP);
		bench_json_double(&j, "zap_xchg_ns_per_entry", med[2]);
		bench_json_double(&j, "empty_1t_unmap_ns", med[3]);
		bench_json_double(&j, "target_empty_1t_unmap_ns",
				  S2B_TARGET_EMPTY);
		bench_json_str(&j, "real",
			       "- (see populate and zap for the kernel)");
		bench_json_end(&j);
		return 0;
	}
	printf("%-44s %14s %8s %s\n", "", "model", "real", "target");
	printf("%-44s %10.3f MiB %8s <= %.2f MiB%s\n",
	       "Stage-2 table bytes per mapped GiB:", per_gib / (1 << 20), "-",
	       S2B_TARGET_BYTES / (1 << 20),
	       s2b_verdict(per_gib, S2B_TARGET_BYTES));
	printf("%-44s %11.2f ns %8s\n", "Map, per 4 KiB leaf:", med[0], "-");
	printf("%-44s %11.2f ns %8s <= %.0f ns%s\n",
	       "Zap, per 4 KiB leaf (A/D set):", med[1], "-", S2B_TARGET_ZAP,
	       s2b_verdict(med[1], S2B_TARGET_ZAP));
	printf("%-44s %11.2f ns %8s\n",
	       "Zap, per 4 KiB leaf (A/D clear, xchg):", med[2], "-");
	printf("%-44s %11.1f ns %8s <= %.0f ns%s\n",
	       "Unmap of an empty 1 TiB gfn range:", med[3], "-",
	       S2B_TARGET_EMPTY, s2b_verdict(med[3], S2B_TARGET_EMPTY));
	printf("Real KVM: these are the table's own operations; the kernel's "
	       "shadow page bytes\nper GiB are in `kvmmu bench populate`, its "
	       "zap cost in `kvmmu bench zap`.\n");
	return 0;
}

const struct bench bench_s2pt = {
	.name = "s2pt",
	.summary = "stage-2 table bytes per GiB and zap cost (model only)",
	.default_bytes = 4ull << 30,
	.max_threads = 1,
	.run = s2b_run,
};
