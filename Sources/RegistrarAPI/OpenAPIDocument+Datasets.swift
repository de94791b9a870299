extension OpenAPIDocument {
    static var datasetPaths: Object { [:] }
    static var datasetSchemas: Object { [:] }
}
