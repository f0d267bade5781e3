// SPDX-License-Identifier: MIT
/*
 * zap: what an MMU-notifier invalidation costs KVM.
 *
 * 1. The guest maps -b bytes (default 1 GiB; one write per 4 KiB page),
 *    then the host does MADV_DONTNEED over all of it.  KVM's share is the
 *    time between two timing subscribers on the mm's notifier chain, one
 *    registered before the VM and one after, so it is exactly KVM's
 *    invalidate_range_start (zap + remote TLB flush) plus its
 *    invalidate_range_end, on the real DONTNEED path.  Reported per zapped
 *    4 KiB leaf, next to the whole madvise per page (host work included).
 * 2. The same DONTNEED over 1 TiB of mapped-but-untouched HVA that no
 *    memslot covers: KVM's share must be a lookup that finds nothing.
 *    Repeated ZAP_TIB_REPS times back to back (the median is reported),
 *    as a stream of such invalidations would run.
 *
 * The real-KVM column (bench/real.c, the kvm backend on /dev/kvm): the
 * guest maps the same -b bytes (one TOUCH write per page, checked from
 * the host side), then one timed MADV_DONTNEED of the whole range: the
 * whole call, next to the model's whole call.  KVM's share cannot be
 * timed from user space; it is estimated as the difference from the same
 * DONTNEED of memory the host alone touched, with no memslot over it
 * (the reference machine's 92 ms for 1 GiB hold about 13 ms of KVM zap).
 * The 1 TiB invalidation has no real figure.  Iterations stop after
 * BENCH_REAL_BUDGET_NS (at least one runs).
 *
 * Checked: pages_4k drops from one per page to 0, notifier_zap_pages grows
 * by one per page, the 1 TiB invalidation zaps nothing and leaves the
 * invalidation sequence untouched, the host audits clean.  Real KVM:
 * pf_fixed and pages_4k grow by at least one per page, every page holds
 * the guest's word, the DONTNEED drops pages_4k by one per page.
 *
 * Models: the zap half of tools/testing/selftests/kvm/mmu_stress_test.c
 * and access_tracking_perf_test.c's invalidation costs.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kvmmu/kvm.h>
#include <kvmmu/vcpu.h>

#include "bench.h"
#include "kvm/internal.h"

#define ZAP_HEADROOM  (64ull << 20)
#define ZAP_MAX_ITERS 100
#define ZAP_TIB	      (1ull << 40)
#define ZAP_TIB_REPS  1001 /* the median of these, per iteration */
#define ZAP_REAL_WORD 0x7a61707265616c00ull /* "zapreal" */

/* A subscriber that timestamps the callbacks it sees. */
struct zap_timer {
	struct kvmmu_mmu_notifier mn;
	uint64_t start_ns, end_ns;
};

static int zt_start(struct kvmmu_mmu_notifier *mn,
		    const struct kvmmu_mmu_notifier_range *r)
{
	container_of(mn, struct zap_timer, mn)->start_ns = bench_now_ns();
	return 0;
}

static void zt_end(struct kvmmu_mmu_notifier *mn,
		   const struct kvmmu_mmu_notifier_range *r)
{
	container_of(mn, struct zap_timer, mn)->end_ns = bench_now_ns();
}

static const struct kvmmu_mmu_notifier_ops zt_ops = {
	.invalidate_range_start = zt_start,
	.invalidate_range_end = zt_end,
};

struct zap_result {
	double kvm_ns, madvise_ns;
};

