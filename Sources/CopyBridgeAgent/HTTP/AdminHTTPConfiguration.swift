import FIXCore
import FIXSession
import Foundation
import NIOCore

extension SettingsBlockKind {
    /// The agent's HTTP face: metrics, dashboard, admin API, alert thresholds.
    public static let admin: SettingsBlockKind = "ADMIN"
}

/// Where the HTTP server listens and how it is protected, from the `[ADMIN]` block.
///
/// Loopback is the default and needs nothing; binding anywhere else needs TLS and a token
/// (``validate()``). The admin commands always need the token.
public struct AdminHTTPConfiguration: Sendable {
    public var bindHost: String
    /// `0` lets the system choose (tests).
    public var port: Int
    public var token: SecretString?
    public var tlsCertificateFile: String?
    public var tlsKeyFile: String?
    public var dashboardRefreshMs: Int
    /// Require the token for the dashboard, `/api/state` and `/metrics` on loopback too (always required
    /// off loopback).
    public var readsRequireToken: Bool
    public var alertThresholds: AlertThresholds

    public static let defaultBindHost = "127.0.0.1"
    public static let defaultPort = 8088
    /// Shorter tokens are refused: a bearer token is the only thing between the network and the orders.
    public static let minimumTokenLength = 16

    public init(
        bindHost: String = defaultBindHost, port: Int = defaultPort, token: SecretString? = nil,
        tlsCertificateFile: String? = nil, tlsKeyFile: String? = nil, dashboardRefreshMs: Int = 1000,
        readsRequireToken: Bool = false, alertThresholds: AlertThresholds = AlertThresholds()
    ) {
        self.bindHost = bindHost
        self.port = port
        self.token = token
        self.tlsCertificateFile = tlsCertificateFile
        self.tlsKeyFile = tlsKeyFile
        self.dashboardRefreshMs = dashboardRefreshMs
        self.readsRequireToken = readsRequireToken
        self.alertThresholds = alertThresholds
    }

    /// Whether ``bindHost`` only accepts connections from this machine.
    public var isLoopback: Bool { Self.isLoopback(bindHost) }

    /// Whether the dashboard, `/api/state` and `/metrics` ask for the token.
    public var readsNeedToken: Bool { readsRequireToken || !isLoopback }

    public var usesTLS: Bool { tlsCertificateFile != nil && tlsKeyFile != nil }

    /// `localhost`, `127.0.0.0/8`, `::1` (and IPv4-mapped loopback).
    public static func isLoopback(_ host: String) -> Bool {
        var host = host.trimmingCharacters(in: .whitespaces)
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.lowercased() == "localhost" { return true }
        guard let address = try? SocketAddress(ipAddress: host, port: 0) else { return false }
        switch address {
        case .v4(let v4):
            return UInt32(bigEndian: v4.address.sin_addr.s_addr) >> 24 == 127
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
            let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
            return mapped && bytes[12] == 127
        case .unixDomainSocket:
            return false
        }
    }

    /// Refuses what must not start: an exposed server without TLS or token, half a TLS setup, a weak token.
    public func validate() throws(AdminHTTPConfigurationError) {
        if let problem = problems(tokenGiven: token != nil).first { throw problem }
        if let token, token.revealed.count < Self.minimumTokenLength {
            throw .weakToken(minimumLength: Self.minimumTokenLength)
        }
    }

    /// The problems of the settings, by setting, shared by ``validate()`` and the settings check.
    func problems(tokenGiven: Bool) -> [AdminHTTPConfigurationError] {
        var problems: [AdminHTTPConfigurationError] = []
        switch (tlsCertificateFile, tlsKeyFile) {
        case (_?, nil): problems.append(.incompleteTLS(missing: Key.tlsKeyFile))
        case (nil, _?): problems.append(.incompleteTLS(missing: Key.tlsCertificateFile))
        case (_?, _?), (nil, nil): break
        }
        if !isLoopback {
            var missing: [String] = []
            if tlsCertificateFile == nil { missing.append(Key.tlsCertificateFile) }
            if tlsKeyFile == nil { missing.append(Key.tlsKeyFile) }
            if !tokenGiven { missing.append("\(Key.adminToken) (or \(Key.adminTokenFile))") }
            if !missing.isEmpty { problems.append(.exposedWithoutProtection(host: bindHost, missing: missing)) }
        } else if readsRequireToken && !tokenGiven {
            problems.append(.readsRequireTokenWithoutToken)
        }
        return problems
    }
}

