import FIXCore
import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing

@testable import CopyBridgeAgent

/// Keeps what is logged, for tests that check alerts are logged when they start and end.
final class CapturedLog: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    var all: [Entry] { entries.withLock { $0 } }

    func logger() -> Logger {
        Logger(label: "test.captured") { _ in Handler(log: self) }
    }

    fileprivate func append(_ entry: Entry) {
        entries.withLock { $0.append(entry) }
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.append(
                Entry(
                    level: event.level, message: "\(event.message)",
                    metadata: (event.metadata ?? [:]).mapValues { "\($0)" }))
        }
    }
}

/// A fresh registry and metrics, with an origin the test controls.
struct MetricsHarness {
    let registry = PrometheusCollectorRegistry()
    let log = CapturedLog()
    let t0 = ContinuousClock.now
    let metrics: CopyBridgeMetrics

    init(thresholds: AlertThresholds = AlertThresholds()) {
        metrics = CopyBridgeMetrics(
            factory: CopyBridgeMetrics.makePrometheusFactory(registry: registry), thresholds: thresholds,
            logger: log.logger(), now: t0)
    }

    func at(_ seconds: Double) -> ContinuousClock.Instant {
        t0.advanced(by: .milliseconds(Int64(seconds * 1000)))
    }

    var text: String { registry.emitToString() }

    /// The value of one sample line, e.g. `copybridge_orders_total{session="S"}`.
    func sample(_ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}

@Suite("Latency buckets")
struct LatencyBucketsTests {
    @Test func boundsHaveTwoSignificantDigits() {
        #expect(LatencyBuckets.upperBoundMicros(ofIndex: 0) == 10)
        #expect(LatencyBuckets.upperBoundMicros(ofIndex: 1) == 11)
        #expect(LatencyBuckets.upperBoundMicros(ofIndex: 89) == 99)
        #expect(LatencyBuckets.upperBoundMicros(ofIndex: 90) == 100)
        #expect(LatencyBuckets.upperBoundMicros(ofIndex: 91) == 110)
        #expect(LatencyBuckets.upperBoundMicros(ofIndex: LatencyBuckets.overflowIndex) == nil)
    }

    @Test func valuesLandInTheSmallestBucketAtOrAboveThem() throws {
        for micros in [0, 1, 10, 11, 99, 100, 101, 109, 110, 999, 1_000, 1_001, 499_999, 500_000, 500_001, 989_999_999]
        {
            let index = LatencyBuckets.index(ofMicros: micros)
            let bound = try #require(LatencyBuckets.upperBoundMicros(ofIndex: index))
            #expect(bound >= micros, "\(micros) µs in bucket ≤ \(bound)")
            if index > 0 {
                let below = try #require(LatencyBuckets.upperBoundMicros(ofIndex: index - 1))
                #expect(below < micros, "\(micros) µs belongs above \(below)")
            }
        }
        #expect(LatencyBuckets.index(ofMicros: 991_000_000) == LatencyBuckets.overflowIndex)
    }

    @Test func quantilesAreExactAtBucketBounds() {
        var buckets = LatencyBuckets()
        #expect(buckets.quantile(0.99) == nil)
        for _ in 0..<99 { buckets.record(micros: 1_000) }
        buckets.record(micros: 900_000)
        #expect(buckets.quantile(0.5) == 1_000)
        #expect(buckets.quantile(0.99) == 1_000)
        #expect(buckets.quantile(1.0) == 900_000)
        buckets.record(micros: 500_001)
        // 101 samples: rank 100 is the 500.001 ms one, reported as its bucket bound capped by the maximum.
        #expect(buckets.quantile(0.99) == 510_000)
    }

