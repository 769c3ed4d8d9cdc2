import BrokerSimulator
import FIXTransport
import Foundation
import Logging
import NIOCore
import NIOPosix

/// `copybridge bench loopback`: the agent against a simulated broker over loopback TCP, with
/// tick-to-copy measured on the wire from a packet capture's kernel timestamps: a provider's
/// ExecutionReport (fill) arriving on the drop-copy connection, to the first and to the last
/// follower NewOrderSingle leaving. A raw SwiftNIO echo over the same loopback, captured in the same
/// run, is the baseline: the least time any process on this NIO stack takes to turn a message read
/// into a message written. The figures are given as ratios to it. A second echo, whose requests
/// are spaced as the signals are, measures what waking a thread that went idle costs here.
///
/// Each signal is sent once the previous one's copies are filled, so that no copy waits behind
/// another signal's work.
public enum LoopbackCopyBenchmark {
    /// How long after the previous signal's copies are filled the next signal is sent (and the idle
    /// echo's next request).
    static let signalGap = TimeAmount.microseconds(300)

    public struct Options: Sendable {
        /// Measured provider fills (after the warm-up).
        public var signals: Int = 2000
        public var warmup: Int = 200
        /// Followers of the provider, each with its own NewOrderSingle per signal.
        public var followers: Int = 1
        public var journalSync: JournalSyncPolicy = .never
        /// FileStoreSync of the agent's sessions.
        public var storeSync: String = "never"
        /// Capture packets with tcpdump; without, only the agent's own clock is reported.
        public var capture = true
        /// Where the capture file and the agent's data go (a temporary folder by default).
        public var folder: String?
        /// Record fills and orders in the ledger, as the agent does (it runs on a thread of its own).
        public var ledger = true
        /// The agent's `CPUIdleLatencyUs` (nil: none).
        public var cpuIdleLatencyUs: Int?
        /// The agent's `LoopCPU` (nil: none). The simulated broker's loop is put on the same CPU: it
        /// stands for a broker on another machine, and on a machine with few cores the CPU it shares
        /// with the agent is the one that costs the copy least (see ``run(_:)``).
        public var loopCPU: Int?
        /// The agent's `LoopRealtimePriority` (nil: none).
        public var loopRealtimePriority: Int?

        public init() {}
    }

    /// Percentiles in microseconds.
    public struct Percentiles: Sendable, Codable, Equatable {
        public var p50: Double
        public var p99: Double
        public var p999: Double
        public var samples: Int

        init?(nanoseconds: [Int64]) {
            guard !nanoseconds.isEmpty else { return nil }
            let sorted = nanoseconds.sorted()
            func q(_ f: Double) -> Double {
                Double(sorted[min(sorted.count - 1, max(0, Int((f * Double(sorted.count)).rounded(.up)) - 1))]) / 1000
            }
            p50 = q(0.5)
            p99 = q(0.99)
            p999 = q(0.999)
            samples = sorted.count
        }

        /// `self ÷ baseline` per percentile, to two decimals.
        func ratio(to baseline: Percentiles) -> [String: Double] {
            func r(_ a: Double, _ b: Double) -> Double { b > 0 ? (a / b * 100).rounded() / 100 : .infinity }
            return ["p50": r(p50, baseline.p50), "p99": r(p99, baseline.p99), "p999": r(p999, baseline.p999)]
        }
    }

