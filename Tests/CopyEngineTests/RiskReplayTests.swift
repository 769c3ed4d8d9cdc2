import FIXCore
import Testing

@testable import CopyEngine

@Suite("Risk decisions replay")
struct RiskReplayTests {
    /// Marks move on every step and most ticks change nothing (neither is journaled); loss
    /// breakers, peaks, limits and suspicious-activity checks must still replay to the same
    /// decisions, alerts and fills, and the same breaker states.
    @Test(arguments: [1, 7, 42])
    func riskDecisionsReplayExactly(seed: UInt64) throws {
        var alice = ProviderConfig(
            providerID: "alice", sessionName: "alpha", account: "ALICE-01", equity: .fixed(100_000))
        alice.maxFillSizeMultiple = 25
        alice.fillSizeMinHistory = 5
        alice.loss.maxDrawdownPct = 8
        var beta = BrokerSessionConfig(name: "beta")
        beta.rejectStormCount = 2
        beta.rejectStormWindowMs = 2_000
        beta.breakerCooldownMs = 3_000
        beta.retryBackoffMs = 50
        let configuration = setup(
            followers: [
                follower("bob", account: "BOB-07", equity: 10_000) {
                    $0.lotSize = 1000
                    $0.loss.dailyLoss = .amount(150)
                    $0.maxOrderNotional = 30_000
                },
                follower("carol", equity: 20_000) {
                    $0.lotSize = 1000
                    $0.loss.maxDrawdownPct = 1
                    $0.drawdownAction = .closeAll
                    $0.maxLeverage = 3
                    $0.exceedPolicy = .skip
                    $0.catchUp = .market
                },
                follower("dave", equity: 30_000) {
                    $0.lotSize = 1000
                    $0.loss.dailyLoss = .percent(1)
                    $0.dailyLossAction = .closeOnly
                    $0.maxOpenPositions = 1
                },
            ],
            providers: [alice], sessions: [BrokerSessionConfig(name: "alpha"), beta])
        var w = try World(configuration)
        var rng = seed
        func next(_ n: UInt64) -> Int {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((rng >> 33) % n)
        }
        w.broker.policy = { _, n in n % 9 == 4 ? [.reject("busy")] : [.ack, .fill(nil)] }
        w.allSessionsUp()
        var px = [1_1000, 1_3000]  // in 1/10 000
        let symbols = ["EUR/USD", "GBP/USD"]
        for step in 0..<400 {
            for (i, symbol) in symbols.enumerated() {
                px[i] += next(41) - 20
                w.send(
                    .mark(
                        symbol: symbol, bid: FixedDecimal(mantissa: Int128(px[i] - 1), scale: 4),
                        ask: FixedDecimal(mantissa: Int128(px[i] + 1), scale: 4), at: w.advance(10 * ms)))
            }
            w.tick(after: Int64(next(150)) * ms)
            if next(10) == 0 {
                let i = next(2)
                w.broker.price = FixedDecimal(mantissa: Int128(px[i]), scale: 4)
                let qty = [10_000, 20_000, 50_000, 300_000][next(4)]
                w.providerFill(
                    side: next(2) == 0 ? "1" : "2", qty: "\(qty)",
                    px: "\(FixedDecimal(mantissa: Int128(px[i]), scale: 4))",
                    symbol: symbols[i])
            }
            if step == 150 { w.command(.pauseFollower("dave"), actor: "ctl:ops") }
            if step == 200 { w.command(.resumeFollower("dave"), actor: "ctl:ops") }
            if step == 250 { w.command(.resetBreaker("carol"), actor: "ctl:ops", reason: "reviewed") }
            if step == 300 { w.command(.flattenFollower("bob"), actor: "ctl:ops") }
        }
        #expect(w.alerts.count > 0, "the scenario trips something")
        #expect(w.breakerRecords.count > 0)

        var fresh = try CopyEngine(configuration: configuration)
        _ = fresh.handle(.recoveryBegin(at: w.now))
        var decisions: [CopyDecision] = []
        var alerts: [RiskAlert] = []
        var fills: [FollowerFill] = []
        for record in w.journal {
            for action in fresh.handle(.replay(record)) {
                switch action {
                case .decision(let d): decisions.append(d)
                case .alert(let a): alerts.append(a)
                case .fill(let f): fills.append(f)
                case .journal, .send, .followerStateChanged, .sessionPhaseChanged: break
                }
            }
        }
        #expect(decisions == w.decisions)
        #expect(alerts == w.alerts)
        #expect(fills == w.fills)
        #expect(fresh.stateView().breakers == w.engine.stateView().breakers)
        for f in ["bob", "carol", "dave"] {
            for s in symbols {
                #expect(fresh.followerPosition(f, symbol: s) == w.engine.followerPosition(f, symbol: s))
            }
            #expect(fresh.followerView(f)?.copying == w.engine.followerView(f)?.copying)
            #expect(fresh.followerView(f)?.peakEquity == w.engine.followerView(f)?.peakEquity)
        }
    }
}
