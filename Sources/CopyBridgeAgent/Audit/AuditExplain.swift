import CopyEngine
import FIXCore
import Foundation
import Ledger

/// The chain behind one follower order, from the journal (and the configuration and ledger when
/// given): the provider fill, the sizing, the limits and filters, the order as sent, its reports
/// and its fees. What the sources do not hold is said in ``notes``, never made up.
public struct AuditExplanation: Sendable, Codable {
    /// The provider fill the order copies.
    public struct Signal: Sendable, Codable {
        public var providerID: String?
        public var session: String
        public var account: String
        public var execID: String
        public var symbol: String
        public var side: String
        public var lastQty: FixedDecimal?
        public var lastPx: FixedDecimal?
        public var transactTime: String?
        public var receivedAt: String
        /// Engine record index of the message.
        public var record: Int
        /// The message as received, `|` for SOH.
        public var message: String
    }

    /// How one follower's share was sized, and the engine's state around the triggering event.
    public struct Sizing: Sendable, Codable {
        public var followerID: String
        public var account: String
        public var mode: String
        public var ratio: FixedDecimal
        /// The weight of the link to the signal's provider.
        public var weight: FixedDecimal?
        public var fixedQty: FixedDecimal
        public var riskPercent: FixedDecimal
        public var riskStopBps: FixedDecimal
        /// Configured equities (nil: read from the broker).
        public var followerEquity: FixedDecimal?
        public var providerEquity: FixedDecimal?
        public var reverse: Bool
        public var contractSize: FixedDecimal
        /// LotSize, MinQty, MaxOrderQty, MaxPositionQty in the session's unit.
        public var lotSize: FixedDecimal
        public var minQty: FixedDecimal
        public var maxOrderQty: FixedDecimal
        public var maxPositionQty: FixedDecimal
        public var rounding: String
        public var belowMin: String
        /// The provider's position (units) before and after the triggering event.
        public var providerPositionBefore: FixedDecimal?
        public var providerPositionAfter: FixedDecimal?
        /// The follower's target, copied position and working orders (units) before and after it.
        public var targetBefore: FixedDecimal?
        public var targetAfter: FixedDecimal?
        public var copiedBefore: FixedDecimal?
        public var workingBefore: FixedDecimal?
        /// The unrounded size as the configuration's formula gives it, when it can be worked out.
        public var rawSize: FixedDecimal?
        public var formula: String?
        /// His part of the order (units and the session's unit).
        public var quantity: FixedDecimal
        public var brokerQuantity: FixedDecimal
    }

    /// A skip, clamp, retry or other decision about the order or its follower under the same signal.
    public struct Decision: Sendable, Codable {
        public var at: String
        public var reason: String
        public var followerID: String?
        public var quantity: FixedDecimal?
        public var detail: String?
        public var explanation: String
    }

    /// The NewOrderSingle as sent.
    public struct Order: Sendable, Codable {
        public var clOrdID: String
        public var session: String
        public var createdAt: String
        public var attempt: Int
        public var block: Bool
        /// Engine record index of the `.order` record, and the event that derived it.
        public var record: Int
        public var trigger: String
        /// Tag=value pairs of the NewOrderSingle body (the session adds the header).
        public var fields: [String]
    }

    /// An ExecutionReport about the order.
    public struct Report: Sendable, Codable {
        public var receivedAt: String
        /// Since the order was created (its TransactTime), in milliseconds.
        public var latencyMs: FixedDecimal
        public var execID: String?
        public var execType: String?
        public var ordStatus: String?
        public var lastQty: FixedDecimal?
        public var lastPx: FixedDecimal?
        public var cumQty: FixedDecimal?
        public var avgPx: FixedDecimal?
        public var text: String?
        public var record: Int
    }