    /// What one run measured.
    public struct Result: Sendable, Codable {
        public var benchmark = "copy-loopback"
        /// Measured signals; `warmup` more were sent first.
        public var signals: Int
        public var warmup: Int
        public var followers: Int
        public var journalSync: String
        public var storeSync: String
        public var ledger: Bool
        /// The agent's `CPUIdleLatencyUs` (nil: none).
        public var cpuIdleLatencyUs: Int?
        /// The agent's `LoopCPU`, which the simulated broker's loop shares (nil: none).
        public var loopCPU: Int?
        /// The agent's `LoopRealtimePriority` (nil: none).
        public var loopRealtimePriority: Int?
        /// `pcap` (kernel timestamps) or `agent-clock` (no capture).
        public var source: String
        /// NewOrderSingles the agent sent (warm-up included): `(warmup + signals) × followers` when
        /// every signal was copied to every follower.
        public var ordersSent: Int
        /// Copies the brokers filled (warm-up included).
        public var filledOrders: Int
        /// NewOrderSingles seen on the wire after a drop-copy fill (warm-up included).
        public var ordersOnWire: Int?
        /// On the wire: drop-copy ExecutionReport in to the first NewOrderSingle out.
        public var firstCopyMicros: Percentiles?
        /// On the wire: drop-copy ExecutionReport in to the last follower's NewOrderSingle out.
        public var lastCopyMicros: Percentiles?
        /// On the wire: the echo server's request in to its answer out, each request sent as soon as
        /// the previous answer came back.
        public var baselineEchoMicros: Percentiles?
        /// The same echo with each request sent ``LoopbackCopyBenchmark/signalGap`` after the previous
        /// answer, as the signals are: the server's thread has gone idle in between, as the agent's
        /// has when a fill arrives, so this is what waking an idle thread costs on this machine.
        public var idleEchoMicros: Percentiles?
        /// firstCopy ÷ baseline, per percentile.
        public var firstRatio: [String: Double]?
        /// lastCopy ÷ baseline, per percentile.
        public var lastRatio: [String: Double]?
        /// firstCopy ÷ idle echo, per percentile.
        public var firstRatioIdle: [String: Double]?
        /// The agent's own measure, per order and warm-up included: the fill handed to the handler to
        /// the order handed to its session.
        public var agentClockMicros: [String: Double]
        public var agentClockSamples: Int
        /// CPU time per measured signal, by thread name (`cb-agent`, `cb-ledger`, `cb-sim`, the
        /// harness's), in microseconds: on few cores, what the threads beside the copy path use
        /// decides how often a fill finds no core free.
        public var cpuMicrosPerSignal: [String: Double]?
        /// Time each thread spent runnable but waiting for a CPU, per measured signal, in microseconds:
        /// the copy path's (`cb-agent`) is time a fill waited for a core.
        public var runWaitMicrosPerSignal: [String: Double]?
        /// How often each thread was switched out while it could still run, per measured signal.
        public var preemptionsPerSignal: [String: Double]?
        public var note: String?

