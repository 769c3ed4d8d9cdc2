/// Why a repeating group could not be read.
public enum FIXGroupError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The dictionary has no group with this count field here.
    case notAGroup(countTag: Int, msgType: String)
    /// The NumInGroup value is not a non-negative integer.
    case badCount(countTag: Int, value: String)
    /// NumInGroup says one number of entries, the message holds another.
    case countMismatch(countTag: Int, declared: Int, found: Int)

    public var description: String {
        switch self {
        case .notAGroup(let tag, let msgType): return "tag \(tag) is not a repeating group of MsgType \(msgType)"
        case .badCount(let tag, let value): return "NumInGroup \(tag) value '\(value)' is not a count"
        case .countMismatch(let tag, let declared, let found):
            return "NumInGroup \(tag) declares \(declared) entries but the message holds \(found)"
        }
    }
}

/// The fields of one level of a received message, read through the dictionary: the message's
/// top level (header, body and trailer, with repeating groups stepped over), or one entry of a
/// repeating group (its own members, with nested groups stepped over).
///
/// Accessors find only the fields of this level, so a tag that also occurs inside a group is not
/// mistaken for the top-level one. Nothing is copied: values stay views of the message bytes.
public struct FIXFieldScope: Sendable {
    /// The message the fields belong to.
    public let message: FIXMessage
    /// Indices into `message.fields` this scope covers.
    public let range: Range<Int>
    /// The dictionary that gives the group structure.
    public let dictionary: DataDictionary
    /// The group scope, or -1 for the message's top level.
    let scope: Int
    /// The message's body scope, or -1 when the MsgType is not in the dictionary.
    let messageScope: Int

    init(message: FIXMessage, range: Range<Int>, dictionary: DataDictionary, scope: Int, messageScope: Int) {
        self.message = message
        self.range = range
        self.dictionary = dictionary
        self.scope = scope
        self.messageScope = messageScope
    }

    /// Whether this scope is one entry of a repeating group.
    public var isGroupEntry: Bool { scope >= 0 }

    /// The group definition of this entry (nil at the top level).
    public var group: GroupDefinition? {
        scope >= 0 ? dictionary.tables.scopeGroups[scope] : nil
    }

    /// Index of `tag` among this level's own fields (groups below are skipped).
    public func index(of tag: Int) -> Int? {
        let t = dictionary.tables
        if scope < 0 && (messageScope < 0 || !t.isNested(tag, messageScope: messageScope)) {
            return message.firstIndex(of: tag)
        }
        return message.fields.withUnsafeBufferPointer { f -> Int? in
            var i = range.lowerBound
            let end = range.upperBound
            while i < end {
                let current = Int(f[i]._tag)
                if current == tag { return i }
                let level: Int
                if scope >= 0 {
                    level = scope
                } else {
                    let info = t.info(current)
                    level =
                        info & CompiledTables.headerBit != 0
                        ? CompiledTables.headerScope
                        : (info & CompiledTables.trailerBit != 0 ? CompiledTables.trailerScope : messageScope)
                }
                let m = t.member(current, in: level)
                i += 1
                if m != CompiledTables.notFound && m >> 16 != 0 {
                    i = t.walkGroup(scope: Int(m >> 16) - 1, fields: f, from: i, limit: end) { _ in }
                }
            }
            return nil
        }
    }

    /// Whether this level carries `tag`.
    public func contains(_ tag: Int) -> Bool { index(of: tag) != nil }

    /// The entries of the group whose NumInGroup field is `countTag`; empty when the count field
    /// is absent. Throws when the count disagrees with the entries found.
    public func groupEntries(countTag: Int) throws(FIXGroupError) -> [FIXFieldScope] {
        let t = dictionary.tables
        let level: Int
        if scope >= 0 {
            level = scope
        } else if t.info(countTag) & CompiledTables.headerBit != 0 {
            level = CompiledTables.headerScope
        } else {
            level = messageScope
        }
        let m = level >= 0 ? t.member(countTag, in: level) : CompiledTables.notFound
        guard m != CompiledTables.notFound, m >> 16 != 0 else {
            throw .notAGroup(countTag: countTag, msgType: message.msgType)
        }
        guard let countIndex = index(of: countTag) else { return [] }
        let text = message.string(at: countIndex)
        let declared = message.withValueBytes(at: countIndex) { FIXFieldType.parseInt($0) }
        guard let declared, declared >= 0 else { throw .badCount(countTag: countTag, value: text) }
        let groupScope = Int(m >> 16) - 1
        var ranges: [Range<Int>] = []
        let end = scope >= 0 ? range.upperBound : message.count - 1
        message.fields.withUnsafeBufferPointer { f in
            _ = t.walkGroup(scope: groupScope, fields: f, from: countIndex + 1, limit: end) { ranges.append($0) }
        }
        guard ranges.count == declared else {
            throw .countMismatch(countTag: countTag, declared: declared, found: ranges.count)
        }
        return ranges.map {
            FIXFieldScope(
                message: message, range: $0, dictionary: dictionary, scope: groupScope, messageScope: messageScope)
        }
    }

