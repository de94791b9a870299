/// The parts every bucket storage URL shares (`REGISTRAR_STORAGE_URL`, docs/storage.md): the
/// location before `?`, checked by each store's parser, and the settings after it —
/// `integration=NAME` (required) and one part-size setting in MiB (`multipartMiB` for S3 and
/// GCS, `blockMiB` for Azure).
struct StorageURLParts {
    /// The URL without its query: what messages show.
    var shown: String
    /// Between the scheme's `//` and the query.
    var location: Substring
    var integration: String
    /// The part-size setting's value in bytes, or nil when not given.
    var partBytes: Int?

    /// Splits `t` after `scheme` (`"s3://"`, `"https://"`) and reads its settings.
    /// - Parameters:
    ///   - sizeName / sizes / sizeWhy: the part-size setting, its allowed MiB and why.
    ///   - refused: setting names refused with `refusal` (a SAS pasted into an Azure URL).
    ///   - integrationKinds: which integrations may sign, for the missing-integration message.
    static func parse(_ t: String, scheme: String, sizeName: String, sizes: ClosedRange<Int>, sizeWhy: String,
                      refused: Set<String> = [], refusal: String = "", integrationKinds: String) throws(StorageLocationError) -> StorageURLParts {
        let shown = S3StorageTarget.withoutQuery(t)
        var location = Substring(t.dropFirst(scheme.count))
        var query: Substring = ""
        if let q = location.firstIndex(of: "?") { query = location[location.index(after: q)...]; location = location[..<q] }
        var integration: String?
        var partBytes: Int?
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(kv[0]), value = kv.count > 1 ? String(kv[1]) : ""
            if name == "integration" {
                guard !value.isEmpty else { throw StorageLocationError("\(shown): integration= names no integration") }
                integration = SigningPercentEncoding.decode(value)
            } else if name == sizeName {
                guard let n = Int(value), sizes.contains(n) else {
                    throw StorageLocationError("\(shown): \(sizeName) must be a whole number from \(sizes.lowerBound) to \(sizes.upperBound) (\(sizeWhy)), not '\(value)'")
                }
                partBytes = n << 20
            } else if refused.contains(name) {
                throw StorageLocationError("\(shown): \(refusal)")
            } else {
                throw StorageLocationError("\(shown): unknown setting '\(name)' (expected integration= and optionally \(sizeName)=)")
            }
        }
        guard let integration else {
            throw StorageLocationError("\(shown): say which integration's credentials sign the writes: \(shown)?integration=NAME (\(integrationKinds))")
        }
        return StorageURLParts(shown: shown, location: location, integration: integration, partBytes: partBytes)
    }

    /// `BUCKET[/PREFIX]` of an s3:// or gs:// location: the bucket checked by `bucketProblem`,
    /// the prefix by the object-key rules, trailing slashes dropped.
    func bucketAndPrefix(bucketProblem: (String) -> String?) throws(StorageLocationError) -> (bucket: String, prefix: String) {
        let slash = location.firstIndex(of: "/") ?? location.endIndex
        let bucket = String(location[..<slash])
        if let problem = bucketProblem(bucket) { throw StorageLocationError("\(shown): the bucket name \(problem)") }
        var prefix = slash < location.endIndex ? String(location[location.index(after: slash)...]) : ""
        while prefix.hasSuffix("/") { prefix.removeLast() }
        try checkPrefix(prefix)
        return (bucket, prefix)
    }

    func checkPrefix(_ prefix: String) throws(StorageLocationError) {
        if !prefix.isEmpty, let problem = ObjectKey.problem(with: prefix) {
            throw StorageLocationError("\(shown): the prefix '\(prefix)' \(problem) (segments of A-Z a-z 0-9 . _ - separated by /)")
        }
    }
}
