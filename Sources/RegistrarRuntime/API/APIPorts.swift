import RegistrarCore

// The HTTP API's ports: what `RegistrarAPI`'s routes need from the servers, beyond the engine's
// `JobStore`, `ProgressTracker` and `WorkQueue`. Same rules as the engine's ports: synchronous,
// one instance per thread (the API's `BlockingPool` gives each of its threads its own), an
// in-memory twin in `RegistrarTesting` and a conformance suite that the twin and the PostgreSQL
// adapter both pass.
//
// Every tenant-scoped call takes the caller's tenant id and filters on it: another tenant's
// object is "not found" (nil), never "forbidden". Malformed ids (they come from URLs) are "not
// found" too, never an error.
//
// Response JSON is built by the store (PostgreSQL builds it in SQL, for speed); the twin yields
// the same JSON: same fields, types and values (key order and whitespace may differ).

/// Tenants and API keys.
public protocol TenancyStore: AnyObject {
    /// The principal a live (not revoked) key acts for, given the key's hash; nil otherwise.
    func principal(keyHash: String) throws -> Principal?
    /// Ensures the tenant has this key (by hash): the deployment's bootstrap key. Idempotent: a
    /// hash already stored (for any tenant) is left as it is.
    func ensureAPIKey(tenantID: String, name: String, prefix: String, hash: String) throws
}

/// Folders, their files, uploads (registration jobs) and their error reports, as the API shows
/// them. Extends `RegistrationStore` (the stored manifest, `recordScan`, `loadJob`).
public protocol UploadStore: RegistrationStore {
    /// The engine's store on the same connection: the job view (`JobMonitor`), cancel
    /// (`requestCancel` + `finishJobIfComplete`).
    var jobStore: any JobStore { get }

    /// Creates a folder and returns its JSON (`id`, `name`, `createdAt`, `fileCount` 0,
    /// `totalSize` 0, `byType` {}); throws `PortError.conflict` when the tenant has a folder of
    /// that name (the detail says so).
    func createFolder(tenantID: String, name: String) throws -> String
    /// A folder's JSON, with its file count, total size and counts by type.
    func folder(tenantID: String, id: String) throws -> String?
    /// The tenant's folders by name (the cursor is the last name on the page).
    func folders(tenantID: String, after: String?, limit: Int) throws -> JSONPage
    /// Just ids and names, by name, at most `limit` (the status page's folder picker).
    func folderNames(tenantID: String, limit: Int) throws -> [(id: String, name: String)]
    /// Deletes an empty folder (no files, no running upload) with its finished uploads' records.
    func deleteFolder(tenantID: String, id: String) throws -> FolderDeleteOutcome
    /// A folder's files by id, optionally of one type (the cursor is the last id). The caller
    /// has checked the folder is the tenant's. URLs are shown redacted (no query, no userinfo).
    func filesPage(folderID: String, type: String?, after: Int64, limit: Int) throws -> JSONPage
    /// A file's JSON if it is the tenant's.
    func file(tenantID: String, id: String) throws -> String?

    /// Creates an upload and stores its manifest in one transaction (a job never exists with
    /// half a manifest); returns the job id. The job is `PENDING`, phase `received`.
    func createUpload(_ upload: NewUpload, manifest: inout some ByteSource) throws -> String
    /// The upload if it belongs to the tenant.
    func loadJob(_ id: String, tenantID: String) throws -> JobRecord?
    /// The tenant's upload ids, newest first, optionally by status or folder, after a position
    /// (the last row of the previous page); `next` is nil on the last page.
    func jobIDs(tenantID: String, status: JobStatus?, folderID: String?, after: JobPosition?, limit: Int) throws -> (ids: [String], next: JobPosition?)
    /// What the API adds to an upload's state, with the units finished in the last `window`
    /// seconds and the seconds that window covers (for a finished upload: all its processed
    /// units over its whole run).
    func jobExtras(jobID: String, window: Int) throws -> JobExtras?
    /// The upload's state from the store alone (exact; used when the tracker is unreachable).
    func jobState(jobID: String) throws -> JobState?
    /// A new upload of exactly the failed units of a finished upload of the tenant (its stored
    /// manifest is reused: no re-upload); nil when it has no failed units.
    func createRetryJob(tenantID: String, jobID: String) throws -> String?
    /// An upload's unit errors as JSON objects (`unit`, `objectUrls` redacted, `code`,
    /// `message`, `action`, `createdAt`) in unit order, optionally of one code only (the cursor
    /// is the last unit index).
    func errorsPage(jobID: String, code: String?, after: Int, limit: Int) throws -> JSONPage
    /// Error counts by code, most frequent first (ties by code).
    func errorCodes(jobID: String) throws -> [(code: String, count: Int)]
}

