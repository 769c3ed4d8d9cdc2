import FIXCore

/// The router: one order book per broker session, following every order from NewOrderSingle to
/// its final state, allocating block fills, retrying and degrading.
extension CopyEngine {
    /// Routes a reviewed order of `quantity` (signed units) for follower `f` in `s`.
    mutating func route(_ f: Int, _ s: Int, _ quantity: FixedDecimal) {
        let si = followers[f].session
        let side: OrderSide = quantity.isPositive ? .buy : .sell
        switch sessions[si].config.orderMode {
        case .perAccount:
            sendSingle(f, s, side, quantity.magnitude)
        case .block:
            followers[f].symbols[s].working += quantity
            if let b = blockBuckets.firstIndex(where: { $0.session == si && $0.symbol == s && $0.side == side }) {
                if let m = blockBuckets[b].members.firstIndex(where: { $0.follower == f }) {
                    blockBuckets[b].members[m].quantity += quantity.magnitude
                } else {
                    blockBuckets[b].members.append((f, quantity.magnitude))
                }
            } else {
                blockBuckets.append(BlockBucket(session: si, symbol: s, side: side, members: [(f, quantity.magnitude)]))
            }
        }
    }

    /// The limit price for a copy: the mark on his side (else the mid, else her average price),
    /// moved by LimitSlippageBps against him, rounded to the tick in his favour.
    func limitPrice(_ si: Int, _ s: Int, _ side: OrderSide, follower f: Int) -> FixedDecimal? {
        let config = sessions[si].config
        var reference: FixedDecimal?
        if let m = currentMark(s) {
            switch side {
            case .buy: reference = m.ask ?? m.mid
            case .sell: reference = m.bid ?? m.mid
            }
        }
        if reference == nil {
            for link in followers[f].links where s < providers[link.provider].symbols.count {
                if let e = providers[link.provider].symbols[s].entryPx {
                    reference = e
                    break
                }
            }
        }
        guard let ref = reference else { return nil }
        let slip = config.limitSlippageBps
        switch side {
        case .buy:
            let px = (ref * (10_000 + slip)).divided(by: 10_000, scale: 12, .halfEven)
            return px.rounded(toMultipleOf: config.tickSize, .floor)
        case .sell:
            let px = (ref * (10_000 - slip)).divided(by: 10_000, scale: 12, .halfEven)
            return px.rounded(toMultipleOf: config.tickSize, .ceiling)
        }
    }

    /// Units as the broker counts them: whole lots map exactly onto LotSize multiples.
    static func brokerQuantity(
        _ units: FixedDecimal, lotUnits: FixedDecimal, lotSizeBroker: FixedDecimal, contractSize: FixedDecimal
    )
        -> FixedDecimal
    {
        if contractSize == 1 { return units }
        let lots = units.quotient(dividingBy: lotUnits)
        let whole = lotSizeBroker * FixedDecimal(mantissa: lots, scale: 0)
        if whole * contractSize == units { return whole }
        return units.divided(by: contractSize, scale: 10, .halfEven).normalized
    }

    /// The hash state after a signal's parts.
    mutating func hasher(signalSession: String, signalID: String) -> ClOrdIDHasher {
        // An empty ID is no signal's: the empty fields of a new engine never match.
        if signalHasherID == signalID && !signalID.isEmpty && signalHasherSession == signalSession {
            return signalHasher
        }
        var h = ClOrdIDHasher()
        h.feed(signalSession)
        h.feed(signalID)
        signalHasher = h
        signalHasherSession = signalSession
        signalHasherID = signalID
        return h
    }

    /// The first ClOrdID from `attempt` on that no order of the session uses. (Static: calling a
    /// non-mutating method of the engine from a mutating one copies the whole engine.)
    /// Also returns the ID's hash in the session's index, for the insert that follows.
    static func freeClOrdID(
        _ index: ClOrdIDIndex, prefix: String, _ hasher: ClOrdIDHasher, from attempt: Int
    ) -> (id: String, attempt: Int, hash: UInt64)? {
        var a = attempt
        while a <= ClOrdIDScheme.maximumAttempt {
            let id = hasher.clOrdID(prefix: prefix, attempt: a)
            let h = ClOrdIDIndex.hash(id)
            if index.value(id, hash: h) == nil { return (id, a, h) }
            a += 1
        }
        return nil
    }

