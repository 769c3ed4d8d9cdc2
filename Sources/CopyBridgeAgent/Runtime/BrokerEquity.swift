import CopyEngine
import FIXCore

/// The accounts whose equity the agent reads from their brokers (`Equity=broker`), and the
/// CollateralInquiries (35=BB) it has open for them.
///
/// One inquiry per account and session, sent when the session logs on, subscribing to updates
/// (SubscriptionRequestType 1). Each CollateralReport (35=BA) names the inquiry and carries the
/// equity in TotalNetValue (900). A value of its own: the agent core sends, times out and applies.
struct BrokerEquity {
    /// FIX tags of the collateral messages.
    enum Tag {
        static let collInquiryID = 909
        static let subscriptionRequestType = 263
        static let totalNetValue = 900
        static let collInquiryStatus = 945
        static let refMsgType = 372
    }

    /// An account on a session and the providers and followers (by ID) whose equity it is.
    struct Watch {
        var session: String
        var account: String
        var ids: [String]
    }

    /// An inquiry sent and what became of it.
    struct Inquiry {
        var watch: Watch
        /// A report arrived, or the broker refused, or the inquiry timed out (warned once).
        var settled = false
    }

    private(set) var watches: [String: [Watch]] = [:]
    private(set) var inquiries: [String: Inquiry] = [:]
    private var counter = 0
    /// The latest equity applied per provider or follower ID.
    private(set) var applied: [String: FixedDecimal] = [:]

    /// Only accounts whose equity sizes copies are asked for: followers sized by equity ratio or
    /// risk percent, and providers with an equity-ratio follower. The others (`Equity=broker` is
    /// the default) would only draw refusals from brokers that do not answer collateral inquiries.
    init(_ configuration: CopyEngineConfiguration) {
        var ratioProviders = Set<String>()
        for f in configuration.followers {
            switch f.sizing {
            case .equityRatio:
                ratioProviders.formUnion(f.providers.map(\.providerID))
                if f.equity == .broker { add(session: f.sessionName, account: f.account, id: f.followerID) }
            case .riskPercent:
                if f.equity == .broker { add(session: f.sessionName, account: f.account, id: f.followerID) }
            case .fixedRatio, .fixedQty:
                continue
            }
        }
        for p in configuration.providers where p.equity == .broker && ratioProviders.contains(p.providerID) {
            add(session: p.sessionName, account: p.account, id: p.providerID)
        }
    }

    private mutating func add(session: String, account: String, id: String) {
        if let i = watches[session]?.firstIndex(where: { $0.account == account }) {
            watches[session]![i].ids.append(id)
        } else {
            watches[session, default: []].append(Watch(session: session, account: account, ids: [id]))
        }
    }

    /// The inquiries to send now that `session` is logged on, by CollInquiryID.
    mutating func inquiries(onLogon session: String) -> [(id: String, message: FIXMessageBuilder)] {
        // The broker ended the previous logon's subscriptions; their answers can no longer come.
        inquiries = inquiries.filter { $0.value.watch.session != session }
        return (watches[session] ?? []).map { watch in
            counter += 1
            let id = "EQ-\(session)-\(watch.account)-\(counter)"
            var b = FIXMessageBuilder(msgType: "BB")
            b.set(Tag.collInquiryID, id)
            b.set(Tag.subscriptionRequestType, "1")  // snapshot and updates
            b.set(FIXTag.account, watch.account)
            inquiries[id] = Inquiry(watch: watch)
            return (id, b)
        }
    }

    /// The inquiry a collateral message on `session` answers: by CollInquiryID, else by account.
    func inquiry(answering m: FIXMessage, on session: String) -> (id: String, inquiry: Inquiry)? {
        if let id = m[Tag.collInquiryID], let inquiry = inquiries[id], inquiry.watch.session == session {
            return (id, inquiry)
        }
        guard let account = m[FIXTag.account] else { return nil }
        return inquiries.first { $0.value.watch.session == session && $0.value.watch.account == account }
            .map { ($0.key, $0.value) }
    }

    /// Marks an inquiry settled; returns whether it was not yet (so a warning is given once).
    mutating func settle(_ id: String) -> Bool {
        guard let inquiry = inquiries[id], !inquiry.settled else { return false }
        inquiries[id]!.settled = true
        return true
    }

    /// Records `equity` for `id`; returns whether it differs from the one applied before.
    mutating func apply(_ equity: FixedDecimal, to id: String) -> Bool {
        guard applied[id] != equity else { return false }
        applied[id] = equity
        return true
    }
}
