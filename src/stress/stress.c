// SPDX-License-Identifier: MIT
/*
 * Stress: set-up, the controller, race widening and the report.
 *
 * Layout.  Each vCPU owns data_per_vcpu DATA regions; there is one
 * read-only region (a READONLY memslot whose pattern the host wrote) and
 * one scratch region the host writes around forks.  Every region is its
 * own private anonymous mapping and its own memslot, so that a munmap, an
 * mremap or a memslot delete hits one region only.  Regions sit 1 GiB
 * apart in the host address space with a parallel "spare" area for
 * mremap, and 2 MiB apart in guest-physical space with a spare range above
 * 1 TiB for memslot moves.
 *
 * Quiescent checks.  Every check_interval seconds the controller sets
 * @pausing and kicks the vCPUs; each worker parks at its next safe point
 * (a vCPU between rounds or on an exit, the host between operations), and
 * when all are parked the controller runs kvmmu_check_vm() and lets them
 * go.  The mutex hand-off orders everything the workers did before the
 * check, so the checker reads their TLBs and the tables without races.
 *
 * Race widening.  In debug builds a scheduling hook (sched.h) makes a vCPU
 * thread sleep, one time in N, just before it takes mmu_lock: that is the
 * fault path between resolving the frame and the retry check (§1.8), the
 * window an invalidation must hit for the retry to matter.  N is 64
 * normally (the retry path runs often) and 4 with an injected bug (so that
 * the bug shows within seconds).
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kvmmu/log.h>
#include <kvmmu/sched.h>

#include "internal.h"
#include "kvm/internal.h" /* the address of mmu_lock, for the delay hook */

#define HVA_BASE   0x100000000000ull /* 16 TiB */
#define HVA_SPARE  0x400000000000ull /* 64 TiB */
#define HVA_STRIDE (1ull << 30)
#define GPA_SPARE  (1ull << 40)
#define RO_PAGES   64
#define SCR_PAGES  16

static const char *const op_names[KVMMU_STRESS_OP_NR] = {
	[KVMMU_STRESS_MPROTECT] = "mprotect",
	[KVMMU_STRESS_REMAP] = "remap",
	[KVMMU_STRESS_DONTNEED] = "dontneed",
	[KVMMU_STRESS_FORK] = "fork",
	[KVMMU_STRESS_MREMAP] = "mremap",
	[KVMMU_STRESS_SLOT_DELETE] = "slot_delete",
	[KVMMU_STRESS_SLOT_MOVE] = "slot_move",
};

/**
 * kvmmu_stress_op_name() - see stress.h.
 */
const char *kvmmu_stress_op_name(enum kvmmu_stress_op op)
{
	if ((unsigned int)op >= KVMMU_STRESS_OP_NR)
		return "?";
	return op_names[op];
}

/**
 * stress_now() - CLOCK_MONOTONIC in seconds.
 * Context: any.
 * Return: the time.
 */
double stress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/**
 * stress_sleep_us() - sleep @us microseconds; 0 just yields the CPU.
 * Context: a thread that may sleep.
 */
void stress_sleep_us(unsigned int us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };

	if (us)
		nanosleep(&ts, NULL);
	else
		sched_yield();
}

/* --- race widening ----------------------------------------------------- */

/*
 * The hook runs before every lock and atomic of every thread, so it must be
 * cheap when it does nothing, and it may use neither kvmmu locks nor kvmmu
 * atomics (they would call it again): plain __atomic builtins only.
 */
static const void *delay_lock;
static unsigned int delay_one_in;
static uint64_t delay_seed;
static kvmmu_sched_hook_t delay_prev;
static __thread unsigned int delay_vcpu; /* vCPU index + 1, 0: not one */
static __thread struct kvmmu_rng delay_rng;

static void delay_hook(enum kvmmu_sched_point p, const volatile void *addr)
{
	unsigned int us;

	if (p != KVMMU_SP_LOCK || !delay_vcpu ||
	    (const void *)addr !=
		    __atomic_load_n(&delay_lock, __ATOMIC_RELAXED))
		return;
	if (kvmmu_rng_below(&delay_rng,
			    __atomic_load_n(&delay_one_in, __ATOMIC_RELAXED)))
		return;
	us = 10 + (unsigned int)kvmmu_rng_below(&delay_rng, 90);
	stress_sleep_us(us);
}

