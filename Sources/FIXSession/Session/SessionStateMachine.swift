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
/// record all the messages of a `.send`, call `store.sync()`, then write them. After
/// `.disconnect`, report ``disconnected(at:)`` once the channel is closed; until then further
/// input is ignored. Before ``connected(at:)``, a driver whose configuration has `refreshOnLogon`
/// calls `store.refresh()` and ``restore(nextSenderMsgSeqNum:nextTargetMsgSeqNum:)``.
///
/// Behaviour follows the test cases: a garbled frame is ignored; a message ahead of sequence is
/// kept and the gap requested (ResendRequestChunkSize at a time); one behind is ignored when
/// PossDupFlag=Y and fatal otherwise; an invalid message in sequence gets a session Reject and
/// its number is consumed; SendingTime out of MaxLatency or a wrong CompID gets a Reject and a
/// Logout; a wrong BeginString or a missing MsgSeqNum gets a Logout and a disconnection.
public struct SessionStateMachine: Sendable {
    /// The configuration the machine was created with.
    public let configuration: SessionConfiguration

    private var state: State
    private var session: SessionData
    /// The header fields of the application message being sent (see ``send(_:at:)``).
    private var stampedHeader = FIXMessageBuilder(msgType: "", byteCapacity: 128, fieldCapacity: 8)

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
        var out = Output()
        switch state {
        case .awaitingLogon, .active, .awaitingLogout, .disconnecting:
            out.event(.duplicateConnectionRefused)
            out.ordered(.refuseConnection)
            return out.actions
        case .disconnected:
            break
        }
        state = .awaitingLogon(connectedAt: now.monotonicNanoseconds)
        session.lastSent = now.monotonicNanoseconds
        session.lastReceived = now.monotonicNanoseconds
        out.event(.connected(configuration.connectionType))
        switch configuration.connectionType {
        case .acceptor:
            break
        case .initiator:
            guard session.withinSchedule else {
                disconnect(&out, reason: "Session schedule is closed")
                break
            }
            let reset = configuration.resetOnLogon
            if reset { resetSequenceNumbers(&out, now, reason: "ResetOnLogon") }
            session.sentResetSeqNumFlag = reset
            sendLogon(
                &out, now, heartBtInt: configuration.heartBtInt, resetSeqNumFlag: reset, credentials: true,
                event: .logonSent(resetSeqNumFlag: reset))
        }
        return finish(&out, now)
    }

    /// The framing decoder produced a message or skipped garbled bytes.
    public mutating func received(_ result: FIXDecodeResult, at now: SessionTime) -> [SessionAction] {
        var out = Output()
        switch result {
        case .garbled(let error, _):
            switch state {
            case .disconnected: return []
            case .awaitingLogon, .active, .awaitingLogout, .disconnecting: out.event(.garbledIgnored(error))
            }
        case .message(let message):
            switch state {
            case .disconnected, .disconnecting: return []
            case .awaitingLogon: receivedBeforeLogon(message, &out, now)
            case .active, .awaitingLogout: receivedInSession(message, &out, now)
            }
        }
        return finish(&out, now)
    }

    /// A well-framed message arrived.
    public mutating func received(_ message: FIXMessage, at now: SessionTime) -> [SessionAction] {
        received(.message(message), at: now)
    }

    /// The timer scheduled with ``SessionAction/scheduleTick(atMonotonicNanoseconds:)`` fired
    /// (calling it early or more often is harmless).
    public mutating func tick(at now: SessionTime) -> [SessionAction] {
        var out = Output()
        let t = now.monotonicNanoseconds
        if let scheduled = session.scheduledTick, scheduled <= t { session.scheduledTick = nil }
        switch state {
        case .awaitingLogon(let connectedAt):
            if t - connectedAt >= seconds(configuration.logonTimeout) {
                out.event(.logonTimeout)
                disconnect(&out, reason: "Timed out waiting for logon")
            }
        case .awaitingLogout(let deadline):
            if t >= deadline {
                out.event(.logoutTimeout)
                disconnect(&out, reason: "Timed out waiting for logout response")
            }
        case .active:
            guard heartBtInt > 0 else { break }
            let silence = t - session.lastReceived
            if session.testRequestSent && silence >= 2 * testRequestDelay {
                out.event(.heartbeatTimeout)
                disconnect(&out, reason: "Timed out waiting for heartbeat")
                break
            }
            if !session.testRequestSent && silence >= testRequestDelay {
                let id = "TEST"
                sendAdmin(&out, now, SessionMessageType.testRequest, event: .testRequestSent(testReqID: id)) {
                    $0.set(FIXTag.testReqID, id)
                }
                session.testRequestSent = true
            }
            if t - session.lastSent >= seconds(heartBtInt) {
                sendAdmin(&out, now, SessionMessageType.heartbeat, event: nil) { _ in }
            }
        case .disconnected, .disconnecting:
            break
        }
        return finish(&out, now)
    }

    /// The application sends `message`: the session fills in the header (BeginString, CompIDs and
    /// sub/location IDs, MsgSeqNum, SendingTime) and returns the ``SessionAction/send(_:)``.
    /// PossDupFlag and OrigSendingTime set by the application are kept.
    public mutating func send(
        _ message: FIXMessageBuilder, at now: SessionTime
    ) throws(SessionSendError)
        -> [SessionAction]
    {
        switch state {
        case .active: break
        case .disconnected, .awaitingLogon, .awaitingLogout, .disconnecting: throw .notLoggedOn
        }
        let msgType = message.msgType
        if SessionMessageType.isAdmin(msgType) && msgType != SessionMessageType.reject {
            throw .sessionMessageType(msgType)
        }
        // The header goes into a builder of its own, kept between messages, and is merged in as
        // the message is encoded: stamping `message` itself would copy it, as its sender still
        // holds it.
        header.stampFresh(&stampedHeader, msgType: msgType, seqNum: session.nextSender, sendingTime: now.utc)
        let outbound = OutboundMessage(
            seqNum: session.nextSender, msgType: msgType, bytes: message.encoded(header: stampedHeader),
            storage: configuration.persistMessages ? .message : .sequenceNumberOnly)
        session.nextSender += 1
        session.lastSent = now.monotonicNanoseconds
        var out = Output()
        out.sent(outbound, nil)
        return finish(&out, now)
    }

    /// The application or an operator asks to log out. When logged on, a Logout is sent and the
    /// connection closes on the reply or after LogoutTimeout; otherwise the connection just closes.
    public mutating func logout(text: String? = nil, at now: SessionTime) -> [SessionAction] {
        var out = Output()
        switch state {
        case .active:
            startLogout(&out, now, text: text)
        case .awaitingLogon:
            disconnect(&out, reason: text ?? "Logout requested before logon completed")
        case .awaitingLogout, .disconnecting, .disconnected:
            break
        }
        return finish(&out, now)
    }

    /// The TCP connection closed (whoever closed it).
    public mutating func disconnected(at now: SessionTime) -> [SessionAction] {
        switch state {
        case .disconnected: return []
        case .awaitingLogon, .active, .awaitingLogout, .disconnecting: break
        }
        state = .disconnected
        clearConnection()
        var out = Output()
        out.event(.disconnected)
        if configuration.resetOnDisconnect { resetSequenceNumbers(&out, now, reason: "ResetOnDisconnect") }
        return finish(&out, now)
    }

    /// The session schedule opened: initiators may connect, acceptors accept Logons.
    public mutating func scheduleOpened(at now: SessionTime) -> [SessionAction] {
        var out = Output()
        if !session.withinSchedule {
            session.withinSchedule = true
            out.event(.scheduleChanged(open: true))
        }
        return finish(&out, now)
    }

    /// The session schedule closed: a logged-on session logs out, a connecting one disconnects.
    public mutating func scheduleClosed(at now: SessionTime) -> [SessionAction] {
        var out = Output()
        if session.withinSchedule {
            session.withinSchedule = false
            out.event(.scheduleChanged(open: false))
        }
        switch state {
        case .active: startLogout(&out, now, text: nil)
        case .awaitingLogon: disconnect(&out, reason: "Session schedule closed")
        case .awaitingLogout, .disconnecting, .disconnected: break
        }
        return finish(&out, now)
    }

    /// A new session period began (daily or weekly reset): logs out if connected, then both
    /// sequence numbers start again at 1.
    public mutating func newSessionPeriod(at now: SessionTime) -> [SessionAction] {
        var out = Output()
        switch state {
        case .active:
            sendLogout(&out, now, text: nil)
            disconnect(&out, reason: "New session period")
        case .awaitingLogon, .awaitingLogout:
            disconnect(&out, reason: "New session period")
        case .disconnecting, .disconnected:
            break
        }
        resetSequenceNumbers(&out, now, reason: "New session period")
        return finish(&out, now)
    }
}

