/// Sub-second digits written after the seconds of a FIX time value.
public enum TimestampPrecision: Int, Sendable, CaseIterable, Codable {
    case seconds = 0
    case milliseconds = 3
    case microseconds = 6
    case nanoseconds = 9

    /// The precision for a QuickFIX `TimestampPrecision` setting (0, 3, 6 or 9).
    public init?(digits: Int) {
        self.init(rawValue: digits)
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
@inlinable
func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
}

/// The Gregorian date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
@inlinable
func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
    let z = days + 719468
    let era = (z >= 0 ? z : z - 146096) / 146097
    let doe = z - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
}

@inlinable
func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// Reads `count` ASCII digits at `offset`; `nil` if any is not a digit.
@inlinable
func readDigits(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ count: Int) -> Int? {
    guard offset + count <= bytes.count else { return nil }
    var v = 0
    for i in offset..<(offset + count) {
        let d = bytes[i] &- UInt8(ascii: "0")
        guard d < 10 else { return nil }
        v = v * 10 + Int(d)
    }
    return v
}

/// Parses `HH:MM:SS[.f{1,9}]` at `offset` to nanoseconds since midnight plus the precision written.
@inlinable
func parseTimeOfDay(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> (nanos: Int64, precision: TimestampPrecision)? {
    guard bytes.count - offset >= 8,
        let hh = readDigits(bytes, offset, 2), bytes[offset + 2] == UInt8(ascii: ":"),
        let mm = readDigits(bytes, offset + 3, 2), bytes[offset + 5] == UInt8(ascii: ":"),
        let ss = readDigits(bytes, offset + 6, 2),
        hh < 24, mm < 60, ss <= 60  // 60: a leap second, which FIX allows
    else { return nil }
    var nanos = Int64(hh * 3600 + mm * 60 + ss) * 1_000_000_000
    var precision = TimestampPrecision.seconds
    let rest = bytes.count - offset - 8
    if rest > 0 {
        guard bytes[offset + 8] == UInt8(ascii: "."), rest >= 2, rest <= 10,
            let fraction = readDigits(bytes, offset + 9, rest - 1)
        else { return nil }
        let digits = rest - 1
        var scaled = Int64(fraction)
        for _ in digits..<9 { scaled *= 10 }
        nanos += scaled
        precision = digits <= 3 ? .milliseconds : (digits <= 6 ? .microseconds : .nanoseconds)
    }
    return (nanos, precision)
}

@inlinable
func parseDate(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> (year: Int, month: Int, day: Int)? {
    guard let y = readDigits(bytes, offset, 4), let m = readDigits(bytes, offset + 4, 2),
        let d = readDigits(bytes, offset + 6, 2),
        m >= 1, m <= 12, d >= 1, d <= daysInMonth(year: y, month: m)
    else { return nil }
    return (y, m, d)
}

@inlinable
func appendDigits(_ value: Int, width: Int, into out: inout [UInt8]) {
    var divisor = 1
    for _ in 1..<width { divisor *= 10 }
    var v = value
    while divisor > 0 {
        out.append(UInt8(truncatingIfNeeded: v / divisor) &+ UInt8(ascii: "0"))
        v %= divisor
        divisor /= 10
    }
}

/// Writes `value` (0...99) as two digits at `offset`, from a table of digit pairs.
@inlinable @inline(__always)
func putTwoDigits(_ value: Int, _ p: UnsafeMutableRawBufferPointer, _ offset: Int) {
    let pairs: StaticString =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
    let s = pairs.utf8Start + 2 &* value
    p[offset] = s[0]
    p[offset &+ 1] = s[1]
}

/// Writes `value` as exactly `width` digits at `offset`; returns the offset after them.
@inlinable @inline(__always)
func putDigits(_ value: Int, width: Int, _ p: UnsafeMutableRawBufferPointer, _ offset: Int) -> Int {
    var v = value
    var i = offset + width
    while i - offset >= 2 {
        i -= 2
        putTwoDigits(v % 100, p, i)
        v /= 100
    }
    if i > offset {
        p[offset] = UInt8(truncatingIfNeeded: v % 10) &+ UInt8(ascii: "0")
    }
    return offset + width
}

/// Writes `HH:MM:SS[.fff...]` at `offset`; returns the offset after it (at most 18 bytes).
@inlinable
func putTimeOfDay(
    _ nanosOfDay: Int64, precision: TimestampPrecision, _ p: UnsafeMutableRawBufferPointer, _ offset: Int
) -> Int {
    let seconds = Int(nanosOfDay / 1_000_000_000)
    var o = putDigits(seconds / 3600, width: 2, p, offset)
    p[o] = UInt8(ascii: ":")
    o = putDigits((seconds / 60) % 60, width: 2, p, o + 1)
    p[o] = UInt8(ascii: ":")
    o = putDigits(seconds % 60, width: 2, p, o + 1)
    if precision != .seconds {
        p[o] = UInt8(ascii: ".")
        o += 1
        let fraction = Int(nanosOfDay % 1_000_000_000)
        switch precision {
        case .milliseconds: o = putDigits(fraction / 1_000_000, width: 3, p, o)
        case .microseconds: o = putDigits(fraction / 1_000, width: 6, p, o)
        case .nanoseconds: o = putDigits(fraction, width: 9, p, o)
        case .seconds: break
        }
    }
    return o
}

@inlinable
func appendTimeOfDay(_ nanosOfDay: Int64, precision: TimestampPrecision, into out: inout [UInt8]) {
    // Formatted on the stack and appended at once: one capacity check instead of one per byte.
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
        let p = UnsafeMutableRawBufferPointer(buffer)
        let n = putTimeOfDay(nanosOfDay, precision: precision, p, 0)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[0..<n]))
    }
}

