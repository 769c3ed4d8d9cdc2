import FIXMessages
import Foundation
import Testing

@testable import FIXCore

/// The benchmark corpus: real-looking broker traffic, decoded.
let corpusMessages: [FIXMessage] = {
    guard
        let text = try? String(
            contentsOf: repositoryRoot.appendingPathComponent("Benchmarks/corpus/fix44-broker.txt"), encoding: .utf8)
    else { fatalError("Benchmarks/corpus/fix44-broker.txt is missing") }
    return text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map {
        do {
            return try FIXMessage(pipeDelimited: String($0), configuration: fix44.decoderConfiguration())
        } catch {
            fatalError("corpus line does not decode: \(error) \($0)")
        }
    }
}()

@Suite struct FIXMessagesTests {
    @Test func embeddedDictionaryIsSpecsFIX44() throws {
        let specs = try repositoryFile("Specs/FIX44.xml")
        #expect(Data(FIX44.dictionaryXML.utf8) == specs)
        let d = FIX44.dictionary
        #expect(d.beginString == "FIX.4.4")
        #expect(d.messages.count == fix44.messages.count)
        #expect(d.fields.map(\.tag) == fix44.fields.map(\.tag))
        #expect(d.dataFieldPairs == fix44.dataFieldPairs)
    }

    @Test func tagsAndEnums() {
        #expect(FIX44.Tag.clOrdID == 11)
        #expect(FIX44.Tag.noPartyIDs == 453)
        #expect(FIX44.Tag.mdEntryType == 269)
        #expect(FIX44.Tag.`yield` == 236)
        #expect(FIX44.Side.buy.rawValue == "1")
        #expect(FIX44.Side(rawValue: "2") == .sell)
        #expect(FIX44.OrdStatus(rawValue: "1") == .partiallyFilled)
        #expect(FIX44.ExecType.trade.rawValue == "F")
        #expect(FIX44.TimeInForce.immediateOrCancel.rawValue == "3")
        #expect(FIX44.MDEntryType.bid.rawValue == "0")
        #expect(FIX44.SubscriptionRequestType.allCases.count == 3)
        #expect(FIX44.OrdRejReason(rawValue: "99") == .other)
        // Every enum case is a value the dictionary allows.
        #expect(FIX44.PosReqType.allCases.map(\.rawValue) == fix44.values(of: 724).map(\.value))
    }

    @Test func readsExecutionReportsOfTheCorpus() throws {
        let reports = corpusMessages.compactMap { FIX44.ExecutionReport($0) }
        #expect(reports.count >= 20)
        for r in reports {
            #expect(try r.cumQty + r.leavesQty > 0 || r.ordStatus == .rejected)
            #expect(try !r.execID.isEmpty)
            #expect(try r.header.senderCompID == "BROKER")
        }
        let fill = try #require(reports.first { (try? $0.execType) == .trade })
        #expect(try fill.ordStatus == .partiallyFilled)
        #expect(try fill.side == .sell)
        #expect(try fill.lastQty == FixedDecimal(mantissa: 2_500, scale: 2))
        #expect(try fill.lastPx == FixedDecimal("1.26718"))
        #expect(try fill.lastPx?.description == "1.26718")
        #expect(try fill.transactTime?.description == "20261126-09:36:43.001")
        #expect(fill.symbol == "GBP/USD")
        #expect(try fill.header.msgSeqNum == 1003)
        let parties = try fill.partyIDs
        #expect(parties.count == 3)
        #expect(parties.map(\.partyID) == ["BRKR-LDN", "CLIENT-1004", "CLIENT-1005"])
        #expect(try parties.map { try $0.partyRole } == [.executingFirm, .clientId, .orderOriginationTrader])
        #expect(try parties[0].partyIDSource == .proprietary)
        let subs = try parties[1].partySubIDs
        #expect(subs.map(\.partySubID) == ["desk-1", "trader@1.example"])
        #expect(try subs.map { try $0.partySubIDType } == [9, 8])
        let fees = try fill.miscFees
        #expect(try fees.map { try $0.miscFeeAmt } == [FixedDecimal("0.37"), FixedDecimal("0.05")])
        #expect(try fees.map { try $0.miscFeeType } == [.regulatory, .exchangeFees])

        let reject = try #require(reports.first { (try? $0.ordStatus) == .rejected })
        #expect(try reject.ordRejReason == .duplicateOrder)
        #expect(reject.text?.hasPrefix("order rejected") == true)
    }

