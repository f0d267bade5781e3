/* SPDX-License-Identifier: MIT */
/*
 * The parts of the kernel's KVM uAPI (as of Linux 6.18) that the
 * <linux/kvm.h> of the build machine (Debian 12: Linux 6.1) lacks: memslots
 * through KVM_SET_USER_MEMORY_REGION2, guest_memfd, and the capability
 * numbers 231-244.  Every definition is guarded, so a newer <linux/kvm.h>
 * wins; the values are the kernel's ABI and must never change.
 *
 * Include after <linux/kvm.h>.
 */
#ifndef KVMMU_BACKEND_KVM_COMPAT_H
#define KVMMU_BACKEND_KVM_COMPAT_H

#include <linux/kvm.h>
#include <linux/types.h>

/* --- capabilities (KVM_CHECK_EXTENSION) ---------------------------------- */

#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2 231
#endif
#ifndef KVM_CAP_MEMORY_FAULT_INFO
#define KVM_CAP_MEMORY_FAULT_INFO 232
#endif
#ifndef KVM_CAP_MEMORY_ATTRIBUTES
#define KVM_CAP_MEMORY_ATTRIBUTES 233
#endif
#ifndef KVM_CAP_GUEST_MEMFD
#define KVM_CAP_GUEST_MEMFD 234
#endif
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif
#ifndef KVM_CAP_PRE_FAULT_MEMORY
#define KVM_CAP_PRE_FAULT_MEMORY 236
#endif
#ifndef KVM_CAP_GUEST_MEMFD_FLAGS
#define KVM_CAP_GUEST_MEMFD_FLAGS 244 /* returns the GUEST_MEMFD_FLAG_*s */
#endif

/* --- memslots ------------------------------------------------------------ */

#ifndef KVM_MEM_GUEST_MEMFD
#define KVM_MEM_GUEST_MEMFD (1UL << 2) /* back the slot with a guest_memfd */
#endif

/*
 * KVM_SET_USER_MEMORY_REGION2's argument: the v1 struct, then where in a
 * guest_memfd the slot's memory lives, padded to 128 bytes for later use
 * (the padding must be zero).
 */
#ifndef KVM_SET_USER_MEMORY_REGION2
struct kvm_userspace_memory_region2 {
	__u32 slot; /* (address space << 16) | slot id */
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};

#define KVM_SET_USER_MEMORY_REGION2 \
	_IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#endif

/* --- guest_memfd ----------------------------------------------------------- */

#ifndef KVM_CREATE_GUEST_MEMFD
struct kvm_create_guest_memfd {
	__u64 size;
	__u64 flags; /* GUEST_MEMFD_FLAG_* */
	__u64 reserved[6];
};

#define KVM_CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct kvm_create_guest_memfd)
#endif

#ifndef GUEST_MEMFD_FLAG_MMAP
#define GUEST_MEMFD_FLAG_MMAP (1ULL << 0) /* the file can be mmap()ed */
#endif
#ifndef GUEST_MEMFD_FLAG_INIT_SHARED
#define GUEST_MEMFD_FLAG_INIT_SHARED \
	(1ULL << 1) /* starts shared, not private */
#endif

/* --- exits ------------------------------------------------------------------ */

#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT 39 /* with KVM_CAP_MEMORY_FAULT_INFO */
#endif

#endif /* KVMMU_BACKEND_KVM_COMPAT_H */
