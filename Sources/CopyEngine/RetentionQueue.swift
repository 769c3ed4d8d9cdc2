import DequeModule
import FIXCore

/// Keys in the order they were remembered, so that the ones older than a retention window can be
/// forgotten: finished orders, the ExecIDs kept to drop duplicates and the fills kept for busts
/// and corrects then stay the size of their window instead of growing for as long as the agent runs.
struct RetentionQueue<Key> {
    private var entries: Deque<(at: EngineTime, key: Key)> = []

    /// Keys remembered and not yet expired (a key remembered twice counts twice).
    var count: Int { entries.count }

    /// Remembers `key` as of `at`; keys are appended in time order.
    mutating func append(_ key: Key, at: EngineTime) {
        entries.append((at, key))
    }

    /// Removes and returns the oldest key if it was remembered at or before `cutoff`. One at a
    /// time, so the caller can forget each in its own state without an array or a closure.
    mutating func popExpired(through cutoff: EngineTime) -> Key? {
        guard let first = entries.first, first.at <= cutoff else { return nil }
        entries.removeFirst()
        return first.key
    }
}

extension RetentionQueue: Sendable where Key: Sendable {}

extension CopyEngine {
    /// The start of a window of `retentionMs` ending now: what was recorded at or before it is
    /// forgotten. (Static: a non-mutating method called from a mutating one copies the engine.)
    static func cutoff(_ now: EngineTime, retentionMs: Int) -> EngineTime {
        now - Int64(retentionMs) * 1_000_000
    }

    /// Marks a fill's ExecID as seen on session `si`, forgetting those older than the window.
    mutating func rememberExecID(_ si: Int, _ execID: String) {
        let cutoff = Self.cutoff(now, retentionMs: sessions[si].config.execIDRetentionMs)
        while let old = sessions[si].execIDTimes.popExpired(through: cutoff) { sessions[si].seenExecIDs.remove(old) }
        sessions[si].seenExecIDs.insert(execID)
        sessions[si].execIDTimes.append(execID, at: now)
    }

    /// Records what provider `p`'s fill `execID` did, under `key`: its own ExecID for a new fill,
    /// the ExecID of the fill it cancels or corrects otherwise (then `execID` becomes an alias of
    /// it). Her fills older than her session's window are forgotten first. A new fill's time is
    /// its key's; a correction's is its alias's, and the fill it corrects keeps its own.
    mutating func recordProviderFill(_ p: Int, execID: String, key: String, effect: ProviderFillEffect) {
        let cutoff = Self.cutoff(now, retentionMs: sessions[providers[p].session].config.execIDRetentionMs)
        while let old = providers[p].fillKeyTimes.popExpired(through: cutoff) {
            providers[p].fills[old] = nil
            providers[p].aliases[old] = nil
        }
        providers[p].fills[key] = effect
        if key != execID { providers[p].aliases[execID] = key }
        providers[p].fillKeyTimes.append(execID, at: now)
    }

    /// Records follower `f`'s own fill under `key` (its ExecID when new, the ExecID of the fill a
    /// cancel or correct changes otherwise), forgetting his fills older than the window of the
    /// session they came on. Only a new fill starts a window of its own.
    mutating func recordForeignFill(
        _ f: Int, _ si: Int, execID: String, key: String, fill: (symbol: Int, quantity: FixedDecimal)
    ) {
        let cutoff = Self.cutoff(now, retentionMs: sessions[si].config.execIDRetentionMs)
        while let old = followers[f].foreignFillTimes.popExpired(through: cutoff) {
            followers[f].foreignFills[old] = nil
        }
        followers[f].foreignFills[key] = fill
        if key == execID { followers[f].foreignFillTimes.append(key, at: now) }
    }
}
