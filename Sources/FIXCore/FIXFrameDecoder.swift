import NIOCore

/// Why bytes from the wire did not become a message. Every case is a peer's mistake: the decoder
/// reports it, skips the offending bytes and carries on with the next `8=FIX`.
public enum FIXDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Bytes before the next `8=FIX` that belong to no message.
    case junk(byteCount: Int)
    /// The bytes end before the message does.
    case incomplete
    /// BeginString (8) is not followed by SOH within a sensible length.
    case badBeginString
    /// The second field is not BodyLength (9), or its value is not a number.
    case badBodyLength
    /// BodyLength announces more than the configured maximum message size.
    case tooLarge(bodyLength: Int, limit: Int)
    /// The third field is not MsgType (35).
    case msgTypeNotThird
    /// CheckSum (10) is not where BodyLength says the body ends.
    case bodyLengthMismatch(bodyLength: Int)
    /// CheckSum (10) does not match the bytes.
    case checksumMismatch(computed: Int, received: Int)
    /// A field is not `tag=value` with a numeric tag.
    case malformedField(offset: Int)
    /// A length field announces more data than the message holds, or its data is not followed by SOH.
    case badDataLength(tag: Int)

    public var description: String {
        switch self {
        case .junk(let n): return "skipped \(n) bytes that belong to no message"
        case .incomplete: return "the message is incomplete"
        case .badBeginString: return "BeginString (8) is malformed"
        case .badBodyLength: return "second field is not a valid BodyLength (9)"
        case .tooLarge(let length, let limit): return "BodyLength \(length) exceeds the maximum message size \(limit)"
        case .msgTypeNotThird: return "third field is not MsgType (35)"
        case .bodyLengthMismatch(let length): return "CheckSum (10) not found where BodyLength \(length) ends the body"
        case .checksumMismatch(let computed, let received):
            return "CheckSum \(received) does not match the computed \(computed)"
        case .malformedField(let offset): return "malformed field at byte \(offset)"
        case .badDataLength(let tag): return "length field \(tag) does not match its data field"
        }
    }
}

/// What the decoder made of the next bytes.
public enum FIXDecodeResult: Sendable {
    /// A well-framed message with a valid BodyLength and CheckSum.
    case message(FIXMessage)
    /// Bytes that were skipped, and why. `bytes` holds them for the event log.
    case garbled(FIXDecodeError, bytes: ByteBuffer)
}

/// Limits and layout knowledge for the decoder.
public struct FIXDecoderConfiguration: Sendable {
    /// Largest BodyLength accepted; larger frames are rejected before they are buffered.
    public var maximumMessageSize: Int
    /// Length tags and the data tags they announce (RawDataLength 95 → RawData 96, ...).
    public var dataFields: [Int: Int] {
        didSet { table = FIXDecoderConfiguration.makeTable(dataFields) }
    }
    @usableFromInline var table: [Int32]

    public init(maximumMessageSize: Int = 1 << 20, dataFields: [Int: Int] = FIXTag.standardDataFields) {
        self.maximumMessageSize = maximumMessageSize
        self.dataFields = dataFields
        self.table = FIXDecoderConfiguration.makeTable(dataFields)
    }

    /// The default limits and FIX 4.4's data fields, built once: every decoder, parsed message and
    /// resent or replayed message made without a configuration of its own shares its table instead
    /// of building one.
    public static let standard = FIXDecoderConfiguration()

    static func makeTable(_ pairs: [Int: Int]) -> [Int32] {
        guard let top = pairs.keys.max(), top < 1 << 20 else { return [] }
        var t = [Int32](repeating: 0, count: top + 1)
        for (length, data) in pairs where length >= 0 { t[length] = Int32(truncatingIfNeeded: data) }
        return t
    }

    @inlinable
    func dataTag(forLengthTag tag: Int) -> Int {
        tag < table.count ? Int(table[tag]) : 0
    }
}

