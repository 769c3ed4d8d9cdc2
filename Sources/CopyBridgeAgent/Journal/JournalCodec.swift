import CopyEngine
import FIXCore

/// The journal's binary encoding.
///
/// A journal file is the 8-byte magic `CBJRNL01` followed by frames. A frame is the payload's
/// length (UInt32, little-endian), the payload's CRC-32C (UInt32, little-endian), then the payload:
/// one kind byte and the fields of that kind. Integers are LEB128 varints (signed ones zig-zagged),
/// strings and byte strings a varint length and the bytes, decimals a zig-zagged mantissa and a scale
/// byte, optionals a presence byte. Encoding appends to a reused buffer without Foundation or
/// per-field allocation: the journal is written on the copy path.
public enum JournalCodec {
    /// The first bytes of every journal file.
    public static let magic: [UInt8] = Array("CBJRNL01".utf8)
    /// Length and checksum before each payload.
    public static let frameHeaderSize = 8
    /// A payload this long cannot be ours: the length field of a torn or foreign frame.
    public static let maximumPayloadSize = 16 << 20

    enum Kind: UInt8 {
        case message = 1
        case sessionUp = 2
        case sessionDown = 3
        case mark = 4
        case tick = 5
        case command = 6
        case recoveryComplete = 7
        case order = 8
        /// A `sessionDown` with `planned: true` (kind 3 stays the unplanned one).
        case sessionDownPlanned = 9
        /// A command with who gave it and why (kind 6, without them, is still read).
        case commandByActor = 10
        case breaker = 11
        case auditCommand = 64
        case auditDecision = 65
        case auditAlert = 66
        case auditNote = 67
    }

    /// Appends one framed entry to `out`.
    public static func appendFrame(_ entry: JournalEntry, to out: inout [UInt8]) {
        switch entry {
        case .engine(let record): appendFrame(record, to: &out)
        case .audit(let record): appendFrame(record, to: &out)
        }
    }

    /// Appends one framed engine record to `out`.
    public static func appendFrame(_ record: JournalRecord, to out: inout [UInt8]) {
        frame(&out) { w in w.engine(record) }
    }

    /// Appends one framed audit record to `out`.
    public static func appendFrame(_ record: AuditRecord, to out: inout [UInt8]) {
        frame(&out) { w in w.audit(record) }
    }

    private static func frame(_ out: inout [UInt8], _ body: (inout JournalWriterBuffer) -> Void) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: frameHeaderSize))
        // Swapped in and out so that the buffer stays uniquely referenced: appends never copy it.
        var w = JournalWriterBuffer(bytes: [])
        swap(&w.bytes, &out)
        body(&w)
        swap(&w.bytes, &out)
        let length = out.count - start - frameHeaderSize
        precondition(length <= maximumPayloadSize, "journal entry of \(length) bytes is beyond the frame limit")
        out.withUnsafeMutableBytes { raw in
            let payload = UnsafeRawBufferPointer(rebasing: raw[(start + frameHeaderSize)...])
            let crc = CRC32C.checksum(payload)
            raw.storeBytes(of: UInt32(length).littleEndian, toByteOffset: start, as: UInt32.self)
            raw.storeBytes(of: crc.littleEndian, toByteOffset: start + 4, as: UInt32.self)
        }
    }

    /// Decodes one payload (without its frame header).
    public static func decodePayload(_ payload: UnsafeRawBufferPointer) throws(JournalDecodeError) -> JournalEntry {
        var r = JournalReadBuffer(bytes: payload)
        let entry = try r.entry()
        guard r.isAtEnd else { throw JournalDecodeError(reason: "\(r.remaining) stray bytes after the entry") }
        return entry
    }
}

/// A payload that is not a journal entry this version can read.
public struct JournalDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

// MARK: - Writing

/// Appends fields to a byte buffer. Held by value and moved in and out of the journal's pending
/// buffer, so the hot path does not copy.
struct JournalWriterBuffer {
    var bytes: [UInt8]

    mutating func kind(_ k: JournalCodec.Kind) { bytes.append(k.rawValue) }

