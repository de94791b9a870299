import RegistrarCore

// Webhooks (issue 13, part 6): `WebhookRoutes` (docs/workflows.md, "Webhooks").
extension OpenAPIDocument {
    static var webhookPaths: Object {
        let project = idParam("id", "A project id.")
        let hook = idParam("wid", "A webhook id.")
        let missing = errorRef("No such project or webhook (`not_found`).")
        return [
            "/v1/projects/{id}/webhooks": [
                "parameters": [project],
                "post": authed(["operationId": "createWebhook", "tags": ["webhooks"],
                                "summary": "Add a webhook on an Annotate, DONE or Agent stage (administer). The answer holds the signing `secret`, shown only here.",
                                "requestBody": body("WebhookCreate"),
                                "responses": ["201": jsonResponse("The webhook, with its secret.", ref("WebhookCreated")), "403": forbiddenProject,
                                              "404": errorRef("No such project (`not_found`)."),
                                              "422": errorRef("`invalid_body` naming `stage` (no such stage, or a stage type without events) or `url` (not http(s), or a private/metadata address not in the fetch allow-list: `details.code` `destination_forbidden`).")]]),
                "get": authed(["operationId": "listWebhooks", "tags": ["webhooks"], "summary": "The project's webhooks, oldest first, without secrets (administer).",
                               "responses": ["200": jsonResponse("The webhooks.", object(["results": ["type": "array", "items": ref("Webhook")] as Object])),
                                             "403": forbiddenProject, "404": errorRef("No such project (`not_found`).")]]),
            ],
            "/v1/projects/{id}/webhooks/{wid}": [
                "parameters": [project, hook],
                "delete": authed(["operationId": "deleteWebhook", "tags": ["webhooks"], "summary": "Delete a webhook with its events and delivery log (administer).",
                                  "responses": ["204": ["description": "Deleted."] as Object, "403": forbiddenProject, "404": missing]]),
            ],
            "/v1/projects/{id}/webhooks/{wid}/deliveries": [
                "parameters": [project, hook],
                "get": authed(["operationId": "listWebhookDeliveries", "tags": ["webhooks"],
                               "summary": "The delivery log: the webhook's events, newest first, each with its attempts (administer).",
                               "parameters": [["name": "limit", "in": "query", "required": false, "description": "Events to return (1 to 1000, default 100).",
                                               "schema": ["type": "integer", "minimum": 1, "maximum": 1000] as Object] as Object],
                               "responses": ["200": jsonResponse("The log.", ref("WebhookDeliveries")), "403": forbiddenProject, "404": missing]],
                       codes: ["400"]),
            ],
            "/v1/projects/{id}/webhooks/{wid}/redeliver": [
                "parameters": [project, hook],
                "post": authed(["operationId": "redeliverWebhookEvents", "tags": ["webhooks"],
                                "summary": "Make the webhook's dead events pending again, due now, with a fresh retry budget (same uids) (administer).",
                                "responses": ["200": jsonResponse("How many were requeued.", object(["webhook": uuid, "requeued": ["type": "integer", "minimum": 0] as Object])),
                                              "403": forbiddenProject, "404": missing]]),
            ],
        ]
    }

    static var webhookSchemas: Object {
        let text: Object = ["type": "string"]
        let webhook: Object = [
            "id": uuid, "project": uuid, "stage": uuid, "stageType": ["type": "string", "enum": ["ANNOTATION", "DONE", "AGENT"]] as Object,
            "eventType": ["type": "string", "enum": WebhookEventType.allCases.map(\.rawValue)] as Object,
            "url": text, "createdAt": timestamp, "createdBy": nullableString,
        ]
        var created = webhook
        created["secret"] = ["type": "string", "description": "The HMAC-SHA256 key (hex); shown only in this answer."] as Object
        return [
            "WebhookCreate": object(["stage": ["type": "string", "description": "A stage uuid or title."] as Object,
                                     "url": ["type": "string", "maxLength": 2048, "description": "http(s) URL the events are POSTed to."] as Object]),
            "Webhook": object(webhook),
            "WebhookCreated": object(created),
            "WebhookDeliveries": object([
                "webhook": uuid,
                "results": ["type": "array", "items": object([
                    "uid": uuid, "event_type": text, "createdAt": timestamp,
                    "status": ["type": "string", "enum": ["pending", "delivered", "dead"]] as Object,
                    "attempts": ["type": "integer", "minimum": 0] as Object, "last_error": nullableString, "delivered_at": ["type": ["string", "null"]] as Object,
                    "log": ["type": "array", "items": object([
                        "attempt": ["type": "integer", "minimum": 1] as Object, "at": timestamp, "status": ["type": ["integer", "null"]] as Object,
                        "error": nullableString, "durationMs": ["type": "integer", "minimum": 0] as Object,
                    ])] as Object,
                ])] as Object,
            ]),
        ]
    }
}
