import FIXCore

extension SimulatedBroker {
    // MARK: Order entry

    /// Validates and books a new order, answering with New or Rejected, then arms it.
    mutating func enter(
        _ request: SimOrderRequest, origin: SimOrderOrigin, fillModel: SimFillModel, into out: inout [SimOutput]
    ) {
        if let existing = clOrdIndex[origin]?[request.clOrdID], orderList[existing].isLive {
            // Not booked: the ClOrdID must keep pointing at the live order it names.
            var transient = SimOrder(orderID: "NONE", request: request, origin: origin, fillModel: fillModel, at: now)
            transient.status = .rejected
            transient.rejectReason = .duplicateOrder
            transient.text = "Duplicate ClOrdID \(request.clOrdID): order \(orderList[existing].orderID) is live"
            if case .session(let key) = origin {
                out.append(.send(key, executionReport(transient, .rejected)))
            }
            return
        }
        var order = SimOrder(orderID: nextOrderID(), request: request, origin: origin, fillModel: fillModel, at: now)
        if let (reason, text) = rejection(of: request, fillModel: fillModel) {
            order.status = .rejected
            order.rejectReason = reason
            order.text = text
        }
        let index = orderList.count
        orderList.append(order)
        orderIndexByID[order.orderID] = index
        clOrdIndex[origin, default: [:]][request.clOrdID] = index
        if order.status == .rejected {
            emit(index, executionReport(order, .rejected), into: &out)
            return
        }
        live.append(index)
        emit(index, executionReport(order, .new), into: &out)
        if order.timeInForce.isImmediate {
            scheduleExecution(index)  // decided once, at the first attempt
        } else {
            evaluate(index)
        }
    }

    /// The first rule the request breaks, in a fixed order: quantity, symbol, size, margin, chance.
    mutating func rejection(
        of request: SimOrderRequest, fillModel: SimFillModel
    ) -> (SimRejectReason, String)? {
        guard request.quantity.isPositive else {
            return (.incorrectQuantity, "OrderQty \(request.quantity) must be greater than zero")
        }
        guard let quote = quotes[request.symbol] else {
            return (.unknownSymbol, "Unknown symbol \(request.symbol)")
        }
        if let max = fillModel.maxOrderQty, request.quantity > max {
            return (.orderExceedsLimit, "OrderQty \(request.quantity) exceeds MaxOrderQty \(max)")
        }
        if let text = marginShortfall(request, quote: quote) {
            return (.brokerCredit, text)
        }
        if fillRandom.chance(fillModel.rejectProbability) {
            return (.other, "Rejected by the simulator (RejectProbability \(fillModel.rejectProbability))")
        }
        return nil
    }

    /// Whether the account's worst-case exposure with this order exceeds equity × leverage.
    ///
    /// Exposure per symbol is the larger of |position + working buys| and |position − working
    /// sells| at the mid price, so orders that reduce a position never need margin. Notional is in
    /// price units without currency conversion.
    func marginShortfall(_ request: SimOrderRequest, quote: SimQuote) -> String? {
        let limits = accountLimits[request.account] ?? configuration.defaultSession.limits
        guard let equity = limits.equity else { return nil }
        var exposure = FixedDecimal.zero
        for instrument in instruments {
            let symbol = instrument.symbol
            let position = self.position(account: request.account, symbol: symbol).quantity
            var buys = FixedDecimal.zero
            var sells = FixedDecimal.zero
            for i in live where orderList[i].account == request.account && orderList[i].symbol == symbol {
                if orderList[i].side.isBuy { buys += orderList[i].leavesQty } else { sells += orderList[i].leavesQty }
            }
            if symbol == request.symbol {
                if request.side.isBuy { buys += request.quantity } else { sells += request.quantity }
            }
            let worst = FixedDecimal.max((position + buys).magnitude, (position - sells).magnitude)
            exposure += worst * quotes[symbol]!.mid
        }
        let required = exposure.divided(by: limits.leverage, scale: 2, .up)
        guard required > equity else { return nil }
        return "Insufficient margin: \(required) required at leverage \(limits.leverage), equity \(equity)"
    }

    // MARK: Execution

    /// Schedules an execution attempt if the order can trade now (market, triggered stop, or a
    /// limit the quote has crossed). Resting orders are evaluated again whenever prices move.
    mutating func evaluate(_ index: Int) {
        let order = orderList[index]
        guard order.isLive, !order.executionPending else { return }
        if order.ordType.hasStopPrice && !order.triggered {
            guard stopTouched(order) else { return }
            orderList[index].triggered = true
        }
        if executionPrice(orderList[index]) != nil { scheduleExecution(index) }
    }

    mutating func scheduleExecution(_ index: Int) {
        let latency = orderList[index].fillModel.latency
        let ms =
            latency.minimumMs == latency.maximumMs
            ? latency.minimumMs : fillRandom.int(in: latency.minimumMs...latency.maximumMs)
        orderList[index].executionPending = true
        events.schedule(
            .execute(order: index, generation: orderList[index].generation), at: nowNanos + Int64(ms) * 1_000_000)
    }

