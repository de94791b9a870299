import Foundation
import Hummingbird
import HummingbirdTesting
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Testing

/// `/v1/datasets…` and `/v1/jobs/{id}` in process over the twins: validation naming the field,
/// tenant scoping (404), the attach job's creation and publication, the refusals.
@Suite struct DatasetRouteTests {
    /// A folder with `n` registered files (through the twin's registration commit); returns it and its file ids.
    func folder(_ rig: APIRig, tenant: String, name: String, n: Int) throws -> (String, [Int64]) {
        let folder = rig.world.registry.createFolder(name: name, tenantID: tenant)
        let urls = (0..<n).map { "https://b.example/\(name)/\($0).png" }
        let job = try rig.world.registry.createJob(folderID: folder, manifest: Fixtures.imagesManifest(urls), format: .json)
        try rig.world.registry.jobs.recordTotal(jobID: job, units: n)
        try rig.world.registry.jobs.recordChunks(jobID: job, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: n)])
        var info = MediaInfo()
        info.width = 1; info.height = 1; info.mimeType = "image/png"
        let units = try Fixtures.units(String(decoding: Fixtures.imagesManifest(urls), as: UTF8.self))
        _ = try rig.world.registry.commitChunk(ChunkResult(jobID: job, seq: 0, folderID: folder, skipDuplicates: false, unitCount: n,
                                                           items: units.map { .verified($0, info) }))
        return (folder, rig.world.registry.files(folderID: folder).map(\.id))
    }

    @Test func datasetsCreateListGetUpdateDelete() async throws {
        let rig = APIRig()
        let (tenant, key) = try rig.tenant()
        let (_, other) = try rig.tenant()
        try await rig.run { client in
            // Validation names the field.
            let noTitle = try await client.call("/v1/datasets", .post, key: key, body: #"{"description": "x"}"#)
            #expect(noTitle.status == .unprocessableContent && noTitle.json["error"]?["details"]?["field"]?.string == "title")
            #expect(try await client.call("/v1/datasets", .post, key: key, body: #"{"title": 3}"#).json["error"]?["details"]?["field"]?.string == "title")
            #expect(try await client.call("/v1/datasets", .post, key: key, body: #"[1]"#).errorCode == "invalid_body")
            #expect(try await client.call("/v1/datasets", .post, key: key, body: #"{"title": "a", "mirroredFolderId": 7}"#)
                .json["error"]?["details"]?["field"]?.string == "mirroredFolderId")

            let created = try await client.call("/v1/datasets", .post, key: key, body: #"{"title": " Scans ", "description": "CT"}"#)
            #expect(created.status == .created)
            let id = try #require(created.json["id"]?.string)
            #expect(created.json["title"]?.string == "Scans" && created.json["fileCount"]?.int == 0 && created.json["jobId"] == nil)
            _ = try await client.call("/v1/datasets", .post, key: key, body: #"{"title": "Second"}"#)
            let page = try await client.call("/v1/datasets?limit=1", key: key)
            #expect(page.json.items.count == 1)
            let cursor = try #require(page.json["nextCursor"]?.string)
            #expect(try await client.call("/v1/datasets?limit=1&cursor=\(cursor)", key: key).json.items.count == 1)
            #expect(try await client.call("/v1/datasets", key: other).json.items.isEmpty)
            #expect(try await client.call("/v1/datasets/\(id)", key: other).status == .notFound)

            let patched = try await client.call("/v1/datasets/\(id)", .patch, key: key, body: #"{"title": "Renamed", "description": null}"#)
            #expect(patched.json["title"]?.string == "Renamed" && patched.json["description"] == .null)
            #expect(try await client.call("/v1/datasets/\(id)", .patch, key: other, body: #"{"title": "x"}"#).status == .notFound)
            #expect(try await client.call("/v1/datasets/\(id)", .patch, key: key, body: #"{"title": ""}"#).errorCode == "invalid_body")

            // In use by a project: 409 naming it.
            rig.world.registry.markDatasetUsed(id, byProject: "p-1")
            let inUse = try await client.call("/v1/datasets/\(id)", .delete, key: key)
            #expect(inUse.status == .conflict && inUse.errorCode == "dataset_in_use" && inUse.text.contains("p-1"))
            let all = try await client.call("/v1/datasets", key: key).json.items.compactMap { $0["id"]?.string }
            let second = try #require(all.first { $0 != id })
            #expect(try await client.call("/v1/datasets/\(second)", .delete, key: key).status == .noContent)
            #expect(try await client.call("/v1/datasets/\(second)", key: key).status == .notFound)
            _ = tenant
        }
    }

    @Test func attachCreatesAJobAndRefusesOtherTenantsTargets() async throws {
        let rig = APIRig()
        let (tenant, key) = try rig.tenant()
        let (otherTenant, other) = try rig.tenant()
        let (mine, files) = try folder(rig, tenant: tenant, name: "mine", n: 3)
        let (theirs, theirFiles) = try folder(rig, tenant: otherTenant, name: "theirs", n: 1)
        try await rig.run { client in
            let ds = try #require(try await client.call("/v1/datasets", .post, key: key, body: #"{"title": "D"}"#).json["id"]?.string)
            let path = "/v1/datasets/\(ds)/attach"
            // Bad bodies: the field is named.
            #expect(try await client.call(path, .post, key: key, body: #"{}"#).json["error"]?["details"]?["field"]?.string == "folderIds")
            #expect(try await client.call(path, .post, key: key, body: #"{"folderIds": "x"}"#).json["error"]?["details"]?["field"]?.string == "folderIds")
            #expect(try await client.call(path, .post, key: key, body: #"{"fileIds": ["a"]}"#).json["error"]?["details"]?["field"]?.string == "fileIds[0]")
            #expect(try await client.call(path, .post, key: key, body: #"{"folderIds": ["\#(mine)"], "duplicates": "MERGE"}"#)
                .json["error"]?["details"]?["field"]?.string == "duplicates")
            // Another tenant's folder or file: 404 naming it; another tenant's dataset: 404.
            let theirFolder = try await client.call(path, .post, key: key, body: #"{"folderIds": ["\#(mine)", "\#(theirs)"]}"#)
            #expect(theirFolder.status == .notFound && theirFolder.text.contains(theirs))
            let theirFile = try await client.call(path, .post, key: key, body: #"{"fileIds": [\#(theirFiles[0])]}"#)
            #expect(theirFile.status == .notFound && theirFile.text.contains(String(theirFiles[0])))
            #expect(try await client.call(path, .post, key: other, body: #"{"folderIds": ["\#(theirs)"]}"#).status == .notFound)
            #expect(rig.world.registry.jobs.jobIDs().count == 2)   // the two registration jobs only

            let accepted = try await client.call(path, .post, key: key, body: #"{"folderIds": ["\#(mine)"], "fileIds": ["\#(files[0])"], "duplicates": "FAIL"}"#)
            #expect(accepted.status == .accepted)
            let job = try #require(accepted.json["jobId"]?.string)
            // Published for the coordinators, with its snapshot in the params.
            let params = try DatasetAttachParams.parse(try #require(try rig.world.registry.jobs.job(job)).params).get()
            #expect(params.duplicates == .fail && params.folders.map(\.id) == [mine] && params.fileIDs.isEmpty)
            let view = try await client.call("/v1/jobs/\(job)", key: key)
            #expect(view.json["kind"]?.string == "dataset-attach" && view.json["status"]?.string == "PENDING")
            #expect(view.json["total"]?.int == 3 && view.json["totalKnown"]?.bool == true)   // the folder's 3 files; files[0] is one of them
            #expect(view.json["links"]?["self"]?.string == "/v1/jobs/\(job)")
            #expect(try await client.call("/v1/jobs/\(job)", key: other).status == .notFound)
            #expect(try await client.call("/v1/jobs/nope", key: key).status == .notFound)
            let cancelled = try await client.call("/v1/jobs/\(job)/cancel", .post, key: key)
            #expect(cancelled.status == .accepted && cancelled.json["kind"]?.string == "dataset-attach")
            #expect(try rig.world.registry.jobs.job(job)?.cancelRequested == true)
            #expect(try await client.call("/v1/jobs/\(job)/errors", key: key).json.items.isEmpty)

            // Detach is synchronous; the files page lists data units.
            #expect(try await client.call("/v1/datasets/\(ds)/files", key: key).json.items.isEmpty)
            let detached = try await client.call("/v1/datasets/\(ds)/detach", .post, key: key, body: #"{"folderIds": ["\#(mine)"]}"#)
            #expect(detached.status == .ok && detached.json["detached"]?.int == 0)
            #expect(try await client.call("/v1/datasets/\(ds)/detach", .post, key: key, body: #"{"folderIds": ["\#(theirs)"]}"#).status == .notFound)

            // A mirrored dataset over a folder with files starts an attach job; over another tenant's folder: 404.
            let mirrored = try await client.call("/v1/datasets", .post, key: key, body: #"{"title": "M", "mirroredFolderId": "\#(mine)"}"#)
            #expect(mirrored.status == .created && mirrored.json["mirroredFolderId"]?.string == mine && mirrored.json["jobId"]?.string != nil)
            #expect(try await client.call("/v1/datasets", .post, key: key, body: #"{"title": "M", "mirroredFolderId": "\#(theirs)"}"#).status == .notFound)
            // The folder is now refused for deletion, naming the dataset.
            let del = try await client.call("/v1/folders/\(mine)", .delete, key: key)
            #expect(del.status == .conflict && del.errorCode == "folder_in_datasets" && del.text.contains(mirrored.json["id"]?.string ?? "?"))
        }
    }
}
