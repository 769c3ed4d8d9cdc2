import CopyEngine

/// The runtime's door to the copy engine for operator commands: it runs on the engine's event
/// loop, so commands are ordered with the market's events and journaled like them.
///
/// The runtime implements it: ``submit(_:actor:reason:)`` asks the engine to ``CopyEngine/check(_:)``
/// the command and, when it applies, hands `.command(command, at:, actor:, reason:)` to the engine
/// and executes the actions (the journal record first, then any orders), exactly as for a message
/// from a broker.
public protocol EngineCommandSink: Sendable {
    /// Checks `command`, applies it when it changes something, and answers with the check and the
    /// engine's state afterwards.
    func submit(_ command: OperatorCommand, actor: String, reason: String?) async throws -> EngineCommandReceipt

    /// The engine's state now.
    func engineState() async throws -> EngineStateView
}

/// What became of a submitted command.
public struct EngineCommandReceipt: Sendable, Equatable {
    /// The engine's verdict before applying it: applied only when `.applies`.
    public var check: OperatorCommandCheck
    /// The state after the command (and whatever it set in motion on that turn of the loop).
    public var state: EngineStateView

    public init(check: OperatorCommandCheck, state: EngineStateView) {
        self.check = check
        self.state = state
    }
}

extension CopyEngine {
    /// What an ``EngineCommandSink`` does on the engine's loop: check, then apply when it applies.
    /// Returns the check and the actions to execute in order (empty unless it applied).
    public mutating func submit(
        _ command: OperatorCommand, at time: EngineTime, actor: String, reason: String?
    ) -> (check: OperatorCommandCheck, actions: [EngineAction]) {
        let verdict = check(command)
        guard verdict == .applies else { return (verdict, []) }
        return (verdict, handle(.command(command, at: time, actor: actor, reason: reason)))
    }
}
