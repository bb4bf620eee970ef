"""The pages people read show money as ¥ with thousands separators and two decimals, never as raw fen; the member
360° says what was paid in a sentence that reads right; points references are readable and link to the order."""
import re
from html import unescape

import pytest

from yundian.members.tests.factories import register
from yundian.org.tests.utils import client_for
from yundian.sales.tests.factories import plan, sell, stocked

TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S)


def visible(html: str) -> str:
    """The text a person sees: no tags, no attributes, no scripts."""
    return re.sub(r"\s+", " ", unescape(TAGS.sub(" ", html)))


@pytest.fixture
def sold(chain):
    stock = stocked(chain, units=20)
    plan(chain)
    member = register(chain, phone="13900001111")
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 11)], member_id=member.id)
    return order, member


def test_order_pages_receipt_commission_and_member_show_yuan_not_fen(chain, sold):
    order, member = sold
    assert (order.total, order.lines.get().unit_price) == (108900, 9900)
    guide, manager = client_for(chain.guide_a), client_for(chain.manager_a)
    pages = {
        "/sales/orders/": (guide, ["¥1,089.00"]),
        f"/sales/orders/{order.pk}/": (guide, ["¥99.00", "¥1,089.00"]),
        f"/sales/orders/{order.pk}/receipt/": (guide, ["11 x ¥99.00", "¥1,089.00"]),
        "/guides/commission/": (guide, ["¥54.45", "¥1,089.00"]),
        "/guides/commission/all/": (manager, ["¥54.45", "¥1,089.00"]),
        f"/members/{member.pk}/": (manager, ["¥1,089.00"]),
    }
    for url, (client, amounts) in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        text = visible(response.content.decode())
        for amount in amounts:
            assert amount in text, (url, amount)
        for fen in ("108900", "9900", "5445"):
            assert not re.search(rf"(?<![\d,.]){fen}(?![\d])", text), (url, fen)
        assert "（分）" not in text and "(fen)" not in text, url


def test_order_page_labels_are_words_and_amounts_in_zh_hans(chain, sold):
    order, _member = sold
    text = visible(client_for(chain.guide_a).get(f"/sales/orders/{order.pk}/").content.decode())
    assert "标价" in text and "标价（分）" not in text
    assert f"小计 ¥1,089.00 · 优惠 ¥0.00 · 合计 ¥1,089.00 · 已支付 ¥1,089.00 · 已退款 ¥0.00" in text


def test_member_360_says_how_much_was_paid_in_a_sentence_and_links_the_order(chain, sold):
    order, member = sold
    html = client_for(chain.manager_a).get(f"/members/{member.pk}/").content.decode()
    assert "共 1 笔订单，扣除退款后已付 ¥1,089.00。" in visible(html)
    assert f'<a href="/sales/orders/{order.pk}/">订单 {order.number}</a>' in html


def test_english_pages_use_the_same_money_format(chain, sold):
    order, _member = sold
    client = client_for(chain.guide_a)
    client.cookies["django_language"] = "en"
    text = visible(client.get(f"/sales/orders/{order.pk}/").content.decode())
    assert "Subtotal ¥1,089.00 · Discount ¥0.00 · Total ¥1,089.00 · Paid ¥1,089.00 · Refunded ¥0.00" in text
