import CopyEngine
import FIXCore
import FIXSession
import Foundation
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Testing

@testable import CopyBridgeAgent

@Suite("Admin API on the engine")
struct AdminAPITests {
    @Test func commandsNeedTheTokenAndReachTheEngineWithThePeerInTheActor() async throws {
        let sink = try EngineSinkFake.standard()
        let handler = EngineAdminHandler(sink: sink)
        let source = FakeStateSource(Fixture.snapshot(version: 1))
        let body = Array(#"{"target":"bob","reason":"maintenance","actor":"ctl:alice"}"#.utf8)
        let (missing, wrong, right) = try await withServer(source: source, handler: handler) { port in
            (
                try await AdminClient(port: port, token: nil).request(
                    method: .POST, path: "/api/admin/pause", body: body),
                try await AdminClient(port: port, token: SecretString(testToken + "x"))
                    .request(method: .POST, path: "/api/admin/pause", body: body),
                try await AdminClient(port: port, token: SecretString(testToken))
                    .request(method: .POST, path: "/api/admin/pause", body: body)
            )
        }
        #expect(missing.status == 401 && wrong.status == 401 && right.status == 200)
        #expect(wrong.text.contains("wrong admin token"))
        #expect(sink.submitted == 1, "refused requests never reach the engine")
        let response = try AgentJSON.makeDecoder().decode(AdminResponse.self, from: Data(right.body))
        #expect(response.result.follower?.state == .paused)
        guard case .command(.pauseFollower("bob"), _, let actor, let reason) = sink.journal.last else {
            Issue.record("the command is not journaled")
            return
        }
        #expect(actor == "ctl:alice@127.0.0.1" && reason == "maintenance")
    }

    @Test func engineRefusalsAreHTTPErrors() async throws {
        let sink = try EngineSinkFake.standard()
        let source = FakeStateSource(Fixture.snapshot(version: 1))
        let (unknown, unknownBreaker) = try await withServer(source: source, handler: EngineAdminHandler(sink: sink)) {
            port in
            let client = AdminClient(port: port, token: SecretString(testToken))
            return (
                try await client.request(
                    method: .POST, path: "/api/admin/flatten", body: Array(#"{"target":"zed"}"#.utf8)),
                try await client.request(
                    method: .POST, path: "/api/admin/reset-breaker", body: Array(#"{"target":"zed"}"#.utf8))
            )
        }
        #expect(unknown.status == 404 && unknown.text.contains("no follower 'zed'"))
        #expect(unknownBreaker.status == 404 && unknownBreaker.text.contains("no circuit breaker 'zed'"))
    }

    /// Off loopback (TLS and a token are then required to start at all), reads need the token too,
    /// and the actor records the remote peer's address.
    @Test func fromARemoteAddressReadsAndCommandsNeedTheToken() async throws {
        guard let address = Self.nonLoopbackIPv4() else {
            print("skipping the remote-address test: this machine has no non-loopback IPv4 address")
            return
        }
        let folder = try TestFolder()
        guard let files = try TestCertificate.make(in: folder) else {
            print("skipping the remote-address test: openssl is not installed")
            return
        }
        let sink = try EngineSinkFake.standard()
        let served = AdminHTTPConfiguration(
            bindHost: address, port: 0, token: SecretString(testToken), tlsCertificateFile: files.certificate,
            tlsKeyFile: files.key)
        #expect(served.readsNeedToken)
        let source = FakeStateSource(await sink.snapshot())
        let results = try await withServer(served, source: source, handler: EngineAdminHandler(sink: sink)) { port in
            var configuration = served
            configuration.port = port
            var anonymousSettings = configuration
            anonymousSettings.token = nil
            let anonymous = try AdminClient(configuration: anonymousSettings)
            var wrongSettings = configuration
            wrongSettings.token = SecretString("wrong-token-0123456789")
            let wrong = try AdminClient(configuration: wrongSettings)
            let right = try AdminClient(configuration: configuration)
            return (
                state: try await anonymous.request(method: .GET, path: "/api/state"),
                metrics: try await anonymous.request(method: .GET, path: "/metrics"),
                anonymousCommand: try await anonymous.request(method: .POST, path: "/api/admin/status"),
                wrongCommand: try await wrong.request(method: .POST, path: "/api/admin/status"),
                authorizedState: try await right.request(method: .GET, path: "/api/state"),
                command: try await right.send(.resync, actor: "ctl:remote", reason: "test")
            )
        }
        #expect(results.state.status == 401 && results.metrics.status == 401)
        #expect(results.anonymousCommand.status == 401 && results.wrongCommand.status == 401)
        #expect(results.authorizedState.status == 200)
        #expect(results.command.actor == "ctl:remote@\(address)")
        #expect(sink.submitted == 1)
    }

    static func nonLoopbackIPv4() -> String? {
        guard let devices = try? System.enumerateDevices() else { return nil }
        for device in devices {
            guard let address = device.address, case .v4 = address, let ip = address.ipAddress,
                !AdminHTTPConfiguration.isLoopback(ip)
            else { continue }
            return ip
        }
        return nil
    }
}
