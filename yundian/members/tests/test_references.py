"""Ledger sources and the reasons our code writes are shown as translated words, never as internal codes."""
from django.utils import translation

from yundian.members.references import reason_label, source_reference


def test_sources_read_as_words_in_both_languages():
    with translation.override("zh-hans"):
        assert source_reference("order", "127").text == "订单 SO0000000127"
        assert source_reference("order", "127").order_id == 127
        assert source_reference("import", "opening:1047").text == "期初余额（导入）"
        assert source_reference("refund", "refund:12").text == "退款 #12"
        assert source_reference("lot", "9").order_id is None
        assert source_reference("mystery", "x1").text == "其他（mystery x1）"
        assert reason_label("void: 顾客不要了") == "作废：顾客不要了" and reason_label("referral reward") == "推荐奖励"
    with translation.override("en"):
        assert source_reference("order", "127").text == "Order SO0000000127"
        assert source_reference("import", "opening:1047").text == "Opening balance (import)"
        assert reason_label("void") == "Void" and reason_label("damaged box") == "damaged box"
