"""What the canvas offers: each node kind's translated name, icon, group, output ports and the fields its side
panel asks for. The panel is rendered here from these specs (real pickers for campaigns, tags, segments, message
templates, stores and SKUs; numbers with units for durations; a time of day), so the page never asks for a typed
id; `canvas.js` reads the panel back into the node's `config` by the same keys.

A field's `when` shows it only while another field holds one of the listed values (the entry's trigger decides
which of its settings apply); hidden fields are not saved. The ports of each kind are `graph.PORTS` (the graph's
own rule), and a split's are its arms' letters then `holdout`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _, pgettext_lazy

from yundian.cdp.models import LifecycleStage

from . import graph



@dataclass(frozen=True)
class Field:
    key: str
    label: str
    type: str  # choice | bool | int | duration (amount + unit) | time | datetime | picker | text | url | arms
    choices: tuple = ()  # (value, label) for choice
    picker: str = ""  # the picker kind (web/pickers.py) for picker
    multiple: bool = False
    default: object = None
    minimum: int | None = None
    maximum: int | None = None
    when: tuple = ()  # (other key, (values...)): shown only then
    hint: str = ""


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    group: str  # entry | flow | action
    icon: str  # SVG path data, 24×24, stroked
    fields: tuple[Field, ...] = field(default_factory=tuple)
    hint: str = ""


UNITS = (("minutes", _("minutes")), ("hours", _("hours")), ("days", _("days")))

TRIGGERS = (
    ("cart_abandoned", _("Cart abandoned")),
    ("first_purchase", _("First purchase")),
    ("product_viewed", _("Product viewed without buying")),
    ("browse_abandoned", _("Browsed without adding to cart")),
    ("birthday", _("Birthday")),
    ("points_expiring", _("Points about to expire")),
    ("tier_changed", _("Tier up or down")),
    ("lifecycle_changed", _("Lifecycle stage changed")),
    ("segment_joined", _("Joined a segment")),
    ("schedule", _("On a schedule, over a segment")),
    ("api", _("Called through the API")),
)
REENTRY = (("never", _("Never again")), ("after_days", _("Again after some days")))
WAIT_MODES = (("duration", _("For a while")), ("time_of_day", _("Until a time of day")),
              ("date_property", _("Until the member's birthday")))
BRANCH_TESTS = (("order", _("Placed an order since the wait began")),
                ("event", _("Did something since the wait began")),
                ("condition", _("Meets a condition")))
CONDITION_KINDS = (("tag", _("Has a tag")), ("points", _("Points balance")))
YES_NO = (("true", _("yes")), ("false", _("no")))
OPERATORS = ((">=", _("at least")), ("<", _("less than")))
EVENTS = (("product_view", _("Viewed a product")), ("add_to_cart", _("Added to cart")),
          ("page_view", _("Opened a page")), ("search", _("Searched")), ("share", _("Shared")),
          ("coupon_view", _("Looked at a coupon")), ("store_visit", _("Visited a store")), ("scan", _("Scanned a code")))
TIER_DIRECTIONS = (("up", _("Up")), ("down", _("Down")), ("any", _("Either way")))
SCHEDULE_REPEAT = (("once", _("Once")), ("daily", _("Every day")), ("weekly", _("Every week")))
TAG_ACTIONS = (("add", _("Add the tag")), ("remove", _("Remove the tag")))
CHANNELS = (("sms", _("SMS")), ("wechat", _("WeChat message")), ("email", _("Email")), ("inapp", _("In-app inbox")))

_on = lambda *triggers: ("trigger", triggers)  # noqa: E731 - a field shown for these triggers

ENTRY_FIELDS = (
    Field("trigger", _("Members enter when"), "choice", TRIGGERS, default="cart_abandoned"),
    Field("hours", _("Cart left for (hours)"), "int", default=2, minimum=1, maximum=720, when=_on("cart_abandoned")),
    Field("hours", _("No cart or order within (hours)"), "int", default=24, minimum=1, maximum=168,
          when=_on("browse_abandoned")),
    Field("times", _("Viewed at least (times)"), "int", default=3, minimum=1, maximum=100, when=_on("product_viewed")),
    Field("days", _("Within (days)"), "int", default=3, minimum=1, maximum=7, when=_on("product_viewed")),
    Field("days_before", _("Days before the birthday"), "int", default=7, minimum=0, maximum=30, when=_on("birthday")),
    Field("days", _("Points expire within (days)"), "int", default=30, minimum=1, maximum=90,
          when=_on("points_expiring")),
    Field("direction", _("Tier moved"), "choice", TIER_DIRECTIONS, default="up", when=_on("tier_changed")),
    Field("stage", _("Into the stage"), "choice", tuple(LifecycleStage.choices), default="dormant",
          when=_on("lifecycle_changed")),
    Field("segment_id", _("Segment"), "picker", picker="segment", when=_on("segment_joined", "schedule")),
    Field("at", _("First run at"), "datetime", when=_on("schedule")),
    Field("repeat", _("Repeat"), "choice", SCHEDULE_REPEAT, default="once", when=_on("schedule")),
    Field("reentry", _("Enter again"), "choice", REENTRY, default="never"),
    Field("reentry_days", _("Days before entering again"), "int", default=30, minimum=1, maximum=3650,
          when=("reentry", ("after_days",))),
)

ICONS = {
    "entry": "M5 12h10M11 7l5 5-5 5M19 5v14",
    "wait": "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7v5l3 2",
    "branch": "M6 3v12M18 9a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM6 21a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM18 9a9 9 0 0 1-9 9",
    "split": "M16 3h5v5M8 3H3v5M12 22v-8.3a4 4 0 0 0-1.2-2.8L3 3M21 3l-6.2 6.2",
    "coupon": "M3 8a2 2 0 0 0 0 4v4h18v-4a2 2 0 0 1 0-4V4H3zM9 4v12",
    "points": "M12 2l3 6.5 7 .8-5.2 4.8 1.4 7-6.2-3.6-6.2 3.6 1.4-7L2 9.3l7-.8z",
    "tag": "M20.6 13.4 13.4 20.6a2 2 0 0 1-2.8 0L3 13V3h10l7.6 7.6a2 2 0 0 1 0 2.8zM7.5 7.5h.01",
    "message": "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z",
    "guide_task": "M9 11l3 3L22 4M21 12v7a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h11",
    "webhook": "M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7",
    "end": "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM9 9h6v6H9z",
}

_cond = lambda *kinds: ("condition.kind", kinds)  # noqa: E731

KINDS: dict[str, Kind] = {kind.key: kind for kind in [
    Kind("entry", pgettext_lazy("journey node", "Entry"), "entry", ICONS["entry"], ENTRY_FIELDS,
         _("Who enters the journey, and when.")),
    Kind("wait", pgettext_lazy("journey node", "Wait"), "flow", ICONS["wait"], (
        Field("mode", _("Wait"), "choice", WAIT_MODES, default="duration"),
        Field("amount", _("For"), "duration", default=1, minimum=1, maximum=100_000, when=("mode", ("duration",))),
        Field("offset_days", _("Days after the birthday (before: negative)"), "int", default=0, minimum=-30,
              maximum=30, when=("mode", ("date_property",))),
        Field("time", _("At"), "time", default="10:00", when=("mode", ("time_of_day", "date_property"))),
    )),
    Kind("branch", pgettext_lazy("journey node", "Branch"), "flow", ICONS["branch"], (
        Field("test", _("“Yes” when the member"), "choice", BRANCH_TESTS, default="order"),
        Field("event", _("Did"), "choice", EVENTS, default="product_view", when=("test", ("event",))),
        Field("condition.kind", _("Condition"), "choice", CONDITION_KINDS, default="tag",
              when=("test", ("condition",))),
        Field("condition.tag_id", _("Tag"), "picker", picker="tag", when=_cond("tag")),
        Field("condition.has", _("Has it"), "bool", YES_NO, default=True, when=_cond("tag")),
        Field("condition.op", _("Points"), "choice", OPERATORS, default=">=", when=_cond("points")),
        Field("condition.value", _("Points balance"), "int", default=100, minimum=0, when=_cond("points")),
    ), _("Members who meet the condition leave by “yes”, the others by “no”.")),
    Kind("split", pgettext_lazy("journey node", "A/B split"), "flow", ICONS["split"], (
        Field("weights", _("Weight of each arm"), "arms", default=[50, 50]),
        Field("holdout", _("Holdout (%)"), "int", default=10, minimum=0, maximum=50,
              hint=_("The holdout gets nothing: it measures the uplift.")),
    ), _("Members are shared at random between the arms; the holdout group gets nothing.")),
    Kind("coupon", pgettext_lazy("journey node", "Issue a coupon"), "action", ICONS["coupon"], (
        Field("campaign_id", _("Coupon campaign"), "picker", picker="campaign",
              hint=_("A campaign with one code per member.")),
    )),
    Kind("points", pgettext_lazy("journey node", "Grant points"), "action", ICONS["points"], (
        Field("points", _("Points"), "int", default=100, minimum=1, maximum=100_000),
    )),
    Kind("tag", pgettext_lazy("journey node", "Add or remove a tag"), "action", ICONS["tag"], (
        Field("action", _("Do"), "choice", TAG_ACTIONS, default="add"),
        Field("tag_id", _("Tag"), "picker", picker="tag"),
    )),
    Kind("message", pgettext_lazy("journey node", "Send a message"), "action", ICONS["message"], (
        Field("channel", _("Channel"), "choice", CHANNELS, default="sms"),
        Field("template_id", _("Message template"), "picker", picker="message_template"),
        Field("recommend", _("Add suggestions for the product viewed"), "bool", YES_NO, default=False,
              hint=_("Fills $product_name and $recommendations (goods that go with it, in stock at the member's "
                     "store).")),
    ), _("Frequency caps, quiet hours and consent apply; quiet hours defer, never drop.")),
    Kind("guide_task", pgettext_lazy("journey node", "Task for the member's guide"), "action", ICONS["guide_task"], (
        Field("title", _("Task"), "text"),
        Field("note", _("Note"), "text"),
        Field("due_days", _("Due within (days)"), "int", default=2, minimum=0, maximum=60),
    )),
    Kind("webhook", pgettext_lazy("journey node", "Call a webhook"), "action", ICONS["webhook"], (
        Field("url", _("Address"), "url"),
        Field("timeout", _("Give up after (seconds)"), "int", default=5, minimum=1, maximum=30),
    )),
    Kind("end", pgettext_lazy("journey node", "End"), "flow", ICONS["end"]),
]}

GROUPS = (("entry", _("Entry")), ("flow", _("Flow")), ("action", _("Actions")))

ARM_LETTERS = "".join(graph.ARM_PORTS)
PORT_LABELS = {"out": "", "yes": pgettext_lazy("branch port", "yes"), "no": pgettext_lazy("branch port", "no"),
               "holdout": pgettext_lazy("split port", "holdout")}


def default_config(kind: str) -> dict:
    """A new node's config: the defaults of the fields shown at first (a duration brings its unit)."""
    config: dict = {}
    shown = {}
    for f in KINDS[kind].fields:
        visible = not f.when or (f.when[0] in shown and shown[f.when[0]] in f.when[1])
        if not visible or f.default is None:
            continue
        shown[f.key] = "true" if f.default is True else f.default
        _put(config, f.key, f.default)
        if f.type == "duration":
            config["unit"] = "days"
    if kind == "wait" and "unit" in config:
        config["unit"] = "hours"
    return config


