import Foundation
import Testing

/// GCS through a `gcp` integration with a service-account key, end to end: real `registrar`
/// processes exchange an RS256-signed JWT at the key file's `token_uri` for an access token and read
/// a private bucket with `Authorization: Bearer`. Both ends are one small Python server on loopback
/// (embedded below): the token endpoint verifies the JWT with the account's public key and checks
/// `iss`/`aud`/`scope`/`iat`/`exp`; the storage endpoint serves objects path-style, only to the
/// token it issued. The integration's `endpoint` setting points object reads at it.
extension LiveServers {
    @Suite(.serialized) struct GCPTokenExchangeTests {
        static let keyRing = "gcp1:" + Data(repeating: 9, count: 32).base64EncodedString()

        final class FakeGCS {
            let process = Process()
            let stdin = Pipe()
            let port: Int
            var endpoint: String { "http://127.0.0.1:\(port)" }

            init(workDir: URL, bucket: String, objects: [String: URL]) throws {
                let script = workDir.appendingPathComponent("fake_gcs.py")
                try Data(GCPTokenExchangeTests.server.utf8).write(to: script)
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["python3", script.path, workDir.path, bucket] + objects.map { "\($0.key)=\($0.value.path)" }
                let out = Pipe()
                process.standardInput = stdin
                process.standardOutput = out
                let log = workDir.appendingPathComponent("fake_gcs.log")
                FileManager.default.createFile(atPath: log.path, contents: nil)
                process.standardError = try FileHandle(forWritingTo: log)
                try process.run()
                var line = Data()
                let deadline = Date().addingTimeInterval(30)
                while !line.contains(UInt8(ascii: "\n")) {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty || Date() > deadline {
                        throw PipelineHarness.HarnessError("the fake GCS server did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
                    }
                    line.append(chunk)
                }
                let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard text.hasPrefix("PORT "), let p = Int(text.dropFirst(5)) else { throw PipelineHarness.HarnessError("fake GCS said '\(text)'") }
                port = p
            }

            deinit {
                try? stdin.fileHandleForWriting.close()  // the server exits on EOF
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }

            func stats() throws -> [String: Any] {
                let text = try MotoServer.output(["/usr/bin/curl", "-s", "\(endpoint)/stats"])
                return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            }

            func stat(_ name: String) throws -> Int { try stats()[name] as? Int ?? -1 }
        }

