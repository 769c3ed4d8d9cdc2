import FIXCore

/// A price the operator or a test sets that the broker cannot use.
public struct SimQuoteError: Error, Equatable, Sendable, CustomStringConvertible {
    public var symbol: String
    public var reason: String

    public var description: String { "quote for \(symbol): \(reason)" }
}

/// The bundled FIX broker, as a pure, deterministic state machine.
///
/// Messages and clock ticks come in as events; what the broker sends leaves as ``SimOutput``s.
/// There is no I/O, no clock and no global randomness: time is a parameter, randomness comes from
/// `RandomSeed`, and the same inputs give the same messages byte for byte. A session driver
/// feeds it application messages (``received(_:on:at:)``), calls ``advance(to:)`` at
/// ``nextWakeUp``, and sends the outputs, adding the session header.
///
/// Everything runs at simulated time: an event due at 10:00:00.005 is executed at that instant
/// (TransactTime says so) even when `advance` is called later.
///
/// Behaviour in brief (details on the methods):
/// - Orders are acknowledged (ExecType 0) or rejected (8, with OrdRejReason and Text) at once;
///   fills follow after `FillLatencyMs`, in `PartialFills` slices, each at the quote of its
///   instant: market and triggered stop orders at the ask (buy) or bid (sell), limits at that
///   price when it is at or better than the limit. A stop triggers silently when the ask (buy)
///   or bid (sell) reaches StopPx. IOC and FOK are decided at their first execution attempt.
/// - Day orders expire at `DayEndTime`. OrderIDs are `PREFIX-n`, ExecIDs `PREFIX-En`.
/// - A NewOrderSingle with PossDupFlag or PossResend whose ClOrdID the session already used is
///   answered with the order's status, never booked twice.
/// - Every ExecutionReport of an order also goes, with CopyMsgIndicator=Y, to each other session
///   whose `DropCopyFor` names the order's account; status answers (H, AF) go to the asker only.
/// - A CollateralInquiry (BB) is answered with the account's equity in a CollateralReport (BA);
///   subscribers get a new report after each fill that changes it (see ``accountValuation(_:)``).
public struct SimulatedBroker: Sendable {
    public let configuration: SimulatorConfiguration
    /// Simulated time: the latest instant processed.
    public private(set) var now: UTCTimestamp
    /// The instant the broker started; bot script offsets count from it.
    public let start: UTCTimestamp
    /// Prefix of the identifiers the broker issues.
    public let idPrefix: String

    var nowNanos: Int64
    var priceRandom: SimRandom
    var fillRandom: SimRandom
    var botRandom: SimRandom
    var events = SimEventQueue()

    let instruments: [SimInstrument]
    let instrumentBySymbol: [String: SimInstrument]
    var quotes: [String: SimQuote]

    /// Every order ever entered; an order's index never changes.
    var orderList: [SimOrder] = []
    var orderIndexByID: [String: Int] = [:]
    /// The most recent order per ClOrdID, per origin (ClOrdIDs are unique per session, not per broker).
    var clOrdIndex: [SimOrderOrigin: [String: Int]] = [:]
    /// Indices of live orders, ascending.
    var live: [Int] = []
    var fillList: [SimFill] = []
    var positionTable: [PositionKey: SimPosition] = [:]
    let accountLimits: [String: SimAccountLimits]
    /// Sessions with `DropCopyFor`, in key order.
    let dropCopySessions: [(SimSessionKey, SimAccountSelection)]

    var subscriptions: [SimSessionKey: [MarketDataSubscription]] = [:]
    var collateralSubscriptions: [SimSessionKey: [CollateralSubscription]] = [:]
    var echo = SimEchoState()
    var bots: [BotState]

    var orderCounter = 0
    var execCounter = 0
    var reportCounter = 0
    var collateralCounter = 0

    struct PositionKey: Hashable, Sendable {
        var account: String
        var symbol: String
    }

