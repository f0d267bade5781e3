// SPDX-License-Identifier: MIT
/*
 * The real-KVM backend's observation: KVM's binary statistics
 * (KVM_GET_STATS_FD on the VM and on every vCPU) by the kernel's names,
 * and check(), which on a real kernel can only watch the taint flags.
 *
 * Only single-value statistics are kept: cumulative and instant ones
 * (vCPU values are summed) and peaks (the maximum over vCPUs); histograms
 * are skipped.
 *
 * Context: the runner's thread (the read buffers are per file, unlocked).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "realkvm_vm.h"

static int rk_pread_all(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

static int rk_stats_parse(struct rk_statfd *s, const struct kvm_stats_header *h,
			  const uint8_t *descs)
{
	size_t dsz = sizeof(struct kvm_stats_desc) + h->name_size;
	uint32_t i, end = 0;

	s->desc = calloc(h->num_desc ? h->num_desc : 1, sizeof(*s->desc));
	if (!s->desc)
		return -ENOMEM;
	for (i = 0; i < h->num_desc; i++) {
		const struct kvm_stats_desc *d =
			(const void *)(descs + (size_t)i * dsz);
		uint32_t type = d->flags & KVM_STATS_TYPE_MASK;
		struct rk_stat_desc *o = &s->desc[s->n];

		if (d->offset + (uint64_t)d->size * 8 > end)
			end = d->offset + (uint32_t)d->size * 8;
		if (d->size != 1 || (type != KVM_STATS_TYPE_CUMULATIVE &&
				     type != KVM_STATS_TYPE_INSTANT &&
				     type != KVM_STATS_TYPE_PEAK))
			continue;
		snprintf(o->name, sizeof(o->name), "%.*s",
			 (int)strnlen(d->name, h->name_size), d->name);
		o->offset = d->offset;
		o->type = type;
		s->n++;
	}
	s->data_size = end;
	s->buf = calloc(1, end ? end : 8);
	return s->buf ? 0 : -ENOMEM;
}

/*
 * rk_stats_open() - see realkvm_vm.h.
 * Return: 0, -ENOMEM, or the kernel's -errno.  On error @s holds no fd.
 */
int rk_stats_open(int fd, struct rk_statfd *s)
{
	struct kvm_stats_header h;
	uint8_t *descs = NULL;
	size_t len;
	int r;

	memset(s, 0, sizeof(*s));
	s->fd = ioctl(fd, KVM_GET_STATS_FD, NULL);
	if (s->fd < 0)
		return -errno;
	r = rk_pread_all(s->fd, &h, sizeof(h), 0);
	if (r)
		goto fail;
	if (h.num_desc > 4096 || h.name_size > 4096) {
		r = -EINVAL;
		goto fail;
	}
	len = (sizeof(struct kvm_stats_desc) + h.name_size) * h.num_desc;
	descs = malloc(len ? len : 1);
	r = descs ? rk_pread_all(s->fd, descs, len, h.desc_offset) : -ENOMEM;
	if (!r)
		r = rk_stats_parse(s, &h, descs);
	free(descs);
	if (r)
		goto fail;
	s->data_offset = h.data_offset;
	return 0;
fail:
	rk_stats_close(s);
	return r;
}

void rk_stats_close(struct rk_statfd *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->desc);
	free(s->buf);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static int rk_stats_read(struct rk_statfd *s)
{
	return rk_pread_all(s->fd, s->buf, s->data_size, s->data_offset);
}

static int rk_stats_find(const struct rk_statfd *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->desc[i].name, name))
			return (int)i;
	return -1;
}

static uint64_t rk_stats_value(const struct rk_statfd *s, unsigned int i)
{
	return s->buf[s->desc[i].offset / 8];
}

/* A vCPU statistic over every vCPU (sum, or max for a peak). */
static int rk_vcpu_stat(struct rk_vm *vm, const char *name, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int i;
	int k, r;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct rk_statfd *s = &vm->vcpu[i].stats;
		uint64_t x;

		k = rk_stats_find(s, name);
		if (k < 0)
			return -ENOENT;
		r = rk_stats_read(s);
		if (r)
			return r;
		x = rk_stats_value(s, (unsigned int)k);
		if (s->desc[k].type == KVM_STATS_TYPE_PEAK)
			v = max(v, x);
		else
			v += x;
	}
	*out = v;
	return vm->nr_vcpus ? 0 : -ENOENT;
}

/*
 * rk_stat() - ops->stat: a VM statistic by the kernel's name, else the
 * vCPUs' one summed.
 * Return: 0, -ENOENT (no such statistic), or -errno reading it.
 */
int rk_stat(struct kvmmu_backend *be, const char *name, uint64_t *out)
{
	struct rk_vm *vm = rk_vm_of(be);
	int k = rk_stats_find(&vm->stats, name), r;

	if (k < 0)
		return rk_vcpu_stat(vm, name, out);
	r = rk_stats_read(&vm->stats);
	if (r)
		return r;
	*out = rk_stats_value(&vm->stats, (unsigned int)k);
	return 0;
}

/*
 * rk_stat_foreach() - ops->stat_foreach: every VM statistic, then every
 * vCPU statistic whose name is not a VM one, summed over the vCPUs.
 * Statistics that cannot be read are left out.
 */
void rk_stat_foreach(struct kvmmu_backend *be,
		     void (*fn)(void *arg, const char *name, uint64_t value),
		     void *arg)
{
	struct rk_vm *vm = rk_vm_of(be);
	unsigned int i;
	uint64_t v;

	if (!rk_stats_read(&vm->stats))
		for (i = 0; i < vm->stats.n; i++)
			fn(arg, vm->stats.desc[i].name,
			   rk_stats_value(&vm->stats, i));
	if (!vm->nr_vcpus)
		return;
	for (i = 0; i < vm->vcpu[0].stats.n; i++) {
		const char *name = vm->vcpu[0].stats.desc[i].name;

		if (rk_stats_find(&vm->stats, name) >= 0)
			continue;
		if (!rk_vcpu_stat(vm, name, &v))
			fn(arg, name, v);
	}
}

/* See realkvm_vm.h. */
void rk_taint_read(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/tainted", "re");

	snprintf(buf, len, "?");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	else
		snprintf(buf, len, "?");
	fclose(f);
}

/*
 * rk_check() - ops->check.  The real kernel has no checker to ask; what
 * can be seen is whether it WARNed or oopsed, through the taint flags.
 * Return: 0 if /proc/sys/kernel/tainted is what it was at create, else 1
 * with @msg saying how it changed.
 */
int rk_check(struct kvmmu_backend *be, char *msg, size_t len)
{
	struct rk_vm *vm = rk_vm_of(be);
	char now[sizeof(vm->taint)];

	rk_taint_read(now, sizeof(now));
	if (!strcmp(now, vm->taint))
		return 0;
	snprintf(msg, len,
		 "kernel taint changed from %s to %s (a WARN or oops?)",
		 vm->taint, now);
	return 1;
}
