import CopyEngine
import FIXCore
import FIXSession
import FIXTransport
import Foundation
import Logging
import NIOCore

/// The agent on its event loop: the copy engine, the journal and every session's driver, driven by
/// the sessions' messages and events and a timer.
///
/// The copy path runs synchronously in the session handler: the engine handles the message, the
/// journal records are encoded and written, then the orders are handed to their sessions, all on
/// the loop that read the message, and they leave in the flush that ends the read burst. Everything
/// that does not decide what goes on the wire (console lines, metrics, the ledger, the dashboard's
/// copies) is deferred to a task that runs after that flush.
///
/// Every method must be called on ``loop``.
final class AgentCore: @unchecked Sendable {
    let loop: any EventLoop
    let configuration: AgentConfiguration
    let journal: Journal
    let metrics: CopyBridgeMetrics
    let ledger: LedgerFeed?
    let console: @Sendable ([String]) -> Void
    let logger: Logger
    let printsActivity: Bool

    private(set) var engine: CopyEngine

    /// A session as the agent tracks it.
    struct Slot {
        let name: String
        let configuration: AgentSessionConfiguration
        let copy: BrokerSessionConfig
        var driver: SessionDriver?
        var loggedOn = false
        /// Whether the engine was told the session is up.
        var engineUp = false
        var connecting = false
        var detail: String?
        var phase: SessionPhase = .live
        var role: String
        var marketDataSymbols: [String]
        var marketDataRequests = 0
    }

    private(set) var slots: [String: Slot] = [:]
    private var slotOrder: [String] = []
    private var driverNames: [ObjectIdentifier: String] = [:]
    /// The drivers by session name, apart from the slots: reading a slot out of its dictionary
    /// copies its configurations, which every order of a fill would pay for.
    private var driversByName: [String: SessionDriver] = [:]
    private var providerAccounts: [String: [String: ProviderConfig]] = [:]
    private var followerConfigs: [String: FollowerConfig] = [:]

    var activity: AgentActivity
    private var equity: BrokerEquity
    /// Equities reported in another currency than the account's, by inquiry, until a mark converts them.
    private var pendingEquity: [String: PendingEquity] = [:]
    private(set) var knownSymbols = Set<String>()
    private var lastLedgerMark: [String: Int64] = [:]
    private var lastSummary: UInt64
    private var lastStateGauges: UInt64 = 0

    private(set) var stopping = false
    private(set) var crashed = false
    private(set) var halted: String?
    private var stopWaiters: [EventLoopPromise<Void>] = []
    private var progressWaiters: [(check: (AgentProgress) -> Bool, detailed: Bool, promise: EventLoopPromise<Void>)] =
        []
    /// Waiters for a number of filled orders, checked with one comparison per drain.
    private var filledWaiters: [(count: Int, promise: EventLoopPromise<Void>)] = []

    /// Work deferred until after the flush that follows the current read burst.
    private struct PostWork {
        var session: String?
        var trigger: FIXMessage?
        var wall: Int64
        var received: UInt64
        var actions: [EngineAction] = []
        var sent: [(intent: OrderIntent, at: UInt64)] = []
        var failures: [(session: String, msgType: String, error: String)] = []
    }

    private var post: [PostWork] = []
    private var drainScheduled = false
    private var lines: [String] = []

    init(
        loop: any EventLoop, configuration: AgentConfiguration, journal: Journal, metrics: CopyBridgeMetrics,
        ledger: LedgerFeed?, console: @escaping @Sendable ([String]) -> Void, printsActivity: Bool, logger: Logger,
        marketDataSymbols: [String: [String]]
    ) throws(CopyConfigurationError) {
        self.loop = loop
        self.configuration = configuration
        self.journal = journal
        self.metrics = metrics
        self.ledger = ledger
        self.console = console
        self.printsActivity = printsActivity
        self.logger = logger
        engine = try CopyEngine(configuration: configuration.engine)
        equity = BrokerEquity(configuration.engine)
        let now = AgentClock.monotonicNanos()
        activity = AgentActivity(accountCurrency: configuration.agent.accountCurrency, startedMonotonic: now)
        lastSummary = now
        let engineSessions = Dictionary(uniqueKeysWithValues: configuration.engine.sessions.map { ($0.name, $0) })
        for p in configuration.engine.providers { providerAccounts[p.sessionName, default: [:]][p.account] = p }
        for f in configuration.engine.followers {
            followerConfigs[f.followerID] = f
            activity.followerStatus[f.followerID] = "active"
        }
        for session in configuration.sessions {
            let name = session.name
            var roles: [String] = []
            if configuration.engine.providers.contains(where: { $0.sessionName == name }) { roles.append("drop-copy") }
            if configuration.engine.followers.contains(where: { $0.sessionName == name }) { roles.append("orders") }
            if configuration.engine.followers.contains(where: { $0.dropCopySessionName == name }) {
                roles.append("follower-drop-copy")
            }
            if session.marketData { roles.append("market-data") }
            let symbols =
                session.marketDataSymbols.isEmpty ? (marketDataSymbols[name] ?? []) : session.marketDataSymbols
            slots[name] = Slot(
                name: name, configuration: session, copy: engineSessions[name] ?? BrokerSessionConfig(name: name),
                role: roles.isEmpty ? "idle" : roles.joined(separator: "+"), marketDataSymbols: symbols)
            slotOrder.append(name)
        }
    }

    /// Binds the sessions' drivers, once the transport engine exists.
    func attach(_ drivers: [String: SessionDriver]) {
        for (name, driver) in drivers {
            slots[name]?.driver = driver
            driverNames[ObjectIdentifier(driver)] = name
            if slots[name] != nil { driversByName[name] = driver }
        }
    }

    // MARK: Recovery

    /// Replays the journal into the engine and completes the recovery: every session is settled
    /// with its broker when it comes up, before anything new is sent on it.
    func recover(_ scan: JournalScan) -> Int {
        loop.preconditionInEventLoop()
        let wall = AgentClock.wallNanos()
        _ = engine.handle(.recoveryBegin(at: wall))
        var replayed = 0
        for entry in scan.entries {
            guard case .engine(let record) = entry else { continue }
            replayed += 1
            for action in engine.handle(.replay(record)) {
                switch action {
                case .journal(.mark(let m)):
                    activity.quote(m.symbol, bid: m.bid, ask: m.ask)
                    knownSymbols.insert(m.symbol)
                case .fill(let fill):
                    if let price = fill.price {
                        activity.books[fill.followerID, default: [:]][fill.symbol, default: PositionTracker()].apply(
                            sign: fill.side == .buy ? 1 : -1, units: fill.quantity, price: price)
                    }
                    knownSymbols.insert(fill.symbol)
                case .followerStateChanged(let id, let status):
                    activity.followerStatus[id] = Self.describe(status)
                case .journal, .send, .decision, .sessionPhaseChanged, .alert:
                    continue
                }
            }
        }
        var note = "agent started: replayed \(replayed) journal records"
        if scan.tornTailBytes > 0 { note += "; dropped a torn tail of \(scan.tornTailBytes) bytes" }
        journal.append(AuditRecord.note(note, at: wall))
        execute(engine.handle(.recoveryComplete(at: wall)), session: nil, trigger: nil, wall: wall, received: 0)
        // The gauges change with the states; until the first change they must still say where they stand.
        updateStateGauges()
        return replayed
    }

