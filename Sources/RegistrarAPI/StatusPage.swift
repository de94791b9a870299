import Hummingbird

/// The status page for people at `/`.
struct StatusPage {
    let pool: BlockingPool
    let auth: AuthMiddleware

    func register(on router: Router<APIContext>) {
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: "<!doctype html><title>Registrar</title><h1>Registrar</h1>")))
        }
    }
}