    @Test func coarseCountsAddUpPerBound() {
        var buckets = LatencyBuckets()
        for micros in [5, 50, 51, 100, 2_400, 2_500, 2_501, 20_000_000] { buckets.record(micros: micros) }
        let coarse = buckets.coarse(boundsMicros: [50, 100, 2_500, 10_000_000])
        #expect(coarse == [2, 2, 2, 1, 1])
    }
}

@Suite("CopyBridgeMetrics")
struct CopyBridgeMetricsTests {
    @Test func prometheusTextHasTheCatalogue() {
        let h = MetricsHarness()
        let m = h.metrics
        m.recordSignal(provider: "P1", at: h.at(0))
        m.recordCopy(session: "ORD", tickToCopy: .microseconds(420), at: h.at(0))
        m.recordOrderSent(session: "ORD", at: h.at(0))
        m.recordOrderAcknowledged(session: "ORD", latency: .milliseconds(3))
        m.recordOrderFilled(session: "ORD", latency: .milliseconds(12), slippageBps: FixedDecimal("1.5"), at: h.at(0))
        m.recordOrderRejected(session: "ORD", at: h.at(0))
        m.recordOrderUnfilled(session: "ORD", at: h.at(0))
        m.recordError(session: "ORD", kind: "session_reject", at: h.at(0))
        m.recordSkip(reason: "below_min_qty", at: h.at(0))
        m.recordDecision(reason: "retry-scheduled")
        m.recordDecision(reason: "retry-scheduled")
        m.recordDegradation(reason: "retry-exhausted")
        m.updateSession("ORD", state: .loggedOn, nextSenderSeqNum: 17, nextTargetSeqNum: 9)
        m.updateFollowerCounts([.active: 3, .tripped: 1])
        m.updateProviderCounts([.active: 2])
        #expect(h.sample("copybridge_ledger_backlog") == 0, "from the start")
        m.updateLedgerBacklog(1234)
        m.evaluateAlerts(now: h.at(0.5))

        #expect(h.sample(#"copybridge_signals_total{provider="P1"}"#) == 1)
        #expect(h.sample(#"copybridge_copies_total{session="ORD"}"#) == 1)
        #expect(h.sample(#"copybridge_orders_total{session="ORD"}"#) == 1)
        #expect(h.sample(#"copybridge_fills_total{session="ORD"}"#) == 1)
        #expect(h.sample(#"copybridge_rejects_total{session="ORD"}"#) == 1)
        #expect(h.sample(#"copybridge_unfilled_total{session="ORD"}"#) == 1)
        #expect(h.sample(#"copybridge_errors_total{session="ORD",kind="session_reject"}"#) == 1)
        #expect(h.sample(#"copybridge_skips_total{reason="below_min_qty"}"#) == 1)
        #expect(h.sample(#"copybridge_decisions_total{reason="retry-scheduled"}"#) == 2)
        #expect(h.sample(#"copybridge_degradations_total{reason="retry-exhausted"}"#) == 1)
        #expect(h.sample(#"copybridge_session_state{session="ORD",state="logged-on"}"#) == 1)
        #expect(h.sample(#"copybridge_session_state{session="ORD",state="down"}"#) == 0)
        #expect(h.sample(#"copybridge_session_next_sender_seqnum{session="ORD"}"#) == 17)
        #expect(h.sample(#"copybridge_session_next_target_seqnum{session="ORD"}"#) == 9)
        #expect(h.sample(#"copybridge_followers{state="active"}"#) == 3)
        #expect(h.sample(#"copybridge_followers{state="tripped"}"#) == 1)
        #expect(h.sample(#"copybridge_followers{state="paused"}"#) == 0)
        #expect(h.sample(#"copybridge_providers{state="active"}"#) == 2)
        #expect(h.sample("copybridge_ledger_backlog") == 1234)
        // 420 µs lands in the 500 µs bucket, not the 250 µs one: the µs..s buckets are in use.
        #expect(h.sample(#"copybridge_tick_to_copy_seconds_bucket{le="0.00025"}"#) == 0)
        #expect(h.sample(#"copybridge_tick_to_copy_seconds_bucket{le="0.0005"}"#) == 1)
        #expect(h.sample(#"copybridge_tick_to_copy_seconds_count"#) == 1)
        #expect(h.sample(#"copybridge_order_ack_seconds_bucket{session="ORD",le="0.005"}"#) == 1)
        #expect(h.sample(#"copybridge_order_fill_seconds_bucket{session="ORD",le="0.01"}"#) == 0)
        #expect(h.sample(#"copybridge_order_fill_seconds_bucket{session="ORD",le="0.025"}"#) == 1)
        #expect(h.sample(#"copybridge_slippage_bps_bucket{session="ORD",le="2.0"}"#) == 1)
        for alert in AlertKind.allCases {
            #expect(h.sample(#"copybridge_alert_active{alert="\#(alert.rawValue)"}"#) == 0)
        }
        #expect(h.text.contains("copybridge_window_tick_to_copy_p99_seconds"))
        #expect(h.text.contains("copybridge_window_fill_ratio"))
        #expect(h.text.contains("copybridge_window_error_ratio"))
    }

