"""ERP import jobs: prices, stock (as a stocktake), purchase orders, members and products through the owning
contexts; the same file twice changes nothing; the per-row error report; bad files change nothing; scoping."""
import csv
import io

import pytest
from openpyxl import Workbook

from yundian.catalog.models import PriceEntry
from yundian.catalog.services import price_list_create
from yundian.core.errors import ValidationFailed
from yundian.core.models import AuditEntry
from yundian.integrations.erp_jobs import erp_import_create, erp_job_error_report, erp_job_run
from yundian.integrations.models import ErpJob
from yundian.inventory.models import PurchaseOrder, StockMove
from yundian.inventory.services import supplier_create
from yundian.inventory.tests.factories import level, make_stock, put
from yundian.members.models import Member
from yundian.org.tests.factories import Chain


def csv_bytes(*rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def run(actor, entity, data, filename="erp.csv"):
    job = erp_import_create(actor=actor, entity=entity, filename=filename, data=data)
    return erp_job_run(job_id=job.pk)


def test_a_price_file_imported_twice_sets_prices_once_and_the_second_job_reports_no_change(chain: Chain):
    stock = make_stock(chain)
    price_list_create(actor=chain.admin, node_id=chain.hq.id, channel="store", code="RETAIL", name="Retail")
    data = csv_bytes(["price_list_code", "sku_code", "price"], ["RETAIL", "TEE-001-S", "89.00"],
                     ["RETAIL", "MUG-01", "19.90"])
    first = run(chain.admin, "prices", data)
    assert (first.status, first.changed_rows, first.unchanged_rows, first.rejected_rows) == ("done", 2, 0, 0)
    assert dict(PriceEntry.objects.values_list("sku__code", "price")) == {"TEE-001-S": 8900, "MUG-01": 1990}
    audits = AuditEntry.objects.filter(action="price.set").count()
    second = run(chain.admin, "prices", data)
    assert (second.status, second.changed_rows, second.unchanged_rows) == ("done", 0, 2)
    assert second.same_file_as_id == first.pk
    assert AuditEntry.objects.filter(action="price.set").count() == audits
    assert dict(PriceEntry.objects.values_list("sku__code", "price")) == {"TEE-001-S": 8900, "MUG-01": 1990}
    assert stock.cat.tee_s.price_entries.count() == 1


def test_stock_levels_arrive_as_a_stocktake_through_the_ledger_and_twice_change_nothing(chain):
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.mug_sku, 10)
    data = csv_bytes(["仓库编码", "SKU编码", "盘点数量"], ["WH-A", "MUG-01", "7"], ["WH-A", "TEE-001-S", "4"],
                     ["WH-A", "TEE-001-M", "0"])
    job = run(chain.admin, "stock", data)
    assert (job.status, job.changed_rows, job.unchanged_rows) == ("done", 2, 1)
    assert level(stock.wh_a, stock.cat.mug_sku) == (7, 0) and level(stock.wh_a, stock.cat.tee_s) == (4, 0)
    corrections = StockMove.objects.filter(kind="stocktake_correction")
    assert sorted(corrections.values_list("quantity", flat=True)) == [-3, 4]
    moves = StockMove.objects.count()
    again = run(chain.admin, "stock", data)
    assert (again.changed_rows, again.unchanged_rows, StockMove.objects.count()) == (0, 3, moves)


def test_bad_rows_are_reported_by_row_and_column_and_the_good_rows_are_kept(chain):
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.mug_sku, 10)
    data = csv_bytes(["warehouse_code", "sku_code", "quantity"], ["WH-A", "MUG-01", "8"], ["WH-A", "NOPE", "1"],
                     ["WH-Z", "MUG-01", "1"], ["WH-A", "TEE-001-S", "-2"], ["WH-A", "MUG-01", "9"])
    job = run(chain.admin, "stock", data)
    assert (job.status, job.changed_rows, job.rejected_rows) == ("partial", 1, 4)
    assert [(e["row"], e["column"], e["code"]) for e in job.errors] == [
        (3, "sku_code", "sku_not_found"), (4, "warehouse_code", "warehouse_not_found"),
        (5, "quantity", "invalid_number"), (6, "sku_code", "duplicate_row")]
    assert level(stock.wh_a, stock.cat.mug_sku) == (8, 0)
    name, content_type, body = erp_job_error_report(actor=chain.admin, job_id=job.pk)
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert lines[1] == ["3", "sku_code", "sku_not_found", "SKU not found."] or lines[1][:3] == ["3", "sku_code",
                                                                                               "sku_not_found"]
    assert len(lines) == 5 and name == f"errors-job-{job.pk}.csv"


