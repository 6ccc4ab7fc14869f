extension Sequence where Element == UInt8 {
    /// The bytes as lower-case hexadecimal, two digits each: a digest's usual spelling.
    public var lowercaseHex: String {
        let digits: StaticString = "0123456789abcdef"
        var hex: [UInt8] = []
        hex.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            hex.append(digits.utf8Start[Int(byte >> 4)])
            hex.append(digits.utf8Start[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
