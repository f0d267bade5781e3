// SPDX-License-Identifier: MIT
/*
 * kvmmu bench NAME [-b SIZE] [-v N] [-i N] [--json]: run one benchmark of
 * the registry in bench/bench.h.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "../../bench/bench.h"

#define BENCH_SYNOPSIS "bench NAME [-b SIZE] [-v N] [-i N] [--json]"

static void bench_help(FILE *f)
{
	unsigned int i;

	cli_usage(f, BENCH_SYNOPSIS,
		  "Run benchmark NAME on the model and, in the same run, on "
		  "this machine's\nkernel; print the median of the "
		  "iterations.\n\n"
		  "  -b SIZE   bytes per thread, with an optional K, M or G "
		  "suffix\n            (default: the benchmark's, 1G for "
		  "host_fault)\n"
		  "  -v N      threads (vCPUs), each on its own SIZE bytes "
		  "(default: 1;\n            2 for populate)\n"
		  "  -i N      iterations (default: 3; 7 for populate)\n"
		  "  --json    print one JSON object of named figures "
		  "instead of text\n"
		  "  -h        this help\n\nbenchmarks:\n");
	for (i = 0; i < bench_registry_len; i++)
		fprintf(f, "  %-12s %s\n", bench_registry[i]->name,
			bench_registry[i]->summary);
}

int cmd_bench(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = { .threads = 0, .iterations = 0 };
	const char *size_arg = NULL;
	const struct bench *b;
	unsigned long v;
	int c, err;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:v:i:h", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'b':
			size_arg = optarg;
			err = cli_parse_size(optarg, &o.bytes);
			if (err)
				return cli_size_error("bench", BENCH_SYNOPSIS,
						      "-b", optarg, err);
			break;
		case 'v':
			if (cli_parse_uint(optarg, 1, 1024, &v))
				return cli_bad_usage("bench", BENCH_SYNOPSIS,
						     "-v: '%s' is not a number "
						     "of threads in 1..1024",
						     optarg);
			o.threads = v;
			break;
		case 'i':
			if (cli_parse_uint(optarg, 1, 100, &v))
				return cli_bad_usage("bench", BENCH_SYNOPSIS,
						     "-i: '%s' is not a number "
						     "of iterations in 1..100",
						     optarg);
			o.iterations = v;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			bench_help(stdout);
			return CLI_EXIT_OK;
		case ':':
			return cli_bad_usage("bench", BENCH_SYNOPSIS,
					     "option '%s' needs a value",
					     argv[optind - 1]);
		default:
			/* optopt: the bad letter; 0 for a long option */
			if (optopt)
				return cli_bad_usage("bench", BENCH_SYNOPSIS,
						     "unknown option '-%c'",
						     optopt);
			return cli_bad_usage("bench", BENCH_SYNOPSIS,
					     "unknown option '%s'",
					     argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_bad_usage("bench", BENCH_SYNOPSIS,
				     "which benchmark? (kvmmu bench -h "
				     "lists them)");
	if (optind + 1 < argc)
		return cli_bad_usage("bench", BENCH_SYNOPSIS,
				     "unexpected argument '%s'",
				     argv[optind + 1]);
	b = bench_find(argv[optind]);
	if (!b) {
		fprintf(stderr, "kvmmu bench: unknown benchmark '%s'\n",
			argv[optind]);
		bench_help(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!size_arg)
		o.bytes = b->default_bytes;
	if (!o.threads)
		o.threads = b->default_threads ? b->default_threads : 1;
	if (!o.iterations)
		o.iterations = b->default_iterations ? b->default_iterations :
						       3;
	if (!o.bytes || o.bytes % 4096)
		return cli_bad_usage("bench", BENCH_SYNOPSIS,
				     "-b: '%s' is not a non-zero multiple of "
				     "4 KiB",
				     size_arg ? size_arg : "(default)");
	if (b->max_threads && o.threads > b->max_threads)
		return cli_bad_usage("bench", BENCH_SYNOPSIS,
				     "-v: %s takes at most %u threads", b->name,
				     b->max_threads);
	return b->run(&o) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
