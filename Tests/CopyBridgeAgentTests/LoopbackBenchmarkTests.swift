import BrokerSimulator
import Foundation
import Testing

@testable import CopyBridgeAgent

@Suite("Loopback copy benchmark")
struct LoopbackBenchmarkTests {
    @Test("a tiny run copies every signal to every follower and accounts for each order")
    func tinyRun() async throws {
        var options = LoopbackCopyBenchmark.Options()
        options.signals = 6
        options.warmup = 2
        options.followers = 3
        // The capture needs tcpdump and the right to capture; the counts do not.
        options.capture = false
        let result = try await LoopbackCopyBenchmark.run(options)
        #expect(result.signals == 6 && result.warmup == 2 && result.followers == 3)
        #expect(result.ordersSent == 8 * 3)
        #expect(result.filledOrders == 8 * 3)
        #expect(result.agentClockSamples == result.ordersSent)
        #expect(result.source == "agent-clock")
        #expect(result.firstCopyMicros == nil && result.baselineEchoMicros == nil && result.idleEchoMicros == nil)
        let p50 = try #require(result.agentClockMicros["p50"])
        let p99 = try #require(result.agentClockMicros["p99"])
        #expect(p50 > 0 && p50 <= p99)
        #if os(Linux)
            // The copy path's loop, the ledger's and the simulator's threads, each under its own name.
            let cpu = try #require(result.cpuMicrosPerSignal)
            for name in [AgentRuntime.loopThreadName, LedgerFeed.threadName, BrokerSimulatorServer.loopThreadName] {
                #expect((cpu[name] ?? 0) > 0, "\(name) in \(cpu)")
            }
            #expect(result.runWaitMicrosPerSignal != nil && result.preemptionsPerSignal != nil)
        #endif
        let json = try JSONSerialization.jsonObject(with: Data(result.jsonLine.utf8)) as? [String: Any]
        #expect(json?["orders_sent"] as? Int == 24)
    }

    @Test("waiting for filled orders returns once they are filled and times out when they are not")
    func waitsForFilledOrders() async throws {
        let folder = try TestFolder()
        let configuration = try LoopbackCopyBenchmark.configuration(LoopbackCopyBenchmark.Options(), in: folder.path)
        let runtime = AgentRuntime(configuration: configuration, options: .quietTests)
        try await runtime.start()
        do {
            try await runtime.waitUntil("the sessions", timeout: .seconds(30)) { $0.allLive(["dropcopy", "orders"]) }
            try await runtime.waitUntilFilled(0)
            await #expect(throws: AgentRuntimeError.self) {
                try await runtime.waitUntilFilled(1, timeout: .milliseconds(200))
            }
            let sim = try #require(runtime.simulator)
            _ = try await sim.act(on: "BENCH") { broker, now in
                (
                    broker.submit(
                        SimOrderRequest(
                            clOrdID: "S0", account: "ALICE", symbol: "EUR/USD", side: .buy, quantity: 1000,
                            timeInForce: .immediateOrCancel), at: now), ()
                )
            }
            try await runtime.waitUntilFilled(1, timeout: .seconds(30))
            #expect(try await runtime.progress().filledOrders == 1)
        } catch {
            await runtime.stop()
            throw error
        }
        await runtime.stop()
    }

    @Test("the idle echo waits the gap after each answer before the next request")
    func idleEchoKeepsItsGap() async throws {
        let echo = try await EchoServer.start()
        let clock = ContinuousClock()
        let start = clock.now
        try await echo.run(messages: 5, gap: .milliseconds(20))
        let elapsed = clock.now - start
        await echo.stop()
        // Four gaps between five requests.
        #expect(elapsed >= .milliseconds(80))
    }

    /// An IPv4/TCP packet on Ethernet with `payload`, as a pcap record at `nanos`.
    private func record(
        nanos: Int64, from source: UInt16, to destination: UInt16, seq: UInt32, _ payload: String
    )
        -> [UInt8]
    {
        func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
        func be16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
        func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
        let body = Array(payload.utf8)
        let ethernet = [UInt8](repeating: 0, count: 12) + [0x08, 0x00]
        let ip: [UInt8] = [0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]
        let tcp = be16(source) + be16(destination) + be32(seq) + be32(0) + [0x50, 0x18, 0, 0, 0, 0, 0, 0]
        let packet = ethernet + ip + tcp + body
        return le32(UInt32(nanos / 1_000_000_000)) + le32(UInt32(nanos % 1_000_000_000))
            + le32(UInt32(packet.count)) + le32(UInt32(packet.count)) + packet
    }

    @Test("the capture is read and paired: fill out to first and last order in, echo request to answer")
    func pairsTheCapture() throws {
        let header: [UInt8] =
            [0x4D, 0x3C, 0xB2, 0xA1, 2, 0, 4, 0] + [UInt8](repeating: 0, count: 8)
            + [0xFF, 0xFF, 0, 0, 1, 0, 0, 0]
        let soh = "\u{1}"
        let fill = "8=FIX.4.4\(soh)35=8\(soh)150=F\(soh)797=Y\(soh)"
        let order = "8=FIX.4.4\(soh)35=D\(soh)11=A\(soh)"
        let broker: UInt16 = 5000
        let agent: UInt16 = 40000
        var bytes = header
        bytes += record(nanos: 1_000_000, from: broker, to: agent, seq: 1, fill)
        // The same segment again (seen leaving and arriving): counted once.
        bytes += record(nanos: 1_000_500, from: broker, to: agent, seq: 1, fill)
        bytes += record(nanos: 1_030_000, from: agent, to: broker, seq: 7, order + order)
        bytes += record(nanos: 1_050_000, from: agent, to: broker, seq: 8, order)
        // A follower's fill (no 797=Y) starts nothing.
        bytes += record(nanos: 2_000_000, from: broker, to: agent, seq: 2, "35=8\(soh)150=F\(soh)")
        bytes += record(nanos: 3_000_000, from: broker, to: agent, seq: 3, fill)
        bytes += record(nanos: 3_020_000, from: agent, to: broker, seq: 9, order)
        bytes += record(nanos: 4_000_000, from: 41000, to: 6000, seq: 1, "ping")
        bytes += record(nanos: 4_007_000, from: 6000, to: 41000, seq: 1, "ping")

        let segments = try PacketCapture.segments(bytes)
        #expect(segments.count == 8)
        let copies = LoopbackCopyBenchmark.wireLatencies(segments, brokerPort: broker, followers: 3)
        #expect(copies.first == [30_000, 20_000])
        // The second fill was followed by one order of three: no last sample.
        #expect(copies.last == [50_000])
        #expect(copies.orders == 4)
        #expect(LoopbackCopyBenchmark.echoLatencies(segments, port: 6000) == [7_000])
    }
}
