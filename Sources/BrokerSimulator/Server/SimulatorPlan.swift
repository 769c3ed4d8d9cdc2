import FIXCore
import FIXSession
import FIXTransport
import NIOCore

/// Where a simulated session keeps its message store and logs when the server uses files.
public struct SimSessionStorage: Sendable, Equatable {
    /// FileStorePath.
    public var storePath: String
    /// FileStoreSync.
    public var sync: FileStore.SyncPolicy
    /// FileLogPath; `nil`: no file log.
    public var logPath: String?

    public init(storePath: String, sync: FileStore.SyncPolicy = .always, logPath: String? = nil) {
        self.storePath = storePath
        self.sync = sync
        self.logPath = logPath
    }
}

/// One simulated broker: where it listens, its FIX sessions (acceptors, seen from the broker) and
/// what it simulates. A settings file gives them through ``SimulatorPlan``; tests and the copy
/// scenario runner build them in code.
public struct SimBrokerPlan: Sendable {
    /// Unique within a server: the broker's CompID, with `@port` when two brokers share one.
    public var name: String
    /// The listening address every session of the broker shares (port 0: any free port).
    public var acceptor: AcceptorOptions
    /// The broker's FIX sessions; every one must be an acceptor on ``acceptor``'s endpoint.
    public var sessions: [FIXSessionSettings]
    public var configuration: SimulatorConfiguration
    /// `BookFile`: where the book is written at stop and on request.
    public var bookFile: String?
    /// Stores and logs per session when the server keeps files (``SimServerOptions/Storage/settings``).
    public var storage: [SessionIdentity: SimSessionStorage]
    /// Largest message accepted from a peer (MaxMessageSize).
    public var maximumMessageSize: Int

    public init(
        name: String, acceptor: AcceptorOptions, sessions: [FIXSessionSettings], configuration: SimulatorConfiguration,
        bookFile: String? = nil, storage: [SessionIdentity: SimSessionStorage] = [:],
        maximumMessageSize: Int = 1 << 20
    ) {
        self.name = name
        self.acceptor = acceptor
        self.sessions = sessions
        self.configuration = configuration
        self.bookFile = bookFile
        self.storage = storage
        self.maximumMessageSize = maximumMessageSize
    }

    /// A broker accepting the given counterparties on `host:port`, with memory-friendly session
    /// defaults (HeartBtInt comes from each counterparty's Logon).
    public init(
        name: String, host: String = "127.0.0.1", port: Int = 0, counterparties: [String],
        configuration: SimulatorConfiguration, beginString: String = "FIX.4.4"
    ) {
        let acceptor = AcceptorOptions(host: host, port: port)
        let sessions = counterparties.map { counterparty in
            FIXSessionSettings(
                session: SessionConfiguration(
                    identity: SessionIdentity(beginString: beginString, senderCompID: name, targetCompID: counterparty),
                    connectionType: .acceptor),
                transport: .acceptor(acceptor))
        }
        self.init(name: name, acceptor: acceptor, sessions: sessions, configuration: configuration)
    }

    /// The broker's key for one of its sessions.
    public static func key(of identity: SessionIdentity) -> SimSessionKey {
        SimSessionKey(
            senderCompID: identity.senderCompID, targetCompID: identity.targetCompID,
            qualifier: identity.qualifier ?? "")
    }
}

/// Builds simulated brokers from a loaded settings file.
///
/// - `copybridge simulate` serves every `[SESSION]` with `ConnectionType=acceptor`
///   (``serving(_:)``): sessions that share a listening address share one broker.
/// - `copybridge run` starts a broker for the initiator sessions with `Simulator=Y`
///   (``mirroring(_:)``): each is mirrored (CompIDs swapped, listening on its
///   SocketConnectHost/SocketConnectPort) and sessions that connect to the same address share one
///   broker.
///
/// A broker's simulator-wide keys come, most specific first, from its sessions' own blocks (they
/// must agree), the `[SIMULATOR]` block, then `[DEFAULT]`. Per-session keys come from each
/// session's block (with `[DEFAULT]`), falling back to the broker's as ``SimulatorConfiguration``
/// does. Values are checked by SimSettings' parser; a problem is reported at the line of the key.
public enum SimulatorPlan {
    /// Which sessions of a file the brokers serve.
    enum Mode {
        case serve
        case mirror
    }

