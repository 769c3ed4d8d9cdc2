/// How a field's value is checked for format (SessionRejectReason 6).
@usableFromInline
enum ValueCheck: UInt32 {
    case none = 0
    case int = 1
    case decimal = 2
    case char = 3
    case boolean = 4
    case utcTimestamp = 5
    case utcTimeOnly = 6
    case date = 7
    case monthYear = 8

    init(_ type: FIXFieldType) {
        switch type {
        case .int, .length, .seqNum, .numInGroup, .dayOfMonth, .tagNum: self = .int
        case .float, .qty, .price, .priceOffset, .amt, .percentage: self = .decimal
        case .char: self = .char
        case .boolean: self = .boolean
        case .utcTimestamp, .time: self = .utcTimestamp
        case .utcTimeOnly: self = .utcTimeOnly
        case .utcDateOnly, .utcDate, .localMktDate, .date: self = .date
        case .monthYear: self = .monthYear
        case .string, .multipleValueString, .multipleStringValue, .multipleCharValue, .country, .currency,
            .exchange, .data, .xmlData, .language, .tzTimeOnly, .tzTimestamp:
            self = .none
        }
    }
}

/// One message body, header, trailer or group entry, as the validator sees it: a hash table from
/// tag to member position (and nested group), and a bitmask of required positions.
struct ScopeInfo {
    /// First slot of this scope's hash table in `slots`.
    var slotStart: Int32
    /// Right shift applied to the multiplicative hash (32 - log2(table size)).
    var slotShift: Int32
    var slotMask: Int32
    /// Number of direct members; positions are `0..<memberCount` in dictionary order.
    var memberCount: Int32
    /// 64-bit words of a presence bitmask over positions.
    var wordCount: Int32
    /// First word of the required-positions mask in `requiredWords`.
    var requiredStart: Int32
    /// First entry of the position → tag map in `positionTags`.
    var positionStart: Int32
    /// The delimiter of a group entry (0 for message bodies, header and trailer).
    var delimiter: Int32
    /// The NumInGroup tag of a group (0 for the others).
    var countTag: Int32
}

/// The dictionary compiled for the hot path: flat tables indexed by tag, scope and position.
///
/// Built once and never mutated, so sharing it between threads is safe; raw buffers keep the
/// validator free of bounds checks, retain/release traffic and copy-on-write checks.
final class CompiledTables: @unchecked Sendable {
    static let notFound = UInt32.max
    static let headerScope = 0
    static let trailerScope = 1
    static let firstMessageScope = 2

    // tagInfo bit layout.
    static let checkMask: UInt32 = 0xF
    static let definedBit: UInt32 = 1 << 4
    static let headerBit: UInt32 = 1 << 5
    static let trailerBit: UInt32 = 1 << 6
    static let multiValueBit: UInt32 = 1 << 7
    static let enumShift: UInt32 = 8

