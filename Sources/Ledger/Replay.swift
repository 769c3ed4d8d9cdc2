import FIXCore

/// One source's figures in an account valuation, in the account currency.
public struct SourceValuation: Sendable, Hashable {
    public var realised = FixedDecimal.zero
    public var unrealised = FixedDecimal.zero
    public var commission = FixedDecimal.zero
    public var notional = FixedDecimal.zero
    /// Why some notional is missing (a fill with no conversion rate at its time), if it is.
    public var notionalGap: LedgerError?

    /// Trading P&L net of commissions.
    public var net: FixedDecimal { realised + unrealised - commission }
}

/// One symbol's figures in an account valuation.
public struct SymbolValuation: Sendable, Hashable {
    public var symbol: String
    /// The P&L currency.
    public var currency: String
    /// Signed units.
    public var position: FixedDecimal
    public var averageOpenPrice: FixedDecimal?
    /// The price used for unrealised P&L (`nil` when flat).
    public var price: FixedDecimal?
    /// Unrealised P&L in the P&L currency (exact) and in the account currency (R1).
    public var unrealisedInQuote: FixedDecimal
    public var unrealised: FixedDecimal
    public var realised: FixedDecimal
    public var commission: FixedDecimal
    public var fills: Int
}

/// An account's figures at an instant, counting every event strictly before it.
public struct Valuation: Sendable {
    public var time: UTCTimestamp
    public var currency: String
    /// Deposits less withdrawals.
    public var netFlows: FixedDecimal
    public var realised: FixedDecimal
    public var unrealised: FixedDecimal
    public var commission: FixedDecimal
    /// Fees charged (crystallised) to the account.
    public var fees: FixedDecimal
    public var symbols: [SymbolValuation]
    public var sources: [Attribution: SourceValuation]

    /// Trading P&L net of commissions (fees excluded).
    public var tradingNet: FixedDecimal { realised + unrealised - commission }
    /// What the account is worth: flows plus trading P&L less commissions and fees.
    public var equity: FixedDecimal { netFlows + tradingNet - fees }
}

/// Replays one account's events in time order, so that it can be valued at any later instant.
///
/// Events at the same instant apply in this order: fee charges, cash flows, fills (each kind in
/// recording order). A valuation at `t` counts events strictly before `t` and prices strictly before
/// `t`; a fill's realised P&L and notional convert at the fill's own instant (prices at or before it).
struct AccountReplay {
    enum Event {
        case charge(FeeCharge)
        case flow(CashFlow)
        case fill(BookFill)

        var time: UTCTimestamp {
            switch self {
            case .charge(let charge): return charge.crystallisedAt
            case .flow(let flow): return flow.time
            case .fill(let fill): return fill.time
            }
        }

        var rank: Int {
            switch self {
            case .charge: return 0
            case .flow: return 1
            case .fill: return 2
            }
        }
    }

    let account: AccountRef
    let currency: String
    let prices: PriceHistory
    private let events: [Event]
    private var next = 0
    private(set) var total: PositionBook
    private(set) var sources: [Attribution: PositionBook] = [:]
    private(set) var netFlows = FixedDecimal.zero
    private(set) var fees = FixedDecimal.zero

