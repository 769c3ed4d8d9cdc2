import Foundation
import Synchronization
import Testing

@testable import CopyBridgeAgent

/// Headless Chromium, as Debian installs it (`apt-get install chromium`).
struct Chromium {
    let executable: String

    static let installed: Chromium? = {
        let candidates = [
            "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/snap/bin/chromium",
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }.map(Chromium.init)
    }()

    /// The DOM after the page's scripts ran (virtual time lets its first fetches complete).
    func dumpDOM(_ url: String) async throws -> String {
        let output = try await run(["--dump-dom", url])
        return String(decoding: output, as: UTF8.self)
    }

    /// A PNG of the page as rendered.
    func screenshot(_ url: String, to path: String, width: Int = 1440, height: Int = 1500) async throws {
        _ = try await run(["--screenshot=\(path)", "--window-size=\(width),\(height)", "--hide-scrollbars", url])
    }

    private func run(_ arguments: [String]) async throws -> Data {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("copybridge-chromium-\(UUID())")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: profile) }
        let outputURL = profile.appendingPathComponent("stdout")
        guard FileManager.default.createFile(atPath: outputURL.path, contents: nil) else {
            throw ChromiumError.cannotCreate(outputURL.path)
        }
        let output = try FileHandle(forWritingTo: outputURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments =
            [
                "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--no-default-browser-check",
                "--disable-dev-shm-usage", "--disable-extensions", "--user-data-dir=\(profile.path)",
                "--virtual-time-budget=4000",
            ] + arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let waiter = ExitWaiter()
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            waiter.set(continuation)
            process.terminationHandler = { process in waiter.resume(process.terminationStatus) }
            do {
                try process.run()
            } catch {
                waiter.resume(-1)
                return
            }
            // A browser that hangs must not hang the suite.
            let pid = process.processIdentifier
            Task.detached {
                try? await Task.sleep(for: .seconds(90))
                if waiter.isWaiting { kill(pid, SIGKILL) }
            }
        }
        try output.close()
        guard status == 0 else { throw ChromiumError.failed(status: status) }
        return try Data(contentsOf: outputURL)
    }

    enum ChromiumError: Error {
        case cannotCreate(String)
        case failed(status: Int32)
    }

    /// Resumes the waiting test once, whichever of exit or launch failure comes first.
    private final class ExitWaiter: Sendable {
        private let continuation = Mutex<CheckedContinuation<Int32, Never>?>(nil)

        func set(_ waiting: CheckedContinuation<Int32, Never>) {
            continuation.withLock { $0 = waiting }
        }

        func resume(_ status: Int32) {
            continuation.withLock { $0.take() }?.resume(returning: status)
        }

        var isWaiting: Bool { continuation.withLock { $0 != nil } }
    }
}

/// What the dumped DOM says, found by the page's stable ids and data attributes.
struct DumpedPage {
    let html: String

