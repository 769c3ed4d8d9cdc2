import FIXCore
import FIXSession
import Logging
import NIOCore

/// The last handler of a FIX connection's pipeline: hands decoded frames to the connection's
/// ``SessionDriver`` and tells it when the connection opens and closes.
///
/// Put it after a `ByteToMessageHandler(FIXFrameChannelDecoder())` (and after the TLS handler, if
/// any). An initiator's handler is bound to its session from the start; an acceptor's handler
/// waits for the first message and routes the connection by its CompIDs (see ``SessionRouter``).
public final class FIXSessionHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = FIXDecodeResult
    public typealias OutboundOut = ByteBuffer

    private var driver: SessionDriver?
    private let router: SessionRouter?
    private let flushes: FlushCoordinator
    private var activated = false
    private var ignoringInput = false
    private var inBurst = false
    private var firstMessageTimer: Scheduled<Void>?

    /// A handler for a connection of a known session (an initiator's, or a test's).
    public init(driver: SessionDriver) {
        self.driver = driver
        self.router = nil
        self.flushes = driver.flushes
    }

    /// A handler for an accepted connection whose session is known by its first message.
    init(router: SessionRouter) {
        self.driver = nil
        self.router = router
        self.flushes = router.flushes
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { activate(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        endBurst()
        firstMessageTimer?.cancel()
    }

    public func channelActive(context: ChannelHandlerContext) {
        activate(context: context)
        context.fireChannelActive()
    }

    private func activate(context: ChannelHandlerContext) {
        guard !activated else { return }
        activated = true
        if let driver {
            ignoringInput = !driver.connectionOpened(context)
        } else if let router {
            let channel = context.channel
            let remote = channel.remoteAddress
            firstMessageTimer = context.eventLoop.scheduleTask(in: router.firstMessageTimeout) {
                router.logger.warning("closing connection from \(remote.map { "\($0)" } ?? "?"): no message received")
                channel.close(promise: nil)
            }
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !inBurst {
            inBurst = true
            flushes.beginBurst()
        }
        guard !ignoringInput else { return }
        let result = unwrapInboundIn(data)
        if let driver {
            driver.received(result, on: context)
            return
        }
        guard let router else { return }
        switch result {
        case .garbled(let error, _):
            router.logger.info(
                "ignored garbled bytes before the first message from \(remoteDescription(context)): \(error)")
        case .message(let message):
            firstMessageTimer?.cancel()
            firstMessageTimer = nil
            guard let target = router.route(message) else {
                router.logger.warning(
                    "refused connection from \(remoteDescription(context)): no session for \(SessionRouter.describe(message))"
                )
                ignoringInput = true
                context.close(promise: nil)
                return
            }
            driver = target
            guard target.connectionOpened(context) else {
                ignoringInput = true
                return
            }
            target.received(result, on: context)
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        endBurst()
        context.fireChannelReadComplete()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        endBurst()
        firstMessageTimer?.cancel()
        firstMessageTimer = nil
        driver?.connectionClosed(context)
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let text = "connection error from \(remoteDescription(context)): \(error)"
        if let driver {
            driver.logEvent(text)
            driver.logger.warning("\(text)")
        } else {
            router?.logger.warning("\(text)")
        }
        context.close(promise: nil)
    }

    private func endBurst() {
        guard inBurst else { return }
        inBurst = false
        flushes.endBurst()
    }

    private func remoteDescription(_ context: ChannelHandlerContext) -> String {
        context.channel.remoteAddress.map { "\($0)" } ?? "?"
    }
}

/// Finds the session of an accepted connection from its first message: the counterparty's
/// SenderCompID is our TargetCompID and its TargetCompID our SenderCompID.
final class SessionRouter: @unchecked Sendable {
    private struct Key: Hashable {
        var beginString: String
        var ours: String
        var theirs: String
    }

    private let sessions: [Key: [SessionDriver]]
    let flushes: FlushCoordinator
    let logger: Logger
    let firstMessageTimeout: TimeAmount

    init(sessions: [SessionDriver], flushes: FlushCoordinator, logger: Logger, firstMessageTimeout: TimeAmount) {
        var table: [Key: [SessionDriver]] = [:]
        for s in sessions {
            let id = s.identity
            table[Key(beginString: id.beginString, ours: id.senderCompID, theirs: id.targetCompID), default: []]
                .append(s)
        }
        self.sessions = table
        self.flushes = flushes
        self.logger = logger
        self.firstMessageTimeout = firstMessageTimeout
    }

    func route(_ message: FIXMessage) -> SessionDriver? {
        guard let theirs = message[FIXTag.senderCompID], let ours = message[FIXTag.targetCompID],
            let candidates = sessions[Key(beginString: message.beginString, ours: ours, theirs: theirs)]
        else { return nil }
        // Sessions that differ only by sub or location IDs are told apart by the ones they set.
        return candidates.first { d in
            let id = d.identity
            return matches(id.senderSubID, message[FIXTag.targetSubID])
                && matches(id.targetSubID, message[FIXTag.senderSubID])
                && matches(id.senderLocationID, message[FIXTag.targetLocationID])
                && matches(id.targetLocationID, message[FIXTag.senderLocationID])
        }
    }

    private func matches(_ configured: String?, _ received: String?) -> Bool {
        guard let configured else { return true }
        return configured == received
    }

    static func describe(_ message: FIXMessage) -> String {
        "\(message.beginString):\(message[FIXTag.targetCompID] ?? "?")->\(message[FIXTag.senderCompID] ?? "?")"
    }
}