    mutating func sendSingle(_ f: Int, _ s: Int, _ side: OrderSide, _ qty: FixedDecimal) {
        let si = followers[f].session
        var h = hasher(signalSession: followers[f].symbols[s].signalSession, signalID: followers[f].symbols[s].signalID)
        h.feed(parts: followers[f].hashSuffix.bytes)
        guard
            let (clOrdID, attempt, indexHash) = Self.freeClOrdID(
                sessions[si].orderIndex, prefix: sessions[si].config.clOrdIDPrefix, h,
                from: followers[f].symbols[s].nextAttempt)
        else {
            degrade(f, .attemptsExhausted, detail: "signal \(followers[f].symbols[s].signalID)")
            return
        }
        let ordType = sessions[si].config.ordType
        var price: FixedDecimal?
        if ordType == .limit {
            guard let px = limitPrice(si, s, side, follower: f) else {
                decide(
                    CopyDecision(
                        reason: .noMark, followerID: followers[f].config.followerID, symbol: symbols.names[s],
                        signal: followers[f].symbols[s].signalID, quantity: qty))
                return
            }
            price = px
        }
        followers[f].symbols[s].nextAttempt = attempt + 1
        followers[f].symbols[s].working += .signed(qty, side.sign)
        let lotUnits = followers[f].symbols[s].limits.lotUnits
        let brokerQty = Self.brokerQuantity(
            qty, lotUnits: lotUnits, lotSizeBroker: followers[f].symbols[s].lotSizeBroker,
            contractSize: contractSize(si, s))
        let account = followers[f].config.account
        let intent = OrderIntent(
            clOrdID: clOrdID, session: sessions[si].config.name, symbol: symbols.names[s],
            brokerSymbol: sessions[si].symbols[s].brokerSymbol,
            side: side, quantity: qty, brokerQuantity: brokerQty, ordType: ordType,
            timeInForce: sessions[si].config.timeInForce,
            price: price, account: account,
            allocations: [
                OrderIntent.Allocation(
                    followerID: followers[f].config.followerID, account: account, quantity: qty,
                    brokerQuantity: brokerQty)
            ],
            signal: followers[f].symbols[s].signalID, attempt: attempt, block: false, createdAt: now)
        insertOrder(
            si,
            OrderState(
                intent: intent, symbol: s, sign: side.sign,
                allocations: [AllocationState(follower: f, quantity: qty, lotUnits: lotUnits)]),
            send: true, indexHash: indexHash)
    }

    /// Turns the block buckets gathered during this event into block orders.
    mutating func flushBlocks() {
        let buckets = blockBuckets
        blockBuckets = []
        for bucket in buckets {
            let si = bucket.session
            let s = bucket.symbol
            let config = sessions[si].config
            let first = followers[bucket.members[0].follower].symbols[s]
            let name = symbols.names[s]
            let blockKey = "B|" + name + "|" + bucket.side.rawValue
            let counterKey = first.signalSession + "|" + first.signalID + "|" + blockKey
            let start = sessions[si].blockAttempts[counterKey] ?? 0
            var price: FixedDecimal?
            if config.ordType == .limit {
                price = limitPrice(si, s, bucket.side, follower: bucket.members[0].follower)
            }
            var h = hasher(signalSession: first.signalSession, signalID: first.signalID)
            h.feed(config.name)
            h.feed(blockKey)
            guard
                let (clOrdID, attempt, _) = Self.freeClOrdID(
                    sessions[si].orderIndex, prefix: config.clOrdIDPrefix, h, from: start),
                config.ordType == .market || price != nil
            else {
                for m in bucket.members {
                    followers[m.follower].symbols[s].working -= .signed(m.quantity, bucket.side.sign)
                    if price == nil && config.ordType == .limit {
                        decide(
                            CopyDecision(
                                reason: .noMark, followerID: followers[m.follower].config.followerID, symbol: name))
                    } else {
                        degrade(m.follower, .attemptsExhausted, detail: "block signal \(first.signalID)")
                    }
                }
                continue
            }
            sessions[si].blockAttempts[counterKey] = attempt + 1
            let info = sessionSymbol(si, s)
            var allocations: [OrderIntent.Allocation] = []
            var states: [AllocationState] = []
            var total: FixedDecimal = 0
            var brokerTotal: FixedDecimal = 0
            for m in bucket.members {
                let st = followers[m.follower].symbols[s]
                let bq = Self.brokerQuantity(
                    m.quantity, lotUnits: st.limits.lotUnits, lotSizeBroker: st.lotSizeBroker,
                    contractSize: info.contractSize)
                let fc = followers[m.follower].config
                allocations.append(
                    OrderIntent.Allocation(
                        followerID: fc.followerID, account: fc.account, quantity: m.quantity, brokerQuantity: bq))
                states.append(AllocationState(follower: m.follower, quantity: m.quantity, lotUnits: st.limits.lotUnits))
                total += m.quantity
                brokerTotal += bq
            }
            let intent = OrderIntent(
                clOrdID: clOrdID, session: config.name, symbol: name, brokerSymbol: info.brokerSymbol,
                side: bucket.side,
                quantity: total, brokerQuantity: brokerTotal, ordType: config.ordType, timeInForce: config.timeInForce,
                price: price, account: config.blockAccount.isEmpty ? nil : config.blockAccount,
                allocations: allocations,
                signal: first.signalID, attempt: attempt, block: true, createdAt: now)
            insertOrder(
                si, OrderState(intent: intent, symbol: s, sign: bucket.side.sign, allocations: states), send: true)
        }
    }

