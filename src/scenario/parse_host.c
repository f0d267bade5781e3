// SPDX-License-Identifier: MIT
/*
 * Scenario parser: host steps ("host OP ..."; system calls of the VMM or
 * of a process it forked, named by mm=) and memslot steps ("slot ID ...";
 * one KVM_SET_USER_MEMORY_REGION2 each).  Host steps define the names
 * later steps use: labels (mmap), files (memfd) and processes (fork; exit
 * ends one).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include "parse.h"

/* --- host steps ----------------------------------------------------------- */

struct host_op;
typedef int (*host_fn)(struct sc_parser *p, struct sc_step *st,
		       const struct sc_tok *pt, const struct sc_args *a);

struct host_op {
	const char *name; /* "host mmap" */
	enum sc_kind kind;
	host_fn fn;
	const char *what; /* the positional argument */
	unsigned int mask;
	const char *spec[SC_MAX_SPEC];
};

static const struct sc_word memtypes[] = {
	{ "wb", KVMMU_MT_WB },
	{ "nc", KVMMU_MT_NC },
	{ "device", KVMMU_MT_DEVICE },
};

static int mmap_backing(struct sc_parser *p, struct sc_step *st,
			const struct sc_args *a)
{
	const struct sc_tok *b[3] = { sc_arg(a, "anon"), sc_arg(a, "file"),
				      sc_arg(a, "pfnmap") };
	const struct sc_tok *first = NULL, *priv = sc_arg(a, "private"),
			    *shared = sc_arg(a, "shared");
	int i;

	for (i = 0; i < 3; i++) {
		if (!b[i])
			continue;
		if (first)
			return sc_conflict(p, first, b[i],
					   "expected one of anon, file=FILE, "
					   "pfnmap");
		first = b[i];
	}
	if (!first)
		return sc_perr(p, p->cmd_col,
			       "missing anon, file=FILE or pfnmap for host "
			       "mmap");
	if (priv && shared)
		return sc_conflict(p, priv, shared,
				   "expected private or shared");
	if (priv && b[2])
		return sc_conflict(p, priv, b[2], "a pfnmap mapping is shared");
	st->mmap.pfnmap = b[2] != NULL;
	st->mmap.shared = shared || b[2];
	if (!b[1])
		return 0;
	if (sc_get_name(p, b[1], "file"))
		return -EINVAL;
	if (!sc_sym_live(p, SYM_FILE, b[1]->v, b[1]->vlen))
		return sc_perr(p, b[1]->col,
			       "undefined file in '%.*s' (expected a file made "
			       "by an earlier host memfd)",
			       TOKQ(b[1]));
	st->mmap.file = sc_dupn(b[1]->v, b[1]->vlen);
	return st->mmap.file ? 0 : sc_nomem(p);
}

static int h_mmap(struct sc_parser *p, struct sc_step *st,
		  const struct sc_tok *pt, const struct sc_args *a)
{
	const struct sc_tok *t;
	struct sc_sym *sym;
	struct sc_addr at = { 0 };
	int rc, mt;

	rc = sc_get_name(p, pt, "label");
	if (rc)
		return rc;
	sym = sc_sym_live(p, SYM_LABEL, pt->s, pt->len);
	if (sym)
		return sc_perr(p, pt->col,
			       "label '%.*s' is already defined (line %u)",
			       TOKQ(pt), sym->line);
	st->mmap.label = sc_dupn(pt->s, pt->len);
	if (!st->mmap.label)
		return sc_nomem(p);
	rc = sc_need_size(p, a, "size", SC_MAX_SIZE, &st->mmap.size);
	if (!rc)
		rc = mmap_backing(p, st, a);
	st->mmap.prot = PROT_READ | PROT_WRITE;
	if (!rc && (t = sc_arg(a, "prot")))
		rc = sc_get_prot(p, t, &st->mmap.prot);
	if (!rc && (t = sc_arg(a, "at"))) {
		st->mmap.has_at = true;
		rc = sc_get_addr(p, t, &at);
		st->mmap.at = at.off;
		st->mmap.at_label = at.label;
	}
	if (!rc && (t = sc_arg(a, "offset"))) {
		if (!st->mmap.file)
			return sc_perr(p, t->col,
				       "'%.*s' needs file= (only a file "
				       "mapping has an offset)",
				       TOKQ(t));
		rc = sc_get_size(p, t, UINT64_MAX, &st->mmap.offset);
	}
	st->mmap.populate = sc_arg(a, "populate") != NULL;
	mt = st->mmap.pfnmap ? KVMMU_MT_DEVICE : KVMMU_MT_WB;
	if (!rc && (t = sc_arg(a, "memtype"))) {
		if (!st->mmap.pfnmap)
			return sc_perr(p, t->col,
				       "'%.*s' needs pfnmap (only a pfnmap "
				       "mapping has a memory type)",
				       TOKQ(t));
		rc = SC_GET_ENUM(p, t, memtypes, "memory type", &mt);
	}
	st->mmap.memtype = (enum kvmmu_memtype)mt;
	if (rc)
		return rc;
	/* Defined from here on: at= cannot name the label it defines. */
	sym = sc_sym_get(p, SYM_LABEL, pt->s, pt->len, true);
	if (!sym)
		return sc_nomem(p);
	sym->live = true;
	sym->line = p->line;
	return 0;
}

