// SPDX-License-Identifier: MIT
/*
 * The scenario runner: executes a parsed scenario (ast.h) on a backend
 * (include/kvmmu/backend.h) and judges every step against its expectation.
 *
 * The runner keeps only what a VMM would know: the addresses its mmaps
 * returned (labels), its children and files, the memslots it set, and its
 * background vCPU threads.  Everything it judges is observable through the
 * backend: return codes, values, vCPU exits, statistics.  The first step
 * whose expectation does not hold ends the run with FAIL, naming the step,
 * what was expected and what was observed; the first step the backend
 * cannot express ends it with SKIP and the backend's reason.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <kvmmu/backend.h>
#include <kvmmu/scenario.h>
#include <kvmmu/trace.h>
#include <kvmmu/vcpu.h>

#include "run.h"

/* --- names ----------------------------------------------------------------- */

struct run_name *run_names_find(struct run_names *t, const char *name)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->a[i].name, name))
			return &t->a[i];
	return NULL;
}

int run_names_set(struct run_names *t, const char *name, uint64_t v)
{
	struct run_name *e = run_names_find(t, name);

	if (!e) {
		if (t->n == t->cap) {
			unsigned int cap = t->cap ? 2 * t->cap : 16;
			struct run_name *a = realloc(t->a, cap * sizeof(*a));

			if (!a)
				return -ENOMEM;
			t->a = a;
			t->cap = cap;
		}
		e = &t->a[t->n++];
		snprintf(e->name, sizeof(e->name), "%s", name);
	}
	e->v = v;
	return 0;
}

void run_names_del(struct run_names *t, const char *name)
{
	struct run_name *e = run_names_find(t, name);

	if (e)
		*e = t->a[--t->n];
}

/* --- outcome ---------------------------------------------------------------- */

void run_finish(struct run_ctx *c, const struct sc_step *s,
		enum kvmmu_sc_status st, const char *fmt, ...)
{
	struct kvmmu_sc_result *r = c->res;
	int n;
	va_list ap;

	if (r->status != KVMMU_SC_PASS)
		return; /* the first outcome stands */
	r->status = st;
	r->line = s ? s->line : 0;
	if (s)
		n = snprintf(r->msg, sizeof(r->msg),
			     "%s:%u: `%s`: ", c->sc->file, s->line, s->text);
	else
		n = snprintf(r->msg, sizeof(r->msg), "%s: ", c->sc->file);
	if (n < 0 || (size_t)n >= sizeof(r->msg))
		return;
	va_start(ap, fmt);
	vsnprintf(r->msg + n, sizeof(r->msg) - n, fmt, ap);
	va_end(ap);
}

const char *run_errno_str(int err, char *buf, size_t len)
{
	const char *name = sc_errno_name(err);

	if (name)
		snprintf(buf, len, "errno=%s", name);
	else
		snprintf(buf, len, "errno=%d", err);
	return buf;
}

static void observe(struct run_ctx *c, const struct sc_step *s, bool shown_only,
		    const char *fmt, va_list ap)
{
	struct run_log *l = c->log;
	char text[RUN_OBS_TEXT];
	const char *p;

	if (!l)
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	/* FNV-1a over the compared ones: differences past the kept entries
	 * still show. */
	if (!shown_only) {
		l->hash = (l->hash ^ s->line) * 0x100000001b3ull;
		for (p = text; *p; p++)
			l->hash = (l->hash ^ (unsigned char)*p) *
				  0x100000001b3ull;
		l->total++;
	}
	if (l->n == RUN_LOG_MAX)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct run_obs *a = realloc(l->a, cap * sizeof(*a));

		if (!a)
			return; /* the hash still covers it */
		l->a = a;
		l->cap = cap;
	}
	l->a[l->n].line = s->line;
	l->a[l->n].shown_only = shown_only;
	l->a[l->n].step = s;
	memcpy(l->a[l->n].text, text, sizeof(text));
	l->n++;
}

void run_observe(struct run_ctx *c, const struct sc_step *s, const char *fmt,
		 ...)
{
	va_list ap;

	va_start(ap, fmt);
	observe(c, s, false, fmt, ap);
	va_end(ap);
}

void run_observe_shown(struct run_ctx *c, const struct sc_step *s,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	observe(c, s, true, fmt, ap);
	va_end(ap);
}

