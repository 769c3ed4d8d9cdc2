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
        #expect(result.series.count == 20)
        #expect(LatencyPercentiles(result.series.map(\.last)) == result.last)
        #expect(LatencyPercentiles(result.series.map(\.first)) == result.first)
        let rows = result.csvRows.split(separator: "\n")
        #expect(rows.count == 20 && CopyBenchmarkResult.csvHeader.split(separator: ",").count == 5)
        let s = result.series[7]
        #expect(rows[7] == "12,7,\(s.first),\(s.last),\(s.interrupted)")
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
