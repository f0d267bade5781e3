// SPDX-License-Identifier: MIT
/*
 * kvmmu stress [-v N] [-b SIZE] [-t SECONDS] [-r SEED] [--arch ARCH]
 *		[--inject BUG] [-q]: random concurrent stress of one VM with the
 * checker on (include/kvmmu/stress.h).  Exit 0 iff no finding, no warning
 * and a clean host audit.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kvmmu/stress.h>

#include "cli.h"

#define STRESS_SYNOPSIS                                                 \
	"stress [-v N] [-b SIZE] [-t SECONDS] [-r SEED] [--arch ARCH] " \
	"[--inject BUG] [-q]"

static void stress_help(FILE *f)
{
	cli_usage(f, STRESS_SYNOPSIS,
		  "vCPU threads fill and verify guest memory while a host "
		  "thread mprotects,\nunmaps, DONTNEEDs, forks, mremaps and "
		  "moves or deletes memslots under them;\nevery TLB use is "
		  "checked, and a full check runs every second and at the "
		  "end.\n\n"
		  "  -v N           vCPUs (default 2)\n"
		  "  -b SIZE        guest memory per vCPU, with an optional K, "
		  "M or G suffix\n"
		  "                 (default 64M)\n"
		  "  -t SECONDS     how long to run (default 10)\n"
		  "  -r SEED        the seed, decimal or 0x-hex (default: from "
		  "the clock;\n"
		  "                 always printed)\n"
		  "  --arch ARCH    x86 (default), arm64 or mips\n"
		  "  --inject BUG   no_retry or no_tlb_flush: break the "
		  "protocol on purpose;\n"
		  "                 the run stops at the first finding\n"
		  "  -q             no progress lines\n"
		  "  -h             this help\n\n"
		  "Exit status: 0 no finding, 1 findings (or warnings, or an "
		  "unclean host\naudit), 2 bad usage.\n");
}

static int parse_seed(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

static int parse_inject(const char *s, unsigned int *out)
{
	if (!strcmp(s, "no_retry"))
		*out = KVMMU_INJECT_NO_RETRY;
	else if (!strcmp(s, "no_tlb_flush"))
		*out = KVMMU_INJECT_NO_TLB_FLUSH;
	else
		return -EINVAL;
	return 0;
}

static uint64_t clock_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec) ^
	       ((uint64_t)getpid() << 32);
}

int cmd_stress(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "arch", required_argument, NULL, 'a' },
		{ "inject", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kvmmu_stress_config cfg = {
		.arch = KVMMU_ARCH_X86,
		.nr_vcpus = 2,
		.bytes_per_vcpu = 64ull << 20,
		.seconds = 10,
		.out = stdout,
		.progress = true,
	};
	struct kvmmu_stress_result res;
	bool have_seed = false;
	unsigned long v;
	int c, err;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":v:b:t:r:qh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'v':
			if (cli_parse_uint(optarg, 1, 64, &v))
				return cli_bad_usage("stress", STRESS_SYNOPSIS,
						     "-v: '%s' is not a number "
						     "of vCPUs in 1..64",
						     optarg);
			cfg.nr_vcpus = v;
			break;
		case 'b':
			err = cli_parse_size(optarg, &cfg.bytes_per_vcpu);
			if (err)
				return cli_size_error("stress", STRESS_SYNOPSIS,
						      "-b", optarg, err);
			if (!cfg.bytes_per_vcpu || cfg.bytes_per_vcpu % 4096 ||
			    cfg.bytes_per_vcpu > (8ull << 30))
				return cli_bad_usage("stress", STRESS_SYNOPSIS,
						     "-b: '%s' is not a "
						     "multiple of 4 KiB in "
						     "4K..8G",
						     optarg);
			break;
		case 't':
			if (cli_parse_uint(optarg, 1, 86400, &v))
				return cli_bad_usage("stress", STRESS_SYNOPSIS,
						     "-t: '%s' is not a number "
						     "of seconds in 1..86400",
						     optarg);
			cfg.seconds = v;
			break;
		case 'r':
			if (parse_seed(optarg, &cfg.seed))
				return cli_bad_usage("stress", STRESS_SYNOPSIS,
						     "-r: '%s' is not a seed "
						     "(decimal or 0x-hex)",
						     optarg);
			have_seed = true;
			break;
		case 'a':
			if (kvmmu_arch_parse(optarg, &cfg.arch))
				return cli_bad_usage("stress", STRESS_SYNOPSIS,
						     "--arch: '%s' is not x86, "
						     "arm64 or mips",
						     optarg);
			break;
		case 'I':
			if (parse_inject(optarg, &cfg.inject))
				return cli_bad_usage("stress", STRESS_SYNOPSIS,
						     "--inject: '%s' is not "
						     "no_retry or no_tlb_flush",
						     optarg);
			break;
		case 'q':
			cfg.progress = false;
			break;
		case 'h':
			stress_help(stdout);
			return CLI_EXIT_OK;
		case ':':
			return cli_bad_usage("stress", STRESS_SYNOPSIS,
					     "option '%s' needs a value",
					     argv[optind - 1]);
		default:
			if (optopt)
				return cli_bad_usage("stress", STRESS_SYNOPSIS,
						     "unknown option '-%c'",
						     optopt);
			return cli_bad_usage("stress", STRESS_SYNOPSIS,
					     "unknown option '%s'",
					     argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_bad_usage("stress", STRESS_SYNOPSIS,
				     "unexpected argument '%s'", argv[optind]);
	if (!have_seed)
		cfg.seed = clock_seed();
	cfg.stop_on_finding = cfg.inject != 0;

	err = kvmmu_stress_run(&cfg, &res);
	if (err) {
		fprintf(stderr, "kvmmu stress: setting up the run failed: %s\n",
			strerror(-err));
		return CLI_EXIT_FAIL;
	}
	if (kvmmu_stress_passed(&res)) {
		printf("stress: PASS (seed %#llx)\n",
		       (unsigned long long)cfg.seed);
		return CLI_EXIT_OK;
	}
	printf("stress: FAIL (seed %#llx; rerun with -r %#llx)\n",
	       (unsigned long long)cfg.seed, (unsigned long long)cfg.seed);
	return CLI_EXIT_FAIL;
}
