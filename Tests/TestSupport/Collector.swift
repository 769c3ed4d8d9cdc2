import Synchronization

// Helpers shared by the test targets that talk over real sockets.

/// A wait that ran out of time; the description says what was awaited.
public struct WaitTimeout: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }
}

/// Collects what arrives from any thread and lets a test wait until a condition holds on it, with
/// a deadline (the wait ends as soon as the condition holds: never a fixed sleep).
public final class Collector<Element: Sendable>: Sendable {
    private struct Waiter {
        let predicate: @Sendable ([Element]) -> Bool
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var items: [Element] = []
        var waiters: [Int: Waiter] = [:]
        var expired: Set<Int> = []
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Everything collected so far, in arrival order.
    public var items: [Element] { state.withLock { $0.items } }

    /// Adds `element` and wakes the waits whose condition now holds.
    public func append(_ element: Element) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.items.append(element)
            var ready: [CheckedContinuation<Void, any Error>] = []
            for (id, w) in s.waiters where w.predicate(s.items) {
                s.waiters[id] = nil
                ready.append(w.continuation)
            }
            return ready
        }
        for c in ready { c.resume() }
    }

    /// Waits until `predicate` holds for the items collected so far; throws after `timeout`.
    public func wait(
        for what: String, timeout: Duration = .seconds(20), until predicate: @escaping @Sendable ([Element]) -> Bool
    ) async throws {
        let id = state.withLock { s -> Int? in
            if predicate(s.items) { return nil }
            s.nextID += 1
            return s.nextID
        }
        guard let id else { return }
        let timer = Task {
            do { try await Task.sleep(for: timeout) } catch { return }
            self.expire(id, what)
        }
        defer { timer.cancel() }
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let outcome = state.withLock { s -> Bool? in
                if s.expired.remove(id) != nil { return false }
                if predicate(s.items) { return true }
                s.waiters[id] = Waiter(predicate: predicate, continuation: c)
                return nil
            }
            switch outcome {
            case true?: c.resume()
            case false?: c.resume(throwing: WaitTimeout(description: "timed out waiting for \(what)"))
            case nil: break
            }
        }
    }

    private func expire(_ id: Int, _ what: String) {
        let waiter = state.withLock { s -> Waiter? in
            guard let w = s.waiters.removeValue(forKey: id) else {
                s.expired.insert(id)
                return nil
            }
            return w
        }
        waiter?.continuation.resume(throwing: WaitTimeout(description: "timed out waiting for \(what)"))
    }
}
