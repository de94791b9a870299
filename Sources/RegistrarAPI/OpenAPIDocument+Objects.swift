// `GET /v1/objects/{key}`: Registrar's own objects through signed links (ObjectRoutes).
extension OpenAPIDocument {
    static var objectPaths: Object {
        [
            "/v1/objects/{key}": [
                "parameters": [
                    ["name": "key", "in": "path", "required": true,
                     "description": "The object's key. Keys may have several `/`-separated segments (`exports/…/v1.json`); each segment uses `A-Z a-z 0-9 . _ -`.",
                     "schema": ["type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,100}$"]] as Object,
                    ["name": "expires", "in": "query", "required": true, "description": "Seconds since the epoch after which the link stops working.",
                     "schema": ["type": "string", "pattern": "^[0-9]{1,12}$"]] as Object,
                    ["name": "signature", "in": "query", "required": true, "description": "Hex HMAC-SHA256 binding the key and the expiry.",
                     "schema": ["type": "string", "pattern": "^[0-9a-f]{64}$"]] as Object,
                ],
                "get": [
                    "operationId": "getObject", "tags": ["operations"],
                    "summary": "An object Registrar stored (an export, an upload), through an expiring signed link; no API key.",
                    "security": [] as [Any],
                    "responses": [
                        "200": ["description": "The object's bytes, with `X-Content-SHA256`.",
                                "headers": ["X-Content-SHA256": ["schema": ["type": "string"]] as Object] as Object,
                                "content": ["*/*": ["schema": ["type": "string", "format": "binary"]] as Object] as Object] as Object,
                        "403": errorRef("The link's signature does not match (`invalid_signature`) or it has expired (`link_expired`)."),
                        "404": errorRef("No such object (`not_found`)."),
                        "400": errorRef("A malformed request (`invalid_parameter`)."),
                        "206": ["description": "The range asked for by `Range: bytes=…` (one range), with `Content-Range`.",
                                "content": ["*/*": ["schema": ["type": "string", "format": "binary"]] as Object] as Object] as Object,
                        "416": ["description": "The range starts past the object's end (`Content-Range: bytes */SIZE`)."] as Object,
                    ],
                ] as Object,
                "put": [
                    "operationId": "putUploadedFile", "tags": ["uploads"],
                    "summary": "Store one file's bytes through a signed PUT link from `upload-signed-urls` (docs/uploads.md); no API key.",
                    "security": [] as [Any],
                    "requestBody": ["required": true, "content": ["*/*": ["schema": ["type": "string", "format": "binary"]] as Object] as Object] as Object,
                    "responses": [
                        "201": jsonResponse("Stored.", storedObjectSchema),
                        "400": errorRef("The body ended before its `Content-Length` (`truncated_upload`); nothing was stored."),
                        "403": errorRef("Not a PUT link for this key, or a changed key or expiry (`invalid_signature`), or expired (`link_expired`)."),
                        "404": errorRef("The key is not an upload slot (`not_found`)."),
                        "413": errorRef("The file is over the size limit (`file_too_large`); nothing was stored."),
                        "422": errorRef("The file is refused (`invalid_files`: `details.files[].code` is `empty_file`, `unsupported_type` or `checksum_mismatch` — the bytes do not hash to the key's SHA-256); nothing was stored."),
                    ],
                ] as Object,
            ],
        ].merging(filePaths) { a, _ in a }
    }

    static var storedObjectSchema: Object {
        ["type": "object", "required": ["objectKey", "size", "sha256", "contentType"], "properties": [
            "objectKey": ["type": "string"], "size": ["type": "integer"], "sha256": ["type": "string"], "contentType": ["type": "string"],
        ] as Object] as Object
    }