    init(history: LedgerHistory, account: AccountRef, prices: PriceHistory, includeCharges: Bool = true) throws {
        self.account = account
        self.currency = try history.currency(of: account)
        self.prices = prices
        var events: [Event] = []
        if includeCharges { events += history.charges(of: account).map(Event.charge) }
        events += history.cashFlows(of: account).map(Event.flow)
        events += history.bookFills(of: account).map(Event.fill)
        self.events = events.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            if x.time != y.time { return x.time < y.time }
            if x.rank != y.rank { return x.rank < y.rank }
            return a.offset < b.offset
        }.map(\.element)
        self.total = PositionBook(accountCurrency: currency)
    }

    /// The time of the next event not yet applied.
    var nextEventTime: UTCTimestamp? { next < events.count ? events[next].time : nil }

    /// Applies every event strictly before `time`.
    mutating func advance(before time: UTCTimestamp) throws {
        while next < events.count, events[next].time < time {
            try apply(events[next])
            next += 1
        }
    }

    /// Applies every remaining event.
    mutating func advanceToEnd() throws {
        while next < events.count {
            try apply(events[next])
            next += 1
        }
    }

    /// Books a fee charged now (the fee engine's own charges, as it makes them).
    mutating func charge(_ amount: FixedDecimal) {
        fees += amount
    }

    private mutating func apply(_ event: Event) throws {
        switch event {
        case .charge(let charge):
            fees += charge.amount
        case .flow(let flow):
            netFlows += flow.signedAmount
        case .fill(let fill):
            let convert = { [prices, currency] (amount: FixedDecimal) throws -> FixedDecimal in
                try prices.convert(amount, from: fill.currency, to: currency, at: fill.time, inclusive: true)
            }
            // Both books take the fill or neither. Worked out first and then booked in place: a
            // copy of a book, changed, would copy its round trips on every fill.
            let inTotal = try total.prepare(fill, toAccount: convert)
            let inSource = try (sources[fill.attribution] ?? PositionBook(accountCurrency: currency)).prepare(
                fill, toAccount: convert)
            total.commit(inTotal)
            sources[fill.attribution, default: PositionBook(accountCurrency: currency)].commit(inSource)
        }
    }

    /// Unrealised P&L of a book at `time` in the account currency, with per-symbol detail unless
    /// `detail` is false (equity and fee steps only need the sum).
    func unrealised(
        of book: PositionBook, at time: UTCTimestamp, detail: Bool = true
    ) throws -> (
        FixedDecimal, [SymbolValuation]
    ) {
        var sum = FixedDecimal.zero
        var rows: [SymbolValuation] = []
        if !detail {
            for state in book.symbols.values where state.book.direction != 0 {
                guard let price = prices.price(state.symbol, at: time, inclusive: false) else {
                    preconditionFailure("open position in \(state.symbol) with no price before \(time)")
                }
                sum += try prices.convert(
                    state.book.unrealised(at: price), from: state.currency, to: currency, at: time, inclusive: false)
            }
            return (sum, rows)
        }
        for key in book.symbols.keys.sorted() {
            let state = book.symbols[key]!
            var row = SymbolValuation(
                symbol: state.symbol, currency: state.currency, position: state.book.position,
                averageOpenPrice: state.book.averageOpenPrice, price: nil, unrealisedInQuote: .zero,
                unrealised: .zero, realised: state.realised, commission: state.commission, fills: state.fills)
            if state.book.direction != 0 {
                guard let price = prices.price(state.symbol, at: time, inclusive: false) else {
                    preconditionFailure("open position in \(state.symbol) with no price before \(time)")
                }
                row.price = price
                row.unrealisedInQuote = state.book.unrealised(at: price)
                row.unrealised = try prices.convert(
                    row.unrealisedInQuote, from: state.currency, to: currency, at: time, inclusive: false)
                sum += row.unrealised
            }
            rows.append(row)
        }
        return (sum, rows)
    }

    /// The account valued at `time`, after ``advance(before:)`` to `time`.
    func valuation(at time: UTCTimestamp, withSources: Bool = true) throws -> Valuation {
        let (unrealised, symbols) = try self.unrealised(of: total, at: time)
        var sourceValues: [Attribution: SourceValuation] = [:]
        if withSources {
            for (attribution, book) in sources {
                sourceValues[attribution] = try sourceValuation(book, at: time)
            }
        }
        return Valuation(
            time: time, currency: currency, netFlows: netFlows, realised: total.realised, unrealised: unrealised,
            commission: total.commission, fees: fees, symbols: symbols, sources: sourceValues)
    }

    /// One source's figures at `time` (zero when the source never traded).
    func sourceValuation(_ attribution: Attribution, at time: UTCTimestamp) throws -> SourceValuation {
        guard let book = sources[attribution] else { return SourceValuation() }
        return try sourceValuation(book, at: time)
    }

    private func sourceValuation(_ book: PositionBook, at time: UTCTimestamp) throws -> SourceValuation {
        SourceValuation(
            realised: book.realised, unrealised: try unrealised(of: book, at: time, detail: false).0,
            commission: book.commission,
            notional: book.notional, notionalGap: book.notionalGap)
    }

    /// Account equity at `time` (cheaper than a full valuation).
    func equity(at time: UTCTimestamp) throws -> FixedDecimal {
        let (unrealised, _) = try self.unrealised(of: total, at: time, detail: false)
        return netFlows + total.realised + unrealised - total.commission - fees
    }
}

/// UTC calendar helpers for day ends and fee periods.
enum LedgerCalendar {
    static let nanosPerDay: Int64 = 86_400_000_000_000

    /// Midnight UTC at the start of the day containing `time`.
    static func startOfDay(_ time: UTCTimestamp) -> UTCTimestamp {
        let days = floorDays(time)
        return UTCTimestamp(nanosecondsSinceEpoch: days * nanosPerDay, precision: time.precision)
    }

    static func floorDays(_ time: UTCTimestamp) -> Int64 {
        let n = time.nanosecondsSinceEpoch
        let q = n / nanosPerDay
        return (n % nanosPerDay != 0 && n < 0) ? q - 1 : q
    }

    static func midnight(days: Int64) -> UTCTimestamp {
        UTCTimestamp(nanosecondsSinceEpoch: days * nanosPerDay, precision: .milliseconds)
    }

    /// Every midnight `m` with `after < m <= through`.
    static func midnights(after: UTCTimestamp, through: UTCTimestamp) -> [UTCTimestamp] {
        guard after < through else { return [] }
        var day = floorDays(after) + 1
        var result: [UTCTimestamp] = []
        while day * nanosPerDay <= through.nanosecondsSinceEpoch {
            result.append(midnight(days: day))
            day += 1
        }
        return result
    }

    /// Midnight UTC of the date `months` calendar months after `anchor`'s date, the day clamped to
    /// the month's length (a 31 January anchor gives 28 or 29 February, then 31 March).
    static func periodBoundary(anchor: UTCTimestamp, months: Int) -> UTCTimestamp {
        let c = anchor.components
        let monthIndex = c.year * 12 + (c.month - 1) + months
        let year = monthIndex / 12
        let month = monthIndex % 12 + 1
        let lastDay = (28...31).last { FIXDate(year: year, month: month, day: $0) != nil }!
        let date = FIXDate(year: year, month: month, day: min(c.day, lastDay))!
        return midnight(days: Int64(date.daysSinceEpoch))
    }
}
