import CopyEngine
import FIXCore

/// One way the replay disagrees with the journal.
public struct AuditDifference: Sendable, Equatable, Codable, CustomStringConvertible {
    /// What differs.
    public enum Kind: String, Sendable, Codable {
        /// The journal has an order the replay did not derive.
        case orderMissing = "order-missing"
        /// The replay derived an order the journal does not have (the original run never sent it).
        case orderExtra = "order-extra"
        /// The same ClOrdID with other fields (quantity, side, price, …).
        case orderChanged = "order-changed"
        /// The journal has a decision the replay did not make.
        case decisionMissing = "decision-missing"
        /// The replay made a decision the journal does not have.
        case decisionExtra = "decision-extra"
    }

    public var kind: Kind
    /// The engine record (0-based, counting engine records only) whose replay showed the difference.
    public var record: Int
    /// The journal entry (0-based, counting every entry of the file) concerned.
    public var entry: Int
    /// The journal's side, if it has one.
    public var journaled: String?
    /// The replay's side, if it has one.
    public var replayed: String?

    public var description: String {
        var text = "record \(record) (entry \(entry)) \(kind.rawValue)"
        if let journaled { text += "\n    journal: \(journaled)" }
        if let replayed { text += "\n    replay:  \(replayed)" }
        return text
    }
}

/// What ``AuditReplay/run(_:configuration:)`` found.
public struct AuditReplayReport: Sendable, Codable {
    public var journalPath: String
    /// Engine records replayed (inputs and orders).
    public var recordsReplayed: Int
    /// Journaled orders compared with the replay's.
    public var ordersCompared: Int
    /// Journaled and replayed decisions compared (each pair, or each one without a counterpart).
    public var decisionsCompared: Int
    /// Journaled decisions whose input the engine did not journal (a duplicate ExecID, an unknown
    /// account, a malformed message): the replay cannot reproduce them, so they are not compared.
    public var decisionsWithoutInput: Int
    /// Bytes of a torn tail after the last whole entry (not replayed).
    public var tornTailBytes: Int
    public var differences: [AuditDifference]

