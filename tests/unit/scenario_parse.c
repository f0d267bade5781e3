// SPDX-License-Identifier: MIT
/*
 * The scenario parser: the lexer's value syntaxes, the tree it builds for
 * a few lines, and the corpus in tests/scenario: every bad/ file must fail
 * with the message on its first line ("# error: ..."), every good/ file
 * must parse.  The corpus is found from the source root: KVMMU_SRCDIR, or
 * the directory this file was compiled from (make runs from the root).
 */
#include "harness.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <kvmmu/scenario.h>
#include "scenario/ast.h"
#include "scenario/lexer.h"

#define ASSERT_STREQ(a, b)                                                     \
	do {                                                                   \
		const char *__x = (a), *__y = (b);                             \
		if (strcmp(__x, __y)) {                                        \
			__test_fail_hdr();                                     \
			printf("strings differ\n#   got:  %s\n#   want: %s\n", \
			       __x, __y);                                      \
			test_failed = 1;                                       \
			test_abort();                                          \
		}                                                              \
	} while (0)

/* --- the corpus ----------------------------------------------------------- */

/* Make the source root the current directory; paths are then relative. */
static void chdir_root(void)
{
	static const char self[] = "tests/unit/scenario_parse.c";
	const char *env = getenv("KVMMU_SRCDIR");
	char root[4096];
	size_t n = strlen(__FILE__);

	if (env) {
		snprintf(root, sizeof(root), "%s", env);
	} else {
		ASSERT_GE(n, sizeof(self) - 1);
		ASSERT_STREQ(&__FILE__[n - (sizeof(self) - 1)], self);
		snprintf(root, sizeof(root), "%.*s",
			 (int)(n - (sizeof(self) - 1)), __FILE__);
		if (!root[0])
			strcpy(root, ".");
	}
	if (chdir(root) || access("tests/scenario/bad", R_OK))
		SKIP("no scenario corpus under '%s' (set KVMMU_SRCDIR)", root);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .kvs files of @dir, sorted; *n receives how many. */
static char **list_kvs(const char *dir, size_t *n)
{
	char **v = NULL;
	struct dirent *de;
	DIR *d = opendir(dir);

	*n = 0;
	ASSERT_TRUE(d != NULL);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l < 5 || strcmp(de->d_name + l - 4, ".kvs"))
			continue;
		v = realloc(v, (*n + 1) * sizeof(*v));
		ASSERT_TRUE(v != NULL);
		v[*n] = malloc(strlen(dir) + l + 2);
		ASSERT_TRUE(v[*n] != NULL);
		sprintf(v[*n], "%s/%s", dir, de->d_name);
		(*n)++;
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), cmp_names);
	return v;
}

static void free_list(char **v, size_t n)
{
	while (n)
		free(v[--n]);
	free(v);
}

TEST(corpus_bad)
{
	static const char tag[] = "# error: ";
	char err[2048], want[2048];
	struct kvmmu_scenario *sc;
	size_t n, i;
	char **v;

	chdir_root();
	v = list_kvs("tests/scenario/bad", &n);
	ASSERT_GE(n, 40);
	for (i = 0; i < n; i++) {
		FILE *f = fopen(v[i], "r");
		int rc;

		ASSERT_TRUE(f != NULL);
		ASSERT_TRUE(fgets(want, sizeof(want), f) != NULL);
		fclose(f);
		want[strcspn(want, "\n")] = 0;
		if (strncmp(want, tag, sizeof(tag) - 1)) {
			TEST_LOG("%s: first line is not '# error: ...'", v[i]);
			test_failed = 1;
			continue;
		}
		rc = kvmmu_scenario_load(v[i], &sc, err, sizeof(err));
		EXPECT_EQ(sc, NULL);
		if (rc != -EINVAL || strcmp(err, want + sizeof(tag) - 1)) {
			TEST_LOG("%s: returned %s\n#   got:  %s\n#   want: %s",
				 v[i], test_errname(rc), err,
				 want + sizeof(tag) - 1);
			test_failed = 1;
		}
		kvmmu_scenario_free(sc);
	}
	TEST_LOG("%zu bad files", n);
	free_list(v, n);
}

