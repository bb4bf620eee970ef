"""The till's shift pages: open with a counted float, cash in / out, a blind close (the clerk never sees the
expected cash before counting), the Z report (page, CSV, ESC/POS) and the day's settlement; bad input is a 4xx
that changes nothing."""
import pytest
from django.test import Client

from yundian.org.tests.factories import PASSWORD
from yundian.sales.models import CashMove, DailySettlement, ShiftStatus, TillShift
from yundian.sales.tests.factories import stocked


@pytest.fixture
def stock(chain):
    return stocked(chain)


def client_for(staff) -> Client:
    client = Client()
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


def test_a_clerk_opens_moves_cash_and_closes_blind_and_gets_the_z_report(chain, stock):
    client = client_for(chain.guide_a)
    url = f"/pos/{chain.store_a.id}/shift/"
    page = client.get(url)
    assert page.status_code == 200 and 'id="shift-open"' in page.content.decode()
    # the live count total is formatted with the store currency's symbol and minor units (core.money)
    assert 'data-count-total data-symbol="¥" data-places="2">¥0.00</strong>' in page.content.decode()
    opened = client.post(url, {"action": "open", "client_ref": "o-1", "n_10000": "1", "n_1000": "5"})
    assert (opened.status_code, opened["Location"]) == (302, url)
    shift = TillShift.objects.get(opened_by=chain.guide_a)
    assert shift.opening_float == 15000
    till = client.get(f"/pos/{chain.store_a.id}/").content.decode()
    assert f'data-state="open" href="{url}">班次 {shift.number}</a>' in till
    assert f"/pos/{chain.store_a.id}/settlement/" not in till  # the day's settlement is the manager's
    # a double submit of the same form replays
    assert client.post(url, {"action": "open", "client_ref": "o-1", "n_10000": "1", "n_1000": "5"}).status_code == 302
    assert TillShift.objects.filter(opened_by=chain.guide_a).count() == 1
    assert client.post(url, {"action": "cash_in", "client_ref": "m-1", "amount": "20.50", "reason": "零钱"}).status_code == 302
    assert list(CashMove.objects.values_list("kind", "amount", "reason")) == [("cash_in", 2050, "零钱")]
    x = client.get(url).content.decode()
    assert 'data-figure="expected"' not in x  # blind: the clerk is not shown what the drawer should hold
    assert "¥150.00" in x and "¥20.50" in x

    closed = client.post(url, {"action": "close", "client_ref": "c-1", "n_10000": "1", "n_5000": "1", "n_500": "4"})
    assert (closed.status_code, closed["Location"]) == (302, f"/pos/shifts/{shift.id}/")
    shift.refresh_from_db()
    assert (shift.status, shift.expected_cash, shift.counted_cash, shift.over_short) == ("closed", 17050, 17000, -50)
    z = client.get(f"/pos/shifts/{shift.id}/").content.decode()
    assert 'data-figure="expected">¥170.50<' in z and 'data-figure="counted">¥170.00<' in z
    assert 'data-figure="over-short">-¥0.50<' in z
    csv = client.get(f"/pos/shifts/{shift.id}/?format=csv")
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    text = csv.content.decode("utf-8-sig")
    # through core.exports: money as yuan numbers under a header that names the unit
    assert text.splitlines()[0] == "项目,笔数,金额（元）"
    assert ",170.50" in text and ",-0.50" in text and "¥" not in text
    xlsx = client.get(f"/pos/shifts/{shift.id}/?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    # in the workbook the amounts are numbers a spreadsheet adds up (formatted #,##0.00), not "¥170.50" text
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(xlsx.content)).active
    rows = {row[0].value: row for row in sheet.iter_rows()}
    assert [c.value for c in rows["项目"]] == ["项目", "笔数", "金额（元）"]
    assert (float(rows["实点现金"][2].value), rows["实点现金"][2].number_format) == (170.0, "#,##0.00;-#,##0.00")
    assert float(rows["长短款"][2].value) == -0.5
    escpos = client.get(f"/pos/shifts/{shift.id}/?format=escpos").content
    assert escpos.startswith(b"\x1b@") and "¥170.50".encode("gb18030") in escpos
    # the shift is closed: the page offers a new one, and the old close form's resubmission changes nothing
    again = client.post(url, {"action": "close", "client_ref": "c-2", "n_10000": "3"})
    assert again.status_code == 422 and 'data-code="no_open_shift"' in again.content.decode()
    shift.refresh_from_db()
    assert (shift.counted_cash, shift.over_short) == (17000, -50)


