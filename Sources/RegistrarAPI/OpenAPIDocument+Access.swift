extension OpenAPIDocument {
    static var accessPaths: Object { [:] }
    static var accessSchemas: Object { [:] }
}
