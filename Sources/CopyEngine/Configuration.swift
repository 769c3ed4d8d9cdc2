import FIXCore

// MARK: - Enumerations

/// How a follower's copy is sized from the provider's position.
///
/// Every mode is multiplied by the follower's `Ratio` and by the link weight (`Provider=alice:0.5`).
/// Ratio modes scale each increase of the provider's position with the factor in force at that
/// moment, so a change of equity resizes future increases, never positions already held.
/// Reductions are always proportional: when she closes 40 % of her position, every copy closes
/// 40 % of its own.
public enum SizingMode: String, Sendable, CaseIterable, Codable {
    /// `ΔPosition × (follower equity ÷ provider equity) × Ratio × weight`.
    case equityRatio = "equity-ratio"
    /// `ΔPosition × Ratio × weight`.
    case fixedRatio = "fixed-ratio"
    /// `FixedQty × Ratio × weight` in the provider's direction, whatever her size.
    ///
    /// Scale-ins above her peak keep the copy at that size; partial closes scale it by
    /// `|position| ÷ peak |position|` of the current trade.
    case fixedQty = "fixed-qty"
    /// Fixed-fractional risk: the copy is the size whose loss, if the price moves `RiskStopBps`
    /// basis points against it from the provider's opening price, is `RiskPercent` % of the
    /// follower's equity: `units = equity × RiskPercent/100 ÷ (openingPx × RiskStopBps/10 000)`,
    /// times `Ratio × weight`, in her direction.
    ///
    /// The price is assumed to be quoted in the follower's account currency (true for the quote
    /// currency of FX pairs and metals quoted in USD with a USD account). It is computed once
    /// when her position opens (or reverses) and scales like `fixed-qty` afterwards.
    case riskPercent = "risk-percent"
}

/// How a sized quantity becomes a multiple of the follower's lot.
public enum LotRounding: String, Sendable, CaseIterable, Codable {
    /// Toward zero: the copy is never larger than the exact size.
    case floor
    /// To the nearest lot, halves away from zero.
    case nearest

    var mode: FixedDecimal.RoundingMode {
        switch self {
        case .floor: return .down
        case .nearest: return .halfUp
        }
    }
}

/// What happens to a non-zero size smaller than the follower's minimum quantity.
public enum BelowMinPolicy: String, Sendable, CaseIterable, Codable {
    /// Copy nothing (reason `below-min-qty`); the remainder keeps accumulating in the target.
    case skip
    /// Copy the minimum (`max(MinQty, LotSize)`, reason `rounded-up-to-min`).
    case roundUp = "round-up"
}

/// How a follower treats positions he missed: opened while CopyBridge was down or recovering,
/// delivered as resends (PossDup/PossResend), or while he was paused or degraded.
public enum CatchUpMode: String, Sendable, CaseIterable, Codable {
    /// He does not enter them; he follows only what happens from now on.
    case none
    /// He enters the missing part at market.
    case market
    /// He enters the missing part only while the mark is no worse than the provider's average
    /// entry price (buying: ask ≤ her price; selling: bid ≥ her price).
    case ifNotWorse = "if-not-worse"
}

/// The unit of quantities on a broker session.
public enum QuantityUnit: String, Sendable, CaseIterable, Codable {
    /// Quantities are units of the instrument (100 000 = one standard FX lot).
    case units
    /// Quantities are lots of `ContractSize` units (MT4/MT5 FIX bridges).
    case lots
}

/// How copies are sent on a broker session.
public enum OrderMode: String, Sendable, CaseIterable, Codable {
    /// One NewOrderSingle per follower account.
    case perAccount = "per-account"
    /// One NewOrderSingle per symbol and side for all followers, with a NoAllocs (78) group.
    case block
}

/// OrdType (40) of copies.
public enum CopyOrderType: String, Sendable, CaseIterable, Codable {
    case market
    /// A limit at the reference price (ask/bid mark, else the provider's last price) moved by
    /// `LimitSlippageBps` in the follower's disfavour, rounded to `TickSize` in his favour.
    case limit

