"""Console pages of ERP sync and channels: they render for HQ, stay shut to those without the right, and bad input
answers 4xx with its translated message, changing nothing."""
import io

from django.test import override_settings

from yundian.integrations.erp_jobs import erp_job_run
from yundian.integrations.models import ChannelConnection, ErpJob
from yundian.inventory.tests.factories import make_stock
from yundian.org.tests.utils import client_for


def test_the_erp_page_imports_a_file_shows_its_progress_and_refuses_a_bad_one(chain):
    make_stock(chain)
    client = client_for(chain.admin, HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = client.get("/integrations/erp/")
    assert page.status_code == 200 and "导入文件" in page.content.decode()
    bad = client.post("/integrations/erp/import/", {"entity": "stock", "file": io.BytesIO(b"x")})
    assert bad.status_code == 422 and "请上传 .xlsx 或 .csv 文件" in bad.content.decode()
    missing = client.post("/integrations/erp/import/", {"entity": "stock"})
    assert missing.status_code == 422 and ErpJob.objects.count() == 0
    upload = io.BytesIO(b"warehouse_code,sku_code,quantity\nWH-A,MUG-01,3\nWH-A,NOPE,1\n")
    upload.name = "stock.csv"
    assert client.post("/integrations/erp/import/", {"entity": "stock", "file": upload}).status_code == 302
    job = ErpJob.objects.get()
    assert 'hx-trigger="every 2s"' in client.get("/integrations/erp/").content.decode()
    erp_job_run(job_id=job.pk)
    html = client.get("/integrations/erp/").content.decode()
    assert f'data-job="{job.pk}" data-status="partial"' in html and 'every 2s' not in html
    report = client.get(f"/integrations/erp/jobs/{job.pk}/errors/?format=xlsx")
    assert report.status_code == 200 and report["Content-Type"].startswith("application/vnd.openxml")
    assert client_for(chain.guide_b).get(f"/integrations/erp/jobs/{job.pk}/errors/").status_code == 404


@override_settings(ERP_EXPORT_LAG_SECONDS=0)
def test_an_export_from_the_console_is_downloadable(chain):
    make_stock(chain)
    client = client_for(chain.admin)
    assert client.post("/integrations/erp/export/", {"entity": "products", "format": "xlsx"}).status_code == 302
    job = ErpJob.objects.get()
    erp_job_run(job_id=job.pk)
    response = client.get(f"/integrations/erp/jobs/{job.pk}/file/")
    assert response.status_code == 200 and response.content[:2] == b"PK"
    bad = client.post("/integrations/erp/export/", {"entity": "nothing"})
    assert bad.status_code == 422 and ErpJob.objects.count() == 1


def test_the_channels_page_connects_a_channel_and_refuses_bad_input(chain):
    make_stock(chain)
    client = client_for(chain.admin, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "尚未连接任何渠道" in client.get("/integrations/channels/").content.decode()
    bad = client.post("/integrations/channels/", {"store_id": chain.store_a.id, "kind": "fake_marketplace",
                                                  "code": "M", "name": "Mall", "base_url": "ftp://x"})
    assert bad.status_code == 422 and "地址须以 http:// 或 https:// 开头" in bad.content.decode()
    ok = client.post("/integrations/channels/", {"store_id": chain.store_a.id, "kind": "fake_marketplace",
                                                 "code": "M", "name": "Mall", "base_url": "http://127.0.0.1:9"})
    assert ok.status_code == 302 and ChannelConnection.objects.count() == 1
    synced = client.post(f"/integrations/channels/{ChannelConnection.objects.get().pk}/sync/")
    assert synced.status_code == 302
    assert ChannelConnection.objects.get().last_error
    assert client_for(chain.guide_a).get("/integrations/channels/").status_code == 404
