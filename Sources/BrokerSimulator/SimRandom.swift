import FIXCore

/// The simulator's only source of randomness: xoshiro256** seeded through SplitMix64.
///
/// `SystemRandomNumberGenerator` is never used: the same `RandomSeed` must give the same messages,
/// byte for byte, on every machine and every run, so tests, demos and bug reports can be replayed.
public struct SimRandom: RandomNumberGenerator, Sendable, Equatable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// A generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        var sm = SplitMix64(state: seed)
        s0 = sm.next()
        s1 = sm.next()
        s2 = sm.next()
        s3 = sm.next()
        // xoshiro must not start from the all-zero state; SplitMix64 never yields four zeros in a
        // row, but the invariant is cheap to keep explicit.
        if s0 | s1 | s2 | s3 == 0 { s0 = 0x9E37_79B9_7F4A_7C15 }
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always)
    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform integer in `range`, without modulo bias.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(bitPattern: Int64(range.upperBound &- range.lowerBound)) &+ 1
        if span == 0 { return Int(bitPattern: UInt(next())) }  // the full 64-bit range
        // Rejection sampling: discard the top sliver that would favour small values.
        let limit = UInt64.max - (UInt64.max % span)
        var x = next()
        while x >= limit { x = next() }
        return range.lowerBound &+ Int(bitPattern: UInt(x % span))
    }

    /// `true` with probability `p` (0...1). Certain outcomes draw nothing, so a feature switched
    /// off (probability 0) or fully on (1) leaves the rest of the sequence untouched.
    public mutating func chance(_ p: FixedDecimal) -> Bool {
        if p <= .zero { return false }
        if p >= .one { return true }
        // Compare 53 random bits with p × 2^53, all in integers.
        let threshold = p.mantissa * (Int128(1) << 53) / Self.powerOfTen(p.scale)
        return Int128(next() >> 11) < threshold
    }

    private static func powerOfTen(_ n: Int) -> Int128 {
        var p: Int128 = 1
        for _ in 0..<n { p *= 10 }
        return p
    }

    /// A new generator for one purpose (prices, fills, bots), derived from this one.
    ///
    /// Separate streams keep one activity from shifting another: a follower's order must not
    /// change the provider's price path.
    public mutating func split() -> SimRandom {
        SimRandom(seed: next())
    }
}

/// SplitMix64, used to expand one seed into generator state.
struct SplitMix64: Sendable {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
