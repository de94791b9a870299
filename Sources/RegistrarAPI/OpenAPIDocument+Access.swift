import RegistrarCore

// The access part of the catalog (issue 12): users, groups, workspace tags, projects and their
// collaborators (docs/catalog.md). `ProjectRoutes`, `AccessRoutes`.
extension OpenAPIDocument {
    static func idParam(_ name: String, _ description: String) -> Object {
        ["name": name, "in": "path", "required": true, "description": description, "schema": ["type": "string", "maxLength": 64] as Object]
    }
    static func body(_ schema: String) -> Object {
        ["required": true, "content": ["application/json": ["schema": ref(schema)]]] as Object
    }
    static var pageParams: [Any] {
        [param("limit"), ["name": "cursor", "in": "query", "required": false, "description": "`nextCursor` of the previous page (an opaque token).",
                          "schema": cursorSchema] as Object]
    }
    static var forbiddenWorkspace: Object { errorRef("The caller is not a workspace admin (`forbidden`, `details.required` names the role), or a cookie write that is not same-origin (`cross_site_request`).") }
    static var forbiddenProject: Object { errorRef("The caller's project roles do not allow this (`forbidden`, `details.required` names the roles that would), or a cookie write that is not same-origin (`cross_site_request`).") }
    static var badBody: Object { errorRef("A field is missing or malformed (`invalid_body`, `details.field` names it).") }

