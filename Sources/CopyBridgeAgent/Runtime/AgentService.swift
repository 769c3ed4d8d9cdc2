import Logging
import ServiceLifecycle

/// The agent as a ServiceLifecycle service: starts the runtime, runs until a graceful shutdown
/// (SIGINT, SIGTERM in `copybridge run`) or for a fixed duration, then stops it and prints the summary.
public struct AgentService: Service {
    public let runtime: AgentRuntime
    /// Stop on its own after this long (`--duration`); `nil`: until shut down.
    public let duration: Duration?
    private let onStarted: @Sendable () -> Void
    private let onSummary: @Sendable (AgentSummary) -> Void

    /// - Parameters:
    ///   - onStarted: Called once the runtime has started (its sessions are connecting).
    ///   - onSummary: Called with the summary once the runtime has stopped; by default it is printed.
    public init(
        runtime: AgentRuntime, duration: Duration? = nil, onStarted: @escaping @Sendable () -> Void = {},
        onSummary: @escaping @Sendable (AgentSummary) -> Void = { ConsoleOutput.standardOutput([$0.text]) }
    ) {
        self.runtime = runtime
        self.duration = duration
        self.onStarted = onStarted
        self.onSummary = onSummary
    }

    public func run() async throws {
        try await runtime.start()
        onStarted()
        let duration = self.duration
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Returns at the graceful shutdown; throws when the task is cancelled.
                try? await gracefulShutdown()
            }
            group.addTask {
                if let duration {
                    try? await Task.sleep(for: duration)
                } else {
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                }
            }
            await group.next()
            group.cancelAll()
        }
        let summary = await runtime.stop()
        onSummary(summary)
        ConsoleOutput.flush()
    }

    /// Runs `runtime` until SIGINT or SIGTERM (or `duration`), then stops it gracefully and prints
    /// the summary: `copybridge run`.
    public static func runUntilSignalled(_ runtime: AgentRuntime, duration: Duration?, logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(
            services: [
                .init(
                    service: AgentService(runtime: runtime, duration: duration),
                    successTerminationBehavior: .gracefullyShutdownGroup)
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // SIGQUIT (Ctrl-\\) ends the process at once, without the graceful stop.
        configuration.cancellationSignals = [.sigquit]
        try await ServiceGroup(configuration: configuration).run()
    }
}
