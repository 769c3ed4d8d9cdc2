import FIXCore
import Foundation

/// Where a simulator setting may appear.
///
/// In ``SimulatorConfiguration/init(settings:sessions:readFile:)`` "the broker block" is the
/// `settings` dictionary. In a settings file it is the `[SIMULATOR]` block, and a broker-wide key
/// may also be written in a `[SESSION]` (or `[DEFAULT]`) block: it then applies to the broker
/// serving that session (see ``SimulatorPlan``).
public enum SimSettingScope: String, Sendable, Equatable, CaseIterable {
    /// Broker-wide: the broker block.
    case broker
    /// A session block only.
    case session
    /// Either; a session block overrides the broker block for that session.
    case both
}

/// The value syntax of a simulator setting.
public enum SimSettingType: Sendable, Equatable, CustomStringConvertible {
    /// A whole number, at least `minimum`.
    case integer(minimum: Int)
    /// An unsigned 64-bit number.
    case seed
    /// An exact decimal; `positive` requires > 0.
    case decimal(positive: Bool)
    /// A decimal from 0 to 1.
    case probability
    /// `N` or `MIN-MAX` milliseconds.
    case millisecondsRange
    /// `MIN-MAX` decimals.
    case decimalRange
    /// `SYMBOL:DECIMAL,...`.
    case symbolDecimalList
    /// `SYMBOL,...`.
    case symbolList
    /// `ACCOUNT,...` or `*` for every account.
    case accountList
    /// `ACCOUNT:DECIMAL,...`.
    case accountDecimalList
    /// One of the listed words, case-insensitive.
    case choice([String])
    /// Free text.
    case string
    /// A file the simulator reads; in a settings file, relative to the file's directory.
    case filePath
    /// A file the simulator writes; in a settings file, relative to the file's directory.
    case outputFile
    /// `Y` or `N`.
    case flag
    /// `HH:MM:SS` in UTC, or `none`.
    case timeOfDay

    public var description: String {
        switch self {
        case .integer(let minimum): return "integer >= \(minimum)"
        case .seed: return "unsigned 64-bit integer"
        case .decimal(let positive): return positive ? "decimal > 0" : "decimal"
        case .probability: return "decimal 0-1"
        case .millisecondsRange: return "milliseconds N or MIN-MAX"
        case .decimalRange: return "MIN-MAX"
        case .symbolDecimalList: return "SYMBOL:DECIMAL,..."
        case .symbolList: return "SYMBOL,..."
        case .accountList: return "ACCOUNT,... or *"
        case .accountDecimalList: return "ACCOUNT:DECIMAL,..."
        case .choice(let words): return words.joined(separator: "|")
        case .string: return "text"
        case .filePath: return "file path"
        case .outputFile: return "output file path"
        case .flag: return "Y|N"
        case .timeOfDay: return "HH:MM:SS (UTC) or none"
        }
    }

    /// Completes "expected ..." in an error message.
    public var expectation: String {
        switch self {
        case .integer(let minimum): return "an integer >= \(minimum)"
        case .seed: return "an unsigned 64-bit integer"
        case .decimal(let positive): return positive ? "a decimal number > 0" : "a decimal number"
        case .probability: return "a decimal number from 0 to 1"
        case .millisecondsRange: return "milliseconds N or MIN-MAX with 0 <= MIN <= MAX"
        case .decimalRange: return "MIN-MAX decimals with 0 < MIN <= MAX"
        case .symbolDecimalList: return "SYMBOL:DECIMAL,... with decimals > 0, each symbol once"
        case .symbolList: return "SYMBOL,..."
        case .accountList: return "ACCOUNT,... or *"
        case .accountDecimalList: return "ACCOUNT:DECIMAL,... with decimals > 0, each account once"
        case .choice(let words): return "one of " + words.joined(separator: ", ")
        case .string: return "a non-empty value"
        case .filePath: return "the path of an existing file"
        case .outputFile: return "a file path"
        case .flag: return "Y or N"
        case .timeOfDay: return "HH:MM:SS (UTC) or none"
        }
    }
}

