// SPDX-License-Identifier: MIT
/*
 * Stress: the host thread, which keeps changing the mappings behind the
 * guest's memslots.
 *
 * Every operation is one of the host events of kvm-mmu-protocol.md §8.3
 * (or a memslot update, §2.3) and leaves the region usable again when it
 * returns, so the thread can park between any two operations for a
 * quiescent check.  Operations that may destroy what the guest wrote bump
 * the region's epoch first; the others (mprotect, fork, mremap) must
 * preserve the data, and the vCPUs' verifies hold them to it.
 *
 * Half of the operations (nine in ten with fault injection) aim at the
 * pages a vCPU is filling or verifying right now, which is where an
 * invalidation races with a fault or with a TLB entry in use.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define HOST_FAIL(st, ret, what, r)                                          \
	do {                                                                 \
		stress_inc(&(st)->ht.errors);                                \
		stress_report(st, KVMMU_FK_OTHER, ~0ull, (int)(r)->slot, -1, \
			      "host: %s on region %u failed with %d", what,  \
			      (r)->idx, ret);                                \
	} while (0)

/*
 * The region's epoch is a sequence count: odd while a destructive
 * operation runs.  seq_cst: the first bump is ordered before every step of
 * the operation, the second after all of them.
 */
static void begin_destructive(struct region *r)
{
	__atomic_fetch_add(&r->epoch, 1, __ATOMIC_SEQ_CST);
}

static void end_destructive(struct region *r)
{
	__atomic_fetch_add(&r->epoch, 1, __ATOMIC_SEQ_CST);
}

static uint32_t short_pause(struct host_thread *ht, uint32_t max_us)
{
	return (uint32_t)kvmmu_rng_below(&ht->rng, max_us + 1);
}

/*
 * Choose a target: a vCPU's current pages (with @hot_pct percent), else a
 * random range of a random region of @want (REGION_DATA, or -1 for any).
 */
static struct region *pick(struct stress *st, int want, uint64_t *page,
			   uint64_t *npages)
{
	struct host_thread *ht = &st->ht;
	unsigned int hot_pct = st->cfg.inject ? 90 : 50;
	struct region *r;
	uint64_t pages;

	if (kvmmu_rng_below(&ht->rng, 100) < hot_pct) {
		unsigned int v = kvmmu_rng_below(&ht->rng, st->cfg.nr_vcpus);
		uint64_t hot =
			__atomic_load_n(&st->vcpus[v].hot, __ATOMIC_RELAXED);

		if (hot) {
			r = &st->regions[(hot >> 48) - 1];
			if (want < 0 || r->type == (enum region_type)want) {
				*page = hot & 0xffffffffu;
				*npages = (hot >> 32) & 0xffff;
				return r;
			}
		}
	}
	if (want == REGION_DATA)
		r = &st->regions[kvmmu_rng_below(
			&ht->rng, st->cfg.nr_vcpus * st->data_per_vcpu)];
	else
		r = &st->regions[kvmmu_rng_below(&ht->rng, st->nr_regions)];
	pages = r->size >> PAGE_SHIFT;
	*npages =
		min(pages,
		    1 + kvmmu_rng_below(&ht->rng,
					kvmmu_rng_below(&ht->rng, 4) ? 4 : 64));
	*page = kvmmu_rng_below(&ht->rng, pages - *npages + 1);
	return r;
}

static void op_mprotect(struct stress *st)
{
	uint64_t p, n;
	struct region *r = pick(st, -1, &p, &n);
	hva_t a = r->hva + (p << PAGE_SHIFT);
	int ret;

	ret = kvmmu_mprotect(st->mm, a, n << PAGE_SHIFT, PROT_READ);
	if (ret) {
		HOST_FAIL(st, ret, "mprotect(PROT_READ)", r);
		return;
	}
	stress_sleep_us(20 + short_pause(&st->ht, 200));
	ret = kvmmu_mprotect(st->mm, a, n << PAGE_SHIFT,
			     PROT_READ | PROT_WRITE);
	if (ret)
		HOST_FAIL(st, ret, "mprotect(PROT_READ|PROT_WRITE)", r);
}

