import FIXCore
import NIOCore

/// The FIX 4.4 session layer as a pure state machine: Logon, sequence numbers, gap detection and
/// ResendRequests, heartbeats and test requests, SequenceReset, Reject and Logout, following the
/// FIX "Session Layer Test Cases".
///
/// It does no I/O and reads no clock: every event comes with the time (``SessionTime``), and every
/// event returns the actions to perform, in order. A driver (the SwiftNIO channel handler) owns
/// one machine per connection's session, a ``MessageStore`` and a timer, and does this:
///
/// ```swift
/// var machine = SessionStateMachine(configuration: config, store: store)
/// // TCP connected (initiator: this sends the Logon):
/// execute(machine.connected(at: now()))
/// // bytes arrived: frame them with FIXFrameDecoder and feed every result, garbled ones included:
/// while let result = decoder.next(from: &buffer) { execute(machine.received(result, at: now())) }
/// // the timer fired:
/// execute(machine.tick(at: now()))
/// // the application sends an order (throws when not logged on):
/// execute(try machine.send(order, at: now()))
/// // operator logout / TCP closed / schedule:
/// execute(machine.logout(text: nil, at: now())); execute(machine.disconnected(at: now()))
///
/// func execute(_ actions: [SessionAction]) {
///     for action in actions {
///         switch action {
///         case .send(let messages):        // store first, then the wire: a crash never loses a sent message
///             for m in messages { try store.record(m); log.outgoing(m.bytes); channel.write(m.bytes) }
///             channel.flush()
///         case .resend(var replay):        // bounded memory: one chunk of the store at a time
///             try store.run(&replay) { chunk in for m in chunk { channel.write(m.bytes) }; channel.flush() }
///         case .deliver(let message):      application.fromApp(message)
///         case .event(let event):          log.event(event); application.onEvent(event)
///         case .persistNextTargetMsgSeqNum(let n): try store.setNextTargetMsgSeqNum(n)
///         case .resetStore(let time):      try store.reset(creationTime: time)
///         case .disconnect:                channel.close()
///         case .refuseConnection:          newChannel.close()   // 1b: the established one stays
///         case .scheduleTick(let deadline): rescheduleTimer(at: deadline)
///         }
///     }
/// }
/// ```
///
/// Execute a batch to the end before feeding the next event. With ``FileStore/SyncPolicy/batch``,
/// call `store.sync()` before the first write of a batch. Before ``connected(at:)``, a driver
/// whose configuration has `refreshOnLogon` reloads the store and calls
/// ``restore(nextSenderMsgSeqNum:nextTargetMsgSeqNum:)``.
public struct SessionStateMachine: Sendable {
    /// The configuration the machine was created with.
    public let configuration: SessionConfiguration

    private var state: State
    private var session: SessionData

    /// Creates a disconnected session continuing from the given sequence numbers.
    public init(configuration: SessionConfiguration, nextSenderMsgSeqNum: Int = 1, nextTargetMsgSeqNum: Int = 1) {
        precondition(nextSenderMsgSeqNum >= 1 && nextTargetMsgSeqNum >= 1, "sequence numbers start at 1")
        self.configuration = configuration
        self.state = .disconnected
        self.session = SessionData(nextSender: nextSenderMsgSeqNum, nextTarget: nextTargetMsgSeqNum)
    }

    /// Creates a disconnected session continuing from the store's sequence numbers.
    public init(configuration: SessionConfiguration, store: some MessageStore) {
        self.init(
            configuration: configuration, nextSenderMsgSeqNum: store.nextSenderMsgSeqNum,
            nextTargetMsgSeqNum: store.nextTargetMsgSeqNum)
    }

    // MARK: Observing

