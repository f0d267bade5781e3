/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the scenario runner tests (scenario_run.c, scenario_diff.c):
 * run a scenario given as text, and a substring assertion for messages.
 */
#ifndef KVMMU_TESTS_SCENARIO_COMMON_H
#define KVMMU_TESTS_SCENARIO_COMMON_H

#include <kvmmu/backend.h>
#include <kvmmu/scenario.h>

#include "harness.h"

/* Parse @text (named @file in messages; it must parse) and run it. */
static inline struct kvmmu_sc_result
sc_run_text(const char *file, const char *text,
	    const struct kvmmu_sc_options *o)
{
	struct kvmmu_scenario *sc = NULL;
	struct kvmmu_sc_result res;
	char err[512];

	if (kvmmu_scenario_parse(file, text, strlen(text), &sc, err,
				 sizeof(err))) {
		fprintf(stderr, "parse: %s\n", err);
		ASSERT_TRUE(!"the test scenario must parse");
	}
	ASSERT_OK(kvmmu_scenario_run(sc, o, &res));
	kvmmu_scenario_free(sc);
	return res;
}

#define ASSERT_CONTAINS(hay, needle)                                       \
	do {                                                               \
		if (!strstr((hay), (needle))) {                            \
			fprintf(stderr, "'%s'\n  does not contain '%s'\n", \
				(hay), (needle));                          \
			ASSERT_TRUE(!"substring");                         \
		}                                                          \
	} while (0)

#endif /* KVMMU_TESTS_SCENARIO_COMMON_H */
