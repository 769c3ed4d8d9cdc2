import Foundation

/// A fresh directory under the system's temporary folder, named `<prefix>-<8 hex digits>` so a
/// leftover one says which test made it. The caller removes it, normally with
/// `defer { try? FileManager.default.removeItem(at: dir) }` right after this call, so it goes
/// whether the test passes or fails and only once everything the test started on it has stopped.
public func makeTemporaryDirectory(_ prefix: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
        "\(prefix)-\(UUID().uuidString.prefix(8))", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
