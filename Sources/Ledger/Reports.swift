import FIXCore

/// Builds the reports from a ``LedgerHistory``. Money is shown at R6 (the account currency's minor
/// unit, half-even), returns and rates in percent with 4 decimals, slippage in basis points with 2,
/// latencies in milliseconds with 3; quantities and prices as recorded.
public enum Reports {
    public static func build(_ kind: ReportKind, history: LedgerHistory, window: ReportWindow) throws -> Report {
        let context = Context(history: history, window: window)
        let sections: [ReportSection]
        switch kind {
        case .positions: sections = try context.positions()
        case .pnl: sections = try context.pnl()
        case .providers: sections = try context.providers()
        case .followers: sections = try context.followers()
        case .fees: sections = try context.fees()
        case .copies: sections = context.copies()
        }
        return Report(kind: kind, window: window, sections: sections)
    }
}

extension Ledger {
    /// Computes a report from the recorded history.
    public func report(_ kind: ReportKind, window: ReportWindow) throws -> Report {
        try Reports.build(kind, history: history(), window: window)
    }

    /// The text `copybridge report` prints.
    public func renderReport(_ kind: ReportKind, format: ReportFormat, window: ReportWindow) throws -> String {
        try report(kind, window: window).rendered(format)
    }
}

private func money(_ value: FixedDecimal, _ currency: String) -> ReportCell {
    .decimal(LedgerRounding.display(value, currency: currency))
}

private func money(_ value: FixedDecimal?, _ currency: String) -> ReportCell {
    value.map { money($0, currency) } ?? .none
}

private func percent(_ fraction: FixedDecimal?) -> ReportCell {
    fraction.map { .decimal(($0 * FixedDecimal(100)).rounded(scale: 4, .halfEven)) } ?? .none
}

private func plain(_ value: FixedDecimal?) -> ReportCell {
    value.map { .decimal($0.normalized) } ?? .none
}

private func milliseconds(_ nanos: Int64?) -> ReportCell {
    nanos.map { .decimal(FixedDecimal(mantissa: Int128($0), scale: 6).rounded(scale: 3, .halfEven)) } ?? .none
}

private func time(_ value: UTCTimestamp?) -> ReportCell {
    value.map { .text($0.description) } ?? .none
}

private final class Context {
    let history: LedgerHistory
    let window: ReportWindow
    let prices: PriceHistory
    /// Each account's own part of the history: what a figure of one account reads, without going
    /// through every other account's fills (a report that covers every account would otherwise be
    /// quadratic in the accounts). Made on first use: some reports need none.
    lazy var parts: [AccountRef: LedgerHistory] = history.partitioned(history.accounts)

    init(history: LedgerHistory, window: ReportWindow) {
        self.history = history
        self.window = window
        self.prices = history.priceHistory()
    }

    var to: UTCTimestamp { window.to }

    func part(_ account: AccountRef) -> LedgerHistory { parts[account] ?? history }

    func replay(_ account: AccountRef) throws -> AccountReplay {
        try AccountReplay(history: part(account), account: account, prices: prices)
    }

    func accountReturns(_ account: AccountRef, window: ReportWindow) throws -> ReturnStatistics {
        try Statistics.returns(history: part(account), prices: prices, account: account, window: window)
    }

    // MARK: positions

    func positions() throws -> [ReportSection] {
        var accounts = ReportSection(
            name: "positions",
            columns: [
                "owner", "id", "account", "symbol", "position", "avg_price", "price", "pnl_ccy", "unrealised_pnl_ccy",
                "ccy", "unrealised",
            ])
        var sources = ReportSection(
            name: "positions_by_source",
            columns: ["follower", "account", "source", "symbol", "position", "avg_price", "price", "ccy", "unrealised"])
        for account in history.accounts {
            var replay = try replay(account)
            try replay.advance(before: to)
            let currency = replay.currency
            for row in try replay.valuation(at: to, withSources: false).symbols where !row.position.isZero {
                accounts.rows.append([
                    .text(account.owner.kind), .text(account.owner.id), .text(account.account), .text(row.symbol),
                    plain(row.position), plain(row.averageOpenPrice), plain(row.price), .text(row.currency),
                    plain(row.unrealisedInQuote), .text(currency), money(row.unrealised, currency),
                ])
            }
            guard case .follower(let follower) = account.owner else { continue }
            for attribution in replay.sources.keys.sorted() {
                for row in try replay.unrealised(of: replay.sources[attribution]!, at: to).1 where !row.position.isZero
                {
                    sources.rows.append([
                        .text(follower), .text(account.account), .text(attribution.description), .text(row.symbol),
                        plain(row.position), plain(row.averageOpenPrice), plain(row.price), .text(currency),
                        money(row.unrealised, currency),
                    ])
                }
            }
        }
        return [accounts, sources]
    }

