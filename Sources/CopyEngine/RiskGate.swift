import FIXCore

/// A follower's limits for one symbol, in units (his broker quantities × contract size).
public struct RiskLimits: Sendable, Equatable {
    /// The quantity step.
    public var lotUnits: FixedDecimal
    /// Smallest non-zero order or position (0: none).
    public var minUnits: FixedDecimal
    /// Largest single order (0: no limit).
    public var maxOrderUnits: FixedDecimal
    /// Largest position (0: no limit).
    public var maxPositionUnits: FixedDecimal

    public init(
        lotUnits: FixedDecimal, minUnits: FixedDecimal, maxOrderUnits: FixedDecimal, maxPositionUnits: FixedDecimal
    ) {
        self.lotUnits = lotUnits
        self.minUnits = minUnits
        self.maxOrderUnits = maxOrderUnits
        self.maxPositionUnits = maxPositionUnits
    }
}

/// A follower's limits across symbols. Notionals are quantity (units) × price, in the quote
/// currency, which is taken to be his account currency (as risk-percent sizing does).
public struct AccountLimits: Sendable, Equatable {
    /// 0: no limit (all of them).
    public var maxOrderNotional: FixedDecimal
    public var maxPositionNotional: FixedDecimal
    public var maxOpenPositions: Int
    public var maxLeverage: FixedDecimal
    public var exceedPolicy: ExceedPolicy

    public init(
        maxOrderNotional: FixedDecimal = 0, maxPositionNotional: FixedDecimal = 0, maxOpenPositions: Int = 0,
        maxLeverage: FixedDecimal = 0, exceedPolicy: ExceedPolicy = .clamp
    ) {
        self.maxOrderNotional = maxOrderNotional
        self.maxPositionNotional = maxPositionNotional
        self.maxOpenPositions = maxOpenPositions
        self.maxLeverage = maxLeverage
        self.exceedPolicy = exceedPolicy
    }

    public static let none = AccountLimits()

    /// A limit needs prices.
    public var needsPrice: Bool {
        maxOrderNotional.isPositive || maxPositionNotional.isPositive || maxLeverage.isPositive
    }
}

/// What the gate is asked about.
public struct RiskContext: Sendable {
    public var followerID: String
    /// Canonical symbol.
    public var symbol: String
    public var limits: RiskLimits
    /// His copied position plus his working orders (signed units) before the order.
    public var exposure: FixedDecimal
    /// Units per quantity unit of his session: findings report quantities as the keys are written.
    public var contractSize: FixedDecimal
    public var account: AccountLimits
    /// The price of one unit (the mark's mid, else the provider's price), for notional limits.
    public var price: FixedDecimal?
    /// His equity, for MaxLeverage.
    public var equity: FixedDecimal?
    /// Gross notional of his other symbols (copied positions and working orders), for MaxLeverage.
    public var otherGrossNotional: FixedDecimal
    /// His other symbols with a copied position or working order, for MaxOpenPositions.
    public var otherOpenPositions: Int

    public init(
        followerID: String, symbol: String, limits: RiskLimits, exposure: FixedDecimal, contractSize: FixedDecimal = 1,
        account: AccountLimits = .none, price: FixedDecimal? = nil, equity: FixedDecimal? = nil,
        otherGrossNotional: FixedDecimal = 0, otherOpenPositions: Int = 0
    ) {
        self.followerID = followerID
        self.symbol = symbol
        self.limits = limits
        self.exposure = exposure
        self.contractSize = contractSize
        self.account = account
        self.price = price
        self.equity = equity
        self.otherGrossNotional = otherGrossNotional
        self.otherOpenPositions = otherOpenPositions
    }
}

/// One limit the gate applied: which, the value it saw and the bound it holds to.
public struct RiskFinding: Sendable, Equatable, CustomStringConvertible {
    public var reason: ReasonCode
    /// The key of the limit (`MaxOrderQty`), when a limit is concerned.
    public var limit: String?
    /// Quantities in his session's unit, notionals in the account currency, leverage as a ratio.
    public var value: FixedDecimal?
    public var bound: FixedDecimal?

