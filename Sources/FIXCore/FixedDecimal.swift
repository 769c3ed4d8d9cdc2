/// An exact decimal number: `mantissa × 10^-scale`.
///
/// Quantities, prices, amounts, P&L and fees use this type, never `Double`: binary floating point
/// cannot hold `0.1` exactly, and a ledger that drifts by a fraction of a cent is a ledger nobody
/// trusts. The scale is kept as written (`1.50` has scale 2 and prints as `1.50`), while equality,
/// ordering and hashing compare values (`1.50 == 1.5`).
///
/// The mantissa is 128 bits wide, so products of prices, quantities and ratios stay exact: 38
/// significant digits, with at most ``maximumScale`` of them after the decimal point. Arithmetic
/// that would overflow traps, like integer arithmetic; rounding only ever happens through the
/// named `rounded` and `divided` operations.
public struct FixedDecimal: Sendable {
    /// The unscaled value.
    public let mantissa: Int128
    /// Digits after the decimal point.
    public let scale: Int

    /// The largest scale any value carries; exact products are rounded (half-even) to it.
    public static let maximumScale = 18

    /// Creates `mantissa × 10^-scale`.
    @inlinable
    public init(mantissa: Int128, scale: Int) {
        precondition(scale >= 0 && scale <= FixedDecimal.maximumScale, "scale \(scale) out of range")
        self.mantissa = mantissa
        self.scale = scale
    }

    /// Creates an integral value.
    @inlinable
    public init(_ value: Int) {
        self.mantissa = Int128(value)
        self.scale = 0
    }

    public static let zero = FixedDecimal(mantissa: 0, scale: 0)
    public static let one = FixedDecimal(mantissa: 1, scale: 0)

    public var isZero: Bool { mantissa == 0 }
    public var isNegative: Bool { mantissa < 0 }
    public var isPositive: Bool { mantissa > 0 }
    /// -1, 0 or 1.
    public var signum: Int { mantissa == 0 ? 0 : (mantissa < 0 ? -1 : 1) }
    public var magnitude: FixedDecimal { FixedDecimal(mantissa: mantissa < 0 ? -mantissa : mantissa, scale: scale) }

    /// The value with trailing fractional zeros removed (`1.500` becomes `1.5`).
    public var normalized: FixedDecimal {
        var m = mantissa
        var s = scale
        while s > 0 && m % 10 == 0 {
            m /= 10
            s -= 1
        }
        return FixedDecimal(mantissa: m, scale: s)
    }

    /// The integral part, truncated toward zero, if it fits in an `Int`.
    public var integerPart: Int? {
        Int(exactly: mantissa / FixedDecimal.powerOfTen(scale))
    }

    /// An approximation for display and metrics only; never feed it back into money arithmetic.
    public var doubleValue: Double {
        // Through Int64 where the mantissa fits: the standard library converts an Int128 to Double
        // bit by bit, about a microsecond, and the agent converts every copy's fill for its metrics.
        // Both ways round to nearest; 10^scale (scale ≤ 18) is exact in a Double.
        let m = Int64(exactly: mantissa).map { Double($0) } ?? Double(mantissa)
        return m / Double(Int64(truncatingIfNeeded: FixedDecimal.powerOfTen(scale)))
    }

    @usableFromInline
    static let powersOfTen: [Int128] = {
        var table: [Int128] = []
        var p: Int128 = 1
        for _ in 0...38 {
            table.append(p)
            if table.count <= 38 { p = p &* 10 }
        }
        return table
    }()

    @inlinable
    static func powerOfTen(_ n: Int) -> Int128 {
        powersOfTen[n]
    }

    /// The same value with `newScale` digits; traps if that would lose digits.
    @inlinable
    func widened(to newScale: Int) -> Int128 {
        if newScale == scale { return mantissa }
        precondition(newScale > scale)
        let (r, o) = mantissa.multipliedReportingOverflow(by: FixedDecimal.powerOfTen(newScale - scale))
        precondition(!o, "FixedDecimal overflow")
        return r
    }
}

