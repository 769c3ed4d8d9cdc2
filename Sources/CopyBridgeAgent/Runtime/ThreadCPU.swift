import Foundation

/// The CPU time this process's threads have used, read from `/proc/self/task` (Linux; empty
/// elsewhere). Two readings give each thread's share of a stretch of work: on a machine with few
/// cores, what the threads beside the copy path use decides how often a fill finds both cores busy.
struct ThreadCPU: Sendable {
    /// Per thread id: the thread's name and its CPU time in nanoseconds.
    var threads: [Int: (name: String, nanos: Int64)]

    /// Reads every thread of this process now.
    static func read(tasks: String = "/proc/self/task") -> ThreadCPU {
        var threads: [Int: (name: String, nanos: Int64)] = [:]
        guard let ids = try? FileManager.default.contentsOfDirectory(atPath: tasks) else {
            return ThreadCPU(threads: [:])
        }
        for id in ids {
            guard let tid = Int(id),
                let comm = try? String(contentsOfFile: "\(tasks)/\(id)/comm", encoding: .utf8),
                let stat = try? String(contentsOfFile: "\(tasks)/\(id)/schedstat", encoding: .utf8),
                let nanos = parseSchedstat(stat)
            else { continue }
            threads[tid] = (comm.trimmingCharacters(in: .whitespacesAndNewlines), nanos)
        }
        return ThreadCPU(threads: threads)
    }

    /// The first field of `schedstat`: time spent on a CPU, in nanoseconds, as of the thread's last
    /// switch or tick (a thread running now may have more).
    static func parseSchedstat(_ text: String) -> Int64? {
        text.split(separator: " ", maxSplits: 1).first.flatMap { Int64($0) }
    }

    /// CPU time used since `earlier`, summed by thread name (threads of the same name add up; a
    /// thread started since counts from zero), in microseconds per `per` units of work. Names that
    /// used less than a hundredth of a microsecond per unit are left out.
    func micros(since earlier: ThreadCPU, per units: Int) -> [String: Double] {
        guard units > 0 else { return [:] }
        var byName: [String: Int64] = [:]
        for (tid, now) in threads {
            // By id: a thread renamed in between keeps its earlier time.
            byName[now.name, default: 0] += max(0, now.nanos - (earlier.threads[tid]?.nanos ?? 0))
        }
        var out: [String: Double] = [:]
        for (name, nanos) in byName {
            let value = (Double(nanos) / 1000 / Double(units) * 100).rounded() / 100
            if value >= 0.01 { out[name] = value }
        }
        return out
    }
}