/* ADDR size= [prot=] [advice=] */
static const struct sc_word advices[] = {
	{ "dontneed", MADV_DONTNEED },	   { "remove", MADV_REMOVE },
	{ "dontfork", MADV_DONTFORK },	   { "dofork", MADV_DOFORK },
	{ "mergeable", MADV_MERGEABLE },   { "unmergeable", MADV_UNMERGEABLE },
	{ "normal", MADV_NORMAL },	   { "random", MADV_RANDOM },
	{ "sequential", MADV_SEQUENTIAL }, { "willneed", MADV_WILLNEED },
};

static int h_range(struct sc_parser *p, struct sc_step *st,
		   const struct sc_tok *pt, const struct sc_args *a)
{
	const struct sc_tok *t;
	int rc = sc_get_addr(p, pt, &st->range.addr);

	if (!rc)
		rc = sc_need_size(p, a, "size", SC_MAX_SIZE, &st->range.size);
	if (!rc && st->kind == SC_HOST_MPROTECT) {
		rc = sc_need(p, a, "prot", &t);
		if (!rc)
			rc = sc_get_prot(p, t, &st->range.prot);
	}
	if (!rc && st->kind == SC_HOST_MADVISE) {
		rc = sc_need(p, a, "advice", &t);
		if (!rc)
			rc = SC_GET_ENUM(p, t, advices, "advice",
					 &st->range.advice);
	}
	return rc;
}

static int h_mremap(struct sc_parser *p, struct sc_step *st,
		    const struct sc_tok *pt, const struct sc_args *a)
{
	const struct sc_tok *t;
	int rc = sc_get_addr(p, pt, &st->mremap.addr);

	if (!rc)
		rc = sc_need_size(p, a, "size", SC_MAX_SIZE, &st->mremap.size);
	if (!rc)
		rc = sc_need_size(p, a, "new_size", SC_MAX_SIZE,
				  &st->mremap.new_size);
	if (!rc && (t = sc_arg(a, "to"))) {
		st->mremap.has_to = true;
		rc = sc_get_addr(p, t, &st->mremap.to);
	}
	st->mremap.maymove = sc_arg(a, "maymove") || st->mremap.has_to;
	return rc;
}

