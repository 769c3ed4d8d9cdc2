import CopyEngine
import DequeModule
import FIXCore
import Foundation

/// The engine's `FollowerFill` (the ledger has a type of the same name).
typealias EngineFollowerFill = FollowerFill

/// A provider's fill as the agent saw it arrive: what her followers' copies are measured against.
struct SignalInfo: Sendable {
    var providerID: String
    var account: String
    var execID: String
    /// Canonical symbol.
    var symbol: String
    var isBuy: Bool
    /// Units.
    var quantity: FixedDecimal
    var price: FixedDecimal?
    var transactTime: Int64
    var receivedAt: Int64
}

/// One follower's part of one order.
struct CopyRecord: Sendable {
    var snapshot: CopySnapshot
    var clOrdID: String
    var session: String
    var account: String
    /// Units asked and filled.
    var quantity: FixedDecimal
    var filled: FixedDecimal = .zero
    var notional: FixedDecimal = .zero
    var sentAtMonotonic: UInt64
    var acknowledged = false
    var finished = false
}

/// What the agent has done since it started: counts, latencies, copies, positions and P&L. Owned by
/// the event loop; the dashboard and the summary read copies of it.
struct AgentActivity {
    let accountCurrency: String
    let startedMonotonic: UInt64

    var signals = 0
    var copies = 0
    var ordersSent = 0
    var filledOrders = 0
    var rejectedOrders = 0
    var unfilledOrders = 0
    var skips: [String: Int] = [:]
    /// Tick-to-copy samples in nanoseconds (the first million; enough for any percentile).
    var latencies: [Int64] = []

    var signalsByExecID: [String: SignalInfo] = [:]
    private var signalOrder = Deque<String>()
    static let signalMemory = 50_000

    /// Live and recent copies by ClOrdID, one record per follower of the order.
    var orders: [String: [CopyRecord]] = [:]
    private var orderOrder = Deque<String>()
    static let orderMemory = 2_000
    static let recentLimit = 200

    var followerStatus: [String: String] = [:]
    var followerCopies: [String: Int] = [:]
    var followerFills: [String: Int] = [:]
    var followerSlippage: [String: (weighted: Double, quantity: Double)] = [:]
    var books: [String: [String: PositionTracker]] = [:]
    /// Bid and ask per canonical symbol.
    var quotes: [String: (bid: FixedDecimal?, ask: FixedDecimal?)] = [:]

    init(accountCurrency: String, startedMonotonic: UInt64) {
        self.accountCurrency = accountCurrency
        self.startedMonotonic = startedMonotonic
        latencies.reserveCapacity(4096)
    }

    // MARK: Recording

    mutating func signal(_ info: SignalInfo) {
        signals += 1
        if signalsByExecID.updateValue(info, forKey: info.execID) == nil {
            signalOrder.append(info.execID)
            if signalOrder.count > Self.signalMemory, let old = signalOrder.popFirst() {
                signalsByExecID[old] = nil
            }
        }
    }

    /// An order left: one copy per follower it serves. Returns the records.
    mutating func orderSent(
        _ intent: OrderIntent, provider: String, signal: SignalInfo?, tickToCopyNanos: Int64?, sentAt: UInt64,
        wallNow: Int64
    ) -> [CopyRecord] {
        ordersSent += 1
        if let nanos = tickToCopyNanos, latencies.count < 1_000_000 { latencies.append(nanos) }
        var records: [CopyRecord] = []
        for allocation in intent.allocations {
            copies += 1
            followerCopies[allocation.followerID, default: 0] += 1
            let snapshot = CopySnapshot(
                time: Date(timeIntervalSince1970: Double(wallNow) / 1e9), providerExecID: intent.signal,
                provider: provider, follower: allocation.followerID, symbol: intent.symbol,
                side: intent.side == .buy ? .buy : .sell, quantity: allocation.quantity,
                providerPrice: signal?.price ?? .zero,
                tickToCopyMicros: tickToCopyNanos.map { Int(($0 + 999) / 1000) }, status: .pending)
            records.append(
                CopyRecord(
                    snapshot: snapshot, clOrdID: intent.clOrdID, session: intent.session, account: allocation.account,
                    quantity: allocation.quantity, sentAtMonotonic: sentAt))
        }
        if orders.updateValue(records, forKey: intent.clOrdID) == nil {
            orderOrder.append(intent.clOrdID)
            while orderOrder.count > Self.orderMemory, let old = orderOrder.first,
                orders[old]?.allSatisfy(\.finished) ?? true
            {
                orderOrder.removeFirst()
                orders[old] = nil
            }
        }
        return records
    }

