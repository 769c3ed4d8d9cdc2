import FIXCore

/// The follower-wide inputs of the risk gate: prices, equity, gross notional, open positions.
extension CopyEngine {
    /// The price of one unit of `s` for follower `f`'s limits: the mark's mid, else the price a
    /// provider he copies entered at, else the average price of his copies.
    func referencePrice(_ f: Int, _ s: Int) -> FixedDecimal? {
        if let mid = currentMark(s)?.mid, mid.isPositive { return mid }
        for link in followers[f].links where s < providers[link.provider].symbols.count {
            if let e = providers[link.provider].symbols[s].entryPx, e.isPositive { return e }
        }
        if s < followers[f].symbols.count, let px = followers[f].symbols[s].pnlPx, px.isPositive { return px }
        return nil
    }

    /// How an amount in the quote currency of pair `BASE/QUOTE` becomes one in the account currency.
    struct QuoteConversion {
        /// BASE is the account currency (USD/JPY in a USD account).
        var baseIsAccount: Bool
        /// The mid of `QUOTE/ACCOUNT`, when positive: multiply by it.
        var times: FixedDecimal?
        /// The mid of `ACCOUNT/QUOTE`, when marked: divide by it.
        var over: FixedDecimal?
    }

    /// The conversion of `s`'s quote currency to the account currency from the marks; nil when none
    /// is needed: `s` is not a pair (taken as priced in the account currency) or QUOTE is the account
    /// currency.
    func quoteConversion(_ s: Int) -> QuoteConversion? {
        let name = symbols.names[s]
        guard let slash = name.firstIndex(of: "/") else { return nil }
        let quote = name[name.index(after: slash)...]
        let account = configuration.accountCurrency
        if quote == account { return nil }
        return QuoteConversion(
            baseIsAccount: name[..<slash] == account,
            times: symbols.ids["\(quote)/\(account)"].flatMap { currentMark($0)?.mid }.flatMap {
                $0.isPositive ? $0 : nil
            },
            over: symbols.ids["\(account)/\(quote)"].flatMap { currentMark($0)?.mid })
    }

    /// What one unit of `s` is worth in the account currency, for notional limits and leverage.
    ///
    /// A pair `BASE/QUOTE` is priced in QUOTE: one unit is worth the price when QUOTE is the account
    /// currency, exactly 1 when BASE is (a USD/JPY unit is one dollar), and otherwise the price
    /// converted through the mark of `QUOTE/ACCOUNT` or `ACCOUNT/QUOTE`; nil when no mark converts
    /// it (increases are then held with `no-mark`, never guessed). Symbols that are not pairs are
    /// taken as priced in the account currency.
    func unitValue(_ f: Int, _ s: Int) -> FixedDecimal? {
        guard let px = referencePrice(f, s) else { return nil }
        guard let conversion = quoteConversion(s) else { return px }
        if conversion.baseIsAccount { return 1 }
        if let mid = conversion.times { return FixedDecimal.checkedProduct(px, mid) }
        if let mid = conversion.over, mid.isPositive { return px.divided(by: mid, scale: 10, .halfEven) }
        return nil
    }

    /// `amount` in the quote currency of `s`, in the account currency: converted at the mark of
    /// `QUOTE/ACCOUNT` or `ACCOUNT/QUOTE`, or, for a pair based on the account currency (USD/JPY in
    /// a USD account), at `price`, the pair's own rate, when it has no mark. Without any rate the
    /// amount is taken as it is (symbols that are not pairs are priced in the account currency).
    func inAccountCurrency(_ amount: FixedDecimal, symbol s: Int, price: FixedDecimal?) -> FixedDecimal {
        guard !amount.isZero, let conversion = quoteConversion(s) else { return amount }
        if let mid = conversion.times { return FixedDecimal.checkedProduct(amount, mid) ?? amount }
        guard let rate = conversion.over ?? (conversion.baseIsAccount ? price : nil), rate.isPositive else {
            return amount
        }
        return amount.divided(by: rate, scale: 10, .halfEven)
    }

