import FIXCore
import Testing

@testable import CopyEngine

@Suite("Kill switches and breakers")
struct BreakerTests {
    static func bob(_ adjust: @escaping (inout FollowerConfig) -> Void = { _ in }) -> FollowerConfig {
        follower("bob", account: "BOB-07", equity: 10_000) { f in
            f.lotSize = 1000
            adjust(&f)
        }
    }

    static func alice(_ adjust: (inout ProviderConfig) -> Void = { _ in }) -> ProviderConfig {
        var p = ProviderConfig(providerID: "alice", sessionName: "alpha", account: "ALICE-01", equity: .fixed(100_000))
        adjust(&p)
        return p
    }

    static func live(_ configuration: CopyEngineConfiguration) throws -> World {
        var w = try World(configuration)
        w.allSessionsUp()
        w.mark("1.1")
        return w
    }

    // MARK: Provider kill switch

    @Test func disablingAProviderStopsHerIncreasesAtOnceAndEnablingCatchesUp() throws {
        var w = try Self.live(setup(followers: [Self.bob { $0.catchUp = .market }]))
        w.providerFill(side: "1", qty: "100000")
        w.command(.disableProvider("alice", flatten: false), actor: "ctl:ops", reason: "she is misbehaving")
        #expect(w.engine.providerView("alice")?.state == .disabled)
        w.providerFill(side: "1", qty: "100000")  // not copied
        #expect(w.orderLines() == ["1:10000"])
        #expect(w.decisions(.providerDisabled).contains { $0.followerID == "bob" && $0.quantity == 100_000 })
        w.providerFill(side: "2", qty: "50000")  // her reductions still are: he follows 100 000 of her 200 000
        #expect(w.orderLines() == ["1:10000", "2:3000"])
        #expect(w.check(.enableProvider("bob")) == .unknownProvider("bob"))
        w.command(.enableProvider("alice"))
        // CatchUp=market: the part he missed (her 150 000, he follows 75 000) is entered now.
        #expect(w.orderLines() == ["1:10000", "2:3000", "1:8000"])
        #expect(w.position("bob") == 15_000)
        #expect(w.engine.providerView("alice")?.state == .active)
    }

    @Test func disablingWithFlattenClosesEveryFollowersCopiesOfHerOnly() throws {
        let carolP = ProviderConfig(
            providerID: "carol", sessionName: "alpha", account: "CAROL-01", equity: .fixed(100_000))
        var w = try Self.live(
            setup(
                followers: [
                    Self.bob {
                        $0.providers = [ProviderLink(providerID: "alice"), ProviderLink(providerID: "carol")]
                    },
                    follower("dave", equity: 20_000) { $0.lotSize = 1000 },
                ],
                providers: [Self.alice(), carolP]))
        w.providerFill(provider: "alice", side: "1", qty: "100000")
        w.providerFill(provider: "carol", side: "1", qty: "50000")
        #expect(w.position("bob") == 15_000 && w.position("dave") == 20_000)
        w.command(.disableProvider("alice", flatten: true))
        // Bob keeps carol's part; dave copied alice only.
        #expect(w.position("bob") == 5_000 && w.position("dave") == 0)
        let flattened = w.decisions(.providerFlattened)
        #expect(flattened.map(\.followerID) == ["bob", "dave"])
        #expect(flattened.allSatisfy { $0.providerID == "alice" })
        #expect(w.engine.followerView("bob")?.copying == .active)
        // Her later close has nothing left to close.
        w.providerFill(provider: "alice", side: "2", qty: "100000")
        #expect(w.position("bob") == 5_000)
        #expect(w.orderLines().count == 5)
    }

    // MARK: Suspicious providers

    @Test func tooManyFillsInTheWindowSuspendHerBeforeTheFillIsCopied() throws {
        var w = try Self.live(
            setup(
                followers: [Self.bob()],
                providers: [
                    Self.alice {
                        $0.maxFillsPerWindow = 3
                        $0.fillWindowMs = 10_000
                    }
                ]))
        for _ in 0..<3 { w.providerFill(side: "1", qty: "10000") }
        #expect(w.position("bob") == 3_000)
        w.providerFill(side: "1", qty: "10000")
        #expect(w.position("bob") == 3_000)
        let b = try #require(w.breaker("provider:alice:suspicious"))
        #expect(b.tripped && b.reason == .suspiciousFillRate)
        #expect(b.detail == "fills=4 in 10000ms bound=3 (MaxFillsPerWindow)")
        #expect(w.alerts.map(\.reason) == [.suspiciousFillRate])
        #expect(w.engine.providerView("alice")?.state == .suspended)
        #expect(w.decisions(.providerSuspended).contains { $0.followerID == "bob" })
    }

