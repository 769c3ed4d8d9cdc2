/// One field of the dictionary's `<fields>` section.
public struct FieldDefinition: Sendable, Hashable {
    /// The tag number.
    public let tag: Int
    /// The field name (`ClOrdID`).
    public let name: String
    /// The value type.
    public let type: FIXFieldType
    /// The enumerated values, in dictionary order; empty when any value of the type is allowed.
    public let values: [FieldValue]

    public init(tag: Int, name: String, type: FIXFieldType, values: [FieldValue] = []) {
        self.tag = tag
        self.name = name
        self.type = type
        self.values = values
    }

    /// Whether the field only takes the values listed in ``values``.
    public var isEnumerated: Bool { !values.isEmpty }

    /// Whether a value is a space-separated list of enumerated values (MULTIPLEVALUESTRING and kin).
    public var isMultipleValue: Bool {
        switch type {
        case .multipleValueString, .multipleStringValue, .multipleCharValue: return true
        case .int, .length, .seqNum, .numInGroup, .dayOfMonth, .tagNum, .float, .qty, .price, .priceOffset, .amt,
            .percentage, .char, .boolean, .string, .country, .currency, .exchange, .utcTimestamp, .utcTimeOnly,
            .utcDateOnly, .utcDate, .localMktDate, .monthYear, .data, .xmlData, .language, .tzTimeOnly,
            .tzTimestamp, .time, .date:
            return false
        }
    }
}

/// One enumerated value of a field (`<value enum='1' description='BUY'/>`).
public struct FieldValue: Sendable, Hashable {
    /// The value as it appears on the wire.
    public let value: String
    /// The dictionary's description, upper snake case in the QuickFIX files (`BUY`).
    public let description: String

    public init(value: String, description: String) {
        self.value = value
        self.description = description
    }
}

/// A member of a message, a header, a trailer or a group entry, with components flattened away.
public enum MemberDefinition: Sendable {
    /// A plain field.
    case field(tag: Int, required: Bool)
    /// A repeating group, introduced by its NumInGroup field.
    case group(GroupDefinition, required: Bool)

    /// The field's tag, or the group's NumInGroup tag.
    public var tag: Int {
        switch self {
        case .field(let tag, _): return tag
        case .group(let group, _): return group.countTag
        }
    }

    /// Whether the member must be present (a component's fields are required only when the
    /// component is required too).
    public var isRequired: Bool {
        switch self {
        case .field(_, let required): return required
        case .group(_, let required): return required
        }
    }
}

/// A repeating group: its NumInGroup field, the delimiter (the first member, which starts every
/// entry) and its members in dictionary order.
///
/// A group reached through a component is one object wherever the component is used.
public final class GroupDefinition: Sendable {
    /// NumInGroup (the group's count field).
    public let countTag: Int
    /// The count field's name (`NoPartyIDs`).
    public let name: String
    /// The first member field: every entry starts with it.
    public let delimiter: Int
    /// The members of one entry, in dictionary order.
    public let members: [MemberDefinition]

    init(countTag: Int, name: String, members: [MemberDefinition]) {
        precondition(!members.isEmpty, "a group has members")
        self.countTag = countTag
        self.name = name
        self.delimiter = members[0].tag
        self.members = members
    }

    /// Tags of the members in dictionary order (nested groups by their count tag).
    public var memberTags: [Int] { members.map(\.tag) }

    /// Tags that every entry must carry.
    public var requiredTags: [Int] { members.filter(\.isRequired).map(\.tag) }

    /// The nested group whose count field is `countTag`.
    public func group(countTag: Int) -> GroupDefinition? {
        for case .group(let g, _) in members where g.countTag == countTag { return g }
        return nil
    }
}

/// A message type of the dictionary.
public final class MessageDefinition: Sendable {
    /// The message name (`NewOrderSingle`).
    public let name: String
    /// MsgType (35).
    public let msgType: String
    /// `admin` or `app`, as the dictionary's `msgcat` says.
    public let category: String
    /// The body members in dictionary order, components flattened.
    public let members: [MemberDefinition]

    init(name: String, msgType: String, category: String, members: [MemberDefinition]) {
        self.name = name
        self.msgType = msgType
        self.category = category
        self.members = members
    }

