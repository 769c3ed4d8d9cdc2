/// Why the engine did not copy, copied differently, retried, or changed a follower's state.
///
/// The raw values are stable: the journal, metrics labels and logs carry them, and dashboards
/// filter on them. Add cases; never rename one.
public enum ReasonCode: String, Sendable, Codable, CaseIterable {
    // Signals
    case duplicateExecID = "duplicate-exec-id"
    case unknownExecRef = "unknown-exec-ref"
    case malformedMessage = "malformed-message"
    case unknownAccount = "unknown-account"
    case coveredByPositionReport = "covered-by-position-report"
    // Filters
    case staleSignal = "stale-signal"
    case priceDeviation = "price-deviation"
    case noMark = "no-mark"
    case symbolNotAllowed = "symbol-not-allowed"
    case symbolDenied = "symbol-denied"
    case outsideTradingHours = "outside-trading-hours"
    // Catch-up
    case catchUpSkipped = "catch-up-skipped"
    case catchUpWaiting = "catch-up-waiting"
    case catchUpEntered = "catch-up-entered"
    case catchUpNoPrice = "catch-up-no-price"
    // Sizing and risk
    case equityUnknown = "equity-unknown"
    case belowLot = "below-lot"
    case belowMinQty = "below-min-qty"
    case roundedUpToMin = "rounded-up-to-min"
    case clampedMaxPosition = "clamped-max-position"
    case clampedMaxOrder = "clamped-max-order"
    // Follower and session state
    case followerIntervened = "follower-intervened"
    case reattached = "reattached"
    case followerPaused = "follower-paused"
    case followerResumed = "follower-resumed"
    case followerDegraded = "follower-degraded"
    case sessionDown = "session-down"
    case settling = "settling"
    case closeThenOpen = "close-then-open"
    // Orders
    case orderRejected = "order-rejected"
    case orderUnfilled = "order-unfilled"
    case retryScheduled = "retry-scheduled"
    case retryExhausted = "retry-exhausted"
    case attemptsExhausted = "attempts-exhausted"
    case remainderReplanned = "remainder-replanned"
    case cancelRequested = "cancel-requested"
    case cancelRejected = "cancel-rejected"
    case unallocatedResidue = "unallocated-residue"
    case forgottenOrder = "forgotten-order"
    // Recovery
    case orderSettled = "order-settled"
    case orderUnknownAtBroker = "order-unknown-at-broker"
    case positionReconciled = "position-reconciled"
    case positionRequestRejected = "position-request-rejected"
    case settlementTimeout = "settlement-timeout"
    case replayDivergence = "replay-divergence"
    // Limits
    case clampedMaxOrderNotional = "clamped-max-order-notional"
    case clampedMaxPositionNotional = "clamped-max-position-notional"
    case clampedMaxLeverage = "clamped-max-leverage"
    case exceedsMaxOrder = "exceeds-max-order"
    case exceedsMaxPosition = "exceeds-max-position"
    case exceedsMaxOrderNotional = "exceeds-max-order-notional"
    case exceedsMaxPositionNotional = "exceeds-max-position-notional"
    case exceedsMaxLeverage = "exceeds-max-leverage"
    case maxOpenPositions = "max-open-positions"
    // Loss protection, kill switches and breakers
    case dailyLossLimit = "daily-loss-limit"
    case maxDrawdown = "max-drawdown"
    case closeOnly = "close-only"
    case followerFlattened = "follower-flattened"
    case providerDisabled = "provider-disabled"
    case providerEnabled = "provider-enabled"
    case providerSuspended = "provider-suspended"
    case providerFlattened = "provider-flattened"
    case suspiciousFillRate = "suspicious-fill-rate"
    case suspiciousFillSize = "suspicious-fill-size"
    case suspiciousSymbol = "suspicious-symbol"
    case rejectStorm = "reject-storm"
    case brokerPaused = "broker-paused"
    case breakerReset = "breaker-reset"
    case resync = "resync"

