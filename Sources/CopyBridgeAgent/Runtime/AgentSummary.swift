import FIXCore
import Foundation

/// What a run did, for the report printed when the agent stops (and periodically while it runs).
public struct AgentSummary: Sendable, Equatable {
    /// One follower's position in one symbol.
    public struct Position: Sendable, Equatable {
        public var symbol: String
        /// Units, signed.
        public var quantity: FixedDecimal
        public var averagePrice: FixedDecimal?
        /// Realized P&L in the symbol's quote currency.
        public var realized: FixedDecimal
        /// Unrealized P&L at the last mark, in the quote currency; `nil` without a mark.
        public var unrealized: FixedDecimal?
        /// The quote currency, when the symbol names one.
        public var currency: String?
    }

    public struct Follower: Sendable, Equatable {
        public var id: String
        public var status: String
        public var copies: Int
        public var fills: Int
        /// Quantity-weighted slippage against the provider's price, in basis points (positive: worse).
        public var averageSlippageBps: Double?
        public var positions: [Position]
        /// Realized and unrealized P&L converted to the account currency where marks allow.
        public var realizedInAccountCurrency: FixedDecimal?
        public var unrealizedInAccountCurrency: FixedDecimal?
    }

    public var runningSeconds: Double
    public var signals: Int
    /// Orders sent for followers (one per follower and order; a block order counts each follower).
    public var copies: Int
    public var ordersSent: Int
    /// Orders completely filled.
    public var filledOrders: Int
    public var rejectedOrders: Int
    /// Orders that ended without a complete fill (IOC remainder cancelled, expired).
    public var unfilledOrders: Int
    /// Skips and size-downs by reason code.
    public var skips: [String: Int]
    /// Tick-to-copy: from the provider's fill arriving to the copy handed to the session, µs.
    public var latencyP50Micros: Double?
    public var latencyP99Micros: Double?
    public var latencyMaxMicros: Double?
    public var latencySamples: Int
    public var averageSlippageBps: Double?
    public var accountCurrency: String
    public var followers: [Follower]

    /// Filled orders over orders that reached an outcome.
    public var fillRate: Double? {
        let outcomes = filledOrders + rejectedOrders + unfilledOrders
        return outcomes > 0 ? Double(filledOrders) / Double(outcomes) : nil
    }

    /// Several lines for a terminal.
    public var text: String {
        var lines: [String] = []
        lines.append("── CopyBridge summary after \(Self.duration(runningSeconds)) ──")
        var counts = "signals \(signals)  copies \(copies)  orders \(ordersSent)  filled \(filledOrders)"
        counts += "  rejected \(rejectedOrders)  unfilled \(unfilledOrders)"
        if let rate = fillRate { counts += "  fill rate \(Self.percent(rate))" }
        lines.append(counts)
        if let p50 = latencyP50Micros, let p99 = latencyP99Micros {
            var latency = "tick-to-copy p50 \(Self.micros(p50))  p99 \(Self.micros(p99))"
            if let max = latencyMaxMicros { latency += "  max \(Self.micros(max))" }
            lines.append(latency + "  (\(latencySamples) copies)")
        } else {
            lines.append("tick-to-copy: no copies yet")
        }
        if let slip = averageSlippageBps { lines.append("slippage: average \(Self.bps(slip)) against the provider") }
        if !skips.isEmpty {
            lines.append(
                "skips: "
                    + skips.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                    .map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        var rows: [[String]] = [["FOLLOWER", "STATUS", "SYMBOL", "POSITION", "AVG PRICE", "REALIZED", "UNREALIZED"]]
        for f in followers {
            if f.positions.isEmpty {
                rows.append([f.id, f.status, "-", "0", "", "", ""])
            }
            for (i, p) in f.positions.enumerated() {
                let ccy = p.currency.map { " \($0)" } ?? ""
                rows.append([
                    i == 0 ? f.id : "", i == 0 ? f.status : "", p.symbol, Self.signed(p.quantity),
                    p.averagePrice.map { $0.normalized.description } ?? "",
                    Self.money(p.realized) + ccy, p.unrealized.map { Self.money($0) + ccy } ?? "n/a",
                ])
            }
            if f.positions.count > 0 {
                let realized = f.realizedInAccountCurrency.map { Self.money($0) + " " + accountCurrency } ?? "n/a"
                let unrealized = f.unrealizedInAccountCurrency.map { Self.money($0) + " " + accountCurrency } ?? "n/a"
                var total = ["", "", "total", "", "", realized, unrealized]
                if let slip = f.averageSlippageBps { total[4] = "slip \(Self.bps(slip))" }
                rows.append(total)
            }
        }
        lines.append(contentsOf: Self.table(rows))
        return lines.joined(separator: "\n")
    }

    /// One line for the periodic report.
    public var line: String {
        var text = "summary: signals \(signals), copies \(copies), filled \(filledOrders), rejected \(rejectedOrders)"
        if let rate = fillRate { text += ", fill rate \(Self.percent(rate))" }
        if let p50 = latencyP50Micros, let p99 = latencyP99Micros {
            text += ", tick-to-copy p50 \(Self.micros(p50)) p99 \(Self.micros(p99))"
        }
        if let slip = averageSlippageBps { text += ", slippage \(Self.bps(slip))" }
        return text
    }

    static func table(_ rows: [[String]]) -> [String] {
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }.joined()
        }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return String(format: "%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
    }

    static func micros(_ value: Double) -> String {
        value >= 1000 ? String(format: "%.2f ms", value / 1000) : String(format: "%.0f µs", value)
    }

    static func percent(_ fraction: Double) -> String { String(format: "%.1f%%", fraction * 100) }

    static func bps(_ value: Double) -> String { String(format: "%.2f bps", value) }

    static func money(_ value: FixedDecimal) -> String { value.rounded(scale: 2, .halfEven).description }

    static func signed(_ value: FixedDecimal) -> String {
        value.isPositive ? "+\(value.normalized)" : value.normalized.description
    }
}
