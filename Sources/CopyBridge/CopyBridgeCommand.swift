import ArgumentParser

/// The `copybridge` command line.
@main
struct CopyBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copybridge",
        abstract: "Copy-trading broker bridge over FIX 4.4.",
        version: "0.1.0",
        // One per line, so that branches adding commands merge cleanly.
        subcommands: [
            AuditCommand.self,
            BenchCommand.self,
            CheckConfigCommand.self,
            CtlCommand.self,
            LedgerCommand.self,
            ReportCommand.self,
            RunCommand.self,
            SimulateCommand.self,
        ],
        // `swift run copybridge` runs the agent on sessions.conf.
        defaultSubcommand: RunCommand.self
    )
}