    // MARK: Values

    @inline(__always)
    func require(_ tag: Int) throws(FIXFieldError) -> Int {
        guard let i = index(of: tag) else { throw FIXFieldError(tag: tag, kind: .missing) }
        return i
    }

    /// The value of `tag` as a string, or `nil` when absent.
    public subscript(tag: Int) -> String? {
        index(of: tag).map { message.string(at: $0) }
    }

    /// The value of `tag` as a string; throws when absent.
    public func string(_ tag: Int) throws(FIXFieldError) -> String {
        message.string(at: try require(tag))
    }

    /// The value of `tag` as a string, `nil` when absent.
    public func stringIfPresent(_ tag: Int) -> String? { self[tag] }

    /// The raw bytes of `tag` (a DATA field); throws when absent.
    public func bytes(_ tag: Int) throws(FIXFieldError) -> [UInt8] {
        message.valueBytes(at: try require(tag))
    }

    /// The raw bytes of `tag`, `nil` when absent.
    public func bytesIfPresent(_ tag: Int) -> [UInt8]? {
        index(of: tag).map { message.valueBytes(at: $0) }
    }

    /// The value of `tag` as an integer; throws when absent or malformed.
    public func int(_ tag: Int) throws(FIXFieldError) -> Int {
        try message.int(at: try require(tag))
    }

    /// The value of `tag` as an integer, `nil` when absent; throws when malformed.
    public func intIfPresent(_ tag: Int) throws(FIXFieldError) -> Int? {
        guard let i = index(of: tag) else { return nil }
        return try message.int(at: i)
    }

    /// The value of `tag` as an exact decimal; throws when absent or malformed.
    public func decimal(_ tag: Int) throws(FIXFieldError) -> FixedDecimal {
        try message.decimal(at: try require(tag))
    }

    /// The value of `tag` as an exact decimal, `nil` when absent; throws when malformed.
    public func decimalIfPresent(_ tag: Int) throws(FIXFieldError) -> FixedDecimal? {
        guard let i = index(of: tag) else { return nil }
        return try message.decimal(at: i)
    }

    /// The value of `tag` as one character; throws when absent or not one byte.
    public func char(_ tag: Int) throws(FIXFieldError) -> Character {
        try message.char(at: try require(tag))
    }

    /// The value of `tag` as one character, `nil` when absent.
    public func charIfPresent(_ tag: Int) throws(FIXFieldError) -> Character? {
        guard let i = index(of: tag) else { return nil }
        return try message.char(at: i)
    }

    /// The value of `tag` as a FIX boolean; throws when absent or malformed.
    public func bool(_ tag: Int) throws(FIXFieldError) -> Bool {
        try message.convert(at: try require(tag), .boolean, FIXMessage.parseBool)
    }

    /// The value of `tag` as a FIX boolean, `nil` when absent.
    public func boolIfPresent(_ tag: Int) throws(FIXFieldError) -> Bool? {
        guard let i = index(of: tag) else { return nil }
        return try message.convert(at: i, .boolean, FIXMessage.parseBool)
    }

    /// The value of `tag` as a UTCTimestamp; throws when absent or malformed.
    public func timestamp(_ tag: Int) throws(FIXFieldError) -> UTCTimestamp {
        try message.convert(at: try require(tag), .utcTimestamp, UTCTimestamp.parse)
    }

    /// The value of `tag` as a UTCTimestamp, `nil` when absent.
    public func timestampIfPresent(_ tag: Int) throws(FIXFieldError) -> UTCTimestamp? {
        guard let i = index(of: tag) else { return nil }
        return try message.convert(at: i, .utcTimestamp, UTCTimestamp.parse)
    }

    /// The value of `tag` as a UTCTimeOnly; throws when absent or malformed.
    public func timeOnly(_ tag: Int) throws(FIXFieldError) -> UTCTimeOnly {
        try message.convert(at: try require(tag), .utcTimeOnly, UTCTimeOnly.parse)
    }

    /// The value of `tag` as a UTCTimeOnly, `nil` when absent.
    public func timeOnlyIfPresent(_ tag: Int) throws(FIXFieldError) -> UTCTimeOnly? {
        guard let i = index(of: tag) else { return nil }
        return try message.convert(at: i, .utcTimeOnly, UTCTimeOnly.parse)
    }