    /// The first report about one of our orders: its acknowledgement latency, once.
    ///
    /// The records are changed where they are stored (`orders.values[i]`): taken out and put back,
    /// the dictionary's copy made the change copy the array first, every record's strings with it,
    /// for every report of every copy.
    mutating func acknowledged(_ clOrdID: String, at now: UInt64) -> (session: String, nanos: UInt64)? {
        guard let i = orders.index(forKey: clOrdID), let first = orders.values[i].first, !first.acknowledged else {
            return nil
        }
        for k in orders.values[i].indices { orders.values[i][k].acknowledged = true }
        return (first.session, now &- first.sentAtMonotonic)
    }

    /// A fill in a follower's account. For a copy, returns the signal it copies (the provider's
    /// ExecID), its slippage and, when it completes the follower's part, the order's fill latency.
    mutating func fill(
        _ fill: EngineFollowerFill, at now: UInt64
    ) -> (
        signal: String?, slippageBps: FixedDecimal?, completed: (session: String, nanos: UInt64)?
    ) {
        let sign = fill.side == .buy ? 1 : -1
        if let price = fill.price {
            books[fill.followerID, default: [:]][fill.symbol, default: PositionTracker()].apply(
                sign: sign, units: fill.quantity, price: price)
        }
        followerFills[fill.followerID, default: 0] += 1
        guard let clOrdID = fill.clOrdID, let i = orders.index(forKey: clOrdID),
            let k = orders.values[i].firstIndex(where: { $0.snapshot.follower == fill.followerID })
        else { return (nil, nil, nil) }
        let booked = Self.book(fill, sign: sign, at: now, into: &orders.values[i][k])
        if booked.completed != nil { filledOrders += 1 }
        if let weight = booked.slippageWeight {
            let old = followerSlippage[fill.followerID] ?? (0, 0)
            followerSlippage[fill.followerID] = (
                old.weighted + weight.bps * weight.quantity, old.quantity + weight.quantity
            )
        }
        return (orders.values[i][k].snapshot.providerExecID, booked.slippage, booked.completed)
    }

    /// Adds `fill` to its copy's `record`, in place. `slippageWeight` is set when the fill
    /// completes the copy and its slippage is known: what the follower's average slippage adds.
    private static func book(
        _ fill: EngineFollowerFill, sign: Int, at now: UInt64, into record: inout CopyRecord
    ) -> (
        slippage: FixedDecimal?, completed: (session: String, nanos: UInt64)?,
        slippageWeight: (bps: Double, quantity: Double)?
    ) {
        record.filled += fill.quantity
        if let price = fill.price { record.notional += fill.quantity * price }
        var slippage: FixedDecimal?
        if record.filled.isPositive {
            let average = record.notional.divided(by: record.filled, scale: 10, .halfEven).normalized
            record.snapshot.averagePrice = average
            let reference = record.snapshot.providerPrice
            if reference.isPositive {
                let difference = sign > 0 ? average - reference : reference - average
                let bps = (difference * FixedDecimal(10_000)).divided(by: reference, scale: 4, .halfEven)
                record.snapshot.slippageBps = bps
                slippage = bps
            }
        }
        var completed: (String, UInt64)?
        var weight: (Double, Double)?
        if record.filled >= record.quantity && !record.finished {
            record.finished = true
            record.snapshot.status = .filled
            completed = (record.session, now &- record.sentAtMonotonic)
            if let bps = record.snapshot.slippageBps { weight = (bps.doubleValue, record.filled.doubleValue) }
        } else if !record.finished {
            record.snapshot.status = .partiallyFilled
        }
        return (slippage, completed, weight)
    }

    /// A decision about a follower's order or copy.
    mutating func decision(_ d: CopyDecision) {
        switch d.reason {
        case .orderRejected:
            rejectedOrders += 1
            finish(d, status: .rejected)
        case .orderUnfilled:
            unfilledOrders += 1
            finish(d, status: .cancelled)
        case .remainderReplanned:
            unfilledOrders += 1
            finish(d, status: .partiallyFilled)
        default:
            if Self.isSkip(d.reason) { skips[d.reason.rawValue, default: 0] += 1 }
        }
    }