    @Test func fillsSpreadOverTheWindowAreNotSuspicious() throws {
        var w = try Self.live(
            setup(
                followers: [Self.bob()],
                providers: [
                    Self.alice {
                        $0.maxFillsPerWindow = 3
                        $0.fillWindowMs = 10_000
                    }
                ]))
        for _ in 0..<6 {
            w.providerFill(side: "1", qty: "10000")
            _ = w.advance(4_000 * ms)
        }
        #expect(w.breaker("provider:alice:suspicious")?.tripped == false)
        #expect(w.position("bob") == 6_000)
    }

    @Test func aFillFarAboveHerUsualSizeSuspendsHer() throws {
        var w = try Self.live(
            setup(
                followers: [Self.bob()],
                providers: [
                    Self.alice {
                        $0.maxFillSizeMultiple = 5
                        $0.fillSizeMinHistory = 3
                    }
                ]))
        w.providerFill(side: "1", qty: "500000")  // too little history to judge
        for q in ["10000", "20000", "10000"] { w.providerFill(side: "1", qty: q) }
        // Median of 500 000, 10 000, 20 000, 10 000 is 15 000: 70 000 is within 5×, 80 000 is not.
        w.providerFill(side: "1", qty: "70000")
        #expect(w.breaker("provider:alice:suspicious")?.tripped == false)
        let before = w.position("bob")
        w.providerFill(side: "1", qty: "200000")
        #expect(w.position("bob") == before)
        let b = try #require(w.breaker("provider:alice:suspicious"))
        #expect(b.reason == .suspiciousFillSize)
        #expect(b.detail == "size=200000 median=20000 of 5 fills bound=100000 (MaxFillSizeMultiple=5)")
    }

    @Test func aSymbolOutsideHerBoundsSuspendsHer() throws {
        var w = try Self.live(
            setup(followers: [Self.bob()], providers: [Self.alice { $0.expectedSymbols = ["EUR*"] }]))
        w.providerFill(side: "1", qty: "10000", symbol: "EUR/GBP")
        w.providerFill(side: "1", qty: "10000", symbol: "BTC/USD")
        #expect(w.position("bob", "EUR/GBP") == 1_000 && w.position("bob", "BTC/USD") == 0)
        #expect(w.breaker("provider:alice:suspicious")?.detail == "symbol=BTC/USD not in ExpectedSymbols")

        var m = try Self.live(setup(followers: [Self.bob()], providers: [Self.alice { $0.maxSymbols = 2 }]))
        for symbol in ["EUR/USD", "GBP/USD", "EUR/USD", "USD/JPY"] {
            m.providerFill(side: "1", qty: "10000", symbol: symbol)
        }
        #expect(m.position("bob", "USD/JPY") == 0 && m.position("bob", "EUR/USD") == 2_000)
        #expect(m.breaker("provider:alice:suspicious")?.detail == "symbol=USD/JPY is number 3 bound=2 (MaxSymbols)")
    }

    @Test func suspiciousActionAlertOnlyWarnsAndKeepsCopying() throws {
        var w = try Self.live(
            setup(
                followers: [Self.bob()],
                providers: [
                    Self.alice {
                        $0.expectedSymbols = ["EUR/USD"]
                        $0.suspiciousAction = .alert
                    }
                ]))
        w.providerFill(side: "1", qty: "10000", symbol: "GBP/USD")
        #expect(w.position("bob", "GBP/USD") == 1_000)
        #expect(w.alerts.map(\.kind) == [.warning])
        #expect(w.alerts.first?.breaker == "provider:alice:suspicious")
        #expect(w.breaker("provider:alice:suspicious")?.tripped == false)
        #expect(w.breakerRecords.isEmpty)
    }

    // MARK: Broker breaker

    static func stormy(resume: BreakerResume) -> CopyEngineConfiguration {
        var beta = BrokerSessionConfig(name: "beta")
        beta.rejectStormCount = 3
        beta.rejectStormWindowMs = 10_000
        beta.retryLimit = 10
        beta.retryBackoffMs = 100
        beta.breakerResume = resume
        beta.breakerCooldownMs = 5_000
        return setup(
            followers: [Self.bob { $0.catchUp = .market }, follower("dave", equity: 20_000) { $0.lotSize = 1000 }],
            sessions: [BrokerSessionConfig(name: "alpha"), beta])
    }

