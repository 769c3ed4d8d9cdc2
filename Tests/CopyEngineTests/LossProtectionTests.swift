import FIXCore
import Testing

@testable import CopyEngine

@Suite("Loss protection")
struct LossProtectionTests {
    /// Bob: equity 10 000 against her 100 000 (a tenth of her size), lot 1 000.
    static func bob(_ adjust: @escaping (inout FollowerConfig) -> Void) -> FollowerConfig {
        follower("bob", account: "BOB-07", equity: 10_000) { f in
            f.lotSize = 1000
            adjust(&f)
        }
    }

    /// She buys 100 000 at 1.1; he buys 10 000 at 1.1.
    static func opened(_ configuration: CopyEngineConfiguration) throws -> World {
        var w = try World(configuration)
        w.allSessionsUp()
        w.mark("1.1")
        w.providerFill(side: "1", qty: "100000")
        return w
    }

    /// Daily loss (500) and drawdown (5 %) with each action: the market falls to 1.04, so his
    /// copies lose 600 (6 %).
    @Test(arguments: [true, false], LossAction.allCases)
    func breachTripsTheBreakerAndItsActionApplies(daily: Bool, action: LossAction) throws {
        let name = daily ? "follower:bob:daily-loss" : "follower:bob:drawdown"
        let reason: ReasonCode = daily ? .dailyLossLimit : .maxDrawdown
        var w = try Self.opened(
            setup(followers: [
                Self.bob { f in
                    if daily {
                        f.loss.dailyLoss = .amount(500)
                        f.dailyLossAction = action
                    } else {
                        f.loss.maxDrawdownPct = 5
                        f.drawdownAction = action
                    }
                }
            ]))
        #expect(w.orderLines() == ["1:10000"])
        #expect(w.breaker(name)?.tripped == false)
        w.broker.price = dec("1.04")
        w.mark("1.06")  // -400: within both limits
        w.tick(after: 2000 * ms)
        #expect(w.breaker(name)?.tripped == false && w.alerts.isEmpty)
        w.mark("1.04")
        // The breach is acted on at the next tick.
        #expect(w.breaker(name)?.tripped == false)
        w.tick(after: 100 * ms)
        let breaker = try #require(w.breaker(name))
        #expect(breaker.tripped && breaker.reason == reason && breaker.effect == action.rawValue)
        #expect(w.alerts.map(\.kind) == [.tripped] && w.alerts.first?.breaker == name)
        #expect(w.breakerRecords == ["\(name) tripped"])
        let tripDecision = try #require(w.decisions(reason).first)
        #expect(tripDecision.followerID == "bob")
        #expect(
            tripDecision.detail
                == (daily
                    ? "breaker \(name) tripped: loss=600.00 bound=500 (DailyLossLimit=500)"
                    : "breaker \(name) tripped: drawdown=6% bound=5% peak=10000.00 equity=9400.00"))
        let view = try #require(w.engine.followerView("bob"))
        #expect(view.trippedBreakers == [name])
        #expect(view.equity == 9_400 && view.realisedPnL + view.unrealisedPnL == -600)

