import FIXCore
import NIOCore
import Testing

@testable import FIXSession

func gapFill(seq: Int, newSeqNo: Int, possDup: Bool = true) -> FIXMessage {
    tw.message(
        "4", seq: seq, [(36, "\(newSeqNo)"), (123, "Y")], header: possDup ? [(43, "Y"), (122, "\(t0.utc)")] : [])
}

func sequenceReset(seq: Int, newSeqNo: Int, gapFillFlag: String? = nil) -> FIXMessage {
    var fields = [(36, "\(newSeqNo)")]
    if let gapFillFlag { fields.append((123, gapFillFlag)) }
    return tw.message("4", seq: seq, fields)
}

@Suite struct Session10Tests {
    @Test func gapFillWithMsgSeqNumAsExpectedAdvances() {
        var m = loggedOnAcceptor()
        #expect(
            m.received(gapFill(seq: 2, newSeqNo: 20, possDup: false), at: t0).withoutTimers == [
                .event(.sequenceReset(from: 2, to: 20, gapFill: true)), .persistNextTargetMsgSeqNum(20),
            ])
        #expect(
            m.received(tw.message("1", seq: 20, [(112, "HELLO")]), at: t0).sent == [
                us.out("0", seq: 2, [(112, "HELLO")])
            ])
    }

    @Test func gapFillWithMsgSeqNumTooHighAsksForTheGap() {
        var m = loggedOnAcceptor()
        #expect(
            m.received(gapFill(seq: 10, newSeqNo: 20, possDup: false), at: t0).sent == [
                us.out("2", seq: 2, [(7, "2"), (16, "0")])
            ])
        #expect(m.nextTargetMsgSeqNum == 2)
    }

    @Test func gapFillWithMsgSeqNumTooLowAndPossDupIsIgnored() {
        var m = loggedOnAcceptor()
        _ = m.received(tw.message("0", seq: 2), at: t0)
        #expect(
            m.received(gapFill(seq: 1, newSeqNo: 20), at: t0).withoutTimers == [.event(.duplicateIgnored(seqNum: 1))])
        #expect(m.nextTargetMsgSeqNum == 3)
    }

    @Test func gapFillWithMsgSeqNumTooLowWithoutPossDupLogsOut() {
        var m = loggedOnAcceptor()
        _ = m.received(tw.message("0", seq: 2), at: t0)
        let actions = m.received(gapFill(seq: 1, newSeqNo: 20, possDup: false), at: t0)
        #expect(actions.sent == [us.out("5", seq: 2, [(58, "MsgSeqNum too low, expecting 3 but received 1")])])
        #expect(actions.disconnects)
    }

    @Test func gapFillWithNewSeqNoEqualSkipsNothing() {
        var m = loggedOnAcceptor()
        let actions = m.received(gapFill(seq: 2, newSeqNo: 2), at: t0)
        #expect(actions.sent.isEmpty)
        #expect(actions.events == [.warning("GapFill 2 with NewSeqNo equal to its MsgSeqNum skips nothing")])
        #expect(m.nextTargetMsgSeqNum == 2)
    }

    @Test func gapFillLoweringTheSequenceIsRejected() {
        var m = loggedOnAcceptor()
        for seq in 2...4 { _ = m.received(tw.message("0", seq: seq), at: t0) }
        let text = "Attempt to lower sequence number, invalid value NewSeqNo=3"
        #expect(
            m.received(gapFill(seq: 5, newSeqNo: 3), at: t0).withoutTimers == [
                .send([us.out("3", seq: 2, [(45, "5"), (58, text), (371, "36"), (372, "4"), (373, "5")])]),
                .event(
                    .rejectSent(refSeqNum: 5, FIXRejectInfo(.valueIncorrect, refTagID: 36, refMsgType: "4", text: text))
                ),
                .persistNextTargetMsgSeqNum(6),
            ])
    }
}

