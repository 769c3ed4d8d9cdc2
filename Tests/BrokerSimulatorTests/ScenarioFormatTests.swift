import FIXCore
import Foundation
import Testing

@testable import BrokerSimulator

/// The repository's Specs folder, found from this file's path.
let specsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Specs")

func specFiles(_ folder: String, _ ext: String) throws -> [URL] {
    let dir = specsDirectory.appendingPathComponent(folder)
    return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
        .filter { $0.pathExtension == ext }.sorted { $0.lastPathComponent < $1.lastPathComponent }
}

func readSpec(_ url: URL) throws -> String { String(decoding: try Data(contentsOf: url), as: UTF8.self) }

// MARK: - Session scripts

@Suite struct SessionScriptFormatTests {
    @Test func everySessionScriptParses() throws {
        let files = try specFiles("session", "fixscript")
        #expect(files.count >= 5)
        for file in files {
            do {
                let script = try SessionScript.parse(try readSpec(file))
                #expect(!script.steps.isEmpty, "\(file.lastPathComponent)")
                #expect(script.testerCompID == "TW" && script.sutCompID == "ISLD", "\(file.lastPathComponent)")
            } catch {
                Issue.record("\(file.lastPathComponent): \(error)")
            }
        }
    }

    @Test func parsesDirectivesStepsAndPlaceholders() throws {
        let script = try SessionScript.parse(
            """
            @title  Sample
            @targets echo initiator   # both
            @session FIX.4.4 TESTER=TW SUT=ISLD
            @setting HeartBtInt=5
            @timeout 2s
            CONNECT
            @when initiator
            EXPECT 35=1|34=2|112={SAVE:req}|52={TIME}
            SEND 35=0|34=2|112={$req}|52={NOW-1s}
            @when any
            EXPECT 35=0|58={ABSENT}|49={ANY}
            SEND-RAW 8=FIX.4.4|9={BODYLENGTH}|35=0|10={CHECKSUM}|
            WAIT 250ms
            EXPECT-NOTHING 1m
            DISCONNECT
            EXPECT-DISCONNECT
            """)
        #expect(script.title == "Sample")
        #expect(script.targets == [.echo, .initiator])
        #expect(script.setting("HeartBtInt") == "5")
        #expect(script.timeoutMs == 2000)
        #expect(script.steps.count == 9)
        #expect(script.steps(for: .echo).count == 7)
        #expect(
            script.steps[1].action
                == .expect([
                    .init(tag: 35, value: .literal("1")), .init(tag: 34, value: .literal("2")),
                    .init(tag: 112, value: .save("req")), .init(tag: 52, value: .timestamp),
                ]))
        #expect(script.steps[2].targets == [.initiator])
        #expect(
            script.steps[2].action
                == .send([
                    .init(tag: 35, value: .literal("0")), .init(tag: 34, value: .literal("2")),
                    .init(tag: 112, value: .saved("req")), .init(tag: 52, value: .now(offsetMs: -1000)),
                ]))
        #expect(script.steps[3].line == 11)
        #expect(script.steps[4].action == .sendRaw("8=FIX.4.4|9={BODYLENGTH}|35=0|10={CHECKSUM}|"))
        #expect(script.steps[5].action == .wait(ms: 250))
        #expect(script.steps[6].action == .expectNothing(ms: 60_000))
    }

    @Test func errorsNameTheLine() {
        let header = "@title T\n@targets echo\n@session FIX.4.4 TESTER=A SUT=B\n"
        let cases: [(String, SessionScriptError)] = [
            ("CONNECT\nPING", SessionScriptError(line: 5, reason: "unknown command PING")),
            ("SEND 35=0", SessionScriptError(line: 4, reason: "SEND needs MsgType (35) and MsgSeqNum (34)")),
            ("SEND 35=0|34=2|112={ANY}", SessionScriptError(line: 4, reason: "{ANY} is only allowed in EXPECT lines")),
            ("EXPECT 35=0|52={NOW}", SessionScriptError(line: 4, reason: "{NOW} is only allowed in SEND lines")),
            ("SEND 35=0|34=2|112={$x}", SessionScriptError(line: 4, reason: "{$x} is used before a {SAVE:x}")),
            (
                "EXPECT 35=0|112=ab{ANY}",
                SessionScriptError(line: 4, reason: "a placeholder must be the whole value: 'ab{ANY}'")
            ),
            ("@when initiator", SessionScriptError(line: 4, reason: "@when initiator names a target not in @targets")),
            ("WAIT soon", SessionScriptError(line: 4, reason: "'soon' is not a duration (500ms, 5s, 2m)")),
            ("CONNECT\n@setting A=B", SessionScriptError(line: 5, reason: "@setting must come before the first step")),
        ]
        for (body, expected) in cases {
            #expect(throws: expected) { try SessionScript.parse(header + body) }
        }
        #expect(
            throws: SessionScriptError(line: 1, reason: "@title, @targets and @session must come before the first step")
        ) {
            try SessionScript.parse("CONNECT")
        }
    }

    /// Runs the echo scripts' application steps against the simulator in echo mode, with a
    /// stand-in for the session layer that only knows Logon and Logout. It checks the example
    /// scripts against the echo behaviour now; the real runner replaces the stand-in.
    @Test(arguments: [
        "01_logon_echo_logout.fixscript", "02_possresend_duplicate_dropped.fixscript",
        "03_possresend_memory_cleared_at_logout.fixscript", "04_unsupported_message_business_reject.fixscript",
    ])
    func echoScriptsPassAgainstTheSimulator(name: String) throws {
        let script = try SessionScript.parse(try readSpec(specsDirectory.appendingPathComponent("session/\(name)")))
        var runner = ToyEchoRunner(script: script)
        for step in script.steps(for: .echo) {
            if let failure = runner.run(step) {
                Issue.record("\(name) line \(step.line): \(failure)")
                return
            }
        }
        #expect(runner.inbox.isEmpty)
    }
}