        switch action {
        case .disable:
            #expect(view.copying == .disabled)
            #expect(w.orderLines() == ["1:10000"])
            w.providerFill(side: "1", qty: "100000")  // not copied
            w.providerFill(side: "2", qty: "100000")  // not sent either: nothing is
            #expect(w.orderLines() == ["1:10000"])
            #expect(w.position("bob") == 10_000)
        case .closeOnly:
            #expect(view.copying == .closeOnly)
            w.providerFill(side: "1", qty: "100000")  // not copied: he follows 100 000 of her 200 000
            #expect(w.orderLines() == ["1:10000"])
            w.providerFill(side: "2", qty: "100000")  // she halves: so does he
            #expect(w.orderLines() == ["1:10000", "2:5000"])
            #expect(w.position("bob") == 5_000)
        case .closeAll:
            #expect(view.copying == .flattened)
            #expect(w.orderLines() == ["1:10000", "2:10000"])
            #expect(w.position("bob") == 0)
            #expect(w.decisions(.followerFlattened).first?.quantity == -10_000)
            w.providerFill(side: "1", qty: "100000")
            #expect(w.orderLines() == ["1:10000", "2:10000"])
            // His realised loss is booked.
            #expect(w.engine.followerView("bob")?.realisedPnL == -600)
        }
        #expect(w.decisions(reason).count >= 2, "later increases name the breaker")
    }

    @Test func percentDailyLossIsOfTheStartOfDayEquity() throws {
        var w = try Self.opened(setup(followers: [Self.bob { $0.loss.dailyLoss = .percent(5) }]))
        w.mark("1.055")  // -450
        w.tick(after: 100 * ms)
        #expect(w.breaker("follower:bob:daily-loss")?.tripped == false)
        #expect(w.engine.followerView("bob")?.dailyLoss == 450)
        w.mark("1.045")  // -550
        w.tick(after: 100 * ms)
        #expect(w.breaker("follower:bob:daily-loss")?.detail == "loss=550.00 bound=500 (DailyLossLimit=5%)")
    }

    @Test func theTradingDayStartsAtTradingDayReset() throws {
        // t0 is 22:13:20 UTC; his day starts at 22:15.
        func run(reset minute: Int) throws -> World {
            var w = try Self.opened(
                setup(followers: [
                    Self.bob {
                        $0.loss.dailyLoss = .amount(500)
                        $0.loss.dayStartMinute = minute
                    }
                ]))
            w.mark("1.06")  // -400 today
            w.tick(after: 120_000 * ms)  // 22:15:20
            w.mark("1.04")  // -600 in all
            w.tick(after: 100 * ms)
            return w
        }
        let crossing = try run(reset: 22 * 60 + 15)
        #expect(crossing.breaker("follower:bob:daily-loss")?.tripped == false)
        #expect(crossing.engine.followerView("bob")?.dailyLoss == 200)
        #expect(crossing.engine.followerView("bob")?.dayStartEquity == 9_600)
        let midnight = try run(reset: 0)
        #expect(midnight.breaker("follower:bob:daily-loss")?.tripped == true)
    }

    @Test func drawdownIsMeasuredFromTheEquityPeak() throws {
        var w = try Self.opened(setup(followers: [Self.bob { $0.loss.maxDrawdownPct = 5 }]))
        w.mark("1.2")  // +1 000: a new peak, sampled at the next tick a second on
        w.tick(after: 1500 * ms)
        #expect(w.engine.followerView("bob")?.peakEquity == 11_000)
        w.mark("1.15")  // 10 500: 4.5 % below the peak
        w.tick(after: 100 * ms)
        #expect(w.breaker("follower:bob:drawdown")?.tripped == false)
        w.mark("1.14")  // 10 400: 5.45 % below the peak, still above where he started
        w.tick(after: 100 * ms)
        #expect(w.breaker("follower:bob:drawdown")?.tripped == true)
    }

    @Test func providerLossSuspendsHerForEveryFollowerUntilReset() throws {
        var alice = ProviderConfig(
            providerID: "alice", sessionName: "alpha", account: "ALICE-01", equity: .fixed(100_000))
        alice.loss.dailyLoss = .amount(1000)
        var w = try Self.opened(
            setup(
                followers: [Self.bob { _ in }, follower("carol", equity: 20_000) { $0.lotSize = 1000 }],
                providers: [alice]))
        #expect(w.orderLines() == ["1:10000", "1:20000"])
        w.mark("1.085")  // her -1 500
        w.tick(after: 100 * ms)
        #expect(w.breaker("provider:alice:daily-loss")?.tripped == true)
        let view = try #require(w.engine.providerView("alice"))
        #expect(view.state == .suspended && view.unrealisedPnL == -1500 && view.followers == ["bob", "carol"])
        w.providerFill(side: "1", qty: "100000", px: "1.085")
        #expect(w.orderLines() == ["1:10000", "1:20000"])
        #expect(w.decisions(.providerSuspended).filter { $0.followerID != nil }.map(\.followerID) == ["bob", "carol"])
        // Her reductions are still followed.
        w.providerFill(side: "2", qty: "100000", px: "1.085")
        #expect(w.orderLines() == ["1:10000", "1:20000", "2:5000", "2:10000"])
        // Reset: her next increase is copied again (what was missed follows CatchUp=none: not).
        w.command(.resetBreaker("alice"), actor: "ctl:ops", reason: "reviewed")
        #expect(w.engine.providerView("alice")?.state == .active)
        #expect(w.alerts.map(\.kind) == [.tripped, .reset])
        w.providerFill(side: "1", qty: "100000", px: "1.085")
        #expect(w.orderLines() == ["1:10000", "1:20000", "2:5000", "2:10000", "1:10000", "1:20000"])
    }

    @Test func aTrippedBreakerStaysTrippedAcrossRestartsUntilReset() throws {
        let limited = setup(followers: [Self.bob { $0.loss.dailyLoss = .amount(500) }])
        var w = try Self.opened(limited)
        w.mark("1.04")
        w.tick(after: 100 * ms)
        #expect(w.breaker("follower:bob:daily-loss")?.tripped == true)

        // The same configuration: replay derives the trip and the record confirms it.
        w.crashAndRecover()
        #expect(w.breaker("follower:bob:daily-loss")?.tripped == true)
        #expect(w.engine.followerView("bob")?.copying == .disabled)
        #expect(w.breakerRecords == ["follower:bob:daily-loss tripped"])

        // Without the limit in the configuration the record alone keeps it tripped.
        let unlimited = setup(followers: [Self.bob { _ in }])
        try w.restart(with: unlimited)
        let kept = try #require(w.breaker("follower:bob:daily-loss"))
        #expect(kept.tripped && !kept.configured && kept.reason == .dailyLossLimit)
        w.providerFill(side: "1", qty: "100000")
        #expect(w.orderLines() == ["1:10000"])

        // An explicit reset re-arms it, and that survives a restart too.
        w.broker.price = dec("1.04")
        w.command(.resetBreaker("follower:bob:daily-loss"), actor: "ctl:ops", reason: "approved")
        #expect(w.breaker("follower:bob:daily-loss")?.tripped == false)
        #expect(w.breakerRecords == ["follower:bob:daily-loss tripped", "follower:bob:daily-loss reset"])
        let command = w.journal.compactMap { r -> (String, String?)? in
            if case .command(.resetBreaker, _, let actor, let reason) = r { (actor, reason) } else { nil }
        }
        #expect(command.count == 1 && command[0].0 == "ctl:ops" && command[0].1 == "approved")
        try w.restart(with: limited)
        #expect(w.breaker("follower:bob:daily-loss")?.tripped == false)
        w.providerFill(side: "1", qty: "100000")
        #expect(w.engine.followerView("bob")?.copying == .active)
        #expect(w.position("bob") == 20_000)
    }

    @Test func aTripOnlyAStricterConfigurationFindsInReplayIsJournaledAtRecovery() throws {
        var w = try Self.opened(setup(followers: [Self.bob { _ in }]))
        w.mark("1.04")
        w.broker.price = dec("1.04")
        w.providerFill(side: "2", qty: "100000")  // his copy closes 600 down
        #expect(w.position("bob") == 0)
        #expect(w.breakerRecords.isEmpty)
        try w.restart(with: setup(followers: [Self.bob { $0.loss.dailyLoss = .amount(500) }]))
        #expect(w.breaker("follower:bob:daily-loss")?.tripped == true)
        #expect(w.breakerRecords == ["follower:bob:daily-loss tripped"])
        let recovery = try #require(w.journal.lastIndex { if case .recoveryComplete = $0 { true } else { false } })
        let record = try #require(w.journal.lastIndex { if case .breaker = $0 { true } else { false } })
        #expect(record > recovery)
    }
}

