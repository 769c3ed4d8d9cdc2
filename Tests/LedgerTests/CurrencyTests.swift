import Testing

@testable import Ledger

@Suite("Currency")
struct CurrencyTests {
    @Test(
        "a pair is six ASCII letters, with at most one slash after the third",
        arguments: [
            ("EUR/USD", "EUR", "USD"), ("EURUSD", "EUR", "USD"), ("eur/usd", "EUR", "USD"), ("usdJpy", "USD", "JPY"),
            ("XAU/USD", "XAU", "USD"),
        ])
    func pairs(symbol: String, base: String, quote: String) {
        let pair = Currency.pair(symbol)
        #expect(pair?.0 == base && pair?.1 == quote)
        #expect(Currency.quoteCurrency(ofPair: symbol) == quote)
    }

    @Test(
        "anything else is no pair",
        arguments: [
            "", "EUR", "EURUS", "EURUSDX", "EU/RUSD", "EURU/SD", "/EURUSD", "EURUSD/", "EUR//USD", "EUR/US/D",
            "EUR-USD", "EUR USD", "EUR1SD", "ÉUR/USD", "EUR/ÜSD", "GOLD", "EURUSD.m", "US30", "[EURUSD", "EUR@SD",
        ])
    func notPairs(symbol: String) {
        #expect(Currency.pair(symbol) == nil)
    }
}
