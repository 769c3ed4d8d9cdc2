import FIXCore

/// Loss protection: the P&L the engine can see, equity, daily loss and drawdown.
///
/// **Equity** is an approximation the engine can keep without the ledger: the base (the
/// configured `Equity`, or the last broker value passed in with `setEquity`) plus the P&L of
/// what the engine saw since that base was set. For a follower that P&L covers his copies only
/// (fills of our orders; his own trades and position-report adjustments are not counted), for a
/// provider her fills on her drop copy. Realised P&L uses each fill's LastPx (else AvgPx, else the
/// mark) against the average price of the open quantity; unrealised P&L values the open quantity
/// at the mark's mid. A pair's P&L, in its quote currency, is converted to the account currency
/// at the marks (see `inAccountCurrency`); commissions, swaps and funding are not included, which
/// the ledger (`Ledger`) accounts for. Busts and corrects of a provider's fills adjust her position but not
/// her realised P&L.
///
/// **Daily loss** is the P&L at the start of the trading day (`TradingDayReset`, UTC) minus the
/// P&L now; as a percentage it is relative to the equity at the start of the day. **Drawdown** is
/// the fall of equity from its peak, in percent of the peak. Peaks are sampled: at every fill,
/// and on a tick at most once a second while the equity rises, so a peak reached and lost within
/// a second may be missed.
///
/// **Determinism.** Everything here changes state only at journaled points: fills (journaled
/// messages) and ticks the engine journals because something is due (a trip, a day change, a
/// peak sample, a retry). A journaled tick evaluates every account, live and in replay alike;
/// marks the evaluation reads are journaled before the tick (as for every record). So replay
/// rebuilds trips, day starts and peaks exactly.
///
/// A tripped loss breaker stays tripped (across days and restarts) until `reset-breaker`, which
/// starts counting again from the current equity: the day's loss and the peak restart from it.
struct LossTracker {
    let limits: LossLimits
    /// Trading day (days since the epoch, shifted by the reset time); `.min` before the first check.
    var day: Int64 = .min
    var dayStartPnL: FixedDecimal = 0
    var dayStartEquity: FixedDecimal?
    var peak: FixedDecimal?
    var peakAt: EngineTime = .min
    /// The P&L when the equity base was last set.
    var pnlAtBase: FixedDecimal = 0

    init(limits: LossLimits) {
        self.limits = limits
    }

    static let dayNanos: Int64 = 86_400_000_000_000
    /// Peaks rise on ticks at most this often.
    static let peakSampleNanos: Int64 = 1_000_000_000

    var offsetNanos: Int64 { Int64(limits.dayStartMinute) * 60_000_000_000 }

    func dayIndex(_ now: EngineTime) -> Int64 {
        (now - offsetNanos).floorDivided(by: Self.dayNanos)
    }

    /// When the trading day after the current one starts (now, before the first check).
    var nextDayStart: EngineTime {
        day == .min ? .min : (day + 1) * Self.dayNanos + offsetNanos
    }

    /// The equity for a P&L of `pnl` and a base of `base`.
    func equity(pnl: FixedDecimal, base: FixedDecimal?) -> FixedDecimal? {
        base.map { $0 + pnl - pnlAtBase }
    }

