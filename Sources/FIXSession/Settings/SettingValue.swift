import FIXCore
import Foundation

/// A validated setting value, typed by its key's ``SettingValueType``.
public indirect enum SettingValue: Sendable, Hashable {
    case string(String)
    case integer(Int)
    case bool(Bool)
    /// One word of an enumeration, in the schema's canonical spelling.
    case word(String)
    /// A time of day, with the zone written after it, if any (`09:00:00 America/New_York`, as
    /// QuickFIX/J allows).
    case timeOfDay(TimeOfDay, zone: TimeZone?)
    case weekday(Weekday)
    case timeZone(TimeZone)
    case list([SettingValue])
    case host(String)
    case port(Int)
    /// A path made absolute against the settings file's directory.
    case path(String)
    case decimal(FixedDecimal)
}

/// Parses a value that no built-in type describes, e.g. QuickFIX's `SSLProtocol` syntax.
public struct CustomSettingType: Sendable {
    /// What a good value looks like, completing "expected ...", e.g. `0, 3, 6 or 9`.
    public let expectation: String
    /// The short name the configuration reference shows.
    public let name: String
    /// The typed value, or `nil` when `raw` is malformed.
    public let parse: @Sendable (String) -> SettingValue?

    public init(name: String, expectation: String, parse: @escaping @Sendable (String) -> SettingValue?) {
        self.name = name
        self.expectation = expectation
        self.parse = parse
    }
}

/// The type of a setting: how its text is checked and what typed value it becomes.
public indirect enum SettingValueType: Sendable {
    /// Any non-empty text.
    case string
    /// A short name of letters, digits, `.`, `_` and `-` (at most 64), for names other blocks refer to.
    case name
    /// A decimal integer in a range.
    case integer(ClosedRange<Int>)
    /// `Y` or `N`.
    case bool
    /// One of a fixed set of words, matched case-insensitively.
    case word([String])
    /// `HH:MM:SS`, optionally followed by an IANA time zone name.
    case timeOfDay
    /// A day name: `Monday`, `Mon`, `mo`...
    case weekday
    /// An IANA time zone name (`America/New_York`), `UTC`, or `Local` for the host's zone.
    case timeZone
    /// Comma-separated values of one type.
    case list(SettingValueType)
    /// A host name or an IP address.
    case host
    /// A TCP port; zero lets the operating system pick one (useful for acceptors in tests).
    case port(allowsZero: Bool)
    /// A file or directory path, relative to the settings file's directory unless absolute.
    case path
    /// The path of a file that must exist when the file is loaded.
    case existingFile
    /// A decimal number, optionally bounded.
    case decimal(ClosedRange<FixedDecimal>?)
    /// A module-defined syntax.
    case custom(CustomSettingType)

    /// Completes "expected ..." in error messages.
    public var expectation: String {
        switch self {
        case .string: return "a non-empty value"
        case .name: return "a name of at most 64 letters, digits, '.', '_' or '-'"
        case .integer(let range): return "an integer from \(range.lowerBound) to \(range.upperBound)"
        case .bool: return "Y or N"
        case .word(let words): return Self.alternatives(words)
        case .timeOfDay: return "a time HH:MM:SS, optionally followed by a time zone name"
        case .weekday: return "a day name (Monday, Mon, ...)"
        case .timeZone: return "an IANA time zone name (e.g. America/New_York), UTC or Local"
        case .list(let element): return "a comma-separated list of \(element.expectation)"
        case .host: return "a host name or IP address"
        case .port(let allowsZero): return "a TCP port from \(allowsZero ? 0 : 1) to 65535"
        case .path: return "a path"
        case .existingFile: return "the path of an existing file"
        case .decimal(let range):
            return range.map { "a decimal number from \($0.lowerBound) to \($0.upperBound)" } ?? "a decimal number"
        case .custom(let custom): return custom.expectation
        }
    }

    /// A short type name for the configuration reference, e.g. `int 1..3600`, `Y/N`.
    public var referenceName: String {
        switch self {
        case .string: return "string"
        case .name: return "name"
        case .integer(let range): return "int \(range.lowerBound)..\(range.upperBound)"
        case .bool: return "Y/N"
        case .word(let words): return words.joined(separator: "|")
        case .timeOfDay: return "HH:MM:SS"
        case .weekday: return "day"
        case .timeZone: return "time zone"
        case .list(let element): return "list of \(element.referenceName)"
        case .host: return "host"
        case .port: return "port"
        case .path: return "path"
        case .existingFile: return "file"
        case .decimal(let range): return range.map { "decimal \($0.lowerBound)..\($0.upperBound)" } ?? "decimal"
        case .custom(let custom): return custom.name
        }
    }

    static func alternatives(_ words: [String]) -> String {
        switch words.count {
        case 0: return "nothing"
        case 1: return words[0]
        default: return words.dropLast().joined(separator: ", ") + " or " + words.last!
        }
    }
}

