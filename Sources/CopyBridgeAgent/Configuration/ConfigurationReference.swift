import FIXSession

extension CopyBridgeSchema {
    /// The command that writes `docs/CONFIGURATION.md`; the reference test names it when the file is stale.
    public static let referenceCommand = "swift run copybridge check-config --reference > docs/CONFIGURATION.md"

    /// `docs/CONFIGURATION.md`: a short preface on the file's syntax, then every block kind and every key of
    /// the composed ``schema``, so the document is the schema and cannot drift from it.
    public static func referenceDocument() -> String {
        let preface = """
            # Configuration reference

            <!-- Generated from the settings schema by `\(referenceCommand)`. Do not edit by hand:
                 the test ConfigurationReferenceTests fails when this file differs from the schema. -->

            CopyBridge reads one settings file (`sessions.conf` by default) in the QuickFIX settings syntax:
            `[BLOCK]` headers, `Key=Value` lines, `#` comments. Keys are matched case-insensitively. A `[SESSION]`
            block starts from the values of the single `[DEFAULT]` block and overrides them. Keys marked *n* also
            accept numbered variants (`SocketConnectHost1`, `SocketConnectHost2`, ...) for failover addresses.
            Secrets (passwords, tokens) are never printed: `check-config`, the logs and diagnostics mask them.

            Check a file with `swift run copybridge check-config FILE`: every problem is reported as
            `file:line: message`, and the command exits non-zero when there is an error. A key in the wrong block, a
            misspelt key (with a suggestion), a value of the wrong type or a missing required key is an error; a
            QuickFIX key CopyBridge accepts but does not act on is a warning.

            ## Blocks and keys


            """
        var text = preface + schema.markdownReference()
        while text.hasSuffix("\n\n") { text.removeLast() }
        return text + "\n" + sizingModes
    }

    /// What `Sizing` in `[FOLLOWER]` chooses; the key's description points here.
    static let sizingModes = """
        ## Sizing modes

        `Sizing` in a `[FOLLOWER]` block says how an increase of the provider's position becomes the follower's
        copy; `weight` is the provider's weight in `Provider` (1 when not given). Reductions are always
        proportional: when she closes 40 % of her position, every copy closes 40 % of its own.

        | mode | copy of an increase |
        |---|---|
        | `equity-ratio` | `ΔPosition × (follower Equity ÷ provider Equity) × Ratio × weight` |
        | `fixed-ratio` | `ΔPosition × Ratio × weight` |
        | `fixed-qty` | `FixedQty × Ratio × weight` in her direction, whatever her size; scale-ins above her peak keep \
        the size, partial closes scale it by `\\|position\\| ÷ peak \\|position\\|` |
        | `risk-percent` | `Equity × RiskPercent/100 ÷ (opening price × RiskStopBps/10 000) × Ratio × weight` units, \
        computed when her position opens (or reverses), then scaled like `fixed-qty`; the price is taken to be \
        quoted in the account currency |

        The engine sizes in units of the instrument. `FixedQty`, `LotSize`, `MinQty`, `MaxOrderQty` and
        `MaxPositionQty` are in the follower's session unit: with `QtyUnit=lots` one lot is `ContractSize` units
        (or the symbol's `ContractSizes` entry). The sum over his providers is reversed when `Reverse=Y`, rounded
        to `LotSize` (`Rounding`), checked against `MinQty` (`BelowMin`) and capped by `MaxPositionQty`; each
        order is capped by `MaxOrderQty`. Remainders below a lot are kept, not lost: the target is recomputed
        from the unrounded sum on every signal.

        """
}
