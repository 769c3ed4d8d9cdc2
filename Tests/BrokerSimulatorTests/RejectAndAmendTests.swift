import FIXCore
import Testing

@testable import BrokerSimulator

@Suite struct RejectTests {
    func reject(_ broker: inout SimulatedBroker, _ order: FIXMessage) throws -> FIXMessage {
        let out = messages(broker.received(order, on: client, at: at(0)))
        try #require(out.count == 1)
        #expect(out[0][FIXTag.execType] == "8")
        #expect(out[0][FIXTag.ordStatus] == "8")
        #expect(out[0][FIXTag.leavesQty] == "0")
        #expect(out[0][FIXTag.cumQty] == "0")
        #expect(out[0][FIXTag.text] != nil)
        return out[0]
    }

    @Test func maxOrderQty() throws {
        var broker = makeBroker(fill: SimFillModel(maxOrderQty: 50000))
        let er = try reject(&broker, newOrder("Q", qty: "50001"))
        #expect(er[FIXTag.ordRejReason] == "3")
        #expect(er[FIXTag.text] == "OrderQty 50001 exceeds MaxOrderQty 50000")
        #expect(execTypes(broker.received(newOrder("Q2", qty: "50000"), on: client, at: at(1))) == "0F")
    }

    @Test func unknownSymbol() throws {
        var broker = makeBroker()
        let er = try reject(&broker, newOrder("U", symbol: "GBP/CHF"))
        #expect(er[FIXTag.ordRejReason] == "1")
        #expect(er[FIXTag.orderID] == "T-1")
        #expect(broker.order(id: "T-1")?.status == .rejected)
    }

    @Test func insufficientMargin() throws {
        // 10,000 equity at 10:1 carries 100,000 of notional: about 92,000 EUR/USD at the 1.0851 mid.
        var broker = makeBroker(limits: SimAccountLimits(equity: 10000, leverage: 10))
        #expect(execTypes(broker.received(newOrder("M1", qty: "90000"), on: client, at: at(0))) == "0F")
        let er = try reject(&broker, newOrder("M2", qty: "10000"))
        #expect(er[FIXTag.ordRejReason] == "0")
        #expect(er[FIXTag.text]?.hasPrefix("Insufficient margin") == true)
        // Reducing the position needs no margin.
        #expect(execTypes(broker.received(newOrder("M3", side: "2", qty: "90000"), on: client, at: at(2))) == "0F")
    }

