import pytest
from django.db import transaction

from yundian.core.locking import lock_one, lock_rows
from yundian.org.models import OrgNode


@pytest.mark.django_db(transaction=True)
def test_lock_rows_outside_a_transaction_raises():
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        lock_rows(OrgNode.objects.all())
    with pytest.raises(RuntimeError):
        lock_one(OrgNode.objects.all())


@pytest.mark.django_db(transaction=True)
def test_lock_rows_returns_rows_in_primary_key_order():
    from yundian.org.tests.factories import make_chain

    chain = make_chain()
    ids = [chain.store_b.id, chain.hq.id, chain.store_a.id]
    with transaction.atomic():
        rows = lock_rows(OrgNode.objects.filter(pk__in=ids).order_by("-code"))
        assert isinstance(rows, list)
        assert [r.id for r in rows] == sorted(ids)
        assert lock_one(OrgNode.objects.filter(pk=chain.east.id)).code == "acme-E"
        assert lock_one(OrgNode.objects.filter(pk=-1)) is None
