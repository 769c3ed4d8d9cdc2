import FIXCore

/// A block of the settings file that holds copy keys.
public enum CopyConfigBlock: String, Sendable, CaseIterable, Codable {
    case provider = "PROVIDER"
    case follower = "FOLLOWER"
    /// Copy keys that live next to the QuickFIX keys of a broker session.
    case session = "SESSION"
}

/// The type of a settings value, as the schema documents and the parser checks it.
public enum CopyConfigValueType: Sendable, Equatable {
    case string
    case decimal
    case integer
    /// `Y` or `N`.
    case boolean
    /// One of the listed words.
    case choice([String])
    /// Comma-separated words.
    case list
    /// `id[:weight]`, comma-separated.
    case providerLinks
    /// `canonical:broker`, comma-separated.
    case symbolMap
    /// `symbol:decimal`, comma-separated.
    case decimalMap
    /// `HH:MM-HH:MM` in UTC, comma-separated.
    case timeWindows
    /// Weekdays: `Mon-Fri` or `Mon,Wed,Fri`.
    case weekdays
    /// A decimal amount, or `broker`.
    case equity
    /// An amount (`500`) or a percentage (`5%`).
    case lossLimit
    /// `HH:MM` in UTC.
    case timeOfDay

    /// The type as the documentation writes it.
    public var displayName: String {
        switch self {
        case .string: return "string"
        case .decimal: return "decimal"
        case .integer: return "integer"
        case .boolean: return "Y|N"
        case .choice(let words): return words.joined(separator: "|")
        case .list: return "list"
        case .providerLinks: return "id[:weight],…"
        case .symbolMap: return "canonical:broker,…"
        case .decimalMap: return "symbol:decimal,…"
        case .timeWindows: return "HH:MM-HH:MM,… (UTC)"
        case .weekdays: return "weekdays"
        case .equity: return "decimal|broker"
        case .lossLimit: return "decimal|decimal%"
        case .timeOfDay: return "HH:MM (UTC)"
        }
    }
}

/// One key of the settings file: the schema the parser, `check-config` and the README use.
public struct CopyConfigKey: Sendable, Equatable {
    public let name: String
    public let block: CopyConfigBlock
    public let type: CopyConfigValueType
    /// The value used when the key is absent; `nil` when the key is required.
    public let defaultValue: String?
    /// One line for the configuration reference.
    public let doc: String

    public init(
        _ name: String, _ block: CopyConfigBlock, _ type: CopyConfigValueType, _ defaultValue: String?, _ doc: String
    ) {
        self.name = name
        self.block = block
        self.type = type
        self.defaultValue = defaultValue
        self.doc = doc
    }
}

/// The copy keys of the settings file, as data.
public enum CopyConfigSchema {
    private static func words<E: RawRepresentable & CaseIterable>(_: E.Type) -> CopyConfigValueType
    where E.RawValue == String {
        .choice(E.allCases.map(\.rawValue))
    }

