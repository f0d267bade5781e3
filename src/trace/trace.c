// SPDX-License-Identifier: MIT
/*
 * The trace recorder and its Chrome trace-event JSON writer.
 *
 * Recording.  Each thread records into its own struct trace_buf: a list of
 * chunks of fixed-size events that only the owner writes.  A thread finds
 * its buffer through a thread-local cache keyed by the trace's id (ids are
 * never reused, so a cache left over from a closed trace never matches);
 * on a miss it takes the trace's mutex, finds or creates its buffer (by a
 * thread id that is unique for the life of the process) and caches it.  The
 * owner publishes each event with a release store of its chunk's count and
 * each new chunk with a release store of the previous chunk's next pointer;
 * kvmmu_trace_close() reads both with acquire, so it sees whole events
 * even from a thread that was never joined.  Buffers and chunks are
 * cache-line aligned, and a thread writes only its own: no line is written
 * by two threads.  A thread that records into two traces in turn takes the
 * slow path at each switch (the cache holds one buffer); a trace shared by
 * several VMs costs nothing more.
 *
 * The mutex is a plain pthread mutex, not a kvmmu lock: tracepoints run
 * under every kvmmu lock, leaves included, and nothing is taken under it;
 * and it is no scheduling point, so tracing does not change the
 * interleavings it records.
 *
 * Writing.  At close the events of every buffer are gathered, sorted by
 * time (then longer spans first, then thread, then the thread's own
 * order), and printed after the metadata events.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trace/hooks.h"

#define TRACE_NR_ARGS	     5
#define CHUNK_FIRST	     256  /* events in a thread's first chunk */
#define CHUNK_MAX	     4096 /* chunks double up to this (256 KiB) */
#define TRACE_FILE_BUF_BYTES (1u << 16)

#ifndef KVMMU_VERSION
#define KVMMU_VERSION "unknown"
#endif

/* One event: one cache line. */
struct trace_ev {
	uint64_t ts;  /* CLOCK_MONOTONIC, ns */
	uint64_t dur; /* X events: ns */
	uint32_t type;
	uint32_t pad;
	uint64_t a[TRACE_NR_ARGS];
};

struct trace_chunk {
	struct trace_chunk *next; /* owner: release; close: acquire */
	uint32_t cap;
	uint32_t n; /* events filled; owner: release; close: acquire */
	char pad[64 - sizeof(void *) - 2 * sizeof(uint32_t)];
	struct trace_ev ev[];
};

struct trace_buf {
	/* the owner's: */
	struct trace_chunk *tail;
	uint64_t n;	  /* events recorded */
	uint64_t dropped; /* atomic: owner stores, anyone loads */
	int vcpu_hint;	  /* atomic: first vCPU id that faulted here, or -1 */
	/* set under the trace's lock: */
	struct trace_chunk *head;
	struct trace_buf *next;
	uint64_t owner; /* the thread's process-unique id */
	unsigned int tid;
	char name[KVMMU_TRACE_NAME_LEN]; /* "" = not named */
};

struct kvmmu_trace {
	/* read by every tracepoint, written only before tracing starts */
	uint64_t id;
	uint64_t t0; /* ns at open */
	uint64_t max_events;
	FILE *f;
	/* written rarely: a thread's first event, attach, detach */
	pthread_mutex_t lock __cacheline_aligned;
	struct trace_buf *bufs; /* newest first */
	unsigned int nr_bufs;
	unsigned long nr_attached; /* atomic */
	uint64_t lost;		   /* atomic: no buffer could be allocated */
};

static uint64_t trace_ids, thread_uids; /* atomic counters */

static __thread uint64_t tls_uid;
static __thread uint64_t tls_trace_id; /* the trace tls_buf belongs to */
static __thread struct trace_buf *tls_buf;
static __thread char tls_name[KVMMU_TRACE_NAME_LEN];

/* --- recording ------------------------------------------------------------ */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *zalloc_aligned(size_t size)
{
	void *p = aligned_alloc(64, ALIGN(size, (size_t)64));

	if (p)
		memset(p, 0, size);
	return p;
}

