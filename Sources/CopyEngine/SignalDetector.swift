import FIXCore

/// What the planner needs to know about one change of a provider's position.
struct SignalContext {
    let provider: Int
    let symbol: Int
    /// Session of the ExecID (empty for synthetic signals).
    let signalSession: String
    let signalID: String
    /// Age of her fill when it arrived, in milliseconds, when known.
    let ageMs: Int64?
    /// Her fill price, when the change is a fill.
    let price: FixedDecimal?
    /// Arrived as a resend or while the engine was recovering: CatchUp decides, not the filters.
    let late: Bool
    /// For a cancel or correct that lowers her position: her links that never copied the fill it
    /// changes (indices into her `links`).
    var linksThatSkipped: [Int] = []
}

extension CopyEngine {
    /// Side (54) as a sign: buys (1, 3) are +1, sells (2, 4, 5, 6) −1.
    static func sideSign(_ m: FIXMessage) -> Int? {
        switch m.byte(Tag.side) {
        case UInt8(ascii: "1"), UInt8(ascii: "3"): return 1
        case UInt8(ascii: "2"), UInt8(ascii: "4"), UInt8(ascii: "5"), UInt8(ascii: "6"): return -1
        default: return nil
        }
    }

    /// The signed quantity of a fill (LastQty × side × contract size), or nil when malformed.
    static func fillQuantity(_ m: FIXMessage, contractSize: FixedDecimal) -> FixedDecimal? {
        guard let sign = sideSign(m), let qty = m.optionalDecimal(Tag.lastQty), !qty.isNegative else { return nil }
        let units = contractSize == 1 ? qty : qty * contractSize
        return .signed(units, sign)
    }

    /// The time her fill happened: TransactTime, else OrigSendingTime, else SendingTime.
    static func signalTime(_ m: FIXMessage) -> EngineTime? {
        m.time(Tag.transactTime) ?? m.time(Tag.origSendingTime) ?? m.time(Tag.sendingTime)
    }