/// Losses count in the account currency: a USD/JPY loss in yen is not a loss in dollars.
@Suite("Loss protection in the account currency")
struct LossCurrencyTests {
    @Test func aYenLossIsConvertedBeforeItMeetsTheDollarLimit() throws {
        var w = try World(
            setup(followers: [LossProtectionTests.bob { $0.loss.dailyLoss = .amount(500) }]))
        w.allSessionsUp()
        w.broker.price = dec("150")
        w.mark("150", symbol: "USD/JPY")
        w.providerFill(side: "1", qty: "100000", px: "150", symbol: "USD/JPY")
        #expect(w.position("bob", "USD/JPY") == 10_000)
        // 10 000 × (145 − 150) = −50 000 JPY = −344.83 USD at 145: under the 500 USD limit.
        w.mark("145", symbol: "USD/JPY")
        w.tick(after: 100 * ms)
        #expect(w.breaker("follower:bob:daily-loss")?.tripped == false)
        // 10 000 × (140 − 150) = −100 000 JPY = −714.29 USD at 140: over it.
        w.mark("140", symbol: "USD/JPY")
        w.tick(after: 100 * ms)
        #expect(
            w.breaker("follower:bob:daily-loss")?.detail == "loss=714.29 bound=500 (DailyLossLimit=500)",
            "daily loss \(String(describing: w.engine.followerView("bob")?.dailyLoss))")
    }
}
