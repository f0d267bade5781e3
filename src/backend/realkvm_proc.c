// SPDX-License-Identifier: MIT
/*
 * The real-KVM backend, host side: forked processes (`host fork`, mm=PROC).
 *
 * A child is a real fork() of the runner.  The runner is multithreaded
 * (vCPU threads may be in KVM_RUN), so the child, which has only the
 * forking thread, runs async-signal-safe code alone: system calls, no
 * malloc, stdio or locks.  It serves the host steps of its address space
 * over a SOCK_SEQPACKET socketpair, one fixed-size request and one
 * fixed-size reply (struct rk_req, struct rk_rep) at a time:
 *
 *	parent                              child
 *	fork() ---------------------------> prctl(PR_SET_PDEATHSIG, SIGKILL)
 *	        <-------------------------- READY (a reply with ret 0)
 *	MMAP/MUNMAP/MPROTECT/MREMAP/MADVISE -> rk_sp_*() on itself
 *	READ/WRITE (<= RK_CHUNK bytes each) -> process_vm_readv/writev(self)
 *	        <-------------------------- ret, out, why, data
 *	EXIT ------------------------------> reply, then _exit(0); waitpid()
 *
 * Every reply is awaited with poll() for at most h->timeout_ms: a child
 * that does not answer is killed and the call is -ETIMEDOUT; one that died
 * is reaped and the call is -EIO.  The child's owned ranges start as a copy
 * of the VMM's, in memory it inherits (struct rk_child, allocated before
 * fork()), and it keeps them itself.  It has the memfds open at the fork
 * (rk_proc.files); later ones are not open there.
 *
 * Only the VMM forks: a grandchild would need its child to fork while
 * serving, which nothing here needs yet.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kvmmu/log.h>

#include "realkvm_host.h"

enum rk_cmd {
	RK_CMD_MMAP = 1,
	RK_CMD_MUNMAP,
	RK_CMD_MPROTECT,
	RK_CMD_MREMAP,
	RK_CMD_MADVISE,
	RK_CMD_READ,
	RK_CMD_WRITE,
	RK_CMD_EXIT,
};

struct rk_req {
	uint32_t cmd;
	int32_t prot; /* mprotect, mmap: prot; madvise: advice */
	int32_t flags;
	int32_t fd; /* mmap: the descriptor (the same number in the child) */
	uint64_t addr, len, off, new_len, new_addr;
	uint8_t data[RK_CHUNK]; /* WRITE */
};

struct rk_rep {
	int64_t ret; /* 0 or -errno */
	uint64_t out;
	struct rk_why why;	/* ret -EOPNOTSUPP: refused, and why */
	uint8_t data[RK_CHUNK]; /* READ */
};

struct rk_msg {
	struct rk_req req;
	struct rk_rep rep;
};

/* What the child works with: allocated by the parent before fork(). */
struct rk_child {
	struct rk_range own[RK_CHILD_RANGES];
	unsigned int nr_own;
	int sock;
	struct rk_msg msg;
};

/* --- the child (async-signal-safe from here to child_main()) ------------- */

static int64_t child_do(struct rk_space *sp, const struct rk_req *q,
			struct rk_rep *p)
{
	switch (q->cmd) {
	case RK_CMD_MMAP:
		return rk_sp_mmap(sp, q->addr, q->len, q->prot, q->flags, q->fd,
				  q->off, &p->out, &p->why);
	case RK_CMD_MUNMAP:
		return rk_sp_munmap(sp, q->addr, q->len, &p->why);
	case RK_CMD_MPROTECT:
		return rk_sp_mprotect(sp, q->addr, q->len, q->prot, &p->why);
	case RK_CMD_MADVISE:
		return rk_sp_madvise(sp, q->addr, q->len, q->prot, &p->why);
	case RK_CMD_MREMAP:
		return rk_sp_mremap(sp, q->addr, q->len, q->new_len, q->flags,
				    q->new_addr, &p->out, &p->why);
	case RK_CMD_READ:
		if (q->len > RK_CHUNK)
			return -EINVAL;
		return rk_sp_read(sp, q->addr, p->data, q->len);
	case RK_CMD_WRITE:
		if (q->len > RK_CHUNK)
			return -EINVAL;
		return rk_sp_write(sp, q->addr, q->data, q->len);
	case RK_CMD_EXIT:
		return 0;
	}
	return -EINVAL;
}

/*
 * The child's whole life: die with the parent, say READY, serve until EXIT
 * or until the parent's end closes.  Never returns into the runner.
 */
