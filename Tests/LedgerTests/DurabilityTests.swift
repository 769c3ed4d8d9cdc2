import FIXCore
import Foundation
import TestSupport
import Testing

@testable import Ledger

@Suite("Durability")
struct DurabilityTests {
    /// Records one month of copying with fees; returns every input so it can be re-delivered.
    static func populate(_ ledger: Ledger) throws -> [@Sendable (Ledger) throws -> IngestOutcome] {
        var inputs: [@Sendable (Ledger) throws -> IngestOutcome] = []
        let deposit = CashFlow(
            flowID: "D1", account: .follower("F1", account: "A1"), kind: .deposit, amount: d("10000.00"),
            currency: "USD", time: at(1, 15, 9), note: "opening")
        inputs.append { try $0.record(deposit) }
        let subscription = SubscriptionStart(
            subscriptionID: "S1", followerID: "F1", account: "A1", providerID: "P1", start: at(1, 15, 10),
            terms: FeeTerms(
                performanceRate: d("0.2"), managementRatePerYear: d("0.02"), volumeFeePerMillion: d("4"),
                platformShare: d("0.3")))
        inputs.append { try $0.record(subscription) }
        for (n, side, price, day) in [(1, Side.buy, "1.1000", 16), (2, .sell, "1.1250", 24), (3, .buy, "1.1200", 27)] {
            let provider = ProviderFill(
                providerID: "P1", account: "PA", execID: "E\(n)", symbol: "EUR/USD", side: side,
                quantity: d("100000"), price: d(price), transactTime: at(1, day, 9), receivedAt: at(1, day, 9))
            let order = FollowerOrder(
                orderID: "O\(n)", followerID: "F1", account: "A1", symbol: "EUR/USD", side: side,
                quantity: d("10000"), providerID: "P1", signalExecID: "E\(n)", signalReceivedAt: at(1, day, 9),
                sentAt: at(1, day, 9, ms: 3))
            let fill = FollowerFill(
                followerID: "F1", account: "A1", execID: "X\(n)", orderID: "O\(n)", symbol: "EUR/USD", side: side,
                quantity: d("10000"), price: d(price) + d("0.0001"), commission: d("0.35"), providerID: "P1",
                signalExecID: "E\(n)", transactTime: at(1, day, 9, ms: 20), receivedAt: at(1, day, 9, ms: 21))
            inputs.append { try $0.record(provider) }
            inputs.append { try $0.record(order) }
            inputs.append { try $0.record(fill) }
        }
        let mark = Mark(symbol: "EURUSD", price: d("1.1300"), time: at(2, 10))
        inputs.append { try $0.record(mark) }
        let withdrawal = CashFlow(
            flowID: "W1", account: .follower("F1", account: "A1"), kind: .withdrawal, amount: d("500"),
            currency: "USD", time: at(2, 20))
        inputs.append { try $0.record(withdrawal) }
        for input in inputs { #expect(try input(ledger) == .recorded) }
        return inputs
    }

    static func allReports(_ ledger: Ledger) throws -> [String] {
        let window = ReportWindow(to: at(3, 1))
        return try ReportKind.allCases.flatMap { kind in
            try ReportFormat.allCases.map { try ledger.renderReport(kind, format: $0, window: window) }
        }
    }

    @Test("a batch records each input on its own, in one transaction: a refused input leaves the rest")
    func batch() throws {
        let folder = try makeTemporaryDirectory("ledger-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("ledger.sqlite").path
        let account = AccountRef.follower("F1", account: "A1")
        func flow(_ id: String, _ amount: String, _ currency: String) -> CashFlow {
            CashFlow(
                flowID: id, account: account, kind: .deposit, amount: d(amount), currency: currency, time: at(1, 2))
        }
        var ledger = try Ledger.open(path: path)
        let outcomes = try ledger.batch { batch -> [String] in
            var outcomes: [String] = []
            for input in [flow("D1", "100", "USD"), flow("D2", "50", "EUR"), flow("D1", "100", "USD")] {
                do {
                    outcomes.append("\(try batch.record(input))")
                } catch {
                    outcomes.append("refused: \(error)")
                }
            }
            outcomes.append("\(try batch.record(Mark(symbol: "EURUSD", price: d("1.1"), time: at(1, 3))))")
            return outcomes
        }
        #expect(
            outcomes == [
                "recorded", "refused: cash flow D2 is in EUR but account \(account) is in USD", "duplicate", "recorded",
            ])
        try ledger.close()
        ledger = try Ledger.open(path: path)
        let history = try ledger.history()
        #expect(history.cashFlows.map(\.flowID) == ["D1"])
        #expect(history.marks.map(\.symbol) == ["EURUSD"])
        try ledger.close()
    }

    @Test("write, close, reopen: the same figures; re-delivered inputs are recorded once")
    func reopen() throws {
        let folder = try makeTemporaryDirectory("ledger-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("nested/ledger.sqlite").path

        let first = try Ledger.open(path: path)
        #expect(try first.journalMode() == "wal")
        let inputs = try Self.populate(first)
        let charges = try first.crystallise(asOf: at(3, 1))
        #expect(!charges.isEmpty)
        let before = try Self.allReports(first)
        let history = try first.history()
        try first.close()

        let second = try Ledger.open(path: path)
        #expect(try second.journalMode() == "wal")
        #expect(try Self.allReports(second) == before)
        let reopened = try second.history()
        #expect(reopened.charges == history.charges)
        #expect(reopened.feeStates == history.feeStates)
        #expect(reopened.followerFills == history.followerFills)
        // Every input again: all duplicates, nothing changes, nothing new to crystallise.
        for input in inputs { #expect(try input(second) == .duplicate) }
        #expect(try second.crystallise(asOf: at(3, 1)).isEmpty)
        #expect(try Self.allReports(second) == before)
        // A decimal written differently is the same value: still a duplicate.
        #expect(
            try second.record(
                CashFlow(
                    flowID: "D1", account: .follower("F1", account: "A1"), kind: .deposit, amount: d("10000"),
                    currency: "usd", time: at(1, 15, 9), note: "opening")) == .duplicate)
        // The same id with different content is reported, and the first record kept.
        let conflict = try second.record(
            ProviderFill(
                providerID: "P1", account: "PA", execID: "E1", symbol: "EUR/USD", side: .buy, quantity: d("100000"),
                price: d("1.1001"), transactTime: at(1, 16, 9)))
        guard case .conflicting(let reason) = conflict else {
            Issue.record("expected a conflict, got \(conflict)")
            return
        }
        #expect(reason.contains("provider fill P1/E1"))
        #expect(reason.contains("1.1 → 1.1001"))
        #expect(try Self.allReports(second) == before)
        try second.close()
    }

    @Test("a re-delivered fill with a later receive time is the same fill")
    func redeliveredFill() throws {
        let ledger = try Ledger.inMemory()
        var fill = ProviderFill(
            providerID: "P1", account: "PA", execID: "E1", symbol: "EURUSD", side: .buy, quantity: d("1"),
            price: d("1.1"), transactTime: at(1, 2), receivedAt: at(1, 2))
        #expect(try ledger.record(fill) == .recorded)
        fill.receivedAt = at(1, 2, 0, 5)
        #expect(try ledger.record(fill) == .duplicate)
        #expect(try ledger.history().providerFills.count == 1)
    }

    @Test("inputs that break the ledger's rules are refused with the reason")
    func refusals() throws {
        let ledger = try Ledger.inMemory()
        #expect(throws: LedgerError.unknownCurrency(symbol: "AAPL")) {
            try ledger.record(
                ProviderFill(
                    providerID: "P1", account: "PA", execID: "E1", symbol: "AAPL", side: .buy, quantity: d("1"),
                    price: d("200"), transactTime: at(1, 2)))
        }
        #expect(throws: LedgerError.invalidInput("follower fill X1: quantity 0 is not positive")) {
            try ledger.record(
                FollowerFill(
                    followerID: "F1", account: "A1", execID: "X1", symbol: "EURUSD", side: .buy, quantity: d("0"),
                    price: d("1.1"), transactTime: at(1, 2)))
        }
        try ledger.openAccount(.follower("F1", account: "A1"), currency: "EUR")
        #expect(
            try ledger.openAccount(.follower("F1", account: "A1"), currency: "USD")
                == .conflicting("account follower:F1/A1 is in EUR, not USD"))
        #expect(
            throws: LedgerError.invalidInput("cash flow C1 is in USD but account follower:F1/A1 is in EUR")
        ) {
            try ledger.record(
                CashFlow(
                    flowID: "C1", account: .follower("F1", account: "A1"), kind: .deposit, amount: d("5"),
                    currency: "USD", time: at(1, 2)))
        }
    }
}
