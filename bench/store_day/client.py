"""A small HTTP client for the store day: one keep-alive connection, a signed-in session (cookie + CSRF token),
JSON in and out, and retries of one request under one idempotency key across server crashes."""
import http.client
import json
import random
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

RETRYABLE = (OSError, http.client.HTTPException)


@dataclass
class Reply:
    status: int
    body: object
    seconds: float
    attempts: int = 1
    location: str = ""  # the Location header of a redirect

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Unavailable(Exception):
    """The server did not answer (connection refused or dropped) within the retry deadline."""


class Client:
    """`source` is the local address to connect from (another loopback address: a different phone's network)."""

    def __init__(self, host: str, port: int, timeout: float = 30, source: str | None = None):
        self.host, self.port, self.timeout = host, port, timeout
        self.source = (source, 0) if source else None
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    # --- plumbing -----------------------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                                   source_address=self.source)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def raw(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
        """One attempt. Raises OSError / HTTPException when the connection fails."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method not in ("GET", "HEAD") and "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        started = time.perf_counter()
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except RETRYABLE:
            self.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        elapsed = time.perf_counter() - started
        content_type = response.getheader("Content-Type", "")
        parsed: object = data
        if content_type.startswith("application/json"):
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = data
        return Reply(response.status, parsed, elapsed, location=response.getheader("Location", ""))

    def call(self, method: str, path: str, payload=None, *, key: str | None = None, retry_for: float = 0,
             retry_statuses=(502, 503, 504)) -> Reply:
        """A JSON request. With `retry_for` > 0, a dropped connection, a refused one or a 5xx is retried with the
        same body and the same `Idempotency-Key` until an answer comes or the time is up (then Unavailable)."""
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if key:
            headers["Idempotency-Key"] = key
        return self.retrying(method, path, body, headers, retry_for=retry_for, retry_statuses=retry_statuses)

    def form(self, path: str, fields: dict | None = None, *, retry_for: float = 0) -> Reply:
        """A page: GET without fields, else a form POST with the CSRF token; retried like `call` (a page answer is
        HTML: its status says what happened)."""
        if fields is None:
            return self.retrying("GET", path, None, {}, retry_for=retry_for)
        body = urlencode({**fields, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}, doseq=True).encode()
        return self.retrying("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"},
                             retry_for=retry_for)

    def retrying(self, method: str, path: str, body: bytes | None, headers: dict, *, retry_for: float = 0,
                 retry_statuses=(502, 503, 504)) -> Reply:
        """One request, sent again as it is on a dropped or refused connection or a 5xx until `retry_for` is up."""
        deadline = time.monotonic() + retry_for
        attempts = 0
        started = time.perf_counter()
        while True:
            attempts += 1
            try:
                reply = self.raw(method, path, body, headers)
                if not retry_for or (reply.status < 500 and reply.status not in retry_statuses):
                    reply.attempts, reply.seconds = attempts, time.perf_counter() - started
                    return reply
            except RETRYABLE as exc:
                if not retry_for:
                    raise Unavailable(str(exc)) from exc
            if time.monotonic() > deadline:
                raise Unavailable(f"{method} {path}: no answer after {attempts} attempts")
            time.sleep(min(1.0, 0.1 * attempts) + random.random() * 0.1)

    def login(self, username: str, password: str, retry_for: float = 30) -> None:
        deadline = time.monotonic() + retry_for
        while True:
            try:
                self.raw("GET", "/login/")
                form = urlencode({"username": username, "password": password,
                                  "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}).encode()
                reply = self.raw("POST", "/login/", form, {"Content-Type": "application/x-www-form-urlencoded"})
                if reply.status == 302 and "sessionid" in self.cookies:
                    return
                raise RuntimeError(f"sign-in of {username} failed: {reply.status}")
            except RETRYABLE:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
