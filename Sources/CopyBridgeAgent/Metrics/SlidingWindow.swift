/// Counts per time slice for the last few minutes, summed over any window up to the retention.
///
/// A value: time comes in as a parameter, so tests drive it with instants of their choosing. Memory is
/// bounded by the number of slices; latencies are kept sparsely (bucket index to count) per slice.
struct SlidingWindow: Sendable {
    struct Counts: Sendable, Equatable {
        var ordersSent = 0
        var fills = 0
        var rejects = 0
        var unfilled = 0
        var errors = 0

        var outcomes: Int { fills + rejects + unfilled }

        static func += (lhs: inout Counts, rhs: Counts) {
            lhs.ordersSent += rhs.ordersSent
            lhs.fills += rhs.fills
            lhs.rejects += rhs.rejects
            lhs.unfilled += rhs.unfilled
            lhs.errors += rhs.errors
        }
    }

    private struct Slice: Sendable {
        var number: Int64
        var counts = Counts()
        var latency: [Int: Int] = [:]
        var latencyMax = 0
    }

    let origin: ContinuousClock.Instant
    let sliceDuration: Duration
    /// How many slices are kept: enough for the longest window.
    let retainedSlices: Int64
    /// Ascending by number, none older than the retention.
    private var slices: [Slice] = []

    init(origin: ContinuousClock.Instant, sliceDuration: Duration, retention: Duration) {
        precondition(sliceDuration > .zero, "a window slice must last some time")
        self.origin = origin
        self.sliceDuration = sliceDuration
        self.retainedSlices = max(1, Self.slices(in: retention, of: sliceDuration))
    }

    private static func slices(in window: Duration, of slice: Duration) -> Int64 {
        Int64((window / slice).rounded(.up))
    }

    private func sliceNumber(at now: ContinuousClock.Instant) -> Int64 {
        // Instants before the origin (a caller's clock read just before ours) count in the first slice.
        Int64(max(0, ((now - origin) / sliceDuration).rounded(.down)))
    }

    /// The current slice, created if needed; older slices past the retention are dropped.
    private mutating func currentIndex(at now: ContinuousClock.Instant) -> Int {
        let number = sliceNumber(at: now)
        if let last = slices.last, last.number >= number {
            // Out-of-order instants (concurrent recorders) count in the newest slice.
            return slices.count - 1
        }
        slices.append(Slice(number: number))
        let oldest = number - retainedSlices + 1
        if let firstKept = slices.firstIndex(where: { $0.number >= oldest }), firstKept > 0 {
            slices.removeFirst(firstKept)
        }
        return slices.count - 1
    }

    mutating func add(_ counts: Counts, at now: ContinuousClock.Instant) {
        let i = currentIndex(at: now)
        slices[i].counts += counts
    }

    mutating func addLatency(micros: Int, at now: ContinuousClock.Instant) {
        let i = currentIndex(at: now)
        slices[i].latency[LatencyBuckets.index(ofMicros: micros), default: 0] += 1
        slices[i].latencyMax = max(slices[i].latencyMax, micros)
    }

    /// The slices that overlap the last `window` before `now`.
    private func recent(_ window: Duration, at now: ContinuousClock.Instant) -> ArraySlice<Slice> {
        let newest = sliceNumber(at: now)
        let oldest = newest - Self.slices(in: window, of: sliceDuration) + 1
        let start = slices.firstIndex { $0.number >= oldest } ?? slices.endIndex
        return slices[start...]
    }

    func counts(over window: Duration, at now: ContinuousClock.Instant) -> Counts {
        var sum = Counts()
        for slice in recent(window, at: now) { sum += slice.counts }
        return sum
    }

    func latency(over window: Duration, at now: ContinuousClock.Instant) -> LatencyBuckets {
        var buckets = LatencyBuckets()
        for slice in recent(window, at: now) {
            for (index, count) in slice.latency {
                buckets.record(index: index, count: count, maxMicros: slice.latencyMax)
            }
        }
        return buckets
    }
}
