// Thread CPU affinity, for pinning the agent's copy-path loop to a CPU.
//
// Glibc's sched_setaffinity and sched_getaffinity, and the CPU_SET macros, are declared only under
// _GNU_SOURCE, which Swift's Glibc module does not define, so these wrappers are C.

#ifndef CTHREADAFFINITY_H
#define CTHREADAFFINITY_H

/// Lets thread `tid` (0: the calling thread) run only on the `count` CPUs in `cpus`. Returns 0, or
/// the errno of the failure (EINVAL for a CPU id out of range or a set the kernel refuses, ESRCH
/// for a thread that is gone, EPERM for another user's thread).
int cthreadaffinity_set(int tid, const int *cpus, int count);

/// Writes the ids of the CPUs thread `tid` (0: the calling thread) may run on into `cpus`, in
/// ascending order, at most `capacity` of them. Returns how many there are (possibly more than
/// `capacity`), or minus the errno of the failure.
int cthreadaffinity_get(int tid, int *cpus, int capacity);

/// The calling thread's kernel id (what /proc/self/task lists).
int cthreadaffinity_gettid(void);

#endif