    /// What a check now would change, without changing it.
    func evaluate(
        pnl: FixedDecimal, base: FixedDecimal?, now: EngineTime, dailyTripped: Bool, drawdownTripped: Bool
    ) -> LossEvaluation {
        var next = self
        var e = LossEvaluation(tracker: self)
        let equity = equity(pnl: pnl, base: base)
        e.equity = equity
        let today = dayIndex(now)
        if today != day {
            next.day = today
            next.dayStartPnL = pnl
            next.dayStartEquity = equity
            e.changed = true
        } else if dayStartEquity == nil, let eq = equity {
            // The base became known during the day: the day started that much lower or higher.
            next.dayStartEquity = eq - (pnl - dayStartPnL)
            e.changed = true
        }
        if let eq = equity, next.peak.map({ eq > $0 }) ?? true {
            next.peak = eq
            next.peakAt = now
            e.changed = true
            e.peakDue = peak == nil || now >= peakAt + Self.peakSampleNanos
        }
        if let limit = limits.dailyLoss, !dailyTripped {
            let loss = next.dayStartPnL - pnl
            var bound: FixedDecimal?
            switch limit {
            case .amount(let a): bound = a
            case .percent(let pct):
                if let start = next.dayStartEquity, start.isPositive {
                    bound = (start * pct).divided(by: 100, scale: 8, .halfEven)
                }
            }
            if let bound, loss >= bound {
                e.daily =
                    "loss=\(loss.rounded(scale: 2, .halfEven)) bound=\(bound.normalized) (DailyLossLimit=\(limit))"
            }
        }
        if limits.maxDrawdownPct.isPositive, !drawdownTripped, let eq = equity, let peak = next.peak, peak.isPositive {
            let pct = ((peak - eq) * 100).divided(by: peak, scale: 4, .down)
            if pct >= limits.maxDrawdownPct {
                e.drawdown =
                    "drawdown=\(pct.normalized)% bound=\(limits.maxDrawdownPct.normalized)% "
                    + "peak=\(peak.rounded(scale: 2, .halfEven)) equity=\(eq.rounded(scale: 2, .halfEven))"
            }
        }
        e.tracker = next
        return e
    }

    /// After a reset: the day's loss and the peak count from now.
    mutating func rebase(pnl: FixedDecimal, base: FixedDecimal?, now: EngineTime) {
        let eq = equity(pnl: pnl, base: base)
        if day == .min { day = dayIndex(now) }
        dayStartPnL = pnl
        dayStartEquity = eq
        peak = eq
        peakAt = now
    }
}

/// What a loss check found.
struct LossEvaluation {
    /// The tracker after the check.
    var tracker: LossTracker
    var equity: FixedDecimal?
    /// The tracker differs (a new day, a known day-start equity, a new peak).
    var changed = false
    /// The new peak is due for sampling on a tick.
    var peakDue = false
    /// The detail of a daily-loss or drawdown breach.
    var daily: String?
    var drawdown: String?
}

extension CopyEngine {
    // MARK: P&L

    /// Books a fill of `q` signed units at `price` into a position of `qty` at average `avg`;
    /// returns the realised P&L (zero when nothing closes or it cannot be valued).
    static func book(
        _ q: FixedDecimal, at price: FixedDecimal, qty: inout FixedDecimal, avg: inout FixedDecimal?
    ) -> FixedDecimal {
        if q.isZero { return 0 }
        if qty.isZero || qty.signum == q.signum {
            let total = qty + q
            if let a = avg, !qty.isZero, let held = FixedDecimal.checkedProduct(a, qty.magnitude),
                let added = FixedDecimal.checkedProduct(price, q.magnitude)
            {
                avg = (held + added).divided(by: total.magnitude, scale: 10, .halfEven).normalized
            } else {
                avg = price
            }
            qty = total
            return 0
        }
        let closing = FixedDecimal.min(q.magnitude, qty.magnitude)
        var realised: FixedDecimal = 0
        if let a = avg, let r = FixedDecimal.checkedProduct(closing, price - a) {
            realised = qty.isPositive ? r : -r
        }
        qty += q
        if qty.isZero {
            avg = nil
        } else if qty.signum == q.signum {
            avg = price
        }
        return realised
    }

