import FIXCore

/// The reports `copybridge report` prints.
public enum ReportKind: String, Sendable, Hashable, CaseIterable {
    case positions
    case pnl
    case providers
    case followers
    case fees
    case copies
}

/// How a report is written.
public enum ReportFormat: String, Sendable, Hashable, CaseIterable {
    /// Aligned columns for a terminal.
    case table
    /// One object: `report`, `from`, `to`, and `sections` mapping each section's name to its rows
    /// (objects keyed by column). Decimals are strings (exact), counts are numbers, absent is null.
    case json
    /// RFC 4180. A report with several sections writes each as its name on a line of its own, its
    /// header and rows, with a blank line between sections.
    case csv
}

/// One value in a report.
public enum ReportCell: Sendable, Hashable {
    case text(String)
    case decimal(FixedDecimal)
    case integer(Int)
    /// Not applicable or unknown: `-` in tables, empty in CSV, null in JSON.
    case none

    var isNumeric: Bool {
        switch self {
        case .decimal, .integer: return true
        case .text, .none: return false
        }
    }

    var plain: String {
        switch self {
        case .text(let text): return text
        case .decimal(let value): return value.description
        case .integer(let value): return String(value)
        case .none: return ""
        }
    }
}

/// One table of a report.
public struct ReportSection: Sendable, Hashable {
    public var name: String
    public var columns: [String]
    public var rows: [[ReportCell]]

    public init(name: String, columns: [String], rows: [[ReportCell]] = []) {
        self.name = name
        self.columns = columns
        self.rows = rows
    }

    /// The cell in `column` of row `row` (tests, consumers).
    public func cell(_ row: Int, _ column: String) -> ReportCell? {
        guard let index = columns.firstIndex(of: column), row < rows.count else { return nil }
        return rows[row][index]
    }

    /// The rows as column-keyed dictionaries.
    public var records: [[String: ReportCell]] {
        rows.map { row in Dictionary(uniqueKeysWithValues: zip(columns, row)) }
    }
}

/// A computed report, ready to render.
public struct Report: Sendable, Hashable {
    public var kind: ReportKind
    public var window: ReportWindow
    public var sections: [ReportSection]

    public func section(_ name: String) -> ReportSection? {
        sections.first { $0.name == name }
    }

    /// The report as text in `format`.
    public func rendered(_ format: ReportFormat) -> String {
        switch format {
        case .table: return renderTable()
        case .json: return renderJSON()
        case .csv: return renderCSV()
        }
    }

    private func renderTable() -> String {
        var out = "\(kind.rawValue) report, "
        out += window.from.map { "from \($0) " } ?? "from the start "
        out += "to \(window.to) (UTC, end exclusive)\n"
        for section in sections {
            out += "\n\(section.name)\n"
            if section.rows.isEmpty {
                out += "(none)\n"
                continue
            }
            let cells = section.rows.map { $0.map { $0 == .none ? "-" : $0.plain } }
            var widths = section.columns.map(\.count)
            for row in cells {
                for (i, text) in row.enumerated() { widths[i] = max(widths[i], text.count) }
            }
            let numeric = section.columns.indices.map { i in
                section.rows.contains { $0[i].isNumeric }
                    && section.rows.allSatisfy { $0[i].isNumeric || $0[i] == .none }
            }
            func line(_ texts: [String]) -> String {
                var parts: [String] = []
                for (i, text) in texts.enumerated() {
                    let pad = String(repeating: " ", count: widths[i] - text.count)
                    parts.append(numeric[i] ? pad + text : text + pad)
                }
                var text = parts.joined(separator: "  ")
                while text.last == " " { text.removeLast() }
                return text + "\n"
            }
            out += line(section.columns)
            out += line(widths.map { String(repeating: "-", count: $0) })
            for row in cells { out += line(row) }
        }
        return out
    }

    private func renderCSV() -> String {
        func field(_ text: String) -> String {
            if text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                var quoted = "\""
                for character in text {
                    if character == "\"" { quoted.append("\"") }
                    quoted.append(character)
                }
                return quoted + "\""
            }
            return text
        }
        var blocks: [String] = []
        for section in sections {
            var out = sections.count > 1 ? field(section.name) + "\r\n" : ""
            out += section.columns.map(field).joined(separator: ",") + "\r\n"
            for row in section.rows { out += row.map { field($0.plain) }.joined(separator: ",") + "\r\n" }
            blocks.append(out)
        }
        return blocks.joined(separator: "\r\n")
    }

    private func renderJSON() -> String {
        func string(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        }
        func value(_ cell: ReportCell) -> String {
            switch cell {
            case .text(let text): return string(text)
            case .decimal(let value): return string(value.description)
            case .integer(let value): return String(value)
            case .none: return "null"
            }
        }
        var out = "{\n"
        out += "  \"report\": \(string(kind.rawValue)),\n"
        out += "  \"from\": \(window.from.map { string($0.description) } ?? "null"),\n"
        out += "  \"to\": \(string(window.to.description)),\n"
        out += "  \"sections\": {"
        for (s, section) in sections.enumerated() {
            out += s == 0 ? "\n" : ",\n"
            out += "    \(string(section.name)): ["
            for (r, row) in section.rows.enumerated() {
                out += r == 0 ? "\n" : ",\n"
                let fields = zip(section.columns, row).map { "\(string($0)): \(value($1))" }
                out += "      {" + fields.joined(separator: ", ") + "}"
            }
            out += section.rows.isEmpty ? "]" : "\n    ]"
        }
        out += sections.isEmpty ? "}\n}\n" : "\n  }\n}\n"
        return out
    }
}