        @Test func serviceAccountTokenExchangeRegistersAPrivateBucket() throws {
            let h = try PipelineHarness()
            defer { h.stopAll() }
            let png = h.workDir.appendingPathComponent("photo.png")
            try Data(try MediaSamples.bytes("images/png-gray16.png")).write(to: png)
            let gcs = try FakeGCS(workDir: h.workDir, bucket: "private-gcs", objects: ["media/photo.png": png, "media/other name.png": png])
            let keys = ["REGISTRAR_ENCRYPTION_KEYS": Self.keyRing]
            var cli = ""
            func registrar(_ args: [String]) throws -> PipelineHarness.Run {
                let r = try h.run(args, extraEnv: keys)
                cli += r.stdout + r.stderr
                return r
            }
            let good = h.workDir.appendingPathComponent("sa-good.json").path
            let wrong = h.workDir.appendingPathComponent("sa-wrong.json").path
            let privateKey = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: good))) as? [String: Any])["private_key"] as? String
            let keyBody = try #require(privateKey?.split(separator: "\n").dropFirst().first.map(String.init))

            // The bucket is private: no token, no object; a made-up token, no object.
            let direct = "\(gcs.endpoint)/private-gcs/media/photo.png"
            #expect(try MotoServer.output(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", direct]) == "401")
            #expect(try MotoServer.output(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer ya29.forged", direct]) == "403")

            #expect(try registrar(["integrations", "add", "gcp", "--name", "g", "--from-file", good, "--endpoint", gcs.endpoint]).status == 0)
            #expect(try registrar(["integrations", "add", "gcp", "--name", "g-wrong", "--from-file", wrong, "--endpoint", gcs.endpoint]).status == 0)
            let test = try registrar(["integrations", "test", "g", "gs://private-gcs/media/photo.png", "--json"])
            #expect(test.status == 0, "\(test.stdout) \(test.stderr)")
            #expect(test.stdout.contains(#""bucket":"private-gcs""#), "\(test.stdout)")
            #expect(try gcs.stat("tokens_issued") == 1, "integrations test exchanged the key once")

            try h.startCoordinator(extraEnv: keys)
            try h.startWorker("w1", extraEnv: keys)
            func job(_ integration: String, folder: String? = nil) throws -> [String: Any] {
                let manifest = #"{"images": [{"objectUrl": "\#(direct)"}, {"objectUrl": "gs://private-gcs/media/photo.png"}, "#
                    + #"{"objectUrl": "https://storage.googleapis.com/private-gcs/media/other%20name.png"}, "#
                    + #"{"objectUrl": "gs://private-gcs/media/absent.png"}, {"objectUrl": "https://other.s3.amazonaws.com/x.png"}]}"#
                let path = try h.writeManifest("m-\(integration)-\(UUID().uuidString).json", manifest)
                return try registrar(["submit", path, "--folder", folder ?? "f-\(integration)", "--json", "--ignore-errors", "--wait", "--integration", integration]).json()
            }

            let before = try gcs.stats()
            let ok = try job("g")
            #expect(ok.string("status") == "DONE" && ok.int("done") == 3 && ok.int("errors") == 2, "\(ok)")
            let okID = ok.string("id")
            #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND type = 'image' AND width IS NOT NULL", [okID]) == 3)
            #expect(try h.scalar("SELECT code FROM unit_errors WHERE job_id = $1 AND unit_index = 3", [okID]) == "not_found")
            #expect(try h.scalar("SELECT code FROM unit_errors WHERE job_id = $1 AND unit_index = 4", [okID]) == "wrong_integration")
            // A second job on the same worker rides the cached token: still one exchange in all.
            let again = try job("g", folder: "f-g-again")
            #expect(again.string("status") == "DONE" && again.int("done") == 3, "\(again)")
            let after = try gcs.stats()
            #expect((after["token_requests"] as? Int ?? 0) - (before["token_requests"] as? Int ?? 0) == 1, "one exchange for both jobs (cached): \(after)")
            #expect((after["objects_served"] as? Int ?? 0) - (before["objects_served"] as? Int ?? 0) >= 6, "\(after)")
            #expect(after["objects_refused"] as? Int == before["objects_refused"] as? Int, "every object request carried the issued token")

            // A key the service account does not have: the token endpoint refuses the JWT, every
            // unit of the job is access_denied, and no object request is made without a token.
            let denied = try job("g-wrong")
            let last = try gcs.stats()
            #expect(denied.string("status") == "DONE" && denied.int("done") == 0, "\(denied)")
            let deniedID = denied.string("id")
            let deniedErrors = try h.scalar("SELECT string_agg(code || ': ' || message, ' | ') FROM unit_errors WHERE job_id = $1", [deniedID]) ?? ""
            #expect(try h.count("SELECT count(*) FROM unit_errors WHERE job_id = $1 AND code = 'access_denied' AND unit_index < 4", [deniedID]) == 4,
                    "\(deniedErrors)")
            #expect((last["token_refused"] as? Int ?? 0) >= 1, "\(last)")
            #expect(last["object_requests"] as? Int == after["object_requests"] as? Int, "nothing was read with a refused key")

            // Neither the private key nor an issued token shows anywhere an operator looks.
            h.stopAll()
            let errors = try h.scalar("SELECT coalesce(string_agg(code || ' ' || message, E'\\n'), '') FROM unit_errors") ?? ""
            let seen = cli + h.log("coordinator") + h.log("w1") + errors
            #expect(!seen.contains(keyBody), "the private key leaked")
            for token in last["issued"] as? [String] ?? [] { #expect(!seen.contains(token), "an access token leaked") }
            #expect(!seen.contains("invalid_grant") && !seen.contains("Invalid JWT"), "the token endpoint's error body stays out of messages")
        }

        /// The fake Google: `/token` (RFC 7523 JWT bearer grant) and path-style object GETs.
        static let server = #"""
import base64, json, os, secrets, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

workdir, bucket = sys.argv[1], sys.argv[2]
OBJECTS = {}
for arg in sys.argv[3:]:
    k, _, p = arg.partition("=")
    with open(p, "rb") as f:
        OBJECTS[k] = f.read()
