import ServiceLifecycle

/// Evaluates the alerts every `interval` so they start and end (windows empty as time passes) without
/// waiting for the next record.
public struct AlertMonitor: Service {
    public let metrics: CopyBridgeMetrics
    public let interval: Duration
    private let onTransitions: @Sendable ([AlertTransition]) async -> Void

    /// - Parameter onTransitions: Called with the alerts that started or ended at an evaluation (never with
    ///   an empty list), e.g. to journal them; they are already logged and in the gauges.
    public init(
        metrics: CopyBridgeMetrics, interval: Duration = .seconds(1),
        onTransitions: @escaping @Sendable ([AlertTransition]) async -> Void = { _ in }
    ) {
        precondition(interval > .zero, "the alert evaluation interval must be positive")
        self.metrics = metrics
        self.interval = interval
        self.onTransitions = onTransitions
    }

    public func run() async throws {
        let clock = ContinuousClock()
        var next = clock.now
        while true {
            let transitions = metrics.evaluateAlerts(now: clock.now)
            if !transitions.isEmpty { await onTransitions(transitions) }
            next = next.advanced(by: interval)
            let deadline = next
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(until: deadline) }
            } catch {
                // Cancelled, or the service group is shutting down.
                return
            }
        }
    }
}
