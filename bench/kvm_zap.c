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
 * The real-KVM column is n/a until the real backend exists.
 *
 * Checked: pages_4k drops from one per page to 0, notifier_zap_pages grows
 * by one per page, the 1 TiB invalidation zaps nothing and leaves the
 * invalidation sequence untouched, the host audits clean.
 *
 * Models: the zap half of tools/testing/selftests/kvm/mmu_stress_test.c
 * and access_tracking_perf_test.c's invalidation costs.
 */
#include <errno.h>
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
	struct zap_result zr;
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
		if (zap_timed(b, mm, &before, &after, base, o->bytes, &zr))
			goto out_vm;
		kvm[it] = zr.kvm_ns / pages;
		mad[it] = zr.madvise_ns / pages;
		if (kvmmu_vm_stat(vm, "pages_4k") != 0 ||
		    kvmmu_vm_stat(vm, "notifier_zap_pages") - z0 != pages) {
			bench_fail(b, "the DONTNEED did not zap every leaf");
			goto out_vm;
		}
		seq0 = READ_ONCE(vm->mmu_invalidate_seq);
		for (k = 0; k < ZAP_TIB_REPS; k++) {
			if (zap_timed(b, mm, &before, &after, far, ZAP_TIB,
				      &zr))
				goto out_vm;
			reps[k] = zr.kvm_ns;
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
	if (o->json) {
		struct bench_json j;

		bench_json_begin(&j, stdout);
		bench_json_str(&j, "bench", "zap");
		bench_json_u64(&j, "bytes", o->bytes);
		bench_json_double(&j, "kvm_zap_ns_per_4k", m_kvm);
		bench_json_double(&j, "madvise_ns_per_4k", m_mad);
		bench_json_double(&j, "kvm_unmapped_1tib_ns", m_tib);
		bench_json_str(&j, "real", "n/a");
		bench_json_end(&j);
	} else {
		printf("%-40s %12s %10s\n", "", "model", "real KVM");
		printf("%-40s %9.2f ns %10s  (target <= 5 ns)\n",
		       "KVM zap per 4K leaf (DONTNEED)", m_kvm, "n/a");
		printf("%-40s %9.2f ns %10s\n", "whole madvise per 4K page",
		       m_mad, "n/a");
		printf("%-40s %9.0f ns %10s  (target <= 1000 ns)\n",
		       "KVM invalidation of 1 TiB, no memslot", m_tib, "n/a");
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