/// One simulator setting: its name, syntax, default and meaning.
public struct SimSettingKey: Sendable, Equatable {
    public let name: String
    public let type: SimSettingType
    public let scope: SimSettingScope
    /// The value used when the key is absent; `nil`: absent means "off" or "derived" (see `doc`).
    public let defaultValue: String?
    public let doc: String
}

/// A simulator setting with a value the simulator cannot use.
public struct SimConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var key: String
    public var value: String
    /// The session block, or `nil` for the broker block.
    public var session: SimSessionKey?
    public var reason: String

    public init(key: String, value: String, session: SimSessionKey? = nil, reason: String) {
        self.key = key
        self.value = value
        self.session = session
        self.reason = reason
    }

    public var description: String {
        let place = session.map { "session \($0)" } ?? "the simulator block"
        return "\(key)=\(value) in \(place): \(reason)"
    }
}

/// The simulator's settings: the table of keys (the settings schema reads it) and the parser.
public enum SimSettings {
    /// The instruments a simulator has when `Symbols` is not set.
    public static let defaultInstruments: [SimInstrument] = [
        SimInstrument(
            symbol: "EUR/USD", initialPrice: FixedDecimal("1.0850")!, tickSize: FixedDecimal("0.0001")!,
            spreadTicks: 2),
        SimInstrument(
            symbol: "USD/JPY", initialPrice: FixedDecimal("151.20")!, tickSize: FixedDecimal("0.01")!, spreadTicks: 2),
        SimInstrument(
            symbol: "XAU/USD", initialPrice: FixedDecimal("2650.0")!, tickSize: FixedDecimal("0.1")!, spreadTicks: 2),
    ]

