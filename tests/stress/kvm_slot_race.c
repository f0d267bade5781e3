// SPDX-License-Identifier: MIT
/*
 * Memslot DELETE and MOVE of a slot that a vCPU is hammering (the issue's
 * acceptance point 1; kvm-mmu-protocol.md §2.3, invariant 15).
 *
 * Two host buffers A and B hold distinct patterns (each word a function of
 * its offset).  A host thread keeps re-configuring one slot: delete it,
 * re-add it over A or B, move it between two GPA windows.  A vCPU reads
 * random words of both windows.  Each read must return A's or B's word for
 * that offset, or exit as MMIO — never anything else.  And when no update
 * ran during a whole batch of reads, each read must match the one
 * configuration in force exactly: a leaf that survived a delete or a move
 * would show up here as the old buffer's data, or as data at a window the
 * slot no longer covers.
 */
#include <pthread.h>
#include <unistd.h>

#include <kvmmu/atomic.h>

#include "../unit/kvm_common.h"

#define SLOT_PAGES 16
#define SLOT_LEN   (SLOT_PAGES * PAGE_SIZE)
#define WIN0	   0x100000ull
#define WIN1	   0x800000ull
#define NR_READS   64
#define MMIO_MARK  0x4d4d494f4d4d494full /* "MMIOMMIO" */

enum cfg_buf {
	CFG_NONE,
	CFG_A,
	CFG_B,
};

struct race {
	struct kt_env t;
	hva_t a, b;
	/* current configuration, published by the host thread */
	unsigned long epoch; /* odd while an update runs */
	int buf;	     /* enum cfg_buf */
	gpa_t win;
	bool stop;
	uint64_t seed; /* test_seed(), read once before the threads start */
	unsigned long updates, batches, exact_batches, mmio;
	const char *error;
	gpa_t bad_gpa;
	uint64_t bad_val;
};

static uint64_t word_of(int buf, uint64_t off)
{
	return kvmmu_pattern_word(buf == CFG_A ? 0xA : 0xB, off);
}

static void fill_buf(struct kt_env *t, hva_t base, int buf)
{
	uint64_t off;

	for (off = 0; off < SLOT_LEN; off += 8)
		kt_host_write(t->h.mm, base + off, word_of(buf, off));
}

static int set_slot(struct race *r, int buf, gpa_t win)
{
	hva_t hva = buf == CFG_A ? r->a : r->b;

	return kt_slot_ret(&r->t, 0, 0, win, buf == CFG_NONE ? 0 : SLOT_LEN,
			   buf == CFG_NONE ? 0 : hva);
}

static void *host_thread(void *arg)
{
	struct race *r = arg;
	struct kvmmu_rng rng;
	int ret = 0;

	kvmmu_rng_seed(&rng, r->seed);
	while (!READ_ONCE(r->stop)) {
		int buf = r->buf, op = kvmmu_rng_below(&rng, 3);
		gpa_t win = r->win;

		__atomic_add_fetch(&r->epoch, 1, __ATOMIC_SEQ_CST);
		if (op == 0 && buf != CFG_NONE) {
			/* MOVE to the other window */
			win = win == WIN0 ? WIN1 : WIN0;
			ret = kt_slot_ret(&r->t, 0, 0, win, SLOT_LEN,
					  buf == CFG_A ? r->a : r->b);
		} else if (buf != CFG_NONE) {
			/* DELETE */
			ret = set_slot(r, CFG_NONE, win);
			buf = CFG_NONE;
		} else {
			/* CREATE over A or B, in either window */
			buf = kvmmu_rng_chance(&rng, 50) ? CFG_A : CFG_B;
			win = kvmmu_rng_chance(&rng, 50) ? WIN0 : WIN1;
			ret = set_slot(r, buf, win);
		}
		WRITE_ONCE(r->buf, buf);
		WRITE_ONCE(r->win, win);
		__atomic_add_fetch(&r->epoch, 1, __ATOMIC_SEQ_CST);
		if (ret) {
			r->error = "set_user_memory_region failed";
			break;
		}
		r->updates++;
		/* let a few batches run against a stable configuration */
		if (kvmmu_rng_chance(&rng, 50))
			usleep(200);
	}
	return NULL;
}

/* Is @v possible for a read at @gpa under configuration (buf, win)? */
static bool exact_ok(int buf, gpa_t win, gpa_t gpa, uint64_t v)
{
	if (buf == CFG_NONE || gpa < win || gpa >= win + SLOT_LEN)
		return v == MMIO_MARK;
	return v == word_of(buf, gpa - win);
}

