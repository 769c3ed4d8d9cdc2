import CoreMetrics
import FIXCore
import Foundation
import Logging
import Metrics
import Synchronization

/// The agent's metrics: every series it exports, the windowed figures alerts are judged on, and the
/// alerts themselves.
///
/// Records go to a swift-metrics factory (a ``PrometheusMetricsFactory`` made by
/// ``makePrometheusFactory(registry:)`` for `/metrics`) and into in-memory windows. Nothing here touches
/// the global `MetricsSystem`: tests make their own registry; the executable may call
/// ``bootstrap(registry:thresholds:logger:)``. All methods are safe to call from any thread; recording
/// is a lock and a few additions.
///
/// Series (Prometheus names):
/// - `copybridge_tick_to_copy_seconds` histogram: provider fill arrival to copy order sent
/// - `copybridge_order_ack_seconds{session}`, `copybridge_order_fill_seconds{session}` histograms
/// - `copybridge_slippage_bps{session}` histogram (positive: worse than the provider)
/// - `copybridge_signals_total{provider}`, `copybridge_copies_total{session}`, `copybridge_skips_total{reason}`
/// - `copybridge_decisions_total{reason}` (every engine decision: skips, clamps, retries, settlements...),
///   `copybridge_degradations_total{reason}` (followers degraded, by cause: `retry-exhausted`, ...)
/// - `copybridge_orders_total{session}`, `copybridge_fills_total{session}`, `copybridge_rejects_total{session}`,
///   `copybridge_unfilled_total{session}`, `copybridge_errors_total{session,kind}`
/// - `copybridge_session_state{session,state}` (1 for the current state), `copybridge_session_next_sender_seqnum`,
///   `copybridge_session_next_target_seqnum`
/// - `copybridge_followers{state}`, `copybridge_providers{state}`
/// - `copybridge_window_tick_to_copy_p99_seconds`, `copybridge_window_fill_ratio`, `copybridge_window_error_ratio`
///   (NaN when the window has too few samples), `copybridge_alert_active{alert}`
/// - `copybridge_ledger_backlog`: inputs handed to the ledger and not recorded yet
public final class CopyBridgeMetrics: Sendable {
    /// Bucket bounds of the tick-to-copy histogram (Prometheus and dashboard), in microseconds.
    public static let latencyBucketBoundsMicros = [
        50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
        2_500_000, 5_000_000, 10_000_000,
    ]
    /// Bucket bounds of the acknowledgement and fill latency histograms, in microseconds.
    public static let brokerLatencyBucketBoundsMicros = [
        500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000,
        10_000_000, 30_000_000, 60_000_000, 300_000_000,
    ]
    /// Bucket bounds of the slippage histogram, in basis points.
    public static let slippageBucketsBps: [Double] = [-50, -20, -10, -5, -2, -1, 0, 1, 2, 5, 10, 20, 50, 100]

    enum Label {
        static let tickToCopy = "copybridge_tick_to_copy_seconds"
        static let ack = "copybridge_order_ack_seconds"
        static let fill = "copybridge_order_fill_seconds"
        static let slippage = "copybridge_slippage_bps"
        static let signals = "copybridge_signals_total"
        static let copies = "copybridge_copies_total"
        static let skips = "copybridge_skips_total"
        static let decisions = "copybridge_decisions_total"
        static let degradations = "copybridge_degradations_total"
        static let orders = "copybridge_orders_total"
        static let fills = "copybridge_fills_total"
        static let rejects = "copybridge_rejects_total"
        static let unfilled = "copybridge_unfilled_total"
        static let errors = "copybridge_errors_total"
        static let sessionState = "copybridge_session_state"
        static let nextSender = "copybridge_session_next_sender_seqnum"
        static let nextTarget = "copybridge_session_next_target_seqnum"
        static let followers = "copybridge_followers"
        static let providers = "copybridge_providers"
        static let ledgerBacklog = "copybridge_ledger_backlog"
        static let windowP99 = "copybridge_window_tick_to_copy_p99_seconds"
        static let windowFill = "copybridge_window_fill_ratio"
        static let windowError = "copybridge_window_error_ratio"
        static let alertActive = "copybridge_alert_active"
    }

