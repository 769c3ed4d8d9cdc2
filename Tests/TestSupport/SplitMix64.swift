/// SplitMix64 (Steele, Lea and Flood, with the constants of Vigna's `splitmix64.c`): a tiny seeded
/// pseudo-random generator for tests.
///
/// Property and fuzz tests draw their cases from this instead of `SystemRandomNumberGenerator` so
/// every run is reproducible: the same seed gives the same cases on every machine and every run, so
/// a failure can be replayed from its seed, and a fixed seed keeps reproducing the case it found.
/// Changing the algorithm, the constants or the seeding would silently change what those tests
/// check. Not for anything that needs unpredictable numbers.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose whole sequence is determined by `seed` (taken as the initial state as is).
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 pseudo-random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