// MARK: - Rounding

extension FixedDecimal {
    /// How a value is rounded when digits must go. Every rounding in the product names one.
    public enum RoundingMode: String, Sendable, CaseIterable, Codable {
        /// Toward negative infinity.
        case floor
        /// Toward positive infinity.
        case ceiling
        /// Toward zero (truncation).
        case down
        /// Away from zero.
        case up
        /// To nearest, ties away from zero.
        case halfUp
        /// To nearest, ties to the even neighbour (banker's rounding).
        case halfEven
    }

    /// `value / divisor` and its remainder, truncated toward zero. Quantities and prices fit 64
    /// bits nearly always, and then one hardware division replaces two calls into the runtime's
    /// 128-bit division routines (a tenth of the engine's arithmetic for a copy, perf).
    @inlinable
    static func quotientAndRemainder(_ value: Int128, _ divisor: Int128) -> (quotient: Int128, remainder: Int128) {
        if let v = Int64(exactly: value), let d = Int64(exactly: divisor), v != .min || d != -1 {
            let (q, r) = v.quotientAndRemainder(dividingBy: d)
            return (Int128(q), Int128(r))
        }
        return value.quotientAndRemainder(dividingBy: divisor)
    }

    /// Divides `value` by `divisor` (> 0) with the given rounding.
    @usableFromInline
    static func divide(_ value: Int128, by divisor: Int128, _ mode: RoundingMode) -> Int128 {
        precondition(divisor != 0, "division by zero")
        let (quotient, r) = quotientAndRemainder(value, divisor)
        var q = quotient
        if r == 0 { return q }
        let negative = (value < 0) != (divisor < 0)
        let absR = r < 0 ? -r : r
        let absD = divisor < 0 ? -divisor : divisor
        let awayFromZero: Bool
        switch mode {
        case .floor: awayFromZero = negative
        case .ceiling: awayFromZero = !negative
        case .down: awayFromZero = false
        case .up: awayFromZero = true
        case .halfUp: awayFromZero = absR * 2 >= absD
        case .halfEven:
            let twice = absR * 2
            awayFromZero = twice > absD || (twice == absD && q % 2 != 0)
        }
        if awayFromZero { q += negative ? -1 : 1 }
        return q
    }

    /// The value rounded to `newScale` fractional digits. A larger scale only pads zeros.
    public func rounded(scale newScale: Int, _ mode: RoundingMode) -> FixedDecimal {
        if newScale >= scale { return FixedDecimal(mantissa: widened(to: newScale), scale: newScale) }
        let m = FixedDecimal.divide(mantissa, by: FixedDecimal.powerOfTen(scale - newScale), mode)
        return FixedDecimal(mantissa: m, scale: newScale)
    }

    /// The multiple of `step` (> 0) nearest to this value under `mode` (lot and tick rounding).
    public func rounded(toMultipleOf step: FixedDecimal, _ mode: RoundingMode) -> FixedDecimal {
        precondition(step.isPositive, "rounding step must be positive")
        let s = Swift.max(scale, step.scale)
        let units = FixedDecimal.divide(widened(to: s), by: step.widened(to: s), mode)
        let (m, o) = units.multipliedReportingOverflow(by: step.mantissa)
        precondition(!o, "FixedDecimal overflow")
        return FixedDecimal(mantissa: m, scale: step.scale)
    }