    /// The brokers behind the file's acceptor sessions.
    public static func serving(_ configuration: CopyBridgeConfiguration) throws(SettingsError) -> [SimBrokerPlan] {
        try throwing(build(configuration, .serve))
    }

    /// The brokers that stand in for the counterparties of the file's initiator sessions with
    /// `Simulator=Y`; empty when there are none.
    public static func mirroring(_ configuration: CopyBridgeConfiguration) throws(SettingsError) -> [SimBrokerPlan] {
        try throwing(build(configuration, .mirror))
    }

    static func throwing(
        _ result: (plans: [SimBrokerPlan], diagnostics: [SettingsDiagnostic])
    ) throws(SettingsError)
        -> [SimBrokerPlan]
    {
        if result.diagnostics.contains(where: { $0.severity == .error }) {
            throw SettingsError(diagnostics: result.diagnostics)
        }
        return result.plans
    }

    /// A session of the file as one of the broker's: the block it was written in, its settings,
    /// and its identity and role seen from the broker.
    struct Member {
        var block: SettingsBlock
        var settings: SessionSettings
        var identity: SessionIdentity
        var key: SimSessionKey
    }

    static func build(
        _ configuration: CopyBridgeConfiguration, _ mode: Mode
    ) -> (plans: [SimBrokerPlan], diagnostics: [SettingsDiagnostic]) {
        var diagnostics: [SettingsDiagnostic] = []
        var groups: [(endpoint: TransportEndpoint, acceptor: AcceptorOptions, members: [Member])] = []
        for (settings, block) in zip(configuration.sessions, configuration.sessionBlocks) {
            let simulated = block.bool("Simulator") ?? false
            let endpoint: TransportEndpoint
            let acceptor: AcceptorOptions
            let identity: SessionIdentity
            switch (mode, settings.connectionType) {
            case (.serve, .acceptor):
                guard let port = settings.acceptPort else { continue }  // reported by the session layer
                endpoint = TransportEndpoint(host: settings.acceptHost ?? "0.0.0.0", port: port)
                acceptor = AcceptorOptions(settings: settings)
                identity = SessionIdentity(settings.id)
            case (.mirror, .initiator) where simulated:
                guard let address = settings.connectAddresses.first else { continue }
                endpoint = TransportEndpoint(host: address.host, port: address.port)
                acceptor = AcceptorOptions(host: address.host, port: address.port)
                identity = SessionIdentity(settings.id).reversed
            case (.mirror, .acceptor):
                if simulated {
                    diagnostics.append(
                        block.diagnostic(
                            for: "Simulator",
                            "Simulator=Y applies to initiator sessions: session \(settings.name) is an acceptor"))
                }
                continue
            case (.serve, .initiator), (.mirror, .initiator):
                continue
            }
            if settings.tls != nil {
                diagnostics.append(
                    block.diagnostic(
                        for: nil,
                        "session \(settings.name) uses TLS, but the simulated broker accepts plain TCP only"))
                continue
            }
            let member = Member(
                block: block, settings: settings, identity: identity, key: SimBrokerPlan.key(of: identity))
            if let i = groups.firstIndex(where: { $0.endpoint == endpoint }) {
                groups[i].members.append(member)
            } else {
                groups.append((endpoint, acceptor, [member]))
            }
        }

        let simulatorBlock = configuration.blocks(of: .simulator).first
        var plans: [SimBrokerPlan] = []
        for group in groups {
            guard let configurationResult = brokerConfiguration(group.members, simulatorBlock, &diagnostics) else {
                continue
            }
            let (simulator, bookFile) = configurationResult
            var sessions: [FIXSessionSettings] = []
            var storage: [SessionIdentity: SimSessionStorage] = [:]
            for member in group.members {
                // A mirrored session keeps its counterpart's reset flags, so both sides agree on
                // sequence numbers, and its credentials, which the broker then requires.
                let session = SessionConfiguration(
                    settings: member.settings, identity: member.identity, role: .acceptor)
                sessions.append(
                    FIXSessionSettings(
                        session: session, transport: .acceptor(group.acceptor), schedule: member.settings.schedule))
                storage[member.identity] = SimSessionStorage(
                    storePath: member.settings.fileStorePath,
                    sync: FileStore.SyncPolicy(rawValue: member.settings.fileStoreSync.rawValue) ?? .always,
                    logPath: member.settings.fileLogPath)
            }
            var name = group.members[0].identity.senderCompID
            if plans.contains(where: { $0.name == name }) { name += "@\(group.endpoint.port)" }
            plans.append(
                SimBrokerPlan(
                    name: name, acceptor: group.acceptor, sessions: sessions, configuration: simulator,
                    bookFile: bookFile, storage: storage,
                    maximumMessageSize: group.members.map(\.settings.maxMessageSize).max() ?? 1 << 20))
        }
        return (plans, diagnostics)
    }

