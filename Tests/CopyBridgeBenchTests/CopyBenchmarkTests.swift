import Foundation
import Testing

@testable import CopyBridgeBench

@Suite("Copy benchmark")
struct CopyBenchmarkTests {
    @Test(
        "every sample writes one order per follower, warm or cold, and the JSON line says which",
        arguments: [0, 1 << 20])
    func ordersAndReport(evictionBytes: Int) throws {
        let result = CopyBenchmark(followers: 12, sessions: 4, evictionBytes: evictionBytes).run(
            iterations: 20, warmup: 4)
        #expect(result.ordersPerSample == 12)
        #expect(result.samples == 20)
        #expect(result.cold == (evictionBytes > 0))
        #expect(result.first.p50 <= result.last.p50)
        #expect(result.last.p50 > 0 && result.last.p50 <= result.last.p99 && result.last.p99 <= result.last.p999)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(result.jsonLine.utf8)) as? [String: Any])
        #expect(json["followers"] as? Int == 12)
        #expect(json["cold"] as? Bool == (evictionBytes > 0))
        #expect(json["orders_per_sample"] as? Int == 12)
        #expect((json["last_ns"] as? [String: Any])?["p99"] as? Int == Int(result.last.p99))
        #expect((json["interrupted_ns"] as? [String: Any])?["p99"] as? Int == Int(result.interrupted.p99))
        #expect(result.interrupted.p50 >= 0 && result.interrupted.p50 <= result.interrupted.p99)
        #expect((json["report_ns"] as? [String: Any])?["p50"] as? Int == Int(result.report.p50))
        #expect(result.report.p50 > 0 && result.report.p50 <= result.report.p99)
        #expect((json["reference_ns"] as? [String: Any])?["p50"] as? Int == Int(result.reference.p50))
        #expect(
            (json["last_at_reference_speed_ns"] as? [String: Any])?["p99"] as? Int
                == Int(result.lastAtReferenceSpeed.p99))
        #expect(result.reference.p50 > 0)
        #expect(LatencyPercentiles(ReferenceMeter.atMedianSpeed(result.series)) == result.lastAtReferenceSpeed)
        #expect(result.series.count == 20)
        #expect(LatencyPercentiles(result.series.map(\.last)) == result.last)
        #expect(LatencyPercentiles(result.series.map(\.first)) == result.first)
        let rows = result.csvRows.split(separator: "\n")
        #expect(rows.count == 20 && CopyBenchmarkResult.csvHeader.split(separator: ",").count == 6)
        let s = result.series[7]
        #expect(rows[7] == "12,7,\(s.first),\(s.last),\(s.interrupted),\(s.reference)")
    }

    @Test("the interruption meter adds up the gaps between clock readings longer than 500 ns")
    func interruptionGaps() {
        var gaps = InterruptionMeter.Gaps(start: 1_000)
        for reading: Int64 in [1_030, 1_060, 1_560, 9_560, 9_600, 10_200, 10_230] { gaps.add(reading) }
        // 1 060 -> 1 560 is 500 ns, not more: not an interruption; 8 000 and 600 are.
        #expect(gaps.lost == 8_600)
        let meter = InterruptionMeter(window: 200_000)
        let clock = ContinuousClock()
        let start = clock.now
        let lost = meter.measure()
        #expect(clock.now - start >= .microseconds(200))
        #expect(lost >= 0 && lost <= CopyBenchmark.nanoseconds(clock.now - start))
    }

    @Test("a sample is scaled by how much slower or faster than its median the reference ran after it")
    func referenceSpeed() {
        let series = [
            CopySample(first: 1, last: 1_000, interrupted: 0, reference: 500),
            CopySample(first: 1, last: 3_000, interrupted: 0, reference: 1_000),
            CopySample(first: 1, last: 1_200, interrupted: 0, reference: 1_000),
            CopySample(first: 1, last: 900, interrupted: 0, reference: 1_500),
        ]
        // The reference's median (nearest rank) is 1 000: the first sample ran at twice the
        // median speed, the last at two thirds of it.
        #expect(ReferenceMeter.atMedianSpeed(series) == [2_000, 3_000, 1_200, 600])
    }

    @Test("the reference walk is one cycle through every slot, and calibrates to the time it is given")
    func referenceWalk() {
        var meter = ReferenceMeter()
        #expect(meter.cycleLength() == ReferenceMeter.slots)
        meter.calibrate(toLast: 2_000_000)
        let fast = meter.steps
        meter.calibrate(toLast: 200_000)
        // Ten times shorter, give or take what the host does meanwhile.
        #expect(meter.steps > 0 && meter.steps < fast)
        var taken: [Int64] = []
        for _ in 0..<3 { taken.append(meter.measure()) }
        #expect(taken.allSatisfy { $0 > 0 })
        #expect(meter.mixed != 0)
    }

    @Test("percentiles are nearest-rank")
    func percentiles() {
        let p = LatencyPercentiles((1...1000).map { Int64($0) })
        #expect(p.p50 == 500)
        #expect(p.p99 == 990)
        #expect(p.p999 == 999)
        #expect(LatencyPercentiles([7]) == LatencyPercentiles([7, 7]))
    }

    @Test("eviction touches every cache line of its buffer")
    func eviction() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        CopyBenchmark.evict(buffer)
        #expect(stride(from: 0, to: 4096, by: 64).allSatisfy { buffer[$0] == 1 })
        #expect(buffer[1] == 0)
    }
}