    /// Every key the simulator reads, with type, scope, default and documentation. The settings
    /// schema (``schema``) is generated from this table.
    public static let keys: [SimSettingKey] = [
        SimSettingKey(
            name: "Simulator", type: .flag, scope: .session, defaultValue: "N",
            doc: "Initiator sessions: Y makes `copybridge run` start a simulated broker for this session in-process, "
                + "listening on SocketConnectHost:SocketConnectPort with the CompIDs swapped, before it connects."),
        SimSettingKey(
            name: "BookFile", type: .outputFile, scope: .broker, defaultValue: nil,
            doc: "Where the broker's book (orders, fills and positions per account) is written as JSON when the "
                + "simulator stops, and on request."),
        SimSettingKey(
            name: "Symbols", type: .symbolDecimalList, scope: .broker,
            defaultValue: "EUR/USD:1.0850,USD/JPY:151.20,XAU/USD:2650.0",
            doc: "Instruments and their opening bid. Any other symbol is rejected (OrdRejReason 1)."),
        SimSettingKey(
            name: "TickSize", type: .symbolDecimalList, scope: .broker, defaultValue: nil,
            doc: "Price grid per symbol; by default one unit in the last decimal of the price in Symbols."),
        SimSettingKey(
            name: "SpreadTicks", type: .integer(minimum: 0), scope: .broker, defaultValue: "2",
            doc: "Ask minus bid, in ticks, for every symbol."),
        SimSettingKey(
            name: "PriceTickMs", type: .integer(minimum: 0), scope: .broker, defaultValue: "1000",
            doc: "Interval of the seeded random walk of every bid; 0 keeps prices still."),
        SimSettingKey(
            name: "MaxTicksPerStep", type: .integer(minimum: 0), scope: .broker, defaultValue: "2",
            doc: "Each step moves a bid by a uniform whole number of ticks in -N...N (never below one tick)."),
        SimSettingKey(
            name: "QuoteSize", type: .decimal(positive: true), scope: .broker, defaultValue: "1000000",
            doc: "MDEntrySize (271) on market data entries. Liquidity itself is unlimited."),
        SimSettingKey(
            name: "RandomSeed", type: .seed, scope: .broker, defaultValue: "1",
            doc: "Seed of every random choice (prices, latencies, slices, rejects, bots): same seed, same messages."),
        SimSettingKey(
            name: "DayEndTime", type: .timeOfDay, scope: .broker, defaultValue: "22:00:00",
            doc: "When Day orders expire (ExecType C), every day, in UTC; none: never."),
        SimSettingKey(
            name: "IDPrefix", type: .string, scope: .broker, defaultValue: nil,
            doc: "Prefix of OrderID, ExecID and PosMaintRptID; by default derived from the start time."),
        SimSettingKey(
            name: "Application", type: .choice(["broker", "echo"]), scope: .both, defaultValue: "broker",
            doc: "broker: the simulated broker. echo: reflect NewOrderSingle and SecurityDefinition (conformance)."),
        SimSettingKey(
            name: "Account", type: .string, scope: .session, defaultValue: nil,
            doc: "Account for orders without Account (1); by default the session's TargetCompID. "
                + "Equity and Leverage in a session block apply to this account."),
        SimSettingKey(
            name: "Equity", type: .decimal(positive: true), scope: .both, defaultValue: nil,
            doc: "Account equity for the margin check, in price units (no currency conversion); absent: no check."),
        SimSettingKey(
            name: "Leverage", type: .decimal(positive: true), scope: .both, defaultValue: "1",
            doc: "Notional allowed per unit of Equity."),
        SimSettingKey(
            name: "AnswerCollateralInquiries", type: .flag, scope: .broker, defaultValue: "Y",
            doc: "N: CollateralInquiries (35=BB) get no answer at all, as from a gateway that ignores them, for "
                + "testing an agent's wait for broker equity."),
        SimSettingKey(
            name: "AccountEquity", type: .accountDecimalList, scope: .broker, defaultValue: nil,
            doc: "Starting cash of accounts without an Equity of their own, for CollateralReports (35=BA) only: "
                + "unlike Equity it does not switch on the margin check."),
        SimSettingKey(
            name: "Currency", type: .string, scope: .broker, defaultValue: "USD",
            doc: "Currency (15) of CollateralReports: P&L in another quote currency (USD/JPY: JPY) is converted at "
                + "the mid of a symbol pairing the two, when the broker quotes one."),
        SimSettingKey(
            name: "DropCopyFor", type: .accountList, scope: .session, defaultValue: nil,
            doc: "Every ExecutionReport of these accounts' orders, entered anywhere at this broker, is also "
                + "sent on this session with CopyMsgIndicator (797)=Y."),
        SimSettingKey(
            name: "FillLatencyMs", type: .millisecondsRange, scope: .both, defaultValue: "0",
            doc: "Delay before each fill slice: fixed (5) or uniform in a range (2-20)."),
        SimSettingKey(
            name: "PartialFills", type: .integer(minimum: 1), scope: .both, defaultValue: "1",
            doc: "A fill arrives in this many slices, each after its own latency, each at the price of its time."),
        SimSettingKey(
            name: "PartialFillProbability", type: .probability, scope: .both, defaultValue: "1",
            doc: "Chance that an order is sliced at all. A sliced FOK is killed; a sliced IOC keeps its first slice."),
        SimSettingKey(
            name: "RejectProbability", type: .probability, scope: .both, defaultValue: "0",
            doc: "Chance that an otherwise valid order is rejected (OrdRejReason 99)."),
        SimSettingKey(
            name: "MaxOrderQty", type: .decimal(positive: true), scope: .both, defaultValue: nil,
            doc: "Orders above this quantity are rejected (OrdRejReason 3); absent: no limit."),
        SimSettingKey(
            name: "ProviderBot", type: .string, scope: .both, defaultValue: nil,
            doc: "Start a bot trading this account at the broker (its ExecutionReports reach DropCopyFor "
                + "sessions). Each block that names one starts one bot, with that block's fill model."),
        SimSettingKey(
            name: "BotStyle", type: .choice(["script", "random"]), scope: .both, defaultValue: "script",
            doc: "script: follow BotScript. random: trade at random every BotIntervalMs."),
        SimSettingKey(
            name: "BotScript", type: .filePath, scope: .both, defaultValue: nil,
            doc: "CSV of the bot's orders: offset_ms,symbol,side,quantity,type[,price[,tif]] (see Specs/README.md)."),
        SimSettingKey(
            name: "BotIntervalMs", type: .integer(minimum: 1), scope: .both, defaultValue: "5000",
            doc: "Random bot: time between two actions."),
        SimSettingKey(
            name: "BotSymbols", type: .symbolList, scope: .both, defaultValue: nil,
            doc: "Random bot: symbols it trades; by default all."),
        SimSettingKey(
            name: "BotQty", type: .decimalRange, scope: .both, defaultValue: "1000-10000",
            doc: "Random bot: order quantity range."),
        SimSettingKey(
            name: "BotQtyStep", type: .decimal(positive: true), scope: .both, defaultValue: "1000",
            doc: "Random bot: quantities are multiples of this."),
        SimSettingKey(
            name: "BotQtyScale", type: .symbolDecimalList, scope: .both, defaultValue: nil,
            doc: "Random bot: per-symbol factor on BotQty, e.g. XAU/USD:0.001 trades 10-150 oz where "
                + "BotQty=10000-150000 trades that many units of a currency pair."),
    ]

