import CopyEngine
import FIXCore
import Foundation
import Synchronization
import Testing

@testable import CopyBridgeAgent

/// An ``EngineCommandSink`` over a real copy engine, the way the runtime drives it but without
/// sockets: commands are checked, journaled and applied; orders are recorded, and a test can fill
/// them. It is also the HTTP server's state source.
final class EngineSinkFake: EngineCommandSink, AgentStateSource {
    struct World: Sendable {
        var engine: CopyEngine
        var journal: [JournalRecord] = []
        var sent: [(session: String, message: FIXMessage)] = []
        var alerts: [RiskAlert] = []
        var now: EngineTime = 1_700_000_000_000_000_000
        var execSeq = 0
    }

    private let world: Mutex<World>
    private let submissions = Atomic<Int>(0)

    init(_ configuration: CopyEngineConfiguration) throws {
        world = Mutex(World(engine: try CopyEngine(configuration: configuration)))
    }

    /// Two sessions (`alpha` carries alice's fills, `beta` bob's orders) and an optional breaker on `beta`.
    static func standard(sessionDownBreaker: Bool = false) throws -> EngineSinkFake {
        var beta = BrokerSessionConfig(name: "beta")
        beta.sessionDownBreaker = sessionDownBreaker
        var bob = FollowerConfig(
            followerID: "bob", providers: [ProviderLink(providerID: "alice")], sessionName: "beta", account: "BOB-07",
            equity: .fixed(10_000))
        bob.lotSize = 1000
        bob.loss.dailyLoss = .amount(500)
        let sink = try EngineSinkFake(
            CopyEngineConfiguration(
                providers: [
                    ProviderConfig(
                        providerID: "alice", sessionName: "alpha", account: "ALICE-01", equity: .fixed(100_000))
                ], followers: [bob], sessions: [BrokerSessionConfig(name: "alpha"), beta]))
        sink.feed(.sessionUp(session: "alpha", at: 0))
        sink.feed(.sessionUp(session: "beta", at: 0))
        return sink
    }

    var journal: [JournalRecord] { world.withLock { $0.journal } }
    var sent: [(session: String, message: FIXMessage)] { world.withLock { $0.sent } }
    var submitted: Int { submissions.load(ordering: .relaxed) }

    func submit(_ command: OperatorCommand, actor: String, reason: String?) async throws -> EngineCommandReceipt {
        submissions.add(1, ordering: .relaxed)
        return world.withLock { w in
            w.now += 1_000_000
            let (check, actions) = w.engine.submit(command, at: w.now, actor: actor, reason: reason)
            Self.execute(actions, in: &w)
            return EngineCommandReceipt(check: check, state: w.engine.stateView())
        }
    }

    func engineState() async throws -> EngineStateView {
        world.withLock { $0.engine.stateView() }
    }

    func snapshot() async -> AgentSnapshot {
        let state = world.withLock { $0.engine.stateView() }
        let (followers, providers, breakers) = state.snapshots(currency: "USD")
        return AgentSnapshot(
            generatedAt: Date(timeIntervalSince1970: 1_700_000_000),
            agent: AgentInfo(
                name: "test", version: "0", startedAt: Date(timeIntervalSince1970: 1_700_000_000), mode: "paper"),
            sessions: state.sessions.map {
                SessionSnapshot(
                    name: $0.name, identity: "FIX.4.4:CB->\($0.name)", role: "orders",
                    state: $0.isUp ? .loggedOn : .down, nextSenderSeqNum: 1, nextTargetSeqNum: 1, broker: $0.name)
            }, providers: providers, followers: followers, breakers: breakers)
    }

    @discardableResult
    func feed(_ event: EngineEvent) -> [EngineAction] {
        world.withLock { w in
            let actions = w.engine.handle(event)
            Self.execute(actions, in: &w)
            return actions
        }
    }

    private static func execute(_ actions: [EngineAction], in w: inout World) {
        for action in actions {
            switch action {
            case .journal(let record): w.journal.append(record)
            case .send(let session, let message): w.sent.append((session, message.build()))
            case .alert(let alert): w.alerts.append(alert)
            case .decision, .fill, .followerStateChanged, .sessionPhaseChanged: break
            }
        }
    }

    /// A fill of alice's account at 1.1, as her drop copy reports it.
    func providerFill(side: Character, qty: FixedDecimal) {
        let (id, time) = world.withLock { w -> (String, EngineTime) in
            w.execSeq += 1
            w.now += 1_000_000
            return ("P\(w.execSeq)", w.now)
        }
        feed(
            .executionReport(
                session: "alpha",
                message: Self.report(
                    execID: id, clOrdID: "her-\(id)", account: "ALICE-01", symbol: "EUR/USD", side: side, qty: qty,
                    cum: qty, status: "2", at: time), receivedAt: time))
    }

    /// Fills every order sent so far that has not been answered yet, at 1.1.
    func fillOrders() {
        let (orders, start) = world.withLock { w -> ([FIXMessage], Int) in
            let orders = w.sent.filter { $0.message.isMsgType("D") }.map(\.message)
            let start = w.execSeq
            w.execSeq += orders.count
            return (orders, start)
        }
        var answered = Set<String>()
        for (i, order) in orders.enumerated() {
            guard let clOrdID = order[11], answered.insert(clOrdID).inserted,
                world.withLock({ $0.engine.liveOrders(session: "beta").contains { $0.clOrdID == clOrdID } })
            else { continue }
            let time = world.withLock { w -> EngineTime in
                w.now += 1_000_000
                return w.now
            }
            let qty = FixedDecimal(order[38]!)!
            feed(
                .executionReport(
                    session: "beta",
                    message: Self.report(
                        execID: "B\(start + i)", clOrdID: clOrdID, account: order[1], symbol: order[55]!,
                        side: Character(order[54]!), qty: qty, cum: qty, status: "2", at: time), receivedAt: time))
        }
    }

    static func report(
        execID: String, clOrdID: String, account: String?, symbol: String, side: Character, qty: FixedDecimal,
        cum: FixedDecimal, status: Character, at time: EngineTime
    ) -> FIXMessage {
        var b = FIXMessageBuilder(msgType: "8")
        b.set(49, "BROKER")
        b.set(56, "COPYBRIDGE")
        b.set(34, 1)
        b.set(52, UTCTimestamp(nanosecondsSinceEpoch: time))
        b.set(37, "O-" + clOrdID)
        b.set(11, clOrdID)
        b.set(17, execID)
        b.set(150, "F")
        b.set(39, status)
        if let account { b.set(1, account) }
        b.set(55, symbol)
        b.set(54, side)
        b.set(38, qty)
        b.set(32, qty)
        b.set(31, FixedDecimal("1.1")!)
        b.set(14, cum)
        b.set(6, FixedDecimal("1.1")!)
        b.set(151, FixedDecimal.zero)
        b.set(60, UTCTimestamp(nanosecondsSinceEpoch: time))
        return b.build()
    }
}
