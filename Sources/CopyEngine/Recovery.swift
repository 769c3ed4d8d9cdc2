import FIXCore

/// Recovery: journal replay, session settlement and position reconciliation.
///
/// After a restart the driver sends `.recoveryBegin`, every journal record as `.replay`, then
/// `.recoveryComplete`. Replay runs the same code as live handling, so the engine rebuilds the
/// exact state it had. An order derived during replay is provisional until its `.order` record
/// follows; one whose record never follows was never sent (the driver persists the record before
/// the send) and is dropped. On `.recoveryComplete` every session waits for its `.sessionUp`,
/// then sends an OrderStatusRequest (35=H) for each order still open, then, once all are
/// answered, a RequestForPositions (35=AN) for each account on it, adopts the broker's
/// positions, and only then plans new orders. A reconnect without a restart settles open orders
/// the same way (without the position step).
extension CopyEngine {
    /// One journal record (``handle(_:)`` sets `replaying` around it and the event's tail: block
    /// orders and loss checks that run at the end of the event are replay's too).
    mutating func replay(_ record: JournalRecord) {
        if case .order(let intent) = record {
            confirm(intent)
            return
        }
        // A breaker record follows the record of its event, before that event's orders.
        if case .breaker(let b) = record {
            restoreBreaker(b)
            return
        }
        resolveProvisional()
        switch record {
        case .message(let session, let bytes, let receivedAt):
            guard let m = try? FIXMessage(bytes: bytes.bytes) else {
                decide(CopyDecision(reason: .malformedMessage, detail: "journal message on \(session) does not decode"))
                return
            }
            inbound(session: session, message: m, receivedAt: receivedAt)
        case .sessionUp(let session, let at):
            guard let si = sessionIndex[session] else { return }
            now = at
            journal(record)
            sessionUp(si)
        case .sessionDown(let session, let at, let planned):
            guard let si = sessionIndex[session] else { return }
            now = at
            journal(record)
            sessionDown(si, planned: planned)
        case .mark(let snapshot):
            now = snapshot.at
            mark(snapshot, journaled: true)
        case .tick(let at):
            now = at
            tick()
        case .command(let command, let at, let actor, _):
            now = at
            journal(record)
            operatorCommand(command, actor: actor)
        case .recoveryComplete(let at):
            now = at
            journal(record)
            recoveryComplete()
        case .order, .breaker:
            preconditionFailure("handled above")
        }
    }

    /// An `.order` record: the provisional order it names was sent (or may have been).
    mutating func confirm(_ intent: OrderIntent) {
        guard let si = sessionIndex[intent.session] else { return }
        if let oi = Self.slot(sessions[si].orderIndex, intent.clOrdID) {
            if sessions[si].orders[oi].provisional {
                sessions[si].orders[oi].provisional = false
                provisional.removeAll { $0.session == si && $0.order == oi }
            }
            if sessions[si].orders[oi].intent != intent {
                decide(
                    CopyDecision(
                        reason: .replayDivergence, symbol: intent.symbol, clOrdID: intent.clOrdID,
                        detail: "order differs from the journal"))
            }
            return
        }
        // The configuration changed since the record was written: adopt the order as journaled.
        let s = symbols.intern(intent.symbol)
        var allocations: [AllocationState] = []
        for a in intent.allocations {
            guard let f = followerIndex[a.followerID] else { continue }
            ensureFollowerSymbol(f, s)
            allocations.append(
                AllocationState(follower: f, quantity: a.quantity, lotUnits: followers[f].symbols[s].limits.lotUnits))
            followers[f].symbols[s].working += .signed(a.quantity, intent.side.sign)
        }
        decide(
            CopyDecision(
                reason: .replayDivergence, symbol: intent.symbol, clOrdID: intent.clOrdID,
                detail: "journaled order adopted"))
        if allocations.isEmpty { return }
        let saved = replaying
        replaying = false
        insertOrder(
            si, OrderState(intent: intent, symbol: s, sign: intent.side.sign, allocations: allocations), send: false)
        replaying = saved
    }

    /// Drops replay-derived orders whose `.order` record never came: they were never sent.
    mutating func resolveProvisional() {
        guard !provisional.isEmpty else { return }
        for (si, oi) in provisional where sessions[si].orders[oi].provisional {
            let order = sessions[si].orders[oi]
            sessions[si].liveCount -= 1
            for alloc in order.allocations {
                followers[alloc.follower].symbols[order.symbol].working -= .signed(alloc.open, order.sign)
            }
            vacate(si, oi)
        }
        provisional.removeAll()
    }