    /// The key named `name`, if the simulator reads it.
    public static func key(named name: String) -> SimSettingKey? {
        keys.first { $0.name == name }
    }

    /// Reads a file for `BotScript`.
    public static func readTextFile(_ path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return String(decoding: data, as: UTF8.self)
    }

    /// Why `value` cannot be the value of `key` on its own, or `nil` when it can. Rules across
    /// keys (a `TickSize` symbol missing from `Symbols`) and file contents are checked when the
    /// configuration is built.
    public static func problem(with value: String, for key: SimSettingKey) -> String? {
        let reader = SettingsReader(values: [key.name: value], fallback: [:], session: nil)
        do throws(SimConfigurationError) {
            switch key.type {
            case .integer: _ = try reader.integer(key.name)
            case .seed: _ = try reader.seed(key.name)
            case .decimal:
                guard try reader.decimal(key.name) != nil else { return "expected \(key.type.expectation)" }
            case .probability: _ = try reader.probability(key.name)
            case .millisecondsRange: _ = try reader.latency(key.name)
            case .decimalRange: _ = try reader.decimalRange(key.name)
            case .symbolDecimalList:
                guard try !reader.pairs(key.name, value.simTrimmed).isEmpty else { return "no SYMBOL:DECIMAL" }
            case .accountDecimalList:
                guard try !reader.pairs(key.name, value.simTrimmed).isEmpty else { return "no ACCOUNT:DECIMAL" }
            case .symbolList, .accountList:
                guard reader.list(key.name) != nil else { return "expected \(key.type.expectation)" }
            case .string, .filePath, .outputFile:
                guard !value.simTrimmed.isEmpty else { return "expected \(key.type.expectation)" }
            case .choice: _ = try reader.choice(key.name)
            case .timeOfDay: _ = try reader.timeOfDay(key.name)
            case .flag:
                guard ["Y", "N"].contains(value.simTrimmed.uppercased()) else { return "expected Y or N" }
            }
            return nil
        } catch {
            return error.reason
        }
    }
}

// MARK: - Parsing

