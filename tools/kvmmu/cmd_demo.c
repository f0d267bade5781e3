// SPDX-License-Identifier: MIT
/*
 * kvmmu demo: a narrated tour of the host model.  A recording MMU-notifier
 * subscriber prints every event while the demo walks through fork and
 * copy-on-write, MADV_DONTNEED on anonymous and shared memory, MADV_REMOVE
 * and mprotect.  Every step checks what it claims (exit 1 if not); the end
 * prints the host's statistics and audit.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmmu/host.h>
#include <kvmmu/stats.h>

#include "cli.h"

#define DEMO_SYNOPSIS "demo [-h]"
#define NPAGES	      64 /* the anonymous mapping */
#define FPAGES	      16 /* the memfd mapping */
#define MAX_EVENTS    256

struct recorder {
	struct kvmmu_mmu_notifier mn;
	const char *who;
	unsigned int n; /* events so far (only the first MAX_EVENTS kept) */
	struct {
		enum kvmmu_mmu_notifier_event event;
		hva_t start, end;
	} ev[MAX_EVENTS];
};

/* The demo is single-threaded: callbacks run on its own thread. */
static int rec_start(struct kvmmu_mmu_notifier *mn,
		     const struct kvmmu_mmu_notifier_range *r)
{
	struct recorder *rec = container_of(mn, struct recorder, mn);

	printf("      [%s] invalidate_range_start %s [%#llx, %#llx)\n",
	       rec->who, kvmmu_mmu_notifier_event_name(r->event),
	       (unsigned long long)r->start, (unsigned long long)r->end);
	if (rec->n < MAX_EVENTS) {
		rec->ev[rec->n].event = r->event;
		rec->ev[rec->n].start = r->start;
		rec->ev[rec->n].end = r->end;
	}
	rec->n++;
	return 0;
}

static void rec_end(struct kvmmu_mmu_notifier *mn,
		    const struct kvmmu_mmu_notifier_range *r)
{
	printf("      [%s] invalidate_range_end   %s\n",
	       container_of(mn, struct recorder, mn)->who,
	       kvmmu_mmu_notifier_event_name(r->event));
}

static void rec_release(struct kvmmu_mmu_notifier *mn, struct kvmmu_mm *mm)
{
	printf("      [%s] release\n",
	       container_of(mn, struct recorder, mn)->who);
}

static const struct kvmmu_mmu_notifier_ops rec_ops = {
	.release = rec_release,
	.invalidate_range_start = rec_start,
	.invalidate_range_end = rec_end,
};

static __printf(2, 3) void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	fflush(stdout);
	fprintf(stderr, "kvmmu demo: FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(CLI_EXIT_FAIL);
}

#define OK(expr) check((expr) == 0, "%s:%d: %s", __FILE__, __LINE__, #expr)

/* @rec must have seen an @event covering [start, end) since event @since. */
static void expect_event(const struct recorder *rec, unsigned int since,
			 enum kvmmu_mmu_notifier_event event, hva_t start,
			 hva_t end)
{
	unsigned int i;

	for (i = since; i < rec->n && i < MAX_EVENTS; i++)
		if (rec->ev[i].event == event && rec->ev[i].start <= start &&
		    rec->ev[i].end >= end)
			return;
	check(false, "[%s] expected %s covering [%#llx, %#llx)", rec->who,
	      kvmmu_mmu_notifier_event_name(event), (unsigned long long)start,
	      (unsigned long long)end);
}

static struct kvmmu_pte_info pte(struct kvmmu_mm *mm, hva_t hva)
{
	struct kvmmu_pte_info p;

	OK(kvmmu_mm_lookup_pte(mm, hva, &p));
	return p;
}

static uint8_t peek(struct kvmmu_mm *mm, hva_t hva)
{
	uint8_t v;

	OK(kvmmu_mm_read(mm, hva, &v, 1));
	return v;
}

static bool page_is(struct kvmmu_mm *mm, hva_t hva, uint8_t val)
{
	static uint8_t buf[PAGE_SIZE];
	size_t i;

	OK(kvmmu_mm_read(mm, hva, buf, PAGE_SIZE));
	for (i = 0; i < PAGE_SIZE && buf[i] == val; i++)
		;
	return i == PAGE_SIZE;
}

#define step(what) printf("\n== %s\n", what)

