"""ERP export: keyset pages over (updated_at, id) behind a safe cutoff — scoping, masks, bad cursors, and writers
racing a pulling ERP (nothing missed, nothing repeated)."""
import random
import threading
import time

import pytest
from django.db import connection, transaction

from yundian.catalog.models import Sku
from yundian.core.errors import ValidationFailed
from yundian.integrations.erp_export import erp_changes_page
from yundian.inventory.tests.factories import make_stock, put
from yundian.members.services import member_erase, member_register


@pytest.fixture
def no_lag(settings):
    settings.ERP_EXPORT_LAG_SECONDS = 0


def drain(actor, entity, *, cursor=None, limit=2, **kwargs):
    items = []
    while True:
        page = erp_changes_page(actor=actor, entity=entity, cursor=cursor, limit=limit, **kwargs)
        items += page.items
        cursor = page.next_cursor
        if not page.has_more:
            return items, cursor


def test_products_come_in_pages_oldest_first_and_the_cursor_resumes_with_only_later_changes(chain, no_lag):
    stock = make_stock(chain)
    items, cursor = drain(chain.admin, "products")
    assert [i["sku_code"] for i in items] == ["TEE-001-S", "TEE-001-M", "MUG-01", "APL-KG"]
    assert drain(chain.admin, "products", cursor=cursor)[0] == []
    sku = stock.cat.mug_sku
    sku.name = "大号"
    sku.save()
    again, _c = drain(chain.admin, "products", cursor=cursor)
    assert [(i["sku_code"], i["sku_name"]) for i in again] == [("MUG-01", "大号")]


def test_a_row_changed_just_now_waits_for_the_lag_before_it_is_exported(chain, settings):
    settings.ERP_EXPORT_LAG_SECONDS = 3600
    make_stock(chain)
    page = erp_changes_page(actor=chain.admin, entity="products")
    assert page.items == [] and not page.has_more


def test_stock_levels_are_scoped_to_the_callers_subtree(chain, no_lag):
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.mug_sku, 5)
    put(stock, stock.wh_b, stock.cat.mug_sku, 7)
    put(stock, stock.central, stock.cat.tee_s, 9)
    rows, cursor = drain(chain.admin, "stock")
    everything = {(i["warehouse_code"], i["sku_code"], i["on_hand"]) for i in rows}
    assert drain(chain.admin, "stock", cursor=cursor)[0] == []  # balances stamped by the ledger's own UPDATE
    assert everything == {("WH-A", "MUG-01", 5), ("WH-B", "MUG-01", 7), ("CW-1", "TEE-001-S", 9)}
    mine = {(i["warehouse_code"], i["on_hand"]) for i in drain(chain.manager_a, "stock")[0]}
    assert mine == {("WH-A", 5)}
    east = {i["warehouse_code"] for i in drain(chain.east_manager, "stock")[0]}
    assert east == {"WH-A"}


def test_members_export_masks_phones_without_the_export_right_and_shows_erased_members_empty(chain, no_lag):
    kept = member_register(actor=chain.admin, store_id=chain.store_a.id, channel="pos", phone="13812345678",
                           name="张三")
    gone = member_register(actor=chain.admin, store_id=chain.store_a.id, channel="pos", phone="13900001111",
                           name="李四")
    member_erase(actor=chain.admin, member_id=gone.pk, reason="asked")
    as_admin = {i["id"]: i for i in drain(chain.admin, "members")[0]}
    assert as_admin[kept.pk]["phone"] == "13812345678"
    assert (as_admin[gone.pk]["phone"], as_admin[gone.pk]["name"], as_admin[gone.pk]["is_erased"]) == ("", "", True)
    as_guide = {i["id"]: i for i in drain(chain.manager_a, "members")[0]}
    assert as_guide[kept.pk]["phone"] == "138****5678"
    assert drain(chain.manager_b, "members")[0] == []


