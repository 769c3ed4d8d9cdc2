import FIXCore

/// A request the broker cannot act on, with the reply that says why.
struct SimRequestError: Error {
    var reply: FIXMessageBuilder
}

extension SimulatedBroker {
    mutating func handleBrokerMessage(
        _ message: FIXMessage, msgType: String, session: SimSessionKey, settings: SimSessionConfiguration,
        into out: inout [SimOutput]
    ) {
        do throws(SimRequestError) {
            switch msgType {
            case "D": try newOrderSingle(message, session, settings, into: &out)
            case "F": try cancelRequest(message, session, into: &out)
            case "G": try cancelReplaceRequest(message, session, settings, into: &out)
            case "H": try orderStatusRequest(message, session, settings, into: &out)
            case "AF": try massStatusRequest(message, session, settings, into: &out)
            case "AN": try requestForPositions(message, session, settings, into: &out)
            case "V": try marketDataRequest(message, session, into: &out)
            case "BB": try collateralInquiry(message, session, into: &out)
            default: out.append(.send(session, SimEcho.unsupportedMessageType(message)))
            }
        } catch {
            out.append(.send(session, error.reply))
        }
    }

    // MARK: Field access with BusinessMessageReject on failure

    /// Converts a field error into BusinessMessageReject: 380=5 for a missing field, 0 otherwise.
    static func fieldFailure(_ message: FIXMessage, _ error: FIXFieldError) -> SimRequestError {
        let reason: Int
        switch error.kind {
        case .missing, .empty: reason = 5
        case .badFormat: reason = 0
        }
        return SimRequestError(
            reply: SimEcho.businessReject(
                message, reason: reason, refID: message[FIXTag.clOrdID], text: error.description))
    }

    static func string(_ m: FIXMessage, _ tag: Int) throws(SimRequestError) -> String {
        do throws(FIXFieldError) {
            let v = try m.string(tag)
            if v.isEmpty { throw FIXFieldError(tag: tag, kind: .empty) }
            return v
        } catch { throw fieldFailure(m, error) }
    }

    static func decimal(_ m: FIXMessage, _ tag: Int) throws(SimRequestError) -> FixedDecimal {
        do { return try m.decimal(tag) } catch { throw fieldFailure(m, error) }
    }

    static func decimalIfPresent(_ m: FIXMessage, _ tag: Int) throws(SimRequestError) -> FixedDecimal? {
        do { return try m.decimalIfPresent(tag) } catch { throw fieldFailure(m, error) }
    }

    static func int(_ m: FIXMessage, _ tag: Int) throws(SimRequestError) -> Int {
        do { return try m.int(tag) } catch { throw fieldFailure(m, error) }
    }

    static func optionalString(_ m: FIXMessage, _ tag: Int) -> String? {
        guard let v = m[tag], !v.isEmpty else { return nil }
        return v
    }

    /// A rejected, unbooked order described from the raw request (the request names a side, type
    /// or time in force the simulator does not support, so it cannot become a ``SimOrder``).
    static func unsupportedCharacteristic(
        _ m: FIXMessage, account: String, execID: String, now: UTCTimestamp, text: String
    )
        -> FIXMessageBuilder
    {
        var b = FIXMessageBuilder(msgType: "8")
        b.set(FIXTag.orderID, "NONE")
        b.set(FIXTag.clOrdID, m[FIXTag.clOrdID] ?? "")
        b.set(FIXTag.execID, execID)
        b.set(FIXTag.execType, SimExecType.rejected.rawValue)
        b.set(FIXTag.ordStatus, SimOrdStatus.rejected.rawValue)
        b.set(FIXTag.account, account)
        for tag in [FIXTag.symbol, FIXTag.side, FIXTag.orderQty, FIXTag.ordType, FIXTag.timeInForce] {
            if let v = m[tag] { b.set(tag, v) }
        }
        b.set(FIXTag.leavesQty, 0)
        b.set(FIXTag.cumQty, 0)
        b.set(FIXTag.avgPx, 0)
        b.set(FIXTag.transactTime, now)
        b.set(FIXTag.ordRejReason, SimRejectReason.unsupportedOrderCharacteristic.rawValue)
        b.set(FIXTag.text, text)
        return b
    }

