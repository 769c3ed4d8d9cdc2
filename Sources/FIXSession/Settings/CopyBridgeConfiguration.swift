import Foundation

/// A validated settings file: typed sessions, plus the validated blocks of every other kind for the
/// modules that own them.
///
/// Loading checks everything and reports every problem at once: syntax, unknown keys (with the nearest
/// known key), missing required keys, bad values, the rules that span keys and blocks. It throws a
/// ``SettingsError`` when any is an error; warnings are kept in ``warnings``.
public struct CopyBridgeConfiguration: Sendable {
    /// The path the file was loaded from, as given.
    public let file: String
    /// The `[SESSION]` blocks, in file order.
    public let sessions: [SessionSettings]
    /// The blocks of kinds other than `[DEFAULT]` and `[SESSION]`, in file order.
    public let blocks: [SettingsBlock]
    /// The `[SESSION]` blocks as validated entries (inheritance applied), parallel to ``sessions``.
    public let sessionBlocks: [SettingsBlock]
    /// Problems that do not stop the file from being used.
    public let warnings: [SettingsDiagnostic]

    /// The blocks of one kind, in file order.
    public func blocks(of kind: SettingsBlockKind) -> [SettingsBlock] {
        blocks.filter { $0.kind == kind }
    }

    /// The session with this `SessionName` (or derived name).
    public func session(named name: String) -> SessionSettings? {
        sessions.first { $0.name == name }
    }

    /// The session with this identity.
    public func session(id: SessionID) -> SessionSettings? {
        sessions.first { $0.id == id }
    }