    @Test func marginCountsWorkingOrders() throws {
        var broker = makeBroker(limits: SimAccountLimits(equity: 10000, leverage: 10))
        #expect(
            execTypes(broker.received(newOrder("W1", qty: "90000", type: "2", price: "1.0700"), on: client, at: at(0)))
                == "0")
        let er = try reject(&broker, newOrder("W2", qty: "20000", type: "2", price: "1.0700"))
        #expect(er[FIXTag.ordRejReason] == "0")
    }

    @Test func sessionAccountLimitsOverrideTheBrokerDefault() throws {
        let rich = SimSessionConfiguration(account: "RICH", limits: SimAccountLimits(equity: 1_000_000, leverage: 30))
        var broker = makeBroker(sessions: [client2: rich], limits: SimAccountLimits(equity: 1, leverage: 1))
        #expect(execTypes(broker.received(newOrder("R1", account: nil), on: client2, at: at(0))) == "0F")
        let er = try reject(&broker, newOrder("R2", account: "POOR"))
        #expect(er[FIXTag.ordRejReason] == "0")
        // Without Account, a session block's limits apply to its TargetCompID.
        let limited = SimSessionConfiguration(limits: SimAccountLimits(equity: 1, leverage: 1))
        var other = makeBroker(sessions: [client: limited])
        #expect(try reject(&other, newOrder("R3", account: nil))[FIXTag.ordRejReason] == "0")
        #expect(execTypes(other.received(newOrder("R4", account: "ELSE"), on: client, at: at(1))) == "0F")
        #expect(other.configuration.limits(for: "CLIENT").equity == 1)
    }

    @Test func rejectProbability() throws {
        var always = makeBroker(fill: SimFillModel(rejectProbability: 1))
        let er = try reject(&always, newOrder("P"))
        #expect(er[FIXTag.ordRejReason] == "99")
        var sometimes = makeBroker(fill: SimFillModel(rejectProbability: dec("0.3")))
        var rejected = 0
        for i in 0..<50 where execTypes(sometimes.received(newOrder("S\(i)"), on: client, at: at(Int64(i)))) == "8" {
            rejected += 1
        }
        #expect(rejected > 3 && rejected < 30)
    }

    @Test func zeroQuantity() throws {
        var broker = makeBroker()
        #expect(try reject(&broker, newOrder("Z", qty: "0"))[FIXTag.ordRejReason] == "13")
    }

    @Test func unsupportedCharacteristicsAreRejectedUnbooked() throws {
        var broker = makeBroker()
        let badType = try reject(&broker, newOrder("T", type: "P"))
        #expect(badType[FIXTag.ordRejReason] == "11")
        #expect(badType[FIXTag.orderID] == "NONE")
        #expect(badType[FIXTag.ordType] == "P")
        #expect(try reject(&broker, newOrder("T2", tif: "6"))[FIXTag.text] == "Unsupported TimeInForce 6")
        #expect(try reject(&broker, newOrder("T3", side: "8"))[FIXTag.text] == "Unsupported Side 8")
        #expect(broker.orders.isEmpty)
    }

    @Test func duplicateClOrdIDOnALiveOrder() throws {
        var broker = makeBroker()
        _ = broker.received(newOrder("DUP", type: "2", price: "1.0800"), on: client, at: at(0))
        let er = try reject(&broker, newOrder("DUP"))
        #expect(er[FIXTag.ordRejReason] == "6")
        #expect(er[FIXTag.orderID] == "NONE")
        #expect(broker.order(id: "T-1")?.isLive == true)
        // The same ClOrdID on another session is another order.
        #expect(execTypes(broker.received(newOrder("DUP"), on: client2, at: at(1))) == "0F")
        // Once the first order is done, its ClOrdID may be used again.
        _ = broker.received(cancelRequest("DUP-C", orig: "DUP"), on: client, at: at(2))
        #expect(execTypes(broker.received(newOrder("DUP"), on: client, at: at(3))) == "0F")
    }

    @Test func aPossibleDuplicateOfAKnownOrderIsNotBookedTwice() throws {
        var broker = makeBroker()
        _ = broker.received(newOrder("PD"), on: client, at: at(0))
        let resent = inbound(
            "D", seq: 3,
            [
                (FIXTag.clOrdID, "PD"), (FIXTag.account, "ACC"), (FIXTag.symbol, "EUR/USD"), (FIXTag.side, "1"),
                (FIXTag.orderQty, "100000"), (FIXTag.ordType, "1"),
            ],
            header: [(FIXTag.possDupFlag, "Y"), (FIXTag.origSendingTime, t0.description)])
        let out = messages(broker.received(resent, on: client, at: at(1)))
        #expect(out.map { $0[FIXTag.execType] } == ["I"])
        #expect(out.first?[FIXTag.ordStatus] == "2")
        #expect(broker.orders.count == 1)
        #expect(broker.position(account: "ACC", symbol: "EUR/USD").quantity == 100_000)
        // A possible duplicate the broker never saw is a new order.
        let unseen = inbound(
            "D", seq: 4,
            [
                (FIXTag.clOrdID, "PD2"), (FIXTag.symbol, "EUR/USD"), (FIXTag.side, "1"), (FIXTag.orderQty, "1000"),
                (FIXTag.ordType, "1"),
            ],
            header: [(FIXTag.possResend, "Y")])
        #expect(execTypes(broker.received(unseen, on: client, at: at(2))) == "0F")
    }

    @Test func missingRequiredFieldGetsBusinessMessageReject() throws {
        var broker = makeBroker()
        let order = inbound(
            "D", seq: 9,
            [(FIXTag.clOrdID, "NQ"), (FIXTag.symbol, "EUR/USD"), (FIXTag.side, "1"), (FIXTag.ordType, "1")])
        let out = messages(broker.received(order, on: client, at: at(0)))
        try #require(out.count == 1)
        #expect(out[0].msgType == "j")
        #expect(out[0][FIXTag.businessRejectReason] == "5")
        #expect(out[0][FIXTag.refSeqNum] == "9")
        #expect(out[0][FIXTag.refMsgType] == "D")
        #expect(out[0][FIXTag.businessRejectRefID] == "NQ")
        #expect(out[0][FIXTag.text] == "tag 38 is missing")
        let limitWithoutPrice = messages(broker.received(newOrder("NP", type: "2"), on: client, at: at(1)))
        #expect(limitWithoutPrice.first?[FIXTag.text] == "tag 44 is missing")
    }

    @Test func unsupportedMessageTypeInBrokerMode() throws {
        var broker = makeBroker()
        let out = messages(broker.received(inbound("R", [(131, "Q1")]), on: client, at: at(0)))
        #expect(out.first?[FIXTag.businessRejectReason] == "3")
        #expect(out.first?[FIXTag.text] == "Unsupported Message Type")
        // Session-level messages are not the application's business.
        #expect(broker.received(inbound("0", []), on: client, at: at(1)).isEmpty)
    }
}

