"""Staffing fixtures on the org test chain: store A open 10-20 with its manager and guide on terms, a part-timer
and a person shared from the dealer's other store."""
from yundian.org import services as org_services
from yundian.org.roles import Role
from yundian.stores.models import StoreProfile

from ..models import Availability, ServiceStandard, StaffTerms

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def staff_store(chain, store, people, hours=("10:00", "20:00")):
    """Give `store` a profile (hours), a standard, and each of `people` terms and all-week availability."""
    StoreProfile.objects.create(node=store, enterprise=store.enterprise, slug=f"s-{store.pk}", address="x",
                                city="上海", latitude=31, longitude=121,
                                opening_hours={d: [list(hours)] for d in WEEK})
    ServiceStandard.objects.create(store=store, customers_per_staff_hour=6)
    for index, person in enumerate(people):
        StaffTerms.objects.create(staff=person, hourly_rate=2500 + 100 * index,
                                  skills=["cashier", "floor", "stock"] if index % 2 == 0 else ["cashier", "floor"],
                                  is_part_time=index == 3)
        Availability.objects.bulk_create([Availability(staff=person, weekday=w, start_hour=8, end_hour=23)
                                          for w in range(7)])


def extra_guides(chain, store, n, prefix="g"):
    return [org_services.staff_create(actor=chain.admin, home_id=store.pk, username=f"{prefix}{store.pk}-{i}",
                                      display_name=f"店员{i}", password="correct-horse-42", role=Role.GUIDE)
            for i in range(n)]
