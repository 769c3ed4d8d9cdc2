import CoreMetrics
import Logging
import Prometheus

extension CopyBridgeMetrics {
    /// A factory over `registry` with the agent's histogram buckets: microseconds to seconds for
    /// tick-to-copy, milliseconds to minutes for broker latencies, basis points for slippage.
    public static func makePrometheusFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            Label.tickToCopy: latencyBucketBoundsMicros.map { .microseconds($0) },
            Label.ack: brokerLatencyBucketBoundsMicros.map { .microseconds($0) },
            Label.fill: brokerLatencyBucketBoundsMicros.map { .microseconds($0) },
        ]
        factory.valueHistogramBuckets = [Label.slippage: slippageBucketsBps]
        return factory
    }

    /// For the executable only: makes `registry`'s factory the global `MetricsSystem` (so libraries'
    /// own metrics, Hummingbird's included, land in `/metrics` too) and returns the agent's metrics on it.
    ///
    /// `MetricsSystem.bootstrap` may be called once per process; library code and tests must use
    /// ``init(factory:thresholds:logger:now:)`` with their own registry instead.
    public static func bootstrap(
        registry: PrometheusCollectorRegistry, thresholds: AlertThresholds = AlertThresholds(),
        logger: Logger = Logger(label: "copybridge.metrics")
    ) -> CopyBridgeMetrics {
        let factory = makePrometheusFactory(registry: registry)
        MetricsSystem.bootstrap(factory)
        return CopyBridgeMetrics(factory: factory, thresholds: thresholds, logger: logger)
    }
}