TEST(corpus_good)
{
	struct kvmmu_scenario *sc;
	char err[1024];
	size_t n, i;
	char **v;

	chdir_root();
	v = list_kvs("tests/scenario/good", &n);
	ASSERT_GE(n, 5);
	for (i = 0; i < n; i++) {
		int rc = kvmmu_scenario_load(v[i], &sc, err, sizeof(err));

		if (rc) {
			TEST_LOG("%s: %s", v[i], err);
			test_failed = 1;
		}
		kvmmu_scenario_free(sc);
	}
	free_list(v, n);
}

/* --- the lexer ------------------------------------------------------------ */

static const struct {
	bool size; /* sc_lex_size(), else sc_lex_u64() */
	const char *s;
	enum sc_num_status st;
	uint64_t v;
} num_cases[] = {
	{ false, "0", SC_NUM_OK, 0 },
	{ false, "42", SC_NUM_OK, 42 },
	{ false, "007", SC_NUM_OK, 7 },
	{ false, "0x0", SC_NUM_OK, 0 },
	{ false, "0xAbC", SC_NUM_OK, 0xabc },
	{ false, "0X10", SC_NUM_OK, 16 },
	{ false, "18446744073709551615", SC_NUM_OK, UINT64_MAX },
	{ false, "0xffffffffffffffff", SC_NUM_OK, UINT64_MAX },
	{ false, "0x0000000000000000000001", SC_NUM_OK, 1 },
	{ false, "18446744073709551616", SC_NUM_OVERFLOW, 0 },
	{ false, "99999999999999999999", SC_NUM_OVERFLOW, 0 },
	{ false, "0x10000000000000000", SC_NUM_OVERFLOW, 0 },
	{ false, "", SC_NUM_BAD, 0 },
	{ false, "0x", SC_NUM_BAD, 0 },
	{ false, "-1", SC_NUM_BAD, 0 },
	{ false, "+1", SC_NUM_BAD, 0 },
	{ false, "1 ", SC_NUM_BAD, 0 },
	{ false, "4K", SC_NUM_BAD, 0 },
	{ false, "0x1g", SC_NUM_BAD, 0 },
	{ false, "1_000", SC_NUM_BAD, 0 },
	{ true, "4096", SC_NUM_OK, 4096 },
	{ true, "0x1000", SC_NUM_OK, 0x1000 },
	{ true, "4K", SC_NUM_OK, 4096 },
	{ true, "64M", SC_NUM_OK, 64ull << 20 },
	{ true, "1G", SC_NUM_OK, 1ull << 30 },
	{ true, "0x10K", SC_NUM_OK, 0x4000 },
	{ true, "0K", SC_NUM_OK, 0 },
	{ true, "17179869183G", SC_NUM_OK, 17179869183ull << 30 },
	{ true, "17179869184G", SC_NUM_OVERFLOW, 0 },
	{ true, "99999999999999999999K", SC_NUM_OVERFLOW, 0 },
	{ true, "16777216T", SC_NUM_SUFFIX, 0 },
	{ true, "4k", SC_NUM_SUFFIX, 0 },
	{ true, "4T", SC_NUM_SUFFIX, 0 },
	{ true, "4KB", SC_NUM_SUFFIX, 0 },
	{ true, "4KiB", SC_NUM_SUFFIX, 0 },
	{ true, "4K4", SC_NUM_SUFFIX, 0 },
	{ true, "0x1B", SC_NUM_OK, 0x1b }, /* B is a hex digit */
	{ true, "K", SC_NUM_BAD, 0 },
	{ true, "0xK", SC_NUM_BAD, 0 },
	{ true, "4.5K", SC_NUM_BAD, 0 },
	{ true, "", SC_NUM_BAD, 0 },
};

