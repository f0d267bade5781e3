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

#endif /* KVMMU_CLI_H */
