// SPDX-License-Identifier: MIT
/*
 * Host physical memory: frames, their counts, the allocator.
 *
 * RAM is one MAP_NORESERVE mapping cut into 4 KiB frames, PFN = index.
 * PFN 0 is the shared zero frame.  Frames that were never used are handed
 * out by a bump pointer; freed frames go to one of HOST_FREE_SHARDS locked
 * stacks (chosen by the calling thread's shard, as per-CPU page lists), so
 * threads faulting in parallel rarely meet on a lock; a thread whose shard
 * ran dry takes a whole batch from another.
 *
 * A freed frame is poisoned (0x6b, like slab poison) and its generation is
 * bumped, so a mapping that outlives the frame shows up as a generation
 * mismatch in the checker, and as poisoned bytes in any data check.
 */
#include <stdlib.h>
#include <sys/mman.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "internal.h"

#define HOST_POISON	    0x6b
#define HOST_DEFAULT_RAM    (1ull << 30)
#define HOST_DEFAULT_DEVICE (16ull << 20)
#define HOST_MAX_RAM	    (64ull << 30)

/* Free-list links are 32-bit PFNs. */
_Static_assert((HOST_MAX_RAM >> PAGE_SHIFT) < HOST_LINK_NONE,
	       "RAM PFNs must fit a free-list link");

static const struct kvmmu_stat_desc host_stat_desc[HS_NR] = {
	[HS_PGFAULT] = { "pgfault", KVMMU_STAT_CUMULATIVE, 0,
			 "host page faults handled" },
	[HS_PGALLOC] = { "pgalloc", KVMMU_STAT_CUMULATIVE, 0,
			 "frames allocated" },
	[HS_PGFREE] = { "pgfree", KVMMU_STAT_CUMULATIVE, 0, "frames freed" },
	[HS_PGREUSE] = { "pgreuse", KVMMU_STAT_CUMULATIVE, 0,
			 "write faults that reused an exclusive frame" },
	[HS_COW_COPY] = { "cow_copy", KVMMU_STAT_CUMULATIVE, 0,
			  "write faults that copied a shared frame" },
	[HS_ZERO_FAULT] = { "zero_page_fault", KVMMU_STAT_CUMULATIVE, 0,
			    "read faults that mapped the zero frame" },
	[HS_NR_ANON] = { "nr_anon_pages", KVMMU_STAT_INSTANT,
			 KVMMU_STAT_UNIT_PAGES, "anonymous frames in use" },
	[HS_NR_SHMEM] = { "nr_shmem", KVMMU_STAT_INSTANT, KVMMU_STAT_UNIT_PAGES,
			  "page-cache frames in use" },
	[HS_MN_INVALIDATE] = { "mmu_notifier_invalidate_range",
			       KVMMU_STAT_CUMULATIVE, 0,
			       "invalidate_range_start calls" },
	[HS_MN_AGE] = { "mmu_notifier_age", KVMMU_STAT_CUMULATIVE, 0,
			"young callbacks" },
	[HS_GUP] = { "gup", KVMMU_STAT_CUMULATIVE, 0, "get_user_page calls" },
	[HS_GUP_FAST] = { "gup_fast", KVMMU_STAT_CUMULATIVE, 0,
			  "lockless get_user_page successes" },
	[HS_GUP_FAST_FAIL] = { "gup_fast_fail", KVMMU_STAT_CUMULATIVE, 0,
			       "lockless get_user_page misses" },
	[HS_PTE_ZAP] = { "pte_zap", KVMMU_STAT_CUMULATIVE, 0,
			 "present PTEs cleared" },
	[HS_FORK] = { "fork", KVMMU_STAT_CUMULATIVE, 0, "forks" },
};

int kvmmu_host_create(const struct kvmmu_host_config *cfg,
		      struct kvmmu_host **out)
{
	struct kvmmu_host_config c = { 0 };
	struct kvmmu_host *h;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	int i, r = -ENOMEM;