    /// Every copy key, block by block. Defaults here are the ones the parser applies.
    public static let keys: [CopyConfigKey] = [
        // [PROVIDER]
        CopyConfigKey("ProviderID", .provider, .string, nil, "Unique name of the signal provider."),
        CopyConfigKey("SessionName", .provider, .string, nil, "The session whose ExecutionReports carry her fills."),
        CopyConfigKey("Account", .provider, .string, nil, "Her account (tag 1) on that session."),
        CopyConfigKey(
            "Equity", .provider, .equity, "broker",
            "Her equity for equity-ratio sizing, or `broker` to use the value the agent reads from her broker "
                + "(CollateralInquiry)."),
        CopyConfigKey(
            "DailyLossLimit", .provider, .lossLimit, "",
            "Her largest loss in one trading day, an amount or a % of her start-of-day equity (empty: off); "
                + "a breach suspends her for every follower until reset-breaker."),
        CopyConfigKey(
            "MaxDrawdownPct", .provider, .decimal, "0",
            "Largest fall of her equity from its peak, in % (0: off); a breach suspends her until reset-breaker."),
        CopyConfigKey("TradingDayReset", .provider, .timeOfDay, "00:00", "When her trading day starts (UTC)."),
        CopyConfigKey(
            "MaxFillsPerWindow", .provider, .integer, "0",
            "More fills than this within FillWindowMs is suspicious (0: off)."),
        CopyConfigKey("FillWindowMs", .provider, .integer, "60000", "The window of MaxFillsPerWindow."),
        CopyConfigKey(
            "MaxFillSizeMultiple", .provider, .decimal, "0",
            "A fill larger than this multiple of the median of her last FillSizeHistory fills is suspicious (0: off)."),
        CopyConfigKey("FillSizeHistory", .provider, .integer, "50", "Fills the median of MaxFillSizeMultiple covers."),
        CopyConfigKey(
            "FillSizeMinHistory", .provider, .integer, "10", "Fills needed before MaxFillSizeMultiple is judged."),
        CopyConfigKey(
            "ExpectedSymbols", .provider, .list, "",
            "Canonical symbols she trades (`EUR*` matches by prefix); a fill in another is suspicious (empty: any)."),
        CopyConfigKey(
            "MaxSymbols", .provider, .integer, "0",
            "A fill in a new symbol once she has traded this many distinct symbols is suspicious (0: off)."),
        CopyConfigKey(
            "SuspiciousAction", .provider, words(SuspiciousAction.self), "suspend",
            "Suspicious activity suspends her for every follower and raises an alert, or only raises the alert."),
        // [FOLLOWER]
        CopyConfigKey("FollowerID", .follower, .string, nil, "Unique name of the follower."),
        CopyConfigKey(
            "Provider", .follower, .providerLinks, nil,
            "Providers he copies, each with an optional weight: `alice` or `alice:1.0,carol:0.5`."),
        CopyConfigKey("SessionName", .follower, .string, nil, "The session that carries his orders."),
        CopyConfigKey(
            "DropCopySession", .follower, .string, "",
            "The session with his drop copy, when not his trading session (empty: his trading session)."),
        CopyConfigKey("Account", .follower, .string, nil, "His account (tag 1) at his broker."),
        CopyConfigKey(
            "Equity", .follower, .equity, "broker",
            "His equity for equity-ratio and risk-percent sizing, or `broker` to use the value the agent reads from "
                + "his broker (CollateralInquiry)."),
        CopyConfigKey(
            "Sizing", .follower, words(SizingMode.self), "equity-ratio",
            "How copies are sized from the provider's position (see Sizing modes)."),
        CopyConfigKey(
            "Ratio", .follower, .decimal, "1", "Multiplier of every sizing mode (on top of the equity ratio)."),
        CopyConfigKey("FixedQty", .follower, .decimal, "0", "Copy size for fixed-qty sizing, in his session's unit."),
        CopyConfigKey(
            "RiskPercent", .follower, .decimal, "1",
            "risk-percent: % of his equity lost if the price moves RiskStopBps against the copy."),
        CopyConfigKey("RiskStopBps", .follower, .decimal, "100", "risk-percent: the adverse move, in basis points."),
        CopyConfigKey("LotSize", .follower, .decimal, "1", "Quantity step at his broker, in his session's unit."),
        CopyConfigKey(
            "MinQty", .follower, .decimal, "0", "Smallest non-zero position and order, in his session's unit."),
        CopyConfigKey(
            "LotSizes", .follower, .decimalMap, "",
            "Per-symbol LotSize: `XAU/USD:1` where the others trade in steps of LotSize."),
        CopyConfigKey("MinQtys", .follower, .decimalMap, "", "Per-symbol MinQty: `XAU/USD:1`."),
        CopyConfigKey("MaxOrderQty", .follower, .decimal, "0", "Largest single order (0: no limit)."),
        CopyConfigKey("MaxPositionQty", .follower, .decimal, "0", "Largest position per symbol (0: no limit)."),
        CopyConfigKey(
            "Rounding", .follower, words(LotRounding.self), "floor",
            "Sized quantity to lots: floor (toward zero) or nearest."),
        CopyConfigKey(
            "BelowMin", .follower, words(BelowMinPolicy.self), "skip",
            "A non-zero size below MinQty is skipped or rounded up to the minimum."),
        CopyConfigKey("Reverse", .follower, .boolean, "N", "Copy the opposite side."),
        CopyConfigKey(
            "MaxSignalAgeMs", .follower, .integer, "0",
            "Skip increases whose fill (TransactTime, else SendingTime) is older than this (0: off)."),
        CopyConfigKey(
            "MaxPriceDeviationBps", .follower, .decimal, "0",
            "Skip increases whose fill price is this far from the mid mark (0: off; no mark: skipped)."),
        CopyConfigKey(
            "AllowSymbols", .follower, .list, "", "Canonical symbols he copies (empty: all; `EUR*` matches by prefix)."),
        CopyConfigKey("DenySymbols", .follower, .list, "", "Canonical symbols he never copies."),
        CopyConfigKey(
            "TradingHours", .follower, .timeWindows, "",
            "UTC windows in which he takes new exposure (empty: all day); reductions always pass."),
        CopyConfigKey("TradingDays", .follower, .weekdays, "", "Weekdays of TradingHours (empty: every day)."),
        CopyConfigKey(
            "CatchUp", .follower, words(CatchUpMode.self), "none",
            "Positions opened while he was not copying: not entered, entered at market, or only at a price no worse than hers "
                + "(her fills' average, or her position report's SettlPrice; not entered when neither is known)."
        ),
        CopyConfigKey(
            "ExceedPolicy", .follower, words(ExceedPolicy.self), "clamp",
            "An increase beyond a limit is cut down to it (clamp) or not copied (skip); reductions always pass."),
        CopyConfigKey(
            "MaxOrderNotional", .follower, .decimal, "0",
            "Largest order, quantity × price in his account currency (0: no limit)."),
        CopyConfigKey(
            "MaxPositionNotional", .follower, .decimal, "0",
            "Largest copied position per symbol, quantity × price in his account currency (0: no limit)."),
        CopyConfigKey(
            "MaxOpenPositions", .follower, .integer, "0",
            "Most symbols with a copied position at once; a new symbol beyond it is not copied (0: no limit)."),
        CopyConfigKey(
            "MaxLeverage", .follower, .decimal, "0",
            "Largest gross notional of his copied positions over his equity (0: no limit)."),
        CopyConfigKey(
            "DailyLossLimit", .follower, .lossLimit, "",
            "Largest loss of his copies in one trading day, an amount or a % of his start-of-day equity (empty: off)."),
        CopyConfigKey(
            "DailyLossAction", .follower, words(LossAction.self), "disable",
            "When DailyLossLimit is reached: no more orders, only reductions, or close everything and stop."),
        CopyConfigKey(
            "MaxDrawdownPct", .follower, .decimal, "0", "Largest fall of his equity from its peak, in % (0: off)."),
        CopyConfigKey(
            "DrawdownAction", .follower, words(LossAction.self), "disable", "When MaxDrawdownPct is reached."),
        CopyConfigKey(
            "TradingDayReset", .follower, .timeOfDay, "00:00", "When his trading day starts (UTC) for DailyLossLimit."),
        // [SESSION]
        CopyConfigKey(
            "SymbolMap", .session, .symbolMap, "",
            "Explicit symbols at this broker: `EUR/USD:EURUSD.m,XAU/USD:GOLD` (checked before the rules)."),
        CopyConfigKey("SymbolPrefix", .session, .string, "", "Rule: prepended to canonical symbols."),
        CopyConfigKey("SymbolSuffix", .session, .string, "", "Rule: appended to canonical symbols (`.m`)."),
        CopyConfigKey("SymbolRemoveSlash", .session, .boolean, "N", "Rule: `EUR/USD` becomes `EURUSD`."),
        CopyConfigKey(
            "QtyUnit", .session, words(QuantityUnit.self), "units",
            "Unit of quantities on this session (MT4/MT5 FIX bridges quote lots)."),
        CopyConfigKey("ContractSize", .session, .decimal, "100000", "Units per lot when QtyUnit=lots."),
        CopyConfigKey("ContractSizes", .session, .decimalMap, "", "Per-symbol units per lot: `XAU/USD:100`."),
        CopyConfigKey(
            "OrderMode", .session, words(OrderMode.self), "per-account",
            "One order per follower, or one block order per symbol and side with allocations (78/79/80). With a "
                + "BlockAccount, settlement also asks for its positions: where it holds the copies (the broker books block "
                + "fills there, as the bundled simulator does), a follower whose own account reads flat keeps his."),
        CopyConfigKey("BlockAccount", .session, .string, "", "Account (tag 1) of block orders (empty: none)."),
        CopyConfigKey("OrdType", .session, words(CopyOrderType.self), "market", "OrdType (40) of copies."),
        CopyConfigKey(
            "TimeInForce", .session, words(CopyTimeInForce.self), "IOC",
            "TimeInForce (59) of copies. A DAY or GTC copy the target no longer wants is canceled (35=F) and what it "
                + "filled re-planned; a cancel the broker refuses (35=9) is asked again per RetryLimit and "
                + "RetryBackoffMs, unless the order is done there. IOC and FOK copies end on their own and are netted."),
        CopyConfigKey(
            "LimitSlippageBps", .session, .decimal, "0",
            "Limit copies: price = reference moved this far against the follower."),
        CopyConfigKey("TickSize", .session, .decimal, "0.00001", "Limit copies: price step."),
        CopyConfigKey(
            "RetryLimit", .session, .integer, "2",
            "Resends after a reject or an unfilled IOC before the follower is degraded."),
        CopyConfigKey("RetryBackoffMs", .session, .integer, "500", "First retry delay; doubles per retry (≤ 32×)."),
        CopyConfigKey(
            "CloseThenOpen", .session, .boolean, "N",
            "A reversal closes first and opens the new side after the close fills."),
        CopyConfigKey("ClOrdIDPrefix", .session, .string, "", "Prepended to ClOrdIDs (≤ 14 characters)."),
        CopyConfigKey(
            "SettleTimeoutMs", .session, .integer, "10000",
            "Settlement after restart or reconnect may take this long before followers are degraded."),
        CopyConfigKey(
            "PositionRequests", .session, .boolean, "Y",
            "The broker answers RequestForPositions (35=AN); reconcile positions with it."),
        CopyConfigKey(
            "OrderRetentionMs", .session, .integer, "86400000",
            "How long finished orders are remembered for late busts and corrects."),
        CopyConfigKey(
            "ExecIDRetentionMs", .session, .integer, "604800000",
            "How long fills seen on the session are remembered, to drop duplicates and resends and to apply "
                + "busts and corrects (at least an hour); older ones are forgotten so memory stays bounded."),
        CopyConfigKey(
            "RejectStormCount", .session, .integer, "0",
            "This many rejects within RejectStormWindowMs pause routing to the broker (0: off)."),
        CopyConfigKey("RejectStormWindowMs", .session, .integer, "10000", "The window of RejectStormCount."),
        CopyConfigKey(
            "SessionDownBreaker", .session, .boolean, "N",
            "A logout or disconnect pauses routing to the broker until the breaker resumes."),
        CopyConfigKey(
            "BreakerResume", .session, words(BreakerResume.self), "auto",
            "A paused broker resumes after BreakerCooldownMs with the session logged on (auto) or by reset-breaker."),
        CopyConfigKey(
            "BreakerCooldownMs", .session, .integer, "30000",
            "auto: how long after the trip, and after the session logged on, routing resumes."),
    ]

