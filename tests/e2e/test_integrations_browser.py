"""ERP sync and sales channels in a real browser (HQ, Chinese, 1440 and 1024 px): the jobs table with its progress
bars moving to done while the page polls, the error report link of a file with bad rows, an export to download;
the channels page with a fake marketplace's orders, one refused for stock. Screenshots go to the test artefacts."""
import pytest

from yundian.integrations.channels_services import channel_connection_create, channel_sync
from yundian.integrations.erp_jobs import erp_export_create, erp_import_create, erp_job_run
from yundian.integrations.tests.fake_marketplace import FakeMarketplace
from yundian.inventory.tests.factories import make_stock, put
from yundian.org.tests.factories import PASSWORD, make_chain

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, base, user):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_erp_jobs_and_channels_pages_at_1440_and_1024(live_server, browser, settings):
    settings.ERP_EXPORT_LAG_SECONDS = 0
    chain = make_chain()
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.mug_sku, 3)
    admin = chain.admin
    good = erp_import_create(actor=admin, entity="stock", filename="门店盘点.csv",
                             data=b"warehouse_code,sku_code,quantity\nWH-A,MUG-01,2\nWH-A,TEE-001-S,5\n")
    erp_job_run(job_id=good.pk)
    bad = erp_import_create(actor=admin, entity="stock", filename="erp-stock-0601.csv",
                            data=b"warehouse_code,sku_code,quantity\nWH-A,MUG-01,2\nWH-A,NOPE,1\nWH-Z,MUG-01,x\n")
    erp_job_run(job_id=bad.pk)
    export = erp_export_create(actor=admin, entity="products", file_format="xlsx")
    erp_job_run(job_id=export.pk)
    waiting = erp_import_create(actor=admin, entity="stock", filename="晚间同步.csv",
                                data=b"warehouse_code,sku_code,quantity\nWH-A,MUG-01,2\n")
    errors = []
    for step, (width, locale, lang) in enumerate(((1440, "zh-CN", "zh"), (1024, "zh-CN", "zh"), (1440, "en-US", "en"))):
        context = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        _sign_in(page, live_server.url, admin.user)
        page.goto(f"{live_server.url}/integrations/erp/")
        assert page.locator(f"tr[data-job='{bad.pk}'] a[data-testid='errors-{bad.pk}']").inner_text() == "2"
        if step == 0:
            assert page.locator(f"tr[data-job='{waiting.pk}']").get_attribute("data-status") == "queued"
            page.screenshot(path=str(artifacts_dir() / "integrations-erp-1440-zh.png"), full_page=True)
            erp_job_run(job_id=waiting.pk)  # the page polls every 2 s while a job runs
            page.locator(f"tr[data-job='{waiting.pk}'][data-status='done']").wait_for()
        else:
            page.screenshot(path=str(artifacts_dir() / f"integrations-erp-{width}-{lang}.png"), full_page=True)
        with page.expect_download() as download:
            page.click(f"a[data-testid='download-{export.pk}']")
        assert download.value.suggested_filename.endswith(".xlsx")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        context.close()
    with FakeMarketplace() as mall:
        connection = channel_connection_create(actor=admin, store_id=chain.store_a.id, kind="fake_marketplace",
                                               code="TMALL-A", name="天猫旗舰店", base_url=mall.url, api_key="secret")
        mall.order("TM20261207001", [("MUG-01", 1)])
        mall.order("TM20261207002", [("MUG-01", 5)])
        channel_sync(connection_id=connection.pk)
        for width in (1440, 1024):
            context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
            page = context.new_page()
            page.set_default_timeout(30_000)
            _sign_in(page, live_server.url, admin.user)
            page.goto(f"{live_server.url}/integrations/channels/")
            assert page.locator("table[data-testid=channel-orders] tbody tr").count() == 2
            assert page.locator("tr[data-status=rejected]").count() == 1
            page.screenshot(path=str(artifacts_dir() / f"integrations-channels-{width}-zh.png"), full_page=True)
            context.close()
    assert errors == []
