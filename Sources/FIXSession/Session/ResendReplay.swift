import FIXCore
import NIOCore

/// The answer to one ResendRequest, produced chunk by chunk from the store.
///
/// Application messages are resent with PossDupFlag=Y, OrigSendingTime set to their original
/// SendingTime and a new SendingTime, re-serialised canonically (8, 9, 35, header fields ascending,
/// body verbatim, 10). Session-level messages, and sequence numbers the store did not keep, are
/// skipped with SequenceReset-GapFill; a run of them, even across chunks, becomes one GapFill.
///
/// The replay is a value: the driver reads `beginSeqNo...endSeqNo` from the store `chunkSize`
/// messages at a time, writes what ``next(_:)`` returns for each chunk, and finally what
/// ``finish()`` returns (``MessageStore/run(_:write:)`` does exactly that).
public struct ResendReplay: Sendable, Equatable {
    /// First sequence number to resend.
    public let beginSeqNo: Int
    /// Last sequence number to resend (the request's EndSeqNo, bounded by the last one we sent).
    public let endSeqNo: Int
    /// How many stored messages to read and write at a time.
    public let chunkSize: Int
    /// Messages resent so far.
    public private(set) var resentCount = 0
    /// GapFills written so far.
    public private(set) var gapFillCount = 0
    /// Stored messages that could not be parsed and were skipped with a GapFill.
    public private(set) var unreadableCount = 0

    let header: OutboundHeader
    let now: UTCTimestamp
    var cursor: Int
    var gapStart: Int?

    init(beginSeqNo: Int, endSeqNo: Int, chunkSize: Int, header: OutboundHeader, now: UTCTimestamp) {
        precondition(beginSeqNo >= 1 && chunkSize >= 1, "invalid resend range or chunk size")
        self.beginSeqNo = beginSeqNo
        self.endSeqNo = endSeqNo
        self.chunkSize = chunkSize
        self.header = header
        self.now = now
        self.cursor = beginSeqNo
    }

    /// Whether there is nothing left to replay.
    public var isFinished: Bool { cursor > endSeqNo && gapStart == nil }

    /// The messages to write for the next chunk of stored messages (ascending, within the range,
    /// after those of the previous chunk). Messages outside the range are ignored.
    public mutating func next(_ stored: [StoredMessage]) -> [OutboundMessage] {
        var out: [OutboundMessage] = []
        for s in stored where s.seqNum >= cursor && s.seqNum <= endSeqNo {
            if s.seqNum > cursor, gapStart == nil { gapStart = cursor }
            cursor = s.seqNum + 1
            let message: FIXMessage
            do {
                message = try FIXFrameDecoder().decodeOne(s.bytes)
            } catch {
                unreadableCount += 1
                if gapStart == nil { gapStart = s.seqNum }
                continue
            }
            if SessionMessageType.isAdmin(message) {
                if gapStart == nil { gapStart = s.seqNum }
                continue
            }
            if let start = gapStart {
                out.append(gapFill(seqNum: start, newSeqNo: s.seqNum))
                gapStart = nil
            }
            out.append(resend(message, seqNum: s.seqNum))
        }
        return out
    }

    /// The closing GapFill, if the range ends with skipped sequence numbers.
    public mutating func finish() -> [OutboundMessage] {
        if cursor <= endSeqNo {
            if gapStart == nil { gapStart = cursor }
            cursor = endSeqNo + 1
        }
        guard let start = gapStart else { return [] }
        gapStart = nil
        return [gapFill(seqNum: start, newSeqNo: endSeqNo + 1)]
    }

    mutating func gapFill(seqNum: Int, newSeqNo: Int) -> OutboundMessage {
        gapFillCount += 1
        var b = header.builder(msgType: SessionMessageType.sequenceReset, seqNum: seqNum, sendingTime: now)
        b.set(FIXTag.possDupFlag, true)
        b.set(FIXTag.origSendingTime, now.with(precision: header.precision))
        b.set(FIXTag.gapFillFlag, true)
        b.set(FIXTag.newSeqNo, newSeqNo)
        return OutboundMessage(seqNum: seqNum, msgType: b.msgType, bytes: b.encoded(), storage: .none)
    }

