// SPDX-License-Identifier: MIT
/*
 * Differential runs: the same scenario on two backends (the model and the
 * real /dev/kvm), every observation compared.
 *
 * Each run records what it observed at each step, in the scenario's own
 * words ("u64=0x2a", "errno=EEXIST", "mmio write addr=0x1000 len=4
 * data=0x1", "efault at gpa 0x3000", "shared=2").  Statistics are not
 * compared: their values legitimately differ (the real shadow MMU
 * prefetches neighbours, so fault counts are not one per page); a stat
 * expectation is still judged on each backend.  The verdict:
 *
 *   1. the first step whose observations differ: FAIL, both shown;
 *   2. else a run that failed: FAIL with its message (and the other
 *      backend's observation of that step, when it has one);
 *   3. else a run that skipped: SKIP with its reason;
 *   4. else PASS, with the number of observations compared.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

struct diff_side {
	const struct kvmmu_backend_ops *ops;
	struct kvmmu_sc_result res;
	struct run_log log;
};

static void diff_msg(struct kvmmu_sc_result *res, const char *fmt, ...)
	__printf(2, 3);

static void diff_msg(struct kvmmu_sc_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
}

/* Index of the first differing observation; n if none among the first n. */
static size_t first_difference(const struct run_log *a, const struct run_log *b,
			       size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a->a[i].line != b->a[i].line ||
		    a->a[i].shown_only != b->a[i].shown_only ||
		    (!a->a[i].shown_only && strcmp(a->a[i].text, b->a[i].text)))
			return i;
	return n;
}

/* What @d observed of the step at @line, near index @i, or a note. */
static const char *seen_at(const struct diff_side *d, size_t i,
			   unsigned int line)
{
	size_t k = min(i + 1, d->log.n);

	while (k-- > 0)
		if (d->log.a[k].line == line)
			return d->log.a[k].text;
	return "(no observation of this step)";
}

static const char *status_name(enum kvmmu_sc_status st)
{
	return st == KVMMU_SC_PASS ? "passed" :
	       st == KVMMU_SC_FAIL ? "failed" :
				     "skipped";
}

static void judge(const struct kvmmu_scenario *sc, struct diff_side *d,
		  struct kvmmu_sc_result *res)
{
	struct diff_side *x = &d[0], *y = &d[1];
	size_t n = min(x->log.n, y->log.n),
	       i = first_difference(&x->log, &y->log, n);
	unsigned int k;

	if (i < n ||
	    (i == n && x->log.n == y->log.n && x->res.status == KVMMU_SC_PASS &&
	     y->res.status == KVMMU_SC_PASS &&
	     (x->log.total != y->log.total || x->log.hash != y->log.hash))) {
		const struct run_obs *o = i < n ? &x->log.a[i] : NULL;

		res->status = KVMMU_SC_FAIL;
		res->line = o ? o->line : 0;
		if (!o) {
			diff_msg(res,
				 "%s: the backends' observations differ after "
				 "the first %d (%lu and %lu in all)",
				 sc->file, RUN_LOG_MAX, x->log.total,
				 y->log.total);
			return;
		}
		diff_msg(res,
			 "%s:%u: `%s`: the backends differ\n"
			 "      %-6s observed %s\n"
			 "      %-6s observed %s",
			 sc->file, o->line, o->step->text, x->ops->name,
			 o->text, y->ops->name,
			 y->log.a[i].line == o->line ? y->log.a[i].text :
						       "(a different step)");
		return;
	}
	for (k = 0; k < 2; k++) {
		struct diff_side *s = &d[k], *other = &d[!k];

		if (s->res.status != KVMMU_SC_FAIL)
			continue;
		res->status = KVMMU_SC_FAIL;
		res->line = s->res.line;
		diff_msg(res, "%s: %s\n      %s (%s) observed %s there",
			 s->ops->name, s->res.msg, other->ops->name,
			 status_name(other->res.status),
			 s->log.n ? seen_at(other, s->log.n - 1, s->res.line) :
				    "(nothing)");
		return;
	}
	for (k = 0; k < 2; k++) {
		if (d[k].res.status != KVMMU_SC_SKIP)
			continue;
		res->status = KVMMU_SC_SKIP;
		res->line = d[k].res.line;
		diff_msg(res, "%s: %s", d[k].ops->name, d[k].res.msg);
		return;
	}
	res->status = KVMMU_SC_PASS;
	res->compared = x->log.total;
}

int run_diff(const struct kvmmu_scenario *sc, const struct kvmmu_sc_options *o,
	     const struct kvmmu_backend_ops *a,
	     const struct kvmmu_backend_ops *b, struct kvmmu_sc_result *res)
{
	struct diff_side d[2] = { { .ops = a }, { .ops = b } };
	unsigned int k;
	int r = 0;

	memset(res, 0, sizeof(*res));
	for (k = 0; k < 2 && !r; k++)
		r = run_scenario_on(sc, o, d[k].ops, &d[k].res, &d[k].log);
	if (r) {
		/* A backend could not be created: its message says why. */
		*res = d[k - 1].res;
	} else {
		judge(sc, d, res);
	}
	res->steps = d[0].res.steps + d[1].res.steps;
	res->seconds = d[0].res.seconds + d[1].res.seconds;
	for (k = 0; k < 2; k++)
		free(d[k].log.a);
	return r;
}
