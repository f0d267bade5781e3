// SPDX-License-Identifier: MIT
/*
 * Scenario parser: the expect clause that ends a step's line ("expect ok",
 * "expect errno=NAME", "expect uN=V", "expect mmio [addr=] [len=] [data=]
 * [reply=]", "expect efault", "expect verify"), checked against the
 * outcomes the step allows, and the table of errno names it reads (also
 * sc_errno_name() for the runner).
 */
#include <errno.h>
#include <stddef.h>
#include "parse.h"

/* --- errno names ---------------------------------------------------------- */

/*
 * The errno names an expectation may give ("expect errno=EEXIST"), in the
 * order the error for an unknown name lists them.
 */
#define SC_ERRNO(e)   \
	{             \
		e, #e \
	}

static const struct {
	int err;
	const char *name;
} sc_errnos[] = {
	SC_ERRNO(EPERM),     SC_ERRNO(ENOENT),	   SC_ERRNO(ESRCH),
	SC_ERRNO(EINTR),     SC_ERRNO(EIO),	   SC_ERRNO(ENXIO),
	SC_ERRNO(E2BIG),     SC_ERRNO(EBADF),	   SC_ERRNO(EAGAIN),
	SC_ERRNO(ENOMEM),    SC_ERRNO(EACCES),	   SC_ERRNO(EFAULT),
	SC_ERRNO(EBUSY),     SC_ERRNO(EEXIST),	   SC_ERRNO(ENODEV),
	SC_ERRNO(EINVAL),    SC_ERRNO(ENOTTY),	   SC_ERRNO(EFBIG),
	SC_ERRNO(ENOSPC),    SC_ERRNO(ERANGE),	   SC_ERRNO(ENOSYS),
	SC_ERRNO(EOVERFLOW), SC_ERRNO(EOPNOTSUPP), SC_ERRNO(EHWPOISON),
};

#undef SC_ERRNO

#define NR_ERRNOS (sizeof(sc_errnos) / sizeof(sc_errnos[0]))

/* Declared in ast.h: the runner names the errno it got. */
const char *sc_errno_name(int err)
{
	size_t i;

	for (i = 0; i < NR_ERRNOS; i++)
		if (sc_errnos[i].err == err)
			return sc_errnos[i].name;
	return NULL;
}

/* The positive errno named s[0..len), or 0. */
static int errno_parse(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < NR_ERRNOS; i++)
		if (sc_word_is(s, len, sc_errnos[i].name))
			return sc_errnos[i].err;
	return 0;
}

/* --- expectations --------------------------------------------------------- */

static const char *const exp_forms[] = {
	[SC_EXP_OK] = "ok",	      [SC_EXP_ERRNO] = "errno=NAME",
	[SC_EXP_VALUE] = "uN=V",      [SC_EXP_MMIO] = "mmio",
	[SC_EXP_EFAULT] = "efault",   [SC_EXP_VERIFY] = "verify",
	[SC_EXP_SHARED] = "shared=N",
};

static int parse_mmio(struct sc_parser *p, unsigned int from, unsigned int end,
		      unsigned int mask, unsigned int width,
		      struct sc_expect *x)
{
	const char *spec[5] = { "addr=A", "len=L" };
	struct sc_args a = { .cmd = "expect mmio", .spec = spec };
	const struct sc_tok *t;
	uint64_t v;
	int rc, n = 2;

	if (mask & XM_DATA)
		spec[n++] = "data=D";
	if (mask & XM_REPLY)
		spec[n++] = "reply=R";
	rc = sc_collect(p, &a, from, end);
	if (!rc && (t = sc_arg(&a, "addr"))) {
		x->has_addr = true;
		rc = sc_get_size(p, t, UINT64_MAX, &x->addr);
	}
	if (!rc && (t = sc_arg(&a, "len"))) {
		x->has_len = true;
		rc = sc_get_u64(p, t, 1, 8, &v);
		if (!rc && (v & (v - 1)))
			rc = sc_perr(p, t->col,
				     "bad length in '%.*s' (expected 1, 2, 4 "
				     "or 8)",
				     TOKQ(t));
		x->len = (uint32_t)v;
	}
	if (!rc && (t = sc_arg(&a, "data"))) {
		x->has_data = true;
		rc = sc_get_fit(p, t, x->has_len ? x->len : 8, &x->data);
	}
	if (!rc && (t = sc_arg(&a, "reply"))) {
		x->has_reply = true;
		rc = sc_get_fit(p, t, width, &x->reply);
	}
	return rc;
}

