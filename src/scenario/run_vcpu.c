// SPDX-License-Identifier: MIT
/*
 * Runner: vCPU steps (one guest access, judged by the exit it ends with)
 * and background vCPU programs (spawn / join).
 *
 * A foreground step loads a one-operation program and runs it, as a VMM
 * runs KVM_RUN: an MMIO read exit is completed with the scenario's reply
 * (or 0) and run again, an MMIO write exit is run again, an EFAULT exit
 * leaves the vCPU on the access for a later `resume`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmmu/trace.h>

#include "run.h"

static uint64_t width_mask(unsigned int width)
{
	return width >= 8 ? ~0ull : (1ull << (8 * width)) - 1;
}

/* What happened, in the words of the expectation language. */
static const char *describe(const struct kvmmu_be_exit *e, unsigned int width,
			    char *buf, size_t len)
{
	switch (e->reason) {
	case KVMMU_BE_EXIT_DONE:
		if (width)
			snprintf(buf, len, "u%u=%#llx", 8 * width,
				 (unsigned long long)(e->value &
						      width_mask(width)));
		else
			snprintf(buf, len, "ok (the access completed)");
		break;
	case KVMMU_BE_EXIT_MMIO:
		snprintf(buf, len, "mmio %s addr=%#llx len=%u%s",
			 e->mmio.is_write ? "write" : "read",
			 (unsigned long long)e->mmio.addr, e->mmio.len, "");
		if (e->mmio.is_write) {
			size_t n = strlen(buf);

			snprintf(buf + n, len - n, " data=%#llx",
				 (unsigned long long)(e->mmio.data &
						      width_mask(e->mmio.len)));
		}
		break;
	case KVMMU_BE_EXIT_EFAULT:
		snprintf(buf, len, "efault at gpa %#llx",
			 (unsigned long long)e->efault_gpa);
		break;
	case KVMMU_BE_EXIT_VERIFY:
		snprintf(buf, len,
			 "verify failure at gpa %#llx: expected %#llx, found "
			 "%#llx",
			 (unsigned long long)e->verify.gpa,
			 (unsigned long long)e->verify.expected,
			 (unsigned long long)e->verify.found);
		break;
	case KVMMU_BE_EXIT_INTERNAL:
		snprintf(buf, len, "an internal error (%s)", e->detail);
		break;
	}
	return buf;
}

/* The kind of an exit, without its timing-dependent details. */
static const char *exit_kind(const struct kvmmu_be_exit *e)
{
	switch (e->reason) {
	case KVMMU_BE_EXIT_DONE:
		return "ok (the program completed)";
	case KVMMU_BE_EXIT_MMIO:
		return e->mmio.is_write ? "an mmio write" : "an mmio read";
	case KVMMU_BE_EXIT_EFAULT:
		return "efault";
	case KVMMU_BE_EXIT_VERIFY:
		return "a verify failure";
	case KVMMU_BE_EXIT_INTERNAL:
		break;
	}
	return "an internal error";
}

static const char *expected_str(const struct sc_expect *x, char *buf,
				size_t len)
{
	size_t n;

	switch (x->kind) {
	case SC_EXP_OK:
		return "ok (the access completes)";
	case SC_EXP_VALUE:
		snprintf(buf, len, "u%u=%#llx", 8 * x->width,
			 (unsigned long long)x->value);
		return buf;
	case SC_EXP_MMIO:
		n = (size_t)snprintf(buf, len, "mmio");
		if (x->has_addr && n < len)
			n += (size_t)snprintf(buf + n, len - n, " addr=%#llx",
					      (unsigned long long)x->addr);
		if (x->has_len && n < len)
			n += (size_t)snprintf(buf + n, len - n, " len=%u",
					      x->len);
		if (x->has_data && n < len)
			snprintf(buf + n, len - n, " data=%#llx",
				 (unsigned long long)x->data);
		return buf;
	case SC_EXP_EFAULT:
		return "efault";
	case SC_EXP_VERIFY:
		return "verify (a wrong word)";
	case SC_EXP_ERRNO:
	case SC_EXP_SHARED:
		break;
	}
	return "?";
}

static bool mismatch(struct run_ctx *c, const struct sc_step *s,
		     const struct kvmmu_be_exit *e, unsigned int width)
{
	char want[128], got[200];

	run_finish(c, s, KVMMU_SC_FAIL, "expected %s, observed %s",
		   expected_str(&s->expect, want, sizeof(want)),
		   describe(e, width, got, sizeof(got)));
	return false;
}

