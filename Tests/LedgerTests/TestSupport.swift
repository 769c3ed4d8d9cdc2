import FIXCore
import Testing

@testable import Ledger

/// `FixedDecimal` from text, trapping on a typo in a test.
func d(_ text: String) -> FixedDecimal {
    guard let value = FixedDecimal(text) else { preconditionFailure("bad decimal literal \(text)") }
    return value
}

/// An instant in 2025 (UTC).
func at(_ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, ms: Int = 0) -> UTCTimestamp {
    UTCTimestamp(year: 2025, month: month, day: day, hour: hour, minute: minute, nanosecond: ms * 1_000_000)!
}

/// A ledger in memory with shorthands for the inputs the scenarios use.
struct Scenario {
    let ledger: Ledger
    var execSequence = 0

    init() throws {
        ledger = try Ledger.inMemory()
    }

    init(ledger: Ledger) {
        self.ledger = ledger
    }

    func deposit(
        _ amount: String, follower: String = "F1", account: String = "A1", currency: String = "USD",
        at time: UTCTimestamp, id: String? = nil
    ) throws {
        let flow = CashFlow(
            flowID: id ?? "dep-\(follower)-\(account)-\(time.nanosecondsSinceEpoch)",
            account: .follower(follower, account: account), kind: .deposit, amount: d(amount), currency: currency,
            time: time)
        #expect(try ledger.record(flow) == .recorded)
    }

    func withdraw(
        _ amount: String, follower: String = "F1", account: String = "A1", currency: String = "USD",
        at time: UTCTimestamp
    ) throws {
        let flow = CashFlow(
            flowID: "wd-\(follower)-\(account)-\(time.nanosecondsSinceEpoch)",
            account: .follower(follower, account: account), kind: .withdrawal, amount: d(amount), currency: currency,
            time: time)
        #expect(try ledger.record(flow) == .recorded)
    }

    func fund(
        provider: String, account: String = "PA", _ amount: String, currency: String = "USD", at time: UTCTimestamp
    )
        throws
    {
        let flow = CashFlow(
            flowID: "dep-\(provider)-\(time.nanosecondsSinceEpoch)", account: .provider(provider, account: account),
            kind: .deposit, amount: d(amount), currency: currency, time: time)
        #expect(try ledger.record(flow) == .recorded)
    }

    func subscribe(
        _ id: String, follower: String = "F1", account: String = "A1", provider: String = "P1",
        start: UTCTimestamp, terms: FeeTerms
    ) throws {
        let record = SubscriptionStart(
            subscriptionID: id, followerID: follower, account: account, providerID: provider, start: start,
            terms: terms)
        #expect(try ledger.record(record) == .recorded)
    }

    /// A follower fill copying provider `provider`'s fill `signal` (which is recorded first, at the same
    /// price unless `providerPrice` says otherwise).
    mutating func copy(
        _ side: Side, _ quantity: String, _ symbol: String = "EURUSD", at price: String,
        providerPrice: String? = nil, provider: String = "P1", follower: String = "F1", account: String = "A1",
        currency: String? = nil, commission: String = "0", time: UTCTimestamp
    ) throws {
        execSequence += 1
        let signal = "\(provider)-E\(execSequence)"
        let providerFill = ProviderFill(
            providerID: provider, account: "PA", execID: signal, symbol: symbol, side: side, quantity: d(quantity),
            price: d(providerPrice ?? price), currency: currency, transactTime: time)
        #expect(try ledger.record(providerFill) == .recorded)
        let fill = FollowerFill(
            followerID: follower, account: account, execID: "\(follower)-X\(execSequence)", symbol: symbol,
            side: side, quantity: d(quantity), price: d(price), currency: currency, commission: d(commission),
            providerID: provider, signalExecID: signal, transactTime: time)
        #expect(try ledger.record(fill) == .recorded)
    }

    /// A follower fill copying nobody.
    mutating func trade(
        _ side: Side, _ quantity: String, _ symbol: String, at price: String, follower: String = "F1",
        account: String = "A1", currency: String? = nil, commission: String = "0", time: UTCTimestamp
    ) throws {
        execSequence += 1
        let fill = FollowerFill(
            followerID: follower, account: account, execID: "\(follower)-M\(execSequence)", symbol: symbol,
            side: side, quantity: d(quantity), price: d(price), currency: currency, commission: d(commission),
            transactTime: time)
        #expect(try ledger.record(fill) == .recorded)
    }

    /// A provider fill on the provider's own account.
    mutating func providerTrade(
        _ side: Side, _ quantity: String, _ symbol: String, at price: String, provider: String = "P1",
        account: String = "PA", currency: String? = nil, time: UTCTimestamp
    ) throws {
        execSequence += 1
        let fill = ProviderFill(
            providerID: provider, account: account, execID: "\(provider)-E\(execSequence)", symbol: symbol,
            side: side, quantity: d(quantity), price: d(price), currency: currency, transactTime: time)
        #expect(try ledger.record(fill) == .recorded)
    }

    func mark(_ symbol: String, _ price: String, at time: UTCTimestamp) throws {
        #expect(try ledger.record(Mark(symbol: symbol, price: d(price), time: time)) == .recorded)
    }

    /// The account valued at `time`.
    func valuation(_ account: AccountRef = .follower("F1", account: "A1"), at time: UTCTimestamp) throws -> Valuation {
        let history = try ledger.history()
        var replay = try AccountReplay(history: history, account: account, prices: history.priceHistory())
        try replay.advance(before: time)
        return try replay.valuation(at: time)
    }

    /// Stored charges of one subscription and kind, in time order.
    func charges(_ subscription: String, _ kind: FeeKind) throws -> [FeeCharge] {
        try ledger.history().charges.filter { $0.subscriptionID == subscription && $0.kind == kind }
            .sorted { $0.crystallisedAt < $1.crystallisedAt }
    }
}
