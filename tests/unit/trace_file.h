/* SPDX-License-Identifier: MIT */
/*
 * Reading a trace file back in the tracing tests (trace.c): a strict JSON
 * parser of our own (RFC 8259, into a small tree; no python3 in CI) and
 * helpers that load a closed trace and find its events and their args.
 */
#ifndef KVMMU_TESTS_TRACE_FILE_H
#define KVMMU_TESTS_TRACE_FILE_H

#include <kvmmu/trace.h>
#include "kvm_common.h"

/* --- a strict JSON parser (RFC 8259) into a small tree ------------------- */

enum jtype {
	J_NULL,
	J_BOOL,
	J_NUM,
	J_STR,
	J_ARR,
	J_OBJ,
};

struct jv {
	enum jtype t;
	double num; /* J_NUM, J_BOOL */
	char *str;  /* J_STR, decoded */
	struct jv **v;
	char **k; /* J_OBJ: keys of v[] */
	size_t n;
};

struct jp {
	const char *p, *end;
	bool err;
};

static void j_ws(struct jp *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool j_eat(struct jp *s, char c)
{
	j_ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return true;
	}
	return false;
}

static void j_put_utf8(char **o, unsigned int cp)
{
	if (cp < 0x80) {
		*(*o)++ = (char)cp;
	} else if (cp < 0x800) {
		*(*o)++ = (char)(0xc0 | cp >> 6);
		*(*o)++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*(*o)++ = (char)(0xe0 | cp >> 12);
		*(*o)++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*(*o)++ = (char)(0x80 | (cp & 0x3f));
	}
}

/* A string at s->p (on the opening quote): decoded, or NULL. */
static char *j_string(struct jp *s)
{
	char *out, *o;

	if (s->p >= s->end || *s->p != '"')
		return NULL;
	s->p++;
	out = o = malloc((size_t)(s->end - s->p) + 1);
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p++;
		unsigned int cp;

		if (c < 0x20)
			goto bad; /* raw control characters are not JSON */
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		if (s->p >= s->end)
			goto bad;
		switch (*s->p++) {
		case '"':
			*o++ = '"';
			break;
		case '\\':
			*o++ = '\\';
			break;
		case '/':
			*o++ = '/';
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			if (s->end - s->p < 4 || sscanf(s->p, "%4x", &cp) != 1)
				goto bad;
			s->p += 4;
			j_put_utf8(&o, cp); /* surrogates: not produced */
			break;
		default:
			goto bad;
		}
	}
	if (s->p >= s->end)
		goto bad;
	s->p++;
	*o = 0;
	return out;
bad:
	free(out);
	return NULL;
}

static bool j_digits(struct jp *s)
{
	const char *b = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > b;
}

static struct jv *j_value(struct jp *s, int depth);

static struct jv *j_new(enum jtype t)
{
	struct jv *v = calloc(1, sizeof(*v));

	v->t = t;
	return v;
}

static void j_push(struct jv *a, char *key, struct jv *item)
{
	a->v = realloc(a->v, (a->n + 1) * sizeof(*a->v));
	a->v[a->n] = item;
	if (a->t == J_OBJ) {
		a->k = realloc(a->k, (a->n + 1) * sizeof(*a->k));
		a->k[a->n] = key;
	}
	a->n++;
}

static void j_free(struct jv *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		j_free(v->v[i]);
		if (v->k)
			free(v->k[i]);
	}
	free(v->v);
	free(v->k);
	free(v->str);
	free(v);
}

/* [ or { already eaten */
static struct jv *j_container(struct jp *s, enum jtype t, char close, int depth)
{
	struct jv *a = j_new(t);

	if (j_eat(s, close))
		return a;
	do {
		char *key = NULL;
		struct jv *item;

		if (t == J_OBJ) {
			j_ws(s);
			key = j_string(s);
			if (!key || !j_eat(s, ':')) {
				free(key);
				goto bad;
			}
		}
		item = j_value(s, depth + 1);
		if (!item) {
			free(key);
			goto bad;
		}
		j_push(a, key, item);
	} while (j_eat(s, ','));
	if (j_eat(s, close))
		return a;
bad:
	j_free(a);
	return NULL;
}

