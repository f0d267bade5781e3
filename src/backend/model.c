// SPDX-License-Identifier: MIT
/*
 * The model backend: scenarios run on kvmmu's own host (src/host), VM
 * (src/kvm) and vCPU threads (src/vcpu), with the checker available.
 *
 * Processes are host mms: handle 0 is the VMM's, which the VM is created
 * on; fork adds children.  Files are memfds.  A vCPU program becomes a
 * guest instruction list (include/kvmmu/vcpu.h); loops become a LOOP
 * instruction, so a spawned program runs entirely inside the vCPU thread.
 *
 * Context: the runner calls host, memslot and observation operations from
 * one thread; vcpu_load/vcpu_run/vcpu_mmio_reply of one vCPU from one
 * thread at a time (a spawn's), others concurrently.  Handle tables are
 * only written by the runner thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmmu/backend.h>
#include <kvmmu/check.h>
#include <kvmmu/log.h>
#include <kvmmu/stats.h>
#include <kvmmu/trace.h>
#include <kvmmu/vcpu.h>

#define MODEL_RAM	(1ull << 30)
#define MODEL_MAX_PROCS 16
#define MODEL_MAX_FILES 16
#define MODEL_MAX_VCPUS 64
#define MODEL_FILL_MAX	(1u << 30) /* bytes per FILL/VERIFY instruction */

struct model_vcpu {
	struct kvmmu_vcpu *vcpu;
	struct kvmmu_guest_insn *insns;
	uint32_t n;
	uint64_t result; /* READ destination (register 0) */
};

struct model_be {
	struct kvmmu_backend be;
	struct kvmmu_host *host;
	struct kvmmu_mm *mm[MODEL_MAX_PROCS];
	struct kvmmu_file *file[MODEL_MAX_FILES];
	struct kvmmu_vm *vm;
	uint64_t dev_used; /* device frames handed to pfnmap mappings */
	unsigned int nr_vcpus;
	struct model_vcpu vcpus[MODEL_MAX_VCPUS];
};

static struct model_be *to_model(struct kvmmu_backend *be)
{
	return container_of(be, struct model_be, be);
}

static struct kvmmu_mm *model_mm(struct model_be *m, int proc)
{
	if (proc < 0 || proc >= MODEL_MAX_PROCS)
		return NULL;
	return m->mm[proc];
}

static struct kvmmu_file *model_file(struct model_be *m, int file)
{
	if (file < 0 || file >= MODEL_MAX_FILES)
		return NULL;
	return m->file[file];
}

static const char *model_unavailable(void)
{
	return NULL;
}

static void model_destroy(struct kvmmu_backend *be)
{
	struct model_be *m = to_model(be);
	unsigned int i;

	if (m->vm)
		kvmmu_vm_destroy(m->vm);
	for (i = 0; i < MODEL_MAX_PROCS; i++)
		if (m->mm[i])
			kvmmu_mmput(m->mm[i]);
	for (i = 0; i < MODEL_MAX_FILES; i++)
		if (m->file[i])
			kvmmu_file_put(m->file[i]);
	for (i = 0; i < m->nr_vcpus; i++)
		free(m->vcpus[i].insns);
	if (m->host && kvmmu_host_destroy(m->host))
		pr_err("model backend: host still in use at teardown\n");
	free(m);
}

static int model_create(const struct kvmmu_be_config *cfg,
			struct kvmmu_backend **out)
{
	struct kvmmu_host_config hc = { .ram_bytes = MODEL_RAM };
	struct kvmmu_vm_config vc = { .arch = cfg->arch, .check = cfg->check };
	struct model_be *m;
	unsigned int i;
	int r;

	if (!cfg->nr_vcpus || cfg->nr_vcpus > MODEL_MAX_VCPUS)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->be.ops = kvmmu_backend_find("model");
	r = kvmmu_host_create(&hc, &m->host);
	if (!r)
		r = kvmmu_mm_create(m->host, &m->mm[0]);
	if (!r)
		r = kvmmu_vm_create(m->mm[0], &vc, &m->vm);
	for (i = 0; !r && i < cfg->nr_vcpus; i++) {
		r = kvmmu_vcpu_create(m->vm, i, &m->vcpus[i].vcpu);
		if (!r)
			m->nr_vcpus++;
	}
	if (r) {
		model_destroy(&m->be);
		return r;
	}
	*out = &m->be;
	return 0;
}

