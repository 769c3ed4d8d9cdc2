import CThreadAffinity
import Foundation

/// A thread's scheduling policy: for running a latency-critical event loop at real-time priority,
/// so that a message arriving for it takes the CPU from whatever normal thread holds it instead of
/// waiting for that thread to sleep or finish its time slice. Linux only; elsewhere every call
/// reports that it cannot.
public enum ThreadScheduling {
    /// The real-time priorities a thread may be given (SCHED_FIFO's range on Linux).
    public static let realTimePriorities = 1...99

    /// Runs the calling thread under SCHED_FIFO at `priority`. Threads it creates afterwards start
    /// under the normal policy (SCHED_RESET_ON_FORK), so a helper thread the loop happens to start
    /// never holds the CPU at that priority. Throws with the system's reason when the kernel
    /// refuses (EPERM without CAP_SYS_NICE or an RLIMIT_RTPRIO of at least `priority`).
    public static func useRealTime(priority: Int) throws(ThreadSchedulingError) {
        guard realTimePriorities.contains(priority) else {
            throw ThreadSchedulingError(priority: priority, errno: EINVAL)
        }
        let rc = cthreadaffinity_set_fifo(Int32(priority))
        guard rc == 0 else { throw ThreadSchedulingError(priority: priority, errno: rc) }
    }

    /// Puts the calling thread back under the normal policy (SCHED_OTHER).
    public static func useNormal() throws(ThreadSchedulingError) {
        let rc = cthreadaffinity_set_fifo(0)
        guard rc == 0 else { throw ThreadSchedulingError(priority: nil, errno: rc) }
    }

    /// The real-time priority of thread `thread` (0: the calling thread): 0 under a normal policy,
    /// nil when the kernel does not say (a thread that is gone, another system).
    public static func realTimePriority(of thread: Int32 = 0) -> Int? {
        let value = cthreadaffinity_realtime_priority(thread)
        return value >= 0 ? Int(value) : nil
    }
}

/// The kernel refused a scheduling policy.
public struct ThreadSchedulingError: Error, Sendable, CustomStringConvertible {
    /// The real-time priority asked for (nil: the normal policy).
    public var priority: Int?
    public var errno: Int32

    /// Whether the refusal is for want of privilege rather than a bad argument.
    public var isPermissionDenied: Bool { errno == EPERM }

    public var description: String {
        let policy = priority.map { "real-time priority \($0) (SCHED_FIFO)" } ?? "the normal policy"
        return "cannot run the thread at \(policy): " + String(cString: strerror(errno))
    }
}
