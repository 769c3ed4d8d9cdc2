import FIXCore
import FIXSession
import Ledger

/// The fee keys of a `[FOLLOWER]` block: what the follower pays for every provider it copies.
///
/// The terms apply to each of the block's provider links (one ledger subscription per link).
/// Percentages are written as percentages (`PerformanceFeePct=20` is 20 %); the ledger keeps them
/// as fractions. Every key defaults to no fee.
public enum FeeSettings {
    public enum Key {
        public static let performanceFeePct = "PerformanceFeePct"
        public static let feePeriod = "FeePeriod"
        public static let onWithdrawal = "OnWithdrawal"
        public static let managementFeePct = "ManagementFeePct"
        public static let volumeFeePerMillion = "VolumeFeePerMillion"
        public static let platformSharePct = "PlatformSharePct"
    }

    private static let followerBlock: Set<SettingsBlockKind> = [.follower]
    private static let percent = SettingValueType.decimal(FixedDecimal.zero...FixedDecimal(100))
    private static let hundredth = FixedDecimal(mantissa: 1, scale: 2)

    /// The fee keys, in `[FOLLOWER]`.
    public static let schema = SettingsSchema(keys: [
        SettingKey(
            Key.performanceFeePct, in: followerBlock, percent, default: "0",
            doc: "Performance fee: percent of the copies' net P&L above the high-water mark, charged at each "
                + "crystallisation (period end, stop, withdrawal per OnWithdrawal)."),
        SettingKey(
            Key.feePeriod, in: followerBlock, .word(FeePeriod.allCases.map(\.rawValue)), default: "monthly",
            doc: "When fees crystallise: midnight UTC one (monthly) or three (quarterly) months after each provider "
                + "subscription's start date, the day clamped to the month."),
        SettingKey(
            Key.onWithdrawal, in: followerBlock, .word(WithdrawalPolicy.allCases.map(\.rawValue)), default: "hold",
            doc: "crystallise: fees also crystallise at each withdrawal recorded in the ledger for the follower's "
                + "account; hold: they wait for the period end."),
        SettingKey(
            Key.managementFeePct, in: followerBlock, percent, default: "0",
            doc: "Management fee: percent of the account's equity per year, accrued at each UTC midnight (1/365 a "
                + "day) and charged at each crystallisation."),
        SettingKey(
            Key.volumeFeePerMillion, in: followerBlock, .decimal(FixedDecimal.zero...FixedDecimal(1_000_000)),
            default: "0",
            doc: "Volume fee: money (account currency) per 1 000 000 of notional copied from the provider, charged "
                + "at each crystallisation."),
        SettingKey(
            Key.platformSharePct, in: followerBlock, percent, default: "0",
            doc: "The platform's percent of every fee; the provider gets the rest."),
    ])

    /// The terms of a validated `[FOLLOWER]` block (defaults for keys it does not write).
    public static func terms(_ block: SettingsBlock) -> FeeTerms {
        func fraction(_ key: String) -> FixedDecimal {
            (block.decimal(key) ?? .zero) * hundredth
        }
        return FeeTerms(
            performanceRate: fraction(Key.performanceFeePct),
            period: block.string(Key.feePeriod).flatMap(FeePeriod.init(rawValue:)) ?? .monthly,
            onWithdrawal: block.string(Key.onWithdrawal).flatMap(WithdrawalPolicy.init(rawValue:)) ?? .hold,
            managementRatePerYear: fraction(Key.managementFeePct),
            volumeFeePerMillion: block.decimal(Key.volumeFeePerMillion) ?? .zero,
            platformShare: fraction(Key.platformSharePct))
    }
}