/// Frames FIX messages out of a TCP byte stream.
///
/// `8=` must come first, `9=` second, `35=` third and `10=` last; BodyLength and CheckSum are
/// verified, the size limit is enforced before a frame is buffered, and after garbage the decoder
/// resynchronises on the next `8=FIX`. It never consumes bytes of an incomplete frame.
public struct FIXFrameDecoder: Sendable {
    public var configuration: FIXDecoderConfiguration

    public init(configuration: FIXDecoderConfiguration = .standard) {
        self.configuration = configuration
    }

    @usableFromInline
    enum Step {
        case needMore
        case skip(Int, FIXDecodeError)
        case frame(length: Int, fields: [FIXFieldRef])
    }

    /// The next message or garbled chunk in `buffer`, consuming its bytes; `nil` when more bytes are needed.
    public func next(from buffer: inout ByteBuffer) -> FIXDecodeResult? {
        let step = buffer.withUnsafeReadableBytes { raw in scan(raw) }
        switch step {
        case .needMore:
            return nil
        case .skip(let n, let error):
            let skipped = buffer.readSlice(length: n)!
            return .garbled(error, bytes: skipped)
        case .frame(let length, let fields):
            let frame = buffer.readSlice(length: length)!
            return .message(FIXMessage(bytes: frame, fields: fields))
        }
    }

    /// Decodes exactly one complete message from `bytes`; throws the first problem found.
    public func decodeOne(_ bytes: ByteBuffer) throws(FIXDecodeError) -> FIXMessage {
        switch bytes.withUnsafeReadableBytes({ raw in scan(raw) }) {
        case .needMore: throw .incomplete
        case .skip(_, let e): throw e
        case .frame(let length, let fields):
            // The message keeps the caller's buffer itself when the frame fills it.
            let frame =
                length == bytes.readableBytes ? bytes : bytes.getSlice(at: bytes.readerIndex, length: length)!
            return FIXMessage(bytes: frame, fields: fields)
        }
    }

    @inlinable
    static func startsWith8EqFIX(_ raw: UnsafeRawBufferPointer, at i: Int) -> Bool? {
        let pattern: (UInt8, UInt8, UInt8, UInt8, UInt8) = (0x38, 0x3D, 0x46, 0x49, 0x58)  // "8=FIX"
        let available = raw.count - i
        let n = Swift.min(5, available)
        for k in 0..<n {
            let p: UInt8
            switch k {
            case 0: p = pattern.0
            case 1: p = pattern.1
            case 2: p = pattern.2
            case 3: p = pattern.3
            default: p = pattern.4
            }
            if raw[i + k] != p { return false }
        }
        return available >= 5 ? true : nil
    }

    /// Offset of the next `8=FIX` at or after `from` (or of a trailing partial match), else `raw.count`.
    @usableFromInline
    func resyncPoint(_ raw: UnsafeRawBufferPointer, from: Int) -> Int {
        var i = from
        while i < raw.count {
            if raw[i] == 0x38 {
                if FIXFrameDecoder.startsWith8EqFIX(raw, at: i) != false { return i }
            }
            i += 1
        }
        return raw.count
    }

    @usableFromInline
    func skipToResync(_ raw: UnsafeRawBufferPointer, from: Int, _ error: FIXDecodeError) -> Step {
        .skip(resyncPoint(raw, from: Swift.max(from, 1)), error)
    }

