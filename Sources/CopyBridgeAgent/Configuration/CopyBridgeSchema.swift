import BrokerSimulator
import CopyEngine
import FIXCore
import FIXSession

/// The settings schema of the whole product, as `copybridge run`, `check-config` and `simulate` read
/// a settings file: every module's keys and block kinds, composed, with the rules across them.
///
/// - `[DEFAULT]`/`[SESSION]`: the session layer's keys (QuickFIX's), the simulator's per-session and
///   broker keys, the copy engine's session keys (SymbolMap, QtyUnit, OrdType...), and the agent's
///   `MarketData`/`MarketDataSymbols`.
/// - `[PROVIDER]`, `[FOLLOWER]`: the copy engine's key table, and the fee keys of `[FOLLOWER]`
///   (``FeeSettings``).
/// - `[SIMULATOR]`, `[ADMIN]`, `[AGENT]`: the simulator's, the HTTP server's and the agent's.
///
/// Two adjustments to the modules' own tables: `SocketConnectPort` may be 0 for a `Simulator=Y`
/// session (the agent starts the simulated broker on a free port and connects there), and
/// `TickSize` in a session block is the copy engine's (limit price step); the simulator's price
/// grid `TickSize` stays in `[SIMULATOR]`.
public enum CopyBridgeSchema {
    public static let schema = SettingsSchema.composed([
        sessionSchema,
        simulatorSchema,
        copyEngineSchema,
        AdminHTTPConfiguration.schema,
        AgentSettings.schema,
        FeeSettings.schema,
        SettingsSchema(validators: [engineValidator, sessionRulesValidator]),
    ])

    // MARK: Session layer

    /// The session layer's schema with `SocketConnectPort` accepting 0.
    static var sessionSchema: SettingsSchema {
        let base = SessionSettings.schema
        let keys = base.keys.map { key -> SettingKey in
            guard key.name == "SocketConnectPort" else { return key }
            return SettingKey(
                key.name, in: key.blocks, .port(allowsZero: true), required: key.isRequired, default: key.defaultValue,
                secret: key.isSecret, numbered: key.isNumbered, status: key.status,
                doc: key.doc + " 0 with Simulator=Y: the simulated broker's port, chosen when it starts.")
        }
        return SettingsSchema(blockKinds: base.blockKinds, keys: keys, validators: base.validators)
    }

    // MARK: Simulator

    /// The simulator's schema, its `TickSize` confined to `[SIMULATOR]`.
    static var simulatorSchema: SettingsSchema {
        let base = SimSettings.schema
        let keys = base.keys.map { key -> SettingKey in
            guard copyEngineSessionKeys.contains(key.name) else { return key }
            return SettingKey(
                key.name, in: key.blocks.subtracting([.session]), key.type, required: key.isRequired,
                default: key.defaultValue, secret: key.isSecret, numbered: key.isNumbered, status: key.status,
                doc: key.doc + " In [SIMULATOR] only: in a session block the key is the copy engine's.")
        }
        // The simulator reads any session entry named like one of its keys; a copy engine key of the
        // same name would get a warning that it has no effect, which is not so.
        let validators = base.validators.map { validator -> SettingsSchema.Validator in
            { configuration in
                validator(configuration).filter { d in
                    !(d.severity == .warning && d.key.map(copyEngineSessionKeys.contains) == true)
                }
            }
        }
        return SettingsSchema(blockKinds: base.blockKinds, keys: keys, validators: validators)
    }

    /// The copy engine's `[SESSION]` keys.
    static let copyEngineSessionKeys = Set(CopyConfigSchema.keys(in: .session).map(\.name))

    // MARK: Copy engine

    /// `[PROVIDER]`, `[FOLLOWER]` and the copy keys of `[SESSION]`, from the engine's key table.
    static var copyEngineSchema: SettingsSchema {
        SettingsSchema(
            blockKinds: [
                .init(.provider, doc: "A signal provider whose fills are copied (copy engine keys)."),
                .init(.follower, doc: "A follower account and how it copies (copy engine keys)."),
            ],
            keys: CopyConfigSchema.keys.map(settingKey))
    }

    static func kind(_ block: CopyConfigBlock) -> SettingsBlockKind {
        switch block {
        case .provider: return .provider
        case .follower: return .follower
        case .session: return .session
        }
    }

