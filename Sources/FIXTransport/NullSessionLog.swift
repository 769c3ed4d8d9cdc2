import FIXCore
import FIXSession
import NIOCore

/// A session log that keeps nothing (sessions whose traffic is logged elsewhere, benchmarks).
public struct NullSessionLog: SessionLog {
    public init() {}
    public func incoming(_ frame: ByteBuffer, at time: UTCTimestamp) {}
    public func outgoing(_ frame: ByteBuffer, at time: UTCTimestamp) {}
    public func event(_ text: String, at time: UTCTimestamp) {}
}