    /// Adds an order to its session's book (working quantities are the caller's business).
    /// `indexHash`: the ClOrdID's hash in the index, when the caller has it.
    mutating func insertOrder(_ si: Int, _ order: consuming OrderState, send: Bool, indexHash: UInt64? = nil) {
        let isProvisional = replaying && send
        order.provisional = isProvisional
        let clOrdID = order.intent.clOrdID
        let oi: Int
        if let free = sessions[si].freeSlots.popLast() {
            oi = free
            sessions[si].orders[oi] = consume order
        } else {
            oi = sessions[si].orders.count
            sessions[si].orders.append(consume order)
        }
        if let h = indexHash {
            sessions[si].orderIndex.insert(clOrdID, oi, hash: h)
        } else {
            sessions[si].orderIndex[clOrdID] = oi
        }
        sessions[si].liveCount += 1
        if isProvisional { provisional.append((si, oi)) }
        if send { pendingOrders.append((si, oi)) }
    }

    /// Forgets orders that finished longer ago than the session's retention window, so the book
    /// stays the size of a day's trading. Reports that still arrive for them are recognised by
    /// the shape of their ClOrdID and ignored. Runs when an order finishes, off the signal path.
    mutating func forgetFinishedOrders(_ si: Int) {
        let cutoff = Self.cutoff(now, retentionMs: sessions[si].config.orderRetentionMs)
        while let slot = sessions[si].finished.popExpired(through: cutoff) { vacate(si, slot) }
    }

    mutating func vacate(_ si: Int, _ oi: Int) {
        let clOrdID = sessions[si].orders[oi].intent.clOrdID
        sessions[si].orderIndex[clOrdID] = nil
        for n in stride(from: 1, through: sessions[si].orders[oi].cancelRequests, by: 1) {
            sessions[si].orderIndex[Self.cancelClOrdID(clOrdID, n)] = nil
        }
        sessions[si].orders[oi] = .vacant
        sessions[si].freeSlots.append(oi)
    }

    /// Emits the journal records of this event's orders, then their NewOrderSingles.
    mutating func flushOrders() {
        if !blockBuckets.isEmpty { flushBlocks() }
        guard !pendingOrders.isEmpty else { return }
        groupPendingOrdersBySession()
        actions.reserveCapacity(actions.count + 2 * pendingOrders.count + 1)
        var time: [UInt8] = []
        UTCTimestamp(nanosecondsSinceEpoch: now, precision: .milliseconds).write(into: &time)
        for (si, oi) in pendingOrders { journal(.order(sessions[si].orders[oi].intent)) }
        time.withUnsafeBytes { time in
            for (si, oi) in pendingOrders {
                actions.append(
                    .send(session: sessions[si].config.name, message: newOrderSingle(si, oi, transactTime: time)))
            }
        }
        pendingOrders.removeAll(keepingCapacity: true)
    }

    /// Puts this event's orders in session order, each session's in the order they were planned
    /// (a counting sort): a driver then hands a session its orders in one run, with the session's
    /// state at hand, where followers spread over sessions would make it switch on every order.
    mutating func groupPendingOrdersBySession() {
        guard pendingOrders.count > 1 else { return }
        var grouped = true
        for k in 1..<pendingOrders.count where pendingOrders[k].session < pendingOrders[k - 1].session {
            grouped = false
            break
        }
        if grouped { return }
        var next = [Int](repeating: 0, count: sessions.count + 1)
        for p in pendingOrders { next[p.session + 1] += 1 }
        for si in sessions.indices { next[si + 1] += next[si] }
        var out = pendingOrders
        for p in pendingOrders {
            out[next[p.session]] = p
            next[p.session] += 1
        }
        pendingOrders = out
    }

    /// The NewOrderSingle (35=D) for an order; the session layer adds the header.
    public static func newOrderSingle(_ intent: OrderIntent) -> FIXMessageBuilder {
        var time: [UInt8] = []
        UTCTimestamp(nanosecondsSinceEpoch: intent.createdAt, precision: .milliseconds).write(into: &time)
        return newOrderSingle(intent, transactTime: time)
    }