    /// The value of `tag` as a date (UTCDateOnly, LocalMktDate); throws when absent or malformed.
    public func date(_ tag: Int) throws(FIXFieldError) -> FIXDate {
        try message.convert(at: try require(tag), .localMktDate, FIXDate.parse)
    }

    /// The value of `tag` as a date, `nil` when absent.
    public func dateIfPresent(_ tag: Int) throws(FIXFieldError) -> FIXDate? {
        guard let i = index(of: tag) else { return nil }
        return try message.convert(at: i, .localMktDate, FIXDate.parse)
    }

    /// The value of `tag` as a MonthYear; throws when absent or malformed.
    public func monthYear(_ tag: Int) throws(FIXFieldError) -> MonthYear {
        try message.convert(at: try require(tag), .monthYear, MonthYear.parse)
    }

    /// The value of `tag` as a MonthYear, `nil` when absent.
    public func monthYearIfPresent(_ tag: Int) throws(FIXFieldError) -> MonthYear? {
        guard let i = index(of: tag) else { return nil }
        return try message.convert(at: i, .monthYear, MonthYear.parse)
    }

    /// The value of `tag` converted by `make` (an enumeration's `init(rawValue:)`); throws when
    /// absent or when `make` refuses it.
    public func value<T>(_ tag: Int, as type: FIXFieldType, _ make: (String) -> T?) throws(FIXFieldError) -> T {
        let i = try require(tag)
        return try convertString(at: i, tag: tag, type: type, make)
    }

    /// Like ``value(_:as:_:)`` but `nil` when absent.
    public func valueIfPresent<T>(
        _ tag: Int, as type: FIXFieldType, _ make: (String) -> T?
    ) throws(FIXFieldError) -> T? {
        guard let i = index(of: tag) else { return nil }
        return try convertString(at: i, tag: tag, type: type, make)
    }

    private func convertString<T>(
        at i: Int, tag: Int, type: FIXFieldType, _ make: (String) -> T?
    ) throws(FIXFieldError) -> T {
        let text = message.string(at: i)
        if text.isEmpty { throw FIXFieldError(tag: tag, kind: .empty) }
        guard let v = make(text) else {
            throw FIXFieldError(tag: tag, kind: .badFormat(expected: type), value: text)
        }
        return v
    }
}

/// One entry of a repeating group.
public typealias FIXGroupEntry = FIXFieldScope

extension FIXMessage {
    /// The message's top-level fields read through `dictionary` (groups stepped over).
    public func topLevel(in dictionary: DataDictionary) -> FIXFieldScope {
        let scope = withValueBytes(at: Swift.min(2, count - 1)) { dictionary.tables.messageScope($0) }
        return FIXFieldScope(
            message: self, range: 0..<count, dictionary: dictionary, scope: -1, messageScope: scope)
    }

    /// The entries of the top-level group whose NumInGroup field is `countTag` (header groups
    /// included); empty when the count field is absent. Nested groups are read from each entry
    /// with ``FIXFieldScope/groupEntries(countTag:)``.
    public func groupEntries(countTag: Int, in dictionary: DataDictionary) throws(FIXGroupError) -> [FIXGroupEntry] {
        try topLevel(in: dictionary).groupEntries(countTag: countTag)
    }

    /// The character value of field `index`; throws when it is not one byte.
    public func char(at index: Int) throws(FIXFieldError) -> Character {
        let byte: UInt8 = try convert(at: index, .char) { v in v.count == 1 ? v[0] : nil }
        return Character(Unicode.Scalar(byte))
    }
}

extension CompiledTables {
    /// Steps over a group's entries from `from` (the field after NumInGroup): calls `entry` with
    /// each entry's field range and returns the index after the group. An entry starts at the
    /// delimiter; a group whose first field is not the delimiter has no entries.
    func walkGroup(
        scope: Int, fields: UnsafeBufferPointer<FIXFieldRef>, from: Int, limit: Int, entry: (Range<Int>) -> Void
    ) -> Int {
        let delimiter = Int(scopes[scope].delimiter)
        var i = from
        var entryStart = -1
        while i < limit {
            let tag = Int(fields[i]._tag)
            let m = member(tag, in: scope)
            if m == CompiledTables.notFound { break }
            if tag == delimiter {
                if entryStart >= 0 { entry(entryStart..<i) }
                entryStart = i
            } else if entryStart < 0 {
                break
            }
            i += 1
            if m >> 16 != 0 { i = walkGroup(scope: Int(m >> 16) - 1, fields: fields, from: i, limit: limit) { _ in } }
        }
        if entryStart >= 0 { entry(entryStart..<i) }
        return i
    }
}
