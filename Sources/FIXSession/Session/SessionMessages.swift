import FIXCore

extension SessionMessageType {
    /// Every MsgType of FIX 4.4 (from the QuickFIX dictionary), used when no validator is configured.
    static let fix44: Set<String> = {
        var types: Set<String> = []
        for c in fix44SingleCharacterTypes { types.insert(String(c)) }
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" { types.insert("A\(c)") }
        for c in "ABCDEFGH" { types.insert("B\(c)") }
        return types
    }()

    private static let fix44SingleCharacterTypes = "0123456789ABCDEFGHJKLMNPQRSTVWXYZabcdefghijklmnopqrstuvwxyz"

    /// The one-byte MsgTypes of ``fix44``, by byte: most traffic (fills are `8`) is answered without
    /// hashing a string.
    private static let fix44SingleBytes: [Bool] = {
        var known = [Bool](repeating: false, count: 256)
        for b in fix44SingleCharacterTypes.utf8 { known[Int(b)] = true }
        return known
    }()

    /// Whether `msgType` is a FIX 4.4 MsgType or a user-defined one (`U...`).
    static func isKnownFIX44(_ msgType: String) -> Bool {
        let utf8 = msgType.utf8
        if utf8.count == 1 { return fix44SingleBytes[Int(utf8[utf8.startIndex])] || utf8.first == UInt8(ascii: "U") }
        return fix44.contains(msgType) || utf8.first == UInt8(ascii: "U")
    }
}
