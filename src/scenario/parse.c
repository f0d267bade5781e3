// SPDX-License-Identifier: MIT
/*
 * The scenario parser: text into the step tree of ast.h, with every check
 * that needs no backend (docs/scenario.md is the language).  This file
 * holds the core: the line and block loop, errors, the name table, the
 * repeat command, freeing a tree, and the public API; the commands and
 * their arguments are in the files parse.h lists.
 *
 * One pass over the lines.  Open blocks (repeat, spawn) are a stack of
 * frames, each holding the step being built and its body, so parsing does
 * not recurse; only freeing a tree does, as deep as SC_MAX_DEPTH.  Names
 * (labels, files, processes) live in one hash table, running spawns in a
 * table indexed by their vCPU.
 *
 * Messages are "file:line:col: message": col is the 1-based byte column of
 * the offending word (of the command word when something is missing), the
 * word is quoted as written, and the message ends with what was expected.
 * The first error stops the parse.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

#define SC_MAX_STEPS 100000

/* --- errors --------------------------------------------------------------- */

static int vperr(struct sc_parser *p, unsigned int line, unsigned int col,
		 const char *fmt, va_list ap)
{
	int n;

	if (!p->err || !p->errlen)
		return -EINVAL;
	n = snprintf(p->err, p->errlen, "%s:%u:%u: ", p->file, line, col);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	return -EINVAL;
}

__attribute__((format(printf, 4, 5))) static int perr_at(struct sc_parser *p,
							 unsigned int line,
							 unsigned int col,
							 const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vperr(p, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

int sc_perr(struct sc_parser *p, unsigned int col, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vperr(p, p->line, col, fmt, ap);
	va_end(ap);
	return rc;
}

int sc_nomem(struct sc_parser *p)
{
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "%s: out of memory", p->file);
	return -ENOMEM;
}

char *sc_dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

/* --- names ---------------------------------------------------------------- */

static size_t sym_hash(int kind, const char *s, size_t n)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static struct sc_sym *sym_slot(struct sc_sym *v, size_t cap, int kind,
			       const char *s, size_t n)
{
	size_t i = sym_hash(kind, s, n) & (cap - 1);

	for (;; i = (i + 1) & (cap - 1)) {
		struct sc_sym *e = &v[i];

		if (!e->kind ||
		    (e->kind == kind && e->len == n && !memcmp(e->name, s, n)))
			return e;
	}
}

/*
 * The entry of a name, or NULL.  With @create, a missing entry is added
 * (not live) and NULL means out of memory.  Names were checked by
 * sc_lex_name(), so they fit.
 */
struct sc_sym *sc_sym_get(struct sc_parser *p, int kind, const char *s,
			  size_t n, bool create)
{
	struct sc_symtab *t = &p->syms;
	struct sc_sym *e;
	size_t i;

	if (t->cap) {
		e = sym_slot(t->v, t->cap, kind, s, n);
		if (e->kind || !create)
			return e->kind ? e : NULL;
	} else if (!create) {
		return NULL;
	}
	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct sc_sym *v = calloc(cap, sizeof(*v));

		if (!v)
			return NULL;
		for (i = 0; i < t->cap; i++)
			if (t->v[i].kind)
				*sym_slot(v, cap, t->v[i].kind, t->v[i].name,
					  t->v[i].len) = t->v[i];
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	e = sym_slot(t->v, t->cap, kind, s, n);
	e->kind = (unsigned char)kind;
	e->len = (unsigned char)n;
	memcpy(e->name, s, n);
	e->name[n] = 0;
	t->n++;
	return e;
}

struct sc_sym *sc_sym_live(struct sc_parser *p, int kind, const char *s,
			   size_t n)
{
	struct sc_sym *e = sc_sym_get(p, kind, s, n, false);

	return e && e->live ? e : NULL;
}

/* --- blocks and lines ----------------------------------------------------- */

/* The line ends with '{': the words before it, or an error. */
int sc_block_line(struct sc_parser *p, const char *what, unsigned int *end)
{
	if (p->tok[p->ntok - 1].kind != SC_TOK_LBRACE)
		return sc_perr(p, p->cmd_col,
			       "missing '{' at the end of the %s line", what);
	*end = p->ntok - 1;
	return 0;
}

static int cmd_repeat(struct sc_parser *p, struct sc_step *st)
{
	static const char *const spec[] = { NULL };
	struct sc_args a = { .cmd = "repeat", .spec = spec };
	const struct sc_tok *t = sc_positional(p, 1);
	unsigned int end = 0;
	int rc = sc_block_line(p, "repeat", &end);

	st->kind = SC_REPEAT;
	if (rc)
		return rc;
	if (!t)
		return sc_perr(p, p->cmd_col,
			       "missing count for repeat (expected "
			       "repeat N {)");
	rc = sc_get_u64(p, t, 1, SC_MAX_REPEAT, &st->repeat.count);
	return rc ? rc : sc_collect(p, &a, 2, end);
}

static void step_free(struct sc_step *st);

static void block_free(struct sc_block *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++)
		step_free(&b->steps[i]);
	free(b->steps);
}

