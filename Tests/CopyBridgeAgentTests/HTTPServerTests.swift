import FIXCore
import FIXSession
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Prometheus
import Testing

@testable import CopyBridgeAgent

@Suite("HTTP server")
struct HTTPServerTests {
    @Test func metricsEndpointServesThePrometheusText() async throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = CopyBridgeMetrics(factory: CopyBridgeMetrics.makePrometheusFactory(registry: registry))
        metrics.recordOrderSent(session: "ORD")
        metrics.updateSession("ORD", state: .loggedOn, nextSenderSeqNum: 3, nextTargetSeqNum: 4)
        metrics.evaluateAlerts()
        let source = FakeStateSource(Fixture.snapshot(version: 1))
        let result = try await withServer(source: source, registry: registry) { port in
            try await AdminClient(port: port, token: nil).request(method: .GET, path: "/metrics")
        }
        #expect(result.status == 200)
        #expect(result.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(result.text.contains(#"copybridge_orders_total{session="ORD"} 1"#))
        #expect(result.text.contains(#"copybridge_session_next_target_seqnum{session="ORD"} 4"#))
        #expect(result.text.contains(#"copybridge_alert_active{alert="fill_rate"} 0"#))
    }

    @Test func stateEndpointServesTheSnapshot() async throws {
        let snapshot = Fixture.snapshot(version: 3)
        let source = FakeStateSource(snapshot)
        let (raw, decoded) = try await withServer(source: source) { port in
            let client = AdminClient(port: port, token: nil)
            return (try await client.request(method: .GET, path: "/api/state"), try await client.state())
        }
        #expect(raw.status == 200)
        #expect(raw.header("Content-Type") == "application/json; charset=utf-8")
        #expect(raw.header("Cache-Control") == "no-store")
        #expect(decoded == snapshot)
        // Exact decimals are JSON strings; dates are ISO 8601 with milliseconds.
        #expect(raw.text.contains(#""equity":"10626.50""#))
        #expect(raw.text.contains(#""startedAt":"2025-10-09T08:53:20.000Z""#))
    }

    @Test func dashboardPageIsServed() async throws {
        let source = FakeStateSource(Fixture.snapshot(version: 1))
        let (page, faster) = try await withServer(source: source) { port in
            let client = AdminClient(port: port, token: nil)
            return (
                try await client.request(method: .GET, path: "/"),
                try await client.request(method: .GET, path: "/?refresh=250")
            )
        }
        #expect(page.status == 200)
        #expect(page.header("Content-Type") == "text/html; charset=utf-8")
        #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
        #expect(page.text.contains("<title>CopyBridge</title>"))
        #expect(page.text.contains("const DEFAULT_REFRESH_MS = 1000;"))
        #expect(faster.text.contains("const DEFAULT_REFRESH_MS = 250;"))
        // Self-contained: nothing fetched from elsewhere.
        let withoutSVGNamespace = page.text.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
        #expect(!withoutSVGNamespace.contains("http://") && !withoutSVGNamespace.contains("https://"))
    }

    @Test func adminCommandsNeedTheBearerToken() async throws {
        let source = FakeStateSource(Fixture.snapshot(version: 1))
        let handler = FakeCommandHandler(source: source)
        let (missing, wrong, prefix, cookieOnly) = try await withServer(source: source, handler: handler) { port in
            (
                try await AdminClient(port: port, token: nil).request(method: .POST, path: "/api/admin/status"),
                try await AdminClient(port: port, token: SecretString("x" + testToken))
                    .request(method: .POST, path: "/api/admin/status"),
                try await AdminClient(port: port, token: SecretString(String(testToken.dropLast())))
                    .request(method: .POST, path: "/api/admin/status"),
                try await AdminClient(port: port, token: nil).request(
                    method: .POST, path: "/api/admin/status", headers: [("Cookie", "copybridge_token=\(testToken)")])
            )
        }
        for result in [missing, wrong, prefix, cookieOnly] {
            #expect(result.status == 401)
            #expect(result.header("WWW-Authenticate") == #"Bearer realm="copybridge""#)
        }
        #expect(missing.text.contains("Authorization: Bearer"))
        #expect(wrong.text.contains("wrong admin token"))
        #expect(handler.calls.isEmpty)
    }

    @Test func adminCommandAnswersWithTheResultingState() async throws {
        let source = FakeStateSource(Fixture.snapshot(version: 1))
        let handler = FakeCommandHandler(source: source)
        let response = try await withServer(source: source, handler: handler) { port in
            try await AdminClient(port: port, token: SecretString(testToken))
                .send(.pause(follower: "F1"), actor: "ctl:alice", reason: "broker maintenance")
        }
        #expect(response.command == "pause F1")
        #expect(response.actor == "ctl:alice@127.0.0.1")
        #expect(response.reason == "broker maintenance")
        #expect(response.result.outcome == .applied)
        #expect(response.result.follower?.state == .paused)
        #expect(response.state.followers.first { $0.id == "F1" }?.state == .paused)
        #expect(response.state.followers.first { $0.id == "F1" }?.reason == "broker maintenance")
        #expect(
            handler.calls == [
                .init(command: .pause(follower: "F1"), actor: "ctl:alice@127.0.0.1", reason: "broker maintenance")
            ])
    }

    @Test func everyCommandReachesTheHandler() async throws {
        let source = FakeStateSource(Fixture.snapshot(version: 1))
        let handler = FakeCommandHandler(source: source)
        let commands: [AdminCommand] = [
            .status, .pause(follower: "F1"), .resume(follower: "F1"), .disable(provider: "P1", flatten: true),
            .enable(provider: "P1"), .flatten(follower: "F1"), .resync,
        ]
        let responses = try await withServer(source: source, handler: handler) { port in
            let client = AdminClient(port: port, token: SecretString(testToken))
            var responses: [AdminResponse] = []
            for command in commands { responses.append(try await client.send(command, actor: "test")) }
            return responses
        }
        #expect(handler.calls.map(\.command) == commands)
        #expect(responses.map(\.command) == commands.map(\.description))
        #expect(responses[3].result.provider?.state == .disabled)
        #expect(responses[4].state.providers.first?.state == .active)
    }

    @Test func adminErrorsAreClearJSON() async throws {
        let source = FakeStateSource(Fixture.snapshot(version: 1))
        let results = try await withServer(source: source) { port in
            let client = AdminClient(port: port, token: SecretString(testToken))
            return [
                try await client.request(
                    method: .POST, path: "/api/admin/pause", body: Array(#"{"target":"NOPE"}"#.utf8)),
                try await client.request(method: .POST, path: "/api/admin/pause"),
                try await client.request(method: .POST, path: "/api/admin/explode"),
                try await client.request(method: .POST, path: "/api/admin/status", body: Array("not json".utf8)),
                try await client.request(
                    method: .POST, path: "/api/admin/reset-breaker", body: Array(#"{"target":"B"}"#.utf8)),
                try await client.request(
                    method: .POST, path: "/api/admin/resume", body: Array(#"{"target":"F1","flatten":true}"#.utf8)),
            ]
        }
        let errors = results.map { try? JSONDecoder().decode(APIErrorBody.self, from: Data($0.body)) }
        #expect(results.map(\.status) == [404, 400, 404, 400, 409, 400])
        #expect(errors[0]?.error == "no follower 'NOPE'")
        #expect(errors[1]?.error == "'pause' needs a FOLLOWER")
        #expect(errors[2]?.error.hasPrefix("unknown command 'explode'") == true)
        #expect(errors[3]?.error.hasPrefix("the body is not an admin request") == true)
        #expect(errors[4]?.error == "breaker B is not tripped")
        #expect(errors[5]?.error == "'resume' does not take 'flatten'")
    }

    @Test func withoutATokenTheAdminAPIIsClosed() async throws {
        let source = FakeStateSource(Fixture.snapshot(version: 1))
        let handler = FakeCommandHandler(source: source)
        let (admin, state) = try await withServer(
            AdminHTTPConfiguration(port: 0), source: source, handler: handler
        ) { port in
            let client = AdminClient(port: port, token: SecretString(testToken))
            return (
                try await client.request(method: .POST, path: "/api/admin/status"),
                try await client.request(method: .GET, path: "/api/state")
            )
        }
        #expect(admin.status == 401)
        #expect(admin.text.contains("set AdminToken or AdminTokenFile in [ADMIN]"))
        #expect(state.status == 200)
        #expect(handler.calls.isEmpty)
    }

    @Test func readsCanRequireTheToken() async throws {
        let source = FakeStateSource(Fixture.snapshot(version: 1))
        let configuration = AdminHTTPConfiguration(port: 0, token: SecretString(testToken), readsRequireToken: true)
        let results = try await withServer(configuration, source: source) { port in
            let anonymous = AdminClient(port: port, token: nil)
            let bearer = AdminClient(port: port, token: SecretString(testToken))
            let escaped = testToken.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            return [
                try await anonymous.request(method: .GET, path: "/api/state"),
                try await anonymous.request(method: .GET, path: "/metrics"),
                try await anonymous.request(method: .GET, path: "/"),
                try await bearer.request(method: .GET, path: "/api/state"),
                try await bearer.request(method: .GET, path: "/metrics"),
                try await anonymous.request(
                    method: .GET, path: "/", headers: [("Cookie", "copybridge_token=\(escaped)")]),
                try await anonymous.request(
                    method: .GET, path: "/api/state", headers: [("Cookie", "copybridge_token=wrong")]),
                try await anonymous.request(method: .GET, path: "/healthz"),
            ]
        }
        #expect(results.map(\.status) == [401, 401, 401, 200, 200, 200, 401, 200])
        // The page without the token is the sign-in form, not the dashboard.
        #expect(results[2].text.contains("id=\"sign-in\""))
        #expect(!results[2].text.contains("api/state"))
        #expect(results[5].text.contains("const DEFAULT_REFRESH_MS"))
    }

    @Test func refusesToBindOffLoopbackWithoutTLSAndToken() throws {
        let source = FakeStateSource(Fixture.snapshot(version: 1))
        func start(_ configuration: AdminHTTPConfiguration) throws(AdminHTTPConfigurationError) {
            _ = try AgentHTTPServer(
                configuration: configuration, stateSource: source, commandHandler: FakeCommandHandler(source: source),
                registry: PrometheusCollectorRegistry())
        }
        #expect(
            throws: AdminHTTPConfigurationError.exposedWithoutProtection(
                host: "0.0.0.0",
                missing: ["HttpTLSCertificateFile", "HttpTLSKeyFile", "AdminToken (or AdminTokenFile)"])
        ) {
            try start(AdminHTTPConfiguration(bindHost: "0.0.0.0", port: 0))
        }
        #expect(
            throws: AdminHTTPConfigurationError.exposedWithoutProtection(
                host: "10.1.2.3", missing: ["HttpTLSCertificateFile", "HttpTLSKeyFile"])
        ) {
            try start(AdminHTTPConfiguration(bindHost: "10.1.2.3", port: 0, token: SecretString(testToken)))
        }
        #expect(
            throws: AdminHTTPConfigurationError.exposedWithoutProtection(
                host: "::", missing: ["AdminToken (or AdminTokenFile)"])
        ) {
            try start(
                AdminHTTPConfiguration(bindHost: "::", port: 0, tlsCertificateFile: "/c.pem", tlsKeyFile: "/k.pem"))
        }
        let error = #expect(throws: AdminHTTPConfigurationError.self) {
            try start(AdminHTTPConfiguration(bindHost: "0.0.0.0", port: 0))
        }
        #expect(
            error?.description
                == "[ADMIN] HttpBindHost=0.0.0.0 is not a loopback address, so the HTTP server needs TLS and a token; "
                + "missing: HttpTLSCertificateFile, HttpTLSKeyFile, AdminToken (or AdminTokenFile)")
        // With everything set, it is the certificate files that are checked next.
        #expect(throws: AdminHTTPConfigurationError.self) {
            try start(
                AdminHTTPConfiguration(
                    bindHost: "0.0.0.0", port: 0, token: SecretString(testToken),
                    tlsCertificateFile: "/nonexistent/cert.pem", tlsKeyFile: "/nonexistent/key.pem"))
        }
    }

    @Test func servesHTTPSWithTheConfiguredCertificate() async throws {
        let folder = try TestFolder()
        guard let files = try TestCertificate.make(in: folder) else {
            print("skipping the TLS test: openssl is not installed")
            return
        }
        let source = FakeStateSource(Fixture.snapshot(version: 2))
        let configuration = AdminHTTPConfiguration(
            port: 0, token: SecretString(testToken), tlsCertificateFile: files.certificate, tlsKeyFile: files.key)
        let (state, plain) = try await withServer(configuration, source: source) { port in
            var settings = configuration
            settings.port = port
            let state = try await AdminClient(configuration: settings).state()
            // Plain HTTP to the TLS port gets no answer.
            let plain = await #expect(throws: (any Error).self) {
                try await AdminClient(port: port, token: nil, timeout: .seconds(5)).request(
                    method: .GET, path: "/api/state")
            }
            return (state, plain != nil)
        }
        #expect(state == Fixture.snapshot(version: 2))
        #expect(plain)
    }
}

/// A self-signed certificate made with the openssl command line, or `nil` when it is not installed.
enum TestCertificate {
    /// Writes the certificate and its key into the test's `folder`, which removes them with itself.
    static func make(in folder: TestFolder) throws -> (certificate: String, key: String)? {
        let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/opt/homebrew/bin/openssl"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let openssl else { return nil }
        let certificate = folder.path + "/cert.pem"
        let key = folder.path + "/key.pem"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", key, "-out", certificate,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestCertificateError.opensslFailed(process.terminationStatus)
        }
        return (certificate, key)
    }

    enum TestCertificateError: Error {
        case opensslFailed(Int32)
    }
}