    static var accessPaths: Object {
        [
            "/v1/users": [
                "post": authed([
                    "operationId": "createUser", "tags": ["access"], "summary": "Add a user to the workspace (workspace admins).",
                    "requestBody": body("UserCreate"),
                    "responses": ["201": jsonResponse("The new user.", ref("User"), links: ["getUser": link("getUser", id: "$response.body#/id")]),
                                  "403": forbiddenWorkspace, "409": errorRef("A user with that email exists (`user_exists`)."), "422": badBody],
                ]),
                "get": authed([
                    "operationId": "listUsers", "tags": ["access"], "summary": "The workspace's users, by email.",
                    "parameters": pageParams, "responses": ["200": jsonResponse("A page of users.", ref("UserPage"))],
                ], codes: ["400"]),
            ],
            "/v1/users/{id}": [
                "parameters": [idParam("id", "A user id.")],
                "get": authed(["operationId": "getUser", "tags": ["access"], "summary": "A user.",
                               "responses": ["200": jsonResponse("The user.", ref("User")), "404": errorRef("No such user in this workspace (`not_found`).")]]),
                "patch": authed(["operationId": "updateUser", "tags": ["access"], "summary": "Change a user's name or workspace role (workspace admins).",
                                 "requestBody": body("UserUpdate"),
                                 "responses": ["200": jsonResponse("The user.", ref("User")), "403": forbiddenWorkspace,
                                               "404": errorRef("No such user (`not_found`)."), "422": badBody]]),
                "delete": authed(["operationId": "deleteUser", "tags": ["access"],
                                  "summary": "Delete a user with its keys, group memberships and collaborations (workspace admins).",
                                  "responses": ["204": ["description": "Deleted."] as Object, "403": forbiddenWorkspace,
                                                "404": errorRef("No such user (`not_found`)."),
                                                "409": errorRef("The user is the last direct ADMIN of a project (`last_admin`).")]]),
            ],
            "/v1/groups": [
                "post": authed([
                    "operationId": "createGroup", "tags": ["access"], "summary": "Create a user group (workspace admins).",
                    "requestBody": body("GroupCreate"),
                    "responses": ["201": jsonResponse("The new group.", ref("Group"), links: ["getGroup": link("getGroup", id: "$response.body#/id")]),
                                  "403": forbiddenWorkspace, "409": errorRef("A group of that name exists (`group_exists`)."), "422": badBody],
                ]),
                "get": authed(["operationId": "listGroups", "tags": ["access"], "summary": "The workspace's groups, by name.",
                               "parameters": pageParams, "responses": ["200": jsonResponse("A page of groups.", ref("GroupPage"))]], codes: ["400"]),
            ],
            "/v1/groups/{id}": [
                "parameters": [idParam("id", "A group id.")],
                "get": authed(["operationId": "getGroup", "tags": ["access"], "summary": "A group and its members.",
                               "responses": ["200": jsonResponse("The group.", ref("GroupWithMembers")), "404": errorRef("No such group (`not_found`).")]]),
                "patch": authed(["operationId": "updateGroup", "tags": ["access"], "summary": "Rename a group or change its description (workspace admins).",
                                 "requestBody": body("GroupUpdate"),
                                 "responses": ["200": jsonResponse("The group.", ref("GroupWithMembers")), "403": forbiddenWorkspace,
                                               "404": errorRef("No such group (`not_found`)."), "409": errorRef("A group of that name exists (`group_exists`)."),
                                               "422": badBody]]),
                "delete": authed(["operationId": "deleteGroup", "tags": ["access"], "summary": "Delete a group; the project roles it granted go with it (workspace admins).",
                                  "responses": ["204": ["description": "Deleted."] as Object, "403": forbiddenWorkspace, "404": errorRef("No such group (`not_found`).")]]),
            ],
            "/v1/groups/{id}/members": [
                "parameters": [idParam("id", "A group id.")],
                "post": authed(["operationId": "addGroupMember", "tags": ["access"], "summary": "Add a user (by email) to a group (workspace admins; idempotent).",
                                "requestBody": body("GroupMemberAdd"),
                                "responses": ["200": jsonResponse("The group.", ref("GroupWithMembers")), "403": forbiddenWorkspace,
                                              "404": errorRef("No such group, or no user with that email (`not_found`, `details.field`)."), "422": badBody]]),
            ],
            "/v1/groups/{id}/members/{userId}": [
                "parameters": [idParam("id", "A group id."), idParam("userId", "A user id.")],
                "delete": authed(["operationId": "removeGroupMember", "tags": ["access"], "summary": "Remove a user from a group (workspace admins).",
                                  "responses": ["204": ["description": "Removed."] as Object, "403": forbiddenWorkspace,
                                                "404": errorRef("No such group, or the user is not in it (`not_found`).")]]),
            ],
            "/v1/tags": [
                "post": authed(["operationId": "createTag", "tags": ["access"], "summary": "Add a tag to the workspace's project tags (workspace admins).",
                                "requestBody": body("TagCreate"),
                                "responses": ["201": jsonResponse("The tag.", ref("Tag")), "403": forbiddenWorkspace,
                                              "409": errorRef("The tag exists (`tag_exists`)."), "422": badBody]]),
                "get": authed(["operationId": "listTags", "tags": ["access"], "summary": "The workspace's project tags, by name (one page).",
                               "responses": ["200": jsonResponse("Every tag.", ref("TagPage"))]]),
            ],
            "/v1/tags/{name}": [
                "parameters": [["name": "name", "in": "path", "required": true, "description": "A tag.", "schema": ["type": "string", "maxLength": 64] as Object] as Object],
                "delete": authed(["operationId": "deleteTag", "tags": ["access"], "summary": "Delete a tag; projects lose it (workspace admins).",
                                  "responses": ["204": ["description": "Deleted."] as Object, "403": forbiddenWorkspace, "404": errorRef("No such tag (`not_found`).")]]),
            ],
            "/v1/projects": [
                "post": authed([
                    "operationId": "createProject", "tags": ["projects"],
                    "summary": "Create a project (any workspace user; only a title is required). A user caller becomes its ADMIN; without a workflow it gets the default graph.",
                    "requestBody": body("ProjectCreate"),
                    "responses": ["201": jsonResponse("The new project.", ref("Project"), links: [
                        "getProject": link("getProject", id: "$response.body#/id"), "listProjectMembers": link("listProjectMembers", id: "$response.body#/id"),
                        "getMyProjectAccess": link("getMyProjectAccess", id: "$response.body#/id")]),
                                  "404": errorRef("`ontologyId` or a `datasetIds` entry is not this workspace's (`not_found`, `details.field` names it)."),
                                  "422": errorRef("A malformed field (`invalid_body`), a tag not in the workspace's list (`unknown_tag`), both `workflow` and `workflowTemplateId` (`invalid_body`), a `workflowTemplateId` that names no template of the workspace (`not_found`, `details.field`), or an invalid `workflow` (`invalid_workflow`).")],
                ]),
                "get": authed(["operationId": "listProjects", "tags": ["projects"],
                               "summary": "Projects by title: all of them for workspace admins, the ones a member collaborates on (directly or through a group) otherwise.",
                               "parameters": pageParams, "responses": ["200": jsonResponse("A page of projects.", ref("ProjectPage"))]], codes: ["400"]),
            ],
            "/v1/projects/{id}": [
                "parameters": [idParam("id", "A project id.")],
                "get": authed(["operationId": "getProject", "tags": ["projects"], "summary": "A project (permission view: every role).",
                               "responses": ["200": jsonResponse("The project.", ref("Project")), "403": forbiddenProject,
                                             "404": errorRef("No such project in this workspace (`not_found`).")]]),
                "patch": authed(["operationId": "updateProject", "tags": ["projects"],
                                 "summary": "Change the title, description, tags or ontology (permission administer: ADMIN).",
                                 "requestBody": body("ProjectUpdate"),
                                 "responses": ["200": jsonResponse("The project.", ref("Project")), "403": forbiddenProject,
                                               "404": errorRef("No such project, or `ontologyId` is not this workspace's (`not_found`)."),
                                               "422": errorRef("A malformed field (`invalid_body`) or a tag not in the workspace's list (`unknown_tag`).")]]),
                "delete": authed(["operationId": "deleteProject", "tags": ["projects"], "summary": "Delete a project (administer: ADMIN).",
                                  "responses": ["204": ["description": "Deleted."] as Object, "403": forbiddenProject, "404": errorRef("No such project (`not_found`).")]]),
            ],
            "/v1/projects/{id}/me": [
                "parameters": [idParam("id", "A project id.")],
                "get": authed(["operationId": "getMyProjectAccess", "tags": ["projects"],
                               "summary": "The caller's effective roles and permissions on the project (any workspace user; empty for a non-collaborator).",
                               "responses": ["200": jsonResponse("What the caller may do.", ref("ProjectAccess")), "404": errorRef("No such project (`not_found`).")]]),
            ],
            "/v1/projects/{id}/datasets": [
                "parameters": [idParam("id", "A project id.")],
                "post": authed(["operationId": "attachProjectDatasets", "tags": ["projects"], "summary": "Attach datasets (administer: ADMIN; already attached ones stay).",
                                "requestBody": body("DatasetIdList"),
                                "responses": ["200": jsonResponse("The project.", ref("Project")), "403": forbiddenProject,
                                              "404": errorRef("No such project, or a dataset not of this workspace (`not_found`)."), "422": badBody]]),
            ],
            "/v1/projects/{id}/datasets/{datasetId}": [
                "parameters": [idParam("id", "A project id."), idParam("datasetId", "A dataset id.")],
                "delete": authed(["operationId": "detachProjectDataset", "tags": ["projects"], "summary": "Detach a dataset (administer: ADMIN).",
                                  "responses": ["204": ["description": "Detached."] as Object, "403": forbiddenProject,
                                                "404": errorRef("No such project, or the dataset is not attached (`not_found`).")]]),
            ],
            "/v1/projects/{id}/members": [
                "parameters": [idParam("id", "A project id.")],
                "post": authed(["operationId": "addProjectMember", "tags": ["projects"],
                                "summary": "Add a collaborator, a user (`email`) or a group (`groupId`), with a role (manageMembers: ADMIN, TEAM_MANAGER; an ADMIN role needs administer).",
                                "requestBody": body("MemberCreate"),
                                "responses": ["201": jsonResponse("The collaborator.", ref("Member")), "403": forbiddenProject,
                                              "404": errorRef("No such project, user (`email`) or group (`groupId`) in this workspace (`not_found`, `details.field`)."),
                                              "409": errorRef("Already a collaborator (`member_exists`)."),
                                              "422": errorRef("A malformed field or an unknown role (`invalid_body`, `details.field`; `details.allowed` lists the roles).")]]),
                "get": authed(["operationId": "listProjectMembers", "tags": ["projects"], "summary": "The collaborators: users by email, then groups by name (view).",
                               "responses": ["200": jsonResponse("Every collaborator.", ref("MemberPage")), "403": forbiddenProject,
                                             "404": errorRef("No such project (`not_found`).")]]),
            ],
            "/v1/projects/{id}/members/{memberId}": [
                "parameters": [idParam("id", "A project id."), idParam("memberId", "A collaborator id (from the members list).")],
                "patch": authed(["operationId": "updateProjectMember", "tags": ["projects"],
                                 "summary": "Change a collaborator's role (manageMembers; to or from ADMIN needs administer).",
                                 "requestBody": body("MemberUpdate"),
                                 "responses": ["200": jsonResponse("The collaborator.", ref("Member")), "403": forbiddenProject,
                                               "404": errorRef("No such project or collaborator (`not_found`)."),
                                               "409": errorRef("The project's last direct ADMIN cannot be demoted (`last_admin`)."),
                                               "422": errorRef("An unknown role (`invalid_body`).")]]),
                "delete": authed(["operationId": "removeProjectMember", "tags": ["projects"],
                                  "summary": "Remove a collaborator (manageMembers; an ADMIN needs administer).",
                                  "responses": ["204": ["description": "Removed."] as Object, "403": forbiddenProject,
                                                "404": errorRef("No such project or collaborator (`not_found`)."),
                                                "409": errorRef("The project's last direct ADMIN cannot be removed (`last_admin`).")]]),
            ],
        ]
    }

