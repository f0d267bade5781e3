// SPDX-License-Identifier: MIT
/*
 * Runner: host steps (system calls of the VMM or a child) and memslot steps
 * (one KVM_SET_USER_MEMORY_REGION2 each).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <kvmmu/vcpu.h>

#include "run.h"

#define RUN_CHUNK (64u << 10) /* bytes per fill/verify transfer */

static uint64_t width_mask(unsigned int width)
{
	return width >= 8 ? ~0ull : (1ull << (8 * width)) - 1;
}

static bool host_mmap(struct run_ctx *c, const struct sc_step *s, int proc)
{
	int flags = s->mmap.shared ? MAP_SHARED : MAP_PRIVATE, file = -1, r;
	struct sc_addr at_expr = { .label = s->mmap.at_label,
				   .off = s->mmap.at };
	uint64_t hva = 0, at = 0;

	if (s->mmap.has_at) {
		if (!run_resolve(c, s, &at_expr, &at))
			return false;
		flags |= MAP_FIXED;
	}
	if (s->mmap.populate)
		flags |= MAP_POPULATE;
	if (s->mmap.pfnmap) {
		if (!c->ops->mmap_pfn)
			return run_backend_ok(c, s, -EOPNOTSUPP,
					      "map device memory (pfnmap)");
		r = c->ops->mmap_pfn(c->be, proc, at, s->mmap.size,
				     s->mmap.prot, flags, s->mmap.memtype,
				     &hva);
	} else {
		if (s->mmap.file) {
			if (!run_file_of(c, s, s->mmap.file, &file))
				return false;
		} else {
			flags |= MAP_ANONYMOUS;
		}
		r = c->ops->mmap(c->be, proc, at, s->mmap.size, s->mmap.prot,
				 flags, file, s->mmap.offset, &hva);
	}
	if (!run_judge_ret(c, s, r))
		return false;
	if (r == 0 && run_names_set(&c->labels, s->mmap.label, hva)) {
		run_finish(c, s, KVMMU_SC_FAIL, "out of memory");
		return false;
	}
	return true;
}

static bool host_mremap(struct run_ctx *c, const struct sc_step *s, int proc)
{
	uint64_t old, to = 0, out = 0;
	int flags = 0, r;

	if (!run_resolve(c, s, &s->mremap.addr, &old))
		return false;
	if (s->mremap.maymove)
		flags |= MREMAP_MAYMOVE;
	if (s->mremap.has_to) {
		if (!run_resolve(c, s, &s->mremap.to, &to))
			return false;
		flags |= MREMAP_MAYMOVE | MREMAP_FIXED;
	}
	r = c->ops->mremap(c->be, proc, old, s->mremap.size, s->mremap.new_size,
			   flags, to, &out);
	if (!run_judge_ret(c, s, r))
		return false;
	/* A label that named the mapping follows it. */
	if (!r && s->mremap.addr.label && !s->mremap.addr.off)
		run_names_set(&c->labels, s->mremap.addr.label, out);
	return true;
}

/* Write (@verify false) or check the pattern over [addr, addr + size). */
static bool host_pattern(struct run_ctx *c, const struct sc_step *s, int proc,
			 bool verify)
{
	uint64_t addr, done, basis = s->hacc.basis;
	uint64_t *buf = malloc(RUN_CHUNK);
	bool ok = false;
	int r = 0;

	if (!buf) {
		run_finish(c, s, KVMMU_SC_FAIL, "out of memory");
		return false;
	}
	if (!run_resolve(c, s, &s->hacc.addr, &addr))
		goto out;
	for (done = 0; done < s->hacc.size; done += RUN_CHUNK) {
		uint64_t len = s->hacc.size - done, i;

		if (len > RUN_CHUNK)
			len = RUN_CHUNK;
		if (!verify) {
			for (i = 0; i < len / 8; i++)
				buf[i] = kvmmu_pattern_word(
					s->hacc.seed, basis + done + 8 * i);
			r = c->ops->mem_write(c->be, proc, addr + done, buf,
					      len);
		} else {
			r = c->ops->mem_read(c->be, proc, addr + done, buf,
					     len);
		}
		if (r)
			break;
		for (i = 0; verify && i < len / 8; i++) {
			uint64_t want = kvmmu_pattern_word(
				s->hacc.seed, basis + done + 8 * i);

			if (buf[i] != want) {
				run_observe(c, s, "word +%#llx = %#llx",
					    (unsigned long long)(done + 8 * i),
					    (unsigned long long)buf[i]);
				run_finish(c, s, KVMMU_SC_FAIL,
					   "expected the pattern word %#llx "
					   "at hva %#llx, observed %#llx",
					   (unsigned long long)want,
					   (unsigned long long)(addr + done +
								8 * i),
					   (unsigned long long)buf[i]);
				goto out;
			}
		}
	}
	ok = run_judge_ret(c, s, r);
out:
	free(buf);
	return ok;
}

