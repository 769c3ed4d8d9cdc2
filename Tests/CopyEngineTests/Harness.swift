import FIXCore
import Testing

@testable import CopyEngine

/// 2023-11-14 22:13:20 UTC, a Tuesday.
let t0: EngineTime = 1_700_000_000_000_000_000
let ms: EngineTime = 1_000_000

func dec(_ text: String) -> FixedDecimal { FixedDecimal(text)! }

/// Builds ExecutionReports as brokers send them (header included, as the session layer delivers them).
enum Reports {
    static func executionReport(
        execID: String, account: String?, symbol: String, side: Character, orderQty: FixedDecimal? = nil,
        lastQty: FixedDecimal?, lastPx: FixedDecimal?, cumQty: FixedDecimal?, ordStatus: Character, execType: Character,
        clOrdID: String?, transactTime: EngineTime, possDup: Bool = false, execRefID: String? = nil,
        text: String? = nil,
        ordRejReason: Int? = nil, seq: Int = 1, origClOrdID: String? = nil
    ) -> FIXMessage {
        var b = FIXMessageBuilder(msgType: "8")
        b.set(49, "BROKER")
        b.set(56, "COPYBRIDGE")
        b.set(34, seq)
        b.set(52, UTCTimestamp(nanosecondsSinceEpoch: transactTime))
        if possDup {
            b.set(43, true)
            b.set(122, UTCTimestamp(nanosecondsSinceEpoch: transactTime))
        }
        b.set(37, "O-" + (clOrdID ?? execID))
        if let c = clOrdID { b.set(11, c) }
        b.set(17, execID)
        if let o = origClOrdID { b.set(41, o) }
        if let r = execRefID { b.set(19, r) }
        b.set(150, execType)
        b.set(39, ordStatus)
        if let a = account { b.set(1, a) }
        b.set(55, symbol)
        b.set(54, side)
        if let q = orderQty { b.set(38, q) }
        if let q = lastQty { b.set(32, q) }
        if let p = lastPx { b.set(31, p) }
        if let c = cumQty {
            b.set(14, c)
            b.set(6, lastPx ?? 0)
            if let q = orderQty { b.set(151, FixedDecimal.max(q - c, 0)) }
        }
        b.set(60, UTCTimestamp(nanosecondsSinceEpoch: transactTime))
        if let t = text { b.set(58, t) }
        if let r = ordRejReason { b.set(103, r) }
        return b.build()
    }
}

/// A broker stand-in: answers NewOrderSingle, OrderStatusRequest and RequestForPositions with
/// the reports a real broker would send, following a scripted policy, and keeps the true positions.
struct SimBroker {
    enum Step: Equatable {
        case ack
        /// Fills this quantity (broker units); `nil` fills everything left.
        case fill(FixedDecimal?)
        case reject(String)
        /// IOC remainder canceled.
        case cancelRest
    }

    struct Order {
        var session: String
        var clOrdID: String
        var account: String?
        var symbol: String
        var side: Character
        var quantity: FixedDecimal
        var cum: FixedDecimal = 0
        var status: Character = "A"
        var allocations: [(account: String, quantity: FixedDecimal)] = []
    }

    /// Steps for each new order, by the order's number on its session (0-based).
    var policy: (Order, Int) -> [Step] = { _, _ in [.ack, .fill(nil)] }
    var price: FixedDecimal = dec("1.1")
    /// Whether PositionReports carry `price` as SettlPrice (730).
    var reportsSettlPrice = true
    var answersStatusRequests = true
    /// Refuses every cancel of a working order with an OrderCancelReject (CxlRejReason 2, broker
    /// option), or with this CxlRejReason.
    var refusesCancels: Int?
    var orders: [String: Order] = [:]
    var ordersPerSession: [String: Int] = [:]
    /// Every NewOrderSingle received, in order.
    var newOrders: [(session: String, message: FIXMessage)] = []
    var duplicateClOrdIDs: [String] = []
    var statusRequests: [String] = []
    /// Every OrderCancelRequest received: its ClOrdID and OrigClOrdID.
    var cancelRequests: [(clOrdID: String, orig: String)] = []
    var positionRequests: [String] = []
    /// `session|account|symbol` → net position in broker units.
    var positions: [String: FixedDecimal] = [:]
    var outbox: [(session: String, message: FIXMessage)] = []
    var execSeq = 0
    var now: EngineTime = t0

    func position(_ session: String, _ account: String, _ symbol: String) -> FixedDecimal {
        positions["\(session)|\(account)|\(symbol)"] ?? 0
    }

    mutating func book(_ session: String, _ account: String, _ symbol: String, _ signed: FixedDecimal) {
        positions["\(session)|\(account)|\(symbol)", default: 0] += signed
    }

