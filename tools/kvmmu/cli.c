// SPDX-License-Identifier: MIT
/*
 * Helpers shared by the kvmmu subcommands: value parsing and usage
 * messages.  See cli.h.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Decimal digits only; no sign, no spaces.  Advances *sp past them. */
static int parse_digits(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned int d = *s - '0';

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*sp = s;
	*out = v;
	return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	unsigned int shift = 0;
	uint64_t v;
	int ret;

	if (!s)
		return -EINVAL;
	ret = parse_digits(&s, &v);
	if (ret)
		return ret;
	switch (*s) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (shift && s[1] != '\0')
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int cli_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out)
{
	uint64_t v;
	int ret;

	if (!s)
		return -EINVAL;
	ret = parse_digits(&s, &v);
	if (ret)
		return ret;
	if (*s != '\0')
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

void cli_usage(FILE *f, const char *synopsis, const char *body)
{
	fprintf(f, "usage: kvmmu %s\n", synopsis);
	if (body)
		fprintf(f, "\n%s", body);
}

int cli_bad_usage(const char *cmd, const char *synopsis, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kvmmu %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cli_usage(stderr, synopsis, NULL);
	fprintf(stderr, "(kvmmu %s -h for help)\n", cmd);
	return CLI_EXIT_USAGE;
}

int cli_size_error(const char *cmd, const char *synopsis, const char *opt,
		   const char *arg, int err)
{
	if (err == -ERANGE)
		return cli_bad_usage(cmd, synopsis,
				     "%s: size '%s' is too large", opt, arg);
	return cli_bad_usage(cmd, synopsis,
			     "%s: invalid size '%s' (expected digits with an "
			     "optional K, M or G suffix, e.g. 64M)",
			     opt, arg);
}

int cli_opt_error(const char *cmd, const char *synopsis, int c, char **argv)
{
	if (c == ':')
		return cli_bad_usage(cmd, synopsis, "option '%s' needs a value",
				     argv[optind - 1]);
	/* optopt: the bad letter; 0 for a long option */
	if (optopt)
		return cli_bad_usage(cmd, synopsis, "unknown option '-%c'",
				     optopt);
	return cli_bad_usage(cmd, synopsis, "unknown option '%s'",
			     argv[optind - 1]);
}
