import FIXCore
import NIOCore
import Testing

@testable import FIXSession

@Suite struct ResetSeqNumFlagTests {
    @Test func initiatorWithResetOnLogonResetsTheStoreAndSendsTheFlag() throws {
        let store = MemoryStore()
        try store.setNextSenderMsgSeqNum(40)
        try store.setNextTargetMsgSeqNum(30)
        let h = Harness(configuration(.initiator) { $0.resetOnLogon = true }, store: store)
        let actions = try h.connect()
        #expect(
            actions.withoutTimers == [
                .event(.connected(.initiator)), .resetStore(creationTime: t0.utc),
                .event(.sequenceNumbersReset(reason: "ResetOnLogon")), .send([us.outLogon(reset: true)]),
                .event(.logonSent(resetSeqNumFlag: true)),
            ])
        #expect(store.nextSenderMsgSeqNum == 2 && store.nextTargetMsgSeqNum == 1)
        let answer = try h.receive(tw.logon(reset: true))
        #expect(answer.events == [.loggedOn(heartBtInt: 30, resetSeqNumFlag: true)])
        #expect(store.nextTargetMsgSeqNum == 2)
    }

    @Test func acceptorReceivingTheFlagResetsAndAnswersWithIt() throws {
        let store = MemoryStore()
        try store.setNextSenderMsgSeqNum(40)
        try store.setNextTargetMsgSeqNum(30)
        let h = Harness(configuration(.acceptor), store: store)
        try h.connect()
        #expect(
            try h.receive(tw.logon(reset: true)).withoutTimers == [
                .resetStore(creationTime: t0.utc),
                .event(.sequenceNumbersReset(reason: "Logon with ResetSeqNumFlag=Y")),
                .send([us.outLogon(reset: true)]), .event(.loggedOn(heartBtInt: 30, resetSeqNumFlag: true)),
                .persistNextTargetMsgSeqNum(2),
            ])
        #expect(store.nextSenderMsgSeqNum == 2 && store.nextTargetMsgSeqNum == 2)
    }

    /// The QuickFIX acceptance case SessionReset: a Logon with the flag on an established session.
    @Test func logonWithTheFlagWhileLoggedOnRestartsBothSequences() {
        var m = loggedOnAcceptor()
        for seq in 2...9 { _ = m.received(tw.message("0", seq: seq), at: t0) }
        #expect(m.received(tw.message("1", seq: 10, [(112, "1")]), at: t0).sent == [us.out("0", seq: 2, [(112, "1")])])
        #expect(
            m.received(tw.logon(reset: true), at: t0).withoutTimers == [
                .resetStore(creationTime: t0.utc),
                .event(.sequenceNumbersReset(reason: "Logon with ResetSeqNumFlag=Y")),
                .send([us.outLogon(reset: true)]), .event(.loggedOn(heartBtInt: 30, resetSeqNumFlag: true)),
                .persistNextTargetMsgSeqNum(2),
            ])
        #expect(m.received(tw.message("1", seq: 2, [(112, "1")]), at: t0).sent == [us.out("0", seq: 2, [(112, "1")])])
    }

    @Test func resetOnDisconnect() {
        var m = loggedOnAcceptor { $0.resetOnDisconnect = true }
        _ = m.received(tw.message("0", seq: 2), at: t0)
        #expect(
            m.disconnected(at: at(1)) == [
                .event(.disconnected), .resetStore(creationTime: at(1).utc),
                .event(.sequenceNumbersReset(reason: "ResetOnDisconnect")),
            ])
        #expect(m.nextSenderMsgSeqNum == 1 && m.nextTargetMsgSeqNum == 1)
    }
}

@Suite struct SessionScheduleEventTests {
    @Test func newSessionPeriodLogsOutAndResets() {
        var m = loggedOnAcceptor()
        #expect(
            m.newSessionPeriod(at: at(1)) == [
                .send([us.out("5", seq: 2, at: at(1))]), .event(.logoutSent(text: nil)),
                .event(.disconnecting(reason: "New session period")), .disconnect,
                .resetStore(creationTime: at(1).utc), .event(.sequenceNumbersReset(reason: "New session period")),
            ])
        #expect(m.nextSenderMsgSeqNum == 1 && m.nextTargetMsgSeqNum == 1)
        var idle = SessionStateMachine(
            configuration: configuration(.initiator), nextSenderMsgSeqNum: 9, nextTargetMsgSeqNum: 7)
        #expect(
            idle.newSessionPeriod(at: t0) == [
                .resetStore(creationTime: t0.utc), .event(.sequenceNumbersReset(reason: "New session period")),
            ])
    }

    @Test func closingTheScheduleLogsOut() {
        var m = loggedOnAcceptor()
        let actions = m.scheduleClosed(at: at(1))
        #expect(actions.events == [.scheduleChanged(open: false), .logoutSent(text: nil)])
        #expect(actions.sent == [us.out("5", seq: 2, at: at(1))])
        #expect(!m.isWithinSchedule)
        #expect(m.received(tw.message("5", seq: 2, at: at(1.5)), at: at(1.5)).disconnects)
    }

    @Test func acceptorRefusesLogonOutsideTheSchedule() {
        var m = SessionStateMachine(configuration: configuration(.acceptor))
        _ = m.scheduleClosed(at: t0)
        _ = m.connected(at: t0)
        let actions = m.received(tw.logon(), at: t0)
        #expect(actions.events.first == .logonRefused(reason: "Logon attempt not within session time"))
        #expect(actions.disconnects && actions.sent.isEmpty)
        _ = m.disconnected(at: t0)
        #expect(m.scheduleOpened(at: at(1)).events == [.scheduleChanged(open: true)])
        _ = m.connected(at: at(1))
        _ = m.received(tw.logon(at: at(1)), at: at(1))
        #expect(m.isLoggedOn)
    }

    @Test func initiatorDoesNotLogOnOutsideTheSchedule() {
        var m = SessionStateMachine(configuration: configuration(.initiator))
        _ = m.scheduleClosed(at: t0)
        let actions = m.connected(at: t0)
        #expect(actions.sent.isEmpty)
        #expect(actions.disconnects)
    }
}