// MARK: - State

extension SessionStateMachine {
    private enum State: Sendable {
        /// No connection.
        case disconnected
        /// Connected; waiting for the counterparty's Logon (acceptor) or its answer to ours (initiator).
        case awaitingLogon(connectedAt: Int64)
        /// Logged on.
        case active
        /// We sent a Logout and wait for the reply until the deadline.
        case awaitingLogout(deadline: Int64)
        /// We asked the driver to close the connection and wait for ``disconnected(at:)``.
        case disconnecting
    }

    /// What survives from one connection to the next (sequence numbers, schedule) and what is
    /// specific to the current connection (timers, gap being filled, queued messages).
    private struct SessionData: Sendable {
        var nextSender: Int
        var nextTarget: Int
        /// The last next-target value handed to the store.
        var persistedTarget: Int
        var withinSchedule = true
        var heartBtInt: Int?
        var lastSent: Int64 = 0
        var lastReceived: Int64 = 0
        var testRequestSent = false
        var sentResetSeqNumFlag = false
        var resend: ResendState?
        var queue: [Int: Queued] = [:]
        var scheduledTick: Int64?

        init(nextSender: Int, nextTarget: Int) {
            self.nextSender = nextSender
            self.nextTarget = nextTarget
            self.persistedTarget = nextTarget
        }
    }

