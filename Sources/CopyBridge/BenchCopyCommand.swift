import ArgumentParser
import CopyBridgeAgent
import CopyBridgeBench
import FIXTransport
import Foundation

/// `copybridge bench copy`: the copy engine's tick-to-copy in process.
struct CopyBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Measure the copy engine's tick-to-copy in process (decode, engine, encode).",
        discussion: """
            For 1, 100 and 1 000 followers over 4 broker sessions, or --followers N; one JSON line per \
            configuration, in nanoseconds. `interrupted_ns` is the time the machine took from a window \
            as long as the median sample (interrupts, other tasks, a descheduled virtual CPU), measured \
            after every sample: the baseline for the tail percentiles. \
            `bench loopback` measures the whole agent over TCP.
            """
    )

    @Option(help: "Samples per configuration.")
    var iterations: Int = 10_000

    @Option(help: "Followers of the provider: one configuration with this many.")
    var followers: Int?

    @Flag(
        help: """
            Evict the CPU caches (write over 64 MiB) before every sample, as when a fill arrives after \
            the agent sat idle: the in-process counterpart of `bench loopback`'s figures.
            """)
    var cold = false

    @Option(
        name: .customLong("samples-csv"),
        help: ArgumentHelp(
            """
            Also write every sample, in the order taken, to this CSV file (followers, sample, \
            first_ns, last_ns, interrupted_ns).
            """, valueName: "path"))
    var samplesCSV: String?

    func validate() throws {
        if iterations < 1 { throw ValidationError("--iterations must be at least 1") }
        if let followers, followers < 1 { throw ValidationError("--followers must be at least 1") }
    }

    func run() throws {
        let eviction = cold ? CopyBenchmark.coldEvictionBytes : 0
        // Opened before the runs, so a path that cannot be written fails at once, not after them.
        let csv = try samplesCSV.map { try CSVFile(path: $0, header: CopyBenchmarkResult.csvHeader) }
        let report = { (result: CopyBenchmarkResult) in
            print(result.jsonLine)
            csv?.write(result.csvRows)
        }
        if let followers {
            report(CopyBenchmark(followers: followers, evictionBytes: eviction).run(iterations: iterations))
        } else {
            runCopyBenchmark(iterations: iterations, evictionBytes: eviction, report: report)
        }
        try csv?.close()
    }
}

