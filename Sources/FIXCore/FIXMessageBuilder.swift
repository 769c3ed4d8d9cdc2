import NIOCore

/// Builds an outbound FIX message and serialises it with BodyLength and CheckSum filled in.
///
/// Fields are written straight into one reused byte store as they go on the wire (`tag=value`
/// and SOH), so a builder kept across messages (`reset(msgType:)`) encodes without allocating,
/// and a message built in canonical order is copied out whole. Serialisation uses the canonical
/// field order: 8, 9, 35, the other header fields ascending by tag, the body fields ascending by
/// tag with each repeating group kept together (members in the order they were appended, which
/// callers keep in dictionary order), the trailer, then 10.
public struct FIXMessageBuilder: Sendable {
    /// BeginString (8).
    public var beginString: String
    /// MsgType (35).
    public var msgType: String

    @usableFromInline var storage: BuilderStorage
    @usableFromInline var byteCount = 0
    @usableFromInline var entryCount = 0
    @usableFromInline var groupDepth = 0
    @usableFromInline var groupSortTag: UInt32 = 0
    @usableFromInline var groupSection: UInt8 = 1
    /// Bit `tag % 64` is set for every top-level tag added: a clear bit means the tag is absent,
    /// so `set` skips the search for a value to replace.
    @usableFromInline var tagFilter: UInt64 = 0
    /// The last UTCTimestamp date written (days since the epoch) and its `YYYYMMDD` digits: the
    /// timestamps of a session's messages share their date, which then costs nothing to format.
    @usableFromInline var cachedDay = Int.min
    @usableFromInline var cachedDate: UInt64 = 0
    /// Whether the bytes hold the fields exactly as they go on the wire, in canonical order: the
    /// section (0 header, 1 body, 2 trailer) every field so far belongs to, each added once, at
    /// top level and in ascending tag order; ``emptyRun`` before the first field, ``brokenRun``
    /// once any field breaks that. The encoder then copies the bytes instead of ordering fields.
    @usableFromInline var runSection: UInt8 = FIXMessageBuilder.emptyRun
    /// The tag of the run's last field.
    @usableFromInline var runTag: UInt32 = 0

    @usableFromInline static let emptyRun: UInt8 = 0xFF
    @usableFromInline static let brokenRun: UInt8 = 0xFE

    @usableFromInline
    struct Entry: Sendable {
        // The 32-bit fields first: 20 bytes a field instead of 24.
        @usableFromInline var tag: UInt32
        @usableFromInline var start: UInt32
        @usableFromInline var length: UInt32
        @usableFromInline var sortTag: UInt32
        @usableFromInline var section: UInt8  // 0 header, 1 body, 2 trailer
        @usableFromInline var inGroup: Bool
        /// The length of `tag=`, which the bytes hold before the value (and SOH after it).
        @usableFromInline var prefix: UInt8

        @usableFromInline
        init(
            tag: UInt32, start: UInt32, length: UInt32, section: UInt8, sortTag: UInt32, inGroup: Bool, prefix: Int
        ) {
            self.tag = tag
            self.start = start
            self.length = length
            self.section = section
            self.sortTag = sortTag
            self.inGroup = inGroup
            self.prefix = UInt8(truncatingIfNeeded: prefix)
        }
    }

    /// Creates an empty message of type `msgType`.
    public init(msgType: String, beginString: String = "FIX.4.4") {
        self.init(msgType: msgType, beginString: beginString, byteCapacity: 256, fieldCapacity: 24)
    }

    /// Creates an empty message with room for `fieldCapacity` fields and `byteCapacity` bytes of
    /// values before it grows: for a sender of many small messages of a known shape.
    public init(msgType: String, beginString: String = "FIX.4.4", byteCapacity: Int, fieldCapacity: Int) {
        self.msgType = msgType
        self.beginString = beginString
        self.storage = BuilderStorage(byteCapacity: byteCapacity, entryCapacity: fieldCapacity)
    }

    /// Clears every field, keeping the storage, to build the next message.
    public mutating func reset(msgType: String) {
        self.msgType = msgType
        byteCount = 0
        entryCount = 0
        groupDepth = 0
        tagFilter = 0
        runSection = FIXMessageBuilder.emptyRun
    }

    /// The storage, copied first if another builder shares it, with room for `bytes` more bytes
    /// and one more entry.
    @inlinable @inline(__always)
    mutating func writableStorage(bytes: Int) -> BuilderStorage {
        if byteCount + bytes > storage.byteCapacity || entryCount == storage.entryCapacity
            || !isKnownUniquelyReferenced(&storage)
        {
            grow(bytes: bytes)
        }
        return storage
    }