    @Test func summaryCountsAndHistogram() throws {
        let h = MetricsHarness()
        let m = h.metrics
        for i in 0..<10 { m.recordSignal(provider: i < 5 ? "P1" : "P2", at: h.at(1)) }
        for micros in [40, 90, 300, 300, 800, 20_000, 20_000, 20_000, 600_000, 12_000_000] {
            m.recordCopy(session: "S", tickToCopy: .microseconds(micros), at: h.at(1))
        }
        for _ in 0..<8 { m.recordOrderFilled(session: "S", latency: .milliseconds(5), slippageBps: nil, at: h.at(1)) }
        m.recordOrderRejected(session: "S", at: h.at(1))
        m.recordOrderUnfilled(session: "S", at: h.at(1))
        m.recordSkip(reason: "paused", at: h.at(1))
        m.recordSkip(reason: "paused", at: h.at(1))
        m.recordSkip(reason: "symbol_filtered", at: h.at(1))

        let summary = m.summary(now: h.at(2))
        #expect(summary.totals.signals == 10)
        #expect(summary.totals.copies == 10)
        #expect(summary.totals.skips == 3)
        #expect(summary.totals.skipsByReason == ["paused": 2, "symbol_filtered": 1])
        #expect(summary.totals.fills == 8)
        #expect(summary.totals.fillRate == 0.8)
        #expect(summary.totals.rejectRate == 0.1)
        #expect(summary.totals.p50LatencyMicros == 800)
        #expect(summary.totals.p99LatencyMicros == 12_000_000)
        let histogram = summary.latencyHistogram
        #expect(histogram.upperBoundsMicros == CopyBridgeMetrics.latencyBucketBoundsMicros)
        // ≤50, ≤100, ≤250, ≤500, ≤1ms, ..., ≤25ms, ..., ≤1s, ..., >10s
        #expect(histogram.counts[0] == 1)
        #expect(histogram.counts[1] == 1)
        #expect(histogram.counts[3] == 2)
        #expect(histogram.counts[4] == 1)
        #expect(histogram.counts[8] == 3)
        #expect(histogram.counts[13] == 1)
        #expect(histogram.counts.last == 1)
        #expect(histogram.counts.reduce(0, +) == 10)
    }

