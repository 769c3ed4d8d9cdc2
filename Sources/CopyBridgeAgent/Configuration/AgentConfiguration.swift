import CopyEngine
import FIXSession
import Foundation
import Ledger

/// One `[SESSION]` as the agent runs it.
public struct AgentSessionConfiguration: Sendable {
    /// The session layer's settings, with the agent's defaults for stores and logs applied.
    public var settings: SessionSettings
    /// The validated block, for the modules that read more keys from it.
    public var block: SettingsBlock
    /// `Simulator=Y`: the agent starts the simulated broker this session connects to.
    public var simulated: Bool
    /// `MarketData=Y`: subscribe to the broker's prices.
    public var marketData: Bool
    /// The broker symbols to subscribe to (empty with `Simulator=Y`: every simulated symbol).
    public var marketDataSymbols: [String]
    /// `EquityInquiryTimeoutMs`: how long an answer to a CollateralInquiry is waited for.
    public var equityInquiryTimeoutMs = 10_000

    /// `SessionName`.
    public var name: String { settings.name }
}

/// Everything `copybridge run` needs from a settings file: the sessions, the copy engine's
/// configuration, the HTTP server's and the agent's own settings, all validated.
public struct AgentConfiguration: Sendable {
    /// The validated file.
    public let file: CopyBridgeConfiguration
    public let agent: AgentSettings
    public let sessions: [AgentSessionConfiguration]
    public let engine: CopyEngineConfiguration
    /// `nil` without an `[ADMIN]` block: no HTTP server.
    public let admin: AdminHTTPConfiguration?
    /// Each follower's fee terms (``FeeSettings``), by `FollowerID`: every provider it copies is a
    /// ledger subscription with these terms.
    public let feeTerms: [String: FeeTerms]

    /// Loads and validates `path` with ``CopyBridgeSchema/schema``.
    public static func load(path: String, dataFolder: String? = nil) throws(SettingsError) -> AgentConfiguration {
        try AgentConfiguration(
            try CopyBridgeConfiguration.load(path: path, schema: CopyBridgeSchema.schema), dataFolder: dataFolder)
    }

    /// The agent's view of a loaded file. `dataFolder` replaces `[AGENT] DataFolder` (tests, several
    /// runs of one file).
    public init(_ file: CopyBridgeConfiguration, dataFolder: String? = nil) throws(SettingsError) {
        self.file = file
        let base = URL(fileURLWithPath: file.file).deletingLastPathComponent().path
        var agent = AgentSettings(block: file.blocks(of: .agent).first, baseDirectory: base)
        if let dataFolder {
            agent.dataFolder = URL(fileURLWithPath: dataFolder).standardizedFileURL.path
        }
        self.agent = agent
        var sessions: [AgentSessionConfiguration] = []
        for (settings, block) in zip(file.sessions, file.sessionBlocks) {
            var settings = settings
            // Unless a session names its own, its store (and, with FileLogPath, logs) live in the data
            // folder, so that one folder holds everything a run needs to restart.
            if !block.contains("FileStorePath") { settings.fileStorePath = agent.dataFolder + "/store" }
            var symbols: [String] = []
            for value in block.list(AgentSettings.Key.marketDataSymbols) ?? [] {
                if case .string(let s) = value { symbols.append(s) }
            }
            var session = AgentSessionConfiguration(
                settings: settings, block: block, simulated: block.bool("Simulator") ?? false,
                marketData: block.bool(AgentSettings.Key.marketData) ?? false, marketDataSymbols: symbols)
            session.equityInquiryTimeoutMs = block.integer(AgentSettings.Key.equityInquiryTimeoutMs) ?? 10_000
            sessions.append(session)
        }
        self.sessions = sessions
        switch EngineSettings.build(file) {
        case .success(var engine):
            engine.accountCurrency = agent.accountCurrency
            self.engine = engine
        case .failure(let error): throw error
        }
        var terms: [String: FeeTerms] = [:]
        for block in file.blocks(of: .follower) {
            guard let id = block["FollowerID"]?.rawValue else { continue }
            terms[id] = FeeSettings.terms(block)
        }
        feeTerms = terms
        if let block = file.blocks(of: .admin).first {
            do throws(AdminHTTPConfigurationError) {
                admin = try AdminHTTPConfiguration(block: block)
            } catch {
                throw SettingsError(diagnostics: [block.diagnostic(for: nil, error.description)])
            }
        } else {
            admin = nil
        }
    }

    /// The session named `name`.
    public func session(named name: String) -> AgentSessionConfiguration? {
        sessions.first { $0.name == name }
    }
}
