#define _GNU_SOURCE
#include "CThreadAffinity.h"

#include <errno.h>
#include <sched.h>
#include <unistd.h>
#include <sys/syscall.h>

int cthreadaffinity_set(int tid, const int *cpus, int count) {
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) return EINVAL;
        CPU_SET(cpus[i], &set);
    }
    return sched_setaffinity(tid, sizeof(set), &set) == 0 ? 0 : errno;
#else
    (void)tid; (void)cpus; (void)count;
    return ENOSYS;
#endif
}

int cthreadaffinity_get(int tid, int *cpus, int capacity) {
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(tid, sizeof(set), &set) != 0) return -errno;
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &set)) continue;
        if (n < capacity) cpus[n] = cpu;
        n++;
    }
    return n;
#else
    (void)tid; (void)cpus; (void)capacity;
    return -ENOSYS;
#endif
}

int cthreadaffinity_gettid(void) {
#ifdef __linux__
    return (int)syscall(SYS_gettid);
#else
    return 0;
#endif
}

int cthreadaffinity_set_fifo(int priority) {
#ifdef __linux__
    struct sched_param param = {.sched_priority = priority};
    int policy = priority > 0 ? (SCHED_FIFO | SCHED_RESET_ON_FORK) : SCHED_OTHER;
    return sched_setscheduler(0, policy, &param) == 0 ? 0 : errno;
#else
    (void)priority;
    return ENOSYS;
#endif
}

int cthreadaffinity_realtime_priority(int tid) {
#ifdef __linux__
    int policy = sched_getscheduler(tid);
    if (policy < 0) return -errno;
    policy &= ~SCHED_RESET_ON_FORK;
    if (policy != SCHED_FIFO && policy != SCHED_RR) return 0;
    struct sched_param param;
    if (sched_getparam(tid, &param) != 0) return -errno;
    return param.sched_priority;
#else
    (void)tid;
    return -ENOSYS;
#endif
}
