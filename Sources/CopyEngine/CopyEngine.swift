import FIXCore

/// The copy engine: provider fills in, follower orders out. Pure: no I/O, no clock, no threads.
///
/// Every input is an ``EngineEvent``; every decision comes back from ``handle(_:)`` as
/// ``EngineAction``s, in the order a driver must execute them. The pipeline inside:
///
/// 1. **Signal detection** (`SignalDetector.swift`): ExecutionReports for a provider's account
///    (ExecType F, G, H) become changes of her position per symbol; ExecIDs are de-duplicated
///    per session, trade cancels and corrects undo or replace the fill they refer to.
/// 2. **Planning** (`CopyPlanner.swift`): each follower link follows the accepted part of her
///    position (filters gate increases, reductions always pass), sized per link, summed per
///    symbol, rounded to his lot, reviewed by the ``RiskGate``; the order is the difference
///    between that target and his copied position plus working orders.
/// 3. **Routing** (`OrderRouter.swift`): one order book per broker session follows every order
///    through acks, fills, cancels and rejects; block sessions send one order per symbol and side
///    and allocate fills by largest remainder; rejects are retried, then the follower degraded.
/// 4. **Recovery** (`Recovery.swift`): the journal replays into a fresh engine; every session is
///    settled (OrderStatusRequest, RequestForPositions) before anything new is sent on it.
///
/// Driver contract: persist every `.journal` record that precedes a `.send` before sending it.
/// Replaying the journaled records (`.replay`) into an engine built from the same
/// configuration reproduces state and decisions byte for byte.
public struct CopyEngine: Sendable {
    public let configuration: CopyEngineConfiguration

    var symbols = SymbolTable()
    var sessions: [SessionState] = []
    var sessionIndex: [String: Int] = [:]
    /// Per session (outside `SessionState`, whose size makes element reads copy it): who owns
    /// each account, and broker symbols to canonical symbol IDs.
    var accountRoles: [[String: AccountRoles]] = []
    var brokerSymbolIDs: [[String: Int]] = []
    var providers: [ProviderState] = []
    var providerIndex: [String: Int] = [:]
    var followers: [FollowerState] = []
    var followerIndex: [String: Int] = [:]
    var marks: [Mark?] = []
    /// Symbols whose mark changed since it was last journaled.
    var dirtyMarks: [Int] = []
    var catchUpWaiters: [Int: [Int]] = [:]
    var retryQueue: [RetryEntry] = []
    var riskGate = RiskGate()
    /// Completed recoveries (journaled), part of settlement request IDs.
    var epoch = 0
    var requestCounter = 0
    var replaying = false
    var provisional: [(session: Int, order: Int)] = []
    /// The ClOrdID hash state after the latest signal's parts, and that signal (a cache: it only
    /// saves work). Plain fields: an optional tuple was copied out to be compared and destroyed
    /// through its generic value witnesses when replaced, 1.5 µs of a signal that finds the caches
    /// cold.
    var signalHasher = ClOrdIDHasher()
    var signalHasherSession = ""
    var signalHasherID = ""

    // Risk: breakers, loss protection (`Breakers.swift`, `LossProtection.swift`).
    var breakers: [BreakerState] = []
    var breakerIndex: [String: Int] = [:]
    /// Followers and providers with loss limits.
    var lossFollowers: [Int] = []
    var lossProviders: [Int] = []
    /// Marks feed loss checks.
    var watchesMarks = false
    /// Symbols whose mark moved since the last loss check.
    var riskMarkSymbols: Set<Int> = []
    /// When a live tick last scanned for loss breaches (live-only: it never changes decisions).
    var lossScanAt: EngineTime = .min
    /// The earliest start of a new trading day among the loss trackers.
    var nextLossDay: EngineTime = .min
    /// Followers whose copies filled during this event.
    var pendingLossChecks: [Int] = []
    /// Trips replay derived that no `.breaker` record confirmed yet.
    var unconfirmedTrips: Set<Int> = []