    @usableFromInline
    mutating func grow(bytes: Int) {
        var byteCapacity = storage.byteCapacity
        while byteCount + bytes > byteCapacity { byteCapacity *= 2 }
        let entryCapacity = entryCount == storage.entryCapacity ? storage.entryCapacity * 2 : storage.entryCapacity
        storage = storage.copy(
            byteCount: byteCount, entryCount: entryCount, byteCapacity: byteCapacity, entryCapacity: entryCapacity)
    }

    /// Appends an entry (room was made by ``writableStorage(bytes:)``).
    @inlinable @inline(__always)
    mutating func append(_ entry: Entry, to s: BuilderStorage) {
        (s.entries + entryCount).initialize(to: entry)
        entryCount += 1
    }

    /// The fields in the order they were added.
    @inlinable
    var entries: UnsafeBufferPointer<Entry> {
        UnsafeBufferPointer(start: storage.entries, count: entryCount)
    }

    /// Drops the fields `predicate` selects, keeping the order of the others (their bytes stay
    /// until the next reset).
    mutating func removeEntries(where predicate: (Entry) -> Bool) {
        let s = writableStorage(bytes: 0)
        runSection = FIXMessageBuilder.brokenRun
        var kept = 0
        for i in 0..<entryCount where !predicate(s.entries[i]) {
            s.entries[kept] = s.entries[i]
            kept += 1
        }
        entryCount = kept
    }

    /// Header tags of FIX 4.4 (8, 9 and 35 excepted): they sort before the body.
    public static let headerTags: Set<Int> = Set(FIXTag.standardHeader)

    /// The tag a top-level field sorts under. A data field follows its length field: every
    /// standard pair but one has the length's tag lower; Signature (89) sorts under
    /// SignatureLength (93), after it (see the encoder's key).
    @inlinable @inline(__always)
    static func sortTag(of tag: Int) -> UInt32 {
        tag == FIXTag.signature ? UInt32(FIXTag.signatureLength) : UInt32(tag)
    }

    /// 0 for header tags, 2 for trailer tags, 1 for the body: `FIXTag.standardHeader` and
    /// `FIXTag.standardTrailer` as bit masks and a switch, which need no lazily initialised table.
    @inlinable @inline(__always)
    static func section(of tag: Int) -> UInt8 {
        // Tags 34...97 hold the common header fields and the whole trailer.
        let r = UInt(bitPattern: tag &- 34)
        if r < 64 {
            if (0x8300000000C58201 as UInt64) >> r & 1 != 0 { return 0 }
            if (0x0880000000000000 as UInt64) >> r & 1 != 0 { return 2 }
            return 1
        }
        if tag < 115 { return 1 }
        switch tag {
        case 115, 116, 122, 128, 129, 142, 143, 144, 145, 212, 213, 347, 369, 627, 628, 629, 630: return 0
        default: return 1
        }
    }

    // MARK: Adding fields

    /// Writes `tag=` at `p` and returns its length (at most 11 bytes: a tag fits 32 bits). Below
    /// 1000, the digits are stored as one word, of which the value overwrites what is not `tag=`.
    @inlinable @inline(__always)
    static func putTagPrefix(_ tag: Int, _ p: UnsafeMutableRawBufferPointer) -> Int {
        let equals = UInt32(UInt8(ascii: "="))
        let zero = UInt32(UInt8(ascii: "0"))
        let base = p.baseAddress!
        if tag < 10 {
            base.storeBytes(of: (zero + UInt32(tag)) | equals << 8, as: UInt32.self)
            return 2
        }
        if tag < 100 {
            let word = (zero + UInt32(tag / 10)) | (zero + UInt32(tag % 10)) << 8 | equals << 16
            base.storeBytes(of: word, as: UInt32.self)
            return 3
        }
        if tag < 1000 {
            let word =
                (zero + UInt32(tag / 100)) | (zero + UInt32(tag / 10 % 10)) << 8 | (zero + UInt32(tag % 10)) << 16
                | equals << 24
            base.storeBytes(of: word, as: UInt32.self)
            return 4
        }
        let n = writeInt(tag, to: p, at: 0)
        p[n] = UInt8(ascii: "=")
        return n + 1
    }