    /// One sentence for logs and the reference.
    public var explanation: String {
        switch self {
        case .duplicateExecID: return "An ExecID already processed (resend, PossDup or duplicate) was ignored."
        case .unknownExecRef: return "A trade cancel or correct refers to an ExecID the engine never saw."
        case .malformedMessage: return "A message lacks a field the engine needs or has a malformed value."
        case .unknownAccount: return "An ExecutionReport for an account no provider or follower uses was ignored."
        case .coveredByPositionReport:
            return "A resent fill older than the position report already reconciled was not applied twice."
        case .staleSignal: return "The provider's fill is older than MaxSignalAgeMs; the increase was not copied."
        case .priceDeviation:
            return "The provider's fill price is further than MaxPriceDeviationBps from the mark; not copied."
        case .noMark: return "MaxPriceDeviationBps is set but there is no mark for the symbol; not copied."
        case .symbolNotAllowed: return "The symbol is not in the follower's AllowSymbols."
        case .symbolDenied: return "The symbol is in the follower's DenySymbols."
        case .outsideTradingHours: return "The increase came outside the follower's trading hours."
        case .catchUpSkipped:
            return "A position opened while the follower was not copying is not entered (CatchUp=none)."
        case .catchUpWaiting:
            return "A missed position waits for a price no worse than the provider's (CatchUp=if-not-worse)."
        case .catchUpEntered: return "A missed position is entered (CatchUp=market or the price became acceptable)."
        case .catchUpNoPrice:
            return "A missed position is not entered under CatchUp=if-not-worse: her price is unknown (no fill "
                + "seen, no SettlPrice (730) in her position report)."
        case .equityUnknown:
            return "Sizing needs an equity the broker has not reported yet; the increase was not copied."
        case .belowLot: return "The sized quantity is below one lot; it accumulates until it reaches one."
        case .belowMinQty: return "The quantity is below MinQty and BelowMin=skip."
        case .roundedUpToMin: return "The quantity was below MinQty and was rounded up to it (BelowMin=round-up)."
        case .clampedMaxPosition: return "The target was reduced to MaxPositionQty."
        case .clampedMaxOrder:
            return "The order was reduced to MaxOrderQty; the rest follows in further orders, one at a time."
        case .followerIntervened:
            return "The follower traded the symbol himself; it is detached until the provider is flat."
        case .reattached: return "The provider is flat again; the symbol follows her again."
        case .followerPaused: return "The follower is paused by the operator."
        case .followerResumed: return "The follower was resumed by the operator."
        case .followerDegraded: return "The follower is degraded and receives no orders until resumed."
        case .sessionDown: return "The follower's session is down; the order waits for it."
        case .settling: return "The session is settling orders and positions after a restart or reconnect."
        case .closeThenOpen: return "A reversal closes first; the new side opens once the close has filled."
        case .orderRejected: return "The broker rejected the order."
        case .orderUnfilled: return "The order ended (IOC/FOK) without any fill."
        case .retryScheduled: return "The order will be re-planned after RetryBackoffMs."
        case .retryExhausted: return "RetryLimit was reached; the follower is degraded."
        case .attemptsExhausted:
            return "The ClOrdID attempt counter for this signal is used up; the follower is degraded."
        case .remainderReplanned:
            return "An order ended partly filled; the remainder was planned against the target again."
        case .cancelRequested:
            return "A resting copy (DAY or GTC) the target no longer wants is canceled; nothing more is sent for "
                + "the symbol until the broker answers, then what it filled is planned against the target."
        case .cancelRejected:
            return "The broker refused a cancel (OrderCancelReject). If the order is done there, its report is "
                + "awaited; otherwise the refusal counts as a failed attempt: the cancel is asked again after "
                + "RetryBackoffMs, and past RetryLimit the follower is degraded."
        case .forgottenOrder:
            return "A report for one of our orders finished longer ago than OrderRetentionMs was ignored."
        case .unallocatedResidue:
            return "Part of a block fill could not be allocated in whole lots and stays unallocated."
        case .orderSettled: return "An order of unknown outcome was settled with the broker."
        case .orderUnknownAtBroker: return "The broker does not know an order that was journaled; it was never sent."
        case .positionReconciled: return "The broker's position differs from the engine's; the broker's was adopted."
        case .positionRequestRejected: return "The broker refused a RequestForPositions."
        case .settlementTimeout:
            return "Settlement did not finish in SettleTimeoutMs; the followers concerned are degraded."
        case .replayDivergence:
            return "Replaying the journal derived a different order than the one journaled; the journaled one wins."
        case .clampedMaxOrderNotional:
            return "The order was reduced to MaxOrderNotional; the rest follows in further orders, one at a time."
        case .clampedMaxPositionNotional:
            return "The order was reduced so the position stays within MaxPositionNotional."
        case .clampedMaxLeverage:
            return "The order was reduced so his gross notional stays within MaxLeverage × equity."
        case .exceedsMaxOrder:
            return "The increase would need an order above MaxOrderQty (ExceedPolicy=skip); not copied."
        case .exceedsMaxPosition:
            return "The increase would take the position above MaxPositionQty (ExceedPolicy=skip)."
        case .exceedsMaxOrderNotional:
            return "The increase would need an order above MaxOrderNotional (ExceedPolicy=skip); not copied."
        case .exceedsMaxPositionNotional:
            return "The increase would take the position above MaxPositionNotional (ExceedPolicy=skip); not copied."
        case .exceedsMaxLeverage:
            return "The increase would take his gross notional above MaxLeverage × equity (ExceedPolicy=skip)."
        case .maxOpenPositions: return "He already holds MaxOpenPositions symbols; a new one is not copied."
        case .dailyLossLimit: return "The daily loss reached DailyLossLimit; the breaker's action applies until reset."
        case .maxDrawdown:
            return "The fall from the equity peak reached MaxDrawdownPct; the action applies until reset."
        case .closeOnly: return "Only reductions are copied (a close-only breaker is tripped)."
        case .followerFlattened:
            return "The follower's copies are being closed (flatten or close-all); nothing new is copied."
        case .providerDisabled: return "The provider is disabled by the operator; her increases are not copied."
        case .providerEnabled: return "The provider was enabled by the operator."
        case .providerSuspended: return "The provider is suspended by a breaker; her increases are not copied."
        case .providerFlattened: return "The copy of a disabled provider's position was closed (disable with flatten)."
        case .suspiciousFillRate: return "The provider's fills per FillWindowMs exceeded MaxFillsPerWindow."
        case .suspiciousFillSize:
            return "A provider fill exceeded MaxFillSizeMultiple × the median of her recent fills."
        case .suspiciousSymbol: return "The provider traded a symbol outside ExpectedSymbols or beyond MaxSymbols."
        case .rejectStorm: return "RejectStormCount rejects within RejectStormWindowMs: routing to the broker paused."
        case .brokerPaused: return "Routing to the follower's broker is paused by a breaker; nothing is sent."
        case .breakerReset: return "A breaker was reset (by the operator or its resume rule)."
        case .resync: return "The operator asked every broker again for order status and positions."
        }
    }
}
