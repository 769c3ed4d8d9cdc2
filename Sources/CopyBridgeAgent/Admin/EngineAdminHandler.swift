import CopyEngine
import FIXCore

/// Operator commands from the HTTP API, carried out by the copy engine through an
/// ``EngineCommandSink``: each command is checked, journaled with who asked and why, applied on
/// the engine's loop, and answered with what it acted on as it is afterwards.
public struct EngineAdminHandler: AdminCommandHandler {
    public let sink: any EngineCommandSink
    /// The account currency of the snapshots.
    public let currency: String

    public init(sink: any EngineCommandSink, currency: String = "USD") {
        self.sink = sink
        self.currency = currency
    }

    public func handle(_ command: AdminCommand, actor: String, reason: String?) async throws -> AdminCommandResult {
        switch command {
        case .status:
            let state = try await sink.engineState()
            return AdminCommandResult(outcome: .unchanged, message: Self.summary(state))
        case .pause(let id):
            return try await run(.pauseFollower(id), actor, reason) { state in
                (.applied, "\(id) is paused", follower(state, id), nil, nil)
            }
        case .resume(let id):
            return try await run(.resumeFollower(id), actor, reason) { state in
                let view = state.follower(id)
                var message = "\(id) is resumed"
                if let view, !view.trippedBreakers.isEmpty {
                    message += "; still held by \(view.trippedBreakers.joined(separator: ", ")) (reset-breaker)"
                }
                return (.applied, message, follower(state, id), nil, nil)
            }
        case .disable(let id, let flatten):
            return try await run(.disableProvider(id, flatten: flatten), actor, reason) { state in
                let followers = state.provider(id)?.followers ?? []
                if flatten {
                    return (
                        .started, "\(id) is disabled; closing the copies of \(followers.count) follower(s)", nil,
                        provider(state, id), nil
                    )
                }
                return (.applied, "\(id) is disabled: her new positions are not copied", nil, provider(state, id), nil)
            }
        case .enable(let id):
            return try await run(.enableProvider(id), actor, reason) { state in
                (.applied, "\(id) is enabled", nil, provider(state, id), nil)
            }
        case .flatten(let id):
            return try await run(.flattenFollower(id), actor, reason) { state in
                let open = state.follower(id)?.positions.filter { !$0.copied.isZero || !$0.working.isZero }.count ?? 0
                let message =
                    open == 0
                    ? "\(id) is flat; nothing new is copied until resume"
                    : "\(id) is being flattened: closing \(open) position(s); nothing new is copied until resume"
                return (open == 0 ? .applied : .started, message, follower(state, id), nil, nil)
            }
        case .resetBreaker(let name):
            let before = try await sink.engineState()
            return try await run(.resetBreaker(name), actor, reason) { state in
                let reset = before.breakers.filter { b in
                    b.tripped && state.breaker(b.name)?.tripped == false
                }.map(\.name)
                let shown = state.breaker(reset.first ?? name).map(BreakerSnapshot.init)
                return (.applied, "reset \(reset.joined(separator: ", "))", nil, nil, shown)
            }
        case .resync:
            return try await run(.resync, actor, reason) { _ in
                (.started, "resync started: every broker is asked for order status and positions", nil, nil, nil)
            }
        }
    }

    private typealias Describe = (EngineStateView) -> (
        AdminCommandResult.Outcome, String, FollowerSnapshot?, ProviderSnapshot?, BreakerSnapshot?
    )

    /// Submits `command` and turns the receipt into a result, or into the error the HTTP layer maps.
    private func run(
        _ command: OperatorCommand, _ actor: String, _ reason: String?, _ describe: Describe
    ) async throws -> AdminCommandResult {
        let receipt = try await sink.submit(command, actor: actor, reason: reason)
        let state = receipt.state
        switch receipt.check {
        case .applies:
            let (outcome, message, follower, provider, breaker) = describe(state)
            return AdminCommandResult(
                outcome: outcome, message: message, follower: follower, provider: provider, breaker: breaker)
        case .unchanged(let why):
            var result = AdminCommandResult(outcome: .unchanged, message: why)
            switch command {
            case .pauseFollower(let id), .resumeFollower(let id), .flattenFollower(let id):
                result.follower = follower(state, id)
            case .disableProvider(let id, _), .enableProvider(let id):
                result.provider = provider(state, id)
            case .resetBreaker(let name):
                result.breaker = state.breaker(name).map(BreakerSnapshot.init)
            case .setEquity, .resync:
                break
            }
            return result
        case .unknownFollower(let id): throw AdminCommandError.unknownFollower(id)
        case .unknownProvider(let id): throw AdminCommandError.unknownProvider(id)
        case .unknownBreaker(let name): throw AdminCommandError.unknownBreaker(name)
        case .refused(let why): throw AdminCommandError.refused(why)
        }
    }

    private func follower(_ state: EngineStateView, _ id: String) -> FollowerSnapshot? {
        state.follower(id).map { FollowerSnapshot($0, currency: currency) }
    }

    private func provider(_ state: EngineStateView, _ id: String) -> ProviderSnapshot? {
        state.provider(id).map(ProviderSnapshot.init)
    }

    /// One line: how many followers copy, and what is held.
    static func summary(_ state: EngineStateView) -> String {
        let copying = state.followers.filter { $0.copying == .active }.count
        var parts = ["\(copying) of \(state.followers.count) follower(s) copying"]
        let providers = state.providers.filter { $0.state != .active }
        if !providers.isEmpty {
            parts.append(providers.map { "\($0.id) \($0.state.rawValue)" }.joined(separator: ", "))
        }
        let tripped = state.breakers.filter(\.tripped).map(\.name)
        parts.append(tripped.isEmpty ? "no breaker tripped" : "tripped: " + tripped.joined(separator: ", "))
        let down = state.sessions.filter { !$0.isUp }.map(\.name)
        if !down.isEmpty { parts.append("sessions down: " + down.joined(separator: ", ")) }
        return parts.joined(separator: "; ")
    }
}