    /// A gap we asked the counterparty to fill.
    private struct ResendState: Sendable {
        /// EndSeqNo of the last ResendRequest sent (`Int.max` for "infinity", 16=0).
        var requestedEnd: Int
        /// Highest sequence number known to be missing.
        var gapEnd: Int
    }

    /// A message that arrived ahead of sequence, kept until the gap before it is filled.
    private enum Queued: Sendable {
        case message(FIXMessage)
        /// Already acted on when it arrived (a Logon or ResendRequest); only its number remains to consume.
        case processed
    }

    /// Actions being collected for one event. Messages accumulate into one `.send` (one flush),
    /// and events raised meanwhile follow it. Actions whose order matters flush the pending sends first.
    private struct Output {
        var actions: [SessionAction] = []
        var pending: [OutboundMessage] = []
        var pendingEvents: [SessionEvent] = []

        mutating func sent(_ message: OutboundMessage, _ event: SessionEvent?) {
            pending.append(message)
            if let event { pendingEvents.append(event) }
        }

        /// Events keep the order they were raised in; within a batch they follow its `.send`.
        mutating func event(_ event: SessionEvent) {
            if pending.isEmpty {
                actions.append(.event(event))
            } else {
                pendingEvents.append(event)
            }
        }

        mutating func ordered(_ action: SessionAction) {
            flush()
            // A delivery is usually followed by the sequence number to persist and a timer: one
            // allocation rather than growing twice.
            if actions.isEmpty { actions.reserveCapacity(4) }
            actions.append(action)
        }

        mutating func flush() {
            if !pending.isEmpty {
                actions.append(.send(pending))
                pending.removeAll()
            }
            for e in pendingEvents { actions.append(.event(e)) }
            pendingEvents.removeAll()
        }
    }

    private var header: OutboundHeader {
        OutboundHeader(identity: configuration.identity, precision: configuration.timestampPrecision)
    }

    private func seconds(_ s: Int) -> Int64 { Int64(s) * 1_000_000_000 }

    private var testRequestDelay: Int64 {
        Int64((Double(seconds(heartBtInt)) * (1 + configuration.testRequestDelayMultiplier)).rounded())
    }

    private func nextDeadline() -> Int64? {
        switch state {
        case .awaitingLogon(let connectedAt):
            return connectedAt + seconds(configuration.logonTimeout)
        case .awaitingLogout(let deadline):
            return deadline
        case .active:
            guard heartBtInt > 0 else { return nil }
            let heartbeatDue = session.lastSent + seconds(heartBtInt)
            let silenceLimit = session.testRequestSent ? 2 * testRequestDelay : testRequestDelay
            return min(heartbeatDue, session.lastReceived + silenceLimit)
        case .disconnected, .disconnecting:
            return nil
        }
    }

    /// Closes the batch: pending sends, the store's next target sequence number, the timer.
    private mutating func finish(_ out: inout Output, _ now: SessionTime) -> [SessionAction] {
        out.flush()
        if session.nextTarget != session.persistedTarget {
            out.actions.append(.persistNextTargetMsgSeqNum(session.nextTarget))
            session.persistedTarget = session.nextTarget
        }
        if let deadline = nextDeadline() {
            let current = session.scheduledTick
            if current == nil || deadline < current! || current! <= now.monotonicNanoseconds {
                out.actions.append(.scheduleTick(atMonotonicNanoseconds: deadline))
                session.scheduledTick = deadline
            }
        }
        return out.actions
    }

    private mutating func clearConnection() {
        session.queue = [:]
        session.resend = nil
        session.testRequestSent = false
        session.heartBtInt = nil
        session.sentResetSeqNumFlag = false
        session.scheduledTick = nil
    }
}

// MARK: - Inbound

extension SessionStateMachine {
    private var identity: SessionIdentity { configuration.identity }