    // Per-event scratch.
    var now: EngineTime = 0
    var actions: [EngineAction] = []
    var pendingOrders: [(session: Int, order: Int)] = []
    var blockBuckets: [BlockBucket] = []
    /// Provider fills whose ExecID and effect are still to be recorded (``finishEvent()``).
    var deferredProviderFills: [DeferredProviderFill] = []
    var currentMessage: (session: Int, message: FIXMessage, receivedAt: EngineTime)?

    /// An engine for `configuration`, which is validated first.
    public init(configuration: CopyEngineConfiguration) throws(CopyConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        for s in configuration.sessions {
            sessionIndex[s.name] = sessions.count
            sessions.append(SessionState(config: s))
            accountRoles.append([:])
            brokerSymbolIDs.append([:])
        }
        for p in configuration.providers {
            let si = sessionIndex[p.sessionName]!
            let index = providers.count
            providerIndex[p.providerID] = index
            var state = ProviderState(config: p, session: si)
            if case .fixed(let e) = p.equity { state.equity = e }
            providers.append(state)
            accountRoles[si][p.account, default: AccountRoles()].provider = index
            sessions[si].providers.append(index)
        }
        for f in configuration.followers {
            let si = sessionIndex[f.sessionName]!
            let drop = f.dropCopySessionName.map { sessionIndex[$0]! }
            let index = followers.count
            followerIndex[f.followerID] = index
            var links: [FollowerLink] = []
            for (l, link) in f.providers.enumerated() {
                let p = providerIndex[link.providerID]!
                links.append(FollowerLink(provider: p, weight: link.weight, factor: nil))
                providers[p].links.append(FollowerLinkRef(follower: index, link: l))
            }
            var state = FollowerState(config: f, session: si, dropCopySession: drop, links: links)
            state.hashSuffix = WireBytes(Array(f.sessionName.utf8) + [0x1F] + Array(f.followerID.utf8) + [0x1F])
            state.accountBytes = WireBytes(f.account.utf8)
            if case .fixed(let e) = f.equity { state.equity = e }
            followers.append(state)
            accountRoles[si][f.account, default: AccountRoles()].follower = index
            sessions[si].tradingFollowers.append(index)
            if let d = drop, d != si {
                accountRoles[d][f.account, default: AccountRoles()].dropCopyFollower = index
            }
            recomputeFactors(index)
        }
        makeBreakers()
        watchesMarks = !lossFollowers.isEmpty || !lossProviders.isEmpty
        // Room for a few orders per follower, so the signal path does not rehash the order books.
        for si in sessions.indices {
            sessions[si].orderIndex.reserveCapacity(Swift.max(64, 4 * sessions[si].tradingFollowers.count))
        }
    }

    /// Does the bookkeeping the last event left for after its orders were written: a driver calls
    /// it once they are on the wire, so that the first order does not wait for it. ``handle(_:)``
    /// calls it first in any case, so the next event never misses any of it.
    public mutating func finishEvent() {
        guard !deferredProviderFills.isEmpty else { return }
        for d in deferredProviderFills {
            rememberExecID(d.session, d.execID)
            recordProviderFill(d.provider, execID: d.execID, key: d.key, effect: d.effect)
        }
        deferredProviderFills.removeAll(keepingCapacity: true)
    }