/* fork, exit */
static int h_proc(struct sc_parser *p, struct sc_step *st,
		  const struct sc_tok *pt, const struct sc_args *a)
{
	bool fork = st->kind == SC_HOST_FORK;
	struct sc_sym *sym;
	int rc = sc_get_name(p, pt, "process");

	if (rc)
		return rc;
	if (sc_word_is(pt->s, pt->len, "vmm"))
		return sc_perr(p, pt->col,
			       "'vmm' is the VMM process (expected %s)",
			       fork ? "a new process name" :
				      "a process made by host fork");
	sym = sc_sym_live(p, SYM_PROC, pt->s, pt->len);
	if (fork && sym)
		return sc_perr(p, pt->col,
			       "process '%.*s' already exists (forked at line "
			       "%u)",
			       TOKQ(pt), sym->line);
	if (!fork && !sym)
		return sc_perr(p, pt->col,
			       "undefined process '%.*s' (expected a process "
			       "made by an earlier host fork)",
			       TOKQ(pt));
	if (fork) {
		sym = sc_sym_get(p, SYM_PROC, pt->s, pt->len, true);
		if (!sym)
			return sc_nomem(p);
		sym->live = true;
		sym->line = p->line;
		sym->col = pt->col;
		sym->depth = p->depth;
		p->forks[p->depth]++;
	} else if (sym->depth < p->depth) {
		return sc_perr(p, pt->col,
			       "process '%.*s' was forked outside this repeat "
			       "block (line %u) (expected its exit in the same "
			       "block as its fork)",
			       TOKQ(pt), sym->line);
	} else {
		sym->live = false;
		p->forks[sym->depth]--;
	}
	st->obj.name = sc_dupn(pt->s, pt->len);
	return st->obj.name ? 0 : sc_nomem(p);
}

/* memfd, ftruncate, punch */
static int h_file(struct sc_parser *p, struct sc_step *st,
		  const struct sc_tok *pt, const struct sc_args *a)
{
	struct sc_sym *sym;
	int rc = sc_get_name(p, pt, "file");

	if (rc)
		return rc;
	sym = sc_sym_live(p, SYM_FILE, pt->s, pt->len);
	if (st->kind == SC_HOST_MEMFD) {
		if (sym)
			return sc_perr(p, pt->col,
				       "file '%.*s' already exists (line %u)",
				       TOKQ(pt), sym->line);
		sym = sc_sym_get(p, SYM_FILE, pt->s, pt->len, true);
		if (!sym)
			return sc_nomem(p);
		sym->live = true;
		sym->line = p->line;
	} else if (!sym) {
		return sc_perr(p, pt->col,
			       "undefined file '%.*s' (expected a file made by "
			       "an earlier host memfd)",
			       TOKQ(pt));
	}
	st->obj.name = sc_dupn(pt->s, pt->len);
	if (!st->obj.name)
		return sc_nomem(p);
	if (st->kind == SC_HOST_PUNCH) {
		rc = sc_need_size(p, a, "offset", UINT64_MAX, &st->obj.offset);
	}
	if (!rc)
		rc = sc_need_size(p, a, "size", SC_MAX_SIZE, &st->obj.size);
	return rc;
}

/* write, read, fill, verify */
static int h_access(struct sc_parser *p, struct sc_step *st,
		    const struct sc_tok *pt, const struct sc_args *a)
{
	const struct sc_tok *t;
	int rc = sc_get_addr(p, pt, &st->hacc.addr);

	if (rc)
		return rc;
	switch (st->kind) {
	case SC_HOST_WRITE:
		rc = sc_need(p, a, "uN", &t);
		return rc ? rc :
			    sc_get_wvalue(p, t, &st->hacc.width,
					  &st->hacc.value);
	case SC_HOST_READ:
		return 0; /* the width comes with the expectation */
	default:
		rc = sc_get_pattern(p, a, SC_MAX_SIZE, &st->hacc.size,
				    &st->hacc.seed);
		if (!rc && (t = sc_arg(a, "gpa")))
			rc = sc_get_size(p, t, UINT64_MAX, &st->hacc.basis);
		return rc;
	}
}

#define MM "mm=PROC"

