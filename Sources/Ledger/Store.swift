import FIXCore
import GRDB

extension Ledger {
    /// The schema, one migration per version. Never edit a registered migration: add the next one.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE account (
                        owner_kind TEXT NOT NULL, owner_id TEXT NOT NULL, account TEXT NOT NULL,
                        currency TEXT NOT NULL,
                        PRIMARY KEY (owner_kind, owner_id, account));
                    CREATE TABLE provider_fill (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        provider_id TEXT NOT NULL, account TEXT NOT NULL, exec_id TEXT NOT NULL,
                        symbol TEXT NOT NULL, side TEXT NOT NULL, quantity TEXT NOT NULL, price TEXT NOT NULL,
                        currency TEXT NOT NULL, commission TEXT NOT NULL,
                        transact_time INTEGER NOT NULL, received_at INTEGER NOT NULL, canonical TEXT NOT NULL,
                        UNIQUE (provider_id, exec_id));
                    CREATE TABLE follower_order (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        order_id TEXT NOT NULL UNIQUE, follower_id TEXT NOT NULL, account TEXT NOT NULL,
                        symbol TEXT NOT NULL, side TEXT NOT NULL, quantity TEXT NOT NULL,
                        provider_id TEXT NOT NULL, signal_exec_id TEXT NOT NULL,
                        signal_received_at INTEGER NOT NULL, sent_at INTEGER NOT NULL, canonical TEXT NOT NULL);
                    CREATE TABLE follower_fill (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        follower_id TEXT NOT NULL, account TEXT NOT NULL, exec_id TEXT NOT NULL, order_id TEXT,
                        symbol TEXT NOT NULL, side TEXT NOT NULL, quantity TEXT NOT NULL, price TEXT NOT NULL,
                        currency TEXT NOT NULL, commission TEXT NOT NULL,
                        provider_id TEXT, signal_exec_id TEXT, provider_fill_price TEXT,
                        transact_time INTEGER NOT NULL, received_at INTEGER NOT NULL, canonical TEXT NOT NULL,
                        UNIQUE (follower_id, account, exec_id));
                    CREATE INDEX follower_fill_order ON follower_fill (order_id);
                    CREATE TABLE cash_flow (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        flow_id TEXT NOT NULL UNIQUE, owner_kind TEXT NOT NULL, owner_id TEXT NOT NULL,
                        account TEXT NOT NULL, kind TEXT NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL,
                        time INTEGER NOT NULL, note TEXT NOT NULL, canonical TEXT NOT NULL);
                    CREATE TABLE mark (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        symbol TEXT NOT NULL, time INTEGER NOT NULL, price TEXT NOT NULL, canonical TEXT NOT NULL,
                        UNIQUE (symbol, time));
                    CREATE TABLE subscription (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        subscription_id TEXT NOT NULL UNIQUE, follower_id TEXT NOT NULL, account TEXT NOT NULL,
                        provider_id TEXT NOT NULL, start INTEGER NOT NULL, stop INTEGER,
                        performance_rate TEXT NOT NULL, period TEXT NOT NULL, on_withdrawal TEXT NOT NULL,
                        management_rate TEXT NOT NULL, volume_per_million TEXT NOT NULL,
                        platform_share TEXT NOT NULL, canonical TEXT NOT NULL);
                    CREATE TABLE fee_charge (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        charge_id TEXT NOT NULL UNIQUE, subscription_id TEXT NOT NULL,
                        owner_kind TEXT NOT NULL, owner_id TEXT NOT NULL, account TEXT NOT NULL,
                        provider_id TEXT NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL,
                        period_start INTEGER NOT NULL, crystallised_at INTEGER NOT NULL,
                        basis TEXT NOT NULL, rate TEXT NOT NULL, amount TEXT NOT NULL,
                        platform_amount TEXT NOT NULL, provider_amount TEXT NOT NULL, currency TEXT NOT NULL,
                        net_pnl TEXT NOT NULL, hwm_before TEXT NOT NULL, hwm_after TEXT NOT NULL);
                    CREATE TABLE subscription_fee_state (
                        subscription_id TEXT PRIMARY KEY NOT NULL, high_water_mark TEXT NOT NULL,
                        last_crystallised_at INTEGER, management_charged TEXT NOT NULL,
                        volume_charged TEXT NOT NULL, performance_charged TEXT NOT NULL);
                    """)
        }
        return migrator
    }()

    static func loadHistory(_ db: Database) throws -> LedgerHistory {
        // Columns are read by position (cheaper than by name) from explicit lists.
        var history = LedgerHistory()
        for row in try Row.fetchAll(db, sql: "SELECT owner_kind, owner_id, account, currency FROM account") {
            var r = Reader(row)
            history.accountCurrencies[try r.account()] = r.text()
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT provider_id, account, exec_id, symbol, side, quantity, price, currency, commission,
                    transact_time, received_at
                FROM provider_fill ORDER BY seq
                """)
        {
            var r = Reader(row)
            history.providerFills.append(
                ProviderFill(
                    providerID: r.text(), account: r.text(), execID: r.text(), symbol: r.text(), side: try r.side(),
                    quantity: try r.decimal(), price: try r.decimal(), currency: r.text(), commission: try r.decimal(),
                    transactTime: r.time(), receivedAt: r.time()))
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT order_id, follower_id, account, symbol, side, quantity, provider_id, signal_exec_id,
                    signal_received_at, sent_at
                FROM follower_order ORDER BY seq
                """)
        {
            var r = Reader(row)
            history.followerOrders.append(
                FollowerOrder(
                    orderID: r.text(), followerID: r.text(), account: r.text(), symbol: r.text(), side: try r.side(),
                    quantity: try r.decimal(), providerID: r.text(), signalExecID: r.text(), signalReceivedAt: r.time(),
                    sentAt: r.time()))
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT follower_id, account, exec_id, order_id, symbol, side, quantity, price, currency, commission,
                    provider_id, signal_exec_id, provider_fill_price, transact_time, received_at
                FROM follower_fill ORDER BY seq
                """)
        {
            var r = Reader(row)
            history.followerFills.append(
                FollowerFill(
                    followerID: r.text(), account: r.text(), execID: r.text(), orderID: r.optionalText(),
                    symbol: r.text(), side: try r.side(), quantity: try r.decimal(), price: try r.decimal(),
                    currency: r.text(), commission: try r.decimal(), providerID: r.optionalText(),
                    signalExecID: r.optionalText(), providerFillPrice: try r.optionalDecimal(),
                    transactTime: r.time(), receivedAt: r.time()))
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT owner_kind, owner_id, account, flow_id, kind, amount, currency, time, note
                FROM cash_flow ORDER BY seq
                """)
        {
            var r = Reader(row)
            let account = try r.account()
            let flowID = r.text()
            let kind = r.text()
            guard let flowKind = CashFlow.Kind(rawValue: kind) else { throw corrupt("cash flow kind '\(kind)'") }
            history.cashFlows.append(
                CashFlow(
                    flowID: flowID, account: account, kind: flowKind, amount: try r.decimal(), currency: r.text(),
                    time: r.time(), note: r.text()))
        }
        for row in try Row.fetchAll(db, sql: "SELECT symbol, price, time FROM mark ORDER BY seq") {
            var r = Reader(row)
            history.marks.append(Mark(symbol: r.text(), price: try r.decimal(), time: r.time()))
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT subscription_id, follower_id, account, provider_id, start, stop, performance_rate, period,
                    on_withdrawal, management_rate, volume_per_million, platform_share
                FROM subscription ORDER BY seq
                """)
        {
            var r = Reader(row)
            let (id, follower, account, provider, start) = (r.text(), r.text(), r.text(), r.text(), r.time())
            let stop = r.optionalTime()
            let performance = try r.decimal()
            let period = r.text()
            let policy = r.text()
            guard let feePeriod = FeePeriod(rawValue: period), let onWithdrawal = WithdrawalPolicy(rawValue: policy)
            else { throw corrupt("subscription terms '\(period)', '\(policy)'") }
            let terms = FeeTerms(
                performanceRate: performance, period: feePeriod, onWithdrawal: onWithdrawal,
                managementRatePerYear: try r.decimal(), volumeFeePerMillion: try r.decimal(),
                platformShare: try r.decimal())
            history.subscriptions.append(
                Subscription(
                    SubscriptionStart(
                        subscriptionID: id, followerID: follower, account: account, providerID: provider,
                        start: start, terms: terms),
                    stop: stop))
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT owner_kind, owner_id, account, charge_id, subscription_id, provider_id, kind, reason,
                    period_start, crystallised_at, basis, rate, amount, platform_amount, provider_amount, currency,
                    net_pnl, hwm_before, hwm_after
                FROM fee_charge ORDER BY seq
                """)
        {
            var r = Reader(row)
            let account = try r.account()
            let (chargeID, subscriptionID, providerID, kind, reason) = (
                r.text(), r.text(), r.text(), r.text(), r.text()
            )
            guard let feeKind = FeeKind(rawValue: kind), let why = CrystallisationReason(rawValue: reason) else {
                throw corrupt("fee charge kind '\(kind)', reason '\(reason)'")
            }
            history.charges.append(
                FeeCharge(
                    chargeID: chargeID, subscriptionID: subscriptionID, account: account, providerID: providerID,
                    kind: feeKind, reason: why, periodStart: r.time(), crystallisedAt: r.time(),
                    basis: try r.decimal(), rate: try r.decimal(), amount: try r.decimal(),
                    platformAmount: try r.decimal(), providerAmount: try r.decimal(), currency: r.text(),
                    netPnL: try r.decimal(), highWaterMarkBefore: try r.decimal(),
                    highWaterMarkAfter: try r.decimal()))
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT subscription_id, high_water_mark, last_crystallised_at, management_charged, volume_charged,
                    performance_charged
                FROM subscription_fee_state
                """)
        {
            var r = Reader(row)
            var state = SubscriptionFeeState(subscriptionID: r.text())
            state.highWaterMark = try r.decimal()
            state.lastCrystallisedAt = r.optionalTime()
            state.managementCharged = try r.decimal()
            state.volumeCharged = try r.decimal()
            state.performanceCharged = try r.decimal()
            history.feeStates[state.subscriptionID] = state
        }
        return history
    }

    static func corrupt(_ what: String) -> LedgerError {
        LedgerError.invalidInput("ledger database holds an unreadable \(what)")
    }
}

