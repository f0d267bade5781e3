// SPDX-License-Identifier: MIT
/*
 * Logging: sinks, level filtering, the KVMMU_LOG default, the WARN family's
 * counting and return values, and BUG_ON aborting.
 */
#include "harness.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>

#include <kvmmu/log.h>

#define MAXMSG 64

static struct {
	enum kvmmu_log_level level;
	char text[2048];
} msgs[MAXMSG];
static int nmsgs;   /* only changed by the sink, which the log serialises */
static long nlines; /* every message, also beyond MAXMSG */

static void sink(enum kvmmu_log_level level, const char *msg)
{
	if (nmsgs < MAXMSG) {
		msgs[nmsgs].level = level;
		snprintf(msgs[nmsgs].text, sizeof(msgs[0].text), "%s", msg);
		nmsgs++;
	}
	nlines++;
}

static void capture(void)
{
	nmsgs = 0;
	nlines = 0;
	kvmmu_log_set_sink(sink);
}

TEST(sink_and_levels)
{
	capture();
	kvmmu_log_set_level(KVMMU_LOG_WARN);
	pr_err("e %d", 1);
	pr_warn("w %s", "two");
	pr_info("i");
	pr_debug("d");
	ASSERT_EQ(nmsgs, 2);
	ASSERT_EQ(msgs[0].level, KVMMU_LOG_ERR);
	ASSERT_EQ(strcmp(msgs[0].text, "e 1"), 0);
	ASSERT_EQ(msgs[1].level, KVMMU_LOG_WARN);
	ASSERT_EQ(strcmp(msgs[1].text, "w two"), 0);

	kvmmu_log_set_level(KVMMU_LOG_ERR);
	pr_warn("dropped");
	pr_err("kept");
	ASSERT_EQ(nmsgs, 3);
	ASSERT_EQ(strcmp(msgs[2].text, "kept"), 0);

	kvmmu_log_set_level(KVMMU_LOG_DEBUG);
	pr_info("i");
	pr_debug("d");
	ASSERT_EQ(nmsgs, 5);
	ASSERT_EQ(msgs[4].level, KVMMU_LOG_DEBUG);
	ASSERT_EQ(kvmmu_log_set_sink(NULL), sink);
	ASSERT_EQ(kvmmu_log_set_sink(NULL), NULL);
}

TEST(long_message_not_truncated)
{
	char big[1500];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	capture();
	pr_err("<%s>", big);
	ASSERT_EQ(nmsgs, 1);
	ASSERT_EQ(strlen(msgs[0].text), sizeof(big) - 1 + 2);
	ASSERT_EQ(msgs[0].text[sizeof(big)], '>');
}

/* The default sink: stderr, one line, with the level's prefix. */
TEST(default_sink_prefix)
{
	FILE *tmp = tmpfile();
	char line[256] = "";
	int saved;

	ASSERT_PTR_NE(tmp, NULL);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	ASSERT_GE(saved, 0);
	ASSERT_GE(dup2(fileno(tmp), STDERR_FILENO), 0);
	kvmmu_log_set_sink(NULL);
	pr_warn("hello %d", 42);
	pr_err("with newline\n");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	ASSERT_PTR_NE(fgets(line, sizeof(line), tmp), NULL);
	ASSERT_EQ(strcmp(line, "kvmmu: warning: hello 42\n"), 0);
	ASSERT_PTR_NE(fgets(line, sizeof(line), tmp), NULL);
	ASSERT_EQ(strcmp(line, "kvmmu: error: with newline\n"), 0);
	ASSERT_PTR_EQ(fgets(line, sizeof(line), tmp), NULL);
	fclose(tmp);
}

/* Each test runs in a fresh child, so the environment is read here. */
TEST(env_level_debug)
{
	setenv("KVMMU_LOG", "debug", 1);
	capture();
	pr_debug("seen");
	ASSERT_EQ(nmsgs, 1);
}

TEST(env_level_err)
{
	setenv("KVMMU_LOG", "err", 1);
	capture();
	pr_warn("hidden");
	pr_err("seen");
	ASSERT_EQ(nmsgs, 1);
	ASSERT_EQ(strcmp(msgs[0].text, "seen"), 0);
	/* An explicit level wins over the environment. */
	kvmmu_log_set_level(KVMMU_LOG_INFO);
	pr_info("now seen");
	ASSERT_EQ(nmsgs, 2);
}

