// SPDX-License-Identifier: MIT
/*
 * Differential runs (kvmmu_sc_options.compare): the same scenario on two
 * backends, every observation compared.  The second backend here is the
 * model itself, or a "liar": the model with one observable behaviour
 * changed, standing in for a kernel that disagrees.
 */
#include "scenario_common.h"

static struct kvmmu_backend_ops liar, skipper;

/* Host reads of the liar see one more than was written. */
static int liar_mem_read(struct kvmmu_backend *be, int proc, uint64_t addr,
			 void *buf, uint64_t len)
{
	int r = kvmmu_backend_find("model")->mem_read(be, proc, addr, buf, len);

	if (!r && len)
		((uint8_t *)buf)[0]++;
	return r;
}

/* Guest reads of the liar return the value with bit 63 flipped. */
static int liar_vcpu_run(struct kvmmu_backend *be, unsigned int vcpu,
			 struct kvmmu_be_exit *e)
{
	int r = kvmmu_backend_find("model")->vcpu_run(be, vcpu, e);

	if (!r && e->reason == KVMMU_BE_EXIT_DONE)
		e->value ^= 1ull << 63;
	return r;
}

static void setup(void)
{
	liar = *kvmmu_backend_find("model");
	liar.name = "liar";
	liar.reference = false; /* it stands in for a kernel */
	liar.mem_read = liar_mem_read;
	skipper = *kvmmu_backend_find("model");
	skipper.name = "skipper";
	skipper.mmap_pfn = NULL;
}

static struct kvmmu_sc_result diff(const char *text,
				   const struct kvmmu_backend_ops *other)
{
	struct kvmmu_sc_options o = { .implicit_check = true,
				      .compare = other };

	return sc_run_text("d.kvs", text, &o);
}

#define PROLOGUE                                \
	"vm vcpus=1\n"                          \
	"host mmap ram size=64K anon private\n" \
	"slot 0 gpa=0 size=64K hva=ram\n"

TEST(same_backend_agrees_on_every_observation)
{
	struct kvmmu_sc_result r;

	setup();
	r = diff(PROLOGUE "vcpu 0 write gpa=0x1000 u64=7\n"
			  "host read ram+0x1000 expect u64=7\n"
			  "slot 0 gpa=0 size=4K hva=ram expect errno=EINVAL\n"
			  "vcpu 0 read gpa=0x900000 expect mmio reply=3\n",
		 kvmmu_backend_find("model"));
	ASSERT_EQ(r.status, KVMMU_SC_PASS);
	/* mmap, slot, write, read (ok + value), slot errno, mmio + then */
	ASSERT_EQ(r.compared, 8);
}

TEST(a_different_value_fails_showing_both)
{
	struct kvmmu_sc_result r;

	/* The expectation is right for the model, wrong for the liar. */
	setup();
	r = diff(PROLOGUE "vcpu 0 write gpa=0x1000 u64=7\n"
			  "host read ram+0x1000 expect u64=7\n",
		 &liar);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_EQ(r.line, 5);
	ASSERT_CONTAINS(r.msg, "d.kvs:5: `host read ram+0x1000 expect u64=7`: "
			       "the backends differ");
	ASSERT_CONTAINS(r.msg, "model  observed u64=0x7");
	ASSERT_CONTAINS(r.msg, "liar   observed u64=0x8");
}

TEST(a_different_exit_value_fails)
{
	struct kvmmu_sc_result r;

	setup();
	liar.vcpu_run = liar_vcpu_run;
	r = diff(PROLOGUE "vcpu 0 write gpa=0x1000 u64=7\n"
			  "vcpu 0 read gpa=0x1000 u64\n",
		 &liar);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_EQ(r.line, 5);
	ASSERT_CONTAINS(r.msg, "model  observed u64=0x7");
	ASSERT_CONTAINS(r.msg, "liar   observed u64=0x8000000000000007");
}

TEST(a_wrong_expectation_on_both_names_the_failure)
{
	struct kvmmu_sc_result r;

	setup();
	r = diff(PROLOGUE "vcpu 0 write gpa=0x1000 u64=7\n"
			  "vcpu 0 read gpa=0x1000 expect u64=8\n",
		 kvmmu_backend_find("model"));
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_EQ(r.line, 5);
	ASSERT_CONTAINS(r.msg, "model: d.kvs:5:");
	ASSERT_CONTAINS(r.msg, "expected u64=0x8, observed u64=0x7");
	ASSERT_CONTAINS(r.msg, "model (failed) observed u64=0x7 there");
}

TEST(a_skip_on_one_side_is_a_skip_after_comparing)
{
	struct kvmmu_sc_result r;

	setup();
	r = diff(PROLOGUE "host read ram expect u64=0\n"
			  "host mmap bar size=64K pfnmap\n",
		 &skipper);
	ASSERT_EQ(r.status, KVMMU_SC_SKIP);
	ASSERT_EQ(r.line, 5);
	ASSERT_CONTAINS(r.msg, "skipper: ");
	ASSERT_CONTAINS(r.msg, "cannot map device memory");
	/* ...but a difference before the skip still fails. */
	liar.mmap_pfn = NULL;
	r = diff(PROLOGUE "host read ram expect u64=0\n"
			  "host mmap bar size=64K pfnmap\n",
		 &liar);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_EQ(r.line, 4);
	ASSERT_CONTAINS(r.msg, "the backends differ");
}

TEST(a_declared_deviation_is_not_compared)
{
	struct kvmmu_sc_options o = { .implicit_check = true };
	struct kvmmu_sc_result r;
	const char *t = PROLOGUE "vcpu 0 write gpa=0x1000 u64=7\n"
				 "deviation the liar adds one to host reads\n"
				 "host read ram+0x1000 expect u64=7\n"
				 "host read ram+0x2000 expect u64=1\n";

	setup();
	/* Differential: the deviation is forgiven, the next read is not. */
	r = diff(t, &liar);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_EQ(r.line, 7);
	ASSERT_CONTAINS(r.msg, "model  observed u64=0\n");
	/* The liar alone: its wrong value at the deviation is forgiven. */
	o.backend = &liar;
	r = sc_run_text("d.kvs", t, &o);
	ASSERT_EQ(r.status, KVMMU_SC_PASS);
	/* The model judges a deviation's expectation (the model's). */
	o.backend = NULL;
	r = sc_run_text("d.kvs",
			PROLOGUE "deviation the model is wrong here\n"
				 "host read ram expect u64=5\n",
			&o);
	ASSERT_EQ(r.status, KVMMU_SC_FAIL);
	ASSERT_EQ(r.line, 5);
}

TEST_HARNESS_MAIN