    /// The FIX value.
    public var fixValue: String {
        switch self {
        case .market: return "1"
        case .limit: return "2"
        }
    }
}

/// TimeInForce (59) of copies.
public enum CopyTimeInForce: String, Sendable, CaseIterable, Codable {
    case day = "DAY"
    case gtc = "GTC"
    case ioc = "IOC"
    case fok = "FOK"

    /// The FIX value.
    public var fixValue: String {
        switch self {
        case .day: return "0"
        case .gtc: return "1"
        case .ioc: return "3"
        case .fok: return "4"
        }
    }
}

/// Where an account's equity comes from.
public enum EquitySource: Sendable, Equatable, Codable {
    /// A fixed amount from the settings file.
    case fixed(FixedDecimal)
    /// The agent reads it from the broker and passes it in with ``OperatorCommand/setEquity(id:equity:)``.
    case broker
}

/// What happens to an increase that would take a follower beyond one of his limits.
///
/// Limits gate new exposure only: reductions always pass (MaxOrderQty and MaxOrderNotional still
/// split them into several orders), and a price move never forces a reduction.
public enum ExceedPolicy: String, Sendable, CaseIterable, Codable {
    /// Copy what fits: the target and the orders are cut down to the limit (the rest of a large
    /// order follows in further orders, one at a time).
    case clamp
    /// Do not copy an increase whose copy would break a limit; later reductions scale from what he
    /// did copy.
    case skip
}

/// What a tripped loss breaker does to a follower.
public enum LossAction: String, Sendable, CaseIterable, Codable {
    /// No orders at all (like a pause): his copies stay as they are.
    case disable
    /// Only reductions: he follows the provider's closes, never an increase.
    case closeOnly = "close-only"
    /// Close every copied position now, then take no new exposure.
    case closeAll = "close-all"
}

/// How a broker breaker (reject storm, session down) lets copying resume.
public enum BreakerResume: String, Sendable, CaseIterable, Codable {
    /// After `BreakerCooldownMs` with the session logged on.
    case auto
    /// Only by `reset-breaker`.
    case manual
}

/// What suspicious provider activity does.
public enum SuspiciousAction: String, Sendable, CaseIterable, Codable {
    /// Suspend the provider for every follower and raise an alert.
    case suspend
    /// Raise an alert only.
    case alert
}

/// A loss limit: an amount of the account currency, or a percentage of the start-of-day equity.
public enum LossLimit: Sendable, Equatable, Codable, CustomStringConvertible {
    case amount(FixedDecimal)
    case percent(FixedDecimal)

    /// `500` or `5%`.
    public init?(_ text: String) {
        let t = text.trimmed
        if t.hasSuffix("%") {
            guard let d = FixedDecimal(String(t.dropLast()).trimmed), d.isPositive, d <= 100 else { return nil }
            self = .percent(d)
        } else {
            guard let d = FixedDecimal(t), d.isPositive else { return nil }
            self = .amount(d)
        }
    }

    public var description: String {
        switch self {
        case .amount(let a): return a.description
        case .percent(let p): return "\(p)%"
        }
    }
}

/// Loss protection of one account (a follower's copies or a provider's own trading).
///
/// Equity is the configured or broker-reported equity plus the realised and unrealised P&L the
/// engine computed since that value was set (see `LossProtection.swift` for the approximation).
public struct LossLimits: Sendable, Equatable {
    /// Largest loss of one trading day (nil: off).
    public var dailyLoss: LossLimit?
    /// Largest fall from the equity peak, in percent (0: off).
    public var maxDrawdownPct: FixedDecimal = 0
    /// When the trading day starts, in minutes after midnight UTC.
    public var dayStartMinute: Int = 0

    public init(dailyLoss: LossLimit? = nil, maxDrawdownPct: FixedDecimal = 0, dayStartMinute: Int = 0) {
        self.dailyLoss = dailyLoss
        self.maxDrawdownPct = maxDrawdownPct
        self.dayStartMinute = dayStartMinute
    }

