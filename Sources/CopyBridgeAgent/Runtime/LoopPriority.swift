import FIXTransport
import Logging
import NIOCore

/// `LoopRealtimePriority`: the copy path's event loop under SCHED_FIFO.
///
/// A thread woken on a CPU that a normal thread holds waits until that thread sleeps or the
/// scheduler decides its turn is over; a real-time thread takes the CPU at once. For the copy path
/// that wait lies between a fill arriving and the agent reading it: with a simulated broker on the
/// same CPU, the priority took a third off the median copy (see the README's figures). The loop's
/// thread ends with the agent's stop, so nothing is given back.
struct LoopPriority: Sendable {
    let priority: Int

    /// Puts `loop`'s thread under SCHED_FIFO at the priority, and says so in the log.
    func apply(_ loop: any EventLoop, logger: Logger) async throws {
        let key = AgentSettings.Key.loopRealtimePriority
        let priority = priority
        do {
            try await loop.submit { try ThreadScheduling.useRealTime(priority: priority) }.get()
        } catch let error as ThreadSchedulingError where error.isPermissionDenied {
            throw AgentStartError(
                "\(key)=\(priority): the agent may not use real-time scheduling (\(error)); give it CAP_SYS_NICE "
                    + "or an RLIMIT_RTPRIO of at least \(priority) (LimitRTPRIO= in a systemd unit, ulimit -r), "
                    + "or remove the key")
        } catch {
            throw AgentStartError("\(key)=\(priority): \(error)")
        }
        logger.info("the copy path's loop runs at real-time priority \(priority) (SCHED_FIFO)")
    }
}
