import FIXCore
import FIXSession
import Foundation

/// What `copybridge ctl` does, without the process around it: read the admin port and token from
/// the settings file, send one command to the running agent, and show the answer.
public enum AdminControl {
    /// The `[ADMIN]` settings of a settings file.
    ///
    /// Only that block is read and checked (with its file and line numbers): `ctl` needs the port
    /// and the token, not the sessions, which may name files only the agent's machine has.
    public static func configuration(file path: String) throws(AdminControlError) -> AdminHTTPConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let why = FileManager.default.fileExists(atPath: path) ? "cannot be read as UTF-8 text" : "does not exist"
            throw .settings("\(path): settings file \(why)")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let parsed: CopyBridgeConfiguration
        do {
            parsed = try CopyBridgeConfiguration.parse(
                adminBlockOnly(text), file: path, baseDirectory: directory, schema: AdminHTTPConfiguration.schema)
        } catch {
            throw .settings(error.diagnostics.map(\.description).joined(separator: "\n"))
        }
        guard let block = parsed.blocks(of: .admin).first else {
            throw .settings("\(path): no [ADMIN] block: the admin API needs one with AdminToken (or AdminTokenFile)")
        }
        let configuration: AdminHTTPConfiguration
        do {
            configuration = try AdminHTTPConfiguration(block: block)
        } catch {
            throw .settings("\(path): \(error)")
        }
        guard configuration.token != nil else { throw .noToken(file: path) }
        return configuration
    }

    /// The text with every line outside `[ADMIN]` blanked, so line numbers stay those of the file.
    static func adminBlockOnly(_ text: String) -> String {
        var inAdmin = false
        var lines: [Substring] = []
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{FEFF}" }
            if trimmed.hasPrefix("[") {
                let header = trimmed.prefix { $0 != "#" }.trimmingCharacters(in: .whitespaces)
                inAdmin = header.dropFirst().dropLast().trimmingCharacters(in: .whitespaces).uppercased() == "ADMIN"
            }
            lines.append(inAdmin ? line : "")
        }
        return lines.joined(separator: "\n")
    }

    /// Sends `command` to the agent `configuration` describes and returns its answer; the errors
    /// say what to do (start the agent, fix the token, ...), naming the settings `file`.
    public static func send(
        _ command: AdminCommand, to configuration: AdminHTTPConfiguration, file: String, actor: String,
        reason: String?, timeout: Duration = .seconds(30)
    ) async throws(AdminControlError) -> AdminResponse {
        let client: AdminClient
        do {
            client = try AdminClient(configuration: configuration, timeout: timeout)
        } catch {
            throw .settings("\(file): [ADMIN] \(AdminHTTPConfiguration.Key.tlsCertificateFile): \(error)")
        }
        do {
            return try await client.send(command, actor: actor, reason: reason)
        } catch let error as AdminClientError {
            let address = "\(client.host):\(client.port)"
            switch error {
            case .connectionFailed(_, _, let reason): throw .notRunning(address: address, file: file, reason: reason)
            case .status(401, let message): throw .unauthorized(message, file: file)
            case .status(let status, let message): throw .rejected(status: status, message: message)
            case .timedOut(let limit): throw .timedOut("the agent at \(address) did not answer within \(limit)")
            case .badResponse(let why): throw .badResponse(why)
            }
        } catch {
            throw .failed("talking to the agent at \(client.host):\(client.port): \(error)")
        }
    }

    // MARK: Output

    /// The answer as JSON (the API's own encoding, indented).
    public static func json(_ response: AdminResponse) -> String {
        let encoder = AgentJSON.makeEncoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        guard let data = try? encoder.encode(response) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The answer for a terminal: what happened, then followers, providers, breakers and sessions.
    public static func render(_ response: AdminResponse) -> String {
        var out = "\(response.command): \(response.result.outcome.rawValue) — \(response.result.message)\n"
        out += "  by \(response.actor)" + (response.reason.map { " (\($0))" } ?? "") + "\n"
        let state = response.state
        if !state.followers.isEmpty {
            out += "\n"
            out += table(
                ["FOLLOWER", "STATE", "SESSION", "EQUITY", "REALIZED", "UNREALIZED", "POSITIONS", "REASON"],
                state.followers.map { f in
                    [
                        f.id, f.state.rawValue, f.session, money(f.equity), money(f.realizedPnL),
                        money(f.unrealizedPnL), positions(f.positions), f.reason ?? "",
                    ]
                })
        }
        if !state.providers.isEmpty {
            out += "\n"
            out += table(
                ["PROVIDER", "STATE", "SESSION", "POSITIONS", "REASON"],
                state.providers.map { p in [p.id, p.state.rawValue, p.session, positions(p.positions), p.reason ?? ""] }
            )
        }
        if !state.breakers.isEmpty {
            out += "\n"
            out += table(
                ["BREAKER", "STATE", "SINCE", "REASON"],
                state.breakers.map { b in
                    [
                        b.name, b.tripped ? "TRIPPED" : "armed",
                        b.since.map { $0.formatted(Date.ISO8601FormatStyle()) } ?? "", b.reason ?? "",
                    ]
                })
        }
        if !state.sessions.isEmpty {
            out += "\n"
            out += table(
                ["SESSION", "STATE", "ROLE", "DETAIL"],
                state.sessions.map { s in [s.name, s.state.rawValue, s.role, s.detail ?? ""] })
        }
        return out
    }

    static func money(_ value: FixedDecimal) -> String {
        value.rounded(scale: 2, .halfEven).description
    }

    static func positions(_ list: [PositionSnapshot]) -> String {
        list.isEmpty ? "-" : list.map { "\($0.symbol) \($0.quantity.normalized)" }.joined(separator: ", ")
    }

    /// Left-aligned columns two spaces apart; the last column is not padded.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = Array(repeating: 0, count: header.count)
        for row in all {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        var out = ""
        for row in all {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += i == row.count - 1 ? cell : cell.padding(toLength: widths[i] + 2, withPad: " ", startingAt: 0)
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}

/// Why `ctl` could not do what was asked, with what to do about it.
public enum AdminControlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The settings file, or its `[ADMIN]` block.
    case settings(String)
    case noToken(file: String)
    case notRunning(address: String, file: String, reason: String)
    case unauthorized(String, file: String)
    /// The agent refused the command (unknown follower, nothing to reset, ...).
    case rejected(status: Int, message: String)
    case timedOut(String)
    case badResponse(String)
    case failed(String)

    public var description: String {
        typealias Key = AdminHTTPConfiguration.Key
        switch self {
        case .settings(let text): return text
        case .noToken(let file):
            return "\(file): [ADMIN] has no \(Key.adminToken) or \(Key.adminTokenFile): the agent's admin API "
                + "needs one, and ctl sends the same"
        case .notRunning(let address, let file, let reason):
            return "the agent is not running at \(address) (\(reason)): start it with `copybridge run --config "
                + "\(file)`, or check \(Key.bindHost)/\(Key.port) in [ADMIN] of \(file)"
        case .unauthorized(let message, let file):
            return "the agent refused the admin token (\(message)): \(Key.adminToken)/\(Key.adminTokenFile) in "
                + "[ADMIN] of \(file) must be the running agent's"
        case .rejected(let status, let message):
            return status >= 500 ? "the agent failed (\(status)): \(message)" : message
        case .timedOut(let text): return text
        case .badResponse(let why): return "unexpected answer from the agent: \(why)"
        case .failed(let text): return text
        }
    }
}