    /// After a restart: nothing is known to be up; every session settles when it comes up.
    mutating func recoveryComplete() {
        epoch += 1
        for si in sessions.indices {
            sessions[si].isUp = false
            sessions[si].needsSettle = true
            sessions[si].settlePositions = true
            sessions[si].pendingStatus = []
            sessions[si].positionRequests = [:]
            sessions[si].settleDeadline = .max
            forgetPendingCancels(si)
            for oi in sessions[si].liveSlots() { sessions[si].orders[oi].lifecycle = .unknown }
            setPhase(si, .recovering)
        }
    }

    mutating func setPhase(_ si: Int, _ phase: SessionPhase) {
        sessions[si].phase = phase
        actions.append(.sessionPhaseChanged(session: sessions[si].config.name, phase: phase))
    }

    mutating func sessionUp(_ si: Int) {
        sessions[si].isUp = true
        sessions[si].upSince = now
        if sessions[si].needsSettle {
            sessions[si].needsSettle = false
            startSettle(si, positions: sessions[si].settlePositions)
        } else if sessions[si].liveCount > 0 {
            startSettle(si, positions: false)
        } else {
            replanSession(si)
        }
    }

    mutating func sessionDown(_ si: Int, planned: Bool) {
        sessions[si].isUp = false
        forgetPendingCancels(si)
        if !planned { brokerSessionDown(si) }
        if sessions[si].phase != .live {
            // Answers to our requests may never come: ask again on the next logon.
            sessions[si].needsSettle = true
            sessions[si].pendingStatus = []
            sessions[si].positionRequests = [:]
            sessions[si].settleDeadline = .max
            setPhase(si, .recovering)
        }
    }

    mutating func nextRequestID(_ kind: String) -> String {
        requestCounter += 1
        return "\(kind)\(epoch)-\(requestCounter)"
    }

    /// Asks the broker about every open order on the session.
    mutating func startSettle(_ si: Int, positions: Bool) {
        sessions[si].settlePositions = positions
        sessions[si].forgottenByBroker = []
        sessions[si].blockAccountHolds = [:]
        sessions[si].heldFollowerReports = []
        sessions[si].settleDeadline = now + Int64(sessions[si].config.settleTimeoutMs) * 1_000_000
        setPhase(si, .settlingOrders)
        for oi in sessions[si].liveSlots() {
            let intent = sessions[si].orders[oi].intent
            let id = intent.clOrdID
            var b = FIXMessageBuilder(msgType: "H")
            b.set(Tag.clOrdID, id)
            if let a = intent.account { b.set(Tag.account, a) }
            b.set(Tag.symbol, intent.brokerSymbol)
            b.set(Tag.side, intent.side.fixValue)
            b.set(Tag.ordStatusReqID, nextRequestID("S"))
            actions.append(.send(session: sessions[si].config.name, message: b))
            sessions[si].pendingStatus.insert(id)
        }
        if sessions[si].pendingStatus.isEmpty { startPositionSettle(si) }
    }

    /// Asks the broker for the positions of every account on the session.
    mutating func startPositionSettle(_ si: Int) {
        guard sessions[si].settlePositions && sessions[si].config.positionRequests else {
            finishSettle(si)
            return
        }
        sessions[si].settleDeadline = now + Int64(sessions[si].config.settleTimeoutMs) * 1_000_000
        setPhase(si, .settlingPositions)
        for f in sessions[si].tradingFollowers {
            requestPositions(si, account: followers[f].config.account, owner: f, isProvider: false)
        }
        for p in sessions[si].providers {
            requestPositions(si, account: providers[p].config.account, owner: p, isProvider: true)
        }
        if holdsBlockPositions(si) {
            requestPositions(
                si, account: sessions[si].config.blockAccount, owner: PositionRequest.blockAccount,
                isProvider: false)
        }
        if sessions[si].positionRequests.isEmpty { finishSettle(si) }
    }

