import FIXCore

/// Whether an operator command would do anything now, checked before it is journaled and applied.
public enum OperatorCommandCheck: Sendable, Equatable {
    /// It changes something (or starts something: orders, a resync).
    case applies
    /// Nothing to change; the text says why (`bob is already paused`).
    case unchanged(String)
    case unknownFollower(String)
    case unknownProvider(String)
    case unknownBreaker(String)
    /// It cannot be done; the text says why.
    case refused(String)
}

/// Operator commands: pause and resume, the provider kill switch, flatten, breaker resets, resync.
///
/// Every command arrives as an event (`.command`) carrying who gave it and why, and is journaled
/// before it acts, so replay applies it at the same point. Applying is idempotent; ``check(_:)``
/// tells a driver beforehand whether a command would change anything and whether its target exists.
extension CopyEngine {
    mutating func operatorCommand(_ command: OperatorCommand, actor: String) {
        let who = actor.isEmpty ? "operator" : actor
        switch command {
        case .pauseFollower(let id):
            guard let f = followerIndex[id] else { return }
            followers[f].status = .paused
            actions.append(.followerStateChanged(followerID: id, status: .paused))
            decide(CopyDecision(reason: .followerPaused, followerID: id, detail: "by \(who)"))
        case .resumeFollower(let id):
            guard let f = followerIndex[id] else { return }
            resume(f)
        case .setEquity(let id, let equity):
            if let p = providerIndex[id] {
                rebaseEquity(provider: p)
                providers[p].equity = equity
                for ref in providers[p].links { recomputeFactors(ref.follower) }
                providerLossCheck(p)
            }
            if let f = followerIndex[id] {
                rebaseEquity(follower: f)
                followers[f].equity = equity
                recomputeFactors(f)
                if followers[f].loss.limits.isActive { applyFollowerLoss(f, evaluateFollowerLoss(f)) }
            }
        case .disableProvider(let id, let flatten):
            guard let p = providerIndex[id] else { return }
            providers[p].disabled = true
            decide(
                CopyDecision(
                    reason: .providerDisabled, providerID: id, detail: "by \(who)" + (flatten ? ", flattening" : "")))
            if flatten {
                for ref in providers[p].links { flattenCopies(ref.follower, provider: p, reason: .providerFlattened) }
            }
        case .enableProvider(let id):
            guard let p = providerIndex[id] else { return }
            let wasBlocked = providers[p].blockReason != nil
            providers[p].disabled = false
            decide(CopyDecision(reason: .providerEnabled, providerID: id, detail: "by \(who)"))
            if wasBlocked && providers[p].blockReason == nil {
                for ref in providers[p].links { recopy(ref.follower, provider: p) }
            }
        case .flattenFollower(let id):
            guard let f = followerIndex[id] else { return }
            followers[f].risk.flattenedByOperator = true
            decide(CopyDecision(reason: .followerFlattened, followerID: id, detail: "by \(who)"))
            flattenCopies(f, provider: nil, reason: .followerFlattened)
        case .resetBreaker(let name):
            for b in breakers(named: name) where breakers[b].tripped { reset(b, by: who) }
        case .resync:
            decide(CopyDecision(reason: .resync, detail: "by \(who)"))
            for si in sessions.indices {
                if sessions[si].isUp && sessions[si].phase == .live {
                    startSettle(si, positions: true)
                } else {
                    // Down, or settling already: positions are asked for on the next settlement.
                    sessions[si].needsSettle = sessions[si].needsSettle || !sessions[si].isUp
                    sessions[si].settlePositions = true
                }
            }
        }
    }