    /// A class: every order, ack and fill takes its session's series out of the lock, and a
    /// struct of eleven handles cost eleven retains and releases each time.
    private final class SessionSeries: Sendable {
        let orders: Counter
        let fills: Counter
        let rejects: Counter
        let unfilled: Counter
        let copies: Counter
        let ack: CoreMetrics.Timer
        let fill: CoreMetrics.Timer
        let slippage: Recorder
        let state: [SessionSnapshot.State: Gauge]
        let nextSender: Gauge
        let nextTarget: Gauge

        /// The series of `session`, made by `factory`.
        init(session: String, factory: any MetricsFactory) {
            let label = [("session", session)]
            orders = Counter(label: Label.orders, dimensions: label, factory: factory)
            fills = Counter(label: Label.fills, dimensions: label, factory: factory)
            rejects = Counter(label: Label.rejects, dimensions: label, factory: factory)
            unfilled = Counter(label: Label.unfilled, dimensions: label, factory: factory)
            copies = Counter(label: Label.copies, dimensions: label, factory: factory)
            ack = CoreMetrics.Timer(label: Label.ack, dimensions: label, factory: factory)
            fill = CoreMetrics.Timer(label: Label.fill, dimensions: label, factory: factory)
            slippage = Recorder(label: Label.slippage, dimensions: label, aggregate: true, factory: factory)
            state = Dictionary(
                uniqueKeysWithValues: SessionSnapshot.State.allCases.map {
                    (
                        $0,
                        Gauge(label: Label.sessionState, dimensions: label + [("state", $0.rawValue)], factory: factory)
                    )
                })
            nextSender = Gauge(label: Label.nextSender, dimensions: label, factory: factory)
            nextTarget = Gauge(label: Label.nextTarget, dimensions: label, factory: factory)
        }
    }

    private struct Totals: Sendable {
        var signals = 0
        var copies = 0
        var skipsByReason: [String: Int] = [:]
        var counts = SlidingWindow.Counts()
    }

    private struct State: Sendable {
        var window: SlidingWindow
        var evaluator: AlertEvaluator
        var latency = LatencyBuckets()
        var totals = Totals()
        var sessions: [String: SessionSeries] = [:]
        var signalCounters: [String: Counter] = [:]
        var skipCounters: [String: Counter] = [:]
        var decisionCounters: [String: Counter] = [:]
        var degradationCounters: [String: Counter] = [:]
        var errorCounters: [String: [String: Counter]] = [:]
    }

    public let thresholds: AlertThresholds
    private let factory: any MetricsFactory
    private let logger: Logger
    private let state: Mutex<State>
    private let tickToCopy: CoreMetrics.Timer
    private let followerGauges: [FollowerSnapshot.State: Gauge]
    private let providerGauges: [ProviderSnapshot.State: Gauge]
    private let windowP99: Gauge
    private let windowFill: Gauge
    private let windowError: Gauge
    private let alertGauges: [AlertKind: Gauge]
    private let ledgerBacklog: Gauge

