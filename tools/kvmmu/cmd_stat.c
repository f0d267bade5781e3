// SPDX-License-Identifier: MIT
/*
 * kvmmu stat [--backend NAME] [--json] [-q] FILE|DIR...: run scenarios and
 * print their counters as kvm_stat does: event, total, share of all
 * events, rate over the run.  With several scenarios the totals add up.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmmu/backend.h>
#include <kvmmu/scenario.h>

#include "cli.h"

#define STAT_SYNOPSIS "stat [--backend NAME] [--json] [-q] FILE|DIR..."
#define STAT_MAX      256

struct stat_row {
	char name[64];
	uint64_t total;
};

struct stat_table {
	struct stat_row row[STAT_MAX];
	unsigned int n;
};

static void stat_add(void *arg, const char *name, uint64_t v)
{
	struct stat_table *t = arg;
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->row[i].name, name))
			break;
	if (i == t->n) {
		if (t->n == STAT_MAX)
			return;
		snprintf(t->row[t->n++].name, sizeof(t->row[0].name), "%s",
			 name);
	}
	t->row[i].total += v;
}

static int cmp_row(const void *a, const void *b)
{
	const struct stat_row *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void stat_help(FILE *f)
{
	cli_usage(f, STAT_SYNOPSIS,
		  "Run scenarios and print the VM's, vCPUs' and host's "
		  "counters in kvm_stat's\nlayout (event, total, %% of all "
		  "events, rate per second of run time); zero\ncounters are "
		  "left out.\n\n"
		  "  --backend NAME  model (default)\n"
		  "  --json          one JSON object: {\"seconds\": S, "
		  "\"stats\": {name: total}}\n"
		  "  -q              no scenario result lines\n"
		  "  -h              this help\n\n"
		  "Exit status: 0 none failed, 1 some failed, 2 bad usage.\n");
}

int cmd_stat(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'B' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct stat_table *tab = calloc(1, sizeof(*tab));
	struct cli_scn_opts o = { .quiet = true, .stat_fn = stat_add };
	struct cli_scn_totals t = { 0 };
	struct cli_scn_list l = { 0 };
	bool json = false, quiet = false;
	uint64_t sum = 0;
	unsigned int i;
	int c;
	FILE *devnull = NULL;

	if (!tab)
		return CLI_EXIT_FAIL;
	o.stat_arg = tab;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'B':
			if (cli_scn_backend("stat", STAT_SYNOPSIS, optarg,
					    false, &o)) {
				free(tab);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			free(tab);
			stat_help(stdout);
			return CLI_EXIT_OK;
		default:
			free(tab);
			return cli_opt_error("stat", STAT_SYNOPSIS, c, argv);
		}
	}
	if (cli_scn_args("stat", STAT_SYNOPSIS, argc, argv, optind, &l)) {
		free(tab);
		return CLI_EXIT_USAGE;
	}
	/* Result lines go to stderr with --json (stdout is the object). */
	if (quiet)
		devnull = fopen("/dev/null", "w");
	o.out = devnull ? devnull : json ? stderr : stdout;
	for (i = 0; i < l.n; i++)
		cli_scn_run_file(&o, l.paths[i], &t);
	qsort(tab->row, tab->n, sizeof(tab->row[0]), cmp_row);
	for (i = 0; i < tab->n; i++)
		if (strncmp(tab->row[i].name, "host.", 5))
			sum += tab->row[i].total;
	if (json) {
		printf("{\"seconds\":%.6f,\"passed\":%u,\"failed\":%u,"
		       "\"skipped\":%u,\"stats\":{",
		       t.seconds, t.pass, t.fail, t.skip);
		for (i = 0; i < tab->n; i++)
			printf("%s\"%s\":%llu", i ? "," : "", tab->row[i].name,
			       (unsigned long long)tab->row[i].total);
		printf("}}\n");
	} else {
		printf("%-34s %12s %7s %12s\n", "Event", "Total", "%Total",
		       "Rate/s");
		for (i = 0; i < tab->n; i++) {
			const struct stat_row *r = &tab->row[i];
			bool host = !strncmp(r->name, "host.", 5);

			if (!r->total)
				continue;
			printf("%-34s %12llu ", r->name,
			       (unsigned long long)r->total);
			if (host || !sum)
				printf("%7s ", "-");
			else
				printf("%6.1f%% ", 100.0 * r->total / sum);
			printf("%12.0f\n",
			       t.seconds > 0 ? r->total / t.seconds : 0.0);
		}
		printf("(%u scenario(s), %.3f s; %% of the VM's events, host "
		       "counters excluded)\n",
		       t.pass + t.fail + t.skip, t.seconds);
	}
	if (devnull)
		fclose(devnull);
	cli_scn_free(&l);
	free(tab);
	return t.fail ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
