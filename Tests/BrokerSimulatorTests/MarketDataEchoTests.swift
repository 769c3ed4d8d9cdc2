import FIXCore
import Testing

@testable import BrokerSimulator

@Suite struct MarketDataTests {
    func request(_ id: String, type: String = "1", symbols: [String], updateType: String? = nil) -> FIXMessage {
        var fields: [(Int, String)] = [(262, id), (263, type), (264, "1")]
        if let updateType { fields.append((265, updateType)) }
        return inbound(
            "V", fields + [(267, "2"), (269, "0"), (269, "1"), (146, "\(symbols.count)")] + symbols.map { (55, $0) })
    }

    @Test func snapshotPerSymbol() throws {
        var broker = makeBroker()
        let out = messages(
            broker.received(request("MD1", type: "0", symbols: ["EUR/USD", "USD/JPY"]), on: client, at: at(0)))
        try #require(out.count == 2)
        #expect(out[0].msgType == "W")
        #expect(out[0][262] == "MD1")
        #expect(out[0][FIXTag.symbol] == "EUR/USD")
        #expect(out[0][268] == "2")
        #expect(out[0].values(of: 269) == ["0", "1"])
        #expect(out[0].values(of: 270) == ["1.0850", "1.0852"])
        #expect(out[0].values(of: 271) == ["1000000", "1000000"])
        #expect(out[1].values(of: 270) == ["151.20", "151.22"])
        // A snapshot request does not subscribe.
        #expect(try broker.setQuote("EUR/USD", bid: dec("1.0851"), ask: dec("1.0853"), at: at(1)).isEmpty)
    }

    @Test func unknownSymbolAndDuplicateRequestAreRejected() throws {
        var broker = makeBroker()
        let unknown = try #require(
            messages(broker.received(request("MD2", symbols: ["EUR/USD", "DOGE/USD"]), on: client, at: at(0))).first)
        #expect(unknown.msgType == "Y")
        #expect(unknown[262] == "MD2")
        #expect(unknown[281] == "0")
        #expect(unknown[FIXTag.text] == "Unknown symbol DOGE/USD")
        _ = broker.received(request("MD3", symbols: ["EUR/USD"]), on: client, at: at(1))
        let duplicate = try #require(
            messages(broker.received(request("MD3", symbols: ["USD/JPY"]), on: client, at: at(2))).first)
        #expect(duplicate[281] == "1")
    }

    @Test func subscriptionGetsIncrementalsUntilUnsubscribedOrLoggedOut() throws {
        var broker = makeBroker()
        #expect(
            messages(broker.received(request("S1", symbols: ["EUR/USD"]), on: client, at: at(0))).map(\.msgType) == [
                "W"
            ])
        _ = broker.received(request("S2", symbols: ["USD/JPY"]), on: client2, at: at(0))
        let out = decoded(try broker.setQuote("EUR/USD", bid: dec("1.0851"), ask: dec("1.0853"), at: at(1)))
        try #require(out.count == 1)
        #expect(out[0].0 == client)
        let x = out[0].1
        #expect(x.msgType == "X")
        #expect(x[262] == "S1")
        #expect(x.values(of: 279) == ["1", "1"])
        #expect(x.values(of: 269) == ["0", "1"])
        #expect(x.values(of: 55) == ["EUR/USD", "EUR/USD"])
        #expect(x.values(of: 270) == ["1.0851", "1.0853"])
        // An unchanged quote sends nothing.
        #expect(try broker.setQuote("EUR/USD", bid: dec("1.0851"), ask: dec("1.0853"), at: at(2)).isEmpty)
        _ = broker.received(request("S1", type: "2", symbols: ["EUR/USD"]), on: client, at: at(3))
        #expect(try broker.setQuote("EUR/USD", bid: dec("1.0852"), ask: dec("1.0854"), at: at(4)).isEmpty)
        #expect(
            try broker.setQuote("USD/JPY", bid: dec("151.30"), ask: dec("151.32"), at: at(5)).map(\.session) == [
                client2
            ])
        broker.sessionLoggedOut(client2)
        #expect(try broker.setQuote("USD/JPY", bid: dec("151.40"), ask: dec("151.42"), at: at(6)).isEmpty)
    }

    @Test func fullRefreshSubscriptionGetsSnapshots() throws {
        var broker = makeBroker()
        _ = broker.received(request("F1", symbols: ["EUR/USD"], updateType: "0"), on: client, at: at(0))
        let out = messages(try broker.setQuote("EUR/USD", bid: dec("1.0849"), ask: dec("1.0851"), at: at(1)))
        #expect(out.map(\.msgType) == ["W"])
        #expect(out.first?.values(of: 270) == ["1.0849", "1.0851"])
    }

    @Test func priceProcessMovesOnTheGridAndFeedsSubscribers() throws {
        var broker = makeBroker(priceTickMs: 100)
        _ = broker.received(request("P", symbols: ["EUR/USD", "USD/JPY"]), on: client, at: at(0))
        var previous = try #require(broker.quote(for: "EUR/USD"))
        var moves = 0
        var incrementals = 0
        for step in 1...200 {
            let out = messages(broker.advance(to: at(Int64(step) * 100)))
            incrementals += out.count
            #expect(out.allSatisfy { $0.msgType == "X" })
            let q = try #require(broker.quote(for: "EUR/USD"))
            #expect(q.ask - q.bid == dec("0.0002"))
            let ticks = (q.bid - previous.bid).quotient(dividingBy: dec("0.0001"))
            #expect(abs(ticks) <= 2)
            #expect((q.bid - previous.bid).rounded(toMultipleOf: dec("0.0001"), .down) == q.bid - previous.bid)
            if q != previous { moves += 1 }
            previous = q
        }
        #expect(moves > 100)
        #expect(incrementals > 100)
        #expect(broker.nextWakeUp == at(20_100))
    }

    @Test func restingOrdersReactToTheRandomWalk() throws {
        var broker = makeBroker(priceTickMs: 1000)
        _ = broker.received(newOrder("B", type: "2", price: "1.0845", tif: "1"), on: client, at: at(0))
        _ = broker.received(newOrder("S", side: "2", type: "2", price: "1.0857", tif: "1"), on: client, at: at(0))
        var filled: [String] = []
        var ms: Int64 = 0
        while filled.count < 2 && ms < 3_600_000 {
            ms += 1000
            for m in messages(broker.advance(to: at(ms))) where m[FIXTag.execType] == "F" {
                filled.append(m[FIXTag.clOrdID]!)
                let px = try #require(try m.decimalIfPresent(FIXTag.lastPx))
                if m[FIXTag.side] == "1" { #expect(px <= dec("1.0845")) } else { #expect(px >= dec("1.0857")) }
            }
        }
        #expect(Set(filled) == ["B", "S"])
    }
}