    /// What the ledger holds about the order.
    public struct Fees: Sendable, Codable {
        public var ledgerPath: String?
        public var orderRecorded: Bool
        /// Commission of each recorded fill of the order (account currency).
        public var fills: [String]
        public var commission: FixedDecimal?
        /// Subscription fee charges of the order's followers to the signal's provider.
        public var charges: [String]
    }

    public var clOrdID: String
    public var journalPath: String
    public var signal: Signal?
    public var sizing: [Sizing]
    public var decisions: [Decision]
    public var order: Order
    public var reports: [Report]
    public var fees: Fees
    /// What the sources do not say.
    public var notes: [String]

    /// The explanation for people.
    public var text: String {
        var out: [String] = ["order \(clOrdID) (journal \(journalPath))", ""]
        out.append("1. provider fill")
        if let s = signal {
            out.append(
                "   \(s.providerID ?? "account " + s.account) \(s.side) \(s.lastQty.map { "\($0)" } ?? "?") \(s.symbol)"
                    + (s.lastPx.map { " @ \($0)" } ?? "") + " on \(s.session), ExecID \(s.execID)")
            out.append("   TransactTime \(s.transactTime ?? "none"), received \(s.receivedAt) (record \(s.record))")
            out.append("   message: \(s.message)")
        } else {
            out.append("   not in the journal (see notes)")
        }
        out.append("")
        out.append("2. sizing")
        if sizing.isEmpty { out.append("   unknown without the configuration (see notes)") }
        for z in sizing {
            out.append(
                "   \(z.followerID) (account \(z.account)): \(z.mode), Ratio \(z.ratio), weight \(opt(z.weight))"
                    + ", FixedQty \(z.fixedQty), RiskPercent \(z.riskPercent), RiskStopBps \(z.riskStopBps)"
                    + (z.reverse ? ", reversed" : ""))
            out.append(
                "   equity: follower \(z.followerEquity.map { "\($0)" } ?? "from broker")"
                    + ", provider \(z.providerEquity.map { "\($0)" } ?? "from broker")")
            out.append(
                "   lots: LotSize \(z.lotSize), ContractSize \(z.contractSize), Rounding \(z.rounding)"
                    + ", MinQty \(z.minQty) (BelowMin \(z.belowMin)), MaxOrderQty \(z.maxOrderQty)"
                    + ", MaxPositionQty \(z.maxPositionQty)")
            out.append(
                "   provider position \(opt(z.providerPositionBefore)) -> \(opt(z.providerPositionAfter)) units")
            if let f = z.formula { out.append("   size: \(f)") }
            out.append(
                "   target \(opt(z.targetBefore)) -> \(opt(z.targetAfter)) units; copied \(opt(z.copiedBefore))"
                    + ", working \(opt(z.workingBefore)) before")
            out.append("   order quantity: \(z.quantity.normalized) units = OrderQty \(z.brokerQuantity.normalized)")
        }
        out.append("")
        out.append("3. limits and filters")
        if decisions.isEmpty { out.append("   none applied (no skip, clamp or rounding decision was journaled)") }
        for d in decisions {
            out.append(
                "   \(d.at) \(d.reason)" + (d.followerID.map { " \($0)" } ?? "")
                    + (d.quantity.map { " qty \($0.normalized)" } ?? "") + (d.detail.map { ": \($0)" } ?? ""))
            out.append("     \(d.explanation)")
        }
        out.append("")
        out.append("4. order as sent (record \(order.record), derived by \(order.trigger))")
        out.append(
            "   on \(order.session) at \(order.createdAt), attempt \(order.attempt + 1)\(order.block ? ", block" : "")")
        out.append("   NewOrderSingle: " + order.fields.joined(separator: " "))
        out.append("")
        out.append("5. execution reports")
        if reports.isEmpty { out.append("   none journaled") }
        for r in reports {
            var line =
                "   +\(r.latencyMs) ms \(r.receivedAt) ExecType \(r.execType ?? "?") OrdStatus \(r.ordStatus ?? "?")"
            if let q = r.lastQty, !q.isZero { line += " LastQty \(q)" + (r.lastPx.map { " LastPx \($0)" } ?? "") }
            if let c = r.cumQty { line += " CumQty \(c)" }
            if let a = r.avgPx { line += " AvgPx \(a)" }
            if let e = r.execID { line += " ExecID \(e)" }
            if let t = r.text { line += " Text \"\(t)\"" }
            out.append(line)
        }
        out.append("")
        out.append("6. fees")
        if let path = fees.ledgerPath {
            out.append("   ledger \(path): order \(fees.orderRecorded ? "recorded" : "not recorded")")
            out += fees.fills.map { "   fill \($0)" }
            if let c = fees.commission { out.append("   commission total \(c)") }
            if fees.charges.isEmpty {
                out.append("   no subscription fee charge crystallised for these followers and this provider")
            }
            out += fees.charges.map { "   charge \($0)" }
        } else {
            out.append("   no ledger (see notes)")
        }
        if !notes.isEmpty {
            out.append("")
            out.append("notes")
            out += notes.map { "   - \($0)" }
        }
        return out.joined(separator: "\n") + "\n"
    }

