import DequeModule
import FIXCore

/// What a breaker guards and what it does when it trips.
enum BreakerKind: Equatable {
    /// A follower's daily loss or drawdown; the action is his `DailyLossAction`/`DrawdownAction`.
    case followerLoss(follower: Int, daily: Bool)
    /// A provider's daily loss or drawdown: suspends her for every follower.
    case providerLoss(provider: Int, daily: Bool)
    /// Suspicious activity of a provider: suspends her for every follower.
    case providerSuspicious(provider: Int)
    /// A reject storm or a session down: pauses routing to the broker.
    case broker(session: Int)
}

/// One named circuit breaker.
struct BreakerState {
    let name: String
    let kind: BreakerKind
    /// Whether the configuration arms it (a breaker that is not configured can still be tripped
    /// by a journal record written under an older configuration).
    let configured: Bool
    var tripped = false
    var reason: ReasonCode = .breakerReset
    var detail = ""
    var since: EngineTime = 0
}

/// Circuit breakers: named, tripped by the engine's own checks, journaled as `.breaker` records,
/// reset by `reset-breaker` (or, for a broker with `BreakerResume=auto`, after its cool-down).
///
/// Names: `follower:ID:daily-loss`, `follower:ID:drawdown`, `provider:ID:daily-loss`,
/// `provider:ID:drawdown`, `provider:ID:suspicious`, `broker:SESSION`.
///
/// Replay derives trips with the same code as live handling; a `.breaker` record then only
/// confirms the state. When it does not match (the configuration changed between runs), the
/// record wins, so a restart never re-arms a follower; a trip derived in replay that was never
/// journaled is journaled when recovery completes.
extension CopyEngine {
    /// Creates every breaker (configured or not, so that journal records always find theirs).
    mutating func makeBreakers() {
        func add(_ name: String, _ kind: BreakerKind, configured: Bool) -> Int {
            breakerIndex[name] = breakers.count
            breakers.append(BreakerState(name: name, kind: kind, configured: configured))
            return breakers.count - 1
        }
        for f in followers.indices {
            let id = followers[f].config.followerID
            let loss = followers[f].config.loss
            followers[f].breakers = (
                add(
                    "follower:\(id):daily-loss", .followerLoss(follower: f, daily: true),
                    configured: loss.dailyLoss != nil),
                add(
                    "follower:\(id):drawdown", .followerLoss(follower: f, daily: false),
                    configured: loss.maxDrawdownPct.isPositive)
            )
            if loss.isActive { lossFollowers.append(f) }
        }
        for p in providers.indices {
            let config = providers[p].config
            let id = config.providerID
            let suspicious =
                config.maxFillsPerWindow > 0 || config.maxFillSizeMultiple.isPositive || !config.expectedSymbols.isEmpty
                || config.maxSymbols > 0
            providers[p].breakers = (
                add(
                    "provider:\(id):daily-loss", .providerLoss(provider: p, daily: true),
                    configured: config.loss.dailyLoss != nil),
                add(
                    "provider:\(id):drawdown", .providerLoss(provider: p, daily: false),
                    configured: config.loss.maxDrawdownPct.isPositive),
                add("provider:\(id):suspicious", .providerSuspicious(provider: p), configured: suspicious)
            )
            if config.loss.isActive { lossProviders.append(p) }
        }
        for si in sessions.indices {
            let config = sessions[si].config
            sessions[si].breaker = add(
                "broker:\(config.name)", .broker(session: si),
                configured: config.rejectStormCount > 0 || config.sessionDownBreaker)
        }
    }

    /// The breakers a name designates: one by its full name, or every breaker of a follower,
    /// provider or session by its ID.
    func breakers(named name: String) -> [Int] {
        if let b = breakerIndex[name] { return [b] }
        var out: [Int] = []
        if let f = followerIndex[name] { out += [followers[f].breakers.daily, followers[f].breakers.drawdown] }
        if let p = providerIndex[name] {
            let b = providers[p].breakers
            out += [b.daily, b.drawdown, b.suspicious]
        }
        if let si = sessionIndex[name] { out.append(sessions[si].breaker) }
        return out
    }

