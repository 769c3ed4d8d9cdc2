/// A `Key=Value` line as written, before the schema is consulted.
struct RawSettingsEntry {
    var key: String
    var value: String
    var location: SourceLocation
}

/// A `[NAME]` header and the entries under it, as written.
struct RawSettingsBlock {
    var name: String
    var location: SourceLocation
    var entries: [RawSettingsEntry] = []
}

/// Splits a settings file into blocks and entries with QuickFIX's syntax: `[NAME]` headers, `Key=Value`
/// lines, whole-line `#` comments, blank lines, whitespace trimmed around keys and values.
///
/// A ` #` (whitespace, then `#`) after a value or a header starts a trailing comment; a `#` with no
/// whitespace before it belongs to the value, so `Password=a#b` keeps its `#`.
enum SettingsLexer {
    static func lex(_ text: String, file: String, diagnostics: inout DiagnosticCollector) -> [RawSettingsBlock] {
        var blocks: [RawSettingsBlock] = []
        var lineNumber = 0
        // Swift reads "\r\n" as one character: splitting on both reads files written on Windows too.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = Substring(rawLine)
            if lineNumber == 1, line.hasPrefix("\u{FEFF}") { line = line.dropFirst() }
            let trimmed = trim(line)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let location = SourceLocation(file: file, line: lineNumber)

            if trimmed.hasPrefix("[") {
                let header = trim(stripTrailingComment(trimmed))
                guard header.hasSuffix("]"), header.count > 2 else {
                    diagnostics.error(location, "malformed block header '\(trimmed)' (expected [NAME])")
                    continue
                }
                let name = trim(header.dropFirst().dropLast())
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    diagnostics.error(location, "malformed block header '\(trimmed)' (expected [NAME])")
                    continue
                }
                blocks.append(RawSettingsBlock(name: String(name), location: location))
                continue
            }

            guard let equals = trimmed.firstIndex(of: "=") else {
                diagnostics.error(location, "expected Key=Value, a [BLOCK] header or a # comment, found '\(trimmed)'")
                continue
            }
            let key = trim(trimmed[..<equals])
            let value = trim(stripTrailingComment(trimmed[trimmed.index(after: equals)...]))
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") })
            else {
                diagnostics.error(location, "malformed key '\(key)' (expected letters and digits before '=')")
                continue
            }
            guard !blocks.isEmpty else {
                diagnostics.error(
                    location, key: String(key), "'\(key)' is outside any block (add [DEFAULT] or [SESSION] above it)")
                continue
            }
            blocks[blocks.count - 1].entries.append(
                RawSettingsEntry(key: String(key), value: String(value), location: location))
        }
        return blocks
    }

    /// Cuts the text at the first `#` that follows whitespace.
    static func stripTrailingComment(_ text: Substring) -> Substring {
        var previousIsSpace = false
        for i in text.indices {
            let c = text[i]
            if c == "#" && previousIsSpace { return text[..<i] }
            previousIsSpace = c == " " || c == "\t"
        }
        return text
    }

    static func trim(_ text: Substring) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) })
        else { return text[text.endIndex...] }
        return text[first...last]
    }
}