/// A FIX UTCTimestamp (`YYYYMMDD-HH:MM:SS[.sss|.ssssss|.sssssssss]`): nanoseconds since the Unix epoch.
///
/// Equality and ordering compare instants; ``precision`` records how many sub-second digits were
/// read, or are to be written.
public struct UTCTimestamp: Sendable, Comparable, Hashable, CustomStringConvertible {
    public var nanosecondsSinceEpoch: Int64
    public var precision: TimestampPrecision

    @inlinable
    public init(nanosecondsSinceEpoch: Int64, precision: TimestampPrecision = .milliseconds) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
        self.precision = precision
    }

    /// Creates a timestamp from calendar fields in UTC; `nil` if they name no valid instant.
    public init?(
        year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, nanosecond: Int = 0,
        precision: TimestampPrecision = .milliseconds
    ) {
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month), hour >= 0,
            hour < 24, minute >= 0, minute < 60, second >= 0, second <= 60, nanosecond >= 0,
            nanosecond < 1_000_000_000
        else { return nil }
        let days = Int64(daysFromCivil(year: year, month: month, day: day))
        let secs = days * 86400 + Int64(hour * 3600 + minute * 60 + second)
        self.init(nanosecondsSinceEpoch: secs * 1_000_000_000 + Int64(nanosecond), precision: precision)
    }

    public var millisecondsSinceEpoch: Int64 { nanosecondsSinceEpoch.floorDiv(1_000_000) }

    /// Parses the FIX text form; `nil` when malformed.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> UTCTimestamp? {
        guard bytes.count >= 17, bytes[8] == UInt8(ascii: "-"), let date = parseDate(bytes, 0),
            let time = parseTimeOfDay(bytes, 9)
        else { return nil }
        let days = Int64(daysFromCivil(year: date.year, month: date.month, day: date.day))
        // Years past 2262 (or before 1677) do not fit in Int64 nanoseconds: malformed, not a trap.
        let (dayNanos, overflow) = days.multipliedReportingOverflow(by: 86_400_000_000_000)
        let (nanos, overflowAgain) = dayNanos.addingReportingOverflow(time.nanos)
        guard !overflow, !overflowAgain else { return nil }
        return UTCTimestamp(nanosecondsSinceEpoch: nanos, precision: time.precision)
    }

    public init?(_ text: String) {
        var text = text
        guard let v = text.withUTF8({ UTCTimestamp.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = v
    }

    /// Appends the FIX text form with this value's precision.
    @inlinable
    public func write(into out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: UTCTimestamp.maximumLength) { buffer in
            let p = UnsafeMutableRawBufferPointer(buffer)
            let n = put(p, at: 0)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[0..<n]))
        }
    }

    /// Bytes the text form takes at most.
    @usableFromInline static let maximumLength = 32

    /// Writes the text form at `offset` (``maximumLength`` bytes must be free); returns the offset after it.
    @inlinable
    func put(_ p: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let days = nanosecondsSinceEpoch.floorDiv(86_400_000_000_000)
        let nanosOfDay = nanosecondsSinceEpoch - days * 86_400_000_000_000
        let (y, m, d) = civilFromDays(Int(days))
        var o = putDigits(y, width: 4, p, offset)
        o = putDigits(m, width: 2, p, o)
        o = putDigits(d, width: 2, p, o)
        p[o] = UInt8(ascii: "-")
        return putTimeOfDay(nanosOfDay, precision: precision, p, o + 1)
    }

    public var description: String {
        var out: [UInt8] = []
        out.reserveCapacity(27)
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The same instant written with another precision.
    public func with(precision: TimestampPrecision) -> UTCTimestamp {
        UTCTimestamp(nanosecondsSinceEpoch: nanosecondsSinceEpoch, precision: precision)
    }

    @inlinable
    public static func == (lhs: UTCTimestamp, rhs: UTCTimestamp) -> Bool {
        lhs.nanosecondsSinceEpoch == rhs.nanosecondsSinceEpoch
    }

    @inlinable
    public static func < (lhs: UTCTimestamp, rhs: UTCTimestamp) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(nanosecondsSinceEpoch)
    }

    /// Calendar fields in UTC.
    public var components: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, nanosecond: Int) {
        let days = nanosecondsSinceEpoch.floorDiv(86_400_000_000_000)
        let nanosOfDay = nanosecondsSinceEpoch - days * 86_400_000_000_000
        let (y, m, d) = civilFromDays(Int(days))
        let secs = Int(nanosOfDay / 1_000_000_000)
        return (y, m, d, secs / 3600, (secs / 60) % 60, secs % 60, Int(nanosOfDay % 1_000_000_000))
    }
}

