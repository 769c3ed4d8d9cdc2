import FIXCore
import Foundation

/// Produces what the dashboard and `GET /api/state` show.
///
/// The agent implements it over its sessions, engine and ledger; tests use fakes. It is asked once per
/// request, so it should answer from in-memory state without waiting on I/O.
public protocol AgentStateSource: Sendable {
    func snapshot() async -> AgentSnapshot
}

/// Everything the dashboard shows, at one instant.
///
/// Quantities, prices and money are ``FixedDecimal`` (JSON strings, never binary floats); rates and
/// statistics derived from metrics are `Double`; times are encoded by ``AgentJSON`` as ISO 8601 UTC
/// with milliseconds.
public struct AgentSnapshot: Codable, Sendable, Equatable {
    /// When the snapshot was taken.
    public var generatedAt: Date
    public var agent: AgentInfo
    public var sessions: [SessionSnapshot]
    public var providers: [ProviderSnapshot]
    public var followers: [FollowerSnapshot]
    /// Circuit breakers the risk layer keeps (what `reset-breaker NAME` names).
    public var breakers: [BreakerSnapshot]
    /// The most recent copies, newest first.
    public var recentCopies: [CopySnapshot]
    /// One curve per provider and per follower.
    public var equityCurves: [EquityCurve]
    /// Latency histogram, totals and alerts, from ``CopyBridgeMetrics/summary(now:)``.
    public var metrics: MetricsSummary

    public init(
        generatedAt: Date, agent: AgentInfo, sessions: [SessionSnapshot] = [], providers: [ProviderSnapshot] = [],
        followers: [FollowerSnapshot] = [], breakers: [BreakerSnapshot] = [], recentCopies: [CopySnapshot] = [],
        equityCurves: [EquityCurve] = [], metrics: MetricsSummary = .empty
    ) {
        self.generatedAt = generatedAt
        self.agent = agent
        self.sessions = sessions
        self.providers = providers
        self.followers = followers
        self.breakers = breakers
        self.recentCopies = recentCopies
        self.equityCurves = equityCurves
        self.metrics = metrics
    }
}

/// The agent itself.
public struct AgentInfo: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var startedAt: Date
    /// How often the dashboard polls `/api/state` (the page's `?refresh=` overrides it).
    public var dashboardRefreshMs: Int
    /// Whether the agent trades for real, on paper (simulator), or replays a journal: shown as a badge.
    public var mode: String

    public init(name: String, version: String, startedAt: Date, dashboardRefreshMs: Int = 1000, mode: String) {
        self.name = name
        self.version = version
        self.startedAt = startedAt
        self.dashboardRefreshMs = dashboardRefreshMs
        self.mode = mode
    }
}

// MARK: - Sessions

/// One FIX session to a broker.
public struct SessionSnapshot: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable, CaseIterable {
        case loggedOn = "logged-on"
        case connecting
        case down
    }

    /// The `SessionName` from the settings.
    public var name: String
    /// `FIX.4.4:SENDER->TARGET`.
    public var identity: String
    /// What the agent uses the session for: `drop-copy` (provider fills), `orders` (followers), or both.
    public var role: String
    public var state: State
    /// Why the session is down or still connecting (last error, schedule), when known.
    public var detail: String?
    public var nextSenderSeqNum: Int
    public var nextTargetSeqNum: Int
    /// The broker's name (simulator or real) for display.
    public var broker: String

    public init(
        name: String, identity: String, role: String, state: State, detail: String? = nil, nextSenderSeqNum: Int,
        nextTargetSeqNum: Int, broker: String
    ) {
        self.name = name
        self.identity = identity
        self.role = role
        self.state = state
        self.detail = detail
        self.nextSenderSeqNum = nextSenderSeqNum
        self.nextTargetSeqNum = nextTargetSeqNum
        self.broker = broker
    }
}

// MARK: - Providers and followers

/// A net position in one symbol. Positive quantity is long, negative short.
public struct PositionSnapshot: Codable, Sendable, Equatable {
    public var symbol: String
    public var quantity: FixedDecimal
    /// Average entry price of the open quantity; `nil` when flat.
    public var averagePrice: FixedDecimal?