@Suite struct EchoTests {
    let echoSession = SimSessionKey(senderCompID: "ISLD", targetCompID: "TW")

    func broker(copier: SimEchoCopier? = nil) -> SimulatedBroker {
        var config = SimulatorConfiguration(
            priceTickMs: 0, idPrefix: "T", sessions: [echoSession: SimSessionConfiguration(application: .echo)])
        if let copier { config.echoCopier = copier }
        return SimulatedBroker(configuration: config, start: t0)
    }

    func order(_ clOrdID: String, seq: Int, possResend: Bool = false) -> FIXMessage {
        inbound(
            "D", seq: seq,
            [
                (FIXTag.clOrdID, clOrdID), (21, "1"), (FIXTag.symbol, "TESTSYM"), (FIXTag.side, "1"),
                (FIXTag.transactTime, "20260302-09:00:00.000"), (FIXTag.ordType, "1"), (FIXTag.orderQty, "100"),
            ],
            header: possResend ? [(FIXTag.possResend, "Y"), (FIXTag.origSendingTime, "20260302-08:59:00.000")] : [])
    }

    /// Body fields (tag=value) in wire order, header and trailer left out.
    func bodyFields(_ m: FIXMessage) -> [String] {
        m.fields.indices.filter { i in
            let tag = m.fields[i].tag
            return tag != 8 && tag != 9 && tag != 10 && tag != 35 && !FIXMessageBuilder.headerTags.contains(tag)
        }.map { "\(m.fields[$0].tag)=\(m.string(at: $0))" }
    }

    @Test func newOrderSingleIsEchoedWithTheSameBody() throws {
        var b = broker()
        let sent = order("E1", seq: 2)
        let out = decoded(b.received(sent, on: echoSession, at: at(0)))
        try #require(out.count == 1)
        #expect(out[0].0 == echoSession)
        let echoed = out[0].1
        #expect(echoed.msgType == "D")
        #expect(bodyFields(echoed) == bodyFields(sent))
        #expect(echoed[FIXTag.msgSeqNum] == nil)
        #expect(echoed[FIXTag.senderCompID] == nil)
        #expect(b.orders.isEmpty)
    }