    // MARK: NewOrderSingle (D)

    mutating func newOrderSingle(
        _ m: FIXMessage, _ session: SimSessionKey, _ settings: SimSessionConfiguration, into out: inout [SimOutput]
    ) throws(SimRequestError) {
        let clOrdID = try Self.string(m, FIXTag.clOrdID)
        // A possible duplicate (resent after a gap, or by an application unsure it was sent) of an
        // order already received is answered with its status instead of being booked twice.
        let possDup = (try? m.boolIfPresent(FIXTag.possDupFlag)) == true
        let possResend = (try? m.boolIfPresent(FIXTag.possResend)) == true
        if possDup || possResend, let known = clOrdIndex[.session(session)]?[clOrdID] {
            out.append(.send(session, executionReport(orderList[known], .orderStatus)))
            return
        }
        let symbol = try Self.string(m, FIXTag.symbol)
        let sideCode = try Self.string(m, FIXTag.side)
        let quantity = try Self.decimal(m, FIXTag.orderQty)
        let typeCode = try Self.string(m, FIXTag.ordType)
        let tifCode = Self.optionalString(m, FIXTag.timeInForce) ?? SimTimeInForce.day.rawValue
        let account = Self.optionalString(m, FIXTag.account) ?? defaultAccount(session, settings)
        func unsupported(_ text: String) -> SimOutput {
            .send(
                session, Self.unsupportedCharacteristic(m, account: account, execID: nextExecID(), now: now, text: text)
            )
        }
        guard let side = SimSide(rawValue: sideCode) else {
            return out.append(unsupported("Unsupported Side \(sideCode)"))
        }
        guard let ordType = SimOrdType(rawValue: typeCode) else {
            return out.append(unsupported("Unsupported OrdType \(typeCode)"))
        }
        guard let tif = SimTimeInForce(rawValue: tifCode) else {
            return out.append(unsupported("Unsupported TimeInForce \(tifCode)"))
        }
        let price = ordType.hasLimitPrice ? try Self.decimal(m, FIXTag.price) : nil
        let stopPx = ordType.hasStopPrice ? try Self.decimal(m, FIXTag.stopPx) : nil
        let request = SimOrderRequest(
            clOrdID: clOrdID, account: account, symbol: symbol, side: side, quantity: quantity, ordType: ordType,
            price: price, stopPx: stopPx, timeInForce: tif)
        enter(request, origin: .session(session), fillModel: settings.fillModel, into: &out)
    }

    // MARK: OrderCancelRequest (F) and OrderCancelReplaceRequest (G)

    /// The order a cancel or replace refers to: by OrderID when given, else by OrigClOrdID among
    /// this session's orders.
    func target(orderID: String?, origClOrdID: String, origin: SimOrderOrigin) -> Int? {
        if let orderID, let index = orderIndexByID[orderID], orderList[index].origin == origin { return index }
        return clOrdIndex[origin]?[origClOrdID]
    }

    /// OrderCancelReject (9).
    func cancelReject(
        orderID: String, clOrdID: String, origClOrdID: String, status: SimOrdStatus, account: String?,
        responseTo: Int, reason: Int, text: String
    ) -> FIXMessageBuilder {
        var b = FIXMessageBuilder(msgType: "9")
        b.set(FIXTag.orderID, orderID)
        b.set(FIXTag.clOrdID, clOrdID)
        b.set(FIXTag.origClOrdID, origClOrdID)
        b.set(FIXTag.ordStatus, status.rawValue)
        if let account { b.set(FIXTag.account, account) }
        b.set(FIXTag.transactTime, now)
        b.set(434, responseTo)  // CxlRejResponseTo: 1 cancel, 2 cancel/replace
        b.set(102, reason)  // CxlRejReason
        b.set(FIXTag.text, text)
        return b
    }

