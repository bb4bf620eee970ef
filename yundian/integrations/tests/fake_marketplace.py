"""A local fake marketplace (http.server in a thread) speaking the reference adapter's protocol: it serves the
orders a test puts in, in pages after a cursor, and keeps what it is told (stock, prices, statuses)."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeMarketplace:
    def __init__(self, api_key: str = "secret"):
        self.api_key = api_key
        self.orders: list[dict] = []  # the feed: a changed order is appended again
        self.stock: dict[str, int] = {}
        self.prices: dict[str, int] = {}
        self.statuses: list[tuple[str, str]] = []
        self.fail = False
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _authorised(self) -> bool:
                if fake.fail:
                    self._answer(503, {"error": "down"})
                    return False
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    self._answer(401, {"error": "unauthorised"})
                    return False
                return True

            def do_GET(self):
                if not self._authorised():
                    return
                url = urlparse(self.path)
                after = int((parse_qs(url.query).get("after") or ["0"])[0] or 0)
                with fake.lock:
                    page = fake.orders[after:after + 50]
                self._answer(200, {"orders": page, "cursor": str(after + len(page))})

            def do_POST(self):
                if not self._authorised():
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                with fake.lock:
                    if self.path == "/stock":
                        fake.stock.update({i["sku"]: i["available"] for i in body["items"]})
                    elif self.path == "/prices":
                        fake.prices.update({i["sku"]: i["price"] for i in body["items"]})
                    elif self.path.startswith("/orders/") and self.path.endswith("/status"):
                        fake.statuses.append((self.path.split("/")[2], body["status"]))
                    else:
                        return self._answer(404, {"error": "not found"})
                self._answer(200, {"ok": True})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def order(self, order_id: str, lines: list[tuple[str, int]], status: str = "paid") -> None:
        with self.lock:
            self.orders.append({"id": order_id, "status": status, "total": 0, "buyer": "买家",
                                "address": {"city": "杭州", "line": "文三路 1 号"},
                                "lines": [{"sku": sku, "quantity": q, "price": 100} for sku, q in lines]})

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
