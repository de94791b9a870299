import Foundation

/// The API's OpenAPI 3.1 document, served at `/v1/openapi.json`.
///
/// Written to match the routes as built (`FolderRoutes`, `UploadRoutes`, `ErrorRoutes`,
/// `HealthRoutes`, `AuthMiddleware`) and the JSON PostgreSQL builds (`PostgresRegistry+API`).
/// Kept true by `OpenAPIContractTests`, which runs schemathesis against a live server: every
/// status code, content type and body any route answers must be described here, so a change to
/// a route that is not made here too fails that test.
///
/// Built from Swift values (shared pieces — the error envelope, the answers every `/v1` route
/// can give — are written once) and serialised once, with sorted keys.
enum OpenAPIDocument {
    static let json: String = {
        let data = try! JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }()

    typealias Object = [String: Any]

    // MARK: Document

    static var document: Object {
        [
            "openapi": "3.1.0",
            "info": [
                "title": "Registrar API",
                "version": "1",
                "description": """
                    Registers cloud objects (images, video, audio, PDFs, text, DICOM, NIfTI) listed in a manifest \
                    into folders, and reports progress and per-unit errors. Every `/v1` route except this document \
                    needs `Authorization: Bearer rgk_…` (create a key with `registrar keys create --tenant NAME`); \
                    every object belongs to the key's tenant, and another tenant's object answers 404; inside the tenant, \
                    acting without the role a route needs answers 403 `forbidden` with `details.required` naming it \
                    (keys made with `registrar keys create --user EMAIL` act as that user; `--tenant` keys as a workspace admin). \
                    Errors are `{"error": {"code", "message", "details"}}`. Lists are paged: pass the `nextCursor` \
                    of one page as `cursor` to get the next; `null` means the last page. Cursors are opaque tokens, \
                    good only for the listing (and tenant) that gave them; anything else is `400 invalid_parameter`. \
                    URLs are shown without their query string (`?…`) and with any user name or password masked \
                    (`https://***@host/…`). A method a path does not \
                    take answers 405 `method_not_allowed` with an `Allow` header listing the ones it does \
                    (`components.responses.MethodNotAllowed`); a path the API does not have answers 404.
                    """,
            ] as Object,
            "servers": [["url": "/"]],
            "tags": [
                ["name": "folders", "description": "Where registered files live."],
                ["name": "uploads", "description": "Manifests submitted for registration (jobs) and their progress."],
                ["name": "files", "description": "Registered files."],
                ["name": "integrations", "description": "Cloud storage credentials uploads read private objects with."],
                ["name": "access", "description": "Users, groups and workspace tags (docs/catalog.md)."],
                ["name": "projects", "description": "Projects: an ontology, datasets, a workflow and collaborators with roles."],
                ["name": "datasets", "description": "Datasets: files attached from folders, what projects annotate."],
                ["name": "ontologies", "description": "What may be labelled: objects, classifications and their attributes."],
                ["name": "jobs", "description": "Any engine job (registration, dataset attach, …): progress and cancel."],
                ["name": "tasks", "description": "Workflows, workflow templates and tasks: queues per stage, actions, history (docs/workflows.md)."],
                ["name": "labels", "description": "Label rows in Encord's shape and exports to JSON and COCO (docs/labels.md)."],
                ["name": "webhooks", "description": "Signed webhook subscriptions and their deliveries (docs/workflows.md)."],
                ["name": "operations", "description": "Health, readiness, metrics and this document (no key)."],
            ],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer",
                                               "description": "An API key: `rgk_` and 40 letters or digits."] as Object],
                "schemas": schemas,
                "parameters": sharedParameters,
                "responses": sharedResponses,
            ] as Object,
        ]
    }

    // MARK: Paths

    static var paths: Object {
        [
            "/v1/openapi.json": [
                "get": [
                    "operationId": "getOpenAPIDocument", "tags": ["operations"], "summary": "This document.",
                    "security": [] as [Any],
                    "responses": ["200": ["description": "The OpenAPI 3.1 document.",
                                          "content": ["application/json": ["schema": ["type": "object", "required": ["openapi", "paths"]] as Object]]] as Object],
                ] as Object,
            ],
            "/healthz": [
                "get": [
                    "operationId": "healthz", "tags": ["operations"], "summary": "The process is up.",
                    "security": [] as [Any],
                    "responses": ["200": jsonResponse("The process is up.", ref("Health"))],
                ] as Object,
            ],
            "/readyz": [
                "get": [
                    "operationId": "readyz", "tags": ["operations"],
                    "summary": "PostgreSQL, RabbitMQ and Redis are reachable and the schema is current.",
                    "security": [] as [Any],
                    "responses": [
                        "200": jsonResponse("Ready.", ref("Readiness")),
                        "503": jsonResponse("Not ready; `checks` names what failed.", ref("Readiness")),
                    ],
                ] as Object,
            ],
            "/metrics": [
                "get": [
                    "operationId": "metrics", "tags": ["operations"], "summary": "Prometheus metrics (text exposition format 0.0.4).",
                    "description": "Not here when `registrar api --metrics-port` serves them on a listener of their own (404). No tenant's object ids appear unless the operator starts the API with `--metrics-job-ids`.",
                    "security": [] as [Any],
                    "responses": ["200": ["description": "Metrics.", "content": ["text/plain": ["schema": ["type": "string"]]]] as Object],
                ] as Object,
            ],
            "/v1/folders": [
                "post": authed([
                    "operationId": "createFolder", "tags": ["folders"], "summary": "Create a folder.",
                    "requestBody": [
                        "required": true,
                        "content": ["application/json": ["schema": ref("FolderCreate")]],
                    ] as Object,
                    "responses": [
                        "201": jsonResponse("The new folder.", ref("Folder"), links: [
                            "getFolder": link("getFolder", id: "$response.body#/id"),
                            "listFolderFiles": link("listFolderFiles", id: "$response.body#/id"),
                            "submitUpload": link("submitUpload", id: "$response.body#/id"),
                            "listUploadsInFolder": ["operationId": "listUploads", "parameters": ["folderId": "$response.body#/id"]] as Object,
                            "deleteFolder": link("deleteFolder", id: "$response.body#/id"),
                        ]),
                        "409": errorRef("The tenant has a folder of that name (`folder_exists`)."),
                        "422": errorRef("The body is not `{\"name\": \"…\"}` with 1 to 255 characters (`invalid_body`)."),
                    ],
                ], codes: ["400"]),
                "get": authed([
                    "operationId": "listFolders", "tags": ["folders"], "summary": "The tenant's folders, by name.",
                    "parameters": [param("limit"), [
                        "name": "cursor", "in": "query", "required": false,
                        "description": "`nextCursor` of the previous page (an opaque token).",
                        "schema": cursorSchema,
                    ] as Object],
                    "responses": [
                        "200": jsonResponse("A page of folders.", ref("FolderPage"), links: [
                            "getFolder": link("getFolder", id: "$response.body#/items/0/id"),
                            "listFolderFiles": link("listFolderFiles", id: "$response.body#/items/0/id"),
                        ]),
                    ],
                ], codes: ["400"]),
            ],
            "/v1/folders/{id}": [
                "parameters": [param("folderId")],
                "get": authed([
                    "operationId": "getFolder", "tags": ["folders"], "summary": "A folder, with file counts by type and total size.",
                    "responses": [
                        "200": jsonResponse("The folder.", ref("Folder"), links: [
                            "listFolderFiles": link("listFolderFiles", id: "$response.body#/id"),
                            "listUploadsInFolder": ["operationId": "listUploads", "parameters": ["folderId": "$response.body#/id"]] as Object,
                        ]),
                        "404": errorRef("No such folder for this tenant (`not_found`)."),
                    ],
                ]),
                "delete": authed([
                    "operationId": "deleteFolder", "tags": ["folders"],
                    "summary": "Delete an empty folder (no files, no running upload) with its finished uploads' records.",
                    "responses": [
                        "204": ["description": "Deleted."] as Object,
                        "404": errorRef("No such folder for this tenant (`not_found`)."),
                        "409": errorRef("The folder holds files or has a running upload (`folder_not_empty`)."),
                    ],
                ]),
            ],
            "/v1/folders/{id}/files": [
                "parameters": [param("folderId")],
                "get": authed([
                    "operationId": "listFolderFiles", "tags": ["files", "folders"], "summary": "A folder's registered files, in registration order.",
                    "parameters": [
                        ["name": "type", "in": "query", "required": false, "description": "Only files of this type.",
                         "schema": ref("DataType")] as Object,
                        param("limit"),
                        ["name": "cursor", "in": "query", "required": false,
                         "description": "`nextCursor` of the previous page (an opaque token).",
                         "schema": cursorSchema] as Object,
                    ],
                    "responses": [
                        "200": jsonResponse("A page of files.", ref("FilePage"), links: [
                            "getFile": link("getFile", id: "$response.body#/items/0/id"),
                        ]),
                        "400": errorRef("A bad `type`, `limit` or `cursor` (`invalid_parameter`)."),
                        "404": errorRef("No such folder for this tenant (`not_found`)."),
                    ],
                ]),
            ],
            "/v1/folders/{id}/uploads": [
                "parameters": [param("folderId")],
                "post": authed([
                    "operationId": "submitUpload", "tags": ["uploads"],
                    "summary": "Submit a manifest for registration into the folder.",
                    "description": """
                        The body is the manifest, as JSON or CSV (Encord's formats), chosen by `format` or else by \
                        Content-Type; optionally gzip-compressed (`Content-Encoding: gzip`). Sent as \
                        `application/gzip` without `format`, the format is `fileName`'s extension (`.json`, `.csv`, \
                        optionally followed by `.gz`), else the first non-blank byte of the decompressed manifest \
                        (`{` or `[`: JSON; anything else: CSV). The size cap applies to the body as sent and to the \
                        manifest once decompressed: a `Content-Length` over it is refused before the body is read, \
                        a body the moment it crosses it. The manifest is validated when it has arrived: one with a \
                        fatal fault creates nothing and answers 422. Otherwise the upload (job) is stored and \
                        queued, and answered with 202 and its `Location`.
                        """,
                    "parameters": [
                        ["name": "format", "in": "query", "required": false,
                         "description": "The manifest's format; default: from Content-Type (for `application/gzip`: from `fileName`, else from the content).",
                         "schema": ["type": "string", "enum": ["json", "csv"]]] as Object,
                        ["name": "ignoreErrors", "in": "query", "required": false,
                         "description": "Finish as DONE even when some units fail (the failures are still listed).",
                         "schema": ["type": "boolean", "default": false]] as Object,
                        ["name": "fileName", "in": "query", "required": false,
                         "description": "The manifest's file name, for people; default `upload.json` / `upload.csv`.",
                         "schema": ["type": "string"]] as Object,
                        ["name": "integration", "in": "query", "required": false,
                         "description": "The name of a storage integration whose credentials fetch the objects.",
                         "schema": ["type": "string", "minLength": 1]] as Object,
                        ["name": "Content-Encoding", "in": "header", "required": false,
                         "schema": ["type": "string", "enum": ["gzip", "identity"]]] as Object,
                    ],
                    "requestBody": [
                        "required": true,
                        "description": "The manifest.",
                        "content": [
                            "application/json": ["schema": ref("ManifestJSON")],
                            "text/csv": ["schema": ["type": "string",
                                                    "description": "A CSV manifest: a header row (`objectUrl`, `title`, `dataType`, …), then one unit per row."] as Object],
                            "application/gzip": ["schema": ["type": "string", "contentMediaType": "application/gzip",
                                                            "description": "A gzip-compressed JSON or CSV manifest."] as Object],
                        ],
                    ] as Object,
                    "responses": [
                        "202": jsonResponse("Accepted: the upload as stored.", ref("Upload"), headers: [
                            "Location": ["description": "The upload's URL.", "schema": ["type": "string"]] as Object,
                        ], links: uploadLinks("$response.body#/id")),
                        "400": errorRef("A bad parameter (`invalid_parameter`), or a gzip body that is not one complete gzip stream — corrupt, cut short, or followed by other bytes (`invalid_gzip`; `details.offset` is the compressed byte)."),
                        "404": errorRef("No such folder for this tenant (`not_found`)."),
                        "413": errorRef("The body or the manifest once decompressed is larger than the server accepts (`payload_too_large`; `details.maxBytes`, and `details.contentLength` when the declared length alone was refused, before the body was read)."),
                        "415": errorRef("Neither `format` nor a JSON, CSV or gzip Content-Type (`unsupported_media_type`), or an unknown Content-Encoding (`unsupported_encoding`)."),
                        "422": errorRef("The manifest cannot be registered (`manifest_invalid`: `details` names the fault; a URL holding a user name or password refuses the whole manifest, `details.code` `url_contains_credentials`), or `integration` names none (`unknown_integration`)."),
                    ],
                ]),
            ],
            "/v1/files/{id}": [
                "parameters": [[
                    "name": "id", "in": "path", "required": true, "description": "A file id.",
                    "schema": ["type": "string", "pattern": "^[1-9][0-9]{0,18}$"],
                ] as Object],
                "get": authed([
                    "operationId": "getFile", "tags": ["files"], "summary": "A registered file and what was learned about it.",
                    "responses": [
                        "200": jsonResponse("The file.", ref("File"), links: [
                            "getFolder": link("getFolder", id: "$response.body#/folderId"),
                            "getUpload": link("getUpload", id: "$response.body#/jobId"),
                        ]),
                        "404": errorRef("No such file for this tenant (`not_found`)."),
                    ],
                ]),
            ],
            "/v1/uploads": [
                "get": authed([
                    "operationId": "listUploads", "tags": ["uploads"], "summary": "The tenant's uploads, newest first.",
                    "parameters": [
                        ["name": "status", "in": "query", "required": false, "description": "Only uploads with this status (any letter case).",
                         "schema": ref("UploadStatus")] as Object,
                        ["name": "folderId", "in": "query", "required": false, "description": "Only uploads into this folder.",
                         "schema": ["type": "string", "format": "uuid"]] as Object,
                        param("limit"),
                        ["name": "cursor", "in": "query", "required": false,
                         "description": "`nextCursor` of the previous page (an opaque token).",
                         "schema": cursorSchema] as Object,
                    ],
                    "responses": [
                        "200": jsonResponse("A page of uploads.", ref("UploadPage"), links: [
                            "getUpload": link("getUpload", id: "$response.body#/items/0/id"),
                            "listUploadErrors": link("listUploadErrors", id: "$response.body#/items/0/id"),
                        ]),
                    ],
                ], codes: ["400"]),
            ],
            "/v1/uploads/{id}": [
                "parameters": [param("uploadId")],
                "get": authed([
                    "operationId": "getUpload", "tags": ["uploads"],
                    "summary": "An upload's progress: exact counters, phase, rate and ETA.",
                    "parameters": [[
                        "name": "wait", "in": "query", "required": false,
                        "description": "Long-poll: while the upload runs, answer as soon as anything shown changes, or after this many seconds (capped at 60: larger values wait 60).",
                        "schema": ["type": "number", "minimum": 0],
                    ] as Object],
                    "responses": [
                        "200": jsonResponse("The upload.", ref("Upload"), links: [
                            "getFolder": link("getFolder", id: "$response.body#/folderId"),
                            "listUploadErrors": link("listUploadErrors", id: "$response.body#/id"),
                        ]),
                        "400": errorRef("A bad `wait` (`invalid_parameter`)."),
                        "404": errorRef("No such upload for this tenant (`not_found`)."),
                    ],
                ]),
            ],
            "/v1/uploads/{id}/events": [
                "parameters": [param("uploadId")],
                "get": authed([
                    "operationId": "streamUploadEvents", "tags": ["uploads"],
                    "summary": "Progress as server-sent events, until the upload ends.",
                    "description": """
                        Each change is an event `progress` (or `end`, the last one, when the upload has finished) \
                        whose `data` is the upload object as `GET /v1/uploads/{id}` answers it; comment lines keep \
                        an idle stream alive. The stream closes after `end`.
                        """,
                    "responses": [
                        "200": ["description": "An event stream.",
                                "content": ["text/event-stream": ["schema": ref("UploadEvent")]]] as Object,
                        "404": errorRef("No such upload for this tenant (`not_found`)."),
                    ],
                ]),
            ],
            "/v1/uploads/{id}/errors": [
                "parameters": [param("uploadId")],
                "get": authed([
                    "operationId": "listUploadErrors", "tags": ["uploads"],
                    "summary": "An upload's unit errors: a page of JSON, or the whole report as JSON Lines or CSV.",
                    "parameters": [
                        ["name": "code", "in": "query", "required": false, "description": "Only errors with this code (e.g. `not_found`).",
                         "schema": ["type": "string"]] as Object,
                        ["name": "format", "in": "query", "required": false,
                         "description": "`json`: one page with counts by code; `jsonl` / `csv`: every error (of `code`), streamed as a download (`limit` and `cursor` do not apply). CSV cells that a spreadsheet would run as a formula are neutralised.",
                         "schema": ["type": "string", "enum": ["json", "jsonl", "csv"], "default": "json"]] as Object,
                        param("limit"),
                        ["name": "cursor", "in": "query", "required": false, "description": "`nextCursor` of the previous page (an opaque token).",
                         "schema": cursorSchema] as Object,
                    ],
                    "responses": [
                        "200": [
                            "description": "Errors in unit order.",
                            "content": [
                                "application/json": ["schema": ref("UnitErrorPage")],
                                "application/x-ndjson": ["schema": ["type": "string", "description": "One `UnitError` object per line."] as Object],
                                "text/csv": ["schema": ["type": "string", "description": "Header `unit,code,message,action,object_urls`, then one row per error."] as Object],
                            ],
                        ] as Object,
                        "400": errorRef("A bad `format`, `limit` or `cursor` (`invalid_parameter`)."),
                        "404": errorRef("No such upload for this tenant (`not_found`)."),
                    ],
                ]),
            ],
            "/v1/uploads/{id}/cancel": [
                "parameters": [param("uploadId")],
                "post": authed([
                    "operationId": "cancelUpload", "tags": ["uploads"],
                    "summary": "Cancel a running upload: units not yet verified end `cancelled`. A finished upload is answered unchanged.",
                    "responses": [
                        "202": jsonResponse("The upload after the request.", ref("Upload")),
                        "404": errorRef("No such upload for this tenant (`not_found`)."),
                    ],
                ]),
            ],
            "/v1/uploads/{id}/retry": [
                "parameters": [param("uploadId")],
                "post": authed([
                    "operationId": "retryUpload", "tags": ["uploads"],
                    "summary": "A new upload of exactly the failed units of a finished one (no manifest re-upload).",
                    "responses": [
                        "202": jsonResponse("The new upload (`retryOf` names this one).", ref("Upload"), links: uploadLinks("$response.body#/id")),
                        "404": errorRef("No such upload for this tenant (`not_found`)."),
                        "409": errorRef("The upload is still running (`upload_running`) or has no failed units (`nothing_to_retry`)."),
                    ],
                ]),
            ],
            "/v1/integrations": [
                "post": authed([
                    "operationId": "createIntegration", "tags": ["integrations"],
                    "summary": "Add a cloud storage integration; its credentials are sealed (AES-256-GCM) and never returned.",
                    "requestBody": ["required": true, "content": ["application/json": ["schema": ref("IntegrationCreate")]]] as Object,
                    "responses": [
                        "201": jsonResponse("The new integration (no secrets).", ref("Integration"), links: [
                            "getIntegration": link("getIntegration", id: "$response.body#/id"),
                            "testIntegration": link("testIntegration", id: "$response.body#/id"),
                            "deleteIntegration": link("deleteIntegration", id: "$response.body#/id"),
                        ]),
                        "409": errorRef("The tenant has an integration of that name (`integration_exists`)."),
                        "422": errorRef("A bad kind or name (`invalid_body`) or credentials that do not fit the kind (`invalid_credentials`)."),
                    ],
                ], codes: ["400"]),
                "get": authed([
                    "operationId": "listIntegrations", "tags": ["integrations"], "summary": "The tenant's integrations, by name (no secrets).",
                    "responses": ["200": jsonResponse("Every integration (one page).", ref("IntegrationPage"))],
                ]),
            ],
            "/v1/integrations/{id}": [
                "parameters": [param("integrationId")],
                "get": authed([
                    "operationId": "getIntegration", "tags": ["integrations"], "summary": "One integration (no secrets).",
                    "responses": [
                        "200": jsonResponse("The integration.", ref("Integration")),
                        "404": errorRef("No such integration for this tenant (`not_found`)."),
                    ],
                ]),
                "delete": authed([
                    "operationId": "deleteIntegration", "tags": ["integrations"],
                    "summary": "Remove an integration (refused while a running upload uses it).",
                    "responses": [
                        "204": ["description": "Removed."] as Object,
                        "404": errorRef("No such integration for this tenant (`not_found`)."),
                        "409": errorRef("A running upload uses it (`integration_in_use`)."),
                    ],
                ]),
            ],
            "/v1/integrations/{id}/test": [
                "parameters": [param("integrationId")],
                "post": authed([
                    "operationId": "testIntegration", "tags": ["integrations"],
                    "summary": "Read one object through the integration, as a worker would, and report what was derived.",
                    "requestBody": ["required": true, "content": ["application/json": ["schema": object([
                        "url": ["type": "string", "minLength": 1, "description": "An object URL as a manifest would give it."] as Object,
                    ])]]] as Object,
                    "responses": [
                        "200": jsonResponse("The outcome (`ok` false with a `code` when the object could not be read).", ref("IntegrationTestReport")),
                        "404": errorRef("No such integration for this tenant (`not_found`)."),
                        "422": errorRef("The body is not `{\"url\": \"…\"}` (`invalid_body`)."),
                    ],
                ], codes: ["400"]),
            ],
        ].merging(catalogPaths) { a, _ in a }.merging(objectPaths) { a, b in
            // A path both define (`/v1/folders/{id}/files`: GET here, POST for uploads): both operations.
            (a as? Object ?? [:]).merging(b as? Object ?? [:]) { x, _ in x }
        }
    }

    /// Every `/v1` route: the bearer key, and the answers `AuthMiddleware` can give (plus the
    /// listed shared codes, e.g. 400 for routes whose only per-route error is a bad parameter).
    static func authed(_ op: Object, codes: [String] = []) -> Object {
        var op = op
        op["security"] = [["bearer": [] as [Any]]]
        var responses = op["responses"] as? Object ?? [:]
        for code in codes + ["401", "403", "429", "503"] where responses[code] == nil {
            responses[code] = ["$ref": "#/components/responses/\(sharedResponseName[code]!)"]
        }
        op["responses"] = responses
        return op
    }

    static let sharedResponseName = ["400": "BadParameter", "401": "Unauthorized", "403": "CrossSite", "429": "RateLimited",
                                     "503": "Unavailable"]

    static func uploadLinks(_ id: String) -> Object {
        [
            "getUpload": link("getUpload", id: id),
            "listUploadErrors": link("listUploadErrors", id: id),
            "cancelUpload": link("cancelUpload", id: id),
            "retryUpload": link("retryUpload", id: id),
        ]
    }

    static func link(_ operationID: String, id: String) -> Object {
        ["operationId": operationID, "parameters": ["id": id]]
    }

    // MARK: Shared parameters and responses

    static var sharedParameters: Object {
        [
            "limit": ["name": "limit", "in": "query", "required": false, "description": "Items per page.",
                      "schema": ["type": "integer", "minimum": 1, "maximum": 1000, "default": 100]] as Object,
            "folderId": ["name": "id", "in": "path", "required": true, "description": "A folder id.",
                         "schema": ["type": "string", "format": "uuid"]] as Object,
            "uploadId": ["name": "id", "in": "path", "required": true, "description": "An upload (job) id.",
                         "schema": ["type": "string", "format": "uuid"]] as Object,
            "integrationId": ["name": "id", "in": "path", "required": true, "description": "An integration id.",
                              "schema": ["type": "string", "format": "uuid"]] as Object,
        ]
    }

    static func param(_ name: String) -> Object { ["$ref": "#/components/parameters/\(name)"] }

    /// Page cursors: base64url tokens (`PageCursor`); an empty one is the first page.
    static var cursorSchema: Object { ["type": "string", "pattern": "^[A-Za-z0-9_-]*$", "maxLength": 2048] }

    static var sharedResponses: Object {
        [
            "BadParameter": errorResponse("A query parameter is malformed or out of range (`invalid_parameter`; `details.field` names it)."),
            "Unauthorized": errorResponse("No key, a malformed key, or a key that is unknown or revoked (`unauthorized`)."),
            "RateLimited": errorResponse("Too many requests for this key, or too many failed authentications from this client address (`rate_limited`); wait `Retry-After` seconds.", headers: [
                "Retry-After": ["description": "Seconds to wait.", "schema": ["type": "integer", "minimum": 1]] as Object,
            ]),
            "CrossSite": errorResponse("A write authenticated by the status page's cookie (not a bearer key) that is not same-origin (`cross_site_request`)."),
            "Unavailable": errorResponse("PostgreSQL, Redis or RabbitMQ is unreachable (`unavailable`); try again."),
            "MethodNotAllowed": errorResponse("Any path, with a method it does not take (`method_not_allowed`; `details.allow` lists the methods).", headers: [
                "Allow": ["description": "The methods the path takes, e.g. `DELETE, GET`.", "schema": ["type": "string"]] as Object,
            ]),
        ]
    }

    static func errorResponse(_ description: String, headers: Object? = nil) -> Object {
        var r: Object = ["description": description, "content": ["application/json": ["schema": ref("Error")]]]
        if let headers { r["headers"] = headers }
        return r
    }

    static func errorRef(_ description: String) -> Object { errorResponse(description) }

    static func jsonResponse(_ description: String, _ schema: Object, headers: Object? = nil, links: Object? = nil) -> Object {
        var r: Object = ["description": description, "content": ["application/json": ["schema": schema]]]
        if let headers { r["headers"] = headers }
        if let links { r["links"] = links }
        return r
    }

    static func ref(_ name: String) -> Object { ["$ref": "#/components/schemas/\(name)"] }

    // MARK: Schemas

    static var count: Object { ["type": "integer", "minimum": 0] }
    static var timestamp: Object { ["type": "string", "format": "date-time"] }
    static var nullableTimestamp: Object { ["type": ["string", "null"], "format": "date-time"] }
    static var uuid: Object { ["type": "string", "format": "uuid"] }

    static func object(_ properties: Object, required: [String]? = nil, additional: Any = false, description: String? = nil) -> Object {
        var o: Object = ["type": "object", "properties": properties, "required": required ?? properties.keys.sorted(),
                         "additionalProperties": additional]
        if let description { o["description"] = description }
        return o
    }

    static func page(of item: String, extra: Object = [:], description: String) -> Object {
        var properties: Object = [
            "items": ["type": "array", "items": ref(item)] as Object,
            "nextCursor": ["type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last page."] as Object,
        ]
        properties.merge(extra) { $1 }
        return object(properties, description: description)
    }

    static var schemas: Object {
        [
            "Error": object([
                "error": object([
                    "code": ["type": "string", "description": "Stable, for scripts (e.g. `not_found`, `invalid_parameter`)."] as Object,
                    "message": ["type": "string", "description": "For people."] as Object,
                    "details": ["type": "object", "description": "The item, field or limit involved."] as Object,
                ]),
            ], description: "Every error answer."),
            "DataType": ["type": "string", "enum": ["image", "video", "audio", "pdf", "text", "image_group", "image_sequence", "dicom_series", "nifti"]] as Object,
            "UploadStatus": ["type": "string", "enum": ["PENDING", "DONE", "ERROR", "CANCELLED"]] as Object,
            "FolderCreate": ["type": "object", "required": ["name"],
                             "properties": ["name": ["type": "string", "minLength": 1, "maxLength": 255,
                                                     "description": "Unique within the tenant; surrounding white space is removed."] as Object]] as Object,
            "Folder": object([
                "id": uuid,
                "name": ["type": "string"] as Object,
                "createdAt": timestamp,
                "fileCount": ["type": "integer", "minimum": 0, "description": "Files the folder holds now (a synced folder's tombstoned files are not counted)."] as Object,
                "totalSize": ["type": "integer", "minimum": 0, "description": "Bytes, over the files whose size is known."] as Object,
                "byType": ["type": "object", "description": "Files by type.", "propertyNames": ref("DataType"),
                           "additionalProperties": count] as Object,
                "files": object(["verified": count, "unverified": count, "failed": count, "tombstoned": count]),
            ]),
            "FolderPage": page(of: "Folder", description: "A page of folders."),
            "File": object([
                "id": ["type": "string", "pattern": "^[0-9]+$"] as Object,
                "folderId": uuid,
                "jobId": uuid,
                "unit": ["type": "integer", "minimum": 0, "description": "The unit's index in its manifest."] as Object,
                "type": ref("DataType"),
                "title": ["type": "string"] as Object,
                "url": ["type": "string", "description": "The first URL (a presigned URL's query is shown as `?…`, a user name or password as `***`)."] as Object,
                "urls": ["type": "array", "items": ["type": "string"], "description": "Every URL, in frame order."] as Object,
                "size": ["type": "integer", "minimum": 0,
                         "description": "Bytes, as the object store proved it (`Content-Range`, or a body read to its end); absent when a server that ignores `Range` was cut off."] as Object,
                "mimeType": ["type": "string"] as Object,
                "etag": ["type": "string"] as Object,
                "width": count,
                "height": count,
                "fps": ["type": "number"] as Object,
                "duration": ["type": "number", "description": "Seconds."] as Object,
                "frameCount": count,
                "codec": ["type": "string"] as Object,
                "sampleRate": count,
                "channels": count,
                "bitDepth": count,
                "pageCount": count,
                "clientMetadata": ["description": "The manifest's `clientMetadata`, as given."] as Object,
                "metadataSupplied": ["type": "boolean", "description": "Metadata came from the manifest; the object was not read."] as Object,
                "format": ["type": "string"] as Object,
                "textEncoding": ["type": "string"] as Object,
                "dicomStudyUid": ["type": "string"] as Object,
                "dicomSeriesUid": ["type": "string"] as Object,
                "dicomSopUids": ["type": "array", "items": ["type": "string"]] as Object,
                "dicomModality": ["type": "string"] as Object,
                "niftiDims": ["type": "array", "items": ["type": "integer"]] as Object,
                "niftiPixdim": ["type": "array", "items": ["type": "number"]] as Object,
                "createdAt": timestamp,
                "verified": ["type": "boolean", "description": "False for a file a folder sync listed and has not probed yet (docs/sync.md)."] as Object,
                "tombstoned": ["type": "boolean", "description": "A synced file whose object vanished from the bucket (restored when it returns)."] as Object,
                "probeError": ["type": "string", "description": "A synced file whose probe failed: the unit error code."] as Object,
            ], required: ["id", "folderId", "jobId", "unit", "type", "title", "url", "urls", "metadataSupplied", "createdAt", "verified", "tombstoned"],
               description: "A registered file. Facts that are unknown or do not apply to its type are absent."),
            "FilePage": page(of: "File", description: "A page of files."),
            "Upload": object([
                "id": uuid,
                "status": ref("UploadStatus"),
                "phase": ["type": "string", "enum": ["received", "splitting", "verifying", "finished"]] as Object,
                "total": ["type": ["integer", "null"], "minimum": 0, "description": "Units in the manifest; null while still splitting."] as Object,
                "totalKnown": ["type": "boolean"] as Object,
                "done": count, "errors": count, "skipped": count, "cancelled": count,
                "pending": ["type": "integer", "minimum": 0, "description": "Units not finished yet."] as Object,
                "rate": ["type": "number", "minimum": 0, "description": "Units per second over the last 30 s (a finished upload: its average)."] as Object,
                "etaSeconds": ["type": ["integer", "null"], "minimum": 0, "description": "Seconds left at the current rate; null when unknown or finished."] as Object,
                "createdAt": timestamp,
                "startedAt": nullableTimestamp,
                "finishedAt": nullableTimestamp,
                "folderId": uuid,
                "fileName": ["type": ["string", "null"]] as Object,
                "format": ["type": "string", "enum": ["json", "csv"]] as Object,
                "manifestBytes": count,
                "ignoreErrors": ["type": "boolean"] as Object,
                "retryOf": ["type": ["string", "null"], "format": "uuid", "description": "The upload whose failures this one retries."] as Object,
                "error": ["type": ["string", "null"], "description": "Why the whole upload failed, if it did."] as Object,
                "links": object([
                    "self": ["type": "string"] as Object,
                    "errors": ["type": "string"] as Object,
                    "events": ["type": "string"] as Object,
                ]),
            ], description: "An upload (job). At the end, done + errors + skipped + cancelled = total."),
            "UploadPage": page(of: "Upload", description: "A page of uploads."),
            "UploadEvent": object([
                "event": ["type": "string", "enum": ["progress", "end"]] as Object,
                "id": ["type": "string", "pattern": "^[0-9]+$"] as Object,
                "data": ["type": "string", "contentMediaType": "application/json", "contentSchema": ref("Upload")] as Object,
            ], description: "One server-sent event (OpenAPI 3.1: the schema of each event of the stream)."),
            "UnitError": object([
                "unit": ["type": "integer", "minimum": 0, "description": "The unit's index in the manifest."] as Object,
                "objectUrls": ["type": "array", "items": ["type": "string"],
                               "description": "The unit's URLs, without their query string and with any user name or password masked (`***`)."] as Object,
                "code": ["type": "string", "description": "e.g. `not_found`, `access_denied`, `type_mismatch`, `invalid_url`."] as Object,
                "message": ["type": "string"] as Object,
                "action": ["type": "string", "description": "What was being done, e.g. \"Fetching object\"."] as Object,
                "createdAt": timestamp,
            ], description: "A unit that could not be registered."),
            "UnitErrorPage": page(of: "UnitError", extra: [
                "codes": ["type": "object", "description": "Every error of the upload (not only this page) counted by code.",
                          "additionalProperties": ["type": "integer", "minimum": 1]] as Object,
            ], description: "A page of unit errors."),
            "ManifestJSON": [
                "type": "object",
                "description": "A JSON manifest (Encord's format; the SDK's camelCase spellings are accepted too). Each key holds an array of items.",
                "properties": [
                    "images": ref("ManifestItems"), "videos": ref("ManifestItems"), "audio": ref("ManifestItems"),
                    "pdfs": ref("ManifestItems"), "text": ref("ManifestItems"), "nifti": ref("ManifestItems"),
                    "image_groups": ["type": "array", "items": ["type": "object"]] as Object,
                    "dicom_series": ["type": "array", "items": ["type": "object"]] as Object,
                    "skip_duplicate_urls": ["type": "boolean"] as Object,
                ] as Object,
            ] as Object,
            "ManifestItems": ["type": "array", "items": [
                "type": "object", "required": ["objectUrl"],
                "properties": [
                    "objectUrl": ["type": "string"] as Object,
                    "title": ["type": "string"] as Object,
                    "clientMetadata": ["type": "object"] as Object,
                ] as Object,
            ] as Object] as Object,
            "IntegrationKind": ["type": "string", "enum": ["aws", "s3-compatible", "gcp", "azure", "direct"]] as Object,
            "IntegrationCreate": [
                "type": "object", "required": ["kind", "name"],
                "properties": [
                    "kind": ref("IntegrationKind"),
                    "name": ["type": "string", "minLength": 1, "maxLength": 200, "description": "Unique within the tenant; used as `integration=` on uploads."] as Object,
                    "credentials": ["type": "object", "description": "As `registrar integrations add --from-file` reads it: access_key_id, secret_access_key, session_token, role_arn, external_id, region, endpoint, path_style, account, account_key, sas_token, hmac_access_id, hmac_secret, or a GCP service-account key file."] as Object,
                    "buckets": ["type": "array", "items": ["type": "string"], "description": "Only these buckets/containers."] as Object,
                ] as Object,
            ] as Object,
            "Integration": object([
                "id": uuid,
                "name": ["type": "string"] as Object,
                "kind": ref("IntegrationKind"),
                "settings": ["type": "object", "description": "Non-secret settings (region, endpoint, role ARN, buckets, …)."] as Object,
                "keyId": ["type": "string", "description": "The id of the key ring entry that seals the credentials."] as Object,
                "createdAt": timestamp,
            ], description: "A cloud storage integration. Credentials are never shown."),
            "IntegrationPage": page(of: "Integration", description: "The tenant's integrations."),
            "IntegrationTestReport": object([
                "ok": ["type": "boolean"] as Object,
                "integration": ["type": "string"] as Object,
                "kind": ref("IntegrationKind"),
                "code": ["type": "string", "description": "Why the object could not be read (e.g. `access_denied`, `wrong_integration`)."] as Object,
                "message": ["type": "string"] as Object,
                "provider": ["type": "string"] as Object,
                "bucket": ["type": "string"] as Object,
                "key": ["type": "string"] as Object,
                "region": ["type": ["string", "null"]] as Object,
                "request": ["type": "string", "description": "The URL fetched, without its query string."] as Object,
                "status": ["type": "integer"] as Object,
                "size": ["type": ["integer", "null"]] as Object,
                "contentType": ["type": ["string", "null"]] as Object,
            ], required: ["ok", "integration", "kind"], description: "What reading one object through an integration showed."),
            "Health": object(["status": ["const": "ok"] as Object, "version": ["type": "string"] as Object]),
            "Readiness": object([
                "status": ["type": "string", "enum": ["ready", "not_ready"]] as Object,
                "checks": ["type": "object", "description": "postgres, schema, redis, rabbitmq.",
                           "additionalProperties": object(["ok": ["type": "boolean"] as Object,
                                                           "reason": ["type": ["string", "null"]] as Object])] as Object,
            ]),
        ].merging(catalogSchemas) { a, _ in a }
    }
}