    private func opt(_ d: FixedDecimal?) -> String { d.map { "\($0.normalized)" } ?? "?" }
}

/// Builds ``AuditExplanation``s.
public enum AuditExplain {
    /// Explains the order `clOrdID` of `source`'s journal; throws when the journal has no such order.
    public static func explain(_ clOrdID: String, source: AuditSource) throws(AuditError) -> AuditExplanation {
        let records = source.scan.engineRecords
        guard
            let orderRecord = records.firstIndex(where: {
                if case .order(let o) = $0 { o.clOrdID == clOrdID } else { false }
            }),
            case .order(let intent) = records[orderRecord]
        else {
            let count = records.reduce(0) { if case .order = $1 { $0 + 1 } else { $0 } }
            throw AuditError(
                "ClOrdID '\(clOrdID)' is not in the journal \(source.journalPath) (\(count) orders journaled)")
        }
        var notes: [String] = []
        if source.scan.tornTailBytes > 0 {
            notes.append("the journal ends with a torn tail of \(source.scan.tornTailBytes) bytes, not read")
        }
        // The event that derived the order: the last input record before its `.order` record.
        var trigger = orderRecord
        while trigger > 0, case .order = records[trigger - 1] { trigger -= 1 }
        trigger -= 1
        let config = source.configuration?.engine

        let signal = findSignal(intent, records: records, config: config)
        if signal == nil {
            notes.append(
                intent.signal.hasPrefix("PR:") || intent.signal.hasPrefix("init:")
                    ? "signal \(intent.signal) is synthetic (a position report or the initial state), not a fill"
                    : "the provider fill \(intent.signal) is not in the journal")
        }

        var sizing: [AuditExplanation.Sizing] = []
        if let config {
            sizing = try sizingChain(
                intent, trigger: trigger, records: records, config: config, providerID: signal?.providerID,
                price: signal?.lastPx, notes: &notes)
        } else {
            notes.append("no configuration given (--config): sizing parameters and limits are unknown")
        }

        let followers = Set(intent.allocations.map(\.followerID))
        var decisions: [AuditExplanation.Decision] = []
        for record in source.scan.auditRecords {
            guard case .decision(let d, let at) = record else { continue }
            let aboutOrder = d.clOrdID == clOrdID
            let aboutSignal = d.followerID.map { followers.contains($0) } ?? false && d.signal == intent.signal
            guard aboutOrder || aboutSignal else { continue }
            decisions.append(
                AuditExplanation.Decision(
                    at: AuditTime.text(at), reason: d.reason.rawValue, followerID: d.followerID, quantity: d.quantity,
                    detail: d.detail, explanation: d.reason.explanation))
        }

        let sent = CopyEngine.newOrderSingle(intent).build()
        let body = sent.fields.indices.filter {
            ![8, 9, 10].contains(sent.fields[$0].tag) && !sent.isHeaderTag(sent.fields[$0].tag)
        }
        let triggerText = trigger >= 0 ? "record \(trigger): \(records[trigger].summary)" : "no earlier record"
        let order = AuditExplanation.Order(
            clOrdID: clOrdID, session: intent.session, createdAt: AuditTime.text(intent.createdAt),
            attempt: intent.attempt, block: intent.block, record: orderRecord, trigger: triggerText,
            fields: body.map { "\(sent.fields[$0].tag)=\(sent.string(at: $0))" })

        var reports: [AuditExplanation.Report] = []
        for (index, record) in records.enumerated() {
            guard case .message(let session, let bytes, let receivedAt) = record, session == intent.session,
                let m = try? FIXMessage(bytes: bytes.bytes), m.isMsgType("8"),
                m[FIXTag.clOrdID] == clOrdID || m[41] == clOrdID
            else { continue }
            reports.append(
                AuditExplanation.Report(
                    receivedAt: AuditTime.text(receivedAt), latencyMs: latency(receivedAt - intent.createdAt),
                    execID: m[FIXTag.execID], execType: m[FIXTag.execType], ordStatus: m[FIXTag.ordStatus],
                    lastQty: decimal(m, FIXTag.lastQty), lastPx: decimal(m, FIXTag.lastPx),
                    cumQty: decimal(m, FIXTag.cumQty), avgPx: decimal(m, FIXTag.avgPx), text: m[FIXTag.text],
                    record: index))
        }

        let fees = try ledgerFees(intent, providerID: signal?.providerID, source: source, notes: &notes)
        return AuditExplanation(
            clOrdID: clOrdID, journalPath: source.journalPath, signal: signal, sizing: sizing, decisions: decisions,
            order: order, reports: reports, fees: fees, notes: notes)
    }

