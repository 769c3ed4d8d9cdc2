import FIXCore
import Testing

@testable import Ledger

/// Every scenario starts the subscription at 10:00 on 15 January 2025, so monthly periods end at
/// midnight UTC on 15 February, 15 March, 15 April, 15 May.
@Suite("Fees")
struct FeeTests {
    static let start = at(1, 15, 10)
    static let performance20 = FeeTerms(performanceRate: d("0.20"), platformShare: d("0.30"))

    @Test("a deposit mid-period is capital, not profit")
    func depositMidPeriod() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 15, 9))
        try s.subscribe("S1", start: Self.start, terms: Self.performance20)
        try s.copy(.buy, "10000", at: "1.10", time: at(1, 16))
        try s.deposit("5000", at: at(1, 20))
        try s.copy(.sell, "10000", at: "1.15", time: at(1, 25))

        let charges = try s.ledger.crystallise(asOf: at(2, 20))
        // Equity went 10,000 → 15,500, but 5,000 of that is the deposit: net P&L is
        // 10,000 × (1.15 − 1.10) = 500 above the mark of 0 → 20 % = 100.00,
        // platform 30 % = 30.00, provider 70.00, mark → 500.
        #expect(charges.count == 1)
        let fee = try #require(charges.first)
        #expect(fee.kind == .performance)
        #expect(fee.reason == .periodEnd)
        #expect(fee.crystallisedAt == at(2, 15))
        #expect(fee.periodStart == Self.start)
        #expect(fee.basis == d("500"))
        #expect(fee.amount == d("100.00"))
        #expect(fee.platformAmount == d("30.00"))
        #expect(fee.providerAmount == d("70.00"))
        #expect(fee.highWaterMarkAfter == d("500"))
        // The charge comes off equity: 10,000 + 5,000 + 500 − 100 = 15,400.
        #expect(try s.valuation(at: at(2, 20)).equity == d("15400"))
        // Crystallising again records nothing new.
        #expect(try s.ledger.crystallise(asOf: at(2, 20)).isEmpty)
        #expect(try s.ledger.history().feeStates["S1"]?.highWaterMark == d("500"))
    }

    @Test(
        "a withdrawal crystallises under OnWithdrawal=crystallise and waits under hold",
        arguments: WithdrawalPolicy.allCases)
    func withdrawal(policy: WithdrawalPolicy) throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 15, 9))
        var terms = Self.performance20
        terms.onWithdrawal = policy
        try s.subscribe("S1", start: Self.start, terms: terms)
        try s.copy(.buy, "10000", at: "1.10", time: at(1, 16))
        try s.copy(.sell, "10000", at: "1.20", time: at(1, 20))  // +1,000
        try s.withdraw("2000", at: at(1, 22))
        try s.copy(.buy, "10000", at: "1.20", time: at(1, 23))
        try s.copy(.sell, "10000", at: "1.16", time: at(1, 27))  // −400
        try s.ledger.crystallise(asOf: at(2, 20))
        let fees = try s.charges("S1", .performance)
        switch policy {
        case .crystallise:
            // At the withdrawal (22 Jan): net 1,000 above 0 → 200.00, mark 1,000.
            // At 15 Feb: net 1,000 − 400 = 600, below the mark → 0.00. Total 200.00.
            #expect(fees.map(\.reason) == [.withdrawal, .periodEnd])
            #expect(fees.map(\.crystallisedAt) == [at(1, 22), at(2, 15)])
            #expect(fees.map(\.amount) == [d("200.00"), d("0")])
            #expect(fees.map(\.highWaterMarkAfter) == [d("1000"), d("1000")])
        case .hold:
            // Only 15 Feb: net 600 above 0 → 120.00. The withdrawal itself is never a loss.
            #expect(fees.map(\.reason) == [.periodEnd])
            #expect(fees.map(\.amount) == [d("120.00")])
            #expect(fees.map(\.highWaterMarkAfter) == [d("600")])
        }
    }

    @Test("stopping mid-period crystallises at the stop, on unrealised P&L too, and nothing after")
    func stopMidPeriod() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 15, 9))
        var terms = Self.performance20
        terms.managementRatePerYear = d("0.0365")  // 0.0365 / 365 = 0.0001 per day
        try s.subscribe("S1", start: Self.start, terms: terms)
        try s.copy(.buy, "10000", at: "1.10", time: at(1, 16))
        try s.mark("EURUSD", "1.13", at: at(1, 31, 12))
        #expect(try s.ledger.record(SubscriptionStop(subscriptionID: "S1", stop: at(2, 1))) == .recorded)
        try s.copy(.sell, "10000", at: "1.20", time: at(2, 5))
        try s.ledger.crystallise(asOf: at(4, 30))

        // Management: midnights 16 Jan … 1 Feb (17 of them) while copying.
        //   16 Jan … 31 Jan: equity 10,000 (the buy at 16 Jan 00:00 is after that midnight's valuation,
        //   then the last price is the fill's own 1.10) → 16 × 10,000 × 0.0001 = 16.00
        //   1 Feb: 1.13 mark → 10,000 + 10,000 × 0.03 = 10,300 → 1.03
        //   → 17.03.
        // Performance: net = unrealised 300 − management 17.03 = 282.97 → 20 % = 56.594 → 56.59.
        let management = try s.charges("S1", .management)
        let performance = try s.charges("S1", .performance)
        #expect(management.map(\.amount) == [d("17.03")])
        #expect(performance.map(\.amount) == [d("56.59")])
        #expect(performance.first?.netPnL == d("282.97"))
        #expect(performance.first?.reason == .stop)
        #expect(performance.first?.crystallisedAt == at(2, 1))
        // The sale after the stop (+700 more) is not charged: no crystallisation after the stop.
        #expect(try s.ledger.history().charges.allSatisfy { $0.crystallisedAt == at(2, 1) })
    }

    /// 1 Jan–15 May: +1,000, −600, +500, +300 in four monthly periods.
    static func lossThenRecovery(crystalliseMonthly: Bool) throws -> Scenario {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 15, 9))
        try s.subscribe("S1", start: start, terms: performance20)
        let legs: [(month: Int, open: String, close: String)] = [
            (1, "1.10", "1.20"), (2, "1.20", "1.14"), (3, "1.14", "1.19"), (4, "1.19", "1.22"),
        ]
        for leg in legs {
            try s.copy(.buy, "10000", at: leg.open, time: at(leg.month, 16))
            try s.copy(.sell, "10000", at: leg.close, time: at(leg.month, 20))
            if crystalliseMonthly { try s.ledger.crystallise(asOf: at(leg.month + 1, 15)) }
        }
        try s.ledger.crystallise(asOf: at(5, 20))
        return s
    }

    @Test("a loss then a recovery below the high-water mark pays nothing", arguments: [false, true])
    func recoveryBelowMark(crystalliseMonthly: Bool) throws {
        let s = try Self.lossThenRecovery(crystalliseMonthly: crystalliseMonthly)
        let fees = try s.charges("S1", .performance)
        // 15 Feb: net 1,000, mark 0     → gain 1,000 → 200.00, mark 1,000
        // 15 Mar: net   400, mark 1,000 → gain  −600 →   0,    mark stays
        // 15 Apr: net   900, mark 1,000 → gain  −100 →   0     (recovered, still below)
        // 15 May: net 1,200, mark 1,000 → gain   200 →  40.00, mark 1,200
        #expect(fees.map(\.crystallisedAt) == [at(2, 15), at(3, 15), at(4, 15), at(5, 15)])
        #expect(fees.map(\.netPnL) == [d("1000"), d("400"), d("900"), d("1200")])
        #expect(fees.map(\.basis) == [d("1000"), d("-600"), d("-100"), d("200")])
        #expect(fees.map(\.amount) == [d("200.00"), d("0"), d("0"), d("40.00")])
        #expect(fees.map(\.highWaterMarkAfter) == [d("1000"), d("1000"), d("1000"), d("1200")])
        let state = try #require(try s.ledger.history().feeStates["S1"])
        #expect(state.highWaterMark == d("1200"))
        #expect(state.performanceCharged == d("240.00"))
        #expect(state.lastCrystallisedAt == at(5, 15))
    }

    @Test("two providers for one follower: each subscription pays on its own signals' P&L")
    func twoProviders() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 15, 9))
        try s.subscribe("S1", provider: "P1", start: Self.start, terms: Self.performance20)
        try s.subscribe("S2", provider: "P2", start: Self.start, terms: FeeTerms(performanceRate: d("0.10")))
        try s.copy(.buy, "10000", at: "1.10", provider: "P1", time: at(1, 16))
        try s.copy(.sell, "10000", at: "1.12", provider: "P2", time: at(1, 17))
        try s.copy(.sell, "10000", at: "1.15", provider: "P1", time: at(1, 20))
        try s.copy(.buy, "10000", at: "1.14", provider: "P2", time: at(1, 21))
        try s.ledger.crystallise(asOf: at(2, 15))
        // P1's copies: +500 → 20 % = 100.00. P2's: −200 → nothing, and P2's loss does not reduce
        // P1's fee although the account as a whole made only 300.
        #expect(try s.charges("S1", .performance).map(\.amount) == [d("100.00")])
        #expect(try s.charges("S2", .performance).map(\.amount) == [d("0")])
        #expect(try s.charges("S2", .performance).map(\.netPnL) == [d("-200")])
    }

    @Test("management fee accrues daily on equity, volume fee per million notional; both come before performance")
    func managementAndVolume() throws {
        var s = try Scenario()
        try s.deposit("100000", at: at(1, 1))
        let terms = FeeTerms(
            performanceRate: d("0.20"), managementRatePerYear: d("0.02"), volumeFeePerMillion: d("5"),
            platformShare: d("0.30"))
        try s.subscribe("S1", start: at(1, 1), terms: terms)
        try s.copy(.buy, "200000", at: "1.10", time: at(1, 10, 10))
        try s.copy(.sell, "200000", at: "1.10", time: at(1, 10, 11))
        try s.ledger.crystallise(asOf: at(3, 1))

        // Period 1 Jan → 1 Feb, 31 midnights (2 Jan … 1 Feb), equity 100,000 at each:
        //   daily 100,000 × 0.02 / 365 = 5.479452054794|52… → 5.479452054795 (R3)
        //   31 × 5.479452054795 = 169.863013698645 → 169.86 (R5)
        //   platform 169.86 × 0.30 = 50.958 → 50.96; provider 118.90
        // Volume: 2 × 200,000 × 1.10 = 440,000 notional × 5 / 1,000,000 = 2.20;
        //   platform 0.66, provider 1.54
        // Performance: net = 0 trading − 169.86 − 2.20 = −172.06 → below the mark, 0.
        // Period 1 Feb → 1 Mar, 28 midnights, equity 100,000 − 172.06 = 99,827.94:
        //   daily 99,827.94 × 0.02 / 365 = 1,996.5588 / 365 = 5.470024109589|04… → 5.470024109589
        //   28 × 5.470024109589 = 153.160675068492 → 153.16
        let management = try s.charges("S1", .management)
        #expect(management.map(\.crystallisedAt) == [at(2, 1), at(3, 1)])
        #expect(management.map(\.basis) == [d("169.863013698645"), d("153.160675068492")])
        #expect(management.map(\.amount) == [d("169.86"), d("153.16")])
        #expect(management.first?.platformAmount == d("50.96"))
        #expect(management.first?.providerAmount == d("118.90"))
        let volume = try s.charges("S1", .volume)
        #expect(volume.map(\.basis) == [d("440000"), d("0")])
        #expect(volume.map(\.amount) == [d("2.20"), d("0")])
        #expect(volume.first?.platformAmount == d("0.66"))
        #expect(volume.first?.providerAmount == d("1.54"))
        let performance = try s.charges("S1", .performance)
        #expect(performance.map(\.netPnL) == [d("-172.06"), d("-325.22")])
        #expect(performance.map(\.amount) == [d("0"), d("0")])
        // 100,000 − 172.06 − 153.16 = 99,674.78.
        #expect(try s.valuation(at: at(3, 2)).equity == d("99674.78"))
    }

    @Test("quarterly periods anchor on the start date and clamp to short months")
    func periodBoundaries() {
        #expect(LedgerCalendar.periodBoundary(anchor: at(1, 31, 15), months: 1) == at(2, 28))
        #expect(LedgerCalendar.periodBoundary(anchor: at(1, 31, 15), months: 2) == at(3, 31))
        #expect(
            LedgerCalendar.periodBoundary(anchor: at(11, 30), months: 3) == UTCTimestamp(year: 2026, month: 2, day: 28))
        #expect(LedgerCalendar.periodBoundary(anchor: at(1, 15, 10), months: 3) == at(4, 15))
    }

    @Test("fees of many accounts computed from each account's part of the history equal those from the whole")
    func partitionedHistory() throws {
        var s = try Scenario()
        let terms = FeeTerms(
            performanceRate: d("0.20"), managementRatePerYear: d("0.02"), volumeFeePerMillion: d("4"),
            platformShare: d("0.30"))
        for (n, follower) in ["F1", "F2", "F3"].enumerated() {
            try s.deposit("\(10_000 * (n + 1))", follower: follower, account: "A\(n)", at: at(1, 15, 9))
            try s.subscribe("S\(n)", follower: follower, account: "A\(n)", start: Self.start, terms: terms)
            for day in 16...(18 + n) {
                let price = "1.1\(day % 10)00"
                try s.copy(.buy, "10000", at: price, follower: follower, account: "A\(n)", time: at(1, day, 9))
                try s.copy(.sell, "10000", at: price + "5", follower: follower, account: "A\(n)", time: at(1, day, 15))
            }
        }
        try s.withdraw("500", follower: "F2", account: "A1", at: at(1, 20))
        try s.trade(.buy, "5000", "EURUSD", at: "1.1", follower: "F4", account: "A9", time: at(1, 21))
        try s.ledger.crystallise(asOf: at(2, 15))
        try s.copy(.buy, "10000", at: "1.1200", follower: "F1", account: "A0", time: at(2, 16))
        let history = try s.ledger.history()
        let asOf = at(3, 1)
        let run = try FeeEngine.run(history: history, asOf: asOf, accrued: true)
        var charges: [FeeCharge] = []
        var accrued: [FeeCharge] = []
        var states: [String: SubscriptionFeeState] = [:]
        for account in Set(history.subscriptions.map(\.account)).sorted() {
            let one = try FeeEngine.run(
                history: history, prices: history.priceHistory(), account: account, asOf: asOf, accrued: true)
            charges += one.charges
            accrued += one.accrued
            states.merge(one.states) { _, new in new }
        }
        #expect(!accrued.isEmpty)
        #expect(run.charges == charges)
        #expect(run.accrued == accrued)
        #expect(run.states == states)
        let parts = history.partitioned(history.accounts)
        for (account, part) in parts {
            #expect(part.bookFills(of: account) == history.bookFills(of: account))
            #expect(part.cashFlows(of: account) == history.cashFlows(of: account))
            #expect(part.charges(of: account) == history.charges(of: account))
            #expect(part.subscriptions == history.subscriptions.filter { $0.account == account })
        }
        #expect(parts.values.map(\.followerFills.count).reduce(0, +) == history.followerFills.count)
    }

    @Test("fees round half-even at the minor unit: cents for USD, yen for JPY")
    func roundingHalfEven() throws {
        #expect(LedgerRounding.feeCharge(d("0.025"), currency: "USD") == d("0.02"))
        #expect(LedgerRounding.feeCharge(d("0.035"), currency: "USD") == d("0.04"))
        #expect(LedgerRounding.feeCharge(d("0.0251"), currency: "USD") == d("0.03"))
        #expect(LedgerRounding.feeCharge(d("2.5"), currency: "JPY") == d("2"))
        #expect(LedgerRounding.feeCharge(d("3.5"), currency: "JPY") == d("4"))
        #expect(LedgerRounding.feeCharge(d("0.0005"), currency: "KWD") == d("0.000"))

        var s = try Scenario()
        try s.deposit("1000", at: at(1, 15, 9))
        try s.deposit("100000", follower: "F2", account: "J1", currency: "JPY", at: at(1, 15, 9))
        try s.subscribe("SU", start: Self.start, terms: FeeTerms(performanceRate: d("0.20"), platformShare: d("0.25")))
        try s.subscribe(
            "SJ", follower: "F2", account: "J1", start: Self.start,
            terms: FeeTerms(performanceRate: d("0.20"), platformShare: d("0.25")))
        try s.copy(.buy, "1", "XYZ", at: "100.000", currency: "USD", time: at(1, 16))
        try s.copy(.sell, "1", "XYZ", at: "100.125", currency: "USD", time: at(1, 17))
        try s.copy(.buy, "100", "USD/JPY", at: "150.000", follower: "F2", account: "J1", time: at(1, 16))
        try s.copy(.sell, "100", "USD/JPY", at: "150.125", follower: "F2", account: "J1", time: at(1, 17))
        try s.ledger.crystallise(asOf: at(2, 15))
        // USD: gain 0.125 × 20 % = 0.025 → 0.02 (half-up would say 0.03);
        //   platform 0.02 × 25 % = 0.005 → 0.00, provider 0.02.
        let usd = try #require(try s.charges("SU", .performance).first)
        #expect(usd.amount == d("0.02"))
        #expect(usd.platformAmount == d("0.00"))
        #expect(usd.providerAmount == d("0.02"))
        // JPY: 100 × 0.125 = 12.5 JPY gain × 20 % = 2.5 → 2 JPY; platform 2 × 25 % = 0.5 → 0.
        let jpy = try #require(try s.charges("SJ", .performance).first)
        #expect(jpy.amount == d("2"))
        #expect(jpy.platformAmount == d("0"))
        #expect(jpy.providerAmount == d("2"))
    }

    @Test("terms out of range and overlapping subscriptions are refused with the reason")
    func invalidSubscriptions() throws {
        let s = try Scenario()
        #expect(throws: LedgerError.invalidInput("subscription S0: performance fee rate 1.5 is outside 0...1")) {
            try s.ledger.record(
                SubscriptionStart(
                    subscriptionID: "S0", followerID: "F1", account: "A1", providerID: "P1", start: Self.start,
                    terms: FeeTerms(performanceRate: d("1.5"))))
        }
        try s.subscribe("S1", start: Self.start, terms: Self.performance20)
        #expect(throws: LedgerError.self) {
            try s.ledger.record(
                SubscriptionStart(
                    subscriptionID: "S2", followerID: "F1", account: "A1", providerID: "P1", start: at(2, 1),
                    terms: Self.performance20))
        }
        #expect(throws: LedgerError.invalidInput("subscription S1: stop 20250115-10:00:00.000 is not after its start"))
        {
            try s.ledger.record(SubscriptionStop(subscriptionID: "S1", stop: Self.start))
        }
        #expect(throws: LedgerError.unknownSubscription("S9")) {
            try s.ledger.record(SubscriptionStop(subscriptionID: "S9", stop: Self.start))
        }
        // After a stop, a new subscription to the same provider may start.
        #expect(try s.ledger.record(SubscriptionStop(subscriptionID: "S1", stop: at(2, 1))) == .recorded)
        #expect(try s.ledger.record(SubscriptionStop(subscriptionID: "S1", stop: at(2, 1))) == .duplicate)
        try s.subscribe("S2", start: at(2, 1), terms: Self.performance20)
    }

    @Test("a subscriber not funded yet blocks nobody's fees; a stop inside a crystallised period is refused")
    func unfundedAndLateStop() throws {
        var s = try Scenario()
        try s.deposit("10000", at: at(1, 15, 9))
        try s.subscribe("S1", start: Self.start, terms: Self.performance20)
        try s.subscribe("S9", follower: "F9", account: "Z", start: Self.start, terms: Self.performance20)
        try s.copy(.buy, "10000", at: "1.10", time: at(1, 16))
        try s.copy(.sell, "10000", at: "1.15", time: at(1, 25))
        try s.ledger.crystallise(asOf: at(2, 20))
        #expect(try s.charges("S1", .performance).map(\.amount) == [d("100.00")])
        #expect(try s.charges("S9", .performance).isEmpty)
        #expect(
            try s.ledger.report(.fees, window: ReportWindow(to: at(2, 20))).section("high_water_marks")?.rows.count == 2
        )
        #expect(
            throws: LedgerError.invalidInput(
                "subscription S1: stop 20250201-00:00:00.000 is before its last crystallisation at 20250215-00:00:00.000"
            )
        ) {
            try s.ledger.record(SubscriptionStop(subscriptionID: "S1", stop: at(2, 1)))
        }
        #expect(try s.ledger.record(SubscriptionStop(subscriptionID: "S1", stop: at(2, 16))) == .recorded)
    }

    @Test("the next crystallisation: the first period end not crystallised, a stop before it, a withdrawal")
    func nextCrystallisation() throws {
        let s = try Scenario()
        #expect(try s.ledger.nextCrystallisation() == nil, "no subscription")
        try s.deposit("10000", at: at(1, 15, 9))
        var quarterly = Self.performance20
        quarterly.period = .quarterly
        try s.subscribe("S1", start: Self.start, terms: quarterly)
        #expect(try s.ledger.nextCrystallisation() == at(4, 15))
        try s.ledger.crystallise(asOf: at(4, 20))
        #expect(try s.ledger.nextCrystallisation() == at(7, 15), "the first one is recorded")
        try s.ledger.crystallise(asOf: at(4, 20))
        #expect(try s.ledger.nextCrystallisation() == at(7, 15), "crystallising again records nothing")

        // Under OnWithdrawal=crystallise a withdrawal comes first; under hold it does not count.
        var onWithdrawal = Self.performance20
        onWithdrawal.onWithdrawal = .crystallise
        try s.subscribe("S2", account: "A2", start: at(5, 1), terms: onWithdrawal)
        try s.subscribe("S3", account: "A3", start: at(5, 1), terms: Self.performance20)
        try s.withdraw("100", account: "A2", at: at(5, 10))
        try s.withdraw("100", account: "A3", at: at(5, 9))
        #expect(try s.ledger.nextCrystallisation() == at(5, 10))
        try s.ledger.crystallise(asOf: at(5, 11))
        #expect(try s.ledger.nextCrystallisation() == at(6, 1), "S2 and S3's first period end")

        // A stop before the period end is next; once crystallised, a stopped subscription is done.
        for id in ["S1", "S2", "S3"] {
            #expect(try s.ledger.record(SubscriptionStop(subscriptionID: id, stop: at(5, 20))) == .recorded)
        }
        #expect(try s.ledger.nextCrystallisation() == at(5, 20))
        try s.ledger.crystallise(asOf: at(5, 21))
        #expect(try s.ledger.nextCrystallisation() == nil)
    }
}