    /// The NewOrderSingle with TransactTime already formatted (all orders of an event share it).
    /// Every tag is new in the builder, so fields are appended without looking for a previous value.
    static func newOrderSingle(_ intent: OrderIntent, transactTime: [UInt8]) -> FIXMessageBuilder {
        var b = FIXMessageBuilder(msgType: "D")
        b.append(Tag.clOrdID, intent.clOrdID)
        if let a = intent.account { b.append(Tag.account, a) }
        if intent.block {
            b.group(Tag.noAllocs, count: intent.allocations.count) { g in
                for a in intent.allocations {
                    g.append(Tag.allocAccount, a.account)
                    g.append(Tag.allocQty, a.brokerQuantity.description)
                }
            }
        }
        b.append(Tag.symbol, intent.brokerSymbol)
        b.append(Tag.side, intent.side.fixString)
        b.set(Tag.orderQty, intent.brokerQuantity)
        b.append(Tag.ordType, intent.ordType.fixValue)
        b.append(Tag.timeInForce, intent.timeInForce.fixValue)
        b.set(Tag.transactTime, bytes: transactTime)
        if let p = intent.price { b.set(Tag.price, p) }
        return b
    }

    /// The NewOrderSingle of order `oi`, from bytes the engine keeps ready (the same message as
    /// ``newOrderSingle(_:)``, which tests compare it with). Runs once per order of a copy, so it
    /// reads each value in place: a copied `SessionSymbol`, or a digit taken from a table of
    /// arrays, costs a retain and a release.
    mutating func newOrderSingle(_ si: Int, _ oi: Int, transactTime: UnsafeRawBufferPointer) -> FIXMessageBuilder {
        let intent = sessions[si].orders[oi].intent
        if intent.block { return Self.newOrderSingle(intent, transactTime: Array(transactTime)) }
        let s = sessions[si].orders[oi].symbol
        let f = sessions[si].orders[oi].allocations[0].follower
        ensureSessionSymbol(si, s)
        let account = followers[f].accountBytes.bytes
        let symbol = sessions[si].symbols[s].brokerSymbolBytes.bytes
        let tif: UInt8
        switch intent.timeInForce {
        case .day: tif = UInt8(ascii: "0")
        case .gtc: tif = UInt8(ascii: "1")
        case .ioc: tif = UInt8(ascii: "3")
        case .fok: tif = UInt8(ascii: "4")
        }
        // Exactly the room these fields need (the session merges its header in from a builder of
        // its own): a thousand followers' orders are a thousand builders alive at once.
        let valueBytes =
            account.count + intent.clOrdID.utf8.count + symbol.count + transactTime.count + 3
            + 2 * FIXMessageBuilder.FieldWriter.decimalBytes
        // In ascending tag order, which is the canonical order: the encoder then sorts nothing.
        return FIXMessageBuilder(msgType: "D", fields: 9, valueBytes: valueBytes) { w in
            w.bytes(Tag.account, account)
            w.string(Tag.clOrdID, intent.clOrdID)
            w.decimal(Tag.orderQty, intent.brokerQuantity)
            w.ascii(Tag.ordType, intent.ordType == .market ? UInt8(ascii: "1") : UInt8(ascii: "2"))
            if let p = intent.price { w.decimal(Tag.price, p) }
            w.ascii(Tag.side, intent.side == .buy ? UInt8(ascii: "1") : UInt8(ascii: "2"))
            w.bytes(Tag.symbol, symbol)
            w.ascii(Tag.timeInForce, tif)
            w.bytes(Tag.transactTime, transactTime)
        }
    }

    // MARK: Execution reports for our orders

    /// The state an order is in after an ExecutionReport, from OrdStatus (39), else ExecType (150).
    static func lifecycle(_ m: FIXMessage, current: OrderLifecycle) -> OrderLifecycle {
        let code = m.byte(Tag.ordStatus) ?? m.byte(Tag.execType)
        switch code {
        case UInt8(ascii: "0"), UInt8(ascii: "5"), UInt8(ascii: "9"), UInt8(ascii: "D"): return .new
        case UInt8(ascii: "1"), UInt8(ascii: "7"), UInt8(ascii: "B"): return .partiallyFilled
        case UInt8(ascii: "2"): return .filled
        case UInt8(ascii: "3"): return .doneForDay
        case UInt8(ascii: "4"): return .canceled
        case UInt8(ascii: "8"): return .rejected
        case UInt8(ascii: "C"): return .expired
        case UInt8(ascii: "A"): return current == .unknown ? .pendingNew : current
        default: return current == .unknown || current == .pendingNew ? .new : current
        }
    }

