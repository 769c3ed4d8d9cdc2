import FIXCore

/// How long the broker takes to execute: a fixed delay or a uniform range, in milliseconds.
public struct SimLatency: Sendable, Equatable {
    public var minimumMs: Int
    public var maximumMs: Int

    public init(minimumMs: Int, maximumMs: Int) {
        precondition(minimumMs >= 0 && maximumMs >= minimumMs, "latency range \(minimumMs)-\(maximumMs)")
        self.minimumMs = minimumMs
        self.maximumMs = maximumMs
    }

    /// A fixed delay.
    public static func fixed(_ ms: Int) -> SimLatency { SimLatency(minimumMs: ms, maximumMs: ms) }
}

/// How orders are executed: delay, slicing into partial fills, random and rule-based rejects.
public struct SimFillModel: Sendable, Equatable {
    /// Delay from acceptance (or from the price crossing a resting order) to each fill slice.
    public var latency: SimLatency
    /// A fill arrives in this many slices (1: in one piece).
    public var partialFills: Int
    /// Chance that an order is sliced at all (when `partialFills` > 1).
    public var partialFillProbability: FixedDecimal
    /// Chance that an otherwise valid order is rejected.
    public var rejectProbability: FixedDecimal
    /// Orders above this quantity are rejected; `nil`: no limit.
    public var maxOrderQty: FixedDecimal?

    public init(
        latency: SimLatency = .fixed(0), partialFills: Int = 1, partialFillProbability: FixedDecimal = 1,
        rejectProbability: FixedDecimal = 0, maxOrderQty: FixedDecimal? = nil
    ) {
        self.latency = latency
        self.partialFills = partialFills
        self.partialFillProbability = partialFillProbability
        self.rejectProbability = rejectProbability
        self.maxOrderQty = maxOrderQty
    }
}

/// An account's margin parameters.
public struct SimAccountLimits: Sendable, Equatable {
    /// Equity backing the margin check; `nil` switches the check off.
    public var equity: FixedDecimal?
    /// Notional allowed per unit of equity.
    public var leverage: FixedDecimal

    public init(equity: FixedDecimal? = nil, leverage: FixedDecimal = 1) {
        self.equity = equity
        self.leverage = leverage
    }
}

/// A tradable symbol and its price process parameters.
public struct SimInstrument: Sendable, Equatable {
    public var symbol: String
    /// The starting bid.
    public var initialPrice: FixedDecimal
    /// The price grid; every quote is a multiple of it.
    public var tickSize: FixedDecimal
    /// Ask minus bid, in ticks.
    public var spreadTicks: Int

    public init(symbol: String, initialPrice: FixedDecimal, tickSize: FixedDecimal, spreadTicks: Int) {
        self.symbol = symbol
        self.initialPrice = initialPrice
        self.tickSize = tickSize
        self.spreadTicks = spreadTicks
    }

    /// The opening quote: the initial price on the tick grid as bid, ask `spreadTicks` above.
    var initialQuote: SimQuote {
        let bid = FixedDecimal.max(initialPrice.rounded(toMultipleOf: tickSize, .halfEven), tickSize)
        return SimQuote(bid: bid, ask: bid + tickSize * FixedDecimal(spreadTicks))
    }
}

/// What a session does with application messages.
public enum SimApplication: String, Sendable, Equatable, CaseIterable {
    /// The simulated broker: orders, positions, market data.
    case broker
    /// The reflector used by session conformance suites.
    case echo
}

/// A set of accounts, or all of them (`*`).
public enum SimAccountSelection: Sendable, Equatable {
    case accounts([String])
    case all

    public static let none = SimAccountSelection.accounts([])

    public func contains(_ account: String) -> Bool {
        switch self {
        case .all: return true
        case .accounts(let list): return list.contains(account)
        }
    }

    public var isEmpty: Bool {
        switch self {
        case .all: return false
        case .accounts(let list): return list.isEmpty
        }
    }
}

/// Per-session behaviour; sessions without a block of their own use the broker-level defaults.
public struct SimSessionConfiguration: Sendable, Equatable {
    public var application: SimApplication
    /// Account for orders without Account (1); `nil`: the session's TargetCompID.
    public var account: String?
    /// Accounts whose ExecutionReports are copied to this session.
    public var dropCopyFor: SimAccountSelection
    public var fillModel: SimFillModel
    /// Margin parameters of this session's default account.
    public var limits: SimAccountLimits

    public init(
        application: SimApplication = .broker, account: String? = nil, dropCopyFor: SimAccountSelection = .none,
        fillModel: SimFillModel = SimFillModel(), limits: SimAccountLimits = SimAccountLimits()
    ) {
        self.application = application
        self.account = account
        self.dropCopyFor = dropCopyFor
        self.fillModel = fillModel
        self.limits = limits
    }
}

/// One line of a bot script: an order the bot sends `offsetMs` after the broker starts.
public struct SimBotStep: Sendable, Equatable {
    public var offsetMs: Int
    public var symbol: String
    public var side: SimSide
    public var quantity: FixedDecimal
    public var ordType: SimOrdType
    /// Limit price for limit orders, trigger price for stops.
    public var price: FixedDecimal?
    public var timeInForce: SimTimeInForce

    public init(
        offsetMs: Int, symbol: String, side: SimSide, quantity: FixedDecimal, ordType: SimOrdType,
        price: FixedDecimal? = nil, timeInForce: SimTimeInForce = .goodTillCancel
    ) {
        self.offsetMs = offsetMs
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.ordType = ordType
        self.price = price
        self.timeInForce = timeInForce
    }
}