static struct trace_chunk *chunk_new(uint32_t cap)
{
	struct trace_chunk *c =
		zalloc_aligned(sizeof(*c) + cap * sizeof(struct trace_ev));

	if (c)
		c->cap = cap;
	return c;
}

/*
 * The calling thread's buffer in @t, created at its first event; the name
 * given by kvmmu_trace_thread_name() is applied here.  Return: NULL if out
 * of memory.
 */
static struct trace_buf *buf_slow(struct kvmmu_trace *t)
{
	struct trace_buf *b;

	if (!tls_uid)
		tls_uid = __atomic_add_fetch(&thread_uids, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&t->lock);
	for (b = t->bufs; b; b = b->next)
		if (b->owner == tls_uid)
			break;
	if (!b) {
		b = zalloc_aligned(sizeof(*b));
		if (b)
			b->head = chunk_new(CHUNK_FIRST);
		if (b && b->head) {
			b->tail = b->head;
			b->vcpu_hint = -1;
			b->owner = tls_uid;
			b->tid = ++t->nr_bufs;
			b->next = t->bufs;
			t->bufs = b;
		} else {
			free(b);
			b = NULL;
		}
	}
	if (b && tls_name[0])
		memcpy(b->name, tls_name, sizeof(b->name));
	pthread_mutex_unlock(&t->lock);
	if (b) {
		tls_trace_id = t->id;
		tls_buf = b;
	}
	return b;
}

static __always_inline struct trace_buf *buf_get(struct kvmmu_trace *t)
{
	return likely(tls_trace_id == t->id) ? tls_buf : buf_slow(t);
}

/* Room for one more event in @b, or NULL (counted as dropped). */
static struct trace_ev *ev_slot(struct kvmmu_trace *t, struct trace_buf *b)
{
	struct trace_chunk *c = b->tail, *nc;

	if (b->n >= t->max_events)
		goto drop;
	if (c->n == c->cap) {
		nc = chunk_new(min(c->cap * 2, (uint32_t)CHUNK_MAX));
		if (!nc)
			goto drop;
		/* Publish the chunk after its header is written. */
		__atomic_store_n(&c->next, nc, __ATOMIC_RELEASE);
		b->tail = c = nc;
	}
	return &c->ev[c->n];

drop:
	__atomic_store_n(&b->dropped, b->dropped + 1, __ATOMIC_RELAXED);
	return NULL;
}

/**
 * __kvmmu_trace_event() - see hooks.h.
 */
uint64_t __kvmmu_trace_event(struct kvmmu_trace *t, unsigned int type,
			     uint64_t ts, uint64_t a0, uint64_t a1, uint64_t a2,
			     uint64_t a3, uint64_t a4)
{
	struct trace_buf *b = buf_get(t);
	uint64_t now = now_ns();
	struct trace_ev *e;

	if (unlikely(!b)) {
		__atomic_add_fetch(&t->lost, 1, __ATOMIC_RELAXED);
		return now;
	}
	e = ev_slot(t, b);
	if (!e)
		return now;
	e->type = type;
	if (type == TEV_PAGE_FAULT) {
		e->ts = ts;
		e->dur = now - ts;
	} else {
		e->ts = ts ? ts : now;
		e->dur = 0;
	}
	e->a[0] = a0;
	e->a[1] = a1;
	e->a[2] = a2;
	e->a[3] = a3;
	e->a[4] = a4;
	b->n++;
	/* Publish the event (pairs with the acquire in gather()). */
	__atomic_store_n(&b->tail->n, b->tail->n + 1, __ATOMIC_RELEASE);
	return e->ts;
}

/**
 * __kvmmu_trace_fault_begin() - see hooks.h.
 */
uint64_t __kvmmu_trace_fault_begin(struct kvmmu_trace *t, unsigned int vcpu_id)
{
	struct trace_buf *b = buf_get(t);

	if (b && __atomic_load_n(&b->vcpu_hint, __ATOMIC_RELAXED) < 0)
		__atomic_store_n(&b->vcpu_hint, (int)vcpu_id, __ATOMIC_RELAXED);
	return now_ns();
}

