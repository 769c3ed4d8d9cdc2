import FIXCore
import Testing

@testable import CopyEngine

@Suite("Risk limits per follower")
struct RiskLimitTests {
    /// Bob copies one to one (same equity as hers), lot 1 000, the market at 1.1.
    static func world(_ adjust: @escaping (inout FollowerConfig) -> Void) throws -> World {
        var w = try World(
            setup(followers: [
                follower("bob", account: "BOB-07", equity: 100_000) { f in
                    f.lotSize = 1000
                    adjust(&f)
                }
            ]))
        w.allSessionsUp()
        w.mark("1.1")
        return w
    }

    @Test func maxOrderNotionalClampSplitsTheOrder() throws {
        var w = try Self.world { $0.maxOrderNotional = 55_000 }
        w.providerFill(side: "1", qty: "100000")
        #expect(w.orderLines() == ["1:50000", "1:50000"])
        #expect(w.position("bob") == 100_000)
        let clamp = try #require(w.decisions(.clampedMaxOrderNotional).first)
        #expect(clamp.detail == "limit=MaxOrderNotional value=110000 bound=55000")
        #expect(clamp.followerID == "bob" && clamp.symbol == "EUR/USD" && clamp.quantity == 100_000)
        // Closing is split the same way, never refused.
        w.providerFill(side: "2", qty: "100000")
        #expect(w.orderLines() == ["1:50000", "1:50000", "2:50000", "2:50000"])
        #expect(w.position("bob") == 0)
    }

    @Test func maxOrderNotionalSkipDoesNotCopyTheIncreaseAndLaterReductionsScaleFromWhatWasCopied() throws {
        var w = try Self.world {
            $0.maxOrderNotional = 55_000
            $0.exceedPolicy = .skip
        }
        w.providerFill(side: "1", qty: "40000")
        #expect(w.orderLines() == ["1:40000"])
        w.providerFill(side: "1", qty: "60000")  // 60 000 × 1.1 = 66 000 > 55 000
        #expect(w.orderLines() == ["1:40000"])
        let skip = try #require(w.decisions(.exceedsMaxOrderNotional).first)
        #expect(skip.detail == "limit=MaxOrderNotional value=66000 bound=55000" && skip.quantity == 60_000)
        // She closes half: he follows half of what he copied.
        w.providerFill(side: "2", qty: "50000")
        #expect(w.orderLines() == ["1:40000", "2:20000"])
        #expect(w.position("bob") == 20_000)
    }

    @Test func maxPositionNotionalClampCapsThePositionAndReductionsBelowTheCapAreFollowed() throws {
        var w = try Self.world { $0.maxPositionNotional = 66_000 }
        w.providerFill(side: "1", qty: "100000")
        #expect(w.orderLines() == ["1:60000"])
        let clamp = try #require(w.decisions(.clampedMaxPositionNotional).first)
        #expect(clamp.detail == "limit=MaxPositionNotional value=110000 bound=66000")
        w.providerFill(side: "2", qty: "50000")  // target 50 000: below the cap
        #expect(w.orderLines() == ["1:60000", "2:10000"])
        #expect(w.position("bob") == 50_000)
    }

