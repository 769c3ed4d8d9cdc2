import FIXCore
import Foundation

/// One session period: from a scheduled start to the scheduled end that follows it.
///
/// The end is exclusive. QuickFIX counts the exact end instant as still inside; excluding it lets a
/// timer set for ``end`` find the session closed when it fires.
public struct SessionPeriod: Sendable, Hashable, CustomStringConvertible {
    public let start: UTCTimestamp
    public let end: UTCTimestamp

    public init(start: UTCTimestamp, end: UTCTimestamp) {
        precondition(start < end, "a session period ends after it starts")
        self.start = start
        self.end = end
    }

    /// The unbounded period of a non-stop session.
    public static let always = SessionPeriod(
        start: UTCTimestamp(nanosecondsSinceEpoch: .min, precision: .seconds),
        end: UTCTimestamp(nanosecondsSinceEpoch: .max, precision: .seconds))

    public func contains(_ time: UTCTimestamp) -> Bool {
        start <= time && time < end
    }

    public var description: String {
        self == .always ? "always" : "\(start)..<\(end)"
    }
}

/// When a session is up, with QuickFIX semantics: `StartTime`/`EndTime` every day (possibly across
/// midnight), `StartDay`/`EndDay` for one period a week, `NonStopSession`, read in a time zone (UTC by
/// default).
///
/// All functions are pure functions of the instant they are given. Sequence numbers reset only when
/// a new period begins: a store created in one period and read in another is stale, which
/// ``isSameSessionPeriod(_:_:)`` decides.
///
/// Wall times that daylight saving skips are moved forward by the gap (02:30 on a spring-forward night
/// is 03:30 summer time); wall times that occur twice mean the first occurrence.
public struct SessionSchedule: Sendable, Hashable, CustomStringConvertible {
    /// The recurring shape of the schedule.
    public enum Window: Sendable, Hashable {
        /// Always in session; sequence numbers are never reset by the schedule.
        case nonStop
        /// Every day from `start` to `end`; when `end` is not after `start` the period ends the next day
        /// (so equal times make a 24-hour period).
        case daily(start: TimeOfDay, end: TimeOfDay)
        /// Once a week from `startDay` `start` to the next `endDay` `end`; when the days are equal and
        /// `end` is not after `start` the period lasts a week.
        case weekly(startDay: Weekday, start: TimeOfDay, endDay: Weekday, end: TimeOfDay)
    }

    public let window: Window
    /// The zone `StartTime`/`EndTime` and the days are read in.
    public let timeZone: TimeZone

    /// Spares the time zone database the common case.
    private let isUTCZone: Bool

    public init(_ window: Window, timeZone: TimeZone = SessionSchedule.utc) {
        self.window = window
        self.timeZone = timeZone
        self.isUTCZone = Self.isUTC(timeZone)
    }

    /// Always in session.
    public static let nonStop = SessionSchedule(.nonStop)

    /// Coordinated Universal Time, the default zone of every schedule.
    public static let utc = TimeZone(identifier: "UTC")!

    /// Whether `time` falls inside a session period.
    public func isInSession(at time: UTCTimestamp) -> Bool {
        period(containing: time) != nil
    }

    /// The session period containing `time`, or `nil` when `time` is outside every period.
    /// A non-stop schedule answers ``SessionPeriod/always``.
    public func period(containing time: UTCTimestamp) -> SessionPeriod? {
        if case .nonStop = window { return .always }
        // Periods do not overlap: the first that has not ended by `time` is the only one that can hold it.
        guard let next = candidatePeriods(around: time).first(where: { time < $0.end }) else { return nil }
        return next.contains(time) ? next : nil
    }

    /// The start of the session period containing `time`; `nil` outside every period.
    public func periodStart(containing time: UTCTimestamp) -> UTCTimestamp? {
        period(containing: time)?.start
    }

    /// Whether `a` and `b` fall in one and the same session period (false when either is outside).
    /// A non-stop schedule answers `true`: it never begins a new period.
    public func isSameSessionPeriod(_ a: UTCTimestamp, _ b: UTCTimestamp) -> Bool {
        guard let pa = period(containing: a) else { return false }
        return pa.contains(b)
    }

    /// The first period start strictly after `time`; `nil` for a non-stop schedule.
    public func nextStart(after time: UTCTimestamp) -> UTCTimestamp? {
        if case .nonStop = window { return nil }
        return candidatePeriods(around: time).lazy.map(\.start).first(where: { $0 > time })
    }

    /// The first period end strictly after `time` (the end of the current period when in session);
    /// `nil` for a non-stop schedule.
    public func nextEnd(after time: UTCTimestamp) -> UTCTimestamp? {
        if case .nonStop = window { return nil }
        return candidatePeriods(around: time).lazy.map(\.end).first(where: { $0 > time })
    }

