import FIXCore

/// Followers stay in charge: fills in a follower's account that are not ours.
extension CopyEngine {
    /// An ExecutionReport for follower `f`'s account (on his trading or drop-copy session) that
    /// does not carry one of our ClOrdIDs: a trade he made himself.
    ///
    /// In a symbol being copied (a target, a copied position or working orders) the symbol
    /// detaches until every provider he copies is flat in it; elsewhere the trade becomes part of
    /// his own position, which copying never touches.
    mutating func followerExecution(_ f: Int, _ si: Int, _ m: FIXMessage) {
        let execType = m.byte(Tag.execType)
        guard execType == UInt8(ascii: "F") || execType == UInt8(ascii: "G") || execType == UInt8(ascii: "H") else {
            return
        }
        let followerID = followers[f].config.followerID
        guard let execID = m[Tag.execID], !execID.isEmpty else {
            decide(CopyDecision(reason: .malformedMessage, followerID: followerID, detail: "ExecID (17) is missing"))
            return
        }
        if sessions[si].seenExecIDs.contains(execID) {
            decide(CopyDecision(reason: .duplicateExecID, followerID: followerID, signal: execID))
            return
        }
        // Our own order, reported again on his drop copy: the trading session accounts for it.
        let trading = followers[f].session
        if let c = m[Tag.clOrdID], Self.slot(sessions[trading].orderIndex, c) != nil { return }
        if let c = m[Tag.origClOrdID], Self.slot(sessions[trading].orderIndex, c) != nil { return }
        if let c = m[Tag.clOrdID], ClOrdIDScheme.matches(c, prefix: sessions[trading].config.clOrdIDPrefix) {
            decide(CopyDecision(reason: .forgottenOrder, followerID: followerID, clOrdID: c))
            return
        }

        let s: Int
        let delta: FixedDecimal
        let key: String
        let recorded: FixedDecimal
        if execType == UInt8(ascii: "F") {
            guard let brokerSymbol = m[Tag.symbol], let q = Self.fillQuantity(m, contractSize: 1) else {
                decide(
                    CopyDecision(
                        reason: .malformedMessage, followerID: followerID, signal: execID,
                        detail: "Symbol, Side or LastQty"))
                return
            }
            s = symbolID(session: si, brokerSymbol: brokerSymbol)
            let cs = contractSize(si, s)
            delta = cs == 1 ? q : q * cs
            key = execID
            recorded = delta
        } else {
            guard let ref = m[Tag.execRefID], let original = followers[f].foreignFills[ref] else {
                decide(CopyDecision(reason: .unknownExecRef, followerID: followerID, signal: execID))
                return
            }
            s = original.symbol
            key = ref
            if execType == UInt8(ascii: "H") {
                delta = -original.quantity
                recorded = 0
            } else {
                guard let q = Self.fillQuantity(m, contractSize: contractSize(si, s)) else {
                    decide(
                        CopyDecision(
                            reason: .malformedMessage, followerID: followerID, signal: execID, detail: "Side or LastQty"
                        ))
                    return
                }
                delta = q - original.quantity
                recorded = q
            }
        }
        ensureFollowerSymbol(f, s)
        if m.flag(Tag.possDupFlag) || m.flag(Tag.possResend), let t = Self.signalTime(m),
            t <= followers[f].symbols[s].coveredUntil
        {
            journalCurrentMessage()
            rememberExecID(si, execID)
            decide(
                CopyDecision(
                    reason: .coveredByPositionReport, followerID: followerID, symbol: symbols.names[s], signal: execID))
            return
        }
        journalCurrentMessage()
        rememberExecID(si, execID)
        recordForeignFill(f, si, execID: execID, key: key, fill: (s, recorded))
        let st = followers[f].symbols[s]
        let copying = !st.target.isZero || !st.managed.isZero || !st.working.isZero
        followers[f].symbols[s].position += delta
        if !st.detached {
            if copying {
                followers[f].symbols[s].detached = true
                decide(
                    CopyDecision(
                        reason: .followerIntervened, followerID: followerID, symbol: symbols.names[s], signal: execID,
                        quantity: delta))
            } else {
                followers[f].symbols[s].offset += delta
            }
        }
        actions.append(
            .fill(
                FollowerFill(
                    followerID: followerID, session: sessions[si].config.name, account: followers[f].config.account,
                    symbol: symbols.names[s], side: delta.isNegative ? .sell : .buy, quantity: delta.magnitude,
                    price: m.optionalDecimal(Tag.lastPx), clOrdID: nil, execID: execID, isCopy: false, at: now)))
    }
}
