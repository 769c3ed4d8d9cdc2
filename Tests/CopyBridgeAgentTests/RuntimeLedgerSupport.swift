import FIXCore
import Ledger

/// What a run left in its ledger, in counts (this file speaks the ledger's types only).
struct LedgerCounts: Equatable {
    var providerFills: Int
    var followerOrders: Int
    var followerFills: Int
    var subscriptions: Int
    var deposits: Int
    /// Follower fill quantity by follower and symbol, signed (buys positive).
    var followerQuantities: [String: [String: FixedDecimal]]
}

func ledgerCounts(path: String) throws -> LedgerCounts {
    let ledger = try Ledger.open(path: path)
    defer { try? ledger.close() }
    let history = try ledger.history()
    var quantities: [String: [String: FixedDecimal]] = [:]
    for fill in history.followerFills {
        quantities[fill.followerID, default: [:]][fill.symbol, default: .zero] += fill.quantity * fill.side.signedOne
    }
    return LedgerCounts(
        providerFills: history.providerFills.count, followerOrders: history.followerOrders.count,
        followerFills: history.followerFills.count, subscriptions: history.subscriptions.count,
        deposits: history.cashFlows.count, followerQuantities: quantities)
}
