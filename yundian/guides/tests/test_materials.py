"""Materials library and sharing: HQ or a region uploads, the guides under it share (one link per guide and
material); what comes through the link is the guide's — opens once per browser, sign-ups, orders with their
commission and referral reward, each once and reversed on return — and the funnels count it."""
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from yundian.core.errors import Forbidden, NotFound, ValidationFailed
from yundian.guides import funnels, materials
from yundian.guides.models import CommissionEntry, Material, MaterialShare
from yundian.members.tests.factories import register
from yundian.promotions import services as promotions
from yundian.promotions.models import ReferralEntry, ShareLinkSignup, ShareLinkVisit
from yundian.sales import services as sales
from yundian.sales.tests.factories import assert_ledgers_clean, commission_of, next_ref, plan, stocked

pytestmark = pytest.mark.django_db


def png(colour=(200, 30, 60), name="poster.png") -> SimpleUploadedFile:
    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (60, 90), colour).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def stock(chain):
    return stocked(chain, units=20)


def card(chain, stock, node=None, **kwargs) -> Material:
    return materials.material_create(actor=chain.admin, node_id=(node or chain.hq).id, kind="product_card",
                                     title="T 恤上新", body="纯棉，夏天必备", product_id=stock.cat.tee.pk, **kwargs)


def test_a_regions_material_reaches_only_the_guides_under_it_while_it_is_valid(chain, stock):
    east = materials.material_create(actor=chain.east_manager, node_id=chain.east.id, kind="poster",
                                     title="华东海报", upload=png())
    everyone = card(chain, stock)
    expired = card(chain, stock, valid_from="2020-01-01", valid_until="2020-02-01")
    assert east.file.name.startswith("guides/materials/") and expired.valid_until.year == 2020
    assert set(materials.materials_for_guide(actor=chain.guide_a)) == {east, everyone}
    assert set(materials.materials_for_guide(actor=chain.guide_b)) == {everyone}
    with pytest.raises(NotFound):
        materials.material_share(actor=chain.guide_b, material_id=east.pk)
    with pytest.raises(NotFound):  # the west's manager does not see the east
        materials.material_managed(actor=chain.west_manager, material_id=east.pk)
    with pytest.raises(NotFound):  # and cannot upload there
        materials.material_create(actor=chain.west_manager, node_id=chain.east.id, kind="copy", title="x", body="y")


def test_bad_materials_are_refused_and_nothing_is_written(chain, stock):
    bad = [
        ({"kind": "poster", "title": "no picture"}, ValidationFailed, "file_required"),
        ({"kind": "poster", "title": "not a picture", "upload": SimpleUploadedFile("x.png", b"hello")},
         ValidationFailed, "not_an_image"),
        ({"kind": "video", "title": "not a video", "upload": SimpleUploadedFile("v.mp4", b"\x00" * 40)},
         ValidationFailed, "unsupported_video"),
        ({"kind": "product_card", "title": "no product"}, ValidationFailed, "product_required"),
        ({"kind": "copy", "title": "", "body": "x"}, ValidationFailed, "invalid_text"),
        ({"kind": "copy", "title": "t", "body": "b", "valid_from": "2026-02-01", "valid_until": "2026-01-01"},
         ValidationFailed, "invalid_window"),
        ({"kind": "gif", "title": "t"}, ValidationFailed, "invalid_kind"),
    ]
    for kwargs, error, code in bad:
        with pytest.raises(error) as exc:
            materials.material_create(actor=chain.admin, node_id=chain.hq.id, **kwargs)
        assert exc.value.code == code
    with pytest.raises(Forbidden):  # a guide shares, never uploads
        materials.material_create(actor=chain.guide_a, node_id=chain.store_a.id, kind="copy", title="t", body="b")
    assert Material.objects.count() == 0


