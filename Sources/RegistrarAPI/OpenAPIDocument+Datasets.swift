// Datasets (`/v1/datasets…`) and engine jobs of any kind (`/v1/jobs/{id}…`): docs/datasets.md.
extension OpenAPIDocument {
    static var datasetIDParam: Object {
        ["name": "id", "in": "path", "required": true, "description": "A dataset id.", "schema": ["type": "string", "format": "uuid"]] as Object
    }
    static var jobIDParam: Object {
        ["name": "id", "in": "path", "required": true, "description": "A job id (any kind).", "schema": ["type": "string", "format": "uuid"]] as Object
    }
    static var cursorParam: Object {
        ["name": "cursor", "in": "query", "required": false, "description": "`nextCursor` of the previous page (an opaque token).", "schema": cursorSchema] as Object
    }
    static func datasetForbidden(_ what: String) -> Object {
        errorRef("Not the dataset's creator nor a workspace admin (`forbidden`), or a cross-site cookie write (`cross_site_request`): \(what).")
    }
    static func jsonBody(_ schema: String) -> Object {
        ["required": true, "content": ["application/json": ["schema": ref(schema)]]] as Object
    }

    static var datasetPaths: Object {
        [
            "/v1/datasets": [
                "post": authed([
                    "operationId": "createDataset", "tags": ["datasets"], "summary": "Create a dataset (optionally mirroring a folder).",
                    "requestBody": jsonBody("DatasetCreate"),
                    "responses": [
                        "201": jsonResponse("The new dataset; with `jobId` when it mirrors a folder that already has files.", ref("DatasetCreated"), links: [
                            "getDataset": link("getDataset", id: "$response.body#/id"),
                            "attachToDataset": link("attachToDataset", id: "$response.body#/id"),
                        ]),
                        "404": errorRef("The mirrored folder is not this tenant's (`not_found`)."),
                        "422": errorRef("A bad body (`invalid_body`; `details.field` names the field)."),
                    ],
                ], codes: ["400"]),
                "get": authed([
                    "operationId": "listDatasets", "tags": ["datasets"], "summary": "The tenant's datasets, with data-unit counts by type.",
                    "parameters": [param("limit"), cursorParam],
                    "responses": ["200": jsonResponse("A page of datasets.", ref("DatasetPage"))],
                ], codes: ["400"]),
            ],
            "/v1/datasets/{id}": [
                "parameters": [datasetIDParam],
                "get": authed([
                    "operationId": "getDataset", "tags": ["datasets"], "summary": "A dataset with its data-unit counts by type.",
                    "responses": [
                        "200": jsonResponse("The dataset.", ref("Dataset")),
                        "404": errorRef("No such dataset for this tenant (`not_found`)."),
                    ],
                ]),
                "patch": authed([
                    "operationId": "updateDataset", "tags": ["datasets"], "summary": "Change a dataset's title or description.",
                    "requestBody": jsonBody("DatasetUpdate"),
                    "responses": [
                        "200": jsonResponse("The dataset.", ref("Dataset")),
                        "403": datasetForbidden("changing it"),
                        "404": errorRef("No such dataset for this tenant (`not_found`)."),
                        "422": errorRef("A bad body (`invalid_body`; `details.field` names the field)."),
                    ],
                ], codes: ["400"]),
                "delete": authed([
                    "operationId": "deleteDataset", "tags": ["datasets"], "summary": "Delete a dataset (its memberships, not the files).",
                    "responses": [
                        "204": ["description": "Deleted."] as Object,
                        "403": datasetForbidden("deleting it"),
                        "404": errorRef("No such dataset for this tenant (`not_found`)."),
                        "409": errorRef("Projects use the dataset (`dataset_in_use`; `details.projectIds`)."),
                    ],
                ]),
            ],
            "/v1/datasets/{id}/files": [
                "parameters": [datasetIDParam],
                "get": authed([
                    "operationId": "listDatasetFiles", "tags": ["datasets"], "summary": "The dataset's data units, by membership id.",
                    "parameters": [param("limit"), cursorParam],
                    "responses": [
                        "200": jsonResponse("A page of data units.", ref("DataUnitPage")),
                        "404": errorRef("No such dataset for this tenant (`not_found`)."),
                    ],
                ], codes: ["400"]),
            ],
            "/v1/datasets/{id}/attach": [
                "parameters": [datasetIDParam],
                "post": authed([
                    "operationId": "attachToDataset", "tags": ["datasets", "jobs"],
                    "summary": "Attach the files of folders and single files: a `dataset-attach` job.",
                    "requestBody": jsonBody("DatasetAttach"),
                    "responses": [
                        "202": jsonResponse("The job, queued.", ref("JobCreated"), links: ["getJob": link("getJob", id: "$response.body#/jobId")]),
                        "403": datasetForbidden("attaching"),
                        "404": errorRef("The dataset, a folder or a file is not this tenant's (`not_found`, naming it)."),
                        "422": errorRef("A bad body (`invalid_body`; `details.field` names the field)."),
                    ],
                ], codes: ["400"]),
            ],
            "/v1/datasets/{id}/detach": [
                "parameters": [datasetIDParam],
                "post": authed([
                    "operationId": "detachFromDataset", "tags": ["datasets"], "summary": "Detach every copy of the files of folders and of single files, at once.",
                    "requestBody": jsonBody("DatasetDetach"),
                    "responses": [
                        "200": jsonResponse("How many data units went.", object(["detached": count])),
                        "403": datasetForbidden("detaching"),
                        "404": errorRef("The dataset, a folder or a file is not this tenant's (`not_found`, naming it)."),
                        "422": errorRef("A bad body (`invalid_body`; `details.field` names the field)."),
                    ],
                ], codes: ["400"]),
            ],
            "/v1/jobs/{id}": [
                "parameters": [jobIDParam],
                "get": authed([
                    "operationId": "getJob", "tags": ["jobs"], "summary": "Any engine job of the tenant: its kind and progress.",
                    "responses": [
                        "200": jsonResponse("The job.", ref("Job"), links: ["cancelJob": link("cancelJob", id: "$response.body#/id")]),
                        "404": errorRef("No such job for this tenant (`not_found`)."),
                    ],
                ]),
            ],
            "/v1/jobs/{id}/errors": [
                "parameters": [jobIDParam],
                "get": authed([
                    "operationId": "listJobErrors", "tags": ["jobs"], "summary": "A job's unit errors, in unit order.",
                    "parameters": [param("limit"), cursorParam,
                                   ["name": "code", "in": "query", "required": false, "description": "Only errors of this code.",
                                    "schema": ["type": "string"]] as Object],
                    "responses": [
                        "200": jsonResponse("A page of unit errors.", page(of: "UnitError", description: "A page of unit errors.")),
                        "404": errorRef("No such job for this tenant (`not_found`)."),
                    ],
                ], codes: ["400"]),
            ],
            "/v1/jobs/{id}/cancel": [
                "parameters": [jobIDParam],
                "post": authed([
                    "operationId": "cancelJob", "tags": ["jobs"], "summary": "Ask a job to stop (committed chunks stay).",
                    "responses": [
                        "202": jsonResponse("The job.", ref("Job")),
                        "404": errorRef("No such job for this tenant (`not_found`)."),
                    ],
                ]),
            ],
        ]
    }

