// Cloud-synced folders (issue 16, docs/sync.md): `FolderSyncRoutes`.
extension OpenAPIDocument {
    static var syncPaths: Object {
        let folder = idParam("id", "A folder id.")
        let missing = errorRef("No such folder, or it has no sync binding, in the caller's tenant (`not_found`).")
        return [
            "/v1/folders/{id}/sync": [
                "parameters": [folder],
                "post": authed(["operationId": "createFolderSync", "tags": ["folders"],
                                "summary": "Bind the folder to an s3:// prefix or an Azure container prefix read with an integration (workspace admins). The answer holds the notification secret, shown only here.",
                                "requestBody": body("FolderSyncCreate"),
                                "responses": ["201": jsonResponse("The binding, with its notification secret.", ref("FolderSyncCreated")),
                                              "404": errorRef("No such folder or integration in the caller's tenant (`not_found`)."),
                                              "409": errorRef("The folder is bound already (`sync_exists`)."),
                                              "422": errorRef("`invalid_body` naming the field: `uri` (not s3://bucket/prefix or an Azure container URL), `interval`, `sidecarSuffix`, `appendOnly` (not for Azure), `integrationId` (not aws or s3-compatible for s3://, not azure of the account for Azure).")]]),
                "get": authed(["operationId": "getFolderSync", "tags": ["folders"],
                               "summary": "The binding: its last sync job, its listing counts and its files by state.",
                               "responses": ["200": jsonResponse("The binding.", ref("FolderSync")), "404": missing]]),
                "delete": authed(["operationId": "deleteFolderSync", "tags": ["folders"], "summary": "Remove the binding; the files stay (workspace admins).",
                                  "responses": ["204": ["description": "Removed."] as Object, "404": missing]]),
            ],
            "/v1/folders/{id}/sync/run": [
                "parameters": [folder],
                "post": authed(["operationId": "runFolderSync", "tags": ["folders"],
                                "summary": "Start a sync (a folder-sync job), or answer the running one (one at a time per binding).",
                                "responses": ["202": jsonResponse("The sync job; follow it with GET /v1/jobs/{id}.",
                                                                  object(["id": uuid, "links": ["type": "object"] as Object,
                                                                          "alreadyRunning": ["type": "boolean"] as Object], required: ["id", "links"])),
                                              "404": missing]]),
            ],
            "/v1/folders/{id}/sync/notifications": [
                "parameters": [folder],
                "post": ["operationId": "notifyFolderSync", "tags": ["folders"],
                         "summary": "S3/MinIO bucket event notifications (ObjectCreated:*, ObjectRemoved:*): syncs just those keys. Authenticated by the folder's notification secret (`Authorization: Bearer SECRET`), not an API key.",
                         "security": [] as [Any],
                         "requestBody": ["required": true, "content": ["application/json": ["schema": ["type": "object"] as Object]]] as Object,
                         "responses": ["202": jsonResponse("The keys were taken (the job that syncs them, unless there were none).",
                                                           object(["id": uuid, "created": count, "removed": count], required: ["created", "removed"])),
                                       "401": errorRef("Not the folder's notification secret (the same answer whether the folder exists or not)."),
                                       "422": errorRef("`invalid_body` naming the record and field (`Records[0].s3.object.key`, …)."),
                                       "429": ["$ref": "#/components/responses/RateLimited"] as Object,
                                       "503": ["$ref": "#/components/responses/Unavailable"] as Object]] as Object,
            ],
        ]
    }

    static var syncSchemas: Object {
        let text: Object = ["type": "string"]
        let nullableInt: Object = ["type": ["integer", "null"]]
        let binding: Object = [
            "folderId": uuid, "integrationId": uuid, "uri": text, "intervalSeconds": nullableInt, "sidecarSuffix": nullableString,
            "appendOnly": ["type": "boolean"] as Object, "lastKey": nullableString, "nextDueAt": nullableTimestamp, "createdAt": timestamp,
            "job": ["type": ["object", "null"]] as Object, "listing": ["type": ["object", "null"]] as Object,
            "files": object(["total": count, "verified": count, "unverified": count, "failed": count, "tombstoned": count]),
        ]
        var created = binding
        created["notificationSecret"] = ["type": "string", "description": "Authenticates the folder's bucket notifications; shown only in this answer."] as Object
        return [
            "FolderSyncCreate": object(["integrationId": ["type": "string", "description": "An integration id or name: aws or s3-compatible for s3://, gcp for gs://, azure for an Azure container."] as Object,
                                        "uri": ["type": "string", "description": "s3://bucket/prefix/ (aws or s3-compatible integration), gs://bucket/prefix/ (gcp) or https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix/ (azure)"] as Object,
                                        "interval": ["type": ["string", "null"], "description": "24h, 90m, 3600s, 2d (at least 60 s)."] as Object,
                                        "sidecarSuffix": nullableString, "appendOnly": ["type": ["boolean", "null"]] as Object],
                                       required: ["integrationId", "uri"]),
            "FolderSync": object(binding, required: ["folderId", "integrationId", "uri", "appendOnly", "files"]),
            "FolderSyncCreated": object(created, required: ["folderId", "integrationId", "uri", "appendOnly", "files", "notificationSecret"]),
        ]
    }
}