TEST(lex_numbers_and_sizes)
{
	size_t i;

	for (i = 0; i < sizeof(num_cases) / sizeof(num_cases[0]); i++) {
		const char *s = num_cases[i].s;
		uint64_t v = 0;
		enum sc_num_status st = num_cases[i].size ?
						sc_lex_size(s, strlen(s), &v) :
						sc_lex_u64(s, strlen(s), &v);

		if (st != num_cases[i].st ||
		    (st == SC_NUM_OK && v != num_cases[i].v)) {
			TEST_LOG("'%s': status %d value %#" PRIx64, s, st, v);
			test_failed = 1;
		}
	}
}

static const struct {
	const char *s;
	enum sc_addr_status st;
	const char *label;
	uint64_t off;
} addr_cases[] = {
	{ "ram", SC_ADDR_OK, "ram", 0 },
	{ "ram+0x1000", SC_ADDR_OK, "ram", 0x1000 },
	{ "ram+4K", SC_ADDR_OK, "ram", 4096 },
	{ "a-b_c9+16", SC_ADDR_OK, "a-b_c9", 16 },
	{ "0x7f0000000000", SC_ADDR_OK, NULL, 0x7f0000000000ull },
	{ "1G", SC_ADDR_OK, NULL, 1ull << 30 },
	{ "ram+", SC_ADDR_NUM, NULL, 0 },
	{ "ram+x", SC_ADDR_NUM, NULL, 0 },
	{ "ram+4T", SC_ADDR_SUFFIX, NULL, 0 },
	{ "ram+0x10000000000000000", SC_ADDR_OVERFLOW, NULL, 0 },
	{ "1x", SC_ADDR_SUFFIX, NULL, 0 },
	{ "+4", SC_ADDR_LABEL, NULL, 0 },
	{ "_ram", SC_ADDR_LABEL, NULL, 0 },
	{ "ram.x", SC_ADDR_LABEL, NULL, 0 },
	{ "", SC_ADDR_LABEL, NULL, 0 },
	{ "a23456789012345678901234567890123", SC_ADDR_LABEL, NULL, 0 },
	{ "a2345678901234567890123456789012+1", SC_ADDR_OK,
	  "a2345678901234567890123456789012", 1 },
};

TEST(lex_addresses)
{
	size_t i, llen;

	for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		const char *s = addr_cases[i].s, *label,
			   *want = addr_cases[i].label;
		uint64_t off;
		enum sc_addr_status st =
			sc_lex_addr(s, strlen(s), &label, &llen, &off);
		bool ok = st == addr_cases[i].st;

		if (ok && st == SC_ADDR_OK)
			ok = off == addr_cases[i].off &&
			     (want ? label && llen == strlen(want) &&
					      !memcmp(label, want, llen) :
				     !label);
		if (!ok) {
			TEST_LOG("'%s': status %d", s, st);
			test_failed = 1;
		}
	}
}

TEST(lex_names)
{
	EXPECT_TRUE(sc_lex_name("a", 1));
	EXPECT_TRUE(sc_lex_name("Ram-1_x", 7));
	EXPECT_TRUE(sc_lex_name("a2345678901234567890123456789012", 32));
	EXPECT_FALSE(sc_lex_name("a23456789012345678901234567890123", 33));
	EXPECT_FALSE(sc_lex_name("", 0));
	EXPECT_FALSE(sc_lex_name("1a", 2));
	EXPECT_FALSE(sc_lex_name("-a", 2));
	EXPECT_FALSE(sc_lex_name("a.b", 3));
	EXPECT_FALSE(sc_lex_name("a+b", 3));
}

