"""kill -9 of `yundian warehouse sync` mid-run loses and duplicates nothing: the next run carries on from the last
committed batch and the warehouse ends equal, table for table, to one written by an uninterrupted sync."""
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from yundian.analytics.sync import sync_run
from yundian.core.testing import database_url
from yundian.core.warehouse import state_get, warehouse_read, warehouse_write
from yundian.inventory.models import StockMove
from yundian.sales.models import Order, OrderLine
from yundian.sales.tests.factories import stocked

ROOT = Path(__file__).resolve().parents[3]



def _snapshot() -> dict:
    out = {}
    with warehouse_read() as wh:
        for name in wh.list_tables():
            if name.startswith("_"):
                continue
            out[name] = sorted(tuple(str(v) for v in row.values()) for row in wh.table(name).to_pyarrow().to_pylist())
    return out


@pytest.mark.django_db(transaction=True)
def test_a_sync_killed_mid_run_resumes_without_losing_or_duplicating_rows(chain, settings, tmp_path):
    stock = stocked(chain, units=5)
    sku = stock.cat.tee_s
    now = timezone.now()
    moves = [StockMove(enterprise_id=chain.hq.enterprise_id, sku=sku, warehouse=stock.wh_a, kind="receipt",
                       quantity=1, source_type="bench", source_id=str(i), occurred_at=now - timedelta(minutes=i))
             for i in range(3_000)]
    StockMove.objects.bulk_create(moves, batch_size=2000)
    orders = Order.objects.bulk_create([
        Order(enterprise_id=chain.hq.enterprise_id, store=chain.store_a, channel="pos", mode="take_now",
              status="completed", total=990, paid_total=990, subtotal=990, placed_at=now - timedelta(hours=i),
              paid_at=now - timedelta(hours=i)) for i in range(400)], batch_size=400)
    OrderLine.objects.bulk_create([
        OrderLine(order=o, line_no=1, sku=sku, sku_code=sku.code, name="tee", quantity=1, list_price=990,
                  unit_price=990, line_total=990) for o in orders], batch_size=500)

    killed = tmp_path / "killed.duckdb"
    env = {**os.environ, "WAREHOUSE_PATH": str(killed), "DATABASE_URL": database_url(),
           "DJANGO_SETTINGS_MODULE": "config.settings.base", "SECRET_KEY": "test-only", "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "yundian.cli", "warehouse", "sync", "--batch-size", "200"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if "inventory.stock_move" in line and sum("inventory.stock_move" in s for s in seen) >= 3:
            proc.send_signal(signal.SIGKILL)  # mid-run: more stock-move batches are still to come
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "".join(seen[-20:])

    settings.WAREHOUSE_PATH = killed
    with warehouse_write() as con:
        partial = state_get(con, "inventory.stock_move").watermark
    total = StockMove.objects.count()
    assert 0 < partial < StockMove.objects.order_by("-id").values_list("id", flat=True).first()
    sync_run()
    resumed = _snapshot()

    settings.WAREHOUSE_PATH = tmp_path / "clean.duckdb"
    sync_run()
    clean = _snapshot()
    assert resumed == clean
    assert len(clean["fact_stock_move"]) == total and len(clean["fact_order_line"]) == 400
