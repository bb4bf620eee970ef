"""Limit/offset pagination for every list endpoint, with the offset bounded.

django-ninja's own class accepts any offset; an offset past 2**63 reaches the database and fails there
(a 500 on SQLite and PostgreSQL). Use this class with `@paginate(LimitOffsetPagination)`.
"""
from ninja import Field, Schema
from ninja.conf import settings
from ninja.pagination import LimitOffsetPagination as NinjaLimitOffsetPagination

MAX_OFFSET = 10**12


class LimitOffsetPagination(NinjaLimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(settings.PAGINATION_PER_PAGE, ge=1, le=settings.PAGINATION_MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
