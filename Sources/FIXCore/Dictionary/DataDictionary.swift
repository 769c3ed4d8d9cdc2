import Foundation

/// A FIX data dictionary in the QuickFIX XML format: fields, header, trailer, messages,
/// components and repeating groups.
///
/// Load the standard FIX 4.4 file or a broker's customised copy; the dictionary then validates
/// received messages (``validate(_:options:)``), walks their repeating groups
/// (``FIXMessage/groupEntries(countTag:in:)``), and rebuilds them in canonical order
/// (``canonicalBuilder(copying:)``). Lookups for validation go through flat tables indexed by
/// tag, built once at load time.
public final class DataDictionary: Sendable {
    /// The file the dictionary came from, or the name given for in-memory XML.
    public let source: String
    /// BeginString (8) of the dictionary's version (`FIX.4.4`).
    public let beginString: String
    /// Every field, ascending by tag.
    public let fields: [FieldDefinition]
    /// The standard header.
    public let header: SectionDefinition
    /// The standard trailer.
    public let trailer: SectionDefinition
    /// The messages in dictionary order.
    public let messages: [MessageDefinition]
    /// Length fields and the data fields they announce (a LENGTH field followed by a DATA field),
    /// for ``FIXDecoderConfiguration/dataFields``.
    public let dataFieldPairs: [Int: Int]

    let tables: CompiledTables
    private let fieldIndexByTag: [Int32]
    private let fieldIndexByName: [String: Int]
    private let messageIndexByType: [String: Int]
    private let messageIndexByName: [String: Int]