    private mutating func finish(_ d: CopyDecision, status: CopySnapshot.Status) {
        guard let clOrdID = d.clOrdID, let i = orders.index(forKey: clOrdID) else { return }
        for k in orders.values[i].indices
        where d.followerID == nil || orders.values[i][k].snapshot.follower == d.followerID {
            orders.values[i][k].finished = true
            orders.values[i][k].snapshot.status = status
            orders.values[i][k].snapshot.reason = d.detail ?? d.reason.rawValue
        }
    }

    mutating func quote(_ symbol: String, bid: FixedDecimal?, ask: FixedDecimal?) {
        var q = quotes[symbol] ?? (nil, nil)
        if let bid { q.bid = bid }
        if let ask { q.ask = ask }
        quotes[symbol] = q
    }

    /// Decisions that mean a follower was not copied, or not fully.
    static func isSkip(_ reason: ReasonCode) -> Bool {
        switch reason {
        case .staleSignal, .priceDeviation, .noMark, .symbolNotAllowed, .symbolDenied, .outsideTradingHours,
            .catchUpSkipped, .catchUpWaiting, .catchUpNoPrice, .equityUnknown, .belowLot, .belowMinQty,
            .clampedMaxPosition,
            .clampedMaxOrder, .followerIntervened, .followerPaused, .followerDegraded, .sessionDown, .settling,
            .closeThenOpen, .retryExhausted, .attemptsExhausted, .roundedUpToMin, .clampedMaxOrderNotional,
            .clampedMaxPositionNotional, .clampedMaxLeverage, .exceedsMaxOrder, .exceedsMaxPosition,
            .exceedsMaxOrderNotional, .exceedsMaxPositionNotional, .exceedsMaxLeverage, .maxOpenPositions,
            .dailyLossLimit, .maxDrawdown, .closeOnly, .followerFlattened, .providerDisabled, .providerSuspended,
            .suspiciousFillRate, .suspiciousFillSize, .suspiciousSymbol, .brokerPaused:
            return true
        case .duplicateExecID, .unknownExecRef, .malformedMessage, .unknownAccount, .coveredByPositionReport,
            .catchUpEntered, .reattached, .followerResumed, .orderRejected, .orderUnfilled, .retryScheduled,
            .remainderReplanned, .cancelRequested, .cancelRejected, .unallocatedResidue, .forgottenOrder, .orderSettled,
            .orderUnknownAtBroker,
            .positionReconciled, .positionRequestRejected, .settlementTimeout, .replayDivergence, .providerEnabled,
            .providerFlattened, .rejectStorm, .breakerReset, .resync:
            return false
        }
    }

    /// Decisions that are faults (of a peer, of the configuration, or of the journal).
    static func isError(_ reason: ReasonCode) -> Bool {
        switch reason {
        case .malformedMessage, .unknownExecRef, .unallocatedResidue, .settlementTimeout, .positionRequestRejected,
            .replayDivergence:
            return true
        case .duplicateExecID, .unknownAccount, .coveredByPositionReport, .staleSignal, .priceDeviation, .noMark,
            .symbolNotAllowed, .symbolDenied, .outsideTradingHours, .catchUpSkipped, .catchUpWaiting, .catchUpEntered,
            .catchUpNoPrice,
            .equityUnknown, .belowLot, .belowMinQty, .roundedUpToMin, .clampedMaxPosition, .clampedMaxOrder,
            .followerIntervened, .reattached, .followerPaused, .followerResumed, .followerDegraded, .sessionDown,
            .settling, .closeThenOpen, .orderRejected, .orderUnfilled, .retryScheduled, .retryExhausted,
            .attemptsExhausted, .remainderReplanned, .cancelRequested, .cancelRejected, .forgottenOrder, .orderSettled,
            .orderUnknownAtBroker,
            .positionReconciled, .clampedMaxOrderNotional, .clampedMaxPositionNotional, .clampedMaxLeverage,
            .exceedsMaxOrder, .exceedsMaxPosition, .exceedsMaxOrderNotional, .exceedsMaxPositionNotional,
            .exceedsMaxLeverage, .maxOpenPositions, .dailyLossLimit, .maxDrawdown, .closeOnly, .followerFlattened,
            .providerDisabled, .providerEnabled, .providerSuspended, .providerFlattened, .suspiciousFillRate,
            .suspiciousFillSize, .suspiciousSymbol, .rejectStorm, .brokerPaused, .breakerReset, .resync:
            return false
        }
    }

    // MARK: Reading