static void step_free(struct sc_step *st)
{
	free(st->text);
	free(st->mm);
	free(st->deviation);
	switch (st->kind) {
	case SC_HOST_MMAP:
		free(st->mmap.label);
		free(st->mmap.file);
		free(st->mmap.at_label);
		break;
	case SC_HOST_MUNMAP:
	case SC_HOST_MPROTECT:
	case SC_HOST_MADVISE:
	case SC_HOST_KSM:
		free(st->range.addr.label);
		break;
	case SC_HOST_MREMAP:
		free(st->mremap.addr.label);
		free(st->mremap.to.label);
		break;
	case SC_HOST_FORK:
	case SC_HOST_EXIT:
	case SC_HOST_MEMFD:
	case SC_HOST_FTRUNCATE:
	case SC_HOST_PUNCH:
		free(st->obj.name);
		break;
	case SC_HOST_WRITE:
	case SC_HOST_READ:
	case SC_HOST_FILL:
	case SC_HOST_VERIFY:
		free(st->hacc.addr.label);
		break;
	case SC_SLOT:
		free(st->slot.hva.label);
		break;
	case SC_SPAWN:
		free(st->spawn.name);
		block_free(&st->spawn.body);
		break;
	case SC_JOIN:
		free(st->join.name);
		break;
	case SC_STAT:
		free(st->stat.name);
		break;
	case SC_REPEAT:
		block_free(&st->repeat.body);
		break;
	default:
		break;
	}
	memset(st, 0, sizeof(*st));
}

/* Append @st (moved: zeroed on success) to @v. */
static int push(struct sc_parser *p, struct sc_vec *v, struct sc_step *st,
		bool count)
{
	if (count && ++p->nsteps > SC_MAX_STEPS)
		return sc_perr(p, st->col, "too many steps (more than %d)",
			       SC_MAX_STEPS);
	if (v->n == v->cap) {
		unsigned int cap = v->cap ? v->cap * 2 : 8;
		struct sc_step *n = realloc(v->v, cap * sizeof(*n));

		if (!n)
			return sc_nomem(p);
		v->v = n;
		v->cap = cap;
	}
	v->v[v->n++] = *st;
	memset(st, 0, sizeof(*st));
	return 0;
}

static int open_block(struct sc_parser *p, struct sc_step *st)
{
	struct sc_frame *f;

	if (p->depth == SC_MAX_DEPTH)
		return sc_perr(p, p->tok[p->ntok - 1].col,
			       "blocks nest too deep (at most %d levels of "
			       "repeat and spawn)",
			       SC_MAX_DEPTH);
	if (++p->nsteps > SC_MAX_STEPS)
		return sc_perr(p, st->col, "too many steps (more than %d)",
			       SC_MAX_STEPS);
	f = &p->frames[++p->depth];
	f->step = *st;
	f->brace_col = p->tok[p->ntok - 1].col;
	memset(&f->body, 0, sizeof(f->body));
	memset(st, 0, sizeof(*st));
	p->forks[p->depth] = 0;
	return 0;
}

