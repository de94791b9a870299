import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// The API's store ports under test (`TenancyStore`, `UploadStore`, `IntegrationRecords`,
/// `DeploymentHealth`, all on one connection), with the operator-side calls the ports leave out.
public struct APIStoreUnderTest {
    public var store: any APIStore
    /// Creates a tenant of that name; returns its id.
    public var makeTenant: (_ name: String) throws -> String
    /// Stores a key's hash for a tenant; returns the key's id.
    public var storeKey: (_ tenantID: String, _ hash: String) throws -> String
    /// Revokes a key by id.
    public var revokeKey: (_ keyID: String) throws -> Bool

    public init(store: any APIStore, makeTenant: @escaping (String) throws -> String,
                storeKey: @escaping (String, String) throws -> String, revokeKey: @escaping (String) throws -> Bool) {
        self.store = store; self.makeTenant = makeTenant; self.storeKey = storeKey; self.revokeKey = revokeKey
    }
}

/// Every promise of the API store ports' doc comments, checked against one implementation (the
/// twin `MemoryRegistry`, and `PostgresRegistry` on a real PostgreSQL). JSON is compared parsed:
/// the same members with the same types and values, whatever the key order or whitespace.
public enum APIStoreConformance {
    public static func exercise(_ make: () throws -> APIStoreUnderTest) throws {
        try keysActForTheirTenant(make())
        try foldersAreTenantScoped(make())
        try uploadsFilesAndErrorsAsTheAPIShowsThem(make())
        try foldersAreDeletedOnlyWhenEmpty(make())
        try integrationsAreSealedAndScoped(make())
        try healthCountsUploads(make())
    }

    static func unique(_ prefix: String) -> String { prefix + "-" + String(UInt64.random(in: 0 ... .max), radix: 36) }

    // MARK: Tenancy

    static func keysActForTheirTenant(_ s: APIStoreUnderTest) throws {
        let name = unique("t")
        let tenant = try s.makeTenant(name)
        let other = try s.makeTenant(unique("u"))
        let hash = APIKey.hash(APIKey.generate())
        let keyID = try s.storeKey(tenant, hash)
        #expect(try s.store.principal(keyHash: hash) == Principal(tenantID: tenant, tenantName: name, keyID: keyID))
        #expect(try s.store.principal(keyHash: APIKey.hash(APIKey.generate())) == nil)
        // ensureAPIKey: idempotent, and a hash already stored keeps its tenant.
        let boot = APIKey.hash(APIKey.generate())
        try s.store.ensureAPIKey(tenantID: tenant, name: "bootstrap", prefix: "rgk_abcd", hash: boot)
        try s.store.ensureAPIKey(tenantID: tenant, name: "bootstrap", prefix: "rgk_abcd", hash: boot)
        try s.store.ensureAPIKey(tenantID: other, name: "bootstrap", prefix: "rgk_abcd", hash: boot)
        #expect(try s.store.principal(keyHash: boot)?.tenantID == tenant)
        // Revoked: no longer anyone.
        #expect(try s.revokeKey(keyID))
        #expect(try s.store.principal(keyHash: hash) == nil)
    }

    // MARK: Folders

