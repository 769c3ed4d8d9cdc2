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
    case unallocatedResidue = "unallocated-residue"
    case forgottenOrder = "forgotten-order"
    // Recovery
    case orderSettled = "order-settled"
    case orderUnknownAtBroker = "order-unknown-at-broker"
    case positionReconciled = "position-reconciled"
    case positionRequestRejected = "position-request-rejected"
    case settlementTimeout = "settlement-timeout"
    case replayDivergence = "replay-divergence"

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
        }
    }
}