TEST(warn_on_returns_and_counts)
{
	unsigned long base;
	int x = 3;

	capture();
	kvmmu_warn_reset();
	ASSERT_EQ(kvmmu_warn_count(), 0);
	ASSERT_FALSE(WARN_ON(x == 4));
	ASSERT_EQ(kvmmu_warn_count(), 0);
	ASSERT_EQ(nmsgs, 0);
	ASSERT_TRUE(WARN_ON(x == 3));
	ASSERT_EQ(kvmmu_warn_count(), 1);
	ASSERT_EQ(nmsgs, 1);
	ASSERT_PTR_NE(strstr(msgs[0].text, "WARNING: "), NULL);
	ASSERT_PTR_NE(strstr(msgs[0].text, "util_log.c:"), NULL);
	ASSERT_PTR_NE(strstr(msgs[0].text, "x == 3"), NULL);
	/* Usable as a condition, evaluating its argument once. */
	if (WARN_ON(++x != 4))
		ASSERT_TRUE(false);
	ASSERT_EQ(x, 4);
	/* Filtered out of the log, still counted. */
	kvmmu_log_set_level(KVMMU_LOG_ERR);
	base = kvmmu_warn_count();
	ASSERT_TRUE(WARN_ON(1));
	ASSERT_EQ(kvmmu_warn_count(), base + 1);
	ASSERT_EQ(nmsgs, 1);
	__kvmmu_warn(NULL, 0, NULL);
	ASSERT_EQ(kvmmu_warn_count(), base + 2);
	kvmmu_warn_reset();
	ASSERT_EQ(kvmmu_warn_count(), 0);
}

static bool once_site(bool c)
{
	return WARN_ON_ONCE(c);
}

TEST(warn_on_once_logs_once_counts_all)
{
	int i;

	capture();
	kvmmu_warn_reset();
	ASSERT_FALSE(once_site(false));
	ASSERT_EQ(kvmmu_warn_count(), 0);
	for (i = 0; i < 5; i++)
		ASSERT_TRUE(once_site(true));
	ASSERT_FALSE(once_site(false));
	ASSERT_EQ(kvmmu_warn_count(), 5);
	ASSERT_EQ(nmsgs, 1);
	ASSERT_PTR_NE(strstr(msgs[0].text, ": c"), NULL); /* the condition */
	/* A different site has its own "once". */
	ASSERT_TRUE(WARN_ON_ONCE(i == 5));
	ASSERT_EQ(nmsgs, 2);
	ASSERT_EQ(kvmmu_warn_count(), 6);
}

static void *log_worker(void *arg)
{
	int i;

	for (i = 0; i < 2000; i++) {
		pr_err("thread %ld line %d", (long)(intptr_t)arg, i);
		WARN_ON_ONCE(i >= 0);
	}
	return NULL;
}

static int inside, overlaps; /* __atomic: detect concurrent sink calls */

static void slow_sink(enum kvmmu_log_level level, const char *msg)
{
	if (__atomic_add_fetch(&inside, 1, __ATOMIC_ACQ_REL) != 1)
		__atomic_fetch_add(&overlaps, 1, __ATOMIC_RELAXED);
	nlines++; /* plain: safe only because the log serialises sinks */
	if (nlines % 8 == 0)
		sched_yield(); /* widen the window for an overlapping call */
	__atomic_sub_fetch(&inside, 1, __ATOMIC_ACQ_REL);
}

/* The log serialises sinks: never two calls at once, no lost counts. */
TEST(threads)
{
	pthread_t t[4];
	long i;

	nlines = 0;
	kvmmu_log_set_sink(slow_sink);
	kvmmu_warn_reset();
	for (i = 0; i < 4; i++)
		ASSERT_OK(pthread_create(&t[i], NULL, log_worker,
					 (void *)(intptr_t)i));
	for (i = 0; i < 4; i++)
		ASSERT_OK(pthread_join(t[i], NULL));
	ASSERT_EQ(overlaps, 0);
	ASSERT_EQ(nlines, 4 * 2000 + 1); /* + the one WARN_ON_ONCE line */
	ASSERT_EQ(kvmmu_warn_count(), 4 * 2000);
}

TEST(bug_on_aborts)
{
	int status;
	pid_t pid;

	BUG_ON(0);
	fflush(stdout);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, STDERR_FILENO); /* keep the BUG text out of the log */
		BUG_ON(1 + 1 == 2);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGABRT);
}

TEST_HARNESS_MAIN
