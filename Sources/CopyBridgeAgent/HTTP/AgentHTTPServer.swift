import FIXSession
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Prometheus
import ServiceLifecycle

/// The agent's HTTP face, a Hummingbird 2 application run as a ServiceLifecycle service:
///
/// - `GET /` the dashboard page, `GET /api/state` the ``AgentSnapshot`` as JSON, `GET /metrics` the
///   Prometheus text of the registry; these need the token off loopback (or with `HttpReadsRequireToken`),
///   as `Authorization: Bearer` or the `copybridge_token` cookie the dashboard's sign-in sets.
/// - `POST /api/admin/{command}` with an ``AdminRequest`` JSON body (or none): forwarded to the
///   ``AdminCommandHandler``, answered with an ``AdminResponse`` (result and state afterwards). Always needs
///   `Authorization: Bearer` with the token (a cookie is not enough, so another site cannot make a browser
///   send commands).
/// - `GET /healthz` answers `ok` without authentication, for supervisors.
///
/// Errors are JSON ``APIErrorBody``. Construction refuses what must not start (``AdminHTTPConfiguration/validate()``).
public struct AgentHTTPServer: Service {
    public let configuration: AdminHTTPConfiguration
    private let application: Application<RouterResponder<AgentRequestContext>>

    /// - Parameters:
    ///   - registry: What `/metrics` exports (the one ``CopyBridgeMetrics/makePrometheusFactory(registry:)``
    ///     was given).
    ///   - onListening: Called with the bound address once the server accepts connections (port 0 tells
    ///     the real port here).
    public init(
        configuration: AdminHTTPConfiguration, stateSource: any AgentStateSource,
        commandHandler: any AdminCommandHandler, registry: PrometheusCollectorRegistry,
        logger: Logger = Logger(label: "copybridge.http"),
        onListening: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) throws(AdminHTTPConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        let token = configuration.token.map(AccessToken.init)
        let routes = AgentRoutes(
            configuration: configuration, token: token, stateSource: stateSource, commandHandler: commandHandler,
            registry: registry, logger: logger)
        let server: HTTPServerBuilder
        if let certificate = configuration.tlsCertificateFile, let key = configuration.tlsKeyFile {
            server = try Self.tlsServer(certificateFile: certificate, keyFile: key)
        } else {
            server = .http1()
        }
        let host = configuration.bindHost
        let logger = logger
        application = Application(
            router: routes.makeRouter(), server: server,
            configuration: ApplicationConfiguration(address: .hostname(host, port: configuration.port)),
            onServerRunning: { channel in
                guard let address = channel.localAddress else { return }
                logger.notice(
                    "HTTP server listening",
                    metadata: [
                        "address": "\(address)", "tls": "\(configuration.usesTLS)",
                        "readsNeedToken": "\(configuration.readsNeedToken)",
                    ])
                await onListening(address)
            },
            logger: logger)
    }

    public func run() async throws {
        try await application.run()
    }

    private static func tlsServer(
        certificateFile: String, keyFile: String
    ) throws(AdminHTTPConfigurationError)
        -> HTTPServerBuilder
    {
        typealias Key = AdminHTTPConfiguration.Key
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw .unreadableFile(setting: Key.tlsCertificateFile, path: certificateFile, reason: "\(error)")
        }
        guard !chain.isEmpty else {
            throw .unreadableFile(setting: Key.tlsCertificateFile, path: certificateFile, reason: "no PEM certificate")
        }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw .unreadableFile(setting: Key.tlsKeyFile, path: keyFile, reason: "\(error)")
        }
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        do {
            return try .tls(.http1(), tlsConfiguration: tls)
        } catch {
            throw .unreadableFile(setting: Key.tlsKeyFile, path: keyFile, reason: "\(error)")
        }
    }
}

/// The request context: Hummingbird's, plus the peer address for the audit trail.
struct AgentRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// `10.1.2.3` (no port): who, not which connection.
    var peer: String {
        remoteAddress?.ipAddress ?? "unknown"
    }
}

/// The routes and what they answer.
struct AgentRoutes: Sendable {
    static let tokenCookie = "copybridge_token"
    static let maximumBodySize = 64 * 1024

    let configuration: AdminHTTPConfiguration
    let token: AccessToken?
    let stateSource: any AgentStateSource
    let commandHandler: any AdminCommandHandler
    let registry: PrometheusCollectorRegistry
    let logger: Logger