    public init(symbol: String, quantity: FixedDecimal, averagePrice: FixedDecimal? = nil) {
        self.symbol = symbol
        self.quantity = quantity
        self.averagePrice = averagePrice
    }
}

/// Performance statistics of a provider, as the ledger computes them.
public struct ProviderStatistics: Codable, Sendable, Equatable {
    /// Time-weighted return as a fraction (`0.1234` is 12.34 %).
    public var timeWeightedReturn: FixedDecimal
    /// Maximum drawdown as a positive fraction of the peak.
    public var maxDrawdown: FixedDecimal
    /// Winning closed trades over closed trades, as a fraction; `nil` before the first closed trade.
    public var winRate: FixedDecimal?
    /// Gross profit over gross loss; `nil` while there is no loss.
    public var profitFactor: FixedDecimal?
    public var trades: Int

    public init(
        timeWeightedReturn: FixedDecimal, maxDrawdown: FixedDecimal, winRate: FixedDecimal?,
        profitFactor: FixedDecimal?, trades: Int
    ) {
        self.timeWeightedReturn = timeWeightedReturn
        self.maxDrawdown = maxDrawdown
        self.winRate = winRate
        self.profitFactor = profitFactor
        self.trades = trades
    }

    public static let empty = ProviderStatistics(
        timeWeightedReturn: .zero, maxDrawdown: .zero, winRate: nil, profitFactor: nil, trades: 0)
}

/// A signal provider whose fills are copied.
public struct ProviderSnapshot: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable, CaseIterable {
        case active
        /// Disabled by an operator (`disable PROVIDER`).
        case disabled
        /// Stopped by the agent itself (risk, lost session): ``ProviderSnapshot/reason`` says why.
        case suspended
    }

    public var id: String
    /// The session its fills arrive on.
    public var session: String
    public var state: State
    public var reason: String?
    public var positions: [PositionSnapshot]
    public var statistics: ProviderStatistics

    public init(
        id: String, session: String, state: State, reason: String? = nil, positions: [PositionSnapshot] = [],
        statistics: ProviderStatistics = .empty
    ) {
        self.id = id
        self.session = session
        self.state = state
        self.reason = reason
        self.positions = positions
        self.statistics = statistics
    }
}

/// A follower account and how its copying goes.
public struct FollowerSnapshot: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable, CaseIterable {
        case active
        /// Paused by an operator (`pause FOLLOWER`).
        case paused
        /// Copying with limits (a session down, some symbols refused): ``FollowerSnapshot/reason`` says why.
        case degraded
        /// A circuit breaker tripped: nothing is copied until `reset-breaker`.
        case tripped
    }

    public var id: String
    public var providers: [String]
    /// The broker session its orders go to.
    public var session: String
    public var state: State
    public var reason: String?
    public var positions: [PositionSnapshot]
    public var currency: String
    public var equity: FixedDecimal
    public var realizedPnL: FixedDecimal
    public var unrealizedPnL: FixedDecimal
    /// Fees (management, volume, performance) accrued but not yet charged, over the follower's
    /// subscriptions, from the ledger (0 without one); trails the fills by up to 2 seconds.
    public var feesAccrued: FixedDecimal
    /// Fees charged so far over the follower's subscriptions, from the ledger (0 without one).
    public var feesCharged: FixedDecimal

    public init(
        id: String, providers: [String], session: String, state: State, reason: String? = nil,
        positions: [PositionSnapshot] = [], currency: String = "USD", equity: FixedDecimal,
        realizedPnL: FixedDecimal = .zero, unrealizedPnL: FixedDecimal = .zero, feesAccrued: FixedDecimal = .zero,
        feesCharged: FixedDecimal = .zero
    ) {
        self.id = id
        self.providers = providers
        self.session = session
        self.state = state
        self.reason = reason
        self.positions = positions
        self.currency = currency
        self.equity = equity
        self.realizedPnL = realizedPnL
        self.unrealizedPnL = unrealizedPnL
        self.feesAccrued = feesAccrued
        self.feesCharged = feesCharged
    }
}