    // MARK: pnl

    func pnl() throws -> [ReportSection] {
        var bySymbol = ReportSection(
            name: "pnl",
            columns: [
                "owner", "id", "account", "symbol", "ccy", "realised", "unrealised", "unrealised_change", "commission",
                "net",
            ])
        var bySource = ReportSection(
            name: "pnl_by_source",
            columns: ["follower", "account", "source", "ccy", "realised", "unrealised_change", "commission", "net"])
        for account in history.accounts {
            var replay = try replay(account)
            var start: Valuation?
            if let from = window.from {
                try replay.advance(before: from)
                start = try replay.valuation(at: from)
            }
            try replay.advance(before: to)
            let end = try replay.valuation(at: to)
            let currency = end.currency
            let before = Dictionary(
                (start?.symbols ?? []).map { (Currency.priceKey($0.symbol), $0) }, uniquingKeysWith: { a, _ in a })
            for row in end.symbols {
                let old = before[Currency.priceKey(row.symbol)]
                let realised = row.realised - (old?.realised ?? .zero)
                let commission = row.commission - (old?.commission ?? .zero)
                let change = row.unrealised - (old?.unrealised ?? .zero)
                if realised.isZero && commission.isZero && change.isZero && row.position.isZero { continue }
                bySymbol.rows.append([
                    .text(account.owner.kind), .text(account.owner.id), .text(account.account), .text(row.symbol),
                    .text(currency), money(realised, currency), money(row.unrealised, currency),
                    money(change, currency), money(commission, currency),
                    money(realised + change - commission, currency),
                ])
            }
            let realised = end.realised - (start?.realised ?? .zero)
            let commission = end.commission - (start?.commission ?? .zero)
            let change = end.unrealised - (start?.unrealised ?? .zero)
            if !(realised.isZero && commission.isZero && change.isZero && end.unrealised.isZero) {
                bySymbol.rows.append([
                    .text(account.owner.kind), .text(account.owner.id), .text(account.account), .text("TOTAL"),
                    .text(currency), money(realised, currency), money(end.unrealised, currency),
                    money(change, currency), money(commission, currency),
                    money(realised + change - commission, currency),
                ])
            }
            guard case .follower(let follower) = account.owner else { continue }
            for attribution in end.sources.keys.sorted() {
                let now = end.sources[attribution]!
                let old = start?.sources[attribution] ?? SourceValuation()
                let realised = now.realised - old.realised
                let change = now.unrealised - old.unrealised
                let commission = now.commission - old.commission
                if realised.isZero && change.isZero && commission.isZero { continue }
                bySource.rows.append([
                    .text(follower), .text(account.account), .text(attribution.description), .text(currency),
                    money(realised, currency), money(change, currency), money(commission, currency),
                    money(now.net - old.net, currency),
                ])
            }
        }
        return [bySymbol, bySource]
    }

    // MARK: providers

    /// Trade statistics and the net trading P&L of an account inside the window.
    func trading(_ account: AccountRef) throws -> (TradeStatistics, FixedDecimal, String) {
        var replay = try replay(account)
        var startNet = FixedDecimal.zero
        if let from = window.from {
            try replay.advance(before: from)
            startNet = try replay.valuation(at: from, withSources: false).tradingNet
        }
        try replay.advance(before: to)
        let end = try replay.valuation(at: to, withSources: false)
        let trips = replay.total.roundTrips.filter { window.contains($0.closedAt) }
        return (TradeStatistics(trips), end.tradingNet - startNet, replay.currency)
    }

