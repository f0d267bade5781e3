// SPDX-License-Identifier: MIT
/*
 * shmem files (memfd_create, MAP_SHARED|MAP_ANONYMOUS): a page cache of
 * frames indexed by file page, and the VMAs that map it (i_mmap).
 *
 * Removing pages (punch hole, truncate) is three passes, as in
 * truncate_inode_pages_range(): unmap every mapping of the range (a CLEAR
 * invalidation per VMA, in whatever mm it lives), take the pages out of the
 * cache under cache_lock, then unmap again any page a racing fault mapped in
 * between.  A fault installs a page-cache PTE only under the PTL after
 * re-checking, under cache_lock, that the page is still cached, so after
 * the second pass no PTE can point at a removed page.
 *
 * Models: mm/shmem.c shmem_fault()/shmem_fallocate()/shmem_setattr(),
 * mm/truncate.c truncate_inode_pages_range(), mm/memory.c
 * unmap_mapping_range()
 */
#include <stdio.h>
#include <stdlib.h>
#include "internal.h"

#define SHMEM_MAX_BYTES (1ull << 40)

int host_shmem_create(struct kvmmu_host *h, const char *name, uint64_t size,
		      bool internal, struct kvmmu_file **out)
{
	struct kvmmu_file *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->host = h;
	atomic_set(&f->refs, 1);
	kvmmu_mutex_init(&f->inode_lock, "inode", KVMMU_RANK_INODE);
	kvmmu_rwlock_init(&f->i_mmap_lock, "i_mmap", KVMMU_RANK_I_MMAP);
	kvmmu_spin_lock_init(&f->cache_lock, "page_cache",
			     KVMMU_RANK_PAGE_CACHE);
	INIT_LIST_HEAD(&f->i_mmap);
	f->size = size;
	f->internal = internal;
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "memfd");
	atomic_inc(&h->nr_files);
	*out = f;
	return 0;
}

int kvmmu_memfd_create(struct kvmmu_host *h, const char *name,
		       struct kvmmu_file **out)
{
	return host_shmem_create(h, name, 0, false, out);
}

void kvmmu_file_get(struct kvmmu_file *f)
{
	WARN_ON_ONCE(atomic_fetch_add(1, &f->refs) <= 0);
}

void kvmmu_file_put(struct kvmmu_file *f)
{
	struct kvmmu_host *h = f->host;
	uint64_t i;

	if (atomic_dec_return(&f->refs))
		return;
	WARN_ON_ONCE(!list_empty(&f->i_mmap));
	for (i = 0; i < f->cap; i++) {
		if (f->cache[i]) {
			host_page(h, f->cache[i])->mapping = NULL;
			kvmmu_put_page(h, f->cache[i]);
		}
	}
	free(f->cache);
	kvmmu_mutex_destroy(&f->inode_lock);
	kvmmu_rwlock_destroy(&f->i_mmap_lock);
	kvmmu_spin_lock_destroy(&f->cache_lock);
	free(f);
	atomic_dec(&h->nr_files);
}

uint64_t kvmmu_file_size(struct kvmmu_file *f)
{
	return READ_ONCE(f->size);
}

uint64_t kvmmu_file_nr_pages(struct kvmmu_file *f)
{
	return READ_ONCE(f->nr_pages);
}

