"""Materials library (素材库) and sharing: HQ or a region uploads posters, copy, product cards and short videos for
the stores under it; a guide shares one with one tap as a personal link (a promotions.ShareLink with source
"material:<id>", the same link every time) or as a poster with the link's QR code.

What comes through the link is the guide's: opens (promotions.ShareLinkVisit, once per browser), sign-ups
(ShareLinkSignup, once per member), orders (Order.share_code; sales makes the sharer the lines' guide, so the
commission ledger pays them, and promotions' referral rule, where one exists, rewards them once, both reversed on
return). Funnels: `guides.funnels`.
"""
from datetime import datetime
from io import BytesIO
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.catalog.models import Product
from yundian.catalog.services.catalogue import image_upload_check
from yundian.core.audit import audit_record
from yundian.core.errors import NotFound, ValidationFailed
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind, Perm
from yundian.org.selectors import has_perm, require, scope_paths, scope_q
from yundian.promotions.services.referrals import share_link_create

from .models import Material, MaterialKind, MaterialShare

MAX_VIDEO_BYTES = 50 * 1024 * 1024
VIDEO_TYPES = {".mp4": b"ftyp", ".webm": b"\x1a\x45\xdf\xa3"}


def _text(value: Any, field: str, max_length: int, *, required: bool = False) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if (required and not text) or len(text) > max_length or "\x00" in text:
        raise ValidationFailed(_("Give a text of at most %(n)d characters.") % {"n": max_length}, code="invalid_text",
                               details={"field": field})
    return text


def _check_video(upload: UploadedFile) -> None:
    name = (upload.name or "").lower()
    suffix = name[name.rfind("."):] if "." in name else ""
    if upload.size is None or upload.size > MAX_VIDEO_BYTES:
        raise ValidationFailed(_("Videos may be at most 50 MB."), code="file_too_large", details={"field": "file"})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    magic = VIDEO_TYPES.get(suffix)
    if magic is None or (magic not in head):
        raise ValidationFailed(_("Use an MP4 or WebM video."), code="unsupported_video", details={"field": "file"})


