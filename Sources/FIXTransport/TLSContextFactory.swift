import NIOCore
import NIOSSL

/// What a session needs to speak FIX over TLS, in transport terms (file paths, not parsed keys).
///
/// Settings use QuickFIX C++'s key names or QuickFIX/Go's; both are normalised into this.
public struct TransportTLSOptions: Sendable, Equatable {
    /// How strictly the peer's certificate is checked.
    public enum Verification: Sendable, Equatable {
        /// No check at all (test setups only).
        case none
        /// The chain must verify against the trust roots; the host name is not checked.
        case chainOnly
        /// Chain and host name (clients) must verify.
        case full
    }

    /// Our certificate chain (PEM). Required for a server; for a client, a client certificate.
    public var certificateFile: String?
    /// The private key for `certificateFile` (PEM).
    public var privateKeyFile: String?
    /// Trust roots (PEM); the system's when absent.
    public var caFile: String?
    public var verification: Verification
    /// Whether an acceptor demands a client certificate.
    public var requireClientCertificate: Bool
    /// Whether an acceptor checks a client certificate that is presented without demanding one.
    public var verifyOptionalClientCertificate = false
    /// The name a client expects in the server's certificate (SNI and verification).
    public var serverName: String?
    /// The lowest protocol version accepted (1.2 by default).
    public var minimumVersion: TLSVersion
    /// The highest protocol version offered; the library's newest when `nil`.
    public var maximumVersion: TLSVersion? = nil
    /// OpenSSL cipher list, when set.
    public var cipherSuites: String?

    public init(
        certificateFile: String? = nil, privateKeyFile: String? = nil, caFile: String? = nil,
        verification: Verification = .full, requireClientCertificate: Bool = false, serverName: String? = nil,
        minimumVersion: TLSVersion = .tlsv12, cipherSuites: String? = nil
    ) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.caFile = caFile
        self.verification = verification
        self.requireClientCertificate = requireClientCertificate
        self.serverName = serverName
        self.minimumVersion = minimumVersion
        self.cipherSuites = cipherSuites
    }
}

/// A TLS set-up problem, naming the file or option at fault.
public struct TLSSetupError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Builds swift-nio-ssl contexts from ``TransportTLSOptions``.
public enum TLSContextFactory {
    /// A context for an acceptor.
    public static func serverContext(_ options: TransportTLSOptions) throws -> NIOSSLContext {
        guard let certFile = options.certificateFile, let keyFile = options.privateKeyFile else {
            throw TLSSetupError(description: "a TLS acceptor needs a certificate file and a private key file")
        }
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: try loadChain(certFile), privateKey: try loadKey(keyFile))
        config.minimumTLSVersion = options.minimumVersion
        config.maximumTLSVersion = options.maximumVersion
        if let ciphers = options.cipherSuites { config.cipherSuites = ciphers }
        if options.requireClientCertificate {
            config.certificateVerification = .noHostnameVerification
            config.trustRoots = try trustRoots(options.caFile)
        } else if options.verifyOptionalClientCertificate {
            config.certificateVerification = .optionalVerification
            config.trustRoots = try trustRoots(options.caFile)
        } else {
            config.certificateVerification = .none
        }
        return try makeContext(config)
    }

    /// A context for an initiator.
    public static func clientContext(_ options: TransportTLSOptions) throws -> NIOSSLContext {
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = options.minimumVersion
        config.maximumTLSVersion = options.maximumVersion
        if let ciphers = options.cipherSuites { config.cipherSuites = ciphers }
        config.trustRoots = try trustRoots(options.caFile)
        switch options.verification {
        case .none: config.certificateVerification = .none
        case .chainOnly: config.certificateVerification = .noHostnameVerification
        case .full: config.certificateVerification = .fullVerification
        }
        if let certFile = options.certificateFile {
            guard let keyFile = options.privateKeyFile else {
                throw TLSSetupError(description: "client certificate \(certFile) has no private key file")
            }
            config.certificateChain = try loadChain(certFile)
            config.privateKey = try loadKey(keyFile)
        }
        return try makeContext(config)
    }

    static func makeContext(_ config: TLSConfiguration) throws -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: config)
        } catch {
            throw TLSSetupError(description: "TLS configuration rejected: \(error)")
        }
    }

    static func trustRoots(_ caFile: String?) throws -> NIOSSLTrustRoots {
        guard let caFile else { return .default }
        do {
            return .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        } catch {
            throw TLSSetupError(description: "cannot read CA file \(caFile): \(error)")
        }
    }

    static func loadChain(_ path: String) throws -> [NIOSSLCertificateSource] {
        do {
            return try NIOSSLCertificate.fromPEMFile(path).map { .certificate($0) }
        } catch {
            throw TLSSetupError(description: "cannot read certificate file \(path): \(error)")
        }
    }

    static func loadKey(_ path: String) throws -> NIOSSLPrivateKeySource {
        do {
            return .privateKey(try NIOSSLPrivateKey(file: path, format: .pem))
        } catch {
            throw TLSSetupError(description: "cannot read private key file \(path): \(error)")
        }
    }
}