    @Test func aRejectStormPausesRoutingToTheBrokerAndAutoResumesAfterTheCoolDown() throws {
        var w = try Self.live(Self.stormy(resume: .auto))
        w.broker.policy = { _, n in n < 3 ? [.reject("no liquidity")] : [.ack, .fill(nil)] }
        w.providerFill(side: "1", qty: "100000")  // two orders rejected
        w.tickToDeadline()  // one retry rejected: the third reject
        let b = try #require(w.breaker("broker:beta"))
        #expect(b.tripped && b.reason == .rejectStorm && b.detail == "rejects=3 in 10000ms bound=3")
        #expect(w.engine.followerView("bob")?.copying == .brokerPaused)
        #expect(w.engine.followerView("dave")?.trippedBreakers == ["broker:beta"])
        let sent = w.orders(on: "beta").count
        // Retries and new signals wait.
        w.tick(after: 1_000 * ms)
        w.providerFill(side: "1", qty: "100000")
        #expect(w.orders(on: "beta").count == sent)
        #expect(w.reasons("bob").contains(.brokerPaused))
        // The cool-down is the next deadline; then copying resumes (CatchUp=market for bob).
        let resume = try #require(w.breaker("broker:beta")?.resumesAt)
        #expect(w.engine.nextDeadline == resume)
        w.tickToDeadline()
        #expect(w.breaker("broker:beta")?.tripped == false)
        #expect(w.alerts.map(\.kind) == [.tripped, .reset])
        #expect(w.position("bob") == 20_000)
        #expect(w.position("dave") == 20_000, "dave (CatchUp=none) keeps the copy he got before the pause")
    }

    @Test func aManualBrokerBreakerWaitsForReset() throws {
        var w = try Self.live(Self.stormy(resume: .manual))
        w.broker.policy = { _, n in n < 3 ? [.reject("no liquidity")] : [.ack, .fill(nil)] }
        w.providerFill(side: "1", qty: "100000")
        w.tickToDeadline()
        #expect(w.breaker("broker:beta")?.tripped == true && w.breaker("broker:beta")?.resumesAt == nil)
        w.tick(after: 60_000 * ms)
        #expect(w.breaker("broker:beta")?.tripped == true)
        #expect(w.check(.resetBreaker("gamma")) == .unknownBreaker("gamma"))
        w.command(.resetBreaker("beta"), actor: "ctl:ops")
        #expect(w.breaker("broker:beta")?.tripped == false)
        #expect(w.position("bob") == 10_000 && w.position("dave") == 20_000)
    }

    @Test func aSessionDownPausesTheBrokerUntilTheSessionHasBeenUpForTheCoolDown() throws {
        var beta = BrokerSessionConfig(name: "beta")
        beta.sessionDownBreaker = true
        beta.breakerCooldownMs = 2_000
        var w = try Self.live(setup(followers: [Self.bob()], sessions: [BrokerSessionConfig(name: "alpha"), beta]))
        // An agent stop is not an outage.
        w.send(.sessionDown(session: "beta", at: w.advance(), planned: true))
        #expect(w.breaker("broker:beta")?.tripped == false)
        w.send(.sessionUp(session: "beta", at: w.advance()))
        w.send(.sessionDown(session: "beta", at: w.advance()))
        #expect(w.breaker("broker:beta")?.tripped == true && w.breaker("broker:beta")?.reason == .sessionDown)
        w.tick(after: 10_000 * ms)
        #expect(w.breaker("broker:beta")?.tripped == true, "no resume while the session is down")
        w.send(.sessionUp(session: "beta", at: w.advance()))
        w.providerFill(side: "1", qty: "100000")
        #expect(w.orderLines().isEmpty)
        w.tick(after: 1_000 * ms)
        #expect(w.breaker("broker:beta")?.tripped == true)
        w.tickToDeadline()
        #expect(w.breaker("broker:beta")?.tripped == false)
        // CatchUp=none (his default): what she did meanwhile is not entered; her next move is.
        #expect(w.orderLines().isEmpty)
        w.providerFill(side: "1", qty: "50000")
        #expect(w.orderLines() == ["1:5000"])
    }
}
