import FIXCore
import Testing

@testable import CopyEngine

@Suite("Routing, retries and block orders")
struct RoutingTests {
    static func pair() -> CopyEngineConfiguration {
        setup(followers: [
            follower("bob", account: "BOB-07", equity: 10_000) { $0.lotSize = 1000 },
            follower("carol", account: "CAROL-1", equity: 20_000) { $0.lotSize = 1000 },
        ])
    }

    @Test func rejectsAreRetriedWithBackoffThenTheFollowerIsDegradedWhileOthersGoOn() throws {
        var w = try World(Self.pair())
        w.broker.policy = { o, _ in o.account == "BOB-07" ? [.reject("insufficient margin")] : [.ack, .fill(nil)] }
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        #expect(w.position("carol") == 20_000)
        #expect(w.reasons("bob") == [.orderRejected, .retryScheduled])
        let rejectedAt = w.decisions.first { $0.reason == .retryScheduled }!
        #expect(rejectedAt.detail == "attempt 1 of 2 after 500 ms: insufficient margin (OrdRejReason 3)")
        let firstRetry = try #require(w.engine.nextDeadline)
        w.tick(after: firstRetry - 1 * ms - w.now)
        #expect(w.orders(on: "beta").filter { $0[1] == "BOB-07" }.count == 1)
        w.tickToDeadline()
        #expect(w.orders(on: "beta").filter { $0[1] == "BOB-07" }.count == 2)
        #expect(try #require(w.engine.nextDeadline) - firstRetry == 1001 * ms)  // doubled, from the second reject
        w.tickToDeadline()
        #expect(w.orders(on: "beta").filter { $0[1] == "BOB-07" }.count == 3)
        #expect(
            w.engine.followerStatus("bob")
                == .degraded(reason: .retryExhausted, detail: "insufficient margin (OrdRejReason 3)"))
        #expect(w.statusChanges.map(\.0) == ["bob"])
        #expect(w.engine.nextDeadline == nil)
        // Carol goes on; Bob gets nothing, and says why.
        w.providerFill(side: "1", qty: "50000")
        #expect(w.position("carol") == 30_000)
        #expect(w.reasons("bob").last == .followerDegraded)
        #expect(w.orders(on: "beta").filter { $0[1] == "BOB-07" }.count == 3)
        // The operator resumes him once his broker accepts again; he catches up to his target.
        w.broker.policy = { _, _ in [.ack, .fill(nil)] }
        w.send(.command(.resumeFollower("bob"), at: w.advance()))
        #expect(w.engine.followerStatus("bob") == .active)
        #expect(w.position("bob") == 10_000)  // her 50 000 while he was degraded follow CatchUp=none
        #expect(w.reasons("bob").contains(.catchUpSkipped))
        #expect(Set(w.sentClOrdIDs).count == w.sentClOrdIDs.count)
    }

    @Test func unfilledIOCCountsAsAFailedAttempt() throws {
        var w = try World(setup(followers: [follower("bob", equity: 10_000) { $0.lotSize = 1000 }]))
        w.broker.policy = { _, n in n < 2 ? [.ack, .cancelRest] : [.ack, .fill(nil)] }
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        #expect(w.reasons("bob") == [.orderUnfilled, .retryScheduled])
        w.tickToDeadline()
        w.tickToDeadline()
        #expect(w.position("bob") == 10_000)
        #expect(w.view("bob")?.failures == 0)
        #expect(w.engine.followerStatus("bob") == .active)
    }

    @Test func ordersWaitForTheSessionAndPausedFollowersCatchUpByTheirMode() throws {
        let market = follower("bob", equity: 10_000) {
            $0.lotSize = 1000
            $0.catchUp = .market
        }
        var w = try World(setup(followers: [market]))
        w.send(.sessionUp(session: "alpha", at: w.advance()))
        w.providerFill(side: "1", qty: "100000")
        #expect(w.reasons("bob") == [.sessionDown])
        w.send(.sessionUp(session: "beta", at: w.advance()))
        #expect(w.position("bob") == 10_000)
        w.send(.command(.pauseFollower("bob"), at: w.advance()))
        w.providerFill(side: "1", qty: "100000")
        #expect(w.position("bob") == 10_000)
        #expect(w.reasons("bob").suffix(2) == [.followerPaused, .followerPaused])
        w.send(.command(.resumeFollower("bob"), at: w.advance()))
        #expect(w.position("bob") == 20_000)
        #expect(w.reasons("bob").contains(.catchUpEntered))
    }

    @Test func ifNotWorseCatchUpWaitsForAnAcceptableMark() throws {
        let careful = follower("bob", equity: 10_000) {
            $0.lotSize = 1000
            $0.catchUp = .ifNotWorse
        }
        var w = try World(setup(followers: [careful]))
        w.allSessionsUp()
        w.send(.command(.pauseFollower("bob"), at: w.advance()))
        w.providerFill(side: "1", qty: "100000", px: "1.1000")
        w.send(.command(.resumeFollower("bob"), at: w.advance()))
        #expect(w.view("bob")?.waitingCatchUp == true)
        #expect(w.reasons("bob").contains(.catchUpWaiting))
        w.send(.mark(symbol: "EUR/USD", bid: dec("1.1003"), ask: dec("1.1005"), at: w.advance()))
        #expect(w.orders(on: "beta").isEmpty)
        let journaled = w.journal.count
        w.send(.mark(symbol: "EUR/USD", bid: dec("1.0996"), ask: dec("1.0998"), at: w.advance()))
        #expect(w.position("bob") == 10_000)
        #expect(w.view("bob")?.waitingCatchUp == false)
        // The mark that let him in is in the journal, ahead of the order it caused.
        guard case .mark(let m) = w.journal[journaled] else {
            Issue.record("expected the mark first, got \(w.journal[journaled])")
            return
        }
        #expect(m.ask == dec("1.0998"))
    }

    @Test func equityFromTheBrokerArrivesAsACommand() throws {
        let bob = follower("bob") {
            $0.equity = .broker
            $0.lotSize = 1000
        }
        var w = try World(setup(followers: [bob]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        #expect(w.reasons("bob") == [.equityUnknown])
        w.send(.command(.setEquity(id: "bob", equity: 20_000), at: w.advance()))
        w.providerFill(side: "1", qty: "100000")
        #expect(w.position("bob") == 20_000)
        // An equity change resizes future increases only.
        w.send(.command(.setEquity(id: "bob", equity: 40_000), at: w.advance()))
        #expect(w.orders(on: "beta").count == 1)
        w.providerFill(side: "2", qty: "100000")  // she halves: he halves
        #expect(w.position("bob") == 10_000)
    }

    static func blockSetup(
        lot: FixedDecimal = 1000, equities: [FixedDecimal] = [30_000, 20_000, 10_000]
    ) -> CopyEngineConfiguration {
        var blk = BrokerSessionConfig(name: "blk")
        blk.orderMode = .block
        blk.blockAccount = "HOUSE"
        return setup(
            followers: equities.enumerated().map { i, e in
                follower("b\(i + 1)", account: "B\(i + 1)", session: "blk", equity: e) { $0.lotSize = lot }
            },
            sessions: [BrokerSessionConfig(name: "alpha"), blk])
    }

    @Test func blockOrdersAllocatePartialFillsByLargestRemainder() throws {
        var w = try World(Self.blockSetup())
        w.broker.policy = { _, n in n == 0 ? [.ack, .fill(20_000), .fill(25_000), .cancelRest] : [.ack, .fill(nil)] }
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        let orders = w.orders(on: "blk")
        try #require(orders.count == 2)
        let first = orders[0]
        #expect(first[1] == "HOUSE" && first[38] == "60000" && first[78] == "3")
        #expect(first.values(of: 79) == ["B1", "B2", "B3"])
        #expect(first.values(of: 80) == ["30000", "20000", "10000"])
        // 20 000 filled: shares 10 000 / 6 666.7 / 3 333.3 → 10 000, 7 000, 3 000.
        // 45 000 filled: shares 22 500 / 15 000 / 7 500 → 23 000, 15 000, 7 000 (tie to the earlier follower).
        let copyFills = w.fills.filter(\.isCopy)
        #expect(
            copyFills.prefix(6).map { "\($0.followerID):\($0.quantity)" } == [
                "b1:10000", "b2:7000", "b3:3000", "b1:13000", "b2:8000", "b3:4000",
            ])
        // The canceled remainder is re-planned as one new block.
        #expect(orders[1].values(of: 80) == ["7000", "5000", "3000"])
        #expect(w.position("b1") == 30_000 && w.position("b2") == 20_000 && w.position("b3") == 10_000)
        #expect(w.reasons().filter { $0 == .remainderReplanned }.count == 3)
    }

    @Test func blockResidueBelowALotStaysUnallocated() throws {
        var w = try World(Self.blockSetup(equities: [10_000, 10_000]))
        w.broker.policy = { _, n in n == 0 ? [.ack, .fill(dec("15500")), .cancelRest] : [.ack, .fill(nil)] }
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        // Shares 7 750 each: 7 000 each, the next lot by remainder (tie: b1), 500 left over.
        #expect(w.fills.filter(\.isCopy).prefix(2).map { "\($0.followerID):\($0.quantity)" } == ["b1:8000", "b2:7000"])
        #expect(w.decisions.contains { $0.reason == .unallocatedResidue && $0.quantity == 500 })
        #expect(w.position("b1") == 10_000 && w.position("b2") == 10_000)
    }

    @Test func allocationNeverExceedsTheFillAndOnlyGrows() {
        func state(_ q: [Int], lots: [Int]) -> [AllocationState] {
            zip(q, lots).enumerated().map {
                AllocationState(follower: $0, quantity: FixedDecimal($1.0), lotUnits: FixedDecimal($1.1))
            }
        }
        var allocs = state([300, 200, 100], lots: [100, 100, 100])
        var previous = [FixedDecimal](repeating: 0, count: 3)
        for cum in [50, 100, 150, 250, 400, 550, 600] {
            let inc = CopyEngine.allocate(allocs, filled: FixedDecimal(cum), total: 600)
            for k in allocs.indices { allocs[k].allocated += inc[k] }
            let total = allocs.reduce(FixedDecimal(0)) { $0 + $1.allocated }
            #expect(total <= FixedDecimal(cum))
            #expect(FixedDecimal(cum) - total < 100 || cum == 600)
            for k in allocs.indices {
                #expect(allocs[k].allocated >= previous[k])
                #expect(allocs[k].allocated <= allocs[k].quantity)
                #expect(allocs[k].allocated.quotient(dividingBy: 100) * 100 == Int128(allocs[k].allocated.integerPart!))
                previous[k] = allocs[k].allocated
            }
        }
        #expect(allocs.map(\.allocated) == [300, 200, 100])
        // Different lots: the 0.5 left after whole lots cannot be given to anyone.
        let mixed = state([3, 2], lots: [1, 2])
        #expect(CopyEngine.allocate(mixed, filled: dec("2.5"), total: 5) == [2, 0])
        #expect(CopyEngine.allocate(mixed, filled: 4, total: 5) == [2, 2])
    }

    @Test func finishedOrdersAreForgottenAfterTheRetentionWindow() throws {
        var beta = BrokerSessionConfig(name: "beta")
        beta.orderRetentionMs = 1000
        let config = setup(
            followers: [follower("bob", account: "BOB-07", equity: 10_000) { $0.lotSize = 1000 }],
            sessions: [BrokerSessionConfig(name: "alpha"), beta])
        var w = try World(config)
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        let first = w.sentClOrdIDs[0]
        _ = w.advance(2000 * ms)
        w.providerFill(side: "1", qty: "100000")
        let beta0 = w.engine.sessions[w.engine.sessionIndex["beta"]!]
        #expect(beta0.orderIndex[first] == nil)
        #expect(beta0.freeSlots == [0])  // forgotten when the next order finished; the next order reuses it
        // A very late resend about the forgotten order is not mistaken for his own trade.
        let late = Reports.executionReport(
            execID: "LATE", account: "BOB-07", symbol: "EUR/USD", side: "1", orderQty: 10_000, lastQty: 10_000,
            lastPx: dec("1.1"),
            cumQty: 10_000, ordStatus: "2", execType: "F", clOrdID: first, transactTime: t0, possDup: true)
        w.send(.executionReport(session: "beta", message: late, receivedAt: w.advance()))
        #expect(w.reasons().last == .forgottenOrder)
        #expect(w.position("bob") == 20_000)
        #expect(w.view("bob")?.detached == false)
    }
}