    /// Loads and validates a settings file. Relative paths in it are resolved against its directory.
    public static func load(path: String, schema: SettingsSchema) throws(SettingsError) -> CopyBridgeConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason =
                FileManager.default.fileExists(atPath: path) ? "cannot be read as UTF-8 text" : "does not exist"
            throw SettingsError(diagnostics: [
                SettingsDiagnostic(at: SourceLocation(file: path, line: nil), "settings file \(reason)")
            ])
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, file: path, baseDirectory: directory, schema: schema)
    }

    /// Validates settings text. `file` names it in diagnostics; relative paths resolve against
    /// `baseDirectory`; `fileExists` answers for files that must exist (tests may replace it).
    public static func parse(
        _ text: String, file: String, baseDirectory: String, schema: SettingsSchema,
        fileExists: @escaping @Sendable (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
    ) throws(SettingsError) -> CopyBridgeConfiguration {
        var diagnostics = DiagnosticCollector()
        let context = ValueContext(baseDirectory: baseDirectory, fileExists: fileExists)
        let rawBlocks = SettingsLexer.lex(text, file: file, diagnostics: &diagnostics)

        // Validate each block on its own.
        var validated: [SettingsBlockKind: [SettingsBlock]] = [:]
        var ordered: [(kind: SettingsBlockKind, index: Int)] = []
        for raw in rawBlocks {
            guard let spec = schema.spec(for: SettingsBlockKind(raw.name)) else {
                let known = schema.blockKinds.map(\.kind.name)
                let hint = nearestName(to: raw.name, among: known).map { " (did you mean [\($0)]?)" } ?? ""
                diagnostics.error(
                    raw.location,
                    "unknown block [\(raw.name)]\(hint); known blocks: "
                        + known.map { "[\($0)]" }.joined(separator: ", ")
                )
                continue
            }
            let kind = spec.kind
            if let maximum = spec.maximumCount, let existing = validated[kind], existing.count >= maximum {
                diagnostics.error(
                    raw.location,
                    "\(kind) may appear \(maximum == 1 ? "once" : "\(maximum) times"); "
                        + "the first is at line \(existing[0].location.line ?? 0)"
                )
                continue
            }
            let (entries, invalid) = validateEntries(
                raw, kind: kind, schema: schema, context: context, diagnostics: &diagnostics)
            let block = SettingsBlock(
                kind: kind, location: raw.location, entries: entries, defaults: [:], invalidKeys: invalid)
            validated[kind, default: []].append(block)
            ordered.append((kind, validated[kind]!.count - 1))
        }

        // Inheritance, defaults and required keys.
        var finalBlocks: [SettingsBlock] = []
        for (kind, index) in ordered {
            let spec = schema.spec(for: kind)!
            if schema.blockKinds.contains(where: { $0.inheritsFrom == kind }) { continue }  // a defaults block
            let own = validated[kind]![index]
            var entries = own.entries
            var invalid = own.invalidKeys
            if let parentKind = spec.inheritsFrom, let parent = validated[parentKind]?.first {
                let written = Set(entries.map { $0.key.lowercased() }).union(invalid)
                for entry in parent.entries where !written.contains(entry.key.lowercased()) {
                    entries.append(entry.inherited())
                }
                invalid.formUnion(parent.invalidKeys.subtracting(written))
            }
            let keys = schema.keys.filter { $0.blocks.contains(kind) }
            var defaults: [String: SettingValue] = [:]
            for key in keys {
                guard let text = key.defaultValue else { continue }
                guard case .success(let value) = key.type.parse(text, context: context) else {
                    preconditionFailure("the default '\(text)' of \(key.name) is not \(key.type.expectation)")
                }
                defaults[key.name.lowercased()] = value
            }
            let block = SettingsBlock(
                kind: kind, location: own.location, entries: entries, defaults: defaults, invalidKeys: invalid)
            // A block missing a required key goes no further; other bad values (already reported) fall
            // back to defaults so that the rules across keys are still checked.
            var complete = true
            for key in keys where key.isRequired && !block.contains(key.name) {
                if !block.isInvalid(key.name) {
                    diagnostics.error(block.location, key: key.name, "missing required key '\(key.name)' in \(kind)")
                }
                complete = false
            }
            if complete { finalBlocks.append(block) }
        }

        // Typed sessions and the rules between them.
        var sessions: [SessionSettings] = []
        var sessionBlocks: [SettingsBlock] = []
        for block in finalBlocks where block.kind == .session {
            if let session = SessionSettings.make(from: block, fileExists: fileExists, diagnostics: &diagnostics) {
                sessions.append(session)
                sessionBlocks.append(block)
            }
        }
        checkUniqueness(sessions, &diagnostics)

        let configuration = CopyBridgeConfiguration(
            file: file, sessions: sessions, blocks: finalBlocks.filter { $0.kind != .session },
            sessionBlocks: sessionBlocks, warnings: [])
        for validator in schema.validators {
            diagnostics.append(contentsOf: validator(configuration))
        }
        let all = diagnostics.sorted
        if diagnostics.hasErrors { throw SettingsError(diagnostics: all) }
        return CopyBridgeConfiguration(
            file: file, sessions: sessions, blocks: configuration.blocks, sessionBlocks: sessionBlocks, warnings: all)
    }

    /// Checks every entry of one block against the schema.
    private static func validateEntries(
        _ raw: RawSettingsBlock, kind: SettingsBlockKind, schema: SettingsSchema, context: ValueContext,
        diagnostics: inout DiagnosticCollector
    ) -> (entries: [SettingsEntry], invalid: Set<String>) {
        var entries: [SettingsEntry] = []
        var invalid = Set<String>()
        for rawEntry in raw.entries {
            let location = rawEntry.location
            guard let (key, number) = schema.lookup(rawEntry.key, in: kind) else {
                let elsewhere = schema.kindsAllowing(rawEntry.key, except: kind)
                if !elsewhere.isEmpty {
                    diagnostics.error(
                        location, key: rawEntry.key,
                        "key '\(rawEntry.key)' is not allowed in \(kind) "
                            + "(it belongs in \(elsewhere.map(\.description).joined(separator: " or ")))"
                    )
                } else {
                    let suggestion = schema.suggestion(for: rawEntry.key, in: kind)
                    let hint = suggestion.map { " (did you mean '\($0)'?)" } ?? ""
                    diagnostics.error(location, key: rawEntry.key, "unknown key '\(rawEntry.key)' in \(kind)\(hint)")
                    // The misspelt key is most likely the suggested one: do not also report it missing.
                    if let suggestion { invalid.insert(suggestion.lowercased()) }
                }
                continue
            }
            let canonical = key.name + (number.map(String.init) ?? "")
            switch key.status {
            case .supported:
                break
            case .ignored(let why):
                diagnostics.warning(
                    location, key: canonical, "QuickFIX key '\(canonical)' has no effect in CopyBridge: \(why)")
                continue
            case .unsupported(let why):
                diagnostics.error(location, key: canonical, "QuickFIX key '\(canonical)' is not supported: \(why)")
                continue
            }
            if let first = entries.first(where: { $0.key == canonical }) {
                diagnostics.error(
                    location, key: canonical,
                    "duplicate key '\(canonical)' in \(kind) (first set on line \(first.location.line ?? 0))")
                continue
            }
            if rawEntry.value.isEmpty {
                diagnostics.error(
                    location, key: canonical, "no value for '\(canonical)' in \(kind): expected \(key.type.expectation)"
                )
                invalid.insert(canonical.lowercased())
                continue
            }
            switch key.type.parse(rawEntry.value, context: context) {
            case .success(let value):
                entries.append(
                    SettingsEntry(
                        key: canonical, baseKey: key.name, number: number, rawValue: rawEntry.value, value: value,
                        location: location, isSecret: key.isSecret, isInherited: false))
            case .failure(let problem):
                let shown = key.isSecret ? "" : " '\(rawEntry.value)'"
                let why: String
                switch problem {
                case .malformed: why = "expected \(key.type.expectation)"
                case .reason(let reason): why = key.isSecret ? "expected \(key.type.expectation)" : reason
                }
                diagnostics.error(location, key: canonical, "bad value\(shown) for '\(canonical)' in \(kind): \(why)")
                invalid.insert(canonical.lowercased())
            }
        }
        return (entries, invalid)
    }

    /// Two sessions may share neither an identity nor a name.
    private static func checkUniqueness(_ sessions: [SessionSettings], _ diagnostics: inout DiagnosticCollector) {
        var ids: [SessionID: SessionSettings] = [:]
        var names: [String: SessionSettings] = [:]
        for session in sessions {
            let location = session.location!
            if let first = ids[session.id] {
                diagnostics.error(
                    location, "duplicate session \(session.id) (also defined at line \(first.location?.line ?? 0))")
                continue
            }
            ids[session.id] = session
            if let first = names[session.name] {
                diagnostics.error(
                    location, key: "SessionName",
                    "duplicate SessionName '\(session.name)' (also used at line \(first.location?.line ?? 0))")
                continue
            }
            names[session.name] = session
        }
    }
}