    /// Loads the dictionary at `path`.
    public convenience init(contentsOfFile path: String) throws(DataDictionaryError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DataDictionaryError(file: path, problem: .unreadable("\(error.localizedDescription)"))
        }
        try self.init(xml: data, source: path)
    }

    /// Loads a dictionary from XML text; `source` names it in errors.
    public convenience init(xml: String, source: String) throws(DataDictionaryError) {
        try self.init(xml: Data(xml.utf8), source: source)
    }

    /// Loads a dictionary from XML bytes; `source` names it in errors.
    public init(xml: Data, source: String) throws(DataDictionaryError) {
        let root = try DictionaryXMLLoader.parseTree(xml, file: source)
        var loader = DictionaryXMLLoader(file: source)
        let resolved = try loader.resolve(root)
        self.source = source
        self.beginString = resolved.beginString
        self.fields = resolved.fields
        self.header = resolved.header
        self.trailer = resolved.trailer
        self.messages = resolved.messages

        var byTag = [Int32](repeating: -1, count: (resolved.fields.last?.tag ?? 0) + 1)
        var byName: [String: Int] = [:]
        for (i, f) in resolved.fields.enumerated() {
            byTag[f.tag] = Int32(i)
            byName[f.name] = i
        }
        self.fieldIndexByTag = byTag
        self.fieldIndexByName = byName
        var byType: [String: Int] = [:]
        var byMessageName: [String: Int] = [:]
        for (i, m) in resolved.messages.enumerated() {
            byType[m.msgType] = i
            byMessageName[m.name] = i
        }
        self.messageIndexByType = byType
        self.messageIndexByName = byMessageName
        self.dataFieldPairs = DataDictionary.findDataPairs(resolved, fieldIndex: byTag)
        self.tables = CompiledTables(
            fields: resolved.fields, header: resolved.header, trailer: resolved.trailer, messages: resolved.messages)
    }

    private static func findDataPairs(_ d: ResolvedDictionary, fieldIndex: [Int32]) -> [Int: Int] {
        func type(_ tag: Int) -> FIXFieldType? {
            tag < fieldIndex.count && fieldIndex[tag] >= 0 ? d.fields[Int(fieldIndex[tag])].type : nil
        }
        var pairs: [Int: Int] = [:]
        var seen: Set<ObjectIdentifier> = []
        func scan(_ members: [MemberDefinition]) {
            var previous: Int?
            for m in members {
                if case .field(let tag, _) = m, type(tag) == .data, let p = previous, type(p) == .length {
                    pairs[p] = tag
                }
                previous = m.tag
                if case .group(let g, _) = m, seen.insert(ObjectIdentifier(g)).inserted { scan(g.members) }
            }
        }
        scan(d.header.members)
        scan(d.trailer.members)
        for m in d.messages { scan(m.members) }
        // Fields listed as a LENGTH directly followed by its DATA (SecureDataLen 90, SecureData 91).
        for (a, b) in zip(d.fields, d.fields.dropFirst()) where a.type == .length && b.type == .data {
            if pairs[a.tag] == nil && !pairs.values.contains(b.tag) { pairs[a.tag] = b.tag }
        }
        return pairs
    }

    // MARK: Lookups

    /// The field with tag number `tag`.
    public func field(tag: Int) -> FieldDefinition? {
        guard tag >= 0, tag < fieldIndexByTag.count else { return nil }
        let i = fieldIndexByTag[tag]
        return i >= 0 ? fields[Int(i)] : nil
    }

    /// The field named `name` (`ClOrdID`).
    public func field(named name: String) -> FieldDefinition? {
        fieldIndexByName[name].map { fields[$0] }
    }

    /// Whether `tag` is defined in `<fields>`.
    public func isDefined(tag: Int) -> Bool {
        tables.info(tag) & CompiledTables.definedBit != 0
    }

    /// The message with MsgType `msgType`.
    public func message(msgType: String) -> MessageDefinition? {
        messageIndexByType[msgType].map { messages[$0] }
    }

    /// The message named `name` (`ExecutionReport`).
    public func message(named name: String) -> MessageDefinition? {
        messageIndexByName[name].map { messages[$0] }
    }

    /// Whether the dictionary defines MsgType `msgType`. A message whose MsgType is defined but
    /// which the application does not handle is answered with a BusinessMessageReject
    /// (Unsupported Message Type); one whose MsgType is not defined fails validation with
    /// SessionRejectReason 11 (Invalid MsgType).
    public func isDefined(msgType: String) -> Bool {
        messageIndexByType[msgType] != nil
    }

    /// Whether `msgType` is session-level (`msgcat='admin'`); false for undefined types.
    public func isAdmin(msgType: String) -> Bool {
        message(msgType: msgType)?.isAdmin ?? false
    }

    /// Whether `tag` is a header field (groups' members excepted).
    public func isHeaderField(_ tag: Int) -> Bool {
        tables.info(tag) & CompiledTables.headerBit != 0
    }

    /// Whether `tag` is a trailer field.
    public func isTrailerField(_ tag: Int) -> Bool {
        tables.info(tag) & CompiledTables.trailerBit != 0
    }

    /// Whether `tag` is a body field of `msgType` (directly, not inside one of its groups).
    public func isMessageField(_ tag: Int, msgType: String) -> Bool {
        guard let i = messageIndexByType[msgType] else { return false }
        return tables.member(tag, in: CompiledTables.firstMessageScope + i) != CompiledTables.notFound
    }

    /// Whether `tag` must be present in the body of `msgType`.
    public func isRequiredField(_ tag: Int, msgType: String) -> Bool {
        message(msgType: msgType)?.members.contains { $0.tag == tag && $0.isRequired } ?? false
    }

    /// The group of `msgType` whose count field is `countTag`: a top-level group of the body, or
    /// of the header. Nested groups are found through ``GroupDefinition/group(countTag:)``.
    public func group(countTag: Int, msgType: String) -> GroupDefinition? {
        if let g = header.group(countTag: countTag) { return g }
        return message(msgType: msgType)?.group(countTag: countTag)
    }

    /// The enumerated values of `tag`; empty when the field takes any value of its type.
    public func values(of tag: Int) -> [FieldValue] {
        field(tag: tag)?.values ?? []
    }

    /// A decoder configuration whose length→data pairs are this dictionary's.
    public func decoderConfiguration(maximumMessageSize: Int = 1 << 20) -> FIXDecoderConfiguration {
        FIXDecoderConfiguration(maximumMessageSize: maximumMessageSize, dataFields: dataFieldPairs)
    }
}