    /// The keys of one block, in table order.
    public static func keys(in block: CopyConfigBlock) -> [CopyConfigKey] {
        keys.filter { $0.block == block }
    }

    /// The key named `name` in `block`.
    public static func key(_ name: String, in block: CopyConfigBlock) -> CopyConfigKey? {
        keys.first { $0.block == block && $0.name == name }
    }

    /// The configuration reference in Markdown, one table per block.
    public static func markdownReference() -> String {
        var out = ""
        for block in CopyConfigBlock.allCases {
            out += "### [\(block.rawValue)]\n\n| Key | Type | Default | Description |\n|---|---|---|---|\n"
            for k in keys(in: block) {
                let def = k.defaultValue.map { $0.isEmpty ? "(empty)" : "`\($0)`" } ?? "required"
                out += "| `\(k.name)` | \(k.type.displayName) | \(def) | \(k.doc) |\n"
            }
            out += "\n"
        }
        return out
    }
}

// MARK: - Parsing

/// Reads one block's settings with the schema's types and defaults.
struct SettingsReader {
    let block: CopyConfigBlock
    let id: String
    let settings: [String: String]

    /// `strict` rejects keys the schema does not know (for `[SESSION]` blocks, where QuickFIX keys
    /// live too, it is off).
    init(
        block: CopyConfigBlock, settings: [String: String], idKey: String?, strict: Bool
    ) throws(CopyConfigurationError) {
        self.block = block
        self.settings = settings
        self.id = idKey.flatMap { settings[$0]?.trimmed } ?? ""
        if strict {
            for key in settings.keys.sorted() where CopyConfigSchema.key(key, in: block) == nil {
                throw CopyConfigurationError(block: block, id: id, key: key, message: "unknown key")
            }
        }
    }