    public init(_ reason: ReasonCode, limit: String? = nil, value: FixedDecimal? = nil, bound: FixedDecimal? = nil) {
        self.reason = reason
        self.limit = limit
        self.value = value
        self.bound = bound
    }

    /// `limit=MaxOrderQty value=15 bound=10`, the decision's detail.
    public var description: String {
        guard let limit else { return reason.rawValue }
        var text = "limit=\(limit)"
        if let value { text += " value=\(value.normalized)" }
        if let bound { text += " bound=\(bound.normalized)" }
        return text
    }
}

/// The gate's answer: the quantity allowed (signed units, zero to block) and why it differs.
public struct RiskVerdict: Sendable, Equatable {
    public var quantity: FixedDecimal
    public var findings: [RiskFinding]

    public init(quantity: FixedDecimal, findings: [RiskFinding] = []) {
        self.quantity = quantity
        self.findings = findings
    }

    public var reasons: [ReasonCode] { findings.map(\.reason) }
}

/// The risk checks between planning and routing.
///
/// The planner asks it about a follower's target (the position he should hold), about every
/// order before it is routed, and, with `ExceedPolicy=skip`, about every increase before it is
/// accepted. Limits gate new exposure: an order that brings his exposure closer to flat always
/// passes (only MaxOrderQty and MaxOrderNotional split it), and a missing price or equity blocks
/// only increases. Account-wide state (loss breakers, kill switches) lives in the engine
/// (`LossProtection.swift`, `Breakers.swift`).
public struct RiskGate: Sendable {
    public init() {}

    /// Reviews a target position.
    public mutating func reviewTarget(_ target: FixedDecimal, context: RiskContext) -> RiskVerdict {
        let limits = context.limits
        if limits.maxPositionUnits.isPositive && target.magnitude > limits.maxPositionUnits {
            let capped = limits.maxPositionUnits.rounded(toMultipleOf: limits.lotUnits, .down)
            return RiskVerdict(
                quantity: .signed(capped, target.signum),
                findings: [
                    finding(.clampedMaxPosition, "MaxPositionQty", target.magnitude, limits.maxPositionUnits, context)
                ])
        }
        return RiskVerdict(quantity: target)
    }

