// Thread CPU affinity and scheduling policy, for pinning the agent's copy-path loop to a CPU and
// running it at real-time priority.
//
// Glibc's sched_setaffinity and sched_getaffinity, the CPU_SET macros and SCHED_RESET_ON_FORK are
// declared only under _GNU_SOURCE, which Swift's Glibc module does not define, so these wrappers are C.

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

/// Runs the calling thread under SCHED_FIFO at `priority` (1-99), with SCHED_RESET_ON_FORK so that
/// threads it creates start under the normal policy; `priority` 0 puts it back under SCHED_OTHER.
/// Returns 0, or the errno of the failure (EPERM without CAP_SYS_NICE or a high enough
/// RLIMIT_RTPRIO, EINVAL for a priority out of range).
int cthreadaffinity_set_fifo(int priority);

/// The real-time priority of thread `tid` (0: the calling thread): its priority under SCHED_FIFO
/// or SCHED_RR, 0 under any other policy, or minus the errno of the failure.
int cthreadaffinity_realtime_priority(int tid);

#endif
