import NIOCore

/// The field separator, SOH (0x01).
public let SOH: UInt8 = 0x01

/// One field of a received message: its tag and where its value lies in the message bytes.
public struct FIXFieldRef: Sendable, Equatable {
    @usableFromInline let _tag: UInt32
    @usableFromInline let _start: UInt32
    @usableFromInline let _length: UInt32

    @inlinable
    init(tag: Int, start: Int, length: Int) {
        _tag = UInt32(truncatingIfNeeded: tag)
        _start = UInt32(truncatingIfNeeded: start)
        _length = UInt32(truncatingIfNeeded: length)
    }

    /// The tag number.
    @inlinable public var tag: Int { Int(_tag) }
    /// Offset of the value's first byte within the message.
    @inlinable public var valueStart: Int { Int(_start) }
    /// Length of the value in bytes.
    @inlinable public var valueLength: Int { Int(_length) }
}

/// A value that could not be read as the type asked for, or a field that is not there.
///
/// The description names the tag and the value, so an operator can find the offending field.
public struct FIXFieldError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The message has no such field.
        case missing
        /// The field is present with an empty value.
        case empty
        /// The value is not of the expected type.
        case badFormat(expected: FIXFieldType)
    }

    public let tag: Int
    public let kind: Kind
    /// The value as received (for `badFormat`).
    public let value: String?

    public init(tag: Int, kind: Kind, value: String? = nil) {
        self.tag = tag
        self.kind = kind
        self.value = value
    }

    public var description: String {
        switch kind {
        case .missing: return "tag \(tag) is missing"
        case .empty: return "tag \(tag) has no value"
        case .badFormat(let expected):
            return "tag \(tag) value '\(value ?? "")' is not a valid \(expected.rawValue)"
        }
    }
}

/// A received FIX message: the frame's bytes and an index of its fields.
///
/// Values are views of the received bytes: nothing is copied until a value is converted, repeated
/// tags keep their order, and a value's original bytes are preserved exactly (`002000.00` stays
/// `002000.00`). The index includes the framing fields 8, 9, 35 and 10.
public struct FIXMessage: Sendable {
    /// The whole frame, from `8=` to the SOH after the checksum.
    public let bytes: ByteBuffer
    /// Every field in wire order.
    public let fields: [FIXFieldRef]

    @inlinable
    init(bytes: ByteBuffer, fields: [FIXFieldRef]) {
        self.bytes = bytes
        self.fields = fields
    }

    /// Number of fields, framing fields included.
    @inlinable public var count: Int { fields.count }

    /// Index of the first field with `tag`, searching `range` (all fields by default).
    @inlinable
    public func firstIndex(of tag: Int, in range: Range<Int>? = nil) -> Int? {
        let t = UInt32(truncatingIfNeeded: tag)
        let r = range ?? 0..<fields.count
        return fields.withUnsafeBufferPointer { f in
            for i in r where f[i]._tag == t { return i }
            return nil
        }
    }

    /// Whether the message carries `tag`.
    @inlinable
    public func contains(_ tag: Int) -> Bool { firstIndex(of: tag) != nil }

