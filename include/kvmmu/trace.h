/* SPDX-License-Identifier: MIT */
/*
 * Tracing with KVM's tracepoint names, written as Chrome trace-event JSON
 * (open the file in https://ui.perfetto.dev or chrome://tracing).
 *
 * A trace is attached to VMs.  Their tracepoints then record events into a
 * buffer of the calling thread: each thread that traces gets its own buffer
 * at its first event (registered on the trace under a mutex, once), and
 * from then on records with no lock and no cache line written by another
 * thread, so tracing does not serialise the vCPUs.  A thread records at
 * most max_events (kvmmu_trace_set_max_events()) and counts the rest as
 * dropped.  kvmmu_trace_close() merges the buffers, sorts the events by
 * time and writes
 *
 *	{"traceEvents":[...], "displayTimeUnit":"ns", "otherData":{...}}
 *
 * Timestamps are CLOCK_MONOTONIC in microseconds since the trace was
 * opened, with three decimals (ns); pid is 1, tid a small number per
 * thread (1, 2, ... in order of first event), named by a "thread_name"
 * metadata event: the name given with kvmmu_trace_thread_name(), else
 * "vcpu-<id>" for a thread whose first fault was a vCPU's, else
 * "thread-<tid>".  otherData has "dropped_events" (the total over the
 * threads), "events", "max_events_per_thread" and "clock".
 *
 * Events (name, phase, args; the kernel tracepoint's field names where
 * there is one).  Addresses, gfns and SPTEs are "0x..." strings (a u64 does
 * not survive a JSON number); counts, ids, levels and flags are numbers.
 *
 *   kvm_page_fault	 X  vcpu_id, fault_address (gpa), error_code (bit 1:
 *			    write, as PFERR_WRITE_MASK), result ("fixed",
 *			    "spurious", "retry", "mmio", "efault"); spans
 *			    the fault handling
 *   kvm_mmu_set_spte	 i  gfn, spte, level: a leaf was installed
 *   kvm_mmu_invalidate_retry
 *			 i  gfn, mmu_seq, locked (0: the lockless pre-check,
 *			    1: the check under mmu_lock): the fault path's
 *			    retry check fired (no kernel tracepoint)
 *   kvm_unmap_hva_range i  start, end (hva): an invalidation hit a memslot
 *   mmu_notifier_invalidate_range
 *			 B/E event ("UNMAP", "CLEAR", ...), start, end (hva)
 *			    on B: from invalidate_range_start to the end of
 *			    invalidate_range_end, as the VM saw it
 *   kvm_mmu_zap	 i  start_gfn, end_gfn, pages: a stage-2 zap of
 *			    [start_gfn, end_gfn) and the leaves it removed
 *   kvm_remote_tlb_flush i vcpus_waited: vCPUs that were in guest mode
 *   kvm_set_user_memory_region
 *			 i  slot, flags, guest_phys_addr, memory_size,
 *			    userspace_addr: a memslot update succeeded
 *
 * With no trace attached a tracepoint costs a relaxed load of the VM's
 * trace pointer and one branch.
 */
#ifndef KVMMU_TRACE_H
#define KVMMU_TRACE_H

#include <stdint.h>

struct kvmmu_trace;
struct kvmmu_vm;

#define KVMMU_TRACE_DEFAULT_MAX_EVENTS (1ul << 20) /* per thread: 64 MiB */
#define KVMMU_TRACE_NAME_LEN	       32	   /* thread names, with NUL */

/**
 * kvmmu_trace_open() - create a trace that will be written to @path.
 * The file is created (truncated) now, written at kvmmu_trace_close().
 * Return: 0; -EINVAL (@path or @out NULL); -ENOMEM; fopen()'s -errno.
 * Context: any.
 */
int kvmmu_trace_open(const char *path, struct kvmmu_trace **out);

/**
 * kvmmu_trace_set_max_events() - events a thread may record before it
 * starts dropping (default KVMMU_TRACE_DEFAULT_MAX_EVENTS; 0 drops all).
 * A thread drops everything after its limit, so a B whose E came after
 * it is left open (viewers end it with the trace).
 * Context: before the trace is attached to a VM.
 */
void kvmmu_trace_set_max_events(struct kvmmu_trace *t, unsigned long n);

/**
 * kvmmu_trace_close() - write the JSON file, free the trace.
 * Return: 0; -EBUSY (still attached to a VM: nothing written, nothing
 * freed; detach it first); -ENOMEM or an I/O -errno (the trace is freed
 * all the same).
 * Context: no thread records into @t any more: every VM it was attached to
 * was detached (or destroyed) with no vCPU running and no notifier in
 * flight.
 */
int kvmmu_trace_close(struct kvmmu_trace *t);

/**
 * kvmmu_trace_dropped() - events dropped so far (over every thread), plus
 * any lost because a buffer could not be allocated.
 * Context: any; a snapshot while threads record.
 */
uint64_t kvmmu_trace_dropped(struct kvmmu_trace *t);

/**
 * kvmmu_vm_set_trace() - attach @t to @vm (NULL detaches).  A VM has at
 * most one trace; attaching replaces the previous one.  kvmmu_vm_destroy()
 * detaches.
 * Context: no vCPU of @vm is running and no MMU notifier of @vm is in
 * flight (the tracepoints read the pointer with no lock: a thread that
 * starts tracing must see @t published, and a detached trace must have no
 * tracepoint still inside it).
 */
void kvmmu_vm_set_trace(struct kvmmu_vm *vm, struct kvmmu_trace *t);

/**
 * kvmmu_trace_thread_name() - name the calling thread ("vcpu-0", "vmm",
 * ...) in every trace it records into: a buffer the thread already has
 * takes the name at the thread's next event there.  Longer names are cut
 * to KVMMU_TRACE_NAME_LEN - 1 bytes.
 * Context: any thread.
 */
void kvmmu_trace_thread_name(const char *name);

#endif /* KVMMU_TRACE_H */
