import ArgumentParser
import Ledger

/// `copybridge ledger`: record cash flows, crystallise fees.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Record deposits and withdrawals, and crystallise fees.",
        subcommands: [Deposit.self, Withdraw.self, Crystallise.self]
    )

    struct FlowOptions: ParsableArguments {
        @Option(help: "Follower id (or use --provider).") var follower: String?
        @Option(help: "Provider id, for a provider account's capital.") var provider: String?
        @Option(help: "Account at the broker.") var account: String
        @Option(help: "Positive decimal amount.") var amount: String
        @Option(help: "ISO currency code; must be the account currency.") var currency: String
        @Option(help: "Ledger database.") var database = LedgerCommandLine.defaultDatabasePath
        @Option(help: "Free text kept with the flow.") var note = ""
        @Option(help: "Idempotency id (default: a new UUID).") var id: String?
        @Option(help: "When (UTC; default now).") var time: String?

        func validate() throws {
            if (follower == nil) == (provider == nil) {
                throw ValidationError("give exactly one of --follower, --provider")
            }
            if let time, LedgerCommandLine.parseTime(time) == nil {
                throw ValidationError("--time '\(time)' is not a time")
            }
        }

        func record(_ kind: CashFlow.Kind) throws {
            let owner: AccountOwner = follower.map { .follower($0) } ?? .provider(provider!)
            let at = time.flatMap { LedgerCommandLine.parseTime($0) } ?? LedgerCommandLine.now()
            let ledger = try Ledger.open(path: database)
            defer { try? ledger.close() }
            print(
                try LedgerCommandLine.recordCashFlow(
                    ledger: ledger, owner: owner, account: account, kind: kind, amount: amount, currency: currency,
                    time: at, note: note, id: id),
                terminator: "")
        }
    }

    struct Deposit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a deposit.")
        @OptionGroup var options: FlowOptions
        func run() throws { try options.record(.deposit) }
    }

    struct Withdraw: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a withdrawal.")
        @OptionGroup var options: FlowOptions
        func run() throws { try options.record(.withdrawal) }
    }

    struct Crystallise: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record every fee due by --as-of (default now).")
        @Option(help: "Ledger database.") var database = LedgerCommandLine.defaultDatabasePath
        @Option(name: .customLong("as-of"), help: "UTC instant (default now).") var asOf: String?

        func run() throws {
            var at = LedgerCommandLine.now()
            if let asOf {
                guard let parsed = LedgerCommandLine.parseTime(asOf) else {
                    throw ValidationError("--as-of '\(asOf)' is not a time")
                }
                at = parsed
            }
            let ledger = try Ledger.open(path: database)
            defer { try? ledger.close() }
            print(try LedgerCommandLine.crystallise(ledger: ledger, asOf: at), terminator: "")
        }
    }
}