/* A backend call's return: -EOPNOTSUPP is a SKIP.  Return: true to go on. */
bool run_backend_ok(struct run_ctx *c, const struct sc_step *s, int r,
		    const char *what)
{
	char e[32];

	if (r >= 0)
		return true;
	if (r == -EOPNOTSUPP)
		run_finish(c, s, KVMMU_SC_SKIP, "%s backend cannot %s: %s",
			   c->ops->name, what,
			   c->be->skip_reason[0] ? c->be->skip_reason :
						   "not supported");
	else
		run_finish(c, s, KVMMU_SC_FAIL, "%s failed: %s", what,
			   run_errno_str(-r, e, sizeof(e)));
	return false;
}

/* Judge a system call's result against expect ok / expect errno=E. */
bool run_judge_ret(struct run_ctx *c, const struct sc_step *s, int r)
{
	char e1[32], e2[32];

	if (r == -EOPNOTSUPP && s->expect.kind != SC_EXP_ERRNO)
		return run_backend_ok(c, s, r, "do this");
	run_observe(c, s, "%s",
		    r >= 0 ? "ok" : run_errno_str(-r, e1, sizeof(e1)));
	if (s->expect.kind == SC_EXP_ERRNO) {
		if (r == -s->expect.err)
			return true;
		run_finish(c, s, KVMMU_SC_FAIL, "expected %s, observed %s",
			   run_errno_str(s->expect.err, e1, sizeof(e1)),
			   r < 0 ? run_errno_str(-r, e2, sizeof(e2)) :
				   "success");
		return false;
	}
	if (r >= 0)
		return true;
	run_finish(c, s, KVMMU_SC_FAIL, "expected success, observed %s",
		   run_errno_str(-r, e1, sizeof(e1)));
	return false;
}

/* --- addresses and handles --------------------------------------------------- */

bool run_resolve(struct run_ctx *c, const struct sc_step *s,
		 const struct sc_addr *a, uint64_t *out)
{
	struct run_name *l;

	if (!a->label) {
		*out = a->off;
		return true;
	}
	l = run_names_find(&c->labels, a->label);
	if (!l) {
		/* The parser makes this impossible; say so if it happens. */
		run_finish(c, s, KVMMU_SC_FAIL, "label '%s' has no address",
			   a->label);
		return false;
	}
	*out = l->v + a->off;
	return true;
}

bool run_proc_of(struct run_ctx *c, const struct sc_step *s, int *out)
{
	struct run_name *p;

	if (!s->mm || !strcmp(s->mm, "vmm")) {
		*out = 0;
		return true;
	}
	p = run_names_find(&c->procs, s->mm);
	if (!p) {
		run_finish(c, s, KVMMU_SC_FAIL, "process '%s' does not exist",
			   s->mm);
		return false;
	}
	*out = (int)p->v;
	return true;
}

bool run_file_of(struct run_ctx *c, const struct sc_step *s, const char *name,
		 int *out)
{
	struct run_name *f = run_names_find(&c->files, name);

	if (!f) {
		run_finish(c, s, KVMMU_SC_FAIL, "file '%s' does not exist",
			   name);
		return false;
	}
	*out = (int)f->v;
	return true;
}

/* --- statistics --------------------------------------------------------------- */

static void base_add(void *arg, const char *name, uint64_t v)
{
	run_names_set(arg, name, v);
}

static bool stat_mark(struct run_ctx *c)
{
	c->base.n = 0;
	if (c->ops->stat_foreach)
		c->ops->stat_foreach(c->be, base_add, &c->base);
	return true;
}

static bool cmp_op(enum sc_op op, uint64_t a, uint64_t b)
{
	switch (op) {
	case SC_OP_EQ:
		return a == b;
	case SC_OP_NE:
		return a != b;
	case SC_OP_LT:
		return a < b;
	case SC_OP_LE:
		return a <= b;
	case SC_OP_GT:
		return a > b;
	case SC_OP_GE:
		return a >= b;
	}
	return false;
}

static const char *op_str(enum sc_op op)
{
	static const char *const s[] = { "==", "!=", "<", "<=", ">", ">=" };

	return s[op];
}