@Suite struct Session11Tests {
    @Test(arguments: [nil, "N"])
    func resetWithNewSeqNoGreaterAdvancesWhateverItsMsgSeqNum(gapFillFlag: String?) {
        var m = loggedOnAcceptor()
        #expect(
            m.received(sequenceReset(seq: 0, newSeqNo: 25, gapFillFlag: gapFillFlag), at: t0).withoutTimers == [
                .event(.sequenceReset(from: 2, to: 25, gapFill: false)), .persistNextTargetMsgSeqNum(25),
            ])
        #expect(
            m.received(tw.message("1", seq: 25, [(112, "HELLO")]), at: t0).sent == [
                us.out("0", seq: 2, [(112, "HELLO")])
            ])
    }

    @Test func resetWithNewSeqNoEqualIsAWarning() {
        var m = loggedOnAcceptor()
        let actions = m.received(sequenceReset(seq: 0, newSeqNo: 2), at: t0)
        #expect(actions.withoutTimers == [.event(.warning("SequenceReset to 2, the number already expected"))])
        #expect(m.nextTargetMsgSeqNum == 2)
    }

    @Test func resetLoweringTheSequenceIsRejectedAndChangesNothing() {
        var m = loggedOnAcceptor()
        let text = "Attempt to lower sequence number, invalid value NewSeqNo=1"
        #expect(
            m.received(sequenceReset(seq: 0, newSeqNo: 1), at: t0).sent == [
                us.out("3", seq: 2, [(45, "0"), (58, text), (371, "36"), (372, "4"), (373, "5")])
            ])
        #expect(m.nextTargetMsgSeqNum == 2)
        #expect(
            m.received(tw.message("1", seq: 2, [(112, "HELLO")]), at: t0).sent == [
                us.out("0", seq: 3, [(112, "HELLO")])
            ])
    }

    @Test func resetReleasesQueuedMessages() {
        var m = loggedOnAcceptor()
        _ = m.received(tw.message("1", seq: 6, [(112, "SIX")]), at: t0)
        let actions = m.received(sequenceReset(seq: 0, newSeqNo: 6), at: t0)
        #expect(actions.sent == [us.out("0", seq: 3, [(112, "SIX")])])
        #expect(actions.events.contains(.resendComplete))
        #expect(m.nextTargetMsgSeqNum == 7)
    }
}

@Suite struct Session13Tests {
    @Test func unsolicitedLogoutIsAnsweredThenDisconnected() {
        var m = loggedOnAcceptor()
        #expect(
            m.received(tw.message("5", seq: 2, [(58, "bye")]), at: t0) == [
                .event(.logoutReceived(text: "bye")), .send([us.out("5", seq: 2)]), .event(.logoutSent(text: nil)),
                .event(.disconnecting(reason: "Received logout")), .disconnect, .persistNextTargetMsgSeqNum(3),
            ])
        #expect(m.disconnected(at: t0) == [.event(.disconnected)])
        #expect(!m.isConnected)
    }

    @Test func ourLogoutEndsWithTheirsOrWithTheTimeout() throws {
        var m = loggedOnAcceptor()
        #expect(
            m.logout(text: "end of day", at: t0) == [
                .send([us.out("5", seq: 2, [(58, "end of day")])]), .event(.logoutSent(text: "end of day")),
                .scheduleTick(atMonotonicNanoseconds: t0.monotonicNanoseconds + 2_000_000_000),
            ])
        #expect(!m.isLoggedOn)
        #expect(throws: SessionSendError.notLoggedOn) { try m.send(newOrder(), at: t0) }
        #expect(
            m.received(tw.message("5", seq: 2), at: at(0.5)) == [
                .event(.logoutReceived(text: nil)), .event(.disconnecting(reason: "Logout complete")), .disconnect,
                .persistNextTargetMsgSeqNum(3),
            ])

        var silent = loggedOnAcceptor()
        _ = silent.logout(at: t0)
        #expect(silent.tick(at: at(2)).contains(.disconnect))
    }

    @Test func resetOnLogoutStartsBothSequencesAgain() {
        var m = loggedOnAcceptor { $0.resetOnLogout = true }
        let actions = m.received(tw.message("5", seq: 2), at: t0)
        #expect(actions.contains(.resetStore(creationTime: t0.utc)))
        #expect(m.nextSenderMsgSeqNum == 1 && m.nextTargetMsgSeqNum == 1)
    }
}

