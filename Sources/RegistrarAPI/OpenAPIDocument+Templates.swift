import RegistrarCore

// Workflow templates (issue 13): `WorkflowTemplateRoutes` (docs/workflows.md, "Templates").
extension OpenAPIDocument {
    static var templatePaths: Object {
        [
            "/v1/workflow-templates": [
                "post": authed(["operationId": "createWorkflowTemplate", "tags": ["tasks"],
                                "summary": "Save a workflow as a template: a graph (`graphNodes`, checked by the workflow rules) or a project's workflow (`projectId`, permission view on it). Any workspace user.",
                                "requestBody": body("WorkflowTemplateCreate"),
                                "responses": ["201": jsonResponse("The template.", ref("WorkflowTemplate"), links: [
                                    "getWorkflowTemplate": link("getWorkflowTemplate", id: "$response.body#/id")]),
                                              "403": forbiddenProject,
                                              "404": errorRef("`projectId` names no project of this workspace (`not_found`)."),
                                              "409": errorRef("The workspace has a template of that title (`template_exists`)."),
                                              "422": errorRef("A malformed field, both or neither of `graphNodes` and `projectId` (`invalid_body`), or a graph breaking a rule (`invalid_workflow` with `details.errors`).")]]),
                "get": authed(["operationId": "listWorkflowTemplates", "tags": ["tasks"], "summary": "The workspace's workflow templates by title.",
                               "parameters": pageParams, "responses": ["200": jsonResponse("A page of templates.", ref("WorkflowTemplatePage"))]], codes: ["400"]),
            ],
            "/v1/workflow-templates/{id}": [
                "parameters": [idParam("id", "A workflow template id.")],
                "get": authed(["operationId": "getWorkflowTemplate", "tags": ["tasks"], "summary": "A workflow template.",
                               "responses": ["200": jsonResponse("The template.", ref("WorkflowTemplate")),
                                             "404": errorRef("No such template in this workspace (`not_found`).")]]),
                "delete": authed(["operationId": "deleteWorkflowTemplate", "tags": ["tasks"],
                                  "summary": "Delete a workflow template (its creator or a workspace admin). Projects made from it keep their copy.",
                                  "responses": ["204": ["description": "Deleted."] as Object, "403": forbiddenWorkspace,
                                                "404": errorRef("No such template (`not_found`).")]]),
            ],
        ]
    }

    static var templateSchemas: Object {
        [
            "WorkflowTemplate": object([
                "id": uuid, "title": ["type": "string"] as Object, "description": nullableString,
                "graphNodes": ["type": "array", "items": ["type": "object"] as Object] as Object,
                "createdBy": nullableUUID, "createdAt": timestamp,
            ]),
            "WorkflowTemplatePage": page(of: "WorkflowTemplate", description: "A page of workflow templates."),
            "WorkflowTemplateCreate": object([
                "title": ["type": "string", "minLength": 1, "maxLength": 255] as Object,
                "description": ["type": ["string", "null"], "maxLength": 10000] as Object,
                "graphNodes": ["type": "array", "items": ["type": "object"] as Object, "description": "The graph (docs/workflows.md); or give projectId."] as Object,
                "projectId": ["type": "string", "maxLength": 64, "description": "Save this project's workflow; or give graphNodes."] as Object,
            ], required: ["title"], additional: true),
        ]
    }
}