    static func foldersAreTenantScoped(_ s: APIStoreUnderTest) throws {
        let a = try s.makeTenant(unique("a")), b = try s.makeTenant(unique("b"))
        let created = try s.store.createFolder(tenantID: a, name: "beta")
        let id = try #require(JSONCompare.string(created, "id"))
        try JSONCompare.expect(created, [("id", .string(id)), ("name", .string("beta")), ("createdAt", JSONCompare.anyTime),
                                         ("fileCount", .number("0")), ("totalSize", .number("0")), ("byType", .object([])),
                                         ("files", .object([("verified", .number("0")), ("unverified", .number("0")),
                                                            ("failed", .number("0")), ("tombstoned", .number("0"))]))])
        do {
            _ = try s.store.createFolder(tenantID: a, name: "beta")
            Issue.record("a second folder of the same name was created")
        } catch let e as PortError {
            #expect(e.isConflict && e.detail == "a folder named beta exists already")
        }
        // Names are per tenant; another tenant's folder is not found.
        let theirs = try #require(JSONCompare.string(try s.store.createFolder(tenantID: b, name: "beta"), "id"))
        #expect(theirs != id)
        #expect(try s.store.folder(tenantID: b, id: id) == nil)
        #expect(try s.store.folder(tenantID: a, id: "not-a-uuid") == nil)
        try JSONCompare.expect(try #require(try s.store.folder(tenantID: a, id: id.uppercased())), JSONCompare.parse(created))
        // Listing by name, paged by the last name.
        _ = try s.store.createFolder(tenantID: a, name: "alpha")
        _ = try s.store.createFolder(tenantID: a, name: "gamma")
        let first = try s.store.folders(tenantID: a, after: nil, limit: 2)
        #expect(first.items.compactMap { JSONCompare.string($0, "name") } == ["alpha", "beta"])
        #expect(first.nextCursor == "beta")
        let second = try s.store.folders(tenantID: a, after: "beta", limit: 2)
        #expect(second.items.compactMap { JSONCompare.string($0, "name") } == ["gamma"] && second.nextCursor == nil)
        #expect(try s.store.folderNames(tenantID: a, limit: 2).map(\.name) == ["alpha", "beta"])
        #expect(try s.store.folderNames(tenantID: b, limit: 10).map(\.id) == [theirs])
    }

    // MARK: Uploads, files, errors

    static func info(_ width: Int) -> MediaInfo {
        var i = MediaInfo()
        i.width = width
        i.height = 1
        i.mimeType = "image/png"
        i.size = 100
        i.probeRequests = 1
        i.probeBytes = 512
        return i
    }

    /// An upload of `urls` (images `img-0`, …) in the folder, scanned, with one ledger row.
    static func upload(_ s: APIStoreUnderTest, tenant: String, folder: String, _ urls: [String], integration: String? = nil) throws -> (String, [RegistrationUnit], Int) {
        let manifest = Fixtures.imagesManifest(urls)
        var source = MemoryByteSource(manifest)
        let job = try s.store.createUpload(NewUpload(tenantID: tenant, folderID: folder, fileName: "m.json", format: .json,
                                                     ignoreErrors: false, integrationID: integration), manifest: &source)
        let units = try Fixtures.units(String(decoding: manifest, as: UTF8.self))
        try s.store.recordScan(jobID: job, units: units.count, urls: units.count, skipDuplicates: false)
        try s.store.jobStore.recordChunks(jobID: job, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: units.count)])
        return (job, units, manifest.count)
    }

    static func uploadsFilesAndErrorsAsTheAPIShowsThem(_ s: APIStoreUnderTest) throws {
        let a = try s.makeTenant(unique("a")), b = try s.makeTenant(unique("b"))
        let folder = try #require(JSONCompare.string(try s.store.createFolder(tenantID: a, name: "media"), "id"))
        let urls = (0..<5).map { "https://b.example/u/\($0).png?X-Amz-Signature=secret" }
        let (job, units, bytes) = try upload(s, tenant: a, folder: folder, urls)
        #expect(try s.store.loadJob(job, tenantID: a)?.folderID == folder)
        #expect(try s.store.loadJob(job, tenantID: b) == nil)
        #expect(try s.store.loadJob("nope", tenantID: a) == nil)
        let errors = [
            UnitError(index: 1, urls: ["https://user:pw@h.example/x.png?sig=1"], code: .notFound, message: "HTTP 404"),
            UnitError(index: 3, urls: [urls[3]], code: .timeout, message: "slow"),
            UnitError(index: 4, urls: [urls[4]], code: .timeout, message: "slow"),
        ]
        _ = try s.store.commitChunk(ChunkResult(jobID: job, seq: 0, folderID: folder, skipDuplicates: false, unitCount: 5, items: [
            .verified(units[0], info(10)), .failed(errors[0]), .verified(units[2], info(12)), .failed(errors[1]), .failed(errors[2]),
        ]))

        // Files: redacted URLs, absent values absent, ids as strings.
        let files = try s.store.filesPage(folderID: folder, type: nil, after: 0, limit: 1)
        #expect(files.items.count == 1)
        let fileID = try #require(JSONCompare.string(files.items[0], "id"))
        #expect(files.nextCursor == fileID)
        try JSONCompare.expect(files.items[0], [
            ("id", .string(fileID)), ("folderId", .string(folder)), ("type", .string("image")), ("title", .string("img-0")),
            ("url", .string("https://b.example/u/0.png?…")), ("urls", .array([.string("https://b.example/u/0.png?…")])),
            ("size", .number("100")), ("mimeType", .string("image/png")), ("width", .number("10")), ("height", .number("1")),
            ("metadataSupplied", .bool(false)), ("jobId", .string(job)), ("unit", .number("0")), ("createdAt", JSONCompare.anyTime),
            ("verified", .bool(true)), ("tombstoned", .bool(false)),
        ])
        let rest = try s.store.filesPage(folderID: folder, type: nil, after: Int64(fileID)!, limit: 10)
        #expect(rest.items.compactMap { JSONCompare.string($0, "title") } == ["img-2"] && rest.nextCursor == nil)
        #expect(try s.store.filesPage(folderID: folder, type: "video", after: 0, limit: 10).items.isEmpty)
        try JSONCompare.expect(try #require(try s.store.file(tenantID: a, id: fileID)), JSONCompare.parse(files.items[0]))
        #expect(try s.store.file(tenantID: b, id: fileID) == nil)
        #expect(try s.store.file(tenantID: a, id: "x1") == nil)
        try JSONCompare.expect(try #require(try s.store.folder(tenantID: a, id: folder)), [
            ("id", .string(folder)), ("name", .string("media")), ("createdAt", JSONCompare.anyTime),
            ("fileCount", .number("2")), ("totalSize", .number("200")), ("byType", .object([("image", .number("2"))])),
            ("files", .object([("verified", .number("2")), ("unverified", .number("0")), ("failed", .number("0")), ("tombstoned", .number("0"))])),
        ])

        // Errors: in unit order, URLs without query or userinfo; codes by count.
        let page = try s.store.errorsPage(jobID: job, code: nil, after: -1, limit: 2)
        #expect(page.nextCursor == "3")
        try JSONCompare.expect(page.items[0], [
            ("unit", .number("1")), ("objectUrls", .array([.string("https://***@h.example/x.png")])), ("code", .string("not_found")),
            ("message", .string("HTTP 404")), ("action", .string(errors[0].action)), ("createdAt", JSONCompare.anyTime),
        ])
        #expect(try s.store.errorsPage(jobID: job, code: nil, after: 3, limit: 2).items.compactMap { JSONCompare.number($0, "unit") } == [4])
        #expect(try s.store.errorsPage(jobID: job, code: "timeout", after: -1, limit: 10).items.compactMap { JSONCompare.number($0, "unit") } == [3, 4])
        let codes = try s.store.errorCodes(jobID: job)
        #expect(codes.map(\.code) == ["timeout", "not_found"] && codes.map(\.count) == [2, 1])

        // The job as the API shows it.
        let extras = try #require(try s.store.jobExtras(jobID: job, window: 30))
        #expect(extras.tenantID == a && extras.folderID == folder && extras.retryOf == nil && extras.fileName == "m.json")
        #expect(extras.format == "json" && extras.manifestBytes == bytes && !extras.ignoreErrors)
        #expect(JSONCompare.isTime(extras.createdAt) && extras.recentUnits == 5 && extras.recentSeconds >= 0 && extras.recentSeconds <= 30)
        #expect(try s.store.jobExtras(jobID: "nope", window: 30) == nil)
        let state = try #require(try s.store.jobState(jobID: job))
        #expect(state.counts == UnitCounts(done: 2, errors: 3) && state.total == 5 && state.status == .pending)

        // Listing: newest first, by status and folder, paged by position; only the tenant's.
        let (second, _, _) = try upload(s, tenant: a, folder: folder, [urls[0]])
        let all = try s.store.jobIDs(tenantID: a, status: nil, folderID: nil, after: nil, limit: 10)
        #expect(all.ids == [second, job] && all.next == nil)
        let one = try s.store.jobIDs(tenantID: a, status: nil, folderID: folder, after: nil, limit: 1)
        #expect(one.ids == [second])
        let next = try #require(one.next)
        #expect(next.id == second)
        #expect(try s.store.jobIDs(tenantID: a, status: nil, folderID: folder, after: next, limit: 1).ids == [job])
        #expect(try s.store.jobIDs(tenantID: b, status: nil, folderID: nil, after: nil, limit: 10).ids.isEmpty)
        #expect(try s.store.jobIDs(tenantID: a, status: .done, folderID: nil, after: nil, limit: 10).ids.isEmpty)
        let elsewhere = try #require(JSONCompare.string(try s.store.createFolder(tenantID: a, name: "other"), "id"))
        #expect(try s.store.jobIDs(tenantID: a, status: nil, folderID: elsewhere, after: nil, limit: 10).ids.isEmpty)

        // Finished with errors: a retry of the failed units, only for the owner.
        try s.store.jobStore.finishSplit(jobID: job, totalChunks: 1)
        #expect(try s.store.jobStore.finishJobIfComplete(jobID: job) == .error)
        #expect(try s.store.jobIDs(tenantID: a, status: .error, folderID: nil, after: nil, limit: 10).ids == [job])
        #expect(try s.store.createRetryJob(tenantID: b, jobID: job) == nil)
        let retry = try #require(try s.store.createRetryJob(tenantID: a, jobID: job))
        #expect(try s.store.retryUnits(jobID: retry) == [1, 3, 4])
        let retried = try #require(try s.store.jobExtras(jobID: retry, window: 30))
        #expect(retried.retryOf == job && retried.manifestBytes == bytes && retried.fileName == "m.json" && retried.folderID == folder)
        #expect(try s.store.jobState(jobID: retry)?.total == 3)
        // A finished job's rate covers its whole run: every processed unit.
        #expect(try s.store.jobExtras(jobID: job, window: 30)?.recentUnits == 5)

        // Cancel goes through the engine's store.
        #expect(try s.store.jobStore.requestCancel(jobID: second) == .pending)
        #expect(try s.store.jobStore.isCancelRequested(jobID: second))
    }

    static func foldersAreDeletedOnlyWhenEmpty(_ s: APIStoreUnderTest) throws {
        let a = try s.makeTenant(unique("a")), b = try s.makeTenant(unique("b"))
        let full = try #require(JSONCompare.string(try s.store.createFolder(tenantID: a, name: "full"), "id"))
        let (job, units, _) = try upload(s, tenant: a, folder: full, ["https://b.example/d/0.png", "https://b.example/d/1.png"])
        #expect(try s.store.deleteFolder(tenantID: a, id: full) == .notEmpty("the folder has 1 running uploads"))
        _ = try s.store.commitChunk(ChunkResult(jobID: job, seq: 0, folderID: full, skipDuplicates: false, unitCount: 2,
                                                items: units.map { .verified($0, info(1)) }))
        try s.store.jobStore.finishSplit(jobID: job, totalChunks: 1)
        _ = try s.store.jobStore.finishJobIfComplete(jobID: job)
        #expect(try s.store.deleteFolder(tenantID: a, id: full) == .notEmpty("the folder holds 2 files"))

        let empty = try #require(JSONCompare.string(try s.store.createFolder(tenantID: a, name: "empty"), "id"))
        let (done, _, _) = try upload(s, tenant: a, folder: empty, ["https://b.example/e/0.png"])
        _ = try s.store.commitChunk(ChunkResult(jobID: done, seq: 0, folderID: empty, skipDuplicates: false, unitCount: 1,
                                                items: [.failed(UnitError(index: 0, urls: ["https://b.example/e/0.png"], code: .notFound, message: "404"))]))
        try s.store.jobStore.finishSplit(jobID: done, totalChunks: 1)
        _ = try s.store.jobStore.finishJobIfComplete(jobID: done)
        #expect(try s.store.deleteFolder(tenantID: b, id: empty) == .notFound)
        #expect(try s.store.deleteFolder(tenantID: a, id: "bad") == .notFound)
        #expect(try s.store.deleteFolder(tenantID: a, id: empty) == .deleted)
        // With its finished uploads' records.
        #expect(try s.store.folder(tenantID: a, id: empty) == nil)
        #expect(try s.store.loadJob(done, tenantID: a) == nil)
        #expect(try s.store.deleteFolder(tenantID: a, id: empty) == .notFound)
    }

    // MARK: Integrations

    static func integrationsAreSealedAndScoped(_ s: APIStoreUnderTest) throws {
        let a = try s.makeTenant(unique("a")), b = try s.makeTenant(unique("b"))
        let ring = try EncryptionKeyRing(text: "k1:" + SigningBase64.encode([UInt8](repeating: 7, count: 32)))
        let canary = "CANARY-" + unique("secret")
        let (fields, buckets) = try IntegrationDefinition.fields(fromFile: Array(
            #"{"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "\#(canary)", "region": "eu-west-2", "buckets": ["media"]}"#.utf8))
        let definition = try IntegrationDefinition.build(kind: .aws, fields: fields, buckets: buckets)
        let stored = try s.store.addIntegration(name: "s3", definition: definition, ring: ring, tenantID: a)
        #expect(stored.name == "s3" && stored.kind == .aws && stored.keyID == "k1" && stored.settings == definition.settings)
        #expect(!stored.credentials.contains(canary) && stored.credentials.hasPrefix("v1:k1:"))
        #expect(try stored.decryptSecret(ring: ring) == definition.secret)
        #expect(stored.createdAt.count == 20 && stored.createdAt.hasSuffix("Z"))
        do {
            _ = try s.store.addIntegration(name: "s3", definition: definition, ring: ring, tenantID: a)
            Issue.record("a second integration of the same name was stored")
        } catch let e as IntegrationStoreError {
            #expect(e.description == "an integration named 's3' already exists")
        }
        _ = try s.store.addIntegration(name: "s3", definition: definition, ring: ring, tenantID: b)
        _ = try s.store.addIntegration(name: "gcs", definition: definition, ring: ring, tenantID: a)
        #expect(try s.store.integrations(tenantID: a).map(\.name) == ["gcs", "s3"])
        #expect(try s.store.integration(name: "s3", tenantID: a)?.id == stored.id)
        #expect(try s.store.integration(id: stored.id, tenantID: a)?.name == "s3")
        #expect(try s.store.integration(id: stored.id, tenantID: b) == nil)
        #expect(try s.store.integration(id: stored.id, tenantID: nil)?.name == "s3")
        #expect(try s.store.integration(id: "nope", tenantID: nil) == nil)

        // In use by an unfinished upload: refused; once it finished, forgotten by it.
        let folder = try #require(JSONCompare.string(try s.store.createFolder(tenantID: a, name: "f"), "id"))
        let (job, _, _) = try upload(s, tenant: a, folder: folder, ["https://b.example/i/0.png"], integration: stored.id)
        #expect(try s.store.jobIntegrationID(jobID: job) == stored.id)
        do {
            _ = try s.store.removeIntegration(name: "s3", tenantID: a)
            Issue.record("an integration in use was removed")
        } catch let e as IntegrationStoreError {
            #expect(e.description == "integration 's3' is used by 1 unfinished job(s); cancel them or wait for them to finish")
        }
        _ = try s.store.jobStore.requestCancel(jobID: job)
        try s.store.jobStore.recordCancelledChunks(jobID: job, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: 1)])
        try s.store.jobStore.finishSplit(jobID: job, totalChunks: 1)
        #expect(try s.store.jobStore.finishJobIfComplete(jobID: job) == .cancelled)
        #expect(try s.store.removeIntegration(name: "s3", tenantID: a))
        #expect(try s.store.jobIntegrationID(jobID: job) == nil)
        #expect(try s.store.removeIntegration(name: "s3", tenantID: a) == false)
        #expect(try s.store.integration(name: "s3", tenantID: b) != nil)
    }

    // MARK: Health

    static func healthCountsUploads(_ s: APIStoreUnderTest) throws {
        let versions = try s.store.schemaVersions()
        #expect(versions.known > 0 && versions.applied >= versions.known)
        let a = try s.makeTenant(unique("a"))
        let folder = try #require(JSONCompare.string(try s.store.createFolder(tenantID: a, name: "h"), "id"))
        let before = try s.store.jobCountsByStatus()
        let (running, _, _) = try upload(s, tenant: a, folder: folder, ["https://b.example/h/0.png"])
        let (cancelled, _, _) = try upload(s, tenant: a, folder: folder, ["https://b.example/h/1.png"])
        _ = try s.store.jobStore.requestCancel(jobID: cancelled)
        try s.store.jobStore.recordCancelledChunks(jobID: cancelled, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: 1)])
        try s.store.jobStore.finishSplit(jobID: cancelled, totalChunks: 1)
        _ = try s.store.jobStore.finishJobIfComplete(jobID: cancelled)
        let after = try s.store.jobCountsByStatus()
        #expect(after["PENDING", default: 0] == before["PENDING", default: 0] + 1)
        #expect(after["CANCELLED", default: 0] == before["CANCELLED", default: 0] + 1)
        let idle = try s.store.runningJobsIdleSeconds()
        let mine = try #require(idle.first { $0.id == running })
        #expect(mine.seconds >= 0 && mine.seconds < 3600)
        #expect(!idle.contains { $0.id == cancelled })
    }
}