    /// A buy stop triggers when the ask reaches the stop price, a sell stop when the bid does.
    func stopTouched(_ order: SimOrder) -> Bool {
        guard let stop = order.stopPx, let quote = quotes[order.symbol] else { return false }
        return order.side.isBuy ? quote.ask >= stop : quote.bid <= stop
    }

    /// The price the order would fill at now, or `nil` when it cannot trade. Market orders take
    /// the current ask (buy) or bid (sell), so price moves during latency become slippage; limits
    /// fill at that price or better, never worse than the limit.
    func executionPrice(_ order: SimOrder) -> FixedDecimal? {
        guard let quote = quotes[order.symbol] else { return nil }
        let touch = order.side.isBuy ? quote.ask : quote.bid
        switch order.ordType {
        case .market:
            return touch
        case .stop:
            return order.triggered ? touch : nil
        case .limit, .stopLimit:
            if order.ordType == .stopLimit && !order.triggered { return nil }
            guard let limit = order.price else { return nil }
            return order.side.isBuy ? (touch <= limit ? touch : nil) : (touch >= limit ? touch : nil)
        }
    }

    /// One execution attempt: fills a slice, or cancels an IOC/FOK that cannot trade, or lets a
    /// limit order rest again when the price has moved away during latency.
    mutating func execute(_ index: Int, generation: Int, into out: inout [SimOutput]) {
        guard orderList[index].isLive, orderList[index].generation == generation else { return }
        orderList[index].executionPending = false
        var order = orderList[index]
        let immediate = order.timeInForce.isImmediate
        if order.ordType.hasStopPrice && !order.triggered {
            if stopTouched(order) {
                orderList[index].triggered = true
                order.triggered = true
            } else {
                if immediate {
                    cancelOrder(
                        index, newClOrdID: nil, text: "\(order.timeInForce.name) stop not triggered", into: &out)
                }
                return
            }
        }
        guard let price = executionPrice(order) else {
            if immediate {
                cancelOrder(index, newClOrdID: nil, text: "\(order.timeInForce.name) order not marketable", into: &out)
            }
            return
        }
        if order.slicesRemaining == nil {
            let model = order.fillModel
            let sliced = model.partialFills > 1 && fillRandom.chance(model.partialFillProbability)
            orderList[index].slicesRemaining = sliced ? model.partialFills : 1
            order = orderList[index]
        }
        let slices = order.slicesRemaining!
        if order.timeInForce == .fillOrKill && slices > 1 {
            cancelOrder(index, newClOrdID: nil, text: "FOK order not filled: only partial liquidity", into: &out)
            return
        }
        let leaves = order.leavesQty
        var quantity = leaves
        if slices > 1 {
            let slice = leaves.divided(by: FixedDecimal(slices), scale: order.orderQty.scale, .down)
            if slice.isPositive { quantity = slice }
        }
        orderList[index].slicesRemaining = max(slices - 1, 1)
        fill(index, quantity: quantity, price: price, into: &out)
        guard orderList[index].isLive else { return }
        if immediate {
            cancelOrder(index, newClOrdID: nil, text: "IOC remainder cancelled", into: &out)
        } else {
            scheduleExecution(index)
        }
    }

    mutating func fill(_ index: Int, quantity: FixedDecimal, price: FixedDecimal, into out: inout [SimOutput]) {
        orderList[index].cumQty += quantity
        orderList[index].notional += quantity * price
        orderList[index].status = orderList[index].cumQty >= orderList[index].orderQty ? .filled : .partiallyFilled
        orderList[index].updatedAt = now
        let order = orderList[index]
        if order.status == .filled { removeLive(index) }
        let execID = nextExecID()
        fillList.append(
            SimFill(
                execID: execID, orderID: order.orderID, clOrdID: order.clOrdID, account: order.account,
                symbol: order.symbol, side: order.side, quantity: quantity, price: price, time: now))
        let key = PositionKey(account: order.account, symbol: order.symbol)
        positionTable[key, default: SimPosition(account: order.account, symbol: order.symbol)]
            .apply(side: order.side, quantity: quantity, price: price)
        emit(index, executionReport(order, .trade, execID: execID, last: (quantity, price)), into: &out)
        collateralChanged(order.account, into: &out)
    }

    // MARK: Cancel, replace, expiry

    /// Cancels a live order: on request (`newClOrdID` set, reported with OrigClOrdID) or by the
    /// broker (IOC/FOK leftovers), with `text` saying why.
    mutating func cancelOrder(_ index: Int, newClOrdID: String?, text: String?, into out: inout [SimOutput]) {
        let previous = orderList[index].clOrdID
        if let newClOrdID {
            orderList[index].clOrdID = newClOrdID
            clOrdIndex[orderList[index].origin, default: [:]][newClOrdID] = index
        }
        orderList[index].status = .canceled
        orderList[index].text = text
        orderList[index].generation += 1
        orderList[index].executionPending = false
        orderList[index].updatedAt = now
        removeLive(index)
        let report = executionReport(
            orderList[index], .canceled, origClOrdID: newClOrdID == nil ? nil : previous, text: text)
        emit(index, report, into: &out)
    }

