import FIXCore

/// One MarketDataRequest with SubscriptionRequestType 1, alive until unsubscribed or logout.
struct MarketDataSubscription: Sendable {
    var reqID: String
    var symbols: [String]
    /// MDUpdateType 0: every change is a full snapshot (W) instead of an incremental refresh (X).
    var fullRefresh: Bool
}

extension SimulatedBroker {
    // MARK: Price process

    /// One step of the random walk: each bid moves by a whole number of ticks, the ask keeps the
    /// spread, and no bid falls below one tick.
    mutating func stepPrices(into out: inout [SimOutput]) {
        let maxStep = configuration.maxTicksPerStep
        var changed: [String] = []
        for instrument in instruments {
            let steps = priceRandom.int(in: -maxStep...maxStep)
            guard steps != 0 else { continue }
            let old = quotes[instrument.symbol]!
            let spread = old.ask - old.bid
            let bid = FixedDecimal.max(old.bid + instrument.tickSize * FixedDecimal(steps), instrument.tickSize)
            guard bid != old.bid else { continue }
            quotes[instrument.symbol] = SimQuote(bid: bid, ask: bid + spread)
            changed.append(instrument.symbol)
        }
        if !changed.isEmpty { pricesChanged(changed, into: &out) }
    }

    /// Tells subscribers, then lets resting limits and stops react.
    mutating func pricesChanged(_ symbols: [String], into out: inout [SimOutput]) {
        for session in subscriptions.keys.sorted() {
            for subscription in subscriptions[session]! {
                let moved = subscription.symbols.filter { symbols.contains($0) }
                guard !moved.isEmpty else { continue }
                if subscription.fullRefresh {
                    for symbol in moved { out.append(.send(session, snapshot(subscription.reqID, symbol))) }
                } else {
                    out.append(.send(session, incremental(subscription.reqID, moved)))
                }
            }
        }
        reevaluateOrders(Set(symbols))
    }

    // MARK: MarketDataRequest (V)

    mutating func marketDataRequest(
        _ m: FIXMessage, _ session: SimSessionKey, into out: inout [SimOutput]
    )
        throws(SimRequestError)
    {
        let reqID = try Self.string(m, 262)  // MDReqID
        let subscriptionType = try Self.string(m, 263)  // SubscriptionRequestType
        func reject(_ reason: String, _ text: String) -> SimOutput {
            var b = FIXMessageBuilder(msgType: "Y")
            b.set(262, reqID)
            b.set(281, reason)  // MDReqRejReason
            b.set(FIXTag.text, text)
            return .send(session, b)
        }
        switch subscriptionType {
        case "2":
            subscriptions[session]?.removeAll { $0.reqID == reqID }
            return
        case "0", "1":
            break
        default:
            return out.append(reject("4", "Unsupported SubscriptionRequestType \(subscriptionType)"))
        }
        let entryTypes = m.values(of: 269)  // MDEntryType
        if !entryTypes.isEmpty && !entryTypes.contains(where: { $0 == "0" || $0 == "1" }) {
            return out.append(reject("8", "Only bid (0) and offer (1) entries are available"))
        }
        let symbols = m.values(of: FIXTag.symbol)
        guard !symbols.isEmpty else {
            throw Self.fieldFailure(m, FIXFieldError(tag: FIXTag.symbol, kind: .missing))
        }
        if let unknown = symbols.first(where: { quotes[$0] == nil }) {
            return out.append(reject("0", "Unknown symbol \(unknown)"))
        }
        if subscriptionType == "1" {
            if subscriptions[session, default: []].contains(where: { $0.reqID == reqID }) {
                return out.append(reject("1", "Duplicate MDReqID \(reqID)"))
            }
            let fullRefresh = m[265] == "0"  // MDUpdateType
            subscriptions[session, default: []].append(
                MarketDataSubscription(reqID: reqID, symbols: symbols, fullRefresh: fullRefresh))
        }
        for symbol in symbols { out.append(.send(session, snapshot(reqID, symbol))) }
    }

    /// MarketDataSnapshotFullRefresh (W): bid and offer of one symbol.
    func snapshot(_ reqID: String, _ symbol: String) -> FIXMessageBuilder {
        let quote = quotes[symbol]!
        var b = FIXMessageBuilder(msgType: "W")
        b.set(262, reqID)
        b.set(FIXTag.symbol, symbol)
        b.group(268, count: 2) { g in
            g.set(269, "0")
            g.set(270, quote.bid)
            g.set(271, configuration.quoteSize)
            g.set(269, "1")
            g.set(270, quote.ask)
            g.set(271, configuration.quoteSize)
        }
        return b
    }

    /// MarketDataIncrementalRefresh (X): changed bid and offer of each symbol.
    func incremental(_ reqID: String, _ symbols: [String]) -> FIXMessageBuilder {
        var b = FIXMessageBuilder(msgType: "X")
        b.set(262, reqID)
        b.group(268, count: symbols.count * 2) { g in
            for symbol in symbols {
                let quote = quotes[symbol]!
                for (type, price) in [("0", quote.bid), ("1", quote.ask)] {
                    g.set(279, "1")  // MDUpdateAction: change
                    g.set(269, type)
                    g.set(FIXTag.symbol, symbol)
                    g.set(270, price)
                    g.set(271, configuration.quoteSize)
                }
            }
        }
        return b
    }
}
