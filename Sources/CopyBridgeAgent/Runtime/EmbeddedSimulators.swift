import BrokerSimulator
import FIXSession
import FIXTransport

/// The simulated brokers behind the `Simulator=Y` sessions, as the agent starts them.
enum EmbeddedSimulators {
    /// The brokers to start, with their stores and books in the data folder unless the file names
    /// them: a run's data folder holds everything it needs to restart, and tests stay apart.
    static func plans(for configuration: AgentConfiguration) throws(SettingsError) -> [SimBrokerPlan] {
        var plans = try SimulatorPlan.mirroring(configuration.file)
        let folder = configuration.agent.dataFolder
        for p in plans.indices {
            for (identity, storage) in plans[p].storage {
                guard let session = owner(of: identity, in: configuration) else { continue }
                var adjusted = storage
                if !session.block.contains("FileStorePath") { adjusted.storePath = folder + "/sim/store" }
                plans[p].storage[identity] = adjusted
            }
            if plans[p].bookFile == nil {
                let safe = plans[p].name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
                plans[p].bookFile = folder + "/books/\(String(safe)).json"
            }
        }
        return plans
    }

    /// The agent's session that a broker session (identity seen from the broker) mirrors.
    static func owner(
        of brokerIdentity: SessionIdentity, in configuration: AgentConfiguration
    ) -> AgentSessionConfiguration? {
        configuration.sessions.first { $0.simulated && SessionIdentity($0.settings.id).reversed == brokerIdentity }
    }

    /// What the agent's sessions need from the running brokers: the bound port of sessions written
    /// with `SocketConnectPort=0`, and the symbols each broker quotes (market data defaults).
    static func sessions(
        _ configuration: AgentConfiguration, simulator: BrokerSimulatorServer?
    ) throws -> (ports: [String: Int], marketDataSymbols: [String: [String]]) {
        var ports: [String: Int] = [:]
        var symbols: [String: [String]] = [:]
        for session in configuration.sessions where session.simulated {
            let mirrored = SessionIdentity(session.settings.id).reversed
            guard let simulator,
                let plan = simulator.plans.first(where: { plan in plan.sessions.contains { $0.identity == mirrored } })
            else {
                if session.settings.connectAddresses.first?.port == 0 {
                    throw AgentStartError(
                        "session \(session.name): SocketConnectPort=0, and no simulated broker serves it")
                }
                continue
            }
            symbols[session.name] = plan.configuration.instruments.map(\.symbol)
            if session.settings.connectAddresses.first?.port == 0 {
                guard let port = simulator.port(of: plan.name) else {
                    throw AgentStartError("session \(session.name): the simulated broker \(plan.name) has no port")
                }
                ports[session.name] = port
            }
        }
        return (ports, symbols)
    }
}