    /// An attach/detach body must name at least one folder or file.
    static func atLeastOneTarget(_ schema: Object) -> Object {
        var s = schema
        s["anyOf"] = [
            ["required": ["folderIds"], "properties": ["folderIds": ["minItems": 1] as Object]] as Object,
            ["required": ["fileIds"], "properties": ["fileIds": ["minItems": 1] as Object]] as Object,
        ]
        return s
    }

    static var datasetSchemas: Object {
        let title: Object = ["type": "string", "minLength": 1, "maxLength": 255]
        let description: Object = ["type": ["string", "null"], "maxLength": 10_000]
        let fileID: Object = ["oneOf": [["type": "string", "pattern": "^[1-9][0-9]{0,17}$"] as Object,
                                        ["type": "integer", "minimum": 1] as Object]]
        let targets: Object = [
            "folderIds": ["type": "array", "items": uuid] as Object,
            "fileIds": ["type": "array", "items": fileID, "maxItems": 100_000] as Object,
        ]
        var dataset: Object = [
            "id": uuid, "title": ["type": "string"] as Object, "description": ["type": ["string", "null"]] as Object,
            "mirroredFolderId": ["type": ["string", "null"], "format": "uuid"] as Object,
            "createdBy": ["type": ["string", "null"], "format": "uuid", "description": "The user that created it; null for a service key."] as Object,
            "createdAt": timestamp, "fileCount": count,
            "byType": ["type": "object", "description": "Data units by file type.", "propertyNames": ref("DataType"), "additionalProperties": count] as Object,
        ]
        let required = dataset.keys.sorted()
        dataset["jobId"] = ["type": "string", "format": "uuid", "description": "The attach job of a mirrored folder's current files."] as Object
        // The upload's progress fields (`Upload`), without what only uploads have.
        var progress: Object = [
            "id": uuid, "status": ref("UploadStatus"),
            "phase": ["type": "string", "enum": ["received", "splitting", "verifying", "finished"]] as Object,
            "total": ["type": ["integer", "null"], "minimum": 0, "description": "Units to process; null until counted."] as Object,
            "totalKnown": ["type": "boolean"] as Object,
            "done": count, "errors": count, "skipped": count, "cancelled": count,
            "pending": ["type": "integer", "minimum": 0, "description": "Units not finished yet."] as Object,
            "rate": ["type": "number", "minimum": 0, "description": "Units per second over the last 30 s (a finished job: its average)."] as Object,
            "etaSeconds": ["type": ["integer", "null"], "minimum": 0, "description": "Seconds left at the current rate; null when unknown or finished."] as Object,
            "createdAt": timestamp, "startedAt": nullableTimestamp, "finishedAt": nullableTimestamp,
            "ignoreErrors": ["type": "boolean"] as Object,
            "error": ["type": ["string", "null"], "description": "Why the whole job failed, if it did."] as Object,
        ]
        progress["kind"] = ["type": "string", "description": "`registration` (an upload), `dataset-attach`, …"] as Object
        progress["links"] = object(["self": ["type": "string"] as Object, "errors": ["type": "string"] as Object,
                                    "upload": ["type": "string"] as Object], required: ["self", "errors"])
        return [
            "DatasetCreate": object(["title": title, "description": description, "mirroredFolderId": ["type": ["string", "null"], "format": "uuid"] as Object],
                                    required: ["title"]),
            "DatasetUpdate": object(["title": title, "description": description], required: []),
            "Dataset": object(dataset.filter { $0.key != "jobId" }, description: "A dataset (docs/datasets.md)."),
            "DatasetCreated": object(dataset, required: required, description: "A new dataset."),
            "DatasetPage": page(of: "Dataset", description: "A page of datasets."),
            "DataUnit": object([
                "id": ["type": "string", "pattern": "^[0-9]+$", "description": "The membership's id."] as Object,
                "fileId": ["type": "string", "pattern": "^[0-9]+$"] as Object,
                "copy": ["type": "integer", "minimum": 0, "description": "0 for the first membership of a file; DUPLICATE adds 1, 2, …"] as Object,
                "type": ref("DataType"), "title": ["type": "string"] as Object,
                "url": ["type": "string", "description": "The file's first URL, without its query string."] as Object,
                "folderId": uuid, "jobId": ["type": ["string", "null"], "format": "uuid", "description": "The attach job that added it; null when mirrored."] as Object,
                "addedAt": timestamp,
            ], description: "A file's membership of a dataset."),
            "DataUnitPage": page(of: "DataUnit", description: "A page of data units."),
            "DatasetAttach": atLeastOneTarget(object(targets.merging(["duplicates": ["type": "string", "enum": ["SKIP", "FAIL", "DUPLICATE"], "default": "SKIP"] as Object]) { a, _ in a },
                                                     required: [], description: "At least one folder or file id.")),
            "DatasetDetach": atLeastOneTarget(object(targets, required: [], description: "At least one folder or file id.")),
            "JobCreated": object(["jobId": uuid, "links": object(["job": ["type": "string"] as Object])]),
            "Job": object(progress, required: progress.keys.filter { $0 != "links" }.sorted() + ["links"],
                          description: "An engine job of any kind. At the end, done + errors + skipped + cancelled = total."),
        ]
    }
}