    static var nullableString: Object { ["type": ["string", "null"]] }
    static var nullableUUID: Object { ["type": ["string", "null"], "format": "uuid"] }
    static var roleSchema: Object {
        ["description": "A project role, by name or Encord's integer (ADMIN=0, ANNOTATOR=1, REVIEWER=2, ANNOTATOR_REVIEWER=3, TEAM_MANAGER=4, VIEWER=5).",
         "oneOf": [["type": "string", "enum": ProjectRoleNames.all] as Object, ["type": "integer", "minimum": 0, "maximum": 5] as Object]]
    }

    static var accessSchemas: Object {
        let text: Object = ["type": "string", "minLength": 1, "maxLength": 255]
        let description: Object = ["type": ["string", "null"], "maxLength": 10_000]
        return [
            "User": object(["id": uuid, "email": ["type": "string"] as Object, "name": nullableString,
                            "role": ["type": "string", "enum": ["admin", "member"]] as Object, "createdAt": timestamp]),
            "UserPage": page(of: "User", description: "A page of users."),
            "UserCreate": object(["email": ["type": "string", "maxLength": 254] as Object, "name": ["type": ["string", "null"], "maxLength": 255] as Object,
                                  "role": ["type": "string", "enum": ["admin", "member"]] as Object], required: ["email"], additional: true),
            "UserUpdate": object(["name": ["type": ["string", "null"], "maxLength": 255] as Object,
                                  "role": ["type": "string", "enum": ["admin", "member"]] as Object], required: [], additional: true),
            "Group": object(["id": uuid, "name": ["type": "string"] as Object, "description": nullableString, "createdAt": timestamp, "memberCount": count]),
            "GroupWithMembers": object(["id": uuid, "name": ["type": "string"] as Object, "description": nullableString, "createdAt": timestamp,
                                        "memberCount": count,
                                        "members": ["type": "array", "items": object(["userId": uuid, "email": ["type": "string"] as Object,
                                                                                       "name": nullableString, "addedAt": timestamp])] as Object]),
            "GroupPage": page(of: "Group", description: "A page of groups."),
            "GroupCreate": object(["name": text, "description": description], required: ["name"], additional: true),
            "GroupUpdate": object(["name": text, "description": description], required: [], additional: true),
            "GroupMemberAdd": object(["email": ["type": "string", "maxLength": 254] as Object], additional: true),
            "Tag": object(["name": ["type": "string"] as Object, "createdAt": timestamp]),
            "TagPage": page(of: "Tag", description: "Every tag (nextCursor is always null)."),
            "TagCreate": object(["name": ["type": "string", "minLength": 1, "maxLength": 64] as Object], additional: true),
            "Workflow": ["type": "object", "required": ["graphNodes"],
                         "properties": ["graphNodes": ["type": "array", "items": ["type": "object"] as Object] as Object] as Object,
                         "description": "The workflow graph (annotation-spec §3 graph form). Default: Start → Annotate → Review (`toNode` → Complete, `rejectedToNode` → Annotate). An inline graph is checked by the workflow rules (docs/workflows.md) and stored normalised."] as Object,
            "Project": object([
                "id": uuid, "title": ["type": "string"] as Object, "description": nullableString,
                "tags": ["type": "array", "items": ["type": "string"]] as Object, "ontologyId": nullableUUID,
                "datasetIds": ["type": "array", "items": uuid] as Object, "workflow": ref("Workflow"), "createdBy": nullableUUID,
                "createdAt": timestamp, "updatedAt": timestamp,
                "memberCount": ["type": "integer", "minimum": 0, "description": "Users collaborating directly."] as Object,
                "groupCount": ["type": "integer", "minimum": 0, "description": "Groups collaborating."] as Object,
                "taskJobIds": ["type": "array", "items": uuid,
                               "description": "Create and attach only: the task-create jobs started, one per newly attached dataset with data units (GET /v1/jobs/{id})."] as Object,
            ], required: ["id", "title", "description", "tags", "ontologyId", "datasetIds", "workflow", "createdBy", "createdAt", "updatedAt",
                          "memberCount", "groupCount"]),
            "ProjectPage": page(of: "Project", description: "A page of projects."),
            "ProjectCreate": object([
                "title": text, "description": description,
                "tags": ["type": "array", "items": ["type": "string"], "maxItems": 100, "description": "From the workspace's tags (GET /v1/tags)."] as Object,
                "ontologyId": ["type": ["string", "null"], "maxLength": 64] as Object,
                "datasetIds": ["type": "array", "items": ["type": "string"], "maxItems": 1000] as Object,
                "workflow": ref("Workflow"),
                "workflowTemplateId": ["type": ["string", "null"], "description": "Start from this workflow template (GET /v1/workflow-templates): its graph copied with fresh uuids. Not with `workflow`."] as Object,
            ], required: ["title"], additional: true),
            "ProjectUpdate": object([
                "title": text, "description": description,
                "tags": ["type": "array", "items": ["type": "string"], "maxItems": 100, "description": "Replaces the project's tags."] as Object,
                "ontologyId": ["type": ["string", "null"], "maxLength": 64, "description": "Switch the ontology; null detaches it."] as Object,
            ], required: [], additional: true),
            "ProjectAccess": object([
                "projectId": uuid, "userId": nullableUUID, "email": nullableString, "workspaceRole": ["type": "string", "enum": ["admin", "member"]] as Object,
                "roles": ["type": "array", "items": ["type": "string", "enum": ProjectRoleNames.all]] as Object,
                "permissions": ["type": "array", "items": ["type": "string", "enum": ProjectRoleNames.permissions]] as Object,
            ]),
            "DatasetIdList": object(["datasetIds": ["type": "array", "items": ["type": "string"], "minItems": 1, "maxItems": 1000] as Object], additional: true),
            "Member": object([
                "id": uuid, "role": ["type": "string", "enum": ProjectRoleNames.all] as Object, "userId": nullableUUID, "email": nullableString,
                "groupId": nullableUUID, "groupName": nullableString, "addedAt": timestamp,
            ]),
            "MemberPage": page(of: "Member", description: "Every collaborator (nextCursor is always null)."),
            "MemberCreate": object(["email": ["type": "string", "maxLength": 254] as Object, "groupId": ["type": "string", "maxLength": 64] as Object,
                                    "role": roleSchema], required: ["role"], additional: true,
                                   description: "Exactly one of `email` and `groupId`."),
            "MemberUpdate": object(["role": roleSchema], additional: true),
        ]
    }
}

/// Role and permission names for the document.
enum ProjectRoleNames {
    static var all: [String] { ProjectRole.allCases.sorted().map(\.rawValue) }
    static var permissions: [String] { ProjectPermission.allCases.map(\.rawValue) }
}
