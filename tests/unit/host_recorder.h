/* SPDX-License-Identifier: MIT */
/*
 * A recording MMU-notifier subscriber for the host-layer tests.
 *
 * struct hc_sub logs every start/end/release, checks on the spot that each
 * start carries KVMMU_MMU_NOTIFIER_RANGE_BLOCKABLE and the subscribed mm and
 * that every end matches the most recent open start, and checks the
 * start/end-time contract for "watched" pages: at start the old PTE still
 * maps the old frame and the frame is referenced; at end the PTE has
 * changed and the frame has not been freed yet.  Young ops answer from a
 * per-page mask.  HC_EXPECT() compares the log with an exact sequence.
 * Single-threaded sequences only (the nesting check assumes one caller).
 */
#ifndef KVMMU_TESTS_HOST_RECORDER_H
#define KVMMU_TESTS_HOST_RECORDER_H

#include <pthread.h>
#include <kvmmu/host.h>
#include "harness.h"

#define HC_MAX_EV    256
#define HC_MAX_WATCH 8
#define HC_MAX_YOUNG 64

enum hc_kind {
	HC_START,
	HC_END,
	HC_RELEASE,
};

struct hc_ev {
	enum hc_kind kind;
	enum kvmmu_mmu_notifier_event event;
	hva_t start, end;
	unsigned int flags;
	struct kvmmu_mm *mm;
};

struct hc_watch {
	hva_t hva;
	kvmmu_pfn_t pfn;
	bool check_ref; /* frame must be referenced at start (not zero page) */
	bool armed, started, ended;
	uint32_t gen;
	struct kvmmu_pte_info at_start;
};

struct hc_sub {
	struct kvmmu_mmu_notifier mn;
	struct kvmmu_host *host;
	struct kvmmu_mm *mm;
	bool registered;
	pthread_mutex_t lock;
	struct hc_ev ev[HC_MAX_EV];
	unsigned int nev, overflow;
	struct hc_ev open[8];
	int depth;
	unsigned int nstart, nend, nrelease, bad;
	struct hc_watch watch[HC_MAX_WATCH];
	unsigned int nwatch;
	/* young: pages [ybase, ybase + HC_MAX_YOUNG pages) */
	hva_t ybase;
	uint64_t young; /* the subscriber's own young bits */
	unsigned int ycalls[3][HC_MAX_YOUNG]; /* per kvmmu_age_op */
	unsigned int ybad;
};

static inline const char *hc_kind_name(enum hc_kind k)
{
	return k == HC_START ? "start" : k == HC_END ? "end" : "release";
}

static inline void hc_dump(struct hc_sub *s)
{
	unsigned int i;

	printf("# event log (%u entries%s):\n", s->nev,
	       s->overflow ? ", overflowed" : "");
	for (i = 0; i < s->nev; i++) {
		struct hc_ev *e = &s->ev[i];

		if (e->kind == HC_RELEASE) {
			printf("#   [%u] release\n", i);
			continue;
		}
		printf("#   [%u] %-5s %-16s [%#" PRIx64 ", %#" PRIx64
		       ") flags %#x\n",
		       i, hc_kind_name(e->kind),
		       kvmmu_mmu_notifier_event_name(e->event), e->start,
		       e->end, e->flags);
	}
}

static inline void hc_log(struct hc_sub *s, const struct hc_ev *e)
{
	if (s->nev < HC_MAX_EV)
		s->ev[s->nev++] = *e;
	else
		s->overflow++;
}

static inline struct hc_sub *hc_sub_of(struct kvmmu_mmu_notifier *mn)
{
	return container_of(mn, struct hc_sub, mn);
}

