"""The share-a-material task: its plan names a material of the library; the guide's task is done by the system
when enough members opened the guide's own link of that material within the plan's dates (opens once per
browser; another guide's link, another material or an open before the start do not count); the phone's task page
shares it with one tap."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from yundian.core.errors import ValidationFailed
from yundian.guides import guide_tasks, materials, task_progress
from yundian.guides.models import GuideTask, TaskTarget
from yundian.org.roles import Role
from yundian.org import services as org_services
from yundian.org.tests.factories import PASSWORD
from yundian.promotions.services import referral_link_visit
from yundian.members.tests.storefront import open_storefront
from yundian.sales.tests.factories import stocked

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def stock(chain):
    stock = stocked(chain, units=5)
    open_storefront(chain, stock.cat)  # a share link opens the store's storefront
    return stock


def share_plan(chain, material, target=2, node=None, actor=None):
    return guide_tasks.task_plan_create(actor=actor or chain.admin, node_id=(node or chain.hq).id, kind="share",
                                        title="转发新品", target=target, material_id=material.pk,
                                        starts_at=timezone.now() - timedelta(hours=1),
                                        due_at=timezone.now() + timedelta(days=3))


def to_guide_a(chain, plan, target=2):
    root = TaskTarget.objects.get(plan=plan, parent=None)
    store = guide_tasks.task_target_split(actor=chain.admin, target_id=root.pk,
                                          parts=[{"node_id": chain.store_a.pk, "target": target}])[0]
    guide_tasks.task_target_split(actor=chain.manager_a, target_id=store.pk,
                                  parts=[{"guide_id": chain.guide_a.pk, "target": target}])
    return GuideTask.objects.get(plan=plan, guide=chain.guide_a)


def open_link(code, times=1):
    browser = Client()
    for _ in range(times):
        assert browser.get(f"/p/r/{code}/").status_code == 302


def test_a_share_task_is_done_by_the_system_when_the_guides_link_of_its_material_is_opened(chain, stock):
    card = materials.material_create(actor=chain.admin, node_id=chain.hq.id, kind="product_card", title="T 恤上新",
                                     product_id=stock.cat.tee.pk)
    other = materials.material_create(actor=chain.admin, node_id=chain.hq.id, kind="copy", title="周末", body="来店")
    plan = share_plan(chain, card)
    task = to_guide_a(chain, plan)
    assert (plan.material_id, task.kind, task.target, task.progress) == (card.pk, "share", 2, 0)
    mine = materials.material_share(actor=chain.guide_a, material_id=card.pk).link
    not_this_material = materials.material_share(actor=chain.guide_a, material_id=other.pk).link
    a2 = org_services.staff_create(actor=chain.admin, home_id=chain.store_a.id, username="acme-a2", display_name="a2",
                                   password=PASSWORD, role=Role.GUIDE)
    not_mine = materials.material_share(actor=a2, material_id=card.pk).link
    referral_link_visit(mine.code, visitor="early0000000000001", at=plan.starts_at - timedelta(minutes=5))
    open_link(not_this_material.code)
    open_link(not_mine.code)
    open_link(mine.code, times=3)  # one browser, one open

    task_progress.refresh_open()
    task.refresh_from_db()
    assert (task.progress, task.status) == (1, "open")

    open_link(mine.code)  # a second member's phone
    task_progress.refresh_open()
    task.refresh_from_db()
    assert (task.progress, task.status, task.done_by) == (2, "done", "system")
    assert dict(TaskTarget.objects.filter(plan=plan).values_list("node_id", "achieved")) == {
        chain.hq.pk: 2, chain.store_a.pk: 2}
    assert task_progress.refresh_open() == 0  # idempotent


def test_a_share_plan_needs_a_material_the_guides_under_it_can_share(chain):
    west = materials.material_create(actor=chain.admin, node_id=chain.west.id, kind="copy", title="西区", body="x")
    before = GuideTask.objects.count()
    for material_id in (None, 10 ** 9, west.pk):  # none, unknown, another region's
        with pytest.raises(ValidationFailed) as exc:
            guide_tasks.task_plan_create(actor=chain.manager_a, node_id=chain.store_a.id, kind="share", title="x",
                                         target=1, material_id=material_id,
                                         starts_at=timezone.now(), due_at=timezone.now() + timedelta(days=1))
        assert exc.value.details["field"] == "material_id"
    assert GuideTask.objects.count() == before


def test_the_phone_task_page_shares_the_material_with_one_tap_and_shows_the_opens(chain, stock):
    copy = materials.material_create(actor=chain.admin, node_id=chain.hq.id, kind="copy", title="会员日",
                                     body="周六会员日，全场 9 折")
    task = to_guide_a(chain, share_plan(chain, copy, target=1), target=1)
    guide = Client()
    guide.force_login(chain.guide_a.user)
    page = guide.get(f"/guides/me/tasks/{task.pk}/").content.decode()
    assert f'data-url="/guides/share/{copy.pk}/"' in page and "会员日" in page
    shared = guide.post(f"/guides/share/{copy.pk}/").json()
    open_link(shared["url"].rsplit("/r/", 1)[1].strip("/"))
    page = guide.get(f"/guides/me/tasks/{task.pk}/").content.decode()  # the page itself sees the open
    task.refresh_from_db()
    assert (task.progress, task.status) == (1, "done")
    assert 'data-testid="task-status">Done<' in page or 'data-testid="task-status">已完成<' in page


def test_hq_sets_a_share_task_on_the_console_by_picking_the_material(chain):
    from yundian.guides.models import TaskPlan

    copy = materials.material_create(actor=chain.admin, node_id=chain.hq.id, kind="copy", title="会员日", body="9 折")
    admin = Client()
    admin.force_login(chain.admin.user)
    assert f'<option value="{copy.pk}">会员日' in admin.get("/guides/tasks/").content.decode()
    today = timezone.localdate()
    response = admin.post("/guides/tasks/", {
        "node_id": chain.hq.id, "kind": "share", "title": "转发会员日", "target": "3", "material_id": copy.pk,
        "start_day": today.isoformat(), "deadline": (today + timedelta(days=3)).isoformat()})
    plan = TaskPlan.objects.get()
    assert response.status_code == 302 and (plan.kind, plan.material_id, plan.target) == ("share", copy.pk, 3)
