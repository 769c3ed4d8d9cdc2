import FIXCore
import FIXSession
import Foundation
import Testing

@testable import CopyBridgeAgent

@Suite("Admin settings and commands")
struct AdminConfigurationTests {
    private func parse(_ text: String, files: Set<String> = []) throws(SettingsError) -> CopyBridgeConfiguration {
        try CopyBridgeConfiguration.parse(
            text, file: "test.conf", baseDirectory: "/etc/copybridge", schema: AdminHTTPConfiguration.schema,
            fileExists: { files.contains($0) })
    }

    @Test func loopbackAddresses() {
        for host in ["127.0.0.1", "127.9.8.7", "localhost", "LOCALHOST", "::1", "[::1]", "::ffff:127.0.0.1"] {
            #expect(AdminHTTPConfiguration.isLoopback(host), "\(host)")
        }
        for host in ["0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "::2", "example.com", "128.0.0.1", ""] {
            #expect(!AdminHTTPConfiguration.isLoopback(host), "\(host)")
        }
    }

    @Test func defaultsAreLoopbackAndValid() throws {
        let configuration = try AdminHTTPConfiguration(block: nil)
        #expect(configuration.bindHost == "127.0.0.1")
        #expect(configuration.port == 8088)
        #expect(configuration.isLoopback)
        #expect(!configuration.readsNeedToken)
        #expect(configuration.alertThresholds == AlertThresholds())
        try configuration.validate()
    }