    func makeRouter() -> Router<AgentRequestContext> {
        let router = Router(context: AgentRequestContext.self)
        router.get("healthz") { _, _ in Self.text("ok\n", contentType: "text/plain; charset=utf-8") }

        let reads = router.group().add(
            middleware: ReadAccessMiddleware(token: token, required: configuration.readsNeedToken))
        reads.get { request, _ in
            self.dashboard(request)
        }
        reads.get("api/state") { _, _ in
            Self.json(.ok, await stateSource.snapshot())
        }
        reads.get("metrics") { _, _ in
            var buffer = ByteBuffer()
            buffer.writeBytes(registry.emitToBuffer())
            var headers = Self.commonHeaders
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: buffer))
        }

        router.group("api/admin")
            .add(middleware: AdminAccessMiddleware(token: token))
            .post(":command") { request, context in
                try await self.admin(request, context: context)
            }
        return router
    }

    func dashboard(_ request: Request) -> Response {
        var refresh = configuration.dashboardRefreshMs
        if let asked = request.uri.queryParameters.get("refresh", as: Int.self) {
            refresh = min(max(asked, 100), 60_000)
        }
        var headers = Self.commonHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[HTTPField.Name("Content-Security-Policy")!] = DashboardPage.contentSecurityPolicy
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardPage.html(refreshMs: refresh))))
    }

    func admin(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let name = context.parameters.get("command") ?? ""
        var request = request
        let body = try await request.collectBody(upTo: Self.maximumBodySize)
        let fields: AdminRequest
        if body.readableBytes == 0 {
            fields = AdminRequest()
        } else {
            do {
                fields = try AgentJSON.makeDecoder().decode(AdminRequest.self, from: Data(buffer: body))
            } catch {
                return Self.error(.badRequest, "the body is not an admin request: \(error)")
            }
        }
        let command: AdminCommand
        do {
            command = try AdminCommand(name: name, target: fields.target, flatten: fields.flatten ?? false)
        } catch {
            switch error {
            case .unknownCommand: return Self.error(.notFound, error.description)
            case .missingTarget, .unexpectedArgument: return Self.error(.badRequest, error.description)
            }
        }
        let claimed = fields.actor.flatMap { $0.isEmpty ? nil : $0 } ?? "http"
        let actor = "\(claimed)@\(context.peer)"
        let reason = fields.reason.flatMap { $0.isEmpty ? nil : $0 }
        let result: AdminCommandResult
        do {
            result = try await commandHandler.handle(command, actor: actor, reason: reason)
        } catch let error as AdminCommandError {
            logger.notice(
                "admin command refused",
                metadata: ["command": "\(command)", "actor": "\(actor)", "error": "\(error)"])
            switch error {
            case .unknownFollower, .unknownProvider, .unknownBreaker: return Self.error(.notFound, error.description)
            case .refused: return Self.error(.conflict, error.description)
            }
        } catch {
            logger.error(
                "admin command failed", metadata: ["command": "\(command)", "actor": "\(actor)", "error": "\(error)"])
            return Self.error(.internalServerError, "'\(command)' failed: \(error)")
        }
        logger.notice(
            "admin command",
            metadata: [
                "command": "\(command)", "actor": "\(actor)", "reason": "\(reason ?? "")",
                "outcome": "\(result.outcome.rawValue)",
            ])
        let state = await stateSource.snapshot()
        return Self.json(
            .ok,
            AdminResponse(command: command.description, actor: actor, reason: reason, result: result, state: state))
    }

    // MARK: Responses

    /// Nothing here may be cached or framed by another site.
    static var commonHeaders: HTTPFields {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return headers
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let data: Data
        do {
            data = try AgentJSON.makeEncoder().encode(value)
        } catch {
            // Our own types always encode; a failure here is a defect worth seeing in the answer.
            return Self.error(.internalServerError, "cannot encode the answer: \(error)")
        }
        var headers = commonHeaders
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, headers extra: HTTPFields = [:]) -> Response {
        var response = json(status, APIErrorBody(error: message))
        response.headers.append(contentsOf: extra)
        return response
    }

    static func text(_ text: String, contentType: String) -> Response {
        var headers = commonHeaders
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static var challenge: HTTPFields { [.wwwAuthenticate: #"Bearer realm="copybridge""#] }
}

/// Lets reads through on loopback; elsewhere asks for the token as a bearer header or the dashboard's cookie.
struct ReadAccessMiddleware: RouterMiddleware {
    typealias Context = AgentRequestContext

    let token: AccessToken?
    let required: Bool

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard required else { return try await next(request, context) }
        // validate() guarantees a token whenever reads require one.
        guard let token else { preconditionFailure("reads require a token but none is configured") }
        if let header = request.headers[.authorization], let given = AccessToken.bearer(fromAuthorization: header),
            token.matches(given)
        {
            return try await next(request, context)
        }
        if let cookie = request.cookies[AgentRoutes.tokenCookie]?.value, token.matches(Self.unescape(cookie)) {
            return try await next(request, context)
        }
        if request.uri.path == "/" {
            var headers = AgentRoutes.commonHeaders
            headers[.contentType] = "text/html; charset=utf-8"
            headers[HTTPField.Name("Content-Security-Policy")!] = DashboardPage.contentSecurityPolicy
            headers.append(contentsOf: AgentRoutes.challenge)
            return Response(
                status: .unauthorized, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardPage.signInHTML)))
        }
        return AgentRoutes.error(.unauthorized, "this endpoint needs the admin token", headers: AgentRoutes.challenge)
    }

    /// The page stores the token with `encodeURIComponent`.
    static func unescape(_ value: String) -> String {
        value.removingPercentEncoding ?? value
    }
}

/// Admin commands need `Authorization: Bearer <token>`, wherever the server listens.
struct AdminAccessMiddleware: RouterMiddleware {
    typealias Context = AgentRequestContext

    let token: AccessToken?

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let token else {
            return AgentRoutes.error(
                .unauthorized,
                "the admin API is disabled: set \(AdminHTTPConfiguration.Key.adminToken) or "
                    + "\(AdminHTTPConfiguration.Key.adminTokenFile) in [ADMIN]",
                headers: AgentRoutes.challenge)
        }
        guard let header = request.headers[.authorization] else {
            return AgentRoutes.error(
                .unauthorized, "admin commands need 'Authorization: Bearer <token>'", headers: AgentRoutes.challenge)
        }
        guard let given = AccessToken.bearer(fromAuthorization: header), token.matches(given) else {
            context.logger.warning("admin request with a wrong token", metadata: ["peer": "\(context.peer)"])
            return AgentRoutes.error(.unauthorized, "wrong admin token", headers: AgentRoutes.challenge)
        }
        return try await next(request, context)
    }
}
