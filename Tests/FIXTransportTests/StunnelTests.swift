import FIXCore
import FIXSession
import Foundation
import TestSupport
import Testing

@testable import FIXTransport

/// stunnel, run by a test as a TLS terminator or a TLS client in front of a plain engine.
enum Stunnel {
    static let executable = findExecutable([
        "/usr/bin/stunnel4", "/usr/bin/stunnel", "/usr/local/bin/stunnel", "/usr/sbin/stunnel",
        "/opt/homebrew/bin/stunnel",
    ])

    static var isAvailable: Bool { executable != nil }

    /// Starts stunnel with one service and waits until it is configured. In server mode it
    /// accepts TLS with the test server certificate; in client mode it verifies the server with
    /// the test CA (and `localhost`) and presents the test client certificate.
    static func start(
        client: Bool, acceptPort: Int, connectPort: Int, pki: TestPKI, in dir: URL
    ) async throws
        -> ExternalProcess
    {
        var config = """
            foreground = yes
            pid =
            debug = info

            [fix]
            accept = 127.0.0.1:\(acceptPort)
            connect = 127.0.0.1:\(connectPort)

            """
        if client {
            config += """
                client = yes
                CAfile = \(pki.caFile)
                verifyChain = yes
                checkHost = localhost
                cert = \(pki.clientCertificate)
                key = \(pki.clientKey)

                """
        } else {
            config += """
                cert = \(pki.serverCertificate)
                key = \(pki.serverKey)

                """
        }
        let file = dir.appendingPathComponent(client ? "stunnel-client.conf" : "stunnel-server.conf")
        try config.write(to: file, atomically: true, encoding: .utf8)
        let process = try ExternalProcess(
            name: "stunnel", executable: executable!, arguments: [file.path], directory: dir)
        do {
            try await process.waitForLine("its listening socket") { $0.contains("Accepting new connections") }
        } catch {
            await process.stop(quitCommand: nil)
            throw StartFailure(error: error, transcript: process.transcript)
        }
        return process
    }

    struct StartFailure: Error, CustomStringConvertible {
        var error: any Error
        var transcript: String
        var description: String { "\(error); stunnel output:\n\(transcript)" }
    }

    /// ``start(client:acceptPort:connectPort:pki:in:)`` on a port found free, and on another when a
    /// parallel test's connection took that one before stunnel could bind it.
    static func startOnFreePort(
        client: Bool, connectPort: Int, pki: TestPKI, in dir: URL
    ) async throws -> (
        ExternalProcess, port: Int
    ) {
        var attempt = 1
        while true {
            let port = try freeTCPPort()
            do {
                return (
                    try await start(client: client, acceptPort: port, connectPort: connectPort, pki: pki, in: dir), port
                )
            } catch let failure as StartFailure
                where attempt < 5 && failure.transcript.contains("Address already in use")
            {
                attempt += 1
            }
        }
    }
}

@Suite("Plain engines behind stunnel")
struct StunnelTests {
    @Test(
        "stunnel terminates TLS in front of a plain acceptor; a TLS initiator verifies it",
        .enabled(if: Stunnel.isAvailable, "stunnel is not installed (apt-get install stunnel4)"))
    func terminator() async throws {
        let pki = try TestPKI.get()
        let dir = try makeTemporaryDirectory("stunnel-server")
        defer { try? FileManager.default.removeItem(at: dir) }
        var stunnel: ExternalProcess?
        do {
            try await backToBack(initiatorTLS: tlsOptions(pki, client: true)) { brokerPort in
                let (process, port) = try await Stunnel.startOnFreePort(
                    client: false, connectPort: brokerPort, pki: pki, in: dir)
                stunnel = process
                return port
            }
        } catch {
            if let stunnel { Issue.record("stunnel output:\n\(stunnel.transcript)") }
            await stunnel?.stop(quitCommand: nil)
            throw error
        }
        await stunnel?.stop(quitCommand: nil)
    }

    @Test(
        "stunnel is the TLS client of a plain initiator; a mutual-TLS acceptor verifies its certificate",
        .enabled(if: Stunnel.isAvailable, "stunnel is not installed (apt-get install stunnel4)"))
    func client() async throws {
        let pki = try TestPKI.get()
        let dir = try makeTemporaryDirectory("stunnel-client")
        defer { try? FileManager.default.removeItem(at: dir) }
        var stunnel: ExternalProcess?
        do {
            try await backToBack(acceptorTLS: tlsOptions(pki, client: false, clientCertificate: true)) { brokerPort in
                let (process, port) = try await Stunnel.startOnFreePort(
                    client: true, connectPort: brokerPort, pki: pki, in: dir)
                stunnel = process
                return port
            }
        } catch {
            if let stunnel { Issue.record("stunnel output:\n\(stunnel.transcript)") }
            await stunnel?.stop(quitCommand: nil)
            throw error
        }
        await stunnel?.stop(quitCommand: nil)
    }
}
