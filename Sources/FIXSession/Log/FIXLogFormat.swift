import FIXCore
import NIOCore

/// How messages are written to logs: one line per message, passwords masked.
public enum FIXLogFormat {
    /// Tags whose values never reach a log: Password (554), NewPassword (925).
    public static let maskedTags: Set<Int> = [FIXTag.password, 925]

    /// The frame with each masked value replaced by `***` and SOH replaced by `separator`
    /// (pass `SOH` to keep the raw layout QuickFIX writes).
    public static func masked(_ frame: ByteBuffer, separator: UInt8 = SOH) -> String {
        let raw = frame.readableBytesView
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var fieldStart = raw.startIndex
        var i = raw.startIndex
        while i < raw.endIndex {
            if raw[i] == SOH {
                appendField(raw[fieldStart..<i], into: &out)
                out.append(separator)
                fieldStart = i + 1
            }
            i += 1
        }
        if fieldStart < raw.endIndex { appendField(raw[fieldStart..<raw.endIndex], into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendField(_ field: ByteBufferView.SubSequence, into out: inout [UInt8]) {
        guard let eq = field.firstIndex(of: UInt8(ascii: "=")) else {
            out.append(contentsOf: field)
            return
        }
        var tag = 0
        for b in field[field.startIndex..<eq] {
            let d = b &- UInt8(ascii: "0")
            guard d < 10, tag < 1_000_000 else {
                out.append(contentsOf: field)
                return
            }
            tag = tag * 10 + Int(d)
        }
        if maskedTags.contains(tag) {
            out.append(contentsOf: field[field.startIndex...eq])
            out.append(contentsOf: "***".utf8)
        } else {
            out.append(contentsOf: field)
        }
    }
}
