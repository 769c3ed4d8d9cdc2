import CopyEngine
import FIXCore
import FIXSession
import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import CopyBridgeAgent

@Suite("copybridge ctl")
struct AdminControlTests {
    /// Writes `text` to a fresh directory inside the test's `folder` (so each file has its own
    /// neighbours, such as a token file) and returns the file's path.
    static func settingsFile(_ text: String, extra: [String: String] = [:], in folder: TestFolder) throws -> String {
        let directory = URL(fileURLWithPath: folder.path).appendingPathComponent("ctl-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, content) in extra {
            try content.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let path = directory.appendingPathComponent("sessions.conf").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let sessions = """
        [DEFAULT]
        ConnectionType=initiator
        FileStorePath=/somewhere/only/the/agent/has
        [SESSION]
        BeginString=FIX.4.4
        SenderCompID=CB
        TargetCompID=BROKER
        SocketConnectHost=10.0.0.1
        SocketConnectPort=9876
        UnknownToCtl=whatever
        [FOLLOWER]
        FollowerID=bob
        """

    @Test func onlyTheAdminBlockIsRead() throws {
        let folder = try TestFolder()
        let path = try Self.settingsFile(
            Self.sessions + "\n[ADMIN]   # the agent's HTTP server\nHttpPort=9123\nAdminTokenFile=token.txt\n",
            extra: ["token.txt": "  \(testToken)\n"], in: folder)
        let configuration = try AdminControl.configuration(file: path)
        #expect(configuration.port == 9123 && configuration.token?.revealed == testToken)
        #expect(configuration.bindHost == "127.0.0.1")
    }

    @Test func settingsProblemsNameTheFileAndLine() throws {
        let folder = try TestFolder()
        let badPort = try Self.settingsFile(
            Self.sessions + "\n[ADMIN]\nHttpPort=eighty\nAdminToken=\(testToken)\n", in: folder)
        #expect(throws: AdminControlError.self) { try AdminControl.configuration(file: badPort) }
        do {
            _ = try AdminControl.configuration(file: badPort)
        } catch {
            #expect(error.description.contains("\(badPort):14:"), "\(error)")
            #expect(error.description.contains("HttpPort"))
        }
        let noToken = try Self.settingsFile("[ADMIN]\nHttpPort=9123\n", in: folder)
        #expect(throws: AdminControlError.noToken(file: noToken)) { try AdminControl.configuration(file: noToken) }
        let noBlock = try Self.settingsFile(Self.sessions, in: folder)
        #expect(
            throws: AdminControlError.settings(
                "\(noBlock): no [ADMIN] block: the admin API needs one with AdminToken (or AdminTokenFile)")
        ) {
            try AdminControl.configuration(file: noBlock)
        }
        #expect(throws: AdminControlError.settings("/no/such/file.conf: settings file does not exist")) {
            try AdminControl.configuration(file: "/no/such/file.conf")
        }
    }

    @Test func aRoundTripPrintsTheResultAndTheState() async throws {
        let folder = try TestFolder()
        let sink = try EngineSinkFake.standard()
        sink.providerFill(side: "1", qty: 100_000)
        sink.fillOrders()
        let (paused, status, json) = try await withServer(
            source: FakeStateSource(await sink.snapshot()), handler: EngineAdminHandler(sink: sink)
        ) {
            port in
            let path = try Self.settingsFile("[ADMIN]\nHttpPort=\(port)\nAdminToken=\(testToken)\n", in: folder)
            let settings = try AdminControl.configuration(file: path)
            let paused = try await AdminControl.send(
                .pause(follower: "bob"), to: settings, file: path, actor: "ctl:ops", reason: "maintenance")
            let status = try await AdminControl.send(.status, to: settings, file: path, actor: "ctl:ops", reason: nil)
            return (paused, status, AdminControl.json(status))
        }
        let text = AdminControl.render(paused)
        #expect(text.hasPrefix("pause bob: applied — bob is paused\n  by ctl:ops@127.0.0.1 (maintenance)\n"))
        #expect(
            AdminControl.render(status).hasPrefix("status: unchanged — 0 of 1 follower(s) copying; no breaker tripped"))
        #expect(try AgentJSON.makeDecoder().decode(AdminResponse.self, from: Data(json.utf8)) == status)
    }

    @Test func theStateIsRenderedAsTables() throws {
        let snapshot = Fixture.snapshot(version: 1)
        let response = AdminResponse(
            command: "status", actor: "ctl:ops@127.0.0.1", reason: nil,
            result: AdminCommandResult(outcome: .unchanged, message: "all good"), state: snapshot)
        let text = AdminControl.render(response)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("FOLLOWER  STATE    SESSION   EQUITY    REALIZED  UNREALIZED  POSITIONS     REASON"))
        #expect(lines.contains("F1        active   ORDERS-B  10376.00  312.40    -41.15      EURUSD 50000"))
        #expect(
            lines.contains(
                "F2        tripped  ORDERS-B  4870.10   0.00      0.00        -             daily loss limit"))
        #expect(lines.contains { $0.hasPrefix("F2-daily-loss  TRIPPED  ") && $0.hasSuffix("daily loss limit") })
        #expect(lines.contains("ORDERS-B  connecting  orders     reconnecting in 5 s"))
    }

    @Test func errorsSayWhatToDo() async throws {
        let folder = try TestFolder()
        // A port nobody listens on: bound, then closed.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(
            host: "127.0.0.1", port: 0
        ).get()
        let closedPort = try #require(channel.localAddress?.port)
        try await channel.close()
        let path = try Self.settingsFile("[ADMIN]\nHttpPort=\(closedPort)\nAdminToken=\(testToken)\n", in: folder)
        let settings = try AdminControl.configuration(file: path)
        do {
            _ = try await AdminControl.send(.status, to: settings, file: path, actor: "ctl:ops", reason: nil)
            Issue.record("a closed port answered")
        } catch {
            guard case .notRunning(let address, _, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(address == "127.0.0.1:\(closedPort)")
            #expect(error.description.hasPrefix("the agent is not running at 127.0.0.1:\(closedPort) ("))
            #expect(
                error.description.hasSuffix(
                    "start it with `copybridge run --config \(path)`, or check HttpBindHost/HttpPort in [ADMIN] of \(path)"
                ))
        }

        let sink = try EngineSinkFake.standard()
        let (wrong, unknown) = try await withServer(
            source: FakeStateSource(await sink.snapshot()), handler: EngineAdminHandler(sink: sink)
        ) {
            port in
            let wrongPath = try Self.settingsFile(
                "[ADMIN]\nHttpPort=\(port)\nAdminToken=not-the-agents-token-42\n", in: folder)
            let rightPath = try Self.settingsFile("[ADMIN]\nHttpPort=\(port)\nAdminToken=\(testToken)\n", in: folder)
            var errors: [AdminControlError] = []
            for (path, command) in [(wrongPath, AdminCommand.status), (rightPath, .pause(follower: "zed"))] {
                do {
                    _ = try await AdminControl.send(
                        command, to: try AdminControl.configuration(file: path), file: path, actor: "ctl", reason: nil)
                } catch let error as AdminControlError {
                    errors.append(error)
                }
            }
            return (errors.first, errors.last)
        }
        #expect(
            wrong?.description.hasPrefix(
                "the agent refused the admin token (wrong admin token): AdminToken/AdminTokenFile in [ADMIN] of ")
                == true)
        #expect(unknown == .rejected(status: 404, message: "no follower 'zed'"))
        #expect(unknown?.description == "no follower 'zed'")
    }
}
