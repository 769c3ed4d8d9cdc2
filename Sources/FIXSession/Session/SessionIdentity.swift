/// Who a session talks to: the QuickFIX SessionID (BeginString, SenderCompID, TargetCompID and the
/// optional sub and location IDs, plus a qualifier that tells apart two sessions with the same IDs).
///
/// "Sender" is always this side: the identity of an acceptor session is written from the acceptor's
/// point of view, so the counterparty's messages carry `SenderCompID = targetCompID`.
public struct SessionIdentity: Hashable, Sendable, CustomStringConvertible {
    /// BeginString (8), `FIX.4.4`.
    public var beginString: String
    /// SenderCompID (49) of the messages we send.
    public var senderCompID: String
    /// SenderSubID (50), sent on every message when set.
    public var senderSubID: String?
    /// SenderLocationID (142), sent on every message when set.
    public var senderLocationID: String?
    /// TargetCompID (56) of the messages we send.
    public var targetCompID: String
    /// TargetSubID (57), sent on every message when set.
    public var targetSubID: String?
    /// TargetLocationID (143), sent on every message when set.
    public var targetLocationID: String?
    /// SessionQualifier: not sent on the wire, only distinguishes sessions (and their files).
    public var qualifier: String?

    public init(
        beginString: String = "FIX.4.4", senderCompID: String, senderSubID: String? = nil,
        senderLocationID: String? = nil, targetCompID: String, targetSubID: String? = nil,
        targetLocationID: String? = nil, qualifier: String? = nil
    ) {
        self.beginString = beginString
        self.senderCompID = senderCompID
        self.senderSubID = senderSubID
        self.senderLocationID = senderLocationID
        self.targetCompID = targetCompID
        self.targetSubID = targetSubID
        self.targetLocationID = targetLocationID
        self.qualifier = qualifier
    }

    /// The same session seen from the counterparty (sender and target swapped).
    public var reversed: SessionIdentity {
        SessionIdentity(
            beginString: beginString, senderCompID: targetCompID, senderSubID: targetSubID,
            senderLocationID: targetLocationID, targetCompID: senderCompID, targetSubID: senderSubID,
            targetLocationID: senderLocationID, qualifier: qualifier)
    }

    /// `FIX.4.4:SENDER->TARGET`, as QuickFIX prints a SessionID.
    public var description: String {
        var s = "\(beginString):\(senderCompID)"
        if let v = senderSubID { s += "/\(v)" }
        if let v = senderLocationID { s += "/\(v)" }
        s += "->\(targetCompID)"
        if let v = targetSubID { s += "/\(v)" }
        if let v = targetLocationID { s += "/\(v)" }
        if let q = qualifier { s += ":\(q)" }
        return s
    }

    /// The stem of the session's store and log file names, in the QuickFIX/J layout:
    /// `FIX.4.4-SENDER_SUB_LOC-TARGET_SUB_LOC[-QUALIFIER]`. Characters that cannot appear in a file
    /// name are replaced by `_`, so a CompID can never escape the store directory.
    public var fileNameStem: String {
        var sender = senderCompID
        if let v = senderSubID { sender += "_\(v)" }
        if let v = senderLocationID { sender += "_\(v)" }
        var target = targetCompID
        if let v = targetSubID { target += "_\(v)" }
        if let v = targetLocationID { target += "_\(v)" }
        var stem = "\(beginString)-\(sender)-\(target)"
        if let q = qualifier { stem += "-\(q)" }
        return String(
            stem.map { c -> Character in
                c == "/" || c == "\\" || c == ":" || c == "\0" || c.asciiValue.map { $0 < 0x20 } == true ? "_" : c
            })
    }
}