    @Test func securityDefinitionIsEchoed() throws {
        var b = broker()
        let sent = inbound("d", [(320, "SD1"), (322, "R1"), (323, "1"), (FIXTag.symbol, "TESTSYM")])
        let echoed = try #require(messages(b.received(sent, on: echoSession, at: at(0))).first)
        #expect(echoed.msgType == "d")
        #expect(bodyFields(echoed) == bodyFields(sent))
    }

    @Test func otherApplicationMessagesGetBusinessMessageReject() throws {
        var b = broker()
        let reject = try #require(
            messages(
                b.received(
                    inbound("F", seq: 7, [(FIXTag.clOrdID, "X"), (FIXTag.origClOrdID, "Y")]), on: echoSession, at: at(0)
                )
            ).first)
        #expect(reject.msgType == "j")
        #expect(reject[FIXTag.refSeqNum] == "7")
        #expect(reject[FIXTag.refMsgType] == "F")
        #expect(reject[FIXTag.businessRejectReason] == "3")
        #expect(reject[FIXTag.text] == "Unsupported Message Type")
        // Session-level messages never reach the reflector.
        #expect(b.received(inbound("1", [(112, "T")]), on: echoSession, at: at(1)).isEmpty)
    }

    @Test func possResendOfAnOrderAlreadyReceivedIsDropped() {
        var b = broker()
        #expect(b.received(order("P1", seq: 2), on: echoSession, at: at(0)).count == 1)
        #expect(b.received(order("P1", seq: 3, possResend: true), on: echoSession, at: at(1)).isEmpty)
        // A resend of an order not seen yet is new to us: echoed, then remembered.
        #expect(b.received(order("P2", seq: 4, possResend: true), on: echoSession, at: at(2)).count == 1)
        #expect(b.received(order("P2", seq: 5, possResend: true), on: echoSession, at: at(3)).isEmpty)
        // Without PossResend a repeated ClOrdID is echoed again.
        #expect(b.received(order("P1", seq: 6), on: echoSession, at: at(4)).count == 1)
    }

    @Test func logoutClearsTheMemoryForThatSessionOnly() {
        let other = SimSessionKey(senderCompID: "ISLD", targetCompID: "TW2")
        let config = SimulatorConfiguration(
            priceTickMs: 0, idPrefix: "T",
            sessions: [
                echoSession: SimSessionConfiguration(application: .echo),
                other: SimSessionConfiguration(application: .echo),
            ])
        var b = SimulatedBroker(configuration: config, start: t0)
        _ = b.received(order("L1", seq: 2), on: echoSession, at: at(0))
        _ = b.received(order("L1", seq: 2), on: other, at: at(0))
        b.sessionLoggedOut(echoSession)
        #expect(b.received(order("L1", seq: 1, possResend: true), on: echoSession, at: at(1)).count == 1)
        #expect(b.received(order("L1", seq: 3, possResend: true), on: other, at: at(1)).isEmpty)
    }

    @Test func theEchoCopierIsPluggable() throws {
        var b = broker(copier: { message in
            var builder = SimEcho.copyBody(of: message)
            builder.set(58, "canonical")
            return builder
        })
        let echoed = try #require(messages(b.received(order("C1", seq: 2), on: echoSession, at: at(0))).first)
        #expect(echoed[58] == "canonical")
    }

    @Test func echoKeepsRepeatingGroups() throws {
        // A repeating group survives the copy with its members in order.
        var raw = FIXMessageBuilder(msgType: "D")
        raw.set(FIXTag.msgSeqNum, 2)
        raw.set(FIXTag.senderCompID, "TW")
        raw.set(FIXTag.targetCompID, "ISLD")
        raw.set(FIXTag.sendingTime, t0)
        raw.set(FIXTag.clOrdID, "G1")
        raw.group(78, count: 2) { g in
            g.append(79, "AC1")
            g.append(80, "10")
            g.append(79, "AC2")
            g.append(80, "20")
        }
        raw.set(FIXTag.symbol, "TESTSYM")
        let sent = raw.build()
        var b = broker()
        let echoed = try #require(messages(b.received(sent, on: echoSession, at: at(0))).first)
        #expect(bodyFields(echoed) == ["11=G1", "55=TESTSYM", "78=2", "79=AC1", "80=10", "79=AC2", "80=20"])
        #expect(bodyFields(echoed) == bodyFields(sent))
    }
}
