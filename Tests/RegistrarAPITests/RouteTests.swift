import Foundation
import Hummingbird
import HummingbirdTesting
import RegistrarAPI
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Testing

/// The API's routes in process, against the twins: what each answers, for whom, and what it
/// leaves in the world (jobs queued, totals set). Fast and deterministic, beside the live suites
/// (`APITests`, `OpenAPIContractTests`, `UploadBodyTests`, `StatusPageBrowserTests`).
@Suite struct RouteTests {
    // MARK: Auth

    @Test func keysAreRequiredAndChecked() async throws {
        let rig = APIRig()
        let (_, key) = try rig.tenant()
        try await rig.run { client in
            var r = try await client.call("/v1/folders", key: nil)
            #expect(r.status == .unauthorized && r.errorCode == "unauthorized")
            r = try await client.call("/v1/folders", key: "rgk_short")
            #expect(r.status == .unauthorized)
            r = try await client.call("/v1/folders", key: APIKey.generate())
            #expect(r.status == .unauthorized)
            r = try await client.call("/v1/folders", key: key)
            #expect(r.status == .ok && r.json.items.isEmpty)
            // Unauthenticated routes.
            r = try await client.call("/healthz", key: nil)
            #expect(r.status == .ok && r.json["status"]?.string == "ok")
            r = try await client.call("/v1/openapi.json", key: nil)
            #expect(r.status == .ok && r.json["openapi"] != nil)
        }
    }

    @Test func requestsPerKeyAreRateLimited() async throws {
        var rig = APIRig()
        rig.config.rateLimit = 0.001
        rig.config.rateBurst = 2
        let (_, key) = try rig.tenant()
        let (_, other) = try rig.tenant()
        try await rig.run { client in
            #expect(try await client.call("/v1/folders", key: key).status == .ok)
            #expect(try await client.call("/v1/folders", key: key).status == .ok)
            let limited = try await client.call("/v1/folders", key: key)
            #expect(limited.status == .tooManyRequests && limited.errorCode == "rate_limited")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            // Per key: another key is not slowed down.
            #expect(try await client.call("/v1/folders", key: other).status == .ok)
        }
    }

    @Test func bootstrapKeyIsEnsuredAtStart() async throws {
        var rig = APIRig()
        let key = APIKey.generate()
        rig.config.bootstrapKey = key
        try await rig.run { client in
            // BootstrapService runs beside the router; wait (generously) until it stored the key.
            let deadline = Date().addingTimeInterval(30)
            var status = HTTPResponse.Status.unauthorized
            while status != .ok, Date() < deadline {
                status = try await client.call("/v1/folders", key: key).status
                if status != .ok { try await Task.sleep(nanoseconds: 50_000_000) }
            }
            #expect(status == .ok)
        }
        #expect(try rig.world.registry.principal(keyHash: APIKey.hash(key))?.tenantID == DefaultTenant.id)
    }

    // MARK: Folders

