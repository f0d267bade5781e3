// SPDX-License-Identifier: MIT
/*
 * The real-KVM backend, host side: the system calls of one address space
 * on behalf of the scenario, checked against the ranges it owns
 * (realkvm_host.h).  The VMM (realkvm_host.c) and every forked child
 * (realkvm_proc.c) run them on themselves, so everything here is
 * async-signal-safe: system calls, no allocation, no locks.
 *
 * A range that meets a mapping of /proc/self/maps outside the owned ones
 * is refused before the call.  Unmapped gaps inside the range of a call
 * that replaces or unmaps (MAP_FIXED, munmap, MREMAP_FIXED's destination)
 * are reserved first with MAP_FIXED_NOREPLACE, which fails if another
 * thread mapped there since the check; the call then replaces our
 * reservations, as it would have replaced nothing.  mprotect and madvise
 * are passed the range as given (a reservation would change their ENOMEM
 * over a gap): for them a mapping that another thread creates in a gap of
 * the range between the check and the call is the one remaining window.
 *
 * Errors are the kernel's: arguments the kernel rejects before acting
 * (unaligned address, empty or wrapping length) go to it unchecked.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "realkvm_host.h"

#define RK_PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & PAGE_MASK)

static int why_set(struct rk_why *why, int kind, uint64_t start, uint64_t len)
{
	*why = (struct rk_why){ .kind = kind, .start = start, .len = len };
	return -EOPNOTSUPP;
}

/* --- owned ranges (async-signal-safe) ------------------------------------ */

static void set_insert_at(struct rk_space *sp, unsigned int i, uint64_t s,
			  uint64_t e)
{
	memmove(&sp->r[i + 1], &sp->r[i], (*sp->n - i) * sizeof(*sp->r));
	sp->r[i] = (struct rk_range){ .start = s, .end = e };
	(*sp->n)++;
}

static void set_remove_at(struct rk_space *sp, unsigned int i)
{
	memmove(&sp->r[i], &sp->r[i + 1], (*sp->n - i - 1) * sizeof(*sp->r));
	(*sp->n)--;
}

/* Forget [@s, @e).  Context: one free entry (a range may split). */
static void set_del(struct rk_space *sp, uint64_t s, uint64_t e)
{
	unsigned int i = 0;

	while (i < *sp->n) {
		struct rk_range *x = &sp->r[i];

		if (x->end <= s || x->start >= e) {
			i++;
		} else if (x->start < s && x->end > e) {
			set_insert_at(sp, i + 1, e, x->end);
			sp->r[i].end = s;
			return;
		} else if (x->start < s) {
			x->end = s;
			i++;
		} else if (x->end > e) {
			x->start = e;
			i++;
		} else {
			set_remove_at(sp, i);
		}
	}
}

/* Own [@s, @e).  Context: two free entries. */
static void set_add(struct rk_space *sp, uint64_t s, uint64_t e)
{
	unsigned int i;

	set_del(sp, s, e);
	for (i = 0; i < *sp->n && sp->r[i].start < s; i++)
		;
	set_insert_at(sp, i, s, e);
	if (i + 1 < *sp->n && sp->r[i + 1].start == e) {
		sp->r[i].end = sp->r[i + 1].end;
		set_remove_at(sp, i + 1);
	}
	if (i > 0 && sp->r[i - 1].end == s) {
		sp->r[i - 1].end = sp->r[i].end;
		set_remove_at(sp, i);
	}
}

bool rk_sp_owns(const struct rk_space *sp, uint64_t start, uint64_t end)
{
	unsigned int i;

	/* Adjacent ranges are merged: an owned span is inside one entry. */
	for (i = 0; i < *sp->n; i++)
		if (sp->r[i].start <= start && end <= sp->r[i].end)
			return true;
	return false;
}

int rk_sp_forget(struct rk_space *sp, uint64_t start, uint64_t end)
{
	if (*sp->n + 1 > sp->cap)
		return -ENOSPC;
	set_del(sp, start, end);
	return 0;
}