    private static func decimal(_ m: FIXMessage, _ tag: Int) -> FixedDecimal? {
        (try? m.decimalIfPresent(tag)) ?? nil
    }

    private static func latency(_ nanos: Int64) -> FixedDecimal {
        FixedDecimal(mantissa: Int128(nanos) / 1000, scale: 3)
    }

    /// The provider ExecutionReport whose ExecID is the order's signal.
    private static func findSignal(
        _ intent: OrderIntent, records: [JournalRecord], config: CopyEngineConfiguration?
    ) -> AuditExplanation.Signal? {
        for (index, record) in records.enumerated() {
            guard case .message(let session, let bytes, let receivedAt) = record,
                let m = try? FIXMessage(bytes: bytes.bytes), m.isMsgType("8"), m[FIXTag.execID] == intent.signal,
                m[FIXTag.execType].map({ ["F", "G", "H"].contains($0) }) ?? false
            else { continue }
            let account = m[FIXTag.account] ?? ""
            let provider = config?.providers.first { $0.sessionName == session && $0.account == account }
            // ExecIDs are unique per broker only: a report of our own orders elsewhere may share it.
            if config != nil && provider == nil { continue }
            let side: String
            switch m[FIXTag.side] {
            case "1": side = "BUY"
            case "2": side = "SELL"
            case let other: side = "side \(other ?? "?")"
            }
            let transact = (try? m.timestampIfPresent(FIXTag.transactTime)) ?? nil
            return AuditExplanation.Signal(
                providerID: provider?.providerID, session: session, account: account, execID: intent.signal,
                symbol: m[FIXTag.symbol] ?? "?", side: side, lastQty: decimal(m, FIXTag.lastQty),
                lastPx: decimal(m, FIXTag.lastPx), transactTime: transact?.description,
                receivedAt: AuditTime.text(receivedAt), record: index, message: m.debugDescription)
        }
        return nil
    }