    func error(_ key: String, _ message: String) -> CopyConfigurationError {
        CopyConfigurationError(block: block, id: id, key: key, message: message)
    }

    func raw(_ key: String) throws(CopyConfigurationError) -> String {
        guard let schema = CopyConfigSchema.key(key, in: block) else {
            preconditionFailure("\(key) is not in the [\(block.rawValue)] schema")
        }
        if let v = settings[key]?.trimmed { return v }
        guard let d = schema.defaultValue else { throw error(key, "is required") }
        return d
    }

    func string(_ key: String) throws(CopyConfigurationError) -> String {
        let v = try raw(key)
        if CopyConfigSchema.key(key, in: block)?.defaultValue == nil && v.isEmpty {
            throw error(key, "is required")
        }
        return v
    }

    func decimal(_ key: String) throws(CopyConfigurationError) -> FixedDecimal {
        let v = try raw(key)
        guard let d = FixedDecimal(v) else { throw error(key, "'\(v)' is not a decimal number") }
        return d
    }

    /// `SYMBOL:DECIMAL,...` as a dictionary.
    func decimalPairs(_ key: String) throws(CopyConfigurationError) -> [String: FixedDecimal] {
        var values: [String: FixedDecimal] = [:]
        for (symbol, v) in try pairs(key) {
            guard let d = FixedDecimal(v) else { throw error(key, "'\(v)' is not a decimal number") }
            values[symbol] = d
        }
        return values
    }

