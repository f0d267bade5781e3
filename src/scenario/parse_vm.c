// SPDX-License-Identifier: MIT
/*
 * Scenario parser: the steps on the VM side.  The vm line (arch, vCPU
 * count, checker), vCPU steps ("vcpu N read|write|fill|verify|resume",
 * and the same accesses without "vcpu N" in a spawn body), background
 * vCPU programs (spawn, join; the running ones are in p->spawn, by vCPU),
 * and the check and stat steps that observe the VM.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include "parse.h"

#define SC_MAX_STAT_NAME 64
#define SC_MAX_LOOP	 UINT32_MAX
/* A vCPU fill or verify is one guest instruction with a 32-bit length. */
#define SC_MAX_VCPU_FILL 0xfffffff8ull

/* --- the vm line ---------------------------------------------------------- */

/* Remember the first step the vm line must precede, for its message. */
void sc_blocker(struct sc_parser *p, const char *what)
{
	if (!p->blocker_line) {
		p->blocker_line = p->line;
		p->blocker = what;
	}
}

static const struct sc_word arches[] = {
	{ "x86", KVMMU_ARCH_X86 },
	{ "arm64", KVMMU_ARCH_ARM64 },
	{ "mips", KVMMU_ARCH_MIPS },
};

static const struct sc_word on_off[] = { { "on", 1 }, { "off", 0 } };

int sc_cmd_vm(struct sc_parser *p, struct sc_step *st)
{
	static const char *const spec[] = { "arch=x86|arm64|mips",
					    "vcpus=1..64", "check=on|off",
					    "policy", NULL };
	struct sc_args a = { .cmd = "vm", .spec = spec };
	const struct sc_tok *t;
	unsigned int pol = 1;
	uint64_t v;
	int rc, x;

	if (p->sc->has_vm)
		return sc_perr(p, p->cmd_col,
			       "vm given twice (first at line %u; expected at "
			       "most one vm line)",
			       p->sc->vm.line);
	if (p->blocker_line)
		return sc_perr(p, p->cmd_col,
			       "vm after the %s step at line %u (expected the "
			       "vm line before any slot, vcpu, spawn, join, "
			       "check or stat step)",
			       p->blocker, p->blocker_line);
	if (p->depth)
		return sc_perr(p, p->cmd_col,
			       "vm inside a block (expected the vm line at the "
			       "top level)");
	while (pol < p->ntok &&
	       !(p->tok[pol].kind == SC_TOK_WORD &&
		 sc_word_is(p->tok[pol].s, p->tok[pol].len, "policy")))
		pol++;
	rc = sc_collect(p, &a, 1, pol);
	if (rc)
		return rc;
	if (pol < p->ntok) {
		if (pol + 1 == p->ntok)
			return sc_perr(p, p->tok[pol].col,
				       "missing NAME=VALUE after policy (no "
				       "policy is modelled yet)");
		t = &p->tok[pol + 1];
		x = (int)(t->has_op ? t->klen : t->len);
		return sc_perr(p, t->col,
			       "unknown policy '%.*s' (no policy is "
			       "modelled yet)",
			       x < QLEN ? x : QLEN, t->s);
	}
	*st = p->sc->vm;
	x = st->vm.arch;
	if ((t = sc_arg(&a, "arch")))
		rc = SC_GET_ENUM(p, t, arches, "arch", &x);
	st->vm.arch = (enum kvmmu_arch)x;
	if (!rc && (t = sc_arg(&a, "vcpus")))
		rc = sc_get_u64(p, t, 1, SC_MAX_VCPUS, &v);
	if (!rc && t)
		st->vm.vcpus = (unsigned int)v;
	x = 1;
	if (!rc && (t = sc_arg(&a, "check")))
		rc = SC_GET_ENUM(p, t, on_off, "value", &x);
	st->vm.check = x;
	st->line = p->line;
	st->col = p->cmd_col;
	return rc;
}

/* --- vCPU steps ----------------------------------------------------------- */

struct vcpu_op {
	const char *name; /* "vcpu read"; name + 5 in a spawn body */
	enum sc_kind kind;
	unsigned int mask;
	const char *spec[4];
};

