"""A campaign's issued codes, listed again on their own page and exported as CSV through the one export path; a
coupon's status reads as a coupon's, not as another context's same English word."""
from django.utils import translation

from yundian.promotions.member_pages import EXPIRED, STATUS_LABELS
from yundian.promotions.models import CouponStatus


def test_coupon_statuses_read_as_coupon_words_in_chinese():
    with translation.override("zh-hans"):
        assert {key: str(label) for key, label in STATUS_LABELS.items()} == {
            CouponStatus.AVAILABLE: "可使用", CouponStatus.REDEEMED: "已使用", CouponStatus.VOID: "已作废",
            EXPIRED: "已过期"}