    // MARK: Inbound (the copy path)

    /// An application message from a session, on the loop, as soon as the session accepted it.
    func received(_ message: FIXMessage, from driver: SessionDriver) {
        let start = AgentClock.monotonicNanos()
        guard !crashed, let name = driverNames[ObjectIdentifier(driver)] else { return }
        let wall = AgentClock.wallNanos()
        if message.isMsgType("8") {
            handle(.executionReport(session: name, message: message, receivedAt: wall), name, message, wall, start)
        } else if message.isMsgType("AP") || message.isMsgType("AO") {
            handle(.positionReport(session: name, message: message, receivedAt: wall), name, message, wall, start)
        } else if message.isMsgType("W") || message.isMsgType("X") {
            marketData(message, session: name, wall: wall)
        } else if message.isMsgType("BA") {
            collateralReport(message, session: name, wall: wall)
        } else if message.isMsgType("BG") || (message.isMsgType("j") && message[BrokerEquity.Tag.refMsgType] == "BB") {
            collateralRefusal(message, session: name, wall: wall)
        } else if message.isMsgType("j") || message.isMsgType("9") || message.isMsgType("Y") {
            // A refused cancel is the engine's to handle (wait for the order's report, or retry).
            if message.isMsgType("9") {
                handle(
                    .orderCancelReject(session: name, message: message, receivedAt: wall), name, message, wall, start)
            }
            metrics.recordError(session: name, kind: message.isMsgType("j") ? "business_reject" : "request_reject")
            say(wall, "REJECT \(name) 35=\(message.msgType): \(message[FIXTag.text] ?? "no text")")
            scheduleDrain()
        }
    }

    private func handle(_ event: EngineEvent, _ session: String, _ message: FIXMessage, _ wall: Int64, _ start: UInt64)
    {
        execute(engine.handle(event), session: session, trigger: message, wall: wall, received: start)
    }

    /// Executes the engine's actions in order: journal records are encoded and written before the
    /// first send; sends go to their sessions; the rest waits for the drain.
    private func execute(
        _ actions: [EngineAction], session: String?, trigger: FIXMessage?, wall: Int64, received: UInt64
    ) {
        var work = PostWork(session: session, trigger: trigger, wall: wall, received: received)
        var intents: [OrderIntent] = []
        // The engine journals orders in the order it sends them: the next order's intent is looked
        // for from the last one found, so a thousand orders cost a thousand comparisons, not half a million.
        var nextIntent = 0
        var written: [SessionDriver] = []
        var lastTarget = ""
        var lastDriver: SessionDriver?
        // By index: `for action in actions` copies each action out of the array, then its
        // payload out of the copy, and destroys both (about 50 ns per order of a copy); matching
        // the element in place copies only the payload.
        for i in actions.indices {
            switch actions[i] {
            case .journal(let record):
                journal.append(record)
                if case .order(let intent) = record { intents.append(intent) }
            case .send(let target, let message):
                guard commitJournal() else { continue }
                // The engine groups an event's orders by session: one lookup per run of them.
                let driver: SessionDriver
                if let last = lastDriver, target == lastTarget {
                    driver = last
                } else {
                    guard let found = driversByName[target] else {
                        preconditionFailure("the engine sent on session \(target), which the agent does not run")
                    }
                    driver = found
                    lastTarget = target
                    lastDriver = found
                }
                do {
                    try driver.send(message)
                } catch {
                    work.failures.append((target, message.msgType, "\(error)"))
                    continue
                }
                if !written.contains(where: { $0 === driver }) { written.append(driver) }
                if message.msgType == "D", let k = Self.intent(of: message, in: intents, from: nextIntent) {
                    work.sent.append((intents[k], AgentClock.monotonicNanos()))
                    nextIntent = k + 1
                }
            case .decision, .fill, .followerStateChanged, .sessionPhaseChanged, .alert:
                work.actions.append(actions[i])
            }
        }
        // The event's orders go on the wire now, not when the read burst that brought it ends.
        for driver in written { driver.flushWrites() }
        engine.finishEvent()
        // A session's message is written with the next order, or before its session records the
        // read burst's sequence numbers, or by the drain: not here, in front of the next message.
        if trigger == nil { _ = commitJournal() }
        if !work.actions.isEmpty || !work.sent.isEmpty || !work.failures.isEmpty || trigger != nil {
            post.append(work)
            scheduleDrain()
        }
        if stopping && !stopWaiters.isEmpty && liveOrderCount() == 0 { releaseStopWaiters() }
    }

    /// The index of the intent of the NewOrderSingle `message` among `intents`, searched from
    /// `start` on and then from the beginning.
    static func intent(of message: FIXMessageBuilder, in intents: [OrderIntent], from start: Int) -> Int? {
        let start = min(start, intents.count)
        for k in start..<intents.count where message.value(of: FIXTag.clOrdID, is: intents[k].clOrdID) { return k }
        for k in 0..<start where message.value(of: FIXTag.clOrdID, is: intents[k].clOrdID) { return k }
        return nil
    }

    /// Writes the journal (syncing under `always`); on failure the agent stops sending.
    private func commitJournal() -> Bool {
        guard halted == nil else { return false }
        do {
            try journal.commit()
            return true
        } catch {
            halt("the journal failed: \(error)")
            return false
        }
    }

    /// The sessions' hook before their stores record which messages arrived.
    func commitJournalForStore() {
        _ = commitJournal()
    }

    /// The `JournalSync=batch` hook, from the sessions' store sync before a flush.
    func syncJournalForFlush() -> Bool {
        guard halted == nil else { return false }
        do {
            try journal.sync()
            return true
        } catch {
            halt("the journal failed: \(error)")
            return false
        }
    }

    private func halt(_ reason: String) {
        guard halted == nil else { return }
        halted = reason
        logger.critical("\(reason); no order is sent any more")
        say(AgentClock.wallNanos(), "HALT \(reason): no order is sent any more; stop the agent and fix the cause")
        scheduleDrain()
    }