/* A spawn of block depth @depth not joined: the first one, by line. */
static int unjoined(struct sc_parser *p, unsigned int depth)
{
	const struct sc_running *r, *first = NULL;
	unsigned int i;

	for (i = 0; i < SC_MAX_VCPUS; i++) {
		r = &p->spawn[i];
		if (r->on && r->depth == depth &&
		    (!first || r->line < first->line))
			first = r;
	}
	if (!first)
		return 0;
	return perr_at(p, first->line, first->col,
		       "spawn '%s' is never joined (expected 'join %s' before "
		       "the end of its block)",
		       first->name, first->name);
}

/* A process forked at @depth and still alive: the first one, by line. */
static int unexited(struct sc_parser *p, unsigned int depth)
{
	const struct sc_sym *e, *first = NULL;
	size_t i;

	if (!p->forks[depth])
		return 0;
	for (i = 0; i < p->syms.cap; i++) {
		e = &p->syms.v[i];
		if (e->kind == SYM_PROC && e->live && e->depth == depth &&
		    (!first || e->line < first->line))
			first = e;
	}
	if (!first)
		return 0;
	return perr_at(p, first->line, first->col,
		       "process '%s' is forked in a repeat block and does not "
		       "exit in it (expected 'host exit %s' before its '}')",
		       first->name, first->name);
}

static int close_block(struct sc_parser *p)
{
	struct sc_frame *f = &p->frames[p->depth];
	struct sc_block body;
	int rc;

	if (p->ntok > 1)
		return sc_perr(p, p->tok[1].col,
			       "unexpected '%.*s' after '}' ('}' must be alone "
			       "on its line)",
			       TOKQ(&p->tok[1]));
	if (!p->depth)
		return sc_perr(p, p->tok[0].col,
			       "'}' without an open block (expected a repeat "
			       "or spawn line ending with '{' before it)");
	if (f->step.kind == SC_SPAWN && !f->body.n)
		return sc_perr(p, p->tok[0].col,
			       "empty spawn body (expected read, write, fill "
			       "or verify lines before '}')");
	rc = unjoined(p, p->depth);
	if (!rc)
		rc = unexited(p, p->depth);
	if (rc)
		return rc;
	body = (struct sc_block){ f->body.v, f->body.n };
	if (f->step.kind == SC_SPAWN)
		f->step.spawn.body = body;
	else
		f->step.repeat.body = body;
	memset(&f->body, 0, sizeof(f->body));
	p->depth--;
	rc = push(p, &p->frames[p->depth].body, &f->step, false);
	if (rc)
		step_free(&f->step);
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(struct sc_parser *p, struct sc_step *st);
} commands[] = {
	{ "vm", sc_cmd_vm },	   { "host", sc_cmd_host },
	{ "slot", sc_cmd_slot },   { "vcpu", sc_cmd_vcpu },
	{ "spawn", sc_cmd_spawn }, { "join", sc_cmd_join },
	{ "check", sc_cmd_check }, { "stat", sc_cmd_stat },
	{ "repeat", cmd_repeat },
};

