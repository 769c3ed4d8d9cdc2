import CopyEngine
import FIXCore
import NIOCore

/// Latency percentiles of one measurement, in nanoseconds.
public struct LatencyPercentiles: Sendable, Equatable {
    public var p50: Int64
    public var p99: Int64
    public var p999: Int64

    /// Nearest-rank percentiles of `samples`.
    public init(_ samples: [Int64]) {
        precondition(!samples.isEmpty, "no samples")
        let sorted = samples.sorted()
        func rank(_ permille: Int) -> Int64 {
            sorted[Swift.min(sorted.count - 1, Swift.max(0, (sorted.count * permille + 999) / 1000 - 1))]
        }
        p50 = rank(500)
        p99 = rank(990)
        p999 = rank(999)
    }

    var json: String { "{\"p50\":\(p50),\"p99\":\(p99),\"p999\":\(p999)}" }
}

/// One configuration of the copy benchmark and what it measured.
public struct CopyBenchmarkResult: Sendable {
    public var followers: Int
    /// Whether the CPU caches were evicted before every sample.
    public var cold = false
    public var sessions: Int
    public var samples: Int
    /// NewOrderSingles written per provider fill.
    public var ordersPerSample: Int
    /// From the ExecutionReport's bytes to the first follower's NewOrderSingle bytes.
    public var first: LatencyPercentiles
    /// From the ExecutionReport's bytes to the last follower's NewOrderSingle bytes.
    public var last: LatencyPercentiles
    /// Time lost to interruptions in a window as long as the median `last`, measured after every
    /// sample by an ``InterruptionMeter``: what the machine alone adds to a sample of that length,
    /// the baseline the tail percentiles are read against.
    public var interrupted: LatencyPercentiles
    /// The engine's time per broker ExecutionReport for a copy (its fill), averaged over each
    /// sample's reports: with many followers, a signal brings as many reports, and the engine is
    /// busy with them until the last is handled.
    public var report: LatencyPercentiles
    /// Every timed sample in the order taken, in nanoseconds.
    public var series: [CopySample] = []

    /// One JSON object on one line, keys in a fixed order.
    public var jsonLine: String {
        "{\"bench\":\"copy\",\"followers\":\(followers),\"sessions\":\(sessions),\"cold\":\(cold),"
            + "\"samples\":\(samples),"
            + "\"orders_per_sample\":\(ordersPerSample),\"first_ns\":\(first.json),\"last_ns\":\(last.json),"
            + "\"interrupted_ns\":\(interrupted.json),\"report_ns\":\(report.json)}"
    }
}

/// One timed sample of the copy benchmark, in nanoseconds.
public struct CopySample: Sendable, Equatable {
    public var first: Int64
    public var last: Int64
    public var interrupted: Int64
}

extension CopyBenchmarkResult {
    /// The header of ``csvRows``.
    public static let csvHeader = "followers,sample,first_ns,last_ns,interrupted_ns"

    /// One line per sample, in the order taken: to see when the slow ones came (together, in a
    /// period when the machine was slower, or spread out).
    public var csvRows: String {
        series.enumerated().map { i, s in "\(followers),\(i),\(s.first),\(s.last),\(s.interrupted)" }
            .joined(separator: "\n")
    }
}

/// The in-process copy path, end to end: a provider's ExecutionReport arrives as bytes, is framed
/// by `FIXFrameDecoder`, handled by the `CopyEngine` (detect, size, risk, route), and every
/// follower's NewOrderSingle gets its session header from a minimal stand-in for the session
/// layer and is encoded into that session's output buffer.
///
/// One sample is the time from the bytes being available to the last (and the first) NewOrderSingle
/// written. Journal records are produced but not persisted (that is the driver's I/O). Between
/// samples, untimed, the broker side fills every order, so books and positions stay realistic
/// and the provider alternates between buying and selling 100 000. After every sample an
/// ``InterruptionMeter`` measures what the machine took from a window as long as the median sample.
public struct CopyBenchmark {
    public let followers: Int
    public let sessions: Int
    /// Bytes written over before every sample (untimed), so that it starts with the engine's code
    /// and data out of the CPU caches, as a fill does that arrives after the agent sat idle or
    /// other threads ran. 0 measures with warm caches.
    public let evictionBytes: Int