    // MARK: Market data

    private func marketData(_ message: FIXMessage, session: String, wall: Int64) {
        guard let slot = slots[session] else { return }
        for update in MarketData.updates(message) {
            let symbol = slot.copy.symbolMap.canonicalSymbol(for: update.symbol)
            activity.quote(symbol, bid: update.bid, ask: update.ask)
            knownSymbols.insert(symbol)
            let quote = activity.quotes[symbol]!
            let actions = engine.handle(.mark(symbol: symbol, bid: quote.bid, ask: quote.ask, at: wall))
            if !actions.isEmpty {
                execute(actions, session: session, trigger: nil, wall: wall, received: AgentClock.monotonicNanos())
            }
            if let ledger, wall - (lastLedgerMark[symbol] ?? 0) >= 5_000_000_000, let mid = activity.mids[symbol] {
                lastLedgerMark[symbol] = wall
                ledger.recordMark(symbol: symbol, price: mid, at: wall)
            }
        }
        if !pendingEquity.isEmpty {
            for (id, pending) in pendingEquity {
                // An inquiry of an earlier logon is gone with its subscription; the new one reports anew.
                if equity.inquiries[id] == nil || applyForeignEquity(pending, wall: wall) { pendingEquity[id] = nil }
            }
        }
    }

    private func subscribeMarketData(_ name: String) {
        guard var slot = slots[name], slot.configuration.marketData, !slot.marketDataSymbols.isEmpty,
            let driver = slot.driver
        else { return }
        slot.marketDataRequests += 1
        slots[name] = slot
        do {
            try driver.send(
                MarketData.subscription(id: "MD-\(name)-\(slot.marketDataRequests)", symbols: slot.marketDataSymbols))
        } catch {
            logger.warning("market data request on \(name) not sent: \(error)")
        }
    }

    // MARK: Equity from the broker

    /// Sends the session's CollateralInquiries (one per `Equity=broker` account on it), each
    /// watched by a timeout.
    private func requestEquity(_ name: String) {
        guard let slot = slots[name], let driver = slot.driver else { return }
        let timeoutMs = slot.configuration.equityInquiryTimeoutMs
        for (id, message) in equity.inquiries(onLogon: name) {
            do {
                try driver.send(message)
            } catch {
                if equity.settle(id), let inquiry = equity.inquiries[id] {
                    equityWarning(inquiry.watch, "the CollateralInquiry was not sent: \(error)")
                }
                continue
            }
            loop.scheduleTask(in: .milliseconds(Int64(timeoutMs))) { [self] in
                guard !crashed, !stopping, let inquiry = equity.inquiries[id], equity.settle(id) else { return }
                let within = timeoutMs % 1000 == 0 ? "\(timeoutMs / 1000) s" : "\(timeoutMs) ms"
                equityWarning(
                    inquiry.watch,
                    "the broker did not answer the CollateralInquiry \(id) within \(within) "
                        + "(\(AgentSettings.Key.equityInquiryTimeoutMs))")
            }
        }
    }

    /// A CollateralReport (35=BA): its TotalNetValue (900) becomes the equity of the account's
    /// providers and followers, through the engine (which journals it, so replay stays exact).
    private func collateralReport(_ m: FIXMessage, session: String, wall: Int64) {
        guard let (id, inquiry) = equity.inquiry(answering: m, on: session) else {
            logger.debug("session \(session): a CollateralReport for no inquiry of ours (account \(m[1] ?? "none"))")
            return
        }
        let first = equity.settle(id)
        guard let value = (try? m.decimalIfPresent(BrokerEquity.Tag.totalNetValue)) ?? nil, value.isPositive else {
            if first {
                equityWarning(inquiry.watch, "the CollateralReport has no positive TotalNetValue (900)")
            } else {
                let text =
                    "session \(session): account \(inquiry.watch.account) reported no positive TotalNetValue (900) "
                    + "(\(m[900] ?? "none")); its last equity stays in use"
                logger.warning("\(text)")
            }
            return
        }
        let reported = m[15].map { $0.uppercased() }
        let accountCurrency = configuration.agent.accountCurrency
        if let reported, reported != accountCurrency {
            // Copies are sized and limits checked in the account currency: a foreign equity waits
            // for a mark to convert it, and is never applied as it stands.
            let foreign = PendingEquity(inquiryID: id, value: value, currency: reported, session: session, first: first)
            if !applyForeignEquity(foreign, wall: wall) {
                pendingEquity[id] = foreign
                if first {
                    say(
                        wall,
                        "EQUITY account \(inquiry.watch.account) on \(session) is reported in \(reported): waiting for "
                            + "a \(accountCurrency)/\(reported) or \(reported)/\(accountCurrency) mark to convert it")
                }
            }
            scheduleDrain()
            return
        }
        pendingEquity[id] = nil
        applyEquity(
            inquiry.watch, value, note: reported.map { " \($0)" } ?? "", session: session, first: first, wall: wall)
        scheduleDrain()
    }

    /// A broker's equity in a currency other than the account's, waiting for a mark.
    struct PendingEquity {
        var inquiryID: String
        var value: FixedDecimal
        var currency: String
        var session: String
        var first: Bool
    }

    /// Applies `pending` converted at the current marks; false when no mark converts it yet.
    private func applyForeignEquity(_ pending: PendingEquity, wall: Int64) -> Bool {
        let accountCurrency = configuration.agent.accountCurrency
        guard let inquiry = equity.inquiries[pending.inquiryID],
            let converted = MarkConversion.convert(
                pending.value, from: pending.currency, to: accountCurrency, mids: activity.mids)
        else { return false }
        let value = converted.rounded(toMultipleOf: FixedDecimal(mantissa: 1, scale: 2), .halfEven)
        guard value.isPositive else { return false }
        applyEquity(
            inquiry.watch, value,
            note: " \(accountCurrency) (\(pending.value.normalized) \(pending.currency) reported)",
            session: pending.session, first: pending.first, wall: wall)
        return true
    }

    /// Hands a broker-reported equity (in the account currency) to the engine for every provider
    /// and follower sized with it.
    private func applyEquity(
        _ watch: BrokerEquity.Watch, _ value: FixedDecimal, note: String, session: String, first: Bool, wall: Int64
    ) {
        for target in watch.ids where equity.apply(value, to: target) {
            recordOpeningEquity(target, value, wall: wall)
            execute(
                engine.handle(.command(.setEquity(id: target, equity: value), at: wall)), session: session,
                trigger: nil, wall: wall, received: AgentClock.monotonicNanos())
            if first || printsActivity {
                say(wall, "EQUITY \(target) \(value.normalized)\(note) (account \(watch.account) on \(session))")
            }
        }
    }

