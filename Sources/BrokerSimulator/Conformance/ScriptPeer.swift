import FIXCore
import NIOCore
import NIOPosix
import Synchronization

/// A queue filled from any thread and drained by one async consumer that waits with a deadline
/// (the wait ends as soon as an item arrives).
final class AsyncInbox<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var waiter: (id: Int, continuation: CheckedContinuation<Element?, Never>)?
        var expired: Set<Int> = []
        var nextID = 0
    }

    private let state = Mutex(State())

    func push(_ element: Element) {
        let waiter = state.withLock { s -> CheckedContinuation<Element?, Never>? in
            if let w = s.waiter {
                s.waiter = nil
                return w.continuation
            }
            s.items.append(element)
            return nil
        }
        waiter?.resume(returning: element)
    }

    /// The next item, or `nil` when none arrives within `timeout`.
    func next(timeout: Duration) async -> Element? {
        let id = state.withLock { s -> Int? in
            if !s.items.isEmpty { return nil }
            s.nextID += 1
            return s.nextID
        }
        guard let id else { return state.withLock { $0.items.removeFirst() } }
        let timer = Task {
            do { try await Task.sleep(for: timeout) } catch { return }
            self.expire(id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
            let immediate = state.withLock { s -> Element?? in
                if s.expired.remove(id) != nil { return .some(nil) }
                if !s.items.isEmpty { return .some(s.items.removeFirst()) }
                precondition(s.waiter == nil, "an inbox has one consumer")
                s.waiter = (id, continuation)
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    private func expire(_ id: Int) {
        let waiter = state.withLock { s -> CheckedContinuation<Element?, Never>? in
            if let w = s.waiter, w.id == id {
                s.waiter = nil
                return w.continuation
            }
            s.expired.insert(id)
            return nil
        }
        waiter?.resume(returning: nil)
    }
}

/// What a script's tester receives on a connection.
enum ScriptPeerEvent: Sendable {
    case message(FIXMessage)
    case garbled(FIXDecodeError, [UInt8])
    case closed
}

/// Frames what arrives and hands it to the connection's inbox.
final class ScriptPeerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let inbox: AsyncInbox<ScriptPeerEvent>
    private let decoder = FIXFrameDecoder()
    private var buffer: ByteBuffer?

    init(inbox: AsyncInbox<ScriptPeerEvent>) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if buffer == nil {
            buffer = bytes
        } else {
            buffer!.writeBuffer(&bytes)
        }
        while buffer != nil, let result = decoder.next(from: &buffer!) {
            switch result {
            case .message(let message): inbox.push(.message(message))
            case .garbled(let error, let skipped):
                inbox.push(
                    .garbled(error, skipped.getBytes(at: skipped.readerIndex, length: skipped.readableBytes) ?? []))
            }
        }
        if buffer?.readableBytes == 0 { buffer = nil }
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.push(.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The tester's end of one TCP connection: raw bytes out, framed messages in.
final class ScriptPeerConnection: Sendable {
    let channel: any Channel
    let inbox: AsyncInbox<ScriptPeerEvent>

    init(channel: any Channel, inbox: AsyncInbox<ScriptPeerEvent>) {
        self.channel = channel
        self.inbox = inbox
    }

    static func configure(_ channel: any Channel) -> EventLoopFuture<ScriptPeerConnection> {
        let inbox = AsyncInbox<ScriptPeerEvent>()
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ScriptPeerHandler(inbox: inbox))
            return ScriptPeerConnection(channel: channel, inbox: inbox)
        }
    }

    /// Dials `host:port`.
    static func dial(host: String, port: Int, group: any EventLoopGroup) async throws -> ScriptPeerConnection {
        let holder = Mutex<ScriptPeerConnection?>(nil)
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                configure(channel).map { connection in holder.withLock { $0 = connection } }
            }
            .connect(host: host, port: port).get()
        guard let connection = holder.withLock({ $0 }) else {
            preconditionFailure("the channel initializer did not run for \(channel)")
        }
        return connection
    }

    func send(_ bytes: [UInt8]) async throws {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try await channel.writeAndFlush(buffer)
    }

    func close() async {
        try? await channel.close()
    }
}

/// A listening socket whose accepted connections wait to be taken in order.
final class ScriptPeerListener: Sendable {
    let channel: any Channel
    let accepted: AsyncInbox<ScriptPeerConnection>

    private init(channel: any Channel, accepted: AsyncInbox<ScriptPeerConnection>) {
        self.channel = channel
        self.accepted = accepted
    }

    /// Listens on `host`, on a free port.
    static func listen(host: String, group: any EventLoopGroup) async throws -> ScriptPeerListener {
        let accepted = AsyncInbox<ScriptPeerConnection>()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                ScriptPeerConnection.configure(channel).map { accepted.push($0) }
            }
            .bind(host: host, port: 0).get()
        return ScriptPeerListener(channel: channel, accepted: accepted)
    }

    var port: Int { channel.localAddress?.port ?? 0 }

    func close() async {
        try? await channel.close()
    }
}