    /// His equity now: the base plus the P&L of his copies since it was set.
    func currentEquity(_ f: Int) -> FixedDecimal? {
        guard let base = followers[f].equity else { return nil }
        let pnl = followerPnL(f)
        return followers[f].loss.equity(pnl: pnl.realised + pnl.unrealised, base: base)
    }

    /// Gross notional of his copied positions and working orders outside `excluded`.
    func grossNotional(_ f: Int, excluding excluded: Int) -> FixedDecimal {
        var gross: FixedDecimal = 0
        for s in followers[f].knownSymbols where s != excluded {
            let st = followers[f].symbols[s]
            let exposure = (st.managed + st.working).magnitude
            guard !exposure.isZero, let px = unitValue(f, s) else { continue }
            gross += FixedDecimal.checkedProduct(exposure, px) ?? FixedDecimal.moneyLimit
        }
        return gross
    }

    /// His symbols other than `excluded` with a target, a copied position or working orders.
    func openPositions(_ f: Int, excluding excluded: Int) -> Int {
        var count = 0
        for s in followers[f].knownSymbols where s != excluded {
            let st = followers[f].symbols[s]
            if !st.target.isZero || !st.managed.isZero || !st.working.isZero { count += 1 }
        }
        return count
    }

    /// What the gate needs to review an order (or an increase) of follower `f` in `s`.
    func orderContext(_ f: Int, _ s: Int, exposure: FixedDecimal) -> RiskContext {
        let account = followers[f].account
        var context = RiskContext(
            followerID: followers[f].config.followerID, symbol: symbols.names[s],
            limits: followers[f].symbols[s].limits,
            exposure: exposure, contractSize: followers[f].symbols[s].contractSize, account: account)
        if account.needsPrice { context.price = unitValue(f, s) }
        if account.maxLeverage.isPositive {
            context.equity = currentEquity(f)
            context.otherGrossNotional = grossNotional(f, excluding: s)
        }
        if account.maxOpenPositions > 0 { context.otherOpenPositions = openPositions(f, excluding: s) }
        return context
    }

    /// Whether link `l` of follower `f` may accept `accepted` of her position in `s` (an increase):
    /// a symbol beyond MaxOpenPositions is never opened, and with `ExceedPolicy=skip` an increase
    /// whose copy would break a limit is not copied at all.
    mutating func reviewAcceptance(
        _ f: Int, _ l: Int, _ s: Int, to accepted: FixedDecimal, price: FixedDecimal?
    ) -> RiskFinding? {
        let account = followers[f].account
        let st = followers[f].symbols[s]
        let exposure = st.managed + st.working
        if account.maxOpenPositions > 0 && st.target.isZero && exposure.isZero {
            let others = openPositions(f, excluding: s)
            if others >= account.maxOpenPositions {
                return RiskFinding(
                    .maxOpenPositions, limit: "MaxOpenPositions", value: FixedDecimal(others + 1),
                    bound: FixedDecimal(account.maxOpenPositions))
            }
        }
        guard account.exceedPolicy == .skip else { return nil }
        // The target the increase would give him, from the link's would-be size.
        let saved = followers[f].symbols[s].links[l]
        setAccepted(f, l, s, to: accepted, price: price)
        var raw: FixedDecimal = 0
        for link in followers[f].symbols[s].links { raw += link.sized }
        followers[f].symbols[s].links[l] = saved
        if followers[f].config.reverse { raw = -raw }
        let lot = st.limits.lotUnits
        let target = raw.isZero ? 0 : raw.rounded(toMultipleOf: lot, followers[f].config.rounding.mode)
        if target.signum == st.target.signum && target.magnitude <= st.target.magnitude { return nil }
        return riskGate.reviewIncrease(target: target, context: orderContext(f, s, exposure: exposure))
    }
}
