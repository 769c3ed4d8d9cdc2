import FIXCore
import FIXTransport
import Foundation
import Ledger
import Logging
import Synchronization

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

/// A follower's fees as the ledger has them, in the account currency.
struct LedgerFollowerFees: Sendable, Equatable {
    /// Accrued and not charged yet: what his open subscriptions would be charged if they crystallised
    /// now, and any charge due but not yet recorded.
    var accrued: FixedDecimal = .zero
    /// Charged so far, over all his subscriptions.
    var charged: FixedDecimal = .zero
}

/// Feeds the ledger from a thread of its own, so that SQLite never runs on the copy path.
///
/// The thread takes everything queued at each wake-up and records it in one pass, so that a burst of
/// fills costs one wake-up rather than one per fill. Once woken by a first input it gathers for up to
/// ``batchWindowNanos`` before recording: under steady copying a signal brings several inputs (her
/// fill, the orders, their fills) in separate bursts of the agent's loop, and one transaction for all
/// that arrive in a few milliseconds costs a fraction of one per burst, on a thread that shares the
/// machine's cores with the copy path. The ledger is that much behind the agent, never more: a stop
/// (``close()``) or a wait for it (``drain()``) ends the gathering at once, and so does a large batch.
///
/// It runs at normal priority: a lower scheduling class (`SCHED_IDLE`) lets it starve for seconds on
/// a busy machine with few cores, and anything waiting on the ledger with it (and measured again on
/// the development machine, it made copies slower, not faster); ``close()`` waits until it has caught
/// up.
///
/// Every input is recorded idempotently by the ledger; a refusal is logged and never stops copying.
///
/// The same thread crystallises fees: once the configuration is recorded (catching up with period
/// ends and stops passed while the agent was down), then at each instant the ledger names as its
/// next crystallisation (a period end, a stop). Crystallising is idempotent in the ledger: what is
/// recorded is never recorded again.
///
/// The same thread also keeps each follower's fees (``followerFees()``, for the dashboard) as the
/// fees report computes them: after recording and after each crystallisation, at most once per
/// `feesRefreshNanos` unless a crystallisation ran, since it reads the whole history.
final class LedgerFeed: @unchecked Sendable {
    private let ledger: Ledger
    private let logger: Logger
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Input] = []
    private var busy = false
    /// Inputs of the batch the thread is recording.
    private var recording = 0
    private var closing = false
    private var finished = false
    // The ledger thread's own.
    private var nextCrystallisation: Int64?
    private var crystallisationDue = false
    private var feesError: String?
    private let now: @Sendable () -> Int64
    // Guarded by `condition`: whether the fee figures miss recorded work, when they were last
    // computed, and whether `drain()` wants them now.
    private var feesStale = false
    private var feesRefreshedAt: Int64?
    /// How long the last computation took (``nextFeesRefresh(after:cost:interval:)``).
    private var feesRefreshCost: Int64 = 0
    private var feesWanted = false
    private let feesRefreshNanos: Int64
    /// How long the thread gathers inputs after the first before recording them.
    let batchWindowNanos: Int64
    // Guarded by `condition`: `drain()` wants what is queued recorded now.
    private var flushWanted = false
    private let fees = Mutex<[String: LedgerFollowerFees]>([:])
    /// How long to wait before crystallising again when the ledger could not (a rate missing) or a
    /// crystallisation it names as due records nothing.
    static let crystallisationRetryNanos: Int64 = 60_000_000_000

    /// The recording thread's name, as `ps -L` shows it.
    static let threadName = "cb-ledger"

    /// How often at most the fee figures are computed again while the ledger records.
    static let defaultFeesRefreshNanos: Int64 = 2_000_000_000

    /// How long the thread gathers inputs before recording them, by default: long enough to take
    /// several signals into one transaction under steady copying, short against anything that reads
    /// the ledger (reports, the dashboard's fees).
    static let defaultBatchWindowNanos: Int64 = 2_000_000

    /// Inputs that end the gathering early: a copy to many followers is recorded without waiting.
    static let maximumGatheredInputs = 4096

    init(
        path: String, logger: Logger, now: @escaping @Sendable () -> Int64 = AgentClock.wallNanos,
        feesRefreshNanos: Int64 = LedgerFeed.defaultFeesRefreshNanos,
        batchWindowNanos: Int64 = LedgerFeed.defaultBatchWindowNanos
    ) throws {
        ledger = try Ledger.open(path: path)
        self.logger = logger
        self.now = now
        self.feesRefreshNanos = feesRefreshNanos
        self.batchWindowNanos = batchWindowNanos
        let thread = Thread { [self] in work() }
        thread.start()
    }

    private func work() {
        // Named from inside: a name given to the `Thread` before `start()` is dropped on Linux.
        // Unnamed, the thread showed under its creator's name in `top -H`, `ps -L` and profiles.
        ThreadName.setCurrent(LedgerFeed.threadName)
        while true {
            condition.lock()
            while queue.isEmpty && !closing && !crystallisationDue {
                let time = now()
                if let due = nextCrystallisation, time >= due {
                    crystallisationDue = true
                    break
                }
                if let due = feesDue, time >= due { break }
                guard let wake = [nextCrystallisation, feesDue].compactMap({ $0 }).min() else {
                    condition.wait()
                    continue
                }
                _ = condition.wait(until: Date(timeIntervalSince1970: Double(wake) / 1e9))
            }
            if queue.isEmpty && closing {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            gather()
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            busy = true
            recording = batch.count
            condition.unlock()
            record(batch)
            let crystallising = crystallisationDue || nextCrystallisation.map({ now() >= $0 }) == true
            if crystallising { crystallise() }
            condition.lock()
            recording = 0
            if !batch.isEmpty || crystallising { feesStale = true }
            let refresh = feesStale && (crystallising || feesDue.map { now() >= $0 } == true)
            condition.unlock()
            if refresh { refreshFees() }
            condition.lock()
            busy = false
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Waits, under `condition`, for more inputs to join those queued: until ``batchWindowNanos`` has
    /// passed, or a stop, a drain or a large batch ends it. The window is timed on the system clock
    /// that `NSCondition` waits on, not on `now` (which tests set).
    private func gather() {
        defer { flushWanted = false }
        guard batchWindowNanos > 0, !queue.isEmpty else { return }
        let deadline = Date(timeIntervalSinceNow: Double(batchWindowNanos) / 1e9)
        while !closing && !flushWanted && queue.count < Self.maximumGatheredInputs {
            if !condition.wait(until: deadline) { return }
        }
    }

    /// When the fee figures are to be computed again, if they are stale. Under `condition`.
    private var feesDue: Int64? {
        guard feesStale else { return nil }
        guard let last = feesRefreshedAt, !feesWanted else { return .min }
        return Self.nextFeesRefresh(after: last, cost: feesRefreshCost, interval: feesRefreshNanos)
    }

    /// When the fee figures computed at `last`, in `cost` nanoseconds, are computed again at the
    /// earliest: after `interval`, or ten times their cost when that is longer. They read the whole
    /// history, which grows all day; this way they keep the ledger thread busy a tenth of the time
    /// at most, and leave the rest of the machine to the agent's loop and the sessions.
    static func nextFeesRefresh(after last: Int64, cost: Int64, interval: Int64) -> Int64 {
        last + Swift.max(interval, 10 * cost)
    }

    /// Each follower's fees as the fees report computes them: charged, and accrued (due and not
    /// recorded, or accrued if his open subscriptions crystallised now). On the ledger thread.
    private func refreshFees() {
        let time = now()
        do {
            let history = try ledger.history()
            let run = try FeeEngine.run(history: history, asOf: Self.timestamp(time), accrued: true)
            let followerOf = Dictionary(
                history.subscriptions.map { ($0.id, $0.followerID) }, uniquingKeysWith: { a, _ in a })
            var figures: [String: LedgerFollowerFees] = [:]
            for charge in history.charges {
                guard let follower = followerOf[charge.subscriptionID] else { continue }
                figures[follower, default: LedgerFollowerFees()].charged += charge.amount
            }
            for charge in run.charges + run.accrued {
                guard let follower = followerOf[charge.subscriptionID] else { continue }
                figures[follower, default: LedgerFollowerFees()].accrued += charge.amount
            }
            fees.withLock { $0 = figures }
            feesError = nil
        } catch {
            // Once per distinct error: under traffic the figures are computed every few seconds.
            let text = "\(error)"
            if text != feesError { logger.warning("computing the followers' fees: \(text)") }
            feesError = text
        }
        let cost = now() - time
        condition.lock()
        feesRefreshedAt = time
        feesRefreshCost = cost
        feesStale = false
        feesWanted = false
        condition.unlock()
    }

    /// Each follower's fees by follower id, as of the ledger thread's last computation; a follower
    /// without subscriptions or fees is absent.
    func followerFees() -> [String: LedgerFollowerFees] {
        fees.withLock { $0 }
    }

    /// Records every fee due by now, then learns when the next one is due. On the ledger thread.
    private func crystallise() {
        crystallisationDue = false
        let time = now()
        do {
            let charges = try ledger.crystallise(asOf: Self.timestamp(time))
            if !charges.isEmpty {
                let subscriptions = Set(charges.map(\.subscriptionID)).sorted().joined(separator: ", ")
                logger.info("fees crystallised: \(charges.count) charges for \(subscriptions)")
            }
            nextCrystallisation = try ledger.nextCrystallisation()?.nanosecondsSinceEpoch
        } catch {
            logger.warning("crystallising fees: \(error)")
            nextCrystallisation = time + Self.crystallisationRetryNanos
            return
        }
        if let next = nextCrystallisation, next <= time {
            nextCrystallisation = time + Self.crystallisationRetryNanos
        }
    }

    /// What the agent hands the ledger thread.
    private enum Input: Sendable {
        case providerFill(ProviderFill)
        case order(FollowerOrder)
        case followerFill(FollowerFill)
        case mark(Mark)
        case flow(CashFlow, what: String)
        case account(AccountRef, currency: String)
        /// Work that reads the ledger too, in a transaction of its own.
        case task(what: String, body: @Sendable (Ledger) throws -> IngestOutcome)

        /// For the log, when the ledger refuses it (made then, not on the agent's loop).
        var what: String {
            switch self {
            case .providerFill(let fill): "provider fill \(fill.execID)"
            case .order(let order): "order \(order.orderID)"
            case .followerFill(let fill): "follower fill \(fill.execID)"
            case .mark(let mark): "mark of \(mark.symbol)"
            case .flow(_, let what), .task(let what, _): what
            case .account(let ref, _): "account \(ref)"
            }
        }

        func record(in batch: LedgerBatch) throws -> IngestOutcome {
            switch self {
            case .providerFill(let fill): try batch.record(fill)
            case .order(let order): try batch.record(order)
            case .followerFill(let fill): try batch.record(fill)
            case .mark(let mark): try batch.record(mark)
            case .flow(let flow, _): try batch.record(flow)
            case .account(let ref, let currency): try batch.openAccount(ref, currency: currency)
            case .task: preconditionFailure("a task is not recorded in a batch")
            }
        }
    }

    /// Records `inputs` in order: each run of inputs between tasks in one transaction (a copy to a
    /// thousand followers brings two thousand of them), each task in its own. On the ledger thread.
    private func record(_ inputs: [Input]) {
        var k = 0
        while k < inputs.count {
            if case .task(let what, let body) = inputs[k] {
                outcome(what) { try body(ledger) }
                k += 1
                continue
            }
            var end = k + 1
            while end < inputs.count {
                if case .task = inputs[end] { break }
                end += 1
            }
            let run = inputs[k..<end]
            do {
                try ledger.batch { batch in
                    for input in run { outcome(input.what) { try input.record(in: batch) } }
                }
            } catch {
                logger.warning("ledger could not record \(run.count) inputs (\(run.first!.what) first): \(error)")
            }
            k = end
        }
    }

    private func outcome(_ what: @autoclosure () -> String, _ body: () throws -> IngestOutcome) {
        do {
            if case .conflicting(let text) = try body() {
                logger.debug("ledger kept its earlier record: \(text)")
            }
        } catch {
            logger.warning("ledger refused \(what()): \(error)")
        }
    }

    private func enqueue(_ input: Input) {
        condition.lock()
        let wasEmpty = queue.isEmpty
        queue.append(input)
        // The first input wakes the thread; while it gathers, only a batch large enough to end the
        // gathering does.
        if wasEmpty || queue.count == Self.maximumGatheredInputs { condition.signal() }
        condition.unlock()
    }

    private static func timestamp(_ nanos: Int64) -> UTCTimestamp {
        UTCTimestamp(nanosecondsSinceEpoch: nanos, precision: .nanoseconds)
    }

    private static func side(_ isBuy: Bool) -> Side { isBuy ? .buy : .sell }

    /// Accounts, fixed equities as deposits, and one subscription per follower and provider, then the
    /// fees due.
    ///
    /// A subscription keeps its start and terms across runs. Where the settings changed a follower's
    /// terms, its subscriptions stop now (their fees crystallise) and new ones start with the new
    /// terms; a follower or provider link no longer in the settings has stopped copying: its
    /// subscription stops now.
    func recordConfiguration(
        followers: [(id: String, account: String, equity: FixedDecimal?, providers: [String], terms: FeeTerms?)],
        providers: [(id: String, account: String, equity: FixedDecimal?)], currency: String, at: Int64
    ) {
        let time = Self.timestamp(at)
        var wanted: [SubscriptionStart] = []
        for f in followers {
            let ref = AccountRef.follower(f.id, account: f.account)
            enqueue(.account(ref, currency: currency))
            if let equity = f.equity, equity.isPositive {
                let flow = CashFlow(
                    flowID: "equity:follower:\(f.id)", account: ref, kind: .deposit, amount: equity, currency: currency,
                    time: time, note: "Equity from the settings file")
                enqueue(.flow(flow, what: "the equity of \(f.id)"))
            }
            for p in f.providers {
                wanted.append(
                    SubscriptionStart(
                        subscriptionID: "\(f.id):\(p)", followerID: f.id, account: f.account, providerID: p,
                        start: time, terms: f.terms ?? FeeTerms()))
            }
        }
        let starts = wanted
        enqueue(
            .task(what: "the subscriptions") { [self] ledger in
                try reconcile(ledger, wanted: starts, at: time)
                crystallisationDue = true
                return .recorded
            })
        for p in providers {
            let ref = AccountRef.provider(p.id, account: p.account)
            enqueue(.account(ref, currency: currency))
            if let equity = p.equity, equity.isPositive {
                let flow = CashFlow(
                    flowID: "equity:provider:\(p.id)", account: ref, kind: .deposit, amount: equity, currency: currency,
                    time: time, note: "Equity from the settings file")
                enqueue(.flow(flow, what: "the equity of \(p.id)"))
            }
        }
    }

    /// The deposit that opens the account of an `Equity=broker` follower or provider: the equity its
    /// broker reported first. Recorded under the same id as a fixed Equity's, so an account has one
    /// opening deposit whatever the runs report later.
    func recordOpeningEquity(
        follower: Bool, id: String, account: String, _ amount: FixedDecimal, currency: String, at: Int64
    ) {
        let ref = follower ? AccountRef.follower(id, account: account) : AccountRef.provider(id, account: account)
        let flow = CashFlow(
            flowID: "equity:\(follower ? "follower" : "provider"):\(id)", account: ref, kind: .deposit, amount: amount,
            currency: currency, time: Self.timestamp(at), note: "Equity reported by the broker")
        enqueue(.flow(flow, what: "the equity of \(id)"))
    }

    /// Starts, keeps or stops subscriptions so that the open ones are `wanted`. On the ledger thread.
    private func reconcile(_ ledger: Ledger, wanted: [SubscriptionStart], at time: UTCTimestamp) throws {
        let recorded = try ledger.history().subscriptions
        var open: [String: Subscription] = [:]
        for s in recorded where s.stop == nil { open[Self.link(s.followerID, s.account.account, s.providerID)] = s }
        var used = Set(recorded.map(\.id))
        func attempt(_ what: String, _ body: () throws -> IngestOutcome) {
            do {
                if case .conflicting(let text) = try body() {
                    logger.warning("ledger kept its earlier record: \(text)")
                }
            } catch {
                logger.warning("ledger refused \(what): \(error)")
            }
        }
        for var start in wanted {
            let key = Self.link(start.followerID, start.account, start.providerID)
            if let current = open.removeValue(forKey: key) {
                if current.terms == start.terms { continue }
                logger.info("subscription \(current.id): new fee terms from the settings, a new subscription starts")
                attempt("the stop of \(current.id)") {
                    try ledger.record(SubscriptionStop(subscriptionID: current.id, stop: time))
                }
            }
            // A stopped subscription keeps its id; a new one of the same link gets the next number.
            var id = start.subscriptionID
            var n = 2
            while used.contains(id) {
                id = "\(start.subscriptionID)/\(n)"
                n += 1
            }
            start.subscriptionID = id
            used.insert(id)
            attempt("the subscription \(id)") { try ledger.record(start) }
        }
        for stale in open.values.sorted(by: { $0.id < $1.id }) {
            logger.info("subscription \(stale.id) is no longer in the settings: it stops")
            attempt("the stop of \(stale.id)") {
                try ledger.record(SubscriptionStop(subscriptionID: stale.id, stop: time))
            }
        }
    }

    private static func link(_ follower: String, _ account: String, _ provider: String) -> String {
        "\(follower)\u{1F}\(account)\u{1F}\(provider)"
    }

    func record(_ fill: LedgerProviderFillInput) {
        let input = ProviderFill(
            providerID: fill.providerID, account: fill.account, execID: fill.execID, symbol: fill.symbol,
            side: Self.side(fill.isBuy), quantity: fill.quantity, price: fill.price,
            transactTime: Self.timestamp(fill.transactTime), receivedAt: Self.timestamp(fill.receivedAt))
        enqueue(.providerFill(input))
    }

    func record(_ order: LedgerOrderInput) {
        let input = FollowerOrder(
            orderID: order.orderID, followerID: order.followerID, account: order.account, symbol: order.symbol,
            side: Self.side(order.isBuy), quantity: order.quantity, providerID: order.providerID,
            signalExecID: order.signalExecID, signalReceivedAt: Self.timestamp(order.signalReceivedAt),
            sentAt: Self.timestamp(order.sentAt))
        enqueue(.order(input))
    }

    func record(_ fill: LedgerFollowerFillInput) {
        let input = FollowerFill(
            followerID: fill.followerID, account: fill.account, execID: fill.execID, orderID: fill.orderID,
            symbol: fill.symbol, side: Self.side(fill.isBuy), quantity: fill.quantity, price: fill.price,
            providerID: fill.providerID, signalExecID: fill.providerID == nil ? nil : fill.signalExecID,
            providerFillPrice: fill.providerFillPrice, transactTime: Self.timestamp(fill.time),
            receivedAt: Self.timestamp(fill.receivedAt))
        enqueue(.followerFill(input))
    }

    func recordMark(symbol: String, price: FixedDecimal, at: Int64) {
        let mark = Mark(symbol: symbol, price: price, time: Self.timestamp(at))
        enqueue(.mark(mark))
    }

    /// Inputs handed over and not recorded yet: queued, or in the batch being recorded.
    var backlog: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count + recording
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

    /// Waits for everything queued so far, and for the fee figures to include it (tests).
    func drain() {
        condition.lock()
        while !queue.isEmpty || busy || feesStale {
            if !queue.isEmpty && !flushWanted {
                flushWanted = true
                condition.broadcast()
            }
            if feesStale && !feesWanted {
                feesWanted = true
                condition.broadcast()
            }
            condition.wait()
        }
        condition.unlock()
    }
}
