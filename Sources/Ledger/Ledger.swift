import FIXCore
import Foundation
import GRDB

/// The durable ledger: an SQLite database (WAL mode) of provider fills, follower orders and fills,
/// cash flows, marks, subscriptions, fee charges and high-water marks.
///
/// Inputs are recorded idempotently: an id recorded twice is stored once (``IngestOutcome``).
/// Decimals are stored as TEXT, exactly as given; times as INTEGER nanoseconds since the epoch.
/// Every figure is computed from ``history()`` by pure functions, so reopening the file gives the
/// same figures.
public final class Ledger: Sendable {
    private let writer: any DatabaseWriter

    private init(writer: any DatabaseWriter) throws {
        self.writer = writer
        try Ledger.migrator.migrate(writer)
    }

    /// Opens (creating it and its folder if needed) the database file at `path`, in WAL mode.
    public static func open(path: String) throws -> Ledger {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try Ledger(writer: DatabasePool(path: path, configuration: configuration))
    }

    /// A ledger in memory (tests, previews).
    public static func inMemory() throws -> Ledger {
        try Ledger(writer: DatabaseQueue())
    }

    /// Closes the database; the ledger must not be used afterwards.
    public func close() throws {
        try writer.close()
    }

    /// The SQLite journal mode in effect (`wal` for a file).
    public func journalMode() throws -> String {
        try writer.read { db in
            try db.cachedText(
                sql: "PRAGMA journal_mode") ?? ""
        }
    }

    // MARK: - Recording

    /// Records a provider fill.
    @discardableResult
    public func record(_ fill: ProviderFill) throws -> IngestOutcome { try record(fill, in: nil) }

    /// Records a follower order (the copy of one provider fill).
    @discardableResult
    public func record(_ order: FollowerOrder) throws -> IngestOutcome { try record(order, in: nil) }

    /// Records a follower fill.
    @discardableResult
    public func record(_ fill: FollowerFill) throws -> IngestOutcome { try record(fill, in: nil) }

    /// Records a deposit or withdrawal. The first cash flow of an account not opened yet opens it in
    /// the flow's currency; later flows must be in that currency.
    @discardableResult
    public func record(_ flow: CashFlow) throws -> IngestOutcome { try record(flow, in: nil) }

    /// Records a mark; one per symbol and instant.
    @discardableResult
    public func record(_ mark: Mark) throws -> IngestOutcome { try record(mark, in: nil) }

    /// Opens an account in a currency (idempotent; a different currency is a conflict).
    @discardableResult
    public func openAccount(_ account: AccountRef, currency: String) throws -> IngestOutcome {
        try openAccount(account, currency: currency, in: nil)
    }

    /// Records inputs in one write transaction: `body` gets a ``LedgerBatch`` to record them with.
    /// Each input is recorded or refused on its own, as by the methods above, and all are durable
    /// once this returns; inputs that come by the thousand (one order and one fill per follower of a
    /// copied signal) cost one commit, not one each. When the commit fails, this throws and none
    /// of them is recorded.
    public func batch<T>(_ body: (LedgerBatch) throws -> T) throws -> T {
        try writer.write { db in try body(LedgerBatch(ledger: self, db: db)) }
    }

    /// Runs `body` in a transaction of its own, or in `batch`'s. An input that writes one row
    /// after its reads needs no more in a batch: SQLite undoes a statement that fails. One that
    /// writes more asks for a savepoint (`atomic`), so that nothing of it stays when it is refused.
    /// (A savepoint for every input would cost a third of the batch.)
    private func write<T>(_ batch: Database?, atomic: Bool = false, _ body: (Database) throws -> T) throws -> T {
        guard let db = batch else { return try writer.write(body) }
        guard atomic else { return try body(db) }
        var result: T?
        try db.inSavepoint {
            result = try body(db)
            return .commit
        }
        return result!
    }

    // The inputs, recorded in a transaction of their own (`batch` nil) or in a batch's.

