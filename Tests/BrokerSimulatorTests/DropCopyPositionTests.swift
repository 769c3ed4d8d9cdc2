import FIXCore
import Testing

@testable import BrokerSimulator

/// tag=value of every field but BodyLength, CheckSum and CopyMsgIndicator.
func bodyWithout797(_ m: FIXMessage) -> [String] {
    m.fields.indices.filter { ![9, 10, 797].contains(m.fields[$0].tag) }.map {
        "\(m.fields[$0].tag)=\(m.string(at: $0))"
    }
}

@Suite struct DropCopyTests {
    let provider = SimSessionKey(senderCompID: "SIM", targetCompID: "PROVIDER")
    let copyAlice = SimSessionKey(senderCompID: "SIM", targetCompID: "BRIDGE1")
    let copyAll = SimSessionKey(senderCompID: "SIM", targetCompID: "BRIDGE2")
    let copyBob = SimSessionKey(senderCompID: "SIM", targetCompID: "BRIDGE3")

    func broker(fill: SimFillModel = SimFillModel()) -> SimulatedBroker {
        makeBroker(
            fill: fill,
            sessions: [
                copyAlice: SimSessionConfiguration(dropCopyFor: .accounts(["ALICE"])),
                copyAll: SimSessionConfiguration(dropCopyFor: .all),
                copyBob: SimSessionConfiguration(dropCopyFor: .accounts(["BOB"])),
            ])
    }

    @Test func everyExecutionReportFansOutToTheAccountsDropCopySessions() throws {
        var broker = broker(fill: SimFillModel(partialFills: 2))
        let out = decoded(broker.received(newOrder("A1", account: "ALICE"), on: provider, at: at(0)))
        // New, two partial fills: each to the provider, then copies in session order.
        #expect(out.map(\.0) == Array(repeating: [provider, copyAlice, copyAll], count: 3).flatMap { $0 })
        for i in stride(from: 0, to: out.count, by: 3) {
            let original = out[i].1
            #expect(original[797] == nil)
            for copy in [out[i + 1].1, out[i + 2].1] {
                #expect(copy[797] == "Y")
                #expect(bodyWithout797(copy) == bodyWithout797(original))
            }
        }
        #expect(out.map { $0.1[FIXTag.execType] } == ["0", "0", "0", "F", "F", "F", "F", "F", "F"])
    }

    @Test func otherAccountsAndCancelsAndRejects() throws {
        var broker = broker()
        let bob = decoded(
            broker.received(newOrder("B1", type: "2", price: "1.0800", account: "BOB"), on: provider, at: at(0)))
        #expect(bob.map(\.0) == [provider, copyAll, copyBob])
        let cancel = decoded(broker.received(cancelRequest("B1-C", orig: "B1"), on: provider, at: at(1)))
        #expect(cancel.map(\.0) == [provider, copyAll, copyBob])
        #expect(cancel.allSatisfy { $0.1[FIXTag.execType] == "4" })
        let rejected = decoded(broker.received(newOrder("B2", symbol: "NOPE", account: "BOB"), on: provider, at: at(2)))
        #expect(rejected.map(\.0) == [provider, copyAll, copyBob])
        let carol = decoded(broker.received(newOrder("C1", account: "CAROL"), on: provider, at: at(3)))
        #expect(carol.map(\.0) == [provider, copyAll, provider, copyAll])
    }

    @Test func anOrderOnTheDropCopySessionItselfIsNotSentTwice() {
        var broker = broker()
        let out = decoded(broker.received(newOrder("S1", account: "ALICE"), on: copyAlice, at: at(0)))
        #expect(out.map(\.0) == [copyAlice, copyAll, copyAlice, copyAll])
        #expect(out.filter { $0.0 == copyAlice }.allSatisfy { $0.1[797] == nil })
    }

    @Test func directAndStatusMessagesFollowTheRules() throws {
        var broker = broker()
        // Direct entry (bots, runners): copies only.
        let direct = decoded(
            broker.submit(
                SimOrderRequest(clOrdID: "D1", account: "ALICE", symbol: "EUR/USD", side: .buy, quantity: 1000),
                at: at(0)))
        #expect(direct.map(\.0) == [copyAlice, copyAll, copyAlice, copyAll])
        // Status answers go to the asker only, and a drop-copy session may ask about its accounts.
        _ = broker.received(newOrder("A9", type: "2", price: "1.0800", account: "ALICE"), on: provider, at: at(1))
        let ask = inbound("AF", [(584, "Q"), (585, "7")])
        let status = decoded(broker.received(ask, on: copyAlice, at: at(2)))
        #expect(status.map(\.0) == [copyAlice])
        #expect(status.first?.1[FIXTag.clOrdID] == "A9")
        #expect(status.first?.1[797] == nil)
    }
}

