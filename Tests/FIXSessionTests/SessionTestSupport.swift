import FIXCore
import NIOCore
import Testing

@testable import FIXSession

// The QuickFIX acceptance tests' cast: we are ISLD, the counterparty is TW.

let t0 = SessionTime(utc: UTCTimestamp(year: 2024, month: 3, day: 4, hour: 10)!, monotonicNanoseconds: 5_000_000_000)

func at(_ seconds: Double) -> SessionTime { t0.adding(seconds: seconds) }

let isld = SessionIdentity(senderCompID: "ISLD", targetCompID: "TW")

func configuration(
    _ type: SessionConfiguration.ConnectionType = .acceptor, heartBtInt: Int = 30,
    _ change: (inout SessionConfiguration) -> Void = { _ in }
) -> SessionConfiguration {
    var c = SessionConfiguration(identity: isld, connectionType: type, heartBtInt: heartBtInt)
    change(&c)
    return c
}

/// Builds the messages of one side of a conversation.
struct Side {
    var sender: String
    var target: String
    var beginString = "FIX.4.4"

    /// A message as this side sends it: 8, 9, 35, header ascending, body ascending, 10.
    func builder(
        _ msgType: String, seq: Int?, at time: SessionTime, _ fields: [(Int, String)] = [],
        header: [(Int, String)] = [], omit: Set<Int> = []
    ) -> FIXMessageBuilder {
        var b = FIXMessageBuilder(msgType: msgType, beginString: beginString)
        if !omit.contains(49) { b.set(49, sender) }
        if !omit.contains(56) { b.set(56, target) }
        if let seq, !omit.contains(34) { b.set(34, seq) }
        if !omit.contains(52) { b.set(52, time.utc) }
        for (tag, value) in header { b.set(tag, value) }
        for (tag, value) in fields { b.append(tag, value) }
        return b
    }

    func message(
        _ msgType: String, seq: Int?, at time: SessionTime = t0, _ fields: [(Int, String)] = [],
        header: [(Int, String)] = [], omit: Set<Int> = []
    ) -> FIXMessage {
        builder(msgType, seq: seq, at: time, fields, header: header, omit: omit).build()
    }

    /// What the machine under test should put on the wire (session messages are not kept for resends).
    func out(
        _ msgType: String, seq: Int, at time: SessionTime = t0, _ fields: [(Int, String)] = [],
        header: [(Int, String)] = []
    ) -> OutboundMessage {
        let b = builder(msgType, seq: seq, at: time, fields, header: header)
        let admin = SessionMessageType.isAdmin(msgType)
        return OutboundMessage(
            seqNum: seq, msgType: msgType, bytes: b.encoded(), storage: admin ? .sequenceNumberOnly : .message)
    }

    func logon(seq: Int = 1, at time: SessionTime = t0, heartBtInt: Int = 30, reset: Bool = false) -> FIXMessage {
        var fields = [(98, "0"), (108, "\(heartBtInt)")]
        if reset { fields.append((141, "Y")) }
        return message("A", seq: seq, at: time, fields)
    }

    func outLogon(
        seq: Int = 1, at time: SessionTime = t0, heartBtInt: Int = 30, reset: Bool = false
    )
        -> OutboundMessage
    {
        var fields = [(98, "0"), (108, "\(heartBtInt)")]
        if reset { fields.append((141, "Y")) }
        return out("A", seq: seq, at: time, fields)
    }

    func order(
        seq: Int, at time: SessionTime = t0, clOrdID: String = "ID", header: [(Int, String)] = []
    )
        -> FIXMessage
    {
        message(
            "D", seq: seq, at: time,
            [(11, clOrdID), (21, "3"), (38, "100"), (40, "1"), (54, "1"), (55, "INTC"), (60, "20240304-10:00:00")],
            header: header)
    }
}

/// The counterparty (TW) talking to us (ISLD).
let tw = Side(sender: "TW", target: "ISLD")
/// Us, as the counterparty sees our messages.
let us = Side(sender: "ISLD", target: "TW")

