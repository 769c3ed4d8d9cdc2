import Foundation

/// The CPU time this process's threads have used, how long they waited for a CPU, and how often
/// they were preempted, read from `/proc/self/task` (Linux; empty elsewhere). Two readings give each
/// thread's share of a stretch of work: on a machine with few cores, what the threads beside the
/// copy path use decides how often a fill finds both cores busy, and the copy path's own waits and
/// preemptions say how often it did.
struct ThreadCPU: Sendable {
    /// One thread's counters, as of a reading.
    struct Counters: Sendable, Equatable {
        var name: String
        /// Time on a CPU, in nanoseconds.
        var nanos: Int64
        /// Time runnable but waiting for a CPU, in nanoseconds.
        var waitNanos: Int64 = 0
        /// Switches away from the thread while it could still run (`nonvoluntary_ctxt_switches`).
        var preemptions: Int64 = 0
    }

    /// Per thread id.
    var threads: [Int: Counters]

    /// Reads every thread of this process now.
    static func read(tasks: String = "/proc/self/task") -> ThreadCPU {
        var threads: [Int: Counters] = [:]
        guard let ids = try? FileManager.default.contentsOfDirectory(atPath: tasks) else {
            return ThreadCPU(threads: [:])
        }
        for id in ids {
            guard let tid = Int(id),
                let comm = try? String(contentsOfFile: "\(tasks)/\(id)/comm", encoding: .utf8),
                let stat = try? String(contentsOfFile: "\(tasks)/\(id)/schedstat", encoding: .utf8),
                let times = parseSchedstat(stat)
            else { continue }
            let status = try? String(contentsOfFile: "\(tasks)/\(id)/status", encoding: .utf8)
            threads[tid] = Counters(
                name: comm.trimmingCharacters(in: .whitespacesAndNewlines), nanos: times.onCPU,
                waitNanos: times.waiting, preemptions: status.flatMap(parsePreemptions) ?? 0)
        }
        return ThreadCPU(threads: threads)
    }

    /// The first two fields of `schedstat`: time spent on a CPU and time spent runnable on a run
    /// queue, in nanoseconds, as of the thread's last switch or tick (a thread running now may have
    /// more).
    static func parseSchedstat(_ text: String) -> (onCPU: Int64, waiting: Int64)? {
        let fields = text.split(separator: " ", maxSplits: 2)
        guard let onCPU = fields.first.flatMap({ Int64($0) }) else { return nil }
        return (onCPU, fields.dropFirst().first.flatMap { Int64($0) } ?? 0)
    }

    /// `nonvoluntary_ctxt_switches` from a thread's `status`.
    static func parsePreemptions(_ status: String) -> Int64? {
        let key = "nonvoluntary_ctxt_switches:"
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return nil }
        return Int64(line.dropFirst(key.count).trimmingCharacters(in: .whitespaces))
    }

    /// CPU time used since `earlier`, in microseconds per `per` units of work (see ``perUnit``).
    func micros(since earlier: ThreadCPU, per units: Int) -> [String: Double] {
        perUnit(since: earlier, per: units, scale: 1000, \.nanos)
    }

    /// Time spent waiting for a CPU since `earlier`, in microseconds per `per` units of work.
    func waitMicros(since earlier: ThreadCPU, per units: Int) -> [String: Double] {
        perUnit(since: earlier, per: units, scale: 1000, \.waitNanos)
    }

    /// Preemptions since `earlier`, per `per` units of work.
    func preemptions(since earlier: ThreadCPU, per units: Int) -> [String: Double] {
        perUnit(since: earlier, per: units, scale: 1, \.preemptions)
    }

    /// A counter's growth since `earlier`, summed by thread name (threads of the same name add up; a
    /// thread started since counts from zero), divided by `scale` and by `units`, to two decimals.
    /// Names under a hundredth per unit are left out.
    private func perUnit(
        since earlier: ThreadCPU, per units: Int, scale: Double, _ counter: KeyPath<Counters, Int64>
    ) -> [String: Double] {
        guard units > 0 else { return [:] }
        var byName: [String: Int64] = [:]
        for (tid, now) in threads {
            // By id: a thread renamed in between keeps its earlier count.
            byName[now.name, default: 0] += max(
                0, now[keyPath: counter] - (earlier.threads[tid]?[keyPath: counter] ?? 0))
        }
        var out: [String: Double] = [:]
        for (name, total) in byName {
            let value = (Double(total) / scale / Double(units) * 100).rounded() / 100
            if value >= 0.01 { out[name] = value }
        }
        return out
    }
}
