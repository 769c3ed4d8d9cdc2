import FIXCore

/// A half-open reporting window `[from, to)`: events at or after `from` and strictly before `to`;
/// balances are as at `to` (every event strictly before it).
public struct ReportWindow: Sendable, Hashable {
    /// `nil`: from the account's first event.
    public var from: UTCTimestamp?
    public var to: UTCTimestamp

    public init(from: UTCTimestamp? = nil, to: UTCTimestamp) {
        self.from = from
        self.to = to
    }

    public func contains(_ time: UTCTimestamp) -> Bool {
        (from.map { $0 <= time } ?? true) && time < to
    }
}

/// Time-weighted return and drawdown of an account over a window.
public struct ReturnStatistics: Sendable, Hashable {
    /// Chain-linked time-weighted return (0.05 = +5 %); `nil` when no sub-period had positive equity
    /// to measure against (an account never funded).
    public var timeWeightedReturn: FixedDecimal?
    /// Largest peak-to-trough fall of the TWR index, as a fraction of the peak (0.10 = 10 %); `nil`
    /// as above.
    public var maxDrawdown: FixedDecimal?
    /// The TWR index at the end (1 at the start).
    public var index: FixedDecimal
    public var startEquity: FixedDecimal
    public var endEquity: FixedDecimal
    /// Deposits less withdrawals inside the window.
    public var netFlows: FixedDecimal
    /// Valuation points used.
    public var samples: Int
}

/// Win and loss figures over closed round trips.
public struct TradeStatistics: Sendable, Hashable {
    /// Closed round trips.
    public var trades = 0
    public var wins = 0
    public var losses = 0
    /// Sum of winning trips' net P&L.
    public var grossProfit = FixedDecimal.zero
    /// Sum of losing trips' net P&L (negative or zero).
    public var grossLoss = FixedDecimal.zero

    public init(_ trips: some Sequence<RoundTrip>) {
        for trip in trips {
            trades += 1
            let net = trip.net
            if net.isPositive {
                wins += 1
                grossProfit += net
            } else if net.isNegative {
                losses += 1
                grossLoss += net
            }
        }
    }

    /// Wins over closed round trips (a break-even trip is neither a win nor a loss, but counts).
    public var winRate: FixedDecimal? {
        trades == 0 ? nil : LedgerRounding.quotient(FixedDecimal(wins), FixedDecimal(trades))
    }

    /// Gross profit over the magnitude of gross loss; `nil` without a loss.
    public var profitFactor: FixedDecimal? {
        grossLoss.isZero ? nil : LedgerRounding.quotient(grossProfit, grossLoss.magnitude)
    }

    public var averageWin: FixedDecimal? {
        wins == 0 ? nil : LedgerRounding.quotient(grossProfit, FixedDecimal(wins))
    }

    /// Negative.
    public var averageLoss: FixedDecimal? {
        losses == 0 ? nil : LedgerRounding.quotient(grossLoss, FixedDecimal(losses))
    }
}

/// One copy: a follower order (or the fills of one signal without an order record) against the
/// provider fill it copied.
public struct CopyRecord: Sendable, Hashable {
    public var orderID: String?
    public var followerID: String
    public var account: String
    public var providerID: String
    public var signalExecID: String
    public var symbol: String
    public var side: Side
    public var orderedQuantity: FixedDecimal?
    public var filledQuantity: FixedDecimal
    /// Quantity-weighted fill price (R4).
    public var averagePrice: FixedDecimal?
    public var providerPrice: FixedDecimal?
    /// `(average − provider) / provider × 10,000`, negated for sells: positive when the follower did
    /// worse than the provider (R4).
    public var slippageBps: FixedDecimal?
    /// Provider fill received → follower order sent.
    public var sentLatencyNanos: Int64?
    /// Provider fill received → the follower's last fill received.
    public var filledLatencyNanos: Int64?
    /// When the signal was received (the copy's time in windows).
    public var signalReceivedAt: UTCTimestamp
}

