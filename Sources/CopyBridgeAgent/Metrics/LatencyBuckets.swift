/// Latencies in microseconds, counted in buckets whose bounds have two significant digits
/// (…, 10, 11, …, 99, 100, 110, …, 990, 1000, 1100, … µs up to 990 s).
///
/// Every threshold an operator writes (500 ms, 2.5 ms) is a bucket bound, so "the p99 is over 500 ms" is
/// decided exactly, and any coarser histogram with such bounds (the dashboard's, Prometheus's) can be
/// derived from it without error. The relative resolution is 10 % or better, memory is fixed.
struct LatencyBuckets: Sendable, Equatable {
    /// Bucket bounds are `m × 10^d` µs for `m` in 10...99 and `d` in 0..<decades.
    static let decades = 8
    static let bucketsPerDecade = 90
    /// The bucketed range; anything above lands in the overflow bucket.
    static let largestBoundMicros = 99 * pow10(decades - 1)
    static let overflowIndex = decades * bucketsPerDecade

    private(set) var counts: [Int]
    private(set) var total = 0
    /// The largest value recorded, what a quantile in the overflow bucket reports.
    private(set) var maxMicros = 0

    init() {
        counts = Array(repeating: 0, count: Self.overflowIndex + 1)
    }

    /// The bucket holding `micros`: the one with the smallest bound at or above it.
    static func index(ofMicros micros: Int) -> Int {
        if micros <= 10 { return 0 }
        if micros > largestBoundMicros { return overflowIndex }
        var digits = 0
        var rest = micros
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        // micros has digits+1 digits; scale so the mantissa has two.
        var decade = digits - 1
        let unit = pow10(decade)
        var mantissa = (micros + unit - 1) / unit
        if mantissa == 100 {
            decade += 1
            mantissa = 10
        }
        return decade * bucketsPerDecade + (mantissa - 10)
    }

    /// The inclusive upper bound of bucket `index`; `nil` for the overflow bucket.
    static func upperBoundMicros(ofIndex index: Int) -> Int? {
        precondition(index >= 0 && index <= overflowIndex, "bucket index \(index) out of range")
        if index == overflowIndex { return nil }
        return (10 + index % bucketsPerDecade) * pow10(index / bucketsPerDecade)
    }

    static func pow10(_ exponent: Int) -> Int {
        var value = 1
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    mutating func record(micros: Int) {
        let micros = max(0, micros)
        counts[Self.index(ofMicros: micros)] += 1
        total += 1
        maxMicros = max(maxMicros, micros)
    }

    mutating func record(index: Int, count: Int, maxMicros: Int) {
        counts[index] += count
        total += count
        self.maxMicros = max(self.maxMicros, maxMicros)
    }

    /// The `q` quantile (0...1) as the upper bound of the bucket that holds it: never below the true value,
    /// at most one bucket above. `nil` when empty.
    func quantile(_ q: Double) -> Int? {
        guard total > 0 else { return nil }
        let rank = max(1, Int((q * Double(total)).rounded(.up)))
        var seen = 0
        for (index, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= rank {
                return Self.upperBoundMicros(ofIndex: index).map { min($0, maxMicros) } ?? maxMicros
            }
        }
        preconditionFailure("bucket counts add up to less than the total")
    }

    /// Non-cumulative counts for coarser bounds (each must be a bucket bound), plus an overflow count.
    func coarse(boundsMicros bounds: [Int]) -> [Int] {
        var result = Array(repeating: 0, count: bounds.count + 1)
        var slot = 0
        for (index, count) in counts.enumerated() where count > 0 {
            let bound = Self.upperBoundMicros(ofIndex: index)
            while slot < bounds.count, let bound, bound > bounds[slot] { slot += 1 }
            if bound == nil { slot = bounds.count }
            result[slot] += count
        }
        return result
    }
}
