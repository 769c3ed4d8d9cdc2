import NIOCore

/// Builds an outbound FIX message and serialises it with BodyLength and CheckSum filled in.
///
/// Values are written straight into one reused byte store, so a builder kept across messages
/// (`reset(msgType:)`) encodes without allocating. Serialisation uses the canonical field order:
/// 8, 9, 35, the other header fields ascending by tag, the body fields ascending by tag with each
/// repeating group kept together (members in the order they were appended, which callers keep in
/// dictionary order), the trailer, then 10.
public struct FIXMessageBuilder: Sendable {
    /// BeginString (8).
    public var beginString: String
    /// MsgType (35).
    public var msgType: String

    @usableFromInline var store: [UInt8] = []
    @usableFromInline var entries: [Entry] = []
    @usableFromInline var groupDepth = 0
    @usableFromInline var groupSortTag: UInt32 = 0
    @usableFromInline var groupSection: UInt8 = 1

    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline var tag: UInt32
        @usableFromInline var start: UInt32
        @usableFromInline var length: UInt32
        @usableFromInline var section: UInt8  // 0 header, 1 body, 2 trailer
        @usableFromInline var sortTag: UInt32
        @usableFromInline var inGroup: Bool

        @usableFromInline
        init(tag: UInt32, start: UInt32, length: UInt32, section: UInt8, sortTag: UInt32, inGroup: Bool) {
            self.tag = tag
            self.start = start
            self.length = length
            self.section = section
            self.sortTag = sortTag
            self.inGroup = inGroup
        }
    }

    /// Creates an empty message of type `msgType`.
    public init(msgType: String, beginString: String = "FIX.4.4") {
        self.msgType = msgType
        self.beginString = beginString
        store.reserveCapacity(256)
        entries.reserveCapacity(24)
    }

    /// Clears every field, keeping the storage, to build the next message.
    public mutating func reset(msgType: String) {
        self.msgType = msgType
        store.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        groupDepth = 0
    }

    /// Header tags of FIX 4.4 (8, 9 and 35 excepted): they sort before the body.
    public static let headerTags: Set<Int> = Set(FIXTag.standardHeader)

    @usableFromInline
    static let sectionTable: [UInt8] = {
        var t = [UInt8](repeating: 1, count: 1024)
        for h in FIXTag.standardHeader { t[h] = 0 }
        for tr in FIXTag.standardTrailer { t[tr] = 2 }
        return t
    }()

    @inlinable
    static func section(of tag: Int) -> UInt8 {
        tag < sectionTable.count ? sectionTable[tag] : 1
    }

    // MARK: Adding fields

    @inlinable
    mutating func appendEntry(_ tag: Int, replacing: Bool, _ write: (inout [UInt8]) -> Void) {
        precondition(tag > 0 && tag != 8 && tag != 9 && tag != 10, "tag \(tag) is written by the encoder")
        let start = store.count
        write(&store)
        let entry: Entry
        if groupDepth > 0 {
            entry = Entry(
                tag: UInt32(tag), start: UInt32(start), length: UInt32(store.count - start), section: groupSection,
                sortTag: groupSortTag, inGroup: true)
        } else {
            entry = Entry(
                tag: UInt32(tag), start: UInt32(start), length: UInt32(store.count - start),
                section: FIXMessageBuilder.section(of: tag), sortTag: UInt32(tag), inGroup: false)
            if replacing, let i = entries.firstIndex(where: { $0.tag == entry.tag && !$0.inGroup }) {
                entries[i] = entry
                return
            }
        }
        entries.append(entry)
    }

    /// Sets `tag` to a string value, replacing a previous value outside groups.
    @inlinable
    public mutating func set(_ tag: Int, _ value: String) {
        if tag == FIXTag.msgType {
            msgType = value
            return
        }
        appendEntry(tag, replacing: true) { out in out.append(contentsOf: value.utf8) }
    }

    /// Sets `tag` to raw bytes (a data field's payload, or a value copied verbatim).
    @inlinable
    public mutating func set<Bytes: Collection<UInt8>>(_ tag: Int, bytes: Bytes) {
        appendEntry(tag, replacing: true) { out in out.append(contentsOf: bytes) }
    }

    /// Sets `tag` to an integer.
    @inlinable
    public mutating func set(_ tag: Int, _ value: Int) {
        appendEntry(tag, replacing: true) { out in FIXMessageBuilder.writeInt(value, into: &out) }
    }

    /// Sets `tag` to an exact decimal, written with its own scale.
    @inlinable
    public mutating func set(_ tag: Int, _ value: FixedDecimal) {
        appendEntry(tag, replacing: true) { out in value.write(into: &out) }
    }

    /// Sets `tag` to a UTCTimestamp, written with the value's precision.
    @inlinable
    public mutating func set(_ tag: Int, _ value: UTCTimestamp) {
        appendEntry(tag, replacing: true) { out in value.write(into: &out) }
    }

    /// Sets `tag` to a UTCTimeOnly.
    public mutating func set(_ tag: Int, _ value: UTCTimeOnly) {
        appendEntry(tag, replacing: true) { out in value.write(into: &out) }
    }

    /// Sets `tag` to a date (UTCDateOnly or LocalMktDate).
    public mutating func set(_ tag: Int, _ value: FIXDate) {
        appendEntry(tag, replacing: true) { out in value.write(into: &out) }
    }

    /// Sets `tag` to a FIX boolean (`Y` or `N`).
    @inlinable
    public mutating func set(_ tag: Int, _ value: Bool) {
        appendEntry(tag, replacing: true) { out in out.append(value ? UInt8(ascii: "Y") : UInt8(ascii: "N")) }
    }

    /// Sets `tag` to a single character.
    @inlinable
    public mutating func set(_ tag: Int, _ value: Character) {
        appendEntry(tag, replacing: true) { out in out.append(contentsOf: value.utf8) }
    }

    /// Adds a field without replacing an earlier one with the same tag (repeated tags, group members).
    @inlinable
    public mutating func append(_ tag: Int, _ value: String) {
        appendEntry(tag, replacing: false) { out in out.append(contentsOf: value.utf8) }
    }

    /// Adds raw bytes without replacing an earlier field with the same tag.
    public mutating func append<Bytes: Collection<UInt8>>(_ tag: Int, bytes: Bytes) {
        appendEntry(tag, replacing: false) { out in out.append(contentsOf: bytes) }
    }

    /// Sets a length field and its data field together (RawDataLength/RawData, XmlDataLen/XmlData, ...).
    public mutating func setData(lengthTag: Int, dataTag: Int, _ data: [UInt8]) {
        set(lengthTag, data.count)
        set(dataTag, bytes: data)
    }

    /// Removes every field with `tag` outside groups.
    public mutating func remove(_ tag: Int) {
        entries.removeAll { $0.tag == UInt32(tag) && !$0.inGroup }
    }

    /// Removes a top-level repeating group: its NumInGroup field and every entry.
    public mutating func removeGroup(_ countTag: Int) {
        let t = UInt32(countTag)
        entries.removeAll { $0.sortTag == t && ($0.inGroup || $0.tag == t) }
    }

    /// Writes a repeating group: its NumInGroup field, then whatever `body` appends, kept together.
    /// Call `body` members in dictionary order; nested groups may be written inside.
    public mutating func group(_ countTag: Int, count: Int, _ body: (inout FIXMessageBuilder) -> Void) {
        beginGroup(countTag, count: count)
        body(&self)
        endGroup()
    }

    /// Starts a repeating group (see ``group(_:count:_:)``); pair with ``endGroup()``.
    public mutating func beginGroup(_ countTag: Int, count: Int) {
        if groupDepth == 0 {
            appendEntry(countTag, replacing: true) { out in FIXMessageBuilder.writeInt(count, into: &out) }
            groupSortTag = UInt32(countTag)
            groupSection = FIXMessageBuilder.section(of: countTag)
            // The count field belongs with its members.
            entries[entries.count - 1].inGroup = false
        } else {
            appendEntry(countTag, replacing: false) { out in FIXMessageBuilder.writeInt(count, into: &out) }
        }
        groupDepth += 1
    }

    /// Ends the innermost group started with ``beginGroup(_:count:)``.
    public mutating func endGroup() {
        precondition(groupDepth > 0, "endGroup without beginGroup")
        groupDepth -= 1
    }

    // MARK: Reading back

    /// The value set for `tag` outside groups, if any.
    public subscript(tag: Int) -> String? {
        if tag == FIXTag.msgType { return msgType }
        if tag == FIXTag.beginString { return beginString }
        guard let e = entries.last(where: { $0.tag == UInt32(tag) && !$0.inGroup }) else { return nil }
        return String(decoding: store[Int(e.start)..<Int(e.start + e.length)], as: UTF8.self)
    }

    /// Whether `tag` has been set outside groups.
    public func contains(_ tag: Int) -> Bool {
        entries.contains { $0.tag == UInt32(tag) && !$0.inGroup }
    }

    // MARK: Encoding

    @inlinable
    static func decimalDigits(_ v: Int) -> Int {
        var n = 1
        var x = v
        while x >= 10 {
            x /= 10
            n += 1
        }
        return n
    }

    @inlinable
    static func writeInt(_ value: Int, into out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            writeInt(value == Int.min ? Int.max : -value, into: &out)  // Int.min never occurs in FIX fields
            return
        }
        let digits = decimalDigits(value)
        var divisor = 1
        for _ in 1..<digits { divisor *= 10 }
        var v = value
        while divisor > 0 {
            out.append(UInt8(truncatingIfNeeded: v / divisor) &+ UInt8(ascii: "0"))
            v %= divisor
            divisor /= 10
        }
    }

    @inlinable
    static func writeInt(_ value: Int, to p: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let digits = decimalDigits(value)
        var v = value
        var i = offset + digits - 1
        repeat {
            p[i] = UInt8(truncatingIfNeeded: v % 10) &+ UInt8(ascii: "0")
            v /= 10
            i -= 1
        } while i >= offset
        return offset + digits
    }

    /// Appends the serialised message to `out` and returns the number of bytes written.
    @discardableResult
    public func encode(into out: inout ByteBuffer) -> Int {
        let n = entries.count
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Swift.max(n, 1)) { keys in
            var bodyLength = 3 + msgType.utf8.count + 1
            for i in 0..<n {
                let e = entries[i]
                keys[i] = UInt64(e.section) << 60 | UInt64(e.sortTag) << 28 | UInt64(i)
                bodyLength += FIXMessageBuilder.decimalDigits(Int(e.tag)) + 2 + Int(e.length)
            }
            // Insertion sort: messages have a few dozen fields and arrive mostly in order.
            if n > 1 {
                for i in 1..<n {
                    let k = keys[i]
                    var j = i - 1
                    while j >= 0 && keys[j] > k {
                        keys[j + 1] = keys[j]
                        j -= 1
                    }
                    keys[j + 1] = k
                }
            }
            let beginCount = beginString.utf8.count
            let total = 2 + beginCount + 1 + 2 + FIXMessageBuilder.decimalDigits(bodyLength) + 1 + bodyLength + 7
            return out.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { p in
                var o = 0
                @inline(__always) func put(_ b: UInt8) {
                    p[o] = b
                    o += 1
                }
                put(UInt8(ascii: "8"))
                put(UInt8(ascii: "="))
                for b in beginString.utf8 { put(b) }
                put(SOH)
                put(UInt8(ascii: "9"))
                put(UInt8(ascii: "="))
                o = FIXMessageBuilder.writeInt(bodyLength, to: p, at: o)
                put(SOH)
                put(UInt8(ascii: "3"))
                put(UInt8(ascii: "5"))
                put(UInt8(ascii: "="))
                for b in msgType.utf8 { put(b) }
                put(SOH)
                store.withUnsafeBytes { s in
                    for i in 0..<n {
                        let e = entries[Int(keys[i] & 0x0FFF_FFFF)]
                        o = FIXMessageBuilder.writeInt(Int(e.tag), to: p, at: o)
                        put(UInt8(ascii: "="))
                        let len = Int(e.length)
                        if len > 0 {
                            (p.baseAddress! + o).copyMemory(from: s.baseAddress! + Int(e.start), byteCount: len)
                            o += len
                        }
                        put(SOH)
                    }
                }
                let sum = FIXFrameDecoder.checksum(UnsafeRawBufferPointer(rebasing: p[0..<o]))
                put(UInt8(ascii: "1"))
                put(UInt8(ascii: "0"))
                put(UInt8(ascii: "="))
                put(UInt8(truncatingIfNeeded: sum / 100) &+ UInt8(ascii: "0"))
                put(UInt8(truncatingIfNeeded: (sum / 10) % 10) &+ UInt8(ascii: "0"))
                put(UInt8(truncatingIfNeeded: sum % 10) &+ UInt8(ascii: "0"))
                put(SOH)
                precondition(o == total, "encoder size mismatch")
                return o
            }
        }
    }

    /// The serialised message as bytes.
    public func encoded() -> ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: 64 + store.count + entries.count * 6)
        encode(into: &out)
        return out
    }

    /// The serialised message, parsed back into a ``FIXMessage``.
    public func build(configuration: FIXDecoderConfiguration = .init()) -> FIXMessage {
        do {
            return try FIXFrameDecoder(configuration: configuration).decodeOne(encoded())
        } catch {
            preconditionFailure("the encoder produced an undecodable message: \(error)")
        }
    }
}

extension FIXMessageBuilder {
    /// A builder holding every field of `message` (8, 9 and 10 excepted), to change and re-send.
    ///
    /// Without a dictionary the builder cannot know where repeating groups begin and end, so body
    /// fields keep their received order; header fields move to the header. Use the data
    /// dictionary's canonicalising copy when the body must be put in canonical order too.
    public init(copying message: FIXMessage) {
        self.init(msgType: message.msgType, beginString: message.beginString)
        message.bytes.withUnsafeReadableBytes { raw in
            for (i, f) in message.fields.enumerated() {
                let tag = f.tag
                if i < 3 || tag == FIXTag.checkSum || tag == FIXTag.bodyLength || tag == FIXTag.beginString {
                    continue
                }
                let value = UnsafeRawBufferPointer(rebasing: raw[f.valueStart..<(f.valueStart + f.valueLength)])
                let section = FIXMessageBuilder.section(of: tag)
                let start = store.count
                store.append(contentsOf: value)
                entries.append(
                    Entry(
                        tag: UInt32(tag), start: UInt32(start), length: UInt32(value.count), section: section,
                        sortTag: section == 1 ? 0 : UInt32(tag), inGroup: section == 1))
            }
        }
    }
}
