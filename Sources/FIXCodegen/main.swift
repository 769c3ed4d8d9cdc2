// FIXCodegen: writes the typed FIX views of the FIXMessages module from a data dictionary.
//
//   swift run FIXCodegen Specs/FIX44.xml Sources/FIXMessages/Generated
//
// followed by `swift format -i Sources/FIXMessages/Generated/*.swift`, which only re-wraps long lines.
//
// Output, all in a namespace named after the version (`FIX44`): tag constants for every field,
// enumerations for the fields the product reads, typed read views and builders for the messages
// the product exchanges, the standard header view, and the dictionary itself embedded as text
// (`FIX44.dictionary`), so the engine works with no dictionary file configured.
import FIXCore
import Foundation

/// Messages that get a view and a builder.
let messageNames = [
    "Heartbeat", "TestRequest", "ResendRequest", "Reject", "SequenceReset", "Logout", "Logon", "NewOrderSingle",
    "ExecutionReport", "OrderCancelRequest", "OrderCancelReplaceRequest", "OrderCancelReject", "OrderStatusRequest",
    "OrderMassStatusRequest", "BusinessMessageReject", "RequestForPositions", "PositionReport", "MarketDataRequest",
    "MarketDataSnapshotFullRefresh", "MarketDataIncrementalRefresh", "SecurityDefinition",
]

/// Enumerated fields that get a Swift enum; the others read as their plain type.
let enumFieldNames = [
    "Side", "OrdType", "TimeInForce", "ExecType", "OrdStatus", "OrdRejReason", "PosReqType", "MDEntryType",
    "SubscriptionRequestType", "HandlInst", "CxlRejReason", "CxlRejResponseTo", "BusinessRejectReason",
    "SessionRejectReason", "EncryptMethod", "PosReqResult", "PosReqStatus", "PosType", "PosQtyStatus",
    "MDUpdateAction", "MDUpdateType", "MDReqRejReason", "PartyIDSource", "PartyRole", "SecurityIDSource",
    "PositionEffect", "MassStatusReqType", "ExecRestatementReason", "LastLiquidityInd", "CommType", "MiscFeeType",
    "PriceType", "SecurityType", "Product", "PutOrCall", "SecurityRequestResult", "SecurityResponseType",
    "PosAmtType", "SettlPriceType", "AccountType", "OrderCapacity", "QtyType", "GapFillFlag",
]

struct CodegenError: Error, CustomStringConvertible {
    let description: String
}

let swiftKeywords: Set<String> = [
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
    "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static", "struct",
    "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do", "else", "fallthrough",
    "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while", "as", "catch", "false", "is", "nil",
    "super", "self", "Self", "throw", "throws", "true", "try", "yield", "Type", "Any", "some", "any",
]

/// `ClOrdID` → `clOrdID`, `MDEntryType` → `mdEntryType`, `CFICode` → `cfiCode`.
func lowerCamel(_ name: String) -> String {
    let chars = Array(name)
    var upperRun = 0
    while upperRun < chars.count && chars[upperRun].isUppercase { upperRun += 1 }
    if upperRun == 0 { return name }
    // Keep the last capital of a run when a lower-case letter follows: it starts the next word.
    let lowerCount = upperRun == chars.count ? upperRun : (upperRun > 1 ? upperRun - 1 : 1)
    return String(chars[..<lowerCount]).lowercased() + String(chars[lowerCount...])
}

/// `SELL_SHORT_EXEMPT` → `sellShortExempt`.
func caseName(_ description: String) -> String {
    let words = description.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { $0.lowercased() }
    guard let first = words.first else { return "value" }
    var name = first + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    if let c = name.first, c.isNumber { name = "v" + name }
    // `.none` would read as Optional.none wherever the enum is optional.
    if name == "none" { name = "noneValue" }
    return name
}

func identifier(_ name: String) -> String {
    swiftKeywords.contains(name) ? "`\(name)`" : name
}