    /// The ledger's account of an `Equity=broker` follower or provider opens with the first equity its
    /// broker reports, as a fixed Equity opens it with a deposit: the management fee accrues on it.
    /// (The ledger keeps the first deposit of an account; later reports are P&L it already has.)
    private func recordOpeningEquity(_ target: String, _ value: FixedDecimal, wall: Int64) {
        guard let ledger else { return }
        let currency = configuration.agent.accountCurrency
        if let f = followerConfigs[target] {
            ledger.recordOpeningEquity(
                follower: true, id: target, account: f.account, value, currency: currency, at: wall)
        } else if let p = configuration.engine.providers.first(where: { $0.providerID == target }) {
            ledger.recordOpeningEquity(
                follower: false, id: target, account: p.account, value, currency: currency, at: wall)
        }
    }

    /// A CollateralInquiryAck (35=BG) or a BusinessMessageReject (35=j) of our CollateralInquiry.
    private func collateralRefusal(_ m: FIXMessage, session: String, wall: Int64) {
        if m.isMsgType("BG") {
            // Accepted (0, 1) or completed (2, 3): reports follow or have come.
            guard m[BrokerEquity.Tag.collInquiryStatus] == "4" else { return }
        }
        guard let (id, inquiry) = equity.inquiry(answering: m, on: session) else {
            say(wall, "REJECT \(session) 35=\(m.msgType): \(m[FIXTag.text] ?? "no text")")
            scheduleDrain()
            return
        }
        metrics.recordError(session: session, kind: m.isMsgType("j") ? "business_reject" : "request_reject")
        if equity.settle(id) {
            equityWarning(inquiry.watch, "the broker refused the CollateralInquiry: \(m[FIXTag.text] ?? "no text")")
        }
    }

    /// The one warning for an account whose equity stays unknown.
    private func equityWarning(_ watch: BrokerEquity.Watch, _ why: String) {
        let wall = AgentClock.wallNanos()
        let text =
            "no equity for account \(watch.account) on session \(watch.session): \(why); "
            + "\(watch.ids.joined(separator: ", ")) (Equity=broker) skip every increase with equity-unknown"
        logger.warning("\(text)")
        journal.append(AuditRecord.note(text, at: wall))
        say(wall, "WARNING \(text)")
        scheduleDrain()
    }

    // MARK: Session events

    func sessionEvent(_ event: SessionEvent, from driver: SessionDriver) {
        guard !crashed, let name = driverNames[ObjectIdentifier(driver)], var slot = slots[name] else { return }
        let wall = AgentClock.wallNanos()
        switch event {
        case .connected, .logonSent:
            slot.connecting = true
            slots[name] = slot
        case .loggedOn:
            slot.loggedOn = true
            slot.connecting = false
            slot.detail = nil
            let notify = !stopping && !slot.engineUp
            if notify { slot.engineUp = true }
            slots[name] = slot
            say(wall, "SESSION \(name) logged on")
            if notify {
                execute(
                    engine.handle(.sessionUp(session: name, at: wall)), session: name, trigger: nil, wall: wall,
                    received: AgentClock.monotonicNanos())
            }
            subscribeMarketData(name)
            requestEquity(name)
        case .disconnected:
            let wasUp = slot.loggedOn
            slot.loggedOn = false
            slot.connecting = false
            let notify = slot.engineUp
            slot.engineUp = false
            slots[name] = slot
            if wasUp { say(wall, "SESSION \(name) disconnected\(slot.detail.map { ": \($0)" } ?? "")") }
            if notify {
                execute(
                    engine.handle(.sessionDown(session: name, at: wall)), session: name, trigger: nil, wall: wall,
                    received: AgentClock.monotonicNanos())
            }
        case .logonRefused(let reason), .disconnecting(let reason):
            slot.detail = reason
            slots[name] = slot
        case .logoutReceived(let text):
            slot.detail = "logout received" + (text.map { ": \($0)" } ?? "")
            slots[name] = slot
        case .logonTimeout, .heartbeatTimeout, .logoutTimeout:
            slot.detail = event.description
            slots[name] = slot
        case .rejectReceived:
            metrics.recordError(session: name, kind: "session_reject")
            say(wall, "SESSION \(name): \(event)")
        case .applicationMessageRejected(let message, _):
            metrics.recordError(session: name, kind: "invalid_message")
            say(wall, "SESSION \(name): \(event)")
            // A fill must not vanish because a field is malformed: the engine decides what it can use.
            if message.isMsgType("8") || message.isMsgType("AP") || message.isMsgType("AO") {
                received(message, from: driver)
            }
        case .duplicateConnectionRefused, .sequenceGap, .resendRequestSent, .resendRequestReceived, .resendComplete,
            .sequenceReset, .duplicateIgnored, .garbledIgnored, .rejectSent, .businessRejectSent, .testRequestSent,
            .sequenceNumbersReset, .scheduleChanged, .warning, .logoutSent:
            break
        }
        updateSessionMetrics(name)
        scheduleDrain()
    }

    private func updateSessionMetrics(_ name: String) {
        guard let slot = slots[name], let driver = slot.driver else { return }
        metrics.updateSession(
            name, state: slot.loggedOn ? .loggedOn : (slot.connecting ? .connecting : .down),
            nextSenderSeqNum: driver.nextSenderMsgSeqNum, nextTargetSeqNum: driver.nextTargetMsgSeqNum)
        updateStateGauges()
    }

    // MARK: Timer

    /// Drives the engine's timers; prints the periodic summary.
    func tick() {
        guard !crashed else { return }
        let wall = AgentClock.wallNanos()
        if !stopping {
            let actions = engine.handle(.tick(at: wall))
            if !actions.isEmpty {
                execute(actions, session: nil, trigger: nil, wall: wall, received: AgentClock.monotonicNanos())
            }
        }
        let now = AgentClock.monotonicNanos()
        let interval = UInt64(configuration.agent.summaryIntervalSeconds) * 1_000_000_000
        if interval > 0 && now &- lastSummary >= interval {
            lastSummary = now
            let live = slotOrder.filter(progress(detailed: false).isLive).count
            say(wall, summary().line + ", sessions \(live)/\(slotOrder.count) live")
            scheduleDrain()
        }
        // Breakers and operator commands change states without a follower event: the gauges follow
        // within a second.
        if now &- lastStateGauges >= 1_000_000_000 { updateStateGauges() }
        _ = commitJournal()
    }

    // MARK: After the flush

    private func scheduleDrain() {
        guard !drainScheduled else { return }
        drainScheduled = true
        loop.execute { [self] in drain() }
    }