    /// The common checks of F and G; returns the live order's index or the OrderCancelReject.
    func cancelTarget(
        _ m: FIXMessage, origin: SimOrderOrigin, clOrdID: String, origClOrdID: String, responseTo: Int
    ) -> Result<Int, SimRequestError> {
        let orderID = Self.optionalString(m, FIXTag.orderID)
        guard let index = target(orderID: orderID, origClOrdID: origClOrdID, origin: origin) else {
            return .failure(
                SimRequestError(
                    reply: cancelReject(
                        orderID: orderID ?? "NONE", clOrdID: clOrdID, origClOrdID: origClOrdID, status: .rejected,
                        account: nil, responseTo: responseTo, reason: 1, text: "Unknown order \(origClOrdID)")))
        }
        let order = orderList[index]
        func reject(_ reason: Int, _ text: String) -> Result<Int, SimRequestError> {
            .failure(
                SimRequestError(
                    reply: cancelReject(
                        orderID: order.orderID, clOrdID: clOrdID, origClOrdID: origClOrdID, status: order.status,
                        account: order.account, responseTo: responseTo, reason: reason, text: text)))
        }
        if let other = clOrdIndex[origin]?[clOrdID], other != index, orderList[other].isLive {
            return reject(6, "Duplicate ClOrdID \(clOrdID)")
        }
        guard order.isLive else {
            return reject(0, "Too late: order \(order.orderID) is \(order.status.name)")
        }
        return .success(index)
    }

    mutating func cancelRequest(
        _ m: FIXMessage, _ session: SimSessionKey, into out: inout [SimOutput]
    )
        throws(SimRequestError)
    {
        let clOrdID = try Self.string(m, FIXTag.clOrdID)
        let origClOrdID = try Self.string(m, FIXTag.origClOrdID)
        let index = try cancelTarget(
            m, origin: .session(session), clOrdID: clOrdID, origClOrdID: origClOrdID, responseTo: 1
        ).get()
        cancelOrder(index, newClOrdID: clOrdID, text: nil, into: &out)
    }

    mutating func cancelReplaceRequest(
        _ m: FIXMessage, _ session: SimSessionKey, _ settings: SimSessionConfiguration, into out: inout [SimOutput]
    ) throws(SimRequestError) {
        let clOrdID = try Self.string(m, FIXTag.clOrdID)
        let origClOrdID = try Self.string(m, FIXTag.origClOrdID)
        let quantity = try Self.decimal(m, FIXTag.orderQty)
        let price = try Self.decimalIfPresent(m, FIXTag.price)
        let stopPx = try Self.decimalIfPresent(m, FIXTag.stopPx)
        let index = try cancelTarget(
            m, origin: .session(session), clOrdID: clOrdID, origClOrdID: origClOrdID, responseTo: 2
        ).get()
        let order = orderList[index]
        func reject(_ text: String) -> SimRequestError {
            SimRequestError(
                reply: cancelReject(
                    orderID: order.orderID, clOrdID: clOrdID, origClOrdID: origClOrdID, status: order.status,
                    account: order.account, responseTo: 2, reason: 2, text: text))
        }
        if let symbol = Self.optionalString(m, FIXTag.symbol), symbol != order.symbol {
            throw reject("Symbol cannot change (\(order.symbol) to \(symbol))")
        }
        if let side = Self.optionalString(m, FIXTag.side), side != order.side.rawValue {
            throw reject("Side cannot change (\(order.side.rawValue) to \(side))")
        }
        if let type = Self.optionalString(m, FIXTag.ordType), type != order.ordType.rawValue {
            throw reject("OrdType cannot change (\(order.ordType.rawValue) to \(type))")
        }
        var tif: SimTimeInForce? = nil
        if let code = Self.optionalString(m, FIXTag.timeInForce) {
            guard let value = SimTimeInForce(rawValue: code) else { throw reject("Unsupported TimeInForce \(code)") }
            tif = value
        }
        guard quantity.isPositive, quantity >= order.cumQty else {
            throw reject("OrderQty \(quantity) is below CumQty \(order.cumQty)")
        }
        if let max = order.fillModel.maxOrderQty, quantity > max {
            throw reject("OrderQty \(quantity) exceeds MaxOrderQty \(max)")
        }
        let change = Replacement(
            clOrdID: clOrdID, quantity: quantity, price: order.ordType.hasLimitPrice ? price : nil,
            stopPx: order.ordType.hasStopPrice ? stopPx : nil, timeInForce: tif)
        replaceOrder(index, with: change, into: &out)
    }

