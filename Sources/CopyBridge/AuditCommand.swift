import ArgumentParser
import CopyBridgeAgent
import Foundation

/// `copybridge audit`: explain a follower order from the journal, or replay the journal.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Explain a follower order, or replay the journal and compare every decision.",
        subcommands: [Explain.self, Replay.self]
    )

    struct Sources: ParsableArguments {
        @Option(help: "The settings file: its data folder's journal and ledger, and its configuration.")
        var config: String?
        @Option(help: "The journal file (instead of the settings file's).") var journal: String?

        func validate() throws {
            if config == nil && journal == nil { throw ValidationError("give --config or --journal") }
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the chain behind a follower order: provider fill, sizing, limits, order, fills, fees.",
            discussion: "Exits non-zero when the ClOrdID is not in the journal.")

        @Argument(help: "The order's ClOrdID (11).") var clOrdID: String
        @OptionGroup var sources: Sources
        @Option(help: "The ledger database (default: the settings file's data folder).") var ledger: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            do {
                let source = try AuditSource.load(
                    configurationPath: sources.config, journalPath: sources.journal, ledgerPath: ledger)
                let explanation = try AuditExplain.explain(clOrdID, source: source)
                print(json ? try AuditJSON.text(explanation) : explanation.text, terminator: "")
            } catch let error as AuditError {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Re-run the journal's inputs through a fresh engine and compare its decisions with the journal's.",
            discussion: "Needs the configuration (--config). Exits 1 when any decision differs.")

        @OptionGroup var sources: Sources
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            do {
                guard sources.config != nil else {
                    throw AuditError("replay builds the engine from the configuration: give --config")
                }
                let source = try AuditSource.load(configurationPath: sources.config, journalPath: sources.journal)
                let report = try AuditReplay.run(
                    source.scan, configuration: source.configuration!.engine, journalPath: source.journalPath)
                print(json ? try AuditJSON.text(report) : report.text, terminator: "")
                if !report.differences.isEmpty { throw ExitCode.failure }
            } catch let error as AuditError {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
    }
}
