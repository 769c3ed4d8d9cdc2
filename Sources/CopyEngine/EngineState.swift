import DequeModule
import FIXCore

/// Tags the engine reads or writes that FIXCore does not name.
enum Tag {
    static let account = 1
    static let avgPx = 6
    static let clOrdID = 11
    static let cumQty = 14
    static let execID = 17
    static let execRefID = 19
    static let lastPx = 31
    static let lastQty = 32
    static let orderQty = 38
    static let ordStatus = 39
    static let ordType = 40
    static let origClOrdID = 41
    static let possDupFlag = 43
    static let price = 44
    static let sendingTime = 52
    static let side = 54
    static let symbol = 55
    static let text = 58
    static let timeInForce = 59
    static let transactTime = 60
    static let noAllocs = 78
    static let allocAccount = 79
    static let allocQty = 80
    static let possResend = 97
    static let cxlRejReason = 102
    static let ordRejReason = 103
    static let origSendingTime = 122
    static let execType = 150
    static let leavesQty = 151
    static let partyIDSource = 447
    static let partyID = 448
    static let partyRole = 452
    static let noPartyIDs = 453
    static let accountType = 581
    static let noPositions = 702
    static let posType = 703
    static let longQty = 704
    static let shortQty = 705
    static let posReqID = 710
    static let clearingBusinessDate = 715
    static let posMaintRptID = 721
    static let posReqType = 724
    static let totalNumPosReports = 727
    static let posReqResult = 728
    static let settlPrice = 730
    static let ordStatusReqID = 790
    static let lastRptRequested = 912
}

/// Canonical symbols, interned to dense integers so per-symbol state lives in arrays.
struct SymbolTable {
    var ids: [String: Int] = [:]
    var names: [String] = []

    mutating func intern(_ name: String) -> Int {
        if let id = ids[name] { return id }
        let id = names.count
        names.append(name)
        ids[name] = id
        return id
    }
}

/// Bytes the engine writes into every order (an account, a broker symbol, a follower's part of
/// the ClOrdID hash), allocated once and read through a plain pointer. An array read out of the
/// engine's state and passed on costs a retain and a release; the pointer, a trivial value, costs
/// nothing, and the object holding it lives as long as the state that refers to it.
final class WireBytes: @unchecked Sendable {
    /// Immutable after `init`.
    let bytes: UnsafeRawBufferPointer

    init(_ source: some Collection<UInt8>) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(source.count, 1), alignment: 8)
        _ = storage.initializeMemory(as: UInt8.self, from: source)
        bytes = UnsafeRawBufferPointer(rebasing: storage[0..<source.count])
    }

    deinit {
        bytes.deallocate()
    }

    static let empty = WireBytes([])
}

/// A canonical symbol as one broker session writes it.
struct SessionSymbol {
    let brokerSymbol: String
    let brokerSymbolBytes: WireBytes
    /// Units per broker quantity unit.
    let contractSize: FixedDecimal
    /// False for the placeholder of a symbol the session has not used yet: a non-optional array
    /// element's fields read in place, where an optional's are read from a copy of the whole.
    var known = true

    static let unknown = SessionSymbol(brokerSymbol: "", brokerSymbolBytes: .empty, contractSize: 1, known: false)
}

/// Who an account on a session belongs to.
struct AccountRoles {
    var provider: Int?
    /// The follower whose orders go to this session with this account.
    var follower: Int?
    /// The follower whose drop copy arrives on this session with this account.
    var dropCopyFollower: Int?
}

/// An outstanding RequestForPositions.
struct PositionRequest {
    let account: String
    /// Provider index when `isProvider`, else follower index; ``PositionRequest/blockAccount`` for
    /// the session's block account.
    let owner: Int
    let isProvider: Bool
    var expected: Int?
    var received = 0
    var reportedSymbols: Set<Int> = []

    /// The owner of a request for the session's `BlockAccount`.
    static let blockAccount = -1
}