    @Test func readsOtherCorpusMessages() throws {
        let orders = corpusMessages.compactMap { FIX44.NewOrderSingle($0) }
        #expect(orders.count == 8)
        #expect(try orders[0].orderQty == 1000)
        // The received bytes stay as they were sent.
        #expect(orders[0].fields.stringIfPresent(38) == "001000.00")
        #expect(try orders.map { try $0.ordType }.contains(.limit))
        #expect(try orders[0].timeInForce == .immediateOrCancel)
        let snapshot = try #require(corpusMessages.lazy.compactMap { FIX44.MarketDataSnapshotFullRefresh($0) }.first)
        let entries = try snapshot.mdEntries
        #expect(try entries.map { try $0.mdEntryType } == [.bid, .bid, .offer, .offer])
        #expect(
            try entries.map { try $0.mdEntryPx }
                == ["1.08450", "1.08449", "1.08453", "1.08455"].map { FixedDecimal($0) })
        let logon = try #require(corpusMessages.lazy.compactMap { FIX44.Logon($0) }.first)
        #expect(try logon.heartBtInt == 30)
        #expect(try logon.encryptMethod == .noneValue)
        #expect(try logon.resetSeqNumFlag == true)
        let reject = try #require(corpusMessages.lazy.compactMap { FIX44.Reject($0) }.first)
        #expect(try reject.sessionRejectReason == .valueIsIncorrect)
        #expect(try reject.refTagID == 54)
        let bmr = try #require(corpusMessages.lazy.compactMap { FIX44.BusinessMessageReject($0) }.first)
        #expect(try bmr.businessRejectReason == .unsupportedMessageType)
        #expect(FIX44.ExecutionReport(logon.message) == nil)
    }

    @Test func malformedValuesThrowNamingTheField() throws {
        let m = rawMessage(
            header("8") + "|"
                + erBody.replacingOccurrences(of: "54=1", with: "54=Q").replacingOccurrences(of: "14=0", with: "14=x"))
        let r = try #require(FIX44.ExecutionReport(m))
        #expect(throws: FIXFieldError(tag: 54, kind: .badFormat(expected: .char), value: "Q")) { try r.side }
        #expect(throws: FIXFieldError(tag: 14, kind: .badFormat(expected: .float), value: "x")) { try r.cumQty }
        #expect(throws: FIXFieldError(tag: 31, kind: .missing)) { try r.fields.decimal(31) }
        #expect(try r.lastPx == nil)
        let mismatch = rawMessage(header("8") + "|" + erBody.replacingOccurrences(of: "453=2", with: "453=5"))
        #expect(throws: FIXGroupError.countMismatch(countTag: 453, declared: 5, found: 2)) {
            try FIX44.ExecutionReport(mismatch)?.partyIDs
        }
    }

    @Test func buildersProduceValidMessages() throws {
        var order = FIX44.NewOrderSingle.Builder(
            clOrdID: "CB-1", side: .buy, transactTime: UTCTimestamp("20261126-09:30:00.123")!, ordType: .limit)
        order.setSymbol("EUR/USD")
        order.setOrderQty(FixedDecimal("2000.00")!)
        order.setPrice(FixedDecimal("1.10500")!)
        order.setTimeInForce(.goodTillCancel)
        order.setPartyIDs([
            .init(
                partyID: "FOLLOWER-7", partyIDSource: .proprietary, partyRole: .clientId,
                partySubIDs: [.init(partySubID: "desk", partySubIDType: 9)])
        ])
        // Setting a group again replaces it.
        order.setPartyIDs([.init(partyID: "FOLLOWER-8", partyIDSource: .proprietary, partyRole: .clientId)])
        var fix = order.fix
        fix.set(FIXTag.senderCompID, "CB")
        fix.set(FIXTag.targetCompID, "BRK")
        fix.set(FIXTag.msgSeqNum, 5)
        fix.set(FIXTag.sendingTime, UTCTimestamp("20261126-09:30:00.124")!)
        let m = fix.build()
        #expect(FIX44.dictionary.validate(m) == nil, "\(m)")
        let view = try #require(FIX44.NewOrderSingle(m))
        #expect(try view.clOrdID == "CB-1")
        #expect(try view.price == FixedDecimal("1.105"))
        #expect(view.fields.stringIfPresent(44) == "1.10500")
        #expect(try view.partyIDs.map(\.partyID) == ["FOLLOWER-8"])
        #expect(try view.partyIDs[0].partySubIDs.isEmpty)

        var snapshot = FIX44.MarketDataSnapshotFullRefresh.Builder(mdEntries: [
            .init(mdEntryType: .bid, mdEntryPx: FixedDecimal("1.1"), mdEntrySize: 1_000_000),
            .init(mdEntryType: .offer, mdEntryPx: FixedDecimal("1.2")),
        ])
        snapshot.setSymbol("EUR/USD")
        snapshot.setMDReqID("MD-9")
        var md = snapshot.fix
        md.set(FIXTag.senderCompID, "BRK")
        md.set(FIXTag.targetCompID, "CB")
        md.set(FIXTag.msgSeqNum, 6)
        md.set(FIXTag.sendingTime, UTCTimestamp("20261126-09:30:00.124")!)
        let built = md.build()
        #expect(FIX44.dictionary.validate(built) == nil, "\(built)")
        #expect(
            built.debugDescription.contains("|55=EUR/USD|262=MD-9|268=2|269=0|270=1.1|271=1000000|269=1|270=1.2|10="))

        var logon = FIX44.Logon.Builder(encryptMethod: .noneValue, heartBtInt: 30)
        logon.setRawData(Array("se\u{1}cret".utf8))
        logon.setResetSeqNumFlag(true)
        var l = logon.fix
        l.set(FIXTag.senderCompID, "CB")
        l.set(FIXTag.targetCompID, "BRK")
        l.set(FIXTag.msgSeqNum, 1)
        l.set(FIXTag.sendingTime, UTCTimestamp("20261126-09:30:00.124")!)
        let logonMessage = l.build(configuration: FIX44.dictionary.decoderConfiguration())
        #expect(FIX44.dictionary.validate(logonMessage) == nil)
        #expect(FIX44.Logon(logonMessage)?.rawData == Array("se\u{1}cret".utf8))
        #expect(try FIX44.Logon(logonMessage)?.rawDataLength == 7)
    }

    @Test func everyCorpusMessageIsValid() {
        #expect(corpusMessages.count >= 40)
        for m in corpusMessages {
            #expect(FIX44.dictionary.validate(m) == nil, "\(m)")
        }
    }
}
