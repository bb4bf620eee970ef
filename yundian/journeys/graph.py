"""The journey graph: what every JourneyVersion stores, what the canvas serialises to, and `validate`.

    {"nodes": [{"id": "n1", "kind": "entry", "config": {...}, "x": 120, "y": 80}, ...],
     "edges": [{"source": "n1", "port": "out", "target": "n2"}, ...]}

Kinds, their output ports and configs (ids are the enterprise's OLTP ids):

    entry       out      exactly one, no edge into it. {"trigger": TRIGGERS key, ...its parameters,
                         "reentry": "never" | "after_days", "reentry_days": N (after_days)}
                           first_purchase   {}
                           cart_abandoned   {"hours": N}                    added to cart, no order for N hours
                           product_viewed   {"times": N, "days": D}         N views of one product in D days, no buy
                           browse_abandoned {"hours": N}                    viewed a product, no cart add or order
                                                                            for N hours
                           birthday         {"days_before": 0..30}
                           points_expiring  {"days": N}                     points of theirs expire within N days
                           tier_changed     {"direction": "up"|"down"|"any"}
                           lifecycle_changed {"stage": cdp LifecycleStage}  (their lifecycle tag became it)
                           segment_joined   {"segment_id": id}
                           schedule         {"segment_id": id, "at": "YYYY-MM-DDTHH:MM" (local),
                                             "repeat": "once"|"daily"|"weekly"}
                           api              {}                              POST /api/v1/journeys/{id}/enrol
    wait        out      {"mode": "duration", "amount": N, "unit": "minutes"|"hours"|"days"}
                         {"mode": "time_of_day", "time": "HH:MM"}        the next such local time
                         {"mode": "date_property", "property": "birthday", "offset_days": -30..30, "time": "HH:MM"}
    branch      yes, no  {"test": "condition", "condition": cdp.conditions tree}
                         {"test": "event", "event": cdp EVENT_KINDS value}   happened since the last wait began
                         {"test": "order"}                                    an order placed since the last wait began
    split       a, b, c…, holdout (when holdout > 0)
                         {"weights": [50, 50], "holdout": 0..50}   2..5 arms; holdout % of all, arms share the rest
    coupon      out      {"campaign_id": id}                    a unique-code campaign
    points      out      {"points": 1..100000}
    tag         out      {"tag_id": id, "action": "add"|"remove"}
    message     out      {"channel": "sms"|"wechat"|"email"|"inapp", "template_id": id, "variables": {name: text},
                          "recommend": bool}   recommend: the product viewed ($product_name) and suggestions
                                               for it ($recommendations) go into the variables
    guide_task  out      {"title": text, "note": text, "due_days": 0..60}   for the member's bound guide
    webhook     out      {"url": "http(s)://...", "timeout": 1..30 (seconds)}
    end         (none)

`validate(graph, enterprise_id=None) -> [{"node", "code", "message"}]` (empty: valid; messages translated in
the active language; "node" is the node's id or "" for the whole graph). With an enterprise it also checks that
every id a config names exists there.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from django.utils.translation import gettext as _

KINDS = ("entry", "wait", "branch", "split", "coupon", "points", "tag", "message", "guide_task", "webhook", "end")
ACTIONS = ("coupon", "points", "tag", "message", "guide_task", "webhook")
TRIGGERS = ("first_purchase", "cart_abandoned", "product_viewed", "browse_abandoned", "birthday", "points_expiring",
            "tier_changed", "lifecycle_changed", "segment_joined", "schedule", "api")
REENTRY = ("never", "after_days")
WAIT_UNITS = {"minutes": 60, "hours": 3600, "days": 86400}
BRANCH_TESTS = ("condition", "event", "order")
CHANNELS = ("sms", "wechat", "email", "inapp")
ARM_PORTS = ("a", "b", "c", "d", "e")
HOLDOUT = "holdout"
MAX_NODES = 200
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def ports(node: dict) -> tuple[str, ...]:
    """The output ports of a node (by its kind and, for a split, its arms and holdout)."""
    kind = node.get("kind")
    if kind == "end":
        return ()
    if kind == "branch":
        return ("yes", "no")
    if kind == "split":
        config = node.get("config") or {}
        weights = config.get("weights") or []
        arms = ARM_PORTS[:len(weights)] if isinstance(weights, list) else ()
        return tuple(arms) + ((HOLDOUT,) if _number(config.get("holdout")) else ())
    return ("out",)


def _number(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _int_in(config: dict, key: str, low: int, high: int) -> bool:
    value = config.get(key)
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _id_ok(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class _Issues:
    def __init__(self):
        self.items: list[dict] = []

    def add(self, node: str, code: str, message: str) -> None:
        self.items.append({"node": node, "code": code, "message": str(message)})


def _entry_config(nid: str, c: dict, out: _Issues, wanted: dict) -> None:
    trigger = c.get("trigger")
    if trigger not in TRIGGERS:
        out.add(nid, "entry_trigger_unknown", _("Choose what brings members into the journey."))
        return
    if c.get("reentry", "never") not in REENTRY:
        out.add(nid, "entry_reentry_invalid", _("Choose whether members may enter again."))
    elif c.get("reentry") == "after_days" and not _int_in(c, "reentry_days", 1, 3650):
        out.add(nid, "entry_reentry_days", _("Give the days before a member may enter again (1 to 3650)."))
    if trigger == "cart_abandoned" and not _int_in(c, "hours", 1, 720):
        out.add(nid, "entry_hours", _("Give the hours a cart waits (1 to 720)."))
    elif trigger == "browse_abandoned" and not _int_in(c, "hours", 1, 168):
        out.add(nid, "entry_browse_hours", _("Give the hours to wait for a cart or an order after the view (1 to 168)."))
    elif trigger == "product_viewed" and not (_int_in(c, "times", 1, 100) and _int_in(c, "days", 1, 7)):
        out.add(nid, "entry_views", _("Give how many views (1 to 100) within how many days (1 to 7)."))
    elif trigger == "birthday" and not _int_in({"d": c.get("days_before", 0)}, "d", 0, 30):
        out.add(nid, "entry_days_before", _("Give the days before the birthday (0 to 30)."))
    elif trigger == "points_expiring" and not _int_in(c, "days", 1, 90):
        out.add(nid, "entry_days", _("Give the days before points expire (1 to 90)."))
    elif trigger == "tier_changed" and c.get("direction", "any") not in ("up", "down", "any"):
        out.add(nid, "entry_direction", _("Choose a tier change: up, down or either."))
    elif trigger == "lifecycle_changed":
        from yundian.cdp.models import LifecycleStage

        if c.get("stage") not in LifecycleStage.values:
            out.add(nid, "entry_stage", _("Choose a lifecycle stage."))
    elif trigger in ("segment_joined", "schedule"):
        if not _id_ok(c.get("segment_id")):
            out.add(nid, "entry_segment", _("Choose a segment."))
        else:
            wanted["segment"].append((nid, c["segment_id"]))
        if trigger == "schedule":
            from datetime import datetime

            try:
                datetime.fromisoformat(str(c.get("at", "")))
            except ValueError:
                out.add(nid, "entry_schedule_at", _("Give the date and time of the first run."))
            if c.get("repeat", "once") not in ("once", "daily", "weekly"):
                out.add(nid, "entry_schedule_repeat", _("Choose once, daily or weekly."))


def _config(node: dict, out: _Issues, wanted: dict) -> None:
    nid, kind = node["id"], node["kind"]
    c = node.get("config")
    if c is None:
        c = {}
    if not isinstance(c, dict):
        out.add(nid, "config_invalid", _("This step's settings are not valid."))
        return
    if kind == "entry":
        _entry_config(nid, c, out, wanted)
    elif kind == "wait":
        mode = c.get("mode")
        if mode == "duration":
            if c.get("unit") not in WAIT_UNITS or not _int_in(c, "amount", 1, 100_000):
                out.add(nid, "wait_duration", _("Give how long to wait (a whole number of minutes, hours or days)."))
        elif mode == "time_of_day":
            if not _TIME.match(str(c.get("time", ""))):
                out.add(nid, "wait_time", _("Give the time of day as HH:MM."))
        elif mode == "date_property":
            if c.get("property") != "birthday" or not _TIME.match(str(c.get("time", ""))) or \
                    not _int_in({"d": c.get("offset_days", 0)}, "d", -30, 30):
                out.add(nid, "wait_date", _("Give the member's date, the days before or after it and the time."))
        else:
            out.add(nid, "wait_mode", _("Choose how to wait."))
    elif kind == "branch":
        test = c.get("test")
        if test == "condition":
            from yundian.cdp.conditions import condition_ids, condition_validate
            from yundian.core.errors import ValidationFailed

            try:
                tree = condition_validate(c.get("condition"))
            except ValidationFailed as e:
                out.add(nid, "branch_condition", e.message)
            else:
                for what, ids in condition_ids(tree).items():
                    wanted[what].extend((nid, i) for i in ids)
        elif test == "event":
            from yundian.cdp.warehouse_tables import EVENT_KINDS

            if c.get("event") not in EVENT_KINDS:
                out.add(nid, "branch_event", _("Choose an event."))
        elif test != "order":
            out.add(nid, "branch_test", _("Choose what the branch checks."))
    elif kind == "split":
        weights = c.get("weights")
        if not (isinstance(weights, list) and 2 <= len(weights) <= len(ARM_PORTS)
                and all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 100 for w in weights)):
            out.add(nid, "split_weights", _("Give 2 to 5 arms, each weighing 1 to 100."))
        if not _int_in({"h": c.get("holdout", 0)}, "h", 0, 50):
            out.add(nid, "split_holdout", _("The holdout is 0 to 50 per cent."))
    elif kind == "coupon":
        if not _id_ok(c.get("campaign_id")):
            out.add(nid, "coupon_campaign", _("Choose a coupon campaign."))
        else:
            wanted["campaign"].append((nid, c["campaign_id"]))
    elif kind == "points":
        if not _int_in(c, "points", 1, 100_000):
            out.add(nid, "points_amount", _("Give the points to grant (1 to 100000)."))
    elif kind == "tag":
        if c.get("action", "add") not in ("add", "remove"):
            out.add(nid, "tag_action", _("Choose to add or remove the tag."))
        if not _id_ok(c.get("tag_id")):
            out.add(nid, "tag_missing", _("Choose a tag."))
        else:
            wanted["tag"].append((nid, c["tag_id"]))
    elif kind == "message":
        if c.get("channel") not in CHANNELS:
            out.add(nid, "message_channel", _("Choose a channel."))
        if not _id_ok(c.get("template_id")):
            out.add(nid, "message_template", _("Choose a message template."))
        else:
            wanted["template"].append((nid, c["template_id"]))
        variables = c.get("variables", {})
        if not isinstance(variables, dict) or not all(isinstance(k, str) and isinstance(v, str | int)
                                                      for k, v in variables.items()):
            out.add(nid, "message_variables", _("The message's variables are not valid."))
        if not isinstance(c.get("recommend", False), bool):
            out.add(nid, "message_recommend", _("Choose whether to add suggestions for the product viewed."))
    elif kind == "guide_task":
        title = c.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > 120:
            out.add(nid, "guide_task_title", _("Give the task a title (up to 120 characters)."))
        if not isinstance(c.get("note", ""), str) or len(c.get("note", "")) > 500:
            out.add(nid, "guide_task_note", _("The note is at most 500 characters."))
        if not _int_in({"d": c.get("due_days", 1)}, "d", 0, 60):
            out.add(nid, "guide_task_due", _("The task is due within 0 to 60 days."))
    elif kind == "webhook":
        url = c.get("url")
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/$.?#][^\s]*$", url) or len(url) > 500:
            out.add(nid, "webhook_url", _("Give the address to call (http or https)."))
        if not _int_in({"t": c.get("timeout", 5)}, "t", 1, 30):
            out.add(nid, "webhook_timeout", _("The timeout is 1 to 30 seconds."))


def _ids_exist(enterprise_id: int, wanted: dict, out: _Issues) -> None:
    from yundian.catalog.models import Category, Sku
    from yundian.cdp.models import Segment, Tag
    from yundian.members.models import Tier
    from yundian.org.models import OrgNode, Staff
    from yundian.promotions.models import CodeMode, CouponCampaign

    found = {
        "segment": Segment.objects.filter(enterprise_id=enterprise_id, is_archived=False),
        "tag": Tag.objects.filter(enterprise_id=enterprise_id),
        "campaign": CouponCampaign.objects.filter(enterprise_id=enterprise_id),
        "tier": Tier.objects.filter(enterprise_id=enterprise_id),
        "store": OrgNode.objects.filter(enterprise_id=enterprise_id),
        "staff": Staff.objects.filter(enterprise_id=enterprise_id),
        "category": Category.objects.filter(enterprise_id=enterprise_id),
        "sku": Sku.objects.filter(enterprise_id=enterprise_id),
    }
    try:
        from yundian.messaging.models import MessageTemplate  # lands with the messaging context

        found["template"] = MessageTemplate.objects.filter(enterprise_id=enterprise_id)
    except ImportError:
        pass
    for what, pairs in wanted.items():
        if not pairs or what not in found:
            continue
        queryset = found[what]
        if what == "campaign":
            queryset = queryset.filter(code_mode=CodeMode.UNIQUE)
        known = set(queryset.filter(pk__in={i for _n, i in pairs}).values_list("pk", flat=True))
        for nid, ident in pairs:
            if ident not in known:
                out.add(nid, "unknown_id", _("The chosen %(what)s does not exist.") % {"what": _label(what)})


def _label(what: str) -> str:
    return {"segment": _("segment"), "tag": _("tag"), "campaign": _("coupon campaign"), "tier": _("tier"),
            "store": _("store"), "staff": _("guide"), "category": _("category"), "sku": _("product"),
            "template": _("message template")}.get(what, what)


def validate(graph: Any, enterprise_id: int | None = None) -> list[dict]:
    """Everything wrong with a graph, each as {"node", "code", "message"}; [] when it may be published."""
    out = _Issues()
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list) \
            or not isinstance(graph.get("edges"), list):
        out.add("", "graph_invalid", _("The journey could not be read."))
        return out.items
    nodes: dict[str, dict] = {}
    for node in graph["nodes"]:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not _ID.match(node["id"]):
            out.add("", "node_invalid", _("A step could not be read."))
            continue
        if node["id"] in nodes:
            out.add(node["id"], "node_duplicate", _("Two steps share this id."))
            continue
        if node.get("kind") not in KINDS:
            out.add(node["id"], "node_kind_unknown", _("This kind of step is unknown."))
            continue
        nodes[node["id"]] = node
    if len(nodes) > MAX_NODES:
        out.add("", "graph_too_large", _("A journey has at most %(n)d steps.") % {"n": MAX_NODES})
        return out.items
    entries = [n for n in nodes.values() if n["kind"] == "entry"]
    if len(entries) != 1:
        out.add("", "entry_count", _("A journey has exactly one entry."))

    targets: dict[tuple[str, str], list[str]] = defaultdict(list)
    incoming: dict[str, int] = defaultdict(int)
    following: dict[str, set[str]] = defaultdict(set)
    for edge in graph["edges"]:
        if not isinstance(edge, dict) or not all(isinstance(edge.get(k), str) for k in ("source", "port", "target")):
            out.add("", "edge_invalid", _("A connection could not be read."))
            continue
        source, port, target = edge["source"], edge["port"], edge["target"]
        if source not in nodes or target not in nodes:
            out.add(source if source in nodes else "", "edge_dangling",
                    _("A connection leads to or from a step that does not exist."))
            continue
        if port not in ports(nodes[source]):
            out.add(source, "edge_port_unknown", _("This step has no output named %(port)s.") % {"port": port})
            continue
        if source == target:
            out.add(source, "edge_self", _("A step cannot lead to itself."))
            continue
        targets[(source, port)].append(target)
        incoming[target] += 1
        following[source].add(target)
    for nid, node in nodes.items():
        for port in ports(node):
            count = len(targets.get((nid, port), []))
            if count == 0:
                out.add(nid, "port_unconnected",
                        _("Connect the output %(port)s, or lead it to an end.") % {"port": port})
            elif count > 1:
                out.add(nid, "port_multiple", _("The output %(port)s leads to more than one step.") % {"port": port})
        if node["kind"] == "entry" and incoming.get(nid):
            out.add(nid, "entry_incoming", _("Nothing may lead back into the entry."))
    if len(entries) == 1:
        reached, todo = {entries[0]["id"]}, [entries[0]["id"]]
        while todo:
            for nxt in following.get(todo.pop(), ()):
                if nxt not in reached:
                    reached.add(nxt)
                    todo.append(nxt)
        for nid in nodes:
            if nid not in reached:
                out.add(nid, "node_unreachable", _("No path from the entry reaches this step."))
    for nid in _cycle_without_wait(nodes, following):
        out.add(nid, "cycle_without_wait", _("This step is on a loop with no wait in it."))
    wanted: dict[str, list] = defaultdict(list)
    for node in nodes.values():
        _config(node, out, wanted)
    if enterprise_id is not None and wanted:
        _ids_exist(enterprise_id, wanted, out)
    return out.items


def _cycle_without_wait(nodes: dict, following: dict) -> list[str]:
    """The nodes lying on a cycle of non-wait nodes (Tarjan's strongly connected components over them)."""
    inner = {n for n, node in nodes.items() if node["kind"] != "wait"}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[str] = []
    counter = [0]

    def strongconnect(start: str) -> None:
        work = [(start, iter(sorted(following.get(start, set()) & inner)))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(following.get(w, set()) & inner))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.extend(sorted(component))

    for n in sorted(inner):
        if n not in index:
            strongconnect(n)
    return found


def node_map(graph: dict) -> dict[str, dict]:
    return {n["id"]: n for n in graph.get("nodes", [])}


def next_node(graph_edges: dict[tuple[str, str], str], node_id: str, port: str) -> str | None:
    return graph_edges.get((node_id, port))


def edge_map(graph: dict) -> dict[tuple[str, str], str]:
    """(source, port) -> target."""
    return {(e["source"], e["port"]): e["target"] for e in graph.get("edges", [])}


def entry_of(graph: dict) -> dict:
    return next(n for n in graph["nodes"] if n["kind"] == "entry")
