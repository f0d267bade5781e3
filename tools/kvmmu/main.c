// SPDX-License-Identifier: MIT
/*
 * kvmmu: the command-line front end.  A table of subcommands, git/kvmtool
 * style: `kvmmu <command> [options]`, each command with its own -h.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef KVMMU_VERSION
#define KVMMU_VERSION "unknown"
#endif

static const struct cli_cmd commands[] = {
	{ "demo",
	  "the main job: the shipped scenarios, then a stress with the checker",
	  cmd_demo },
	{ "bench", "run a benchmark (kvmmu bench -h lists them)", cmd_bench },
	{ "run", "run scenario files (PASS/FAIL/SKIP per scenario)", cmd_run },
	{ "stat", "run scenarios and print their counters, kvm_stat style",
	  cmd_stat },
	{ "stress", "concurrent stress with the checker on", cmd_stress },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: kvmmu [--version] [-h|--help] <command> [<args>]\n"
		   "\ncommands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\n'kvmmu <command> -h' describes a command's options.\n");
}

static const struct cli_cmd *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd;
	const char *name;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(name, "--version")) {
		printf("kvmmu %s\n", KVMMU_VERSION);
		return CLI_EXIT_OK;
	}
	/* `kvmmu help [command]`, as git has. */
	if (!strcmp(name, "help")) {
		char help[] = "-h";
		char *hargv[] = { NULL, help, NULL };

		if (argc < 3) {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		cmd = find_command(argv[2]);
		if (!cmd) {
			fprintf(stderr, "kvmmu: unknown command '%s'\n",
				argv[2]);
			return CLI_EXIT_USAGE;
		}
		hargv[0] = argv[2];
		return cmd->fn(2, hargv);
	}
	if (name[0] == '-') {
		fprintf(stderr, "kvmmu: unknown option '%s'\n", name);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	cmd = find_command(name);
	if (!cmd) {
		fprintf(stderr, "kvmmu: unknown command '%s'\n", name);
		fprintf(stderr, "(kvmmu -h lists the commands)\n");
		return CLI_EXIT_USAGE;
	}
	return cmd->fn(argc - 1, argv + 1);
}
