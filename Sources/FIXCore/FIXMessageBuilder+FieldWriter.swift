extension FIXMessageBuilder {
    /// Writes the fields of one section (a new message's body, or a session's header for the next
    /// message) in one pass, straight into the builder's storage.
    ///
    /// For senders of many messages of one known shape (a NewOrderSingle per follower of a copied
    /// fill, the header a session stamps on each): `set` checks, per field, for room, for a shared
    /// storage, for an earlier value to replace and for groups; this writer makes room once and
    /// needs none of the rest, because its fields come in ascending tag order, each once, at top
    /// level. The result is the builder `set` would make from the same fields, and it encodes in
    /// canonical order by copying.
    ///
    /// Valid only inside the closure it is given to. Its methods are `@inline(always)`: this
    /// toolchain does not inline `@inline(__always)` functions into other modules, and a call per
    /// field costs what the writer saves.
    public struct FieldWriter {
        @usableFromInline let base: UnsafeMutableRawPointer
        @usableFromInline let entries: UnsafeMutablePointer<Entry>
        @usableFromInline let byteLimit: Int
        @usableFromInline let entryLimit: Int
        @usableFromInline var byteCount = 0
        @usableFromInline var entryCount = 0
        @usableFromInline var lastTag: UInt32 = 0
        @usableFromInline var tagFilter: UInt64 = 0
        /// 0 header, 1 body.
        @usableFromInline let section: UInt8
        /// The builder's formatted date, which timestamps of the same day reuse.
        @usableFromInline var cachedDay: Int
        @usableFromInline var cachedDate: UInt64

        @inlinable @inline(always)
        init(_ storage: BuilderStorage, section: UInt8, cachedDay: Int, cachedDate: UInt64) {
            base = storage.bytes
            entries = storage.entries
            byteLimit = storage.byteCapacity
            entryLimit = storage.entryCapacity
            self.section = section
            self.cachedDay = cachedDay
            self.cachedDate = cachedDate
        }

        /// Writes `tag=`, the value `write` puts (at most `maxBytes`, returning how many), and SOH,
        /// and records the field.
        @inlinable @inline(always)
        mutating func field(_ tag: Int, maxBytes: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
            precondition(tag > lastTag && tag <= UInt32.max, "a field writer's fields must come in ascending tag order")
            precondition(
                FIXMessageBuilder.section(of: tag) == section && FIXMessageBuilder.sortTag(of: tag) == UInt32(tag),
                "a field writer writes fields of its own section only")
            // `tag=` (11 bytes at most), the value, and its SOH.
            precondition(
                byteCount + maxBytes + 12 <= byteLimit && entryCount < entryLimit,
                "more fields or bytes than the field writer was given room for")
            let prefix = FIXMessageBuilder.putTagPrefix(
                tag, UnsafeMutableRawBufferPointer(start: base + byteCount, count: maxBytes + 12))
            let start = byteCount + prefix
            let length = write(UnsafeMutableRawBufferPointer(start: base + start, count: maxBytes))
            base.storeBytes(of: SOH, toByteOffset: start + length, as: UInt8.self)
            byteCount = start + length + 1
            (entries + entryCount).initialize(
                to: Entry(
                    tag: UInt32(tag), start: UInt32(start), length: UInt32(length), section: section,
                    sortTag: UInt32(tag),
                    inGroup: false, prefix: prefix))
            entryCount += 1
            lastTag = UInt32(tag)
            tagFilter |= 1 << UInt64(tag & 63)
        }

        /// Adds a field holding `value` byte for byte.
        @inlinable @inline(always)
        public mutating func bytes(_ tag: Int, _ value: UnsafeRawBufferPointer) {
            field(tag, maxBytes: value.count) { p in
                FIXMessageBuilder.copy(value, to: p)
                return value.count
            }
        }

        /// Adds a field holding the UTF-8 of `value`.
        @inlinable @inline(always)
        public mutating func string(_ tag: Int, _ value: String) {
            var value = value
            value.withUTF8 { bytes(tag, UnsafeRawBufferPointer($0)) }
        }

        /// Adds a field holding one printable ASCII byte (a side, an order type).
        @inlinable @inline(always)
        public mutating func ascii(_ tag: Int, _ value: UInt8) {
            precondition(value >= 0x20 && value < 0x7F, "a field writer's ASCII value must be printable")
            field(tag, maxBytes: 1) { p in
                p[0] = value
                return 1
            }
        }

        /// Adds an exact decimal, written with its own scale.
        @inlinable @inline(always)
        public mutating func decimal(_ tag: Int, _ value: FixedDecimal) {
            field(tag, maxBytes: FixedDecimal.maximumTextLength) { p in value.put(p, at: 0) }
        }

        /// Adds an integer.
        @inlinable @inline(always)
        public mutating func int(_ tag: Int, _ value: Int) {
            field(tag, maxBytes: 20) { p in FIXMessageBuilder.putInt(value, p) }
        }

        /// Adds a UTCTimestamp, written with the value's precision (as `set` writes it).
        @inlinable @inline(always)
        public mutating func timestamp(_ tag: Int, _ value: UTCTimestamp) {
            let days = Int(value.nanosecondsSinceEpoch.floorDiv(86_400_000_000_000))
            guard
                let date = FIXMessageBuilder.dateDigits(ofDay: days, cachedDay: &cachedDay, cachedDate: &cachedDate)
            else {
                field(tag, maxBytes: UTCTimestamp.maximumLength) { p in value.put(p, at: 0) }
                return
            }
            let nanosOfDay = value.nanosecondsSinceEpoch &- Int64(days) &* 86_400_000_000_000
            let precision = value.precision
            field(tag, maxBytes: UTCTimestamp.maximumLength) { p in
                FIXMessageBuilder.putTimestamp(date: date, nanosOfDay: nanosOfDay, precision: precision, p)
            }
        }

        /// The room a field writer needs for a decimal field's value.
        public static var decimalBytes: Int { FixedDecimal.maximumTextLength }
        /// The room a field writer needs for an integer field's value.
        public static var intBytes: Int { 20 }
        /// The room a field writer needs for a timestamp field's value.
        public static var timestampBytes: Int { UTCTimestamp.maximumLength }
    }

    /// A message of type `msgType` whose body `write` adds through a ``FieldWriter``, in
    /// ascending tag order: at most `fields` fields holding at most `valueBytes` bytes of values in
    /// all (``FieldWriter/decimalBytes`` for each decimal). Header fields are the session's to add.
    @inlinable @inline(always)
    public init(
        msgType: String, beginString: String = "FIX.4.4", fields: Int, valueBytes: Int,
        _ write: (inout FieldWriter) -> Void
    ) {
        // Each field takes `tag=` (at most 11 bytes) and SOH besides its value.
        self.init(
            msgType: msgType, beginString: beginString, byteCapacity: valueBytes + 12 * fields, fieldCapacity: fields)
        writeFields(section: 1, write)
    }

    /// Clears the builder (as ``reset(msgType:)`` does) and adds header fields through a
    /// ``FieldWriter``, in ascending tag order: at most `fields` fields holding at most
    /// `valueBytes` bytes of values in all. For the header a session stamps on every message it
    /// sends, in a builder of its own kept between messages.
    @inlinable @inline(always)
    public mutating func resetHeader(
        msgType: String, fields: Int, valueBytes: Int, _ write: (inout FieldWriter) -> Void
    ) {
        reset(msgType: msgType)
        let bytes = valueBytes + 12 * fields
        if bytes > storage.byteCapacity || fields > storage.entryCapacity || !isKnownUniquelyReferenced(&storage) {
            storage = BuilderStorage(
                byteCapacity: Swift.max(bytes, storage.byteCapacity),
                entryCapacity: Swift.max(fields, storage.entryCapacity))
        }
        writeFields(section: 0, write)
    }

    @inlinable @inline(always)
    mutating func writeFields(section: UInt8, _ write: (inout FieldWriter) -> Void) {
        var writer = FieldWriter(storage, section: section, cachedDay: cachedDay, cachedDate: cachedDate)
        write(&writer)
        byteCount = writer.byteCount
        entryCount = writer.entryCount
        tagFilter = writer.tagFilter
        cachedDay = writer.cachedDay
        cachedDate = writer.cachedDate
        if writer.entryCount > 0 {
            runSection = section
            runTag = writer.lastTag
        }
    }
}
