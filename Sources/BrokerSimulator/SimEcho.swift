import FIXCore

/// The reflector behind `Application=echo`, the counterpart session conformance suites expect.
///
/// A NewOrderSingle or SecurityDefinition comes back with the same body; a NewOrderSingle with
/// PossResend=Y whose ClOrdID this session has already received since logon is dropped (it is a
/// resend of an order already handled); any other application message is answered with a
/// BusinessMessageReject, 380=3 "Unsupported Message Type".
struct SimEchoState: Sendable {
    /// ClOrdIDs received since logon, per session; cleared at logout.
    private var seen: [SimSessionKey: Set<String>] = [:]

    mutating func received(
        _ message: FIXMessage, on session: SimSessionKey, copier: SimEchoCopier
    ) -> [SimOutput] {
        if message.isMsgType("D") {
            let clOrdID = message[FIXTag.clOrdID] ?? ""
            let possResend = (try? message.boolIfPresent(FIXTag.possResend)) == true
            if possResend && seen[session, default: []].contains(clOrdID) { return [] }
            seen[session, default: []].insert(clOrdID)
            return [.send(session, copier(message))]
        }
        if message.isMsgType("d") {
            return [.send(session, copier(message))]
        }
        return [.send(session, SimEcho.unsupportedMessageType(message))]
    }

    mutating func loggedOut(_ session: SimSessionKey) {
        seen[session] = nil
    }
}

/// Helpers shared by echo mode and the broker.
public enum SimEcho {
    /// The default echo body: every body field of `message` in received order, without the
    /// header (the session layer writes its own) and trailer.
    ///
    /// This is the one place to swap in the data dictionary's canonicalising copy.
    @Sendable
    public static func copyBody(of message: FIXMessage) -> FIXMessageBuilder {
        var builder = FIXMessageBuilder(copying: message)
        for tag in FIXTag.standardHeader { builder.remove(tag) }
        for tag in FIXTag.standardTrailer { builder.remove(tag) }
        return builder
    }

    /// BusinessMessageReject (j) 380=3 for a message type this application does not handle.
    static func unsupportedMessageType(_ message: FIXMessage) -> FIXMessageBuilder {
        businessReject(message, reason: 3, text: "Unsupported Message Type")
    }

    /// A BusinessMessageReject referring to `message`.
    static func businessReject(
        _ message: FIXMessage, reason: Int, refID: String? = nil, text: String
    ) -> FIXMessageBuilder {
        var b = FIXMessageBuilder(msgType: "j")
        if let seq = message.msgSeqNum { b.set(FIXTag.refSeqNum, seq) }
        b.set(FIXTag.refMsgType, message.msgType)
        if let refID { b.set(FIXTag.businessRejectRefID, refID) }
        b.set(FIXTag.businessRejectReason, reason)
        b.set(FIXTag.text, text)
        return b
    }
}
