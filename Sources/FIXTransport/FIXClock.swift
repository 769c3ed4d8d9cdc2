import FIXCore
import FIXSession
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the transport reads the time: wall-clock UTC for SendingTime, and a monotonic clock for
/// timers.
///
/// The monotonic reading must be on the scale of `NIODeadline.uptimeNanoseconds`, because session
/// timers are scheduled on the event loop at `NIODeadline.uptimeNanoseconds(deadline)`. Tests on an
/// `EmbeddedEventLoop` use ``embedded(_:utcAtStart:)`` so that `advanceTime` moves both clocks.
public struct FIXClock: Sendable {
    /// The current time. Called on the event loop for every event, so it must be cheap.
    public let now: @Sendable () -> SessionTime

    public init(_ now: @escaping @Sendable () -> SessionTime) {
        self.now = now
    }

    /// The system's clocks: `CLOCK_REALTIME` and `CLOCK_MONOTONIC` (`NIODeadline`'s scale).
    public static let system = FIXClock { SessionTime.now(precision: .nanoseconds) }

    /// The clock of an `EmbeddedEventLoop`: its `now` is the monotonic reading, and UTC is
    /// `utcAtStart` plus the same elapsed time.
    public static func embedded(_ loop: any EventLoop, utcAtStart: UTCTimestamp) -> FIXClock {
        FIXClock {
            let mono = Int64(loop.now.uptimeNanoseconds)
            return SessionTime(
                utc: UTCTimestamp(nanosecondsSinceEpoch: utcAtStart.nanosecondsSinceEpoch + mono),
                monotonicNanoseconds: mono)
        }
    }

    /// The wall clock as a UTCTimestamp with nanosecond precision.
    public static func wallClockNow() -> UTCTimestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UTCTimestamp(
            nanosecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec), precision: .nanoseconds)
    }
}
