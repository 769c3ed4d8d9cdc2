import BrokerSimulator
import CopyEngine
import FIXCore
import FIXSession
import Foundation
import Synchronization
import Testing

@testable import CopyBridgeAgent

/// The repository's copy scenarios (`Specs/copy`), whose brokers the runner plays, copied by the
/// agent itself: its sessions, journal, engine and ledger, connected to the scenario's simulators.
final class AgentScenarioFollower: CopyScenarioFollowerSide {
    private struct State {
        var runtime: AgentRuntime?
        var folder: TestFolder?
        /// Each agent session's identity, by its SessionName.
        var identities: [String: SessionIdentity] = [:]
    }

    private let state = Mutex(State())

    /// The settings file for `setup`: one initiator session per (CompID, broker) pair of the
    /// scenario, her account on hers, and each follower with his `copy` keys (the session's among
    /// them, `TimeInForce` say, in his session's block).
    static func settings(_ setup: CopyScenarioSetup) -> (text: String, identities: [String: SessionIdentity]) {
        let scenario = setup.scenario
        // The simulators run on the scenario's clock, the agent on the machine's: SendingTime is not
        // compared (CheckLatency=N), and the signals carry no age (MaxSignalAgeMs stays 0).
        var text = """
            [DEFAULT]
            BeginString=FIX.4.4
            ConnectionType=initiator
            HeartBtInt=30
            ReconnectInterval=1
            FileStoreSync=never
            CheckLatency=N
            SocketConnectHost=127.0.0.1

            [AGENT]
            JournalSync=never
            SummaryIntervalSeconds=0

            """
        var identities: [String: SessionIdentity] = [:]
        func sessionName(_ sender: String, _ broker: String) -> String { "\(sender)-\(broker)".lowercased() }
        let sessionKeys = Set(CopyConfigSchema.keys.filter { $0.block == .session }.map(\.name))
        var sessionSettings: [String: [String]] = [:]
        for f in scenario.followers {
            for (key, value) in f.copy.sorted(by: { $0.key < $1.key }) where sessionKeys.contains(key) {
                sessionSettings[sessionName(f.session, f.broker), default: []].append("\(key)=\(value)")
            }
        }
        let pairs =
            [(scenario.provider.session, scenario.provider.broker)] + scenario.followers.map { ($0.session, $0.broker) }
        for (sender, broker) in pairs {
            let name = sessionName(sender, broker)
            guard identities[name] == nil, let b = setup.broker(broker) else { continue }
            identities[name] = SessionIdentity(senderCompID: sender, targetCompID: broker)
            text += """

                [SESSION]
                SessionName=\(name)
                SenderCompID=\(sender)
                TargetCompID=\(broker)
                SocketConnectPort=\(b.port)

                """
            for line in Set(sessionSettings[name] ?? []).sorted() { text += line + "\n" }
        }
        let p = scenario.provider
        text += """

            [PROVIDER]
            ProviderID=\(p.name)
            SessionName=\(sessionName(p.session, p.broker))
            Account=\(p.account)
            Equity=100000

            """
        for f in scenario.followers {
            text += """

                [FOLLOWER]
                FollowerID=\(f.name)
                Provider=\(p.name)
                SessionName=\(sessionName(f.session, f.broker))
                Account=\(f.account)
                Equity=100000

                """
            for (key, value) in f.copy.sorted(by: { $0.key < $1.key }) where !sessionKeys.contains(key) {
                text += followerSetting(key, value) + "\n"
            }
        }
        return (text, identities)
    }

    /// A `copy` key as an agent setting: the format's `SizingMode: Multiplier` with `Multiplier` is
    /// `Sizing=fixed-ratio` with `Ratio`; any other key is the agent's own follower key.
    static func followerSetting(_ key: String, _ value: String) -> String {
        switch (key, value) {
        case ("SizingMode", "Multiplier"): "Sizing=fixed-ratio"
        case ("Multiplier", _): "Ratio=\(value)"
        default: "\(key)=\(value)"
        }
    }

    func start(_ setup: CopyScenarioSetup) async throws {
        let folder = try TestFolder()
        let (text, identities) = Self.settings(setup)
        let file = try folder.write("scenario.conf", text)
        let configuration = try AgentConfiguration.load(path: file, dataFolder: folder.path + "/data")
        let runtime = AgentRuntime(configuration: configuration, options: .quietTests)
        state.withLock {
            $0.runtime = runtime
            $0.folder = folder
            $0.identities = identities
        }
        try await runtime.start()
        try await runtime.waitUntil("every session live", timeout: .seconds(30)) { $0.allLive(identities.keys) }
    }

    func settle() async throws {
        // A turn of the agent's loop: everything read before it has been handled and flushed.
        guard let runtime = state.withLock({ $0.runtime }) else { return }
        _ = try await runtime.progress()
    }

    func sequenceNumbers() async -> [SessionIdentity: SessionSequenceNumbers] {
        guard let runtime = state.withLock({ $0.runtime }) else { return [:] }
        let identities = state.withLock { $0.identities }
        var out: [SessionIdentity: SessionSequenceNumbers] = [:]
        for session in await runtime.snapshot().sessions {
            guard let identity = identities[session.name] else { continue }
            out[identity] = SessionSequenceNumbers(
                nextSender: session.nextSenderSeqNum, nextTarget: session.nextTargetSeqNum)
        }
        return out
    }

    func advance(to time: UTCTimestamp) async throws {}

    func skipReasons(follower: String) async -> [String] {
        guard let folder = state.withLock({ $0.folder }),
            let scan = try? JournalReader.read(path: folder.path + "/data/journal.cbj")
        else { return [] }
        return scan.auditRecords.compactMap { record in
            guard case .decision(let d, _) = record, d.followerID == follower else { return nil }
            return d.reason.rawValue
        }
    }

    func stop() async {
        await state.withLock { $0.runtime }?.stop()
    }
}

@Suite("Copy scenarios against the agent", .serialized)
struct CopyScenarioAgentTests {
    static let specs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Specs/copy")

    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: specs.path)) ?? []).filter { $0.hasSuffix(".json") }
            .sorted()
    }

    @Test("every scenario in Specs/copy passes with the agent copying", arguments: names)
    func scenarioPasses(_ name: String) async throws {
        let data = try Data(contentsOf: Self.specs.appendingPathComponent(name))
        let scenario = try JSONDecoder().decode(CopyScenario.self, from: data)
        let report = try await CopyScenarioRunner.run(scenario, follower: AgentScenarioFollower())
        #expect(report.steps.allSatisfy { $0.outcome == .passed }, "\(report.steps.filter { $0.outcome != .passed })")
    }

    @Test("a copy at the wrong size fails at the follower's broker")
    func aWrongCopyFails() async throws {
        let data = try Data(contentsOf: Self.specs.appendingPathComponent("01_market_copy_multiplier.json"))
        var scenario = try JSONDecoder().decode(CopyScenario.self, from: data)
        scenario.followers[0].copy["Multiplier"] = "0.4"
        let report = try await CopyScenarioRunner.run(scenario, follower: AgentScenarioFollower())
        #expect(report.failures.first?.atMs == 3_000)
    }

    @Test("the scenario format's copy keys become the agent's follower settings")
    func copyKeys() {
        #expect(AgentScenarioFollower.followerSetting("SizingMode", "Multiplier") == "Sizing=fixed-ratio")
        #expect(AgentScenarioFollower.followerSetting("Multiplier", "0.25") == "Ratio=0.25")
        #expect(AgentScenarioFollower.followerSetting("LotSize", "1000") == "LotSize=1000")
    }
}
