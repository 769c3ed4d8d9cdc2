import FIXCore

/// What a fee run found: charges to record, the subscriptions' new states, and (on request) what is
/// accrued but not yet due.
public struct FeeRun: Sendable {
    /// Charges of crystallisations due by the run's `asOf` and not recorded yet, in time order.
    public var charges: [FeeCharge] = []
    /// The state of every subscription that crystallised, after its last crystallisation.
    public var states: [String: SubscriptionFeeState] = [:]
    /// For every subscription still open at `asOf`: the charges if it crystallised at `asOf`
    /// (reason ``CrystallisationReason/accrued``). Never recorded.
    public var accrued: [FeeCharge] = []
}

/// Performance, management and volume fees per subscription.
///
/// The rules, in the order they apply at a crystallisation instant `T` (which sees every event
/// strictly before `T`):
///
/// 1. **Management**: at each UTC midnight `m` while the subscription is copying (`start < m <= stop`),
///    `max(0, account equity at m) × rate / 365` accrues (R3, 12 digits). At `T` the accrued sum is
///    charged, rounded at R5; the sub-minor remainder is dropped, not carried.
/// 2. **Volume**: the notional of the fills copied from the provider since the previous
///    crystallisation (`quantity × price`, converted at each fill's time), × fee per million /
///    1,000,000 (R3), charged at R5.
/// 3. **Performance**: the subscription's cumulative net P&L is the P&L of the fills copied from
///    its provider (realised + unrealised − commissions, account currency) since the start, less the
///    management and volume fees charged to it so far (including those of step 1 and 2). Cash flows
///    are not P&L, so deposits and withdrawals never move it. When it is above the high-water mark,
///    `(net − mark) × rate` is charged (R5) and the mark moves up to `net`; otherwise nothing is
///    charged and the mark stays. The mark starts at 0 at the start.
/// 4. **Split**: the platform's part is `amount × platformShare` at R5; the provider gets the rest, so
///    the two always add up to the charge.
///
/// Crystallisations happen at each period end (midnight UTC of the start's date one or three months
/// on, the day clamped to the month), at the stop, and at each withdrawal from the follower's account
/// under `OnWithdrawal=crystallise`. Several at one instant are one crystallisation (reason: stop, else
/// period end, else withdrawal). Charges reduce the account's equity from their instant on.
///
/// A crystallisation is final: data that arrives later for an already crystallised period moves the
/// P&L of the next one (the mark is never recomputed).
public enum FeeEngine {
    static let daysPerYear = FixedDecimal(365)
    static let million = FixedDecimal(1_000_000)

    /// Runs every follower account that has subscriptions.
    public static func run(history: LedgerHistory, asOf: UTCTimestamp, accrued: Bool) throws -> FeeRun {
        let prices = history.priceHistory()
        var result = FeeRun()
        // An account never funded nor traded has nothing to charge yet; its periods crystallise (at
        // zero) once it has a currency.
        let known = Set(history.accounts)
        let accounts = Set(history.subscriptions.map(\.account)).filter(known.contains).sorted()
        let parts = history.partitioned(accounts)
        for account in accounts {
            let run = try run(history: parts[account]!, prices: prices, account: account, asOf: asOf, accrued: accrued)
            result.charges += run.charges
            result.accrued += run.accrued
            result.states.merge(run.states) { _, new in new }
        }
        return result
    }

    /// The earliest instant a subscription crystallises after its last crystallisation (its start
    /// when it never did): its next period end, its stop, or a withdrawal under
    /// `OnWithdrawal=crystallise`; `nil` when nothing will crystallise without new input (every
    /// subscription stopped and crystallised at its stop). It may be in the past: ``Ledger/crystallise(asOf:)``
    /// is then due.
    public static func nextCrystallisation(history: LedgerHistory) -> UTCTimestamp? {
        var next: UTCTimestamp?
        func consider(_ time: UTCTimestamp) {
            if next.map({ time < $0 }) ?? true { next = time }
        }
        for subscription in history.subscriptions {
            let after = history.feeStates[subscription.id]?.lastCrystallisedAt ?? subscription.start
            if let stop = subscription.stop, stop <= after { continue }
            var k = 1
            var boundary = subscription.start
            while boundary <= after {
                boundary = LedgerCalendar.periodBoundary(
                    anchor: subscription.start, months: k * subscription.terms.period.months)
                k += 1
            }
            consider(subscription.stop.map { Swift.min($0, boundary) } ?? boundary)
            if subscription.terms.onWithdrawal == .crystallise {
                for flow in history.cashFlows(of: subscription.account)
                where flow.kind == .withdrawal && flow.time > after && subscription.isActive(at: flow.time) {
                    consider(flow.time)
                    break
                }
            }
        }
        return next
    }

