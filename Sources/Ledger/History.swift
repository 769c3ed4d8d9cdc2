import FIXCore

/// A subscription as recorded: its start, terms and, once stopped, its stop.
public struct Subscription: Sendable, Hashable {
    public var id: String
    public var account: AccountRef
    public var followerID: String
    public var providerID: String
    public var start: UTCTimestamp
    public var stop: UTCTimestamp?
    public var terms: FeeTerms

    public init(_ start: SubscriptionStart, stop: UTCTimestamp? = nil) {
        self.id = start.subscriptionID
        self.account = start.accountRef
        self.followerID = start.followerID
        self.providerID = start.providerID
        self.start = start.start
        self.stop = stop
        self.terms = start.terms
    }

    /// Copying in `[start, stop)`.
    public func isActive(at time: UTCTimestamp) -> Bool {
        start <= time && (stop.map { time < $0 } ?? true)
    }
}

/// The kinds of fee.
public enum FeeKind: String, Sendable, Hashable, Codable, CaseIterable {
    case management
    case volume
    case performance
}

/// Why fees crystallised.
public enum CrystallisationReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// The end of a fee period (monthly or quarterly from the start date).
    case periodEnd
    /// The follower stopped copying.
    case stop
    /// A withdrawal from the follower's account under `OnWithdrawal=crystallise`.
    case withdrawal
    /// Not crystallised: what would be charged if the period ended now (statements only).
    case accrued
}

/// One fee charged to a follower for one subscription, as crystallised.
public struct FeeCharge: Sendable, Hashable {
    /// `subscription|crystallisation ns|kind`: crystallising twice records once.
    public var chargeID: String
    public var subscriptionID: String
    public var account: AccountRef
    public var providerID: String
    public var kind: FeeKind
    public var reason: CrystallisationReason
    /// The previous crystallisation (or the subscription start).
    public var periodStart: UTCTimestamp
    /// The instant of crystallisation: the charge sees every event before it.
    public var crystallisedAt: UTCTimestamp
    /// What the rate applied to: management fee accrued unrounded, notional traded, or the net P&L
    /// above the high-water mark (zero or negative when there was none).
    public var basis: FixedDecimal
    public var rate: FixedDecimal
    /// The charge, rounded at R5; never negative.
    public var amount: FixedDecimal
    /// The platform's part (R5 of amount × share) and the provider's (the rest).
    public var platformAmount: FixedDecimal
    public var providerAmount: FixedDecimal
    public var currency: String
    /// The subscription's cumulative net P&L at crystallisation (performance only, else zero).
    public var netPnL: FixedDecimal
    public var highWaterMarkBefore: FixedDecimal
    public var highWaterMarkAfter: FixedDecimal
}

/// Where a subscription's fee accounting stands after its last crystallisation.
public struct SubscriptionFeeState: Sendable, Hashable {
    public var subscriptionID: String
    /// The cumulative net P&L at the last crystallisation that charged a performance fee (0 at start).
    public var highWaterMark: FixedDecimal
    public var lastCrystallisedAt: UTCTimestamp?
    /// Totals charged so far; the performance basis is net of management and volume fees.
    public var managementCharged: FixedDecimal
    public var volumeCharged: FixedDecimal
    public var performanceCharged: FixedDecimal

    public init(subscriptionID: String) {
        self.subscriptionID = subscriptionID
        self.highWaterMark = .zero
        self.lastCrystallisedAt = nil
        self.managementCharged = .zero
        self.volumeCharged = .zero
        self.performanceCharged = .zero
    }
}

/// Everything the ledger holds, in memory: the input to every computation.
///
/// All figures are pure functions of this value, so a report computed from a reopened database is
/// the report computed before closing it.
public struct LedgerHistory: Sendable {
    /// Currencies resolved: ``ProviderFill/currency`` is never `nil` here.
    public var providerFills: [ProviderFill] = []
    public var followerOrders: [FollowerOrder] = []
    /// Currencies resolved, as above.
    public var followerFills: [FollowerFill] = []
    public var cashFlows: [CashFlow] = []
    public var marks: [Mark] = []
    public var subscriptions: [Subscription] = []
    public var charges: [FeeCharge] = []
    public var feeStates: [String: SubscriptionFeeState] = [:]
    /// Account currencies: opened explicitly, or by the first cash flow.
    public var accountCurrencies: [AccountRef: String] = [:]

    public init() {}

