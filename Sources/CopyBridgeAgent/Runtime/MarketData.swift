import FIXCore

/// The market data the agent asks for and reads: top-of-book bids and offers, for marks.
enum MarketData {
    static let mdReqID = 262
    static let subscriptionRequestType = 263
    static let marketDepth = 264
    static let mdUpdateType = 265
    static let noMDEntryTypes = 267
    static let noMDEntries = 268
    static let mdEntryType = 269
    static let mdEntryPx = 270
    static let mdUpdateAction = 279
    static let noRelatedSym = 146

    /// A MarketDataRequest (35=V) subscribing to the bids and offers of `symbols`, incremental updates.
    static func subscription(id: String, symbols: [String]) -> FIXMessageBuilder {
        var b = FIXMessageBuilder(msgType: "V")
        b.set(mdReqID, id)
        b.set(subscriptionRequestType, "1")
        b.set(marketDepth, 1)
        b.set(mdUpdateType, 1)
        b.group(noMDEntryTypes, count: 2) { g in
            g.append(mdEntryType, "0")
            g.append(mdEntryType, "1")
        }
        b.group(noRelatedSym, count: symbols.count) { g in
            for symbol in symbols { g.append(FIXTag.symbol, symbol) }
        }
        return b
    }

    /// A bid or offer that changed.
    struct Update: Equatable {
        var symbol: String
        var bid: FixedDecimal?
        var ask: FixedDecimal?
    }

    /// The bids and offers of a MarketDataSnapshotFullRefresh (W) or IncrementalRefresh (X), one
    /// update per symbol in the order they appear. Deleted entries (279=2) are not marks.
    static func updates(_ m: FIXMessage) -> [Update] {
        let isSnapshot = m.isMsgType("W")
        var out: [Update] = []
        var symbol = isSnapshot ? m[FIXTag.symbol] : nil
        var type: String?
        var deleted = false
        func slot(_ s: String) -> Int {
            if let i = out.firstIndex(where: { $0.symbol == s }) { return i }
            out.append(Update(symbol: s))
            return out.count - 1
        }
        guard let start = m.firstIndex(of: noMDEntries) else { return [] }
        for i in (start + 1)..<m.count {
            let field = m.fields[i]
            switch field.tag {
            case mdUpdateAction:
                deleted = m.string(at: i) == "2"
            case mdEntryType:
                type = m.string(at: i)
            case FIXTag.symbol where !isSnapshot:
                symbol = m.string(at: i)
            case mdEntryPx:
                guard !deleted, let s = symbol, let price = try? m.decimal(at: i), price.isPositive else { continue }
                let k = slot(s)
                if type == "0" { out[k].bid = price } else if type == "1" { out[k].ask = price }
                deleted = false
            default:
                continue
            }
        }
        return out
    }
}

extension MarketData.Update {
    init(symbol: String) {
        self.init(symbol: symbol, bid: nil, ask: nil)
    }
}