static int command(struct sc_parser *p, struct sc_step *st)
{
	const struct sc_tok *t = &p->tok[0];
	const struct sc_frame *f = &p->frames[p->depth];
	size_t i;

	if (t->kind == SC_TOK_LBRACE)
		return sc_stray_brace(p, t);
	if (p->depth && f->step.kind == SC_SPAWN) {
		if (sc_word_is(t->s, t->len, "vcpu"))
			return sc_perr(p, t->col,
				       "'vcpu' in a spawn body (expected "
				       "read, write, fill or verify: the body "
				       "runs on the spawn's vcpu %u)",
				       f->step.spawn.vcpu);
		return sc_vcpu_access(p, st, 0, f->step.spawn.vcpu, true);
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (sc_word_is(t->s, t->len, commands[i].name))
			return commands[i].fn(p, st);
	return sc_perr(p, t->col,
		       "unknown command '%.*s' (expected vm, host, slot, vcpu, "
		       "spawn, join, check, stat or repeat)",
		       TOKQ(t));
}

#define SC_DEVIATION	 "deviation"
#define SC_MAX_DEVIATION 160

/*
 * "deviation REASON...": the reason is the rest of the line, free text
 * (up to the comment).  It attaches to the next step.
 */
static bool deviation_line(struct sc_parser *p, const char *line, size_t len,
			   int *rc)
{
	const size_t kw = sizeof(SC_DEVIATION) - 1;
	size_t i = 0, end;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < kw || memcmp(line + i, SC_DEVIATION, kw) ||
	    (len - i > kw && line[i + kw] != ' ' && line[i + kw] != '\t' &&
	     line[i + kw] != '#'))
		return false;
	end = i + kw;
	while (end < len && line[end] != '#')
		end++;
	while (end > i + kw && (line[end - 1] == ' ' || line[end - 1] == '\t' ||
				line[end - 1] == '\r'))
		end--;
	i += kw;
	while (i < end && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (p->deviation)
		*rc = sc_perr(p, 1,
			      "a second deviation before a step (the one at "
			      "line %u has no step yet)",
			      p->deviation_line);
	else if (i == end)
		*rc = sc_perr(p, (unsigned int)end + 1,
			      "missing reason for deviation (expected "
			      "deviation REASON: one line saying why the "
			      "kernel differs)");
	else if (end - i > SC_MAX_DEVIATION)
		*rc = sc_perr(p, (unsigned int)i + 1,
			      "deviation reason too long (at most %d "
			      "characters: one line)",
			      SC_MAX_DEVIATION);
	else if (!(p->deviation = sc_dupn(line + i, end - i)))
		*rc = sc_nomem(p);
	else
		p->deviation_line = p->line;
	return true;
}

/* Give a pending deviation to @st, if it can take one. */
static int take_deviation(struct sc_parser *p, struct sc_step *st)
{
	if (!p->deviation)
		return 0;
	/* A spawn's body runs inside the backend as one program. */
	if (p->depth && p->frames[p->depth].step.kind == SC_SPAWN)
		return sc_perr(
			p, st->col,
			"the deviation at line %u is inside a spawn body "
			"(expected it before the spawn's join)",
			p->deviation_line);
	if (st->kind == SC_VM || st->kind == SC_REPEAT ||
	    st->kind == SC_SPAWN || st->kind == SC_CHECK ||
	    st->kind == SC_STAT_MARK)
		return sc_perr(p, st->col,
			       "the deviation at line %u must precede a host, "
			       "slot, vcpu, join or stat step",
			       p->deviation_line);
	st->deviation = p->deviation;
	p->deviation = NULL;
	return 0;
}

static int parse_line(struct sc_parser *p, const char *line, size_t len)
{
	struct sc_lex_error le;
	struct sc_step st = { 0 };
	const struct sc_tok *t0, *tl;
	int rc = 0;

	if (deviation_line(p, line, len, &rc))
		return rc;
	if (sc_lex_line(line, len, p->tok, &p->ntok, &le))
		return sc_perr(p, le.col, "%s", le.msg);
	if (!p->ntok)
		return 0;
	t0 = &p->tok[0];
	tl = &p->tok[p->ntok - 1];
	if (t0->kind == SC_TOK_RBRACE) {
		if (p->deviation)
			return perr_at(p, p->deviation_line, 1,
				       "deviation without a step (expected a "
				       "host, slot, vcpu, join or stat step "
				       "after it)");
		return close_block(p);
	}
	p->cmd_col = t0->col;
	st.line = p->line;
	st.col = t0->col;
	rc = command(p, &st);
	if (!rc) {
		st.text = sc_dupn(t0->s, (size_t)(tl->s + tl->len - t0->s));
		if (!st.text)
			rc = sc_nomem(p);
	}
	if (!rc)
		rc = take_deviation(p, &st);
	if (!rc && st.kind == SC_VM) {
		p->sc->vm = st;
		p->sc->has_vm = true;
		return 0;
	}
	if (!rc && (st.kind == SC_REPEAT || st.kind == SC_SPAWN))
		rc = open_block(p, &st);
	else if (!rc)
		rc = push(p, &p->frames[p->depth].body, &st, true);
	step_free(&st); /* what is left of it after an error */
	return rc;
}

static int parse_end(struct sc_parser *p)
{
	const struct sc_frame *f = &p->frames[p->depth];

	if (p->deviation)
		return perr_at(p, p->deviation_line, 1,
			       "deviation without a step (expected a host, "
			       "slot, vcpu, join or stat step after it)");
	if (p->depth)
		return perr_at(p, f->step.line, f->brace_col,
			       "'{' is never closed (expected a '}' line "
			       "before the end of the file)");
	return unjoined(p, 0);
}

static int parse_text(struct sc_parser *p, const char *text, size_t len)
{
	size_t pos = 0;
	int rc = 0;

	while (!rc && pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		p->line++;
		rc = parse_line(p, text + pos, end - pos);
		pos = end + 1;
	}
	return rc ? rc : parse_end(p);
}

static void parser_free(struct sc_parser *p)
{
	unsigned int d;

	for (d = 0; d <= p->depth; d++) {
		struct sc_block b = { p->frames[d].body.v,
				      p->frames[d].body.n };

		block_free(&b);
		if (d)
			step_free(&p->frames[d].step);
	}
	free(p->syms.v);
	free(p->deviation);
}

/* --- public API ----------------------------------------------------------- */

void kvmmu_scenario_free(struct kvmmu_scenario *sc)
{
	if (!sc)
		return;
	block_free(&sc->top);
	step_free(&sc->vm);
	free(sc->file);
	free(sc);
}

int kvmmu_scenario_parse(const char *file, const char *text, size_t len,
			 struct kvmmu_scenario **out, char *err, size_t errlen)
{
	struct sc_parser *p;
	struct kvmmu_scenario *sc;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!file)
		file = "<input>";
	if (len > SC_MAX_TEXT) {
		if (err && errlen)
			snprintf(err, errlen,
				 "%s:1:1: file too large (more than 1 MiB)",
				 file);
		return -EFBIG;
	}
	p = calloc(1, sizeof(*p));
	sc = calloc(1, sizeof(*sc));
	if (sc)
		sc->file = strdup(file);
	if (!p || !sc || !sc->file) {
		free(p);
		kvmmu_scenario_free(sc);
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", file);
		return -ENOMEM;
	}
	sc->vm.kind = SC_VM;
	sc->vm.vm.arch = KVMMU_ARCH_X86;
	sc->vm.vm.vcpus = 1;
	sc->vm.vm.check = true;
	*p = (struct sc_parser){
		.file = file, .err = err, .errlen = errlen, .sc = sc
	};
	rc = parse_text(p, text, len);
	if (!rc) {
		sc->top = (struct sc_block){ p->frames[0].body.v,
					     p->frames[0].body.n };
		memset(&p->frames[0].body, 0, sizeof(p->frames[0].body));
		*out = sc;
	} else {
		kvmmu_scenario_free(sc);
	}
	parser_free(p);
	free(p);
	return rc;
}

int kvmmu_scenario_load(const char *path, struct kvmmu_scenario **out,
			char *err, size_t errlen)
{
	char *buf, ebuf[128];
	size_t n;
	FILE *f;
	int rc;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		goto fail;
	}
	buf = malloc(SC_MAX_TEXT + 1);
	if (!buf) {
		fclose(f);
		rc = -ENOMEM;
		goto fail;
	}
	errno = 0;
	n = fread(buf, 1, SC_MAX_TEXT + 1, f);
	rc = ferror(f) ? -(errno ? errno : EIO) : 0;
	fclose(f);
	if (!rc) {
		/* Its own messages: "path:line:col: ..." */
		rc = kvmmu_scenario_parse(path, buf, n, out, err, errlen);
		free(buf);
		return rc;
	}
	free(buf);
fail:
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", path,
			 strerror_r(-rc, ebuf, sizeof(ebuf)));
	return rc;
}
