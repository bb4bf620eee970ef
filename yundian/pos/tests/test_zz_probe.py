import json
import pytest
from django.test import Client
from yundian.org.tests.factories import PASSWORD
from yundian.sales.tests.factories import sell, stocked


def test_probe(chain):
    stock = stocked(chain, units=3)
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 3)], pay="card")
    c = Client(raise_request_exception=False)
    assert c.login(username=chain.guide_a.user.username, password=PASSWORD)
    base = f"/pos/{chain.store_a.id}"
    out = []
    for q in ["", "x" * 100, "SO", "SO99999999999", "99999999999999999999", "\x00", "ＳＯ１２", "-1", order.number.lower()]:
        r = c.get(f"{base}/receipt", {"q": q}); out.append(("receipt", q[:20], r.status_code))
    line_id = order.lines.first().id
    bodies = [None, [], "x", 1, {"order_id": "1"}, {"order_id": order.id, "lines": "x"},
              {"order_id": order.id, "lines": [[1]]}, {"order_id": order.id, "lines": [{"order_line_id": [1], "quantity": 1}]},
              {"order_id": order.id, "lines": [{"order_line_id": {"a": 1}, "quantity": 1}]},
              {"order_id": order.id, "lines": [{"order_line_id": line_id, "quantity": 1.5}]},
              {"order_id": 10**30, "lines": []}, {"order_id": order.id, "lines": [{"order_line_id": line_id, "quantity": 10**30}]}]
    for b in bodies:
        r = c.post(f"{base}/return-quote", data=json.dumps(b), content_type="application/json"); out.append(("rq", str(b)[:60], r.status_code))
    r = c.post(f"{base}/return-quote", data=b"{bad", content_type="application/json"); out.append(("rq", "badjson", r.status_code))
    ex = [{"order_id": order.id, "lines": [{"order_line_id": line_id, "quantity": 1}]},
          {"order_id": order.id, "client_ref": ["a"], "lines": [{"order_line_id": line_id, "quantity": 1}]},
          {"order_id": order.id, "client_ref": "k1", "lines": [{"order_line_id": line_id, "quantity": 1}], "new_lines": "x"},
          {"order_id": order.id, "client_ref": "k2", "lines": [{"order_line_id": line_id, "quantity": 1}], "new_lines": {"a": 1}},
          {"order_id": order.id, "client_ref": "k3", "lines": [{"order_line_id": line_id, "quantity": 1}], "new_lines": [1]},
          {"order_id": order.id, "client_ref": "k4", "lines": [{"order_line_id": line_id, "quantity": 1}], "payments": "x", "new_lines": [{"sku_id": stock.cat.mug_sku.id, "quantity": 1}]},
          {"order_id": order.id, "client_ref": "k5", "lines": [{"order_line_id": line_id, "quantity": 1}], "reason": ["x"]},
          {"order_id": order.id, "client_ref": "k6", "lines": [{"order_line_id": line_id, "quantity": 1}], "approval": {"pin": ["x"]}},
          {"order_id": order.id, "client_ref": "k7", "lines": [{"order_line_id": line_id, "quantity": 1}], "approval": "abc"},
          {"order_id": order.id, "client_ref": "k8", "lines": [{"order_line_id": line_id, "quantity": 1}], "coupon_codes": "x"},
          {"order_id": order.id, "client_ref": "k9", "lines": [{"order_line_id": line_id, "quantity": 1}], "coupon_codes": [{"a": 1}]},
          ]
    for b in ex:
        r = c.post(f"{base}/exchange", data=json.dumps(b), content_type="application/json"); out.append(("ex", str(b)[-70:], r.status_code, r.content[:150]))
    url = f"{base}/shift/"
    for b in [{"action": "open", "client_ref": "o", "n_10000": "١"}, {"action": "open", "client_ref": "x" * 300},
              {"action": "open"}, {"action": "open", "client_ref": "o2", "note": "x" * 1000, "n_100": "1"},
              {"action": "cash_in", "client_ref": "m", "amount": "NaN", "reason": "x"},
              {"action": "cash_in", "client_ref": "m", "amount": "1e400", "reason": "x"},
              {"action": "cash_in", "client_ref": "m", "amount": "99999999999999999", "reason": "x"},
              {"action": "cash_in", "client_ref": "m", "amount": "-5", "reason": "x"},
              {"action": "cash_in", "client_ref": "m", "amount": "", "reason": "x"},
              {"action": "cash_in", "client_ref": "", "amount": "1", "reason": "x"},
              {"action": "close", "client_ref": "c", "n_10000": "999999"},
              {"action": "close", "client_ref": "c"*200, "n_10000": "1"},
              ]:
        r = c.post(url, b); out.append(("shift", str(b)[:60], r.status_code))
    for q in ["?date=garbage", "?date=2026-13-45", "?date=99999-01-01", "?date=" + "1" * 11, "?date=0001-01-01", "?date=9999-12-31", "?format=csv", "?date=2026-02-30"]:
        r = c.get(f"{base}/settlement/{q}"); out.append(("settle", q, r.status_code))
    m = Client(raise_request_exception=False); m.login(username=chain.manager_a.user.username, password=PASSWORD)
    for d in ["garbage", "0001-01-01", "9999-12-31", ""]:
        r = m.post(f"{base}/settlement/", {"business_date": d, "client_ref": "z"}); out.append(("settleP", d, r.status_code))
    for q in ["?format=xx", "?format=escpos", "?format=csv", "?format=xlsx"]:
        r = c.get(f"/pos/shifts/999999/{q}"); out.append(("rep", q, r.status_code))
    for x in out: print(x)