    // MARK: Trip and reset

    /// Trips breaker `b` (if it is not tripped): journals it, alerts, and applies its effect.
    mutating func trip(_ b: Int, _ reason: ReasonCode, detail: String) {
        guard !breakers[b].tripped else { return }
        breakers[b].tripped = true
        breakers[b].reason = reason
        breakers[b].detail = detail
        breakers[b].since = now
        let name = breakers[b].name
        journal(.breaker(BreakerRecord(name: name, tripped: true, reason: reason, detail: detail, at: now)))
        if replaying { unconfirmedTrips.insert(b) }
        actions.append(
            .alert(
                RiskAlert(
                    kind: .tripped, breaker: name, reason: reason,
                    message: "breaker \(name) tripped: \(reason.rawValue) \(detail)", at: now)))
        var decision = CopyDecision(reason: reason, detail: "breaker \(name) tripped: \(detail)")
        switch breakers[b].kind {
        case .followerLoss(let f, _): decision.followerID = followers[f].config.followerID
        case .providerLoss(let p, _), .providerSuspicious(let p): decision.providerID = providers[p].config.providerID
        case .broker: break
        }
        decide(decision)
        breakerChanged(b, tripped: true)
    }

    /// Resets breaker `b` (if it is tripped): journals it and lets copying resume.
    mutating func reset(_ b: Int, by who: String) {
        guard breakers[b].tripped else { return }
        breakers[b].tripped = false
        unconfirmedTrips.remove(b)
        let name = breakers[b].name
        let was = breakers[b].reason
        journal(
            .breaker(BreakerRecord(name: name, tripped: false, reason: was, detail: "reset by \(who)", at: now)))
        actions.append(
            .alert(
                RiskAlert(
                    kind: .reset, breaker: name, reason: .breakerReset,
                    message: "breaker \(name) reset by \(who) (was \(was.rawValue))", at: now)))
        decide(CopyDecision(reason: .breakerReset, detail: "breaker \(name) reset by \(who) (was \(was.rawValue))"))
        switch breakers[b].kind {
        case .followerLoss(let f, _):
            let pnl = followerPnL(f)
            followers[f].loss.rebase(pnl: pnl.realised + pnl.unrealised, base: followers[f].equity, now: now)
        case .providerLoss(let p, _):
            let pnl = providerPnL(p)
            providers[p].loss.rebase(pnl: pnl.realised + pnl.unrealised, base: providers[p].equity, now: now)
        case .providerSuspicious(let p):
            // Her rate and size history restart: the burst that tripped it is not held against her again.
            providers[p].fillTimes.removeAll()
            providers[p].fillSizes.removeAll()
        case .broker(let si):
            sessions[si].rejectTimes.removeAll()
        }
        breakerChanged(b, tripped: false)
    }

    /// Applies the effect of breaker `b` changing state.
    mutating func breakerChanged(_ b: Int, tripped: Bool) {
        switch breakers[b].kind {
        case .followerLoss(let f, _):
            let before = followers[f].risk
            refreshFollowerRisk(f)
            let after = followers[f].risk
            if after.closeAll != nil && before.closeAll == nil && !before.flattenedByOperator {
                flattenCopies(f, provider: nil, reason: .followerFlattened)
            } else if !tripped && Self.lessRestricted(after, than: before) {
                recopy(f, provider: nil)
            }
        case .providerLoss(let p, _), .providerSuspicious(let p):
            let wasBlocked = providers[p].blockReason != nil
            refreshProviderRisk(p)
            if tripped {
                decide(
                    CopyDecision(
                        reason: .providerSuspended, providerID: providers[p].config.providerID,
                        detail: breakers[b].name))
            } else if wasBlocked && providers[p].blockReason == nil {
                for ref in providers[p].links { recopy(ref.follower, provider: p) }
            }
        case .broker(let si):
            sessions[si].breakerTripped = breakers[b].tripped
            if !tripped {
                for f in sessions[si].tradingFollowers { recopy(f, provider: nil) }
            }
        }
    }

