/// The API's OpenAPI 3.1 document, served at `/v1/openapi.json`.
enum OpenAPIDocument {
    static let json = """
    {"openapi":"3.1.0","info":{"title":"Registrar API","version":"1"},"paths":{}}
    """
}
