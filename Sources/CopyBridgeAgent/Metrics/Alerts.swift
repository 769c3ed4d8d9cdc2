import Foundation

/// The alerts the agent raises on its own figures.
public enum AlertKind: String, Sendable, CaseIterable, Codable {
    /// The 99th percentile of tick-to-copy latency over the latency window is above the limit.
    case tickToCopyLatency = "tick_to_copy_p99"
    /// Filled orders over orders that reached an outcome, over the fill window, is below the floor.
    case fillRate = "fill_rate"
    /// Errors over orders sent, over the error window, is above the ceiling.
    case errorRate = "error_rate"
}

/// Where alerts start and over which windows they are judged; defaults are the operators' thresholds.
///
/// A window with fewer samples than its minimum is not judged (an alert on it ends): one slow copy
/// after a quiet night is not a p99.
public struct AlertThresholds: Sendable, Equatable {
    /// `tick_to_copy_p99` starts when the p99 is strictly above this.
    public var latencyP99Limit: Duration = .milliseconds(500)
    public var latencyWindow: Duration = .seconds(60)
    public var latencyMinimumSamples = 20
    /// `fill_rate` starts when the fill rate is strictly below this fraction.
    public var fillRateFloor = 0.99
    public var fillRateWindow: Duration = .seconds(300)
    public var fillRateMinimumOrders = 20
    /// `error_rate` starts when errors per order sent is strictly above this fraction.
    public var errorRateCeiling = 0.001
    public var errorRateWindow: Duration = .seconds(300)
    public var errorRateMinimumOrders = 20
    /// The granularity of the windows: a window of W covers between W − slice and W.
    public var sliceDuration: Duration = .seconds(1)

    public init() {}

    /// The longest window, which sets how much history is kept.
    var retention: Duration { max(latencyWindow, fillRateWindow, errorRateWindow) }
}

/// An alert starting or ending.
public enum AlertTransition: Sendable, Equatable {
    case started(AlertSnapshot)
    /// The alert, when it started and the figure now (`nil` when the window no longer has enough samples).
    case ended(AlertKind, since: Date, value: Double?)
}

/// Decides which alerts are active from the windowed figures. A value: no clock, no logging.
struct AlertEvaluator: Sendable {
    let thresholds: AlertThresholds
    private(set) var active: [AlertKind: AlertSnapshot] = [:]

    init(thresholds: AlertThresholds) {
        self.thresholds = thresholds
    }

    /// The alerts active now, in ``AlertKind`` order.
    var activeAlerts: [AlertSnapshot] {
        AlertKind.allCases.compactMap { active[$0] }
    }

    /// The breach of each alert: its value and threshold when breached, the value alone when within, and
    /// `nil` when there are too few samples to judge.
    func judge(_ kind: AlertKind, _ figures: WindowFigures) -> (value: Double, threshold: Double, breached: Bool)? {
        switch kind {
        case .tickToCopyLatency:
            guard let p99 = figures.latencyP99Micros, figures.latencySamples >= thresholds.latencyMinimumSamples
            else { return nil }
            let limit = Double(thresholds.latencyP99Limit / .microseconds(1))
            return (Double(p99), limit, Double(p99) > limit)
        case .fillRate:
            guard let rate = figures.fillRate, figures.orderOutcomes >= thresholds.fillRateMinimumOrders
            else { return nil }
            return (rate, thresholds.fillRateFloor, rate < thresholds.fillRateFloor)
        case .errorRate:
            guard let rate = figures.errorRate, figures.ordersSent >= thresholds.errorRateMinimumOrders
            else { return nil }
            return (rate, thresholds.errorRateCeiling, rate > thresholds.errorRateCeiling)
        }
    }

    mutating func evaluate(_ figures: WindowFigures, wallTime: Date) -> [AlertTransition] {
        var transitions: [AlertTransition] = []
        for kind in AlertKind.allCases {
            let verdict = judge(kind, figures)
            switch (active[kind], verdict) {
            case (nil, let verdict?) where verdict.breached:
                let alert = AlertSnapshot(
                    alert: kind.rawValue,
                    message: Self.message(kind, value: verdict.value, threshold: verdict.threshold),
                    since: wallTime, value: verdict.value, threshold: verdict.threshold)
                active[kind] = alert
                transitions.append(.started(alert))
            case (var alert?, let verdict?) where verdict.breached:
                // Still firing: keep the start time, show the current figure.
                alert.value = verdict.value
                alert.message = Self.message(kind, value: verdict.value, threshold: verdict.threshold)
                active[kind] = alert
            case (let alert?, let verdict):
                active[kind] = nil
                transitions.append(.ended(kind, since: alert.since, value: verdict?.value))
            case (nil, _):
                break
            }
        }
        return transitions
    }

    static func message(_ kind: AlertKind, value: Double, threshold: Double) -> String {
        switch kind {
        case .tickToCopyLatency:
            return "tick-to-copy p99 \(formatMicros(value)) is over \(formatMicros(threshold))"
        case .fillRate:
            return "fill rate \(formatPercent(value)) is under \(formatPercent(threshold))"
        case .errorRate:
            return "error rate \(formatPercent(value)) is over \(formatPercent(threshold))"
        }
    }

    static func formatMicros(_ micros: Double) -> String {
        if micros >= 1_000_000 { return "\(trimmed(micros / 1_000_000)) s" }
        if micros >= 1_000 { return "\(trimmed(micros / 1_000)) ms" }
        return "\(trimmed(micros)) µs"
    }

    static func formatPercent(_ fraction: Double) -> String {
        "\(trimmed(fraction * 100)) %"
    }

    /// At most three decimals, no trailing zeros, independent of the host's locale.
    static func trimmed(_ value: Double) -> String {
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
