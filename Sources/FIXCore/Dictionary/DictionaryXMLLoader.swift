import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An element of the dictionary file, kept only while the dictionary is being resolved.
final class DictionaryXMLElement {
    let name: String
    let attributes: [String: String]
    let line: Int
    var children: [DictionaryXMLElement] = []

    init(name: String, attributes: [String: String], line: Int) {
        self.name = name
        self.attributes = attributes
        self.line = line
    }
}

/// Collects the element tree; the dictionary format carries everything in attributes, so text is ignored.
private final class TreeCollector: NSObject, XMLParserDelegate {
    var stack: [DictionaryXMLElement] = []
    var root: DictionaryXMLElement?
    /// The first structural problem the parser let through (it recovers from some).
    var problem: (line: Int, text: String)?

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        let node = DictionaryXMLElement(name: elementName, attributes: attributeDict, line: parser.lineNumber)
        if let parent = stack.last {
            parent.children.append(node)
        } else if root == nil {
            root = node
        }
        stack.append(node)
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
    ) {
        guard let open = stack.last else {
            if problem == nil { problem = (parser.lineNumber, "</\(elementName)> closes nothing") }
            return
        }
        if open.name != elementName && problem == nil {
            problem = (parser.lineNumber, "</\(elementName)> closes <\(open.name)> of line \(open.line)")
        }
        stack.removeLast()
    }
}

/// What the XML says once every name is resolved to a number and every component is flattened.
struct ResolvedDictionary {
    var beginString: String
    var fields: [FieldDefinition]
    var header: SectionDefinition
    var trailer: SectionDefinition
    var messages: [MessageDefinition]
}

/// Reads the QuickFIX XML format: `<fix>` with `<header>`, `<trailer>`, `<messages>`,
/// `<components>` and `<fields>`, components and groups nested to any depth.
struct DictionaryXMLLoader {
    let file: String
    private var fieldsByName: [String: FieldDefinition] = [:]
    private var componentNodes: [String: DictionaryXMLElement] = [:]
    private var resolvedComponents: [String: [MemberDefinition]] = [:]
    private var componentsInProgress: [String] = []

    init(file: String) {
        self.file = file
    }

    private func fail(_ problem: DataDictionaryError.Problem, line: Int? = nil) -> DataDictionaryError {
        DataDictionaryError(file: file, line: line, problem: problem)
    }

    static func parseTree(_ data: Data, file: String) throws(DataDictionaryError) -> DictionaryXMLElement {
        let parser = XMLParser(data: data)
        let collector = TreeCollector()
        parser.delegate = collector
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        if !parser.parse() {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "parse failed"
            throw DataDictionaryError(file: file, line: parser.lineNumber, problem: .xmlSyntax(reason))
        }
        if let problem = collector.problem {
            throw DataDictionaryError(file: file, line: problem.line, problem: .xmlSyntax(problem.text))
        }
        if let open = collector.stack.last {
            throw DataDictionaryError(
                file: file, line: open.line, problem: .xmlSyntax("<\(open.name)> is never closed"))
        }
        guard let root = collector.root else {
            throw DataDictionaryError(file: file, problem: .notADictionary("the document is empty"))
        }
        return root
    }

    mutating func resolve(_ root: DictionaryXMLElement) throws(DataDictionaryError) -> ResolvedDictionary {
        guard root.name == "fix" else {
            throw fail(.notADictionary("the root element is <\(root.name)>, not <fix>"), line: root.line)
        }
        let type = root.attributes["type"] ?? "FIX"
        guard let major = root.attributes["major"] else {
            throw fail(.missingAttribute(element: "fix", attribute: "major"), line: root.line)
        }
        guard let minor = root.attributes["minor"] else {
            throw fail(.missingAttribute(element: "fix", attribute: "minor"), line: root.line)
        }
        let beginString = "\(type).\(major).\(minor)"

        func section(_ name: String) -> DictionaryXMLElement? { root.children.first { $0.name == name } }
        guard let fieldsNode = section("fields") else { throw fail(.notADictionary("no <fields> section")) }
        let fields = try readFields(fieldsNode)
        if let components = section("components") {
            for c in components.children where c.name == "component" {
                guard let name = c.attributes["name"] else {
                    throw fail(.missingAttribute(element: "component", attribute: "name"), line: c.line)
                }
                if componentNodes[name] != nil { throw fail(.duplicateComponent(name), line: c.line) }
                componentNodes[name] = c
            }
        }
        let header = try section("header").map { node throws(DataDictionaryError) in
            SectionDefinition(members: try scopeMembers(node.children, scope: "the header"))
        }
        guard let header else { throw fail(.notADictionary("no <header> section")) }
        let trailer = try section("trailer").map { node throws(DataDictionaryError) in
            SectionDefinition(members: try scopeMembers(node.children, scope: "the trailer"))
        }
        guard let trailer else { throw fail(.notADictionary("no <trailer> section")) }
        var messages: [MessageDefinition] = []
        var seenTypes: Set<String> = []
        for m in section("messages")?.children ?? [] where m.name == "message" {
            guard let name = m.attributes["name"] else {
                throw fail(.missingAttribute(element: "message", attribute: "name"), line: m.line)
            }
            guard let msgType = m.attributes["msgtype"] else {
                throw fail(.missingAttribute(element: "message", attribute: "msgtype"), line: m.line)
            }
            guard seenTypes.insert(msgType).inserted else {
                throw fail(.duplicateMessage(msgType: msgType), line: m.line)
            }
            let members = try scopeMembers(m.children, scope: "message \(name)")
            messages.append(
                MessageDefinition(
                    name: name, msgType: msgType, category: m.attributes["msgcat"] ?? "app", members: members))
        }
        // Components nobody uses must still be well-formed: a broker's file with a typo there is broken.
        for name in componentNodes.keys.sorted() {
            _ = try component(name, referencedBy: "the components section", line: componentNodes[name]?.line)
        }
        return ResolvedDictionary(
            beginString: beginString, fields: fields, header: header, trailer: trailer, messages: messages)
    }