extension SimulatorConfiguration {
    /// Builds a configuration from the `[SIMULATOR]` block (`settings`) and the blocks of its
    /// sessions. Keys the simulator does not know are ignored (they belong to the session layer);
    /// a known key in the wrong block, or with a value it cannot use, is an error naming it.
    public init(
        settings: [String: String], sessions sessionSettings: [SimSessionKey: [String: String]] = [:],
        readFile: (String) throws -> String = SimSettings.readTextFile
    ) throws(SimConfigurationError) {
        let broker = SettingsReader(values: settings, fallback: [:], session: nil)
        try broker.checkScopes()
        self.init()
        instruments = try broker.instruments()
        randomSeed = try broker.seed("RandomSeed")
        priceTickMs = try broker.integer("PriceTickMs")
        maxTicksPerStep = try broker.integer("MaxTicksPerStep")
        quoteSize = try broker.decimal("QuoteSize")!
        dayEndNanos = try broker.timeOfDay("DayEndTime")
        idPrefix = broker.values["IDPrefix"].flatMap { $0.isEmpty ? nil : $0 }
        accountEquity = Dictionary(
            uniqueKeysWithValues: try broker.raw("AccountEquity").map { t throws(SimConfigurationError) in
                try broker.pairs("AccountEquity", t)
            } ?? [])
        currency = broker.raw("Currency").flatMap { $0.isEmpty ? nil : $0 } ?? "USD"
        answersCollateralInquiries = broker.raw("AnswerCollateralInquiries")?.simTrimmed.uppercased() != "N"
        defaultSession = try broker.sessionConfiguration()
        let symbols = instruments.map(\.symbol)
        bots = []
        if let bot = try broker.bot(symbols: symbols, fillModel: defaultSession.fillModel, readFile: readFile) {
            bots.append(bot)
        }
        sessions = [:]
        for key in sessionSettings.keys.sorted() {
            let reader = SettingsReader(values: sessionSettings[key]!, fallback: settings, session: key)
            try reader.checkScopes()
            let session = try reader.sessionConfiguration()
            sessions[key] = session
            if let bot = try reader.bot(symbols: symbols, fillModel: session.fillModel, readFile: readFile) {
                bots.append(bot)
            }
        }
    }
}

/// Reads typed values from one settings block, falling back to the broker block for `.both` keys.
struct SettingsReader {
    let values: [String: String]
    let fallback: [String: String]
    let session: SimSessionKey?

    init(values: [String: String], fallback: [String: String], session: SimSessionKey?) {
        self.values = values
        self.fallback = fallback
        self.session = session
    }

    func error(_ key: String, _ value: String, _ reason: String) -> SimConfigurationError {
        SimConfigurationError(key: key, value: value, session: session, reason: reason)
    }

    /// A known key placed in a block where it has no meaning.
    func checkScopes() throws(SimConfigurationError) {
        for name in values.keys.sorted() {
            guard let key = SimSettings.key(named: name) else { continue }
            switch (key.scope, session) {
            case (.broker, .some): throw error(name, values[name]!, "a simulator-wide setting; move it to [SIMULATOR]")
            case (.session, .none):
                throw error(name, values[name]!, "a per-session setting; move it to a session block")
            case (.broker, .none), (.session, .some), (.both, _): continue
            }
        }
    }

    /// The raw value: this block, the broker block for shared keys, then the table's default.
    func raw(_ name: String, inherit: Bool = true) -> String? {
        if let v = values[name] { return v.simTrimmed }
        if inherit, session != nil, let v = fallback[name] { return v.simTrimmed }
        guard let key = SimSettings.key(named: name) else { preconditionFailure("\(name) is not in the key table") }
        return key.defaultValue
    }

    func integer(_ name: String) throws(SimConfigurationError) -> Int {
        guard let text = raw(name) else { preconditionFailure("\(name) has no default") }
        guard case .integer(let minimum) = SimSettings.key(named: name)!.type else {
            preconditionFailure("\(name) is not an integer key")
        }
        guard let v = Int(text), v >= minimum else { throw error(name, text, "expected an integer >= \(minimum)") }
        return v
    }

    func seed(_ name: String) throws(SimConfigurationError) -> UInt64 {
        let text = raw(name) ?? "1"
        guard let v = UInt64(text) else { throw error(name, text, "expected an unsigned 64-bit integer") }
        return v
    }

    func decimal(_ name: String) throws(SimConfigurationError) -> FixedDecimal? {
        guard let text = raw(name), !text.isEmpty else { return nil }
        guard let v = FixedDecimal(text) else { throw error(name, text, "expected a decimal number") }
        if case .decimal(positive: true) = SimSettings.key(named: name)!.type, !v.isPositive {
            throw error(name, text, "must be greater than zero")
        }
        return v
    }

