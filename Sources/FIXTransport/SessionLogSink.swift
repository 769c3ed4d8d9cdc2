import FIXCore
import FIXSession
import NIOCore

/// Where the transport writes a session's message and event logs.
///
/// Frames are passed as received or sent; implementations mask passwords with ``FIXLogFormat``.
/// Called on the session's event loop, so implementations must not block for long.
public protocol SessionLogSink: AnyObject, Sendable {
    /// A frame arrived (garbled bytes included).
    func incoming(_ frame: ByteBuffer)
    /// A frame left.
    func outgoing(_ frame: ByteBuffer)
    /// A session event, in words.
    func event(_ text: String)
}

/// A log that keeps nothing.
public final class NullSessionLog: SessionLogSink {
    public init() {}
    public func incoming(_ frame: ByteBuffer) {}
    public func outgoing(_ frame: ByteBuffer) {}
    public func event(_ text: String) {}
}