def test_a_cursor_that_is_tampered_with_or_of_another_entity_is_refused(chain, no_lag):
    make_stock(chain)
    page = erp_changes_page(actor=chain.admin, entity="products", limit=1)
    for bad, entity in ((page.next_cursor[:-2] + "xx", "products"), (page.next_cursor, "prices"), ("nope", "stock")):
        with pytest.raises(ValidationFailed) as err:
            erp_changes_page(actor=chain.admin, entity=entity, cursor=bad)
        assert err.value.code == "invalid_cursor"


def test_the_api_pages_with_cursors_and_answers_bad_input_with_a_code(chain, api_client, no_lag):
    make_stock(chain)
    api_client.force_login(chain.admin.user)
    first = api_client.get("/api/v1/integrations/erp/products", {"limit": 3}).json()
    assert len(first["items"]) == 3 and first["has_more"] is True
    second = api_client.get("/api/v1/integrations/erp/products", {"cursor": first["next_cursor"]}).json()
    assert [i["sku_code"] for i in second["items"]] == ["APL-KG"] and second["has_more"] is False
    bad = api_client.get("/api/v1/integrations/erp/products", {"cursor": "garbage"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_cursor")
    assert api_client.get("/api/v1/integrations/erp/nothing").status_code == 422
    assert api_client.get("/api/v1/integrations/erp/products", {"limit": 5000}).status_code == 422
    assert api_client.get("/api/v1/integrations/erp/products", {"updated_since": "yesterday"}).status_code == 422
    api_client.logout()
    assert api_client.get("/api/v1/integrations/erp/products").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_an_erp_pulling_while_writers_commit_late_misses_and_repeats_nothing(chain, settings):
    """Writers keep changing and adding SKUs, some holding their transaction open after stamping the row (the
    classic late commit); an ERP pulls pages of 3 meanwhile. Every version is seen once and the last one seen of
    each SKU is its final state. PostgreSQL: a tiny lag, the open transactions hold the cutoff back; SQLite: one
    writer at a time, the lag exceeds the longest write transaction."""
    postgres = connection.vendor == "postgresql"
    settings.ERP_EXPORT_LAG_SECONDS = 0.02 if postgres else 0.6
    stock = make_stock(chain)
    product = stock.cat.mug
    stop = threading.Event()
    errors = []

    def writer(seed):
        rng = random.Random(seed)
        try:
            for n in range(12):
                with transaction.atomic():
                    if rng.random() < 0.4:
                        Sku.objects.create(enterprise_id=chain.hq.enterprise_id, product=product,
                                           code=f"W{seed}-{n}", base_price=100)
                    else:
                        sku = Sku.objects.filter(enterprise_id=chain.hq.enterprise_id).order_by("?").first()
                        sku.name = f"v{seed}-{n}"
                        sku.save()
                    time.sleep(rng.choice([0, 0.01, 0.3]))  # stamped, not yet committed
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    seen = []

    def reader():
        cursor = None
        try:
            while not stop.is_set():
                page = erp_changes_page(actor=chain.admin, entity="products", cursor=cursor, limit=3)
                seen.extend((i["id"], i["updated_at"], i["sku_name"]) for i in page.items)
                cursor = page.next_cursor
                time.sleep(0.01)
            time.sleep(settings.ERP_EXPORT_LAG_SECONDS + 0.1)
            while True:
                page = erp_changes_page(actor=chain.admin, entity="products", cursor=cursor, limit=3)
                seen.extend((i["id"], i["updated_at"], i["sku_name"]) for i in page.items)
                cursor = page.next_cursor
                if not page.has_more:
                    break
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(s,)) for s in (1, 2, 3)]
    pull = threading.Thread(target=reader)
    pull.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    pull.join()
    assert errors == []
    versions = [(i, at) for i, at, _n in seen]
    assert len(versions) == len(set(versions)), "a version was delivered twice"
    assert [at for _i, at, _n in seen] == sorted(at for _i, at, _n in seen)  # in order, never back in time
    last = {}
    for row_id, at, name in seen:
        last[row_id] = (at, name)
    final = dict(Sku.objects.values_list("pk", "name"))
    assert set(last) == set(final), "a SKU was missed"
    assert {k: v[1] for k, v in last.items()} == final, "the last version seen is not the final one"
