import Foundation

/// The kind of a `[BLOCK]` in a settings file, by its upper-case name.
///
/// Modules add their own kinds (`static let` in an extension) and register them in their schema.
public struct SettingsBlockKind: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The upper-case name written between the brackets.
    public let name: String

    public init(_ name: String) {
        self.name = name.uppercased()
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// Values every block of an inheriting kind (``session``) starts from.
    public static let `default`: SettingsBlockKind = "DEFAULT"
    /// A FIX session, with QuickFIX's keys.
    public static let session: SettingsBlockKind = "SESSION"
    /// A signal provider whose fills are copied (keys owned by CopyEngine).
    public static let provider: SettingsBlockKind = "PROVIDER"
    /// A follower account and how it copies (keys owned by CopyEngine).
    public static let follower: SettingsBlockKind = "FOLLOWER"
    /// A broker played by the bundled simulator (keys owned by BrokerSimulator).
    public static let simulator: SettingsBlockKind = "SIMULATOR"

    /// `[NAME]`.
    public var description: String { "[\(name)]" }

    public static func < (lhs: SettingsBlockKind, rhs: SettingsBlockKind) -> Bool { lhs.name < rhs.name }
}

/// One key a module understands: where it may be written, its type, default and documentation.
public struct SettingKey: Sendable {
    /// What CopyBridge does with a key it recognises.
    public enum Status: Sendable {
        /// The key does what its documentation says.
        case supported
        /// A QuickFIX key CopyBridge accepts but does not act on: a warning, the file stays valid.
        case ignored(String)
        /// A QuickFIX key whose behaviour CopyBridge lacks: an error, because ignoring it would change
        /// what the session does.
        case unsupported(String)
    }

    /// The canonical spelling. Keys are matched case-insensitively, as QuickFIX C++ does.
    public let name: String
    /// The block kinds the key may be written in (a key of an inheriting kind may also be written in
    /// the kind it inherits from, e.g. `[DEFAULT]`).
    public let blocks: Set<SettingsBlockKind>
    public let type: SettingValueType
    /// Whether every block of these kinds must have the key (after inheritance).
    public let isRequired: Bool
    /// The default as it would be written in the file; `nil` when there is none or it is derived
    /// (``doc`` then says how).
    public let defaultValue: String?
    /// One line for the configuration reference.
    public let doc: String
    /// Secrets (passwords) are never printed: descriptions and diagnostics mask them.
    public let isSecret: Bool
    /// Whether numbered variants are accepted too: `SocketConnectHost1`, `SocketConnectHost2`, ...
    public let isNumbered: Bool
    public let status: Status

    public init(
        _ name: String, in blocks: Set<SettingsBlockKind>, _ type: SettingValueType, required: Bool = false,
        default defaultValue: String? = nil, secret: Bool = false, numbered: Bool = false, status: Status = .supported,
        doc: String
    ) {
        self.name = name
        self.blocks = blocks
        self.type = type
        self.isRequired = required
        self.defaultValue = defaultValue
        self.doc = doc
        self.isSecret = secret
        self.isNumbered = numbered
        self.status = status
    }
}

/// The keys and block kinds a settings file may contain, composed from every module's contribution.
///
/// A module publishes a schema (``SessionSettings/schema`` for sessions); the command line composes them
/// with ``composed(_:)`` and loads the file with ``CopyBridgeConfiguration/load(path:schema:)``.
public struct SettingsSchema: Sendable {
    /// A block kind and how its blocks behave.
    public struct BlockKindSpec: Sendable {
        public let kind: SettingsBlockKind
        public let doc: String
        /// How many blocks of the kind one file may have (`nil`: any number).
        public let maximumCount: Int?
        /// The kind whose single block provides defaults for every block of this kind (`[DEFAULT]` for
        /// `[SESSION]`). The keys of this kind may then be written in that block too.
        public let inheritsFrom: SettingsBlockKind?

        public init(
            _ kind: SettingsBlockKind, maximumCount: Int? = nil, inheritsFrom: SettingsBlockKind? = nil, doc: String
        ) {
            self.kind = kind
            self.doc = doc
            self.maximumCount = maximumCount
            self.inheritsFrom = inheritsFrom
        }
    }

    /// Checks relationships across blocks or modules once every block has been validated on its own,
    /// e.g. that a `[FOLLOWER]`'s session names an existing `SessionName`.
    public typealias Validator = @Sendable (CopyBridgeConfiguration) -> [SettingsDiagnostic]

    public private(set) var blockKinds: [BlockKindSpec]
    public private(set) var keys: [SettingKey]
    public private(set) var validators: [Validator]

    /// Lower-cased key name to index in ``keys``, per block kind, including inherited-from kinds.
    private var index: [SettingsBlockKind: [String: Int]] = [:]

    public init(blockKinds: [BlockKindSpec] = [], keys: [SettingKey] = [], validators: [Validator] = []) {
        self.blockKinds = []
        self.keys = []
        self.validators = []
        add(blockKinds: blockKinds, keys: keys, validators: validators)
    }