    @Test func latencyAlertStartsOverThresholdAndEndsWhenTheWindowPasses() throws {
        var thresholds = AlertThresholds()
        thresholds.latencyMinimumSamples = 10
        let h = MetricsHarness(thresholds: thresholds)
        let m = h.metrics
        // 100 copies at 2 ms, then 2 at 501 ms: the p99 is the 101st-of-102 sample, over 500 ms.
        for _ in 0..<100 { m.recordCopy(session: "S", tickToCopy: .milliseconds(2), at: h.at(10)) }
        #expect(m.evaluateAlerts(now: h.at(10)).isEmpty)
        m.recordCopy(session: "S", tickToCopy: .milliseconds(501), at: h.at(11))
        m.recordCopy(session: "S", tickToCopy: .milliseconds(501), at: h.at(11))
        let started = m.evaluateAlerts(now: h.at(11), wallTime: Fixture.started)
        let alert = try #require(m.activeAlerts.first)
        #expect(started == [.started(alert)])
        #expect(alert.alert == "tick_to_copy_p99")
        // The 510 ms bucket holds it; the largest sample caps what is reported.
        #expect(alert.value == 501_000)
        #expect(alert.threshold == 500_000)
        #expect(alert.since == Fixture.started)
        #expect(h.sample(#"copybridge_alert_active{alert="tick_to_copy_p99"}"#) == 1)
        #expect(h.sample("copybridge_window_tick_to_copy_p99_seconds") == 0.501)
        #expect(m.summary(now: h.at(11)).alerts == [alert])
        let startLog = try #require(h.log.all.last)
        #expect(startLog.level == .warning)
        #expect(startLog.message.contains("alert started"))
        #expect(startLog.metadata["alert"] == "tick_to_copy_p99")

        // Still firing a while later: no new transition, same start.
        #expect(m.evaluateAlerts(now: h.at(40)).isEmpty)
        #expect(m.activeAlerts.first?.since == Fixture.started)

        // 60 s after the slow copies they leave the window; too few samples remain to judge: the alert ends.
        let ended = m.evaluateAlerts(now: h.at(72), wallTime: Fixture.started.addingTimeInterval(61))
        #expect(ended == [.ended(.tickToCopyLatency, since: Fixture.started, value: nil)])
        #expect(m.activeAlerts.isEmpty)
        #expect(h.sample(#"copybridge_alert_active{alert="tick_to_copy_p99"}"#) == 0)
        let endLog = try #require(h.log.all.last)
        #expect(endLog.level == .notice)
        #expect(endLog.message.contains("alert ended: tick_to_copy_p99 after 61 s"))
    }

    @Test func latencyExactlyAtTheLimitDoesNotAlert() {
        var thresholds = AlertThresholds()
        thresholds.latencyMinimumSamples = 1
        let h = MetricsHarness(thresholds: thresholds)
        for _ in 0..<50 { h.metrics.recordCopy(session: "S", tickToCopy: .milliseconds(500), at: h.at(1)) }
        #expect(h.metrics.evaluateAlerts(now: h.at(1)).isEmpty)
        h.metrics.recordCopy(session: "S", tickToCopy: .milliseconds(500) + .nanoseconds(1), at: h.at(1))
        #expect(h.metrics.evaluateAlerts(now: h.at(1)).count == 1)
    }

    @Test func latencyAlertNeedsTheMinimumSamples() {
        let h = MetricsHarness()  // default minimum 20
        for _ in 0..<19 { h.metrics.recordCopy(session: "S", tickToCopy: .seconds(2), at: h.at(1)) }
        #expect(h.metrics.evaluateAlerts(now: h.at(1)).isEmpty)
        h.metrics.recordCopy(session: "S", tickToCopy: .seconds(2), at: h.at(1))
        #expect(h.metrics.evaluateAlerts(now: h.at(1)).count == 1)
    }

    @Test func fillRateAlertStartsUnder99PercentAndEndsWhenItRecovers() throws {
        let h = MetricsHarness()
        let m = h.metrics
        for _ in 0..<99 { m.recordOrderFilled(session: "S", latency: .milliseconds(5), slippageBps: nil, at: h.at(1)) }
        m.recordOrderRejected(session: "S", at: h.at(1))
        // Exactly 99 %: not under.
        #expect(m.evaluateAlerts(now: h.at(1)).isEmpty)
        m.recordOrderUnfilled(session: "S", at: h.at(2))
        let started = m.evaluateAlerts(now: h.at(2))
        #expect(started.count == 1)
        let alert = try #require(m.activeAlerts.first)
        #expect(alert.alert == "fill_rate")
        #expect(alert.value == 99.0 / 101.0)
        #expect(alert.threshold == 0.99)
        #expect(alert.message == "fill rate 98.02 % is under 99 %")
        #expect(h.sample(#"copybridge_alert_active{alert="fill_rate"}"#) == 1)
        #expect(h.sample("copybridge_window_fill_ratio") == 99.0 / 101.0)

        // Fills bring it back to 99 % (198 of 200).
        for _ in 0..<99 { m.recordOrderFilled(session: "S", latency: .milliseconds(5), slippageBps: nil, at: h.at(3)) }
        let ended = m.evaluateAlerts(now: h.at(3))
        guard case .ended(.fillRate, _, let value)? = ended.first else {
            Issue.record("expected the fill-rate alert to end, got \(ended)")
            return
        }
        #expect(value == 0.99)
        #expect(h.sample(#"copybridge_alert_active{alert="fill_rate"}"#) == 0)
        #expect(h.log.all.map(\.message).contains { $0.contains("alert ended: fill_rate") })
    }