/* Whether some part of [@s, @e) is not owned. */
static bool set_misses(const struct rk_space *sp, uint64_t s, uint64_t e)
{
	unsigned int i;

	for (i = 0; i < *sp->n && s < e; i++) {
		if (sp->r[i].end <= s)
			continue;
		if (sp->r[i].start > s)
			return true;
		s = sp->r[i].end;
	}
	return s < e;
}

/* --- /proc/self/maps (async-signal-safe) --------------------------------- */

/*
 * Call @fn(@arg, start, end) for every mapping, in address order, until it
 * returns non-zero.  Return: that value, 0, or -errno.
 */
static int maps_walk(int (*fn)(void *arg, uint64_t start, uint64_t end),
		     void *arg)
{
	uint64_t v[2] = { 0, 0 };
	int fd, field = 0, r = 0;
	char buf[4096];
	ssize_t n, i;

	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (!r && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno != EINTR)
				r = -errno;
			continue;
		}
		/* "start-end perms ...\n"; lines may span reads. */
		for (i = 0; i < n && !r; i++) {
			char c = buf[i];

			if (c == '\n') {
				field = 0;
				v[0] = v[1] = 0;
			} else if (field == 2) {
				continue;
			} else if (c == '-' && field == 0) {
				field = 1;
			} else if (c == ' ' && field == 1) {
				field = 2;
				r = fn(arg, v[0], v[1]);
			} else {
				unsigned int d = c <= '9' ?
							 c - '0' :
							 (c | 0x20) - 'a' + 10;

				v[field] = v[field] << 4 | (d & 0xf);
			}
		}
	}
	close(fd);
	return r;
}

/* What is in [s, e): foreign mappings, and the unmapped gaps. */
struct guard {
	const struct rk_space *sp;
	uint64_t s, e, cursor;
	bool foreign, too_many;
	unsigned int nr_holes;
	struct rk_range holes[RK_MAX_HOLES];
};

static void guard_hole(struct guard *g, uint64_t s, uint64_t e)
{
	if (g->nr_holes == RK_MAX_HOLES)
		g->too_many = true;
	else
		g->holes[g->nr_holes++] = (struct rk_range){ s, e };
}

static int guard_fn(void *arg, uint64_t ms, uint64_t me)
{
	struct guard *g = arg;

	if (me <= g->s)
		return 0;
	if (ms >= g->e)
		return 1;
	if (ms > g->cursor)
		guard_hole(g, g->cursor, ms);
	if (set_misses(g->sp, max(ms, g->s), min(me, g->e))) {
		g->foreign = true;
		return 1;
	}
	g->cursor = min(me, g->e);
	return g->cursor == g->e;
}

/*
 * Refuse [@s, @e) if a mapping the scenario did not make meets it; else
 * note its gaps in @g.  Return: 0, -EOPNOTSUPP (@why), -errno.
 */
static int guard_check(const struct rk_space *sp, uint64_t s, uint64_t e,
		       struct guard *g, struct rk_why *why)
{
	int r;

	*g = (struct guard){ .sp = sp, .s = s, .e = e, .cursor = s };
	r = maps_walk(guard_fn, g);
	if (r < 0)
		return r;
	if (g->foreign)
		return why_set(why, RK_WHY_FOREIGN, s, e - s);
	if (g->cursor < e)
		guard_hole(g, g->cursor, e);
	return 0;
}

static void guard_unreserve(struct guard *g, unsigned int n)
{
	while (n--)
		munmap((void *)(uintptr_t)g->holes[n].start,
		       g->holes[n].end - g->holes[n].start);
	g->nr_holes = 0;
}

/*
 * Map our own PROT_NONE placeholders over the gaps of @g.  A gap the
 * kernel will not map at all (beyond the address space, below
 * mmap_min_addr) is left to the real call, which fails on it as well.
 * Return: 0, -EOPNOTSUPP (@why: a thread mapped into a gap meanwhile).
 */