    func probability(_ name: String) throws(SimConfigurationError) -> FixedDecimal {
        let text = raw(name) ?? "0"
        guard let v = FixedDecimal(text), v >= .zero, v <= .one else {
            throw error(name, text, "expected a probability from 0 to 1")
        }
        return v
    }

    func latency(_ name: String) throws(SimConfigurationError) -> SimLatency {
        let text = raw(name) ?? "0"
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map {
            Int($0.simTrimmed)
        }
        switch parts.count {
        case 1:
            guard let v = parts[0], v >= 0 else { throw error(name, text, "expected milliseconds >= 0") }
            return .fixed(v)
        case 2:
            guard let lo = parts[0], let hi = parts[1], lo >= 0, hi >= lo else {
                throw error(name, text, "expected MIN-MAX milliseconds with 0 <= MIN <= MAX")
            }
            return SimLatency(minimumMs: lo, maximumMs: hi)
        default:
            throw error(name, text, "expected N or MIN-MAX milliseconds")
        }
    }

    func decimalRange(_ name: String) throws(SimConfigurationError) -> (FixedDecimal, FixedDecimal) {
        let text = raw(name) ?? ""
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map {
            FixedDecimal($0.simTrimmed)
        }
        if parts.count == 1, let v = parts[0], v.isPositive { return (v, v) }
        guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo.isPositive, hi >= lo else {
            throw error(name, text, "expected MIN-MAX with 0 < MIN <= MAX")
        }
        return (lo, hi)
    }

    func timeOfDay(_ name: String) throws(SimConfigurationError) -> Int64? {
        guard let text = raw(name), !text.isEmpty, text.lowercased() != "none" else { return nil }
        var bytes = text
        guard let t = bytes.withUTF8({ UTCTimeOnly.parse(UnsafeRawBufferPointer($0)) }) else {
            throw error(name, text, "expected HH:MM:SS or none")
        }
        return t.nanosecondsSinceMidnight
    }

    func choice(_ name: String) throws(SimConfigurationError) -> String {
        guard case .choice(let words) = SimSettings.key(named: name)!.type else {
            preconditionFailure("\(name) is not a choice key")
        }
        let text = raw(name) ?? words[0]
        guard let word = words.first(where: { $0.lowercased() == text.lowercased() }) else {
            throw error(name, text, "expected one of \(words.joined(separator: ", "))")
        }
        return word
    }

    /// `A:1,B:2` as ordered pairs.
    func pairs(_ name: String, _ text: String) throws(SimConfigurationError) -> [(String, FixedDecimal)] {
        var out: [(String, FixedDecimal)] = []
        for item in text.split(separator: ",") {
            let entry = item.simTrimmed
            guard let colon = entry.lastIndex(of: ":"),
                let value = FixedDecimal(String(entry[entry.index(after: colon)...])),
                !entry[..<colon].isEmpty
            else { throw error(name, text, "'\(entry)' is not SYMBOL:DECIMAL") }
            guard value.isPositive else { throw error(name, text, "'\(entry)' must be greater than zero") }
            let symbol = String(entry[..<colon])
            guard !out.contains(where: { $0.0 == symbol }) else { throw error(name, text, "\(symbol) appears twice") }
            out.append((symbol, value))
        }
        return out
    }

    func list(_ name: String) -> [String]? {
        guard let text = raw(name), !text.isEmpty else { return nil }
        return text.split(separator: ",").map { $0.simTrimmed }.filter { !$0.isEmpty }
    }