/*
 * The expectation in words [@e, @end), @e the 'expect' word (none: @e ==
 * @end, SC_EXP_OK).  @mask: the outcomes the step allows; @width: a read's
 * width, for reply=.
 */
int sc_parse_expect(struct sc_parser *p, unsigned int e, unsigned int end,
		    unsigned int mask, const char *cmd, unsigned int width,
		    struct sc_expect *x)
{
	const struct sc_tok *t;
	const char *forms[SC_EXP_LAST + 1];
	char list[96];
	size_t n = 0;
	int k, rc = 0;

	x->kind = SC_EXP_OK;
	if (e >= end)
		return 0;
	for (k = 0; k <= SC_EXP_LAST; k++)
		if (mask & XM(k))
			forms[n++] = exp_forms[k];
	sc_list_join(forms, n, list, sizeof(list));
	if (e + 1 >= end)
		return sc_perr(p, p->tok[e].col,
			       "expect needs an outcome (expected %s)", list);
	t = &p->tok[e + 1];
	if (t->kind != SC_TOK_WORD)
		return sc_stray_brace(p, t);
	k = -1;
	if (!t->has_op) {
		for (k = 0; k <= SC_EXP_VERIFY; k++)
			if (sc_word_is(t->s, t->len, exp_forms[k]))
				break;
		if (k == SC_EXP_ERRNO || k == SC_EXP_VALUE || k > SC_EXP_VERIFY)
			k = -1;
	} else if (t->op == SC_OP_EQ && t->oplen == 1) {
		if (sc_word_is(t->s, t->klen, "errno"))
			k = SC_EXP_ERRNO;
		else if (sc_is_width_key(t->s, t->klen))
			k = SC_EXP_VALUE;
		else if (sc_word_is(t->s, t->klen, "shared"))
			k = SC_EXP_SHARED;
	}
	if (k < 0)
		return sc_perr(p, t->col,
			       "unknown outcome '%.*s' after expect (expected "
			       "%s)",
			       TOKQ(t), list);
	if (!(mask & XM(k)))
		return sc_perr(p, t->col,
			       "expect %.*s is not allowed on %s (expected %s)",
			       TOKQ(t), cmd, list);
	x->kind = (enum sc_expect_kind)k;
	if (k == SC_EXP_MMIO)
		return parse_mmio(p, e + 2, end, mask, width, x);
	if (k == SC_EXP_ERRNO) {
		x->err = errno_parse(t->v, t->vlen);
		if (!x->err) {
			char names[400];
			const char *v[NR_ERRNOS];
			size_t i;

			for (i = 0; i < NR_ERRNOS; i++)
				v[i] = sc_errnos[i].name;
			sc_list_join(v, NR_ERRNOS, names, sizeof(names));
			return sc_perr(p, t->col,
				       "unknown errno name in '%.*s' (expected "
				       "%s)",
				       TOKQ(t), names);
		}
	} else if (k == SC_EXP_VALUE) {
		rc = sc_get_wvalue(p, t, &x->width, &x->value);
	} else if (k == SC_EXP_SHARED) {
		rc = sc_get_u64(p, t, 0, SC_MAX_SIZE >> 12, &x->value);
	}
	if (!rc && e + 2 < end)
		return sc_perr(p, p->tok[e + 2].col,
			       "unexpected '%.*s' after expect %.*s (the "
			       "expectation ends the line)",
			       TOKQ(&p->tok[e + 2]), TOKQ(t));
	return rc;
}

/*
 * A read's width: from its uN word (@wt), from 'expect uN=V', or 8.  Both
 * given: they must agree.
 */
int sc_read_width(struct sc_parser *p, const struct sc_tok *wt, unsigned int e,
		  const struct sc_expect *x, unsigned int *w)
{
	unsigned int given = 0;
	int rc = wt ? sc_get_width(p, wt, &given) : 0;

	if (rc)
		return rc;
	*w = given ? given : 8;
	if (x->kind != SC_EXP_VALUE)
		return 0;
	if (given && given != x->width)
		return sc_perr(p, p->tok[e + 1].col,
			       "'%.*s' does not match the width '%.*s' at "
			       "column %u",
			       TOKQ(&p->tok[e + 1]), TOKQ(wt), wt->col);
	*w = x->width;
	return 0;
}