    func integer(_ key: String) throws(CopyConfigurationError) -> Int {
        let v = try raw(key)
        guard let i = Int(v) else { throw error(key, "'\(v)' is not an integer") }
        return i
    }

    func boolean(_ key: String) throws(CopyConfigurationError) -> Bool {
        let v = try raw(key)
        switch v.uppercased() {
        case "Y", "YES", "TRUE": return true
        case "N", "NO", "FALSE": return false
        default: throw error(key, "'\(v)' is not Y or N")
        }
    }

    func choice<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws(CopyConfigurationError) -> E
    where E.RawValue == String {
        let v = try raw(key)
        if let e = E(rawValue: v) ?? E.allCases.first(where: { $0.rawValue.lowercased() == v.lowercased() }) {
            return e
        }
        throw error(key, "'\(v)' is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
    }

    func list(_ key: String) throws(CopyConfigurationError) -> [String] {
        try raw(key).split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
    }

    func pairs(_ key: String) throws(CopyConfigurationError) -> [(String, String)] {
        var out: [(String, String)] = []
        for item in try list(key) {
            guard let colon = item.firstIndex(of: ":") else { throw error(key, "'\(item)' is not name:value") }
            let a = String(item[..<colon]).trimmed
            let b = String(item[item.index(after: colon)...]).trimmed
            guard !a.isEmpty, !b.isEmpty else { throw error(key, "'\(item)' is not name:value") }
            out.append((a, b))
        }
        return out
    }

    func equity(_ key: String) throws(CopyConfigurationError) -> EquitySource {
        let v = try raw(key)
        if v.lowercased() == "broker" { return .broker }
        guard let d = FixedDecimal(v), d.isPositive else {
            throw error(key, "'\(v)' is neither a positive amount nor broker")
        }
        return .fixed(d)
    }

    func lossLimit(_ key: String) throws(CopyConfigurationError) -> LossLimit? {
        let v = try raw(key)
        if v.isEmpty { return nil }
        guard let limit = LossLimit(v) else {
            throw error(key, "'\(v)' is neither a positive amount nor a percentage like 5%")
        }
        return limit
    }

    /// Minutes after midnight.
    func timeOfDay(_ key: String) throws(CopyConfigurationError) -> Int {
        let v = try raw(key)
        let parts = v.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m)
        else { throw error(key, "'\(v)' is not HH:MM") }
        return h * 60 + m
    }

