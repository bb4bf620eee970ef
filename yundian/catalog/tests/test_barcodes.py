"""Check digits, classification, internal codes and weighed-barcode decoding (pure functions)."""
import pytest

from yundian.catalog import barcodes as codes
from yundian.catalog.barcodes import SchemeLayout
from yundian.core.errors import ValidationFailed


@pytest.mark.parametrize("code, kind", [
    ("4006381333931", "ean13"),   # a well-known EAN-13 (Stabilo pen)
    ("6901234567892", "ean13"),
    ("036000291452", "upca"),     # the textbook UPC-A
    ("012345678905", "upca"),
    ("96385074", "ean8"),
    ("2000000000015", "internal"),
])
def test_valid_codes_are_classified_by_length_and_prefix(code, kind):
    assert codes.classify(code) == kind
    assert codes.has_valid_check_digit(code) is True


@pytest.mark.parametrize("code, expected", [
    ("4006381333932", "1"), ("6901234567890", "2"), ("036000291453", "2"), ("96385075", "4"),
    ("2000000000016", "5"),
])
def test_a_wrong_check_digit_is_rejected_with_the_expected_digit(code, expected):
    with pytest.raises(ValidationFailed) as caught:
        codes.classify(code)
    assert caught.value.code == "barcode_bad_check_digit"
    assert caught.value.details["expected"] == expected
    assert codes.has_valid_check_digit(code) is False


@pytest.mark.parametrize("code, error", [
    ("", "barcode_not_digits"), ("69012345678A2", "barcode_not_digits"), ("٦٩٠١٢٣٤٥٦٧٨٩٢", "barcode_not_digits"),
    ("123456789", "barcode_bad_length"), ("12345678901234", "barcode_bad_length"),
])
def test_malformed_codes_are_rejected(code, error):
    with pytest.raises(ValidationFailed) as caught:
        codes.classify(code)
    assert caught.value.code == error


def test_internal_codes_are_prefix_20_with_a_ten_digit_sequence_and_valid_check_digit():
    assert codes.internal_code(1) == "2000000000015"
    assert codes.internal_code(1234567890) == "2012345678903"
    for n in (1, 2, 99, 10**9, codes.MAX_INTERNAL_SEQUENCE):
        code = codes.internal_code(n)
        assert len(code) == 13 and code.startswith("20") and codes.classify(code) == "internal"
    with pytest.raises(ValidationFailed) as caught:
        codes.internal_code(codes.MAX_INTERNAL_SEQUENCE + 1)
    assert caught.value.code == "internal_range_exhausted"


def test_weight_embedded_code_decodes_to_plu_and_grams():
    layout = SchemeLayout("21", 5, 5, "weight")
    # 21 00123 01250 + check: 1.250 kg of item 123
    code = codes.weighed_encode(layout, "123", 1250)
    assert code[:12] == "210012301250"
    decoded = codes.weighed_decode(code, layout)
    assert (decoded.plu, decoded.grams, decoded.price, decoded.value_kind) == ("123", 1250, None, "weight")


def test_price_embedded_code_with_four_digit_item_decodes_to_fen():
    layout = SchemeLayout("22", 4, 6, "price")
    code = "2298760012345"[:12]
    code = code + codes.check_digit(code)
    decoded = codes.weighed_decode(code, layout)
    assert (decoded.plu, decoded.grams, decoded.price) == ("9876", None, 1234)


def test_weighed_code_with_wrong_check_digit_or_no_item_is_rejected():
    layout = SchemeLayout("21", 5, 5, "weight")
    good = codes.weighed_encode(layout, "77", 500)
    bad = good[:12] + str((int(good[12]) + 1) % 10)
    with pytest.raises(ValidationFailed) as caught:
        codes.weighed_decode(bad, layout)
    assert caught.value.code == "barcode_bad_check_digit"
    body = "210000000500"
    with pytest.raises(ValidationFailed) as caught:
        codes.weighed_decode(body + codes.check_digit(body), layout)
    assert caught.value.code == "invalid_plu"


def test_weighed_price_rounds_half_up_to_a_fen():
    assert codes.weighed_price(1280, 1250) == 1600       # 12.80/kg x 1.25 kg = 16.00
    assert codes.weighed_price(999, 500) == 500          # 4.995 -> 5.00 (half up)
    assert codes.weighed_price(999, 499) == 499          # 4.98501 -> 4.99
    assert codes.weighed_price(0, 1000) == 0


def test_upc_a_and_its_ean13_form_are_both_looked_up():
    assert codes.lookup_forms("036000291452") == ["036000291452", "0036000291452"]
    assert codes.lookup_forms("0036000291452") == ["0036000291452", "036000291452"]
    assert codes.lookup_forms("6901234567892") == ["6901234567892"]