static struct jv *j_value(struct jp *s, int depth)
{
	static const char *const lit[] = { "null", "true", "false" };
	const char *b;
	struct jv *v;
	unsigned int i;

	j_ws(s);
	if (s->p >= s->end || depth > 64)
		return NULL;
	if (*s->p == '{' || *s->p == '[') {
		bool obj = *s->p++ == '{';

		return j_container(s, obj ? J_OBJ : J_ARR, obj ? '}' : ']',
				   depth);
	}
	if (*s->p == '"') {
		char *str = j_string(s);

		if (!str)
			return NULL;
		v = j_new(J_STR);
		v->str = str;
		return v;
	}
	for (i = 0; i < ARRAY_SIZE(lit); i++) {
		size_t l = strlen(lit[i]);

		if ((size_t)(s->end - s->p) >= l && !memcmp(s->p, lit[i], l)) {
			s->p += l;
			v = j_new(i ? J_BOOL : J_NULL);
			v->num = i == 1;
			return v;
		}
	}
	/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
	b = s->p;
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (s->p >= s->end || *s->p < '1' || *s->p > '9' || !j_digits(s))
		return NULL;
	if (s->p < s->end && *s->p == '.' && (s->p++, !j_digits(s)))
		return NULL;
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!j_digits(s))
			return NULL;
	}
	v = j_new(J_NUM);
	v->num = strtod(b, NULL);
	return v;
}

/* Parse a whole document; NULL unless it is exactly one JSON value. */
static struct jv *j_parse(const char *text, size_t len)
{
	struct jp s = { text, text + len, false };
	struct jv *v = j_value(&s, 0);

	j_ws(&s);
	if (v && s.p != s.end) {
		j_free(v);
		return NULL;
	}
	return v;
}

static struct jv *j_get(const struct jv *o, const char *key)
{
	size_t i;

	if (!o || o->t != J_OBJ)
		return NULL;
	for (i = 0; i < o->n; i++)
		if (!strcmp(o->k[i], key))
			return o->v[i];
	return NULL;
}

static const char *j_str(const struct jv *o, const char *key)
{
	const struct jv *v = j_get(o, key);

	return v && v->t == J_STR ? v->str : "";
}

/* A number member; -1 if missing or not a number. */
static double j_num(const struct jv *o, const char *key)
{
	const struct jv *v = j_get(o, key);

	return v && v->t == J_NUM ? v->num : -1;
}

/* A "0x..." member as a u64; ~0 if missing or malformed. */
static uint64_t j_hex(const struct jv *o, const char *key)
{
	const char *s = j_str(o, key);
	char *end;
	uint64_t x;

	if (strncmp(s, "0x", 2) || !s[2])
		return ~0ull;
	x = strtoull(s + 2, &end, 16);
	return *end ? ~0ull : x;
}

static uint64_t arg_hex(const struct jv *e, const char *key)
{
	return j_hex(j_get(e, "args"), key);
}

static double arg_num(const struct jv *e, const char *key)
{
	return j_num(j_get(e, "args"), key);
}

static const char *arg_str(const struct jv *e, const char *key)
{
	return j_str(j_get(e, "args"), key);
}

/* --- a trace file and its checks ------------------------------------------ */

struct tf {
	char path[64];
	struct jv *doc, *events; /* events: the traceEvents array */
};

static struct kvmmu_trace *tf_open(struct tf *f)
{
	struct kvmmu_trace *t;
	int fd;

	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "/tmp/kvmmu-trace-XXXXXX");
	fd = mkstemp(f->path);
	ASSERT_GE(fd, 0);
	close(fd);
	ASSERT_OK(kvmmu_trace_open(f->path, &t));
	return t;
}

/*
 * Read the file back, parse it and check what holds for every trace: the
 * document's shape, every event's common fields, a thread_name for every
 * tid, and timestamps in order.  The file is removed.
 */