/// Reads a row's columns left to right.
private struct Reader {
    let row: Row
    var index = 0

    init(_ row: Row) {
        self.row = row
    }

    mutating func text() -> String {
        defer { index += 1 }
        return row[index]
    }

    mutating func optionalText() -> String? {
        defer { index += 1 }
        return row[index]
    }

    mutating func time() -> UTCTimestamp {
        defer { index += 1 }
        return UTCTimestamp(nanosecondsSinceEpoch: row[index])
    }

    mutating func optionalTime() -> UTCTimestamp? {
        defer { index += 1 }
        let value: Int64? = row[index]
        return value.map { UTCTimestamp(nanosecondsSinceEpoch: $0) }
    }

    mutating func decimal() throws -> FixedDecimal {
        let text = self.text()
        guard let value = FixedDecimal(text) else { throw Ledger.corrupt("decimal '\(text)'") }
        return value
    }

    mutating func optionalDecimal() throws -> FixedDecimal? {
        guard let text = optionalText() else { return nil }
        guard let value = FixedDecimal(text) else { throw Ledger.corrupt("decimal '\(text)'") }
        return value
    }

    mutating func side() throws -> Side {
        let text = self.text()
        guard let side = Side(rawValue: text) else { throw Ledger.corrupt("side '\(text)'") }
        return side
    }

