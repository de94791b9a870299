/// What `registrar validate` reports about a manifest: counts per type, duplicates within the
/// file, and the warnings and errors found (the first `maxListedIssues` of each, plus totals).
public struct ManifestSummary: Sendable {
    public var format: ManifestFormat
    public var bytes: Int64 = 0
    /// Items read (accepted + rejected).
    public var units = 0
    public var urls = 0
    public var rejectedUnits = 0
    /// Units per type (accepted and rejected items whose type is known).
    public var unitsByType: [DataType: Int] = [:]
    public var urlsByType: [DataType: Int] = [:]
    /// Units whose URL key repeats an earlier unit's key in the same file.
    public var duplicateUnits = 0
    public var options = ManifestOptions()
    public var warnings: [ManifestIssue] = []
    public var errors: [ManifestIssue] = []
    public var warningCount = 0
    public var errorCount = 0
    /// Errors about the file as a whole that did not stop reading (a mistyped
    /// `skip_duplicate_urls`, a section that is not an array), and item errors that refuse the
    /// whole file (`url_contains_credentials`: a manifest holding a password is never stored):
    /// the first few. Such a manifest is not registered, even with ignore-errors.
    public var fileErrors: [ManifestIssue] = []
    /// The fault that stopped reading, if any (also counted in `errors`).
    public var fatal: ManifestIssue?
    /// Most bytes the reader held at once.
    public var peakBufferedBytes = 0

    public var valid: Bool { errorCount == 0 && fatal == nil }

    public init(format: ManifestFormat) {
        self.format = format
    }
}

/// Reads a whole manifest and summarises it, in bounded memory: the only thing that grows
/// with the file is the duplicate detector (8 bytes per distinct unit).
public struct ManifestScanner {
    public var maxListedIssues: Int
    public var limits: ManifestLimits

    public init(limits: ManifestLimits = .default, maxListedIssues: Int = 1000) {
        self.limits = limits
        self.maxListedIssues = maxListedIssues
    }

    /// Scans everything `reader` yields. `onEntry` sees each entry (for callers that act on
    /// units, like the coordinator); it may be nil.
    public func scan(_ reader: inout some ManifestReader, format: ManifestFormat,
                     onEntry: ((ManifestEntry) -> Void)? = nil) -> ManifestSummary {
        var summary = ManifestSummary(format: format)
        var duplicates = DuplicateDetector()
        func record(_ issue: ManifestIssue) {
            if issue.severity == .error {
                summary.errorCount += 1
                if summary.errors.count < maxListedIssues { summary.errors.append(issue) }
            } else {
                summary.warningCount += 1
                if summary.warnings.count < maxListedIssues { summary.warnings.append(issue) }
            }
        }
        do {
            while let entry = try reader.next() {
                summary.units += 1
                summary.urls += entry.urlCount
                switch entry {
                case .unit(let u):
                    summary.unitsByType[u.type, default: 0] += 1
                    summary.urlsByType[u.type, default: 0] += u.urls.count
                    if !duplicates.insert(u.urlKey) {
                        summary.duplicateUnits += 1
                        record(ManifestIssue(.warning, .duplicateURL, item: u.location.itemName, field: nil,
                                             message: "repeats the URL\(u.urls.count > 1 ? "s" : "") of an earlier item (skipped when skip_duplicate_urls is true, registered again otherwise)",
                                             line: u.location.line))
                    }
                case .rejected(let r):
                    summary.rejectedUnits += 1
                    if let t = r.type {
                        summary.unitsByType[t, default: 0] += 1
                        summary.urlsByType[t, default: 0] += r.urls.count
                    }
                    r.errors.forEach(record)
                    for issue in r.errors where issue.code == .urlContainsCredentials && summary.fileErrors.count < 10 {
                        summary.fileErrors.append(issue)
                    }
                }
                for issue in reader.takeIssues() {
                    record(issue)
                    if issue.severity == .error && summary.fileErrors.count < 10 { summary.fileErrors.append(issue) }
                }
                onEntry?(entry)
            }
        } catch let error as ManifestError {
            for issue in reader.takeIssues() { record(issue) }
            summary.fatal = error.issue
            record(error.issue)
        } catch {
            let issue = ManifestIssue(.error, .readFailed, item: "manifest", message: "\(error)")
            summary.fatal = issue
            record(issue)
        }
        for issue in reader.takeIssues() {
            record(issue)
            if issue.severity == .error && summary.fileErrors.count < 10 { summary.fileErrors.append(issue) }
        }
        summary.options = reader.options
        summary.bytes = reader.bytesRead
        summary.peakBufferedBytes = reader.peakBufferedBytes
        return summary
    }
}

/// Detects repeated URL keys with a set of 64-bit digests, 8 bytes per key instead of the whole
/// string. The digest is a fast multiply–xorshift hash over 8-byte words with a murmur3
/// finaliser (the scan hashes every unit, and SipHash cost 8% of it). A false "duplicate" needs a
/// 64-bit collision: probability below 1e-7 for a million keys, and it would only change this
/// count — the database's unique key decides what is actually skipped.
struct DuplicateDetector {
    private var seen = DigestSet()

    /// Returns false when `key` was seen before.
    mutating func insert(_ key: String) -> Bool {
        var key = key
        let digest = key.withUTF8 { Self.digest($0) }
        return seen.insert(digest)
    }

    static func digest(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let k1: UInt64 = 0x9E37_79B9_7F4A_7C15, k2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        var h = UInt64(b.count) &* k1
        var i = 0
        let raw = UnsafeRawBufferPointer(b)
        while i + 8 <= b.count {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ (w &* k2)) &* k1
            h = (h << 31) | (h >> 33)
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < b.count {
            tail |= UInt64(b[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ (tail &* k2)) &* k1
        // murmur3 fmix64
        h ^= h >> 33; h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33; h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
}

/// An open-addressing set of 64-bit digests. The digests are already well mixed, so unlike
/// `Set<UInt64>` it uses them as their own hash (no second hashing per insert), and it stores
/// nothing but the 8-byte values: 16 MiB for a million keys at its 50% load limit.
struct DigestSet {
    private var slots = [UInt64](repeating: 0, count: 1024)
    private var count = 0

    /// Inserts `digest`; returns false when it was already there.
    mutating func insert(_ digest: UInt64) -> Bool {
        let value = digest == 0 ? 1 : digest // 0 marks an empty slot
        if (count + 1) * 2 > slots.count { grow() }
        let inserted = slots.withUnsafeMutableBufferPointer { Self.place(value, in: $0) }
        if inserted { count += 1 }
        return inserted
    }

    private static func place(_ value: UInt64, in table: UnsafeMutableBufferPointer<UInt64>) -> Bool {
        let mask = table.count - 1
        var i = Int(truncatingIfNeeded: value) & mask
        while true {
            let slot = table[i]
            if slot == 0 { table[i] = value; return true }
            if slot == value { return false }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        slots.withUnsafeMutableBufferPointer { table in
            for v in old where v != 0 { _ = Self.place(v, in: table) }
        }
    }
}