    /// Files from a disk: `POST /v1/folders/{id}/files`, the signed-upload flow (FileRoutes).
    static var filePaths: Object {
        let accepted = jsonResponse("Accepted: the upload (registration job) of the stored files, as `POST /v1/folders/{id}/uploads` answers.", ref("Upload"),
                                    headers: ["Location": ["description": "The upload's URL.", "schema": ["type": "string"]] as Object],
                                    links: uploadLinks("$response.body#/id"))
        let flag: (String, String) -> Object = { name, text in ["name": name, "in": "query", "required": false, "description": text, "schema": ["type": "boolean", "default": false]] as Object }
        return [
            "/v1/folders/{id}/files": [
                "parameters": [param("folderId")],
                "post": authed([
                    "operationId": "uploadFiles", "tags": ["uploads"],
                    "summary": "Upload files from a disk into the folder and register them (docs/uploads.md).",
                    "description": "One file as the body (name in `X-File-Name` or `name`, type in Content-Type, optional `X-Content-SHA256`), or `multipart/form-data` with up to 1,000 files. Streamed to a spool file, hashed and capped; stored only when every file passed; then registered by a job.",
                    "parameters": [
                        ["name": "name", "in": "query", "required": false, "description": "The file's name (a streamed body without `X-File-Name`).", "schema": ["type": "string"]] as Object,
                        ["name": "as", "in": "query", "required": false, "description": "All files as one unit: images as an image group or sequence, DICOM files as one DICOM series (with `title`).", "schema": ["type": "string", "enum": ["image-group", "image-sequence", "dicom-series"]]] as Object,
                        ["name": "title", "in": "query", "required": false, "description": "The group's or sequence's title (required with `as`).", "schema": ["type": "string"]] as Object,
                        flag("ignoreErrors", "Finish as DONE even when some files fail verification."),
                        flag("skipDuplicates", "Skip files this folder already registered (same object)."),
                    ],
                    "requestBody": ["required": true, "content": [
                        "application/octet-stream": ["schema": ["type": "string", "format": "binary"]] as Object,
                        "multipart/form-data": ["schema": ["type": "object", "properties": ["files": ["type": "array", "items": ["type": "string", "format": "binary"]] as Object] as Object] as Object] as Object,
                    ] as Object] as Object,
                    "responses": [
                        "202": accepted,
                        "400": errorRef("No file name (`invalid_parameter`, `details.field` `name`), a bad `as`/`title`, or a body cut short (`truncated_upload`)."),
                        "404": errorRef("No such folder for this tenant (`not_found`)."),
                        "413": errorRef("A file is over the size limit (`file_too_large`)."),
                        "422": errorRef("Files refused (`invalid_files`: `details.files[]` with `index`, `name`, `code` — `empty_file`, `unsupported_type`, `checksum_mismatch` — and `message`), or `as` with a non-image (`not_an_image`); nothing was stored."),
                    ],
                ]),
            ],
            "/v1/folders/{id}/upload-signed-urls": [
                "parameters": [param("folderId")],
                "post": authed([
                    "operationId": "uploadSignedURLs", "tags": ["uploads"],
                    "summary": "Signed PUT links for files to upload, and which of them are stored already (`present`).",
                    "requestBody": ["required": true, "content": ["application/json": ["schema": [
                        "type": "object", "required": ["files"], "properties": ["files": ["type": "array", "maxItems": 1000, "items": [
                            "type": "object", "required": ["name", "sha256"], "properties": [
                                "name": ["type": "string"], "sha256": ["type": "string", "pattern": "^[0-9a-fA-F]{64}$"],
                                "size": ["type": "integer"], "contentType": ["type": "string"],
                            ] as Object] as Object] as Object] as Object] as Object] as Object] as Object] as Object,
                    "responses": [
                        "200": jsonResponse("One item per file, in order.", ["type": "object", "properties": ["items": ["type": "array", "items": [
                            "type": "object", "properties": [
                                "name": ["type": "string"], "objectKey": ["type": "string"], "present": ["type": "boolean"],
                                "signedUrl": ["type": "string"], "uploadHeaders": ["type": "object"],
                            ] as Object] as Object] as Object] as Object] as Object),
                        "404": errorRef("No such folder for this tenant (`not_found`)."),
                        "413": errorRef("A declared size over the limit (`file_too_large`)."),
                        "422": errorRef("A type Registrar does not register (`unsupported_type`, `details.field`)."),
                    ],
                ], codes: ["400"]),
            ],
            "/v1/folders/{id}/files/register": [
                "parameters": [param("folderId")],
                "post": authed([
                    "operationId": "registerUploadedFiles", "tags": ["uploads"],
                    "summary": "Register files stored through signed PUTs (in the order given).",
                    "requestBody": ["required": true, "content": ["application/json": ["schema": [
                        "type": "object", "required": ["files"], "properties": [
                            "files": ["type": "array", "minItems": 1, "items": ["type": "object", "required": ["objectKey"], "properties": [
                                "objectKey": ["type": "string"], "title": ["type": "string"],
                                "series": ["type": "string", "description": "With `as: dicom-series`: the title of the DICOM series (unit) this file belongs to."]] as Object] as Object] as Object,
                            "as": ["type": "string", "enum": ["image-group", "image-sequence", "dicom-series"]], "title": ["type": "string"],
                            "ignoreErrors": ["type": "boolean"], "skipDuplicates": ["type": "boolean"],
                        ] as Object] as Object] as Object] as Object] as Object,
                    "responses": [
                        "202": accepted,
                        "404": errorRef("No such folder for this tenant (`not_found`)."),
                        "422": errorRef("Nothing stored under a key (`unknown_object`, `details.field` `files[i].objectKey`), a stored type not registered (`unsupported_type`), or `as` with a non-image (`not_an_image`)."),
                    ],
                ], codes: ["400"]),
            ],
        ]
    }
}
