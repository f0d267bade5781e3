// SPDX-License-Identifier: MIT
/*
 * kvmmu demo [-t SECONDS] [-q] [DIR]: the main job.  Runs the shipped
 * scenario suite (embedded at build time; or the *.kvs of DIR), then, where
 * /dev/kvm is usable, the same suite on the model and on the real kernel
 * with every observation compared (the kernel as referee), then a
 * concurrent stress with the checker on, and prints a table of results
 * and a summary of KVM's counters over the suite.  Exit 0 only if every
 * scenario passed (or was skipped with a reason), the kernel agreed, and
 * the stress found nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kvmmu/backend.h>
#include <kvmmu/scenario.h>
#include <kvmmu/stress.h>

#include "cli.h"

#define DEMO_SYNOPSIS  "demo [-t SECONDS] [-q] [DIR]"
#define DEMO_MAX_STATS 128

/* Counters summed over the suite, by name. */
struct demo_stats {
	struct {
		char name[64];
		uint64_t v;
	} s[DEMO_MAX_STATS];
	unsigned int n;
};

static void demo_stat(void *arg, const char *name, uint64_t v)
{
	struct demo_stats *d = arg;
	unsigned int i;

	for (i = 0; i < d->n && strcmp(d->s[i].name, name); i++)
		;
	if (i == d->n) {
		if (d->n == DEMO_MAX_STATS)
			return;
		snprintf(d->s[d->n++].name, sizeof(d->s[0].name), "%s", name);
	}
	d->s[i].v += v;
}

static uint64_t demo_get(const struct demo_stats *d, const char *name)
{
	unsigned int i;

	for (i = 0; i < d->n; i++)
		if (!strcmp(d->s[i].name, name))
			return d->s[i].v;
	return 0;
}

static void demo_help(FILE *f)
{
	cli_usage(f, DEMO_SYNOPSIS,
		  "The main job: run the shipped scenario suite (coherence, "
		  "COW, DONTNEED,\nREMOVE, EFAULT and resume, mremap, "
		  "READONLY MMIO, memslot changes in use,\naliasing, every "
		  "memslot errno, faults racing invalidations), then, where "
		  "/dev/kvm\nis usable, the same suite on the model and on the "
		  "real kernel with every\nobservation compared, then a "
		  "concurrent stress with the checker on; print\nthe results "
		  "and KVM's counters.\n\n"
		  "  DIR          run DIR's *.kvs instead of the embedded "
		  "suite\n"
		  "  -t SECONDS   stress duration (default 10; 0 skips it)\n"
		  "  -q           no progress lines\n"
		  "  -h           this help\n\n"
		  "Exit status: 0 all passed, 1 a scenario failed or the "
		  "stress found something,\n2 bad usage.\n");
}

/* Run the suite (@l, or the embedded one) with @o, into @t. */
static void demo_suite(const struct cli_scn_opts *o,
		       const struct cli_scn_list *l, struct cli_scn_totals *t)
{
	unsigned int i;

	if (l->n) {
		for (i = 0; i < l->n; i++)
			cli_scn_run_file(o, l->paths[i], t);
		return;
	}
	for (i = 0; i < cli_nr_embedded_scenarios; i++) {
		const struct cli_embedded *e = &cli_embedded_scenarios[i];

		cli_scn_run_text(o, e->name, e->text, strlen(e->text), t);
	}
}

/*
 * The suite again on the model and on /dev/kvm, compared.  Return: NULL
 * when it ran (*t filled), else why not.
 */
static const char *demo_referee(bool quiet, const struct cli_scn_list *l,
				struct cli_scn_totals *t)
{
	struct cli_scn_opts o = { .out = stdout, .quiet = quiet };
	const struct kvmmu_backend_ops *kvm = kvmmu_backend_find("kvm");
	const char *why = kvm && kvm->unavailable ? kvm->unavailable() : NULL;

	if (!kvm)
		return "no kvm backend in this build";
	if (why)
		return why;
	o.backend = kvmmu_backend_find("model");
	o.compare = kvm;
	printf("\n== the kernel as referee: the suite on the model and on "
	       "/dev/kvm, every\n   value, exit and errno compared\n");
	fflush(stdout);
	demo_suite(&o, l, t);
	cli_scn_summary(stdout, t);
	return NULL;
}

static uint64_t demo_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec) ^
	       ((uint64_t)getpid() << 32);
}

