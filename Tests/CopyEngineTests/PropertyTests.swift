import FIXCore
import TestSupport
import Testing

@testable import CopyEngine

@Suite("Properties")
struct PropertyTests {
    /// Followers with different sizing, units and routing; each with the factor his target is
    /// expected to be (units of copy per unit of her position).
    static func configuration() -> (CopyEngineConfiguration, [(id: String, factor: FixedDecimal, lot: FixedDecimal)]) {
        var retrying = BrokerSessionConfig(name: "beta")
        retrying.retryLimit = 50
        var lots = BrokerSessionConfig(name: "gamma")
        lots.qtyUnit = .lots
        lots.retryLimit = 50
        lots.symbolMap = SymbolMapping(suffix: ".m", removeSlash: true)
        var blk = BrokerSessionConfig(name: "blk")
        blk.orderMode = .block
        blk.retryLimit = 50
        blk.blockAccount = "HOUSE"
        let followers = [
            follower("ratio", account: "R", equity: 10_000) {
                $0.sizing = .fixedRatio
                $0.ratio = dec("0.1")
                $0.lotSize = 1000
            },
            follower("equity", account: "E", equity: 37_000) { $0.lotSize = 100 },
            follower("reverse", account: "V", equity: 20_000) {
                $0.lotSize = 1000
                $0.reverse = true
            },
            follower("lots", account: "L", session: "gamma", equity: 15_000) { $0.lotSize = dec("0.01") },
            follower("b1", account: "B1", session: "blk", equity: 30_000) { $0.lotSize = 1000 },
            follower("b2", account: "B2", session: "blk", equity: 20_000) { $0.lotSize = 1000 },
            follower("b3", account: "B3", session: "blk", equity: 10_000) { $0.lotSize = 1000 },
        ]
        let expected: [(String, FixedDecimal, FixedDecimal)] = [
            ("ratio", dec("0.1"), 1000), ("equity", dec("0.37"), 100), ("reverse", dec("-0.2"), 1000),
            ("lots", dec("0.15"), 1000), ("b1", dec("0.3"), 1000), ("b2", dec("0.2"), 1000), ("b3", dec("0.1"), 1000),
        ]
        return (
            setup(followers: followers, sessions: [BrokerSessionConfig(name: "alpha"), retrying, lots, blk]),
            expected.map { (id: $0.0, factor: $0.1, lot: $0.2) }
        )
    }

    @Test(arguments: 0..<24)
    func randomFillSequencesEndAtTheSizedTarget(seed: UInt64) throws {
        let (config, expected) = Self.configuration()
        var w = try World(config)
        var rng = SplitMix64(seed: seed)
        let shapes = (0..<64).map { _ in Int.random(in: 0..<5, using: &rng) }
        w.broker.policy = { order, n in
            let step: FixedDecimal = order.session == "gamma" ? dec("0.01") : 1000
            let part = (order.quantity * dec("0.4")).rounded(toMultipleOf: step, .down)
            switch shapes[(n + order.clOrdID.utf8.count) % shapes.count] {
            case 0: return [.ack, .fill(nil)]
            case 1: return [.ack, .fill(part), .fill(nil)]
            case 2: return [.ack, .fill(part), .cancelRest]
            case 3: return [.ack, .cancelRest]
            default: return [.ack, .fill(step), .fill(part), .cancelRest]
            }
        }
        w.allSessionsUp()
        var her: FixedDecimal = 0
        for _ in 0..<Int.random(in: 4...14, using: &rng) {
            var side: Character = Bool.random(using: &rng) ? "1" : "2"
            if her.magnitude > 300_000 { side = her.isPositive ? "2" : "1" }
            let qty = FixedDecimal(Int.random(in: 1...250, using: &rng) * 1000)
            her += side == "1" ? qty : -qty
            w.providerFill(side: side, qty: qty.description)
            var guardrail = 0
            while w.engine.nextDeadline != nil && guardrail < 200 {
                w.tickToDeadline()
                guardrail += 1
            }
        }
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == her)
        for e in expected {
            let target = (her * e.factor).rounded(toMultipleOf: e.lot, .down)
            #expect(w.position(e.id) == target, "\(e.id): her \(her)")
            #expect(w.view(e.id)?.working ?? 0 == 0, "\(e.id)")
            #expect(w.engine.followerStatus(e.id) == .active)
        }
        #expect(w.broker.position("beta", "R", "EUR/USD") == w.position("ratio"))
        #expect(w.broker.position("gamma", "L", "EURUSD.m") * 100_000 == w.position("lots"))
        // Block orders: allocations never exceed what was filled, never what was asked.
        let blk = w.engine.sessions[w.engine.sessionIndex["blk"]!]
        for order in blk.orders {
            let allocated = order.allocations.reduce(FixedDecimal(0)) { $0 + $1.allocated }
            #expect(allocated <= order.cumQty)
            for a in order.allocations { #expect(a.allocated <= a.quantity) }
        }
        let house = w.broker.position("blk", "HOUSE", "EUR/USD")
        let followersTotal = w.position("b1") + w.position("b2") + w.position("b3")
        #expect(house == followersTotal)
        #expect(Set(w.sentClOrdIDs).count == w.sentClOrdIDs.count)
    }
}