/// Parameters of the random trading bot.
public struct SimRandomBotSettings: Sendable, Equatable {
    public var intervalMs: Int
    /// Symbols it trades; empty: all of the broker's.
    public var symbols: [String]
    public var minimumQuantity: FixedDecimal
    public var maximumQuantity: FixedDecimal
    /// Quantities are multiples of this.
    public var quantityStep: FixedDecimal
    /// Per symbol, a factor on the quantity drawn (1 when absent): one range serves currency pairs
    /// in units and gold in ounces.
    public var quantityScale: [String: FixedDecimal]

    public init(
        intervalMs: Int = 5000, symbols: [String] = [], minimumQuantity: FixedDecimal = 1000,
        maximumQuantity: FixedDecimal = 10000, quantityStep: FixedDecimal = 1000,
        quantityScale: [String: FixedDecimal] = [:]
    ) {
        self.intervalMs = intervalMs
        self.symbols = symbols
        self.minimumQuantity = minimumQuantity
        self.maximumQuantity = maximumQuantity
        self.quantityStep = quantityStep
        self.quantityScale = quantityScale
    }
}

/// How a provider bot decides what to trade.
public enum SimBotStyle: Sendable, Equatable {
    case script([SimBotStep])
    case random(SimRandomBotSettings)
}

/// A scripted provider trading one account at the broker.
public struct SimBotConfiguration: Sendable, Equatable {
    public var account: String
    public var style: SimBotStyle
    public var fillModel: SimFillModel

    public init(account: String, style: SimBotStyle, fillModel: SimFillModel = SimFillModel()) {
        self.account = account
        self.style = style
        self.fillModel = fillModel
    }
}

/// Makes the body of an echoed message from the received one.
///
/// The default keeps the body fields in received order (``SimEcho/copyBody(of:)``); the data
/// dictionary's canonicalising copy plugs in here when it lands, without touching the broker.
public typealias SimEchoCopier = @Sendable (FIXMessage) -> FIXMessageBuilder

/// Everything that defines one simulated broker.
public struct SimulatorConfiguration: Sendable {
    public var instruments: [SimInstrument]
    public var randomSeed: UInt64
    /// Interval of the random walk; 0: prices move only through ``SimulatedBroker/setQuote(_:bid:ask:at:)``.
    public var priceTickMs: Int
    /// Largest move of one step, in ticks.
    public var maxTicksPerStep: Int
    /// Size shown on market data entries.
    public var quoteSize: FixedDecimal
    /// Time of day (UTC, nanoseconds since midnight) when Day orders expire; `nil`: never.
    public var dayEndNanos: Int64?
    /// Prefix of OrderIDs and ExecIDs; `nil`: derived from the start time, so a restarted
    /// simulator never repeats an ExecID a client has already seen.
    public var idPrefix: String?
    /// Settings of sessions without a block of their own.
    public var defaultSession: SimSessionConfiguration
    public var sessions: [SimSessionKey: SimSessionConfiguration]
    public var bots: [SimBotConfiguration]
    public var echoCopier: SimEchoCopier
    /// Starting cash of accounts that have no `Equity` of their own (`AccountEquity`); reported in
    /// CollateralReports, never used by the margin check.
    public var accountEquity: [String: FixedDecimal]
    /// Currency (15) of CollateralReports.
    public var currency: String
    /// Whether CollateralInquiries are answered (`AnswerCollateralInquiries`); when not, they are
    /// ignored without a word.
    public var answersCollateralInquiries = true

    public init(
        instruments: [SimInstrument] = SimSettings.defaultInstruments, randomSeed: UInt64 = 1, priceTickMs: Int = 1000,
        maxTicksPerStep: Int = 2, quoteSize: FixedDecimal = 1_000_000, dayEndNanos: Int64? = 22 * 3_600_000_000_000,
        idPrefix: String? = nil, defaultSession: SimSessionConfiguration = SimSessionConfiguration(),
        sessions: [SimSessionKey: SimSessionConfiguration] = [:], bots: [SimBotConfiguration] = [],
        echoCopier: @escaping SimEchoCopier = SimEcho.copyBody, accountEquity: [String: FixedDecimal] = [:],
        currency: String = "USD"
    ) {
        self.instruments = instruments
        self.randomSeed = randomSeed
        self.priceTickMs = priceTickMs
        self.maxTicksPerStep = maxTicksPerStep
        self.quoteSize = quoteSize
        self.dayEndNanos = dayEndNanos
        self.idPrefix = idPrefix
        self.defaultSession = defaultSession
        self.sessions = sessions
        self.bots = bots
        self.echoCopier = echoCopier
        self.accountEquity = accountEquity
        self.currency = currency
    }

    /// The configuration that applies to `session`.
    public func session(_ session: SimSessionKey) -> SimSessionConfiguration {
        sessions[session] ?? defaultSession
    }

    /// Margin parameters of `account`: from the first session block (in key order) whose
    /// default account it is (`Account`, else the session's TargetCompID), else the broker-level
    /// defaults.
    public func limits(for account: String) -> SimAccountLimits {
        for key in sessions.keys.sorted() where (sessions[key]!.account ?? key.targetCompID) == account {
            return sessions[key]!.limits
        }
        return defaultSession.limits
    }

    /// The cash `account` starts with: its `Equity` (its own session block's, else the broker's),
    /// else its `AccountEquity` entry; `nil` when the broker knows no equity for it.
    public func startingCash(for account: String) -> FixedDecimal? {
        for key in sessions.keys.sorted() where (sessions[key]!.account ?? key.targetCompID) == account {
            if let equity = sessions[key]!.limits.equity { return equity }
        }
        return accountEquity[account] ?? defaultSession.limits.equity
    }
}