TEST(lex_line)
{
	static const char line[] =
		"stat x changed>=4 a==b c!=d e<f g<=h i>j k=v =z {w}  # c{}\r";
	static const struct {
		const char *word;
		bool has_op;
		enum sc_op op;
		const char *key, *val;
	} want[] = {
		{ "stat", false, 0, NULL, NULL },
		{ "x", false, 0, NULL, NULL },
		{ "changed>=4", true, SC_OP_GE, "changed", "4" },
		{ "a==b", true, SC_OP_EQ, "a", "b" },
		{ "c!=d", true, SC_OP_NE, "c", "d" },
		{ "e<f", true, SC_OP_LT, "e", "f" },
		{ "g<=h", true, SC_OP_LE, "g", "h" },
		{ "i>j", true, SC_OP_GT, "i", "j" },
		{ "k=v", true, SC_OP_EQ, "k", "v" },
		{ "=z", true, SC_OP_EQ, "", "z" },
		{ "{", false, 0, NULL, NULL },
		{ "w", false, 0, NULL, NULL },
		{ "}", false, 0, NULL, NULL },
	};
	struct sc_tok t[SC_MAX_WORDS];
	struct sc_lex_error e;
	unsigned int n, i;

	ASSERT_OK(sc_lex_line(line, sizeof(line) - 1, t, &n, &e));
	ASSERT_EQ(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(t[i].len, strlen(want[i].word));
		ASSERT_EQ(memcmp(t[i].s, want[i].word, t[i].len), 0);
		ASSERT_EQ(t[i].col, (uint64_t)(t[i].s - line) + 1);
		ASSERT_EQ(t[i].has_op, want[i].has_op);
		if (!want[i].has_op)
			continue;
		ASSERT_EQ(t[i].op, want[i].op);
		ASSERT_EQ(t[i].klen, strlen(want[i].key));
		ASSERT_EQ(t[i].vlen, strlen(want[i].val));
		ASSERT_EQ(memcmp(t[i].v, want[i].val, t[i].vlen), 0);
	}
	EXPECT_EQ(t[10].kind, SC_TOK_LBRACE);
	EXPECT_EQ(t[12].kind, SC_TOK_RBRACE);
	EXPECT_EQ(t[3].oplen, 2);
	EXPECT_EQ(t[8].oplen, 1);

	ASSERT_ERRNO(sc_lex_line("a\tb\x01", 4, t, &n, &e), -EINVAL);
	EXPECT_EQ(e.col, 4);
	ASSERT_STREQ(e.msg, "control character 0x01");
	ASSERT_ERRNO(sc_lex_line("# \xc3\xa4 \0", 6, t, &n, &e), -EINVAL);
	EXPECT_EQ(e.col, 6);
	ASSERT_OK(sc_lex_line("   # \xc3\xa4 \x01\r", 10, t, &n, &e));
	EXPECT_EQ(n, 0);
}

/* --- the tree ------------------------------------------------------------- */

static struct kvmmu_scenario *parse_ok(const char *text)
{
	struct kvmmu_scenario *sc = NULL;
	char err[512] = "";
	int rc = kvmmu_scenario_parse("t.kvs", text, strlen(text), &sc, err,
				      sizeof(err));

	if (rc)
		TEST_LOG("%s", err);
	ASSERT_OK(rc);
	ASSERT_TRUE(sc != NULL);
	return sc;
}

static void parse_err(const char *text, size_t len, int want_rc,
		      const char *want)
{
	struct kvmmu_scenario *sc = (void *)1;
	char err[512] = "";

	ASSERT_ERRNO(kvmmu_scenario_parse("t.kvs", text, len, &sc, err,
					  sizeof(err)),
		     want_rc);
	ASSERT_PTR_EQ(sc, NULL);
	ASSERT_STREQ(err, want);
}