/// Cloud storage integrations, each owned by a tenant, their secrets sealed.
public protocol IntegrationRecords: AnyObject {
    /// Stores a new integration, its secret sealed with the ring's current key (bound to its id).
    /// Throws `IntegrationStoreError` when the tenant has one of that name.
    func addIntegration(name: String, definition: IntegrationDefinition, ring: EncryptionKeyRing, tenantID: String) throws -> StoredIntegration
    /// The tenant's integrations by name.
    func integrations(tenantID: String) throws -> [StoredIntegration]
    func integration(name: String, tenantID: String) throws -> StoredIntegration?
    /// By id, in any tenant (nil `tenantID`) or in one.
    func integration(id: String, tenantID: String?) throws -> StoredIntegration?
    /// Removes an integration; false when there is none of that name. Throws
    /// `IntegrationStoreError` while an unfinished upload uses it; finished ones forget it.
    func removeIntegration(name: String, tenantID: String) throws -> Bool
}

/// Deployment-wide facts for `/readyz` and `/metrics` (all tenants).
public protocol DeploymentHealth: AnyObject {
    /// The highest applied migration and the highest this build knows.
    func schemaVersions() throws -> (applied: Int, known: Int)
    /// Uploads by status (`PENDING`, `DONE`, `ERROR`, `CANCELLED`; absent statuses are absent).
    func jobCountsByStatus() throws -> [String: Int]
    /// Running uploads and the seconds since any of their chunks finished (or since they started).
    func runningJobsIdleSeconds() throws -> [(id: String, seconds: Double)]
}

/// Everything the API asks the system of record, on one connection.
public typealias APIStore = TenancyStore & UploadStore & IntegrationRecords & DeploymentHealth & OntologyStore & AccessStore & DatasetStore
    & LabelStore & ExportStore

/// The API's side of the work transport: it queues jobs and reads queue depths.
public protocol JobPublisher: AnyObject {
    /// Queues a job id for the coordinators, confirmed by the broker before returning
    /// (`WorkQueue.publishJob`).
    func publishJob(_ jobID: String) throws
    /// Messages waiting in a queue; throws when it cannot tell (no such queue, broker unreachable).
    func depth(of queue: String) throws -> Int
}

/// The queues whose depths `/metrics` shows (`registrar_queue_messages`).
public enum MonitoredQueues {
    /// Job ids waiting for a coordinator.
    public static let jobs = "registrar.jobs"
    public static let all = [jobs, KindQueues.registration.work, KindQueues.registration.dead]
}

/// `POST /v1/integrations/{id}/test`: what a worker would derive and fetch for one URL with an
/// integration. Blocking (it reads the object); run on a pool thread.
public protocol IntegrationTester: Sendable {
    /// The report as JSON (`ok` false with a code when the object cannot be read). Never throws
    /// for an unreadable object: that is the report.
    func test(_ integration: StoredIntegration, secret: IntegrationSecret, url: String) throws -> String
}

/// One pool thread's connections to the servers, opened on first use. Owned by exactly one
/// thread (the C clients are not thread-safe). The executable supplies the live ones; tests
/// supply twins.
public protocol APIBackends: AnyObject {
    func registry() throws -> any APIStore
    func tracker() throws -> any ProgressTracker
    func publisher() throws -> any JobPublisher
    /// After an error from any of them: drop whatever may be broken, so the next call reconnects.
    /// Never wrong to drop; the backends decide what the error means.
    func dropUnhealthy(after error: Error)
    /// Registrar's own object storage (signed links, exports). The default says none is set up.
    func storage() throws -> any ObjectStorage
}

extension APIBackends {
    public func storage() throws -> any ObjectStorage { throw StorageError.unavailable("no object storage is configured") }
}
