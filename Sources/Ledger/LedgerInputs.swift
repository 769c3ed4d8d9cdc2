import FIXCore

// The ledger's own input vocabulary. The copy engine maps its events into these types; nothing here
// depends on the engine, so the ledger can be fed from a journal replay, an import or a test alike.

/// Buy or sell, as the account saw it.
public enum Side: String, Sendable, Hashable, Codable, CaseIterable {
    case buy
    case sell

    /// +1 for a buy, -1 for a sell: the sign of the position change.
    public var sign: Int {
        switch self {
        case .buy: return 1
        case .sell: return -1
        }
    }

    /// The side as a signed multiplier.
    public var signedOne: FixedDecimal { FixedDecimal(sign) }
}

/// Whose account it is: a signal provider's or a follower's.
public enum AccountOwner: Sendable, Hashable, Comparable, CustomStringConvertible {
    case provider(String)
    case follower(String)

    /// The provider or follower identifier.
    public var id: String {
        switch self {
        case .provider(let id), .follower(let id): return id
        }
    }

    /// `provider` or `follower`.
    public var kind: String {
        switch self {
        case .provider: return "provider"
        case .follower: return "follower"
        }
    }

    /// Parses the `kind` and `id` pair written by ``kind`` and ``id``.
    public init?(kind: String, id: String) {
        switch kind {
        case "provider": self = .provider(id)
        case "follower": self = .follower(id)
        default: return nil
        }
    }

    public var description: String { "\(kind):\(id)" }

    public static func < (lhs: AccountOwner, rhs: AccountOwner) -> Bool {
        (lhs.kind, lhs.id) < (rhs.kind, rhs.id)
    }
}

/// One trading account: its owner and the account name at the broker.
public struct AccountRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var owner: AccountOwner
    public var account: String

    public init(owner: AccountOwner, account: String) {
        self.owner = owner
        self.account = account
    }

    public static func follower(_ id: String, account: String) -> AccountRef {
        AccountRef(owner: .follower(id), account: account)
    }

    public static func provider(_ id: String, account: String) -> AccountRef {
        AccountRef(owner: .provider(id), account: account)
    }

    public var description: String { "\(owner)/\(account)" }

    public static func < (lhs: AccountRef, rhs: AccountRef) -> Bool {
        (lhs.owner, lhs.account) < (rhs.owner, rhs.account)
    }
}

/// A fill on a signal provider's account (an ExecutionReport seen on the provider's drop copy).
public struct ProviderFill: Sendable, Hashable {
    public var providerID: String
    public var account: String
    /// The broker's ExecID: the fill's identity, and the signal id follower orders refer to.
    public var execID: String
    public var symbol: String
    public var side: Side
    /// Units (not lots, not contracts); positive.
    public var quantity: FixedDecimal
    public var price: FixedDecimal
    /// The P&L currency (the instrument's quote currency, FIX Currency(15)); `nil` derives it from
    /// a currency-pair symbol (`USD/JPY` or `USDJPY` quote in JPY).
    public var currency: String?
    /// In the account currency; zero when the broker reports none.
    public var commission: FixedDecimal
    /// The broker's TransactTime: when the fill happened. Positions and P&L follow this clock.
    public var transactTime: UTCTimestamp
    /// When the bridge received the report: the start of every copy's latency.
    public var receivedAt: UTCTimestamp

    public init(
        providerID: String, account: String, execID: String, symbol: String, side: Side, quantity: FixedDecimal,
        price: FixedDecimal, currency: String? = nil, commission: FixedDecimal = .zero, transactTime: UTCTimestamp,
        receivedAt: UTCTimestamp? = nil
    ) {
        self.providerID = providerID
        self.account = account
        self.execID = execID
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.price = price
        self.currency = currency
        self.commission = commission
        self.transactTime = transactTime
        self.receivedAt = receivedAt ?? transactTime
    }

    public var accountRef: AccountRef { .provider(providerID, account: account) }
}

/// An order the bridge sent for a follower, copying one provider fill.
public struct FollowerOrder: Sendable, Hashable {
    /// The ClOrdID (deterministic in the engine, so globally unique).
    public var orderID: String
    public var followerID: String
    public var account: String
    public var symbol: String
    public var side: Side
    public var quantity: FixedDecimal
    /// The provider whose fill this order copies.
    public var providerID: String
    /// That provider fill's ExecID.
    public var signalExecID: String
    /// When the provider fill was received by the bridge.
    public var signalReceivedAt: UTCTimestamp
    /// When the order left the bridge.
    public var sentAt: UTCTimestamp