    /// Everything that did not need to happen before the flush: bookkeeping, metrics, ledger,
    /// audit entries, console lines, and the waiters of tests.
    func drain() {
        drainScheduled = false
        guard !crashed else {
            post.removeAll()
            return
        }
        let items = post
        post.removeAll(keepingCapacity: true)
        for work in items { process(work) }
        _ = commitJournal()
        // Off the copy path: the next event's journal commit finds its pages ready.
        journal.prepare()
        if !lines.isEmpty {
            console(lines)
            lines.removeAll(keepingCapacity: true)
        }
        checkProgressWaiters()
        checkFilledWaiters()
    }

    private func say(_ wall: Int64, _ text: String) {
        lines.append("\(AgentClock.timeOfDay(wall)) \(text)")
    }

    private func process(_ work: PostWork) {
        var triggerSignal: String?
        if let m = work.trigger, let session = work.session, m.isMsgType("8") {
            if let id = m[FIXTag.clOrdID], let ack = activity.acknowledged(id, at: work.received) {
                metrics.recordOrderAcknowledged(session: ack.session, latency: .nanoseconds(Int64(ack.nanos)))
            }
            triggerSignal = providerFill(m, session: session, wall: work.wall)
        }
        // A signal's copies come together: its record is looked up once for all of them.
        var signal: (execID: String, info: SignalInfo?)?
        for (intent, at) in work.sent {
            if signal?.execID != intent.signal { signal = (intent.signal, activity.signalsByExecID[intent.signal]) }
            orderSent(intent, signal: signal?.info, at: at, work: work, triggerSignal: triggerSignal)
        }
        for action in work.actions {
            switch action {
            case .decision(let d): decision(d, wall: work.wall)
            case .fill(let f): fill(f, wall: work.wall, received: work.received)
            case .followerStateChanged(let id, let status):
                let text = Self.describe(status)
                activity.followerStatus[id] = text
                if case .degraded(let reason, _) = status { metrics.recordDegradation(reason: reason.rawValue) }
                say(work.wall, "FOLLOWER \(id) is \(text)")
                updateStateGauges()
            case .sessionPhaseChanged(let session, let phase):
                slots[session]?.phase = phase
                if phase != .recovering || printsActivity { say(work.wall, "SESSION \(session) \(phase.rawValue)") }
            case .alert(let alert): riskAlert(alert, wall: work.wall)
            case .journal, .send:
                preconditionFailure("journal records and sends are executed on the copy path")
            }
        }
        for failure in work.failures {
            metrics.recordError(session: failure.session, kind: "send_failed")
            say(work.wall, "SEND FAILED \(failure.session) 35=\(failure.msgType): \(failure.error)")
        }
    }

    /// A provider's fill (ExecType F on her account): a signal. Returns its ExecID.
    private func providerFill(_ m: FIXMessage, session: String, wall: Int64) -> String? {
        guard let account = m[1], let provider = providerAccounts[session]?[account], m.value(of: 150, equals: "F"),
            let execID = m[17], let brokerSymbol = m[FIXTag.symbol], let slot = slots[session]
        else { return nil }
        guard activity.signalsByExecID[execID] == nil else { return nil }  // a resend: the engine ignores it too
        let symbol = slot.copy.symbolMap.canonicalSymbol(for: brokerSymbol)
        let lastQty = (try? m.decimalIfPresent(32)) ?? nil
        let units = (lastQty ?? .zero) * slot.copy.contractSize(for: symbol)
        let price = (try? m.decimalIfPresent(31)) ?? nil
        let transact = ((try? m.timestampIfPresent(60)) ?? nil)?.nanosecondsSinceEpoch ?? wall
        let isBuy = m.value(of: 54, equals: "1")
        let info = SignalInfo(
            providerID: provider.providerID, account: account, execID: execID, symbol: symbol, isBuy: isBuy,
            quantity: units, price: price, transactTime: transact, receivedAt: wall)
        activity.signal(info)
        knownSymbols.insert(symbol)
        metrics.recordSignal(provider: provider.providerID)
        if let price, units.isPositive {
            ledger?.record(
                LedgerProviderFillInput(
                    providerID: provider.providerID, account: account, execID: execID, symbol: symbol, isBuy: isBuy,
                    quantity: units, price: price, transactTime: transact, receivedAt: wall))
        }
        if printsActivity {
            say(
                wall,
                "SIGNAL \(provider.providerID) \(isBuy ? "BUY" : "SELL") \(units.normalized) \(symbol)"
                    + (price.map { " @\($0)" } ?? "") + " [\(execID)]")
        }
        return execID
    }

    private func orderSent(
        _ intent: OrderIntent, signal: SignalInfo?, at: UInt64, work: PostWork, triggerSignal: String?
    ) {
        let provider =
            signal?.providerID ?? intent.allocations.first.flatMap { followerConfigs[$0.followerID]?.providers.first }?
            .providerID ?? ""
        // Latency only for orders that answer the fill that just arrived (not retries or re-plans).
        let latency: Int64? = triggerSignal == intent.signal ? Int64(at &- work.received) : nil
        let records = activity.orderSent(
            intent, provider: provider, signal: signal, tickToCopyNanos: latency, sentAt: at, wallNow: work.wall)
        knownSymbols.insert(intent.symbol)
        metrics.recordOrderSent(session: intent.session)
        for record in records {
            if let latency { metrics.recordCopy(session: intent.session, tickToCopy: .nanoseconds(latency)) }
            if let signal {
                ledger?.record(
                    LedgerOrderInput(
                        orderID: intent.clOrdID, followerID: record.snapshot.follower, account: record.account,
                        symbol: intent.symbol, isBuy: intent.side == .buy, quantity: record.quantity,
                        providerID: signal.providerID, signalExecID: signal.execID, signalReceivedAt: signal.receivedAt,
                        sentAt: Self.wallTime(ofMonotonic: at, since: work.received, wall: work.wall)))
            }
        }
        if printsActivity {
            let followers = intent.allocations.map(\.followerID).joined(separator: ",")
            var text =
                "COPY \(provider.isEmpty ? "" : provider + "→")\(followers) \(intent.side == .buy ? "BUY" : "SELL")"
            text += " \(intent.brokerQuantity.normalized) \(intent.brokerSymbol) on \(intent.session)"
            if intent.attempt > 0 { text += " (attempt \(intent.attempt + 1))" }
            text += " [\(intent.clOrdID)]"
            if let latency { text += " \(AgentSummary.micros(Double(latency) / 1000))" }
            say(work.wall, text)
        }
    }