    /// A copy fill of `inc` units (negative for a bust) on order side `sign` for follower `f`.
    mutating func bookCopyFill(_ f: Int, _ s: Int, _ inc: FixedDecimal, sign: Int, price: FixedDecimal?) {
        let px = price ?? currentMark(s)?.mid ?? followers[f].symbols[s].pnlPx
        guard let px, px.isPositive else { return }
        var qty = followers[f].symbols[s].pnlQty
        var avg = followers[f].symbols[s].pnlPx
        let realised = Self.book(.signed(inc, sign), at: px, qty: &qty, avg: &avg)
        followers[f].symbols[s].pnlQty = qty
        followers[f].symbols[s].pnlPx = avg
        if !realised.isZero { followers[f].realised += inAccountCurrency(realised, symbol: s, price: px) }
        if followers[f].loss.limits.isActive && !pendingLossChecks.contains(f) { pendingLossChecks.append(f) }
    }

    /// Follower `f`'s P&L of copies: realised, and unrealised at the marks' mid.
    func followerPnL(_ f: Int) -> (realised: FixedDecimal, unrealised: FixedDecimal) {
        var unrealised: FixedDecimal = 0
        for s in followers[f].knownSymbols {
            let qty = followers[f].symbols[s].pnlQty
            guard !qty.isZero, let avg = followers[f].symbols[s].pnlPx, let mid = currentMark(s)?.mid,
                let u = FixedDecimal.checkedProduct(qty, mid - avg)
            else { continue }
            unrealised += inAccountCurrency(u, symbol: s, price: mid)
        }
        return (followers[f].realised, unrealised)
    }

    /// Her realised P&L of a fill that moves her position from `old` to `new` at `price`.
    mutating func bookProviderFill(_ p: Int, _ s: Int, old: FixedDecimal, new: FixedDecimal, price: FixedDecimal?) {
        guard let px = price, !old.isZero, old.signum != new.signum || new.magnitude < old.magnitude,
            let entry = providers[p].symbols[s].entryPx
        else { return }
        let closing = new.signum == old.signum ? old.magnitude - new.magnitude : old.magnitude
        if let r = FixedDecimal.checkedProduct(closing, px - entry) {
            providers[p].realised += inAccountCurrency(old.isPositive ? r : -r, symbol: s, price: px)
        }
    }

    /// Provider `p`'s P&L: realised, and unrealised of her positions at the marks' mid.
    func providerPnL(_ p: Int) -> (realised: FixedDecimal, unrealised: FixedDecimal) {
        var unrealised: FixedDecimal = 0
        for s in providers[p].symbols.indices {
            let qty = providers[p].symbols[s].position
            guard !qty.isZero, let entry = providers[p].symbols[s].entryPx, let mid = currentMark(s)?.mid,
                let u = FixedDecimal.checkedProduct(qty, mid - entry)
            else { continue }
            unrealised += inAccountCurrency(u, symbol: s, price: mid)
        }
        return (providers[p].realised, unrealised)
    }

    // MARK: Checks

    func evaluateFollowerLoss(_ f: Int) -> LossEvaluation {
        let pnl = followerPnL(f)
        let b = followers[f].breakers
        return followers[f].loss.evaluate(
            pnl: pnl.realised + pnl.unrealised, base: followers[f].equity, now: now,
            dailyTripped: breakers[b.daily].tripped, drawdownTripped: breakers[b.drawdown].tripped)
    }

    func evaluateProviderLoss(_ p: Int) -> LossEvaluation {
        let pnl = providerPnL(p)
        let b = providers[p].breakers
        return providers[p].loss.evaluate(
            pnl: pnl.realised + pnl.unrealised, base: providers[p].equity, now: now,
            dailyTripped: breakers[b.daily].tripped, drawdownTripped: breakers[b.drawdown].tripped)
    }

    /// Applies a check of follower `f`: the tracker, then any trip.
    mutating func applyFollowerLoss(_ f: Int, _ e: LossEvaluation) {
        followers[f].loss = e.tracker
        nextLossDay = Swift.min(nextLossDay, e.tracker.nextDayStart)
        let b = followers[f].breakers
        if let detail = e.daily { trip(b.daily, .dailyLossLimit, detail: detail) }
        if let detail = e.drawdown { trip(b.drawdown, .maxDrawdown, detail: detail) }
    }