    private mutating func readFields(_ node: DictionaryXMLElement) throws(DataDictionaryError) -> [FieldDefinition] {
        var byNumber: [Int: FieldDefinition] = [:]
        for f in node.children where f.name == "field" {
            guard let name = f.attributes["name"] else {
                throw fail(.missingAttribute(element: "field", attribute: "name"), line: f.line)
            }
            guard let numberText = f.attributes["number"] else {
                throw fail(.missingAttribute(element: "field", attribute: "number"), line: f.line)
            }
            guard let number = Int(numberText), number > 0, number < 1 << 24 else {
                throw fail(.badFieldNumber(name: name, number: numberText), line: f.line)
            }
            guard let typeName = f.attributes["type"] else {
                throw fail(.missingAttribute(element: "field", attribute: "type"), line: f.line)
            }
            guard let type = FIXFieldType(dictionaryName: typeName) else {
                throw fail(.badType(field: name, type: typeName), line: f.line)
            }
            var values: [FieldValue] = []
            for v in f.children where v.name == "value" {
                guard let value = v.attributes["enum"] else {
                    throw fail(.missingAttribute(element: "value", attribute: "enum"), line: v.line)
                }
                values.append(FieldValue(value: value, description: v.attributes["description"] ?? value))
            }
            if let other = byNumber[number] {
                throw fail(.duplicateFieldNumber(number, names: [other.name, name]), line: f.line)
            }
            if fieldsByName[name] != nil { throw fail(.duplicateFieldName(name), line: f.line) }
            let def = FieldDefinition(tag: number, name: name, type: type, values: values)
            byNumber[number] = def
            fieldsByName[name] = def
        }
        return byNumber.values.sorted { $0.tag < $1.tag }
    }

    /// The members of a message, header, trailer or group entry, with a check that no field repeats.
    private mutating func scopeMembers(
        _ nodes: [DictionaryXMLElement], scope: String
    ) throws(DataDictionaryError) -> [MemberDefinition] {
        let members = try members(nodes, referencedBy: scope)
        var seen: Set<Int> = []
        for m in members where !seen.insert(m.tag).inserted {
            let name = fieldsByName.values.first { $0.tag == m.tag }?.name ?? "\(m.tag)"
            throw fail(.duplicateMember(field: name, in: scope), line: nodes.first?.line)
        }
        return members
    }

    private mutating func members(
        _ nodes: [DictionaryXMLElement], referencedBy owner: String
    ) throws(DataDictionaryError) -> [MemberDefinition] {
        var out: [MemberDefinition] = []
        for node in nodes {
            guard let name = node.attributes["name"] else {
                throw fail(.missingAttribute(element: node.name, attribute: "name"), line: node.line)
            }
            let required = node.attributes["required"]?.uppercased() == "Y"
            switch node.name {
            case "field":
                guard let def = fieldsByName[name] else {
                    throw fail(.undefinedField(name: name, referencedBy: owner), line: node.line)
                }
                out.append(.field(tag: def.tag, required: required))
            case "group":
                guard let def = fieldsByName[name] else {
                    throw fail(.undefinedField(name: name, referencedBy: owner), line: node.line)
                }
                let entry = try scopeMembers(node.children, scope: "group \(name)")
                guard !entry.isEmpty else { throw fail(.emptyGroup(name), line: node.line) }
                out.append(.group(GroupDefinition(countTag: def.tag, name: name, members: entry), required: required))
            case "component":
                let inner = try component(name, referencedBy: owner, line: node.line)
                for m in inner {
                    switch m {
                    case .field(let tag, let r): out.append(.field(tag: tag, required: r && required))
                    case .group(let g, let r): out.append(.group(g, required: r && required))
                    }
                }
            default:
                continue
            }
        }
        return out
    }

    private mutating func component(
        _ name: String, referencedBy owner: String, line: Int?
    ) throws(DataDictionaryError) -> [MemberDefinition] {
        if let done = resolvedComponents[name] { return done }
        guard let node = componentNodes[name] else {
            throw fail(.undefinedComponent(name: name, referencedBy: owner), line: line)
        }
        if componentsInProgress.contains(name) { throw fail(.recursiveComponent(name), line: node.line) }
        componentsInProgress.append(name)
        let resolved = try members(node.children, referencedBy: "component \(name)")
        componentsInProgress.removeLast()
        resolvedComponents[name] = resolved
        return resolved
    }
}
