import FIXCore
import Foundation

/// What `copybridge ledger` and `copybridge report` do, as functions returning the text they print,
/// so the command line is tested without a subprocess.
public enum LedgerCommandLine {
    /// Where the ledger lives until the configuration's data folder provides the path.
    public static let defaultDatabasePath = "data/ledger.sqlite"

    /// The current instant, millisecond precision.
    public static func now() -> UTCTimestamp {
        let millis = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        return UTCTimestamp(nanosecondsSinceEpoch: millis * 1_000_000, precision: .milliseconds)
    }

    /// Parses a UTC instant: `2025-01-31`, `20250131`, `2025-01-31T10:00:00[.123][Z]`,
    /// `2025-01-31 10:00:00` or FIX `20250131-10:00:00[.123]`. A bare date is its midnight, or with
    /// `endOfDay` the next midnight (so `--to 2025-01-31` includes the whole of 31 January).
    public static func parseTime(_ text: String, endOfDay: Bool = false) -> UTCTimestamp? {
        var text = text.trimmingCharacters(in: .whitespaces)
        if let fix = UTCTimestamp(text) { return fix }
        if text.hasSuffix("Z") { text.removeLast() }
        let parts = text.split(whereSeparator: { $0 == "T" || $0 == " " }).map(String.init)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        let date = parts[0].filter { $0 != "-" }
        guard date.count == 8, date.allSatisfy(\.isASCII), date.allSatisfy(\.isNumber) else { return nil }
        if parts.count == 1 {
            guard var midnight = UTCTimestamp(date + "-00:00:00.000") else { return nil }
            if endOfDay { midnight.nanosecondsSinceEpoch += 86_400_000_000_000 }
            return midnight
        }
        return UTCTimestamp(date + "-" + parts[1])
    }

    /// Parses a positive decimal amount.
    public static func parseAmount(_ text: String) throws -> FixedDecimal {
        guard let amount = FixedDecimal(text), amount.isPositive else {
            throw LedgerError.invalidInput("amount '\(text)' is not a positive decimal number")
        }
        return amount
    }

    /// `copybridge ledger deposit|withdraw`: records the flow and says what was recorded.
    public static func recordCashFlow(
        ledger: Ledger, owner: AccountOwner, account: String, kind: CashFlow.Kind, amount: String, currency: String,
        time: UTCTimestamp, note: String = "", id: String? = nil
    ) throws -> String {
        let value = try parseAmount(amount)
        let flow = CashFlow(
            flowID: id ?? UUID().uuidString.lowercased(), account: AccountRef(owner: owner, account: account),
            kind: kind, amount: value, currency: currency, time: time, note: note)
        let what =
            "\(kind.rawValue) of \(value) \(currency.uppercased()) for \(flow.account) at \(time) (id \(flow.flowID))"
        switch try ledger.record(flow) {
        case .recorded: return "recorded \(what)\n"
        case .duplicate: return "already recorded: \(what)\n"
        case .conflicting(let reason): throw LedgerError.invalidInput(reason)
        }
    }

    /// `copybridge ledger crystallise`: records every fee due by `asOf` and lists the charges.
    public static func crystallise(ledger: Ledger, asOf: UTCTimestamp) throws -> String {
        let charges = try ledger.crystallise(asOf: asOf)
        if charges.isEmpty { return "no fees due by \(asOf)\n" }
        var out = "crystallised \(charges.count) charge(s) due by \(asOf):\n"
        for charge in charges {
            out +=
                "  \(charge.crystallisedAt) \(charge.subscriptionID) \(charge.kind.rawValue) (\(charge.reason.rawValue)): "
            out += "\(LedgerRounding.display(charge.amount, currency: charge.currency)) \(charge.currency)\n"
        }
        return out
    }

    /// `copybridge report KIND`: the rendered report. `to` defaults to `now`.
    public static func report(
        ledger: Ledger, kind: ReportKind, format: ReportFormat, from: String?, to: String?, now: UTCTimestamp
    ) throws -> String {
        var start: UTCTimestamp?
        if let from {
            guard let parsed = parseTime(from) else { throw LedgerError.invalidInput("--from '\(from)' is not a time") }
            start = parsed
        }
        var end = now
        if let to {
            guard let parsed = parseTime(to, endOfDay: true) else {
                throw LedgerError.invalidInput("--to '\(to)' is not a time")
            }
            end = parsed
        }
        if let start, start >= end { throw LedgerError.invalidInput("--from \(start) is not before --to \(end)") }
        return try ledger.renderReport(kind, format: format, window: ReportWindow(from: start, to: end))
    }
}