    mutating func uvarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func varint(_ value: Int64) {
        uvarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func int(_ value: Int) { varint(Int64(value)) }

    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func string(_ s: String) {
        let utf8 = s.utf8
        uvarint(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    mutating func optionalString(_ s: String?) {
        if let s {
            bytes.append(1)
            string(s)
        } else {
            bytes.append(0)
        }
    }

    mutating func byteString(_ b: [UInt8]) {
        uvarint(UInt64(b.count))
        bytes.append(contentsOf: b)
    }

    mutating func decimal(_ d: FixedDecimal) {
        let m = d.mantissa
        var v = UInt128(bitPattern: (m << 1) ^ (m >> 127))
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
        bytes.append(UInt8(d.scale))
    }

    mutating func optionalDecimal(_ d: FixedDecimal?) {
        if let d {
            bytes.append(1)
            decimal(d)
        } else {
            bytes.append(0)
        }
    }

    mutating func double(_ value: Double) {
        var bits = value.bitPattern
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: bits))
            bits >>= 8
        }
    }

    mutating func engine(_ record: JournalRecord) {
        switch record {
        case .message(let session, let payload, let receivedAt):
            kind(.message)
            string(session)
            byteString(payload.bytes)
            varint(receivedAt)
        case .sessionUp(let session, let at):
            kind(.sessionUp)
            string(session)
            varint(at)
        case .sessionDown(let session, let at, let planned):
            kind(planned ? .sessionDownPlanned : .sessionDown)
            string(session)
            varint(at)
        case .mark(let m):
            kind(.mark)
            string(m.symbol)
            optionalDecimal(m.bid)
            optionalDecimal(m.ask)
            varint(m.at)
        case .tick(let at):
            kind(.tick)
            varint(at)
        case .command(let command, let at, let actor, let reason):
            kind(.commandByActor)
            operatorCommand(command)
            varint(at)
            string(actor)
            optionalString(reason)
        case .breaker(let b):
            kind(.breaker)
            string(b.name)
            bool(b.tripped)
            string(b.reason.rawValue)
            string(b.detail)
            varint(b.at)
        case .recoveryComplete(let at):
            kind(.recoveryComplete)
            varint(at)
        case .order(let intent):
            kind(.order)
            order(intent)
        }
    }

    mutating func operatorCommand(_ command: OperatorCommand) {
        switch command {
        case .pauseFollower(let id):
            bytes.append(0)
            string(id)
        case .resumeFollower(let id):
            bytes.append(1)
            string(id)
        case .setEquity(let id, let equity):
            bytes.append(2)
            string(id)
            decimal(equity)
        case .disableProvider(let id, let flatten):
            bytes.append(3)
            string(id)
            bool(flatten)
        case .enableProvider(let id):
            bytes.append(4)
            string(id)
        case .flattenFollower(let id):
            bytes.append(5)
            string(id)
        case .resetBreaker(let name):
            bytes.append(6)
            string(name)
        case .resync:
            bytes.append(7)
        }
    }

    mutating func order(_ o: OrderIntent) {
        string(o.clOrdID)
        string(o.session)
        string(o.symbol)
        string(o.brokerSymbol)
        side(o.side)
        decimal(o.quantity)
        decimal(o.brokerQuantity)
        string(o.ordType.rawValue)
        string(o.timeInForce.rawValue)
        optionalDecimal(o.price)
        optionalString(o.account)
        uvarint(UInt64(o.allocations.count))
        for a in o.allocations {
            string(a.followerID)
            string(a.account)
            decimal(a.quantity)
            decimal(a.brokerQuantity)
        }
        string(o.signal)
        int(o.attempt)
        bool(o.block)
        varint(o.createdAt)
    }

    mutating func side(_ s: OrderSide) {
        switch s {
        case .buy: bytes.append(1)
        case .sell: bytes.append(2)
        }
    }

