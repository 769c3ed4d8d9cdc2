import FIXCore
import NIOCore
import Testing

@testable import FIXSession

@Suite struct Session3Tests {
    @Test func wrongCheckSumIsIgnored() throws {
        var m = loggedOnAcceptor()
        var frame = tw.order(seq: 2).byteArray
        frame[frame.count - 3] = frame[frame.count - 3] == UInt8(ascii: "9") ? UInt8(ascii: "8") : UInt8(ascii: "9")
        let results = decode(ByteBuffer(bytes: frame))
        try #require(results.count == 1)
        guard case .garbled(.checksumMismatch, _) = results[0] else {
            Issue.record("expected a CheckSum mismatch, got \(results[0])")
            return
        }
        let actions = m.received(results[0], at: t0)
        #expect(actions.sent.isEmpty && actions.delivered.isEmpty)
        #expect(m.nextTargetMsgSeqNum == 2)
    }

    @Test func garbageBetweenMessagesIsSkipped() {
        var m = loggedOnAcceptor()
        var bytes = ByteBuffer(string: "garbage\u{1}")
        var first = tw.order(seq: 2).bytes
        bytes.writeBuffer(&first)
        var delivered: [FIXMessage] = []
        for r in decode(bytes) { delivered += m.received(r, at: t0).delivered }
        #expect(delivered == [tw.order(seq: 2)])
    }
}

@Suite struct Session4Tests {
    @Test func heartbeatAfterHeartBtIntOfSilenceFromUs() {
        var m = loggedOnAcceptor(heartBtInt: 30)
        let ns = t0.monotonicNanoseconds
        // The logon timer fires first and finds nothing to do but the next deadline.
        #expect(m.tick(at: at(10)) == [.scheduleTick(atMonotonicNanoseconds: ns + 30_000_000_000)])
        #expect(m.tick(at: at(29.9)).isEmpty)
        // The counterparty keeps talking, so only our own silence counts.
        _ = m.received(tw.message("0", seq: 2, at: at(29.9)), at: at(29.9))
        #expect(
            m.tick(at: at(30)) == [
                .send([us.out("0", seq: 2, at: at(30))]),
                .scheduleTick(atMonotonicNanoseconds: ns + 60_000_000_000),
            ])
    }

    @Test func testRequestIsAnsweredWithItsTestReqID() {
        var m = loggedOnAcceptor()
        #expect(
            m.received(tw.message("1", seq: 2, at: at(1), [(112, "ABC")]), at: at(1)).withoutTimers == [
                .send([us.out("0", seq: 2, at: at(1), [(112, "ABC")])]), .persistNextTargetMsgSeqNum(3),
            ])
    }

    @Test func testRequestWithoutTestReqIDIsRejected() {
        var m = loggedOnAcceptor()
        #expect(
            m.received(tw.message("1", seq: 2), at: t0).sent == [
                us.out("3", seq: 2, [(45, "2"), (58, "Required tag missing"), (371, "112"), (372, "1"), (373, "1")])
            ])
        #expect(m.nextTargetMsgSeqNum == 3)
    }

    @Test func noHeartbeatsWhenHeartBtIntIsZero() {
        var m = loggedOnAcceptor(heartBtInt: 0)
        #expect(m.tick(at: at(3600)).isEmpty)
        #expect(m.isLoggedOn)
    }
}

@Suite struct Session6Tests {
    @Test func testRequestAfterSilenceThenDisconnectIfStillSilent() {
        var m = loggedOnAcceptor(heartBtInt: 10)
        let ns = t0.monotonicNanoseconds
        #expect(m.tick(at: at(10)).sent == [us.out("0", seq: 2, at: at(10))])
        // 1.2 HeartBtInt without a word from the counterparty.
        #expect(m.tick(at: at(11.9)).sent.isEmpty)
        #expect(
            m.tick(at: at(12)) == [
                .send([us.out("1", seq: 3, at: at(12), [(112, "TEST")])]), .event(.testRequestSent(testReqID: "TEST")),
                .scheduleTick(atMonotonicNanoseconds: ns + 22_000_000_000),
            ])
        #expect(m.tick(at: at(22)).sent == [us.out("0", seq: 4, at: at(22))])
        // 2.4 HeartBtInt: give up.
        #expect(
            m.tick(at: at(24)) == [
                .event(.heartbeatTimeout), .event(.disconnecting(reason: "Timed out waiting for heartbeat")),
                .disconnect,
            ])
    }

    @Test func answeredTestRequestKeepsTheSessionUp() {
        var m = loggedOnAcceptor(heartBtInt: 10)
        _ = m.tick(at: at(12))
        _ = m.received(tw.message("0", seq: 2, at: at(13), [(112, "TEST")]), at: at(13))
        #expect(!m.tick(at: at(24)).disconnects)
        #expect(m.tick(at: at(25)).events == [.testRequestSent(testReqID: "TEST")])
        #expect(m.isLoggedOn)
    }
}

@Suite struct Session7Tests {
    @Test func receivedRejectIsCountedAndReported() {
        var m = loggedOnAcceptor()
        let reject = tw.message("3", seq: 2, [(45, "1"), (58, "bad")])
        #expect(
            m.received(reject, at: t0).withoutTimers == [
                .event(.rejectReceived(reject)), .persistNextTargetMsgSeqNum(3),
            ])
        #expect(
            m.received(tw.message("5", seq: 3), at: t0).sent == [us.out("5", seq: 2)])
    }
}

