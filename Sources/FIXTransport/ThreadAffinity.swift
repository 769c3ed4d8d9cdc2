import CThreadAffinity
import Foundation

/// Which CPUs a thread may run on: for pinning a latency-critical event loop to a CPU of its own and
/// keeping every other thread of the process off it. Linux only; elsewhere every call reports that
/// it cannot.
public enum ThreadAffinity {
    /// The calling thread's kernel id, as `/proc/self/task` lists it (0 where there is none).
    public static var currentThreadID: Int32 { Int32(cthreadaffinity_gettid()) }

    /// The CPUs thread `thread` (0: the calling thread) may run on, ascending; nil when the kernel
    /// does not say (a thread that is gone, another system).
    public static func allowedCPUs(of thread: Int32 = 0) -> [Int]? {
        var capacity = 256
        while true {
            var ids = [Int32](repeating: 0, count: capacity)
            let n = Int(cthreadaffinity_get(thread, &ids, Int32(capacity)))
            guard n >= 0 else { return nil }
            if n <= capacity { return ids.prefix(n).map(Int.init) }
            capacity = n
        }
    }

    /// Lets thread `thread` (0: the calling thread) run only on `cpus`. Throws with the system's
    /// reason when the kernel refuses (an id out of range, a thread that is gone).
    public static func restrict(_ thread: Int32 = 0, to cpus: [Int]) throws(ThreadAffinityError) {
        let ids = cpus.map(Int32.init)
        let rc = cthreadaffinity_set(thread, ids, Int32(ids.count))
        guard rc == 0 else { throw ThreadAffinityError(cpus: cpus, thread: thread, errno: rc) }
    }

    /// The kernel ids of this process's threads now.
    public static func processThreadIDs() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).compactMap { Int32($0) }
    }
}

/// The kernel refused an affinity.
public struct ThreadAffinityError: Error, Sendable, CustomStringConvertible {
    public var cpus: [Int]
    public var thread: Int32
    public var errno: Int32

    public var description: String {
        "cannot restrict thread \(thread) to CPUs \(cpus.map(String.init).joined(separator: ",")): "
            + String(cString: strerror(errno))
    }
}