    /// Enough to flush the last-level cache of the machines this runs on.
    public static let coldEvictionBytes = 64 << 20

    public init(followers: Int, sessions: Int = 4, evictionBytes: Int = 0) {
        precondition(followers > 0 && sessions > 0 && evictionBytes >= 0)
        self.followers = followers
        self.sessions = sessions
        self.evictionBytes = evictionBytes
    }

    func configuration() -> CopyEngineConfiguration {
        var brokerSessions: [BrokerSessionConfig] = [BrokerSessionConfig(name: "provider-dropcopy")]
        for s in 0..<sessions {
            var c = BrokerSessionConfig(name: "broker-\(s + 1)")
            c.orderRetentionMs = 0
            if s % 2 == 1 {
                // Half the brokers are MT-style bridges quoting lots under their own symbols.
                c.qtyUnit = .lots
                c.symbolMap = SymbolMapping(suffix: ".m", removeSlash: true)
            }
            brokerSessions.append(c)
        }
        var list: [FollowerConfig] = []
        for i in 0..<followers {
            let session = i % sessions
            var f = FollowerConfig(
                followerID: "follower-\(i)", providers: [ProviderLink(providerID: "alice")],
                sessionName: "broker-\(session + 1)",
                account: "ACC-\(i)", equity: .fixed(FixedDecimal(10_000 + (i % 7) * 1_000)))
            f.lotSize = session % 2 == 1 ? FixedDecimal(mantissa: 1, scale: 2) : 1000
            f.maxSignalAgeMs = 5_000
            list.append(f)
        }
        return CopyEngineConfiguration(
            providers: [
                ProviderConfig(
                    providerID: "alice", sessionName: "provider-dropcopy", account: "ALICE-01", equity: .fixed(100_000))
            ],
            followers: list, sessions: brokerSessions)
    }

    static let base: EngineTime = 1_700_000_000_000_000_000

    static func providerReport(_ k: Int, at t: EngineTime) -> ByteBuffer {
        var b = FIXMessageBuilder(msgType: "8")
        b.set(49, "ALPHA")
        b.set(56, "COPYBRIDGE")
        b.set(34, k + 2)
        b.set(52, UTCTimestamp(nanosecondsSinceEpoch: t))
        b.set(1, "ALICE-01")
        b.set(6, FixedDecimal(mantissa: 110_000, scale: 5))
        b.set(11, "ALICE-ORD-\(k)")
        b.set(14, 100_000)
        b.set(17, "ALPHA-EXEC-\(k)")
        b.set(31, FixedDecimal(mantissa: 110_000, scale: 5))
        b.set(32, 100_000)
        b.set(37, "ALPHA-\(k)")
        b.set(38, 100_000)
        b.set(39, "2")
        b.set(54, k % 2 == 0 ? "1" : "2")
        b.set(55, "EUR/USD")
        b.set(60, UTCTimestamp(nanosecondsSinceEpoch: t))
        b.set(150, "F")
        b.set(151, 0)
        return b.encoded()
    }

    /// The broker's fill of one of our orders.
    static func fill(of order: FIXMessage, seq: Int, at t: EngineTime) -> FIXMessage {
        var b = FIXMessageBuilder(msgType: "8")
        b.set(49, "BROKER")
        b.set(56, "COPYBRIDGE")
        b.set(34, seq)
        b.set(52, UTCTimestamp(nanosecondsSinceEpoch: t))
        let qty = (try? order.decimal(38)) ?? 0
        b.set(1, order[1] ?? "")
        b.set(6, FixedDecimal(mantissa: 110_000, scale: 5))
        b.set(11, order[11] ?? "")
        b.set(14, qty)
        b.set(17, "FILL-\(seq)")
        b.set(31, FixedDecimal(mantissa: 110_000, scale: 5))
        b.set(32, qty)
        b.set(37, "B-\(seq)")
        b.set(38, qty)
        b.set(39, "2")
        b.set(54, order[54] ?? "1")
        b.set(55, order[55] ?? "")
        b.set(150, "F")
        b.set(151, 0)
        return b.build()
    }