    /// An ExecutionReport for order `oi` on session `si`.
    mutating func orderExecution(_ si: Int, _ oi: Int, _ m: FIXMessage) {
        let clOrdID = sessions[si].orders[oi].intent.clOrdID
        // Reports about our orders are idempotent without ExecID bookkeeping: CumQty says what is
        // filled, so a resend changes nothing, and only a bust or correct may lower it.
        let execID = m[Tag.execID]
        journalCurrentMessage()
        // Field by field: a copy of the whole OrderState retains and releases its intent and its
        // allocations, on every report of every copy.
        let symbol = sessions[si].orders[oi].symbol
        let lifecycle = sessions[si].orders[oi].lifecycle
        let cs = contractSize(si, symbol)
        let execType = m.byte(Tag.execType)
        var delta: FixedDecimal = 0
        if let cum = m.optionalDecimal(Tag.cumQty) {
            delta = (cs == 1 ? cum : cum * cs) - sessions[si].orders[oi].cumQty
            if delta.isNegative && execType != UInt8(ascii: "H") && execType != UInt8(ascii: "G") { delta = 0 }
        } else if execType == UInt8(ascii: "F"), let q = m.optionalDecimal(Tag.lastQty) {
            delta = cs == 1 ? q : q * cs
        }
        let avgPx = m.optionalDecimal(Tag.avgPx)
        if let a = avgPx, a.isPositive { sessions[si].orders[oi].avgPx = a }
        let price = m.optionalDecimal(Tag.lastPx) ?? avgPx
        if !delta.isZero { applyOrderFill(si, oi, delta, price: price, execID: execID ?? "") }
        let wasTerminal = lifecycle.isTerminal
        let next = Self.lifecycle(m, current: lifecycle)
        let isStatus = execType == UInt8(ascii: "I")
        let unknownAtBroker = isStatus && next == .rejected && sessions[si].orders[oi].cumQty.isZero
        if sessions[si].pendingStatus.remove(clOrdID) != nil {
            if unknownAtBroker { sessions[si].forgottenByBroker.append(oi) }
            decide(
                CopyDecision(
                    reason: unknownAtBroker ? .orderUnknownAtBroker : .orderSettled,
                    symbol: symbols.names[symbol],
                    clOrdID: clOrdID, quantity: sessions[si].orders[oi].cumQty, detail: "\(next)"))
        }
        if wasTerminal {
            // A late report about a finished order (a bust, a resend): only its fills count.
        } else {
            sessions[si].orders[oi].lifecycle = next
            if next.isTerminal {
                sessions[si].liveCount -= 1
                forgetFinishedOrders(si)
                sessions[si].finished.append(oi, at: now)
                finishOrder(
                    si, oi, unknownAtBroker: unknownAtBroker, text: m[Tag.text], rejectReason: m[Tag.ordRejReason])
            } else if !delta.isZero && sessions[si].config.closeThenOpen {
                for alloc in sessions[si].orders[oi].allocations { plan(alloc.follower, symbol) }
            }
        }
        if sessions[si].phase == .settlingOrders && sessions[si].pendingStatus.isEmpty { startPositionSettle(si) }
    }

    /// Books `delta` units of fills (negative for a bust) on order `oi`, allocating block fills.
    mutating func applyOrderFill(_ si: Int, _ oi: Int, _ delta: FixedDecimal, price: FixedDecimal?, execID: String) {
        let newCum = sessions[si].orders[oi].cumQty + delta
        sessions[si].orders[oi].cumQty = newCum
        // An order of one follower (every order outside block mode) takes the whole delta.
        guard sessions[si].orders[oi].allocations.count > 1 else {
            if !delta.isZero { bookAllocationFill(si, oi, 0, delta, price: price, execID: execID) }
            return
        }
        let allocations = sessions[si].orders[oi].allocations
        var increments: [FixedDecimal]
        if delta.isPositive {
            increments = Self.allocate(allocations, filled: newCum, total: sessions[si].orders[oi].intent.quantity)
        } else {
            increments = Array(repeating: 0, count: allocations.count)
            var remaining = delta.magnitude
            for k in allocations.indices.reversed() where remaining.isPositive {
                let take = FixedDecimal.min(allocations[k].allocated, remaining)
                increments[k] = -take
                remaining -= take
            }
        }
        for k in increments.indices where !increments[k].isZero {
            bookAllocationFill(si, oi, k, increments[k], price: price, execID: execID)
        }
    }

