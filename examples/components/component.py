"""A remote component for Harmonia in Python 3, standard library only: the same protocol as prometheus.mjs
(API.md "The call"). PORT (default 8030), HOST (default 127.0.0.1), PROMETHEUS_SECRET (when set, every call must
carry a valid X-Harmonia-Signature)."""

import hashlib
import hmac
import json
import os
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "8030"))
HOST = os.environ.get("HOST", "127.0.0.1")
SECRET = os.environ.get("PROMETHEUS_SECRET", "")


def signed(headers, raw):
    """sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>, made within the last 300 s."""
    if not SECRET:
        return True
    timestamp = headers.get("X-Harmonia-Timestamp", "")
    if not re.fullmatch(r"\d+", timestamp) or abs(time.time() - int(timestamp)) > 300:
        return False
    digest = hmac.new(SECRET.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("X-Harmonia-Signature", "").encode(), f"sha256={digest}".encode())


class Handler(BaseHTTPRequestHandler):
    def send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self.send(200, {"status": "healthy"})
        else:
            self.send(404, {"error": {"message": "not found"}})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = re.fullmatch(r"/api/actions/([^/?]+)", self.path)
        if not match:
            return self.send(404, {"error": {"message": "not found"}})
        if not signed(self.headers, raw):
            return self.send(401, {"error": {"message": "bad signature"}})
        if match.group(1) != "analyze_results":
            return self.send(404, {"error": {"message": f"unknown action {match.group(1)}"}})
        try:
            params = json.loads(raw).get("params") or {}
        except (ValueError, AttributeError):
            return self.send(400, {"error": {"message": "the body must be JSON"}})
        data = params.get("data") if isinstance(params, dict) else None
        text = data if isinstance(data, str) else json.dumps(data if data is not None else "", separators=(",", ":"))
        words = len(text.split())
        output = {"analysis": f"{words} word{'' if words == 1 else 's'}", "received": data, "length": len(text)}
        self.send(200, {"output": output})

    def log_message(self, format, *args):
        pass  # stdout carries only the line the tests wait for


server = ThreadingHTTPServer((HOST, PORT), Handler)
print(f"prometheus component listening on http://{HOST}:{server.server_address[1]}", flush=True)
server.serve_forever()
