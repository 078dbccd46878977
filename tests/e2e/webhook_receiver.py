"""An HTTP receiver on 127.0.0.1 for the webhook tests (e2e and
reliability): records every POST (path, headers, body) and answers from
`script`, a list of (status, headers) consumed in order, then 200. HTTP/1.1
with keep-alive, as senders reuse connections."""
import collections
import http.server
import threading


class Receiver:
    def __init__(self):
        self.requests = []
        self.script = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.requests.append((self.path, dict(self.headers), body))
                    status, headers = outer.script.pop(0) if outer.script else (200, {})
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A sender killed mid-request resets its connection: not our error.
        self.server.handle_error = lambda request, address: None
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def by_key(self):
        """POSTs per Idempotency-Key, and the last body of each key."""
        with self.lock:
            counts = collections.Counter(h.get("Idempotency-Key", "") for _, h, _ in self.requests)
            bodies = {h.get("Idempotency-Key", ""): b for _, h, b in self.requests}
        return counts, bodies

    def close(self):
        self.server.shutdown()
        self.server.server_close()