@Suite struct Session14Tests {
    /// 14a-14i: an invalid message is rejected with the validator's reason, its sequence number is
    /// consumed and the session goes on. Application messages also reach the application.
    static let cases: [(String, [(Int, String)], FIXRejectInfo)] = [
        (
            "14a undefined tag",
            [(11, "ID"), (21, "3"), (40, "1"), (54, "1"), (55, "INTC"), (60, "20240304-10:00:00"), (999, "x")],
            FIXRejectInfo(.invalidTagNumber, refTagID: 999, refMsgType: "D")
        ),
        (
            "14b required tag missing", [(11, "ID"), (21, "3"), (40, "1"), (54, "1"), (60, "20240304-10:00:00")],
            FIXRejectInfo(.requiredTagMissing, refTagID: 55, refMsgType: "D")
        ),
        (
            "14d tag without value",
            [(11, "ID"), (21, "3"), (40, "1"), (54, "1"), (55, ""), (60, "20240304-10:00:00")],
            FIXRejectInfo(.tagSpecifiedWithoutValue, refTagID: 55, refMsgType: "D")
        ),
        (
            "14e incorrect enum value",
            [(11, "ID"), (21, "4"), (40, "1"), (54, "1"), (55, "INTC"), (60, "20240304-10:00:00")],
            FIXRejectInfo(.valueIncorrect, refTagID: 21, refMsgType: "D")
        ),
        (
            "14f incorrect data format",
            [(11, "ID"), (21, "3"), (38, "abc"), (40, "1"), (54, "1"), (55, "INTC"), (60, "20240304-10:00:00")],
            FIXRejectInfo(.incorrectDataFormat, refTagID: 38, refMsgType: "D")
        ),
        (
            "14h repeated tag",
            [(11, "ID"), (21, "3"), (40, "1"), (54, "1"), (55, "INTC"), (55, "IBM"), (60, "20240304-10:00:00")],
            FIXRejectInfo(.tagAppearsMoreThanOnce, refTagID: 55, refMsgType: "D")
        ),
        (
            "14i group count",
            [
                (11, "ID"), (21, "3"), (40, "1"), (54, "1"), (55, "INTC"), (60, "20240304-10:00:00"), (78, "2"),
                (79, "A"), (80, "10"),
            ],
            FIXRejectInfo(.incorrectNumInGroupCount, refTagID: 78, refMsgType: "D")
        ),
    ]

    @Test(arguments: 0..<cases.count)
    func invalidApplicationMessageIsRejectedAndStillReported(index: Int) {
        let (name, body, info) = Session14Tests.cases[index]
        var m = loggedOnAcceptor { $0.validator = TestValidator() }
        let order = tw.message("D", seq: 2, body)
        var expected = [(45, "2"), (58, info.text), (372, "D"), (373, "\(info.reason.rawValue)")]
        if let tag = info.refTagID { expected.append((371, "\(tag)")) }
        #expect(
            m.received(order, at: t0).withoutTimers == [
                .send([us.out("3", seq: 2, expected)]), .event(.rejectSent(refSeqNum: 2, info)),
                .event(.applicationMessageRejected(order, info)), .persistNextTargetMsgSeqNum(3),
            ], "\(name)")
        #expect(m.isLoggedOn)
        #expect(m.received(tw.order(seq: 3), at: t0).delivered == [tw.order(seq: 3)])
    }

    @Test func requiredHeaderFieldMissingIsRejected() {
        var m = loggedOnAcceptor()
        #expect(
            m.received(tw.message("0", seq: 2, omit: [56]), at: t0).sent == [
                us.out("3", seq: 2, [(45, "2"), (58, "Required tag missing"), (371, "56"), (372, "0"), (373, "1")])
            ])
        #expect(m.nextTargetMsgSeqNum == 3)
    }

    @Test func tagNotDefinedForTheMessageTypeIsRejected() {
        struct HeartbeatValidator: MessageValidator {
            func validate(_ m: FIXMessage) -> FIXRejectInfo? {
                m.isMsgType("0") && m.contains(58) ? FIXRejectInfo(.tagNotDefinedForMessageType, refTagID: 58) : nil
            }
            func isSupported(msgType: String) -> Bool { true }
        }
        var m = loggedOnAcceptor { $0.validator = HeartbeatValidator() }
        #expect(
            m.received(tw.message("0", seq: 2, [(58, "hi")]), at: t0).sent == [
                us.out(
                    "3", seq: 2,
                    [(45, "2"), (58, "Tag not defined for this message type"), (371, "58"), (372, "0"), (373, "2")])
            ])
    }

    @Test func headerFieldAfterTheBodyIsRejected() {
        var m = loggedOnAcceptor { $0.validator = TestValidator() }
        let order = raw([
            (35, "D"), (34, "2"), (49, "TW"), (52, "\(t0.utc)"), (11, "ID"), (21, "3"), (56, "ISLD"), (40, "1"),
            (54, "1"), (55, "INTC"), (60, "20240304-10:00:00"),
        ])
        let actions = m.received(order, at: t0)
        #expect(
            actions.sent == [
                us.out(
                    "3", seq: 2,
                    [(45, "2"), (58, "Tag specified out of required order"), (371, "56"), (372, "D"), (373, "14")])
            ])
        #expect(actions.events.contains { if case .applicationMessageRejected = $0 { true } else { false } })
    }

    @Test func executionReportWithAnUnknownFieldStillReachesTheApplication() {
        var m = loggedOnAcceptor { $0.validator = TestValidator() }
        let fill = tw.message(
            "8", seq: 2,
            [
                (37, "O1"), (17, "E1"), (150, "F"), (39, "2"), (55, "INTC"), (54, "1"), (151, "0"), (14, "100"),
                (6, "20.5"), (4321, "x"),
            ])
        let info = FIXRejectInfo(.invalidTagNumber, refTagID: 4321, refMsgType: "8")
        let actions = m.received(fill, at: t0)
        #expect(actions.events.contains(.applicationMessageRejected(fill, info)))
        #expect(actions.delivered.isEmpty)
        // User-defined fields (5000 and above) are tolerated by this dictionary: delivered.
        let custom = tw.message(
            "8", seq: 3,
            [
                (37, "O1"), (17, "E2"), (150, "F"), (39, "2"), (55, "INTC"), (54, "1"), (151, "0"), (14, "100"),
                (6, "20.5"), (5001, "x"),
            ])
        #expect(m.received(custom, at: t0).delivered == [custom])
    }

    @Test func validatorIsNotConsultedWithoutUseDataDictionary() {
        var m = loggedOnAcceptor {
            $0.validator = TestValidator()
            $0.validationOptions.useDataDictionary = false
        }
        let order = tw.message("D", seq: 2, [(11, "ID"), (999, "x")])
        #expect(m.received(order, at: t0).delivered == [order])
    }
}

