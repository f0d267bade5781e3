// SPDX-License-Identifier: MIT
/*
 * The frame allocator across threads: frames freed by one thread are
 * found by every other (the free lists are per thread shard, and a thread
 * whose shard is empty takes whole batches from the others), including the
 * last partial batch of a shard, and concurrent allocate/free loops on a
 * nearly full host neither lose nor double-count a frame.
 */
#include <pthread.h>
#include <sys/mman.h>

#include "host_common.h"

#define A_RAM (4ull << 20) /* 1024 frames: a few batches */
#define X     ((hva_t)0x10000000)

struct a_job {
	struct kvmmu_mm *mm;
	hva_t base;
	uint64_t pages;
	unsigned int rounds;
	uint8_t tag;
	int err; /* first failure: -errno, or 1 for bad data */
};

/* Map @pages, write a tag to each, read it back, unmap; @rounds times. */
static void *a_touch_all(void *arg)
{
	struct a_job *j = arg;
	unsigned int r;
	uint64_t i;

	for (r = 0; r < j->rounds && !j->err; r++) {
		hva_t at;
		int ret = kvmmu_mmap(j->mm, j->base, j->pages * PAGE_SIZE,
				     PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				     NULL, 0, &at);

		if (ret) {
			j->err = ret;
			break;
		}
		for (i = 0; i < j->pages && !j->err; i++) {
			uint8_t v = (uint8_t)(j->tag + i + r), back = 0;

			ret = kvmmu_mm_write(j->mm, at + i * PAGE_SIZE, &v, 1);
			if (!ret)
				ret = kvmmu_mm_read(j->mm, at + i * PAGE_SIZE,
						    &back, 1);
			if (ret)
				j->err = ret;
			else if (back != v)
				j->err = 1;
		}
		ret = kvmmu_munmap(j->mm, at, j->pages * PAGE_SIZE);
		if (ret && !j->err)
			j->err = ret;
	}
	return NULL;
}

static void a_run_thread(struct a_job *j)
{
	pthread_t t;

	ASSERT_EQ(pthread_create(&t, NULL, a_touch_all, j), 0);
	ASSERT_EQ(pthread_join(t, NULL), 0);
}

static struct kvmmu_host_audit a_audit(struct hc_env *e)
{
	struct kvmmu_host_audit a;

	ASSERT_OK(kvmmu_host_audit(e->host, &a));
	return a;
}

/*
 * Every frame of the host is used by one thread, freed, then used by a
 * second thread and a third: each must find all of them (every full batch
 * and the partial one of the freeing thread's shard).
 */
TEST(frames_freed_by_one_thread_serve_the_next)
{
	struct hc_env e;
	struct kvmmu_host_audit a;
	struct a_job j = { .base = X, .rounds = 1 };
	unsigned int t;

	hc_setup_ram(&e, A_RAM);
	a = a_audit(&e);
	ASSERT_EQ(a.in_use, 0);
	ASSERT_EQ(a.free, a.frames);
	j.mm = e.mm;
	j.pages = a.frames; /* all of them: nothing may stay out of reach */
	for (t = 0; t < 3; t++) {
		j.tag = (uint8_t)(0x40 + t);
		a_run_thread(&j);
		ASSERT_EQ(j.err, 0);
		a = a_audit(&e);
		ASSERT_EQ(a.in_use, 0);
		ASSERT_EQ(a.free, a.frames);
	}
	/* One more page than there are frames: the kernel's -ENOMEM. */
	j.pages = a.frames + 1;
	a_run_thread(&j);
	ASSERT_EQ(j.err, -ENOMEM);
	hc_teardown(&e);
}

/*
 * Two threads allocate and free in a loop on a host with 10% of its frames
 * to spare (frames in flight between shards are out of reach for a moment,
 * as pages on another CPU's list are in the kernel): no failure, no frame
 * lost or counted twice.
 */
TEST(concurrent_alloc_free_keeps_every_frame)
{
	struct hc_env e;
	struct kvmmu_host_audit a;
	struct a_job j[2];
	pthread_t t[2];
	unsigned int i;

	hc_setup_ram(&e, A_RAM);
	a = a_audit(&e);
	for (i = 0; i < 2; i++) {
		j[i] = (struct a_job){
			.mm = e.mm,
			.base = X + i * (A_RAM * 2),
			.pages = a.frames * 9 / 20,
			.rounds = 200,
			.tag = (uint8_t)(0x10 * (i + 1)),
		};
		ASSERT_EQ(pthread_create(&t[i], NULL, a_touch_all, &j[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(pthread_join(t[i], NULL), 0);
		ASSERT_EQ(j[i].err, 0);
	}
	a = a_audit(&e);
	ASSERT_EQ(a.in_use, 0);
	ASSERT_EQ(a.free, a.frames);
	ASSERT_EQ(a.bad, 0);
	hc_teardown(&e);
}

TEST_HARNESS_MAIN