    /// `owner_kind, owner_id, account`.
    mutating func account() throws -> AccountRef {
        let kind = text()
        let id = text()
        guard let owner = AccountOwner(kind: kind, id: id) else { throw Ledger.corrupt("owner kind '\(kind)'") }
        return AccountRef(owner: owner, account: text())
    }
}

extension Database {
    /// Runs a statement compiled once per connection.
    func cachedExecute(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// The first column of the first row of a statement compiled once per connection.
    func cachedText(sql: String, arguments: StatementArguments = StatementArguments()) throws -> String? {
        try String.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }
}

/// The canonical text of an input: what "the same content" means for idempotent recording.
///
/// Decimals compare by value (`1.50` is `1.5`); a fill's receive time is our own clock and differs on
/// a re-delivery, so it is left out.
enum Canonical {
    static func text(_ fill: ProviderFill) -> String {
        join([
            fill.providerID, fill.account, fill.execID, fill.symbol, fill.side.rawValue, d(fill.quantity),
            d(fill.price), fill.currency ?? "", d(fill.commission), t(fill.transactTime),
        ])
    }

    static func text(_ order: FollowerOrder) -> String {
        join([
            order.orderID, order.followerID, order.account, order.symbol, order.side.rawValue, d(order.quantity),
            order.providerID, order.signalExecID, t(order.signalReceivedAt), t(order.sentAt),
        ])
    }

    static func text(_ fill: FollowerFill) -> String {
        join([
            fill.followerID, fill.account, fill.execID, fill.orderID ?? "", fill.symbol, fill.side.rawValue,
            d(fill.quantity), d(fill.price), fill.currency ?? "", d(fill.commission), fill.providerID ?? "",
            fill.signalExecID ?? "", fill.providerFillPrice.map(d) ?? "", t(fill.transactTime),
        ])
    }

    static func text(_ flow: CashFlow) -> String {
        join([
            flow.flowID, flow.account.description, flow.kind.rawValue, d(flow.amount), flow.currency, t(flow.time),
            flow.note,
        ])
    }

    static func text(_ mark: Mark) -> String {
        join([mark.symbol, t(mark.time), d(mark.price)])
    }

    static func text(_ start: SubscriptionStart) -> String {
        let terms = start.terms
        return join([
            start.subscriptionID, start.followerID, start.account, start.providerID, t(start.start),
            d(terms.performanceRate), terms.period.rawValue, terms.onWithdrawal.rawValue,
            d(terms.managementRatePerYear), d(terms.volumeFeePerMillion), d(terms.platformShare),
        ])
    }

    static func outcome(_ existing: String, _ new: String, _ what: String) -> IngestOutcome {
        if existing == new { return .duplicate }
        let old = existing.split(separator: "\u{1F}", omittingEmptySubsequences: false)
        let now = new.split(separator: "\u{1F}", omittingEmptySubsequences: false)
        let differing = zip(old, now).filter { $0 != $1 }.map { "\($0) → \($1)" }
        return .conflicting("\(what) was recorded with different content (\(differing.joined(separator: ", ")))")
    }

    private static func join(_ parts: [String]) -> String { parts.joined(separator: "\u{1F}") }
    private static func d(_ value: FixedDecimal) -> String { value.normalized.description }
    private static func t(_ time: UTCTimestamp) -> String { String(time.nanosecondsSinceEpoch) }
}