    private func decision(_ d: CopyDecision, wall: Int64) {
        activity.decision(d)
        journal.append(AuditRecord.decision(d, at: wall))
        metrics.recordDecision(reason: d.reason.rawValue)
        if AgentActivity.isSkip(d.reason) { metrics.recordSkip(reason: d.reason.rawValue) }
        if AgentActivity.isError(d.reason) { metrics.recordError(session: "engine", kind: d.reason.rawValue) }
        if let id = d.clOrdID, let records = activity.orders[id], let session = records.first?.session {
            switch d.reason {
            case .orderRejected: metrics.recordOrderRejected(session: session)
            case .orderUnfilled, .remainderReplanned: metrics.recordOrderUnfilled(session: session)
            default: break
            }
        }
        guard printsActivity || d.reason == .followerDegraded || d.reason == .retryExhausted else { return }
        var text = "\(Self.word(d.reason)) "
        text += [d.followerID ?? d.providerID, d.symbol].compactMap { $0 }.joined(separator: " ")
        text += " \(d.reason.rawValue)"
        if let q = d.quantity { text += " qty \(q.normalized)" }
        if let detail = d.detail { text += ": \(detail)" }
        say(wall, text)
    }

    private func fill(_ f: EngineFollowerFill, wall: Int64, received: UInt64) {
        let result = activity.fill(f, at: received)
        knownSymbols.insert(f.symbol)
        if let done = result.completed {
            metrics.recordOrderFilled(
                session: done.session, latency: .nanoseconds(Int64(done.nanos)), slippageBps: result.slippageBps)
        }
        let signal = result.signal.flatMap { activity.signalsByExecID[$0] }
        if let price = f.price, f.quantity.isPositive {
            ledger?.record(
                LedgerFollowerFillInput(
                    followerID: f.followerID, account: f.account, execID: f.execID, orderID: f.clOrdID,
                    symbol: f.symbol, isBuy: f.side == .buy, quantity: f.quantity, price: price,
                    providerID: f.isCopy ? signal?.providerID : nil, signalExecID: signal?.execID,
                    providerFillPrice: signal?.price, time: f.at, receivedAt: wall))
        }
        if printsActivity {
            var text = "FILL \(f.followerID) \(f.side == .buy ? "BUY" : "SELL") \(f.quantity.normalized) \(f.symbol)"
            if let price = f.price { text += " @\(price)" }
            if let bps = result.slippageBps { text += " slippage \(bps.normalized) bps" }
            if !f.isCopy { text += " (his own trade)" }
            say(wall, text)
        }
    }

    /// A breaker tripped or was reset, or suspicious activity was seen: the audit trail and the console.
    /// (The breaker's state itself is in the engine's `.breaker` record.)
    private func riskAlert(_ alert: RiskAlert, wall: Int64) {
        journal.append(
            AuditRecord.alert(
                AlertAudit(
                    alert: alert.breaker, active: alert.kind != .reset, message: alert.message, value: .nan,
                    threshold: .nan, at: alert.at)))
        let word: String
        switch alert.kind {
        case .tripped: word = "TRIPPED"
        case .reset: word = "RESET"
        case .warning: word = "WARNING"
        }
        say(wall, "RISK \(word) \(alert.breaker) \(alert.reason.rawValue): \(alert.message)")
    }

    private static func word(_ reason: ReasonCode) -> String {
        switch reason {
        case .orderRejected: return "REJECTED"
        case .orderUnfilled, .remainderReplanned: return "UNFILLED"
        case .retryScheduled: return "RETRY"
        case .positionReconciled, .orderSettled, .orderUnknownAtBroker, .settlementTimeout: return "SETTLE"
        default: return AgentActivity.isSkip(reason) ? "SKIP" : "NOTE"
        }
    }

    /// The wall time of a monotonic `instant` after `since` (monotonic), whose wall time is `wall`: an
    /// order's sending time from its work's start. (The work's own wall time is when the triggering
    /// message arrived; taken as the sending time, every copy looked sent the instant its signal arrived.)
    static func wallTime(ofMonotonic instant: UInt64, since: UInt64, wall: Int64) -> Int64 {
        guard since > 0, instant >= since else {
            return AgentClock.wallNanos() - Int64(AgentClock.monotonicNanos() &- instant)
        }
        return wall + Int64(instant - since)
    }

    static func describe(_ status: FollowerStatus) -> String {
        switch status {
        case .active: return "active"
        case .paused: return "paused"
        case .degraded(let reason, let detail): return "degraded (\(reason.rawValue): \(detail))"
        }
    }

    /// The follower and provider state gauges, counted as the snapshot shows them (the engine's state
    /// view: breakers, operator commands, sessions).
    private func updateStateGauges() {
        lastStateGauges = AgentClock.monotonicNanos()
        let view = engine.stateView()
        var followers: [FollowerSnapshot.State: Int] = [:]
        // The engine's view has every configured follower; looking each one up by ID searched
        // the whole list, half a million comparisons every second with a thousand followers.
        for f in view.followers { followers[FollowerSnapshot.State(f), default: 0] += 1 }
        metrics.updateFollowerCounts(followers)
        var providers: [ProviderSnapshot.State: Int] = [:]
        for p in view.providers { providers[ProviderSnapshot(p).state, default: 0] += 1 }
        metrics.updateProviderCounts(providers)
        if let ledger { metrics.updateLedgerBacklog(ledger.backlog) }
    }

    // MARK: Stopping