	if (cfg)
		c = *cfg;
	if (!c.ram_bytes)
		c.ram_bytes = HOST_DEFAULT_RAM;
	if (!c.device_bytes)
		c.device_bytes = HOST_DEFAULT_DEVICE;
	if (!PAGE_ALIGNED(c.ram_bytes) || !PAGE_ALIGNED(c.device_bytes) ||
	    c.ram_bytes < 2 * PAGE_SIZE || c.ram_bytes > HOST_MAX_RAM ||
	    c.device_bytes > HOST_MAX_RAM)
		return -EINVAL;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->cfg = c;
	h->nr_frames = c.ram_bytes >> PAGE_SHIFT;
	h->ram = mmap(NULL, c.ram_bytes, PROT_READ | PROT_WRITE,
		      flags | (c.prepopulate ? MAP_POPULATE : 0), -1, 0);
	if (h->ram == MAP_FAILED)
		goto err_free;
	h->pages = mmap(NULL, h->nr_frames * sizeof(struct host_page),
			PROT_READ | PROT_WRITE, flags, -1, 0);
	if (h->pages == MAP_FAILED)
		goto err_ram;
	h->dev_frames = c.device_bytes >> PAGE_SHIFT;
	h->dev = mmap(NULL, c.device_bytes, PROT_READ | PROT_WRITE, flags, -1,
		      0);
	if (h->dev == MAP_FAILED)
		goto err_pages;
	/* A gap between RAM and the aperture catches off-by-one PFNs. */
	h->dev_base = ALIGN(h->nr_frames + 0x100000, 0x100000);
	if (kvmmu_stats_init(&h->stats, "host", host_stat_desc, HS_NR))
		goto err_dev;

	for (i = 0; i < HOST_FREE_SHARDS; i++) {
		kvmmu_spin_lock_init(&h->free[i].lock, "host_free",
				     KVMMU_RANK_LEAF);
		h->free[i].partial = HOST_LINK_NONE;
		h->free[i].full = HOST_LINK_NONE;
	}
	h->pages[HOST_ZERO_PFN].refcount = 1;
	h->pages[HOST_ZERO_PFN].flags = KVMMU_PG_ZERO;
	h->next_unused = 1;
	*out = h;
	return 0;

err_dev:
	munmap(h->dev, c.device_bytes);
err_pages:
	munmap(h->pages, h->nr_frames * sizeof(struct host_page));
err_ram:
	munmap(h->ram, c.ram_bytes);
err_free:
	free(h);
	return r;
}

int kvmmu_host_destroy(struct kvmmu_host *h)
{
	int i;

	if (!h)
		return 0;
	if (atomic_read(&h->nr_mms) || atomic_read(&h->nr_files))
		return -EBUSY;
	for (i = 0; i < HOST_FREE_SHARDS; i++)
		kvmmu_spin_lock_destroy(&h->free[i].lock);
	kvmmu_stats_destroy(&h->stats);
	munmap(h->dev, h->cfg.device_bytes);
	munmap(h->pages, h->nr_frames * sizeof(struct host_page));
	munmap(h->ram, h->cfg.ram_bytes);
	free(h);
	return 0;
}

uint64_t kvmmu_host_nr_frames(const struct kvmmu_host *h)
{
	return h->nr_frames;
}

kvmmu_pfn_t kvmmu_zero_pfn(const struct kvmmu_host *h)
{
	return HOST_ZERO_PFN;
}

kvmmu_pfn_t kvmmu_host_device_base(const struct kvmmu_host *h,
				   uint64_t *nr_frames)
{
	if (nr_frames)
		*nr_frames = h->dev_frames;
	return h->dev_base;
}

struct kvmmu_stats *kvmmu_host_stats(struct kvmmu_host *h)
{
	return &h->stats;
}

static bool host_pfn_is_device(const struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	return pfn >= h->dev_base && pfn - h->dev_base < h->dev_frames;
}

void *kvmmu_pfn_to_virt(const struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	if (host_pfn_is_ram(h, pfn))
		return host_pfn_virt(h, pfn);
	if (host_pfn_is_device(h, pfn))
		return h->dev + ((pfn - h->dev_base) << PAGE_SHIFT);
	return NULL;
}

int kvmmu_page_info(const struct kvmmu_host *h, kvmmu_pfn_t pfn,
		    struct kvmmu_page_info *out)
{
	const struct host_page *p;

	if (host_pfn_is_device(h, pfn)) {
		*out = (struct kvmmu_page_info){ .flags = KVMMU_PG_DEVICE };
		return 0;
	}
	if (!host_pfn_is_ram(h, pfn))
		return -EINVAL;
	p = &h->pages[pfn];
	out->refcount = __atomic_load_n(&p->refcount, __ATOMIC_ACQUIRE);
	out->mapcount = __atomic_load_n(&p->mapcount, __ATOMIC_RELAXED);
	out->flags = __atomic_load_n(&p->flags, __ATOMIC_RELAXED);
	out->gen = __atomic_load_n(&p->gen, __ATOMIC_ACQUIRE);
	if (pfn >= __atomic_load_n(&h->next_unused, __ATOMIC_RELAXED))
		out->flags |= KVMMU_PG_FREE; /* never used yet */
	return 0;
}

