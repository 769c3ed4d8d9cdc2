import FIXCore

/// The planner: from a provider's position to each follower's target and order.
///
/// Each follower link keeps `accepted`, the part of her position it follows. Increases of her
/// position pass the follower's filters (status, symbol lists, trading hours, equity, then either
/// age and price deviation for live signals or the CatchUp mode for late ones); reductions
/// always pass, proportionally; a reversal closes the whole copy and opens the new side through
/// the filters. `sized` is the copy's exact size for the link. The target is the sum over links,
/// reversed if asked, rounded to the lot, adjusted for MinQty (BelowMin) and reviewed by the
/// risk gate. Because targets derive from positions and keep their unrounded sums, remainders
/// below a lot accumulate instead of being lost.
extension CopyEngine {
    /// Her position in `ctx.symbol` moved from `old` to `new`.
    /// Returns her links (indices into her `links`) that did not copy an increase.
    @discardableResult
    mutating func providerChanged(_ ctx: SignalContext, from old: FixedDecimal, to new: FixedDecimal) -> [Int] {
        let p = ctx.provider
        let s = ctx.symbol
        ensureProviderSymbol(p, s)
        providers[p].symbols[s].position = new
        if old == new { return [] }
        var deviation: FixedDecimal?? = .none
        var skipped: [Int] = []
        for (i, ref) in providers[p].links.enumerated() {
            let f = ref.follower
            ensureFollowerSymbol(f, s)
            followers[f].symbols[s].newSignal(session: ctx.signalSession, id: ctx.signalID)
            let keep = !ctx.linksThatSkipped.isEmpty && ctx.linksThatSkipped.contains(i)
            if updateLink(f, ref.link, ctx, old: old, new: new, keepAccepted: keep, deviation: &deviation) {
                skipped.append(i)
            }
            refreshTarget(f, s)
            reattachIfProviderFlat(f, s)
            plan(f, s)
        }
        return skipped
    }

    /// Moves one link's accepted position after her position changed from `old` to `new`;
    /// returns whether the link did not copy an increase. `keepAccepted`: the change undoes (part
    /// of) a fill this link never copied, so a reduction leaves what it follows of her as it was
    /// (within her new position) instead of shrinking it in proportion.
    @discardableResult
    mutating func updateLink(
        _ f: Int, _ l: Int, _ ctx: SignalContext, old: FixedDecimal, new: FixedDecimal, keepAccepted: Bool = false,
        deviation: inout FixedDecimal??
    ) -> Bool {
        let s = ctx.symbol
        let a = followers[f].symbols[s].links[l].accepted
        var accepted: FixedDecimal
        var skipped: ReasonCode?
        var increase: FixedDecimal = 0
        if new.isZero {
            accepted = 0
        } else if old.isZero || old.signum != new.signum {
            increase = new
            skipped = gate(f, l, ctx, direction: new.signum, deviation: &deviation)
            accepted = skipped == nil ? new : 0
        } else if new.magnitude > old.magnitude {
            increase = new - old
            skipped = gate(f, l, ctx, direction: new.signum, deviation: &deviation)
            accepted = skipped == nil ? a + increase : a
        } else if keepAccepted {
            accepted = a.magnitude > new.magnitude ? new : a
        } else {
            accepted = a == old ? new : (a * new).divided(by: old, scale: 12, .halfEven)
        }
        let price = ctx.price ?? providers[ctx.provider].symbols[s].entryPx
        var detail: String?
        if skipped == nil && !increase.isZero && followers[f].hasAcceptanceChecks,
            let finding = reviewAcceptance(f, l, s, to: accepted, price: price)
        {
            skipped = finding.reason
            detail = finding.description
            accepted = old.isZero || old.signum != new.signum ? 0 : a
        }
        if let r = skipped {
            decide(
                CopyDecision(
                    reason: r, followerID: followers[f].config.followerID,
                    providerID: providers[ctx.provider].config.providerID,
                    symbol: symbols.names[s], signal: ctx.signalID, quantity: increase, detail: detail))
        }
        setAccepted(f, l, s, to: accepted, price: price)
        return skipped != nil && !increase.isZero
    }