    /// No new copies: the engine is told every session is down (its orders wait for the next run),
    /// the timer stops. The future completes once no order is in flight, or after `timeout`.
    func beginStop(timeout: TimeAmount) -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        let promise = loop.makePromise(of: Void.self)
        guard !stopping, !crashed else {
            promise.succeed(())
            return promise.futureResult
        }
        stopping = true
        let wall = AgentClock.wallNanos()
        say(wall, "STOP: no new copies; waiting for orders in flight")
        for name in slotOrder where slots[name]!.engineUp {
            slots[name]!.engineUp = false
            // On purpose: not an outage, so no session-down breaker trips.
            execute(
                engine.handle(.sessionDown(session: name, at: wall, planned: true)), session: name, trigger: nil,
                wall: wall, received: AgentClock.monotonicNanos())
        }
        if liveOrderCount() == 0 {
            promise.succeed(())
        } else {
            stopWaiters.append(promise)
            loop.scheduleTask(in: timeout) { [self] in releaseStopWaiters() }
        }
        drain()
        return promise.futureResult
    }

    private func releaseStopWaiters() {
        let waiters = stopWaiters
        stopWaiters.removeAll()
        for w in waiters { w.succeed(()) }
    }

    /// After the sessions logged out: the last records, the journal synced and closed.
    func finishStop() -> AgentSummary {
        drain()
        let wall = AgentClock.wallNanos()
        let summary = self.summary()
        journal.append(
            AuditRecord.note(
                "agent stopped: \(summary.copies) copies, \(summary.filledOrders) filled, "
                    + "\(summary.rejectedOrders) rejected", at: wall))
        do { try journal.close() } catch { logger.error("closing the journal: \(error)") }
        crashed = true  // nothing more is recorded
        failWaiters()
        return summary
    }

    /// What a `kill -9` leaves: nothing more is handled or written (tests).
    func crash() {
        crashed = true
        journal.abandon()
        post.removeAll()
        releaseStopWaiters()
        failWaiters()
    }

    func liveOrderCount() -> Int {
        slotOrder.reduce(0) { $0 + engine.liveOrders(session: $1).count }
    }

    // MARK: Reading

    func summary() -> AgentSummary {
        let followers = configuration.engine.followers.map { f in
            (f.followerID, activity.followerStatus[f.followerID] ?? "active")
        }
        return activity.summary(followers: followers, now: AgentClock.monotonicNanos())
    }

    /// Where the agent stands. `followerStatus`, `liveOrders` and `followerPositions` are computed only
    /// when `detailed`: they walk the engine's books, too slow to do after every burst of a benchmark.
    func progress(detailed: Bool = true) -> AgentProgress {
        var phases: [String: SessionPhase] = [:]
        for name in slotOrder { phases[name] = engine.sessionPhase(name) }
        var statuses: [String: FollowerStatus] = [:]
        var positions: [String: [String: FixedDecimal]] = [:]
        for f in configuration.engine.followers where detailed {
            statuses[f.followerID] = engine.followerStatus(f.followerID)
            for symbol in knownSymbols {
                if let view = engine.followerPosition(f.followerID, symbol: symbol), !view.position.isZero {
                    positions[f.followerID, default: [:]][symbol] = view.position
                }
            }
        }
        return AgentProgress(
            loggedOn: Set(slotOrder.filter { slots[$0]!.loggedOn }), phases: phases, followerStatus: statuses,
            signals: activity.signals, copies: activity.copies, ordersSent: activity.ordersSent,
            filledOrders: activity.filledOrders, rejectedOrders: activity.rejectedOrders,
            liveOrders: detailed ? liveOrderCount() : 0, followerPositions: positions, halted: halted,
            brokerEquity: equity.applied)
    }

    /// Completes when `check` holds, evaluated now and after every drain; fails after `timeout`.
    func waitUntil(
        _ what: String, timeout: TimeAmount, detailed: Bool, _ check: @escaping (AgentProgress) -> Bool
    ) -> EventLoopFuture<Void> {
        let promise = loop.makePromise(of: Void.self)
        if crashed {
            promise.fail(AgentRuntimeError.stopped)
        } else if check(progress(detailed: detailed)) {
            promise.succeed(())
        } else {
            progressWaiters.append((check, detailed, promise))
            expire(promise, after: timeout, what) { [self] f in
                progressWaiters.removeAll { $0.promise.futureResult === f }
            }
        }
        return promise.futureResult
    }

    /// A future that completes once `count` orders have been filled in all (see
    /// ``AgentRuntime/waitUntilFilled(_:timeout:)``).
    func waitUntilFilled(_ count: Int, timeout: TimeAmount) -> EventLoopFuture<Void> {
        let promise = loop.makePromise(of: Void.self)
        if crashed {
            promise.fail(AgentRuntimeError.stopped)
        } else if activity.filledOrders >= count {
            promise.succeed(())
        } else {
            filledWaiters.append((count, promise))
            expire(promise, after: timeout, "\(count) filled orders") { [self] f in
                filledWaiters.removeAll { $0.promise.futureResult === f }
            }
        }
        return promise.futureResult
    }

    /// Fails a waiter's `promise` with ``AgentRuntimeError/timedOut(_:)`` after `timeout` unless it
    /// completes first, once `forget` has taken it off its list.
    private func expire(
        _ promise: EventLoopPromise<Void>, after timeout: TimeAmount, _ what: String,
        forget: @escaping @Sendable (EventLoopFuture<Void>) -> Void
    ) {
        let futureResult = promise.futureResult
        let expiry = loop.scheduleTask(in: timeout) {
            forget(futureResult)
            promise.fail(AgentRuntimeError.timedOut(what))
        }
        futureResult.whenComplete { _ in expiry.cancel() }
    }

    /// Fails every waiter: the agent stopped or crashed.
    private func failWaiters() {
        for w in progressWaiters { w.promise.fail(AgentRuntimeError.stopped) }
        progressWaiters.removeAll()
        for w in filledWaiters { w.promise.fail(AgentRuntimeError.stopped) }
        filledWaiters.removeAll()
    }

    private func checkFilledWaiters() {
        guard !filledWaiters.isEmpty else { return }
        let filled = activity.filledOrders
        guard filledWaiters.contains(where: { $0.count <= filled }) else { return }
        for waiter in filledWaiters where waiter.count <= filled { waiter.promise.succeed(()) }
        filledWaiters.removeAll { $0.count <= filled }
    }

    private func checkProgressWaiters() {
        guard !progressWaiters.isEmpty else { return }
        let detailed = progressWaiters.contains { $0.detailed }
        let current = progress(detailed: detailed)
        var keep: [(check: (AgentProgress) -> Bool, detailed: Bool, promise: EventLoopPromise<Void>)] = []
        for waiter in progressWaiters {
            if waiter.check(current) { waiter.promise.succeed(()) } else { keep.append(waiter) }
        }
        progressWaiters = keep
    }

    /// Carries out an operator's command on the loop (an ``EngineCommandSink``'s work): the engine
    /// checks it and, when it changes something, journals it with who asked and why and acts (any
    /// orders leave like the copy path's). Every command but one that names nothing also gets an
    /// audit entry with its outcome, refusals included.
    func submit(_ command: OperatorCommand, actor: String, reason: String?) -> EngineCommandReceipt {
        let wall = AgentClock.wallNanos()
        let check: OperatorCommandCheck
        if stopping || crashed {
            check = .refused("the agent is stopping")
        } else {
            let result = engine.submit(command, at: wall, actor: actor, reason: reason)
            check = result.check
            if !result.actions.isEmpty {
                execute(result.actions, session: nil, trigger: nil, wall: wall, received: AgentClock.monotonicNanos())
            }
        }
        let outcome: String
        switch check {
        case .applies: outcome = "applied"
        case .unchanged(let why): outcome = "unchanged: \(why)"
        case .unknownFollower(let id): outcome = "refused: \(AdminCommandError.unknownFollower(id))"
        case .unknownProvider(let id): outcome = "refused: \(AdminCommandError.unknownProvider(id))"
        case .unknownBreaker(let name): outcome = "refused: \(AdminCommandError.unknownBreaker(name))"
        case .refused(let why): outcome = "refused: \(why)"
        }
        if !crashed {
            journal.append(
                AuditRecord.command(
                    CommandAudit(command: command.description, actor: actor, reason: reason, outcome: outcome, at: wall)
                ))
            _ = commitJournal()
            say(wall, "COMMAND \(command) by \(actor)\(reason.map { " (\($0))" } ?? ""): \(outcome)")
            scheduleDrain()
        }
        return EngineCommandReceipt(check: check, state: engine.stateView())
    }

    func recordAlert(_ transition: AlertTransition) {
        let wall = AgentClock.wallNanos()
        switch transition {
        case .started(let alert):
            journal.append(
                AuditRecord.alert(
                    AlertAudit(
                        alert: alert.alert, active: true, message: alert.message, value: alert.value,
                        threshold: alert.threshold, at: wall)))
            say(wall, "ALERT \(alert.message)")
        case .ended(let kind, _, let value):
            journal.append(
                AuditRecord.alert(
                    AlertAudit(
                        alert: kind.rawValue, active: false, message: "\(kind.rawValue) ended", value: value ?? .nan,
                        threshold: .nan, at: wall)))
            say(wall, "ALERT \(kind.rawValue) ended")
        }
        scheduleDrain()
    }

    // MARK: Snapshot

    func snapshot(startedAt: Date, dashboardRefreshMs: Int, mode: String) -> AgentSnapshot {
        let sessions = slotOrder.map { name -> SessionSnapshot in
            let slot = slots[name]!
            let state: SessionSnapshot.State = slot.loggedOn ? .loggedOn : (slot.connecting ? .connecting : .down)
            var detail = slot.detail
            if let phase = engine.sessionPhase(name), phase != .live {
                detail = [phase.rawValue, detail].compactMap { $0 }.joined(separator: ": ")
            }
            return SessionSnapshot(
                name: name, identity: slot.configuration.settings.id.description, role: slot.role, state: state,
                detail: detail, nextSenderSeqNum: slot.driver?.nextSenderMsgSeqNum ?? 0,
                nextTargetSeqNum: slot.driver?.nextTargetMsgSeqNum ?? 0,
                broker: slot.configuration.settings.id.targetCompID)
        }
        // States, reasons and breakers as the risk layer sees them; positions and P&L from the fills.
        let view = engine.stateView()
        let providers = view.providers.map(ProviderSnapshot.init)
        // Computed on the ledger thread; without a ledger there are no fees to show.
        let fees = ledger?.followerFees() ?? [:]
        // By ID in one pass: `view.follower(_:)` searches the list, once per follower. (Positions in
        // the list, not the views: a dictionary of views would copy each one in and out.)
        let engineViews = Dictionary(
            view.followers.indices.map { (view.followers[$0].id, $0) }, uniquingKeysWith: { first, _ in first })
        // Read through a local copy: this method runs on the loop, and reading the stored property in
        // the closure copied the whole activity (every dictionary retained) for each follower.
        let activity = self.activity
        let mids = activity.mids
        let followers = configuration.engine.followers.map { f -> FollowerSnapshot in
            let engineView = engineViews[f.followerID].map { view.followers[$0] }
            let state = engineView.map(FollowerSnapshot.State.init) ?? .active
            // A degraded follower's reason is among the restrictions ("degraded (code: detail)").
            let reason = engineView.flatMap { $0.restrictions.isEmpty ? nil : $0.restrictions.joined(separator: "; ") }
            let positions = activity.positions(of: f.followerID, mids: mids).filter { !$0.quantity.isZero }.map {
                PositionSnapshot(symbol: $0.symbol, quantity: $0.quantity, averagePrice: $0.averagePrice)
            }
            let pnl = activity.pnl(of: f.followerID, mids: mids)
            var equity: FixedDecimal = engineView?.equity ?? self.equity.applied[f.followerID] ?? .zero
            if case .fixed(let e) = f.equity { equity = e }
            return FollowerSnapshot(
                id: f.followerID, providers: f.providers.map(\.providerID), session: f.sessionName,
                state: state, reason: reason, positions: positions,
                currency: configuration.agent.accountCurrency, equity: equity, realizedPnL: pnl.realized ?? .zero,
                unrealizedPnL: pnl.unrealized ?? .zero, feesAccrued: fees[f.followerID]?.accrued ?? .zero,
                feesCharged: fees[f.followerID]?.charged ?? .zero)
        }
        return AgentSnapshot(
            generatedAt: Date(),
            agent: AgentInfo(
                name: configuration.agent.name, version: AgentRuntime.version, startedAt: startedAt,
                dashboardRefreshMs: dashboardRefreshMs, mode: mode),
            sessions: sessions, providers: providers, followers: followers,
            breakers: view.breakers.map(BreakerSnapshot.init), recentCopies: activity.recentCopies(),
            metrics: metrics.summary())
    }
}

