"""Journey templates for the common cases: "new from template" starts a draft with these steps already configured
and wired, laid out left to right. What only the chain can know (which coupon campaign, which message template) is
left for the marketer to pick on the canvas: checking the draft marks those steps until they are chosen.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Starter:
    key: str
    name: str
    description: str
    steps: tuple  # (kind, config) in order; the last ones may branch (see `wires`)
    wires: tuple = ()  # (source index, port, target index); empty: each step leads to the next by "out"
    goal: dict | None = None


def _msg(channel: str = "sms", **extra) -> tuple:
    return ("message", {"channel": channel, **extra})


STARTERS: dict[str, Starter] = {s.key: s for s in [
    Starter("welcome", _("Welcome series"),
            _("New members get a welcome message, a first-order coupon a day later, and a reminder if they have not bought."),
            (("entry", {"trigger": "first_purchase", "reentry": "never"}),
             _msg(),
             ("wait", {"mode": "duration", "amount": 1, "unit": "days"}),
             ("coupon", {}),
             ("wait", {"mode": "duration", "amount": 3, "unit": "days"}),
             ("branch", {"test": "order"}),
             ("end", {}),
             _msg(),
             ("end", {})),
            wires=((0, "out", 1), (1, "out", 2), (2, "out", 3), (3, "out", 4), (4, "out", 5), (5, "yes", 6),
                   (5, "no", 7), (7, "out", 8)),
            goal={"kind": "order", "days": 14}),
    Starter("cart_abandonment", _("Cart abandonment"),
            _("A cart left for 2 hours brings a coupon and a message; the holdout group shows what that was worth."),
            (("entry", {"trigger": "cart_abandoned", "hours": 2, "reentry": "after_days", "reentry_days": 7}),
             ("coupon", {}),
             _msg(),
             ("end", {})),
            goal={"kind": "order", "days": 3}),
    Starter("browse_abandonment", _("Browse abandonment"),
            _("A member who looked at a product and put nothing in a cart for a day gets a message naming it, with "
              "goods that go with it in stock at their store; one arm gets a coupon too, the holdout gets nothing."),
            (("entry", {"trigger": "browse_abandoned", "hours": 24, "reentry": "after_days", "reentry_days": 7}),
             ("split", {"weights": [50, 50], "holdout": 10}),
             _msg(recommend=True),
             ("end", {}),
             ("coupon", {}),
             _msg(recommend=True),
             ("end", {}),
             ("end", {})),
            wires=((0, "out", 1), (1, "a", 2), (2, "out", 3), (1, "b", 4), (4, "out", 5), (5, "out", 6),
                   (1, "holdout", 7)),
            goal={"kind": "order", "days": 3}),
    Starter("win_back", _("Win back dormant members"),
            _("Members who turn dormant get a coupon or points (an A/B test against a holdout); those who still do not buy within a week get a call from their guide."),
            (("entry", {"trigger": "lifecycle_changed", "stage": "dormant", "reentry": "after_days", "reentry_days": 90}),
             ("split", {"weights": [50, 50], "holdout": 10}),
             ("coupon", {}),
             ("points", {"points": 200}),
             _msg(),
             ("wait", {"mode": "duration", "amount": 7, "unit": "days"}),
             ("branch", {"test": "order"}),
             ("end", {}),
             ("guide_task", {"title": _("Call a dormant member"), "note": "", "due_days": 3}),
             ("end", {}),
             ("end", {})),
            wires=((0, "out", 1), (1, "a", 2), (1, "b", 3), (1, "holdout", 10), (2, "out", 4), (3, "out", 4),
                   (4, "out", 5), (5, "out", 6), (6, "yes", 7), (6, "no", 8), (8, "out", 9)),
            goal={"kind": "order", "days": 30}),
    Starter("birthday", _("Birthday"),
            _("A week before their birthday members get a birthday coupon and a greeting on the day."),
            (("entry", {"trigger": "birthday", "days_before": 7, "reentry": "after_days", "reentry_days": 300}),
             ("coupon", {}),
             _msg(),
             ("wait", {"mode": "date_property", "property": "birthday", "offset_days": 0, "time": "09:00"}),
             _msg("wechat"),
             ("end", {})),
            goal={"kind": "order", "days": 14}),
    Starter("points_expiry", _("Points-expiry reminder"),
            _("Members whose points expire within 30 days are reminded, and again a week before if they have not used them."),
            (("entry", {"trigger": "points_expiring", "days": 30, "reentry": "after_days", "reentry_days": 30}),
             _msg(),
             ("wait", {"mode": "duration", "amount": 23, "unit": "days"}),
             ("branch", {"test": "order"}),
             ("end", {}),
             _msg("wechat"),
             ("end", {})),
            wires=((0, "out", 1), (1, "out", 2), (2, "out", 3), (3, "yes", 4), (3, "no", 5), (5, "out", 6)),
            goal={"kind": "order", "days": 30}),
]}

X0, Y0, DX, DY = 40, 160, 250, 150


def graph_of(key: str) -> dict:
    """The draft graph of a template (an entry and an end for an unknown or empty key), laid out left to right:
    a step's column is its distance from the entry, a second way out of a branch or split goes one row down."""
    starter = STARTERS.get(key)
    if starter is None:
        return {"nodes": [{"id": "n1", "kind": "entry", "config": {"trigger": "first_purchase", "reentry": "never"},
                           "x": X0, "y": Y0},
                          {"id": "n2", "kind": "end", "config": {}, "x": X0 + DX, "y": Y0}],
                "edges": [{"source": "n1", "port": "out", "target": "n2"}]}
    wires = starter.wires or tuple((i, "out", i + 1) for i in range(len(starter.steps) - 1))
    column, row = {0: 0}, {0: 0}
    used: dict[int, int] = {}
    for source, port, target in wires:
        if target in column:
            continue
        column[target] = column[source] + 1
        first = used.get(source) is None
        row[target] = row[source] if first else row[source] + 1 + (used[source] - row[source])
        used[source] = row[target]
    nodes = [{"id": f"n{i + 1}", "kind": kind,
              "config": {k: str(v) if isinstance(v, Promise) else v for k, v in config.items()},
              "x": X0 + DX * column.get(i, i), "y": Y0 + DY * row.get(i, 0)}
             for i, (kind, config) in enumerate(starter.steps)]
    edges = [{"source": f"n{s + 1}", "port": port, "target": f"n{t + 1}"} for s, port, t in wires]
    return {"nodes": nodes, "edges": edges}
