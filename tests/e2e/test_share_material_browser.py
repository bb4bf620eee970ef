"""A guide shares a material on a 375 px phone (zh-Hans): one tap gives their personal link (copied where the phone
has no share sheet) and the poster with its QR code; the link opens the storefront's product on the member's
phone, and what the member then buys is the guide's (the lines' guide, the 分销 reward). HQ's leaderboard of a
running competition at 1440 px. Screenshots: share-materials-375-zh, share-poster, competition-leaderboard-1440-zh."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from yundian.guides import competitions, materials
from yundian.members.tests.factories import register
from yundian.members.tests.storefront import open_storefront
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.promotions import services as promotions
from yundian.promotions.models import ReferralEntry, ShareLinkVisit
from yundian.sales.services.storefront import storefront_order_create
from yundian.sales.tests.factories import plan, sell, stocked

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, url, staff):
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_guide_shares_a_product_card_and_the_link_opens_the_product_with_the_guide_attributed(
        live_server, browser, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    chain = make_chain()
    stock = stocked(chain, units=20)
    profile = open_storefront(chain, stock.cat)
    plan(chain, "0.05")
    promotions.referral_rule_set(actor=chain.admin, rate="0.10")
    card = materials.material_create(actor=chain.admin, node_id=chain.hq.id, kind="product_card",
                                     title="夏季新款 T 恤", body="纯棉透气，会员专享价。", product_id=stock.cat.tee.pk)
    url = live_server.url

    # the guide's phone: no share sheet in headless Chromium, so the link is copied
    phone = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 812}, device_scale_factor=2,
                                is_mobile=True, has_touch=True, permissions=["clipboard-read", "clipboard-write"])
    page = phone.new_page()
    page.set_default_timeout(30_000)
    _sign_in(page, url, chain.guide_a)
    page.goto(f"{url}/guides/share/")
    item = page.locator(f"#material-{card.pk}")
    expect(item).to_contain_text("夏季新款 T 恤")
    expect(item.locator(".wb-price")).to_have_text("¥99.00")
    item.locator("button[data-share]").click()
    expect(item.locator(".wb-status")).to_contain_text("/p/r/")
    link = item.locator(".wb-status code").inner_text().strip()
    assert page.evaluate("navigator.clipboard.readText()") == link
    expect(item.locator("a[data-poster]")).to_be_visible()
    assert _fits(page)
    page.screenshot(path=str(artifacts_dir() / "share-materials-375-zh.png"), full_page=True)
    poster_href = item.locator("a[data-poster]").get_attribute("href")
    poster = page.request.get(f"{url}{poster_href}")
    assert poster.status == 200 and poster.headers["content-type"] == "image/png"
    (artifacts_dir() / "share-poster.png").write_bytes(poster.body())
    phone.close()

    # the member's phone opens the link twice: the storefront's product, one open, the guide's link remembered
    member_phone = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 812}, is_mobile=True)
    shopper = member_phone.new_page()
    shopper.set_default_timeout(30_000)
    shopper.goto(link)
    shopper.goto(link)
    expect(shopper).to_have_url(f"{url}/s/{profile.slug}/p/{stock.cat.tee.pk}/")
    expect(shopper.locator("body")).to_contain_text(stock.cat.tee.name)
    share_code = next(c["value"] for c in member_phone.cookies() if c["name"] == "yd_share")
    member_phone.close()
    visit = ShareLinkVisit.objects.select_related("link").get()
    assert (visit.link.code, visit.link.sharer_staff_id, visit.link.source) == (share_code, chain.guide_a.pk,
                                                                                 f"material:{card.pk}")
    # what the member buys with that cookie is the guide's: the lines' guide and the 分销 reward
    order = storefront_order_create(store_id=chain.store_a.id, member=register(chain), client_ref="sf-share-1",
                                    lines=[{"sku_id": stock.cat.tee_s.pk, "quantity": 1}], mode="pickup",
                                    share_code=share_code).order
    assert [l.guide_id for l in order.lines.all()] == [chain.guide_a.pk]
    sell(chain.manager_a, chain.store_a, [(stock.cat.mug_sku, 1)])  # the till's own sale for the board below

    # HQ's leaderboard of a running guide sales PK
    now = timezone.now()
    pk = competitions.competition_create(actor=chain.admin, node_id=chain.hq.id, name="周末销售 PK",
                                         competitor="guide", metric="sales", starts_at=now - timedelta(hours=1),
                                         ends_at=now + timedelta(days=2), prize_top_n=1, prize="¥200 红包")
    from yundian.sales.services import payment_add

    payment_add(actor=chain.manager_a, order_id=order.pk, payment={"method": "cash", "client_ref": "counter"})
    assert ReferralEntry.objects.get().link.code == share_code
    hq = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    board_page = hq.new_page()
    board_page.set_default_timeout(30_000)
    _sign_in(board_page, url, chain.admin)
    board_page.goto(f"{url}/guides/competitions/{pk.pk}/")
    board = board_page.locator("#board li")
    expect(board.first).to_contain_text("guide-a")
    expect(board.first).to_contain_text("¥200 红包")
    expect(board_page.locator("[data-testid=leaderboard-chart] canvas, [data-testid=leaderboard-chart] table").first
           ).to_be_attached()
    assert _fits(board_page)
    board_page.screenshot(path=str(artifacts_dir() / "competition-leaderboard-1440-zh.png"), full_page=True)
    hq.close()
