// SPDX-License-Identifier: MIT
/*
 * The checker catches a broken protocol: with the fault path's retry check
 * removed (no_retry), or remote TLB flushes turned into no-ops
 * (no_tlb_flush), the stress engine must produce a stale-mapping or
 * use-after-free finding within 10 seconds on every arch; the same
 * workload without a bug produces none.
 */
#include <kvmmu/stress.h>
#include "harness.h"

/*
 * Under ThreadSanitizer.  An injected bug is a data race by nature: a vCPU
 * reads or writes a frame (or walks a stage-2 table page) that the host
 * has already freed and handed out again, with no ordering between the
 * two, which is exactly what TSan reports, usually at the host's side (the
 * poisoning memset of the free, the zeroing of a reused table).  The
 * checker's finding is what these tests are about, so this program alone
 * suppresses the races whose stacks contain the guest's own accesses —
 * the data moves of the instruction interpreter and the hardware walk —
 * and nothing else.  tests/stress/kvm_stress.c runs the same engine with
 * no bug and no suppression.
 */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INJECT_UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define INJECT_UNDER_TSAN 1
#endif

#ifdef INJECT_UNDER_TSAN
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	return "race:exec_range\n"
	       "race:access_small\n"
	       "race:translate\n"
	       "race:kvmmu_s2_walk\n";
}
#endif

#define INJECT_SECONDS 10.0

static void run(enum kvmmu_arch arch, unsigned int inject)
{
	struct kvmmu_stress_config cfg = {
		.arch = arch,
		.nr_vcpus = 2,
		.bytes_per_vcpu = 4ull << 20,
		.seconds = INJECT_SECONDS,
		.seed = test_seed() ^ (arch << 8) ^ inject,
		.inject = inject,
		.stop_on_finding = true,
		.stop_kinds = (1u << KVMMU_FK_UAF) |
			      (1u << KVMMU_FK_STALE_MAPPING),
	};
	struct kvmmu_stress_result r;
	unsigned int i, other = 0;
	char line[400];

	ASSERT_OK(kvmmu_stress_run(&cfg, &r));
	for (i = 0; i < KVMMU_FK_NR; i++)
		if (i != KVMMU_FK_UAF && i != KVMMU_FK_STALE_MAPPING)
			other += r.by_kind[i];
	TEST_LOG("arch %s: %lu findings (uaf %u, stale-mapping %u, other "
		 "kinds %u), first after %.3fs, run %.3fs",
		 kvmmu_arch_name(arch), r.findings, r.by_kind[KVMMU_FK_UAF],
		 r.by_kind[KVMMU_FK_STALE_MAPPING], other, r.first_finding_at,
		 r.elapsed);
	for (i = 0; i < r.nr_kept && i < 4; i++)
		TEST_LOG("%s",
			 kvmmu_check_format(&r.kept[i], line, sizeof(line)));
	EXPECT_GE(r.by_kind[KVMMU_FK_UAF] + r.by_kind[KVMMU_FK_STALE_MAPPING],
		  1);
	EXPECT_GE(r.first_finding_at, 0);
	EXPECT_LE(r.first_finding_at, INJECT_SECONDS);
}

static void run_all_arches(unsigned int inject)
{
	run(KVMMU_ARCH_X86, inject);
	run(KVMMU_ARCH_ARM64, inject);
	run(KVMMU_ARCH_MIPS, inject);
}

TEST_TIMEOUT(no_retry_is_caught, 90)
{
	run_all_arches(KVMMU_INJECT_NO_RETRY);
}

TEST_TIMEOUT(no_tlb_flush_is_caught, 90)
{
	run_all_arches(KVMMU_INJECT_NO_TLB_FLUSH);
}

TEST_TIMEOUT(control_without_bug_is_clean, 60)
{
	struct kvmmu_stress_config cfg = {
		.arch = KVMMU_ARCH_X86,
		.nr_vcpus = 2,
		.bytes_per_vcpu = 4ull << 20,
		.seconds = test_duration(3),
		.seed = test_seed(),
		.stop_on_finding = true,
	};
	struct kvmmu_stress_result r;

	ASSERT_OK(kvmmu_stress_run(&cfg, &r));
	TEST_LOG("control: %lu findings, %llu rounds verified", r.findings,
		 (unsigned long long)r.verified);
	EXPECT_TRUE(kvmmu_stress_passed(&r));
	EXPECT_GT(r.verified, 100);
}

TEST_HARNESS_MAIN
