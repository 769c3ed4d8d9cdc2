import FIXCore
import Testing

@testable import BrokerSimulator

@Suite struct CollateralTests {
    func inquiry(_ id: String?, account: String?, type: String? = "1") -> FIXMessage {
        var fields: [(Int, String)] = []
        if let id { fields.append((909, id)) }
        if let type { fields.append((263, type)) }
        if let account { fields.append((FIXTag.account, account)) }
        return inbound("BB", fields)
    }

    /// The reports among `outputs`, as (CollInquiryID, TotalNetValue, CashOutstanding).
    func reports(_ outputs: [SimOutput]) -> [(String?, String?, String?)] {
        messages(outputs).filter { $0.isMsgType("BA") }.map { ($0[909], $0[900], $0[901]) }
    }

    @Test func snapshotThenAReportAfterEachFillThatChangesEquity() throws {
        var broker = makeBroker(accountEquity: ["ACC": 100000])
        let first = messages(broker.received(inquiry("Q1", account: "ACC"), on: client, at: at(0)))
        try #require(first.count == 1)
        let report = first[0]
        #expect(report.msgType == "BA")
        #expect(report[908] == "T-C1")
        #expect(report[909] == "Q1")
        #expect(report[910] == "3")
        #expect(report[911] == "1")
        #expect(report[FIXTag.account] == "ACC")
        #expect(report[15] == "USD")
        #expect(report[900] == "100000" && report[901] == "100000")

        // Bought at the ask 1.0852, valued at the mid 1.0851: 10 of unrealised loss.
        let buy = broker.received(newOrder("B1", qty: "100000"), on: client, at: at(10))
        #expect(messages(buy).map(\.msgType) == ["8", "8", "BA"])
        #expect(reports(buy).map(\.1) == ["99990"] && reports(buy).map(\.2) == ["100000"])
        #expect(broker.accountValuation("ACC")?.unrealizedPnL == -10)

        // Prices alone send nothing; the next fill revalues: sold at the bid 1.0860, 80 realised.
        #expect(try broker.setQuote("EUR/USD", bid: dec("1.0860"), ask: dec("1.0862"), at: at(20)).isEmpty)
        let sell = broker.received(newOrder("S1", side: "2", qty: "100000"), on: client, at: at(30))
        #expect(reports(sell).map(\.0) == ["Q1"])
        #expect(reports(sell).map(\.1) == ["100080"] && reports(sell).map(\.2) == ["100080"])

        // Another account's fills and a snapshot inquiry do not add reports to Q1.
        #expect(reports(broker.received(newOrder("X1", account: "OTHER"), on: client, at: at(40))).isEmpty)
        let snapshot = broker.received(inquiry("Q2", account: "ACC", type: "0"), on: client2, at: at(50))
        #expect(reports(snapshot).map(\.0) == ["Q2"])
        let again = broker.received(newOrder("B2", qty: "1000"), on: client, at: at(60))
        #expect(reports(again).map(\.0) == ["Q1"])

        // Disabling the subscription ends the updates.
        let end = messages(broker.received(inquiry("Q1", account: "ACC", type: "2"), on: client, at: at(70)))
        #expect(end.map(\.msgType) == ["BG"] && end.first?[945] == "2")
        #expect(reports(broker.received(newOrder("B3", qty: "1000"), on: client, at: at(80))).isEmpty)
    }

    @Test func pnlInAnotherQuoteCurrencyIsConvertedAtTheMid() {
        var broker = makeBroker(accountEquity: ["ACC": 100000])
        _ = broker.received(inquiry("Q1", account: "ACC"), on: client, at: at(0))
        // Bought at the ask 151.22, valued at the mid 151.21: 1 000 JPY, 6.61 USD at 151.21.
        let buy = broker.received(newOrder("B1", qty: "100000", symbol: "USD/JPY"), on: client, at: at(10))
        #expect(reports(buy).map(\.1) == ["99993.39"])
        #expect(broker.accountValuation("ACC")?.unrealizedPnL == FixedDecimal("-6.61"))
    }

    @Test func aLogoutEndsTheSubscription() {
        var broker = makeBroker(accountEquity: ["ACC": 5000])
        _ = broker.received(inquiry("Q1", account: "ACC"), on: client, at: at(0))
        broker.sessionLoggedOut(client)
        #expect(reports(broker.received(newOrder("B1", qty: "1000"), on: client, at: at(10))).isEmpty)
    }

    @Test func unknownAccountsAndBadInquiriesAreRefused() throws {
        var broker = makeBroker(accountEquity: ["ACC": 100000])
        let unknown = messages(broker.received(inquiry("Q1", account: "NOBODY"), on: client, at: at(0)))
        try #require(unknown.count == 1)
        #expect(unknown[0].msgType == "BG")
        #expect(unknown[0][909] == "Q1")
        #expect(unknown[0][945] == "4")
        #expect(unknown[0][946] == "99")
        #expect(unknown[0][FIXTag.account] == "NOBODY")
        #expect(unknown[0][FIXTag.text] == "Unknown account NOBODY")
        // Nothing was subscribed for it.
        #expect(reports(broker.received(newOrder("B1", account: "NOBODY"), on: client, at: at(10))).isEmpty)

        let noAccount = try #require(
            messages(broker.received(inquiry("Q2", account: nil), on: client, at: at(20))).first)
        #expect(noAccount.msgType == "j" && noAccount[380] == "5" && noAccount[372] == "BB")
        #expect(noAccount[379] == "Q2")

        let badType = try #require(
            messages(broker.received(inquiry("Q3", account: "ACC", type: "7"), on: client, at: at(30))).first)
        #expect(badType.msgType == "BG" && badType[945] == "4")
        #expect(badType[FIXTag.text] == "Unsupported SubscriptionRequestType 7")

        _ = broker.received(inquiry("Q4", account: "ACC"), on: client, at: at(40))
        let duplicate = try #require(
            messages(broker.received(inquiry("Q4", account: "ACC"), on: client, at: at(50))).first)
        #expect(duplicate.msgType == "BG" && duplicate[FIXTag.text] == "Duplicate CollInquiryID Q4")
    }

    @Test func startingCashComesFromEquityThenAccountEquity() throws {
        let configuration = try SimulatorConfiguration(
            settings: ["AccountEquity": "BOB:25000, ERIN:50000.5", "Currency": "EUR"],
            sessions: [client: ["Account": "ACC", "Equity": "7000", "Leverage": "30"]])
        #expect(configuration.currency == "EUR")
        #expect(configuration.startingCash(for: "BOB") == 25000)
        #expect(configuration.startingCash(for: "ERIN") == FixedDecimal("50000.5"))
        #expect(configuration.startingCash(for: "ACC") == 7000)
        #expect(configuration.startingCash(for: "NOBODY") == nil)
        // AccountEquity does not switch on the margin check.
        #expect(configuration.limits(for: "BOB").equity == nil)
        #expect(throws: SimConfigurationError.self) {
            try SimulatorConfiguration(settings: ["AccountEquity": "BOB:-1"])
        }
        #expect(throws: SimConfigurationError.self) {
            try SimulatorConfiguration(
                settings: ["AccountEquity": "BOB:1"], sessions: [client: ["AccountEquity": "X:1"]])
        }
    }
}