static bool do_stat(struct run_ctx *c, const struct sc_step *s)
{
	struct run_name *b;
	uint64_t v = 0, x;
	int r;

	if (!c->ops->stat)
		return run_backend_ok(c, s, -EOPNOTSUPP, "read statistics");
	r = c->ops->stat(c->be, s->stat.name, &v);
	if (r == -ENOENT) {
		run_finish(c, s, KVMMU_SC_FAIL,
			   "the %s backend has no statistic '%s'", c->ops->name,
			   s->stat.name);
		return false;
	}
	if (!run_backend_ok(c, s, r, "read statistics"))
		return false;
	x = v;
	if (s->stat.changed) {
		b = run_names_find(&c->base, s->stat.name);
		x = v - (b ? b->v : 0);
	}
	run_observe_shown(c, s, "%s %s %llu", s->stat.name,
			  s->stat.changed ? "changed by" : "=",
			  (unsigned long long)x);
	if (cmp_op(s->stat.op, x, s->stat.value))
		return true;
	run_finish(c, s, KVMMU_SC_FAIL,
		   "expected %s %s %s %llu, observed %llu (now %llu)",
		   s->stat.name, s->stat.changed ? "changed" : "value",
		   op_str(s->stat.op), (unsigned long long)s->stat.value,
		   (unsigned long long)x, (unsigned long long)v);
	return false;
}

static bool do_check(struct run_ctx *c, const struct sc_step *s)
{
	char msg[256] = "";
	int r;

	if (!c->ops->check)
		return run_backend_ok(c, s, -EOPNOTSUPP, "run the checker");
	r = c->ops->check(c->be, msg, sizeof(msg));
	if (!run_backend_ok(c, s, r, "run the checker"))
		return false;
	if (!r)
		return true;
	run_finish(c, s, KVMMU_SC_FAIL,
		   "expected no checker finding, observed %d, the first: %s", r,
		   msg);
	return false;
}

/* --- the step loop ------------------------------------------------------------ */

static bool run_block(struct run_ctx *c, const struct sc_block *b);

static bool run_step_kind(struct run_ctx *c, const struct sc_step *s);

/*
 * A step marked "deviation REASON": the kernel is known to differ from the
 * model here.  Its expectation states the model's behaviour, so it is
 * judged on the reference backend (ops->reference: the model) only; on
 * another backend a failed expectation is forgiven (a SKIP is not).  A differential run compares only the reason.
 */
static bool run_deviation(struct run_ctx *c, const struct sc_step *s)
{
	struct run_log *log = c->log;
	struct kvmmu_sc_result *res = c->res;
	bool ok;

	c->log = NULL;
	ok = run_step_kind(c, s);
	c->log = log;
	if (!ok && res->status == KVMMU_SC_FAIL && !c->ops->reference) {
		res->status = KVMMU_SC_PASS;
		res->line = 0;
		res->msg[0] = 0;
		ok = true;
	}
	run_observe(c, s, "a known deviation (%s)", s->deviation);
	return ok;
}

static bool run_step(struct run_ctx *c, const struct sc_step *s)
{
	/* Read by a progress thread (kvmmu run): relaxed atomic. */
	__atomic_fetch_add(&c->res->steps, 1, __ATOMIC_RELAXED);
	if (s->deviation)
		return run_deviation(c, s);
	return run_step_kind(c, s);
}

static bool run_step_kind(struct run_ctx *c, const struct sc_step *s)
{
	uint64_t i;

	switch (s->kind) {
	case SC_VM:
		return true; /* applied at creation */
	case SC_HOST_MMAP:
	case SC_HOST_MUNMAP:
	case SC_HOST_MPROTECT:
	case SC_HOST_MREMAP:
	case SC_HOST_MADVISE:
	case SC_HOST_KSM:
	case SC_HOST_FORK:
	case SC_HOST_EXIT:
	case SC_HOST_MEMFD:
	case SC_HOST_FTRUNCATE:
	case SC_HOST_PUNCH:
	case SC_HOST_WRITE:
	case SC_HOST_READ:
	case SC_HOST_FILL:
	case SC_HOST_VERIFY:
		return run_host(c, s);
	case SC_SLOT:
		return run_slot(c, s);
	case SC_VCPU_READ:
	case SC_VCPU_WRITE:
	case SC_VCPU_FILL:
	case SC_VCPU_VERIFY:
	case SC_VCPU_RESUME:
		return run_vcpu(c, s);
	case SC_SPAWN:
		return run_spawn(c, s);
	case SC_JOIN:
		return run_join(c, s);
	case SC_CHECK:
		return do_check(c, s);
	case SC_STAT:
		return do_stat(c, s);
	case SC_STAT_MARK:
		return stat_mark(c);
	case SC_REPEAT:
		for (i = 0; i < s->repeat.count; i++)
			if (!run_block(c, &s->repeat.body))
				return false;
		return true;
	case SC_NR_KINDS:
		break;
	}
	run_finish(c, s, KVMMU_SC_FAIL, "unknown step kind %d", s->kind);
	return false;
}