def _put(config: dict, key: str, value) -> None:
    head, _dot, rest = key.partition(".")
    if rest:
        _put(config.setdefault(head, {}), rest, value)
    else:
        config[head] = value


def _get(config: dict, key: str):
    for part in key.split("."):
        if not isinstance(config, dict):
            return None
        config = config.get(part)
    return config


def palette_json() -> dict:
    """What canvas.js needs about each kind: name, icon, group, ports, default config, port labels."""
    return {
        "kinds": {k.key: {"label": str(k.label), "icon": k.icon, "group": k.group,
                          "ports": list(graph.ports({"kind": k.key, "config": default_config(k.key)})),
                          "inputs": 0 if k.key == "entry" else 1, "config": default_config(k.key)}
                  for k in KINDS.values()},
        "portLabels": {key: str(label) for key, label in PORT_LABELS.items()},
        "letters": ARM_LETTERS,
    }


def groups() -> list[dict]:
    """The palette's sections in order, each with its kinds."""
    return [{"key": key, "label": label, "kinds": [k for k in KINDS.values() if k.group == key]}
            for key, label in GROUPS]


PICKER_MODELS = {  # picker kind -> (app label, model, name field): the names of chosen ids, for node summaries
    "campaign": ("promotions", "CouponCampaign", "promotion__name"),
    "tag": ("cdp", "Tag", "name"),
    "segment": ("cdp", "Segment", "name"),
    "message_template": ("messaging", "MessageTemplate", "name"),
}


