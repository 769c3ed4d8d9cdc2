import FIXCore
import NIOCore
import Testing

@testable import FIXSession

@Suite struct Session2aTests {
    @Test func messageWithTheExpectedMsgSeqNumIsDelivered() {
        var m = loggedOnAcceptor()
        let order = tw.order(seq: 2)
        #expect(m.received(order, at: at(1)).withoutTimers == [.deliver(order), .persistNextTargetMsgSeqNum(3)])
        #expect(m.nextTargetMsgSeqNum == 3)
    }
}

@Suite struct Session2bTests {
    @Test func msgSeqNumTooHighIsQueuedResendRequestedAndProcessedOnceTheGapIsFilled() {
        var m = loggedOnAcceptor()
        for seq in 2...4 { _ = m.received(tw.message("0", seq: seq), at: t0) }
        let ten = tw.message("1", seq: 10, [(112, "TEN")])
        #expect(
            m.received(ten, at: t0).withoutTimers == [
                .event(.sequenceGap(expected: 5, received: 10)),
                .send([us.out("2", seq: 2, [(7, "5"), (16, "0")])]),
                .event(.resendRequestSent(beginSeqNo: 5, endSeqNo: 0)),
            ])
        for seq in 5...8 {
            #expect(
                m.received(tw.message("0", seq: seq), at: t0).withoutTimers == [.persistNextTargetMsgSeqNum(seq + 1)])
        }
        // The last missing message releases the queued TestRequest, which is answered now.
        #expect(
            m.received(tw.message("0", seq: 9), at: t0).withoutTimers == [
                .send([us.out("0", seq: 3, [(112, "TEN")])]), .event(.resendComplete),
                .persistNextTargetMsgSeqNum(11),
            ])
    }

    @Test func anotherGapWhileWaitingSendsNoRedundantResendRequest() {
        var m = loggedOnAcceptor()
        _ = m.received(tw.message("0", seq: 5), at: t0)
        #expect(m.received(tw.message("0", seq: 7), at: t0).sent.isEmpty)
        // ... unless configured to.
        var redundant = loggedOnAcceptor { $0.sendRedundantResendRequests = true }
        _ = redundant.received(tw.message("0", seq: 5), at: t0)
        #expect(
            redundant.received(tw.message("0", seq: 7), at: t0).sent == [us.out("2", seq: 3, [(7, "2"), (16, "0")])])
    }

    @Test func resendRequestsAreChunked() {
        var m = loggedOnAcceptor { $0.resendRequestChunkSize = 3 }
        #expect(m.received(tw.message("0", seq: 9), at: t0).sent == [us.out("2", seq: 2, [(7, "2"), (16, "4")])])
        for seq in 2...3 { #expect(m.received(tw.message("0", seq: seq), at: t0).sent.isEmpty) }
        // The first chunk is complete: ask for the next.
        #expect(m.received(tw.message("0", seq: 4), at: t0).sent == [us.out("2", seq: 3, [(7, "5"), (16, "7")])])
        for seq in 5...7 { _ = m.received(tw.message("0", seq: seq), at: t0) }
        #expect(m.nextTargetMsgSeqNum == 8)
        let last = m.received(tw.message("0", seq: 8), at: t0)
        #expect(last.sent.isEmpty)
        #expect(last.events == [.resendComplete])
        #expect(m.nextTargetMsgSeqNum == 10)
    }
}

@Suite struct Session2cTests {
    @Test func msgSeqNumTooLowWithoutPossDupLogsOutAndDisconnects() {
        var m = loggedOnAcceptor()
        for seq in 2...4 { _ = m.received(tw.message("0", seq: seq), at: t0) }
        let text = "MsgSeqNum too low, expecting 5 but received 2"
        #expect(
            m.received(tw.message("0", seq: 2), at: t0) == [
                .send([us.out("5", seq: 2, [(58, text)])]), .event(.logoutSent(text: text)),
                .event(.disconnecting(reason: text)), .disconnect,
            ])
        #expect(!m.isLoggedOn)
    }
}

@Suite struct Session2dTests {
    @Test func garbledMessageIsIgnoredAndTheSequenceContinues() throws {
        var m = loggedOnAcceptor()
        var bytes = tw.message("0", seq: 2).byteArray
        bytes[bytes.count - 2] = bytes[bytes.count - 2] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let results = decode(ByteBuffer(bytes: bytes))
        try #require(results.count == 1)
        guard case .garbled(let error, _) = results[0] else {
            Issue.record("a frame with a wrong CheckSum was decoded")
            return
        }
        #expect(m.received(results[0], at: t0) == [.event(.garbledIgnored(error))])
        #expect(m.nextTargetMsgSeqNum == 2)
        #expect(m.received(tw.message("0", seq: 2), at: t0).withoutTimers == [.persistNextTargetMsgSeqNum(3)])
    }
}

