import BrokerSimulator
import CopyEngine
import FIXCore
import FIXSession
import Foundation
import NIOCore
import Testing

@testable import CopyBridgeAgent

private let adminToken = "agent-admin-token-0123456789"

/// The two simulated brokers of the runtime tests, with an admin API on a free loopback port.
private func adminSettings(providerExtra: String = "", provbrkFollowerExtra: String = "") -> String {
    twoBrokerSettings(provbrkFollowerExtra: provbrkFollowerExtra).replacingOccurrences(
        of: "Account=ALICE\nEquity=100000\n", with: "Account=ALICE\nEquity=100000\n\(providerExtra)\n")
        + "\n[ADMIN]\nHttpPort=0\nAdminToken=\(adminToken)\n"
}

/// `copybridge ctl` against a running agent: the `[ADMIN]` block of its settings file, the port it
/// actually bound (the file says 0), and `AdminControl.send` as the command sends.
private struct Ctl {
    let file: String
    let configuration: AdminHTTPConfiguration

    init(runtime: AgentRuntime, file: String) throws {
        var configuration = try AdminControl.configuration(file: file)
        configuration.port = try #require(runtime.httpListeningAddress?.port)
        self.file = file
        self.configuration = configuration
    }

    func callAsFunction(_ command: AdminCommand, reason: String? = nil) async throws -> AdminResponse {
        try await AdminControl.send(command, to: configuration, file: file, actor: "ctl:ops", reason: reason)
    }
}

/// Runs `body` with a started runtime serving its admin API, and returns the journal afterwards.
private func withAdminRuntime(
    _ settings: String, folder: TestFolder? = nil, _ body: (AgentRuntime, Ctl) async throws -> Void
) async throws -> JournalScan {
    let folder = try folder ?? TestFolder()
    let file = try folder.write("agent.conf", settings)
    let data = folder.path + "/data"
    var options = AgentRuntimeOptions.quietTests
    options.http = .port(0)
    let runtime = AgentRuntime(
        configuration: try AgentConfiguration.load(path: file, dataFolder: data), options: options)
    try await runtime.start()
    do {
        try await runtime.waitUntil("every session live", timeout: .seconds(60)) { $0.allLive(twoBrokerSessions) }
        try await body(runtime, try Ctl(runtime: runtime, file: file))
    } catch {
        await runtime.stop()
        throw error
    }
    await runtime.stop()
    return try JournalReader.read(path: data + "/journal.cbj")
}

/// The engine's command records: what, who and why.
private func commandRecords(_ scan: JournalScan) -> [(command: OperatorCommand, actor: String, reason: String?)] {
    scan.engineRecords.compactMap { record in
        if case .command(let command, _, let actor, let reason) = record { (command, actor, reason) } else { nil }
    }
}