    /// The first message of a connection must be a valid Logon (test cases 1a to 1e).
    private mutating func receivedBeforeLogon(_ message: FIXMessage, _ out: inout Output, _ now: SessionTime) {
        session.lastReceived = now.monotonicNanoseconds
        guard message.beginString == identity.beginString else {
            refuseLogon(&out, now, reason: "Incorrect BeginString \(message.beginString)")
            return
        }
        if message.isMsgType("5") {
            out.event(.logoutReceived(text: message[FIXTag.text]))
            out.event(.logonRefused(reason: message[FIXTag.text] ?? "The counterparty answered with a Logout"))
            disconnect(&out, reason: "Logon refused by the counterparty")
            return
        }
        guard message.isMsgType("A") else {
            refuseLogon(&out, now, reason: "First message is not a Logon (35=\(message.msgType))")
            return
        }
        if configuration.checkCompID && !compIDsMatch(message) {
            refuseLogon(
                &out, now,
                reason: "CompID problem: received \(message[FIXTag.senderCompID] ?? "no SenderCompID")->"
                    + "\(message[FIXTag.targetCompID] ?? "no TargetCompID")")
            return
        }
        guard let sendingTime = try? message.timestamp(FIXTag.sendingTime) else {
            refuseLogon(&out, now, reason: "SendingTime (52) missing or malformed")
            return
        }
        if configuration.checkLatency && !withinLatency(sendingTime, now) {
            refuseLogon(&out, now, reason: "SendingTime accuracy problem (\(sendingTime))")
            return
        }
        guard let seq = try? message.int(FIXTag.msgSeqNum), seq >= 1 else {
            refuseLogon(&out, now, reason: "MsgSeqNum (34) missing or invalid")
            return
        }
        guard let heartBtInt = try? message.int(FIXTag.heartBtInt), heartBtInt >= 0 else {
            refuseLogon(&out, now, reason: "HeartBtInt (108) missing or invalid")
            return
        }
        if let encryption = message[FIXTag.encryptMethod], encryption != "0" {
            refuseLogon(&out, now, reason: "Unsupported EncryptMethod \(encryption)")
            return
        }
        guard session.withinSchedule else {
            refuseLogon(&out, now, reason: "Logon attempt not within session time")
            return
        }
        let resetRequested = flag(message, FIXTag.resetSeqNumFlag)
        switch configuration.connectionType {
        case .acceptor:
            if !credentialsMatch(message) {
                out.event(.logonRefused(reason: "Invalid username or password"))
                sendLogout(&out, now, text: "Invalid username or password")
                disconnect(&out, reason: "Invalid username or password")
                return
            }
            let reset = resetRequested || configuration.resetOnLogon
            if reset {
                resetSequenceNumbers(
                    &out, now, reason: resetRequested ? "Logon with ResetSeqNumFlag=Y" : "ResetOnLogon")
            } else if seq < session.nextTarget {
                sequenceTooLow(&out, now, seq)
                return
            }
            session.heartBtInt = heartBtInt
            state = .active
            sendLogon(
                &out, now, heartBtInt: heartBtInt, resetSeqNumFlag: reset, credentials: false,
                event: .loggedOn(heartBtInt: heartBtInt, resetSeqNumFlag: reset))
        case .initiator:
            if resetRequested && !session.sentResetSeqNumFlag {
                out.event(.warning("The counterparty reset its sequence numbers (ResetSeqNumFlag=Y)"))
                session.nextTarget = 1
            }
            if seq < session.nextTarget {
                sequenceTooLow(&out, now, seq)
                return
            }
            session.heartBtInt = configuration.heartBtInt
            state = .active
            out.event(
                .loggedOn(
                    heartBtInt: configuration.heartBtInt,
                    resetSeqNumFlag: resetRequested || session.sentResetSeqNumFlag))
        }
        if seq > session.nextTarget {
            sequenceTooHigh(&out, now, seq, .processed)
        } else {
            session.nextTarget = seq + 1
            drainQueue(&out, now)
        }
    }

    private mutating func refuseLogon(_ out: inout Output, _ now: SessionTime, reason: String) {
        out.event(.logonRefused(reason: reason))
        switch configuration.connectionType {
        case .initiator:
            // Our counterparty is known: tell it why (test case 1B d).
            sendLogout(&out, now, text: reason)
        case .acceptor:
            // An unidentified peer: any message would consume a sequence number (test case 1S b-e).
            break
        }
        disconnect(&out, reason: reason)
    }

    /// A message on an established session: header checks, then sequence, then the message itself.
    private mutating func receivedInSession(_ message: FIXMessage, _ out: inout Output, _ now: SessionTime) {
        session.lastReceived = now.monotonicNanoseconds
        session.testRequestSent = false
        let msgType = message.msgType
        // Compared in place: building the String costs more than the comparison.
        guard message.value(of: FIXTag.beginString, equals: identity.beginString) else {
            // 2i: the counterparty speaks another version; nothing it says can be trusted.
            sendLogout(&out, now, text: "Incorrect BeginString")
            disconnect(&out, reason: "Incorrect BeginString \(message.beginString)")
            return
        }
        let seq = message.msgSeqNum
        let isReset = message.isMsgType("4") && !flag(message, FIXTag.gapFillFlag)
        guard let seq, seq >= 1 || isReset else {
            let text = "MsgSeqNum (34) missing or invalid"
            sendLogout(&out, now, text: text)
            disconnect(&out, reason: text)
            return
        }
        if configuration.checkCompID && !compIDsMatch(message) {
            // 2k
            reject(&out, now, message, seq: seq, FIXRejectInfo(.compIDProblem))
            startLogout(&out, now, text: nil)
            return
        }
        // Read once: the latency check and the format check both need it.
        let sendingTime = try? message.timestamp(FIXTag.sendingTime)
        if configuration.checkLatency, let sendingTime, !withinLatency(sendingTime, now) {
            // 2o
            reject(&out, now, message, seq: seq, FIXRejectInfo(.sendingTimeAccuracyProblem))
            startLogout(&out, now, text: nil)
            return
        }
        if message.isMsgType("5") {
            receivedLogout(message, seq: seq, &out, now)
            return
        }
        if isReset {
            // 11: a SequenceReset-Reset ignores its own MsgSeqNum.
            receivedSequenceReset(message, seq: seq, &out, now)
            return
        }
        if message.isMsgType("A") && flag(message, FIXTag.resetSeqNumFlag) {
            receivedResetLogon(message, seq: seq, &out, now)
            return
        }
        if seq > session.nextTarget {
            // 20: a ResendRequest is answered at once even when it arrives ahead of sequence.
            if msgType == SessionMessageType.resendRequest, let range = resendRange(message) {
                answerResendRequest(&out, now, begin: range.begin, end: range.end)
                sequenceTooHigh(&out, now, seq, .processed)
            } else {
                sequenceTooHigh(&out, now, seq, .message(message))
            }
            return
        }
        if seq < session.nextTarget {
            sequenceTooLow(&out, now, seq, message)
            return
        }
        processInSequence(message, msgType: msgType, seq: seq, sendingTime: sendingTime, &out, now)
        drainQueue(&out, now)
    }