static int demo(void)
{
	static struct recorder prec = { .mn.ops = &rec_ops, .who = "parent" };
	static struct recorder crec = { .mn.ops = &rec_ops, .who = "child" };
	struct kvmmu_host_config cfg = { .ram_bytes = 64ull << 20 };
	struct kvmmu_mm *mm, *child;
	struct kvmmu_host_audit a;
	struct kvmmu_host *host;
	struct kvmmu_file *file;
	struct kvmmu_stats *st;
	struct kvmmu_pte_info p0, c0;
	hva_t base, fbase, pg1, pg2;
	unsigned int i, mark;
	uint8_t b;
	int ret;

	printf("kvmmu demo: the host model (primary MMU) and the MMU-notifier "
	       "events it raises\n");
	OK(kvmmu_host_create(&cfg, &host));
	OK(kvmmu_mm_create(host, &mm));
	OK(kvmmu_mmu_notifier_register(&prec.mn, mm));

	step("mmap 64 pages, private anonymous, read/write");
	OK(kvmmu_mmap(mm, 0, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &base));
	pg1 = base + PAGE_SIZE;
	pg2 = base + 2 * PAGE_SIZE;
	printf("   mapped [%#llx, %#llx)\n", (unsigned long long)base,
	       (unsigned long long)(base + NPAGES * PAGE_SIZE));

	step("write a pattern: page i filled with 0x10 + i (first touch)");
	mark = prec.n;
	for (i = 0; i < NPAGES; i++)
		OK(kvmmu_mm_memset(mm, base + i * PAGE_SIZE, 0x10 + i,
				   PAGE_SIZE));
	check(prec.n == mark, "first-touch faults raised notifier events");
	check(page_is(mm, base + 63 * PAGE_SIZE, 0x4f), "page 63 != 0x4f");
	printf("   64 pages faulted in; no events (nothing was mapped)\n");

	step("fork: private anonymous pages become copy-on-write in both");
	mark = prec.n;
	OK(kvmmu_fork(mm, &child));
	OK(kvmmu_mmu_notifier_register(&crec.mn, child));
	expect_event(&prec, mark, KVMMU_MMU_NOTIFY_PROTECTION_PAGE, base,
		     base + NPAGES * PAGE_SIZE);
	p0 = pte(mm, base);
	c0 = pte(child, base);
	printf("   page 0: parent pfn %#llx %s, child pfn %#llx %s\n",
	       (unsigned long long)p0.pfn, p0.write ? "writable" : "read-only",
	       (unsigned long long)c0.pfn, c0.write ? "writable" : "read-only");
	check(p0.present && c0.present && p0.pfn == c0.pfn && !p0.write &&
		      !c0.write,
	      "page 0 is not one read-only frame shared by both");

	step("parent writes page 0: COW break, the parent gets a copy");
	mark = prec.n;
	b = 0xaa;
	OK(kvmmu_mm_write(mm, base, &b, 1));
	expect_event(&prec, mark, KVMMU_MMU_NOTIFY_CLEAR, base,
		     base + PAGE_SIZE);
	p0 = pte(mm, base);
	printf("   parent pfn %#llx -> %#llx (%s); child pfn %#llx reads "
	       "%#x\n",
	       (unsigned long long)c0.pfn, (unsigned long long)p0.pfn,
	       p0.write ? "writable" : "read-only",
	       (unsigned long long)pte(child, base).pfn, peek(child, base));
	check(p0.pfn != c0.pfn && p0.write, "parent did not get a copy");
	check(pte(child, base).pfn == c0.pfn && peek(child, base) == 0x10,
	      "child lost its old page 0");
	check(peek(mm, base) == 0xaa && peek(mm, base + 1) == 0x10,
	      "parent's copy is wrong");

	step("child writes page 0 (its last mapper: reused, no copy) and 1");
	mark = crec.n;
	OK(kvmmu_mm_write(child, base, &b, 1));
	check(pte(child, base).pfn == c0.pfn, "child copied a page it owns");
	c0 = pte(child, pg1);
	OK(kvmmu_mm_write(child, pg1, &b, 1));
	expect_event(&crec, mark, KVMMU_MMU_NOTIFY_CLEAR, pg1, pg1 + PAGE_SIZE);
	printf("   child page 0 kept pfn %#llx; page 1 pfn %#llx -> %#llx\n",
	       (unsigned long long)pte(child, base).pfn,
	       (unsigned long long)c0.pfn,
	       (unsigned long long)pte(child, pg1).pfn);
	check(pte(child, pg1).pfn != c0.pfn && peek(mm, pg1) == 0x11 &&
		      pte(mm, pg1).pfn == c0.pfn,
	      "COW of page 1 in the child went wrong");

	step("MADV_DONTNEED page 2 of the parent's anonymous memory");
	mark = prec.n;
	OK(kvmmu_madvise(mm, pg2, PAGE_SIZE, MADV_DONTNEED));
	expect_event(&prec, mark, KVMMU_MMU_NOTIFY_CLEAR, pg2, pg2 + PAGE_SIZE);
	check(page_is(mm, pg2, 0), "anonymous DONTNEED kept data");
	check(pte(mm, pg2).pfn == kvmmu_zero_pfn(host), "no zero page");
	check(page_is(child, pg2, 0x12), "child's page 2 changed");
	printf("   parent reads zeros (pfn %#llx, the zero page is %#llx); "
	       "child still reads 0x12\n",
	       (unsigned long long)pte(mm, pg2).pfn,
	       (unsigned long long)kvmmu_zero_pfn(host));

	step("memfd: 16 pages, mapped shared, filled with 0xab");
	OK(kvmmu_memfd_create(host, "demo", &file));
	OK(kvmmu_ftruncate(file, FPAGES * PAGE_SIZE));
	OK(kvmmu_mmap(mm, 0, FPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED, file, 0, &fbase));
	OK(kvmmu_mm_memset(mm, fbase, 0xab, FPAGES * PAGE_SIZE));
	printf("   mapped [%#llx, %#llx), %llu pages in the page cache\n",
	       (unsigned long long)fbase,
	       (unsigned long long)(fbase + FPAGES * PAGE_SIZE),
	       (unsigned long long)kvmmu_file_nr_pages(file));

	step("MADV_DONTNEED pages 0-3 of the memfd mapping");
	mark = prec.n;
	OK(kvmmu_madvise(mm, fbase, 4 * PAGE_SIZE, MADV_DONTNEED));
	expect_event(&prec, mark, KVMMU_MMU_NOTIFY_CLEAR, fbase,
		     fbase + 4 * PAGE_SIZE);
	check(!pte(mm, fbase).present, "DONTNEED left the PTE");
	check(page_is(mm, fbase, 0xab), "shared DONTNEED lost data");
	printf("   PTEs zapped, data kept: refault reads 0xab from the page "
	       "cache\n");

	step("MADV_REMOVE pages 0-3 of the memfd mapping (punches a hole)");
	mark = prec.n;
	OK(kvmmu_madvise(mm, fbase, 4 * PAGE_SIZE, MADV_REMOVE));
	expect_event(&prec, mark, KVMMU_MMU_NOTIFY_CLEAR, fbase,
		     fbase + 4 * PAGE_SIZE);
	printf("   %llu pages left in the page cache\n",
	       (unsigned long long)kvmmu_file_nr_pages(file));
	check(kvmmu_file_nr_pages(file) == FPAGES - 4, "hole not punched");
	check(page_is(mm, fbase, 0) && page_is(mm, fbase + 4 * PAGE_SIZE, 0xab),
	      "MADV_REMOVE: wrong data");
	printf("   pages 0-3 read zeros, page 4 still 0xab\n");

	step("mprotect(PROT_READ) the anonymous mapping, write, restore");
	mark = prec.n;
	OK(kvmmu_mprotect(mm, base, NPAGES * PAGE_SIZE, PROT_READ));
	expect_event(&prec, mark, KVMMU_MMU_NOTIFY_PROTECTION_VMA, base,
		     base + NPAGES * PAGE_SIZE);
	check(kvmmu_mm_write(mm, pg1, &b, 1) == -EFAULT,
	      "write to a read-only mapping did not fail with -EFAULT");
	printf("   write: -EFAULT; read: %#x\n", peek(mm, pg1));
	OK(kvmmu_mprotect(mm, base, NPAGES * PAGE_SIZE,
			  PROT_READ | PROT_WRITE));
	OK(kvmmu_mm_write(mm, pg1, &b, 1));
	printf("   after PROT_READ|PROT_WRITE the write works\n");

	step("teardown: munmap, exit the child, unregister, exit the parent");
	mark = prec.n;
	OK(kvmmu_munmap(mm, base, NPAGES * PAGE_SIZE));
	expect_event(&prec, mark, KVMMU_MMU_NOTIFY_UNMAP, base,
		     base + NPAGES * PAGE_SIZE);
	OK(kvmmu_munmap(mm, fbase, FPAGES * PAGE_SIZE));
	kvmmu_file_put(file);
	kvmmu_mmput(child);
	kvmmu_mmu_notifier_unregister(&crec.mn, child);
	kvmmu_mmu_notifier_unregister(&prec.mn, mm);
	kvmmu_mmput(mm);

	step("host statistics");
	st = kvmmu_host_stats(host);
	for (i = 0; i < st->n; i++)
		printf("   %-32s %llu\n", st->desc[i].name,
		       (unsigned long long)kvmmu_stats_read(st, i));

	step("host audit");
	ret = kvmmu_host_audit(host, &a);
	printf("   %s: %llu frames, %llu in use, %llu bad, %llu mms, %llu "
	       "files\n",
	       ret ? "NOT clean" : "clean", (unsigned long long)a.frames,
	       (unsigned long long)a.in_use, (unsigned long long)a.bad,
	       (unsigned long long)a.mms, (unsigned long long)a.files);
	check(ret == 0 && !a.bad && !a.in_use && !a.mms && !a.files,
	      "the host audit is not clean after teardown");
	OK(kvmmu_host_destroy(host));
	printf("\nkvmmu demo: all checks passed\n");
	return CLI_EXIT_OK;
}

int cmd_demo(int argc, char **argv)
{
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "h")) != -1) {
		if (c == 'h') {
			cli_usage(stdout, DEMO_SYNOPSIS,
				  "A narrated tour of the host model that "
				  "checks every step (exit 1 if one fails).\n");
			return CLI_EXIT_OK;
		}
		return cli_bad_usage("demo", DEMO_SYNOPSIS,
				     "unknown option '-%c'", optopt);
	}
	if (optind < argc)
		return cli_bad_usage("demo", DEMO_SYNOPSIS,
				     "unexpected argument '%s'", argv[optind]);
	return demo();
}
