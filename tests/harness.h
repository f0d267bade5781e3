/* SPDX-License-Identifier: MIT */
/*
 * A small test harness in the shape of the kernel selftests: each test
 * program declares TEST()s, every test runs in a forked child with a
 * timeout, and the program prints TAP (version 13):
 *
 *	TAP version 13
 *	1..3
 *	ok 1 frame_alloc
 *	not ok 2 cow_fork
 *	ok 3 pfnmap # SKIP no device aperture
 *
 * Assertions print both operands.  ASSERT_* ends the test, EXPECT_* records
 * the failure and goes on.  Randomised tests take their seed from
 * test_seed(): fixed by default, KVMMU_SEED=<n> overrides it, and a failing
 * test prints it.  Exit status: 0 all passed, 1 something failed, 4 every
 * test was skipped (KSFT_SKIP).
 */
#ifndef KVMMU_TESTS_HARNESS_H
#define KVMMU_TESTS_HARNESS_H

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KSFT_PASS 0
#define KSFT_FAIL 1
#define KSFT_SKIP 4

#define TEST_DEFAULT_SEED    0x6b766d6d75ULL /* "kvmmu" */
#define TEST_DEFAULT_TIMEOUT 120

struct test_case {
	const char *name;
	void (*fn)(void);
	unsigned int timeout;
	struct test_case *next;
};

static struct test_case *test_list_head, **test_list_tail = &test_list_head;
static int test_failed;	    /* in the child: this test failed */
static bool test_seed_used; /* in the child: test_seed() was called */
static const char *test_current;

static inline void test_register(struct test_case *t)
{
	*test_list_tail = t;
	test_list_tail = &t->next;
}

