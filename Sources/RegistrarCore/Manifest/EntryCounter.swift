/// Numbers items, validates them and enforces the whole-file count limits — the part of
/// reading that the JSON and CSV readers share.
struct EntryCounter {
    let limits: ManifestLimits
    let validator: ItemValidator
    private(set) var units = 0
    private(set) var urls = 0

    init(limits: ManifestLimits) {
        self.limits = limits
        validator = ItemValidator(limits: limits)
    }

    /// Validates `raw` as the next item. Throws when the manifest goes over the URL or unit
    /// limit: such a manifest is refused whole, before anything downstream happens.
    mutating func emit(_ raw: RawItem, warnings: inout [ManifestIssue]) throws -> ManifestEntry {
        let entry = validator.validate(raw, index: units, warnings: &warnings)
        units += 1
        urls += entry.urlCount
        if urls > limits.maxURLs {
            throw ManifestError(.tooManyURLs, item: raw.location.itemName,
                                "the manifest lists more than \(limits.maxURLs) URLs (the limit is reached at this item); split it into several manifests",
                                line: raw.location.line)
        }
        if units > limits.maxUnits {
            throw ManifestError(.tooManyUnits, item: raw.location.itemName,
                                "the manifest lists more than \(limits.maxUnits) items (the limit is reached at this item); split it into several manifests",
                                line: raw.location.line)
        }
        return entry
    }
}
