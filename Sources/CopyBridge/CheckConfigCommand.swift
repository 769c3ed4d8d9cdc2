import ArgumentParser
import BrokerSimulator
import FIXSession
import Foundation

/// The settings schema of the whole product: every module that owns a block kind or keys adds its
/// schema here.
enum CopyBridgeSettings {
    static let schema = SettingsSchema.composed([
        SessionSettings.schema,
        SimSettings.schema,
    ])
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
