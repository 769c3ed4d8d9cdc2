import CopyEngine
import FIXCore
import Foundation

/// An audit could not be run: a file is missing or unreadable, the configuration does not build an
/// engine, or the ClOrdID asked about is not in the journal. A user's mistake, reported as such.
public struct AuditError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// What an audit reads: the journal, and (when a settings file is given) the configuration and the
/// ledger of the agent's data folder.
public struct AuditSource: Sendable {
    /// The journal file.
    public var journalPath: String
    /// The journal's entries.
    public var scan: JournalScan
    /// The agent's configuration; `nil` when only a journal was given.
    public var configuration: AgentConfiguration?
    /// The ledger database, when one is known and exists.
    public var ledgerPath: String?

    public init(journalPath: String, scan: JournalScan, configuration: AgentConfiguration?, ledgerPath: String?) {
        self.journalPath = journalPath
        self.scan = scan
        self.configuration = configuration
        self.ledgerPath = ledgerPath
    }

    /// Loads the journal named by `journalPath`, else the one of the configuration's data folder.
    ///
    /// The journal is only read: a torn tail is reported by the scan, never cut off.
    public static func load(
        configurationPath: String?, journalPath: String?, ledgerPath: String? = nil
    ) throws(AuditError) -> AuditSource {
        var configuration: AgentConfiguration?
        if let configurationPath {
            do {
                configuration = try AgentConfiguration.load(path: configurationPath)
            } catch {
                throw AuditError("\(configurationPath): \(error)")
            }
        }
        guard let journal = journalPath ?? configuration?.agent.journalPath else {
            throw AuditError("give a settings file (--config) or a journal (--journal)")
        }
        guard FileManager.default.fileExists(atPath: journal) else {
            throw AuditError("journal \(journal) does not exist")
        }
        let scan: JournalScan
        do {
            scan = try JournalReader.read(path: journal)
        } catch {
            throw AuditError("\(error)")
        }
        let ledger = ledgerPath ?? configuration?.agent.ledgerPath
        let existing = ledger.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
        if let ledgerPath, existing == nil { throw AuditError("ledger \(ledgerPath) does not exist") }
        return AuditSource(journalPath: journal, scan: scan, configuration: configuration, ledgerPath: existing)
    }
}

extension JournalRecord {
    /// When the event behind the record happened (`nil` for an order, which belongs to the event before it).
    var eventTime: EngineTime? {
        switch self {
        case .message(_, _, let at), .sessionUp(_, let at), .sessionDown(_, let at, _), .tick(let at),
            .command(_, let at, _, _), .recoveryComplete(let at):
            return at
        case .mark(let m): return m.at
        case .order, .breaker: return nil
        }
    }

    /// A short name of the record, for reports.
    var summary: String {
        switch self {
        case .message(let session, let bytes, _):
            let m = try? FIXMessage(bytes: bytes.bytes)
            var text = "message 35=\(m?.msgType ?? "?") on \(session)"
            if let id = m?[FIXTag.execID] { text += " ExecID \(id)" }
            return text
        case .sessionUp(let session, _): return "session \(session) up"
        case .sessionDown(let session, _, let planned): return "session \(session) down" + (planned ? " (planned)" : "")
        case .mark(let m): return "mark \(m.symbol)"
        case .tick: return "tick"
        case .command(let command, _, let actor, let reason):
            return "command \(command)" + (actor.isEmpty ? "" : " by \(actor)") + (reason.map { ": \($0)" } ?? "")
        case .breaker(let b): return "breaker \(b.name) \(b.tripped ? "tripped" : "reset"): \(b.reason.rawValue)"
        case .recoveryComplete: return "recovery complete"
        case .order(let intent): return "order \(intent.clOrdID)"
        }
    }
}

/// Formats engine times for people: ISO-8601 UTC with microseconds.
enum AuditTime {
    static func text(_ t: EngineTime) -> String {
        UTCTimestamp(nanosecondsSinceEpoch: t, precision: .microseconds).description
    }

    /// Milliseconds between two engine times, three decimals.
    static func millis(_ nanos: Int64) -> String {
        FixedDecimal(mantissa: Int128(nanos) / 1000, scale: 3).description
    }
}

/// JSON output of the audit commands: pretty, keys sorted, decimals as strings.
public enum AuditJSON {
    public static func text(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}