TEST(ast_slot)
{
	struct kvmmu_scenario *sc = parse_ok(
		"host mmap ram size=64M anon\n"
		"  slot 3 move gpa=0x100000 as=1   # moved\n"
		"slot 7 gpa=1G size=2M hva=ram+4K flags=readonly,log_dirty\n"
		"slot 8 delete expect errno=EINVAL\n"
		"slot 9 flags=none\n");
	const struct sc_step *s = &sc->top.steps[1];

	ASSERT_EQ(sc->top.n, 5);
	ASSERT_EQ(s->kind, SC_SLOT);
	ASSERT_EQ(s->slot.op, SC_SLOT_MOVE);
	ASSERT_EQ(s->slot.id, 3);
	ASSERT_EQ(s->slot.as, 1);
	ASSERT_TRUE(s->slot.has_gpa);
	ASSERT_FALSE(s->slot.has_size || s->slot.has_hva || s->slot.has_flags);
	ASSERT_EQ(s->slot.gpa, 0x100000);
	ASSERT_EQ(s->line, 2);
	ASSERT_EQ(s->col, 3);
	ASSERT_STREQ(s->text, "slot 3 move gpa=0x100000 as=1");
	ASSERT_EQ(s->expect.kind, SC_EXP_OK);

	s = &sc->top.steps[2];
	ASSERT_EQ(s->slot.op, SC_SLOT_SET);
	ASSERT_EQ(s->slot.id, 7);
	ASSERT_EQ(s->slot.gpa, 1ull << 30);
	ASSERT_EQ(s->slot.size, 2ull << 20);
	ASSERT_STREQ(s->slot.hva.label, "ram");
	ASSERT_EQ(s->slot.hva.off, 4096);
	ASSERT_EQ(s->slot.flags,
		  KVMMU_MEM_READONLY | KVMMU_MEM_LOG_DIRTY_PAGES);
	ASSERT_TRUE(s->slot.has_gpa && s->slot.has_size && s->slot.has_hva &&
		    s->slot.has_flags);

	s = &sc->top.steps[3];
	ASSERT_EQ(s->slot.op, SC_SLOT_DELETE);
	ASSERT_EQ(s->expect.kind, SC_EXP_ERRNO);
	ASSERT_EQ(s->expect.err, EINVAL);

	s = &sc->top.steps[4];
	ASSERT_EQ(s->slot.op, SC_SLOT_FLAGS);
	ASSERT_TRUE(s->slot.has_flags);
	ASSERT_EQ(s->slot.flags, 0);
	kvmmu_scenario_free(sc);
}

TEST(ast_vm_and_host)
{
	struct kvmmu_scenario *sc =
		parse_ok("host memfd f size=8M\n"
			 "vm arch=mips vcpus=4 check=off\n"
			 "host mmap m size=2M file=f "
			 "offset=1M shared prot=xr at=0x10000000\n"
			 "host mmap d size=4K pfnmap\n"
			 "host mmap e size=4K anon at=m+8K\n"
			 "host fork c\n"
			 "host read m+8 u16 expect u16=0xffff mm=c\n"
			 "host fill m size=4K seed=7 gpa=0x1000\n"
			 "host mremap m size=2M new_size=4M to=e\n"
			 "host madvise m size=4K advice=dontfork\n");
	const struct sc_step *s;

	ASSERT_TRUE(sc->has_vm);
	ASSERT_EQ(sc->vm.kind, SC_VM);
	ASSERT_EQ(sc->vm.vm.arch, KVMMU_ARCH_MIPS);
	ASSERT_EQ(sc->vm.vm.vcpus, 4);
	ASSERT_FALSE(sc->vm.vm.check);
	ASSERT_EQ(sc->vm.line, 2);
	ASSERT_STREQ(sc->vm.text, "vm arch=mips vcpus=4 check=off");
	ASSERT_STREQ(sc->file, "t.kvs");
	ASSERT_EQ(sc->top.n, 9);

	s = &sc->top.steps[1];
	ASSERT_EQ(s->kind, SC_HOST_MMAP);
	ASSERT_STREQ(s->mmap.label, "m");
	ASSERT_STREQ(s->mmap.file, "f");
	ASSERT_TRUE(s->mmap.shared);
	ASSERT_FALSE(s->mmap.pfnmap);
	ASSERT_EQ(s->mmap.offset, 1 << 20);
	ASSERT_EQ(s->mmap.prot, PROT_READ | PROT_EXEC);
	ASSERT_TRUE(s->mmap.has_at);
	ASSERT_EQ(s->mmap.at, 0x10000000);
	ASSERT_PTR_EQ(s->mmap.at_label, NULL);
	ASSERT_PTR_EQ(s->mm, NULL);

	s = &sc->top.steps[2];
	ASSERT_TRUE(s->mmap.pfnmap && s->mmap.shared);
	ASSERT_EQ(s->mmap.memtype, KVMMU_MT_DEVICE);
	ASSERT_EQ(s->mmap.prot, PROT_READ | PROT_WRITE);

	s = &sc->top.steps[3];
	ASSERT_FALSE(s->mmap.shared);
	ASSERT_STREQ(s->mmap.at_label, "m");
	ASSERT_EQ(s->mmap.at, 8192);

	s = &sc->top.steps[5];
	ASSERT_EQ(s->kind, SC_HOST_READ);
	ASSERT_STREQ(s->mm, "c");
	ASSERT_EQ(s->hacc.width, 2);
	ASSERT_EQ(s->hacc.addr.off, 8);
	ASSERT_EQ(s->expect.kind, SC_EXP_VALUE);
	ASSERT_EQ(s->expect.width, 2);
	ASSERT_EQ(s->expect.value, 0xffff);

	s = &sc->top.steps[6];
	ASSERT_EQ(s->kind, SC_HOST_FILL);
	ASSERT_EQ(s->hacc.size, 4096);
	ASSERT_EQ(s->hacc.seed, 7);
	ASSERT_EQ(s->hacc.basis, 0x1000);

	s = &sc->top.steps[7];
	ASSERT_EQ(s->kind, SC_HOST_MREMAP);
	ASSERT_TRUE(s->mremap.has_to && s->mremap.maymove);
	ASSERT_STREQ(s->mremap.to.label, "e");
	ASSERT_EQ(s->mremap.new_size, 4 << 20);

	s = &sc->top.steps[8];
	ASSERT_EQ(s->range.advice, MADV_DONTFORK);
	kvmmu_scenario_free(sc);
}

