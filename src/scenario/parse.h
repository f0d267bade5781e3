/* SPDX-License-Identifier: MIT */
/*
 * The scenario parser's shared state and helpers.  The parser is split by
 * what each part reads:
 *
 *   parse.c         the line and block loop, errors, the name table, the
 *                   repeat command, freeing, kvmmu_scenario_parse/_load/_free
 *   parse_args.c    a command's arguments checked against its spec, and
 *                   the value syntaxes (numbers, sizes, names, addresses,
 *                   widths, enum words, prot, slot flags, mm=, patterns)
 *   parse_expect.c  the expect clause, and the errno names it uses
 *   parse_host.c    host steps and memslot steps
 *   parse_vm.c      the vm line, vCPU steps, spawn and join, check, stat
 *
 * A syntax error is reported with sc_perr(), which fills the caller's
 * buffer with "file:line:col: message" and returns -EINVAL, running out of
 * memory with sc_nomem() (-ENOMEM); the first error stops the parse.
 */
#ifndef KVMMU_SCENARIO_PARSE_H
#define KVMMU_SCENARIO_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <kvmmu/scenario.h>
#include "lexer.h"

#define SC_MAX_SPEC 16
#define QLEN	    64 /* bytes of a word quoted in a message */

/* printf arguments for '%.*s' of a word, cut at QLEN bytes. */
#define TOKQ(t) (int)((t)->len < QLEN ? (t)->len : QLEN), (t)->s

/* --- parser state --------------------------------------------------------- */

struct sc_vec {
	struct sc_step *v;
	unsigned int n, cap;
};

/* An open block: the repeat or spawn step being built and its body. */
struct sc_frame {
	struct sc_step step;
	struct sc_vec body;
	unsigned int brace_col;
};

enum sc_sym_kind {
	SYM_LABEL = 1,
	SYM_FILE,
	SYM_PROC
};

struct sc_sym {
	unsigned char kind; /* 0: an empty slot */
	unsigned char len;
	bool live; /* processes: forked and not exited */
	char name[SC_MAX_NAME + 1];
	unsigned int line, col;
	unsigned int depth; /* processes: block depth of the fork */
};

struct sc_symtab {
	struct sc_sym *v;
	size_t cap, n;
};

struct sc_running {
	bool on;
	char name[SC_MAX_NAME + 1];
	unsigned int line, col, depth;
};

struct sc_parser {
	const char *file;
	char *err;
	size_t errlen;
	struct kvmmu_scenario *sc;
	unsigned int line;
	unsigned int cmd_col; /* the command word: where "missing" points */
	struct sc_tok tok[SC_MAX_WORDS];
	unsigned int ntok;
	struct sc_frame frames[SC_MAX_DEPTH + 1]; /* [0]: the top level */
	unsigned int depth;
	unsigned int nsteps;
	unsigned int forks[SC_MAX_DEPTH + 1]; /* live processes per depth */
	struct sc_symtab syms;
	struct sc_running spawn[SC_MAX_VCPUS]; /* by vCPU */
	unsigned int blocker_line; /* first step the vm line must precede */
	const char *blocker;
	char *deviation; /* a 'deviation' line waiting for its step */
	unsigned int deviation_line;
};

/* --- parse.c: errors, names, blocks --------------------------------------- */

/* "file:line:col: message" at @col of the current line; -EINVAL. */
__attribute__((format(printf, 3, 4))) int
sc_perr(struct sc_parser *p, unsigned int col, const char *fmt, ...);

/* "file: out of memory"; -ENOMEM. */
int sc_nomem(struct sc_parser *p);

/* A NUL-terminated copy of s[0..n), or NULL. */
char *sc_dupn(const char *s, size_t n);

/* The entry of a name, or NULL; @create adds a missing one (not live). */
struct sc_sym *sc_sym_get(struct sc_parser *p, int kind, const char *s,
			  size_t n, bool create);

/* The entry of a name that is live (defined and not gone), or NULL. */
struct sc_sym *sc_sym_live(struct sc_parser *p, int kind, const char *s,
			   size_t n);

/* The line ends with '{': the words before it, or an error. */
int sc_block_line(struct sc_parser *p, const char *what, unsigned int *end);

/* --- parse_args.c: arguments and values ----------------------------------- */

/*
 * The arguments a command takes: "size=SIZE" takes a value, "anon" does
 * not; "uN" and "uN=V" stand for the widths u8, u16, u32 and u64.
 */
struct sc_args {
	const char *cmd; /* for messages: "host mmap" */
	const char *const *spec;
	const struct sc_tok *got[SC_MAX_SPEC];
};

/* A word of a fixed vocabulary and its value ("wb", KVMMU_MT_WB). */
struct sc_word {
	const char *name;
	int val;
};

bool sc_word_is(const char *s, size_t len, const char *w);
/* 'u' and digits: a width key (sc_get_width() takes u8, u16, u32, u64). */
bool sc_is_width_key(const char *s, size_t n);
/* Index in @spec of the key s[0..n), or -1. */
int sc_spec_find(const char *const *spec, const char *s, size_t n);
/* "a, b, c" into buf. */
void sc_list_join(const char *const *v, size_t n, char *buf, size_t len);
/* The error for a '{' or '}' word where it does not belong. */
int sc_stray_brace(struct sc_parser *p, const struct sc_tok *t);
bool sc_is_expect(const struct sc_tok *t);
/* Index of the 'expect' word from @from on, or ntok. */
unsigned int sc_find_expect(struct sc_parser *p, unsigned int from);
/* Words [@from, @to) into @a->got, checked against @a->spec. */
int sc_collect(struct sc_parser *p, struct sc_args *a, unsigned int from,
	       unsigned int to);
