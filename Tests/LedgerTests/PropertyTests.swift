import FIXCore
import TestSupport
import Testing

@testable import Ledger

/// Properties over seeded random histories: a follower copying two providers, trading by hand too,
/// depositing and withdrawing, with marks, in three USD-quoted symbols.
@Suite("Properties")
struct PropertyTests {
    static let seeds: [UInt64] = [1, 7, 42, 2025, 0xC0FFEE]
    static let symbols: [(name: String, base: Int, scale: Int)] = [
        ("EURUSD", 11000, 4), ("GBPUSD", 12500, 4), ("XYZ", 10000, 2),
    ]

    enum Event {
        case fill(
            side: Side, quantity: FixedDecimal, symbol: String, price: FixedDecimal, provider: String?,
            commission: FixedDecimal)
        case mark(symbol: String, price: FixedDecimal)
        case flow(CashFlow.Kind, FixedDecimal)
    }

    struct Generated {
        var events: [(time: UTCTimestamp, event: Event)] = []
        var terms: [FeeTerms] = []
    }

    static func generate(seed: UInt64, count: Int = 220) -> Generated {
        var rng = SplitMix64(seed: seed)
        var generated = Generated()
        for _ in 0..<2 {
            generated.terms.append(
                FeeTerms(
                    performanceRate: [d("0"), d("0.1"), d("0.2"), d("0.25")].randomElement(using: &rng)!,
                    period: FeePeriod.allCases.randomElement(using: &rng)!,
                    onWithdrawal: WithdrawalPolicy.allCases.randomElement(using: &rng)!,
                    managementRatePerYear: [d("0"), d("0.01"), d("0.02")].randomElement(using: &rng)!,
                    volumeFeePerMillion: [d("0"), d("3"), d("5.5")].randomElement(using: &rng)!,
                    platformShare: [d("0"), d("0.3"), d("0.5"), d("1")].randomElement(using: &rng)!))
        }
        var time = at(1, 2).nanosecondsSinceEpoch
        var prices = symbols.map(\.base)
        for _ in 0..<count {
            time += Int64.random(in: 1...(24 * 60), using: &rng) * 60_000_000_000
            let which = Int.random(in: 0..<symbols.count, using: &rng)
            prices[which] = max(prices[which] / 2, prices[which] + Int.random(in: -40...40, using: &rng))
            let price = FixedDecimal(mantissa: Int128(prices[which]), scale: symbols[which].scale)
            let roll = Int.random(in: 0..<100, using: &rng)
            let event: Event
            switch roll {
            case 0..<60:
                let provider: String? = roll < 25 ? "P1" : (roll < 50 ? "P2" : nil)
                event = .fill(
                    side: Bool.random(using: &rng) ? .buy : .sell,
                    quantity: FixedDecimal(Int.random(in: 1...50, using: &rng) * 1000), symbol: symbols[which].name,
                    price: price, provider: provider,
                    commission: FixedDecimal(mantissa: Int128(Int.random(in: 0...300, using: &rng)), scale: 2))
            case 60..<85:
                event = .mark(symbol: symbols[which].name, price: price)
            default:
                event = .flow(
                    Bool.random(using: &rng) ? .deposit : .withdrawal,
                    FixedDecimal(Int.random(in: 1...200, using: &rng) * 100))
            }
            generated.events.append((UTCTimestamp(nanosecondsSinceEpoch: time), event))
        }
        return generated
    }

