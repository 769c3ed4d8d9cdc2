import FIXCore
import FIXSession
import FIXTransport
import Foundation
import Synchronization
import Testing

@testable import BrokerSimulator

/// The names of the spec files in `folder` with extension `ext`.
func specNames(_ folder: String, _ ext: String) -> [String] {
    ((try? specFiles(folder, ext)) ?? []).map(\.lastPathComponent)
}

/// Every (script, target) pair the session scripts declare.
let scriptRuns: [(String, SessionScript.Target)] = specNames("session", "fixscript").flatMap { name in
    let text =
        (try? String(contentsOf: specsDirectory.appendingPathComponent("session/\(name)"), encoding: .utf8)) ?? ""
    let targets = (try? SessionScript.parse(text).targets) ?? []
    return SessionScript.Target.allCases.filter { targets.contains($0) }.map { (name, $0) }
}

@Suite struct SessionScriptConformanceTests {
    @Test func everyScriptRunsAgainstSomeTarget() {
        #expect(scriptRuns.count >= 8)
        #expect(scriptRuns.contains { $0.1 == .initiator })
    }

    @Test(arguments: scriptRuns.map { "\($0.0) \($0.1.rawValue)" })
    func scriptPasses(_ run: String) async throws {
        let parts = run.split(separator: " ")
        let path = specsDirectory.appendingPathComponent("session/\(parts[0])").path
        let target = try #require(SessionScript.Target(rawValue: String(parts[1])))
        let results = try await SessionScriptRunner.run(file: path, targets: [target])
        #expect(results.count == 1)
        for result in results {
            switch result {
            case .success(let done): #expect(done.steps > 0)
            case .failure(let failure): Issue.record("\(failure)")
            }
        }
    }

    /// The runner catches a SUT that does not behave as written, and says where.
    @Test func aWrongExpectationFailsAtItsLine() async throws {
        let script = try SessionScript.parse(
            """
            @title    Echo answers with the wrong quantity on purpose
            @targets  echo
            @session  FIX.4.4 TESTER=TW SUT=ISLD

            CONNECT
            SEND    35=A|34=1|98=0|108=30
            EXPECT  35=A|34=1|98=0|108=30
            SEND    35=D|34=2|11=ORD-1|21=1|55=TESTSYM|54=1|60=20260302-09:00:00.000|40=1|38=100
            EXPECT  35=D|34=2|11=ORD-1|38=200
            """)
        do {
            _ = try await SessionScriptRunner.run(script, against: .echo)
            Issue.record("the script should have failed")
        } catch {
            #expect(error.line == 9)
            #expect(error.reason.contains("tag 38 is 100, expected 200"))
            #expect(error.received?.contains("|11=ORD-1|") == true)
        }
    }

    /// SEND-RAW puts bytes on the wire as written: a wrong CheckSum is ignored by the SUT as
    /// garbled, a computed one makes a Logon it answers.
    @Test func rawBytesAreSentAsWrittenWithComputedLengthAndChecksum() async throws {
        let script = try SessionScript.parse(
            """
            @title    Raw Logons: a garbled one is ignored, a well-framed one answered
            @targets  echo
            @session  FIX.4.4 TESTER=TW SUT=ISLD
            @setting  CheckLatency=N

            CONNECT
            SEND-RAW 8=FIX.4.4|9={BODYLENGTH}|35=A|34=1|49=TW|52=20200102-09:00:00.000|56=ISLD|98=0|108=30|10=000|
            EXPECT-NOTHING 300ms
            SEND-RAW 8=FIX.4.4|9={BODYLENGTH}|35=A|34=1|49=TW|52=20200102-09:00:00.000|56=ISLD|98=0|108=30|10={CHECKSUM}|
            EXPECT  35=A|34=1|108=30
            SEND    35=5|34=2
            EXPECT  35=5|34=2
            EXPECT-DISCONNECT
            """)
        let result = try await SessionScriptRunner.run(script, against: .echo)
        #expect(result.steps == 8)
    }
}

/// A stand-in for CopyBridge while the copy engine is written: it copies every fill of the
/// provider's account (drop copy) to each follower at its `Multiplier`, as a market order, and
/// journals `order-rejected` (the agent's reason code) when a follower's broker rejects the copy. It exists to drive the
/// runner over real sessions; sizing rules, risk and aggregation are the engine's.
final class ReferenceCopier: CopyScenarioFollowerSide {
    private struct State {
        var engine: FIXEngine?
        var skips: [String: [String]] = [:]
        var copies: [String: String] = [:]
    }

    private let state = Mutex(State())

    func start(_ setup: CopyScenarioSetup) async throws {
        let scenario = setup.scenario
        var sessions: [FIXSessionSettings] = []
        let pairs =
            [(scenario.provider.session, scenario.provider.broker)] + scenario.followers.map { ($0.session, $0.broker) }
        for (sender, broker) in pairs {
            let session = try #require(setup.initiatorSession(sender: sender, broker: broker))
            if !sessions.contains(where: { $0.identity == session.identity }) { sessions.append(session) }
        }
        let engine = try FIXEngine(sessions: sessions, storeFactory: { _ in MemoryStore() })
        state.withLock { $0.engine = engine }
        let watchers = engine.sessions.map(ClientWatcher.init)
        try await engine.start(onApplicationMessage: { [self] message, driver in
            received(message, on: driver, scenario: scenario, engine: engine)
        })
        for watcher in watchers { try await watcher.waitForLogon() }
    }