    func providers() throws -> [ReportSection] {
        var section = ReportSection(
            name: "providers",
            columns: [
                "provider", "account", "ccy", "twr_pct", "max_drawdown_pct", "trades", "win_rate_pct", "profit_factor",
                "avg_win", "avg_loss", "net_pnl", "followers",
            ])
        for account in history.accounts {
            guard case .provider(let provider) = account.owner else { continue }
            let returns = try accountReturns(account, window: window)
            let (trades, net, currency) = try trading(account)
            let followers = Set(
                history.subscriptions.filter { s in
                    s.providerID == provider && s.start < to
                        && (s.stop.map { stop in window.from.map { stop > $0 } ?? true } ?? true)
                }.map(\.account)
            ).count
            section.rows.append([
                .text(provider), .text(account.account), .text(currency), percent(returns.timeWeightedReturn),
                percent(returns.maxDrawdown), .integer(trades.trades), percent(trades.winRate),
                plain(trades.profitFactor?.rounded(scale: 4, .halfEven)), money(trades.averageWin, currency),
                money(trades.averageLoss, currency), money(net, currency), .integer(followers),
            ])
        }
        return [section]
    }

    // MARK: followers

    /// A provider's accounts: which one each of her fills (by ExecID) was on, and how many fills each had.
    struct ProviderAccounts {
        var accountOfSignal: [String: String] = [:]
        var fills: [String: Int] = [:]
    }

    func providerAccounts() -> [String: ProviderAccounts] {
        var byProvider: [String: ProviderAccounts] = [:]
        for fill in history.providerFills {
            byProvider[fill.providerID, default: ProviderAccounts()].accountOfSignal[fill.execID] = fill.account
            byProvider[fill.providerID, default: ProviderAccounts()].fills[fill.account, default: 0] += 1
        }
        return byProvider
    }

    /// The provider account whose fills a follower copied most from `provider` (else the provider's
    /// busiest account).
    func providerAccount(_ provider: String, _ accounts: ProviderAccounts?, copiedBy account: AccountRef) -> AccountRef?
    {
        let accounts = accounts ?? ProviderAccounts()
        var copied: [String: Int] = [:]
        for fill in part(account).followerFills where fill.accountRef == account && fill.providerID == provider {
            if let signal = fill.signalExecID, let name = accounts.accountOfSignal[signal] {
                copied[name, default: 0] += 1
            }
        }
        let pick = (copied.isEmpty ? accounts.fills : copied).max { a, b in
            a.value != b.value ? a.value < b.value : a.key > b.key
        }
        return pick.map { .provider(provider, account: $0.key) }
    }