    /// A message whose MsgSeqNum is the one expected: validate it and act on it. `msgType` and
    /// `sendingTime` are the message's, as the caller read them (`sendingTime` nil: absent or malformed).
    private mutating func processInSequence(
        _ message: FIXMessage, msgType: String, seq: Int, sendingTime: UTCTimestamp?, _ out: inout Output,
        _ now: SessionTime
    ) {
        let isAdmin = SessionMessageType.isAdmin(msgType)
        for tag in [FIXTag.senderCompID, FIXTag.targetCompID, FIXTag.sendingTime] where !message.contains(tag) {
            rejectInvalid(&out, now, message, seq: seq, FIXRejectInfo(.requiredTagMissing, refTagID: tag))
            return
        }
        if sendingTime == nil {
            rejectInvalid(
                &out, now, message, seq: seq, FIXRejectInfo(.incorrectDataFormat, refTagID: FIXTag.sendingTime))
            return
        }
        if let info = validate(message) {
            rejectInvalid(&out, now, message, seq: seq, info)
            return
        }
        // Fills and the rest of the application's traffic skip the admin cases: each one failed is a
        // string comparison.
        guard isAdmin else {
            receivedApplication(message, msgType: msgType, seq: seq, &out, now)
            return
        }
        switch msgType {
        case SessionMessageType.heartbeat:
            session.nextTarget = seq + 1
        case SessionMessageType.testRequest:
            guard let id = message[FIXTag.testReqID] else {
                reject(&out, now, message, seq: seq, FIXRejectInfo(.requiredTagMissing, refTagID: FIXTag.testReqID))
                return
            }
            session.nextTarget = seq + 1
            sendAdmin(&out, now, SessionMessageType.heartbeat, event: nil) { $0.set(FIXTag.testReqID, id) }
        case SessionMessageType.resendRequest:
            guard let range = resendRange(message) else {
                reject(&out, now, message, seq: seq, resendRequestProblem(message))
                return
            }
            session.nextTarget = seq + 1
            answerResendRequest(&out, now, begin: range.begin, end: range.end)
        case SessionMessageType.reject:
            session.nextTarget = seq + 1
            out.event(.rejectReceived(message))
        case SessionMessageType.sequenceReset:
            receivedGapFill(message, seq: seq, &out, now)
        case SessionMessageType.logon:
            session.nextTarget = seq + 1
            out.event(.warning("Ignored a Logon received while logged on (MsgSeqNum \(seq))"))
        default:
            precondition(msgType == SessionMessageType.logout, "admin message \(msgType) not handled")
            receivedApplication(message, msgType: msgType, seq: seq, &out, now)
        }
    }

    /// An in-sequence message that passed validation and is not one the session layer answers: the
    /// application gets it, unless the validator does not support its type (2r).
    private mutating func receivedApplication(
        _ message: FIXMessage, msgType: String, seq: Int, _ out: inout Output, _ now: SessionTime
    ) {
        let supported = configuration.validator?.isSupported(msgType: msgType) ?? true
        session.nextTarget = seq + 1
        if supported {
            out.ordered(.deliver(message))
        } else {
            // 2r
            let text = "Unsupported Message Type"
            sendAdmin(
                &out, now, SessionMessageType.businessMessageReject,
                event: .businessRejectSent(refSeqNum: seq, refMsgType: msgType, text: text)
            ) { b in
                b.set(FIXTag.refSeqNum, seq)
                b.set(FIXTag.refMsgType, msgType)
                b.set(FIXTag.businessRejectReason, 3)
                b.set(FIXTag.text, text)
            }
        }
    }

    private func validate(_ message: FIXMessage) -> FIXRejectInfo? {
        if let validator = configuration.validator {
            return configuration.validationOptions.useDataDictionary ? validator.validate(message) : nil
        }
        let msgType = message.msgType
        return SessionMessageType.isKnownFIX44(msgType) ? nil : FIXRejectInfo(.invalidMsgType, refMsgType: msgType)
    }

    /// Rejects an in-sequence message that failed validation (14a-14i, 2q). An application message
    /// also reaches the application, with the reason, so that a fill never vanishes.
    private mutating func rejectInvalid(
        _ out: inout Output, _ now: SessionTime, _ message: FIXMessage, seq: Int, _ info: FIXRejectInfo
    ) {
        let info = reject(&out, now, message, seq: seq, info)
        if !SessionMessageType.isAdmin(message) {
            out.event(.applicationMessageRejected(message, info))
        }
    }