    /// Adds a field whose value `write` puts at the pointer it is given (at most `maxBytes`
    /// bytes, returning how many); outside groups a `replacing` add overwrites an earlier value.
    /// The bytes hold the field as it is serialised, `tag=value` and SOH; the entry points at the
    /// value.
    @inlinable @inline(__always)
    mutating func appendEntry(
        _ tag: Int, replacing: Bool, maxBytes: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int
    ) {
        precondition(tag > 0 && tag <= UInt32.max, "tag \(tag) is out of range")
        precondition(tag != 8 && tag != 9 && tag != 10, "tag \(tag) is written by the encoder")
        // `tag=` (11 bytes at most), the value, and its SOH.
        let s = writableStorage(bytes: maxBytes + 12)
        let prefix = FIXMessageBuilder.putTagPrefix(
            tag, UnsafeMutableRawBufferPointer(start: s.bytes + byteCount, count: maxBytes + 12))
        let start = byteCount + prefix
        let length = write(UnsafeMutableRawBufferPointer(start: s.bytes + start, count: maxBytes))
        s.bytes.storeBytes(of: SOH, toByteOffset: start + length, as: UInt8.self)
        byteCount = start + length + 1
        let entry: Entry
        if groupDepth > 0 {
            entry = Entry(
                tag: UInt32(tag), start: UInt32(start), length: UInt32(length), section: groupSection,
                sortTag: groupSortTag, inGroup: true, prefix: prefix)
            runSection = FIXMessageBuilder.brokenRun
        } else {
            entry = Entry(
                tag: UInt32(tag), start: UInt32(start), length: UInt32(length),
                section: FIXMessageBuilder.section(of: tag), sortTag: FIXMessageBuilder.sortTag(of: tag),
                inGroup: false, prefix: prefix)
            let bit: UInt64 = 1 << UInt64(tag & 63)
            if replacing && tagFilter & bit != 0 {
                for i in 0..<entryCount where s.entries[i].tag == entry.tag && !s.entries[i].inGroup {
                    s.entries[i] = entry
                    runSection = FIXMessageBuilder.brokenRun
                    return
                }
            }
            tagFilter |= bit
            if runSection != FIXMessageBuilder.brokenRun {
                let continues =
                    entry.sortTag == entry.tag
                    && (runSection == FIXMessageBuilder.emptyRun || (runSection == entry.section && entry.tag > runTag))
                runSection = continues ? entry.section : FIXMessageBuilder.brokenRun
                runTag = entry.tag
            }
        }
        append(entry, to: s)
    }

    /// Adds a field holding `utf8` byte for byte.
    @inlinable @inline(__always)
    mutating func appendEntry(_ tag: Int, replacing: Bool, utf8: String.UTF8View) {
        let count = utf8.count
        appendEntry(tag, replacing: replacing, maxBytes: count) { p in
            let copied: Void? = utf8.withContiguousStorageIfAvailable { source in
                FIXMessageBuilder.copy(UnsafeRawBufferPointer(source), to: p)
            }
            if copied == nil {
                for (i, b) in utf8.enumerated() { p[i] = b }
            }
            return count
        }
    }

    /// Adds a field holding `bytes` verbatim.
    @inlinable
    mutating func appendEntry<Bytes: Collection<UInt8>>(_ tag: Int, replacing: Bool, bytes: Bytes) {
        let count = bytes.count
        appendEntry(tag, replacing: replacing, maxBytes: count) { p in
            let copied: Void? = bytes.withContiguousStorageIfAvailable { source in
                FIXMessageBuilder.copy(UnsafeRawBufferPointer(source), to: p)
            }
            if copied == nil {
                for (i, b) in bytes.enumerated() { p[i] = b }
            }
            return count
        }
    }

    /// Copies a value or a field: up to 32 bytes with two overlapping moves, which beats a call
    /// to memmove (a byte loop would be turned into one).
    @inlinable @inline(__always)
    static func copy(_ source: UnsafeRawBufferPointer, to p: UnsafeMutableRawBufferPointer) {
        copy(source, to: p.baseAddress!)
    }