def picker_ready(kind: str) -> bool:
    from django.apps import apps

    app, _model, _name = PICKER_MODELS.get(kind, ("", "", ""))
    return not app or apps.is_installed(f"yundian.{app}")


def _names(enterprise_id: int, wanted: dict[str, set]) -> dict[str, dict[int, str]]:
    from django.apps import apps

    out: dict[str, dict[int, str]] = {}
    for kind, ids in wanted.items():
        if kind not in PICKER_MODELS or not picker_ready(kind):
            continue
        app, model, name = PICKER_MODELS[kind]
        rows = apps.get_model(app, model).objects.filter(enterprise_id=enterprise_id, pk__in=ids)
        out[kind] = dict(rows.values_list("pk", name))
    return out


def _visible(fields, config: dict) -> list[Field]:
    shown, out = {}, []
    for f in fields:
        if f.when and not (f.when[0] in shown and _text_value(shown[f.when[0]]) in f.when[1]):
            continue
        shown[f.key] = _get(config, f.key)
        out.append(f)
    return out


def _text_value(value) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _field_text(f: Field, config: dict, names: dict) -> str:
    value = _get(config, f.key)
    if value in (None, "", []):
        return ""
    if f.type == "bool" and f.default is False:  # an option that is off unless chosen: named only when on
        return str(f.label) if value is True else ""
    if f.type in ("choice", "bool"):
        return str(dict(f.choices).get(_text_value(value), value))
    if f.type == "picker":
        ids = value if isinstance(value, list) else [value]
        return ", ".join(names.get(f.picker, {}).get(i, "") for i in ids if isinstance(i, int)).strip(", ")
    if f.type == "duration":
        return f"{f.label} {value} {dict(UNITS).get(config.get('unit'), '')}".strip()
    if f.type == "arms":
        return " / ".join(str(v) for v in value) if isinstance(value, list) else ""
    return f"{f.label} {value}"