def test_bad_counts_and_amounts_are_4xx_and_change_nothing(chain, stock):
    client = client_for(chain.guide_a)
    url = f"/pos/{chain.store_a.id}/shift/"
    bad = client.post(url, {"action": "open", "client_ref": "o-1", "n_10000": "-1"})
    assert bad.status_code == 422 and TillShift.objects.count() == 0
    client.post(url, {"action": "open", "client_ref": "o-2", "n_1000": "1"})
    for body, code in [({"action": "cash_out", "client_ref": "m", "amount": "10.001", "reason": "x"}, "invalid_amount"),
                       ({"action": "cash_out", "client_ref": "m", "amount": "11", "reason": "x"}, "cash_out_exceeds_drawer"),
                       ({"action": "cash_in", "client_ref": "m", "amount": "1", "reason": ""}, "required"),
                       ({"action": "close", "client_ref": "c", "n_1000": "1x"}, "invalid_count"),
                       ({"action": "explode", "client_ref": "c"}, "invalid_action")]:
        response = client.post(url, body)
        assert response.status_code in (409, 422) and f'data-code="{code}"' in response.content.decode(), body
    assert CashMove.objects.count() == 0
    assert TillShift.objects.get().status == ShiftStatus.OPEN
    # another store's shift page and another clerk's report are out of reach
    assert client.get(f"/pos/{chain.store_b.id}/shift/").status_code == 404
    other = client_for(chain.guide_b)
    assert other.get(f"/pos/shifts/{TillShift.objects.get().id}/").status_code == 404


def test_the_manager_settles_the_day_once(chain, stock):
    clerk, manager = client_for(chain.guide_a), client_for(chain.manager_a)
    shift_url = f"/pos/{chain.store_a.id}/shift/"
    clerk.post(shift_url, {"action": "open", "client_ref": "o-1", "n_1000": "3"})
    url = f"/pos/{chain.store_a.id}/settlement/"
    assert f'href="{url}"' in manager.get(f"/pos/{chain.store_a.id}/").content.decode()
    waiting = manager.post(url, {"client_ref": "d-1"})
    assert waiting.status_code == 409 and 'data-code="shifts_still_open"' in waiting.content.decode()
    clerk.post(shift_url, {"action": "close", "client_ref": "c-1", "n_1000": "3"})
    assert clerk.post(url, {"client_ref": "d-1"}).status_code == 403
    done = manager.post(url, {"client_ref": "d-1"})
    assert done.status_code == 302
    settlement = DailySettlement.objects.get()
    assert (settlement.shift_count, settlement.expected_cash, settlement.counted_cash, settlement.over_short) == \
        (1, 3000, 3000, 0)
    page = manager.get(done["Location"]).content.decode()
    assert 'data-testid="settled"' in page
    for day in ("2026-02-30", "0001-01-01", "9999-12-31"):  # not a day, or far out of range: 4xx, not a 500
        assert manager.get(f"{url}?date={day}").status_code == 422
        refused = manager.post(url, {"client_ref": "d-3", "business_date": day})
        assert refused.status_code == 422 and 'data-code="invalid_date"' in refused.content.decode()
    second = manager.post(url, {"client_ref": "d-2"})
    assert second.status_code == 409 and 'data-code="already_settled"' in second.content.decode()
    assert DailySettlement.objects.count() == 1
    csv = manager.get(done["Location"] + "&format=csv").content.decode("utf-8-sig")
    assert ",30.00" in csv and "¥" not in csv