enum LedgerMath {
    /// `a × b` rounded half-even to ``LedgerRounding/internalScale``, with the exact product in between
    /// (no intermediate rounding at ``FixedDecimal/maximumScale``).
    static func multiply(_ a: FixedDecimal, _ b: FixedDecimal) -> FixedDecimal {
        let x = a.normalized
        let y = b.normalized
        let scale = x.scale + y.scale
        let (product, overflow) = x.mantissa.multipliedReportingOverflow(by: y.mantissa)
        precondition(!overflow, "ledger product overflow: \(a) × \(b)")
        let target = LedgerRounding.internalScale
        if scale <= target { return FixedDecimal(mantissa: product, scale: scale) }
        var divisor: Int128 = 1
        for _ in 0..<(scale - target) { divisor *= 10 }
        var q = product / divisor
        let r = product % divisor
        let twice = (r < 0 ? -r : r) * 2
        if twice > divisor || (twice == divisor && q % 2 != 0) { q += product < 0 ? -1 : 1 }
        return FixedDecimal(mantissa: q, scale: target)
    }
}

public enum Statistics {
    /// Chain-linked time-weighted return and maximum drawdown of `account` over `window`.
    ///
    /// The account is valued (equity: flows + realised + unrealised − commissions − fees) at the start,
    /// at every cash flow, at every UTC midnight and at the end. Between two valuation points the
    /// sub-period return is `E_end / (E_start + flows at the start) − 1`, so a flow is capital, not
    /// performance; the index chains `1 + r` (R4 at each link). A sub-period that starts with zero or
    /// negative equity, or before the account's first deposit, has no return and is skipped; an
    /// account never funded has no return at all.
    ///
    /// Maximum drawdown is measured on that index, not on equity: a deposit lifts equity but not the
    /// index, so it never looks like a recovery, and a withdrawal never looks like a loss.
    public static func returns(
        history: LedgerHistory, prices: PriceHistory, account: AccountRef, window: ReportWindow
    ) throws -> ReturnStatistics {
        var replay = try AccountReplay(history: history, account: account, prices: prices)
        let start = window.from ?? history.firstEventTime(of: account) ?? window.to
        var flowsAt: [UTCTimestamp: FixedDecimal] = [:]
        var netFlows = FixedDecimal.zero
        for flow in history.cashFlows(of: account) where flow.time >= start && flow.time < window.to {
            flowsAt[flow.time, default: .zero] += flow.signedAmount
            netFlows += flow.signedAmount
        }
        var times = Set(flowsAt.keys)
        times.insert(start)
        if start < window.to {
            times.insert(window.to)
            for midnight in LedgerCalendar.midnights(after: start, through: window.to) { times.insert(midnight) }
        }
        // Equity made of P&L alone (no capital ever deposited) has nothing to measure a return against.
        let fundedFrom = history.cashFlows(of: account).first { $0.kind == .deposit }?.time
        var index = FixedDecimal.one
        var peak = FixedDecimal.one
        var drawdown = FixedDecimal.zero
        var measured = false
        var base: FixedDecimal?
        var previous: UTCTimestamp?
        var startEquity = FixedDecimal.zero
        var endEquity = FixedDecimal.zero
        let sorted = times.sorted()
        for time in sorted {
            try replay.advance(before: time)
            let equity = try replay.equity(at: time)
            if time == start { startEquity = equity }
            endEquity = equity
            if let base, let previous, base.isPositive, let fundedFrom, fundedFrom <= previous {
                index = LedgerMath.multiply(index, LedgerRounding.quotient(equity, base))
                measured = true
                if index > peak { peak = index }
                let fall = LedgerRounding.quotient(peak - index, peak)
                if fall > drawdown { drawdown = fall }
            }
            base = equity + (time < window.to ? flowsAt[time] ?? .zero : .zero)
            previous = time
        }
        return ReturnStatistics(
            timeWeightedReturn: measured ? index - .one : nil, maxDrawdown: measured ? drawdown : nil, index: index,
            startEquity: startEquity, endEquity: endEquity, netFlows: netFlows, samples: sorted.count)
    }