    mutating func requestPositions(_ si: Int, account: String, owner: Int, isProvider: Bool) {
        let id = nextRequestID("P")
        var b = FIXMessageBuilder(msgType: "AN")
        b.set(Tag.posReqID, id)
        b.set(Tag.posReqType, 0)
        b.group(Tag.noPartyIDs, count: 1) { g in
            g.append(Tag.partyID, account)
            g.append(Tag.partyIDSource, "D")
            g.append(Tag.partyRole, "24")
        }
        b.set(Tag.account, account)
        b.set(Tag.accountType, 1)
        b.set(Tag.clearingBusinessDate, FIXDate(daysSinceEpoch: Int(now.floorDivided(by: 86_400_000_000_000))))
        b.set(Tag.transactTime, UTCTimestamp(nanosecondsSinceEpoch: now, precision: .milliseconds))
        actions.append(.send(session: sessions[si].config.name, message: b))
        sessions[si].positionRequests[id] = PositionRequest(account: account, owner: owner, isProvider: isProvider)
    }

    mutating func finishSettle(_ si: Int) {
        sessions[si].settleDeadline = .max
        sessions[si].forgottenByBroker = []
        setPhase(si, .live)
        replanSession(si)
    }

    /// Settlement took too long: the followers whose orders or positions are unknown are degraded
    /// (their unknown orders stay reserved, so nothing is sent twice); the others go on.
    mutating func settleTimeout(_ si: Int) {
        let name = sessions[si].config.name
        switch sessions[si].phase {
        case .settlingOrders:
            for id in sessions[si].pendingStatus.sorted() {
                let order = sessions[si].orders[sessions[si].orderIndex[id]!]
                decide(
                    CopyDecision(
                        reason: .settlementTimeout, clOrdID: id, detail: "no answer to OrderStatusRequest on \(name)"))
                for alloc in order.allocations {
                    degrade(alloc.follower, .settlementTimeout, detail: "order \(id) has an unknown outcome")
                }
            }
            sessions[si].pendingStatus = []
            startPositionSettle(si)
        case .settlingPositions:
            for id in sessions[si].positionRequests.keys.sorted() {
                let req = sessions[si].positionRequests[id]!
                decide(
                    CopyDecision(
                        reason: .settlementTimeout, detail: "no positions for account \(req.account) on \(name)"))
                if !req.isProvider && req.owner != PositionRequest.blockAccount {
                    degrade(req.owner, .settlementTimeout, detail: "positions unknown")
                }
            }
            sessions[si].positionRequests = [:]
            // Without the block account's answer the followers' reports are taken as they are.
            reconcileHeldReports(si)
            finishSettle(si)
        case .live, .recovering:
            break
        }
    }

    // MARK: Position reports

    /// Net position of a PositionReport: LongQty − ShortQty of its FIN entries, else of all entries.
    static func netPosition(_ m: FIXMessage) -> FixedDecimal? {
        var entries: [(type: String?, long: FixedDecimal, short: FixedDecimal)] = []
        for (i, field) in m.fields.enumerated() {
            switch field.tag {
            case Tag.posType:
                entries.append((m.string(at: i), 0, 0))
            case Tag.longQty, Tag.shortQty:
                if entries.isEmpty { entries.append((nil, 0, 0)) }
                guard let q = try? m.decimal(at: i), q.isPlausible else { return nil }
                if field.tag == Tag.longQty {
                    entries[entries.count - 1].long += q
                } else {
                    entries[entries.count - 1].short += q
                }
            default:
                break
            }
        }
        if entries.isEmpty { return nil }
        let fin = entries.filter { $0.type == "FIN" }
        var net: FixedDecimal = 0
        for e in fin.isEmpty ? entries : fin { net += e.long - e.short }
        return net
    }

