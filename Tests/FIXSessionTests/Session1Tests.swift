import FIXCore
import NIOCore
import Testing

@testable import FIXSession

/// A machine that has completed the Logon exchange as acceptor (TW logged on with MsgSeqNum 1).
func loggedOnAcceptor(
    heartBtInt: Int = 30, _ change: (inout SessionConfiguration) -> Void = { _ in }
) -> SessionStateMachine {
    var m = SessionStateMachine(configuration: configuration(.acceptor, heartBtInt: heartBtInt, change))
    _ = m.connected(at: t0)
    let actions = m.received(tw.logon(heartBtInt: heartBtInt), at: t0)
    precondition(m.isLoggedOn, "logon failed: \(actions)")
    return m
}

/// Garbles a message by writing a wrong BodyLength.
func withBodyLength(_ message: FIXMessage, _ bodyLength: Int) -> ByteBuffer {
    let bytes = message.byteArray
    let start = message.fields[1].valueStart
    let end = start + message.fields[1].valueLength
    return ByteBuffer(bytes: bytes[..<start] + Array("\(bodyLength)".utf8) + bytes[end...])
}

/// Decodes `bytes` the way the transport does and returns what the decoder produced.
func decode(_ bytes: ByteBuffer) -> [FIXDecodeResult] {
    var buffer = bytes
    var results: [FIXDecodeResult] = []
    let decoder = FIXFrameDecoder()
    while let r = decoder.next(from: &buffer) { results.append(r) }
    return results
}

@Suite struct Session1aTests {
    @Test func acceptorAnswersAValidLogon() {
        var m = SessionStateMachine(configuration: configuration(.acceptor))
        #expect(
            m.connected(at: t0) == [
                .event(.connected(.acceptor)),
                .scheduleTick(atMonotonicNanoseconds: t0.monotonicNanoseconds + 10_000_000_000),
            ])
        #expect(
            m.received(tw.logon(), at: t0).withoutTimers == [
                .send([us.outLogon()]), .event(.loggedOn(heartBtInt: 30, resetSeqNumFlag: false)),
                .persistNextTargetMsgSeqNum(2),
            ])
        #expect(m.isLoggedOn)
        #expect(m.nextSenderMsgSeqNum == 2)
        #expect(m.nextTargetMsgSeqNum == 2)
    }

    @Test func acceptorAdoptsTheCounterpartysHeartBtInt() {
        var m = SessionStateMachine(configuration: configuration(.acceptor, heartBtInt: 30))
        _ = m.connected(at: t0)
        #expect(m.received(tw.logon(heartBtInt: 5), at: t0).sent == [us.outLogon(heartBtInt: 5)])
        #expect(m.heartBtInt == 5)
    }

    @Test func initiatorSendsLogonAndAcceptsTheAnswer() {
        var m = SessionStateMachine(configuration: configuration(.initiator))
        #expect(
            m.connected(at: t0).withoutTimers == [
                .event(.connected(.initiator)), .send([us.outLogon()]), .event(.logonSent(resetSeqNumFlag: false)),
            ])
        #expect(!m.isLoggedOn)
        #expect(
            m.received(tw.logon(at: at(0.2)), at: at(0.2)).withoutTimers == [
                .event(.loggedOn(heartBtInt: 30, resetSeqNumFlag: false)), .persistNextTargetMsgSeqNum(2),
            ])
        #expect(m.isLoggedOn)
    }

    @Test func initiatorSendsCredentials() {
        var m = SessionStateMachine(
            configuration: configuration(.initiator) {
                $0.username = "alice"
                $0.password = "s3cret"
            })
        #expect(
            m.connected(at: t0).sent == [
                us.out("A", seq: 1, [(98, "0"), (108, "30"), (553, "alice"), (554, "s3cret")])
            ]
        )
    }

    @Test func acceptorLogonWithMsgSeqNumTooHighIsAcceptedThenResendRequested() {
        var m = SessionStateMachine(configuration: configuration(.acceptor))
        _ = m.connected(at: t0)
        #expect(
            m.received(tw.logon(seq: 5), at: t0).withoutTimers == [
                .send([us.outLogon(), us.out("2", seq: 2, [(7, "1"), (16, "0")])]),
                .event(.loggedOn(heartBtInt: 30, resetSeqNumFlag: false)),
                .event(.sequenceGap(expected: 1, received: 5)),
                .event(.resendRequestSent(beginSeqNo: 1, endSeqNo: 0)),
            ])
        #expect(m.isLoggedOn)
        // The counterparty fills 1...4 with a GapFill; the Logon (5) is then consumed.
        let gapFill = tw.message("4", seq: 1, [(36, "5"), (123, "Y")], header: [(43, "Y"), (122, "\(t0.utc)")])
        #expect(
            m.received(gapFill, at: at(1)).withoutTimers == [
                .event(.sequenceReset(from: 1, to: 5, gapFill: true)), .event(.resendComplete),
                .persistNextTargetMsgSeqNum(6),
            ])
    }

    @Test func initiatorLogonAnswerWithMsgSeqNumTooHighIsFollowedByResendRequest() {
        var m = SessionStateMachine(configuration: configuration(.initiator))
        _ = m.connected(at: t0)
        let actions = m.received(tw.logon(seq: 3), at: t0)
        #expect(m.isLoggedOn)
        #expect(actions.sent == [us.out("2", seq: 2, [(7, "1"), (16, "0")])])
    }
}

@Suite struct Session1bTests {
    @Test func secondConnectionWithTheSameIdentityIsRefusedWithoutAMessage() {
        var m = loggedOnAcceptor()
        #expect(m.connected(at: at(1)) == [.event(.duplicateConnectionRefused), .refuseConnection])
        #expect(m.isLoggedOn)
        // The established connection goes on.
        #expect(
            m.received(tw.message("1", seq: 2, at: at(2), [(112, "HELLO")]), at: at(2)).sent == [
                us.out("0", seq: 2, at: at(2), [(112, "HELLO")])
            ])
    }
}

