import CopyEngine
import FIXCore
import Foundation

/// The engine's views as the HTTP API and the dashboard show them.
extension EngineStateView {
    /// Followers, providers and breakers as snapshots (figures the ledger adds, such as fees and
    /// provider statistics, are left at their defaults for the caller to fill).
    public func snapshots(
        currency: String
    ) -> (
        followers: [FollowerSnapshot], providers: [ProviderSnapshot], breakers: [BreakerSnapshot]
    ) {
        (
            followers.map { FollowerSnapshot($0, currency: currency) }, providers.map(ProviderSnapshot.init),
            breakers.map(BreakerSnapshot.init)
        )
    }
}

extension FollowerSnapshot.State {
    /// Tripped when a breaker holds him (his own or his broker's); otherwise his status, a
    /// flatten counting as paused (both wait for `resume`).
    public init(_ view: FollowerView) {
        if !view.trippedBreakers.isEmpty {
            self = .tripped
            return
        }
        switch view.status {
        case .paused: self = .paused
        case .degraded: self = .degraded
        case .active: self = view.flattenedByOperator ? .paused : .active
        }
    }
}

extension FollowerSnapshot {
    public init(_ view: FollowerView, currency: String) {
        self.init(
            id: view.id, providers: view.providers, session: view.session, state: State(view),
            reason: view.restrictions.isEmpty ? nil : view.restrictions.joined(separator: "; "),
            positions: view.positions.filter { !$0.quantity.isZero }.map {
                PositionSnapshot(symbol: $0.symbol, quantity: $0.quantity, averagePrice: $0.averagePrice)
            }, currency: currency, equity: view.equity ?? .zero, realizedPnL: view.realisedPnL,
            unrealizedPnL: view.unrealisedPnL)
    }
}

extension ProviderSnapshot {
    public init(_ view: ProviderView) {
        let state: State
        switch view.state {
        case .active: state = .active
        case .disabled: state = .disabled
        case .suspended: state = .suspended
        }
        self.init(
            id: view.id, session: view.session, state: state, reason: view.reason,
            positions: view.positions.map {
                PositionSnapshot(symbol: $0.symbol, quantity: $0.quantity, averagePrice: $0.averagePrice)
            })
    }
}

extension BreakerSnapshot {
    public init(_ view: BreakerView) {
        var reason: String?
        if let code = view.reason { reason = code.rawValue + (view.detail.map { ": \($0)" } ?? "") }
        self.init(
            name: view.name, tripped: view.tripped, reason: reason,
            since: view.since.map { Date(timeIntervalSince1970: Double($0) / 1_000_000_000) })
    }
}