    @inlinable @inline(__always)
    static func copy(_ source: UnsafeRawBufferPointer, to destination: UnsafeMutableRawPointer) {
        let n = source.count
        guard n > 0, let from = source.baseAddress else { return }
        if n > 16 && n <= 32 {
            let head = from.loadUnaligned(as: SIMD16<UInt8>.self)
            let tail = from.loadUnaligned(fromByteOffset: n &- 16, as: SIMD16<UInt8>.self)
            destination.storeBytes(of: head, as: SIMD16<UInt8>.self)
            destination.storeBytes(of: tail, toByteOffset: n &- 16, as: SIMD16<UInt8>.self)
        } else if n >= 8 && n <= 16 {
            let head = from.loadUnaligned(as: UInt64.self)
            let tail = from.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
            destination.storeBytes(of: head, as: UInt64.self)
            destination.storeBytes(of: tail, toByteOffset: n &- 8, as: UInt64.self)
        } else if n >= 4 && n < 8 {
            let head = from.loadUnaligned(as: UInt32.self)
            let tail = from.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)
            destination.storeBytes(of: head, as: UInt32.self)
            destination.storeBytes(of: tail, toByteOffset: n &- 4, as: UInt32.self)
        } else if n < 4 {
            destination.storeBytes(of: from.load(as: UInt8.self), as: UInt8.self)
            if n > 1 {
                destination.storeBytes(
                    of: from.load(fromByteOffset: 1, as: UInt8.self), toByteOffset: 1, as: UInt8.self)
            }
            if n > 2 {
                destination.storeBytes(
                    of: from.load(fromByteOffset: 2, as: UInt8.self), toByteOffset: 2, as: UInt8.self)
            }
        } else {
            destination.copyMemory(from: from, byteCount: n)
        }
    }

    /// Sets `tag` to a string value, replacing a previous value outside groups.
    @inlinable
    public mutating func set(_ tag: Int, _ value: String) {
        if tag == FIXTag.msgType {
            msgType = value
            return
        }
        appendEntry(tag, replacing: true, utf8: value.utf8)
    }

    /// Sets `tag` to raw bytes (a data field's payload, or a value copied verbatim).
    @inlinable
    public mutating func set<Bytes: Collection<UInt8>>(_ tag: Int, bytes: Bytes) {
        appendEntry(tag, replacing: true, bytes: bytes)
    }

    /// Sets `tag` to an integer.
    @inlinable
    public mutating func set(_ tag: Int, _ value: Int) {
        appendEntry(tag, replacing: true, maxBytes: 20) { p in FIXMessageBuilder.putInt(value, p) }
    }

    /// Sets `tag` to an exact decimal, written with its own scale.
    @inlinable
    public mutating func set(_ tag: Int, _ value: FixedDecimal) {
        appendEntry(tag, replacing: true, maxBytes: FixedDecimal.maximumTextLength) { p in value.put(p, at: 0) }
    }

    /// Sets `tag` to a UTCTimestamp, written with the value's precision.
    @inlinable
    public mutating func set(_ tag: Int, _ value: UTCTimestamp) {
        let days = Int(value.nanosecondsSinceEpoch.floorDiv(86_400_000_000_000))
        guard let date = Self.dateDigits(ofDay: days, cachedDay: &cachedDay, cachedDate: &cachedDate) else {
            appendEntry(tag, replacing: true, maxBytes: UTCTimestamp.maximumLength) { p in value.put(p, at: 0) }
            return
        }
        let nanosOfDay = value.nanosecondsSinceEpoch &- Int64(days) &* 86_400_000_000_000
        let precision = value.precision
        appendEntry(tag, replacing: true, maxBytes: UTCTimestamp.maximumLength) { p in
            Self.putTimestamp(date: date, nanosOfDay: nanosOfDay, precision: precision, p)
        }
    }

    /// The `YYYYMMDD` digits of day `days` (since the epoch) as one word, from the one-day cache
    /// `cachedDay` and `cachedDate`, or formatted into it; nil for a year outside 0...9999, which
    /// ``UTCTimestamp``'s own formatting writes instead.
    @inlinable @inline(always)
    static func dateDigits(ofDay days: Int, cachedDay: inout Int, cachedDate: inout UInt64) -> UInt64? {
        if days != cachedDay {
            let (y, m, d) = civilFromDays(days)
            guard y >= 0 && y < 10000 else { return nil }
            var date: UInt64 = 0
            withUnsafeMutableBytes(of: &date) { raw in
                var o = putDigits(y, width: 4, raw, 0)
                o = putDigits(m, width: 2, raw, o)
                _ = putDigits(d, width: 2, raw, o)
            }
            cachedDay = days
            cachedDate = date
        }
        return cachedDate
    }

    /// Writes a timestamp at the start of `p` from its date's digits (see
    /// ``dateDigits(ofDay:cachedDay:cachedDate:)``) and its time of day; returns its length.
    @inlinable @inline(always)
    static func putTimestamp(
        date: UInt64, nanosOfDay: Int64, precision: TimestampPrecision, _ p: UnsafeMutableRawBufferPointer
    ) -> Int {
        p.baseAddress!.storeBytes(of: date, as: UInt64.self)
        p[8] = UInt8(ascii: "-")
        return putTimeOfDay(nanosOfDay, precision: precision, p, 9)
    }

    /// Sets `tag` to a UTCTimeOnly.
    public mutating func set(_ tag: Int, _ value: UTCTimeOnly) {
        appendEntry(tag, replacing: true, maxBytes: 24) { p in value.put(p, at: 0) }
    }

    /// Sets `tag` to a date (UTCDateOnly or LocalMktDate).
    public mutating func set(_ tag: Int, _ value: FIXDate) {
        appendEntry(tag, replacing: true, maxBytes: 8) { p in value.put(p, at: 0) }
    }

    /// Sets `tag` to a FIX boolean (`Y` or `N`).
    @inlinable
    public mutating func set(_ tag: Int, _ value: Bool) {
        appendEntry(tag, replacing: true, maxBytes: 1) { p in
            p[0] = value ? UInt8(ascii: "Y") : UInt8(ascii: "N")
            return 1
        }
    }

    /// Sets `tag` to one ASCII byte (a side, an order type): for senders that build many messages
    /// and know the byte, no String or array to reach it through.
    @inlinable
    public mutating func set(_ tag: Int, ascii value: UInt8) {
        precondition(value >= 0x20 && value < 0x7F, "tag \(tag): byte \(value) is not printable ASCII")
        appendEntry(tag, replacing: true, maxBytes: 1) { p in
            p[0] = value
            return 1
        }
    }

    /// Sets `tag` to a single character.
    @inlinable
    public mutating func set(_ tag: Int, _ value: Character) {
        // Character's own accessors (asciiValue, ...) walk grapheme machinery; its UTF-8 view does not.
        appendEntry(tag, replacing: true, utf8: value.utf8)
    }

    /// Adds a field without replacing an earlier one with the same tag (repeated tags, group members).
    @inlinable
    public mutating func append(_ tag: Int, _ value: String) {
        appendEntry(tag, replacing: false, utf8: value.utf8)
    }

    /// Adds raw bytes without replacing an earlier field with the same tag.
    public mutating func append<Bytes: Collection<UInt8>>(_ tag: Int, bytes: Bytes) {
        appendEntry(tag, replacing: false, bytes: bytes)
    }

    /// Sets a length field and its data field together (RawDataLength/RawData, XmlDataLen/XmlData, ...).
    public mutating func setData(lengthTag: Int, dataTag: Int, _ data: [UInt8]) {
        set(lengthTag, data.count)
        set(dataTag, bytes: data)
    }

    /// Removes every field with `tag` outside groups.
    public mutating func remove(_ tag: Int) {
        removeEntries { $0.tag == UInt32(tag) && !$0.inGroup }
    }

    /// Removes a top-level repeating group: its NumInGroup field and every entry.
    public mutating func removeGroup(_ countTag: Int) {
        let t = UInt32(countTag)
        removeEntries { $0.sortTag == t && ($0.inGroup || $0.tag == t) }
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
            set(countTag, count)
            groupSortTag = UInt32(countTag)
            groupSection = FIXMessageBuilder.section(of: countTag)
        } else {
            appendEntry(countTag, replacing: false, maxBytes: 20) { p in FIXMessageBuilder.putInt(count, p) }
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
        return storedValue(tag).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether the value set for `tag` outside groups is `text`, compared as bytes (no string is
    /// made of the value).
    public func value(of tag: Int, is text: String) -> Bool {
        if tag == FIXTag.msgType { return msgType == text }
        if tag == FIXTag.beginString { return beginString == text }
        guard let stored = storedValue(tag) else { return false }
        var text = text
        return text.withUTF8 { stored.elementsEqual(UnsafeRawBufferPointer($0)) }
    }

    /// The bytes of the last value set for `tag` outside groups (MsgType and BeginString are kept
    /// apart), valid while the builder is not changed.
    private func storedValue(_ tag: Int) -> UnsafeRawBufferPointer? {
        guard let e = entries.last(where: { $0.tag == UInt32(tag) && !$0.inGroup }) else { return nil }
        return UnsafeRawBufferPointer(start: storage.bytes + Int(e.start), count: Int(e.length))
    }

    /// Whether `tag` has been set outside groups.
    public func contains(_ tag: Int) -> Bool {
        entries.contains { $0.tag == UInt32(tag) && !$0.inGroup }
    }

    // MARK: Encoding

    @inlinable
    static func decimalDigits(_ v: Int) -> Int {
        if v < 10 { return 1 }
        if v < 100 { return 2 }
        if v < 1000 { return 3 }
        if v < 10000 { return 4 }
        var n = 5
        var x = v / 100_000
        while x > 0 {
            x /= 10
            n += 1
        }
        return n
    }

    /// Writes `value` in decimal at the start of `p` (20 bytes); returns the number of bytes.
    @inlinable
    static func putInt(_ value: Int, _ p: UnsafeMutableRawBufferPointer) -> Int {
        if value >= 0 { return writeInt(value, to: p, at: 0) }
        p[0] = UInt8(ascii: "-")
        let magnitude = value.magnitude
        // Int.min's magnitude does not fit an Int; FIX fields never hold it.
        return writeInt(magnitude > UInt(Int.max) ? Int.max : Int(magnitude), to: p, at: 1)
    }

    @inlinable
    static func writeInt(_ value: Int, to p: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        putDigits(value, width: decimalDigits(value), p, offset)
    }

    /// Writes `value` (0 or more) in decimal at `offset` of `p`, which has room for its digits (19
    /// at most), and returns the offset after them: the encoder's integer formatting, for other
    /// plain-text records of a FIX engine (a message store's index).
    @inlinable
    public static func writeDecimal(_ value: Int, to p: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        precondition(value >= 0, "negative number \(value)")
        return writeInt(value, to: p, at: offset)
    }

    /// Appends the serialised message to `out` and returns the number of bytes written.
    @discardableResult
    public func encode(into out: inout ByteBuffer) -> Int {
        if runSection != FIXMessageBuilder.brokenRun {
            return FIXMessageBuilder.encodeRuns(beginString, msgType, nil, self, into: &out)
        }
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Swift.max(2 * entryCount, 1)) { keys in
            encode(entries: entries, header: nil, keys: keys, into: &out)
        }
    }

    /// Appends the message to `out` with the fields of `header` added to it, as a copy of this
    /// builder would be serialised after `header`'s fields were `set` on it (and its BeginString
    /// taken from `header`), without making that copy: a session stamps each message it sends with
    /// its comp IDs, sequence number and sending time, and a copy costs an allocation when the
    /// application still holds the message.
    ///
    /// `header` holds top-level fields only (no groups). Returns the number of bytes written.
    @discardableResult
    public func encode(into out: inout ByteBuffer, header: FIXMessageBuilder) -> Int {
        precondition(header.groupDepth == 0 && !header.entries.contains { $0.inGroup }, "a header with a group")
        // A header of header fields in order and a message without any: the two runs, one after
        // the other, are the canonical order, and nothing is replaced.
        if (header.runSection == 0 || header.runSection == FIXMessageBuilder.emptyRun)
            && (runSection == 1 || runSection == 2 || runSection == FIXMessageBuilder.emptyRun)
        {
            return FIXMessageBuilder.encodeRuns(header.beginString, msgType, header, self, into: &out)
        }
        let count = entryCount + header.entryCount
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Swift.max(2 * count, 1)) { keys in
            encode(entries: entries, header: header, keys: keys, into: &out)
        }
    }

    /// Serialises builders whose bytes are already their fields on the wire in canonical order
    /// (see ``runSection``): `header`'s, then `body`'s, between 8, 9 and 35 and the CheckSum.
    static func encodeRuns(
        _ beginString: String, _ msgType: String, _ header: FIXMessageBuilder?, _ body: FIXMessageBuilder,
        into out: inout ByteBuffer
    ) -> Int {
        var beginString = beginString
        var msgType = msgType
        let headerBytes = header.map { UnsafeRawBufferPointer(start: $0.storage.bytes, count: $0.byteCount) }
        let bodyBytes = UnsafeRawBufferPointer(start: body.storage.bytes, count: body.byteCount)
        return msgType.withUTF8 { msgType in
            beginString.withUTF8 { beginString in
                let bodyLength = 3 + msgType.count + 1 + (headerBytes?.count ?? 0) + bodyBytes.count
                return writeFrame(beginString, msgType, bodyLength: bodyLength, into: &out) { base, start in
                    var o = start
                    if let headerBytes, let from = headerBytes.baseAddress {
                        (base + o).copyMemory(from: from, byteCount: headerBytes.count)
                        o += headerBytes.count
                    }
                    if let from = bodyBytes.baseAddress {
                        (base + o).copyMemory(from: from, byteCount: bodyBytes.count)
                        o += bodyBytes.count
                    }
                    return o
                }
            }
        }
    }

    /// Writes a message's frame into `out`: BeginString, BodyLength (`bodyLength`, which counts
    /// MsgType's field too) and MsgType, then the fields `writeFields` puts at the pointer it is
    /// given at the offset it is given (returning the offset after them), then CheckSum. Returns
    /// the number of bytes written.
    @inline(__always)
    static func writeFrame(
        _ beginString: UnsafeBufferPointer<UInt8>, _ msgType: UnsafeBufferPointer<UInt8>, bodyLength: Int,
        into out: inout ByteBuffer, _ writeFields: (UnsafeMutableRawPointer, Int) -> Int
    ) -> Int {
        let total = 2 + beginString.count + 1 + 2 + decimalDigits(bodyLength) + 1 + bodyLength + 7
        return out.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { p in
            let base = p.baseAddress!
            var o = 0
            @inline(__always) func put(_ b: UInt8) {
                base.storeBytes(of: b, toByteOffset: o, as: UInt8.self)
                o += 1
            }
            @inline(__always) func put(_ bytes: UnsafeRawBufferPointer) {
                copy(bytes, to: base + o)
                o += bytes.count
            }
            put(UInt8(ascii: "8"))
            put(UInt8(ascii: "="))
            put(UnsafeRawBufferPointer(beginString))
            put(SOH)
            put(UInt8(ascii: "9"))
            put(UInt8(ascii: "="))
            o = writeInt(bodyLength, to: p, at: o)
            put(SOH)
            put(UInt8(ascii: "3"))
            put(UInt8(ascii: "5"))
            put(UInt8(ascii: "="))
            put(UnsafeRawBufferPointer(msgType))
            put(SOH)
            o = writeFields(base, o)
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

    /// Serialises `entries` (this builder's) and the entries of `header` (another builder's,
    /// replacing this one's top-level fields of the same tags); `keys` has room for twice as many
    /// keys as there are entries in both.
    func encode(
        entries: UnsafeBufferPointer<Entry>, header: FIXMessageBuilder?, keys: UnsafeMutableBufferPointer<UInt64>,
        into out: inout ByteBuffer
    ) -> Int {
        let own = entries.count
        let added = header?.entries ?? UnsafeBufferPointer(start: nil, count: 0)
        let n = own + added.count
        var msgType = self.msgType
        var beginString = header?.beginString ?? self.beginString
        let values = UnsafeRawPointer(storage.bytes)
        let addedValues = header.map { UnsafeRawPointer($0.storage.bytes) } ?? values
        // Entry `i` of both: this builder's first, then the header's.
        @inline(__always) func entry(_ i: Int) -> (Entry, UnsafeRawPointer) {
            i < own ? (entries[i], values) : (added[i - own], addedValues)
        }
        /// Whether this builder's entry is a top-level field the header sets again.
        @inline(__always) func replaced(_ e: Entry) -> Bool {
            guard let header, !e.inGroup, header.tagFilter >> UInt64(e.tag & 63) & 1 != 0 else { return false }
            return added.contains { $0.tag == e.tag }
        }
        return msgType.withUTF8 { msgType in
            beginString.withUTF8 { beginString in
                var bodyLength = 3 + msgType.count + 1
                // Keys in the order the fields were added go to keys[n...]; then a stable counting
                // pass by section puts them in keys[0..<kept]. Sections are usually each built in
                // tag order (a body, then a session's header, or a header builder merged in), so
                // this alone gives the canonical order and the insertion sort is left for fields
                // added out of order.
                var kept = 0
                var sectionCounts: (Int, Int) = (0, 0)
                var sectionsSorted = true
                var previous: (UInt64, UInt64, UInt64) = (0, 0, 0)
                for i in 0..<n {
                    let (e, _) = entry(i)
                    if i < own && e.section == 0 && replaced(e) { continue }
                    // Under one sort tag the field that owns it (a group's count, a length) comes
                    // first, then the fields it leads (members, the data) in the order added.
                    let follows: UInt64 = e.tag == e.sortTag ? 0 : 1 << 27
                    let key = UInt64(e.section) << 60 | UInt64(e.sortTag) << 28 | follows | UInt64(i)
                    keys[n + kept] = key
                    kept += 1
                    switch e.section {
                    case 0:
                        sectionCounts.0 += 1
                        sectionsSorted = sectionsSorted && key >= previous.0
                        previous.0 = key
                    case 1:
                        sectionCounts.1 += 1
                        sectionsSorted = sectionsSorted && key >= previous.1
                        previous.1 = key
                    default:
                        sectionsSorted = sectionsSorted && key >= previous.2
                        previous.2 = key
                    }
                    bodyLength += Int(e.prefix) + Int(e.length) + 1
                }
                var next = (0, sectionCounts.0, sectionCounts.0 + sectionCounts.1)
                for i in 0..<kept {
                    let key = keys[n + i]
                    switch key >> 60 {
                    case 0:
                        keys[next.0] = key
                        next.0 += 1
                    case 1:
                        keys[next.1] = key
                        next.1 += 1
                    default:
                        keys[next.2] = key
                        next.2 += 1
                    }
                }
                // Insertion sort: messages have a few dozen fields and are usually built in order.
                if !sectionsSorted {
                    for i in 1..<kept {
                        let k = keys[i]
                        var j = i - 1
                        while j >= 0 && keys[j] > k {
                            keys[j + 1] = keys[j]
                            j -= 1
                        }
                        keys[j + 1] = k
                    }
                }
                return FIXMessageBuilder.writeFrame(beginString, msgType, bodyLength: bodyLength, into: &out) {
                    base, start in
                    var o = start
                    for i in 0..<kept {
                        // The bytes hold every field as it goes on the wire: one copy a field.
                        let (e, from) = entry(Int(keys[i] & 0x07FF_FFFF))
                        let count = Int(e.prefix) + Int(e.length) + 1
                        FIXMessageBuilder.copy(
                            UnsafeRawBufferPointer(start: from + (Int(e.start) - Int(e.prefix)), count: count),
                            to: base + o)
                        o += count
                    }
                    return o
                }
            }
        }
    }

    /// The serialised message as bytes.
    public func encoded() -> ByteBuffer {
        // The bytes hold every field's tag and SOH already; 64 more hold 8, 9, 35 and 10.
        var out = ByteBufferAllocator().buffer(capacity: 64 + byteCount)
        encode(into: &out)
        return out
    }

    /// The serialised message with `header`'s fields added, as ``encode(into:header:)`` writes it.
    public func encoded(header: FIXMessageBuilder) -> ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: 64 + byteCount + header.byteCount)
        encode(into: &out, header: header)
        return out
    }

    /// The serialised message, parsed back into a ``FIXMessage``.
    public func build(configuration: FIXDecoderConfiguration = .standard) -> FIXMessage {
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
        tagFilter = .max
        message.bytes.withUnsafeReadableBytes { raw in
            for (i, f) in message.fields.enumerated() {
                let tag = f.tag
                if i < 3 || tag == FIXTag.checkSum || tag == FIXTag.bodyLength || tag == FIXTag.beginString {
                    continue
                }
                let section = FIXMessageBuilder.section(of: tag)
                // Body fields keep their received order (sort key 0) and are not replaced by `set`.
                appendCopied(
                    tag: tag, value: raw, f, section: section, sortTag: section == 1 ? 0 : tag, inGroup: section == 1)
            }
        }
    }
}