    /// Whether any check is on.
    public var isActive: Bool { dailyLoss != nil || maxDrawdownPct.isPositive }
}

// MARK: - Symbol mapping

/// Translates canonical symbols (as the provider's session reports them, `EUR/USD`) to a
/// broker's symbols (`EURUSD.m`) and back: the explicit map first, then the prefix/suffix rules.
public struct SymbolMapping: Sendable, Equatable {
    /// Explicit pairs, canonical → broker.
    public var explicit: [String: String]
    /// Prepended to canonical symbols that have no explicit entry.
    public var prefix: String
    /// Appended to canonical symbols that have no explicit entry.
    public var suffix: String
    /// Removes `/` from canonical symbols that have no explicit entry (`EUR/USD` → `EURUSD`).
    public var removeSlash: Bool

    var reverse: [String: String]

    public init(explicit: [String: String] = [:], prefix: String = "", suffix: String = "", removeSlash: Bool = false) {
        self.explicit = explicit
        self.prefix = prefix
        self.suffix = suffix
        self.removeSlash = removeSlash
        var r: [String: String] = [:]
        for (c, b) in explicit { r[b] = c }
        self.reverse = r
    }

    /// The broker's symbol for a canonical one.
    public func brokerSymbol(for canonical: String) -> String {
        if let b = explicit[canonical] { return b }
        if prefix.isEmpty && suffix.isEmpty && !removeSlash { return canonical }
        let core = removeSlash ? canonical.filter { $0 != "/" } : canonical
        return prefix + core + suffix
    }

    /// The canonical symbol for one of the broker's.
    ///
    /// Rules are inverted by stripping the prefix and suffix; with `removeSlash`, a remaining
    /// six-letter code gets its slash back after the third letter (`EURUSD` → `EUR/USD`). Symbols
    /// that rule cannot restore need an explicit entry.
    public func canonicalSymbol(for broker: String) -> String {
        if let c = reverse[broker] { return c }
        if prefix.isEmpty && suffix.isEmpty && !removeSlash { return broker }
        var core = Substring(broker)
        if !prefix.isEmpty && core.hasPrefix(prefix) { core = core.dropFirst(prefix.count) }
        if !suffix.isEmpty && core.hasSuffix(suffix) { core = core.dropLast(suffix.count) }
        if removeSlash && core.count == 6 && core.allSatisfy({ $0.isLetter }) {
            return String(core.prefix(3)) + "/" + String(core.suffix(3))
        }
        return String(core)
    }

    public static func == (lhs: SymbolMapping, rhs: SymbolMapping) -> Bool {
        lhs.explicit == rhs.explicit && lhs.prefix == rhs.prefix && lhs.suffix == rhs.suffix
            && lhs.removeSlash == rhs.removeSlash
    }
}

// MARK: - Trading hours

/// When a follower accepts new exposure: UTC time windows on chosen weekdays.
///
/// A window whose end is before its start crosses midnight and belongs to the day it starts on.
/// Outside the hours a follower still copies reductions (closing is never blocked).
public struct TradingHours: Sendable, Equatable {
    /// A window in minutes since midnight UTC, `start` inclusive, `end` exclusive.
    public struct Window: Sendable, Equatable {
        public var start: Int
        public var end: Int
        public init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }
    }

    /// Empty means all day.
    public var windows: [Window]
    /// Bit `d` set when weekday `d` (0 = Monday … 6 = Sunday) is a trading day.
    public var days: UInt8

    public static let always = TradingHours(windows: [], days: 0x7F)

    public init(windows: [Window], days: UInt8 = 0x7F) {
        self.windows = windows
        self.days = days
    }

    /// Whether `nanoseconds` since the Unix epoch falls inside the hours.
    public func contains(_ nanoseconds: Int64) -> Bool {
        if windows.isEmpty && days == 0x7F { return true }
        let dayNanos: Int64 = 86_400_000_000_000
        let day = nanoseconds >= 0 ? nanoseconds / dayNanos : (nanoseconds - dayNanos + 1) / dayNanos
        let minute = Int((nanoseconds - day * dayNanos) / 60_000_000_000)
        // 1970-01-01 was a Thursday (weekday 3 with Monday = 0).
        let weekday = Int(((day + 3) % 7 + 7) % 7)
        let yesterday = (weekday + 6) % 7
        func isDay(_ d: Int) -> Bool { days & (1 << UInt8(d)) != 0 }
        if windows.isEmpty { return isDay(weekday) }
        for w in windows {
            if w.start <= w.end {
                if minute >= w.start && minute < w.end && isDay(weekday) { return true }
            } else {
                if minute >= w.start && isDay(weekday) { return true }
                if minute < w.end && isDay(yesterday) { return true }
            }
        }
        return false
    }
}

