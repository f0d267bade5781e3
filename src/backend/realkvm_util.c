// SPDX-License-Identifier: MIT
/*
 * The real-KVM backend: helpers its files share (realkvm.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "realkvm.h"

int rk_skip(struct kvmmu_backend *be, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(be->skip_reason, sizeof(be->skip_reason), fmt, ap);
	va_end(ap);
	return -EOPNOTSUPP;
}
