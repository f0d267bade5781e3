// SPDX-License-Identifier: MIT
/*
 * Tracing: run small workloads with a trace attached, close it, read the
 * file back through a strict JSON parser of our own (no python3 in CI) and
 * check what it holds:
 *
 *   - the document shape, pid 1, a named thread for every tid, and
 *     timestamps that never go back;
 *   - each event with the arguments of the access or host change that
 *     caused it: a write and a read fault (address, error code, result), the
 *     leaf installed, a memslot created, a munmap (notifier span, unmap
 *     range, zap, flush), an -EFAULT and an MMIO fault;
 *   - a fault that retries because an invalidation is in flight;
 *   - two vCPU threads faulting at once: every fault once, on its thread,
 *     and with a per-thread limit exactly the drops the file reports;
 *   - errors: close while attached, bad paths, a full disk; odd names.
 */
#include <pthread.h>
#include <sched.h>
#include <kvmmu/trace.h>
#include "trace_file.h"

#define RAM_LEN (64 * PAGE_SIZE)

/* --- tests ---------------------------------------------------------------- */

TEST(trace_events_of_one_thread)
{
	const struct jv *e, *b, *u, *z, *end;
	struct kvmmu_trace *tr;
	struct kt_env t;
	struct tf f;
	uint64_t v, spte;
	int tid;

	kt_setup(&t, KVMMU_ARCH_X86, 0, 1, false);
	t.ram = hc_anon(t.h.mm, 0, RAM_LEN);
	tr = tf_open(&f);
	kvmmu_trace_thread_name("vmm");
	kvmmu_vm_set_trace(t.vm, tr);

	kt_slot(&t, 0, 0, 0, RAM_LEN, t.ram);
	kt_write(&t, 0, PG(3) + 8, 0x1234);
	kt_read(&t, 0, PG(5));
	ASSERT_OK(kvmmu_munmap(t.h.mm, t.ram + PG(3), 2 * PAGE_SIZE));
	ASSERT_ERRNO(kvmmu_vcpu_read(t.vcpu[0], PG(3), 8, &v), -EFAULT);
	ASSERT_OK(kvmmu_vcpu_read(t.vcpu[0], RAM_LEN + PG(1), 8, &v));
	ASSERT_EQ(kvmmu_vcpu_run_state(t.vcpu[0])->exit_reason,
		  KVMMU_EXIT_MMIO);
	ASSERT_EQ(kvmmu_trace_dropped(tr), 0);
	kt_teardown(&t); /* destroying the VM detaches the trace */
	ASSERT_OK(kvmmu_trace_close(tr));

	tf_load(&f);
	ASSERT_EQ(tf_dropped(&f), 0);
	tid = tf_tid(&f, "vmm");
	ASSERT_GE(tid, 1);

	ASSERT_EQ(tf_count(&f, "kvm_set_user_memory_region"), 1);
	e = tf_find(&f, "kvm_set_user_memory_region", 0);
	ASSERT_EQ(j_num(e, "tid"), tid);
	ASSERT_TRUE(!strcmp(j_str(e, "ph"), "i"));
	ASSERT_EQ(arg_num(e, "slot"), 0);
	ASSERT_EQ(arg_num(e, "flags"), 0);
	ASSERT_EQ(arg_hex(e, "guest_phys_addr"), 0);
	ASSERT_EQ(arg_hex(e, "memory_size"), RAM_LEN);
	ASSERT_EQ(arg_hex(e, "userspace_addr"), t.ram);

	/* The write fault: a span on this thread, error code W. */
	e = tf_fault(&f, PG(3) + 8, "fixed");
	ASSERT_TRUE(e != NULL);
	ASSERT_TRUE(!strcmp(j_str(e, "ph"), "X"));
	ASSERT_EQ(j_num(e, "tid"), tid);
	ASSERT_EQ(arg_num(e, "vcpu_id"), 0);
	ASSERT_EQ(arg_num(e, "error_code"), 2);
	e = tf_fault(&f, PG(5), "fixed");
	ASSERT_TRUE(e != NULL);
	ASSERT_EQ(arg_num(e, "error_code"), 0);
	ASSERT_TRUE(tf_fault(&f, PG(3), "efault") != NULL);
	ASSERT_TRUE(tf_fault(&f, RAM_LEN + PG(1), "mmio") != NULL);
	ASSERT_EQ(tf_count(&f, "kvm_page_fault"), 4);

	/* The leaf of the write: gfn 3, present, writable, level 1. */
	e = tf_find(&f, "kvm_mmu_set_spte", 0);
	ASSERT_TRUE(e != NULL);
	ASSERT_EQ(arg_hex(e, "gfn"), 3);
	ASSERT_EQ(arg_num(e, "level"), 1);
	spte = arg_hex(e, "spte");
	ASSERT_NE(spte, ~0ull);
	ASSERT_EQ(spte & 0x103, 0x103); /* LEAF | W | PRESENT */
	ASSERT_EQ(arg_hex(tf_find(&f, "kvm_mmu_set_spte", 1), "gfn"), 5);
	ASSERT_EQ(tf_count(&f, "kvm_mmu_set_spte"), 2);

	/* The munmap: B, then the unmap range, the zap, the flush, E. */
	b = tf_find(&f, "mmu_notifier_invalidate_range", 0);
	ASSERT_TRUE(b != NULL);
	ASSERT_TRUE(!strcmp(j_str(b, "ph"), "B"));
	ASSERT_TRUE(!strcmp(arg_str(b, "event"), "UNMAP"));
	ASSERT_EQ(arg_hex(b, "start"), t.ram + PG(3));
	ASSERT_EQ(arg_hex(b, "end"), t.ram + PG(5));
	end = tf_find(&f, "mmu_notifier_invalidate_range", 1);
	ASSERT_TRUE(end != NULL);
	ASSERT_TRUE(!strcmp(j_str(end, "ph"), "E"));
	ASSERT_EQ(j_num(end, "tid"), tid);
	ASSERT_EQ(tf_count(&f, "kvm_unmap_hva_range"), 1);
	u = tf_find(&f, "kvm_unmap_hva_range", 0);
	ASSERT_EQ(arg_hex(u, "start"), t.ram + PG(3));
	ASSERT_EQ(arg_hex(u, "end"), t.ram + PG(5));
	z = tf_find(&f, "kvm_mmu_zap", 0);
	ASSERT_TRUE(z != NULL);
	ASSERT_EQ(arg_hex(z, "start_gfn"), 3);
	ASSERT_EQ(arg_hex(z, "end_gfn"), 5);
	ASSERT_EQ(arg_num(z, "pages"), 1);
	e = tf_find(&f, "kvm_remote_tlb_flush", 0);
	ASSERT_TRUE(e != NULL);
	ASSERT_EQ(arg_num(e, "vcpus_waited"), 0); /* not in guest mode */
	ASSERT_LE(j_num(b, "ts"), j_num(u, "ts"));
	ASSERT_LE(j_num(u, "ts"), j_num(z, "ts"));
	ASSERT_LE(j_num(z, "ts"), j_num(e, "ts"));
	ASSERT_LE(j_num(e, "ts"), j_num(end, "ts"));
	/* Every B has its E (the VM's teardown adds none: it is release). */
	ASSERT_EQ(tf_count(&f, "mmu_notifier_invalidate_range"), 2);
	tf_free(&f);
}

