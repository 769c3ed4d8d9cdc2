/// An operator command, as `POST /api/admin/{command}` and `copybridge ctl` take it.
public enum AdminCommand: Sendable, Hashable, CustomStringConvertible {
    /// Answers with the state; changes nothing.
    case status
    /// Stop copying for a follower; its positions stay.
    case pause(follower: String)
    case resume(follower: String)
    /// Stop copying a provider's signals, optionally closing the followers' copies of its positions.
    case disable(provider: String, flatten: Bool)
    case enable(provider: String)
    /// Close all of a follower's positions.
    case flatten(follower: String)
    /// Re-arm a tripped circuit breaker.
    case resetBreaker(name: String)
    /// Settle positions and in-flight orders with every broker again.
    case resync

    /// The names `POST /api/admin/{command}` accepts.
    public static let names = ["status", "pause", "resume", "disable", "enable", "flatten", "reset-breaker", "resync"]

    /// The path component: `pause`, `reset-breaker`, ...
    public var name: String {
        switch self {
        case .status: return "status"
        case .pause: return "pause"
        case .resume: return "resume"
        case .disable: return "disable"
        case .enable: return "enable"
        case .flatten: return "flatten"
        case .resetBreaker: return "reset-breaker"
        case .resync: return "resync"
        }
    }

    /// The follower, provider or breaker the command names.
    public var target: String? {
        switch self {
        case .status, .resync: return nil
        case .pause(let id), .resume(let id), .flatten(let id): return id
        case .disable(let id, _), .enable(let id): return id
        case .resetBreaker(let name): return name
        }
    }

    /// What the command's target is, for messages: `follower`, `provider`, `breaker`.
    public var targetKind: String? {
        switch self {
        case .status, .resync: return nil
        case .pause, .resume, .flatten: return "follower"
        case .disable, .enable: return "provider"
        case .resetBreaker: return "breaker"
        }
    }

    /// As an operator would type it: `disable P1 flatten`.
    public var description: String {
        var words = [name]
        if let target { words.append(target) }
        if case .disable(_, true) = self { words.append("flatten") }
        return words.joined(separator: " ")
    }

    /// The command from its name and the request's fields; a clear error for a missing or stray argument.
    public init(name: String, target: String?, flatten: Bool = false) throws(AdminCommandParseError) {
        let target = target.flatMap { $0.isEmpty ? nil : $0 }
        func require(_ kind: String) throws(AdminCommandParseError) -> String {
            guard let target else { throw .missingTarget(command: name, kind: kind) }
            return target
        }
        func refuseTarget() throws(AdminCommandParseError) {
            if let target { throw .unexpectedArgument(command: name, argument: target) }
        }
        if flatten && name.lowercased() != "disable" {
            throw .unexpectedArgument(command: name, argument: "flatten")
        }
        switch name.lowercased() {
        case "status":
            try refuseTarget()
            self = .status
        case "pause": self = .pause(follower: try require("FOLLOWER"))
        case "resume": self = .resume(follower: try require("FOLLOWER"))
        case "disable": self = .disable(provider: try require("PROVIDER"), flatten: flatten)
        case "enable": self = .enable(provider: try require("PROVIDER"))
        case "flatten": self = .flatten(follower: try require("FOLLOWER"))
        case "reset-breaker": self = .resetBreaker(name: try require("NAME"))
        case "resync":
            try refuseTarget()
            self = .resync
        default: throw .unknownCommand(name)
        }
    }

    /// The command from the words an operator typed: `["disable", "P1", "flatten"]`.
    public init(arguments: [String]) throws(AdminCommandParseError) {
        guard let name = arguments.first else { throw .unknownCommand("") }
        var rest = Array(arguments.dropFirst())
        var flatten = false
        if name.lowercased() == "disable", rest.count == 2, rest[1].lowercased() == "flatten" {
            flatten = true
            rest.removeLast()
        }
        if rest.count > 1 { throw .unexpectedArgument(command: name, argument: rest[1]) }
        try self.init(name: name, target: rest.first, flatten: flatten)
    }

