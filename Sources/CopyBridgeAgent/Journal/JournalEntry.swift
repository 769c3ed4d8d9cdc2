import CopyEngine
import FIXCore

/// One entry of the agent's journal: a record the copy engine replays, or an audit entry the
/// engine never sees (who commanded what and why, why a copy was skipped, which alert fired).
public enum JournalEntry: Sendable, Equatable {
    /// A record of the engine's journal, replayed in order at recovery.
    case engine(JournalRecord)
    /// An entry for auditors and operators; replay skips it.
    case audit(AuditRecord)
}

/// What the journal keeps for audits besides the engine's own records.
public enum AuditRecord: Sendable, Equatable {
    /// An operator's command, as received by the admin API.
    case command(CommandAudit)
    /// A skip, clamp, retry, rejection or state change the engine decided, with its reason code.
    case decision(CopyDecision, at: EngineTime)
    /// An alert started or ended.
    case alert(AlertAudit)
    /// Something about the agent itself: started, stopped, a torn journal tail dropped.
    case note(String, at: EngineTime)
}

/// An operator's command: what, who, why, and what came of it.
public struct CommandAudit: Sendable, Equatable {
    /// As typed: `pause bob`.
    public var command: String
    /// Who asked (`ctl:alice@127.0.0.1`).
    public var actor: String
    /// The operator's reason, if given.
    public var reason: String?
    /// `applied`, `unchanged`, `started`, or `refused: <why>`.
    public var outcome: String
    public var at: EngineTime

    public init(command: String, actor: String, reason: String?, outcome: String, at: EngineTime) {
        self.command = command
        self.actor = actor
        self.reason = reason
        self.outcome = outcome
        self.at = at
    }
}

/// An alert transition.
public struct AlertAudit: Sendable, Equatable {
    /// The alert's name (`tick_to_copy_p99`).
    public var alert: String
    /// `true` when it started, `false` when it ended.
    public var active: Bool
    public var message: String
    /// The figure when it changed (NaN: too few samples to judge).
    public var value: Double
    public var threshold: Double
    public var at: EngineTime

    public init(alert: String, active: Bool, message: String, value: Double, threshold: Double, at: EngineTime) {
        self.alert = alert
        self.active = active
        self.message = message
        self.value = value
        self.threshold = threshold
        self.at = at
    }

    public static func == (lhs: AlertAudit, rhs: AlertAudit) -> Bool {
        lhs.alert == rhs.alert && lhs.active == rhs.active && lhs.message == rhs.message
            && lhs.value.bitPattern == rhs.value.bitPattern && lhs.threshold.bitPattern == rhs.threshold.bitPattern
            && lhs.at == rhs.at
    }
}

extension AuditRecord {
    /// When it happened.
    public var at: EngineTime {
        switch self {
        case .command(let c): return c.at
        case .decision(_, let at): return at
        case .alert(let a): return a.at
        case .note(_, let at): return at
        }
    }
}
