import FIXTransport
import Logging
import NIOCore
import Synchronization

/// `LoopCPU`: the copy path's event loop alone on a CPU.
///
/// The loop's thread may run on that CPU only, and every other thread of the process on the other
/// CPUs the process may use. On a machine with few cores this is what keeps a fill from waiting for
/// the ledger's or the HTTP server's time slice (the kernel lets a running thread finish its slice
/// before a woken one takes the CPU), and the loop's code and data in that CPU's caches.
///
/// A thread inherits its creator's CPUs: those started after the start by a thread other than the
/// loop's stay off the CPU. ``keepOthersOff()`` runs once the loop is pinned and again at the end of
/// the start (the HTTP server's threads). ``release()`` gives the threads their CPUs back when the
/// agent stops, for a process that goes on (tests, a benchmark comparing settings).
final class LoopPinning: Sendable {
    let cpu: Int
    /// The CPUs the process could use before the pinning.
    let allowed: [Int]
    /// The other CPUs the process may use: every thread but the loop's goes there. Empty when the
    /// process may use only `cpu`, which it then shares with the loop.
    let others: [Int]
    private let loopThread = Mutex<Int32?>(nil)

    /// Checks that the process may run on `cpu`.
    init(cpu: Int) throws(AgentStartError) {
        let key = AgentSettings.Key.loopCPU
        guard let allowed = ThreadAffinity.allowedCPUs(), !allowed.isEmpty else {
            throw AgentStartError("\(key)=\(cpu): this system does not let the agent choose its CPUs; remove the key")
        }
        guard allowed.contains(cpu) else {
            throw AgentStartError(
                "\(key)=\(cpu): the agent may run on CPUs \(allowed.map(String.init).joined(separator: ",")) only "
                    + "(its affinity, from taskset or its cgroup); name one of them")
        }
        self.cpu = cpu
        self.allowed = allowed
        others = allowed.filter { $0 != cpu }
    }

    /// Restricts `loop`'s thread to the CPU and moves the other threads off it, and says so in the log.
    func pin(_ loop: any EventLoop, logger: Logger) async throws {
        let key = AgentSettings.Key.loopCPU
        do {
            try await loop.submit { try self.pinLoopThread() }.get()
        } catch {
            throw AgentStartError("\(key)=\(cpu): \(error)")
        }
        let moved = keepOthersOff()
        if others.isEmpty {
            let text =
                "\(key)=\(cpu): the agent may use no other CPU; its other threads share it with the copy path's loop"
            logger.warning("\(text)")
        } else {
            let text =
                "the copy path's loop runs on CPU \(cpu); \(moved) other threads moved to CPUs "
                + others.map(String.init).joined(separator: ",")
            logger.info("\(text)")
        }
    }

    /// On the loop's thread: restricts it to the CPU.
    private func pinLoopThread() throws(ThreadAffinityError) {
        try ThreadAffinity.restrict(to: [cpu])
        loopThread.withLock { $0 = ThreadAffinity.currentThreadID }
    }

    /// Moves every thread but the loop's that may run on the CPU to the other CPUs. Returns how many
    /// it moved; a thread that ended meanwhile is skipped.
    @discardableResult
    func keepOthersOff() -> Int {
        guard !others.isEmpty, let loop = loopThread.withLock({ $0 }) else { return 0 }
        var moved = 0
        for thread in ThreadAffinity.processThreadIDs() where thread != loop {
            guard let cpus = ThreadAffinity.allowedCPUs(of: thread), cpus.contains(cpu) else { continue }
            if (try? ThreadAffinity.restrict(thread, to: others)) != nil { moved += 1 }
        }
        return moved
    }

    /// Gives the threads the pinning moved (those on exactly the other CPUs) every CPU the process
    /// could use before. A thread that ended meanwhile is skipped.
    func release() {
        guard !others.isEmpty else { return }
        for thread in ThreadAffinity.processThreadIDs() where ThreadAffinity.allowedCPUs(of: thread) == others {
            try? ThreadAffinity.restrict(thread, to: allowed)
        }
    }
}