        /// One line of JSON with sorted keys.
        public var jsonLine: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
        }
    }

    /// The agent's configuration for `options`: the settings (``settings(_:)``) written to
    /// `folder`/bench.conf, the data folder `folder`/data.
    static func configuration(_ options: Options, in folder: String) throws -> AgentConfiguration {
        let file = folder + "/bench.conf"
        try settings(options).write(toFile: file, atomically: true, encoding: .utf8)
        return try AgentConfiguration.load(path: file, dataFolder: folder + "/data")
    }

    static func settings(_ options: Options) -> String {
        var text = """
            [DEFAULT]
            BeginString=FIX.4.4
            ConnectionType=initiator
            HeartBtInt=30
            ReconnectInterval=1
            FileStoreSync=\(options.storeSync)
            Simulator=Y
            SocketConnectHost=127.0.0.1
            SocketConnectPort=0

            [AGENT]
            JournalSync=\(options.journalSync.rawValue)
            SummaryIntervalSeconds=0
            \(options.cpuIdleLatencyUs.map { "CPUIdleLatencyUs=\($0)" } ?? "")
            \(options.loopCPU.map { "LoopCPU=\($0)" } ?? "")
            \(options.loopRealtimePriority.map { "LoopRealtimePriority=\($0)" } ?? "")

            [SIMULATOR]
            Symbols=EUR/USD:1.1000
            PriceTickMs=0
            DayEndTime=none

            [SESSION]
            SessionName=dropcopy
            SenderCompID=AGENT_DC
            TargetCompID=BENCH
            DropCopyFor=ALICE

            [SESSION]
            SessionName=orders
            SenderCompID=AGENT
            TargetCompID=BENCH

            [PROVIDER]
            ProviderID=alice
            SessionName=dropcopy
            Account=ALICE
            Equity=100000

            """
        for k in 1...max(1, options.followers) {
            text += """

                [FOLLOWER]
                FollowerID=f\(k)
                Provider=alice
                SessionName=orders
                Account=F\(k)
                Sizing=fixed-ratio
                LotSize=1

                """
        }
        return text
    }

    /// Runs one configuration: starts the agent and its simulated broker in this process, sends
    /// `warmup + signals` provider fills one after the other, then the two echo baselines.
    public static func run(_ options: Options) async throws -> Result {
        precondition(options.signals > 0 && options.warmup >= 0 && options.followers > 0)
        let folder =
            options.folder
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("copybridge-bench-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { if options.folder == nil { try? FileManager.default.removeItem(atPath: folder) } }
        let configuration = try configuration(options, in: folder)
        // Warnings only: the sessions' and simulator's start-up lines would mix with the results.
        var logger = Logger(label: "copybridge.bench")
        logger.logLevel = .warning
        let runtime = AgentRuntime(
            configuration: configuration,
            options: AgentRuntimeOptions(
                console: { _ in }, printsActivity: false, http: .disabled, ledger: options.ledger, logger: logger))
        try await runtime.start()
        let echo: EchoServer
        let idleEcho: EchoServer
        do {
            echo = try await EchoServer.start()
        } catch {
            await runtime.stop()
            throw error
        }
        do {
            idleEcho = try await EchoServer.start()
        } catch {
            await runtime.stop()
            await echo.stop()
            throw error
        }
        var capture: PacketCapture?
        var note: String?
        do {
            try await runtime.waitUntil("the sessions", timeout: .seconds(30)) { $0.allLive(["dropcopy", "orders"]) }
            guard let sim = runtime.simulator, let brokerPort = sim.port(of: "BENCH") else {
                throw AgentStartError("the simulated broker did not start")
            }
            if let cpu = options.loopCPU {
                // The agent moved the simulator's loop off its CPU; it goes back. The simulator wakes
                // the agent as it writes a report and sleeps right after, so the two take turns on
                // one CPU, while the ledger, the harness and tcpdump use the other. Put elsewhere, on
                // two cores, the simulator crowds the ledger and the harness, and the far tail of the
                // copy grew to 300-400 us (measured with taskset).
                try await sim.eventLoop.submit { try ThreadAffinity.restrict(to: [cpu]) }.get()
            }
            if options.capture {
                do {
                    capture = try PacketCapture(
                        ports: [brokerPort, echo.port, idleEcho.port], path: folder + "/capture.pcap")
                } catch {
                    note = "\(error); figures from the agent's clock only"
                }
            }
            let followers = options.followers
            let total = options.warmup + options.signals
            var cpuAtStart = ThreadCPU(threads: [:])
            for k in 0..<total {
                if k == options.warmup { cpuAtStart = ThreadCPU.read() }
                // Alternate, so that positions stay small and every signal opens or closes.
                let side: SimSide = k % 2 == 0 ? .buy : .sell
                // Scheduled rather than awaited: an awaited act wakes this task as the fill leaves, and
                // the harness would then compete with the agent for the fill's handling.
                try sim.schedule(on: "BENCH", in: signalGap) { broker, now in
                    broker.submit(
                        SimOrderRequest(
                            clOrdID: "S\(k)", account: "ALICE", symbol: "EUR/USD", side: side, quantity: 1000,
                            timeInForce: .immediateOrCancel), at: now)
                }
                // Counted, not tested on the agent's progress: building that after every burst of
                // the agent's work, the provider's report just before her fill among them, was the
                // benchmark's own cost on the thread it measures.
                try await runtime.waitUntilFilled((k + 1) * followers)
            }
            let cpuAtEnd = ThreadCPU.read()
            let cpu = cpuAtEnd.micros(since: cpuAtStart, per: options.signals)
            try await echo.run(messages: total)
            try await idleEcho.run(messages: total, gap: signalGap)
            let summary = await runtime.stop()
            await echo.stop()
            await idleEcho.stop()
            var result = Result(
                signals: options.signals, warmup: options.warmup, followers: followers,
                journalSync: options.journalSync.rawValue, storeSync: options.storeSync, ledger: options.ledger,
                cpuIdleLatencyUs: options.cpuIdleLatencyUs, loopCPU: options.loopCPU,
                loopRealtimePriority: options.loopRealtimePriority,
                source: "agent-clock", ordersSent: summary.ordersSent, filledOrders: summary.filledOrders,
                agentClockMicros: ["p50": summary.latencyP50Micros ?? 0, "p99": summary.latencyP99Micros ?? 0],
                agentClockSamples: summary.latencySamples)
            result.cpuMicrosPerSignal = cpu.isEmpty ? nil : cpu
            if !cpu.isEmpty {
                result.runWaitMicrosPerSignal = cpuAtEnd.waitMicros(since: cpuAtStart, per: options.signals)
                result.preemptionsPerSignal = cpuAtEnd.preemptions(since: cpuAtStart, per: options.signals)
            }
            result.note = note
            if let capture {
                let segments = try capture.finish()
                let copies = wireLatencies(segments, brokerPort: UInt16(brokerPort), followers: followers)
                let echoes = echoLatencies(segments, port: UInt16(echo.port))
                let idleEchoes = echoLatencies(segments, port: UInt16(idleEcho.port))
                result.source = "pcap"
                result.ordersOnWire = copies.orders
                result.firstCopyMicros = Percentiles(nanoseconds: Array(copies.first.dropFirst(options.warmup)))
                result.lastCopyMicros = Percentiles(nanoseconds: Array(copies.last.dropFirst(options.warmup)))
                result.baselineEchoMicros = Percentiles(nanoseconds: Array(echoes.dropFirst(options.warmup)))
                result.idleEchoMicros = Percentiles(nanoseconds: Array(idleEchoes.dropFirst(options.warmup)))
                if let idle = result.idleEchoMicros { result.firstRatioIdle = result.firstCopyMicros?.ratio(to: idle) }
                if let baseline = result.baselineEchoMicros {
                    result.firstRatio = result.firstCopyMicros?.ratio(to: baseline)
                    result.lastRatio = result.lastCopyMicros?.ratio(to: baseline)
                }
                var notes: [String] = []
                if copies.first.count < total {
                    notes.append("\(copies.first.count) of \(total) signals paired in the capture")
                }
                if copies.last.count < total {
                    notes.append("\(copies.last.count) of \(total) signals with all their copies in the capture")
                }
                if echoes.count < total { notes.append("\(echoes.count) of \(total) echoes paired in the capture") }
                if idleEchoes.count < total {
                    notes.append("\(idleEchoes.count) of \(total) idle echoes paired in the capture")
                }
                if !notes.isEmpty { result.note = (notes + ["tcpdump: \(capture.statistics)"]).joined(separator: "; ") }
            }
            return result
        } catch {
            _ = try? capture?.finish()
            await runtime.stop()
            await echo.stop()
            await idleEcho.stop()
            throw error
        }
    }

    private static let fill = Array("\u{1}150=F\u{1}".utf8)
    private static let dropCopy = Array("\u{1}797=Y\u{1}".utf8)
    private static let newOrder = Array("\u{1}35=D\u{1}".utf8)

    /// Tick-to-copy on the wire: from each drop-copy fill leaving the broker to the first and to the
    /// `followers`-th NewOrderSingle arriving at it, and how many NewOrderSingles followed fills.
    ///
    /// A segment may carry several messages (one write of many orders), and each NewOrderSingle in it
    /// counts; a fill that `followers` orders do not follow before the next fill has no `last` sample.
    static func wireLatencies(
        _ segments: [PacketCapture.Segment], brokerPort: UInt16, followers: Int
    ) -> (first: [Int64], last: [Int64], orders: Int) {
        var first: [Int64] = []
        var last: [Int64] = []
        var orders = 0
        var pending: (start: Int64, seen: Int)?
        for s in segments {
            if s.sourcePort == brokerPort, s.payload.contains(fill), s.payload.contains(dropCopy) {
                pending = (s.time, 0)
            } else if s.destinationPort == brokerPort, let (start, seen) = pending {
                let count = s.payload.occurrences(of: newOrder)
                guard count > 0 else { continue }
                orders += count
                if seen == 0 { first.append(s.time - start) }
                if seen < followers && seen + count >= followers { last.append(s.time - start) }
                pending = (start, seen + count)
            }
        }
        return (first, last, orders)
    }

    /// From each request arriving at the echo server to its answer leaving.
    static func echoLatencies(_ segments: [PacketCapture.Segment], port: UInt16) -> [Int64] {
        var out: [Int64] = []
        var pending: Int64?
        for s in segments {
            if s.destinationPort == port {
                pending = s.time
            } else if s.sourcePort == port, let start = pending {
                out.append(s.time - start)
                pending = nil
            }
        }
        return out
    }
}

