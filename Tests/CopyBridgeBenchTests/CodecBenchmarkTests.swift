import NIOCore
import Testing

@testable import CopyBridgeBench

@Suite("codec benchmark")
struct CodecBenchmarkTests {
    @Test("the session-built NewOrderSingle is the same message, byte for byte, as the one built whole")
    func sessionPassEncodesTheSameBytes() {
        var whole = NewOrderSingleEncoder()
        var session = NewOrderSingleEncoder()
        for _ in 0..<3 {
            let wholeBytes = whole.pass(1)
            let sessionBytes = session.sessionPass(1)
            #expect(wholeBytes == sessionBytes)
            #expect(whole.out == session.out)
            #expect(String(buffer: session.out).contains("\u{1}35=D\u{1}34="))
        }
    }
}

@Suite("session receive benchmark")
struct SessionReceiveBenchmarkTests {
    @Test("every pass delivers every fill, in sequence again from 2")
    func everyPassDeliversEveryFill() {
        let receiver = SessionReceiver(count: 50)
        for _ in 0..<3 { #expect(receiver.pass() == 50) }
    }
}