static void model_set_trace(struct kvmmu_backend *be, struct kvmmu_trace *t)
{
	kvmmu_vm_set_trace(to_model(be)->vm, t);
}

/* --- host ----------------------------------------------------------------- */

static int model_mmap(struct kvmmu_backend *be, int proc, uint64_t addr,
		      uint64_t len, int prot, int flags, int file, uint64_t off,
		      uint64_t *out)
{
	struct model_be *m = to_model(be);
	struct kvmmu_mm *mm = model_mm(m, proc);
	struct kvmmu_file *f = NULL;
	hva_t hva;
	int r;

	if (!mm)
		return -EBADF;
	if (file >= 0 && !(f = model_file(m, file)))
		return -EBADF;
	r = kvmmu_mmap(mm, addr, len, prot, flags, f, off, &hva);
	if (!r)
		*out = hva;
	return r;
}

static int model_mmap_pfn(struct kvmmu_backend *be, int proc, uint64_t addr,
			  uint64_t len, int prot, int flags,
			  enum kvmmu_memtype mt, uint64_t *out)
{
	struct model_be *m = to_model(be);
	struct kvmmu_mm *mm = model_mm(m, proc);
	uint64_t nr, pages = len >> PAGE_SHIFT;
	kvmmu_pfn_t base = kvmmu_host_device_base(m->host, &nr);
	hva_t hva;
	int r;

	if (!mm)
		return -EBADF;
	/* Each mapping gets device frames of its own, as a new BAR would. */
	if (pages > nr - m->dev_used)
		return -ENOMEM;
	r = kvmmu_mmap_pfn(mm, addr, len, prot, flags, base + m->dev_used, mt,
			   false, &hva);
	if (!r) {
		m->dev_used += pages;
		*out = hva;
	}
	return r;
}

static int model_munmap(struct kvmmu_backend *be, int proc, uint64_t addr,
			uint64_t len)
{
	struct kvmmu_mm *mm = model_mm(to_model(be), proc);

	return mm ? kvmmu_munmap(mm, addr, len) : -EBADF;
}

static int model_mprotect(struct kvmmu_backend *be, int proc, uint64_t addr,
			  uint64_t len, int prot)
{
	struct kvmmu_mm *mm = model_mm(to_model(be), proc);

	return mm ? kvmmu_mprotect(mm, addr, len, prot) : -EBADF;
}

static int model_mremap(struct kvmmu_backend *be, int proc, uint64_t old_addr,
			uint64_t old_len, uint64_t new_len, int flags,
			uint64_t new_addr, uint64_t *out)
{
	struct kvmmu_mm *mm = model_mm(to_model(be), proc);
	hva_t hva;
	int r;

	if (!mm)
		return -EBADF;
	r = kvmmu_mremap(mm, old_addr, old_len, new_len, flags, new_addr, &hva);
	if (!r)
		*out = hva;
	return r;
}

static int model_madvise(struct kvmmu_backend *be, int proc, uint64_t addr,
			 uint64_t len, int advice)
{
	struct kvmmu_mm *mm = model_mm(to_model(be), proc);

	return mm ? kvmmu_madvise(mm, addr, len, advice) : -EBADF;
}

static int model_fork(struct kvmmu_backend *be, int proc)
{
	struct model_be *m = to_model(be);
	struct kvmmu_mm *mm = model_mm(m, proc), *child;
	int i, r;

	if (!mm)
		return -EBADF;
	for (i = 1; i < MODEL_MAX_PROCS && m->mm[i]; i++)
		;
	if (i == MODEL_MAX_PROCS)
		return -EAGAIN; /* fork's errno when out of processes */
	r = kvmmu_fork(mm, &child);
	if (r)
		return r;
	m->mm[i] = child;
	return i;
}