/// Why the HTTP server refuses to start; each names the setting to change.
public enum AdminHTTPConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Bound off loopback with settings missing.
    case exposedWithoutProtection(host: String, missing: [String])
    /// A certificate without key or the reverse.
    case incompleteTLS(missing: String)
    case conflictingTokenSettings
    case weakToken(minimumLength: Int)
    /// `HttpReadsRequireToken=Y` without a token to require.
    case readsRequireTokenWithoutToken
    case unreadableFile(setting: String, path: String, reason: String)
    case emptyTokenFile(path: String)

    public var description: String {
        typealias Key = AdminHTTPConfiguration.Key
        switch self {
        case .exposedWithoutProtection(let host, let missing):
            return "[ADMIN] \(Key.bindHost)=\(host) is not a loopback address, so the HTTP server needs TLS and a "
                + "token; missing: \(missing.joined(separator: ", "))"
        case .incompleteTLS(let missing):
            return "[ADMIN] TLS needs both \(Key.tlsCertificateFile) and \(Key.tlsKeyFile); missing: \(missing)"
        case .conflictingTokenSettings:
            return "[ADMIN] set \(Key.adminToken) or \(Key.adminTokenFile), not both"
        case .weakToken(let minimumLength):
            return "[ADMIN] the admin token must be at least \(minimumLength) characters"
        case .readsRequireTokenWithoutToken:
            return "[ADMIN] \(Key.readsRequireToken)=Y needs \(Key.adminToken) (or \(Key.adminTokenFile))"
        case .unreadableFile(let setting, let path, let reason):
            return "[ADMIN] \(setting)=\(path) cannot be read: \(reason)"
        case .emptyTokenFile(let path):
            return "[ADMIN] \(Key.adminTokenFile)=\(path) is empty"
        }
    }
}

// MARK: - Settings

extension AdminHTTPConfiguration {
    /// The keys of the `[ADMIN]` block.
    public enum Key {
        public static let bindHost = "HttpBindHost"
        public static let port = "HttpPort"
        public static let adminToken = "AdminToken"
        public static let adminTokenFile = "AdminTokenFile"
        public static let tlsCertificateFile = "HttpTLSCertificateFile"
        public static let tlsKeyFile = "HttpTLSKeyFile"
        public static let readsRequireToken = "HttpReadsRequireToken"
        public static let dashboardRefreshMs = "DashboardRefreshMs"
        public static let alertLatencyP99Ms = "AlertLatencyP99Ms"
        public static let alertLatencyWindowSeconds = "AlertLatencyWindowSeconds"
        public static let alertFillRateMinPercent = "AlertFillRateMinPercent"
        public static let alertFillRateWindowSeconds = "AlertFillRateWindowSeconds"
        public static let alertErrorRateMaxPercent = "AlertErrorRateMaxPercent"
        public static let alertErrorRateWindowSeconds = "AlertErrorRateWindowSeconds"
        public static let alertMinimumSamples = "AlertMinimumSamples"
    }

    private static let a: Set<SettingsBlockKind> = [.admin]
    private static let windowSeconds: SettingValueType = .integer(5...86_400)

    /// The `[ADMIN]` keys: name, type, default and documentation.
    public static let settingKeys: [SettingKey] = [
        SettingKey(
            Key.bindHost, in: a, .host, default: defaultBindHost,
            doc: "Address the HTTP server listens on; anything but loopback needs TLS and a token."),
        SettingKey(Key.port, in: a, .port(allowsZero: true), default: "\(defaultPort)", doc: "HTTP port; 0 picks one."),
        SettingKey(
            Key.adminToken, in: a, .string, secret: true,
            doc: "Bearer token for the admin API (and every endpoint off loopback), at least 16 characters."),
        SettingKey(
            Key.adminTokenFile, in: a, .existingFile,
            doc: "File holding the admin token (surrounding whitespace ignored); instead of AdminToken."),
        SettingKey(
            Key.tlsCertificateFile, in: a, .existingFile,
            doc: "PEM certificate chain: serve HTTPS (with HttpTLSKeyFile)."),
        SettingKey(Key.tlsKeyFile, in: a, .existingFile, doc: "PEM private key of HttpTLSCertificateFile."),
        SettingKey(
            Key.readsRequireToken, in: a, .bool, default: "N",
            doc: "Ask for the token for the dashboard, /api/state and /metrics on loopback too (always off loopback)."),
        SettingKey(
            Key.dashboardRefreshMs, in: a, .integer(100...60_000), default: "1000",
            doc: "How often the dashboard polls the state, in milliseconds."),
        SettingKey(
            Key.alertLatencyP99Ms, in: a, .integer(1...600_000), default: "500",
            doc: "Alert when the tick-to-copy p99 over AlertLatencyWindowSeconds is above this (ms)."),
        SettingKey(
            Key.alertLatencyWindowSeconds, in: a, windowSeconds, default: "60",
            doc: "Window of the latency alert, in seconds."),
        SettingKey(
            Key.alertFillRateMinPercent, in: a, .decimal(FixedDecimal(0)...FixedDecimal(100)), default: "99",
            doc: "Alert when filled orders over finished orders in the window is below this percentage."),
        SettingKey(
            Key.alertFillRateWindowSeconds, in: a, windowSeconds, default: "300",
            doc: "Window of the fill-rate alert, in seconds."),
        SettingKey(
            Key.alertErrorRateMaxPercent, in: a, .decimal(FixedDecimal(0)...FixedDecimal(100)), default: "0.1",
            doc: "Alert when errors per order sent in the window is above this percentage."),
        SettingKey(
            Key.alertErrorRateWindowSeconds, in: a, windowSeconds, default: "300",
            doc: "Window of the error-rate alert, in seconds."),
        SettingKey(
            Key.alertMinimumSamples, in: a, .integer(1...1_000_000), default: "20",
            doc: "Fewest copies (latency) or orders (rates) in a window for its alert to be judged."),
    ]