// MARK: - Blocks

/// One signal provider: whose fills are copied. A `[PROVIDER]` block.
public struct ProviderConfig: Sendable, Equatable {
    /// Unique name (`ProviderID`).
    public var providerID: String
    /// The session whose ExecutionReports carry her fills (`SessionName`).
    public var sessionName: String
    /// Her account, tag 1, on that session (`Account`).
    public var account: String
    /// Her equity, for equity-ratio sizing (`Equity`).
    public var equity: EquitySource = .broker
    /// Daily loss and drawdown on her own equity; a breach suspends her for every follower.
    public var loss = LossLimits()
    /// More fills than this within `fillWindowMs` suspends her (0: off).
    public var maxFillsPerWindow: Int = 0
    public var fillWindowMs: Int = 60_000
    /// A fill larger than this multiple of the median of her last `fillSizeHistory` fills (in the
    /// symbol's units) suspends her (0: off), once she has `fillSizeMinHistory` fills.
    public var maxFillSizeMultiple: FixedDecimal = 0
    public var fillSizeHistory: Int = 50
    public var fillSizeMinHistory: Int = 10
    /// Symbols she is expected to trade (`EUR*` matches by prefix; empty: any).
    public var expectedSymbols: [String] = []
    /// A fill in a new symbol when she has already traded this many suspends her (0: off).
    public var maxSymbols: Int = 0
    public var suspiciousAction: SuspiciousAction = .suspend

    public init(providerID: String, sessionName: String, account: String, equity: EquitySource = .broker) {
        self.providerID = providerID
        self.sessionName = sessionName
        self.account = account
        self.equity = equity
    }
}

/// A follower's subscription to one provider, with a weight (`Provider=alice:1.0,carol:0.5`).
public struct ProviderLink: Sendable, Equatable {
    public var providerID: String
    public var weight: FixedDecimal

    public init(providerID: String, weight: FixedDecimal = 1) {
        self.providerID = providerID
        self.weight = weight
    }
}

