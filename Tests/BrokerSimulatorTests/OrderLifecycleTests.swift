import FIXCore
import Testing

@testable import BrokerSimulator

@Suite struct OrderLifecycleTests {
    @Test func marketOrderIsAcknowledgedAndFilledAtTheAsk() throws {
        var broker = makeBroker()
        let out = decoded(broker.received(newOrder("A1"), on: client, at: at(0)))
        try #require(out.count == 2)
        #expect(out.allSatisfy { $0.0 == client })
        let (ack, fill) = (out[0].1, out[1].1)
        #expect(ack.msgType == "8")
        #expect(ack[FIXTag.execType] == "0")
        #expect(ack[FIXTag.ordStatus] == "0")
        #expect(ack[FIXTag.leavesQty] == "100000")
        #expect(ack[FIXTag.cumQty] == "0")
        #expect(ack[FIXTag.lastQty] == nil)
        #expect(fill[FIXTag.execType] == "F")
        #expect(fill[FIXTag.ordStatus] == "2")
        #expect(fill[FIXTag.lastQty] == "100000")
        #expect(fill[FIXTag.lastPx] == "1.0852")
        #expect(fill[FIXTag.avgPx] == "1.0852")
        #expect(fill[FIXTag.cumQty] == "100000")
        #expect(fill[FIXTag.leavesQty] == "0")
        for m in [ack, fill] {
            #expect(m[FIXTag.orderID] == "T-1")
            #expect(m[FIXTag.clOrdID] == "A1")
            #expect(m[FIXTag.account] == "ACC")
            #expect(m[FIXTag.symbol] == "EUR/USD")
            #expect(m[FIXTag.side] == "1")
            #expect(m[FIXTag.orderQty] == "100000")
            #expect(m[FIXTag.transactTime] == "20260302-09:00:00.000")
        }
        #expect(ack[FIXTag.execID] != fill[FIXTag.execID])
        #expect(broker.position(account: "ACC", symbol: "EUR/USD").quantity == 100_000)
    }

    @Test func sellFillsAtTheBidAndAccountDefaultsToTheSession() throws {
        var broker = makeBroker()
        let out = messages(broker.received(newOrder("S1", side: "2", account: nil), on: client, at: at(0)))
        try #require(out.count == 2)
        #expect(out[1][FIXTag.lastPx] == "1.0850")
        #expect(out[1][FIXTag.account] == "CLIENT")
        #expect(broker.position(account: "CLIENT", symbol: "EUR/USD").quantity == -100_000)
    }

    @Test func execIDsAreUniqueAcrossOrdersAndSessions() {
        var broker = makeBroker()
        var ids: [String] = []
        for i in 0..<20 {
            let session = i % 2 == 0 ? client : client2
            ids += messages(broker.received(newOrder("C\(i)"), on: session, at: at(Int64(i)))).compactMap {
                $0[FIXTag.execID]
            }
        }
        #expect(ids.count == 40)
        #expect(Set(ids).count == 40)
    }

    @Test func fixedLatencyDelaysTheFillToItsOwnInstant() throws {
        var broker = makeBroker(fill: SimFillModel(latency: .fixed(5)))
        #expect(execTypes(broker.received(newOrder("L1"), on: client, at: at(0))) == "0")
        #expect(broker.nextWakeUp == at(5))
        #expect(broker.advance(to: at(4)).isEmpty)
        // Advancing late still executes at the scheduled instant.
        let out = messages(broker.advance(to: at(50)))
        try #require(out.count == 1)
        #expect(out[0][FIXTag.execType] == "F")
        #expect(out[0][FIXTag.transactTime] == at(5).description)
    }

    @Test func latencyRangeStaysWithinBounds() throws {
        var broker = makeBroker(fill: SimFillModel(latency: SimLatency(minimumMs: 2, maximumMs: 20)))
        var delays: Set<Int64> = []
        for i in 0..<40 {
            let sent = at(Int64(i) * 1000)
            _ = broker.received(newOrder("R\(i)"), on: client, at: sent)
            let wake = try #require(broker.nextWakeUp)
            let delay = (wake.nanosecondsSinceEpoch - sent.nanosecondsSinceEpoch) / 1_000_000
            #expect(delay >= 2 && delay <= 20)
            delays.insert(delay)
            #expect(execTypes(broker.advance(to: wake)) == "F")
        }
        #expect(delays.count > 5)
    }

    @Test func marketOrderSlipsWhenThePriceMovesDuringLatency() throws {
        var broker = makeBroker(fill: SimFillModel(latency: .fixed(10)))
        _ = broker.received(newOrder("M1"), on: client, at: at(0))
        #expect(try broker.setQuote("EUR/USD", bid: dec("1.0860"), ask: dec("1.0862"), at: at(3)).isEmpty)
        let fill = try #require(messages(broker.advance(to: at(10))).first)
        #expect(fill[FIXTag.lastPx] == "1.0862")
    }

