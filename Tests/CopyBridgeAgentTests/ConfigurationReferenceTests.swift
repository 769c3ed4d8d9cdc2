import FIXSession
import Foundation
import Testing

@testable import CopyBridgeAgent

/// docs/CONFIGURATION.md is generated from the composed schema; these tests keep it so.
@Suite("Configuration reference")
struct ConfigurationReferenceTests {
    static let documentPath = repositoryRoot + "/docs/CONFIGURATION.md"

    @Test("docs/CONFIGURATION.md is the reference generated from the schema")
    func documentIsCurrent() throws {
        let document = try String(contentsOfFile: Self.documentPath, encoding: .utf8)
        // `print` adds the final newline the command writes.
        let generated = CopyBridgeSchema.referenceDocument() + "\n"
        let firstDifference = zip(
            document.split(separator: "\n", omittingEmptySubsequences: false),
            generated.split(separator: "\n", omittingEmptySubsequences: false)
        ).enumerated().first { $1.0 != $1.1 }
        // A Bool, so that a failure prints the message rather than both documents.
        let isCurrent = document == generated
        #expect(
            isCurrent,
            """
            docs/CONFIGURATION.md differs from the schema\
            \(firstDifference.map { " at line \($0.offset + 1): '\($0.element.0)' should be '\($0.element.1)'" } ?? " (length)"); \
            regenerate it with `\(CopyBridgeSchema.referenceCommand)`
            """)
    }

    @Test("the reference has a section per block kind with a row for every key allowed in it")
    func everyKeyOfEveryBlock() {
        let schema = CopyBridgeSchema.schema
        let reference = CopyBridgeSchema.referenceDocument()
        // A block's section runs to the next block's, or to the next `##` section after the last block.
        let sections = reference.components(separatedBy: "\n### ").dropFirst().map {
            $0.components(separatedBy: "\n## ")[0]
        }
        let kinds = schema.blockKinds.map(\.kind)
        #expect(sections.count == kinds.count)
        for kind in kinds {
            let section = sections.first { $0.hasPrefix("\(kind)\n") }
            let rows = Set(
                (section ?? "").split(separator: "\n").filter { $0.hasPrefix("| `") }.compactMap {
                    $0.dropFirst(3).split(separator: "`").first.map(String.init)
                })
            let expected = Set(schema.keys.filter { $0.blocks.contains(kind) }.map(\.name))
            #expect(section != nil, "no section for \(kind)")
            #expect(rows == expected, "\(kind): rows \(rows.symmetricDifference(expected).sorted()) disagree")
        }
        for block in ["[DEFAULT]", "[SESSION]", "[PROVIDER]", "[FOLLOWER]", "[SIMULATOR]", "[ADMIN]", "[AGENT]"] {
            #expect(reference.contains("\n### \(block)\n"), "no section for \(block)")
        }
    }
}