/// One follower: whose account receives copies. A `[FOLLOWER]` block.
///
/// Quantities (`FixedQty`, `LotSize`, `MinQty`, `MaxOrderQty`, `MaxPositionQty`) are in the unit
/// of his broker session (`QtyUnit`): units, or lots of `ContractSize`.
public struct FollowerConfig: Sendable, Equatable {
    public var followerID: String
    public var providers: [ProviderLink]
    /// The session that carries his orders.
    public var sessionName: String
    /// The session with his drop copy, when it is not his trading session.
    public var dropCopySessionName: String?
    public var account: String
    public var equity: EquitySource = .broker
    public var sizing: SizingMode = .equityRatio
    public var ratio: FixedDecimal = 1
    public var fixedQty: FixedDecimal = 0
    public var riskPercent: FixedDecimal = 1
    public var riskStopBps: FixedDecimal = 100
    public var lotSize: FixedDecimal = 1
    public var minQty: FixedDecimal = 0
    /// Per canonical symbol, a lot size other than `lotSize` (gold by the ounce where currencies
    /// trade by the thousand at a broker quoting units).
    public var lotSizes: [String: FixedDecimal] = [:]
    /// Per canonical symbol, a minimum other than `minQty`.
    public var minQtys: [String: FixedDecimal] = [:]
    /// 0 means no limit.
    public var maxOrderQty: FixedDecimal = 0
    /// 0 means no limit.
    public var maxPositionQty: FixedDecimal = 0
    public var rounding: LotRounding = .floor
    public var belowMin: BelowMinPolicy = .skip
    public var reverse: Bool = false
    /// 0 turns the check off.
    public var maxSignalAgeMs: Int = 0
    /// 0 turns the check off.
    public var maxPriceDeviationBps: FixedDecimal = 0
    /// Empty allows every symbol; entries ending in `*` match by prefix.
    public var allowSymbols: [String] = []
    public var denySymbols: [String] = []
    public var tradingHours: TradingHours = .always
    public var catchUp: CatchUpMode = .none
    /// Increases that would break a limit: cut down or not copied.
    public var exceedPolicy: ExceedPolicy = .clamp
    /// Largest notional of one order, |quantity| × price in the account currency (0: no limit).
    public var maxOrderNotional: FixedDecimal = 0
    /// Largest notional of one symbol's copied position (0: no limit).
    public var maxPositionNotional: FixedDecimal = 0
    /// Most symbols with a copied position or working order at once (0: no limit).
    public var maxOpenPositions: Int = 0
    /// Largest gross notional of all copied positions over his equity (0: no limit).
    public var maxLeverage: FixedDecimal = 0
    /// Daily loss and drawdown of his copies.
    public var loss = LossLimits()
    public var dailyLossAction: LossAction = .disable
    public var drawdownAction: LossAction = .disable

    public init(
        followerID: String, providers: [ProviderLink], sessionName: String, account: String,
        equity: EquitySource = .broker
    ) {
        self.followerID = followerID
        self.providers = providers
        self.sessionName = sessionName
        self.account = account
        self.equity = equity
    }

    /// Why `symbol` is never copied for him, or `nil` when it may be.
    public func symbolFilter(_ symbol: String) -> ReasonCode? {
        func matches(_ pattern: String) -> Bool {
            pattern.hasSuffix("*") ? symbol.hasPrefix(pattern.dropLast()) : pattern == symbol
        }
        if denySymbols.contains(where: matches) { return .symbolDenied }
        if !allowSymbols.isEmpty && !allowSymbols.contains(where: matches) { return .symbolNotAllowed }
        return nil
    }

    /// His lot size in `symbol` (canonical), in his session's unit.
    public func lotSize(for symbol: String) -> FixedDecimal { lotSizes[symbol] ?? lotSize }

    /// His minimum in `symbol` (canonical), in his session's unit.
    public func minQty(for symbol: String) -> FixedDecimal { minQtys[symbol] ?? minQty }
}