    /// Creates a broker that starts at `start` (the first price step is one `PriceTickMs` later).
    public init(configuration: SimulatorConfiguration, start: UTCTimestamp) {
        precondition(!configuration.instruments.isEmpty, "a simulator needs at least one instrument")
        self.configuration = configuration
        self.start = start.with(precision: .milliseconds)
        self.now = self.start
        self.nowNanos = start.nanosecondsSinceEpoch
        self.idPrefix = configuration.idPrefix ?? SimulatedBroker.derivedPrefix(start)
        var seedSource = SimRandom(seed: configuration.randomSeed)
        priceRandom = seedSource.split()
        fillRandom = seedSource.split()
        botRandom = seedSource.split()
        instruments = configuration.instruments
        var bySymbol: [String: SimInstrument] = [:]
        var quotes: [String: SimQuote] = [:]
        for instrument in instruments {
            bySymbol[instrument.symbol] = instrument
            quotes[instrument.symbol] = instrument.initialQuote
        }
        instrumentBySymbol = bySymbol
        self.quotes = quotes
        var limits: [String: SimAccountLimits] = [:]
        var dropCopy: [(SimSessionKey, SimAccountSelection)] = []
        for key in configuration.sessions.keys.sorted() {
            let session = configuration.sessions[key]!
            let account = session.account ?? key.targetCompID
            if limits[account] == nil { limits[account] = session.limits }
            if !session.dropCopyFor.isEmpty { dropCopy.append((key, session.dropCopyFor)) }
        }
        accountLimits = limits
        dropCopySessions = dropCopy
        bots = configuration.bots.map { BotState(configuration: $0) }

        if configuration.priceTickMs > 0 && configuration.maxTicksPerStep > 0 {
            events.schedule(.priceTick, at: nowNanos + Int64(configuration.priceTickMs) * 1_000_000)
        }
        if let dayEnd = nextDayEnd(after: nowNanos) { events.schedule(.dayEnd, at: dayEnd) }
        for i in bots.indices {
            if let first = firstBotWakeUp(i) { events.schedule(.bot(i), at: first) }
        }
    }

    /// Base-36 seconds of the start time: a short prefix that differs between runs.
    static func derivedPrefix(_ start: UTCTimestamp) -> String {
        let seconds = start.nanosecondsSinceEpoch.floorDivided(by: 1_000_000_000)
        return String(UInt64(max(seconds, 0)), radix: 36, uppercase: true)
    }

    // MARK: Events in

    /// MsgTypes of the session layer; they never reach an application.
    static let adminMsgTypes: Set<String> = ["0", "1", "2", "3", "4", "5", "A"]

    /// Handles an application message received on `session` at `now`. Timers due by then run first.
    public mutating func received(_ message: FIXMessage, on session: SimSessionKey, at now: UTCTimestamp) -> [SimOutput]
    {
        var out = advance(to: now)
        let msgType = message.msgType
        if SimulatedBroker.adminMsgTypes.contains(msgType) { return out }
        let sessionConfiguration = configuration.session(session)
        switch sessionConfiguration.application {
        case .echo:
            out += echo.received(message, on: session, copier: configuration.echoCopier)
        case .broker:
            handleBrokerMessage(message, msgType: msgType, session: session, settings: sessionConfiguration, into: &out)
            runDue(into: &out)
        }
        return out
    }

    /// Runs every timer due at or before `now` (each at its own instant) and moves the clock to `now`.
    /// A `now` earlier than the broker's clock is treated as the broker's clock.
    public mutating func advance(to now: UTCTimestamp) -> [SimOutput] {
        var out: [SimOutput] = []
        let target = max(now.nanosecondsSinceEpoch, nowNanos)
        while let entry = events.popDue(atOrBefore: target) {
            setClock(max(entry.time, nowNanos))
            handle(entry.event, into: &out)
        }
        setClock(target)
        return out
    }

    /// When the broker next has something to do; `nil` when nothing is scheduled.
    public var nextWakeUp: UTCTimestamp? {
        events.first.map { UTCTimestamp(nanosecondsSinceEpoch: $0.time, precision: .milliseconds) }
    }

    /// The session logged out: its echo ClOrdID memory, market data and collateral subscriptions end.
    public mutating func sessionLoggedOut(_ session: SimSessionKey) {
        echo.loggedOut(session)
        subscriptions[session] = nil
        collateralSubscriptions[session] = nil
    }

    /// Sets a symbol's quote, as the price process would (resting orders and subscribers react).
    public mutating func setQuote(
        _ symbol: String, bid: FixedDecimal, ask: FixedDecimal, at now: UTCTimestamp
    ) throws(SimQuoteError) -> [SimOutput] {
        guard quotes[symbol] != nil else { throw SimQuoteError(symbol: symbol, reason: "unknown symbol") }
        guard bid.isPositive, ask >= bid else {
            throw SimQuoteError(symbol: symbol, reason: "bid \(bid) and ask \(ask) do not make a market")
        }
        var out = advance(to: now)
        let changed = quotes[symbol] != SimQuote(bid: bid, ask: ask)
        quotes[symbol] = SimQuote(bid: bid, ask: ask)
        if changed { pricesChanged([symbol], into: &out) }
        runDue(into: &out)
        return out
    }

