/// An optional value that JSON output always names: `null` when absent, instead of leaving the key
/// out as synthesized `Encodable` does. The CLI's `--json` shapes promise every key.
@propertyWrapper
struct KeptNull<Value: Encodable>: Encodable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let wrappedValue { try c.encode(wrappedValue) } else { try c.encodeNil() }
    }
}
