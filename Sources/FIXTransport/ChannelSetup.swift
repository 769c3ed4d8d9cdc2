import FIXCore
import NIOCore
import NIOSSL

/// Builds the pipeline of a FIX connection: [TLS] → framing → session.
enum ChannelSetup {
    /// Adds the handlers; must run on the channel's event loop (channel initializers do).
    static func configure(
        _ channel: any Channel, tls: TLSSide?, decoder: FIXDecoderConfiguration, session: FIXSessionHandler
    ) throws {
        let ops = channel.pipeline.syncOperations
        switch tls {
        case .none:
            break
        case .client(let context, let serverHostname)?:
            try ops.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverHostname))
        case .server(let context)?:
            try ops.addHandler(NIOSSLServerHandler(context: context))
        }
        try ops.addHandler(ByteToMessageHandler(FIXFrameChannelDecoder(configuration: decoder)))
        try ops.addHandler(session)
    }

    enum TLSSide {
        case client(NIOSSLContext, serverHostname: String?)
        case server(NIOSSLContext)
    }

    /// Whether `host` is an IPv4 or IPv6 literal (SNI cannot carry one).
    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
