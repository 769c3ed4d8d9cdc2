import FIXCore

/// One FIX session at the simulated broker, seen from the broker's side.
///
/// `senderCompID` is the simulator's own CompID on that session and `targetCompID` the
/// counterparty's; `qualifier` tells apart two sessions between the same pair (QuickFIX's
/// `SessionQualifier`). Keys order by their fields so fan-out to several sessions is always in the
/// same order.
public struct SimSessionKey: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var senderCompID: String
    public var targetCompID: String
    public var qualifier: String

    public init(senderCompID: String, targetCompID: String, qualifier: String = "") {
        self.senderCompID = senderCompID
        self.targetCompID = targetCompID
        self.qualifier = qualifier
    }

    public static func < (lhs: SimSessionKey, rhs: SimSessionKey) -> Bool {
        (lhs.senderCompID, lhs.targetCompID, lhs.qualifier) < (rhs.senderCompID, rhs.targetCompID, rhs.qualifier)
    }

    public var description: String {
        qualifier.isEmpty ? "\(senderCompID)->\(targetCompID)" : "\(senderCompID)->\(targetCompID):\(qualifier)"
    }
}

/// What the broker wants done. The session driver executes these in order.
public enum SimOutput: Sendable {
    /// Send an application message on a session. The builder holds the body (and MsgType); the
    /// session layer adds the header (34, 49, 52, 56) and trailer.
    case send(SimSessionKey, FIXMessageBuilder)

    /// The session the message goes to.
    public var session: SimSessionKey {
        switch self {
        case .send(let key, _): return key
        }
    }

    /// The message to send.
    public var message: FIXMessageBuilder {
        switch self {
        case .send(_, let builder): return builder
        }
    }
}

/// Order side. Sell short variants behave as sells but are reported back as received.
public enum SimSide: String, Sendable, Codable, CaseIterable {
    case buy = "1"
    case sell = "2"
    case sellShort = "5"
    case sellShortExempt = "6"

    /// +1 for buys, -1 for sells.
    public var sign: Int {
        switch self {
        case .buy: return 1
        case .sell, .sellShort, .sellShortExempt: return -1
        }
    }

    public var isBuy: Bool { sign > 0 }
}

/// Order types the simulator executes.
public enum SimOrdType: String, Sendable, Codable, CaseIterable {
    case market = "1"
    case limit = "2"
    case stop = "3"
    case stopLimit = "4"

    var hasLimitPrice: Bool {
        switch self {
        case .limit, .stopLimit: return true
        case .market, .stop: return false
        }
    }

    var hasStopPrice: Bool {
        switch self {
        case .stop, .stopLimit: return true
        case .market, .limit: return false
        }
    }
}

/// Time in force values the simulator honours.
public enum SimTimeInForce: String, Sendable, Codable, CaseIterable {
    case day = "0"
    case goodTillCancel = "1"
    case immediateOrCancel = "3"
    case fillOrKill = "4"

    /// IOC and FOK orders are decided once, at their first execution attempt.
    var isImmediate: Bool {
        switch self {
        case .immediateOrCancel, .fillOrKill: return true
        case .day, .goodTillCancel: return false
        }
    }
}

/// OrdStatus (39) values the simulator reports.
public enum SimOrdStatus: String, Sendable, Codable, CaseIterable {
    case new = "0"
    case partiallyFilled = "1"
    case filled = "2"
    case canceled = "4"
    case rejected = "8"
    case expired = "C"

    /// No more executions can happen.
    public var isTerminal: Bool {
        switch self {
        case .new, .partiallyFilled: return false
        case .filled, .canceled, .rejected, .expired: return true
        }
    }
}

/// ExecType (150) values the simulator sends.
public enum SimExecType: String, Sendable, Codable, CaseIterable {
    case new = "0"
    case canceled = "4"
    case replaced = "5"
    case rejected = "8"
    case expired = "C"
    case trade = "F"
    case orderStatus = "I"
}

/// OrdRejReason (103) values the simulator uses, one per reject rule.
public enum SimRejectReason: Int, Sendable, Codable, CaseIterable {
    /// Insufficient margin (FIX 4.4 "Broker credit").
    case brokerCredit = 0
    case unknownSymbol = 1
    /// `MaxOrderQty` exceeded.
    case orderExceedsLimit = 3
    case unknownOrder = 5
    case duplicateOrder = 6
    /// Unsupported OrdType, TimeInForce or Side.
    case unsupportedOrderCharacteristic = 11
    /// Zero or negative quantity.
    case incorrectQuantity = 13
    /// `RejectProbability`.
    case other = 99
}

/// Who entered an order: a FIX session, or a provider bot / operator trading an account directly.
public enum SimOrderOrigin: Hashable, Sendable, Codable, CustomStringConvertible {
    case session(SimSessionKey)
    case direct(account: String)

    public var description: String {
        switch self {
        case .session(let key): return "session \(key)"
        case .direct(let account): return "direct \(account)"
        }
    }
}

/// A best bid and offer.
public struct SimQuote: Sendable, Equatable, Codable {
    public var bid: FixedDecimal
    public var ask: FixedDecimal

    public init(bid: FixedDecimal, ask: FixedDecimal) {
        self.bid = bid
        self.ask = ask
    }

    /// The mid price, exact (one more digit than the quotes when needed).
    public var mid: FixedDecimal {
        (bid + ask).divided(by: 2, scale: Swift.max(bid.scale, ask.scale) + 1, .halfEven).normalized
    }
}
