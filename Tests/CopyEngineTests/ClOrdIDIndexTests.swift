import TestSupport
import Testing

@testable import CopyEngine

@Suite("ClOrdID index")
struct ClOrdIDIndexTests {
    @Test("agrees with a Dictionary through random inserts, updates, lookups and removals", arguments: [1, 2, 3])
    func agreesWithDictionary(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var index = ClOrdIDIndex()
        var reference: [String: Int] = [:]
        // Engine-shaped IDs, short and long broker IDs, and the empty string: clusters form, grow,
        // wrap around the table's end and are cut by removals.
        var universe: [String] = (0..<300).map { ClOrdIDScheme.make(prefix: "CB", "s", "E\($0)", "b", "f", attempt: 0) }
        universe += (0..<100).map { "ORD-\($0)" }
        universe += (0..<50).map { String(repeating: "x", count: $0) }
        for step in 0..<20_000 {
            let id = universe[Int(rng.next() % UInt64(universe.count))]
            switch rng.next() % 4 {
            case 0, 1:
                index[id] = step
                reference[id] = step
            case 2:
                index[id] = nil
                reference[id] = nil
            default:
                #expect(index[id] == reference[id], "\(id) at step \(step)")
            }
            #expect(index.count == reference.count)
        }
        for id in universe { #expect(index[id] == reference[id], "\(id) at the end") }
    }

    @Test("IDs whose hashes share a home slot stay reachable after removals in the middle of their cluster")
    func clustersSurviveRemovals() {
        var index = ClOrdIDIndex()
        // Far more IDs than the initial 16 slots hold: several rehashes, then removal of every
        // other ID and re-insertion of half of those.
        let ids = (0..<1000).map { "ID-\($0)" }
        for (i, id) in ids.enumerated() { index[id] = i }
        for (i, id) in ids.enumerated() where i % 2 == 0 { index[id] = nil }
        for (i, id) in ids.enumerated() { #expect(index[id] == (i % 2 == 0 ? nil : i)) }
        for (i, id) in ids.enumerated() where i % 4 == 0 { index[id] = -i }
        for (i, id) in ids.enumerated() {
            let expected: Int? = i % 4 == 0 ? -i : (i % 2 == 0 ? nil : i)
            #expect(index[id] == expected)
        }
        #expect(index.count == 750)
    }

    @Test("reserving capacity keeps every entry")
    func reserve() {
        var index = ClOrdIDIndex()
        for i in 0..<20 { index["A\(i)"] = i }
        index.reserveCapacity(5000)
        for i in 0..<20 { #expect(index["A\(i)"] == i) }
        #expect(index["A20"] == nil)
        #expect(index.count == 20)
    }

    @Test("the hash is never 0 and differs for IDs that differ in one byte")
    func hash() {
        #expect(ClOrdIDIndex.hash("") != 0)
        let a = ClOrdIDIndex.hash("CB0123456789ABCDEF00")
        let b = ClOrdIDIndex.hash("CB0123456789ABCDEF01")
        #expect(a != b)
        #expect(a & 1 == 1)
    }
}
