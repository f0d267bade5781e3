// SPDX-License-Identifier: MIT
/*
 * The scenario runner over the model backend: every shipped scenario
 * passes; a wrong expectation fails at its step with what was expected and
 * what was observed; a step the backend cannot express is a SKIP with the
 * reason; background programs are stopped when a scenario fails.
 */
#include <dirent.h>

#include "scenario_common.h"

/* Tests run from the source tree (make test); KVMMU_SRCDIR overrides. */
static const char *srcdir(void)
{
	const char *d = getenv("KVMMU_SRCDIR");

	return d && *d ? d : ".";
}

static struct kvmmu_sc_result run_text(const char *text,
				       const struct kvmmu_backend_ops *be)
{
	struct kvmmu_sc_options o = { .backend = be, .implicit_check = true };

	return sc_run_text("t.kvs", text, &o);
}

#define PROLOGUE                                \
	"vm vcpus=2\n"                          \
	"host mmap ram size=64K anon private\n" \
	"slot 0 gpa=0 size=64K hva=ram\n"

TEST(shipped_scenarios_pass)
{
	char dir[4096], path[4608];
	unsigned int n = 0;
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/scenarios", srcdir());
	dp = opendir(dir);
	if (!dp) {
		fprintf(stderr, "%s: %s (set KVMMU_SRCDIR)\n", dir,
			strerror(errno));
		ASSERT_TRUE(!"the shipped scenarios must be found");
	}
	while ((d = readdir(dp))) {
		struct kvmmu_scenario *sc = NULL;
		struct kvmmu_sc_result res;
		size_t len = strlen(d->d_name);
		char err[512];

		if (len < 5 || strcmp(d->d_name + len - 4, ".kvs"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (kvmmu_scenario_load(path, &sc, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			ASSERT_TRUE(!"a shipped scenario must parse");
		}
		ASSERT_OK(kvmmu_scenario_run(sc, NULL, &res));
		if (res.status != KVMMU_SC_PASS)
			fprintf(stderr, "%s: %s\n", path, res.msg);
		EXPECT_EQ(res.status, KVMMU_SC_PASS);
		EXPECT_GT(res.steps, 3);
		kvmmu_scenario_free(sc);
		n++;
	}
	closedir(dp);
	ASSERT_GE(n, 15); /* issue 4: at least 15 shipped scenarios */
}

TEST(wrong_value_fails_at_its_step)
{
	struct kvmmu_sc_result r =
		run_text(PROLOGUE "vcpu 0 write gpa=0x10 u64=1\n"
				  "vcpu 0 read gpa=0x10 expect u64=2\n"
				  "vcpu 0 read gpa=0x10 expect u64=1\n",
			 NULL);

	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_EQ(r.line, 5);
	ASSERT_CONTAINS(r.msg, "t.kvs:5: `vcpu 0 read gpa=0x10 expect u64=2`");
	ASSERT_CONTAINS(r.msg, "expected u64=0x2, observed u64=0x1");
	ASSERT_EQ(r.steps,
		  4); /* the vm line is not a step; the last never ran */
}

TEST(wrong_errno_and_unexpected_success)
{
	struct kvmmu_sc_result r;

	r = run_text(PROLOGUE "slot 1 gpa=0x1000 size=4K hva=ram expect "
			      "errno=EINVAL\n",
		     NULL);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_CONTAINS(r.msg, "expected errno=EINVAL, observed errno=EEXIST");
	r = run_text(PROLOGUE "slot 1 gpa=0x100000 size=4K hva=ram expect "
			      "errno=EEXIST\n",
		     NULL);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_CONTAINS(r.msg, "expected errno=EEXIST, observed success");
	r = run_text(PROLOGUE "host munmap ram+0x10 size=4K\n", NULL);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_CONTAINS(r.msg, "expected success, observed errno=EINVAL");
}

TEST(wrong_exit_is_described)
{
	struct kvmmu_sc_result r;

	/* an MMIO exit where data was expected */
	r = run_text(PROLOGUE "vcpu 1 read gpa=0x200000 expect u32=7\n", NULL);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_CONTAINS(r.msg,
			"expected u32=0x7, observed mmio read addr=0x200000 "
			"len=4");
	/* EFAULT expected, the access completed */
	r = run_text(PROLOGUE "vcpu 0 write gpa=0 u8=1 expect efault\n", NULL);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_CONTAINS(r.msg, "expected efault, observed ok");
	/* MMIO write data */
	r = run_text(PROLOGUE "vcpu 0 write gpa=0x300000 u16=0x1234 expect "
			      "mmio addr=0x300000 len=2 data=0x4321\n",
		     NULL);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_CONTAINS(r.msg, "observed mmio write addr=0x300000 len=2 "
			       "data=0x1234");
	/* and the matching expectations pass */
	r = run_text(PROLOGUE "vcpu 0 write gpa=0x300000 u16=0x1234 expect "
			      "mmio addr=0x300000 len=2 data=0x1234\n"
			      "vcpu 0 read gpa=0x300000 u16 expect mmio "
			      "len=2 reply=0xabcd\n",
		     NULL);
	ASSERT_EQ(r.status, KVMMU_SC_PASS);
}

TEST(wrong_stat_and_pattern)
{
	struct kvmmu_sc_result r;

	r = run_text(PROLOGUE "stat mark\nvcpu 0 read gpa=0 u64\n"
			      "stat pf_fixed changed>=2\n",
		     NULL);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_CONTAINS(r.msg, "expected pf_fixed changed >= 2, observed 1");
	r = run_text(PROLOGUE "stat no_such_counter value=0\n", NULL);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_CONTAINS(r.msg, "has no statistic 'no_such_counter'");
	r = run_text(PROLOGUE "vcpu 0 fill gpa=0 size=8K seed=1\n"
			      "host write ram+0x1008 u8=0xff\n"
			      "host verify ram size=8K seed=1\n",
		     NULL);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_CONTAINS(r.msg, "at hva");
	ASSERT_EQ(r.line, 6);
}

/* The model without device memory: pfnmap steps cannot be expressed. */
static struct kvmmu_backend_ops nopfn;

TEST(unsupported_step_is_a_skip_with_its_reason)
{
	struct kvmmu_sc_result r;

	nopfn = *kvmmu_backend_find("model");
	nopfn.name = "nopfn";
	nopfn.mmap_pfn = NULL;
	r = run_text(PROLOGUE "host mmap bar size=64K pfnmap\n"
			      "vcpu 0 read gpa=0 u64\n",
		     &nopfn);
	ASSERT_EQ(r.status, KVMMU_SC_SKIP);
	ASSERT_EQ(r.line, 4);
	ASSERT_CONTAINS(r.msg, "nopfn backend cannot map device memory");
}

TEST(failure_stops_background_programs)
{
	struct kvmmu_sc_result r;

	/* The spawn would run for minutes: the failure must kick it. */
	r = run_text(PROLOGUE "spawn w vcpu=1 loop=4000000000 {\n"
			      "  read gpa=0 u64\n}\n"
			      "vcpu 0 read gpa=0 expect u64=5\n"
			      "join w\n",
		     NULL);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_EQ(r.line, 7);
	ASSERT_LT(r.seconds, 30.0);
}

TEST(join_reports_the_exit)
{
	struct kvmmu_sc_result r;

	r = run_text(PROLOGUE "spawn w vcpu=1 loop=3 {\n"
			      "  write gpa=0x8 u64=3\n"
			      "  read gpa=0x900000 u64\n}\n"
			      "join w\n",
		     NULL);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_CONTAINS(r.msg, "expected ok (the access completes), observed "
			       "mmio read addr=0x900000 len=8");
	r = run_text(PROLOGUE "spawn w vcpu=1 loop=3 {\n"
			      "  fill gpa=0 size=64K seed=2\n"
			      "  verify gpa=0 size=64K seed=2\n}\n"
			      "join w\nhost verify ram size=64K seed=2\n",
		     NULL);
	ASSERT_EQ(r.status, KVMMU_SC_PASS);
}

TEST_HARNESS_MAIN