    func followers() throws -> [ReportSection] {
        var accounts = ReportSection(
            name: "followers",
            columns: [
                "follower", "account", "ccy", "twr_pct", "max_drawdown_pct", "trades", "win_rate_pct", "profit_factor",
                "avg_win", "avg_loss", "net_pnl", "fees", "copies", "avg_slippage_bps", "avg_sent_latency_ms",
                "avg_filled_latency_ms",
            ])
        var subscriptions = ReportSection(
            name: "subscriptions",
            columns: [
                "subscription", "follower", "account", "provider", "from", "to", "ccy", "follower_twr_pct",
                "provider_twr_pct", "divergence_pct", "net_pnl", "copies", "avg_slippage_bps",
            ])
        let copies = Dictionary(
            grouping: Statistics.copies(history: history).filter { window.contains($0.signalReceivedAt) },
            by: { AccountRef.follower($0.followerID, account: $0.account) })
        let providers = providerAccounts()
        // Followers of one provider mostly share a subscription span: her return over it is computed once.
        struct Span: Hashable {
            var account: AccountRef
            var from: UTCTimestamp
            var until: UTCTimestamp
        }
        var providerReturns: [Span: FixedDecimal?] = [:]
        for account in history.accounts {
            guard case .follower(let follower) = account.owner else { continue }
            let returns = try accountReturns(account, window: window)
            let (trades, net, currency) = try trading(account)
            let fees = part(account).charges(of: account).filter { window.contains($0.crystallisedAt) }
                .reduce(FixedDecimal.zero) { $0 + $1.amount }
            let mine = copies[account] ?? []
            accounts.rows.append([
                .text(follower), .text(account.account), .text(currency), percent(returns.timeWeightedReturn),
                percent(returns.maxDrawdown), .integer(trades.trades), percent(trades.winRate),
                plain(trades.profitFactor?.rounded(scale: 4, .halfEven)), money(trades.averageWin, currency),
                money(trades.averageLoss, currency), money(net, currency), money(fees, currency), .integer(mine.count),
                bps(mean(mine.compactMap(\.slippageBps))),
                milliseconds(meanNanos(mine.compactMap(\.sentLatencyNanos))),
                milliseconds(meanNanos(mine.compactMap(\.filledLatencyNanos))),
            ])

            for subscription in part(account).subscriptions.filter({ $0.account == account }).sorted(by: {
                $0.id < $1.id
            }) {
                let from = Swift.max(window.from ?? subscription.start, subscription.start)
                let until = Swift.min(to, subscription.stop ?? to)
                guard from < until else { continue }
                let span = ReportWindow(from: from, to: until)
                let mineReturn = try accountReturns(account, window: span)
                var providerReturn: FixedDecimal?
                if let providerAccount = providerAccount(
                    subscription.providerID, providers[subscription.providerID], copiedBy: account),
                    (try? part(providerAccount).currency(of: providerAccount)) != nil
                {
                    let key = Span(account: providerAccount, from: from, until: until)
                    if let known = providerReturns[key] {
                        providerReturn = known
                    } else {
                        providerReturn = try accountReturns(providerAccount, window: span).timeWeightedReturn
                        providerReturns[key] = providerReturn
                    }
                }
                var divergence: FixedDecimal?
                if let a = mineReturn.timeWeightedReturn, let b = providerReturn { divergence = a - b }
                var replay = try replay(account)
                let source = Attribution.provider(subscription.providerID)
                try replay.advance(before: from)
                let startNet = try replay.sourceValuation(source, at: from).net
                try replay.advance(before: until)
                let endNet = try replay.sourceValuation(source, at: until).net
                let copied = mine.filter {
                    $0.providerID == subscription.providerID && span.contains($0.signalReceivedAt)
                }
                subscriptions.rows.append([
                    .text(subscription.id), .text(follower), .text(account.account), .text(subscription.providerID),
                    time(from), time(until), .text(currency), percent(mineReturn.timeWeightedReturn),
                    percent(providerReturn), percent(divergence), money(endNet - startNet, currency),
                    .integer(copied.count), bps(mean(copied.compactMap(\.slippageBps))),
                ])
            }
        }
        return [accounts, subscriptions]
    }

    func mean(_ values: [FixedDecimal]) -> FixedDecimal? {
        values.isEmpty
            ? nil : LedgerRounding.quotient(values.reduce(FixedDecimal.zero, +), FixedDecimal(values.count))
    }

    func meanNanos(_ values: [Int64]) -> Int64? {
        values.isEmpty ? nil : values.reduce(0, +) / Int64(values.count)
    }

    func bps(_ value: FixedDecimal?) -> ReportCell {
        value.map { .decimal($0.rounded(scale: 2, .halfEven)) } ?? .none
    }

    // MARK: fees

