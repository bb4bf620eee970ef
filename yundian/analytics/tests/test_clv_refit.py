"""Refitting an enterprise's CLV on the warehouse: a versioned model row, members' predictions replaced in bulk, CLV
bands as computed tags through cdp, a failed fit kept without touching anything, and the scoped CLV page."""
from datetime import date

import pytest
from django.test import Client

from yundian.analytics import clv
from yundian.analytics import warehouse_tables as T
from yundian.analytics.clv_services import clv_refit, clv_summary_frame
from yundian.analytics.models import ClvModelStatus, ClvModelVersion, MemberClv
from yundian.cdp.models import MemberTag, Tag, TagChange
from yundian.core.warehouse import rows_replace, warehouse_write
from yundian.members.models import IdentityKind, MemberIdentity
from yundian.members.tests.factories import register
from yundian.org.tests.factories import PASSWORD

from .clv_data import simulate_transactions

pytestmark = pytest.mark.django_db
END = date(2026, 12, 31)


def _write(chain, members) -> list[tuple]:
    """The members' simulated 2026 purchases as warehouse orders (store by home), members as dim_member rows."""
    purchases = simulate_transactions(len(members), start=date(2026, 1, 1), seed=11)
    orders = []
    for n, (customer, day, amount) in enumerate(purchases, start=1):
        member = members[customer - 1]
        orders.append({"order_id": n, "enterprise_id": chain.hq.enterprise_id, "org_path": member.home.path,
                       "store_id": member.home_id, "member_id": member.pk, "local_date": day, "is_sale": True,
                       "net_total": int(amount), "item_count": 1, "status": "completed"})
    dims = [{"member_id": m.pk, "enterprise_id": m.enterprise_id, "home_id": m.home_id, "org_path": m.home.path,
             "canonical_member_id": m.pk, "status": "active", "is_erased": False,
             "registered_date": date(2025, 7 + i % 6, 1)} for i, m in enumerate(members)]
    with warehouse_write() as con:
        rows_replace(con, T.FACT_ORDER, T.FACT_ORDER.arrow({c: [o.get(c) for o in orders] for c in orders[0]}))
        rows_replace(con, T.DIM_MEMBER, T.DIM_MEMBER.arrow({c: [d.get(c) for d in dims] for c in dims[0]}))
    return [(members[c - 1].pk, d, a) for c, d, a in purchases]


@pytest.fixture
def bought(chain, warehouse):
    members = [register(chain, store=chain.store_a if i % 3 else chain.store_b, name=f"会员{i:02d}")
               for i in range(36)]
    return members, _write(chain, members)


def test_a_refit_stores_a_version_the_members_predictions_and_their_bands_as_tags(chain, bought):
    members, purchases = bought
    version = clv_refit(enterprise_id=chain.hq.enterprise_id, observation_end=END, actor=chain.admin)

    frame = clv_summary_frame(chain.hq.enterprise_id, observation_end=END)
    model = clv.fit(frame)
    predictions = model.predict(frame)
    bands = clv.clv_bands(predictions)
    assert version.status == ClvModelStatus.FITTED and version.version == 1
    assert (version.members, version.observation_end, version.observation_start) == (
        len({m for m, _d, _a in purchases}), END, min(d for _m, d, _a in purchases))
    assert version.repeat_members == model.diagnostics["repeat_customers"] > 0
    assert version.params == pytest.approx(model.params) and version.package.startswith("lifetimes ")
    assert version.diagnostics["purchase_log_likelihood"] == pytest.approx(model.diagnostics["purchase_log_likelihood"])
    assert version.requested_by == chain.admin

    rows = {r.member_id: r for r in MemberClv.objects.filter(enterprise_id=chain.hq.enterprise_id)}
    assert len(rows) == version.members
    for row, expected in zip(frame.itertuples(), predictions.itertuples()):
        stored = rows[row.member_id]
        assert (stored.model_id, stored.frequency, stored.recency, stored.age) == (
            version.pk, row.frequency, row.recency, row.T)
        assert stored.clv_12m == round(expected.clv) and stored.p_alive == pytest.approx(expected.p_alive)
        assert stored.band == bands[row.member_id]
    # one member by hand: purchase days, the first and the last, the mean spend of the repeat days
    member = members[0].pk
    days = {}
    for m, day, amount in purchases:
        if m == member:
            days[day] = days.get(day, 0) + amount
    first, last = min(days), max(days)
    assert (rows[member].frequency, rows[member].recency, rows[member].age) == (
        len(days) - 1, (last - first).days, (END - first).days)
    assert rows[member].monetary == round(sum(v for d, v in days.items() if d != first) / max(len(days) - 1, 1))
    assert rows[member].joined_month == date(2025, 7, 1) and rows[member].first_purchase == first

    held = dict(MemberTag.objects.filter(tag__computed_key="clv_band").values_list("member_id", "tag__value"))
    assert held == {m: bands[m] for m in rows}
    changes = TagChange.objects.count()

    again = clv_refit(enterprise_id=chain.hq.enterprise_id, observation_end=END)
    assert again.version == 2 and again.status == ClvModelStatus.FITTED
    assert set(MemberClv.objects.values_list("model_id", flat=True)) == {again.pk}
    assert MemberClv.objects.count() == len(rows)
    assert TagChange.objects.count() == changes  # same data, same bands: no tag moved
    assert Tag.objects.filter(computed_key="clv_band").count() == 4