static const struct vcpu_op vcpu_ops[] = {
	{ "vcpu read",
	  SC_VCPU_READ,
	  XM_VCPU | XM(SC_EXP_VALUE) | XM_REPLY,
	  { "gpa=G", "uN" } },
	{ "vcpu write", SC_VCPU_WRITE, XM_VCPU | XM_DATA, { "gpa=G", "uN=V" } },
	{ "vcpu fill",
	  SC_VCPU_FILL,
	  XM_VCPU | XM_DATA,
	  { "gpa=G", "size=SIZE", "seed=S" } },
	{ "vcpu verify",
	  SC_VCPU_VERIFY,
	  XM_VCPU | XM(SC_EXP_VERIFY),
	  { "gpa=G", "size=SIZE", "seed=S" } },
	/* Resumes whichever access exited: any outcome of one. */
	{ "vcpu resume",
	  SC_VCPU_RESUME,
	  XM_VCPU | XM(SC_EXP_VALUE) | XM(SC_EXP_VERIFY) | XM_DATA | XM_REPLY,
	  { NULL } },
};

/* An access at word @i: "read gpa=..." after "vcpu N" or in a spawn body. */
int sc_vcpu_access(struct sc_parser *p, struct sc_step *st, unsigned int i,
		   unsigned int vcpu, bool body)
{
	const struct sc_tok *ot = i < p->ntok ? &p->tok[i] : NULL, *t = NULL;
	const struct vcpu_op *op = NULL;
	struct sc_args a = { 0 };
	unsigned int e, nops = body ? 4 : 5, j;
	int rc = 0;

	if (ot && !body && (ot->kind != SC_TOK_WORD || sc_is_expect(ot)))
		ot = NULL;
	for (j = 0; ot && j < nops; j++)
		if (sc_word_is(ot->s, ot->len, vcpu_ops[j].name + 5))
			op = &vcpu_ops[j];
	if (!op && body)
		return sc_perr(p, p->tok[i].col,
			       "unknown spawn body line '%.*s' (expected read, "
			       "write, fill, verify or '}')",
			       TOKQ(&p->tok[i]));
	if (!op && !ot)
		return sc_perr(p, p->cmd_col,
			       "missing vcpu operation (expected read, write, "
			       "fill, verify or resume)");
	if (!op)
		return sc_perr(p, ot->col,
			       "unknown vcpu operation '%.*s' (expected read, "
			       "write, fill, verify or resume)",
			       TOKQ(ot));
	p->cmd_col = ot->col;
	a.cmd = body ? op->name + 5 : op->name;
	a.spec = op->spec;
	st->kind = op->kind;
	st->vacc.vcpu = vcpu;
	e = sc_find_expect(p, i + 1);
	if (body && e < p->ntok)
		return sc_perr(p, p->tok[e].col,
			       "expect is not allowed in a spawn body "
			       "(expected it on the join)");
	rc = sc_collect(p, &a, i + 1, e);
	if (!rc && op->kind != SC_VCPU_RESUME)
		rc = sc_need_size(p, &a, "gpa", UINT64_MAX, &st->vacc.gpa);
	if (!rc && op->kind == SC_VCPU_WRITE)
		rc = sc_need(p, &a, "uN", &t);
	if (!rc && op->kind == SC_VCPU_WRITE)
		rc = sc_get_wvalue(p, t, &st->vacc.width, &st->vacc.value);
	if (!rc && (op->kind == SC_VCPU_FILL || op->kind == SC_VCPU_VERIFY))
		rc = sc_get_pattern(p, &a, SC_MAX_VCPU_FILL, &st->vacc.size,
				    &st->vacc.seed);
	if (!rc && op->kind == SC_VCPU_READ && (t = sc_arg(&a, "uN")))
		rc = sc_get_width(p, t, &st->vacc.width);
	if (!rc)
		rc = sc_parse_expect(p, e, p->ntok, op->mask, a.cmd,
				     st->vacc.width ? st->vacc.width : 8,
				     &st->expect);
	if (!rc && op->kind == SC_VCPU_READ)
		rc = sc_read_width(p, sc_arg(&a, "uN"), e, &st->expect,
				   &st->vacc.width);
	if (op->kind == SC_VCPU_RESUME && st->expect.kind == SC_EXP_VALUE)
		st->vacc.width = st->expect.width;
	return rc;
}