TEST(ast_vcpu_blocks)
{
	struct kvmmu_scenario *sc =
		parse_ok("vm vcpus=2\n"
			 "vcpu 1 read gpa=0x2000 expect u32=5\n"
			 "vcpu 0 read gpa=0x3000 u8 expect mmio len=1 reply=7\n"
			 "repeat 3 {\n"
			 "  spawn w vcpu=1 loop=5 {\n"
			 "    write gpa=8 u16=0x1234\n"
			 "    verify gpa=0 size=16 seed=2\n"
			 "  }\n"
			 "  join w expect verify\n"
			 "}\n"
			 "stat pf_fixed changed>=4\n"
			 "stat mark\n"
			 "stat pages_4k value=8\n"
			 "vcpu 0 resume expect u16=3\n");
	const struct sc_step *s, *r, *b;

	ASSERT_EQ(sc->top.n, 7);
	s = &sc->top.steps[6];
	ASSERT_EQ(s->kind, SC_VCPU_RESUME);
	ASSERT_EQ(s->vacc.width, 2);
	ASSERT_EQ(s->expect.kind, SC_EXP_VALUE);
	ASSERT_EQ(s->expect.value, 3);
	s = &sc->top.steps[0];
	ASSERT_EQ(s->kind, SC_VCPU_READ);
	ASSERT_EQ(s->vacc.vcpu, 1);
	ASSERT_EQ(s->vacc.width, 4);
	ASSERT_EQ(s->expect.value, 5);

	s = &sc->top.steps[1];
	ASSERT_EQ(s->vacc.width, 1);
	ASSERT_EQ(s->expect.kind, SC_EXP_MMIO);
	ASSERT_TRUE(s->expect.has_len && s->expect.has_reply);
	ASSERT_FALSE(s->expect.has_addr || s->expect.has_data);
	ASSERT_EQ(s->expect.reply, 7);

	r = &sc->top.steps[2];
	ASSERT_EQ(r->kind, SC_REPEAT);
	ASSERT_EQ(r->repeat.count, 3);
	ASSERT_EQ(r->repeat.body.n, 2);
	s = &r->repeat.body.steps[0];
	ASSERT_EQ(s->kind, SC_SPAWN);
	ASSERT_STREQ(s->spawn.name, "w");
	ASSERT_EQ(s->spawn.vcpu, 1);
	ASSERT_EQ(s->spawn.loop, 5);
	ASSERT_STREQ(s->text, "spawn w vcpu=1 loop=5 {");
	ASSERT_EQ(s->spawn.body.n, 2);
	b = &s->spawn.body.steps[0];
	ASSERT_EQ(b->kind, SC_VCPU_WRITE);
	ASSERT_EQ(b->vacc.vcpu, 1);
	ASSERT_EQ(b->vacc.width, 2);
	ASSERT_EQ(b->vacc.value, 0x1234);
	ASSERT_EQ(b->line, 6);
	ASSERT_EQ(b->col, 5);
	b = &s->spawn.body.steps[1];
	ASSERT_EQ(b->kind, SC_VCPU_VERIFY);
	ASSERT_EQ(b->vacc.size, 16);
	ASSERT_EQ(b->vacc.seed, 2);
	s = &r->repeat.body.steps[1];
	ASSERT_EQ(s->kind, SC_JOIN);
	ASSERT_STREQ(s->join.name, "w");
	ASSERT_EQ(s->expect.kind, SC_EXP_VERIFY);

	s = &sc->top.steps[3];
	ASSERT_EQ(s->kind, SC_STAT);
	ASSERT_STREQ(s->stat.name, "pf_fixed");
	ASSERT_TRUE(s->stat.changed);
	ASSERT_EQ(s->stat.op, SC_OP_GE);
	ASSERT_EQ(s->stat.value, 4);
	ASSERT_EQ(sc->top.steps[4].kind, SC_STAT_MARK);
	s = &sc->top.steps[5];
	ASSERT_FALSE(s->stat.changed);
	ASSERT_EQ(s->stat.op, SC_OP_EQ);
	kvmmu_scenario_free(sc);
}

