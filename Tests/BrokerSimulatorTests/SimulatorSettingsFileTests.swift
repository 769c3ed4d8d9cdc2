import FIXCore
import FIXSession
import FIXTransport
import Foundation
import TestSupport
import Testing

@testable import BrokerSimulator

/// The simulator's keys in a settings file: validated like every other key (file:line), and turned
/// into brokers (which sessions share one, where each value comes from).
@Suite struct SimulatorSettingsFileTests {
    /// The 1-based number of the `occurrence`-th line of `text` that starts with `prefix`.
    func line(_ prefix: String, in text: String, occurrence: Int = 1) -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let matches = lines.indices.filter { lines[$0].hasPrefix(prefix) }
        return matches.count >= occurrence ? matches[occurrence - 1] + 1 : -1
    }

    @Test func everySimulatorKeyIsInTheSchemaWithItsBlocks() {
        for key in SimSettings.keys {
            let inSession = testSchema.keys(allowedIn: .session).contains { $0.name == key.name }
            let inDefault = testSchema.keys(allowedIn: .default).contains { $0.name == key.name }
            let inSimulator = testSchema.keys(allowedIn: .simulator).contains { $0.name == key.name }
            #expect(inSession && inDefault, "\(key.name) must be allowed in [SESSION] and [DEFAULT]")
            #expect(inSimulator == (key.scope != .session), "\(key.name) in [SIMULATOR]")
        }
        #expect(testSchema.markdownReference().contains("### [SIMULATOR]"))
    }

    @Test func badValuesAreReportedAtTheirLine() {
        let text =
            """
            [SIMULATOR]
            Symbols=EUR/USD:1.0850
            PartialFills=0
            RejectProbability=1.5
            Account=ALICE
            FillLatencyMs=20-5

            """ + acceptorBlock("SIM", "CLIENT", "DropCopyFor=ALICE\nDayEndTime=25:00:00\nApplication=mirror")
        let errors = settingsErrors(text)
        func error(at line: Int, _ text: String) -> Bool {
            errors.contains { $0.location.line == line && $0.description.contains(text) }
        }
        #expect(error(at: line("PartialFills", in: text), "PartialFills"), "\(errors)")
        #expect(error(at: line("PartialFills", in: text), "integer >= 1"), "\(errors)")
        #expect(error(at: line("RejectProbability", in: text), "RejectProbability"), "\(errors)")
        #expect(error(at: line("Account", in: text), "not allowed in [SIMULATOR]"), "\(errors)")
        #expect(error(at: line("FillLatencyMs", in: text), "FillLatencyMs"), "\(errors)")
        #expect(error(at: line("DayEndTime", in: text), "DayEndTime"), "\(errors)")
        #expect(error(at: line("Application", in: text), "Application"), "\(errors)")
        #expect(errors.count == 6, "\(errors)")
        #expect(errors.allSatisfy { $0.location.file == "test.conf" })
    }

    @Test func rulesAcrossKeysAreReportedAtTheKey() throws {
        let directory = try makeTemporaryDirectory("simsettings")
        defer { try? FileManager.default.removeItem(at: directory) }
        try "0,GBP/USD,BUY,1000,MARKET\n".write(
            to: directory.appendingPathComponent("bot.csv"), atomically: true, encoding: .utf8)
        let text =
            """
            [SIMULATOR]
            Symbols=EUR/USD:1.0850
            TickSize=XAU/USD:0.1

            """ + acceptorBlock("SIM", "CLIENT", "ProviderBot=ALICE\nBotScript=bot.csv")
        let errors = settingsErrors(text, in: directory)
        #expect(
            errors.contains {
                $0.location.line == line("TickSize", in: text) && $0.description.contains("XAU/USD is not in Symbols")
            }, "\(errors)")

        let botOnly = acceptorBlock("SIM", "CLIENT", "Symbols=EUR/USD:1.0850\nProviderBot=ALICE\nBotScript=bot.csv")
        let botErrors = settingsErrors(botOnly, in: directory)
        #expect(
            botErrors.contains {
                $0.location.line == line("BotScript", in: botOnly)
                    && $0.description.contains("GBP/USD is not in Symbols")
            },
            "\(botErrors)")

        let missing = acceptorBlock("SIM", "CLIENT", "ProviderBot=ALICE\nBotScript=nowhere.csv")
        #expect(
            settingsErrors(missing, in: directory).contains {
                $0.location.line == line("BotScript", in: missing) && $0.key == "BotScript"
            })
    }

    @Test func sessionsOfOneBrokerMustAgreeOnBrokerWideKeys() {
        let text =
            acceptorBlock("SIM", "CLIENT", port: 9001, "RandomSeed=5")
            + acceptorBlock("SIM", "DROP", port: 9001, "RandomSeed=6")
        let errors = settingsErrors(text)
        #expect(errors.count == 1)
        #expect(errors.first?.location.line == line("RandomSeed", in: text, occurrence: 2))
        #expect(
            errors.first?.description.contains("contradicts RandomSeed=5 at line \(line("RandomSeed", in: text))")
                == true, "\(errors)")
        // Different ports are different brokers: no contradiction.
        let separate =
            acceptorBlock("SIM", "CLIENT", port: 9001, "RandomSeed=5")
            + acceptorBlock("SIM", "DROP", port: 9002, "RandomSeed=6")
        #expect(settingsErrors(separate).isEmpty)
    }

    @Test func simulatorFlagBelongsToInitiators() {
        let text = acceptorBlock("SIM", "CLIENT", "Simulator=Y")
        let errors = settingsErrors(text)
        #expect(
            errors.contains {
                $0.location.line == line("Simulator", in: text)
                    && $0.description.contains("applies to initiator sessions")
            })
    }

    @Test func simulatorKeysOnARealInitiatorAreAWarning() throws {
        let text = """
            [SESSION]
            BeginString=FIX.4.4
            SenderCompID=BRIDGE
            TargetCompID=LIVEBROKER
            ConnectionType=initiator
            SocketConnectHost=127.0.0.1
            SocketConnectPort=9100
            HeartBtInt=30
            FillLatencyMs=5

            """
        let configuration = try parseSettings(text)
        #expect(
            configuration.warnings.contains {
                $0.severity == .warning && $0.location.line == line("FillLatencyMs", in: text)
                    && $0.description.contains("without Simulator=Y")
            })
    }

    @Test func servingGroupsSessionsByPortAndLayersTheValues() throws {
        let text =
            """
            [DEFAULT]
            RandomSeed=1
            FillLatencyMs=7
            PartialFills=2
            DayEndTime=none

            [SIMULATOR]
            RandomSeed=5
            PartialFills=4
            Symbols=EUR/USD:1.0850,XAU/USD:2650.0
            IDPrefix=S

            """ + acceptorBlock("PROV", "BRIDGE", port: 9001, "DropCopyFor=ALICE")
            + acceptorBlock("PROV", "ALICE", port: 9001, "FillLatencyMs=3\nPartialFills=5")
            + acceptorBlock("FOL", "BRIDGE", port: 9002, "RandomSeed=9\nSymbols=EUR/USD:1.1")
        let plans = try SimulatorPlan.serving(try parseSettings(text))
        #expect(plans.map(\.name) == ["PROV", "FOL"])
        let prov = plans[0]
        let fol = plans[1]
        #expect(prov.acceptor.endpoint == TransportEndpoint(host: "127.0.0.1", port: 9001))
        #expect(prov.sessions.map(\.identity.targetCompID) == ["BRIDGE", "ALICE"])
        #expect(prov.sessions.allSatisfy { $0.session.connectionType == .acceptor })
        // [SIMULATOR] beats [DEFAULT]; a session block beats [SIMULATOR].
        #expect(prov.configuration.randomSeed == 5)
        #expect(fol.configuration.randomSeed == 9)
        #expect(prov.configuration.instruments.map(\.symbol) == ["EUR/USD", "XAU/USD"])
        #expect(fol.configuration.instruments.map(\.symbol) == ["EUR/USD"])
        #expect(prov.configuration.idPrefix == "S")
        #expect(prov.configuration.dayEndNanos == nil)
        let bridge = SimSessionKey(senderCompID: "PROV", targetCompID: "BRIDGE")
        let alice = SimSessionKey(senderCompID: "PROV", targetCompID: "ALICE")
        #expect(prov.configuration.session(bridge).dropCopyFor == .accounts(["ALICE"]))
        #expect(prov.configuration.session(bridge).fillModel.latency == .fixed(7))
        #expect(prov.configuration.session(alice).fillModel.latency == .fixed(3))
        // For shared keys too: the session's own value, else [SIMULATOR], else [DEFAULT].
        #expect(prov.configuration.session(alice).fillModel.partialFills == 5)
        #expect(prov.configuration.session(bridge).fillModel.partialFills == 4)
        #expect(prov.configuration.defaultSession.fillModel.partialFills == 4)
        #expect(fol.configuration.defaultSession.fillModel.latency == .fixed(0))
    }

    @Test func mirroringSwapsCompIDsAndListensWhereTheInitiatorConnects() throws {
        let text = """
            [DEFAULT]
            BeginString=FIX.4.4
            SenderCompID=BRIDGE
            ConnectionType=initiator
            HeartBtInt=30
            SocketConnectHost=127.0.0.1

            [SESSION]
            TargetCompID=PROVBRK
            SocketConnectPort=9201
            Simulator=Y
            DropCopyFor=ALICE
            ProviderBot=ALICE
            BotStyle=random
            Symbols=EUR/USD:1.0850

            [SESSION]
            TargetCompID=PROVBRK
            SessionQualifier=ORDERS
            SocketConnectPort=9201
            Simulator=Y

            [SESSION]
            TargetCompID=FOLBRK
            SocketConnectPort=9202
            Simulator=Y
            Username=bridge
            Password=secret

            [SESSION]
            TargetCompID=REALBRK
            SocketConnectPort=9203

            """
        let plans = try SimulatorPlan.mirroring(try parseSettings(text))
        #expect(plans.map(\.name) == ["PROVBRK", "FOLBRK"])
        #expect(plans[0].acceptor.endpoint == TransportEndpoint(host: "127.0.0.1", port: 9201))
        #expect(plans[0].sessions.map(\.identity.senderCompID) == ["PROVBRK", "PROVBRK"])
        #expect(plans[0].sessions.map(\.identity.targetCompID) == ["BRIDGE", "BRIDGE"])
        #expect(plans[0].sessions.map(\.identity.qualifier) == [nil, "ORDERS"])
        #expect(plans[0].configuration.bots.map(\.account) == ["ALICE"])
        #expect(plans[0].configuration.instruments.map(\.symbol) == ["EUR/USD"])
        let drop = SimSessionKey(senderCompID: "PROVBRK", targetCompID: "BRIDGE")
        #expect(plans[0].configuration.session(drop).dropCopyFor == .accounts(["ALICE"]))
        #expect(plans[1].sessions[0].session.username == "bridge")
        #expect(plans[1].sessions[0].session.password == "secret")
        // The same file served by `simulate` has no acceptor sessions.
        #expect(try SimulatorPlan.serving(try parseSettings(text)).isEmpty)
    }

    @Test func exampleFileServesTwoBrokers() throws {
        let path = repositoryRoot.appendingPathComponent("Specs/simulate/two_brokers.conf").path
        let configuration = try CopyBridgeConfiguration.load(path: path, schema: testSchema)
        #expect(configuration.warnings.isEmpty, "\(configuration.warnings)")
        let plans = try SimulatorPlan.serving(configuration)
        #expect(plans.map(\.name) == ["PROVBRK", "FOLBRK"])
        #expect(plans.map(\.acceptor.endpoint.port) == [9880, 9881])
        #expect(plans[0].configuration.bots.map(\.account) == ["ALICE"])
        #expect(plans[0].configuration.randomSeed == 42)
        #expect(plans[1].configuration.randomSeed == 7)
        #expect(plans[0].bookFile?.hasSuffix("Specs/simulate/books/provbrk.json") == true)
        #expect(plans[1].storage.values.first?.sync == .never)
        let bob = SimSessionKey(senderCompID: "FOLBRK", targetCompID: "BRIDGE")
        #expect(plans[1].configuration.session(bob).fillModel.latency == SimLatency(minimumMs: 20, maximumMs: 200))
        #expect(plans[1].configuration.session(bob).account == "BOB")
    }
}