    /// Sends a session-level Reject referencing `message`; consumes its sequence number when it
    /// is the one expected.
    @discardableResult
    private mutating func reject(
        _ out: inout Output, _ now: SessionTime, _ message: FIXMessage, seq: Int, _ info: FIXRejectInfo
    ) -> FIXRejectInfo {
        var info = info
        let msgType = message.msgType
        if info.refMsgType == nil && !msgType.isEmpty { info.refMsgType = msgType }
        let sent = info
        sendAdmin(&out, now, SessionMessageType.reject, event: .rejectSent(refSeqNum: seq, sent)) { b in
            b.set(FIXTag.refSeqNum, seq)
            b.set(FIXTag.text, sent.text)
            if let tag = sent.refTagID { b.set(FIXTag.refTagID, tag) }
            if let type = sent.refMsgType { b.set(FIXTag.refMsgType, type) }
            b.set(FIXTag.sessionRejectReason, sent.reason.rawValue)
        }
        if seq == session.nextTarget { session.nextTarget = seq + 1 }
        return sent
    }

    /// 2b: ask for the missing messages and keep this one until they arrive.
    private mutating func sequenceTooHigh(_ out: inout Output, _ now: SessionTime, _ seq: Int, _ entry: Queued) {
        out.event(.sequenceGap(expected: session.nextTarget, received: seq))
        if session.queue.count < configuration.maxQueuedMessages {
            session.queue[seq] = entry
        }
        if var resend = session.resend {
            resend.gapEnd = max(resend.gapEnd, seq - 1)
            session.resend = resend
            if configuration.sendRedundantResendRequests {
                sendResendRequest(&out, now, begin: session.nextTarget, gapEnd: seq - 1)
            }
        } else {
            sendResendRequest(&out, now, begin: session.nextTarget, gapEnd: seq - 1)
        }
    }

    /// 2c, 2e, 2f, 2g: a number already processed is a duplicate when flagged as one, else fatal.
    private mutating func sequenceTooLow(
        _ out: inout Output, _ now: SessionTime, _ seq: Int, _ message: FIXMessage? = nil
    ) {
        if let message, flag(message, FIXTag.possDupFlag) {
            if !message.isMsgType("4") {
                guard message.contains(FIXTag.origSendingTime) else {
                    reject(
                        &out, now, message, seq: seq,
                        FIXRejectInfo(.requiredTagMissing, refTagID: FIXTag.origSendingTime))
                    return
                }
                if let original = try? message.timestamp(FIXTag.origSendingTime),
                    let sending = try? message.timestamp(FIXTag.sendingTime), original > sending
                {
                    reject(&out, now, message, seq: seq, FIXRejectInfo(.sendingTimeAccuracyProblem))
                    return
                }
            }
            out.event(.duplicateIgnored(seqNum: seq))
            return
        }
        let text = "MsgSeqNum too low, expecting \(session.nextTarget) but received \(seq)"
        sendLogout(&out, now, text: text)
        disconnect(&out, reason: text)
    }

    /// Processes queued messages that have become next in sequence.
    private mutating func drainQueue(_ out: inout Output, _ now: SessionTime) {
        while !session.queue.isEmpty, let entry = session.queue.removeValue(forKey: session.nextTarget) {
            switch state {
            case .active, .awaitingLogout: break
            case .disconnected, .awaitingLogon, .disconnecting: return
            }
            switch entry {
            case .processed: session.nextTarget += 1
            case .message(let message):
                processInSequence(
                    message, msgType: message.msgType, seq: session.nextTarget,
                    sendingTime: try? message.timestamp(FIXTag.sendingTime), &out, now)
            }
        }
        guard let resend = session.resend else { return }
        if session.nextTarget > resend.gapEnd {
            session.resend = nil
            out.event(.resendComplete)
        } else if session.nextTarget > resend.requestedEnd {
            sendResendRequest(&out, now, begin: session.nextTarget, gapEnd: resend.gapEnd)
        }
    }

    /// Moves the next expected number forward, forgetting queued messages it skips.
    private mutating func advanceTarget(to newSeqNo: Int) {
        session.nextTarget = newSeqNo
        if !session.queue.isEmpty { session.queue = session.queue.filter { $0.key >= newSeqNo } }
    }

    /// 10: a SequenceReset-GapFill in sequence.
    private mutating func receivedGapFill(_ message: FIXMessage, seq: Int, _ out: inout Output, _ now: SessionTime) {
        guard let newSeqNo = newSeqNo(message, seq: seq, &out, now) else { return }
        if newSeqNo > seq {
            out.event(.sequenceReset(from: seq, to: newSeqNo, gapFill: true))
            advanceTarget(to: newSeqNo)
        } else if newSeqNo == seq {
            out.event(.warning("GapFill \(seq) with NewSeqNo equal to its MsgSeqNum skips nothing"))
        } else {
            reject(&out, now, message, seq: seq, lowering(newSeqNo))
        }
    }

