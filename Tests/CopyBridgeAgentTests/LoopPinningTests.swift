import BrokerSimulator
import FIXTransport
import Foundation
import Testing

@testable import CopyBridgeAgent

/// A thread's CPUs by its name, for every thread of this process with that name.
private func cpus(ofThreadsNamed name: String) -> [[Int]] {
    ThreadCPU.read().threads.compactMap { tid, thread in
        thread.name == name ? ThreadAffinity.allowedCPUs(of: Int32(tid)) : nil
    }
}

@Suite("Loop CPU", .serialized)
struct LoopPinningTests {
    #if os(Linux)
        @Test("LoopCPU puts the copy path's loop alone on its CPU and the other threads on the rest, until the stop")
        func pinsTheLoop() async throws {
            let allowed = try #require(ThreadAffinity.allowedCPUs())
            let cpu = try #require(allowed.last)
            // Every thread of the test process gets its CPUs back, whatever happens: the agent moves
            // them all, and the other tests run in this process.
            defer {
                for tid in ThreadAffinity.processThreadIDs() { try? ThreadAffinity.restrict(tid, to: allowed) }
            }
            let folder = try TestFolder()
            let runtime = try benchmarkRuntime(in: folder) { $0.loopCPU = cpu }
            #expect(runtime.configuration.agent.loopCPU == cpu)
            try await runtime.start()
            // Other tests' agents may run in this process at the same time (and had their threads moved
            // too): the loop is found as the one agent loop on the CPU, the simulator by its loop.
            let loops = cpus(ofThreadsNamed: AgentRuntime.loopThreadName).filter { $0.contains(cpu) }
            let simulatorLoop = try #require(runtime.simulator?.eventLoop)
            let simulatorThread = try await simulatorLoop.submit { ThreadAffinity.currentThreadID }.get()
            let simulator = ThreadAffinity.allowedCPUs(of: simulatorThread)
            await runtime.stop()
            #expect(ThreadAffinity.allowedCPUs() == allowed, "the stop gave the threads their CPUs back")
            // With a single CPU there is nowhere else to go: the others share it.
            let others = allowed.count > 1 ? allowed.filter { $0 != cpu } : allowed
            if allowed.count > 1 {
                #expect(loops == [[cpu]], "one agent loop may run on CPU \(cpu), and on it only")
            } else {
                #expect(loops.contains([cpu]))
            }
            #expect(simulator == others, "the simulator's loop was moved off CPU \(cpu)")
        }

        @Test("a LoopCPU the agent may not run on stops the start with the CPUs it may use")
        func refusesAForeignCPU() async throws {
            let allowed = try #require(ThreadAffinity.allowedCPUs())
            let foreign = try #require(allowed.max()) + 1
            let folder = try TestFolder()
            let runtime = try benchmarkRuntime(in: folder) { $0.loopCPU = foreign }
            await #expect {
                try await runtime.start()
            } throws: { error in
                let text = "\(error)"
                return text.hasPrefix("LoopCPU=\(foreign): the agent may run on CPUs ")
                    && text.contains(allowed.map(String.init).joined(separator: ","))
            }
            #expect(ThreadAffinity.allowedCPUs() == allowed, "nothing was moved")
        }
    #endif
}
