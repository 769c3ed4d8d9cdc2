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

    /// The rounding modes' definitions, on 128-bit arithmetic alone.
    static func rounded(_ value: Int128, _ divisor: Int128, _ mode: FixedDecimal.RoundingMode) -> Int128 {
        let q = value / divisor
        let r = value % divisor
        if r == 0 { return q }
        let away: Int128 = (value < 0) != (divisor < 0) ? -1 : 1
        let twice = 2 * r.magnitude
        switch mode {
        case .floor: return away < 0 ? q - 1 : q
        case .ceiling: return away > 0 ? q + 1 : q
        case .down: return q
        case .up: return q + away
        case .halfUp: return twice >= divisor.magnitude ? q + away : q
        case .halfEven: return twice > divisor.magnitude || (twice == divisor.magnitude && q % 2 != 0) ? q + away : q
        }
    }

    @Test("division agrees with 128-bit arithmetic inside and beyond 64 bits, in every rounding mode")
    func divisionAgreesWith128BitArithmetic() {
        var rng = SplitMix64(seed: 11)
        let edges: [Int128] = [
            0, 1, -1, 7, -7, Int128(Int64.max), Int128(Int64.min), Int128(Int64.max) + 1, Int128(Int64.min) - 1,
            Int128(Int64.max) * 1000, -Int128(Int64.max) * 1000,
        ]
        var values = edges
        var divisors: [Int128] = edges.filter { $0 != 0 }
        for _ in 0..<400 {
            let magnitude = Int128(rng.next() >> (rng.next() % 64))
            values.append(rng.next() % 2 == 0 ? magnitude : -magnitude)
            let wide = magnitude * Int128(rng.next() % 1_000_000 + 1)
            values.append(rng.next() % 2 == 0 ? wide : -wide)
            let divisor = Int128(rng.next() >> (rng.next() % 64)) + 1
            divisors.append(rng.next() % 4 == 0 ? -divisor : divisor)
        }
        for (k, value) in values.enumerated() {
            for divisor in divisors[(k % 7)...].enumerated().filter({ $0.offset % 37 == 0 }).map(\.element) {
                let (q, r) = FixedDecimal.quotientAndRemainder(value, divisor)
                #expect(q == value / divisor && r == value % divisor, "\(value) / \(divisor)")
                for mode in FixedDecimal.RoundingMode.allCases {
                    #expect(
                        FixedDecimal.divide(value, by: divisor, mode) == Self.rounded(value, divisor, mode),
                        "\(value) / \(divisor) \(mode)")
                }
            }
        }
        #expect(FixedDecimal.quotientAndRemainder(Int128(Int64.min), -1).quotient == -Int128(Int64.min))
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