/// The baseline: a SwiftNIO server that writes back what it reads, and a client that sends one
/// ExecutionReport-sized message at a time, each thread on its own event loop like the agent's and
/// the broker's.
final class EchoServer: Sendable {
    let port: Int
    private let serverGroup: MultiThreadedEventLoopGroup
    private let clientGroup: MultiThreadedEventLoopGroup
    private let listener: any Channel

    private init(
        port: Int, serverGroup: MultiThreadedEventLoopGroup, clientGroup: MultiThreadedEventLoopGroup,
        listener: any Channel
    ) {
        self.port = port
        self.serverGroup = serverGroup
        self.clientGroup = clientGroup
        self.listener = listener
    }

    static func start() async throws -> EchoServer {
        let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = try await ServerBootstrap(group: serverGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Echo()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return EchoServer(
            port: listener.localAddress!.port!, serverGroup: serverGroup, clientGroup: clientGroup, listener: listener)
    }

    /// Sends `messages` messages one after the other, each once the previous one came back, or
    /// `gap` after it came back.
    func run(messages: Int, gap: TimeAmount? = nil) async throws {
        let message = Array(
            ("8=FIX.4.4\u{1}9=230\u{1}35=8\u{1}34=1000\u{1}49=BENCH\u{1}56=AGENT_DC\u{1}"
                + "52=20260101-00:00:00.000\u{1}1=ALICE\u{1}6=1.1000\u{1}11=S1\u{1}14=1000\u{1}17=E1\u{1}"
                + "31=1.1000\u{1}32=1000\u{1}37=O1\u{1}38=1000\u{1}39=2\u{1}54=1\u{1}55=EUR/USD\u{1}"
                + "60=20260101-00:00:00.000\u{1}150=F\u{1}151=0\u{1}797=Y\u{1}10=000\u{1}").utf8)
        let done = clientGroup.next().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: clientGroup)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        PingPongClient(message: message, count: messages, gap: gap, done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await done.futureResult.get()
        try await channel.close()
    }

    func stop() async {
        try? await listener.close()
        try? await serverGroup.shutdownGracefully()
        try? await clientGroup.shutdownGracefully()
    }

    private final class Echo: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.write(data, promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }
    }

    private final class PingPongClient: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let message: [UInt8]
        let count: Int
        let gap: TimeAmount?
        let done: EventLoopPromise<Void>
        var received = 0
        var sent = 0

        init(message: [UInt8], count: Int, gap: TimeAmount?, done: EventLoopPromise<Void>) {
            self.message = message
            self.count = count
            self.gap = gap
            self.done = done
        }

        func channelActive(context: ChannelHandlerContext) {
            send(context)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytes
            guard received >= sent * message.count else { return }
            if sent == count {
                done.succeed(())
            } else if let gap {
                let loop = context.eventLoop
                let boundContext = NIOLoopBound(context, eventLoop: loop)
                loop.scheduleTask(in: gap) { self.send(boundContext.value) }
            } else {
                send(context)
            }
        }

        private func send(_ context: ChannelHandlerContext) {
            sent += 1
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: message)), promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            done.fail(error)
            context.close(promise: nil)
        }
    }
}
