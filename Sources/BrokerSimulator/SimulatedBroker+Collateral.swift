import FIXCore

/// A CollateralInquiry (BB) with SubscriptionRequestType 1, alive until disabled (2) or logout.
struct CollateralSubscription: Sendable {
    var inquiryID: String
    var account: String
    /// The equity of the latest report sent for it.
    var lastEquity: FixedDecimal
}

/// What an account is worth at the broker, in its `Currency`, rounded to cents (half even).
///
/// P&L is made in each symbol's quote currency (`USD/JPY`, `USDJPY.m`: JPY) and converted at the
/// mid of a symbol that pairs it with `Currency`; without such a symbol it counts as it is.
public struct SimAccountValuation: Sendable, Equatable {
    public var account: String
    /// `Equity` (or `AccountEquity`) plus the P&L realised by closing trades.
    public var cash: FixedDecimal
    /// Open positions valued at the mid price against their average open price.
    public var unrealizedPnL: FixedDecimal
    /// `cash + unrealizedPnL`.
    public var equity: FixedDecimal { (cash + unrealizedPnL).normalized }
}

/// CollateralInquiry (BB) → CollateralReport (BA), the standard FIX 4.4 way to read an account's
/// equity.
///
/// Reports carry TotalNetValue (900) = equity and CashOutstanding (901) = cash. Updates to a
/// subscription are sent on fills, not on price ticks: each fill of the account (a slice counts)
/// revalues it at that instant's quotes and sends a report when the equity differs from the last
/// one sent, so a subscriber sees at most one report per fill and none while nothing trades.
extension SimulatedBroker {
    // MARK: Valuation

    /// The account's cash and unrealised P&L now; `nil` when the broker knows no equity for it
    /// (no `Equity` and no `AccountEquity` entry).
    public func accountValuation(_ account: String) -> SimAccountValuation? {
        guard let start = configuration.startingCash(for: account) else { return nil }
        var cash = start
        var unrealized = FixedDecimal.zero
        for (key, position) in positionTable where key.account == account {
            cash += inAccountCurrency(position.realizedPnL, of: key.symbol)
            if !position.quantity.isZero, let quote = quotes[key.symbol] {
                unrealized += inAccountCurrency(position.quantity * (quote.mid - position.averagePrice), of: key.symbol)
            }
        }
        return SimAccountValuation(
            account: account, cash: cash.rounded(scale: 2, .halfEven).normalized,
            unrealizedPnL: unrealized.rounded(scale: 2, .halfEven).normalized)
    }

    /// The base and quote currency of a symbol written `EUR/USD` or starting with six letters
    /// (`EURUSD`, `EURUSD.m`); `nil` for anything else.
    static func currencies(of symbol: String) -> (base: String, quote: String)? {
        let parts = symbol.split(separator: "/")
        if parts.count == 2, parts[0].count == 3, parts[1].count >= 3 {
            return (String(parts[0]), String(parts[1].prefix(3)))
        }
        let letters = symbol.prefix(6)
        guard letters.count == 6, letters.allSatisfy({ $0.isLetter && $0.isUppercase }) else { return nil }
        return (String(letters.prefix(3)), String(letters.suffix(3)))
    }

    /// `amount` in `symbol`'s quote currency, converted to the account currency at the mid of a
    /// symbol quoting one in the other; unconverted when none does.
    func inAccountCurrency(_ amount: FixedDecimal, of symbol: String) -> FixedDecimal {
        let currency = configuration.currency
        guard !amount.isZero, let quote = Self.currencies(of: symbol)?.quote, quote != currency else { return amount }
        for instrument in instruments {
            guard let pair = Self.currencies(of: instrument.symbol), let mid = quotes[instrument.symbol]?.mid,
                mid.isPositive
            else { continue }
            if pair == (currency, quote) { return amount.divided(by: mid, scale: 10, .halfEven) }
            if pair == (quote, currency) { return amount * mid }
        }
        return amount
    }

