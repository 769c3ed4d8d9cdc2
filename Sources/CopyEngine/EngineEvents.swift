import FIXCore

/// Nanoseconds since the Unix epoch. Every event carries the time it happened; the engine has no clock.
public typealias EngineTime = Int64

/// Everything a copy decision depends on.
public enum EngineEvent: Sendable {
    /// An ExecutionReport (35=8) received on `session`.
    case executionReport(session: String, message: FIXMessage, receivedAt: EngineTime)
    /// A PositionReport (35=AP) or RequestForPositionsAck (35=AO) received on `session`.
    case positionReport(session: String, message: FIXMessage, receivedAt: EngineTime)
    /// An OrderCancelReject (35=9) received on `session`: the broker refused a cancel.
    case orderCancelReject(session: String, message: FIXMessage, receivedAt: EngineTime)
    /// The session is logged on and can carry orders.
    case sessionUp(session: String, at: EngineTime)
    /// The session is logged out or disconnected. `planned`: the agent is stopping (or logging
    /// out on purpose), which is not an outage: `SessionDownBreaker` does not trip.
    case sessionDown(session: String, at: EngineTime, planned: Bool = false)
    /// The current market for a canonical symbol (either side may be missing).
    case mark(symbol: String, bid: FixedDecimal?, ask: FixedDecimal?, at: EngineTime)
    /// Time passes: retries and settlement deadlines fire. Drive it every 10–100 ms.
    case tick(at: EngineTime)
    /// An operator's instruction: who gave it (`ctl:alice@10.0.0.5`) and why, for the journal.
    case command(OperatorCommand, at: EngineTime, actor: String = "", reason: String? = nil)
    /// A restart begins: the journal follows as `.replay` events.
    case recoveryBegin(at: EngineTime)
    /// One journal record, in journal order. The actions returned describe what the original
    /// run decided (for audits); a driver executes none of them.
    case replay(JournalRecord)
    /// The journal is replayed. Every session now counts as down until its next `.sessionUp`;
    /// then it is settled (order status, then positions) before anything new is sent on it.
    case recoveryComplete(at: EngineTime)
}

/// An operator's instruction.
public enum OperatorCommand: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Stop taking new exposure for a follower (reductions are still tracked, nothing is sent).
    case pauseFollower(String)
    /// Bring a paused, degraded or flattened follower back; missed positions follow his CatchUp
    /// mode. Tripped breakers stay tripped (`resetBreaker`).
    case resumeFollower(String)
    /// The equity of a provider or follower (by ID), as read from the broker.
    case setEquity(id: String, equity: FixedDecimal)
    /// Stop copying a provider's increases at once for every follower (her reductions are still
    /// copied); with `flatten`, also close every follower's copies of her positions.
    case disableProvider(String, flatten: Bool)
    /// Copy a disabled provider again; positions she holds follow each follower's CatchUp mode.
    case enableProvider(String)
    /// Close every copied position of a follower and take no new exposure until he is resumed.
    case flattenFollower(String)
    /// Re-arm a tripped breaker, by name (`follower:bob:daily-loss`) or every tripped breaker of a
    /// follower, provider or session (`bob`). Loss breakers start counting again from now.
    case resetBreaker(String)
    /// Ask every broker again for the status of open orders and for positions, and reconcile.
    case resync

    /// As an operator would type it.
    public var description: String {
        switch self {
        case .pauseFollower(let id): return "pause \(id)"
        case .resumeFollower(let id): return "resume \(id)"
        case .setEquity(let id, let equity): return "set-equity \(id) \(equity)"
        case .disableProvider(let id, let flatten): return "disable \(id)" + (flatten ? " flatten" : "")
        case .enableProvider(let id): return "enable \(id)"
        case .flattenFollower(let id): return "flatten \(id)"
        case .resetBreaker(let name): return "reset-breaker \(name)"
        case .resync: return "resync"
        }
    }
}

/// What the engine decided.
///
/// Journal records come before the sends they cover: a driver persists every `.journal` that
/// precedes a `.send` before it writes that send to the wire.
public enum EngineAction: Sendable {
    case journal(JournalRecord)
    /// A message for the session layer, which adds the header (8, 9, 34, 49, 52, 56) and trailer.
    case send(session: String, message: FIXMessageBuilder)
    // The three largest payloads are boxed: every action takes the size of the largest one, and
    // a copy to a thousand followers is two thousand journal records and sends.
    indirect case decision(CopyDecision)
    case followerStateChanged(followerID: String, status: FollowerStatus)
    /// A fill in a follower's account: a copy, or one he made himself (`isCopy == false`).
    indirect case fill(FollowerFill)
    case sessionPhaseChanged(session: String, phase: SessionPhase)
    /// A breaker tripped or was reset, or suspicious activity was seen: log it, journal it in the
    /// audit trail and count it in metrics. (The breaker's state itself is in a `.breaker` record.)
    indirect case alert(RiskAlert)
}

