// SPDX-License-Identifier: MIT
/*
 * The real-KVM backend's vCPUs: KVM_RUN and what its exits mean for a
 * vCPU program (realkvm_vm.h), MMIO completion, kicks and the watchdog.
 *
 * Kicks.  vcpu_kick() sets the vCPU's kvm_run.immediate_exit and, if a
 * thread is inside vcpu_run(), sends it RK_KICK_SIGNAL, whose handler does
 * nothing and is installed without SA_RESTART.  A kick before KVM_RUN is
 * entered is seen through immediate_exit (KVM_RUN returns -EINTR at once);
 * one during it, through the signal.  v->lock orders the two sides, so no
 * kick is lost; a kick that lands after the run ended makes the next run
 * return at once.  The watchdog thread kicks every run that has taken
 * RK_RUN_TIMEOUT seconds, so no vcpu_run blocks for longer than that.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "realkvm_vm.h"

#define RK_KICK_SIGNAL (SIGRTMIN + 6)

static double rk_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void rk_kick_handler(int sig)
{
	(void)sig; /* only there to make KVM_RUN return -EINTR */
}

static void rk_kick_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rk_kick_handler; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(RK_KICK_SIGNAL, &sa, NULL);
}

/* The handler (once per process), and the signal unblocked in this thread. */
static void rk_kick_prepare(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	static __thread bool unblocked;
	sigset_t set;

	pthread_once(&once, rk_kick_install);
	if (unblocked)
		return;
	sigemptyset(&set);
	sigaddset(&set, RK_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	unblocked = true;
}

/*
 * rk_vcpu_create() - see realkvm_vm.h.
 * Return: 0 or the kernel's -errno; on error nothing is left behind.
 * Context: creation only.
 */
int rk_vcpu_create(struct rk_vm *vm, unsigned int i)
{
	struct rk_vcpu *v = &vm->vcpu[i];
	void *run;
	int r;

	memset(v, 0, sizeof(*v));
	v->stats.fd = -1;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
	if (v->fd < 0)
		return -errno;
	run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   v->fd, 0);
	if (run == MAP_FAILED) {
		r = -errno;
		close(v->fd);
		return r;
	}
	v->run = run;
	v->run_size = vm->run_size;
	madvise(run, vm->run_size, MADV_DONTFORK); /* not a child's business */
	r = rk_stats_open(v->fd, &v->stats);
	if (r) {
		munmap(run, vm->run_size);
		close(v->fd);
		return r;
	}
	pthread_mutex_init(&v->lock, NULL);
	return 0;
}

/* Context: @v is not running. */
void rk_vcpu_destroy(struct rk_vcpu *v)
{
	rk_stats_close(&v->stats);
	munmap(v->run, v->run_size);
	close(v->fd);
	pthread_mutex_destroy(&v->lock);
}

static struct rk_vcpu *rk_vcpu_of(struct kvmmu_backend *be, unsigned int i)
{
	struct rk_vm *vm = rk_vm_of(be);

	return i < vm->nr_vcpus ? &vm->vcpu[i] : NULL;
}

/*
 * rk_vcpu_settle() - see realkvm_vm.h.  KVM completes a pending I/O or
 * MMIO exit at the start of KVM_RUN and only then looks at
 * immediate_exit, so one KVM_RUN with it set does exactly that.
 */
int rk_vcpu_settle(struct rk_vcpu *v)
{
	int r;

	if (v->pending == RK_PEND_NONE)
		return 0;
	pthread_mutex_lock(&v->lock);
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&v->lock);
	r = ioctl(v->fd, KVM_RUN, 0);
	r = r < 0 && errno != EINTR ? -errno : 0;
	pthread_mutex_lock(&v->lock);
	/* A kick that came meanwhile still applies to the next run. */
	__atomic_store_n(&v->run->immediate_exit, v->kick ? 1 : 0,
			 __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&v->lock);
	if (!r)
		v->pending = RK_PEND_NONE;
	return r;
}

