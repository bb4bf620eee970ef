"""The cockpit's tasks card: a guide sees their own open tasks with how many are overdue; a store manager, region
or HQ those of the guides in their scope; another store's tasks count nowhere but there."""
from datetime import timedelta

from django.utils import timezone

from yundian.guides.guide_tasks import guide_follow_up_create
from yundian.members import services as member_services
from yundian.members.tests.factories import register
from yundian.org.tests.utils import client_for


def _card(client) -> tuple[str, str] | None:
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # whatever language an earlier test left active
    html = client.get("/").content.decode()
    if 'data-figure="tasks"' not in html:
        return None
    card = html.split('data-figure="tasks"', 1)[1].split("</a>", 1)[0]
    value = card.split('data-testid="figure-tasks">', 1)[1].split("<", 1)[0]
    return value, card.split('class="dash-changes">', 1)[1].split("<", 1)[0]


def test_the_cockpit_counts_open_and_overdue_tasks_per_role(chain):
    now = timezone.now()
    mine = register(chain, phone="13900001111")
    member_services.guide_bind(actor=chain.guide_a, member_id=mine.pk, guide_id=chain.guide_a.pk)
    other = register(chain, phone="13900002222")
    member_services.guide_bind(actor=chain.guide_a, member_id=other.pk, guide_id=chain.guide_a.pk)
    west = register(chain, store=chain.store_b, phone="13900003333")
    member_services.guide_bind(actor=chain.guide_b, member_id=west.pk, guide_id=chain.guide_b.pk)
    guide_follow_up_create(member=mine, title="生日问候", note="", due_at=now + timedelta(days=2), key="t-1")
    guide_follow_up_create(member=other, title="回访", note="", due_at=now - timedelta(hours=3), key="t-2")
    guide_follow_up_create(member=west, title="回访", note="", due_at=now - timedelta(hours=3), key="t-3")

    assert _card(client_for(chain.guide_a)) == ("2", "open, 1 overdue")
    assert _card(client_for(chain.guide_b)) == ("1", "open, 1 overdue")
    assert _card(client_for(chain.manager_a)) == ("2", "open, 1 overdue")
    assert _card(client_for(chain.admin)) == ("3", "open, 2 overdue")