    /// An ExecutionReport for provider `p`'s account: fills (F), trade cancels (H) and corrects (G)
    /// change her position; everything else about her orders is ignored.
    mutating func providerExecution(_ p: Int, _ si: Int, _ m: FIXMessage) {
        let execType = m.byte(Tag.execType)
        guard execType == UInt8(ascii: "F") || execType == UInt8(ascii: "G") || execType == UInt8(ascii: "H") else {
            return
        }
        let providerID = providers[p].config.providerID
        guard let execID = m[Tag.execID], !execID.isEmpty else {
            decide(CopyDecision(reason: .malformedMessage, providerID: providerID, detail: "ExecID (17) is missing"))
            return
        }
        if sessions[si].seenExecIDs.contains(execID) {
            decide(CopyDecision(reason: .duplicateExecID, providerID: providerID, signal: execID))
            return
        }
        let s: Int
        let delta: FixedDecimal
        // The fill a cancel or correct changes: which of her links did not copy it.
        var skippedBefore: [Int] = []
        let price = m.optionalDecimal(Tag.lastPx)
        var effect: (key: String, quantity: FixedDecimal)
        if execType == UInt8(ascii: "F") {
            guard let brokerSymbol = m[Tag.symbol], let q = Self.fillQuantity(m, contractSize: 1) else {
                decide(
                    CopyDecision(
                        reason: .malformedMessage, providerID: providerID, signal: execID,
                        detail: "Symbol, Side or LastQty"))
                return
            }
            s = symbolID(session: si, brokerSymbol: brokerSymbol)
            let cs = contractSize(si, s)
            delta = cs == 1 ? q : q * cs
            effect = (execID, delta)
        } else {
            guard let ref = m[Tag.execRefID] else {
                decide(
                    CopyDecision(
                        reason: .malformedMessage, providerID: providerID, signal: execID,
                        detail: "ExecRefID (19) is missing"))
                return
            }
            let root = providers[p].aliases[ref] ?? ref
            guard let original = providers[p].fills[root] else {
                decide(
                    CopyDecision(
                        reason: .unknownExecRef, providerID: providerID, signal: execID, detail: "ExecRefID \(ref)"))
                return
            }
            s = original.symbol
            skippedBefore = original.skippedLinks
            if execType == UInt8(ascii: "H") {
                delta = -original.quantity
                effect = (root, 0)
            } else {
                let cs = contractSize(si, s)
                guard let q = Self.fillQuantity(m, contractSize: cs) else {
                    decide(
                        CopyDecision(
                            reason: .malformedMessage, providerID: providerID, signal: execID, detail: "Side or LastQty"
                        ))
                    return
                }
                delta = q - original.quantity
                effect = (root, q)
            }
        }
        ensureProviderSymbol(p, s)
        let possDup = m.flag(Tag.possDupFlag) || m.flag(Tag.possResend)
        let signalTime = Self.signalTime(m)
        if possDup, let t = signalTime, t <= providers[p].symbols[s].coveredUntil {
            journalCurrentMessage()
            rememberExecID(si, execID)
            decide(
                CopyDecision(
                    reason: .coveredByPositionReport, providerID: providerID, symbol: symbols.names[s], signal: execID))
            return
        }
        journalCurrentMessage()
        // Her ExecID (for duplicates) and the fill's effect (for a later cancel or correct) are
        // for the messages after this one: recorded once the copies are out, before any of them.
        deferredProviderFills.append(
            DeferredProviderFill(
                session: si, provider: p, execID: execID, key: effect.key,
                effect: ProviderFillEffect(symbol: s, quantity: effect.quantity, skippedLinks: skippedBefore)))

        let old = providers[p].symbols[s].position
        let new = old + delta
        if execType == UInt8(ascii: "F") {
            bookProviderFill(p, s, old: old, new: new, price: price)
            if providers[p].breakers.suspicious >= 0 && breakers[providers[p].breakers.suspicious].configured {
                checkSuspicious(p, s, quantity: delta.magnitude)
            }
        }
        updateEntryPrice(p, s, old: old, new: new, price: price)
        // Her loss is checked with this fill in, before it is copied: a breach suspends her first.
        providers[p].symbols[s].position = new
        providerLossCheck(p)
        let late = possDup || sessions[si].phase != .live
        let age = signalTime.map { (now - $0) / 1_000_000 }
        var ctx = SignalContext(
            provider: p, symbol: s, signalSession: sessions[si].config.name, signalID: execID, ageMs: age, price: price,
            late: late)
        ctx.linksThatSkipped = skippedBefore
        let skipped = providerChanged(ctx, from: old, to: new)
        if !skipped.isEmpty {
            // Her fill (or a correct that raised it) was not copied by these links.
            let d = deferredProviderFills.count - 1
            for l in skipped where !deferredProviderFills[d].effect.skippedLinks.contains(l) {
                deferredProviderFills[d].effect.skippedLinks.append(l)
            }
        }
    }

    /// Keeps her average entry price: increases average in, reductions keep it, a reversal restarts it.
    mutating func updateEntryPrice(_ p: Int, _ s: Int, old: FixedDecimal, new: FixedDecimal, price: FixedDecimal?) {
        if new.isZero {
            providers[p].symbols[s].entryPx = nil
        } else if old.isZero || old.signum != new.signum {
            providers[p].symbols[s].entryPx = price ?? providers[p].symbols[s].entryPx
        } else if new.magnitude > old.magnitude, let px = price {
            if let entry = providers[p].symbols[s].entryPx {
                let value = entry * old.magnitude + px * (new.magnitude - old.magnitude)
                providers[p].symbols[s].entryPx = value.divided(by: new.magnitude, scale: 10, .halfEven).normalized
            } else {
                providers[p].symbols[s].entryPx = px
            }
        }
    }
}