static int vcpu_index(struct sc_parser *p, const struct sc_tok *t,
		      unsigned int *vcpu)
{
	unsigned int n = p->sc->vm.vm.vcpus;
	const struct sc_running *r;
	uint64_t v;
	int rc = sc_get_u64(p, t, 0, UINT64_MAX, &v);

	if (rc)
		return rc;
	if (v >= n)
		return sc_perr(p, t->col,
			       "vcpu %" PRIu64
			       " is out of range (expected 0..%u: "
			       "the vm has vcpus=%u)",
			       v, n - 1, n);
	*vcpu = (unsigned int)v;
	r = &p->spawn[v];
	if (r->on)
		return sc_perr(p, t->col,
			       "vcpu %u is running spawn '%s' (line %u) until "
			       "'join %s'",
			       *vcpu, r->name, r->line, r->name);
	return 0;
}

int sc_cmd_vcpu(struct sc_parser *p, struct sc_step *st)
{
	const struct sc_tok *t = sc_positional(p, 1);
	unsigned int vcpu;
	int rc;

	sc_blocker(p, "vcpu");
	if (!t)
		return sc_perr(p, p->cmd_col,
			       "missing vcpu index (expected vcpu N read, "
			       "write, fill, verify or resume)");
	rc = vcpu_index(p, t, &vcpu);
	return rc ? rc : sc_vcpu_access(p, st, 2, vcpu, false);
}

/* --- spawn and join ------------------------------------------------------- */

static struct sc_running *running(struct sc_parser *p, const char *s, size_t n)
{
	unsigned int i;

	for (i = 0; i < SC_MAX_VCPUS; i++)
		if (p->spawn[i].on && sc_word_is(s, n, p->spawn[i].name))
			return &p->spawn[i];
	return NULL;
}

/*
 * The NAME word of a spawn or join line, checked, and the arguments after
 * it, words [2, @end): *@r is the running spawn of that name, or NULL.
 * @usage is the line's form, for the error when NAME is missing.
 */
static int spawn_name(struct sc_parser *p, struct sc_args *a, unsigned int end,
		      const char *usage, const struct sc_tok **nt,
		      struct sc_running **r)
{
	int rc;

	*nt = sc_positional(p, 1);
	if (!*nt)
		return sc_perr(p, p->cmd_col,
			       "missing NAME for %s (expected %s)", a->cmd,
			       usage);
	rc = sc_get_name(p, *nt, "spawn");
	if (!rc)
		rc = sc_collect(p, a, 2, end);
	if (!rc)
		*r = running(p, (*nt)->s, (*nt)->len);
	return rc;
}

int sc_cmd_spawn(struct sc_parser *p, struct sc_step *st)
{
	static const char *const spec[] = { "vcpu=N", "loop=N", NULL };
	struct sc_args a = { .cmd = "spawn", .spec = spec };
	const struct sc_tok *nt, *t;
	struct sc_running *r;
	unsigned int end = 0;
	int rc;

	st->kind = SC_SPAWN;
	sc_blocker(p, "spawn");
	rc = sc_block_line(p, "spawn", &end);
	if (!rc)
		rc = spawn_name(p, &a, end, "spawn NAME vcpu=N [loop=N] {", &nt,
				&r);
	if (rc)
		return rc;
	if (r)
		return sc_perr(p, nt->col,
			       "spawn '%s' is already running (line %u; "
			       "expected its join first)",
			       r->name, r->line);
	rc = sc_need(p, &a, "vcpu", &t);
	if (!rc)
		rc = vcpu_index(p, t, &st->spawn.vcpu);
	st->spawn.loop = 1;
	if (!rc && (t = sc_arg(&a, "loop")))
		rc = sc_get_u64(p, t, 1, SC_MAX_LOOP, &st->spawn.loop);
	if (rc)
		return rc;
	st->spawn.name = sc_dupn(nt->s, nt->len);
	if (!st->spawn.name)
		return sc_nomem(p);
	r = &p->spawn[st->spawn.vcpu];
	*r = (struct sc_running){
		.on = true, .line = p->line, .col = nt->col, .depth = p->depth
	};
	memcpy(r->name, nt->s, nt->len);
	return 0;
}