static bool host_read(struct run_ctx *c, const struct sc_step *s, int proc)
{
	unsigned int w = s->expect.width ? s->expect.width : s->hacc.width;
	uint64_t addr, v = 0;
	int r;

	if (!run_resolve(c, s, &s->hacc.addr, &addr))
		return false;
	r = c->ops->mem_read(c->be, proc, addr, &v, w);
	if (s->expect.kind != SC_EXP_VALUE)
		return run_judge_ret(c, s, r);
	if (!run_judge_ret(c, s, r))
		return false;
	run_observe(c, s, "u%u=%#llx", 8 * w,
		    (unsigned long long)(v & width_mask(w)));
	if ((v & width_mask(w)) == s->expect.value)
		return true;
	run_finish(c, s, KVMMU_SC_FAIL,
		   "expected u%u=%#llx, observed u%u=%#llx", 8 * w,
		   (unsigned long long)s->expect.value, 8 * w,
		   (unsigned long long)(v & width_mask(w)));
	return false;
}

/* KSM, now: the number of pages left sharing is judged by expect shared=. */
static bool host_ksm(struct run_ctx *c, const struct sc_step *s, int proc)
{
	uint64_t addr;
	int r;

	if (!run_resolve(c, s, &s->range.addr, &addr))
		return false;
	r = c->ops->ksm_merge ?
		    c->ops->ksm_merge(c->be, proc, addr, s->range.size) :
		    -EOPNOTSUPP;
	if (!run_judge_ret(c, s, r))
		return false;
	run_observe(c, s, "shared=%d", r);
	if (s->expect.kind != SC_EXP_SHARED || (uint64_t)r == s->expect.value)
		return true;
	run_finish(c, s, KVMMU_SC_FAIL,
		   "expected shared=%llu, observed shared=%d",
		   (unsigned long long)s->expect.value, r);
	return false;
}

bool run_host(struct run_ctx *c, const struct sc_step *s)
{
	uint64_t addr = 0;
	int proc, file, r;

	if (!run_proc_of(c, s, &proc))
		return false;
	switch (s->kind) {
	case SC_HOST_MMAP:
		return host_mmap(c, s, proc);
	case SC_HOST_MUNMAP:
		if (!run_resolve(c, s, &s->range.addr, &addr))
			return false;
		return run_judge_ret(
			c, s, c->ops->munmap(c->be, proc, addr, s->range.size));
	case SC_HOST_MPROTECT:
		if (!run_resolve(c, s, &s->range.addr, &addr))
			return false;
		return run_judge_ret(c, s,
				     c->ops->mprotect(c->be, proc, addr,
						      s->range.size,
						      s->range.prot));
	case SC_HOST_MADVISE:
		if (!run_resolve(c, s, &s->range.addr, &addr))
			return false;
		return run_judge_ret(c, s,
				     c->ops->madvise(c->be, proc, addr,
						     s->range.size,
						     s->range.advice));
	case SC_HOST_KSM:
		return host_ksm(c, s, proc);
	case SC_HOST_MREMAP:
		return host_mremap(c, s, proc);
	case SC_HOST_FORK:
		r = c->ops->fork(c->be, proc);
		if (!run_judge_ret(c, s, r))
			return false;
		if (r > 0)
			run_names_set(&c->procs, s->obj.name, (uint64_t)r);
		return true;
	case SC_HOST_EXIT: {
		struct run_name *p = run_names_find(&c->procs, s->obj.name);

		if (!p) {
			run_finish(c, s, KVMMU_SC_FAIL,
				   "process '%s' does not exist", s->obj.name);
			return false;
		}
		r = c->ops->exit(c->be, (int)p->v);
		if (!r)
			run_names_del(&c->procs, s->obj.name);
		return run_judge_ret(c, s, r);
	}
	case SC_HOST_MEMFD:
		r = c->ops->memfd(c->be, s->obj.size);
		if (!run_judge_ret(c, s, r))
			return false;
		if (r >= 0)
			run_names_set(&c->files, s->obj.name, (uint64_t)r);
		return true;
	case SC_HOST_FTRUNCATE:
		if (!run_file_of(c, s, s->obj.name, &file))
			return false;
		return run_judge_ret(
			c, s, c->ops->ftruncate(c->be, file, s->obj.size));
	case SC_HOST_PUNCH:
		if (!run_file_of(c, s, s->obj.name, &file))
			return false;
		return run_judge_ret(c, s,
				     c->ops->punch_hole(c->be, file,
							s->obj.offset,
							s->obj.size));
	case SC_HOST_WRITE:
		if (!run_resolve(c, s, &s->hacc.addr, &addr))
			return false;
		return run_judge_ret(c, s,
				     c->ops->mem_write(c->be, proc, addr,
						       &s->hacc.value,
						       s->hacc.width));
	case SC_HOST_READ:
		return host_read(c, s, proc);
	case SC_HOST_FILL:
		return host_pattern(c, s, proc, false);
	case SC_HOST_VERIFY:
		return host_pattern(c, s, proc, true);
	default:
		break;
	}
	run_finish(c, s, KVMMU_SC_FAIL, "not a host step");
	return false;
}