    mutating func nextExecID() -> String {
        execSeq += 1
        return "E\(execSeq)"
    }

    mutating func report(
        _ o: Order, execType: Character, lastQty: FixedDecimal?, text: String? = nil, rejReason: Int? = nil
    ) {
        let er = Reports.executionReport(
            execID: nextExecID(), account: o.account, symbol: o.symbol, side: o.side, orderQty: o.quantity,
            lastQty: lastQty,
            lastPx: lastQty == nil ? nil : price, cumQty: o.cum, ordStatus: o.status, execType: execType,
            clOrdID: o.clOrdID,
            transactTime: now, text: text, ordRejReason: rejReason)
        outbox.append((o.session, er))
    }

    mutating func receive(session: String, message m: FIXMessage) {
        if m.isMsgType("D") {
            newOrder(session: session, m)
        } else if m.isMsgType("F") {
            // As brokers answer: the cancel's ClOrdID in 11, the order's in 41. A finished order,
            // or any order when cancels are refused, gets an OrderCancelReject with its status.
            cancelRequests.append((m[11]!, m[41]!))
            let key = session + "|" + m[41]!
            guard var o = orders[key], !["2", "4", "8", "C"].contains(o.status), refusesCancels == nil else {
                let status = orders[key]?.status ?? "8"
                let reason = orders[key] == nil ? 1 : (refusesCancels ?? 0)
                var b = FIXMessageBuilder(msgType: "9")
                b.set(37, orders[key] == nil ? "NONE" : "O-" + m[41]!)
                b.set(11, m[11]!)
                b.set(41, m[41]!)
                b.set(39, String(status))
                b.set(434, 1)
                b.set(102, reason)
                b.set(58, reason == 0 ? "too late to cancel" : reason == 1 ? "unknown order" : "cancels refused")
                outbox.append((session, b.build()))
                return
            }
            let orig = o.clOrdID
            // From now on the order goes by the cancel's ClOrdID, status answers included.
            o.clOrdID = m[11]!
            o.status = "4"
            orders[key] = o
            let er = Reports.executionReport(
                execID: nextExecID(), account: o.account, symbol: o.symbol, side: o.side, orderQty: o.quantity,
                lastQty: nil, lastPx: nil, cumQty: o.cum, ordStatus: "4", execType: "4", clOrdID: o.clOrdID,
                transactTime: now, origClOrdID: orig)
            outbox.append((session, er))
        } else if m.isMsgType("H") {
            statusRequests.append(m[11]!)
            guard answersStatusRequests else { return }
            let key = session + "|" + m[11]!
            if let o = orders[key] {
                report(o, execType: "I", lastQty: nil)
            } else {
                let er = Reports.executionReport(
                    execID: nextExecID(), account: m[1], symbol: m[55]!, side: Character(m[54]!), lastQty: nil,
                    lastPx: nil,
                    cumQty: 0, ordStatus: "8", execType: "I", clOrdID: m[11]!, transactTime: now, text: "unknown order",
                    ordRejReason: 5)
                outbox.append((session, er))
            }
        } else if m.isMsgType("AN") {
            let account = m[1]!
            let reqID = m[710]!
            positionRequests.append(account)
            let prefix = "\(session)|\(account)|"
            let held = positions.filter { $0.key.hasPrefix(prefix) && !$0.value.isZero }.sorted { $0.key < $1.key }
            if held.isEmpty {
                var b = FIXMessageBuilder(msgType: "AO")
                b.set(721, "R" + reqID)
                b.set(710, reqID)
                b.set(727, 0)
                b.set(728, 2)
                b.set(729, 0)
                b.set(1, account)
                b.set(581, 1)
                outbox.append((session, b.build()))
            }
            for (i, (key, net)) in held.enumerated() {
                var b = FIXMessageBuilder(msgType: "AP")
                b.set(721, "R\(reqID)-\(i)")
                b.set(710, reqID)
                b.set(727, held.count)
                b.set(728, 0)
                b.set(1, account)
                b.set(581, 1)
                b.set(55, String(key.dropFirst(prefix.count)))
                b.group(702, count: 1) { g in
                    g.append(703, "TQ")
                    g.append(704, (net.isPositive ? net : 0).description)
                    g.append(705, (net.isNegative ? -net : 0).description)
                }
                if reportsSettlPrice { b.set(730, price) }
                outbox.append((session, b.build()))
            }
        }
    }