    // MARK: CollateralInquiry (BB)

    mutating func collateralInquiry(
        _ m: FIXMessage, _ session: SimSessionKey, into out: inout [SimOutput]
    ) throws(SimRequestError) {
        guard configuration.answersCollateralInquiries else { return }
        let inquiryID = try Self.collateralField(m, 909)
        let account = try Self.collateralField(m, FIXTag.account)
        let subscription = Self.optionalString(m, 263) ?? "0"
        func ack(_ status: Int, result: Int?, _ text: String) -> SimOutput {
            var b = FIXMessageBuilder(msgType: "BG")
            b.set(909, inquiryID)
            b.set(945, status)  // CollInquiryStatus
            if let result { b.set(946, result) }  // CollInquiryResult
            b.set(FIXTag.account, account)
            b.set(FIXTag.text, text)
            return .send(session, b)
        }
        switch subscription {
        case "2":
            collateralSubscriptions[session]?.removeAll { $0.inquiryID == inquiryID }
            return out.append(ack(2, result: 0, "Subscription \(inquiryID) ended"))  // Completed, Successful
        case "0", "1":
            break
        default:
            // Rejected, Other.
            return out.append(ack(4, result: 99, "Unsupported SubscriptionRequestType \(subscription)"))
        }
        guard let valuation = accountValuation(account) else {
            return out.append(ack(4, result: 99, "Unknown account \(account)"))
        }
        if subscription == "1" {
            if collateralSubscriptions[session, default: []].contains(where: { $0.inquiryID == inquiryID }) {
                return out.append(ack(4, result: 99, "Duplicate CollInquiryID \(inquiryID)"))
            }
            collateralSubscriptions[session, default: []].append(
                CollateralSubscription(inquiryID: inquiryID, account: account, lastEquity: valuation.equity))
        }
        out.append(.send(session, collateralReport(inquiryID, valuation)))
    }

    /// A required field of a CollateralInquiry, or BusinessMessageReject 380=5 naming it.
    static func collateralField(_ m: FIXMessage, _ tag: Int) throws(SimRequestError) -> String {
        guard let v = optionalString(m, tag) else {
            throw SimRequestError(
                reply: SimEcho.businessReject(
                    m, reason: 5, refID: m[909], text: "CollateralInquiry needs tag \(tag)"))
        }
        return v
    }

    /// CollateralReport (BA) of one account, answering `inquiryID`.
    mutating func collateralReport(_ inquiryID: String, _ valuation: SimAccountValuation) -> FIXMessageBuilder {
        collateralCounter += 1
        var b = FIXMessageBuilder(msgType: "BA")
        b.set(908, "\(idPrefix)-C\(collateralCounter)")  // CollRptID
        b.set(909, inquiryID)
        b.set(910, 3)  // CollStatus: assigned
        b.set(911, 1)  // TotNumReports
        b.set(FIXTag.account, valuation.account)
        b.set(15, configuration.currency)  // Currency
        b.set(900, valuation.equity)  // TotalNetValue
        b.set(901, valuation.cash)  // CashOutstanding
        return b
    }

    /// After a fill of `account`: a report to each subscription whose equity it changed.
    mutating func collateralChanged(_ account: String, into out: inout [SimOutput]) {
        guard !collateralSubscriptions.isEmpty else { return }
        var valuation: SimAccountValuation?
        for session in collateralSubscriptions.keys.sorted() {
            for i in collateralSubscriptions[session]!.indices
            where collateralSubscriptions[session]![i].account == account {
                guard let v = valuation ?? accountValuation(account) else { return }
                valuation = v
                guard v.equity != collateralSubscriptions[session]![i].lastEquity else { continue }
                collateralSubscriptions[session]![i].lastEquity = v.equity
                out.append(.send(session, collateralReport(collateralSubscriptions[session]![i].inquiryID, v)))
            }
        }
    }
}