/// A stand-in for the session layer: Logon and Logout exchanges and the SUT's sequence numbers;
/// everything else goes to the simulator's echo application.
struct ToyEchoRunner {
    let script: SessionScript
    var broker: SimulatedBroker
    let key: SimSessionKey
    var now = t0
    var sutSeq = 1
    var connected = false
    var closing = false
    var inbox: [FIXMessage] = []
    var saved: [String: String] = [:]

    init(script: SessionScript) {
        self.script = script
        key = SimSessionKey(senderCompID: script.sutCompID, targetCompID: script.testerCompID)
        var config = SimulatorConfiguration(priceTickMs: 0, idPrefix: "T")
        config.defaultSession.application = .echo
        broker = SimulatedBroker(configuration: config, start: t0)
    }

    mutating func reply(_ builder: FIXMessageBuilder) {
        var b = builder
        b.set(FIXTag.msgSeqNum, sutSeq)
        b.set(FIXTag.senderCompID, script.sutCompID)
        b.set(FIXTag.targetCompID, script.testerCompID)
        b.set(FIXTag.sendingTime, now)
        sutSeq += 1
        inbox.append(b.build())
    }

    mutating func run(_ step: SessionScript.Step) -> String? {
        switch step.action {
        case .connect:
            connected = true
            closing = false
        case .disconnect:
            connected = false
        case .wait(let ms):
            now = UTCTimestamp(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch + ms * 1_000_000)
        case .expectNothing(let ms):
            now = UTCTimestamp(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch + ms * 1_000_000)
            if let m = inbox.first { return "expected nothing, received \(m)" }
        case .expectDisconnect:
            guard closing else { return "expected a disconnect" }
            connected = false
        case .sendRaw:
            return "the stand-in cannot send raw bytes"
        case .send(let fields):
            guard connected else { return "not connected" }
            var b = FIXMessageBuilder(msgType: "")
            b.set(FIXTag.senderCompID, script.testerCompID)
            b.set(FIXTag.targetCompID, script.sutCompID)
            b.set(FIXTag.sendingTime, now)
            for field in fields {
                switch field.value {
                case .literal(let v): b.set(field.tag, v)
                case .now(let offset):
                    b.set(
                        field.tag, UTCTimestamp(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch + offset * 1_000_000))
                case .saved(let name): b.set(field.tag, saved[name]!)
                case .any, .timestamp, .absent, .save: return "EXPECT placeholder in SEND"
                }
            }
            let message = b.build()
            switch message.msgType {
            case "A":
                var logon = FIXMessageBuilder(msgType: "A")
                logon.set(98, message[98] ?? "0")
                logon.set(108, message[108] ?? "30")
                reply(logon)
            case "5":
                reply(FIXMessageBuilder(msgType: "5"))
                broker.sessionLoggedOut(key)
                closing = true
            case "0", "1", "2", "3", "4":
                return "the stand-in session layer does not handle MsgType \(message.msgType)"
            default:
                for output in broker.received(message, on: key, at: now) { reply(output.message) }
            }
        case .expect(let fields):
            guard !inbox.isEmpty else { return "expected \(fields.map { "\($0.tag)" }), received nothing" }
            let message = inbox.removeFirst()
            if let problem = Self.mismatch(fields, message, script: script, saved: &saved) {
                return "\(problem) in \(message)"
            }
        }
        return nil
    }