    private func received(_ message: FIXMessage, on driver: SessionDriver, scenario: CopyScenario, engine: FIXEngine) {
        guard message.msgType == "8" else { return }
        let provider = scenario.provider
        if driver.identity.targetCompID == provider.broker, message[FIXTag.account] == provider.account,
            message[FIXTag.execType] == "F", let execID = message[FIXTag.execID],
            let lastQty = try? message.decimal(FIXTag.lastQty)
        {
            for follower in scenario.followers {
                let multiplier = follower.copy["Multiplier"].flatMap { FixedDecimal($0) } ?? 1
                let quantity = lastQty * multiplier
                guard quantity.isPositive else { continue }
                let clOrdID = "\(follower.name)-\(execID)"
                var b = FIXMessageBuilder(msgType: "D")
                b.set(FIXTag.clOrdID, clOrdID)
                b.set(FIXTag.account, follower.account)
                b.set(FIXTag.symbol, message[FIXTag.symbol] ?? "")
                b.set(FIXTag.side, message[FIXTag.side] ?? "")
                b.set(FIXTag.orderQty, quantity)
                b.set(FIXTag.ordType, "1")
                b.set(FIXTag.transactTime, FIXClock.wallClockNow().with(precision: .milliseconds))
                let identity = SessionIdentity(senderCompID: follower.session, targetCompID: follower.broker)
                state.withLock { $0.copies[clOrdID] = follower.name }
                do {
                    try engine.driver(for: identity)?.send(b)
                } catch {
                    state.withLock { $0.skips[follower.name, default: []].append("not-connected") }
                }
            }
        } else if message[FIXTag.execType] == "8", let clOrdID = message[FIXTag.clOrdID] {
            state.withLock { s in
                if let name = s.copies[clOrdID] { s.skips[name, default: []].append("order-rejected") }
            }
        }
    }

    func settle() async throws {
        // Messages are handled on the engine's loop as they arrive: a turn of the loop has seen them all.
        guard let engine = state.withLock({ $0.engine }) else { return }
        try await engine.eventLoop.submit {}.get()
    }

    func sequenceNumbers() async -> [SessionIdentity: SessionSequenceNumbers] {
        guard let engine = state.withLock({ $0.engine }) else { return [:] }
        var out: [SessionIdentity: SessionSequenceNumbers] = [:]
        for handle in engine.sessions {
            let (sender, target) = await handle.sequenceNumbers
            out[handle.identity] = SessionSequenceNumbers(nextSender: sender, nextTarget: target)
        }
        return out
    }

    func advance(to time: UTCTimestamp) async throws {}

    func skipReasons(follower: String) async -> [String] {
        state.withLock { $0.skips[follower] ?? [] }
    }

    func stop() async {
        await state.withLock { $0.engine }?.stop()
    }
}

@Suite struct CopyScenarioRunnerTests {
    func scenario(_ name: String) throws -> CopyScenario {
        let data = try Data(contentsOf: specsDirectory.appendingPathComponent("copy/\(name)"))
        return try JSONDecoder().decode(CopyScenario.self, from: data)
    }

    @Test(arguments: specNames("copy", "json"))
    func scenarioPassesWithTheReferenceCopier(_ name: String) async throws {
        let report = try await CopyScenarioRunner.run(try scenario(name), follower: ReferenceCopier())
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.steps.allSatisfy { $0.outcome == .passed }, "\(report.steps)")
    }

    @Test(arguments: specNames("copy", "json"))
    func brokerSideRunsWithoutAFollower(_ name: String) async throws {
        let scenario = try scenario(name)
        let report = try await CopyScenarioRunner.run(scenario, follower: nil)
        #expect(report.passed, "\(report.failures)")
        #expect(report.steps.count == scenario.steps.count)
        // Steps about the provider's own account ran; those about followers waited for a follower side.
        for (step, result) in zip(scenario.steps, report.steps) {
            switch step.action {
            case .expectSkip: #expect(result.outcome != .passed)
            case .expectPosition(_, let account, _, _) where account == scenario.provider.account:
                #expect(result.outcome == .passed)
            case .quote, .order, .cancel, .disconnect, .reconnect, .expectOrders, .expectPosition: continue
            }
        }
    }

    /// A follower that copies at the wrong size is caught at the follower's broker.
    @Test func aWrongCopyFails() async throws {
        var scenario = try scenario("01_market_copy_multiplier.json")
        scenario.followers[0].copy["Multiplier"] = "0.4"
        let report = try await CopyScenarioRunner.run(scenario, follower: ReferenceCopier())
        #expect(!report.passed)
        #expect(report.failures.first?.atMs == 3_000)
        if case .failed(let why)? = report.failures.first?.outcome {
            #expect(why.contains("40000"))
        }
    }
}