int rk_vcpu_sregs(struct kvmmu_backend *be, unsigned int vcpu,
		  struct kvm_sregs *out)
{
	struct rk_vcpu *v = rk_vcpu_of(be, vcpu);

	if (!v)
		return -EINVAL;
	return ioctl(v->fd, KVM_GET_SREGS, out) ? -errno : 0;
}

int rk_vcpu_regs(struct kvmmu_backend *be, unsigned int vcpu,
		 struct kvm_regs *out)
{
	struct rk_vcpu *v = rk_vcpu_of(be, vcpu);

	if (!v)
		return -EINVAL;
	return ioctl(v->fd, KVM_GET_REGS, out) ? -errno : 0;
}

static void rk_internal(struct kvmmu_be_exit *exit, const char *fmt, ...)
	__printf(2, 3);

static void rk_internal(struct kvmmu_be_exit *exit, const char *fmt, ...)
{
	va_list ap;

	exit->reason = KVMMU_BE_EXIT_INTERNAL;
	va_start(ap, fmt);
	vsnprintf(exit->detail, sizeof(exit->detail), fmt, ap);
	va_end(ap);
}

/* Translate an OUT to one of our ports. */
static void rk_io_exit(struct rk_vcpu *v, const struct kvm_regs *regs,
		       struct kvmmu_be_exit *exit)
{
	const struct kvm_run *run = v->run;

	v->pending = RK_PEND_IO;
	if (run->io.direction == KVM_EXIT_IO_OUT &&
	    run->io.port == RK_PORT_DONE) {
		exit->reason = KVMMU_BE_EXIT_DONE;
		exit->value = regs->r15;
	} else if (run->io.direction == KVM_EXIT_IO_OUT &&
		   run->io.port == RK_PORT_VERIFY) {
		exit->reason = KVMMU_BE_EXIT_VERIFY;
		exit->verify.gpa = regs->rbx;
		exit->verify.expected = regs->rax;
		exit->verify.found = regs->r9;
	} else {
		rk_internal(exit,
			    "I/O exit: %s port %#x size %u count %u at RIP "
			    "%#llx",
			    run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			    run->io.port, run->io.size, run->io.count,
			    (unsigned long long)regs->rip);
	}
}

static void rk_mmio_exit(struct rk_vcpu *v, struct kvmmu_be_exit *exit)
{
	const struct kvm_run *run = v->run;

	exit->reason = KVMMU_BE_EXIT_MMIO;
	exit->mmio.addr = run->mmio.phys_addr;
	exit->mmio.len = run->mmio.len;
	exit->mmio.is_write = run->mmio.is_write;
	if (run->mmio.is_write)
		memcpy(&exit->mmio.data, run->mmio.data,
		       min(run->mmio.len, (uint32_t)sizeof(exit->mmio.data)));
	v->pending = run->mmio.is_write ? RK_PEND_MMIO_WRITE :
					  RK_PEND_MMIO_READ;
}

/* What KVM_RUN's result (@r, @err) and the run page say, as a vCPU exit. */
static void rk_translate(struct rk_vcpu *v, int r, int err,
			 struct kvmmu_be_exit *exit)
{
	const struct kvm_run *run = v->run;
	struct kvm_regs regs;