/* Grow cache[] to hold @index; cache_lock held. */
static int cache_reserve(struct kvmmu_file *f, uint64_t index)
	REQUIRES(f->cache_lock)
{
	uint64_t cap = f->cap ? f->cap : 64;
	kvmmu_pfn_t *n;

	if (index < f->cap)
		return 0;
	while (cap <= index)
		cap *= 2;
	n = realloc(f->cache, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	memset(n + f->cap, 0, (cap - f->cap) * sizeof(*n));
	f->cache = n;
	f->cap = cap;
	return 0;
}

/* Find or add the page at @index; cache_lock held.  No reference taken. */
static int __shmem_page(struct kvmmu_file *f, uint64_t index, bool create,
			kvmmu_pfn_t *pfn) REQUIRES(f->cache_lock)
{
	struct kvmmu_host *h = f->host;
	kvmmu_pfn_t p;

	if (index < f->cap && f->cache[index]) {
		*pfn = f->cache[index];
		return 0;
	}
	if (!create)
		return -ENOENT;
	if (cache_reserve(f, index))
		return -ENOMEM;
	p = host_alloc_page(h, KVMMU_PG_PAGECACHE, true);
	if (p == HOST_PFN_NONE)
		return -ENOMEM;
	host_page(h, p)->mapping = f;
	host_page(h, p)->index = index;
	f->cache[index] = p;
	WRITE_ONCE(f->nr_pages, f->nr_pages + 1);
	*pfn = p;
	return 0;
}

int host_shmem_get_page(struct kvmmu_file *f, uint64_t index, bool create,
			kvmmu_pfn_t *pfn)
{
	int r;

	kvmmu_spin_lock(&f->cache_lock);
	if (index >= DIV_ROUND_UP(f->size, PAGE_SIZE)) {
		r = -EFAULT; /* SIGBUS */
	} else {
		r = __shmem_page(f, index, create, pfn);
		if (!r)
			kvmmu_get_page(f->host, *pfn);
	}
	kvmmu_spin_unlock(&f->cache_lock);
	return r;
}

bool host_shmem_page_valid(struct kvmmu_file *f, uint64_t index,
			   kvmmu_pfn_t pfn)
{
	bool ok;

	kvmmu_spin_lock(&f->cache_lock);
	ok = index < f->cap && f->cache[index] == pfn;
	kvmmu_spin_unlock(&f->cache_lock);
	return ok;
}

/*
 * unmap_mapping_range(): zap the PTEs of file pages [first, last] in every
 * VMA mapping them: only page-cache pages, unless @even_cows (truncation
 * also drops private COW copies past the new end).  Each VMA gets its own
 * CLEAR invalidation.
 */
static void unmap_mapping_range(struct kvmmu_file *f, uint64_t first,
				uint64_t last, bool even_cows)
{
	struct host_zap_filter filter = { f, HOST_PFN_NONE };
	struct host_vma *v;

	kvmmu_read_lock(&f->i_mmap_lock);
	list_for_each_entry(v, &f->i_mmap, i_mmap_link) {
		uint64_t vfirst = v->pgoff;
		uint64_t vlast =
			v->pgoff + ((v->end - v->start) >> PAGE_SHIFT) - 1;
		uint64_t s = max(first, vfirst), e = min(last, vlast);

		if (s > e)
			continue;
		host_zap_range_notify(
			v->mm, v, v->start + ((s - vfirst) << PAGE_SHIFT),
			v->start + ((e - vfirst + 1) << PAGE_SHIFT),
			even_cows ? NULL : &filter);
	}
	kvmmu_read_unlock(&f->i_mmap_lock);
}

/*
 * Remove whole pages [first, last] from the file; inode_lock held.  A
 * truncation unmaps from @first to the end of every mapping, COW copies
 * included (shmem_setattr()); a hole punch only the page-cache pages of
 * the hole.
 */
static void shmem_remove_pages(struct kvmmu_file *f, uint64_t first,
			       uint64_t last, bool truncate)
	REQUIRES(f->inode_lock)
{
	struct kvmmu_host *h = f->host;
	struct host_gather g;
	uint64_t i;
	size_t k;

	if (first > last)
		return;
	unmap_mapping_range(
		f, first, truncate ? UINT64_MAX >> PAGE_SHIFT : last, truncate);

	host_gather_init(&g);
	kvmmu_spin_lock(&f->cache_lock);
	for (i = first; i <= last && i < f->cap; i++) {
		kvmmu_pfn_t p = f->cache[i];

		if (!p)
			continue;
		f->cache[i] = 0;
		WRITE_ONCE(host_page(h, p)->mapping, NULL);
		WRITE_ONCE(f->nr_pages, f->nr_pages - 1);
		host_gather_add(&g, p);
	}
	kvmmu_spin_unlock(&f->cache_lock);

	/* A fault may have mapped a page between the unmap and removal. */
	for (k = 0; k < g.nr; k++) {
		if (host_page_mapcount(h, g.pfns[k]) > 0) {
			uint64_t idx = host_page(h, g.pfns[k])->index;
			struct host_zap_filter filter = { NULL, g.pfns[k] };
			struct host_vma *v;

			/* mapping is gone: match by frame over the index. */
			kvmmu_read_lock(&f->i_mmap_lock);
			list_for_each_entry(v, &f->i_mmap, i_mmap_link) {
				uint64_t n = (v->end - v->start) >> PAGE_SHIFT;
				hva_t a;

				if (idx < v->pgoff || idx >= v->pgoff + n)
					continue;
				a = v->start + ((idx - v->pgoff) << PAGE_SHIFT);
				host_zap_range_notify(v->mm, v, a,
						      a + PAGE_SIZE, &filter);
			}
			kvmmu_read_unlock(&f->i_mmap_lock);
		}
	}
	host_gather_flush(h, &g);
}

/* Zero bytes [off, off + len) inside one cached page, if it is cached. */
static void shmem_zero_partial(struct kvmmu_file *f, uint64_t off, uint64_t len)
{
	kvmmu_pfn_t p;

	if (!len)
		return;
	kvmmu_spin_lock(&f->cache_lock);
	if (!__shmem_page(f, off >> PAGE_SHIFT, false, &p))
		memset((uint8_t *)host_pfn_virt(f->host, p) +
			       (off & (PAGE_SIZE - 1)),
		       0, len);
	kvmmu_spin_unlock(&f->cache_lock);
}

/* Punch [off, off + len): whole pages removed, partial ones zeroed. */
static void shmem_punch(struct kvmmu_file *f, uint64_t off, uint64_t len,
			bool truncate) REQUIRES(f->inode_lock)
{
	uint64_t end = off + len;
	uint64_t first = DIV_ROUND_UP(off, PAGE_SIZE),
		 last_x = end >> PAGE_SHIFT;

	if (first > last_x) { /* inside one page */
		shmem_zero_partial(f, off, len);
		return;
	}
	shmem_zero_partial(f, off, (first << PAGE_SHIFT) - off);
	shmem_zero_partial(f, last_x << PAGE_SHIFT,
			   end - (last_x << PAGE_SHIFT));
	if (first < last_x)
		shmem_remove_pages(f, first, last_x - 1, truncate);
}

int kvmmu_ftruncate(struct kvmmu_file *f, uint64_t size)
{
	uint64_t old;

	if (size > SHMEM_MAX_BYTES)
		return -EINVAL;
	kvmmu_mutex_lock(&f->inode_lock);
	kvmmu_spin_lock(&f->cache_lock);
	old = f->size;
	WRITE_ONCE(f->size, size); /* new faults past the end fail now */
	kvmmu_spin_unlock(&f->cache_lock);
	if (size < old)
		shmem_punch(f, size, ALIGN(old, PAGE_SIZE) - size, true);
	kvmmu_mutex_unlock(&f->inode_lock);
	return 0;
}

int kvmmu_fallocate(struct kvmmu_file *f, int mode, uint64_t off, uint64_t len)
{
	uint64_t i, end = off + len;
	int r = 0;

	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	if (!len || (int64_t)off < 0)
		return -EINVAL;
	if (end < off || end > SHMEM_MAX_BYTES)
		return -EFBIG;

	kvmmu_mutex_lock(&f->inode_lock);
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		shmem_punch(f, off, len, false);
		goto out;
	}
	kvmmu_spin_lock(&f->cache_lock);
	for (i = off >> PAGE_SHIFT; i < DIV_ROUND_UP(end, PAGE_SIZE); i++) {
		kvmmu_pfn_t p;

		r = __shmem_page(f, i, true, &p);
		if (r)
			break;
	}
	if (!r && !(mode & FALLOC_FL_KEEP_SIZE) && end > f->size)
		WRITE_ONCE(f->size, end);
	kvmmu_spin_unlock(&f->cache_lock);
out:
	kvmmu_mutex_unlock(&f->inode_lock);
	return r;
}

