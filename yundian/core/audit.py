"""Write audit entries. Called by services inside their transaction, so an audit row exists iff the change does."""
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
import json

from .models import AuditEntry


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder)) if value is not None else None


def audit_record(*, actor, action: str, target, before: dict | None = None, after: dict | None = None,
                 reason: str = "", scope_path: str = "", enterprise=None) -> AuditEntry:
    """Append one audit entry for `actor` (a Staff, or None for the system) acting on `target`."""
    user = getattr(actor, "user", None)
    return AuditEntry.objects.create(
        enterprise=enterprise if enterprise is not None else getattr(actor, "enterprise", None),
        actor_user=user,
        actor_label=(user.get_username() if user else "system"),
        action=action,
        target_type=target._meta.label_lower if hasattr(target, "_meta") else str(type(target).__name__),
        target_id=str(getattr(target, "pk", target)),
        scope_path=scope_path,
        before=_plain(before),
        after=_plain(after),
        reason=reason[:255],
    )
