import FIXSession

/// The admin token, compared in constant time.
struct AccessToken: Sendable {
    private let expected: [UInt8]

    init(_ secret: SecretString) {
        expected = Array(secret.revealed.utf8)
    }

    /// Whether `candidate` is the token. The time taken depends only on the expected token's length, never
    /// on how many leading bytes of a guess are right.
    func matches(_ candidate: some StringProtocol) -> Bool {
        let given = Array(candidate.utf8)
        var difference: UInt8 = given.count == expected.count ? 0 : 1
        for i in expected.indices {
            difference |= expected[i] ^ (i < given.count ? given[i] : 0)
        }
        return difference == 0
    }

    /// The token of an `Authorization: Bearer ...` header value, if it has that form.
    static func bearer(fromAuthorization value: String) -> Substring? {
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].drop { $0 == " " }
    }
}
