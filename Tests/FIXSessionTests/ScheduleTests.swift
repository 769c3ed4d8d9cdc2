import FIXCore
import FIXSession
import Foundation
import Testing

private func t(_ text: String) -> UTCTimestamp {
    guard let value = UTCTimestamp(text) else { preconditionFailure("bad test timestamp \(text)") }
    return value
}

private func time(_ text: String) -> TimeOfDay {
    guard let value = TimeOfDay(parsing: text) else { preconditionFailure("bad test time \(text)") }
    return value
}

private func zone(_ name: String) -> TimeZone {
    guard let value = TimeZone(identifier: name) else { preconditionFailure("no zone \(name)") }
    return value
}

private func period(_ start: String, _ end: String) -> SessionPeriod {
    SessionPeriod(start: t(start), end: t(end))
}

@Suite struct ScheduleTests {
    @Test func timeOfDayParsing() {
        #expect(TimeOfDay(parsing: "00:00:00")?.secondsSinceMidnight == 0)
        #expect(TimeOfDay(parsing: "23:59:59")?.secondsSinceMidnight == 86_399)
        #expect(TimeOfDay(parsing: "08:05:09")?.description == "08:05:09")
        for bad in ["24:00:00", "12:60:00", "12:00:60", "8:00:00", "08:00", "08-00-00", "08:00:00.5", "ab:cd:ef", ""] {
            #expect(TimeOfDay(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func weekdayParsingFollowsQuickFIX() {
        #expect(Weekday(parsing: "Mo") == .monday)
        #expect(Weekday(parsing: "mon") == .monday)
        #expect(Weekday(parsing: "MONDAY") == .monday)
        #expect(Weekday(parsing: "thurs") == .thursday)
        #expect(Weekday(parsing: "Sunday") == .sunday)
        #expect(Weekday(parsing: "sa") == .saturday)
        for bad in ["T", "", "Funday", "Monday2", "xx"] {
            #expect(Weekday(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func dailySessionWithinADay() {
        let schedule = SessionSchedule(.daily(start: time("08:00:00"), end: time("17:00:00")))
        #expect(!schedule.isInSession(at: t("20240305-07:59:59.999")))
        #expect(schedule.isInSession(at: t("20240305-08:00:00")))
        #expect(schedule.isInSession(at: t("20240305-16:59:59.999")))
        #expect(!schedule.isInSession(at: t("20240305-17:00:00")))
        #expect(schedule.period(containing: t("20240305-12:00:00")) == period("20240305-08:00:00", "20240305-17:00:00"))
        #expect(schedule.period(containing: t("20240305-18:00:00")) == nil)
        #expect(schedule.periodStart(containing: t("20240305-12:00:00")) == t("20240305-08:00:00"))

        #expect(schedule.nextStart(after: t("20240305-07:00:00")) == t("20240305-08:00:00"))
        #expect(schedule.nextStart(after: t("20240305-08:00:00")) == t("20240306-08:00:00"))
        #expect(schedule.nextStart(after: t("20240305-12:00:00")) == t("20240306-08:00:00"))
        #expect(schedule.nextEnd(after: t("20240305-12:00:00")) == t("20240305-17:00:00"))
        #expect(schedule.nextEnd(after: t("20240305-18:00:00")) == t("20240306-17:00:00"))

        #expect(schedule.isSameSessionPeriod(t("20240305-09:00:00"), t("20240305-16:00:00")))
        #expect(!schedule.isSameSessionPeriod(t("20240305-09:00:00"), t("20240305-17:00:00")))
        let day = period("20240305-08:00:00", "20240305-17:00:00")
        #expect(day.contains(t("20240305-08:00:00")) && !day.contains(t("20240305-17:00:00")))
        #expect(!schedule.isSameSessionPeriod(t("20240305-09:00:00"), t("20240306-09:00:00")))
        // A store created before the session opened belongs to no period: the first logon resets.
        #expect(!schedule.isSameSessionPeriod(t("20240305-07:00:00"), t("20240305-09:00:00")))
        #expect(!schedule.isSameSessionPeriod(t("20240305-09:00:00"), t("20240305-18:00:00")))
    }

    @Test func dailySessionCrossingMidnight() {
        let schedule = SessionSchedule(.daily(start: time("22:00:00"), end: time("21:55:00")))
        #expect(schedule.isInSession(at: t("20240305-21:54:59")))
        #expect(!schedule.isInSession(at: t("20240305-21:55:00")))
        #expect(!schedule.isInSession(at: t("20240305-21:59:59")))
        #expect(schedule.isInSession(at: t("20240305-22:00:00")))
        #expect(schedule.isInSession(at: t("20240305-23:59:59")))
        #expect(schedule.isInSession(at: t("20240306-00:00:00")))
        #expect(schedule.period(containing: t("20240306-03:00:00")) == period("20240305-22:00:00", "20240306-21:55:00"))
        #expect(schedule.period(containing: t("20240305-23:00:00")) == period("20240305-22:00:00", "20240306-21:55:00"))

        #expect(schedule.isSameSessionPeriod(t("20240305-23:00:00"), t("20240306-21:00:00")))
        #expect(!schedule.isSameSessionPeriod(t("20240306-21:00:00"), t("20240306-22:30:00")))
        #expect(schedule.nextStart(after: t("20240306-03:00:00")) == t("20240306-22:00:00"))
        #expect(schedule.nextEnd(after: t("20240306-03:00:00")) == t("20240306-21:55:00"))
        #expect(schedule.nextEnd(after: t("20240306-21:57:00")) == t("20240307-21:55:00"))
    }

    @Test func equalStartAndEndMakeADayLongPeriod() {
        let schedule = SessionSchedule(.daily(start: time("00:00:00"), end: time("00:00:00")))
        #expect(schedule.isInSession(at: t("20240305-00:00:00")))
        #expect(schedule.isInSession(at: t("20240305-23:59:59.999")))
        #expect(schedule.period(containing: t("20240305-12:00:00")) == period("20240305-00:00:00", "20240306-00:00:00"))
        #expect(!schedule.isSameSessionPeriod(t("20240305-23:59:00"), t("20240306-00:01:00")))
    }

    @Test func nonStopSession() {
        let schedule = SessionSchedule.nonStop
        #expect(schedule.isInSession(at: t("19700101-00:00:00")))
        #expect(schedule.isInSession(at: t("20991231-23:59:59")))
        #expect(schedule.period(containing: t("20240305-12:00:00")) == .always)
        #expect(schedule.isSameSessionPeriod(t("20200101-00:00:00"), t("20240305-12:00:00")))
        #expect(schedule.nextStart(after: t("20240305-12:00:00")) == nil)
        #expect(schedule.nextEnd(after: t("20240305-12:00:00")) == nil)
        #expect(schedule.description == "non-stop")
    }

    /// The FX week, Sunday 17:00 to Friday 17:00 New York time, across the March 2024 DST change.
    @Test func weeklySessionInNewYorkAcrossDST() {
        let schedule = SessionSchedule(
            .weekly(startDay: .sunday, start: time("17:00:00"), endDay: .friday, end: time("17:00:00")),
            timeZone: zone("America/New_York"))
        // Winter (EST, UTC-5): Sunday 25 Feb 22:00 UTC to Friday 1 Mar 22:00 UTC.
        let winter = period("20240225-22:00:00", "20240301-22:00:00")
        #expect(schedule.period(containing: t("20240228-12:00:00")) == winter)
        #expect(schedule.isInSession(at: t("20240301-21:59:59")))
        #expect(!schedule.isInSession(at: t("20240301-22:00:00")))
        #expect(!schedule.isInSession(at: t("20240302-12:00:00")))  // Saturday
        #expect(!schedule.isInSession(at: t("20240303-21:59:59")))
        #expect(schedule.isInSession(at: t("20240303-22:00:00")))
        #expect(schedule.nextStart(after: t("20240302-12:00:00")) == t("20240303-22:00:00"))
        #expect(schedule.nextEnd(after: t("20240228-12:00:00")) == t("20240301-22:00:00"))
        #expect(schedule.isSameSessionPeriod(t("20240226-09:00:00"), t("20240229-09:00:00")))
        #expect(!schedule.isSameSessionPeriod(t("20240229-09:00:00"), t("20240304-09:00:00")))

        // Clocks go forward on Sunday 10 March at 02:00: that week opens at 17:00 EDT, 21:00 UTC.
        #expect(schedule.nextStart(after: t("20240309-12:00:00")) == t("20240310-21:00:00"))
        #expect(!schedule.isInSession(at: t("20240310-20:30:00")))  // 16:30 EDT
        #expect(schedule.isInSession(at: t("20240310-21:30:00")))
        #expect(schedule.period(containing: t("20240313-12:00:00")) == period("20240310-21:00:00", "20240315-21:00:00"))
        #expect(schedule.description == "weekly Sun 17:00:00-Fri 17:00:00 America/New_York")
    }

    @Test func weeklySessionWrappingTheEndOfTheWeek() {
        // Friday evening to Sunday evening: the days wrap from Saturday (7) to Sunday (1).
        let schedule = SessionSchedule(
            .weekly(startDay: .friday, start: time("22:00:00"), endDay: .sunday, end: time("20:00:00")))
        let weekend = period("20240301-22:00:00", "20240303-20:00:00")
        #expect(schedule.period(containing: t("20240302-12:00:00")) == weekend)
        #expect(schedule.isInSession(at: t("20240303-19:59:59")))
        #expect(!schedule.isInSession(at: t("20240303-20:00:00")))
        #expect(!schedule.isInSession(at: t("20240304-12:00:00")))  // Monday
        #expect(!schedule.isInSession(at: t("20240301-21:59:59")))
        #expect(schedule.nextStart(after: t("20240304-12:00:00")) == t("20240308-22:00:00"))
        #expect(schedule.nextEnd(after: t("20240304-12:00:00")) == t("20240310-20:00:00"))
    }

    @Test func weeklySessionOnOneDayLastsAWeek() {
        // Sunday 17:00 to Sunday 16:55: closed five minutes a week.
        let schedule = SessionSchedule(
            .weekly(startDay: .sunday, start: time("17:00:00"), endDay: .sunday, end: time("16:55:00")))
        #expect(schedule.period(containing: t("20240228-12:00:00")) == period("20240225-17:00:00", "20240303-16:55:00"))
        #expect(schedule.isInSession(at: t("20240303-16:54:59")))
        #expect(!schedule.isInSession(at: t("20240303-16:57:00")))
        #expect(schedule.isInSession(at: t("20240303-17:00:00")))
        #expect(!schedule.isSameSessionPeriod(t("20240303-16:50:00"), t("20240303-17:10:00")))
    }

    @Test func dailySessionFollowsLondonSummerTime() {
        let schedule = SessionSchedule(
            .daily(start: time("08:00:00"), end: time("17:00:00")), timeZone: zone("Europe/London"))
        #expect(schedule.period(containing: t("20240329-10:00:00")) == period("20240329-08:00:00", "20240329-17:00:00"))
        #expect(schedule.period(containing: t("20240402-10:00:00")) == period("20240402-07:00:00", "20240402-16:00:00"))
        #expect(!schedule.isInSession(at: t("20240402-16:30:00")))
    }

    @Test func startInTheSpringForwardGapMovesForward() {
        // 02:30 does not exist in New York on 10 March 2024: it starts at 03:30 EDT, 07:30 UTC.
        let schedule = SessionSchedule(
            .daily(start: time("02:30:00"), end: time("05:00:00")), timeZone: zone("America/New_York"))
        #expect(schedule.period(containing: t("20240310-08:00:00")) == period("20240310-07:30:00", "20240310-09:00:00"))
        #expect(schedule.period(containing: t("20240311-08:00:00")) == period("20240311-06:30:00", "20240311-09:00:00"))
        #expect(schedule.period(containing: t("20240309-08:00:00")) == period("20240309-07:30:00", "20240309-10:00:00"))
    }

    @Test func aPeriodInsideTheSpringForwardGapIsSkipped() {
        // 02:30 to 03:00 New York: on 10 March 2024 02:30 becomes 03:30 EDT, after 03:00; no period that day.
        let schedule = SessionSchedule(
            .daily(start: time("02:30:00"), end: time("03:00:00")), timeZone: zone("America/New_York"))
        #expect(schedule.period(containing: t("20240309-07:45:00")) == period("20240309-07:30:00", "20240309-08:00:00"))
        #expect(!schedule.isInSession(at: t("20240310-07:15:00")))
        #expect(!schedule.isInSession(at: t("20240310-07:45:00")))
        #expect(schedule.nextStart(after: t("20240310-00:00:00")) == t("20240311-06:30:00"))
        #expect(schedule.nextEnd(after: t("20240310-00:00:00")) == t("20240311-07:00:00"))
    }

    @Test func startInTheFallBackOverlapTakesTheFirstOccurrence() {
        // 01:30 happens twice in New York on 3 November 2024: first at 05:30 UTC (EDT).
        let schedule = SessionSchedule(
            .daily(start: time("01:30:00"), end: time("12:00:00")), timeZone: zone("America/New_York"))
        #expect(schedule.periodStart(containing: t("20241103-10:00:00")) == t("20241103-05:30:00"))
        #expect(schedule.nextEnd(after: t("20241103-10:00:00")) == t("20241103-17:00:00"))
    }

    @Test func dailySessionAcrossMidnightAndADSTChange() {
        // 17:00 to 16:55 New York: the period opening Saturday 9 March (EST) closes Sunday in EDT,
        // so it is an hour shorter, and the next one opens at 21:00 UTC.
        let schedule = SessionSchedule(
            .daily(start: time("17:00:00"), end: time("16:55:00")), timeZone: zone("America/New_York"))
        #expect(schedule.period(containing: t("20240310-12:00:00")) == period("20240309-22:00:00", "20240310-20:55:00"))
        #expect(!schedule.isInSession(at: t("20240310-20:57:00")))
        #expect(schedule.nextStart(after: t("20240310-20:56:00")) == t("20240310-21:00:00"))
        #expect(schedule.isSameSessionPeriod(t("20240309-23:00:00"), t("20240310-20:00:00")))
    }

    @Test func sessionPeriodsAreConsistentOverAYear() {
        // Walk a year in 193-minute steps (an odd step visits every time of day): every answer agrees with
        // the others.
        let schedules = [
            SessionSchedule(.daily(start: time("17:00:00"), end: time("16:55:00")), timeZone: zone("America/New_York")),
            SessionSchedule(
                .weekly(startDay: .sunday, start: time("17:00:00"), endDay: .friday, end: time("17:00:00")),
                timeZone: zone("Europe/London")),
            SessionSchedule(.daily(start: time("09:00:00"), end: time("15:00:00")), timeZone: zone("Australia/Sydney")),
        ]
        for schedule in schedules {
            var now = t("20240101-00:00:00")
            let step: Int64 = 193 * 60 * 1_000_000_000
            while now < t("20250101-00:00:00") {
                let start = schedule.nextStart(after: now)!
                let end = schedule.nextEnd(after: now)!
                if let current = schedule.period(containing: now) {
                    #expect(current.end == end, "\(schedule) at \(now)")
                    #expect(start >= end)
                    #expect(schedule.period(containing: current.start) == current)
                } else {
                    #expect(start < end, "\(schedule) at \(now)")
                    #expect(schedule.period(containing: start)?.end == end)
                }
                now = UTCTimestamp(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch + step)
            }
        }
    }
}