    /// Fills what is left of order `clOrdID` and books it, without reporting it: the report is
    /// returned, for the test to deliver when it wants.
    mutating func fillUnreported(session: String, clOrdID: String) -> FIXMessage {
        let key = session + "|" + clOrdID
        var o = orders[key]!
        let qty = o.quantity - o.cum
        o.cum = o.quantity
        o.status = "2"
        orders[key] = o
        if let a = o.account { book(session, a, o.symbol, o.side == "1" ? qty : -qty) }
        return Reports.executionReport(
            execID: nextExecID(), account: o.account, symbol: o.symbol, side: o.side, orderQty: o.quantity,
            lastQty: qty, lastPx: price, cumQty: o.cum, ordStatus: "2", execType: "F", clOrdID: o.clOrdID,
            transactTime: now)
    }

    mutating func newOrder(session: String, _ m: FIXMessage) {
        newOrders.append((session, m))
        let clOrdID = m[11]!
        let key = session + "|" + clOrdID
        if orders[key] != nil {
            duplicateClOrdIDs.append(clOrdID)
            return
        }
        var o = Order(
            session: session, clOrdID: clOrdID, account: m[1], symbol: m[55]!, side: Character(m[54]!),
            quantity: try! m.decimal(38))
        let accounts = m.values(of: 79)
        let qtys = m.values(of: 80).map { FixedDecimal($0)! }
        o.allocations = Array(zip(accounts, qtys))
        let number = ordersPerSession[session, default: 0]
        ordersPerSession[session] = number + 1
        orders[key] = o
        for step in policy(o, number) {
            o = orders[key]!
            switch step {
            case .ack:
                o.status = "0"
                orders[key] = o
                report(o, execType: "0", lastQty: nil)
            case .fill(let q):
                let qty = FixedDecimal.min(q ?? (o.quantity - o.cum), o.quantity - o.cum)
                guard qty.isPositive else { continue }
                o.cum += qty
                o.status = o.cum == o.quantity ? "2" : "1"
                orders[key] = o
                let sign: FixedDecimal = o.side == "1" ? 1 : -1
                if let a = o.account { book(session, a, o.symbol, qty * sign) }
                report(o, execType: "F", lastQty: qty)
            case .reject(let text):
                o.status = "8"
                orders[key] = o
                report(o, execType: "8", lastQty: nil, text: text, rejReason: 3)
            case .cancelRest:
                o.status = "4"
                orders[key] = o
                report(o, execType: "4", lastQty: nil)
            }
        }
    }
}

/// Where a simulated crash happens while the driver executes one event's actions.
enum CrashPoint {
    /// The event's own records were persisted, its order records were not (so nothing was sent).
    case beforeOrderRecords
    /// Every record was persisted; no send reached the wire.
    case beforeSends
    /// Sends reached the broker; none of its answers reached us.
    case afterSends
}

/// A driver around the engine: persists journal records, hands sends to the broker, feeds the
/// broker's answers back, and can crash and recover.
struct World {
    /// What the engine is built from, also after a crash (a test may change it in between).
    var configuration: CopyEngineConfiguration
    var engine: CopyEngine
    var broker = SimBroker()
    var journal: [JournalRecord] = []
    /// Every NewOrderSingle ClOrdID written to the wire, across restarts.
    var sentClOrdIDs: [String] = []
    var decisions: [CopyDecision] = []
    var fills: [FollowerFill] = []
    var statusChanges: [(String, FollowerStatus)] = []
    var alerts: [RiskAlert] = []
    var now: EngineTime = t0
    var execSeq = 0

    init(_ configuration: CopyEngineConfiguration) throws {
        self.configuration = configuration
        self.engine = try CopyEngine(configuration: configuration)
    }

    mutating func advance(_ delta: EngineTime = ms) -> EngineTime {
        now += delta
        broker.now = now
        return now
    }

    /// Handles one event and executes its actions like a driver, optionally crashing midway.
    @discardableResult
    mutating func apply(_ event: EngineEvent, crash: CrashPoint? = nil) -> [EngineAction] {
        let actions = engine.handle(event)
        var sawOrderRecord = false
        for action in actions {
            switch action {
            case .journal(let record):
                if case .order = record { sawOrderRecord = true }
                if crash == .beforeOrderRecords && sawOrderRecord { continue }
                journal.append(record)
            case .send(let session, let builder):
                if crash != nil && crash != .afterSends { continue }
                let message = builder.build()
                if message.isMsgType("D") { sentClOrdIDs.append(message[11]!) }
                broker.receive(session: session, message: message)
            case .decision(let d):
                decisions.append(d)
            case .fill(let f):
                fills.append(f)
            case .followerStateChanged(let id, let status):
                statusChanges.append((id, status))
            case .sessionPhaseChanged:
                break
            case .alert(let a):
                alerts.append(a)
            }
        }
        if crash == .afterSends { broker.outbox.removeAll() }
        return actions
    }

