import Foundation
import Testing

@testable import CopyBridgeAgent

/// Whether this process may make PM QoS requests (root, or write access to the device).
private let canRequestCPULatency = FileManager.default.isWritableFile(atPath: CPULatencyRequest.devicePath)

/// A limit no other process is likely to request at the same moment. The device reports the
/// lowest of every process's requests, so a second test run (or a benchmark) holding the same
/// value would make this one's request look held after its release.
private let unusualLimit = 100 + Int(getpid() % 800)

@Suite("CPU wake-up latency request", .serialized)
struct CPULatencyRequestTests {
    @Test(
        "the limit is in force while the request is held, and withdrawn when it is released",
        .enabled(if: canRequestCPULatency, "no write access to /dev/cpu_dma_latency"))
    func heldAndReleased() throws {
        let before = try #require(CPULatencyRequest.current())
        let request = try CPULatencyRequest(microseconds: unusualLimit)
        #expect((CPULatencyRequest.current() ?? .max) <= Int32(unusualLimit), "the limit is in force")
        request.release()
        #expect(CPULatencyRequest.current() != Int32(unusualLimit) || before == Int32(unusualLimit), "withdrawn")
        request.release()
    }

    @Test(
        "a running agent holds its CPUIdleLatencyUs until it stops",
        .enabled(if: canRequestCPULatency, "no write access to /dev/cpu_dma_latency"))
    func agentHoldsIt() async throws {
        let folder = try TestFolder()
        let runtime = try benchmarkRuntime(in: folder) { $0.cpuIdleLatencyUs = unusualLimit }
        #expect(runtime.configuration.agent.cpuIdleLatencyUs == unusualLimit)
        let before = try #require(CPULatencyRequest.current())
        try await runtime.start()
        #expect((CPULatencyRequest.current() ?? .max) <= Int32(unusualLimit), "the limit is in force")
        await runtime.stop()
        #expect(CPULatencyRequest.current() != Int32(unusualLimit) || before == Int32(unusualLimit), "withdrawn")
    }

    @Test("a device that cannot be opened is an error naming it and why; a negative limit is refused")
    func refusals() {
        #expect {
            try CPULatencyRequest(microseconds: 0, device: "/nonexistent/cpu_dma_latency")
        } throws: { error in
            "\(error)".hasPrefix("/nonexistent/cpu_dma_latency: cannot open it: No such file or directory")
        }
        #expect(throws: CPULatencyRequestError.self) { try CPULatencyRequest(microseconds: -1) }
    }
}
