"""Audiences (member lists): one list per source, replaced by diff in bulk, only active members of the
enterprise; scoped reads; the one-query membership check pricing uses."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yundian.core.errors import NotFound
from yundian.members import selectors, services
from yundian.members.models import Audience, AudienceMember
from yundian.org.tests.factories import make_chain

from .factories import register


def entries(audience) -> list[int]:
    return sorted(AudienceMember.objects.filter(audience=audience).values_list("member_id", flat=True))


def test_a_source_has_one_list_and_a_replace_applies_only_the_difference(chain):
    a, b, c = (register(chain) for _ in range(3))
    audience = services.audience_ensure(enterprise_id=chain.hq.enterprise_id, node_id=chain.hq.id, source="segment",
                                        source_id=7, name="高价值")
    again = services.audience_ensure(enterprise_id=chain.hq.enterprise_id, node_id=chain.east.id, source="segment",
                                     source_id=7, name="高价值会员")
    assert again.pk == audience.pk and Audience.objects.get().name == "高价值会员"
    first = services.audience_replace(enterprise_id=chain.hq.enterprise_id, audience_id=audience.pk,
                                      member_ids=[a.pk, b.pk, b.pk])
    assert (first.added, first.removed, first.count) == (2, 0, 2) and entries(audience) == [a.pk, b.pk]
    kept_row = AudienceMember.objects.get(audience=audience, member=a)
    second = services.audience_replace(enterprise_id=chain.hq.enterprise_id, audience_id=audience.pk,
                                       member_ids=[a.pk, c.pk])
    assert (second.added, second.removed, second.count) == (1, 1, 2) and entries(audience) == [a.pk, c.pk]
    assert AudienceMember.objects.get(audience=audience, member=a).pk == kept_row.pk  # untouched, not rewritten
    row = Audience.objects.get(pk=audience.pk)
    assert row.member_count == 2 and row.refreshed_at == second.audience.refreshed_at


def test_another_enterprises_members_and_unknown_ids_never_join_a_list(chain):
    other = make_chain("other")
    mine, theirs = register(chain), register(other)
    audience = services.audience_ensure(enterprise_id=chain.hq.enterprise_id, node_id=chain.hq.id, source="segment",
                                        source_id=1, name="S")
    change = services.audience_replace(enterprise_id=chain.hq.enterprise_id, audience_id=audience.pk,
                                       member_ids=[mine.pk, theirs.pk, 10**9])
    assert change.count == 1 and entries(audience) == [mine.pk]
    with pytest.raises(NotFound):
        services.audience_replace(enterprise_id=other.hq.enterprise_id, audience_id=audience.pk, member_ids=[])
    assert entries(audience) == [mine.pk]


def test_a_region_sees_its_own_lists_and_those_above_never_a_siblings(chain):
    ent = chain.hq.enterprise_id
    hq = services.audience_ensure(enterprise_id=ent, node_id=chain.hq.id, source="segment", source_id=1, name="HQ")
    east = services.audience_ensure(enterprise_id=ent, node_id=chain.east.id, source="segment", source_id=2, name="E")
    west = services.audience_ensure(enterprise_id=ent, node_id=chain.west.id, source="segment", source_id=3, name="W")
    assert set(selectors.audience_list(actor=chain.east_manager)) == {hq, east}
    assert set(selectors.audience_list(actor=chain.admin)) == {hq, east, west}
    assert list(selectors.audience_list(actor=chain.admin, search="w")) == [west]
    with pytest.raises(NotFound):
        selectors.audience_get(actor=chain.east_manager, audience_id=west.pk)


def test_membership_of_several_lists_is_one_query(chain):
    member = register(chain)
    ent = chain.hq.enterprise_id
    lists = [services.audience_ensure(enterprise_id=ent, node_id=chain.hq.id, source="segment", source_id=i,
                                      name=f"S{i}") for i in range(3)]
    services.audience_replace(enterprise_id=ent, audience_id=lists[1].pk, member_ids=[member.pk])
    with CaptureQueriesContext(connection) as queries:
        held = selectors.audiences_holding(member_id=member.pk, audience_ids=[l.pk for l in lists])
    assert held == {lists[1].pk} and len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert selectors.audiences_holding(member_id=member.pk, audience_ids=[0]) == frozenset()
    assert len(queries) == 0
