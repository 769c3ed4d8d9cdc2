import FIXCore

extension SessionMessageType {
    /// Every MsgType of FIX 4.4 (from the QuickFIX dictionary), used when no validator is configured.
    static let fix44: Set<String> = {
        var types: Set<String> = []
        for c in "0123456789ABCDEFGHJKLMNPQRSTVWXYZabcdefghijklmnopqrstuvwxyz" { types.insert(String(c)) }
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" { types.insert("A\(c)") }
        for c in "ABCDEFGH" { types.insert("B\(c)") }
        return types
    }()

    /// Whether `msgType` is a FIX 4.4 MsgType or a user-defined one (`U...`).
    static func isKnownFIX44(_ msgType: String) -> Bool {
        fix44.contains(msgType) || msgType.utf8.first == UInt8(ascii: "U")
    }
}