    @Test func validationNamesWhatIsMissing() {
        #expect(throws: AdminHTTPConfigurationError.incompleteTLS(missing: "HttpTLSKeyFile")) {
            try AdminHTTPConfiguration(tlsCertificateFile: "/c.pem").validate()
        }
        #expect(throws: AdminHTTPConfigurationError.weakToken(minimumLength: 16)) {
            try AdminHTTPConfiguration(token: SecretString("short")).validate()
        }
        #expect(throws: AdminHTTPConfigurationError.readsRequireTokenWithoutToken) {
            try AdminHTTPConfiguration(readsRequireToken: true).validate()
        }
        let exposed = AdminHTTPConfiguration(
            bindHost: "0.0.0.0", token: SecretString(testToken), tlsCertificateFile: "/c.pem", tlsKeyFile: "/k.pem")
        #expect(throws: Never.self) { try exposed.validate() }
        #expect(exposed.readsNeedToken)
    }

    @Test func adminBlockIsRead() throws {
        let configuration = try parse(
            """
            [ADMIN]
            HttpBindHost=0.0.0.0
            HttpPort=9100
            AdminToken=\(testToken)
            HttpTLSCertificateFile=tls/cert.pem
            HttpTLSKeyFile=tls/key.pem
            DashboardRefreshMs=2500
            AlertLatencyP99Ms=250
            AlertLatencyWindowSeconds=30
            AlertFillRateMinPercent=98.5
            AlertFillRateWindowSeconds=600
            AlertErrorRateMaxPercent=0.5
            AlertErrorRateWindowSeconds=120
            AlertMinimumSamples=50
            """, files: ["/etc/copybridge/tls/cert.pem", "/etc/copybridge/tls/key.pem"])
        let settings = try AdminHTTPConfiguration(block: configuration.blocks(of: .admin).first)
        #expect(settings.bindHost == "0.0.0.0")
        #expect(settings.port == 9100)
        #expect(settings.token?.revealed == testToken)
        #expect(settings.tlsCertificateFile == "/etc/copybridge/tls/cert.pem")
        #expect(settings.tlsKeyFile == "/etc/copybridge/tls/key.pem")
        #expect(settings.dashboardRefreshMs == 2500)
        var expected = AlertThresholds()
        expected.latencyP99Limit = .milliseconds(250)
        expected.latencyWindow = .seconds(30)
        expected.fillRateFloor = 0.985
        expected.fillRateWindow = .seconds(600)
        expected.errorRateCeiling = 0.005
        expected.errorRateWindow = .seconds(120)
        expected.latencyMinimumSamples = 50
        expected.fillRateMinimumOrders = 50
        expected.errorRateMinimumOrders = 50
        #expect(settings.alertThresholds == expected)
        try settings.validate()
        // The token is a secret: printing the block masks it.
        #expect(!configuration.blocks(of: .admin)[0].description.contains(testToken))
    }

    @Test func checkConfigReportsAnExposedServer() {
        let error = #expect(throws: SettingsError.self) {
            try parse(
                """
                [ADMIN]
                HttpBindHost=0.0.0.0
                AdminToken=\(testToken)
                """)
        }
        let messages = error?.errors.map(\.message) ?? []
        #expect(
            messages == [
                "[ADMIN] HttpBindHost=0.0.0.0 is not a loopback address, so the HTTP server needs TLS and a token; "
                    + "missing: HttpTLSCertificateFile, HttpTLSKeyFile"
            ])
        #expect(error?.errors.first?.location.line == 2)
    }

    @Test func checkConfigReportsTokenProblems() {
        let error = #expect(throws: SettingsError.self) {
            try parse(
                """
                [ADMIN]
                AdminToken=tiny
                AdminTokenFile=/run/secrets/token
                """, files: ["/run/secrets/token"])
        }
        let messages = error?.errors.map(\.message) ?? []
        #expect(messages.contains("[ADMIN] set AdminToken or AdminTokenFile, not both"))
        #expect(messages.contains("[ADMIN] the admin token must be at least 16 characters"))
    }

    @Test func tokenFileIsRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("copybridge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token").path
        try "  \(testToken)\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let emptyFile = directory.appendingPathComponent("empty").path
        try "\n".write(toFile: emptyFile, atomically: true, encoding: .utf8)

        let configuration = try parse("[ADMIN]\nAdminTokenFile=\(tokenFile)\n", files: [tokenFile])
        let settings = try AdminHTTPConfiguration(block: configuration.blocks(of: .admin).first)
        #expect(settings.token?.revealed == testToken)

        let empty = try parse("[ADMIN]\nAdminTokenFile=\(emptyFile)\n", files: [emptyFile])
        #expect(throws: AdminHTTPConfigurationError.emptyTokenFile(path: emptyFile)) {
            try AdminHTTPConfiguration(block: empty.blocks(of: .admin).first)
        }
    }

    @Test func settingKeysAreDocumented() {
        let names = AdminHTTPConfiguration.settingKeys.map(\.name)
        for key in [
            "HttpBindHost", "HttpPort", "AdminToken", "AdminTokenFile", "HttpTLSCertificateFile", "HttpTLSKeyFile",
            "DashboardRefreshMs",
        ] {
            #expect(names.contains(key))
        }
        #expect(AdminHTTPConfiguration.settingKeys.allSatisfy { !$0.doc.isEmpty })
        #expect(AdminHTTPConfiguration.settingKeys.first { $0.name == "AdminToken" }?.isSecret == true)
        #expect(AdminHTTPConfiguration.schema.markdownReference().contains("| `HttpBindHost` | host | `127.0.0.1` |"))
    }

    @Test func commandsFromTypedWords() throws {
        #expect(try AdminCommand(arguments: ["status"]) == .status)
        #expect(try AdminCommand(arguments: ["pause", "F1"]) == .pause(follower: "F1"))
        #expect(try AdminCommand(arguments: ["resume", "F1"]) == .resume(follower: "F1"))
        #expect(try AdminCommand(arguments: ["disable", "P1"]) == .disable(provider: "P1", flatten: false))
        #expect(try AdminCommand(arguments: ["disable", "P1", "flatten"]) == .disable(provider: "P1", flatten: true))
        #expect(try AdminCommand(arguments: ["enable", "P1"]) == .enable(provider: "P1"))
        #expect(try AdminCommand(arguments: ["flatten", "F1"]) == .flatten(follower: "F1"))
        #expect(try AdminCommand(arguments: ["reset-breaker", "F1-daily"]) == .resetBreaker(name: "F1-daily"))
        #expect(try AdminCommand(arguments: ["resync"]) == .resync)
        #expect(AdminCommand.disable(provider: "P1", flatten: true).description == "disable P1 flatten")

        #expect(throws: AdminCommandParseError.missingTarget(command: "pause", kind: "FOLLOWER")) {
            try AdminCommand(arguments: ["pause"])
        }
        #expect(throws: AdminCommandParseError.unexpectedArgument(command: "status", argument: "now")) {
            try AdminCommand(arguments: ["status", "now"])
        }
        #expect(throws: AdminCommandParseError.unexpectedArgument(command: "pause", argument: "flatten")) {
            try AdminCommand(arguments: ["pause", "F1", "flatten"])
        }
        #expect(throws: AdminCommandParseError.unknownCommand("halt")) {
            try AdminCommand(arguments: ["halt"])
        }
    }

    @Test func tokenComparison() {
        let token = AccessToken(SecretString(testToken))
        #expect(token.matches(testToken))
        #expect(!token.matches(""))
        #expect(!token.matches(testToken.dropLast()))
        #expect(!token.matches(testToken + "x"))
        #expect(!token.matches(testToken.uppercased()))
        #expect(AccessToken.bearer(fromAuthorization: "Bearer abc") == "abc")
        #expect(AccessToken.bearer(fromAuthorization: "bearer   abc") == "abc")
        #expect(AccessToken.bearer(fromAuthorization: "Basic abc") == nil)
        #expect(AccessToken.bearer(fromAuthorization: "Bearer") == nil)
    }
}