static bool vrun(struct run_ctx *c, const struct sc_step *s, unsigned int vcpu,
		 struct kvmmu_be_exit *e)
{
	return run_backend_ok(c, s, c->ops->vcpu_run(c->be, vcpu, e),
			      "run the vCPU");
}

/* Judge the exit @e of a foreground access of @width bytes (0: none). */
static bool judge_exit(struct run_ctx *c, const struct sc_step *s,
		       unsigned int vcpu, struct kvmmu_be_exit *e,
		       unsigned int width)
{
	const struct sc_expect *x = &s->expect;
	char seen[200];
	uint64_t reply;

	run_observe(c, s, "%s", describe(e, width, seen, sizeof(seen)));
	switch (x->kind) {
	case SC_EXP_OK:
		return e->reason == KVMMU_BE_EXIT_DONE || mismatch(c, s, e, 0);
	case SC_EXP_VALUE:
		if (e->reason == KVMMU_BE_EXIT_DONE &&
		    (e->value & width_mask(x->width)) == x->value)
			return true;
		return mismatch(c, s, e, x->width);
	case SC_EXP_EFAULT:
		return e->reason == KVMMU_BE_EXIT_EFAULT ||
		       mismatch(c, s, e, width);
	case SC_EXP_VERIFY:
		return e->reason == KVMMU_BE_EXIT_VERIFY ||
		       mismatch(c, s, e, width);
	case SC_EXP_MMIO:
		break;
	case SC_EXP_ERRNO:
	case SC_EXP_SHARED:
		run_finish(c, s, KVMMU_SC_FAIL,
			   "this expectation does not apply to a vCPU access");
		return false;
	}
	if (e->reason != KVMMU_BE_EXIT_MMIO ||
	    (x->has_addr && e->mmio.addr != x->addr) ||
	    (x->has_len && e->mmio.len != x->len) ||
	    (x->has_data &&
	     (!e->mmio.is_write ||
	      (e->mmio.data & width_mask(e->mmio.len)) != x->data)))
		return mismatch(c, s, e, width);
	/* Complete the access as the VMM would, and run to the end. */
	reply = x->has_reply ? x->reply : 0;
	if (!e->mmio.is_write &&
	    !run_backend_ok(c, s, c->ops->vcpu_mmio_reply(c->be, vcpu, reply),
			    "complete the MMIO read"))
		return false;
	if (!vrun(c, s, vcpu, e))
		return false;
	run_observe(c, s, "then %s", describe(e, width, seen, sizeof(seen)));
	if (e->reason != KVMMU_BE_EXIT_DONE) {
		char got[200];

		run_finish(c, s, KVMMU_SC_FAIL,
			   "expected the access to complete after the MMIO "
			   "exit, observed %s",
			   describe(e, 0, got, sizeof(got)));
		return false;
	}
	if (!e->mmio.is_write && width &&
	    (e->value & width_mask(width)) != (reply & width_mask(width))) {
		run_finish(c, s, KVMMU_SC_FAIL,
			   "expected the MMIO read to return the reply %#llx, "
			   "observed %#llx",
			   (unsigned long long)(reply & width_mask(width)),
			   (unsigned long long)(e->value & width_mask(width)));
		return false;
	}
	return true;
}

static void to_op(const struct sc_step *s, struct kvmmu_be_op *op)
{
	static const enum kvmmu_be_op_kind kind[] = {
		[SC_VCPU_READ] = KVMMU_BE_READ,
		[SC_VCPU_WRITE] = KVMMU_BE_WRITE,
		[SC_VCPU_FILL] = KVMMU_BE_FILL,
		[SC_VCPU_VERIFY] = KVMMU_BE_VERIFY,
	};

	*op = (struct kvmmu_be_op){
		.kind = kind[s->kind],
		.gpa = s->vacc.gpa,
		.width = s->vacc.width,
		.value = s->vacc.value,
		.size = s->vacc.size,
		.seed = s->vacc.seed,
	};
	if (s->kind == SC_VCPU_READ && !op->width)
		op->width = s->expect.width ? s->expect.width : 8;
}

static bool load(struct run_ctx *c, const struct sc_step *s, unsigned int vcpu,
		 const struct kvmmu_be_op *ops, unsigned int n, uint64_t loops)
{
	int r = c->ops->vcpu_load(c->be, vcpu, ops, n, loops);
	char e[32];

	if (r == -EINVAL) {
		run_finish(c, s, KVMMU_SC_FAIL,
			   "the %s backend rejected the program (%s): an "
			   "access must not cross a page, fill/verify need "
			   "8-byte aligned gpa and size",
			   c->ops->name, run_errno_str(-r, e, sizeof(e)));
		return false;
	}
	return run_backend_ok(c, s, r, "load the vCPU program");
}