    func record(_ fill: ProviderFill, in batch: Database?) throws -> IngestOutcome {
        try validate(quantity: fill.quantity, price: fill.price, what: "provider fill \(fill.execID)")
        var fill = fill
        fill.currency = try resolvedCurrency(fill.currency, symbol: fill.symbol)
        let canonical = Canonical.text(fill)
        return try write(batch) { db in
            if let existing = try db.cachedText(
                sql: "SELECT canonical FROM provider_fill WHERE provider_id = ? AND exec_id = ?",
                arguments: [fill.providerID, fill.execID])
            {
                return Canonical.outcome(existing, canonical, "provider fill \(fill.providerID)/\(fill.execID)")
            }
            try db.cachedExecute(
                sql: """
                    INSERT INTO provider_fill (provider_id, account, exec_id, symbol, side, quantity, price, currency,
                        commission, transact_time, received_at, canonical)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    fill.providerID, fill.account, fill.execID, fill.symbol, fill.side.rawValue,
                    fill.quantity.description, fill.price.description, fill.currency, fill.commission.description,
                    fill.transactTime.nanosecondsSinceEpoch, fill.receivedAt.nanosecondsSinceEpoch, canonical,
                ])
            return .recorded
        }
    }

    func record(_ order: FollowerOrder, in batch: Database?) throws -> IngestOutcome {
        guard order.quantity.isPositive else {
            throw LedgerError.invalidInput("order \(order.orderID): quantity \(order.quantity) is not positive")
        }
        let canonical = Canonical.text(order)
        return try write(batch) { db in
            if let existing = try db.cachedText(
                sql: "SELECT canonical FROM follower_order WHERE order_id = ?", arguments: [order.orderID])
            {
                return Canonical.outcome(existing, canonical, "order \(order.orderID)")
            }
            try db.cachedExecute(
                sql: """
                    INSERT INTO follower_order (order_id, follower_id, account, symbol, side, quantity, provider_id,
                        signal_exec_id, signal_received_at, sent_at, canonical)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    order.orderID, order.followerID, order.account, order.symbol, order.side.rawValue,
                    order.quantity.description, order.providerID, order.signalExecID,
                    order.signalReceivedAt.nanosecondsSinceEpoch, order.sentAt.nanosecondsSinceEpoch, canonical,
                ])
            return .recorded
        }
    }

    func record(_ fill: FollowerFill, in batch: Database?) throws -> IngestOutcome {
        try validate(quantity: fill.quantity, price: fill.price, what: "follower fill \(fill.execID)")
        if fill.signalExecID != nil && fill.providerID == nil {
            throw LedgerError.invalidInput("follower fill \(fill.execID) names a signal but no provider")
        }
        var fill = fill
        fill.currency = try resolvedCurrency(fill.currency, symbol: fill.symbol)
        let canonical = Canonical.text(fill)
        return try write(batch) { db in
            if let existing = try db.cachedText(
                sql: "SELECT canonical FROM follower_fill WHERE follower_id = ? AND account = ? AND exec_id = ?",
                arguments: [fill.followerID, fill.account, fill.execID])
            {
                return Canonical.outcome(
                    existing, canonical, "follower fill \(fill.followerID)/\(fill.account)/\(fill.execID)")
            }
            try db.cachedExecute(
                sql: """
                    INSERT INTO follower_fill (follower_id, account, exec_id, order_id, symbol, side, quantity, price,
                        currency, commission, provider_id, signal_exec_id, provider_fill_price, transact_time,
                        received_at, canonical)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    fill.followerID, fill.account, fill.execID, fill.orderID, fill.symbol, fill.side.rawValue,
                    fill.quantity.description, fill.price.description, fill.currency, fill.commission.description,
                    fill.providerID, fill.signalExecID, fill.providerFillPrice?.description,
                    fill.transactTime.nanosecondsSinceEpoch, fill.receivedAt.nanosecondsSinceEpoch, canonical,
                ])
            return .recorded
        }
    }

    func record(_ flow: CashFlow, in batch: Database?) throws -> IngestOutcome {
        guard flow.amount.isPositive else {
            throw LedgerError.invalidInput("cash flow \(flow.flowID): amount \(flow.amount) is not positive")
        }
        let currency = flow.currency.uppercased()
        guard Ledger.isCurrencyCode(currency) else {
            throw LedgerError.invalidInput("cash flow \(flow.flowID): '\(flow.currency)' is not a currency code")
        }
        var flow = flow
        flow.currency = currency
        let canonical = Canonical.text(flow)
        return try write(batch, atomic: true) { db in
            if let existing = try db.cachedText(
                sql: "SELECT canonical FROM cash_flow WHERE flow_id = ?", arguments: [flow.flowID])
            {
                return Canonical.outcome(existing, canonical, "cash flow \(flow.flowID)")
            }
            let accountCurrency = try Ledger.openAccount(db, flow.account, currency: currency)
            guard accountCurrency == currency else {
                throw LedgerError.invalidInput(
                    "cash flow \(flow.flowID) is in \(currency) but account \(flow.account) is in \(accountCurrency)")
            }
            try db.cachedExecute(
                sql: """
                    INSERT INTO cash_flow (flow_id, owner_kind, owner_id, account, kind, amount, currency, time, note,
                        canonical)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    flow.flowID, flow.account.owner.kind, flow.account.owner.id, flow.account.account,
                    flow.kind.rawValue, flow.amount.description, currency, flow.time.nanosecondsSinceEpoch, flow.note,
                    canonical,
                ])
            return .recorded
        }
    }

    func record(_ mark: Mark, in batch: Database?) throws -> IngestOutcome {
        guard mark.price.isPositive else {
            throw LedgerError.invalidInput(
                "mark of \(mark.symbol) at \(mark.time): price \(mark.price) is not positive")
        }
        let canonical = Canonical.text(mark)
        return try write(batch) { db in
            if let existing = try db.cachedText(
                sql: "SELECT canonical FROM mark WHERE symbol = ? AND time = ?",
                arguments: [mark.symbol, mark.time.nanosecondsSinceEpoch])
            {
                return Canonical.outcome(existing, canonical, "mark of \(mark.symbol) at \(mark.time)")
            }
            try db.cachedExecute(
                sql: "INSERT INTO mark (symbol, time, price, canonical) VALUES (?, ?, ?, ?)",
                arguments: [mark.symbol, mark.time.nanosecondsSinceEpoch, mark.price.description, canonical])
            return .recorded
        }
    }

    /// Records the start of a subscription. One follower account copies a provider through at most
    /// one subscription at a time.
    @discardableResult
    public func record(_ start: SubscriptionStart) throws -> IngestOutcome {
        if let problem = start.terms.problem {
            throw LedgerError.invalidInput("subscription \(start.subscriptionID): \(problem)")
        }
        let canonical = Canonical.text(start)
        return try writer.write { db in
            if let existing = try db.cachedText(
                sql: "SELECT canonical FROM subscription WHERE subscription_id = ?",
                arguments: [start.subscriptionID])
            {
                return Canonical.outcome(existing, canonical, "subscription \(start.subscriptionID)")
            }
            let overlapping = try String.fetchOne(
                db,
                sql: """
                    SELECT subscription_id FROM subscription
                    WHERE follower_id = ? AND account = ? AND provider_id = ? AND (stop IS NULL OR stop > ?)
                    """,
                arguments: [start.followerID, start.account, start.providerID, start.start.nanosecondsSinceEpoch])
            if let overlapping {
                throw LedgerError.invalidInput(
                    "subscription \(start.subscriptionID): \(start.accountRef) already copies \(start.providerID) "
                        + "through \(overlapping) at \(start.start)")
            }
            let t = start.terms
            try db.cachedExecute(
                sql: """
                    INSERT INTO subscription (subscription_id, follower_id, account, provider_id, start,
                        performance_rate, period, on_withdrawal, management_rate, volume_per_million, platform_share,
                        canonical)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    start.subscriptionID, start.followerID, start.account, start.providerID,
                    start.start.nanosecondsSinceEpoch, t.performanceRate.description, t.period.rawValue,
                    t.onWithdrawal.rawValue, t.managementRatePerYear.description, t.volumeFeePerMillion.description,
                    t.platformShare.description, canonical,
                ])
            return .recorded
        }
    }

    /// Records the stop of a subscription.
    @discardableResult
    public func record(_ stop: SubscriptionStop) throws -> IngestOutcome {
        try writer.write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT start, stop FROM subscription WHERE subscription_id = ?",
                    arguments: [stop.subscriptionID])
            else { throw LedgerError.unknownSubscription(stop.subscriptionID) }
            let start: Int64 = row["start"]
            if let existing: Int64 = row["stop"] {
                if existing == stop.stop.nanosecondsSinceEpoch { return .duplicate }
                let was = UTCTimestamp(nanosecondsSinceEpoch: existing)
                return .conflicting("subscription \(stop.subscriptionID) already stopped at \(was), not \(stop.stop)")
            }
            guard stop.stop.nanosecondsSinceEpoch > start else {
                throw LedgerError.invalidInput(
                    "subscription \(stop.subscriptionID): stop \(stop.stop) is not after its start")
            }
            // Crystallisations are final; a stop inside a crystallised period would contradict them.
            let crystallised = try Int64.fetchOne(
                db, sql: "SELECT last_crystallised_at FROM subscription_fee_state WHERE subscription_id = ?",
                arguments: [stop.subscriptionID])
            if let crystallised, stop.stop.nanosecondsSinceEpoch < crystallised {
                let last = UTCTimestamp(nanosecondsSinceEpoch: crystallised)
                throw LedgerError.invalidInput(
                    "subscription \(stop.subscriptionID): stop \(stop.stop) is before its last crystallisation at \(last)"
                )
            }
            try db.cachedExecute(
                sql: "UPDATE subscription SET stop = ? WHERE subscription_id = ?",
                arguments: [stop.stop.nanosecondsSinceEpoch, stop.subscriptionID])
            return .recorded
        }
    }

    func openAccount(_ account: AccountRef, currency: String, in batch: Database?) throws -> IngestOutcome {
        let currency = currency.uppercased()
        guard Ledger.isCurrencyCode(currency) else {
            throw LedgerError.invalidInput("account \(account): '\(currency)' is not a currency code")
        }
        return try write(batch) { db in
            let existing = try db.cachedText(
                sql: "SELECT currency FROM account WHERE owner_kind = ? AND owner_id = ? AND account = ?",
                arguments: [account.owner.kind, account.owner.id, account.account])
            switch existing {
            case nil:
                _ = try Ledger.openAccount(db, account, currency: currency)
                return .recorded
            case currency?:
                return .duplicate
            case let other?:
                return .conflicting("account \(account) is in \(other), not \(currency)")
            }
        }
    }

    private static func openAccount(_ db: Database, _ account: AccountRef, currency: String) throws -> String {
        try db.cachedExecute(
            sql: "INSERT OR IGNORE INTO account (owner_kind, owner_id, account, currency) VALUES (?, ?, ?, ?)",
            arguments: [account.owner.kind, account.owner.id, account.account, currency])
        return try db.cachedText(
            sql: "SELECT currency FROM account WHERE owner_kind = ? AND owner_id = ? AND account = ?",
            arguments: [account.owner.kind, account.owner.id, account.account])!
    }

    private func validate(quantity: FixedDecimal, price: FixedDecimal, what: String) throws {
        guard quantity.isPositive else {
            throw LedgerError.invalidInput("\(what): quantity \(quantity) is not positive")
        }
        guard price.isPositive else { throw LedgerError.invalidInput("\(what): price \(price) is not positive") }
    }

    private func resolvedCurrency(_ currency: String?, symbol: String) throws -> String {
        if let currency {
            let code = currency.uppercased()
            guard Ledger.isCurrencyCode(code) else {
                throw LedgerError.invalidInput("symbol \(symbol): '\(currency)' is not a currency code")
            }
            return code
        }
        guard let quote = Currency.quoteCurrency(ofPair: symbol) else {
            throw LedgerError.unknownCurrency(symbol: symbol)
        }
        return quote
    }

    static func isCurrencyCode(_ code: String) -> Bool {
        code.count == 3 && code.allSatisfy { $0.isASCII && $0.isUppercase }
    }

    // MARK: - Fees

    /// Crystallises every fee due by `asOf` that is not recorded yet, and records the charges and
    /// the subscriptions' high-water marks in one transaction. Running it again records nothing new.
    @discardableResult
    public func crystallise(asOf: UTCTimestamp) throws -> [FeeCharge] {
        try writer.write { db in
            let history = try Ledger.loadHistory(db)
            let run = try FeeEngine.run(history: history, asOf: asOf, accrued: false)
            for charge in run.charges {
                try db.cachedExecute(
                    sql: """
                        INSERT INTO fee_charge (charge_id, subscription_id, owner_kind, owner_id, account, provider_id,
                            kind, reason, period_start, crystallised_at, basis, rate, amount, platform_amount,
                            provider_amount, currency, net_pnl, hwm_before, hwm_after)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        charge.chargeID, charge.subscriptionID, charge.account.owner.kind, charge.account.owner.id,
                        charge.account.account, charge.providerID, charge.kind.rawValue, charge.reason.rawValue,
                        charge.periodStart.nanosecondsSinceEpoch, charge.crystallisedAt.nanosecondsSinceEpoch,
                        charge.basis.description, charge.rate.description, charge.amount.description,
                        charge.platformAmount.description, charge.providerAmount.description, charge.currency,
                        charge.netPnL.description, charge.highWaterMarkBefore.description,
                        charge.highWaterMarkAfter.description,
                    ])
            }
            for state in run.states.values {
                try db.cachedExecute(
                    sql: """
                        INSERT INTO subscription_fee_state (subscription_id, high_water_mark, last_crystallised_at,
                            management_charged, volume_charged, performance_charged)
                        VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT(subscription_id) DO UPDATE SET high_water_mark = excluded.high_water_mark,
                            last_crystallised_at = excluded.last_crystallised_at,
                            management_charged = excluded.management_charged,
                            volume_charged = excluded.volume_charged,
                            performance_charged = excluded.performance_charged
                        """,
                    arguments: [
                        state.subscriptionID, state.highWaterMark.description,
                        state.lastCrystallisedAt?.nanosecondsSinceEpoch, state.managementCharged.description,
                        state.volumeCharged.description, state.performanceCharged.description,
                    ])
            }
            return run.charges
        }
    }

    /// When ``crystallise(asOf:)`` next has something to record: see
    /// ``FeeEngine/nextCrystallisation(history:)``.
    public func nextCrystallisation() throws -> UTCTimestamp? {
        try writer.read { db in FeeEngine.nextCrystallisation(history: try Ledger.loadHistory(db)) }
    }

    // MARK: - Reading

    /// Everything recorded, in recording order.
    public func history() throws -> LedgerHistory {
        try writer.read { db in try Ledger.loadHistory(db) }
    }
}

/// The ledger's inputs recorded in one write transaction, inside ``Ledger/batch(_:)`` only.
public struct LedgerBatch {
    let ledger: Ledger
    let db: Database

    /// Records a provider fill.
    @discardableResult
    public func record(_ fill: ProviderFill) throws -> IngestOutcome { try ledger.record(fill, in: db) }

    /// Records a follower order.
    @discardableResult
    public func record(_ order: FollowerOrder) throws -> IngestOutcome { try ledger.record(order, in: db) }

    /// Records a follower fill.
    @discardableResult
    public func record(_ fill: FollowerFill) throws -> IngestOutcome { try ledger.record(fill, in: db) }

    /// Records a deposit or withdrawal.
    @discardableResult
    public func record(_ flow: CashFlow) throws -> IngestOutcome { try ledger.record(flow, in: db) }

    /// Records a mark.
    @discardableResult
    public func record(_ mark: Mark) throws -> IngestOutcome { try ledger.record(mark, in: db) }

    /// Opens an account in a currency.
    @discardableResult
    public func openAccount(_ account: AccountRef, currency: String) throws -> IngestOutcome {
        try ledger.openAccount(account, currency: currency, in: db)
    }
}