/// A follower's position as his broker reported it at a settlement of a block session, held until
/// the block account's report says whether the broker books block fills there.
struct HeldFollowerReport {
    let follower: Int
    let symbol: Int
    let units: FixedDecimal
    let price: FixedDecimal?
}

struct SessionState {
    let config: BrokerSessionConfig
    var isUp = false
    var phase: SessionPhase = .live
    /// Settle (orders, then positions) on the next session up.
    var needsSettle = false
    var settlePositions = false
    var settleDeadline: EngineTime = .max
    var seenExecIDs: Set<String> = []
    /// When each of `seenExecIDs` was seen: they are forgotten after `ExecIDRetentionMs`.
    var execIDTimes = RetentionQueue<String>()
    /// Order slots: live orders, finished ones within the retention window, and vacant slots.
    var orders: [OrderState] = []
    var orderIndex = ClOrdIDIndex()
    var freeSlots: [Int] = []
    /// Finished orders by the time they finished, forgotten after `OrderRetentionMs`.
    var finished = RetentionQueue<Int>()
    /// Orders not in a final state.
    var liveCount = 0
    /// By symbol ID; ``SessionSymbol/unknown`` for symbols not used on the session yet.
    var symbols: [SessionSymbol] = []
    var blockAttempts: [String: Int] = [:]
    var pendingStatus: Set<String> = []
    /// Orders the broker answered it did not know during the current settlement (slots): a
    /// position report may still show what they filled before it forgot them.
    var forgottenByBroker: [Int] = []
    /// At a settlement of a block session with a `BlockAccount`: what that account holds, by
    /// symbol, and the followers' reports waiting for it.
    var blockAccountHolds: [Int: FixedDecimal] = [:]
    var heldFollowerReports: [HeldFollowerReport] = []
    var positionRequests: [String: PositionRequest] = [:]
    /// Followers whose orders go to this session, in configuration order.
    var tradingFollowers: [Int] = []
    var providers: [Int] = []
    /// The broker breaker (index into the engine's breakers) and whether it is tripped (a copy of
    /// its state, read on every plan).
    var breaker = -1
    var breakerTripped = false
    /// When the session last came up.
    var upSince: EngineTime = .min
    /// Times of recent rejects, for RejectStormCount.
    var rejectTimes: Deque<EngineTime> = []

    init(config: BrokerSessionConfig) {
        self.config = config
    }

    /// Slots of the orders not in a final state, by ClOrdID.
    func liveSlots() -> [Int] {
        guard liveCount > 0 else { return [] }
        return orders.indices.filter { !orders[$0].lifecycle.isTerminal }.sorted {
            orders[$0].intent.clOrdID < orders[$1].intent.clOrdID
        }
    }
}

struct ProviderSymbolState {
    /// Her position, in units (positive long).
    var position: FixedDecimal = 0
    /// Average price of the fills that built her current position.
    var entryPx: FixedDecimal?
    /// Resent fills (PossDup) up to this time are already in a reconciled position.
    var coveredUntil: EngineTime = .min
}

/// What one of her fills did to her position, kept for trade cancels and corrects.
struct ProviderFillEffect {
    let symbol: Int
    var quantity: FixedDecimal
    /// Her links (indices into her `links`) that did not copy the fill's increase: a cancel or a
    /// downward correct of it leaves what they follow of her as it was (usually empty).
    var skippedLinks: [Int] = []
}

/// What ``CopyEngine/recordProviderFill(_:execID:key:effect:)`` and
/// ``CopyEngine/rememberExecID(_:_:)`` are to record for a provider fill once its copies are out.
struct DeferredProviderFill {
    let session: Int
    let provider: Int
    let execID: String
    let key: String
    var effect: ProviderFillEffect
}

struct FollowerLinkRef {
    let follower: Int
    let link: Int
}