TEST(defaults_and_empty)
{
	struct kvmmu_scenario *sc = parse_ok("");

	ASSERT_FALSE(sc->has_vm);
	ASSERT_EQ(sc->vm.kind, SC_VM);
	ASSERT_EQ(sc->vm.vm.arch, KVMMU_ARCH_X86);
	ASSERT_EQ(sc->vm.vm.vcpus, 1);
	ASSERT_TRUE(sc->vm.vm.check);
	ASSERT_EQ(sc->top.n, 0);
	kvmmu_scenario_free(sc);
	kvmmu_scenario_free(NULL);

	sc = parse_ok("\n  \t\n# only comments\n");
	ASSERT_EQ(sc->top.n, 0);
	kvmmu_scenario_free(sc);
}

/* --- limits and bytes ----------------------------------------------------- */

TEST(bytes)
{
	static const char nul[] = "check\nche\0ck\n";
	static const char nul_comment[] = "check # \0\n";

	parse_err(nul, sizeof(nul) - 1, -EINVAL,
		  "t.kvs:2:4: NUL byte (a scenario is text)");
	parse_err(nul_comment, sizeof(nul_comment) - 1, -EINVAL,
		  "t.kvs:1:9: NUL byte (a scenario is text)");
	parse_err("check\x0b\n", 7, -EINVAL,
		  "t.kvs:1:6: control character 0x0b");
	parse_err("check\r\r\n", 8, -EINVAL,
		  "t.kvs:1:6: control character 0x0d");
	parse_err("check \xff\n", 8, -EINVAL,
		  "t.kvs:1:7: non-ASCII byte 0xff (allowed only in comments)");
	/* The text need not be NUL-terminated: only len bytes are read. */
	parse_err("check\nbogus", 7, -EINVAL,
		  "t.kvs:2:1: unknown command 'b' (expected vm, host, slot, "
		  "vcpu, spawn, join, check, stat or repeat)");
}

