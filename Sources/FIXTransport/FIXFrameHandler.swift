import FIXCore
import NIOCore

/// Frames the inbound byte stream into FIX messages (or garbled chunks) with FIXCore's decoder.
///
/// Garbled input is passed on as a result rather than an error: a peer's bad bytes are something
/// the session logs and ignores, never a reason to tear down the channel.
public struct FIXFrameChannelDecoder: ByteToMessageDecoder {
    public typealias InboundOut = FIXDecodeResult

    let decoder: FIXFrameDecoder

    public init(configuration: FIXDecoderConfiguration = .standard) {
        self.decoder = FIXFrameDecoder(configuration: configuration)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let result = decoder.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(result))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while case .continue = try decode(context: context, buffer: &buffer) {}
        if buffer.readableBytes > 0, let rest = buffer.readSlice(length: buffer.readableBytes) {
            // The connection ended mid-frame: report the tail so it shows in the event log.
            context.fireChannelRead(Self.wrapInboundOut(.garbled(.incomplete, bytes: rest)))
        }
        return .needMoreData
    }
}