static void tf_load(struct tf *f)
{
	bool named[64] = { false };
	double last_ts = 0;
	struct jv *other;
	char *text;
	FILE *fp;
	long len;
	size_t i;

	fp = fopen(f->path, "r");
	ASSERT_TRUE(fp != NULL);
	ASSERT_OK(fseek(fp, 0, SEEK_END));
	len = ftell(fp);
	ASSERT_GT(len, 0);
	rewind(fp);
	text = malloc((size_t)len);
	ASSERT_EQ(fread(text, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	unlink(f->path);
	f->doc = j_parse(text, (size_t)len);
	free(text);
	ASSERT_TRUE(f->doc != NULL);

	ASSERT_EQ(f->doc->t, J_OBJ);
	f->events = j_get(f->doc, "traceEvents");
	ASSERT_TRUE(f->events && f->events->t == J_ARR);
	ASSERT_TRUE(!strcmp(j_str(f->doc, "displayTimeUnit"), "ns"));
	other = j_get(f->doc, "otherData");
	ASSERT_TRUE(other && other->t == J_OBJ);
	ASSERT_GE(j_num(other, "dropped_events"), 0);

	for (i = 0; i < f->events->n; i++) {
		const struct jv *e = f->events->v[i];
		const char *ph = j_str(e, "ph");
		double tid = j_num(e, "tid"), ts = j_num(e, "ts");

		ASSERT_EQ(e->t, J_OBJ);
		ASSERT_TRUE(j_str(e, "name")[0]);
		ASSERT_EQ(strlen(ph), 1);
		ASSERT_TRUE(strchr("XiBEM", ph[0]) != NULL);
		ASSERT_EQ(j_num(e, "pid"), 1);
		ASSERT_GE(tid, 0);
		ASSERT_LT(tid, ARRAY_SIZE(named));
		ASSERT_GE(ts, last_ts); /* never goes back */
		last_ts = ts;
		if (ph[0] == 'X')
			ASSERT_GE(j_num(e, "dur"), 0);
		if (ph[0] == 'M' && !strcmp(j_str(e, "name"), "thread_name")) {
			ASSERT_TRUE(arg_str(e, "name")[0]);
			named[(int)tid] = true;
		}
		if (ph[0] != 'M') {
			ASSERT_GE(tid, 1);
			ASSERT_TRUE(named[(int)tid]); /* metadata come first */
		}
	}
	/* "events" counts the non-metadata events. */
	ASSERT_EQ(j_num(other, "events"),
		  f->events->n - 1 - 2 * j_num(other, "threads"));
}

static void tf_free(struct tf *f)
{
	j_free(f->doc);
	f->doc = f->events = NULL;
}

static uint64_t tf_dropped(const struct tf *f)
{
	return (uint64_t)j_num(j_get(f->doc, "otherData"), "dropped_events");
}

/* The @nth (from 0) event named @name, or NULL. */
static const struct jv *tf_find(const struct tf *f, const char *name,
				unsigned int nth)
{
	size_t i;

	for (i = 0; i < f->events->n; i++)
		if (!strcmp(j_str(f->events->v[i], "name"), name) && !nth--)
			return f->events->v[i];
	return NULL;
}

static unsigned int tf_count(const struct tf *f, const char *name)
{
	unsigned int n = 0;

	while (tf_find(f, name, n))
		n++;
	return n;
}

/* The fault event whose fault_address is @gpa and result @result. */
static const struct jv *tf_fault(const struct tf *f, gpa_t gpa,
				 const char *result)
{
	const struct jv *e;
	unsigned int i;

	for (i = 0; (e = tf_find(f, "kvm_page_fault", i)); i++)
		if (arg_hex(e, "fault_address") == gpa &&
		    !strcmp(arg_str(e, "result"), result))
			return e;
	return NULL;
}

/* The tid that a thread_name event gives @name, or -1. */
static int tf_tid(const struct tf *f, const char *name)
{
	const struct jv *e;
	unsigned int i;

	for (i = 0; (e = tf_find(f, "thread_name", i)); i++)
		if (!strcmp(arg_str(e, "name"), name))
			return (int)j_num(e, "tid");
	return -1;
}

#endif /* KVMMU_TESTS_TRACE_FILE_H */
