import RegistrarCore

// Workflows and tasks (issue 13): `TaskRoutes` (docs/workflows.md, "The task API").
extension OpenAPIDocument {
    static var stageParam: Object {
        ["name": "stage", "in": "path", "required": true, "description": "A stage: its uuid or title.", "schema": ["type": "string", "maxLength": 200] as Object]
    }
    static func listQuery(_ name: String, _ description: String) -> Object {
        ["name": name, "in": "query", "required": false, "description": description + " Repeat the parameter or separate values with commas.",
         "schema": ["type": "string"] as Object]
    }
    static var noStage: Object { errorRef("No such project, or no stage of that uuid or title that holds tasks (`not_found`; the message lists the stages).") }

    static var taskPaths: Object {
        [
            "/v1/projects/{id}/workflow": [
                "parameters": [idParam("id", "A project id.")],
                "get": authed(["operationId": "getProjectWorkflow", "tags": ["tasks"], "summary": "The project's workflow graph (permission view).",
                               "responses": ["200": jsonResponse("The graph.", ref("Workflow")), "403": forbiddenProject,
                                             "404": errorRef("No such project (`not_found`).")]]),
                "put": authed(["operationId": "putProjectWorkflow", "tags": ["tasks"],
                               "summary": "Replace the workflow graph (administer). Live edits: a stage holding tasks or a Complete stage is never deleted, a stage's type never changes.",
                               "requestBody": body("Workflow"),
                               "responses": ["200": jsonResponse("The stored graph.", ref("Workflow")), "403": forbiddenProject,
                                             "404": errorRef("No such project (`not_found`)."),
                                             "409": errorRef("A live-edit rule (`stage_in_use`, `type_changed`; `details.errors` lists each node and rule)."),
                                             "422": errorRef("Not a valid graph (`invalid_body`, or `invalid_workflow` with `details.errors`: path, node uuid and title, rule).")]]),
            ],
            "/v1/projects/{id}/workflow/stages/{stage}/tasks": [
                "parameters": [idParam("id", "A project id."), stageParam],
                "get": authed(["operationId": "listStageTasks", "tags": ["tasks"], "summary": "The tasks waiting at a stage, oldest first (permission view).",
                               "parameters": [param("limit"),
                                              ["name": "pageToken", "in": "query", "required": false, "description": "`nextPageToken` of the previous page.",
                                               "schema": cursorSchema] as Object,
                                              listQuery("userEmails", "Only tasks assigned to these emails."),
                                              listQuery("dataHashes", "Only these data units."),
                                              listQuery("datasetHashes", "Only units of these datasets (uuids)."),
                                              ["name": "dataTitleContains", "in": "query", "required": false, "description": "Only units whose title contains this (any case).",
                                               "schema": ["type": "string"] as Object] as Object,
                                              listQuery("statuses", "Only these statuses (NEW, ASSIGNED, RELEASED, SKIPPED, REOPENED, COMPLETED).")],
                               "responses": ["200": jsonResponse("A page of tasks.", ref("TaskPage")), "403": forbiddenProject, "404": noStage]],
                       codes: ["400"]),
            ],
            "/v1/projects/{id}/workflow/stages/{stage}/actions": [
                "parameters": [idParam("id", "A project id."), stageParam],
                "post": authed(["operationId": "actOnTasks", "tags": ["tasks"],
                                "summary": "Apply actions to tasks at the stage, each answered on its own (permission per action and stage: docs/workflows.md).",
                                "requestBody": body("TaskActionList"),
                                "responses": ["200": jsonResponse("One answer per action, in order.", ref("TaskActionResults")), "403": forbiddenProject,
                                              "404": noStage, "422": badBody]]),
            ],
            "/v1/projects/{id}/workflow/stages/{stage}/move-tasks": [
                "parameters": [idParam("id", "A project id."), stageParam],
                "post": authed(["operationId": "moveTasks", "tags": ["tasks"], "summary": "Move tasks from the stage to another (controlTasks).",
                                "requestBody": body("TaskMove"),
                                "responses": ["200": jsonResponse("One answer per task, in order.", ref("TaskActionResults")), "403": forbiddenProject,
                                              "404": noStage, "422": badBody]]),
            ],
            "/v1/projects/{id}/tasks/{taskUuid}/history": [
                "parameters": [idParam("id", "A project id."), idParam("taskUuid", "A task uuid.")],
                "get": authed(["operationId": "getTaskHistory", "tags": ["tasks"], "summary": "Every action and move of a task, oldest first (permission view).",
                               "responses": ["200": jsonResponse("The history.", ref("TaskHistory")), "403": forbiddenProject,
                                             "404": errorRef("No such project or task (`not_found`).")]]),
            ],
            "/v1/projects/{id}/stages": [
                "parameters": [idParam("id", "A project id.")],
                "get": authed(["operationId": "getStageCounts", "tags": ["tasks"], "summary": "Each stage that holds tasks, with its tasks per status (permission view).",
                               "responses": ["200": jsonResponse("Counts.", ref("StageCounts")), "403": forbiddenProject,
                                             "404": errorRef("No such project (`not_found`).")]]),
            ],
        ]
    }

