extension OpenAPIDocument {
    static var ontologyPaths: Object { [:] }
    static var ontologySchemas: Object { [:] }
}
