/// "Did you mean …?" for misspelt keys and names.
enum Suggest {
    /// The closest candidate within a small edit distance, if any.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let w = Array(word.lowercased().utf8)
        guard w.count <= 64 else { return nil }
        var best: (String, Int)?
        for c in candidates {
            let d = distance(w, Array(c.lowercased().utf8))
            let limit = max(1, min(3, (max(c.utf8.count, w.count) + 2) / 3))
            if d <= limit, best.map({ d < $0.1 }) ?? true { best = (c, d) }
        }
        return best?.0
    }

    /// The hint text for an unknown name.
    static func hint(for word: String, in candidates: [String], what: String = "keys") -> String {
        let sortedCandidates = candidates.sorted()
        if let c = closest(to: word, in: sortedCandidates) { return "did you mean '\(c)'? (\(what) here: \(sortedCandidates.joined(separator: ", ")))" }
        return "\(what) here: \(sortedCandidates.joined(separator: ", "))"
    }

    /// Levenshtein distance with transpositions counted as one edit.
    private static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prevprev = [Int](repeating: 0, count: b.count + 1)
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { cur[j] = min(cur[j], prevprev[j - 2] + 1) }
            }
            prevprev = prev
            prev = cur
        }
        return prev[b.count]
    }
}
