import FIXCore
import FIXSession
import Foundation
import NIOCore
import Testing

@testable import FIXTransport

/// Ping-pong between a broker engine and a copier engine, all on event loops: the broker sends a
/// fill on the provider session, the copier's handler sends an order on the follower session, the
/// broker's handler times the round trip and sends the next fill.
final class PingPong: @unchecked Sendable {
    let iterations: Int
    let warmup: Int
    let done: EventLoopPromise<[Int64]>
    var samples: [Int64] = []
    var sentAt: Int64 = 0
    var received = 0
    var outOfOrder = 0
    var wrongThread = 0

    init(iterations: Int, warmup: Int, done: EventLoopPromise<[Int64]>) {
        self.iterations = iterations
        self.warmup = warmup
        self.done = done
        samples.reserveCapacity(iterations)
    }

    static func now() -> Int64 { Int64(NIODeadline.now().uptimeNanoseconds) }

    func sendFill(_ provider: SessionDriver) {
        var er = executionReport(clOrdID: "P\(received)", execID: "X\(received)")
        er.set(FIXTag.lastQty, 1000)
        er.set(FIXTag.lastPx, "1.2345")
        sentAt = PingPong.now()
        do { try provider.send(er) } catch { done.fail(error) }
    }

    func orderArrived(_ order: FIXMessage, provider: SessionDriver) {
        let elapsed = PingPong.now() - sentAt
        if order[FIXTag.clOrdID] != "copy-X\(received)" { outOfOrder += 1 }
        received += 1
        if received > warmup { samples.append(elapsed) }
        if received == warmup + iterations {
            done.succeed(samples)
        } else {
            sendFill(provider)
        }
    }
}

@Suite("Copy fast path")
struct FastPathTests {
    @Test("a provider's fill is copied to a follower from the handler, on one loop; round trip measured")
    func tickToCopy() async throws {
        let factory = TestEngines()
        let broker = try factory.engine([
            acceptorSession("BROKER", "PROVIDER"), acceptorSession("BROKER", "FOLLOWER"),
        ])
        let providerAtBroker = try #require(
            broker.driver(for: SessionIdentity(senderCompID: "BROKER", targetCompID: "PROVIDER")))
        let done = broker.eventLoop.makePromise(of: [Int64].self)
        let pingPong = PingPong(iterations: 2_000, warmup: 200, done: done)
        try await broker.start { message, driver in
            guard driver.identity.targetCompID == "FOLLOWER" else { return }
            pingPong.orderArrived(message, provider: providerAtBroker)
        }
        let p = try await port(of: broker, "BROKER", "PROVIDER")

        let copier = try factory.engine([
            initiatorSession("PROVIDER", "BROKER", ports: [p]), initiatorSession("FOLLOWER", "BROKER", ports: [p]),
        ])
        let provider = try #require(
            copier.driver(for: SessionIdentity(senderCompID: "PROVIDER", targetCompID: "BROKER")))
        let follower = try #require(
            copier.driver(for: SessionIdentity(senderCompID: "FOLLOWER", targetCompID: "BROKER")))
        #expect(provider.eventLoop === follower.eventLoop)
        try await copier.start { fill, driver in
            guard driver === provider else { return }
            if !follower.eventLoop.inEventLoop { pingPong.wrongThread += 1 }
            var order = FIXMessageBuilder(msgType: "D")
            order.set(FIXTag.clOrdID, "copy-" + (fill[FIXTag.execID] ?? "?"))
            order.set(FIXTag.symbol, "EUR/USD")
            order.set(FIXTag.side, "1")
            order.set(FIXTag.transactTime, testEpoch)
            order.set(FIXTag.orderQty, 500)
            order.set(FIXTag.ordType, "1")
            try? follower.send(order)
        }
        try await withEngines([copier, broker]) {
            let watchers = copier.sessions.map(SessionWatcher.init) + broker.sessions.map(SessionWatcher.init)
            for w in watchers { try await w.waitForLogon() }
            try await broker.eventLoop.submit { pingPong.sendFill(providerAtBroker) }.get()
            var samples = try await done.futureResult.get()
            #expect(samples.count == 2_000)
            #expect(pingPong.outOfOrder == 0)
            #expect(pingPong.wrongThread == 0)
            samples.sort()
            let median = samples[samples.count / 2]
            let p99 = samples[samples.count * 99 / 100]
            print(
                "fill → copy → order round trip over loopback (2 engines, 2 hops): median \(median / 1000) µs, p99 \(p99 / 1000) µs, n=\(samples.count)"
            )
            // Generous: a debug build on a loaded 2-core machine. The printed figures are the measurement.
            #expect(median < 20_000_000)
        }
    }
}
