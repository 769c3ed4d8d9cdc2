import FIXCore

/// What an operator asks about: followers, providers, breakers and sessions, as the engine knows
/// them. Quantities are units; money is in the account currency (see `LossProtection.swift`).
public struct EngineStateView: Sendable, Equatable, Codable {
    public var followers: [FollowerView]
    public var providers: [ProviderView]
    /// Configured breakers, and any other that is tripped.
    public var breakers: [BreakerView]
    public var sessions: [SessionView]

    public func follower(_ id: String) -> FollowerView? { followers.first { $0.id == id } }
    public func provider(_ id: String) -> ProviderView? { providers.first { $0.id == id } }
    public func breaker(_ name: String) -> BreakerView? { breakers.first { $0.name == name } }
}

/// What a follower's copying may do now, the most restrictive first.
public enum FollowerCopying: String, Sendable, Equatable, Codable, CaseIterable {
    /// His broker's breaker paused routing: nothing is sent.
    case brokerPaused = "broker-paused"
    /// His copies are being closed (flatten, or a close-all breaker): only reductions are sent.
    case flattened
    case paused
    case degraded
    /// A `disable` loss breaker: nothing is sent.
    case disabled
    /// A `close-only` loss breaker: only reductions are sent.
    case closeOnly = "close-only"
    case active
}

/// A position in one canonical symbol.
public struct PositionLine: Sendable, Equatable, Codable {
    public var symbol: String
    /// The account's position (signed units).
    public var quantity: FixedDecimal
    /// The copied part of it (a provider: all of it).
    public var copied: FixedDecimal
    /// Unfilled quantity of live orders (signed units).
    public var working: FixedDecimal
    /// The copied position the engine steers to.
    public var target: FixedDecimal
    /// Average price of the open quantity (copies for a follower), when known.
    public var averagePrice: FixedDecimal?

    public init(
        symbol: String, quantity: FixedDecimal, copied: FixedDecimal, working: FixedDecimal = 0,
        target: FixedDecimal = 0, averagePrice: FixedDecimal? = nil
    ) {
        self.symbol = symbol
        self.quantity = quantity
        self.copied = copied
        self.working = working
        self.target = target
        self.averagePrice = averagePrice
    }
}

public struct FollowerView: Sendable, Equatable, Codable {
    public var id: String
    public var session: String
    public var providers: [String]
    /// Active, paused or degraded (the operator's and the router's state).
    public var status: FollowerStatus
    public var copying: FollowerCopying
    /// Why he is not fully copying, one phrase each (empty when active).
    public var restrictions: [String]
    /// Tripped breakers that restrict him (his own and his broker's).
    public var trippedBreakers: [String]
    public var flattenedByOperator: Bool
    /// Base plus the P&L of his copies since it was set; nil while the base is unknown.
    public var equity: FixedDecimal?
    public var realisedPnL: FixedDecimal
    public var unrealisedPnL: FixedDecimal
    /// The loss of the current trading day (negative: a gain), when loss limits are configured.
    public var dailyLoss: FixedDecimal?
    public var dayStartEquity: FixedDecimal?
    public var peakEquity: FixedDecimal?
    /// Symbols with a position, a target or working orders.
    public var positions: [PositionLine]
}

public struct ProviderView: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Equatable, Codable, CaseIterable {
        case active
        /// By the operator (`disable`).
        case disabled
        /// By a breaker (loss, suspicious activity).
        case suspended
    }

    public var id: String
    public var session: String
    public var state: State
    /// Why she is disabled or suspended.
    public var reason: String?
    public var trippedBreakers: [String]
    public var followers: [String]
    public var equity: FixedDecimal?
    public var realisedPnL: FixedDecimal
    public var unrealisedPnL: FixedDecimal
    public var dailyLoss: FixedDecimal?
    public var peakEquity: FixedDecimal?
    public var positions: [PositionLine]
}

public struct BreakerView: Sendable, Equatable, Codable {
    public var name: String
    /// `follower-loss`, `provider-loss`, `provider-suspicious` or `broker`.
    public var kind: String
    /// The follower, provider or session it guards.
    public var subject: String
    /// The configuration arms it (a tripped breaker may be listed without: it came from the journal).
    public var configured: Bool
    public var tripped: Bool
    /// Why it tripped (the last trip, while tripped).
    public var reason: ReasonCode?
    public var detail: String?
    public var since: EngineTime?
    /// What it does when tripped: `disable`, `close-only`, `close-all`, `suspend`, `pause-routing`.
    public var effect: String
    /// A broker breaker with `BreakerResume=auto`: when it resumes, once known.
    public var resumesAt: EngineTime?
}

public struct SessionView: Sendable, Equatable, Codable {
    public var name: String
    public var isUp: Bool
    public var phase: SessionPhase
    public var breakerTripped: Bool
}

extension CopyEngine {
    /// The whole state an operator sees.
    public func stateView() -> EngineStateView {
        EngineStateView(
            followers: followers.indices.map(followerView), providers: providers.indices.map(providerView),
            breakers: breakers.indices.filter { breakers[$0].configured || breakers[$0].tripped }.map(breakerView),
            sessions: sessions.indices.map { si in
                SessionView(
                    name: sessions[si].config.name, isUp: sessions[si].isUp, phase: sessions[si].phase,
                    breakerTripped: sessions[si].breakerTripped)
            })
    }

    public func followerView(_ id: String) -> FollowerView? { followerIndex[id].map(followerView) }
    public func providerView(_ id: String) -> ProviderView? { providerIndex[id].map(providerView) }
    public func breakerView(_ name: String) -> BreakerView? { breakerIndex[name].map(breakerView) }