    // MARK: OrderStatusRequest (H) and OrderMassStatusRequest (AF)

    /// Whether a session may see an order: its own, or one of its drop-copy accounts'.
    func visible(_ order: SimOrder, to session: SimSessionKey, _ settings: SimSessionConfiguration) -> Bool {
        order.origin == .session(session) || settings.dropCopyFor.contains(order.account)
    }

    mutating func orderStatusRequest(
        _ m: FIXMessage, _ session: SimSessionKey, _ settings: SimSessionConfiguration, into out: inout [SimOutput]
    ) throws(SimRequestError) {
        let clOrdID = try Self.string(m, FIXTag.clOrdID)
        let reqID = Self.optionalString(m, 790)  // OrdStatusReqID
        var found: Int? = nil
        if let orderID = Self.optionalString(m, FIXTag.orderID), let index = orderIndexByID[orderID],
            visible(orderList[index], to: session, settings)
        {
            found = index
        } else {
            found = clOrdIndex[.session(session)]?[clOrdID]
        }
        var b: FIXMessageBuilder
        if let index = found {
            b = executionReport(orderList[index], .orderStatus)
        } else {
            b = FIXMessageBuilder(msgType: "8")
            b.set(FIXTag.orderID, Self.optionalString(m, FIXTag.orderID) ?? "NONE")
            b.set(FIXTag.clOrdID, clOrdID)
            b.set(FIXTag.execID, nextExecID())
            b.set(FIXTag.execType, SimExecType.orderStatus.rawValue)
            b.set(FIXTag.ordStatus, SimOrdStatus.rejected.rawValue)
            if let symbol = m[FIXTag.symbol] { b.set(FIXTag.symbol, symbol) }
            if let side = m[FIXTag.side] { b.set(FIXTag.side, side) }
            b.set(FIXTag.leavesQty, 0)
            b.set(FIXTag.cumQty, 0)
            b.set(FIXTag.avgPx, 0)
            b.set(FIXTag.transactTime, now)
            b.set(FIXTag.ordRejReason, SimRejectReason.unknownOrder.rawValue)
            b.set(FIXTag.text, "Unknown order \(clOrdID)")
        }
        if let reqID { b.set(790, reqID) }
        out.append(.send(session, b))
    }

    /// Answers with one ExecutionReport (ExecType I) per live order the session may see, filtered
    /// by Account, Symbol and Side when present, in entry order. With no match, one report with
    /// OrderID NONE and TotNumReports 0 says so.
    mutating func massStatusRequest(
        _ m: FIXMessage, _ session: SimSessionKey, _ settings: SimSessionConfiguration, into out: inout [SimOutput]
    ) throws(SimRequestError) {
        let reqID = try Self.string(m, 584)  // MassStatusReqID
        _ = try Self.int(m, 585)  // MassStatusReqType: every type is answered from the filters present
        let account = Self.optionalString(m, FIXTag.account)
        let symbol = Self.optionalString(m, FIXTag.symbol)
        let side = Self.optionalString(m, FIXTag.side)
        let matches = live.filter { index in
            let order = orderList[index]
            return visible(order, to: session, settings) && (account == nil || order.account == account)
                && (symbol == nil || order.symbol == symbol) && (side == nil || order.side.rawValue == side)
        }
        if matches.isEmpty {
            var b = FIXMessageBuilder(msgType: "8")
            b.set(FIXTag.orderID, "NONE")
            b.set(FIXTag.execID, nextExecID())
            b.set(FIXTag.execType, SimExecType.orderStatus.rawValue)
            b.set(FIXTag.ordStatus, SimOrdStatus.rejected.rawValue)
            if let account { b.set(FIXTag.account, account) }
            b.set(FIXTag.symbol, symbol ?? "NONE")
            b.set(FIXTag.side, side ?? SimSide.buy.rawValue)
            b.set(FIXTag.leavesQty, 0)
            b.set(FIXTag.cumQty, 0)
            b.set(FIXTag.avgPx, 0)
            b.set(FIXTag.transactTime, now)
            b.set(FIXTag.text, "No matching orders")
            b.set(584, reqID)
            b.set(911, 0)  // TotNumReports
            b.set(912, true)  // LastRptRequested
            out.append(.send(session, b))
            return
        }
        for (n, index) in matches.enumerated() {
            var b = executionReport(orderList[index], .orderStatus)
            b.set(584, reqID)
            b.set(911, matches.count)
            b.set(912, n == matches.count - 1)
            out.append(.send(session, b))
        }
    }