    /// E.g. `daily 22:00:00-21:55:00 UTC`, `weekly Sun 17:00:00-Fri 17:00:00 America/New_York`.
    public var description: String {
        let zone = Self.zoneName(timeZone)
        switch window {
        case .nonStop:
            return "non-stop"
        case .daily(let start, let end):
            return "daily \(start)-\(end) \(zone)"
        case .weekly(let startDay, let start, let endDay, let end):
            return "weekly \(startDay.abbreviation) \(start)-\(endDay.abbreviation) \(end) \(zone)"
        }
    }

    /// The zone's IANA name, with every spelling of UTC (Foundation on Linux calls it `GMT`) shown as `UTC`.
    public static func zoneName(_ zone: TimeZone) -> String {
        isUTC(zone) ? "UTC" : zone.identifier
    }

    /// Whether two zones keep the same time: same name, or both UTC under different names.
    public static func sameZone(_ a: TimeZone, _ b: TimeZone) -> Bool {
        a.identifier == b.identifier || (isUTC(a) && isUTC(b))
    }

    private static func isUTC(_ zone: TimeZone) -> Bool {
        ["UTC", "GMT", "Etc/UTC", "Etc/GMT", "Etc/Universal", "Etc/Zulu", "Universal", "Zulu"].contains(zone.identifier)
    }

    // MARK: - Calendar arithmetic

    private static let secondsPerDay: Int64 = 86_400
    private static let nanosPerSecond: Int64 = 1_000_000_000

    /// Periods whose local start day lies near the local day of `time`, in ascending order, computed on
    /// demand: enough to find the one containing `time` and the next start and end after it.
    private func candidatePeriods(around time: UTCTimestamp) -> some Sequence<SessionPeriod> {
        let seconds = Self.floorDiv(time.nanosecondsSinceEpoch, Self.nanosPerSecond)
        let localDay = Self.floorDiv(seconds + offset(atUTC: seconds), Self.secondsPerDay)
        let days: [Int64]
        switch window {
        case .nonStop:
            days = []
        case .daily:
            days = [localDay - 1, localDay, localDay + 1, localDay + 2]
        case .weekly(let startDay, _, _, _):
            let mostRecentStartDay = localDay - Int64(startDay.days(to: Weekday(daysSinceEpoch: localDay)))
            days = [mostRecentStartDay - 7, mostRecentStartDay, mostRecentStartDay + 7, mostRecentStartDay + 14]
        }
        return days.lazy.compactMap { period(startingOn: $0) }
    }

    /// The period whose start falls on local day `day` (days since 1970-01-01 in ``timeZone``); `nil`
    /// when daylight saving leaves it empty (02:30 to 03:00 on a night that skips from 02:00 to 03:00).
    private func period(startingOn day: Int64) -> SessionPeriod? {
        let (startSeconds, endSeconds): (Int64, Int64)
        switch window {
        case .nonStop:
            return .always
        case .daily(let start, let end):
            startSeconds = utcSeconds(localDay: day, time: start)
            endSeconds = utcSeconds(localDay: end <= start ? day + 1 : day, time: end)
        case .weekly(let startDay, let start, let endDay, let end):
            var span = Int64(startDay.days(to: endDay))
            if span == 0 && end <= start { span = 7 }
            startSeconds = utcSeconds(localDay: day, time: start)
            endSeconds = utcSeconds(localDay: day + span, time: end)
        }
        guard startSeconds < endSeconds else { return nil }
        return SessionPeriod(
            start: UTCTimestamp(nanosecondsSinceEpoch: startSeconds * Self.nanosPerSecond, precision: .seconds),
            end: UTCTimestamp(nanosecondsSinceEpoch: endSeconds * Self.nanosPerSecond, precision: .seconds))
    }

    /// The zone's offset from UTC at an instant, in seconds.
    private func offset(atUTC seconds: Int64) -> Int64 {
        if isUTCZone { return 0 }
        return Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
    }

    /// The instant at which the wall clock in ``timeZone`` shows `time` on local day `day`.
    ///
    /// Zones change offset at most once within a couple of days, so the offsets a day before and a day
    /// after are the only candidates; a candidate is right when the offset at the instant it gives is
    /// itself. No right candidate means the wall time falls in a gap: the offset before the gap moves it
    /// forward by the gap's length.
    private func utcSeconds(localDay day: Int64, time: TimeOfDay) -> Int64 {
        let wall = day * Self.secondsPerDay + Int64(time.secondsSinceMidnight)
        let before = offset(atUTC: wall - Self.secondsPerDay)
        let after = offset(atUTC: wall + Self.secondsPerDay)
        var earliest: Int64?
        for candidate in before == after ? [before] : [before, after] {
            let instant = wall - candidate
            if offset(atUTC: instant) == candidate {
                earliest = min(earliest ?? instant, instant)
            }
        }
        return earliest ?? wall - before
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