    @usableFromInline
    func scan(_ raw: UnsafeRawBufferPointer) -> Step {
        let n = raw.count
        if n == 0 { return .needMore }
        switch FIXFrameDecoder.startsWith8EqFIX(raw, at: 0) {
        case .none: return .needMore
        case .some(false):
            let start = resyncPoint(raw, from: 1)
            return .skip(start, .junk(byteCount: start))
        case .some(true): break
        }
        // BeginString value: up to 16 bytes.
        var i = 2
        while i < n && raw[i] != SOH {
            if i > 18 { return skipToResync(raw, from: 1, .badBeginString) }
            i += 1
        }
        if i >= n { return .needMore }
        let afterBegin = i + 1
        // "9=" then digits then SOH.
        if n < afterBegin + 2 { return .needMore }
        guard raw[afterBegin] == UInt8(ascii: "9"), raw[afterBegin + 1] == UInt8(ascii: "=") else {
            return skipToResync(raw, from: 1, .badBodyLength)
        }
        var j = afterBegin + 2
        var bodyLength = 0
        while j < n && raw[j] != SOH {
            let d = raw[j] &- UInt8(ascii: "0")
            guard d < 10, j - afterBegin - 2 < 9 else { return skipToResync(raw, from: 1, .badBodyLength) }
            bodyLength = bodyLength * 10 + Int(d)
            j += 1
        }
        if j >= n { return .needMore }
        if j == afterBegin + 2 { return skipToResync(raw, from: 1, .badBodyLength) }
        if bodyLength > configuration.maximumMessageSize {
            return skipToResync(
                raw, from: 1, .tooLarge(bodyLength: bodyLength, limit: configuration.maximumMessageSize))
        }
        let bodyStart = j + 1
        // MsgType must be the third field; check as soon as its bytes are here.
        if n >= bodyStart + 3 {
            guard raw[bodyStart] == UInt8(ascii: "3"), raw[bodyStart + 1] == UInt8(ascii: "5"),
                raw[bodyStart + 2] == UInt8(ascii: "=")
            else { return skipToResync(raw, from: 1, .msgTypeNotThird) }
        }
        let trailer = bodyStart + bodyLength
        let end = trailer + 7
        if n < end { return .needMore }
        guard raw[trailer] == UInt8(ascii: "1"), raw[trailer + 1] == UInt8(ascii: "0"),
            raw[trailer + 2] == UInt8(ascii: "="), raw[trailer + 6] == SOH,
            let received = readDigits(raw, trailer + 3, 3)
        else { return skipToResync(raw, from: 1, .bodyLengthMismatch(bodyLength: bodyLength)) }
        // One pass for the checksum and the number of SOH bytes, which bounds the number of fields.
        let (computed, separators) = FIXFrameDecoder.checksumAndSeparators(
            UnsafeRawBufferPointer(rebasing: raw[0..<trailer]))
        guard computed == received else {
            return .skip(end, .checksumMismatch(computed: computed, received: received))
        }
        switch index(raw, end: end, capacity: separators + 1) {
        case .success(let fields): return .frame(length: end, fields: fields)
        case .failure(let e): return .skip(end, e)
        }
    }