    func followerView(_ f: Int) -> FollowerView {
        let state = followers[f]
        let risk = state.risk
        let tripped = followerBreakers(f).filter { breakers[$0].tripped }
        var restrictions: [String] = []
        var copying = FollowerCopying.active
        func restrict(_ c: FollowerCopying, _ why: String) {
            if FollowerCopying.allCases.firstIndex(of: c)! < FollowerCopying.allCases.firstIndex(of: copying)! {
                copying = c
            }
            restrictions.append(why)
        }
        if sessions[state.session].breakerTripped {
            restrict(.brokerPaused, "broker \(sessions[state.session].config.name) paused")
        }
        if risk.flattenedByOperator { restrict(.flattened, "flattened by the operator") }
        if let r = risk.closeAll { restrict(.flattened, "close-all (\(r.rawValue))") }
        switch state.status {
        case .active: break
        case .paused: restrict(.paused, "paused")
        case .degraded(let reason, let detail): restrict(.degraded, "degraded (\(reason.rawValue): \(detail))")
        }
        if let r = risk.disable { restrict(.disabled, "disabled (\(r.rawValue))") }
        if let r = risk.closeOnly { restrict(.closeOnly, "close-only (\(r.rawValue))") }
        let pnl = followerPnL(f)
        let total = pnl.realised + pnl.unrealised
        let tracker = state.loss
        let positions = state.knownSymbols.compactMap { s -> PositionLine? in
            let st = state.symbols[s]
            guard !st.position.isZero || !st.working.isZero || !st.target.isZero else { return nil }
            return PositionLine(
                symbol: symbols.names[s], quantity: st.position, copied: st.managed, working: st.working,
                target: st.target,
                averagePrice: st.pnlQty.isZero ? nil : st.pnlPx)
        }
        return FollowerView(
            id: state.config.followerID, session: sessions[state.session].config.name,
            providers: state.config.providers.map(\.providerID), status: state.status, copying: copying,
            restrictions: restrictions, trippedBreakers: tripped.map { breakers[$0].name },
            flattenedByOperator: risk.flattenedByOperator,
            equity: tracker.equity(pnl: total, base: state.equity), realisedPnL: pnl.realised,
            unrealisedPnL: pnl.unrealised,
            dailyLoss: tracker.limits.isActive && tracker.day != .min ? tracker.dayStartPnL - total : nil,
            dayStartEquity: tracker.dayStartEquity, peakEquity: tracker.peak, positions: positions)
    }

    func providerView(_ p: Int) -> ProviderView {
        let state = providers[p]
        let b = state.breakers
        let tripped = [b.daily, b.drawdown, b.suspicious].filter { breakers[$0].tripped }
        var viewState = ProviderView.State.active
        var reason: String?
        if state.disabled {
            viewState = .disabled
            reason = "disabled by the operator"
        } else if !tripped.isEmpty {
            viewState = .suspended
            reason = tripped.map { "\(breakers[$0].name): \(breakers[$0].reason.rawValue)" }.joined(separator: "; ")
        }
        let pnl = providerPnL(p)
        let total = pnl.realised + pnl.unrealised
        let positions = state.symbols.indices.compactMap { s -> PositionLine? in
            let st = state.symbols[s]
            guard !st.position.isZero else { return nil }
            return PositionLine(
                symbol: symbols.names[s], quantity: st.position, copied: st.position, averagePrice: st.entryPx)
        }
        // A follower with several links to her appears once. By index, in a set: searching the
        // list of IDs for each link made this quadratic in her followers.
        var followerIDs: [String] = []
        var seen = Set<Int>()
        for ref in state.links where seen.insert(ref.follower).inserted {
            followerIDs.append(followers[ref.follower].config.followerID)
        }
        return ProviderView(
            id: state.config.providerID, session: sessions[state.session].config.name, state: viewState, reason: reason,
            trippedBreakers: tripped.map { breakers[$0].name }, followers: followerIDs,
            equity: state.loss.equity(pnl: total, base: state.equity), realisedPnL: pnl.realised,
            unrealisedPnL: pnl.unrealised,
            dailyLoss: state.loss.limits.isActive && state.loss.day != .min ? state.loss.dayStartPnL - total : nil,
            peakEquity: state.loss.peak, positions: positions)
    }

    func breakerView(_ b: Int) -> BreakerView {
        let breaker = breakers[b]
        let kind: String
        let subject: String
        let effect: String
        var resumesAt: EngineTime?
        switch breaker.kind {
        case .followerLoss(let f, let daily):
            kind = "follower-loss"
            subject = followers[f].config.followerID
            effect = (daily ? followers[f].config.dailyLossAction : followers[f].config.drawdownAction).rawValue
        case .providerLoss(let p, _):
            kind = "provider-loss"
            subject = providers[p].config.providerID
            effect = "suspend"
        case .providerSuspicious(let p):
            kind = "provider-suspicious"
            subject = providers[p].config.providerID
            effect = providers[p].config.suspiciousAction == .suspend ? "suspend" : "alert"
        case .broker(let si):
            kind = "broker"
            subject = sessions[si].config.name
            effect = "pause-routing"
            resumesAt = brokerResumeTime(si)
        }
        return BreakerView(
            name: breaker.name, kind: kind, subject: subject, configured: breaker.configured, tripped: breaker.tripped,
            reason: breaker.tripped ? breaker.reason : nil, detail: breaker.tripped ? breaker.detail : nil,
            since: breaker.tripped ? breaker.since : nil, effect: effect, resumesAt: resumesAt)
    }
}