    /// The report for people: the summary line, then each difference.
    public var text: String {
        var lines = [
            "journal \(journalPath)",
            "records replayed: \(recordsReplayed)",
            "orders compared: \(ordersCompared)",
            "decisions compared: \(decisionsCompared)"
                + (decisionsWithoutInput > 0
                    ? " (\(decisionsWithoutInput) journaled decisions have no journaled input and were not replayed)"
                    : ""),
        ]
        if tornTailBytes > 0 { lines.append("torn tail: \(tornTailBytes) bytes after the last whole entry, ignored") }
        lines.append("differences: \(differences.count)")
        lines += differences.map { "  \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Re-runs a journal's inputs through a fresh ``CopyEngine`` built from a configuration and compares
/// every decision (orders, quantities, skips, clamps, degradations) with the journaled ones.
///
/// The engine's own recovery path does the work: every engine record is handed to it as
/// `.replay`, exactly as the agent does at a restart, and the actions it returns are what it would
/// have decided. Orders are matched to the journal's `.order` records by ClOrdID; decisions are
/// matched to the journaled audit decisions of the same event (both carry the event's time: the
/// agent journals a decision with the time of the event that caused it).
public enum AuditReplay {
    /// Replays `scan` into an engine for `configuration`.
    public static func run(
        _ scan: JournalScan, configuration: CopyEngineConfiguration, journalPath: String
    ) throws(AuditError) -> AuditReplayReport {
        var engine: CopyEngine
        do {
            engine = try CopyEngine(configuration: configuration)
        } catch {
            throw AuditError("the configuration does not build a copy engine: \(error)")
        }
        var report = AuditReplayReport(
            journalPath: journalPath, recordsReplayed: 0, ordersCompared: 0, decisionsCompared: 0,
            decisionsWithoutInput: 0, tornTailBytes: scan.tornTailBytes, differences: [])
        let first = scan.engineRecords.lazy.compactMap(\.eventTime).first ?? 0
        _ = engine.handle(.recoveryBegin(at: first))

        var replayed: [EngineTime: [(record: Int, entry: Int, decision: CopyDecision)]] = [:]
        var journaled: [EngineTime: [(entry: Int, decision: CopyDecision)]] = [:]
        /// The first input record at each event time.
        var inputs: [EngineTime: Int] = [:]
        var derived: [(record: Int, entry: Int, intent: OrderIntent)] = []
        var time = first
        var record = 0

        func flushDerived() {
            for d in derived {
                report.differences.append(
                    AuditDifference(
                        kind: .orderExtra, record: d.record, entry: d.entry, journaled: nil,
                        replayed: describe(d.intent)))
            }
            derived.removeAll()
        }

        for (entry, item) in scan.entries.enumerated() {
            let r: JournalRecord
            switch item {
            case .audit(.decision(let d, let at)):
                journaled[at, default: []].append((entry, d))
                continue
            case .audit(.command), .audit(.alert), .audit(.note):
                continue
            case .engine(let engineRecord):
                r = engineRecord
            }
            if case .order(let intent) = r {
                report.ordersCompared += 1
                if let k = derived.firstIndex(where: {
                    $0.intent.clOrdID == intent.clOrdID && $0.intent.session == intent.session
                }) {
                    let mine = derived.remove(at: k).intent
                    if mine != intent {
                        report.differences.append(
                            AuditDifference(
                                kind: .orderChanged, record: record, entry: entry,
                                journaled: describe(intent) + changes(intent, mine), replayed: describe(mine)))
                    }
                } else {
                    report.differences.append(
                        AuditDifference(
                            kind: .orderMissing, record: record, entry: entry, journaled: describe(intent),
                            replayed: nil))
                }
            } else if case .breaker = r {
                // A breaker record follows its event's record and precedes that event's orders: the
                // replaying engine restores it, and the orders derived so far still await their records.
            } else {
                flushDerived()
                time = r.eventTime ?? time
                if inputs[time] == nil { inputs[time] = record }
            }
            for action in engine.handle(.replay(r)) {
                switch action {
                case .decision(let d):
                    // The engine's own note that the replay differs: reported here as order differences.
                    if d.reason != .replayDivergence { replayed[time, default: []].append((record, entry, d)) }
                case .journal(.order(let intent)):
                    if case .order = r { continue }
                    derived.append((record, entry, intent))
                case .journal, .send, .fill, .followerStateChanged, .sessionPhaseChanged, .alert:
                    continue
                }
            }
            record += 1
        }
        flushDerived()
        report.recordsReplayed = record

        for t in Set(replayed.keys).union(journaled.keys).sorted() {
            let mine = replayed[t] ?? []
            let theirs = journaled[t] ?? []
            guard let input = inputs[t] else {
                // No engine record at that time: the event changed no state, so nothing replays it.
                report.decisionsWithoutInput += theirs.count
                continue
            }
            compare(mine, theirs, input: input, into: &report)
        }
        report.differences.sort { ($0.record, $0.entry) < ($1.record, $1.entry) }
        return report
    }

    /// Compares one event's decisions: the longest common subsequence matches, the rest differs.
    private static func compare(
        _ mine: [(record: Int, entry: Int, decision: CopyDecision)], _ theirs: [(entry: Int, decision: CopyDecision)],
        input: Int, into report: inout AuditReplayReport
    ) {
        let n = mine.count
        let m = theirs.count
        // lcs[i][j]: the common length of mine[i...] and theirs[j...].
        var lcs = Array(repeating: Array(repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                lcs[i][j] =
                    mine[i].decision == theirs[j].decision
                    ? lcs[i + 1][j + 1] + 1 : Swift.max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var i = 0
        var j = 0
        while i < n || j < m {
            report.decisionsCompared += 1
            if i < n && j < m && mine[i].decision == theirs[j].decision {
                i += 1
                j += 1
            } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
                report.differences.append(
                    AuditDifference(
                        kind: .decisionMissing, record: i < n ? mine[i].record : input, entry: theirs[j].entry,
                        journaled: describe(theirs[j].decision), replayed: nil))
                j += 1
            } else {
                report.differences.append(
                    AuditDifference(
                        kind: .decisionExtra, record: mine[i].record, entry: mine[i].entry, journaled: nil,
                        replayed: describe(mine[i].decision)))
                i += 1
            }
        }
    }

    static func describe(_ intent: OrderIntent) -> String {
        var text = "\(intent.clOrdID) on \(intent.session): \(intent.side.rawValue) \(intent.quantity.normalized)"
        text += " units \(intent.symbol) (OrderQty \(intent.brokerQuantity.normalized) \(intent.brokerSymbol))"
        text +=
            " for " + intent.allocations.map { "\($0.followerID) \($0.quantity.normalized)" }.joined(separator: ", ")
        return text
    }

    /// The fields of `a` that differ from `b`, with `a`'s values where the description lacks them.
    static func changes(_ a: OrderIntent, _ b: OrderIntent) -> String {
        var fields: [String] = []
        if a.side != b.side { fields.append("side") }
        if a.quantity != b.quantity { fields.append("quantity") }
        if a.brokerQuantity != b.brokerQuantity { fields.append("OrderQty") }
        if a.symbol != b.symbol || a.brokerSymbol != b.brokerSymbol { fields.append("symbol") }
        if a.ordType != b.ordType || a.timeInForce != b.timeInForce { fields.append("type") }
        if a.price != b.price { fields.append("price \(a.price.map { "\($0)" } ?? "none")") }
        if a.account != b.account { fields.append("account") }
        if a.allocations != b.allocations { fields.append("allocations") }
        if a.signal != b.signal { fields.append("signal \(a.signal)") }
        if a.attempt != b.attempt { fields.append("attempt \(a.attempt)") }
        if a.block != b.block { fields.append("block") }
        if a.createdAt != b.createdAt { fields.append("created \(AuditTime.text(a.createdAt))") }
        guard !fields.isEmpty else { return "" }
        return " [differs: \(fields.joined(separator: ", "))]"
    }

    static func describe(_ d: CopyDecision) -> String {
        var text = d.reason.rawValue
        let who = [d.followerID, d.providerID, d.symbol].compactMap { $0 }
        if !who.isEmpty { text += " " + who.joined(separator: " ") }
        if let q = d.quantity { text += " qty \(q.normalized)" }
        if let c = d.clOrdID { text += " order \(c)" }
        if let s = d.signal { text += " signal \(s)" }
        if let detail = d.detail { text += ": \(detail)" }
        return text
    }
}