    mutating func applyProviderLoss(_ p: Int, _ e: LossEvaluation) {
        providers[p].loss = e.tracker
        nextLossDay = Swift.min(nextLossDay, e.tracker.nextDayStart)
        let b = providers[p].breakers
        if let detail = e.daily { trip(b.daily, .dailyLossLimit, detail: detail) }
        if let detail = e.drawdown { trip(b.drawdown, .maxDrawdown, detail: detail) }
    }

    /// The checks this event's copy fills asked for (run once the event's fills are booked).
    mutating func runPendingLossChecks() {
        let pending = pendingLossChecks
        pendingLossChecks.removeAll(keepingCapacity: true)
        for f in pending { applyFollowerLoss(f, evaluateFollowerLoss(f)) }
    }

    /// A check of her losses after one of her fills.
    mutating func providerLossCheck(_ p: Int) {
        guard providers[p].loss.limits.isActive else { return }
        applyProviderLoss(p, evaluateProviderLoss(p))
    }

    /// Whether a tick has loss work: a new trading day, or marks that moved an account into a
    /// breach or to a peak due for sampling. Only reads state; accounts whose marks did not lead
    /// anywhere are forgotten until their marks move again.
    ///
    /// Live only (replay runs every journaled tick), so the scan may be rate-limited: at most one
    /// every ``lossScanNanos``, which bounds its cost with many followers in a busy market.
    mutating func lossTickDue() -> Bool {
        if lossFollowers.isEmpty && lossProviders.isEmpty { return false }
        if now >= nextLossDay { return true }
        if riskMarkSymbols.isEmpty || now < lossScanAt + Self.lossScanNanos { return false }
        lossScanAt = now
        var deferred = false
        for f in lossFollowers where holdsAny(follower: f, riskMarkSymbols) {
            let e = evaluateFollowerLoss(f)
            if e.daily != nil || e.drawdown != nil || e.peakDue { return true }
            if e.changed { deferred = true }
        }
        for p in lossProviders where holdsAny(provider: p, riskMarkSymbols) {
            let e = evaluateProviderLoss(p)
            if e.daily != nil || e.drawdown != nil || e.peakDue { return true }
            if e.changed { deferred = true }
        }
        if !deferred { riskMarkSymbols.removeAll(keepingCapacity: true) }
        return false
    }

    /// On a journaled tick: checks every account with loss limits.
    mutating func lossTick() {
        guard !lossFollowers.isEmpty || !lossProviders.isEmpty else { return }
        for f in lossFollowers { applyFollowerLoss(f, evaluateFollowerLoss(f)) }
        for p in lossProviders { applyProviderLoss(p, evaluateProviderLoss(p)) }
        riskMarkSymbols.removeAll(keepingCapacity: true)
        var next = EngineTime.max
        for f in lossFollowers { next = Swift.min(next, followers[f].loss.nextDayStart) }
        for p in lossProviders { next = Swift.min(next, providers[p].loss.nextDayStart) }
        nextLossDay = next
    }

    /// Live loss scans on ticks: at most this often.
    static let lossScanNanos: Int64 = 100_000_000

    func holdsAny(follower f: Int, _ symbols: Set<Int>) -> Bool {
        for s in symbols where s < followers[f].symbols.count && !followers[f].symbols[s].pnlQty.isZero {
            return true
        }
        return false
    }

    func holdsAny(provider p: Int, _ symbols: Set<Int>) -> Bool {
        for s in symbols where s < providers[p].symbols.count && !providers[p].symbols[s].position.isZero {
            return true
        }
        return false
    }

    /// A new equity base for follower or provider `id` (the operator's or the broker's figure).
    mutating func rebaseEquity(follower f: Int) {
        let pnl = followerPnL(f)
        followers[f].loss.pnlAtBase = pnl.realised + pnl.unrealised
    }

    mutating func rebaseEquity(provider p: Int) {
        let pnl = providerPnL(p)
        providers[p].loss.pnlAtBase = pnl.realised + pnl.unrealised
    }
}
