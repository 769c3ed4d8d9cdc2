import FIXCore

/// Currencies: minor units, and how a symbol names its P&L currency.
public enum Currency {
    /// Digits after the decimal point of the currency's minor unit (ISO 4217); 2 for codes not listed.
    public static func minorUnits(_ code: String) -> Int {
        switch code.uppercased() {
        case "JPY", "KRW", "CLP", "ISK", "VND", "PYG", "UGX", "XAF", "XOF", "XPF", "RWF", "KMF", "GNF", "DJF",
            "BIF", "VUV":
            return 0
        case "BHD", "KWD", "JOD", "OMR", "TND", "IQD", "LYD":
            return 3
        default:
            return 2
        }
    }

    /// The quote currency of a currency-pair symbol (`EUR/USD`, `EURUSD` → `USD`); `nil` otherwise.
    public static func quoteCurrency(ofPair symbol: String) -> String? {
        guard let (_, quote) = pair(symbol) else { return nil }
        return quote
    }

    /// Base and quote of `AAA/BBB` or `AAABBB` (letters only).
    ///
    /// Byte by byte: the ledger resolves a currency for every fill it records, and through
    /// `uppercased()`, `contains("/")` and `split` this took tens of microseconds of the ledger
    /// thread per copy, on a machine whose other core runs the copy path.
    static func pair(_ symbol: String) -> (String, String)? {
        // The upper-case letters, one byte each from the lowest.
        var packed: UInt64 = 0
        var count = 0
        var slash = false
        for byte in symbol.utf8 {
            if byte == UInt8(ascii: "/") {
                // One slash, after the third letter.
                guard !slash, count == 3 else { return nil }
                slash = true
                continue
            }
            let upper = byte & ~0x20
            guard upper >= UInt8(ascii: "A"), upper <= UInt8(ascii: "Z"), count < 6 else { return nil }
            packed |= UInt64(upper) << (8 * count)
            count += 1
        }
        guard count == 6 else { return nil }
        func code(_ shift: Int) -> String {
            withUnsafeBytes(of: (packed >> shift).littleEndian) { String(decoding: $0.prefix(3), as: UTF8.self) }
        }
        return (code(0), code(24))
    }

    /// The key under which prices of a symbol are kept: upper case without `/`, so `USD/JPY` marks
    /// value `USDJPY` positions and convert JPY amounts alike.
    static func priceKey(_ symbol: String) -> String {
        symbol.uppercased().filter { $0 != "/" }
    }
}

/// The ledger's named rounding points. Every rounding the ledger does is one of these; nothing else
/// rounds (sums, differences and products of inputs are exact).
public enum LedgerRounding {
    /// Digits kept by internal quotients (currency conversion by division, commission shares,
    /// daily management accrual, returns and the TWR index). Half-even.
    public static let internalScale = 12

    /// R1, conversion: an amount converted between currencies, half-even at ``internalScale``.
    public static func conversion(_ value: FixedDecimal) -> FixedDecimal {
        value.rounded(scale: min(value.scale, internalScale), .halfEven)
    }

    /// R5, fee charge: a crystallised fee, half-even at the currency's minor unit.
    public static func feeCharge(_ value: FixedDecimal, currency: String) -> FixedDecimal {
        value.rounded(scale: Currency.minorUnits(currency), .halfEven)
    }

    /// R6, display: money in reports and statements, half-even at the currency's minor unit.
    public static func display(_ value: FixedDecimal, currency: String) -> FixedDecimal {
        value.rounded(scale: Currency.minorUnits(currency), .halfEven)
    }

    /// `numerator / denominator` at ``internalScale``, half-even (R2 commission shares, R3 management
    /// accrual, R4 returns).
    static func quotient(_ numerator: FixedDecimal, _ denominator: FixedDecimal) -> FixedDecimal {
        numerator.normalized.divided(by: denominator.normalized, scale: internalScale, .halfEven)
    }

    /// A product kept exact where it fits; beyond ``FixedDecimal/maximumScale`` it rounds half-even
    /// there (which is far below any minor unit).
    static func product(_ a: FixedDecimal, _ b: FixedDecimal) -> FixedDecimal {
        (a.normalized * b.normalized).normalized
    }
}

