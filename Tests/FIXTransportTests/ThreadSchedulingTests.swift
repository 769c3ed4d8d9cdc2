import FIXTransport
import Foundation
import Synchronization
import Testing

@Suite("Thread scheduling")
struct ThreadSchedulingTests {
    #if os(Linux)
        /// What a thread of its own saw: the test's thread goes back to the pool with its policy intact.
        private struct Seen: Sendable {
            var refusal: ThreadSchedulingError?
            var during: Int?
            var child: Int?
            var after: Int?
            var outOfRange: [String] = []
        }

        @Test("a thread at real-time priority reads it back, its new threads start normal, and it can go back")
        func realTimeAndBack() throws {
            let done = DispatchSemaphore(value: 0)
            let seen = Mutex(Seen())
            Thread.detachNewThread {
                defer { done.signal() }
                var result = Seen()
                for priority in [0, 100] {
                    do {
                        try ThreadScheduling.useRealTime(priority: priority)
                    } catch {
                        result.outOfRange.append("\(error)")
                    }
                }
                do throws(ThreadSchedulingError) {
                    try ThreadScheduling.useRealTime(priority: 7)
                    result.during = ThreadScheduling.realTimePriority()
                    let started = DispatchSemaphore(value: 0)
                    let child = Mutex<Int?>(nil)
                    Thread.detachNewThread {
                        child.withLock { $0 = ThreadScheduling.realTimePriority() }
                        started.signal()
                    }
                    started.wait()
                    result.child = child.withLock { $0 }
                    try ThreadScheduling.useNormal()
                    result.after = ThreadScheduling.realTimePriority()
                } catch {
                    result.refusal = error
                    try? ThreadScheduling.useNormal()
                }
                seen.withLock { $0 = result }
            }
            done.wait()
            let result = seen.withLock { $0 }
            // Refused before the kernel is asked.
            #expect(
                result.outOfRange
                    == [0, 100].map {
                        "cannot run the thread at real-time priority \($0) (SCHED_FIFO): Invalid argument"
                    })
            if let refusal = result.refusal {
                // Without CAP_SYS_NICE or an RLIMIT_RTPRIO the kernel says no, and the error says why.
                #expect(refusal.isPermissionDenied, "\(refusal)")
                #expect("\(refusal)".hasPrefix("cannot run the thread at real-time priority 7 (SCHED_FIFO): "))
            } else {
                #expect(result.during == 7)
                #expect(result.child == 0, "a thread it started runs under the normal policy")
                #expect(result.after == 0)
            }
            #expect(ThreadScheduling.realTimePriority() == 0, "the test's own thread was not touched")
        }
    #endif
}