static __attribute__((noreturn)) void child_main(struct rk_child *c,
						 pid_t parent)
{
	struct rk_space sp = { .r = c->own,
			       .n = &c->nr_own,
			       .cap = RK_CHILD_RANGES,
			       .pid = getpid(),
			       .reserve = false }; /* no other thread here */
	struct rk_req *q = &c->msg.req;
	struct rk_rep *p = &c->msg.rep;
	ssize_t n;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(1);
	p->ret = 0;
	p->out = 0;
	p->why = (struct rk_why){ 0 };
	if (send(c->sock, p, sizeof(*p), MSG_NOSIGNAL) != (ssize_t)sizeof(*p))
		_exit(1);
	for (;;) {
		n = recv(c->sock, q, sizeof(*q), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(*q))
			_exit(n ? 1 : 0);
		p->out = 0;
		p->why = (struct rk_why){ 0 };
		p->ret = child_do(&sp, q, p);
		if (send(c->sock, p, sizeof(*p), MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(*p))
			_exit(1);
		if (q->cmd == RK_CMD_EXIT)
			_exit(0);
	}
}

/* --- the parent ------------------------------------------------------------ */

/* Reap @pid, waiting at most @ms.  Return: whether it is gone. */
static bool proc_reap(pid_t pid, unsigned int ms)
{
	uint64_t deadline = rk_now_ms() + ms;
	struct timespec tick = { .tv_nsec = 1000000 };

	for (;;) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		if (rk_now_ms() >= deadline)
			return false;
		nanosleep(&tick, NULL);
	}
}

/*
 * End child @proc: SIGKILL it unless @asked (it was told to exit and has
 * answered), reap it, free its handle.  Bounded: a child that outlives the
 * bound after SIGKILL is reported and left to init.
 */
static void proc_end(struct rk_host *h, int proc, bool asked)
{
	struct rk_proc *p = &h->proc[proc];
	bool gone = false;

	if (asked)
		gone = proc_reap(p->pid, h->timeout_ms);
	if (!gone) {
		kill(p->pid, SIGKILL);
		if (!proc_reap(p->pid, h->timeout_ms))
			pr_err("kvm backend: process %d (pid %d) did not die\n",
			       proc, (int)p->pid);
	}
	close(p->sock);
	*p = (struct rk_proc){ .sock = -1 };
}

/* The next reply of child @proc, within the bound.  Return: 0, -ETIMEDOUT
 * or -EIO (the child is then gone). */
static int proc_wait(struct rk_host *h, int proc, struct rk_rep *rep)
{
	struct pollfd pfd = { .fd = h->proc[proc].sock, .events = POLLIN };
	uint64_t deadline = rk_now_ms() + h->timeout_ms;
	ssize_t n;

	for (;;) {
		uint64_t now = rk_now_ms();
		int r;

		if (now >= deadline) {
			proc_end(h, proc, false);
			return -ETIMEDOUT;
		}
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r > 0)
			break;
		if (r < 0 && errno != EINTR) {
			proc_end(h, proc, false);
			return -EIO;
		}
	}
	n = recv(pfd.fd, rep, sizeof(*rep), MSG_DONTWAIT);
	if (n == (ssize_t)sizeof(*rep))
		return 0;
	proc_end(h, proc, false);
	return -EIO;
}

