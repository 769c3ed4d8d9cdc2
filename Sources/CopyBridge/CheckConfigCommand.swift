import ArgumentParser
import CopyBridgeAgent
import FIXSession
import Foundation

/// The settings schema of the whole product, as `run`, `check-config` and `simulate` read a file: the
/// composition lives with the agent (``CopyBridgeSchema``), which builds its configuration from it.
enum CopyBridgeSettings {
    static let schema = CopyBridgeSchema.schema
}

/// `copybridge check-config FILE`: validates a settings file and lists its sessions.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a settings file and list its sessions.",
        discussion: "Prints every problem as file:line: message and exits non-zero when there is an error."
    )

    @Argument(help: "The settings file (QuickFIX syntax).")
    var file: String = "sessions.conf"

    func run() throws {
        let result = ConfigurationCheck.run(path: file, schema: CopyBridgeSettings.schema)
        let problems = result.diagnostics.map { "\($0)\n" }.joined()
        FileHandle.standardError.write(Data(problems.utf8))
        print(result.report, terminator: "")
        if !result.isValid { throw ExitCode.failure }
    }
}