    let maxTag: Int
    let tagInfo: UnsafeMutableBufferPointer<UInt32>
    let scopes: UnsafeMutableBufferPointer<ScopeInfo>
    let slots: UnsafeMutableBufferPointer<UInt64>
    let positionTags: UnsafeMutableBufferPointer<Int32>
    /// Member info by scope position (aligned with `positionTags`).
    let positionInfo: UnsafeMutableBufferPointer<UInt32>
    /// For header, trailer and message bodies (scopes below `directScopes`): position + 1 by tag,
    /// 0 for non-members; `maxTag + 1` entries per scope. One load instead of a hash probe, for
    /// the lookups every top-level field makes. Empty when the tags run too high for it.
    let directPositions: UnsafeMutableBufferPointer<UInt16>
    let directScopes: Int
    let requiredWords: UnsafeMutableBufferPointer<UInt64>
    /// Per message scope: a bitmask over tags of every field that sits inside one of its groups
    /// (header groups included), so accessors know when a plain search could land in a group.
    let nestedTagWords: UnsafeMutableBufferPointer<UInt64>
    let nestedTagWordCount: Int
    let msgTypeKeys: UnsafeMutableBufferPointer<UInt64>
    let msgTypeScopes: UnsafeMutableBufferPointer<Int32>
    let msgTypeMask: Int
    let longMsgTypes: [String: Int32]
    /// Per enumerated field: 2 words, a bitmap of the allowed single-byte values.
    let enumChars: UnsafeMutableBufferPointer<UInt64>
    let enumPackedStart: UnsafeMutableBufferPointer<Int32>
    let enumPackedCount: UnsafeMutableBufferPointer<Int32>
    /// Allowed values of 2 to 7 bytes, packed with their length, sorted per field.
    let enumPacked: UnsafeMutableBufferPointer<UInt64>
    /// Allowed values of 8 bytes or more (none in FIX 4.4 but custom files may have them).
    let enumLong: [[[UInt8]]]
    /// Scratch words the validator needs at most (header + trailer + body + deepest group chain).
    let scratchWords: Int
    /// Deepest group nesting.
    let maxDepth: Int
    /// Scope of every group, by identity, for the group walker.
    let groupScopes: [ObjectIdentifier: Int32]
    /// The group definition of each scope (nil for bodies, header and trailer).
    let scopeGroups: [GroupDefinition?]

    private static func copy<T>(_ array: [T]) -> UnsafeMutableBufferPointer<T> {
        let p = UnsafeMutableBufferPointer<T>.allocate(capacity: Swift.max(array.count, 1))
        _ = p.initialize(from: array)
        return p
    }

    deinit {
        tagInfo.deallocate()
        scopes.deallocate()
        slots.deallocate()
        positionTags.deallocate()
        positionInfo.deallocate()
        directPositions.deallocate()
        requiredWords.deallocate()
        nestedTagWords.deallocate()
        msgTypeKeys.deallocate()
        msgTypeScopes.deallocate()
        enumChars.deallocate()
        enumPackedStart.deallocate()
        enumPackedCount.deallocate()
        enumPacked.deallocate()
    }

    /// Packs a short value (1 to 7 bytes) with its length into one word; 0 when it does not fit.
    @inline(__always)
    static func pack(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let n = bytes.count
        guard n > 0, n <= 7 else { return 0 }
        var key = UInt64(n) << 56
        for i in 0..<n { key |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        return key
    }

    static func pack(_ text: String) -> UInt64 {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { pack($0) }
    }

    @inline(__always)
    static func hash(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40)
    }