static int guard_reserve(struct guard *g, struct rk_why *why)
{
	unsigned int i;

	if (g->too_many)
		return why_set(why, RK_WHY_HOLES, g->s, g->e - g->s);
	for (i = 0; i < g->nr_holes; i++) {
		uint64_t len = g->holes[i].end - g->holes[i].start;
		void *want = (void *)(uintptr_t)g->holes[i].start;
		void *p = mmap(want, len, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
				       MAP_FIXED_NOREPLACE,
			       -1, 0);
		int err = errno;

		if (p == want)
			continue;
		if (p != MAP_FAILED) /* a kernel without NOREPLACE */
			munmap(p, len);
		guard_unreserve(g, i);
		if (p != MAP_FAILED || err == EEXIST)
			return why_set(why, RK_WHY_RACE, g->s, g->e - g->s);
		return 0;
	}
	return 0;
}

/* Forget the parts of [s, e) that are no longer mapped (after a failed
 * call that may have unmapped some). */
struct reconcile {
	struct rk_space *sp;
	uint64_t s, e, cursor;
};

static void reconcile_gap(struct reconcile *c, uint64_t s, uint64_t e)
{
	if (s < e && *c->sp->n < c->sp->cap)
		set_del(c->sp, s, e);
}

static int reconcile_fn(void *arg, uint64_t ms, uint64_t me)
{
	struct reconcile *c = arg;

	if (me <= c->s)
		return 0;
	if (ms >= c->e)
		return 1;
	reconcile_gap(c, c->cursor, ms);
	c->cursor = min(me, c->e);
	return c->cursor == c->e;
}

static void sp_reconcile(struct rk_space *sp, uint64_t s, uint64_t e)
{
	struct reconcile c = { .sp = sp, .s = s, .e = e, .cursor = s };

	if (maps_walk(reconcile_fn, &c) >= 0)
		reconcile_gap(&c, c.cursor, e);
}

/*
 * The pages a call on [@addr, @addr + @len) may act on.  Return: false if
 * the kernel rejects these arguments before acting on any page (an
 * unaligned address, an empty or wrapping length).
 */
static bool span_of(uint64_t addr, uint64_t len, uint64_t *s, uint64_t *e)
{
	uint64_t alen = RK_PAGE_ALIGN(len);

	if ((addr & ~PAGE_MASK) || !alen || addr + alen <= addr)
		return false;
	*s = addr;
	*e = addr + alen;
	return true;
}

/* --- system calls of an address space (async-signal-safe) --------------- */

int rk_sp_mmap(struct rk_space *sp, uint64_t addr, uint64_t len, int prot,
	       int flags, int fd, uint64_t off, uint64_t *out,
	       struct rk_why *why)
{
	bool fixed = false;
	struct guard g;
	uint64_t s, e;
	void *p;
	int r;

	if (*sp->n + 2 > sp->cap)
		return why_set(why, RK_WHY_FULL, addr, len);
	/* Only MAP_FIXED replaces; a hint or NOREPLACE never does. */
	if ((flags & MAP_FIXED) && span_of(addr, len, &s, &e)) {
		fixed = true;
		r = guard_check(sp, s, e, &g, why);
		if (!r && sp->reserve)
			r = guard_reserve(&g, why);
		if (r)
			return r;
	}
	p = mmap((void *)(uintptr_t)addr, len, prot, flags, fd, (off_t)off);
	if (p == MAP_FAILED) {
		r = -errno;
		if (fixed) {
			guard_unreserve(&g, g.nr_holes);
			sp_reconcile(sp, s, e);
		}
		return r;
	}
	set_add(sp, (uintptr_t)p, (uintptr_t)p + RK_PAGE_ALIGN(len));
	*out = (uintptr_t)p;
	return 0;
}

int rk_sp_munmap(struct rk_space *sp, uint64_t addr, uint64_t len,
		 struct rk_why *why)
{
	struct guard g = { 0 };
	uint64_t s, e;
	int r;

