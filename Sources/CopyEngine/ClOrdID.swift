/// Deterministic ClOrdIDs: `prefix + 13 base62 characters + 2 base36 characters`.
///
/// The 13 characters are 77 bits of a keyed hash (SipHash-2-4-128 with a fixed key) of the signal
/// (provider session and ExecID, or a synthetic signal), the follower's session and the follower
/// (or the block's symbol and side); the last two characters are the attempt number.
///
/// - Deterministic: the same signal, follower and attempt give the same ClOrdID in every run, so
///   a replay after a crash derives exactly the IDs the crashed process may have sent.
/// - Unique per broker across restarts: ExecIDs are unique at the provider's broker, follower
///   IDs are unique in the configuration, and attempts count up per signal and follower (their
///   counters are rebuilt from the journal). Even without a journal, two different inputs
///   collide with probability about n²/2⁷⁸ (10⁻¹¹ for a million orders, 10⁻⁶ for a billion);
///   the engine still checks every new ID against the orders it knows, and brokers check
///   uniqueness among orders far fewer than that.
/// - Short: 15 characters plus an optional prefix of at most 14 (≤ 29 in all). Brokers cap
///   ClOrdID length (20 on several venues and MT bridges, 32 or 36 on most others); without a
///   prefix the ID fits all of them, and a raw ExecID (often 30–40 characters) would not. And 15
///   bytes is what a Swift String holds inline: an ID without a prefix costs no allocation and
///   no reference counting, which a thousand followers' orders per signal would pay for.
/// - Fixed width, ASCII alphanumeric: safe in every broker's ClOrdID field and in file names.
///
/// The scheme first had 16 hash characters: 10 digits from one half of the hash and 6 from the
/// other, of which these are the 10 and the last 3. A journal written with 16 replays as after a
/// change of `ClOrdIDPrefix`: its orders are adopted as journaled and keep their IDs.
public enum ClOrdIDScheme {
    /// Characters of the hash part.
    public static let hashLength = 13
    /// Characters of the attempt part.
    public static let attemptLength = 2
    /// The largest attempt number: 36² − 1.
    public static let maximumAttempt = 1295
    public static let maximumPrefixLength = 14

    static let base62: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    /// Every two-digit base-62 number, its digits as they are stored (the first in the low byte).
    static let base62Pairs: [UInt16] = (0..<3844).map { UInt16(base62[$0 / 62]) | UInt16(base62[$0 % 62]) << 8 }

    /// The ClOrdID for four hashed parts (separated before hashing, so `("ab", "c")` and
    /// `("a", "bc")` differ) and `attempt`.
    public static func make(
        prefix: String, _ p0: String, _ p1: String, _ p2: String, _ p3: String, attempt: Int
    ) -> String {
        var h = ClOrdIDHasher()
        h.feed(p0)
        h.feed(p1)
        h.feed(p2)
        h.feed(p3)
        return h.clOrdID(prefix: prefix, attempt: attempt)
    }
}

/// The hash state of a ClOrdID's parts; the engine keeps the state after a signal's parts and
/// continues it for each follower.
public struct ClOrdIDHasher: Sendable {
    var h = SipHasher24(k0: 0x436F_7079_4272_6964, k1: 0x6765_2D43_6C4F_7264)

    public init() {}

    /// Adds one part.
    public mutating func feed(_ part: String) {
        h.write(part)
        h.write(0x1F)
    }

    /// Adds bytes that already hold whole parts, each followed by 0x1F.
    mutating func feed(parts: UnsafeRawBufferPointer) {
        h.write(parts)
    }

    /// The ClOrdID of the parts fed so far.
    public func clOrdID(prefix: String, attempt: Int) -> String {
        precondition(attempt >= 0 && attempt <= ClOrdIDScheme.maximumAttempt, "attempt \(attempt) out of range")
        var state = h
        let (first, second) = state.finalize128()
        // 10 digits from one half and 3 from the other: 59.5 + 17.9 bits, all in 64-bit arithmetic.
        let high = first % 839_299_365_868_340_224  // 62^10
        let low = second % 238_328  // 62^3
        // Two digits at a time from a table of the 3 844 pairs, in two runs (6 + 4 digits) whose
        // chains of dependent divisions overlap in the CPU, then the other half's three.
        var runs = (high / 14_776_336, high % 14_776_336)  // 62^4
        let prefixCount = prefix.utf8.count
        return String(unsafeUninitializedCapacity: prefixCount + ClOrdIDScheme.hashLength + ClOrdIDScheme.attemptLength)
        {
            out in
            ClOrdIDScheme.base62Pairs.withUnsafeBufferPointer { pairs in
                var o = 0
                for c in prefix.utf8 {
                    out[o] = c
                    o += 1
                }
                let base = UnsafeMutableRawPointer(out.baseAddress!) + o
                @inline(__always) func pair(_ value: UInt64, at offset: Int) {
                    base.storeBytes(of: pairs[Int(value)], toByteOffset: offset, as: UInt16.self)
                }
                for k in 0..<3 {
                    pair(runs.0 % 3844, at: 4 - 2 * k)
                    runs.0 /= 3844
                    if k < 2 {
                        pair(runs.1 % 3844, at: 8 - 2 * k)
                        runs.1 /= 3844
                    }
                }
                pair(low / 62, at: 10)
                // The pair (0, d) holds digit d in its second byte.
                let last = UInt8(truncatingIfNeeded: pairs[Int(low % 62)] >> 8)
                base.storeBytes(of: last, toByteOffset: 12, as: UInt8.self)
                // The attempt's two base-36 digits are base-62 digits too.
                pair(UInt64(attempt / 36 * 62 + attempt % 36), at: ClOrdIDScheme.hashLength)
                return o + ClOrdIDScheme.hashLength + ClOrdIDScheme.attemptLength
            }
        }
    }
}