    /// The `[ADMIN]` block kind, its keys, and the cross-key checks of ``validate()`` for `check-config`.
    public static let schema = SettingsSchema(
        blockKinds: [
            .init(
                .admin, maximumCount: 1,
                doc: "The HTTP server: Prometheus metrics, dashboard, admin API; alert thresholds.")
        ],
        keys: settingKeys,
        validators: [
            { configuration in
                guard let block = configuration.blocks(of: .admin).first else { return [] }
                var diagnostics: [SettingsDiagnostic] = []
                if block.contains(Key.adminToken) && block.contains(Key.adminTokenFile) {
                    diagnostics.append(
                        block.diagnostic(
                            for: Key.adminTokenFile, AdminHTTPConfigurationError.conflictingTokenSettings.description))
                }
                if let token = block.string(Key.adminToken), token.count < AdminHTTPConfiguration.minimumTokenLength {
                    diagnostics.append(
                        block.diagnostic(
                            for: Key.adminToken,
                            AdminHTTPConfigurationError.weakToken(
                                minimumLength: AdminHTTPConfiguration.minimumTokenLength
                            ).description))
                }
                let settings = AdminHTTPConfiguration(unreadBlock: block)
                let tokenGiven = block.contains(Key.adminToken) || block.contains(Key.adminTokenFile)
                for problem in settings.problems(tokenGiven: tokenGiven) {
                    let key: String
                    switch problem {
                    case .incompleteTLS(let missing): key = missing
                    case .readsRequireTokenWithoutToken: key = Key.readsRequireToken
                    case .exposedWithoutProtection, .conflictingTokenSettings, .weakToken, .unreadableFile,
                        .emptyTokenFile:
                        key = Key.bindHost
                    }
                    diagnostics.append(block.diagnostic(for: key, problem.description))
                }
                return diagnostics
            }
        ])

    /// The settings of an `[ADMIN]` block (defaults when the file has none), with the token file read.
    /// Does not ``validate()``: the server does that when it starts.
    public init(block: SettingsBlock?) throws(AdminHTTPConfigurationError) {
        guard let block else {
            self.init()
            return
        }
        self.init(unreadBlock: block)
        if let path = block.string(Key.adminTokenFile) {
            if block.contains(Key.adminToken) { throw .conflictingTokenSettings }
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw .unreadableFile(setting: Key.adminTokenFile, path: path, reason: "\(error.localizedDescription)")
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw .emptyTokenFile(path: path) }
            token = SecretString(trimmed)
        }
    }

    /// The block's values without touching files (the token file is not read).
    init(unreadBlock block: SettingsBlock) {
        var thresholds = AlertThresholds()
        func seconds(_ key: String) -> Duration? { block.integer(key).map { .seconds($0) } }
        func fraction(_ key: String) -> Double? { block.decimal(key).map { $0.doubleValue / 100 } }
        if let ms = block.integer(Key.alertLatencyP99Ms) { thresholds.latencyP99Limit = .milliseconds(ms) }
        if let window = seconds(Key.alertLatencyWindowSeconds) { thresholds.latencyWindow = window }
        if let floor = fraction(Key.alertFillRateMinPercent) { thresholds.fillRateFloor = floor }
        if let window = seconds(Key.alertFillRateWindowSeconds) { thresholds.fillRateWindow = window }
        if let ceiling = fraction(Key.alertErrorRateMaxPercent) { thresholds.errorRateCeiling = ceiling }
        if let window = seconds(Key.alertErrorRateWindowSeconds) { thresholds.errorRateWindow = window }
        if let minimum = block.integer(Key.alertMinimumSamples) {
            thresholds.latencyMinimumSamples = minimum
            thresholds.fillRateMinimumOrders = minimum
            thresholds.errorRateMinimumOrders = minimum
        }
        self.init(
            bindHost: block.string(Key.bindHost) ?? Self.defaultBindHost,
            port: block.integer(Key.port) ?? Self.defaultPort,
            token: block.string(Key.adminToken).map(SecretString.init),
            tlsCertificateFile: block.string(Key.tlsCertificateFile),
            tlsKeyFile: block.string(Key.tlsKeyFile),
            dashboardRefreshMs: block.integer(Key.dashboardRefreshMs) ?? 1000,
            readsRequireToken: block.bool(Key.readsRequireToken) ?? false,
            alertThresholds: thresholds)
    }
}