/* DONTNEED [addr, addr+len) and time KVM's callbacks inside it. */
static int zap_timed(const struct bench *b, struct kvmmu_mm *mm,
		     struct zap_timer *before, struct zap_timer *after,
		     hva_t addr, uint64_t len, struct zap_result *res)
{
	uint64_t t0, t1;
	int err;

	t0 = bench_now_ns();
	err = kvmmu_madvise(mm, addr, len, MADV_DONTNEED);
	t1 = bench_now_ns();
	if (err)
		return bench_fail(b, "madvise: %s", strerror(-err));
	if (!before->start_ns || !after->start_ns)
		return bench_fail(b, "the notifier callbacks did not run");
	/* start: before ... KVM ... after; end: in the same order. */
	res->kvm_ns = (double)(after->start_ns - before->start_ns) +
		      (double)(after->end_ns - before->end_ns);
	res->madvise_ns = (double)(t1 - t0);
	before->start_ns = after->start_ns = 0;
	return 0;
}

static int zap_populate(const struct bench *b, struct kvmmu_vm *vm, gpa_t gpa,
			uint64_t pages)
{
	struct kvmmu_guest_insn *in = calloc(pages, sizeof(*in));
	struct kvmmu_guest_prog p = { .insns = in, .n = (uint32_t)pages };
	struct kvmmu_vcpu *vcpu = NULL;
	uint64_t pg;
	int err;

	if (!in)
		return bench_fail(b, "out of memory");
	for (pg = 0; pg < pages; pg++)
		in[pg] = (struct kvmmu_guest_insn){ .op = KVMMU_GOP_WRITE,
						    .size = 8,
						    .gpa = gpa + pg * PAGE_SIZE,
						    .val = pg + 1 };
	err = kvmmu_vcpu_create(vm, 0, &vcpu);
	if (!err)
		err = kvmmu_vcpu_set_prog(vcpu, &p);
	if (!err)
		err = kvmmu_vcpu_run(vcpu);
	if (!err && kvmmu_vcpu_run_state(vcpu)->exit_reason != KVMMU_EXIT_HLT)
		err = -EIO;
	free(in);
	if (err)
		return bench_fail(b, "populate: %s", strerror(-err));
	return 0;
}

/* The real-KVM column: medians over its iterations, in ns. */
struct zap_real {
	struct bench_real r;
	unsigned int iters;
	double whole_ns, host_ns; /* guest-mapped, host-only DONTNEED */
	uint64_t zapped;	  /* pages_4k the last DONTNEED dropped */
};

/*
 * One real iteration on the VM of @zr->r, whose memory at @hva no slot
 * covers: a host-only touch and DONTNEED, then slot 0 over it, the
 * guest's touch, the timed DONTNEED, the slot deleted again.
 * Return: 0 or -1 (why set).
 */
static int zap_real_iteration(struct zap_real *zr, uint64_t hva, uint64_t bytes,
			      double *whole, double *host)
{
	struct bench_real *r = &zr->r;
	uint64_t pages = bytes / PAGE_SIZE, p0, p1, p2, ns;
	struct bench_real_pass p;

	if (bench_real_host_touch(r, hva, bytes) ||
	    bench_real_madvise(r, hva, bytes, MADV_DONTNEED, &ns))
		return -1;
	*host = (double)ns;
	if (bench_real_slot(r, 0, 0, bytes, hva) ||
	    bench_real_stat(r, "pages_4k", &p0) ||
	    bench_real_touch(r, 1, 0, bytes, ZAP_REAL_WORD, &p) ||
	    bench_real_stat(r, "pages_4k", &p1) ||
	    bench_real_verify(r, hva, 1, bytes, ZAP_REAL_WORD))
		return -1;
	if (p1 - p0 < pages)
		return bench_real_skip(r, true,
				       "pages_4k grew by %llu for %llu pages",
				       (unsigned long long)(p1 - p0),
				       (unsigned long long)pages);
	if (bench_real_madvise(r, hva, bytes, MADV_DONTNEED, &ns) ||
	    bench_real_stat(r, "pages_4k", &p2))
		return -1;
	*whole = (double)ns;
	zr->zapped = p1 - p2;
	if (p1 - p2 < pages)
		return bench_real_skip(r, true,
				       "the DONTNEED dropped pages_4k by %llu "
				       "for %llu pages",
				       (unsigned long long)(p1 - p2),
				       (unsigned long long)pages);
	return bench_real_slot(r, 0, 0, 0, 0);
}