struct ProviderState {
    let config: ProviderConfig
    let session: Int
    var equity: FixedDecimal?
    var links: [FollowerLinkRef] = []
    var symbols: [ProviderSymbolState] = []
    var fills: [String: ProviderFillEffect] = [:]
    /// Correction ExecID → the ExecID it corrected, so a later cancel of either finds the fill.
    var aliases: [String: String] = [:]
    /// When each key of `fills` and `aliases` was recorded: forgotten after her session's
    /// `ExecIDRetentionMs`.
    var fillKeyTimes = RetentionQueue<String>()
    /// Disabled by the operator (the kill switch).
    var disabled = false
    /// Suspended by one of her breakers (loss or suspicious activity): the first one's reason.
    var suspended: ReasonCode?
    /// Her breakers: daily loss, drawdown, suspicious activity.
    var breakers = (daily: -1, drawdown: -1, suspicious: -1)
    /// Realised P&L of her fills, in the quote currency.
    var realised: FixedDecimal = 0
    var loss: LossTracker
    /// Suspicious-activity detection: recent fill times, recent fill sizes (units), symbols traded.
    var fillTimes: Deque<EngineTime> = []
    var fillSizes: Deque<FixedDecimal> = []
    var tradedSymbols: Set<Int> = []

    init(config: ProviderConfig, session: Int) {
        self.config = config
        self.session = session
        self.loss = LossTracker(limits: config.loss)
    }

    /// Why her increases are not copied, if they are not.
    var blockReason: ReasonCode? {
        if disabled { return .providerDisabled }
        return suspended == nil ? nil : .providerSuspended
    }
}

struct FollowerLink {
    let provider: Int
    let weight: FixedDecimal
    /// Units of his copy per unit of her position increase (ratio modes); nil while an equity is unknown.
    var factor: FixedDecimal?
}

/// One provider link's share of a follower's symbol.
struct LinkSymbolState {
    /// The part of her position he follows (her units, same sign as hers, never larger).
    var accepted: FixedDecimal = 0
    /// His exact (unrounded) size for it, in units, in her direction.
    var sized: FixedDecimal = 0
    /// fixed-qty and risk-percent: her largest |accepted| since the position opened.
    var peak: FixedDecimal = 0
    /// fixed-qty and risk-percent: his size at the peak.
    var base: FixedDecimal = 0
    /// CatchUp=if-not-worse: waiting for an acceptable mark.
    var waitingCatchUp = false
}

struct FollowerSymbolState {
    /// False for the placeholder of a symbol without state (a non-optional array element reads
    /// without copying the whole state, which an optional's unwrap does).
    var exists = true
    var links: [LinkSymbolState]
    /// His account's position, units.
    var position: FixedDecimal = 0
    /// The part of `position` that is his own, not copied.
    var offset: FixedDecimal = 0
    /// Signed unfilled quantity of live orders, units.
    var working: FixedDecimal = 0
    /// Rounded, limited target of the copied position, units.
    var target: FixedDecimal = 0
    var detached = false
    var failures = 0
    var retryDue: EngineTime?
    var signalSession: String = ""
    var signalID: String
    var nextAttempt = 0
    var coveredUntil: EngineTime = .min
    /// His copy fills in this symbol, for P&L: net quantity (units) and its average price.
    var pnlQty: FixedDecimal = 0
    var pnlPx: FixedDecimal?
    let filter: ReasonCode?
    let limits: RiskLimits
    let contractSize: FixedDecimal
    /// LotSize in the broker's unit.
    let lotSizeBroker: FixedDecimal

    var managed: FixedDecimal { position - offset }

    static let absent: FollowerSymbolState = {
        var s = FollowerSymbolState(
            links: [], signalID: "", filter: nil,
            limits: RiskLimits(lotUnits: 1, minUnits: 0, maxOrderUnits: 0, maxPositionUnits: 0),
            contractSize: 1, lotSizeBroker: 1)
        s.exists = false
        return s
    }()

