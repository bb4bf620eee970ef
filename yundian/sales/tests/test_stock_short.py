"""A sale the store cannot fill is refused naming the short line, its SKU and the stock left; nothing is written."""
import pytest
from django.utils import translation

from yundian.core.errors import Conflict
from yundian.sales.tests.factories import sales_state, sell, stocked


def test_a_short_line_is_named_with_what_it_wants_and_what_is_left(chain):
    stock = stocked(chain, units=3)
    before = sales_state()
    with pytest.raises(Conflict) as exc, translation.override("en"):
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1), (stock.cat.mug_sku, 5)])
    mug = stock.cat.mug_sku
    name = f"{mug.product.name} {mug.name}".strip()
    assert exc.value.code == "insufficient_stock"
    assert exc.value.details == {"lines": [{"line": 1, "sku_id": mug.id, "sku_code": "MUG-01", "name": name,
                                            "requested": 5, "available": 3}]}
    assert str(exc.value.message) == f"Not enough stock for line 2, {name} (MUG-01): 5 wanted, 3 available."
    assert sales_state() == before


def test_two_short_lines_are_both_listed(chain):
    stock = stocked(chain, units=1)
    with pytest.raises(Conflict) as exc, translation.override("en"):
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2), (stock.cat.mug_sku, 4)], mode="pickup")
    assert [(l["line"], l["requested"], l["available"]) for l in exc.value.details["lines"]] == [(0, 2, 1), (1, 4, 1)]
    assert str(exc.value.message).endswith(" 1 more lines are short.")
