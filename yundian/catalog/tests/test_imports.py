"""Bulk import/export: mixed good and bad rows, per-row error report, nothing half-written, the three modes."""
import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from yundian.catalog import imports, services
from yundian.catalog.models import Barcode, PriceEntry, Product, Sku
from yundian.catalog.tests.factories import EAN_TEE_S, make_catalogue
from yundian.catalog.tests.utils import catalog_state
from yundian.core.errors import DomainError
from yundian.core.models import AuditEntry

HEADER = ["product_code", "product_name", "category_code", "brand", "attributes", "sku_code", "sku_name", "options",
          "unit", "base_price", "is_weighed", "plu", "barcodes", "price_list_code", "price"]
ROWS = [
    ["P1", "Linen shirt", "APP-TEE", "Yun", "material=linen", "P1-S", "S", "size=S", "", "129.00", "", "",
     "4006381333931", "HQ-STD", "119.90"],                                                              # 2 good
    ["P1", "Linen shirt", "APP-TEE", "Yun", "material=linen", "P1-M", "M", "size=M", "", "129", "no", "",
     "96385074", "", ""],                                                                               # 3 good
    ["P2", "Socks", "APP", "", "", "P2-1", "", "", "", "19.90", "", "", "4006381333932", "", ""],       # 4 check digit
    ["P3", "Cap", "APP", "", "", "P3-1", "", "", "", "abc", "", "", "", "", ""],                         # 5 price
    ["P4", "Scarf", "NOPE", "", "", "P4-1", "", "", "", "59.00", "", "", "", "", ""],                   # 6 category
    ["P5", "Belt", "APP", "", "", "P5-1", "", "", "", "79.00", "", "", "4006381333931", "", ""],        # 7 taken
    ["P6", "Gloves", "APP", "", "", "P6-1", "", "", "", "39.00", "", "", "", "NO-LIST", "35.00"],       # 8 list
    ["P7", "Bananas", "HOME", "", "", "P7-KG", "", "", "kg", "6.80", "yes", "4567", "", "", ""],        # 9 good
    ["", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],                                       # 10 blank
    ["P8", "Apron", "HOME", "", "", "", "", "", "", "29.00", "", "", "", "", ""],                       # 11 sku code
    ["P9", "Mop", "HOME", "", "", "P9-1", "", "", "", "9.999", "", "", "", "", ""],                     # 12 decimals
]
EXPECTED_ERRORS = [
    (4, "barcodes", "barcode_bad_check_digit"),
    (5, "base_price", "invalid_price"),
    (6, "category_code", "category_not_found"),
    (7, "barcodes", "barcode_taken"),
    (8, "price_list_code", "price_list_not_found"),
    (11, "sku_code", "invalid_code"),
    (12, "base_price", "invalid_price"),
]


def as_csv(rows, header=HEADER) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode("utf-8")


@pytest.fixture
def catalogue(chain):
    cat = make_catalogue(chain)
    services.price_list_create(actor=chain.admin, node_id=chain.hq.id, channel="store", code="HQ-STD", name="std")
    return cat


def test_mixed_rows_keep_the_good_ones_and_report_every_bad_row_with_nothing_partial(chain, catalogue):
    products, skus, barcodes = Product.objects.count(), Sku.objects.count(), Barcode.objects.count()
    run = imports.catalog_import(actor=chain.admin, filename="goods.csv", data=as_csv(ROWS))
    assert (run.status, run.total_rows, run.imported_rows, run.rejected_rows) == ("partial", 10, 3, 7)
    assert [(e["row"], e["column"], e["code"]) for e in run.errors] == EXPECTED_ERRORS
    assert all(e["message"] for e in run.errors)
    assert run.counts == {"products_created": 2, "products_updated": 0, "skus_created": 3, "skus_updated": 0,
                          "barcodes_added": 2, "prices_set": 1}
    # exactly the good rows are in; no bad row left a product, SKU or barcode behind
    assert Product.objects.count() == products + 2
    assert Sku.objects.count() == skus + 3
    assert Barcode.objects.count() == barcodes + 2
    assert not Product.objects.filter(code__in=["P2", "P3", "P4", "P5", "P6", "P8", "P9"]).exists()
    shirt = Product.objects.get(code="P1")
    assert (shirt.name, shirt.category.code, shirt.attributes) == ("Linen shirt", "APP-TEE", {"material": "linen"})
    assert sorted(shirt.skus.values_list("code", "base_price", "options")) == [
        ("P1-M", 12900, {"size": "M"}), ("P1-S", 12900, {"size": "S"})]
    assert Barcode.objects.get(code="96385074").kind == "ean8"
    assert PriceEntry.objects.get(sku__code="P1-S", price_list__code="HQ-STD").price == 11990
    bananas = Sku.objects.get(code="P7-KG")
    assert (bananas.is_weighed, bananas.plu, bananas.unit, bananas.base_price) == (True, "4567", "kg", 680)
    audit = AuditEntry.objects.get(action="catalog.import")
    assert audit.after["imported"] == 3 and audit.after["rejected"] == 7


def test_mode_all_writes_nothing_when_any_row_is_bad_but_reports_every_error(chain, catalogue):
    before = catalog_state()
    run = imports.catalog_import(actor=chain.admin, filename="goods.csv", data=as_csv(ROWS), mode="all")
    assert (run.status, run.imported_rows, run.rejected_rows) == ("rejected", 0, 7)
    assert [(e["row"], e["column"], e["code"]) for e in run.errors] == EXPECTED_ERRORS
    after = catalog_state()
    assert after.pop("imports") == before.pop("imports") + 1
    assert after.pop("audit") == before.pop("audit") + 1  # the import itself is audited
    assert after == before