    /// Whether the dictionary files the message as session-level (`msgcat='admin'`).
    public var isAdmin: Bool { category == "admin" }

    /// Tags of the body members in dictionary order (groups by their count tag).
    public var memberTags: [Int] { members.map(\.tag) }

    /// Tags the body must carry.
    public var requiredTags: [Int] { members.filter(\.isRequired).map(\.tag) }

    /// The top-level group whose count field is `countTag`.
    public func group(countTag: Int) -> GroupDefinition? {
        for case .group(let g, _) in members where g.countTag == countTag { return g }
        return nil
    }
}

/// The header or trailer definition.
public struct SectionDefinition: Sendable {
    /// The members in dictionary order.
    public let members: [MemberDefinition]

    /// Tags of the members (groups by their count tag).
    public var memberTags: [Int] { members.map(\.tag) }

    /// Tags every message must carry in this section.
    public var requiredTags: [Int] { members.filter(\.isRequired).map(\.tag) }

    /// The group whose count field is `countTag` (NoHops in the header).
    public func group(countTag: Int) -> GroupDefinition? {
        for case .group(let g, _) in members where g.countTag == countTag { return g }
        return nil
    }
}

/// Why a dictionary could not be loaded. The description names the file, the line when known, and
/// the problem.
public struct DataDictionaryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Problem: Sendable, Equatable {
        /// The file could not be read.
        case unreadable(String)
        /// The XML itself is malformed.
        case xmlSyntax(String)
        /// The root element is not `<fix>` or a required section is missing.
        case notADictionary(String)
        /// An element lacks an attribute it needs.
        case missingAttribute(element: String, attribute: String)
        /// A field number is not a positive integer.
        case badFieldNumber(name: String, number: String)
        /// Two fields share a number.
        case duplicateFieldNumber(Int, names: [String])
        /// Two fields share a name.
        case duplicateFieldName(String)
        /// A field's type is not one of the QuickFIX types.
        case badType(field: String, type: String)
        /// A message, component or group refers to a field that `<fields>` does not define.
        case undefinedField(name: String, referencedBy: String)
        /// A message or component refers to a component that is not defined.
        case undefinedComponent(name: String, referencedBy: String)
        /// Components that include themselves.
        case recursiveComponent(String)
        /// Two components share a name.
        case duplicateComponent(String)
        /// Two messages share a MsgType.
        case duplicateMessage(msgType: String)
        /// A group without fields.
        case emptyGroup(String)
        /// A field listed twice in one message, header, trailer or group entry.
        case duplicateMember(field: String, in: String)
    }

    /// The file (or the name given for in-memory XML).
    public let file: String
    /// The line in the file, when known.
    public let line: Int?
    public let problem: Problem

    public init(file: String, line: Int? = nil, problem: Problem) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return "\(place): \(problemText)"
    }

    var problemText: String {
        switch problem {
        case .unreadable(let why): return "cannot read the data dictionary: \(why)"
        case .xmlSyntax(let why): return "malformed XML: \(why)"
        case .notADictionary(let why): return "not a QuickFIX data dictionary: \(why)"
        case .missingAttribute(let element, let attribute): return "<\(element)> has no '\(attribute)' attribute"
        case .badFieldNumber(let name, let number): return "field \(name) has an invalid number '\(number)'"
        case .duplicateFieldNumber(let number, let names):
            return "duplicate field number \(number) (\(names.joined(separator: ", ")))"
        case .duplicateFieldName(let name): return "duplicate field name \(name)"
        case .badType(let field, let type): return "field \(field) has an unknown type '\(type)'"
        case .undefinedField(let name, let by): return "undefined field \(name) referenced by \(by)"
        case .undefinedComponent(let name, let by): return "undefined component \(name) referenced by \(by)"
        case .recursiveComponent(let name): return "component \(name) includes itself"
        case .duplicateComponent(let name): return "duplicate component \(name)"
        case .duplicateMessage(let msgType): return "duplicate message type \(msgType)"
        case .emptyGroup(let name): return "group \(name) has no fields"
        case .duplicateMember(let field, let scope): return "field \(field) appears twice in \(scope)"
        }
    }
}