/* --- memslots ------------------------------------------------------------ */

static struct run_slot *slot_find(struct run_ctx *c, uint32_t slot)
{
	unsigned int i;

	for (i = 0; i < c->nr_slots; i++)
		if (c->slots[i].slot == slot)
			return &c->slots[i];
	return NULL;
}

/* Remember what the kernel now has for @r (after a successful call). */
static void slot_track(struct run_ctx *c,
		       const struct kvmmu_userspace_memory_region2 *r)
{
	struct run_slot *t = slot_find(c, r->slot);

	if (!r->memory_size) {
		if (t)
			*t = c->slots[--c->nr_slots];
		return;
	}
	if (!t) {
		if (c->nr_slots == RUN_MAX_SLOTS)
			return; /* sugar forms on it will say it is unknown */
		t = &c->slots[c->nr_slots++];
	}
	t->slot = r->slot;
	t->gpa = r->guest_phys_addr;
	t->size = r->memory_size;
	t->hva = r->userspace_addr;
	t->flags = r->flags;
}

bool run_slot(struct run_ctx *c, const struct sc_step *s)
{
	struct kvmmu_userspace_memory_region2 r = {
		.slot = (uint32_t)s->slot.as << 16 | s->slot.id,
	};
	struct run_slot *t = slot_find(c, r.slot);
	int ret;

	switch (s->slot.op) {
	case SC_SLOT_SET:
		if (!run_resolve(c, s, &s->slot.hva, &r.userspace_addr))
			return false;
		r.guest_phys_addr = s->slot.gpa;
		r.memory_size = s->slot.size;
		r.flags = s->slot.flags;
		break;
	case SC_SLOT_DELETE:
		/* size 0 deletes; the rest as the slot has it (or 0). */
		if (t) {
			r.guest_phys_addr = t->gpa;
			r.userspace_addr = t->hva;
			r.flags = t->flags;
		}
		break;
	case SC_SLOT_MOVE:
	case SC_SLOT_FLAGS:
		if (!t) {
			run_finish(c, s, KVMMU_SC_FAIL,
				   "slot %u (as %u) was never set by this "
				   "scenario: %s needs its size and hva (use "
				   "the slot ID gpa= size= hva= form)",
				   s->slot.id, s->slot.as,
				   s->slot.op == SC_SLOT_MOVE ? "move" :
								"flags=");
			return false;
		}
		r.guest_phys_addr = s->slot.op == SC_SLOT_MOVE ? s->slot.gpa :
								 t->gpa;
		r.memory_size = t->size;
		r.userspace_addr = t->hva;
		r.flags = s->slot.op == SC_SLOT_FLAGS ? s->slot.flags :
							t->flags;
		break;
	}
	ret = c->ops->set_memory_region(c->be, &r);
	if (!ret)
		slot_track(c, &r);
	return run_judge_ret(c, s, ret);
}