    /// Sum of the bytes modulo 256, as CheckSum (10) defines it.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> Int {
        checksumAndSeparators(bytes).checksum
    }

    /// The CheckSum of `bytes` and how many SOH bytes they hold, sixteen bytes at a time.
    @inlinable
    static func checksumAndSeparators(_ bytes: UnsafeRawBufferPointer) -> (checksum: Int, separators: Int) {
        let n = bytes.count
        var sum: UInt64 = 0
        var separators = 0
        var i = 0
        if let base = bytes.baseAddress {
            let soh = SIMD16<UInt8>(repeating: SOH)
            let one = SIMD16<UInt8>(repeating: 1)
            while i + 16 <= n {
                // 16-bit lanes hold 257 × 255 and 8-bit counters 255: fold every 255 vectors.
                var lanes = SIMD16<UInt16>(repeating: 0)
                var counts = SIMD16<UInt8>(repeating: 0)
                let blockEnd = Swift.min(n, i + 16 * 255)
                while i + 16 <= blockEnd {
                    let v = base.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                    lanes &+= SIMD16<UInt16>(truncatingIfNeeded: v)
                    counts &+= one & unsafeBitCast(v .== soh, to: SIMD16<UInt8>.self)
                    i += 16
                }
                sum &+= UInt64(lanes.wrappedSum())
                separators &+= Int(SIMD16<UInt16>(truncatingIfNeeded: counts).wrappedSum())
            }
        }
        while i < n {
            let b = bytes[i]
            sum &+= UInt64(b)
            separators &+= b == SOH ? 1 : 0
            i += 1
        }
        return (Int(sum & 0xFF), separators)
    }

    /// Offset of the first SOH in `from..<end`, or `end`; eight bytes at a time where it can.
    @inline(__always)
    static func findSOH(_ raw: UnsafeRawBufferPointer, from: Int, end: Int) -> Int {
        var p = from
        if let base = raw.baseAddress {
            while p + 8 <= end {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: p, as: UInt64.self))
                // Bytes equal to SOH become zero; the lowest zero byte is found exactly.
                let x = word ^ 0x0101_0101_0101_0101
                let zero = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
                if zero != 0 { return p + zero.trailingZeroBitCount >> 3 }
                p += 8
            }
        }
        while p < end && raw[p] != SOH { p += 1 }
        return p
    }

    /// Indexes every field of a frame whose framing, BodyLength and CheckSum were verified.
    /// `capacity` bounds the number of fields, so the index is allocated once.
    @usableFromInline
    func index(_ raw: UnsafeRawBufferPointer, end: Int, capacity: Int) -> Result<[FIXFieldRef], FIXDecodeError> {
        // Reserved, then appended to: `Array(unsafeUninitializedCapacity:)` allocates through the
        // standard library's unspecialized path, which looks the storage's type metadata up in the
        // runtime's locked cache on every call (a tenth of a parse in `bench codec`).
        var fields: [FIXFieldRef] = []
        fields.reserveCapacity(capacity)
        var pos = 0
        var pendingDataTag = 0
        var pendingDataLength = 0
        while pos < end {
            var tag = 0
            let tagStart = pos
            while pos < end {
                let c = raw[pos]
                if c == UInt8(ascii: "=") { break }
                let d = c &- UInt8(ascii: "0")
                guard d < 10, pos - tagStart < 9 else { return .failure(.malformedField(offset: tagStart)) }
                tag = tag &* 10 &+ Int(d)
                pos += 1
            }
            guard pos < end, pos > tagStart else { return .failure(.malformedField(offset: tagStart)) }
            pos += 1
            let valueStart = pos
            if pendingDataTag != 0 && tag == pendingDataTag {
                let valueEnd = valueStart + pendingDataLength
                guard valueEnd < end, raw[valueEnd] == SOH else { return .failure(.badDataLength(tag: tag)) }
                pos = valueEnd
            } else {
                pos = FIXFrameDecoder.findSOH(raw, from: pos, end: end)
                guard pos < end else { return .failure(.malformedField(offset: tagStart)) }
            }
            pendingDataTag = 0
            let length = pos - valueStart
            // More fields than separators only happens with data fields, which contain SOH.
            guard fields.count < capacity else { return .failure(.malformedField(offset: tagStart)) }
            fields.append(FIXFieldRef(tag: tag, start: valueStart, length: length))
            let dataTag = configuration.dataTag(forLengthTag: tag)
            if dataTag != 0,
                let announced = FIXFieldType.parseInt(
                    UnsafeRawBufferPointer(rebasing: raw[valueStart..<(valueStart + length)])),
                announced >= 0
            {
                pendingDataTag = dataTag
                pendingDataLength = announced
            }
            pos += 1
        }
        return .success(fields)
    }
}

extension FIXMessage {
    /// Parses one complete message from its bytes (framing, BodyLength and CheckSum are checked).
    public init(bytes: [UInt8], configuration: FIXDecoderConfiguration = .standard) throws(FIXDecodeError) {
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        self = try FIXFrameDecoder(configuration: configuration).decodeOne(buffer)
    }

    /// Parses a message written with `|` (or SOH) between fields, as logs and tests show them.
    /// BodyLength and CheckSum must be right; `FIXMessageBuilder` computes them when they are not known.
    public init(pipeDelimited text: String, configuration: FIXDecoderConfiguration = .standard) throws(FIXDecodeError) {
        try self.init(bytes: text.utf8.map { $0 == UInt8(ascii: "|") ? SOH : $0 }, configuration: configuration)
    }
}