    var mids: [String: FixedDecimal] {
        var out: [String: FixedDecimal] = [:]
        for (symbol, q) in quotes {
            switch (q.bid, q.ask) {
            case (let b?, let a?): out[symbol] = (b + a).divided(by: 2, scale: 10, .halfEven).normalized
            case (let b?, nil): out[symbol] = b
            case (nil, let a?): out[symbol] = a
            case (nil, nil): continue
            }
        }
        return out
    }

    /// The most recent copies, newest first.
    func recentCopies(limit: Int = AgentActivity.recentLimit) -> [CopySnapshot] {
        var out: [CopySnapshot] = []
        for id in orderOrder.reversed() {
            for record in orders[id] ?? [] { out.append(record.snapshot) }
            if out.count >= limit { break }
        }
        return Array(out.prefix(limit))
    }

    /// The positions of one follower with P&L at the current marks (`mids`, when the caller asks
    /// for many followers: the marks are worked out once for all of them).
    func positions(of follower: String, mids: [String: FixedDecimal]? = nil) -> [AgentSummary.Position] {
        let mids = mids ?? self.mids
        return (books[follower] ?? [:]).sorted { $0.key < $1.key }.map { symbol, book in
            AgentSummary.Position(
                symbol: symbol, quantity: book.quantity, averagePrice: book.averagePrice, realized: book.realized,
                unrealized: mids[symbol].map { book.unrealized(at: $0) },
                currency: MarkConversion.quoteCurrency(of: symbol))
        }
    }

    /// Realized and unrealized P&L of a follower in the account currency (`nil` when a conversion is missing).
    func pnl(
        of follower: String, mids: [String: FixedDecimal]? = nil
    ) -> (realized: FixedDecimal?, unrealized: FixedDecimal?) {
        let mids = mids ?? self.mids
        var realized: FixedDecimal? = .zero
        var unrealized: FixedDecimal? = .zero
        for (symbol, book) in books[follower] ?? [:] {
            let currency = MarkConversion.quoteCurrency(of: symbol) ?? accountCurrency
            let r = MarkConversion.convert(book.realized, from: currency, to: accountCurrency, mids: mids)
            realized = realized.flatMap { sum in r.map { sum + $0 } }
            let u = mids[symbol].flatMap {
                MarkConversion.convert(book.unrealized(at: $0), from: currency, to: accountCurrency, mids: mids)
            }
            unrealized = book.quantity.isZero ? unrealized : unrealized.flatMap { sum in u.map { sum + $0 } }
        }
        return (realized.map { $0.rounded(scale: 2, .halfEven) }, unrealized.map { $0.rounded(scale: 2, .halfEven) })
    }

    func percentile(_ q: Double, of sorted: [Int64]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let index = min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
        return Double(sorted[index]) / 1000
    }

    func summary(followers: [(id: String, status: String)], now: UInt64) -> AgentSummary {
        let sorted = latencies.sorted()
        var slipWeighted = 0.0
        var slipQuantity = 0.0
        let mids = self.mids
        let rows = followers.map { f -> AgentSummary.Follower in
            let slip = followerSlippage[f.id]
            if let slip {
                slipWeighted += slip.weighted
                slipQuantity += slip.quantity
            }
            let pnl = pnl(of: f.id, mids: mids)
            return AgentSummary.Follower(
                id: f.id, status: f.status, copies: followerCopies[f.id] ?? 0, fills: followerFills[f.id] ?? 0,
                averageSlippageBps: slip.flatMap { $0.quantity > 0 ? $0.weighted / $0.quantity : nil },
                positions: positions(of: f.id, mids: mids).filter { !$0.quantity.isZero || !$0.realized.isZero },
                realizedInAccountCurrency: pnl.realized, unrealizedInAccountCurrency: pnl.unrealized)
        }
        return AgentSummary(
            runningSeconds: Double(now &- startedMonotonic) / 1e9, signals: signals, copies: copies,
            ordersSent: ordersSent, filledOrders: filledOrders, rejectedOrders: rejectedOrders,
            unfilledOrders: unfilledOrders, skips: skips, latencyP50Micros: percentile(0.5, of: sorted),
            latencyP99Micros: percentile(0.99, of: sorted), latencyMaxMicros: sorted.last.map { Double($0) / 1000 },
            latencySamples: sorted.count, averageSlippageBps: slipQuantity > 0 ? slipWeighted / slipQuantity : nil,
            accountCurrency: accountCurrency, followers: rows)
    }
}