/*
 * A subscriber registered after the VM runs after KVM's start(): while it
 * holds the munmap there, the range is being invalidated, and a vCPU
 * faulting on it must retry.  It lets the munmap go once it has seen one.
 */
struct hold_sub {
	struct kvmmu_mmu_notifier mn;
	struct kvmmu_vm *vm;
	int armed, go; /* atomic */
	bool saw_retry;
};

static int hold_start(struct kvmmu_mmu_notifier *mn,
		      const struct kvmmu_mmu_notifier_range *range)
{
	struct hold_sub *h = container_of(mn, struct hold_sub, mn);
	double until = test_now() + 10;

	if (!__atomic_load_n(&h->armed, __ATOMIC_ACQUIRE))
		return 0;
	__atomic_store_n(&h->go, 1, __ATOMIC_RELEASE);
	while (test_now() < until) {
		if (kvmmu_vm_stat(h->vm, "mmu_invalidate_retry")) {
			h->saw_retry = true;
			break;
		}
		sched_yield();
	}
	return 0;
}

static const struct kvmmu_mmu_notifier_ops hold_ops = {
	.invalidate_range_start = hold_start,
};

struct vcpu_arg {
	struct kt_env *t;
	struct hold_sub *h;
	int ret;
};

static void *retry_vcpu(void *p)
{
	struct vcpu_arg *a = p;
	uint64_t v;

	while (!__atomic_load_n(&a->h->go, __ATOMIC_ACQUIRE))
		sched_yield();
	a->ret = kvmmu_vcpu_read(a->t->vcpu[0], PG(3), 8, &v);
	return NULL;
}