    /// Enters an order for an account directly, without a FIX session (bots, scenario runners).
    /// Its ExecutionReports go to the account's drop-copy sessions.
    public mutating func submit(
        _ request: SimOrderRequest, fillModel: SimFillModel? = nil, at now: UTCTimestamp
    ) -> [SimOutput] {
        var out = advance(to: now)
        enter(
            request, origin: .direct(account: request.account),
            fillModel: fillModel ?? configuration.defaultSession.fillModel, into: &out)
        runDue(into: &out)
        return out
    }

    /// Cancels a directly entered order of `account` by its ClOrdID. Returns nothing when the
    /// order is unknown or already done.
    public mutating func cancel(account: String, clOrdID: String, at now: UTCTimestamp) -> [SimOutput] {
        var out = advance(to: now)
        if let index = clOrdIndex[.direct(account: account)]?[clOrdID], orderList[index].isLive {
            cancelOrder(index, newClOrdID: nil, text: nil, into: &out)
        }
        runDue(into: &out)
        return out
    }

    // MARK: State out

    /// The current quote of `symbol`.
    public func quote(for symbol: String) -> SimQuote? { quotes[symbol] }

    /// Every order, in entry order.
    public var orders: [SimOrder] { orderList }

    /// The order with `orderID`.
    public func order(id orderID: String) -> SimOrder? { orderIndexByID[orderID].map { orderList[$0] } }

    /// Every fill, in time order.
    public var fills: [SimFill] { fillList }

    /// The position of `account` in `symbol` (flat when it never traded it).
    public func position(account: String, symbol: String) -> SimPosition {
        positionTable[PositionKey(account: account, symbol: symbol)] ?? SimPosition(account: account, symbol: symbol)
    }

    /// Every position of `account` that is not flat, in symbol order.
    public func openPositions(account: String) -> [SimPosition] {
        positionTable.values.filter { $0.account == account && !$0.quantity.isZero }.sorted { $0.symbol < $1.symbol }
    }

    // MARK: Internals

    mutating func setClock(_ nanos: Int64) {
        nowNanos = nanos
        now = UTCTimestamp(nanosecondsSinceEpoch: nanos, precision: .milliseconds)
    }

    /// Runs events already due (zero-latency fills scheduled while handling a message).
    mutating func runDue(into out: inout [SimOutput]) {
        while let entry = events.popDue(atOrBefore: nowNanos) {
            handle(entry.event, into: &out)
        }
    }

    mutating func handle(_ event: SimEvent, into out: inout [SimOutput]) {
        switch event {
        case .priceTick:
            stepPrices(into: &out)
            events.schedule(.priceTick, at: nowNanos + Int64(configuration.priceTickMs) * 1_000_000)
        case .execute(let index, let generation):
            execute(index, generation: generation, into: &out)
        case .dayEnd:
            expireDayOrders(into: &out)
            if let next = nextDayEnd(after: nowNanos) { events.schedule(.dayEnd, at: next) }
        case .bot(let i):
            botAct(i, into: &out)
        }
    }

    /// The first configured day end strictly after `nanos`.
    func nextDayEnd(after nanos: Int64) -> Int64? {
        guard let dayEnd = configuration.dayEndNanos else { return nil }
        let day: Int64 = 86_400_000_000_000
        var candidate = nanos.floorDivided(by: day) * day + dayEnd
        if candidate <= nanos { candidate += day }
        return candidate
    }

    mutating func nextOrderID() -> String {
        orderCounter += 1
        return "\(idPrefix)-\(orderCounter)"
    }

    mutating func nextExecID() -> String {
        execCounter += 1
        return "\(idPrefix)-E\(execCounter)"
    }

    mutating func nextReportID() -> String {
        reportCounter += 1
        return "\(idPrefix)-P\(reportCounter)"
    }

    /// The account an order from `session` is booked to when it names none.
    func defaultAccount(_ session: SimSessionKey, _ settings: SimSessionConfiguration) -> String {
        settings.account ?? session.targetCompID
    }
}

extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