static void zap_real(const struct bench_opts *o, struct zap_real *zr)
{
	double whole[ZAP_MAX_ITERS], host[ZAP_MAX_ITERS];
	uint64_t t0 = bench_now_ns(), hva;

	zr->iters = 0;
	zr->whole_ns = zr->host_ns = NAN;
	if (!bench_real_init(&zr->r) ||
	    bench_real_mem_check(&zr->r, o->bytes) ||
	    bench_real_create(&zr->r, 1) ||
	    bench_real_ram(&zr->r, -1, 0, o->bytes, &hva))
		goto out;
	while (zr->iters < o->iterations &&
	       (!zr->iters || bench_now_ns() - t0 < BENCH_REAL_BUDGET_NS)) {
		if (zap_real_iteration(zr, hva, o->bytes, &whole[zr->iters],
				       &host[zr->iters]))
			goto out;
		zr->iters++;
	}
	zr->whole_ns = bench_median(whole, zr->iters);
	zr->host_ns = bench_median(host, zr->iters);
out:
	bench_real_fini(&zr->r);
}

/* A row: model and real values with @prec decimals and @unit; NAN: "-". */
static void zap_row(const struct zap_real *zr, const char *label, double mv,
		    double rv, int prec, const char *unit, const char *note)
{
	bool have = !zr->r.why[0];
	char mc[32], rc[32], vs[32];

	if (isnan(mv))
		snprintf(mc, sizeof(mc), "-");
	else
		bench_real_cell(true, mc, sizeof(mc), mv, prec, unit);
	if (have && isnan(rv))
		snprintf(rc, sizeof(rc), "-");
	else
		bench_real_cell(have, rc, sizeof(rc), rv, prec, unit);
	bench_real_row(38, label, mc, rc,
		       bench_real_vs(have && !isnan(mv), vs, sizeof(vs),
				     rv / mv),
		       note);
}

static void zap_print(const struct bench_opts *o, const struct zap_real *zr,
		      double m_kvm, double m_mad, double m_tib)
{
	double pages = (double)(o->bytes / PAGE_SIZE);
	char size[32], label[64], st[160];

	bench_real_row(38, "", "model", "real KVM", "model vs real", "");
	zap_row(zr, "KVM zap per 4K leaf (DONTNEED)", m_kvm,
		(zr->whole_ns - zr->host_ns) / pages, 2, " ns",
		"(target <= 5 ns; real: whole minus host-only)");
	zap_row(zr, "whole madvise per 4K page", m_mad, zr->whole_ns / pages, 2,
		" ns", "");
	snprintf(label, sizeof(label), "whole DONTNEED of %s",
		 bench_fmt_bytes(o->bytes, size, sizeof(size)));
	zap_row(zr, label, m_mad * pages * 1e-6, zr->whole_ns * 1e-6, 2, " ms",
		"");
	zap_row(zr, "  of which the host (no KVM mapping)",
		(m_mad - m_kvm) * pages * 1e-6, zr->host_ns * 1e-6, 2, " ms",
		"(real: the host alone touched it)");
	zap_row(zr, "KVM invalidation of 1 TiB, no memslot", m_tib, NAN, 0,
		" ns", "(target <= 1000 ns)");
	snprintf(st, sizeof(st),
		 "%u of %u iteration(s) on /dev/kvm (CPL3 guest, shadow "
		 "MMU); the DONTNEED dropped pages_4k by %llu",
		 zr->iters, o->iterations, (unsigned long long)zr->zapped);
	bench_real_status(&zr->r, st);
}

