import FIXCore

/// Something that happened in the session, for the application and the event log.
///
/// Descriptions read like QuickFIX's event log lines. No event carries a password.
public enum SessionEvent: Sendable, Equatable, CustomStringConvertible {
    /// A connection was reported to the session.
    case connected(SessionConfiguration.ConnectionType)
    /// A second connection for an identity that is already connected was refused (test case 1b).
    case duplicateConnectionRefused
    /// We sent a Logon (initiator) and wait for the answer.
    case logonSent(resetSeqNumFlag: Bool)
    /// The Logon exchange completed.
    case loggedOn(heartBtInt: Int, resetSeqNumFlag: Bool)
    /// The counterparty's Logon was not acceptable; the connection is dropped.
    case logonRefused(reason: String)
    /// We sent a Logout.
    case logoutSent(text: String?)
    /// The counterparty sent a Logout.
    case logoutReceived(text: String?)
    /// The connection is being closed, and why.
    case disconnecting(reason: String)
    /// The connection is gone.
    case disconnected
    /// A message came with a higher MsgSeqNum than expected.
    case sequenceGap(expected: Int, received: Int)
    /// We asked for a resend (EndSeqNo 0 means "up to the latest").
    case resendRequestSent(beginSeqNo: Int, endSeqNo: Int)
    /// The counterparty asked for a resend; ``SessionAction/resend(_:)`` follows.
    case resendRequestReceived(beginSeqNo: Int, endSeqNo: Int)
    /// The gap we asked for is filled.
    case resendComplete
    /// A SequenceReset moved the next expected inbound sequence number.
    case sequenceReset(from: Int, to: Int, gapFill: Bool)
    /// A message with a sequence number already processed came with PossDupFlag=Y and was ignored.
    case duplicateIgnored(seqNum: Int)
    /// Bytes that were not a well-formed message were ignored (garbled: bad BodyLength, CheckSum, ...).
    case garbledIgnored(FIXDecodeError)
    /// We sent a session-level Reject.
    case rejectSent(refSeqNum: Int, FIXRejectInfo)
    /// We sent a BusinessMessageReject for a MsgType the application does not support.
    case businessRejectSent(refSeqNum: Int, refMsgType: String, text: String)
    /// The counterparty rejected one of our messages.
    case rejectReceived(FIXMessage)
    /// An application message failed validation. It was rejected at session level, but here it
    /// is, with the reason, so that nothing (a fill) vanishes silently.
    case applicationMessageRejected(FIXMessage, FIXRejectInfo)
    /// We sent a TestRequest after a silence.
    case testRequestSent(testReqID: String)
    /// The counterparty stayed silent after our TestRequest.
    case heartbeatTimeout
    /// No Logon came within LogonTimeout.
    case logonTimeout
    /// No Logout reply came within LogoutTimeout.
    case logoutTimeout
    /// Both sequence numbers start again at 1, and why.
    case sequenceNumbersReset(reason: String)
    /// The session schedule opened or closed.
    case scheduleChanged(open: Bool)
    /// Something the counterparty did that the session tolerated or refused, in words.
    case warning(String)

    public var description: String {
        switch self {
        case .connected(let type): return "Connected as \(type.rawValue)"
        case .duplicateConnectionRefused: return "Refused a second connection: the session is already connected"
        case .logonSent(let reset):
            return reset ? "Initiated logon request with ResetSeqNumFlag=Y" : "Initiated logon request"
        case .loggedOn(let hb, let reset):
            return "Logged on, HeartBtInt=\(hb)\(reset ? ", sequence numbers reset" : "")"
        case .logonRefused(let reason): return "Logon refused: \(reason)"
        case .logoutSent(let text): return "Sent logout\(text.map { ": \($0)" } ?? "")"
        case .logoutReceived(let text): return "Received logout\(text.map { ": \($0)" } ?? "")"
        case .disconnecting(let reason): return "Disconnecting: \(reason)"
        case .disconnected: return "Disconnected"
        case .sequenceGap(let expected, let received):
            return "MsgSeqNum too high, expecting \(expected) but received \(received)"
        case .resendRequestSent(let b, let e): return "Sent ResendRequest FROM: \(b) TO: \(e)"
        case .resendRequestReceived(let b, let e): return "Received ResendRequest FROM: \(b) TO: \(e)"
        case .resendComplete: return "ResendRequest for messages complete"
        case .sequenceReset(let from, let to, let gapFill):
            return "\(gapFill ? "GapFill" : "SequenceReset") from \(from) to \(to)"
        case .duplicateIgnored(let seq): return "Ignored duplicate message \(seq) (PossDupFlag=Y)"
        case .garbledIgnored(let error): return "Ignored garbled message: \(error)"
        case .rejectSent(let ref, let info): return "Sent Reject for message \(ref): \(info)"
        case .businessRejectSent(let ref, let type, let text):
            return "Sent BusinessMessageReject for message \(ref) (35=\(type)): \(text)"
        case .rejectReceived(let m):
            let ref = m[FIXTag.refSeqNum] ?? "?"
            return "Received Reject for message \(ref)\(m[FIXTag.text].map { ": \($0)" } ?? "")"
        case .applicationMessageRejected(let m, let info):
            return "Rejected application message \(m.msgSeqNum.map(String.init) ?? "?") (35=\(m.msgType)): \(info)"
        case .testRequestSent(let id): return "Sent TestRequest \(id)"
        case .heartbeatTimeout: return "Timed out waiting for heartbeat"
        case .logonTimeout: return "Timed out waiting for logon response"
        case .logoutTimeout: return "Timed out waiting for logout response"
        case .sequenceNumbersReset(let reason): return "Sequence numbers reset: \(reason)"
        case .scheduleChanged(let open): return open ? "Session schedule opened" : "Session schedule closed"
        case .warning(let text): return text
        }
    }
}