	memset(&regs, 0, sizeof(regs));
	if (ioctl(v->fd, KVM_GET_REGS, &regs)) {
		rk_internal(exit, "KVM_GET_REGS: %s", strerror(errno));
		return;
	}
	if (r < 0 && err == EFAULT) {
		/*
		 * The host mapping cannot back the access; RIP stays on it.
		 * Reported as KVM's memory-fault exit reports it (and the
		 * model does): the GPA of the page (kvm_prepare_memory_
		 * fault_exit(): gfn_to_gpa(fault->gfn)).
		 */
		exit->reason = KVMMU_BE_EXIT_EFAULT;
		exit->efault_gpa = regs.rbx & ~0xfffull;
		return;
	}
	if (r < 0) {
		rk_internal(exit, "KVM_RUN: %s (exit reason %u, RIP %#llx)",
			    strerror(err), run->exit_reason,
			    (unsigned long long)regs.rip);
		return;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		rk_io_exit(v, &regs, exit);
		return;
	case KVM_EXIT_MMIO:
		rk_mmio_exit(v, exit);
		return;
	case KVM_EXIT_SHUTDOWN:
		rk_internal(exit,
			    "shutdown (the guest took an exception) at RIP "
			    "%#llx, RBX %#llx",
			    (unsigned long long)regs.rip,
			    (unsigned long long)regs.rbx);
		return;
	case KVM_EXIT_INTERNAL_ERROR:
		rk_internal(exit,
			    "KVM internal error, suberror %u (ndata %u, data0 "
			    "%#llx) at RIP %#llx",
			    run->internal.suberror, run->internal.ndata,
			    (unsigned long long)(run->internal.ndata ?
							 run->internal.data[0] :
							 0),
			    (unsigned long long)regs.rip);
		return;
	case KVM_EXIT_FAIL_ENTRY:
		rk_internal(exit, "entry failed, reason %#llx, at RIP %#llx",
			    (unsigned long long)run->fail_entry
				    .hardware_entry_failure_reason,
			    (unsigned long long)regs.rip);
		return;
	default:
		rk_internal(exit, "unexpected exit reason %u at RIP %#llx",
			    run->exit_reason, (unsigned long long)regs.rip);
		return;
	}
}

/*
 * rk_vcpu_run() - ops->vcpu_run: KVM_RUN until an exit that means something
 * for the program (see realkvm_vm.h), a kick, or RK_RUN_TIMEOUT seconds.
 * A completed MMIO read takes the data of rk_vcpu_mmio_reply() (or what
 * the run page held); after EFAULT the vCPU is still on the access, so
 * this run retries it.
 * Return: 0 with *exit filled (kicked: INTERNAL "kicked"; the watchdog:
 * INTERNAL "timed out ..."), -EINVAL for a bad vCPU.
 * Context: one caller per vCPU; blocks; installs the kick signal handler
 * and unblocks RK_KICK_SIGNAL in the calling thread.
 */
int rk_vcpu_run(struct kvmmu_backend *be, unsigned int vcpu,
		struct kvmmu_be_exit *exit)
{
	struct rk_vcpu *v = rk_vcpu_of(be, vcpu);
	unsigned int why = 0;
	int r, err = 0;

