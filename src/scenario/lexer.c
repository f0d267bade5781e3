// SPDX-License-Identifier: MIT
/*
 * The scenario lexer: words of a line and the syntax of the values in
 * them.  Pure functions over the caller's bytes; no allocation, no state.
 */
#include <errno.h>
#include <stdio.h>
#include "lexer.h"

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_digit(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A byte that may be part of a word. */
static bool is_word_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '{' && c != '}' && c != '#';
}

static int lex_fail(struct sc_lex_error *err, size_t i, const char *what,
		    unsigned char c)
{
	err->col = (unsigned int)i + 1;
	snprintf(err->msg, sizeof(err->msg), what, c);
	return -EINVAL;
}

/* Split a word at its first operator, if it has one. */
static void split_op(struct sc_tok *t)
{
	unsigned int i;

	for (i = 0; i < t->len; i++) {
		char c = t->s[i], d = i + 1 < t->len ? t->s[i + 1] : 0;

		t->oplen = d == '=' ? 2 : 1;
		if (c == '=')
			t->op = SC_OP_EQ;
		else if (c == '!' && d == '=')
			t->op = SC_OP_NE;
		else if (c == '<')
			t->op = d == '=' ? SC_OP_LE : SC_OP_LT;
		else if (c == '>')
			t->op = d == '=' ? SC_OP_GE : SC_OP_GT;
		else
			continue;
		t->has_op = true;
		t->klen = i;
		t->v = t->s + i + t->oplen;
		t->vlen = t->len - i - t->oplen;
		return;
	}
	t->oplen = 0;
}

/* A NUL is refused even inside a comment: the text is not a text file. */
static int scan_comment(const char *line, size_t i, size_t len,
			struct sc_lex_error *err)
{
	for (; i < len; i++)
		if (!line[i])
			return lex_fail(err, i, "NUL byte (a scenario is text)",
					0);
	return 0;
}

int sc_lex_line(const char *line, size_t len, struct sc_tok *toks,
		unsigned int *n, struct sc_lex_error *err)
{
	size_t i = 0;

	*n = 0;
	if (len && line[len - 1] == '\r')
		len--;
	if (len > SC_MAX_LINE)
		return lex_fail(err, SC_MAX_LINE,
				"line too long (more than 4096 bytes)", 0);
	while (i < len) {
		unsigned char c = (unsigned char)line[i];
		struct sc_tok *t;
		size_t start = i;

		if (c == ' ' || c == '\t') {
			i++;
			continue;
		}
		if (c == '#')
			return scan_comment(line, i, len, err);
		if (!c)
			return lex_fail(err, i, "NUL byte (a scenario is text)",
					0);
		if (c >= 0x80)
			return lex_fail(err, i,
					"non-ASCII byte 0x%02x (allowed only "
					"in comments)",
					c);
		if (c < ' ' || c == 0x7f)
			return lex_fail(err, i, "control character 0x%02x", c);
		if (*n == SC_MAX_WORDS)
			return lex_fail(err, i,
					"too many words on the line (at most "
					"64)",
					0);
		t = &toks[(*n)++];
		*t = (struct sc_tok){ .col = (unsigned int)i + 1,
				      .s = line + i };
		if (c == '{' || c == '}') {
			t->kind = c == '{' ? SC_TOK_LBRACE : SC_TOK_RBRACE;
			t->len = 1;
			i++;
			continue;
		}
		t->kind = SC_TOK_WORD;
		while (i < len && is_word_char((unsigned char)line[i]))
			i++;
		t->len = (unsigned int)(i - start);
		split_op(t);
	}
	return 0;
}

/* Digits of s[0..len) in @base; false if there are none or a bad one. */
static bool parse_digits(const char *s, size_t len, unsigned int base,
			 uint64_t *out, bool *overflow)
{
	uint64_t v = 0;
	size_t i;

	*overflow = false;
	if (!len)
		return false;
	for (i = 0; i < len; i++) {
		int d = base == 16 ? hex_digit(s[i]) :
				     (is_digit(s[i]) ? s[i] - '0' : -1);

		if (d < 0)
			return false;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			*overflow = true;
		v = v * base + (uint64_t)d;
	}
	*out = v;
	return true;
}

static size_t hex_prefix(const char *s, size_t len)
{
	return len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 2 : 0;
}

enum sc_num_status sc_lex_u64(const char *s, size_t len, uint64_t *out)
{
	size_t p = hex_prefix(s, len);
	bool overflow;

	if (!parse_digits(s + p, len - p, p ? 16 : 10, out, &overflow))
		return SC_NUM_BAD;
	return overflow ? SC_NUM_OVERFLOW : SC_NUM_OK;
}

enum sc_num_status sc_lex_size(const char *s, size_t len, uint64_t *out)
{
	size_t p = hex_prefix(s, len), e = p;
	unsigned int shift = 0;
	enum sc_num_status st;

	while (e < len && (p ? hex_digit(s[e]) >= 0 : is_digit(s[e])))
		e++;
	if (e == p)
		return SC_NUM_BAD;
	if (e < len) {
		if (!is_alpha(s[e]))
			return SC_NUM_BAD;
		if (e + 1 < len)
			return SC_NUM_SUFFIX;
		switch (s[e]) {
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		default:
			return SC_NUM_SUFFIX;
		}
	}
	st = sc_lex_u64(s, e, out);
	if (st != SC_NUM_OK)
		return st;
	if (shift && *out > (UINT64_MAX >> shift))
		return SC_NUM_OVERFLOW;
	*out <<= shift;
	return SC_NUM_OK;
}

bool sc_lex_name(const char *s, size_t len)
{
	size_t i;

	if (!len || len > SC_MAX_NAME || !is_alpha(s[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '_' &&
		    s[i] != '-')
			return false;
	return true;
}

enum sc_addr_status sc_lex_addr(const char *s, size_t len, const char **label,
				size_t *llen, uint64_t *off)
{
	size_t plus = 0;
	enum sc_num_status st;

	*label = NULL;
	*llen = 0;
	*off = 0;
	if (len && is_digit(s[0])) {
		st = sc_lex_size(s, len, off);
	} else {
		while (plus < len && s[plus] != '+')
			plus++;
		if (!sc_lex_name(s, plus))
			return SC_ADDR_LABEL;
		*label = s;
		*llen = plus;
		if (plus == len)
			return SC_ADDR_OK;
		st = sc_lex_size(s + plus + 1, len - plus - 1, off);
	}
	switch (st) {
	case SC_NUM_OK:
		return SC_ADDR_OK;
	case SC_NUM_SUFFIX:
		return SC_ADDR_SUFFIX;
	case SC_NUM_OVERFLOW:
		return SC_ADDR_OVERFLOW;
	default:
		return SC_ADDR_NUM;
	}
}
