import FIXCore

/// A running provider bot.
struct BotState: Sendable {
    let configuration: SimBotConfiguration
    /// Next script line to send.
    var nextStep = 0
    var clOrdCounter = 0

    init(configuration: SimBotConfiguration) {
        self.configuration = configuration
    }
}

extension SimulatedBroker {
    func firstBotWakeUp(_ i: Int) -> Int64? {
        switch bots[i].configuration.style {
        case .script(let steps):
            return steps.first.map { nanos(afterStart: $0.offsetMs) }
        case .random(let settings):
            return nowNanos + Int64(settings.intervalMs) * 1_000_000
        }
    }

    func nanos(afterStart ms: Int) -> Int64 {
        start.nanosecondsSinceEpoch + Int64(ms) * 1_000_000
    }

    mutating func nextBotClOrdID(_ i: Int) -> String {
        bots[i].clOrdCounter += 1
        return "BOT-\(bots[i].configuration.account)-\(bots[i].clOrdCounter)"
    }

    mutating func botAct(_ i: Int, into out: inout [SimOutput]) {
        let bot = bots[i].configuration
        switch bot.style {
        case .script(let steps):
            // Every line due now, then sleep until the next line's offset.
            while bots[i].nextStep < steps.count && nanos(afterStart: steps[bots[i].nextStep].offsetMs) <= nowNanos {
                let step = steps[bots[i].nextStep]
                bots[i].nextStep += 1
                let request = SimOrderRequest(
                    clOrdID: nextBotClOrdID(i), account: bot.account, symbol: step.symbol, side: step.side,
                    quantity: step.quantity, ordType: step.ordType,
                    price: step.ordType.hasLimitPrice ? step.price : nil,
                    stopPx: step.ordType.hasStopPrice ? step.price : nil, timeInForce: step.timeInForce)
                enter(request, origin: .direct(account: bot.account), fillModel: bot.fillModel, into: &out)
            }
            if bots[i].nextStep < steps.count {
                events.schedule(.bot(i), at: nanos(afterStart: steps[bots[i].nextStep].offsetMs))
            }
        case .random(let settings):
            randomBotAct(i, settings, into: &out)
            events.schedule(.bot(i), at: nowNanos + Int64(settings.intervalMs) * 1_000_000)
        }
    }

    /// One random action: cancel the oldest resting order (15%), close a position in the chosen
    /// symbol when there is one (35%), place a resting limit a few ticks away (15%), or trade at
    /// market (the rest).
    mutating func randomBotAct(_ i: Int, _ settings: SimRandomBotSettings, into out: inout [SimOutput]) {
        let bot = bots[i].configuration
        let origin = SimOrderOrigin.direct(account: bot.account)
        let symbols = settings.symbols.isEmpty ? instruments.map(\.symbol) : settings.symbols
        let symbol = symbols[botRandom.int(in: 0...(symbols.count - 1))]
        let roll = botRandom.int(in: 0...99)
        if roll < 15, let resting = live.first(where: { orderList[$0].origin == origin }) {
            cancelOrder(resting, newClOrdID: nextBotClOrdID(i), text: nil, into: &out)
            return
        }
        let position = self.position(account: bot.account, symbol: symbol).quantity
        if roll < 50 && !position.isZero {
            let request = SimOrderRequest(
                clOrdID: nextBotClOrdID(i), account: bot.account, symbol: symbol,
                side: position.isPositive ? .sell : .buy, quantity: position.magnitude, ordType: .market,
                timeInForce: .goodTillCancel)
            enter(request, origin: origin, fillModel: bot.fillModel, into: &out)
            return
        }
        let side: SimSide = botRandom.int(in: 0...1) == 0 ? .buy : .sell
        let step = settings.quantityStep
        let lowSteps = max(Int(settings.minimumQuantity.divided(by: step, scale: 0, .ceiling).mantissa), 1)
        let highSteps = max(Int(settings.maximumQuantity.divided(by: step, scale: 0, .floor).mantissa), lowSteps)
        var quantity = step * FixedDecimal(botRandom.int(in: lowSteps...highSteps))
        if let scale = settings.quantityScale[symbol] { quantity = (quantity * scale).normalized }
        var request = SimOrderRequest(
            clOrdID: nextBotClOrdID(i), account: bot.account, symbol: symbol, side: side, quantity: quantity,
            ordType: .market, timeInForce: .goodTillCancel)
        if roll < 65, let instrument = instrumentBySymbol[symbol], let quote = quotes[symbol] {
            let away = instrument.tickSize * FixedDecimal(botRandom.int(in: 1...5))
            request.ordType = .limit
            request.price = side.isBuy ? FixedDecimal.max(quote.bid - away, instrument.tickSize) : quote.ask + away
        }
        enter(request, origin: origin, fillModel: bot.fillModel, into: &out)
    }
}