    /// Books `inc` units of order `oi`'s fills to its allocation `k`. Reads the order and the
    /// follower field by field: copying either whole retains and releases every reference in it,
    /// on every report of every copy.
    mutating func bookAllocationFill(
        _ si: Int, _ oi: Int, _ k: Int, _ inc: FixedDecimal, price: FixedDecimal?, execID: String
    ) {
        let s = sessions[si].orders[oi].symbol
        let sign = sessions[si].orders[oi].sign
        let f = sessions[si].orders[oi].allocations[k].follower
        let openBefore = sessions[si].orders[oi].allocations[k].open
        sessions[si].orders[oi].allocations[k].allocated += inc
        let openAfter = sessions[si].orders[oi].allocations[k].open
        if !sessions[si].orders[oi].lifecycle.isTerminal {
            followers[f].symbols[s].working += .signed(openAfter - openBefore, sign)
        }
        followers[f].symbols[s].position += .signed(inc, sign)
        followers[f].symbols[s].failures = 0
        bookCopyFill(f, s, inc, sign: sign, price: price ?? sessions[si].orders[oi].avgPx)
        actions.append(
            .fill(
                FollowerFill(
                    followerID: followers[f].config.followerID, session: sessions[si].config.name,
                    account: followers[f].config.account, symbol: sessions[si].orders[oi].intent.symbol,
                    side: sessions[si].orders[oi].intent.side, quantity: inc, price: price,
                    clOrdID: sessions[si].orders[oi].intent.clOrdID, execID: execID, isCopy: true, at: now)))
    }

    /// Allocates a block's cumulative fill `filled` of `total` among its followers, in whole lots.
    ///
    /// Each follower's fair share is `filled × requested ÷ total`. New quantity goes first to the
    /// followers furthest below their share (whole lots, never beyond it), then what is left goes
    /// lot by lot by largest remainder (ties to the earlier follower), never beyond what he asked
    /// for. Allocations only grow and never exceed what was filled; a residue smaller than the
    /// lots that could take it stays unallocated. Returns the increments.
    static func allocate(_ allocations: [AllocationState], filled: FixedDecimal, total: FixedDecimal) -> [FixedDecimal]
    {
        var allocatedSum: FixedDecimal = 0
        for a in allocations { allocatedSum += a.allocated }
        var available = FixedDecimal.min(filled, total) - allocatedSum
        var increments = [FixedDecimal](repeating: 0, count: allocations.count)
        guard available.isPositive else { return increments }
        var deficits: [FixedDecimal] = []
        deficits.reserveCapacity(allocations.count)
        for a in allocations {
            let share = (filled * a.quantity).divided(by: total, scale: 12, .down)
            deficits.append(FixedDecimal.min(share, a.quantity) - a.allocated)
        }
        let byDeficit = allocations.indices.sorted {
            deficits[$0] != deficits[$1] ? deficits[$0] > deficits[$1] : $0 < $1
        }
        for k in byDeficit where deficits[k].isPositive && available.isPositive {
            let room = FixedDecimal.min(FixedDecimal.min(deficits[k], available), allocations[k].open)
            let take = room.rounded(toMultipleOf: allocations[k].lotUnits, .down)
            increments[k] = take
            available -= take
        }
        let byRemainder = allocations.indices.sorted {
            let r0 = deficits[$0] - increments[$0]
            let r1 = deficits[$1] - increments[$1]
            return r0 != r1 ? r0 > r1 : $0 < $1
        }
        for k in byRemainder {
            let lot = allocations[k].lotUnits
            if lot <= available && allocations[k].allocated + increments[k] + lot <= allocations[k].quantity {
                increments[k] += lot
                available -= lot
            }
        }
        return increments
    }

    /// Whether follower `f` waits in `s` for the broker to cancel resting copies the target no longer
    /// wants (`needed`: the target less his copied position), after asking for the cancels not asked
    /// yet.
    ///
    /// A DAY or GTC copy can rest at the broker for hours; netting it with an order the other way
    /// would leave him exposed until it fills or expires (short while she is flat, say). It is
    /// canceled instead, and nothing more is sent until the broker has answered; then whatever it
    /// filled is planned against the target. IOC and FOK copies end on their own at once and are
    /// netted as before; a block order, shared by several followers, is left to fill.
    mutating func cancelUnwanted(_ f: Int, _ s: Int, needed: FixedDecimal) -> Bool {
        let working = followers[f].symbols[s].working
        guard needed.signum != working.signum || needed.magnitude < working.magnitude else { return false }
        let si = followers[f].session
        var waiting = false
        for oi in sessions[si].liveSlots() {
            let order = sessions[si].orders[oi]
            guard order.isSingle(of: f, in: s), order.intent.timeInForce == .day || order.intent.timeInForce == .gtc
            else { continue }
            waiting = true
            if order.cancelPending { continue }
            let n = order.cancelRequests + 1
            sessions[si].orders[oi].cancelPending = true
            sessions[si].orders[oi].cancelRequests = n
            let intent = order.intent
            let cancelID = Self.cancelClOrdID(intent.clOrdID, n)
            // Brokers report the order under the cancel's ClOrdID from then on (a status answer
            // too, without OrigClOrdID): the cancel's ID finds the order as its own does.
            sessions[si].orderIndex[cancelID] = oi
            var b = FIXMessageBuilder(msgType: "F")
            b.set(Tag.origClOrdID, intent.clOrdID)
            b.set(Tag.clOrdID, cancelID)
            if let a = intent.account { b.set(Tag.account, a) }
            b.set(Tag.side, intent.side.fixValue)
            b.set(Tag.symbol, intent.brokerSymbol)
            b.set(Tag.orderQty, intent.brokerQuantity)
            b.set(Tag.transactTime, UTCTimestamp(nanosecondsSinceEpoch: now))
            actions.append(.send(session: sessions[si].config.name, message: b))
            decide(
                CopyDecision(
                    reason: .cancelRequested, followerID: followers[f].config.followerID, symbol: intent.symbol,
                    signal: intent.signal, clOrdID: intent.clOrdID, quantity: order.allocations[0].open,
                    detail: "target less position \(needed.normalized), working \(working.normalized)"))
        }
        return waiting
    }

