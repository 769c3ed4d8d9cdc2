import FIXCore
import Testing

@testable import CopyEngine

/// DAY and GTC copies can rest at the broker; when the target no longer wants them they are
/// canceled, not netted with an order the other way.
@Suite("Resting copies")
struct RestingOrderTests {
    /// Bob copies a tenth of alice on `beta`, whose copies are DAY orders; his first copy rests
    /// (acknowledged, `firstFill` filled), the later ones fill at once.
    static func world(firstFill: FixedDecimal? = nil) throws -> World {
        var config = setup(followers: [follower("bob", equity: 10_000) { $0.lotSize = 1000 }])
        config.sessions[1].timeInForce = .day
        var w = try World(config)
        w.broker.policy = { _, n in
            guard n == 0 else { return [.ack, .fill(nil)] }
            return firstFill.map { [.ack, .fill($0)] } ?? [.ack]
        }
        w.allSessionsUp()
        return w
    }

    @Test func aRestingCopySheNoLongerHoldsIsCanceledNotNetted() throws {
        var w = try Self.world()
        w.providerFill(side: "1", qty: "100000")
        #expect(w.view("bob")?.working == 10_000)
        let resting = try #require(w.orders(on: "beta").first?[11])
        w.providerFill(side: "2", qty: "100000")
        // No sell: the buy is canceled, and nothing else is sent.
        #expect(w.orders(on: "beta").count == 1)
        #expect(w.broker.cancelRequests.map(\.orig) == [resting])
        #expect(w.broker.cancelRequests.map(\.clOrdID) == [resting + "X1"])
        #expect(w.position("bob") == 0 && w.view("bob")?.working == 0)
        #expect(w.engine.liveOrders(session: "beta").isEmpty)
        #expect(w.reasons("bob").contains(.cancelRequested))
        // Canceled as asked: not a failed attempt.
        #expect(!w.reasons("bob").contains(.orderUnfilled) && !w.reasons("bob").contains(.retryScheduled))
    }

    @Test func whatARestingCopyFilledBeforeItsCancelIsClosedAfter() throws {
        var w = try Self.world(firstFill: 4000)
        w.providerFill(side: "1", qty: "100000")
        #expect(w.position("bob") == 4000 && w.view("bob")?.working == 6000)
        w.providerFill(side: "2", qty: "100000")
        #expect(w.broker.cancelRequests.count == 1)
        let orders = w.orders(on: "beta")
        try #require(orders.count == 2)
        #expect(orders[1][54] == "2" && orders[1][38] == "4000")
        #expect(w.position("bob") == 0 && w.broker.position("beta", "BOB", "EUR/USD") == 0)
    }

    @Test func aRestingCopyStillWantedIsNotCanceled() throws {
        var w = try Self.world()
        w.providerFill(side: "1", qty: "100000")
        w.providerFill(side: "1", qty: "100000")  // she adds: his resting buy is still wanted
        #expect(w.broker.cancelRequests.isEmpty)
        #expect(w.orders(on: "beta").count == 2)
        #expect(w.position("bob") == 10_000 && w.view("bob")?.working == 10_000)
    }

    @Test func immediateOrCancelCopiesAreNettedAsBefore() throws {
        var config = setup(followers: [follower("bob", equity: 10_000) { $0.lotSize = 1000 }])
        config.sessions[1].timeInForce = .ioc
        var w = try World(config)
        // The first copy is acknowledged and left working (a slow IOC); the next ones fill.
        w.broker.policy = { _, n in n == 0 ? [.ack] : [.ack, .fill(nil)] }
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        w.providerFill(side: "2", qty: "100000")
        #expect(w.broker.cancelRequests.isEmpty)
        #expect(w.orders(on: "beta").count == 2)
    }

    /// The session drops with the cancel out; the broker canceled the order and the report is
    /// lost. Settlement finds it canceled: as asked, so not a failed attempt to retry.
    @Test func aCancelAnsweredWhileTheSessionWasDownIsNotAFailure() throws {
        var w = try Self.world()
        w.providerFill(side: "1", qty: "100000")
        w.providerFill(side: "2", qty: "100000", pumpAfter: false)
        #expect(w.broker.cancelRequests.count == 1)
        w.broker.outbox.removeAll()  // the cancel's report is lost with the connection
        w.send(.sessionDown(session: "beta", at: w.advance()))
        w.send(.sessionUp(session: "beta", at: w.advance()))
        #expect(w.position("bob") == 0 && w.engine.liveOrders(session: "beta").isEmpty)
        #expect(!w.reasons("bob").contains(.orderUnfilled) && !w.reasons("bob").contains(.retryScheduled))
        #expect(w.orders(on: "beta").count == 1)
    }

