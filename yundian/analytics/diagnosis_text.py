"""Findings in words and numbers (the inbox page and `yundian diagnose --explain` say the same thing): money in
yuan with ¥, rates in %, every phrase translatable."""
from __future__ import annotations

from django.utils.translation import gettext as _, gettext_lazy

from yundian.core.money import Money

from . import diagnosis as D

KPI_LABELS = {
    "sales": gettext_lazy("Sales"), "traffic": gettext_lazy("Traffic"), "conversion": gettext_lazy("Conversion"),
    "aov": gettext_lazy("Average order value"), "member_share": gettext_lazy("Member share of sales"),
    "stockouts": gettext_lazy("SKUs out of stock"), "returns": gettext_lazy("Returns"),
    "shrink": gettext_lazy("Shrink (stock written off)"), "margin": gettext_lazy("Gross margin"),
    "stock_cover": gettext_lazy("Stock-outs ahead"), "overstock": gettext_lazy("Overstock"),
    "expiry": gettext_lazy("Expiring stock"), "suspicious_stock": gettext_lazy("Suspicious stock"),
}
DRIVER_LABELS = {
    "traffic": gettext_lazy("fewer people came in"), "conversion": gettext_lazy("fewer visitors bought"),
    "aov": gettext_lazy("smaller baskets"), "guide": gettext_lazy("one guide's sales fell"),
    "stockout": gettext_lazy("goods out of stock"), "category": gettext_lazy("one category stopped selling"),
    "promotion": gettext_lazy("a promotion ended"), "members": gettext_lazy("members bought less"),
    "returns": gettext_lazy("more goods came back"), "shrink": gettext_lazy("more stock written off"),
    "margin": gettext_lazy("lower margin"), "stores": gettext_lazy("several stores at once"),
    "cover": gettext_lazy("stock runs out before a delivery can come"),
    "overstock": gettext_lazy("more stock than months of sales"), "expiry": gettext_lazy("stock near its expiry"),
    "phantom_stock": gettext_lazy("stock on the books that does not sell"),
}


def yuan(fen: float) -> str:
    return Money(int(round(fen)), "CNY").format()


def figure(kpi: str, value: float) -> str:
    """A KPI's value as people read it: ¥ for money, % for rates, a plain number otherwise (per day)."""
    if value is None:
        return "–"
    if kpi in D.MONEY_KPIS:
        return yuan(value)
    if kpi in D.PERCENT_KPIS:
        return f"{value * 100:.1f}%"
    return f"{value:,.1f}"


def headline(finding) -> str:
    kpi = str(KPI_LABELS.get(finding.kpi, finding.kpi))
    if finding.kind == "warning":
        return _("%(kpi)s at %(node)s: %(driver)s") % {"kpi": kpi, "node": finding.node.name,
                                                       "driver": DRIVER_LABELS.get(finding.driver, finding.driver)}
    gap = (finding.actual - finding.expected) / finding.expected * 100 if finding.expected else 0
    return _("%(kpi)s at %(node)s %(gap)+.0f%% against its forecast: %(driver)s") % {
        "kpi": kpi, "node": finding.node.name, "gap": gap, "driver": DRIVER_LABELS.get(finding.driver, finding.driver)}