    /// What a cancel/replace may change.
    struct Replacement {
        var clOrdID: String
        var quantity: FixedDecimal
        var price: FixedDecimal?
        var stopPx: FixedDecimal?
        var timeInForce: SimTimeInForce?
    }

    /// Applies a validated cancel/replace and re-arms the order at its new terms.
    mutating func replaceOrder(_ index: Int, with change: Replacement, into out: inout [SimOutput]) {
        let previous = orderList[index].clOrdID
        orderList[index].clOrdID = change.clOrdID
        clOrdIndex[orderList[index].origin, default: [:]][change.clOrdID] = index
        orderList[index].orderQty = change.quantity
        if let price = change.price { orderList[index].price = price }
        if let stop = change.stopPx { orderList[index].stopPx = stop }
        if let tif = change.timeInForce { orderList[index].timeInForce = tif }
        orderList[index].generation += 1
        orderList[index].executionPending = false
        orderList[index].updatedAt = now
        if orderList[index].cumQty >= change.quantity {
            orderList[index].status = .filled
            removeLive(index)
        }
        emit(index, executionReport(orderList[index], .replaced, origClOrdID: previous), into: &out)
        evaluate(index)
    }

    mutating func expireDayOrders(into out: inout [SimOutput]) {
        for index in live where orderList[index].timeInForce == .day {
            orderList[index].status = .expired
            orderList[index].text = "Day order expired"
            orderList[index].generation += 1
            orderList[index].executionPending = false
            orderList[index].updatedAt = now
            emit(index, executionReport(orderList[index], .expired, text: "Day order expired"), into: &out)
        }
        live.removeAll { orderList[$0].status.isTerminal }
    }

    mutating func removeLive(_ index: Int) {
        var lo = 0
        var hi = live.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if live[mid] < index { lo = mid + 1 } else { hi = mid }
        }
        if lo < live.count && live[lo] == index { live.remove(at: lo) }
    }

    /// Re-evaluates the live orders of `symbols` after a price change, in entry order.
    mutating func reevaluateOrders(_ symbols: Set<String>) {
        for index in live where symbols.contains(orderList[index].symbol) {
            evaluate(index)
        }
    }

    // MARK: Reports

    /// Sends an ExecutionReport to the order's session and, with CopyMsgIndicator, to every
    /// drop-copy session of its account.
    func emit(_ index: Int, _ report: FIXMessageBuilder, into out: inout [SimOutput]) {
        let order = orderList[index]
        if case .session(let key) = order.origin { out.append(.send(key, report)) }
        guard dropCopySessions.contains(where: { $0.1.contains(order.account) }) else { return }
        var copy = report
        copy.set(797, true)  // CopyMsgIndicator
        for (key, selection) in dropCopySessions where selection.contains(order.account) {
            if case .session(let own) = order.origin, own == key { continue }
            out.append(.send(key, copy))
        }
    }

    /// An ExecutionReport (8) describing `order` as it is now.
    mutating func executionReport(
        _ order: SimOrder, _ execType: SimExecType, execID: String? = nil,
        last: (FixedDecimal, FixedDecimal)? = nil, origClOrdID: String? = nil, text: String? = nil
    ) -> FIXMessageBuilder {
        var b = FIXMessageBuilder(msgType: "8")
        b.set(FIXTag.orderID, order.orderID)
        b.set(FIXTag.clOrdID, order.clOrdID)
        if let origClOrdID { b.set(FIXTag.origClOrdID, origClOrdID) }
        b.set(FIXTag.execID, execID ?? nextExecID())
        b.set(FIXTag.execType, execType.rawValue)
        b.set(FIXTag.ordStatus, order.status.rawValue)
        b.set(FIXTag.account, order.account)
        b.set(FIXTag.symbol, order.symbol)
        b.set(FIXTag.side, order.side.rawValue)
        b.set(FIXTag.orderQty, order.orderQty)
        b.set(FIXTag.ordType, order.ordType.rawValue)
        if let price = order.price { b.set(FIXTag.price, price) }
        if let stop = order.stopPx { b.set(FIXTag.stopPx, stop) }
        b.set(FIXTag.timeInForce, order.timeInForce.rawValue)
        if let (qty, px) = last {
            b.set(FIXTag.lastQty, qty)
            b.set(FIXTag.lastPx, px)
        }
        b.set(FIXTag.leavesQty, order.leavesQty)
        b.set(FIXTag.cumQty, order.cumQty)
        b.set(FIXTag.avgPx, order.avgPx)
        b.set(FIXTag.transactTime, now)
        if execType == .rejected, let reason = order.rejectReason {
            b.set(FIXTag.ordRejReason, reason.rawValue)
        }
        if let text = text ?? (execType == .rejected ? order.text : nil) { b.set(FIXTag.text, text) }
        return b
    }
}

extension SimTimeInForce {
    /// The short name used in texts.
    var name: String {
        switch self {
        case .day: return "Day"
        case .goodTillCancel: return "GTC"
        case .immediateOrCancel: return "IOC"
        case .fillOrKill: return "FOK"
        }
    }
}