static int model_exit(struct kvmmu_backend *be, int proc)
{
	struct model_be *m = to_model(be);

	if (proc <= 0 || !model_mm(m, proc))
		return -ESRCH;
	kvmmu_mmput(m->mm[proc]);
	m->mm[proc] = NULL;
	return 0;
}

static int model_memfd(struct kvmmu_backend *be, uint64_t size)
{
	struct model_be *m = to_model(be);
	struct kvmmu_file *f;
	int i, r;

	for (i = 0; i < MODEL_MAX_FILES && m->file[i]; i++)
		;
	if (i == MODEL_MAX_FILES)
		return -EMFILE;
	r = kvmmu_memfd_create(m->host, "scenario", &f);
	if (r)
		return r;
	r = kvmmu_ftruncate(f, size);
	if (r) {
		kvmmu_file_put(f);
		return r;
	}
	m->file[i] = f;
	return i;
}

static int model_ftruncate(struct kvmmu_backend *be, int file, uint64_t size)
{
	struct kvmmu_file *f = model_file(to_model(be), file);

	return f ? kvmmu_ftruncate(f, size) : -EBADF;
}

static int model_punch_hole(struct kvmmu_backend *be, int file, uint64_t off,
			    uint64_t len)
{
	struct kvmmu_file *f = model_file(to_model(be), file);

	if (!f)
		return -EBADF;
	return kvmmu_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       off, len);
}

static int model_mem_read(struct kvmmu_backend *be, int proc, uint64_t addr,
			  void *buf, uint64_t len)
{
	struct kvmmu_mm *mm = model_mm(to_model(be), proc);

	return mm ? kvmmu_mm_read(mm, addr, buf, len) : -EBADF;
}

static int model_mem_write(struct kvmmu_backend *be, int proc, uint64_t addr,
			   const void *buf, uint64_t len)
{
	struct kvmmu_mm *mm = model_mm(to_model(be), proc);

	return mm ? kvmmu_mm_write(mm, addr, buf, len) : -EBADF;
}

static int model_ksm_merge(struct kvmmu_backend *be, int proc, uint64_t addr,
			   uint64_t len)
{
	struct kvmmu_mm *mm = model_mm(to_model(be), proc);

	return mm ? kvmmu_ksm_merge(mm, addr, len) : -EBADF;
}

/* --- the VM ---------------------------------------------------------------- */

static int
model_set_memory_region(struct kvmmu_backend *be,
			const struct kvmmu_userspace_memory_region2 *r)
{
	return kvmmu_set_user_memory_region2(to_model(be)->vm, r);
}

static struct model_vcpu *model_vcpu(struct model_be *m, unsigned int vcpu)
{
	return vcpu < m->nr_vcpus ? &m->vcpus[vcpu] : NULL;
}

/* Append the instructions of one op; FILL/VERIFY split at MODEL_FILL_MAX. */
static uint32_t model_emit(struct kvmmu_guest_insn *out,
			   const struct kvmmu_be_op *op)
{
	uint64_t done = 0;
	uint32_t n = 0;

	switch (op->kind) {
	case KVMMU_BE_READ:
	case KVMMU_BE_WRITE:
		out[0] = (struct kvmmu_guest_insn){
			.op = op->kind == KVMMU_BE_READ ? KVMMU_GOP_READ :
							  KVMMU_GOP_WRITE,
			.size = (uint8_t)op->width,
			.gpa = op->gpa,
			.val = op->value,
		};
		return 1;
	case KVMMU_BE_TOUCH:
		for (done = 0; done < op->size; done += PAGE_SIZE)
			out[n++] = (struct kvmmu_guest_insn){
				.op = op->write ? KVMMU_GOP_WRITE :
						  KVMMU_GOP_READ,
				.size = 8,
				.gpa = op->gpa + done,
				.val = op->value,
			};
		return n;
	case KVMMU_BE_FILL:
	case KVMMU_BE_VERIFY:
		do {
			uint64_t len =
				min(op->size - done, (uint64_t)MODEL_FILL_MAX);

			out[n++] = (struct kvmmu_guest_insn){
				.op = op->kind == KVMMU_BE_FILL ?
					      KVMMU_GOP_FILL :
					      KVMMU_GOP_VERIFY,
				.len = (uint32_t)len,
				.gpa = op->gpa + done,
				.val = op->seed,
			};
			done += len;
		} while (done < op->size);
		return n;
	}
	return 0;
}