    /// `self / divisor` with `resultScale` fractional digits, rounded by `mode`.
    public func divided(by divisor: FixedDecimal, scale resultScale: Int, _ mode: RoundingMode) -> FixedDecimal {
        precondition(!divisor.isZero, "division by zero")
        // self/divisor = (m1/10^s1) / (m2/10^s2); scaled to resultScale: m1 * 10^(resultScale + s2 - s1) / m2.
        let shift = resultScale + divisor.scale - scale
        var numerator = mantissa
        var denominator = divisor.mantissa
        if shift >= 0 {
            let (r, o) = numerator.multipliedReportingOverflow(by: FixedDecimal.powerOfTen(shift))
            precondition(!o, "FixedDecimal overflow")
            numerator = r
        } else {
            let (r, o) = denominator.multipliedReportingOverflow(by: FixedDecimal.powerOfTen(-shift))
            precondition(!o, "FixedDecimal overflow")
            denominator = r
        }
        return FixedDecimal(mantissa: FixedDecimal.divide(numerator, by: denominator, mode), scale: resultScale)
    }

    /// How many whole `step`s fit in this value, truncated toward zero.
    public func quotient(dividingBy step: FixedDecimal) -> Int128 {
        precondition(!step.isZero, "division by zero")
        let s = Swift.max(scale, step.scale)
        return FixedDecimal.quotientAndRemainder(widened(to: s), step.widened(to: s)).quotient
    }
}

// MARK: - Arithmetic

extension FixedDecimal: AdditiveArithmetic {
    @inlinable
    public static func + (lhs: FixedDecimal, rhs: FixedDecimal) -> FixedDecimal {
        let s = Swift.max(lhs.scale, rhs.scale)
        let (r, o) = lhs.widened(to: s).addingReportingOverflow(rhs.widened(to: s))
        precondition(!o, "FixedDecimal overflow")
        return FixedDecimal(mantissa: r, scale: s)
    }

    @inlinable
    public static func - (lhs: FixedDecimal, rhs: FixedDecimal) -> FixedDecimal {
        let s = Swift.max(lhs.scale, rhs.scale)
        let (r, o) = lhs.widened(to: s).subtractingReportingOverflow(rhs.widened(to: s))
        precondition(!o, "FixedDecimal overflow")
        return FixedDecimal(mantissa: r, scale: s)
    }

    /// The exact product; beyond ``maximumScale`` digits it is rounded half-even.
    public static func * (lhs: FixedDecimal, rhs: FixedDecimal) -> FixedDecimal {
        let (r, o) = lhs.mantissa.multipliedReportingOverflow(by: rhs.mantissa)
        precondition(!o, "FixedDecimal overflow")
        let s = lhs.scale + rhs.scale
        if s <= maximumScale { return FixedDecimal(mantissa: r, scale: s) }
        let m = divide(r, by: powerOfTen(s - maximumScale), .halfEven)
        return FixedDecimal(mantissa: m, scale: maximumScale).normalized
    }

    public static prefix func - (value: FixedDecimal) -> FixedDecimal {
        FixedDecimal(mantissa: -value.mantissa, scale: value.scale)
    }

    public static func += (lhs: inout FixedDecimal, rhs: FixedDecimal) { lhs = lhs + rhs }
    public static func -= (lhs: inout FixedDecimal, rhs: FixedDecimal) { lhs = lhs - rhs }
    public static func *= (lhs: inout FixedDecimal, rhs: FixedDecimal) { lhs = lhs * rhs }
}

// MARK: - Comparison

extension FixedDecimal: Comparable, Hashable {
    @inlinable
    public static func == (lhs: FixedDecimal, rhs: FixedDecimal) -> Bool {
        if lhs.scale == rhs.scale { return lhs.mantissa == rhs.mantissa }
        let s = Swift.max(lhs.scale, rhs.scale)
        return lhs.widened(to: s) == rhs.widened(to: s)
    }

    @inlinable
    public static func < (lhs: FixedDecimal, rhs: FixedDecimal) -> Bool {
        if lhs.scale == rhs.scale { return lhs.mantissa < rhs.mantissa }
        let s = Swift.max(lhs.scale, rhs.scale)
        return lhs.widened(to: s) < rhs.widened(to: s)
    }

    public func hash(into hasher: inout Hasher) {
        let n = normalized
        hasher.combine(n.mantissa)
        hasher.combine(n.scale)
    }

