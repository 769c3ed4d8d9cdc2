import FIXCore
import Foundation

/// One validated `Key=Value`, with where it was written.
public struct SettingsEntry: Sendable, CustomStringConvertible {
    /// The canonical spelling, with the number of a numbered variant: `SocketConnectHost2`.
    public let key: String
    /// The registered key: `SocketConnectHost`.
    public let baseKey: String
    /// The number of a numbered variant (`2` in `SocketConnectHost2`).
    public let number: Int?
    /// The text as written, trimmed and without a trailing comment.
    public let rawValue: String
    public let value: SettingValue
    public let location: SourceLocation
    public let isSecret: Bool
    /// Whether the entry was written in the block this one inherits from (`[DEFAULT]`).
    public let isInherited: Bool

    /// `Key=Value`, with secrets masked.
    public var description: String {
        "\(key)=\(displayValue)"
    }

    /// The value as written, or `****` for a secret.
    public var displayValue: String {
        isSecret ? SecretString.mask : rawValue
    }

    func inherited() -> SettingsEntry {
        SettingsEntry(
            key: key, baseKey: baseKey, number: number, rawValue: rawValue, value: value, location: location,
            isSecret: isSecret, isInherited: true)
    }
}

/// One validated block of a settings file, with typed access to its values and their defaults.
///
/// Blocks of kinds other than `[SESSION]` reach their modules in this form through
/// ``CopyBridgeConfiguration/blocks(of:)``; every entry keeps its file and line so that the module can
/// report a problem precisely (``diagnostic(_:for:_:)``).
///
/// The typed accessors (``string(_:)``, ``integer(_:)``...) return the value written, else the key's
/// default, else `nil`. Asking for a key with an accessor of another type is a programming error.
public struct SettingsBlock: Sendable, CustomStringConvertible {
    public let kind: SettingsBlockKind
    /// The location of the `[NAME]` header.
    public let location: SourceLocation
    /// The entries in file order; for an inheriting kind, the inherited entries not overridden follow.
    public let entries: [SettingsEntry]
    /// Parsed defaults by lower-cased key name.
    let defaults: [String: SettingValue]
    /// Lower-cased keys written with a bad value (already reported): rules about them being absent
    /// must not fire.
    let invalidKeys: Set<String>

    init(
        kind: SettingsBlockKind, location: SourceLocation, entries: [SettingsEntry], defaults: [String: SettingValue],
        invalidKeys: Set<String>
    ) {
        self.kind = kind
        self.location = location
        self.entries = entries
        self.defaults = defaults
        self.invalidKeys = invalidKeys
    }

    /// Whether `key` was written with a value that was refused (and reported).
    public func isInvalid(_ key: String) -> Bool {
        invalidKeys.contains(key.lowercased())
    }

    /// The entry written for `key` (case-insensitive; include the number of a numbered variant).
    public subscript(key: String) -> SettingsEntry? {
        entries.first { $0.key.caseInsensitiveCompare(key) == .orderedSame }
    }

    /// Whether `key` was written (here or in the block this one inherits from).
    public func contains(_ key: String) -> Bool { self[key] != nil }

    /// The value written for `key`, else its default.
    public func value(_ key: String) -> SettingValue? {
        self[key]?.value ?? defaults[key.lowercased()]
    }

    /// The numbers written for a numbered key, ascending: `[1, 2]` for `SocketConnectHost1`, `...2`.
    public func numbers(of baseKey: String) -> [Int] {
        entries.filter { $0.baseKey.caseInsensitiveCompare(baseKey) == .orderedSame }.compactMap(\.number).sorted()
    }

    /// Where `key` was written, else where the block starts: the place to report a problem with it.
    public func location(of key: String) -> SourceLocation {
        self[key]?.location ?? location
    }

    /// A diagnostic about `key` (or the whole block when `nil`), located where the key was written.
    public func diagnostic(
        _ severity: SettingsDiagnostic.Severity = .error, for key: String?, _ message: String
    )
        -> SettingsDiagnostic
    {
        SettingsDiagnostic(severity, at: key.map { location(of: $0) } ?? location, key: key, message)
    }

    public func string(_ key: String) -> String? {
        guard let v = value(key) else { return nil }
        switch v {
        case .string(let s), .word(let s), .host(let s), .path(let s): return s
        default: preconditionFailure("setting \(key) is not a string")
        }
    }

    public func integer(_ key: String) -> Int? {
        guard let v = value(key) else { return nil }
        switch v {
        case .integer(let i), .port(let i): return i
        default: preconditionFailure("setting \(key) is not an integer")
        }
    }

    public func bool(_ key: String) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { preconditionFailure("setting \(key) is not a bool") }
        return b
    }

    public func decimal(_ key: String) -> FixedDecimal? {
        guard let v = value(key) else { return nil }
        guard case .decimal(let d) = v else { preconditionFailure("setting \(key) is not a decimal") }
        return d
    }

    public func timeOfDay(_ key: String) -> (time: TimeOfDay, zone: TimeZone?)? {
        guard let v = value(key) else { return nil }
        guard case .timeOfDay(let t, let zone) = v else { preconditionFailure("setting \(key) is not a time") }
        return (t, zone)
    }

    public func weekday(_ key: String) -> Weekday? {
        guard let v = value(key) else { return nil }
        guard case .weekday(let d) = v else { preconditionFailure("setting \(key) is not a day") }
        return d
    }

    public func timeZone(_ key: String) -> TimeZone? {
        guard let v = value(key) else { return nil }
        guard case .timeZone(let z) = v else { preconditionFailure("setting \(key) is not a time zone") }
        return z
    }

    public func list(_ key: String) -> [SettingValue]? {
        guard let v = value(key) else { return nil }
        guard case .list(let l) = v else { preconditionFailure("setting \(key) is not a list") }
        return l
    }

    /// `[KIND] at file:line` and its entries, secrets masked.
    public var description: String {
        "\(kind) at \(location): " + entries.map(\.description).joined(separator: ", ")
    }
}
