import Foundation
import RegistrarCore
import RegistrarRuntime

/// What the API's ports add to the registration twin: tenants and keys, upload extras,
/// integrations and the schema versions. Guarded by the registry's lock.
final class MemoryAPIState {
    var tenants: [String: (name: String, createdAt: String)] = [DefaultTenant.id: ("default", MemoryJobStore.now())]
    /// key hash → the key.
    var keys: [String: (id: String, tenantID: String, revoked: Bool)] = [:]
    var folderCreated: [String: String] = [:]
    /// Uploads created through the API port: their file names.
    var fileNames: [String: String] = [:]
    var integrations: [String: (tenantID: String, stored: StoredIntegration)] = [:]
    var schema = (applied: 1, known: 1)
    /// Uploads' creation times in microseconds, strictly increasing (the listing's order; the
    /// job's `createdAt` text has milliseconds only).
    var createdMicros: [String: Int64] = [:]
    var lastMicros: Int64 = 0
}

/// The in-memory twin of the API's store ports (`PostgresRegistry` on PostgreSQL): the same
/// JSON, the same tenant scoping and refusals, on the registration twin's folders, jobs and
/// files, so one `MemoryRegistry` (with its `MemoryJobStore`) is the whole API world of a test.
extension MemoryRegistry: UploadStore, TenancyStore, IntegrationRecords, DeploymentHealth {
    // MARK: Operator side (what `registrar tenants|keys` do)

    /// Creates a tenant; nil when the name is taken.
    public func createTenant(name: String) -> String? {
        locked {
            guard !api.tenants.values.contains(where: { $0.name == name }) else { return nil }
            let id = UUID().uuidString.lowercased()
            api.tenants[id] = (name, MemoryJobStore.now())
            return id
        }
    }

    /// Stores a key's hash for a tenant; returns the key's id.
    public func storeAPIKey(tenantID: String, hash: String) -> String {
        locked {
            let id = UUID().uuidString.lowercased()
            api.keys[hash] = (id, tenantID, false)
            return id
        }
    }

    /// Revokes a key by id; false when no such live key.
    public func revokeAPIKey(id: String) -> Bool {
        locked {
            guard let (hash, key) = api.keys.first(where: { $0.value.id == id && !$0.value.revoked }) else { return false }
            api.keys[hash] = (key.id, key.tenantID, true)
            return true
        }
    }

    /// What `/readyz` is told about migrations (the twin has no schema: set it to test readiness).
    public func setSchemaVersions(applied: Int, known: Int) { locked { api.schema = (applied, known) } }

    // MARK: TenancyStore

    public func principal(keyHash: String) throws -> Principal? {
        locked {
            guard let key = api.keys[keyHash], !key.revoked, let tenant = api.tenants[key.tenantID] else { return nil }
            let user = keyUser(key.id)
            return Principal(tenantID: key.tenantID, tenantName: tenant.name, keyID: key.id, userID: user?.id, userEmail: user?.email,
                             workspaceRole: user?.role ?? .admin)
        }
    }

    public func ensureAPIKey(tenantID: String, name: String, prefix: String, hash: String) throws {
        locked { if api.keys[hash] == nil { api.keys[hash] = (UUID().uuidString.lowercased(), tenantID, false) } }
    }

    // MARK: UploadStore: folders and files

    public var jobStore: any JobStore { jobs }

    func folderJSON(_ id: String) -> String? {
        locked {
            guard let folder = folders[id] else { return nil }
            let held = files.values.filter { $0.folderID == id }
            var byType: [(key: String, value: JSONValue)] = []
            for (type, n) in Dictionary(grouping: held, by: { $0.unit.type.rawValue }).mapValues(\.count).sorted(by: { $0.key < $1.key }) {
                byType.append((type, .number(String(n))))
            }
            return JSONValue.object([
                ("id", .string(id)), ("name", .string(folder.name)), ("createdAt", .string(api.folderCreated[id] ?? MemoryJobStore.now())),
                ("fileCount", .number(String(held.count))), ("totalSize", .number(String(held.reduce(Int64(0)) { $0 + ($1.info.size ?? 0) }))),
                ("byType", .object(byType)),
                // The twin's files are all registered (verified); synced files live in MemoryFolderSyncStore.
                ("files", .object([("verified", .number(String(held.count))), ("unverified", .number("0")),
                                   ("failed", .number("0")), ("tombstoned", .number("0"))])),
            ]).compactText
        }
    }