def _when(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        from django.utils.dateparse import parse_date, parse_datetime

        parsed = parse_datetime(value)
        if parsed is None and (day := parse_date(value)) is not None:
            parsed = datetime(day.year, day.month, day.day)
        value = parsed
    if not isinstance(value, datetime):
        raise ValidationFailed(_("Not a valid date."), code="invalid_date", details={"field": field})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


@transaction.atomic
def material_create(*, actor: Staff, node_id: int, kind: str, title: str, body: str = "", product_id: int | None = None,
                    upload: UploadedFile | None = None, valid_from: Any = None, valid_until: Any = None) -> Material:
    """A material for the stores under `node` (material.manage there: HQ or a region). A poster is an image, a
    short video an MP4/WebM file, a product card names a product (picked by name), copy is text. Audited."""
    node = OrgNode.objects.filter(pk=node_id, enterprise_id=actor.enterprise_id).first() \
        if isinstance(node_id, int) and not isinstance(node_id, bool) else None
    if node is None:
        raise NotFound(_("Org node not found."), code="org_node_not_found")
    require(actor, Perm.MATERIAL_MANAGE, node)
    if kind not in MaterialKind.values:
        raise ValidationFailed(_("Unknown kind of material."), code="invalid_kind", details={"field": "kind"})
    title = _text(title, "title", 120, required=True)
    body = _text(body, "body", 2000, required=kind == MaterialKind.COPY)
    product = None
    if product_id not in (None, ""):
        product = Product.objects.filter(pk=product_id, enterprise_id=actor.enterprise_id, is_active=True).first() \
            if isinstance(product_id, int) and not isinstance(product_id, bool) else None
        if product is None:
            raise ValidationFailed(_("Unknown product."), code="unknown_product", details={"field": "product_id"})
    if kind == MaterialKind.PRODUCT_CARD and product is None:
        raise ValidationFailed(_("Pick the product of the card."), code="product_required",
                               details={"field": "product_id"})
    if kind == MaterialKind.POSTER:
        if upload is None:
            raise ValidationFailed(_("Upload the poster's image."), code="file_required", details={"field": "file"})
        image_upload_check(upload)
    elif kind == MaterialKind.VIDEO:
        if upload is None:
            raise ValidationFailed(_("Upload the video."), code="file_required", details={"field": "file"})
        _check_video(upload)
    elif upload is not None:
        image_upload_check(upload)
    starts, ends = _when(valid_from, "valid_from"), _when(valid_until, "valid_until")
    if starts and ends and ends <= starts:
        raise ValidationFailed(_("The end is before the start."), code="invalid_window",
                               details={"field": "valid_until"})
    material = Material(enterprise_id=actor.enterprise_id, node=node, kind=kind, title=title, body=body,
                        product=product, valid_from=starts, valid_until=ends, created_by=actor)
    if upload is not None:
        material.file.save(upload.name[-80:] or "material", upload, save=False)
    material.save()
    audit_record(actor=actor, action="material.create", target=material, scope_path=node.path,
                 after={"kind": kind, "title": title, "node_id": node.pk, "product_id": product and product.pk})
    return material


@transaction.atomic
def material_set_active(*, actor: Staff, material_id: int, is_active: bool) -> Material:
    """Withdraw (or bring back) a material: guides no longer see a withdrawn one; its links keep working. Audited."""
    material = material_managed(actor=actor, material_id=material_id)
    require(actor, Perm.MATERIAL_MANAGE, material.node)
    before = material.is_active
    Material.objects.filter(pk=material.pk).update(is_active=bool(is_active), updated_at=timezone.now())
    material.is_active = bool(is_active)
    audit_record(actor=actor, action="material.set_active", target=material, scope_path=material.node.path,
                 before={"is_active": before}, after={"is_active": material.is_active})
    return material


def material_managed(*, actor: Staff, material_id: Any) -> Material:
    """A material within what the actor sees (404 otherwise)."""
    material = (Material.objects.filter(scope_q(actor, Perm.ORG_VIEW, "node__path"), pk=material_id,
                                        enterprise_id=actor.enterprise_id).select_related("node", "product").first()
                if isinstance(material_id, int) and not isinstance(material_id, bool) else None)
    if material is None:
        raise NotFound(_("Material not found."), code="material_not_found")
    return material


def material_list(*, actor: Staff, kind: str | None = None) -> QuerySet[Material]:
    """Materials owned by nodes of the actor's subtree (the console's library), newest first."""
    qs = Material.objects.filter(scope_q(actor, Perm.ORG_VIEW, "node__path"), enterprise_id=actor.enterprise_id)
    if kind in MaterialKind.values:
        qs = qs.filter(kind=kind)
    return qs.select_related("node", "product")


def share_stores(actor: Staff) -> list[OrgNode]:
    """The stores the actor shares from (material.share there), by path."""
    paths = scope_paths(actor, Perm.MATERIAL_SHARE)
    if not paths:
        return []
    q = Q()
    for path in paths:
        q |= Q(path__startswith=path)
    return list(OrgNode.objects.filter(q, enterprise_id=actor.enterprise_id, kind=NodeKind.STORE, is_active=True)
                .order_by("path"))


def _valid_q(at: datetime) -> Q:
    return (Q(is_active=True) & (Q(valid_from__isnull=True) | Q(valid_from__lte=at))
            & (Q(valid_until__isnull=True) | Q(valid_until__gt=at)))


def materials_for_guide(*, actor: Staff, at: datetime | None = None) -> QuerySet[Material]:
    """What a guide may share now: valid, active materials owned by one of their stores' ancestors (or the store)."""
    stores = share_stores(actor)
    if not stores:
        return Material.objects.none()
    ancestors = {int(part) for store in stores for part in store.path.strip("/").split("/") if part}
    return (Material.objects.filter(_valid_q(at or timezone.now()), enterprise_id=actor.enterprise_id,
                                    node_id__in=ancestors).select_related("product", "node"))


def materials_for_plans(*, actor: Staff) -> list[Material]:
    """Active materials a share task set by the actor may name (task.manage scope): those owned by a node of their
    scope, an ancestor of one, or a node below one; newest first, at most 100."""
    paths = scope_paths(actor, Perm.TASK_MANAGE)
    if not paths:
        return []
    ancestors = {int(part) for path in paths for part in path.strip("/").split("/") if part}
    below = Q()
    for path in paths:
        below |= Q(node__path__startswith=path)
    return list(Material.objects.filter(below | Q(node_id__in=ancestors), enterprise_id=actor.enterprise_id,
                                        is_active=True).order_by("-id")[:100])


def _guide_material(actor: Staff, material_id: Any, at: datetime | None = None) -> Material:
    material = (materials_for_guide(actor=actor, at=at).filter(pk=material_id).first()
                if isinstance(material_id, int) and not isinstance(material_id, bool) else None)
    if material is None:
        raise NotFound(_("Material not found."), code="material_not_found")
    return material


@transaction.atomic
def material_share(*, actor: Staff, material_id: int, store_id: int | None = None) -> MaterialShare:
    """The guide's share of a material from one of their stores (their first when not given): one row and one
    link per (material, guide, store), however often they tap share (`times` counts the taps)."""
    if not has_perm(actor, Perm.MATERIAL_SHARE):
        raise NotFound(_("Material not found."), code="material_not_found")
    material = _guide_material(actor, material_id)
    stores = share_stores(actor)
    if store_id is None:
        store = stores[0]
    else:
        store = next((s for s in stores if s.pk == store_id), None)
        if store is None:
            raise NotFound(_("Store not found."), code="store_not_found")
    if not store.path.startswith(material.node.path):
        raise NotFound(_("Material not found."), code="material_not_found")
    link = share_link_create(store_id=store.pk, product_id=material.product_id, actor=actor, source=material.source)
    share = MaterialShare.objects.filter(material=material, guide=actor, store=store).first()
    if share is not None:
        MaterialShare.objects.filter(pk=share.pk).update(times=F("times") + 1, updated_at=timezone.now())
        share.times += 1
        return share
    try:
        with transaction.atomic():
            return MaterialShare.objects.create(material=material, guide=actor, store=store, link=link)
    except IntegrityError:  # the same tap twice at once
        return MaterialShare.objects.get(material=material, guide=actor, store=store)


def my_shares(*, actor: Staff) -> dict[int, MaterialShare]:
    """The guide's shares by material id."""
    return {s.material_id: s for s in MaterialShare.objects.filter(guide=actor).select_related("link")}


def share_opens(*, material_id: int, guide_id: int | None = None, path: str | None = None,
                since: datetime | None = None, until: datetime | None = None) -> int:
    """Opens (once per browser) of a material's share links: one guide's, or the guides' of stores under `path`,
    within [since, until). The tasks module counts a share task's progress with it."""
    from yundian.promotions.models import ShareLinkVisit

    opens = ShareLinkVisit.objects.filter(link__source=f"material:{material_id}", link__sharer_staff__isnull=False)
    if guide_id is not None:
        opens = opens.filter(link__sharer_staff_id=guide_id)
    if path:
        opens = opens.filter(link__store__path__startswith=path)
    if since is not None:
        opens = opens.filter(first_at__gte=since)
    if until is not None:
        opens = opens.filter(first_at__lt=until)
    return opens.count()


# --- the poster ----------------------------------------------------------------------------------------------

POSTER_SIZE = (750, 1200)
FONT_PATHS = ["/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", "/System/Library/Fonts/PingFang.ttc",
              "C:/Windows/Fonts/msyh.ttc"]


def _font(size: int):
    from pathlib import Path

    from PIL import ImageFont

    for path in FONT_PATHS:
        if Path(path).exists():
            try:
                return ImageFont.truetype(path, size)
            except OSError:
                continue
    return ImageFont.load_default(size)


def _picture(material: Material):
    """The poster's picture: the material's image, else its product's first uploaded image (None: a colour)."""
    from PIL import Image

    files = []
    if material.file and material.kind != MaterialKind.VIDEO:
        files.append(material.file)
    if material.product_id:
        files += [m.file for m in material.product.media.all() if m.file]
    for f in files:
        try:
            f.open("rb")
            with Image.open(f) as image:
                picture = image.convert("RGB")
            f.close()
            return picture
        except (OSError, ValueError):
            continue
    return None


def _wrap(draw, text: str, font, width: int, lines: int) -> list[str]:
    out, line = [], ""
    for ch in text.replace("\n", " "):
        if draw.textlength(line + ch, font=font) > width:
            out.append(line)
            line = ch.lstrip()
            if len(out) == lines:
                break
        else:
            line += ch
    if len(out) < lines and line:
        out.append(line)
    return out


def poster_png(*, material: Material, url: str, guide_name: str, store_name: str, price_text: str = "",
               scan_text: str = "") -> bytes:
    """A share poster: the material's picture, its title and copy, the price of a product card, and the guide's
    link as a QR code with their name (PNG, 750 x 1200)."""
    import qrcode
    from PIL import Image, ImageDraw

    width, height = POSTER_SIZE
    poster = Image.new("RGB", POSTER_SIZE, (255, 255, 255))
    picture = _picture(material)
    top = 760
    if picture is not None:
        scale = max(width / picture.width, top / picture.height)
        picture = picture.resize((max(1, int(picture.width * scale)), max(1, int(picture.height * scale))))
        left, upper = (picture.width - width) // 2, (picture.height - top) // 2
        poster.paste(picture.crop((left, upper, left + width, upper + top)), (0, 0))
    else:
        ImageDraw.Draw(poster).rectangle((0, 0, width, top), fill=(196, 30, 58))
    draw = ImageDraw.Draw(poster)
    y = top + 28
    for line in _wrap(draw, material.title, _font(44), width - 80, 2):
        draw.text((40, y), line, font=_font(44), fill=(17, 24, 39))
        y += 56
    if price_text:
        draw.text((40, y + 4), price_text, font=_font(48), fill=(196, 30, 58))
        y += 64
    for line in _wrap(draw, material.body or "", _font(26), width - 330, 4):
        draw.text((40, y + 6), line, font=_font(26), fill=(75, 85, 99))
        y += 36
    qr = qrcode.QRCode(border=1, box_size=8, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(url)
    qr.make(fit=True)
    code = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB").resize((240, 240))
    poster.paste(code, (width - 280, height - 330))
    draw.text((width - 280, height - 80), scan_text[:24], font=_font(22), fill=(75, 85, 99))
    draw.line((40, height - 120, width - 320, height - 120), fill=(229, 231, 235), width=2)
    draw.text((40, height - 104), guide_name[:20], font=_font(30), fill=(17, 24, 39))
    draw.text((40, height - 62), store_name[:24], font=_font(24), fill=(107, 114, 128))
    out = BytesIO()
    poster.save(out, format="PNG", optimize=True)
    return out.getvalue()


__all__ = ["share_opens", "material_create", "material_list", "material_managed", "material_set_active", "material_share",
           "materials_for_guide", "materials_for_plans", "my_shares", "poster_png", "share_stores"]