    /// The JSON body that carries the command's arguments.
    func request(actor: String, reason: String?) -> AdminRequest {
        var flatten: Bool? = nil
        if case .disable(_, let flag) = self { flatten = flag }
        return AdminRequest(target: target, flatten: flatten, reason: reason, actor: actor)
    }
}

/// Why an operator's command could not be understood.
public enum AdminCommandParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownCommand(String)
    case missingTarget(command: String, kind: String)
    case unexpectedArgument(command: String, argument: String)

    public var description: String {
        switch self {
        case .unknownCommand(let name):
            let known = AdminCommand.names.joined(separator: ", ")
            return name.isEmpty ? "no command given (one of \(known))" : "unknown command '\(name)' (one of \(known))"
        case .missingTarget(let command, let kind): return "'\(command)' needs a \(kind)"
        case .unexpectedArgument(let command, let argument): return "'\(command)' does not take '\(argument)'"
        }
    }
}

/// Executes operator commands; the agent implements it over its engine and risk layer.
public protocol AdminCommandHandler: Sendable {
    /// Performs `command` for `actor` (who asked, for the audit journal), with the operator's `reason`.
    ///
    /// Throws ``AdminCommandError`` when the command names something unknown or cannot be done now;
    /// any other error is reported to the caller as an internal failure.
    func handle(_ command: AdminCommand, actor: String, reason: String?) async throws -> AdminCommandResult
}

/// What a command did, with the state of what it acted on.
public struct AdminCommandResult: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable, CaseIterable {
        /// The command changed something.
        case applied
        /// Nothing needed changing (pausing a paused follower, `status`).
        case unchanged
        /// The command was accepted and is in progress (flatten orders sent, resync started).
        case started
    }

    public var outcome: Outcome
    /// One sentence for the operator.
    public var message: String
    /// The follower the command acted on, as it is now.
    public var follower: FollowerSnapshot?
    public var provider: ProviderSnapshot?
    public var breaker: BreakerSnapshot?

    public init(
        outcome: Outcome, message: String, follower: FollowerSnapshot? = nil, provider: ProviderSnapshot? = nil,
        breaker: BreakerSnapshot? = nil
    ) {
        self.outcome = outcome
        self.message = message
        self.follower = follower
        self.provider = provider
        self.breaker = breaker
    }
}

/// A command the handler refuses; the HTTP layer answers 404 or 409 with the message.
public enum AdminCommandError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownFollower(String)
    case unknownProvider(String)
    case unknownBreaker(String)
    /// The command cannot be done now (a flatten while the session is down); the text says why.
    case refused(String)

    public var description: String {
        switch self {
        case .unknownFollower(let id): return "no follower '\(id)'"
        case .unknownProvider(let id): return "no provider '\(id)'"
        case .unknownBreaker(let name): return "no circuit breaker '\(name)'"
        case .refused(let why): return why
        }
    }
}

/// The JSON body of `POST /api/admin/{command}`; every field may be absent.
public struct AdminRequest: Codable, Sendable, Equatable {
    /// The follower, provider or breaker.
    public var target: String?
    /// `disable` only: also close the followers' copies of the provider's positions.
    public var flatten: Bool?
    /// Why the operator did it, for the audit journal.
    public var reason: String?
    /// Who is asking (`ctl:alice`); the server appends the peer address.
    public var actor: String?

    public init(target: String? = nil, flatten: Bool? = nil, reason: String? = nil, actor: String? = nil) {
        self.target = target
        self.flatten = flatten
        self.reason = reason
        self.actor = actor
    }
}

/// The answer to every admin command: what it did and the agent's state afterwards.
public struct AdminResponse: Codable, Sendable, Equatable {
    /// As typed: `disable P1 flatten`.
    public var command: String
    /// Who asked, as recorded.
    public var actor: String
    public var reason: String?
    public var result: AdminCommandResult
    public var state: AgentSnapshot

    public init(command: String, actor: String, reason: String?, result: AdminCommandResult, state: AgentSnapshot) {
        self.command = command
        self.actor = actor
        self.reason = reason
        self.result = result
        self.state = state
    }
}

/// The body of every error answer of the HTTP API.
public struct APIErrorBody: Codable, Sendable, Equatable {
    public var error: String

    public init(error: String) {
        self.error = error
    }
}
