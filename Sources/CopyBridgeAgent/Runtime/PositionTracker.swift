import FIXCore

/// A running position in one symbol at average cost, with realized P&L in the quote currency.
///
/// The agent's own view for the summary and the dashboard; the ledger keeps the books of record
/// (FIFO, fees, conversions).
struct PositionTracker: Sendable, Equatable {
    /// Signed units.
    private(set) var quantity: FixedDecimal = .zero
    /// Average price of the open quantity; `nil` when flat.
    private(set) var averagePrice: FixedDecimal?
    /// In the symbol's quote currency.
    private(set) var realized: FixedDecimal = .zero
    private(set) var fills = 0

    /// Books a fill of `units` (negative: a bust, undone at the same price) bought (`sign` 1) or sold (-1).
    mutating func apply(sign: Int, units: FixedDecimal, price: FixedDecimal) {
        guard !units.isZero else { return }
        fills += 1
        let signed = units * FixedDecimal(sign)
        let old = quantity
        let new = old + signed
        if old.isZero || old.signum == signed.signum {
            let total = old.magnitude + signed.magnitude
            let cost = old.magnitude * (averagePrice ?? price) + signed.magnitude * price
            averagePrice = cost.divided(by: total, scale: 10, .halfEven).normalized
        } else {
            let closed = FixedDecimal.min(old.magnitude, signed.magnitude)
            realized += closed * (price - averagePrice!) * FixedDecimal(old.signum)
            if new.isZero {
                averagePrice = nil
            } else if new.signum != old.signum {
                averagePrice = price
            }
        }
        quantity = new
    }

    /// The P&L of the open quantity at `mark`, in the quote currency.
    func unrealized(at mark: FixedDecimal) -> FixedDecimal {
        guard let averagePrice, !quantity.isZero else { return .zero }
        return quantity * (mark - averagePrice)
    }
}

/// Currency conversion from the marks the agent has: enough to add up P&L in one currency.
enum MarkConversion {
    /// The quote currency of a canonical symbol (`USD/JPY` → `JPY`), when it names one.
    static func quoteCurrency(of symbol: String) -> String? {
        let parts = symbol.split(separator: "/")
        guard parts.count == 2, parts[1].count == 3 else { return nil }
        return String(parts[1]).uppercased()
    }

    /// `amount` in `currency` converted to `target` with the mid of `TARGET/CURRENCY` or
    /// `CURRENCY/TARGET`; `nil` without such a mark.
    static func convert(
        _ amount: FixedDecimal, from currency: String, to target: String, mids: [String: FixedDecimal]
    ) -> FixedDecimal? {
        if currency == target { return amount }
        if let mid = mids["\(target)/\(currency)"], mid.isPositive {
            return amount.divided(by: mid, scale: 10, .halfEven)
        }
        if let mid = mids["\(currency)/\(target)"] { return amount * mid }
        return nil
    }
}