extension Array where Element == SessionAction {
    /// Without timer scheduling, which most conversations do not care about.
    var withoutTimers: [SessionAction] {
        filter {
            if case .scheduleTick = $0 { return false }
            return true
        }
    }

    /// Only the messages written, in order.
    var sent: [OutboundMessage] {
        flatMap { action -> [OutboundMessage] in
            if case .send(let messages) = action { return messages }
            return []
        }
    }

    /// Only the events, in order.
    var events: [SessionEvent] {
        compactMap {
            if case .event(let e) = $0 { return e }
            return nil
        }
    }

    /// The messages delivered to the application.
    var delivered: [FIXMessage] {
        compactMap {
            if case .deliver(let m) = $0 { return m }
            return nil
        }
    }

    var disconnects: Bool { contains(.disconnect) }

    var resends: [ResendReplay] {
        compactMap {
            if case .resend(let r) = $0 { return r }
            return nil
        }
    }
}

/// A validator in the spirit of the data dictionary, small enough to read: a few message types,
/// required fields, enumerations, formats, one repeating group.
struct TestValidator: MessageValidator {
    var supported: Set<String> = ["D", "8", "F", "j", "U1"]
    static let required: [String: [Int]] = [
        "D": [11, 21, 55, 54, 60, 40], "8": [37, 17, 150, 39, 55, 54, 151, 14, 6], "F": [41, 11, 55, 54, 60],
        "0": [], "1": [112], "2": [7, 16], "3": [45], "4": [36], "5": [], "A": [98, 108], "j": [45, 380],
        "U1": [],
    ]
    static let header: Set<Int> = [8, 9, 35, 49, 56, 34, 52, 43, 97, 122, 50, 57, 142, 143, 115, 128, 10]
    static let enums: [Int: Set<String>] = [21: ["1", "2", "3"], 54: ["1", "2"], 40: ["1", "2"]]
    static let defined: Set<Int> = [
        1, 6, 7, 11, 14, 16, 17, 21, 36, 37, 38, 39, 40, 41, 44, 45, 54, 55, 58, 60, 78, 79, 80, 98, 108, 112, 123,
        126, 141, 150, 151, 167, 371, 372, 373, 380, 553, 554,
    ]
    static let decimals: Set<Int> = [6, 14, 38, 44, 80, 151]
    static let timestamps: Set<Int> = [60, 126]

    func isSupported(msgType: String) -> Bool { supported.contains(msgType) }

    func validate(_ m: FIXMessage) -> FIXRejectInfo? {
        let type = m.msgType
        guard let required = TestValidator.required[type] else {
            return FIXRejectInfo(.invalidMsgType, refMsgType: type)
        }
        var seen: Set<Int> = []
        var inBody = false
        var groupCount: Int?
        var groupMembers = 0
        for i in 0..<m.count {
            let tag = m.fields[i].tag
            if m.fields[i].valueLength == 0 { return FIXRejectInfo(.tagSpecifiedWithoutValue, refTagID: tag) }
            let isHeader = TestValidator.header.contains(tag)
            if isHeader && inBody && tag != 10 {
                return FIXRejectInfo(.tagSpecifiedOutOfRequiredOrder, refTagID: tag)
            }
            if !isHeader { inBody = true }
            if tag == 79 {
                groupMembers += 1
                continue
            }
            if !seen.insert(tag).inserted { return FIXRejectInfo(.tagAppearsMoreThanOnce, refTagID: tag) }
            if isHeader { continue }
            if tag >= 5000 { continue }  // user-defined fields are tolerated
            guard TestValidator.defined.contains(tag) else { return FIXRejectInfo(.invalidTagNumber, refTagID: tag) }
            let value = m.string(at: i)
            if let allowed = TestValidator.enums[tag], !allowed.contains(value) {
                return FIXRejectInfo(.valueIncorrect, refTagID: tag)
            }
            if TestValidator.decimals.contains(tag), (try? m.decimal(at: i)) == nil {
                return FIXRejectInfo(.incorrectDataFormat, refTagID: tag)
            }
            if TestValidator.timestamps.contains(tag), UTCTimestamp(value) == nil {
                return FIXRejectInfo(.incorrectDataFormat, refTagID: tag)
            }
            if tag == 78 { groupCount = Int(value) }
        }
        if let count = groupCount, count != groupMembers {
            return FIXRejectInfo(.incorrectNumInGroupCount, refTagID: 78)
        }
        for tag in required where !m.contains(tag) { return FIXRejectInfo(.requiredTagMissing, refTagID: tag) }
        return nil
    }
}

