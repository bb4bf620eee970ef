"""Guide workbench API (mounted under /api/v1/guides): materials and shares, share funnels, community groups,
competitions and a guide's own ranking. Everything scoped to the caller (404 outside it)."""
from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema, Status

from yundian.core.errors import NotFound
from yundian.core.schemas import errors

from . import competitions, funnels, groups, materials

router = Router(tags=["guides"])


class MaterialOut(Schema):
    id: int
    node_id: int
    kind: str
    title: str
    body: str
    product_id: int | None
    file_url: str
    valid_from: datetime | None
    valid_until: datetime | None
    is_active: bool


def _material_out(m) -> dict:
    return {"id": m.pk, "node_id": m.node_id, "kind": m.kind, "title": m.title, "body": m.body,
            "product_id": m.product_id, "file_url": m.file.url if m.file else "", "valid_from": m.valid_from,
            "valid_until": m.valid_until, "is_active": m.is_active}


def _material_for(actor, material_id: int):
    try:
        return materials.material_managed(actor=actor, material_id=material_id)
    except NotFound:
        found = materials.materials_for_guide(actor=actor).filter(pk=material_id).first()
        if found is None:
            raise
        return found


@router.get("/materials", response={200: list[MaterialOut], **errors()})
def material_list(request: HttpRequest):
    """What you may share now (guides), or the library of your subtree (managers), newest first."""
    mine = materials.materials_for_guide(actor=request.auth)
    rows = list(mine.order_by("-id")[:200]) or list(materials.material_list(actor=request.auth).order_by("-id")[:200])
    return [_material_out(m) for m in rows]


@router.get("/materials/{material_id}", response={200: MaterialOut, **errors(404)})
def material_get(request: HttpRequest, material_id: int):
    return _material_out(_material_for(request.auth, material_id))


class ShareOut(Schema):
    id: int
    material_id: int
    store_id: int
    share_code: str
    url: str
    poster_url: str
    times: int


@router.post("/materials/{material_id}/share", response={200: ShareOut, **errors(404)})
def material_share(request: HttpRequest, material_id: int):
    """Your link for a material (the same one every time you share it) and its poster with the QR code."""
    share = materials.material_share(actor=request.auth, material_id=material_id)
    return {"id": share.pk, "material_id": share.material_id, "store_id": share.store_id,
            "share_code": share.link.code,
            "url": request.build_absolute_uri(reverse("promotions_public:share_link", args=[share.link.code])),
            "poster_url": request.build_absolute_uri(reverse("guides:share_poster", args=[share.pk])),
            "times": share.times}


class FunnelOut(Schema):
    key: int
    label: str
    links: int
    opens: int
    signups: int
    orders: int
    gmv: int


@router.get("/share-funnels", response={200: list[FunnelOut], **errors()})
def share_funnel(request: HttpRequest, by: Literal["material", "guide", "group"] = "material"):
    """Opens (once per browser), sign-ups, orders and GMV (fen, paid less refunded) through the shared links."""
    return [FunnelOut(key=r.key, label=r.label, links=r.links, opens=r.opens, signups=r.signups, orders=r.orders,
                      gmv=r.gmv) for r in funnels.share_funnel(actor=request.auth, by=by)]


class GroupOut(Schema):
    id: int
    name: str
    store_id: int
    guide_id: int
    join_code: str
    members: int
    active_members: int
    orders: int
    gmv: int


def _group_out(g) -> dict:
    m = groups.group_metrics(g)
    return {"id": g.pk, "name": g.name, "store_id": g.store_id, "guide_id": g.guide_id, "join_code": g.join_code,
            "members": m.members, "active_members": m.active_members, "orders": m.orders, "gmv": m.gmv}


class GroupIn(Schema):
    name: str = Field(..., max_length=60)
    store_id: int | None = None


@router.post("/groups", response={201: GroupOut, **errors(404)})
def group_create(request: HttpRequest, payload: GroupIn):
    return Status(201, _group_out(groups.group_create(actor=request.auth, **payload.dict())))


@router.get("/groups/{group_id}", response={200: GroupOut, **errors(404)})
def group_get(request: HttpRequest, group_id: int):
    return _group_out(groups.group_get(actor=request.auth, group_id=group_id))


class StandingOut(Schema):
    rank: int
    key: int
    name: str
    value: int
    prize: str


class CompetitionOut(Schema):
    id: int
    node_id: int
    name: str
    competitor: str
    metric: str
    starts_at: datetime
    ends_at: datetime
    prize_top_n: int
    prize: str
    closed_at: datetime | None
    leaderboard: list[StandingOut]


def _competition_out(c) -> dict:
    return {"id": c.pk, "node_id": c.node_id, "name": c.name, "competitor": c.competitor, "metric": c.metric,
            "starts_at": c.starts_at, "ends_at": c.ends_at, "prize_top_n": c.prize_top_n, "prize": c.prize,
            "closed_at": c.closed_at, "leaderboard": [s.__dict__ for s in competitions.leaderboard(c)]}


class CompetitionIn(Schema):
    node_id: int
    name: str = Field(..., max_length=120)
    competitor: str = Field(..., max_length=8)
    metric: str = Field(..., max_length=16)
    starts_at: datetime
    ends_at: datetime
    prize_top_n: int = 3
    prize: str = Field("", max_length=200)


@router.post("/competitions", response={201: CompetitionOut, **errors(403, 404)})
def competition_create(request: HttpRequest, payload: CompetitionIn):
    return Status(201, _competition_out(competitions.competition_create(actor=request.auth, **payload.dict())))


@router.get("/competitions/{competition_id}", response={200: CompetitionOut, **errors(404)})
def competition_get(request: HttpRequest, competition_id: int):
    """A competition with its live leaderboard (or its recorded results once closed)."""
    return _competition_out(competitions.competition_get(actor=request.auth, competition_id=competition_id))


@router.post("/competitions/{competition_id}/close", response={200: CompetitionOut, **errors(403, 404, 409)})
def competition_close(request: HttpRequest, competition_id: int):
    """Record the places and prizes of a finished competition, once (409 `competition_running` before its end)."""
    competitions.competition_close(actor=request.auth, competition_id=competition_id)
    return _competition_out(competitions.competition_get(actor=request.auth, competition_id=competition_id))


class MyStandingOut(Schema):
    competition_id: int | None
    competition_name: str
    metric: str
    rank: int | None
    of: int
    value: int
    gap_to_next: int | None


@router.get("/ranking/me", response={200: list[MyStandingOut], **errors()})
def my_ranking(request: HttpRequest):
    """Your place in each running competition you are in, then in this month's sales, new-member and share
    boards of your store's area."""
    return [{"competition_id": s.competition.pk if s.competition else None,
             "competition_name": s.competition.name if s.competition else "", "metric": s.metric, "rank": s.rank,
             "of": s.of, "value": s.value, "gap_to_next": s.gap_to_next}
            for s in competitions.my_ranking(actor=request.auth)]