@Suite struct ApplicationSendTests {
    @Test func sendFillsInTheHeaderAndIsKeptForResends() throws {
        var m = loggedOnAcceptor()
        let expected = OutboundMessage(
            seqNum: 2, msgType: "D", bytes: us.builder("D", seq: 2, at: at(1), [], header: []).encodedOrder(),
            storage: .message)
        #expect(try m.send(newOrder(), at: at(1)).withoutTimers == [.send([expected])])
        #expect(m.nextSenderMsgSeqNum == 3)
    }

    @Test func sendIsRefusedWhenNotLoggedOnAndConsumesNothing() {
        var m = SessionStateMachine(configuration: configuration(.acceptor))
        #expect(throws: SessionSendError.notLoggedOn) { try m.send(newOrder(), at: t0) }
        _ = m.connected(at: t0)
        #expect(throws: SessionSendError.notLoggedOn) { try m.send(newOrder(), at: t0) }
        #expect(m.nextSenderMsgSeqNum == 1)
    }

    @Test func sessionMessagesCannotBeSentByTheApplication() {
        var m = loggedOnAcceptor()
        #expect(throws: SessionSendError.sessionMessageType("4")) {
            try m.send(FIXMessageBuilder(msgType: "4"), at: t0)
        }
    }

    @Test func persistMessagesOffRecordsOnlyTheSequenceNumber() throws {
        var m = loggedOnAcceptor { $0.persistMessages = false }
        #expect(try m.send(newOrder(), at: t0).sent.map(\.storage) == [.sequenceNumberOnly])
    }

    @Test func restoreAdoptsReloadedSequenceNumbers() {
        var m = SessionStateMachine(configuration: configuration(.initiator) { $0.refreshOnLogon = true })
        m.restore(nextSenderMsgSeqNum: 12, nextTargetMsgSeqNum: 8)
        #expect(m.connected(at: t0).sent == [us.outLogon(seq: 12)])
        #expect(m.received(tw.logon(seq: 8), at: t0).withoutTimers.contains(.persistNextTargetMsgSeqNum(9)))
    }

    @Test func timerIsScheduledOnlyWhenTheDeadlineComesEarlier() {
        var m = SessionStateMachine(configuration: configuration(.acceptor, heartBtInt: 30))
        let ns = t0.monotonicNanoseconds
        #expect(m.connected(at: t0).last == .scheduleTick(atMonotonicNanoseconds: ns + 10_000_000_000))
        // Logged on: the next deadline (heartbeat at +30 s) is later than the pending tick: nothing new.
        #expect(!m.received(tw.logon(), at: t0).contains { if case .scheduleTick = $0 { true } else { false } })
        #expect(m.tick(at: at(10)) == [.scheduleTick(atMonotonicNanoseconds: ns + 30_000_000_000)])
        // Disconnected: no timer at all.
        #expect(m.disconnected(at: at(11)) == [.event(.disconnected)])
        #expect(m.tick(at: at(30)).isEmpty)
    }
}

extension FIXMessageBuilder {
    /// This builder's header with newOrder()'s body, encoded (for comparing with what the session sends).
    fileprivate func encodedOrder() -> ByteBuffer {
        var b = newOrder()
        b.beginString = beginString
        for tag in [34, 49, 52, 56] { if let v = self[tag] { b.set(tag, v) } }
        return b.encoded()
    }
}

@Suite struct SessionTimeTests {
    @Test func nowReadsBothClocks() {
        let a = SessionTime.now()
        let b = SessionTime.now()
        #expect(b.monotonicNanoseconds >= a.monotonicNanoseconds)
        // Some time after this code was written, and before the year 2200.
        #expect(a.utc > UTCTimestamp(year: 2024, month: 1, day: 1)!)
        #expect(a.utc < UTCTimestamp(year: 2200, month: 1, day: 1)!)
        #expect(a.adding(seconds: 1.5).monotonicNanoseconds == a.monotonicNanoseconds + 1_500_000_000)
    }
}