/// Runs a machine against a memory store the way a driver does, recording what reaches the wire.
final class Harness {
    var machine: SessionStateMachine
    let store: MemoryStore
    /// Every frame written, in order.
    var wire: [ByteBuffer] = []
    var flushes = 0
    var delivered: [FIXMessage] = []
    var events: [SessionEvent] = []
    var disconnectRequested = false
    var timer: Int64?

    init(_ configuration: SessionConfiguration, store: MemoryStore = MemoryStore()) {
        self.store = store
        self.machine = SessionStateMachine(configuration: configuration, store: store)
    }

    @discardableResult
    func run(_ actions: [SessionAction]) throws -> [SessionAction] {
        for action in actions {
            switch action {
            case .send(let messages):
                for m in messages {
                    try store.record(m)
                    wire.append(m.bytes)
                }
                flushes += 1
            case .resend(var replay):
                try store.run(&replay) { chunk in
                    for m in chunk { self.wire.append(m.bytes) }
                    self.flushes += 1
                }
            case .deliver(let m): delivered.append(m)
            case .event(let e): events.append(e)
            case .persistNextTargetMsgSeqNum(let n): try store.setNextTargetMsgSeqNum(n)
            case .resetStore(let time): try store.reset(creationTime: time)
            case .disconnect: disconnectRequested = true
            case .refuseConnection: break
            case .scheduleTick(let deadline): timer = deadline
            }
        }
        return actions
    }

    /// Takes what was written since the last call.
    func takeWire() -> [FIXMessage] {
        defer { wire.removeAll() }
        return wire.map { try! FIXFrameDecoder().decodeOne($0) }
    }
}

/// A frame with exactly these fields in this order (after 8 and 9), BodyLength and CheckSum computed.
func rawFrame(_ fields: [(Int, String)], beginString: String = "FIX.4.4") -> ByteBuffer {
    var body: [UInt8] = []
    for (tag, value) in fields { body += Array("\(tag)=\(value)\u{1}".utf8) }
    var frame = Array("8=\(beginString)\u{1}9=\(body.count)\u{1}".utf8) + body
    let sum = frame.reduce(0) { $0 + Int($1) } % 256
    let digits = String(sum)
    frame += Array("10=\(String(repeating: "0", count: 3 - digits.count))\(digits)\u{1}".utf8)
    return ByteBuffer(bytes: frame)
}

/// The message with exactly these fields in this order.
func raw(_ fields: [(Int, String)], beginString: String = "FIX.4.4") -> FIXMessage {
    try! FIXFrameDecoder().decodeOne(rawFrame(fields, beginString: beginString))
}

extension Harness {
    @discardableResult
    func connect(at time: SessionTime = t0) throws -> [SessionAction] { try run(machine.connected(at: time)) }

    @discardableResult
    func receive(_ message: FIXMessage, at time: SessionTime = t0) throws -> [SessionAction] {
        try run(machine.received(message, at: time))
    }

    @discardableResult
    func send(_ message: FIXMessageBuilder, at time: SessionTime = t0) throws -> [SessionAction] {
        try run(machine.send(message, at: time))
    }

    @discardableResult
    func tick(at time: SessionTime) throws -> [SessionAction] { try run(machine.tick(at: time)) }
}

/// An order as the application builds it (the session fills in the header).
func newOrder(_ clOrdID: String = "ID", symbol: String = "INTC") -> FIXMessageBuilder {
    var b = FIXMessageBuilder(msgType: "D")
    b.set(11, clOrdID)
    b.set(21, "3")
    b.set(38, "100")
    b.set(40, "1")
    b.set(54, "1")
    b.set(55, symbol)
    b.set(60, "20240304-10:00:00")
    return b
}