    @Test func partialFillsArriveInSlicesWithTheirOwnPrices() throws {
        var broker = makeBroker(fill: SimFillModel(latency: .fixed(5), partialFills: 3))
        _ = broker.received(newOrder("P1", qty: "100000"), on: client, at: at(0))
        let first = messages(broker.advance(to: at(5)))
        _ = try broker.setQuote("EUR/USD", bid: dec("1.0853"), ask: dec("1.0855"), at: at(7))
        let second = messages(broker.advance(to: at(10)))
        let third = messages(broker.advance(to: at(15)))
        let slices = try [first, second, third].map { try #require($0.first) }
        #expect(slices.map { $0[FIXTag.lastQty] } == ["33333", "33333", "33334"])
        #expect(slices.map { $0[FIXTag.ordStatus] } == ["1", "1", "2"])
        #expect(slices.map { $0[FIXTag.cumQty] } == ["33333", "66666", "100000"])
        #expect(slices.map { $0[FIXTag.leavesQty] } == ["66667", "33334", "0"])
        #expect(slices.map { $0[FIXTag.lastPx] } == ["1.0852", "1.0855", "1.0855"])
        // (33333 × 1.0852 + 66667 × 1.0855) / 100000, exactly.
        #expect(slices[2][FIXTag.avgPx] == "1.085400001")
        #expect(broker.nextWakeUp == nil)
    }

    @Test func partialFillProbabilityDecidesPerOrder() {
        var never = makeBroker(fill: SimFillModel(partialFills: 4, partialFillProbability: 0))
        var sometimes = makeBroker(fill: SimFillModel(partialFills: 2, partialFillProbability: dec("0.5")))
        var sliced = 0
        for i in 0..<40 {
            #expect(execTypes(never.received(newOrder("N\(i)"), on: client, at: at(Int64(i)))) == "0F")
            let types = execTypes(sometimes.received(newOrder("S\(i)"), on: client, at: at(Int64(i))))
            #expect(types == "0F" || types == "0FF")
            if types == "0FF" { sliced += 1 }
        }
        #expect(sliced > 5 && sliced < 35)
    }

    @Test func limitOrderRestsUntilThePriceCrossesIt() throws {
        var broker = makeBroker()
        #expect(
            execTypes(broker.received(newOrder("L1", type: "2", price: "1.0840", tif: "1"), on: client, at: at(0)))
                == "0")
        #expect(try broker.setQuote("EUR/USD", bid: dec("1.0839"), ask: dec("1.0841"), at: at(100)).isEmpty)
        let fill = try #require(
            messages(try broker.setQuote("EUR/USD", bid: dec("1.0836"), ask: dec("1.0838"), at: at(200))).first)
        #expect(fill[FIXTag.execType] == "F")
        #expect(fill[FIXTag.lastPx] == "1.0838")
        #expect(fill[FIXTag.price] == "1.0840")
        #expect(fill[FIXTag.transactTime] == at(200).description)
    }

    @Test func marketableLimitFillsAtTheQuoteNotWorseThanTheLimit() throws {
        var broker = makeBroker()
        let out = messages(
            broker.received(newOrder("L2", side: "2", type: "2", price: "1.0845"), on: client, at: at(0)))
        #expect(out.map { $0[FIXTag.lastPx] } == [nil, "1.0850"])
    }

    @Test func limitGoesBackToRestingWhenThePriceMovesAwayDuringLatency() throws {
        var broker = makeBroker(fill: SimFillModel(latency: .fixed(10)))
        _ = broker.received(newOrder("L3", type: "2", price: "1.0852"), on: client, at: at(0))
        _ = try broker.setQuote("EUR/USD", bid: dec("1.0860"), ask: dec("1.0862"), at: at(5))
        #expect(broker.advance(to: at(10)).isEmpty)
        #expect(broker.order(id: "T-1")?.status == .new)
        _ = try broker.setQuote("EUR/USD", bid: dec("1.0849"), ask: dec("1.0851"), at: at(20))
        let fill = try #require(messages(broker.advance(to: at(30))).first)
        #expect(fill[FIXTag.lastPx] == "1.0851")
    }

    @Test func buyStopTriggersWhenTheAskReachesItAndFillsAtMarket() throws {
        var broker = makeBroker()
        #expect(
            execTypes(broker.received(newOrder("ST", type: "3", stop: "1.0860", tif: "1"), on: client, at: at(0)))
                == "0")
        #expect(try broker.setQuote("EUR/USD", bid: dec("1.0857"), ask: dec("1.0859"), at: at(10)).isEmpty)
        let fill = try #require(
            messages(try broker.setQuote("EUR/USD", bid: dec("1.0861"), ask: dec("1.0863"), at: at(20))).first)
        #expect(fill[FIXTag.lastPx] == "1.0863")
        #expect(fill[FIXTag.stopPx] == "1.0860")
    }

    @Test func sellStopTriggersOnTheBid() throws {
        var broker = makeBroker()
        _ = broker.received(newOrder("SS", side: "2", type: "3", stop: "1.0840"), on: client, at: at(0))
        let fill = try #require(
            messages(try broker.setQuote("EUR/USD", bid: dec("1.0838"), ask: dec("1.0840"), at: at(1))).first)
        #expect(fill[FIXTag.lastPx] == "1.0838")
    }

    @Test func stopLimitBecomesALimitOnceTriggered() throws {
        var broker = makeBroker()
        _ = broker.received(newOrder("SL", type: "4", price: "1.0865", stop: "1.0860"), on: client, at: at(0))
        // Triggered, but the ask jumps over the limit: it rests as a limit.
        #expect(try broker.setQuote("EUR/USD", bid: dec("1.0868"), ask: dec("1.0870"), at: at(1)).isEmpty)
        let fill = try #require(
            messages(try broker.setQuote("EUR/USD", bid: dec("1.0862"), ask: dec("1.0864"), at: at(2))).first)
        #expect(fill[FIXTag.lastPx] == "1.0864")
    }

    /// Every order type with every time in force, marketable and not.
    @Test(arguments: ["0", "1", "3", "4"])
    func orderTypeAndTimeInForceMatrix(tif: String) throws {
        let immediate = tif == "3" || tif == "4"
        let restingOutcome = immediate ? "04" : "0"
        let cases: [(String, String?, String?, String)] = [
            ("1", nil, nil, "0F"),  // market
            ("2", "1.0852", nil, "0F"),  // limit at the ask: marketable
            ("2", "1.0800", nil, restingOutcome),  // limit below the market
            ("3", nil, "1.0852", "0F"),  // buy stop at the ask: triggers at once
            ("3", nil, "1.0900", restingOutcome),  // buy stop above the market
        ]
        for (n, (type, price, stop, expected)) in cases.enumerated() {
            var broker = makeBroker()
            let out = broker.received(
                newOrder("X\(n)", type: type, price: price, stop: stop, tif: tif), on: client, at: at(0))
            #expect(execTypes(out) == expected, "OrdType \(type) TIF \(tif)")
            let last = try #require(messages(out).last)
            #expect(last[FIXTag.timeInForce] == tif)
            if expected == "04" {
                #expect(last[FIXTag.ordStatus] == "4")
                #expect(last[FIXTag.leavesQty] == "0")
                #expect(last[FIXTag.text] != nil)
            }
        }
    }

    @Test func dayOrdersExpireAtDayEndAndGTCOrdersStay() throws {
        // Day end at 17:00 UTC; t0 is 09:00.
        var broker = makeBroker(dayEnd: 17 * 3_600_000_000_000)
        _ = broker.received(newOrder("DAY", type: "2", price: "1.0800", tif: "0"), on: client, at: at(0))
        _ = broker.received(newOrder("GTC", type: "2", price: "1.0800", tif: "1"), on: client, at: at(1))
        #expect(broker.nextWakeUp == UTCTimestamp(year: 2026, month: 3, day: 2, hour: 17))
        let out = messages(broker.advance(to: UTCTimestamp(year: 2026, month: 3, day: 3, hour: 9)!))
        try #require(out.count == 1)
        #expect(out[0][FIXTag.clOrdID] == "DAY")
        #expect(out[0][FIXTag.execType] == "C")
        #expect(out[0][FIXTag.ordStatus] == "C")
        #expect(out[0][FIXTag.transactTime] == "20260302-17:00:00.000")
        #expect(broker.order(id: "T-2")?.status == .new)
        #expect(broker.nextWakeUp == UTCTimestamp(year: 2026, month: 3, day: 3, hour: 17))
    }

    @Test func iocKeepsItsFirstSliceAndCancelsTheRest() throws {
        var broker = makeBroker(fill: SimFillModel(partialFills: 4))
        let out = messages(broker.received(newOrder("IOC", qty: "1000", tif: "3"), on: client, at: at(0)))
        #expect(out.map { $0[FIXTag.execType] } == ["0", "F", "4"])
        #expect(out[1][FIXTag.lastQty] == "250")
        #expect(out[2][FIXTag.ordStatus] == "4")
        #expect(out[2][FIXTag.cumQty] == "250")
        #expect(out[2][FIXTag.leavesQty] == "0")
        #expect(broker.position(account: "ACC", symbol: "EUR/USD").quantity == 250)
    }

    @Test func fokIsAllOrNothing() throws {
        var sliced = makeBroker(fill: SimFillModel(partialFills: 4))
        let killed = messages(sliced.received(newOrder("FOK", qty: "1000", tif: "4"), on: client, at: at(0)))
        #expect(killed.map { $0[FIXTag.execType] } == ["0", "4"])
        #expect(killed[1][FIXTag.cumQty] == "0")
        #expect(sliced.position(account: "ACC", symbol: "EUR/USD").quantity == 0)
        var whole = makeBroker()
        let filled = messages(whole.received(newOrder("FOK", qty: "1000", tif: "4"), on: client, at: at(0)))
        #expect(filled.map { $0[FIXTag.lastQty] } == [nil, "1000"])
    }
}