    private enum Step {
        case baseline
        case notionalMark
        case dayEnd
        case crystallise(CrystallisationReason)
        case accrued

        var rank: Int {
            switch self {
            case .baseline, .notionalMark: return 0
            case .dayEnd: return 1
            case .crystallise: return 2
            case .accrued: return 3
            }
        }
    }

    private struct Working {
        var subscription: Subscription
        var state: SubscriptionFeeState
        var baseline: FixedDecimal?
        var notionalMark: FixedDecimal?
        var periodStart: UTCTimestamp
        var managementAccrued = FixedDecimal.zero
        var crystallised = false
    }

    /// Runs one follower account's subscriptions together: their charges all move its equity, which
    /// the management fee of each accrues on.
    static func run(
        history: LedgerHistory, prices: PriceHistory, account: AccountRef, asOf: UTCTimestamp, accrued: Bool
    ) throws -> FeeRun {
        var replay = try AccountReplay(history: history, account: account, prices: prices)
        let subscriptions = history.subscriptions.filter { $0.account == account }.sorted { $0.id < $1.id }
        let withdrawals = history.cashFlows(of: account).filter { $0.kind == .withdrawal }.map(\.time)

        var working: [String: Working] = [:]
        var steps: [(time: UTCTimestamp, step: Step, subscription: String)] = []
        for subscription in subscriptions {
            let state = history.feeStates[subscription.id] ?? SubscriptionFeeState(subscriptionID: subscription.id)
            let last = state.lastCrystallisedAt
            working[subscription.id] = Working(
                subscription: subscription, state: state, periodStart: last ?? subscription.start)
            let id = subscription.id
            steps.append((subscription.start, .baseline, id))
            if let last { steps.append((last, .notionalMark, id)) }
            let after = last ?? subscription.start
            let end = subscription.stop ?? asOf

            if subscription.terms.managementRatePerYear.isPositive {
                let from = Swift.max(subscription.start, after)
                for midnight in LedgerCalendar.midnights(after: from, through: Swift.min(end, asOf)) {
                    steps.append((midnight, .dayEnd, id))
                }
            }

            var crystallisations: [UTCTimestamp: CrystallisationReason] = [:]
            func add(_ time: UTCTimestamp, _ reason: CrystallisationReason) {
                guard time > after, time <= asOf else { return }
                if let existing = crystallisations[time], priority(existing) >= priority(reason) { return }
                crystallisations[time] = reason
            }
            var k = 1
            while true {
                let boundary = LedgerCalendar.periodBoundary(
                    anchor: subscription.start, months: k * subscription.terms.period.months)
                if boundary > asOf { break }
                if let stop = subscription.stop, boundary >= stop { break }
                add(boundary, .periodEnd)
                k += 1
            }
            if let stop = subscription.stop { add(stop, .stop) }
            if subscription.terms.onWithdrawal == .crystallise {
                for time in withdrawals where subscription.isActive(at: time) && time > subscription.start {
                    add(time, .withdrawal)
                }
            }
            for (time, reason) in crystallisations { steps.append((time, .crystallise(reason), id)) }
            if accrued, subscription.stop.map({ $0 > asOf }) ?? true, subscription.start < asOf, after < asOf {
                steps.append((asOf, .accrued, id))
            }
        }
        steps.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.step.rank != b.step.rank { return a.step.rank < b.step.rank }
            return a.subscription < b.subscription
        }

