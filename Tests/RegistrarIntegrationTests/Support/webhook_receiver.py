"""A webhook receiver for WebhookLiveTests: verifies each delivery's signature the way
docs/workflows.md tells receivers to (hex HMAC-SHA256(secret, "{timestamp}." + raw body),
timestamp within 300 s), logs one JSON line per delivery, answers 204 (valid) or 401.

usage: webhook_receiver.py PORT SECRETS_JSON LOG   (SECRETS_JSON maps a URL path to its secret)
"""
import hashlib, hmac, json, sys, time
from http.server import HTTPServer, BaseHTTPRequestHandler

port, secrets_path, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(secrets_path) as f:
            secret = json.load(f).get(self.path, "")
        ts = self.headers.get("X-Encord-Timestamp", "")
        sig = self.headers.get("X-Encord-Signature", "")
        expected = hmac.new(secret.encode(), (ts + ".").encode() + body, hashlib.sha256).hexdigest()
        fresh = ts.isdigit() and abs(time.time() - int(ts)) <= 300
        valid = bool(secret) and fresh and hmac.compare_digest(expected, sig)
        try:
            event = json.loads(body)
        except ValueError:
            event = {}
        with open(log_path, "a") as f:
            f.write(json.dumps({"path": self.path, "valid": valid, "uid": event.get("uid"),
                                "event_type": event.get("event_type"), "body": body.decode("utf-8", "replace")}) + "\n")
        self.send_response(204 if valid else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
