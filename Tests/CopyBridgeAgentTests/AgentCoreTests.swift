import CopyEngine
import FIXCore
import Testing

@testable import CopyBridgeAgent

@Suite("AgentCore's copy path")
struct AgentCoreTests {
    private func intent(_ id: String) -> OrderIntent {
        OrderIntent(
            clOrdID: id, session: "orders", symbol: "EUR/USD", brokerSymbol: "EUR/USD", side: .buy, quantity: 1000,
            brokerQuantity: 1000, ordType: .market, timeInForce: .ioc, price: nil, account: "F1", allocations: [],
            signal: "E1", attempt: 0, block: false, createdAt: 0)
    }

    private func order(_ id: String) -> FIXMessageBuilder {
        var b = FIXMessageBuilder(msgType: "D")
        b.set(FIXTag.clOrdID, id)
        return b
    }

    @Test("an order's intent is found from the last one on, then from the start; an unknown order has none")
    func intentOfAnOrder() {
        let intents = ["A", "B", "C"].map(intent)
        #expect(AgentCore.intent(of: order("B"), in: intents, from: 0) == 1)
        #expect(AgentCore.intent(of: order("C"), in: intents, from: 2) == 2)
        #expect(AgentCore.intent(of: order("A"), in: intents, from: 2) == 0, "searched again from the start")
        #expect(AgentCore.intent(of: order("A"), in: intents, from: 7) == 0, "a start past the end")
        #expect(AgentCore.intent(of: order("Z"), in: intents, from: 1) == nil)
        #expect(AgentCore.intent(of: order("A"), in: [], from: 0) == nil)
    }
}
