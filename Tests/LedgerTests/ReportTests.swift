import FIXCore
import Foundation
import Testing

@testable import Ledger

@Suite("Reports and command line")
struct ReportTests {
    static func scenario() throws -> Scenario {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 15, 9))
        try s.subscribe(
            "S1", start: at(1, 15, 10), terms: FeeTerms(performanceRate: d("0.2"), platformShare: d("0.3")))
        try s.copy(.buy, "10000", at: "1.10", time: at(1, 16))
        try s.copy(.sell, "10000", at: "1.15", time: at(1, 25))
        try s.copy(.buy, "5000", at: "1.15", time: at(2, 16))
        try s.mark("EURUSD", "1.17", at: at(2, 20))
        return s
    }

    @Test("fee statements: due before crystallising, charged after, and what has accrued since")
    func feeStatements() throws {
        let s = try Self.scenario()
        let window = ReportWindow(to: at(2, 25))
        var report = try s.ledger.report(.fees, window: window)
        var statements = try #require(report.section("statements")).records
        // Due at 15 Feb: 500 above the mark → 100.00 (platform 30.00, provider 70.00).
        // Accrued at 25 Feb: the open 5,000 long is up 5,000 × 0.02 = 100 → 20 % = 20.00.
        #expect(statements.map { $0["status"] } == [.text("due"), .text("accrued")])
        #expect(statements[0]["performance"] == .decimal(d("100.00")))
        #expect(statements[0]["platform"] == .decimal(d("30.00")))
        #expect(statements[0]["provider_share"] == .decimal(d("70.00")))
        #expect(statements[0]["reason"] == .text("periodEnd"))
        #expect(statements[1]["performance"] == .decimal(d("20.00")))
        #expect(statements[1]["high_water_mark"] == .decimal(d("600.00")))

        try s.ledger.crystallise(asOf: at(2, 25))
        report = try s.ledger.report(.fees, window: window)
        statements = try #require(report.section("statements")).records
        #expect(statements.map { $0["status"] } == [.text("charged"), .text("accrued")])
        let marks = try #require(report.section("high_water_marks")).records
        #expect(marks.first?["high_water_mark"] == .decimal(d("500.00")))
        #expect(marks.first?["performance_charged"] == .decimal(d("100.00")))
    }

    @Test("tables align columns, JSON keeps decimals exact as strings, CSV quotes what needs quoting")
    func rendering() throws {
        let report = Report(
            kind: .copies, window: ReportWindow(from: at(1, 1), to: at(2, 1)),
            sections: [
                ReportSection(
                    name: "copies", columns: ["follower", "note", "qty", "bps"],
                    rows: [
                        [.text("F1"), .text("a, \"b\""), .decimal(d("10000")), .decimal(d("-1.25"))],
                        [.text("F22"), .none, .integer(7), .none],
                    ])
            ])
        #expect(
            report.rendered(.table) == """
                copies report, from 20250101-00:00:00.000 to 20250201-00:00:00.000 (UTC, end exclusive)

                copies
                follower  note      qty    bps
                --------  ------  -----  -----
                F1        a, "b"  10000  -1.25
                F22       -           7      -

                """)
        #expect(
            report.rendered(.csv) == "follower,note,qty,bps\r\nF1,\"a, \"\"b\"\"\",10000,-1.25\r\nF22,,7,\r\n")
        #expect(
            report.rendered(.json) == """
                {
                  "report": "copies",
                  "from": "20250101-00:00:00.000",
                  "to": "20250201-00:00:00.000",
                  "sections": {
                    "copies": [
                      {"follower": "F1", "note": "a, \\"b\\"", "qty": "10000", "bps": "-1.25"},
                      {"follower": "F22", "note": null, "qty": 7, "bps": null}
                    ]
                  }
                }

                """)
        let json = try JSONSerialization.jsonObject(with: Data(report.rendered(.json).utf8)) as? [String: Any]
        #expect(json?["report"] as? String == "copies")
    }

    @Test("every report renders in every format from a real history", arguments: ReportKind.allCases)
    func everyReport(kind: ReportKind) throws {
        let s = try Self.scenario()
        let window = ReportWindow(from: at(1, 1), to: at(3, 1))
        let report = try s.ledger.report(kind, window: window)
        #expect(report.sections.contains { !$0.rows.isEmpty })
        for section in report.sections {
            for row in section.rows { #expect(row.count == section.columns.count) }
        }
        let json = try JSONSerialization.jsonObject(with: Data(report.rendered(.json).utf8)) as? [String: Any]
        #expect(json?["report"] as? String == kind.rawValue)
        #expect(report.rendered(.table).hasPrefix("\(kind.rawValue) report"))
        #expect(!report.rendered(.csv).isEmpty)
    }

    @Test("positions report: open positions with average price, price and unrealised in both currencies")
    func positionsReport() throws {
        let s = try Self.scenario()
        let report = try s.ledger.report(.positions, window: ReportWindow(to: at(2, 25)))
        let rows = try #require(report.section("positions")).records.filter { $0["owner"] == .text("follower") }
        #expect(rows.count == 1)
        #expect(rows.first?["position"] == .decimal(d("5000")))
        #expect(rows.first?["avg_price"] == .decimal(d("1.15")))
        #expect(rows.first?["price"] == .decimal(d("1.17")))
        #expect(rows.first?["unrealised"] == .decimal(d("100.00")))
        let bySource = try #require(report.section("positions_by_source")).records
        #expect(bySource.map { $0["source"] } == [.text("P1")])
    }

    @Test("times parse in the forms the command line accepts")
    func parseTimes() {
        #expect(LedgerCommandLine.parseTime("2025-01-31") == at(1, 31))
        #expect(LedgerCommandLine.parseTime("20250131") == at(1, 31))
        #expect(LedgerCommandLine.parseTime("2025-01-31", endOfDay: true) == at(2, 1))
        #expect(LedgerCommandLine.parseTime("2025-01-31T10:15:00Z") == at(1, 31, 10, 15))
        #expect(LedgerCommandLine.parseTime("2025-01-31 10:15:00.250") == at(1, 31, 10, 15, ms: 250))
        #expect(LedgerCommandLine.parseTime("20250131-10:15:00") == at(1, 31, 10, 15))
        #expect(LedgerCommandLine.parseTime("31/01/2025") == nil)
        #expect(LedgerCommandLine.parseTime("2025-02-30") == nil)
    }

    @Test("ledger deposit and withdraw record flows by id, and report reads them back")
    func commandLine() throws {
        let ledger = try Ledger.inMemory()
        var text = try LedgerCommandLine.recordCashFlow(
            ledger: ledger, owner: .follower("F1"), account: "A1", kind: .deposit, amount: "2500.50", currency: "usd",
            time: at(1, 2), note: "wire", id: "flow-1")
        #expect(text == "recorded deposit of 2500.50 USD for follower:F1/A1 at 20250102-00:00:00.000 (id flow-1)\n")
        text = try LedgerCommandLine.recordCashFlow(
            ledger: ledger, owner: .follower("F1"), account: "A1", kind: .deposit, amount: "2500.50", currency: "USD",
            time: at(1, 2), note: "wire", id: "flow-1")
        #expect(text.hasPrefix("already recorded: deposit"))
        _ = try LedgerCommandLine.recordCashFlow(
            ledger: ledger, owner: .follower("F1"), account: "A1", kind: .withdrawal, amount: "500", currency: "USD",
            time: at(1, 3))
        #expect(throws: LedgerError.invalidInput("amount '-5' is not a positive decimal number")) {
            try LedgerCommandLine.recordCashFlow(
                ledger: ledger, owner: .follower("F1"), account: "A1", kind: .deposit, amount: "-5", currency: "USD",
                time: at(1, 3))
        }
        #expect(throws: LedgerError.self) {
            try LedgerCommandLine.recordCashFlow(
                ledger: ledger, owner: .follower("F1"), account: "A1", kind: .deposit, amount: "1", currency: "EUR",
                time: at(1, 3))
        }
        let flows = try ledger.history().cashFlows
        #expect(flows.map(\.signedAmount) == [d("2500.50"), d("-500")])
        #expect(flows.first?.note == "wire")

        let csv = try LedgerCommandLine.report(
            ledger: ledger, kind: .followers, format: .csv, from: "2025-01-01", to: "2025-01-31", now: at(6, 1))
        #expect(csv.contains("F1,A1,USD"))
        #expect(throws: LedgerError.invalidInput("--from 20250201-00:00:00.000 is not before --to 20250201-00:00:00")) {
            try LedgerCommandLine.report(
                ledger: ledger, kind: .pnl, format: .table, from: "2025-02-01", to: "20250201-00:00:00", now: at(6, 1))
        }
        let crystallised = try LedgerCommandLine.crystallise(ledger: ledger, asOf: at(6, 1))
        #expect(crystallised == "no fees due by 20250601-00:00:00.000\n")
    }
}