def test_a_refit_that_cannot_fit_is_kept_as_failed_and_changes_nothing_else(chain, bought, other_chain):
    clv_refit(enterprise_id=chain.hq.enterprise_id, observation_end=END)
    before = list(MemberClv.objects.order_by("member_id").values_list("member_id", "clv_12m", "band"))
    tags_before = TagChange.objects.count()

    failed = clv_refit(enterprise_id=other_chain.hq.enterprise_id, observation_end=END)  # nobody bought there
    assert failed.status == ClvModelStatus.FAILED and failed.version == 1
    assert failed.error_code == "too_few_customers" and failed.members == 0 and failed.params == {}
    early = clv_refit(enterprise_id=chain.hq.enterprise_id, observation_end=date(2026, 1, 5))  # four days of data
    assert early.status == ClvModelStatus.FAILED and early.version == 2
    assert list(MemberClv.objects.order_by("member_id").values_list("member_id", "clv_12m", "band")) == before
    assert TagChange.objects.count() == tags_before


def _client(staff) -> Client:
    client = Client()
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


def test_the_clv_page_shows_bands_cohorts_p_alive_and_top_members_masked_within_the_viewers_scope(
        chain, bought, django_capture_on_commit_callbacks):
    members, _purchases = bought
    none = _client(chain.admin).get("/analytics/clv/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="clv-none"' in none
    clv_refit(enterprise_id=chain.hq.enterprise_id, observation_end=END)
    page = _client(chain.admin).get("/analytics/clv/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200
    for testid in ("clv-band-chart", "clv-band-members", "clv-cohort-chart", "clv-alive-chart", "clv-top",
                   "clv-params", "clv-refit"):
        assert f'data-testid="{testid}"' in text, testid
    assert f'<span class="tile-n">{MemberClv.objects.count()}</span>' in text
    top = list(MemberClv.objects.order_by("-clv_12m", "member_id")[:20])
    assert text.count('<tr data-member="') == 20 and f'data-member="{top[0].member_id}"' in text
    phone = MemberIdentity.objects.get(member_id=top[0].member_id, kind=IdentityKind.PHONE).value
    assert phone not in text and f"{phone[:3]}****{phone[-4:]}" in text  # masked, whoever looks
    assert top[0].member.name not in text and f"{top[0].member.name[0]}**" in text
    assert "Top value" in text and "Average 12-month CLV by month of joining" in text

    west = {m.pk for m in members if m.home_id == chain.store_b.id}
    theirs = _client(chain.west_manager).get("/analytics/clv/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f'<span class="tile-n">{MemberClv.objects.filter(member_id__in=west).count()}</span>' in theirs
    shown = {int(part.split('"', 1)[0]) for part in theirs.split('<tr data-member="')[1:]}
    assert shown and shown <= west  # only their region's members
    assert "会员终身价值" in theirs and 'data-testid="clv-refit"' not in theirs

    assert _client(chain.guide_a).get("/analytics/clv/").status_code == 404
    assert _client(chain.manager_a).post("/analytics/clv/refit/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert _client(chain.admin).post("/analytics/clv/refit/").status_code == 302
    assert len(callbacks) == 1
    assert ClvModelVersion.objects.filter(enterprise_id=chain.hq.enterprise_id).count() == 1  # queued, not run here
