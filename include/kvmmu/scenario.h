/* SPDX-License-Identifier: MIT */
/*
 * Scenarios: small text files that set up a host and a VM, move memory
 * around, run vCPU accesses and state what must be observed.  The language
 * is in docs/scenario.md; the same file runs on every backend (the model
 * now, the real /dev/kvm later), so it describes observable behaviour only.
 */
#ifndef KVMMU_SCENARIO_H
#define KVMMU_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kvmmu_scenario;

/**
 * kvmmu_scenario_parse() - parse a scenario from memory.
 * @file: the name used in messages ("file:line:col: message").
 * @text: the contents, @len bytes; need not be NUL-terminated and may hold
 *	  any bytes (a NUL or a non-ASCII byte is an error, not a crash).
 * @out: the scenario on success; free it with kvmmu_scenario_free().
 * @err: receives the first error, "file:line:col: message", NUL-terminated
 *	 and truncated to @errlen.
 *
 * Context: any; no global state.
 * Return: 0, -EINVAL (syntax or meaning; the message says which), -ENOMEM,
 * -EFBIG (more than 1 MiB of text).
 */
int kvmmu_scenario_parse(const char *file, const char *text, size_t len,
			 struct kvmmu_scenario **out, char *err, size_t errlen);

/**
 * kvmmu_scenario_load() - read @path and parse it.
 * Return: as kvmmu_scenario_parse(), or the -errno of opening or reading
 * the file (the message says "path: strerror").
 */
int kvmmu_scenario_load(const char *path, struct kvmmu_scenario **out,
			char *err, size_t errlen);

/* Free a parsed scenario; NULL is a no-op. */
void kvmmu_scenario_free(struct kvmmu_scenario *sc);

struct kvmmu_backend_ops;
struct kvmmu_trace;

enum kvmmu_sc_status {
	KVMMU_SC_PASS,
	KVMMU_SC_FAIL,
	KVMMU_SC_SKIP,
};

struct kvmmu_sc_result {
	enum kvmmu_sc_status status;
	unsigned int line; /* the step that failed or was skipped; 0: none */
	/* FAIL: "file:line: `step`: expected ..., observed ..."; SKIP: why */
	char msg[768];
	unsigned long steps; /* steps executed (repeats counted) */
	double seconds;
	/* Differential runs: observations compared (the same on both). */
	unsigned long compared;
};

struct kvmmu_sc_options {
	const struct kvmmu_backend_ops *backend; /* NULL: the model */
	struct kvmmu_trace *trace;		 /* NULL: no trace */
	/* Called with every statistic at the end (kvmmu stat); optional. */
	void (*stat_fn)(void *arg, const char *name, uint64_t value);
	void *stat_arg;
	bool implicit_check; /* run the checker after the last step (def.) */
	/*
	 * Differential run: also run the scenario on @compare and compare
	 * every observation of the two (values read, errnos, vCPU exits,
	 * pages merged) step by step.  The result is FAIL at the first
	 * difference, showing both observations, or when either run fails;
	 * SKIP if either skips (after comparing what both observed).
	 */
	const struct kvmmu_backend_ops *compare;
};

/**
 * kvmmu_scenario_run() - run @sc on a fresh backend instance.
 * @opts: NULL for the defaults (model backend, checker at the end).
 * @res: the outcome: PASS, FAIL at the first step whose expectation did
 *	 not hold (with what was expected and what was observed), or SKIP at
 *	 the first step the backend cannot express (with its reason).
 *
 * Background vCPU programs still running at a failure are kicked and
 * joined before the backend is torn down.
 *
 * Context: may block; runs vCPU threads.
 * Return: 0 when @res is filled (whatever the outcome); -errno if the
 * backend could not be created (then @res->msg says why).
 */
int kvmmu_scenario_run(const struct kvmmu_scenario *sc,
		       const struct kvmmu_sc_options *opts,
		       struct kvmmu_sc_result *res);

#endif /* KVMMU_SCENARIO_H */