@Suite("Operator commands on a running agent", .serialized)
struct AgentAdminTests {
    @Test("ctl status, pause and resume, and disable --flatten run on the engine and are journaled")
    func ctlCommands() async throws {
        let scan = try await withAdminRuntime(adminSettings()) { runtime, ctl in
            let sim = try #require(runtime.simulator)
            let status = try await ctl(.status)
            #expect(status.result.message.contains("3 of 3 follower(s) copying"), "\(status.result.message)")

            let paused = try await ctl(.pause(follower: "carl"), reason: "margin call")
            #expect(paused.result.outcome == .applied && paused.result.follower?.state == .paused)
            #expect(paused.actor == "ctl:ops@127.0.0.1")
            #expect(paused.state.followers.first { $0.id == "carl" }?.state == .paused)
            try await sim.providerTrades("P1", "EUR/USD", .buy, 100000)
            // The signal and every copy it causes are handled in one turn of the loop.
            try await runtime.waitUntil("P1 copied", timeout: .seconds(30)) {
                $0.signals == 1 && $0.filledOrders == 2 && $0.liveOrders == 0
            }
            #expect(await sim.position(broker: "PROVBRK", account: "CARL", symbol: "EUR/USD") == 0)
            #expect(await sim.position(broker: "PROVBRK", account: "BOB", symbol: "EUR/USD") == 50000)

            let resumed = try await ctl(.resume(follower: "carl"), reason: "margin restored")
            #expect(resumed.result.outcome == .applied && resumed.result.follower?.state == .active)
            try await sim.providerTrades("P2", "EUR/USD", .buy, 100000)
            try await runtime.waitUntil("P2 copied", timeout: .seconds(30)) {
                $0.signals == 2 && $0.filledOrders == 5 && $0.liveOrders == 0
            }
            // CatchUp=none: carl copies P2, not the P1 he missed.
            #expect(await sim.position(broker: "PROVBRK", account: "CARL", symbol: "EUR/USD") == 30000)

            let disabled = try await ctl(.disable(provider: "alice", flatten: true), reason: "runaway bot")
            #expect(disabled.result.outcome == .started && disabled.result.provider?.state == .disabled)
            try await runtime.waitUntil("every follower flat", timeout: .seconds(30)) {
                $0.followerPositions.isEmpty && $0.liveOrders == 0
            }
            #expect(await sim.position(broker: "PROVBRK", account: "BOB", symbol: "EUR/USD") == 0)
            #expect(await sim.position(broker: "PROVBRK", account: "CARL", symbol: "EUR/USD") == 0)
            #expect(await sim.position(broker: "LOTBRK", account: "LENA", symbol: "EURUSD.x") == 0)
            #expect(await sim.position(broker: "PROVBRK", account: "ALICE", symbol: "EUR/USD") == 200000)

            let sent = try await runtime.progress().ordersSent
            try await sim.providerTrades("P3", "EUR/USD", .buy, 100000)
            try await runtime.waitUntil("P3 seen", timeout: .seconds(30)) { $0.signals == 3 }
            #expect(try await runtime.progress().ordersSent == sent, "a disabled provider is not copied")
            let after = try await ctl(.status)
            #expect(after.state.providers.first { $0.id == "alice" }?.state == .disabled)
        }
        let commands = commandRecords(scan)
        #expect(
            commands.map(\.command) == [
                .pauseFollower("carl"), .resumeFollower("carl"), .disableProvider("alice", flatten: true),
            ])
        #expect(commands.allSatisfy { $0.actor == "ctl:ops@127.0.0.1" })
        #expect(commands.map(\.reason) == ["margin call", "margin restored", "runaway bot"])
        let audits = scan.auditRecords.compactMap { if case .command(let c) = $0 { c } else { nil } }
        #expect(audits.map(\.command) == ["pause carl", "resume carl", "disable alice flatten"])
        #expect(audits.allSatisfy { $0.outcome == "applied" && $0.actor == "ctl:ops@127.0.0.1" })
    }

    @Test("a suspicious provider trips her breaker; reset-breaker re-arms it; both are journaled")
    func resetBreaker() async throws {
        let scan = try await withAdminRuntime(adminSettings(providerExtra: "ExpectedSymbols=EUR/USD")) { runtime, ctl in
            let sim = try #require(runtime.simulator)
            try await sim.providerTrades("P1", "XAU/USD", .buy, 10)
            try await runtime.waitUntil("P1 seen", timeout: .seconds(30)) { $0.signals == 1 }
            #expect(try await runtime.progress().ordersSent == 0, "a suspicious fill is not copied")
            let status = try await ctl(.status)
            #expect(status.result.message.contains("tripped: provider:alice:suspicious"), "\(status.result.message)")
            #expect(status.state.breakers.first { $0.name == "provider:alice:suspicious" }?.tripped == true)

            let reset = try await ctl(.resetBreaker(name: "provider:alice:suspicious"), reason: "checked with alice")
            #expect(reset.result.outcome == .applied && reset.result.breaker?.tripped == false)
            #expect(reset.state.providers.first { $0.id == "alice" }?.state == .active)
            await #expect(throws: AdminControlError.self) { try await ctl(.resetBreaker(name: "nothing")) }
            try await sim.providerTrades("P2", "EUR/USD", .buy, 100000)
            try await runtime.waitUntil("P2 copied", timeout: .seconds(30)) {
                $0.signals == 2 && $0.filledOrders == 3 && $0.liveOrders == 0
            }
        }
        let breakers = scan.engineRecords.compactMap { if case .breaker(let b) = $0 { b } else { nil } }
        #expect(breakers.allSatisfy { $0.name == "provider:alice:suspicious" })
        #expect(breakers.first?.tripped == true && breakers.last?.tripped == false)
        let commands = commandRecords(scan)
        #expect(commands.count == 1)
        #expect(commands.first?.command == .resetBreaker("provider:alice:suspicious"))
        #expect(commands.first?.actor == "ctl:ops@127.0.0.1" && commands.first?.reason == "checked with alice")
        let audits = scan.auditRecords.compactMap { if case .command(let c) = $0 { c } else { nil } }
        #expect(audits.map(\.outcome) == ["applied", "refused: no circuit breaker 'nothing'"])
        #expect(
            scan.auditRecords.contains {
                if case .alert(let a) = $0 { a.alert == "provider:alice:suspicious" && a.active } else { false }
            })
    }

    @Test("stopping the agent is not an outage: no session-down breaker trips, nor is one restored on restart")
    func plannedStop() async throws {
        let settings = adminSettings(provbrkFollowerExtra: "SessionDownBreaker=Y\nBreakerResume=manual")
        let folder = try TestFolder()
        let first = try await withAdminRuntime(settings, folder: folder) { _, ctl in
            let status = try await ctl(.status)
            #expect(status.state.breakers.first { $0.name == "broker:prov-orders" }?.tripped == false)
        }
        let downs = first.engineRecords.compactMap { record -> Bool? in
            if case .sessionDown(_, _, let planned) = record { planned } else { nil }
        }
        #expect(!downs.isEmpty && downs.allSatisfy { $0 }, "the stop journals planned session-downs")
        #expect(!first.engineRecords.contains { if case .breaker = $0 { true } else { false } })
        _ = try await withAdminRuntime(settings, folder: folder) { _, ctl in
            let status = try await ctl(.status)
            #expect(status.state.breakers.first { $0.name == "broker:prov-orders" }?.tripped == false)
            #expect(status.result.message.contains("no breaker tripped"), "\(status.result.message)")
        }
    }

    @Test("the admin API of a running agent: no token or a wrong one is refused, loopback only by default")
    func authentication() async throws {
        let scan = try await withAdminRuntime(adminSettings()) { runtime, ctl in
            let port = ctl.configuration.port
            let body = Array(#"{"target":"bob","reason":"test"}"#.utf8)
            let none = try await AdminClient(port: port, token: nil).request(
                method: .POST, path: "/api/admin/pause", body: body)
            let wrong = try await AdminClient(port: port, token: SecretString(adminToken + "x")).request(
                method: .POST, path: "/api/admin/pause", body: body)
            #expect(none.status == 401 && wrong.status == 401)
            #expect(wrong.text.contains("wrong admin token"))
            var bad = ctl.configuration
            bad.token = SecretString("not-the-token-0123456789")
            await #expect(throws: AdminControlError.self) {
                try await AdminControl.send(
                    .pause(follower: "bob"), to: bad, file: ctl.file, actor: "ctl:x", reason: nil)
            }
            let progress = try await runtime.progress()
            #expect(progress.followerStatus["bob"] == .active, "refused requests never reach the engine")
            let right = try await ctl(.status)
            #expect(right.result.outcome == .unchanged)
        }
        #expect(commandRecords(scan).isEmpty)
        #expect(!scan.auditRecords.contains { if case .command = $0 { true } else { false } })

        // The policy for other peers: the server binds loopback unless told otherwise, and off
        // loopback it refuses to start without TLS and a token; there every request needs the token.
        #expect(AdminHTTPConfiguration.isLoopback("127.0.0.1") && AdminHTTPConfiguration.isLoopback("::1"))
        #expect(!AdminHTTPConfiguration.isLoopback("10.20.30.40") && !AdminHTTPConfiguration.isLoopback("192.168.1.7"))
        #expect(AdminHTTPConfiguration().bindHost == AdminHTTPConfiguration.defaultBindHost)
        let exposed = AdminHTTPConfiguration(bindHost: "0.0.0.0", port: 0, token: SecretString(adminToken))
        #expect(exposed.readsNeedToken)
        #expect(throws: AdminHTTPConfigurationError.self) { try exposed.validate() }
    }
}