    /// Why an increase is not copied for link `l` of follower `f`, or nil to copy it.
    mutating func gate(
        _ f: Int, _ l: Int, _ ctx: SignalContext, direction: Int, deviation: inout FixedDecimal??
    ) -> ReasonCode? {
        let s = ctx.symbol
        switch followers[f].status {
        case .active: break
        case .paused: return .followerPaused
        case .degraded: return .followerDegraded
        }
        if let r = followers[f].risk.increaseBlock { return r }
        if let r = providers[ctx.provider].blockReason { return r }
        if sessions[followers[f].session].breakerTripped { return .brokerPaused }
        if let r = followers[f].symbols[s].filter { return r }
        if !followers[f].config.tradingHours.contains(now) { return .outsideTradingHours }
        switch followers[f].config.sizing {
        case .equityRatio: if followers[f].links[l].factor == nil { return .equityUnknown }
        case .riskPercent: if followers[f].equity == nil { return .equityUnknown }
        case .fixedRatio, .fixedQty: break
        }
        if ctx.late {
            switch followers[f].config.catchUp {
            case .none:
                return .catchUpSkipped
            case .market:
                decide(
                    CopyDecision(
                        reason: .catchUpEntered, followerID: followers[f].config.followerID, symbol: symbols.names[s],
                        signal: ctx.signalID))
                return nil
            case .ifNotWorse:
                // Without her price no mark can be judged against it: waiting would never end.
                if s >= providers[ctx.provider].symbols.count || providers[ctx.provider].symbols[s].entryPx == nil {
                    return .catchUpNoPrice
                }
                if priceNoWorse(f, ctx.provider, s, providerSign: direction) {
                    followers[f].symbols[s].links[l].waitingCatchUp = false
                    decide(
                        CopyDecision(
                            reason: .catchUpEntered, followerID: followers[f].config.followerID,
                            symbol: symbols.names[s],
                            signal: ctx.signalID))
                    return nil
                }
                followers[f].symbols[s].links[l].waitingCatchUp = true
                addCatchUpWaiter(f, s)
                return .catchUpWaiting
            }
        }
        if followers[f].config.maxSignalAgeMs > 0, let age = ctx.ageMs, age > Int64(followers[f].config.maxSignalAgeMs)
        {
            return .staleSignal
        }
        if followers[f].config.maxPriceDeviationBps.isPositive {
            if case .none = deviation { deviation = .some(deviationBps(s, price: ctx.price)) }
            guard case .some(.some(let bps)) = deviation else { return .noMark }
            if bps > followers[f].config.maxPriceDeviationBps { return .priceDeviation }
        }
        return nil
    }

    /// |price − mid| in basis points of the mid, or nil without a mark or price.
    func deviationBps(_ s: Int, price: FixedDecimal?) -> FixedDecimal? {
        guard let px = price, let mid = currentMark(s)?.mid, mid.isPositive else { return nil }
        return ((px - mid).magnitude * 10_000).divided(by: mid, scale: 4, .up)
    }

    /// Whether the mark lets follower `f` enter her position in `s` at no worse than her average price.
    func priceNoWorse(_ f: Int, _ p: Int, _ s: Int, providerSign: Int) -> Bool {
        guard s < providers[p].symbols.count, let entry = providers[p].symbols[s].entryPx, let m = currentMark(s) else {
            return false
        }
        let buys = (providerSign > 0) != followers[f].config.reverse
        if buys {
            guard let ask = m.ask else { return false }
            return ask <= entry
        }
        guard let bid = m.bid else { return false }
        return bid >= entry
    }

    mutating func addCatchUpWaiter(_ f: Int, _ s: Int) {
        var list = catchUpWaiters[s] ?? []
        if !list.contains(f) {
            list.append(f)
            list.sort()
            catchUpWaiters[s] = list
        }
    }

