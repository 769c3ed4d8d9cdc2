import FIXCore
import FIXSession
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One listening socket serving every acceptor session configured on it. Loop-bound.
final class AcceptorListener: @unchecked Sendable {
    let options: AcceptorOptions
    let router: SessionRouter
    private let tls: NIOSSLContext?
    private let decoder: FIXDecoderConfiguration
    private let eventLoop: any EventLoop
    private var serverChannel: (any Channel)?
    private var children: [ObjectIdentifier: any Channel] = [:]

    init(
        options: AcceptorOptions, router: SessionRouter, tls: NIOSSLContext?, decoder: FIXDecoderConfiguration,
        eventLoop: any EventLoop
    ) {
        self.options = options
        self.router = router
        self.tls = tls
        self.decoder = decoder
        self.eventLoop = eventLoop
    }

    /// The address the socket is bound to (with the chosen port when the configured one was 0).
    var localAddress: SocketAddress? { serverChannel?.localAddress }

    func bind() -> EventLoopFuture<Void> {
        let router = self.router
        let decoder = self.decoder
        let tlsSide = tls.map { ChannelSetup.TLSSide.server($0) }
        var bootstrap = ServerBootstrap(group: eventLoop, childGroup: eventLoop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: options.socketReuseAddress ? 1 : 0)
            .childChannelOption(.socketOption(.tcp_nodelay), value: options.socketNodelay ? 1 : 0)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    track(channel)
                    try ChannelSetup.configure(
                        channel, tls: tlsSide, decoder: decoder, session: FIXSessionHandler(router: router))
                }
            }
        if let size = options.sendBufferSize {
            bootstrap = bootstrap.childChannelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(size))
        }
        if let size = options.receiveBufferSize {
            bootstrap = bootstrap.childChannelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(size))
        }
        return bootstrap.bind(host: options.endpoint.host, port: options.endpoint.port).map { [self] channel in
            serverChannel = channel
            router.logger.info("listening on \(channel.localAddress.map { "\($0)" } ?? "\(options.endpoint)")")
        }
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        children[id] = channel
        channel.closeFuture.whenComplete { [self] _ in children[id] = nil }
    }

    /// Stops accepting connections.
    func closeListener() -> EventLoopFuture<Void> {
        guard let serverChannel else { return eventLoop.makeSucceededVoidFuture() }
        self.serverChannel = nil
        return serverChannel.close().recover { _ in }
    }

    /// Closes every accepted connection still open.
    func closeChildren() {
        for channel in children.values { channel.close(promise: nil) }
    }
}
