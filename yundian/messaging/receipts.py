"""Delivery receipts from SMS and WeChat gateways: a signed webhook (`POST /api/v1/messaging/receipts/<provider>`,
body `{"receipts": [{"id": <provider message id>, "status": "delivered"|"failed", "error": "..."}]}`, header
`X-Yundian-Signature: <hex HMAC-SHA256 of the body>`), and the fake gateways' way of calling it.

Each provider signs with its own secret: `MESSAGING_RECEIPT_SECRET` (or, unset, one derived from SECRET_KEY)
combined with the provider's name, so one provider's key cannot forge another's receipts. A real gateway's own
signature scheme goes in a small adapter view that verifies it and calls `services.receipts_apply`."""
import hashlib
import hmac
import json

from django.conf import settings

from .providers import FakeSmsProvider, FakeWechatProvider
from .services import receipts_apply

MAX_RECEIPTS = 1000


def _secret(provider: str) -> bytes:
    base = getattr(settings, "MESSAGING_RECEIPT_SECRET", None) or settings.SECRET_KEY
    return hmac.new(base.encode(), f"yundian.messaging.receipts:{provider}".encode(), hashlib.sha256).digest()


def receipt_signature(provider: str, body: bytes) -> str:
    return hmac.new(_secret(provider), body, hashlib.sha256).hexdigest()


def signature_ok(provider: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(receipt_signature(provider, body), signature or "")


def fake_receipts_post(client=None) -> dict[str, int]:
    """Send the fake gateways' pending receipts: through `client` (a Django test client: the real webhook, signed)
    or, without one, straight to the service (the demo). Returns the summed counts."""
    total = {"applied": 0, "repeated": 0, "unknown": 0}
    for provider in (FakeSmsProvider, FakeWechatProvider):
        with provider.gateway.lock:
            pending, provider.gateway.receipts[:] = list(provider.gateway.receipts), []
        for start in range(0, len(pending), MAX_RECEIPTS):
            batch = pending[start:start + MAX_RECEIPTS]
            if client is None:
                counts = receipts_apply(provider=provider.name, receipts=batch)
            else:
                body = json.dumps({"receipts": batch})
                counts = client.post(f"/api/v1/messaging/receipts/{provider.name}", body,
                                     content_type="application/json",
                                     HTTP_X_YUNDIAN_SIGNATURE=receipt_signature(provider.name, body.encode())).json()
            for name in total:
                total[name] += counts[name]
    return total