    /// Handles one event and returns what to do, in order.
    public mutating func handle(_ event: EngineEvent) -> [EngineAction] {
        finishEvent()
        actions = []
        switch event {
        case .executionReport(let session, let message, let receivedAt):
            inbound(session: session, message: message, receivedAt: receivedAt)
        case .positionReport(let session, let message, let receivedAt),
            .orderCancelReject(let session, let message, let receivedAt):
            inbound(session: session, message: message, receivedAt: receivedAt)
        case .sessionUp(let session, let at):
            guard let si = sessionIndex[session] else { break }
            now = at
            journal(.sessionUp(session: session, at: at))
            sessionUp(si)
        case .sessionDown(let session, let at, let planned):
            guard let si = sessionIndex[session] else { break }
            now = at
            journal(.sessionDown(session: session, at: at, planned: planned))
            sessionDown(si, planned: planned)
        case .mark(let symbol, let bid, let ask, let at):
            now = at
            mark(MarkSnapshot(symbol: symbol, bid: bid, ask: ask, at: at), journaled: false)
        case .tick(let at):
            now = at
            tick()
        case .command(let command, let at, let actor, let reason):
            now = at
            journal(.command(command, at: at, actor: actor, reason: reason))
            operatorCommand(command, actor: actor)
        case .recoveryBegin(let at):
            now = at
        case .replay(let record):
            replaying = true
            replay(record)
        case .recoveryComplete(let at):
            now = at
            resolveProvisional()
            journal(.recoveryComplete(at: at))
            recoveryComplete()
            journalUnconfirmedTrips()
        }
        if !pendingLossChecks.isEmpty { runPendingLossChecks() }
        flushOrders()
        replaying = false
        let out = actions
        actions = []
        return out
    }

    // MARK: Inbound messages

    mutating func inbound(session: String, message: FIXMessage, receivedAt: EngineTime) {
        guard let si = sessionIndex[session] else { return }
        now = receivedAt
        currentMessage = (si, message, receivedAt)
        defer { currentMessage = nil }
        if message.isMsgType("8") {
            execution(si, message)
        } else if message.isMsgType("AP") || message.isMsgType("AO") {
            positionMessage(si, message)
        } else if message.isMsgType("9") {
            cancelRejected(si, message)
        }
    }

    /// Routes an ExecutionReport: our order, a provider's fill, or a follower's own trade.
    mutating func execution(_ si: Int, _ m: FIXMessage) {
        let account = m[Tag.account] ?? ""
        let roles = accountRoles[si][account]
        // A provider's account never carries our orders (validation keeps accounts apart), so her
        // fills skip the order book lookups.
        if let p = roles?.provider {
            providerExecution(p, si, m)
            return
        }
        if let c = m[Tag.clOrdID], let oi = Self.slot(sessions[si].orderIndex, c) {
            orderExecution(si, oi, m)
            return
        }
        if let c = m[Tag.origClOrdID], let oi = Self.slot(sessions[si].orderIndex, c) {
            orderExecution(si, oi, m)
            return
        }
        guard let roles else {
            decide(CopyDecision(reason: .unknownAccount, detail: "account '\(account)' on \(sessions[si].config.name)"))
            return
        }
        if let f = roles.follower ?? roles.dropCopyFollower { followerExecution(f, si, m) }
    }

    /// The slot of order `id` in `index`. Every report of a follower's order is looked up here:
    /// written in place as `sessions[si].orderIndex[id]`, the lookup made the optimizer copy the
    /// whole session state first, retaining and releasing every reference in it.
    static func slot(_ index: ClOrdIDIndex, _ id: String) -> Int? { index[id] }

    // MARK: Journal and actions

    /// Appends a journal record, preceded by any mark the engine read since it was journaled.
    /// `consuming`: the record moves into the action list; borrowed, it was copied there through
    /// the enum's value witness and the caller's temporary destroyed, per order of a copy.
    mutating func journal(_ record: consuming JournalRecord) {
        if !dirtyMarks.isEmpty {
            for s in dirtyMarks.sorted() {
                if let m = marks[s] {
                    actions.append(
                        .journal(.mark(MarkSnapshot(symbol: symbols.names[s], bid: m.bid, ask: m.ask, at: m.at))))
                }
            }
            dirtyMarks.removeAll(keepingCapacity: true)
        }
        actions.append(.journal(record))
    }

    /// Journals the message being handled.
    mutating func journalCurrentMessage() {
        guard let c = currentMessage else { preconditionFailure("no message is being handled") }
        journal(
            .message(
                session: sessions[c.session].config.name, bytes: JournalBytes(c.message.byteArray),
                receivedAt: c.receivedAt))
    }

    mutating func decide(_ decision: consuming CopyDecision) {
        actions.append(.decision(decision))
    }

    // MARK: Helpers

