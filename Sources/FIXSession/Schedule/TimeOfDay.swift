/// A wall-clock time of day with whole seconds, as settings files write it (`HH:MM:SS`).
///
/// It carries no time zone: a ``SessionSchedule`` reads it in its own zone.
public struct TimeOfDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since midnight, `0..<86400`.
    public let secondsSinceMidnight: Int

    /// Creates a time of day; `nil` when a field is out of range.
    public init?(hour: Int, minute: Int, second: Int = 0) {
        guard (0..<24).contains(hour), (0..<60).contains(minute), (0..<60).contains(second) else { return nil }
        secondsSinceMidnight = hour * 3600 + minute * 60 + second
    }

    /// Parses `HH:MM:SS` (two digits each); `nil` when malformed or out of range.
    public init?(parsing text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 8, utf8[2] == UInt8(ascii: ":"), utf8[5] == UInt8(ascii: ":") else { return nil }
        func twoDigits(_ i: Int) -> Int? {
            let a = utf8[i] &- UInt8(ascii: "0")
            let b = utf8[i + 1] &- UInt8(ascii: "0")
            guard a < 10, b < 10 else { return nil }
            return Int(a) * 10 + Int(b)
        }
        guard let h = twoDigits(0), let m = twoDigits(3), let s = twoDigits(6) else { return nil }
        self.init(hour: h, minute: m, second: s)
    }

    public var hour: Int { secondsSinceMidnight / 3600 }
    public var minute: Int { (secondsSinceMidnight / 60) % 60 }
    public var second: Int { secondsSinceMidnight % 60 }

    /// `HH:MM:SS`.
    public var description: String {
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(pad(hour)):\(pad(minute)):\(pad(second))"
    }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool {
        lhs.secondsSinceMidnight < rhs.secondsSinceMidnight
    }
}

/// A day of the week, numbered as QuickFIX numbers them (Sunday is 1).
public enum Weekday: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case sunday = 1
    case monday
    case tuesday
    case wednesday
    case thursday
    case friday
    case saturday

    /// Parses a day name the way QuickFIX does, case-insensitively: the full English name or any prefix
    /// of it with at least two letters (`Mo`, `Mon`, `Monday`, `thurs`).
    public init?(parsing text: some StringProtocol) {
        let lower = text.lowercased()
        guard lower.count >= 2, let day = Weekday.allCases.first(where: { $0.name.lowercased().hasPrefix(lower) })
        else { return nil }
        self = day
    }

    /// The English name, e.g. `Monday`.
    public var name: String {
        switch self {
        case .sunday: return "Sunday"
        case .monday: return "Monday"
        case .tuesday: return "Tuesday"
        case .wednesday: return "Wednesday"
        case .thursday: return "Thursday"
        case .friday: return "Friday"
        case .saturday: return "Saturday"
        }
    }

    /// The three-letter abbreviation, e.g. `Mon`.
    public var abbreviation: String { String(name.prefix(3)) }

    public var description: String { name }

    /// The weekday of a day counted from 1970-01-01, which was a Thursday.
    init(daysSinceEpoch days: Int64) {
        let zeroBased = Int(((days + 4) % 7 + 7) % 7)  // 0 = Sunday
        self = Weekday(rawValue: zeroBased + 1)!
    }

    /// Days to go forward from `self` to reach `other`, `0..<7`.
    func days(to other: Weekday) -> Int {
        ((other.rawValue - rawValue) % 7 + 7) % 7
    }
}