    /// Sets link `l`'s accepted position and resizes its copy.
    mutating func setAccepted(_ f: Int, _ l: Int, _ s: Int, to a2: FixedDecimal, price: FixedDecimal?) {
        var ls = followers[f].symbols[s].links[l]
        let a = ls.accepted
        guard a != a2 else { return }
        let opens = a.isZero || a.signum != a2.signum
        switch followers[f].config.sizing {
        case .equityRatio, .fixedRatio:
            let factor = followers[f].links[l].factor ?? 0
            if a2.isZero {
                ls.sized = 0
            } else if opens {
                ls.sized = factor * a2
            } else if a2.magnitude > a.magnitude {
                ls.sized += factor * (a2 - a)
            } else {
                ls.sized = (ls.sized * a2).divided(by: a, scale: 12, .halfEven)
            }
        case .fixedQty, .riskPercent:
            if a2.isZero {
                ls.sized = 0
                ls.peak = 0
                ls.base = 0
            } else {
                if opens {
                    ls.base = baseSize(f, l, s, price: price)
                    ls.peak = a2.magnitude
                } else if a2.magnitude > ls.peak {
                    ls.peak = a2.magnitude
                }
                let size =
                    a2.magnitude == ls.peak
                    ? ls.base : (ls.base * a2.magnitude).divided(by: ls.peak, scale: 12, .halfEven)
                ls.sized = .signed(size, a2.signum)
            }
        }
        ls.accepted = a2
        if a2.isZero { ls.waitingCatchUp = false }
        followers[f].symbols[s].links[l] = ls
    }

    /// fixed-qty and risk-percent: his full size for a position opened at `price`, in units.
    func baseSize(_ f: Int, _ l: Int, _ s: Int, price: FixedDecimal?) -> FixedDecimal {
        let config = followers[f].config
        let scale = config.ratio * followers[f].links[l].weight
        switch config.sizing {
        case .fixedQty:
            return config.fixedQty * followers[f].symbols[s].contractSize * scale
        case .riskPercent:
            guard let equity = followers[f].equity, let px = price, px.isPositive else { return 0 }
            let budget = equity * config.riskPercent * 100
            return budget.divided(by: px * config.riskStopBps, scale: 6, .down) * scale
        case .equityRatio, .fixedRatio:
            preconditionFailure("base sizes exist only for fixed-qty and risk-percent")
        }
    }

    /// Recomputes follower `f`'s target in `s` from his links.
    mutating func refreshTarget(_ f: Int, _ s: Int) {
        let linkCount = followers[f].links.count
        var raw = followers[f].symbols[s].links[0].sized
        if linkCount > 1 {
            for i in 1..<linkCount { raw += followers[f].symbols[s].links[i].sized }
        }
        if followers[f].config.reverse { raw = -raw }
        let limits = followers[f].symbols[s].limits
        let lot = limits.lotUnits
        var target = raw.isZero ? 0 : raw.rounded(toMultipleOf: lot, followers[f].config.rounding.mode)
        var reasons: [ReasonCode] = []
        if !raw.isZero {
            var minimum = lot
            if limits.minUnits > lot { minimum = limits.minUnits.rounded(toMultipleOf: lot, .ceiling) }
            if target.magnitude < minimum {
                switch followers[f].config.belowMin {
                case .skip:
                    reasons.append(target.isZero ? .belowLot : .belowMinQty)
                    target = 0
                case .roundUp:
                    reasons.append(.roundedUpToMin)
                    target = .signed(minimum, raw.signum)
                }
            }
        }
        var findings: [RiskFinding] = []
        if limits.maxPositionUnits.isPositive {
            let verdict = riskGate.reviewTarget(
                target,
                context: RiskContext(
                    followerID: followers[f].config.followerID, symbol: symbols.names[s], limits: limits,
                    exposure: followers[f].symbols[s].managed, contractSize: followers[f].symbols[s].contractSize))
            target = verdict.quantity
            findings = verdict.findings
        }
        if followers[f].risk.pinnedFlat { target = 0 }
        followers[f].symbols[s].target = target
        for r in reasons { decideFor(f, s, r, quantity: raw) }
        for finding in findings { decideFor(f, s, finding.reason, quantity: raw, detail: finding.description) }
    }

