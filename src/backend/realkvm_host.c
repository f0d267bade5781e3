// SPDX-License-Identifier: MIT
/*
 * The real-KVM backend, host side: the scenario's system calls in the VMM,
 * which is this process (handle 0), its memfds, and user accesses through
 * process_vm_readv/writev.  The checked calls themselves are in
 * realkvm_space.c, children in realkvm_proc.c, KSM in realkvm_ksm.c.
 *
 * The runner's own mappings (libc, heap, stacks, the guest's memory) share
 * this address space with the scenario's: a call whose range meets them is
 * refused with a SKIP reason, and a user access outside the scenario's
 * ranges is -EFAULT (realkvm_host.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "realkvm_host.h"

uint64_t rk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int rk_smaps_walk(pid_t pid,
		  int (*fn)(void *arg, uint64_t start, uint64_t end,
			    const char *flags),
		  void *arg)
{
	uint64_t vs = 0, ve = 0;
	char path[64], *line = NULL;
	size_t cap = 0;
	int r = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!r && getline(&line, &cap, f) > 0) {
		char *e;
		uint64_t x = strtoull(line, &e, 16);

		/* A VMA's header line: "start-end perms ..." */
		if (e != line && *e == '-') {
			vs = x;
			ve = strtoull(e + 1, NULL, 16);
		} else if (!strncmp(line, "VmFlags:", 8)) {
			r = fn(arg, vs, ve, line + 8);
		}
	}
	free(line);
	fclose(f);
	return r;
}

/* A refusal of realkvm_space.c as a SKIP reason.  Context: runner thread. */
int rk_why_skip(struct kvmmu_backend *be, int proc, const struct rk_why *why)
{
	unsigned long long s = why->start, l = why->len;

	switch (why->kind) {
	case RK_WHY_FOREIGN:
		if (!proc)
			return rk_skip(
				be,
				"%#llx+%#llx is in use by the runner process",
				s, l);
		return rk_skip(
			be,
			"%#llx+%#llx is in use in process %d (the runner's memory it inherited)",
			s, l, proc);
	case RK_WHY_RACE:
		return rk_skip(
			be,
			"%#llx+%#llx: a runner thread mapped memory in that range meanwhile",
			s, l);
	case RK_WHY_HOLES:
		return rk_skip(be, "%#llx+%#llx has more than %u unmapped gaps",
			       s, l, RK_MAX_HOLES);
	default:
		return rk_skip(
			be,
			"process %d has too many separate mappings for the kvm backend to track",
			proc);
	}
}

/* --- the VMM -------------------------------------------------------------- */