    func lossLimits() throws(CopyConfigurationError) -> LossLimits {
        LossLimits(
            dailyLoss: try lossLimit("DailyLossLimit"), maxDrawdownPct: try decimal("MaxDrawdownPct"),
            dayStartMinute: try timeOfDay("TradingDayReset"))
    }

    func providerLinks(_ key: String) throws(CopyConfigurationError) -> [ProviderLink] {
        var out: [ProviderLink] = []
        for item in try list(key) {
            if let colon = item.firstIndex(of: ":") {
                let name = String(item[..<colon]).trimmed
                let w = String(item[item.index(after: colon)...]).trimmed
                guard !name.isEmpty, let weight = FixedDecimal(w) else {
                    throw error(key, "'\(item)' is not provider:weight")
                }
                out.append(ProviderLink(providerID: name, weight: weight))
            } else {
                out.append(ProviderLink(providerID: item))
            }
        }
        if out.isEmpty { throw error(key, "is required") }
        return out
    }

    func timeWindows(_ key: String) throws(CopyConfigurationError) -> [TradingHours.Window] {
        func minutes(_ text: Substring) -> Int? {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h),
                (0..<60).contains(m),
                h * 60 + m <= 1440
            else { return nil }
            return h * 60 + m
        }
        var out: [TradingHours.Window] = []
        for item in try list(key) {
            let ends = item.split(separator: "-")
            guard ends.count == 2, let s = minutes(ends[0]), let e = minutes(ends[1]), s != e else {
                throw error(key, "'\(item)' is not HH:MM-HH:MM")
            }
            out.append(TradingHours.Window(start: s, end: e))
        }
        return out
    }

    func weekdays(_ key: String) throws(CopyConfigurationError) -> UInt8 {
        let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        func day(_ s: Substring) -> Int? { names.firstIndex(of: s.trimmed.lowercased()) }
        let items = try list(key)
        if items.isEmpty { return 0x7F }
        var mask: UInt8 = 0
        for item in items {
            let ends = item.split(separator: "-")
            if ends.count == 1, let d = day(ends[0]) {
                mask |= 1 << UInt8(d)
            } else if ends.count == 2, let a = day(ends[0]), let b = day(ends[1]) {
                var d = a
                while true {
                    mask |= 1 << UInt8(d)
                    if d == b { break }
                    d = (d + 1) % 7
                }
            } else {
                throw error(key, "'\(item)' is not a weekday or a range like Mon-Fri")
            }
        }
        return mask
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmed: String {
        var sub = Substring(self)
        while let c = sub.first, c == " " || c == "\t" { sub = sub.dropFirst() }
        while let c = sub.last, c == " " || c == "\t" { sub = sub.dropLast() }
        return String(sub)
    }
}

extension ProviderConfig {
    /// A provider from the keys of a `[PROVIDER]` block; unknown keys are errors.
    public init(settings: [String: String]) throws(CopyConfigurationError) {
        let r = try SettingsReader(block: .provider, settings: settings, idKey: "ProviderID", strict: true)
        self.init(
            providerID: try r.string("ProviderID"), sessionName: try r.string("SessionName"),
            account: try r.string("Account"), equity: try r.equity("Equity"))
        loss = try r.lossLimits()
        maxFillsPerWindow = try r.integer("MaxFillsPerWindow")
        fillWindowMs = try r.integer("FillWindowMs")
        maxFillSizeMultiple = try r.decimal("MaxFillSizeMultiple")
        fillSizeHistory = try r.integer("FillSizeHistory")
        fillSizeMinHistory = try r.integer("FillSizeMinHistory")
        expectedSymbols = try r.list("ExpectedSymbols")
        maxSymbols = try r.integer("MaxSymbols")
        suspiciousAction = try r.choice("SuspiciousAction", SuspiciousAction.self)
    }
}

