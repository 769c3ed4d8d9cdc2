import FIXCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Checks inbound messages against a data dictionary. The session consults it for every message
/// that arrives in sequence; the FIXCore `DataDictionary` conforms, tests use small hand-written ones.
public protocol MessageValidator: Sendable {
    /// Why `message` is invalid (the Reject the session sends), or `nil` when it is valid. An
    /// unknown MsgType is reported as ``SessionRejectReason/invalidMsgType``.
    func validate(_ message: FIXMessage) -> FIXRejectInfo?
    /// Whether the application handles messages of `msgType`. A valid but unsupported application
    /// message is answered with a BusinessMessageReject (380=3).
    func isSupported(msgType: String) -> Bool
}

/// How one FIX session behaves: its identity, role, timers and the QuickFIX switches.
///
/// Property names follow the QuickFIX settings keys (`HeartBtInt` is ``heartBtInt``,
/// `ResetOnLogon` is ``resetOnLogon``, ...); durations are in seconds as in the settings file.
public struct SessionConfiguration: Sendable {
    /// ConnectionType: who opens the TCP connection and sends the first Logon.
    public enum ConnectionType: String, Sendable, Hashable {
        case initiator
        case acceptor
    }

    /// The SessionID.
    public var identity: SessionIdentity
    /// ConnectionType.
    public var connectionType: ConnectionType
    /// HeartBtInt (seconds) an initiator proposes in its Logon. An acceptor adopts the value of the
    /// counterparty's Logon. Zero disables heartbeats and test requests.
    public var heartBtInt: Int
    /// ResetOnLogon: send ResetSeqNumFlag (141=Y) on Logon and start both sequences at 1.
    public var resetOnLogon = false
    /// ResetOnLogout: start both sequences at 1 after a Logout exchange.
    public var resetOnLogout = false
    /// ResetOnDisconnect: start both sequences at 1 after every disconnection.
    public var resetOnDisconnect = false
    /// RefreshOnLogon: the driver reloads the store (``SessionStateMachine/restore(nextSenderMsgSeqNum:nextTargetMsgSeqNum:)``)
    /// before each connection, for stores shared with a standby engine.
    public var refreshOnLogon = false
    /// CheckCompID: inbound SenderCompID/TargetCompID must be ours reversed (Reject 373=9 and Logout otherwise).
    public var checkCompID = true
    /// CheckLatency: inbound SendingTime must be within ``maxLatency`` of our clock (Reject 373=10 and Logout otherwise).
    public var checkLatency = true
    /// MaxLatency (seconds).
    public var maxLatency = 120
    /// SendRedundantResendRequests: ask again for a gap that an outstanding ResendRequest already covers.
    public var sendRedundantResendRequests = false
    /// ResendRequestChunkSize: ask for at most this many messages per ResendRequest, and answer a
    /// ResendRequest by reading and writing the store this many messages at a time (0: no limit on
    /// requests; resends are then read in chunks of ``defaultResendReadChunkSize``).
    public var resendRequestChunkSize = 0
    /// PersistMessages: keep outbound application messages for resends. When off, every resend is
    /// answered with a SequenceReset-GapFill.
    public var persistMessages = true
    /// TimestampPrecision of SendingTime and OrigSendingTime we write.
    public var timestampPrecision: TimestampPrecision = .milliseconds
    /// LogonTimeout (seconds): how long to wait for the counterparty's Logon.
    public var logonTimeout = 10
    /// LogoutTimeout (seconds): how long to wait for the Logout reply before disconnecting.
    public var logoutTimeout = 2
    /// Username (553): sent on our Logon by an initiator; required of the counterparty's Logon by an acceptor when set.
    public var username: String?
    /// Password (554): as ``username``. Never written to a log or an event.
    public var password: String?
    /// The validation switches the validator was built with. The session reads only
    /// `useDataDictionary`: when false, ``validator`` is not consulted.
    public var validationOptions = ValidationOptions()
    /// The data dictionary check; `nil` accepts every well-framed message of a FIX 4.4 MsgType.
    public var validator: (any MessageValidator)?
    /// TestRequestDelayMultiplier: a TestRequest is sent after `heartBtInt * (1 + multiplier)` of
    /// silence, and the connection is dropped after twice that (QuickFIX: 1.2 and 2.4 HeartBtInt).
    public var testRequestDelayMultiplier = 0.2
    /// Largest number of too-high messages kept while a gap is being filled. Beyond it, later
    /// messages are dropped and requested again, so a flooding counterparty cannot exhaust memory.
    public var maxQueuedMessages = 10_000

    /// Resends are read from the store this many messages at a time when no chunk size is configured.
    public static let defaultResendReadChunkSize = 1_000

    public init(identity: SessionIdentity, connectionType: ConnectionType, heartBtInt: Int = 30) {
        self.identity = identity
        self.connectionType = connectionType
        self.heartBtInt = heartBtInt
    }
}

/// A point in time as the session sees it: wall-clock UTC for SendingTime and latency checks, and a
/// monotonic nanosecond count for timers, so a wall-clock jump never fires or starves a heartbeat.
public struct SessionTime: Sendable, Hashable, CustomStringConvertible {
    /// Wall clock (SendingTime, OrigSendingTime, MaxLatency).
    public var utc: UTCTimestamp
    /// Monotonic clock in nanoseconds (NIO's `NIODeadline.uptimeNanoseconds` is a good source).
    public var monotonicNanoseconds: Int64

    public init(utc: UTCTimestamp, monotonicNanoseconds: Int64) {
        self.utc = utc
        self.monotonicNanoseconds = monotonicNanoseconds
    }

    /// The time `seconds` later on both clocks.
    public func adding(seconds: Double) -> SessionTime {
        let nanos = Int64((seconds * 1e9).rounded())
        return adding(nanoseconds: nanos)
    }

    /// The time `nanoseconds` later on both clocks.
    public func adding(nanoseconds: Int64) -> SessionTime {
        SessionTime(
            utc: UTCTimestamp(
                nanosecondsSinceEpoch: utc.nanosecondsSinceEpoch + nanoseconds, precision: utc.precision),
            monotonicNanoseconds: monotonicNanoseconds + nanoseconds)
    }

    public var description: String { "\(utc) (+\(monotonicNanoseconds)ns)" }

    /// The system clocks now (CLOCK_REALTIME and CLOCK_MONOTONIC), for drivers. The monotonic
    /// value is the one `NIODeadline.now().uptimeNanoseconds` reads.
    public static func now(precision: TimestampPrecision = .milliseconds) -> SessionTime {
        var wall = timespec()
        var mono = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        clock_gettime(CLOCK_MONOTONIC, &mono)
        return SessionTime(
            utc: UTCTimestamp(
                nanosecondsSinceEpoch: Int64(wall.tv_sec) * 1_000_000_000 + Int64(wall.tv_nsec), precision: precision),
            monotonicNanoseconds: Int64(mono.tv_sec) * 1_000_000_000 + Int64(mono.tv_nsec))
    }
}