    public init(
        orderID: String, followerID: String, account: String, symbol: String, side: Side, quantity: FixedDecimal,
        providerID: String, signalExecID: String, signalReceivedAt: UTCTimestamp, sentAt: UTCTimestamp
    ) {
        self.orderID = orderID
        self.followerID = followerID
        self.account = account
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.providerID = providerID
        self.signalExecID = signalExecID
        self.signalReceivedAt = signalReceivedAt
        self.sentAt = sentAt
    }
}

/// Where a follower fill's P&L belongs: the provider whose signal it copied, or nobody.
public enum Attribution: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Copied from this provider's signal.
    case provider(String)
    /// Not a copy (a manual trade, or a fill the engine could not tie to a signal).
    case unattributed

    public var description: String {
        switch self {
        case .provider(let id): return id
        case .unattributed: return "unattributed"
        }
    }

    public static func < (lhs: Attribution, rhs: Attribution) -> Bool {
        switch (lhs, rhs) {
        case (.provider(let a), .provider(let b)): return a < b
        case (.provider, .unattributed): return true
        case (.unattributed, _): return false
        }
    }
}

/// A fill on a follower's account.
public struct FollowerFill: Sendable, Hashable {
    public var followerID: String
    public var account: String
    /// The follower broker's ExecID; unique per follower account.
    public var execID: String
    /// The ClOrdID of the copy order, when the fill belongs to one.
    public var orderID: String?
    public var symbol: String
    public var side: Side
    public var quantity: FixedDecimal
    public var price: FixedDecimal
    /// The P&L currency, as in ``ProviderFill/currency``.
    public var currency: String?
    /// In the account currency.
    public var commission: FixedDecimal
    /// The provider this fill copies; `nil` for a fill that copies nobody.
    public var providerID: String?
    /// The provider fill's ExecID (the signal).
    public var signalExecID: String?
    /// The provider's fill price, for slippage; `nil` looks it up from the recorded provider fill.
    public var providerFillPrice: FixedDecimal?
    public var transactTime: UTCTimestamp
    public var receivedAt: UTCTimestamp

    public init(
        followerID: String, account: String, execID: String, orderID: String? = nil, symbol: String, side: Side,
        quantity: FixedDecimal, price: FixedDecimal, currency: String? = nil, commission: FixedDecimal = .zero,
        providerID: String? = nil, signalExecID: String? = nil, providerFillPrice: FixedDecimal? = nil,
        transactTime: UTCTimestamp, receivedAt: UTCTimestamp? = nil
    ) {
        self.followerID = followerID
        self.account = account
        self.execID = execID
        self.orderID = orderID
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.price = price
        self.currency = currency
        self.commission = commission
        self.providerID = providerID
        self.signalExecID = signalExecID
        self.providerFillPrice = providerFillPrice
        self.transactTime = transactTime
        self.receivedAt = receivedAt ?? transactTime
    }

    public var accountRef: AccountRef { .follower(followerID, account: account) }

    public var attribution: Attribution {
        providerID.map(Attribution.provider) ?? .unattributed
    }
}

/// Money in or out of an account. Never profit or loss: returns and fees look through it.
public struct CashFlow: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case deposit
        case withdrawal
    }

    /// Unique id (the CLI makes one up; the admin API passes the client's, so a retry is recognised).
    public var flowID: String
    public var account: AccountRef
    public var kind: Kind
    /// Positive; the kind gives the direction.
    public var amount: FixedDecimal
    /// Must be the account currency.
    public var currency: String
    public var time: UTCTimestamp
    public var note: String

    public init(
        flowID: String, account: AccountRef, kind: Kind, amount: FixedDecimal, currency: String, time: UTCTimestamp,
        note: String = ""
    ) {
        self.flowID = flowID
        self.account = account
        self.kind = kind
        self.amount = amount
        self.currency = currency
        self.time = time
        self.note = note
    }

    /// The amount with the direction's sign: deposits add, withdrawals subtract.
    public var signedAmount: FixedDecimal {
        switch kind {
        case .deposit: return amount
        case .withdrawal: return -amount
        }
    }
}

/// A market price for a symbol at an instant (the broker's market data: a mid, a bid for longs, ...
/// whichever the engine chooses to record).
public struct Mark: Sendable, Hashable {
    public var symbol: String
    public var price: FixedDecimal
    public var time: UTCTimestamp

    public init(symbol: String, price: FixedDecimal, time: UTCTimestamp) {
        self.symbol = symbol
        self.price = price
        self.time = time
    }
}

/// How often performance and management fees crystallise, counted from the subscription's start date.
public enum FeePeriod: String, Sendable, Hashable, Codable, CaseIterable {
    case monthly
    case quarterly

    /// Calendar months per period.
    public var months: Int {
        switch self {
        case .monthly: return 1
        case .quarterly: return 3
        }
    }
}