def test_purchase_orders_group_rows_by_erp_number_and_a_changed_order_is_refused(chain):
    stock = make_stock(chain)
    supplier_create(actor=chain.admin, code="SUP-1", name="Supplier")
    header = ["erp_number", "warehouse_code", "supplier_code", "sku_code", "quantity", "unit_cost"]
    data = csv_bytes(header, ["PO-9", "WH-A", "SUP-1", "MUG-01", "12", "8.50"], ["PO-9", "WH-A", "SUP-1", "TEE-001-S", "3", "30"])
    job = run(chain.admin, "purchase_orders", data)
    assert (job.status, job.changed_rows) == ("done", 2)
    po = PurchaseOrder.objects.get()
    assert (po.origin, po.note, po.warehouse_id) == ("erp", "ERP PO-9", stock.wh_a.id)
    assert sorted(po.lines.values_list("sku__code", "quantity", "unit_cost")) == [("MUG-01", 12, 850), ("TEE-001-S", 3, 3000)]
    assert run(chain.admin, "purchase_orders", data).changed_rows == 0
    changed = run(chain.admin, "purchase_orders", csv_bytes(header, ["PO-9", "WH-A", "SUP-1", "MUG-01", "13", "8.50"]))
    assert [e["code"] for e in changed.errors] == ["purchase_order_changed"] and PurchaseOrder.objects.count() == 1


def test_members_from_an_excel_file_are_found_or_registered_once(chain):
    book = Workbook()
    sheet = book.active
    sheet.append(["手机号", "姓名", "门店编码"])
    sheet.append(["13812345678", "张三", chain.store_a.code])
    sheet.append(["139 0000 1111", "李四", chain.store_a.code])
    sheet.append(["12", "坏", chain.store_a.code])
    out = io.BytesIO()
    book.save(out)
    job = run(chain.admin, "members", out.getvalue(), filename="members.xlsx")
    assert (job.changed_rows, job.rejected_rows, job.errors[0]["row"]) == (2, 1, 4)
    assert Member.objects.count() == 2
    again = run(chain.admin, "members", out.getvalue(), filename="members.xlsx")
    assert (again.changed_rows, again.unchanged_rows, Member.objects.count()) == (0, 2, 2)


def test_products_go_through_the_catalogue_import_and_twice_change_nothing(chain):
    data = csv_bytes(["product_code", "product_name", "sku_code", "base_price"], ["P1", "杯子", "P1-A", "12.00"])
    first = run(chain.admin, "products", data)
    assert (first.status, first.changed_rows, first.counts) == ("done", 1, {"products_created": 1, "skus_created": 1})
    second = run(chain.admin, "products", data)
    assert (second.changed_rows, second.unchanged_rows, second.counts) == (0, 1, {})


@pytest.mark.parametrize("filename,data,code", [
    ("x.pdf", b"%PDF", "unsupported_file_type"),
    ("x.csv", b"", "empty_file"),
    ("x.csv", b"sku_code,price\nA,1\n", "missing_columns"),
    ("x.xlsx", b"not a workbook", "unreadable_file"),
])
def test_a_bad_file_is_refused_with_a_code_and_queues_nothing(chain, filename, data, code):
    with pytest.raises(ValidationFailed) as err:
        erp_import_create(actor=chain.admin, entity="prices", filename=filename, data=data)
    assert err.value.code == code and ErpJob.objects.count() == 0