    mutating func audit(_ record: AuditRecord) {
        switch record {
        case .command(let c):
            kind(.auditCommand)
            varint(c.at)
            string(c.command)
            string(c.actor)
            optionalString(c.reason)
            string(c.outcome)
        case .decision(let d, let at):
            kind(.auditDecision)
            varint(at)
            string(d.reason.rawValue)
            optionalString(d.followerID)
            optionalString(d.providerID)
            optionalString(d.symbol)
            optionalString(d.signal)
            optionalString(d.clOrdID)
            optionalDecimal(d.quantity)
            optionalString(d.detail)
        case .alert(let a):
            kind(.auditAlert)
            varint(a.at)
            string(a.alert)
            bool(a.active)
            string(a.message)
            double(a.value)
            double(a.threshold)
        case .note(let text, let at):
            kind(.auditNote)
            varint(at)
            string(text)
        }
    }
}

// MARK: - Reading

/// Reads fields from one payload; every read checks the bounds.
struct JournalReadBuffer {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    var isAtEnd: Bool { offset == bytes.count }
    var remaining: Int { bytes.count - offset }

    func fail(_ reason: String) -> JournalDecodeError {
        JournalDecodeError(reason: "\(reason) at payload offset \(offset)")
    }

    mutating func byte() throws(JournalDecodeError) -> UInt8 {
        guard offset < bytes.count else { throw fail("truncated payload") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uvarint() throws(JournalDecodeError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64, shift != 63 || b <= 1 else { throw fail("varint too long") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    mutating func varint() throws(JournalDecodeError) -> Int64 {
        let v = try uvarint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    mutating func int() throws(JournalDecodeError) -> Int {
        let v = try varint()
        guard let i = Int(exactly: v) else { throw fail("integer out of range") }
        return i
    }

    mutating func bool() throws(JournalDecodeError) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        case let b: throw fail("bad boolean \(b)")
        }
    }

    mutating func length() throws(JournalDecodeError) -> Int {
        let n = try uvarint()
        guard n <= UInt64(remaining) else { throw fail("length \(n) beyond the payload") }
        return Int(n)
    }

    mutating func string() throws(JournalDecodeError) -> String {
        let n = try length()
        defer { offset += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]), as: UTF8.self)
    }

    mutating func optionalString() throws(JournalDecodeError) -> String? {
        try bool() ? try string() : nil
    }

    mutating func byteString() throws(JournalDecodeError) -> [UInt8] {
        let n = try length()
        defer { offset += n }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
    }

    mutating func decimal() throws(JournalDecodeError) -> FixedDecimal {
        var v: UInt128 = 0
        var shift: UInt128 = 0
        while true {
            let b = try byte()
            guard shift < 128 else { throw fail("decimal mantissa too long") }
            v |= UInt128(b & 0x7F) << shift
            if b < 0x80 { break }
            shift += 7
        }
        let mantissa = Int128(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
        let scale = Int(try byte())
        guard scale <= FixedDecimal.maximumScale else { throw fail("decimal scale \(scale)") }
        return FixedDecimal(mantissa: mantissa, scale: scale)
    }

    mutating func optionalDecimal() throws(JournalDecodeError) -> FixedDecimal? {
        try bool() ? try decimal() : nil
    }

    mutating func double() throws(JournalDecodeError) -> Double {
        var bits: UInt64 = 0
        for k in 0..<8 { bits |= UInt64(try byte()) << UInt64(8 * k) }
        return Double(bitPattern: bits)
    }

    mutating func word<E: RawRepresentable>(_: E.Type) throws(JournalDecodeError) -> E where E.RawValue == String {
        let text = try string()
        guard let value = E(rawValue: text) else { throw fail("unknown \(E.self) '\(text)'") }
        return value
    }

    mutating func entry() throws(JournalDecodeError) -> JournalEntry {
        let tag = try byte()
        guard let kind = JournalCodec.Kind(rawValue: tag) else { throw fail("unknown entry kind \(tag)") }
        switch kind {
        case .message:
            let session = try string()
            let payload = try byteString()
            return .engine(.message(session: session, bytes: JournalBytes(payload), receivedAt: try varint()))
        case .sessionUp:
            let session = try string()
            return .engine(.sessionUp(session: session, at: try varint()))
        case .sessionDown, .sessionDownPlanned:
            let session = try string()
            return .engine(.sessionDown(session: session, at: try varint(), planned: kind == .sessionDownPlanned))
        case .mark:
            let symbol = try string()
            let bid = try optionalDecimal()
            let ask = try optionalDecimal()
            return .engine(.mark(MarkSnapshot(symbol: symbol, bid: bid, ask: ask, at: try varint())))
        case .tick:
            return .engine(.tick(at: try varint()))
        case .command:
            let command = try operatorCommand()
            return .engine(.command(command, at: try varint()))
        case .commandByActor:
            let command = try operatorCommand()
            let at = try varint()
            let actor = try string()
            return .engine(.command(command, at: at, actor: actor, reason: try optionalString()))
        case .breaker:
            let name = try string()
            let tripped = try bool()
            let reason = try word(ReasonCode.self)
            let detail = try string()
            return .engine(
                .breaker(BreakerRecord(name: name, tripped: tripped, reason: reason, detail: detail, at: try varint())))
        case .recoveryComplete:
            return .engine(.recoveryComplete(at: try varint()))
        case .order:
            return .engine(.order(try order()))
        case .auditCommand:
            let at = try varint()
            let command = try string()
            let actor = try string()
            let reason = try optionalString()
            let outcome = try string()
            return .audit(
                .command(CommandAudit(command: command, actor: actor, reason: reason, outcome: outcome, at: at)))
        case .auditDecision:
            let at = try varint()
            let reason = try word(ReasonCode.self)
            let decision = CopyDecision(
                reason: reason, followerID: try optionalString(), providerID: try optionalString(),
                symbol: try optionalString(), signal: try optionalString(), clOrdID: try optionalString(),
                quantity: try optionalDecimal(), detail: try optionalString())
            return .audit(.decision(decision, at: at))
        case .auditAlert:
            let at = try varint()
            let alert = try string()
            let active = try bool()
            let message = try string()
            let value = try double()
            let threshold = try double()
            return .audit(
                .alert(
                    AlertAudit(
                        alert: alert, active: active, message: message, value: value, threshold: threshold, at: at)))
        case .auditNote:
            let at = try varint()
            return .audit(.note(try string(), at: at))
        }
    }

    mutating func operatorCommand() throws(JournalDecodeError) -> OperatorCommand {
        switch try byte() {
        case 0: return .pauseFollower(try string())
        case 1: return .resumeFollower(try string())
        case 2:
            let id = try string()
            return .setEquity(id: id, equity: try decimal())
        case 3:
            let id = try string()
            return .disableProvider(id, flatten: try bool())
        case 4: return .enableProvider(try string())
        case 5: return .flattenFollower(try string())
        case 6: return .resetBreaker(try string())
        case 7: return .resync
        case let b: throw fail("unknown operator command \(b)")
        }
    }

    mutating func side() throws(JournalDecodeError) -> OrderSide {
        switch try byte() {
        case 1: return .buy
        case 2: return .sell
        case let b: throw fail("unknown side \(b)")
        }
    }

    mutating func order() throws(JournalDecodeError) -> OrderIntent {
        let clOrdID = try string()
        let session = try string()
        let symbol = try string()
        let brokerSymbol = try string()
        let side = try side()
        let quantity = try decimal()
        let brokerQuantity = try decimal()
        let ordType = try word(CopyOrderType.self)
        let timeInForce = try word(CopyTimeInForce.self)
        let price = try optionalDecimal()
        let account = try optionalString()
        let count = try length()
        var allocations: [OrderIntent.Allocation] = []
        allocations.reserveCapacity(count)
        for _ in 0..<count {
            let followerID = try string()
            let allocationAccount = try string()
            let allocationQuantity = try decimal()
            let allocationBrokerQuantity = try decimal()
            allocations.append(
                OrderIntent.Allocation(
                    followerID: followerID, account: allocationAccount, quantity: allocationQuantity,
                    brokerQuantity: allocationBrokerQuantity))
        }
        let signal = try string()
        let attempt = try int()
        let block = try bool()
        let createdAt = try varint()
        return OrderIntent(
            clOrdID: clOrdID, session: session, symbol: symbol, brokerSymbol: brokerSymbol, side: side,
            quantity: quantity, brokerQuantity: brokerQuantity, ordType: ordType, timeInForce: timeInForce,
            price: price, account: account, allocations: allocations, signal: signal, attempt: attempt, block: block,
            createdAt: createdAt)
    }
}
