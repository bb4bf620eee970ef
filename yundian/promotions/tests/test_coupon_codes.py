"""A campaign's issued codes, listed again on their own page and exported as CSV through the one export path; a
coupon's status reads as a coupon's, not as another context's same English word."""
import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from yundian.members.tests.factories import register
from yundian.org.tests.utils import client_for
from yundian.promotions import services
from yundian.promotions.member_pages import EXPIRED, STATUS_LABELS
from yundian.promotions.models import CouponStatus
from yundian.promotions.tests.factories import campaign


def test_coupon_statuses_read_as_coupon_words_in_chinese():
    with translation.override("zh-hans"):
        assert {key: str(label) for key, label in STATUS_LABELS.items()} == {
            CouponStatus.AVAILABLE: "可使用", CouponStatus.REDEEMED: "已使用", CouponStatus.VOID: "已作废",
            EXPIRED: "已过期"}


@pytest.mark.django_db
def test_the_codes_export_is_the_listed_rows_with_moments_in_local_time_and_no_formula_cells(chain):
    coupons = campaign(chain, code_mode="unique")
    member = register(chain, phone="13811112222", name="=HYPERLINK(1)", store=chain.store_a)
    [issued] = services.coupon_issue(actor=chain.admin, campaign_id=coupons.id, member_ids=[member.id])
    response = client_for(chain.admin).get(f"/promotions/coupons/{coupons.id}/codes/?format=csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="coupons-C1.csv"'
    text = response.content.decode()
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:]))) == [
        ["编码", "状态", "会员", "手机号", "发放人", "发放时间"],
        [issued.code, "可使用", "'=HYPERLINK(1)", "138****2222", chain.admin.display_name,
         timezone.localtime(issued.issued_at).strftime("%Y-%m-%d %H:%M")],
    ]
    page = client_for(chain.admin).get(f"/promotions/coupons/{coupons.id}/codes/").content.decode()
    assert f'data-code="{issued.code}"' in page
    assert timezone.localtime(issued.issued_at).strftime("%Y-%m-%d %H:%M") in page


@pytest.mark.django_db
def test_the_codes_page_and_export_read_members_phones_in_one_query_however_many_rows(chain):
    coupons = campaign(chain, code_mode="unique")
    client = client_for(chain.admin)

    def queries(url) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    costs = []
    for _ in range(2):
        member = register(chain, store=chain.store_a)
        services.coupon_issue(actor=chain.admin, campaign_id=coupons.id, member_ids=[member.id])
        costs.append((queries(f"/promotions/coupons/{coupons.id}/codes/"),
                      queries(f"/promotions/coupons/{coupons.id}/codes/?format=csv")))
    assert costs[0] == costs[1]
