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

/// What the gate is asked about.
public struct RiskContext: Sendable {
    public var followerID: String
    /// Canonical symbol.
    public var symbol: String
    public var limits: RiskLimits
    /// His copied position plus his working orders (signed units) before the order.
    public var exposure: FixedDecimal

    public init(followerID: String, symbol: String, limits: RiskLimits, exposure: FixedDecimal) {
        self.followerID = followerID
        self.symbol = symbol
        self.limits = limits
        self.exposure = exposure
    }
}

/// The gate's answer: the quantity allowed (signed units, zero to block) and why it differs.
public struct RiskVerdict: Sendable, Equatable {
    public var quantity: FixedDecimal
    public var reasons: [ReasonCode]

    public init(quantity: FixedDecimal, reasons: [ReasonCode] = []) {
        self.quantity = quantity
        self.reasons = reasons
    }
}

/// The risk checks between planning and routing.
///
/// The planner asks it twice: about a follower's target (the position he should hold) and about
/// every order before it is routed. Today it enforces the per-follower MaxPositionQty,
/// MaxOrderQty, MinQty and lot step; account-wide controls (exposure, daily loss, kill switch)
/// plug in here, which is why the reviews are `mutating`: such checks keep state.
public struct RiskGate: Sendable {
    public init() {}

    /// Reviews a target position.
    public mutating func reviewTarget(_ target: FixedDecimal, context: RiskContext) -> RiskVerdict {
        let limits = context.limits
        if limits.maxPositionUnits.isPositive && target.magnitude > limits.maxPositionUnits {
            let capped = limits.maxPositionUnits.rounded(toMultipleOf: limits.lotUnits, .down)
            return RiskVerdict(quantity: .signed(capped, target.signum), reasons: [.clampedMaxPosition])
        }
        return RiskVerdict(quantity: target)
    }

    /// Reviews an order of `quantity` (signed units).
    ///
    /// Orders are whole lots, except one that brings his copied exposure exactly to flat (a close
    /// must be able to undo an odd-sized fill). MinQty does not block closes to flat either.
    public mutating func reviewOrder(_ quantity: FixedDecimal, context: RiskContext) -> RiskVerdict {
        let limits = context.limits
        let exposure = context.exposure
        var q = quantity
        var reasons: [ReasonCode] = []
        if !(exposure + q).isZero {
            q = q.rounded(toMultipleOf: limits.lotUnits, .down)
            if q.isZero { return RiskVerdict(quantity: 0, reasons: [.belowLot]) }
        }
        if limits.maxOrderUnits.isPositive && q.magnitude > limits.maxOrderUnits {
            q = .signed(limits.maxOrderUnits.rounded(toMultipleOf: limits.lotUnits, .down), q.signum)
            reasons.append(.clampedMaxOrder)
            if q.isZero { return RiskVerdict(quantity: 0, reasons: reasons) }
        }
        if limits.maxPositionUnits.isPositive {
            let after = exposure + q
            if after.magnitude > limits.maxPositionUnits && after.magnitude > exposure.magnitude {
                let allowed = (FixedDecimal.signed(limits.maxPositionUnits, after.signum) - exposure)
                    .rounded(toMultipleOf: limits.lotUnits, .down)
                reasons.append(.clampedMaxPosition)
                if allowed.isZero || allowed.signum != q.signum { return RiskVerdict(quantity: 0, reasons: reasons) }
                q = allowed
            }
        }
        if limits.minUnits.isPositive && !(exposure + q).isZero && q.magnitude < limits.minUnits {
            reasons.append(.belowMinQty)
            return RiskVerdict(quantity: 0, reasons: reasons)
        }
        return RiskVerdict(quantity: q, reasons: reasons)
    }
}
