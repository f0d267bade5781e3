// SPDX-License-Identifier: MIT
/*
 * Logging and the WARN/BUG back ends.
 *
 * One process-wide threshold and one sink.  The threshold starts at WARN, or
 * at the level named by the KVMMU_LOG environment variable (debug, info,
 * warn, err), read once on first use; kvmmu_log_set_level() overrides it.
 * Messages are formatted by the caller's thread and handed to the sink under
 * a private mutex, so sinks see one whole message at a time and never run
 * concurrently.  A sink must therefore not call kvmmu_log() itself.
 *
 * The log does not use kvmmu locks or kvmmu atomics: lockdep reports through
 * it, and it must not pass through the scheduling hook.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <kvmmu/log.h>

#define LOG_BUF_SIZE 512

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t log_sink_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_level = KVMMU_LOG_WARN; /* accessed with __atomic */
static kvmmu_log_sink_t log_sink;      /* NULL: stderr; under log_sink_lock */
static unsigned long warn_count;       /* accessed with __atomic */

static const char *const level_prefix[] = {
	[KVMMU_LOG_ERR] = "kvmmu: error: ",
	[KVMMU_LOG_WARN] = "kvmmu: warning: ",
	[KVMMU_LOG_INFO] = "kvmmu: info: ",
	[KVMMU_LOG_DEBUG] = "kvmmu: debug: ",
};

static void log_init_once(void)
{
	static const struct {
		const char *name;
		enum kvmmu_log_level level;
	} names[] = {
		{ "err", KVMMU_LOG_ERR },   { "error", KVMMU_LOG_ERR },
		{ "warn", KVMMU_LOG_WARN }, { "warning", KVMMU_LOG_WARN },
		{ "info", KVMMU_LOG_INFO }, { "debug", KVMMU_LOG_DEBUG },
	};
	const char *env = getenv("KVMMU_LOG");
	size_t i;

	if (!env)
		return;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcasecmp(env, names[i].name)) {
			__atomic_store_n(&log_level, names[i].level,
					 __ATOMIC_RELAXED);
			return;
		}
	}
	fprintf(stderr,
		"kvmmu: warning: KVMMU_LOG=%s not understood "
		"(debug, info, warn, err)\n",
		env);
}

static void default_sink(enum kvmmu_log_level level, const char *msg)
{
	size_t len = strlen(msg);

	/* One stdio call per line: stderr's own lock keeps it whole. */
	fprintf(stderr, "%s%s%s", level_prefix[level], msg,
		len && msg[len - 1] == '\n' ? "" : "\n");
}

static void log_emit(enum kvmmu_log_level level, const char *msg)
{
	pthread_mutex_lock(&log_sink_lock);
	(log_sink ? log_sink : default_sink)(level, msg);
	pthread_mutex_unlock(&log_sink_lock);
}

static void log_vemit(enum kvmmu_log_level level, const char *fmt, va_list ap)
{
	char buf[LOG_BUF_SIZE], *big = NULL;
	va_list ap2;
	int len;

	va_copy(ap2, ap);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (len >= (int)sizeof(buf)) {
		big = malloc((size_t)len + 1);
		if (big)
			vsnprintf(big, (size_t)len + 1, fmt, ap2);
	}
	va_end(ap2);
	if (len < 0)
		snprintf(buf, sizeof(buf), "(bad format: %s)", fmt);
	log_emit(level, big ? big : buf);
	free(big);
}

/**
 * kvmmu_log() - format and emit one message.
 * @level: its severity; dropped when above the current threshold.
 * @fmt: printf format.
 *
 * Context: any thread; takes the private sink mutex.  Must not be called
 * from a sink.
 */
void kvmmu_log(enum kvmmu_log_level level, const char *fmt, ...)
{
	va_list ap;

	pthread_once(&log_once, log_init_once);
	if ((unsigned int)level > KVMMU_LOG_DEBUG)
		level = KVMMU_LOG_DEBUG;
	if ((int)level > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	log_vemit(level, fmt, ap);
	va_end(ap);
}

void kvmmu_log_set_level(enum kvmmu_log_level level)
{
	/* Run the environment default first so it cannot override us later. */
	pthread_once(&log_once, log_init_once);
	__atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
}

kvmmu_log_sink_t kvmmu_log_set_sink(kvmmu_log_sink_t sink)
{
	kvmmu_log_sink_t old;

	pthread_mutex_lock(&log_sink_lock);
	old = log_sink;
	log_sink = sink;
	pthread_mutex_unlock(&log_sink_lock);
	return old;
}

/**
 * __kvmmu_warn() - count one warning and log where it came from.
 * @file: source file of the WARN, or NULL to count without logging (the
 *	  repeated hits of a WARN_ON_ONCE).
 * @line: its line.
 * @cond: the condition's text.
 *
 * Context: any thread.
 */
void __kvmmu_warn(const char *file, int line, const char *cond)
{
	__atomic_fetch_add(&warn_count, 1, __ATOMIC_RELAXED);
	if (file)
		kvmmu_log(KVMMU_LOG_WARN, "WARNING: %s:%d: %s", file, line,
			  cond ? cond : "");
}

unsigned long kvmmu_warn_count(void)
{
	return __atomic_load_n(&warn_count, __ATOMIC_RELAXED);
}

void kvmmu_warn_reset(void)
{
	__atomic_store_n(&warn_count, 0, __ATOMIC_RELAXED);
}

/**
 * __kvmmu_bug() - report an impossible state and abort.
 * @file: source file of the BUG_ON.
 * @line: its line.
 * @cond: the condition's text.
 *
 * The message is written straight to stderr as well as to an installed
 * sink, so it is not lost if the sink is what broke.  Never returns.
 */
void __kvmmu_bug(const char *file, int line, const char *cond)
{
	fprintf(stderr, "kvmmu: BUG: %s:%d: %s\n", file, line, cond);
	fflush(stderr);
	/* trylock: the BUG may fire inside a sink, with the lock held. */
	if (!pthread_mutex_trylock(&log_sink_lock)) {
		char buf[LOG_BUF_SIZE];

		snprintf(buf, sizeof(buf), "BUG: %s:%d: %s", file, line, cond);
		if (log_sink)
			log_sink(KVMMU_LOG_ERR, buf);
		pthread_mutex_unlock(&log_sink_lock);
	}
	abort();
}