    mutating func symbolID(session si: Int, brokerSymbol: String) -> Int {
        if let s = brokerSymbolIDs[si][brokerSymbol] { return s }
        let canonical = sessions[si].config.symbolMap.canonicalSymbol(for: brokerSymbol)
        let s = symbols.intern(canonical)
        brokerSymbolIDs[si][brokerSymbol] = s
        return s
    }

    /// What session `si` calls symbol `s` and its contract size, learned on first use.
    mutating func sessionSymbol(_ si: Int, _ s: Int) -> SessionSymbol {
        ensureSessionSymbol(si, s)
        return sessions[si].symbols[s]
    }

    /// The contract size of symbol `s` on session `si`, read in place: a copied ``SessionSymbol``
    /// costs a retain and a release of its bytes, on every order and every fill.
    mutating func contractSize(_ si: Int, _ s: Int) -> FixedDecimal {
        ensureSessionSymbol(si, s)
        return sessions[si].symbols[s].contractSize
    }

    mutating func ensureSessionSymbol(_ si: Int, _ s: Int) {
        if s < sessions[si].symbols.count && sessions[si].symbols[s].known { return }
        let name = symbols.names[s]
        let config = sessions[si].config
        let broker = config.symbolMap.brokerSymbol(for: name)
        let info = SessionSymbol(
            brokerSymbol: broker, brokerSymbolBytes: WireBytes(broker.utf8),
            contractSize: config.contractSize(for: name))
        if sessions[si].symbols.count <= s {
            sessions[si].symbols.append(contentsOf: repeatElement(.unknown, count: s + 1 - sessions[si].symbols.count))
        }
        sessions[si].symbols[s] = info
        if brokerSymbolIDs[si][info.brokerSymbol] == nil { brokerSymbolIDs[si][info.brokerSymbol] = s }
    }

    mutating func ensureProviderSymbol(_ p: Int, _ s: Int) {
        if providers[p].symbols.count <= s {
            providers[p].symbols.append(
                contentsOf: repeatElement(ProviderSymbolState(), count: s + 1 - providers[p].symbols.count))
        }
    }

    mutating func ensureFollowerSymbol(_ f: Int, _ s: Int) {
        if followers[f].symbols.count <= s {
            followers[f].symbols.append(
                contentsOf: repeatElement(FollowerSymbolState.absent, count: s + 1 - followers[f].symbols.count))
        }
        guard !followers[f].symbols[s].exists else { return }
        let config = followers[f].config
        let info = sessionSymbol(followers[f].session, s)
        let cs = info.contractSize
        let lotSize = config.lotSize(for: symbols.names[s])
        let limits = RiskLimits(
            lotUnits: lotSize * cs, minUnits: config.minQty(for: symbols.names[s]) * cs,
            maxOrderUnits: config.maxOrderQty * cs, maxPositionUnits: config.maxPositionQty * cs)
        followers[f].symbols[s] = FollowerSymbolState(
            links: Array(repeating: LinkSymbolState(), count: followers[f].links.count),
            signalID: "init:" + symbols.names[s], filter: config.symbolFilter(symbols.names[s]), limits: limits,
            contractSize: cs, lotSizeBroker: lotSize)
        followers[f].knownSymbols.append(s)
    }

    mutating func ensureMark(_ s: Int) {
        if marks.count <= s { marks.append(contentsOf: repeatElement(nil, count: s + 1 - marks.count)) }
    }

    func currentMark(_ s: Int) -> Mark? {
        s < marks.count ? marks[s] : nil
    }

    /// Recomputes the ratio-mode factors of follower `f` (after an equity change).
    mutating func recomputeFactors(_ f: Int) {
        let config = followers[f].config
        for l in followers[f].links.indices {
            let link = followers[f].links[l]
            switch config.sizing {
            case .fixedRatio:
                followers[f].links[l].factor = (config.ratio * link.weight).normalized
            case .equityRatio:
                if let ef = followers[f].equity, let ep = providers[link.provider].equity {
                    let ratio = ef.divided(by: ep, scale: 12, .halfEven).normalized
                    followers[f].links[l].factor = (ratio * config.ratio * link.weight).normalized
                } else {
                    followers[f].links[l].factor = nil
                }
            case .fixedQty, .riskPercent:
                followers[f].links[l].factor = nil
            }
        }
    }

