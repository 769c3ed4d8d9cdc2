/// Where a setting, a block or a problem is in a settings file.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The file's path as the user gave it.
    public let file: String
    /// 1-based line; `nil` for problems with the file as a whole.
    public let line: Int?

    public init(file: String, line: Int?) {
        self.file = file
        self.line = line
    }

    /// `file:line`, or `file` without a line.
    public var description: String {
        line.map { "\(file):\($0)" } ?? file
    }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line ?? 0) < (rhs.file, rhs.line ?? 0)
    }
}

/// One problem found in a settings file.
public struct SettingsDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: Sendable, Hashable {
        /// The file cannot be used.
        case error
        /// The file is usable, but something in it does not do what its author may expect.
        case warning
    }

    public let severity: Severity
    public let location: SourceLocation
    /// The key concerned, in its canonical spelling, when there is one.
    public let key: String?
    /// A sentence without the location, e.g. `unknown key 'HeartbeatInt' in [SESSION] (did you mean 'HeartBtInt'?)`.
    public let message: String

    public init(_ severity: Severity = .error, at location: SourceLocation, key: String? = nil, _ message: String) {
        self.severity = severity
        self.location = location
        self.key = key
        self.message = message
    }

    /// `file:line: message`, or `file:line: warning: message`.
    public var description: String {
        switch severity {
        case .error: return "\(location): \(message)"
        case .warning: return "\(location): warning: \(message)"
        }
    }
}

/// A settings file that cannot be used, with every problem found in it.
public struct SettingsError: Error, Sendable, CustomStringConvertible {
    /// All diagnostics, errors and warnings, in file order.
    public let diagnostics: [SettingsDiagnostic]

    public init(diagnostics: [SettingsDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var errors: [SettingsDiagnostic] { diagnostics.filter { $0.severity == .error } }

    /// One diagnostic per line.
    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}

/// Collects diagnostics while a file is checked, so that every problem is reported, not just the first.
struct DiagnosticCollector {
    private(set) var diagnostics: [SettingsDiagnostic] = []

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    mutating func error(_ location: SourceLocation, key: String? = nil, _ message: String) {
        diagnostics.append(SettingsDiagnostic(.error, at: location, key: key, message))
    }

    mutating func warning(_ location: SourceLocation, key: String? = nil, _ message: String) {
        diagnostics.append(SettingsDiagnostic(.warning, at: location, key: key, message))
    }

    mutating func append(contentsOf other: [SettingsDiagnostic]) {
        diagnostics.append(contentsOf: other)
    }

    /// Diagnostics in file order; problems on one line keep the order they were found in.
    var sorted: [SettingsDiagnostic] {
        diagnostics.enumerated().sorted { a, b in
            a.element.location == b.element.location ? a.offset < b.offset : a.element.location < b.element.location
        }.map(\.element)
    }
}

/// Picks the candidate nearest to a misspelt name (case-insensitive edit distance), if any is near enough
/// to be a plausible typo.
func nearestName(to name: String, among candidates: some Sequence<String>) -> String? {
    let target = Array(name.lowercased().utf8)
    var best: (name: String, distance: Int)?
    for candidate in candidates {
        let distance = editDistance(target, Array(candidate.lowercased().utf8))
        // A third of the length, at least 2: catches dropped or doubled letters and swapped words
        // without proposing unrelated short keys.
        let limit = max(2, min(target.count, candidate.utf8.count) / 3)
        guard distance <= limit else { continue }
        if best == nil || distance < best!.distance { best = (candidate, distance) }
    }
    return best?.name
}

/// Levenshtein distance, with two rows.
func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