/// A named circuit breaker of the risk layer.
public struct BreakerSnapshot: Codable, Sendable, Equatable {
    public var name: String
    public var tripped: Bool
    public var reason: String?
    public var since: Date?

    public init(name: String, tripped: Bool, reason: String? = nil, since: Date? = nil) {
        self.name = name
        self.tripped = tripped
        self.reason = reason
        self.since = since
    }
}

// MARK: - Copies

/// One copy of a provider fill for one follower.
public struct CopySnapshot: Codable, Sendable, Equatable {
    public enum Side: String, Codable, Sendable, CaseIterable {
        case buy
        case sell
    }

    public enum Status: String, Codable, Sendable, CaseIterable {
        /// Sent, not yet acknowledged or filled.
        case pending
        case partiallyFilled = "partially-filled"
        case filled
        case rejected
        /// Not copied: ``CopySnapshot/reason`` holds the reason code.
        case skipped
        /// Cancelled or expired with nothing (more) filled.
        case cancelled
    }

    public var time: Date
    /// The provider fill's ExecID (17) that caused the copy.
    public var providerExecID: String
    public var provider: String
    public var follower: String
    public var symbol: String
    public var side: Side
    public var quantity: FixedDecimal
    /// Average fill price so far; `nil` before the first fill.
    public var averagePrice: FixedDecimal?
    public var providerPrice: FixedDecimal
    /// Signed against the follower: positive means the follower got a worse price than the provider.
    public var slippageBps: FixedDecimal?
    /// From the provider fill's arrival to the copy order leaving, in microseconds.
    public var tickToCopyMicros: Int?
    public var status: Status
    /// Reject text or skip reason code.
    public var reason: String?

    public init(
        time: Date, providerExecID: String, provider: String, follower: String, symbol: String, side: Side,
        quantity: FixedDecimal, averagePrice: FixedDecimal? = nil, providerPrice: FixedDecimal,
        slippageBps: FixedDecimal? = nil, tickToCopyMicros: Int? = nil, status: Status, reason: String? = nil
    ) {
        self.time = time
        self.providerExecID = providerExecID
        self.provider = provider
        self.follower = follower
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.averagePrice = averagePrice
        self.providerPrice = providerPrice
        self.slippageBps = slippageBps
        self.tickToCopyMicros = tickToCopyMicros
        self.status = status
        self.reason = reason
    }
}

// MARK: - Equity curves

/// Equity over time of one provider or follower.
public struct EquityCurve: Codable, Sendable, Equatable {
    public enum Owner: String, Codable, Sendable, CaseIterable {
        case provider
        case follower
    }

    public struct Point: Codable, Sendable, Equatable {
        public var time: Date
        public var equity: FixedDecimal

        public init(time: Date, equity: FixedDecimal) {
            self.time = time
            self.equity = equity
        }
    }

    public var owner: Owner
    public var id: String
    /// In time order.
    public var points: [Point]

    public init(owner: Owner, id: String, points: [Point]) {
        self.owner = owner
        self.id = id
        self.points = points
    }
}

// MARK: - Metrics

/// What ``CopyBridgeMetrics`` knows: the latency histogram, totals and alerts.
public struct MetricsSummary: Codable, Sendable, Equatable {
    public var latencyHistogram: LatencyHistogramSnapshot
    public var totals: TotalsSnapshot
    /// The figures the alerts are evaluated on, over their windows.
    public var window: WindowFigures
    /// Alerts active now.
    public var alerts: [AlertSnapshot]

    public init(
        latencyHistogram: LatencyHistogramSnapshot, totals: TotalsSnapshot, window: WindowFigures,
        alerts: [AlertSnapshot]
    ) {
        self.latencyHistogram = latencyHistogram
        self.totals = totals
        self.window = window
        self.alerts = alerts
    }

    public static let empty = MetricsSummary(
        latencyHistogram: LatencyHistogramSnapshot(
            upperBoundsMicros: CopyBridgeMetrics.latencyBucketBoundsMicros,
            counts: Array(repeating: 0, count: CopyBridgeMetrics.latencyBucketBoundsMicros.count + 1)),
        totals: TotalsSnapshot(),
        window: WindowFigures(),
        alerts: [])
}