extension Int64 {
    @usableFromInline
    func floorDiv(_ divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}

/// A FIX UTCTimeOnly (`HH:MM:SS[.fff...]`): nanoseconds since midnight UTC.
public struct UTCTimeOnly: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanosecondsSinceMidnight: Int64
    public var precision: TimestampPrecision

    public init(nanosecondsSinceMidnight: Int64, precision: TimestampPrecision = .milliseconds) {
        self.nanosecondsSinceMidnight = nanosecondsSinceMidnight
        self.precision = precision
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) -> UTCTimeOnly? {
        guard let t = parseTimeOfDay(bytes, 0) else { return nil }
        return UTCTimeOnly(nanosecondsSinceMidnight: t.nanos, precision: t.precision)
    }

    public func write(into out: inout [UInt8]) {
        appendTimeOfDay(nanosecondsSinceMidnight, precision: precision, into: &out)
    }

    /// Writes the text form at `offset` (18 bytes must be free); returns the offset after it.
    @usableFromInline
    func put(_ p: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        putTimeOfDay(nanosecondsSinceMidnight, precision: precision, p, offset)
    }

    public var description: String {
        var out: [UInt8] = []
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func < (lhs: UTCTimeOnly, rhs: UTCTimeOnly) -> Bool {
        lhs.nanosecondsSinceMidnight < rhs.nanosecondsSinceMidnight
    }
}

/// A calendar date as FIX writes it (`YYYYMMDD`): UTCDateOnly and LocalMktDate share this form.
public struct FIXDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) -> FIXDate? {
        guard bytes.count == 8, let d = parseDate(bytes, 0) else { return nil }
        return FIXDate(year: d.year, month: d.month, day: d.day)
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int { daysFromCivil(year: year, month: month, day: day) }

    public init(daysSinceEpoch: Int) {
        let c = civilFromDays(daysSinceEpoch)
        self.year = c.year
        self.month = c.month
        self.day = c.day
    }

    public func write(into out: inout [UInt8]) {
        appendDigits(year, width: 4, into: &out)
        appendDigits(month, width: 2, into: &out)
        appendDigits(day, width: 2, into: &out)
    }

    /// Writes `YYYYMMDD` at `offset` (8 bytes must be free); returns the offset after it.
    @usableFromInline
    func put(_ p: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let o = putDigits(year, width: 4, p, offset)
        return putDigits(day, width: 2, p, putDigits(month, width: 2, p, o))
    }

    public var description: String {
        var out: [UInt8] = []
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func < (lhs: FIXDate, rhs: FIXDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

/// A FIX MonthYear: `YYYYMM`, `YYYYMMDD` or `YYYYMMwN` (week 1 to 5).
public struct MonthYear: Sendable, Hashable, CustomStringConvertible {
    public enum Detail: Sendable, Hashable {
        case none
        case day(Int)
        case week(Int)
    }

    public var year: Int
    public var month: Int
    public var detail: Detail

    public init?(year: Int, month: Int, detail: Detail = .none) {
        guard month >= 1, month <= 12 else { return nil }
        switch detail {
        case .none: break
        case .day(let d): guard d >= 1, d <= daysInMonth(year: year, month: month) else { return nil }
        case .week(let w): guard w >= 1, w <= 5 else { return nil }
        }
        self.year = year
        self.month = month
        self.detail = detail
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) -> MonthYear? {
        guard let y = readDigits(bytes, 0, 4), let m = readDigits(bytes, 4, 2) else { return nil }
        switch bytes.count {
        case 6: return MonthYear(year: y, month: m)
        case 8:
            if bytes[6] == UInt8(ascii: "w"), let w = readDigits(bytes, 7, 1) {
                return MonthYear(year: y, month: m, detail: .week(w))
            }
            guard let d = readDigits(bytes, 6, 2) else { return nil }
            return MonthYear(year: y, month: m, detail: .day(d))
        default: return nil
        }
    }

    public var description: String {
        var out: [UInt8] = []
        appendDigits(year, width: 4, into: &out)
        appendDigits(month, width: 2, into: &out)
        switch detail {
        case .none: break
        case .day(let d): appendDigits(d, width: 2, into: &out)
        case .week(let w):
            out.append(UInt8(ascii: "w"))
            appendDigits(w, width: 1, into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