    /// 11: a SequenceReset-Reset, whatever its MsgSeqNum.
    private mutating func receivedSequenceReset(
        _ message: FIXMessage, seq: Int, _ out: inout Output, _ now: SessionTime
    ) {
        guard let newSeqNo = newSeqNo(message, seq: seq, &out, now) else { return }
        let expected = session.nextTarget
        if newSeqNo > expected {
            out.event(.sequenceReset(from: expected, to: newSeqNo, gapFill: false))
            advanceTarget(to: newSeqNo)
            drainQueue(&out, now)
        } else if newSeqNo == expected {
            out.event(.warning("SequenceReset to \(newSeqNo), the number already expected"))
        } else {
            reject(&out, now, message, seq: seq, lowering(newSeqNo))
        }
    }

    private func lowering(_ newSeqNo: Int) -> FIXRejectInfo {
        FIXRejectInfo(
            .valueIncorrect, refTagID: FIXTag.newSeqNo,
            text: "Attempt to lower sequence number, invalid value NewSeqNo=\(newSeqNo)")
    }

    private mutating func newSeqNo(_ message: FIXMessage, seq: Int, _ out: inout Output, _ now: SessionTime) -> Int? {
        do {
            guard let value = try message.intIfPresent(FIXTag.newSeqNo) else {
                reject(&out, now, message, seq: seq, FIXRejectInfo(.requiredTagMissing, refTagID: FIXTag.newSeqNo))
                return nil
            }
            return value
        } catch {
            reject(&out, now, message, seq: seq, FIXRejectInfo(.incorrectDataFormat, refTagID: FIXTag.newSeqNo))
            return nil
        }
    }

    /// The SessionReset case: a Logon with ResetSeqNumFlag=Y on an established session restarts
    /// both sequences at 1 and is answered with a Logon carrying the flag.
    private mutating func receivedResetLogon(
        _ message: FIXMessage, seq: Int, _ out: inout Output, _ now: SessionTime
    ) {
        resetSequenceNumbers(&out, now, reason: "Logon with ResetSeqNumFlag=Y")
        if let heartBtInt = try? message.int(FIXTag.heartBtInt), heartBtInt >= 0,
            configuration.connectionType == .acceptor
        {
            session.heartBtInt = heartBtInt
        }
        sendLogon(
            &out, now, heartBtInt: heartBtInt, resetSeqNumFlag: true, credentials: false,
            event: .loggedOn(heartBtInt: heartBtInt, resetSeqNumFlag: true))
        if seq > session.nextTarget {
            sequenceTooHigh(&out, now, seq, .processed)
        } else {
            session.nextTarget = seq + 1
        }
    }

    /// 13b and the end of our own Logout.
    private mutating func receivedLogout(_ message: FIXMessage, seq: Int, _ out: inout Output, _ now: SessionTime) {
        out.event(.logoutReceived(text: message[FIXTag.text]))
        if seq == session.nextTarget { session.nextTarget = seq + 1 }
        switch state {
        case .active:
            sendLogout(&out, now, text: nil)
            disconnect(&out, reason: "Received logout")
        case .awaitingLogout:
            disconnect(&out, reason: "Logout complete")
        case .disconnected, .awaitingLogon, .disconnecting:
            preconditionFailure("Logout handled outside an established session")
        }
        if configuration.resetOnLogout { resetSequenceNumbers(&out, now, reason: "ResetOnLogout") }
    }

    /// BeginSeqNo and EndSeqNo of a well-formed ResendRequest.
    private func resendRange(_ message: FIXMessage) -> (begin: Int, end: Int)? {
        guard let begin = try? message.int(FIXTag.beginSeqNo), let end = try? message.int(FIXTag.endSeqNo),
            begin >= 1, end == 0 || end >= begin
        else { return nil }
        return (begin, end)
    }

    private func resendRequestProblem(_ message: FIXMessage) -> FIXRejectInfo {
        for tag in [FIXTag.beginSeqNo, FIXTag.endSeqNo] {
            do {
                guard try message.intIfPresent(tag) != nil else {
                    return FIXRejectInfo(.requiredTagMissing, refTagID: tag)
                }
            } catch {
                return FIXRejectInfo(.incorrectDataFormat, refTagID: tag)
            }
        }
        let begin = (try? message.int(FIXTag.beginSeqNo)) ?? 0
        return FIXRejectInfo(.valueIncorrect, refTagID: begin < 1 ? FIXTag.beginSeqNo : FIXTag.endSeqNo)
    }

    private func compIDsMatch(_ message: FIXMessage) -> Bool {
        if message.contains(FIXTag.senderCompID)
            && !message.value(of: FIXTag.senderCompID, equals: identity.targetCompID)
        {
            return false
        }
        if message.contains(FIXTag.targetCompID)
            && !message.value(of: FIXTag.targetCompID, equals: identity.senderCompID)
        {
            return false
        }
        return true
    }

    private func credentialsMatch(_ message: FIXMessage) -> Bool {
        if let username = configuration.username, !message.value(of: FIXTag.username, equals: username) {
            return false
        }
        if let password = configuration.password, !message.value(of: FIXTag.password, equals: password) {
            return false
        }
        return true
    }