static const struct host_op host_ops[] = {
	{ "host mmap",
	  SC_HOST_MMAP,
	  h_mmap,
	  "LABEL",
	  XM_HOST,
	  { "size=SIZE", "anon", "file=FILE", "pfnmap", "private", "shared",
	    "prot=P", "at=ADDR", "offset=N", "populate", "memtype=wb|nc|device",
	    MM } },
	{ "host munmap",
	  SC_HOST_MUNMAP,
	  h_range,
	  "ADDR",
	  XM_HOST,
	  { "size=SIZE", MM } },
	{ "host mprotect",
	  SC_HOST_MPROTECT,
	  h_range,
	  "ADDR",
	  XM_HOST,
	  { "size=SIZE", "prot=P", MM } },
	{ "host mremap",
	  SC_HOST_MREMAP,
	  h_mremap,
	  "ADDR",
	  XM_HOST,
	  { "size=SIZE", "new_size=SIZE", "to=ADDR", "maymove", MM } },
	{ "host madvise",
	  SC_HOST_MADVISE,
	  h_range,
	  "ADDR",
	  XM_HOST,
	  { "size=SIZE", "advice=A", MM } },
	{ "host ksm_merge",
	  SC_HOST_KSM,
	  h_range,
	  "ADDR",
	  XM_HOST | XM(SC_EXP_SHARED),
	  { "size=SIZE", MM } },
	{ "host fork", SC_HOST_FORK, h_proc, "PROC", XM_HOST, { MM } },
	{ "host exit", SC_HOST_EXIT, h_proc, "PROC", XM_HOST, { NULL } },
	{ "host memfd", SC_HOST_MEMFD, h_file, "FILE", XM_HOST, { "size=SIZE" } },
	{ "host ftruncate",
	  SC_HOST_FTRUNCATE,
	  h_file,
	  "FILE",
	  XM_HOST,
	  { "size=SIZE" } },
	{ "host punch",
	  SC_HOST_PUNCH,
	  h_file,
	  "FILE",
	  XM_HOST,
	  { "offset=N", "size=SIZE" } },
	{ "host write",
	  SC_HOST_WRITE,
	  h_access,
	  "ADDR",
	  XM_HOST,
	  { "uN=V", MM } },
	{ "host read",
	  SC_HOST_READ,
	  h_access,
	  "ADDR",
	  XM(SC_EXP_VALUE) | XM(SC_EXP_ERRNO),
	  { "uN", MM } },
	{ "host fill",
	  SC_HOST_FILL,
	  h_access,
	  "ADDR",
	  XM_HOST,
	  { "size=SIZE", "seed=S", "gpa=G", MM } },
	{ "host verify",
	  SC_HOST_VERIFY,
	  h_access,
	  "ADDR",
	  XM_HOST,
	  { "size=SIZE", "seed=S", "gpa=G", MM } },
};

#define NR_HOST_OPS (sizeof(host_ops) / sizeof(host_ops[0]))

int sc_cmd_host(struct sc_parser *p, struct sc_step *st)
{
	const struct host_op *op = NULL;
	const struct sc_tok *ot = p->ntok > 1 ? &p->tok[1] : NULL, *pt, *last;
	struct sc_args a = { 0 };
	unsigned int e, end;
	size_t i;
	int rc;

	if (ot && (ot->kind != SC_TOK_WORD || sc_is_expect(ot)))
		ot = NULL;
	for (i = 0; ot && i < NR_HOST_OPS; i++)
		if (sc_word_is(ot->s, ot->len, host_ops[i].name + 5))
			op = &host_ops[i];
	if (!op) {
		static const char *const names =
			"mmap, munmap, mprotect, mremap, madvise, ksm_merge, "
			"fork, exit, "
			"memfd, ftruncate, punch, write, read, fill, verify";

		if (!ot)
			return sc_perr(p, p->cmd_col,
				       "missing host operation (expected %s)",
				       names);
		return sc_perr(p, ot->col,
			       "unknown host operation '%.*s' (expected %s)",
			       TOKQ(ot), names);
	}
	st->kind = op->kind;
	p->cmd_col = ot->col;
	pt = sc_positional(p, 2);
	if (!pt)
		return sc_perr(p, ot->col, "missing %s for %s", op->what,
			       op->name);
	a.cmd = op->name;
	a.spec = op->spec;
	e = sc_find_expect(p, 3);
	end = p->ntok;
	rc = sc_collect(p, &a, 3, e);
	/* "host read ram expect u64=1 mm=child": mm= may follow it. */
	last = &p->tok[end - 1];
	if (!rc && e + 2 < end && last->kind == SC_TOK_WORD && last->has_op &&
	    sc_word_is(last->s, last->klen, "mm") &&
	    sc_spec_find(op->spec, "mm", 2) >= 0)
		rc = sc_collect(p, &a, --end, p->ntok);
	if (!rc)
		rc = op->fn(p, st, pt, &a);
	if (!rc)
		rc = sc_get_mm(p, &a, &st->mm);
	if (!rc)
		rc = sc_parse_expect(p, e, end, op->mask, op->name, 8,
				     &st->expect);
	if (rc || st->kind != SC_HOST_READ)
		return rc;
	if (e == end)
		return sc_perr(p, ot->col, "missing expect uN=V for host read");
	return sc_read_width(p, sc_arg(&a, "uN"), e, &st->expect,
			     &st->hacc.width);
}