    /// A PositionReport (AP) or RequestForPositionsAck (AO).
    mutating func positionMessage(_ si: Int, _ m: FIXMessage) {
        let isAck = m.isMsgType("AO")
        let account = m[Tag.account] ?? ""
        let reqID = m[Tag.posReqID]
        let pending = reqID.flatMap { sessions[si].positionRequests[$0] }
        guard pending != nil || accountRoles[si][account] != nil else {
            decide(
                CopyDecision(
                    reason: .unknownAccount, detail: "position report for '\(account)' on \(sessions[si].config.name)"))
            return
        }
        journalCurrentMessage()
        let result = (try? m.intIfPresent(Tag.posReqResult)) ?? 0
        let rptID = m[Tag.posMaintRptID] ?? reqID ?? "unsolicited"
        guard let id = reqID, var req = pending else {
            // Unsolicited: reconcile what it says.
            guard !isAck, result == 0, let brokerSymbol = m[Tag.symbol], let net = Self.netPosition(m) else { return }
            let s = symbolID(session: si, brokerSymbol: brokerSymbol)
            let units = net * contractSize(si, s)
            if let roles = accountRoles[si][account] {
                if let p = roles.provider {
                    reconcileProvider(
                        p, s, units, signal: "PR:\(epoch):" + rptID, price: m.optionalDecimal(Tag.settlPrice))
                } else if let f = roles.follower ?? roles.dropCopyFollower {
                    reconcileFollower(f, s, units, price: m.optionalDecimal(Tag.settlPrice))
                }
            }
            return
        }
        if result != 0 && result != 2 {
            decide(
                CopyDecision(
                    reason: .positionRequestRejected,
                    detail: "account \(req.account): PosReqResult \(result) \(m[Tag.text] ?? "")"))
            finishPositionRequest(si, id, reconcileMissing: false)
            return
        }
        if let total = try? m.intIfPresent(Tag.totalNumPosReports) { req.expected = total }
        if !isAck, let brokerSymbol = m[Tag.symbol], let net = Self.netPosition(m) {
            let s = symbolID(session: si, brokerSymbol: brokerSymbol)
            let units = net * contractSize(si, s)
            req.received += 1
            req.reportedSymbols.insert(s)
            sessions[si].positionRequests[id] = req
            if req.isProvider {
                reconcileProvider(
                    req.owner, s, units, signal: "PR:\(epoch):" + rptID, price: m.optionalDecimal(Tag.settlPrice))
            } else if req.owner == PositionRequest.blockAccount {
                sessions[si].blockAccountHolds[s, default: 0] += units
            } else {
                followerReported(si, req.owner, s, units, price: m.optionalDecimal(Tag.settlPrice))
            }
        } else {
            sessions[si].positionRequests[id] = req
        }
        let done =
            (isAck && result == 2) || m.flag(Tag.lastRptRequested) || (req.expected.map { req.received >= $0 } ?? false)
        if done { finishPositionRequest(si, id, reconcileMissing: true) }
    }

    /// A position request is answered: symbols it did not report are flat.
    mutating func finishPositionRequest(_ si: Int, _ id: String, reconcileMissing: Bool) {
        guard let req = sessions[si].positionRequests.removeValue(forKey: id) else { return }
        if reconcileMissing {
            if req.isProvider {
                let p = req.owner
                for s in providers[p].symbols.indices
                where !providers[p].symbols[s].position.isZero && !req.reportedSymbols.contains(s) {
                    reconcileProvider(p, s, 0, signal: "PR:\(epoch):" + id + ":" + symbols.names[s], price: nil)
                }
            } else if req.owner != PositionRequest.blockAccount {
                let f = req.owner
                for s in followers[f].knownSymbols
                where !followers[f].symbols[s].position.isZero && !req.reportedSymbols.contains(s) {
                    followerReported(si, f, s, 0, price: nil)
                }
            }
        }
        if sessions[si].positionRequests.isEmpty && sessions[si].phase == .settlingPositions {
            reconcileHeldReports(si)
            finishSettle(si)
        }
    }

    /// Follower `f`'s position in `s` as his broker reported it at a settlement of session `si`:
    /// reconciled now, or on a block session held until the block account's report is in.
    mutating func followerReported(_ si: Int, _ f: Int, _ s: Int, _ units: FixedDecimal, price: FixedDecimal?) {
        if holdsBlockPositions(si) {
            sessions[si].heldFollowerReports.append(
                HeldFollowerReport(follower: f, symbol: s, units: units, price: price))
        } else {
            reconcileFollower(f, s, units, price: price)
        }
    }

    /// Whether session `si` sends block orders for a `BlockAccount` and asks for positions: its
    /// followers' reports then wait for the block account's.
    func holdsBlockPositions(_ si: Int) -> Bool {
        let config = sessions[si].config
        return config.orderMode == .block && !config.blockAccount.isEmpty && config.positionRequests
    }

