import BrokerSimulator
import FIXCore
import Foundation
import Ledger
import Testing

@testable import CopyBridgeAgent

/// The value of one sample of a Prometheus text page, e.g. `copybridge_followers{state="active"}`.
private func sample(_ page: String, _ series: String) -> Double? {
    for line in page.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}

@Suite("Runtime metrics", .serialized)
struct RuntimeMetricsTests {
    @Test("the state gauges count followers and providers before any state changes; copies are sent after signals")
    func stateGaugesAndSentLatency() async throws {
        let folder = try TestFolder()
        let data = folder.path + "/data"
        var options = AgentRuntimeOptions.quietTests
        options.http = .port(0)
        try await withRuntime(twoBrokerSettings(admin: true), folder: folder, options: options) { runtime in
            try await runtime.waitUntil("every session live", timeout: .seconds(60)) {
                $0.allLive(twoBrokerSessions)
            }
            let port = try #require(runtime.httpListeningAddress?.port)
            let page = try await AdminClient(port: port, token: nil).request(method: .GET, path: "/metrics").text
            #expect(sample(page, #"copybridge_followers{state="active"}"#) == 3, "\(page)")
            #expect(sample(page, #"copybridge_followers{state="paused"}"#) == 0)
            #expect(sample(page, #"copybridge_providers{state="active"}"#) == 1)
            #expect(sample(page, #"copybridge_providers{state="suspended"}"#) == 0)
            // An operator's pause moves the gauges with the answer to the command.
            _ = try await runtime.handle(.pause(follower: "carl"), actor: "test", reason: nil)
            let paused = try await AdminClient(port: port, token: nil).request(method: .GET, path: "/metrics").text
            #expect(sample(paused, #"copybridge_followers{state="active"}"#) == 2)
            #expect(sample(paused, #"copybridge_followers{state="paused"}"#) == 1)
            _ = try await runtime.handle(.resume(follower: "carl"), actor: "test", reason: nil)

            let sim = try #require(runtime.simulator)
            try await sim.providerTrades("P1", "EUR/USD", .buy, 100000)
            try await runtime.waitUntil("the copies", timeout: .seconds(60)) {
                $0.filledOrders == 3 && $0.liveOrders == 0
            }
        }
        // The ledger's orders carry their sending time, so the report's avg_sent_latency_ms is not 0.
        let ledger = try Ledger.open(path: data + "/ledger.sqlite")
        defer { try? ledger.close() }
        let copies = Statistics.copies(history: try ledger.history())
        #expect(copies.count == 3)
        #expect(copies.allSatisfy { ($0.sentLatencyNanos ?? 0) > 0 }, "\(copies.map(\.sentLatencyNanos))")
    }

    @Test("a broker that rejects every copy: each retry and the degradation's cause have a series; others go on")
    func retriesAndDegradationInTheMetrics() async throws {
        let folder = try TestFolder()
        var options = AgentRuntimeOptions.quietTests
        options.http = .port(0)
        // LOTBRK (lena's broker) rejects everything; the agent retries once, then degrades her.
        let settings = twoBrokerSettings(
            lotbrkExtra: "RejectProbability=1\nRetryLimit=1\nRetryBackoffMs=10", admin: true)
        try await withRuntime(settings, folder: folder, options: options) { runtime in
            try await runtime.waitUntil("every session live", timeout: .seconds(60)) {
                $0.allLive(twoBrokerSessions)
            }
            let sim = try #require(runtime.simulator)
            try await sim.providerTrades("P1", "EUR/USD", .buy, 100000)
            try await runtime.waitUntil("bob and carl filled, lena degraded", timeout: .seconds(60)) { progress in
                guard case .degraded(.retryExhausted, _) = progress.followerStatus["lena"] else { return false }
                return progress.filledOrders == 2 && progress.liveOrders == 0
            }
            let port = try #require(runtime.httpListeningAddress?.port)
            let page = try await AdminClient(port: port, token: nil).request(method: .GET, path: "/metrics").text
            // Two attempts rejected: the first is retried, the second exhausts RetryLimit=1.
            #expect(sample(page, #"copybridge_decisions_total{reason="order-rejected"}"#) == 2, "\(page)")
            #expect(sample(page, #"copybridge_decisions_total{reason="retry-scheduled"}"#) == 1)
            #expect(sample(page, #"copybridge_degradations_total{reason="retry-exhausted"}"#) == 1)
            #expect(sample(page, #"copybridge_followers{state="degraded"}"#) == 1)
            #expect(sample(page, #"copybridge_followers{state="active"}"#) == 2)
        }
    }

    @Test("an order's sending time is its work's wall time plus the monotonic time since the work began")
    func sendingTime() {
        #expect(AgentCore.wallTime(ofMonotonic: 1_500, since: 1_000, wall: 10_000) == 10_500)
        // Without a start (recovery), the clocks' offset now.
        let now = AgentClock.monotonicNanos()
        let wall = AgentCore.wallTime(ofMonotonic: now, since: 0, wall: 0)
        #expect(abs(wall - AgentClock.wallNanos()) < 1_000_000_000)
    }
}