@Suite struct Session15Tests {
    @Test func headerAndBodyFieldsInAnotherOrderAreAccepted() {
        var m = loggedOnAcceptor { $0.validator = TestValidator() }
        let order = raw([
            (35, "D"), (56, "ISLD"), (52, "\(t0.utc)"), (34, "2"), (49, "TW"), (60, "20240304-10:00:00"), (55, "INTC"),
            (54, "1"), (40, "1"), (21, "3"), (11, "ID"),
        ])
        #expect(m.received(order, at: t0).withoutTimers == [.deliver(order), .persistNextTargetMsgSeqNum(3)])
    }
}

@Suite struct Session19Tests {
    @Test(arguments: ["ID", "NEW"])
    func possResendIsPassedToTheApplication(clOrdID: String) {
        var m = loggedOnAcceptor()
        _ = m.received(tw.order(seq: 2, clOrdID: "ID"), at: t0)
        let resent = tw.order(seq: 3, clOrdID: clOrdID, header: [(97, "Y"), (122, "\(t0.utc)")])
        let delivered = m.received(resent, at: t0).delivered
        #expect(delivered == [resent])
        #expect(delivered.first?[97] == "Y")
    }
}

@Suite struct Session20Tests {
    /// The QuickFIX acceptance case 20_SimultaneousResendRequest.
    @Test func simultaneousResendRequestsAnswerTheirsAndKeepOurs() throws {
        let h = Harness(configuration(.acceptor))
        try h.connect()
        try h.receive(tw.logon())
        try h.receive(tw.order(seq: 2))
        try h.send(newOrder("A2"))
        try h.receive(tw.order(seq: 3))
        try h.send(newOrder("A3"))
        _ = h.takeWire()
        // They jump to 7: we ask for 4 onwards.
        try h.receive(tw.message("0", seq: 7))
        #expect(h.takeWire() == [us.message("2", seq: 4, [(7, "4"), (16, "0")])])
        // Their own ResendRequest (8, also ahead) is answered at once.
        let now = at(1)
        try h.receive(tw.message("2", seq: 8, at: now, [(7, "2"), (16, "3")]), at: now)
        let resent = h.takeWire()
        #expect(resent.map(\.msgSeqNum) == [2, 3])
        #expect(resent.allSatisfy { $0[43] == "Y" && $0[122] == "\(t0.utc)" && $0[52] == "\(now.utc)" })
        // Then they fill our gap; 7 and 8 are consumed from the queue.
        for seq in 4...6 {
            try h.receive(tw.message("0", seq: seq, at: now, header: [(43, "Y"), (122, "\(t0.utc)")]), at: now)
        }
        #expect(h.machine.nextTargetMsgSeqNum == 9)
        #expect(h.events.contains(.resendComplete))
        try h.receive(tw.message("5", seq: 9, at: now), at: now)
        #expect(h.takeWire() == [us.message("5", seq: 5, at: now)])
    }
}

@Suite struct Session21Tests {
    @Test func repeatingGroupWithCountZeroIsValid() {
        var m = loggedOnAcceptor { $0.validator = TestValidator() }
        let order = tw.message(
            "D", seq: 2,
            [(11, "ID"), (21, "3"), (40, "1"), (54, "1"), (55, "INTC"), (60, "20240304-10:00:00"), (78, "0")])
        #expect(m.received(order, at: t0).delivered == [order])
    }
}
