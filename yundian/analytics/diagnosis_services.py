"""Diagnosis runs and findings: route each deviation to the person who owns its driver, keep it, follow it up.

`diagnosis_run` diagnoses an enterprise on the warehouse (analytics.diagnosis_engine), finds the owner of each
draft in the OLTP org (the store's manager, the guide, the category's buyer, the region's manager; a missing
holder passes the finding up: store -> region -> HQ), stores it as a Finding keyed by (node, KPI, window) so a
rerun of the same night makes nothing twice, asks guides' follow-up tasks for a guide's finding when the guides
context offers them, and checks the open findings of earlier windows: did the KPI come back inside its band?
Nightly from the scheduler (analytics.tasks.diagnosis_nightly) and on demand (`yundian diagnose`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.core.warehouse import warehouse_read
from yundian.org.models import OrgNode, RoleAssignment, Staff
from yundian.org.roles import Role

from . import diagnosis as D
from .diagnosis_engine import Draft, diagnose
from .models import DiagnosisRun, Finding, FindingKind, FindingStatus, OwnerRole

FOLLOW_UP_DAYS = 7


@dataclass
class RunResult:
    run: DiagnosisRun
    created: list[Finding]
    existing: int
    checked: int


def _holder(role: str, node_id: int | None) -> Staff | None:
    if node_id is None:
        return None
    assignment = (RoleAssignment.objects.filter(role=role, node_id=node_id, staff__is_active=True)
                  .select_related("staff").order_by("id").first())
    return assignment.staff if assignment else None


def _ancestor(node: OrgNode, kind: str) -> int | None:
    ids = [int(p) for p in node.path.strip("/").split("/")]
    kinds = dict(OrgNode.objects.filter(pk__in=ids).values_list("pk", "kind"))
    return next((i for i in reversed(ids) if kinds.get(i) == kind), None)


def _hq_admin(enterprise_id: int) -> Staff | None:
    assignment = (RoleAssignment.objects.filter(role=Role.HQ_ADMIN, node__enterprise_id=enterprise_id,
                                                staff__is_active=True).select_related("staff").order_by("id").first())
    return assignment.staff if assignment else None


def buyer_of(category_id: int) -> Staff | None:
    """The category's buyer, else the nearest ancestor category's."""
    from yundian.catalog.models import Category, CategoryBuyer

    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        return None
    ids = [int(p) for p in category.path.strip("/").split("/") if p.isdigit()] or [category.pk]
    buyers = dict(CategoryBuyer.objects.filter(category_id__in=ids, buyer__is_active=True)
                  .values_list("category_id", "buyer_id"))
    for cid in reversed(ids):
        if cid in buyers:
            return Staff.objects.get(pk=buyers[cid])
    return None


def route(draft: Draft, node: OrgNode) -> tuple[str, Staff | None]:
    """The role and the person a draft goes to; a role nobody holds passes it up (store -> region -> HQ)."""
    e = draft.explanation
    role = e.owner_role
    person = None
    if role == OwnerRole.GUIDE:
        person = Staff.objects.filter(pk=e.owner_ref.get("guide_id"), enterprise_id=node.enterprise_id,
                                      is_active=True).first()
        if person is None:
            role = OwnerRole.STORE_MANAGER
    if role == OwnerRole.BUYER:
        person = buyer_of(e.owner_ref["category_id"])
        if person is None:
            person = _hq_admin(node.enterprise_id)
    if role == OwnerRole.STORE_MANAGER:
        person = _holder(Role.STORE_MANAGER, node.pk)
        if person is None:
            role = OwnerRole.REGION_MANAGER
    if role == OwnerRole.REGION_MANAGER:
        person = _holder(Role.REGION_MANAGER, node.pk if node.kind == "region" else _ancestor(node, "region"))
        if person is None:
            person = _hq_admin(node.enterprise_id)
    return role, person


def _chart(dev: D.Deviation, window: tuple[date, date]) -> dict:
    days = len(dev.daily_actual)
    first = window[1] - timedelta(days=days - 1)
    return {"days": [(first + timedelta(days=i)).isoformat() for i in range(days)],
            "actual": [round(v, 4) for v in dev.daily_actual],
            "mean": [round(m, 4) for m, _lo, _hi in dev.daily_expected],
            "lower": [round(lo, 4) for _m, lo, _hi in dev.daily_expected],
            "upper": [round(hi, 4) for _m, _lo, hi in dev.daily_expected]}


def finding_key(node_id: int, kpi: str, window_end: date, kind: str = FindingKind.DEVIATION) -> str:
    return f"{kind}:{node_id}:{kpi}:{window_end.isoformat()}"


def diagnosis_run(*, enterprise_id: int, day: date | None = None, actor: Staff | None = None,
                  window: int = D.WINDOW, progress=None, stock: bool = True) -> RunResult:
    """Diagnose the enterprise for the `window` days ending on `day` (default: yesterday), store and route the
    findings (unique per node, KPI and window: a rerun adds none twice), watch the stock (cycle counts, early
    warnings; `stock`) and follow up earlier open findings."""
    started = time.monotonic()
    day = day or timezone.localdate() - timedelta(days=1)
    with warehouse_read() as wh:
        outcome = diagnose(wh, enterprise_id=enterprise_id, day=day, window=window, progress=progress)
    run = DiagnosisRun.objects.create(
        enterprise_id=enterprise_id, window_start=outcome.window[0], window_end=outcome.window[1],
        stores=outcome.stores, regions=outcome.regions, series=outcome.series, fitted=outcome.fitted,
        requested_by=actor)
    nodes = OrgNode.objects.in_bulk([d.deviation.node.node_id for d in outcome.drafts])
    created, existing = [], 0
    for draft in outcome.drafts:
        node = nodes.get(draft.deviation.node.node_id)
        if node is None or node.enterprise_id != enterprise_id:
            continue
        finding = _finding_create(draft, node, run, outcome.window)
        if finding is None:
            existing += 1
        else:
            created.append(finding)
    if stock:
        created += stock_watch_run(enterprise_id=enterprise_id, day=day, run=run)
    checked = findings_follow_up(enterprise_id=enterprise_id, day=day)
    run.findings = len(created)
    run.seconds = round(time.monotonic() - started, 3)
    run.save(update_fields=["findings", "seconds", "updated_at"])
    return RunResult(run, created, existing, checked)


def _finding_create(draft: Draft, node: OrgNode, run: DiagnosisRun, window: tuple[date, date]) -> Finding | None:
    dev, e = draft.deviation, draft.explanation
    role, person = route(draft, node)
    numbers = {**e.numbers, "also": draft.also, "peer_factor": round(dev.peer_factor, 4), "method": dev.method,
               "z": round(dev.z, 2)}
    try:
        with transaction.atomic():
            finding = Finding.objects.create(
                enterprise_id=node.enterprise_id, run=run, node=node, kpi=dev.kpi, driver=e.driver,
                window_start=window[0], window_end=window[1], actual=dev.actual, expected=dev.expected,
                lower=dev.lower, upper=dev.upper, owner_role=role, owner=person,
                category_id=e.owner_ref.get("category_id"),
                guide_id=e.owner_ref.get("guide_id") if role == OwnerRole.GUIDE else None,
                numbers=numbers, chart=_chart(dev, window), key=finding_key(node.pk, dev.kpi, window[1]))
    except IntegrityError:
        return None
    if role == OwnerRole.GUIDE and person is not None:
        reference = _guide_task(finding)
        if reference:
            Finding.objects.filter(pk=finding.pk).update(task_ref=reference)
            finding.task_ref = reference
    return finding


def _guide_task(finding: Finding) -> str:
    """A follow-up task for the guide through the guides context (keyed by the finding: a rerun makes one)."""
    from yundian.guides.task_asks import guide_task_ask

    guide = finding.guide or finding.owner
    figures = (finding.numbers or {}).get("guide") or {}
    note = _("Diagnosis finding #%(id)s: your sales were %(before)s a day in the 4 weeks before and %(after)s a day "
             "from %(from)s to %(until)s. Call the customers you served and find out why.") % {
        "id": finding.pk, "before": _yuan(figures.get("before", 0)), "after": _yuan(figures.get("after", 0)),
        "from": finding.window_start, "until": finding.window_end}
    task = guide_task_ask(guide=guide, store=finding.node, title=str(_("Your sales fell: follow up your customers")),
                          note=str(note), key=f"finding:{finding.pk}",
                          due_at=timezone.now() + timedelta(days=FOLLOW_UP_DAYS))
    return f"guide_task:{task.pk}" if task else ""


def _yuan(fen) -> str:
    from yundian.core.money import Money

    return Money(int(round(fen or 0)), "CNY").format()


def findings_follow_up(*, enterprise_id: int, day: date) -> int:
    """For each open deviation whose window ended at least FOLLOW_UP_DAYS before `day` and not yet checked on
    `day`: the KPI over the last FOLLOW_UP_DAYS days, and whether it came back inside its forecast band."""
    due = list(Finding.objects.filter(enterprise_id=enterprise_id, kind=FindingKind.DEVIATION,
                                      window_end__lte=day - timedelta(days=FOLLOW_UP_DAYS))
               .exclude(status=FindingStatus.DISMISSED).exclude(checked_on=day).exclude(kpi_back=True))
    if not due:
        return 0
    since = day - timedelta(days=FOLLOW_UP_DAYS - 1)
    with warehouse_read() as wh:
        facts = {n: wh.table(n).filter(wh.table(n).enterprise_id == enterprise_id)
                 for n in ("fact_order", "fact_event", "fact_stock_move", "fact_order_line")}
        days = D.store_days(facts["fact_order"], facts["fact_event"], facts["fact_stock_move"],
                            facts["fact_order_line"], since=since, until=day).to_pyarrow().to_pandas()
    paths = dict(OrgNode.objects.filter(enterprise_id=enterprise_id, kind="store").values_list("pk", "path"))
    for finding in due:
        under = [s for s, p in paths.items() if p.startswith(finding.node.path)]
        frame = days[days["store_id"].isin(under)].groupby("local_date")[list(D.COLUMNS)].sum()
        frame = frame.reindex([since + timedelta(days=i) for i in range(FOLLOW_UP_DAYS)], fill_value=0)
        value = float(D.kpi_values(frame, finding.kpi).fillna(0).mean())
        back = value >= finding.lower if finding.kpi in D.LOW_IS_BAD else value <= finding.upper
        Finding.objects.filter(pk=finding.pk).update(check_value=value, kpi_back=back, checked_on=day,
                                                     updated_at=timezone.now())
    return len(due)


@transaction.atomic
def finding_resolve(*, actor: Staff, finding_id: int, resolution: str, dismiss: bool = False) -> Finding:
    """The owner (or a manager above the finding's node) records what was done: resolved, or dismissed as not a
    problem. Once only (409 `finding_closed`); audited."""
    from .diagnosis_selectors import finding_visible

    finding = Finding.objects.select_for_update().filter(pk=finding_id, enterprise_id=actor.enterprise_id).first()
    if finding is None or not finding_visible(actor, finding):
        raise NotFound(_("Finding not found."), code="finding_not_found")
    text = (resolution or "").strip()
    if not text or len(text) > 500 or "\x00" in text:
        raise ValidationFailed(_("Say in a few words what was done (up to 500 characters)."),
                               code="invalid_resolution", details={"field": "resolution"})
    if finding.status != FindingStatus.OPEN:
        raise Conflict(_("This finding is already closed."), code="finding_closed", details={"status": finding.status})
    finding.status = FindingStatus.DISMISSED if dismiss else FindingStatus.RESOLVED
    finding.resolution, finding.resolved_by, finding.resolved_at = text, actor, timezone.now()
    finding.save(update_fields=["status", "resolution", "resolved_by", "resolved_at", "updated_at"])
    audit_record(actor=actor, action="finding.dismiss" if dismiss else "finding.resolve", target=finding,
                 after={"status": finding.status}, reason=text[:255], scope_path=finding.node.path)
    return finding


@transaction.atomic
def finding_acknowledge(*, actor: Staff, finding_id: int) -> Finding:
    """The owner (or a manager above the finding's node) says they have seen it and are on it: the first
    acknowledgement is kept (a repeat changes nothing); a closed finding cannot be acknowledged (409)."""
    from .diagnosis_selectors import finding_visible

    finding = Finding.objects.select_for_update().filter(pk=finding_id, enterprise_id=actor.enterprise_id).first()
    if finding is None or not finding_visible(actor, finding):
        raise NotFound(_("Finding not found."), code="finding_not_found")
    if finding.status != FindingStatus.OPEN:
        raise Conflict(_("This finding is already closed."), code="finding_closed", details={"status": finding.status})
    if finding.acknowledged_at is None:
        finding.acknowledged_by, finding.acknowledged_at = actor, timezone.now()
        finding.save(update_fields=["acknowledged_by", "acknowledged_at", "updated_at"])
        audit_record(actor=actor, action="finding.acknowledge", target=finding, scope_path=finding.node.path)
    return finding


# --- dynamic stocktake and early warnings ------------------------------------------------------------------------

def _warning(*, node: OrgNode, kpi: str, driver: str, day: date, items: list[dict], run: DiagnosisRun | None,
             task_ref: str = "") -> Finding | None:
    role, person = OwnerRole.STORE_MANAGER, _holder(Role.STORE_MANAGER, node.pk)
    if person is None:
        role, person = OwnerRole.REGION_MANAGER, _holder(Role.REGION_MANAGER, _ancestor(node, "region"))
    try:
        with transaction.atomic():
            return Finding.objects.create(
                enterprise_id=node.enterprise_id, run=run, kind=FindingKind.WARNING, node=node, kpi=kpi, driver=driver,
                window_start=day, window_end=day, actual=len(items), expected=0, lower=0, upper=0, owner_role=role,
                owner=person, numbers={"items": items}, task_ref=task_ref,
                key=finding_key(node.pk, kpi, day, FindingKind.WARNING))
    except IntegrityError:
        return None


def stock_watch_run(*, enterprise_id: int, day: date, run: DiagnosisRun | None = None) -> list[Finding]:
    """Suspicious stock -> a blind cycle count per store and a finding for its manager; early warnings (stock-outs
    ahead, overstock, expiring stock) -> one finding per store and kind. Keyed per store, kind and day."""
    from yundian.inventory.models import ReplenishmentRule, StockExpiry, SupplierPrice, Warehouse
    from yundian.inventory.services import cycle_count_request

    from . import stock_watch as W

    with warehouse_read() as wh:
        moves = wh.table("fact_stock_move").filter(wh.table("fact_stock_move").enterprise_id == enterprise_id)
        lines = wh.table("fact_order_line").filter(wh.table("fact_order_line").enterprise_id == enterprise_id)
        suspicious = W.suspicious_stock(moves, lines, day=day).to_pyarrow().to_pylist()
        rates = W.stock_rates(moves, lines, day=day).filter(lambda t: t.on_hand > 0).to_pyarrow().to_pylist()
    from yundian.catalog.models import Sku

    sku_ids = {r["sku_id"] for r in suspicious} | {r["sku_id"] for r in rates}
    names = {s.pk: f"{s.product.name} {s.name}".strip() for s in Sku.objects.filter(pk__in=sku_ids)
             .select_related("product")}
    warehouses = {w.pk: w for w in Warehouse.objects.filter(enterprise_id=enterprise_id, kind="store")
                  .select_related("node")}
    found = []
    by_store: dict[int, dict[int, str]] = {}
    for row in suspicious:
        if row["warehouse_id"] in warehouses:
            by_store.setdefault(row["warehouse_id"], {})[row["sku_id"]] = row["reason"]
    for warehouse_id, skus in sorted(by_store.items()):
        warehouse = warehouses[warehouse_id]
        key = finding_key(warehouse.node_id, "suspicious_stock", day, FindingKind.WARNING)
        if Finding.objects.filter(enterprise_id=enterprise_id, key=key).exists():
            continue
        count = cycle_count_request(warehouse_id=warehouse_id, lines=skus,
                                    note=str(_("Asked by the diagnosis: stock the data finds suspicious")))
        if count is None:
            continue  # a count is still open there: ask again another night
        items = [{"sku_id": s, "name": names.get(s, str(s)), "reason": r} for s, r in sorted(skus.items())]
        driver = "phantom_stock"
        finding = _warning(node=warehouse.node, kpi="suspicious_stock", driver=driver, day=day, items=items, run=run,
                           task_ref=f"stocktake:{count.pk}")
        if finding:
            found.append(finding)
    lead = dict(SupplierPrice.objects.filter(enterprise_id=enterprise_id, is_preferred=True)
                .values_list("sku_id", "lead_time_days"))
    rule_lead = {(w, s): d for w, s, d in ReplenishmentRule.objects.filter(enterprise_id=enterprise_id, is_active=True)
                 .values_list("warehouse_id", "sku_id", "lead_time_days")}
    expiring = {}
    for e in StockExpiry.objects.filter(enterprise_id=enterprise_id, expires_on__gte=day,
                                        expires_on__lte=day + timedelta(days=W.EXPIRY_DAYS)):
        expiring.setdefault((e.warehouse_id, e.sku_id), []).append(e)
    warnings: dict[tuple[int, str], list[dict]] = {}
    for r in rates:
        if r["warehouse_id"] not in warehouses:
            continue
        name, rate = names.get(r["sku_id"], str(r["sku_id"])), r["rate"]
        days = rule_lead.get((r["warehouse_id"], r["sku_id"]), lead.get(r["sku_id"], W.DEFAULT_LEAD))
        cover = r["on_hand"] / rate if rate else None
        if cover is not None and cover < days:
            warnings.setdefault((r["warehouse_id"], "stock_cover"), []).append(
                {"sku_id": r["sku_id"], "name": name, "on_hand": r["on_hand"], "rate": round(rate, 2),
                 "cover": round(cover, 1), "lead": days})
        elif cover is not None and cover > W.OVERSTOCK_DAYS:
            warnings.setdefault((r["warehouse_id"], "overstock"), []).append(
                {"sku_id": r["sku_id"], "name": name, "on_hand": r["on_hand"], "cover": round(cover),
                 "value": max(int(r["value"] or 0), 0)})
        for e in expiring.get((r["warehouse_id"], r["sku_id"]), []):
            sellable = int(rate * max((e.expires_on - day).days, 0))
            if e.quantity > sellable:
                warnings.setdefault((r["warehouse_id"], "expiry"), []).append(
                    {"sku_id": r["sku_id"], "name": name, "quantity": e.quantity,
                     "expires_on": e.expires_on.isoformat(), "sellable": sellable})
    drivers = {"stock_cover": "cover", "overstock": "overstock", "expiry": "expiry"}
    for (warehouse_id, kpi), items in sorted(warnings.items()):
        if kpi == "overstock":
            items = sorted(items, key=lambda i: -i["value"])[:10]
        finding = _warning(node=warehouses[warehouse_id].node, kpi=kpi, driver=drivers[kpi], day=day,
                           items=items[:30], run=run)
        if finding:
            found.append(finding)
    return found
