/// What `copybridge check-config` reports about a settings file.
public struct ConfigurationCheckResult: Sendable {
    /// Whether the file can be used (no errors; warnings allowed).
    public let isValid: Bool
    /// For standard output: the summary and, when valid, the table of sessions.
    public let report: String
    /// For standard error: every error and warning, `file:line: message`, in file order.
    public let diagnostics: [SettingsDiagnostic]
    /// The loaded configuration when valid.
    public let configuration: CopyBridgeConfiguration?
}

/// The logic of `copybridge check-config`, kept here so that it can be tested as a function.
public enum ConfigurationCheck {
    /// Loads and validates `path` against `schema`.
    public static func run(path: String, schema: SettingsSchema) -> ConfigurationCheckResult {
        do {
            let configuration = try CopyBridgeConfiguration.load(path: path, schema: schema)
            return ConfigurationCheckResult(
                isValid: true, report: report(configuration), diagnostics: configuration.warnings,
                configuration: configuration)
        } catch {
            let errors = error.errors.count
            let warnings = error.diagnostics.count - errors
            var summary = "\(path): invalid, \(errors) error\(errors == 1 ? "" : "s")"
            if warnings > 0 { summary += ", \(warnings) warning\(warnings == 1 ? "" : "s")" }
            return ConfigurationCheckResult(
                isValid: false, report: summary + "\n", diagnostics: error.diagnostics, configuration: nil)
        }
    }

    /// The summary line and a table of the sessions: name, identity, role, address, schedule, TLS.
    public static func report(_ configuration: CopyBridgeConfiguration) -> String {
        let count = configuration.sessions.count
        var summary = "\(configuration.file): valid, \(count) session\(count == 1 ? "" : "s")"
        var kinds: [SettingsBlockKind: Int] = [:]
        for block in configuration.blocks { kinds[block.kind, default: 0] += 1 }
        if !kinds.isEmpty {
            summary += ", " + kinds.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        }
        if !configuration.warnings.isEmpty {
            summary += ", \(configuration.warnings.count) warning\(configuration.warnings.count == 1 ? "" : "s")"
        }
        var rows = [["NAME", "IDENTITY", "ROLE", "ADDRESS", "SCHEDULE", "TLS"]]
        for session in configuration.sessions {
            let address: String
            switch session.connectionType {
            case .initiator:
                let failovers = session.connectAddresses.count - 1
                address =
                    session.connectAddresses[0].description
                    + (failovers > 0 ? " (+\(failovers) failover\(failovers == 1 ? "" : "s"))" : "")
            case .acceptor:
                address =
                    "listen " + HostAndPort(host: session.acceptHost ?? "*", port: session.acceptPort ?? 0).description
            }
            rows.append([
                session.name, session.id.description, session.connectionType.rawValue, address,
                session.schedule.description, session.tls == nil ? "no" : "yes",
            ])
        }
        return summary + "\n" + table(rows)
    }

    private static func table(_ rows: [[String]]) -> String {
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }
}