    /// The broker refused an OrderCancelRequest of ours (OrderCancelReject, 35=9).
    ///
    /// Where the reject says the order is done (filled, canceled, rejected, expired, done for the
    /// day) or a cancel is already in progress, the cancel stays pending: the order's own report
    /// settles it, and asking again would only be refused again. Otherwise (the broker refuses to
    /// cancel a working order, or does not know it) the refusal is a failed attempt: the cancel is
    /// asked again after RetryBackoffMs, and past RetryLimit the follower is degraded, with the
    /// broker's reason, while the order keeps resting for the operator to see to.
    mutating func cancelRejected(_ si: Int, _ m: FIXMessage) {
        let index = sessions[si].orderIndex
        guard
            let oi = m[Tag.clOrdID].flatMap({ Self.slot(index, $0) })
                ?? m[Tag.origClOrdID].flatMap({ Self.slot(index, $0) }),
            sessions[si].orders[oi].cancelPending
        else { return }
        journalCurrentMessage()
        let order = sessions[si].orders[oi]
        let f = order.allocations[0].follower
        let reason = m[Tag.cxlRejReason]
        var detail = "OrderCancelReject"
        if let reason { detail += " (CxlRejReason \(reason))" }
        if let text = m[Tag.text] { detail += ": \(text)" }
        // OrdStatus read as for an ExecutionReport: done at the broker, or a cancel in progress (6).
        // CxlRejReason 1, unknown order: whatever OrdStatus says, no report of it is coming.
        let awaited =
            reason != "1"
            && (Self.lifecycle(m, current: order.lifecycle).isTerminal
                || m.byte(Tag.ordStatus) == UInt8(ascii: "6"))
        decide(
            CopyDecision(
                reason: .cancelRejected, followerID: followers[f].config.followerID, symbol: order.intent.symbol,
                signal: order.intent.signal, clOrdID: order.intent.clOrdID, quantity: order.allocations[0].open,
                detail: awaited ? detail + "; the order is done at the broker, its report is awaited" : detail))
        if awaited { return }
        sessions[si].orders[oi].cancelPending = false
        failure(f, order.symbol, .cancelRejected, detail: detail)
    }

    /// The ClOrdID of the `n`-th OrderCancelRequest for order `clOrdID`: two characters longer, so
    /// never the ID of an order (those have a fixed width).
    static func cancelClOrdID(_ clOrdID: String, _ n: Int) -> String { clOrdID + "X\(n)" }

    /// Forgets every unanswered cancel on session `si`: after a drop or a restart the request may
    /// never have reached the broker, and the next plan asks again if the order is still unwanted.
    mutating func forgetPendingCancels(_ si: Int) {
        for oi in sessions[si].liveSlots() where sessions[si].orders[oi].cancelPending {
            sessions[si].orders[oi].cancelPending = false
        }
    }

