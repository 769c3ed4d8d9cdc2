/// The orders of one broker session by ClOrdID.
///
/// A copy of a fill to a thousand followers looks up and inserts a thousand fresh ClOrdIDs in one
/// event; with `[String: Int]` that was a fifth of the engine's time (String hashing through
/// SipHash, twice per order, and the key's retains). This table hashes an ID's bytes eight at a
/// time with a multiply-xorshift mix, keeps each slot's hash next to its key so a probe compares
/// strings only on a full hash match, and uses linear probing with backward-shift deletion, so
/// removals leave no tombstones. The keys are ClOrdIDs from the engine (already uniformly
/// distributed) or from a broker's reports, not input an attacker chooses to collide.
struct ClOrdIDIndex {
    private struct Slot {
        /// 0 for an empty slot; otherwise the key's hash with its lowest bit set.
        var hash: UInt64
        var value: Int
        var key: String
    }

    private var slots: [Slot]
    private var mask: Int
    /// The number of IDs in the table.
    private(set) var count = 0

    init(minimumCapacity: Int = 0) {
        let capacity = Self.capacity(for: minimumCapacity)
        slots = Array(repeating: Slot(hash: 0, value: 0, key: ""), count: capacity)
        mask = capacity - 1
    }

    /// A power of two at least twice `count` (at most half full), and at least 16.
    private static func capacity(for count: Int) -> Int {
        var capacity = 16
        while capacity < 2 * count { capacity <<= 1 }
        return capacity
    }

    /// Makes room for `minimumCapacity` IDs without growing again.
    mutating func reserveCapacity(_ minimumCapacity: Int) {
        let capacity = Self.capacity(for: minimumCapacity)
        if capacity > slots.count { rehash(capacity: capacity) }
    }

    /// The value stored for `id`; setting nil removes it.
    subscript(id: String) -> Int? {
        get { value(id, hash: Self.hash(id)) }
        set {
            if let value = newValue { insert(id, value) } else { remove(id) }
        }
    }

    /// The value stored for `id`, whose ``hash(_:)`` is `h`: a caller that looks an ID up and
    /// then inserts it hashes it once.
    func value(_ id: String, hash h: UInt64) -> Int? {
        assert(h == Self.hash(id), "the hash of another ID")
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let slotHash = slots[i].hash
            if slotHash == 0 { return nil }
            if slotHash == h && slots[i].key == id { return slots[i].value }
            i = (i + 1) & mask
        }
    }

    private mutating func insert(_ id: String, _ value: Int) {
        insert(id, value, hash: Self.hash(id))
    }

    /// Stores `value` for `id`, whose ``hash(_:)`` is `h`.
    mutating func insert(_ id: String, _ value: Int, hash h: UInt64) {
        assert(h == Self.hash(id), "the hash of another ID")
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let slotHash = slots[i].hash
            if slotHash == 0 { break }
            if slotHash == h && slots[i].key == id {
                slots[i].value = value
                return
            }
            i = (i + 1) & mask
        }
        slots[i] = Slot(hash: h, value: value, key: id)
        count += 1
        if 2 * count > slots.count { rehash(capacity: 2 * slots.count) }
    }

    private mutating func remove(_ id: String) {
        let h = Self.hash(id)
        var hole = Int(truncatingIfNeeded: h) & mask
        while true {
            let slotHash = slots[hole].hash
            if slotHash == 0 { return }
            if slotHash == h && slots[hole].key == id { break }
            hole = (hole + 1) & mask
        }
        count -= 1
        // Backward shift: pull each following entry of the cluster into the hole when the hole
        // lies between its home slot and where it sits, so every entry stays reachable from home.
        var j = (hole + 1) & mask
        while slots[j].hash != 0 {
            let home = Int(truncatingIfNeeded: slots[j].hash) & mask
            if (j &- home) & mask >= (j &- hole) & mask {
                slots[hole] = slots[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        slots[hole] = Slot(hash: 0, value: 0, key: "")
    }

    private mutating func rehash(capacity: Int) {
        let old = slots
        slots = Array(repeating: Slot(hash: 0, value: 0, key: ""), count: capacity)
        mask = capacity - 1
        for slot in old where slot.hash != 0 {
            var i = Int(truncatingIfNeeded: slot.hash) & mask
            while slots[i].hash != 0 { i = (i + 1) & mask }
            slots[i] = slot
        }
    }

    /// The hash of `id`'s UTF-8 bytes, never 0.
    static func hash(_ id: String) -> UInt64 {
        if let h = id.utf8.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return h }
        return Array(id.utf8).withUnsafeBytes { hash($0) }
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let n = bytes.count
        var h = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
        var i = 0
        while i + 8 <= n {
            h = mix(h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        if i < n {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(bytes[i]) << shift
                shift += 8
                i += 1
            }
            h = mix(h ^ tail)
        }
        // Murmur3's finaliser, so that every input bit reaches the low bits the slot index uses.
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return h | 1
    }

    @inline(__always)
    private static func mix(_ x: UInt64) -> UInt64 {
        let y = x &* 0x9E37_79B9_7F4A_7C15
        return y ^ (y >> 29)
    }
}