/* The VMM's space, with room for one more operation.  Context: runner. */
static int vmm_space(struct rk_host *h, struct rk_space *sp)
{
	if (h->nr_own + 2 > h->cap_own) {
		unsigned int cap = h->cap_own ? 2 * h->cap_own : 64;
		struct rk_range *r = realloc(h->own, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		h->own = r;
		h->cap_own = cap;
	}
	*sp = (struct rk_space){ .r = h->own,
				 .n = &h->nr_own,
				 .cap = h->cap_own,
				 .pid = getpid(),
				 .reserve = true };
	return 0;
}

/* A refusal becomes a SKIP with its reason; anything else is the kernel's. */
static int vmm_ret(struct kvmmu_backend *be, int r, const struct rk_why *why)
{
	return r == -EOPNOTSUPP && why->kind ? rk_why_skip(be, 0, why) : r;
}

/*
 * rk_host_init() - an empty host: the VMM (this process) owns nothing.
 * Return: 0, -EOPNOTSUPP (the page size is not 4 KiB).
 */
int rk_host_init(struct rk_host *h)
{
	unsigned int i;

	memset(h, 0, sizeof(*h));
	if (sysconf(_SC_PAGESIZE) != (long)PAGE_SIZE)
		return -EOPNOTSUPP;
	for (i = 0; i < RK_MAX_FILES; i++)
		h->file[i] = -1;
	for (i = 0; i < RK_MAX_PROCS; i++)
		h->proc[i].sock = -1;
	h->proc[0].live = true;
	h->timeout_ms = RK_TIMEOUT_MS;
	return 0;
}

/*
 * rk_host_fini() - leave nothing behind: SIGKILL and reap every child, put
 * back any KSM knob, close the memfds, unmap what the scenario mapped in
 * the VMM.  Safe on a host rk_host_init() failed on, and twice.
 * Context: the runner thread; no vCPU may still use the scenario's memory
 * (the VM is gone or its slots are).
 */
void rk_host_fini(struct rk_host *h)
{
	unsigned int i;

	if (!h->proc[0].live)
		return;
	rk_proc_fini(h);
	rk_ksm_restore();
	for (i = 0; i < RK_MAX_FILES; i++)
		if (h->file[i] >= 0) {
			close(h->file[i]);
			h->file[i] = -1;
		}
	for (i = 0; i < h->nr_own; i++)
		munmap((void *)(uintptr_t)h->own[i].start,
		       h->own[i].end - h->own[i].start);
	free(h->own);
	free(h->msg);
	h->own = NULL;
	h->msg = NULL;
	h->nr_own = h->cap_own = 0;
	h->proc[0].live = false;
}

/*
 * The host operations of struct kvmmu_backend_ops (include/kvmmu/backend.h)
 * on the real kernel.  Process 0 is this process; others go to their child
 * (realkvm_proc.c).  Flags, protections and advice are Linux's own.
 * Return: the real call's 0/-errno; -EBADF for an unknown process or file;
 * -EOPNOTSUPP with be->skip_reason when the range meets the runner's own
 * memory.  Context: the runner thread (vCPU threads may run meanwhile).
 */
int rk_mmap(struct kvmmu_backend *be, int proc, uint64_t addr, uint64_t len,
	    int prot, int flags, int file, uint64_t off, uint64_t *out)
{
	struct rk_host *h = rk_host_of(be);
	struct rk_why why = { 0 };
	struct rk_space sp;
	int fd = -1, r;

	if (proc)
		return rk_proc_mmap(be, proc, addr, len, prot, flags, file, off,
				    out);
	if (file >= 0) {
		if (file >= RK_MAX_FILES || h->file[file] < 0)
			return -EBADF;
		fd = h->file[file];
	}
	r = vmm_space(h, &sp);
	if (!r)
		r = rk_sp_mmap(&sp, addr, len, prot, flags, fd, off, out, &why);
	return vmm_ret(be, r, &why);
}

/* No device frames (remap_pfn_range) can be had from user space here. */
int rk_mmap_pfn(struct kvmmu_backend *be, int proc, uint64_t addr, uint64_t len,
		int prot, int flags, enum kvmmu_memtype mt, uint64_t *out)
{
	return rk_skip(be,
		       "no device frames to map on the kvm backend (pfnmap)");
}

int rk_munmap(struct kvmmu_backend *be, int proc, uint64_t addr, uint64_t len)
{
	struct rk_host *h = rk_host_of(be);
	struct rk_why why = { 0 };
	struct rk_space sp;
	int r;

	if (proc)
		return rk_proc_munmap(be, proc, addr, len);
	r = vmm_space(h, &sp);
	if (!r)
		r = rk_sp_munmap(&sp, addr, len, &why);
	return vmm_ret(be, r, &why);
}

int rk_mprotect(struct kvmmu_backend *be, int proc, uint64_t addr, uint64_t len,
		int prot)
{
	struct rk_host *h = rk_host_of(be);
	struct rk_why why = { 0 };
	struct rk_space sp;
	int r;

	if (proc)
		return rk_proc_mprotect(be, proc, addr, len, prot);
	r = vmm_space(h, &sp);
	if (!r)
		r = rk_sp_mprotect(&sp, addr, len, prot, &why);
	return vmm_ret(be, r, &why);
}

int rk_mremap(struct kvmmu_backend *be, int proc, uint64_t old_addr,
	      uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr,
	      uint64_t *out)
{
	struct rk_host *h = rk_host_of(be);
	struct rk_why why = { 0 };
	struct rk_space sp;
	int r;

	if (proc)
		return rk_proc_mremap(be, proc, old_addr, old_len, new_len,
				      flags, new_addr, out);
	r = vmm_space(h, &sp);
	if (!r)
		r = rk_sp_mremap(&sp, old_addr, old_len, new_len, flags,
				 new_addr, out, &why);
	return vmm_ret(be, r, &why);
}

int rk_madvise(struct kvmmu_backend *be, int proc, uint64_t addr, uint64_t len,
	       int advice)
{
	struct rk_host *h = rk_host_of(be);
	struct rk_why why = { 0 };
	struct rk_space sp;
	int r;

	if (proc)
		return rk_proc_madvise(be, proc, addr, len, advice);
	r = vmm_space(h, &sp);
	if (!r)
		r = rk_sp_madvise(&sp, addr, len, advice, &why);
	return vmm_ret(be, r, &why);
}

/*
 * User accesses: -EFAULT outside the scenario's ranges (the model's
 * process has nothing else mapped), and where a load or store would fault
 * (PROT_NONE, a write to PROT_READ, beyond a file's end); a partial
 * transfer is -EFAULT too.
 */
int rk_mem_read(struct kvmmu_backend *be, int proc, uint64_t addr, void *buf,
		uint64_t len)
{
	struct rk_host *h = rk_host_of(be);
	struct rk_space sp;
	int r;

	if (proc)
		return rk_proc_read(be, proc, addr, buf, len);
	r = vmm_space(h, &sp);
	return r ? r : rk_sp_read(&sp, addr, buf, len);
}

int rk_mem_write(struct kvmmu_backend *be, int proc, uint64_t addr,
		 const void *buf, uint64_t len)
{
	struct rk_host *h = rk_host_of(be);
	struct rk_space sp;
	int r;

	if (proc)
		return rk_proc_write(be, proc, addr, buf, len);
	r = vmm_space(h, &sp);
	return r ? r : rk_sp_write(&sp, addr, buf, len);
}

/* --- files ---------------------------------------------------------------- */

/*
 * A memfd of @size bytes, open in the VMM (children forked later inherit
 * it).  Return: its handle, -EMFILE (all RK_MAX_FILES in use), -errno of
 * memfd_create/ftruncate.  Context: the runner thread.
 */
int rk_memfd(struct kvmmu_backend *be, uint64_t size)
{
	struct rk_host *h = rk_host_of(be);
	int i, fd, r;

	for (i = 0; i < RK_MAX_FILES && h->file[i] >= 0; i++)
		;
	if (i == RK_MAX_FILES)
		return -EMFILE;
	fd = memfd_create("kvmmu-scenario", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size)) {
		r = -errno;
		close(fd);
		return r;
	}
	h->file[i] = fd;
	h->proc[0].files |= 1u << i;
	return i;
}

static int file_fd(struct rk_host *h, int file)
{
	if (file < 0 || file >= RK_MAX_FILES)
		return -1;
	return h->file[file];
}

/* Return: 0, -EBADF (no such file), -errno of the call. */
int rk_ftruncate(struct kvmmu_backend *be, int file, uint64_t size)
{
	int fd = file_fd(rk_host_of(be), file);

	if (fd < 0)
		return -EBADF;
	return ftruncate(fd, (off_t)size) ? -errno : 0;
}

int rk_punch_hole(struct kvmmu_backend *be, int file, uint64_t off,
		  uint64_t len)
{
	int fd = file_fd(rk_host_of(be), file);

	if (fd < 0)
		return -EBADF;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len))
		return -errno;
	return 0;
}