    /// The simulator configuration of the broker serving `members`, or `nil` after reporting why
    /// there is none.
    static func brokerConfiguration(
        _ members: [Member], _ simulatorBlock: SettingsBlock?, _ diagnostics: inout [SettingsDiagnostic]
    ) -> (SimulatorConfiguration, bookFile: String?)? {
        var values: [String: String] = [:]
        var locations: [String: SourceLocation] = [:]
        // Least specific first: [DEFAULT] (inherited by every session alike), then [SIMULATOR].
        for member in members {
            for entry in member.block.entries where entry.isInherited && scope(of: entry) == .broker {
                values[entry.baseKey] = text(of: entry)
                locations[entry.baseKey] = entry.location
            }
        }
        for entry in simulatorBlock?.entries ?? [] where scope(of: entry) != nil {
            values[entry.baseKey] = text(of: entry)
            locations[entry.baseKey] = entry.location
        }
        // Then what the broker's own session blocks say; they must not contradict each other.
        var written: [String: SettingsEntry] = [:]
        var conflict = false
        for member in members {
            for entry in member.block.entries where !entry.isInherited && scope(of: entry) == .broker {
                if let first = written[entry.baseKey], text(of: first) != text(of: entry) {
                    diagnostics.append(
                        SettingsDiagnostic(
                            at: entry.location, key: entry.baseKey,
                            "\(entry.baseKey)=\(entry.rawValue) contradicts \(first.baseKey)=\(first.rawValue) at line "
                                + "\(first.location.line ?? 0): both sessions are served by one simulated broker"))
                    conflict = true
                    continue
                }
                written[entry.baseKey] = entry
                values[entry.baseKey] = text(of: entry)
                locations[entry.baseKey] = entry.location
            }
        }
        if conflict { return nil }

        var sessionValues: [SimSessionKey: [String: String]] = [:]
        var blocks: [SimSessionKey: SettingsBlock] = [:]
        let simulatorKeys = Set(simulatorBlock?.entries.map(\.baseKey) ?? [])
        for member in members {
            var own: [String: String] = [:]
            for entry in member.block.entries {
                switch scope(of: entry) {
                case .session?: own[entry.baseKey] = text(of: entry)
                case .both?:
                    // [SIMULATOR] outranks [DEFAULT]: leave the inherited value out and the session
                    // falls back to the broker's.
                    if entry.isInherited && simulatorKeys.contains(entry.baseKey) { continue }
                    own[entry.baseKey] = text(of: entry)
                case .broker?, nil: continue
                }
            }
            sessionValues[member.key] = own
            blocks[member.key] = member.block
        }
        do throws(SimConfigurationError) {
            let configuration = try SimulatorConfiguration(settings: values, sessions: sessionValues)
            return (configuration, values["BookFile"])
        } catch {
            let location: SourceLocation
            if let session = error.session, let block = blocks[session], block.contains(error.key) {
                location = block.location(of: error.key)
            } else if let known = locations[error.key] {
                location = known
            } else {
                location =
                    error.session.flatMap { blocks[$0]?.location } ?? simulatorBlock?.location
                    ?? members[0].block.location
            }
            diagnostics.append(SettingsDiagnostic(at: location, key: error.key, error.description))
            return nil
        }
    }