/**
 * stress_delay_install() - sleep before @vm's mmu_lock, one time in
 * @one_in, in the threads that called stress_delay_thread_is_vcpu().
 * @vm: the VM under stress.
 * @one_in: the odds.
 * @seed: seeds the per-thread generators.
 *
 * Context: before the worker threads start.  Debug builds only call it.
 */
void stress_delay_install(struct kvmmu_vm *vm, unsigned int one_in,
			  uint64_t seed)
{
	__atomic_store_n(&delay_seed, seed, __ATOMIC_RELAXED);
	__atomic_store_n(&delay_one_in, one_in, __ATOMIC_RELAXED);
	__atomic_store_n(&delay_lock, (const void *)&vm->mmu_lock,
			 __ATOMIC_RELEASE);
	delay_prev = kvmmu_sched_set_hook(delay_hook);
}

/**
 * stress_delay_remove() - uninstall the hook (restoring the previous one).
 * Context: after the worker threads were joined.
 */
void stress_delay_remove(void)
{
	kvmmu_sched_set_hook(delay_prev);
	__atomic_store_n(&delay_lock, NULL, __ATOMIC_RELAXED);
	delay_prev = NULL;
}

/**
 * stress_delay_thread_is_vcpu() - mark the calling thread as vCPU @idx.
 * @idx: the vCPU's index.
 *
 * Context: the vCPU thread, before its first run.
 */
void stress_delay_thread_is_vcpu(unsigned int idx)
{
	kvmmu_rng_seed(&delay_rng,
		       __atomic_load_n(&delay_seed, __ATOMIC_RELAXED) ^
			       (0xde1a7ull + idx));
	delay_vcpu = idx + 1;
}

/* --- the pause protocol ------------------------------------------------- */

/**
 * stress_stopping() - is the run ending?
 * Context: any.
 * Return: true once the controller asked every thread to stop.
 */
bool stress_stopping(struct stress *st)
{
	return __atomic_load_n(&st->stop, __ATOMIC_ACQUIRE);
}

/**
 * stress_maybe_park() - if a quiescent check is due, wait here until it
 * is over.
 * @st: the run.
 *
 * Context: a worker thread at a safe point (no vCPU run in progress for a
 * vCPU thread, no host operation half done for the host thread).
 */