uint32_t kvmmu_page_gen(const struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	if (!host_pfn_is_ram(h, pfn))
		return 0;
	return __atomic_load_n(&h->pages[pfn].gen, __ATOMIC_ACQUIRE);
}

bool kvmmu_page_is_free(const struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	struct kvmmu_page_info pi;

	if (kvmmu_page_info(h, pfn, &pi))
		return false;
	return pi.flags & KVMMU_PG_FREE;
}

/*
 * Zero a frame that is being freed without pulling it into this CPU's
 * cache: non-temporal stores where the ISA has them.  A freed frame is cold;
 * clearing it through the cache would leave 4 KiB of dirty lines in the
 * freeing CPU's cache for whichever CPU allocates the frame next to fetch
 * across the interconnect.
 */
static void host_clear_page_cold(void *page)
{
#if defined(__SSE2__)
	__m128i z = _mm_setzero_si128(), *p = page;
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(*p); i += 4) {
		_mm_stream_si128(p + i, z);
		_mm_stream_si128(p + i + 1, z);
		_mm_stream_si128(p + i + 2, z);
		_mm_stream_si128(p + i + 3, z);
	}
	_mm_sfence(); /* order the streaming stores before the frame is freed */
#else
	memset(page, 0, PAGE_SIZE);
#endif
}

static struct host_free_shard *host_my_shard(struct kvmmu_host *h)
{
	return &h->free[kvmmu_stat_shard() % HOST_FREE_SHARDS];
}

static uint32_t link_next(const struct kvmmu_host *h, uint32_t pfn)
{
	return (uint32_t)h->pages[pfn].index;
}

static uint32_t link_batch(const struct kvmmu_host *h, uint32_t pfn)
{
	return (uint32_t)(h->pages[pfn].index >> 32);
}

static void link_set(struct kvmmu_host *h, uint32_t pfn, uint32_t next,
		     uint32_t batch)
{
	h->pages[pfn].index = (uint64_t)batch << 32 | next;
}

/* Put a free frame on @s; a batch that fills up joins the full ones. */
static void __host_shard_push(struct kvmmu_host *h, struct host_free_shard *s,
			      uint32_t pfn)
{
	lockdep_assert_held(&s->lock);
	link_set(h, pfn, s->partial, HOST_LINK_NONE);
	s->partial = pfn;
	WRITE_ONCE(s->count, s->count + 1);
	if (++s->nr_partial == HOST_FREE_BATCH) {
		link_set(h, pfn, link_next(h, pfn), s->full);
		s->full = pfn;
		s->partial = HOST_LINK_NONE;
		s->nr_partial = 0;
	}
}

/* A free frame of @s (the partial batch, else a full one), or NONE. */
static kvmmu_pfn_t __host_shard_pop_free(struct kvmmu_host *h,
					 struct host_free_shard *s)
{
	uint32_t pfn;

	lockdep_assert_held(&s->lock);
	if (s->partial == HOST_LINK_NONE) {
		if (s->full == HOST_LINK_NONE)
			return HOST_PFN_NONE;
		s->partial = s->full;
		s->full = link_batch(h, s->full);
		s->nr_partial = HOST_FREE_BATCH;
	}
	pfn = s->partial;
	s->partial = link_next(h, pfn);
	s->nr_partial--;
	WRITE_ONCE(s->count, s->count - 1);
	return pfn;
}

/*
 * Take a frame from a shard: its free frames first, then its window of
 * never-used frames, which it refills HOST_BUMP_BATCH at a time from the
 * host-wide bump pointer (one shared cache line per batch, not per frame).
 */
static kvmmu_pfn_t host_shard_pop(struct kvmmu_host *h,
				  struct host_free_shard *s)
{
	kvmmu_pfn_t pfn;

	kvmmu_spin_lock(&s->lock);
	pfn = __host_shard_pop_free(h, s);
	if (pfn == HOST_PFN_NONE) {
		if (s->bump_next == s->bump_end &&
		    READ_ONCE(h->next_unused) < h->nr_frames) {
			kvmmu_pfn_t b = __atomic_fetch_add(&h->next_unused,
							   HOST_BUMP_BATCH,
							   __ATOMIC_RELAXED);

			if (b < h->nr_frames) {
				kvmmu_pfn_t p;

				s->bump_next = b;
				s->bump_end =
					min(b + HOST_BUMP_BATCH, h->nr_frames);
				for (p = b; p < s->bump_end; p++)
					__atomic_store_n(&h->pages[p].flags,
							 KVMMU_PG_FREE,
							 __ATOMIC_RELAXED);
			}
		}
		if (s->bump_next < s->bump_end)
			pfn = s->bump_next++;
	}
	kvmmu_spin_unlock(&s->lock);
	return pfn;
}

