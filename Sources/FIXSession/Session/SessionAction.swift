import FIXCore
import NIOCore

/// A message the session wants on the wire, with what the driver must record before writing it.
public struct OutboundMessage: Sendable, Equatable, CustomStringConvertible {
    /// What the driver records in the store before the bytes go out.
    public enum Storage: Sendable, Equatable {
        /// Save the bytes under ``OutboundMessage/seqNum`` (they can be resent) and advance the
        /// next sender sequence number past it.
        case message
        /// Advance the next sender sequence number past ``OutboundMessage/seqNum`` without keeping
        /// the bytes (PersistMessages=N).
        case sequenceNumberOnly
        /// Nothing: a resent message or a GapFill reuses sequence numbers already recorded.
        case none
    }

    /// MsgSeqNum (34) of the message.
    public var seqNum: Int
    /// MsgType (35).
    public var msgType: String
    /// The whole frame, 8= to 10=.
    public var bytes: ByteBuffer
    public var storage: Storage

    public init(seqNum: Int, msgType: String, bytes: ByteBuffer, storage: Storage) {
        self.seqNum = seqNum
        self.msgType = msgType
        self.bytes = bytes
        self.storage = storage
    }

    /// The frame with `|` for SOH and the password masked, for test failures and logs.
    public var description: String { FIXLogFormat.masked(bytes, separator: UInt8(ascii: "|")) }
}

/// What the driver does after feeding the session an event. Actions are executed in order.
public enum SessionAction: Sendable, Equatable {
    /// Record each message in the store as its ``OutboundMessage/storage`` says, write them all,
    /// then flush once.
    case send([OutboundMessage])
    /// Answer a ResendRequest: read the store chunk by chunk and write what the replay makes of
    /// each chunk (see ``ResendReplay``), flushing after each chunk.
    case resend(ResendReplay)
    /// Hand an application message to the application. Its PossDupFlag (43) and PossResend (97)
    /// are the application's to judge.
    case deliver(FIXMessage)
    /// Tell the application and the event log.
    case event(SessionEvent)
    /// Record the next inbound sequence number in the store. It follows the deliveries it covers:
    /// after a crash in between, those messages are requested again and redelivered with
    /// PossDupFlag=Y (at least once), never lost.
    case persistNextTargetMsgSeqNum(Int)
    /// Reset the store: both sequence numbers back to 1, stored messages dropped, a new creation time.
    case resetStore(creationTime: UTCTimestamp)
    /// Close the connection (after writing what was sent before).
    case disconnect
    /// Close the connection that was just reported with ``SessionStateMachine/connected(at:)``,
    /// without writing anything; the established connection is untouched (test case 1b).
    case refuseConnection
    /// Call ``SessionStateMachine/tick(at:)`` once the monotonic clock reaches this value. A later
    /// schedule replaces an earlier one; the driver keeps at most one timer.
    case scheduleTick(atMonotonicNanoseconds: Int64)
}

/// Why an application message could not be sent.
public enum SessionSendError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The session is not logged on (or is logging out); nothing was consumed.
    case notLoggedOn
    /// Session-level messages are the session's own: use the session's events instead.
    case sessionMessageType(String)

    public var description: String {
        switch self {
        case .notLoggedOn: return "the session is not logged on"
        case .sessionMessageType(let t): return "MsgType \(t) is sent by the session itself"
        }
    }
}