    init(
        fields: [FieldDefinition], header: SectionDefinition, trailer: SectionDefinition, messages: [MessageDefinition]
    ) {
        let maxTag = fields.last?.tag ?? 0
        self.maxTag = maxTag

        // Enumerations.
        var info = [UInt32](repeating: 0, count: maxTag + 1)
        var enumChars: [UInt64] = []
        var packedStart: [Int32] = []
        var packedCount: [Int32] = []
        var packed: [UInt64] = []
        var long: [[[UInt8]]] = []
        for f in fields {
            var bits = ValueCheck(f.type).rawValue | CompiledTables.definedBit
            if f.isMultipleValue { bits |= CompiledTables.multiValueBit }
            if f.isEnumerated {
                let index = UInt32(packedStart.count)
                var lo: UInt64 = 0
                var hi: UInt64 = 0
                var keys: [UInt64] = []
                var longValues: [[UInt8]] = []
                for v in f.values {
                    let bytes = Array(v.value.utf8)
                    if bytes.count == 1 && bytes[0] < 128 {
                        if bytes[0] < 64 { lo |= 1 << UInt64(bytes[0]) } else { hi |= 1 << UInt64(bytes[0] - 64) }
                    } else if bytes.count >= 1 && bytes.count <= 7 {
                        keys.append(CompiledTables.pack(v.value))
                    } else {
                        longValues.append(bytes)
                    }
                }
                keys.sort()
                enumChars.append(lo)
                enumChars.append(hi)
                packedStart.append(Int32(packed.count))
                packedCount.append(Int32(keys.count))
                packed.append(contentsOf: keys)
                long.append(longValues)
                bits |= (index + 1) << CompiledTables.enumShift
            }
            info[f.tag] = bits
        }
        for m in header.members { info[m.tag] |= CompiledTables.headerBit }
        for m in trailer.members { info[m.tag] |= CompiledTables.trailerBit }

        // Scopes: header, trailer, message bodies, then every distinct group.
        var scopeList: [ScopeInfo] = []
        var slots: [UInt64] = []
        var positionTags: [Int32] = []
        var positionInfo: [UInt32] = []
        var required: [UInt64] = []
        var groupScopes: [ObjectIdentifier: Int32] = [:]
        var scopeGroups: [GroupDefinition?] = []
        var pendingGroups: [GroupDefinition] = []

        func scopeID(for group: GroupDefinition) -> Int32 {
            if let id = groupScopes[ObjectIdentifier(group)] { return id }
            let id = Int32(CompiledTables.firstMessageScope + messages.count + pendingGroups.count)
            groupScopes[ObjectIdentifier(group)] = id
            pendingGroups.append(group)
            return id
        }

        func addScope(_ members: [MemberDefinition], group: GroupDefinition?) {
            var size = 4
            while size < members.count * 2 { size *= 2 }
            let bitsLog = size.trailingZeroBitCount
            let start = slots.count
            slots.append(contentsOf: repeatElement(0, count: size))
            let words = (members.count + 63) / 64
            let requiredStart = required.count
            required.append(contentsOf: repeatElement(0, count: Swift.max(words, 1)))
            let positionStart = positionTags.count
            for (position, m) in members.enumerated() {
                var memberInfo = UInt32(position)
                if case .group(let g, _) = m { memberInfo |= UInt32(scopeID(for: g) + 1) << 16 }
                if m.isRequired { required[requiredStart + position / 64] |= 1 << UInt64(position % 64) }
                positionTags.append(Int32(m.tag))
                positionInfo.append(memberInfo)
                let key = UInt64(m.tag)
                var i = (CompiledTables.hash(key) >> (24 - bitsLog)) & (size - 1)
                while slots[start + i] != 0 { i = (i + 1) & (size - 1) }
                slots[start + i] = key << 32 | UInt64(memberInfo)
            }
            scopeList.append(
                ScopeInfo(
                    slotStart: Int32(start), slotShift: Int32(24 - bitsLog), slotMask: Int32(size - 1),
                    memberCount: Int32(members.count), wordCount: Int32(Swift.max(words, 1)),
                    requiredStart: Int32(requiredStart), positionStart: Int32(positionStart),
                    delimiter: Int32(group?.delimiter ?? 0), countTag: Int32(group?.countTag ?? 0)))
            scopeGroups.append(group)
        }

        addScope(header.members, group: nil)
        addScope(trailer.members, group: nil)
        for m in messages { addScope(m.members, group: nil) }
        var next = 0
        while next < pendingGroups.count {
            let g = pendingGroups[next]
            addScope(g.members, group: g)
            next += 1
        }

        // Nesting depth and scratch needs.
        func chain(_ members: [MemberDefinition]) -> (words: Int, depth: Int) {
            var words = 0
            var depth = 0
            for case .group(let g, _) in members {
                let inner = chain(g.members)
                let w = (g.members.count + 63) / 64 + inner.words
                words = Swift.max(words, Swift.max(w, 1))
                depth = Swift.max(depth, 1 + inner.depth)
            }
            return (words, depth)
        }
        let headerChain = chain(header.members)
        let trailerChain = chain(trailer.members)
        var bodyWords = 0
        var depth = Swift.max(headerChain.depth, trailerChain.depth)
        var groupWords = Swift.max(headerChain.words, trailerChain.words)
        for m in messages {
            bodyWords = Swift.max(bodyWords, (m.members.count + 63) / 64)
            let c = chain(m.members)
            depth = Swift.max(depth, c.depth)
            groupWords = Swift.max(groupWords, c.words)
        }
        let scopeWords = { (members: [MemberDefinition]) in Swift.max((members.count + 63) / 64, 1) }
        self.scratchWords =
            scopeWords(header.members) + scopeWords(trailer.members) + Swift.max(bodyWords, 1) + groupWords + 4
        self.maxDepth = depth + 1

        // Tags inside groups, per message (header groups count for every message).
        let nestedWordCount = maxTag / 64 + 1
        func collect(_ members: [MemberDefinition], into words: inout [UInt64], base: Int) {
            for case .group(let g, _) in members {
                for m in g.members {
                    words[base + m.tag / 64] |= 1 << UInt64(m.tag % 64)
                }
                collect(g.members, into: &words, base: base)
            }
        }
        var headerNested = [UInt64](repeating: 0, count: nestedWordCount)
        collect(header.members, into: &headerNested, base: 0)
        collect(trailer.members, into: &headerNested, base: 0)
        var nested = [UInt64](repeating: 0, count: nestedWordCount * messages.count)
        for (i, m) in messages.enumerated() {
            let base = i * nestedWordCount
            for w in 0..<nestedWordCount { nested[base + w] = headerNested[w] }
            collect(m.members, into: &nested, base: base)
        }
        self.nestedTagWordCount = nestedWordCount

        // MsgType lookup.
        var msgSize = 8
        while msgSize < messages.count * 2 { msgSize *= 2 }
        var keys = [UInt64](repeating: 0, count: msgSize)
        var values = [Int32](repeating: -1, count: msgSize)
        var longTypes: [String: Int32] = [:]
        for (i, m) in messages.enumerated() {
            let key = CompiledTables.pack(m.msgType)
            let scope = Int32(CompiledTables.firstMessageScope + i)
            if key == 0 {
                longTypes[m.msgType] = scope
                continue
            }
            var s = CompiledTables.hash(key) & (msgSize - 1)
            while keys[s] != 0 { s = (s + 1) & (msgSize - 1) }
            keys[s] = key
            values[s] = scope
        }

        self.tagInfo = CompiledTables.copy(info)
        self.scopes = CompiledTables.copy(scopeList)
        self.slots = CompiledTables.copy(slots)
        self.positionTags = CompiledTables.copy(positionTags)
        self.positionInfo = CompiledTables.copy(positionInfo)
        let topScopes = CompiledTables.firstMessageScope + messages.count
        if maxTag < 1 << 14 && scopeList.prefix(topScopes).allSatisfy({ $0.memberCount < 0xFFFF }) {
            var direct = [UInt16](repeating: 0, count: topScopes * (maxTag + 1))
            for (scope, info) in scopeList.prefix(topScopes).enumerated() {
                for position in 0..<Int(info.memberCount) {
                    let tag = Int(positionTags[Int(info.positionStart) + position])
                    direct[scope * (maxTag + 1) + tag] = UInt16(position + 1)
                }
            }
            self.directPositions = CompiledTables.copy(direct)
            self.directScopes = topScopes
        } else {
            self.directPositions = CompiledTables.copy([UInt16]())
            self.directScopes = 0
        }
        self.requiredWords = CompiledTables.copy(required)
        self.nestedTagWords = CompiledTables.copy(nested)
        self.msgTypeKeys = CompiledTables.copy(keys)
        self.msgTypeScopes = CompiledTables.copy(values)
        self.msgTypeMask = msgSize - 1
        self.longMsgTypes = longTypes
        self.enumChars = CompiledTables.copy(enumChars)
        self.enumPackedStart = CompiledTables.copy(packedStart)
        self.enumPackedCount = CompiledTables.copy(packedCount)
        self.enumPacked = CompiledTables.copy(packed)
        self.enumLong = long
        self.groupScopes = groupScopes
        self.scopeGroups = scopeGroups
    }