static uint64_t model_insns_for(const struct kvmmu_be_op *op)
{
	if (op->kind == KVMMU_BE_TOUCH)
		return op->size >> PAGE_SHIFT;
	if (op->kind == KVMMU_BE_FILL || op->kind == KVMMU_BE_VERIFY)
		return (uint32_t)((op->size + MODEL_FILL_MAX - 1) /
				  MODEL_FILL_MAX);
	return 1;
}

static int model_vcpu_load(struct kvmmu_backend *be, unsigned int vcpu,
			   const struct kvmmu_be_op *ops, unsigned int n,
			   uint64_t loops)
{
	struct model_vcpu *v = model_vcpu(to_model(be), vcpu);
	struct kvmmu_guest_prog p = { 0 };
	struct kvmmu_guest_insn *insns;
	uint64_t total = 1; /* the LOOP */
	unsigned int i;
	uint32_t k = 0;
	int r;

	if (!v || !loops || loops > UINT32_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if ((ops[i].kind == KVMMU_BE_FILL ||
		     ops[i].kind == KVMMU_BE_VERIFY) &&
		    !ops[i].size)
			return -EINVAL;
		if (ops[i].kind == KVMMU_BE_TOUCH &&
		    (!ops[i].size || ((ops[i].gpa | ops[i].size) & ~PAGE_MASK)))
			return -EINVAL;
		total += model_insns_for(&ops[i]);
		if (total > (1u << 20))
			return -E2BIG;
	}
	if (total > (1u << 20))
		return -E2BIG;
	insns = calloc(total, sizeof(*insns));
	if (!insns)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		k += model_emit(insns + k, &ops[i]);
	if (loops > 1 && k)
		insns[k++] = (struct kvmmu_guest_insn){ .op = KVMMU_GOP_LOOP,
							.len = (uint32_t)loops,
							.gpa = 0 };
	p.insns = insns;
	p.n = k;
	p.results = &v->result;
	p.nr_results = 1;
	r = kvmmu_vcpu_set_prog(v->vcpu, &p);
	if (r) {
		free(insns);
		return r;
	}
	free(v->insns);
	v->insns = insns;
	v->n = k;
	v->result = 0;
	return 0;
}

static int model_vcpu_run(struct kvmmu_backend *be, unsigned int vcpu,
			  struct kvmmu_be_exit *exit)
{
	struct model_vcpu *v = model_vcpu(to_model(be), vcpu);
	struct kvmmu_run *run;
	int r;

	if (!v)
		return -EINVAL;
	memset(exit, 0, sizeof(*exit));
	r = kvmmu_vcpu_run(v->vcpu);
	run = kvmmu_vcpu_run_state(v->vcpu);
	switch (run->exit_reason) {
	case KVMMU_EXIT_HLT:
		exit->reason = KVMMU_BE_EXIT_DONE;
		exit->value = v->result;
		return 0;
	case KVMMU_EXIT_MMIO:
		exit->reason = KVMMU_BE_EXIT_MMIO;
		exit->mmio.addr = run->mmio.phys_addr;
		exit->mmio.len = run->mmio.len;
		exit->mmio.is_write = run->mmio.is_write;
		if (run->mmio.is_write)
			memcpy(&exit->mmio.data, run->mmio.data,
			       min(run->mmio.len, 8u));
		return 0;
	case KVMMU_EXIT_MEMORY_FAULT:
		exit->reason = KVMMU_BE_EXIT_EFAULT;
		exit->efault_gpa = run->memory_fault.gpa;
		return 0;
	case KVMMU_EXIT_VERIFY_FAIL:
		exit->reason = KVMMU_BE_EXIT_VERIFY;
		exit->verify.gpa = run->verify.gpa;
		exit->verify.expected = run->verify.expected;
		exit->verify.found = run->verify.found;
		return 0;
	default:
		exit->reason = KVMMU_BE_EXIT_INTERNAL;
		snprintf(exit->detail, sizeof(exit->detail),
			 "exit reason %u at instruction %u (run returned %d)",
			 run->exit_reason, run->pc, r);
		return 0;
	}
}

