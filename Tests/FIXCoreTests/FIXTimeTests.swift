import Testing

@testable import FIXCore

@Suite struct FIXTimeTests {
    @Test(arguments: [
        ("20261126-09:30:00", TimestampPrecision.seconds),
        ("20261126-09:30:00.123", .milliseconds),
        ("20261126-09:30:00.123456", .microseconds),
        ("20261126-09:30:00.123456789", .nanoseconds),
    ])
    func timestampRoundTrips(text: String, precision: TimestampPrecision) throws {
        let ts = try #require(UTCTimestamp(text))
        #expect(ts.precision == precision)
        #expect(ts.description == text)
    }

    @Test func timestampValue() throws {
        let ts = try #require(UTCTimestamp("19700102-00:00:01.5"))
        #expect(ts.nanosecondsSinceEpoch == 86_401_500_000_000)
        #expect(UTCTimestamp("20240229-23:59:60")!.components.day == 1)  // a leap second reads as the next instant
        for bad in [
            "20261126-24:00:00", "20261131-00:00:00", "20230229-00:00:00", "20261126 09:30:00",
            "20261126-09:30:00.", "20261126-09:30:00.1234567890", "2026112-09:30:00",
        ] {
            #expect(UTCTimestamp(bad) == nil, "\(bad)")
        }
    }

    @Test func otherTimeTypes() {
        #expect(UTCTimeOnly.parse(UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
        var s = "13:45:01.001"
        let t = s.withUTF8 { UTCTimeOnly.parse(UnsafeRawBufferPointer($0)) }
        #expect(t?.description == "13:45:01.001")
        s = "20261126"
        #expect(s.withUTF8 { FIXDate.parse(UnsafeRawBufferPointer($0)) }?.description == "20261126")
        for text in ["202611", "20261126", "202611w2"] {
            var m = text
            #expect(m.withUTF8 { MonthYear.parse(UnsafeRawBufferPointer($0)) }?.description == text)
        }
        var bad = "202613"
        #expect(bad.withUTF8 { MonthYear.parse(UnsafeRawBufferPointer($0)) } == nil)
    }
}
