"""Tag pages: the tags page with kinds as words and holders in the viewer's scope, the lifecycle form (HQ only, bad
input re-rendered with nothing changed), the import with its per-row report (nothing written when refused), and
the member's CDP panel on the 360° page: tags with their source, add and remove, RFM and lifecycle, timeline."""
import io
from datetime import datetime, timedelta

import pytest
from django.utils import timezone, translation

from yundian.cdp import tags as svc
from yundian.cdp.models import LifecycleSettings, MemberScore, MemberTag, TagChange
from yundian.cdp.warehouse_tables import FACT_EVENT
from yundian.core.warehouse import rows_insert, warehouse_transaction, warehouse_write
from yundian.members.tests.factories import register
from yundian.org.tests.utils import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def sporty(chain):
    group = svc.tag_group_create(actor=chain.admin, name="兴趣", code="interest")
    return svc.tag_create(actor=chain.admin, group_id=group.id, name="爱运动", code="sporty")


def test_the_tags_page_shows_groups_kinds_and_holders_in_the_viewers_scope(chain, sporty):
    east, west = register(chain), register(chain, store=chain.store_b)
    svc.member_tags_bulk(actor=chain.admin, tag_id=sporty.id, member_ids=[east.id, west.id])
    with translation.override("zh-hans"):
        page = client_for(chain.east_manager).get("/cdp/tags/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert page.status_code == 200
    assert "爱运动" in html and "手动" in html and "规则" in html and "计算" in html
    assert '<td class="num" data-testid="holders">1</td>' in html  # East sees its own member only
    hq = client_for(chain.admin).get("/cdp/tags/").content.decode()
    assert '<td class="num" data-testid="holders">2</td>' in hq and 'action="/cdp/tags/refresh/"' in hq
    assert 'action="/cdp/tags/refresh/"' not in client_for(chain.manager_a).get("/cdp/tags/").content.decode()
    refresh = client_for(chain.admin).post("/cdp/tags/refresh/", HTTP_HX_REQUEST="true")
    assert refresh.status_code == 200 and 'hx-trigger="every 2s"' in refresh.content.decode()


def test_the_lifecycle_form_is_hqs_and_bad_input_changes_nothing(chain):
    page = client_for(chain.admin).get("/cdp/tags/lifecycle/")
    assert page.status_code == 200 and 'name="active_days"' in page.content.decode()
    assert 'name="active_days"' not in client_for(chain.east_manager).get("/cdp/tags/lifecycle/").content.decode()
    bad = client_for(chain.admin).post("/cdp/tags/lifecycle/", {"new_days": "30", "active_days": "400",
                                                                "dormant_days": "180", "lost_days": "365",
                                                                "won_back_days": "30"})
    assert bad.status_code == 422 and 'data-code="thresholds_order"' in bad.content.decode()
    assert LifecycleSettings.objects.get(enterprise_id=chain.admin.enterprise_id).active_days == 90
    ok = client_for(chain.admin).post("/cdp/tags/lifecycle/", {"new_days": "14", "active_days": "60",
                                                               "dormant_days": "120", "lost_days": "300",
                                                               "won_back_days": "14"})
    assert ok.status_code == 302
    assert LifecycleSettings.objects.get(enterprise_id=chain.admin.enterprise_id).active_days == 60


def _csv(text: str):
    upload = io.BytesIO(text.encode("utf-8"))
    upload.name = "tags.csv"
    return upload


def test_an_import_with_one_bad_row_writes_nothing_and_reports_each_row(chain, sporty):
    a, b = register(chain, phone="13800000001"), register(chain, phone="13800000002")
    west = register(chain, phone="13800000003", store=chain.store_b)
    client = client_for(chain.manager_a)
    bad = client.post("/cdp/tags/import/", {"file": _csv(
        "会员,标签\n13800000001,sporty\n13800000003,爱运动\nabc,sporty\n13800000009,sporty\n13800000002,nope\n")})
    html = bad.content.decode()
    assert bad.status_code == 422
    for row, code in ((3, "member_not_taggable"), (4, "invalid_member"), (5, "member_not_found"), (6, "tag_not_found")):
        assert f'<tr data-code="{code}"><td class="num">{row}</td>' in html
    assert MemberTag.objects.count() == 0 and TagChange.objects.count() == 0
    good = client.post("/cdp/tags/import/", {"file": _csv(f"member,tag\n13800000001,sporty\n#{b.id},爱运动\n")})
    assert good.status_code == 200 and 'class="notice"' in good.content.decode()
    assert set(MemberTag.objects.values_list("member_id", "source")) == {(a.id, "import"), (b.id, "import")}
    assert west.id not in set(MemberTag.objects.values_list("member_id", flat=True))
    refused = client.post("/cdp/tags/import/", {"file": _csv("phone,colour\n1,2\n")})
    assert refused.status_code == 422 and 'data-code="missing_columns"' in refused.content.decode()


def test_the_member_panel_shows_tags_with_their_source_rfm_lifecycle_and_behaviour(chain, sporty, warehouse):
    member = register(chain)
    svc.member_tag_add(actor=chain.guide_a, member_id=member.id, tag_id=sporty.id, reason="跑步")
    MemberScore.objects.create(member=member, enterprise_id=member.enterprise_id, r_score=5, f_score=4, m_score=3,
                               frequency=6, monetary=123450, rfm_group="important_value", lifecycle="won_back",
                               last_sale_date=timezone.localdate(), computed_at=timezone.now())
    now = timezone.now().replace(tzinfo=None)
    with warehouse_write() as con, warehouse_transaction(con):
        rows_insert(con, FACT_EVENT, FACT_EVENT.arrow({
            "enterprise_id": [member.enterprise_id] * 2, "event_key": ["e1", "e2"], "kind": ["store_visit", "add_to_cart"],
            "name": ["", ""], "occurred_at": [now - timedelta(hours=2), now - timedelta(hours=1)],
            "member_id": [member.id] * 2, "store_id": [chain.store_a.id] * 2}))
    with translation.override("zh-hans"):
        panel = client_for(chain.guide_a).get(f"/cdp/members/{member.id}/panel/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = panel.content.decode()
    assert panel.status_code == 200
    assert "爱运动" in html and "员工添加" in html and "重要价值" in html and "回流" in html and "¥1,234.50" in html
    assert html.index('data-kind="add_to_cart"') < html.index('data-kind="store_visit"')  # newest first
    # a guide removes the tag from the panel; a guide of West cannot open it
    removed = client_for(chain.guide_a).post(f"/cdp/members/{member.id}/panel/", {"remove": str(sporty.id)})
    assert removed.status_code == 200 and not MemberTag.objects.filter(member=member).exists()
    assert client_for(chain.guide_b).get(f"/cdp/members/{member.id}/panel/").status_code == 404
    # the 360° page and the till carry the panel's URL only
    detail = client_for(chain.guide_a).get(f"/members/{member.id}/").content.decode()
    assert f'hx-get="/cdp/members/{member.id}/panel/"' in detail


BIG_SPENDERS = {"group": "and", "conditions": [{"kind": "orders", "measure": "spent", "op": ">=", "value": 10_000,
                                                "days": 30}]}


def test_a_rule_tag_is_defined_and_changed_on_the_segment_builder_and_bad_conditions_change_nothing(chain, sporty):
    import json

    from yundian.cdp.models import Tag
    hq = client_for(chain.admin)
    page = hq.get("/cdp/tags/new-rule/").content.decode()
    assert 'data-testid="segment-builder"' in page and 'name="group_id"' in page and 'name="kind"' not in page
    assert "/cdp/tags/new-rule/" in hq.get("/cdp/tags/").content.decode()
    before = Tag.objects.count()
    bad = hq.post("/cdp/tags/new-rule/", {"group_id": sporty.group_id, "name": "大客", "code": "big",
                                          "definition": json.dumps({"group": "and", "conditions": [
                                              {"kind": "orders", "measure": "weight"}]})})
    assert bad.status_code == 422 and 'data-testid="segment-builder"' in bad.content.decode()
    assert Tag.objects.count() == before
    # the same malformed tree sent to the segment builder is answered in place too (it was a 500)
    bad_segment = hq.post("/cdp/segments/new/", {"name": "x", "kind": "dynamic", "definition": json.dumps(
        {"group": "and", "conditions": [{"kind": "orders", "measure": "weight"}]})})
    assert bad_segment.status_code == 422
    made = hq.post("/cdp/tags/new-rule/", {"group_id": sporty.group_id, "name": "大客", "code": "big",
                                           "definition": json.dumps(BIG_SPENDERS)})
    assert made.status_code == 302
    tag = Tag.objects.get(code="big")
    assert (tag.kind, tag.rule["conditions"][0]["value"]) == ("rule", 10_000)
    tags_page = hq.get("/cdp/tags/").content.decode()
    assert f"/cdp/tags/{tag.id}/rule/" in tags_page and f"/cdp/tags/{sporty.id}/rule/" not in tags_page

    edit = hq.get(f"/cdp/tags/{tag.id}/rule/").content.decode()
    assert '"value": 10000' in edit and 'name="group_id"' not in edit  # the builder starts from the stored rule
    tighter = {**BIG_SPENDERS, "conditions": [{**BIG_SPENDERS["conditions"][0], "value": 50_000}]}
    assert hq.post(f"/cdp/tags/{tag.id}/rule/", {"definition": json.dumps(tighter)}).status_code == 302
    tag.refresh_from_db()
    assert tag.rule["conditions"][0]["value"] == 50_000
    assert hq.post(f"/cdp/tags/{tag.id}/rule/", {"definition": "{not json"}).status_code == 422
    tag.refresh_from_db()
    assert tag.rule["conditions"][0]["value"] == 50_000
    # a manual tag has no rule page; a store guide may not define tags
    assert hq.get(f"/cdp/tags/{sporty.id}/rule/").status_code == 404
    assert client_for(chain.guide_a).get("/cdp/tags/new-rule/").status_code == 404  # the console hides it