static void zap_print_json(const struct bench_opts *o,
			   const struct zap_real *zr, double m_kvm,
			   double m_mad, double m_tib)
{
	double pages = (double)(o->bytes / PAGE_SIZE);
	struct bench_json j;

	bench_json_begin(&j, stdout);
	bench_json_str(&j, "bench", "zap");
	bench_json_u64(&j, "bytes", o->bytes);
	bench_json_double(&j, "kvm_zap_ns_per_4k", m_kvm);
	bench_json_double(&j, "madvise_ns_per_4k", m_mad);
	bench_json_double(&j, "madvise_ms", m_mad * pages * 1e-6);
	bench_json_double(&j, "kvm_unmapped_1tib_ns", m_tib);
	bench_real_json(&zr->r, &j);
	if (!zr->r.why[0]) {
		bench_json_u64(&j, "real iterations", zr->iters);
		bench_json_double(&j, "real madvise_ms", zr->whole_ns * 1e-6);
		bench_json_double(&j, "real madvise_ns_per_4k",
				  zr->whole_ns / pages);
		bench_json_double(&j, "real host_only_madvise_ms",
				  zr->host_ns * 1e-6);
		bench_json_double(&j, "real kvm_zap_ns_per_4k_estimate",
				  (zr->whole_ns - zr->host_ns) / pages);
		bench_json_u64(&j, "real pages_4k_zapped", zr->zapped);
		/* real time over model time: > 1, the model is faster */
		bench_json_double(&j, "model_speedup madvise",
				  zr->whole_ns / (m_mad * pages));
	}
	bench_json_end(&j);
}