void kvmmu_trace_thread_name(const char *name)
{
	if (!name)
		name = "";
	snprintf(tls_name, sizeof(tls_name), "%s", name);
	/* The next event takes the slow path, which applies the name. */
	tls_trace_id = 0;
	tls_buf = NULL;
}

/* --- lifetime ------------------------------------------------------------- */

int kvmmu_trace_open(const char *path, struct kvmmu_trace **out)
{
	struct kvmmu_trace *t;
	int r;

	if (!path || !out)
		return -EINVAL;
	t = zalloc_aligned(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->f = fopen(path, "w");
	if (!t->f) {
		r = -errno;
		free(t);
		return r;
	}
	setvbuf(t->f, NULL, _IOFBF, TRACE_FILE_BUF_BYTES);
	pthread_mutex_init(&t->lock, NULL);
	t->id = __atomic_add_fetch(&trace_ids, 1, __ATOMIC_RELAXED);
	t->t0 = now_ns();
	t->max_events = KVMMU_TRACE_DEFAULT_MAX_EVENTS;
	*out = t;
	return 0;
}

void kvmmu_trace_set_max_events(struct kvmmu_trace *t, unsigned long n)
{
	t->max_events = n;
}

/**
 * kvmmu_vm_set_trace() - see trace.h.
 * Models: enabling the kvm tracepoints (tracefs events/kvm/enable).
 */
void kvmmu_vm_set_trace(struct kvmmu_vm *vm, struct kvmmu_trace *t)
{
	struct kvmmu_trace *old = __atomic_load_n(&vm->trace, __ATOMIC_RELAXED);

	if (old == t)
		return;
	if (t)
		__atomic_add_fetch(&t->nr_attached, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&vm->trace, t, __ATOMIC_RELEASE);
	if (old)
		__atomic_sub_fetch(&old->nr_attached, 1, __ATOMIC_RELAXED);
}

uint64_t kvmmu_trace_dropped(struct kvmmu_trace *t)
{
	uint64_t n = __atomic_load_n(&t->lost, __ATOMIC_RELAXED);
	struct trace_buf *b;

	pthread_mutex_lock(&t->lock);
	for (b = t->bufs; b; b = b->next)
		n += __atomic_load_n(&b->dropped, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&t->lock);
	return n;
}

/* --- the JSON writer ------------------------------------------------------ */

/*
 * An event's "args": its arguments' names in order, separated by spaces,
 * each followed by how to print it: ":d" a JSON number, ":x" a "0x..."
 * string, ":r" a kvm_page_fault result, ":e" a notifier event's name.
 */
struct ev_desc {
	const char *name, *cat;
	char ph; /* 'X', 'i', 'B', 'E' */
	const char *args;
};

static const struct ev_desc ev_desc[TEV_NR] = {
	[TEV_PAGE_FAULT] = { "kvm_page_fault", "kvm_mmu", 'X',
			     "vcpu_id:d fault_address:x error_code:d "
			     "result:r" },
	[TEV_SET_SPTE] = { "kvm_mmu_set_spte", "kvm_mmu", 'i',
			   "gfn:x spte:x level:d" },
	[TEV_INVALIDATE_RETRY] = { "kvm_mmu_invalidate_retry", "kvm_mmu", 'i',
				   "gfn:x mmu_seq:d locked:d" },
	[TEV_UNMAP_HVA_RANGE] = { "kvm_unmap_hva_range", "kvm", 'i',
				  "start:x end:x" },
	[TEV_MN_INVALIDATE_BEGIN] = { "mmu_notifier_invalidate_range",
				      "mmu_notifier", 'B',
				      "event:e start:x end:x" },
	[TEV_MN_INVALIDATE_END] = { "mmu_notifier_invalidate_range",
				    "mmu_notifier", 'E', "" },
	[TEV_MMU_ZAP] = { "kvm_mmu_zap", "kvm_mmu", 'i',
			  "start_gfn:x end_gfn:x pages:d" },
	[TEV_REMOTE_TLB_FLUSH] = { "kvm_remote_tlb_flush", "kvm", 'i',
				   "vcpus_waited:d" },
	[TEV_SET_USER_MEMORY_REGION] = { "kvm_set_user_memory_region", "kvm",
					 'i',
					 "slot:d flags:d guest_phys_addr:x "
					 "memory_size:x userspace_addr:x" },
};

static const char *const pf_result_name[] = {
	[TRACE_PF_FIXED] = "fixed",   [TRACE_PF_SPURIOUS] = "spurious",
	[TRACE_PF_RETRY] = "retry",   [TRACE_PF_MMIO] = "mmio",
	[TRACE_PF_EFAULT] = "efault",
};

/* A JSON string: quotes, backslashes and control characters escaped. */
static void put_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* Nanoseconds as microseconds with three exact decimals. */
static void put_us(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%03u", ns / 1000, (unsigned int)(ns % 1000));
}

static void put_arg(FILE *f, char fmt, uint64_t v)
{
	switch (fmt) {
	case 'x':
		fprintf(f, "\"0x%" PRIx64 "\"", v);
		break;
	case 'r':
		put_str(f, v < ARRAY_SIZE(pf_result_name) ? pf_result_name[v] :
							    "?");
		break;
	case 'e':
		put_str(f, kvmmu_mmu_notifier_event_name(
				   (enum kvmmu_mmu_notifier_event)v));
		break;
	default:
		fprintf(f, "%" PRIu64, v);
		break;
	}
}

/* "args":{...} from the event's spec (see struct ev_desc). */
static void put_args(FILE *f, const char *spec, const uint64_t *a)
{
	const char *p = spec, *colon;
	int i;

	if (!*spec)
		return;
	fputs(",\"args\":{", f);
	for (i = 0; i < TRACE_NR_ARGS && *p; i++) {
		colon = strchr(p, ':');
		fprintf(f, "%s\"%.*s\":", i ? "," : "", (int)(colon - p), p);
		put_arg(f, colon[1], a[i]);
		p = colon[2] ? colon + 3 : colon + 2;
	}
	fputc('}', f);
}

struct sorted_ev {
	const struct trace_ev *e;
	uint64_t seq; /* the order the thread recorded it in */
	unsigned int tid;
};

static int sorted_ev_cmp(const void *pa, const void *pb)
{
	const struct sorted_ev *a = pa, *b = pb;

	if (a->e->ts != b->e->ts)
		return a->e->ts < b->e->ts ? -1 : 1;
	/* A span before what starts with it (it encloses it). */
	if (a->e->dur != b->e->dur)
		return a->e->dur > b->e->dur ? -1 : 1;
	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * Every published event of every buffer, sorted, into *out (malloc; NULL
 * if there is none) and their count into *nr.  Return: 0 or -ENOMEM.
 * Context: t->lock held.
 */
static int gather(struct kvmmu_trace *t, struct sorted_ev **out, size_t *nr)
{
	const struct trace_chunk *c;
	struct sorted_ev *v;
	struct trace_buf *b;
	size_t n = 0, k = 0, i;

	for (b = t->bufs; b; b = b->next)
		for (c = b->head; c;
		     c = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE))
			n += __atomic_load_n(&c->n, __ATOMIC_ACQUIRE);
	*out = NULL;
	*nr = 0;
	if (!n)
		return 0;
	v = malloc(n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	/* A thread that still records (a caller bug) adds no more than n. */
	for (b = t->bufs; b; b = b->next) {
		uint64_t seq = 0;

		for (c = b->head; c;
		     c = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE)) {
			uint32_t cn = __atomic_load_n(&c->n, __ATOMIC_ACQUIRE);

			for (i = 0; i < cn && k < n; i++, k++) {
				v[k].e = &c->ev[i];
				v[k].seq = seq++;
				v[k].tid = b->tid;
			}
		}
	}
	qsort(v, k, sizeof(*v), sorted_ev_cmp);
	*out = v;
	*nr = k;
	return 0;
}

static void put_event(FILE *f, const struct kvmmu_trace *t,
		      const struct sorted_ev *s)
{
	const struct trace_ev *e = s->e;
	const struct ev_desc *d = &ev_desc[e->type];

	fprintf(f, ",\n{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"%c\",\"ts\":",
		d->name, d->cat, d->ph);
	put_us(f, e->ts > t->t0 ? e->ts - t->t0 : 0);
	if (d->ph == 'X') {
		fputs(",\"dur\":", f);
		put_us(f, e->dur);
	} else if (d->ph == 'i') {
		fputs(",\"s\":\"t\"", f);
	}
	fprintf(f, ",\"pid\":1,\"tid\":%u", s->tid);
	put_args(f, d->args, e->a);
	fputc('}', f);
}

static void put_thread_meta(FILE *f, const struct trace_buf *b)
{
	char name[KVMMU_TRACE_NAME_LEN + 16];
	int hint = __atomic_load_n(&b->vcpu_hint, __ATOMIC_RELAXED);

	if (b->name[0])
		snprintf(name, sizeof(name), "%s", b->name);
	else if (hint >= 0)
		snprintf(name, sizeof(name), "vcpu-%d", hint);
	else
		snprintf(name, sizeof(name), "thread-%u", b->tid);
	fprintf(f,
		",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"ts\":0,"
		"\"pid\":1,\"tid\":%u,\"args\":{\"name\":",
		b->tid);
	put_str(f, name);
	fprintf(f,
		"}},\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"ts\":0,"
		"\"pid\":1,\"tid\":%u,\"args\":{\"sort_index\":%u}}",
		b->tid, b->tid);
}

static void put_file(struct kvmmu_trace *t, const struct sorted_ev *v, size_t n,
		     uint64_t dropped)
{
	const struct trace_buf *b;
	unsigned int tid;
	size_t i;

	fputs("{\"traceEvents\":[\n{\"name\":\"process_name\",\"ph\":\"M\","
	      "\"ts\":0,\"pid\":1,\"tid\":0,\"args\":{\"name\":\"kvmmu\"}}",
	      t->f);
	for (tid = 1; tid <= t->nr_bufs; tid++)
		for (b = t->bufs; b; b = b->next)
			if (b->tid == tid)
				put_thread_meta(t->f, b);
	for (i = 0; i < n; i++)
		put_event(t->f, t, &v[i]);
	fprintf(t->f,
		"\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{"
		"\"generator\":\"kvmmu " KVMMU_VERSION "\","
		"\"clock\":\"CLOCK_MONOTONIC\",\"events\":%zu,"
		"\"dropped_events\":%" PRIu64
		",\"max_events_per_thread\":%" PRIu64 ",\"threads\":%u}}\n",
		n, dropped, t->max_events, t->nr_bufs);
}

/**
 * kvmmu_trace_close() - see trace.h.
 */
int kvmmu_trace_close(struct kvmmu_trace *t)
{
	struct sorted_ev *v;
	struct trace_buf *b;
	uint64_t dropped;
	size_t n;
	int r = 0;

	if (!t)
		return 0;
	/* A caller bug, but one that would leave VMs pointing at freed
	 * memory: refuse, and let the caller detach first. */
	if (__atomic_load_n(&t->nr_attached, __ATOMIC_ACQUIRE))
		return -EBUSY;
	dropped = kvmmu_trace_dropped(t);

	pthread_mutex_lock(&t->lock);
	r = gather(t, &v, &n);
	if (!r) {
		put_file(t, v, n, dropped);
		errno = 0;
		if (fflush(t->f) || ferror(t->f))
			r = errno ? -errno : -EIO;
	}
	free(v);
	while ((b = t->bufs)) {
		struct trace_chunk *c = b->head, *next;

		for (; c; c = next) {
			next = c->next;
			free(c);
		}
		t->bufs = b->next;
		free(b);
	}
	pthread_mutex_unlock(&t->lock);

	if (fclose(t->f) && !r)
		r = -errno;
	pthread_mutex_destroy(&t->lock);
	free(t);
	return r;
}
