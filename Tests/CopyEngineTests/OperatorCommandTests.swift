import FIXCore
import Foundation
import Testing

@testable import CopyEngine

@Suite("Operator commands")
struct OperatorCommandTests {
    static func live(_ followers: [FollowerConfig]) throws -> World {
        var w = try World(setup(followers: followers))
        w.allSessionsUp()
        w.mark("1.1")
        w.mark("1.3", symbol: "GBP/USD")
        return w
    }

    static let bob = follower("bob", account: "BOB-07", equity: 10_000) { $0.lotSize = 1000 }

    @Test func commandsAreJournaledWithWhoAndWhyAndCheckedFirst() throws {
        var w = try Self.live([Self.bob])
        #expect(w.check(.pauseFollower("bob")) == .applies)
        w.command(.pauseFollower("bob"), actor: "ctl:alice@127.0.0.1", reason: "broker maintenance")
        guard case .command(.pauseFollower("bob"), _, let actor, let reason) = w.journal.last else {
            Issue.record("no command record: \(String(describing: w.journal.last))")
            return
        }
        #expect(actor == "ctl:alice@127.0.0.1" && reason == "broker maintenance")
        #expect(w.decisions(.followerPaused).first?.detail == "by ctl:alice@127.0.0.1")
        #expect(w.check(.pauseFollower("bob")) == .unchanged("bob is already paused"))
        #expect(w.check(.pauseFollower("zed")) == .unknownFollower("zed"))
        #expect(w.check(.disableProvider("zed", flatten: true)) == .unknownProvider("zed"))
        #expect(w.check(.enableProvider("alice")) == .unchanged("alice is already enabled"))
        #expect(w.check(.setEquity(id: "bob", equity: -5)) == .refused("equity must be a positive amount"))
        #expect(
            w.check(.resetBreaker("bob"))
                == .unchanged("no tripped breaker: follower:bob:daily-loss, follower:bob:drawdown"))
        w.command(.resumeFollower("bob"))
        #expect(w.engine.followerStatus("bob") == .active)
        #expect(w.check(.resumeFollower("bob")) == .unchanged("bob is already active"))
        // The record survives JSON (as a journal would keep it).
        let data = try JSONEncoder().encode(w.journal)
        #expect(try JSONDecoder().decode([JournalRecord].self, from: data) == w.journal)
    }

    @Test func flattenClosesEveryCopyEvenWhilePausedAndHoldsUntilResume() throws {
        var w = try Self.live([Self.bob])
        w.providerFill(side: "1", qty: "100000")
        w.providerFill(side: "2", qty: "50000", px: "1.3", symbol: "GBP/USD")
        #expect(w.position("bob") == 10_000 && w.position("bob", "GBP/USD") == -5_000)
        w.command(.pauseFollower("bob"))
        w.command(.flattenFollower("bob"), reason: "client request")
        #expect(w.orderLines() == ["1:10000", "2:5000", "2:10000", "1:5000"])
        #expect(w.position("bob") == 0 && w.position("bob", "GBP/USD") == 0)
        let view = try #require(w.engine.followerView("bob"))
        #expect(view.copying == .flattened && view.flattenedByOperator && view.status == .paused)
        #expect(view.positions.isEmpty)
        #expect(w.check(.flattenFollower("bob")) == .unchanged("bob is flat and flattened"))
        // Nothing new while flattened, even once unpaused by another path.
        w.providerFill(side: "1", qty: "100000")
        #expect(w.orderLines().count == 4)
        // Resume: what she holds now is missed (CatchUp=none); her next increase is copied.
        w.command(.resumeFollower("bob"))
        #expect(w.engine.followerView("bob")?.copying == .active)
        #expect(w.orderLines().count == 4)
        w.providerFill(side: "1", qty: "30000")
        #expect(w.orderLines().last == "1:3000")
    }

    @Test func flattenSurvivesARestart() throws {
        var w = try Self.live([Self.bob])
        w.providerFill(side: "1", qty: "100000")
        w.command(.flattenFollower("bob"))
        #expect(w.position("bob") == 0)
        w.crashAndRecover()
        #expect(w.engine.followerView("bob")?.copying == .flattened)
        w.providerFill(side: "1", qty: "100000")
        #expect(w.position("bob") == 0)
    }

    @Test func resyncAsksEveryBrokerAgainAndReconciles() throws {
        var w = try Self.live([Self.bob])
        w.providerFill(side: "1", qty: "100000")
        // He traded on his own where we could not see it: his broker holds 2 000 more.
        w.broker.book("beta", "BOB-07", "EUR/USD", 2_000)
        let requestsBefore = w.broker.positionRequests.count
        w.command(.resync, actor: "ctl:ops", reason: "after broker incident")
        #expect(w.broker.positionRequests.count == requestsBefore + 2)
        #expect(w.decisions(.resync).count == 1)
        let reconciled = try #require(w.decisions(.positionReconciled).first { $0.followerID == "bob" })
        #expect(reconciled.quantity == 2_000)
        #expect(w.position("bob") == 12_000 && w.view("bob")?.detached == true)
        #expect(w.engine.sessionPhase("beta") == .live && w.engine.sessionPhase("alpha") == .live)
    }

    @Test func stateViewShowsEquityPositionsAndBreakers() throws {
        var w = try Self.live([
            follower("bob", account: "BOB-07", equity: 10_000) {
                $0.lotSize = 1000
                $0.loss.dailyLoss = .amount(500)
            }
        ])
        w.providerFill(side: "1", qty: "100000")
        w.mark("1.12")
        let state = w.engine.stateView()
        let bob = try #require(state.follower("bob"))
        #expect(bob.session == "beta" && bob.providers == ["alice"] && bob.copying == .active)
        #expect(bob.unrealisedPnL == 200 && bob.equity == 10_200 && bob.dailyLoss == -200)
        #expect(
            bob.positions == [
                PositionLine(
                    symbol: "EUR/USD", quantity: 10_000, copied: 10_000, working: 0, target: 10_000,
                    averagePrice: dec("1.1"))
            ])
        let alice = try #require(state.provider("alice"))
        #expect(alice.state == .active && alice.positions.map(\.quantity) == [100_000] && alice.equity == 102_000)
        #expect(state.breakers.map(\.name) == ["follower:bob:daily-loss"])
        #expect(state.breaker("follower:bob:daily-loss")?.effect == "disable")
        #expect(state.sessions.map(\.name) == ["alpha", "beta"])
    }
}
