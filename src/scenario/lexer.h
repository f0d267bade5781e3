/* SPDX-License-Identifier: MIT */
/*
 * The scenario lexer: one line into words, and the value syntaxes the
 * parser reads out of them (numbers, sizes, addresses, names).  Nothing
 * here allocates: words point into the line.
 */
#ifndef KVMMU_SCENARIO_LEXER_H
#define KVMMU_SCENARIO_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ast.h"

#define SC_MAX_LINE  4096	/* bytes of a line, without its newline */
#define SC_MAX_WORDS 64		/* words on a line */
#define SC_MAX_TEXT  (1u << 20) /* bytes of a scenario */

enum sc_tok_kind {
	SC_TOK_WORD,
	SC_TOK_LBRACE, /* '{' */
	SC_TOK_RBRACE, /* '}' */
};

/*
 * A word.  When it holds an operator (= == != < <= > >=) it is split at
 * the first one: key s[0..klen), the operator, value v[0..vlen).  "a=" has
 * an empty value, "=a" an empty key.
 */
struct sc_tok {
	enum sc_tok_kind kind;
	unsigned int col; /* 1-based byte column */
	const char *s;
	unsigned int len;
	bool has_op;
	enum sc_op op;
	unsigned int oplen; /* 1 or 2: tells "=" from "==" */
	unsigned int klen;
	const char *v;
	unsigned int vlen;
};

struct sc_lex_error {
	unsigned int col;
	char msg[96];
};

/**
 * sc_lex_line() - split one line into words.
 * @line: the line without its '\n' (a trailing '\r' is dropped here).
 * @toks: room for SC_MAX_WORDS words; *@n receives how many.
 *
 * Whitespace is blanks and tabs; '{' and '}' are words of their own; '#'
 * starts a comment.  Outside comments only printable ASCII is allowed,
 * and a NUL byte is refused anywhere.
 * Return: 0, or -EINVAL with @err filled in.
 */
int sc_lex_line(const char *line, size_t len, struct sc_tok *toks,
		unsigned int *n, struct sc_lex_error *err);

enum sc_num_status {
	SC_NUM_OK,
	SC_NUM_BAD,	 /* not a number */
	SC_NUM_SUFFIX,	 /* a number followed by something not K, M or G */
	SC_NUM_OVERFLOW, /* more than 64 bits */
};

/* A decimal or 0x-hex number, all of s[0..len). */
enum sc_num_status sc_lex_u64(const char *s, size_t len, uint64_t *out);

/* A number with an optional K, M or G suffix (powers of 1024). */
enum sc_num_status sc_lex_size(const char *s, size_t len, uint64_t *out);

/* A name: a letter, then letters, digits, '_' or '-'; SC_MAX_NAME bytes. */
bool sc_lex_name(const char *s, size_t len);

enum sc_addr_status {
	SC_ADDR_OK,
	SC_ADDR_LABEL, /* the part before '+' (or the word) is not a name */
	SC_ADDR_NUM,   /* bad number or offset */
	SC_ADDR_SUFFIX,
	SC_ADDR_OVERFLOW,
};

/*
 * An address: "label", "label+OFFSET" or a number (sizes' syntax).  On
 * success *@label / *@llen give the label (NULL, 0 for a number) and
 * *@off the offset or the number.
 */
enum sc_addr_status sc_lex_addr(const char *s, size_t len, const char **label,
				size_t *llen, uint64_t *off);

#endif /* KVMMU_SCENARIO_LEXER_H */