    @Test func foldersCreateListGetDelete() async throws {
        let rig = APIRig()
        let (_, key) = try rig.tenant()
        try await rig.run { client in
            let created = try await client.call("/v1/folders", .post, key: key, body: #"{"name": " media "}"#)
            #expect(created.status == .created)
            let id = try #require(created.json["id"]?.string)
            #expect(created.json["name"]?.string == "media" && created.json["fileCount"]?.int == 0)
            let again = try await client.call("/v1/folders", .post, key: key, body: #"{"name": "media"}"#)
            #expect(again.status == .conflict && again.errorCode == "folder_exists")
            #expect(try await client.call("/v1/folders", .post, key: key, body: #"{"nom": 1}"#).status == .unprocessableContent)
            #expect(try await client.call("/v1/folders", .post, key: key, body: #"{"name": "  "}"#).errorCode == "invalid_body")
            _ = try await client.call("/v1/folders", .post, key: key, body: #"{"name": "alpha"}"#)
            let page = try await client.call("/v1/folders?limit=1", key: key)
            #expect(page.json.items.compactMap { $0["name"]?.string } == ["alpha"])
            let cursor = try #require(page.json["nextCursor"]?.string)
            let next = try await client.call("/v1/folders?limit=1&cursor=\(cursor)", key: key)
            #expect(next.json.items.compactMap { $0["name"]?.string } == ["media"] && next.json["nextCursor"] == .null)
            #expect(try await client.call("/v1/folders?cursor=garbage", key: key).errorCode == "invalid_parameter")
            #expect(try await client.call("/v1/folders/\(id)", key: key).json["id"]?.string == id)
            #expect(try await client.call("/v1/folders/\(id)", .delete, key: key).status == .noContent)
            #expect(try await client.call("/v1/folders/\(id)", key: key).status == .notFound)
        }
    }

    // MARK: Uploads

    static let manifest = Fixtures.imagesManifest(["https://b.example/a.png", "https://b.example/b.png"])

    func folder(_ client: any TestClientProtocol, _ key: String, _ name: String = "f") async throws -> String {
        try #require(try await client.call("/v1/folders", .post, key: key, body: "{\"name\": \"\(name)\"}").json["id"]?.string)
    }

    @Test func submitJSONCSVAndGzipAnswer202WithTheSnapshot() async throws {
        let rig = APIRig()
        let (_, key) = try rig.tenant()
        try await rig.run { client in
            let f = try await folder(client, key)
            let json = try await client.call("/v1/folders/\(f)/uploads?fileName=m.json", .post, key: key, bytes: Self.manifest)
            #expect(json.status == .accepted)
            let id = try #require(json.json["id"]?.string)
            #expect(json.headers[.location] == "/v1/uploads/\(id)")
            #expect(json.json["status"]?.string == "PENDING" && json.json["total"]?.int == 2 && json.json["totalKnown"]?.bool == true)
            #expect(json.json["folderId"]?.string == f && json.json["fileName"]?.string == "m.json" && json.json["format"]?.string == "json")
            #expect(json.json["manifestBytes"]?.int == Self.manifest.count)
            // Queued for the coordinators, with the total known to the tracker.
            #expect(try rig.world.takeQueuedJobs() == [id])
            #expect(try rig.world.tracker.counts(jobID: id)?.total == 2)

            let csv = "ObjectUrl,Image title\nhttps://b.example/c.png,c\n"
            let c = try await client.call("/v1/folders/\(f)/uploads", .post, key: key, headers: [.contentType: "text/csv"], bytes: Array(csv.utf8))
            #expect(c.status == .accepted && c.json["format"]?.string == "csv" && c.json["total"]?.int == 1)

            let gz = try await client.call("/v1/folders/\(f)/uploads", .post, key: key,
                                           headers: [.contentType: "application/json", .contentEncoding: "gzip"], bytes: try gzipped(Self.manifest))
            #expect(gz.status == .accepted && gz.json["total"]?.int == 2 && gz.json["manifestBytes"]?.int == Self.manifest.count)
            #expect(try rig.world.takeQueuedJobs().count == 2)
        }
    }

    @Test func invalidManifestsAre422WithItemAndCodeAndCreateNothing() async throws {
        let rig = APIRig()
        let (tenant, key) = try rig.tenant()
        try await rig.run { client in
            let f = try await folder(client, key)
            let bad = #"{"images": [{"objectUrl": "https://b.example/a.png"}, {"objectUrl": nope}]}"#
            let r = try await client.call("/v1/folders/\(f)/uploads", .post, key: key, bytes: Array(bad.utf8))
            #expect(r.status == .unprocessableContent && r.errorCode == "manifest_invalid")
            #expect(r.json["error"]?["details"]?["item"]?.string != nil && r.json["error"]?["details"]?["code"]?.string != nil)
            #expect(try rig.world.registry.jobIDs(tenantID: tenant, status: nil, folderID: nil, after: nil, limit: 10).ids.isEmpty)
            #expect(try rig.world.takeQueuedJobs().isEmpty)
            let type = try await client.call("/v1/folders/\(f)/uploads", .post, key: key, headers: [.contentType: "text/plain"], bytes: [1])
            #expect(type.status == .unsupportedMediaType)
            let missing = try await client.call("/v1/folders/\(UUID().uuidString.lowercased())/uploads", .post, key: key, bytes: Self.manifest)
            #expect(missing.status == .notFound)
        }
    }

    /// An upload of `manifest` whose chunk committed `errors` failed units (the rest done), finished.
    static func finishedUpload(_ world: MemoryAPIWorld, tenant: String, folder: String, errors: Int) throws -> String {
        let urls = (0..<4).map { "https://b.example/r/\($0).png?X-Amz-Signature=s" }
        let manifest = Fixtures.imagesManifest(urls)
        var source = MemoryByteSource(manifest)
        let store = world.registry
        let job = try store.createUpload(NewUpload(tenantID: tenant, folderID: folder, fileName: "m.json", format: .json, ignoreErrors: false,
                                                   integrationID: nil), manifest: &source)
        let units = try Fixtures.units(String(decoding: manifest, as: UTF8.self))
        try store.recordScan(jobID: job, units: 4, urls: 4, skipDuplicates: false)
        try store.jobs.recordChunks(jobID: job, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: 4)])
        var info = MediaInfo()
        info.size = 10
        _ = try store.commitChunk(ChunkResult(jobID: job, seq: 0, folderID: folder, skipDuplicates: false, unitCount: 4, items: units.map { u in
            u.index < errors ? .failed(UnitError(index: u.index, urls: u.urls, code: u.index == 0 ? .notFound : .timeout, message: "m\(u.index)"))
                : .verified(u, info)
        }))
        try store.jobs.finishSplit(jobID: job, totalChunks: 1)
        _ = try store.jobs.finishJobIfComplete(jobID: job)
        return job
    }

    @Test func listGetCancelAndRetry() async throws {
        let rig = APIRig()
        let (tenant, key) = try rig.tenant()
        try await rig.run { client in
            let f = try await folder(client, key)
            let finished = try Self.finishedUpload(rig.world, tenant: tenant, folder: f, errors: 2)
            let running = try #require(try await client.call("/v1/folders/\(f)/uploads", .post, key: key, bytes: Self.manifest).json["id"]?.string)
            _ = try rig.world.takeQueuedJobs()

            let list = try await client.call("/v1/uploads", key: key)
            #expect(list.json.items.compactMap { $0["id"]?.string } == [running, finished])
            #expect(try await client.call("/v1/uploads?status=error", key: key).json.items.compactMap { $0["id"]?.string } == [finished])
            #expect(try await client.call("/v1/uploads?status=nope", key: key).errorCode == "invalid_parameter")
            #expect(try await client.call("/v1/uploads?folderId=x", key: key).errorCode == "invalid_parameter")
            let one = try await client.call("/v1/uploads/\(finished)", key: key)
            #expect(one.json["status"]?.string == "ERROR" && one.json["done"]?.int == 2 && one.json["errors"]?.int == 2)

            // Retry: only a finished upload with failed units; the new one is queued.
            #expect(try await client.call("/v1/uploads/\(running)/retry", .post, key: key).errorCode == "upload_running")
            let retry = try await client.call("/v1/uploads/\(finished)/retry", .post, key: key)
            #expect(retry.status == .accepted && retry.json["retryOf"]?.string == finished && retry.json["total"]?.int == 2)
            #expect(try rig.world.takeQueuedJobs() == [try #require(retry.json["id"]?.string)])
            let clean = try Self.finishedUpload(rig.world, tenant: tenant, folder: f, errors: 0)
            #expect(try await client.call("/v1/uploads/\(clean)/retry", .post, key: key).errorCode == "nothing_to_retry")

            // Cancel: asked of the engine's store; a job not split yet keeps running until its coordinator sees it.
            let cancel = try await client.call("/v1/uploads/\(running)/cancel", .post, key: key)
            #expect(cancel.status == .accepted && cancel.json["id"]?.string == running)
            #expect(try rig.world.registry.jobs.isCancelRequested(jobID: running))
        }
    }

    @Test func errorsArePagedAndDownloaded() async throws {
        let rig = APIRig()
        let (tenant, key) = try rig.tenant()
        try await rig.run { client in
            let f = try await folder(client, key)
            let job = try Self.finishedUpload(rig.world, tenant: tenant, folder: f, errors: 3)
            let first = try await client.call("/v1/uploads/\(job)/errors?limit=2", key: key)
            #expect(first.status == .ok && first.json.items.compactMap { $0["unit"]?.int } == [0, 1])
            #expect(first.json["codes"]?["timeout"]?.int == 2 && first.json["codes"]?["not_found"]?.int == 1)
            // URLs without their signature.
            #expect(first.json.items.first?["objectUrls"] == .array([.string("https://b.example/r/0.png")]))
            let cursor = try #require(first.json["nextCursor"]?.string)
            let rest = try await client.call("/v1/uploads/\(job)/errors?limit=2&cursor=\(cursor)", key: key)
            #expect(rest.json.items.compactMap { $0["unit"]?.int } == [2] && rest.json["nextCursor"] == .null)
            #expect(try await client.call("/v1/uploads/\(job)/errors?code=not_found", key: key).json.items.count == 1)
            let csv = try await client.call("/v1/uploads/\(job)/errors?format=csv", key: key)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let lines = csv.text.split(whereSeparator: \.isNewline)
            #expect(lines.count == 4 && lines.first == "unit,code,message,action,object_urls")
            let jsonl = try await client.call("/v1/uploads/\(job)/errors?format=jsonl", key: key)
            #expect(jsonl.text.split(separator: "\n").compactMap { JSONValue.parse(Array($0.utf8))?["unit"]?.int } == [0, 1, 2])
            #expect(try await client.call("/v1/uploads/\(job)/errors?format=xml", key: key).errorCode == "invalid_parameter")
        }
    }

    // MARK: Tenants

    @Test func anotherTenantsObjectsAreNotFound() async throws {
        let rig = APIRig()
        let (tenant, key) = try rig.tenant()
        let (_, intruder) = try rig.tenant()
        try await rig.run { client in
            let f = try await folder(client, key)
            let job = try Self.finishedUpload(rig.world, tenant: tenant, folder: f, errors: 1)
            let fileID = try #require(rig.world.registry.files(folderID: f).first?.id)
            let integration = try await client.call("/v1/integrations", .post, key: key, body: """
                {"kind": "aws", "name": "s3", "credentials": {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "secret"}}
                """)
            #expect(integration.status == .created)
            let integrationID = try #require(integration.json["id"]?.string)
            #expect(try await client.call("/v1/files/\(fileID)", key: key).status == .ok)
            for (uri, method) in [("/v1/folders/\(f)", HTTPRequest.Method.get), ("/v1/folders/\(f)/files", .get), ("/v1/folders/\(f)", .delete),
                                  ("/v1/uploads/\(job)", .get), ("/v1/uploads/\(job)/errors", .get), ("/v1/uploads/\(job)/cancel", .post),
                                  ("/v1/uploads/\(job)/retry", .post), ("/v1/files/\(fileID)", .get),
                                  ("/v1/integrations/\(integrationID)", .get), ("/v1/integrations/\(integrationID)", .delete)] {
                let r = try await client.call(uri, method, key: intruder)
                #expect(r.status == .notFound && r.errorCode == "not_found", "\(method) \(uri)")
            }
            #expect(try await client.call("/v1/folders/\(f)/uploads", .post, key: intruder, bytes: Self.manifest).status == .notFound)
            // Nothing happened to the owner's running upload either.
            let running = try #require(try await client.call("/v1/folders/\(f)/uploads", .post, key: key, bytes: Self.manifest).json["id"]?.string)
            #expect(try await client.call("/v1/uploads/\(running)/cancel", .post, key: intruder).status == .notFound)
            #expect(try !rig.world.registry.jobs.isCancelRequested(jobID: running))
            #expect(try await client.call("/v1/uploads", key: intruder).json.items.isEmpty)
            #expect(try await client.call("/v1/integrations", key: intruder).json.items.isEmpty)
            // Still there for their owner.
            #expect(try await client.call("/v1/folders/\(f)", key: key).status == .ok)
        }
    }

    @Test func integrationsAreStoredSealedAndTested() async throws {
        let rig = APIRig()
        let (tenant, key) = try rig.tenant()
        try await rig.run { client in
            let created = try await client.call("/v1/integrations", .post, key: key, body: """
                {"kind": "aws", "name": "s3", "credentials": {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "CANARY-9"}, "buckets": ["media"]}
                """)
            #expect(created.status == .created && !created.text.contains("CANARY-9") && created.json["keyId"]?.string == "k1")
            let id = try #require(created.json["id"]?.string)
            #expect(try await client.call("/v1/integrations", .post, key: key, body: """
                {"kind": "aws", "name": "s3", "credentials": {"aws_access_key_id": "A", "aws_secret_access_key": "B"}}
                """).errorCode == "integration_exists")
            #expect(try await client.call("/v1/integrations", key: key).json.items.compactMap { $0["name"]?.string } == ["s3"])
            let ok = try await client.call("/v1/integrations/\(id)/test", .post, key: key, body: #"{"url": "https://b.example/ok.png"}"#)
            #expect(ok.status == .ok && ok.json["ok"]?.bool == true && ok.json["integration"]?.string == "s3")
            let missing = try await client.call("/v1/integrations/\(id)/test", .post, key: key, body: #"{"url": "https://b.example/x.png"}"#)
            #expect(missing.json["ok"]?.bool == false && missing.json["code"]?.string == "not_found")
            #expect(rig.tester.calls.map(\.url) == ["https://b.example/ok.png", "https://b.example/x.png"])
            // Sealed in the store, opened with the ring.
            let stored = try #require(try rig.world.registry.integration(name: "s3", tenantID: tenant))
            #expect(!stored.credentials.contains("CANARY-9"))
            #expect(try await client.call("/v1/integrations/\(id)", .delete, key: key).status == .noContent)
            #expect(try await client.call("/v1/integrations/\(id)", key: key).status == .notFound)
        }
    }

    // MARK: Health, metrics, methods

    @Test func readinessNamesTheDependencyThatIsDown() async throws {
        let rig = APIRig()
        try await rig.run { client in
            let ready = try await client.call("/readyz", key: nil)
            #expect(ready.status == .ok && ready.json["status"]?.string == "ready")
            rig.world.setDown(.redis)
            let down = try await client.call("/readyz", key: nil)
            #expect(down.status == .serviceUnavailable && down.json["checks"]?["redis"]?["ok"]?.bool == false)
            #expect(down.json["checks"]?["postgres"]?["ok"]?.bool == true && down.json["checks"]?["rabbitmq"]?["ok"]?.bool == true)
            rig.world.setDown(.redis, false)
            rig.world.registry.setSchemaVersions(applied: 1, known: 2)
            let old = try await client.call("/readyz", key: nil)
            #expect(old.status == .serviceUnavailable && old.json["checks"]?["schema"]?["ok"]?.bool == false)
        }
    }

    @Test func metricsShowJobsAndQueues() async throws {
        let rig = APIRig()
        let (tenant, key) = try rig.tenant()
        try await rig.run { client in
            let f = try await folder(client, key)
            _ = try Self.finishedUpload(rig.world, tenant: tenant, folder: f, errors: 1)
            _ = try await client.call("/v1/folders/\(f)/uploads", .post, key: key, bytes: Self.manifest)
            let metrics = try await client.call("/metrics", key: nil)
            #expect(metrics.status == .ok && metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(metrics.text.contains("registrar_jobs{status=\"PENDING\"}") && metrics.text.contains("registrar_queue_messages{queue=\"registrar.jobs\"}"))
        }
    }

    @Test func knownPathsAnswer405WithAllow() async throws {
        let rig = APIRig()
        let (_, key) = try rig.tenant()
        try await rig.run { client in
            let r = try await client.call("/v1/folders", .put, key: key)
            #expect(r.status == .methodNotAllowed)
            #expect(r.headers[.allow]?.contains("GET") == true && r.headers[.allow]?.contains("POST") == true)
            #expect(try await client.call("/v1/nothing-here", key: key).status == .notFound)
        }
    }

    // MARK: Status page

    @Test func statusPageSignInSetsTheCookieAndShowsTheTenant() async throws {
        let rig = APIRig()
        let (_, key) = try rig.tenant("acme-corp")
        try await rig.run { client in
            let page = try await client.call("/", key: nil)
            #expect(page.status == .ok && page.text.contains("<form") && !page.text.contains("acme-corp"))
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            let wrong = try await client.call("/login", .post, key: nil, headers: form, body: "key=\(APIKey.generate())")
            #expect(wrong.status == .unauthorized && wrong.headers[.setCookie] == nil)
            let signed = try await client.call("/login", .post, key: nil, headers: form, body: "key=\(key)")
            #expect(signed.status == .seeOther && signed.headers[.location] == "/")
            let cookie = try #require(signed.headers[.setCookie])
            #expect(cookie.hasPrefix("registrar_key=\(key)") && cookie.contains("HttpOnly"))
            let home = try await client.call("/", key: nil, headers: [.cookie: "registrar_key=\(key)"])
            #expect(home.status == .ok && home.text.contains("acme-corp") && !home.text.contains(key))
        }
    }

    @Test func statusPageListsDatasetsAndProjectsWithCounts() async throws {
        let rig = APIRig()
        let (_, key) = try rig.tenant()
        try await rig.run { client in
            let cookie: HTTPFields = [.cookie: "registrar_key=\(key)"]
            let empty = try await client.call("/", key: nil, headers: cookie)
            #expect(empty.text.contains("No datasets yet") && empty.text.contains("No projects you can see"))
            let dataset = try await client.call("/v1/datasets", .post, key: key, body: #"{"title": "Street <scenes>"}"#)
            let datasetID = try #require(dataset.json["id"]?.stringValue)
            let project = try await client.call("/v1/projects", .post, key: key, body: #"{"title": "Cars", "datasetIds": ["\#(datasetID)"]}"#)
            #expect(project.status == .created)
            let page = try await client.call("/", key: nil, headers: cookie)
            #expect(page.text.contains("Street &lt;scenes&gt;"), "titles are escaped")
            #expect(page.text.contains("<code class=\"id\">\(datasetID)</code>"))
            // The project row: its title, one dataset, no collaborators or groups yet (a service key made it).
            #expect(page.text.contains("<tr><th scope=\"row\">Cars<br>"))
            // … and its stages with their tasks (an empty dataset: none yet).
            #expect(page.text.contains("</code></th><td>1</td><td>0</td><td>0</td><td>Annotate 0 · Review 0 · Complete 0</td></tr>"))
        }
    }
}