    /// Records the generated history; with `crystalliseEvery`, crystallises after every that many events
    /// (as at the last recorded event's time).
    static func build(_ generated: Generated, crystalliseEvery: Int? = nil) throws -> Scenario {
        let s = try Scenario()
        try s.deposit("1000000", at: at(1, 1))
        try s.subscribe("S1", provider: "P1", start: at(1, 1, 12), terms: generated.terms[0])
        try s.subscribe("S2", provider: "P2", start: at(1, 1, 12), terms: generated.terms[1])
        for (index, (time, event)) in generated.events.enumerated() {
            switch event {
            case .fill(let side, let quantity, let symbol, let price, let provider, let commission):
                let currency = symbol == "XYZ" ? "USD" : nil
                var signal: String?
                if let provider {
                    signal = "\(provider)-\(index)"
                    try s.ledger.record(
                        ProviderFill(
                            providerID: provider, account: "PA", execID: signal!, symbol: symbol, side: side,
                            quantity: quantity * FixedDecimal(10), price: price, currency: currency,
                            transactTime: time))
                }
                try s.ledger.record(
                    FollowerFill(
                        followerID: "F1", account: "A1", execID: "X\(index)", symbol: symbol, side: side,
                        quantity: quantity, price: price, currency: currency, commission: commission,
                        providerID: provider, signalExecID: signal, transactTime: time))
            case .mark(let symbol, let price):
                try s.ledger.record(Mark(symbol: symbol, price: price, time: time))
            case .flow(let kind, let amount):
                try s.ledger.record(
                    CashFlow(
                        flowID: "flow-\(index)", account: .follower("F1", account: "A1"), kind: kind, amount: amount,
                        currency: "USD", time: time))
            }
            if let every = crystalliseEvery, index % every == every - 1 {
                try s.ledger.crystallise(asOf: time)
            }
        }
        return s
    }

    @Test("allocations add up to fills: per-source positions and P&L sum to the account's", arguments: seeds)
    func allocationsAddUp(seed: UInt64) throws {
        let generated = Self.generate(seed: seed)
        let s = try Self.build(generated)
        let history = try s.ledger.history()
        let prices = history.priceHistory()
        var replay = try AccountReplay(history: history, account: .follower("F1", account: "A1"), prices: prices)
        var expected: [String: FixedDecimal] = [:]
        for (time, event) in generated.events {
            try replay.advance(before: time)
            let v = try replay.valuation(at: time)
            // Positions: account = Σ sources = Σ signed fill quantities so far.
            for symbol in Self.symbols.map(\.name) {
                let account = v.symbols.first { $0.symbol == symbol }?.position ?? .zero
                var sum = FixedDecimal.zero
                for book in replay.sources.values { sum += book.symbols[symbol]?.book.position ?? .zero }
                #expect(account == (expected[symbol] ?? .zero))
                #expect(sum == account)
            }
            // P&L: the sources' trading P&L adds up to the account's (the split between realised and
            // unrealised differs, because the account nets sources FIFO; the sum cannot).
            #expect(v.sources.values.reduce(FixedDecimal.zero) { $0 + $1.net } == v.tradingNet)
            if case .fill(let side, let quantity, let symbol, _, _, _) = event {
                expected[symbol, default: .zero] += side.signedOne * quantity
            }
        }
    }

    @Test("a FIFO fill closes then opens exactly its quantity; lots hold the position", arguments: seeds)
    func fifoConservation(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var book = FIFOBook()
        var position = FixedDecimal.zero
        for step in 0..<500 {
            let side: Side = Bool.random(using: &rng) ? .buy : .sell
            let quantity = FixedDecimal(mantissa: Int128(Int.random(in: 1...900, using: &rng)), scale: 1)
            let effect = book.apply(
                side: side, quantity: quantity, price: FixedDecimal(Int.random(in: 90...110, using: &rng)),
                time: UTCTimestamp(nanosecondsSinceEpoch: Int64(step)))
            #expect(effect.closedQuantity + effect.openedQuantity == quantity)
            position += side.signedOne * quantity
            #expect(book.position == position)
            let lots = book.openLots.reduce(FixedDecimal.zero) { $0 + $1.quantity }
            #expect(lots == position.magnitude)
            #expect(book.openLots.allSatisfy { $0.quantity.isPositive })
        }
    }

