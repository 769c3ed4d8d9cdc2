import FIXCore
import Foundation
import Testing

@testable import CopyEngine

@Suite("Crash recovery and exactly-once")
struct RecoveryTests {
    static func bobConfig(_ adjust: (inout FollowerConfig) -> Void = { _ in }) -> CopyEngineConfiguration {
        setup(followers: [
            follower("bob", account: "BOB-07", equity: 10_000) {
                $0.lotSize = 1000
                adjust(&$0)
            }
        ])
    }

    /// Every NewOrderSingle reached the broker once, under its own ClOrdID, and the engine agrees
    /// with the broker about the position.
    static func expectExactlyOnce(
        _ w: World, position: FixedDecimal, orders: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(w.broker.duplicateClOrdIDs.isEmpty, sourceLocation: sourceLocation)
        #expect(Set(w.sentClOrdIDs).count == w.sentClOrdIDs.count, sourceLocation: sourceLocation)
        #expect(w.orders(on: "beta").count == orders, sourceLocation: sourceLocation)
        #expect(w.broker.position("beta", "BOB-07", "EUR/USD") == position, sourceLocation: sourceLocation)
        #expect(w.position("bob") == position, sourceLocation: sourceLocation)
        #expect(w.view("bob")?.working == 0, sourceLocation: sourceLocation)
        #expect(w.engine.liveOrders(session: "beta").isEmpty, sourceLocation: sourceLocation)
        #expect(w.engine.sessionPhase("beta") == .live, sourceLocation: sourceLocation)
    }

    @Test(arguments: [CrashPoint.beforeOrderRecords, .beforeSends, .afterSends])
    func crashWhileSendingACopy(_ point: CrashPoint) throws {
        var w = try World(Self.bobConfig())
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", crash: point)
        let beforeRecovery = w.broker.newOrders.count
        #expect(beforeRecovery == (point == .afterSends ? 1 : 0))
        w.crashAndRecover()
        Self.expectExactlyOnce(w, position: 10_000, orders: 1)
        #expect(w.broker.statusRequests.count == (point == .beforeOrderRecords ? 0 : 1))
        #expect(w.broker.positionRequests.sorted() == ["ALICE-01", "BOB-07"])
        switch point {
        case .beforeOrderRecords: #expect(w.reasons().contains(.orderSettled) == false)
        case .beforeSends: #expect(w.reasons().contains(.orderUnknownAtBroker))
        case .afterSends: #expect(w.reasons().contains(.orderSettled))
        }
    }

    /// Bob's copy of her 100 000 buy, which the broker acks and fills 3 000, 3 000, then the rest:
    /// `delivered` of those reports arrive, and the others are lost with the process.
    static func copyCutShort(delivered: Int) throws -> World {
        var w = try World(Self.bobConfig())
        w.broker.policy = { _, _ in [.ack, .fill(3000), .fill(3000), .fill(nil)] }
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", pumpAfter: false)
        w.pump(limit: delivered)
        w.broker.outbox.removeAll()
        return w
    }

    @Test(arguments: [1, 2, 3])
    func crashBetweenPartialFills(delivered: Int) throws {
        var w = try Self.copyCutShort(delivered: delivered)
        #expect(w.position("bob") == FixedDecimal((delivered - 1) * 3000))
        w.crashAndRecover()
        Self.expectExactlyOnce(w, position: 10_000, orders: 1)
        // The fills the status revealed went to the ledger once each.
        #expect(w.fills.filter(\.isCopy).reduce(FixedDecimal(0)) { $0 + $1.quantity } == 10_000)
    }

