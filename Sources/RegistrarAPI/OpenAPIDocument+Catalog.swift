// The catalog's part of the OpenAPI document (issue 12): users, groups and projects
// (`accessPaths`), datasets and jobs (`datasetPaths`), ontologies (`ontologyPaths`). Each lives
// in its own file so the parts can grow independently; `OpenAPIDocument.paths` and `schemas`
// merge them in.
extension OpenAPIDocument {
    /// Every catalog path.
    static var catalogPaths: Object {
        accessPaths.merging(datasetPaths) { a, _ in a }.merging(ontologyPaths) { a, _ in a }.merging(taskPaths) { a, _ in a }.merging(templatePaths) { a, _ in a }.merging(labelPaths) { a, _ in a }.merging(webhookPaths) { a, _ in a }
            .merging(syncPaths) { a, _ in a }
    }

    /// Every catalog schema.
    static var catalogSchemas: Object {
        accessSchemas.merging(datasetSchemas) { a, _ in a }.merging(ontologySchemas) { a, _ in a }.merging(taskSchemas) { a, _ in a }.merging(templateSchemas) { a, _ in a }.merging(labelSchemas) { a, _ in a }.merging(webhookSchemas) { a, _ in a }
            .merging(syncSchemas) { a, _ in a }
    }
}