def test_mode_all_imports_a_clean_file_in_one_go(chain, catalogue):
    good = [ROWS[0], ROWS[1], ROWS[7]]
    run = imports.catalog_import(actor=chain.admin, filename="goods.csv", data=as_csv(good), mode="all")
    assert (run.status, run.imported_rows, run.errors) == ("done", 3, [])
    assert Sku.objects.filter(code__in=["P1-S", "P1-M", "P7-KG"]).count() == 3


def test_mode_check_validates_and_writes_nothing(chain, catalogue):
    before = catalog_state()
    run = imports.catalog_import(actor=chain.admin, filename="goods.csv", data=as_csv(ROWS), mode="check")
    assert (run.status, run.imported_rows, run.rejected_rows) == ("validated", 3, 7)
    after = catalog_state()
    assert (after.pop("imports"), after.pop("audit")) == (before.pop("imports") + 1, before.pop("audit") + 1)
    assert after == before


def test_reimport_updates_skus_and_audits_the_base_price_change(chain, catalogue):
    rows = [["TEE-001", "纯棉T恤", "APP-TEE", "Yun", "material=cotton", "TEE-001-S", "S", "size=S", "pcs", "89.00",
             "", "", EAN_TEE_S, "", ""]]
    run = imports.catalog_import(actor=chain.admin, filename="update.csv", data=as_csv(rows))
    assert (run.status, run.counts["skus_updated"], run.counts["skus_created"], run.counts["barcodes_added"]) == (
        "done", 1, 0, 0)
    assert Sku.objects.get(code="TEE-001-S").base_price == 8900
    change = AuditEntry.objects.get(action="price.base_change")
    assert (change.before, change.after) == ({"base_price": 9900}, {"base_price": 8900})


def test_xlsx_with_chinese_headers_and_numeric_cells_imports(chain, catalogue):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["商品编码", "商品名称", "分类编码", "SKU编码", "规格", "零售价", "条码", "价目表编码", "价格"])
    sheet.append(["X1", "帆布鞋", "APP", "X1-42", "尺码=42；颜色=白", 199.9, 4006381333931, "HQ-STD", 189])
    sheet.append(["X2", "拖鞋", "APP", "X2-40", "", "free", None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    run = imports.catalog_import(actor=chain.admin, filename="商品.xlsx", data=buffer.getvalue())
    assert (run.status, run.imported_rows, [(e["row"], e["column"], e["code"]) for e in run.errors]) == (
        "partial", 1, [(3, "base_price", "invalid_price")])
    sku = Sku.objects.get(code="X1-42")
    assert (sku.base_price, sku.options, list(sku.barcodes.values_list("code", flat=True))) == (
        19990, {"尺码": "42", "颜色": "白"}, ["4006381333931"])
    assert PriceEntry.objects.get(sku=sku).price == 18900


@pytest.mark.parametrize("filename, data, code", [
    ("goods.csv", as_csv([], header=["product_code", "name"]), "missing_columns"),
    ("goods.csv", b"", "empty_file"),
    ("goods.pdf", b"%PDF-1.4", "unsupported_file_type"),
    ("goods.xlsx", b"not a zip file", "unreadable_file"),
    ("goods.csv", as_csv([], header=HEADER + ["price"]), "duplicate_column"),
    ("goods.csv", b"a,b\x00,c", "unreadable_file"),
])
def test_file_level_problems_are_refused_and_store_nothing(chain, catalogue, filename, data, code):
    before = catalog_state()
    with pytest.raises(DomainError) as caught:
        imports.catalog_import(actor=chain.admin, filename=filename, data=data)
    assert caught.value.code == code and caught.value.status == 422
    assert catalog_state() == before


def test_only_hq_may_import(chain, catalogue):
    before = catalog_state()
    for actor in (chain.east_manager, chain.manager_a, chain.guide_a):
        with pytest.raises(DomainError) as caught:
            imports.catalog_import(actor=actor, filename="goods.csv", data=as_csv(ROWS[:1]))
        assert (caught.value.status, caught.value.code) == (403, "catalog_manage_required")
    assert catalog_state() == before


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_round_trips_through_import(chain, catalogue, file_format):
    hq_list = services.price_list_create(actor=chain.admin, node_id=chain.hq.id, channel="online", code="WEB",
                                         name="web")
    services.price_entry_set(actor=chain.admin, price_list_id=hq_list.id, sku_id=catalogue.mug_sku.id, price=2290)
    content, content_type, filename = imports.export_file(actor=chain.admin, file_format=file_format,
                                                          price_list_id=hq_list.id)
    if file_format == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        rows = [list(r) for r in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)]
    assert rows[0] == imports.EXPORT_COLUMNS
    by_sku = {r[6]: r for r in rows[1:]}
    assert set(by_sku) == {"TEE-001-S", "TEE-001-M", "MUG-01", "APL-KG"}
    assert by_sku["MUG-01"][10] == "25.00" and by_sku["MUG-01"][13] == "036000291452"
    assert by_sku["MUG-01"][15:17] == ["WEB", "22.90"]
    assert by_sku["APL-KG"][11:13] == ["yes", "123"]
    before = catalog_state()
    run = imports.catalog_import(actor=chain.admin, filename=filename, data=content, mode="rows")
    assert (run.status, run.errors, run.imported_rows) == ("done", [], 4)
    assert run.counts == {"products_created": 0, "products_updated": 0, "skus_created": 0, "skus_updated": 0,
                          "barcodes_added": 0, "prices_set": 0}
    after = catalog_state()
    assert (after.pop("imports"), after.pop("audit")) == (before.pop("imports") + 1, before.pop("audit") + 1)
    assert after == before
