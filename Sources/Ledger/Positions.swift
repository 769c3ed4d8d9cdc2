import FIXCore

/// An open lot: what is left of one fill's opening quantity.
public struct Lot: Sendable, Hashable {
    /// Remaining units, positive.
    public var quantity: FixedDecimal
    public var price: FixedDecimal
    public var openedAt: UTCTimestamp
}

/// One symbol's open position in first-in-first-out lots.
///
/// A fill against the position closes the oldest lots first and realises `quantity × (close price −
/// open price)` on each (negated for shorts); what is left of the fill after the position is flat
/// opens a new lot the other way (a reversal is a close plus an open).
public struct FIFOBook: Sendable {
    /// +1 long, -1 short, 0 flat.
    public private(set) var direction = 0
    /// Signed units.
    public private(set) var position = FixedDecimal.zero
    private var lots: [Lot] = []
    private var head = 0

    public init() {}

    /// The open lots, oldest first.
    public var openLots: ArraySlice<Lot> { lots[head...] }

    /// What one fill did to the book.
    public struct Effect: Sendable, Hashable {
        /// Units that closed existing lots.
        public var closedQuantity = FixedDecimal.zero
        /// Units that opened a new lot.
        public var openedQuantity = FixedDecimal.zero
        /// Realised P&L in the symbol's P&L currency (exact).
        public var realised = FixedDecimal.zero
        /// The closing part left the book flat (a round trip ended).
        public var flattened = false
    }

    /// Applies a fill of `quantity` (> 0) units at `price`.
    public mutating func apply(side: Side, quantity: FixedDecimal, price: FixedDecimal, time: UTCTimestamp) -> Effect {
        precondition(quantity.isPositive, "fill quantity must be positive")
        var effect = Effect()
        var remaining = quantity
        if direction != 0 && side.sign != direction {
            let sign = FixedDecimal(direction)
            while remaining.isPositive && head < lots.count {
                var lot = lots[head]
                let closed = FixedDecimal.min(remaining, lot.quantity)
                effect.realised += closed * (price - lot.price) * sign
                lot.quantity -= closed
                remaining -= closed
                if lot.quantity.isZero { head += 1 } else { lots[head] = lot }
            }
            effect.closedQuantity = quantity - remaining
            if head == lots.count {
                lots.removeAll(keepingCapacity: true)
                head = 0
                direction = 0
                effect.flattened = true
            } else if head > 32 && head * 2 > lots.count {
                lots.removeFirst(head)
                head = 0
            }
        }
        if remaining.isPositive {
            if direction == 0 { direction = side.sign }
            lots.append(Lot(quantity: remaining, price: price, openedAt: time))
            effect.openedQuantity = remaining
        }
        position += side.signedOne * quantity
        return effect
    }

    /// Unrealised P&L at `price`, in the P&L currency (exact).
    public func unrealised(at price: FixedDecimal) -> FixedDecimal {
        var total = FixedDecimal.zero
        for lot in openLots { total += lot.quantity * (price - lot.price) }
        return total * FixedDecimal(direction)
    }

    /// The quantity-weighted open price of the lots (R4 quotient); `nil` when flat.
    public var averageOpenPrice: FixedDecimal? {
        guard direction != 0 else { return nil }
        var quantity = FixedDecimal.zero
        var cost = FixedDecimal.zero
        for lot in openLots {
            quantity += lot.quantity
            cost += lot.quantity * lot.price
        }
        return LedgerRounding.quotient(cost, quantity).normalized
    }
}

/// A position from flat back to flat (or through zero, for a reversal) in one symbol.
public struct RoundTrip: Sendable, Hashable {
    public var symbol: String
    public var openedAt: UTCTimestamp
    public var closedAt: UTCTimestamp
    /// Realised P&L in the account currency.
    public var realised: FixedDecimal
    /// Commissions of its fills in the account currency (a fill that closes one trip and opens the
    /// next shares its commission by quantity, R2).
    public var commission: FixedDecimal
    /// Realised less commissions: a win when positive, a loss when negative.
    public var net: FixedDecimal { realised - commission }
}

/// A fill as the books see it: provider and follower fills alike, currency resolved.
public struct BookFill: Sendable, Hashable {
    public var fillID: String
    public var account: AccountRef
    public var symbol: String
    public var side: Side
    public var quantity: FixedDecimal
    public var price: FixedDecimal
    /// The P&L currency.
    public var currency: String
    /// In the account currency.
    public var commission: FixedDecimal
    public var time: UTCTimestamp
    public var attribution: Attribution
}