    /// Delivers the broker's answers (and the answers they cause) until none are left, or `limit`.
    mutating func pump(limit: Int = .max) {
        var delivered = 0
        while !broker.outbox.isEmpty && delivered < limit {
            let (session, message) = broker.outbox.removeFirst()
            let t = advance()
            if message.isMsgType("8") {
                apply(.executionReport(session: session, message: message, receivedAt: t))
            } else if message.isMsgType("9") {
                apply(.orderCancelReject(session: session, message: message, receivedAt: t))
            } else {
                apply(.positionReport(session: session, message: message, receivedAt: t))
            }
            delivered += 1
        }
    }

    mutating func send(_ event: EngineEvent) {
        apply(event)
        pump()
    }

    mutating func allSessionsUp() {
        for s in configuration.sessions { send(.sessionUp(session: s.name, at: advance())) }
    }

    /// Ticks exactly at the engine's next deadline.
    mutating func tickToDeadline() {
        guard let deadline = engine.nextDeadline else {
            Issue.record("the engine has no deadline")
            return
        }
        now = Swift.max(now, deadline)
        broker.now = now
        send(.tick(at: now))
    }

    mutating func tick(after delta: EngineTime) {
        send(.tick(at: advance(delta)))
    }

    /// A fill of the provider's account, as her drop copy reports it (quantities in her session's unit).
    mutating func providerFill(
        provider: String = "alice", side: Character, qty: String, px: String = "1.1", symbol: String = "EUR/USD",
        execID: String? = nil, possDup: Bool = false, age: EngineTime = 0, crash: CrashPoint? = nil,
        pumpAfter: Bool = true
    ) {
        let p = configuration.providers.first { $0.providerID == provider }!
        execSeq += 1
        let id = execID ?? "P\(execSeq)"
        let t = advance()
        let m = Reports.executionReport(
            execID: id, account: p.account, symbol: symbol, side: side, lastQty: dec(qty), lastPx: dec(px), cumQty: nil,
            ordStatus: "2", execType: "F", clOrdID: "her-\(id)", transactTime: t - age, possDup: possDup)
        broker.book(p.sessionName, p.account, symbol, dec(qty) * (side == "1" ? 1 : -1))
        apply(.executionReport(session: p.sessionName, message: m, receivedAt: t), crash: crash)
        if pumpAfter && crash == nil { pump() }
    }

    /// Restarts: a fresh engine replays the journal, completes recovery, and sessions log on.
    mutating func crashAndRecover(sessionsUp: Bool = true) {
        engine = try! CopyEngine(configuration: configuration)
        _ = engine.handle(.recoveryBegin(at: advance()))
        for record in journal { _ = engine.handle(.replay(record)) }
        apply(.recoveryComplete(at: advance()))
        if sessionsUp { allSessionsUp() }
    }

    func position(_ follower: String, _ symbol: String = "EUR/USD") -> FixedDecimal {
        engine.followerPosition(follower, symbol: symbol)?.position ?? 0
    }

    func view(_ follower: String, _ symbol: String = "EUR/USD") -> FollowerPositionView? {
        engine.followerPosition(follower, symbol: symbol)
    }

    func reasons(_ follower: String? = nil) -> [ReasonCode] {
        decisions.filter { follower == nil || $0.followerID == follower }.map(\.reason)
    }

    /// NewOrderSingles the broker received on `session`.
    func orders(on session: String) -> [FIXMessage] {
        broker.newOrders.filter { $0.session == session }.map(\.message)
    }
}

/// A provider on `alpha` (her drop copy) and followers on `beta` with sensible defaults.
func setup(
    followers: [FollowerConfig], providers: [ProviderConfig]? = nil, sessions: [BrokerSessionConfig]? = nil
) -> CopyEngineConfiguration {
    CopyEngineConfiguration(
        providers: providers ?? [
            ProviderConfig(providerID: "alice", sessionName: "alpha", account: "ALICE-01", equity: .fixed(100_000))
        ],
        followers: followers,
        sessions: sessions ?? [BrokerSessionConfig(name: "alpha"), BrokerSessionConfig(name: "beta")])
}

func follower(
    _ id: String, account: String? = nil, session: String = "beta",
    providers: [ProviderLink] = [ProviderLink(providerID: "alice")],
    equity: FixedDecimal = 100_000, _ adjust: (inout FollowerConfig) -> Void = { _ in }
) -> FollowerConfig {
    var f = FollowerConfig(
        followerID: id, providers: providers, sessionName: session, account: account ?? id.uppercased(),
        equity: .fixed(equity))
    adjust(&f)
    return f
}

extension FIXMessage {
    var decimalQty: FixedDecimal { try! decimal(38) }
}
