import FIXTransport
import Foundation
import Synchronization
import Testing

@testable import CopyBridgeAgent

/// The real-time priorities of this process's threads named `name`.
private func priorities(ofThreadsNamed name: String) -> [Int] {
    ThreadCPU.read().threads.compactMap { tid, thread in
        thread.name == name ? ThreadScheduling.realTimePriority(of: Int32(tid)) : nil
    }
}

/// Whether this process may give a thread real-time priority `priority` (tried on a thread of its own).
private func mayUseRealTime(_ priority: Int) -> Bool {
    let done = DispatchSemaphore(value: 0)
    let allowed = Mutex(false)
    Thread.detachNewThread {
        defer { done.signal() }
        guard (try? ThreadScheduling.useRealTime(priority: priority)) != nil else { return }
        allowed.withLock { $0 = true }
        try? ThreadScheduling.useNormal()
    }
    done.wait()
    return allowed.withLock { $0 }
}

@Suite("Loop priority", .serialized)
struct LoopPriorityTests {
    #if os(Linux)
        @Test("LoopRealtimePriority runs the copy path's loop under SCHED_FIFO, or stops the start saying why not")
        func realTimeLoop() async throws {
            // A priority no other test uses: the loop is found by it among other tests' agents.
            let priority = 3
            let folder = try TestFolder()
            let runtime = try benchmarkRuntime(in: folder) { $0.loopRealtimePriority = priority }
            #expect(runtime.configuration.agent.loopRealtimePriority == priority)
            guard mayUseRealTime(priority) else {
                await #expect {
                    try await runtime.start()
                } throws: { error in
                    "\(error)".hasPrefix(
                        "LoopRealtimePriority=3: the agent may not use real-time scheduling (cannot run the thread at "
                            + "real-time priority 3 (SCHED_FIFO): Operation not permitted); give it CAP_SYS_NICE")
                }
                return
            }
            try await runtime.start()
            let during = priorities(ofThreadsNamed: AgentRuntime.loopThreadName).filter { $0 == priority }
            let simulatorLoop = try #require(runtime.simulator?.eventLoop)
            let simulator = try await simulatorLoop.submit { ThreadScheduling.realTimePriority() }.get()
            try await runtime.waitUntil("the sessions", timeout: .seconds(30)) { $0.allLive(["dropcopy", "orders"]) }
            await runtime.stop()
            #expect(during.count == 1, "one agent loop runs at priority \(priority)")
            #expect(simulator == 0, "the simulator's loop keeps the normal policy")
            #expect(
                priorities(ofThreadsNamed: AgentRuntime.loopThreadName).allSatisfy { $0 != priority },
                "the loop's thread ended with the stop")
        }
    #endif
}
