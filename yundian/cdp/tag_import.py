"""Manual tags from a file: an Excel (.xlsx) or CSV sheet of (member, tag) rows, checked whole before anything is
written. Any bad row refuses the file (nothing is written) and the report lists every error by row.

Columns (header row; English or Chinese labels; order free): `member` (会员) — a mobile number, a membership card
code or `#<member id>` — and `tag` (标签) — the tag's code or its name. The tag must be a manual tag the importer
may use and the member one of their scope within the tag's part of the organisation. Rows naming the same member
and tag twice count once; members already holding the tag are left as they are.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yundian.core.tables import read_rows
from yundian.core.errors import ValidationFailed
from yundian.members.models import IdentityKind, MemberIdentity
from yundian.members.normalize import normalize_identity
from yundian.org.models import Staff

from . import tags as svc
from .models import TagKind, TagSource

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
COLUMNS = {"member": ("member", "会员", "手机号", "会员卡号"), "tag": ("tag", "标签")}


@dataclass
class TagImportReport:
    total_rows: int = 0
    errors: list[dict] = field(default_factory=list)
    gained: int = 0
    already: int = 0

    @property
    def refused(self) -> bool:
        return bool(self.errors)


def _rows(filename: str, data: bytes) -> list[list[Any]]:
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed(_("The file is larger than 5 MB."), code="file_too_large")
    return read_rows(filename, data, max_rows=MAX_ROWS)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _error(report: TagImportReport, row: int, column: str, code: str, message) -> None:
    report.errors.append({"row": row, "column": column, "code": code, "message": str(message)})


def member_tags_import(*, actor: Staff, filename: str, data: bytes) -> TagImportReport:
    """Check every row, then (only if none is bad) give each member their tag in one transaction per file, as
    history with source 'import'. Refused files (422 for a file that cannot be read; a report with errors for bad
    rows) write nothing."""
    rows = _rows(filename, data)
    if not rows:
        raise ValidationFailed(_("The file is empty."), code="empty_file")
    header = [_text(c).lower() for c in rows[0]]
    index = {}
    for column, labels in COLUMNS.items():
        found = [i for i, h in enumerate(header) if h in labels]
        if not found:
            raise ValidationFailed(_("Required columns are missing: member and tag."), code="missing_columns",
                                   details={"missing": [c for c in COLUMNS if not any(h in COLUMNS[c] for h in header)]})
        index[column] = found[0]
    body = [(n, row) for n, row in enumerate(rows[1:], start=2) if any(_text(c) for c in row)]
    if len(body) > MAX_ROWS:
        raise ValidationFailed(_("The file has more than 20,000 rows."), code="too_many_rows")
    report = TagImportReport(total_rows=len(body))
    tags = list(svc.tag_list(actor=actor))
    by_code = {t.code.lower(): t for t in tags}
    by_name: dict[str, list] = {}
    for tag in tags:
        by_name.setdefault(tag.name.strip().lower(), []).append(tag)
    # members: phones and card codes in one query each, ids directly
    wanted_phones, wanted_cards, wanted_ids = set(), set(), set()
    parsed = []
    for number, row in body:
        raw_member = _text(row[index["member"]] if index["member"] < len(row) else "")
        raw_tag = _text(row[index["tag"]] if index["tag"] < len(row) else "")
        member_key = None
        if not raw_member:
            _error(report, number, "member", "required", _("Name the member: a mobile number, card code or #id."))
        elif raw_member.startswith("#") and raw_member[1:].isdigit() and len(raw_member) < 19:
            member_key = ("id", int(raw_member[1:]))
            wanted_ids.add(member_key[1])
        else:
            try:
                member_key = ("phone", normalize_identity(IdentityKind.PHONE, raw_member))
                wanted_phones.add(member_key[1])
            except ValidationFailed:
                try:
                    member_key = ("card", normalize_identity(IdentityKind.CARD, raw_member))
                    wanted_cards.add(member_key[1])
                except ValidationFailed:
                    _error(report, number, "member", "invalid_member",
                           _("Not a mobile number, card code or #id."))
        tag = by_code.get(raw_tag.lower())
        if tag is None and raw_tag:
            named = by_name.get(raw_tag.lower(), [])
            if len(named) > 1:
                _error(report, number, "tag", "ambiguous_tag", _("Several tags have this name; write its code."))
                named = []
            tag = named[0] if named else None
            if tag is None and not named and not any(e["row"] == number and e["column"] == "tag"
                                                     for e in report.errors):
                _error(report, number, "tag", "tag_not_found", _("No tag you may use has this code or name."))
        elif not raw_tag:
            _error(report, number, "tag", "required", _("Name the tag by its code or name."))
        if tag is not None and (tag.kind != TagKind.MANUAL or not tag.is_active):
            _error(report, number, "tag", "tag_not_manual", _("Only active manual tags can be imported."))
            tag = None
        parsed.append((number, member_key, tag))
    identities = MemberIdentity.objects.filter(enterprise_id=actor.enterprise_id).filter(
        Q(kind=IdentityKind.PHONE, value__in=wanted_phones) | Q(kind=IdentityKind.CARD, value__in=wanted_cards))
    found = {(kind, value): member_id for kind, value, member_id in identities.values_list("kind", "value", "member_id")}
    found.update({("id", m): m for m in wanted_ids})  # checked with the scope below
    pairs: dict[int, set[int]] = {}  # tag -> members
    tag_by_id = {}
    for number, member_key, tag in parsed:
        if member_key is None:
            continue
        member_id = found.get(member_key)
        if member_id is None:
            _error(report, number, "member", "member_not_found", _("No member has this mobile number or card code."))
            continue
        if tag is not None:
            pairs.setdefault(tag.id, set()).add((number, member_id))
            tag_by_id[tag.id] = tag
    checked: dict[int, set[int]] = {}
    for tag_id, rows_members in pairs.items():
        ok, refused = svc._taggable_members(actor, tag_by_id[tag_id], sorted({m for _, m in rows_members}))
        refused = set(refused)
        for number, member_id in sorted(rows_members):
            if member_id in refused:
                _error(report, number, "member", "member_not_taggable",
                       _("This member is outside your scope or the tag's, merged or erased."))
        checked[tag_id] = set(ok)
    report.errors.sort(key=lambda e: (e["row"], e["column"]))
    if report.errors:
        return report
    with transaction.atomic():
        for tag_id, members in checked.items():
            result = svc.member_tags_apply(enterprise_id=actor.enterprise_id, family={tag_id},
                                           tag_id_by_member={m: tag_id for m in members}, source=TagSource.IMPORT,
                                           reason=(filename or "")[:120], actor=actor)
            report.gained += result.gained
            report.already += len(members) - result.gained
    return report