/// JSON compared as values: objects as sets of members, numbers by value.
public enum JSONCompare {
    /// Stands for "an ISO 8601 UTC time with milliseconds" in an expected object.
    public static let anyTime = JSONValue.string("<any time>")

    public static func parse(_ text: String) -> [(key: String, value: JSONValue)] {
        if case .object(let members)? = JSONValue.parse(Array(text.utf8)) { return members }
        return []
    }

    public static func string(_ text: String, _ key: String) -> String? {
        if case .string(let s)? = JSONValue.parse(Array(text.utf8))?[key] { return s }
        return nil
    }

    public static func number(_ text: String, _ key: String) -> Int? {
        if case .number(let n)? = JSONValue.parse(Array(text.utf8))?[key] { return Int(n) }
        return nil
    }

    /// `2026-01-02T03:04:05.678Z`.
    public static func isTime(_ s: String) -> Bool {
        s.count == 24 && s.hasSuffix("Z") && s.dropFirst(10).first == "T" && s.dropFirst(19).first == "."
    }

    static func same(_ a: JSONValue, _ b: JSONValue, _ path: String, _ problems: inout [String]) {
        switch (a, b) {
        case let (.object(x), .object(y)):
            let xs = Dictionary(x.map { ($0.key, $0.value) }, uniquingKeysWith: { f, _ in f })
            let ys = Dictionary(y.map { ($0.key, $0.value) }, uniquingKeysWith: { f, _ in f })
            for k in Set(xs.keys).union(ys.keys).sorted() {
                guard let v = xs[k] else { problems.append("\(path).\(k): missing"); continue }
                guard let w = ys[k] else { problems.append("\(path).\(k): unexpected \(v.compactText)"); continue }
                same(v, w, path + "." + k, &problems)
            }
        case let (.array(x), .array(y)):
            guard x.count == y.count else { problems.append("\(path): \(x.count) items, expected \(y.count)"); return }
            for (i, (v, w)) in zip(x, y).enumerated() { same(v, w, "\(path)[\(i)]", &problems) }
        case let (.number(x), .number(y)):
            if Double(x) != Double(y) { problems.append("\(path): \(x), expected \(y)") }
        case let (.string(x), .string(y)) where y == "<any time>":
            if !isTime(x) { problems.append("\(path): \(x) is not a time") }
        default:
            if a != b { problems.append("\(path): \(a.compactText), expected \(b.compactText)") }
        }
    }

    /// Records an issue for every member that differs from `expected`.
    public static func expect(_ text: String, _ expected: [(key: String, value: JSONValue)],
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard let actual = JSONValue.parse(Array(text.utf8)) else {
            Issue.record("not JSON: \(text)", sourceLocation: sourceLocation)
            return
        }
        var problems: [String] = []
        same(actual, .object(expected), "", &problems)
        if !problems.isEmpty { Issue.record("\(problems.joined(separator: "; "))\nin \(text)", sourceLocation: sourceLocation) }
    }
}