/// A risk event for the operator.
public struct RiskAlert: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable {
        case tripped
        case reset
        /// Seen, but only reported (`SuspiciousAction=alert`).
        case warning
    }

    public var kind: Kind
    /// The breaker concerned (`provider:alice:suspicious`).
    public var breaker: String
    public var reason: ReasonCode
    /// One sentence for the log.
    public var message: String
    public var at: EngineTime

    public init(kind: Kind, breaker: String, reason: ReasonCode, message: String, at: EngineTime) {
        self.kind = kind
        self.breaker = breaker
        self.reason = reason
        self.message = message
        self.at = at
    }
}

/// A breaker's state change, as the journal keeps it: replay restores it, so a restart never
/// re-arms a tripped breaker (not even when the configuration no longer trips it).
public struct BreakerRecord: Sendable, Equatable, Codable {
    /// `follower:bob:daily-loss`, `provider:alice:suspicious`, `broker:beta`, ...
    public var name: String
    public var tripped: Bool
    /// Why it tripped (for a reset: why it had tripped, or `breaker-reset`).
    public var reason: ReasonCode
    /// The figures: `loss=512.5 bound=500`.
    public var detail: String
    public var at: EngineTime

    public init(name: String, tripped: Bool, reason: ReasonCode, detail: String, at: EngineTime) {
        self.name = name
        self.tripped = tripped
        self.reason = reason
        self.detail = detail
        self.at = at
    }
}

/// A skip, clamp, retry, degradation or reconciliation, with a machine-readable reason.
public struct CopyDecision: Sendable, Equatable, Codable {
    public var reason: ReasonCode
    public var followerID: String?
    public var providerID: String?
    /// Canonical symbol.
    public var symbol: String?
    /// The provider ExecID (or synthetic signal) behind it.
    public var signal: String?
    public var clOrdID: String?
    /// The quantity concerned (units), when there is one.
    public var quantity: FixedDecimal?
    /// Free text: the broker's reason, the clamp's bounds, …
    public var detail: String?

    public init(
        reason: ReasonCode, followerID: String? = nil, providerID: String? = nil, symbol: String? = nil,
        signal: String? = nil, clOrdID: String? = nil, quantity: FixedDecimal? = nil, detail: String? = nil
    ) {
        self.reason = reason
        self.followerID = followerID
        self.providerID = providerID
        self.symbol = symbol
        self.signal = signal
        self.clOrdID = clOrdID
        self.quantity = quantity
        self.detail = detail
    }
}

/// Whether a follower receives orders.
public enum FollowerStatus: Sendable, Equatable, Codable {
    case active
    case paused
    /// No orders until an operator resumes him; `detail` holds the broker's reason.
    case degraded(reason: ReasonCode, detail: String)
}

/// Where a session is in its recovery.
public enum SessionPhase: String, Sendable, Equatable, Codable {
    /// Orders flow.
    case live
    /// After a restart: waiting for the session to come up to settle.
    case recovering
    /// OrderStatusRequests are out for orders of unknown outcome.
    case settlingOrders = "settling-orders"
    /// RequestForPositions are out.
    case settlingPositions = "settling-positions"
}

/// Buy or sell.
public enum OrderSide: String, Sendable, Equatable, Codable {
    case buy
    case sell

    /// Side (54).
    public var fixValue: Character {
        switch self {
        case .buy: return "1"
        case .sell: return "2"
        }
    }

    /// Side (54) as text.
    public var fixString: String {
        switch self {
        case .buy: return "1"
        case .sell: return "2"
        }
    }

    /// +1 for buy, -1 for sell.
    public var sign: Int {
        switch self {
        case .buy: return 1
        case .sell: return -1
        }
    }
}

/// A fill in a follower's account, for the ledger.
public struct FollowerFill: Sendable, Equatable, Codable {
    public var followerID: String
    public var session: String
    public var account: String
    /// Canonical symbol.
    public var symbol: String
    public var side: OrderSide
    /// Units; negative for a busted fill.
    public var quantity: FixedDecimal
    public var price: FixedDecimal?
    /// Our order, or nil for a fill the follower made himself.
    public var clOrdID: String?
    public var execID: String
    public var isCopy: Bool
    public var at: EngineTime
}

// MARK: - Journal

/// A record of the engine's journal. Replaying the records in order into a fresh engine with the
/// same configuration reproduces its state and decisions.
public enum JournalRecord: Sendable, Equatable, Codable {
    /// An ExecutionReport, PositionReport or RequestForPositionsAck, as received.
    case message(session: String, bytes: JournalBytes, receivedAt: EngineTime)
    case sessionUp(session: String, at: EngineTime)
    case sessionDown(session: String, at: EngineTime, planned: Bool = false)
    /// A mark the engine's decisions read.
    case mark(MarkSnapshot)
    case tick(at: EngineTime)
    /// An operator's command, with who gave it and why.
    case command(OperatorCommand, at: EngineTime, actor: String = "", reason: String? = nil)
    case recoveryComplete(at: EngineTime)
    /// A breaker tripped or was reset (after the record of the event that caused it).
    case breaker(BreakerRecord)
    /// An order about to be sent. It is durable before the send; after a restart, an order with
    /// this record and no final state is settled with the broker.
    case order(OrderIntent)
}