    /// Recomputes what follower `f`'s tripped loss breakers allow.
    mutating func refreshFollowerRisk(_ f: Int) {
        var risk = followers[f].risk
        risk.disable = nil
        risk.closeOnly = nil
        risk.closeAll = nil
        let config = followers[f].config
        for (b, action) in [
            (followers[f].breakers.daily, config.dailyLossAction),
            (followers[f].breakers.drawdown, config.drawdownAction),
        ] where breakers[b].tripped {
            let reason = breakers[b].reason
            switch action {
            case .disable: risk.disable = risk.disable ?? reason
            case .closeOnly: risk.closeOnly = risk.closeOnly ?? reason
            case .closeAll: risk.closeAll = risk.closeAll ?? reason
            }
        }
        followers[f].risk = risk
    }

    mutating func refreshProviderRisk(_ p: Int) {
        let b = providers[p].breakers
        providers[p].suspended = [b.suspicious, b.daily, b.drawdown].first { breakers[$0].tripped }.map {
            breakers[$0].reason
        }
    }

    static func lessRestricted(_ a: FollowerRisk, than b: FollowerRisk) -> Bool {
        (b.pinnedFlat && !a.pinnedFlat) || (b.disable != nil && a.disable == nil)
            || (b.closeOnly != nil && a.closeOnly == nil)
    }

    // MARK: Replay

    /// A `.breaker` record: confirms the state replay derived, or restores the journaled one.
    mutating func restoreBreaker(_ record: BreakerRecord) {
        guard let b = breakerIndex[record.name] else { return }
        now = record.at
        if record.tripped {
            unconfirmedTrips.remove(b)
            if !breakers[b].tripped {
                trip(b, record.reason, detail: record.detail)
                unconfirmedTrips.remove(b)
            }
        } else if breakers[b].tripped {
            reset(b, by: "journal")
        }
    }

    /// After replay: trips the journal did not have (the configuration got stricter) are journaled
    /// now, so the next restart finds them even if the configuration loosens again.
    mutating func journalUnconfirmedTrips() {
        for b in unconfirmedTrips.sorted() where breakers[b].tripped {
            journal(
                .breaker(
                    BreakerRecord(
                        name: breakers[b].name, tripped: true, reason: breakers[b].reason, detail: breakers[b].detail,
                        at: breakers[b].since)))
        }
        unconfirmedTrips.removeAll()
    }

    // MARK: Suspicious providers

