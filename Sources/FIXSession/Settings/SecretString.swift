/// A secret (a logon password) that never shows itself: its description, debug description and
/// reflection all print `****`, so a log line or `dump` of the settings holding it leaks nothing.
public struct SecretString: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// What is printed in place of a secret.
    public static let mask = "****"

    /// The secret itself, for the one place that must send it (the Logon message).
    public let revealed: String

    public init(_ value: String) {
        revealed = value
    }

    public var description: String { Self.mask }
    public var debugDescription: String { Self.mask }
    public var customMirror: Mirror { Mirror(self, children: ["value": Self.mask]) }
}