@Suite struct CancelReplaceTests {
    @Test func cancelALiveOrder() throws {
        var broker = makeBroker()
        _ = broker.received(newOrder("O1", type: "2", price: "1.0800"), on: client, at: at(0))
        let out = messages(broker.received(cancelRequest("O1-C", orig: "O1"), on: client, at: at(5)))
        try #require(out.count == 1)
        #expect(out[0][FIXTag.execType] == "4")
        #expect(out[0][FIXTag.ordStatus] == "4")
        #expect(out[0][FIXTag.clOrdID] == "O1-C")
        #expect(out[0][FIXTag.origClOrdID] == "O1")
        #expect(out[0][FIXTag.orderID] == "T-1")
        #expect(out[0][FIXTag.leavesQty] == "0")
        // A later cross no longer fills it.
        #expect(try broker.setQuote("EUR/USD", bid: dec("1.0700"), ask: dec("1.0702"), at: at(6)).isEmpty)
    }

    @Test func cancelByOrderIDAndDuringLatency() throws {
        var broker = makeBroker(fill: SimFillModel(latency: .fixed(20)))
        _ = broker.received(newOrder("O2"), on: client, at: at(0))
        #expect(
            execTypes(broker.received(cancelRequest("O2-C", orig: "WRONG", orderID: "T-1"), on: client, at: at(5)))
                == "4")
        #expect(broker.advance(to: at(100)).isEmpty)
        #expect(broker.fills.isEmpty)
    }

    @Test func cancelRejects() throws {
        var broker = makeBroker()
        let unknown = try #require(
            messages(broker.received(cancelRequest("C1", orig: "NOPE"), on: client, at: at(0))).first)
        #expect(unknown.msgType == "9")
        #expect(unknown[102] == "1")
        #expect(unknown[434] == "1")
        #expect(unknown[FIXTag.orderID] == "NONE")
        #expect(unknown[FIXTag.clOrdID] == "C1")
        #expect(unknown[FIXTag.origClOrdID] == "NOPE")

        _ = broker.received(newOrder("F1"), on: client, at: at(1))
        let late = try #require(
            messages(broker.received(cancelRequest("F1-C", orig: "F1"), on: client, at: at(2))).first)
        #expect(late.msgType == "9")
        #expect(late[102] == "0")
        #expect(late[FIXTag.ordStatus] == "2")
        #expect(late[FIXTag.orderID] == "T-1")

        // Another session's order is unknown here.
        _ = broker.received(newOrder("W1", type: "2", price: "1.0800"), on: client2, at: at(3))
        #expect(messages(broker.received(cancelRequest("X", orig: "W1"), on: client, at: at(4))).first?[102] == "1")

        _ = broker.received(newOrder("W2", type: "2", price: "1.0800"), on: client, at: at(5))
        _ = broker.received(newOrder("W3", type: "2", price: "1.0800"), on: client, at: at(6))
        let duplicate = try #require(
            messages(broker.received(cancelRequest("W3", orig: "W2"), on: client, at: at(7))).first)
        #expect(duplicate[102] == "6")
    }

    @Test func replaceQuantityAndPrice() throws {
        var broker = makeBroker()
        _ = broker.received(newOrder("R1", type: "2", price: "1.0800"), on: client, at: at(0))
        let out = messages(
            broker.received(replaceRequest("R2", orig: "R1", qty: "50000", price: "1.0810"), on: client, at: at(1)))
        try #require(out.count == 1)
        #expect(out[0][FIXTag.execType] == "5")
        #expect(out[0][FIXTag.ordStatus] == "0")
        #expect(out[0][FIXTag.clOrdID] == "R2")
        #expect(out[0][FIXTag.origClOrdID] == "R1")
        #expect(out[0][FIXTag.orderQty] == "50000")
        #expect(out[0][FIXTag.price] == "1.0810")
        #expect(out[0][FIXTag.leavesQty] == "50000")
        // Repriced through the market: it fills, reported under the new ClOrdID without OrigClOrdID.
        let fills = messages(
            broker.received(replaceRequest("R3", orig: "R2", qty: "50000", price: "1.0860"), on: client, at: at(2)))
        #expect(fills.map { $0[FIXTag.execType] } == ["5", "F"])
        #expect(fills[1][FIXTag.clOrdID] == "R3")
        #expect(fills[1][FIXTag.origClOrdID] == nil)
        #expect(fills[1][FIXTag.lastQty] == "50000")
    }

    @Test func replaceAPartiallyFilledOrder() throws {
        var broker = makeBroker(fill: SimFillModel(latency: .fixed(10), partialFills: 2))
        _ = broker.received(newOrder("P1", qty: "1000", type: "2", price: "1.0860"), on: client, at: at(0))
        _ = broker.advance(to: at(10))
        let replaced = try #require(
            messages(
                broker.received(replaceRequest("P2", orig: "P1", qty: "800", price: "1.0860"), on: client, at: at(12))
            ).first)
        #expect(replaced[FIXTag.ordStatus] == "1")
        #expect(replaced[FIXTag.cumQty] == "500")
        #expect(replaced[FIXTag.leavesQty] == "300")
        let last = try #require(messages(broker.advance(to: at(22))).first)
        #expect(last[FIXTag.lastQty] == "300")
        #expect(last[FIXTag.ordStatus] == "2")
        // Reducing to the filled quantity completes the order.
        var other = makeBroker(fill: SimFillModel(latency: .fixed(10), partialFills: 2))
        _ = other.received(newOrder("Q1", qty: "1000", type: "2", price: "1.0860"), on: client, at: at(0))
        _ = other.advance(to: at(10))
        let done = try #require(
            messages(
                other.received(replaceRequest("Q2", orig: "Q1", qty: "500", price: "1.0860"), on: client, at: at(11))
            ).first)
        #expect(done[FIXTag.ordStatus] == "2")
        #expect(done[FIXTag.leavesQty] == "0")
        #expect(other.advance(to: at(100)).isEmpty)
    }

    @Test func replaceRejects() throws {
        var broker = makeBroker(fill: SimFillModel(latency: .fixed(10), partialFills: 2))
        _ = broker.received(newOrder("A", qty: "1000", type: "2", price: "1.0860"), on: client, at: at(0))
        _ = broker.advance(to: at(10))
        let below = try #require(
            messages(
                broker.received(replaceRequest("B", orig: "A", qty: "400", price: "1.0860"), on: client, at: at(11))
            ).first)
        #expect(below.msgType == "9")
        #expect(below[434] == "2")
        #expect(below[FIXTag.ordStatus] == "1")
        let side = try #require(
            messages(broker.received(replaceRequest("C", orig: "A", qty: "1000", side: "2"), on: client, at: at(12)))
                .first)
        #expect(side.msgType == "9")
        #expect(side[FIXTag.text] == "Side cannot change (1 to 2)")
        _ = broker.advance(to: at(20))
        let late = try #require(
            messages(broker.received(replaceRequest("D", orig: "A", qty: "2000"), on: client, at: at(21))).first)
        #expect(late[102] == "0")
    }
}