static bool demo_stress(unsigned long seconds, bool quiet,
			struct kvmmu_stress_result *res, uint64_t *seed)
{
	struct kvmmu_stress_config cfg = {
		.arch = KVMMU_ARCH_X86,
		.nr_vcpus = 2,
		.bytes_per_vcpu = 64ull << 20,
		.seconds = (double)seconds,
		.seed = demo_seed(),
		.out = stdout,
		.progress = !quiet,
	};
	int r;

	*seed = cfg.seed;
	printf("\n== stress: 2 vCPUs x 64 MiB, %lu s, checker on, seed %#llx\n",
	       seconds, (unsigned long long)cfg.seed);
	fflush(stdout);
	r = kvmmu_stress_run(&cfg, res);
	if (r) {
		fprintf(stderr, "kvmmu demo: the stress could not start: %s\n",
			strerror(-r));
		return false;
	}
	return kvmmu_stress_passed(res);
}

int cmd_demo(int argc, char **argv)
{
	struct demo_stats *st = calloc(1, sizeof(*st));
	struct cli_scn_opts o = { .out = stdout, .stat_fn = demo_stat };
	struct cli_scn_totals t = { 0 }, rt = { 0 };
	struct cli_scn_list l = { 0 };
	const char *no_referee;
	struct kvmmu_stress_result sres;
	unsigned long seconds = 10;
	bool stress_ok = true;
	uint64_t seed = 0;
	int c;

	if (!st)
		return CLI_EXIT_FAIL;
	o.stat_arg = st;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, ":t:qh")) != -1) {
		switch (c) {
		case 't':
			if (cli_parse_uint(optarg, 0, 3600, &seconds)) {
				free(st);
				return cli_bad_usage("demo", DEMO_SYNOPSIS,
						     "-t: '%s' is not a number "
						     "of seconds in 0..3600",
						     optarg);
			}
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			free(st);
			demo_help(stdout);
			return CLI_EXIT_OK;
		default:
			free(st);
			return cli_opt_error("demo", DEMO_SYNOPSIS, c, argv);
		}
	}
	if (optind + 1 < argc) {
		free(st);
		return cli_bad_usage("demo", DEMO_SYNOPSIS,
				     "unexpected argument '%s'",
				     argv[optind + 1]);
	}
	if (optind < argc &&
	    cli_scn_args("demo", DEMO_SYNOPSIS, argc, argv, optind, &l)) {
		free(st);
		return CLI_EXIT_USAGE;
	}
	printf("== kvmmu demo: %u scenarios on the model backend\n",
	       l.n ? l.n : cli_nr_embedded_scenarios);
	fflush(stdout);
	demo_suite(&o, &l, &t);
	cli_scn_summary(stdout, &t);
	printf("suite counters: pf_taken %llu, pf_fixed %llu, pf_spurious "
	       "%llu, mmu_invalidate_retry %llu,\n  remote_tlb_flush %llu, "
	       "notifier_zap_pages %llu, pages_4k now %llu\n",
	       (unsigned long long)demo_get(st, "pf_taken"),
	       (unsigned long long)demo_get(st, "pf_fixed"),
	       (unsigned long long)demo_get(st, "pf_spurious"),
	       (unsigned long long)demo_get(st, "mmu_invalidate_retry"),
	       (unsigned long long)demo_get(st, "remote_tlb_flush"),
	       (unsigned long long)demo_get(st, "notifier_zap_pages"),
	       (unsigned long long)demo_get(st, "pages_4k"));

	no_referee = demo_referee(o.quiet, &l, &rt);
	if (seconds)
		stress_ok = demo_stress(seconds, o.quiet, &sres, &seed);

	printf("\n== result\n");
	printf("  %-28s %s (%u passed, %u failed, %u skipped)\n",
	       "scenario suite", t.fail ? "FAIL" : "PASS", t.pass, t.fail,
	       t.skip);
	if (no_referee)
		printf("  %-28s skipped (%s)\n", "model vs /dev/kvm",
		       no_referee);
	else
		printf("  %-28s %s (%u scenarios agree, %lu observations; %u "
		       "failed, %u skipped)\n",
		       "model vs /dev/kvm", rt.fail ? "FAIL" : "PASS",
		       rt.compared, rt.observations, rt.fail, rt.skip);
	if (seconds)
		printf("  %-28s %s (%llu rounds verified, %llu faults fixed, "
		       "%llu retries, %lu findings; seed %#llx)\n",
		       "stress with checker", stress_ok ? "PASS" : "FAIL",
		       (unsigned long long)sres.verified,
		       (unsigned long long)sres.pf_fixed,
		       (unsigned long long)sres.mmu_invalidate_retry,
		       sres.findings, (unsigned long long)seed);
	free(st);
	cli_scn_free(&l);
	return t.fail || rt.fail || !stress_ok ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