/*
 * Take a whole batch of free frames from @victim (O(1): a full batch, else
 * its partial one), keep one for the caller and give the rest to @mine.
 * Frames freed by one thread (a teardown, an munmap on the VMM thread)
 * would otherwise be handed out one lock round trip at a time to every
 * other thread; moving a batch makes the next allocations local, as the
 * per-CPU page lists refill in bulk.  The two locks are never held together.
 */
static kvmmu_pfn_t host_shard_steal(struct kvmmu_host *h,
				    struct host_free_shard *victim,
				    struct host_free_shard *mine)
{
	uint32_t first = HOST_LINK_NONE, rest, n = 0;

	if (!READ_ONCE(victim->count))
		return HOST_PFN_NONE;
	kvmmu_spin_lock(&victim->lock);
	if (victim->full != HOST_LINK_NONE) {
		first = victim->full;
		victim->full = link_batch(h, first);
		n = HOST_FREE_BATCH;
	} else if (victim->partial != HOST_LINK_NONE) {
		first = victim->partial;
		n = victim->nr_partial;
		victim->partial = HOST_LINK_NONE;
		victim->nr_partial = 0;
	}
	WRITE_ONCE(victim->count, victim->count - n);
	kvmmu_spin_unlock(&victim->lock);
	if (first == HOST_LINK_NONE)
		return HOST_PFN_NONE;

	rest = link_next(h, first);
	if (--n) {
		kvmmu_spin_lock(&mine->lock);
		if (mine->partial == HOST_LINK_NONE) {
			mine->partial = rest;
			mine->nr_partial = n;
			WRITE_ONCE(mine->count, mine->count + n);
		} else {
			/* Someone freed to @mine meanwhile: merge by hand. */
			while (rest != HOST_LINK_NONE) {
				uint32_t next = link_next(h, rest);

				__host_shard_push(h, mine, rest);
				rest = next;
			}
		}
		kvmmu_spin_unlock(&mine->lock);
	}
	return first;
}

kvmmu_pfn_t host_alloc_page(struct kvmmu_host *h, uint32_t flags, bool zero)
{
	struct host_free_shard *mine = host_my_shard(h);
	struct host_page *p;
	kvmmu_pfn_t pfn;
	int i;

	pfn = host_shard_pop(h, mine);
	for (i = 0; pfn == HOST_PFN_NONE && i < HOST_FREE_SHARDS; i++)
		if (&h->free[i] != mine)
			pfn = host_shard_steal(h, &h->free[i], mine);
	/* Last resort: a bump window another shard still holds. */
	for (i = 0; pfn == HOST_PFN_NONE && i < HOST_FREE_SHARDS; i++)
		pfn = host_shard_pop(h, &h->free[i]);
	if (pfn == HOST_PFN_NONE)
		return HOST_PFN_NONE;

	p = &h->pages[pfn];
	p->mapping = NULL;
	p->index = 0;
	__atomic_store_n(&p->mapcount, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->flags, flags, __ATOMIC_RELAXED);
	/* With init_on_free every free (and never-used) frame is zero. */
	if (zero && !h->cfg.init_on_free)
		memset(host_pfn_virt(h, pfn), 0, PAGE_SIZE);
	/* Publish the frame: a speculative get (GUP-fast) sees 0 until now. */
	__atomic_store_n(&p->refcount, 1, __ATOMIC_RELEASE);
	host_stat_inc(h, HS_PGALLOC);
	if (flags & KVMMU_PG_ANON)
		host_stat_inc(h, HS_NR_ANON);
	else if (flags & KVMMU_PG_PAGECACHE)
		host_stat_inc(h, HS_NR_SHMEM);
	return pfn;
}

static void host_free_page(struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	struct host_page *p = &h->pages[pfn];
	struct host_free_shard *s = host_my_shard(h);
	uint32_t flags = __atomic_load_n(&p->flags, __ATOMIC_RELAXED);

	WARN_ON_ONCE(__atomic_load_n(&p->mapcount, __ATOMIC_RELAXED) != 0);
	if (flags & KVMMU_PG_ANON)
		kvmmu_stats_dec(&h->stats, HS_NR_ANON);
	else if (flags & KVMMU_PG_PAGECACHE)
		kvmmu_stats_dec(&h->stats, HS_NR_SHMEM);
	if (h->cfg.init_on_free)
		host_clear_page_cold(host_pfn_virt(h, pfn));
	else if (!h->cfg.no_poison)
		memset(host_pfn_virt(h, pfn), HOST_POISON, PAGE_SIZE);
	p->mapping = NULL;
	__atomic_store_n(&p->flags, KVMMU_PG_FREE, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->gen, 1, __ATOMIC_RELEASE);
	host_stat_inc(h, HS_PGFREE);

	kvmmu_spin_lock(&s->lock);
	__host_shard_push(h, s, (uint32_t)pfn);
	kvmmu_spin_unlock(&s->lock);
}