    /// The text of the element with `id`.
    func text(id: String) -> String? {
        firstMatch(#"id="\#(id)"[^>]*>([^<]*)<"#)
    }

    /// The text of a follower's cell.
    func follower(_ id: String, _ field: String) -> String? {
        guard let row = html.range(of: #"<tr data-follower="\#(id)">"#) else { return nil }
        let rest = String(html[row.upperBound...])
        guard let end = rest.range(of: "</tr>") else { return nil }
        let cells = String(rest[..<end.lowerBound])
        return DumpedPage(html: cells).firstMatch(#"data-field="\#(field)"[^>]*>([^<]*)<"#)
    }

    func contains(_ text: String) -> Bool { html.contains(text) }

    /// The rendered content only (`<main>`), without the page's script.
    var main: DumpedPage {
        guard let start = html.range(of: "<main>"), let end = html.range(of: "</main>") else {
            return DumpedPage(html: "")
        }
        return DumpedPage(html: String(html[start.lowerBound..<end.upperBound]))
    }

    private func firstMatch(_ pattern: String) -> String? {
        guard let regex = try? Regex(pattern), let match = html.firstMatch(of: regex), match.count > 1,
            let captured = match[1].substring
        else { return nil }
        return String(captured)
    }
}

@Suite("Dashboard in a headless browser", .serialized)
struct DashboardBrowserTests {
    @Test(
        .enabled(
            if: Chromium.installed != nil,
            "chromium is not installed: apt-get install -y chromium to run the dashboard browser test"))
    func showsLiveNumbersAndFollowsThemWhenTheyChange() async throws {
        let chromium = try #require(Chromium.installed)
        let source = FakeStateSource(Fixture.snapshot(version: 1))
        let (first, second, served) = try await withServer(source: source) { port in
            let url = "http://127.0.0.1:\(port)/"
            let first = DumpedPage(html: try await chromium.dumpDOM(url))
            source.set(Fixture.snapshot(version: 2))
            let second = DumpedPage(html: try await chromium.dumpDOM(url))
            if let directory = ProcessInfo.processInfo.environment["COPYBRIDGE_SCREENSHOT_DIR"] {
                try await chromium.screenshot(url, to: directory + "/dashboard.png")
                source.set(
                    AgentSnapshot(
                        generatedAt: Fixture.started,
                        agent: AgentInfo(name: "empty", version: "0.1.0", startedAt: Fixture.started, mode: "live")))
                try await chromium.screenshot(url, to: directory + "/dashboard-empty.png", height: 1100)
            }
            return (first, second, source.snapshotsServed)
        }
        #expect(served >= 2, "the page fetched the state")
        for page in [first, second] {
            #expect(page.contains(#"data-loaded="true""#), "the page rendered a snapshot")
            #expect(page.text(id: "status-text")?.hasPrefix("live") == true)
            #expect(page.text(id: "agent-mode") == "paper")
            #expect(page.contains(#"<tr data-session="DROPCOPY">"#))
            #expect(page.contains(#"data-state="logged-on""#))
            #expect(page.contains(#"data-state="tripped""#))
            #expect(page.contains(#"data-curve="provider:P1""#))
            #expect(page.contains(#"data-curve="follower:F1""#))
            #expect(page.contains("<polyline"))
            #expect(page.contains(#"data-alert="fill_rate""#))
            #expect(page.text(id: "kpi-fill-rate") == "98.00 %")
            #expect(page.text(id: "kpi-p99") == "25 ms")
            #expect(page.follower("F1", "realizedPnL") == "312.40")
            #expect(page.follower("F1", "unrealizedPnL") == "−41.15")
            #expect(page.follower("F1", "feesAccrued") == "15.62")
        }
        // Live numbers: what the source served, and they follow it.
        #expect(first.text(id: "kpi-signals") == "1,231")
        #expect(second.text(id: "kpi-signals") == "1,232")
        #expect(first.follower("F1", "equity") == "10,376.00 USD")
        #expect(second.follower("F1", "equity") == "10,501.25 USD")
        #expect(first.contains(#"data-exec-id="EX-1001""#))
        #expect(second.contains(#"data-exec-id="EX-1002""#))
        #expect(first.contains(#"data-bucket="4" data-count="31""#))
        #expect(second.contains(#"data-bucket="4" data-count="32""#))
    }

    @Test(
        .enabled(
            if: Chromium.installed != nil,
            "chromium is not installed: apt-get install -y chromium to run the dashboard browser test"))
    func rendersSensiblyWithNoData() async throws {
        let chromium = try #require(Chromium.installed)
        let empty = AgentSnapshot(
            generatedAt: Fixture.started,
            agent: AgentInfo(name: "empty", version: "0.1.0", startedAt: Fixture.started, mode: "live"))
        let source = FakeStateSource(empty)
        let page = try await withServer(source: source) { port in
            DumpedPage(html: try await chromium.dumpDOM("http://127.0.0.1:\(port)/"))
        }
        #expect(page.contains(#"data-loaded="true""#))
        #expect(page.contains("No sessions configured."))
        #expect(page.contains("No followers configured."))
        #expect(page.contains("No providers configured."))
        #expect(page.contains("No copies yet."))
        #expect(page.contains("No equity history yet."))
        #expect(page.text(id: "kpi-signals") == "0")
        #expect(page.text(id: "kpi-fill-rate") == "—")
        #expect(!page.main.html.isEmpty)
        #expect(!page.main.contains("NaN"))
        #expect(!page.main.contains("undefined"))
        #expect(!page.main.contains("null"))
    }
}

/// The dashboard of a running agent (embedded simulated brokers, real sessions, real copies), as a
/// browser renders it: it loads, shows the agent's own numbers, and follows them as copies happen.
@Suite("Dashboard of a running agent in a headless browser", .serialized)
struct LiveDashboardBrowserTests {
    @Test(
        .enabled(
            if: Chromium.installed != nil,
            "chromium is not installed: apt-get install -y chromium to run the dashboard browser test"))
    func showsTheRunningAgentsCopiesAndFollowsThem() async throws {
        let chromium = try #require(Chromium.installed)
        let folder = try TestFolder()
        var options = AgentRuntimeOptions.quietTests
        options.http = .port(0)
        try await withRuntime(twoBrokerSettings(admin: true), folder: folder, options: options) { runtime in
            try await runtime.waitUntil("every session live", timeout: .seconds(60)) { $0.allLive(twoBrokerSessions) }
            let port = try #require(runtime.httpListeningAddress?.port)
            let url = "http://127.0.0.1:\(port)/"
            let sim = try #require(runtime.simulator)

            try await sim.providerTrades("LIVE-1", "EUR/USD", .buy, 100000)
            try await runtime.waitUntil("the first copies filled", timeout: .seconds(60)) {
                $0.filledOrders == 3 && $0.liveOrders == 0
            }
            let first = DumpedPage(html: try await chromium.dumpDOM(url))

            try await sim.providerTrades("LIVE-2", "EUR/USD", .sell, 40000)
            try await runtime.waitUntil("the second copies filled", timeout: .seconds(60)) {
                $0.filledOrders == 6 && $0.liveOrders == 0
            }
            let second = DumpedPage(html: try await chromium.dumpDOM(url))

            for page in [first, second] {
                #expect(page.contains(#"data-loaded="true""#), "the page rendered the agent's state")
                #expect(page.text(id: "agent-mode") == "paper")
                for session in twoBrokerSessions {
                    #expect(page.contains(#"<tr data-session="\#(session)">"#), "session \(session) is listed")
                }
                #expect(page.contains(#"data-state="logged-on""#))
                for follower in ["bob", "carl", "lena"] {
                    #expect(page.contains(#"<tr data-follower="\#(follower)">"#), "follower \(follower) is listed")
                }
                #expect(page.text(id: "kpi-fill-rate") == "100.00 %")
                #expect(!page.main.contains("NaN") && !page.main.contains("undefined"))
            }
            // The agent's own counts, and they change with the copies.
            #expect(first.text(id: "kpi-signals") == "1")
            #expect(second.text(id: "kpi-signals") == "2")
            let firstExecIDs = first.main.html.matches(of: #/data-exec-id="/#).count
            let secondExecIDs = second.main.html.matches(of: #/data-exec-id="/#).count
            #expect(firstExecIDs == 3 && secondExecIDs == 6, "recent copies: \(firstExecIDs), then \(secondExecIDs)")
        }
    }
}