int sc_cmd_join(struct sc_parser *p, struct sc_step *st)
{
	static const char *const spec[] = { NULL };
	struct sc_args a = { .cmd = "join", .spec = spec };
	const struct sc_tok *nt;
	unsigned int e = sc_find_expect(p, 2);
	struct sc_running *r;
	int rc;

	st->kind = SC_JOIN;
	sc_blocker(p, "join");
	rc = spawn_name(p, &a, e, "join NAME [expect ok|efault|mmio|verify]",
			&nt, &r);
	if (rc)
		return rc;
	if (!r)
		return sc_perr(p, nt->col,
			       "join of '%.*s', which is not running (expected "
			       "the NAME of an earlier spawn not yet joined)",
			       TOKQ(nt));
	if (r->depth != p->depth)
		return sc_perr(p, nt->col,
			       "join of '%.*s' outside the block of its spawn "
			       "(line %u; expected the join in the same block)",
			       TOKQ(nt), r->line);
	r->on = false;
	st->join.name = sc_dupn(nt->s, nt->len);
	if (!st->join.name)
		return sc_nomem(p);
	return sc_parse_expect(p, e, p->ntok,
			       XM_VCPU | XM(SC_EXP_VERIFY) | XM_DATA, "join", 8,
			       &st->expect);
}

/* --- check, stat ---------------------------------------------------------- */

int sc_cmd_check(struct sc_parser *p, struct sc_step *st)
{
	static const char *const spec[] = { NULL };
	struct sc_args a = { .cmd = "check", .spec = spec };

	st->kind = SC_CHECK;
	sc_blocker(p, "check");
	return sc_collect(p, &a, 1, p->ntok);
}

static bool stat_name(const char *s, size_t n)
{
	size_t i;

	if (!n || n > SC_MAX_STAT_NAME)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '.'))
			return false;
	return true;
}

int sc_cmd_stat(struct sc_parser *p, struct sc_step *st)
{
	static const char *const spec[] = { NULL };
	struct sc_args a = { .cmd = "stat", .spec = spec };
	const struct sc_tok *nt = sc_positional(p, 1), *t;
	int rc;

	sc_blocker(p, "stat");
	if (!nt)
		return sc_perr(p, p->cmd_col,
			       "missing statistic (expected stat mark, stat "
			       "NAME value OP N or stat NAME changed OP N)");
	if (sc_word_is(nt->s, nt->len, "mark")) {
		st->kind = SC_STAT_MARK;
		a.cmd = "stat mark";
		return sc_collect(p, &a, 2, p->ntok);
	}
	st->kind = SC_STAT;
	if (!stat_name(nt->s, nt->len))
		return sc_perr(p, nt->col,
			       "bad statistic name '%.*s' (expected letters "
			       "a-z, digits, '_' or '.', at most %d bytes)",
			       TOKQ(nt), SC_MAX_STAT_NAME);
	if (p->ntok < 3)
		return sc_perr(p, p->cmd_col,
			       "missing value OP N or changed OP N for stat");
	t = &p->tok[2];
	if (t->kind != SC_TOK_WORD || !t->has_op ||
	    (!sc_word_is(t->s, t->klen, "value") &&
	     !sc_word_is(t->s, t->klen, "changed")))
		return sc_perr(p, t->col,
			       "bad comparison '%.*s' (expected value OP N or "
			       "changed OP N, OP one of =, ==, !=, <, <=, "
			       ">, >=)",
			       TOKQ(t));
	st->stat.changed = t->klen == 7;
	st->stat.op = t->op;
	rc = sc_get_u64(p, t, 0, UINT64_MAX, &st->stat.value);
	if (!rc)
		rc = sc_collect(p, &a, 3, p->ntok);
	if (rc)
		return rc;
	st->stat.name = sc_dupn(nt->s, nt->len);
	return st->stat.name ? 0 : sc_nomem(p);
}
