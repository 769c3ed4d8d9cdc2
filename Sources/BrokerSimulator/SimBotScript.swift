import FIXCore

/// A bot script line the parser cannot use.
public struct SimBotScriptError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based line number; 0 when the problem is not tied to one line.
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { line > 0 ? "line \(line): \(reason)" : reason }
}

/// The bot script format (CSV):
///
/// ```
/// # offset_ms,symbol,side,quantity,type[,price[,tif]]
/// 0,EUR/USD,BUY,100000,MARKET
/// 1500,EUR/USD,SELL,50000,LIMIT,1.0870,GTC
/// 3000,XAU/USD,SELL,10,STOP,2640.0,DAY
/// ```
///
/// `offset_ms` counts from the broker's start and never decreases. `side` is BUY, SELL, B, S or
/// the FIX code 1/2; `type` is MARKET, LIMIT, STOP (or M/L/S, or 1/2/3); `price` is the limit
/// price (LIMIT) or trigger (STOP) and must be empty or absent for MARKET; `tif` is DAY, GTC,
/// IOC or FOK (default GTC). Blank lines, `#` comments and a header line starting with
/// `offset` are skipped.
public enum SimBotScript {
    public static func parse(_ text: String) throws(SimBotScriptError) -> [SimBotStep] {
        var steps: [SimBotStep] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.simTrimmed
            if line.isEmpty || line.hasPrefix("#") || line.lowercased().hasPrefix("offset") { continue }
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.simTrimmed }
            func fail(_ reason: String) -> SimBotScriptError { SimBotScriptError(line: lineNumber, reason: reason) }
            guard cells.count >= 5, cells.count <= 7 else {
                throw fail("expected offset_ms,symbol,side,quantity,type[,price[,tif]], got \(cells.count) cells")
            }
            guard let offset = Int(cells[0]), offset >= 0 else {
                throw fail("offset '\(cells[0])' is not milliseconds")
            }
            if let previous = steps.last, offset < previous.offsetMs {
                throw fail("offset \(offset) is earlier than the line before (\(previous.offsetMs))")
            }
            guard !cells[1].isEmpty else { throw fail("symbol is empty") }
            let side: SimSide
            switch cells[2].uppercased() {
            case "BUY", "B", "1": side = .buy
            case "SELL", "S", "2": side = .sell
            default: throw fail("side '\(cells[2])' is not BUY or SELL")
            }
            guard let quantity = FixedDecimal(cells[3]), quantity.isPositive else {
                throw fail("quantity '\(cells[3])' is not a positive number")
            }
            let ordType: SimOrdType
            switch cells[4].uppercased() {
            case "MARKET", "M", "1": ordType = .market
            case "LIMIT", "L", "2": ordType = .limit
            case "STOP", "S", "3": ordType = .stop
            default: throw fail("type '\(cells[4])' is not MARKET, LIMIT or STOP")
            }
            let priceCell = cells.count > 5 ? cells[5] : ""
            var price: FixedDecimal? = nil
            if !priceCell.isEmpty {
                guard let p = FixedDecimal(priceCell), p.isPositive else {
                    throw fail("price '\(priceCell)' is not a positive number")
                }
                price = p
            }
            switch ordType {
            case .market: if price != nil { throw fail("a MARKET order takes no price") }
            case .limit, .stop, .stopLimit:
                if price == nil { throw fail("a \(cells[4].uppercased()) order needs a price") }
            }
            var tif = SimTimeInForce.goodTillCancel
            if cells.count > 6, !cells[6].isEmpty {
                switch cells[6].uppercased() {
                case "DAY": tif = .day
                case "GTC": tif = .goodTillCancel
                case "IOC": tif = .immediateOrCancel
                case "FOK": tif = .fillOrKill
                default: throw fail("tif '\(cells[6])' is not DAY, GTC, IOC or FOK")
                }
            }
            steps.append(
                SimBotStep(
                    offsetMs: offset, symbol: cells[1], side: side, quantity: quantity, ordType: ordType, price: price,
                    timeInForce: tif))
        }
        return steps
    }
}
