import FIXCore
import Testing

@testable import Ledger

@Suite("Positions and P&L")
struct PnLTests {
    @Test("a partial close realises FIFO P&L on the quantity closed only")
    func partialClose() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 2))
        try s.trade(.buy, "100000", "EURUSD", at: "1.1000", time: at(1, 3, 10))
        try s.trade(.buy, "100000", "EURUSD", at: "1.1200", time: at(1, 3, 11))
        try s.trade(.sell, "150000", "EURUSD", at: "1.1300", time: at(1, 3, 12))
        try s.mark("EURUSD", "1.1500", at: at(1, 3, 13))

        // Sell 150,000 @ 1.1300 closes the oldest lot first:
        //   100,000 × (1.1300 − 1.1000) = 3,000
        //    50,000 × (1.1300 − 1.1200) =   500
        //   realised                     = 3,500; left: 50,000 long @ 1.1200
        // Unrealised at the 1.1500 mark: 50,000 × (1.1500 − 1.1200) = 1,500.
        let v = try s.valuation(at: at(1, 4))
        #expect(v.realised == d("3500"))
        #expect(v.unrealised == d("1500"))
        let row = try #require(v.symbols.first)
        #expect(row.position == d("50000"))
        #expect(row.averageOpenPrice == d("1.12"))
        #expect(row.price == d("1.15"))
        // Equity = 10,000 + 3,500 + 1,500 = 15,000.
        #expect(v.equity == d("15000"))

        // Closing the rest at 1.1400: 50,000 × 0.0200 = 1,000 more; the round trip ends with 4,500.
        try s.trade(.sell, "50000", "EURUSD", at: "1.1400", time: at(1, 5))
        let history = try s.ledger.history()
        var replay = try AccountReplay(
            history: history, account: .follower("F1", account: "A1"), prices: history.priceHistory())
        try replay.advanceToEnd()
        #expect(replay.total.realised == d("4500"))
        #expect(replay.total.roundTrips.map(\.net) == [d("4500")])
    }

    @Test("a reversal is a close plus an open, and the reversing fill's commission is shared by quantity")
    func reversal() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 2))
        try s.trade(.buy, "100", "XYZ", at: "10", currency: "USD", commission: "1", time: at(1, 3, 10))
        try s.trade(.sell, "300", "XYZ", at: "12", currency: "USD", commission: "3", time: at(1, 3, 11))
        // Sell 300 @ 12 against long 100 @ 10: closes 100 (100 × 2 = 200 realised) and opens short 200 @ 12.
        // Its commission 3 splits 100/300 → 1 to the closing trip, 2 to the new one.
        var v = try s.valuation(at: at(1, 3, 12))
        #expect(v.realised == d("200"))
        let row = try #require(v.symbols.first)
        #expect(row.position == d("-200"))
        #expect(row.averageOpenPrice == d("12"))

        try s.trade(.buy, "200", "XYZ", at: "11", currency: "USD", commission: "1", time: at(1, 3, 13))
        // Buy 200 @ 11 closes the short: 200 × (12 − 11) = 200; realised in all 400.
        v = try s.valuation(at: at(1, 4))
        #expect(v.realised == d("400"))
        #expect(v.commission == d("5"))
        #expect(v.symbols.first?.position == .zero)

        let history = try s.ledger.history()
        var replay = try AccountReplay(
            history: history, account: .follower("F1", account: "A1"), prices: history.priceHistory())
        try replay.advanceToEnd()
        // Trip 1: +200 − (1 + 1) = 198; trip 2: +200 − (2 + 1) = 197.
        #expect(replay.total.roundTrips.map(\.net) == [d("198"), d("197")])
        #expect(replay.total.roundTrips.map(\.commission) == [d("2"), d("3")])
    }

    @Test("JPY P&L converts into a USD account at the USD/JPY price, and USD P&L into a JPY account")
    func yenConversion() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 2))
        try s.trade(.buy, "10000", "EUR/JPY", at: "160.00", time: at(1, 3, 10))
        try s.mark("EUR/JPY", "161.00", at: at(1, 3, 11))
        try s.mark("USD/JPY", "150", at: at(1, 3, 11))
        // Unrealised 10,000 × (161 − 160) = 10,000 JPY; in USD 10,000 / 150 = 66.666666666666…
        // → 66.666666666667 at R1 (12 digits, half-even) → 66.67 displayed.
        var v = try s.valuation(at: at(1, 3, 12))
        #expect(v.symbols.first?.unrealisedInQuote == d("10000"))
        #expect(v.unrealised == d("66.666666666667"))
        #expect(LedgerRounding.display(v.unrealised, currency: "USD") == d("66.67"))

        try s.mark("USD/JPY", "160", at: at(1, 3, 13))
        try s.trade(.sell, "10000", "EUR/JPY", at: "162.00", time: at(1, 3, 14))
        // Realised 10,000 × (162 − 160) = 20,000 JPY converted at the fill's instant: the latest USD/JPY
        // is the 160 mark → 125 USD exactly.
        v = try s.valuation(at: at(1, 4))
        #expect(v.realised == d("125"))
        #expect(v.unrealised == .zero)

        // The other way: a JPY account trading EUR/USD multiplies by USD/JPY.
        try s.deposit("1000000", follower: "F2", account: "J1", currency: "JPY", at: at(1, 2))
        try s.trade(.buy, "10000", "EUR/USD", at: "1.10", follower: "F2", account: "J1", time: at(1, 5, 10))
        try s.trade(.sell, "10000", "EUR/USD", at: "1.12", follower: "F2", account: "J1", time: at(1, 5, 11))
        // 10,000 × 0.02 = 200 USD × 160 (USD/JPY at 11:00 on 5 January) = 32,000 JPY.
        let j = try s.valuation(.follower("F2", account: "J1"), at: at(1, 6))
        #expect(j.realised == d("32000"))
        #expect(j.equity == d("1032000"))
    }

    @Test("a missing conversion rate is a clear error, not a guess")
    func missingRate() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 2))
        try s.trade(.buy, "10", "GBP/CHF", at: "1.10", time: at(1, 3))
        // Opening needs no rate: nothing is realised, and the unrealised P&L is still 0.
        #expect(try s.valuation(at: at(1, 4)).symbols.first?.position == d("10"))
        try s.mark("GBP/CHF", "1.20", at: at(1, 3, 12))
        // Unrealised 10 × 0.10 = 1 CHF must be valued in USD, and nothing prices CHF in USD.
        #expect(throws: LedgerError.missingConversionRate(from: "CHF", to: "USD", at: at(1, 4))) {
            _ = try s.valuation(at: at(1, 4))
        }
        try s.mark("USD/CHF", "0.80", at: at(1, 3, 12))
        // 1 CHF / 0.80 = 1.25 USD.
        #expect(try s.valuation(at: at(1, 4)).unrealised == d("1.25"))

        // A volume fee needs every copied fill's notional in the account currency at the fill's time.
        var v = try Scenario()
        try v.deposit("10000", at: at(1, 2))
        try v.subscribe("S1", start: at(1, 2), terms: FeeTerms(volumeFeePerMillion: d("5")))
        try v.copy(.buy, "10", "GBP/CHF", at: "1.10", time: at(1, 3))
        try v.mark("USD/CHF", "0.80", at: at(1, 3, 12))
        #expect(throws: LedgerError.missingConversionRate(from: "CHF", to: "USD", at: at(1, 3))) {
            try v.ledger.crystallise(asOf: at(3, 1))
        }
    }

    @Test("unrealised P&L uses the latest mark, else the last fill price of any account")
    func markFallback() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 2))
        try s.trade(.buy, "10", "XYZ", at: "100", currency: "USD", time: at(1, 3, 10))
        // No mark: the last fill price is the position's own, so unrealised is 0.
        #expect(try s.valuation(at: at(1, 3, 11)).unrealised == .zero)
        // Another account trades XYZ at 104: that is now the latest price → 10 × 4 = 40.
        try s.trade(.buy, "1", "XYZ", at: "104", follower: "F9", account: "Z", currency: "USD", time: at(1, 3, 12))
        #expect(try s.valuation(at: at(1, 3, 13)).unrealised == d("40"))
        // A mark at 103 after that fill wins: 10 × 3 = 30. A valuation counts only prices before it.
        try s.mark("XYZ", "103", at: at(1, 3, 14))
        #expect(try s.valuation(at: at(1, 3, 14)).unrealised == d("40"))
        #expect(try s.valuation(at: at(1, 3, 15)).unrealised == d("30"))
        // A mark and a fill at the same instant: the mark wins the tie.
        try s.mark("XYZ", "101", at: at(1, 3, 16))
        try s.trade(.buy, "1", "XYZ", at: "102", follower: "F9", account: "Z", currency: "USD", time: at(1, 3, 16))
        #expect(try s.valuation(at: at(1, 3, 17)).unrealised == d("10"))
    }

    @Test("two providers for one follower: P&L is attributed by the signal each fill came from")
    func attribution() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 2))
        try s.copy(.buy, "10000", at: "1.10", provider: "P1", time: at(1, 16))
        try s.copy(.sell, "10000", at: "1.12", provider: "P2", time: at(1, 17))
        try s.copy(.sell, "10000", at: "1.15", provider: "P1", time: at(1, 20))
        try s.copy(.buy, "10000", at: "1.14", provider: "P2", time: at(1, 21))
        try s.trade(.buy, "1000", "EURUSD", at: "1.14", time: at(1, 22))
        try s.mark("EURUSD", "1.16", at: at(1, 23))
        let v = try s.valuation(at: at(1, 24))
        // P1: long 10,000 @ 1.10 → sold @ 1.15: +500. P2: short 10,000 @ 1.12 → bought @ 1.14: −200.
        // Manual: long 1,000 @ 1.14 marked 1.16: +20 unrealised.
        #expect(v.sources[.provider("P1")]?.realised == d("500"))
        #expect(v.sources[.provider("P2")]?.realised == d("-200"))
        #expect(v.sources[.unattributed]?.unrealised == d("20"))
        // The account nets the fills (FIFO across sources): buy 1.10 / sell 1.12 → +200, then
        // short @ 1.15 / buy 1.14 → +100: realised 300 = 500 − 200; the sum of sources agrees.
        #expect(v.realised == d("300"))
        let sum = v.sources.values.reduce(FixedDecimal.zero) { $0 + $1.net }
        #expect(sum == v.tradingNet)
        #expect(v.tradingNet == d("320"))
    }

    @Test("the pnl report shows window P&L per symbol, per account and per source")
    func pnlReport() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 2))
        try s.copy(.buy, "10000", at: "1.10", time: at(1, 3))
        try s.mark("EURUSD", "1.12", at: at(1, 31, 12))
        try s.copy(.sell, "10000", at: "1.13", time: at(2, 3))
        // January: unrealised 10,000 × 0.02 = 200 at the end of the month.
        // February: realised 300, unrealised change −200 → net 100.
        let report = try s.ledger.report(.pnl, window: ReportWindow(from: at(2, 1), to: at(3, 1)))
        let pnl = try #require(report.section("pnl"))
        let follower = pnl.records.filter { $0["owner"] == .text("follower") && $0["symbol"] == .text("EURUSD") }
        #expect(follower.count == 1)
        #expect(follower.first?["realised"] == .decimal(d("300.00")))
        #expect(follower.first?["unrealised_change"] == .decimal(d("-200.00")))
        #expect(follower.first?["net"] == .decimal(d("100.00")))
        let source = try #require(report.section("pnl_by_source")?.records.first)
        #expect(source["source"] == .text("P1"))
        #expect(source["net"] == .decimal(d("100.00")))
    }

    @Test("a fill that one of its books cannot take is taken by neither")
    func fillTakenByBothBooksOrNeither() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 2))
        try s.copy(.buy, "1", "EURJPY", at: "150", provider: "P1", time: at(1, 3, 10))
        try s.copy(.buy, "1", "EURJPY", at: "160", provider: "P2", time: at(1, 3, 11))
        // The account's book closes P1's lot (FIFO) at its own price: nothing realised, nothing to
        // convert. P2's book closes P2's lot: −10 JPY to convert into USD, and no USD/JPY rate is known.
        try s.copy(.sell, "1", "EURJPY", at: "150", provider: "P2", time: at(1, 3, 12))
        let history = try s.ledger.history()
        var replay = try AccountReplay(
            history: history, account: .follower("F1", account: "A1"), prices: history.priceHistory())
        #expect(throws: LedgerError.self) { try replay.advanceToEnd() }
        #expect(replay.total.symbols.values.map(\.book.position) == [d("2")])
        #expect(replay.sources[.provider("P1")]?.symbols.values.map(\.book.position) == [d("1")])
        #expect(replay.sources[.provider("P2")]?.symbols.values.map(\.book.position) == [d("1")])
    }
}
