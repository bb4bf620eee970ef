"""Webhook signatures, Stripe-style: `Yundian-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`.

v1 = HMAC-SHA256(secret, f"{t}.{body}") in hex. During a secret rotation a delivery carries one v1 per valid
secret (the new one first), so a receiver holding either secret verifies it. A receiver rejects a timestamp more
than TOLERANCE away from its clock (a replayed capture is refused). `verify` is the receiver's side, kept here for
the tests and for Python receivers; docs/webhooks.md has the same few lines with nothing but hashlib and hmac.
"""
import hashlib
import hmac
import secrets
import time

HEADER = "Yundian-Signature"
TOLERANCE = 300  # seconds


def secret_new() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets_: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}"] + [f"v1={signature(s, timestamp, body)}" for s in secrets_ if s])


class SignatureError(ValueError):
    pass


def verify(secret: str, header: str, body: bytes, *, tolerance: int = TOLERANCE, now: float | None = None) -> int:
    """The header's timestamp if one v1 signature matches `secret` and the timestamp is fresh; else SignatureError."""
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("malformed signature header")
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise SignatureError("no signature matches")
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    return timestamp