static void op_remap(struct stress *st)
{
	uint64_t p, n;
	struct region *r = pick(st, REGION_DATA, &p, &n);
	hva_t a = r->hva + (p << PAGE_SHIFT), out = 0;
	int ret;

	begin_destructive(r);
	ret = kvmmu_munmap(st->mm, a, n << PAGE_SHIFT);
	if (ret) {
		HOST_FAIL(st, ret, "munmap", r);
		goto out;
	}
	stress_sleep_us(short_pause(&st->ht, 100));
	ret = kvmmu_mmap(st->mm, a, n << PAGE_SHIFT, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0,
			 &out);
	if (ret || out != a)
		HOST_FAIL(st, ret ? ret : -EFAULT, "mmap(MAP_FIXED)", r);
out:
	end_destructive(r);
}

static void op_dontneed(struct stress *st)
{
	uint64_t p, n;
	struct region *r = pick(st, REGION_DATA, &p, &n);
	int ret;

	begin_destructive(r);
	ret = kvmmu_madvise(st->mm, r->hva + (p << PAGE_SHIFT), n << PAGE_SHIFT,
			    MADV_DONTNEED);
	if (ret)
		HOST_FAIL(st, ret, "madvise(MADV_DONTNEED)", r);
	end_destructive(r);
}

/*
 * fork, then: the parent writes a scratch page (breaking COW), the child's
 * copy of it must keep the old bytes; and a data page a vCPU works on must
 * not change in the child while the vCPU goes on writing it in the parent
 * (design invariant 8: no write of one process shows in another's unshared
 * page; a writable stage-2 leaf that survived the fork would do exactly
 * that).  Then the child exits.
 */
static void op_fork(struct stress *st)
{
	static __thread uint8_t before[PAGE_SIZE], after[PAGE_SIZE],
		buf[PAGE_SIZE];
	struct host_thread *ht = &st->ht;
	struct region *s = st->scratch, *r;
	uint64_t p, n, q = kvmmu_rng_below(&ht->rng, s->size >> PAGE_SHIFT);
	hva_t watch, sq = s->hva + (q << PAGE_SHIFT);
	struct kvmmu_mm *child;
	int ret;

	r = pick(st, REGION_DATA, &p, &n);
	watch = r->hva + (p << PAGE_SHIFT);
	ret = kvmmu_fork(st->mm, &child);
	if (ret) {
		HOST_FAIL(st, ret, "fork", r);
		return;
	}
	/* The child sees the region as it was at the fork, for good. */
	ret = kvmmu_mm_read(child, watch, before, PAGE_SIZE);

	kvmmu_rng_bytes(&ht->rng, buf, PAGE_SIZE);
	if (kvmmu_mm_write(st->mm, sq, buf, PAGE_SIZE) ||
	    kvmmu_mm_read(child, sq, after, PAGE_SIZE) ||
	    memcmp(after, ht->scratch_shadow + (q << PAGE_SHIFT), PAGE_SIZE))
		stress_report(st, KVMMU_FK_DATA, s->gpa / PAGE_SIZE + q,
			      (int)s->slot, -1,
			      "host: after fork and a parent write of scratch "
			      "hva %#llx, the child's copy is not the old data",
			      (unsigned long long)sq);
	else
		memcpy(ht->scratch_shadow + (q << PAGE_SHIFT), buf, PAGE_SIZE);

	stress_sleep_us(50 + short_pause(ht, 250)); /* let the vCPUs write */
	if (!ret && !kvmmu_mm_read(child, watch, after, PAGE_SIZE) &&
	    memcmp(before, after, PAGE_SIZE))
		stress_report(st, KVMMU_FK_DATA,
			      (r->gpa + (p << PAGE_SHIFT)) >> PAGE_SHIFT,
			      (int)r->slot, -1,
			      "host: the forked child's copy of hva %#llx "
			      "changed after the fork (a guest write reached "
			      "a COW-shared frame)",
			      (unsigned long long)watch);
	kvmmu_mmput(child);
}

