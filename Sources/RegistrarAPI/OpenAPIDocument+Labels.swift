import RegistrarCore

// Label rows (issue 14): `LabelRoutes` (docs/labels.md).
extension OpenAPIDocument {
    static var etagHeader: Object {
        ["ETag": ["description": "The row's version, quoted (\"0\": never saved). Send it back as If-Match.",
                  "schema": ["type": "string"] as Object] as Object]
    }

    static var labelPaths: Object {
        let dataHash = idParam("dataHash", "A data unit of the project: the `dataHash` the task API shows.")
        return [
            "/v1/projects/{id}/label-rows": [
                "parameters": [idParam("id", "A project id.")],
                "get": authed(["operationId": "listLabelRows", "tags": ["labels"],
                               "summary": "The project's label rows, one per data unit (saved or not), by data hash (permission view).",
                               "parameters": [param("limit"),
                                              ["name": "pageToken", "in": "query", "required": false, "description": "`nextPageToken` of the previous page.",
                                               "schema": cursorSchema] as Object,
                                              ["name": "stage", "in": "query", "required": false, "description": "Only units whose task waits at this stage (uuid or title).",
                                               "schema": ["type": "string", "maxLength": 200] as Object] as Object,
                                              listQuery("labelStatus", "Only rows of these label statuses (\(LabelRoutes.labelStatuses.joined(separator: ", "))).")],
                               "responses": ["200": jsonResponse("A page of label rows.", ref("LabelRowPage")), "403": forbiddenProject,
                                             "404": errorRef("No such project, or no such stage (`not_found`).")]],
                       codes: ["400"]),
            ],
            "/v1/projects/{id}/label-rows/{dataHash}": [
                "parameters": [idParam("id", "A project id."), dataHash],
                "get": authed(["operationId": "getLabelRow", "tags": ["labels"],
                               "summary": "One data unit's label row in Encord's `to_encord_dict()` shape (permission view).",
                               "responses": ["200": jsonResponse("The row (empty when never saved).", ref("LabelRow"), headers: etagHeader),
                                             "403": forbiddenProject, "404": errorRef("No such project, or the unit is not in it (`not_found`).")]]),
                "put": authed(["operationId": "putLabelRow", "tags": ["labels"],
                               "summary": "Replace a data unit's labels (annotate, review or controlTasks), validated against the ontology and the media; If-Match required. Per-label reviews ride in the row (`reviews` on object_answers / classification_answers entries; docs/labels.md): only review or controlTasks may add other than RESOLVED or change given ones (403 `review_forbidden`).",
                               "parameters": [["name": "If-Match", "in": "header", "required": true,
                                               "description": "The ETag of the row edited, or `*` to overwrite whatever is stored.",
                                               "schema": ["type": "string"] as Object] as Object],
                               "requestBody": body("LabelRow"),
                               "responses": ["200": jsonResponse("The stored row.", ref("LabelRow"), headers: etagHeader),
                                             "403": forbiddenProject, "404": errorRef("No such project, or the unit is not in it (`not_found`)."),
                                             "409": errorRef("The project has no ontology (`no_ontology`)."),
                                             "412": errorRef("The row changed since that ETag (`stale_label_row`; `details.currentVersion`)."),
                                             "422": errorRef("Not a valid row (`invalid_body`, or `invalid_label_row` with `details.errors`: path and message each; a review without its comment or signed by someone else is one)."),
                                             "428": errorRef("No If-Match (`precondition_required`).")]],
                       codes: ["400"]),
            ],
            "/v1/projects/{id}/exports": [
                "parameters": [idParam("id", "A project id.")],
                "post": authed(["operationId": "createExport", "tags": ["labels"],
                                "summary": "Export the project's labels as a job (permission export): json (label rows) or coco.",
                                "requestBody": body("ExportRequest"),
                                "responses": ["202": jsonResponse("The export job, queued.", ref("Export")), "403": forbiddenProject,
                                              "404": errorRef("No such project, or no such stage (`not_found`)."), "422": badBody]]),
            ],
            "/v1/exports/{id}": [
                "parameters": [idParam("id", "An export (job) id.")],
                "get": authed(["operationId": "getExport", "tags": ["labels"], "summary": "An export's progress, and its file's size and SHA-256 once assembled.",
                               "responses": ["200": jsonResponse("The export.", ref("Export")), "404": errorRef("No such export for this tenant (`not_found`).")]]),
            ],
            "/v1/exports/{id}/download": [
                "parameters": [idParam("id", "An export (job) id.")],
                "get": authed(["operationId": "downloadExport", "tags": ["labels"],
                               "summary": "The export's file (assembled from the job's parts on first download; the same bytes every time).",
                               "responses": ["200": ["description": "The file (`X-Content-SHA256`, `ETag`).",
                                                     "content": ["application/json": ["schema": ["type": ["object", "array"]] as Object]]] as Object,
                                             "404": errorRef("No such export for this tenant (`not_found`)."),
                                             "409": errorRef("The job has not ended DONE (`export_not_ready`, `details.status`).")]]),
            ],
        ]
    }

    static var labelSchemas: Object {
        [
            "LabelRow": ["type": "object", "additionalProperties": true,
                         "description": "Encord's LabelRowV2.to_encord_dict(): label_hash, branch_name, created_at, last_edited_at, data_hash, dataset_hash, dataset_title, data_title, data_type, annotation_task_status, is_shadow_data, object_answers, classification_answers, object_actions, label_status, data_units, spaces (docs/labels.md). Per-label review: `object_answers.<objectHash>.reviews` and `classification_answers.<classificationHash>.reviews`, each a list oldest first of {reviewUuid, status: NEW|APPROVED|REJECTED|RESOLVED|REOPENED, comment (required for REJECTED), reviewedBy (the writer's email), reviewedAt}; the last entry is the label's state.",
                         "properties": ["data_hash": ["type": "string"] as Object, "label_status": ["type": "string"] as Object,
                                        "data_units": ["type": "object"] as Object] as Object] as Object,
            "ExportRequest": object([
                "format": ["type": "string", "enum": ["json", "coco"]] as Object,
                "stage": ["type": ["string", "null"], "description": "Only units whose task waits at this stage (uuid or title)."] as Object,
                "featureHashes": ["type": ["array", "null"], "items": ["type": "string"]] as Object,
                "signedUrls": ["type": ["boolean", "null"]] as Object,
                "signedUrlTtlSeconds": ["type": ["integer", "null"], "minimum": 1, "maximum": 604800] as Object,
                "versionName": ["type": ["string", "null"], "maxLength": 200] as Object,
            ], required: ["format"]),
            "Export": ["type": "object", "additionalProperties": true,
                       "description": "GET /v1/jobs/{id}'s progress fields (status, phase, total, done, errors, skipped, rate, etaSeconds, …) plus projectId, format, stage, featureHashes, signedUrls, versionName, file ({size, sha256} or null) and links.",
                       "properties": ["id": uuid, "status": ["type": "string"] as Object, "format": ["type": "string"] as Object,
                                      "file": ["type": ["object", "null"]] as Object] as Object,
                       "required": ["id", "status", "format"]] as Object,
            "LabelRowPage": object(["results": ["type": "array", "items": ref("LabelRow")] as Object,
                                    "nextPageToken": ["type": ["string", "null"]] as Object]),
        ]
    }
}