    public static func min(_ a: FixedDecimal, _ b: FixedDecimal) -> FixedDecimal { b < a ? b : a }
    public static func max(_ a: FixedDecimal, _ b: FixedDecimal) -> FixedDecimal { b > a ? b : a }
}

// MARK: - Text

extension FixedDecimal: CustomStringConvertible, LosslessStringConvertible, ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) {
        self.init(value)
    }

    /// Parses `-123.4500`, `0.5`, `.5` or `5.`; no exponent, no `+`, no spaces.
    public init?(_ text: String) {
        var text = text
        guard let value = text.withUTF8({ FixedDecimal.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = value
    }

    /// Parses the FIX float format from raw bytes; `nil` when the bytes are not a decimal number.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> FixedDecimal? {
        var i = 0
        let n = bytes.count
        guard n > 0 else { return nil }
        var negative = false
        if bytes[0] == UInt8(ascii: "-") {
            negative = true
            i = 1
        }
        var small: Int64 = 0
        var big: Int128 = 0
        var digits = 0
        var significant = 0
        var scale = -1
        while i < n {
            let c = bytes[i]
            if c == UInt8(ascii: ".") {
                if scale >= 0 { return nil }
                scale = 0
            } else {
                let d = c &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                if significant > 0 || d != 0 { significant += 1 }
                if significant > 38 { return nil }
                if significant <= 18 {
                    small = small &* 10 &+ Int64(d)
                } else {
                    if significant == 19 { big = Int128(small) }
                    big = big &* 10 &+ Int128(d)
                }
                digits += 1
                if scale >= 0 { scale += 1 }
            }
            i += 1
        }
        guard digits > 0 else { return nil }
        let s = scale < 0 ? 0 : scale
        guard s <= maximumScale else {
            // Digits beyond our precision are only acceptable when they are zeros.
            return nil
        }
        var m = significant > 18 ? big : Int128(small)
        if negative { m = -m }
        return FixedDecimal(mantissa: m, scale: s)
    }

    public var description: String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the canonical text (`-1.50`) to `out`.
    @inlinable
    public func write(into out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: FixedDecimal.maximumTextLength) { buffer in
            let p = UnsafeMutableRawBufferPointer(buffer)
            let n = put(p, at: 0)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[0..<n]))
        }
    }

    /// Bytes the canonical text takes at most: a sign, 39 digits and a point.
    @usableFromInline static let maximumTextLength = 48

    /// Writes the canonical text at `offset` (``maximumTextLength`` bytes must be free); returns
    /// the offset after it.
    @inlinable
    func put(_ p: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var m = mantissa
        var o = offset
        if m < 0 {
            p[o] = UInt8(ascii: "-")
            o += 1
            m = -m
        }
        var digits: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)  // 40 bytes of scratch
        return withUnsafeMutableBytes(of: &digits) { scratch in
            var count = 0
            if m <= Int128(UInt64.max) {
                var v = UInt64(m)
                repeat {
                    scratch[39 - count] = UInt8(truncatingIfNeeded: v % 10) &+ UInt8(ascii: "0")
                    v /= 10
                    count += 1
                } while v != 0
            } else {
                repeat {
                    scratch[39 - count] = UInt8(truncatingIfNeeded: m % 10) &+ UInt8(ascii: "0")
                    m /= 10
                    count += 1
                } while m != 0
            }
            while count <= scale {
                scratch[39 - count] = UInt8(ascii: "0")
                count += 1
            }
            let pointAt = 40 - scale
            for j in (40 - count)..<40 {
                if j == pointAt {
                    p[o] = UInt8(ascii: ".")
                    o += 1
                }
                p[o] = scratch[j]
                o += 1
            }
            return o
        }
    }
}

extension FixedDecimal: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            guard let value = FixedDecimal(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "'\(text)' is not a decimal number")
            }
            self = value
        } else {
            self = FixedDecimal(try container.decode(Int.self))
        }
    }

    /// Encoded as a string, so JSON consumers never round it through a binary float.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
