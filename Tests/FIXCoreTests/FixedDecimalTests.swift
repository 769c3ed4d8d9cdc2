import Foundation
import TestSupport
import Testing

@testable import FIXCore

@Suite struct FixedDecimalTests {
    @Test func parsesAndPrintsPreservingScale() throws {
        #expect(FixedDecimal("1.50")!.description == "1.50")
        #expect(FixedDecimal("-0.001")!.description == "-0.001")
        #expect(FixedDecimal("002000.00")!.description == "2000.00")
        #expect(FixedDecimal(".5")!.description == "0.5")
        #expect(FixedDecimal("5.")!.description == "5")
        #expect(FixedDecimal("12345678901234567890.123456")!.description == "12345678901234567890.123456")
        for bad in ["", "-", ".", "1.2.3", "1e5", "+1", " 1", "abc", "1,5"] {
            #expect(FixedDecimal(bad) == nil, "\(bad) should not parse")
        }
    }

    @Test("doubleValue is the nearest Double to mantissa ÷ 10^scale, for small and huge mantissas")
    func doubleValue() {
        var rng = SplitMix64(seed: 11)
        for k in 0..<20_000 {
            // Mantissas in Int64 and beyond it, both signs, every scale.
            let wide = Int128(Int64(bitPattern: rng.next())) << (k % 3 == 0 ? 40 : 0)
            let value = FixedDecimal(mantissa: wide, scale: Int(rng.next() % 19))
            let expected = Double(value.mantissa) / Double(FixedDecimal.powerOfTen(value.scale))
            #expect(value.doubleValue == expected, "\(value)")
        }
        #expect(FixedDecimal("1.0850")!.doubleValue == 1.085)
        #expect(FixedDecimal("-0.000000000000000001")!.doubleValue == -1e-18)
        #expect(FixedDecimal(mantissa: Int128(Int64.max) + 1, scale: 0).doubleValue == 9_223_372_036_854_775_808)
    }

    @Test func comparesByValue() {
        #expect(FixedDecimal("1.50")! == FixedDecimal("1.5")!)
        #expect(FixedDecimal("1.50")!.hashValue == FixedDecimal("1.5")!.hashValue)
        #expect(FixedDecimal("-1")! < FixedDecimal("0.001")!)
        #expect(FixedDecimal("2.01")! > FixedDecimal("2.009")!)
    }

    @Test func arithmeticIsExact() {
        // 0.1 + 0.2 is exactly 0.3, which binary floating point cannot say.
        #expect(FixedDecimal("0.1")! + FixedDecimal("0.2")! == FixedDecimal("0.3")!)
        #expect((FixedDecimal("1.0850")! * FixedDecimal("100000")!).description == "108500.0000")
        #expect((FixedDecimal("10")! - FixedDecimal("10.25")!).description == "-0.25")
    }

    @Test func roundingModes() {
        let v = FixedDecimal("2.345")!
        #expect(v.rounded(scale: 2, .halfEven).description == "2.34")
        #expect(v.rounded(scale: 2, .halfUp).description == "2.35")
        #expect(v.rounded(scale: 2, .floor).description == "2.34")
        #expect(v.rounded(scale: 2, .ceiling).description == "2.35")
        #expect((-v).rounded(scale: 2, .floor).description == "-2.35")
        #expect((-v).rounded(scale: 2, .down).description == "-2.34")
        #expect(FixedDecimal("2.355")!.rounded(scale: 2, .halfEven).description == "2.36")
        #expect(FixedDecimal("12345")!.rounded(toMultipleOf: 1000, .floor) == 12000)
        #expect(FixedDecimal("12500")!.rounded(toMultipleOf: 1000, .halfEven) == 12000)
        #expect(FixedDecimal("13500")!.rounded(toMultipleOf: 1000, .halfEven) == 14000)
        #expect(FixedDecimal("0.37")!.rounded(toMultipleOf: FixedDecimal("0.1")!, .floor).description == "0.3")
    }

    @Test func division() {
        #expect(FixedDecimal(10).divided(by: 3, scale: 4, .halfEven).description == "3.3333")
        #expect(FixedDecimal(2).divided(by: 3, scale: 2, .halfUp).description == "0.67")
        #expect(FixedDecimal("1.5")!.divided(by: FixedDecimal("0.25")!, scale: 0, .down) == 6)
    }

    @Test func codableAsString() throws {
        let data = try JSONEncoder().encode([FixedDecimal("1.50")!])
        #expect(String(decoding: data, as: UTF8.self) == #"["1.50"]"#)
        #expect(try JSONDecoder().decode([FixedDecimal].self, from: data) == [FixedDecimal("1.5")!])
    }
}