    /// Every price observation (marks and fills).
    public func priceHistory() -> PriceHistory {
        var fills: [(symbol: String, price: FixedDecimal, time: UTCTimestamp)] = []
        fills.reserveCapacity(providerFills.count + followerFills.count)
        for fill in providerFills { fills.append((fill.symbol, fill.price, fill.transactTime)) }
        for fill in followerFills { fills.append((fill.symbol, fill.price, fill.transactTime)) }
        return PriceHistory(marks: marks, fills: fills)
    }

    /// Every account with a fill, a cash flow or an explicit currency (so every one has a currency).
    /// A subscription alone does not make an account: until it is funded or trades, there is nothing in it.
    public var accounts: [AccountRef] {
        var set = Set(accountCurrencies.keys)
        for fill in providerFills { set.insert(fill.accountRef) }
        for fill in followerFills { set.insert(fill.accountRef) }
        for flow in cashFlows { set.insert(flow.account) }
        return set.sorted()
    }

    /// The account currency: as opened or first funded; for an account never funded, the P&L
    /// currency of its first fill.
    public func currency(of account: AccountRef) throws -> String {
        if let currency = accountCurrencies[account] { return currency }
        if let fill = bookFills(of: account).first { return fill.currency }
        throw LedgerError.unknownAccount(account)
    }

    /// The account's fills in time order (ties in recording order).
    public func bookFills(of account: AccountRef) -> [BookFill] {
        var fills: [BookFill] = []
        switch account.owner {
        case .provider(let id):
            for fill in providerFills where fill.providerID == id && fill.account == account.account {
                fills.append(
                    BookFill(
                        fillID: fill.execID, account: account, symbol: fill.symbol, side: fill.side,
                        quantity: fill.quantity, price: fill.price, currency: fill.currency ?? "",
                        commission: fill.commission, time: fill.transactTime, attribution: .provider(id)))
            }
        case .follower(let id):
            for fill in followerFills where fill.followerID == id && fill.account == account.account {
                fills.append(
                    BookFill(
                        fillID: fill.execID, account: account, symbol: fill.symbol, side: fill.side,
                        quantity: fill.quantity, price: fill.price, currency: fill.currency ?? "",
                        commission: fill.commission, time: fill.transactTime, attribution: fill.attribution))
            }
        }
        // Stable: equal times keep recording order.
        return fills.enumerated().sorted { a, b in
            a.element.time != b.element.time ? a.element.time < b.element.time : a.offset < b.offset
        }.map(\.element)
    }

    public func cashFlows(of account: AccountRef) -> [CashFlow] {
        cashFlows.filter { $0.account == account }.enumerated().sorted { a, b in
            a.element.time != b.element.time ? a.element.time < b.element.time : a.offset < b.offset
        }.map(\.element)
    }

    public func charges(of account: AccountRef) -> [FeeCharge] {
        charges.filter { $0.account == account }.sorted { a, b in
            a.crystallisedAt != b.crystallisedAt ? a.crystallisedAt < b.crystallisedAt : a.chargeID < b.chargeID
        }
    }

    /// For each of `accounts`, the history of that account alone: its fills, cash flows, charges
    /// and subscriptions, with everything not kept per account (marks, orders, fee states,
    /// currencies) shared. Whatever one account's figures read from it, they read the same as
    /// from the whole history; one pass makes them all, where asking the whole history account by
    /// account goes through every fill once per account.
    func partitioned(_ accounts: [AccountRef]) -> [AccountRef: LedgerHistory] {
        var empty = self
        empty.providerFills = []
        empty.followerFills = []
        empty.cashFlows = []
        empty.charges = []
        empty.subscriptions = []
        var parts = Dictionary(uniqueKeysWithValues: accounts.map { ($0, empty) })
        for fill in providerFills { parts[fill.accountRef]?.providerFills.append(fill) }
        for fill in followerFills { parts[fill.accountRef]?.followerFills.append(fill) }
        for flow in cashFlows { parts[flow.account]?.cashFlows.append(flow) }
        for charge in charges { parts[charge.account]?.charges.append(charge) }
        for subscription in subscriptions { parts[subscription.account]?.subscriptions.append(subscription) }
        return parts
    }

    /// The earliest event of the account, if any.
    func firstEventTime(of account: AccountRef) -> UTCTimestamp? {
        let times = [bookFills(of: account).first?.time, cashFlows(of: account).first?.time].compactMap { $0 }
        return times.min()
    }
}
