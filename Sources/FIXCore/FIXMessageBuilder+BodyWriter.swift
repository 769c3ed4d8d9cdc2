extension FIXMessageBuilder {
    /// Writes the body fields of a new message in one pass, straight into the builder's storage.
    ///
    /// For senders of many messages of one known shape (a NewOrderSingle per follower of a copied
    /// fill): `set` checks, per field, for room, for a shared storage, for an earlier value to
    /// replace and for groups; this writer makes room once and needs none of the rest, because
    /// its fields come in ascending tag order, each once, at top level. The result is the builder
    /// `set` would make from the same fields, and it encodes in canonical order by copying.
    ///
    /// Valid only inside the closure it is given to. Its methods are `@inline(always)`: this
    /// toolchain does not inline `@inline(__always)` functions into other modules, and a call per
    /// field costs what the writer saves.
    public struct BodyWriter {
        @usableFromInline let base: UnsafeMutableRawPointer
        @usableFromInline let entries: UnsafeMutablePointer<Entry>
        @usableFromInline let byteLimit: Int
        @usableFromInline let entryLimit: Int
        @usableFromInline var byteCount = 0
        @usableFromInline var entryCount = 0
        @usableFromInline var lastTag: UInt32 = 0
        @usableFromInline var tagFilter: UInt64 = 0

        @inlinable @inline(always)
        init(_ storage: BuilderStorage) {
            base = storage.bytes
            entries = storage.entries
            byteLimit = storage.byteCapacity
            entryLimit = storage.entryCapacity
        }

        /// Writes `tag=`, the value `write` puts (at most `maxBytes`, returning how many), and SOH,
        /// and records the field.
        @inlinable @inline(always)
        mutating func field(_ tag: Int, maxBytes: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
            precondition(tag > lastTag && tag <= UInt32.max, "a body writer's fields must come in ascending tag order")
            precondition(
                FIXMessageBuilder.section(of: tag) == 1 && FIXMessageBuilder.sortTag(of: tag) == UInt32(tag),
                "a body writer writes body fields only")
            // `tag=` (11 bytes at most), the value, and its SOH.
            precondition(
                byteCount + maxBytes + 12 <= byteLimit && entryCount < entryLimit,
                "more fields or bytes than the body writer was given room for")
            let prefix = FIXMessageBuilder.putTagPrefix(
                tag, UnsafeMutableRawBufferPointer(start: base + byteCount, count: maxBytes + 12))
            let start = byteCount + prefix
            let length = write(UnsafeMutableRawBufferPointer(start: base + start, count: maxBytes))
            base.storeBytes(of: SOH, toByteOffset: start + length, as: UInt8.self)
            byteCount = start + length + 1
            (entries + entryCount).initialize(
                to: Entry(
                    tag: UInt32(tag), start: UInt32(start), length: UInt32(length), section: 1, sortTag: UInt32(tag),
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
            precondition(value >= 0x20 && value < 0x7F, "a body writer's ASCII value must be printable")
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

        /// The room a body writer needs for a decimal field's value.
        public static var decimalBytes: Int { FixedDecimal.maximumTextLength }
    }

    /// A message of type `msgType` whose body `write` adds through a ``BodyWriter``, in ascending
    /// tag order: at most `fields` fields holding at most `valueBytes` bytes of values in all
    /// (``BodyWriter/decimalBytes`` for each decimal). Header fields are the session's to add.
    @inlinable @inline(always)
    public init(
        msgType: String, beginString: String = "FIX.4.4", fields: Int, valueBytes: Int,
        _ write: (inout BodyWriter) -> Void
    ) {
        // Each field takes `tag=` (at most 11 bytes) and SOH besides its value.
        self.init(
            msgType: msgType, beginString: beginString, byteCapacity: valueBytes + 12 * fields, fieldCapacity: fields)
        var writer = BodyWriter(storage)
        write(&writer)
        byteCount = writer.byteCount
        entryCount = writer.entryCount
        tagFilter = writer.tagFilter
        if writer.entryCount > 0 {
            runSection = 1
            runTag = writer.lastTag
        }
    }
}