    /// Every copy in the history: follower fills grouped by order (or by signal when the fill names no
    /// order), with orders that never filled.
    public static func copies(history: LedgerHistory) -> [CopyRecord] {
        struct Key: Hashable {
            var followerID: String
            var account: String
            var group: String
        }
        var providerFills: [String: ProviderFill] = [:]
        for fill in history.providerFills { providerFills[fill.providerID + "\u{1F}" + fill.execID] = fill }
        var orders: [String: FollowerOrder] = [:]
        for order in history.followerOrders { orders[order.orderID] = order }

        var groups: [Key: [FollowerFill]] = [:]
        var keys: [Key] = []
        for fill in history.followerFills {
            guard fill.providerID != nil, fill.signalExecID != nil || fill.orderID != nil else { continue }
            let key = Key(
                followerID: fill.followerID, account: fill.account,
                group: fill.orderID.map { "order:" + $0 } ?? "signal:" + (fill.signalExecID ?? ""))
            if groups[key] == nil { keys.append(key) }
            groups[key, default: []].append(fill)
        }
        for order in history.followerOrders {
            let key = Key(followerID: order.followerID, account: order.account, group: "order:" + order.orderID)
            if groups[key] == nil {
                keys.append(key)
                groups[key] = []
            }
        }

        var records: [CopyRecord] = []
        for key in keys {
            let fills = groups[key]!
            let orderID = key.group.hasPrefix("order:") ? String(key.group.dropFirst(6)) : nil
            let order = orderID.flatMap { orders[$0] }
            guard
                let providerID = order?.providerID ?? fills.first?.providerID,
                let signal = order?.signalExecID ?? fills.first(where: { $0.signalExecID != nil })?.signalExecID,
                let symbol = order?.symbol ?? fills.first?.symbol, let side = order?.side ?? fills.first?.side
            else { continue }
            let providerFill = providerFills[providerID + "\u{1F}" + signal]
            let providerPrice = fills.lazy.compactMap(\.providerFillPrice).first ?? providerFill?.price
            var quantity = FixedDecimal.zero
            var cost = FixedDecimal.zero
            for fill in fills {
                quantity += fill.quantity
                cost += fill.quantity * fill.price
            }
            var record = CopyRecord(
                orderID: orderID, followerID: key.followerID, account: key.account, providerID: providerID,
                signalExecID: signal, symbol: symbol, side: side, orderedQuantity: order?.quantity,
                filledQuantity: quantity, averagePrice: nil, providerPrice: providerPrice, slippageBps: nil,
                sentLatencyNanos: nil, filledLatencyNanos: nil,
                signalReceivedAt: order?.signalReceivedAt ?? providerFill?.receivedAt ?? fills.first!.transactTime)
            if quantity.isPositive {
                record.averagePrice = LedgerRounding.quotient(cost, quantity).normalized
                if let providerPrice {
                    // (cost − Q·P) / (Q·P): one division, no rounded average in between.
                    let reference = quantity * providerPrice
                    record.slippageBps =
                        LedgerRounding.quotient(
                            (cost - reference) * FixedDecimal(10_000) * side.signedOne, reference
                        ).normalized
                }
            }
            let received = order?.signalReceivedAt ?? providerFill?.receivedAt
            if let received {
                if let order {
                    record.sentLatencyNanos = order.sentAt.nanosecondsSinceEpoch - received.nanosecondsSinceEpoch
                }
                if let last = fills.map(\.receivedAt).max() {
                    record.filledLatencyNanos = last.nanosecondsSinceEpoch - received.nanosecondsSinceEpoch
                }
            }
            records.append(record)
        }
        return records.sorted { a, b in
            a.signalReceivedAt != b.signalReceivedAt
                ? a.signalReceivedAt < b.signalReceivedAt
                : (a.followerID, a.account, a.orderID ?? "") < (b.followerID, b.account, b.orderID ?? "")
        }
    }
}