static void op_mremap(struct stress *st)
{
	uint64_t p, n;
	struct region *r = pick(st, -1, &p, &n);
	struct kvmmu_vma_info vi;
	hva_t a = r->hva + (p << PAGE_SHIFT), s, e, out;
	int ret;

	/* mremap moves (part of) one VMA: the one around the target. */
	ret = kvmmu_vma_lookup(st->mm, a, &vi);
	if (ret) {
		HOST_FAIL(st, ret, "VMA lookup", r);
		return;
	}
	s = max(vi.start, r->hva);
	e = min(vi.end, r->hva + r->size);
	ret = kvmmu_mremap(st->mm, s, e - s, e - s,
			   MREMAP_MAYMOVE | MREMAP_FIXED,
			   r->spare_hva + (s - r->hva), &out);
	if (ret) {
		HOST_FAIL(st, ret, "mremap away", r);
		return;
	}
	stress_sleep_us(20 + short_pause(&st->ht, 150));
	ret = kvmmu_mremap(st->mm, r->spare_hva + (s - r->hva), e - s, e - s,
			   MREMAP_MAYMOVE | MREMAP_FIXED, s, &out);
	if (ret)
		HOST_FAIL(st, ret, "mremap back", r);
}

static int set_slot(struct stress *st, struct region *r, gpa_t gpa,
		    uint64_t size)
{
	struct kvmmu_userspace_memory_region2 m = {
		.slot = r->slot,
		.flags = r->flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = r->hva,
	};

	return kvmmu_set_user_memory_region2(st->vm, &m);
}

static void op_slot(struct stress *st, bool move)
{
	uint64_t p, n;
	struct region *r = pick(st, REGION_DATA, &p, &n);
	int ret;

	begin_destructive(r);
	ret = move ? set_slot(st, r, r->spare_gpa, r->size) :
		     set_slot(st, r, r->gpa, 0);
	if (ret) {
		HOST_FAIL(st, ret, move ? "memslot move" : "memslot delete", r);
		goto out;
	}
	stress_sleep_us(short_pause(&st->ht, 200));
	ret = set_slot(st, r, r->gpa, r->size);
	if (ret)
		HOST_FAIL(st, ret,
			  move ? "memslot move back" : "memslot re-add", r);
out:
	end_destructive(r);
}

/* Weights per hundred: normal runs, and runs with a bug injected. */
static const uint8_t weights[2][KVMMU_STRESS_OP_NR] = {
	{ 16, 14, 26, 8, 12, 12, 12 },
	{ 10, 20, 65, 5, 0, 0, 0 },
};

/**
 * stress_host_main() - the host thread: random operations until the run
 * stops, parking between any two of them for quiescent checks.
 * @arg: the struct stress.
 *
 * Context: a thread of its own.
 * Return: NULL.
 */
void *stress_host_main(void *arg)
{
	struct stress *st = arg;
	struct host_thread *ht = &st->ht;
	const uint8_t *w = weights[st->cfg.inject ? 1 : 0];

	while (!stress_stopping(st)) {
		unsigned int c = kvmmu_rng_below(&ht->rng, 100), op;

		stress_maybe_park(st);
		for (op = 0; op < KVMMU_STRESS_OP_NR - 1 && c >= w[op]; op++)
			c -= w[op];
		switch (op) {
		case KVMMU_STRESS_MPROTECT:
			op_mprotect(st);
			break;
		case KVMMU_STRESS_REMAP:
			op_remap(st);
			break;
		case KVMMU_STRESS_DONTNEED:
			op_dontneed(st);
			break;
		case KVMMU_STRESS_FORK:
			op_fork(st);
			break;
		case KVMMU_STRESS_MREMAP:
			op_mremap(st);
			break;
		default:
			op_slot(st, op == KVMMU_STRESS_SLOT_MOVE);
			break;
		}
		stress_inc(&ht->ops[op]);
		if (!st->cfg.inject)
			stress_sleep_us(short_pause(ht, 300));
	}
	return NULL;
}