def explanation_lines(finding) -> list[str]:
    """The numbers behind a finding, one sentence each."""
    n = finding.numbers or {}
    lines = []
    if finding.kind == "deviation":
        lines.append(_("%(from)s to %(until)s: %(actual)s a day, forecast %(expected)s (band %(low)s – %(high)s).")
                     % {"from": finding.window_start, "until": finding.window_end,
                        "actual": figure(finding.kpi, finding.actual), "expected": figure(finding.kpi, finding.expected),
                        "low": figure(finding.kpi, finding.lower), "high": figure(finding.kpi, finding.upper)})
    f = n.get("factors")
    if f:
        split = f["split"]
        lines.append(_("Sales %(before)s → %(after)s a day against the 4 weeks before: traffic %(t)s, conversion "
                       "%(c)s, average order %(a)s.") % {
            "before": yuan(f["sales_before"]), "after": yuan(f["sales_after"]), "t": _signed(split["traffic"]),
            "c": _signed(split["conversion"]), "a": _signed(split["aov"])})
        lines.append(_("Traffic %(t0)s → %(t1)s a day, conversion %(c0).1f%% → %(c1).1f%%, average order %(a0)s → "
                       "%(a1)s.") % {"t0": f["traffic_before"], "t1": f["traffic_after"],
                                     "c0": f["conversion_before"] * 100, "c1": f["conversion_after"] * 100,
                                     "a0": yuan(f["aov_before"]), "a1": yuan(f["aov_after"])})
    guide = n.get("guide")
    if guide and finding.driver == "guide":
        lines.append(_("%(name)s sold %(before)s a day before and %(after)s now (%(rel)+.0f%%).") % {
            "name": guide["name"] or finding.guide, "before": yuan(guide["before"]), "after": yuan(guide["after"]),
            "rel": guide["relative"] * 100})
    category = n.get("category")
    if category and finding.driver in ("stockout", "category", "returns", "margin"):
        if finding.driver == "stockout" and "lost_sales" in category:
            lines.append(_("%(name)s: %(days)s SKU-days out of stock, %(lost)s of sales lost.") % {
                "name": category["name"], "days": category["sku_days"], "lost": yuan(category["lost_sales"])})
        else:
            lines.append(_("Most of the change is in %(name)s.") % {"name": category["name"]})
    for sku in n.get("out_skus", []):
        lines.append(_("  out: %(name)s, %(lost)s lost") % {"name": sku["name"], "lost": yuan(sku["lost_sales"])})
    if n.get("lost_sales_per_day") and finding.driver != "stockout":
        lines.append(_("Stock-outs cost %(lost)s a day.") % {"lost": yuan(n["lost_sales_per_day"])})
    promo = n.get("promotion_sales")
    if promo and finding.driver == "promotion":
        lines.append(_("Sales under promotions: %(before)s → %(after)s a day.") % {
            "before": yuan(promo["before"]), "after": yuan(promo["after"])})
    for store in n.get("stores", []):
        lines.append(_("  %(name)s: %(change)s") % {"name": store["name"], "change": _signed(store["change"])})
    for item in n.get("items", []):
        lines.append("  " + item_text(finding.driver, item))
    if n.get("also"):
        lines.append(_("Also off: %(kpis)s.") % {"kpis": ", ".join(str(KPI_LABELS.get(k, k)) for k in n["also"])})
    return lines


def item_text(driver: str, item: dict) -> str:
    """One SKU of a warning or a suspicious-stock finding."""
    if driver == "cover":
        return _("%(name)s: %(on_hand)s on hand, %(rate).1f a day, %(cover).1f days of cover, lead time %(lead)s "
                 "days") % item
    if driver == "overstock":
        return _("%(name)s: %(on_hand)s on hand, %(cover).0f days of cover, %(value)s tied up") % {
            **item, "value": yuan(item["value"])}
    if driver == "expiry":
        return _("%(name)s: %(quantity)s expire on %(expires_on)s, about %(sellable)s will sell by then") % item
    return _("%(name)s: %(reason)s") % {"name": item["name"], "reason": str(REASONS.get(item["reason"], item["reason"]))}


REASONS = {
    "stopped_selling": gettext_lazy("in stock but stopped selling here, still sells elsewhere"),
    "negative_adjustments": gettext_lazy("written off again and again"),
    "count_disagrees": gettext_lazy("counts often disagree with the books"),
}


def _signed(fen: float) -> str:
    return ("+" if fen > 0 else "−" if fen < 0 else "") + yuan(abs(fen))


def owner_text(finding) -> str:
    from .models import OwnerRole

    role = str(OwnerRole(finding.owner_role).label) if finding.owner_role in OwnerRole.values else finding.owner_role
    who = finding.owner.display_name if finding.owner_id else _("nobody yet")
    if finding.owner_role == "buyer" and finding.category_id:
        return _("%(role)s of %(category)s: %(who)s") % {"role": role, "category": finding.category.name, "who": who}
    return _("%(role)s: %(who)s") % {"role": role, "who": who}