    /// Order `oi` reached a final state: release its working quantities, then retry, re-plan or degrade.
    mutating func finishOrder(_ si: Int, _ oi: Int, unknownAtBroker: Bool, text: String?, rejectReason: String?) {
        let order = sessions[si].orders[oi]
        let s = order.symbol
        var allocatedSum: FixedDecimal = 0
        for alloc in order.allocations {
            followers[alloc.follower].symbols[s].working -= .signed(alloc.open, order.sign)
            allocatedSum += alloc.allocated
        }
        if order.cumQty > allocatedSum {
            decide(
                CopyDecision(
                    reason: .unallocatedResidue, symbol: order.intent.symbol, clOrdID: order.intent.clOrdID,
                    quantity: order.cumQty - allocatedSum))
        }
        var detail = text ?? ""
        if let r = rejectReason { detail = detail.isEmpty ? "OrdRejReason \(r)" : "\(detail) (OrdRejReason \(r))" }
        if order.lifecycle == .rejected && !unknownAtBroker { noteReject(si) }
        // Ended after we asked for a cancel (answered now, or later through a settlement after a
        // drop or a restart): no failure to count, only a re-plan.
        if order.cancelRequests > 0 && order.lifecycle != .rejected && order.lifecycle != .filled {
            for alloc in order.allocations { plan(alloc.follower, s) }
            return
        }
        for alloc in order.allocations {
            let f = alloc.follower
            let followerID = followers[f].config.followerID
            switch order.lifecycle {
            case .rejected where unknownAtBroker:
                plan(f, s)
            case .rejected:
                decide(
                    CopyDecision(
                        reason: .orderRejected, followerID: followerID, symbol: order.intent.symbol,
                        signal: order.intent.signal,
                        clOrdID: order.intent.clOrdID, quantity: alloc.quantity, detail: detail))
                failure(f, s, .orderRejected, detail: detail)
            case .canceled, .expired, .doneForDay:
                if alloc.allocated.isZero {
                    decide(
                        CopyDecision(
                            reason: .orderUnfilled, followerID: followerID, symbol: order.intent.symbol,
                            signal: order.intent.signal,
                            clOrdID: order.intent.clOrdID, quantity: alloc.quantity, detail: detail))
                    failure(f, s, .orderUnfilled, detail: detail.isEmpty ? "unfilled" : detail)
                } else {
                    if alloc.allocated < alloc.quantity {
                        decide(
                            CopyDecision(
                                reason: .remainderReplanned, followerID: followerID, symbol: order.intent.symbol,
                                signal: order.intent.signal, clOrdID: order.intent.clOrdID,
                                quantity: alloc.quantity - alloc.allocated))
                    }
                    plan(f, s)
                }
            case .filled:
                plan(f, s)
            case .pendingNew, .new, .partiallyFilled, .unknown, .dropped:
                preconditionFailure("finishOrder on a non-final order")
            }
        }
    }

    /// Counts a failed order: retry after a backoff, or degrade the follower past RetryLimit.
    mutating func failure(_ f: Int, _ s: Int, _ reason: ReasonCode, detail: String) {
        followers[f].symbols[s].failures += 1
        let failures = followers[f].symbols[s].failures
        let config = sessions[followers[f].session].config
        if failures > config.retryLimit {
            degrade(f, .retryExhausted, detail: detail)
            return
        }
        let delayMs = Int64(config.retryBackoffMs) << Int64(Swift.min(failures - 1, 5))
        let due = now + delayMs * 1_000_000
        followers[f].symbols[s].retryDue = due
        retryQueue.append(RetryEntry(due: due, follower: f, symbol: s))
        decide(
            CopyDecision(
                reason: .retryScheduled, followerID: followers[f].config.followerID, symbol: symbols.names[s],
                signal: followers[f].symbols[s].signalID,
                detail: "attempt \(failures) of \(config.retryLimit) after \(delayMs) ms: \(detail)"))
    }

    /// Stops all orders for follower `f` until an operator resumes him.
    mutating func degrade(_ f: Int, _ reason: ReasonCode, detail: String) {
        guard followers[f].isActive else { return }
        let status = FollowerStatus.degraded(reason: reason, detail: detail)
        followers[f].status = status
        let id = followers[f].config.followerID
        actions.append(.followerStateChanged(followerID: id, status: status))
        decide(CopyDecision(reason: .followerDegraded, followerID: id, detail: "\(reason.rawValue): \(detail)"))
    }

    /// Time passes: due retries re-plan, overdue settlements give up.
    mutating func tick() {
        let dueRetry = retryQueue.contains { $0.due <= now }
        let dueSettle = sessions.contains {
            ($0.phase == .settlingOrders || $0.phase == .settlingPositions) && $0.settleDeadline <= now
        }
        // A journaled tick always runs every risk check, live and in replay; a live tick is
        // journaled only when something is due, so unjournaled ticks change nothing.
        let dueRisk = !replaying && (brokerResumeDue() || lossTickDue())
        guard replaying || dueRetry || dueSettle || dueRisk else { return }
        journal(.tick(at: now))
        if dueRetry {
            let due = retryQueue.filter { $0.due <= now }.sorted {
                ($0.due, $0.follower, $0.symbol) < ($1.due, $1.follower, $1.symbol)
            }
            retryQueue.removeAll { $0.due <= now }
            for e in due where followers[e.follower].symbols[e.symbol].retryDue == e.due {
                followers[e.follower].symbols[e.symbol].retryDue = nil
                plan(e.follower, e.symbol)
            }
        }
        for si in sessions.indices
        where (sessions[si].phase == .settlingOrders || sessions[si].phase == .settlingPositions)
            && sessions[si].settleDeadline <= now
        {
            settleTimeout(si)
        }
        lossTick()
        brokerResumeTick()
    }
}