    // MARK: Lookups

    /// Member info of `tag` in `scope`: position in the low 16 bits, nested group scope + 1 above;
    /// ``notFound`` when the tag is no direct member.
    @inline(__always)
    func member(_ tag: Int, in scope: Int) -> UInt32 {
        let s = scopes[scope]
        let key = UInt64(truncatingIfNeeded: tag)
        let start = Int(s.slotStart)
        let mask = Int(s.slotMask)
        var i = (CompiledTables.hash(key) >> Int(s.slotShift)) & mask
        while true {
            let slot = slots[start + i]
            if slot == 0 { return CompiledTables.notFound }
            if slot >> 32 == key { return UInt32(truncatingIfNeeded: slot) }
            i = (i + 1) & mask
        }
    }

    /// ``member(_:in:)`` for the header, the trailer or a message body, through the direct table.
    @inline(__always)
    func topLevelMember(_ tag: Int, in scope: Int) -> UInt32 {
        guard scope < directScopes else { return member(tag, in: scope) }
        guard tag <= maxTag else { return CompiledTables.notFound }
        let p = Int(directPositions[scope &* (maxTag &+ 1) &+ tag])
        if p == 0 { return CompiledTables.notFound }
        return positionInfo[Int(scopes[scope].positionStart) &+ p &- 1]
    }