    @Test("realised plus unrealised P&L equals equity change less cash flows", arguments: seeds)
    func pnlIdentity(seed: UInt64) throws {
        let generated = Self.generate(seed: seed)
        let s = try Self.build(generated)
        try s.ledger.crystallise(asOf: generated.events.last!.time)
        let history = try s.ledger.history()
        let prices = history.priceHistory()
        var replay = try AccountReplay(history: history, account: .follower("F1", account: "A1"), prices: prices)
        // Independently of the lots: cash paid for fills, commissions, flows and fees so far.
        var cash: [String: FixedDecimal] = [:]
        var positions: [String: FixedDecimal] = [:]
        var commissions = FixedDecimal.zero
        var flows = FixedDecimal(1_000_000)
        var previous:
            (
                equity: FixedDecimal, pnl: FixedDecimal, commission: FixedDecimal, fees: FixedDecimal,
                flows: FixedDecimal
            )?
        let charges = history.charges(of: .follower("F1", account: "A1"))
        for (time, event) in generated.events {
            try replay.advance(before: time)
            let v = try replay.valuation(at: time)
            // Cash accounting: P&L = Σ −side × qty × price + Σ position × price now.
            var pnl = FixedDecimal.zero
            for (symbol, paid) in cash {
                pnl += paid
                if let price = prices.price(symbol, at: time, inclusive: false) { pnl += positions[symbol]! * price }
            }
            #expect(v.realised + v.unrealised == pnl)
            let fees = charges.filter { $0.crystallisedAt < time }.reduce(FixedDecimal.zero) { $0 + $1.amount }
            #expect(v.fees == fees)
            #expect(v.equity == flows + pnl - commissions - fees)
            // Between two instants: equity change − flows in between = Δ(realised + unrealised) − Δcommission − Δfees.
            if let p = previous {
                #expect(
                    v.equity - p.equity - (flows - p.flows)
                        == (v.realised + v.unrealised - p.pnl) - (commissions - p.commission) - (fees - p.fees))
            }
            previous = (v.equity, v.realised + v.unrealised, commissions, fees, flows)
            switch event {
            case .fill(let side, let quantity, let symbol, let price, _, let commission):
                cash[symbol, default: .zero] -= side.signedOne * quantity * price
                positions[symbol, default: .zero] += side.signedOne * quantity
                commissions += commission
            case .mark:
                break
            case .flow(let kind, let amount):
                flows += kind == .deposit ? amount : -amount
            }
        }
    }

    @Test(
        "fees are never negative, splits add up, marks only rise, and crystallising often changes nothing",
        arguments: seeds)
    func feeInvariants(seed: UInt64) throws {
        let generated = Self.generate(seed: seed)
        let once = try Self.build(generated)
        let end = generated.events.last!.time
        try once.ledger.crystallise(asOf: end)
        let charges = try once.ledger.history().charges
        for (id, terms) in zip(["S1", "S2"], generated.terms) {
            let charging =
                terms.performanceRate.isPositive || terms.managementRatePerYear.isPositive
                || terms.volumeFeePerMillion.isPositive
            let firstEnd = LedgerCalendar.periodBoundary(anchor: at(1, 1, 12), months: terms.period.months)
            if charging && firstEnd <= end { #expect(charges.contains { $0.subscriptionID == id }) }
        }
        for charge in charges {
            #expect(!charge.amount.isNegative)
            #expect(!charge.platformAmount.isNegative)
            #expect(!charge.providerAmount.isNegative)
            #expect(charge.platformAmount + charge.providerAmount == charge.amount)
            #expect(charge.amount == LedgerRounding.feeCharge(charge.amount, currency: "USD"))
            if charge.kind == .performance {
                #expect(charge.highWaterMarkAfter >= charge.highWaterMarkBefore)
                let gain = charge.netPnL - charge.highWaterMarkBefore
                #expect(charge.basis == gain)
                let expected = gain.isPositive ? LedgerRounding.feeCharge(gain * charge.rate, currency: "USD") : .zero
                #expect(charge.amount == expected)
            }
        }
        // The same history crystallised every 10 events gives the same charges.
        let often = try Self.build(generated, crystalliseEvery: 10)
        try often.ledger.crystallise(asOf: end)
        let again = try often.ledger.history().charges
        #expect(again.map(\.chargeID).sorted() == charges.map(\.chargeID).sorted())
        let byID = Dictionary(uniqueKeysWithValues: charges.map { ($0.chargeID, $0) })
        for charge in again { #expect(byID[charge.chargeID] == charge) }
    }
}