    /// His copy fills at the broker while the agent is down, and the broker then forgets the order
    /// (a DAY order purged at the end of the day): the status request finds nothing, the position
    /// report shows the fill. It is booked as the copy's fill, not taken for his own trade, so he
    /// goes on following her.
    @Test func aCopyFilledThenForgottenByTheBrokerIsBookedFromThePositionReport() throws {
        var w = try World(Self.bobConfig())
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", crash: .afterSends)
        w.broker.orders.removeAll()  // purged with its day
        w.crashAndRecover()
        #expect(w.reasons().contains(.orderUnknownAtBroker))
        #expect(!w.reasons("bob").contains(.followerIntervened), "\(w.reasons("bob"))")
        #expect(w.view("bob")?.detached == false)
        Self.expectExactlyOnce(w, position: 10_000, orders: 1)
        #expect(w.fills.filter(\.isCopy).reduce(FixedDecimal(0)) { $0 + $1.quantity } == 10_000)
        // He still follows her.
        w.providerFill(side: "2", qty: "100000")
        #expect(w.position("bob") == 0 && w.broker.position("beta", "BOB-07", "EUR/USD") == 0)
    }

    /// Block orders: the process dies with a block out (filled at the broker, its reports lost).
    /// This broker books block fills to the block account, so its followers' accounts read flat;
    /// the block account's report, which holds the copies, says so. The restart settles the block
    /// by its status and allocates it, and no follower is taken for having closed by hand, with
    /// position requests on or off.
    @Test(arguments: [CrashPoint.beforeSends, .afterSends], [true, false])
    func crashWithABlockOrderOut(_ point: CrashPoint, positionRequests: Bool) throws {
        var config = RoutingTests.blockSetup()
        config.sessions[1].positionRequests = positionRequests
        var w = try World(config)
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", crash: point)
        w.crashAndRecover()
        #expect(w.position("b1") == 30_000 && w.position("b2") == 20_000 && w.position("b3") == 10_000)
        #expect(w.broker.position("blk", "HOUSE", "EUR/USD") == 60_000)
        #expect(w.orders(on: "blk").count == 1 && w.broker.duplicateClOrdIDs.isEmpty)
        #expect(!w.reasons().contains(.followerIntervened))
        #expect(w.broker.positionRequests.contains("HOUSE") == positionRequests)
        w.providerFill(side: "2", qty: "100000")
        #expect(w.position("b1") == 0 && w.broker.position("blk", "HOUSE", "EUR/USD") == 0)
    }

    /// At a broker that books block fills to the block account, a follower whose own account shows
    /// a trade of his is still taken for having intervened; the others keep their copies.
    @Test func aBlockFollowerTradingInHisOwnAccountIsStillDetached() throws {
        var w = try World(RoutingTests.blockSetup())
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        w.broker.book("blk", "B2", "EUR/USD", -5_000)  // b2 sells 5 000 on his own
        w.crashAndRecover()
        #expect(w.view("b1")?.detached == false && w.view("b3")?.detached == false)
        #expect(w.view("b2")?.detached == true)
        #expect(w.decisions.contains { $0.reason == .followerIntervened && $0.followerID == "b2" })
        #expect(w.position("b1") == 30_000 && w.position("b3") == 10_000)
    }

    /// The broker rejects his copy; the process dies while the retry waits out its backoff. The
    /// journal brings the wait back, and the retry goes out once, after it.
    @Test func crashDuringARetryBackoff() throws {
        var w = try World(Self.bobConfig())
        w.broker.policy = { _, n in n == 0 ? [.reject("no liquidity")] : [.ack, .fill(nil)] }
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        #expect(w.reasons("bob").contains(.retryScheduled))
        #expect(w.orders(on: "beta").count == 1)
        w.crashAndRecover()
        #expect(w.orders(on: "beta").count == 1, "nothing sent before the backoff ends")
        w.tick(after: 1_000 * ms)
        Self.expectExactlyOnce(w, position: 10_000, orders: 2)
    }