    public func createFolder(tenantID: String, name: String) throws -> String {
        let id: String = try locked {
            guard !folders.values.contains(where: { $0.tenantID == tenantID && $0.name == name }) else {
                throw PortError.conflict("a folder named \(name) exists already")
            }
            return createFolder(name: name, tenantID: tenantID)
        }
        return folderJSON(id)!
    }

    public func folder(tenantID: String, id: String) throws -> String? {
        let key = id.lowercased()
        guard UUIDText.isValid(id), locked({ folders[key]?.tenantID == tenantID }) else { return nil }
        return folderJSON(key)
    }

    public func folders(tenantID: String, after: String?, limit: Int) throws -> JSONPage {
        let names = locked { folders.filter { $0.value.tenantID == tenantID && (after == nil || $0.value.name > after!) }
            .sorted { $0.value.name < $1.value.name } }
        let shown = names.prefix(limit)
        return JSONPage(items: shown.compactMap { folderJSON($0.key) }, nextCursor: names.count > limit ? shown.last?.value.name : nil)
    }

    public func folderNames(tenantID: String, limit: Int) throws -> [(id: String, name: String)] {
        locked { folders.filter { $0.value.tenantID == tenantID }.sorted { $0.value.name < $1.value.name }.prefix(limit).map { ($0.key, $0.value.name) } }
    }

    public func deleteFolder(tenantID: String, id: String) throws -> FolderDeleteOutcome {
        let key = id.lowercased()
        return try locked {
            guard UUIDText.isValid(id), folders[key]?.tenantID == tenantID else { return .notFound }
            let holders = datasetsHolding(folderID: key)
            if !holders.isEmpty { return .inDatasets(holders) }
            let held = files.values.filter { $0.folderID == key }.count
            if held > 0 { return .notEmpty("the folder holds \(held) files") }
            let uploads = facts.filter { $0.value.folderID == key }.map(\.key)
            let running = try uploads.filter { try jobs.job($0)?.status == .pending }.count
            if running > 0 { return .notEmpty("the folder has \(running) running uploads") }
            for job in uploads {
                jobs.deleteJob(job)
                facts[job] = nil
                api.fileNames[job] = nil
            }
            folderKeys[key] = nil
            folders[key] = nil
            api.folderCreated[key] = nil
            return .deleted
        }
    }

    /// A URL as the API shows it: userinfo masked, the query (a presigned URL's signature)
    /// replaced by `?…` — PostgreSQL's `SQLRedact`.
    static func shown(_ url: String) -> String {
        let masked = URLCredentials.masked(url)
        guard let q = masked.firstIndex(of: "?") else { return masked }
        return String(masked[..<q]) + "?…"
    }

