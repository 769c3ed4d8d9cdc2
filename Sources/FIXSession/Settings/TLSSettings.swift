/// A TLS protocol version.
public enum TLSVersion: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case v1_0 = 10
    case v1_1 = 11
    case v1_2 = 12
    case v1_3 = 13

    public var description: String {
        switch self {
        case .v1_0: return "TLSv1"
        case .v1_1: return "TLSv1.1"
        case .v1_2: return "TLSv1.2"
        case .v1_3: return "TLSv1.3"
        }
    }

    public static func < (lhs: TLSVersion, rhs: TLSVersion) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// How a session's TLS connection is set up, whichever QuickFIX spelling the file used.
///
/// QuickFIX C++ names files by role (`ClientCertificateFile` for initiators, `ServerCertificateFile` for
/// acceptors); QuickFIX/Go has one name for both (`SocketCertificateFile`). Both land here, already
/// chosen for the session's role. Every path is absolute and existed when the file was loaded.
public struct TLSSettings: Sendable, Hashable, CustomStringConvertible {
    /// Whether and how the peer's certificate is checked.
    public enum PeerVerification: Sendable, Hashable {
        /// Nothing is checked (QuickFIX `CertificateVerifyLevel=0`).
        case none
        /// The peer must present a certificate that chains to the trust roots; an initiator also checks
        /// that it names ``TLSSettings/serverName`` (or the host connected to).
        case required
        /// Acceptors only: a client certificate is checked when one is presented, but none is needed.
        case optional
    }

    /// Our certificate chain (PEM): the client certificate of an initiator, the server certificate of an
    /// acceptor; `nil` for an initiator that presents none.
    public var certificateFile: String?
    /// The private key (PEM) of ``certificateFile``; the certificate file itself when QuickFIX C++'s
    /// combined form is used (no key file given).
    public var privateKeyFile: String?
    /// The certificates to trust (PEM); `nil`: the system's trust store.
    public var trustRootsFile: String?
    public var peerVerification: PeerVerification
    /// Initiators: the name sent in SNI and checked in the server's certificate; `nil`: the host
    /// connected to.
    public var serverName: String?
    public var minimumVersion: TLSVersion
    /// `nil`: the newest the TLS library offers.
    public var maximumVersion: TLSVersion?
    /// An OpenSSL cipher list for TLS 1.2 and earlier (`SSLCipherSuite`); `nil`: the library's defaults.
    public var cipherSuites: String?
    /// TLS 1.3 cipher suites (`TLSCipherSuites`); `nil`: the library's defaults.
    public var tls13CipherSuites: String?

    public init(
        certificateFile: String? = nil, privateKeyFile: String? = nil, trustRootsFile: String? = nil,
        peerVerification: PeerVerification = .required, serverName: String? = nil, minimumVersion: TLSVersion = .v1_2,
        maximumVersion: TLSVersion? = nil, cipherSuites: String? = nil, tls13CipherSuites: String? = nil
    ) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.trustRootsFile = trustRootsFile
        self.peerVerification = peerVerification
        self.serverName = serverName
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
        self.cipherSuites = cipherSuites
        self.tls13CipherSuites = tls13CipherSuites
    }

    public var description: String {
        var parts = ["\(minimumVersion)+"]
        if let maximumVersion { parts[0] = "\(minimumVersion)...\(maximumVersion)" }
        if let certificateFile { parts.append("certificate \(certificateFile)") }
        parts.append(trustRootsFile.map { "trust \($0)" } ?? "system trust")
        switch peerVerification {
        case .none: parts.append("peer not verified")
        case .required: parts.append("peer verified")
        case .optional: parts.append("peer verified if presented")
        }
        if let serverName { parts.append("server name \(serverName)") }
        return "TLS(" + parts.joined(separator: ", ") + ")"
    }
}
