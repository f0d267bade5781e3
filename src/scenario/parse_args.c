// SPDX-License-Identifier: MIT
/*
 * Scenario parser: a command's arguments and their values.  sc_collect()
 * checks the KEY=VALUE words and plain words of a line against the
 * command's spec (unknown, duplicate, value missing or not allowed); the
 * sc_get_*() helpers then read one value each (numbers, sizes, names,
 * addresses, widths, enum words, prot, slot flags, mm=, fill/verify
 * patterns) and report what was expected when it is bad.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "parse.h"

/* --- arguments ------------------------------------------------------------ */

bool sc_word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && !memcmp(s, w, len);
}

static size_t spec_keylen(const char *e)
{
	return strcspn(e, "=");
}

bool sc_is_width_key(const char *s, size_t n)
{
	size_t i;

	if (n < 2 || s[0] != 'u')
		return false;
	for (i = 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int sc_spec_find(const char *const *spec, const char *s, size_t n)
{
	int i;

	for (i = 0; spec[i]; i++) {
		size_t kl = spec_keylen(spec[i]);

		if (!strncmp(spec[i], "uN", kl) && kl == 2 &&
		    sc_is_width_key(s, n))
			return i;
		if (kl == n && !memcmp(spec[i], s, n))
			return i;
	}
	return -1;
}

/* "a, b, c" into buf. */
void sc_list_join(const char *const *v, size_t n, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = 0;
	for (i = 0; i < n && v[i] && o < len; i++) {
		int r = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", v[i]);

		if (r < 0)
			break;
		o += (size_t)r;
	}
}

int sc_stray_brace(struct sc_parser *p, const struct sc_tok *t)
{
	if (t->kind == SC_TOK_LBRACE)
		return sc_perr(p, t->col,
			       "unexpected '{' (only a repeat or spawn line "
			       "ends with '{')");
	return sc_perr(p, t->col,
		       "unexpected '}' ('}' must be alone on its line)");
}

bool sc_is_expect(const struct sc_tok *t)
{
	return t->kind == SC_TOK_WORD && !t->has_op &&
	       sc_word_is(t->s, t->len, "expect");
}

/* Index of the 'expect' word from @from on, or ntok. */
unsigned int sc_find_expect(struct sc_parser *p, unsigned int from)
{
	unsigned int i;

	for (i = from; i < p->ntok; i++)
		if (sc_is_expect(&p->tok[i]))
			return i;
	return p->ntok;
}

int sc_collect(struct sc_parser *p, struct sc_args *a, unsigned int from,
	       unsigned int to)
{
	unsigned int i;

	for (i = from; i < to; i++) {
		const struct sc_tok *t = &p->tok[i];
		size_t klen = t->has_op ? t->klen : t->len;
		int kq = (int)(klen + (t->has_op ? 1 : 0)), k;
		char list[512];

		if (kq > QLEN)
			kq = QLEN;
		if (t->kind != SC_TOK_WORD)
			return sc_stray_brace(p, t);
		if (sc_is_expect(t))
			return sc_perr(p, t->col, "expect is not allowed on %s",
				       a->cmd);
		if (t->has_op &&
		    (t->op != SC_OP_EQ || t->oplen != 1 || !t->klen))
			return sc_perr(p, t->col,
				       "bad argument '%.*s' (expected "
				       "KEY=VALUE or a word)",
				       TOKQ(t));
		k = sc_spec_find(a->spec, t->s, klen);
		if (k < 0) {
			sc_list_join(a->spec, SC_MAX_SPEC, list, sizeof(list));
			return sc_perr(p, t->col,
				       "unknown argument '%.*s' for %s "
				       "(expected %s)",
				       kq, t->s, a->cmd,
				       list[0] ? list : "nothing more");
		}
		if (a->spec[k][spec_keylen(a->spec[k])] == '=' && !t->has_op)
			return sc_perr(p, t->col,
				       "argument '%.*s' needs a value "
				       "(expected %s)",
				       TOKQ(t), a->spec[k]);
		if (a->spec[k][spec_keylen(a->spec[k])] != '=' && t->has_op)
			return sc_perr(p, t->col,
				       "argument '%.*s' takes no value "
				       "(expected %s)",
				       kq - 1, t->s, a->spec[k]);
		if (a->got[k])
			return sc_perr(p, t->col,
				       "duplicate argument '%.*s' (already "
				       "given at column %u)",
				       kq, t->s, a->got[k]->col);
		a->got[k] = t;
	}
	return 0;
}

/* Index of spec entry @key ("size", "anon", "uN"); the key must be there. */
static int spec_index(const struct sc_args *a, const char *key)
{
	size_t n = strlen(key);
	int i;

	for (i = 0; a->spec[i]; i++)
		if (spec_keylen(a->spec[i]) == n &&
		    !strncmp(a->spec[i], key, n))
			break;
	return i;
}

/* The word given for spec entry @key, or NULL. */
const struct sc_tok *sc_arg(const struct sc_args *a, const char *key)
{
	return a->got[spec_index(a, key)];
}

int sc_need(struct sc_parser *p, const struct sc_args *a, const char *key,
	    const struct sc_tok **t)
{
	int i = spec_index(a, key);

	*t = a->got[i];
	if (*t)
		return 0;
	return sc_perr(p, p->cmd_col, "missing %s for %s", a->spec[i], a->cmd);
}

/* The word at @i if it can be a positional argument (a plain word). */
const struct sc_tok *sc_positional(struct sc_parser *p, unsigned int i)
{
	const struct sc_tok *t = i < p->ntok ? &p->tok[i] : NULL;

	if (!t || t->kind != SC_TOK_WORD || t->has_op || sc_is_expect(t))
		return NULL;
	return t;
}

int sc_conflict(struct sc_parser *p, const struct sc_tok *x,
		const struct sc_tok *y, const char *why)
{
	const struct sc_tok *t;

	if (x->col < y->col) {
		t = x;
		x = y;
		y = t;
	}
	return sc_perr(p, x->col, "'%.*s' conflicts with '%.*s' (%s)", TOKQ(x),
		       TOKQ(y), why);
}

/* --- values --------------------------------------------------------------- */

static int num_error(struct sc_parser *p, const struct sc_tok *t,
		     enum sc_num_status st, bool size)
{
	switch (st) {
	case SC_NUM_SUFFIX:
		if (size)
			return sc_perr(p, t->col,
				       "bad size suffix in '%.*s' (expected "
				       "K, M or G)",
				       TOKQ(t));
		/* fall through */
	case SC_NUM_BAD:
		return sc_perr(p, t->col, "bad number in '%.*s' (expected %s)",
			       TOKQ(t),
			       size ? "a decimal or 0x-hex number with an "
				      "optional K, M or G suffix" :
				      "a decimal or 0x-hex number");
	default:
		return sc_perr(p, t->col,
			       "number in '%.*s' does not fit in 64 bits",
			       TOKQ(t));
	}
}

/* The value part of @t, or the whole word for a positional argument. */
static const char *val(const struct sc_tok *t, size_t *n)
{
	*n = t->has_op ? t->vlen : t->len;
	return t->has_op ? t->v : t->s;
}

int sc_get_u64(struct sc_parser *p, const struct sc_tok *t, uint64_t min,
	       uint64_t max, uint64_t *out)
{
	size_t n;
	const char *s = val(t, &n);
	enum sc_num_status st = sc_lex_u64(s, n, out);

	if (st != SC_NUM_OK)
		return num_error(p, t, st, false);
	if (*out < min || *out > max)
		return sc_perr(p, t->col,
			       "'%.*s' is out of range (expected %" PRIu64
			       "..%" PRIu64 ")",
			       TOKQ(t), min, max);
	return 0;
}

int sc_get_size(struct sc_parser *p, const struct sc_tok *t, uint64_t max,
		uint64_t *out)
{
	size_t n;
	const char *s = val(t, &n);
	enum sc_num_status st = sc_lex_size(s, n, out);

	if (st != SC_NUM_OK)
		return num_error(p, t, st, true);
	if (*out > max)
		return sc_perr(p, t->col,
			       "'%.*s' is too large (at most %#" PRIx64 ")",
			       TOKQ(t), max);
	return 0;
}

/* A required argument of the SIZE syntax. */
int sc_need_size(struct sc_parser *p, const struct sc_args *a, const char *key,
		 uint64_t max, uint64_t *out)
{
	const struct sc_tok *t;
	int rc = sc_need(p, a, key, &t);

	return rc ? rc : sc_get_size(p, t, max, out);
}

int sc_get_name(struct sc_parser *p, const struct sc_tok *t, const char *what)
{
	size_t n;
	const char *s = val(t, &n);

	if (sc_lex_name(s, n))
		return 0;
	return sc_perr(p, t->col,
		       "bad %s name '%.*s' (expected a letter, then letters, "
		       "digits, '_' or '-', at most %d bytes)",
		       what, TOKQ(t), SC_MAX_NAME);
}

int sc_get_addr(struct sc_parser *p, const struct sc_tok *t, struct sc_addr *a)
{
	size_t n, llen;
	const char *s = val(t, &n), *label;

	switch (sc_lex_addr(s, n, &label, &llen, &a->off)) {
	case SC_ADDR_OK:
		break;
	case SC_ADDR_LABEL:
		return sc_perr(p, t->col,
			       "bad address '%.*s' (expected LABEL, "
			       "LABEL+OFFSET or a number)",
			       TOKQ(t));
	case SC_ADDR_SUFFIX:
		return num_error(p, t, SC_NUM_SUFFIX, true);
	case SC_ADDR_OVERFLOW:
		return num_error(p, t, SC_NUM_OVERFLOW, true);
	default:
		return num_error(p, t, SC_NUM_BAD, true);
	}
	if (!label)
		return 0;
	if (!sc_sym_live(p, SYM_LABEL, label, llen))
		return sc_perr(p, t->col,
			       "undefined label '%.*s' (expected a label "
			       "mapped by an earlier host mmap)",
			       (int)llen, label);
	a->label = sc_dupn(label, llen);
	return a->label ? 0 : sc_nomem(p);
}

int sc_get_width(struct sc_parser *p, const struct sc_tok *t, unsigned int *w)
{
	size_t n = t->has_op ? t->klen : t->len;

	if (sc_word_is(t->s, n, "u8"))
		*w = 1;
	else if (sc_word_is(t->s, n, "u16"))
		*w = 2;
	else if (sc_word_is(t->s, n, "u32"))
		*w = 4;
	else if (sc_word_is(t->s, n, "u64"))
		*w = 8;
	else
		return sc_perr(p, t->col,
			       "bad width '%.*s' (expected u8, u16, u32 or "
			       "u64)",
			       TOKQ(t));
	return 0;
}

static bool fits(uint64_t v, unsigned int bytes)
{
	return bytes >= 8 || !(v >> (bytes * 8));
}

int sc_get_fit(struct sc_parser *p, const struct sc_tok *t, unsigned int w,
	       uint64_t *v)
{
	int rc = sc_get_u64(p, t, 0, UINT64_MAX, v);

	if (!rc && !fits(*v, w))
		return sc_perr(p, t->col, "value in '%.*s' does not fit in u%u",
			       TOKQ(t), w * 8);
	return rc;
}

/* uN=V: width and value. */
int sc_get_wvalue(struct sc_parser *p, const struct sc_tok *t, unsigned int *w,
		  uint64_t *v)
{
	int rc = sc_get_width(p, t, w);

	return rc ? rc : sc_get_fit(p, t, *w, v);
}

int sc_get_enum(struct sc_parser *p, const struct sc_tok *t,
		const struct sc_word *w, size_t nw, const char *what, int *out)
{
	const char *names[16];
	char list[192];
	size_t i;

	for (i = 0; i < nw; i++) {
		if (sc_word_is(t->v, t->vlen, w[i].name)) {
			*out = w[i].val;
			return 0;
		}
		names[i] = w[i].name;
	}
	sc_list_join(names, nw, list, sizeof(list));
	return sc_perr(p, t->col, "unknown %s in '%.*s' (expected %s)", what,
		       TOKQ(t), list);
}

int sc_get_prot(struct sc_parser *p, const struct sc_tok *t, int *prot)
{
	size_t i;

	*prot = PROT_NONE;
	if (sc_word_is(t->v, t->vlen, "none"))
		return 0;
	for (i = 0; i < t->vlen || !i; i++) {
		int bit = 0;

		if (i < t->vlen)
			bit = t->v[i] == 'r' ? PROT_READ :
			      t->v[i] == 'w' ? PROT_WRITE :
			      t->v[i] == 'x' ? PROT_EXEC :
					       0;
		if (!bit || (*prot & bit))
			return sc_perr(p, t->col,
				       "bad protection in '%.*s' (expected "
				       "none, or letters from r, w, x without "
				       "repeats)",
				       TOKQ(t));
		*prot |= bit;
	}
	return 0;
}

static const struct sc_word slot_flags[] = {
	{ "log_dirty", KVMMU_MEM_LOG_DIRTY_PAGES },
	{ "readonly", KVMMU_MEM_READONLY },
	{ "guest_memfd", KVMMU_MEM_GUEST_MEMFD },
};

int sc_get_flags(struct sc_parser *p, const struct sc_tok *t, uint32_t *flags)
{
	const char *s = t->v, *end = t->v + t->vlen;
	size_t i;

	*flags = 0;
	if (sc_word_is(s, t->vlen, "0") || sc_word_is(s, t->vlen, "none"))
		return 0;
	for (;;) {
		const char *c = memchr(s, ',', (size_t)(end - s));
		size_t n = (size_t)((c ? c : end) - s);

		for (i = 0; i < sizeof(slot_flags) / sizeof(slot_flags[0]); i++)
			if (sc_word_is(s, n, slot_flags[i].name))
				break;
		if (i == sizeof(slot_flags) / sizeof(slot_flags[0]))
			return sc_perr(p, t->col,
				       "unknown slot flag '%.*s' in '%.*s' "
				       "(expected log_dirty, readonly, "
				       "guest_memfd, comma-separated, or 0 or "
				       "none)",
				       (int)(n < QLEN ? n : QLEN), s, TOKQ(t));
		if (*flags & (uint32_t)slot_flags[i].val)
			return sc_perr(p, t->col,
				       "slot flag '%s' given twice in '%.*s'",
				       slot_flags[i].name, TOKQ(t));
		*flags |= (uint32_t)slot_flags[i].val;
		if (!c)
			return 0;
		s = c + 1;
	}
}

/* mm=PROC: NULL for the VMM. */
int sc_get_mm(struct sc_parser *p, const struct sc_args *a, char **mm)
{
	const struct sc_tok *t = sc_arg(a, "mm");
	int rc;

	if (!t || sc_word_is(t->v, t->vlen, "vmm"))
		return 0;
	rc = sc_get_name(p, t, "process");
	if (rc)
		return rc;
	if (!sc_sym_live(p, SYM_PROC, t->v, t->vlen))
		return sc_perr(p, t->col,
			       "undefined process in '%.*s' (expected vmm or a "
			       "process made by an earlier host fork)",
			       TOKQ(t));
	*mm = sc_dupn(t->v, t->vlen);
	return *mm ? 0 : sc_nomem(p);
}

/* size= and seed= of a fill or verify, which move 8-byte words. */
int sc_get_pattern(struct sc_parser *p, const struct sc_args *a, uint64_t max,
		   uint64_t *size, uint64_t *seed)
{
	const struct sc_tok *t = sc_arg(a, "size");
	int rc = sc_need_size(p, a, "size", max, size);

	if (!rc && (*size & 7))
		return sc_perr(p, t->col,
			       "'%.*s' is not a multiple of 8 (fill and verify "
			       "move 8-byte words)",
			       TOKQ(t));
	if (!rc)
		rc = sc_need(p, a, "seed", &t);
	return rc ? rc : sc_get_u64(p, t, 0, UINT64_MAX, seed);
}
