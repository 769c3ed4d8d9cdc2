import ArgumentParser
import CopyBridgeAgent
import FIXSession
import Foundation
import Logging

/// `copybridge run`: the agent. The default command, so `swift run copybridge` runs `sessions.conf`.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: connect every session of the settings file and copy trades.",
        discussion: """
            Starts the simulated brokers of Simulator=Y sessions, recovers from the journal in the data folder, \
            logs every session on and copies the providers' fills to their followers, printing a line per \
            copy and decision and a summary every SummaryIntervalSeconds. SIGINT or SIGTERM (or --duration) \
            stops it gracefully: no new copies, sessions logged out, journal and ledger flushed, simulated \
            brokers' books written, and a summary report printed.
            """
    )

    @Option(help: "The settings file (QuickFIX syntax).")
    var config: String = "sessions.conf"

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @Option(help: "Data folder for the journal, ledger, stores and books (replaces [AGENT] DataFolder).")
    var data: String?

    @Flag(help: "Print sessions, alerts and summaries only, not every copy and decision.")
    var quiet = false

    func validate() throws {
        if let duration, !(duration > 0) { throw ValidationError("--duration must be a positive number of seconds") }
    }

    func run() async throws {
        let configuration: AgentConfiguration
        do {
            configuration = try AgentConfiguration.load(path: config, dataFolder: data)
        } catch {
            FileHandle.standardError.write(Data(error.diagnostics.map { "\($0)\n" }.joined().utf8))
            throw ExitCode.failure
        }
        FileHandle.standardError.write(Data(configuration.file.warnings.map { "\($0)\n" }.joined().utf8))
        var logger = Logger(label: "copybridge")
        logger.logLevel = .notice
        let runtime = AgentRuntime(
            configuration: configuration, options: AgentRuntimeOptions(printsActivity: !quiet, logger: logger))
        ConsoleOutput.standardOutput([
            "copybridge \(AgentRuntime.version): \(configuration.sessions.count) sessions, "
                + "\(configuration.engine.providers.count) providers, \(configuration.engine.followers.count) followers; "
                + "data in \(configuration.agent.dataFolder)"
        ])
        do {
            try await AgentService.runUntilSignalled(
                runtime, duration: duration.map { .milliseconds(Int64($0 * 1000)) }, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("copybridge run: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