    /// A reversal closes first: the process dies once the close is at the broker (filled there,
    /// its reports lost). After the restart the close is settled as filled and the open follows.
    @Test(arguments: [CrashPoint.beforeSends, .afterSends])
    func crashBetweenTheCloseAndTheOpenOfAReversal(_ point: CrashPoint) throws {
        var beta = BrokerSessionConfig(name: "beta")
        beta.closeThenOpen = true
        var config = Self.bobConfig()
        config.sessions = [BrokerSessionConfig(name: "alpha"), beta]
        var w = try World(config)
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        w.providerFill(side: "2", qty: "150000", crash: point)
        w.crashAndRecover()
        #expect(w.orders(on: "beta").map { "\($0[54]!):\($0.decimalQty)" } == ["1:10000", "2:10000", "2:5000"])
        Self.expectExactlyOnce(w, position: -5_000, orders: 3)
    }

    /// His IOC copy fills 4 000 of 10 000; the remainder is re-planned and sent, and the process
    /// dies before any report of it arrives. The restart settles it instead of sending it again.
    @Test func crashWhileAnIOCRemainderIsOut() throws {
        var w = try World(Self.bobConfig())
        w.broker.policy = { _, n in n == 0 ? [.ack, .fill(4000), .cancelRest] : [.ack, .fill(nil)] }
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", pumpAfter: false)
        w.pump(limit: 3)  // ack, 4 000, the rest canceled: the remainder goes out
        #expect(w.orders(on: "beta").map(\.decimalQty) == [10_000, 6_000])
        w.broker.outbox.removeAll()  // its reports die with the process
        #expect(w.position("bob") == 4_000)
        w.crashAndRecover()
        Self.expectExactlyOnce(w, position: 10_000, orders: 2)
    }

    /// Orders journaled under other ClOrdIDs than the engine derives now (an earlier ID scheme, or
    /// a changed ClOrdIDPrefix) are adopted as journaled and settled under their own IDs: nothing
    /// is sent again.
    @Test(arguments: [1, 3])
    func ordersJournaledUnderOtherIDsAreAdoptedNotResent(delivered: Int) throws {
        var w = try Self.copyCutShort(delivered: delivered)
        let sent = w.sentClOrdIDs
        w.configuration.sessions[1].clOrdIDPrefix = "CB"
        w.crashAndRecover()
        Self.expectExactlyOnce(w, position: 10_000, orders: 1)
        #expect(w.sentClOrdIDs == sent)
        // Settled under the journaled ID, which the new prefix would not have derived.
        #expect(w.broker.statusRequests == sent)
        #expect(sent.allSatisfy { !$0.hasPrefix("CB") })
    }

    @Test func resentReportsAfterRecoveryAreNotCountedTwice() throws {
        var w = try World(Self.bobConfig())
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", pumpAfter: false)
        let lost = w.broker.outbox
        w.broker.outbox.removeAll()
        w.crashAndRecover()
        // The broker's session resends what we missed, flagged PossDup, with its original ExecIDs.
        w.broker.outbox = lost
        w.pump()
        Self.expectExactlyOnce(w, position: 10_000, orders: 1)
        #expect(w.reasons().filter { $0 == .duplicateExecID }.isEmpty)
    }