    /// MsgSeqNum of the next message we send.
    public var nextSenderMsgSeqNum: Int { session.nextSender }
    /// MsgSeqNum expected on the next message received.
    public var nextTargetMsgSeqNum: Int { session.nextTarget }
    /// Whether the Logon exchange is complete and no Logout has been sent or received.
    public var isLoggedOn: Bool {
        switch state {
        case .active: return true
        case .disconnected, .awaitingLogon, .awaitingLogout, .disconnecting: return false
        }
    }
    /// Whether a connection is open (from ``connected(at:)`` to ``disconnected(at:)``).
    public var isConnected: Bool {
        switch state {
        case .disconnected: return false
        case .awaitingLogon, .active, .awaitingLogout, .disconnecting: return true
        }
    }
    /// Whether the session schedule is open (initiators connect only then; acceptors refuse Logons otherwise).
    public var isWithinSchedule: Bool { session.withinSchedule }
    /// The heartbeat interval in force: our configuration's, or the counterparty's for an acceptor.
    public var heartBtInt: Int { session.heartBtInt ?? configuration.heartBtInt }

    // MARK: Events

    /// Sets the sequence numbers from a reloaded store (RefreshOnLogon). Only while disconnected.
    public mutating func restore(nextSenderMsgSeqNum: Int, nextTargetMsgSeqNum: Int) {
        precondition(!isConnected, "restore(nextSenderMsgSeqNum:nextTargetMsgSeqNum:) while connected")
        session.nextSender = nextSenderMsgSeqNum
        session.nextTarget = nextTargetMsgSeqNum
    }

    /// A TCP connection is open. An initiator sends its Logon; an acceptor waits for one. A second
    /// connection while one is open is refused with ``SessionAction/refuseConnection``.
    public mutating func connected(at now: SessionTime) -> [SessionAction] {
        []
    }

    /// The framing decoder produced a message or skipped garbled bytes.
    public mutating func received(_ result: FIXDecodeResult, at now: SessionTime) -> [SessionAction] {
        []
    }

    /// A well-framed message arrived.
    public mutating func received(_ message: FIXMessage, at now: SessionTime) -> [SessionAction] {
        received(.message(message), at: now)
    }

    /// The timer scheduled with ``SessionAction/scheduleTick(atMonotonicNanoseconds:)`` fired
    /// (calling it early or more often is harmless).
    public mutating func tick(at now: SessionTime) -> [SessionAction] {
        []
    }

    /// The application sends `message`: the session fills in the header (BeginString, CompIDs and
    /// sub/location IDs, MsgSeqNum, SendingTime) and returns the ``SessionAction/send(_:)``.
    /// PossDupFlag and OrigSendingTime set by the application are kept.
    public mutating func send(
        _ message: FIXMessageBuilder, at now: SessionTime
    ) throws(SessionSendError)
        -> [SessionAction]
    {
        throw .notLoggedOn
    }

    /// The application or an operator asks to log out. When logged on, a Logout is sent and the
    /// connection closes on the reply or after LogoutTimeout; otherwise the connection just closes.
    public mutating func logout(text: String? = nil, at now: SessionTime) -> [SessionAction] {
        []
    }

    /// The TCP connection closed (whoever closed it).
    public mutating func disconnected(at now: SessionTime) -> [SessionAction] {
        []
    }

    /// The session schedule opened: initiators may connect, acceptors accept Logons.
    public mutating func scheduleOpened(at now: SessionTime) -> [SessionAction] {
        []
    }

    /// The session schedule closed: a logged-on session logs out, a connecting one disconnects.
    public mutating func scheduleClosed(at now: SessionTime) -> [SessionAction] {
        []
    }

    /// A new session period began (daily or weekly reset): logs out if connected, then both
    /// sequence numbers start again at 1.
    public mutating func newSessionPeriod(at now: SessionTime) -> [SessionAction] {
        []
    }
}

extension SessionStateMachine {
    private enum State: Sendable {
        case disconnected
        case awaitingLogon
        case active
        case awaitingLogout
        case disconnecting
    }

    private struct SessionData: Sendable {
        var nextSender: Int
        var nextTarget: Int
        var withinSchedule = true
        var heartBtInt: Int?
    }
}
