/* SPDX-License-Identifier: MIT */
/*
 * The runner's shared state and helpers (run.c); the host and memslot
 * steps are in run_host.c, the vCPU steps and background programs in
 * run_vcpu.c.
 */
#ifndef KVMMU_SCENARIO_RUN_H
#define KVMMU_SCENARIO_RUN_H

#include <pthread.h>
#include <kvmmu/backend.h>
#include <kvmmu/compiler.h>
#include <kvmmu/scenario.h>

#include "ast.h"

#define RUN_MAX_SLOTS 1024 /* slots the runner remembers (sugar forms) */

struct run_name {
	char name[SC_MAX_NAME + 1];
	uint64_t v;
};

struct run_names {
	struct run_name *a;
	unsigned int n, cap;
};

struct run_slot {
	uint32_t slot; /* as << 16 | id */
	uint64_t gpa, size, hva;
	uint32_t flags;
};

struct run_spawn {
	char name[SC_MAX_NAME + 1];
	unsigned int vcpu;
	struct run_ctx *ctx;
	pthread_t tid;
	bool running;
	int err; /* vcpu_run's return */
	struct kvmmu_be_exit exit;
};

struct run_ctx {
	const struct kvmmu_scenario *sc;
	const struct kvmmu_backend_ops *ops;
	struct kvmmu_backend *be;
	struct kvmmu_sc_result *res;
	struct run_names labels, procs, files, base;
	struct run_slot *slots;
	unsigned int nr_slots;
	struct run_spawn spawns[SC_MAX_VCPUS];
	struct run_log *log; /* differential runs: what was observed */
};

/* What one run observed, in the scenario's words, step by step. */
#define RUN_OBS_TEXT 128
#define RUN_LOG_MAX  65536 /* entries kept; the rest only hashed */

struct run_obs {
	unsigned int line;
	bool shown_only; /* shown next to a failure, never compared */
	const struct sc_step *step;
	char text[RUN_OBS_TEXT];
};

struct run_log {
	struct run_obs *a;
	size_t n, cap;
	unsigned long total; /* observations, kept or not */
	uint64_t hash;	     /* of every observation */
};

/* Record an observation of @s (no-op unless the run is differential). */
void run_observe(struct run_ctx *c, const struct sc_step *s, const char *fmt,
		 ...) __printf(3, 4);
/* One that may differ between backends (a statistic): kept, to be shown
 * next to a failure, but not compared. */
void run_observe_shown(struct run_ctx *c, const struct sc_step *s,
		       const char *fmt, ...) __printf(3, 4);

/* Name tables (labels → HVA, processes and files → handles). */
struct run_name *run_names_find(struct run_names *t, const char *name);
int run_names_set(struct run_names *t, const char *name, uint64_t v);
void run_names_del(struct run_names *t, const char *name);

/* Record the outcome (the first one stands): "file:line: `step`: ..." */
void run_finish(struct run_ctx *c, const struct sc_step *s,
		enum kvmmu_sc_status st, const char *fmt, ...) __printf(4, 5);
/* "errno=EINVAL" (or the number) in @buf. */
const char *run_errno_str(int err, char *buf, size_t len);
/* A backend call's return: -EOPNOTSUPP becomes SKIP, another error FAIL
 * ("@what failed").  Return: true to go on. */
bool run_backend_ok(struct run_ctx *c, const struct sc_step *s, int r,
		    const char *what);
/* Judge a system call's return against expect ok / expect errno=E. */
bool run_judge_ret(struct run_ctx *c, const struct sc_step *s, int r);
/* An address expression's value; a process's or file's handle. */
bool run_resolve(struct run_ctx *c, const struct sc_step *s,
		 const struct sc_addr *a, uint64_t *out);
bool run_proc_of(struct run_ctx *c, const struct sc_step *s, int *out);
bool run_file_of(struct run_ctx *c, const struct sc_step *s, const char *name,
		 int *out);

/* run.c: one run of @sc on @ops (kvmmu_scenario_run() without compare),
 * observations into @log if not NULL. */
int run_scenario_on(const struct kvmmu_scenario *sc,
		    const struct kvmmu_sc_options *o,
		    const struct kvmmu_backend_ops *ops,
		    struct kvmmu_sc_result *res, struct run_log *log);

/* diff.c: the differential run of kvmmu_scenario_run(). */
int run_diff(const struct kvmmu_scenario *sc, const struct kvmmu_sc_options *o,
	     const struct kvmmu_backend_ops *a,
	     const struct kvmmu_backend_ops *b, struct kvmmu_sc_result *res);

/* run_host.c */
bool run_host(struct run_ctx *c, const struct sc_step *s);
bool run_slot(struct run_ctx *c, const struct sc_step *s);

/* run_vcpu.c */
bool run_vcpu(struct run_ctx *c, const struct sc_step *s);
bool run_spawn(struct run_ctx *c, const struct sc_step *s);
bool run_join(struct run_ctx *c, const struct sc_step *s);
/* Kick and join every background program still running. */
void run_spawns_stop(struct run_ctx *c);

#endif /* KVMMU_SCENARIO_RUN_H */