	memset(exit, 0, sizeof(*exit));
	if (!v)
		return -EINVAL;
	rk_kick_prepare();
	pthread_mutex_lock(&v->lock);
	v->running = true;
	v->tid = pthread_self();
	v->start = rk_now();
	pthread_mutex_unlock(&v->lock);
	for (;;) {
		r = ioctl(v->fd, KVM_RUN, 0);
		err = r < 0 ? errno : 0;
		/* KVM_RUN completed what was pending before anything else. */
		v->pending = RK_PEND_NONE;
		if (r >= 0 || err != EINTR)
			break;
		pthread_mutex_lock(&v->lock);
		why = v->kick;
		if (why) {
			v->kick = 0;
			__atomic_store_n(&v->run->immediate_exit, 0,
					 __ATOMIC_SEQ_CST);
		}
		pthread_mutex_unlock(&v->lock);
		if (why)
			break;
		/* Some other signal: run on (the watchdog bounds this). */
	}
	pthread_mutex_lock(&v->lock);
	v->running = false;
	/* A timeout applies to this run only (a kick, to the next too). */
	if (v->kick & RK_TIMEOUT) {
		v->kick &= ~RK_TIMEOUT;
		if (!v->kick)
			__atomic_store_n(&v->run->immediate_exit, 0,
					 __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&v->lock);
	if (why & RK_TIMEOUT)
		rk_internal(exit, "timed out after %d s (the vCPU was kicked)",
			    RK_RUN_TIMEOUT);
	else if (why)
		rk_internal(exit, "kicked");
	else
		rk_translate(v, r, err, exit);
	return 0;
}

/*
 * rk_vcpu_mmio_reply() - ops->vcpu_mmio_reply: the data the pending MMIO
 * read completes with at the next run (the low len bytes count).
 * Return: 0, or -EINVAL (bad vCPU, or no MMIO read pending).
 * Context: the thread that runs @vcpu, between runs.
 */
int rk_vcpu_mmio_reply(struct kvmmu_backend *be, unsigned int vcpu,
		       uint64_t data)
{
	struct rk_vcpu *v = rk_vcpu_of(be, vcpu);

	if (!v || v->pending != RK_PEND_MMIO_READ)
		return -EINVAL;
	memcpy(v->run->mmio.data, &data, sizeof(v->run->mmio.data));
	return 0;
}

/* Kick @v for @why.  Context: v->lock held. */
static void __rk_vcpu_kick(struct rk_vcpu *v, unsigned int why)
{
	v->kick |= why;
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (v->running)
		pthread_kill(v->tid, RK_KICK_SIGNAL);
}

/*
 * rk_vcpu_kick() - ops->vcpu_kick: make the running (or the next)
 * vcpu_run of @vcpu return soon with INTERNAL "kicked".
 * Context: any thread; takes the vCPU's lock (never held for long).
 */
void rk_vcpu_kick(struct kvmmu_backend *be, unsigned int vcpu)
{
	struct rk_vcpu *v = rk_vcpu_of(be, vcpu);

	if (!v)
		return;
	rk_kick_prepare(); /* the handler must exist before the signal */
	pthread_mutex_lock(&v->lock);
	__rk_vcpu_kick(v, RK_KICK);
	pthread_mutex_unlock(&v->lock);
}

/* Once a second: kick every run older than RK_RUN_TIMEOUT (again). */
static void *rk_watchdog(void *arg)
{
	struct rk_vm *vm = arg;
	struct timespec ts;
	unsigned int i, n;

	pthread_mutex_lock(&vm->wd_lock);
	while (!vm->wd_stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&vm->wd_cond, &vm->wd_lock, &ts);
		if (vm->wd_stop)
			break;
		n = vm->nr_vcpus; /* vCPUs [0, n) are fully set up */
		pthread_mutex_unlock(&vm->wd_lock);
		for (i = 0; i < n; i++) {
			struct rk_vcpu *v = &vm->vcpu[i];

			pthread_mutex_lock(&v->lock);
			if (v->running && rk_now() - v->start > RK_RUN_TIMEOUT)
				__rk_vcpu_kick(v, RK_TIMEOUT);
			pthread_mutex_unlock(&v->lock);
		}
		pthread_mutex_lock(&vm->wd_lock);
	}
	pthread_mutex_unlock(&vm->wd_lock);
	return NULL;
}

/*
 * rk_watchdog_start() - see realkvm_vm.h.
 * Return: 0 or -errno of pthread_create.  Context: creation; vCPUs may
 * be added afterwards (vm->nr_vcpus under wd_lock).
 */
int rk_watchdog_start(struct rk_vm *vm)
{
	int r;

	rk_kick_prepare();
	r = pthread_create(&vm->watchdog, NULL, rk_watchdog, vm);
	if (r)
		return -r;
	vm->watchdog_on = true;
	return 0;
}

/* Context: no vcpu_run is in progress; joins the thread (at most ~1 s). */
void rk_watchdog_stop(struct rk_vm *vm)
{
	if (!vm->watchdog_on)
		return;
	pthread_mutex_lock(&vm->wd_lock);
	vm->wd_stop = true;
	pthread_cond_signal(&vm->wd_cond);
	pthread_mutex_unlock(&vm->wd_lock);
	pthread_join(vm->watchdog, NULL);
	vm->watchdog_on = false;
}