    /// A detached symbol follows her again once every provider he copies is flat in it; what he
    /// holds then is his own.
    mutating func reattachIfProviderFlat(_ f: Int, _ s: Int) {
        guard followers[f].symbols[s].detached else { return }
        for link in followers[f].links {
            let p = link.provider
            if s < providers[p].symbols.count && !providers[p].symbols[s].position.isZero { return }
        }
        followers[f].symbols[s].detached = false
        followers[f].symbols[s].offset = followers[f].symbols[s].position
        decide(CopyDecision(reason: .reattached, followerID: followers[f].config.followerID, symbol: symbols.names[s]))
    }

    /// Sends what follower `f` needs in `s`: target minus copied position minus working orders.
    mutating func plan(_ f: Int, _ s: Int) {
        guard s < followers[f].symbols.count, followers[f].symbols[s].exists else { return }
        let target = followers[f].symbols[s].target
        let managed = followers[f].symbols[s].managed
        let working = followers[f].symbols[s].working
        let si = followers[f].session
        let closeFirst = sessions[si].config.closeThenOpen && !target.isZero && managed.signum == -target.signum
        let desired = closeFirst ? 0 : target
        let diff = desired - managed - working
        if diff.isZero { return }
        var blocked: ReasonCode?
        var reduceOnly: ReasonCode?
        let risk = followers[f].risk
        if sessions[si].breakerTripped {
            blocked = .brokerPaused
        } else if risk.pinnedFlat {
            // A flatten closes even a paused or degraded follower's copies.
            reduceOnly = .followerFlattened
        } else {
            switch followers[f].status {
            case .active: break
            case .paused: blocked = .followerPaused
            case .degraded: blocked = .followerDegraded
            }
            if blocked == nil {
                blocked = risk.disable
                reduceOnly = risk.closeOnly
            }
        }
        if blocked == nil {
            if followers[f].symbols[s].detached {
                blocked = .followerIntervened
            } else if !sessions[si].isUp {
                blocked = .sessionDown
            } else if sessions[si].phase != .live {
                blocked = .settling
            } else if let due = followers[f].symbols[s].retryDue, due > now {
                return
            }
        }
        if let r = blocked {
            decideFor(f, s, r, quantity: diff)
            return
        }
        if !working.isZero && cancelUnwanted(f, s, needed: desired - managed) { return }
        var order = diff
        if let r = reduceOnly {
            // Only towards flat, never through it.
            let exposure = managed + working
            if exposure.isZero || order.signum == exposure.signum {
                decideFor(f, s, r, quantity: diff)
                return
            }
            if order.magnitude > exposure.magnitude {
                decideFor(f, s, r, quantity: diff)
                order = -exposure
            }
        }
        let verdict = riskGate.reviewOrder(order, context: orderContext(f, s, exposure: managed + working))
        for finding in verdict.findings {
            decideFor(f, s, finding.reason, quantity: diff, detail: finding.limit == nil ? nil : finding.description)
        }
        if verdict.quantity.isZero { return }
        if closeFirst { decideFor(f, s, .closeThenOpen, quantity: target) }
        route(f, s, verdict.quantity)
    }

    /// A decision about follower `f` in `s`, under his current signal.
    mutating func decideFor(_ f: Int, _ s: Int, _ reason: ReasonCode, quantity: FixedDecimal, detail: String? = nil) {
        decide(
            CopyDecision(
                reason: reason, followerID: followers[f].config.followerID, symbol: symbols.names[s],
                signal: followers[f].symbols[s].signalID, quantity: quantity, detail: detail))
    }

    /// Plans every symbol of every follower trading on session `si`.
    mutating func replanSession(_ si: Int) {
        for f in sessions[si].tradingFollowers {
            for s in followers[f].knownSymbols { plan(f, s) }
        }
    }

