"""The journey canvas in a real browser: HQ at 1440 px starts a blank journey, drags a coupon step from the palette
onto the canvas, wires entry → coupon → end by dragging between ports, sets the entry (cart abandoned for 2 hours),
checks the draft (the coupon step is marked: no campaign yet), picks the campaign by name, saves, reloads and finds
the same graph; publishes after confirming, and the live version opens read-only. Screenshots at 1440 and 1024 px,
English and Chinese."""
import pytest

from yundian.journeys.models import Journey
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.promotions.tests.factories import campaign

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, url, staff):
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def _node(page, gid):
    return page.locator(f".drawflow-node[data-gid={gid}]")


def _wire(page, source_gid, port, target_gid):
    out = _node(page, source_gid).locator(f".output[data-port={port}]").bounding_box()
    into = _node(page, target_gid).locator(".input").first.bounding_box()
    page.mouse.move(out["x"] + out["width"] / 2, out["y"] + out["height"] / 2)
    page.mouse.down()
    page.mouse.move(into["x"] + 2, into["y"] + into["height"] / 2, steps=8)
    page.mouse.move(into["x"] + into["width"] / 2, into["y"] + into["height"] / 2, steps=2)
    page.mouse.up()


def _graph(page) -> dict:
    return page.evaluate("window.journeyCanvas.serialise()")


def test_build_check_save_reload_and_publish_a_journey_on_the_canvas(live_server, browser):
    chain = make_chain()
    coupon = campaign(chain, code="CART10")
    url = live_server.url

    context = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    _sign_in(page, url, chain.admin)
    page.goto(f"{url}/journeys/")
    page.click("[data-testid=new-blank]")
    page.wait_for_selector("[data-journey-canvas][data-ready=true]")
    journey = Journey.objects.get()
    assert [n["kind"] for n in _graph(page)["nodes"]] == ["entry", "end"]

    # move the end to the right, drop a coupon between, and wire entry -> coupon -> end
    end = _node(page, "n2").locator(".jn-head").bounding_box()
    page.mouse.move(end["x"] + 20, end["y"] + 8)
    page.mouse.down()
    page.mouse.move(end["x"] + 320, end["y"] + 8, steps=6)
    page.mouse.up()
    stage = page.locator(".jc-drawflow").bounding_box()
    page.drag_and_drop("[data-palette-kind=coupon]", ".jc-drawflow",
                       target_position={"x": 430, "y": 230})
    _node(page, "n3").wait_for()
    assert _node(page, "n3").bounding_box()["x"] > stage["x"] + 250
    _wire(page, "n1", "out", "n3")
    _wire(page, "n3", "out", "n2")
    assert sorted((e["source"], e["port"], e["target"]) for e in _graph(page)["edges"]) == [
        ("n1", "out", "n3"), ("n3", "out", "n2")]  # the entry's old wire to the end was replaced

    # the entry: cart abandoned for 2 hours
    _node(page, "n1").locator(".jn-head").click()
    page.select_option("#jf-trigger", "cart_abandoned")
    page.fill("#jf-hours", "2")
    page.locator("#jf-hours").dispatch_event("change")
    assert _graph(page)["nodes"][0]["config"] == {"trigger": "cart_abandoned", "hours": 2, "reentry": "never"}
    assert "Cart abandoned" in _node(page, "n1").locator(".jn-summary").inner_text()

    # check: the coupon step is marked on the canvas
    page.click("[data-action=validate]")
    _node(page, "n3").locator(".jn-error").wait_for()
    assert _node(page, "n3").locator(".jn-error").inner_text() == "Choose a coupon campaign."
    assert page.locator("#jc-errors li").all_inner_texts() == ["Choose a coupon campaign."]
    page.screenshot(path=str(artifacts_dir() / "journey-canvas-check-1440-en.png"))

    # pick the campaign by name in the side panel
    _node(page, "n3").locator(".jn-head").click()
    page.locator("[data-panel-kind=coupon] .picker-q").fill("CART10")
    page.locator("[data-panel-kind=coupon] [role=option]").first.click()
    assert _graph(page)["nodes"][2]["config"] == {"campaign_id": coupon.pk}
    assert _node(page, "n3").locator(".jn-error").is_hidden()
    assert _node(page, "n3").locator(".jn-summary").inner_text() == "Coupon CART10"

    page.fill("#jc-name", "Cart reminder")
    page.click("[data-action=save]")
    page.wait_for_selector("#jc-status[data-state=saved]")
    built = _graph(page)
    journey.refresh_from_db()
    assert (journey.name, journey.draft) == ("Cart reminder", built)
    page.reload()
    page.wait_for_selector("[data-journey-canvas][data-ready=true]")
    assert _graph(page) == built  # same nodes, ids, configs, positions and wires
    assert _node(page, "n3").locator(".jn-summary").inner_text() == "Coupon CART10"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir() / "journey-canvas-1440-en.png"))

    page.click("[data-action=publish]")
    page.locator("#jc-publish-dialog[open]").wait_for()
    page.click("[data-testid=publish-confirm]")
    page.wait_for_selector("[data-journey-canvas][data-readonly][data-ready=true]")
    journey.refresh_from_db()
    assert (journey.status, journey.live_version.number, journey.live_version.graph) == ("live", 1, built)
    assert page.locator("[data-testid=journey-status]").inner_text() == "Live"
    assert page.locator("[data-palette-kind]").count() == 0
    page.goto(f"{url}/journeys/")
    assert page.locator(f"tr[data-journey='{journey.pk}'] .jc-status").inner_text() == "Live"
    page.screenshot(path=str(artifacts_dir() / "journey-list-1440-en.png"), full_page=True)
    context.close()

    tablet = browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 768})
    page = tablet.new_page()
    _sign_in(page, url, chain.admin)
    page.goto(f"{url}/journeys/{journey.pk}/?edit=1")
    page.wait_for_selector("[data-journey-canvas][data-ready=true]")
    _node(page, "n1").locator(".jn-head").click()
    page.locator("[data-panel-kind=entry]").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir() / "journey-canvas-1024-zh.png"))
    # a split pressed in from the palette: two arms and a holdout; a third arm adds an output before the holdout
    page.click("[data-palette-kind=split]")
    split = _node(page, "n4")
    split.wait_for()
    assert [o.get_attribute("data-port") for o in split.locator(".output").all()] == ["a", "b", "holdout"]
    page.locator("[data-panel-kind=split] [data-arm-add]").click()
    split = _node(page, "n4")
    assert [o.get_attribute("data-port") for o in split.locator(".output").all()] == ["a", "b", "c", "holdout"]
    assert _graph(page)["nodes"][-1]["config"] == {"weights": [50, 50, 10], "holdout": 10}
    # its holdout wired to the end without dragging: the panel's "leads to" select
    page.select_option("[data-wire-port=holdout]", "n2")
    assert ("n4", "holdout", "n2") in [(e["source"], e["port"], e["target"]) for e in _graph(page)["edges"]]
    page.goto(f"{url}/journeys/")
    page.screenshot(path=str(artifacts_dir() / "journey-list-1024-zh.png"), full_page=True)
    tablet.close()