EMAIL = "registrar-it@registrar-it.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
GOOD = rsa.generate_private_key(public_exponent=65537, key_size=2048)
WRONG = rsa.generate_private_key(public_exponent=65537, key_size=2048)
LOCK = threading.Lock()
STATS = {"token_requests": 0, "tokens_issued": 0, "token_refused": 0, "refusals": [],
         "object_requests": 0, "objects_served": 0, "objects_refused": 0, "issued": []}
TOKEN_URI = None


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def refuse(self, why):
        with LOCK:
            STATS["token_refused"] += 1
            STATS["refusals"].append(why)
        self.reply(400, json.dumps({"error": "invalid_grant", "error_description": why}).encode())

    def do_POST(self):
        if self.path != "/token":
            return self.reply(404, b"{}")
        with LOCK:
            STATS["token_requests"] += 1
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return self.refuse("content type")
        form = urllib.parse.parse_qs(body)
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return self.refuse("grant_type")
        try:
            h, c, s = form["assertion"][0].split(".")
            header, claims = json.loads(b64d(h)), json.loads(b64d(c))
            GOOD.public_key().verify(b64d(s), (h + "." + c).encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            return self.refuse("Invalid JWT Signature.")
        now = time.time()
        if header.get("alg") != "RS256" or header.get("typ") != "JWT":
            return self.refuse("header")
        if claims.get("iss") != EMAIL:
            return self.refuse("iss")
        if claims.get("aud") != TOKEN_URI:
            return self.refuse("aud")
        if SCOPE not in str(claims.get("scope", "")).split():
            return self.refuse("scope")
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or abs(iat - now) > 300 or exp <= now or exp - iat > 3600:
            return self.refuse("iat/exp")
        token = "ya29.it-" + secrets.token_urlsafe(32)
        with LOCK:
            STATS["tokens_issued"] += 1
            STATS["issued"].append(token)
        self.reply(200, json.dumps({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}).encode())

    def do_GET(self):
        if self.path == "/stats":
            with LOCK:
                body = json.dumps(STATS).encode()
            return self.reply(200, body)
        with LOCK:
            STATS["object_requests"] += 1
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        auth = self.headers.get("Authorization", "")
        with LOCK:
            valid = auth.startswith("Bearer ") and auth[7:] in STATS["issued"]
            if not valid:
                STATS["objects_refused"] += 1
        if not auth.startswith("Bearer "):
            return self.reply(401, b"<Error><Code>AuthenticationRequired</Code></Error>", "application/xml")
        if not valid:
            return self.reply(403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml")
        prefix = "/" + bucket + "/"
        key = path[len(prefix):] if path.startswith(prefix) else None
        if key not in OBJECTS:
            return self.reply(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
        data = OBJECTS[key]
        with LOCK:
            STATS["objects_served"] += 1
        common = [("ETag", '"gcs-1"'), ("Accept-Ranges", "bytes")]
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            start, end = int(a), min(int(b) if b else len(data) - 1, len(data) - 1)
            if start >= len(data):
                return self.reply(416, b"", "image/png", common + [("Content-Range", "bytes */%d" % len(data))])
            return self.reply(206, data[start:end + 1], "image/png", common + [("Content-Range", "bytes %d-%d/%d" % (start, end, len(data)))])
        return self.reply(200, data, "image/png", common)


def key_file(key, name):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    doc = {"type": "service_account", "project_id": "registrar-it", "private_key_id": secrets.token_hex(20),
           "private_key": pem, "client_email": EMAIL, "client_id": "109876543210987654321",
           "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": TOKEN_URI,
           "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
           "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/registrar-it",
           "universe_domain": "googleapis.com"}
    with open(os.path.join(workdir, name), "w") as f:
        json.dump(doc, f)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", 0), Handler)
TOKEN_URI = "http://127.0.0.1:%d/token" % server.server_address[1]
key_file(GOOD, "sa-good.json")
key_file(WRONG, "sa-wrong.json")
print("PORT %d" % server.server_address[1], flush=True)


def watch_stdin():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


threading.Thread(target=watch_stdin, daemon=True).start()
server.serve_forever()
"""#
    }
}