def test_the_api_imports_rows_and_files_and_jobs_are_scoped(chain, api_client):
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.mug_sku, 5)
    api_client.force_login(chain.manager_a.user)
    done = api_client.post("/api/v1/integrations/erp/imports/stock/rows",
                           {"rows": [{"warehouse_code": "WH-A", "sku_code": "MUG-01", "quantity": 2}], "wait": True},
                           content_type="application/json")
    assert done.status_code == 200, done.content
    assert (done.json()["status"], done.json()["changed_rows"]) == ("done", 1)
    assert level(stock.wh_a, stock.cat.mug_sku) == (2, 0)
    outside = api_client.post("/api/v1/integrations/erp/imports/stock/rows",
                              {"rows": [{"warehouse_code": "WH-B", "sku_code": "MUG-01", "quantity": 2}], "wait": True},
                              content_type="application/json").json()
    assert outside["rejected_rows"] == 1 and outside["errors"][0]["code"] in ("not_found", "warehouse_not_found")
    upload = api_client.post("/api/v1/integrations/erp/imports/stock/file",
                             {"file": io.BytesIO(b"oops"), "wait": "true"})
    assert upload.status_code == 422 and upload.json()["error"]["code"] == "unsupported_file_type"
    bad = api_client.post("/api/v1/integrations/erp/imports/stock/rows", {"rows": [{"colour": "red"}]},
                          content_type="application/json")
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_rows")
    job_id = done.json()["id"]
    api_client.force_login(chain.manager_b.user)
    assert api_client.get(f"/api/v1/integrations/erp/jobs/{job_id}").status_code == 404
    api_client.force_login(chain.admin.user)
    assert api_client.get(f"/api/v1/integrations/erp/jobs/{job_id}").json()["changed_rows"] == 1
    report = api_client.get(f"/api/v1/integrations/erp/jobs/{outside['id']}/errors")
    assert report.status_code == 200 and b"WH-B" not in report.content and b"warehouse_code" in report.content


def test_an_export_job_writes_a_file_of_the_callers_rows(chain, api_client, settings):
    settings.ERP_EXPORT_LAG_SECONDS = 0
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.mug_sku, 5)
    put(stock, stock.wh_b, stock.cat.mug_sku, 6)
    api_client.force_login(chain.manager_a.user)
    job = api_client.post("/api/v1/integrations/erp/exports/stock", {"format": "csv"},
                          content_type="application/json").json()
    erp_job_run(job_id=job["id"])
    body = api_client.get(f"/api/v1/integrations/erp/jobs/{job['id']}/file")
    rows = list(csv.reader(io.StringIO(body.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["warehouse_code", "sku_code", "on_hand"] and [r[:3] for r in rows[1:]] == [["WH-A", "MUG-01", "5"]]


def test_a_folder_schedule_imports_each_dropped_file_once_and_an_export_schedule_writes_only_changes(chain, settings,
                                                                                                     tmp_path):
    from django.utils import timezone

    from yundian.integrations.erp_jobs import erp_schedule_create, erp_schedules_run

    settings.ERP_DROP_ROOT = tmp_path
    settings.ERP_EXPORT_LAG_SECONDS = 0
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.mug_sku, 10)
    erp_schedule_create(actor=chain.admin, direction="import", entity="stock", folder="stock-in")
    erp_schedule_create(actor=chain.admin, direction="export", entity="stock", folder="stock-out")
    inbox = tmp_path / str(chain.hq.enterprise_id) / "stock-in"
    inbox.mkdir(parents=True)
    (inbox / "count.csv").write_bytes(csv_bytes(["warehouse_code", "sku_code", "quantity"], ["WH-A", "MUG-01", "6"]))
    assert erp_schedules_run() == 2
    assert level(stock.wh_a, stock.cat.mug_sku) == (6, 0)
    assert [p.name for p in inbox.iterdir() if p.is_file()] == [] and len(list((inbox / "done").iterdir())) == 1
    outbox = tmp_path / str(chain.hq.enterprise_id) / "stock-out"
    assert len(list(outbox.iterdir())) == 1
    assert erp_schedules_run() == 0  # not due again within the hour
    later = timezone.now() + timezone.timedelta(hours=1)
    assert erp_schedules_run(now=later) == 0  # nothing new dropped, nothing changed: no file
    assert len(list(outbox.iterdir())) == 1
    with pytest.raises(ValidationFailed):
        erp_schedule_create(actor=chain.admin, direction="import", entity="stock", folder="../etc")


def test_a_file_uploaded_to_the_api_is_imported_and_the_same_file_again_changes_nothing(chain, api_client):
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.mug_sku, 10)
    api_client.force_login(chain.admin.user)
    data = csv_bytes(["warehouse_code", "sku_code", "quantity"], ["WH-A", "MUG-01", "4"])
    results = []
    for _ in range(2):
        upload = io.BytesIO(data)
        upload.name = "stock.csv"
        response = api_client.post("/api/v1/integrations/erp/imports/stock/file", {"file": upload, "wait": "true"})
        assert response.status_code == 200, response.content
        results.append((response.json()["changed_rows"], response.json()["unchanged_rows"]))
    assert results == [(1, 0), (0, 1)] and level(stock.wh_a, stock.cat.mug_sku) == (4, 0)
    queued = api_client.post("/api/v1/integrations/erp/imports/stock/file", {"file": io.BytesIO(data)})
    assert queued.status_code in (202, 422)