TEST(trace_invalidate_retry)
{
	struct hold_sub h = { .mn.ops = &hold_ops };
	struct vcpu_arg a = { 0 };
	struct kvmmu_trace *tr;
	const struct jv *e;
	struct kt_env t;
	pthread_t th;
	struct tf f;
	int vtid;

	kt_setup(&t, KVMMU_ARCH_X86, RAM_LEN, 1, false);
	h.vm = t.vm;
	ASSERT_OK(kvmmu_mmu_notifier_register(&h.mn, t.h.mm));
	tr = tf_open(&f);
	kvmmu_trace_thread_name("vmm");
	kvmmu_vm_set_trace(t.vm, tr);

	a.t = &t;
	a.h = &h;
	ASSERT_OK(pthread_create(&th, NULL, retry_vcpu, &a));
	__atomic_store_n(&h.armed, 1, __ATOMIC_RELEASE);
	ASSERT_OK(kvmmu_munmap(t.h.mm, t.ram + PG(2), 2 * PAGE_SIZE));
	ASSERT_OK(pthread_join(th, NULL));
	ASSERT_TRUE(h.saw_retry);
	ASSERT_ERRNO(a.ret, -EFAULT); /* unmapped once the retry ends */
	kvmmu_mmu_notifier_unregister(&h.mn, t.h.mm);
	kvmmu_vm_set_trace(t.vm, NULL);
	ASSERT_OK(kvmmu_trace_close(tr));
	kt_teardown(&t);

	tf_load(&f);
	/* The vCPU thread was not named: its first fault named it. */
	vtid = tf_tid(&f, "vcpu-0");
	ASSERT_GE(vtid, 1);
	ASSERT_NE(vtid, tf_tid(&f, "vmm"));
	e = tf_find(&f, "kvm_mmu_invalidate_retry", 0);
	ASSERT_TRUE(e != NULL);
	ASSERT_EQ(j_num(e, "tid"), vtid);
	ASSERT_EQ(arg_hex(e, "gfn"), 3);
	ASSERT_EQ(arg_num(e, "locked"), 0); /* x86's lockless pre-check */
	ASSERT_GE(arg_num(e, "mmu_seq"), 0);
	e = tf_fault(&f, PG(3), "retry");
	ASSERT_TRUE(e != NULL);
	ASSERT_EQ(j_num(e, "tid"), vtid);
	ASSERT_TRUE(tf_fault(&f, PG(3), "efault") != NULL);
	/* The retries happened inside the munmap's invalidation. */
	ASSERT_LT(j_num(tf_find(&f, "mmu_notifier_invalidate_range", 0), "ts"),
		  j_num(e, "ts"));
	ASSERT_GT(j_num(tf_find(&f, "mmu_notifier_invalidate_range", 1), "ts"),
		  j_num(e, "ts"));
	tf_free(&f);
}

#define PAGES_PER_VCPU 300

struct fill_arg {
	struct kt_env *t;
	unsigned int v;
	int ret;
};