    /// Runs `body` over the raw bytes of field `index`'s value.
    @inlinable
    public func withValueBytes<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let f = fields[index]
        return try bytes.withUnsafeReadableBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[f.valueStart..<(f.valueStart + f.valueLength)]))
        }
    }

    /// The bytes of field `index`'s value.
    public func valueBytes(at index: Int) -> [UInt8] {
        let f = fields[index]
        return bytes.getBytes(at: bytes.readerIndex + f.valueStart, length: f.valueLength) ?? []
    }

    /// The value of field `index` as a string (bytes decoded as UTF-8, invalid sequences repaired).
    public func string(at index: Int) -> String {
        withValueBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// The first value of `tag` as a string, or `nil` when absent.
    @inlinable
    public subscript(tag: Int) -> String? {
        guard let i = firstIndex(of: tag) else { return nil }
        return withValueBytes(at: i) { String(decoding: $0, as: UTF8.self) }
    }

    /// Every value of `tag`, in order (repeating-group members and repeated tags).
    public func values(of tag: Int) -> [String] {
        fields.indices.filter { fields[$0].tag == tag }.map { string(at: $0) }
    }

    /// Whether the first value of `tag` equals `value`, compared byte by byte.
    @inlinable
    public func value(of tag: Int, equals value: StaticString) -> Bool {
        guard let i = firstIndex(of: tag) else { return false }
        return withValueBytes(at: i) { v in
            let expected = UnsafeRawBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount)
            return v.elementsEqual(expected)
        }
    }

    /// Whether the first value of `tag` equals `value`, compared byte by byte.
    public func value(of tag: Int, equals value: String) -> Bool {
        guard let i = firstIndex(of: tag) else { return false }
        return withValueBytes(at: i) { v in
            // A native string's bytes compared as bytes: `elementsEqual` over its UTF-8 view walks an
            // iterator a byte at a time, and this runs for every message's CompIDs.
            let same = value.utf8.withContiguousStorageIfAvailable { u in
                guard u.count == v.count else { return false }
                for k in 0..<u.count where u[k] != v[k] { return false }
                return true
            }
            return same ?? v.elementsEqual(value.utf8)
        }
    }

    // MARK: Framing fields

    /// BeginString (8).
    public var beginString: String { string(at: 0) }
    /// MsgType (35).
    public var msgType: String { count > 2 ? string(at: 2) : "" }
    /// MsgSeqNum (34), or `nil` when absent or not an integer.
    public var msgSeqNum: Int? { try? intIfPresent(FIXTag.msgSeqNum) }
    /// Whether MsgType is `type`.
    @inlinable
    public func isMsgType(_ type: StaticString) -> Bool {
        guard count > 2 else { return false }
        return withValueBytes(at: 2) { v in
            v.elementsEqual(UnsafeRawBufferPointer(start: type.utf8Start, count: type.utf8CodeUnitCount))
        }
    }

    // MARK: Typed access

    @inlinable
    func requireIndex(_ tag: Int) throws(FIXFieldError) -> Int {
        guard let i = firstIndex(of: tag) else { throw FIXFieldError(tag: tag, kind: .missing) }
        return i
    }

    @inlinable
    func convert<T>(
        at index: Int, _ type: FIXFieldType, _ parse: (UnsafeRawBufferPointer) -> T?
    ) throws(FIXFieldError) -> T {
        let tag = fields[index].tag
        let result: T?? = withValueBytes(at: index) { v in v.isEmpty ? .none : .some(parse(v)) }
        switch result {
        case .none: throw FIXFieldError(tag: tag, kind: .empty)
        case .some(.none): throw FIXFieldError(tag: tag, kind: .badFormat(expected: type), value: string(at: index))
        case .some(.some(let value)): return value
        }
    }

    /// The first value of `tag` as a string; throws when absent.
    public func string(_ tag: Int) throws(FIXFieldError) -> String {
        string(at: try requireIndex(tag))
    }

    /// The first value of `tag` as an integer; throws when absent or malformed.
    @inlinable
    public func int(_ tag: Int) throws(FIXFieldError) -> Int {
        try convert(at: try requireIndex(tag), .int, FIXFieldType.parseInt)
    }

    /// The first value of `tag` as an integer, `nil` when absent; throws when malformed.
    @inlinable
    public func intIfPresent(_ tag: Int) throws(FIXFieldError) -> Int? {
        guard let i = firstIndex(of: tag) else { return nil }
        return try convert(at: i, .int, FIXFieldType.parseInt)
    }

    /// The integer value of field `index`; throws when malformed.
    @inlinable
    public func int(at index: Int) throws(FIXFieldError) -> Int {
        try convert(at: index, .int, FIXFieldType.parseInt)
    }

    /// The first value of `tag` as an exact decimal (Qty, Price, Amt, ...); throws when absent or malformed.
    @inlinable
    public func decimal(_ tag: Int) throws(FIXFieldError) -> FixedDecimal {
        try convert(at: try requireIndex(tag), .float, FixedDecimal.parse)
    }

    /// The first value of `tag` as an exact decimal, `nil` when absent; throws when malformed.
    @inlinable
    public func decimalIfPresent(_ tag: Int) throws(FIXFieldError) -> FixedDecimal? {
        guard let i = firstIndex(of: tag) else { return nil }
        return try convert(at: i, .float, FixedDecimal.parse)
    }

    /// The decimal value of field `index`; throws when malformed.
    public func decimal(at index: Int) throws(FIXFieldError) -> FixedDecimal {
        try convert(at: index, .float, FixedDecimal.parse)
    }

    /// The first value of `tag` as a single character; throws when absent or not one byte.
    public func char(_ tag: Int) throws(FIXFieldError) -> Character {
        guard let c = try charIfPresent(tag) else { throw FIXFieldError(tag: tag, kind: .missing) }
        return c
    }

    /// The first value of `tag` as a single character, `nil` when absent.
    public func charIfPresent(_ tag: Int) throws(FIXFieldError) -> Character? {
        guard let i = firstIndex(of: tag) else { return nil }
        let byte: UInt8 = try convert(at: i, .char) { v in v.count == 1 ? v[0] : nil }
        return Character(Unicode.Scalar(byte))
    }

    /// The first value of `tag` as a FIX boolean (`Y`/`N`); throws when absent or malformed.
    public func bool(_ tag: Int) throws(FIXFieldError) -> Bool {
        try convert(at: try requireIndex(tag), .boolean, FIXMessage.parseBool)
    }

    /// The first value of `tag` as a FIX boolean, `nil` when absent.
    public func boolIfPresent(_ tag: Int) throws(FIXFieldError) -> Bool? {
        guard let i = firstIndex(of: tag) else { return nil }
        return try convert(at: i, .boolean, FIXMessage.parseBool)
    }

    @usableFromInline
    static func parseBool(_ v: UnsafeRawBufferPointer) -> Bool? {
        guard v.count == 1 else { return nil }
        switch v[0] {
        case UInt8(ascii: "Y"): return true
        case UInt8(ascii: "N"): return false
        default: return nil
        }
    }

    /// The first value of `tag` as a UTCTimestamp (seconds to nanoseconds); throws when absent or malformed.
    public func timestamp(_ tag: Int) throws(FIXFieldError) -> UTCTimestamp {
        try convert(at: try requireIndex(tag), .utcTimestamp, UTCTimestamp.parse)
    }

    /// The first value of `tag` as a UTCTimestamp, `nil` when absent.
    public func timestampIfPresent(_ tag: Int) throws(FIXFieldError) -> UTCTimestamp? {
        guard let i = firstIndex(of: tag) else { return nil }
        return try convert(at: i, .utcTimestamp, UTCTimestamp.parse)
    }

    /// The first value of `tag` as a UTCTimeOnly.
    public func timeOnly(_ tag: Int) throws(FIXFieldError) -> UTCTimeOnly {
        try convert(at: try requireIndex(tag), .utcTimeOnly, UTCTimeOnly.parse)
    }

    /// The first value of `tag` as a UTCDateOnly.
    public func dateOnly(_ tag: Int) throws(FIXFieldError) -> FIXDate {
        try convert(at: try requireIndex(tag), .utcDateOnly, FIXDate.parse)
    }

    /// The first value of `tag` as a LocalMktDate.
    public func localMktDate(_ tag: Int) throws(FIXFieldError) -> FIXDate {
        try convert(at: try requireIndex(tag), .localMktDate, FIXDate.parse)
    }

    /// The first value of `tag` as a MonthYear.
    public func monthYear(_ tag: Int) throws(FIXFieldError) -> MonthYear {
        try convert(at: try requireIndex(tag), .monthYear, MonthYear.parse)
    }

    /// The frame as a string with `|` in place of SOH, for logs and test failures.
    public var debugDescription: String {
        let raw = bytes.getBytes(at: bytes.readerIndex, length: bytes.readableBytes) ?? []
        return String(decoding: raw.map { $0 == SOH ? UInt8(ascii: "|") : $0 }, as: UTF8.self)
    }

    /// The frame's bytes as an array.
    public var byteArray: [UInt8] {
        bytes.getBytes(at: bytes.readerIndex, length: bytes.readableBytes) ?? []
    }

    /// Index of the first body field (after 8, 9, 35 and any header fields that follow directly).
    public func isHeaderTag(_ tag: Int) -> Bool { FIXMessageBuilder.headerTags.contains(tag) }
}

extension FIXMessage: CustomStringConvertible {
    public var description: String { debugDescription }
}

extension FIXMessage: Equatable {
    /// Two messages are equal when their bytes are.
    public static func == (lhs: FIXMessage, rhs: FIXMessage) -> Bool {
        lhs.bytes == rhs.bytes
    }
}