/// What a withdrawal does to the performance fee.
public enum WithdrawalPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Crystallise this subscription's fees at every withdrawal from the follower's account.
    case crystallise
    /// Leave fees to the period end.
    case hold
}

/// The fees a follower pays for copying one provider, all in the follower's account currency.
public struct FeeTerms: Sendable, Hashable {
    /// Fraction (0.20 = 20 %) of net P&L above the high-water mark.
    public var performanceRate: FixedDecimal
    public var period: FeePeriod
    public var onWithdrawal: WithdrawalPolicy
    /// Fraction of equity per year (0.02 = 2 %), accrued daily.
    public var managementRatePerYear: FixedDecimal
    /// Money per 1,000,000 of traded notional (account currency).
    public var volumeFeePerMillion: FixedDecimal
    /// The platform's fraction of every fee (0.30 = 30 %); the provider gets the rest.
    public var platformShare: FixedDecimal

    public init(
        performanceRate: FixedDecimal = .zero, period: FeePeriod = .monthly, onWithdrawal: WithdrawalPolicy = .hold,
        managementRatePerYear: FixedDecimal = .zero, volumeFeePerMillion: FixedDecimal = .zero,
        platformShare: FixedDecimal = .zero
    ) {
        self.performanceRate = performanceRate
        self.period = period
        self.onWithdrawal = onWithdrawal
        self.managementRatePerYear = managementRatePerYear
        self.volumeFeePerMillion = volumeFeePerMillion
        self.platformShare = platformShare
    }

    /// The first term that is out of range, described; `nil` when all are valid.
    public var problem: String? {
        if performanceRate.isNegative || performanceRate > .one {
            return "performance fee rate \(performanceRate) is outside 0...1"
        }
        if managementRatePerYear.isNegative || managementRatePerYear > .one {
            return "management fee rate \(managementRatePerYear) is outside 0...1"
        }
        if volumeFeePerMillion.isNegative { return "volume fee \(volumeFeePerMillion) per million is negative" }
        if platformShare.isNegative || platformShare > .one {
            return "platform share \(platformShare) is outside 0...1"
        }
        return nil
    }
}

/// A follower starts copying a provider.
public struct SubscriptionStart: Sendable, Hashable {
    public var subscriptionID: String
    public var followerID: String
    /// The follower account the copies go to (fees are charged to it, in its currency).
    public var account: String
    public var providerID: String
    public var start: UTCTimestamp
    public var terms: FeeTerms

    public init(
        subscriptionID: String, followerID: String, account: String, providerID: String, start: UTCTimestamp,
        terms: FeeTerms
    ) {
        self.subscriptionID = subscriptionID
        self.followerID = followerID
        self.account = account
        self.providerID = providerID
        self.start = start
        self.terms = terms
    }

    public var accountRef: AccountRef { .follower(followerID, account: account) }
}

/// A follower stops copying (fees crystallise at this instant).
public struct SubscriptionStop: Sendable, Hashable {
    public var subscriptionID: String
    public var stop: UTCTimestamp

    public init(subscriptionID: String, stop: UTCTimestamp) {
        self.subscriptionID = subscriptionID
        self.stop = stop
    }
}

/// What recording an input did.
public enum IngestOutcome: Sendable, Hashable {
    /// Stored for the first time.
    case recorded
    /// Already stored with the same content; nothing changed (idempotent re-delivery).
    case duplicate
    /// Already stored under the same id with different content; the stored record was kept. The
    /// text says which record and how they differ, for the journal and the operator.
    case conflicting(String)
}

/// Why the ledger refused an input or could not compute a figure.
public enum LedgerError: Error, Hashable, CustomStringConvertible {
    /// An input breaks a rule of the ledger; the text names the input and the rule.
    case invalidInput(String)
    /// No currency could be determined for a symbol (no Currency on the fill, not a currency pair).
    case unknownCurrency(symbol: String)
    /// An amount must be converted between currencies and no price of the pair exists at that time.
    case missingConversionRate(from: String, to: String, at: UTCTimestamp)
    /// An account has never been opened, funded or traded.
    case unknownAccount(AccountRef)
    /// A subscription id that was never started.
    case unknownSubscription(String)

    public var description: String {
        switch self {
        case .invalidInput(let text): return text
        case .unknownCurrency(let symbol):
            return "no currency for symbol \(symbol): pass the fill's Currency or use a currency-pair symbol"
        case .missingConversionRate(let from, let to, let at):
            return "no price of \(to)/\(from) or \(from)/\(to) at or before \(at) to convert \(from) into \(to)"
        case .unknownAccount(let account): return "unknown account \(account)"
        case .unknownSubscription(let id): return "unknown subscription \(id)"
        }
    }
}
