"""Journeys step: three live journeys built from the starters (welcome series, cart abandonment, win-back of dormant
members) with their campaign and message templates chosen, and three weeks of members walking through them, so the
journey list and each canvas's results have figures. Runs after the history (its orders are the goals' conversions).

Shape at scale s (E members per journey; exact):
    E = min(M, 40 s)                    M: members_for(s) (the active members; twins are merged)
    journey_templates   3               a welcome, a cart reminder and a win-back message
    journey_campaigns   1               a unique-code "care" coupon, up to 3 per member
    journeys            3               published through the services (audited, version 1)
    journey_enrolments  3 E             each journey's members enter in cohorts 20, 15, 10, 6, 3 and 1 days ago,
                                        different members for each journey
The steps are run by the journey runner itself at each cohort's time and then now (coupons, points, messages and
guide tasks keyed by the step, as live): older cohorts are past their waits, the newest still wait. Splits, what
each step did and which members bought are the runner's and the history's, so they are not counted here.
"""
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step
from .members import members_for

LABELS = {"journey_templates": _("journey message templates"), "journey_campaigns": _("journey coupon campaigns"),
          "journeys": _("journeys"), "journey_enrolments": _("journey enrolments")}
COHORT_DAYS = (20, 15, 10, 6, 3, 1)
TEMPLATES = {
    "welcome": ("欢迎新会员", [("sms", "", "$member_name，欢迎加入 $store_name 会员！首单后我们为您准备了一张优惠券。"),
                             ("inapp", "欢迎加入", "$member_name，欢迎加入 $store_name 会员，优惠券已放进您的账户。")]),
    "cart": ("购物车提醒", [("sms", "", "$member_name，您购物车里的商品还在等您，优惠券已放进您的账户，$store_name 见。"),
                         ("inapp", "购物车里的商品还在", "您加购的商品还在购物车里，优惠券已到账。")]),
    "win_back": ("老朋友回来看看", [("sms", "", "$member_name，好久不见！$store_name 为您准备了回归礼，期待您再来。"),
                               ("inapp", "好久不见", "$store_name 为您准备了回归礼，期待您再来。")]),
}


def enrolled_for(scale: int) -> int:
    return min(members_for(scale), 40 * scale)


def counts_for(scale: int) -> dict[str, int]:
    return {"journey_templates": len(TEMPLATES), "journey_campaigns": 1, "journeys": 3,
            "journey_enrolments": 3 * enrolled_for(scale)}


def _configure(graph: dict, *, campaign_id: int, template_id: int) -> dict:
    """A starter's graph with the campaign and the message template the marketer would pick."""
    for node in graph["nodes"]:
        if node["kind"] == "coupon":
            node["config"]["campaign_id"] = campaign_id
        elif node["kind"] == "message":
            node["config"].update(template_id=template_id, channel="inapp" if node["config"].get("channel") == "wechat"
                                  else node["config"]["channel"])
        elif node["kind"] == "guide_task":
            node["config"]["title"] = str(node["config"].get("title") or _("Call a dormant member"))
    return graph


def run(ctx: SeedContext) -> None:
    from django.utils import timezone

    from yundian.catalog.models import Sku
    from yundian.journeys import runner, services as journeys, starters
    from yundian.members.models import Member, MemberStatus
    from yundian.messaging.services import template_create
    from yundian.promotions.services import coupon_campaign_create

    admin, hq = ctx.created["admin"], ctx.created["hq"]
    now = timezone.now()
    templates = {key: template_create(actor=admin, name=name, node_id=hq.pk,
                                      bodies=[{"channel": c, "subject": s, "body": b} for c, s, b in bodies])
                 for key, (name, bodies) in TEMPLATES.items()}
    care = coupon_campaign_create(actor=admin, node_id=hq.pk, code="CARE15", name=str(_("Member care coupon")),
                                  kind="threshold_amount", tiers=[{"min": 9900, "off": 1500}], per_member_limit=3,
                                  valid_from=now - timedelta(days=30), valid_to=now + timedelta(days=30))
    plans = [("welcome", _("Welcome series"), "welcome"), ("cart_abandonment", _("Cart abandonment"), "cart"),
             ("win_back", _("Win back dormant members"), "win_back")]
    e = enrolled_for(ctx.scale)
    members = list(Member.objects.filter(enterprise=ctx.enterprise, status=MemberStatus.ACTIVE, home__isnull=False)
                   .order_by("id").values_list("pk", flat=True)[:3 * e])
    skus = list(Sku.objects.filter(enterprise=ctx.enterprise, is_active=True).order_by("id")
                .values_list("pk", flat=True)[:50])
    live = []
    for index, (key, name, template_key) in enumerate(plans):
        starter = starters.STARTERS[key]
        graph = _configure(starters.graph_of(key), campaign_id=care.pk, template_id=templates[template_key].pk)
        journey = journeys.journey_create(actor=admin, name=str(name), node_id=hq.pk,
                                          description=str(starter.description), graph=graph, goal=starter.goal)
        journeys.journey_publish(actor=admin, journey_id=journey.pk)
        journey.refresh_from_db()
        # members of this journey: a slice of their own (wrapping when the chain has fewer members than 3 E)
        chosen = [members[(index * e + i) % len(members)] for i in range(e)] if members else []
        live.append((journey, chosen))
    moments = sorted({now - timedelta(days=d, hours=ctx.rng.randrange(0, 8)) for d in COHORT_DAYS})
    enrolled = 0
    for cohort, at in enumerate(moments):
        for journey, chosen in live:
            part = chosen[cohort::len(moments)]
            candidates = [(m, f"demo:{cohort}:{m}",
                           {"sku_id": skus[m % len(skus)]} if journey.trigger == "cart_abandoned" and skus else {})
                          for m in part]
            enrolled += runner.enrol(journey=journey, candidates=candidates, now=at)
        runner.step_all(now=at)
    runner.step_all(now=now)
    ctx.counts.update({"journey_templates": len(templates), "journey_campaigns": 1, "journeys": len(live),
                       "journey_enrolments": enrolled})


step = Step(name="journeys", shape=counts_for, run=run, labels=LABELS, after_history=True)
