import RegistrarCore

// The ontologies' part of the OpenAPI document (`OntologyRoutes`, `PostgresRegistry+Ontologies`;
// docs/ontologies.md).
extension OpenAPIDocument {
    static var ontologyIDParameter: Object {
        ["name": "id", "in": "path", "required": true, "description": "An ontology id.", "schema": ["type": "string", "format": "uuid"]] as Object
    }

    static var ontologyPaths: Object {
        [
            "/v1/ontologies": [
                "post": authed([
                    "operationId": "createOntology", "tags": ["ontologies"], "summary": "Create an ontology.",
                    "description": """
                        Any workspace user may create one. The structure is Encord's `OntologyStructure.to_dict()` JSON; \
                        it is checked against every rule (docs/ontologies.md), missing `featureNodeHash`es, ids and \
                        colours are minted, defaults filled, and the result stored and answered in `to_dict()` key order.
                        """,
                    "requestBody": ["required": true, "content": ["application/json": ["schema": ref("OntologyCreate")]]] as Object,
                    "responses": [
                        "201": jsonResponse("The new ontology.", ref("Ontology"), links: [
                            "getOntology": link("getOntology", id: "$response.body#/id"),
                            "updateOntology": link("updateOntology", id: "$response.body#/id"),
                            "deleteOntology": link("deleteOntology", id: "$response.body#/id"),
                        ]),
                        "422": errorRef("""
                            The body is not `{"title", "description"?, "structure"}` (`invalid_body`, `details.field` names the field), \
                            or the structure breaks rules (`invalid_structure`: `details.errors` lists each as `{path, message}`).
                            """),
                    ],
                ]),
                "get": authed([
                    "operationId": "listOntologies", "tags": ["ontologies"], "summary": "The workspace's ontologies, oldest first (without their structures).",
                    "parameters": [param("limit"), [
                        "name": "cursor", "in": "query", "required": false,
                        "description": "`nextCursor` of the previous page (an opaque token).", "schema": cursorSchema,
                    ] as Object],
                    "responses": [
                        "200": jsonResponse("A page of ontologies.", ref("OntologyPage"), links: [
                            "getOntology": link("getOntology", id: "$response.body#/items/0/id"),
                        ]),
                    ],
                ], codes: ["400"]),
            ],
            "/v1/ontologies/{id}": [
                "parameters": [ontologyIDParameter],
                "get": authed([
                    "operationId": "getOntology", "tags": ["ontologies"], "summary": "An ontology, its structure exactly as stored.",
                    "responses": [
                        "200": jsonResponse("The ontology.", ref("Ontology")),
                        "404": errorRef("No such ontology in this workspace (`not_found`)."),
                    ],
                ]),
                "put": authed([
                    "operationId": "updateOntology", "tags": ["ontologies"], "summary": "Change an ontology's title, description or structure.",
                    "description": """
                        For its creator or a workspace admin. Fields left out keep their value; the version rises by one. \
                        While a project uses the ontology, a structure that removes a feature (a `featureNodeHash`) or changes \
                        its kind, shape or attribute type is refused (`feature_in_use`): set `"archived": true` instead.
                        """,
                    "requestBody": ["required": true, "content": ["application/json": ["schema": ref("OntologyUpdate")]]] as Object,
                    "responses": [
                        "200": jsonResponse("The ontology as changed.", ref("Ontology")),
                        "403": errorRef("The caller is neither the ontology's creator nor a workspace admin (`forbidden`), or a cookie-authenticated write is cross-site (`cross_site_request`)."),
                        "404": errorRef("No such ontology in this workspace (`not_found`)."),
                        "409": errorRef("""
                            Projects use the ontology and the edit removes or retypes features (`feature_in_use`: `details.errors` \
                            names each by path, `details.projectIds` the projects), or it changed meanwhile (`conflict`).
                            """),
                        "422": errorRef("A bad body (`invalid_body`) or structure (`invalid_structure`, `details.errors`)."),
                    ],
                ]),
                "delete": authed([
                    "operationId": "deleteOntology", "tags": ["ontologies"], "summary": "Delete an ontology no project uses.",
                    "responses": [
                        "204": ["description": "Deleted."] as Object,
                        "403": errorRef("The caller is neither the ontology's creator nor a workspace admin (`forbidden`), or a cookie-authenticated write is cross-site (`cross_site_request`)."),
                        "404": errorRef("No such ontology in this workspace (`not_found`)."),
                        "409": errorRef("Projects use it (`ontology_in_use`; `details.projectIds` lists them)."),
                    ],
                ]),
            ],
        ]
    }