def summaries(actor, graph: dict) -> dict[str, str]:
    """A line under each node's title: its first few settings in words (names for chosen ids)."""
    nodes = [n for n in (graph or {}).get("nodes", []) if isinstance(n, dict) and n.get("kind") in KINDS]
    wanted: dict[str, set] = {}
    for node in nodes:
        for f in KINDS[node["kind"]].fields:
            if f.type == "picker":
                value = _get(node.get("config") or {}, f.key)
                wanted.setdefault(f.picker, set()).update(
                    i for i in (value if isinstance(value, list) else [value]) if isinstance(i, int))
    names = _names(actor.enterprise_id, wanted)
    out = {}
    for node in nodes:
        config = node.get("config") or {}
        texts = [_field_text(f, config, names) for f in _visible(KINDS[node["kind"]].fields, config)]
        out[str(node.get("id"))] = " · ".join([t for t in texts if t][:3])
    return out


def panel_fields(actor, kind: str, config: dict) -> list[dict]:
    """The side panel's rows for a node: each field with its value from `config` and whether it shows now."""
    visible = {id(f) for f in _visible(KINDS[kind].fields, config)}  # by field: two may share a key
    rows, seen = [], {}
    for f in KINDS[kind].fields:
        seen[f.key] = seen.get(f.key, 0) + 1  # a key two triggers use (days, hours): one element id each
        dom_id = f.key if seen[f.key] == 1 else f"{f.key}-{seen[f.key]}"
        value = _get(config, f.key)
        if value is None and id(f) not in visible:
            value = f.default
        if f.type == "bool":
            value = _text_value(value if value is not None else f.default)
        rows.append({"field": f, "dom_id": dom_id, "value": value, "hidden": id(f) not in visible,
                     "unit": config.get("unit") or "hours", "units": UNITS,
                     "ready": f.type != "picker" or picker_ready(f.picker),
                     "when_values": ",".join(f.when[1]) if f.when else "",
                     "arms": [{"letter": ARM_LETTERS[i].upper(), "weight": w}
                              for i, w in enumerate(value if isinstance(value, list) else [50, 50])][:len(ARM_LETTERS)]
                     if f.type == "arms" else []})
    return rows