    /// Runs `warmup` untimed and `iterations` timed provider fills.
    public func run(iterations: Int, warmup: Int = 50) -> CopyBenchmarkResult {
        var engine: CopyEngine
        do {
            engine = try CopyEngine(configuration: configuration())
        } catch {
            preconditionFailure("the benchmark configuration is invalid: \(error)")
        }
        let clock = ContinuousClock()
        let decoder = FIXFrameDecoder()
        var now = Self.base
        for s in ["provider-dropcopy"] + (1...sessions).map({ "broker-\($0)" }) {
            _ = engine.handle(.sessionUp(session: s, at: now))
        }
        // The session layer's part: sequence numbers, comp IDs and sending time, per session.
        var sessionSlots: [String: Int] = [:]
        for s in 1...sessions { sessionSlots["broker-\(s)"] = s - 1 }
        var sequence = [Int](repeating: 1, count: sessions)
        var wire = (0..<sessions).map { _ in ByteBufferAllocator().buffer(capacity: 1 << 20) }
        var header = FIXMessageBuilder(msgType: "", byteCapacity: 128, fieldCapacity: 8)
        var brokerSeq = 1
        var series: [CopySample] = []
        var reportSamples: [Int64] = []
        var warmupSamples: [Int64] = []
        var ordersPerSample = 0
        series.reserveCapacity(iterations)
        var meter = InterruptionMeter()
        let eviction = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(evictionBytes, 64), alignment: 64)
        eviction.initializeMemory(as: UInt8.self, repeating: 0)
        defer { eviction.deallocate() }
        for k in 0..<(warmup + iterations) {
            if evictionBytes > 0 { Self.evict(eviction) }
            now += 1_000_000
            var bytes = Self.providerReport(k, at: now)
            let start = clock.now
            guard case .message(let report)? = decoder.next(from: &bytes) else {
                preconditionFailure("the provider report does not decode")
            }
            let actions = engine.handle(
                .executionReport(session: "provider-dropcopy", message: report, receivedAt: now))
            var first: Duration?
            var sent = 0
            // As `SessionStateMachine.send` does, each message is encoded with the session's header
            // fields merged in from a builder of their own (written afresh for each message, as
            // `OutboundHeader.stampFresh` writes it), leaving the engine's builder as it is.
            let sendingTime = UTCTimestamp(nanosecondsSinceEpoch: now, precision: .milliseconds)
            // By index, as the agent does (see `AgentCore.execute`).
            var lastSession = ""
            var si = 0
            for i in actions.indices {
                guard case .send(let session, let message) = actions[i] else { continue }
                if session != lastSession {
                    si = sessionSlots[session]!
                    lastSession = session
                }
                let seq = sequence[si]
                sequence[si] = seq + 1
                let headerBytes =
                    FIXMessageBuilder.FieldWriter.intBytes + FIXMessageBuilder.FieldWriter.timestampBytes + 10
                    + session.utf8.count
                header.resetHeader(msgType: "", fields: 4, valueBytes: headerBytes) { w in
                    w.int(34, seq)
                    w.string(49, "COPYBRIDGE")
                    w.timestamp(52, sendingTime)
                    w.string(56, session)
                }
                message.encode(into: &wire[si], header: header)
                sent += 1
                if first == nil { first = clock.now - start }
            }
            let last = clock.now - start
            // As the agent does once the orders are flushed.
            engine.finishEvent()
            // The agent frees an event's actions after its orders are written, as here.
            withExtendedLifetime(actions) {}
            if k < warmup {
                warmupSamples.append(Self.nanoseconds(last))
            } else {
                if k == warmup { meter.window = LatencyPercentiles(warmupSamples + [Self.nanoseconds(last)]).p50 }
                ordersPerSample = Swift.max(ordersPerSample, sent)
                series.append(
                    CopySample(
                        first: Self.nanoseconds(first ?? last), last: Self.nanoseconds(last),
                        interrupted: meter.measure()))
            }
            // Untimed: the brokers fill everything that was sent. Only the engine's part is timed.
            var reportTime = Duration.zero
            var reports = 0
            for s in 1...sessions {
                let name = "broker-\(s)"
                var out = wire[s - 1]
                wire[s - 1].clear()
                while case .message(let order)? = decoder.next(from: &out) {
                    guard order.isMsgType("D") else { continue }
                    brokerSeq += 1
                    now += 1_000
                    let fill = Self.fill(of: order, seq: brokerSeq, at: now)
                    let handled = clock.now
                    _ = engine.handle(.executionReport(session: name, message: fill, receivedAt: now))
                    reportTime += clock.now - handled
                    reports += 1
                }
            }
            if k >= warmup && reports > 0 { reportSamples.append(Self.nanoseconds(reportTime) / Int64(reports)) }
        }
        return CopyBenchmarkResult(
            followers: followers, cold: evictionBytes > 0, sessions: sessions, samples: iterations,
            ordersPerSample: ordersPerSample, first: LatencyPercentiles(series.map(\.first)),
            last: LatencyPercentiles(series.map(\.last)), interrupted: LatencyPercentiles(series.map(\.interrupted)),
            report: LatencyPercentiles(reportSamples), series: series)
    }

    /// Writes one byte in every cache line of `buffer`, pushing everything else out of the caches.
    static func evict(_ buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        while offset < buffer.count {
            buffer[offset] &+= 1
            offset += 64
        }
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (seconds, attoseconds) = d.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Runs the copy benchmark for 1, 100 and 1 000 followers over 4 broker sessions
/// (`copybridge bench copy`). The 1 000-follower run takes a tenth of the iterations (at least
/// 1 000 samples are needed for a meaningful p99.9). `report` gets each result as it is ready.
public func runCopyBenchmark(
    iterations: Int = 10_000, evictionBytes: Int = 0, report: (CopyBenchmarkResult) -> Void
) {
    for n in [1, 100, 1000] {
        let count = n >= 1000 ? Swift.max(1000, iterations / 10) : iterations
        report(CopyBenchmark(followers: n, sessions: 4, evictionBytes: evictionBytes).run(iterations: count))
    }
}

/// The time a sample of a given length loses to interruptions on this machine: it spins for that
/// long reading the clock and adds up the gaps between consecutive readings longer than
/// ``gapThreshold``, when the thread was not running (an interrupt, another task on its CPU, a
/// virtual CPU the host descheduled). It uses no memory to speak of, so it leaves the caches as
/// the sample left them.
struct InterruptionMeter {
    /// Far above the clock's cost (tens of nanoseconds a reading), far below any interruption.
    static let gapThreshold: Int64 = 500

    /// Gaps of a run of clock readings.
    struct Gaps {
        private(set) var previous: Int64
        private(set) var lost: Int64 = 0

        init(start: Int64) { previous = start }

        mutating func add(_ reading: Int64) {
            let gap = reading - previous
            if gap > InterruptionMeter.gapThreshold { lost += gap }
            previous = reading
        }
    }

    /// The length of a sample, in nanoseconds.
    var window: Int64 = 0

    /// Spins for `window` and returns the nanoseconds lost to interruptions.
    func measure() -> Int64 {
        let clock = ContinuousClock()
        let start = clock.now
        var gaps = Gaps(start: 0)
        while true {
            let elapsed = CopyBenchmark.nanoseconds(clock.now - start)
            gaps.add(elapsed)
            if elapsed >= window { return gaps.lost }
        }
    }
}