    /// The scope of a simulator key, `nil` for keys of other modules.
    static func scope(of entry: SettingsEntry) -> SimSettingScope? {
        SimSettings.key(named: entry.baseKey)?.scope
    }

    /// The text SimSettings parses: paths resolved against the settings file's directory.
    static func text(of entry: SettingsEntry) -> String {
        if case .path(let path) = entry.value { return path }
        return entry.rawValue
    }
}

// MARK: - Settings schema

extension SimSettings {
    /// The `[SIMULATOR]` block kind and every key of ``keys``, for the product's settings schema.
    ///
    /// Broker-wide and shared keys may be written in `[SIMULATOR]`, `[SESSION]` and `[DEFAULT]`;
    /// per-session keys (`Account`, `DropCopyFor`, `Simulator`) in session blocks only. Each value
    /// is checked by the simulator's own parser; the rules across keys and blocks (a `TickSize`
    /// symbol missing from `Symbols`, a bot script's contents, two sessions of one broker
    /// disagreeing) are checked by building every broker the file describes.
    public static let schema = SettingsSchema(
        blockKinds: [
            .init(
                .simulator, maximumCount: 1,
                doc: "Settings of every broker the bundled simulator plays (`copybridge simulate`, and initiator "
                    + "sessions with Simulator=Y under `copybridge run`). A session block's simulator keys override "
                    + "them for the broker serving that session; sessions sharing a listening port share one broker.")
        ],
        keys: keys.map(settingKey),
        validators: [validate])

    static func settingKey(_ key: SimSettingKey) -> SettingKey {
        let blocks: Set<SettingsBlockKind>
        switch key.scope {
        case .session: blocks = [.session]
        case .broker, .both: blocks = [.simulator, .session]
        }
        return SettingKey(key.name, in: blocks, settingType(key), default: key.defaultValue, doc: key.doc)
    }

    static func settingType(_ key: SimSettingKey) -> SettingValueType {
        switch key.type {
        case .choice(let words): return .word(words)
        case .string: return .string
        case .filePath: return .existingFile
        case .outputFile: return .path
        case .flag: return .bool
        case .integer, .seed, .decimal, .probability, .millisecondsRange, .decimalRange, .symbolDecimalList,
            .symbolList, .accountList, .accountDecimalList, .timeOfDay:
            return .custom(
                CustomSettingType(name: key.type.description, expectation: key.type.expectation) { raw in
                    SimSettings.problem(with: raw, for: key) == nil ? .string(raw) : nil
                })
        }
    }

    /// Builds every broker the file describes (served and mirrored) and reports what stops one
    /// from being built, plus simulator keys on sessions no simulator reads.
    @Sendable
    static func validate(_ configuration: CopyBridgeConfiguration) -> [SettingsDiagnostic] {
        var out = SimulatorPlan.build(configuration, .serve).diagnostics
        out += SimulatorPlan.build(configuration, .mirror).diagnostics
        if let block = configuration.blocks(of: .simulator).first {
            var values: [String: String] = [:]
            for entry in block.entries { values[entry.baseKey] = SimulatorPlan.text(of: entry) }
            do throws(SimConfigurationError) {
                _ = try SimulatorConfiguration(settings: values)
            } catch {
                out.append(SettingsDiagnostic(at: block.location(of: error.key), key: error.key, error.description))
            }
        }
        for (settings, block) in zip(configuration.sessions, configuration.sessionBlocks)
        where settings.connectionType == .initiator && block.bool("Simulator") != true {
            for entry in block.entries where !entry.isInherited && entry.baseKey != "Simulator" {
                guard SimulatorPlan.scope(of: entry) != nil else { continue }
                out.append(
                    SettingsDiagnostic(
                        .warning, at: entry.location, key: entry.baseKey,
                        "\(entry.baseKey) has no effect: session \(settings.name) is an initiator without Simulator=Y"))
            }
        }
        var seen = Set<SettingsDiagnostic>()
        return out.filter { seen.insert($0).inserted }
    }
}