@Suite struct Session2eTests {
    @Test func possDupAlreadyReceivedIsIgnored() {
        var m = loggedOnAcceptor()
        _ = m.received(tw.order(seq: 2), at: t0)
        let dup = tw.order(seq: 2, header: [(43, "Y"), (122, "\(t0.utc)")])
        #expect(m.received(dup, at: t0).withoutTimers == [.event(.duplicateIgnored(seqNum: 2))])
        #expect(m.nextTargetMsgSeqNum == 3)
    }

    @Test func possDupNotYetReceivedIsProcessed() {
        var m = loggedOnAcceptor()
        let dup = tw.order(seq: 2, header: [(43, "Y"), (122, "\(t0.utc)")])
        #expect(m.received(dup, at: t0).withoutTimers == [.deliver(dup), .persistNextTargetMsgSeqNum(3)])
    }
}

@Suite struct Session2fTests {
    @Test func possDupWithOrigSendingTimeAfterSendingTimeIsRejected() {
        var m = loggedOnAcceptor()
        _ = m.received(tw.order(seq: 2), at: t0)
        _ = m.received(tw.order(seq: 3), at: t0)
        let dup = tw.order(seq: 2, header: [(43, "Y"), (122, "\(at(10).utc)")])
        let info = FIXRejectInfo(.sendingTimeAccuracyProblem, refMsgType: "D")
        #expect(
            m.received(dup, at: t0).withoutTimers == [
                .send([us.out("3", seq: 2, [(45, "2"), (58, "SendingTime accuracy problem"), (372, "D"), (373, "10")])]
                ),
                .event(.rejectSent(refSeqNum: 2, info)),
            ])
        // The test case asks for a Reject only: the session goes on, nothing consumed.
        #expect(m.isLoggedOn)
        #expect(m.nextTargetMsgSeqNum == 4)
    }
}

@Suite struct Session2gTests {
    @Test func possDupWithoutOrigSendingTimeIsRejectedWithoutConsumingASequenceNumber() {
        var m = loggedOnAcceptor()
        _ = m.received(tw.order(seq: 2), at: t0)
        _ = m.received(tw.order(seq: 3), at: t0)
        let dup = tw.order(seq: 2, header: [(43, "Y")])
        #expect(
            m.received(dup, at: t0).sent == [
                us.out("3", seq: 2, [(45, "2"), (58, "Required tag missing"), (371, "122"), (372, "D"), (373, "1")])
            ])
        #expect(
            m.received(tw.message("1", seq: 4, [(112, "HELLO")]), at: t0).sent == [
                us.out("0", seq: 3, [(112, "HELLO")])
            ])
    }
}

@Suite struct Session2iTests {
    @Test func beginStringMismatchLogsOutAndDisconnects() {
        var m = loggedOnAcceptor()
        var old = tw
        old.beginString = "FIX.4.1"
        #expect(
            m.received(old.message("1", seq: 2, [(112, "id")]), at: t0) == [
                .send([us.out("5", seq: 2, [(58, "Incorrect BeginString")])]),
                .event(.logoutSent(text: "Incorrect BeginString")),
                .event(.disconnecting(reason: "Incorrect BeginString FIX.4.1")), .disconnect,
            ])
    }
}

@Suite struct Session2kTests {
    @Test(arguments: [("WT", "ISLD"), ("TW", "DLSI"), ("WT", "DLSI")])
    func compIDMismatchIsRejectedThenLoggedOut(sender: String, target: String) {
        var m = loggedOnAcceptor()
        let wrong = Side(sender: sender, target: target)
        let actions = m.received(wrong.order(seq: 2), at: t0)
        #expect(
            actions.withoutTimers == [
                .send([
                    us.out("3", seq: 2, [(45, "2"), (58, "CompID problem"), (372, "D"), (373, "9")]),
                    us.out("5", seq: 3),
                ]),
                .event(.rejectSent(refSeqNum: 2, FIXRejectInfo(.compIDProblem, refMsgType: "D"))),
                .event(.logoutSent(text: nil)), .persistNextTargetMsgSeqNum(3),
            ])
        #expect(!m.isLoggedOn)
        // The counterparty answers the Logout: disconnect.
        #expect(m.received(tw.message("5", seq: 3), at: t0).disconnects)
    }
}

@Suite struct Session2mTests {
    @Test func wrongBodyLengthIsIgnored() {
        var m = loggedOnAcceptor()
        for r in decode(withBodyLength(tw.message("0", seq: 2), 7)) {
            guard case .garbled(let error, _) = r else {
                Issue.record("a frame with a wrong BodyLength was decoded")
                continue
            }
            #expect(m.received(r, at: t0) == [.event(.garbledIgnored(error))])
        }
        #expect(m.nextTargetMsgSeqNum == 2)
    }
}

