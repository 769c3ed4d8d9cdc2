import FIXCore
import NIOCore
import Testing

@testable import FIXSession

/// Two harnesses joined by an in-memory "TCP connection": bytes go through real framing.
final class Link {
    let initiator: Harness
    let acceptor: Harness
    var connected = false
    /// When false, bytes written are lost (the connection broke under them).
    var delivering = true

    init(initiator: Harness, acceptor: Harness) {
        self.initiator = initiator
        self.acceptor = acceptor
    }

    func connect(at time: SessionTime) throws {
        connected = true
        delivering = true
        try acceptor.connect(at: time)
        try initiator.connect(at: time)
        try pump(at: time)
    }

    /// Moves bytes both ways until both sides are quiet; a side asking to disconnect breaks the link.
    func pump(at time: SessionTime) throws {
        var moved = true
        while moved {
            moved = try carry(from: initiator, to: acceptor, at: time)
            moved = try carry(from: acceptor, to: initiator, at: time) || moved
            if initiator.disconnectRequested || acceptor.disconnectRequested { try breakConnection(at: time) }
        }
    }

    func breakConnection(at time: SessionTime) throws {
        guard connected else { return }
        connected = false
        initiator.wire.removeAll()
        acceptor.wire.removeAll()
        initiator.disconnectRequested = false
        acceptor.disconnectRequested = false
        try initiator.run(initiator.machine.disconnected(at: time))
        try acceptor.run(acceptor.machine.disconnected(at: time))
    }

    func tick(at time: SessionTime) throws {
        try initiator.tick(at: time)
        try acceptor.tick(at: time)
        try pump(at: time)
    }

    private func carry(from: Harness, to: Harness, at time: SessionTime) throws -> Bool {
        guard !from.wire.isEmpty else { return false }
        var stream = ByteBuffer()
        for var frame in from.wire { stream.writeBuffer(&frame) }
        from.wire.removeAll()
        guard connected, delivering else { return false }
        let decoder = FIXFrameDecoder()
        while let result = decoder.next(from: &stream) {
            try to.run(to.machine.received(result, at: time))
        }
        return true
    }
}

func executionReport(_ execID: String, clOrdID: String) -> FIXMessageBuilder {
    var b = FIXMessageBuilder(msgType: "8")
    for (tag, value) in [
        (6, "20.5"), (11, clOrdID), (14, "100"), (17, execID), (37, "O-\(clOrdID)"), (39, "2"), (54, "1"), (55, "INTC"),
        (150, "F"), (151, "0"),
    ] {
        b.set(tag, value)
    }
    return b
}

@Suite struct BackToBackTests {
    let tradingDay = TradingDay()

    struct TradingDay {
        let initiator = Harness(
            SessionConfiguration(
                identity: SessionIdentity(senderCompID: "TW", targetCompID: "ISLD"), connectionType: .initiator,
                heartBtInt: 10))
        let acceptor = Harness(configuration(.acceptor, heartBtInt: 10))
    }

    @Test func logonTrafficGapResendAndLogout() throws {
        let (i, a) = (tradingDay.initiator, tradingDay.acceptor)
        let link = Link(initiator: i, acceptor: a)
        try link.connect(at: t0)
        #expect(i.machine.isLoggedOn && a.machine.isLoggedOn)

        // Orders one way, fills the other.
        for n in 1...3 { try i.send(newOrder("C\(n)"), at: at(1)) }
        try link.pump(at: at(1))
        #expect(a.delivered.map { $0[11] } == ["C1", "C2", "C3"])
        for n in 1...3 { try a.send(executionReport("E\(n)", clOrdID: "C\(n)"), at: at(2)) }
        try link.pump(at: at(2))
        #expect(i.delivered.map { $0[17] } == ["E1", "E2", "E3"])

        // Heartbeats keep a quiet link alive, both ways, for a minute.
        for second in stride(from: 3.0, through: 63.0, by: 1.0) { try link.tick(at: at(second)) }
        #expect(i.machine.isLoggedOn && a.machine.isLoggedOn)
        #expect(!i.events.contains(.heartbeatTimeout) && !a.events.contains(.heartbeatTimeout))

        // Two fills are recorded and "sent", but the connection breaks under them.
        link.delivering = false
        try a.send(executionReport("E4", clOrdID: "C3"), at: at(64))
        try a.send(executionReport("E5", clOrdID: "C3"), at: at(64))
        try link.pump(at: at(64))
        try link.breakConnection(at: at(65))
        #expect(i.delivered.count == 3)

        // On reconnection the initiator sees the gap, asks, and the fills arrive flagged PossDup.
        try link.connect(at: at(70))
        #expect(i.machine.isLoggedOn && a.machine.isLoggedOn)
        #expect(
            i.events.contains(
                .sequenceGap(expected: a.machine.nextSenderMsgSeqNum - 3, received: a.machine.nextSenderMsgSeqNum - 1)))
        #expect(i.delivered.map { $0[17] } == ["E1", "E2", "E3", "E4", "E5"])
        #expect(i.delivered.suffix(2).allSatisfy { $0[43] == "Y" })
        #expect(i.events.contains(.resendComplete))
        #expect(i.machine.nextTargetMsgSeqNum == a.machine.nextSenderMsgSeqNum)
        #expect(a.machine.nextTargetMsgSeqNum == i.machine.nextSenderMsgSeqNum)

        // Logout from the initiator: both sides end cleanly, stores agree.
        try i.run(i.machine.logout(text: "done", at: at(80)))
        try link.pump(at: at(80))
        #expect(!link.connected)
        #expect(!i.machine.isConnected && !a.machine.isConnected)
        #expect(i.store.nextSenderMsgSeqNum == a.store.nextTargetMsgSeqNum)
        #expect(a.store.nextSenderMsgSeqNum == i.store.nextTargetMsgSeqNum)
        #expect(a.events.contains(.logoutReceived(text: "done")))
    }

    @Test func silentCounterpartyIsTestedThenDropped() throws {
        let (i, a) = (tradingDay.initiator, tradingDay.acceptor)
        let link = Link(initiator: i, acceptor: a)
        try link.connect(at: t0)
        // The acceptor's process hangs: it no longer reads, ticks or writes.
        link.delivering = false
        var second = 1.0
        while link.connected && second < 60 {
            try i.tick(at: at(second))
            if i.disconnectRequested { try link.breakConnection(at: at(second)) }
            second += 1
        }
        #expect(i.events.contains(.testRequestSent(testReqID: "TEST")))
        #expect(i.events.contains(.heartbeatTimeout))
        #expect(second - 1 == 24)
    }
}