    static var ontologySchemas: Object {
        let title: Object = ["type": "string", "minLength": 1, "maxLength": 255,
                             "description": "1 to 255 characters, no control characters; surrounding white space is removed."]
        let description: Object = ["type": ["string", "null"], "maxLength": 10000]
        let structureInput: Object = [
            "type": "object", "required": ["objects", "classifications"],
            "description": "Encord's ontology structure; ids, `featureNodeHash`es, colours and flags may be left out (minted or defaulted). See docs/ontologies.md for every rule.",
            "properties": [
                "objects": ["type": "array", "items": ["type": "object"]] as Object,
                "classifications": ["type": "array", "items": ["type": "object"]] as Object,
                "skeleton_templates": ["type": ["array", "null"], "items": ["type": "object"], "description": "Optional; null is the same as left out."] as Object,
            ] as Object,
        ]
        let flag: Object = ["type": "boolean"]
        let str: Object = ["type": "string"]
        let objectSchema: Object = [
            "type": "object", "required": ["id", "name", "color", "shape", "featureNodeHash", "required", "archived"],
            "properties": [
                "id": ["type": "string", "pattern": "^[1-9][0-9]*$"] as Object, "name": str,
                "color": ["type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"] as Object,
                "shape": ["type": "string", "enum": OntologyStructure.shapes] as Object, "featureNodeHash": str,
                "required": flag, "archived": flag, "attributes": ["type": "array", "items": ["type": "object"]] as Object,
            ] as Object,
        ]
        let classificationSchema: Object = [
            "type": "object", "required": ["id", "featureNodeHash", "attributes"],
            "properties": [
                "id": ["type": "string", "pattern": "^[1-9][0-9]*$"] as Object, "featureNodeHash": str,
                "level": ["type": "string", "enum": ["global"]] as Object,
                "attributes": ["type": "array", "minItems": 1, "items": ["type": "object"]] as Object,
            ] as Object,
        ]
        return [
            "OntologyCreate": ["type": "object", "required": ["title", "structure"],
                               "properties": ["title": title, "description": description, "structure": structureInput] as Object] as Object,
            "OntologyUpdate": ["type": "object", "description": "At least one field; those left out keep their value.",
                               "properties": ["title": title, "description": description, "structure": structureInput] as Object] as Object,
            "OntologyStructure": [
                "type": "object", "required": ["objects", "classifications", "skeleton_templates"],
                "description": "As Encord's `OntologyStructure.to_dict()`, keys in its order.",
                "properties": [
                    "objects": ["type": "array", "items": objectSchema] as Object,
                    "classifications": ["type": "array", "items": classificationSchema] as Object,
                    "skeleton_templates": ["type": "array", "items": ["type": "object", "required": ["template"]] as Object] as Object,
                ] as Object,
            ] as Object,
            "Ontology": object([
                "id": uuid, "title": str, "description": ["type": ["string", "null"]] as Object, "structure": ref("OntologyStructure"),
                "version": ["type": "integer", "minimum": 1] as Object, "createdAt": timestamp, "updatedAt": timestamp,
                "createdBy": ["type": ["string", "null"], "format": "uuid", "description": "The creating user; null for a service key."] as Object,
            ]),
            "OntologySummary": object([
                "id": uuid, "title": str, "description": ["type": ["string", "null"]] as Object,
                "version": ["type": "integer", "minimum": 1] as Object, "objectCount": count, "classificationCount": count,
                "createdAt": timestamp, "updatedAt": timestamp, "createdBy": ["type": ["string", "null"], "format": "uuid"] as Object,
            ]),
            "OntologyPage": page(of: "OntologySummary", description: "A page of ontologies."),
        ]
    }
}
