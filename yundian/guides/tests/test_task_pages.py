"""The guide's phone pages and the managers' task pages: scoped, translated, a guide's actions from a phone."""
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from yundian.guides import guide_tasks
from yundian.guides.models import ContactLog, GuideTask, TaskTarget
from yundian.members import services as member_services
from yundian.members.tests.factories import register
from yundian.org.tests.utils import client_for


def zh(staff):
    client = client_for(staff)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


@pytest.fixture
def task(chain):
    member = register(chain, name="王芳", phone="13800001111")
    member_services.guide_bind(actor=chain.guide_a, member_id=member.pk, guide_id=chain.guide_a.pk)
    member.refresh_from_db()
    return guide_tasks.guide_follow_up_create(member=member, title="回访王芳", note="", key="t1",
                                              due_at=timezone.now() + timedelta(hours=5))


def test_the_guide_works_a_task_from_the_phone_pages_and_others_get_404(chain, task):
    guide = zh(chain.guide_a)
    home = guide.get("/guides/me/").content.decode()
    assert "回访王芳" in home and 'class="tabbar"' in home
    page = guide.get(f"/guides/me/tasks/{task.pk}/").content.decode()
    assert "王芳" in page
    assert guide.post(f"/guides/me/customers/{task.member_id}/contact/",
                      {"channel": "call", "outcome": "interested", "note": "周末", "task_id": task.pk}).status_code == 302
    assert ContactLog.objects.get().task_id == task.pk
    bad = guide.post(f"/guides/me/tasks/{task.pk}/done/", {"note": ""})
    assert bad.status_code == 422 and GuideTask.objects.get(pk=task.pk).status == "open"
    assert guide.post(f"/guides/me/tasks/{task.pk}/done/", {"note": "已到店"}).status_code == 302
    assert GuideTask.objects.get(pk=task.pk).status == "done"
    customers = guide.get("/cdp/my-customers/").content.decode()
    assert "王芳" in customers and "138****1111" in customers and "13800001111" not in customers
    assert "138****1111" in guide.get(f"/guides/me/customers/{task.member_id}/").content.decode()
    assert guide.get("/guides/me/money/").status_code == 200
    assert "guide-a" in guide.get("/guides/me/ranking/").content.decode()
    other = zh(chain.guide_b)
    assert other.get(f"/guides/me/tasks/{task.pk}/").status_code == 404
    assert other.get(f"/guides/me/customers/{task.member_id}/").status_code == 404
    assert other.post(f"/guides/me/customers/{task.member_id}/contact/",
                      {"channel": "call", "outcome": "reached"}).status_code == 404
    assert "王芳" not in other.get("/cdp/my-customers/").content.decode()
    assert ContactLog.objects.count() == 1


def test_managers_set_a_task_split_it_and_see_progress_in_their_scope(chain):
    admin = zh(chain.admin)
    created = admin.post("/guides/tasks/", {"node_id": chain.hq.pk, "kind": "recruit", "title": "拉新", "target": "5",
                                            "start_day": timezone.localdate().isoformat(),
                                            "deadline": (timezone.localdate() + timedelta(days=7)).isoformat()})
    assert created.status_code == 302
    root = TaskTarget.objects.get(parent=None)
    bad = admin.post(created["Location"], {"target_id": root.pk, f"node:{chain.east.pk}": "4",
                                           f"node:{chain.west.pk}": "2"})
    assert bad.status_code == 422 and TaskTarget.objects.count() == 1
    assert admin.post(created["Location"], {"target_id": root.pk, f"node:{chain.east.pk}": "3",
                                            f"node:{chain.west.pk}": "2"}).status_code == 302
    assert "华东" in admin.get(created["Location"]).content.decode()
    west = zh(chain.west_manager).get(created["Location"]).content.decode()  # only west's part is theirs
    assert "华西" in west and "华东" not in west
    assert zh(chain.manager_b).get(created["Location"]).status_code == 404  # nothing of it at store B yet
    assert zh(chain.guide_a).get(created["Location"]).status_code == 404
    assert admin.get("/guides/accounting/").status_code == 200
    assert zh(chain.manager_a).get("/guides/handover/").status_code == 200