    /// The followers' reports of a block session, once the block account's is in. A broker that
    /// books block fills to the block account (not to the AllocAccounts) shows a follower's account
    /// flat while the block account holds the copies: a follower reported flat then keeps the
    /// position the engine allocated him, rather than being taken for having closed by hand. With
    /// the block account flat, or a follower's account not, each report is his as usual.
    mutating func reconcileHeldReports(_ si: Int) {
        let held = sessions[si].heldFollowerReports
        let block = sessions[si].blockAccountHolds
        sessions[si].heldFollowerReports = []
        sessions[si].blockAccountHolds = [:]
        for r in held {
            if r.units.isZero, let holds = block[r.symbol], !holds.isZero { continue }
            reconcileFollower(r.follower, r.symbol, r.units, price: r.price)
        }
    }

    /// Adopts the broker's position for a follower. A difference while copying is his own doing
    /// (the symbol detaches); outside copying it is his own position (the offset).
    mutating func reconcileFollower(_ f: Int, _ s: Int, _ reported: FixedDecimal, price: FixedDecimal? = nil) {
        ensureFollowerSymbol(f, s)
        if reported != followers[f].symbols[s].position {
            fillForgottenOrders(f, s, difference: reported - followers[f].symbols[s].position, price: price)
        }
        let st = followers[f].symbols[s]
        followers[f].symbols[s].coveredUntil = now
        // With orders in flight a live report cannot be compared; settlement has none left.
        guard st.working.isZero || sessions[followers[f].session].phase != .live else { return }
        let difference = reported - st.position
        guard !difference.isZero else { return }
        let copying = !st.target.isZero || !st.managed.isZero
        followers[f].symbols[s].position = reported
        let id = followers[f].config.followerID
        decide(
            CopyDecision(reason: .positionReconciled, followerID: id, symbol: symbols.names[s], quantity: difference))
        if st.detached { return }
        if copying {
            followers[f].symbols[s].detached = true
            decide(
                CopyDecision(
                    reason: .followerIntervened, followerID: id, symbol: symbols.names[s], quantity: difference,
                    detail: "position report"))
        } else {
            followers[f].symbols[s].offset += difference
        }
    }

    /// Books as fills of his orders that the broker no longer knew at this settlement (a DAY order
    /// filled, then purged at the end of the day while the agent was down) as much of a position
    /// difference as they can explain: same direction, at most what each left unfilled. Their fills
    /// are copies, not his own trades: the symbol is not detached for them, and the ledger gets them
    /// (at the report's SettlPrice, else the order's last AvgPx).
    mutating func fillForgottenOrders(_ f: Int, _ s: Int, difference: FixedDecimal, price: FixedDecimal?) {
        let si = followers[f].session
        var rest = difference
        for oi in sessions[si].forgottenByBroker where !rest.isZero {
            let order = sessions[si].orders[oi]
            guard order.isSingle(of: f, in: s), rest.signum == order.sign else { continue }
            let quantity = FixedDecimal.min(rest.magnitude, order.allocations[0].open)
            guard quantity.isPositive else { continue }
            decide(
                CopyDecision(
                    reason: .orderSettled, followerID: followers[f].config.followerID, symbol: order.intent.symbol,
                    signal: order.intent.signal, clOrdID: order.intent.clOrdID, quantity: quantity,
                    detail: "filled before the broker forgot it, per its position report"))
            applyOrderFill(si, oi, quantity, price: price, execID: "PR:\(epoch):\(order.intent.clOrdID)")
            rest -= .signed(quantity, order.sign)
        }
    }

    /// Adopts the broker's position for a provider: the difference is a late signal (CatchUp applies).
    mutating func reconcileProvider(_ p: Int, _ s: Int, _ reported: FixedDecimal, signal: String, price: FixedDecimal?)
    {
        ensureProviderSymbol(p, s)
        let old = providers[p].symbols[s].position
        providers[p].symbols[s].coveredUntil = now
        guard old != reported else { return }
        decide(
            CopyDecision(
                reason: .positionReconciled, providerID: providers[p].config.providerID, symbol: symbols.names[s],
                signal: signal,
                quantity: reported - old))
        updateEntryPrice(p, s, old: old, new: reported, price: price)
        let ctx = SignalContext(
            provider: p, symbol: s, signalSession: sessions[providers[p].session].config.name, signalID: signal,
            ageMs: nil,
            price: price ?? providers[p].symbols[s].entryPx, late: true)
        providerChanged(ctx, from: old, to: reported)
    }
}

extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
