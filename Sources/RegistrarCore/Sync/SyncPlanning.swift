/// An object of a synced prefix, with its sidecar (if any) paired to it.
public struct SyncedObject: Sendable, Equatable {
    public var object: ListedObject
    /// The sidecar's ETag, when `key + suffix` was listed.
    public var sidecarETag: String?
    /// The type registered: from the key's extension; nil for a key Registrar does not register.
    public var type: DataType?
    public init(object: ListedObject, sidecarETag: String? = nil, type: DataType?) {
        self.object = object
        self.sidecarETag = sidecarETag
        self.type = type
    }
}

/// Turns a sorted listing, page by page, into settled objects with their sidecars paired.
///
/// S3 lists keys in UTF-8 byte order, so `key + suffix` comes after `key`, possibly on a later
/// page. An object is held back until a key past `key + suffix` has been listed (or the listing
/// ended): it then is settled with or without its sidecar. Sidecars are never objects themselves.
public struct SidecarPairing {
    public let suffix: String?
    private var held: [SyncedObject] = []

    public init(suffix: String?) {
        self.suffix = suffix
    }

    /// Feeds one page (keys ascending); returns the objects settled by it, in key order.
    public mutating func feed(_ page: [ListedObject]) -> [SyncedObject] {
        var settled: [SyncedObject] = []
        for o in page {
            if let suffix, o.key.hasSuffix(suffix), o.key.utf8.count > suffix.utf8.count {
                let base = String(o.key.utf8.dropLast(suffix.utf8.count))!
                if let i = held.lastIndex(where: { $0.object.key == base }) { held[i].sidecarETag = o.etag }
                release(before: o.key, into: &settled)
                continue
            }
            release(before: o.key, into: &settled)
            let synced = SyncedObject(object: o, type: SyncTypes.type(ofKey: o.key))
            if suffix == nil { settled.append(synced) } else { held.append(synced) }
        }
        return settled
    }

    /// The listing ended: every held object is settled.
    public mutating func finish() -> [SyncedObject] {
        defer { held.removeAll() }
        return held
    }

    /// Settles held objects whose sidecar key sorts before `key` (it would have been listed).
    private mutating func release(before key: String, into settled: inout [SyncedObject]) {
        guard let suffix, !held.isEmpty else { return }
        let k = Array(key.utf8)
        var keep: [SyncedObject] = []
        for h in held {
            if Array((h.object.key + suffix).utf8).lexicographicallyPrecedes(k) { settled.append(h) } else { keep.append(h) }
        }
        held = keep
    }
}

/// The type a synced object registers as, from its key's extension (the same table as uploads
/// from a disk).
public enum SyncTypes {
    public static func type(ofKey key: String) -> DataType? {
        guard !key.hasSuffix("/"), let c = UploadManifest.classify(contentType: nil, name: key) else { return nil }
        switch c.section {
        case .images: return .image
        case .videos: return .video
        case .audio: return .audio
        case .pdfs: return .pdf
        case .text: return .text
        case .nifti: return .nifti
        // A DICOM file is part of a series; a synced folder registers single files only.
        case .dicom: return nil
        }
    }
}

/// What the folder holds for a key (a file recorded by an earlier sync).
public struct StoredSyncState: Sendable, Equatable {
    public var etag: String
    public var sidecarETag: String?
    public var tombstoned: Bool
    /// Verified, or failed its probe with this ETag (a per-file error): either way, not pending.
    public var settled: Bool
    public init(etag: String, sidecarETag: String?, tombstoned: Bool, settled: Bool) {
        self.etag = etag
        self.sidecarETag = sidecarETag
        self.tombstoned = tombstoned
        self.settled = settled
    }
}

/// What a sync does with one listed object.
public enum SyncAction: String, Sendable, Equatable {
    /// New: recorded unverified, then probed.
    case create
    /// Its ETag (or its sidecar's) changed: recorded unverified with the new ETag, probed again.
    case reprobe
    /// It was tombstoned and came back unchanged: restored, not probed.
    case restore
    /// It came back changed: restored and probed.
    case restoreAndReprobe
    /// Recorded but never settled (an interrupted sync): probed, not rewritten.
    case resume
    /// Nothing changed: not opened, not rewritten.
    case unchanged
}

/// The listing diff: an object against what the folder holds for its key.
public enum SyncDiff {
    public static func action(for listed: SyncedObject, stored: StoredSyncState?) -> SyncAction {
        guard let stored else { return .create }
        let changed = stored.etag != listed.object.etag || stored.sidecarETag != listed.sidecarETag
        if stored.tombstoned { return changed ? .restoreAndReprobe : .restore }
        if changed { return .reprobe }
        return stored.settled ? .unchanged : .resume
    }

    /// Whether the action makes a worker open the object.
    public static func probes(_ action: SyncAction) -> Bool {
        switch action {
        case .create, .reprobe, .restoreAndReprobe, .resume: return true
        case .restore, .unchanged: return false
        }
    }
}