        var result = FeeRun()
        var index = 0
        while index < steps.count {
            let time = steps[index].time
            try replay.advance(before: time)
            var equity: FixedDecimal?
            var chargedNow = FixedDecimal.zero
            while index < steps.count, steps[index].time == time {
                let (_, step, id) = steps[index]
                index += 1
                var w = working[id]!
                let source = Attribution.provider(w.subscription.providerID)
                switch step {
                case .baseline:
                    let value = try replay.sourceValuation(source, at: time)
                    w.baseline = value.net
                    if w.state.lastCrystallisedAt == nil { w.notionalMark = value.notional }
                case .notionalMark:
                    w.notionalMark = try replay.sourceValuation(source, at: time).notional
                case .dayEnd:
                    if equity == nil { equity = try replay.equity(at: time) }
                    let base = FixedDecimal.max(.zero, equity!)
                    w.managementAccrued += LedgerRounding.quotient(
                        LedgerRounding.product(base, w.subscription.terms.managementRatePerYear), daysPerYear)
                case .crystallise(let reason):
                    let charges = try crystallise(&w, at: time, reason: reason, replay: replay, commit: true)
                    for charge in charges { chargedNow += charge.amount }
                    result.charges += charges
                    result.states[id] = w.state
                case .accrued:
                    // Nothing accrues between a crystallisation at `asOf` and `asOf` itself.
                    if w.periodStart < time {
                        result.accrued += try crystallise(&w, at: time, reason: .accrued, replay: replay, commit: false)
                    }
                }
                working[id] = w
            }
            // A charge moves equity only after every step at its instant has seen the same equity.
            if chargedNow.isPositive { replay.charge(chargedNow) }
        }
        return result
    }

    private static func priority(_ reason: CrystallisationReason) -> Int {
        switch reason {
        case .stop: return 3
        case .periodEnd: return 2
        case .withdrawal: return 1
        case .accrued: return 0
        }
    }

    private static func crystallise(
        _ w: inout Working, at time: UTCTimestamp, reason: CrystallisationReason, replay: AccountReplay, commit: Bool
    ) throws -> [FeeCharge] {
        let subscription = w.subscription
        let terms = subscription.terms
        guard let baseline = w.baseline, let notionalMark = w.notionalMark else {
            preconditionFailure("crystallising \(subscription.id) at \(time) before its baseline")
        }
        let currency = replay.currency
        let source = try replay.sourceValuation(.provider(subscription.providerID), at: time)

        if terms.volumeFeePerMillion.isPositive, let gap = source.notionalGap { throw gap }
        let managementBasis = w.managementAccrued
        let management = LedgerRounding.feeCharge(managementBasis, currency: currency)
        let volumeBasis = source.notional - notionalMark
        let volume = LedgerRounding.feeCharge(
            LedgerRounding.quotient(LedgerRounding.product(volumeBasis, terms.volumeFeePerMillion), million),
            currency: currency)

        let net =
            source.net - baseline - (w.state.managementCharged + management) - (w.state.volumeCharged + volume)
        let mark = w.state.highWaterMark
        let gain = net - mark
        let performance =
            gain.isPositive
            ? LedgerRounding.feeCharge(LedgerRounding.product(gain, terms.performanceRate), currency: currency)
            : FixedDecimal.zero
        let markAfter = gain.isPositive ? net : mark

        func charge(_ kind: FeeKind, basis: FixedDecimal, rate: FixedDecimal, amount: FixedDecimal) -> FeeCharge {
            precondition(!amount.isNegative, "negative \(kind) fee \(amount) for \(subscription.id)")
            let platform = LedgerRounding.feeCharge(
                LedgerRounding.product(amount, terms.platformShare), currency: currency)
            let stamp = reason == .accrued ? "accrued" : String(time.nanosecondsSinceEpoch)
            return FeeCharge(
                chargeID: "\(subscription.id)|\(stamp)|\(kind.rawValue)", subscriptionID: subscription.id,
                account: subscription.account, providerID: subscription.providerID, kind: kind, reason: reason,
                periodStart: w.periodStart, crystallisedAt: time, basis: basis, rate: rate, amount: amount,
                platformAmount: platform, providerAmount: amount - platform, currency: currency,
                netPnL: kind == .performance ? net : .zero,
                highWaterMarkBefore: kind == .performance ? mark : .zero,
                highWaterMarkAfter: kind == .performance ? markAfter : .zero)
        }

        var charges: [FeeCharge] = []
        if terms.managementRatePerYear.isPositive {
            charges.append(
                charge(.management, basis: managementBasis, rate: terms.managementRatePerYear, amount: management))
        }
        if terms.volumeFeePerMillion.isPositive {
            charges.append(charge(.volume, basis: volumeBasis, rate: terms.volumeFeePerMillion, amount: volume))
        }
        if terms.performanceRate.isPositive {
            charges.append(charge(.performance, basis: gain, rate: terms.performanceRate, amount: performance))
        }

        if commit {
            w.state.highWaterMark = markAfter
            w.state.lastCrystallisedAt = time
            w.state.managementCharged += management
            w.state.volumeCharged += volume
            w.state.performanceCharged += performance
            w.managementAccrued = .zero
            w.notionalMark = source.notional
            w.periodStart = time
        }
        return charges
    }
}