/// The running figures of one symbol in one book.
public struct SymbolPosition: Sendable {
    public var symbol: String
    /// The P&L (quote) currency.
    public var currency: String
    public var book = FIFOBook()
    /// Realised P&L converted into the account currency, fill by fill (R1 at each fill's time).
    public var realised = FixedDecimal.zero
    public var commission = FixedDecimal.zero
    public var fills = 0
    var openTrip: (openedAt: UTCTimestamp, realised: FixedDecimal, commission: FixedDecimal)?
}

/// Positions, realised P&L, commissions and round trips of one account, or of the part of one
/// account copied from one provider.
public struct PositionBook: Sendable {
    public let accountCurrency: String
    /// Keyed by ``Currency/priceKey(_:)``.
    public private(set) var symbols: [String: SymbolPosition] = [:]
    public private(set) var realised = FixedDecimal.zero
    public private(set) var commission = FixedDecimal.zero
    /// Traded notional in the account currency (R1 at each fill's time).
    public private(set) var notional = FixedDecimal.zero
    /// The first fill whose notional could not be converted (no rate at its time). Only the volume
    /// fee needs notional, so positions and P&L carry on and the fee engine reports this.
    public private(set) var notionalGap: LedgerError?
    public private(set) var roundTrips: [RoundTrip] = []

    public init(accountCurrency: String) {
        self.accountCurrency = accountCurrency
    }

    /// Books a fill. `toAccount` converts an amount in the fill's P&L currency into the account
    /// currency at the fill's time; when it throws, the book is unchanged.
    @discardableResult
    mutating func apply(
        _ fill: BookFill, toAccount: (FixedDecimal) throws -> FixedDecimal
    ) throws -> FIFOBook.Effect {
        let pending = try prepare(fill, toAccount: toAccount)
        commit(pending)
        return pending.effect
    }

    /// A fill worked out against a book and not yet booked in it: ``apply(_:toAccount:)`` in two
    /// steps, so that one fill goes into several books or, when one of them cannot take it, none.
    struct PendingFill {
        fileprivate let key: String
        /// The fill's symbol after it.
        fileprivate let state: SymbolPosition
        let effect: FIFOBook.Effect
        fileprivate let realised: FixedDecimal
        fileprivate let commission: FixedDecimal
        fileprivate let notional: FixedDecimal
        fileprivate let notionalGap: LedgerError?
        fileprivate let roundTrip: RoundTrip?
    }

    /// Works `fill` out against the book without changing it; throws what `toAccount` throws.
    func prepare(_ fill: BookFill, toAccount: (FixedDecimal) throws -> FixedDecimal) throws -> PendingFill {
        let key = Currency.priceKey(fill.symbol)
        var state = symbols[key] ?? SymbolPosition(symbol: fill.symbol, currency: fill.currency)
        let effect = state.book.apply(side: fill.side, quantity: fill.quantity, price: fill.price, time: fill.time)
        let realisedInAccount = try toAccount(effect.realised)
        var notionalInAccount = FixedDecimal.zero
        var gap: LedgerError?
        do {
            notionalInAccount = try toAccount(fill.quantity * fill.price)
        } catch let error as LedgerError {
            gap = error
        }
        state.realised += realisedInAccount
        state.commission += fill.commission
        state.fills += 1

        let closingCommission: FixedDecimal
        if effect.openedQuantity.isZero {
            closingCommission = fill.commission
        } else if effect.closedQuantity.isZero {
            closingCommission = .zero
        } else {
            closingCommission = LedgerRounding.quotient(fill.commission * effect.closedQuantity, fill.quantity)
        }
        var roundTrip: RoundTrip?
        if effect.closedQuantity.isPositive {
            guard var trip = state.openTrip else {
                preconditionFailure("closing fill \(fill.fillID) with no open round trip")
            }
            trip.realised += realisedInAccount
            trip.commission += closingCommission
            state.openTrip = trip
            if effect.flattened {
                roundTrip = RoundTrip(
                    symbol: state.symbol, openedAt: trip.openedAt, closedAt: fill.time, realised: trip.realised,
                    commission: trip.commission)
                state.openTrip = nil
            }
        }
        if effect.openedQuantity.isPositive {
            let openingCommission = fill.commission - closingCommission
            if var trip = state.openTrip {
                trip.commission += openingCommission
                state.openTrip = trip
            } else {
                state.openTrip = (fill.time, .zero, openingCommission)
            }
        }
        return PendingFill(
            key: key, state: state, effect: effect, realised: realisedInAccount, commission: fill.commission,
            notional: notionalInAccount, notionalGap: gap, roundTrip: roundTrip)
    }

    /// Books a fill that ``prepare(_:toAccount:)`` worked out against this book as it still is.
    mutating func commit(_ pending: PendingFill) {
        symbols[pending.key] = pending.state
        realised += pending.realised
        commission += pending.commission
        notional += pending.notional
        if notionalGap == nil { notionalGap = pending.notionalGap }
        if let trip = pending.roundTrip { roundTrips.append(trip) }
    }
}