void kvmmu_get_page(struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	if (!host_pfn_counted(h, pfn))
		return;
	WARN_ON_ONCE(__atomic_fetch_add(&h->pages[pfn].refcount, 1,
					__ATOMIC_RELAXED) <= 0);
}

bool host_try_get_page(struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	int c;

	if (!host_pfn_counted(h, pfn))
		return true;
	c = __atomic_load_n(&h->pages[pfn].refcount, __ATOMIC_RELAXED);
	do {
		if (c <= 0)
			return false;
	} while (!__atomic_compare_exchange_n(&h->pages[pfn].refcount, &c,
					      c + 1, false, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return true;
}

void kvmmu_put_page(struct kvmmu_host *h, kvmmu_pfn_t pfn)
{
	int c;

	if (!host_pfn_counted(h, pfn))
		return;
	c = __atomic_sub_fetch(&h->pages[pfn].refcount, 1, __ATOMIC_ACQ_REL);
	if (c == 0)
		host_free_page(h, pfn);
	else
		WARN_ON_ONCE(c < 0);
}

void host_gather_init(struct host_gather *g)
{
	g->pfns = g->inline_pfns;
	g->nr = 0;
	g->cap = ARRAY_SIZE(g->inline_pfns);
}

void host_gather_add(struct host_gather *g, kvmmu_pfn_t pfn)
{
	if (g->nr == g->cap) {
		size_t cap = g->cap * 2;
		kvmmu_pfn_t *n = malloc(cap * sizeof(*n));

		BUG_ON(!n);
		memcpy(n, g->pfns, g->nr * sizeof(*n));
		if (g->pfns != g->inline_pfns)
			free(g->pfns);
		g->pfns = n;
		g->cap = cap;
	}
	g->pfns[g->nr++] = pfn;
}

void host_gather_flush(struct kvmmu_host *h, struct host_gather *g)
{
	size_t i;

	for (i = 0; i < g->nr; i++)
		kvmmu_put_page(h, g->pfns[i]);
	if (g->pfns != g->inline_pfns)
		free(g->pfns);
	host_gather_init(g);
}

int kvmmu_host_audit(struct kvmmu_host *h, struct kvmmu_host_audit *out)
{
	uint64_t pfn, used = READ_ONCE(h->next_unused);
	struct kvmmu_host_audit a = { 0 };
	int i;

	a.frames = h->nr_frames - 1;
	if (used > h->nr_frames)
		used = h->nr_frames;
	a.free = h->nr_frames - used;
	for (i = 0; i < HOST_FREE_SHARDS; i++)
		a.free += h->free[i].count +
			  (h->free[i].bump_end - h->free[i].bump_next);
	for (pfn = 1; pfn < used; pfn++) {
		struct host_page *p = &h->pages[pfn];

		int rc = __atomic_load_n(&p->refcount, __ATOMIC_RELAXED);
		int mc = __atomic_load_n(&p->mapcount, __ATOMIC_RELAXED);
		uint32_t fl = __atomic_load_n(&p->flags, __ATOMIC_RELAXED);
		bool bad = rc < 0 || mc < 0 || mc > rc;

		if (fl & KVMMU_PG_FREE)
			bad |= rc != 0 || mc != 0;
		else
			bad |= rc == 0;
		if (rc > 0) {
			a.in_use++;
			a.anon += !!(fl & KVMMU_PG_ANON);
			a.pagecache += !!(fl & KVMMU_PG_PAGECACHE);
		}
		if (bad) {
			if (a.bad < 8)
				pr_err("audit: pfn %#lx refcount %d mapcount "
				       "%d flags %#x\n",
				       (unsigned long)pfn, rc, mc, fl);
			a.bad++;
		}
	}
	if (a.in_use + a.free != a.frames) {
		pr_err("audit: %lu in use + %lu free != %lu frames\n",
		       (unsigned long)a.in_use, (unsigned long)a.free,
		       (unsigned long)a.frames);
		a.bad++;
	}
	a.mms = atomic_read(&h->nr_mms);
	a.files = atomic_read(&h->nr_files);
	if (out)
		*out = a;
	return a.bad ? -EUCLEAN : 0;
}
