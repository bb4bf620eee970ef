"""Report and GMV pages on synced OLTP sales: scoped to the actor, exports equal to the page, bad input a 4xx, and
scheduled reports mailed through a real local SMTP server (aiosmtpd), once per period."""
import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from yundian.analytics.models import ReportDelivery, ReportSchedule
from yundian.analytics.schedules import last_period, report_schedule_create, schedules_mail_due
from yundian.analytics.sync import sync_run
from yundian.core.errors import ValidationFailed
from yundian.org.roles import Role
from yundian.org.tests.factories import PASSWORD
from yundian.sales.tests.factories import sell, stocked

pytestmark = pytest.mark.django_db


def signed_in(staff) -> Client:
    client = Client()
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


def test_reports_are_scoped_export_what_the_page_shows_and_refuse_bad_input(chain, warehouse):
    stock = stocked(chain)
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])  # ¥99.00 in store A (east)
    sell(chain.guide_b, chain.store_b, [(stock.cat.tee_s, 2)])  # ¥198.00 in store B (west)
    sync_run()
    today = timezone.localdate().isoformat()
    hq = signed_in(chain.admin)
    page = hq.get(f"/analytics/reports/sales-by-store/?from={today}&to={today}", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200 and "¥99.00" in text and "¥198.00" in text and 'data-testid="report-chart"' in text
    exported = hq.get(f"/analytics/reports/sales-by-store/?from={today}&to={today}&format=csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["Store B", "Store A"]
    assert [(r[1], r[2]) for r in rows[1:]] == [("1", "198.00"), ("1", "99.00")]  # numbers, as on the page
    east = signed_in(chain.east_manager).get(f"/analytics/reports/sales-by-store/?from={today}&to={today}",
                                             HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "¥99.00" in east and "¥198.00" not in east and "Store B" not in east
    # a node outside the actor's scope is a 404; bad dates a 422 with a code
    assert signed_in(chain.east_manager).get(f"/analytics/reports/sales-by-store/?node={chain.west.pk}").status_code == 404
    bad = hq.get("/analytics/reports/sales-by-day/?from=2026-13-01", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert bad.status_code == 422 and 'data-code="invalid_date"' in bad.content.decode()
    gmv = hq.get(f"/analytics/reports/gmv/?grain=day&date={today}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "¥297.00" in gmv and 'data-testid="gmv-tree-chart"' in gmv and "华东" in gmv
    store = hq.get(f"/analytics/reports/gmv/?grain=day&date={today}&node={chain.store_a.pk}",
                   HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "guide-a" in store and "¥99.00" in store and "¥198.00" not in store
    assert signed_in(chain.guide_a).get("/analytics/reports/").status_code == 404


def test_a_weekly_schedule_mails_each_store_manager_their_own_store_once(chain, warehouse, smtp):
    stock = stocked(chain)
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
    sell(chain.guide_b, chain.store_b, [(stock.cat.tee_s, 2)])
    sync_run()
    for staff, address in ((chain.manager_a, "a@example.com"), (chain.manager_b, "b@example.com")):
        staff.user.email = address
        staff.user.save()
    with pytest.raises(ValidationFailed) as refused:
        report_schedule_create(actor=chain.east_manager, report="sales-by-store", node_id=chain.hq.pk,
                               role=Role.STORE_MANAGER, frequency="daily")
    assert refused.value.code == "invalid_node" and ReportSchedule.objects.count() == 0
    hq = signed_in(chain.admin)
    form = {"report": "sales-by-store", "node": chain.hq.pk, "role": Role.GUIDE, "frequency": "daily",
            "format": "csv"}
    refused_page = hq.post("/analytics/reports/schedules/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert refused_page.status_code == 422 and 'data-code="invalid_role"' in refused_page.content.decode()
    assert ReportSchedule.objects.count() == 0  # guides may not read reports: nothing created
    assert hq.post("/analytics/reports/schedules/", {**form, "role": Role.STORE_MANAGER}).status_code == 302
    schedule = ReportSchedule.objects.get()
    assert (schedule.report, schedule.node_id, schedule.frequency, schedule.format) == (
        "sales-by-store", chain.hq.pk, "daily", "csv")
    listed = hq.get("/analytics/reports/schedules/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sales by store" in listed and "Store manager" in listed
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert schedules_mail_due(tomorrow) == 2
    assert schedules_mail_due(tomorrow) == 0  # the same period again: nothing
    assert len(smtp) == 2 and ReportDelivery.objects.get(schedule=schedule).recipients == 2
    by_address = {m["To"]: m for m in smtp}
    attachment = {to: [p for p in m.walk() if p.get_filename()][0] for to, m in by_address.items()}
    a = attachment["a@example.com"].get_payload(decode=True).decode("utf-8-sig")
    b = attachment["b@example.com"].get_payload(decode=True).decode("utf-8-sig")
    assert "Store A" in a and "99.00" in a and "Store B" not in a
    assert "Store B" in b and "198.00" in b and "Store A" not in b
    assert last_period("weekly", tomorrow)[0].weekday() == 0