    /// - Parameters:
    ///   - factory: Where series are created; not the global `MetricsSystem` unless the caller passes it.
    ///   - now: The origin of the windows.
    public init(
        factory: any MetricsFactory, thresholds: AlertThresholds = AlertThresholds(),
        logger: Logger = Logger(label: "copybridge.metrics"), now: ContinuousClock.Instant = .now
    ) {
        self.factory = factory
        self.thresholds = thresholds
        self.logger = logger
        self.state = Mutex(
            State(
                window: SlidingWindow(
                    origin: now, sliceDuration: thresholds.sliceDuration, retention: thresholds.retention),
                evaluator: AlertEvaluator(thresholds: thresholds)))
        tickToCopy = CoreMetrics.Timer(label: Label.tickToCopy, dimensions: [], factory: factory)
        followerGauges = Dictionary(
            uniqueKeysWithValues: FollowerSnapshot.State.allCases.map {
                ($0, Gauge(label: Label.followers, dimensions: [("state", $0.rawValue)], factory: factory))
            })
        providerGauges = Dictionary(
            uniqueKeysWithValues: ProviderSnapshot.State.allCases.map {
                ($0, Gauge(label: Label.providers, dimensions: [("state", $0.rawValue)], factory: factory))
            })
        windowP99 = Gauge(label: Label.windowP99, dimensions: [], factory: factory)
        windowFill = Gauge(label: Label.windowFill, dimensions: [], factory: factory)
        windowError = Gauge(label: Label.windowError, dimensions: [], factory: factory)
        alertGauges = Dictionary(
            uniqueKeysWithValues: AlertKind.allCases.map {
                ($0, Gauge(label: Label.alertActive, dimensions: [("alert", $0.rawValue)], factory: factory))
            })
        ledgerBacklog = Gauge(label: Label.ledgerBacklog, dimensions: [], factory: factory)
        // Every series an alert rule or a dashboard panel reads exists from the start, at zero or NaN.
        for gauge in followerGauges.values { gauge.record(0) }
        for gauge in providerGauges.values { gauge.record(0) }
        for gauge in alertGauges.values { gauge.record(0) }
        ledgerBacklog.record(0)
        for gauge in [windowP99, windowFill, windowError] { gauge.record(Double.nan) }
    }

    // MARK: - Recording

    /// A provider fill was detected (a signal), whether or not anything is copied.
    public func recordSignal(provider: String, at now: ContinuousClock.Instant = .now) {
        let counter = state.withLock { state in
            state.totals.signals += 1
            return state.signalCounters.cached(provider) {
                Counter(label: Label.signals, dimensions: [("provider", provider)], factory: factory)
            }
        }
        counter.increment()
    }

    /// A copy for one follower left for `session`, `tickToCopy` after its provider fill arrived.
    public func recordCopy(session: String, tickToCopy latency: Duration, at now: ContinuousClock.Instant = .now) {
        let micros = Self.micros(latency)
        let series = state.withLock { state in
            state.totals.copies += 1
            state.latency.record(micros: micros)
            state.window.addLatency(micros: micros, at: now)
            return sessionSeries(for: session, in: &state)
        }
        series.copies.increment()
        tickToCopy.record(duration: latency)
    }

    /// A follower was not copied (or not fully): `reason` is the machine-readable code.
    public func recordSkip(reason: String, at now: ContinuousClock.Instant = .now) {
        let counter = state.withLock { state in
            state.totals.skipsByReason[reason, default: 0] += 1
            return state.skipCounters.cached(reason) {
                Counter(label: Label.skips, dimensions: [("reason", reason)], factory: factory)
            }
        }
        counter.increment()
    }

    /// The engine decided something, for `reason` (a ``ReasonCode`` raw value): every decision counts,
    /// skips among them, so that retries, re-plans and settlements have a series too.
    public func recordDecision(reason: String) {
        increment(\.decisionCounters, Label.decisions, reason: reason)
    }

    /// A follower was degraded, for `reason`: what stopped his orders (`retry-exhausted`,
    /// `attempts-exhausted`, `settlement-timeout`), which the `follower-degraded` decision names only
    /// in its text.
    public func recordDegradation(reason: String) {
        increment(\.degradationCounters, Label.degradations, reason: reason)
    }

    /// Increments the counter `label{reason}`, kept in `counters`.
    private func increment(_ counters: WritableKeyPath<State, [String: Counter]>, _ label: String, reason: String) {
        let counter = state.withLock { state in
            state[keyPath: counters].cached(reason) {
                Counter(label: label, dimensions: [("reason", reason)], factory: factory)
            }
        }
        counter.increment()
    }

    /// A NewOrderSingle went out on `session` (the denominator of the error rate).
    public func recordOrderSent(session: String, at now: ContinuousClock.Instant = .now) {
        let series = record(session: session, at: now) { $0.ordersSent += 1 }
        series.orders.increment()
    }

