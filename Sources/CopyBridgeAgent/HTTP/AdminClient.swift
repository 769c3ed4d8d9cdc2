import FIXSession
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A small HTTP/1.1 client for the agent's API, what `copybridge ctl` uses: one connection per request,
/// framing by SwiftNIO's HTTP codec, optional TLS.
public struct AdminClient: Sendable {
    /// A raw answer.
    public struct HTTPResult: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }

        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public let host: String
    public let port: Int
    private let token: SecretString?
    private let tls: TLSConfiguration?
    private let group: any EventLoopGroup
    private let timeout: Duration

    /// - Parameters:
    ///   - tls: Speak HTTPS with this configuration (trust roots and verification are the caller's choice).
    public init(
        host: String = "127.0.0.1", port: Int, token: SecretString?, tls: TLSConfiguration? = nil,
        timeout: Duration = .seconds(30), eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.host = host
        self.port = port
        self.token = token
        self.tls = tls
        self.timeout = timeout
        self.group = eventLoopGroup
    }

    /// A client for the agent configured by `configuration`, from the same machine: a wildcard bind address
    /// is reached over loopback, and a configured certificate is trusted as it is (self-signed certificates
    /// are the norm for an admin port) without checking the host name, which loopback does not have.
    public init(configuration: AdminHTTPConfiguration, timeout: Duration = .seconds(30)) throws {
        var host = configuration.bindHost
        if ["0.0.0.0", "::", "[::]", ""].contains(host) { host = "127.0.0.1" }
        var tls: TLSConfiguration? = nil
        if let certificate = configuration.tlsCertificateFile {
            var client = TLSConfiguration.makeClientConfiguration()
            client.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate))
            client.certificateVerification = .noHostnameVerification
            tls = client
        }
        self.init(host: host, port: configuration.port, token: configuration.token, tls: tls, timeout: timeout)
    }

    /// Sends an admin command; the answer carries the result and the agent's state afterwards.
    public func send(_ command: AdminCommand, actor: String, reason: String? = nil) async throws -> AdminResponse {
        let body = try AgentJSON.makeEncoder().encode(command.request(actor: actor, reason: reason))
        let result = try await request(method: .POST, path: "/api/admin/\(command.name)", body: Array(body))
        return try decode(AdminResponse.self, result)
    }

    /// The agent's state.
    public func state() async throws -> AgentSnapshot {
        try decode(AgentSnapshot.self, try await request(method: .GET, path: "/api/state"))
    }

    /// The Prometheus text.
    public func metricsText() async throws -> String {
        let result = try await request(method: .GET, path: "/metrics")
        guard result.status == 200 else { throw AdminClientError.status(result.status, Self.message(of: result)) }
        return result.text
    }

    private func decode<T: Decodable>(_ type: T.Type, _ result: HTTPResult) throws -> T {
        guard result.status == 200 else { throw AdminClientError.status(result.status, Self.message(of: result)) }
        do {
            return try AgentJSON.makeDecoder().decode(type, from: Data(result.body))
        } catch {
            throw AdminClientError.badResponse("the answer is not a \(type): \(error)")
        }
    }

    private static func message(of result: HTTPResult) -> String {
        (try? JSONDecoder().decode(APIErrorBody.self, from: Data(result.body)))?.error ?? result.text
    }

    /// One request on a fresh connection, with the token if the client has one. Any status is returned.
    public func request(
        method: HTTPMethod, path: String, body: [UInt8]? = nil, headers extra: [(String, String)] = []
    ) async throws -> HTTPResult {
        try await withThrowingTaskGroup(of: HTTPResult?.self) { group in
            group.addTask { try await self.exchange(method: method, path: path, body: body, extra: extra) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw AdminClientError.timedOut(timeout)
            }
            return result
        }
    }

    private func exchange(
        method: HTTPMethod, path: String, body: [UInt8]?, extra: [(String, String)]
    ) async throws -> HTTPResult {
        let tls = self.tls
        let sniHost = host
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            let context = try NIOSSLContext(configuration: tls)
                            let isAddress = (try? SocketAddress(ipAddress: sniHost, port: 0)) != nil
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : sniHost))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw AdminClientError.connectionFailed(host: host, port: port, reason: "\(error)")
        }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
            head.headers.add(name: "Host", value: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
            head.headers.add(name: "Connection", value: "close")
            head.headers.add(name: "Accept", value: "application/json")
            if let token { head.headers.add(name: "Authorization", value: "Bearer \(token.revealed)") }
            if let body {
                head.headers.add(name: "Content-Type", value: "application/json")
                head.headers.add(name: "Content-Length", value: "\(body.count)")
            }
            for (name, value) in extra { head.headers.replaceOrAdd(name: name, value: value) }
            try await outbound.write(.head(head))
            if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try await outbound.write(.end(nil))

            var response: HTTPResponseHead?
            var received = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let responseHead):
                    response = responseHead
                case .body(var chunk):
                    received.writeBuffer(&chunk)
                case .end:
                    guard let response else { throw AdminClientError.badResponse("a response without a head") }
                    return HTTPResult(
                        status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                        body: Array(received.readableBytesView))
                }
            }
            throw AdminClientError.badResponse("the server closed the connection before the response ended")
        }
    }
}

/// Why a request to the agent failed.
public enum AdminClientError: Error, Sendable, CustomStringConvertible {
    case connectionFailed(host: String, port: Int, reason: String)
    case timedOut(Duration)
    /// The agent answered with an error status and this message.
    case status(Int, String)
    case badResponse(String)

    public var description: String {
        switch self {
        case .connectionFailed(let host, let port, let reason):
            return "cannot reach the agent at \(host):\(port): \(reason)"
        case .timedOut(let timeout): return "the agent did not answer within \(timeout)"
        case .status(let code, let message): return "the agent answered \(code): \(message)"
        case .badResponse(let why): return "unexpected answer from the agent: \(why)"
        }
    }
}
