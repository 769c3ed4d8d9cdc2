import FIXSession
import FIXTransport
import Foundation

extension SettingsBlockKind {
    /// The running agent: where it keeps its data, how it syncs its journal, its timers.
    public static let agent: SettingsBlockKind = "AGENT"
}

/// The `[AGENT]` block, and the agent's own keys in `[SESSION]` blocks.
public struct AgentSettings: Sendable, Equatable {
    /// Where the journal, the ledger, the message stores and logs (unless a session names its own
    /// FileStorePath/FileLogPath) and the simulated brokers' books go. Absolute.
    public var dataFolder: String
    public var journalSync: JournalSyncPolicy
    /// How often the engine's timers (retries, settlement deadlines) are driven.
    public var tickIntervalMs: Int
    /// How often the summary is printed while running (0: only at the end).
    public var summaryIntervalSeconds: Int
    /// The currency of follower accounts in the ledger and of P&L in the summary.
    public var accountCurrency: String
    /// The agent's name on the dashboard.
    public var name: String
    /// The CPU wake-up limit to ask the kernel for while running (``CPULatencyRequest``), in
    /// microseconds; nil asks for nothing.
    public var cpuIdleLatencyUs: Int?
    /// The CPU the copy path's event loop runs on alone (``LoopPinning``); nil leaves every thread
    /// to the scheduler.
    public var loopCPU: Int?
    /// The SCHED_FIFO priority of the copy path's event loop (``LoopPriority``); nil leaves it under
    /// the normal policy.
    public var loopRealtimePriority: Int?

    public init(
        dataFolder: String, journalSync: JournalSyncPolicy = .always, tickIntervalMs: Int = 50,
        summaryIntervalSeconds: Int = 30, accountCurrency: String = "USD", name: String = "copybridge",
        cpuIdleLatencyUs: Int? = nil, loopCPU: Int? = nil, loopRealtimePriority: Int? = nil
    ) {
        self.dataFolder = dataFolder
        self.journalSync = journalSync
        self.tickIntervalMs = tickIntervalMs
        self.summaryIntervalSeconds = summaryIntervalSeconds
        self.accountCurrency = accountCurrency
        self.name = name
        self.cpuIdleLatencyUs = cpuIdleLatencyUs
        self.loopCPU = loopCPU
        self.loopRealtimePriority = loopRealtimePriority
    }

    /// The journal file in ``dataFolder``.
    public var journalPath: String { dataFolder + "/journal.cbj" }
    /// The ledger database in ``dataFolder``.
    public var ledgerPath: String { dataFolder + "/ledger.sqlite" }

    public enum Key {
        public static let dataFolder = "DataFolder"
        public static let journalSync = "JournalSync"
        public static let tickIntervalMs = "TickIntervalMs"
        public static let summaryIntervalSeconds = "SummaryIntervalSeconds"
        public static let accountCurrency = "AccountCurrency"
        public static let name = "AgentName"
        public static let cpuIdleLatencyUs = "CPUIdleLatencyUs"
        public static let loopCPU = "LoopCPU"
        public static let loopRealtimePriority = "LoopRealtimePriority"
        /// `[SESSION]`: subscribe to the broker's market data for marks.
        public static let marketData = "MarketData"
        /// `[SESSION]`: the broker symbols to subscribe to.
        public static let marketDataSymbols = "MarketDataSymbols"
        /// `[SESSION]`: how long to wait for the answer to a CollateralInquiry.
        public static let equityInquiryTimeoutMs = "EquityInquiryTimeoutMs"
    }

    private static let agentBlock: Set<SettingsBlockKind> = [.agent]

    private static let currencyType = CustomSettingType(name: "currency", expectation: "a three-letter currency code") {
        raw in
        raw.count == 3 && raw.allSatisfy({ $0.isASCII && $0.isLetter }) ? .string(raw.uppercased()) : nil
    }

