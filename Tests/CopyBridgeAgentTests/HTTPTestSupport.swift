import FIXCore
import FIXSession
import Foundation
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing

@testable import CopyBridgeAgent

/// A state source whose snapshot the test sets.
final class FakeStateSource: AgentStateSource {
    private let current: Mutex<AgentSnapshot>
    private let served = Atomic<Int>(0)

    init(_ snapshot: AgentSnapshot) {
        current = Mutex(snapshot)
    }

    func snapshot() async -> AgentSnapshot {
        served.add(1, ordering: .relaxed)
        return current.withLock { $0 }
    }

    var snapshotsServed: Int { served.load(ordering: .relaxed) }

    func set(_ snapshot: AgentSnapshot) {
        current.withLock { $0 = snapshot }
    }

    func update(_ change: (inout AgentSnapshot) -> Void) {
        current.withLock { change(&$0) }
    }
}

/// A command handler that acts on a ``FakeStateSource`` the way the agent would, and records every call.
final class FakeCommandHandler: AdminCommandHandler {
    struct Call: Equatable {
        var command: AdminCommand
        var actor: String
        var reason: String?
    }

    let source: FakeStateSource
    private let recorded = Mutex<[Call]>([])

    init(source: FakeStateSource) {
        self.source = source
    }

    var calls: [Call] { recorded.withLock { $0 } }

    /// Moves a follower to `wanted` (`nil`: leaves its state) and answers with it.
    private func setFollower(
        _ id: String, to wanted: FollowerSnapshot.State?, command: AdminCommand, reason: String?
    ) throws -> AdminCommandResult {
        var changed: FollowerSnapshot?
        var outcome = AdminCommandResult.Outcome.unchanged
        source.update { snapshot in
            guard let i = snapshot.followers.firstIndex(where: { $0.id == id }) else { return }
            if let wanted, snapshot.followers[i].state != wanted {
                outcome = .applied
                snapshot.followers[i].state = wanted
                snapshot.followers[i].reason = wanted == .paused ? reason : nil
            }
            changed = snapshot.followers[i]
        }
        guard let changed else { throw AdminCommandError.unknownFollower(id) }
        return AdminCommandResult(outcome: outcome, message: "\(command.name) \(id)", follower: changed)
    }

    func handle(_ command: AdminCommand, actor: String, reason: String?) async throws -> AdminCommandResult {
        recorded.withLock { $0.append(Call(command: command, actor: actor, reason: reason)) }
        switch command {
        case .status, .resync:
            return AdminCommandResult(outcome: .unchanged, message: "running")
        case .pause(let id): return try setFollower(id, to: .paused, command: command, reason: reason)
        case .resume(let id): return try setFollower(id, to: .active, command: command, reason: reason)
        case .flatten(let id): return try setFollower(id, to: nil, command: command, reason: reason)
        case .disable(let id, _), .enable(let id):
            var changed: ProviderSnapshot?
            source.update { snapshot in
                guard let i = snapshot.providers.firstIndex(where: { $0.id == id }) else { return }
                if case .disable = command {
                    snapshot.providers[i].state = .disabled
                } else {
                    snapshot.providers[i].state = .active
                }
                changed = snapshot.providers[i]
            }
            guard let changed else { throw AdminCommandError.unknownProvider(id) }
            return AdminCommandResult(outcome: .applied, message: "\(command)", provider: changed)
        case .resetBreaker(let name):
            throw AdminCommandError.refused("breaker \(name) is not tripped")
        }
    }
}

/// Builds snapshots whose figures depend on `version`, so a test can tell two loads apart.
enum Fixture {
    static let started = Date(timeIntervalSince1970: 1_760_000_000)