TEST(limits)
{
	size_t big = (1u << 20) + 1, n, i;
	struct kvmmu_scenario *sc;
	char *text = malloc(big), err[128];

	ASSERT_TRUE(text != NULL);
	/* 1 MiB of comment lines parses; one byte more is too much. */
	for (i = 0; i < big; i++)
		text[i] = i % 64 == 63 ? '\n' : '#';
	parse_err(text, big, -EFBIG,
		  "t.kvs:1:1: file too large (more than 1 MiB)");
	sc = parse_ok("check\n");
	kvmmu_scenario_free(sc);
	ASSERT_OK(kvmmu_scenario_parse("t.kvs", text, big - 1, &sc, err,
				       sizeof(err)));
	kvmmu_scenario_free(sc);

	/* 100000 steps are fine, one more is not (nested ones count). */
	n = 0;
	n += (size_t)sprintf(text + n, "repeat 2 {\n");
	for (i = 0; i < 99998; i++)
		memcpy(text + n + 6 * i, "check\n", 6);
	n += 6 * 99998;
	n += (size_t)sprintf(text + n, "}\ncheck\n");
	ASSERT_OK(
		kvmmu_scenario_parse("t.kvs", text, n, &sc, err, sizeof(err)));
	ASSERT_EQ(sc->top.n, 2);
	ASSERT_EQ(sc->top.steps[0].repeat.body.n, 99998);
	kvmmu_scenario_free(sc);
	n += (size_t)sprintf(text + n, "  check\n");
	parse_err(text, n, -EINVAL,
		  "t.kvs:100002:3: too many steps (more than 100000)");
	free(text);
}

TEST(error_buffer)
{
	struct kvmmu_scenario *sc;
	char err[16];

	memset(err, 'x', sizeof(err));
	ASSERT_ERRNO(kvmmu_scenario_parse("t.kvs", "bogus", 5, &sc, err,
					  sizeof(err)),
		     -EINVAL);
	ASSERT_STREQ(err, "t.kvs:1:1: unkn");
	ASSERT_ERRNO(kvmmu_scenario_parse("t.kvs", "bogus", 5, &sc, NULL, 0),
		     -EINVAL);
	ASSERT_ERRNO(kvmmu_scenario_parse(NULL, "bogus", 5, &sc, err, 8),
		     -EINVAL);
	ASSERT_STREQ(err, "<input>");
}

TEST(load_errors)
{
	struct kvmmu_scenario *sc;
	char err[256];

	ASSERT_ERRNO(kvmmu_scenario_load("/nonexistent/x.kvs", &sc, err,
					 sizeof(err)),
		     -ENOENT);
	ASSERT_STREQ(err, "/nonexistent/x.kvs: No such file or directory");
	ASSERT_ERRNO(kvmmu_scenario_load("/", &sc, err, sizeof(err)), -EISDIR);
	ASSERT_STREQ(err, "/: Is a directory");
	ASSERT_PTR_EQ(sc, NULL);
}

TEST(errno_names)
{
	static const char *const names[] = {
		"EPERM",  "ENOENT", "EINTR",  "EIO",	    "E2BIG",
		"EBADF",  "EAGAIN", "ENOMEM", "EACCES",	    "EFAULT",
		"EBUSY",  "EEXIST", "ENODEV", "EINVAL",	    "ENOSPC",
		"ERANGE", "EFBIG",  "ENXIO",  "EOPNOTSUPP",
	};
	struct kvmmu_scenario *sc;
	char text[128], err[512];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(text, sizeof(text), "slot 0 delete expect errno=%s",
			 names[i]);
		ASSERT_OK(kvmmu_scenario_parse("t.kvs", text, strlen(text), &sc,
					       err, sizeof(err)));
		ASSERT_STREQ(sc_errno_name(sc->top.steps[0].expect.err),
			     names[i]);
		kvmmu_scenario_free(sc);
	}
	ASSERT_STREQ(sc_errno_name(EOPNOTSUPP), "EOPNOTSUPP");
	ASSERT_PTR_EQ(sc_errno_name(0), NULL);
	ASSERT_PTR_EQ(sc_errno_name(-EINVAL), NULL);
}

TEST_HARNESS_MAIN