    @Test(arguments: [CatchUpMode.none, .market])
    func positionsOpenedWhileDownFollowCatchUp(_ mode: CatchUpMode) throws {
        var w = try World(Self.bobConfig { $0.catchUp = mode })
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        // Down: she adds 50 000; we never see the report.
        w.providerFill(side: "1", qty: "50000", execID: "MISSED", crash: .beforeOrderRecords)
        w.journal.removeLast()
        w.crashAndRecover()
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == 150_000)
        let expected: FixedDecimal = mode == .none ? 10_000 : 15_000
        Self.expectExactlyOnce(w, position: expected, orders: mode == .none ? 1 : 2)
        #expect(w.reasons("bob").contains(mode == .none ? .catchUpSkipped : .catchUpEntered))
        // Her session resends the missed fill: the position report already covered it.
        let p = w.configuration.providers[0]
        let resend = Reports.executionReport(
            execID: "MISSED", account: p.account, symbol: "EUR/USD", side: "1", lastQty: 50_000, lastPx: dec("1.1"),
            cumQty: nil,
            ordStatus: "2", execType: "F", clOrdID: "h", transactTime: t0 + 1 * ms, possDup: true)
        w.send(.executionReport(session: "alpha", message: resend, receivedAt: w.advance()))
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == 150_000)
        #expect(w.reasons().last == .coveredByPositionReport)
        // Closing always follows her.
        w.providerFill(side: "2", qty: "150000")
        #expect(w.position("bob") == 0)
    }

    /// She opens while we are down; her position report is all we learn of it. Under
    /// CatchUp=if-not-worse he enters once the mark is no worse than her SettlPrice (730); without
    /// one there is nothing to judge a mark against, and he is not entered, for a stated reason.
    @Test(arguments: [true, false])
    func ifNotWorseAfterARestartJudgesTheMarkAgainstHerReportedPrice(_ reported: Bool) throws {
        var w = try World(Self.bobConfig { $0.catchUp = .ifNotWorse })
        w.broker.reportsSettlPrice = reported
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", execID: "MISSED", crash: .beforeOrderRecords)
        w.journal.removeLast()
        w.crashAndRecover()
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == 100_000)
        #expect(w.position("bob") == 0)
        #expect(w.reasons("bob").contains(reported ? .catchUpWaiting : .catchUpNoPrice), "\(w.reasons("bob"))")
        #expect(w.view("bob")?.waitingCatchUp == reported)
        // Worse than her 1.1 for a buyer: no entry.
        w.send(.mark(symbol: "EUR/USD", bid: dec("1.1003"), ask: dec("1.1005"), at: w.advance()))
        #expect(w.position("bob") == 0)
        w.send(.mark(symbol: "EUR/USD", bid: dec("1.0996"), ask: dec("1.0998"), at: w.advance()))
        #expect(w.position("bob") == (reported ? 10_000 : 0))
        // Closing always follows her.
        w.providerFill(side: "2", qty: "100000")
        #expect(w.position("bob") == 0)
    }

    @Test func followerWhoClosedWhileWeWereDownIsNotForcedBackIn() throws {
        var w = try World(Self.bobConfig())
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        w.broker.book("beta", "BOB-07", "EUR/USD", -10_000)  // he closes on his own terminal
        w.crashAndRecover()
        #expect(w.position("bob") == 0)
        #expect(w.view("bob")?.detached == true)
        #expect(w.orders(on: "beta").count == 1)
        #expect(w.decisions.contains { $0.reason == .followerIntervened && $0.detail == "position report" })
    }

    @Test func firstStartAdoptsWhatTheFollowerAlreadyHolds() throws {
        var w = try World(Self.bobConfig())
        w.broker.book("beta", "BOB-07", "EUR/USD", 3_000)
        w.crashAndRecover()  // an empty journal: a first start
        #expect(w.view("bob")?.offset == 3_000)
        w.providerFill(side: "1", qty: "100000")
        #expect(w.position("bob") == 13_000)
        w.providerFill(side: "2", qty: "100000")
        #expect(w.position("bob") == 3_000)
    }

    @Test func reconnectSettlesOrdersInFlightBeforeSendingMore() throws {
        var w = try World(Self.bobConfig())
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", pumpAfter: false)
        w.broker.outbox.removeAll()  // the link dropped before the answers
        w.send(.sessionDown(session: "beta", at: w.advance()))
        w.providerFill(side: "1", qty: "50000")  // planned while down: waits
        #expect(w.reasons("bob").last == .sessionDown)
        w.send(.sessionUp(session: "beta", at: w.advance()))
        #expect(w.broker.statusRequests.count == 1)
        Self.expectExactlyOnce(w, position: 15_000, orders: 2)
    }

    @Test func settlementThatNeverAnswersDegradesOnlyTheFollowersConcerned() throws {
        let config = setup(followers: [
            follower("bob", account: "BOB-07", equity: 10_000) { $0.lotSize = 1000 },
            follower("carol", account: "C-1", equity: 10_000) { $0.lotSize = 1000 },
        ])
        var w = try World(config)
        w.broker.policy = { o, _ in o.account == "BOB-07" ? [] : [.ack, .fill(nil)] }  // bob's order hangs
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        w.crashAndRecover(sessionsUp: false)
        w.broker.answersStatusRequests = false
        w.allSessionsUp()
        #expect(w.engine.sessionPhase("beta") == .settlingOrders)
        #expect(w.engine.sessionPhase("alpha") == .live)
        w.tickToDeadline()
        #expect(
            w.engine.followerStatus("bob")
                == .degraded(reason: .settlementTimeout, detail: "order \(w.sentClOrdIDs[0]) has an unknown outcome"))
        #expect(w.engine.followerStatus("carol") == .active)
        #expect(w.engine.sessionPhase("beta") == .live)
        w.providerFill(side: "1", qty: "100000")
        #expect(w.position("carol") == 20_000)
        // Bob's unknown order still reserves its quantity: nothing is sent twice.
        #expect(w.view("bob")?.working == 10_000)
    }

    /// Replaying the journal into a fresh engine reproduces every send and decision, byte for byte.
    @Test func replayReproducesDecisionsByteForByte() throws {
        var blk = BrokerSessionConfig(name: "blk")
        blk.orderMode = .block
        var beta = BrokerSessionConfig(name: "beta")
        beta.ordType = .limit
        beta.limitSlippageBps = 5
        beta.tickSize = dec("0.0001")
        let config = setup(
            followers: [
                follower("bob", account: "BOB-07", equity: 10_000) {
                    $0.lotSize = 1000
                    $0.maxPriceDeviationBps = 50
                },
                follower("carol", account: "C-1", session: "blk", equity: 20_000) { $0.lotSize = 1000 },
                follower("dave", account: "D-1", session: "blk", equity: 5_000) { $0.lotSize = 1000 },
            ],
            sessions: [BrokerSessionConfig(name: "alpha"), beta, blk])
        var w = try World(config)
        w.broker.policy = { o, n in
            if o.account == "BOB-07" && n == 1 { return [.reject("price moved")] }
            return n % 2 == 0 ? [.ack, .fill(dec("2000")), .cancelRest] : [.ack, .fill(nil)]
        }
        var live: [String] = []
        func record(_ actions: [EngineAction]) {
            for a in actions {
                switch a {
                case .send(let s, let b):
                    live.append(s + " " + String(decoding: b.encoded().readableBytesView, as: UTF8.self))
                case .decision(let d): live.append("\(d)")
                case .fill(let f): live.append("\(f)")
                case .journal, .followerStateChanged, .sessionPhaseChanged, .alert: break
                }
            }
        }
        var engine = try CopyEngine(configuration: config)
        var journal: [JournalRecord] = []
        var now = t0
        func run(_ event: EngineEvent) {
            let actions = engine.handle(event)
            record(actions)
            for case .journal(let r) in actions { journal.append(r) }
            for case .send(let s, let b) in actions { w.broker.receive(session: s, message: b.build()) }
            while !w.broker.outbox.isEmpty {
                let (s, m) = w.broker.outbox.removeFirst()
                now += ms
                let more = engine.handle(.executionReport(session: s, message: m, receivedAt: now))
                record(more)
                for case .journal(let r) in more { journal.append(r) }
                for case .send(let s2, let b) in more { w.broker.receive(session: s2, message: b.build()) }
            }
        }
        for s in ["alpha", "beta", "blk"] { run(.sessionUp(session: s, at: now)) }
        run(.mark(symbol: "EUR/USD", bid: dec("1.0999"), ask: dec("1.1001"), at: now + ms))
        for (i, (side, qty)) in [("1", 100_000), ("1", 50_000), ("2", 120_000), ("2", 80_000)].enumerated() {
            now += 100 * ms
            let m = Reports.executionReport(
                execID: "X\(i)", account: "ALICE-01", symbol: "EUR/USD", side: Character(side),
                lastQty: FixedDecimal(qty),
                lastPx: dec("1.1"), cumQty: nil, ordStatus: "2", execType: "F", clOrdID: "h\(i)", transactTime: now)
            run(.executionReport(session: "alpha", message: m, receivedAt: now))
            now += 2000 * ms
            run(.tick(at: now))
        }
        #expect(live.count > 20)

        // The journal survives a trip through JSON.
        let data = try JSONEncoder().encode(journal)
        let decoded = try JSONDecoder().decode([JournalRecord].self, from: data)
        #expect(decoded == journal)

        var replayed: [String] = []
        var fresh = try CopyEngine(configuration: config)
        _ = fresh.handle(.recoveryBegin(at: now))
        for r in decoded {
            for a in fresh.handle(.replay(r)) {
                switch a {
                case .send(let s, let b):
                    replayed.append(s + " " + String(decoding: b.encoded().readableBytesView, as: UTF8.self))
                case .decision(let d): replayed.append("\(d)")
                case .fill(let f): replayed.append("\(f)")
                case .journal, .followerStateChanged, .sessionPhaseChanged, .alert: break
                }
            }
        }
        #expect(replayed == live)
        for f in ["bob", "carol", "dave"] {
            #expect(fresh.followerPosition(f, symbol: "EUR/USD") == engine.followerPosition(f, symbol: "EUR/USD"))
        }
    }

    @Test func settlementMessagesCarryWhatBrokersRequire() throws {
        var w = try World(Self.bobConfig())
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", crash: .beforeSends)
        var engine = try CopyEngine(configuration: w.configuration)
        _ = engine.handle(.recoveryBegin(at: w.advance()))
        for r in w.journal { _ = engine.handle(.replay(r)) }
        let phases = engine.handle(.recoveryComplete(at: w.advance()))
        #expect(phases.contains { if case .sessionPhaseChanged("beta", .recovering) = $0 { true } else { false } })
        #expect(engine.sessionPhase("beta") == .recovering)
        let actions = engine.handle(.sessionUp(session: "beta", at: w.advance()))
        let sends = actions.compactMap { a -> FIXMessage? in if case .send(_, let b) = a { b.build() } else { nil } }
        try #require(sends.count == 1)
        let status = sends[0]
        #expect(status.isMsgType("H"))
        #expect(status[11] == engine.liveOrders(session: "beta").first?.clOrdID)
        #expect(status[1] == "BOB-07" && status[54] == "1" && status[55] == "EUR/USD" && status[790] == "S1-1")
        #expect(engine.sessionPhase("beta") == .settlingOrders)
        // The broker does not know it: positions are next.
        let unknown = Reports.executionReport(
            execID: "S-ANS", account: "BOB-07", symbol: "EUR/USD", side: "1", lastQty: nil, lastPx: nil, cumQty: 0,
            ordStatus: "8",
            execType: "I", clOrdID: status[11], transactTime: w.now, text: "unknown order", ordRejReason: 5)
        let next = engine.handle(.executionReport(session: "beta", message: unknown, receivedAt: w.advance()))
        let requests = next.compactMap { a -> FIXMessage? in if case .send(_, let b) = a { b.build() } else { nil } }
        try #require(requests.count == 1)
        let an = requests[0]
        #expect(an.isMsgType("AN"))
        #expect(an[710] == "P1-2" && an[724] == "0" && an[1] == "BOB-07" && an[581] == "1")
        #expect(an[453] == "1" && an[448] == "BOB-07" && an[447] == "D" && an[452] == "24")
        #expect(an[715] == "20231114" && an[60] != nil)
        #expect(engine.sessionPhase("beta") == .settlingPositions)
        #expect(engine.liveOrders(session: "beta").isEmpty)
    }
}