static void *fill_vcpu(void *p)
{
	struct fill_arg *a = p;
	char name[16];
	unsigned int i;

	snprintf(name, sizeof(name), "vcpu-%u", a->v);
	kvmmu_trace_thread_name(name);
	for (i = 0; i < PAGES_PER_VCPU && !a->ret; i++)
		a->ret = kvmmu_vcpu_write(a->t->vcpu[a->v],
					  PG(a->v * PAGES_PER_VCPU + i), 8, i);
	return NULL;
}

/*
 * Two vCPU threads fault in disjoint pages at once.  Each page faults
 * exactly once (nothing invalidates), so the file must hold one fault and
 * one leaf per page, on the thread of the vCPU that touched it, or, with
 * @max_events per thread, exactly @max_events per vCPU thread and the rest
 * counted as dropped.
 */
static void two_vcpus(unsigned long max_events)
{
	const uint64_t npages = 2 * PAGES_PER_VCPU;
	unsigned int faults[2 * PAGES_PER_VCPU] = { 0 };
	unsigned int leaves[2 * PAGES_PER_VCPU] = { 0 };
	unsigned int per_tid[64] = { 0 };
	struct fill_arg a[2];
	struct kvmmu_trace *tr;
	struct kt_env t;
	pthread_t th[2];
	int tid[2], v;
	uint64_t dropped, expect_dropped = 0;
	struct tf f;
	size_t i;

	kt_setup(&t, KVMMU_ARCH_X86, 0, 2, false);
	t.ram = hc_anon(t.h.mm, 0, PG(npages));
	kt_slot(&t, 0, 0, 0, PG(npages), t.ram);
	tr = tf_open(&f);
	kvmmu_trace_set_max_events(tr, max_events);
	kvmmu_vm_set_trace(t.vm, tr);
	for (v = 0; v < 2; v++) {
		a[v] = (struct fill_arg){ &t, (unsigned int)v, 0 };
		ASSERT_OK(pthread_create(&th[v], NULL, fill_vcpu, &a[v]));
	}
	for (v = 0; v < 2; v++) {
		ASSERT_OK(pthread_join(th[v], NULL));
		ASSERT_OK(a[v].ret);
	}
	ASSERT_EQ(kvmmu_vm_stat(t.vm, "pf_fixed"), npages);
	ASSERT_EQ(kvmmu_vm_stat(t.vm, "pf_taken"), npages);
	dropped = kvmmu_trace_dropped(tr);
	kvmmu_vm_set_trace(t.vm, NULL);
	ASSERT_OK(kvmmu_trace_close(tr));
	kt_teardown(&t);

	tf_load(&f);
	for (v = 0; v < 2; v++) {
		char name[16];

		snprintf(name, sizeof(name), "vcpu-%d", v);
		tid[v] = tf_tid(&f, name);
		ASSERT_GE(tid[v], 1);
	}
	ASSERT_NE(tid[0], tid[1]);
	for (i = 0; i < f.events->n; i++) {
		const struct jv *e = f.events->v[i];
		const char *name = j_str(e, "name");
		int et = (int)j_num(e, "tid");
		uint64_t gfn;

		if (!strcmp(j_str(e, "ph"), "M"))
			continue;
		per_tid[et]++;
		if (!strcmp(name, "kvm_page_fault")) {
			gfn = arg_hex(e, "fault_address") >> PAGE_SHIFT;
			ASSERT_LT(gfn, npages);
			faults[gfn]++;
			v = (int)(gfn / PAGES_PER_VCPU);
			ASSERT_EQ(arg_num(e, "vcpu_id"), v);
			ASSERT_EQ(et, tid[v]);
			ASSERT_TRUE(!strcmp(arg_str(e, "result"), "fixed"));
			ASSERT_EQ(arg_num(e, "error_code"), 2);
		} else if (!strcmp(name, "kvm_mmu_set_spte")) {
			gfn = arg_hex(e, "gfn");
			ASSERT_LT(gfn, npages);
			leaves[gfn]++;
			ASSERT_EQ(et, tid[gfn / PAGES_PER_VCPU]);
		}
	}
	for (i = 0; i < npages; i++) {
		ASSERT_LE(faults[i], 1); /* never twice */
		ASSERT_LE(leaves[i], 1);
		if (max_events == KVMMU_TRACE_DEFAULT_MAX_EVENTS) {
			ASSERT_EQ(faults[i], 1); /* never lost */
			ASSERT_EQ(leaves[i], 1);
		}
	}
	/* A fault and a leaf per page; what is not in the file was counted. */
	for (v = 0; v < 2; v++) {
		uint64_t want = 2 * PAGES_PER_VCPU;

		ASSERT_EQ(per_tid[tid[v]], min(want, (uint64_t)max_events));
		expect_dropped += want - per_tid[tid[v]];
	}
	ASSERT_EQ(tf_dropped(&f), expect_dropped);
	ASSERT_EQ(dropped, expect_dropped);
	tf_free(&f);
}