    static var taskSchemas: Object {
        let status: Object = ["type": "string", "enum": TaskStatus.allCases.map(\.rawValue)]
        let count: Object = ["type": "integer", "minimum": 0]
        return [
            "Task": object([
                "uuid": uuid, "createdAt": timestamp, "updatedAt": timestamp, "status": status, "dataHash": ["type": "string"] as Object,
                "dataTitle": ["type": "string"] as Object, "datasetHash": uuid, "fileId": ["type": "string"] as Object, "labelBranchName": ["type": "string"] as Object,
                "assignee": nullableString, "lastActionedBy": nullableString, "stage": uuid,
            ]),
            "TaskPage": object(["results": ["type": "array", "items": ref("Task")] as Object, "nextPageToken": nullableString]),
            "TaskActionList": ["oneOf": [
                ["type": "array", "minItems": 1, "maxItems": 500, "items": ref("TaskAction")] as Object,
                object(["actions": ["type": "array", "minItems": 1, "maxItems": 500, "items": ref("TaskAction")] as Object]),
            ]] as Object,
            "TaskAction": object([
                "taskUuid": uuid, "action": ["type": "string", "enum": ["ASSIGN", "RELEASE", "SKIP", "SUBMIT", "APPROVE", "REJECT", "PATHWAY_ACTION"]] as Object,
                "assignee": ["type": "string"] as Object, "pathwayUuid": ["type": "string"] as Object, "pathwayName": ["type": "string"] as Object,
                "comment": ["type": "string", "maxLength": 4000, "description": "Kept in the task's history with the action (a reviewer's reason on REJECT)."] as Object,
            ], required: ["taskUuid", "action"], additional: true),
            "TaskMove": object(["taskUuids": ["type": "array", "minItems": 1, "maxItems": 500, "items": uuid] as Object,
                                "destinationStageUuid": ["type": "string", "minLength": 1] as Object]),
            "TaskActionResults": object([
                "results": ["type": "array", "items": object([
                    "taskUuid": ["type": "string"] as Object, "ok": ["type": "boolean"] as Object, "status": status, "stage": uuid,
                    "error": object(["code": ["type": "string"] as Object, "message": ["type": "string"] as Object]),
                ], required: ["taskUuid", "ok"])] as Object,
                "accepted": count, "refused": count,
            ]),
            "TaskHistory": object([
                "taskUuid": uuid, "dataHash": ["type": "string"] as Object, "stage": uuid, "status": status,
                "events": ["type": "array", "items": object([
                    "seq": count, "at": timestamp, "actor": nullableString, "action": ["type": "string"] as Object,
                    "fromStage": nullableUUID, "toStage": nullableUUID, "path": ["type": "array", "items": uuid] as Object,
                    "status": status, "assignee": nullableString, "comment": nullableString,
                ])] as Object,
            ]),
            "StageCounts": object([
                "projectId": uuid, "taskCount": count,
                "stages": ["type": "array", "items": object([
                    "uuid": uuid, "title": nullableString, "stageType": ["type": "string"] as Object, "taskCount": count,
                    "byStatus": ["type": "object", "additionalProperties": count] as Object,
                ])] as Object,
            ]),
        ]
    }
}