    /// A file as PostgreSQL's `fileJSON` renders it (`json_strip_nulls`: absent values are absent).
    func fileJSON(_ f: File) -> String {
        func int<T: BinaryInteger>(_ v: T?) -> JSONValue { v.map { .number(String($0)) } ?? .null }
        func dbl(_ v: Double?) -> JSONValue { v.map { .number("\($0)") } ?? .null }
        func str(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        let u = f.unit, i = f.info
        let urls = i.orderedURLs ?? u.urls
        let sop = i.dicomSOPInstanceUIDs ?? i.dicomSOPInstanceUID.map { [$0] }
        let metadata = u.clientMetadata.flatMap { JSONValue.parse(Array($0.utf8)) }
        let value = JSONValue.object([
            ("id", .string(String(f.id))), ("folderId", .string(f.folderID)), ("type", .string(u.type.rawValue)), ("title", .string(u.title)),
            ("url", .string(Self.shown(urls[0]))), ("urls", .array(urls.map { .string(Self.shown($0)) })), ("size", int(i.size)),
            ("mimeType", str(i.mimeType)), ("etag", str(i.etag)), ("width", int(i.width)), ("height", int(i.height)), ("fps", dbl(i.fps)),
            ("duration", dbl(i.duration)), ("frameCount", int(i.frameCount)), ("codec", str(i.codec)), ("sampleRate", int(i.sampleRate)),
            ("channels", int(i.channels)), ("bitDepth", int(i.bitDepth)), ("pageCount", int(i.pageCount)),
            ("clientMetadata", metadata ?? .null), ("metadataSupplied", .bool(i.supplied)), ("format", str(i.format?.rawValue)),
            ("textEncoding", str(i.textEncoding)), ("dicomStudyUid", str(i.dicomStudyUID)), ("dicomSeriesUid", str(i.dicomSeriesUID)),
            ("dicomSopUids", sop.map { .array($0.map(JSONValue.string)) } ?? .null), ("dicomModality", str(i.dicomModality)),
            ("niftiDims", i.niftiDims.map { .array($0.map { .number(String($0)) }) } ?? .null),
            ("niftiPixdim", i.niftiPixdim.map { .array($0.map { .number("\($0)") }) } ?? .null),
            ("jobId", .string(f.jobID)), ("unit", .number(String(u.index))), ("createdAt", .string(f.createdAt)),
            // Registered files are verified when written; only synced files (not in this twin) are listed first.
            ("verified", .bool(true)), ("tombstoned", .bool(false)),
        ])
        return Self.strippingNulls(value).compactText
    }

    /// `json_strip_nulls`: object members whose value is null go, at every depth.
    static func strippingNulls(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let members): return .object(members.compactMap { $0.value == .null ? nil : ($0.key, strippingNulls($0.value)) })
        case .array(let items): return .array(items.map(strippingNulls))
        default: return v
        }
    }

    public func filesPage(folderID: String, type: String?, after: Int64, limit: Int) throws -> JSONPage {
        let key = folderID.lowercased()
        let rows = locked { files.values.filter { $0.folderID == key && $0.id > after && (type == nil || $0.unit.type.rawValue == type) }
            .sorted { $0.id < $1.id } }
        let shown = rows.prefix(limit)
        return JSONPage(items: shown.map(fileJSON), nextCursor: rows.count > limit ? shown.last.map { String($0.id) } : nil)
    }

    public func file(tenantID: String, id: String) throws -> String? {
        guard let n = Int64(id), n > 0 else { return nil }
        return locked {
            guard let f = files[n], folders[f.folderID]?.tenantID == tenantID else { return nil }
            return fileJSON(f)
        }
    }

    // MARK: UploadStore: uploads

    public func createUpload(_ upload: NewUpload, manifest: inout some ByteSource) throws -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try manifest.read(into: $0) }
            if n == 0 { break }
            bytes += buffer[..<n]
        }
        let id = try jobs.createJob(NewJob(kind: KindQueues.registration.kind, tenantID: upload.tenantID, ignoreErrors: upload.ignoreErrors))
        locked {
            facts[id] = Facts(folderID: upload.folderID, format: upload.format, manifest: bytes, integrationID: upload.integrationID)
            api.fileNames[id] = upload.fileName
            api.lastMicros = max(api.lastMicros + 1, Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
            api.createdMicros[id] = api.lastMicros
        }
        return id
    }

    public func loadJob(_ id: String, tenantID: String) throws -> JobRecord? {
        guard let job = try jobs.job(id.lowercased()), job.tenantID == tenantID else { return nil }
        return try loadJob(id.lowercased())
    }

    static func date(_ iso: String?) -> Date? {
        guard let iso else { return nil }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: iso)
    }

    static func micros(_ iso: String) -> Int64 { Int64(((date(iso)?.timeIntervalSince1970 ?? 0) * 1_000_000).rounded()) }

    /// The registration jobs (what PostgreSQL's `upload_jobs` view shows).
    func uploads() throws -> [Job] {
        try locked { Array(facts.keys) }.compactMap { try jobs.job($0) }
    }

    public func jobIDs(tenantID: String, status: JobStatus?, folderID: String?, after: JobPosition?, limit: Int) throws -> (ids: [String], next: JobPosition?) {
        let folder = folderID.flatMap { UUIDText.isValid($0) ? $0.lowercased() : nil }
        let rows = try uploads().filter { job in
            job.tenantID == tenantID && (status == nil || job.status == status)
                && (folder == nil || locked { facts[job.id]?.folderID } == folder)
        }.map { job in (micros: locked { api.createdMicros[job.id] } ?? Self.micros(job.createdAt), id: job.id) }
            .filter { row in after.map { (row.micros, row.id) < ($0.createdMicros, $0.id.lowercased()) } ?? true }
            .sorted { ($0.micros, $0.id) > ($1.micros, $1.id) }
        let shown = rows.prefix(limit)
        let next = rows.count > limit ? shown.last.map { JobPosition(createdMicros: $0.micros, id: $0.id) } : nil
        return (shown.map(\.id), next)
    }

    public func jobExtras(jobID: String, window: Int) throws -> JobExtras? {
        try engineJobExtras(jobID: jobID, window: window, registrationOnly: true)
    }

    /// `jobExtras` for a job of any kind (`registrationOnly` false): "" and 0 where a kind has no folder or manifest.
    func engineJobExtras(jobID: String, window: Int, registrationOnly: Bool = false) throws -> JobExtras? {
        let id = jobID.lowercased()
        guard UUIDText.isValid(jobID), let job = try jobs.job(id) else { return nil }
        let found = locked { facts[id] }
        if registrationOnly && found == nil { return nil }
        let f = found ?? Facts(folderID: "", format: .json, manifest: [])
        let manifestBytes = locked { f.manifestJobID.flatMap { facts[$0]?.manifest.count } ?? f.manifest.count }
        let start = Self.date(job.startedAt ?? job.createdAt) ?? Date()
        let chunks = jobs.finishedChunks(jobID: id)
        let units: Int, seconds: Double
        if let finished = Self.date(job.finishedAt) {
            units = chunks.reduce(0) { $0 + $1.counts.done + $1.counts.errors + $1.counts.skipped }
            seconds = finished.timeIntervalSince(start)
        } else {
            let since = Date().addingTimeInterval(-Double(window))
            units = chunks.filter { $0.finishedAt > since }.reduce(0) { $0 + $1.counts.finished }
            seconds = min(Double(window), Date().timeIntervalSince(start))
        }
        return JobExtras(tenantID: job.tenantID, folderID: f.folderID, retryOf: f.retryOf, fileName: locked { api.fileNames[id] },
                         format: found == nil ? "" : f.format.rawValue, manifestBytes: manifestBytes, ignoreErrors: job.ignoreErrors, createdAt: job.createdAt,
                         recentUnits: units, recentSeconds: seconds)
    }

    public func jobState(jobID: String) throws -> JobState? {
        guard let job = try jobs.job(jobID.lowercased()) else { return nil }
        return JobState(job, counts: try jobs.jobCounts(jobID: job.id).counts)
    }

    public func createRetryJob(tenantID: String, jobID: String) throws -> String? {
        let id = jobID.lowercased()
        guard let job = try jobs.job(id), job.tenantID == tenantID, let retry = try createRetryJob(of: id) else { return nil }
        locked {
            api.fileNames[retry] = api.fileNames[id]
            api.lastMicros = max(api.lastMicros + 1, Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
            api.createdMicros[retry] = api.lastMicros
        }
        return retry
    }

    public func errorsPage(jobID: String, code: String?, after: Int, limit: Int) throws -> JSONPage {
        let id = jobID.lowercased()
        let rows = jobs.unitErrors(jobID: id).filter { $0.index > after && (code == nil || $0.code.rawValue == code) }
        let shown = rows.prefix(limit)
        let items = shown.map { e in
            JSONValue.object([("unit", .number(String(e.index))), ("objectUrls", .array(e.urls.map { .string(Self.shown($0)) })),
                              ("code", .string(e.code.rawValue)), ("message", .string(e.message)), ("action", .string(e.action)),
                              ("createdAt", .string(jobs.unitErrorTime(jobID: id, unit: e.index) ?? ""))]).compactText
        }
        return JSONPage(items: items, nextCursor: rows.count > limit ? shown.last.map { String($0.index) } : nil)
    }

    public func errorCodes(jobID: String) throws -> [(code: String, count: Int)] {
        Dictionary(grouping: jobs.unitErrors(jobID: jobID.lowercased()), by: { $0.code.rawValue }).mapValues(\.count)
            .sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { ($0.key, $0.value) }
    }

    // MARK: IntegrationRecords

    static func secondsNow() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }

    public func addIntegration(name: String, definition: IntegrationDefinition, ring: EncryptionKeyRing, tenantID: String) throws -> StoredIntegration {
        try locked {
            guard !api.integrations.values.contains(where: { $0.tenantID == tenantID && $0.stored.name == name }) else {
                throw IntegrationStoreError(description: "an integration named '\(name)' already exists")
            }
            let id = UUID().uuidString.lowercased()
            let sealed = CredentialCipher.seal(definition.secret.serialized, ring: ring, associatedData: StoredIntegration.associatedData(id: id))
            let stored = StoredIntegration(id: id, name: name, kind: definition.kind, settings: definition.settings, credentials: sealed,
                                           keyID: ring.currentID, createdAt: Self.secondsNow())
            api.integrations[id] = (tenantID, stored)
            return stored
        }
    }

    public func integrations(tenantID: String) throws -> [StoredIntegration] {
        locked { api.integrations.values.filter { $0.tenantID == tenantID }.map(\.stored).sorted { $0.name < $1.name } }
    }

    public func integration(name: String, tenantID: String) throws -> StoredIntegration? {
        locked { api.integrations.values.first { $0.tenantID == tenantID && $0.stored.name == name }?.stored }
    }

    public func integration(id: String, tenantID: String?) throws -> StoredIntegration? {
        guard UUIDText.isValid(id) else { return nil }
        return locked {
            guard let found = api.integrations[id.lowercased()], tenantID == nil || found.tenantID == tenantID else { return nil }
            return found.stored
        }
    }

    public func removeIntegration(name: String, tenantID: String) throws -> Bool {
        try locked {
            guard let (id, _) = api.integrations.first(where: { $0.value.tenantID == tenantID && $0.value.stored.name == name }) else { return false }
            let users = facts.filter { $0.value.integrationID == id }.map(\.key)
            let pending = try users.filter { try jobs.job($0)?.status == .pending }.count
            if pending > 0 {
                throw IntegrationStoreError(description: "integration '\(name)' is used by \(pending) unfinished job(s); cancel them or wait for them to finish")
            }
            for job in users { facts[job]?.integrationID = nil }
            api.integrations[id] = nil
            return true
        }
    }

    // MARK: DeploymentHealth

    public func schemaVersions() throws -> (applied: Int, known: Int) { locked { api.schema } }

    public func jobCountsByStatus() throws -> [String: Int] {
        Dictionary(grouping: try uploads(), by: { $0.status.rawValue }).mapValues(\.count)
    }

    public func runningJobsIdleSeconds() throws -> [(id: String, seconds: Double)] {
        try uploads().filter { $0.status == .pending }.map { job in
            let started = Self.date(job.startedAt ?? job.createdAt) ?? Date()
            let last = jobs.finishedChunks(jobID: job.id).map(\.finishedAt).max() ?? Self.date(job.createdAt) ?? Date()
            return (job.id, Date().timeIntervalSince(max(started, last)))
        }
    }
}