bool run_vcpu(struct run_ctx *c, const struct sc_step *s)
{
	unsigned int vcpu = s->vacc.vcpu, width = 0;
	struct kvmmu_be_exit e;
	struct kvmmu_be_op op;

	if (s->kind != SC_VCPU_RESUME) {
		to_op(s, &op);
		if (op.kind == KVMMU_BE_READ)
			width = op.width;
		if (!load(c, s, vcpu, &op, 1, 1))
			return false;
	} else if (s->expect.kind == SC_EXP_VALUE) {
		width = s->expect.width;
	}
	if (!vrun(c, s, vcpu, &e))
		return false;
	return judge_exit(c, s, vcpu, &e, width);
}

/* --- background programs ----------------------------------------------- */

static void *spawn_thread(void *arg)
{
	struct run_spawn *sp = arg;
	char name[32];

	snprintf(name, sizeof(name), "vcpu-%u", sp->vcpu);
	kvmmu_trace_thread_name(name);
	sp->err = sp->ctx->ops->vcpu_run(sp->ctx->be, sp->vcpu, &sp->exit);
	return NULL;
}

static struct run_spawn *spawn_find(struct run_ctx *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < SC_MAX_VCPUS; i++)
		if (c->spawns[i].running && !strcmp(c->spawns[i].name, name))
			return &c->spawns[i];
	return NULL;
}

bool run_spawn(struct run_ctx *c, const struct sc_step *s)
{
	const struct sc_block *b = &s->spawn.body;
	struct kvmmu_be_op *ops;
	struct run_spawn *sp = &c->spawns[s->spawn.vcpu];
	unsigned int i;
	bool ok;

	if (sp->running) {
		run_finish(c, s, KVMMU_SC_FAIL,
			   "vCPU %u is already running '%s'", s->spawn.vcpu,
			   sp->name);
		return false;
	}
	ops = calloc(b->n ? b->n : 1, sizeof(*ops));
	if (!ops) {
		run_finish(c, s, KVMMU_SC_FAIL, "out of memory");
		return false;
	}
	for (i = 0; i < b->n; i++)
		to_op(&b->steps[i], &ops[i]);
	ok = load(c, s, s->spawn.vcpu, ops, b->n, s->spawn.loop);
	free(ops);
	if (!ok)
		return false;
	memset(sp, 0, sizeof(*sp));
	snprintf(sp->name, sizeof(sp->name), "%s", s->spawn.name);
	sp->vcpu = s->spawn.vcpu;
	sp->ctx = c;
	if (pthread_create(&sp->tid, NULL, spawn_thread, sp)) {
		run_finish(c, s, KVMMU_SC_FAIL, "cannot start a thread");
		return false;
	}
	sp->running = true;
	return true;
}

bool run_join(struct run_ctx *c, const struct sc_step *s)
{
	struct run_spawn *sp = spawn_find(c, s->join.name);
	bool ok;

	if (!sp) {
		run_finish(c, s, KVMMU_SC_FAIL, "'%s' is not running",
			   s->join.name);
		return false;
	}
	pthread_join(sp->tid, NULL);
	sp->running = false;
	if (!run_backend_ok(c, s, sp->err, "run the vCPU"))
		return false;
	/*
	 * Where a background program was when it stopped depends on timing:
	 * only the kind of exit is an observation.
	 */
	run_observe(c, s, "%s", exit_kind(&sp->exit));
	switch (s->expect.kind) {
	case SC_EXP_OK:
		ok = sp->exit.reason == KVMMU_BE_EXIT_DONE;
		break;
	case SC_EXP_EFAULT:
		ok = sp->exit.reason == KVMMU_BE_EXIT_EFAULT;
		break;
	case SC_EXP_MMIO:
		ok = sp->exit.reason == KVMMU_BE_EXIT_MMIO;
		break;
	case SC_EXP_VERIFY:
		ok = sp->exit.reason == KVMMU_BE_EXIT_VERIFY;
		break;
	default:
		ok = false;
		break;
	}
	return ok || mismatch(c, s, &sp->exit, 0);
}

void run_spawns_stop(struct run_ctx *c)
{
	unsigned int i;

	for (i = 0; i < SC_MAX_VCPUS; i++) {
		struct run_spawn *sp = &c->spawns[i];

		if (!sp->running)
			continue;
		if (c->ops->vcpu_kick)
			c->ops->vcpu_kick(c->be, sp->vcpu);
		pthread_join(sp->tid, NULL);
		sp->running = false;
	}
}