/* --- memslots ------------------------------------------------------------- */

int sc_cmd_slot(struct sc_parser *p, struct sc_step *st)
{
	static const char *const spec[] = { "gpa=G",   "size=SIZE", "hva=ADDR",
					    "flags=F", "as=N",	    "delete",
					    "move",    NULL };
	struct sc_args a = { .cmd = "slot", .spec = spec };
	const struct sc_tok *t = sc_positional(p, 1), *g, *s, *h, *f, *del, *mv;
	unsigned int e = sc_find_expect(p, 2);
	uint64_t id, as = 0;
	int rc;

	st->kind = SC_SLOT;
	sc_blocker(p, "slot");
	if (!t)
		return sc_perr(p, p->cmd_col,
			       "missing ID for slot (expected slot ID gpa=G "
			       "size=SIZE hva=ADDR, delete, move or flags=F)");
	rc = sc_get_u64(p, t, 0, 65535, &id);
	if (!rc)
		rc = sc_collect(p, &a, 2, e);
	if (!rc && (t = sc_arg(&a, "as")))
		rc = sc_get_u64(p, t, 0, 255, &as);
	if (rc)
		return rc;
	st->slot.as = (unsigned int)as;
	st->slot.id = (uint32_t)id;
	g = sc_arg(&a, "gpa");
	s = sc_arg(&a, "size");
	h = sc_arg(&a, "hva");
	f = sc_arg(&a, "flags");
	del = sc_arg(&a, "delete");
	mv = sc_arg(&a, "move");
	if (del && mv)
		return sc_conflict(p, del, mv, "expected delete or move");
	t = g ? g : s ? s : h ? h : f;
	if (del && t)
		return sc_conflict(p, del, t, "expected slot ID delete [as=N]");
	t = s ? s : h ? h : f;
	if (mv && t)
		return sc_conflict(p, mv, t,
				   "expected slot ID move gpa=G [as=N]");
	if (del)
		st->slot.op = SC_SLOT_DELETE;
	else if (mv)
		st->slot.op = SC_SLOT_MOVE;
	else if (g || s || h)
		st->slot.op = SC_SLOT_SET;
	else if (f)
		st->slot.op = SC_SLOT_FLAGS;
	else
		return sc_perr(p, p->cmd_col,
			       "missing gpa=G size=SIZE hva=ADDR, delete, move "
			       "gpa=G or flags=F for slot");
	if (st->slot.op == SC_SLOT_SET || st->slot.op == SC_SLOT_MOVE) {
		rc = sc_need_size(p, &a, "gpa", UINT64_MAX, &st->slot.gpa);
		st->slot.has_gpa = true;
	}
	if (!rc && st->slot.op == SC_SLOT_SET) {
		rc = sc_need_size(p, &a, "size", UINT64_MAX, &st->slot.size);
		if (!rc)
			rc = sc_need(p, &a, "hva", &h);
		if (!rc)
			rc = sc_get_addr(p, h, &st->slot.hva);
		st->slot.has_size = st->slot.has_hva = true;
	}
	if (!rc && f) {
		st->slot.has_flags = true;
		rc = sc_get_flags(p, f, &st->slot.flags);
	}
	return rc ? rc :
		    sc_parse_expect(p, e, p->ntok, XM_HOST, "slot", 8,
				    &st->expect);
}