    @Test func errorRateAlertStartsOverOneInAThousand() throws {
        let h = MetricsHarness()
        let m = h.metrics
        for _ in 0..<1_000 { m.recordOrderSent(session: "S", at: h.at(1)) }
        m.recordError(session: "S", kind: "business_reject", at: h.at(1))
        // 1 in 1000 is 0.1 %: not over.
        #expect(m.evaluateAlerts(now: h.at(1)).isEmpty)
        m.recordError(session: "S", kind: "business_reject", at: h.at(2))
        #expect(m.evaluateAlerts(now: h.at(2)).count == 1)
        #expect(m.activeAlerts.map(\.alert) == ["error_rate"])
        #expect(h.sample(#"copybridge_alert_active{alert="error_rate"}"#) == 1)
        #expect(h.sample(#"copybridge_errors_total{session="S",kind="business_reject"}"#) == 2)
        // After the 300 s window, the orders and errors are gone: too few orders to judge, the alert ends.
        #expect(m.evaluateAlerts(now: h.at(303)).count == 1)
        #expect(m.activeAlerts.isEmpty)
    }

    @Test func windowSizesAreConfigurable() {
        var thresholds = AlertThresholds()
        thresholds.fillRateWindow = .seconds(10)
        thresholds.fillRateMinimumOrders = 1
        let h = MetricsHarness(thresholds: thresholds)
        h.metrics.recordOrderRejected(session: "S", at: h.at(0))
        #expect(h.metrics.evaluateAlerts(now: h.at(0)).count == 1)
        #expect(h.metrics.summary(now: h.at(9.5)).window.orderOutcomes == 1)
        #expect(h.metrics.summary(now: h.at(10.5)).window.orderOutcomes == 0)
        #expect(h.metrics.evaluateAlerts(now: h.at(10.5)).count == 1)
        #expect(h.metrics.activeAlerts.isEmpty)
    }

    @Test func separateMetricsDoNotShareSeries() {
        let a = MetricsHarness()
        let b = MetricsHarness()
        a.metrics.recordOrderSent(session: "A", at: a.at(0))
        #expect(a.sample(#"copybridge_orders_total{session="A"}"#) == 1)
        #expect(b.sample(#"copybridge_orders_total{session="A"}"#) == nil)
    }
}

@Suite("Alert monitor")
struct AlertMonitorTests {
    @Test(.timeLimit(.minutes(1))) func evaluatesPeriodicallyAndReportsTransitions() async throws {
        var thresholds = AlertThresholds()
        thresholds.fillRateMinimumOrders = 1
        let registry = PrometheusCollectorRegistry()
        let metrics = CopyBridgeMetrics(
            factory: CopyBridgeMetrics.makePrometheusFactory(registry: registry), thresholds: thresholds)
        let (reports, continuation) = AsyncStream.makeStream(of: [AlertTransition].self)
        let monitor = AlertMonitor(metrics: metrics, interval: .milliseconds(10)) { continuation.yield($0) }
        let services = ServiceGroup(
            configuration: .init(services: [monitor], gracefulShutdownSignals: [], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = reports.makeAsyncIterator()
            // Nothing calls evaluateAlerts here but the monitor: the reports prove it runs periodically.
            metrics.recordOrderRejected(session: "S")
            let started = try #require(await iterator.next())
            #expect(started.count == 1)
            #expect(metrics.activeAlerts.map(\.alert) == ["fill_rate"])
            for _ in 0..<99 { metrics.recordOrderFilled(session: "S", latency: .milliseconds(1), slippageBps: nil) }
            let ended = await iterator.next()
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            guard case .ended(.fillRate, _, _)? = ended?.first else {
                Issue.record("expected the fill-rate alert to end, got \(String(describing: ended))")
                return
            }
            #expect(metrics.activeAlerts.isEmpty)
        }
    }
}
