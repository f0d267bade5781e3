// SPDX-License-Identifier: MIT
/*
 * The benchmark registry and the helpers benchmarks share.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

/* Every benchmark, in the order `kvmmu bench -h` lists them. */
const struct bench *const bench_registry[] = {
	&bench_host_fault, &bench_s2pt, &bench_populate,
	&bench_memslot,	   &bench_zap,	&bench_rwlock,
};

const unsigned int bench_registry_len = ARRAY_SIZE(bench_registry);

const struct bench *bench_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < bench_registry_len; i++)
		if (!strcmp(bench_registry[i]->name, name))
			return bench_registry[i];
	return NULL;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bench_gate_init(struct bench_gate *g)
{
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->open = g->cancelled = false;
}

void bench_gate_destroy(struct bench_gate *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

bool bench_gate_wait(struct bench_gate *g)
{
	bool go;

	pthread_mutex_lock(&g->lock);
	while (!g->open && !g->cancelled)
		pthread_cond_wait(&g->cond, &g->lock);
	go = !g->cancelled;
	pthread_mutex_unlock(&g->lock);
	return go;
}

void bench_gate_release(struct bench_gate *g, bool cancel)
{
	pthread_mutex_lock(&g->lock);
	if (cancel)
		g->cancelled = true;
	else
		g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

uint64_t bench_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define ALU_ROUNDS 150000000ull
#define ALU_MAX	   64

/* Eight independent chains: an instruction mix that fills a core. */
static void *alu_loop(void *arg)
{
	uint64_t a0 = 1, a1 = 2, a2 = 3, a3 = 4, a4 = 5, a5 = 6, a6 = 7, a7 = 8;
	uint64_t i, *out = arg;

	for (i = 0; i < ALU_ROUNDS; i++) {
		a0 += i;
		a1 ^= i;
		a2 += a0;
		a3 ^= a1;
		a4 += i * 3;
		a5 ^= a4;
		a6 += a5;
		a7 ^= a6;
		__asm__ volatile(""
				 : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3),
				   "+r"(a4), "+r"(a5), "+r"(a6), "+r"(a7));
	}
	*out = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
	return NULL;
}

double bench_alu_scaling(unsigned int threads)
{
	pthread_t tid[ALU_MAX];
	uint64_t sink[ALU_MAX], t0, one, many;
	unsigned int i, n = 0;

	if (!threads || threads > ALU_MAX)
		return 0;
	t0 = bench_now_ns();
	alu_loop(&sink[0]);
	one = bench_now_ns() - t0;
	t0 = bench_now_ns();
	for (; n < threads; n++)
		if (pthread_create(&tid[n], NULL, alu_loop, &sink[n]))
			break;
	for (i = 0; i < n; i++)
		pthread_join(tid[i], NULL);
	many = bench_now_ns() - t0;
	return n == threads && many ? (double)threads * one / many : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *v, unsigned int n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int bench_fail(const struct bench *b, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "bench %s: ", b->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static void json_key(struct bench_json *j, const char *key)
{
	fprintf(j->f, "%s", j->fields++ ? "," : "{");
	bench_json_str(j, NULL, key);
	fputc(':', j->f);
}

void bench_json_begin(struct bench_json *j, FILE *f)
{
	j->f = f;
	j->fields = 0;
}

void bench_json_str(struct bench_json *j, const char *key, const char *val)
{
	const unsigned char *p;

	if (key)
		json_key(j, key);
	fputc('"', j->f);
	for (p = (const unsigned char *)val; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(j->f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(j->f, "\\u%04x", *p);
		else
			fputc(*p, j->f);
	}
	fputc('"', j->f);
}

void bench_json_u64(struct bench_json *j, const char *key, uint64_t val)
{
	json_key(j, key);
	fprintf(j->f, "%llu", (unsigned long long)val);
}

void bench_json_double(struct bench_json *j, const char *key, double val)
{
	json_key(j, key);
	/* JSON has no NaN or infinity; %.9g keeps nine significant digits. */
	if (isfinite(val))
		fprintf(j->f, "%.9g", val);
	else
		fprintf(j->f, "null");
}

void bench_json_end(struct bench_json *j)
{
	fprintf(j->f, "%s}\n", j->fields ? "" : "{");
	fflush(j->f);
}

const char *bench_fmt_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;
	double v = (double)bytes;

	while (u + 1 < ARRAY_SIZE(units) && bytes >= (1ULL << (10 * (u + 1))))
		u++;
	if (u == 0 || !(bytes & ((1ULL << (10 * u)) - 1)))
		snprintf(buf, len, "%llu %s",
			 (unsigned long long)(bytes >> (10 * u)), units[u]);
	else
		snprintf(buf, len, "%.2f %s", v / (double)(1ULL << (10 * u)),
			 units[u]);
	return buf;
}
