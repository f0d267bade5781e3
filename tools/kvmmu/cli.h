/* SPDX-License-Identifier: MIT */
/*
 * The kvmmu command line: shared pieces of the subcommands.
 *
 * kvmmu is shaped like kvmtool and git: main.c holds a table of
 * subcommands and calls the one named by the first argument with the rest
 * of the command line (argv[0] is the subcommand's name).  Each subcommand
 * lives in its own cmd_<name>.c, parses its own options and has its own -h.
 *
 * Exit statuses: 0 success, 1 the command ran and failed (a check did not
 * hold, the library returned an error), 2 bad usage (unknown command or
 * option, malformed value: a message and the usage go to stderr).
 */
#ifndef KVMMU_CLI_H
#define KVMMU_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <kvmmu/compiler.h>

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

struct cli_cmd {
	const char *name;
	const char *summary; /* one line, for kvmmu -h */
	int (*fn)(int argc, char **argv);
};

/* The subcommands (cmd_<name>.c). */
int cmd_demo(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_stress(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_stat(int argc, char **argv);

/**
 * cli_parse_size() - a byte count: decimal digits with an optional K, M
 * or G suffix (powers of 1024, either case), e.g. "4096", "64M", "1G".
 * Signs, spaces, hex, fractions and anything after the suffix are
 * rejected.  Return: 0 and *out, -EINVAL (malformed) or -ERANGE (does not
 * fit in 64 bits).
 */
int cli_parse_size(const char *s, uint64_t *out);

/**
 * cli_parse_uint() - a decimal integer in [min, max].
 * Return: 0 and *out, -EINVAL (malformed) or -ERANGE (outside the bounds).
 */
int cli_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out);

/**
 * cli_usage() - print a subcommand's usage text: "usage: kvmmu @synopsis"
 * followed by @body (may be NULL).
 */
void cli_usage(FILE *f, const char *synopsis, const char *body);

/**
 * cli_bad_usage() - report bad usage of subcommand @cmd: prints
 * "kvmmu @cmd: <message>" and the usage line to stderr.
 * Return: CLI_EXIT_USAGE, for `return cli_bad_usage(...)`.
 */
int cli_bad_usage(const char *cmd, const char *synopsis, const char *fmt, ...)
	__printf(3, 4);

/**
 * cli_size_error() - the message for a failed cli_parse_size() of @arg
 * given to option @opt, via cli_bad_usage().  Return: CLI_EXIT_USAGE.
 */
int cli_size_error(const char *cmd, const char *synopsis, const char *opt,
		   const char *arg, int err);

/* --- scenarios (scn.c): shared by run, stat and demo --- */

struct kvmmu_backend_ops;
struct kvmmu_trace;

struct cli_scn_list {
	char **paths;
	unsigned int n, cap;
};

/*
 * cli_scn_collect() - add @arg to @l: a file as it is, a directory as its
 * *.kvs files in name order.  Return: 0, -ENOENT (no such file, or a
 * directory without scenarios), another -errno.
 */
int cli_scn_collect(struct cli_scn_list *l, const char *arg);
void cli_scn_free(struct cli_scn_list *l);
/* Collect argv[first..]: CLI_EXIT_OK, or CLI_EXIT_USAGE (message printed,
 * @l freed). */
int cli_scn_args(const char *cmd, const char *synopsis, int argc, char **argv,
		 int first, struct cli_scn_list *l);
struct cli_scn_opts;
/* --backend NAME (or both, if @both_ok): CLI_EXIT_OK with o->backend and
 * o->compare set, or CLI_EXIT_USAGE. */
int cli_scn_backend(const char *cmd, const char *synopsis, const char *arg,
		    bool both_ok, struct cli_scn_opts *o);

struct cli_scn_opts {
	const struct kvmmu_backend_ops *backend; /* NULL: the model */
	const struct kvmmu_backend_ops *compare; /* --backend both: kvm */
	struct kvmmu_trace *trace;
	void (*stat_fn)(void *arg, const char *name, uint64_t value);
	void *stat_arg;
	bool quiet; /* no progress lines */
	FILE *out;
};

struct cli_scn_totals {
	unsigned int pass, fail, skip;
	unsigned int compared;	    /* scenarios compared on two backends */
	unsigned long observations; /* observations that agreed */
	unsigned long steps;
	double seconds;
};

/*
 * Parse and run one scenario; print "PASS|FAIL|SKIP  time  name" and, if
 * it did not pass, the message on the next line.  Return: the status.
 */
enum kvmmu_sc_status cli_scn_run_text(const struct cli_scn_opts *o,
				      const char *name, const char *text,
				      size_t len, struct cli_scn_totals *t);
enum kvmmu_sc_status cli_scn_run_file(const struct cli_scn_opts *o,
				      const char *path,
				      struct cli_scn_totals *t);
/* The shipped scenarios, embedded at build time (kvmmu demo's default). */
struct cli_embedded {
	const char *name, *text;
};
extern const struct cli_embedded cli_embedded_scenarios[];
extern const unsigned int cli_nr_embedded_scenarios;

/* "N passed, M failed, K skipped (S steps, T s)" */
void cli_scn_summary(FILE *out, const struct cli_scn_totals *t);

/*
 * cli_opt_error() - the message for getopt's ':' (missing value) or '?'
 * (unknown option) result @c, via cli_bad_usage().  Return: CLI_EXIT_USAGE.
 */
int cli_opt_error(const char *cmd, const char *synopsis, int c, char **argv);

#endif /* KVMMU_CLI_H */