/// Copy-related settings of one broker session. Keys of its `[SESSION]` block.
public struct BrokerSessionConfig: Sendable, Equatable {
    /// The session's name, as provider and follower blocks refer to it.
    public var name: String
    public var symbolMap: SymbolMapping = SymbolMapping()
    public var qtyUnit: QuantityUnit = .units
    /// Units per lot when `qtyUnit` is `lots`.
    public var contractSize: FixedDecimal = 100_000
    /// Per-symbol contract sizes (canonical symbol → units per lot), overriding `contractSize`.
    public var contractSizes: [String: FixedDecimal] = [:]
    public var orderMode: OrderMode = .perAccount
    /// Account (1) of block orders; none when empty.
    public var blockAccount: String = ""
    public var ordType: CopyOrderType = .market
    public var timeInForce: CopyTimeInForce = .ioc
    public var limitSlippageBps: FixedDecimal = 0
    public var tickSize: FixedDecimal = FixedDecimal(mantissa: 1, scale: 5)
    /// Resends after a reject or an unfilled IOC before the follower is degraded.
    public var retryLimit: Int = 2
    /// First retry delay; each further retry doubles it (at most 32×).
    public var retryBackoffMs: Int = 500
    /// A reversal closes first and opens the other side once the close has filled.
    public var closeThenOpen: Bool = false
    /// Prepended to ClOrdIDs (at most 14 characters).
    public var clOrdIDPrefix: String = ""
    /// How long settlement after a restart or reconnect may take before the followers
    /// concerned are degraded.
    public var settleTimeoutMs: Int = 10_000
    /// Whether the broker answers RequestForPositions (35=AN) on this session.
    public var positionRequests: Bool = true
    /// How long a finished order is remembered (late busts and corrects still apply to it).
    public var orderRetentionMs: Int = 86_400_000
    /// How long the ExecIDs of fills seen on this session (and the fills themselves, for busts and
    /// corrects) are remembered to drop duplicates and resends; older ones are forgotten.
    public var execIDRetentionMs: Int = 604_800_000
    /// This many rejects within `rejectStormWindowMs` pause routing to the broker (0: off).
    public var rejectStormCount: Int = 0
    public var rejectStormWindowMs: Int = 10_000
    /// A logout or disconnect pauses routing to the broker until the breaker resumes.
    public var sessionDownBreaker: Bool = false
    public var breakerResume: BreakerResume = .auto
    /// Automatic resume: this long after the trip and after the session last logged on.
    public var breakerCooldownMs: Int = 30_000

    public init(name: String) {
        self.name = name
    }

    /// Units per broker quantity unit for `symbol` (1 when the session counts units).
    public func contractSize(for symbol: String) -> FixedDecimal {
        switch qtyUnit {
        case .units: return 1
        case .lots: return contractSizes[symbol] ?? contractSize
        }
    }
}

/// Everything the engine is configured with.
public struct CopyEngineConfiguration: Sendable, Equatable {
    public var providers: [ProviderConfig]
    public var followers: [FollowerConfig]
    public var sessions: [BrokerSessionConfig]
    /// The currency of the followers' accounts, in which notional limits and leverage are counted:
    /// a pair's price is in its quote currency and is converted through the marks.
    public var accountCurrency = "USD"

    public init(providers: [ProviderConfig], followers: [FollowerConfig], sessions: [BrokerSessionConfig]) {
        self.providers = providers
        self.followers = followers
        self.sessions = sessions
    }