@Suite struct StatusTests {
    @Test func orderStatusRequest() throws {
        var broker = makeBroker()
        _ = broker.received(newOrder("S1", type: "2", price: "1.0800"), on: client, at: at(0))
        let request = inbound(
            "H", [(FIXTag.clOrdID, "S1"), (790, "REQ-1"), (FIXTag.symbol, "EUR/USD"), (FIXTag.side, "1")])
        let er = try #require(messages(broker.received(request, on: client, at: at(1))).first)
        #expect(er[FIXTag.execType] == "I")
        #expect(er[FIXTag.ordStatus] == "0")
        #expect(er[FIXTag.orderID] == "T-1")
        #expect(er[FIXTag.leavesQty] == "100000")
        #expect(er[790] == "REQ-1")

        let unknown = inbound("H", [(FIXTag.clOrdID, "NOPE"), (FIXTag.symbol, "EUR/USD"), (FIXTag.side, "1")])
        let none = try #require(messages(broker.received(unknown, on: client, at: at(2))).first)
        #expect(none[FIXTag.execType] == "I")
        #expect(none[FIXTag.ordStatus] == "8")
        #expect(none[FIXTag.ordRejReason] == "5")
        #expect(none[FIXTag.orderID] == "NONE")
    }

    @Test func massStatusReportsLiveOrders() throws {
        var broker = makeBroker()
        _ = broker.received(newOrder("L1", type: "2", price: "1.0800"), on: client, at: at(0))
        _ = broker.received(newOrder("F1"), on: client, at: at(1))
        _ = broker.received(newOrder("L2", side: "2", type: "2", price: "1.0900"), on: client, at: at(2))
        _ = broker.received(newOrder("OTHER", type: "2", price: "1.0800"), on: client2, at: at(3))
        let request = inbound("AF", [(584, "M1"), (585, "7")])
        let out = messages(broker.received(request, on: client, at: at(4)))
        #expect(out.map { $0[FIXTag.clOrdID] } == ["L1", "L2"])
        #expect(out.map { $0[911] } == ["2", "2"])
        #expect(out.map { $0[912] } == ["N", "Y"])
        #expect(out.allSatisfy { $0[584] == "M1" && $0[FIXTag.execType] == "I" })

        let bySide = messages(
            broker.received(inbound("AF", [(584, "M2"), (585, "7"), (FIXTag.side, "2")]), on: client, at: at(5)))
        #expect(bySide.map { $0[FIXTag.clOrdID] } == ["L2"])

        let empty = messages(
            broker.received(
                inbound("AF", [(584, "M3"), (585, "1"), (FIXTag.symbol, "USD/JPY")]), on: client, at: at(6)))
        #expect(empty.count == 1)
        #expect(empty[0][911] == "0")
        #expect(empty[0][912] == "Y")
        #expect(empty[0][FIXTag.orderID] == "NONE")
    }
}
