import FIXTransport
import Foundation
import Testing

@testable import CopyBridgeAgent

@Suite("Thread CPU")
struct ThreadCPUTests {
    @Test("schedstat's first field is the time on a CPU")
    func parsesSchedstat() {
        #expect(ThreadCPU.parseSchedstat("123456789 2000 17\n") == 123_456_789)
        #expect(ThreadCPU.parseSchedstat("") == nil)
        #expect(ThreadCPU.parseSchedstat("x 1 2") == nil)
    }

    @Test("the time since an earlier reading adds up by name, per unit, and a thread renamed keeps its start")
    func sumsByName() {
        let before = ThreadCPU(threads: [1: ("NIO-ELT-1-#1", 5_000_000), 2: ("worker", 1_000_000)])
        let after = ThreadCPU(threads: [
            1: ("cb-agent", 9_000_000),  // renamed in between: 4 ms since
            2: ("worker", 2_000_000),  // 1 ms
            3: ("worker", 3_000_000),  // new: 3 ms
            4: ("idle", 1_000_000),
        ])
        let earlierIdle = ThreadCPU(threads: before.threads.merging([4: ("idle", 1_000_000)]) { a, _ in a })
        let micros = after.micros(since: earlierIdle, per: 1000)
        #expect(micros == ["cb-agent": 4, "worker": 4])
        #expect(after.micros(since: before, per: 0).isEmpty)
    }

    #if os(Linux)
        @Test("a reading finds a thread by its name, with the time it spent")
        func readsThisProcess() throws {
            let name = "cpu-test-\(Int.random(in: 100...999))"
            let worked = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                ThreadName.setCurrent(name)
                var x = 0.0
                for k in 0..<2_000_000 { x += Double(k).squareRoot() }
                if x < 0 { print(x) }
                worked.signal()
                // Blocked while it is read: the kernel adds a thread's time up when it stops running.
                release.wait()
            }
            worked.wait()
            defer { release.signal() }
            let mine = ThreadCPU.read().threads.values.filter { $0.name == name }
            #expect(mine.count == 1)
            #expect((mine.first?.nanos ?? 0) > 0)
        }
    #endif
}