    /// The broker acknowledged an order (first ExecutionReport), `latency` after it was sent.
    public func recordOrderAcknowledged(session: String, latency: Duration) {
        let series = state.withLock { sessionSeries(for: session, in: &$0) }
        series.ack.record(duration: latency)
    }

    /// An order was completely filled, `latency` after it was sent, `slippageBps` from the provider's price.
    public func recordOrderFilled(
        session: String, latency: Duration, slippageBps: FixedDecimal?, at now: ContinuousClock.Instant = .now
    ) {
        let series = record(session: session, at: now) { $0.fills += 1 }
        series.fills.increment()
        series.fill.record(duration: latency)
        if let slippageBps { series.slippage.record(slippageBps.doubleValue) }
    }

    /// The broker rejected an order.
    public func recordOrderRejected(session: String, at now: ContinuousClock.Instant = .now) {
        let series = record(session: session, at: now) { $0.rejects += 1 }
        series.rejects.increment()
    }

    /// An order ended (cancelled, expired, done for day) without being completely filled.
    public func recordOrderUnfilled(session: String, at now: ContinuousClock.Instant = .now) {
        let series = record(session: session, at: now) { $0.unfilled += 1 }
        series.unfilled.increment()
    }

    /// Something went wrong on `session`: a session-level reject, a business reject, a send failure...
    /// `kind` is a short code (`session_reject`, `send_failed`).
    public func recordError(session: String, kind: String, at now: ContinuousClock.Instant = .now) {
        let counter = state.withLock { state in
            var add = SlidingWindow.Counts()
            add.errors = 1
            state.totals.counts += add
            state.window.add(add, at: now)
            return state.errorCounters[session, default: [:]].cached(kind) {
                Counter(label: Label.errors, dimensions: [("session", session), ("kind", kind)], factory: factory)
            }
        }
        counter.increment()
    }

    /// The state and sequence numbers of a session, whenever they change.
    public func updateSession(
        _ session: String, state sessionState: SessionSnapshot.State, nextSenderSeqNum: Int, nextTargetSeqNum: Int
    ) {
        let series = state.withLock { sessionSeries(for: session, in: &$0) }
        for (candidate, gauge) in series.state { gauge.record(candidate == sessionState ? 1 : 0) }
        series.nextSender.record(nextSenderSeqNum)
        series.nextTarget.record(nextTargetSeqNum)
    }

    /// How many followers are in each state (missing states count zero).
    public func updateFollowerCounts(_ counts: [FollowerSnapshot.State: Int]) {
        for (candidate, gauge) in followerGauges { gauge.record(counts[candidate] ?? 0) }
    }

    /// How many providers are in each state (missing states count zero).
    public func updateProviderCounts(_ counts: [ProviderSnapshot.State: Int]) {
        for (candidate, gauge) in providerGauges { gauge.record(counts[candidate] ?? 0) }
    }

    /// How many inputs (fills, orders, marks) the ledger has been handed and not recorded yet. It
    /// stays near zero while the ledger keeps up; one that only grows means its disk or its thread
    /// cannot, and its reports and fee figures fall behind (copying goes on).
    public func updateLedgerBacklog(_ inputs: Int) {
        ledgerBacklog.record(inputs)
    }

    private func record(
        session: String, at now: ContinuousClock.Instant, _ change: (inout SlidingWindow.Counts) -> Void
    ) -> SessionSeries {
        state.withLock { state in
            var add = SlidingWindow.Counts()
            change(&add)
            state.totals.counts += add
            state.window.add(add, at: now)
            return sessionSeries(for: session, in: &state)
        }
    }

    private func sessionSeries(for session: String, in state: inout State) -> SessionSeries {
        if let existing = state.sessions[session] { return existing }
        let created = SessionSeries(session: session, factory: factory)
        state.sessions[session] = created
        return created
    }

    static func micros(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        // Round up so that a latency a hair over a bound is counted above it.
        return Int(seconds) * 1_000_000 + Int((attoseconds + 999_999_999_999) / 1_000_000_000_000)
    }

    // MARK: - Alerts and summary