void stress_maybe_park(struct stress *st)
{
	if (!__atomic_load_n(&st->pausing, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&st->mu);
	st->parked++;
	pthread_cond_broadcast(&st->parked_cv);
	while (__atomic_load_n(&st->pausing, __ATOMIC_RELAXED) &&
	       !stress_stopping(st))
		pthread_cond_wait(&st->resume_cv, &st->mu);
	st->parked--;
	pthread_mutex_unlock(&st->mu);
}

static unsigned int nr_workers(struct stress *st)
{
	unsigned int i, n = st->ht.started;

	for (i = 0; i < st->cfg.nr_vcpus; i++)
		n += st->vcpus[i].started;
	return n;
}

static void kick_all(struct stress *st)
{
	unsigned int i;

	for (i = 0; i < st->cfg.nr_vcpus; i++)
		if (st->vcpus[i].vcpu)
			kvmmu_vcpu_kick(st->vcpus[i].vcpu);
}

/* Stop every worker at a safe point. */
static void quiesce(struct stress *st)
{
	unsigned int want = nr_workers(st);

	pthread_mutex_lock(&st->mu);
	__atomic_store_n(&st->pausing, true, __ATOMIC_SEQ_CST);
	while (st->parked < want) {
		struct timespec ts;

		pthread_mutex_unlock(&st->mu);
		/* A kick consumed before the flag was seen is simply
		 * repeated: parking is checked after every exit. */
		kick_all(st);
		pthread_mutex_lock(&st->mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 2000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&st->parked_cv, &st->mu, &ts);
	}
	pthread_mutex_unlock(&st->mu);
}

static void resume(struct stress *st)
{
	pthread_mutex_lock(&st->mu);
	__atomic_store_n(&st->pausing, false, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&st->resume_cv);
	pthread_mutex_unlock(&st->mu);
}

/**
 * stress_report() - record a finding of the run (data mismatch, a host
 * operation that failed, an unexpected exit) in the VM's findings log.
 * @st: the run.
 * @kind: the invariant.
 * @gfn: where, or ~0.
 * @slot: the memslot id, or -1.
 * @vcpu: the vCPU index, or -1.
 * @fmt: what was expected and what was found.
 *
 * Context: any worker thread.
 */
void stress_report(struct stress *st, enum kvmmu_finding_kind kind, gfn_t gfn,
		   int slot, int vcpu, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kvmmu_check_report(st->vm, kind, gfn, KVMMU_INVALID_PFN, slot, vcpu,
			   "%s", msg);
}

/**
 * stress_region_of() - the region whose home guest-physical range holds
 * @gpa.
 * Context: any (the layout never changes during a run).
 * Return: the region, or NULL.
 */
struct region *stress_region_of(struct stress *st, gpa_t gpa)
{
	unsigned int i;

	for (i = 0; i < st->nr_regions; i++) {
		struct region *r = &st->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

/* --- set-up and teardown --------------------------------------------------- */

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int add_region(struct stress *st, enum region_type type, int owner,
		      uint64_t size, gpa_t *gpa_next)
{
	struct region *r = &st->regions[st->nr_regions];
	hva_t out;
	int ret;

	r->idx = st->nr_regions;
	r->type = type;
	r->owner = owner;
	r->slot = r->idx;
	r->size = size;
	r->hva = HVA_BASE + r->idx * HVA_STRIDE;
	r->spare_hva = HVA_SPARE + r->idx * HVA_STRIDE;
	r->gpa = *gpa_next;
	r->spare_gpa = GPA_SPARE + *gpa_next;
	*gpa_next += ALIGN(size, PMD_SIZE);
	ret = kvmmu_mmap(st->mm, r->hva, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0,
			 &out);
	if (ret)
		return ret;
	st->nr_regions++;
	return 0;
}

static int add_slot(struct stress *st, struct region *r)
{
	struct kvmmu_userspace_memory_region2 m = {
		.slot = r->slot,
		.flags = r->flags,
		.guest_phys_addr = r->gpa,
		.memory_size = r->size,
		.userspace_addr = r->hva,
	};

	return kvmmu_set_user_memory_region2(st->vm, &m);
}

/* The read-only region's pattern and the scratch region's first bytes. */
static int fill_host_regions(struct stress *st)
{
	static uint64_t page[PAGE_SIZE / 8];
	uint64_t off;
	unsigned int i;
	int ret;

	for (off = 0; off < st->ro->size; off += PAGE_SIZE) {
		for (i = 0; i < ARRAY_SIZE(page); i++)
			page[i] = kvmmu_pattern_word(RO_SEED,
						     st->ro->gpa + off + 8 * i);
		ret = kvmmu_mm_write(st->mm, st->ro->hva + off, page,
				     PAGE_SIZE);
		if (ret)
			return ret;
	}
	kvmmu_rng_bytes(&st->ht.rng, st->ht.scratch_shadow, st->scratch->size);
	return kvmmu_mm_write(st->mm, st->scratch->hva, st->ht.scratch_shadow,
			      st->scratch->size);
}

static int setup(struct stress *st)
{
	const struct kvmmu_stress_config *c = &st->cfg;
	struct kvmmu_vm_config vc = { .arch = c->arch,
				      .inject = c->inject,
				      .check = true };
	struct kvmmu_host_config hc = { 0 };
	uint64_t per, total;
	gpa_t gpa = 0;
	unsigned int i, j;
	int ret;

	/* Up to 8 data regions per vCPU, each at least 1 MiB if it can. */
	st->data_per_vcpu =
		(unsigned int)clamp_u64(c->bytes_per_vcpu >> 20, 1, 8);
	per = ALIGN_DOWN(c->bytes_per_vcpu / st->data_per_vcpu, PAGE_SIZE);
	total = c->nr_vcpus * c->bytes_per_vcpu +
		(RO_PAGES + SCR_PAGES) * PAGE_SIZE;
	hc.ram_bytes = ALIGN(4 * total + (64ull << 20), PAGE_SIZE);
	if (hc.ram_bytes > (64ull << 30))
		return -EINVAL;

	st->regions = calloc(c->nr_vcpus * st->data_per_vcpu + 2,
			     sizeof(*st->regions));
	st->vcpus = calloc(c->nr_vcpus, sizeof(*st->vcpus));
	st->ht.scratch_shadow = malloc(SCR_PAGES * PAGE_SIZE);
	if (!st->regions || !st->vcpus || !st->ht.scratch_shadow)
		return -ENOMEM;
	kvmmu_rng_seed(&st->ht.rng, c->seed ^ 0x4057ull);

	ret = kvmmu_host_create(&hc, &st->host);
	if (ret)
		return ret;
	ret = kvmmu_mm_create(st->host, &st->mm);
	if (ret)
		return ret;
	ret = kvmmu_vm_create(st->mm, &vc, &st->vm);
	if (ret)
		return ret;

	for (i = 0; i < c->nr_vcpus; i++) {
		struct vcpu_thread *vt = &st->vcpus[i];

		vt->st = st;
		vt->idx = i;
		kvmmu_rng_seed(&vt->rng, c->seed ^ (0x100ull + i));
		ret = kvmmu_vcpu_create(st->vm, i, &vt->vcpu);
		if (ret)
			return ret;
		for (j = 0; j < st->data_per_vcpu; j++) {
			ret = add_region(st, REGION_DATA, (int)i, per, &gpa);
			if (ret)
				return ret;
		}
	}
	ret = add_region(st, REGION_RO, -1, RO_PAGES * PAGE_SIZE, &gpa);
	if (ret)
		return ret;
	st->ro = &st->regions[st->nr_regions - 1];
	st->ro->flags = KVMMU_MEM_READONLY;
	ret = add_region(st, REGION_SCRATCH, -1, SCR_PAGES * PAGE_SIZE, &gpa);
	if (ret)
		return ret;
	st->scratch = &st->regions[st->nr_regions - 1];
	ret = fill_host_regions(st);
	if (ret)
		return ret;
	for (i = 0; i < st->nr_regions; i++) {
		ret = add_slot(st, &st->regions[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Tear down whatever setup() built.  Return: the audit's verdict. */
static bool teardown(struct stress *st)
{
	struct kvmmu_host_audit a;
	bool clean = false;

	if (st->vm)
		kvmmu_vm_destroy(st->vm);
	if (st->mm)
		kvmmu_mmput(st->mm);
	if (st->host) {
		clean = !kvmmu_host_audit(st->host, &a) && !a.bad &&
			a.in_use == 0 && a.mms == 0;
		if (kvmmu_host_destroy(st->host))
			clean = false;
	}
	free(st->ht.scratch_shadow);
	free(st->vcpus);
	free(st->regions);
	return clean;
}

/* --- the run ------------------------------------------------------------------ */

static void fmt_bytes(char *buf, size_t len, uint64_t b)
{
	if (b && !(b & ((1ull << 30) - 1)))
		snprintf(buf, len, "%lluG", (unsigned long long)(b >> 30));
	else if (b && !(b & ((1ull << 20) - 1)))
		snprintf(buf, len, "%lluM", (unsigned long long)(b >> 20));
	else if (b && !(b & ((1ull << 10) - 1)))
		snprintf(buf, len, "%lluK", (unsigned long long)(b >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)b);
}

static const char *inject_name(unsigned int inject)
{
	switch (inject) {
	case 0:
		return "none";
	case KVMMU_INJECT_NO_RETRY:
		return "no_retry";
	case KVMMU_INJECT_NO_TLB_FLUSH:
		return "no_tlb_flush";
	default:
		return "no_retry+no_tlb_flush";
	}
}

static uint64_t host_ops_total(struct stress *st)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < KVMMU_STRESS_OP_NR; i++)
		n += stress_load(&st->ht.ops[i]);
	return n;
}

static uint64_t guest_rounds(struct stress *st)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < st->cfg.nr_vcpus; i++)
		n += stress_load(&st->vcpus[i].rounds);
	return n;
}

static void progress(struct stress *st, double t)
{
	fprintf(st->cfg.out,
		"[%6.1fs] rounds=%llu pf_fixed=%llu host_ops=%llu "
		"findings=%lu\n",
		t, (unsigned long long)guest_rounds(st),
		(unsigned long long)kvmmu_vm_stat(st->vm, "pf_fixed"),
		(unsigned long long)host_ops_total(st),
		kvmmu_check_nr_findings(st->vm));
	fflush(st->cfg.out);
}

static int start_threads(struct stress *st)
{
	unsigned int i;
	int ret;

	for (i = 0; i < st->cfg.nr_vcpus; i++) {
		ret = pthread_create(&st->vcpus[i].thread, NULL,
				     stress_vcpu_main, &st->vcpus[i]);
		if (ret)
			return -ret;
		st->vcpus[i].started = true;
	}
	ret = pthread_create(&st->ht.thread, NULL, stress_host_main, st);
	if (ret)
		return -ret;
	st->ht.started = true;
	return 0;
}

static void stop_threads(struct stress *st)
{
	unsigned int i;

	__atomic_store_n(&st->stop, true, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&st->mu);
	pthread_cond_broadcast(&st->resume_cv);
	pthread_mutex_unlock(&st->mu);
	kick_all(st);
	for (i = 0; i < st->cfg.nr_vcpus; i++)
		if (st->vcpus[i].started)
			pthread_join(st->vcpus[i].thread, NULL);
	if (st->ht.started)
		pthread_join(st->ht.thread, NULL);
}

/* Has a finding of a kind that ends the run been recorded? */
static bool stop_wanted(struct stress *st)
{
	struct kvmmu_finding f;
	unsigned int i;

	if (!kvmmu_check_nr_findings(st->vm))
		return false;
	if (!st->cfg.stop_kinds)
		return true;
	for (i = 0; !kvmmu_check_finding(st->vm, i, &f); i++)
		if (st->cfg.stop_kinds & (1u << f.kind))
			return true;
	/* Only the first findings are kept: past them, any will do. */
	return i >= KVMMU_CHECK_LOG_MAX;
}

/* The controller: quiescent checks, progress, the deadline. */
static void control(struct stress *st, struct kvmmu_stress_result *res)
{
	const struct kvmmu_stress_config *c = &st->cfg;
	double end = st->t0 + c->seconds, next_check, next_line, now;

	next_check = st->t0 + c->check_interval;
	next_line = st->t0 + 1;
	while ((now = stress_now()) < end) {
		stress_sleep_us(5000);
		now = stress_now();
		if (res->first_finding_at < 0 &&
		    kvmmu_check_nr_findings(st->vm))
			res->first_finding_at = now - st->t0;
		if (c->stop_on_finding && stop_wanted(st))
			break;
		if (now >= next_check) {
			double t = stress_now();

			quiesce(st);
			kvmmu_check_vm(st->vm);
			resume(st);
			res->checks++;
			res->check_seconds += stress_now() - t;
			next_check = stress_now() + c->check_interval;
		}
		if (c->out && c->progress && now >= next_line) {
			progress(st, now - st->t0);
			next_line += 1;
		}
	}
}

static void collect(struct stress *st, struct kvmmu_stress_result *res)
{
	struct kvmmu_vm *vm = st->vm;
	unsigned int i, k;

	for (i = 0; i < st->cfg.nr_vcpus; i++) {
		struct vcpu_thread *vt = &st->vcpus[i];

		res->rounds += vt->rounds;
		res->verified += vt->verified;
		res->excused += vt->excused;
		res->efault_exits += vt->efaults;
		res->mmio_exits += vt->mmios;
	}
	for (i = 0; i < KVMMU_STRESS_OP_NR; i++)
		res->host_ops[i] = st->ht.ops[i];
	res->host_op_errors = st->ht.errors;
	res->pf_taken = kvmmu_vm_stat(vm, "pf_taken");
	res->pf_fixed = kvmmu_vm_stat(vm, "pf_fixed");
	res->pf_spurious = kvmmu_vm_stat(vm, "pf_spurious");
	res->mmu_invalidate_retry = kvmmu_vm_stat(vm, "mmu_invalidate_retry");
	res->remote_tlb_flush = kvmmu_vm_stat(vm, "remote_tlb_flush");
	res->remote_tlb_flush_requests =
		kvmmu_vm_stat(vm, "remote_tlb_flush_requests");
	res->notifier_zap_pages = kvmmu_vm_stat(vm, "notifier_zap_pages");

	res->findings = kvmmu_check_nr_findings(vm);
	for (i = 0; i < KVMMU_CHECK_LOG_MAX; i++) {
		struct kvmmu_finding f;

		if (kvmmu_check_finding(vm, i, &f))
			break;
		if (i < KVMMU_STRESS_KEEP)
			res->kept[res->nr_kept++] = f;
		k = f.kind < KVMMU_FK_NR ? f.kind : KVMMU_FK_OTHER;
		res->by_kind[k]++;
	}
}

static void report(struct stress *st, const struct kvmmu_stress_result *res)
{
	FILE *f = st->cfg.out;
	unsigned int i;

	fprintf(f,
		"stress: done in %.1fs: %llu quiescent checks (%.1f ms each), "
		"%lu findings, %lu warnings\n",
		res->elapsed, (unsigned long long)res->checks,
		res->checks ? 1e3 * res->check_seconds / res->checks : 0.0,
		res->findings, res->warnings);
	fprintf(f,
		"  guest: rounds=%llu verified=%llu excused=%llu "
		"efault_exits=%llu mmio_exits=%llu\n",
		(unsigned long long)res->rounds,
		(unsigned long long)res->verified,
		(unsigned long long)res->excused,
		(unsigned long long)res->efault_exits,
		(unsigned long long)res->mmio_exits);
	fprintf(f,
		"  kvm: pf_taken=%llu pf_fixed=%llu pf_spurious=%llu "
		"mmu_invalidate_retry=%llu\n"
		"       remote_tlb_flush=%llu remote_tlb_flush_requests=%llu "
		"notifier_zap_pages=%llu\n",
		(unsigned long long)res->pf_taken,
		(unsigned long long)res->pf_fixed,
		(unsigned long long)res->pf_spurious,
		(unsigned long long)res->mmu_invalidate_retry,
		(unsigned long long)res->remote_tlb_flush,
		(unsigned long long)res->remote_tlb_flush_requests,
		(unsigned long long)res->notifier_zap_pages);
	fprintf(f, "  host ops:");
	for (i = 0; i < KVMMU_STRESS_OP_NR; i++)
		fprintf(f, " %s=%llu", op_names[i],
			(unsigned long long)res->host_ops[i]);
	fprintf(f, " errors=%llu\n", (unsigned long long)res->host_op_errors);
	if (res->first_finding_at >= 0)
		fprintf(f, "  first finding after %.3fs\n",
			res->first_finding_at);
	kvmmu_check_print(st->vm, f);
}

static int check_config(struct kvmmu_stress_config *c)
{
	if (!c->nr_vcpus)
		c->nr_vcpus = 2;
	if (!c->bytes_per_vcpu)
		c->bytes_per_vcpu = 64ull << 20;
	if (c->seconds <= 0)
		c->seconds = 10;
	if (c->check_interval <= 0)
		c->check_interval = 1;
	if (c->nr_vcpus > 64 || c->bytes_per_vcpu % PAGE_SIZE ||
	    c->bytes_per_vcpu > (8ull << 30) ||
	    (unsigned int)c->arch >= KVMMU_ARCH_NR ||
	    (c->inject & ~(KVMMU_INJECT_NO_RETRY | KVMMU_INJECT_NO_TLB_FLUSH)))
		return -EINVAL;
	return 0;
}

/**
 * kvmmu_stress_run() - see stress.h.
 */
int kvmmu_stress_run(const struct kvmmu_stress_config *cfg,
		     struct kvmmu_stress_result *res)
{
	struct stress *st;
	unsigned long warn0;
	char bytes[32];
	double t;
	int ret;

	if (!cfg || !res)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	res->first_finding_at = -1;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->cfg = *cfg;
	ret = check_config(&st->cfg);
	if (ret) {
		free(st);
		return ret;
	}
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->parked_cv, NULL);
	pthread_cond_init(&st->resume_cv, NULL);

	if (st->cfg.out) {
		fmt_bytes(bytes, sizeof(bytes), st->cfg.bytes_per_vcpu);
		fprintf(st->cfg.out,
			"stress: seed=%#llx arch=%s vcpus=%u bytes=%s time=%gs "
			"inject=%s\n",
			(unsigned long long)st->cfg.seed,
			kvmmu_arch_name(st->cfg.arch), st->cfg.nr_vcpus, bytes,
			st->cfg.seconds, inject_name(st->cfg.inject));
		fflush(st->cfg.out);
	}
	warn0 = kvmmu_warn_count();
	ret = setup(st);
	if (ret)
		goto out;

	stress_delay_install(st->vm, st->cfg.inject ? 4 : 64, st->cfg.seed);
	st->t0 = stress_now();
	ret = start_threads(st);
	if (!ret)
		control(st, res);
	stop_threads(st);
	res->elapsed = stress_now() - st->t0;
	stress_delay_remove();
	if (ret)
		goto out;

	/* One last look at rest, with every thread gone. */
	t = stress_now();
	kvmmu_check_vm(st->vm);
	res->checks++;
	res->check_seconds += stress_now() - t;
	res->warnings = kvmmu_warn_count() - warn0;
	collect(st, res);
	if (res->first_finding_at < 0 && res->findings)
		res->first_finding_at = res->elapsed;
	if (st->cfg.out)
		report(st, res);
out:
	res->audit_clean = teardown(st);
	if (st->cfg.out && !res->audit_clean && !ret)
		fprintf(st->cfg.out, "stress: the host audit is not clean\n");
	pthread_cond_destroy(&st->resume_cv);
	pthread_cond_destroy(&st->parked_cv);
	pthread_mutex_destroy(&st->mu);
	free(st);
	return ret;
}