    @Test func maxPositionNotionalSkip() throws {
        var w = try Self.world {
            $0.maxPositionNotional = 66_000
            $0.exceedPolicy = .skip
        }
        w.providerFill(side: "1", qty: "50000")
        w.providerFill(side: "1", qty: "20000")  // 70 000 × 1.1 = 77 000 > 66 000
        #expect(w.orderLines() == ["1:50000"])
        #expect(
            w.decisions(.exceedsMaxPositionNotional).map(\.detail) == [
                "limit=MaxPositionNotional value=77000 bound=66000"
            ])
    }

    @Test func maxPositionQtySkipRefusesTheWholeIncrease() throws {
        var w = try Self.world {
            $0.maxPositionQty = 50_000
            $0.exceedPolicy = .skip
        }
        w.providerFill(side: "1", qty: "30000")
        w.providerFill(side: "1", qty: "30000")
        #expect(w.orderLines() == ["1:30000"])
        #expect(w.decisions(.exceedsMaxPosition).map(\.detail) == ["limit=MaxPositionQty value=60000 bound=50000"])
        // Clamp (the default) copies what fits instead.
        var c = try Self.world { $0.maxPositionQty = 50_000 }
        c.providerFill(side: "1", qty: "30000")
        c.providerFill(side: "1", qty: "30000")
        #expect(c.orderLines() == ["1:30000", "1:20000"])
    }

    @Test func maxOrderQtySkipAndLimitsReportQuantitiesInTheSessionUnit() throws {
        var beta = BrokerSessionConfig(name: "beta")
        beta.qtyUnit = .lots
        beta.contractSize = 100_000
        var w = try World(
            setup(
                followers: [
                    follower("bob", account: "BOB-07", equity: 100_000) { f in
                        f.lotSize = dec("0.01")
                        f.maxOrderQty = dec("0.5")
                        f.exceedPolicy = .skip
                    }
                ], sessions: [BrokerSessionConfig(name: "alpha"), beta]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "40000")
        w.providerFill(side: "1", qty: "60000")
        #expect(w.orderLines() == ["1:0.4"])
        #expect(w.decisions(.exceedsMaxOrder).map(\.detail) == ["limit=MaxOrderQty value=0.6 bound=0.5"])
    }

    @Test(arguments: ExceedPolicy.allCases)
    func maxOpenPositionsNeverOpensASymbolBeyondTheCount(policy: ExceedPolicy) throws {
        var w = try Self.world {
            $0.maxOpenPositions = 1
            $0.exceedPolicy = policy
        }
        w.mark("1.3", symbol: "GBP/USD")
        w.providerFill(side: "1", qty: "10000")
        w.providerFill(side: "1", qty: "10000", px: "1.3", symbol: "GBP/USD")
        #expect(w.orderLines() == ["1:10000"])
        let refused = try #require(w.decisions(.maxOpenPositions).first)
        #expect(refused.symbol == "GBP/USD" && refused.detail == "limit=MaxOpenPositions value=2 bound=1")
        // Once EUR/USD is closed, her next GBP/USD increase is copied (what he missed is not).
        w.providerFill(side: "2", qty: "10000")
        w.providerFill(side: "1", qty: "5000", px: "1.3", symbol: "GBP/USD")
        #expect(w.orderLines() == ["1:10000", "2:10000", "1:5000"])
        #expect(w.position("bob", "GBP/USD") == 5000)
    }

    @Test func maxLeverageClampHoldsGrossNotionalWithinEquityTimesLeverage() throws {
        var w = try World(
            setup(followers: [
                follower("bob", account: "BOB-07", equity: 10_000) { f in
                    f.lotSize = 1000
                    f.maxLeverage = 5
                }
            ]))
        w.allSessionsUp()
        w.mark("1.1")
        w.mark("1.25", symbol: "GBP/USD")
        // 100 000 of hers is 10 000 of his: 11 000 notional, within 50 000.
        w.providerFill(side: "1", qty: "100000")
        #expect(w.orderLines() == ["1:10000"])
        // 400 000 GBP/USD of hers is 40 000 of his: 50 000 notional; 39 000 more fit (48 750).
        w.broker.price = dec("1.25")
        w.providerFill(side: "1", qty: "400000", px: "1.25", symbol: "GBP/USD")
        #expect(w.orderLines() == ["1:10000", "1:31000"])
        let clamp = try #require(w.decisions(.clampedMaxLeverage).first)
        #expect(clamp.detail == "limit=MaxLeverage value=6.1 bound=5")
        #expect(w.position("bob", "GBP/USD") == 31_000)
    }

    @Test func maxLeverageSkipAndUnknownEquityBlocksIncreasesOnly() throws {
        var w = try World(
            setup(followers: [
                follower("bob", account: "BOB-07", equity: 10_000) { f in
                    f.lotSize = 1000
                    f.maxLeverage = 5
                    f.exceedPolicy = .skip
                }
            ]))
        w.allSessionsUp()
        w.mark("1.1")
        w.providerFill(side: "1", qty: "300000")
        w.providerFill(side: "1", qty: "300000")  // 60 000 × 1.1 = 66 000 > 50 000
        #expect(w.orderLines() == ["1:30000"])
        #expect(w.decisions(.exceedsMaxLeverage).map(\.detail) == ["limit=MaxLeverage value=6.6 bound=5"])

        // fixed-ratio sizing works without equity, but MaxLeverage needs it: increases wait for it.
        var u = try World(
            setup(followers: [
                follower("bob", account: "BOB-07") { f in
                    f.equity = .broker
                    f.sizing = .fixedRatio
                    f.ratio = dec("0.1")
                    f.lotSize = 1000
                    f.maxLeverage = 5
                }
            ]))
        u.allSessionsUp()
        u.mark("1.1")
        u.providerFill(side: "1", qty: "100000")
        #expect(u.orderLines().isEmpty)
        #expect(u.decisions(.equityUnknown).first?.detail == "limit=MaxLeverage")
        u.command(.setEquity(id: "bob", equity: 10_000))
        u.providerFill(side: "1", qty: "100000")
        #expect(u.orderLines() == ["1:20000"])
    }

    @Test func limitsWithoutAPriceBlockIncreases() throws {
        var w = try World(
            setup(followers: [
                follower("bob", account: "BOB-07", equity: 100_000) { f in
                    f.lotSize = 1000
                    f.maxOrderNotional = 1_000_000
                }
            ]))
        w.allSessionsUp()
        // Her fill without LastPx: no mark, no price of hers, nothing to value the order with.
        let p = w.configuration.providers[0]
        let noPrice = Reports.executionReport(
            execID: "NP1", account: p.account, symbol: "EUR/USD", side: "1", lastQty: 10_000, lastPx: nil, cumQty: nil,
            ordStatus: "2", execType: "F", clOrdID: "h-np", transactTime: w.now)
        w.send(.executionReport(session: "alpha", message: noPrice, receivedAt: w.advance()))
        #expect(w.orderLines().isEmpty)
        #expect(w.decisions(.noMark).first?.detail == "limit=MaxOrderNotional")
        // Once a price is known (hers), the whole target is copied.
        w.providerFill(side: "1", qty: "10000")
        #expect(w.orderLines() == ["1:20000"])
    }

    @Test func theGateNeverRefusesAReductionForWantOfPriceOrEquity() {
        var gate = RiskGate()
        let limits = RiskLimits(lotUnits: 1000, minUnits: 0, maxOrderUnits: 0, maxPositionUnits: 0)
        let account = AccountLimits(
            maxOrderNotional: 10_000, maxPositionNotional: 10_000, maxOpenPositions: 1, maxLeverage: 2)
        let context = RiskContext(
            followerID: "bob", symbol: "EUR/USD", limits: limits, exposure: 50_000, account: account, price: nil,
            equity: nil, otherGrossNotional: 1_000_000, otherOpenPositions: 5)
        #expect(gate.reviewOrder(-20_000, context: context) == RiskVerdict(quantity: -20_000))
        #expect(gate.reviewOrder(-50_000, context: context) == RiskVerdict(quantity: -50_000))
        // A reversal that leaves less exposure than before is a reduction for every limit.
        #expect(gate.reviewOrder(-60_000, context: context) == RiskVerdict(quantity: -60_000))
        // An increase cannot be valued: refused.
        #expect(gate.reviewOrder(10_000, context: context).reasons == [.noMark])
        #expect(gate.reviewOrder(-110_000, context: context).reasons == [.noMark])
    }
}