    /// This schema plus another module's. A block kind registered by both keeps the first registration.
    public func merging(_ other: SettingsSchema) -> SettingsSchema {
        var merged = self
        merged.add(blockKinds: other.blockKinds, keys: other.keys, validators: other.validators)
        return merged
    }

    /// All modules' schemas in one.
    public static func composed(_ schemas: [SettingsSchema]) -> SettingsSchema {
        schemas.reduce(SettingsSchema()) { $0.merging($1) }
    }

    private mutating func add(
        blockKinds newKinds: [BlockKindSpec], keys newKeys: [SettingKey], validators newValidators: [Validator]
    ) {
        for spec in newKinds where !blockKinds.contains(where: { $0.kind == spec.kind }) {
            blockKinds.append(spec)
        }
        for key in newKeys {
            precondition(!key.blocks.isEmpty, "setting \(key.name) is allowed in no block")
            let lower = key.name.lowercased()
            for kind in key.blocks {
                precondition(index[kind]?[lower] == nil, "setting \(key.name) is registered twice in \(kind)")
            }
            keys.append(key)
        }
        validators.append(contentsOf: newValidators)
        rebuildIndex()
    }

    private mutating func rebuildIndex() {
        index = [:]
        for (i, key) in keys.enumerated() {
            for kind in key.blocks {
                index[kind, default: [:]][key.name.lowercased()] = i
                if let parent = spec(for: kind)?.inheritsFrom {
                    index[parent, default: [:]][key.name.lowercased()] = i
                }
            }
        }
    }

    /// The registration of a block kind.
    public func spec(for kind: SettingsBlockKind) -> BlockKindSpec? {
        blockKinds.first { $0.kind == kind }
    }

    /// The keys allowed in blocks of `kind`, in registration order.
    public func keys(allowedIn kind: SettingsBlockKind) -> [SettingKey] {
        (index[kind] ?? [:]).values.sorted().map { keys[$0] }
    }

    /// The key `name` denotes in a block of `kind` (case-insensitive), with the number of a numbered
    /// variant (`SocketConnectHost2` gives `SocketConnectHost` and 2).
    func lookup(_ name: String, in kind: SettingsBlockKind) -> (key: SettingKey, number: Int?)? {
        guard let table = index[kind] else { return nil }
        let lower = name.lowercased()
        if let i = table[lower] { return (keys[i], nil) }
        let digits = lower.reversed().prefix(while: \.isASCII).prefix(while: \.isNumber)
        guard !digits.isEmpty, digits.last != "0" else { return nil }  // digits are reversed: no leading zero
        let base = String(lower.dropLast(digits.count))
        guard let i = table[base], keys[i].isNumbered, let number = Int(String(digits.reversed())) else { return nil }
        return (keys[i], number)
    }

    /// The block kinds other than `kind` in which `name` is a key.
    func kindsAllowing(_ name: String, except kind: SettingsBlockKind) -> [SettingsBlockKind] {
        blockKinds.map(\.kind).filter { $0 != kind && lookup(name, in: $0) != nil }
    }

    /// The nearest key to a misspelt `name` among those allowed in `kind`, keeping a numbered suffix.
    func suggestion(for name: String, in kind: SettingsBlockKind) -> String? {
        let candidates = keys(allowedIn: kind)
        let digits = String(name.reversed().prefix(while: { $0.isASCII && $0.isNumber }).reversed())
        if !digits.isEmpty && !digits.hasPrefix("0"),
            let numbered = nearestName(
                to: String(name.dropLast(digits.count)), among: candidates.filter(\.isNumbered).map(\.name))
        {
            return numbered + digits
        }
        return nearestName(to: name, among: candidates.map(\.name))
    }

    /// A Markdown configuration reference: one table per block kind.
    public func markdownReference() -> String {
        var out = ""
        for spec in blockKinds {
            out += "### \(spec.kind)\n\n\(spec.doc)\n\n"
            if let parent = spec.inheritsFrom { out += "Every key below may also be written in \(parent).\n\n" }
            let allowed = keys.filter { $0.blocks.contains(spec.kind) }
            guard !allowed.isEmpty else { continue }
            out += "| key | type | default | description |\n|---|---|---|---|\n"
            for key in allowed {
                var name = "`\(key.name)`" + (key.isNumbered ? ", `\(key.name)`*n*" : "")
                if key.isRequired { name += " (required)" }
                var doc = key.doc
                switch key.status {
                case .supported: break
                case .ignored(let why): doc += " Accepted and ignored: \(why)"
                case .unsupported(let why): doc += " Not supported: \(why)"
                }
                let defaultText = key.defaultValue.map { "`\($0)`" } ?? ""
                // A `|` in a cell (choices such as `initiator|acceptor`) would end it.
                let escapedType = key.type.referenceName.replacingOccurrences(of: "|", with: "\\|")
                let escapedDoc = doc.replacingOccurrences(of: "|", with: "\\|")
                out += "| \(name) | \(escapedType) | \(defaultText) | \(escapedDoc) |\n"
            }
            out += "\n"
        }
        return out
    }
}