func swiftString(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

/// How a field reads and writes in Swift.
enum ValueKind {
    case string, int, decimal, bool, char, timestamp, timeOnly, date, monthYear, data
    case enumeration(typeName: String, fieldType: FIXFieldType)

    init(_ field: FieldDefinition, enums: Set<String>) {
        if enums.contains(field.name) {
            self = .enumeration(typeName: field.name, fieldType: field.type)
            return
        }
        switch field.type {
        case .int, .length, .seqNum, .numInGroup, .dayOfMonth, .tagNum: self = .int
        case .float, .qty, .price, .priceOffset, .amt, .percentage: self = .decimal
        case .boolean: self = .bool
        case .char: self = .char
        case .utcTimestamp, .time: self = .timestamp
        case .utcTimeOnly: self = .timeOnly
        case .utcDateOnly, .utcDate, .localMktDate, .date: self = .date
        case .monthYear: self = .monthYear
        case .data, .xmlData: self = .data
        case .string, .multipleValueString, .multipleStringValue, .multipleCharValue, .country, .currency,
            .exchange, .language, .tzTimeOnly, .tzTimestamp:
            self = .string
        }
    }

    func swiftType(namespace: String) -> String {
        switch self {
        case .string: return "String"
        case .int: return "Int"
        case .decimal: return "FixedDecimal"
        case .bool: return "Bool"
        case .char: return "Character"
        case .timestamp: return "UTCTimestamp"
        case .timeOnly: return "UTCTimeOnly"
        case .date: return "FIXDate"
        case .monthYear: return "MonthYear"
        case .data: return "[UInt8]"
        case .enumeration(let name, _): return "\(namespace).\(name)"
        }
    }

    /// The getter body, reading from `fields`.
    func getter(tag: Int, required: Bool, namespace: String) -> (throwing: Bool, body: String) {
        let suffix = required ? "" : "IfPresent"
        switch self {
        case .string: return required ? (true, "try fields.string(\(tag))") : (false, "fields.stringIfPresent(\(tag))")
        case .data: return required ? (true, "try fields.bytes(\(tag))") : (false, "fields.bytesIfPresent(\(tag))")
        case .int: return (true, "try fields.int\(suffix)(\(tag))")
        case .decimal: return (true, "try fields.decimal\(suffix)(\(tag))")
        case .bool: return (true, "try fields.bool\(suffix)(\(tag))")
        case .char: return (true, "try fields.char\(suffix)(\(tag))")
        case .timestamp: return (true, "try fields.timestamp\(suffix)(\(tag))")
        case .timeOnly: return (true, "try fields.timeOnly\(suffix)(\(tag))")
        case .date: return (true, "try fields.date\(suffix)(\(tag))")
        case .monthYear: return (true, "try fields.monthYear\(suffix)(\(tag))")
        case .enumeration(let name, let type):
            let method = required ? "value" : "valueIfPresent"
            return (true, "try fields.\(method)(\(tag), as: .\(typeCase(type)), \(namespace).\(name).init(rawValue:))")
        }
    }

    /// The statement writing `value` for `tag` into the builder `target`.
    func setter(tag: Int, value: String, target: String) -> String {
        switch self {
        case .monthYear: return "\(target).set(\(tag), \(value).description)"
        case .data: return "\(target).set(\(tag), bytes: \(value))"
        case .enumeration: return "\(target).set(\(tag), \(value).rawValue)"
        case .string, .int, .decimal, .bool, .char, .timestamp, .timeOnly, .date:
            return "\(target).set(\(tag), \(value))"
        }
    }
}

/// The `FIXFieldType` case name for generated code (`.utcTimestamp`).
func typeCase(_ type: FIXFieldType) -> String {
    switch type {
    case .int: return "int"
    case .length: return "length"
    case .seqNum: return "seqNum"
    case .numInGroup: return "numInGroup"
    case .dayOfMonth: return "dayOfMonth"
    case .tagNum: return "tagNum"
    case .float: return "float"
    case .qty: return "qty"
    case .price: return "price"
    case .priceOffset: return "priceOffset"
    case .amt: return "amt"
    case .percentage: return "percentage"
    case .char: return "char"
    case .boolean: return "boolean"
    case .string: return "string"
    case .multipleValueString: return "multipleValueString"
    case .multipleStringValue: return "multipleStringValue"
    case .multipleCharValue: return "multipleCharValue"
    case .country: return "country"
    case .currency: return "currency"
    case .exchange: return "exchange"
    case .utcTimestamp: return "utcTimestamp"
    case .utcTimeOnly: return "utcTimeOnly"
    case .utcDateOnly: return "utcDateOnly"
    case .utcDate: return "utcDate"
    case .localMktDate: return "localMktDate"
    case .monthYear: return "monthYear"
    case .data: return "data"
    case .xmlData: return "xmlData"
    case .language: return "language"
    case .tzTimeOnly: return "tzTimeOnly"
    case .tzTimestamp: return "tzTimestamp"
    case .time: return "time"
    case .date: return "date"
    }
}

/// Accumulates indented Swift source.
struct Writer {
    var text = ""
    var level = 0

    mutating func line(_ s: String = "") {
        text += s.isEmpty ? "\n" : String(repeating: "    ", count: level) + s + "\n"
    }

    mutating func open(_ s: String) {
        line(s + " {")
        level += 1
    }

    mutating func close(_ suffix: String = "") {
        level -= 1
        line("}" + suffix)
    }
}

struct Generator {
    let dictionary: DataDictionary
    let dictionaryPath: String
    let outputPath: String
    let namespace: String
    let enums: Set<String>
    /// Data fields written together with their length field, by data tag.
    let lengthOfData: [Int: Int]

    init(dictionary: DataDictionary, dictionaryPath: String, outputPath: String) throws {
        self.dictionary = dictionary
        self.dictionaryPath = dictionaryPath
        self.outputPath = outputPath
        self.namespace = dictionary.beginString.replacingOccurrences(of: ".", with: "")
        for name in enumFieldNames {
            guard let f = dictionary.field(named: name), f.isEnumerated, !f.isMultipleValue else {
                throw CodegenError(description: "\(name) is not a single-valued enumerated field of \(dictionaryPath)")
            }
        }
        self.enums = Set(enumFieldNames)
        var lengthOfData: [Int: Int] = [:]
        for (length, data) in dictionary.dataFieldPairs { lengthOfData[data] = length }
        self.lengthOfData = lengthOfData
    }

    var regenerate: String {
        "swift run FIXCodegen \(dictionaryPath) \(outputPath) && swift format -i \(outputPath)/*.swift"
    }

    func fileHeader(_ what: String) -> String {
        """
        // \(what)
        //
        // Generated by FIXCodegen from \(dictionaryPath); do not edit. Regenerate with:
        //   \(regenerate)

        """
    }

    func field(_ tag: Int) -> FieldDefinition {
        guard let f = dictionary.field(tag: tag) else { preconditionFailure("dictionary resolved tag \(tag)") }
        return f
    }

    // MARK: Files

    func tagsFile() -> String {
        var w = Writer()
        w.text = fileHeader("Tag numbers of every \(dictionary.beginString) field.")
        w.line("import FIXCore")
        w.line()
        w.line(
            "/// \(dictionary.beginString) as the data dictionary defines it: field tags, enumerations, message views")
        w.line("/// and builders, and the dictionary itself.")
        w.open("public enum \(namespace)")
        w.line("/// Tag numbers by field name.")
        w.open("public enum Tag")
        for f in dictionary.fields {
            w.line("/// \(f.name) (\(f.tag)), \(f.type.rawValue).")
            w.line("public static let \(identifier(lowerCamel(f.name))) = \(f.tag)")
        }
        w.close()
        w.close()
        return w.text
    }

    func enumsFile() -> String {
        var w = Writer()
        w.text = fileHeader("Enumerations of the \(dictionary.beginString) fields the product reads and writes.")
        w.line("extension \(namespace) {")
        w.level += 1
        for (n, name) in enumFieldNames.sorted().enumerated() {
            guard let f = dictionary.field(named: name) else { continue }
            if n > 0 { w.line() }
            w.line("/// \(f.name) (\(f.tag)) values.")
            w.open("public enum \(name): String, Sendable, CaseIterable")
            var used: Set<String> = []
            for v in f.values {
                var c = caseName(v.description)
                if used.contains(c) { c += "_" + caseName(v.value) }
                used.insert(c)
                w.line("/// \(v.description)")
                w.line("case \(identifier(c)) = \(swiftString(v.value))")
            }
            w.close()
        }
        w.level -= 1
        w.line("}")
        return w.text
    }

    func dictionaryFile(xml: String) throws -> String {
        guard !xml.contains("\"\"\"#") else {
            throw CodegenError(description: "\(dictionaryPath) contains the raw string delimiter \"\"\"#")
        }
        var text = fileHeader("The \(dictionary.beginString) data dictionary, embedded as text.")
        text += """
            import FIXCore
            import Foundation

            extension \(namespace) {
                /// The standard \(dictionary.beginString) dictionary, built from ``dictionaryXML`` on first use.
                public static let dictionary: DataDictionary = {
                    do {
                        return try DataDictionary(xml: Data(dictionaryXML.utf8), source: "\(dictionaryPath) (embedded)")
                    } catch {
                        preconditionFailure("the embedded dictionary does not load: \\(error)")
                    }
                }()

                /// The text of \(dictionaryPath), byte for byte.
                public static let dictionaryXML: String = #\"\"\"

            """
        // Indented like the closing delimiter, as swift-format leaves it; Swift strips the indentation.
        for line in xml.split(separator: "\n", omittingEmptySubsequences: false).dropLast(xml.hasSuffix("\n") ? 1 : 0) {
            text += line.isEmpty ? "\n" : "        " + line + "\n"
        }
        // The raw string's last line break belongs to the delimiter: an empty line keeps the file's own.
        text += xml.hasSuffix("\n") ? "\n" : ""
        text += "        \"\"\"#\n}\n"
        return text
    }

    // MARK: Views

    /// Property name of a member in a view (groups drop their `No`).
    func propertyName(_ member: MemberDefinition) -> String {
        switch member {
        case .field(let tag, _):
            let name = lowerCamel(field(tag).name)
            return ["message", "fields", "header", "dictionary", "fix"].contains(name) ? name + "Field" : name
        case .group(let g, _):
            return lowerCamel(groupBaseName(g))
        }
    }

    func groupBaseName(_ g: GroupDefinition) -> String {
        g.name.hasPrefix("No") && g.name.count > 2 ? String(g.name.dropFirst(2)) : g.name
    }

    func entryTypeName(_ g: GroupDefinition) -> String { groupBaseName(g) + "Entry" }

    /// Members that get accessors: length fields of data pairs are read but written with their data.
    func writeAccessors(_ members: [MemberDefinition], into w: inout Writer) {
        for m in members {
            switch m {
            case .field(let tag, let required):
                let f = field(tag)
                let kind = ValueKind(f, enums: enums)
                let type = kind.swiftType(namespace: namespace)
                let (throwing, body) = kind.getter(tag: tag, required: required, namespace: namespace)
                w.line("/// \(f.name) (\(tag))\(required ? ", required" : "").")
                let resultType = required ? type : type + "?"
                if throwing {
                    w.line(
                        "public var \(identifier(propertyName(m))): \(resultType) { get throws(FIXFieldError) { \(body) } }"
                    )
                } else {
                    w.line("public var \(identifier(propertyName(m))): \(resultType) { \(body) }")
                }
            case .group(let g, let required):
                w.line("/// The \(g.name) (\(g.countTag)) entries\(required ? ", required" : "").")
                w.line(
                    "public var \(identifier(propertyName(m))): [\(entryTypeName(g))] { get throws(FIXGroupError) { "
                        + "try fields.groupEntries(countTag: \(g.countTag)).map { \(entryTypeName(g))(fields: $0) } } }"
                )
            }
        }
    }

    func writeEntryTypes(_ members: [MemberDefinition], into w: inout Writer) {
        for case .group(let g, _) in members {
            w.line()
            w.line(
                "/// One entry of \(g.name) (\(g.countTag)), delimited by \(field(g.delimiter).name) (\(g.delimiter)).")
            w.open("public struct \(entryTypeName(g)): Sendable")
            w.line("/// The entry's own fields.")
            w.line("public let fields: FIXGroupEntry")
            w.line()
            w.line("/// Wraps one entry found by ``FIXFieldScope/groupEntries(countTag:)``.")
            w.line("public init(fields: FIXGroupEntry) {")
            w.line("    self.fields = fields")
            w.line("}")
            w.line()
            writeAccessors(g.members, into: &w)
            writeEntryTypes(g.members, into: &w)
            w.line()
            writeValues(g, into: &w)
            w.close()
        }
    }

    /// A member's parameter in a builder: its name, type and whether it is required.
    struct Parameter {
        var name: String
        /// The dictionary's name, for setters (`MDReqID`, or the group's name without `No`).
        var dictionaryName: String
        var type: String
        var required: Bool
        var member: MemberDefinition
    }

    /// Members a builder exposes (length fields of data pairs are written with their data).
    func builderParameters(_ members: [MemberDefinition], delimiter: Int? = nil) -> [Parameter] {
        members.compactMap { m -> Parameter? in
            switch m {
            case .field(let tag, let required):
                if dictionary.dataFieldPairs[tag] != nil
                    && members.contains(where: {
                        $0.tag == dictionary.dataFieldPairs[tag]
                    })
                {
                    return nil
                }
                let kind = ValueKind(field(tag), enums: enums)
                return Parameter(
                    name: propertyName(m), dictionaryName: field(tag).name, type: kind.swiftType(namespace: namespace),
                    required: required || tag == delimiter, member: m)
            case .group(let g, let required):
                return Parameter(
                    name: propertyName(m), dictionaryName: groupBaseName(g), type: "[\(entryTypeName(g)).Values]",
                    required: required, member: m)
            }
        }
    }

    func describe(_ p: Parameter) -> String {
        switch p.member {
        case .field(let tag, _):
            if let length = lengthOfData[tag] { return "\(field(tag).name) (\(tag)) with its length (\(length))" }
            return "\(field(tag).name) (\(tag))"
        case .group(let g, _): return "the \(g.name) (\(g.countTag)) entries"
        }
    }

    /// Statements writing parameter `p` (held in `value`) into `target`.
    func writeStatements(_ p: Parameter, value: String, target: String, inGroup: Bool) -> [String] {
        switch p.member {
        case .field(let tag, _):
            if let length = lengthOfData[tag] {
                return ["\(target).set(\(length), \(value).count)", "\(target).set(\(tag), bytes: \(value))"]
            }
            return [ValueKind(field(tag), enums: enums).setter(tag: tag, value: value, target: target)]
        case .group(let g, _):
            return [
                "if !\(value).isEmpty {",
                "    \(target).beginGroup(\(g.countTag), count: \(value).count)",
                "    for entry in \(value) { entry.write(into: &\(target)) }",
                "    \(target).endGroup()",
                "}",
            ]
        }
    }

    func writeValues(_ g: GroupDefinition, into w: inout Writer) {
        let params = builderParameters(g.members, delimiter: g.delimiter)
        w.line("/// The values of one entry to build, written in dictionary order.")
        w.open("public struct Values: Sendable")
        for p in params {
            w.line("/// \(describe(p).prefix(1).uppercased() + describe(p).dropFirst()).")
            if case .group = p.member {
                w.line("public var \(identifier(p.name)): \(p.type)")
            } else {
                w.line("public var \(identifier(p.name)): \(p.type)\(p.required ? "" : "?")")
            }
        }
        w.line()
        w.line("/// The entry's values in dictionary order; only the delimiter and required members lack a default.")
        let args = params.map { p -> String in
            if case .group = p.member { return "\(p.name): \(p.type)\(p.required ? "" : " = []")" }
            return "\(p.name): \(p.type)\(p.required ? "" : "? = nil")"
        }
        w.open("public init(\(args.joined(separator: ", ")))")
        for p in params { w.line("self.\(identifier(p.name)) = \(identifier(p.name))") }
        w.close()
        w.line()
        w.line("/// Appends the entry's fields to a group being built.")
        w.open("public func write(into builder: inout FIXMessageBuilder)")
        for p in params {
            let name = identifier(p.name)
            if case .group = p.member {
                for s in writeStatements(p, value: name, target: "builder", inGroup: true) { w.line(s) }
            } else if p.required {
                for s in writeStatements(p, value: name, target: "builder", inGroup: true) { w.line(s) }
            } else {
                w.open("if let \(name)")
                for s in writeStatements(p, value: name, target: "builder", inGroup: true) { w.line(s) }
                w.close()
            }
        }
        w.close()
        w.close()
    }

    func messageFile(_ m: MessageDefinition) -> String {
        var w = Writer()
        w.text = fileHeader("\(m.name) (35=\(m.msgType)): typed read view and builder.")
        w.line("import FIXCore")
        w.line()
        w.line("extension \(namespace) {")
        w.level += 1
        w.line("/// A received \(m.name) (35=\(m.msgType)), read through the dictionary.")
        w.line("///")
        w.line("/// Required fields throw ``FIXFieldError`` when missing or malformed; optional ones are `nil` when")
        w.line("/// absent. Repeating groups read as arrays of entry views.")
        w.open("public struct \(m.name): Sendable")
        w.line("/// MsgType (35).")
        w.line("public static let msgType = \(swiftString(m.msgType))")
        w.line()
        w.line("/// The message.")
        w.line("public let message: FIXMessage")
        w.line("/// The message's top-level fields.")
        w.line("public let fields: FIXFieldScope")
        w.line()
        w.line("/// Wraps `message`; `nil` when its MsgType is not \(m.msgType).")
        w.open("public init?(_ message: FIXMessage, dictionary: DataDictionary = \(namespace).dictionary)")
        w.line("guard message.isMsgType(\(swiftString(m.msgType))) else { return nil }")
        w.line("self.message = message")
        w.line("self.fields = message.topLevel(in: dictionary)")
        w.close()
        w.line()
        w.line("/// The standard header.")
        w.line("public var header: \(namespace).StandardHeader { \(namespace).StandardHeader(fields: fields) }")
        w.line()
        writeAccessors(m.members, into: &w)
        writeEntryTypes(m.members, into: &w)
        w.line()
        writeBuilder(m, into: &w)
        w.close()
        w.level -= 1
        w.line("}")
        return w.text
    }

    func writeBuilder(_ m: MessageDefinition, into w: inout Writer) {
        let params = builderParameters(m.members)
        let required = params.filter(\.required)
        w.line("/// Builds a \(m.name): required fields in the initialiser, the others through setters.")
        w.line("/// The session layer adds the header.")
        w.open("public struct Builder: Sendable")
        w.line("/// The message being built.")
        w.line("public var fix: FIXMessageBuilder")
        w.line()
        w.line("/// Starts a \(m.name) with its required fields.")
        let args = required.map { "\($0.name): \($0.type)" }
        w.open("public init(\(args.joined(separator: ", ")))")
        w.line("fix = FIXMessageBuilder(msgType: \(swiftString(m.msgType)))")
        for p in required {
            for s in writeStatements(p, value: identifier(p.name), target: "fix", inGroup: false) { w.line(s) }
        }
        w.close()
        for p in params where !p.required {
            w.line()
            w.line("/// Sets \(describe(p)).")
            w.open("public mutating func set\(p.dictionaryName)(_ value: \(p.type))")
            if case .group(let g, _) = p.member {
                w.line("fix.removeGroup(\(g.countTag))")
            }
            for s in writeStatements(p, value: "value", target: "fix", inGroup: false) { w.line(s) }
            w.close()
        }
        w.close()
    }

    func headerFile() -> String {
        var w = Writer()
        w.text = fileHeader("The \(dictionary.beginString) standard header, read from any message.")
        w.line("import FIXCore")
        w.line()
        w.line("extension \(namespace) {")
        w.level += 1
        w.line("/// The standard header of a received message.")
        w.open("public struct StandardHeader: Sendable")
        w.line("/// The message's top-level fields.")
        w.line("public let fields: FIXFieldScope")
        w.line()
        w.line("/// Reads the header of a message's top level.")
        w.line("public init(fields: FIXFieldScope) {")
        w.line("    self.fields = fields")
        w.line("}")
        w.line()
        let members = dictionary.header.members.filter { ![8, 9, 35].contains($0.tag) }
        writeAccessors(members, into: &w)
        writeEntryTypes(members, into: &w)
        w.close()
        w.level -= 1
        w.line("}")
        return w.text
    }

    func run(xml: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: outputPath, withIntermediateDirectories: true)
        var files: [String: String] = [
            "\(namespace).swift": tagsFile(),
            "\(namespace)+Enums.swift": enumsFile(),
            "\(namespace)+Dictionary.swift": try dictionaryFile(xml: xml),
            "\(namespace)+StandardHeader.swift": headerFile(),
        ]
        for name in messageNames {
            guard let m = dictionary.message(named: name) else {
                throw CodegenError(description: "\(dictionaryPath) defines no message \(name)")
            }
            files["\(namespace)+\(name).swift"] = messageFile(m)
        }
        // Files of messages no longer generated would linger and still compile: remove them.
        for existing in (try? fm.contentsOfDirectory(atPath: outputPath)) ?? []
        where existing.hasPrefix(namespace) && existing.hasSuffix(".swift") && files[existing] == nil {
            try fm.removeItem(atPath: (outputPath as NSString).appendingPathComponent(existing))
        }
        for (name, text) in files.sorted(by: { $0.key < $1.key }) {
            let path = (outputPath as NSString).appendingPathComponent(name)
            if (try? String(contentsOfFile: path, encoding: .utf8)) == text { continue }
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            print("wrote \(path)")
        }
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: FIXCodegen <dictionary.xml> <output-directory>\n".utf8))
    exit(2)
}
do {
    let path = arguments[1]
    let xml = try String(contentsOfFile: path, encoding: .utf8)
    let dictionary = try DataDictionary(xml: Data(xml.utf8), source: path)
    try Generator(dictionary: dictionary, dictionaryPath: path, outputPath: arguments[2]).run(xml: xml)
} catch {
    FileHandle.standardError.write(Data("FIXCodegen: \(error)\n".utf8))
    exit(1)
}