    /// Reviews an order of `quantity` (signed units).
    ///
    /// Orders are whole lots, except one that brings his copied exposure exactly to flat (a close
    /// must be able to undo an odd-sized fill). MinQty does not block closes to flat either.
    public mutating func reviewOrder(_ quantity: FixedDecimal, context: RiskContext) -> RiskVerdict {
        let limits = context.limits
        let account = context.account
        let lot = limits.lotUnits
        let exposure = context.exposure
        var q = quantity
        var findings: [RiskFinding] = []
        func blocked() -> RiskVerdict { RiskVerdict(quantity: 0, findings: findings) }
        func increases() -> Bool { (exposure + q).magnitude > exposure.magnitude }
        if !(exposure + q).isZero {
            q = q.rounded(toMultipleOf: lot, .down)
            if q.isZero { return RiskVerdict(quantity: 0, findings: [RiskFinding(.belowLot)]) }
        }
        if limits.maxOrderUnits.isPositive && q.magnitude > limits.maxOrderUnits {
            findings.append(finding(.clampedMaxOrder, "MaxOrderQty", q.magnitude, limits.maxOrderUnits, context))
            q = .signed(limits.maxOrderUnits.rounded(toMultipleOf: lot, .down), q.signum)
            if q.isZero { return blocked() }
        }
        if account.maxOrderNotional.isPositive {
            if let px = context.price {
                let notional = Self.notional(q.magnitude, px)
                if notional == nil || notional! > account.maxOrderNotional {
                    findings.append(
                        RiskFinding(
                            .clampedMaxOrderNotional, limit: "MaxOrderNotional", value: notional,
                            bound: account.maxOrderNotional))
                    q = .signed(Self.units(account.maxOrderNotional, at: px, lot: lot), q.signum)
                    if q.isZero { return blocked() }
                }
            } else if increases() {
                findings.append(RiskFinding(.noMark, limit: "MaxOrderNotional"))
                return blocked()
            }
        }
        if limits.maxPositionUnits.isPositive {
            let after = exposure + q
            if after.magnitude > limits.maxPositionUnits && after.magnitude > exposure.magnitude {
                let allowed = (FixedDecimal.signed(limits.maxPositionUnits, after.signum) - exposure)
                    .rounded(toMultipleOf: lot, .down)
                findings.append(
                    finding(.clampedMaxPosition, "MaxPositionQty", after.magnitude, limits.maxPositionUnits, context))
                if allowed.isZero || allowed.signum != q.signum { return blocked() }
                q = allowed
            }
        }
        if account.maxPositionNotional.isPositive && increases() {
            guard let px = context.price else {
                findings.append(RiskFinding(.noMark, limit: "MaxPositionNotional"))
                return blocked()
            }
            let after = exposure + q
            let notional = Self.notional(after.magnitude, px)
            if notional == nil || notional! > account.maxPositionNotional {
                findings.append(
                    RiskFinding(
                        .clampedMaxPositionNotional, limit: "MaxPositionNotional", value: notional,
                        bound: account.maxPositionNotional))
                let cap = Self.units(account.maxPositionNotional, at: px, lot: lot)
                guard let allowed = Self.increase(to: cap, from: exposure, direction: after.signum, lot: lot),
                    allowed.signum == q.signum
                else { return blocked() }
                q = allowed
            }
        }
        if account.maxLeverage.isPositive && increases() {
            guard let equity = context.equity, equity.isPositive else {
                findings.append(RiskFinding(.equityUnknown, limit: "MaxLeverage"))
                return blocked()
            }
            guard let px = context.price else {
                findings.append(RiskFinding(.noMark, limit: "MaxLeverage"))
                return blocked()
            }
            let after = exposure + q
            let bound = account.maxLeverage * equity
            let gross = Self.notional(after.magnitude, px).map { $0 + context.otherGrossNotional }
            if gross == nil || gross! > bound {
                findings.append(
                    RiskFinding(
                        .clampedMaxLeverage, limit: "MaxLeverage",
                        value: gross.map { $0.divided(by: equity, scale: 4, .up) }, bound: account.maxLeverage))
                let room = bound - context.otherGrossNotional
                let cap = room.isPositive ? Self.units(room, at: px, lot: lot) : 0
                guard let allowed = Self.increase(to: cap, from: exposure, direction: after.signum, lot: lot),
                    allowed.signum == q.signum
                else { return blocked() }
                q = allowed
            }
        }
        if account.maxOpenPositions > 0 && exposure.isZero && !q.isZero
            && context.otherOpenPositions >= account.maxOpenPositions
        {
            findings.append(
                RiskFinding(
                    .maxOpenPositions, limit: "MaxOpenPositions", value: FixedDecimal(context.otherOpenPositions + 1),
                    bound: FixedDecimal(account.maxOpenPositions)))
            return blocked()
        }
        if limits.minUnits.isPositive && !(exposure + q).isZero && q.magnitude < limits.minUnits {
            findings.append(RiskFinding(.belowMinQty))
            return blocked()
        }
        return RiskVerdict(quantity: q, findings: findings)
    }