    // MARK: RequestForPositions (AN)

    /// Answers with RequestForPositionsAck (AO) and one PositionReport (AP) per open position of
    /// the account. SettlPrice (730) carries the average open price, as brokers of positions that
    /// never settle report it: it is the price a copier that missed the fills enters against
    /// (CatchUp=if-not-worse).
    mutating func requestForPositions(
        _ m: FIXMessage, _ session: SimSessionKey, _ settings: SimSessionConfiguration, into out: inout [SimOutput]
    ) throws(SimRequestError) {
        let reqID = try Self.string(m, 710)  // PosReqID
        let reqType = try Self.int(m, 724)  // PosReqType
        let account = Self.optionalString(m, FIXTag.account) ?? defaultAccount(session, settings)
        let accountType = Self.optionalString(m, 581) ?? "1"
        let positions = reqType == 0 ? openPositions(account: account) : []
        let result: Int
        if reqType != 0 {
            result = 4  // request for position not supported
        } else {
            result = positions.isEmpty ? 2 : 0  // no positions found / valid request
        }
        var ack = FIXMessageBuilder(msgType: "AO")
        ack.set(721, nextReportID())  // PosMaintRptID
        ack.set(710, reqID)
        ack.set(727, positions.count)  // TotalNumPosReports
        ack.set(728, result)  // PosReqResult
        ack.set(729, reqType == 0 ? 0 : 2)  // PosReqStatus: completed / rejected
        ack.set(FIXTag.account, account)
        ack.set(581, accountType)
        if reqType != 0 { ack.set(FIXTag.text, "Only PosReqType 0 (positions) is supported") }
        out.append(.send(session, ack))
        let businessDate = FIXDate(daysSinceEpoch: Int(nowNanos.floorDivided(by: 86_400_000_000_000)))
        for position in positions {
            var b = FIXMessageBuilder(msgType: "AP")
            b.set(721, nextReportID())
            b.set(710, reqID)
            b.set(724, 0)
            b.set(727, positions.count)
            b.set(728, 0)
            b.set(715, businessDate)  // ClearingBusinessDate
            b.set(FIXTag.account, account)
            b.set(581, accountType)
            b.set(FIXTag.symbol, position.symbol)
            b.set(730, position.averagePrice)  // SettlPrice
            b.group(702, count: 1) { g in
                g.set(703, "TOT")  // PosType: total transaction quantity
                g.set(704, position.quantity.isPositive ? position.quantity : .zero)  // LongQty
                g.set(705, position.quantity.isNegative ? position.quantity.magnitude : .zero)  // ShortQty
            }
            out.append(.send(session, b))
        }
    }
}

extension SimOrdStatus {
    /// The word used in texts.
    var name: String {
        switch self {
        case .new: return "new"
        case .partiallyFilled: return "partially filled"
        case .filled: return "filled"
        case .canceled: return "cancelled"
        case .rejected: return "rejected"
        case .expired: return "expired"
        }
    }
}