    @Test func aCancelThatNeverLeftBeforeACrashIsAskedForAgainAfterSettlement() throws {
        var w = try Self.world()
        w.providerFill(side: "1", qty: "100000")
        let resting = try #require(w.orders(on: "beta").first?[11])
        w.providerFill(side: "2", qty: "100000", crash: .beforeSends)
        #expect(w.broker.cancelRequests.isEmpty)
        w.crashAndRecover()
        // Settled: the broker says the buy rests; the cancel is asked for again, under a new ClOrdID.
        #expect(w.broker.statusRequests.contains(resting))
        #expect(w.broker.cancelRequests.map(\.clOrdID) == [resting + "X2"])
        #expect(w.orders(on: "beta").count == 1)
        #expect(w.position("bob") == 0 && w.engine.liveOrders(session: "beta").isEmpty)
    }

    /// The broker refuses to cancel his resting buy: each refusal is a failed attempt, the cancel is
    /// asked again after the backoff, and past RetryLimit he is degraded; nothing is netted meanwhile.
    @Test func aRefusedCancelIsAskedAgainAfterTheBackoffThenTheFollowerIsDegraded() throws {
        var w = try Self.world()
        w.broker.refusesCancels = 2
        w.providerFill(side: "1", qty: "100000")
        let resting = try #require(w.orders(on: "beta").first?[11])
        w.providerFill(side: "2", qty: "100000")
        #expect(w.broker.cancelRequests.map(\.clOrdID) == [resting + "X1"])
        #expect(w.reasons("bob").filter { $0 == .cancelRejected }.count == 1)
        #expect(w.reasons("bob").contains(.retryScheduled))
        w.tickToDeadline()
        w.tickToDeadline()
        #expect(w.broker.cancelRequests.map(\.clOrdID) == [resting + "X1", resting + "X2", resting + "X3"])
        guard case .degraded(let reason, let detail) = w.statusChanges.last?.1 else {
            Issue.record("bob is not degraded: \(w.statusChanges)")
            return
        }
        #expect(reason == .retryExhausted && detail.contains("CxlRejReason 2") && detail.contains("cancels refused"))
        // Never netted: the buy still rests, and no sell went out.
        #expect(w.orders(on: "beta").count == 1)
        #expect(w.view("bob")?.working == 10_000 && w.position("bob") == 0)

        // The broker cancels again; the operator resumes him: the cancel goes through.
        w.broker.refusesCancels = nil
        w.send(.command(.resumeFollower("bob"), at: w.advance()))
        #expect(w.broker.cancelRequests.last?.clOrdID == resting + "X4")
        #expect(w.engine.liveOrders(session: "beta").isEmpty && w.view("bob")?.working == 0)
        #expect(w.orders(on: "beta").count == 1 && w.broker.position("beta", "BOB", "EUR/USD") == 0)
    }

    /// Her close races his resting buy's fill: the broker refuses the cancel as too late (the order
    /// is filled), and its fill report follows. No second cancel, no retry: the fill is closed.
    @Test func aCancelTooLateWaitsForTheOrdersReportThenClosesWhatFilled() throws {
        var w = try Self.world()
        w.providerFill(side: "1", qty: "100000")
        let resting = try #require(w.orders(on: "beta").first?[11])
        let fill = w.broker.fillUnreported(session: "beta", clOrdID: resting)
        w.providerFill(side: "2", qty: "100000", pumpAfter: false)
        w.broker.outbox.append(("beta", fill))  // after the OrderCancelReject
        w.pump()
        #expect(w.broker.cancelRequests.count == 1)
        let decision = w.decisions.last { $0.reason == .cancelRejected }
        #expect(decision?.detail?.contains("its report is awaited") == true)
        #expect(!w.reasons("bob").contains(.retryScheduled))
        let orders = w.orders(on: "beta")
        try #require(orders.count == 2)
        #expect(orders[1][54] == "2" && orders[1][38] == "10000")
        #expect(w.position("bob") == 0 && w.broker.position("beta", "BOB", "EUR/USD") == 0)
    }
}