    /// The EXPECT rules of Specs/README.md.
    static func mismatch(
        _ fields: [SessionScript.Field], _ m: FIXMessage, script: SessionScript, saved: inout [String: String]
    ) -> String? {
        if m.beginString != script.beginString { return "BeginString \(m.beginString)" }
        var implicit: [(Int, SessionScript.Value)] = []
        if !fields.contains(where: { $0.tag == 49 }) { implicit.append((49, .literal(script.sutCompID))) }
        if !fields.contains(where: { $0.tag == 56 }) { implicit.append((56, .literal(script.testerCompID))) }
        if !fields.contains(where: { $0.tag == 52 }) { implicit.append((52, .timestamp)) }
        var byTag: [Int: [SessionScript.Value]] = [:]
        for (tag, value) in implicit + fields.map({ ($0.tag, $0.value) }) { byTag[tag, default: []].append(value) }
        for tag in byTag.keys.sorted() {
            let expected = byTag[tag]!
            let actual = tag == 35 ? [m.msgType] : m.values(of: tag)
            if expected == [.absent] {
                if !actual.isEmpty { return "tag \(tag) should be absent" }
                continue
            }
            guard actual.count == expected.count else { return "tag \(tag) occurs \(actual.count) times" }
            for (value, got) in zip(expected, actual) {
                switch value {
                case .literal(let v): if got != v { return "tag \(tag) is \(got), expected \(v)" }
                case .any: break
                case .timestamp: if UTCTimestamp(got) == nil { return "tag \(tag) '\(got)' is not a UTCTimestamp" }
                case .save(let name): saved[name] = got
                case .saved(let name):
                    if got != saved[name] { return "tag \(tag) is \(got), expected \(saved[name] ?? "?")" }
                case .absent, .now: return "tag \(tag): misplaced placeholder"
                }
            }
        }
        return nil
    }
}

// MARK: - Copy scenarios

@Suite struct CopyScenarioFormatTests {
    func decode(_ text: String) throws -> CopyScenario {
        try JSONDecoder().decode(CopyScenario.self, from: Data(text.utf8))
    }

    @Test func everyCopyScenarioDecodesAndItsBrokersConfigure() throws {
        let files = try specFiles("copy", "json")
        #expect(files.count >= 3 && files.count <= 5)
        for file in files {
            do {
                let scenario = try decode(try readSpec(file))
                #expect(!scenario.followers.isEmpty)
                for broker in scenario.brokers { _ = try broker.configuration() }
                let provider = try #require(scenario.broker(scenario.provider.broker))
                let dropCopy = try provider.configuration().session(provider.sessionKey(scenario.provider.session))
                #expect(dropCopy.dropCopyFor.contains(scenario.provider.account), "\(file.lastPathComponent)")
            } catch {
                Issue.record("\(file.lastPathComponent): \(error)")
            }
        }
    }