    /// A new provider signal: later orders derive their ClOrdIDs from it, attempts from 0.
    mutating func newSignal(session: String, id: String) {
        signalSession = session
        signalID = id
        nextAttempt = 0
    }
}

struct FollowerState {
    let config: FollowerConfig
    let session: Int
    let dropCopySession: Int?
    var links: [FollowerLink]
    var status: FollowerStatus = .active
    var equity: FixedDecimal?
    /// By symbol ID; entries for symbols he has no state in are ``FollowerSymbolState/absent``.
    var symbols: [FollowerSymbolState] = []
    /// Symbols with state, in the order they appeared.
    var knownSymbols: [Int] = []
    /// `session 0x1F followerID 0x1F`: his part of every ClOrdID hash.
    var hashSuffix = WireBytes.empty
    /// Account (1) as bytes for NewOrderSingles.
    var accountBytes = WireBytes.empty
    /// His own fills by ExecID (signed units), for cancels and corrects.
    var foreignFills: [String: (symbol: Int, quantity: FixedDecimal)] = [:]
    /// When each of `foreignFills` was recorded: forgotten after his session's `ExecIDRetentionMs`.
    var foreignFillTimes = RetentionQueue<String>()
    let account: AccountLimits
    /// An increase must pass ``CopyEngine/reviewAcceptance(_:_:_:to:price:)`` (MaxOpenPositions, or
    /// ExceedPolicy=skip with a limit).
    let hasAcceptanceChecks: Bool
    var risk = FollowerRisk()
    /// Realised P&L of his copies.
    var realised: FixedDecimal = 0
    var loss: LossTracker
    /// His breakers: daily loss and drawdown.
    var breakers = (daily: -1, drawdown: -1)

    init(config: FollowerConfig, session: Int, dropCopySession: Int?, links: [FollowerLink]) {
        self.config = config
        self.session = session
        self.dropCopySession = dropCopySession
        self.links = links
        self.account = AccountLimits(
            maxOrderNotional: config.maxOrderNotional, maxPositionNotional: config.maxPositionNotional,
            maxOpenPositions: config.maxOpenPositions, maxLeverage: config.maxLeverage,
            exceedPolicy: config.exceedPolicy)
        self.hasAcceptanceChecks =
            config.maxOpenPositions > 0
            || (config.exceedPolicy == .skip
                && (account.needsPrice || config.maxOrderQty.isPositive || config.maxPositionQty.isPositive))
        self.loss = LossTracker(limits: config.loss)
    }

    var isActive: Bool {
        switch status {
        case .active: return true
        case .paused, .degraded: return false
        }
    }
}

/// What a follower's operator flatten and tripped loss breakers allow.
struct FollowerRisk {
    /// `flatten FOLLOWER`: copies closed, nothing new until `resume`.
    var flattenedByOperator = false
    /// The reason of the tripped loss breaker behind each action, if any.
    var disable: ReasonCode?
    var closeOnly: ReasonCode?
    var closeAll: ReasonCode?

    /// Targets are held at zero; only reductions are sent (even while paused or degraded).
    var pinnedFlat: Bool { flattenedByOperator || closeAll != nil }

    /// Why an increase is not copied, if it is not.
    var increaseBlock: ReasonCode? {
        if flattenedByOperator { return .followerFlattened }
        return closeAll ?? disable ?? closeOnly
    }
}

/// Where an order is in its life at the broker.
public enum OrderLifecycle: String, Sendable, Equatable, Codable {
    case pendingNew
    case new
    case partiallyFilled
    case filled
    case canceled
    case rejected
    case expired
    case doneForDay
    /// Journaled before a crash; the broker has not told us its fate yet.
    case unknown
    /// Derived during replay but never journaled, so never sent.
    case dropped

    /// Whether the order reached a final state.
    public var isTerminal: Bool {
        switch self {
        case .filled, .canceled, .rejected, .expired, .doneForDay, .dropped: return true
        case .pendingNew, .new, .partiallyFilled, .unknown: return false
        }
    }
}

