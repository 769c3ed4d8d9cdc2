import FIXTransport
import Foundation
import Synchronization
import Testing

@Suite("Thread affinity")
struct ThreadAffinityTests {
    #if os(Linux)
        @Test("a thread restricted to one CPU reads back that CPU, and a CPU out of range is refused by name")
        func restrictsAndReadsBack() throws {
            let allowed = try #require(ThreadAffinity.allowedCPUs())
            #expect(!allowed.isEmpty && allowed == allowed.sorted())
            let target = try #require(allowed.last)
            // On a thread of its own: the test's thread goes back to the pool with its CPUs intact.
            let done = DispatchSemaphore(value: 0)
            let seen = Mutex<(tid: Int32, during: [Int]?, refusal: String?)>((0, nil, nil))
            Thread.detachNewThread {
                defer { done.signal() }
                let tid = ThreadAffinity.currentThreadID
                var refusal: String?
                do {
                    try ThreadAffinity.restrict(to: [target])
                    try ThreadAffinity.restrict(to: [100_000])
                } catch {
                    refusal = "\(error)"
                }
                seen.withLock { $0 = (tid, ThreadAffinity.allowedCPUs(), refusal) }
            }
            done.wait()
            let result = seen.withLock { $0 }
            #expect(result.tid > 0 && result.tid != ThreadAffinity.currentThreadID)
            #expect(result.during == [target], "the thread ran on CPU \(target) only")
            #expect(result.refusal?.contains("CPUs 100000") == true, "\(result.refusal ?? "no error")")
            #expect(ThreadAffinity.allowedCPUs() == allowed, "the calling thread kept its CPUs")
            #expect(ThreadAffinity.processThreadIDs().contains(ThreadAffinity.currentThreadID))
        }
    #endif
}