@Suite struct Session1cTests {
    @Test func logonWithInvalidSenderCompIDIsDisconnectedSilently() {
        var m = SessionStateMachine(configuration: configuration(.acceptor))
        _ = m.connected(at: t0)
        let bad = Side(sender: "XX", target: "ISLD")
        #expect(
            m.received(bad.logon(), at: t0) == [
                .event(.logonRefused(reason: "CompID problem: received XX->ISLD")),
                .event(.disconnecting(reason: "CompID problem: received XX->ISLD")), .disconnect,
            ])
        #expect(!m.isLoggedOn)
    }

    @Test func logonWithInvalidTargetCompIDIsDisconnectedSilently() {
        var m = SessionStateMachine(configuration: configuration(.acceptor))
        _ = m.connected(at: t0)
        let actions = m.received(Side(sender: "TW", target: "DLSI").logon(), at: t0)
        #expect(actions.sent.isEmpty)
        #expect(actions.disconnects)
    }

    @Test func initiatorTellsWhyItRefusesTheAnswer() {
        var m = SessionStateMachine(configuration: configuration(.initiator))
        _ = m.connected(at: t0)
        let actions = m.received(Side(sender: "XX", target: "ISLD").logon(), at: t0)
        #expect(actions.sent == [us.out("5", seq: 2, [(58, "CompID problem: received XX->ISLD")])])
        #expect(actions.disconnects)
    }
}

@Suite struct Session1dTests {
    @Test func logonWithBadSendingTimeIsDisconnected() {
        var m = SessionStateMachine(configuration: configuration(.acceptor))
        _ = m.connected(at: t0)
        let actions = m.received(tw.logon(at: at(-121)), at: t0)
        #expect(actions.sent.isEmpty)
        #expect(actions.disconnects)
        #expect(actions.events.first == .logonRefused(reason: "SendingTime accuracy problem (20240304-09:57:59.000)"))
    }

    @Test func logonWithWrongBeginStringIsDisconnected() {
        var m = SessionStateMachine(configuration: configuration(.acceptor))
        _ = m.connected(at: t0)
        var old = tw
        old.beginString = "FIX.4.2"
        let actions = m.received(old.logon(), at: t0)
        #expect(actions.sent.isEmpty)
        #expect(actions.events.first == .logonRefused(reason: "Incorrect BeginString FIX.4.2"))
        #expect(actions.disconnects)
    }

    @Test func logonWithBadBodyLengthIsGarbledThenTheLogonTimesOut() throws {
        var m = SessionStateMachine(configuration: configuration(.acceptor))
        _ = m.connected(at: t0)
        let results = decode(withBodyLength(tw.logon(), 40))
        try #require(results.count >= 1)
        for r in results {
            guard case .garbled(let error, _) = r else {
                Issue.record("decoded a message from a garbled frame")
                return
            }
            #expect(m.received(r, at: t0) == [.event(.garbledIgnored(error))])
        }
        #expect(!m.isLoggedOn)
        #expect(m.tick(at: at(9.9)).isEmpty)
        #expect(
            m.tick(at: at(10)) == [
                .event(.logonTimeout), .event(.disconnecting(reason: "Timed out waiting for logon")), .disconnect,
            ])
    }

    @Test func logonWithoutHeartBtIntIsRefused() {
        var m = SessionStateMachine(configuration: configuration(.acceptor))
        _ = m.connected(at: t0)
        let actions = m.received(tw.message("A", seq: 1, [(98, "0")]), at: t0)
        #expect(actions.events.first == .logonRefused(reason: "HeartBtInt (108) missing or invalid"))
        #expect(actions.disconnects)
    }

    @Test func acceptorChecksCredentialsAndNeverEchoesThePassword() {
        let config = configuration(.acceptor) {
            $0.username = "alice"
            $0.password = "s3cret"
        }
        var m = SessionStateMachine(configuration: config)
        _ = m.connected(at: t0)
        let wrong = tw.message("A", seq: 1, [(98, "0"), (108, "30"), (553, "alice"), (554, "guess")])
        let actions = m.received(wrong, at: t0)
        #expect(actions.sent == [us.out("5", seq: 1, [(58, "Invalid username or password")])])
        #expect(actions.disconnects)
        #expect(!actions.events.map(\.description).joined().contains("guess"))

        var ok = SessionStateMachine(configuration: config)
        _ = ok.connected(at: t0)
        _ = ok.received(tw.message("A", seq: 1, [(98, "0"), (108, "30"), (553, "alice"), (554, "s3cret")]), at: t0)
        #expect(ok.isLoggedOn)
    }
}

@Suite struct Session1eTests {
    @Test func firstMessageNotALogonIsDisconnected() {
        var m = SessionStateMachine(configuration: configuration(.acceptor))
        _ = m.connected(at: t0)
        #expect(
            m.received(tw.message("0", seq: 1), at: t0) == [
                .event(.logonRefused(reason: "First message is not a Logon (35=0)")),
                .event(.disconnecting(reason: "First message is not a Logon (35=0)")), .disconnect,
            ])
    }

    @Test func initiatorAnsweredWithLogoutGivesUp() {
        var m = SessionStateMachine(configuration: configuration(.initiator))
        _ = m.connected(at: t0)
        let actions = m.received(tw.message("5", seq: 1, [(58, "Unknown session")]), at: t0)
        #expect(actions.events.contains(.logonRefused(reason: "Unknown session")))
        #expect(actions.disconnects)
        #expect(actions.sent.isEmpty)
    }
}