COUNT_KEYS = ("entered", "passed", "waiting", "exited")


def results_view(data: dict) -> dict:
    """`results.journey_results` as the canvas draws it: `canvas` (badges per node: entered, passed, waiting,
    exited, with their words), the tiles of the results panel (members entered, goal reached, revenue, coupon
    cost, uplift against the holdout with its interval) and a chart of goal conversion by arm."""
    from yundian.core import charts
    from yundian.core.money import Money

    labels = {"entered": pgettext_lazy("journey count", "entered"), "passed": pgettext_lazy("journey count", "passed"),
              "waiting": pgettext_lazy("journey count", "waiting"), "exited": pgettext_lazy("journey count", "exited")}
    nodes = {str(gid): {k: int(counts.get(k) or 0) for k in COUNT_KEYS}
             for gid, counts in (data.get("nodes") or {}).items()}
    currency = data.get("currency") or "CNY"
    lift = data.get("uplift") or {}
    tiles = [
        {"key": "entered", "label": _("Members entered"), "value": f"{int(data.get('entered') or 0):,}"},
        {"key": "converted", "label": _("Reached the goal"), "value": f"{int(data.get('converted') or 0):,}",
         "note": _("%(rate)s of those who entered") % {"rate": _percent(data.get("conversion_rate"))}},
        {"key": "revenue", "label": _("Revenue from members who got the journey"),
         "value": Money(int(data.get("revenue") or 0), currency).format()},
        {"key": "coupon_cost", "label": _("Coupon cost"),
         "value": Money(int(data.get("coupon_cost") or 0), currency).format(),
         "note": _("%(n)s coupons issued") % {"n": f"{int(data.get('coupons_issued') or 0):,}"}},
    ]
    chart = None
    if lift.get("holdout_members"):
        tiles.append({"key": "uplift", "label": _("Uplift against the holdout"), "value": _points(lift.get("uplift")),
                      "note": _("%(level)s%% interval %(low)s to %(high)s") % {
                          "level": round(100 * (lift.get("confidence") or 0.95)), "low": _points(lift.get("low")),
                          "high": _points(lift.get("high"))}})
    arms = [a for a in lift.get("arms") or [] if a.get("members")]
    if len(arms) > 1:
        chart = charts.bar(_("Goal conversion by arm"), x=[a["label"] for a in arms], unit=charts.PERCENT,
                           series=[charts.series(_("Conversion"), [round(100 * (a.get("rate") or 0), 1)
                                                                   for a in arms])])
    goal = data.get("goal") or {}
    note = (_("Goal: an order within %(days)s days of entering.") if goal.get("kind", "order") == "order"
            else _("Goal: the chosen event within %(days)s days of entering.")) % {"days": goal.get("days", 7)}
    if not lift.get("holdout_members"):
        missing = _("No holdout group: add an A/B split with a holdout to measure the uplift.")
        note = f"{note} {missing}"
    return {"canvas": {"nodes": nodes, "order": list(COUNT_KEYS), "labels": {k: str(v) for k, v in labels.items()}},
            "tiles": tiles, "chart": chart, "note": note}


def _percent(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _points(value) -> str:
    """A difference of two rates in percentage points, signed."""
    return "–" if value is None else str(_("%(value)s pp") % {"value": f"{100 * value:+.1f}"})