    // MARK: Queries

    /// A follower's status.
    public func followerStatus(_ followerID: String) -> FollowerStatus? {
        followerIndex[followerID].map { followers[$0].status }
    }

    /// A follower's state in one canonical symbol.
    public func followerPosition(_ followerID: String, symbol: String) -> FollowerPositionView? {
        guard let f = followerIndex[followerID], let s = symbols.ids[symbol], s < followers[f].symbols.count,
            followers[f].symbols[s].exists
        else { return nil }
        let st = followers[f].symbols[s]
        return FollowerPositionView(
            position: st.position, offset: st.offset, working: st.working, target: st.target, detached: st.detached,
            waitingCatchUp: st.links.contains { $0.waitingCatchUp }, failures: st.failures,
            contractSize: st.contractSize)
    }

    /// A provider's position (units) in a canonical symbol.
    public func providerPosition(_ providerID: String, symbol: String) -> FixedDecimal {
        guard let p = providerIndex[providerID], let s = symbols.ids[symbol], s < providers[p].symbols.count else {
            return 0
        }
        return providers[p].symbols[s].position
    }

    /// A session's recovery phase.
    public func sessionPhase(_ session: String) -> SessionPhase? {
        sessionIndex[session].map { sessions[$0].phase }
    }

    /// The orders on a session that have not reached a final state, by ClOrdID.
    public func liveOrders(session: String) -> [OrderIntent] {
        guard let si = sessionIndex[session] else { return [] }
        return sessions[si].liveSlots().map { sessions[si].orders[$0].intent }
    }

    /// What the session's order book knows about an order (live, or finished within the
    /// retention window).
    public func order(session: String, clOrdID: String) -> OrderView? {
        guard let si = sessionIndex[session], let oi = sessions[si].orderIndex[clOrdID] else { return nil }
        let o = sessions[si].orders[oi]
        return OrderView(
            intent: o.intent, lifecycle: o.lifecycle, cumQty: o.cumQty, avgPx: o.avgPx,
            allocated: o.allocations.map { (followers[$0.follower].config.followerID, $0.allocated) })
    }

    /// The earliest time a `.tick` has work to do, so a driver can sleep until then.
    public var nextDeadline: EngineTime? {
        var next = retryQueue.map(\.due).min()
        for s in sessions where s.phase == .settlingOrders || s.phase == .settlingPositions {
            next = Swift.min(next ?? s.settleDeadline, s.settleDeadline)
        }
        for si in sessions.indices where sessions[si].breakerTripped {
            if let t = brokerResumeTime(si) { next = Swift.min(next ?? t, t) }
        }
        if watchesMarks { next = Swift.min(next ?? nextLossDay, nextLossDay) }
        return next
    }
}

/// An order as its session's order book follows it. Quantities are units.
public struct OrderView: Sendable {
    public var intent: OrderIntent
    public var lifecycle: OrderLifecycle
    /// Filled so far.
    public var cumQty: FixedDecimal
    public var avgPx: FixedDecimal?
    /// What each follower has been allocated of the fills.
    public var allocated: [(followerID: String, quantity: FixedDecimal)]
}

/// A follower's state in one symbol. Quantities are units.
public struct FollowerPositionView: Sendable, Equatable {
    /// His account's position.
    public var position: FixedDecimal
    /// The part of it that is his own (held before copying or while detached).
    public var offset: FixedDecimal
    /// Unfilled quantity of live orders, signed.
    public var working: FixedDecimal
    /// The copied position he should hold.
    public var target: FixedDecimal
    /// He traded the symbol himself; it is not copied until the provider is flat.
    public var detached: Bool
    public var waitingCatchUp: Bool
    /// Consecutive failed orders.
    public var failures: Int
    /// Units per broker quantity unit.
    public var contractSize: FixedDecimal

    /// The copied part of his position.
    public var copied: FixedDecimal { position - offset }
}