    func fees() throws -> [ReportSection] {
        let run = try FeeEngine.run(history: history, asOf: to, accrued: true)
        var charges: [(status: String, charge: FeeCharge)] = []
        charges += history.charges.filter { window.contains($0.crystallisedAt) }.map { ("charged", $0) }
        charges += run.charges.filter { window.contains($0.crystallisedAt) }.map { ("due", $0) }
        charges += run.accrued.map { ("accrued", $0) }
        let followerOf = Dictionary(
            history.subscriptions.map { ($0.id, $0.followerID) }, uniquingKeysWith: { a, _ in a })

        var statements = ReportSection(
            name: "statements",
            columns: [
                "status", "subscription", "follower", "account", "provider", "period_start", "period_end", "reason",
                "ccy", "management", "volume", "performance", "total", "platform", "provider_share", "net_pnl",
                "high_water_mark",
            ])
        var detail = ReportSection(
            name: "charges",
            columns: [
                "status", "subscription", "period_end", "kind", "basis", "rate", "amount", "platform", "provider_share",
                "ccy",
            ])
        struct Period: Hashable {
            var status: String
            var subscription: String
            var end: UTCTimestamp
        }
        var periods: [Period: [FeeCharge]] = [:]
        var order: [Period] = []
        for (status, charge) in charges {
            let key = Period(status: status, subscription: charge.subscriptionID, end: charge.crystallisedAt)
            if periods[key] == nil { order.append(key) }
            periods[key, default: []].append(charge)
            detail.rows.append([
                .text(status), .text(charge.subscriptionID), time(charge.crystallisedAt), .text(charge.kind.rawValue),
                money(charge.basis, charge.currency), plain(charge.rate), money(charge.amount, charge.currency),
                money(charge.platformAmount, charge.currency), money(charge.providerAmount, charge.currency),
                .text(charge.currency),
            ])
        }
        for key in order {
            let lines = periods[key]!
            let first = lines[0]
            func amount(_ kind: FeeKind) -> ReportCell {
                lines.first { $0.kind == kind }.map { money($0.amount, first.currency) } ?? .none
            }
            let performance = lines.first { $0.kind == .performance }
            statements.rows.append([
                .text(key.status), .text(key.subscription), .text(followerOf[key.subscription] ?? ""),
                .text(first.account.account), .text(first.providerID), time(first.periodStart), time(key.end),
                .text(first.reason.rawValue), .text(first.currency), amount(.management), amount(.volume),
                amount(.performance), money(lines.reduce(FixedDecimal.zero) { $0 + $1.amount }, first.currency),
                money(lines.reduce(FixedDecimal.zero) { $0 + $1.platformAmount }, first.currency),
                money(lines.reduce(FixedDecimal.zero) { $0 + $1.providerAmount }, first.currency),
                money(performance?.netPnL, first.currency), money(performance?.highWaterMarkAfter, first.currency),
            ])
        }

        var marks = ReportSection(
            name: "high_water_marks",
            columns: [
                "subscription", "follower", "account", "provider", "start", "stop", "ccy", "high_water_mark",
                "last_crystallised", "management_charged", "volume_charged", "performance_charged",
            ])
        for subscription in history.subscriptions.sorted(by: { $0.id < $1.id }) {
            let state = history.feeStates[subscription.id] ?? SubscriptionFeeState(subscriptionID: subscription.id)
            let currency = (try? history.currency(of: subscription.account)) ?? ""
            marks.rows.append([
                .text(subscription.id), .text(subscription.followerID), .text(subscription.account.account),
                .text(subscription.providerID), time(subscription.start), time(subscription.stop), .text(currency),
                money(state.highWaterMark, currency), time(state.lastCrystallisedAt),
                money(state.managementCharged, currency), money(state.volumeCharged, currency),
                money(state.performanceCharged, currency),
            ])
        }
        return [statements, detail, marks]
    }

    // MARK: copies

    func copies() -> [ReportSection] {
        var section = ReportSection(
            name: "copies",
            columns: [
                "signal_received", "follower", "account", "provider", "signal", "order", "symbol", "side", "ordered",
                "filled", "provider_price", "avg_price", "slippage_bps", "sent_latency_ms", "filled_latency_ms",
            ])
        for copy in Statistics.copies(history: history) where window.contains(copy.signalReceivedAt) {
            section.rows.append([
                time(copy.signalReceivedAt), .text(copy.followerID), .text(copy.account), .text(copy.providerID),
                .text(copy.signalExecID), copy.orderID.map(ReportCell.text) ?? .none, .text(copy.symbol),
                .text(copy.side.rawValue), plain(copy.orderedQuantity), plain(copy.filledQuantity),
                plain(copy.providerPrice), plain(copy.averagePrice), bps(copy.slippageBps),
                milliseconds(copy.sentLatencyNanos), milliseconds(copy.filledLatencyNanos),
            ])
        }
        return [section]
    }
}
