import ArgumentParser
import Ledger

/// `copybridge report`: positions, P&L, provider and follower statistics, fees, copies.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a ledger report (aligned table, JSON or CSV)."
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case positions, pnl, providers, followers, fees, copies
    }

    @Argument(help: "positions, pnl, providers, followers, fees or copies.") var kind: Kind
    @Flag(help: "JSON output.") var json = false
    @Flag(help: "CSV output.") var csv = false
    @Option(help: "Window start (UTC, inclusive), e.g. 2025-01-01.") var from: String?
    @Option(help: "Window end (UTC, exclusive; a bare date includes that day). Default now.") var to: String?
    @Option(help: "Ledger database.") var database = LedgerCommandLine.defaultDatabasePath

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json, --csv") }
    }

    func run() throws {
        guard let reportKind = ReportKind(rawValue: kind.rawValue) else {
            preconditionFailure("report kind \(kind) has no ledger report")
        }
        let ledger = try Ledger.open(path: database)
        defer { try? ledger.close() }
        let text = try LedgerCommandLine.report(
            ledger: ledger, kind: reportKind, format: json ? .json : (csv ? .csv : .table), from: from, to: to,
            now: LedgerCommandLine.now())
        print(text, terminator: "")
    }
}
