import FIXCore
import Testing

@testable import Ledger

@Suite("Statistics")
struct StatisticsTests {
    func returns(
        _ s: Scenario, _ account: AccountRef, from: UTCTimestamp?, to: UTCTimestamp
    ) throws
        -> ReturnStatistics
    {
        let history = try s.ledger.history()
        return try Statistics.returns(
            history: history, prices: history.priceHistory(), account: account, window: ReportWindow(from: from, to: to)
        )
    }

    @Test("time-weighted return chains sub-periods split at cash flows")
    func timeWeightedReturn() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 1))
        try s.trade(.buy, "100", "XYZ", at: "100", currency: "USD", time: at(1, 1, 12))
        try s.mark("XYZ", "110", at: at(1, 2, 12))
        try s.deposit("11000", at: at(1, 3, 12))
        try s.mark("XYZ", "99", at: at(1, 4, 12))
        // Sub-period 1: 10,000 → 11,000 (100 × +10 unrealised) before the deposit: × 1.1.
        // Sub-period 2: 11,000 + 11,000 = 22,000 → 21,000 − 100 = 20,900 (100 × (99 − 100) unrealised):
        //   × 20,900 / 22,000 = 0.95.
        // Index 1.1 × 0.95 = 1.045 → TWR +4.5 %, although equity went from 0 to 20,900: the deposits
        // are capital. (Money-weighted, the 1,100 loss on 22,000 would dominate the 1,000 gain on 10,000.)
        let r = try returns(s, .follower("F1", account: "A1"), from: nil, to: at(1, 5))
        #expect(r.timeWeightedReturn == d("0.045"))
        // Peak 1.1, trough 1.045: (1.1 − 1.045) / 1.1 = 0.05.
        #expect(r.maxDrawdown == d("0.05"))
        #expect(r.startEquity == .zero)
        #expect(r.endEquity == d("20900"))
        #expect(r.netFlows == d("21000"))
    }

    @Test("maximum drawdown is on the TWR index: a deposit is not a recovery")
    func drawdownIgnoresDeposits() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 1))
        try s.trade(.buy, "100", "XYZ", at: "100", currency: "USD", time: at(1, 1, 1))
        try s.mark("XYZ", "90", at: at(1, 2, 1))
        try s.deposit("5000", at: at(1, 3, 1))
        try s.mark("XYZ", "83", at: at(1, 4, 1))
        // Index: 10,000 → 9,000 = 0.9. Then base 9,000 + 5,000 = 14,000 → 14,000 − 700 = 13,300:
        //   × 0.95 → 0.855. Drawdown from the starting peak 1: 14.5 %.
        // On raw equity the deposit would have looked like a recovery from 9,000 to 14,000.
        let r = try returns(s, .follower("F1", account: "A1"), from: nil, to: at(1, 5))
        #expect(r.timeWeightedReturn == d("-0.145"))
        #expect(r.maxDrawdown == d("0.145"))
    }

    @Test("a window starts from the equity at its start; an unfunded account has no return")
    func windowedReturn() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 1))
        try s.trade(.buy, "100", "XYZ", at: "100", currency: "USD", time: at(1, 1, 1))
        try s.mark("XYZ", "110", at: at(1, 2, 1))
        try s.mark("XYZ", "121", at: at(1, 3, 1))
        // From 2 Jan 12:00 (equity 11,000) to 4 Jan (12,100): +10 %.
        let r = try returns(s, .follower("F1", account: "A1"), from: at(1, 2, 12), to: at(1, 4))
        #expect(r.timeWeightedReturn == d("0.1"))
        #expect(r.startEquity == d("11000"))
        // A provider account with fills but no recorded capital: nothing to measure a return against.
        try s.providerTrade(.buy, "1", "XYZ", at: "100", currency: "USD", time: at(1, 1, 2))
        let p = try returns(s, .provider("P1", account: "PA"), from: nil, to: at(1, 4))
        #expect(p.timeWeightedReturn == nil)
        #expect(p.maxDrawdown == nil)
    }

    @Test("win rate, profit factor, average win and loss over closed round trips")
    func tradeStatistics() throws {
        var s = try Scenario()
        try s.fund(provider: "P1", "10000", at: at(1, 1))
        let trips: [(String, String)] = [("100", "400"), ("400", "300"), ("100", "300"), ("50", "50"), ("60", "10")]
        for (day, trip) in trips.enumerated() {
            try s.providerTrade(.buy, "1", "XYZ", at: trip.0, currency: "USD", time: at(1, day + 2, 10))
            try s.providerTrade(.sell, "1", "XYZ", at: trip.1, currency: "USD", time: at(1, day + 2, 11))
        }
        // Trips: +300, −100, +200, 0 (break-even), −50.
        // 5 trades, 2 wins, 2 losses → win rate 2 / 5 = 40 %.
        // Profit factor (300 + 200) / (100 + 50) = 3.333333333333; average win 250, average loss −75.
        let history = try s.ledger.history()
        var replay = try AccountReplay(
            history: history, account: .provider("P1", account: "PA"), prices: history.priceHistory())
        try replay.advanceToEnd()
        let stats = TradeStatistics(replay.total.roundTrips)
        #expect(stats.trades == 5)
        #expect(stats.wins == 2)
        #expect(stats.losses == 2)
        #expect(stats.winRate == d("0.4"))
        #expect(stats.profitFactor == d("3.333333333333"))
        #expect(stats.averageWin == d("250"))
        #expect(stats.averageLoss == d("-75"))

        let report = try s.ledger.report(.providers, window: ReportWindow(to: at(2, 1)))
        let row = try #require(report.section("providers")?.records.first)
        #expect(row["trades"] == .integer(5))
        #expect(row["win_rate_pct"] == .decimal(d("40.0000")))
        #expect(row["profit_factor"] == .decimal(d("3.3333")))
        #expect(row["avg_loss"] == .decimal(d("-75.00")))
        // 10,000 → 10,350: +3.5 %.
        #expect(row["net_pnl"] == .decimal(d("350.00")))
        #expect(row["twr_pct"] == .decimal(d("3.5000")))
    }

    @Test("slippage per copy in basis points, positive when worse for the follower, and latency")
    func slippageAndLatency() throws {
        let s = try Scenario()
        let t0 = at(1, 10, 9)
        func later(_ ms: Int64) -> UTCTimestamp {
            UTCTimestamp(nanosecondsSinceEpoch: t0.nanosecondsSinceEpoch + ms * 1_000_000)
        }
        try s.ledger.record(
            ProviderFill(
                providerID: "P1", account: "PA", execID: "E1", symbol: "EURUSD", side: .buy, quantity: d("1000000"),
                price: d("1.10000"), transactTime: t0, receivedAt: t0))
        try s.ledger.record(
            FollowerOrder(
                orderID: "O1", followerID: "F1", account: "A1", symbol: "EURUSD", side: .buy, quantity: d("100000"),
                providerID: "P1", signalExecID: "E1", signalReceivedAt: t0, sentAt: later(5)))
        for (id, quantity, price, ms) in [("X1", "60000", "1.10010", Int64(20)), ("X2", "40000", "1.10020", 35)] {
            try s.ledger.record(
                FollowerFill(
                    followerID: "F1", account: "A1", execID: id, orderID: "O1", symbol: "EURUSD", side: .buy,
                    quantity: d(quantity), price: d(price), providerID: "P1", signalExecID: "E1",
                    transactTime: later(ms), receivedAt: later(ms)))
        }
        // A sell copied 1 pip worse, without an order record, the provider price carried on the fill.
        try s.ledger.record(
            ProviderFill(
                providerID: "P1", account: "PA", execID: "E2", symbol: "EURUSD", side: .sell, quantity: d("1000000"),
                price: d("1.10000"), transactTime: later(1000), receivedAt: later(1000)))
        try s.ledger.record(
            FollowerFill(
                followerID: "F1", account: "A1", execID: "X3", symbol: "EURUSD", side: .sell, quantity: d("100000"),
                price: d("1.09990"), providerID: "P1", signalExecID: "E2", providerFillPrice: d("1.10000"),
                transactTime: later(1040), receivedAt: later(1042)))

        let copies = Statistics.copies(history: try s.ledger.history())
        #expect(copies.count == 2)
        // Buy: average (60,000 × 1.10010 + 40,000 × 1.10020) / 100,000 = 1.10014;
        //   (1.10014 − 1.10000) / 1.10000 × 10,000 = 1.272727272727 bps (worse: positive).
        let buy = copies[0]
        #expect(buy.averagePrice == d("1.10014"))
        #expect(buy.slippageBps == d("1.272727272727"))
        #expect(buy.sentLatencyNanos == 5_000_000)
        #expect(buy.filledLatencyNanos == 35_000_000)
        // Sell: (1.09990 − 1.10000) / 1.10000 × 10,000 × −1 = +0.909090909091 bps (sold lower: worse).
        let sell = copies[1]
        #expect(sell.orderID == nil)
        #expect(sell.slippageBps == d("0.909090909091"))
        #expect(sell.sentLatencyNanos == nil)
        #expect(sell.filledLatencyNanos == 42_000_000)

        let report = try s.ledger.report(.copies, window: ReportWindow(to: at(2, 1)))
        let row = try #require(report.section("copies")?.records.first)
        #expect(row["slippage_bps"] == .decimal(d("1.27")))
        #expect(row["sent_latency_ms"] == .decimal(d("5.000")))
        #expect(row["filled_latency_ms"] == .decimal(d("35.000")))
    }

    @Test("divergence is the follower's return less the provider's over the subscription")
    func divergence() throws {
        var s = try Scenario()
        try s.fund(provider: "P1", "100000", at: at(1, 1))
        try s.deposit("10000", at: at(1, 1))
        try s.subscribe("S1", start: at(1, 1, 1), terms: FeeTerms())
        try s.providerTrade(.buy, "100000", "EURUSD", at: "1.10", time: at(1, 2))
        try s.providerTrade(.sell, "100000", "EURUSD", at: "1.12", time: at(1, 3))
        try s.trade(.buy, "10000", "EURUSD", at: "1.1001", time: at(1, 2))
        try s.trade(.sell, "10000", "EURUSD", at: "1.1199", time: at(1, 3))
        // Provider: 100,000 × 0.02 = +2,000 on 100,000 → +2 %.
        // Follower: 10,000 × 0.0198 = +198 on 10,000 → +1.98 %. Divergence −0.02 %.
        let report = try s.ledger.report(.followers, window: ReportWindow(to: at(1, 10)))
        let row = try #require(report.section("subscriptions")?.records.first)
        #expect(row["follower_twr_pct"] == .decimal(d("1.9800")))
        #expect(row["provider_twr_pct"] == .decimal(d("2.0000")))
        #expect(row["divergence_pct"] == .decimal(d("-0.0200")))
    }
}