/* Send h->msg->req to @proc and wait for h->msg->rep. */
static int proc_call(struct rk_host *h, int proc)
{
	struct rk_req *q = &h->msg->req;

	if (send(h->proc[proc].sock, q, sizeof(*q),
		 MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(*q)) {
		proc_end(h, proc, false);
		return -EIO;
	}
	return proc_wait(h, proc, &h->msg->rep);
}

/* The request buffer for child @proc, or NULL if there is no such child. */
static struct rk_req *proc_req(struct rk_host *h, int proc, uint32_t cmd)
{
	struct rk_req *q;

	if (proc <= 0 || proc >= RK_MAX_PROCS || !h->proc[proc].live)
		return NULL;
	q = &h->msg->req;
	q->cmd = cmd;
	q->prot = q->flags = 0;
	q->fd = -1;
	q->addr = q->len = q->off = q->new_len = q->new_addr = 0;
	return q;
}

/* Call, then turn the reply into a return value (a refusal: a SKIP). */
static int proc_result(struct kvmmu_backend *be, int proc, uint64_t *out)
{
	struct rk_host *h = rk_host_of(be);
	struct rk_rep *p = &h->msg->rep;
	int r = proc_call(h, proc);

	if (r)
		return r;
	if (p->ret == -EOPNOTSUPP && p->why.kind)
		return rk_why_skip(be, proc, &p->why);
	if (!p->ret && out)
		*out = p->out;
	return (int)p->ret;
}

/* A VMA fork() does not copy (MADV_DONTFORK) is not the child's. */
static int drop_dontcopy(void *arg, uint64_t vs, uint64_t ve, const char *flags)
{
	return strstr(flags, " dc") ? rk_sp_forget(arg, vs, ve) : 0;
}

/*
 * The child's owned ranges: the VMM's but those fork() does not copy.  The
 * child must not own the hole they leave: its runtime may map there (a
 * sanitizer's does).  Context: the runner thread, before fork().
 */
static int child_own(struct rk_host *h, struct rk_child *c)
{
	struct rk_space sp = { .r = c->own,
			       .n = &c->nr_own,
			       .cap = RK_CHILD_RANGES };

	if (h->nr_own + 2 > RK_CHILD_RANGES)
		return -ENOSPC;
	if (h->nr_own)
		memcpy(c->own, h->own, h->nr_own * sizeof(*c->own));
	c->nr_own = h->nr_own;
	return rk_smaps_walk(getpid(), drop_dontcopy, &sp);
}

/*
 * rk_fork() - fork the VMM: handle @proc must be 0.  The child is ready
 * (its death signal armed) when this returns.
 * Return: the child's handle, -EBADF (no process @proc), -EAGAIN (all
 * RK_MAX_PROCS in use), -EOPNOTSUPP (@proc is a child; the VMM has more
 * ranges than a child tracks), -errno of socketpair/fork, -ETIMEDOUT/-EIO
 * (the child did not come up).  Context: the runner thread.
 */
int rk_fork(struct kvmmu_backend *be, int proc)
{
	struct rk_host *h = rk_host_of(be);
	pid_t self = getpid(), pid;
	struct rk_child *c;
	int sv[2], i, j, r;

	if (proc < 0 || proc >= RK_MAX_PROCS || !h->proc[proc].live)
		return -EBADF;
	if (proc)
		return rk_skip(
			be,
			"only the VMM can fork on the kvm backend (process %d is a child)",
			proc);
	for (i = 1; i < RK_MAX_PROCS && h->proc[i].live; i++)
		;
	if (i == RK_MAX_PROCS)
		return -EAGAIN; /* fork's errno when out of processes */
	if (!h->msg && !(h->msg = malloc(sizeof(*h->msg))))
		return -ENOMEM;
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	r = child_own(h, c);
	if (r) {
		free(c);
		if (r == -ENOSPC)
			return rk_skip(
				be,
				"the VMM has too many separate mappings for a child to track (at most %u)",
				RK_CHILD_RANGES - 2);
		return r;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		r = -errno;
		free(c);
		return r;
	}
	c->sock = sv[1];
	pid = fork();
	if (pid == 0) {
		/* Other children must see EOF when the parent closes. */
		close(sv[0]);
		for (j = 1; j < RK_MAX_PROCS; j++)
			if (h->proc[j].live)
				close(h->proc[j].sock);
		child_main(c, self);
	}
	r = pid < 0 ? -errno : 0;
	close(sv[1]);
	free(c);
	if (r) {
		close(sv[0]);
		return r;
	}
	h->proc[i] = (struct rk_proc){ .live = true,
				       .pid = pid,
				       .sock = sv[0],
				       .files = h->proc[0].files };
	r = proc_wait(h, i, &h->msg->rep); /* READY */
	return r ? r : i;
}

/*
 * rk_exit() - child @proc exits (_exit in the child) and is reaped.
 * Return: 0, -ESRCH (not a live child).  A child that does not answer is
 * killed; it is gone either way.  Context: the runner thread.
 */
int rk_exit(struct kvmmu_backend *be, int proc)
{
	struct rk_host *h = rk_host_of(be);

	if (!h->msg || !proc_req(h, proc, RK_CMD_EXIT))
		return -ESRCH;
	if (!proc_call(h, proc))
		proc_end(h, proc, true);
	return 0;
}

/* SIGKILL and reap every child.  Context: the runner thread. */
void rk_proc_fini(struct rk_host *h)
{
	int i;

	for (i = 1; i < RK_MAX_PROCS; i++)
		if (h->proc[i].live)
			proc_end(h, i, false);
}

/*
 * The host operations of child @proc (rk_mmap() and the others for a
 * process other than 0).  Return: as there, and -EBADF if @proc is not a
 * live child, -ETIMEDOUT/-EIO if it stopped answering (it is then gone).
 * Context: the runner thread.
 */
int rk_proc_mmap(struct kvmmu_backend *be, int proc, uint64_t addr,
		 uint64_t len, int prot, int flags, int file, uint64_t off,
		 uint64_t *out)
{
	struct rk_host *h = rk_host_of(be);
	struct rk_req *q;
	int fd = -1;

	if (!h->msg || !(q = proc_req(h, proc, RK_CMD_MMAP)))
		return -EBADF;
	if (file >= 0) {
		if (file >= RK_MAX_FILES || h->file[file] < 0)
			return -EBADF;
		if (!(h->proc[proc].files & (1u << file)))
			return rk_skip(
				be,
				"the file was created after process %d was forked: it is not open there",
				proc);
		fd = h->file[file];
	}
	q->addr = addr;
	q->len = len;
	q->prot = prot;
	q->flags = flags;
	q->fd = fd;
	q->off = off;
	return proc_result(be, proc, out);
}

int rk_proc_munmap(struct kvmmu_backend *be, int proc, uint64_t addr,
		   uint64_t len)
{
	struct rk_host *h = rk_host_of(be);
	struct rk_req *q;

	if (!h->msg || !(q = proc_req(h, proc, RK_CMD_MUNMAP)))
		return -EBADF;
	q->addr = addr;
	q->len = len;
	return proc_result(be, proc, NULL);
}

int rk_proc_mprotect(struct kvmmu_backend *be, int proc, uint64_t addr,
		     uint64_t len, int prot)
{
	struct rk_host *h = rk_host_of(be);
	struct rk_req *q;

	if (!h->msg || !(q = proc_req(h, proc, RK_CMD_MPROTECT)))
		return -EBADF;
	q->addr = addr;
	q->len = len;
	q->prot = prot;
	return proc_result(be, proc, NULL);
}

int rk_proc_madvise(struct kvmmu_backend *be, int proc, uint64_t addr,
		    uint64_t len, int advice)
{
	struct rk_host *h = rk_host_of(be);
	struct rk_req *q;

	if (!h->msg || !(q = proc_req(h, proc, RK_CMD_MADVISE)))
		return -EBADF;
	q->addr = addr;
	q->len = len;
	q->prot = advice;
	return proc_result(be, proc, NULL);
}

int rk_proc_mremap(struct kvmmu_backend *be, int proc, uint64_t old_addr,
		   uint64_t old_len, uint64_t new_len, int flags,
		   uint64_t new_addr, uint64_t *out)
{
	struct rk_host *h = rk_host_of(be);
	struct rk_req *q;

	if (!h->msg || !(q = proc_req(h, proc, RK_CMD_MREMAP)))
		return -EBADF;
	q->addr = old_addr;
	q->len = old_len;
	q->new_len = new_len;
	q->flags = flags;
	q->new_addr = new_addr;
	return proc_result(be, proc, out);
}

/* User accesses in RK_CHUNK pieces; on an error, the pieces before it
 * have been transferred (as kvmmu_mm_read/write). */
static int proc_access(struct kvmmu_backend *be, int proc, uint64_t addr,
		       uint8_t *buf, uint64_t len, bool write)
{
	struct rk_host *h = rk_host_of(be);
	uint64_t done, n;
	struct rk_req *q;
	int r;

	if (!h->msg || !proc_req(h, proc, RK_CMD_READ))
		return -EBADF;
	if (addr + len < addr)
		return -EFAULT;
	for (done = 0; done < len; done += n) {
		n = min(len - done, (uint64_t)RK_CHUNK);
		/* Still live: a piece that failed has returned above. */
		q = proc_req(h, proc, write ? RK_CMD_WRITE : RK_CMD_READ);
		q->addr = addr + done;
		q->len = n;
		if (write)
			memcpy(q->data, buf + done, n);
		r = proc_result(be, proc, NULL);
		if (r)
			return r;
		if (!write)
			memcpy(buf + done, h->msg->rep.data, n);
	}
	return 0;
}

int rk_proc_read(struct kvmmu_backend *be, int proc, uint64_t addr, void *buf,
		 uint64_t len)
{
	return proc_access(be, proc, addr, buf, len, false);
}

int rk_proc_write(struct kvmmu_backend *be, int proc, uint64_t addr,
		  const void *buf, uint64_t len)
{
	return proc_access(be, proc, addr, (void *)buf, len, true);
}