static int zap_run(const struct bench_opts *o)
{
	const struct bench *b = &bench_zap;
	uint64_t pages = o->bytes / PAGE_SIZE, z0, seq0;
	double kvm[ZAP_MAX_ITERS], mad[ZAP_MAX_ITERS], tib[ZAP_MAX_ITERS];
	static double reps[ZAP_TIB_REPS];
	struct kvmmu_host_config cfg = { .prepopulate = true,
					 .no_poison = true };
	struct zap_timer before = { .mn.ops = &zt_ops },
			 after = { .mn.ops = &zt_ops };
	struct kvmmu_userspace_memory_region2 reg = { 0 };
	struct kvmmu_host_audit a;
	struct kvmmu_host *host;
	struct kvmmu_mm *mm = NULL;
	struct kvmmu_vm *vm = NULL;
	hva_t base, far;
	struct zap_result res;
	struct zap_real zr;
	unsigned int it, k;
	char size[32];
	double m_kvm, m_mad, m_tib;
	int ret = 1, err;

	if (!o->bytes || o->bytes % PAGE_SIZE)
		return bench_fail(b, "-b must be a non-zero multiple of 4 KiB");
	if (o->iterations > ZAP_MAX_ITERS)
		return bench_fail(b, "at most %d iterations", ZAP_MAX_ITERS);
	cfg.ram_bytes = o->bytes + ZAP_HEADROOM;
	if ((err = kvmmu_host_create(&cfg, &host)))
		return bench_fail(b, "kvmmu_host_create: %s", strerror(-err));
	if ((err = kvmmu_mm_create(host, &mm))) {
		bench_fail(b, "kvmmu_mm_create: %s", strerror(-err));
		goto out_host;
	}
	if ((err = kvmmu_mmap(mm, 0, o->bytes, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &base)) ||
	    (err = kvmmu_mmap(mm, 0, ZAP_TIB, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &far))) {
		bench_fail(b, "kvmmu_mmap: %s", strerror(-err));
		goto out_mm;
	}
	if ((err = kvmmu_mmu_notifier_register(&before.mn, mm)) ||
	    (err = kvmmu_vm_create(mm, NULL, &vm)) ||
	    (err = kvmmu_mmu_notifier_register(&after.mn, mm))) {
		bench_fail(b, "setup: %s", strerror(-err));
		goto out_vm;
	}
	reg.memory_size = o->bytes;
	reg.userspace_addr = base;
	if ((err = kvmmu_set_user_memory_region(vm, &reg))) {
		bench_fail(b, "set_user_memory_region: %s", strerror(-err));
		goto out_vm;
	}
	if (!o->json)
		printf("zap: MADV_DONTNEED of %s the guest mapped, and of 1 TiB "
		       "no memslot covers; %u iteration(s), median reported\n",
		       bench_fmt_bytes(o->bytes, size, sizeof(size)),
		       o->iterations);

	for (it = 0; it < o->iterations; it++) {
		if (zap_populate(b, vm, 0, pages))
			goto out_vm;
		if (kvmmu_vm_stat(vm, "pages_4k") != pages) {
			bench_fail(b, "pages_4k is %llu after populating %llu",
				   (unsigned long long)kvmmu_vm_stat(
					   vm, "pages_4k"),
				   (unsigned long long)pages);
			goto out_vm;
		}
		z0 = kvmmu_vm_stat(vm, "notifier_zap_pages");
		if (zap_timed(b, mm, &before, &after, base, o->bytes, &res))
			goto out_vm;
		kvm[it] = res.kvm_ns / pages;
		mad[it] = res.madvise_ns / pages;
		if (kvmmu_vm_stat(vm, "pages_4k") != 0 ||
		    kvmmu_vm_stat(vm, "notifier_zap_pages") - z0 != pages) {
			bench_fail(b, "the DONTNEED did not zap every leaf");
			goto out_vm;
		}
		seq0 = READ_ONCE(vm->mmu_invalidate_seq);
		for (k = 0; k < ZAP_TIB_REPS; k++) {
			if (zap_timed(b, mm, &before, &after, far, ZAP_TIB,
				      &res))
				goto out_vm;
			reps[k] = res.kvm_ns;
		}
		tib[it] = bench_median(reps, ZAP_TIB_REPS);
		if (READ_ONCE(vm->mmu_invalidate_seq) != seq0) {
			bench_fail(b, "an invalidation outside every memslot "
				      "bumped mmu_invalidate_seq");
			goto out_vm;
		}
		/* vCPU 0 is re-created by the next populate */
		kvmmu_vm_destroy(vm);
		vm = NULL;
		kvmmu_mmu_notifier_unregister(&after.mn, mm);
		if ((err = kvmmu_vm_create(mm, NULL, &vm)) ||
		    (err = kvmmu_mmu_notifier_register(&after.mn, mm)) ||
		    (err = kvmmu_set_user_memory_region(vm, &reg))) {
			bench_fail(b, "re-setup: %s", strerror(-err));
			goto out_vm;
		}
	}
	m_kvm = bench_median(kvm, o->iterations);
	m_mad = bench_median(mad, o->iterations);
	m_tib = bench_median(tib, o->iterations);
	zap_real(o, &zr);
	if (o->json)
		zap_print_json(o, &zr, m_kvm, m_mad, m_tib);
	else
		zap_print(o, &zr, m_kvm, m_mad, m_tib);
	if (zr.r.failed) {
		bench_fail(b, "real KVM: %s", zr.r.why);
		goto out_vm;
	}
	ret = 0;
out_vm:
	kvmmu_vm_destroy(vm);
	if (after.mn.mm)
		kvmmu_mmu_notifier_unregister(&after.mn, mm);
	if (before.mn.mm)
		kvmmu_mmu_notifier_unregister(&before.mn, mm);
out_mm:
	kvmmu_mmput(mm);
	if (!ret && (kvmmu_host_audit(host, &a) || a.in_use || a.bad))
		ret = bench_fail(b, "host audit after teardown failed");
out_host:
	kvmmu_host_destroy(host);
	return ret;
}

const struct bench bench_zap = {
	.name = "zap",
	.summary = "KVM's cost of an MMU-notifier zap per 4K leaf, and of an "
		   "invalidation no memslot covers",
	.default_bytes = 1ull << 30,
	.max_threads = 1,
	.run = zap_run,
};