/// Tick-to-copy latency since start, by bucket.
public struct LatencyHistogramSnapshot: Codable, Sendable, Equatable {
    /// Inclusive upper bounds in microseconds, ascending.
    public var upperBoundsMicros: [Int]
    /// Non-cumulative counts: `counts[i]` is the number of copies in `(upperBounds[i-1], upperBounds[i]]`;
    /// the last element counts those above the last bound.
    public var counts: [Int]

    public init(upperBoundsMicros: [Int], counts: [Int]) {
        precondition(
            counts.count == upperBoundsMicros.count + 1, "a histogram needs one count per bucket plus overflow")
        self.upperBoundsMicros = upperBoundsMicros
        self.counts = counts
    }
}

/// Counts since start, with the rates and percentiles they give.
public struct TotalsSnapshot: Codable, Sendable, Equatable {
    public var signals: Int
    public var copies: Int
    public var skips: Int
    /// Skips by reason code.
    public var skipsByReason: [String: Int]
    public var ordersSent: Int
    public var fills: Int
    public var rejects: Int
    /// Orders that ended cancelled or expired without a full fill.
    public var unfilled: Int
    public var errors: Int
    /// Filled orders over orders that reached an outcome; `nil` before the first outcome.
    public var fillRate: Double?
    /// Rejected orders over orders that reached an outcome.
    public var rejectRate: Double?
    public var p50LatencyMicros: Int?
    public var p99LatencyMicros: Int?

    public init(
        signals: Int = 0, copies: Int = 0, skips: Int = 0, skipsByReason: [String: Int] = [:], ordersSent: Int = 0,
        fills: Int = 0, rejects: Int = 0, unfilled: Int = 0, errors: Int = 0, fillRate: Double? = nil,
        rejectRate: Double? = nil, p50LatencyMicros: Int? = nil, p99LatencyMicros: Int? = nil
    ) {
        self.signals = signals
        self.copies = copies
        self.skips = skips
        self.skipsByReason = skipsByReason
        self.ordersSent = ordersSent
        self.fills = fills
        self.rejects = rejects
        self.unfilled = unfilled
        self.errors = errors
        self.fillRate = fillRate
        self.rejectRate = rejectRate
        self.p50LatencyMicros = p50LatencyMicros
        self.p99LatencyMicros = p99LatencyMicros
    }
}

/// The windowed figures alerts look at; `nil` when the window holds too few samples to judge.
public struct WindowFigures: Codable, Sendable, Equatable {
    public var latencyP99Micros: Int?
    public var latencySamples: Int
    public var fillRate: Double?
    public var orderOutcomes: Int
    public var errorRate: Double?
    public var ordersSent: Int

    public init(
        latencyP99Micros: Int? = nil, latencySamples: Int = 0, fillRate: Double? = nil, orderOutcomes: Int = 0,
        errorRate: Double? = nil, ordersSent: Int = 0
    ) {
        self.latencyP99Micros = latencyP99Micros
        self.latencySamples = latencySamples
        self.fillRate = fillRate
        self.orderOutcomes = orderOutcomes
        self.errorRate = errorRate
        self.ordersSent = ordersSent
    }
}

/// An alert that is firing.
public struct AlertSnapshot: Codable, Sendable, Equatable {
    /// The `alert` label of `copybridge_alert_active`.
    public var alert: String
    /// What the operator reads.
    public var message: String
    public var since: Date
    /// The figure that breached, in the alert's unit (µs for latency, a fraction for rates).
    public var value: Double
    public var threshold: Double

    public init(alert: String, message: String, since: Date, value: Double, threshold: Double) {
        self.alert = alert
        self.message = message
        self.since = since
        self.value = value
        self.threshold = threshold
    }
}

extension Date {
    /// The instant of a FIX timestamp (sub-microsecond digits are lost to `Date`'s precision).
    public init(_ timestamp: UTCTimestamp) {
        self.init(timeIntervalSince1970: Double(timestamp.nanosecondsSinceEpoch) / 1_000_000_000)
    }
}