/// The builder's bytes and fields, in buffers it manages itself so adding a field costs one
/// uniqueness check and no per-append bookkeeping. The builder keeps the counts; this object only
/// owns memory, and its properties are constants, so accesses need no exclusivity checks.
///
/// Only written through a builder holding the sole reference (the builder copies it first
/// otherwise), so it is never shared while it changes.
@usableFromInline
final class BuilderStorage: @unchecked Sendable {
    @usableFromInline let bytes: UnsafeMutableRawPointer
    @usableFromInline let byteCapacity: Int
    @usableFromInline let entries: UnsafeMutablePointer<FIXMessageBuilder.Entry>
    @usableFromInline let entryCapacity: Int

    /// Entries and bytes share one allocation (entries first): one malloc per builder, and a
    /// message's fields and values sit together in the cache when it is encoded.
    @usableFromInline
    init(byteCapacity: Int, entryCapacity: Int) {
        self.byteCapacity = Swift.max(byteCapacity, 16)
        self.entryCapacity = Swift.max(entryCapacity, 4)
        let entryBytes = self.entryCapacity * MemoryLayout<FIXMessageBuilder.Entry>.stride
        let block = UnsafeMutableRawPointer.allocate(
            byteCount: entryBytes + self.byteCapacity, alignment: MemoryLayout<FIXMessageBuilder.Entry>.alignment)
        self.entries = block.bindMemory(to: FIXMessageBuilder.Entry.self, capacity: self.entryCapacity)
        self.bytes = block + entryBytes
    }

    deinit {
        UnsafeMutableRawPointer(entries).deallocate()
    }

    /// A new storage holding the first `byteCount` bytes and `entryCount` entries, with at least
    /// the given capacities.
    @usableFromInline
    func copy(byteCount: Int, entryCount: Int, byteCapacity: Int, entryCapacity: Int) -> BuilderStorage {
        let c = BuilderStorage(
            byteCapacity: Swift.max(byteCapacity, self.byteCapacity),
            entryCapacity: Swift.max(entryCapacity, self.entryCapacity))
        c.bytes.copyMemory(from: bytes, byteCount: byteCount)
        c.entries.initialize(from: entries, count: entryCount)
        return c
    }
}