/// Where the agent stands, for tests and tools that wait on it.
public struct AgentProgress: Sendable {
    /// Sessions logged on now.
    public var loggedOn: Set<String>
    /// Each session's recovery phase.
    public var phases: [String: SessionPhase]
    public var followerStatus: [String: FollowerStatus]
    public var signals: Int
    public var copies: Int
    public var ordersSent: Int
    public var filledOrders: Int
    public var rejectedOrders: Int
    /// Orders sent and not yet final.
    public var liveOrders: Int
    /// Each follower's non-zero positions by canonical symbol, in units, as the engine knows them.
    public var followerPositions: [String: [String: FixedDecimal]]
    /// Why the agent stopped sending orders, if it did.
    public var halted: String?
    /// The equity each `Equity=broker` provider and follower (by ID) last got from its broker.
    public var brokerEquity: [String: FixedDecimal] = [:]

    /// Whether `session` is logged on and live (settled).
    public func isLive(_ session: String) -> Bool {
        loggedOn.contains(session) && phases[session] == .live
    }

    /// Every session logged on and live (settled).
    public func allLive(_ sessions: some Sequence<String>) -> Bool {
        sessions.allSatisfy(isLive)
    }
}

/// Why a runtime call could not be served.
public enum AgentRuntimeError: Error, Sendable, CustomStringConvertible {
    case notStarted
    case stopped
    case timedOut(String)

    public var description: String {
        switch self {
        case .notStarted: return "the agent is not started"
        case .stopped: return "the agent has stopped"
        case .timedOut(let what): return "timed out waiting for \(what)"
        }
    }
}
