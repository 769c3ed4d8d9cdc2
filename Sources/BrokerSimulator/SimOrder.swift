import FIXCore

/// An order as a client asks for it: from a NewOrderSingle, a bot, or a test driving the broker.
public struct SimOrderRequest: Sendable, Equatable {
    public var clOrdID: String
    public var account: String
    public var symbol: String
    public var side: SimSide
    public var quantity: FixedDecimal
    public var ordType: SimOrdType
    /// Limit price (limit and stop-limit orders).
    public var price: FixedDecimal?
    /// Trigger price (stop and stop-limit orders).
    public var stopPx: FixedDecimal?
    public var timeInForce: SimTimeInForce

    public init(
        clOrdID: String, account: String, symbol: String, side: SimSide, quantity: FixedDecimal,
        ordType: SimOrdType = .market, price: FixedDecimal? = nil, stopPx: FixedDecimal? = nil,
        timeInForce: SimTimeInForce = .day
    ) {
        self.clOrdID = clOrdID
        self.account = account
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.ordType = ordType
        self.price = price
        self.stopPx = stopPx
        self.timeInForce = timeInForce
    }
}

/// An order on the simulated broker's book.
public struct SimOrder: Sendable {
    public let orderID: String
    /// The latest ClOrdID (it changes with each cancel/replace).
    public internal(set) var clOrdID: String
    public let origin: SimOrderOrigin
    public let account: String
    public let symbol: String
    public let side: SimSide
    public internal(set) var ordType: SimOrdType
    public internal(set) var price: FixedDecimal?
    public internal(set) var stopPx: FixedDecimal?
    public internal(set) var timeInForce: SimTimeInForce
    public internal(set) var orderQty: FixedDecimal
    public internal(set) var cumQty: FixedDecimal = .zero
    /// Σ LastQty × LastPx, for AvgPx.
    public internal(set) var notional: FixedDecimal = .zero
    public internal(set) var status: SimOrdStatus = .new
    /// Why the order was rejected, cancelled by the broker or expired.
    public internal(set) var text: String?
    public internal(set) var rejectReason: SimRejectReason?
    public let createdAt: UTCTimestamp
    public internal(set) var updatedAt: UTCTimestamp

    /// A stop order whose trigger has been touched.
    var triggered = false
    /// Bumped when a replace or cancel invalidates scheduled execution attempts.
    var generation = 0
    /// An execution attempt is scheduled.
    var executionPending = false
    /// Fill slices still to come once slicing has been decided; `nil` before the first attempt.
    var slicesRemaining: Int?
    let fillModel: SimFillModel

    init(
        orderID: String, request: SimOrderRequest, origin: SimOrderOrigin, fillModel: SimFillModel,
        at time: UTCTimestamp
    ) {
        self.orderID = orderID
        self.clOrdID = request.clOrdID
        self.origin = origin
        self.account = request.account
        self.symbol = request.symbol
        self.side = request.side
        self.ordType = request.ordType
        self.price = request.price
        self.stopPx = request.stopPx
        self.timeInForce = request.timeInForce
        self.orderQty = request.quantity
        self.fillModel = fillModel
        self.createdAt = time
        self.updatedAt = time
    }

    public var leavesQty: FixedDecimal { status.isTerminal ? .zero : orderQty - cumQty }

    public var isLive: Bool { !status.isTerminal }

    /// Average fill price (0 before the first fill).
    public var avgPx: FixedDecimal {
        cumQty.isZero ? .zero : notional.divided(by: cumQty, scale: 10, .halfEven).normalized
    }
}

/// A net position of one account in one symbol.
public struct SimPosition: Sendable, Equatable {
    public let account: String
    public let symbol: String
    /// Signed: positive long, negative short.
    public internal(set) var quantity: FixedDecimal = .zero
    /// Average open price of `quantity` (0 when flat).
    public internal(set) var averagePrice: FixedDecimal = .zero
    /// Closed P&L in the symbol's quote currency.
    public internal(set) var realizedPnL: FixedDecimal = .zero

    init(account: String, symbol: String) {
        self.account = account
        self.symbol = symbol
    }

    /// Books a fill: extends or reduces the position, realising P&L on the part that closes.
    mutating func apply(side: SimSide, quantity fillQty: FixedDecimal, price: FixedDecimal) {
        let signed = side.isBuy ? fillQty : -fillQty
        if quantity.isZero || quantity.signum == signed.signum {
            let open = quantity.magnitude
            averagePrice =
                (open * averagePrice + fillQty * price).divided(
                    by: open + fillQty, scale: 10, .halfEven
                ).normalized
            quantity += signed
            return
        }
        let closing = FixedDecimal.min(quantity.magnitude, fillQty)
        let direction: FixedDecimal = quantity.isPositive ? 1 : -1
        realizedPnL += closing * (price - averagePrice) * direction
        quantity += signed
        if quantity.isZero {
            averagePrice = .zero
        } else if quantity.signum == signed.signum {
            averagePrice = price  // flipped: the remainder opened at this fill's price
        }
    }
}

/// One execution.
public struct SimFill: Sendable, Equatable {
    public let execID: String
    public let orderID: String
    public let clOrdID: String
    public let account: String
    public let symbol: String
    public let side: SimSide
    public let quantity: FixedDecimal
    public let price: FixedDecimal
    public let time: UTCTimestamp
}
