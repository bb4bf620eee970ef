"""The audit log reads as words: the action and the record by name, before/after as field / before / after rows with
translated field names and choice values and money in yuan; never the stored dict text."""
import re

from yundian.catalog.services import sku_update
from yundian.catalog.tests.factories import make_catalogue
from yundian.core.audit_display import action_label, change_rows, record_label
from yundian.core.models import AuditEntry
from yundian.org.tests.utils import client_for


def test_a_base_price_change_shows_as_a_table_of_changed_fields(chain):
    cat = make_catalogue(chain)
    sku_update(actor=chain.admin, sku_id=cat.tee_s.id, base_price=12345, is_active=False)
    entry = AuditEntry.objects.filter(action="price.base_change").get()
    html = client_for(chain.admin).get("/audit/").content.decode()
    row = re.search(r'<tr data-action="price.base_change">.*?</table>', html, re.S).group(0)
    assert '<td title="price.base_change">基础价已修改</td>' in row
    assert "<td>基础价</td><td>¥99.00</td><td>¥123.45</td>" in row
    assert "<td>启用</td><td>是</td><td>否</td>" in row
    assert "{&#x27;" not in html and "{'" not in html and "base_price" not in re.sub(r'data-\w+="[^"]*"', "", row)
    assert entry.target_type == "catalog.sku"


def test_labels_in_english_and_for_what_we_have_no_words_for(chain):
    from django.utils import translation

    with translation.override("en"):
        assert action_label("adjustment.approve") == "Approved" and action_label("x.odd") == "x.odd"
        assert record_label("sales.order") == "order" and record_label("nope.thing") == "nope.thing"
        rows = change_rows("sales.order", {"status": "paid", "paid_total": 10000}, {"status": "cancelled",
                                                                                    "paid_total": 10000})
        assert [(r.label, r.before, r.after, r.changed) for r in rows] == [
            ("Status", "Paid", "Cancelled", True), ("Paid", "¥100.00", "¥100.00", False)]


def test_foreign_keys_show_the_record_they_point_at(chain):
    from django.utils import translation

    with translation.override("zh-hans"):
        rows = change_rows("org.staff", {"home": chain.store_a.id}, {"home": chain.store_b.id})
        unnamed = change_rows("core.auditentry", None, {"enterprise": chain.admin.enterprise_id})
    assert [(r.label, r.before, r.after) for r in rows] == [("所属组织", str(chain.store_a), str(chain.store_b))]
    assert unnamed[0].after == str(chain.admin.enterprise) and not unnamed[0].label.isascii()


def test_sign_ins_and_transfer_requests_read_as_words():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert [action_label(a) for a in ("auth.login", "auth.login_failed", "transfer.request")] == [
            "已登录", "登录失败", "已申请"]
