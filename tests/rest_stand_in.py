"""A local HTTP stand-in for TF Serving's REST API, for the client tests: every POST body is
handed to `respond(path, body)`, which returns (HTTP status, JSON answer)."""
from __future__ import annotations

import http.server
import json
import threading


def start(respond) -> http.server.ThreadingHTTPServer:
    """Serves on 127.0.0.1 (a free port: `server.server_address[1]`) in a daemon thread; the
    caller shuts it down (`server.shutdown(); server.server_close()`)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the http.server method name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, answer = respond(self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
