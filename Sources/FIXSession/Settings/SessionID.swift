/// The identity of a FIX session: the CompIDs (and SubIDs) both sides put in every header, the FIX
/// version and an optional qualifier that tells otherwise identical sessions apart.
public struct SessionID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let beginString: String
    public let senderCompID: String
    public let senderSubID: String?
    public let targetCompID: String
    public let targetSubID: String?
    public let sessionQualifier: String?

    public init(
        beginString: String = "FIX.4.4", senderCompID: String, senderSubID: String? = nil, targetCompID: String,
        targetSubID: String? = nil, sessionQualifier: String? = nil
    ) {
        self.beginString = beginString
        self.senderCompID = senderCompID
        self.senderSubID = senderSubID
        self.targetCompID = targetCompID
        self.targetSubID = targetSubID
        self.sessionQualifier = sessionQualifier
    }

    /// The same session seen from the counterparty: sender and target swapped.
    public var reversed: SessionID {
        SessionID(
            beginString: beginString, senderCompID: targetCompID, senderSubID: targetSubID, targetCompID: senderCompID,
            targetSubID: senderSubID, sessionQualifier: sessionQualifier)
    }

    /// QuickFIX's form, stable across releases: `FIX.4.4:SENDER->TARGET`, with `/SubID` after a CompID
    /// that has one and `:Qualifier` at the end when there is one.
    public var description: String {
        var s = beginString + ":" + senderCompID
        if let senderSubID { s += "/" + senderSubID }
        s += "->" + targetCompID
        if let targetSubID { s += "/" + targetSubID }
        if let sessionQualifier { s += ":" + sessionQualifier }
        return s
    }

    /// A file name stem unique to this identity and stable across releases, in QuickFIX's file store
    /// style: `FIX.4.4-SENDER-TARGET`, `FIX.4.4-SENDER_SSUB-TARGET_TSUB-QUALIFIER`. Characters other than
    /// letters, digits and `.` are written `%XX` inside each part, so no two identities share a stem and
    /// no stem leaves its directory.
    public var fileNameStem: String {
        var parts = [Self.escape(beginString)]
        parts.append(Self.escape(senderCompID) + (senderSubID.map { "_" + Self.escape($0) } ?? ""))
        parts.append(Self.escape(targetCompID) + (targetSubID.map { "_" + Self.escape($0) } ?? ""))
        if let sessionQualifier { parts.append(Self.escape(sessionQualifier)) }
        return parts.joined(separator: "-")
    }

    private static func escape(_ part: String) -> String {
        var out = ""
        for byte in part.utf8 {
            let c = Unicode.Scalar(byte)
            let safe =
                (byte < 0x80)
                && (("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == ".")
            // A lone "." or ".." would name a directory: escape dots at the start of a part.
            if safe && !(c == "." && out.isEmpty) {
                out.unicodeScalars.append(c)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    public static func < (lhs: SessionID, rhs: SessionID) -> Bool {
        lhs.orderingKey.lexicographicallyPrecedes(rhs.orderingKey)
    }

    /// Every field, an absent optional sorting before any present one.
    private var orderingKey: [String] {
        func optional(_ s: String?) -> String { s.map { "1" + $0 } ?? "0" }
        return [
            beginString, senderCompID, optional(senderSubID), targetCompID, optional(targetSubID),
            optional(sessionQualifier),
        ]
    }
}
