"""A real local webhook receiver for the tests, the crash test and the bench: an http.server on a free port in a
thread that verifies each signature with the receiver-side code of docs/webhooks.md, keeps what it got and answers
with the statuses it is told (by default 200). It deduplicates on the event id, as a receiver should."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from yundian.integrations.webhooks_signing import SignatureError, verify


class Receiver:
    def __init__(self, secret: str = "", *, statuses: list[int] | None = None, default: int = 200):
        self.secret = secret
        self.statuses = list(statuses or [])  # answered in order, then `default`
        self.default = default
        self.calls: list[dict] = []  # every request: headers, event id, verified?
        self.events: dict[str, dict] = {}  # event id -> body, first copy only (dedup)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    verify(receiver.secret, self.headers.get("Yundian-Signature", ""), body)
                    verified = True
                except SignatureError:
                    verified = False
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                    event_id = self.headers.get("Yundian-Event-Id", "")
                    receiver.calls.append({"at": time.time(), "event_id": event_id, "type": self.headers.get("Yundian-Event-Type"),
                                           "attempt": self.headers.get("Yundian-Attempt"),
                                           "signature": self.headers.get("Yundian-Signature"),
                                           "verified": verified, "status": status, "body": body})
                    if verified and 200 <= status < 300:
                        receiver.events.setdefault(event_id, json.loads(body))
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"nope")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[str]:
        return [c["event_id"] for c in self.calls]