static bool run_block(struct run_ctx *c, const struct sc_block *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++)
		if (!run_step(c, &b->steps[i]))
			return false;
	return true;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int run_scenario_on(const struct kvmmu_scenario *sc,
		    const struct kvmmu_sc_options *o,
		    const struct kvmmu_backend_ops *ops,
		    struct kvmmu_sc_result *res, struct run_log *log)
{
	struct kvmmu_be_config cfg = {
		.arch = sc->vm.vm.arch,
		.nr_vcpus = sc->vm.vm.vcpus,
		.check = sc->vm.vm.check,
	};
	struct run_ctx c = { .sc = sc, .res = res, .ops = ops, .log = log };
	const char *why;
	double t0 = now_s();
	int r;

	memset(res, 0, sizeof(*res));
	why = c.ops->unavailable ? c.ops->unavailable() : NULL;
	if (why) {
		run_finish(&c, NULL, KVMMU_SC_SKIP,
			   "%s backend unavailable: %s", c.ops->name, why);
		return 0;
	}
	c.be = NULL;
	r = c.ops->create(&cfg, &c.be);
	if (r == -EOPNOTSUPP) {
		/* This VM (arch, vCPUs) cannot be made here: a SKIP. */
		run_finish(&c, NULL, KVMMU_SC_SKIP,
			   "the %s backend cannot create this VM: %s",
			   c.ops->name,
			   c.be && c.be->skip_reason[0] ? c.be->skip_reason :
							  "not supported");
		if (c.be)
			c.ops->destroy(c.be);
		res->seconds = now_s() - t0;
		return 0;
	}
	if (r) {
		snprintf(res->msg, sizeof(res->msg),
			 "%s: cannot create the %s backend: %s", sc->file,
			 c.ops->name, strerror(-r));
		res->status = KVMMU_SC_FAIL;
		return r;
	}
	if (o->trace && c.ops->set_trace) {
		kvmmu_trace_thread_name("vmm");
		c.ops->set_trace(c.be, o->trace);
	}
	c.slots = calloc(RUN_MAX_SLOTS, sizeof(*c.slots));
	if (!c.slots) {
		run_finish(&c, NULL, KVMMU_SC_FAIL, "out of memory");
	} else {
		stat_mark(&c);
		if (run_block(&c, &sc->top) && o->implicit_check &&
		    c.ops->check) {
			char msg[256] = "";

			r = c.ops->check(c.be, msg, sizeof(msg));
			if (r > 0)
				run_finish(&c, NULL, KVMMU_SC_FAIL,
					   "after the last step: expected no "
					   "checker finding, observed %d, the "
					   "first: %s",
					   r, msg);
		}
	}
	run_spawns_stop(&c);
	if (o->stat_fn && c.ops->stat_foreach)
		c.ops->stat_foreach(c.be, o->stat_fn, o->stat_arg);
	if (o->trace && c.ops->set_trace)
		c.ops->set_trace(c.be, NULL);
	c.ops->destroy(c.be);
	free(c.slots);
	free(c.labels.a);
	free(c.procs.a);
	free(c.files.a);
	free(c.base.a);
	res->seconds = now_s() - t0;
	return 0;
}

int kvmmu_scenario_run(const struct kvmmu_scenario *sc,
		       const struct kvmmu_sc_options *opts,
		       struct kvmmu_sc_result *res)
{
	static const struct kvmmu_sc_options defaults = {
		.implicit_check = true,
	};
	const struct kvmmu_sc_options *o = opts ? opts : &defaults;
	const struct kvmmu_backend_ops *ops =
		o->backend ? o->backend : kvmmu_backend_find("model");

	if (o->compare)
		return run_diff(sc, o, ops, o->compare, res);
	return run_scenario_on(sc, o, ops, res, NULL);
}