@Suite struct PositionTests {
    func request(_ account: String?, type: String = "0") -> FIXMessage {
        var fields: [(Int, String)] = [(710, "PR-1"), (724, type)]
        if let account { fields.append((FIXTag.account, account)) }
        fields += [(581, "1"), (715, "20260302"), (FIXTag.transactTime, t0.description)]
        return inbound("AN", fields)
    }

    @Test func positionReportsAfterTrading() throws {
        var broker = makeBroker()
        _ = broker.received(newOrder("B1", qty: "100000"), on: client, at: at(0))
        _ = broker.received(newOrder("S1", side: "2", qty: "40000"), on: client, at: at(1))
        _ = broker.received(newOrder("J1", side: "2", qty: "5000", symbol: "USD/JPY"), on: client, at: at(2))
        _ = broker.received(newOrder("X1", qty: "7", account: "OTHER"), on: client, at: at(3))
        let out = messages(broker.received(request("ACC"), on: client, at: at(4)))
        try #require(out.count == 3)
        let ack = out[0]
        #expect(ack.msgType == "AO")
        #expect(ack[710] == "PR-1")
        #expect(ack[727] == "2")
        #expect(ack[728] == "0")
        #expect(ack[729] == "0")
        #expect(ack[FIXTag.account] == "ACC")
        #expect(out[1].msgType == "AP")
        #expect(out[1][FIXTag.symbol] == "EUR/USD")
        #expect(out[1][704] == "60000")
        #expect(out[1][705] == "0")
        #expect(out[1][730] == "1.0852", "her average open price, not the mid (1.0851)")
        #expect(out[1][715] == "20260302")
        #expect(out[1][703] == "TOT")
        #expect(out[2][FIXTag.symbol] == "USD/JPY")
        #expect(out[2][704] == "0")
        #expect(out[2][705] == "5000")
        #expect(Set([ack[721], out[1][721], out[2][721]]).count == 3)
        // Realised P&L of the 40,000 sold at the bid against the 1.0852 entry.
        #expect(broker.position(account: "ACC", symbol: "EUR/USD").realizedPnL == dec("-8"))
    }

    @Test func noPositionsAndUnsupportedRequests() throws {
        var broker = makeBroker()
        let none = messages(broker.received(request("ACC"), on: client, at: at(0)))
        #expect(none.count == 1)
        #expect(none[0][728] == "2")
        #expect(none[0][727] == "0")
        let trades = messages(broker.received(request("ACC", type: "1"), on: client, at: at(1)))
        #expect(trades.count == 1)
        #expect(trades[0][728] == "4")
        #expect(trades[0][729] == "2")
        // Without Account, the session's account.
        _ = broker.received(newOrder("B", account: nil), on: client, at: at(2))
        let mine = messages(broker.received(request(nil), on: client, at: at(3)))
        #expect(mine.map(\.msgType) == ["AO", "AP"])
        #expect(mine[1][FIXTag.account] == "CLIENT")
    }

    @Test func positionArithmetic() {
        var p = SimPosition(account: "A", symbol: "S")
        p.apply(side: .buy, quantity: 100, price: dec("1.10"))
        p.apply(side: .buy, quantity: 100, price: dec("1.20"))
        #expect(p.quantity == 200)
        #expect(p.averagePrice == dec("1.15"))
        p.apply(side: .sell, quantity: 50, price: dec("1.25"))
        #expect(p.quantity == 150)
        #expect(p.averagePrice == dec("1.15"))
        #expect(p.realizedPnL == dec("5"))
        // Flip: close 150 at 1.05 (-15), open 50 short at 1.05.
        p.apply(side: .sell, quantity: 200, price: dec("1.05"))
        #expect(p.quantity == -50)
        #expect(p.averagePrice == dec("1.05"))
        #expect(p.realizedPnL == dec("-10"))
        p.apply(side: .buy, quantity: 50, price: dec("1.00"))
        #expect(p.quantity == 0)
        #expect(p.averagePrice == 0)
        #expect(p.realizedPnL == dec("-7.5"))
    }
}
