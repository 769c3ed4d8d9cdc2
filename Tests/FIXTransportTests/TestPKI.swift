import Foundation
import TestSupport
import Testing

/// Throwaway certificates made with the openssl command line: a CA, a server certificate for
/// `localhost` and 127.0.0.1, a client certificate, and a second, unrelated CA.
struct TestPKI: Sendable {
    let directory: URL
    var caFile: String { path("ca.pem") }
    var serverCertificate: String { path("server.pem") }
    var serverKey: String { path("server.key") }
    var clientCertificate: String { path("client.pem") }
    var clientKey: String { path("client.key") }
    var otherCAFile: String { path("other-ca.pem") }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// One set per test process, shared by every TLS test in it; removed when the process exits,
    /// since no single test knows it is the last one to use it.
    static let shared: Result<TestPKI, any Error> = Result {
        let pki = try make()
        atexit {
            if case .success(let pki) = TestPKI.shared { try? FileManager.default.removeItem(at: pki.directory) }
        }
        return pki
    }

    static func get() throws -> TestPKI { try shared.get() }

    struct OpenSSLError: Error, CustomStringConvertible {
        let description: String
    }

    static func make() throws -> TestPKI {
        guard let openssl = findExecutable(["/usr/bin/openssl", "/usr/local/bin/openssl", "/opt/homebrew/bin/openssl"])
        else { throw OpenSSLError(description: "the openssl command is not installed") }
        let dir = try makeTemporaryDirectory("copybridge-pki")
        do {
            try makeFiles(in: dir, openssl: openssl)
        } catch {
            // Nothing retries into a half-made set, and the exit hook only knows a finished one.
            try? FileManager.default.removeItem(at: dir)
            throw error
        }
        return TestPKI(directory: dir)
    }

    private static func makeFiles(in dir: URL, openssl: String) throws {
        func run(_ args: [String]) throws {
            let (status, output) = try runProgram(openssl, args, in: dir)
            guard status == 0 else {
                throw OpenSSLError(description: "openssl \(args.joined(separator: " ")) failed: \(output)")
            }
        }
        func key(_ name: String) throws {
            try run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name])
        }
        func ca(_ name: String, _ cn: String) throws {
            try key("\(name).key")
            try run([
                "req", "-x509", "-new", "-key", "\(name).key", "-out", "\(name).pem", "-days", "3", "-subj",
                "/CN=\(cn)",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        }
        func leaf(_ name: String, cn: String, usage: String, san: String, serial: Int) throws {
            try key("\(name).key")
            try run(["req", "-new", "-key", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(cn)"])
            let ext = """
                basicConstraints=CA:FALSE
                keyUsage=critical,digitalSignature
                extendedKeyUsage=\(usage)
                subjectAltName=\(san)

                """
            try ext.write(to: dir.appendingPathComponent("\(name).ext"), atomically: true, encoding: .utf8)
            try run([
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "\(serial)",
                "-days", "3", "-out", "\(name).pem", "-extfile", "\(name).ext",
            ])
        }
        try ca("ca", "CopyBridge Test CA")
        try ca("other-ca", "Unrelated Test CA")
        try leaf("server", cn: "localhost", usage: "serverAuth", san: "DNS:localhost,IP:127.0.0.1", serial: 2)
        try leaf("client", cn: "client.test", usage: "clientAuth", san: "DNS:client.test", serial: 3)
    }
}