struct AllocationState {
    let follower: Int
    /// Units requested for him.
    let quantity: FixedDecimal
    var allocated: FixedDecimal = 0
    let lotUnits: FixedDecimal

    /// Still expected for him while the order lives.
    var open: FixedDecimal {
        let r = quantity - allocated
        return r.isPositive ? r : 0
    }
}

struct OrderState {
    var intent: OrderIntent
    let symbol: Int
    let sign: Int
    var cumQty: FixedDecimal = 0
    /// AvgPx (6) as the broker last reported it.
    var avgPx: FixedDecimal?
    var allocations: [AllocationState]
    var lifecycle: OrderLifecycle = .pendingNew
    var provisional = false
    /// An OrderCancelRequest for it is out and unanswered (cleared when its session drops or the
    /// agent restarts: the request may never have arrived).
    var cancelPending = false
    /// OrderCancelRequests sent for it, which numbers their ClOrdIDs.
    var cancelRequests = 0

    /// Whether this is follower `f`'s own order in symbol `s` (not a block shared with others).
    func isSingle(of f: Int, in s: Int) -> Bool {
        symbol == s && allocations.count == 1 && allocations[0].follower == f
    }

    /// What a slot holds once its order is forgotten.
    static let vacant = OrderState(
        intent: OrderIntent(
            clOrdID: "", session: "", symbol: "", brokerSymbol: "", side: .buy, quantity: 0, brokerQuantity: 0,
            ordType: .market,
            timeInForce: .ioc, price: nil, account: nil, allocations: [], signal: "", attempt: 0, block: false,
            createdAt: 0),
        symbol: -1, sign: 1, allocations: [], lifecycle: .dropped)
}

struct RetryEntry {
    let due: EngineTime
    let follower: Int
    let symbol: Int
}

struct Mark {
    var bid: FixedDecimal?
    var ask: FixedDecimal?
    var at: EngineTime

    var mid: FixedDecimal? {
        switch (bid, ask) {
        case (let b?, let a?): return (b + a).divided(by: 2, scale: Swift.max(b.scale, a.scale) + 1, .halfEven)
        case (let b?, nil): return b
        case (nil, let a?): return a
        case (nil, nil): return nil
        }
    }
}

/// A block order being gathered during one event.
struct BlockBucket {
    let session: Int
    let symbol: Int
    let side: OrderSide
    var members: [(follower: Int, quantity: FixedDecimal)]
}

extension FIXMessage {
    /// The first byte of `tag`'s value, for one-character fields.
    func byte(_ tag: Int) -> UInt8? {
        guard let i = firstIndex(of: tag) else { return nil }
        return withValueBytes(at: i) { $0.count == 1 ? $0[0] : nil }
    }

    /// A time field, `nil` when absent or malformed.
    func time(_ tag: Int) -> EngineTime? {
        (try? timestampIfPresent(tag))?.nanosecondsSinceEpoch
    }

    /// A decimal field, `nil` when absent, malformed or outside ``FixedDecimal/plausibleRange``.
    func optionalDecimal(_ tag: Int) -> FixedDecimal? {
        guard let d = try? decimalIfPresent(tag), d.isPlausible else { return nil }
        return d
    }

    /// A Y/N field, false unless present and Y.
    func flag(_ tag: Int) -> Bool {
        byte(tag) == UInt8(ascii: "Y")
    }
}

extension FixedDecimal {
    static let plausibleLimit = FixedDecimal(1_000_000_000_000)

    /// Quantities and prices from peers are at most 10¹² with at most 10 decimals: far beyond any
    /// real order, and small enough that sizing products never overflow the 128-bit mantissa.
    var isPlausible: Bool { scale <= 10 && magnitude <= FixedDecimal.plausibleLimit }

    @inline(__always)
    static func signed(_ value: FixedDecimal, _ sign: Int) -> FixedDecimal {
        sign < 0 ? -value : value
    }
}