/// What a value is checked against besides its own text.
struct ValueContext {
    /// Relative paths are resolved against this directory.
    var baseDirectory: String
    var fileExists: @Sendable (String) -> Bool
}

/// Why a value was refused: the expectation, or a more precise reason.
enum ValueProblem: Error {
    case malformed
    case reason(String)
}

extension SettingValueType {
    /// Checks `raw` (already trimmed) and produces its typed value.
    func parse(_ raw: String, context: ValueContext) -> Result<SettingValue, ValueProblem> {
        switch self {
        case .string:
            return raw.isEmpty ? .failure(.malformed) : .success(.string(raw))
        case .name:
            let ok =
                !raw.isEmpty && raw.utf8.count <= 64
                && raw.unicodeScalars.allSatisfy {
                    $0.isASCII && (Self.isAlphanumeric($0) || "._-".unicodeScalars.contains($0))
                }
            return ok ? .success(.string(raw)) : .failure(.malformed)
        case .integer(let range):
            guard let v = Self.parseInt(raw), range.contains(v) else { return .failure(.malformed) }
            return .success(.integer(v))
        case .bool:
            switch raw.uppercased() {
            case "Y": return .success(.bool(true))
            case "N": return .success(.bool(false))
            default: return .failure(.malformed)
            }
        case .word(let words):
            guard let word = words.first(where: { $0.caseInsensitiveCompare(raw) == .orderedSame }) else {
                return .failure(.malformed)
            }
            return .success(.word(word))
        case .timeOfDay:
            let parts = raw.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = parts.first, let time = TimeOfDay(parsing: first) else { return .failure(.malformed) }
            guard parts.count == 2 else { return .success(.timeOfDay(time, zone: nil)) }
            guard let zone = Self.timeZone(named: parts[1]) else {
                return .failure(.reason("unknown time zone '\(parts[1])'"))
            }
            return .success(.timeOfDay(time, zone: zone))
        case .weekday:
            return Weekday(parsing: raw).map { .success(.weekday($0)) } ?? .failure(.malformed)
        case .timeZone:
            return Self.timeZone(named: raw).map { .success(.timeZone($0)) } ?? .failure(.malformed)
        case .list(let element):
            var values: [SettingValue] = []
            for item in raw.split(separator: ",", omittingEmptySubsequences: false) {
                let trimmed = item.trimmingCharacters(in: .whitespaces)
                switch element.parse(trimmed, context: context) {
                case .success(let v): values.append(v)
                case .failure(.malformed): return .failure(.reason("'\(trimmed)' is not \(element.expectation)"))
                case .failure(let problem): return .failure(problem)
                }
            }
            return .success(.list(values))
        case .host:
            let ok =
                !raw.isEmpty && raw.utf8.count <= 253
                && raw.unicodeScalars.allSatisfy {
                    $0.isASCII && (Self.isAlphanumeric($0) || ".-_:%[]".unicodeScalars.contains($0))
                }
            return ok ? .success(.host(raw)) : .failure(.malformed)
        case .port(let allowsZero):
            guard let v = Self.parseInt(raw), (allowsZero ? 0 : 1)...65535 ~= v else { return .failure(.malformed) }
            return .success(.port(v))
        case .path:
            return raw.isEmpty
                ? .failure(.malformed) : .success(.path(Self.resolve(raw, against: context.baseDirectory)))
        case .existingFile:
            guard !raw.isEmpty else { return .failure(.malformed) }
            let path = Self.resolve(raw, against: context.baseDirectory)
            guard context.fileExists(path) else { return .failure(.reason("file '\(path)' does not exist")) }
            return .success(.path(path))
        case .decimal(let range):
            guard let v = FixedDecimal(raw), range.map({ $0.contains(v) }) ?? true else { return .failure(.malformed) }
            return .success(.decimal(v))
        case .custom(let custom):
            return custom.parse(raw).map { .success($0) } ?? .failure(.malformed)
        }
    }

    private static func isAlphanumeric(_ s: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s)
    }

    /// Decimal digits with an optional minus sign; no `+`, spaces or leading zeros beyond what Int allows.
    static func parseInt(_ raw: String) -> Int? {
        guard !raw.isEmpty, raw.utf8.count <= 19 else { return nil }
        return Int(raw)
    }

    static func timeZone(named name: String) -> TimeZone? {
        if name.caseInsensitiveCompare("Local") == .orderedSame { return TimeZone.current }
        if name.caseInsensitiveCompare("UTC") == .orderedSame { return SessionSchedule.utc }
        return TimeZone(identifier: name)
    }

    static func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path).standardizedFileURL.path }
        return URL(fileURLWithPath: base, isDirectory: true).appendingPathComponent(path).standardizedFileURL.path
    }
}