    @Test func typedSteps() throws {
        let scenario = try decode(
            try readSpec(specsDirectory.appendingPathComponent("copy/01_market_copy_multiplier.json")))
        #expect(scenario.start == t0)
        #expect(scenario.followers.map(\.copy) == [["SizingMode": "Multiplier", "Multiplier": "0.5"]])
        #expect(scenario.steps.count == 6)
        #expect(
            scenario.steps[0]
                == CopyScenario.Step(
                    atMs: 1000,
                    action: .order(
                        CopyScenario.Order(
                            broker: "PROVBRK",
                            request: SimOrderRequest(
                                clOrdID: "A-1", account: "ALICE", symbol: "EUR/USD", side: .buy, quantity: 100000)))))
        #expect(
            scenario.steps[1].action
                == .expectOrders(
                    CopyScenario.OrderExpectation(
                        broker: "FOLBRK", account: "BOB", symbol: "EUR/USD", side: .buy, orderQty: 50000, cumQty: 50000,
                        status: .filled, count: 1)))
        #expect(
            scenario.steps[5]
                == CopyScenario.Step(
                    atMs: 33000,
                    action: .expectPosition(broker: "FOLBRK", account: "BOB", symbol: "EUR/USD", quantity: 0)))
    }

    @Test func invalidScenariosAreRefusedWithAReason() throws {
        let base = try readSpec(specsDirectory.appendingPathComponent("copy/01_market_copy_multiplier.json"))
        let broken: [(String, String, String)] = [
            ("\"copybridge.copy-scenario/1\"", "\"copybridge.copy-scenario/9\"", "expected copybridge.copy-scenario/1"),
            (
                "\"side\": \"buy\", \"qty\": \"100000\"", "\"side\": \"long\", \"qty\": \"100000\"",
                "side 'long' is not buy or sell"
            ),
            ("\"at\": \"30s\"", "\"at\": \"thirty\"", "'thirty' is not a duration"),
            ("\"at\": \"30s\"", "\"at\": \"2s\"", "steps are not in time order"),
            (
                "\"broker\": \"FOLBRK\", \"account\": \"BOB\", \"symbol\": \"EUR/USD\", \"qty\": \"50000\"",
                "\"broker\": \"NOBRK\", \"account\": \"BOB\", \"symbol\": \"EUR/USD\", \"qty\": \"50000\"",
                "unknown broker NOBRK"
            ),
            (
                "\"PriceTickMs\": \"0\" },\n      \"sessions\": { \"BRIDGE\": { \"Account\"",
                "\"PriceTickMs\": \"-1\" },\n      \"sessions\": { \"BRIDGE\": { \"Account\"", "PriceTickMs=-1"
            ),
        ]
        for (from, to, reason) in broken {
            #expect(base.contains(from), "fixture text moved: \(from)")
            do {
                _ = try decode(base.replacingOccurrences(of: from, with: to))
                Issue.record("accepted a scenario with \(to)")
            } catch {
                #expect("\(error)".contains(reason), "\(error)")
            }
        }
    }

    /// Runs every action on the scenario's simulated brokers and checks the expectations that
    /// concern the provider's broker (the followers' need CopyBridge), so the examples' provider
    /// side is known to behave as written.
    @Test func providerSideOfEveryScenarioBehavesAsWritten() throws {
        var checked = 0
        for file in try specFiles("copy", "json") {
            let scenario = try decode(try readSpec(file))
            var brokers: [String: SimulatedBroker] = [:]
            for b in scenario.brokers {
                brokers[b.name] = SimulatedBroker(configuration: try b.configuration(), start: scenario.start)
            }
            for step in scenario.steps {
                let time = UTCTimestamp(
                    nanosecondsSinceEpoch: scenario.start.nanosecondsSinceEpoch + step.atMs * 1_000_000)
                for name in brokers.keys.sorted() { _ = brokers[name]!.advance(to: time) }
                switch step.action {
                case .quote(let broker, let symbol, let bid, let ask):
                    _ = try brokers[broker]!.setQuote(symbol, bid: bid, ask: ask, at: time)
                case .order(let order):
                    _ = brokers[order.broker]!.submit(order.request, at: time)
                case .cancel(let broker, let account, let clOrdID):
                    #expect(!brokers[broker]!.cancel(account: account, clOrdID: clOrdID, at: time).isEmpty)
                case .disconnect, .reconnect, .expectSkip:
                    break
                case .expectOrders(let e) where e.broker == scenario.provider.broker:
                    let matching = brokers[e.broker]!.orders.filter { o in
                        o.account == e.account && (e.symbol == nil || o.symbol == e.symbol)
                            && (e.side == nil || o.side == e.side) && (e.orderQty == nil || o.orderQty == e.orderQty)
                            && (e.cumQty == nil || o.cumQty == e.cumQty) && (e.status == nil || o.status == e.status)
                    }
                    #expect(matching.count == e.count, "\(file.lastPathComponent) at \(step.atMs)ms")
                    checked += 1
                case .expectPosition(let broker, let account, let symbol, let quantity)
                where broker == scenario.provider.broker:
                    #expect(
                        brokers[broker]!.position(account: account, symbol: symbol).quantity == quantity,
                        "\(file.lastPathComponent) at \(step.atMs)ms")
                    checked += 1
                case .expectOrders, .expectPosition:
                    break
                }
            }
        }
        #expect(checked >= 3)
    }
}

@Suite struct BotScriptSpecTests {
    @Test func exampleBotScriptsRunOnTheDefaultSimulator() throws {
        let files = try specFiles("bots", "csv")
        #expect(!files.isEmpty)
        for file in files {
            let config = try SimulatorConfiguration(
                settings: ["ProviderBot": "ALICE", "BotScript": file.path, "PriceTickMs": "0"],
                sessions: [bridge: ["DropCopyFor": "ALICE"]])
            guard case .script(let steps) = try #require(config.bots.first).style else {
                Issue.record("\(file.lastPathComponent) did not make a script bot")
                continue
            }
            var broker = SimulatedBroker(configuration: config, start: t0)
            var reports = 0
            while let wake = broker.nextWakeUp, wake <= at(Int64(steps.last!.offsetMs)) {
                reports += broker.advance(to: wake).filter { $0.session == bridge }.count
            }
            #expect(broker.orders.count == steps.count, "\(file.lastPathComponent)")
            #expect(reports >= steps.count)
        }
    }
}