#define __TEST(name, tmo)                                                   \
	static void test_fn_##name(void);                                   \
	static struct test_case test_case_##name = { #name, test_fn_##name, \
						     tmo, NULL };           \
	__attribute__((constructor)) static void test_reg_##name(void)      \
	{                                                                   \
		test_register(&test_case_##name);                           \
	}                                                                   \
	static void test_fn_##name(void)

/* TEST(name) { body } */
#define TEST(name)		 __TEST(name, TEST_DEFAULT_TIMEOUT)
/* TEST_TIMEOUT(name, seconds) { body } */
#define TEST_TIMEOUT(name, secs) __TEST(name, secs)

/* The seed of this run, printed with any failure of a test that used it. */
static inline uint64_t test_seed(void)
{
	const char *s = getenv("KVMMU_SEED");

	test_seed_used = true;
	return s ? strtoull(s, NULL, 0) : TEST_DEFAULT_SEED;
}

/* Seconds a stress test runs: its default, or KVMMU_STRESS_SECONDS. */
static inline double test_duration(double dflt)
{
	const char *s = getenv("KVMMU_STRESS_SECONDS");

	return s ? strtod(s, NULL) : dflt;
}

static inline double test_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const struct {
	int err;
	const char *name;
} test_errnames[] = {
	{ EPERM, "EPERM" },
	{ ENOENT, "ENOENT" },
	{ ESRCH, "ESRCH" },
	{ EINTR, "EINTR" },
	{ EIO, "EIO" },
	{ E2BIG, "E2BIG" },
	{ EBADF, "EBADF" },
	{ EAGAIN, "EAGAIN" },
	{ ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" },
	{ EFAULT, "EFAULT" },
	{ EBUSY, "EBUSY" },
	{ EEXIST, "EEXIST" },
	{ ENODEV, "ENODEV" },
	{ EINVAL, "EINVAL" },
	{ EFBIG, "EFBIG" },
	{ ENOSPC, "ENOSPC" },
	{ ERANGE, "ERANGE" },
	{ ENOSYS, "ENOSYS" },
	{ EOVERFLOW, "EOVERFLOW" },
	{ EOPNOTSUPP, "EOPNOTSUPP" },
	{ ENXIO, "ENXIO" },
	{ EUCLEAN, "EUCLEAN" },
	{ EHWPOISON, "EHWPOISON" },
};

/* "-EINVAL" for -22, "0" for 0, the number for anything unknown. */
static inline const char *test_errname(long e)
{
	static char buf[32];
	long v = e < 0 ? -e : e;
	size_t i;

	if (!e)
		return "0";
	for (i = 0; i < sizeof(test_errnames) / sizeof(test_errnames[0]); i++)
		if (test_errnames[i].err == v) {
			snprintf(buf, sizeof(buf), "%s%s", e < 0 ? "-" : "",
				 test_errnames[i].name);
			return buf;
		}
	snprintf(buf, sizeof(buf), "%ld", e);
	return buf;
}

#define __test_fail_hdr() \
	fprintf(stdout, "# %s:%d: %s: ", __FILE__, __LINE__, test_current)

#define __TEST_CMP(abort, a, op, b, fmt, type)                              \
	do {                                                                \
		type __a = (type)(a);                                       \
		type __b = (type)(b); /* one each: type may be a pointer */ \
		if (!(__a op __b)) {                                        \
			__test_fail_hdr();                                  \
			fprintf(stdout,                                     \
				"expected %s " #op " %s\n#   left:  " fmt   \
				"\n#   right: " fmt "\n",                   \
				#a, #b, __a, __b);                          \
			test_failed = 1;                                    \
			if (abort)                                          \
				test_abort();                               \
		}                                                           \
	} while (0)

static inline void test_abort(void)
{
	fflush(stdout);
	if (test_seed_used)
		printf("# seed: %#" PRIx64 " (rerun with KVMMU_SEED=%#" PRIx64
		       ")\n",
		       test_seed(), test_seed());
	fflush(stdout);
	_exit(KSFT_FAIL);
}

#define ASSERT_EQ(a, b)	    __TEST_CMP(1, a, ==, b, "%#" PRIx64, uint64_t)
#define ASSERT_NE(a, b)	    __TEST_CMP(1, a, !=, b, "%#" PRIx64, uint64_t)
#define ASSERT_LT(a, b)	    __TEST_CMP(1, a, <, b, "%" PRId64, int64_t)
#define ASSERT_LE(a, b)	    __TEST_CMP(1, a, <=, b, "%" PRId64, int64_t)
#define ASSERT_GT(a, b)	    __TEST_CMP(1, a, >, b, "%" PRId64, int64_t)
#define ASSERT_GE(a, b)	    __TEST_CMP(1, a, >=, b, "%" PRId64, int64_t)
#define EXPECT_EQ(a, b)	    __TEST_CMP(0, a, ==, b, "%#" PRIx64, uint64_t)
#define EXPECT_NE(a, b)	    __TEST_CMP(0, a, !=, b, "%#" PRIx64, uint64_t)
#define EXPECT_LT(a, b)	    __TEST_CMP(0, a, <, b, "%" PRId64, int64_t)
#define EXPECT_LE(a, b)	    __TEST_CMP(0, a, <=, b, "%" PRId64, int64_t)
#define EXPECT_GT(a, b)	    __TEST_CMP(0, a, >, b, "%" PRId64, int64_t)
#define EXPECT_GE(a, b)	    __TEST_CMP(0, a, >=, b, "%" PRId64, int64_t)
#define ASSERT_PTR_EQ(a, b) __TEST_CMP(1, a, ==, b, "%p", const void *)
#define ASSERT_PTR_NE(a, b) __TEST_CMP(1, a, !=, b, "%p", const void *)

#define __TEST_BOOL(abort, cond, want)                                   \
	do {                                                             \
		bool __c = !!(cond);                                     \
		if (__c != (want)) {                                     \
			__test_fail_hdr();                               \
			fprintf(stdout, "expected %s to be %s\n", #cond, \
				(want) ? "true" : "false");              \
			test_failed = 1;                                 \
			if (abort)                                       \
				test_abort();                            \
		}                                                        \
	} while (0)

#define ASSERT_TRUE(c)	__TEST_BOOL(1, c, true)
#define ASSERT_FALSE(c) __TEST_BOOL(1, c, false)
#define EXPECT_TRUE(c)	__TEST_BOOL(0, c, true)
#define EXPECT_FALSE(c) __TEST_BOOL(0, c, false)

/* An expression returning 0 or -errno, compared by name. */
#define __TEST_ERR(abort, expr, want)                                          \
	do {                                                                   \
		long __r = (long)(expr), __w = (long)(want);                   \
		if (__r != __w) {                                              \
			__test_fail_hdr();                                     \
			fprintf(stdout, "%s\n#   returned %s", #expr,          \
				test_errname(__r));                            \
			fprintf(stdout, ", expected %s\n", test_errname(__w)); \
			test_failed = 1;                                       \
			if (abort)                                             \
				test_abort();                                  \
		}                                                              \
	} while (0)

#define ASSERT_OK(expr)		__TEST_ERR(1, expr, 0)
#define EXPECT_OK(expr)		__TEST_ERR(0, expr, 0)
#define ASSERT_ERRNO(expr, err) __TEST_ERR(1, expr, err)
#define EXPECT_ERRNO(expr, err) __TEST_ERR(0, expr, err)

/* Compare two buffers; print the first differing byte. */
#define ASSERT_MEMEQ(a, b, n)                                                 \
	do {                                                                  \
		const unsigned char *__x = (const void *)(a),                 \
				    *__y = (const void *)(b);                 \
		size_t __n = (n), __i;                                        \
		for (__i = 0; __i < __n && __x[__i] == __y[__i]; __i++)       \
			;                                                     \
		if (__i != __n) {                                             \
			__test_fail_hdr();                                    \
			fprintf(stdout,                                       \
				"%s and %s differ at byte %zu: %#x vs %#x\n", \
				#a, #b, __i, __x[__i], __y[__i]);             \
			test_failed = 1;                                      \
			test_abort();                                         \
		}                                                             \
	} while (0)

#define SKIP(fmt, ...)                                     \
	do {                                               \
		printf("#SKIP# " fmt "\n", ##__VA_ARGS__); \
		fflush(stdout);                            \
		_exit(KSFT_SKIP);                          \
	} while (0)

#define TEST_LOG(fmt, ...)                            \
	do {                                          \
		printf("# " fmt "\n", ##__VA_ARGS__); \
		fflush(stdout);                       \
	} while (0)

/*
 * Run one test in a child.  Its stdout goes through a pipe so that a skip
 * reason can be moved onto the TAP line.
 */
static inline int test_run_one(struct test_case *t, int idx)
{
	char buf[8192], reason[512] = "";
	int pfd[2], status = 0;
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	fflush(stdout);
	if (pipe(pfd))
		return KSFT_FAIL;
	pid = fork();
	if (pid < 0)
		return KSFT_FAIL;
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[1]);
		test_current = t->name;
		alarm(t->timeout);
		t->fn();
		fflush(stdout);
		if (test_failed && test_seed_used)
			test_abort();
		_exit(test_failed ? KSFT_FAIL : KSFT_PASS);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += n;
		if (len == sizeof(buf) - 1) {
			buf[len] = 0;
			fputs(buf, stdout);
			len = 0;
		}
	}
	buf[len] = 0;
	close(pfd[0]);
	waitpid(pid, &status, 0);

	if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP) {
		char *s = strstr(buf, "#SKIP# ");

		if (s) {
			char *e = strchr(s, '\n');

			snprintf(reason, sizeof(reason), "%.*s",
				 (int)(e ? e - s - 7 : (long)strlen(s + 7)),
				 s + 7);
			memmove(s, e ? e + 1 : s + strlen(s),
				strlen(e ? e + 1 : s + strlen(s)) + 1);
		}
	}
	fputs(buf, stdout);
	if (WIFSIGNALED(status)) {
		printf("# %s: killed by signal %d%s\n", t->name,
		       WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
		printf("not ok %d %s\n", idx, t->name);
		return KSFT_FAIL;
	}
	switch (WEXITSTATUS(status)) {
	case KSFT_PASS:
		printf("ok %d %s\n", idx, t->name);
		return KSFT_PASS;
	case KSFT_SKIP:
		printf("ok %d %s # SKIP %s\n", idx, t->name,
		       reason[0] ? reason : "(no reason given)");
		return KSFT_SKIP;
	default:
		printf("not ok %d %s\n", idx, t->name);
		return KSFT_FAIL;
	}
}

static inline int test_harness_run(int argc, char **argv)
{
	int n = 0, idx = 0, fails = 0, skips = 0;
	const char *only = argc > 1 ? argv[1] : NULL;
	struct test_case *t;

	if (only && (!strcmp(only, "-h") || !strcmp(only, "--help"))) {
		printf("usage: %s [TEST]\n  runs every test (or the one "
		       "named) and prints TAP; KVMMU_SEED=<n> sets the seed\n",
		       argv[0]);
		for (t = test_list_head; t; t = t->next)
			printf("  %s\n", t->name);
		return 0;
	}
	for (t = test_list_head; t; t = t->next)
		if (!only || !strcmp(only, t->name))
			n++;
	printf("TAP version 13\n1..%d\n", n);
	for (t = test_list_head; t; t = t->next) {
		if (only && strcmp(only, t->name))
			continue;
		switch (test_run_one(t, ++idx)) {
		case KSFT_FAIL:
			fails++;
			break;
		case KSFT_SKIP:
			skips++;
			break;
		}
	}
	printf("# %d passed, %d failed, %d skipped\n", n - fails - skips, fails,
	       skips);
	if (fails)
		return KSFT_FAIL;
	return n && skips == n ? KSFT_SKIP : KSFT_PASS;
}

#define TEST_HARNESS_MAIN                            \
	int main(int argc, char **argv)              \
	{                                            \
		return test_harness_run(argc, argv); \
	}

#endif /* KVMMU_TESTS_HARNESS_H */