    private func withinLatency(_ sendingTime: UTCTimestamp, _ now: SessionTime) -> Bool {
        let delta = now.utc.nanosecondsSinceEpoch - sendingTime.nanosecondsSinceEpoch
        return delta.magnitude <= UInt64(seconds(configuration.maxLatency))
    }

    private func flag(_ message: FIXMessage, _ tag: Int) -> Bool {
        message.value(of: tag, equals: "Y")
    }
}

// MARK: - Outbound

extension SessionStateMachine {
    /// Builds a message of the session's own with the next sequence number. The bytes of
    /// session-level messages are not kept: a resend skips them with a GapFill anyway.
    private mutating func sendAdmin(
        _ out: inout Output, _ now: SessionTime, _ msgType: String, event: SessionEvent?,
        _ body: (inout FIXMessageBuilder) -> Void
    ) {
        var builder = header.builder(msgType: msgType, seqNum: session.nextSender, sendingTime: now.utc)
        body(&builder)
        // A BusinessMessageReject is an application message: it is resent like one.
        let kept = configuration.persistMessages && !SessionMessageType.isAdmin(msgType)
        out.sent(
            OutboundMessage(
                seqNum: session.nextSender, msgType: msgType, bytes: builder.encoded(),
                storage: kept ? .message : .sequenceNumberOnly),
            event)
        session.nextSender += 1
        session.lastSent = now.monotonicNanoseconds
    }

    private mutating func sendLogon(
        _ out: inout Output, _ now: SessionTime, heartBtInt: Int, resetSeqNumFlag: Bool, credentials: Bool,
        event: SessionEvent
    ) {
        let username = credentials ? configuration.username : nil
        let password = credentials ? configuration.password : nil
        sendAdmin(&out, now, SessionMessageType.logon, event: event) { b in
            b.set(FIXTag.encryptMethod, 0)
            b.set(FIXTag.heartBtInt, heartBtInt)
            if resetSeqNumFlag { b.set(FIXTag.resetSeqNumFlag, true) }
            if let username { b.set(FIXTag.username, username) }
            if let password { b.set(FIXTag.password, password) }
        }
    }

    private mutating func sendLogout(_ out: inout Output, _ now: SessionTime, text: String?) {
        sendAdmin(&out, now, SessionMessageType.logout, event: .logoutSent(text: text)) { b in
            if let text { b.set(FIXTag.text, text) }
        }
    }

    /// Sends a Logout and waits for the reply until LogoutTimeout.
    private mutating func startLogout(_ out: inout Output, _ now: SessionTime, text: String?) {
        switch state {
        case .active:
            sendLogout(&out, now, text: text)
            state = .awaitingLogout(
                deadline: now.monotonicNanoseconds + seconds(configuration.logoutTimeout))
        case .awaitingLogout:
            break
        case .awaitingLogon, .disconnected, .disconnecting:
            disconnect(&out, reason: text ?? "Logout")
        }
    }

    private mutating func sendResendRequest(_ out: inout Output, _ now: SessionTime, begin: Int, gapEnd: Int) {
        let chunk = configuration.resendRequestChunkSize
        let end = chunk > 0 ? min(gapEnd, begin + chunk - 1) : 0
        sendAdmin(
            &out, now, SessionMessageType.resendRequest, event: .resendRequestSent(beginSeqNo: begin, endSeqNo: end)
        ) { b in
            b.set(FIXTag.beginSeqNo, begin)
            b.set(FIXTag.endSeqNo, end)
        }
        let known = session.resend?.gapEnd ?? gapEnd
        session.resend = ResendState(requestedEnd: end == 0 ? Int.max : end, gapEnd: max(known, gapEnd))
    }

    private mutating func answerResendRequest(_ out: inout Output, _ now: SessionTime, begin: Int, end: Int) {
        out.event(.resendRequestReceived(beginSeqNo: begin, endSeqNo: end))
        let lastSent = session.nextSender - 1
        let last = end == 0 || end > lastSent ? lastSent : end
        guard begin <= last else {
            out.event(.warning("ResendRequest from \(begin) asks for messages not sent yet (last sent \(lastSent))"))
            return
        }
        let chunk =
            configuration.resendRequestChunkSize > 0
            ? configuration.resendRequestChunkSize : SessionConfiguration.defaultResendReadChunkSize
        out.ordered(
            .resend(ResendReplay(beginSeqNo: begin, endSeqNo: last, chunkSize: chunk, header: header, now: now.utc)))
        session.lastSent = now.monotonicNanoseconds
    }

    private mutating func disconnect(_ out: inout Output, reason: String) {
        out.flush()
        out.actions.append(.event(.disconnecting(reason: reason)))
        out.actions.append(.disconnect)
        state = .disconnecting
    }

    private mutating func resetSequenceNumbers(_ out: inout Output, _ now: SessionTime, reason: String) {
        out.flush()
        out.actions.append(.resetStore(creationTime: now.utc))
        out.actions.append(.event(.sequenceNumbersReset(reason: reason)))
        session.nextSender = 1
        session.nextTarget = 1
        session.persistedTarget = 1
        session.queue = [:]
        session.resend = nil
    }
}