	if (!span_of(addr, len, &s, &e))
		return munmap((void *)(uintptr_t)addr, len) ? -errno : 0;
	if (*sp->n + 2 > sp->cap)
		return why_set(why, RK_WHY_FULL, addr, len);
	r = guard_check(sp, s, e, &g, why);
	if (!r && sp->reserve)
		r = guard_reserve(&g, why);
	if (r)
		return r;
	if (munmap((void *)(uintptr_t)addr, len)) {
		r = -errno;
		guard_unreserve(&g, g.nr_holes);
		sp_reconcile(sp, s, e);
		return r;
	}
	set_del(sp, s, e);
	return 0;
}

/* mprotect and madvise change no mapping's extent: a check suffices. */
static int range_check(struct rk_space *sp, uint64_t addr, uint64_t len,
		       struct rk_why *why)
{
	struct guard g;
	uint64_t s, e;

	return span_of(addr, len, &s, &e) ? guard_check(sp, s, e, &g, why) : 0;
}

int rk_sp_mprotect(struct rk_space *sp, uint64_t addr, uint64_t len, int prot,
		   struct rk_why *why)
{
	int r = range_check(sp, addr, len, why);

	if (r)
		return r;
	return mprotect((void *)(uintptr_t)addr, len, prot) ? -errno : 0;
}

int rk_sp_madvise(struct rk_space *sp, uint64_t addr, uint64_t len, int advice,
		  struct rk_why *why)
{
	int r = range_check(sp, addr, len, why);

	if (r)
		return r;
	return madvise((void *)(uintptr_t)addr, len, advice) ? -errno : 0;
}

int rk_sp_mremap(struct rk_space *sp, uint64_t old_addr, uint64_t old_len,
		 uint64_t new_len, int flags, uint64_t new_addr, uint64_t *out,
		 struct rk_why *why)
{
	uint64_t olen = RK_PAGE_ALIGN(old_len), s = 0, e = 0, ds = 0, de = 0;
	bool src, dst = false;
	struct guard g;
	void *p;
	int r;

	if (*sp->n + 2 > sp->cap)
		return why_set(why, RK_WHY_FULL, old_addr, old_len);
	/* old_len 0 duplicates the (shared) mapping at old_addr. */
	src = span_of(old_addr, olen ? olen : PAGE_SIZE, &s, &e);
	if (src) {
		r = guard_check(sp, s, e, &g, why);
		if (r)
			return r;
	}
	if ((flags & MREMAP_FIXED) && span_of(new_addr, new_len, &ds, &de)) {
		dst = true;
		r = guard_check(sp, ds, de, &g, why);
		if (!r && sp->reserve)
			r = guard_reserve(&g, why);
		if (r)
			return r;
	}
	p = mremap((void *)(uintptr_t)old_addr, old_len, new_len, flags,
		   (void *)(uintptr_t)new_addr);
	if (p == MAP_FAILED) {
		r = -errno;
		if (dst) {
			guard_unreserve(&g, g.nr_holes);
			sp_reconcile(sp, ds, de);
		}
		if (src)
			sp_reconcile(sp, s, e);
		return r;
	}
	if (src && olen && !(flags & MREMAP_DONTUNMAP))
		set_del(sp, s, e);
	set_add(sp, (uintptr_t)p, (uintptr_t)p + RK_PAGE_ALIGN(new_len));
	*out = (uintptr_t)p;
	return 0;
}

static int sp_access(struct rk_space *sp, uint64_t addr, void *buf,
		     uint64_t len, bool write)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr,
				.iov_len = len };
	ssize_t n;

	if (!len)
		return 0;
	if (addr + len < addr || !rk_sp_owns(sp, addr, addr + len))
		return -EFAULT;
	if (write)
		n = process_vm_writev(sp->pid, &local, 1, &remote, 1, 0);
	else
		n = process_vm_readv(sp->pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (uint64_t)n == len ? 0 : -EFAULT;
}

int rk_sp_read(struct rk_space *sp, uint64_t addr, void *buf, uint64_t len)
{
	return sp_access(sp, addr, buf, len, false);
}

int rk_sp_write(struct rk_space *sp, uint64_t addr, const void *buf,
		uint64_t len)
{
	return sp_access(sp, addr, (void *)buf, len, true);
}
