import ArgumentParser
import CopyBridgeAgent
import Foundation

/// `copybridge ctl`: operator commands to the running agent over its admin API.
struct CtlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Send an operator command to the running agent.",
        discussion: """
            COMMAND is one of:
              status                 the agent's state
              pause FOLLOWER         stop copying for a follower (his positions stay)
              resume FOLLOWER        copy again (also after flatten)
              disable PROVIDER       stop copying her new positions for every follower;
                                     with --flatten, also close their copies of hers
              enable PROVIDER        copy a disabled provider again
              flatten FOLLOWER       close all of his copies; nothing new until resume
              reset-breaker NAME     re-arm a tripped breaker, or every breaker of a
                                     follower, provider or session
              resync                 ask every broker again for orders and positions

            The admin port and token come from the [ADMIN] block of the settings file \
            (HttpPort, AdminToken or AdminTokenFile). Every command is journaled with who \
            sent it (ctl:$USER) and --reason.
            """
    )

    @Argument(help: ArgumentHelp("The command and its target, e.g. `pause bob`.", valueName: "command"))
    var words: [String] = []

    @Flag(help: "disable: also close the followers' copies of the provider's positions.")
    var flatten = false

    @Option(help: "Why, for the audit journal.")
    var reason: String?

    @Option(help: "The settings file whose [ADMIN] block names the port and token.")
    var config: String = "sessions.conf"

    @Flag(help: "Print the agent's JSON answer.")
    var json = false

    /// The command the words and flags name.
    func command() throws(AdminCommandParseError) -> AdminCommand {
        let command = try AdminCommand(arguments: words.isEmpty ? ["status"] : words)
        if flatten, case .disable(let provider, _) = command { return .disable(provider: provider, flatten: true) }
        return command
    }

    func validate() throws {
        do {
            let command = try command()
            if flatten, case .disable = command {
            } else if flatten {
                throw ValidationError("--flatten goes with disable PROVIDER")
            }
        } catch let error as AdminCommandParseError {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        try await send(try command())
    }

    private func send(_ command: AdminCommand) async throws {
        let user = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.userName
        do {
            let settings = try AdminControl.configuration(file: config)
            let response = try await AdminControl.send(
                command, to: settings, file: config, actor: "ctl:\(user)", reason: reason)
            print(json ? AdminControl.json(response) : AdminControl.render(response), terminator: json ? "\n" : "")
        } catch {
            FileHandle.standardError.write(Data("copybridge ctl: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