    /// The body scope of MsgType `bytes`, or -1.
    @inline(__always)
    func messageScope(_ bytes: UnsafeRawBufferPointer) -> Int {
        let key = CompiledTables.pack(bytes)
        if key == 0 {
            if bytes.isEmpty { return -1 }
            return Int(longMsgTypes[String(decoding: bytes, as: UTF8.self)] ?? -1)
        }
        var s = CompiledTables.hash(key) & msgTypeMask
        while true {
            let k = msgTypeKeys[s]
            if k == key { return Int(msgTypeScopes[s]) }
            if k == 0 { return -1 }
            s = (s + 1) & msgTypeMask
        }
    }

    @inline(__always)
    func info(_ tag: Int) -> UInt32 {
        tag <= maxTag ? tagInfo[tag] : 0
    }

    /// Whether `tag` sits inside a group of the message whose body is `scope`.
    @inline(__always)
    func isNested(_ tag: Int, messageScope scope: Int) -> Bool {
        guard tag <= maxTag, scope >= CompiledTables.firstMessageScope else { return false }
        let base = (scope - CompiledTables.firstMessageScope) * nestedTagWordCount
        return nestedTagWords[base + tag / 64] & (1 << UInt64(tag % 64)) != 0
    }

    /// Whether `value` is one of the enumerated values of set `index`.
    @inline(__always)
    func enumContains(_ index: Int, _ value: UnsafeRawBufferPointer) -> Bool {
        let n = value.count
        if n == 1 {
            let b = value[0]
            guard b < 128 else { return false }
            let word = enumChars[2 * index + Int(b >> 6)]
            return word & (1 << UInt64(b & 63)) != 0
        }
        if n >= 2 && n <= 7 {
            let key = CompiledTables.pack(value)
            let start = Int(enumPackedStart[index])
            let count = Int(enumPackedCount[index])
            var lo = start
            var hi = start + count
            while lo < hi {
                let mid = (lo + hi) >> 1
                let k = enumPacked[mid]
                if k == key { return true }
                if k < key { lo = mid + 1 } else { hi = mid }
            }
            return false
        }
        if n == 0 { return false }
        for candidate in enumLong[index] where candidate.count == n {
            if candidate.withUnsafeBytes({ $0.elementsEqual(value) }) { return true }
        }
        return false
    }
}