/// Every price the ledger knows for a symbol over time: marks and fill prices.
///
/// The price of a symbol at an instant is the most recent observation at (or strictly before, for
/// valuations) that instant, marks and fills of every account alike; a mark wins a tie with a fill at
/// the same instant. A stale mark must not beat a fresher fill, which is why it is not "marks first".
public struct PriceHistory: Sendable {
    struct Point: Sendable {
        var time: Int64
        var isMark: Bool
        var sequence: Int
        var price: FixedDecimal
    }

    private var series: [String: [Point]] = [:]

    public init() {}

    /// Builds the history from marks and fills in any order.
    public init(marks: [Mark], fills: [(symbol: String, price: FixedDecimal, time: UTCTimestamp)]) {
        var sequence = 0
        for fill in fills {
            series[Currency.priceKey(fill.symbol), default: []].append(
                Point(time: fill.time.nanosecondsSinceEpoch, isMark: false, sequence: sequence, price: fill.price))
            sequence += 1
        }
        for mark in marks {
            series[Currency.priceKey(mark.symbol), default: []].append(
                Point(time: mark.time.nanosecondsSinceEpoch, isMark: true, sequence: sequence, price: mark.price))
            sequence += 1
        }
        for key in series.keys {
            series[key]!.sort { a, b in
                if a.time != b.time { return a.time < b.time }
                if a.isMark != b.isMark { return !a.isMark }
                return a.sequence < b.sequence
            }
        }
    }

    /// The latest observation at or before `time` (`inclusive`) or strictly before it.
    func observation(_ symbol: String, at time: UTCTimestamp, inclusive: Bool) -> Point? {
        observation(key: Currency.priceKey(symbol), at: time, inclusive: inclusive)
    }

    private func observation(key: String, at time: UTCTimestamp, inclusive: Bool) -> Point? {
        guard let points = series[key] else { return nil }
        let t = time.nanosecondsSinceEpoch
        // First index whose time is beyond the cut-off.
        var low = 0
        var high = points.count
        while low < high {
            let mid = (low + high) / 2
            let beyond = inclusive ? points[mid].time > t : points[mid].time >= t
            if beyond { high = mid } else { low = mid + 1 }
        }
        return low == 0 ? nil : points[low - 1]
    }

    /// The price of `symbol` at `time` (see the type's rule); `nil` if none was ever seen by then.
    public func price(_ symbol: String, at time: UTCTimestamp, inclusive: Bool = true) -> FixedDecimal? {
        observation(symbol, at: time, inclusive: inclusive)?.price
    }

    /// Converts `amount` of currency `from` into `to` at `time`.
    ///
    /// The rate is the price of the pair quoted either way (`TO/FROM`: divide; `FROM/TO`: multiply),
    /// whichever was observed most recently, the `TO/FROM` quote on a tie. No cross rates: a pair
    /// with no price at all is ``LedgerError/missingConversionRate(from:to:at:)``. Rounded at R1.
    public func convert(
        _ amount: FixedDecimal, from: String, to: String, at time: UTCTimestamp, inclusive: Bool = true
    ) throws -> FixedDecimal {
        if from == to || amount.isZero { return amount }
        let divide = observation(key: to.uppercased() + from.uppercased(), at: time, inclusive: inclusive)
        let multiply = observation(key: from.uppercased() + to.uppercased(), at: time, inclusive: inclusive)
        switch (divide, multiply) {
        case (nil, nil):
            throw LedgerError.missingConversionRate(from: from, to: to, at: time)
        case (let d?, nil):
            return amount.normalized.divided(by: d.price.normalized, scale: LedgerRounding.internalScale, .halfEven)
        case (nil, let m?):
            return LedgerRounding.conversion(LedgerRounding.product(amount, m.price))
        case (let d?, let m?):
            if m.time > d.time {
                return LedgerRounding.conversion(LedgerRounding.product(amount, m.price))
            }
            return amount.normalized.divided(by: d.price.normalized, scale: LedgerRounding.internalScale, .halfEven)
        }
    }
}