    /// Brings a paused or degraded follower back; positions he missed follow his CatchUp mode.
    mutating func resume(_ f: Int) {
        followers[f].status = .active
        followers[f].risk.flattenedByOperator = false
        let id = followers[f].config.followerID
        actions.append(.followerStateChanged(followerID: id, status: .active))
        decide(CopyDecision(reason: .followerResumed, followerID: id))
        for s in followers[f].knownSymbols {
            followers[f].symbols[s].failures = 0
            followers[f].symbols[s].retryDue = nil
            catchUpGaps(f, s, provider: nil)
            refreshTarget(f, s)
            reattachIfProviderFlat(f, s)
            plan(f, s)
        }
    }

    /// Applies the CatchUp mode to the part of her position follower `f` does not follow in `s`
    /// (of every provider he copies, or of `provider` only).
    mutating func catchUpGaps(_ f: Int, _ s: Int, provider: Int?) {
        for l in followers[f].links.indices {
            let p = followers[f].links[l].provider
            guard provider == nil || provider == p, s < providers[p].symbols.count else { continue }
            let position = providers[p].symbols[s].position
            let a = followers[f].symbols[s].links[l].accepted
            guard !position.isZero, a.magnitude < position.magnitude else { continue }
            let st = followers[f].symbols[s]
            let ctx = SignalContext(
                provider: p, symbol: s, signalSession: st.signalSession, signalID: st.signalID, ageMs: nil, price: nil,
                late: true)
            var deviation: FixedDecimal?? = .none
            if let r = gate(f, l, ctx, direction: position.signum, deviation: &deviation) {
                decide(
                    CopyDecision(
                        reason: r, followerID: followers[f].config.followerID,
                        providerID: providers[p].config.providerID,
                        symbol: symbols.names[s], signal: st.signalID, quantity: position - a))
            } else {
                setAccepted(f, l, s, to: position, price: providers[p].symbols[s].entryPx)
            }
        }
    }

    /// A new mark: it may let waiting catch-ups in.
    mutating func mark(_ snapshot: MarkSnapshot, journaled: Bool) {
        let s = symbols.intern(snapshot.symbol)
        ensureMark(s)
        marks[s] = Mark(
            bid: snapshot.bid.flatMap { $0.isPlausible ? $0 : nil },
            ask: snapshot.ask.flatMap { $0.isPlausible ? $0 : nil },
            at: snapshot.at)
        if !journaled && !dirtyMarks.contains(s) { dirtyMarks.append(s) }
        if watchesMarks { riskMarkSymbols.insert(s) }
        guard let waiters = catchUpWaiters[s], !waiters.isEmpty else { return }
        var ready: [(follower: Int, link: Int)] = []
        for f in waiters where followers[f].isActive {
            guard s < followers[f].symbols.count, followers[f].symbols[s].exists else { continue }
            let st = followers[f].symbols[s]
            for l in st.links.indices where st.links[l].waitingCatchUp {
                let p = followers[f].links[l].provider
                let position = providers[p].symbols[s].position
                if !position.isZero && priceNoWorse(f, p, s, providerSign: position.signum) { ready.append((f, l)) }
            }
        }
        if ready.isEmpty { return }
        if !journaled {
            dirtyMarks.removeAll { $0 == s }
            journal(.mark(snapshot))
        }
        var touched: [Int] = []
        for (f, l) in ready {
            let p = followers[f].links[l].provider
            followers[f].symbols[s].links[l].waitingCatchUp = false
            decide(
                CopyDecision(
                    reason: .catchUpEntered, followerID: followers[f].config.followerID, symbol: snapshot.symbol))
            setAccepted(f, l, s, to: providers[p].symbols[s].position, price: providers[p].symbols[s].entryPx)
            if touched.last != f { touched.append(f) }
        }
        for f in touched {
            refreshTarget(f, s)
            plan(f, s)
        }
        catchUpWaiters[s] = waiters.filter { f in followers[f].symbols[s].links.contains { $0.waitingCatchUp }
        }
    }
}