    mutating func resend(_ message: FIXMessage, seqNum: Int) -> OutboundMessage {
        resentCount += 1
        var b = FIXMessageBuilder(copying: message)
        if let i = message.firstIndex(of: FIXTag.sendingTime) {
            b.set(FIXTag.origSendingTime, bytes: message.valueBytes(at: i))
        } else {
            b.set(FIXTag.origSendingTime, now.with(precision: header.precision))
        }
        b.set(FIXTag.possDupFlag, true)
        b.set(FIXTag.sendingTime, now.with(precision: header.precision))
        return OutboundMessage(seqNum: seqNum, msgType: b.msgType, bytes: b.encoded(), storage: .none)
    }
}

/// The header fields this side writes on every message.
struct OutboundHeader: Sendable, Equatable {
    var identity: SessionIdentity
    var precision: TimestampPrecision

    func builder(msgType: String, seqNum: Int, sendingTime: UTCTimestamp) -> FIXMessageBuilder {
        var b = FIXMessageBuilder(msgType: msgType, beginString: identity.beginString)
        stamp(&b, seqNum: seqNum, sendingTime: sendingTime)
        return b
    }

    /// Clears `b`, a header builder kept between messages, and writes this side's header fields
    /// for the next message: what ``stamp(_:seqNum:sendingTime:)`` sets on an empty builder, in
    /// one pass (`set` checks for room and for a value to replace per field, on every message).
    func stampFresh(_ b: inout FIXMessageBuilder, msgType: String, seqNum: Int, sendingTime: UTCTimestamp) {
        let id = identity
        let text =
            id.senderCompID.utf8.count + id.targetCompID.utf8.count + (id.senderSubID?.utf8.count ?? 0)
            + (id.targetSubID?.utf8.count ?? 0) + (id.senderLocationID?.utf8.count ?? 0)
            + (id.targetLocationID?.utf8.count ?? 0)
        let stamped = sendingTime.with(precision: precision)
        b.beginString = id.beginString
        b.resetHeader(
            msgType: msgType, fields: 8,
            valueBytes: text + FIXMessageBuilder.FieldWriter.intBytes + FIXMessageBuilder.FieldWriter.timestampBytes
        ) { w in
            w.int(FIXTag.msgSeqNum, seqNum)
            w.string(FIXTag.senderCompID, id.senderCompID)
            if let v = id.senderSubID { w.string(FIXTag.senderSubID, v) }
            w.timestamp(FIXTag.sendingTime, stamped)
            w.string(FIXTag.targetCompID, id.targetCompID)
            if let v = id.targetSubID { w.string(FIXTag.targetSubID, v) }
            if let v = id.senderLocationID { w.string(FIXTag.senderLocationID, v) }
            if let v = id.targetLocationID { w.string(FIXTag.targetLocationID, v) }
        }
    }

    /// Sets the header fields in ascending tag order, the order they are serialised in, so that the
    /// encoder has nothing to sort.
    func stamp(_ b: inout FIXMessageBuilder, seqNum: Int, sendingTime: UTCTimestamp) {
        b.beginString = identity.beginString
        b.set(FIXTag.msgSeqNum, seqNum)
        b.set(FIXTag.senderCompID, identity.senderCompID)
        if let v = identity.senderSubID { b.set(FIXTag.senderSubID, v) }
        b.set(FIXTag.sendingTime, sendingTime.with(precision: precision))
        b.set(FIXTag.targetCompID, identity.targetCompID)
        if let v = identity.targetSubID { b.set(FIXTag.targetSubID, v) }
        if let v = identity.senderLocationID { b.set(FIXTag.senderLocationID, v) }
        if let v = identity.targetLocationID { b.set(FIXTag.targetLocationID, v) }
    }
}

/// The session-level MsgTypes of FIX 4.4.
enum SessionMessageType {
    static let heartbeat = "0"
    static let testRequest = "1"
    static let resendRequest = "2"
    static let reject = "3"
    static let sequenceReset = "4"
    static let logout = "5"
    static let logon = "A"
    static let businessMessageReject = "j"

    /// Whether `message` is a session-level message (QuickFIX's `isAdminMsgType`: 0 1 2 3 4 5 A).
    static func isAdmin(_ message: FIXMessage) -> Bool {
        guard message.count > 2 else { return false }
        return message.withValueBytes(at: 2) { v in
            v.count == 1 && isAdminByte(v[0])
        }
    }

    static func isAdmin(_ msgType: String) -> Bool {
        // Every message sent asks: read the byte in place, without an array.
        let u = msgType.utf8
        return u.count == 1 && isAdminByte(u[u.startIndex])
    }

    static func isAdminByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "5")) || b == UInt8(ascii: "A")
    }
}
