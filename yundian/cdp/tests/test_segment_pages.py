"""Segment pages: the list with counts, the builder (its vocabulary in translated words, the live count and masked
preview endpoints), saving from the builder, a segment's page with its size over time; a region sees only its own."""
import json

import pytest

from yundian.analytics.sync import sync_run
from yundian.cdp.models import Segment
from yundian.members.tests.factories import register
from yundian.org.tests.utils import client_for

pytestmark = pytest.mark.django_db
WOMEN = {"kind": "gender", "in": ["f"]}


def _post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json", headers={"Accept-Language": "zh-hans"})


def test_build_count_preview_save_and_read_a_segment_on_the_pages(chain, warehouse):
    member = register(chain, gender="f", name="李娜", phone="13900001111")
    register(chain, store=chain.store_b, gender="f")
    sync_run()
    east = client_for(chain.east_manager)

    builder = east.get("/cdp/segments/new/", headers={"Accept-Language": "zh-hans"})
    html = builder.content.decode()
    assert builder.status_code == 200 and 'data-testid="segment-builder"' in html
    vocabulary = json.loads(html.split('id="segment-vocabulary" type="application/json">')[1].split("</script>")[0])
    assert {k["key"]: k["label"] for k in vocabulary["kinds"]}["event"] == "行为"
    assert {e["key"]: e["label"] for e in vocabulary["events"]}["add_to_cart"] == "加入购物车"

    assert _post_json(east, "/cdp/segments/count/", {"definition": WOMEN}).json() == {"count": 1}
    bad = _post_json(east, "/cdp/segments/count/", {"definition": {"group": "and", "conditions": []}})
    assert (bad.status_code, bad.json()["error"]["code"], bad.json()["error"]["message"]) == (
        422, "condition_empty_group", "条件组至少需要一个条件。")
    preview = _post_json(east, "/cdp/segments/preview/", {"definition": WOMEN}).content.decode()
    assert "李娜" in preview and "13900001111" in preview  # a region manager may see their members' phones

    saved = east.post("/cdp/segments/new/", {"name": "华东女性", "kind": "dynamic", "definition": json.dumps(WOMEN)})
    segment = Segment.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/cdp/segments/{segment.pk}/"
    page = east.get(f"/cdp/segments/{segment.pk}/", headers={"Accept-Language": "zh-hans"}).content.decode()
    assert 'data-testid="segment-size">1<' in page and 'data-testid="segment-size-chart"' in page and "李娜" in page
    listing = east.get("/cdp/segments/").content.decode()
    assert "华东女性" in listing and f"/cdp/segments/{segment.pk}/" in listing

    guide = client_for(chain.guide_a)  # sees the store's segments, never the region's builder
    assert guide.get(f"/cdp/segments/{segment.pk}/").status_code == 404
    assert guide.get("/cdp/segments/new/").status_code == 404
    assert client_for(chain.west_manager).get(f"/cdp/segments/{segment.pk}/").status_code == 404

    refused = east.post("/cdp/segments/new/", {"name": "华东女性", "kind": "dynamic", "definition": json.dumps(WOMEN)},
                        headers={"Accept-Language": "zh-hans"})
    assert refused.status_code == 422 and "已有人群使用此名称。" in refused.content.decode()
    assert Segment.objects.count() == 1
    assert member.pk in set(segment.members.values_list("member_id", flat=True))