@Suite struct Session2oTests {
    @Test(arguments: [-121.0, 121.0])
    func sendingTimeOutOfRangeIsRejectedThenLoggedOut(offset: Double) {
        var m = loggedOnAcceptor()
        let actions = m.received(tw.message("0", seq: 2, at: at(offset)), at: t0)
        #expect(
            actions.sent == [
                us.out("3", seq: 2, [(45, "2"), (58, "SendingTime accuracy problem"), (372, "0"), (373, "10")]),
                us.out("5", seq: 3),
            ])
        // No answer to the Logout: disconnect after LogoutTimeout.
        #expect(m.tick(at: at(1.9)).isEmpty)
        #expect(m.tick(at: at(2)).contains(.disconnect))
    }

    @Test func latencyIsNotCheckedWhenDisabled() {
        var m = loggedOnAcceptor { $0.checkLatency = false }
        #expect(m.received(tw.message("0", seq: 2, at: at(-3600)), at: t0).sent.isEmpty)
        #expect(m.isLoggedOn)
    }
}

@Suite struct Session2qTests {
    @Test func invalidMsgTypeIsRejected() {
        var m = loggedOnAcceptor()
        #expect(
            m.received(tw.message("*", seq: 2), at: t0).sent == [
                us.out("3", seq: 2, [(45, "2"), (58, "Invalid MsgType"), (372, "*"), (373, "11")])
            ])
        #expect(m.nextTargetMsgSeqNum == 3)
    }

    @Test func invalidMsgTypeIsRejectedByTheValidator() {
        var m = loggedOnAcceptor { $0.validator = TestValidator() }
        let actions = m.received(tw.message("ZZ", seq: 2), at: t0)
        #expect(actions.sent == [us.out("3", seq: 2, [(45, "2"), (58, "Invalid MsgType"), (372, "ZZ"), (373, "11")])])
        #expect(
            actions.events.contains(
                .applicationMessageRejected(tw.message("ZZ", seq: 2), FIXRejectInfo(.invalidMsgType, refMsgType: "ZZ")))
        )
    }
}

@Suite struct Session2rTests {
    @Test func validButUnsupportedMsgTypeGetsABusinessMessageReject() {
        var m = loggedOnAcceptor { $0.validator = TestValidator(supported: ["D"]) }
        let report = tw.message(
            "8", seq: 2,
            [
                (37, "id"), (17, "id"), (150, "0"), (39, "0"), (55, "WLRI"), (54, "1"), (151, "100"), (14, "0"),
                (6, "0.0"),
            ])
        #expect(
            m.received(report, at: t0).withoutTimers == [
                .send([
                    us.out("j", seq: 2, [(45, "2"), (58, "Unsupported Message Type"), (372, "8"), (380, "3")])
                ]),
                .event(.businessRejectSent(refSeqNum: 2, refMsgType: "8", text: "Unsupported Message Type")),
                .persistNextTargetMsgSeqNum(3),
            ])
    }
}

@Suite struct Session2tTests {
    @Test func firstThreeFieldsOutOfOrderIsGarbledAndIgnored() {
        var m = loggedOnAcceptor()
        let frame = rawFrame([(34, "2"), (35, "0"), (49, "TW"), (52, "\(t0.utc)"), (56, "ISLD")])
        let results = decode(frame)
        #expect(!results.isEmpty)
        for r in results {
            guard case .garbled(let error, _) = r else {
                Issue.record("a frame whose third field is not MsgType was decoded")
                continue
            }
            #expect(m.received(r, at: t0) == [.event(.garbledIgnored(error))])
        }
        #expect(m.nextTargetMsgSeqNum == 2)
    }
}

@Suite struct QueueBoundTests {
    @Test func messagesBeyondTheQueueLimitAreDroppedAndAskedForAgain() {
        var m = loggedOnAcceptor { $0.maxQueuedMessages = 2 }
        for seq in 5...7 { _ = m.received(tw.message("1", seq: seq, [(112, "T\(seq)")]), at: t0) }
        // 5 and 6 were kept, 7 was not: filling the gap answers two TestRequests and stops at 7.
        var answered: [String?] = []
        for seq in 2...4 {
            answered += m.received(tw.message("0", seq: seq, header: [(43, "Y"), (122, "\(t0.utc)")]), at: t0).sent
                .map { try? FIXFrameDecoder().decodeOne($0.bytes)[112] }
        }
        #expect(answered == ["T5", "T6"])
        #expect(m.nextTargetMsgSeqNum == 7)
        // The counterparty's next message reveals the hole and 7 is requested again.
        #expect(m.received(tw.message("0", seq: 8), at: t0).sent.map(\.msgType) == ["2"])
    }
}