    /// Each follower's sizing inputs, with the engine's state before and after the triggering event,
    /// obtained by replaying the journal into an engine for the configuration.
    private static func sizingChain(
        _ intent: OrderIntent, trigger: Int, records: [JournalRecord], config: CopyEngineConfiguration,
        providerID: String?, price: FixedDecimal?, notes: inout [String]
    ) throws(AuditError) -> [AuditExplanation.Sizing] {
        var engine: CopyEngine
        do {
            engine = try CopyEngine(configuration: config)
        } catch {
            throw AuditError("the configuration does not build a copy engine: \(error)")
        }
        _ = engine.handle(.recoveryBegin(at: records.lazy.compactMap(\.eventTime).first ?? 0))
        for record in records.prefix(max(trigger, 0)) { _ = engine.handle(.replay(record)) }
        let before = engine
        if trigger >= 0 { _ = engine.handle(.replay(records[trigger])) }
        let session = config.sessions.first { $0.name == intent.session }
        var result: [AuditExplanation.Sizing] = []
        for allocation in intent.allocations {
            guard let f = config.followers.first(where: { $0.followerID == allocation.followerID }) else {
                notes.append("follower \(allocation.followerID) is not in the configuration")
                continue
            }
            let link =
                f.providers.first { $0.providerID == providerID } ?? (f.providers.count == 1 ? f.providers[0] : nil)
            let provider = link.flatMap { l in config.providers.first { $0.providerID == l.providerID } }
            let contractSize = session?.contractSize(for: intent.symbol) ?? 1
            let viewBefore = before.followerPosition(f.followerID, symbol: intent.symbol)
            let viewAfter = engine.followerPosition(f.followerID, symbol: intent.symbol)
            let positionBefore = provider.map { before.providerPosition($0.providerID, symbol: intent.symbol) }
            let positionAfter = provider.map { engine.providerPosition($0.providerID, symbol: intent.symbol) }
            var followerEquity: FixedDecimal?
            if case .fixed(let e) = f.equity { followerEquity = e }
            var providerEquity: FixedDecimal?
            if case .fixed(let e)? = provider?.equity { providerEquity = e }
            var raw: FixedDecimal?
            var formula: String?
            if let link, let position = positionAfter {
                let sign = f.reverse ? "-" : ""
                switch f.sizing {
                case .fixedRatio:
                    // Exact while every increase of her position was copied (a skip lowers the target).
                    raw = position * f.ratio * link.weight
                    formula = "\(sign)position \(position.normalized) x Ratio \(f.ratio) x weight \(link.weight)"
                case .equityRatio:
                    if let ef = followerEquity, let ep = providerEquity, ep.isPositive {
                        let factor = ef.divided(by: ep, scale: 12, .halfEven).normalized
                        raw = position * factor * f.ratio * link.weight
                        formula =
                            "\(sign)position \(position.normalized) x equity \(ef) / \(ep) x Ratio \(f.ratio)"
                            + " x weight \(link.weight)"
                    } else {
                        notes.append(
                            "\(f.followerID): equity-ratio with equities from the broker; the journal's setEquity "
                                + "commands decided the factor, the formula is not shown")
                    }
                case .fixedQty:
                    raw = f.fixedQty * contractSize * f.ratio * link.weight
                    formula =
                        "\(sign)FixedQty \(f.fixedQty) x ContractSize \(contractSize) x Ratio \(f.ratio)"
                        + " x weight \(link.weight) (her full size; partial closes scale it by |position| / peak)"
                case .riskPercent:
                    let opens = positionBefore.map { $0.isZero || $0.signum != position.signum } ?? false
                    if let equity = followerEquity, let px = price, px.isPositive, opens {
                        let budget = equity * f.riskPercent * 100
                        let size = budget.divided(by: px * f.riskStopBps, scale: 6, .down) * f.ratio * link.weight
                        raw = position.isNegative ? -size : size
                        formula =
                            "\(sign)equity \(equity) x RiskPercent \(f.riskPercent)% / (opening price \(px)"
                            + " x RiskStopBps \(f.riskStopBps) / 10000) x Ratio \(f.ratio) x weight \(link.weight)"
                    } else {
                        notes.append(
                            "\(f.followerID): risk-percent sizing depends on his equity and her price when her "
                                + "position opened, which this order's fill did not open; the formula is not shown")
                    }
                }
                if let r = raw {
                    raw = (f.reverse ? -r : r).normalized
                    formula = formula.map { "\($0) = \(raw!) units unrounded, then \(f.rounding.rawValue) to the lot" }
                }
            }
            if f.providers.count > 1 {
                notes.append("\(f.followerID) copies several providers: his target sums every link")
            }
            result.append(
                AuditExplanation.Sizing(
                    followerID: f.followerID, account: f.account, mode: f.sizing.rawValue, ratio: f.ratio,
                    weight: link?.weight, fixedQty: f.fixedQty, riskPercent: f.riskPercent, riskStopBps: f.riskStopBps,
                    followerEquity: followerEquity, providerEquity: providerEquity, reverse: f.reverse,
                    contractSize: contractSize, lotSize: f.lotSize(for: intent.symbol),
                    minQty: f.minQty(for: intent.symbol), maxOrderQty: f.maxOrderQty,
                    maxPositionQty: f.maxPositionQty, rounding: f.rounding.rawValue, belowMin: f.belowMin.rawValue,
                    providerPositionBefore: positionBefore, providerPositionAfter: positionAfter,
                    targetBefore: viewBefore?.target ?? 0, targetAfter: viewAfter?.target,
                    copiedBefore: viewBefore?.copied ?? 0, workingBefore: viewBefore?.working ?? 0, rawSize: raw,
                    formula: formula, quantity: allocation.quantity, brokerQuantity: allocation.brokerQuantity))
        }
        return result
    }

