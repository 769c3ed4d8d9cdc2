/// Something the broker must do at a later instant.
enum SimEvent: Sendable, Equatable {
    /// One step of the price random walk, for every symbol.
    case priceTick
    /// The next execution attempt (fill slice) of an order; stale when `generation` no longer
    /// matches the order's (it was replaced or cancelled since).
    case execute(order: Int, generation: Int)
    /// Day orders expire.
    case dayEnd
    /// A provider bot's next action.
    case bot(Int)
}

/// A min-heap of events ordered by time, then by scheduling order, so that events due at the same
/// instant run in the order they were scheduled: the same inputs always give the same outputs.
struct SimEventQueue: Sendable {
    struct Entry: Sendable {
        var time: Int64
        var sequence: UInt64
        var event: SimEvent

        func precedes(_ other: Entry) -> Bool {
            time != other.time ? time < other.time : sequence < other.sequence
        }
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var first: Entry? { heap.first }

    mutating func schedule(_ event: SimEvent, at time: Int64) {
        heap.append(Entry(time: time, sequence: nextSequence, event: event))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest event due at or before `time`.
    mutating func popDue(atOrBefore time: Int64) -> Entry? {
        guard let top = heap.first, top.time <= time else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
                if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
