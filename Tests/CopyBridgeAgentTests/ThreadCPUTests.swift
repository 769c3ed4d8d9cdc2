import FIXTransport
import Foundation
import Testing

@testable import CopyBridgeAgent

@Suite("Thread CPU")
struct ThreadCPUTests {
    @Test("schedstat's first two fields are the time on a CPU and the time waiting for one")
    func parsesSchedstat() {
        let times = ThreadCPU.parseSchedstat("123456789 2000 17\n")
        #expect(times?.onCPU == 123_456_789 && times?.waiting == 2000)
        #expect(ThreadCPU.parseSchedstat("5")?.waiting == 0)
        #expect(ThreadCPU.parseSchedstat("") == nil)
        #expect(ThreadCPU.parseSchedstat("x 1 2") == nil)
    }

    @Test("a thread's status gives its involuntary switches, not its voluntary ones")
    func parsesPreemptions() {
        let status = "Name:\tcb-agent\nvoluntary_ctxt_switches:\t14892\nnonvoluntary_ctxt_switches:\t3034\n"
        #expect(ThreadCPU.parsePreemptions(status) == 3034)
        #expect(ThreadCPU.parsePreemptions("Name:\tx\n") == nil)
    }

    @Test("the time since an earlier reading adds up by name, per unit, and a thread renamed keeps its start")
    func sumsByName() {
        typealias C = ThreadCPU.Counters
        let before = ThreadCPU(threads: [
            1: C(name: "NIO-ELT-1-#1", nanos: 5_000_000, waitNanos: 100_000, preemptions: 10),
            2: C(name: "worker", nanos: 1_000_000),
        ])
        let after = ThreadCPU(threads: [
            // Renamed in between: 4 ms on a CPU since, 0.5 ms waiting, 2000 preemptions.
            1: C(name: "cb-agent", nanos: 9_000_000, waitNanos: 600_000, preemptions: 2010),
            2: C(name: "worker", nanos: 2_000_000),  // 1 ms
            3: C(name: "worker", nanos: 3_000_000, waitNanos: 1_000_000, preemptions: 3),  // new: 3 ms
            4: C(name: "idle", nanos: 1_000_000, waitNanos: 5, preemptions: 1),
        ])
        let earlierIdle = ThreadCPU(threads: before.threads.merging([4: after.threads[4]!]) { a, _ in a })
        #expect(after.micros(since: earlierIdle, per: 1000) == ["cb-agent": 4, "worker": 4])
        #expect(after.waitMicros(since: earlierIdle, per: 1000) == ["cb-agent": 0.5, "worker": 1])
        // Under a hundredth per unit: left out.
        #expect(after.preemptions(since: earlierIdle, per: 1000) == ["cb-agent": 2])
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
            #expect((mine.first?.preemptions ?? -1) >= 0)
        }
    #endif
}
