// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the scenario parser (make fuzz): any bytes must
 * parse or fail with a message, never crash, leak or read out of bounds.
 * A parse that succeeds must also succeed again on the same text, and a
 * failure must produce a "file:line:col: " message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <kvmmu/scenario.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvmmu_scenario *sc = NULL;
	char err[512];
	int rc;

	rc = kvmmu_scenario_parse("fuzz.kvs", (const char *)data, size, &sc,
				  err, sizeof(err));
	if (rc && (sc || strncmp(err, "fuzz.kvs:", 9)))
		abort();
	if (!rc && !sc)
		abort();
	kvmmu_scenario_free(sc);
	return 0;
}
