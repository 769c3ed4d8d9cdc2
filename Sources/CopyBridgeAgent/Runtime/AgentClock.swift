import FIXCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The agent's two clocks: wall time for the engine's events and the journal, monotonic time for
/// latencies (on `NIODeadline`'s scale, like the transport's timers).
enum AgentClock {
    /// Nanoseconds since the Unix epoch.
    @inline(__always)
    static func wallNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Monotonic nanoseconds.
    @inline(__always)
    static func monotonicNanos() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds
    }

    /// `HH:MM:SS.mmm` in UTC, for console lines.
    static func timeOfDay(_ wallNanos: Int64) -> String {
        let ms = wallNanos / 1_000_000
        let dayMs = ((ms % 86_400_000) + 86_400_000) % 86_400_000
        let h = dayMs / 3_600_000
        let m = dayMs / 60_000 % 60
        let s = dayMs / 1000 % 60
        let f = dayMs % 1000
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let millis = f < 10 ? "00\(f)" : (f < 100 ? "0\(f)" : "\(f)")
        return "\(two(h)):\(two(m)):\(two(s)).\(millis)"
    }
}