    /// A key of the engine's table as the settings file checks it. Values the file can check on
    /// their own (numbers, Y/N, words) are typed; the engine's structured values (symbol maps,
    /// provider links, time windows) are checked by the engine itself when the configuration is
    /// built, and reported at the key's line.
    static func settingKey(_ key: CopyConfigKey) -> SettingKey {
        let type: SettingValueType
        switch key.type {
        case .string: type = .string
        case .decimal: type = .decimal(nil)
        case .integer: type = .integer(0...1_000_000_000_000)
        case .boolean: type = .bool
        case .choice(let words): type = .word(words)
        case .lossLimit:
            type = .custom(
                CustomSettingType(name: key.type.displayName, expectation: expectation(key.type)) { raw in
                    isLossLimit(raw) ? .string(raw) : nil
                })
        case .timeOfDay:
            type = .custom(
                CustomSettingType(name: key.type.displayName, expectation: expectation(key.type)) { raw in
                    isTimeOfDay(raw) ? .string(raw) : nil
                })
        case .list, .providerLinks, .symbolMap, .decimalMap, .timeWindows, .weekdays, .equity:
            type = .custom(
                CustomSettingType(name: key.type.displayName, expectation: expectation(key.type)) { raw in
                    raw.isEmpty ? nil : .string(raw)
                })
        }
        // An empty default means "absent" in the engine; the settings file has no empty values.
        let defaultValue = key.defaultValue.flatMap { $0.isEmpty ? nil : $0 }
        return SettingKey(
            key.name, in: [kind(key.block)], type, required: key.defaultValue == nil, default: defaultValue,
            doc: key.doc)
    }

    static func expectation(_ type: CopyConfigValueType) -> String {
        switch type {
        case .list: return "a comma-separated list"
        case .providerLinks: return "provider IDs with optional weights, e.g. alice or alice:1,carol:0.5"
        case .symbolMap: return "canonical:broker symbol pairs, e.g. EUR/USD:EURUSD.m"
        case .decimalMap: return "symbol:decimal pairs, e.g. XAU/USD:100"
        case .timeWindows: return "UTC windows HH:MM-HH:MM, comma-separated"
        case .weekdays: return "weekdays such as Mon-Fri or Mon,Wed,Fri"
        case .equity: return "a positive amount or broker"
        case .lossLimit: return "a positive amount (500) or a percentage of equity (5%)"
        case .timeOfDay: return "a UTC time HH:MM, e.g. 22:00"
        case .string, .decimal, .integer, .boolean, .choice: return type.displayName
        }
    }

    /// `500` or `5%`: positive, a percentage at most 100.
    static func isLossLimit(_ raw: String) -> Bool {
        let percent = raw.hasSuffix("%")
        guard let value = FixedDecimal(String(percent ? raw.dropLast() : raw[...])), value.isPositive else {
            return false
        }
        return !percent || value <= FixedDecimal(100)
    }

    /// `HH:MM`, 00:00 to 23:59.
    static func isTimeOfDay(_ raw: String) -> Bool {
        let parts = raw.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
            let h = Int(parts[0]), let m = Int(parts[1])
        else { return false }
        return (0..<24).contains(h) && (0..<60).contains(m)
    }

    // MARK: Rules across blocks

    @Sendable
    static func engineValidator(_ configuration: CopyBridgeConfiguration) -> [SettingsDiagnostic] {
        switch EngineSettings.build(configuration) {
        case .success: return []
        case .failure(let error): return error.diagnostics
        }
    }

    /// SocketConnectPort=0 only where the agent starts the broker; market data needs symbols.
    @Sendable
    static func sessionRulesValidator(_ configuration: CopyBridgeConfiguration) -> [SettingsDiagnostic] {
        var out: [SettingsDiagnostic] = []
        for (settings, block) in zip(configuration.sessions, configuration.sessionBlocks) {
            let simulated = block.bool("Simulator") ?? false
            if settings.connectionType == .initiator {
                for (index, address) in settings.connectAddresses.enumerated() where address.port == 0 {
                    let key = index == 0 ? "SocketConnectPort" : "SocketConnectPort\(index)"
                    if index > 0 {
                        out.append(
                            block.diagnostic(
                                for: key, "\(key)=0: a failover address needs a real port (session \(settings.name))"))
                    } else if !simulated {
                        out.append(
                            block.diagnostic(
                                for: key,
                                "SocketConnectPort=0 needs Simulator=Y: only a simulated broker started by "
                                    + "`copybridge run` can tell its port (session \(settings.name))"))
                    }
                }
            }
            if block.bool(AgentSettings.Key.marketData) == true && !block.contains(AgentSettings.Key.marketDataSymbols)
                && !simulated
            {
                out.append(
                    block.diagnostic(
                        for: AgentSettings.Key.marketData,
                        "MarketData=Y needs MarketDataSymbols (the broker's symbols to subscribe to) in session "
                            + "\(settings.name)"))
            }
        }
        return out
    }
}
