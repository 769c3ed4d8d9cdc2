import FIXCore
import Foundation
import Ledger
import Logging

// This file speaks the ledger's vocabulary only (its FollowerFill, Side and Mark), so that the names
// the copy engine shares with it never meet here.

/// A follower fill for the ledger, in plain fields.
struct LedgerFollowerFillInput: Sendable {
    var followerID: String
    var account: String
    var execID: String
    var orderID: String?
    var symbol: String
    var isBuy: Bool
    var quantity: FixedDecimal
    var price: FixedDecimal
    var providerID: String?
    var signalExecID: String?
    var providerFillPrice: FixedDecimal?
    var time: Int64
    var receivedAt: Int64
}

/// A provider fill for the ledger, in plain fields.
struct LedgerProviderFillInput: Sendable {
    var providerID: String
    var account: String
    var execID: String
    var symbol: String
    var isBuy: Bool
    var quantity: FixedDecimal
    var price: FixedDecimal
    var transactTime: Int64
    var receivedAt: Int64
}

/// A copy order for the ledger, in plain fields.
struct LedgerOrderInput: Sendable {
    var orderID: String
    var followerID: String
    var account: String
    var symbol: String
    var isBuy: Bool
    var quantity: FixedDecimal
    var providerID: String
    var signalExecID: String
    var signalReceivedAt: Int64
    var sentAt: Int64
}

/// Feeds the ledger from a thread of its own, so that SQLite never runs on the copy path.
///
/// The thread takes everything queued at each wake-up and records it in one pass, so that a burst of
/// fills costs one wake-up rather than one per fill. It runs at normal priority: a lower scheduling
/// class (`SCHED_IDLE`) lets it starve for seconds on a busy machine with few cores, and anything
/// waiting on the ledger with it; ``close()`` waits until it has caught up.
///
/// Every input is recorded idempotently by the ledger; a refusal is logged and never stops copying.
final class LedgerFeed: @unchecked Sendable {
    private let ledger: Ledger
    private let logger: Logger
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [(what: String, body: @Sendable (Ledger) throws -> IngestOutcome)] = []
    private var busy = false
    private var closing = false
    private var finished = false

    init(path: String, logger: Logger) throws {
        ledger = try Ledger.open(path: path)
        self.logger = logger
        let thread = Thread { [self] in work() }
        thread.name = "copybridge-ledger"
        thread.start()
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty && !closing { condition.wait() }
            if queue.isEmpty && closing {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            busy = true
            condition.unlock()
            for item in batch {
                do {
                    if case .conflicting(let text) = try item.body(ledger) {
                        logger.debug("ledger kept its earlier record: \(text)")
                    }
                } catch {
                    logger.warning("ledger refused \(item.what): \(error)")
                }
            }
            condition.lock()
            busy = false
            condition.broadcast()
            condition.unlock()
        }
    }

    private func enqueue(_ what: String, _ body: @escaping @Sendable (Ledger) throws -> IngestOutcome) {
        condition.lock()
        let wasEmpty = queue.isEmpty
        queue.append((what, body))
        if wasEmpty { condition.signal() }
        condition.unlock()
    }

    private static func timestamp(_ nanos: Int64) -> UTCTimestamp {
        UTCTimestamp(nanosecondsSinceEpoch: nanos, precision: .nanoseconds)
    }

    private static func side(_ isBuy: Bool) -> Side { isBuy ? .buy : .sell }

    /// Accounts, fixed equities as deposits, and one subscription per follower and provider.
    func recordConfiguration(
        followers: [(id: String, account: String, equity: FixedDecimal?, providers: [String])],
        providers: [(id: String, account: String, equity: FixedDecimal?)], currency: String, at: Int64
    ) {
        let time = Self.timestamp(at)
        for f in followers {
            let ref = AccountRef.follower(f.id, account: f.account)
            enqueue("account \(ref)") { try $0.openAccount(ref, currency: currency) }
            if let equity = f.equity, equity.isPositive {
                let flow = CashFlow(
                    flowID: "equity:follower:\(f.id)", account: ref, kind: .deposit, amount: equity, currency: currency,
                    time: time, note: "Equity from the settings file")
                enqueue("the equity of \(f.id)") { try $0.record(flow) }
            }
            for p in f.providers {
                let start = SubscriptionStart(
                    subscriptionID: "\(f.id):\(p)", followerID: f.id, account: f.account, providerID: p, start: time,
                    terms: FeeTerms())
                enqueue("the subscription of \(f.id) to \(p)") { try $0.record(start) }
            }
        }
        for p in providers {
            let ref = AccountRef.provider(p.id, account: p.account)
            enqueue("account \(ref)") { try $0.openAccount(ref, currency: currency) }
            if let equity = p.equity, equity.isPositive {
                let flow = CashFlow(
                    flowID: "equity:provider:\(p.id)", account: ref, kind: .deposit, amount: equity, currency: currency,
                    time: time, note: "Equity from the settings file")
                enqueue("the equity of \(p.id)") { try $0.record(flow) }
            }
        }
    }

    func record(_ fill: LedgerProviderFillInput) {
        let input = ProviderFill(
            providerID: fill.providerID, account: fill.account, execID: fill.execID, symbol: fill.symbol,
            side: Self.side(fill.isBuy), quantity: fill.quantity, price: fill.price,
            transactTime: Self.timestamp(fill.transactTime), receivedAt: Self.timestamp(fill.receivedAt))
        enqueue("provider fill \(fill.execID)") { try $0.record(input) }
    }

    func record(_ order: LedgerOrderInput) {
        let input = FollowerOrder(
            orderID: order.orderID, followerID: order.followerID, account: order.account, symbol: order.symbol,
            side: Self.side(order.isBuy), quantity: order.quantity, providerID: order.providerID,
            signalExecID: order.signalExecID, signalReceivedAt: Self.timestamp(order.signalReceivedAt),
            sentAt: Self.timestamp(order.sentAt))
        enqueue("order \(order.orderID)") { try $0.record(input) }
    }

    func record(_ fill: LedgerFollowerFillInput) {
        let input = FollowerFill(
            followerID: fill.followerID, account: fill.account, execID: fill.execID, orderID: fill.orderID,
            symbol: fill.symbol, side: Self.side(fill.isBuy), quantity: fill.quantity, price: fill.price,
            providerID: fill.providerID, signalExecID: fill.providerID == nil ? nil : fill.signalExecID,
            providerFillPrice: fill.providerFillPrice, transactTime: Self.timestamp(fill.time),
            receivedAt: Self.timestamp(fill.receivedAt))
        enqueue("follower fill \(fill.execID)") { try $0.record(input) }
    }

    func recordMark(symbol: String, price: FixedDecimal, at: Int64) {
        let mark = Mark(symbol: symbol, price: price, time: Self.timestamp(at))
        enqueue("mark of \(symbol)") { try $0.record(mark) }
    }

    /// Waits for everything queued, then closes the database.
    func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
        do { try ledger.close() } catch { logger.warning("closing the ledger: \(error)") }
    }

    /// Waits for everything queued so far (tests).
    func drain() {
        condition.lock()
        while !queue.isEmpty || busy { condition.wait() }
        condition.unlock()
    }
}