    static func snapshot(version: Int, metrics: MetricsSummary? = nil) -> AgentSnapshot {
        let t = started.addingTimeInterval(3_600)
        let equity = FixedDecimal(mantissa: Int128(1_025_075 + 12_525 * version), scale: 2)  // 10250.75 + 125.25 v
        func point(_ i: Int, cents: Int) -> EquityCurve.Point {
            EquityCurve.Point(
                time: started.addingTimeInterval(Double(i) * 60),
                equity: FixedDecimal(mantissa: Int128(cents), scale: 2))
        }
        let curvePoints: [EquityCurve.Point] = (0..<20).map { (i: Int) -> EquityCurve.Point in
            let cents: Int = 1_000_000 + i * 1_500 + (i % 3) * 900 + version * 700
            return point(i, cents: cents)
        }
        let providerPoints: [EquityCurve.Point] = (0..<20).map { (i: Int) -> EquityCurve.Point in
            let cents: Int = 5_000_000 - i * 2_000 + (i % 4) * 1_100
            return point(i, cents: cents)
        }
        return AgentSnapshot(
            generatedAt: t.addingTimeInterval(Double(version)),
            agent: AgentInfo(
                name: "copybridge-test", version: "0.1.0", startedAt: started, dashboardRefreshMs: 500, mode: "paper"),
            sessions: [
                SessionSnapshot(
                    name: "DROPCOPY", identity: "FIX.4.4:CB->BROKERA", role: "drop-copy", state: .loggedOn,
                    nextSenderSeqNum: 40 + version, nextTargetSeqNum: 212 + version, broker: "Broker A"),
                SessionSnapshot(
                    name: "ORDERS-B", identity: "FIX.4.4:CB->BROKERB", role: "orders", state: .connecting,
                    detail: "reconnecting in 5 s", nextSenderSeqNum: 7, nextTargetSeqNum: 5, broker: "Broker B"),
            ],
            providers: [
                ProviderSnapshot(
                    id: "P1", session: "DROPCOPY", state: .active,
                    positions: [
                        PositionSnapshot(symbol: "EURUSD", quantity: 100_000, averagePrice: FixedDecimal("1.08512"))
                    ],
                    statistics: ProviderStatistics(
                        timeWeightedReturn: FixedDecimal("0.0734")!, maxDrawdown: FixedDecimal("0.0412")!,
                        winRate: FixedDecimal("0.58")!, profitFactor: FixedDecimal("1.74")!, trades: 120 + version))
            ],
            followers: [
                FollowerSnapshot(
                    id: "F1", providers: ["P1"], session: "ORDERS-B", state: .active,
                    positions: [
                        PositionSnapshot(symbol: "EURUSD", quantity: 50_000, averagePrice: FixedDecimal("1.08530"))
                    ],
                    equity: equity, realizedPnL: FixedDecimal("312.40")!, unrealizedPnL: FixedDecimal("-41.15")!,
                    feesAccrued: FixedDecimal("15.62")!, feesCharged: FixedDecimal("120.00")!),
                FollowerSnapshot(
                    id: "F2", providers: ["P1"], session: "ORDERS-B", state: .tripped, reason: "daily loss limit",
                    equity: FixedDecimal("4870.10")!),
            ],
            breakers: [BreakerSnapshot(name: "F2-daily-loss", tripped: true, reason: "daily loss limit", since: t)],
            recentCopies: [
                CopySnapshot(
                    time: t, providerExecID: "EX-\(1000 + version)", provider: "P1", follower: "F1", symbol: "EURUSD",
                    side: .buy, quantity: 50_000, averagePrice: FixedDecimal("1.08530"),
                    providerPrice: FixedDecimal("1.08512")!,
                    slippageBps: FixedDecimal("1.66"), tickToCopyMicros: 850 + version, status: .filled),
                CopySnapshot(
                    time: t.addingTimeInterval(-30), providerExecID: "EX-0999", provider: "P1", follower: "F2",
                    symbol: "EURUSD", side: .sell, quantity: 20_000, providerPrice: FixedDecimal("1.08400")!,
                    status: .skipped, reason: "breaker_tripped"),
            ],
            equityCurves: [
                EquityCurve(owner: .provider, id: "P1", points: providerPoints),
                EquityCurve(owner: .follower, id: "F1", points: curvePoints),
                EquityCurve(owner: .follower, id: "F2", points: []),
            ],
            metrics: metrics ?? metricsSummary(version: version))
    }

    static func metricsSummary(version: Int) -> MetricsSummary {
        let bounds = CopyBridgeMetrics.latencyBucketBoundsMicros
        var counts = Array(repeating: 0, count: bounds.count + 1)
        counts[3] = 4
        counts[4] = 30 + version
        counts[5] = 12
        counts[8] = 2
        counts[13] = 1
        return MetricsSummary(
            latencyHistogram: LatencyHistogramSnapshot(upperBoundsMicros: bounds, counts: counts),
            totals: TotalsSnapshot(
                signals: 1_230 + version, copies: 49 + version, skips: 3, skipsByReason: ["breaker_tripped": 3],
                ordersSent: 49 + version, fills: 48 + version, rejects: 1, fillRate: 0.98, rejectRate: 0.02,
                p50LatencyMicros: 1_000, p99LatencyMicros: 25_000),
            window: WindowFigures(
                latencyP99Micros: 25_000, latencySamples: 49, fillRate: 0.98, orderOutcomes: 49, errorRate: 0,
                ordersSent: 49),
            alerts: [
                AlertSnapshot(
                    alert: "fill_rate", message: "fill rate 98 % is under 99 %",
                    since: started.addingTimeInterval(3_000),
                    value: 0.98, threshold: 0.99)
            ])
    }
}

/// Runs an ``AgentHTTPServer`` on loopback port 0 for the duration of `body`.
func withServer<T: Sendable>(
    _ configuration: AdminHTTPConfiguration = AdminHTTPConfiguration(port: 0, token: SecretString(testToken)),
    source: FakeStateSource, handler: (any AdminCommandHandler)? = nil,
    registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    _ body: @Sendable (_ port: Int) async throws -> T
) async throws -> T {
    var logger = Logger(label: "test.http")
    logger.logLevel = .error
    let (addresses, continuation) = AsyncStream.makeStream(of: SocketAddress.self)
    let server = try AgentHTTPServer(
        configuration: configuration, stateSource: source,
        commandHandler: handler ?? FakeCommandHandler(source: source),
        registry: registry, logger: logger, onListening: { continuation.yield($0) })
    // A service group so the server stops gracefully, as it would in the agent, instead of being cancelled.
    let services = ServiceGroup(configuration: .init(services: [server], gracefulShutdownSignals: [], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await services.run() }
        let result: Result<T, any Error>
        do {
            var iterator = addresses.makeAsyncIterator()
            let port = try #require(await iterator.next()?.port)
            result = .success(try await body(port))
        } catch {
            result = .failure(error)
        }
        await services.triggerGracefulShutdown()
        try await group.waitForAll()
        return try result.get()
    }
}

let testToken = "test-token-0123456789abcdef"