#define HC_CB_FAIL(s, fmt, ...)                                   \
	do {                                                      \
		printf("# %s: callback: " fmt "\n", test_current, \
		       ##__VA_ARGS__);                            \
		(s)->bad++;                                       \
		test_failed = 1;                                  \
	} while (0)

static inline void hc_watch_start(struct hc_sub *s,
				  const struct kvmmu_mmu_notifier_range *r)
{
	unsigned int i;

	for (i = 0; i < s->nwatch; i++) {
		struct hc_watch *w = &s->watch[i];
		struct kvmmu_page_info pi;
		struct kvmmu_pte_info pte;
		int ret;

		if (!w->armed || w->started || w->hva < r->start ||
		    w->hva >= r->end)
			continue;
		w->started = true;
		ret = kvmmu_mm_lookup_pte(s->mm, w->hva, &pte);
		if (ret || !pte.present || pte.pfn != w->pfn)
			HC_CB_FAIL(s,
				   "start %s: hva %#" PRIx64 " no longer maps "
				   "pfn %#" PRIx64 " (ret %d present %d pfn "
				   "%#" PRIx64 ")",
				   kvmmu_mmu_notifier_event_name(r->event),
				   w->hva, w->pfn, ret, ret ? 0 : pte.present,
				   ret ? 0 : pte.pfn);
		w->at_start = pte;
		ret = kvmmu_page_info(s->host, w->pfn, &pi);
		if (ret || (pi.flags & KVMMU_PG_FREE) ||
		    (w->check_ref && pi.refcount <= 0))
			HC_CB_FAIL(s,
				   "start %s: frame %#" PRIx64 " not referenced"
				   " (ret %d refcount %d flags %#x)",
				   kvmmu_mmu_notifier_event_name(r->event),
				   w->pfn, ret, pi.refcount, pi.flags);
		w->gen = pi.gen;
	}
}

static inline void hc_watch_end(struct hc_sub *s,
				const struct kvmmu_mmu_notifier_range *r)
{
	unsigned int i;

	for (i = 0; i < s->nwatch; i++) {
		struct hc_watch *w = &s->watch[i];
		struct kvmmu_page_info pi;
		struct kvmmu_pte_info pte;
		bool changed;
		int ret;

		if (!w->armed || !w->started || w->ended || w->hva < r->start ||
		    w->hva >= r->end)
			continue;
		w->ended = true;
		w->armed = false; /* one-shot */
		ret = kvmmu_mm_lookup_pte(s->mm, w->hva, &pte);
		changed = ret || !pte.present || pte.pfn != w->at_start.pfn ||
			  pte.write != w->at_start.write ||
			  pte.protnone != w->at_start.protnone;
		if (!changed)
			HC_CB_FAIL(s,
				   "end %s: PTE of hva %#" PRIx64 " unchanged "
				   "(pfn %#" PRIx64 " write %d)",
				   kvmmu_mmu_notifier_event_name(r->event),
				   w->hva, pte.pfn, pte.write);
		ret = kvmmu_page_info(s->host, w->pfn, &pi);
		if (ret || (pi.flags & KVMMU_PG_FREE) || pi.gen != w->gen)
			HC_CB_FAIL(s,
				   "end %s: frame %#" PRIx64 " freed before "
				   "end (flags %#x gen %u, at start %u)",
				   kvmmu_mmu_notifier_event_name(r->event),
				   w->pfn, pi.flags, pi.gen, w->gen);
	}
}

static inline int hc_cb_start(struct kvmmu_mmu_notifier *mn,
			      const struct kvmmu_mmu_notifier_range *r)
{
	struct hc_sub *s = hc_sub_of(mn);
	struct hc_ev e = {
		HC_START, r->event, r->start, r->end, r->flags, r->mm
	};

	pthread_mutex_lock(&s->lock);
	hc_log(s, &e);
	s->nstart++;
	if (r->flags != KVMMU_MMU_NOTIFIER_RANGE_BLOCKABLE)
		HC_CB_FAIL(s, "start flags %#x, expected BLOCKABLE", r->flags);
	if (r->mm != s->mm)
		HC_CB_FAIL(s, "start range.mm %p, subscribed to %p",
			   (void *)r->mm, (void *)s->mm);
	if (r->start >= r->end || !PAGE_ALIGNED(r->start) ||
	    !PAGE_ALIGNED(r->end))
		HC_CB_FAIL(s, "start: bad range [%#" PRIx64 ", %#" PRIx64 ")",
			   r->start, r->end);
	if (s->nrelease)
		HC_CB_FAIL(s, "start after release");
	if (s->depth < (int)ARRAY_SIZE(s->open))
		s->open[s->depth] = e;
	s->depth++;
	hc_watch_start(s, r);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static inline void hc_cb_end(struct kvmmu_mmu_notifier *mn,
			     const struct kvmmu_mmu_notifier_range *r)
{
	struct hc_sub *s = hc_sub_of(mn);
	struct hc_ev e = { HC_END, r->event, r->start, r->end, r->flags, r->mm };

	pthread_mutex_lock(&s->lock);
	hc_log(s, &e);
	s->nend++;
	if (s->depth <= 0) {
		HC_CB_FAIL(s, "end without start");
	} else {
		struct hc_ev *o = &s->open[--s->depth];

		if (s->depth < (int)ARRAY_SIZE(s->open) &&
		    (o->event != e.event || o->start != e.start ||
		     o->end != e.end || o->flags != e.flags))
			HC_CB_FAIL(s,
				   "end %s [%#" PRIx64 ", %#" PRIx64
				   ") does not match start %s [%#" PRIx64
				   ", %#" PRIx64 ")",
				   kvmmu_mmu_notifier_event_name(e.event),
				   e.start, e.end,
				   kvmmu_mmu_notifier_event_name(o->event),
				   o->start, o->end);
	}
	hc_watch_end(s, r);
	pthread_mutex_unlock(&s->lock);
}

static inline void hc_cb_release(struct kvmmu_mmu_notifier *mn,
				 struct kvmmu_mm *mm)
{
	struct hc_sub *s = hc_sub_of(mn);
	struct hc_ev e = { HC_RELEASE, 0, 0, 0, 0, mm };

	pthread_mutex_lock(&s->lock);
	hc_log(s, &e);
	s->nrelease++;
	if (mm != s->mm)
		HC_CB_FAIL(s, "release of mm %p, subscribed to %p", (void *)mm,
			   (void *)s->mm);
	if (s->depth)
		HC_CB_FAIL(s, "release inside start/end");
	/* release comes before the teardown unmaps anything */
	for (unsigned int i = 0; i < s->nwatch; i++) {
		struct hc_watch *w = &s->watch[i];
		struct kvmmu_pte_info pte;
		struct kvmmu_page_info pi;

		if (!w->armed || w->started)
			continue;
		w->started = w->ended = true;
		w->armed = false;
		if (kvmmu_mm_lookup_pte(mm, w->hva, &pte) || !pte.present ||
		    pte.pfn != w->pfn)
			HC_CB_FAIL(s,
				   "release: hva %#" PRIx64 " already unmapped",
				   w->hva);
		if (kvmmu_page_info(s->host, w->pfn, &pi) ||
		    (pi.flags & KVMMU_PG_FREE) || pi.gen != w->gen)
			HC_CB_FAIL(s,
				   "release: frame %#" PRIx64 " already freed",
				   w->pfn);
	}
	pthread_mutex_unlock(&s->lock);
}

static inline bool hc_young_op(struct hc_sub *s, int op, hva_t start, hva_t end,
			       bool clear)
{
	uint64_t idx;
	bool young;

	pthread_mutex_lock(&s->lock);
	if (end - start != PAGE_SIZE || start < s->ybase ||
	    start >= s->ybase + HC_MAX_YOUNG * PAGE_SIZE) {
		HC_CB_FAIL(s, "young op %d on [%#" PRIx64 ", %#" PRIx64 ")", op,
			   start, end);
		s->ybad++;
		pthread_mutex_unlock(&s->lock);
		return false;
	}
	idx = (start - s->ybase) / PAGE_SIZE;
	s->ycalls[op][idx]++;
	young = s->young & (1ULL << idx);
	if (clear)
		s->young &= ~(1ULL << idx);
	pthread_mutex_unlock(&s->lock);
	return young;
}

static inline bool hc_cb_cfy(struct kvmmu_mmu_notifier *mn, struct kvmmu_mm *mm,
			     hva_t start, hva_t end)
{
	return hc_young_op(hc_sub_of(mn), KVMMU_AGE_CLEAR_FLUSH_YOUNG, start,
			   end, true);
}

static inline bool hc_cb_cy(struct kvmmu_mmu_notifier *mn, struct kvmmu_mm *mm,
			    hva_t start, hva_t end)
{
	return hc_young_op(hc_sub_of(mn), KVMMU_AGE_CLEAR_YOUNG, start, end,
			   true);
}

static inline bool hc_cb_ty(struct kvmmu_mmu_notifier *mn, struct kvmmu_mm *mm,
			    hva_t addr)
{
	return hc_young_op(hc_sub_of(mn), KVMMU_AGE_TEST_YOUNG, addr,
			   addr + PAGE_SIZE, false);
}

static const struct kvmmu_mmu_notifier_ops hc_sub_ops
	__attribute__((unused)) = {
		.release = hc_cb_release,
		.clear_flush_young = hc_cb_cfy,
		.clear_young = hc_cb_cy,
		.test_young = hc_cb_ty,
		.invalidate_range_start = hc_cb_start,
		.invalidate_range_end = hc_cb_end,
	};

static inline void hc_sub_init(struct hc_sub *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->mn.ops = &hc_sub_ops;
}

static inline void hc_reset(struct hc_sub *s)
{
	ASSERT_EQ(s->depth, 0);
	s->nev = 0;
	s->overflow = 0;
	s->nwatch = 0;
}

/* Watch @hva: its current PTE must be present (the frame is remembered). */
static inline struct hc_watch *hc_watch(struct hc_sub *s, hva_t hva)
{
	struct kvmmu_pte_info pte;
	struct kvmmu_page_info pi;
	struct hc_watch *w;

	ASSERT_LT(s->nwatch, HC_MAX_WATCH);
	ASSERT_OK(kvmmu_mm_lookup_pte(s->mm, hva, &pte));
	ASSERT_TRUE(pte.present);
	w = &s->watch[s->nwatch++];
	memset(w, 0, sizeof(*w));
	w->hva = hva;
	w->pfn = pte.pfn;
	w->check_ref = pte.pfn != kvmmu_zero_pfn(s->host);
	w->armed = true;
	ASSERT_OK(kvmmu_page_info(s->host, pte.pfn, &pi));
	w->gen = pi.gen;
	return w;
}

/* The watch fired at start and at end (the contract was checked). */
#define HC_ASSERT_WATCH_FIRED(w)           \
	do {                               \
		ASSERT_TRUE((w)->started); \
		ASSERT_TRUE((w)->ended);   \
	} while (0)

/* After the operation: the watched frame was freed (gen bumped). */
#define HC_ASSERT_FREED(s, w)                                           \
	do {                                                            \
		struct kvmmu_page_info __pi;                            \
		ASSERT_OK(kvmmu_page_info((s)->host, (w)->pfn, &__pi)); \
		EXPECT_TRUE(__pi.flags &KVMMU_PG_FREE);                 \
		EXPECT_NE(__pi.gen, (w)->gen);                          \
		EXPECT_EQ(__pi.refcount, 0);                            \
	} while (0)

/* After the operation: the watched frame is still allocated. */
#define HC_ASSERT_NOT_FREED(s, w)                                       \
	do {                                                            \
		struct kvmmu_page_info __pi;                            \
		ASSERT_OK(kvmmu_page_info((s)->host, (w)->pfn, &__pi)); \
		EXPECT_FALSE(__pi.flags &KVMMU_PG_FREE);                \
		EXPECT_EQ(__pi.gen, (w)->gen);                          \
		EXPECT_GT(__pi.refcount, 0);                            \
	} while (0)

struct hc_exp {
	enum kvmmu_mmu_notifier_event event;
	hva_t start, end;
};

static inline int hc_exp_cmp(const void *a, const void *b)
{
	const struct hc_exp *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return (int)x->event - (int)y->event;
}

/*
 * The log must be exactly start(x0), end(x0), start(x1), end(x1), ...
 * (@sorted: the pairs may come in any order).  Resets the log.
 */
static inline void hc_expect(struct hc_sub *s, const char *file, int line,
			     const struct hc_exp *exp, unsigned int n,
			     bool sorted)
{
	struct hc_exp got[HC_MAX_EV / 2], want[HC_MAX_EV / 2];
	unsigned int i, ng = 0;
	bool ok = !s->overflow && s->depth == 0 && s->nev == 2 * n;

	for (i = 0; ok && i + 1 < s->nev; i += 2) {
		struct hc_ev *a = &s->ev[i], *b = &s->ev[i + 1];

		if (a->kind != HC_START || b->kind != HC_END ||
		    a->event != b->event || a->start != b->start ||
		    a->end != b->end) {
			ok = false;
			break;
		}
		got[ng++] = (struct hc_exp){ a->event, a->start, a->end };
	}
	for (i = 0; i < n && i < ARRAY_SIZE(want); i++)
		want[i] = exp[i];
	if (ok && sorted) {
		qsort(got, ng, sizeof(got[0]), hc_exp_cmp);
		qsort(want, n, sizeof(want[0]), hc_exp_cmp);
	}
	for (i = 0; ok && i < n; i++)
		if (hc_exp_cmp(&got[i], &want[i]) ||
		    got[i].event != want[i].event)
			ok = false;
	if (!ok) {
		printf("# %s:%d: %s: unexpected notifier sequence; expected "
		       "%u start/end pair(s)%s:\n",
		       file, line, test_current, n,
		       sorted ? " (any order)" : "");
		for (i = 0; i < n; i++)
			printf("#   %-16s [%#" PRIx64 ", %#" PRIx64 ")\n",
			       kvmmu_mmu_notifier_event_name(exp[i].event),
			       exp[i].start, exp[i].end);
		hc_dump(s);
		test_failed = 1;
		test_abort();
	}
	s->nev = 0;
	s->overflow = 0;
}

#define HC_EXPECT(s, ...)                                 \
	hc_expect(s, __FILE__, __LINE__,                  \
		  (const struct hc_exp[]){ __VA_ARGS__ }, \
		  ARRAY_SIZE(((const struct hc_exp[]){ __VA_ARGS__ })), false)
#define HC_EXPECT_ANY_ORDER(s, ...)                       \
	hc_expect(s, __FILE__, __LINE__,                  \
		  (const struct hc_exp[]){ __VA_ARGS__ }, \
		  ARRAY_SIZE(((const struct hc_exp[]){ __VA_ARGS__ })), true)
#define HC_EXPECT_NONE(s) hc_expect(s, __FILE__, __LINE__, NULL, 0, false)

#define EV_UNMAP KVMMU_MMU_NOTIFY_UNMAP
#define EV_CLEAR KVMMU_MMU_NOTIFY_CLEAR
#define EV_PVMA	 KVMMU_MMU_NOTIFY_PROTECTION_VMA
#define EV_PPAGE KVMMU_MMU_NOTIFY_PROTECTION_PAGE

#endif /* KVMMU_TESTS_HOST_RECORDER_H */