    /// Checks one of her fills (`quantity` units, unsigned) in `s` before it is copied.
    mutating func checkSuspicious(_ p: Int, _ s: Int, quantity: FixedDecimal) {
        let config = providers[p].config
        var findings: [(ReasonCode, String)] = []
        if config.maxFillsPerWindow > 0 {
            let window = Int64(config.fillWindowMs) * 1_000_000
            providers[p].fillTimes.append(now)
            while let first = providers[p].fillTimes.first, first <= now - window {
                providers[p].fillTimes.removeFirst()
            }
            let count = providers[p].fillTimes.count
            if count > config.maxFillsPerWindow {
                findings.append(
                    (
                        .suspiciousFillRate,
                        "fills=\(count) in \(config.fillWindowMs)ms bound=\(config.maxFillsPerWindow) (MaxFillsPerWindow)"
                    ))
            }
        }
        if config.maxFillSizeMultiple.isPositive {
            if providers[p].fillSizes.count >= config.fillSizeMinHistory {
                let sorted = providers[p].fillSizes.sorted()
                let n = sorted.count
                let median =
                    n % 2 == 1
                    ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]).divided(by: 2, scale: 10, .halfEven)
                let bound = config.maxFillSizeMultiple * median
                if quantity > bound {
                    findings.append(
                        (
                            .suspiciousFillSize,
                            "size=\(quantity.normalized) median=\(median.normalized) of \(n) fills "
                                + "bound=\(bound.normalized) (MaxFillSizeMultiple=\(config.maxFillSizeMultiple))"
                        ))
                }
            }
            providers[p].fillSizes.append(quantity)
            while providers[p].fillSizes.count > config.fillSizeHistory { providers[p].fillSizes.removeFirst() }
        }
        let symbol = symbols.names[s]
        if !config.expectedSymbols.isEmpty
            && !config.expectedSymbols.contains(where: {
                $0.hasSuffix("*") ? symbol.hasPrefix($0.dropLast()) : $0 == symbol
            })
        {
            findings.append((.suspiciousSymbol, "symbol=\(symbol) not in ExpectedSymbols"))
        }
        if !providers[p].tradedSymbols.contains(s) {
            if config.maxSymbols > 0 && providers[p].tradedSymbols.count >= config.maxSymbols {
                findings.append(
                    (
                        .suspiciousSymbol,
                        "symbol=\(symbol) is number \(providers[p].tradedSymbols.count + 1) bound=\(config.maxSymbols) "
                            + "(MaxSymbols)"
                    ))
            }
            providers[p].tradedSymbols.insert(s)
        }
        guard let first = findings.first else { return }
        let detail = findings.map(\.1).joined(separator: "; ")
        let b = providers[p].breakers.suspicious
        switch config.suspiciousAction {
        case .suspend:
            trip(b, first.0, detail: detail)
        case .alert:
            let name = breakers[b].name
            actions.append(
                .alert(
                    RiskAlert(
                        kind: .warning, breaker: name, reason: first.0,
                        message: "provider \(config.providerID): \(detail)", at: now)))
            decide(CopyDecision(reason: first.0, providerID: config.providerID, symbol: symbol, detail: detail))
        }
    }

    // MARK: Broker breakers

    /// A reject of one of our orders on session `si`.
    mutating func noteReject(_ si: Int) {
        let config = sessions[si].config
        guard config.rejectStormCount > 0 else { return }
        let window = Int64(config.rejectStormWindowMs) * 1_000_000
        sessions[si].rejectTimes.append(now)
        while let first = sessions[si].rejectTimes.first, first <= now - window {
            sessions[si].rejectTimes.removeFirst()
        }
        let count = sessions[si].rejectTimes.count
        if count >= config.rejectStormCount {
            trip(
                sessions[si].breaker, .rejectStorm,
                detail: "rejects=\(count) in \(config.rejectStormWindowMs)ms bound=\(config.rejectStormCount)")
        }
    }

    /// The session went down.
    mutating func brokerSessionDown(_ si: Int) {
        guard sessions[si].config.sessionDownBreaker else { return }
        trip(sessions[si].breaker, .sessionDown, detail: "session \(sessions[si].config.name) down")
    }

    /// When a tripped broker breaker with `BreakerResume=auto` may resume (nil: not yet known).
    func brokerResumeTime(_ si: Int) -> EngineTime? {
        let b = sessions[si].breaker
        guard breakers[b].tripped, sessions[si].config.breakerResume == .auto, sessions[si].isUp else { return nil }
        return Swift.max(breakers[b].since, sessions[si].upSince) + Int64(sessions[si].config.breakerCooldownMs)
            * 1_000_000
    }

    func brokerResumeDue() -> Bool {
        for si in sessions.indices where sessions[si].breakerTripped {
            if let t = brokerResumeTime(si), t <= now { return true }
        }
        return false
    }

    mutating func brokerResumeTick() {
        for si in sessions.indices where sessions[si].breakerTripped {
            if let t = brokerResumeTime(si), t <= now { reset(sessions[si].breaker, by: "auto-resume") }
        }
    }
}