    /// Checks references and values; the error names the block, the entry and the key.
    public func validate() throws(CopyConfigurationError) {
        var sessionNames = Set<String>()
        for s in sessions {
            guard sessionNames.insert(s.name).inserted else {
                throw CopyConfigurationError(
                    block: .session, id: s.name, key: "SessionName", message: "duplicate session")
            }
            if s.qtyUnit == .lots && !(s.contractSize.isPositive && s.contractSize <= 10_000_000) {
                throw CopyConfigurationError(
                    block: .session, id: s.name, key: "ContractSize", message: "must be > 0 and ≤ 10000000")
            }
            for (sym, size) in s.contractSizes where !(size.isPositive && size <= 10_000_000) {
                throw CopyConfigurationError(
                    block: .session, id: s.name, key: "ContractSizes",
                    message: "size of \(sym) must be > 0 and ≤ 10000000")
            }
            if s.clOrdIDPrefix.utf8.count > ClOrdIDScheme.maximumPrefixLength {
                throw CopyConfigurationError(
                    block: .session, id: s.name, key: "ClOrdIDPrefix",
                    message: "at most \(ClOrdIDScheme.maximumPrefixLength) characters")
            }
            if s.execIDRetentionMs < 3_600_000 {
                throw CopyConfigurationError(
                    block: .session, id: s.name, key: "ExecIDRetentionMs",
                    message: "at least 3600000 (an hour): a shorter memory lets resent fills be copied twice")
            }
            if s.retryLimit < 0 || s.retryBackoffMs < 0 || s.settleTimeoutMs <= 0 || s.orderRetentionMs < 0 {
                throw CopyConfigurationError(
                    block: .session, id: s.name, key: "RetryLimit", message: "retry and timeout values must be ≥ 0")
            }
            if s.ordType == .limit && !s.tickSize.isPositive {
                throw CopyConfigurationError(block: .session, id: s.name, key: "TickSize", message: "must be > 0")
            }
            if s.rejectStormCount < 0 {
                throw CopyConfigurationError(
                    block: .session, id: s.name, key: "RejectStormCount", message: "must be ≥ 0")
            }
            if s.rejectStormWindowMs <= 0 {
                throw CopyConfigurationError(
                    block: .session, id: s.name, key: "RejectStormWindowMs", message: "must be > 0")
            }
            if s.breakerCooldownMs < 0 {
                throw CopyConfigurationError(
                    block: .session, id: s.name, key: "BreakerCooldownMs", message: "must be ≥ 0")
            }
        }
        var accounts = Set<String>()
        for s in sessions where !s.blockAccount.isEmpty {
            accounts.insert(s.name + "\u{1}" + s.blockAccount)
        }
        var providerIDs = Set<String>()
        for p in providers {
            guard providerIDs.insert(p.providerID).inserted else {
                throw CopyConfigurationError(
                    block: .provider, id: p.providerID, key: "ProviderID", message: "duplicate provider")
            }
            guard sessionNames.contains(p.sessionName) else {
                throw CopyConfigurationError(
                    block: .provider, id: p.providerID, key: "SessionName",
                    message: "no session named '\(p.sessionName)'")
            }
            guard accounts.insert(p.sessionName + "\u{1}" + p.account).inserted else {
                throw CopyConfigurationError(
                    block: .provider, id: p.providerID, key: "Account",
                    message: "account '\(p.account)' on '\(p.sessionName)' is used twice")
            }
            func fail(_ key: String, _ message: String) -> CopyConfigurationError {
                CopyConfigurationError(block: .provider, id: p.providerID, key: key, message: message)
            }
            try p.loss.validate(fail)
            guard p.maxFillsPerWindow >= 0 else { throw fail("MaxFillsPerWindow", "must be ≥ 0") }
            guard p.fillWindowMs > 0 else { throw fail("FillWindowMs", "must be > 0") }
            guard !p.maxFillSizeMultiple.isNegative else { throw fail("MaxFillSizeMultiple", "must be ≥ 0") }
            guard p.fillSizeHistory > 0 && p.fillSizeHistory <= 10_000 else {
                throw fail("FillSizeHistory", "must be between 1 and 10000")
            }
            guard p.fillSizeMinHistory > 0 && p.fillSizeMinHistory <= p.fillSizeHistory else {
                throw fail("FillSizeMinHistory", "must be between 1 and FillSizeHistory")
            }
            guard p.maxSymbols >= 0 else { throw fail("MaxSymbols", "must be ≥ 0") }
        }
        var followerIDs = Set<String>()
        for f in followers {
            func fail(_ key: String, _ message: String) -> CopyConfigurationError {
                CopyConfigurationError(block: .follower, id: f.followerID, key: key, message: message)
            }
            guard followerIDs.insert(f.followerID).inserted else { throw fail("FollowerID", "duplicate follower") }
            guard !f.providers.isEmpty else { throw fail("Provider", "names no provider") }
            var linked = Set<String>()
            for link in f.providers {
                guard providerIDs.contains(link.providerID) else {
                    throw fail("Provider", "no provider named '\(link.providerID)'")
                }
                guard linked.insert(link.providerID).inserted else {
                    throw fail("Provider", "'\(link.providerID)' is listed twice")
                }
                guard link.weight.isPositive else {
                    throw fail("Provider", "weight of '\(link.providerID)' must be > 0")
                }
            }
            guard sessionNames.contains(f.sessionName) else {
                throw fail("SessionName", "no session named '\(f.sessionName)'")
            }
            if let d = f.dropCopySessionName, !sessionNames.contains(d) {
                throw fail("DropCopySession", "no session named '\(d)'")
            }
            guard accounts.insert(f.sessionName + "\u{1}" + f.account).inserted else {
                throw fail("Account", "account '\(f.account)' on '\(f.sessionName)' is used twice")
            }
            if let d = f.dropCopySessionName, d != f.sessionName {
                guard accounts.insert(d + "\u{1}" + f.account).inserted else {
                    throw fail("Account", "account '\(f.account)' on '\(d)' is used twice")
                }
            }
            guard f.lotSize.isPositive else { throw fail("LotSize", "must be > 0") }
            guard !f.minQty.isNegative else { throw fail("MinQty", "must be ≥ 0") }
            if let (symbol, _) = f.lotSizes.first(where: { !$0.value.isPositive }) {
                throw fail("LotSizes", "\(symbol): must be > 0")
            }
            if let (symbol, _) = f.minQtys.first(where: { $0.value.isNegative }) {
                throw fail("MinQtys", "\(symbol): must be ≥ 0")
            }
            guard !f.maxOrderQty.isNegative else { throw fail("MaxOrderQty", "must be ≥ 0") }
            guard !f.maxPositionQty.isNegative else { throw fail("MaxPositionQty", "must be ≥ 0") }
            guard f.ratio.isPositive else { throw fail("Ratio", "must be > 0") }
            guard f.maxSignalAgeMs >= 0 else { throw fail("MaxSignalAgeMs", "must be ≥ 0") }
            guard !f.maxPriceDeviationBps.isNegative else { throw fail("MaxPriceDeviationBps", "must be ≥ 0") }
            guard !f.maxOrderNotional.isNegative else { throw fail("MaxOrderNotional", "must be ≥ 0") }
            guard !f.maxPositionNotional.isNegative else { throw fail("MaxPositionNotional", "must be ≥ 0") }
            guard f.maxOpenPositions >= 0 else { throw fail("MaxOpenPositions", "must be ≥ 0") }
            guard !f.maxLeverage.isNegative else { throw fail("MaxLeverage", "must be ≥ 0") }
            try f.loss.validate(fail)
            switch f.sizing {
            case .fixedQty:
                guard f.fixedQty.isPositive else { throw fail("FixedQty", "fixed-qty sizing needs FixedQty > 0") }
            case .riskPercent:
                guard f.riskPercent.isPositive else { throw fail("RiskPercent", "must be > 0") }
                guard f.riskStopBps.isPositive else { throw fail("RiskStopBps", "must be > 0") }
            case .equityRatio, .fixedRatio:
                break
            }
        }
    }
}

extension LossLimits {
    func validate(_ fail: (String, String) -> CopyConfigurationError) throws(CopyConfigurationError) {
        switch dailyLoss {
        case .amount(let a): guard a.isPositive else { throw fail("DailyLossLimit", "must be > 0") }
        case .percent(let p):
            guard p.isPositive && p <= 100 else { throw fail("DailyLossLimit", "must be > 0% and ≤ 100%") }
        case nil: break
        }
        guard !maxDrawdownPct.isNegative && maxDrawdownPct <= 100 else {
            throw fail("MaxDrawdownPct", "must be between 0 and 100")
        }
        guard (0..<1440).contains(dayStartMinute) else { throw fail("TradingDayReset", "must be HH:MM before 24:00") }
    }
}

/// A configuration value the engine cannot work with.
public struct CopyConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var block: CopyConfigBlock
    /// The provider, follower or session concerned (empty when unknown).
    public var id: String
    public var key: String
    public var message: String

    public init(block: CopyConfigBlock, id: String, key: String, message: String) {
        self.block = block
        self.id = id
        self.key = key
        self.message = message
    }

    public var description: String {
        "[\(block.rawValue)] \(id.isEmpty ? "" : "'\(id)' ")\(key): \(message)"
    }
}