static int shmem_rw(struct kvmmu_file *f, void *buf, size_t len, uint64_t off,
		    bool write)
{
	uint8_t *b = buf;
	int r = 0;

	if (off + len < off || off + len > SHMEM_MAX_BYTES)
		return -EFBIG;
	kvmmu_mutex_lock(&f->inode_lock);
	kvmmu_spin_lock(&f->cache_lock);
	if (write && off + len > f->size)
		WRITE_ONCE(f->size, off + len);
	while (len) {
		size_t n = min(len, PAGE_SIZE - (off & (PAGE_SIZE - 1)));
		kvmmu_pfn_t p;
		uint8_t *v;

		if (!write && (off >= f->size ||
			       __shmem_page(f, off >> PAGE_SHIFT, false, &p))) {
			memset(b, 0, n); /* a hole or past the end */
		} else {
			r = __shmem_page(f, off >> PAGE_SHIFT, write, &p);
			if (r)
				break;
			v = (uint8_t *)host_pfn_virt(f->host, p) +
			    (off & (PAGE_SIZE - 1));
			if (write)
				memcpy(v, b, n);
			else
				memcpy(b, v, n);
		}
		b += n;
		off += n;
		len -= n;
	}
	kvmmu_spin_unlock(&f->cache_lock);
	kvmmu_mutex_unlock(&f->inode_lock);
	return r;
}

int kvmmu_file_pread(struct kvmmu_file *f, void *buf, size_t len, uint64_t off)
{
	return shmem_rw(f, buf, len, off, false);
}

int kvmmu_file_pwrite(struct kvmmu_file *f, const void *buf, size_t len,
		      uint64_t off)
{
	return shmem_rw(f, (void *)buf, len, off, true);
}
