// SPDX-License-Identifier: MIT
/*
 * The stress engine (include/kvmmu/stress.h) on every arch policy: vCPUs
 * filling and verifying guest memory while the host thread mprotects,
 * unmaps, DONTNEEDs, forks, mremaps, deletes and moves memslots under
 * them, with the online checker on and a full check every second.  Pass:
 * no finding, no WARN, a clean host audit, and every kind of work done.
 * KVMMU_STRESS_SECONDS shortens the runs (sanitizer builds).
 */
#include <kvmmu/stress.h>
#include "harness.h"

static void log_result(const struct kvmmu_stress_result *r)
{
	char line[400];
	unsigned int i;

	TEST_LOG("%.1fs, %llu checks: rounds=%llu verified=%llu excused=%llu "
		 "efault=%llu mmio=%llu",
		 r->elapsed, (unsigned long long)r->checks,
		 (unsigned long long)r->rounds, (unsigned long long)r->verified,
		 (unsigned long long)r->excused,
		 (unsigned long long)r->efault_exits,
		 (unsigned long long)r->mmio_exits);
	TEST_LOG("pf_taken=%llu pf_fixed=%llu mmu_invalidate_retry=%llu "
		 "remote_tlb_flush=%llu notifier_zap_pages=%llu",
		 (unsigned long long)r->pf_taken,
		 (unsigned long long)r->pf_fixed,
		 (unsigned long long)r->mmu_invalidate_retry,
		 (unsigned long long)r->remote_tlb_flush,
		 (unsigned long long)r->notifier_zap_pages);
	for (i = 0; i < KVMMU_STRESS_OP_NR; i++)
		TEST_LOG("host %s: %llu", kvmmu_stress_op_name(i),
			 (unsigned long long)r->host_ops[i]);
	TEST_LOG("findings %lu, warnings %lu, audit %s", r->findings,
		 r->warnings, r->audit_clean ? "clean" : "NOT clean");
	for (i = 0; i < r->nr_kept; i++)
		TEST_LOG("%s",
			 kvmmu_check_format(&r->kept[i], line, sizeof(line)));
}

static void run_arch(enum kvmmu_arch arch)
{
	struct kvmmu_stress_config cfg = {
		.arch = arch,
		.nr_vcpus = 2,
		.bytes_per_vcpu = 16ull << 20,
		.seconds = test_duration(3),
		.seed = test_seed() ^ arch,
	};
	struct kvmmu_stress_result r;
	unsigned int i;

	TEST_LOG("arch %s, seed %#llx, %.1fs", kvmmu_arch_name(arch),
		 (unsigned long long)cfg.seed, cfg.seconds);
	ASSERT_OK(kvmmu_stress_run(&cfg, &r));
	log_result(&r);
	EXPECT_EQ(r.findings, 0);
	EXPECT_EQ(r.warnings, 0);
	EXPECT_TRUE(r.audit_clean);
	EXPECT_TRUE(kvmmu_stress_passed(&r));
	EXPECT_EQ(r.host_op_errors, 0);
	/* The run did real work of every kind. */
	EXPECT_GT(r.verified, 100);
	EXPECT_GT(r.pf_fixed, 100);
	EXPECT_GT(r.notifier_zap_pages, 0);
	EXPECT_GT(r.remote_tlb_flush, 0);
	EXPECT_GE(r.checks, 2);
	for (i = 0; i < KVMMU_STRESS_OP_NR; i++)
		EXPECT_GT(r.host_ops[i], 0);
}

TEST_TIMEOUT(stress_x86, 120)
{
	run_arch(KVMMU_ARCH_X86);
}

TEST_TIMEOUT(stress_arm64, 120)
{
	run_arch(KVMMU_ARCH_ARM64);
}

TEST_TIMEOUT(stress_mips, 120)
{
	run_arch(KVMMU_ARCH_MIPS);
}

TEST_TIMEOUT(stress_four_vcpus_small, 120)
{
	struct kvmmu_stress_config cfg = {
		.arch = KVMMU_ARCH_X86,
		.nr_vcpus = 4,
		.bytes_per_vcpu = 256 << 10, /* one region of 64 pages each */
		.seconds = test_duration(3) / 2,
		.seed = test_seed() ^ 0x4444,
		.check_interval = 0.25,
	};
	struct kvmmu_stress_result r;

	ASSERT_OK(kvmmu_stress_run(&cfg, &r));
	log_result(&r);
	EXPECT_TRUE(kvmmu_stress_passed(&r));
	EXPECT_GT(r.verified, 100);
}

TEST(bad_config)
{
	struct kvmmu_stress_config cfg = { .bytes_per_vcpu = 4095 };
	struct kvmmu_stress_result r;

	ASSERT_ERRNO(kvmmu_stress_run(&cfg, &r), -EINVAL);
	cfg.bytes_per_vcpu = 0;
	cfg.nr_vcpus = 65;
	ASSERT_ERRNO(kvmmu_stress_run(&cfg, &r), -EINVAL);
	cfg.nr_vcpus = 1;
	cfg.inject = 1u << 7;
	ASSERT_ERRNO(kvmmu_stress_run(&cfg, &r), -EINVAL);
	ASSERT_ERRNO(kvmmu_stress_run(NULL, &r), -EINVAL);
}

TEST_HARNESS_MAIN