    /// `ExceedPolicy=skip`: why an increase that makes `target` his target must not be copied at
    /// all (nil: it may). `context.exposure` is what he holds and has working now.
    public func reviewIncrease(target: FixedDecimal, context: RiskContext) -> RiskFinding? {
        let limits = context.limits
        let account = context.account
        let order = (target - context.exposure).magnitude
        if limits.maxPositionUnits.isPositive && target.magnitude > limits.maxPositionUnits {
            return finding(.exceedsMaxPosition, "MaxPositionQty", target.magnitude, limits.maxPositionUnits, context)
        }
        if limits.maxOrderUnits.isPositive && order > limits.maxOrderUnits {
            return finding(.exceedsMaxOrder, "MaxOrderQty", order, limits.maxOrderUnits, context)
        }
        guard account.needsPrice else { return nil }
        guard let px = context.price else { return RiskFinding(.noMark, limit: "MaxOrderNotional") }
        if account.maxPositionNotional.isPositive {
            let value = Self.notional(target.magnitude, px)
            if value == nil || value! > account.maxPositionNotional {
                return RiskFinding(
                    .exceedsMaxPositionNotional, limit: "MaxPositionNotional", value: value,
                    bound: account.maxPositionNotional)
            }
        }
        if account.maxOrderNotional.isPositive {
            let value = Self.notional(order, px)
            if value == nil || value! > account.maxOrderNotional {
                return RiskFinding(
                    .exceedsMaxOrderNotional, limit: "MaxOrderNotional", value: value, bound: account.maxOrderNotional)
            }
        }
        if account.maxLeverage.isPositive {
            guard let equity = context.equity, equity.isPositive else {
                return RiskFinding(.equityUnknown, limit: "MaxLeverage")
            }
            let gross = Self.notional(target.magnitude, px).map { $0 + context.otherGrossNotional }
            if gross == nil || gross! > account.maxLeverage * equity {
                return RiskFinding(
                    .exceedsMaxLeverage, limit: "MaxLeverage",
                    value: gross.map { $0.divided(by: equity, scale: 4, .up) },
                    bound: account.maxLeverage)
            }
        }
        return nil
    }

    func finding(
        _ reason: ReasonCode, _ limit: String, _ units: FixedDecimal, _ boundUnits: FixedDecimal, _ context: RiskContext
    ) -> RiskFinding {
        let cs = context.contractSize
        if cs == 1 { return RiskFinding(reason, limit: limit, value: units, bound: boundUnits) }
        return RiskFinding(
            reason, limit: limit, value: units.divided(by: cs, scale: 10, .halfEven).normalized,
            bound: boundUnits.divided(by: cs, scale: 10, .halfEven).normalized)
    }

    /// `units × price`, nil when it is beyond any real account (quantities and prices are peer
    /// values: a hostile one must not overflow the arithmetic).
    static func notional(_ units: FixedDecimal, _ price: FixedDecimal) -> FixedDecimal? {
        FixedDecimal.checkedProduct(units, price)
    }

    /// Whole lots of notional `amount` at `price`.
    static func units(_ amount: FixedDecimal, at price: FixedDecimal, lot: FixedDecimal) -> FixedDecimal {
        guard price.isPositive else { return 0 }
        return amount.divided(by: price, scale: 10, .down).rounded(toMultipleOf: lot, .down)
    }

    /// The order that takes `exposure` to `cap` units in `direction`, in whole lots; nil when he
    /// is already there.
    static func increase(
        to cap: FixedDecimal, from exposure: FixedDecimal, direction: Int, lot: FixedDecimal
    ) -> FixedDecimal? {
        let allowed = (FixedDecimal.signed(cap, direction) - exposure).rounded(toMultipleOf: lot, .down)
        return allowed.isZero ? nil : allowed
    }
}

extension FixedDecimal {
    /// Beyond this, money or notionals are not from a real account: 10¹⁸.
    static let moneyLimit = FixedDecimal(1_000_000_000_000_000_000)

    /// `a × b` rounded to 10 decimals, or nil when it overflows or exceeds ``moneyLimit``.
    static func checkedProduct(_ a: FixedDecimal, _ b: FixedDecimal) -> FixedDecimal? {
        let x = a.scale > 9 ? a.rounded(scale: 9, .halfEven) : a
        let y = b.scale > 9 ? b.rounded(scale: 9, .halfEven) : b
        let (m, overflow) = x.mantissa.multipliedReportingOverflow(by: y.mantissa)
        if overflow { return nil }
        let p = FixedDecimal(mantissa: m, scale: x.scale + y.scale)
        guard p.magnitude <= moneyLimit else { return nil }
        return p.scale > 10 ? p.rounded(scale: 10, .halfEven) : p
    }
}