extension ClOrdIDScheme {
    /// Hash characters of the scheme's first version. Brokers can still report orders with such IDs
    /// (late resends after an upgrade), and they are ours as much as the new ones.
    static let firstHashLength = 16

    /// Whether `id` has the shape of a ClOrdID made with `prefix`, by this version or the first.
    public static func matches(_ id: String, prefix: String) -> Bool {
        let bytes = id.utf8
        let hashPart = bytes.count - prefix.utf8.count - attemptLength
        guard hashPart == hashLength || hashPart == firstHashLength, id.hasPrefix(prefix) else { return false }
        return bytes.dropFirst(prefix.utf8.count).allSatisfy { b in
            (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
        }
    }
}

/// SipHash-2-4 with 128-bit output (Aumasson and Bernstein's reference `siphash` with
/// `outlen == 16`), fed in 8-byte words where it can be.
struct SipHasher24: Sendable {
    var v0: UInt64
    var v1: UInt64
    var v2: UInt64
    var v3: UInt64
    var tail: UInt64 = 0
    var length: UInt64 = 0

    init(k0: UInt64, k1: UInt64) {
        v0 = k0 ^ 0x736F_6D65_7073_6575
        v1 = k1 ^ 0x646F_7261_6E64_6F6D ^ 0xEE
        v2 = k0 ^ 0x6C79_6765_6E65_7261
        v3 = k1 ^ 0x7465_6462_7974_6573
    }

    @inline(__always)
    mutating func round() {
        v0 &+= v1
        v1 = v1.rotl(13)
        v1 ^= v0
        v0 = v0.rotl(32)
        v2 &+= v3
        v3 = v3.rotl(16)
        v3 ^= v2
        v0 &+= v3
        v3 = v3.rotl(21)
        v3 ^= v0
        v2 &+= v1
        v1 = v1.rotl(17)
        v1 ^= v2
        v2 = v2.rotl(32)
    }

    @inline(__always)
    mutating func compress(_ m: UInt64) {
        v3 ^= m
        round()
        round()
        v0 ^= m
    }

    mutating func write(_ text: String) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { write(UnsafeRawBufferPointer($0)) }
        if done == nil { for byte in text.utf8 { write(byte) } }
    }

    /// Adds `raw`, a word at a time: the bytes that complete the pending word, whole words, then
    /// the rest as the new pending word. Same state as adding the bytes one by one.
    mutating func write(_ raw: UnsafeRawBufferPointer) {
        let n = raw.count
        guard n > 0, let p = raw.baseAddress else { return }
        let pending = Int(truncatingIfNeeded: length & 7)
        length &+= UInt64(n)
        var i = 0
        if pending != 0 {
            i = Swift.min(8 - pending, n)
            tail |= Self.load(p, count: i) << UInt64(pending * 8)
            if pending + i < 8 { return }
            compress(tail)
            tail = 0
        }
        while n - i >= 8 {
            compress(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i += 8
        }
        if i < n { tail = Self.load(p + i, count: n - i) }
    }

    /// `count` (1...8) bytes at `p` as a little-endian word, without reading past them: two
    /// overlapping loads of the widest size that fits.
    @inline(__always)
    static func load(_ p: UnsafeRawPointer, count: Int) -> UInt64 {
        switch count {
        case 8:
            return UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
        case 4...7:
            let low = UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            let high = UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)))
            return low | high << UInt64((count - 4) * 8)
        case 2...3:
            let low = UInt64(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
            let high = UInt64(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: count - 2, as: UInt16.self)))
            return low | high << UInt64((count - 2) * 8)
        default:
            return UInt64(p.load(as: UInt8.self))
        }
    }

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        tail |= UInt64(byte) << ((length & 7) * 8)
        length &+= 1
        if length & 7 == 0 {
            compress(tail)
            tail = 0
        }
    }

    mutating func finalize128() -> (UInt64, UInt64) {
        compress(tail | (length & 0xFF) << 56)
        v2 ^= 0xEE
        round()
        round()
        round()
        round()
        let first = v0 ^ v1 ^ v2 ^ v3
        v1 ^= 0xDD
        round()
        round()
        round()
        round()
        return (first, v0 ^ v1 ^ v2 ^ v3)
    }
}

extension UInt64 {
    @inline(__always)
    fileprivate func rotl(_ n: UInt64) -> UInt64 { self << n | self >> (64 - n) }
}