/// `copybridge bench loopback`: the whole agent's tick-to-copy on the wire.
struct LoopbackBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loopback",
        abstract: "Measure tick-to-copy on the wire: the whole agent against a simulated broker over loopback TCP.",
        discussion: """
            The agent (journal, sessions, stores, ledger) and a simulated broker run in this process and \
            talk over loopback TCP. tcpdump captures the traffic with kernel timestamps: from the provider's \
            ExecutionReport leaving the broker on the drop-copy connection to the first and the last \
            follower NewOrderSingle arriving at it. A raw SwiftNIO echo captured in the same run is the \
            baseline; a second one, with requests spaced as the signals are, measures the wake-up of an idle \
            thread. One JSON line per follower count, in microseconds, with the ratios to both.

            Needs tcpdump and the right to capture (Benchmarks/bench-copy-loopback.sh installs it); without \
            it, only the agent's own clock is reported.
            """
    )

    @Option(help: "Followers of the provider; repeat for several configurations.")
    var followers: [Int] = [1, 50]

    @Option(help: "Measured provider fills per configuration.")
    var signals: Int = 2_000

    @Option(help: "Fills before measuring.")
    var warmup: Int = 200

    @Option(name: .customLong("journal-sync"), help: "JournalSync of the agent (always, batch or never).")
    var journalSync: String = "never"

    @Option(name: .customLong("store-sync"), help: "FileStoreSync of the agent's sessions (always, batch or never).")
    var storeSync: String = "never"

    @Flag(name: .customLong("no-capture"), help: "No packet capture: the agent's own clock only.")
    var noCapture = false

    @Option(help: "Keep the capture and the agent's data in this folder (one subfolder per configuration).")
    var folder: String?

    @Flag(name: .customLong("no-ledger"), help: "Run the agent without its ledger.")
    var noLedger = false

    @Option(
        name: .customLong("cpu-idle-latency-us"),
        help: ArgumentHelp(
            "The agent's CPUIdleLatencyUs, or none; repeat to compare settings in one run.",
            discussion: "Needs write access to /dev/cpu_dma_latency."))
    var cpuIdleLatencyUs: [String] = ["none"]

    @Option(
        name: .customLong("loop-cpu"),
        help: ArgumentHelp(
            "The agent's LoopCPU, or none; repeat to compare settings in one run.",
            discussion: "The simulated broker's loop shares the CPU with the agent's."))
    var loopCPU: [String] = ["none"]

    @Option(
        name: .customLong("loop-realtime-priority"),
        help: ArgumentHelp(
            "The agent's LoopRealtimePriority (1-99), or none; repeat to compare settings in one run.",
            discussion: "Needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least the priority."))
    var loopRealtimePriority: [String] = ["none"]

    func validate() throws {
        if signals < 1 || warmup < 0 { throw ValidationError("--signals must be positive, --warmup not negative") }
        if followers.isEmpty || followers.contains(where: { $0 < 1 }) {
            throw ValidationError("--followers must be at least 1")
        }
        if JournalSyncPolicy(rawValue: journalSync) == nil {
            throw ValidationError("--journal-sync must be always, batch or never")
        }
        if !["always", "batch", "never"].contains(storeSync) {
            throw ValidationError("--store-sync must be always, batch or never")
        }
        try Self.check(cpuIdleLatencyUs, "cpu-idle-latency-us", 0..., "microseconds (0 or more)")
        try Self.check(loopCPU, "loop-cpu", 0..., "a CPU number (0 or more)")
        let priorities = ThreadScheduling.realTimePriorities
        try Self.check(
            loopRealtimePriority, "loop-realtime-priority", priorities,
            "a priority from \(priorities.lowerBound) to \(priorities.upperBound)")
    }

    /// Each of `values` is `none` or a number in `range`.
    private static func check(
        _ values: [String], _ option: String, _ range: some RangeExpression<Int>, _ what: String
    ) throws {
        for value in values where value != "none" && !(Int(value).map(range.contains) ?? false) {
            throw ValidationError("--\(option) must be none or \(what), not '\(value)'")
        }
    }

    /// One agent setting of the repeatable options (nil: none).
    private struct Setting {
        var cpuIdleLatencyUs: Int?
        var loopCPU: Int?
        var loopRealtimePriority: Int?
    }

    func run() async throws {
        let settings = cpuIdleLatencyUs.flatMap { latency in
            loopCPU.flatMap { cpu in
                loopRealtimePriority.map {
                    Setting(cpuIdleLatencyUs: Int(latency), loopCPU: Int(cpu), loopRealtimePriority: Int($0))
                }
            }
        }
        for count in followers {
            for setting in settings { try await run(followers: count, setting) }
        }
    }

    private func run(followers count: Int, _ setting: Setting) async throws {
        var options = LoopbackCopyBenchmark.Options()
        options.signals = signals
        options.warmup = warmup
        options.followers = count
        options.journalSync = JournalSyncPolicy(rawValue: journalSync)!
        options.storeSync = storeSync
        options.capture = !noCapture
        // A subfolder per value of each option that was repeated.
        var suffix = ""
        func name(_ value: Int?) -> String { value.map(String.init) ?? "none" }
        if cpuIdleLatencyUs.count > 1 { suffix += "-cpu-idle-\(name(setting.cpuIdleLatencyUs))" }
        if loopCPU.count > 1 { suffix += "-loop-cpu-\(name(setting.loopCPU))" }
        if loopRealtimePriority.count > 1 { suffix += "-loop-priority-\(name(setting.loopRealtimePriority))" }
        options.folder = folder.map { "\($0)/followers-\(count)\(suffix)" }
        options.ledger = !noLedger
        options.cpuIdleLatencyUs = setting.cpuIdleLatencyUs
        options.loopCPU = setting.loopCPU
        options.loopRealtimePriority = setting.loopRealtimePriority
        print(try await LoopbackCopyBenchmark.run(options).jsonLine)
    }
}

/// A CSV file written a block of rows at a time.
private final class CSVFile {
    let path: String
    private let handle: FileHandle
    private var failure: (any Error)?

    init(path: String, header: String) throws {
        self.path = path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SamplesFileError("--samples-csv: cannot write \(path): \(String(cString: strerror(errno)))")
        }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        write(header)
    }

    func write(_ rows: String) {
        guard failure == nil, !rows.isEmpty else { return }
        do { try handle.write(contentsOf: Data((rows + "\n").utf8)) } catch { failure = error }
    }

    func close() throws {
        try handle.close()
        if let failure { throw SamplesFileError("--samples-csv: writing \(path) failed: \(failure)") }
    }
}

private struct SamplesFileError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