    /// Whether `command` would change anything now, and whether what it names exists.
    public func check(_ command: OperatorCommand) -> OperatorCommandCheck {
        switch command {
        case .pauseFollower(let id):
            guard let f = followerIndex[id] else { return .unknownFollower(id) }
            if case .paused = followers[f].status { return .unchanged("\(id) is already paused") }
            return .applies
        case .resumeFollower(let id):
            guard let f = followerIndex[id] else { return .unknownFollower(id) }
            if followers[f].isActive && !followers[f].risk.flattenedByOperator {
                let tripped = followerBreakers(f).filter { breakers[$0].tripped }.map { breakers[$0].name }
                if tripped.isEmpty { return .unchanged("\(id) is already active") }
                return .unchanged(
                    "\(id) is active but breakers are tripped (reset-breaker): \(tripped.joined(separator: ", "))")
            }
            return .applies
        case .setEquity(let id, let equity):
            guard followerIndex[id] != nil || providerIndex[id] != nil else { return .unknownFollower(id) }
            guard equity.isPositive && equity.isPlausible else { return .refused("equity must be a positive amount") }
            return .applies
        case .disableProvider(let id, let flatten):
            guard let p = providerIndex[id] else { return .unknownProvider(id) }
            if providers[p].disabled && !flatten { return .unchanged("\(id) is already disabled") }
            return .applies
        case .enableProvider(let id):
            guard let p = providerIndex[id] else { return .unknownProvider(id) }
            if !providers[p].disabled {
                if let reason = providers[p].suspended {
                    return .unchanged(
                        "\(id) is not disabled but suspended (\(reason.rawValue)): use reset-breaker \(id)")
                }
                return .unchanged("\(id) is already enabled")
            }
            return .applies
        case .flattenFollower(let id):
            guard let f = followerIndex[id] else { return .unknownFollower(id) }
            if followers[f].risk.flattenedByOperator && copiedSymbols(f).isEmpty {
                return .unchanged("\(id) is flat and flattened")
            }
            return .applies
        case .resetBreaker(let name):
            let found = breakers(named: name)
            guard !found.isEmpty else { return .unknownBreaker(name) }
            if !found.contains(where: { breakers[$0].tripped }) {
                return .unchanged("no tripped breaker: \(found.map { breakers[$0].name }.joined(separator: ", "))")
            }
            return .applies
        case .resync:
            return .applies
        }
    }

    // MARK: Flatten and recopy

    /// Closes follower `f`'s copies (of provider `provider` only, or of all): the links stop
    /// following, the targets go to zero and the router sends the closing orders.
    mutating func flattenCopies(_ f: Int, provider: Int?, reason: ReasonCode) {
        let links = followers[f].links.indices.filter { provider == nil || followers[f].links[$0].provider == provider }
        guard !links.isEmpty else { return }
        for s in followers[f].knownSymbols {
            var touched = false
            for l in links {
                if followers[f].symbols[s].links[l].waitingCatchUp {
                    followers[f].symbols[s].links[l].waitingCatchUp = false
                }
                if !followers[f].symbols[s].links[l].accepted.isZero {
                    setAccepted(f, l, s, to: 0, price: nil)
                    touched = true
                }
            }
            let st = followers[f].symbols[s]
            let exposure = st.managed + st.working
            guard touched || !st.target.isZero || (provider == nil && !exposure.isZero && !st.detached) else {
                continue
            }
            let before = st.target
            refreshTarget(f, s)
            decide(
                CopyDecision(
                    reason: reason, followerID: followers[f].config.followerID,
                    providerID: provider.map { providers[$0].config.providerID }, symbol: symbols.names[s],
                    signal: st.signalID, quantity: followers[f].symbols[s].target - before))
            plan(f, s)
        }
    }

    /// Copies again after a restriction lifted (a breaker reset, a provider enabled, a broker
    /// resumed): positions missed meanwhile follow his CatchUp mode, then every symbol is planned.
    mutating func recopy(_ f: Int, provider: Int?) {
        for s in followers[f].knownSymbols {
            catchUpGaps(f, s, provider: provider)
            refreshTarget(f, s)
            reattachIfProviderFlat(f, s)
            plan(f, s)
        }
    }

    /// Symbols where follower `f` has a copied position, a target or working orders.
    func copiedSymbols(_ f: Int) -> [Int] {
        followers[f].knownSymbols.filter {
            let st = followers[f].symbols[$0]
            return !st.target.isZero || !st.working.isZero || (!st.managed.isZero && !st.detached)
        }
    }

    /// The breakers that restrict follower `f`: his own and his broker's.
    func followerBreakers(_ f: Int) -> [Int] {
        [followers[f].breakers.daily, followers[f].breakers.drawdown, sessions[followers[f].session].breaker]
    }
}