@Suite struct Session8Tests {
    /// The QuickFIX acceptance case 8_AdminAndApplicationMessages: admin messages 2-4, application
    /// 5-6, admin 7-8, application 9, then ResendRequests over growing ranges.
    @Test func resendRequestsReplayApplicationMessagesAndGapFillAdminRuns() throws {
        let h = Harness(configuration(.acceptor))
        try h.connect()
        try h.receive(tw.logon())
        var seq = 2
        func testRequest() throws {
            try h.receive(tw.message("1", seq: seq, [(112, "HELLO")]))
            seq += 1
        }
        for _ in 2...4 { try testRequest() }
        try h.send(newOrder("A5"))
        try h.send(newOrder("A6"))
        for _ in 7...8 { try testRequest() }
        try h.send(newOrder("A9"))
        #expect(h.machine.nextSenderMsgSeqNum == 10)
        _ = h.takeWire()

        let now = at(5)
        func resendRequest(_ begin: Int, _ end: Int) throws -> [FIXMessage] {
            try h.receive(tw.message("2", seq: seq, at: now, [(7, "\(begin)"), (16, "\(end)")]), at: now)
            seq += 1
            return h.takeWire()
        }
        func gapFill(_ from: Int, _ to: Int) -> FIXMessage {
            us.message(
                "4", seq: from, at: now, [(36, "\(to)"), (123, "Y")], header: [(43, "Y"), (122, "\(now.utc)")])
        }
        func resent(_ seq: Int, _ id: String) -> FIXMessage {
            var b = newOrder(id)
            OutboundHeader(identity: isld, precision: .milliseconds).stamp(&b, seqNum: seq, sendingTime: now.utc)
            b.set(43, "Y")
            b.set(122, "\(t0.utc)")
            return b.build()
        }
        #expect(try resendRequest(2, 4) == [gapFill(2, 5)])
        #expect(try resendRequest(2, 6) == [gapFill(2, 5), resent(5, "A5"), resent(6, "A6")])
        #expect(try resendRequest(2, 8) == [gapFill(2, 5), resent(5, "A5"), resent(6, "A6"), gapFill(7, 9)])
        let all = [gapFill(2, 5), resent(5, "A5"), resent(6, "A6"), gapFill(7, 9), resent(9, "A9")]
        #expect(try resendRequest(2, 9) == all)
        #expect(try resendRequest(2, 0) == all)
        // Resending consumed no sequence number.
        try h.receive(tw.message("1", seq: seq, at: now, [(112, "HELLO")]), at: now)
        #expect(h.takeWire() == [us.message("0", seq: 10, at: now, [(112, "HELLO")])])
        #expect(h.store.nextSenderMsgSeqNum == 11)
        #expect(h.store.nextTargetMsgSeqNum == seq + 1)
    }

    @Test func resendRequestBeyondWhatWasSentIsBoundedByTheLastSent() throws {
        let h = Harness(configuration(.acceptor))
        try h.connect()
        try h.receive(tw.logon())
        try h.send(newOrder("A2"))
        let actions = try h.receive(tw.message("2", seq: 2, [(7, "2"), (16, "50")]))
        #expect(actions.resends.map { [$0.beginSeqNo, $0.endSeqNo] } == [[2, 2]])
        // Asking only for the future is a warning, nothing more.
        let future = try h.receive(tw.message("2", seq: 3, [(7, "9"), (16, "0")]))
        #expect(future.resends.isEmpty)
        #expect(future.events.contains(.warning("ResendRequest from 9 asks for messages not sent yet (last sent 2)")))
    }

    @Test func malformedResendRequestIsRejected() {
        var m = loggedOnAcceptor()
        #expect(
            m.received(tw.message("2", seq: 2, [(7, "5")]), at: t0).sent == [
                us.out("3", seq: 2, [(45, "2"), (58, "Required tag missing"), (371, "16"), (372, "2"), (373, "1")])
            ])
        #expect(
            m.received(tw.message("2", seq: 3, [(7, "5"), (16, "3")]), at: t0).sent == [
                us.out(
                    "3", seq: 3,
                    [
                        (45, "3"), (58, "Value is incorrect (out of range) for this tag"), (371, "16"), (372, "2"),
                        (373, "5"),
                    ])
            ])
    }

    @Test func persistMessagesOffAnswersEverythingWithAGapFill() throws {
        let h = Harness(configuration(.acceptor) { $0.persistMessages = false })
        try h.connect()
        try h.receive(tw.logon())
        try h.send(newOrder("A2"))
        try h.send(newOrder("A3"))
        #expect(h.store.messageCount == 0)
        #expect(h.store.nextSenderMsgSeqNum == 4)
        _ = h.takeWire()
        try h.receive(tw.message("2", seq: 2, [(7, "1"), (16, "0")]))
        #expect(
            h.takeWire() == [
                us.message("4", seq: 1, [(36, "4"), (123, "Y")], header: [(43, "Y"), (122, "\(t0.utc)")])
            ])
    }
}