/// A mark at a moment.
public struct MarkSnapshot: Sendable, Equatable, Codable {
    public var symbol: String
    public var bid: FixedDecimal?
    public var ask: FixedDecimal?
    public var at: EngineTime

    public init(symbol: String, bid: FixedDecimal?, ask: FixedDecimal?, at: EngineTime) {
        self.symbol = symbol
        self.bid = bid
        self.ask = ask
        self.at = at
    }
}

/// What an order is for: the journal's record of a NewOrderSingle.
///
/// Immutable and shared: the order book, the journal record and the audit trail hold the same
/// instance, so passing it around costs a reference count, not a copy of a dozen fields.
public final class OrderIntent: Sendable, Equatable, Codable, CustomStringConvertible {
    /// One follower's part of the order.
    public struct Allocation: Sendable, Equatable, Codable {
        public let followerID: String
        public let account: String
        /// Units.
        public let quantity: FixedDecimal
        /// In the session's unit.
        public let brokerQuantity: FixedDecimal

        public init(followerID: String, account: String, quantity: FixedDecimal, brokerQuantity: FixedDecimal) {
            self.followerID = followerID
            self.account = account
            self.quantity = quantity
            self.brokerQuantity = brokerQuantity
        }
    }

    public let clOrdID: String
    public let session: String
    /// Canonical symbol.
    public let symbol: String
    public let brokerSymbol: String
    public let side: OrderSide
    /// Units.
    public let quantity: FixedDecimal
    /// In the session's unit, as sent in OrderQty (38).
    public let brokerQuantity: FixedDecimal
    public let ordType: CopyOrderType
    public let timeInForce: CopyTimeInForce
    public let price: FixedDecimal?
    /// Account (1) of the order, if any.
    public let account: String?
    /// One entry per follower (several in block mode).
    public let allocations: [Allocation]
    /// The provider ExecID or synthetic signal the order serves.
    public let signal: String
    public let attempt: Int
    public let block: Bool
    public let createdAt: EngineTime

    public init(
        clOrdID: String, session: String, symbol: String, brokerSymbol: String, side: OrderSide, quantity: FixedDecimal,
        brokerQuantity: FixedDecimal, ordType: CopyOrderType, timeInForce: CopyTimeInForce, price: FixedDecimal?,
        account: String?, allocations: [Allocation], signal: String, attempt: Int, block: Bool, createdAt: EngineTime
    ) {
        self.clOrdID = clOrdID
        self.session = session
        self.symbol = symbol
        self.brokerSymbol = brokerSymbol
        self.side = side
        self.quantity = quantity
        self.brokerQuantity = brokerQuantity
        self.ordType = ordType
        self.timeInForce = timeInForce
        self.price = price
        self.account = account
        self.allocations = allocations
        self.signal = signal
        self.attempt = attempt
        self.block = block
        self.createdAt = createdAt
    }

    public static func == (lhs: OrderIntent, rhs: OrderIntent) -> Bool {
        lhs === rhs
            || (lhs.clOrdID == rhs.clOrdID && lhs.session == rhs.session && lhs.symbol == rhs.symbol
                && lhs.brokerSymbol == rhs.brokerSymbol && lhs.side == rhs.side && lhs.quantity == rhs.quantity
                && lhs.brokerQuantity == rhs.brokerQuantity && lhs.ordType == rhs.ordType
                && lhs.timeInForce == rhs.timeInForce && lhs.price == rhs.price && lhs.account == rhs.account
                && lhs.allocations == rhs.allocations && lhs.signal == rhs.signal && lhs.attempt == rhs.attempt
                && lhs.block == rhs.block && lhs.createdAt == rhs.createdAt)
    }

    public var description: String {
        "\(clOrdID) \(session) \(side.rawValue) \(brokerQuantity) \(brokerSymbol) for \(allocations.map(\.followerID))"
    }
}

/// Bytes kept in the journal (base64 in JSON and other text encodings).
public struct JournalBytes: Sendable, Equatable, Codable {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let b = Base64.decode(text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not base64")
        }
        bytes = b
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(Base64.encode(bytes))
    }
}

/// Standard base64 (RFC 4648) with padding; the engine keeps clear of Foundation.
enum Base64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(v >> 18)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)])
            out.append(alphabet[Int(v & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let v = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(v >> 18)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        } else if rest == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(v >> 18)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)])
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            var v: UInt32 = 0
            var pad = 0
            for k in 0..<4 {
                let c = chars[i + k]
                if c == UInt8(ascii: "=") {
                    guard i + 4 == chars.count, k >= 2 else { return nil }
                    pad += 1
                    v <<= 6
                } else {
                    guard pad == 0 else { return nil }
                    let d = table[Int(c)]
                    guard d >= 0 else { return nil }
                    v = v << 6 | UInt32(d)
                }
            }
            out.append(UInt8(v >> 16 & 0xFF))
            if pad < 2 { out.append(UInt8(v >> 8 & 0xFF)) }
            if pad < 1 { out.append(UInt8(v & 0xFF)) }
            i += 4
        }
        return out
    }
}
