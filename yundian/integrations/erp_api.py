"""ERP API (/api/v1/integrations/erp/...): changes of each entity with keyset cursors, import and export jobs.

Parse -> one service or selector -> schema out. The cursor guarantee is documented in erp_export.py."""
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile

from yundian.core.schemas import errors

from . import erp_export

router = Router(tags=["integrations: ERP"])

Entity = Literal["products", "prices", "stock", "purchase_orders", "orders", "members"]


class ChangesQuery(Schema):
    updated_since: datetime | None = Field(None, description="ISO 8601 with a time zone; the first call's start")
    cursor: str | None = Field(None, max_length=400, description="next_cursor of the previous page (opaque)")
    limit: int = Field(erp_export.DEFAULT_LIMIT, ge=1, le=erp_export.MAX_LIMIT)


class ChangesOut(Schema):
    items: list[dict[str, Any]]
    next_cursor: str = Field(description="where the next page starts; keep it and ask again later when has_more "
                                         "is false")
    has_more: bool
    until: datetime = Field(description="the safe cutoff of this page: rows changed before it are all visible")


@router.get("/erp/{entity}", response={200: ChangesOut, **errors(403)}, url_name="erp_changes")
def erp_changes(request: HttpRequest, entity: Entity, query: Query[ChangesQuery]):
    """Rows of `entity` changed since `updated_since` (first call) or after `cursor` (every next call), oldest
    first, in the caller's org subtree. Nothing is missed or repeated by following next_cursor."""
    page = erp_export.erp_changes_page(actor=request.auth, entity=entity, updated_since=query.updated_since,
                                       cursor=query.cursor, limit=query.limit)
    return {"items": page.items, "next_cursor": page.next_cursor, "has_more": page.has_more, "until": page.until}
