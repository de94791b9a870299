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
                    ],
                ] as Object,
            ],
        ]
    }
}