extension FollowerConfig {
    /// A follower from the keys of a `[FOLLOWER]` block; unknown keys are errors.
    public init(settings: [String: String]) throws(CopyConfigurationError) {
        let r = try SettingsReader(block: .follower, settings: settings, idKey: "FollowerID", strict: true)
        self.init(
            followerID: try r.string("FollowerID"), providers: try r.providerLinks("Provider"),
            sessionName: try r.string("SessionName"), account: try r.string("Account"), equity: try r.equity("Equity"))
        let drop = try r.string("DropCopySession")
        dropCopySessionName = drop.isEmpty ? nil : drop
        sizing = try r.choice("Sizing", SizingMode.self)
        ratio = try r.decimal("Ratio")
        fixedQty = try r.decimal("FixedQty")
        riskPercent = try r.decimal("RiskPercent")
        riskStopBps = try r.decimal("RiskStopBps")
        lotSize = try r.decimal("LotSize")
        minQty = try r.decimal("MinQty")
        lotSizes = try r.decimalPairs("LotSizes")
        minQtys = try r.decimalPairs("MinQtys")
        maxOrderQty = try r.decimal("MaxOrderQty")
        maxPositionQty = try r.decimal("MaxPositionQty")
        rounding = try r.choice("Rounding", LotRounding.self)
        belowMin = try r.choice("BelowMin", BelowMinPolicy.self)
        reverse = try r.boolean("Reverse")
        maxSignalAgeMs = try r.integer("MaxSignalAgeMs")
        maxPriceDeviationBps = try r.decimal("MaxPriceDeviationBps")
        allowSymbols = try r.list("AllowSymbols")
        denySymbols = try r.list("DenySymbols")
        tradingHours = TradingHours(windows: try r.timeWindows("TradingHours"), days: try r.weekdays("TradingDays"))
        catchUp = try r.choice("CatchUp", CatchUpMode.self)
        exceedPolicy = try r.choice("ExceedPolicy", ExceedPolicy.self)
        maxOrderNotional = try r.decimal("MaxOrderNotional")
        maxPositionNotional = try r.decimal("MaxPositionNotional")
        maxOpenPositions = try r.integer("MaxOpenPositions")
        maxLeverage = try r.decimal("MaxLeverage")
        loss = try r.lossLimits()
        dailyLossAction = try r.choice("DailyLossAction", LossAction.self)
        drawdownAction = try r.choice("DrawdownAction", LossAction.self)
    }
}

extension BrokerSessionConfig {
    /// The copy keys of a `[SESSION]` block named `name`; keys outside the copy schema (the
    /// QuickFIX ones) are left to the session layer.
    public init(name: String, settings: [String: String]) throws(CopyConfigurationError) {
        let r = try SettingsReader(block: .session, settings: settings, idKey: nil, strict: false)
        self.init(name: name)
        var explicit: [String: String] = [:]
        for (c, b) in try r.pairs("SymbolMap") { explicit[c] = b }
        symbolMap = SymbolMapping(
            explicit: explicit, prefix: try r.string("SymbolPrefix"), suffix: try r.string("SymbolSuffix"),
            removeSlash: try r.boolean("SymbolRemoveSlash"))
        qtyUnit = try r.choice("QtyUnit", QuantityUnit.self)
        contractSize = try r.decimal("ContractSize")
        contractSizes = try r.decimalPairs("ContractSizes")
        orderMode = try r.choice("OrderMode", OrderMode.self)
        blockAccount = try r.string("BlockAccount")
        ordType = try r.choice("OrdType", CopyOrderType.self)
        timeInForce = try r.choice("TimeInForce", CopyTimeInForce.self)
        limitSlippageBps = try r.decimal("LimitSlippageBps")
        tickSize = try r.decimal("TickSize")
        retryLimit = try r.integer("RetryLimit")
        retryBackoffMs = try r.integer("RetryBackoffMs")
        closeThenOpen = try r.boolean("CloseThenOpen")
        clOrdIDPrefix = try r.string("ClOrdIDPrefix")
        settleTimeoutMs = try r.integer("SettleTimeoutMs")
        positionRequests = try r.boolean("PositionRequests")
        orderRetentionMs = try r.integer("OrderRetentionMs")
        execIDRetentionMs = try r.integer("ExecIDRetentionMs")
        rejectStormCount = try r.integer("RejectStormCount")
        rejectStormWindowMs = try r.integer("RejectStormWindowMs")
        sessionDownBreaker = try r.boolean("SessionDownBreaker")
        breakerResume = try r.choice("BreakerResume", BreakerResume.self)
        breakerCooldownMs = try r.integer("BreakerCooldownMs")
    }
}