    /// The `[AGENT]` kind and its keys, plus `MarketData` and `MarketDataSymbols` in `[SESSION]`.
    public static let schema = SettingsSchema(
        blockKinds: [
            .init(
                .agent, maximumCount: 1,
                doc: "The running agent (`copybridge run`): its data folder, journal durability and timers.")
        ],
        keys: [
            SettingKey(
                Key.dataFolder, in: agentBlock, .path, default: "data",
                doc: "Folder of the journal, the ledger, and the message stores, logs and simulator books of sessions "
                    + "that name no FileStorePath/FileLogPath/BookFile of their own."),
            SettingKey(
                Key.journalSync, in: agentBlock, .word(JournalSyncPolicy.allCases.map(\.rawValue)), default: "always",
                doc: "When the journal reaches the disk: always (before each order leaves), batch (once per burst of "
                    + "messages, before its orders are flushed), never (a power cut may lose the last records)."),
            SettingKey(
                Key.tickIntervalMs, in: agentBlock, .integer(1...10_000), default: "50",
                doc: "How often retries and settlement deadlines are checked, in milliseconds."),
            SettingKey(
                Key.summaryIntervalSeconds, in: agentBlock, .integer(0...86_400), default: "30",
                doc: "How often the running summary is printed (0: only when the agent stops)."),
            SettingKey(
                Key.accountCurrency, in: agentBlock, .custom(currencyType), default: "USD",
                doc: "Currency of follower accounts (ledger) and of the P&L in the summary."),
            SettingKey(
                Key.name, in: agentBlock, .name, default: "copybridge", doc: "The agent's name on the dashboard."),
            SettingKey(
                Key.cpuIdleLatencyUs, in: agentBlock, .integer(0...1_000_000),
                doc: "While the agent runs, ask the kernel (PM QoS, /dev/cpu_dma_latency) to keep every CPU out of "
                    + "idle states that take longer than this many microseconds to leave. 0 keeps idle CPUs polling: "
                    + "the fastest wake-up when a fill arrives, at the cost of idle CPUs staying busy. Unset: no "
                    + "request. Needs write access to /dev/cpu_dma_latency (root, or a udev rule); the agent does not "
                    + "start without it."),
            SettingKey(
                Key.loopCPU, in: agentBlock, .integer(0...4095),
                doc: "Run the copy path's event loop (the `cb-agent` thread: sessions, engine, journal) on this CPU "
                    + "only, and keep the agent's other threads (ledger, HTTP, logging, an in-process simulator) on "
                    + "the others it may use: a fill then never waits behind them for that CPU, nor finds its caches "
                    + "filled with their data. Pair it with a CPU the rest of the machine leaves alone (isolcpus, "
                    + "a cpuset). The CPU must be one the agent may run on (taskset, cgroups); the agent does not "
                    + "start otherwise. Unset: the scheduler places every thread."),
            SettingKey(
                Key.loopRealtimePriority, in: agentBlock, .integer(ThreadScheduling.realTimePriorities),
                doc: "Run the copy path's event loop (the `cb-agent` thread) under the real-time policy SCHED_FIFO "
                    + "at this priority: a fill arriving for it takes the CPU at once from any normal thread "
                    + "instead of waiting for that thread to sleep or use up its time slice. Threads the loop "
                    + "starts run under the normal policy. Best with LoopCPU, so that the other threads are not "
                    + "the ones kept waiting. The kernel leaves normal threads 5% of each CPU even from a busy "
                    + "real-time thread (kernel.sched_rt_runtime_us). Needs CAP_SYS_NICE or an RLIMIT_RTPRIO of "
                    + "at least the priority (LimitRTPRIO= in a systemd unit); the agent does not start without "
                    + "it. Unset: the normal policy."),
            SettingKey(
                Key.marketData, in: [.session], .bool, default: "N",
                doc: "Subscribe to the broker's market data (MarketDataRequest) for marks: price checks, limit "
                    + "copies, unrealized P&L."),
            SettingKey(
                Key.equityInquiryTimeoutMs, in: [.session], .integer(100...600_000), default: "10000",
                doc: "How long the agent waits for the broker's answer to a CollateralInquiry (Equity=broker) before "
                    + "it warns that the account has no equity, in milliseconds."),
            SettingKey(
                Key.marketDataSymbols, in: [.session], .list(.string),
                doc: "Broker symbols to subscribe to with MarketData=Y (default for Simulator=Y: every simulated "
                    + "symbol)."),
        ])

    /// The settings of an `[AGENT]` block (defaults without one); relative paths resolve against
    /// `baseDirectory`.
    public init(block: SettingsBlock?, baseDirectory: String) {
        let folder =
            block?.string(Key.dataFolder) ?? URL(fileURLWithPath: baseDirectory).appendingPathComponent("data").path
        self.init(
            dataFolder: folder,
            journalSync: JournalSyncPolicy(rawValue: block?.string(Key.journalSync) ?? "always") ?? .always,
            tickIntervalMs: block?.integer(Key.tickIntervalMs) ?? 50,
            summaryIntervalSeconds: block?.integer(Key.summaryIntervalSeconds) ?? 30,
            accountCurrency: block?.string(Key.accountCurrency) ?? "USD",
            name: block?.string(Key.name) ?? "copybridge",
            cpuIdleLatencyUs: block?.integer(Key.cpuIdleLatencyUs), loopCPU: block?.integer(Key.loopCPU),
            loopRealtimePriority: block?.integer(Key.loopRealtimePriority))
    }
}
