import CopyEngine
import FIXCore
import Testing

@testable import CopyBridgeAgent

@Suite("Admin commands on the engine")
struct AdminHandlerTests {
    @Test func pauseAndResumeAreJournaledWithWhoAndWhyAndAnswerWithTheFollower() async throws {
        let sink = try EngineSinkFake.standard()
        let handler = EngineAdminHandler(sink: sink, currency: "EUR")
        let paused = try await handler.handle(
            .pause(follower: "bob"), actor: "ctl:ops@127.0.0.1", reason: "maintenance")
        #expect(paused.outcome == .applied && paused.message == "bob is paused")
        #expect(paused.follower?.state == .paused && paused.follower?.reason == "paused")
        #expect(paused.follower?.currency == "EUR" && paused.follower?.equity == 10_000)
        guard case .command(.pauseFollower("bob"), _, let actor, let reason) = sink.journal.last else {
            Issue.record("the command is not journaled: \(String(describing: sink.journal.last))")
            return
        }
        #expect(actor == "ctl:ops@127.0.0.1" && reason == "maintenance")

        let again = try await handler.handle(.pause(follower: "bob"), actor: "ctl:ops", reason: nil)
        #expect(again.outcome == .unchanged && again.message == "bob is already paused")
        #expect(again.follower?.state == .paused)
        let records = sink.journal.count
        await #expect(throws: AdminCommandError.unknownFollower("zed")) {
            try await handler.handle(.pause(follower: "zed"), actor: "ctl:ops", reason: nil)
        }
        #expect(sink.journal.count == records, "nothing journaled for an unchanged or unknown command")

        let resumed = try await handler.handle(.resume(follower: "bob"), actor: "ctl:ops", reason: nil)
        #expect(resumed.outcome == .applied && resumed.follower?.state == .active)
    }

    @Test func disableWithFlattenClosesTheCopiesAndEnableBringsHerBack() async throws {
        let sink = try EngineSinkFake.standard()
        let handler = EngineAdminHandler(sink: sink)
        sink.providerFill(side: "1", qty: 100_000)
        sink.fillOrders()
        #expect(sink.sent.count == 1)
        let disabled = try await handler.handle(
            .disable(provider: "alice", flatten: true), actor: "ctl:ops", reason: nil)
        #expect(disabled.outcome == .started)
        #expect(disabled.message == "alice is disabled; closing the copies of 1 follower(s)")
        #expect(disabled.provider?.state == .disabled && disabled.provider?.reason == "disabled by the operator")
        let close = try #require(sink.sent.last?.message)
        #expect(close.isMsgType("D") && close[54] == "2" && close[38] == "10000" && close[1] == "BOB-07")
        // Her positions are hers: the snapshot still shows them.
        #expect(disabled.provider?.positions.map(\.quantity) == [100_000])

        let again = try await handler.handle(.disable(provider: "alice", flatten: false), actor: "ctl:ops", reason: nil)
        #expect(again.outcome == .unchanged && again.message == "alice is already disabled")
        let enabled = try await handler.handle(.enable(provider: "alice"), actor: "ctl:ops", reason: nil)
        #expect(enabled.outcome == .applied && enabled.provider?.state == .active)
        await #expect(throws: AdminCommandError.unknownProvider("bob")) {
            try await handler.handle(.enable(provider: "bob"), actor: "ctl:ops", reason: nil)
        }
    }

    @Test func flattenStartsClosingAndHoldsUntilResume() async throws {
        let sink = try EngineSinkFake.standard()
        let handler = EngineAdminHandler(sink: sink)
        sink.providerFill(side: "1", qty: 100_000)
        sink.fillOrders()
        let result = try await handler.handle(.flatten(follower: "bob"), actor: "ctl:ops", reason: "client asked")
        #expect(result.outcome == .started)
        #expect(result.message == "bob is being flattened: closing 1 position(s); nothing new is copied until resume")
        #expect(result.follower?.state == .paused && result.follower?.reason == "flattened by the operator")
        sink.fillOrders()
        let state = try await sink.engineState()
        #expect(state.follower("bob")?.positions.isEmpty == true)
        let done = try await handler.handle(.flatten(follower: "bob"), actor: "ctl:ops", reason: nil)
        #expect(done.outcome == .unchanged && done.message == "bob is flat and flattened")
    }

    @Test func resetBreakerReArmsATrippedBreakerByNameOrOwner() async throws {
        let sink = try EngineSinkFake.standard(sessionDownBreaker: true)
        let handler = EngineAdminHandler(sink: sink)
        sink.feed(.sessionDown(session: "beta", at: 5_000_000))
        let status = try await handler.handle(.status, actor: "ctl:ops", reason: nil)
        #expect(status.outcome == .unchanged)
        #expect(status.message == "0 of 1 follower(s) copying; tripped: broker:beta; sessions down: beta")
        let snapshot = await sink.snapshot()
        #expect(snapshot.followers.first?.state == .tripped)
        #expect(snapshot.breakers.first { $0.name == "broker:beta" }?.reason == "session-down: session beta down")

        await #expect(throws: AdminCommandError.unknownBreaker("nope")) {
            try await handler.handle(.resetBreaker(name: "nope"), actor: "ctl:ops", reason: nil)
        }
        let reset = try await handler.handle(.resetBreaker(name: "beta"), actor: "ctl:ops", reason: "broker is back")
        #expect(reset.outcome == .applied && reset.message == "reset broker:beta")
        #expect(reset.breaker?.name == "broker:beta" && reset.breaker?.tripped == false)
        let again = try await handler.handle(.resetBreaker(name: "broker:beta"), actor: "ctl:ops", reason: nil)
        #expect(again.outcome == .unchanged && again.message == "no tripped breaker: broker:beta")
        #expect(
            sink.journal.contains {
                if case .breaker(let b) = $0 { b.name == "broker:beta" && !b.tripped } else { false }
            })
    }

    @Test func resyncAsksTheBrokersAgain() async throws {
        let sink = try EngineSinkFake.standard()
        let handler = EngineAdminHandler(sink: sink)
        let before = sink.sent.count
        let result = try await handler.handle(.resync, actor: "ctl:ops", reason: nil)
        #expect(result.outcome == .started)
        let requests = sink.sent.dropFirst(before).map(\.message)
        #expect(requests.filter { $0.isMsgType("AN") }.compactMap { $0[1] }.sorted() == ["ALICE-01", "BOB-07"])
        let state = try await sink.engineState()
        #expect(state.sessions.map(\.phase) == [.settlingPositions, .settlingPositions])
    }
}