    /// Judges the alerts on the windows ending `now`, logs the ones that start or end, updates the alert
    /// and window gauges, and returns the transitions. Call it periodically (``AlertMonitor`` does).
    @discardableResult
    public func evaluateAlerts(now: ContinuousClock.Instant = .now, wallTime: Date = Date()) -> [AlertTransition] {
        let (figures, transitions, active) = state.withLock { state in
            let figures = windowFigures(state, now: now)
            let transitions = state.evaluator.evaluate(figures, wallTime: wallTime)
            return (figures, transitions, Set(state.evaluator.active.keys))
        }
        windowP99.record(figures.latencyP99Micros.map { Double($0) / 1_000_000 } ?? .nan)
        windowFill.record(figures.fillRate ?? .nan)
        windowError.record(figures.errorRate ?? .nan)
        for (kind, gauge) in alertGauges { gauge.record(active.contains(kind) ? 1 : 0) }
        for transition in transitions {
            switch transition {
            case .started(let alert):
                logger.warning(
                    "alert started: \(alert.message)",
                    metadata: [
                        "alert": "\(alert.alert)", "value": "\(alert.value)", "threshold": "\(alert.threshold)",
                    ])
            case .ended(let kind, let since, let value):
                let lasted = AlertEvaluator.trimmed(wallTime.timeIntervalSince(since))
                let now = value.map { "\($0)" } ?? "too few samples"
                logger.notice(
                    "alert ended: \(kind.rawValue) after \(lasted) s",
                    metadata: ["alert": "\(kind.rawValue)", "value": "\(now)"])
            }
        }
        return transitions
    }

    /// The alerts active since the last evaluation.
    public var activeAlerts: [AlertSnapshot] {
        state.withLock { $0.evaluator.activeAlerts }
    }

    /// The histogram, totals, windowed figures and active alerts for the snapshot.
    public func summary(now: ContinuousClock.Instant = .now) -> MetricsSummary {
        state.withLock { state in
            let counts = state.totals.counts
            let outcomes = counts.outcomes
            let totals = TotalsSnapshot(
                signals: state.totals.signals, copies: state.totals.copies,
                skips: state.totals.skipsByReason.values.reduce(0, +), skipsByReason: state.totals.skipsByReason,
                ordersSent: counts.ordersSent, fills: counts.fills, rejects: counts.rejects, unfilled: counts.unfilled,
                errors: counts.errors,
                fillRate: outcomes > 0 ? Double(counts.fills) / Double(outcomes) : nil,
                rejectRate: outcomes > 0 ? Double(counts.rejects) / Double(outcomes) : nil,
                p50LatencyMicros: state.latency.quantile(0.5), p99LatencyMicros: state.latency.quantile(0.99))
            let bounds = Self.latencyBucketBoundsMicros
            return MetricsSummary(
                latencyHistogram: LatencyHistogramSnapshot(
                    upperBoundsMicros: bounds, counts: state.latency.coarse(boundsMicros: bounds)),
                totals: totals, window: windowFigures(state, now: now), alerts: state.evaluator.activeAlerts)
        }
    }

    private func windowFigures(_ state: State, now: ContinuousClock.Instant) -> WindowFigures {
        let latency = state.window.latency(over: thresholds.latencyWindow, at: now)
        let fills = state.window.counts(over: thresholds.fillRateWindow, at: now)
        let errors = state.window.counts(over: thresholds.errorRateWindow, at: now)
        return WindowFigures(
            latencyP99Micros: latency.quantile(0.99), latencySamples: latency.total,
            fillRate: fills.outcomes > 0 ? Double(fills.fills) / Double(fills.outcomes) : nil,
            orderOutcomes: fills.outcomes,
            errorRate: errors.ordersSent > 0 ? Double(errors.errors) / Double(errors.ordersSent) : nil,
            ordersSent: errors.ordersSent)
    }
}

extension Dictionary where Value: AnyObject {
    fileprivate mutating func cached(_ key: Key, _ make: () -> Value) -> Value {
        if let existing = self[key] { return existing }
        let created = make()
        self[key] = created
        return created
    }
}