def test_sharing_again_gives_the_same_link_and_a_poster_with_its_qr_code(chain, stock):
    from PIL import Image

    material = card(chain, stock)
    first = materials.material_share(actor=chain.guide_a, material_id=material.pk)
    again = materials.material_share(actor=chain.guide_a, material_id=material.pk)
    other = materials.material_share(actor=chain.manager_a, material_id=material.pk)
    assert (first.pk, again.times, first.link.source, first.link.product_id) == (again.pk, 2, f"material:{material.pk}",
                                                                                stock.cat.tee.pk)
    assert other.link_id != first.link_id and MaterialShare.objects.count() == 2
    data = materials.poster_png(material=material, url=f"https://shop.example/r/{first.link.code}/",
                                guide_name="导购小王", store_name="Store A", price_text="¥99.00", scan_text="扫码购买")
    with Image.open(BytesIO(data)) as image:
        assert (image.format, image.size) == ("PNG", (750, 1200))


def test_an_order_through_a_guides_link_is_theirs_once_and_a_return_takes_it_back(chain, stock):
    # given a 5 % commission plan, a 10 % referral rule and a guide's shared product card
    plan(chain, "0.05")
    promotions.referral_rule_set(actor=chain.admin, rate="0.10")
    share = materials.material_share(actor=chain.guide_a, material_id=card(chain, stock).pk)
    member = register(chain)
    # when the manager rings up the member's order that came by the link, and the till sends it again
    ref = next_ref()
    kwargs = dict(actor=chain.manager_a, store_id=chain.store_a.id, client_ref=ref, share_code=share.link.code,
                  member_id=member.pk, lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 2}],
                  payments=[{"method": "card", "client_ref": "c"}])
    order = sales.order_create(**kwargs).order
    assert sales.order_create(**kwargs).order.pk == order.pk
    # then the guide (not the clerk) earns the commission once and the referral reward once
    assert [l.guide_id for l in order.lines.all()] == [chain.guide_a.id]
    assert (commission_of(chain.guide_a), commission_of(chain.manager_a)) == (990, 0)
    reward = ReferralEntry.objects.get()
    assert (reward.kind, reward.amount, reward.link_id, reward.reward_kind) == ("reward", 1980, share.link_id,
                                                                                "commission")
    # when one of the two is returned, then half of each is taken back, once
    line = order.lines.get()
    back = dict(actor=chain.manager_a, order_id=order.pk, client_ref=next_ref("ret"),
                lines=[{"order_line_id": line.pk, "quantity": 1}], reason="size")
    sales.return_create(**back)
    sales.return_create(**back)
    assert commission_of(chain.guide_a) == 495
    assert sorted(ReferralEntry.objects.values_list("kind", "amount")) == [("reversal", -990), ("reward", 1980)]
    assert CommissionEntry.objects.filter(guide=chain.guide_a).count() == 2
    assert_ledgers_clean()


def test_the_funnel_counts_opens_once_per_browser_sign_ups_and_orders(chain, stock):
    from yundian.members.tests.storefront import plain_storefront

    plain_storefront(chain)
    material = card(chain, stock)
    share = materials.material_share(actor=chain.guide_a, material_id=material.pk)
    # two browsers open the link; the first reloads it twice
    first, second = Client(), Client()
    for browser in (first, first, first, second):
        assert browser.get(f"/p/r/{share.link.code}/").status_code == 302
    share.link.refresh_from_db()
    assert (share.link.visits, ShareLinkVisit.objects.count()) == (4, 2)
    # one new member signs up through it (twice recorded: still one), and buys once
    member = register(chain)
    assert promotions.share_link_signup(code=share.link.code, member_id=member.pk) is not None
    assert promotions.share_link_signup(code=share.link.code, member_id=member.pk) is None
    sales.order_create(actor=chain.manager_a, store_id=chain.store_a.id, client_ref=next_ref(), member_id=member.pk,
                       share_code=share.link.code, lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}],
                       payments=[{"method": "card", "client_ref": "c"}])
    by_material = funnels.share_funnel(actor=chain.admin, by="material")
    assert [(r.key, r.links, r.opens, r.signups, r.orders, r.gmv) for r in by_material] == [
        (material.pk, 1, 2, 1, 1, 9900)]
    by_guide = funnels.share_funnel(actor=chain.guide_a, by="guide")
    assert [(r.key, r.opens, r.orders) for r in by_guide] == [(chain.guide_a.id, 2, 1)]
    assert funnels.share_funnel(actor=chain.guide_b, by="guide") == []  # another store's guide sees nothing
    assert funnels.share_funnel(actor=chain.manager_b, by="material") == []
    assert ShareLinkSignup.objects.count() == 1
