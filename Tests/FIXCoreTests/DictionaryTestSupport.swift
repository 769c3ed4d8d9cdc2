import Foundation
import NIOCore

@testable import FIXCore

/// The repository root, found from this file's path (tests run from any directory).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Bytes of a file under the repository root.
func repositoryFile(_ path: String) throws -> Data {
    try Data(contentsOf: repositoryRoot.appendingPathComponent(path))
}

/// Specs/FIX44.xml, loaded once for the whole suite.
let fix44: DataDictionary = {
    do {
        return try DataDictionary(contentsOfFile: repositoryRoot.appendingPathComponent("Specs/FIX44.xml").path)
    } catch {
        fatalError("Specs/FIX44.xml does not load: \(error)")
    }
}()

/// Builds a message from `|`-delimited fields (no 8, 9, 10): BodyLength and CheckSum are computed,
/// the fields keep exactly the given order and bytes.
func rawMessage(_ fields: String, beginString: String = "FIX.4.4") -> FIXMessage {
    let body = Array(fields.utf8.map { $0 == UInt8(ascii: "|") ? SOH : $0 }) + [SOH]
    var frame = Array("8=\(beginString)\u{1}9=\(body.count)\u{1}".utf8) + body
    let sum = frame.reduce(0) { ($0 + Int($1)) & 0xFF }
    frame += Array(String(format: "10=%03d\u{1}", sum).utf8)
    do {
        return try FIXMessage(bytes: frame, configuration: fix44.decoderConfiguration())
    } catch {
        fatalError("test message does not frame: \(error) \(fields)")
    }
}

/// A standard header for test messages.
func header(_ msgType: String, seq: Int = 2) -> String {
    "35=\(msgType)|34=\(seq)|49=BRK|52=20261126-09:30:00.123|56=CB"
}