    func instruments() throws(SimConfigurationError) -> [SimInstrument] {
        let text = raw("Symbols")!
        let prices = try pairs("Symbols", text)
        guard !prices.isEmpty else { throw error("Symbols", text, "at least one SYMBOL:PRICE is needed") }
        let ticks = try raw("TickSize").map { t throws(SimConfigurationError) in try pairs("TickSize", t) } ?? []
        for (symbol, _) in ticks where !prices.contains(where: { $0.0 == symbol }) {
            throw error("TickSize", raw("TickSize")!, "\(symbol) is not in Symbols")
        }
        let spread = try integer("SpreadTicks")
        return prices.map { symbol, price in
            let tick =
                ticks.first(where: { $0.0 == symbol })?.1 ?? FixedDecimal(mantissa: 1, scale: price.scale)
            return SimInstrument(symbol: symbol, initialPrice: price, tickSize: tick, spreadTicks: spread)
        }
    }

    func fillModel() throws(SimConfigurationError) -> SimFillModel {
        SimFillModel(
            latency: try latency("FillLatencyMs"), partialFills: try integer("PartialFills"),
            partialFillProbability: try probability("PartialFillProbability"),
            rejectProbability: try probability("RejectProbability"), maxOrderQty: try decimal("MaxOrderQty"))
    }

    func sessionConfiguration() throws(SimConfigurationError) -> SimSessionConfiguration {
        let application = SimApplication(rawValue: try choice("Application"))!
        let dropCopy: SimAccountSelection
        switch list("DropCopyFor") {
        case .none: dropCopy = .none
        case .some(let accounts) where accounts.contains("*"): dropCopy = .all
        case .some(let accounts): dropCopy = .accounts(accounts)
        }
        let account = raw("Account", inherit: false).flatMap { $0.isEmpty ? nil : $0 }
        return SimSessionConfiguration(
            application: application, account: account, dropCopyFor: dropCopy, fillModel: try fillModel(),
            limits: SimAccountLimits(equity: try decimal("Equity"), leverage: try decimal("Leverage")!))
    }

    /// The bot this block declares with its own `ProviderBot` key (never inherited).
    func bot(
        symbols: [String], fillModel: SimFillModel, readFile: (String) throws -> String
    ) throws(SimConfigurationError) -> SimBotConfiguration? {
        guard let account = raw("ProviderBot", inherit: false), !account.isEmpty else { return nil }
        switch try choice("BotStyle") {
        case "random":
            let botSymbols = list("BotSymbols") ?? []
            for s in botSymbols where !symbols.contains(s) {
                throw error("BotSymbols", raw("BotSymbols")!, "\(s) is not in Symbols")
            }
            let (lo, hi) = try decimalRange("BotQty")
            let step = try decimal("BotQtyStep")!
            guard hi >= step else { throw error("BotQty", raw("BotQty")!, "the range holds no multiple of BotQtyStep") }
            let scales =
                try raw("BotQtyScale").map { t throws(SimConfigurationError) in try pairs("BotQtyScale", t) } ?? []
            for (s, _) in scales where !symbols.contains(s) {
                throw error("BotQtyScale", raw("BotQtyScale")!, "\(s) is not in Symbols")
            }
            let settings = SimRandomBotSettings(
                intervalMs: try integer("BotIntervalMs"), symbols: botSymbols, minimumQuantity: lo,
                maximumQuantity: hi, quantityStep: step,
                quantityScale: Dictionary(uniqueKeysWithValues: scales))
            return SimBotConfiguration(account: account, style: .random(settings), fillModel: fillModel)
        default:
            guard let path = raw("BotScript"), !path.isEmpty else {
                throw error("ProviderBot", account, "BotStyle=script needs BotScript=FILE")
            }
            let text: String
            do {
                text = try readFile(path)
            } catch {
                throw self.error("BotScript", path, "cannot read the file: \(error)")
            }
            do throws(SimBotScriptError) {
                let steps = try SimBotScript.parse(text)
                for step in steps where !symbols.contains(step.symbol) {
                    throw SimBotScriptError(line: 0, reason: "\(step.symbol) is not in Symbols")
                }
                return SimBotConfiguration(account: account, style: .script(steps), fillModel: fillModel)
            } catch {
                throw self.error("BotScript", path, error.description)
            }
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var simTrimmed: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return String(s)
    }
}
