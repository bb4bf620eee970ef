"""The workbench pages through the test client: HQ uploads a material on the library page (a bad upload is
refused with its code and nothing written), the guide shares it (JSON for the share sheet, the poster PNG), opens
a group and a member joins it on the storefront, a competition is set up and shows its board, the funnels page;
other stores' objects are 404."""
from datetime import timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from yundian.guides.models import CommunityGroup, CommunityMember, Competition, Material, MaterialShare
from yundian.members.tests.factories import register
from yundian.members.tests.storefront import plain_storefront
from yundian.org.tests.utils import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _png() -> SimpleUploadedFile:
    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (80, 120), (30, 120, 200)).save(out, format="PNG")
    return SimpleUploadedFile("spring.png", out.getvalue(), content_type="image/png")


def test_hq_uploads_a_poster_and_the_guide_shares_it_with_one_tap(chain):
    hq, guide = client_for(chain.admin), client_for(chain.guide_a)
    bad = hq.post("/guides/materials/", {"node_id": chain.hq.id, "kind": "poster", "title": "海报"})
    assert bad.status_code == 422 and b'data-code="file_required"' in bad.content and Material.objects.count() == 0
    assert hq.post("/guides/materials/", {"node_id": chain.hq.id, "kind": "poster", "title": "春季海报",
                                          "body": "全场七折", "file": _png()}).status_code == 302
    material = Material.objects.get()
    assert "春季海报" in hq.get("/guides/materials/").content.decode()
    page = guide.get("/guides/share/").content.decode()
    assert f'id="material-{material.pk}"' in page and "data-share" in page
    first = guide.post(f"/guides/share/{material.pk}/").json()
    again = guide.post(f"/guides/share/{material.pk}/").json()
    assert first["url"] == again["url"] and first["url"].startswith("http://testserver/p/r/")
    assert again["times"] == 2 and MaterialShare.objects.count() == 1
    poster = guide.get(first["poster"])
    assert poster.status_code == 200 and poster["Content-Type"] == "image/png" and poster.content[:4] == b"\x89PNG"
    assert client_for(chain.guide_b).get(first["poster"]).status_code == 404  # another guide's poster
    assert client_for(chain.guide_b).post(f"/guides/share/{material.pk}/").status_code == 200  # HQ's: everyone's
    assert guide.get("/guides/funnels/").status_code == 404  # a guide reads their own figures on the share page
    assert "春季海报" in hq.get("/guides/funnels/").content.decode()


def test_a_member_joins_a_guides_group_on_the_storefront(chain):
    plain_storefront(chain)
    guide = client_for(chain.guide_a)
    assert guide.post("/guides/groups/", {"name": ""}).status_code == 422
    assert guide.post("/guides/groups/", {"name": "宝妈群"}).status_code == 302
    group = CommunityGroup.objects.get()
    detail = guide.get(f"/guides/groups/{group.pk}/").content.decode()
    assert f"/j/{group.join_code}/" in detail
    assert guide.get(f"/guides/groups/{group.pk}/qr.png")["Content-Type"] == "image/png"
    assert client_for(chain.guide_b).get(f"/guides/groups/{group.pk}/").status_code == 404
    # a visitor who is not signed in is sent to sign in; a signed-in member joins once
    visitor = Client()
    assert visitor.post(f"/j/{group.join_code}/")["Location"].startswith("/s/")
    member = register(chain)
    shopper = Client()
    from yundian.members.account import SESSION_KEY

    session = shopper.session
    session[SESSION_KEY] = {"m": member.pk, "e": member.enterprise_id}  # as the sign-in page leaves it
    session.save()
    assert shopper.post(f"/j/{group.join_code}/").status_code == 302
    assert shopper.post(f"/j/{group.join_code}/").status_code == 302
    assert 'id="joined"' in shopper.get(f"/j/{group.join_code}/").content.decode()
    assert CommunityMember.objects.filter(group=group).count() == 1
    assert Client().get("/j/nope/").status_code == 404


def test_a_competition_is_set_up_and_its_board_shows_the_guides(chain):
    manager = client_for(chain.manager_a)
    now = timezone.localtime()
    form = {"name": "店内 PK", "node_id": chain.store_a.id, "competitor": "guide", "metric": "sales",
            "starts_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), "prize_top_n": "1", "prize": "奶茶"}
    bad = manager.post("/guides/competitions/", {**form, "metric": "likes"})
    assert bad.status_code == 422 and Competition.objects.count() == 0
    assert manager.post("/guides/competitions/", form).status_code == 302
    competition = Competition.objects.get()
    board = client_for(chain.guide_a).get(f"/guides/competitions/{competition.pk}/").content.decode()
    assert 'id="board"' in board and "guide-a" in board
    assert client_for(chain.guide_b).get(f"/guides/competitions/{competition.pk}/").status_code == 404
    moved = client_for(chain.guide_a).get("/guides/ranking/")  # the old workbench page is the phone's now
    assert (moved.status_code, moved["Location"]) == (301, "/guides/me/ranking/")
    ranking = client_for(chain.guide_a).get("/guides/me/ranking/").content.decode()
    assert f'data-competition="{competition.pk}"' in ranking


def test_my_ranking_is_one_page_of_my_competitions_and_this_months_boards_with_my_row_highlighted(chain):
    import re

    from yundian.guides import materials
    from yundian.org import services as org_services
    from yundian.org.roles import Role
    from yundian.org.tests.factories import PASSWORD
    from yundian.sales.tests.factories import sell, stocked

    stock = stocked(chain, units=5)
    peer = org_services.staff_create(actor=chain.admin, home_id=chain.store_a.id, username="acme-li",
                                     display_name="李娜", password=PASSWORD, role=Role.GUIDE)
    sell(peer, chain.store_a, [(stock.cat.mug_sku, 1)])
    copy = materials.material_create(actor=chain.admin, node_id=chain.hq.id, kind="copy", title="会员日", body="x")
    materials.material_share(actor=chain.guide_a, material_id=copy.pk)
    guide = client_for(chain.guide_a)

    def board(query=""):
        page = guide.get(f"/guides/me/ranking/{query}").content.decode()
        rows = re.findall(r'<li class="rank( me)?"[^>]*><span>(\d+)</span><span>([^<]+)</span><span>([^<]+)</span>', page)
        return page, [(rank, name, shown, bool(me)) for me, rank, name, shown in rows]

    page, rows = board()  # sales by default, among my store
    assert rows == [("1", "李娜", "¥25.00", False), ("2", "guide-a", "¥0.00", True)]
    assert 'data-testid="my-place"' in page and "¥25.01" in page  # what it takes to move up
    assert board("?by=shares")[1] == [("1", "guide-a", "1", True), ("2", "李娜", "0", False)]
    assert [r[1] for r in board("?by=tasks")[1]] == ["guide-a", "李娜"]  # equal: by name
    assert board("?by=new_members")[1][0][0] == "1"
    assert board("?by=net_sales")[1] == rows  # the old page's keys still work
    region = board("?by=sales&among=region")[1]  # the store's parent: its other stores' guides too
    assert [r[1] for r in region] == ["李娜", "guide-a"]
    assert client_for(chain.guide_b).get("/guides/me/ranking/").content.decode().count('class="rank me"') == 1