    /// The order's fills and commissions, and the fee charges of its subscriptions, from the ledger.
    private static func ledgerFees(
        _ intent: OrderIntent, providerID: String?, source: AuditSource, notes: inout [String]
    ) throws(AuditError) -> AuditExplanation.Fees {
        guard let path = source.ledgerPath else {
            notes.append("no ledger given or found: fees and commissions are not in the journal")
            return AuditExplanation.Fees(ledgerPath: nil, orderRecorded: false, fills: [], commission: nil, charges: [])
        }
        let history: LedgerHistory
        do {
            let ledger = try Ledger.open(path: path)
            defer { try? ledger.close() }
            history = try ledger.history()
        } catch {
            throw AuditError("ledger \(path): \(error)")
        }
        let followers = Set(intent.allocations.map(\.followerID))
        let recorded = history.followerOrders.contains { $0.orderID == intent.clOrdID }
        let fills = history.followerFills.filter { $0.orderID == intent.clOrdID }
        var commission: FixedDecimal?
        for f in fills { commission = (commission ?? 0) + f.commission }
        let charges = history.charges.filter { c in
            c.account.owner == .follower(c.account.owner.id) && followers.contains(c.account.owner.id)
                && (providerID == nil || c.providerID == providerID)
        }
        if !recorded { notes.append("the ledger has no record of order \(intent.clOrdID)") }
        notes.append("fee charges are per subscription and period, not per order: the charges listed cover them all")
        return AuditExplanation.Fees(
            ledgerPath: path, orderRecorded: recorded,
            fills: fills.map {
                "\($0.followerID) \($0.execID): \($0.quantity.normalized) @ \($0.price) commission \($0.commission)"
                    + ($0.currency.map { " \($0)" } ?? "")
            },
            commission: commission,
            charges: charges.map {
                "\($0.kind.rawValue) \($0.amount) \($0.currency) (\($0.reason.rawValue), period from \($0.periodStart)"
                    + ", crystallised \($0.crystallisedAt))"
            })
    }
}