static void vcpu_loop(struct race *r, double secs)
{
	struct kvmmu_vcpu *vcpu = r->t.vcpu[0];
	struct kvmmu_run *run = kvmmu_vcpu_run_state(vcpu);
	struct kvmmu_guest_insn prog[NR_READS];
	uint64_t res[NR_READS];
	double deadline = test_now() + secs;
	struct kvmmu_rng rng;
	int i;

	kvmmu_rng_seed(&rng, r->seed ^ 0x5eed);
	while (test_now() < deadline && !r->error) {
		unsigned long e0, e1;
		struct kvmmu_guest_prog p = { prog, NR_READS, res, NR_READS };
		int buf;
		gpa_t win;

		for (i = 0; i < NR_READS; i++) {
			gpa_t w = kvmmu_rng_chance(&rng, 50) ? WIN0 : WIN1;

			prog[i] = (struct kvmmu_guest_insn){
				.op = KVMMU_GOP_READ,
				.size = 8,
				.reg = i,
				.gpa = w +
				       kvmmu_rng_below(&rng, SLOT_LEN / 8) * 8,
			};
			res[i] = 0;
		}
		e0 = __atomic_load_n(&r->epoch, __ATOMIC_SEQ_CST);
		buf = READ_ONCE(r->buf);
		win = READ_ONCE(r->win);
		ASSERT_OK(kvmmu_vcpu_set_prog(vcpu, &p));
		for (;;) {
			ASSERT_OK(kvmmu_vcpu_run(vcpu));
			if (run->exit_reason == KVMMU_EXIT_HLT)
				break;
			ASSERT_EQ(run->exit_reason, KVMMU_EXIT_MMIO);
			ASSERT_FALSE(run->mmio.is_write);
			memcpy(run->mmio.data, &(uint64_t){ MMIO_MARK }, 8);
			r->mmio++;
		}
		e1 = __atomic_load_n(&r->epoch, __ATOMIC_SEQ_CST);
		r->batches++;
		for (i = 0; i < NR_READS; i++) {
			gpa_t gpa = prog[i].gpa;
			uint64_t off = gpa - (gpa >= WIN1 ? WIN1 : WIN0);
			uint64_t v = res[i];

			if (v != MMIO_MARK && v != word_of(CFG_A, off) &&
			    v != word_of(CFG_B, off)) {
				r->error = "foreign data";
				r->bad_gpa = gpa;
				r->bad_val = v;
			} else if (e0 == e1 && !(e0 & 1) &&
				   !exact_ok(buf, win, gpa, v)) {
				r->error = "stale data for a stable memslot";
				r->bad_gpa = gpa;
				r->bad_val = v;
			}
		}
		if (e0 == e1 && !(e0 & 1))
			r->exact_batches++;
	}
}

static void race_run(enum kvmmu_arch arch)
{
	struct race r;
	pthread_t th;

	memset(&r, 0, sizeof(r));
	r.seed = test_seed();
	kt_setup(&r.t, arch, 0, 1, false);
	r.a = hc_anon(r.t.h.mm, 0, SLOT_LEN);
	r.b = hc_anon(r.t.h.mm, 0, SLOT_LEN);
	fill_buf(&r.t, r.a, CFG_A);
	fill_buf(&r.t, r.b, CFG_B);
	r.buf = CFG_A;
	r.win = WIN0;
	ASSERT_OK(set_slot(&r, CFG_A, WIN0));

	ASSERT_OK(pthread_create(&th, NULL, host_thread, &r));
	vcpu_loop(&r, test_duration(2));
	WRITE_ONCE(r.stop, true);
	pthread_join(th, NULL);

	TEST_LOG("%s: %lu updates, %lu batches (%lu exact), %lu mmio exits",
		 kvmmu_arch_name(arch), r.updates, r.batches, r.exact_batches,
		 r.mmio);
	if (r.error)
		TEST_LOG("%s at gpa %#llx: %#llx", r.error,
			 (unsigned long long)r.bad_gpa,
			 (unsigned long long)r.bad_val);
	ASSERT_PTR_EQ(r.error, NULL);
	ASSERT_GT(r.updates, 10);
	ASSERT_GT(r.exact_batches, 0);
	ASSERT_GT(r.mmio, 0);
	kt_teardown(&r.t);
}

TEST_TIMEOUT(delete_move_while_in_use_x86, 60)
{
	race_run(KVMMU_ARCH_X86);
}

TEST_TIMEOUT(delete_move_while_in_use_arm64, 60)
{
	race_run(KVMMU_ARCH_ARM64);
}

TEST_TIMEOUT(delete_move_while_in_use_mips, 60)
{
	race_run(KVMMU_ARCH_MIPS);
}

TEST_HARNESS_MAIN