/* The word given for spec entry @key, or NULL. */
const struct sc_tok *sc_arg(const struct sc_args *a, const char *key);
/* The word given for spec entry @key in *@t, or a "missing" error. */
int sc_need(struct sc_parser *p, const struct sc_args *a, const char *key,
	    const struct sc_tok **t);
/* The word at @i if it can be a positional argument (a plain word). */
const struct sc_tok *sc_positional(struct sc_parser *p, unsigned int i);
/* The error for two words that exclude each other, at the later one. */
int sc_conflict(struct sc_parser *p, const struct sc_tok *x,
		const struct sc_tok *y, const char *why);

int sc_get_u64(struct sc_parser *p, const struct sc_tok *t, uint64_t min,
	       uint64_t max, uint64_t *out);
int sc_get_size(struct sc_parser *p, const struct sc_tok *t, uint64_t max,
		uint64_t *out);
/* A required argument of the SIZE syntax. */
int sc_need_size(struct sc_parser *p, const struct sc_args *a, const char *key,
		 uint64_t max, uint64_t *out);
int sc_get_name(struct sc_parser *p, const struct sc_tok *t, const char *what);
/* LABEL, LABEL+OFFSET or a number; a label must be live. */
int sc_get_addr(struct sc_parser *p, const struct sc_tok *t, struct sc_addr *a);
/* The width of a uN word: 1, 2, 4 or 8 bytes. */
int sc_get_width(struct sc_parser *p, const struct sc_tok *t, unsigned int *w);
/* A number that fits in @w bytes. */
int sc_get_fit(struct sc_parser *p, const struct sc_tok *t, unsigned int w,
	       uint64_t *v);
/* uN=V: width and value. */
int sc_get_wvalue(struct sc_parser *p, const struct sc_tok *t, unsigned int *w,
		  uint64_t *v);
/* The value of KEY=WORD, one of the @nw words of @w. */
int sc_get_enum(struct sc_parser *p, const struct sc_tok *t,
		const struct sc_word *w, size_t nw, const char *what, int *out);

#define SC_GET_ENUM(p, t, words, what, out) \
	sc_get_enum(p, t, words, sizeof(words) / sizeof(words[0]), what, out)

/* prot=: none, or letters from r, w, x. */
int sc_get_prot(struct sc_parser *p, const struct sc_tok *t, int *prot);
/* flags=: slot flags, comma-separated, or 0 or none. */
int sc_get_flags(struct sc_parser *p, const struct sc_tok *t, uint32_t *flags);
/* mm=PROC: NULL for the VMM. */
int sc_get_mm(struct sc_parser *p, const struct sc_args *a, char **mm);
/* size= and seed= of a fill or verify; the size a multiple of 8. */
int sc_get_pattern(struct sc_parser *p, const struct sc_args *a, uint64_t max,
		   uint64_t *size, uint64_t *seed);

/* --- parse_expect.c: expectations ----------------------------------------- */

/* Masks of the outcomes a step allows. */
#define XM(k)	 (1u << (k))
#define XM_DATA	 (1u << 8) /* expect mmio data= */
#define XM_REPLY (1u << 9) /* expect mmio reply= */
#define XM_HOST	 (XM(SC_EXP_OK) | XM(SC_EXP_ERRNO))
#define XM_VCPU	 (XM(SC_EXP_OK) | XM(SC_EXP_MMIO) | XM(SC_EXP_EFAULT))

/* The expectation in words [@e, @end), @e the 'expect' word, into @x. */
int sc_parse_expect(struct sc_parser *p, unsigned int e, unsigned int end,
		    unsigned int mask, const char *cmd, unsigned int width,
		    struct sc_expect *x);

/* A read's width: from its uN word, from 'expect uN=V', or 8. */
int sc_read_width(struct sc_parser *p, const struct sc_tok *wt, unsigned int e,
		  const struct sc_expect *x, unsigned int *w);

/* --- parse_host.c, parse_vm.c: the commands ------------------------------- */

/* Each parses the words of the current line (p->tok) into @st. */
int sc_cmd_host(struct sc_parser *p, struct sc_step *st);
int sc_cmd_slot(struct sc_parser *p, struct sc_step *st);
int sc_cmd_vm(struct sc_parser *p, struct sc_step *st);
int sc_cmd_vcpu(struct sc_parser *p, struct sc_step *st);
int sc_cmd_spawn(struct sc_parser *p, struct sc_step *st);
int sc_cmd_join(struct sc_parser *p, struct sc_step *st);
int sc_cmd_check(struct sc_parser *p, struct sc_step *st);
int sc_cmd_stat(struct sc_parser *p, struct sc_step *st);

/* Remember the first step the vm line must precede ("slot", "vcpu", ...). */
void sc_blocker(struct sc_parser *p, const char *what);

/* An access at word @i: "read gpa=..." after "vcpu N" or in a spawn body. */
int sc_vcpu_access(struct sc_parser *p, struct sc_step *st, unsigned int i,
		   unsigned int vcpu, bool body);

#endif /* KVMMU_SCENARIO_PARSE_H */
