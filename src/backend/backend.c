// SPDX-License-Identifier: MIT
/*
 * The registry of built-in backends (include/kvmmu/backend.h).
 */
#include <string.h>

#include <kvmmu/backend.h>

extern const struct kvmmu_backend_ops kvmmu_model_backend;
extern const struct kvmmu_backend_ops kvmmu_realkvm_backend;

static const struct kvmmu_backend_ops *const backends[] = {
	&kvmmu_model_backend,
	&kvmmu_realkvm_backend,
};

const char *const kvmmu_backend_names[] = { "model", "kvm", NULL };

const struct kvmmu_backend_ops *kvmmu_backend_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}
