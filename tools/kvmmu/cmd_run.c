// SPDX-License-Identifier: MIT
/*
 * kvmmu run [--backend NAME] [--trace FILE] [-q] FILE|DIR...: run
 * scenarios (docs/scenario.md), one result line each; exit 0 only if none
 * failed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <kvmmu/backend.h>
#include <kvmmu/scenario.h>
#include <kvmmu/trace.h>

#include "cli.h"

#define RUN_SYNOPSIS "run [--backend NAME] [--trace FILE] [-q] FILE|DIR..."

static void run_help(FILE *f)
{
	cli_usage(f, RUN_SYNOPSIS,
		  "Run scenario files (a directory: its *.kvs files in name "
		  "order) and print\none line per scenario: PASS, FAIL (with "
		  "the step, what was expected and\nwhat was observed) or "
		  "SKIP (with the reason), and its time.\n\n"
		  "  --backend NAME  model (default), kvm (the real /dev/kvm), "
		  "or both: run\n"
		  "                  each scenario on the model and on kvm and "
		  "compare every\n"
		  "                  value, exit and errno observed\n"
		  "  --trace FILE    write a Chrome trace (KVM tracepoint "
		  "names) of the run;\n"
		  "                  open it in https://ui.perfetto.dev\n"
		  "  -q              no progress lines for long scenarios\n"
		  "  -h              this help\n\n"
		  "Exit status: 0 none failed, 1 some failed, 2 bad usage.\n");
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'B' },
		{ "trace", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_scn_opts o = { .out = stdout };
	struct cli_scn_totals t = { 0 };
	struct cli_scn_list l = { 0 };
	const char *trace_path = NULL;
	unsigned int i;
	int c, err, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'B':
			if (cli_scn_backend("run", RUN_SYNOPSIS, optarg, true,
					    &o))
				return CLI_EXIT_USAGE;
			break;
		case 'T':
			trace_path = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			run_help(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_opt_error("run", RUN_SYNOPSIS, c, argv);
		}
	}
	if (cli_scn_args("run", RUN_SYNOPSIS, argc, argv, optind, &l))
		return CLI_EXIT_USAGE;
	if (trace_path) {
		const struct kvmmu_backend_ops *b =
			o.backend ? o.backend : kvmmu_backend_find("model");

		if (!b->set_trace || (o.compare && !o.compare->set_trace))
			fprintf(stderr,
				"kvmmu run: --trace: the %s backend records no "
				"events (the kernel's own are in tracefs: "
				"kvm:*, kvmmmu:*)\n",
				b->set_trace ? o.compare->name : b->name);
		err = kvmmu_trace_open(trace_path, &o.trace);
		if (err) {
			cli_scn_free(&l);
			fprintf(stderr, "kvmmu run: --trace %s: %s\n",
				trace_path, strerror(-err));
			return CLI_EXIT_FAIL;
		}
	}
	for (i = 0; i < l.n; i++)
		cli_scn_run_file(&o, l.paths[i], &t);
	cli_scn_summary(stdout, &t);
	ret = t.fail ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	if (o.trace) {
		err = kvmmu_trace_close(o.trace);
		if (err) {
			fprintf(stderr, "kvmmu run: writing %s: %s\n",
				trace_path, strerror(-err));
			ret = CLI_EXIT_FAIL;
		} else {
			printf("trace: %s\n", trace_path);
		}
	}
	cli_scn_free(&l);
	return ret;
}