TEST(trace_two_vcpu_threads)
{
	two_vcpus(KVMMU_TRACE_DEFAULT_MAX_EVENTS);
}

TEST(trace_two_vcpu_threads_drops)
{
	two_vcpus(100);
}

TEST(trace_close_errors)
{
	struct kvmmu_trace *tr;
	struct kt_env t;
	struct tf f;

	ASSERT_ERRNO(kvmmu_trace_open(NULL, &tr), -EINVAL);
	ASSERT_ERRNO(kvmmu_trace_open("/nonexistent-kvmmu/x.json", &tr),
		     -ENOENT);
	ASSERT_OK(kvmmu_trace_close(NULL));

	/* Attached: refused, nothing freed; detached: an empty trace. */
	kt_setup(&t, KVMMU_ARCH_ARM64, RAM_LEN, 1, false);
	tr = tf_open(&f);
	kvmmu_vm_set_trace(t.vm, tr);
	ASSERT_ERRNO(kvmmu_trace_close(tr), -EBUSY);
	kvmmu_vm_set_trace(t.vm, NULL);
	ASSERT_OK(kvmmu_trace_close(tr));
	tf_load(&f);
	ASSERT_EQ(j_num(j_get(f.doc, "otherData"), "events"), 0);
	tf_free(&f);

	/* A full disk is the close's error. */
	if (access("/dev/full", W_OK) == 0) {
		ASSERT_OK(kvmmu_trace_open("/dev/full", &tr));
		kvmmu_vm_set_trace(t.vm, tr);
		kt_write(&t, 0, PG(1), 1);
		kvmmu_vm_set_trace(t.vm, NULL);
		ASSERT_ERRNO(kvmmu_trace_close(tr), -ENOSPC);
	}
	kt_teardown(&t);
}

TEST(trace_thread_names_escaped)
{
	static const char odd[] = "q\"b\\s/\x01\ttab";
	struct kvmmu_trace *tr;
	struct kt_env t;
	struct tf f;
	char longname[80];

	kt_setup(&t, KVMMU_ARCH_MIPS, RAM_LEN, 1, false);
	tr = tf_open(&f);
	kvmmu_trace_thread_name(odd);
	kvmmu_vm_set_trace(t.vm, tr);
	kt_write(&t, 0, PG(1), 1);
	kvmmu_vm_set_trace(t.vm, NULL);
	ASSERT_OK(kvmmu_trace_close(tr));
	tf_load(&f);
	ASSERT_GE(tf_tid(&f, odd), 1);
	tf_free(&f);

	/* Renaming applies to a buffer that exists; long names are cut. */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	tr = tf_open(&f);
	kvmmu_vm_set_trace(t.vm, tr);
	kt_write(&t, 0, PG(2), 1);
	kvmmu_trace_thread_name(longname);
	kt_write(&t, 0, PG(3), 1);
	kvmmu_vm_set_trace(t.vm, NULL);
	ASSERT_OK(kvmmu_trace_close(tr));
	tf_load(&f);
	longname[KVMMU_TRACE_NAME_LEN - 1] = 0;
	ASSERT_GE(tf_tid(&f, longname), 1);
	ASSERT_EQ(tf_count(&f, "thread_name"), 1);
	tf_free(&f);
	kt_teardown(&t);
}

TEST_HARNESS_MAIN