static int model_vcpu_mmio_reply(struct kvmmu_backend *be, unsigned int vcpu,
				 uint64_t data)
{
	struct model_vcpu *v = model_vcpu(to_model(be), vcpu);
	struct kvmmu_run *run;

	if (!v)
		return -EINVAL;
	run = kvmmu_vcpu_run_state(v->vcpu);
	if (run->exit_reason != KVMMU_EXIT_MMIO || run->mmio.is_write)
		return -EINVAL;
	memcpy(run->mmio.data, &data, sizeof(run->mmio.data));
	return 0;
}

static void model_vcpu_kick(struct kvmmu_backend *be, unsigned int vcpu)
{
	struct model_vcpu *v = model_vcpu(to_model(be), vcpu);

	if (v)
		kvmmu_vcpu_kick(v->vcpu);
}

/* --- observation ----------------------------------------------------------- */

static int model_stat(struct kvmmu_backend *be, const char *name, uint64_t *out)
{
	struct model_be *m = to_model(be);

	if (!strncmp(name, "host.", 5))
		return kvmmu_stats_get(kvmmu_host_stats(m->host), name + 5,
				       out);
	if (kvmmu_stats_index(kvmmu_vm_stats(m->vm), name) < 0 &&
	    kvmmu_stats_index(kvmmu_vcpu_stats(m->vcpus[0].vcpu), name) < 0)
		return -ENOENT;
	*out = kvmmu_vm_stat(m->vm, name);
	return 0;
}

static void model_stat_foreach(struct kvmmu_backend *be,
			       void (*fn)(void *arg, const char *name,
					  uint64_t value),
			       void *arg)
{
	struct model_be *m = to_model(be);
	const struct kvmmu_stats *s[2] = { kvmmu_vm_stats(m->vm),
					   kvmmu_vcpu_stats(m->vcpus[0].vcpu) };
	const struct kvmmu_stats *h = kvmmu_host_stats(m->host);
	char name[96];
	unsigned int i, k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < s[k]->n; i++)
			fn(arg, s[k]->desc[i].name,
			   kvmmu_vm_stat(m->vm, s[k]->desc[i].name));
	for (i = 0; i < h->n; i++) {
		snprintf(name, sizeof(name), "host.%s", h->desc[i].name);
		fn(arg, name, kvmmu_stats_read(h, i));
	}
}

static int model_check(struct kvmmu_backend *be, char *msg, size_t len)
{
	struct model_be *m = to_model(be);
	struct kvmmu_finding f;
	unsigned long n;
	int r;

	r = kvmmu_check_vm(m->vm);
	if (r < 0)
		return r;
	n = kvmmu_check_nr_findings(m->vm);
	if (n && !kvmmu_check_finding(m->vm, 0, &f))
		kvmmu_check_format(&f, msg, len);
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

const struct kvmmu_backend_ops kvmmu_model_backend = {
	.name = "model",
	.reference = true,
	.unavailable = model_unavailable,
	.create = model_create,
	.destroy = model_destroy,
	.set_trace = model_set_trace,
	.mmap = model_mmap,
	.mmap_pfn = model_mmap_pfn,
	.munmap = model_munmap,
	.mprotect = model_mprotect,
	.mremap = model_mremap,
	.madvise = model_madvise,
	.fork = model_fork,
	.exit = model_exit,
	.memfd = model_memfd,
	.ftruncate = model_ftruncate,
	.punch_hole = model_punch_hole,
	.mem_read = model_mem_read,
	.mem_write = model_mem_write,
	.ksm_merge = model_ksm_merge,
	.set_memory_region = model_set_memory_region,
	.vcpu_load = model_vcpu_load,
	.vcpu_run = model_vcpu_run,
	.vcpu_mmio_reply = model_vcpu_mmio_reply,
	.vcpu_kick = model_vcpu_kick,
	.stat = model_stat,
	.stat_foreach = model_stat_foreach,
	.check = model_check,
};
